"""Contracts of the operand, axis and shape helpers, the matrix products and the convolution wrappers that
the broader tests leave open (issue 14, mutation testing of ``autograd_lite/ops/_util.py``,
``autograd_lite/ops/linalg.py`` and ``autograd_lite/ops/conv.py``).

Each test pins one behaviour a user can observe:

* operands that are not Tensors: two arrays make a Tensor of their own dtype; a number, list or array that
  meets a Tensor takes its dtype and namespace (``array_api_strict`` included), an array of another
  namespace is a ValueError naming the operand, and bad operands are TypeErrors naming the argument;
* axes: negative axes reach the first axis, an axis past the last is a ValueError (also for 0-d tensors,
  for tuples and for NumPy integers), and the messages name the argument once;
* shapes: an int, a list or NumPy integers are shapes, zero sizes are allowed, -1 only where a size is
  inferred (``reshape``), and the ValueError says which rule was broken;
* ``linear``: inputs with more than two axes (NumPy and ``array_api_strict``), the gradient of each operand
  when it is the only one requiring grad, and a bias given as a list joining the weight's dtype;
* ``conv2d``/``conv_transpose2d``: default geometry, with and without bias, padding with dilation, list
  operands joining the weight's dtype, a bias of the wrong length refused, a bad operand a TypeError naming
  it (``input``, ``weight``, ``bias``); pooling and upsampling defaults;
* convolution gradients against PyTorch for every subset of (input, weight, bias) requiring grad, in a
  plain backward (the fused pass) and with ``create_graph`` (the differentiable ops, whose results can be
  differentiated again), and the second derivatives of the weight gradient through either of its operands.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor, backend

STRICT = "array_api_strict"


def _rng(seed=0):
    return np.random.default_rng(seed)


def _f64(shape, seed=0, requires_grad=False):
    return Tensor(_rng(seed).standard_normal(shape), dtype="float64", requires_grad=requires_grad)


def _strict():
    return pytest.importorskip("array_api_strict")


# ----------------------------------------------------------------------------------- operands (_util)
def test_matmul_of_two_numpy_arrays_is_a_float64_tensor_with_numpys_product():
    a, b = _rng(0).standard_normal((2, 3)), _rng(1).standard_normal((3, 4))
    y = al.matmul(a, b)
    assert isinstance(y, Tensor)
    assert backend.dtype_name(y.dtype) == "float64"
    np.testing.assert_allclose(y.numpy(), a @ b, rtol=1e-13)


def test_matmul_of_two_lists_uses_the_default_dtype():
    y = al.matmul([[1.0, 2.0]], [[3.0], [4.0]])
    assert backend.dtype_name(y.dtype) == "float32"
    np.testing.assert_array_equal(y.numpy(), [[11.0]])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: al.matmul(None, [[1.0]]), "a"),
        (lambda: al.matmul([[1.0]], None), "b"),
        (lambda: al.matmul(None, Tensor([[1.0]])), "a"),
        (lambda: al.matmul(Tensor([[1.0]]), None), "b"),
        (lambda: al.pow(None, 2.0), "base"),
        (lambda: al.pow(2.0, None), "exponent"),
    ],
)
def test_a_bad_operand_is_a_type_error_naming_it(call, name):
    with pytest.raises(TypeError, match=rf"^{name} must be a Tensor, a real number or bool.*got NoneType$"):
        call()


def test_a_list_meeting_a_strict_tensor_joins_its_namespace_and_dtype():
    _strict()
    a = Tensor(np.arange(6.0).reshape(2, 3), device=STRICT, dtype="float32")
    for other in ([[1.0], [2.0], [3.0]], [[1], [2], [3]]):  # floats and ints alike
        y = al.matmul(a, other)
        assert y.device == STRICT
        assert backend.dtype_name(y.dtype) == "float32"
        np.testing.assert_array_equal(y.numpy(), [[8.0], [26.0]])
    y = al.matmul([[1.0, 2.0]], Tensor(np.ones((2, 1)), device=STRICT, dtype="float32"))  # the other side
    assert y.device == STRICT and backend.dtype_name(y.dtype) == "float32"
    np.testing.assert_array_equal(y.numpy(), [[3.0]])


def test_a_strict_array_of_another_dtype_takes_the_strict_tensors_dtype():
    xs = _strict()
    a = Tensor(np.arange(6.0).reshape(2, 3), device=STRICT, dtype="float32")
    y = al.matmul(a, xs.ones((3, 1), dtype=xs.float64))
    assert y.device == STRICT
    assert backend.dtype_name(y.dtype) == "float32"
    np.testing.assert_array_equal(y.numpy(), [[3.0], [12.0]])


def test_a_numpy_array_meeting_a_strict_tensor_is_a_value_error_naming_it():
    _strict()
    a = Tensor(np.ones((2, 3)), device=STRICT, dtype="float64")
    with pytest.raises(ValueError, match="^b lives on numpy, the tensor on array_api_strict$"):
        al.matmul(a, np.ones((3, 1)))
    with pytest.raises(ValueError, match="^a lives on numpy, the tensor on array_api_strict$"):
        al.matmul(np.ones((1, 2)), a)


# ----------------------------------------------------------------------------------------------- axes
@pytest.mark.parametrize("axis", [-1, (-1,), [-1], np.int64(-1), 0, (0,)])
def test_summing_a_vector_over_its_only_axis_gives_its_total(axis):
    v = _f64((5,))
    y = al.sum(v, axis=axis)
    assert y.shape == ()
    np.testing.assert_allclose(y.numpy(), v.numpy().sum(), rtol=1e-13)


@pytest.mark.parametrize("axis, expected_axis", [((-2,), 0), (np.int64(-2), 0), ((-2, -1), (0, 1)), ((-1, -2), (0, 1))])
def test_negative_axes_reach_the_first_axis(axis, expected_axis):
    m = _f64((2, 3))
    np.testing.assert_allclose(al.sum(m, axis=axis).numpy(), m.numpy().sum(axis=expected_axis), rtol=1e-13)


@pytest.mark.parametrize(
    "shape, axis, bad",
    [((5,), 1, 1), ((5,), (1,), 1), ((5,), np.int64(1), 1), ((), 1, 1), ((), (1,), 1), ((2, 3), (0, -3), -3)],
)
def test_an_axis_outside_the_tensor_is_a_value_error(shape, axis, bad):
    ndim = len(shape)
    with pytest.raises(ValueError, match=rf"^axis {bad} is out of range for a tensor with {ndim} dimensions$"):
        al.sum(_f64(shape), axis=axis)


def test_axis_errors_name_the_argument_once():
    m = _f64((2, 3))
    with pytest.raises(ValueError, match=r"^axis 2 is out of range for a tensor with 2 dimensions$"):
        al.softmax(m, axis=2)
    with pytest.raises(ValueError, match=r"^axis2 5 is out of range for a tensor with 2 dimensions$"):
        al.swapaxes(m, 0, 5)
    with pytest.raises(ValueError, match=r"^start_dim: axis 3 is out of range for a tensor with 2 dimensions$"):
        al.flatten(m, 3)


# --------------------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize(
    "shape, expected", [(3, (3,)), (np.int64(3), (3,)), ([2, 3], (2, 3)), ((np.int64(2), 3), (2, 3)), ([], ())]
)
def test_broadcast_to_takes_an_int_a_list_or_numpy_ints_as_the_shape(shape, expected):
    x = Tensor(np.ones(expected[-1:] if expected else ()), dtype="float64")
    y = al.broadcast_to(x, shape)
    assert y.shape == expected
    assert all(type(n) is int for n in y.shape)


@pytest.mark.parametrize("shape", [(0, 3), [0, 3], (np.int64(0), 3)])
def test_broadcast_to_a_shape_with_a_zero_size(shape):
    y = al.broadcast_to(Tensor([1.0, 2.0, 3.0], dtype="float64"), shape)
    assert y.shape == (0, 3)


@pytest.mark.parametrize("shape", [(-1, 3), [-1, 3], (np.int64(-1), 3)])
def test_broadcast_to_refuses_a_size_to_infer(shape):
    message = f"shape must hold non-negative sizes, got {shape!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        al.broadcast_to(Tensor([1.0, 2.0, 3.0], dtype="float64"), shape)


@pytest.mark.parametrize("shape, expected", [((np.int64(-1), 2), (3, 2)), ((2, np.int64(-1)), (2, 3)),
                                             ((np.int64(6),), (6,)), ((np.int64(0), -1), None)])
def test_reshape_infers_one_size_given_as_numpy_ints(shape, expected):
    x = _f64((6,))
    if expected is None:  # a zero size leaves nothing to infer -1 from
        with pytest.raises(ValueError, match="^cannot reshape a tensor of shape"):
            al.reshape(x, shape)
        return
    y = al.reshape(x, shape)
    assert y.shape == expected
    np.testing.assert_array_equal(y.numpy().ravel(), x.numpy())


def test_reshape_infers_one_size_given_as_a_list():
    assert al.reshape(_f64((6,)), [-1, 2]).shape == (3, 2)
    assert al.reshape(Tensor(np.ones((0, 2))), [-1, 2]).shape == (0, 2)


@pytest.mark.parametrize("shape", [(-2, 3), (np.int64(-2), 3), (3, -5)])
def test_reshape_refuses_negative_sizes_other_than_minus_one(shape):
    message = f"shape must hold non-negative sizes (or -1), got {tuple(shape)!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        al.reshape(_f64((6,)), shape)


# ------------------------------------------------------------------------------------------------ linear
def test_linear_on_an_input_with_several_batch_axes():
    x, w, b = _f64((2, 3, 4), 0), _f64((5, 4), 1), _f64((5,), 2)
    y = al.linear(x, w, b)
    assert y.shape == (2, 3, 5)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_input_gradient_when_only_the_input_requires_grad(x_shape):
    x, w = _f64(x_shape, 0, requires_grad=True), _f64((5, 4), 1)
    gy = _rng(3).standard_normal((*x_shape[:-1], 5))
    al.linear(x, w).backward(Tensor(gy, dtype="float64"))
    assert w.grad is None
    np.testing.assert_allclose(x.grad.numpy(), gy @ w.numpy(), rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_bias_gradient_when_only_the_bias_requires_grad(x_shape):
    x, w, b = _f64(x_shape, 0), _f64((5, 4), 1), _f64((5,), 2, requires_grad=True)
    gy = _rng(3).standard_normal((*x_shape[:-1], 5))
    al.linear(x, w, b).backward(Tensor(gy, dtype="float64"))
    np.testing.assert_allclose(b.grad.numpy(), gy.reshape(-1, 5).sum(axis=0), rtol=1e-12)


def test_linear_input_and_bias_gradients_with_a_constant_weight():
    x, w, b = _f64((3, 4), 0, requires_grad=True), _f64((5, 4), 1), _f64((5,), 2, requires_grad=True)
    gy = _rng(3).standard_normal((3, 5))
    al.linear(x, w, b).backward(Tensor(gy, dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), gy @ w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), gy.sum(axis=0), rtol=1e-12)
    assert w.grad is None


def test_linear_with_a_list_bias_adds_it_in_the_weights_dtype():
    x, w = _f64((2, 4), 0), _f64((3, 4), 1)
    bias = [0.1, 0.2, 0.3]
    y = al.linear(x, w, bias)
    assert backend.dtype_name(y.dtype) == "float64"
    np.testing.assert_allclose(y.numpy(), x.numpy() @ w.numpy().T + np.array(bias), rtol=1e-14, atol=1e-15)


def test_linear_with_a_list_bias_on_a_strict_weight_stays_on_its_namespace():
    _strict()
    w = Tensor(np.ones((3, 4)), device=STRICT, dtype="float32")
    y = al.linear([[1.0, 2.0, 3.0, 4.0]], w, [0.5, 1.0, 1.5])
    assert y.device == STRICT and backend.dtype_name(y.dtype) == "float32"
    np.testing.assert_array_equal(y.numpy(), [[10.5, 11.0, 11.5]])


def test_linear_on_a_strict_input_with_several_batch_axes():
    _strict()
    x, w, b = _rng(0).standard_normal((2, 3, 4)), _rng(1).standard_normal((5, 4)), _rng(2).standard_normal(5)
    y = al.linear(*(Tensor(a, device=STRICT, dtype="float64") for a in (x, w, b)))
    assert y.device == STRICT and y.shape == (2, 3, 5)
    np.testing.assert_allclose(y.numpy(), x @ w.T + b, rtol=1e-12)


# ------------------------------------------------------------------------------------------ convolutions
def _conv_operands(transposed=False, seed=0):
    rng = _rng(seed)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((2, 3, 3, 3) if transposed else (3, 2, 3, 3))
    b = rng.standard_normal(3)
    return x, w, b


@pytest.mark.parametrize("with_bias", [False, True])
def test_conv2d_defaults_match_pytorch(with_bias):
    torch = pytest.importorskip("torch")
    x, w, b = _conv_operands()
    bias = Tensor(b, dtype="float64") if with_bias else None
    y = al.conv2d(Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), bias)
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b) if with_bias else None)
    assert y.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_bias", [False, True])
def test_conv_transpose2d_defaults_match_pytorch(with_bias):
    torch = pytest.importorskip("torch")
    x, w, b = _conv_operands(transposed=True)
    bias = Tensor(b, dtype="float64") if with_bias else None
    y = al.conv_transpose2d(Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), bias)
    expected = torch.nn.functional.conv_transpose2d(
        torch.tensor(x), torch.tensor(w), torch.tensor(b) if with_bias else None
    )
    assert y.shape == (2, 3, 7, 7)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_bias", [False, True])
def test_conv_transpose2d_with_stride_padding_and_dilation_matches_pytorch(with_bias):
    torch = pytest.importorskip("torch")
    x, w, b = _conv_operands(transposed=True, seed=1)
    geometry = {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 2}
    bias = Tensor(b, dtype="float64") if with_bias else None
    y = al.conv_transpose2d(Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), bias, **geometry)
    expected = torch.nn.functional.conv_transpose2d(
        torch.tensor(x), torch.tensor(w), torch.tensor(b) if with_bias else None, **geometry
    )
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op, transposed", [(al.conv2d, False), (al.conv_transpose2d, True)])
def test_conv_list_operands_join_the_weights_dtype(op, transposed):
    x, w, b = _conv_operands(transposed=transposed, seed=2)
    expected = op(Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), Tensor(b, dtype="float64"))
    for x_in, b_in in ((x.tolist(), b), (x, b.tolist()), (x.tolist(), b.tolist())):
        y = op(x_in, Tensor(w, dtype="float64"), b_in)
        assert backend.dtype_name(y.dtype) == "float64"
        np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("op, transposed", [(al.conv2d, False), (al.conv_transpose2d, True)])
def test_conv_input_array_on_another_namespace_is_a_value_error_naming_it(op, transposed):
    _strict()
    x, w, _ = _conv_operands(transposed=transposed)
    with pytest.raises(ValueError, match="^input lives on numpy, the tensor on array_api_strict$"):
        op(x, Tensor(w, device=STRICT, dtype="float64"))
    with pytest.raises(ValueError, match="^bias lives on numpy, the tensor on array_api_strict$"):
        op(Tensor(x, device=STRICT, dtype="float64"), Tensor(w, device=STRICT, dtype="float64"), np.zeros(3))


@pytest.mark.parametrize("bias_shape", [(1,), (2,), (3, 1)])
def test_conv_transpose2d_refuses_a_bias_of_the_wrong_shape(bias_shape):
    x, w, _ = _conv_operands(transposed=True)
    bias = Tensor(np.ones(bias_shape), dtype="float64")
    message = f"conv_transpose2d: bias must have shape (3,), got {bias_shape}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        al.conv_transpose2d(Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), bias)


@pytest.mark.parametrize("op, transposed", [(al.conv2d, False), (al.conv_transpose2d, True)])
@pytest.mark.parametrize("bad", ["input", "weight", "bias"])
def test_conv_bad_operand_is_a_type_error_naming_it(op, transposed, bad):
    x, w, b = _conv_operands(transposed=transposed)
    operands = {"input": Tensor(x, dtype="float64"), "weight": Tensor(w, dtype="float64"), "bias": b}
    operands[bad] = "not data"
    with pytest.raises(TypeError, match=rf"^{bad} must be a Tensor, a real number or bool.*got str$"):
        op(operands["input"], operands["weight"], operands["bias"])


# ----------------------------------------------------------------------------------- pooling, upsampling
def test_pooling_defaults_are_stride_kernel_size_and_no_padding():
    x = _rng(4).standard_normal((2, 3, 4, 6))
    blocks = x.reshape(2, 3, 2, 2, 3, 2)
    y = al.max_pool2d(Tensor(x, dtype="float64"), 2)
    assert y.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(y.numpy(), blocks.max(axis=(3, 5)))
    y = al.avg_pool2d(Tensor(x, dtype="float64"), 2)
    assert y.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(y.numpy(), blocks.mean(axis=(3, 5)), rtol=1e-13)


def test_upsample_nearest2d_default_scale_is_two():
    x = _rng(5).standard_normal((1, 2, 2, 3))
    y = al.upsample_nearest2d(Tensor(x, dtype="float64"))
    assert y.shape == (1, 2, 4, 6)
    np.testing.assert_array_equal(y.numpy(), x.repeat(2, axis=2).repeat(2, axis=3))


# ------------------------------------------------------------------------ convolution gradients, by operand
_CONV_GEOMETRY = {"stride": 2, "padding": 1, "dilation": 2}
_SUBSETS = [("x",), ("w",), ("b",), ("x", "b"), ("w", "b"), ("x", "w"), ("x", "w", "b")]


def _al_and_torch_conv(torch, transposed, with_bias, wants, seed=0):
    """The same (x, w, b) as float64 Tensors and torch tensors, requiring grad where named in ``wants``."""
    rng = _rng(seed)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((2, 3, 3, 2) if transposed else (3, 2, 3, 2))
    b = rng.standard_normal(3) if with_bias else None
    arrays = {"x": x, "w": w, "b": b}
    ours = {k: None if a is None else Tensor(a, dtype="float64", requires_grad=k in wants) for k, a in arrays.items()}
    theirs = {k: None if a is None else torch.tensor(a, requires_grad=k in wants) for k, a in arrays.items()}
    return ours, theirs


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("wants", _SUBSETS + [("x", "w", "no bias"), ("x", "no bias"), ("w", "no bias")])
@pytest.mark.parametrize("transposed", [False, True])
def test_conv_gradient_of_each_operand_that_requires_it_matches_pytorch(transposed, wants, create_graph):
    """Every subset of (input, weight, bias) requiring grad, in a plain backward (one fused pass where both
    input and weight want gradients) and with create_graph (the differentiable ops)."""
    torch = pytest.importorskip("torch")
    ours, theirs = _al_and_torch_conv(torch, transposed, "no bias" not in wants, wants)
    geometry = dict(_CONV_GEOMETRY, output_padding=1) if transposed else _CONV_GEOMETRY
    op = al.conv_transpose2d if transposed else al.conv2d
    top = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    y = op(ours["x"], ours["w"], ours["b"], **geometry)
    expected_y = top(theirs["x"], theirs["w"], theirs["b"], **geometry)
    gy = _rng(9).standard_normal(tuple(expected_y.shape))
    names = [k for k in ("x", "w", "b") if k in wants]
    grads = al.grad(y, [ours[k] for k in names], Tensor(gy, dtype="float64"), create_graph=create_graph)
    expected = torch.autograd.grad(expected_y, [theirs[k] for k in names], torch.tensor(gy))
    for name, g, e in zip(names, grads, expected):
        assert g.shape == tuple(e.shape), name
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-11, atol=1e-11, err_msg=name)
        # dL/dx depends on w and dL/dw on x: with create_graph it can be differentiated again
        assert g.requires_grad is (create_graph and {"x": "w", "w": "x"}.get(name) in wants), name


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("through", ["input", "output gradient"])
def test_second_derivative_of_the_conv_weight_gradient_matches_pytorch(transposed, through):
    """d/dx and d/dgy of <dL/dw, v> where L = <conv(x, w), gy>: the weight-gradient op's own backward, with just
    one of its two operands requiring grad."""
    torch = pytest.importorskip("torch")
    wants = ("w", "x") if through == "input" else ("w",)
    ours, theirs = _al_and_torch_conv(torch, transposed, False, wants, seed=3)
    geometry = dict(_CONV_GEOMETRY, output_padding=1) if transposed else _CONV_GEOMETRY
    op = al.conv_transpose2d if transposed else al.conv2d
    top = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    y = op(ours["x"], ours["w"], **geometry)
    ty = top(theirs["x"], theirs["w"], **geometry)
    rng = _rng(4)
    gy, v = rng.standard_normal(tuple(ty.shape)), rng.standard_normal(ours["w"].shape)
    h = Tensor(gy, dtype="float64", requires_grad=through != "input")
    th = torch.tensor(gy, requires_grad=through != "input")
    (gw,) = al.grad(al.sum(y * h), [ours["w"]], create_graph=True)
    (tgw,) = torch.autograd.grad((ty * th).sum(), [theirs["w"]], create_graph=True)
    target, ttarget = (ours["x"], theirs["x"]) if through == "input" else (h, th)
    (g,) = al.grad(al.sum(gw * Tensor(v, dtype="float64")), [target])
    (expected,) = torch.autograd.grad((tgw * torch.tensor(v)).sum(), [ttarget])
    np.testing.assert_allclose(g.numpy(), expected.numpy(), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("window", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool_derivatives_of_every_order_route_through_the_same_argmax(window):
    """The gradient of max pooling scatters g to each window's argmax; differentiated in g, that scatter is the
    gather of v at the argmax; and the gather's gradient is the first scatter again (third order, as PyTorch)."""
    rng = _rng(7)
    x = Tensor(rng.standard_normal((2, 2, 5, 4)), dtype="float64", requires_grad=True)
    y = al.max_pool2d(x, **window)
    g = Tensor(rng.standard_normal(y.shape), dtype="float64", requires_grad=True)
    v = Tensor(rng.standard_normal(x.shape), dtype="float64", requires_grad=True)
    w = rng.standard_normal(y.shape)
    (gx,) = al.grad((y * g).sum(), [x], create_graph=True)          # scatter(g)
    (gg,) = al.grad((gx * v).sum(), [g], create_graph=True)         # gather(v)
    (gv,) = al.grad((gg * Tensor(w, dtype="float64")).sum(), [v])   # scatter(w)

    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tg = torch.tensor(g.numpy(), requires_grad=True)
    tv = torch.tensor(v.numpy(), requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, **window)
    (tgx,) = torch.autograd.grad((ty * tg).sum(), [tx], create_graph=True)
    (tgg,) = torch.autograd.grad((tgx * tv).sum(), [tg], create_graph=True)
    (tgv,) = torch.autograd.grad((tgg * torch.tensor(w)).sum(), [tv])
    for ours, theirs in [(gx, tgx), (gg, tgg), (gv, tgv)]:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("op", [lambda x: al.max_pool2d(x, 2), lambda x: al.avg_pool2d(x, 2),
                                lambda x: al.upsample_nearest2d(x)])
def test_pooling_and_upsampling_name_a_bad_image_input_as_pytorch_does(op):
    with pytest.raises(TypeError, match="^input must be a Tensor, a real number or bool, or an array"):
        op("not an image")
