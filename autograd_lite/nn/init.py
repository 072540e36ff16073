"""Weight initialisation, each taking an ``rng`` (numpy Generator or seed) so runs are reproducible.

fan_in / fan_out of a weight of shape (out, in, *kernel) are in * prod(kernel) and out * prod(kernel).

    xavier_uniform:  U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))      (Glorot & Bengio, 2010)
    xavier_normal:   N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform: U(-a, a),  a = gain * sqrt(3 / fan)                     (He et al., 2015)
    kaiming_normal:  N(0, s^2), s = gain / sqrt(fan)
with gain = sqrt(2 / (1 + negative_slope^2)) for (leaky) ReLU.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.ops._util import check_shape
from autograd_lite.tensor import Tensor, check_choice, check_nonnegative, check_number


def as_generator(rng: np.random.Generator | int | None, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from a Generator (used as is), an int seed (same seed, same stream) or None
    (fresh OS entropy). The one place in both packages that turns ``rng`` into a Generator; errors name the
    argument ``name``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name}: a seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name}: expected a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
        " (the legacy np.random.RandomState is not supported; use np.random.default_rng(seed))"
    )


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    shape = check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"fan_in/fan_out need a weight with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _check_tensor(tensor: Any) -> None:
    if not isinstance(tensor, Tensor):  # filled in place: an array or a list would be left untouched
        raise TypeError(f"tensor must be a Tensor (e.g. a layer's weight), got {type(tensor).__name__}")


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.data = backend.to_device(values.astype(backend.dtype_name(tensor.dtype)), tensor.device)
    return tensor


def uniform_(tensor: Tensor, low: float = 0.0, high: float = 1.0, rng: Any = None) -> Tensor:
    _check_tensor(tensor)
    low, high = check_number(low, "low"), check_number(high, "high")
    if low > high:
        raise ValueError(f"low ({low}) must not be greater than high ({high})")
    return _fill(tensor, as_generator(rng).uniform(low, high, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, rng: Any = None) -> Tensor:
    _check_tensor(tensor)
    mean, std = check_number(mean, "mean"), check_nonnegative(std, "std")
    return _fill(tensor, mean + std * as_generator(rng).standard_normal(tensor.shape))


def zeros_(tensor: Tensor) -> Tensor:
    _check_tensor(tensor)
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor: Tensor) -> Tensor:
    _check_tensor(tensor)
    return _fill(tensor, np.ones(tensor.shape))


def _fans_of(tensor: Any) -> tuple[int, int]:
    _check_tensor(tensor)
    fan_in, fan_out = fans(tensor.shape)
    if fan_in == 0 or fan_out == 0:
        raise ValueError(f"tensor of shape {tensor.shape} has no fan_in/fan_out (an axis of length 0)")
    return fan_in, fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, rng: Any = None) -> Tensor:
    fan_in, fan_out = _fans_of(tensor)
    bound = check_nonnegative(gain, "gain") * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, rng: Any = None) -> Tensor:
    fan_in, fan_out = _fans_of(tensor)
    return normal_(tensor, 0.0, check_nonnegative(gain, "gain") * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _relu_gain(negative_slope: float) -> float:
    return math.sqrt(2.0 / (1 + check_number(negative_slope, "negative_slope") ** 2))


def kaiming_uniform_(tensor: Tensor, negative_slope: float = 0.0, mode: str = "fan_in", rng: Any = None) -> Tensor:
    fan = _fan(tensor, mode)
    bound = _relu_gain(negative_slope) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(tensor: Tensor, negative_slope: float = 0.0, mode: str = "fan_in", rng: Any = None) -> Tensor:
    fan = _fan(tensor, mode)
    return normal_(tensor, 0.0, _relu_gain(negative_slope) / math.sqrt(fan), rng)


def _fan(tensor: Tensor, mode: str) -> int:
    check_choice(mode, "mode", ("fan_in", "fan_out"))
    fan_in, fan_out = _fans_of(tensor)
    return fan_in if mode == "fan_in" else fan_out
