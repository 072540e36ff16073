"""Smoothing kernels for kernel density estimation, each scaled to unit covariance.

A kernel here is a radially symmetric density K(u) on R^d, u = the whitened offset (x - x_i) / bandwidth,
written as K(u) = profile(||u||^2) / normaliser(d). Each one is scaled so that its covariance is the identity:
then the KDE's bandwidth is exactly the kernel's standard deviation, whatever the kernel.

  gaussian      exp(-r^2 / 2)                              normaliser (2 pi)^{d/2}
  tophat        1                 for r < R, R = sqrt(d+2)  normaliser V_d R^d
  epanechnikov  1 - r^2/R^2       for r < R, R = sqrt(d+4)  normaliser V_d R^d 2/(d+2)
  linear        1 - r/R           for r < R, R = sqrt((d+2)(d+3)/(d+1))   normaliser V_d R^d / (d+1)
  exponential   exp(-r/b)         b = 1/sqrt(d+1)           normaliser V_d b^d d!

(V_d = pi^{d/2} / Gamma(d/2 + 1), the volume of the unit ball.) Sampling u ~ K: a uniform direction times a
radius whose density is proportional to r^{d-1} profile(r^2), which is a Beta or Gamma variable.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import lgamma, log, pi, sqrt

import numpy as np


def log_unit_ball_volume(d: int) -> float:
    """log V_d = log(pi^{d/2} / Gamma(d/2 + 1))."""
    return 0.5 * d * log(pi) - lgamma(0.5 * d + 1)


@dataclass(frozen=True)
class Kernel:
    name: str
    profile: Callable[[np.ndarray, int], np.ndarray]        # r^2, d -> profile values (in place allowed)
    log_normaliser: Callable[[int], float]                  # d -> log of the integral of the profile
    radius: Callable[[int], float]                          # d -> support radius (inf for unbounded)
    sample_radius: Callable[[np.random.Generator, int, int], np.ndarray]  # rng, n, d -> radii

    def reach(self, d: int) -> float:
        """The radius beyond which the profile is 0, or below e^-40 (~4e-18) for the unbounded ones."""
        if self.name == "gaussian":
            return sqrt(80.0)
        if self.name == "exponential":
            return 40.0 / sqrt(d + 1)
        return self.radius(d)

    def log_profile(self, r2: np.ndarray, d: int) -> np.ndarray:
        """log profile(r^2), without underflow for the unbounded kernels."""
        if self.name == "gaussian":
            return -0.5 * r2
        if self.name == "exponential":
            return -sqrt(d + 1) * np.sqrt(r2)
        with np.errstate(divide="ignore"):
            return np.log(self.profile(r2.copy(), d))


# --------------------------------------------------------------------------------- the profiles, in place
def _gaussian(r2: np.ndarray, d: int) -> np.ndarray:
    r2 *= -0.5
    return np.exp(r2, out=r2)


def _tophat(r2: np.ndarray, d: int) -> np.ndarray:
    return (r2 < d + 2).astype(np.float64)


def _epanechnikov(r2: np.ndarray, d: int) -> np.ndarray:
    r2 *= -1.0 / (d + 4)
    r2 += 1.0
    return np.maximum(r2, 0.0, out=r2)


def _linear_radius(d: int) -> float:
    return sqrt((d + 2) * (d + 3) / (d + 1))


def _linear(r2: np.ndarray, d: int) -> np.ndarray:
    np.sqrt(r2, out=r2)
    r2 *= -1.0 / _linear_radius(d)
    r2 += 1.0
    return np.maximum(r2, 0.0, out=r2)


def _exponential(r2: np.ndarray, d: int) -> np.ndarray:
    np.sqrt(r2, out=r2)
    r2 *= -sqrt(d + 1)
    return np.exp(r2, out=r2)


KERNELS: dict[str, Kernel] = {
    "gaussian": Kernel(
        "gaussian", _gaussian, lambda d: 0.5 * d * log(2 * pi), lambda d: np.inf,
        lambda rng, n, d: np.sqrt(rng.chisquare(d, n))),
    "tophat": Kernel(
        "tophat", _tophat, lambda d: log_unit_ball_volume(d) + 0.5 * d * log(d + 2), lambda d: sqrt(d + 2),
        lambda rng, n, d: sqrt(d + 2) * rng.random(n) ** (1.0 / d)),
    "epanechnikov": Kernel(
        "epanechnikov", _epanechnikov,
        lambda d: log_unit_ball_volume(d) + 0.5 * d * log(d + 4) + log(2 / (d + 2)), lambda d: sqrt(d + 4),
        lambda rng, n, d: sqrt(d + 4) * np.sqrt(rng.beta(0.5 * d, 2.0, n))),
    "linear": Kernel(
        "linear", _linear, lambda d: log_unit_ball_volume(d) + d * log(_linear_radius(d)) - log(d + 1),
        _linear_radius, lambda rng, n, d: _linear_radius(d) * rng.beta(d, 2.0, n)),
    "exponential": Kernel(
        "exponential", _exponential,
        lambda d: log_unit_ball_volume(d) - 0.5 * d * log(d + 1) + lgamma(d + 1), lambda d: np.inf,
        lambda rng, n, d: rng.gamma(d, 1.0 / sqrt(d + 1), n)),
}


def sample_unit_kernel(kernel: Kernel, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n draws u ~ K (unit covariance), shape (n, d): a uniform direction times the kernel's radius."""
    z = rng.standard_normal((n, d))
    if kernel.name == "gaussian":          # the Gaussian's direction and radius are z's own
        return z
    direction = z / np.linalg.norm(z, axis=1, keepdims=True)
    return direction * kernel.sample_radius(rng, n, d)[:, None]
