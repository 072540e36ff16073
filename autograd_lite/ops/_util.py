"""Small helpers shared by the op families: turning operands into Tensors, and axis bookkeeping."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.tensor import Tensor


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; a number or array joins ``like``'s dtype and device (a constant, no grad)."""
    if isinstance(x, Tensor):
        return x
    if like is None:
        return Tensor(x)
    xp = backend.array_namespace(like.data)
    if xp is np:
        if isinstance(x, np.ndarray | np.generic) and x.dtype.kind not in "biuf":
            raise TypeError(f"cannot combine a Tensor with an array of dtype {x.dtype}")
        if isinstance(x, str | bytes):
            raise TypeError(f"cannot combine a Tensor with {type(x).__name__}")
        return Tensor._from_array(np.asarray(x, dtype=like.data.dtype))
    if hasattr(x, "__array_namespace__") and x.__array_namespace__() is not xp:
        raise ValueError(f"operand lives on {x.__array_namespace__().__name__}, the tensor on {xp.__name__}")
    return Tensor._from_array(xp.asarray(x, dtype=like.data.dtype))


def as_tensor_pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; numbers and arrays take the dtype of the Tensor operand."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    if isinstance(b, Tensor):
        return as_tensor(a, like=b), b
    return Tensor(a), Tensor(b)


def normalize_axis(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
