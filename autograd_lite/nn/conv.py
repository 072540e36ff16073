"""Convolution, pooling and upsampling layers (NCHW), thin Modules over ``autograd_lite.ops.conv``.

Weights are initialised like PyTorch's: w, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with
fan_in = C_in*kH*kW for Conv2d and C_out*kH*kW for ConvTranspose2d (the axis PyTorch calls fan_in of a
weight stored as (C_in, C_out, kH, kW)).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_lite import kernels
from autograd_lite.kernels.geometry import conv_geometry, pair, pool_window
from autograd_lite.nn import init
from autograd_lite.nn.module import Module, Parameter
from autograd_lite.ops import conv as conv_ops
from autograd_lite.tensor import Tensor, check_choice, check_flag, check_float_dtype, get_default_dtype

IntOrPair = int | Sequence[int]


def _uniform_parameter(shape: tuple[int, ...], bound: float, rng: np.random.Generator, dtype: Any) -> Parameter:
    dtype = get_default_dtype() if dtype is None else check_float_dtype(dtype, "dtype")
    return init.uniform_(Parameter(np.zeros(shape, dtype=dtype)), -bound, bound, rng)


def _check_channels(in_channels: int, out_channels: int, layer: str) -> None:
    for value, name in ((in_channels, "in_channels"), (out_channels, "out_channels")):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
            raise TypeError(f"{layer}: {name} must be an integer, got {value!r} ({type(value).__name__})")
    if in_channels <= 0 or out_channels <= 0:
        raise ValueError(
            f"{layer} needs positive channel counts, got in_channels={in_channels}, out_channels={out_channels}"
        )


def _kernel_size(kernel_size: IntOrPair) -> tuple[int, int]:
    kernel_hw = pair(kernel_size, "kernel_size")
    if min(kernel_hw) < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size!r}")
    return kernel_hw


class Conv2d(Module):
    """y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw];
    weight (C_out, C_in, kH, kW)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
        padding: IntOrPair = 0, dilation: IntOrPair = 1, bias: bool = True, rng: Any = None, dtype: Any = None,
    ):
        super().__init__()
        _check_channels(in_channels, out_channels, "Conv2d")
        self.kernel_size = _kernel_size(kernel_size)
        conv_geometry(stride, padding, dilation)  # checked here, not at the first forward
        bias = check_flag(bias, "bias")
        rng = init.as_generator(rng)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.padding, self.dilation = stride, padding, dilation
        bound = 1.0 / math.sqrt(in_channels * self.kernel_size[0] * self.kernel_size[1])
        self.weight = _uniform_parameter((out_channels, in_channels, *self.kernel_size), bound, rng, dtype)
        self.bias = _uniform_parameter((out_channels,), bound, rng, dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return conv_ops.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, bias={self.bias is not None}"
        )


class ConvTranspose2d(Module):
    """The adjoint of Conv2d in x (upsamples by the stride); weight (C_in, C_out, kH, kW); output size
    (H - 1)*sh - 2*ph + dh*(kH - 1) + output_padding + 1."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
        padding: IntOrPair = 0, output_padding: IntOrPair = 0, dilation: IntOrPair = 1, bias: bool = True,
        rng: Any = None, dtype: Any = None,
    ):
        super().__init__()
        _check_channels(in_channels, out_channels, "ConvTranspose2d")
        self.kernel_size = _kernel_size(kernel_size)
        stride_hw = conv_geometry(stride, padding, dilation)[0]
        output_padding_hw = pair(output_padding, "output_padding")
        if not all(0 <= p < s for p, s in zip(output_padding_hw, stride_hw)):
            raise ValueError(f"output_padding {output_padding_hw} must be >= 0 and smaller than stride {stride_hw}")
        bias = check_flag(bias, "bias")
        rng = init.as_generator(rng)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.padding, self.output_padding, self.dilation = stride, padding, output_padding, dilation
        bound = 1.0 / math.sqrt(out_channels * self.kernel_size[0] * self.kernel_size[1])
        self.weight = _uniform_parameter((in_channels, out_channels, *self.kernel_size), bound, rng, dtype)
        self.bias = _uniform_parameter((out_channels,), bound, rng, dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return conv_ops.conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.dilation
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, output_padding={self.output_padding}, bias={self.bias is not None}"
        )


class MaxPool2d(Module):
    """y[n,c,i,j] = max over the window; stride defaults to the kernel size."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0):
        super().__init__()
        pool_window(kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return conv_ops.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """y[n,c,i,j] = the mean over the window (zero padding counts); stride defaults to the kernel size."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0):
        super().__init__()
        pool_window(kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return conv_ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Upsample(Module):
    """Nearest-neighbour upsampling by an integer factor: y[n, c, i, j] = x[n, c, i // s, j // s]."""

    def __init__(self, scale_factor: IntOrPair = 2, mode: str = "nearest"):
        super().__init__()
        check_choice(mode, "mode", ("nearest",))
        kernels.check_scale_factor(scale_factor)
        self.scale_factor, self.mode = scale_factor, mode

    def forward(self, x: Tensor) -> Tensor:
        return conv_ops.upsample_nearest2d(x, self.scale_factor)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
