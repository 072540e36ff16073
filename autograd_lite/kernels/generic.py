"""Every kernel again, written with array-API operations only (slicing, stack, matmul, tensordot, sums).

This is the path for arrays that are not NumPy's (CuPy on a GPU; ``array_api_strict`` in the tests, which
proves nothing NumPy-only sneaks in) and for NumPy when numba is switched off
(``AUTOGRAD_LITE_DISABLE_NUMBA=1``). It is also the readable statement of what the numba kernels compute.

A convolution is im2col + one batched matmul. With the column matrix

    cols[n, (c, p, q), (i, j)] = x_padded[n, c, i*sh + p*dh, j*sw + q*dw]

the output is y[n, o, (i, j)] = sum_{(c,p,q)} w[o, (c,p,q)] cols[n, (c,p,q), (i,j)]. im2col gathers one
strided slice of the padded image per kernel offset (p, q); col2im, its adjoint, adds them back.
Geometry (output sizes, checks) is the caller's job: these functions trust their arguments.
"""
from __future__ import annotations

from typing import Any

from autograd_lite.backend import array_namespace
from autograd_lite.kernels.geometry import Pair

Array = Any


def _zeros(xp: Any, shape: tuple[int, ...], like: Array) -> Array:
    return xp.zeros(shape, dtype=like.dtype)


def _pad(x: Array, padding: Pair, fill: float = 0.0) -> Array:
    """x with ``padding`` rows/columns of ``fill`` on each side of its last two axes."""
    xp = array_namespace(x)
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    padded = xp.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = x
    return padded


def _window(p: int, q: int, stride: Pair, dilation: Pair, out_hw: Pair) -> tuple[slice, slice]:
    """The rows and columns of the padded image that kernel offset (p, q) sees, one per output pixel."""
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, out_hw
    return (
        slice(p * dh, p * dh + sh * (oh - 1) + 1, sh),
        slice(q * dw, q * dw + sw * (ow - 1) + 1, sw),
    )


def im2col(x: Array, kernel_hw: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair) -> Array:
    """cols[n, (c, p, q), (i, j)] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw] (0 outside the image)."""
    xp = array_namespace(x)
    n, c = x.shape[:2]
    padded = _pad(x, padding)
    patches = []
    for p in range(kernel_hw[0]):
        for q in range(kernel_hw[1]):
            rows, cols = _window(p, q, stride, dilation, out_hw)
            patches.append(padded[:, :, rows, cols])
    stacked = xp.stack(patches, axis=2)  # (n, c, kh*kw, oh, ow)
    return xp.reshape(stacked, (n, c * kernel_hw[0] * kernel_hw[1], out_hw[0] * out_hw[1]))


def col2im(
    cols: Array, image_shape: tuple[int, ...], kernel_hw: Pair, stride: Pair, padding: Pair,
    dilation: Pair, out_hw: Pair,
) -> Array:
    """The adjoint of im2col: every column entry is added back onto the pixel it was read from."""
    xp = array_namespace(cols)
    n, c, h, w = image_shape
    (kh, kw), (ph, pw) = kernel_hw, padding
    cols = xp.reshape(cols, (n, c, kh, kw, out_hw[0], out_hw[1]))
    padded = _zeros(xp, (n, c, h + 2 * ph, w + 2 * pw), cols)
    for p in range(kh):
        for q in range(kw):
            rows, columns = _window(p, q, stride, dilation, out_hw)
            padded[:, :, rows, columns] += cols[:, :, p, q, :, :]
    return padded[:, :, ph : ph + h, pw : pw + w]


def conv2d_forward(
    x: Array, w: Array, bias: Array | None, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair
) -> Array:
    """y[n, o, i, j] = b[o] + sum_{c,p,q} w[o, c, p, q] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]."""
    xp = array_namespace(x, w)
    n = x.shape[0]
    c_out = w.shape[0]
    cols = im2col(x, (w.shape[2], w.shape[3]), stride, padding, dilation, out_hw)
    y = xp.matmul(xp.reshape(w, (c_out, -1)), cols)  # (n, c_out, oh*ow)
    if bias is not None:
        y = y + xp.reshape(bias, (c_out, 1))
    return xp.reshape(y, (n, c_out, out_hw[0], out_hw[1]))


def conv2d_input_grad(
    grad_out: Array, w: Array, input_shape: tuple[int, ...], stride: Pair, padding: Pair, dilation: Pair
) -> Array:
    """dL/dx = col2im(w^T grad_out): the transposed convolution of grad_out with w."""
    xp = array_namespace(grad_out, w)
    n, c_out, oh, ow = grad_out.shape
    w_matrix = xp.reshape(w, (c_out, -1))
    cols = xp.matmul(w_matrix.T, xp.reshape(grad_out, (n, c_out, oh * ow)))
    return col2im(cols, input_shape, (w.shape[2], w.shape[3]), stride, padding, dilation, (oh, ow))


def conv2d_weight_grad(
    x: Array, grad_out: Array, kernel_hw: Pair, stride: Pair, padding: Pair, dilation: Pair
) -> Array:
    """dL/dw[o, (c,p,q)] = sum_{n,i,j} grad_out[n, o, i, j] cols[n, (c,p,q), (i,j)]."""
    xp = array_namespace(x, grad_out)
    n, c_out, oh, ow = grad_out.shape
    cols = im2col(x, kernel_hw, stride, padding, dilation, (oh, ow))
    dw = xp.tensordot(xp.reshape(grad_out, (n, c_out, oh * ow)), cols, axes=([0, 2], [0, 2]))
    return xp.reshape(dw, (c_out, x.shape[1], kernel_hw[0], kernel_hw[1]))


def max_pool2d_forward(
    x: Array, kernel_hw: Pair, stride: Pair, padding: Pair, out_hw: Pair
) -> tuple[Array, Array]:
    """y[n,c,i,j] = max_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw]; argmax = the first winning p*kw + q."""
    xp = array_namespace(x)
    padded = _pad(x, padding, fill=-float("inf"))
    windows = [
        padded[(slice(None), slice(None)) + _window(p, q, stride, (1, 1), out_hw)]
        for p in range(kernel_hw[0])
        for q in range(kernel_hw[1])
    ]
    stacked = xp.stack(windows, axis=0)
    return xp.max(stacked, axis=0), xp.argmax(stacked, axis=0)


def max_pool2d_scatter(
    grad_out: Array, argmax: Array, input_shape: tuple[int, ...], kernel_hw: Pair, stride: Pair,
    padding: Pair,
) -> Array:
    """dL/dx: each output's gradient goes to the input pixel that won its window."""
    xp = array_namespace(grad_out, argmax)
    n, c, h, w = input_shape
    ph, pw = padding
    out_hw = (grad_out.shape[2], grad_out.shape[3])
    padded = _zeros(xp, (n, c, h + 2 * ph, w + 2 * pw), grad_out)
    zero = xp.zeros((), dtype=grad_out.dtype)
    for p in range(kernel_hw[0]):
        for q in range(kernel_hw[1]):
            rows, cols = _window(p, q, stride, (1, 1), out_hw)
            padded[:, :, rows, cols] += xp.where(argmax == p * kernel_hw[1] + q, grad_out, zero)
    return padded[:, :, ph : ph + h, pw : pw + w]


def max_pool2d_gather(image: Array, argmax: Array, kernel_hw: Pair, stride: Pair, padding: Pair) -> Array:
    """out[n,c,i,j] = image at the pixel that won window (i, j): the adjoint of max_pool2d_scatter."""
    xp = array_namespace(image, argmax)
    padded = _pad(image, padding)
    out_hw = (argmax.shape[2], argmax.shape[3])
    out = _zeros(xp, tuple(argmax.shape), image)
    for p in range(kernel_hw[0]):
        for q in range(kernel_hw[1]):
            rows, cols = _window(p, q, stride, (1, 1), out_hw)
            out = xp.where(argmax == p * kernel_hw[1] + q, padded[:, :, rows, cols], out)
    return out


def avg_pool2d_forward(x: Array, kernel_hw: Pair, stride: Pair, padding: Pair, out_hw: Pair) -> Array:
    """y[n,c,i,j] = 1/(kh*kw) sum_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw] (padding counts as 0)."""
    xp = array_namespace(x)
    padded = _pad(x, padding)
    total = _zeros(xp, (x.shape[0], x.shape[1], out_hw[0], out_hw[1]), x)
    for p in range(kernel_hw[0]):
        for q in range(kernel_hw[1]):
            rows, cols = _window(p, q, stride, (1, 1), out_hw)
            total = total + padded[:, :, rows, cols]
    return total / (kernel_hw[0] * kernel_hw[1])


def avg_pool2d_scatter(
    grad_out: Array, input_shape: tuple[int, ...], kernel_hw: Pair, stride: Pair, padding: Pair
) -> Array:
    """dL/dx: each output's gradient is shared equally among the kh*kw pixels of its window."""
    xp = array_namespace(grad_out)
    n, c, h, w = input_shape
    ph, pw = padding
    out_hw = (grad_out.shape[2], grad_out.shape[3])
    share = grad_out / (kernel_hw[0] * kernel_hw[1])
    padded = _zeros(xp, (n, c, h + 2 * ph, w + 2 * pw), grad_out)
    for p in range(kernel_hw[0]):
        for q in range(kernel_hw[1]):
            rows, cols = _window(p, q, stride, (1, 1), out_hw)
            padded[:, :, rows, cols] += share
    return padded[:, :, ph : ph + h, pw : pw + w]


def upsample_nearest2d_forward(x: Array, scale: Pair) -> Array:
    """y[n, c, i, j] = x[n, c, i // sh, j // sw]: each pixel becomes an sh x sw block."""
    xp = array_namespace(x)
    n, c, h, w = x.shape
    sh, sw = scale
    blocks = xp.broadcast_to(xp.reshape(x, (n, c, h, 1, w, 1)), (n, c, h, sh, w, sw))
    return xp.reshape(blocks, (n, c, h * sh, w * sw))


def upsample_nearest2d_backward(grad_out: Array, scale: Pair) -> Array:
    """dL/dx[n, c, i, j] = the sum of grad_out over the sh x sw block that pixel (i, j) became."""
    xp = array_namespace(grad_out)
    n, c, big_h, big_w = grad_out.shape
    sh, sw = scale
    blocks = xp.reshape(grad_out, (n, c, big_h // sh, sh, big_w // sw, sw))
    return xp.sum(blocks, axis=(3, 5))
