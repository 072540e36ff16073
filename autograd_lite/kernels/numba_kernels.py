"""numba kernels for the array work NumPy does slowly: the convolution pipelines and the pooling windows.

Every kernel fills an output array its caller allocated, so the dtype (float32 or float64) is the
caller's and is never silently widened; constants arrive as arguments already cast to that dtype.
The outer loop is a ``prange`` over independent blocks of samples or (n, c) planes, so no two parallel
iterations ever write the same element: race-free without atomics. Kernels compile once per dtype and
are cached on disk (``cache=True``), so only the very first run of a fresh install pays the compile.

A convolution is im2col + GEMM, done one block of samples at a time so the column matrix stays in cache:

    cols[(c, p, q), (n, i, j)] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]    (0 outside the image)
    y[n, o, (i, j)] = b[o] + sum_{c,p,q} w[o, (c, p, q)] cols[(c, p, q), (n, i, j)]

Each parallel iteration owns a block of samples: it builds that block's columns, calls BLAS (``np.dot``,
which numba hands to SciPy's BLAS, kept at one thread by the caller) and writes its own samples of the
output. So one thread pool (numba's) does all the work and never fights BLAS's own threads; see
``autograd_lite.kernels`` for the measurement behind that choice.
Pooling windows use the same index map; ``argmax`` stores the winning window offset p*kw + q.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _inside_range(offset, stride, size, count):
    """The outputs j in [lo, hi) whose tap j*stride + offset lies inside 0..size-1.

    Computing the range once lets the copy loops run without a bounds test per pixel (so they vectorise).
    """
    lo = max(0, -(offset // stride))  # ceil(-offset / stride)
    hi = min(count, (size - 1 - offset) // stride + 1)
    return lo, max(lo, hi)


# Indexing: numba tests every signed index for being negative (Python's wrap-around), which stops its
# copy loops from vectorising. The loops below index flat arrays with unsigned offsets (``_u``) or 1-D
# views with a counter from 0, which it can prove non-negative: im2col went from 1.3-3 to 0.3-0.9 ns a
# pixel on the digits shapes.


@njit(cache=True)
def _u(index):
    return np.uint64(index)


@njit(cache=True)
def _copy(out, source):
    for k in range(out.size):
        out[k] = source[k]


@njit(cache=True)
def _copy_plus(out, source, value):
    for k in range(out.size):
        out[k] = source[k] + value


@njit(cache=True)
def _tap_tables(height, width, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """For tap t = p*kw + q and output pixel k = i*out_w + j: the flat input pixel y*W + x it reads, and
    whether that pixel is inside the image (if not, the index is 0 and must not be used)."""
    index = np.zeros((kh * kw, out_h * out_w), np.int64)
    inside = np.zeros((kh * kw, out_h * out_w), np.bool_)
    for p in range(kh):
        for q in range(kw):
            for i in range(out_h):
                y = i * sh + p * dh - ph
                for j in range(out_w):
                    x = j * sw + q * dw - pw
                    if 0 <= y < height and 0 <= x < width:
                        index[p * kw + q, i * out_w + j] = y * width + x
                        inside[p * kw + q, i * out_w + j] = True
    return index, inside


# Below this output width a row is too short for its own loop to pay: the whole plane goes in one loop
# through the tap tables instead (2.5x faster on the 4x4 outputs of the stride-2 convs, 1.4x on 8x8).
_TABLE_WIDTH = 8


@njit(cache=True)
def im2col_block(x, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, cols):
    """cols[(c,p,q), (n - n0, i, j)] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw] for samples n0 <= n < n1.

    ``x`` and ``cols`` must be C-contiguous. Each (row, sample) is one output plane: rows of it whose tap
    falls outside the image are zero, and so are the columns j outside [lo, hi).
    """
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    plane = out_h * out_w
    x_flat = x.reshape(x.size)
    cols_flat = cols.reshape(cols.size)
    if out_w <= _TABLE_WIDTH:
        index, inside = _tap_tables(height, width, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
        zero = x_flat[0] * 0
        for c in range(channels):
            for tap in range(kh * kw):
                for n in range(n0, n1):
                    out = _u((c * kh * kw + tap) * cols.shape[1] + (n - n0) * plane)
                    source = _u((n * channels + c) * height * width)
                    for k in range(plane):
                        value = x_flat[source + _u(index[tap, k])]
                        cols_flat[out + _u(k)] = value if inside[tap, k] else zero
        return cols
    for c in range(channels):
        for p in range(kh):
            row_offset = p * dh - ph
            i_lo, i_hi = _inside_range(row_offset, sh, height, out_h)
            for q in range(kw):
                row = (c * kh + p) * kw + q
                offset = q * dw - pw
                lo, hi = _inside_range(offset, sw, width, out_w)
                for n in range(n0, n1):
                    out = row * cols.shape[1] + (n - n0) * plane
                    for k in range(i_lo * out_w):
                        cols_flat[_u(out) + _u(k)] = 0
                    for k in range(i_hi * out_w, plane):
                        cols_flat[_u(out) + _u(k)] = 0
                    for i in range(i_lo, i_hi):
                        line = _u(out + i * out_w)
                        source = _u(((n * channels + c) * height + i * sh + row_offset) * width + offset)
                        for j in range(lo):
                            cols_flat[line + _u(j)] = 0
                        for j in range(lo, hi):
                            cols_flat[line + _u(j)] = x_flat[source + _u(j * sw)]
                        for j in range(hi, out_w):
                            cols_flat[line + _u(j)] = 0
    return cols


@njit(cache=True)
def col2im_block(cols, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, image):
    """The adjoint of im2col_block: image[n, c, y, x] += every column entry read from (y, x); image zeroed."""
    channels, height, width = image.shape[1], image.shape[2], image.shape[3]
    plane = out_h * out_w
    image_flat = image.reshape(image.size)
    cols_flat = cols.reshape(cols.size)
    if out_w <= _TABLE_WIDTH:
        index, inside = _tap_tables(height, width, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
        for n in range(n0, n1):
            for c in range(channels):
                target = _u((n * channels + c) * height * width)
                for tap in range(kh * kw):
                    line = _u((c * kh * kw + tap) * cols.shape[1] + (n - n0) * plane)
                    for k in range(plane):
                        if inside[tap, k]:
                            image_flat[target + _u(index[tap, k])] += cols_flat[line + _u(k)]
        return image
    for n in range(n0, n1):
        for c in range(channels):
            for p in range(kh):
                row_offset = p * dh - ph
                i_lo, i_hi = _inside_range(row_offset, sh, height, out_h)
                for q in range(kw):
                    row = (c * kh + p) * kw + q
                    offset = q * dw - pw
                    lo, hi = _inside_range(offset, sw, width, out_w)
                    for i in range(i_lo, i_hi):
                        line = _u(row * cols.shape[1] + (n - n0) * plane + i * out_w)
                        target = _u(((n * channels + c) * height + i * sh + row_offset) * width + offset)
                        for j in range(lo, hi):
                            image_flat[target + _u(j * sw)] += cols_flat[line + _u(j)]
    return image


@njit(cache=True)
def _gather_block(grad_out, n0, n1, block_grad):
    """block_grad[o, (n - n0, l)] = grad_out[n, o, l]: a block of samples as one (C_out, B*L) matrix."""
    channels, plane = grad_out.shape[1], grad_out.shape[2]
    for n in range(n0, n1):
        for o in range(channels):
            _copy(block_grad[o, (n - n0) * plane : (n - n0 + 1) * plane], grad_out[n, o])
    return block_grad


# Two parallel kernels serve every conv computation, chosen by flags: each parallel kernel costs ~6 s of
# compile per dtype (the parfor lowering; a serial one ~1 s), so five of them made a cold start ~70 s.
# Arrays a call does not use arrive empty and are never touched.


@njit(parallel=True, cache=True)
def conv2d_columns_pass(x, w_matrix, bias, other, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, block, y, partial,
                        want_output, want_weight_grad):
    """Per block of samples, cols = im2col(x block), then

        want_output:       y[n, o, (i, j)] = bias[o] + (w_matrix @ cols)[o, (n, i, j)]       (conv2d forward)
        want_weight_grad:  partial[b] = other_block @ cols^T, other_block[o, (n, l)] = other[n, o, l]

    The caller sums ``partial`` over blocks. Forward + weight gradient together is the backward of a
    transposed convolution (its input gradient is conv2d(grad_out, w), its weight gradient pairs the same
    columns with x).
    """
    n_batch = x.shape[0]
    c_out, patch = w_matrix.shape
    plane = out_h * out_w
    for b in prange((n_batch + block - 1) // block):
        n0 = b * block
        n1 = min(n_batch, n0 + block)
        cols = np.empty((partial.shape[2] if want_weight_grad else patch, (n1 - n0) * plane), dtype=x.dtype)
        im2col_block(x, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, cols)
        if want_output:
            product = np.dot(w_matrix, cols)
            for n in range(n0, n1):
                for o in range(c_out):
                    _copy_plus(y[n, o], product[o, (n - n0) * plane : (n - n0 + 1) * plane], bias[o])
        if want_weight_grad:
            other_block = np.empty((other.shape[1], (n1 - n0) * plane), dtype=x.dtype)
            _gather_block(other, n0, n1, other_block)
            # (cols @ g^T)^T rather than g @ cols^T: OpenBLAS runs this orientation 1.3x faster here
            partial[b] = np.dot(cols, other_block.T).T
    return y


@njit(parallel=True, cache=True)
def conv2d_gradient_pass(x, grad_out, w_matrix_t, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, block, image,
                         partial, want_input_grad, want_weight_grad):
    """Per block of samples, g = the block's grad_out as a (C_out, B*L) matrix (gathered once), then

        want_input_grad:   image[block] = col2im(w^T @ g)           (``image`` arrives zeroed)
        want_weight_grad:  partial[b] = g @ im2col(x block)^T      (the caller sums over blocks)
    """
    n_batch, c_out = grad_out.shape[0], grad_out.shape[1]
    plane = out_h * out_w
    for b in prange((n_batch + block - 1) // block):
        n0 = b * block
        n1 = min(n_batch, n0 + block)
        block_grad = np.empty((c_out, (n1 - n0) * plane), dtype=grad_out.dtype)
        _gather_block(grad_out, n0, n1, block_grad)
        if want_weight_grad:
            cols = np.empty((partial.shape[2], (n1 - n0) * plane), dtype=grad_out.dtype)
            im2col_block(x, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, cols)
            partial[b] = np.dot(cols, block_grad.T).T
        if want_input_grad:
            cols_grad = np.dot(w_matrix_t, block_grad)
            col2im_block(cols_grad, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, image)
    return image


# Pooling: one parallel kernel over (n, c) planes, the operation chosen by ``mode`` (one parfor to
# compile per dtype instead of five); each plane's work is a serial function below.
MAX_POOL, MAX_SCATTER, MAX_GATHER, AVG_POOL, AVG_SCATTER = 0, 1, 2, 3, 4


@njit(parallel=True, cache=True)
def pool_pass(mode, source, argmax, kh, kw, sh, sw, ph, pw, scale, target):
    """Run the pooling operation ``mode`` on every (n, c) plane; each iteration writes only its own plane.

        MAX_POOL     source x -> target y, argmax written      MAX_SCATTER  grad_out -> image (zeroed)
        MAX_GATHER   image -> target (at the argmax)           AVG_POOL     x -> y (times ``scale``)
        AVG_SCATTER  grad_out -> image (zeroed)
    """
    channels = target.shape[1]
    for plane_index in prange(target.shape[0] * channels):
        n = plane_index // channels
        c = plane_index % channels
        if mode == MAX_POOL:
            _max_pool_plane(source[n, c], kh, kw, sh, sw, ph, pw, target[n, c], argmax[n, c])
        elif mode == MAX_SCATTER:
            _max_scatter_plane(source[n, c], argmax[n, c], kw, sh, sw, ph, pw, target[n, c])
        elif mode == MAX_GATHER:
            _max_gather_plane(source[n, c], argmax[n, c], kw, sh, sw, ph, pw, target[n, c])
        elif mode == AVG_POOL:
            _avg_pool_plane(source[n, c], kh, kw, sh, sw, ph, pw, scale, target[n, c])
        else:
            _avg_scatter_plane(source[n, c], kh, kw, sh, sw, ph, pw, scale, target[n, c])
    return target


@njit(cache=True)
def _max_pool_plane(x, kh, kw, sh, sw, ph, pw, out, argmax):
    """out[i,j] = max_{p,q} x[i*sh + p - ph, j*sw + q - pw]; argmax = the first winning p*kw + q.

    Padding never wins (it is -inf); a NaN in the window wins, as in PyTorch.
    """
    height, width = x.shape
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            found = False
            best = x[0, 0]
            best_offset = 0
            for p in range(kh):
                y = i * sh + p - ph
                if y < 0 or y >= height:
                    continue
                for q in range(kw):
                    x_col = j * sw + q - pw
                    if x_col < 0 or x_col >= width:
                        continue
                    value = x[y, x_col]
                    if not found or value > best or (value != value and best == best):
                        found = True
                        best = value
                        best_offset = p * kw + q
            out[i, j] = best
            argmax[i, j] = best_offset


@njit(cache=True)
def _max_scatter_plane(grad_out, argmax, kw, sh, sw, ph, pw, image):
    """image[i*sh + p - ph, j*sw + q - pw] += grad_out[i, j] at the winning (p, q)."""
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            offset = argmax[i, j]
            image[i * sh + offset // kw - ph, j * sw + offset % kw - pw] += grad_out[i, j]


@njit(cache=True)
def _max_gather_plane(image, argmax, kw, sh, sw, ph, pw, out):
    """out[i, j] = image[i*sh + p - ph, j*sw + q - pw] at the winning (p, q) (the scatter's adjoint)."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            offset = argmax[i, j]
            out[i, j] = image[i * sh + offset // kw - ph, j * sw + offset % kw - pw]


@njit(cache=True)
def _avg_pool_plane(x, kh, kw, sh, sw, ph, pw, scale, out):
    """out[i, j] = scale * sum_{p,q} x[i*sh + p - ph, j*sw + q - pw]  (padding counts as 0)."""
    height, width = x.shape
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = scale * 0  # a zero of the input dtype
            for p in range(kh):
                y = i * sh + p - ph
                if y < 0 or y >= height:
                    continue
                for q in range(kw):
                    x_col = j * sw + q - pw
                    if 0 <= x_col < width:
                        total += x[y, x_col]
            out[i, j] = total * scale


@njit(cache=True)
def _avg_scatter_plane(grad_out, kh, kw, sh, sw, ph, pw, scale, image):
    """The adjoint of _avg_pool_plane: image[i*sh + p - ph, j*sw + q - pw] += scale * grad_out[i, j]."""
    height, width = image.shape
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            share = grad_out[i, j] * scale
            for p in range(kh):
                y = i * sh + p - ph
                if y < 0 or y >= height:
                    continue
                for q in range(kw):
                    x_col = j * sw + q - pw
                    if 0 <= x_col < width:
                        image[y, x_col] += share
