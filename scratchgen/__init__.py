"""scratchgen: generative models from scratch, following the lecture on (deep) generative models.

Sections of the lecture and where they live:

1. evaluating p(x)                 -> ``scratchgen.distributions``
2. sampling from p(x)              -> ``scratchgen.sampling``
3. learning p(x) from samples      -> ``scratchgen.density`` (GMM by EM, KDE), ``scratchgen.data``
4. why generative models           -> ``scratchgen.density.GenerativeClassifier`` and the demos
5. deep generative models          -> ``scratchgen.models`` (the VAEs in ``models/vae.py``), built on the
                                      ``autograd_lite`` engine; trained by ``scratchgen.training``, driven
                                      from the ``scratchgen`` command (``scratchgen.cli``)
"""

__version__ = "0.1.0"
