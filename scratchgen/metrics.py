"""How good are the samples? Sample-based metrics shared by every model.

Toy 2-D data with known modes (the PacGAN / VEEGAN protocol, on 2500 samples):

  nearest mode      k(x) = argmin_k |x - m_k|
  high quality      |x - m_k(x)| <= n_std * std              (3 standard deviations by default)
  modes covered     #{k : some high-quality sample has k(x) = k}
  reverse KL        KL(q || uniform) = sum_k q_k log(q_k K),  q_k = the fraction of high-quality samples at
                    mode k, 0 log 0 = 0; 0 when every mode gets the same share, log K when one mode gets all

Two point sets x (m points) and y (n points):

  squared MMD       MMD^2 = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(n(n-1)) sum_{i!=j} k(y_i, y_j)
                            - 2/(mn) sum_{i,j} k(x_i, y_j),     k(a, b) = sum_h exp(-|a - b|^2 / (2 h^2))
                    (the unbiased U-statistic: it can be slightly negative when both sets share a distribution)
  Chamfer distance  sum_i min_j |x_i - y_j|^2 + sum_j min_i |y_j - x_i|^2       (or each sum divided by its size)

Held-out likelihood (Goodfellow et al. 2014):

  Parzen estimate   fit p_hat(x) = 1/N sum_i N(x | g_i, sigma^2 I) on N generated samples g_i, choose sigma to
                    maximise the mean log p_hat on a validation set, report the mean log p_hat on a test set

8x8 digits, through a small classifier trained here (``DigitClassifier``):

  conditional accuracy   the fraction of samples that the classifier reads as the digit they were meant to be
  Frechet distance       |mu_1 - mu_2|^2 + Tr(C_1 + C_2 - 2 (C_1^{1/2} C_2 C_1^{1/2})^{1/2}), between Gaussians
                         fitted to the classifier's penultimate features (FID's formula, with our classifier
                         in place of Inception)

Every public function checks its input at the door (finite, the expected shapes, not empty) and raises a
ValueError that names the argument; the arithmetic inside runs in float64 and in blocks, so a few thousand
points never need more than a few MiB at a time.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

import autograd_lite as al
from autograd_lite import nn, optim
from scratchgen._checks import (
    check_choice,
    check_count,
    check_finite_array,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_real_array,
)
from scratchgen.data import grid_modes, load_digits, ring_modes
from scratchgen.density import KernelDensity

_BLOCK = 1 << 20              # distances computed per block: 8 MiB of float64
MEDIAN_MAX_POINTS = 2000      # the median heuristic looks at most at this many pooled points
N_CLASSES = 10
PIXEL_MAX = 16.0


# ------------------------------------------------------------------------------- checks at the door
def _check_points(points: ArrayLike, name: str, n_features: int | None = None, min_points: int = 1) -> np.ndarray:
    """``points`` as a finite float64 array of shape (n, d), n >= ``min_points``, d == ``n_features`` if given."""
    array = check_real_array(points, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of points, shape (n, d), got shape {array.shape}")
    if array.shape[0] < min_points or array.shape[1] == 0:
        raise ValueError(f"{name} needs at least {min_points} point(s) with at least 1 coordinate, "
                         f"got shape {array.shape}")
    array = check_finite_array(array, name)
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"{name} has {array.shape[1]} coordinates per point, expected {n_features} "
                         "(the same as the other set)")
    return array


def _check_bandwidths(bandwidths: ArrayLike, name: str) -> np.ndarray:
    values = np.atleast_1d(check_real_array(bandwidths, name))
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"{name} must be a positive number or a non-empty sequence of positive numbers, "
                         f"got {bandwidths!r}")
    return values


# ------------------------------------------------------------------------------------ distances
def _squared_distance_blocks(a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(start, |a_i - b_j|^2 for the rows i = start, start + 1, ...) block by block, as |a|^2 + |b|^2 - 2 a.b.

    One BLAS product per block; clipped at 0, since rounding can make tiny distances negative.
    """
    rows = max(1, _BLOCK // len(b))
    b_squared, minus_two_b_t = np.sum(b**2, axis=1), -2.0 * b.T
    for start in range(0, len(a), rows):
        block = a[start:start + rows]
        d2 = block @ minus_two_b_t
        d2 += b_squared
        d2 += np.sum(block**2, axis=1)[:, None]
        yield start, np.maximum(d2, 0.0, out=d2)


def _nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a: the index of its nearest row of b and the squared distance to it.

    The expansion finds the neighbour; the distance is then recomputed as |a - b|^2 directly, which is exact
    where the expansion loses digits to cancellation (a point's distance to itself comes out 0, not 1e-15).
    """
    index = np.empty(len(a), dtype=np.intp)
    for start, d2 in _squared_distance_blocks(a, b):
        index[start:start + len(d2)] = np.argmin(d2, axis=1)
    return index, np.sum((a - b[index]) ** 2, axis=1)


# -------------------------------------------------------------------------------- mode coverage
class ModeCoverage(NamedTuple):
    """What ``mode_coverage`` measures (see the module docstring for the definitions)."""

    modes_covered: int      # modes that are the nearest mode of at least one high-quality sample
    high_quality: float     # fraction of samples within n_std * std of their nearest mode
    reverse_kl: float       # KL(q || uniform) of the high-quality samples over the modes; inf if there are none
    counts: np.ndarray      # high-quality samples nearest to each mode, shape (K,)


TOY_MODE_SETS = {"ring": (ring_modes, 0.02), "grid": (grid_modes, 0.05)}


def toy_modes(name: str) -> tuple[np.ndarray, float]:
    """The mode centres (K, 2) and the per-mode std of a toy set: "ring" (8 modes, 0.02) or "grid" (25, 0.05)."""
    centres, std = TOY_MODE_SETS[check_choice(name, "name", tuple(sorted(TOY_MODE_SETS)))]
    return centres(), std


def mode_coverage(samples: ArrayLike, modes: ArrayLike, std: float, n_std: float = 3.0) -> ModeCoverage:
    """Modes covered, fraction of high-quality samples and reverse KL to the uniform over modes.

    The protocol of PacGAN (Lin et al. 2018) and VEEGAN (Srivastava et al. 2017), who report it on 2500
    samples of the ring (8 modes, std 0.02) and the grid (25 modes, std 0.05); ``toy_modes`` gives both.
    When no sample is high quality, nothing is covered and ``reverse_kl`` is inf (q is undefined, and a
    model with no good sample is as far from uniform coverage as it gets). For reference, samples of the
    data itself are high quality with probability P(|x - m| <= 3 std) = 1 - exp(-9/2) = 98.9% in 2-D.
    """
    modes = _check_points(modes, "modes")
    samples = _check_points(samples, "samples", n_features=modes.shape[1])
    radius = check_positive(std, "std") * check_positive(n_std, "n_std")
    nearest_mode, squared_distance = _nearest(samples, modes)
    good = squared_distance <= radius**2
    counts = np.bincount(nearest_mode[good], minlength=len(modes))
    return ModeCoverage(modes_covered=int(np.count_nonzero(counts)), high_quality=float(np.mean(good)),
                        reverse_kl=_kl_to_uniform(counts), counts=counts)


def _kl_to_uniform(counts: np.ndarray) -> float:
    """sum_k q_k log(q_k K) for q = counts / sum(counts), with 0 log 0 = 0; inf when all counts are 0."""
    total = counts.sum()
    if total == 0:
        return float("inf")
    q = counts[counts > 0] / total
    return float(max(np.sum(q * np.log(q * len(counts))), 0.0))   # rounding can leave -1e-17 for uniform q


# ------------------------------------------------------------------------------------------- MMD
def median_heuristic(x: ArrayLike, y: ArrayLike | None = None) -> float:
    """The median distance |a - b| over all pairs of distinct points (by position) of x and y pooled.

    Above ``MEDIAN_MAX_POINTS`` pooled points it uses a fixed random subset of that many (the median of a
    few million pairs is already stable, and all n^2 pairs of 10^4 points would take 800 MB).
    """
    x = _check_points(x, "x", min_points=1)
    pooled = x if y is None else np.vstack([x, _check_points(y, "y", n_features=x.shape[1])])
    if len(pooled) < 2:
        raise ValueError("the median heuristic needs at least 2 points in total")
    if len(pooled) > MEDIAN_MAX_POINTS:
        pooled = pooled[np.random.default_rng(0).choice(len(pooled), MEDIAN_MAX_POINTS, replace=False)]
    pooled = pooled - pooled.mean(axis=0)   # centring keeps |a|^2 + |b|^2 - 2 a.b accurate
    d2 = np.vstack([block for _, block in _squared_distance_blocks(pooled, pooled)])
    upper = np.triu_indices(len(pooled), k=1)
    return float(np.median(np.sqrt(d2[upper])))   # not sqrt(median): they differ for an even count of pairs


def _kernel_sum(a: np.ndarray, b: np.ndarray, bandwidths: np.ndarray, skip_diagonal: bool) -> float:
    """sum_{i,j} sum_h exp(-|a_i - b_j|^2 / (2 h^2)), leaving out i = j when a is b (the U-statistic)."""
    total = 0.0
    for start, d2 in _squared_distance_blocks(a, b):
        if skip_diagonal:
            rows = np.arange(len(d2))
            d2[rows, start + rows] = np.inf
        for h in bandwidths:
            total += float(np.sum(np.exp(d2 * (-0.5 / h**2))))
    return total


def mmd(x: ArrayLike, y: ArrayLike, bandwidth: float | Sequence[float] | None = None) -> float:
    """The unbiased estimate of the squared MMD between the distributions of x (m, d) and y (n, d).

    Gaussian kernel k(a, b) = exp(-|a - b|^2 / (2 h^2)); a sequence of bandwidths sums one kernel per h
    (a kernel that sees several scales at once). Default h: the median heuristic, the median distance
    between two points of x and y pooled (``median_heuristic``). Each set needs at least 2 points.
    """
    x = _check_points(x, "x", min_points=2)
    y = _check_points(y, "y", n_features=x.shape[1], min_points=2)
    if bandwidth is None:
        bandwidth = median_heuristic(x, y)
        if bandwidth == 0:
            raise ValueError("the median heuristic gives bandwidth 0 (most pairs of points coincide); "
                             "give bandwidth explicitly")
    bandwidths = _check_bandwidths(bandwidth, "bandwidth")
    centre = np.mean(np.vstack([x, y]), axis=0)    # centring keeps |a|^2 + |b|^2 - 2 a.b accurate
    x, y = x - centre, y - centre
    m, n = len(x), len(y)
    within_x = _kernel_sum(x, x, bandwidths, skip_diagonal=True) / (m * (m - 1))
    within_y = _kernel_sum(y, y, bandwidths, skip_diagonal=True) / (n * (n - 1))
    between = _kernel_sum(x, y, bandwidths, skip_diagonal=False) / (m * n)
    return within_x + within_y - 2.0 * between


# ------------------------------------------------------------------------------------- Chamfer
def chamfer_distance(x: ArrayLike, y: ArrayLike, reduction: str = "sum") -> float:
    """Squared nearest-neighbour distances both ways: sum_i min_j |x_i - y_j|^2 + sum_j min_i |y_j - x_i|^2.

    ``reduction="mean"`` divides each of the two sums by its number of points (mean_i + mean_j), the form
    common in point-cloud papers; "sum" (the default) is the issue's definition. Symmetric, 0 iff the two
    sets contain the same points (as sets).
    """
    check_choice(reduction, "reduction", ("sum", "mean"))
    x = _check_points(x, "x")
    y = _check_points(y, "y", n_features=x.shape[1])
    x_to_y, y_to_x = _nearest(x, y)[1], _nearest(y, x)[1]
    if reduction == "mean":
        return float(np.mean(x_to_y) + np.mean(y_to_x))
    return float(np.sum(x_to_y) + np.sum(y_to_x))


# ------------------------------------------------------------------------------ Parzen window
class ParzenResult(NamedTuple):
    log_likelihood: float   # mean log p_hat(x) over the test set (nats per example)
    stderr: float           # its standard error: std(log p_hat) / sqrt(n_test)
    bandwidth: float        # the sigma chosen on the validation set


def parzen_log_likelihood(generated: ArrayLike, validation: ArrayLike, test: ArrayLike,
                          bandwidths: ArrayLike | None = None) -> ParzenResult:
    """The Parzen-window log-likelihood of Goodfellow et al. (2014), "Generative Adversarial Nets".

    A Gaussian KDE with sigma = h is fitted on the generated samples (``KernelDensity``); h is the value in
    ``bandwidths`` with the highest mean validation log-likelihood (the paper's cross-validation), and the
    result is the mean test log-likelihood with its standard error. Default grid: 29 values from 0.001 to 3.2
    (log-spaced) times the validation set's scale sqrt(mean_j var_j), wide enough for a single wide blob
    (h near 0.2 scale) as well as for many narrow modes (the ring: h near 0.005 scale). A warning says when
    the best h lies at an end of the grid.

    Why the number misleads (Theis, van den Oord & Bethge 2016, "A note on the evaluation of generative
    models"): in high dimension the KDE needs far more samples than anyone draws, so the estimate has a
    high variance and a bias that can rank models in the wrong order; a KDE of the training set itself
    (a "model" that only memorises) scores well, often better than real models, so the estimate rewards
    memorisation; and it is far from the model's true log-likelihood. Treat it as a historical baseline.
    """
    generated = _check_points(generated, "generated")
    validation = _check_points(validation, "validation", n_features=generated.shape[1])
    test = _check_points(test, "test", n_features=generated.shape[1], min_points=2)
    if bandwidths is None:
        # relative to the data's scale, not the samples': the same grid for every model (a collapsed
        # generator's tiny spread would otherwise shrink the grid with it)
        scale = float(np.sqrt(np.mean(np.var(validation, axis=0))))
        if scale == 0:
            raise ValueError("validation samples are all identical, so the default bandwidth grid is empty; "
                             "give bandwidths explicitly")
        bandwidths = scale * np.logspace(-3, 0.5, 29)
    grid = _check_bandwidths(bandwidths, "bandwidths")
    scores = [KernelDensity(bandwidth=float(h), kernel="gaussian").fit(generated).score(validation) for h in grid]
    best = int(np.argmax(scores))
    if len(grid) > 2 and grid[best] in (grid.min(), grid.max()):
        warnings.warn(f"the best Parzen bandwidth {grid[best]:.3g} is at an end of the grid; widen bandwidths",
                      RuntimeWarning, stacklevel=2)
    log_p = KernelDensity(bandwidth=float(grid[best]), kernel="gaussian").fit(generated).score_samples(test)
    return ParzenResult(log_likelihood=float(np.mean(log_p)),
                        stderr=float(np.std(log_p, ddof=1) / np.sqrt(len(log_p))), bandwidth=float(grid[best]))


# ----------------------------------------------------------------------------- digit classifier
def _check_images(images: ArrayLike, name: str, min_images: int = 1) -> np.ndarray:
    """8x8 digit images, (n, 8, 8) or (n, 64) with pixel values in [0, 16], as a float64 (n, 64) array."""
    array = check_real_array(images, name)
    if array.ndim not in (2, 3) or array.shape[1:] not in ((8, 8), (64,)):
        raise ValueError(f"{name} must be 8x8 digit images of shape (n, 8, 8) or (n, 64), got shape {array.shape}")
    if len(array) < min_images:
        raise ValueError(f"{name} needs at least {min_images} image(s), got {len(array)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    if array.min() < 0 or array.max() > PIXEL_MAX:
        raise ValueError(f"{name} must have pixel values in [0, 16] (the digits' grey levels), got range "
                         f"[{array.min():.3g}, {array.max():.3g}]; rescale or np.clip generated samples first")
    return array.reshape(len(array), 64)


def _check_labels(labels: ArrayLike, name: str, n: int) -> np.ndarray:
    array = np.asarray(labels)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one digit per image, got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold the integer digits 0..9, got dtype {array.dtype}")
    if n and (array.min() < 0 or array.max() >= N_CLASSES):
        raise ValueError(f"{name} must hold the integer digits 0..9, got range {array.min()}..{array.max()}")
    return array.astype(np.int64)


class DigitClassifier(nn.Module):
    """pixels / 16 -> Linear 64-256 -> ReLU -> Dropout -> Linear 256-128 -> ReLU -> Linear 128-10 -> logits.

    ``features`` are the 128 ReLU activations before the last layer: the space where
    ``frechet_digit_distance`` compares image sets. The layers are built from ``autograd_lite.nn`` directly
    (not ``scratchgen.models``), so that the models may import this module without an import cycle.

    Trained by ``train_digit_classifier`` (seed 0: a few seconds) it reads 98% of the validation split and
    91.5% of the test split: the test split's writers are harder (for comparison, on the same split a
    logistic regression reads 90%, scikit-learn's MLP 92.6%, an RBF SVM 95.7%, 3 nearest neighbours 96.2%).
    """

    def __init__(self, hidden: tuple[int, int] = (256, 128), dropout: float = 0.2, seed: int = 0):
        super().__init__()
        if not isinstance(hidden, (list, tuple)) or len(hidden) != 2:
            raise TypeError(f"hidden must be two layer widths, got {hidden!r}")
        hidden = tuple(check_count(h, "hidden") for h in hidden)
        dropout, seed = check_fraction(dropout, "dropout"), check_count(seed, "seed", minimum=0)
        rng = np.random.default_rng(seed)
        self.body = nn.Sequential(
            nn.Linear(64, hidden[0], rng=rng), nn.ReLU(), nn.Dropout(dropout, rng=rng),
            nn.Linear(hidden[0], hidden[1], rng=rng), nn.ReLU(),
        )
        self.head = nn.Linear(hidden[1], N_CLASSES, rng=rng)

    def forward(self, pixels: al.Tensor) -> al.Tensor:
        if not isinstance(pixels, al.Tensor):
            pixels = al.tensor(check_real_array(pixels, "pixels"), dtype=self.head.weight.dtype)
        if pixels.ndim < 1 or pixels.shape[-1] != 64:
            raise ValueError(f"pixels must be shaped (..., 64) (grey levels / 16), got {tuple(pixels.shape)}")
        return self.head(self.body(pixels))

    def _inputs(self, pixels: np.ndarray) -> al.Tensor:
        # in the weights' dtype: a float64 input would make every product float64 (slower, same answers)
        return al.tensor(pixels / PIXEL_MAX, dtype=self.head.weight.dtype)

    def fit(self, images: ArrayLike, labels: ArrayLike, validation: tuple[ArrayLike, ArrayLike] | None = None,
            epochs: int = 40, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4,
            seed: int = 0) -> DigitClassifier:
        """Minimise the cross-entropy with AdamW on shuffled mini-batches; with ``validation`` (images, labels)
        keep the weights of the epoch with the best validation accuracy (early stopping without stopping:
        the run is short, so it always runs all epochs). Returns self."""
        pixels = _check_images(images, "images")
        targets = _check_labels(labels, "labels", len(pixels))
        if validation is not None and (not isinstance(validation, (tuple, list)) or len(validation) != 2):
            raise TypeError(f"validation must be a pair (images, labels), got {type(validation).__name__}")
        if validation is not None:
            validation = _check_images(validation[0], "validation images"), validation[1]
            _check_labels(validation[1], "validation labels", len(validation[0]))
        epochs, batch_size = check_count(epochs, "epochs"), check_count(batch_size, "batch_size")
        lr, weight_decay = check_positive(lr, "lr"), check_nonnegative(weight_decay, "weight_decay")
        rng = np.random.default_rng(check_count(seed, "seed", minimum=0))
        optimizer = optim.AdamW(self.parameters(), lr=lr, weight_decay=weight_decay)
        best_accuracy, best_state = -1.0, None
        # One BLAS thread: (64, 256) products gain nothing from more, and on a busy machine threads that
        # wait for each other made training 3x slower.
        with threadpool_limits(1, user_api="blas"):
            for _ in range(epochs):
                self._train_one_epoch(pixels, targets, batch_size, optimizer, rng)
                if validation is not None:
                    accuracy = self.accuracy(*validation)
                    if accuracy > best_accuracy:
                        best_accuracy, best_state = accuracy, self.state_dict()
        if best_state is not None:
            self.load_state_dict(best_state)
        self.eval()
        return self

    def _train_one_epoch(self, pixels: np.ndarray, targets: np.ndarray, batch_size: int,
                         optimizer: optim.Optimizer, rng: np.random.Generator) -> None:
        self.train()
        order = rng.permutation(len(pixels))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            loss = nn.cross_entropy(self(self._inputs(pixels[batch])), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def _forward_numpy(self, images: ArrayLike, features: bool) -> np.ndarray:
        """The logits (or the features) in eval mode and without a graph, as float64; the mode is restored."""
        pixels = _check_images(images, "images")
        was_training = self.training
        self.eval()
        try:
            with al.no_grad():
                hidden = self.body(self._inputs(pixels))
                out = hidden if features else self.head(hidden)
        finally:
            self.train(was_training)
        return out.numpy().astype(np.float64)

    def logits(self, images: ArrayLike) -> np.ndarray:
        """The 10 class scores of each image, float64 (n, 10)."""
        return self._forward_numpy(images, features=False)

    def predict_proba(self, images: ArrayLike) -> np.ndarray:
        """p(digit | image) = softmax(logits), float64 (n, 10)."""
        logits = self.logits(images)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, images: ArrayLike) -> np.ndarray:
        """The most probable digit of each image, int64 (n,)."""
        return np.argmax(self.logits(images), axis=1).astype(np.int64)

    def features(self, images: ArrayLike) -> np.ndarray:
        """The penultimate-layer activations, float64 (n, 128)."""
        return self._forward_numpy(images, features=True)

    def accuracy(self, images: ArrayLike, labels: ArrayLike) -> float:
        """The fraction of images whose predicted digit is the label."""
        predicted = self.predict(images)
        return float(np.mean(predicted == _check_labels(labels, "labels", len(predicted))))


def train_digit_classifier(seed: int = 0, epochs: int = 40) -> DigitClassifier:
    """A ``DigitClassifier`` trained on the digits' train split, weights chosen on the validation split."""
    train, validation = load_digits("train"), load_digits("validation")
    return DigitClassifier(seed=seed).fit(*train, validation=validation, epochs=epochs, seed=seed)


@functools.lru_cache(maxsize=1)
def default_digit_classifier() -> DigitClassifier:
    """The classifier the digit metrics use by default, trained once per process (seed 0). Shared: do not
    train it further or change its mode; train your own with ``train_digit_classifier`` for that."""
    return train_digit_classifier(seed=0)


def conditional_accuracy(samples: ArrayLike, intended_labels: ArrayLike,
                         classifier: DigitClassifier | None = None) -> float:
    """How often the classifier reads each sample as the digit it was generated to be (class-conditional models)."""
    pixels = _check_images(samples, "samples")
    intended = _check_labels(intended_labels, "intended_labels", len(pixels))
    classifier = default_digit_classifier() if classifier is None else _check_classifier(classifier)
    return float(np.mean(classifier.predict(pixels) == intended))


def _check_classifier(classifier: object) -> DigitClassifier:
    if not isinstance(classifier, DigitClassifier):
        raise TypeError(f"classifier must be a DigitClassifier (or None: the default one), got "
                        f"{type(classifier).__name__}")
    return classifier


# ---------------------------------------------------------------------------- Frechet distance
def _check_gaussian(mu: ArrayLike, cov: ArrayLike, name: str, d: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    mu = check_real_array(mu, f"mu{name}")
    cov = check_real_array(cov, f"cov{name}")
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"mu{name} must be a non-empty 1-D mean vector (d,), got shape {mu.shape}")
    if d is not None and mu.size != d:
        raise ValueError(f"mu{name} has {mu.size} dimensions, expected {d} (the same as mu1)")
    if cov.shape != (mu.size, mu.size):
        raise ValueError(f"cov{name} must be a ({mu.size}, {mu.size}) covariance matrix, got shape {cov.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
        raise ValueError(f"mu{name} or cov{name} contains NaN or infinity")
    if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * max(1.0, np.abs(cov).max())):
        raise ValueError(f"cov{name} must be symmetric")
    return mu, cov


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root V diag(sqrt(lambda)) V^T, tiny negative eigenvalues (rounding) clipped to 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(mu1: ArrayLike, cov1: ArrayLike, mu2: ArrayLike, cov2: ArrayLike) -> float:
    """The squared 2-Wasserstein (Frechet) distance between N(mu1, C1) and N(mu2, C2):

        |mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2})

    Both square roots are of symmetric positive semi-definite matrices, so two symmetric eigendecompositions
    suffice (no general matrix square root, no complex round-off to discard). Clipped at 0 from below.
    """
    mu1, cov1 = _check_gaussian(mu1, cov1, "1")
    mu2, cov2 = _check_gaussian(mu2, cov2, "2", d=mu1.size)
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    middle_eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)    # symmetrised against round-off
    trace_of_root = np.sum(np.sqrt(np.clip(middle_eigenvalues, 0.0, None)))
    value = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_of_root
    return float(max(value, 0.0))


def frechet_digit_distance(samples: ArrayLike, reference: ArrayLike,
                           classifier: DigitClassifier | None = None) -> float:
    """FID for the 8x8 digits: the Frechet distance between Gaussians (mean, covariance) fitted to the
    classifier's penultimate features of the samples and of the reference images. Each set needs 2 images;
    the covariances have 128 x 128 entries, so a few hundred images per set give a usable estimate (the
    estimate is biased upwards for small sets: compare models at equal sample sizes)."""
    samples = _check_images(samples, "samples", min_images=2)
    reference = _check_images(reference, "reference", min_images=2)
    classifier = default_digit_classifier() if classifier is None else _check_classifier(classifier)
    sample_features, reference_features = classifier.features(samples), classifier.features(reference)
    return frechet_distance(sample_features.mean(axis=0), np.cov(sample_features, rowvar=False),
                            reference_features.mean(axis=0), np.cov(reference_features, rowvar=False))
