"""Hypothesis strategies for the engine's tests: small shapes, broadcastable shape pairs, bounded arrays.

Shapes stay small (at most 3 axes of at most 4) so finite-difference gradient checks stay fast; values
stay bounded (and, where an op has a kink or a pole, away from it) so the properties are meaningful.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_lite import backend, kernels

FLOAT_DTYPES = (np.float32, np.float64)
# Examples per second-order gradient property: the CI profile runs enough to cover the broadcasting and
# shape cases of every op (about 40 each); a local run (the dev profile) stays quick.
SECOND_ORDER_EXAMPLES = 40 if os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev") == "ci" \
    else 10
MAX_DIMS = 3
MAX_SIDE = 4


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE):
    """Array shapes with few, short axes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_pairs(max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE):
    """Two shapes that broadcast against each other (NumPy's rules), e.g. (3, 1) and (4,)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_dims, max_side=max_side).map(
        lambda shapes: shapes.input_shapes
    )


def _elements(dtype, low: float, high: float, margin: float = 0.0):
    """Floats in [low, high] representable in ``dtype``; with a margin, |x| >= margin (away from 0)."""
    dtype = np.dtype(dtype).type
    low, high = _inward(dtype, low, np.inf), _inward(dtype, high, -np.inf)
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False, width=8 * np.dtype(dtype).itemsize)
    if margin:
        margin = _inward(dtype, margin, np.inf)
        floats = floats.map(lambda x: x if abs(x) >= margin else float(np.copysign(margin, x)))
    return floats


def _inward(dtype, bound: float, towards: float) -> float:
    """``bound`` rounded to ``dtype``, moved one step towards ``towards`` if rounding went the wrong way."""
    rounded = dtype(bound)
    if (rounded < bound and towards > bound) or (rounded > bound and towards < bound):
        rounded = np.nextafter(rounded, dtype(towards))
    return float(rounded)


def arrays(shape, dtype=np.float64, low: float = -3.0, high: float = 3.0, margin: float = 0.0):
    """Bounded float arrays of ``shape`` (a tuple or a strategy); ``margin`` keeps |x| >= margin."""
    return hnp.arrays(np.dtype(dtype), shape, elements=_elements(dtype, low, high, margin))


def positive_arrays(shape, dtype=np.float64, low: float = 0.2, high: float = 3.0):
    """Arrays in [low, high], low > 0: inputs for log, sqrt and powers."""
    return arrays(shape, dtype, low, high)


def nonzero_arrays(shape, dtype=np.float64, margin: float = 1e-2, high: float = 3.0):
    """Arrays with margin <= |x| <= high: inputs for abs, relu, leaky_relu (away from the kink at 0)."""
    return arrays(shape, dtype, -high, high, margin)


@st.composite
def distinct_arrays(draw, shape, dtype=np.float64, spacing: float = 0.25):
    """Arrays whose values are pairwise at least ``spacing`` apart (no ties for max/min), in a random order."""
    shape = draw(shape) if isinstance(shape, st.SearchStrategy) else shape
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    offset = draw(st.floats(-1.0, 1.0))
    values = (np.asarray(order, dtype=np.float64) - size / 2) * spacing + offset
    return values.reshape(shape).astype(dtype)


def far_apart(a: np.ndarray, b: np.ndarray, gap: float = 1e-2) -> None:
    """Reject examples where broadcast a and b come within ``gap`` of each other (ties of maximum/minimum)."""
    assume(bool(np.all(np.abs(np.subtract(a, b, dtype=np.float64)) >= gap)))


@st.composite
def shape_and_axis(draw, min_dims: int = 1, max_dims: int = MAX_DIMS):
    """A shape and a reduction axis for it: None, one (possibly negative) axis, or a tuple of axes."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return shape, tuple(axes)


@st.composite
def shape_and_one_axis(draw, min_dims: int = 1, max_dims: int = MAX_DIMS):
    """A shape and one axis of it (possibly negative): for softmax and friends."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


# The kernel paths: numba for NumPy arrays, or the generic array-API code.
PATHS = pytest.mark.parametrize("path", ["numba", "generic"])


@contextlib.contextmanager
def on_path(path: str):
    """Run the body on one kernel path, restoring the previous choice after."""
    before = kernels.numba_enabled()
    kernels.set_numba_enabled(path == "numba")
    try:
        yield
    finally:
        kernels.set_numba_enabled(before)


@st.composite
def conv_geometries(draw, transposed: bool = False, max_batch: int = 2, max_side: int = 6):
    """(x, weight, bias, dict(stride, padding, dilation), output_padding) for a small convolution: every
    stride / padding / dilation combination that gives a non-empty output."""
    n, c_in, c_out = draw(st.integers(1, max_batch)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding, dilation = draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    output_padding = draw(st.integers(0, stride - 1)) if transposed else 0
    if transposed:
        assume((min(h, w) - 1) * stride - 2 * padding + dilation * (min(kh, kw) - 1) + output_padding >= 0)
    else:
        assume(dilation * (max(kh, kw) - 1) + 1 <= min(h, w) + 2 * padding)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_in, c_out, kh, kw) if transposed else (c_out, c_in, kh, kw))
    bias = rng.standard_normal(c_out)
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation), output_padding


def dtype_of(array) -> np.dtype:
    """The NumPy dtype of a Tensor's or array's data on any device (array_api_strict has dtypes of its own)."""
    return np.dtype(backend.dtype_name(array.dtype))


def on_device(array):
    """A NumPy array (or list, or number) as an array of the test's device (the default device): unchanged on
    the CPU, so a test that builds its plain-array operands with it checks NumPy exactly as before."""
    return backend.to_device(np.asarray(array), backend.get_default_device())


def skip_unless_numpy(reason: str) -> None:
    """Skip the running test unless it runs on NumPy ('cpu'): for behaviour that exists only there."""
    if backend.get_default_device() != "cpu":
        pytest.skip(f"NumPy only ({backend.get_default_device()} runs): {reason}")
