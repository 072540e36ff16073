"""What the models of points or digits share: their data check, the config properties built on ``data``, and
the argument checks every model file needs beside ``scratchgen._checks`` (layer widths, timesteps, intervals)."""
from __future__ import annotations

import json
import numbers
from dataclasses import asdict
from typing import Any

import numpy as np

from scratchgen._checks import check_choice, check_real, check_real_array

IMAGE_SHAPE, N_PIXELS, MAX_PIXEL = (8, 8), 64, 16.0


class PointsOrDigitsConfig:
    """Mixin for a model config dataclass with a ``data`` field: ``"digits"`` or a 2-D toy set's name."""

    data: str

    @property
    def is_image(self) -> bool:
        return self.data == "digits"

    @property
    def data_dim(self) -> int:
        return N_PIXELS if self.is_image else 2

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Any:
        """The config from its JSON dict (unknown keys refused, naming them)."""
        check_mapping(values, "values")
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {unknown}")
        return cls(**values)


def check_points_or_digits(x: Any, name: str, is_image: bool) -> np.ndarray:
    """The data of a model of points or digits, validated: (n, 2) finite points, or digits (n, 8, 8) / (n, 64)
    with values in [0, 16], as float64 (digits flattened to (n, 64))."""
    a = check_real_array(x, name)
    if is_image:
        if a.ndim == 3 and a.shape[1:] == IMAGE_SHAPE:
            a = a.reshape(len(a), N_PIXELS)
        if a.ndim != 2 or a.shape[1] != N_PIXELS:
            raise ValueError(f"{name} must be digits of shape (n, 8, 8) or (n, 64), got {a.shape}")
        if not np.all(np.isfinite(a)) or a.min(initial=0) < 0 or a.max(initial=0) > MAX_PIXEL:
            raise ValueError(f"{name} must hold pixel values in [0, 16] (no NaN or inf)")
    else:
        if a.ndim != 2 or a.shape[1] != 2:
            raise ValueError(f"{name} must be 2-D points of shape (n, 2), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    if len(a) == 0:
        raise ValueError(f"{name} is empty")
    return a


# ----- argument checks the model files share -----------------------------------------------------------------
def check_mapping(value: Any, name: str) -> dict[str, Any]:
    """A dict (a config's JSON object, a checkpoint's metadata)."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    return value


def check_kind(config: Any, expected: str) -> None:
    """A config's ``kind`` field is its class's own: it is what picks the class when a checkpoint is read."""
    check_choice(config.kind, "kind", (expected,))


def check_sizes(value: Any, name: str, length: int | None = None, min_length: int = 1) -> tuple[int, ...]:
    """A sequence of positive integers (layer widths, channels, a shape) as a tuple of ints; ``length`` fixes
    how many."""
    if not isinstance(value, (list, tuple, range, np.ndarray)) or np.ndim(value) != 1:
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
    sizes = tuple(value)
    if (length is not None and len(sizes) != length) or len(sizes) < min_length:
        count = f"exactly {length}" if length is not None else f"at least {min_length}"
        raise ValueError(f"{name} must hold {count} positive integer(s), got {value!r}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
        if size < 1:
            raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    return tuple(int(s) for s in sizes)


def check_interval(value: Any, name: str) -> tuple[float, float]:
    """A pair (low, high) of finite numbers with low < high (a clipping range)."""
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}")
    low, high = (check_real(v, name) for v in value)
    if not low < high:
        raise ValueError(f"{name} must be a pair (low, high) with low < high, got {value!r}")
    return low, high


def check_timesteps(t: Any, timesteps: int, name: str = "t", n: int | None = None, low: int = 1,
                    of: str = "x") -> np.ndarray:
    """Diffusion timesteps as int64: whole numbers in ``low``..``timesteps``, a scalar or one per row of a batch
    of ``n`` (the rows of the argument ``of``)."""
    a = check_real_array(t, name)
    if a.ndim > 1 or (n is not None and a.ndim == 1 and a.size not in (1, n)):
        raise ValueError(f"{name} must be a scalar or one timestep per row of {of} ({n}), got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} holds no timestep")
    if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)) or a.min() < low or a.max() > timesteps:
        raise ValueError(f"{name} must hold whole timesteps in {low}..{timesteps}, got {t!r}")
    return a.astype(np.int64)


def as_real_array(values: Any, name: str) -> np.ndarray:
    """Host data as an array of real numbers (None, strings, objects, complex refused by name); a real
    ndarray passes as is, without a copy (the hot paths hand these over every step)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values
    return check_real_array(values, name)
