"""Learning p(x) from samples: Gaussian mixtures by EM, kernel density estimation, and what they give."""
from .gmm import GaussianMixture
from .kde import KernelDensity

__all__ = ["GaussianMixture", "KernelDensity"]
