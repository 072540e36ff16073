"""Convolutions, pooling and upsampling as differentiable ops (NCHW, PyTorch's weight layouts).

    conv2d            y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]
    conv_transpose2d  its adjoint in x: y[n, o, i*sh + p*dh - ph, j*sw + q*dw - pw] += w[c,o,p,q] x[n,c,i,j]

The two are each other's input gradient, and the weight gradient is a third op, ``Conv2dWeightGrad``
(dw[o,c,p,q] = sum_{n,i,j} gy[n,o,i,j] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]), bilinear in (x, gy)
with gradients that are again a conv and a transposed conv. So every backward here is made of these
differentiable ops and gradients of gradients work (a conv critic with a gradient penalty needs them).
Pooling and upsampling follow the same pattern: max pooling's gradient scatters onto the winning pixels
and its gradient gathers from them; average pooling and its gradient are each other's adjoint; so are
nearest upsampling and block summing. The array work lives in ``autograd_lite.kernels``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd_lite import kernels
from autograd_lite.function import Function
from autograd_lite.grad_mode import is_grad_enabled
from autograd_lite.ops._util import as_tensor
from autograd_lite.ops.reduce import sum
from autograd_lite.tensor import Tensor

IntOrPair = int | Sequence[int]


def _bias_grad(gy: Tensor) -> Tensor:
    """db[o] = sum_{n,i,j} gy[n, o, i, j]; the batch axis first (NumPy sums (0, 2, 3) at once 5x slower)."""
    return sum(sum(gy, axis=0), axis=(1, 2))


class Conv2d(Function):
    def __init__(self, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, weight, bias=None):
        return kernels.conv2d_forward(x, weight, bias, self.stride, self.padding, self.dilation)

    def backward(self, gy):
        x, weight = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        geometry = (self.stride, self.padding, self.dilation)
        if needs[0] and needs[1] and not is_grad_enabled():
            # No graph is being recorded (a plain backward, not create_graph): the same two gradients,
            # computed in one pass over the batch. The differentiable form below serves grad-of-grad.
            gx, gw = (Tensor._from_array(g) for g in kernels.conv2d_backward(x.data, gy.data, weight.data, *geometry))
        else:
            gx = ConvTranspose2d(*geometry, output_hw=x.shape[2:])(gy, weight) if needs[0] else None
            gw = Conv2dWeightGrad(weight.shape[2:], *geometry)(x, gy) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        return gx, gw, _bias_grad(gy) if needs[2] else None


class ConvTranspose2d(Function):
    """The transposed convolution with its output size given (that fixes output_padding)."""

    def __init__(self, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair, output_hw: Sequence[int]):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.output_hw = tuple(output_hw)

    def forward(self, x, weight, bias=None):
        output_shape = (x.shape[0], weight.shape[1], *self.output_hw)
        y = kernels.conv2d_input_grad(x, weight, output_shape, self.stride, self.padding, self.dilation)
        return y if bias is None else kernels.add_channel_bias(y, bias)

    def backward(self, gy):
        x, weight = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        geometry = (self.stride, self.padding, self.dilation)
        if needs[0] and needs[1] and not is_grad_enabled():  # no graph recorded: one pass, as in Conv2d
            gx, gw = (Tensor._from_array(g) for g in kernels.conv_transpose2d_backward(x.data, gy.data, weight.data,
                                                                                       *geometry))
        else:
            gx = Conv2d(*geometry)(gy, weight) if needs[0] else None
            # dw[c, o, p, q] = sum x[n, c, i, j] gy[n, o, i*sh + p*dh - ph, ...]: the conv weight gradient with
            # gy in the role of the conv's input and x in the role of its output gradient.
            gw = Conv2dWeightGrad(weight.shape[2:], *geometry)(gy, x) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        return gx, gw, _bias_grad(gy) if needs[2] else None


class Conv2dWeightGrad(Function):
    """dw[o,c,p,q] = sum_{n,i,j} gy[n,o,i,j] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw], as an op of (x, gy).

    It is bilinear, so its gradients are: d/dx = conv_transpose2d(gy, g), d/dgy = conv2d(x, g).
    """

    def __init__(self, kernel_hw: Sequence[int], stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair):
        self.kernel_hw = tuple(kernel_hw)
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, gy):
        return kernels.conv2d_weight_grad(x, gy, self.kernel_hw, self.stride, self.padding, self.dilation)

    def backward(self, g):
        x, gy = self.inputs
        geometry = (self.stride, self.padding, self.dilation)
        gx = ConvTranspose2d(*geometry, output_hw=x.shape[2:])(gy, g) if self.needs_input_grad[0] else None
        ggy = Conv2d(*geometry)(x, g) if self.needs_input_grad[1] else None
        return gx, ggy


def _operands(x: Any, weight: Any, bias: Any) -> tuple[Tensor, Tensor, Tensor | None]:
    """The operands as Tensors, named as the kernels' messages name them (x is PyTorch's ``input``)."""
    weight = as_tensor(weight, name="weight")
    x = as_tensor(x, like=weight, name="input")
    return x, weight, None if bias is None else as_tensor(bias, like=weight, name="bias")


def conv2d(
    x: Any, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Tensor:
    """y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw].

    x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None.
    """
    x, weight, bias = _operands(x, weight, bias)
    operands = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d(stride, padding, dilation)(*operands)


def conv_transpose2d(
    x: Any, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0,
    output_padding: IntOrPair = 0, dilation: IntOrPair = 1,
) -> Tensor:
    """y[n, o, i*sh + p*dh - ph, j*sw + q*dw - pw] += w[c,o,p,q] x[n,c,i,j], plus b[o]: conv2d's adjoint.

    x: (N, C_in, H, W); weight: (C_in, C_out, kH, kW); output height
    (H - 1)*sh - 2*ph + dh*(kH - 1) + output_padding + 1, likewise the width.
    """
    x, weight, bias = _operands(x, weight, bias)
    bias_data = None if bias is None else bias.data
    output_hw = kernels.conv_transpose2d_output_hw(
        x.data, weight.data, bias_data, stride, padding, output_padding, dilation
    )
    operands = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d(stride, padding, dilation, output_hw)(*operands)


# ------------------------------------------------------------------------------------------------- pooling
class MaxPool2d(Function):
    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None, padding: IntOrPair):
        self.window = (kernel_size, stride, padding)

    def forward(self, x):
        y, self.argmax = kernels.max_pool2d_forward(x, *self.window)
        return y

    def backward(self, gy):
        (x,) = self.inputs
        return MaxPool2dScatter(self.argmax, x.shape, self.window)(gy)


class MaxPool2dScatter(Function):
    """Each output's gradient goes to the pixel that won its window; the gradient of that is a gather."""

    def __init__(self, argmax: Any, input_shape: Sequence[int], window: tuple):
        self.argmax, self.input_shape, self.window = argmax, tuple(input_shape), window

    def forward(self, gy):
        return kernels.max_pool2d_scatter(gy, self.argmax, self.input_shape, *self.window)

    def backward(self, g):
        return MaxPool2dGather(self.argmax, self.input_shape, self.window)(g)


class MaxPool2dGather(Function):
    def __init__(self, argmax: Any, input_shape: Sequence[int], window: tuple):
        self.argmax, self.input_shape, self.window = argmax, tuple(input_shape), window

    def forward(self, image):
        return kernels.max_pool2d_gather(image, self.argmax, *self.window)

    def backward(self, g):
        return MaxPool2dScatter(self.argmax, self.input_shape, self.window)(g)


class AvgPool2d(Function):
    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None, padding: IntOrPair):
        self.window = (kernel_size, stride, padding)

    def forward(self, x):
        return kernels.avg_pool2d_forward(x, *self.window)

    def backward(self, gy):
        (x,) = self.inputs
        return AvgPool2dScatter(x.shape, self.window)(gy)


class AvgPool2dScatter(Function):
    """Each output's gradient shared equally over its window; its own gradient is average pooling again."""

    def __init__(self, input_shape: Sequence[int], window: tuple):
        self.input_shape, self.window = tuple(input_shape), window

    def forward(self, gy):
        return kernels.avg_pool2d_scatter(gy, self.input_shape, *self.window)

    def backward(self, g):
        return AvgPool2d(*self.window)(g)


def max_pool2d(x: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> Tensor:
    """y[n,c,i,j] = max_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw] (stride defaults to the kernel size)."""
    return MaxPool2d(kernel_size, stride, padding)(as_tensor(x, name="input"))


def avg_pool2d(x: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> Tensor:
    """y[n,c,i,j] = 1/(kH*kW) sum_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw] (zero padding counts)."""
    return AvgPool2d(kernel_size, stride, padding)(as_tensor(x, name="input"))


# ---------------------------------------------------------------------------------------------- upsampling
class UpsampleNearest2d(Function):
    def __init__(self, scale_factor: IntOrPair):
        self.scale_factor = scale_factor

    def forward(self, x):
        return kernels.upsample_nearest2d_forward(x, self.scale_factor)

    def backward(self, gy):
        return UpsampleNearest2dBackward(self.scale_factor)(gy)


class UpsampleNearest2dBackward(Function):
    """The sum over each sh x sw block; its gradient copies back to the block (nearest upsampling)."""

    def __init__(self, scale_factor: IntOrPair):
        self.scale_factor = scale_factor

    def forward(self, gy):
        return kernels.upsample_nearest2d_backward(gy, self.scale_factor)

    def backward(self, g):
        return UpsampleNearest2d(self.scale_factor)(g)


def upsample_nearest2d(x: Tensor, scale_factor: IntOrPair = 2) -> Tensor:
    """y[n, c, i, j] = x[n, c, i // sh, j // sw]: every pixel becomes an sh x sw block."""
    return UpsampleNearest2d(scale_factor)(as_tensor(x, name="input"))
