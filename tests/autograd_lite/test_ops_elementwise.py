"""Element-wise ops: forward equals NumPy, gradients (and second gradients) match finite differences,
dtypes are preserved, broadcasting gradients un-broadcast, and the softplus/sigmoid family is stable."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    FLOAT_DTYPES,
    SECOND_ORDER_EXAMPLES,
    arrays,
    broadcastable_pairs,
    dtype_of,
    far_apart,
    nonzero_arrays,
    positive_arrays,
    shapes,
    skip_unless_numpy,
)

import autograd_lite as al
from autograd_lite import Tensor

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _away_from_clip_edges(shape, dtype):
    """Values at least 1e-2 away from the clip bounds -0.5 and 0.5."""
    return arrays(shape, dtype).map(lambda x: np.where(np.abs(np.abs(x) - 0.5) < 1e-2, x * 1.1, x).astype(dtype))


# name: (autograd_lite function, NumPy reference, input strategy factory, smooth)
UNARY = {
    "neg": (al.neg, np.negative, arrays, True),
    "exp": (al.exp, np.exp, arrays, True),
    "log": (al.log, np.log, positive_arrays, True),
    "sqrt": (al.sqrt, np.sqrt, positive_arrays, True),
    "abs": (al.abs, np.abs, nonzero_arrays, False),
    "sin": (al.sin, np.sin, arrays, True),
    "cos": (al.cos, np.cos, arrays, True),
    "tanh": (al.tanh, np.tanh, arrays, True),
    "sigmoid": (al.sigmoid, _sigmoid, arrays, True),
    "relu": (al.relu, lambda x: np.maximum(x, 0), nonzero_arrays, False),
    "leaky_relu": (lambda x: al.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), nonzero_arrays, False),
    "softplus": (al.softplus, lambda x: np.logaddexp(0, x), arrays, True),
    "silu": (al.silu, lambda x: x * _sigmoid(x), arrays, True),
    "gelu": (al.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), arrays, True),
    "gelu_tanh": (lambda x: al.gelu(x, approximate="tanh"), _gelu_tanh, arrays, True),
    "erf": (al.erf, _erf, arrays, True),
    "pow_2": (lambda x: x**2, lambda x: x**2, arrays, True),
    "pow_3": (lambda x: al.pow(x, 3), lambda x: x**3, arrays, True),
    "pow_half": (lambda x: x**0.5, np.sqrt, positive_arrays, True),
    "pow_minus_1.5": (lambda x: x**-1.5, lambda x: x**-1.5, positive_arrays, True),
    "clip": (lambda x: al.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), _away_from_clip_edges, False),
    "clip_low_only": (lambda x: al.clip(x, low=-0.5), lambda x: np.maximum(x, -0.5), _away_from_clip_edges, False),
}
SMOOTH_UNARY = [name for name, spec in UNARY.items() if spec[3]]


def _positive_base(shape, dtype):
    return positive_arrays(shape, dtype, 0.5, 2.0)


def _denominator(shape, dtype):
    return nonzero_arrays(shape, dtype, margin=0.5)


# name: (autograd_lite function, NumPy reference, first input, second input, smooth)
BINARY = {
    "add": (al.add, np.add, arrays, arrays, True),
    "sub": (al.sub, np.subtract, arrays, arrays, True),
    "mul": (al.mul, np.multiply, arrays, arrays, True),
    "div": (al.div, np.divide, arrays, _denominator, True),
    "pow": (al.pow, np.power, _positive_base, arrays, True),
    "maximum": (al.maximum, np.maximum, arrays, arrays, False),
    "minimum": (al.minimum, np.minimum, arrays, arrays, False),
}
SMOOTH_BINARY = [name for name, spec in BINARY.items() if spec[4]]

small_shapes = shapes(max_dims=2, max_side=3)


def _leaf(array, requires_grad=True):
    return Tensor(array, requires_grad=requires_grad)


def _tolerance(dtype):
    return {"rtol": 2e-6, "atol": 1e-6} if np.dtype(dtype) == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


@st.composite
def unary_case(draw, name, dtype=np.float64, shape=None):
    return draw(UNARY[name][2](shapes() if shape is None else shape, dtype))


@st.composite
def binary_case(draw, name, dtype=np.float64, pairs=None):
    shape_a, shape_b = draw(broadcastable_pairs() if pairs is None else pairs)
    a = draw(BINARY[name][2](shape_a, dtype))
    b = draw(BINARY[name][3](shape_b, dtype))
    if name in ("maximum", "minimum"):
        far_apart(a, b)
    return a, b


# ----- forward -----
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_forward_equals_numpy(name, dtype, data):
    """Every unary op computes what its NumPy formula computes."""
    x = data.draw(unary_case(name, dtype))
    fn, reference = UNARY[name][:2]
    out = fn(Tensor(x))
    np.testing.assert_allclose(out.numpy(), reference(x.astype(np.float64)), **_tolerance(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_forward_equals_numpy_with_broadcasting(name, dtype, data):
    """Every binary op broadcasts and computes like NumPy."""
    a, b = data.draw(binary_case(name, dtype))
    fn, reference = BINARY[name][:2]
    out = fn(Tensor(a), Tensor(b))
    expected = reference(a.astype(np.float64), b.astype(np.float64))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, **_tolerance(dtype))


@given(data=st.data())
def test_where_forward_picks_a_where_condition_holds(data):
    """where(c, a, b) equals np.where(c, a, b), broadcasting all three."""
    shape_a, shape_b = data.draw(broadcastable_pairs())
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    condition = data.draw(arrays(np.broadcast_shapes(shape_a, shape_b), np.float64)) > 0
    np.testing.assert_array_equal(al.where(condition, Tensor(a), Tensor(b)).numpy(), np.where(condition, a, b))


# ----- first-order gradients -----
@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_gradient_matches_finite_differences(name, data):
    """The backward of every unary op agrees with central differences."""
    x = data.draw(unary_case(name))
    assert al.gradcheck(UNARY[name][0], [x])


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_gradient_matches_finite_differences_under_broadcasting(name, data):
    """Gradients of binary ops, summed back over broadcast axes, agree with central differences."""
    a, b = data.draw(binary_case(name))
    assert al.gradcheck(BINARY[name][0], [a, b])


@given(data=st.data())
def test_where_gradient_goes_to_the_chosen_side(data):
    """where's gradient flows to a where the condition holds and to b elsewhere (finite differences)."""
    shape_a, shape_b = data.draw(broadcastable_pairs())
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    condition = data.draw(arrays(np.broadcast_shapes(shape_a, shape_b), np.float64)) > 0
    assert al.gradcheck(lambda a, b: al.where(condition, a, b), [a, b])


@given(data=st.data())
def test_gradient_with_a_python_number_operand(data):
    """Mixing a Tensor with Python numbers (reflected operators included) differentiates correctly."""
    x = data.draw(positive_arrays(shapes()))
    assert al.gradcheck(lambda x: 2.0 - x * 3 + 1 / x - 2**x + x / 4, [x])


# ----- second-order gradients -----
@settings(max_examples=SECOND_ORDER_EXAMPLES)
@pytest.mark.parametrize("name", SMOOTH_UNARY)
@given(data=st.data())
def test_unary_second_gradient_matches_finite_differences(name, data):
    """The gradient of every smooth unary op is itself correctly differentiable."""
    x = data.draw(unary_case(name, shape=small_shapes))
    assert al.gradgradcheck(UNARY[name][0], [x])


@settings(max_examples=SECOND_ORDER_EXAMPLES)
@pytest.mark.parametrize("name", SMOOTH_BINARY)
@given(data=st.data())
def test_binary_second_gradient_matches_finite_differences(name, data):
    """The gradients of every smooth binary op are themselves correctly differentiable."""
    a, b = data.draw(binary_case(name, pairs=broadcastable_pairs(max_dims=2, max_side=3)))
    assert al.gradgradcheck(BINARY[name][0], [a, b])


# ----- dtypes -----
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_preserves_dtype_of_output_and_gradient(name, dtype):
    """A float32 (float64) input gives a float32 (float64) output and gradient."""
    x = _leaf(np.array([[0.3, 1.7], [2.2, 0.9]], dtype=dtype))
    out = UNARY[name][0](x)
    out.sum().backward()
    assert dtype_of(out) == dtype
    assert dtype_of(x.grad) == dtype


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", [*BINARY, "where"])
def test_binary_preserves_dtype_of_output_and_gradients(name, dtype):
    """Binary ops keep the dtype, in the output and in both (un-broadcast) gradients."""
    a = _leaf(np.array([[0.6, 1.3, 2.5]], dtype=dtype))
    b = _leaf(np.array([[1.1], [0.7]], dtype=dtype))
    out = al.where(np.array([True, False, True]), a, b) if name == "where" else BINARY[name][0](a, b)
    out.sum().backward()
    assert (dtype_of(out), dtype_of(a.grad), dtype_of(b.grad)) == (dtype, dtype, dtype)
    assert (a.grad.shape, b.grad.shape) == (a.shape, b.shape)


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_float32_gradient_is_the_float64_gradient_rounded(name, data):
    """In float32 the gradient equals the float64 one to float32 accuracy (no precision lost in backward)."""
    x = data.draw(unary_case(name, np.float32))
    grads = []
    for dtype in FLOAT_DTYPES:
        leaf = _leaf(x.astype(dtype))
        UNARY[name][0](leaf).sum().backward()
        grads.append(leaf.grad.numpy().astype(np.float64))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_float32_gradients_are_the_float64_gradients_rounded(name, data):
    """In float32 both (un-broadcast) gradients equal the float64 ones to float32 accuracy."""
    a, b = data.draw(binary_case(name, np.float32))
    grads = []
    for dtype in FLOAT_DTYPES:
        leaves = [_leaf(a.astype(dtype)), _leaf(b.astype(dtype))]
        BINARY[name][0](*leaves).sum().backward()
        grads.append([leaf.grad.numpy().astype(np.float64) for leaf in leaves])
    for g32, g64 in zip(*grads):
        np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_python_numbers_take_the_tensor_dtype(dtype):
    """A Python number combined with a tensor does not change its dtype (e.g. float32 stays float32)."""
    x = Tensor(np.ones(3, dtype=dtype))
    for out in (x + 1.5, 2.0 * x, x / 3, 1 - x, x**2.5, 2.0**x, al.maximum(x, 0.5), al.where(x > 0, x, 0.0)):
        assert dtype_of(out) == dtype


# ----- properties of particular ops -----
@given(data=st.data())
def test_broadcast_gradient_sums_over_the_broadcast_axes(data):
    """d sum(a + b)/da counts how many times each element of a was broadcast."""
    shape_a, shape_b = data.draw(broadcastable_pairs())
    a, b = _leaf(data.draw(arrays(shape_a))), _leaf(data.draw(arrays(shape_b)))
    (a + b).sum().backward()
    out_size = int(np.prod(np.broadcast_shapes(shape_a, shape_b)))
    np.testing.assert_array_equal(a.grad.numpy(), np.full(shape_a, out_size / max(int(np.prod(shape_a)), 1)))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(shape_b, out_size / max(int(np.prod(shape_b)), 1)))


@pytest.mark.parametrize("fn", [al.maximum, al.minimum])
def test_maximum_and_minimum_split_the_gradient_at_ties(fn):
    """At a tie, maximum/minimum give each input half of the gradient (as PyTorch does)."""
    a, b = _leaf(np.array([1.0, 2.0, 3.0])), _leaf(np.array([1.0, 0.0, 5.0]))
    fn(a, b).sum().backward()
    win_a = [1.0, 1.0, 0.0] if fn is al.maximum else [1.0, 0.0, 1.0]
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, *win_a[1:]])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, *(1 - np.array(win_a[1:]))])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_constant_powers_zero_and_one_have_finite_derivatives_at_zero():
    """d(x^0)/dx = 0 and d2(x^1)/dx2 = 0 also at x = 0 (no 0 * inf = NaN)."""
    x = _leaf(np.array([0.0, 2.0]))
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    assert al.gradgradcheck(lambda x: x**1 * 3.0, [np.array([0.0, 2.0])])


def test_clip_passes_the_gradient_only_inside_the_bounds():
    """clip's gradient is 1 strictly inside [low, high] and 0 outside."""
    x = _leaf(np.array([-2.0, -0.3, 0.4, 1.5]))
    al.clip(x, -0.5, 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 0])


def test_clip_rejects_bad_bounds():
    """clip needs at least one bound, and low <= high."""
    x = Tensor(np.ones(3))
    with pytest.raises(ValueError, match="low, high or both"):
        al.clip(x)
    with pytest.raises(ValueError, match="greater than high"):
        al.clip(x, 1.0, -1.0)


def test_where_rejects_a_non_boolean_condition():
    """where's condition must be a boolean array (a float tensor is a likely mistake)."""
    with pytest.raises(TypeError, match="boolean"):
        al.where(Tensor(np.ones(3)), Tensor(np.ones(3)), 0.0)


def test_gelu_rejects_an_unknown_approximation():
    """gelu's approximate is 'none' or 'tanh'."""
    with pytest.raises(ValueError, match="approximate"):
        al.gelu(Tensor(np.ones(2)), approximate="sigmoid")


def test_numpy_array_on_the_left_gives_a_tensor():
    """ndarray (op) Tensor uses the Tensor's reflected operator, giving a differentiable Tensor."""
    skip_unless_numpy("NumPy hands `ndarray * Tensor` to Tensor.__rmul__ (its __array_ufunc__ protocol); "
                      "array_api_strict's array on the left raises TypeError itself before the Tensor is asked, "
                      "and a NumPy array meeting a device tensor is refused by design")
    x = _leaf(np.array([1.0, 2.0]))
    out = np.array([3.0, 4.0]) * x
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


# ----- numerical stability -----
EXTREME = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softplus_is_finite_and_correct_at_large_magnitudes(dtype):
    """softplus(x) = log(1 + e^x) gives x for large x, e^x for very negative x, no overflow."""
    x = _leaf(EXTREME.astype(dtype))
    y = al.softplus(x)
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), np.logaddexp(0, EXTREME), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 0.5, 1, 1], atol=1e-6)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_sigmoid_keeps_relative_precision_for_negative_inputs(dtype):
    """sigmoid(x) for x in [-80, -5] is accurate to a few ulps, not rounded against 1 (e.g. to 0 at x = -40)."""
    x = np.linspace(-80.0, -5.0, 16)
    expected = 1 / (1 + np.exp(-x))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(al.sigmoid(Tensor(x.astype(dtype))).numpy(), expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_sigmoid_is_finite_and_saturates_at_large_magnitudes(dtype):
    """sigmoid(+-1000) is 1 or 0 with a zero gradient, never NaN."""
    x = _leaf(EXTREME.astype(dtype))
    y = al.sigmoid(x)
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [0, 0, 0.5, 1, 1], atol=1e-6)
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 0.25, 0, 0], atol=1e-6)
