"""Checks at the door, shared by every part of scratchgen: each names the argument and what was expected, so
bad input fails with a ValueError or TypeError at the call, never as a NaN or an error deep inside NumPy.

(The estimators' array checks, ``check_data`` and friends, live in ``scratchgen.density._validation`` and use
these.)
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from autograd_lite.nn.init import as_generator as _as_generator
from autograd_lite.tensor import check_count as _engine_check_count
from autograd_lite.tensor import check_fraction, check_nonnegative, check_number, check_positive


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """An integer >= ``minimum``; a fraction such as 2.5 is a ValueError here (a number, just not a count),
    everything else as the engine's ``check_count``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_ | numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return _engine_check_count(value, name, minimum)


def check_real(value: Any, name: str) -> float:
    """A finite real number."""
    return check_number(value, name)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (named as a tuple, as the configs print them)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


# check_positive, check_nonnegative and check_fraction are the engine's, imported above: one wording of each
# message across both packages
__all__ = ["as_generator", "check_callable", "check_choice", "check_count", "check_finite_array", "check_fraction",
           "check_nonnegative", "check_positive", "check_real", "check_real_array"]


def check_callable(value: Any, name: str) -> Any:
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}")
    return value


def as_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from a Generator, a non-negative int seed or None; anything else is refused by name."""
    try:
        return _as_generator(rng)
    except (TypeError, ValueError) as error:
        message = str(error)
        raise type(error)(f"{name}{message[3:]}" if message.startswith("rng:") else f"{name}: {message}") from None


def check_real_array(value: Any, name: str) -> np.ndarray:
    """A float64 array of real numbers (NaN and inf allowed: the caller decides), refusing None, strings,
    objects and complex numbers by name."""
    if value is None:
        raise TypeError(f"{name} must be an array of real numbers, got None")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:   # ragged nested lists and the like
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}") from error
    if array.dtype == object or np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number)
                                                                or array.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def check_finite_array(value: Any, name: str, ndim: int | tuple[int, ...] | None = None,
                       min_size: int = 1) -> np.ndarray:
    """A finite float64 array with ``ndim`` axes (one of them, if a tuple) and at least ``min_size`` values."""
    array = check_real_array(value, name)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and array.ndim not in allowed:
        raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {array.shape}")
    if array.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value(s), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array
