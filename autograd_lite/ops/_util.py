"""Small helpers shared by the op families: turning operands into Tensors, and axis bookkeeping."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.tensor import Tensor, check_data


def as_tensor(x: Any, like: Tensor | None = None, name: str = "x") -> Tensor:
    """``x`` as a Tensor; a number or array joins ``like``'s dtype and device (a constant, no grad).

    Anything but real-number data is a TypeError naming the argument ``name`` (NumPy would turn None into NaN).
    """
    if isinstance(x, Tensor):
        return x
    check_data(x, name)
    if like is None:
        return Tensor(x)
    xp = backend.array_namespace(like.data)
    if xp is np:
        return Tensor._from_array(np.asarray(x, dtype=like.data.dtype))
    if hasattr(x, "__array_namespace__") and x.__array_namespace__() is not xp:
        raise ValueError(f"{name} lives on {x.__array_namespace__().__name__}, the tensor on {xp.__name__}")
    return Tensor._from_array(xp.asarray(x, dtype=like.data.dtype))


def as_tensor_pair(a: Any, b: Any, names: tuple[str, str] = ("a", "b")) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; numbers and arrays take the dtype of the Tensor operand."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a, name=names[1])
    if isinstance(b, Tensor):
        return as_tensor(a, like=b, name=names[0]), b
    return as_tensor(a, name=names[0]), as_tensor(b, name=names[1])


def _is_int(a: Any) -> bool:
    return isinstance(a, int | np.integer) and not isinstance(a, bool | np.bool_)


def normalize_axis(axis: int | tuple[int, ...] | None, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < max(ndim, 1):  # the hot path
        return (axis % max(ndim, 1),)
    if _is_int(axis):
        axes = (axis,)
    elif isinstance(axis, tuple | list) and all(_is_int(a) for a in axis):
        axes = tuple(axis)
    else:
        raise TypeError(f"{name} must be an int, a tuple of ints or None, got {axis!r}")
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{name} {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {name} {axis}")
    return tuple(sorted(out))


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """One axis (an int, negative counting from the end) as a non-negative int; None is refused."""
    if not _is_int(axis):
        raise TypeError(f"{name} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        what = name if "ax" in name else f"{name}: axis"  # start_dim: axis 3 is out of range ...
        raise ValueError(f"{what} {axis} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % ndim


def check_shape(shape: Any, name: str = "shape", allow_infer: bool = False) -> tuple[int, ...]:
    """A shape: a tuple (or list) of non-negative ints, or one int; with ``allow_infer`` -1 may stand for
    the size to infer (reshape checks that there is one at most)."""
    if type(shape) is tuple:  # the hot path (backward passes: x.shape of some tensor): Python ints
        for n in shape:
            if type(n) is not int:
                break
        else:
            if not shape or min(shape) >= (-1 if allow_infer else 0):
                return shape
    dims = (shape,) if _is_int(shape) else shape
    if not isinstance(dims, tuple | list) or not all(_is_int(n) for n in dims):
        raise TypeError(f"{name} must be a tuple of ints, got {shape!r}")
    dims = tuple(int(n) for n in dims)
    if any(n < (-1 if allow_infer else 0) for n in dims):
        rule = "non-negative sizes (or -1)" if allow_infer else "non-negative sizes"
        raise ValueError(f"{name} must hold {rule}, got {shape!r}")
    return dims


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
