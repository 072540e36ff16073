"""Random-number plumbing shared by every sampler: one way to turn ``rng`` into a Generator
(``as_generator``, shared with the engine), uniforms on the open interval, and size checks.

Every random function in scratchgen takes ``rng``: a ``numpy.random.Generator`` (used as is), an ``int``
seed (a fresh generator, so the same seed always gives the same result) or ``None`` (fresh OS entropy).
There is no global random state.
"""
from __future__ import annotations

import numpy as np

from scratchgen._checks import as_generator  # noqa: F401  (re-exported: one implementation, naming its argument)

RNGLike = np.random.Generator | int | None


def uniform_open(rng: np.random.Generator, size) -> np.ndarray:
    """u ~ U(0, 1) on the *open* interval, so an inverse CDF never sees u = 0 (F^{-1}(0) = -inf).

    ``Generator.random`` draws from [0, 1); an exact 0 has probability 2^-53, but it would turn into an
    infinite sample, so the rare zeros are drawn again.
    """
    u = rng.random(size)
    zeros = np.flatnonzero(u == 0.0)
    while zeros.size:
        u.flat[zeros] = rng.random(zeros.size)
        zeros = zeros[u.flat[zeros] == 0.0]
    return u


def check_size(size) -> tuple[int, ...]:
    """``size`` as a shape tuple (an int n means (n,)), with a clear error for negatives and non-integers."""
    shape = (size,) if np.ndim(size) == 0 else tuple(size)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"size: expected an int or a tuple of ints, got {size!r}")
        if n < 0:
            raise ValueError(f"size: expected non-negative sizes, got {size!r}")
    return tuple(int(n) for n in shape)
