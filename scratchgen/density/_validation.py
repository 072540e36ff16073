"""Checks at the door: every estimator validates its input here once, with messages that name the argument."""
from __future__ import annotations

import numbers

import numpy as np

from scratchgen._checks import check_real_array

Seed = np.random.Generator | int | None

# The estimators square the data (covariances, squared distances, sums of squares over n samples): beyond
# this magnitude those squares overflow float64 (max ~1.8e308), so such data is refused, not turned into NaN.
MAX_ABS_VALUE = 1e150


def check_data(X, name: str = "X", n_features: int | None = None, min_samples: int = 1) -> np.ndarray:
    """``X`` as a finite float64 array of shape (n_samples, n_features).

    A 1-D array is read as n one-dimensional samples (the lecture's examples are 1-D).
    """
    try:
        array = np.asarray(X)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers, got {type(X).__name__}") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got complex dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D (n,) or 2-D (n_samples, n_features), got shape {array.shape}")
    if array.shape[0] < min_samples or array.shape[1] == 0:
        raise ValueError(f"{name} needs at least {min_samples} sample(s) and 1 feature, got {array.shape}")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute those values first")
    largest = float(np.max(np.abs(array)))
    if largest > MAX_ABS_VALUE:
        raise ValueError(f"{name} has values up to {largest:.3g}: their squares overflow float64 (the limit is "
                         f"|x| <= {MAX_ABS_VALUE:.0e}); rescale {name}, e.g. divide it by its standard deviation")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"{name} has {array.shape[1]} features, but the model was fitted on {n_features}")
    return array


def check_sample_weight(sample_weight, n_samples: int, name: str = "sample_weight") -> np.ndarray | None:
    """Non-negative finite weights of shape (n_samples,) with a positive sum, or None (all equal)."""
    if sample_weight is None:
        return None
    weights = check_real_array(sample_weight, name)
    if weights.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},), one weight per sample, got {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"{name} contains NaN or infinity")
    if np.any(weights < 0):
        raise ValueError(f"{name} must be non-negative, got minimum {weights.min()}")
    if weights.sum() <= 0:
        raise ValueError(f"{name} must have a positive sum")
    return weights


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_labels(y, n: int, name: str = "y") -> np.ndarray:
    """Class labels, one per sample: a 1-D array of numbers or strings (sortable, comparable)."""
    if y is None:
        raise TypeError(f"{name} must be an array of class labels, got None")
    labels = np.asarray(y)
    if labels.dtype == object or np.iscomplexobj(labels):
        raise TypeError(f"{name} must hold numbers or strings as class labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per sample, got {labels.shape}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError(f"{name} contains NaN or infinity")
    return labels


class NotFittedError(ValueError, RuntimeError):
    """An estimator used before ``fit``: a ValueError, as scikit-learn's (and a RuntimeError, as it was)."""


def check_is_fitted(estimator, attribute: str) -> None:
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"this {type(estimator).__name__} is not fitted yet: call fit(X) first")


def logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """log sum_j exp(a_ij) for each row i, shifted by the row maximum so nothing overflows."""
    top = np.max(a, axis=1)
    top = np.where(np.isfinite(top), top, 0.0)  # rows that are all -inf stay -inf, without NaN
    with np.errstate(divide="ignore"):
        return top + np.log(np.sum(np.exp(a - top[:, None]), axis=1))
