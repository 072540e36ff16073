"""What the models of points or digits share: their data check and the config properties built on ``data``."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import numpy as np

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
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {unknown}")
        return cls(**values)


def check_points_or_digits(x: Any, name: str, is_image: bool) -> np.ndarray:
    """The data of a model of points or digits, validated: (n, 2) finite points, or digits (n, 8, 8) / (n, 64)
    with values in [0, 16], as float64 (digits flattened to (n, 64))."""
    a = np.asarray(x, dtype=np.float64)
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
