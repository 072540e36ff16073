"""Kernel density estimation: a kernel placed at every sample.

  p_hat(x) = sum_i p_i K_H(x - x_i),   K_H(v) = K(L^{-1} v) / det L,   H = L L^T = h^2 S

with sample weights p_i summing to 1 (p_i = 1/N without weights), K a unit-covariance kernel from
``kernels.py`` and H the kernel's covariance. The bandwidth h is the kernel's standard deviation (in 1-D,
the lecture's sigma). S is the kernel's shape: the identity for a numeric bandwidth; for the rules
"scott" / "silverman" / "cv" it is the data's covariance Sigma scaled to det S = 1, so the rules are
scale-aware (as SciPy's ``gaussian_kde``): the KDE of a*X at a*x is p_hat(x) / |a|^d. The rules:

  scott      h = n_eff^{-1/(d+4)} det(Sigma)^{1/(2d)}
  silverman  h = (n_eff (d+2) / 4)^{-1/(d+4)} det(Sigma)^{1/(2d)}          n_eff = 1 / sum_i p_i^2
  cv         the h that maximises the leave-one-out log-likelihood sum_i p_i log p_hat_{-i}(x_i)

Three ways to evaluate p_hat: ``score_samples`` (exact: every sample counts, in blocks so memory stays
bounded), ``evaluate_grid`` (1-D/2-D grids: linear binning + FFT convolution, error O(grid step^2)) and,
to draw from it, ``sample`` (pick x_i with probability p_i, then add u ~ K_H).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from scratchgen.sampling import as_generator, sample_discrete

from ._persistence import SaveLoadMixin
from ._validation import (
    Seed,
    check_data,
    check_is_fitted,
    check_positive_int,
    check_sample_weight,
    logsumexp_rows,
)
from .kernels import KERNELS, Kernel, sample_unit_kernel

BANDWIDTH_RULES = ("scott", "silverman", "cv")
_BLOCK = 1 << 17          # distances computed per block: 1 MiB of float64, small enough for the cache
_TINY = 1e-290            # sums below this are redone in log space (their terms may have underflowed)
DEFAULT_GRID_POINTS = {1: 1024, 2: 256}
GRID_STEP_PER_STD = 0.5   # evaluate_grid's largest step, in kernel standard deviations
MAX_GRID_NODES = 2**24
CV_MAX_SAMPLES = 1000     # "cv" scores bandwidths on at most this many samples (then rescales h to n)
CV_FACTORS = np.geomspace(0.02, 2.0, 30)   # candidate h, relative to the Scott rule
CV_EXTRA_DECADES = 6      # how far "cv" widens its search when the best h sits at an edge of CV_FACTORS


# ------------------------------------------------------------------------------------- the exact sum
def kernel_sums(queries: np.ndarray, data: np.ndarray, weights: np.ndarray, kernel: Kernel) -> np.ndarray:
    """log sum_i p_i profile(||q - z_i||^2) for each whitened query q (rows of ``queries``).

    Squared distances come block by block: in 1-D by broadcasting, in d >= 2 as |q|^2 + |z|^2 - 2 q.z with
    one BLAS product. The sum over i is a matrix-vector product with the weights. Rows whose sum is tiny
    (a query far from all data) are recomputed with log-sum-exp, so nothing underflows to -inf wrongly.
    """
    m, d = queries.shape
    n = len(data)
    out = np.empty(m)
    rows = max(1, _BLOCK // n)
    data_sq, minus_two_data_t = np.sum(data**2, axis=1), -2.0 * data.T

    def squared_distances(q: np.ndarray) -> np.ndarray:
        if d == 1:
            r2 = q - data[:, 0]
            return np.multiply(r2, r2, out=r2)
        r2 = q @ minus_two_data_t
        r2 += data_sq
        r2 += np.sum(q**2, axis=1)[:, None]
        return np.maximum(r2, 0.0, out=r2)             # rounding can make tiny distances negative

    for start in range(0, m, rows):
        q = queries[start:start + rows]
        sums = kernel.profile(squared_distances(q), d) @ weights
        with np.errstate(divide="ignore"):
            out[start:start + rows] = np.log(sums)
        small = np.flatnonzero(sums < _TINY)
        if len(small):
            with np.errstate(divide="ignore"):
                log_terms = kernel.log_profile(squared_distances(q[small]), d) + np.log(weights)
            out[start + small] = logsumexp_rows(log_terms)
    return out


# ------------------------------------------------------------------------------------- reflection
def fold_into(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect points at the bounds until they lie in [low, high] (a triangle wave of period 2(high-low))."""
    if np.isfinite(low) and np.isfinite(high):
        t = np.mod(x - low, 2 * (high - low))
        return low + np.where(t <= high - low, t, 2 * (high - low) - t)
    if np.isfinite(low):
        return low + np.abs(x - low)
    if np.isfinite(high):
        return high - np.abs(high - x)
    return x


def reflected_images(x: np.ndarray, low: float, high: float, reach: float) -> np.ndarray:
    """The mirror images of 1-D samples x that lie within ``reach`` of [low, high], shape (n_images, n).

    The density of folded samples is the sum of the kernel over all images (reflections generate them:
    2 low - x, 2 high - x, and with two bounds the shifts by multiples of 2 (high - low) of both).
    """
    if np.isfinite(low) and np.isfinite(high):
        period = 2 * (high - low)
        k = np.arange(-(int(reach // period) + 1), int(reach // period) + 2)[:, None]
        return np.concatenate([x + k * period, 2 * low - x + k * period])
    images = [x]
    if np.isfinite(low):
        images.append(2 * low - x)
    if np.isfinite(high):
        images.append(2 * high - x)
    return np.stack(images)


# --------------------------------------------------------------------------------------- the grid
def _fast_length(n: int) -> int:
    """The smallest m >= n of the form 2^a 3^b 5^c: lengths that numpy's FFT transforms quickly."""
    m = n
    while True:
        rest = m
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return m
        m += 1


def linear_binning(X: np.ndarray, weights: np.ndarray | None, low: np.ndarray, step: np.ndarray,
                   shape: tuple[int, ...]) -> np.ndarray:
    """Spread each sample's weight over the 2^d grid nodes around it, in proportion to its closeness
    (linear interpolation weights): the binned counts keep the total weight and the mean exactly.

    ``weights`` None means 1/n each (then the counting needs no weighted pass). Samples must lie in the grid.
    """
    position = X - low
    position *= 1.0 / step
    index = position.astype(np.intp)                   # floor, since every position is >= 0
    if X.shape[1] == 1:
        m = shape[0]
        i = index[:, 0]
        position -= index                              # now the fraction of the way to the next node
        frac = position[:, 0]
        # Node i gets w (1 - frac), node i + 1 gets w frac; a sample on the last node (i = m - 1, frac = 0)
        # sends nothing to the extra node m, which is folded back for exact conservation of the total.
        right = np.bincount(i, weights=frac if weights is None else frac * weights, minlength=m + 1)
        counts = np.bincount(i, weights=weights, minlength=m + 1) - right
        counts[1:] += right[:-1]
        counts[m - 1] += counts[m]
        counts = counts[:m]
    else:
        np.minimum(index, np.array(shape) - 2, out=index)  # a sample on the last node goes to the last cell
        position -= index
        counts = np.zeros(int(np.prod(shape)))
        for corner in np.ndindex(2, 2):
            node = (index[:, 0] + corner[0]) * shape[1] + index[:, 1] + corner[1]
            share = np.prod(np.where(np.array(corner) == 1, position, 1.0 - position), axis=1)
            counts += np.bincount(node, weights=share if weights is None else share * weights,
                                  minlength=counts.size)
        counts = counts.reshape(shape)
    return counts / len(X) if weights is None else counts


def fft_convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The full linear convolution of two 1-D or 2-D arrays, through zero-padded real FFTs."""
    size = [_fast_length(p + q - 1) for p, q in zip(a.shape, b.shape)]
    axes = tuple(range(a.ndim))
    full = np.fft.irfftn(np.fft.rfftn(a, size, axes) * np.fft.rfftn(b, size, axes), size, axes)
    return full[tuple(slice(0, p + q - 1) for p, q in zip(a.shape, b.shape))]


class KernelDensity(SaveLoadMixin):
    """Kernel density estimate (see the module docstring).

    Parameters
    ----------
    bandwidth : the kernel's standard deviation h (a positive number), or a rule: "scott", "silverman"
        (both scale-aware, as SciPy's) or "cv" (leave-one-out likelihood).
    kernel : "gaussian", "epanechnikov", "tophat", "linear" or "exponential" (all unit-covariance).
    bounds : (low, high) for 1-D data with a bounded support (either may be +-inf): the density is
        reflected at the bounds, so it integrates to 1 on [low, high]; ``sample`` folds its draws the same way.
    seed : for the sub-sample of the "cv" rule (numpy Generator, int or None).

    ``save(path)`` / ``KernelDensity.load(path)`` store a fitted KDE (its samples included) in one .npz file.

    Fitted attributes: ``bandwidth_`` (h), ``kernel_covariance_`` (H = h^2 S), ``n_effective_``
    (1 / sum p_i^2), ``data_``, ``weights_`` (the normalised p_i) and, for "cv", ``cv_scores_``.
    """

    _saved_params = ("bandwidth", "kernel", "bounds")
    _saved_fitted = ("bandwidth_", "kernel_covariance_", "data_", "weights_", "n_effective_", "n_features_in_")

    def __init__(self, bandwidth: float | str = "scott", kernel: str = "gaussian",
                 bounds: tuple[float, float] | None = None, seed: Seed = None):
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.bounds = bounds
        self.seed = seed

    # --------------------------------------------------------------------------------------------- fit
    def fit(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> KernelDensity:
        """Store the samples (and weights) and choose the bandwidth; returns self."""
        X = check_data(X).copy()  # check_data may hand back the caller's own array, which they may edit later
        n, d = X.shape
        weights = check_sample_weight(sample_weight, n)
        as_generator(self.seed, "seed")  # checked now, though only the "cv" rule draws from it
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {tuple(KERNELS)}, got {self.kernel!r}")
        self._kernel = KERNELS[self.kernel]
        p = np.full(n, 1.0 / n) if weights is None else weights / weights.sum()
        self.data_, self.weights_, self.n_features_in_ = X, p, d
        self.n_effective_ = 1.0 / np.sum(p**2)
        self._check_bounds(X)

        if isinstance(self.bandwidth, str):
            if self.bandwidth not in BANDWIDTH_RULES:
                raise ValueError(f"bandwidth must be a positive number or one of {BANDWIDTH_RULES}, "
                                 f"got {self.bandwidth!r}")
            shape, scale = self._data_shape(X, p)
            if self.bandwidth == "cv":
                h = self._cross_validated_bandwidth(X, p, shape, scale)
            else:
                h = self._rule_factor(self.bandwidth, self.n_effective_, d) * scale
        else:
            h = self.bandwidth
            if isinstance(h, bool) or not isinstance(h, int | float | np.integer | np.floating) \
                    or not np.isfinite(h) or h <= 0:
                raise ValueError(f"bandwidth must be a positive finite number or one of {BANDWIDTH_RULES}, "
                                 f"got {self.bandwidth!r}")
            shape = np.eye(d)
        self.bandwidth_ = float(h)
        self.kernel_covariance_ = self.bandwidth_**2 * shape
        self._restore()
        return self

    def _restore(self) -> None:
        """Everything derived from the data and H: the whitening L^{-T}, log det L, the whitened samples
        (and their mirror images when reflecting)."""
        X, p = self.data_, self.weights_
        self._kernel = KERNELS[self.kernel]
        self._uniform = bool(np.all(p == p[0]))
        if self.bounds is not None:
            self._check_bounds(X)
        lower = np.linalg.cholesky(self.kernel_covariance_)
        self._whiten = np.linalg.inv(lower).T                 # z = (x - centre) @ whiten has H = I
        self._log_det = float(np.sum(np.log(np.diag(lower))))
        self._centre = p @ X                                  # centring keeps |q|^2 + |z|^2 - 2 q.z accurate
        self._z = (X - self._centre) @ self._whiten
        self._z_weights = p
        if self.bounds is not None:                           # the mirror images carry the same weights
            reach = self._kernel.reach(1) * self.bandwidth_
            images = reflected_images(X[:, 0], *self._bounds, reach)
            self._z = (images.reshape(-1, 1) - self._centre) @ self._whiten
            self._z_weights = np.tile(p, len(images))

    def _check_bounds(self, X: np.ndarray) -> None:
        if self.bounds is None:
            return
        low, high = (float(b) for b in self.bounds)
        if X.shape[1] != 1:
            raise ValueError(f"bounds (reflection) is for 1-D data only, got {X.shape[1]} features")
        if not low < high:
            raise ValueError(f"bounds must be (low, high) with low < high, got {self.bounds}")
        if X.min() < low or X.max() > high:
            raise ValueError(f"all samples must lie within bounds={self.bounds}, got range [{X.min()}, {X.max()}]")
        self._bounds = (low, high)

    @staticmethod
    def _data_shape(X: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, float]:
        """S = Sigma / det(Sigma)^{1/d} and the scale det(Sigma)^{1/(2d)}, Sigma the weighted covariance."""
        d = X.shape[1]
        if len(X) < 2:
            raise ValueError("a bandwidth rule needs at least 2 samples; give a numeric bandwidth")
        sigma = np.atleast_2d(np.cov(X.T, aweights=p))
        try:
            log_det = 2 * np.sum(np.log(np.diag(np.linalg.cholesky(sigma))))
        except np.linalg.LinAlgError:
            log_det = -np.inf
        if not np.isfinite(log_det):
            raise ValueError("the data's covariance is singular (identical samples, or samples on a line or "
                             "plane), so the scale-aware rules are undefined; give a numeric bandwidth")
        return sigma / np.exp(log_det / d), float(np.exp(log_det / (2 * d)))

    @staticmethod
    def _rule_factor(rule: str, n_effective: float, d: int) -> float:
        if rule == "scott":
            return n_effective ** (-1.0 / (d + 4))
        return (n_effective * (d + 2) / 4.0) ** (-1.0 / (d + 4))

    def _cross_validated_bandwidth(self, X: np.ndarray, p: np.ndarray, shape: np.ndarray, scale: float) -> float:
        """The h among ``CV_FACTORS`` x Scott's (and, for a compact kernel, the smallest h at which every point
        has a neighbour in reach) that maximises the leave-one-out log-likelihood.

        Scored on a random sub-sample of at most ``CV_MAX_SAMPLES`` points (both as data and as held-out
        points); the winner is rescaled to the full sample at the rules' rate n_eff^{-1/(d+4)}.
        """
        n, d = X.shape
        rng = as_generator(self.seed)
        subset = np.sort(rng.choice(n, CV_MAX_SAMPLES, replace=False)) if n > CV_MAX_SAMPLES else np.arange(n)
        q = p[subset] / p[subset].sum()
        n_eff_subset = 1.0 / np.sum(q**2)
        z = (X[subset] - q @ X[subset]) @ np.linalg.inv(np.linalg.cholesky(shape)).T
        r2 = np.maximum(np.sum(z**2, 1)[:, None] + np.sum(z**2, 1) - 2 * z @ z.T, 0.0)
        scott = self._rule_factor("scott", n_eff_subset, d) * scale
        candidates = CV_FACTORS * scott
        radius = self._kernel.radius(d)
        if np.isfinite(radius) and n > 1:
            # A compact kernel gives an isolated point zero held-out density at every h below the distance to
            # its nearest neighbour over the kernel's radius: add the smallest h that reaches every point.
            nearest = np.sqrt(np.min(r2 + np.diag(np.full(len(r2), np.inf)), axis=1).max())
            if nearest > 0:
                candidates = np.union1d(candidates, [1.01 * nearest / radius])
        def held_out_scores(bandwidths: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_q = np.log(q)
                scores = np.empty(len(bandwidths))
                for j, h in enumerate(bandwidths):
                    log_terms = self._kernel.log_profile(r2 / h**2, d) + log_q
                    np.fill_diagonal(log_terms, -np.inf)             # leave x_i out of its own estimate
                    loo = (logsumexp_rows(log_terms) - np.log1p(-q)
                           - self._kernel.log_normaliser(d) - d * np.log(h))
                    scores[j] = np.sum(q * loo) if np.all(np.isfinite(loo)) else -np.inf
            return scores

        scores = held_out_scores(candidates)
        if not np.any(np.isfinite(scores)):
            raise ValueError("cross-validation found no bandwidth with a finite held-out likelihood; "
                             "give a numeric bandwidth")
        # A maximum at the edge of the candidates is no maximum: widen the search there, a decade at a time.
        for _ in range(CV_EXTRA_DECADES):
            best = int(np.argmax(scores))
            if 0 < best < len(candidates) - 1:
                break
            edge = candidates[best]
            extra = edge * (np.geomspace(0.1, 1.0, 8)[:-1] if best == 0 else np.geomspace(1.0, 10.0, 8)[1:])
            candidates = np.concatenate([extra, candidates] if best == 0 else [candidates, extra])
            scores = np.concatenate([held_out_scores(extra), scores] if best == 0 else [scores, held_out_scores(extra)])
        best = int(np.argmax(scores))
        if not 0 < best < len(candidates) - 1:
            tied = len(np.unique(X[subset], axis=0)) < len(subset)
            raise ValueError(
                f"cross-validation found no interior maximum: the held-out likelihood still grows at h = "
                f"{candidates[best]:.3g}" + (", because X has tied samples (each copy is the other's held-out "
                "neighbour, so the score grows without bound as h -> 0)" if tied and best == 0 else "")
                + "; give a numeric bandwidth or use 'scott' or 'silverman'")
        self.cv_scores_ = (candidates, scores)
        return float(candidates[best] * (n_eff_subset / self.n_effective_) ** (1.0 / (d + 4)))

    # ------------------------------------------------------------------------------------- evaluation
    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """log p_hat(x) for each row of X, exact (every sample counts); -inf where the density is 0."""
        check_is_fitted(self, "bandwidth_")
        X = check_data(X, n_features=self.n_features_in_)
        log_p = kernel_sums((X - self._centre) @ self._whiten, self._z, self._z_weights, self._kernel)
        log_p -= self._kernel.log_normaliser(self.n_features_in_) + self._log_det
        if self.bounds is not None:
            low, high = self._bounds
            log_p[(X[:, 0] < low) | (X[:, 0] > high)] = -np.inf
        return log_p

    def score(self, X: ArrayLike) -> float:
        """Mean log-likelihood (1/m) sum_j log p_hat(x_j)."""
        return float(np.mean(self.score_samples(X)))

    def pdf(self, X: ArrayLike) -> np.ndarray:
        """p_hat(x) itself (exp of ``score_samples``)."""
        return np.exp(self.score_samples(X))

    def sample(self, n: int, rng: Seed = None) -> np.ndarray:
        """n draws from p_hat, in the lecture's two steps, shape (n, d).

        1. pick a sample x_i: uniformly (each with probability 1/N), or with probability p_i if weighted;
        2. draw from the kernel around it: x = x_i + L u, u ~ K (unit covariance), H = L L^T.
        With bounds, draws outside are reflected back in, which is what the reflected density describes.
        """
        check_is_fitted(self, "bandwidth_")
        n = check_positive_int(n, "n")
        rng = as_generator(rng)
        N, d = self.data_.shape
        chosen = rng.integers(0, N, n) if self._uniform else sample_discrete(self.weights_, n, rng)
        lower = np.linalg.cholesky(self.kernel_covariance_)
        x = self.data_[chosen] + sample_unit_kernel(self._kernel, n, d, rng) @ lower.T
        if self.bounds is not None:
            x[:, 0] = fold_into(x[:, 0], *self._bounds)
        return x

    def evaluate_grid(self, grid_points: int | tuple[int, ...] | None = None,
                      grid_bounds: tuple | None = None) -> tuple:
        """p_hat on a regular 1-D or 2-D grid, fast: linear binning of the samples onto the grid, then one
        FFT convolution with the kernel sampled at the grid offsets.

        grid_points : nodes per axis (default 1024 in 1-D, 256 per axis in 2-D).
        grid_bounds : (low, high) in 1-D, ((low_x, high_x), (low_y, high_y)) in 2-D; it must contain every
            sample. Default: the data's range plus 4 kernel standard deviations (the bounds, if reflected).
        Returns (grid, density) in 1-D and ((grid_x, grid_y), density[i, j] at (grid_x[i], grid_y[j])) in
        2-D. The error against ``score_samples`` comes from binning only: O((step / h)^2).
        """
        check_is_fitted(self, "bandwidth_")
        d = self.n_features_in_
        if d > 2:
            raise ValueError(f"evaluate_grid is for 1-D and 2-D data, got {d} features; use score_samples")
        low, high = self._grid_range(grid_bounds, d)
        std = np.sqrt(np.diag(self.kernel_covariance_))
        shape = self._grid_shape(grid_points, d, needed=np.ceil((high - low) / (GRID_STEP_PER_STD * std)) + 1)
        step = (high - low) / (np.array(shape) - 1)
        counts = linear_binning(self.data_, None if self._uniform else self.weights_, low, step, shape)

        # The kernel at every grid offset it can reach (`reach` nodes either side, per axis), scaled so its
        # samples sum to 1 / cell volume: the grid density then carries exactly the mass 1 of the kernel,
        # even for the compact kernels, whose sampled mass is off by O(step / h).
        reach = np.ceil(self._kernel.reach(d) * std / step).astype(int)
        half = reach if self.bounds is not None else np.minimum(reach, np.array(shape) - 1)
        whole = np.prod(2 * reach + 1, dtype=float) <= max(np.prod(2 * half + 1, dtype=float), 2**20)
        kernel_values = self._kernel_on_lattice(reach if whole else half, step)
        if whole:  # (a kernel far wider than the grid is sampled finely: its mass is right without this)
            kernel_values /= kernel_values.sum() * np.prod(step)
            kernel_values = kernel_values[tuple(slice(r - k, r + k + 1) for r, k in zip(reach, half))]
        else:
            kernel_values *= np.exp(-self._kernel.log_normaliser(d) - self._log_det)

        if self.bounds is None:
            density = fft_convolve(counts, kernel_values)[tuple(slice(k, k + m) for k, m in zip(half, shape))]
        else:
            m, k = shape[0], half[0]
            density = fft_convolve(self._with_mirror_images(counts, k), kernel_values)[2 * k:2 * k + m]
        density = np.maximum(density, 0.0)    # FFT round-off can leave -1e-17 where the density is 0
        axes = [np.linspace(lo, hi, m) for lo, hi, m in zip(low, high, shape)]
        return (axes[0], density) if d == 1 else (tuple(axes), density)

    def _kernel_on_lattice(self, half: np.ndarray, step: np.ndarray) -> np.ndarray:
        """profile(||H^{-1/2} o||^2) at the offsets o = (i step_x, j step_y), |i| <= half_x, |j| <= half_y."""
        offsets = [np.arange(-k, k + 1) * s for k, s in zip(half, step)]
        mesh = np.stack(np.meshgrid(*offsets, indexing="ij"), axis=-1).reshape(-1, len(step))
        r2 = np.sum((mesh @ self._whiten) ** 2, axis=1)
        return self._kernel.profile(r2, len(step)).reshape([len(o) for o in offsets])

    def _with_mirror_images(self, counts: np.ndarray, k: int) -> np.ndarray:
        """The 1-D binned counts plus their mirror images at the finite bounds (grid nodes 0 and m - 1), on
        the grid extended by k nodes either side: node i reflects to node -i at the lower bound, exactly as
        the samples' images 2 low - x_i would bin."""
        m = len(counts)
        low = 0.0 if np.isfinite(self._bounds[0]) else -np.inf
        high = m - 1.0 if np.isfinite(self._bounds[1]) else np.inf
        nodes = reflected_images(np.arange(m, dtype=float), low, high, k).astype(np.intp)
        inside = (nodes >= -k) & (nodes <= m - 1 + k)
        return np.bincount(nodes[inside] + k, weights=np.broadcast_to(counts, nodes.shape)[inside],
                           minlength=m + 2 * k)

    def _grid_shape(self, grid_points, d: int, needed: np.ndarray) -> tuple[int, ...]:
        """Nodes per axis. A step above half the kernel's standard deviation would return a wrong density
        (binning error O((step / h)^2), a sampled kernel missing mass): the default grid is refined to
        ``needed`` nodes, a grid the caller chose that is too coarse is refused."""
        needed = tuple(int(k) for k in needed)
        if grid_points is None:
            points = tuple(max(DEFAULT_GRID_POINTS[d], k) for k in needed)
            if np.prod(points, dtype=float) > MAX_GRID_NODES:
                raise ValueError(f"the bandwidth {self.bandwidth_:.3g} is too small for a grid over the data: it "
                                 f"needs {needed} nodes; use score_samples at the points you need")
            return points
        points = (grid_points,) * d if np.isscalar(grid_points) else tuple(grid_points)
        if len(points) != d:
            raise ValueError(f"grid_points must be an int or {d} ints, got {grid_points!r}")
        for p in points:
            if check_positive_int(p, "grid_points") < 2:
                raise ValueError(f"grid_points must be at least 2 per axis, got {grid_points!r}")
        if any(p < k for p, k in zip(points, needed)):
            raise ValueError(f"grid_points={grid_points!r} is too coarse for the bandwidth {self.bandwidth_:.3g}: "
                             f"the step must be at most {GRID_STEP_PER_STD} kernel standard deviations, which "
                             f"needs {needed} nodes over these grid_bounds (or leave grid_points=None)")
        return points

    def _grid_range(self, grid_bounds, d: int) -> tuple[np.ndarray, np.ndarray]:
        pad = 4.0 * np.sqrt(np.diag(self.kernel_covariance_))
        low, high = self.data_.min(axis=0) - pad, self.data_.max(axis=0) + pad
        if self.bounds is not None:
            if grid_bounds is not None:
                raise ValueError("with reflection bounds the grid spans the bounds; leave grid_bounds=None")
            low = np.where(np.isfinite(self._bounds[0]), self._bounds[0], low)
            high = np.where(np.isfinite(self._bounds[1]), self._bounds[1], high)
            return low, high
        if grid_bounds is None:
            return low, high
        given = np.array(grid_bounds, dtype=np.float64).reshape(d, 2)
        if not np.all(given[:, 0] < given[:, 1]):
            raise ValueError(f"grid_bounds must be (low, high) pairs with low < high, got {grid_bounds}")
        if np.any(self.data_.min(axis=0) < given[:, 0]) or np.any(self.data_.max(axis=0) > given[:, 1]):
            raise ValueError(f"grid_bounds={grid_bounds} must contain every sample (binning needs them)")
        return given[:, 0], given[:, 1]
