"""Gaussian mixture model fitted by expectation-maximisation (EM).

The model: p(x) = sum_k w_k N(x | mu_k, Sigma_k), with weights w_k >= 0 summing to 1.

EM alternates two steps, each of which can only increase the log-likelihood sum_i log p(x_i):

  E-step   p(k|x_i) = w_k N(x_i | mu_k, Sigma_k) / sum_j w_j N(x_i | mu_j, Sigma_j)      (responsibilities)
  M-step   N_k = sum_i p(k|x_i)
           w_k = N_k / N
           mu_k = sum_i p(k|x_i) x_i / N_k
           Sigma_k = sum_i p(k|x_i) (x_i - mu_k)(x_i - mu_k)^T / N_k  (+ reg_covar on the diagonal)

(in 1-D the last line is the lecture's sigma_k^2). With sample weights s_i every sum over i gets a factor
s_i and N becomes sum_i s_i. The covariance types restrict Sigma_k: "full" (any), "diag" (diagonal),
"spherical" (sigma_k^2 I) and "tied" (one Sigma shared by all components).

Numerics: the E-step works in log space (log-sum-exp over k), with the Cholesky factor of each precision
matrix, so that log N(x | mu_k, Sigma_k) = -d/2 log(2 pi) + log det U_k - ||(x - mu_k) U_k||^2 / 2 where
Sigma_k^{-1} = U_k U_k^T. Every covariance type is expanded to full matrices for the E-step: one code path,
one matrix product for all components at once.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from scratchgen._checks import check_nonnegative
from scratchgen.sampling import as_generator, sample_discrete

from ._persistence import SaveLoadMixin
from ._validation import (
    Seed,
    check_choice,
    check_data,
    check_is_fitted,
    check_positive_int,
    check_sample_weight,
)

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
INITS = ("kmeans++", "random", "random_from_data")
WEIGHTS_SUM_TOLERANCE = 0.015  # weights_init may be rounded, as the lecture's [0.33, 0.33, 0.33]
_CHUNK_ROWS = 8192  # samples per E-step block: the (K * d, block) temporaries stay in the cache


def _as_real_array(value, name: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) \
            or np.iscomplexobj(array):
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__} of dtype {array.dtype}")
    return array.astype(np.float64)


# ---------------------------------------------------------------------------------------------- covariances
def full_covariances(covariances: np.ndarray, covariance_type: str, n_components: int, d: int) -> np.ndarray:
    """The (K, d, d) matrices Sigma_k that a covariance of the given type stands for."""
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (n_components, d, d))
    variances = covariances if covariance_type == "diag" else np.repeat(covariances[:, None], d, axis=1)
    return variances[:, :, None] * np.eye(d)


def precision_cholesky(full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U_k with Sigma_k^{-1} = U_k U_k^T (U_k = L_k^{-T}, Sigma_k = L_k L_k^T), and log det U_k.

    One batched Cholesky factorisation for all K components; a singular Sigma_k is reported with the fix.
    """
    try:
        lower = np.linalg.cholesky(full)
    except np.linalg.LinAlgError:
        raise ValueError(
            "a covariance matrix is not positive definite: some component collapsed onto too few (or "
            "identical) points; increase reg_covar, or use fewer components"
        ) from None
    upper = np.swapaxes(np.linalg.inv(lower), -1, -2)
    log_det = -np.sum(np.log(np.diagonal(lower, axis1=-2, axis2=-1)), axis=-1)
    return upper, log_det


def _n_covariance_parameters(covariance_type: str, n_components: int, d: int) -> int:
    return {
        "full": n_components * d * (d + 1) // 2,
        "diag": n_components * d,
        "spherical": n_components,
        "tied": d * (d + 1) // 2,
    }[covariance_type]


# ----------------------------------------------------------------------------------------------- E and M
# Responsibilities are stored component-major, shape (K, n): the sums and maxima over k then combine K
# contiguous rows element-wise, and the M-step's products read each component's row contiguously.

def log_weighted_densities(X: np.ndarray, weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray,
                           log_det: np.ndarray) -> np.ndarray:
    """log w_k + log N(x_i | mu_k, Sigma_k) for all k and i, shape (K, n).

    All components in one matrix product: stacking the U_k^T gives every U_k^T x_i at once; subtracting
    U_k^T mu_k leaves z = U_k^T (x_i - mu_k), whose squared length is the Mahalanobis distance.
    """
    K, d = means.shape
    stacked = np.swapaxes(prec_chol, 1, 2).reshape(K * d, d)          # [U_1^T; U_2^T; ...; U_K^T]
    z = stacked @ X.T                                                   # (K*d, n)
    z -= np.einsum("kje,kj->ke", prec_chol, means).reshape(K * d, 1)   # U_k^T mu_k
    z *= z
    mahalanobis = z.reshape(K, d, -1).sum(axis=1)                       # (K, n)
    with np.errstate(divide="ignore"):  # a weight of 0 (allowed in weights_init) is log 0 = -inf: never chosen
        constant = np.log(weights) + log_det - 0.5 * d * np.log(2 * np.pi)
    mahalanobis *= -0.5
    mahalanobis += constant[:, None]
    return mahalanobis


def e_step(X: np.ndarray, weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray,
           log_det: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Responsibilities p(k|x_i), shape (K, n), and log p(x_i), shape (n,).

    p(k|x) = w_k N(x|mu_k, Sigma_k) / sum_j w_j N(x|mu_j, Sigma_j), by log-sum-exp over k, block by block.
    """
    n = len(X)
    responsibilities = np.empty((len(weights), n))
    log_px = np.empty(n)
    for start in range(0, n, _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        a = log_weighted_densities(X[rows], weights, means, prec_chol, log_det)
        top = np.max(a, axis=0)
        a -= top
        e = np.exp(a, out=a)                      # the largest term of each column is exp(0) = 1
        total = np.sum(e, axis=0)
        responsibilities[:, rows] = e / total
        log_px[rows] = top + np.log(total)
    return responsibilities, log_px


def m_step(X: np.ndarray, responsibilities: np.ndarray, sample_weight: np.ndarray | None,
           covariance_type: str, reg_covar: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New (w_k, mu_k, Sigma_k) from the responsibilities (K, n): the M-step equations of the module
    docstring."""
    r = responsibilities if sample_weight is None else responsibilities * sample_weight
    n_k = r.sum(axis=1) + 10 * np.finfo(np.float64).eps   # N_k; the eps keeps an empty component finite
    weights = n_k / n_k.sum()
    means = (r @ X) / n_k[:, None]
    d = X.shape[1]
    XT = np.ascontiguousarray(X.T)                         # feature-major (d, n): contiguous rows below
    if covariance_type in ("full", "tied"):
        covariances = np.empty((len(n_k), d, d))
        for k in range(len(n_k)):                          # K small BLAS products, centred for accuracy
            diff = XT - means[k][:, None]
            covariances[k] = (diff * r[k]) @ diff.T / n_k[k]
        if covariance_type == "tied":                      # the N_k-weighted average of the full ones
            covariances = np.tensordot(n_k, covariances, axes=1) / n_k.sum()
        covariances.reshape(-1, d * d)[:, :: d + 1] += reg_covar
        return weights, means, covariances
    # diag and spherical: the diagonal of the same centred sums
    variances = np.stack([((XT - means[k][:, None]) ** 2) @ r[k] for k in range(len(n_k))]) / n_k[:, None]
    if covariance_type == "spherical":
        variances = variances.mean(axis=1)
    return weights, means, variances + reg_covar


# --------------------------------------------------------------------------------------- initialisation
def kmeans_plusplus_centres(X: np.ndarray, n_components: int, rng: np.random.Generator,
                            sample_weight: np.ndarray | None = None) -> np.ndarray:
    """k-means++ seeding: the first centre uniformly (or by weight), each next one with probability
    proportional to s_i D(x_i)^2, D = distance to the nearest centre chosen so far."""
    s = np.ones(len(X)) if sample_weight is None else sample_weight
    centres = [X[sample_discrete(s / s.sum(), 1, rng)[0]]]
    closest = np.sum((X - centres[0]) ** 2, axis=1)
    for _ in range(1, n_components):
        p = s * closest
        if p.sum() <= 0:                                     # every point sits on a centre already
            p = s
        centres.append(X[sample_discrete(p / p.sum(), 1, rng)[0]])
        closest = np.minimum(closest, np.sum((X - centres[-1]) ** 2, axis=1))
    return np.array(centres)


def hard_responsibilities(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """One-hot p(k|x_i) assigning each point to its nearest centre."""
    squared = (X**2).sum(1)[:, None] - 2 * X @ centres.T + (centres**2).sum(1)
    return np.eye(len(centres))[np.argmin(squared, axis=1)]


class GaussianMixture(SaveLoadMixin):
    """Gaussian mixture p(x) = sum_k w_k N(x | mu_k, Sigma_k), fitted by EM (see the module docstring).

    Parameters
    ----------
    n_components : K, the number of Gaussians.
    covariance_type : "full" (K, d, d), "diag" (K, d), "spherical" (K,) or "tied" (d, d).
    tol : stop when the mean log-likelihood changes by less than this between iterations.
    reg_covar : added to the diagonal of every covariance, keeping it positive definite.
    max_iter : the most EM iterations (M-steps) per initialisation.
    n_init : number of initialisations; the one with the best final log-likelihood is kept.
    init : how responsibilities start: "kmeans++" (k-means++ centres, each point to its nearest),
        "random_from_data" (K random points as centres) or "random" (random soft responsibilities).
    weights_init, means_init, covariances_init : start EM from these parameters instead (each optional,
        checked: finite; weights non-negative summing to 1 up to 0.015 (rounded values), then normalised;
        covariances symmetric positive definite;
        missing ones come from the M-step of the initial responsibilities, taken as nearest-mean when
        ``means_init`` is given). Shapes as the fitted attributes.
    keep_parameter_history : store (w, mu, Sigma) at every iteration in ``parameter_history_``.
    seed : numpy Generator, int or None; the same seed gives the same fit.

    ``save(path)`` / ``GaussianMixture.load(path)`` store a fitted mixture in one .npz file (no pickle).

    Fitted attributes: ``weights_``, ``means_``, ``covariances_``, ``precisions_cholesky_``, ``converged_``,
    ``n_iter_``, ``log_likelihood_history_`` (mean log-likelihood of the initial parameters and after each
    iteration; EM never decreases it), ``lower_bound_`` (its last value) and ``parameter_history_``.
    """

    _saved_params = ("n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init", "init")
    _saved_fitted = ("means_", "weights_", "covariances_", "converged_", "n_iter_", "log_likelihood_history_",
                     "lower_bound_", "n_features_in_")

    def __init__(self, n_components: int = 1, *, covariance_type: str = "full", tol: float = 1e-3,
                 reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1, init: str = "kmeans++",
                 weights_init: np.ndarray | None = None, means_init: np.ndarray | None = None,
                 covariances_init: np.ndarray | None = None, keep_parameter_history: bool = False,
                 seed: Seed = None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init = init
        self.weights_init = weights_init
        self.means_init = means_init
        self.covariances_init = covariances_init
        self.keep_parameter_history = keep_parameter_history
        self.seed = seed

    # ------------------------------------------------------------------------------------------ checks
    def _check_parameters(self, X: np.ndarray) -> None:
        K = check_positive_int(self.n_components, "n_components")
        check_choice(self.covariance_type, "covariance_type", COVARIANCE_TYPES)
        check_choice(self.init, "init", INITS)
        check_positive_int(self.n_init, "n_init")
        check_positive_int(self.max_iter, "max_iter")
        check_nonnegative(self.tol, "tol")
        check_nonnegative(self.reg_covar, "reg_covar")
        if K > len(X):
            raise ValueError(f"n_components={K} must be <= n_samples={len(X)}: each Gaussian needs data")

    def _checked_initial_values(self, d: int) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """``weights_init``, ``means_init`` and ``covariances_init`` validated at the door (None where not
        given): finite, of the fitted attributes' shapes, weights a distribution, covariances symmetric and
        positive definite."""
        K, kind = self.n_components, self.covariance_type
        weights = means = covariances = None
        if self.weights_init is not None:
            weights = _as_real_array(self.weights_init, "weights_init")
            if weights.shape != (K,) or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
                    or abs(weights.sum() - 1) > WEIGHTS_SUM_TOLERANCE:
                raise ValueError(f"weights_init must be {K} non-negative finite numbers summing to 1, got "
                                 f"{self.weights_init!r}")
            weights = weights / weights.sum()           # the lecture's w0 = [0.33, 0.33, 0.33] sums to 0.99
        if self.means_init is not None:
            means = _as_real_array(self.means_init, "means_init")
            if means.ndim == 1 and d == 1:                   # 1-D data: means may be given as (K,)
                means = means[:, None]
            if means.shape != (K, d):
                raise ValueError(f"means_init must have shape ({K}, {d}), got {means.shape}")
            if not np.all(np.isfinite(means)):
                raise ValueError("means_init contains NaN or infinity")
        if self.covariances_init is not None:
            covariances = _as_real_array(self.covariances_init, "covariances_init")
            shape = {"full": (K, d, d), "tied": (d, d), "diag": (K, d), "spherical": (K,)}[kind]
            if covariances.shape != shape:
                raise ValueError(f"covariances_init must have shape {shape} for covariance_type={kind!r}, "
                                 f"got {covariances.shape}")
            if not np.all(np.isfinite(covariances)):
                raise ValueError("covariances_init contains NaN or infinity")
            full = full_covariances(covariances, kind, K, d)
            if not np.allclose(full, np.swapaxes(full, -1, -2), rtol=1e-10, atol=0):
                raise ValueError("covariances_init must be symmetric (Sigma_k = Sigma_k^T)")
            if np.any(np.linalg.eigvalsh(full) <= 0):
                raise ValueError("covariances_init must be positive definite (all eigenvalues > 0)")
        return weights, means, covariances

    def _initial_parameters(self, X: np.ndarray, sample_weight: np.ndarray | None, rng: np.random.Generator,
                            given: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        K, n = self.n_components, len(X)
        weights_init, means_init, covariances_init = given
        if means_init is not None:
            resp = hard_responsibilities(X, means_init)
        elif self.init == "random":
            resp = rng.random((n, K))
            resp /= resp.sum(axis=1, keepdims=True)
        else:
            if self.init == "kmeans++":
                centres = kmeans_plusplus_centres(X, K, rng, sample_weight)
            else:
                centres = X[rng.choice(n, size=K, replace=False)]
            resp = hard_responsibilities(X, centres)
        weights, means, covariances = m_step(X, np.ascontiguousarray(resp.T), sample_weight,
                                             self.covariance_type, self.reg_covar)
        return (weights if weights_init is None else weights_init, means if means_init is None else means_init,
                covariances if covariances_init is None else covariances_init)

    # --------------------------------------------------------------------------------------------- fit
    def fit(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> GaussianMixture:
        """Fit by EM from ``n_init`` initialisations (see the class docstring); returns self."""
        X = check_data(X)
        sample_weight = check_sample_weight(sample_weight, len(X))
        self._check_parameters(X)
        given = self._checked_initial_values(X.shape[1])
        rng = as_generator(self.seed)
        best = None
        for _ in range(1 if given[1] is not None else self.n_init):
            run = self._run_em(X, sample_weight, rng, given)
            if best is None or run["history"][-1] > best["history"][-1]:
                best = run
        self.weights_, self.means_, self.covariances_ = best["parameters"]
        self._set_precisions()
        self.converged_ = best["converged"]
        self.n_iter_ = len(best["history"]) - 1
        self.log_likelihood_history_ = np.array(best["history"])
        self.lower_bound_ = self.log_likelihood_history_[-1]
        if self.keep_parameter_history:
            self.parameter_history_ = best["parameter_history"]
        self.n_features_in_ = X.shape[1]
        return self

    def _run_em(self, X: np.ndarray, sample_weight: np.ndarray | None, rng: np.random.Generator,
                given: tuple) -> dict:
        K, d = self.n_components, X.shape[1]
        parameters = self._initial_parameters(X, sample_weight, rng, given)
        history, parameter_history, converged = [], [], False

        def mean_log_likelihood(log_px):
            return float(np.average(log_px, weights=sample_weight))

        for iteration in range(self.max_iter + 1):
            weights, means, covariances = parameters
            if self.keep_parameter_history:
                parameter_history.append(tuple(np.copy(p) for p in parameters))
            prec_chol, log_det = precision_cholesky(full_covariances(covariances, self.covariance_type, K, d))
            responsibilities, log_px = e_step(X, weights, means, prec_chol, log_det)   # E-step
            history.append(mean_log_likelihood(log_px))
            if iteration > 0 and abs(history[-1] - history[-2]) < self.tol:
                converged = True
                break
            if iteration == self.max_iter:
                break
            parameters = m_step(X, responsibilities, sample_weight, self.covariance_type, self.reg_covar)
        return {"parameters": parameters, "history": history, "converged": converged,
                "parameter_history": parameter_history}

    def _restore(self) -> None:
        self._set_precisions()

    def _set_precisions(self) -> None:
        d = self.means_.shape[1]
        full = full_covariances(self.covariances_, self.covariance_type, self.n_components, d)
        self.precisions_cholesky_, self._log_det = precision_cholesky(full)

    # ------------------------------------------------------------------------------------- inference
    def _e_step(self, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "means_")
        X = check_data(X, n_features=self.n_features_in_)
        return e_step(X, self.weights_, self.means_, self.precisions_cholesky_, self._log_det)

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """log p(x) for each sample, shape (n,)."""
        return self._e_step(X)[1]

    def score(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Mean log-likelihood (1/N) sum_i log p(x_i) (weighted mean with ``sample_weight``)."""
        log_px = self.score_samples(X)
        return float(np.average(log_px, weights=check_sample_weight(sample_weight, len(log_px))))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Responsibilities p(k|x), shape (n, K); each row sums to 1."""
        return self._e_step(X)[0].T

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most responsible component argmax_k p(k|x) of each sample."""
        return np.argmax(self.predict_proba(X), axis=1)

    def n_parameters(self) -> int:
        """Free parameters: K - 1 weights, K d means and the covariances."""
        check_is_fitted(self, "means_")
        K, d = self.means_.shape
        return K - 1 + K * d + _n_covariance_parameters(self.covariance_type, K, d)

    def bic(self, X: ArrayLike) -> float:
        """Bayesian information criterion -2 log L + p log N (lower is better)."""
        X = check_data(X)
        return -2 * self.score(X) * len(X) + self.n_parameters() * np.log(len(X))

    def aic(self, X: ArrayLike) -> float:
        """Akaike information criterion -2 log L + 2 p (lower is better)."""
        X = check_data(X)
        return -2 * self.score(X) * len(X) + 2 * self.n_parameters()

    def sample(self, n: int, rng: Seed = None,
               return_components: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """n samples by the lecture's two steps, in random order (not grouped by component).

        1. choose a component k with probability w_k (discrete inverse transform sampling);
        2. draw x ~ N(mu_k, Sigma_k) as mu_k + L_k z with z ~ N(0, I) and Sigma_k = L_k L_k^T.
        Returns x of shape (n, d), and the components if ``return_components``.
        """
        check_is_fitted(self, "means_")
        n = check_positive_int(n, "n")
        rng = as_generator(rng)
        K, d = self.means_.shape
        components = sample_discrete(self.weights_, n, rng)
        lower = np.linalg.cholesky(full_covariances(self.covariances_, self.covariance_type, K, d))
        z = rng.standard_normal((n, d))
        x = self.means_[components] + np.einsum("nij,nj->ni", lower[components], z)
        return (x, components) if return_components else x
