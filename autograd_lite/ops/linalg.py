"""Matrix products.

    Y = A @ B       dA = dY @ B^T,  dB = A^T @ dY     (summed over broadcast batch axes)
    Y = X W^T + b   dX = dY @ W,    dW = dY^T X,  db = sum over rows of dY   (a fully connected layer)

1-D operands follow NumPy: a vector on the left is a row (1, n), on the right a column (n, 1), and the
added axis is dropped from the result.
"""
from __future__ import annotations

from typing import Any

from autograd_lite import backend
from autograd_lite.function import Function
from autograd_lite.ops._util import as_tensor, as_tensor_pair
from autograd_lite.ops.reduce import sum
from autograd_lite.ops.shape import reshape, sum_to, swapaxes, unsqueeze
from autograd_lite.tensor import Tensor


class MatMul(Function):
    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        # Promote vectors to matrices so one rule covers every case, then drop the added axes.
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, 1) if b.ndim == 1 else b
        if a.ndim == 1 and b.ndim == 1:  # vector . vector: gy is 0-d, the (1, 1) product of (1, n) @ (n, 1)
            gy = reshape(gy, (1, 1))
        elif a.ndim == 1:
            gy = unsqueeze(gy, -2)
        elif b.ndim == 1:
            gy = unsqueeze(gy, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = reshape(sum_to(matmul(gy, swapaxes(b2, -1, -2)), a2.shape), a.shape)
        if self.needs_input_grad[1]:
            gb = reshape(sum_to(matmul(swapaxes(a2, -1, -2), gy), b2.shape), b.shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    a, b = as_tensor_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs operands with at least one axis, got shapes {a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not match "
            f"(the last axis of the first, {inner_a}, must equal the contracted axis of the second, {inner_b})"
        )
    return MatMul()(a, b)


class Linear(Function):
    """y = x W^T + b for x of shape (..., in), W (out, in), b (out,) or no bias."""

    def forward(self, x, weight, bias=None):
        if x.ndim > 2:  # (..., in) as one (rows, in) GEMM: NumPy's stacked matmul is several times slower
            xp = backend.array_namespace(x)
            y = xp.reshape(x, (-1, x.shape[-1])) @ weight.T
            y = xp.reshape(y, (*x.shape[:-1], weight.shape[0]))
        else:
            y = x @ weight.T
        if bias is not None:
            y += bias  # in place: no second (batch, out) temporary
        return y

    def backward(self, gy):
        x, weight = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        if needs[0]:
            gx = matmul(gy, weight) if gy.ndim <= 2 else reshape(
                matmul(reshape(gy, (-1, gy.shape[-1])), weight), x.shape)
        else:
            gx = None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            gy2 = reshape(gy, (-1, gy.shape[-1])) if gy.ndim != 2 else gy
            if needs[1]:
                x2 = reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
                gw = matmul(swapaxes(gy2, 0, 1), x2)
            if len(needs) > 2 and needs[2]:
                gb = sum(gy2, axis=0)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The fully connected layer y = x W^T + b (PyTorch's layout: W has shape (out, in))."""
    weight = as_tensor(weight, name="weight")
    x = as_tensor(x, like=weight)
    bias = None if bias is None else as_tensor(bias, like=weight, name="bias")
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
            "(expected input (..., in) and weight (out, in))"
        )
    if bias is None:
        return Linear()(x, weight)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    return Linear()(x, weight, bias)
