"""Checks at the door, shared by every part of scratchgen: each names the argument and what was expected, so
bad input fails with a ValueError or TypeError at the call, never as a NaN or an error deep inside NumPy.

(The estimators' array checks, ``check_data`` and friends, live in ``scratchgen.density._validation`` and use
these.)
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from autograd_lite.nn.init import as_generator as _as_generator


def _is_real_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (a bool is refused: ``True`` is not a count)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if not isinstance(value, numbers.Integral):   # a fraction (or NaN) is a number, just not a count
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_real(value: Any, name: str) -> float:
    """A finite real number."""
    if not _is_real_number(value):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def check_positive(value: Any, name: str) -> float:
    """A finite number > 0."""
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


def check_nonnegative(value: Any, name: str) -> float:
    """A finite number >= 0."""
    value = check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value}")
    return value


def check_fraction(value: Any, name: str, closed: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``closed``), e.g. a dropout rate or a decay."""
    value = check_real(value, name)
    if not (0 <= value <= 1 if closed else 0 <= value < 1):
        raise ValueError(f"{name} must be in [0, 1{']' if closed else ')'}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


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
