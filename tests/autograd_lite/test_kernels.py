"""autograd_lite.kernels: the numba path == the generic path == a direct-loop reference written here.

Every test runs on both kernel paths (the ``path`` fixture); the generic path also runs on
``array_api_strict`` arrays, which proves it uses nothing NumPy-only (so it can run on CuPy).
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import PATHS, conv_geometries, on_path

from autograd_lite import kernels

# ------------------------------------------------------------------------------ direct-loop references


def output_size(size, k, s, pad, d):
    return (size + 2 * pad - d * (k - 1) - 1) // s + 1


def reference_conv2d(x, w, b, s, pad, d):
    """y[n, o, i, j] = b[o] + sum_{c,p,q} w[o, c, p, q] x[n, c, i*s + p*d - pad, j*s + q*d - pad], by loops."""
    n, c, h, width = x.shape
    c_out, _, kh, kw = w.shape
    oh, ow = output_size(h, kh, s, pad, d), output_size(width, kw, s, pad, d)
    y = np.zeros((n, c_out, oh, ow)) + (0 if b is None else b[:, None, None])
    for i in range(oh):
        for j in range(ow):
            for p in range(kh):
                for q in range(kw):
                    row, col = i * s + p * d - pad, j * s + q * d - pad
                    if 0 <= row < h and 0 <= col < width:
                        y[:, :, i, j] += x[:, :, row, col] @ w[:, :, p, q].T
    return y


def reference_conv_transpose2d(x, w, s, pad, output_padding, d):
    """y[n, o, i*s + p*d - pad, j*s + q*d - pad] += w[c, o, p, q] x[n, c, i, j], by loops."""
    n, _, h, width = x.shape
    _, c_out, kh, kw = w.shape
    oh = (h - 1) * s - 2 * pad + d * (kh - 1) + output_padding + 1
    ow = (width - 1) * s - 2 * pad + d * (kw - 1) + output_padding + 1
    y = np.zeros((n, c_out, oh, ow))
    for i in range(h):
        for j in range(width):
            for p in range(kh):
                for q in range(kw):
                    row, col = i * s + p * d - pad, j * s + q * d - pad
                    if 0 <= row < oh and 0 <= col < ow:
                        y[:, :, row, col] += x[:, :, i, j] @ w[:, :, p, q]
    return y


def reference_conv2d_weight_grad(x, g, kh, kw, s, pad, d):
    """dw[o, c, p, q] = sum_{n,i,j} g[n, o, i, j] x[n, c, i*s + p*d - pad, j*s + q*d - pad], by loops."""
    _, c, h, width = x.shape
    _, c_out, oh, ow = g.shape
    dw = np.zeros((c_out, c, kh, kw))
    for i in range(oh):
        for j in range(ow):
            for p in range(kh):
                for q in range(kw):
                    row, col = i * s + p * d - pad, j * s + q * d - pad
                    if 0 <= row < h and 0 <= col < width:
                        dw[:, :, p, q] += g[:, :, i, j].T @ x[:, :, row, col]
    return dw


def reference_pool(x, k, s, pad, reduce):
    """Each output is ``reduce`` over its window's values (-inf / 0 padding for max / mean)."""
    n, c, h, width = x.shape
    oh, ow = output_size(h, k, s, pad, 1), output_size(width, k, s, pad, 1)
    fill = -np.inf if reduce is np.max else 0.0
    padded = np.full((n, c, h + 2 * pad, width + 2 * pad), fill)
    padded[:, :, pad : pad + h, pad : pad + width] = x
    y = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, :, i * s : i * s + k, j * s : j * s + k]
            y[:, :, i, j] = reduce(window.reshape(n, c, -1), axis=-1)
    return y


# ---------------------------------------------------------------------------------------------- fixtures


def unpack(case):
    """x, w, b, stride, padding, dilation, output_padding from a conv_geometries case."""
    x, w, b, geometry, output_padding = case
    return x, w, b, geometry["stride"], geometry["padding"], geometry["dilation"], output_padding


# ---------------------------------------------------------------------------------------- convolutions


@PATHS
@given(case=conv_geometries(max_batch=3, max_side=7))
def test_conv2d_forward_matches_direct_loops(path, case):
    with on_path(path):
        x, w, b, s, pad, d, _ = unpack(case)
        expected = reference_conv2d(x, w, b, s, pad, d)
        np.testing.assert_allclose(kernels.conv2d_forward(x, w, b, s, pad, d), expected, rtol=1e-10, atol=1e-10)


@PATHS
@given(case=conv_geometries(max_batch=3, max_side=7))
def test_conv2d_gradients_match_direct_loops(path, case):
    """Input grad == transposed conv by loops (the adjoint); weight grad == its own loop."""
    with on_path(path):
        x, w, _, s, pad, d, _ = unpack(case)
        y = reference_conv2d(x, w, None, s, pad, d)
        g = np.random.default_rng(1).standard_normal(y.shape)
        dx = kernels.conv2d_input_grad(g, w, x.shape, s, pad, d)
        dw = kernels.conv2d_weight_grad(x, g, w.shape[2:], s, pad, d)
        # <conv(x), g> == <x, dx>: the input gradient is the adjoint of the forward map
        np.testing.assert_allclose(np.sum(y * g), np.sum(x * dx), rtol=1e-9, atol=1e-9)
        expected_dw = reference_conv2d_weight_grad(x, g, *w.shape[2:], s, pad, d)
        np.testing.assert_allclose(dw, expected_dw, rtol=1e-9, atol=1e-9)
        # and each entry of dx equals the direct scatter (a transposed conv cropped to the input size)
        scattered = reference_conv_transpose2d(g, w, s, 0, 0, d)
        padded_h, padded_w = x.shape[2] + 2 * pad, x.shape[3] + 2 * pad
        full = np.zeros((*dx.shape[:2], padded_h, padded_w))
        rows, cols = min(padded_h, scattered.shape[2]), min(padded_w, scattered.shape[3])
        full[:, :, :rows, :cols] = scattered[:, :, :rows, :cols]
        np.testing.assert_allclose(dx, full[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]], rtol=1e-9, atol=1e-9)


@PATHS
@given(case=conv_geometries(transposed=True, max_batch=3, max_side=7))
def test_conv_transpose2d_forward_matches_direct_loops(path, case):
    with on_path(path):
        x, w, b, s, pad, d, output_padding = unpack(case)
        out_h = (x.shape[2] - 1) * s - 2 * pad + d * (w.shape[2] - 1) + output_padding + 1
        out_w = (x.shape[3] - 1) * s - 2 * pad + d * (w.shape[3] - 1) + output_padding + 1
        assume(min(out_h, out_w) >= 1)
        y = kernels.conv_transpose2d_forward(x, w, b, s, pad, output_padding, d)
        expected = reference_conv_transpose2d(x, w, s, pad, output_padding, d) + b[:, None, None]
        np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)
        # its gradients are the ordinary conv of g and the swapped weight gradient
        g = np.random.default_rng(2).standard_normal(y.shape)
        dx = kernels.conv_transpose2d_input_grad(g, w, s, pad, d)
        np.testing.assert_allclose(np.sum((y - b[:, None, None]) * g), np.sum(x * dx), rtol=1e-9, atol=1e-9)
        dw = kernels.conv_transpose2d_weight_grad(x, g, w.shape[2:], s, pad, d)
        np.testing.assert_allclose(np.sum((y - b[:, None, None]) * g), np.sum(w * dw), rtol=1e-9, atol=1e-9)


def test_conv_shapes_the_models_use_agree_between_paths():
    """Batches bigger than one numba block (several parallel iterations) give the generic result."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 4, 8, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    g = rng.standard_normal((37, 6, 8, 8)).astype(np.float32)
    results = {}
    for use_numba in (True, False):
        kernels.set_numba_enabled(use_numba)
        try:
            results[use_numba] = (
                kernels.conv2d_forward(x, w, None, 1, 1),
                kernels.conv2d_input_grad(g, w, x.shape, 1, 1),
                kernels.conv2d_weight_grad(x, g, 3, 1, 1),
                kernels.conv_transpose2d_forward(g[:, :4], w[:4], None, 2, 1, 1),
            )
        finally:
            kernels.set_numba_enabled(True)
    for numba_result, generic_result in zip(results[True], results[False]):
        np.testing.assert_allclose(numba_result, generic_result, rtol=1e-4, atol=1e-4)


# -------------------------------------------------------------------------------------- pooling, upsampling


@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, k // 2))
    h, w = draw(st.integers(k, 7)), draw(st.integers(k, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)), k, stride, padding


@PATHS
@given(case=pool_cases())
def test_max_pool2d_matches_direct_loops_and_scatter_gather_are_adjoint(path, case):
    with on_path(path):
        x, k, s, pad = case
        y, argmax = kernels.max_pool2d_forward(x, k, s, pad)
        np.testing.assert_array_equal(y, reference_pool(x, k, s, pad, np.max))
        g = np.random.default_rng(4).standard_normal(y.shape)
        dx = kernels.max_pool2d_scatter(g, argmax, x.shape, k, s, pad)
        # <scatter(g), x> == <g, gather(x)>, and gathering x itself gives back the maxima
        np.testing.assert_allclose(np.sum(dx * x), np.sum(g * y), rtol=1e-10)
        np.testing.assert_array_equal(kernels.max_pool2d_gather(x, argmax, k, s, pad), y)
        # all of each window's gradient lands in the window, on the winning pixel
        np.testing.assert_allclose(dx.sum(), g.sum(), rtol=1e-10, atol=1e-10)


@PATHS
@given(case=pool_cases())
def test_avg_pool2d_matches_direct_loops_and_its_backward_is_the_adjoint(path, case):
    with on_path(path):
        x, k, s, pad = case
        y = kernels.avg_pool2d_forward(x, k, s, pad)
        np.testing.assert_allclose(y, reference_pool(x, k, s, pad, np.mean) * 1.0, rtol=1e-12, atol=1e-12)
        g = np.random.default_rng(5).standard_normal(y.shape)
        dx = kernels.avg_pool2d_scatter(g, x.shape, k, s, pad)
        np.testing.assert_allclose(np.sum(dx * x), np.sum(g * y), rtol=1e-10, atol=1e-10)


@PATHS
def test_max_pool2d_ties_go_to_the_first_pixel_of_the_window(path):
    with on_path(path):
        x = np.ones((1, 1, 2, 2))
        _, argmax = kernels.max_pool2d_forward(x, 2)
        assert int(argmax[0, 0, 0, 0]) == 0


@given(scale=st.integers(1, 3), seed=st.integers(0, 100))
def test_upsample_nearest2d_repeats_pixels_and_backward_sums_blocks(scale, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, 3, 4))
    y = kernels.upsample_nearest2d_forward(x, scale)
    np.testing.assert_array_equal(y, x.repeat(scale, axis=2).repeat(scale, axis=3))
    g = np.random.default_rng(seed + 1).standard_normal(y.shape)
    np.testing.assert_allclose(np.sum(kernels.upsample_nearest2d_backward(g, scale) * x), np.sum(g * y))


# ----------------------------------------------------------------------------------- dtypes, array API


@PATHS
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_keeps_the_input_dtype(path, dtype):
    with on_path(path):
        rng = np.random.default_rng(6)
        x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
        w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
        g = rng.standard_normal((2, 4, 6, 6)).astype(dtype)
        y, argmax = kernels.max_pool2d_forward(x, 2)
        outputs = [
            kernels.conv2d_forward(x, w, rng.standard_normal(4).astype(dtype), 1, 1),
            kernels.conv2d_input_grad(g, w, x.shape, 1, 1),
            kernels.conv2d_weight_grad(x, g, 3, 1, 1),
            kernels.conv_transpose2d_forward(g, w, None, 2, 1, 1),
            y,
            kernels.max_pool2d_scatter(y, argmax, x.shape, 2),
            kernels.max_pool2d_gather(x, argmax, 2),
            kernels.avg_pool2d_forward(x, 2),
            kernels.avg_pool2d_scatter(y, x.shape, 2),
            kernels.upsample_nearest2d_forward(x, 2),
            kernels.upsample_nearest2d_backward(g, 2),
        ]
        assert [o.dtype for o in outputs] == [np.dtype(dtype)] * len(outputs)


def test_generic_path_runs_on_array_api_strict_arrays():
    """Only array-API operations: the same results on array_api_strict float64 arrays as on NumPy."""
    xp = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    b, g = rng.standard_normal(4), rng.standard_normal((2, 4, 4, 3))
    wt = rng.standard_normal((3, 2, 3, 3))

    def both(fn, *arrays):
        strict = fn(*[xp.asarray(a) if isinstance(a, np.ndarray) else a for a in arrays])
        assert strict.dtype == xp.float64
        np.testing.assert_allclose(np.asarray(strict), fn(*arrays), rtol=1e-10, atol=1e-10)

    both(lambda x, w, b: kernels.conv2d_forward(x, w, b, 2, 1, (1, 2)), x, w, b)
    both(lambda g, w: kernels.conv2d_input_grad(g, w, (2, 3, 7, 6), 2, 1, (1, 2)), g, w)
    both(lambda x, g: kernels.conv2d_weight_grad(x, g, (3, 2), 2, 1, (1, 2)), x, g)
    both(lambda x, w: kernels.conv_transpose2d_forward(x, w, None, 2, 1, 1), x, wt)
    both(lambda x: kernels.max_pool2d_forward(x, 2, 2, 1)[0], x)
    y, argmax = kernels.max_pool2d_forward(x, 3, 2, 1)
    both(lambda v: kernels.max_pool2d_scatter(v, xp.asarray(argmax) if not isinstance(v, np.ndarray) else argmax,
                                              x.shape, 3, 2, 1), y)
    both(lambda v: kernels.max_pool2d_gather(v, xp.asarray(argmax) if not isinstance(v, np.ndarray) else argmax,
                                             3, 2, 1), x)
    both(lambda x: kernels.avg_pool2d_forward(x, 3, 2, 1), x)
    both(lambda v: kernels.avg_pool2d_scatter(v, x.shape, 3, 2, 1), y)
    both(lambda x: kernels.upsample_nearest2d_forward(x, 2), x)
    both(lambda g: kernels.upsample_nearest2d_backward(g, (2, 1)), g[:, :, :4, :2])


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "message"),
    [
        ((3, 8, 8), (4, 3, 3, 3), {}, r"input must be 4-D .*\(3, 8, 8\)"),
        ((1, 3, 8, 8), (4, 3, 3), {}, r"weight must be 4-D .*\(4, 3, 3\)"),
        ((1, 2, 8, 8), (4, 3, 3, 3), {}, r"input has 2 channels .*\(1, 2, 8, 8\).* expects 3 .*\(4, 3, 3, 3\)"),
        ((1, 3, 2, 2), (4, 3, 5, 5), {"padding": 1}, r"kernel \(5, 5\).*larger than the padded input \(2, 2\)"),
        ((1, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}, r"stride must be >= 1"),
        ((1, 3, 8, 8), (4, 3, 3, 3), {"padding": -1}, r"padding must be >= 0"),
    ],
)
@PATHS
def test_conv2d_bad_input_raises_value_error_naming_the_shapes(path, x_shape, w_shape, kwargs, message):
    with on_path(path):
        with pytest.raises(ValueError, match=message):
            kernels.conv2d_forward(np.zeros(x_shape), np.zeros(w_shape), **kwargs)


@PATHS
def test_conv_transpose2d_and_pooling_bad_input(path):
    with on_path(path):
        with pytest.raises(ValueError, match=r"input has 3 channels .* expects 2"):
            kernels.conv_transpose2d_forward(np.zeros((1, 3, 4, 4)), np.zeros((2, 5, 3, 3)))
        with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be .* smaller than stride \(2, 2\)"):
            kernels.conv_transpose2d_forward(np.zeros((1, 2, 4, 4)), np.zeros((2, 5, 3, 3)), stride=2, output_padding=2)
        with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the kernel size \(3, 3\)"):
            kernels.max_pool2d_forward(np.zeros((1, 1, 8, 8)), 3, padding=2)
        with pytest.raises(ValueError, match=r"kernel \(4, 4\).*padded input \(3, 3\)"):
            kernels.avg_pool2d_forward(np.zeros((1, 1, 3, 3)), 4)
        with pytest.raises(TypeError, match="float32.*float64"):
            kernels.conv2d_forward(np.zeros((1, 1, 3, 3), np.float32), np.zeros((1, 1, 3, 3)))


# ------------------------------------------------------------------------------------------- dispatch


def test_environment_variable_switches_numba_off_at_import():
    code = "import numpy; from autograd_lite import kernels; print(kernels.uses_numba(numpy.ones(1)))"
    for value, expected in (("1", "False"), ("0", "True")):
        env = {**os.environ, kernels.DISABLE_NUMBA_VARIABLE: value}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert result.stdout.strip() == expected


def test_without_scipy_blas_convs_fall_back_to_the_generic_path(monkeypatch):
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((3, 2, 5, 5)), rng.standard_normal((4, 2, 3, 3))
    calls = []
    original = kernels.generic.conv2d_forward
    monkeypatch.setattr(kernels.generic, "conv2d_forward", lambda *a: calls.append(1) or original(*a))
    with_blas = kernels.conv2d_forward(x, w, None, 1, 1)
    assert calls == []
    monkeypatch.setattr(kernels._Numba, "has_blas", False)
    np.testing.assert_allclose(kernels.conv2d_forward(x, w, None, 1, 1), with_blas, rtol=1e-12)
    assert calls == [1]


def test_a_numba_conv_holds_blas_at_one_thread_only_while_it_runs():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]

    x = np.ones((4, 2, 5, 5), np.float32)
    kernels.conv2d_forward(x, np.ones((3, 2, 3, 3), np.float32), None, 1, 1)
    before = blas_threads()
    with kernels._Numba.one_blas_thread():
        assert set(blas_threads()) == {1}
    kernels.conv2d_weight_grad(x, np.ones((4, 3, 5, 5), np.float32), 3, 1, 1)
    assert blas_threads() == before


@PATHS
@given(case=conv_geometries(max_batch=3, max_side=7))
def test_conv2d_backward_in_one_pass_equals_the_two_gradients(path, case):
    with on_path(path):
        x, w, _, s, pad, d, _ = unpack(case)
        g = np.random.default_rng(9).standard_normal(reference_conv2d(x, w, None, s, pad, d).shape)
        dx, dw = kernels.conv2d_backward(x, g, w, s, pad, d)
        np.testing.assert_allclose(dx, kernels.conv2d_input_grad(g, w, x.shape, s, pad, d), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(dw, kernels.conv2d_weight_grad(x, g, w.shape[2:], s, pad, d), rtol=1e-10,
                                   atol=1e-10)


@PATHS
@given(case=conv_geometries(transposed=True, max_batch=3, max_side=7))
def test_conv_transpose2d_backward_in_one_pass_equals_the_two_gradients(path, case):
    with on_path(path):
        x, w, _, s, pad, d, _ = unpack(case)
        out_h = (x.shape[2] - 1) * s - 2 * pad + d * (w.shape[2] - 1) + 1
        out_w = (x.shape[3] - 1) * s - 2 * pad + d * (w.shape[3] - 1) + 1
        assume(min(out_h, out_w) >= 1)
        g = np.random.default_rng(10).standard_normal((x.shape[0], w.shape[1], out_h, out_w))
        dx, dw = kernels.conv_transpose2d_backward(x, g, w, s, pad, d)
        np.testing.assert_allclose(dx, kernels.conv_transpose2d_input_grad(g, w, s, pad, d), rtol=1e-10, atol=1e-10)
        expected_dw = kernels.conv_transpose2d_weight_grad(x, g, w.shape[2:], s, pad, d)
        np.testing.assert_allclose(dw, expected_dw, rtol=1e-10, atol=1e-10)


@PATHS
@pytest.mark.parametrize(("width", "stride", "padding", "dilation"), [(19, 1, 1, 1), (21, 2, 2, 2), (29, 3, 0, 1)])
def test_wide_images_agree_with_direct_loops(path, width, stride, padding, dilation):
    """Outputs wider than 8 pixels take the numba row-by-row copies (narrower ones a tap table)."""
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 2, 5, width)), rng.standard_normal((3, 2, 3, 3))
    with on_path(path):
        y = kernels.conv2d_forward(x, w, None, stride, padding, dilation)
        assert y.shape[3] > 8
        np.testing.assert_allclose(y, reference_conv2d(x, w, None, stride, padding, dilation), rtol=1e-10, atol=1e-10)
        g = rng.standard_normal(y.shape)
        dx, dw = kernels.conv2d_backward(x, g, w, stride, padding, dilation)
        np.testing.assert_allclose(np.sum(x * dx), np.sum(y * g), rtol=1e-10)
        expected_dw = reference_conv2d_weight_grad(x, g, 3, 3, stride, padding, dilation)
        np.testing.assert_allclose(dw, expected_dw, rtol=1e-10, atol=1e-10)


def test_geometry_arguments_accept_ints_pairs_and_numpy_ints_and_name_what_is_wrong():
    x, w = np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3))
    expected = kernels.conv2d_forward(x, w, None, 2, 1)
    np.testing.assert_array_equal(kernels.conv2d_forward(x, w, None, (2, 2), [1, 1]), expected)
    np.testing.assert_array_equal(kernels.conv2d_forward(x, w, None, np.int64(2), np.int32(1)), expected)
    assert kernels.upsample_nearest2d_forward(x, 2.0).shape == (1, 1, 12, 12)
    with pytest.raises(ValueError, match="stride must be an int or a pair of ints, got 1.5"):
        kernels.conv2d_forward(x, w, None, 1.5)
    with pytest.raises(ValueError, match=r"padding must be an int or a pair of ints, got \(1, 1, 1\)"):
        kernels.conv2d_forward(x, w, None, 1, (1, 1, 1))
    with pytest.raises(ValueError, match="scale_factor must be an int or a pair of ints, got 1.5"):
        kernels.upsample_nearest2d_forward(x, 1.5)
