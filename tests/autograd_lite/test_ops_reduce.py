"""Reductions and the softmax family: forward equals NumPy, gradients match finite differences, dtypes are
kept, ties share the gradient, and logsumexp/softmax/log_softmax are stable at |x| ~ 1000."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import (
    FLOAT_DTYPES,
    SECOND_ORDER_EXAMPLES,
    arrays,
    distinct_arrays,
    dtype_of,
    shape_and_axis,
    shape_and_one_axis,
)

import autograd_lite as al
from autograd_lite import Tensor


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name: (autograd_lite function of (x, axis, keepdims), NumPy reference, needs distinct values, smooth)
AXIS_REDUCTIONS = {
    "sum": (al.sum, np.sum, False, True),
    "mean": (al.mean, np.mean, False, True),
    "var": (al.var, np.var, False, True),
    "var_ddof1": (
        lambda x, axis, keepdims: al.var(x, axis, keepdims, ddof=1),
        lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1),
        False,
        True,
    ),
    "max": (al.max, np.max, True, False),
    "min": (al.min, np.min, True, False),
    "logsumexp": (al.logsumexp, _np_logsumexp, False, True),
}
SMOOTH_REDUCTIONS = [name for name, spec in AXIS_REDUCTIONS.items() if spec[3]]

SOFTMAXES = {
    "softmax": (al.softmax, _np_softmax),
    "log_softmax": (al.log_softmax, lambda x, axis: np.log(_np_softmax(x, axis))),
}


def _tolerance(dtype):
    return {"rtol": 5e-6, "atol": 5e-6} if np.dtype(dtype) == np.float32 else {"rtol": 1e-10, "atol": 1e-12}


@st.composite
def reduction_case(draw, name, dtype=np.float64, max_dims=3):
    shape, axis = draw(shape_and_axis(max_dims=max_dims))
    if name == "var_ddof1":  # needs at least two reduced elements
        axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
        if int(np.prod([shape[a] for a in axes])) < 2:
            shape = tuple(max(n, 2) for n in shape)
    values = distinct_arrays(shape, dtype) if AXIS_REDUCTIONS[name][2] else arrays(shape, dtype)
    return draw(values), axis, draw(st.booleans())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", AXIS_REDUCTIONS)
@given(data=st.data())
def test_reduction_forward_equals_numpy(name, dtype, data):
    """Every reduction over any axis (None, one, negative, several; keepdims or not) matches NumPy."""
    x, axis, keepdims = data.draw(reduction_case(name, dtype))
    fn, reference = AXIS_REDUCTIONS[name][:2]
    out = fn(Tensor(x), axis, keepdims)
    expected = reference(x.astype(np.float64), axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, **_tolerance(dtype))


@pytest.mark.parametrize("name", AXIS_REDUCTIONS)
@given(data=st.data())
def test_reduction_gradient_matches_finite_differences(name, data):
    """The gradient of every reduction agrees with central differences."""
    x, axis, keepdims = data.draw(reduction_case(name))
    assert al.gradcheck(lambda x: AXIS_REDUCTIONS[name][0](x, axis, keepdims), [x])


@settings(max_examples=SECOND_ORDER_EXAMPLES)
@pytest.mark.parametrize("name", SMOOTH_REDUCTIONS)
@given(data=st.data())
def test_reduction_second_gradient_matches_finite_differences(name, data):
    """The gradient of every smooth reduction is itself correctly differentiable."""
    x, axis, keepdims = data.draw(reduction_case(name, max_dims=2))
    assert al.gradgradcheck(lambda x: AXIS_REDUCTIONS[name][0](x, axis, keepdims), [x])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_forward_equals_numpy(name, dtype, data):
    """softmax and log_softmax along any axis match their NumPy formulas."""
    shape, axis = data.draw(shape_and_one_axis())
    x = data.draw(arrays(shape, dtype))
    fn, reference = SOFTMAXES[name]
    np.testing.assert_allclose(fn(Tensor(x), axis).numpy(), reference(x.astype(np.float64), axis), **_tolerance(dtype))


@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_gradient_matches_finite_differences(name, data):
    """softmax and log_softmax gradients agree with central differences."""
    shape, axis = data.draw(shape_and_one_axis())
    x = data.draw(arrays(shape))
    assert al.gradcheck(lambda x: SOFTMAXES[name][0](x, axis), [x])


@settings(max_examples=SECOND_ORDER_EXAMPLES)
@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_second_gradient_matches_finite_differences(name, data):
    """softmax and log_softmax gradients are themselves correctly differentiable."""
    shape, axis = data.draw(shape_and_one_axis(max_dims=2))
    x = data.draw(arrays(shape))
    assert al.gradgradcheck(lambda x: SOFTMAXES[name][0](x, axis), [x])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", [*AXIS_REDUCTIONS, *SOFTMAXES])
def test_reduction_preserves_dtype_of_output_and_gradient(name, dtype):
    """float32 (float64) in gives float32 (float64) out and a float32 (float64) gradient."""
    x = Tensor(np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=dtype), requires_grad=True)
    out = SOFTMAXES[name][0](x, 1) if name in SOFTMAXES else AXIS_REDUCTIONS[name][0](x, 1, False)
    (out * Tensor(np.arange(out.size, dtype=dtype).reshape(out.shape))).sum().backward()
    assert dtype_of(out) == dtype
    assert dtype_of(x.grad) == dtype


@given(x=arrays(st.sampled_from([(3,), (2, 3), (2, 2, 3)])))
def test_softmax_rows_sum_to_one(x):
    """softmax is a probability vector along its axis."""
    np.testing.assert_allclose(al.softmax(Tensor(x), axis=-1).numpy().sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("fn", [al.max, al.min])
def test_max_and_min_share_the_gradient_between_ties(fn):
    """When several elements attain the max (min), each gets an equal share of the gradient."""
    x = Tensor(np.array([[2.0, 5.0, 5.0, 5.0], [-1.0, -1.0, 3.0, 0.0]]), requires_grad=True)
    fn(x, axis=1).sum().backward()
    expected = [[0, 1 / 3, 1 / 3, 1 / 3], [0, 0, 1, 0]] if fn is al.max else [[1, 0, 0, 0], [0.5, 0.5, 0, 0]]
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_mean_gradient_is_one_over_the_count():
    """d mean(x)/dx_i = 1/n over the reduced axes."""
    x = Tensor(np.ones((2, 5)), requires_grad=True)
    x.mean(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 5), 0.2))


# ----- stability at |x| ~ 1000 -----
LARGE = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -1000.5]])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_logsumexp_is_finite_and_correct_at_large_magnitudes(dtype):
    """logsumexp of values near +-1000 is exact to rounding, with a softmax gradient, no overflow."""
    x = Tensor(LARGE.astype(dtype), requires_grad=True)
    y = al.logsumexp(x, axis=1)
    y.sum().backward()
    expected = [1000 + np.log1p(np.exp(-1.0)), -1000 + np.log(1 + np.exp(-1.0) + np.exp(-0.5))]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    # float32 holds 1000.3 only to ~6e-5, so exp(x - logsumexp) is that accurate there (as in PyTorch).
    np.testing.assert_allclose(x.grad.numpy(), _np_softmax(LARGE, 1), atol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_is_finite_and_correct_at_large_magnitudes(dtype):
    """softmax of values near +-1000 gives the right probabilities and finite gradients."""
    x = Tensor(LARGE.astype(dtype), requires_grad=True)
    y = al.softmax(x, axis=1)
    (y * Tensor(np.array([1.0, 2.0, 3.0], dtype=dtype))).sum().backward()
    np.testing.assert_allclose(y.numpy(), _np_softmax(LARGE, 1), atol=1e-6)
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_log_softmax_is_finite_and_correct_at_large_magnitudes(dtype):
    """log_softmax of values near +-1000 is finite (-2000, not -inf) and has finite gradients."""
    x = Tensor(LARGE.astype(dtype), requires_grad=True)
    y = al.log_softmax(x, axis=1)
    y.sum().backward()
    shifted = LARGE - LARGE.max(axis=1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    atol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(x.grad.numpy(), 1 - 3 * _np_softmax(LARGE, 1), atol=atol)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    """logsumexp over an axis where every entry is -inf is -inf, not NaN."""
    x = Tensor(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    np.testing.assert_array_equal(al.logsumexp(x, axis=1).numpy(), [-np.inf, np.log(2)])


# ----- bad input -----
@pytest.mark.parametrize("fn", [al.sum, al.mean, al.max, al.min, al.logsumexp, al.var])
def test_reductions_reject_an_out_of_range_axis(fn):
    """An axis the tensor does not have is a ValueError naming it."""
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        fn(Tensor(np.ones((2, 3))), axis=2)


@pytest.mark.parametrize("fn", [al.sum, al.mean])
def test_reductions_reject_a_repeated_axis(fn):
    """The same axis twice is a ValueError."""
    with pytest.raises(ValueError, match="repeated axis"):
        fn(Tensor(np.ones((2, 3))), axis=(1, -1))


@pytest.mark.parametrize("fn", [al.softmax, al.log_softmax])
def test_softmax_rejects_an_out_of_range_axis(fn):
    """softmax over an axis the tensor does not have is a ValueError."""
    with pytest.raises(ValueError, match="out of range"):
        fn(Tensor(np.ones((2, 3))), axis=-3)


def test_max_of_an_empty_axis_is_an_error():
    """max over an empty axis has no value: a ValueError."""
    with pytest.raises(ValueError, match="empty"):
        al.max(Tensor(np.ones((2, 0))), axis=1)


def test_var_needs_more_elements_than_ddof():
    """var with ddof >= n is undefined: a ValueError."""
    with pytest.raises(ValueError, match="ddof"):
        al.var(Tensor(np.ones((3, 1))), axis=1, ddof=1)


# ----- log_softmax_pick: a categorical log-likelihood in one op -----
@st.composite
def pick_cases(draw):
    """x (float64, any shape), one axis, and integer categories shaped like x without that axis."""
    shape, axis = draw(shape_and_one_axis())
    rest = tuple(n for i, n in enumerate(shape) if i != axis % len(shape))
    x = draw(arrays(shape))
    index = draw(hnp.arrays(np.int64, rest, elements=st.integers(0, shape[axis] - 1)))
    return x, axis, index


@given(pick_cases())
def test_log_softmax_pick_equals_log_softmax_then_take(case):
    """log_softmax_pick(x, c, axis) = take_along_axis(log_softmax(x, axis), c) to 1e-12."""
    x, axis, index = case
    expected = np.take_along_axis(np.log(_np_softmax(x, axis)), np.expand_dims(index, axis), axis).squeeze(axis)
    np.testing.assert_allclose(al.log_softmax_pick(Tensor(x), index, axis).numpy(), expected, rtol=1e-12, atol=1e-12)


@given(pick_cases())
def test_log_softmax_pick_gradients_match_finite_differences(case):
    """Its gradient (plain backward and the differentiable form) and its second gradient pass the checks."""
    x, axis, index = case
    f = lambda t: al.log_softmax_pick(t, index, axis)  # noqa: E731
    assert al.gradcheck(f, [Tensor(x, requires_grad=True)])
    assert al.gradgradcheck(f, [Tensor(x, requires_grad=True)])


def test_log_softmax_pick_fast_backward_equals_the_differentiable_one():
    """The no-graph backward (one in-place pass) gives the same gradient as the graph-recording one."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 5, 17, 6)), requires_grad=True)
    index = rng.integers(0, 17, (5, 6))  # broadcast over the leading axis (k importance samples)
    weights = Tensor(rng.standard_normal((3, 5, 6)))
    (al.log_softmax_pick(x, index, -2) * weights).sum().backward()
    fast = x.grad.numpy()
    (graph,) = al.grad((al.log_softmax_pick(x, index, -2) * weights).sum(), x, create_graph=True)
    np.testing.assert_allclose(fast, graph.numpy(), rtol=1e-13, atol=1e-13)
    assert fast.shape == x.shape


def test_log_softmax_pick_is_finite_at_large_magnitudes():
    """Logits near +-1000 give finite log-probabilities (the chosen one near 0, the others near -2000)."""
    x = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), requires_grad=True)
    y = al.log_softmax_pick(x, np.array([0, 0]), axis=1)
    np.testing.assert_allclose(y.numpy(), [0.0, -2000.0])
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("index, error", [
    (np.array([0, 3]), ValueError),             # category out of range
    (np.array([-1, 0]), ValueError),
    (np.array([0.0, 1.0]), TypeError),          # not integers
    (np.array([0, 1, 2]), ValueError),          # does not broadcast to x without the axis
])
def test_log_softmax_pick_rejects_bad_indices(index, error):
    """Bad category indices raise an error naming log_softmax_pick."""
    with pytest.raises(error, match="log_softmax_pick"):
        al.log_softmax_pick(Tensor(np.zeros((2, 3))), index, axis=1)
