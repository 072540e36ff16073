"""Mixture of independent categoricals, fitted by EM: the natural baseline for the 8x8 digits.

Each sample is D discrete features (pixels) x_d in {0, ..., V-1} (V = 17 for the digits). The model:

  p(x) = sum_k w_k prod_d theta_{k,d,x_d},        sum_v theta_{k,d,v} = 1

EM is the Gaussian mixture's with the Gaussian replaced by a product of categoricals:

  E-step   p(k|x_i) = w_k prod_d theta_{k,d,x_id} / sum_j w_j prod_d theta_{j,d,x_id}   (log-sum-exp over k)
  M-step   N_k = sum_i p(k|x_i),   w_k = N_k / N,
           theta_{k,d,v} = (sum_i p(k|x_i) [x_id = v] + alpha) / (N_k + V alpha)

The pseudo-count alpha (a symmetric Dirichlet prior) keeps unseen values at a small positive probability, so
test images never get log p = -inf; with it EM increases the log-likelihood plus the log-prior (MAP-EM).
Written with one-hot features, both steps are single matrix products.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from scratchgen._checks import check_count, check_nonnegative, check_positive
from scratchgen.sampling import as_generator, sample_discrete

from ._validation import (
    Seed,
    check_data,
    check_is_fitted,
    check_positive_int,
    check_sample_weight,
)
from .gmm import hard_responsibilities, kmeans_plusplus_centres


def one_hot(X: np.ndarray, n_categories: int) -> np.ndarray:
    """Indicator features [x_id = v], shape (n, D * V), feature d * V + v."""
    n, D = X.shape
    features = np.zeros((n, D * n_categories))
    features[np.arange(n)[:, None], np.arange(D) * n_categories + X] = 1.0
    return features


MAX_ONE_HOT_ENTRIES = 2**27   # 1 GiB of float64


class CategoricalMixture:
    """Mixture of K products of categoricals (see the module docstring), fitted by EM.

    Parameters
    ----------
    n_components : K.
    n_categories : V, the number of values per feature (default: max of the training data + 1).
    alpha : Dirichlet pseudo-count added to every count in the M-step (> 0).
    tol, max_iter, n_init : as for ``GaussianMixture``.
    init : "kmeans++" (responsibilities from k-means++ centres) or "random" (random soft responsibilities).
    seed : numpy Generator, int or None.

    Fitted: ``weights_`` (K,), ``probabilities_`` (K, D, V) = theta, ``log_likelihood_history_`` (mean
    log-likelihood of the initial parameters and after each iteration), ``converged_``, ``n_iter_``.
    """

    def __init__(self, n_components: int = 10, *, n_categories: int | None = None, alpha: float = 0.01,
                 tol: float = 1e-4, max_iter: int = 200, n_init: int = 1, init: str = "kmeans++",
                 seed: Seed = None):
        self.n_components = n_components
        self.n_categories = n_categories
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init = init
        self.seed = seed

    def _check_categories(self, X, n_categories: int | None) -> np.ndarray:
        X = check_data(X)
        if n_categories is not None:
            n_categories = check_count(n_categories, "n_categories")
        if np.any(X > np.iinfo(np.intp).max // 2):
            raise ValueError(f"X must hold category indices: {X.max():.3g} is not a usable index")
        if not np.all(X == np.round(X)) or X.min() < 0:
            raise ValueError("X must hold category indices: non-negative integers")
        if n_categories is not None and X.max() >= n_categories:
            raise ValueError(f"X has a value {int(X.max())}, but n_categories={n_categories} allows 0.."
                             f"{n_categories - 1}")
        return X.astype(np.intp)

    # --------------------------------------------------------------------------------------------- EM
    def _log_joint(self, features: np.ndarray, weights: np.ndarray, log_theta: np.ndarray) -> np.ndarray:
        """log w_k + sum_d log theta_{k,d,x_id}, shape (n, K): one product with the one-hot features."""
        return np.log(weights) + features @ log_theta.reshape(len(weights), -1).T

    @staticmethod
    def _e_step(log_joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = np.max(log_joint, axis=1, keepdims=True)
        e = np.exp(log_joint - top)
        total = e.sum(axis=1, keepdims=True)
        return e / total, (top + np.log(total))[:, 0]

    def _m_step(self, features: np.ndarray, responsibilities: np.ndarray, s: np.ndarray | None,
                D: int, V: int) -> tuple[np.ndarray, np.ndarray]:
        r = responsibilities if s is None else responsibilities * s[:, None]
        n_k = r.sum(axis=0)
        counts = (r.T @ features).reshape(-1, D, V) + self.alpha
        theta = counts / counts.sum(axis=2, keepdims=True)      # = (counts + alpha) / (N_k + V alpha)
        weights = (n_k + 10 * np.finfo(np.float64).eps) / (n_k.sum() + 10 * len(n_k) * np.finfo(np.float64).eps)
        return weights, theta

    def fit(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> CategoricalMixture:
        """Fit by EM from ``n_init`` initialisations; returns self."""
        X = self._check_categories(X, self.n_categories)
        n, D = X.shape
        s = check_sample_weight(sample_weight, n)
        K = check_positive_int(self.n_components, "n_components")
        check_positive_int(self.max_iter, "max_iter")
        if K > n:
            raise ValueError(f"n_components={K} must be <= n_samples={n}")
        check_positive(self.alpha, "alpha")       # > 0 keeps log theta finite
        check_nonnegative(self.tol, "tol")
        if self.init not in ("kmeans++", "random"):
            raise ValueError(f"init must be 'kmeans++' or 'random', got {self.init!r}")
        V = int(X.max()) + 1 if self.n_categories is None else check_count(self.n_categories, "n_categories")
        if n * D * V > MAX_ONE_HOT_ENTRIES:  # the E- and M-steps hold the one-hot table (n, D V)
            raise ValueError(f"{V} categories for {n} samples of {D} features need a one-hot table of "
                             f"{n * D * V * 8 / 2**30:.3g} GiB; recode X to small indices 0..V-1 (a categorical "
                             "mixture is for small alphabets) or pass a smaller n_categories")
        features = one_hot(X, V)
        rng = as_generator(self.seed)
        best = None
        for _ in range(check_positive_int(self.n_init, "n_init")):
            if self.init == "random":
                resp = rng.random((n, K))
                resp /= resp.sum(axis=1, keepdims=True)
            else:
                resp = hard_responsibilities(X.astype(float), kmeans_plusplus_centres(X.astype(float), K, rng, s))
            weights, theta = self._m_step(features, resp, s, D, V)
            history, converged = [], False
            for iteration in range(self.max_iter + 1):
                resp, log_px = self._e_step(self._log_joint(features, weights, np.log(theta)))
                history.append(float(np.average(log_px, weights=s)))
                if iteration > 0 and abs(history[-1] - history[-2]) < self.tol:
                    converged = True
                    break
                if iteration == self.max_iter:
                    break
                weights, theta = self._m_step(features, resp, s, D, V)
            if best is None or history[-1] > best[2][-1]:
                best = (weights, theta, history, converged)
        self.weights_, self.probabilities_, history, self.converged_ = best
        self.log_likelihood_history_ = np.array(history)
        self.n_iter_ = len(history) - 1
        self.n_features_in_, self.n_categories_ = D, V
        return self

    # ------------------------------------------------------------------------------------- inference
    def _log_joint_of(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "probabilities_")
        X = self._check_categories(X, self.n_categories_)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but the model was fitted on {self.n_features_in_}")
        return self._log_joint(one_hot(X, self.n_categories_), self.weights_, np.log(self.probabilities_))

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """log p(x) in nats for each sample."""
        return self._e_step(self._log_joint_of(X))[1]

    def score(self, X: ArrayLike) -> float:
        """Mean log-likelihood in nats (its negative is the test NLL the digits models report)."""
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Responsibilities p(k|x), shape (n, K)."""
        return self._e_step(self._log_joint_of(X))[0]

    def predict(self, X: ArrayLike) -> np.ndarray:
        return np.argmax(self.predict_proba(X), axis=1)

    def sample(self, n: int, rng: Seed = None) -> np.ndarray:
        """n samples, shape (n, D), integer-valued: a component k by inverse transform on w, then every
        feature by inverse transform on theta_{k,d,.} (x_d = the number of cumulative probabilities <= u)."""
        check_is_fitted(self, "probabilities_")
        rng = as_generator(rng)
        components = sample_discrete(self.weights_, check_positive_int(n, "n"), rng)
        cdf = np.cumsum(self.probabilities_[components], axis=2)            # (n, D, V)
        u = rng.random(cdf.shape[:2])[:, :, None] * cdf[:, :, -1:]
        return np.minimum(np.sum(cdf <= u, axis=2), self.n_categories_ - 1).astype(np.float64)
