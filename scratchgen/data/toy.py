"""Small 2-D toy data sets and the lecture's 1-D Gaussian mixture, each with an explicit definition.

Every function takes ``n`` (number of points) and ``seed`` (a ``numpy.random.Generator``, an int or
None): the same seed gives the same points. Points come back as float64 arrays of shape (n, 2)
(or (n,) for the 1-D mixture), in random order.
"""
from __future__ import annotations

import numpy as np

from scratchgen._checks import as_generator, check_count, check_nonnegative, check_positive, check_real_array

Seed = np.random.Generator | int | None

# The lecture's example: p(x) = sum_k w_k N(x | mu_k, sigma_k^2), sigma_k a standard deviation.
LECTURE_WEIGHTS = np.array([0.3, 0.4, 0.3])
LECTURE_MEANS = np.array([-5.0, 0.0, 5.0])
LECTURE_SIGMAS = np.array([0.8, 1.0, 0.5])
# ... and the initial guess from which the lecture runs EM.
LECTURE_INIT_WEIGHTS = np.array([0.33, 0.33, 0.33])
LECTURE_INIT_MEANS = np.array([1.71, 0.69, -2.24])
LECTURE_INIT_SIGMAS = np.array([1.72, 1.49, 1.21])


def _check_n_and_seed(n: int, seed: Seed) -> tuple[int, np.random.Generator]:
    return check_count(n, "n"), as_generator(seed, "seed")


def lecture_mixture_1d(
    n: int, seed: Seed = None, return_components: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Samples of the lecture's mixture w = [0.3, 0.4, 0.3], mu = [-5, 0, 5], sigma = [0.8, 1.0, 0.5].

    Drawn in the lecture's two steps: pick a component k with probability w_k, then x ~ N(mu_k, sigma_k^2).
    Returns x of shape (n,), and the component of each point if ``return_components``.
    """
    n, rng = _check_n_and_seed(n, seed)
    k = rng.choice(3, size=n, p=LECTURE_WEIGHTS)
    x = LECTURE_MEANS[k] + LECTURE_SIGMAS[k] * rng.standard_normal(n)
    return (x, k) if return_components else x


def lecture_mixture_1d_pdf(x: np.ndarray) -> np.ndarray:
    """The true density of the lecture's 1-D mixture, sum_k w_k N(x | mu_k, sigma_k^2)."""
    x = check_real_array(x, "x")
    if np.isnan(x).any():
        raise ValueError("x contains NaN")
    x = x[..., None]
    z = (x - LECTURE_MEANS) / LECTURE_SIGMAS
    return np.sum(LECTURE_WEIGHTS * np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * LECTURE_SIGMAS), axis=-1)


def two_moons(n: int, noise: float = 0.05, seed: Seed = None) -> np.ndarray:
    """Two interleaved half circles of radius 1 plus isotropic Gaussian noise of std ``noise``.

    Upper moon: (cos t, sin t); lower moon: (1 - cos t, 0.5 - sin t); t ~ U(0, pi); each point picks a moon
    with probability 1/2.
    """
    n, rng = _check_n_and_seed(n, seed)
    noise = check_nonnegative(noise, "noise")
    t = rng.uniform(0.0, np.pi, n)
    lower = rng.random(n) < 0.5
    x = np.where(lower, 1.0 - np.cos(t), np.cos(t))
    y = np.where(lower, 0.5 - np.sin(t), np.sin(t))
    return np.column_stack([x, y]) + noise * rng.standard_normal((n, 2))


def spiral(n: int, noise: float = 0.25, seed: Seed = None) -> np.ndarray:
    """A 2-D spiral: t = 1.5 pi (1 + 2u), u ~ U(0, 1), point (t cos t, t sin t) / 5 plus noise of std
    ``noise`` / 5 (the spiral fits in about [-3, 3]^2). The noisy, hole-free cousin of ``swiss_roll``."""
    n, rng = _check_n_and_seed(n, seed)
    noise = check_nonnegative(noise, "noise")
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.random(n))
    points = np.column_stack([t * np.cos(t), t * np.sin(t)]) + noise * rng.standard_normal((n, 2))
    return points / 5.0


# The swiss roll with a hole: t is uniform on 8 of the 9 cells of a 3x3 grid over (t, height) in
# [1.5 pi, 4.5 pi] x [0, 21], the centre cell left out (the hole). Only t enters the 2-D points.
_HOLE_CELLS = np.array([[np.pi * (1.5 + i), 7.0 * j] for i in range(3) for j in range(3) if (i, j) != (1, 1)])


def swiss_roll(n: int, seed: Seed = None) -> np.ndarray:
    """The DDPM swiss-roll benchmark: the 2-D swiss roll with a hole, standardised.

    The definition of the KAIST CS492D (Diffusion Models) DDPM assignment, so that its published Chamfer bar
    applies: scikit-learn's ``make_swiss_roll(noise=0, hole=True)`` construction, keeping the coordinates
    (x, z) = (t cos t, t sin t); then s -> (s - mean(s)) / std(s) * 2 with ONE scalar mean and ONE scalar
    std over both coordinates of the drawn points (so each draw is standardised by its own statistics).

    t is drawn as scikit-learn draws it with the hole: a cell of the 3x3 (t, height) grid other than the
    centre, chosen uniformly, plus (pi, 7) * U(0, 1)^2; so t has density 3/8, 2/8, 3/8 on the three pi-wide
    bands [1.5 pi, 2.5 pi), [2.5 pi, 3.5 pi), [3.5 pi, 4.5 pi]. The height is drawn too (and dropped), in
    scikit-learn's order (its draws come from a legacy ``RandomState``, so the points agree in distribution,
    not draw for draw). No noise: the points lie exactly on the curve.
    """
    n, rng = _check_n_and_seed(n, seed)
    cell = rng.choice(len(_HOLE_CELLS), n)
    t, _height = (_HOLE_CELLS[cell].T + rng.uniform(size=(2, n)) * np.array([[np.pi], [7.0]]))
    points = np.column_stack([t * np.cos(t), t * np.sin(t)])
    return (points - points.mean()) / points.std() * 2.0


def ring_modes(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The centres of the ring: radius * (cos a_k, sin a_k) at the angles a_k = 2 pi k / n_modes."""
    n_modes, radius = check_count(n_modes, "n_modes"), check_positive(radius, "radius")
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def ring_of_gaussians(n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.02,
                      seed: Seed = None) -> np.ndarray:
    """Equal mixture of isotropic Gaussians (std ``std``) centred at the ``ring_modes``."""
    n, rng = _check_n_and_seed(n, seed)
    std = check_positive(std, "std")
    centres = ring_modes(n_modes, radius)
    return centres[rng.integers(0, n_modes, n)] + std * rng.standard_normal((n, 2))


def grid_modes(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """The centres of the grid: all (a, b) with a, b in {-4, -2, 0, 2, 4} for the default 5x5 grid."""
    side, spacing = check_count(side, "side"), check_positive(spacing, "spacing")
    ticks = spacing * (np.arange(side) - (side - 1) / 2)
    a, b = np.meshgrid(ticks, ticks, indexing="ij")
    return np.column_stack([a.ravel(), b.ravel()])


def grid_of_gaussians(n: int, side: int = 5, spacing: float = 2.0, std: float = 0.05,
                      seed: Seed = None) -> np.ndarray:
    """Equal mixture of isotropic Gaussians (std ``std``) centred at the ``grid_modes`` (25 by default)."""
    n, rng = _check_n_and_seed(n, seed)
    std = check_positive(std, "std")
    centres = grid_modes(side, spacing)
    return centres[rng.integers(0, len(centres), n)] + std * rng.standard_normal((n, 2))


def checkerboard(n: int, seed: Seed = None) -> np.ndarray:
    """Uniform on the 8 "black" unit squares of a 4x4 board covering [-2, 2]^2: the squares whose
    integer corner (i, j) has i + j even."""
    n, rng = _check_n_and_seed(n, seed)
    x = rng.uniform(-2.0, 2.0, n)
    # In each column pick one of its two black squares, then a uniform point in it.
    row = rng.integers(0, 2, n) * 2 + (np.floor(x).astype(int) % 2)
    y = row - 2 + rng.random(n)
    return np.column_stack([x, y])


TOY_SETS = {
    "two_moons": two_moons,
    "swiss_roll": swiss_roll,
    "spiral": spiral,
    "ring": ring_of_gaussians,
    "grid": grid_of_gaussians,
    "checkerboard": checkerboard,
}


def make_toy(name: str, n: int, seed: Seed = None) -> np.ndarray:
    """One of the 2-D toy sets by name: ``"two_moons"``, ``"swiss_roll"``, ``"spiral"``, ``"ring"``,
    ``"grid"``, ``"checkerboard"``."""
    if not isinstance(name, str) or name not in TOY_SETS:
        raise ValueError(f"name must be one of {sorted(TOY_SETS)}, got {name!r}")
    return TOY_SETS[name](n, seed=seed)
