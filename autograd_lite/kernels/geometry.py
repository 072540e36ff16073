"""Shapes of convolution and pooling windows, and the checks that turn bad input into a clear ValueError.

For one spatial axis of size ``size``, a kernel of ``k`` taps spaced ``d`` apart (dilation), stride ``s``
and zero padding ``pad`` on both sides, the window of output i covers input rows i*s + p*d - pad,
p = 0..k-1, and there are

    out = (size + 2*pad - d*(k - 1) - 1) // s + 1

outputs. A transposed convolution inverts that map; ``output_padding`` picks among the input sizes
that give the same ``out``:  size = (out - 1)*s - 2*pad + d*(k - 1) + output_padding + 1.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

Pair = tuple[int, int]


def pair(value: int | Sequence[int], name: str) -> Pair:
    """``value`` as (height, width): an int is used for both axes."""
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    try:
        values = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(values[0]), int(values[1])


def check_geometry(stride: Pair, padding: Pair, dilation: Pair = (1, 1)) -> None:
    if min(stride) < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if min(padding) < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    if min(dilation) < 1:
        raise ValueError(f"dilation must be >= 1, got {dilation}")


def conv_geometry(stride: int | Sequence[int], padding: int | Sequence[int],
                  dilation: int | Sequence[int] = 1) -> tuple[Pair, Pair, Pair]:
    """A convolution's stride, padding and dilation as checked pairs."""
    pairs = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(*pairs)
    return pairs


def pool_window(kernel_size: int | Sequence[int], stride: int | Sequence[int] | None,
                padding: int | Sequence[int]) -> tuple[Pair, Pair, Pair]:
    """A pooling window's kernel size, stride (the kernel size when None) and padding as checked pairs."""
    kernel_hw = pair(kernel_size, "kernel_size")
    stride_hw = kernel_hw if stride is None else pair(stride, "stride")
    padding_hw = pair(padding, "padding")
    check_geometry(stride_hw, padding_hw)
    if min(kernel_hw) < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_hw}")
    if padding_hw[0] > kernel_hw[0] // 2 or padding_hw[1] > kernel_hw[1] // 2:
        raise ValueError(f"padding {padding_hw} must be at most half the kernel size {kernel_hw}")
    return kernel_hw, stride_hw, padding_hw


def check_rank4(shape: tuple[int, ...], name: str, what: str) -> None:
    if len(shape) != 4:
        raise ValueError(f"{name} must be 4-D {what}, got shape {tuple(shape)}")


def conv_output_size(
    input_hw: Sequence[int], kernel_hw: Pair, stride: Pair, padding: Pair, dilation: Pair
) -> Pair:
    """The output (height, width) of a convolution; ValueError if the kernel overhangs the padded input."""
    sizes = []
    for axis in range(2):
        span = dilation[axis] * (kernel_hw[axis] - 1) + 1
        padded = input_hw[axis] + 2 * padding[axis]
        if span > padded:
            raise ValueError(
                f"kernel {tuple(kernel_hw)} (dilation {tuple(dilation)}, spanning {span} pixels) is larger "
                f"than the padded input {tuple(input_hw)} + 2*padding {tuple(padding)}"
            )
        sizes.append((padded - span) // stride[axis] + 1)
    return sizes[0], sizes[1]


def transposed_output_size(
    input_hw: Sequence[int], kernel_hw: Pair, stride: Pair, padding: Pair, output_padding: Pair, dilation: Pair
) -> Pair:
    """The output (height, width) of a transposed convolution (the input size of the matching conv)."""
    for axis in range(2):
        # (PyTorch also allows output_padding < dilation; then the extra rows are no conv's input, so the
        # transposed conv stops being the adjoint of a conv. We keep the rule that makes it one.)
        if not 0 <= output_padding[axis] < stride[axis]:
            raise ValueError(
                f"output_padding {tuple(output_padding)} must be >= 0 and smaller than stride {tuple(stride)}"
            )
    sizes = tuple(
        (input_hw[a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel_hw[a] - 1)
        + output_padding[a] + 1
        for a in range(2)
    )
    if min(sizes) < 1:
        raise ValueError(
            f"transposed convolution of input {tuple(input_hw)} with kernel {tuple(kernel_hw)}, stride "
            f"{tuple(stride)}, padding {tuple(padding)} has an empty output {sizes}"
        )
    return sizes  # type: ignore[return-value]
