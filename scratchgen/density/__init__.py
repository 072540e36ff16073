"""Learning p(x) from samples: Gaussian mixtures by EM, kernel density estimation, and what they give.

- ``GaussianMixture``      p(x) = sum_k w_k N(x | mu_k, Sigma_k), fitted by EM (gmm.py)
- ``KernelDensity``        p(x) = sum_i p_i K_H(x - x_i), exact, on grids by FFT, and sampling (kde.py)
- ``CategoricalMixture``   EM for discrete features, e.g. the 8x8 digits' 17 grey levels
- ``GenerativeClassifier`` p(y|x) by Bayes from class-conditional densities, and p(x) for outliers
"""
from ._validation import NotFittedError
from .categorical_mixture import CategoricalMixture
from .classifier import GenerativeClassifier
from .gmm import GaussianMixture
from .kde import KernelDensity

__all__ = ["CategoricalMixture", "GaussianMixture", "GenerativeClassifier", "KernelDensity", "NotFittedError"]
