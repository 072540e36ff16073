"""Ops that move numbers around without changing them: their gradients move the numbers back.

broadcast_to <-> sum_to are each other's gradient; so are reshape <-> reshape, transpose <-> the inverse
permutation, getitem <-> scatter-add, concat/stack <-> slicing, pad <-> cropping.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.function import Function
from autograd_lite.ops._util import as_tensor, check_axis, check_shape
from autograd_lite.tensor import Tensor


# ----- broadcasting and its undo -----
def sum_to_array(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` over the axes that broadcasting added or stretched, giving ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    if not axes:
        return x
    xp = backend.array_namespace(x)
    y = xp.sum(x, axis=axes, keepdims=True)
    return xp.reshape(y, shape) if lead else y


class SumTo(Function):
    """y = x summed down to ``shape`` (the un-broadcast every binary op's backward calls)."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)

    def forward(self, x):
        self.input_shape = x.shape
        return sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.input_shape)


class BroadcastTo(Function):
    """y = x repeated along broadcast axes; dL/dx = dL/dy summed back (sum_to)."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)

    def forward(self, x):
        self.input_shape = x.shape
        xp = backend.array_namespace(x)
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.input_shape)


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Un-broadcast: sum ``x`` to ``shape`` (a no-op when the shapes already agree)."""
    x = as_tensor(x)
    if x.shape == shape:  # the hot path: every binary op's backward, mostly with nothing to sum
        return x
    shape = check_shape(shape)
    lead = x.ndim - len(shape)  # x must be what broadcasting shape gives (checked in Python: it is on the hot path)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, x.shape[lead:])):
        raise ValueError(f"cannot sum shape {x.shape} to shape {shape} (it must broadcast to it)")
    if x.shape == shape:
        return x
    return SumTo(shape)(x)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    x = as_tensor(x)
    shape = check_shape(shape)
    if x.shape == shape:
        return x
    try:
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"cannot broadcast shape {x.shape} to {shape}") from None
    return BroadcastTo(shape)(x)


# ----- reshaping -----
class Reshape(Function):
    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape

    def forward(self, x):
        self.input_shape = x.shape
        return backend.array_namespace(x).reshape(x, self.shape)

    def backward(self, gy):
        return reshape(gy, self.input_shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``reshape(x, 2, 3)`` or ``reshape(x, (2, 3))``; one -1 is inferred."""
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    shape = check_shape(shape, allow_infer=True)
    if shape == x.shape:
        return x
    known = int(np.prod([n for n in shape if n != -1]))
    if shape.count(-1) > 1 or (-1 not in shape and known != x.size) or (
        -1 in shape and (known == 0 or x.size % known)
    ):
        raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into shape {shape}")
    return Reshape(shape)(x)


def flatten(x: Tensor, start_dim: int = 0) -> Tensor:
    """Merge the axes from ``start_dim`` on into one (``flatten(x, 1)`` keeps the batch axis)."""
    x = as_tensor(x)
    start_dim = check_axis(start_dim, max(x.ndim, 1), "start_dim")
    return reshape(x, x.shape[:start_dim] + (-1,))


def squeeze(x: Tensor, axis: int | tuple[int, ...] | None = None) -> Tensor:
    x = as_tensor(x)
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    if not isinstance(axis, tuple | list):
        axis = (axis,)
    axes = {check_axis(a, x.ndim) for a in axis}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of size {x.shape[a]} (shape {x.shape})")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (negative counts from the end of the new shape)."""
    x = as_tensor(x)
    axis = check_axis(axis, x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


class Transpose(Function):
    def __init__(self, axes: tuple[int, ...]):
        self.axes = axes

    def forward(self, x):
        xp = backend.array_namespace(x)
        return xp.permute_dims(x, self.axes) if xp is not np else x.transpose(self.axes)

    def backward(self, gy):
        return Transpose(tuple(np.argsort(self.axes)))(gy)


def transpose(x: Tensor, *axes: Any) -> Tensor:
    """Reverse the axes (no arguments), or permute them: ``transpose(x, 0, 2, 1)``."""
    x = as_tensor(x)
    if len(axes) == 1 and isinstance(axes[0], tuple | list):
        axes = tuple(axes[0])
    axes = tuple(range(x.ndim))[::-1] if not axes else tuple(check_axis(a, x.ndim, "axes") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose(axes)(x)


permute = transpose


def swapaxes(x: Tensor, axis1: int, axis2: int) -> Tensor:
    x = as_tensor(x)
    axis1, axis2 = check_axis(axis1, x.ndim, "axis1"), check_axis(axis2, x.ndim, "axis2")
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


# ----- indexing -----
def _normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become host (NumPy) arrays, so NumPy reads them as advanced indices
    (other namespaces gather by integer arrays on the host, and ``_index_on_device`` moves masks back)."""
    def one(i):
        if isinstance(i, Tensor):
            data = backend.to_device(i.data, "cpu")
            return data.astype(np.intp) if data.dtype.kind == "f" else data
        if isinstance(i, list):
            return np.asarray(i)
        return i

    return tuple(one(i) for i in index) if isinstance(index, tuple) else one(index)


def _has_integer_array(index: Any) -> bool:
    """Does the index pick elements by integer arrays (which may repeat an element)?"""
    parts = index if isinstance(index, tuple) else (index,)
    return any(getattr(p, "ndim", 0) > 0 and backend.dtype_name(p.dtype).startswith(("int", "uint")) for p in parts)


def _index_on_device(index: Any, x: Any) -> Any:
    """An index for a non-NumPy array: its index arrays moved to x's device, and a trailing Ellipsis where the
    array-API standard wants every axis named (NumPy and CuPy fill the missing axes in silently)."""
    device = backend.device_of(x)
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(backend.to_device(i, device) if isinstance(i, np.ndarray) else i for i in parts)
    named = sum(i.ndim if hasattr(i, "ndim") and backend.dtype_name(i.dtype) == "bool" else 1
                for i in parts if i is not None and i is not Ellipsis)  # a mask names as many axes as it has
    sole_mask = len(parts) == 1 and hasattr(parts[0], "ndim") and backend.dtype_name(parts[0].dtype) == "bool"
    # (a mask must be the sole index, and may name fewer axes than x has)
    if not sole_mask and not any(i is Ellipsis for i in parts) and named < x.ndim:  # `in` would compare arrays
        parts += (Ellipsis,)
    return parts


class GetItem(Function):
    """y = x[index]; dL/dx is dL/dy scattered back (added) into a zero array of x's shape."""

    def __init__(self, index: Any):
        self.index = index

    def forward(self, x):
        self.input_shape = x.shape
        if not backend.is_numpy(x) and _has_integer_array(self.index):
            # The array-API standard's integer-array indexing is narrow (one array per axis, no slices beside
            # it): other namespaces gather on the host, with NumPy's rules, and move the result back.
            return backend.to_device(backend.to_device(x, "cpu")[self.index], backend.device_of(x))
        return x[self.index]

    def backward(self, gy):
        return ScatterAdd(self.index, self.input_shape)(gy)


class ScatterAdd(Function):
    """y = zeros(shape) with y[index] += x (repeated indices add up); the gradient of getitem."""

    def __init__(self, index: Any, shape: tuple[int, ...]):
        self.index = index
        self.shape = shape

    def forward(self, gy):
        xp = backend.array_namespace(gy)
        out = xp.zeros(self.shape, dtype=gy.dtype)
        if _has_integer_array(self.index):
            if not hasattr(xp, "add") or not hasattr(xp.add, "at"):  # the array-API standard has no scatter-add
                host = backend.to_device(out, "cpu")
                np.add.at(host, self.index, backend.to_device(gy, "cpu"))  # the index stayed on the host
                return backend.to_device(host, backend.device_of(gy))
            xp.add.at(out, self.index, gy)  # repeated indices must accumulate, not overwrite
        else:  # slices and masks touch each element at most once
            parts = self.index if isinstance(self.index, tuple) else (self.index,)
            if any(i is None for i in parts):  # the standard's setitem takes no None: drop the new axes
                index = tuple(i for i in parts if i is not None)
                out[index] = xp.reshape(gy, out[index].shape)
            else:
                out[self.index] = gy
        return out

    def backward(self, ggx):
        return GetItem(self.index)(ggx)


def _check_index(index: Any) -> None:
    """TypeError naming ``index`` unless each part is what NumPy indexes with (a float or a string would be an
    IndexError from deep inside NumPy, an out-of-range integer stays one)."""
    for part in index if isinstance(index, tuple) else (index,):
        if part is None or part is Ellipsis or isinstance(part, int | np.integer | bool | np.bool_):
            continue
        if isinstance(part, slice):
            if all(v is None or isinstance(v, int | np.integer) for v in (part.start, part.stop, part.step)):
                continue
        elif hasattr(part, "dtype") and hasattr(part, "shape"):
            if np.dtype(backend.dtype_name(part.dtype)).kind in "biu":
                continue
        raise TypeError(
            f"index must be made of integers, slices, None, Ellipsis and integer or boolean arrays, got {part!r}"
        )


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] for slices, integers, None, Ellipsis, integer arrays and boolean masks."""
    x = as_tensor(x)
    index = given = _normalize_index(index)
    _check_index(index)
    on_host = not backend.is_numpy(x.data) and _has_integer_array(index)
    if not backend.is_numpy(x.data) and not on_host:
        index = _index_on_device(index, x.data)
    try:  # validate early so the error points at the user's index, not at backward
        np.broadcast_to(np.empty((), np.int8), x.shape)[index] if on_host else x.data[index]
    except IndexError as error:
        raise IndexError(f"index {given!r} is invalid for a tensor of shape {x.shape}: {error}") from None
    return GetItem(index)(x)


# ----- joining and padding -----
class Concat(Function):
    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return backend.array_namespace(*xs).concat(xs, axis=self.axis) if not isinstance(
            xs[0], np.ndarray) else np.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        lead = (slice(None),) * self.axis
        for size in self.sizes:
            grads.append(gy[lead + (slice(start, start + size),)])
            start += size
        return tuple(grads)


def _check_join(tensors: Sequence[Any], axis: int, what: str, same_axis: bool) -> tuple[list, int]:
    if not isinstance(tensors, list | tuple):
        raise TypeError(f"{what}: tensors must be a list or tuple of Tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ValueError(f"{what} needs at least one tensor")
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    tensors = [as_tensor(t, like=like, name=f"tensors[{i}]") for i, t in enumerate(tensors)]
    ndim = tensors[0].ndim + (0 if same_axis else 1)
    axis = check_axis(axis, ndim)
    for t in tensors[1:]:
        a, b = list(tensors[0].shape), list(t.shape)
        if same_axis and len(a) == len(b):
            a.pop(axis)
            b.pop(axis)
        if a != b:
            raise ValueError(f"{what}: shapes {tensors[0].shape} and {t.shape} do not match")
    return tensors, axis


def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors, axis = _check_join(tensors, axis, "concat", same_axis=True)
    return Concat(axis)(*tensors)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    tensors, axis = _check_join(tensors, axis, "stack", same_axis=False)
    return Concat(axis)(*[unsqueeze(t, axis) for t in tensors])


class Pad(Function):
    """Constant padding; the gradient crops the padding off again."""

    def __init__(self, pad_width: tuple[tuple[int, int], ...], value: float):
        self.pad_width = pad_width
        self.value = value

    def forward(self, x):
        xp = backend.array_namespace(x)
        if xp is np:
            return np.pad(x, self.pad_width, constant_values=self.value)
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, self.pad_width))
        out = xp.full(shape, self.value, dtype=x.dtype)
        out[self._inner(x.shape)] = x
        return out

    def _inner(self, shape):
        return tuple(slice(a, a + n) for n, (a, _) in zip(shape, self.pad_width))

    def backward(self, gy):
        (x,) = self.inputs
        return gy[self._inner(x.shape)]


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant, NumPy-style ``pad_width``: an int, (before, after), or one pair per axis."""
    x = as_tensor(x)
    try:
        widths = np.asarray(pad_width)
    except ValueError:  # ragged
        widths = np.asarray(None)
    if widths.dtype.kind not in "iu":  # np.asarray(0.5, int64) would be a silent 0, "3" a silent 3
        raise TypeError(f"pad_width must be an int, a pair or one pair per axis of ints, got {pad_width!r}")
    if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
        raise TypeError(f"pad: value must be a real number, got {value!r}")
    if widths.ndim == 0:
        widths = np.full((x.ndim, 2), widths)
    elif widths.shape == (2,):
        widths = np.tile(widths, (x.ndim, 1))
    if widths.shape != (x.ndim, 2):
        raise ValueError(f"pad_width must be an int, a pair or {x.ndim} pairs, got {pad_width}")
    if (widths < 0).any():
        raise ValueError(f"pad_width must be non-negative, got {pad_width}")
    return Pad(tuple((int(a), int(b)) for a, b in widths), value)(x)
