"""Generative classifier: class-conditional densities and class priors, combined by Bayes' rule.

  p(x, y) = p(x | y) p(y)
  p(y | x) = p(x | y) p(y) / p(x),        p(x) = sum_c p(x | c) p(c)

Unlike a discriminative model of p(y|x) alone, it also gives p(x): a point unlike every class gets a low
log p(x), which flags it as out-of-distribution even when p(y|x) looks certain.
"""
from __future__ import annotations

import copy

import numpy as np
from numpy.typing import ArrayLike

from scratchgen._checks import check_real_array

from ._validation import check_data, check_is_fitted, check_labels, logsumexp_rows


class GenerativeClassifier:
    """Bayes classifier from one density estimator per class.

    Parameters
    ----------
    estimator : an unfitted density estimator with ``fit(X)`` and ``score_samples(X)`` (log density), e.g.
        ``GaussianMixture(3)``, ``KernelDensity()`` or ``CategoricalMixture(5)``; each class gets a copy.
    priors : p(y) per class, in the order of the sorted class labels (default: the class frequencies).

    Fitted: ``classes_``, ``estimators_`` (one per class), ``log_priors_``.
    """

    def __init__(self, estimator, priors: np.ndarray | None = None):
        self.estimator = estimator
        self.priors = priors

    def fit(self, X: ArrayLike, y: ArrayLike) -> GenerativeClassifier:
        """Fit p(x | y = c) on the samples of each class c, and p(y)."""
        X = check_data(X)
        y = check_labels(y, len(X))
        if not (hasattr(self.estimator, "fit") and hasattr(self.estimator, "score_samples")):
            raise TypeError("estimator must have fit(X) and score_samples(X) methods")
        self.classes_, counts = np.unique(y, return_counts=True)
        if self.priors is None:
            priors = counts / counts.sum()
        else:
            priors = check_real_array(self.priors, "priors")
            if priors.shape != self.classes_.shape or np.any(priors < 0) or not np.isclose(priors.sum(), 1):
                raise ValueError(f"priors must be {len(self.classes_)} non-negative numbers summing to 1 "
                                 f"(one per class {self.classes_.tolist()}), got {self.priors!r}")
        with np.errstate(divide="ignore"):
            self.log_priors_ = np.log(priors)
        self.estimators_ = []
        for c in self.classes_:
            estimator = copy.deepcopy(self.estimator)
            try:
                estimator.fit(X[y == c])
            except ValueError as error:
                raise ValueError(f"fitting the density of class {c!r}: {error}") from error
            self.estimators_.append(estimator)
        return self

    def joint_log_likelihood(self, X: ArrayLike) -> np.ndarray:
        """log p(x, y=c) = log p(x | c) + log p(c), shape (n, n_classes)."""
        check_is_fitted(self, "estimators_")
        X = check_data(X)
        return np.column_stack([e.score_samples(X) for e in self.estimators_]) + self.log_priors_

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """log p(x) = log sum_c p(x | c) p(c): low values flag out-of-distribution inputs."""
        return logsumexp_rows(self.joint_log_likelihood(X))

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """log p(y | x) = log p(x, y) - log p(x), shape (n, n_classes).

        Where p(x) = 0 (log p(x | c) = -inf for every class: x outside every class's support, e.g. beyond a
        compact kernel's reach or outside a bounded KDE) the posterior is 0 / 0, undefined: a ValueError
        names those rows rather than return NaN. ``score_samples`` still gives them log p(x) = -inf.
        """
        joint = self.joint_log_likelihood(X)
        log_evidence = logsumexp_rows(joint)
        impossible = np.flatnonzero(log_evidence == -np.inf)
        if len(impossible):
            raise ValueError(
                f"X rows {impossible[:5].tolist()}{' ...' if len(impossible) > 5 else ''} have zero density "
                "under every class (log p(x | c) = -inf for all c), so p(y | x) is undefined there; "
                "score_samples(X) flags them as out-of-distribution (-inf); a kernel with unbounded support "
                "(gaussian, exponential) gives every point a posterior")
        return joint - log_evidence[:, None]

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """p(y | x) by Bayes' rule, shape (n, n_classes); rows sum to 1."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class argmax_c p(c | x)."""
        log_posterior = self.predict_log_proba(X)
        return self.classes_[np.argmax(log_posterior, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy of ``predict`` on (X, y)."""
        predicted = self.predict(X)
        y = check_labels(y, len(predicted))
        return float(np.mean(predicted == y))
