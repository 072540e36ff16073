"""Contracts of the element-wise and reduction ops that the broader property tests leave open (issue 14,
mutation testing of ``autograd_lite/ops/elementwise.py`` and ``autograd_lite/ops/reduce.py``).

Each test pins one behaviour a user can observe:

* a backward computes only the gradients that are asked for (with ``np.errstate(all="raise")`` an
  unrequested gradient that would overflow, or take the log of a negative base, must not be evaluated);
* derivatives at the kinks follow PyTorch's conventions: ``|x|`` and ``relu`` have gradient 0 at 0,
  ``leaky_relu`` has the slope there, ``clip`` passes the gradient on its bounds (including ``low == high``);
* ``leaky_relu`` with slopes outside [0, 1], infinite clip bounds, list conditions and list indices;
* defaults (``leaky_relu``'s slope, ``keepdims=False``), error types and messages naming the op/argument;
* the same ops on the ``array_api_strict`` namespace (no NumPy-only calls) agree with NumPy, in float32;
* ``log_softmax_pick`` on non-contiguous inputs, on rows of very different scale, and along axis 0.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special

import autograd_lite as al
from autograd_lite import Tensor, backend

STRICT = "array_api_strict"


def _leaf(values, dtype="float64", device="cpu"):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True, dtype=dtype, device=device)


def _const(values, dtype="float64", device="cpu"):
    return Tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device)


def _grads(y, inputs, grad_output=None, create_graph=False):
    seed = np.ones(y.shape) if grad_output is None else np.asarray(grad_output, dtype=np.float64)
    seed = Tensor(seed, dtype=y.dtype, device=y.device)
    return al.grad(y, inputs, grad_outputs=seed, create_graph=create_graph)


def _dtype(t):
    return backend.dtype_name(t.dtype)


def _needs_strict():
    pytest.importorskip("array_api_strict")


# ----- a backward evaluates only the gradients that are needed -----
def _sub_base_only():
    a, b = _leaf([1.0, 2.0]), _const([0.5])
    return a - b, a, [1e308, 1e308], [1e308, 1e308]


def _mul_second_only():
    a, b = _const([1e-200, 2e-200]), _leaf([1e200, 1e200])
    return a * b, b, [1e200, 1e200], [1.0, 2.0]


def _mul_first_only():
    a, b = _leaf([1e200, 1e200]), _const([1e-200, 2e-200])
    return a * b, a, [1e200, 1e200], [1.0, 2.0]


def _div_denominator_only():
    a, b = _const([0.0, 0.0]), _leaf([1e-200, 2e-200])
    return a / b, b, [1e200, 1e200], [-0.0, -0.0]


def _div_numerator_only():
    a, b = _leaf([1.0, 1.0]), _const([1e-200, 1e-200])
    return a / b, a, [1.0, 1.0], [1e200, 1e200]


def _pow_exponent_only():
    a, b = _const([1e-300]), _leaf([-0.5])
    return al.pow(a, b), b, [1.0], [1e150 * math.log(1e-300)]


def _pow_negative_base_only():
    a, b = _leaf([-2.0, -1.5]), _const([3.0, 2.0])  # d/db a^b = a^b log(a) does not exist for a < 0
    return al.pow(a, b), a, [1.0, 1.0], [12.0, -3.0]


def _where_second_only():
    a, b = _const([1.0]), _leaf([2.0, 3.0])
    return al.where(np.array([True, True]), a, b), b, [1e308, 1e308], [0.0, 0.0]


def _where_first_only():
    a, b = _leaf([2.0, 3.0]), _const([1.0])
    return al.where(np.array([False, False]), a, b), a, [1e308, 1e308], [0.0, 0.0]


@pytest.mark.parametrize("case", [
    _sub_base_only, _mul_second_only, _mul_first_only, _div_denominator_only, _div_numerator_only,
    _pow_exponent_only, _pow_negative_base_only, _where_second_only, _where_first_only,
], ids=lambda f: f.__name__.lstrip("_"))
def test_backward_skips_the_gradient_of_a_constant_operand(case):
    """Under np.errstate(all='raise') the constant operand's gradient (which would overflow or be NaN) is
    never computed, and the requested one is exact."""
    with np.errstate(all="raise"):
        y, x, grad_output, expected = case()
        (g,) = _grads(y, [x], grad_output)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)


def test_pow_with_a_constant_tensor_exponent_differentiates_the_base():
    x = _leaf([0.5, 1.5, 2.0])
    e = _const([2.0, 3.0, 0.5])
    (g,) = _grads(al.pow(x, e), [x])
    np.testing.assert_allclose(g.numpy(), [2 * 0.5, 3 * 1.5**2, 0.5 * 2.0**-0.5], rtol=1e-12)


def test_cast_backward_returns_the_gradient_in_the_input_dtype():
    x = _leaf([1.0, -2.0])
    y = al.cast(x, np.float32) * 3.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# ----- kinks: PyTorch's conventions -----
def test_abs_gradient_is_zero_at_zero():
    torch = pytest.importorskip("torch")
    values = [-2.0, 0.0, 3.0]
    x = _leaf(values)
    (g,) = _grads(al.abs(x), [x])
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    t.abs().sum().backward()
    np.testing.assert_array_equal(g.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(g.numpy(), [-1.0, 0.0, 1.0])


def test_relu_gradient_is_zero_at_zero():
    x = _leaf([-1.0, 0.0, 2.0])
    (g,) = _grads(al.relu(x), [x])
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 1.0])


def test_leaky_relu_gradient_at_zero_is_the_slope():
    torch = pytest.importorskip("torch")
    values = [-1.0, 0.0, 2.0]
    x = _leaf(values)
    (g,) = _grads(al.leaky_relu(x, 0.2), [x])
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.leaky_relu(t, 0.2).sum().backward()
    np.testing.assert_allclose(g.numpy(), t.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(g.numpy(), [0.2, 0.2, 1.0], rtol=1e-15)


def test_leaky_relu_default_slope_is_one_hundredth():
    x = _leaf([-3.0, 2.0])
    np.testing.assert_allclose(al.leaky_relu(x).numpy(), [-0.03, 2.0], rtol=1e-15)


@pytest.mark.parametrize("slope", [-0.5, 1.5, 2.0, 3.0])
def test_leaky_relu_with_a_slope_outside_zero_one_matches_torch(slope):
    """Values (including the sign of zero) and gradients for slopes where max(x, a x) is not leaky_relu."""
    torch = pytest.importorskip("torch")
    values = [-2.0, -0.5, -0.0, 0.0, 0.3, 1.0, 2.5]
    x = _leaf(values)
    y = al.leaky_relu(x, slope)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.leaky_relu(t, slope)
    np.testing.assert_array_equal(y.numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(np.signbit(y.numpy()), np.signbit(expected.detach().numpy()))
    (g,) = _grads(y, [x])
    expected.sum().backward()
    np.testing.assert_array_equal(g.numpy(), t.grad.numpy())


def test_leaky_relu_with_zero_slope_keeps_plus_infinity():
    torch = pytest.importorskip("torch")
    y = al.leaky_relu(_const([np.inf, 1.0]), 0.0)
    expected = torch.nn.functional.leaky_relu(torch.tensor([np.inf, 1.0], dtype=torch.float64), 0.0)
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


def test_clip_passes_the_gradient_on_its_bounds():
    torch = pytest.importorskip("torch")
    values = [-2.0, -1.0, 0.0, 1.0, 2.0]
    x = _leaf(values)
    (g,) = _grads(al.clip(x, -1.0, 1.0), [x])
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    torch.clamp(t, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(g.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(g.numpy(), [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_with_equal_bounds_is_allowed():
    x = _leaf([-1.0, 0.5, 2.0])
    y = al.clip(x, 0.5, 0.5)
    np.testing.assert_array_equal(y.numpy(), [0.5, 0.5, 0.5])
    (g,) = _grads(y, [x])
    np.testing.assert_array_equal(g.numpy(), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("low, high", [(-np.inf, 1.0), (-1.0, np.inf), (-np.inf, np.inf)])
def test_clip_accepts_an_infinite_bound_as_no_bound(low, high):
    values = [-3.0, -1.0, 0.0, 1.0, 3.0]
    x = _leaf(values)
    y = al.clip(x, low, high)
    np.testing.assert_array_equal(y.numpy(), np.clip(values, low, high))
    (g,) = _grads(y, [x])
    np.testing.assert_array_equal(g.numpy(), ((np.array(values) >= low) & (np.array(values) <= high)) * 1.0)


def test_clip_of_a_zero_dimensional_tensor():
    for low, high, expected in [(0.0, None, 1.0), (None, 0.25, 0.0), (0.0, 1.0, 1.0)]:
        x = _leaf(0.5)
        (g,) = _grads(al.clip(x, low, high), [x])
        assert g.shape == () and g.dtype == np.float64
        assert float(g.numpy()) == expected


# ----- where -----
def test_where_accepts_a_list_condition():
    a, b = _leaf([1.0, 2.0, 3.0]), _leaf([10.0, 20.0, 30.0])
    y = al.where([True, False, True], a, b)
    np.testing.assert_array_equal(y.numpy(), [1.0, 20.0, 3.0])


def test_where_refuses_a_ragged_condition_naming_it():
    with pytest.raises(TypeError, match="where: condition must be a boolean array"):
        al.where([[True], [True, False]], _leaf([1.0, 2.0]), 0.0)


def test_where_differentiates_the_first_operand_against_a_constant_second():
    a = _leaf([1.0, 2.0, 3.0])
    (g,) = _grads(al.where(np.array([True, False, True]), a, _const([0.0, 0.0, 0.0])), [a], [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(g.numpy(), [4.0, 0.0, 6.0])


def test_where_gradient_of_a_broadcast_float32_operand_is_summed_in_float32():
    """An all-true mask routes the gradient like the identity: bit for bit what broadcasting a gives."""
    upstream = np.array([1.0, 2.0**-24, 2.0**-24, 2.0**-24, 2.0**-24, 2.0**-24, 2.0**-24])
    a = _leaf([0.5], dtype="float32")
    b = _const(np.zeros(7), dtype="float32")
    (via_where,) = _grads(al.where(np.ones(7, dtype=bool), a, b), [a], upstream)
    (via_broadcast,) = _grads(al.broadcast_to(a, (7,)), [a], upstream)
    assert via_where.dtype == np.float32
    np.testing.assert_array_equal(via_where.numpy(), via_broadcast.numpy())
    np.testing.assert_array_equal(via_where.numpy(), upstream.astype(np.float32).sum(keepdims=True))


# ----- erf on every namespace -----
@pytest.mark.parametrize("device", ["cpu", STRICT])
def test_erf_and_its_gradient_match_scipy_on_each_device(device):
    if device == STRICT:
        _needs_strict()
    values = np.linspace(-3.0, 3.0, 13)
    x = _leaf(values, device=device)
    y = al.erf(x)
    assert y.device == device and _dtype(y) == "float64"
    np.testing.assert_allclose(y.numpy(), scipy.special.erf(values), rtol=1e-13, atol=1e-15)
    (g,) = _grads(y, [x])
    np.testing.assert_allclose(g.numpy(), 2 / math.sqrt(math.pi) * np.exp(-values**2), rtol=1e-13)


# ----- the array-API namespace agrees with NumPy (float32) -----
_MASKED = {
    "relu": lambda x, y: al.relu(x),
    "leaky_relu": lambda x, y: al.leaky_relu(x, 0.2),
    "leaky_relu_steep": lambda x, y: al.leaky_relu(x, 1.5),
    "maximum": lambda x, y: al.maximum(x, y),
    "minimum": lambda x, y: al.minimum(x, y),
    "clip": lambda x, y: al.clip(x, -0.5, 0.5),
    "where": lambda x, y: al.where(np.array([True, False, True, False, True, True]), x, y),
    "max_axis": lambda x, y: al.max(x.reshape(2, 3), axis=1),
    "min_all": lambda x, y: al.min(x),
    "logsumexp": lambda x, y: al.logsumexp(x.reshape(2, 3), axis=0),
    "log_softmax_pick": lambda x, y: al.log_softmax_pick(x.reshape(2, 3), np.array([2, 0])),
}


def _run_on(device, op):
    x = _leaf([-1.0, 0.0, 0.5, 2.0, 0.5, -0.25], dtype="float32", device=device)
    y = _leaf([0.0, 0.0, 1.0, 2.0, -1.0, -0.25], dtype="float32", device=device)  # ties at 0, 2, -0.25
    out = op(x, y)
    assert out.device == device and _dtype(out) == "float32"
    seed = Tensor(np.linspace(0.5, 2.0, out.size).reshape(out.shape), dtype="float32", device=device)
    grads = al.grad(out, [x, y], grad_outputs=seed, create_graph=True, allow_unused=True)
    return [out.numpy()] + [np.zeros(6, np.float32) if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("name", sorted(_MASKED))
def test_masked_ops_on_the_array_api_namespace_match_numpy(name):
    _needs_strict()
    expected = _run_on("cpu", _MASKED[name])
    for got, want in zip(_run_on(STRICT, _MASKED[name]), expected):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


# ----- reductions: defaults and errors -----
def test_mean_min_max_reduce_to_a_scalar_by_default():
    x = _leaf(np.arange(6.0).reshape(2, 3))
    assert al.mean(x).shape == ()
    assert al.min(x).shape == ()
    assert al.max(x).shape == ()
    assert al.var(x).shape == ()
    assert al.min(x, axis=1).shape == (2,)


@pytest.mark.parametrize("name", ["max", "min", "logsumexp"])
def test_reduction_of_an_empty_axis_names_the_op(name):
    x = _leaf(np.zeros((2, 0)))
    with pytest.raises(ValueError, match=rf"^{name} of an empty axis \(shape \(2, 0\)\)"):
        getattr(al, name)(x, axis=1)


# ----- log_softmax_pick -----
def _log_softmax(x, axis):
    return x - scipy.special.logsumexp(x, axis=axis, keepdims=True)


def test_log_softmax_pick_accepts_a_list_index():
    x = np.random.default_rng(0).standard_normal((2, 3))
    y = al.log_softmax_pick(_leaf(x), [2, 0])
    np.testing.assert_allclose(y.numpy(), _log_softmax(x, 1)[[0, 1], [2, 0]], rtol=1e-12)


def test_log_softmax_pick_refuses_a_ragged_index_naming_it():
    with pytest.raises(TypeError, match="log_softmax_pick: index must hold integers"):
        al.log_softmax_pick(_leaf(np.zeros((2, 3))), [[0], [1, 2]])


def test_log_softmax_pick_normalises_each_row_on_its_own_scale():
    """A row far below another keeps its own log-probabilities (no shift by a global maximum)."""
    x = np.array([[0.0, 1.0, 2.0], [-2000.0, -2001.0, -2003.0]])
    y = al.log_softmax_pick(_leaf(x), np.array([1, 0]))
    expected = _log_softmax(x, 1)[[0, 1], [1, 0]]
    assert np.all(np.isfinite(y.numpy()))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_log_softmax_pick_gradient_of_a_non_contiguous_input():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((5, 4))
    x = Tensor(base, requires_grad=True)
    xt = x.T  # (4, 5), not C-contiguous
    index = np.array([0, 4, 2, 1])
    y = al.log_softmax_pick(xt, index)
    data = base.T
    np.testing.assert_allclose(y.numpy(), _log_softmax(data, 1)[np.arange(4), index], rtol=1e-12)
    w = rng.standard_normal(4)
    (y * Tensor(w)).sum().backward()
    one_hot = np.eye(5)[index]
    expected = (w[:, None] * (one_hot - scipy.special.softmax(data, axis=1))).T
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", ["cpu", STRICT])
def test_log_softmax_pick_along_axis_zero_with_a_length_one_axis(device):
    """x of shape (4, 1) picked along axis 0: the result keeps the length-1 axis, shape (1,)."""
    if device == STRICT:
        _needs_strict()
    data = np.array([[0.3], [-1.2], [2.0], [0.5]])
    x = _leaf(data, device=device)
    y = al.log_softmax_pick(x, np.array([2]), axis=0)
    assert y.shape == (1,) and y.device == device
    np.testing.assert_allclose(y.numpy(), _log_softmax(data, 0)[2], rtol=1e-12)
    (g,) = _grads(y, [x], [1.5], create_graph=True)
    expected = 1.5 * (np.eye(4)[:, [2]] - scipy.special.softmax(data, axis=0))
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12, atol=1e-15)
    (gg,) = al.grad((g * g).sum(), [x])
    assert gg.shape == (4, 1) and np.all(np.isfinite(gg.numpy()))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_silu_at_the_extremes_is_pytorchs_without_a_warning(dtype):
    """x / (1 + e^-x): e^-x overflows for large negative x, giving -0 (PyTorch's value); -inf and nan give nan."""
    torch = pytest.importorskip("torch")
    values = [-np.inf, -1000.0, -90.0, -20.0, 0.0, 20.0, 1000.0, np.inf, np.nan]
    x = _leaf(values, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = al.silu(x)
        (g,) = _grads(y, [x])
    t = torch.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
    ty = torch.nn.functional.silu(t)
    ty.sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-30, equal_nan=True)
    np.testing.assert_allclose(g.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-30, equal_nan=True)
    assert np.signbit(y.numpy()[1])  # -0, as x * sigmoid(x) with sigmoid(-1000) = 0


def test_silu_fused_gradient_is_the_differentiable_one():
    """With no graph recorded the gradient s + y (1 - s) comes from the saved 1 + e^-x; with create_graph it is built
    from ops (so it can be differentiated again): the same numbers."""
    values = np.random.default_rng(3).standard_normal((4, 5)) * 4
    weights = np.random.default_rng(4).standard_normal((4, 5))
    x = _leaf(values)
    (fused,) = _grads(al.silu(x), [x], weights)
    (graph,) = _grads(al.silu(x), [x], weights, create_graph=True)
    assert graph.requires_grad and not fused.requires_grad
    np.testing.assert_allclose(fused.numpy(), graph.numpy(), rtol=1e-14, atol=1e-15)
    s = 1 / (1 + np.exp(-values))
    np.testing.assert_allclose(fused.numpy(), weights * (s + values * s * (1 - s)), rtol=1e-13)
