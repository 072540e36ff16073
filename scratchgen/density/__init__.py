"""Learning p(x) from samples: Gaussian mixtures by EM, kernel density estimation, and what they give."""
from .gmm import GaussianMixture

__all__ = ["GaussianMixture"]
