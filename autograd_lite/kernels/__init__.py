"""Convolution, pooling and upsampling on raw arrays (no Tensor): the forwards and every backward piece.

    conv2d_forward / conv2d_input_grad / conv2d_weight_grad / conv2d_backward (both gradients at once)
    conv_transpose2d_forward / _input_grad / _weight_grad / _backward (both gradients at once)
    max_pool2d_forward (values + argmax) / max_pool2d_scatter / max_pool2d_gather
    avg_pool2d_forward / avg_pool2d_scatter
    upsample_nearest2d_forward / upsample_nearest2d_backward

Layout is PyTorch's: images (N, C, H, W), conv weights (C_out, C_in, kH, kW), transposed-conv weights
(C_in, C_out, kH, kW). The input gradient of a convolution *is* a transposed convolution and vice versa,
so the six conv functions are three computations under two names each.

Two implementations, one dispatch (``uses_numba``):

* numba (``numba_kernels``) for NumPy arrays: fused im2col + GEMM pipelines (two parallel kernels, a
  columns pass and a gradient pass, serve all the conv functions) and pooling loops, compiled once per
  dtype and cached on disk;
* generic (``generic``) for every other array module (CuPy, ``array_api_strict``) and for NumPy when the
  environment variable ``AUTOGRAD_LITE_DISABLE_NUMBA=1`` is set (or ``set_numba_enabled(False)``): only
  array-API operations, the readable statement of the same maths.

Threading: one pool. On 2 cores numba's pool and OpenBLAS's pool fight: OpenBLAS's idle threads spin
after each multi-threaded call, numba's OpenMP threads too, and a numba im2col followed by a two-thread
``np.matmul`` took 2-2.5x the CPU of the work itself. So each numba parallel iteration owns a block of
samples, builds its columns and calls BLAS itself, with BLAS held at one thread while the kernel runs
(``_Numba.one_blas_thread``); numba uses the ``workqueue`` layer (unless ``NUMBA_THREADING_LAYER`` says
otherwise), whose idle threads sleep instead of spinning. ``python bench/conv.py --threading`` compares the
set-ups (wall and CPU time per step); notes/issue3.md has the numbers.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from autograd_lite.backend import array_namespace
from autograd_lite.kernels import generic
from autograd_lite.kernels.geometry import (
    Pair,
    check_geometry,
    check_rank4,
    conv_output_size,
    pair,
    pool_window,
    transposed_output_size,
)

Array = Any
IntOrPair = int | Sequence[int]

DISABLE_NUMBA_VARIABLE = "AUTOGRAD_LITE_DISABLE_NUMBA"
_numba_enabled = os.environ.get(DISABLE_NUMBA_VARIABLE, "").strip().lower() not in ("1", "true", "yes")
_TARGET_BLOCK_COLUMNS = 1024  # columns per GEMM block: big enough for BLAS, small enough for the cache


def set_numba_enabled(enabled: bool) -> None:
    """Switch the numba kernels on or off for NumPy arrays (the generic path runs when off)."""
    global _numba_enabled
    _numba_enabled = bool(enabled)


def numba_enabled() -> bool:
    return _numba_enabled


def uses_numba(*arrays: Array) -> bool:
    """True when the numba kernels will handle these arrays: all NumPy and numba switched on."""
    return _numba_enabled and all(isinstance(a, np.ndarray) for a in arrays if a is not None)


class _Numba:
    """The numba kernels, imported on first use together with the threading set-up they rely on."""

    kernels: Any = None
    blas_libraries: list = []
    has_blas = True  # numba's np.dot calls SciPy's BLAS; without SciPy the convs take the generic path

    @classmethod
    def load(cls) -> Any:
        if cls.kernels is None:
            import numba
            from threadpoolctl import ThreadpoolController

            try:
                import scipy.linalg.cython_blas  # noqa: F401  (load it before threadpoolctl looks)
            except ImportError:
                cls.has_blas = False
                warnings.warn(
                    "SciPy is not installed: convolutions run on the slower generic path "
                    "(pip install scipy for the numba kernels)", RuntimeWarning, stacklevel=3,
                )
            if "NUMBA_THREADING_LAYER" not in os.environ:
                numba.config.THREADING_LAYER = "workqueue"
            from autograd_lite.kernels import numba_kernels

            libraries = ThreadpoolController().lib_controllers
            cls.blas_libraries = [library for library in libraries if library.user_api == "blas"]
            cls.kernels = numba_kernels
        return cls.kernels

    @classmethod
    @contextlib.contextmanager
    def one_blas_thread(cls) -> Iterator[None]:
        """A context in which BLAS runs single-threaded (numba's pool supplies the parallelism).

        threadpoolctl's own ``limit()`` re-reads every library's state on each call (~30 us); these are
        direct calls into the libraries it found once (~2 us), which matters for the small convs.
        """
        previous = [library.get_num_threads() for library in cls.blas_libraries]
        for library in cls.blas_libraries:
            library.set_num_threads(1)
        try:
            yield
        finally:
            for library, threads in zip(cls.blas_libraries, previous):
                library.set_num_threads(threads)


def _conv_uses_numba(*arrays: Array) -> bool:
    """uses_numba, the BLAS that numba's GEMM calls is there, and no array is empty (nothing to speed up)."""
    if not uses_numba(*arrays) or any(a.size == 0 for a in arrays if a is not None):
        return False
    _Numba.load()
    return _Numba.has_blas


def _block_size(n_batch: int, out_hw: Pair) -> int:
    """Samples per parallel iteration: about _TARGET_BLOCK_COLUMNS columns, but at least 2 blocks per core."""
    import numba

    plane = out_hw[0] * out_hw[1]
    per_thread = -(-n_batch // (2 * numba.get_num_threads()))
    return max(1, min(_TARGET_BLOCK_COLUMNS // plane, per_thread))


def _check_same_dtype(**arrays: Array) -> None:
    # One device first: mixing NumPy and CuPy arrays is an error, never a silent copy.
    array_namespace(*[a for a in arrays.values() if a is not None])
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise TypeError(f"all arrays must share one dtype, got {listed}")


def check_conv_operands(x: Array, w: Array, bias: Array | None, transposed: bool) -> None:
    kind = "conv_transpose2d" if transposed else "conv2d"
    check_rank4(tuple(x.shape), "input", "(N, C, H, W)")
    check_rank4(tuple(w.shape), "weight", "(C_in, C_out, kH, kW)" if transposed else "(C_out, C_in, kH, kW)")
    in_axis = 0 if transposed else 1
    if x.shape[1] != w.shape[in_axis]:
        raise ValueError(
            f"{kind}: input has {x.shape[1]} channels (shape {tuple(x.shape)}) but the weight expects "
            f"{w.shape[in_axis]} (weight shape {tuple(w.shape)})"
        )
    out_channels = w.shape[1] if transposed else w.shape[0]
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{kind}: bias must have shape ({out_channels},), got {tuple(bias.shape)}")
    _check_same_dtype(input=x, weight=w, bias=bias)


def _check_grad_shape(grad_out: Array, expected: tuple[int, ...]) -> None:
    if tuple(grad_out.shape) != tuple(expected):
        raise ValueError(f"grad_out has shape {tuple(grad_out.shape)}, expected {tuple(expected)}")


def _nothing(ndim: int, dtype: Any) -> np.ndarray:
    """An empty placeholder for a kernel argument the requested pass does not use."""
    return np.empty((0,) * ndim, dtype=dtype)


def _columns_pass(
    x: Array, w: Array | None, bias: Array | None, other: Array | None, kernel_hw: Pair, stride: Pair,
    padding: Pair, dilation: Pair, out_hw: Pair,
) -> tuple[Array | None, Array | None]:
    """numba: y = conv2d(x, w) + bias if w is given; the weight gradient pairing x with ``other`` if given."""
    kernels = _Numba.load()
    dtype = x.dtype
    n = x.shape[0]
    block = _block_size(n, out_hw)
    if w is not None:
        c_out = w.shape[0]
        w_matrix = np.ascontiguousarray(w.reshape(c_out, -1))
        bias = np.zeros(c_out, dtype=dtype) if bias is None else np.ascontiguousarray(bias)
        y = np.empty((n, c_out, out_hw[0] * out_hw[1]), dtype=dtype)
    else:
        w_matrix, bias, y = _nothing(2, dtype), _nothing(1, dtype), _nothing(3, dtype)
    if other is not None:
        other = np.ascontiguousarray(other).reshape(n, other.shape[1], -1)
        partial = np.empty((-(-n // block), other.shape[1], x.shape[1] * kernel_hw[0] * kernel_hw[1]), dtype=dtype)
    else:
        other, partial = _nothing(3, dtype), _nothing(3, dtype)
    with _Numba.one_blas_thread():
        kernels.conv2d_columns_pass(
            np.ascontiguousarray(x), w_matrix, bias, other, *kernel_hw, *stride, *padding, *dilation, *out_hw,
            block, y, partial, w is not None, partial.size > 0,
        )
    y_out = y.reshape(n, -1, *out_hw) if w is not None else None
    weight_grad = partial.sum(axis=0).reshape(partial.shape[1], x.shape[1], *kernel_hw) if partial.size else None
    return y_out, weight_grad


def _gradient_pass(
    x: Array | None, grad_out: Array, w: Array | None, input_shape: tuple[int, ...], kernel_hw: Pair,
    stride: Pair, padding: Pair, dilation: Pair,
) -> tuple[Array | None, Array | None]:
    """numba: the input gradient if w is given, the weight gradient if x is given, in one pass."""
    kernels = _Numba.load()
    dtype = grad_out.dtype
    n, c_out = grad_out.shape[:2]
    out_hw = (grad_out.shape[2], grad_out.shape[3])
    block = _block_size(n, out_hw)
    if w is not None:
        w_matrix_t = np.ascontiguousarray(w.reshape(c_out, -1).T)
        image = np.zeros(input_shape, dtype=dtype)
    else:
        w_matrix_t, image = _nothing(2, dtype), _nothing(4, dtype)
    if x is not None:
        x = np.ascontiguousarray(x)
        partial = np.empty((-(-n // block), c_out, input_shape[1] * kernel_hw[0] * kernel_hw[1]), dtype=dtype)
    else:
        x, partial = _nothing(4, dtype), _nothing(3, dtype)
    with _Numba.one_blas_thread():
        kernels.conv2d_gradient_pass(
            x, np.ascontiguousarray(grad_out).reshape(n, c_out, -1), w_matrix_t, *kernel_hw, *stride, *padding,
            *dilation, *out_hw, block, image, partial, w is not None, partial.size > 0,
        )
    weight_grad = partial.sum(axis=0).reshape(c_out, input_shape[1], *kernel_hw) if partial.size else None
    return (image if w is not None else None), weight_grad


# ---------------------------------------------------------------------------------------------- convolution
def conv2d_forward(
    x: Array, w: Array, bias: Array | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Array:
    """y[n, o, i, j] = b[o] + sum_{c,p,q} w[o, c, p, q] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]."""
    check_conv_operands(x, w, bias, transposed=False)
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(stride, padding, dilation)
    kernel_hw = (w.shape[2], w.shape[3])
    out_hw = conv_output_size(x.shape[2:], kernel_hw, stride, padding, dilation)
    if not _conv_uses_numba(x, w, bias):
        return generic.conv2d_forward(x, w, bias, stride, padding, dilation, out_hw)
    return _columns_pass(x, w, bias, None, kernel_hw, stride, padding, dilation, out_hw)[0]

def conv2d_input_grad(
    grad_out: Array, w: Array, input_shape: Sequence[int], stride: IntOrPair = 1, padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Array:
    """dL/dx[n, c, y, x] = sum over the (o, i, j, p, q) with y = i*sh + p*dh - ph, x = j*sw + q*dw - pw of
    w[o, c, p, q] grad_out[n, o, i, j]: the transposed convolution of grad_out with w."""
    input_shape = tuple(int(s) for s in input_shape)
    check_rank4(input_shape, "input_shape", "(N, C, H, W)")
    check_rank4(tuple(grad_out.shape), "grad_out", "(N, C_out, H_out, W_out)")
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(stride, padding, dilation)
    kernel_hw = (w.shape[2], w.shape[3])
    out_hw = conv_output_size(input_shape[2:], kernel_hw, stride, padding, dilation)
    _check_grad_shape(grad_out, (input_shape[0], w.shape[0], *out_hw))
    if w.shape[1] != input_shape[1]:
        raise ValueError(f"weight shape {tuple(w.shape)} does not match input shape {input_shape}")
    _check_same_dtype(grad_out=grad_out, weight=w)
    if not _conv_uses_numba(grad_out, w):
        return generic.conv2d_input_grad(grad_out, w, input_shape, stride, padding, dilation)
    return _gradient_pass(None, grad_out, w, input_shape, kernel_hw, stride, padding, dilation)[0]

def conv2d_weight_grad(
    x: Array, grad_out: Array, kernel_hw: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Array:
    """dL/dw[o, c, p, q] = sum_{n,i,j} grad_out[n, o, i, j] x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]."""
    check_rank4(tuple(x.shape), "input", "(N, C, H, W)")
    check_rank4(tuple(grad_out.shape), "grad_out", "(N, C_out, H_out, W_out)")
    kernel_hw = pair(kernel_hw, "kernel_size")
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(stride, padding, dilation)
    out_hw = conv_output_size(x.shape[2:], kernel_hw, stride, padding, dilation)
    _check_grad_shape(grad_out, (x.shape[0], grad_out.shape[1], *out_hw))
    _check_same_dtype(input=x, grad_out=grad_out)
    if not _conv_uses_numba(x, grad_out):
        return generic.conv2d_weight_grad(x, grad_out, kernel_hw, stride, padding, dilation)
    return _gradient_pass(x, grad_out, None, tuple(x.shape), kernel_hw, stride, padding, dilation)[1]

def conv2d_backward(
    x: Array, grad_out: Array, w: Array, stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1
) -> tuple[Array, Array]:
    """(conv2d_input_grad, conv2d_weight_grad) together; on the numba path in one pass over the batch."""
    if not _conv_uses_numba(x, grad_out, w):
        kernel_hw = (w.shape[2], w.shape[3])
        return (conv2d_input_grad(grad_out, w, x.shape, stride, padding, dilation),
                conv2d_weight_grad(x, grad_out, kernel_hw, stride, padding, dilation))
    check_rank4(tuple(x.shape), "input", "(N, C, H, W)")
    check_rank4(tuple(w.shape), "weight", "(C_out, C_in, kH, kW)")
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(stride, padding, dilation)
    kernel_hw = (w.shape[2], w.shape[3])
    out_hw = conv_output_size(x.shape[2:], kernel_hw, stride, padding, dilation)
    _check_grad_shape(grad_out, (x.shape[0], w.shape[0], *out_hw))
    _check_same_dtype(input=x, grad_out=grad_out, weight=w)
    return _gradient_pass(x, grad_out, w, tuple(x.shape), kernel_hw, stride, padding, dilation)

def conv_transpose2d_output_hw(
    x: Array, w: Array, bias: Array | None, stride: IntOrPair, padding: IntOrPair, output_padding: IntOrPair,
    dilation: IntOrPair,
) -> Pair:
    """Check a transposed convolution's operands; its output (height, width)."""
    check_conv_operands(x, w, bias, transposed=True)
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(stride, padding, dilation)
    kernel_hw = (w.shape[2], w.shape[3])
    output_padding = pair(output_padding, "output_padding")
    return transposed_output_size(x.shape[2:], kernel_hw, stride, padding, output_padding, dilation)


def add_channel_bias(y: Array, bias: Array) -> Array:
    """y[n, o, i, j] + b[o]."""
    xp = array_namespace(y, bias)
    return y + xp.reshape(bias, (-1, 1, 1))


def conv_transpose2d_forward(
    x: Array, w: Array, bias: Array | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0,
    output_padding: IntOrPair = 0, dilation: IntOrPair = 1,
) -> Array:
    """The adjoint of conv2d: y[n, o, i*sh + p*dh - ph, j*sw + q*dw - pw] += w[c, o, p, q] x[n, c, i, j], + b[o].

    The output size is (H - 1)*sh - 2*ph + dh*(kH - 1) + output_padding + 1 (likewise for W).
    """
    out_hw = conv_transpose2d_output_hw(x, w, bias, stride, padding, output_padding, dilation)
    y = conv2d_input_grad(x, w, (x.shape[0], w.shape[1], *out_hw), stride, padding, dilation)
    return y if bias is None else add_channel_bias(y, bias)


def conv_transpose2d_input_grad(
    grad_out: Array, w: Array, stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1
) -> Array:
    """dL/dx of a transposed convolution: the ordinary convolution of grad_out with the same weight."""
    return conv2d_forward(grad_out, w, None, stride, padding, dilation)


def conv_transpose2d_weight_grad(
    x: Array, grad_out: Array, kernel_hw: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Array:
    """dL/dw[c, o, p, q] = sum_{n,i,j} x[n, c, i, j] grad_out[n, o, i*sh + p*dh - ph, j*sw + q*dw - pw]."""
    return conv2d_weight_grad(grad_out, x, kernel_hw, stride, padding, dilation)


def conv_transpose2d_backward(
    x: Array, grad_out: Array, w: Array, stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1
) -> tuple[Array, Array]:
    """(conv_transpose2d_input_grad, conv_transpose2d_weight_grad) together; on the numba path both come
    from one im2col of grad_out."""
    kernel_hw = (w.shape[2], w.shape[3])
    if not _conv_uses_numba(x, grad_out, w):
        return (conv_transpose2d_input_grad(grad_out, w, stride, padding, dilation),
                conv_transpose2d_weight_grad(x, grad_out, kernel_hw, stride, padding, dilation))
    check_conv_operands(grad_out, w, None, transposed=False)
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    check_geometry(stride, padding, dilation)
    out_hw = conv_output_size(grad_out.shape[2:], kernel_hw, stride, padding, dilation)
    _check_grad_shape(x, (grad_out.shape[0], w.shape[0], *out_hw))
    _check_same_dtype(input=x, grad_out=grad_out, weight=w)
    # conv_transpose's input gradient is conv2d(grad_out, w); its weight gradient pairs those columns with x
    return _columns_pass(grad_out, w, None, x, kernel_hw, stride, padding, dilation, out_hw)


# --------------------------------------------------------------------------------------------------- pooling
def _pool_geometry(
    x_shape: tuple[int, ...], kernel_size: IntOrPair, stride: IntOrPair | None, padding: IntOrPair
) -> tuple[Pair, Pair, Pair, Pair]:
    check_rank4(x_shape, "input", "(N, C, H, W)")
    kernel_hw, stride, padding = pool_window(kernel_size, stride, padding)
    out_hw = conv_output_size(x_shape[2:], kernel_hw, stride, padding, (1, 1))
    return kernel_hw, stride, padding, out_hw


def max_pool2d_forward(
    x: Array, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0
) -> tuple[Array, Array]:
    """y[n,c,i,j] = max_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw] and argmax = the first winning p*kW + q."""
    kernel_hw, stride, padding, out_hw = _pool_geometry(tuple(x.shape), kernel_size, stride, padding)
    if not uses_numba(x):
        return generic.max_pool2d_forward(x, kernel_hw, stride, padding, out_hw)
    kernels = _Numba.load()
    y = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int64)
    kernels.pool_pass(kernels.MAX_POOL, np.ascontiguousarray(x), argmax, *kernel_hw, *stride, *padding,
                      x.dtype.type(0), y)
    return y, argmax


def max_pool2d_scatter(
    grad_out: Array, argmax: Array, input_shape: Sequence[int], kernel_size: IntOrPair,
    stride: IntOrPair | None = None, padding: IntOrPair = 0,
) -> Array:
    """dL/dx: grad_out[n,c,i,j] is added onto the input pixel that won window (i, j); the rest get 0."""
    input_shape = tuple(int(s) for s in input_shape)
    kernel_hw, stride, padding, out_hw = _pool_geometry(input_shape, kernel_size, stride, padding)
    _check_grad_shape(grad_out, (*input_shape[:2], *out_hw))
    _check_grad_shape(argmax, (*input_shape[:2], *out_hw))
    if not uses_numba(grad_out, argmax):
        return generic.max_pool2d_scatter(grad_out, argmax, input_shape, kernel_hw, stride, padding)
    kernels = _Numba.load()
    image = np.zeros(input_shape, dtype=grad_out.dtype)
    kernels.pool_pass(kernels.MAX_SCATTER, np.ascontiguousarray(grad_out), np.ascontiguousarray(argmax),
                      *kernel_hw, *stride, *padding, grad_out.dtype.type(0), image)
    return image


def max_pool2d_gather(
    image: Array, argmax: Array, kernel_size: IntOrPair, stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> Array:
    """out[n,c,i,j] = image at the pixel that won window (i, j): the adjoint of max_pool2d_scatter."""
    kernel_hw, stride, padding, out_hw = _pool_geometry(tuple(image.shape), kernel_size, stride, padding)
    _check_grad_shape(argmax, (*image.shape[:2], *out_hw))
    if not uses_numba(image, argmax):
        return generic.max_pool2d_gather(image, argmax, kernel_hw, stride, padding)
    kernels = _Numba.load()
    out = np.empty(argmax.shape, dtype=image.dtype)
    kernels.pool_pass(kernels.MAX_GATHER, np.ascontiguousarray(image), np.ascontiguousarray(argmax),
                      *kernel_hw, *stride, *padding, image.dtype.type(0), out)
    return out


def avg_pool2d_forward(
    x: Array, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0
) -> Array:
    """y[n,c,i,j] = 1/(kH*kW) sum_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw] (padding counts as 0)."""
    kernel_hw, stride, padding, out_hw = _pool_geometry(tuple(x.shape), kernel_size, stride, padding)
    if not uses_numba(x):
        return generic.avg_pool2d_forward(x, kernel_hw, stride, padding, out_hw)
    kernels = _Numba.load()
    y = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
    scale = x.dtype.type(1.0 / (kernel_hw[0] * kernel_hw[1]))
    kernels.pool_pass(kernels.AVG_POOL, np.ascontiguousarray(x), _nothing(4, np.int64), *kernel_hw, *stride,
                      *padding, scale, y)
    return y


def avg_pool2d_scatter(
    grad_out: Array, input_shape: Sequence[int], kernel_size: IntOrPair, stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> Array:
    """dL/dx: grad_out[n,c,i,j] / (kH*kW) is added onto every pixel of window (i, j)."""
    input_shape = tuple(int(s) for s in input_shape)
    kernel_hw, stride, padding, out_hw = _pool_geometry(input_shape, kernel_size, stride, padding)
    _check_grad_shape(grad_out, (*input_shape[:2], *out_hw))
    if not uses_numba(grad_out):
        return generic.avg_pool2d_scatter(grad_out, input_shape, kernel_hw, stride, padding)
    kernels = _Numba.load()
    image = np.zeros(input_shape, dtype=grad_out.dtype)
    scale = grad_out.dtype.type(1.0 / (kernel_hw[0] * kernel_hw[1]))
    kernels.pool_pass(kernels.AVG_SCATTER, np.ascontiguousarray(grad_out), _nothing(4, np.int64), *kernel_hw,
                      *stride, *padding, scale, image)
    return image


# ------------------------------------------------------------------------------------------------ upsampling
def check_scale_factor(scale_factor: IntOrPair | float) -> Pair:
    """An upsampling factor as a pair of positive ints (2.0 counts as 2)."""
    if isinstance(scale_factor, float) and scale_factor.is_integer():  # Upsample(scale_factor=2.0)
        scale_factor = int(scale_factor)
    scale = pair(scale_factor, "scale_factor")
    if min(scale) < 1:
        raise ValueError(f"scale_factor must be a positive integer, got {scale_factor!r}")
    return scale


def upsample_nearest2d_forward(x: Array, scale_factor: IntOrPair) -> Array:
    """y[n, c, i, j] = x[n, c, i // sh, j // sw]. NumPy does this at memory speed; no numba kernel needed."""
    check_rank4(tuple(x.shape), "input", "(N, C, H, W)")
    return generic.upsample_nearest2d_forward(x, check_scale_factor(scale_factor))


def upsample_nearest2d_backward(grad_out: Array, scale_factor: IntOrPair) -> Array:
    """dL/dx[n, c, i, j] = sum of grad_out over the sh x sw block that pixel (i, j) was copied to."""
    check_rank4(tuple(grad_out.shape), "grad_out", "(N, C, H, W)")
    scale = check_scale_factor(scale_factor)
    if grad_out.shape[2] % scale[0] or grad_out.shape[3] % scale[1]:
        raise ValueError(f"grad_out shape {tuple(grad_out.shape)} is not a multiple of scale {scale}")
    return generic.upsample_nearest2d_backward(grad_out, scale)
