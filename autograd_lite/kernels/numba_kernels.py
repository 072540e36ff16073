"""numba kernels for the array work NumPy does slowly: im2col / col2im and the pooling windows.

Every kernel fills an output array its caller allocated, so the dtype (float32 or float64) is the
caller's and is never silently widened; constants arrive as arguments already cast to that dtype.
The outer loop is a ``prange`` over independent output rows or (n, c) planes, so no two parallel
iterations ever write the same element: race-free without atomics. Kernels compile once per dtype and
are cached on disk (``cache=True``), so only the very first run of a fresh install pays the compile.

The column matrix has one row per (channel, kernel offset) and one column per output pixel of the
whole batch:

    cols[(c, p, q), (n, i, j)] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]    (0 outside the image)

so that a whole convolution is one GEMM, y[o, (n, i, j)] = sum_{c,p,q} w[o, (c, p, q)] cols[(c, p, q), (n, i, j)].
Pooling windows use the same index map; ``argmax`` stores the winning window offset p*kw + q.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, cols):  # pragma: no cover - compiled
    """cols[(c,p,q), (n,i,j)] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]; one parallel row each."""
    n_batch, channels, height, width = x.shape
    plane = out_h * out_w
    for row in prange(channels * kh * kw):
        c = row // (kh * kw)
        p = (row // kw) % kh
        q = row % kw
        for n in range(n_batch):
            start = n * plane
            for i in range(out_h):
                y = i * sh + p * dh - ph
                inside_rows = 0 <= y < height
                for j in range(out_w):
                    x_col = j * sw + q * dw - pw
                    if inside_rows and 0 <= x_col < width:
                        cols[row, start + i * out_w + j] = x[n, c, y, x_col]
                    else:
                        cols[row, start + i * out_w + j] = 0
    return cols


@njit(parallel=True, cache=True)
def col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, image):  # pragma: no cover - compiled
    """The adjoint of im2col: image[n, c, y, x] += cols[(c,p,q), (n,i,j)] over every window hitting (y, x).

    ``image`` must arrive zeroed; each parallel iteration owns one (n, c) plane of it.
    """
    n_batch, channels, height, width = image.shape
    plane = out_h * out_w
    for plane_index in prange(n_batch * channels):
        n = plane_index // channels
        c = plane_index % channels
        start = n * plane
        for p in range(kh):
            for q in range(kw):
                row = (c * kh + p) * kw + q
                for i in range(out_h):
                    y = i * sh + p * dh - ph
                    if y < 0 or y >= height:
                        continue
                    for j in range(out_w):
                        x_col = j * sw + q * dw - pw
                        if 0 <= x_col < width:
                            image[n, c, y, x_col] += cols[row, start + i * out_w + j]
    return image


@njit(parallel=True, cache=True)
def max_pool2d(x, kh, kw, sh, sw, ph, pw, out, argmax):  # pragma: no cover - compiled
    """out[n,c,i,j] = max_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw]; argmax = the first winning p*kw + q.

    Padding never wins (it is -inf); a NaN in the window wins, as in PyTorch.
    """
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane_index in prange(n_batch * channels):
        n = plane_index // channels
        c = plane_index % channels
        for i in range(out_h):
            for j in range(out_w):
                found = False
                best = x[n, c, 0, 0]
                best_offset = 0
                for p in range(kh):
                    y = i * sh + p - ph
                    if y < 0 or y >= height:
                        continue
                    for q in range(kw):
                        x_col = j * sw + q - pw
                        if x_col < 0 or x_col >= width:
                            continue
                        value = x[n, c, y, x_col]
                        if not found or value > best or (value != value and best == best):
                            found = True
                            best = value
                            best_offset = p * kw + q
                out[n, c, i, j] = best
                argmax[n, c, i, j] = best_offset
    return out


@njit(parallel=True, cache=True)
def max_pool2d_scatter(grad_out, argmax, kw, sh, sw, ph, pw, image):  # pragma: no cover - compiled
    """image[n, c, i*sh + p - ph, j*sw + q - pw] += grad_out[n,c,i,j] at the winning (p, q); image zeroed."""
    n_batch, channels = image.shape[0], image.shape[1]
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    for plane_index in prange(n_batch * channels):
        n = plane_index // channels
        c = plane_index % channels
        for i in range(out_h):
            for j in range(out_w):
                offset = argmax[n, c, i, j]
                y = i * sh + offset // kw - ph
                x_col = j * sw + offset % kw - pw
                image[n, c, y, x_col] += grad_out[n, c, i, j]
    return image


@njit(parallel=True, cache=True)
def max_pool2d_gather(image, argmax, kw, sh, sw, ph, pw, out):  # pragma: no cover - compiled
    """out[n,c,i,j] = image[n, c, i*sh + p - ph, j*sw + q - pw] at the winning (p, q) (scatter's adjoint)."""
    n_batch, channels = out.shape[0], out.shape[1]
    out_h, out_w = out.shape[2], out.shape[3]
    for plane_index in prange(n_batch * channels):
        n = plane_index // channels
        c = plane_index % channels
        for i in range(out_h):
            for j in range(out_w):
                offset = argmax[n, c, i, j]
                out[n, c, i, j] = image[n, c, i * sh + offset // kw - ph, j * sw + offset % kw - pw]
    return out


@njit(parallel=True, cache=True)
def avg_pool2d(x, kh, kw, sh, sw, ph, pw, scale, out):  # pragma: no cover - compiled
    """out[n,c,i,j] = scale * sum_{p,q} x[n, c, i*sh + p - ph, j*sw + q - pw]  (padding counts as 0)."""
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane_index in prange(n_batch * channels):
        n = plane_index // channels
        c = plane_index % channels
        for i in range(out_h):
            for j in range(out_w):
                total = out[n, c, i, j] * 0
                for p in range(kh):
                    y = i * sh + p - ph
                    if y < 0 or y >= height:
                        continue
                    for q in range(kw):
                        x_col = j * sw + q - pw
                        if 0 <= x_col < width:
                            total += x[n, c, y, x_col]
                out[n, c, i, j] = total * scale
    return out


@njit(parallel=True, cache=True)
def avg_pool2d_scatter(grad_out, kh, kw, sh, sw, ph, pw, scale, image):  # pragma: no cover - compiled
    """The adjoint of avg_pool2d: image[n, c, i*sh + p - ph, j*sw + q - pw] += scale * grad_out[n,c,i,j]."""
    n_batch, channels, height, width = image.shape
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    for plane_index in prange(n_batch * channels):
        n = plane_index // channels
        c = plane_index % channels
        for i in range(out_h):
            for j in range(out_w):
                share = grad_out[n, c, i, j] * scale
                for p in range(kh):
                    y = i * sh + p - ph
                    if y < 0 or y >= height:
                        continue
                    for q in range(kw):
                        x_col = j * sw + q - pw
                        if 0 <= x_col < width:
                            image[n, c, y, x_col] += share
    return image


def empty_like_dtype(shape: tuple[int, ...], like: np.ndarray) -> np.ndarray:
    return np.empty(shape, dtype=like.dtype)
