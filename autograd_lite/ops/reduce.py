"""Reductions: sum, mean, var, max, min, logsumexp, and the softmax family.

    d sum(x)/dx_i = 1                       (the gradient is broadcast back over the reduced axes)
    d max(x)/dx_i = [x_i = max] / #ties     (ties share the gradient equally)
    d logsumexp(x)/dx_i = softmax(x)_i
    softmax backward:     dx = y * (dy - sum(dy * y))
    log_softmax backward: dx = dy - softmax(x) * sum(dy)
    log_softmax_pick:     y = x_c - logsumexp(x),  dx = dy * ([i = c] - softmax(x)_i)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.function import Function
from autograd_lite.grad_mode import is_grad_enabled
from autograd_lite.ops._util import as_tensor, check_axis, keepdims_shape, normalize_axis
from autograd_lite.ops.elementwise import exp
from autograd_lite.ops.shape import broadcast_to, reshape
from autograd_lite.tensor import Tensor, check_count, check_flag

Axis = int | tuple[int, ...] | None


def _expand(gy: Tensor, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """Put the reduced axes back into gy (as length-1 axes) so it broadcasts against the input."""
    return gy if keepdims else reshape(gy, keepdims_shape(shape, axes))


class Sum(Function):
    def __init__(self, axes: tuple[int, ...], keepdims: bool):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.array_namespace(x).sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        shape = self.inputs[0].shape
        return broadcast_to(_expand(gy, shape, self.axes, self.keepdims), shape)


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    x = as_tensor(x)
    return Sum(normalize_axis(axis, x.ndim), check_flag(keepdims, "keepdims"))(x)


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """mean = sum / (number of reduced elements)"""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes]))
    if count == 0:
        raise ValueError(f"mean of an empty selection (shape {x.shape}, axis {axis})")
    return Sum(axes, check_flag(keepdims, "keepdims"))(x) * (1.0 / count)


def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """var = sum((x - mean)^2) / (n - ddof), NumPy's convention (ddof=0 by default)."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    keepdims = check_flag(keepdims, "keepdims")
    ddof = check_count(ddof, "ddof", minimum=0)
    count = int(np.prod([x.shape[a] for a in axes]))
    if count - ddof <= 0:
        raise ValueError(f"var needs more than ddof={ddof} elements, got {count}")
    centred = x - mean(x, axes, keepdims=True)
    return Sum(axes, keepdims)(centred * centred) * (1.0 / (count - ddof))


class _Extreme(Function):
    """max or min over axes; the gradient goes to the elements that attain it, shared at ties."""

    reduce = "max"  # the namespace function's name

    def __init__(self, axes: tuple[int, ...], keepdims: bool):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return getattr(backend.array_namespace(x), self.reduce)(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        xp = backend.array_namespace(x.data)
        y = self.output.data if self.keepdims else xp.reshape(self.output.data, keepdims_shape(x.shape, self.axes))
        winners = xp.astype(x.data == y, x.data.dtype)
        share = winners / xp.sum(winners, axis=self.axes, keepdims=True)
        return broadcast_to(_expand(gy, x.shape, self.axes, self.keepdims), x.shape) * Tensor._from_array(share)


class Max(_Extreme):
    reduce = "max"


class Min(_Extreme):
    reduce = "min"


def _check_nonempty(x: Tensor, axes: tuple[int, ...], name: str) -> None:
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{name} of an empty axis (shape {x.shape})")


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    _check_nonempty(x, axes, "max")
    return Max(axes, check_flag(keepdims, "keepdims"))(x)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    _check_nonempty(x, axes, "min")
    return Min(axes, check_flag(keepdims, "keepdims"))(x)


def _stable_max(x: Any, axes: tuple[int, ...]) -> Any:
    """max over axes (keepdims), with non-finite maxima replaced by 0 so x - m never makes NaN."""
    xp = backend.array_namespace(x)
    m = xp.max(x, axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0.0)


class LogSumExp(Function):
    """y = log sum_i exp(x_i), computed as m + log sum_i exp(x_i - m) with m = max x (no overflow)."""

    def __init__(self, axes: tuple[int, ...], keepdims: bool):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        xp = backend.array_namespace(x)
        m = _stable_max(x, self.axes)
        y = xp.log(xp.sum(xp.exp(x - m), axis=self.axes, keepdims=True)) + m
        return y if self.keepdims else xp.reshape(y, tuple(n for i, n in enumerate(y.shape) if i not in self.axes))

    def backward(self, gy):
        x = self.inputs[0]
        y = _expand(self.output, x.shape, self.axes, self.keepdims)
        return _expand(gy, x.shape, self.axes, self.keepdims) * exp(x - y)


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    _check_nonempty(x, axes, "logsumexp")
    return LogSumExp(axes, check_flag(keepdims, "keepdims"))(x)


class Softmax(Function):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m) along one axis."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        xp = backend.array_namespace(x)
        e = xp.exp(x - _stable_max(x, (self.axis,)))
        e /= xp.sum(e, axis=self.axis, keepdims=True)
        return e

    def backward(self, gy):
        y = self.output
        return y * (gy - sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - logsumexp(x) along one axis."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        xp = backend.array_namespace(x)
        shifted = x - _stable_max(x, (self.axis,))
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, gy):
        return gy - exp(self.output) * sum(gy, axis=self.axis, keepdims=True)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return Softmax(check_axis(axis, x.ndim))(x)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    return LogSoftmax(check_axis(axis, x.ndim))(x)


def _index_along(index: Any, axis: int, shape: tuple[int, ...]) -> Any:
    """``index`` broadcast to x's ``shape`` without ``axis``, with that axis put back as length 1."""
    index = index.data if isinstance(index, Tensor) else index
    xp = backend.array_namespace(index)
    target = tuple(n for i, n in enumerate(shape) if i != axis)
    try:
        if np.broadcast_shapes(tuple(index.shape), target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"log_softmax_pick: index of shape {tuple(index.shape)} does not broadcast to x's shape "
                         f"without axis {axis}, {target}") from None
    return xp.expand_dims(xp.broadcast_to(index, target), axis=axis)


def _flat_offsets(index: np.ndarray, axis: int, shape: tuple[int, ...]) -> np.ndarray:
    """Offsets into a C-contiguous array of ``shape`` of the entries ``index`` picks along ``axis`` (index is
    shaped like it with that axis of length 1): ``take_along_axis`` as one flat gather, ~10x faster."""
    before, n, after = int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))
    picked = np.broadcast_to(index, keepdims_shape(shape, (axis,))).reshape(before, after)
    rows = np.arange(before, dtype=np.int64)[:, None] * (n * after)
    return (rows + picked * after + np.arange(after, dtype=np.int64)).reshape(-1)


class LogSoftmaxPick(Function):
    """y = log softmax(x)[c] = x_c - logsumexp(x) along one axis, for the categories c in ``index``
    (a categorical log-likelihood; cross-entropy is its negative). One op instead of log_softmax, a one-hot
    mask, a product and a sum: fewer passes over x, and no (…, categories) temporaries in the graph.
    The forward keeps softmax(x), so the backward needs no second exp."""

    def __init__(self, axis: int, index: Any):
        self.axis, self.index = axis, index

    def forward(self, x):
        xp = backend.array_namespace(x)
        if backend.is_numpy(x):
            x = np.ascontiguousarray(x)  # the flat offsets below assume C order
        m = _stable_max(x, (self.axis,))
        probabilities = x - m
        if backend.is_numpy(x):
            np.exp(probabilities, out=probabilities)  # in place: one (…, categories) array, not two
        else:
            probabilities = xp.exp(probabilities)
        total = xp.sum(probabilities, axis=self.axis, keepdims=True)
        log_norm = xp.log(total) + m  # logsumexp
        probabilities /= total
        self.probabilities = probabilities  # softmax(x), for the backward
        if backend.is_numpy(x):
            self.offsets = _flat_offsets(self.index, self.axis, x.shape)
            picked = x.reshape(-1)[self.offsets].reshape(np.squeeze(log_norm, self.axis).shape)
            return picked - np.squeeze(log_norm, axis=self.axis)
        picked = xp.take_along_axis(x, self.index, axis=self.axis)
        return xp.squeeze(picked - log_norm, axis=self.axis)

    def backward(self, gy):
        x = self.inputs[0]
        if not is_grad_enabled() and backend.is_numpy(x.data):
            # A plain backward (no graph recorded): -gy * softmax(x), then + gy at each picked category,
            # on one new array; the differentiable form below serves gradients of gradients.
            gx = self.probabilities * -np.expand_dims(gy.data, self.axis)
            gx.reshape(-1)[self.offsets] += gy.data.reshape(-1)  # each offset once: no repeated indices
            return Tensor._from_array(gx)
        xp = backend.array_namespace(x.data)
        along_axis = tuple(-1 if i == self.axis else 1 for i in range(x.ndim))
        categories = xp.reshape(xp.arange(x.shape[self.axis]), along_axis)
        one_hot = Tensor._from_array(xp.astype(self.index == categories, x.dtype))
        g = reshape(gy, keepdims_shape(x.shape, (self.axis,)))
        return g * one_hot - g * softmax(x, axis=self.axis)


def log_softmax_pick(x: Tensor, index: Any, axis: int = -1) -> Tensor:
    """log softmax(x)[index] along ``axis``: ``index`` holds whole-number categories, shaped like x without
    ``axis`` (or broadcastable to it); the result has that shape. Equal to
    ``take_along_axis(log_softmax(x, axis), index)``, with a gradient only for x."""
    x = as_tensor(x)
    axis = check_axis(axis, x.ndim)
    if not hasattr(index, "shape") or isinstance(index, Tensor):
        try:
            index = np.asarray(index.data if isinstance(index, Tensor) else index)
        except ValueError:  # ragged
            index = np.asarray(None)
    host = backend.to_device(index, "cpu")  # the checks read the categories on the host
    if host.dtype.kind not in "iu":
        raise TypeError(f"log_softmax_pick: index must hold integers, got dtype {host.dtype}")
    n = x.shape[axis]
    if host.size and (int(host.min()) < 0 or int(host.max()) >= n):
        raise ValueError(f"log_softmax_pick: index must lie in [0, {n}), got {int(host.min())}..{int(host.max())}")
    index = _index_along(index if backend.is_numpy(x.data) else backend.to_device(index, x.device), axis, x.shape)
    return LogSoftmaxPick(axis, index)(x)
