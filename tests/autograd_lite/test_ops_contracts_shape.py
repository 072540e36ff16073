"""Contracts of the shape ops that the broader tests leave open (issue 14, mutation testing of
``autograd_lite/ops/shape.py``).

Each test pins one behaviour a user can observe:

* indexing: basic indices (negative integers, slices with steps, Ellipsis, None), integer arrays given as
  lists, NumPy arrays of any integer dtype (unsigned too) or Tensors, and boolean masks (also a Tensor
  from a comparison) give NumPy's elements, and the gradient is ``np.add.at``'s scatter (repeated
  indices add up); a bad part anywhere in the index is a TypeError naming ``index``, an out-of-range one
  an IndexError that quotes the index as the user wrote it; the gradient's scatter keeps the dtype;
* the same indices on ``array_api_strict`` tensors (the array-API path: integer arrays gathered on the
  host, a trailing Ellipsis where the standard wants every axis named): NumPy's numbers, the tensor's
  device, and gradients on that device;
* ``transpose`` with explicit axes, ``concat``/``stack`` on negative axes and ``pad`` with per-axis widths,
  on NumPy and on ``array_api_strict``: values, dtype, device and gradients; a list joined to a Tensor
  takes its dtype and namespace; error messages name the op;
* ``reshape`` with -1, ``flatten``'s default and its ``start_dim`` on 0-d and 1-d tensors, ``sum_to``'s
  reductions and its refusal of shapes that do not broadcast, ``pad``'s default value and bad widths.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor, backend
from autograd_lite.ops.shape import ScatterAdd

STRICT = "array_api_strict"
INDEX_TYPE_ERROR = r"^index must be made of integers, slices, None, Ellipsis and integer or boolean arrays, got "


def _rng(seed=0):
    return np.random.default_rng(seed)


def _data(shape, seed=0):
    return _rng(seed).standard_normal(shape)


def _strict():
    return pytest.importorskip("array_api_strict")


def _scatter_reference(shape, index, weights):
    """What the gradient of x[index] must be for upstream ``weights``: np.add.at into zeros."""
    out = np.zeros(shape)
    np.add.at(out, index, weights)
    return out


def _check_getitem(x_np, index, device="cpu", tensor_index=None):
    """x[index]'s values equal NumPy's and its gradient equals the np.add.at scatter, on ``device``."""
    x = Tensor(x_np, dtype="float64", device=device, requires_grad=True)
    y = x[index if tensor_index is None else tensor_index]
    expected = x_np[index]
    assert y.device == device
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    weights = _data(expected.shape, seed=7)
    y.backward(Tensor(weights, dtype="float64", device=device))
    assert x.grad.device == device
    assert backend.dtype_name(x.grad.dtype) == "float64"
    np.testing.assert_allclose(x.grad.numpy(), _scatter_reference(x_np.shape, index, weights), rtol=1e-14)


# ------------------------------------------------------------------------------------ indexing on NumPy
BASIC_INDICES = {
    "negative_int": -1,
    "negative_step": slice(None, None, -2),
    "slices_with_steps": (slice(1, None), slice(None, None, 2)),
    "ellipsis_then_negative": (Ellipsis, -1),
    "none_and_int": (None, 0),
    "int_none_ellipsis_slice": (0, None, Ellipsis, slice(None, 2)),
    "empty_slice": slice(3, 1),
}


@pytest.mark.parametrize("index", BASIC_INDICES.values(), ids=BASIC_INDICES)
def test_basic_indices_give_numpys_elements_and_scatter_the_gradient_back(index):
    _check_getitem(_data((3, 4, 2)), index)


ADVANCED_INDICES = {
    "repeated_rows": np.array([0, 0, 2, 0]),
    "negative_repeats": np.array([-1, -1, 1]),
    "list_inside_a_tuple": ([0, 0, 2], slice(None)),
    "slice_then_list": (slice(None), [1, 1, 3]),
    "two_arrays": (np.array([0, 2, 0]), np.array([1, 1, 1])),
    "two_d_array": np.array([[0, 1], [1, 1]]),
    "uint8_array": np.array([2, 2, 0], dtype=np.uint8),
    "uint64_in_a_tuple": (slice(None), np.array([3, 3], dtype=np.uint64)),
    "int32_after_ellipsis": (Ellipsis, np.array([0, 0, 3], dtype=np.int32)),
    "boolean_mask_of_rows": np.array([True, False, True]),
}


@pytest.mark.parametrize("index", ADVANCED_INDICES.values(), ids=ADVANCED_INDICES)
def test_advanced_indices_give_numpys_elements_and_their_gradients_accumulate(index):
    _check_getitem(_data((3, 4)), index)


def test_a_list_index_inside_a_tuple_accumulates_repeated_gradients():
    x = Tensor(np.zeros((3, 2)), dtype="float64", requires_grad=True)
    x[[1, 1, 1], 0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [3, 0], [0, 0]])


def test_a_float_tensor_of_integers_indexes_like_an_integer_array_and_accumulates():
    x_np = _data((4, 2))
    x = Tensor(x_np, dtype="float64", requires_grad=True)
    y = x[Tensor(np.array([3, 3, 0]))]
    np.testing.assert_array_equal(y.numpy(), x_np[[3, 3, 0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [0, 0], [2, 2]])


def test_a_comparisons_boolean_array_is_a_mask_not_an_integer_index():
    x_np = np.arange(6.0).reshape(2, 3)
    x = Tensor(x_np, dtype="float64", requires_grad=True)
    mask = x > 2.5
    assert backend.dtype_name(mask.dtype) == "bool"
    y = x[mask]
    np.testing.assert_array_equal(y.numpy(), [3.0, 4.0, 5.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [1, 1, 1]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index", [(slice(None), slice(1, 3)), np.array([1, 1, 0])], ids=["slices", "repeats"])
def test_scatter_add_keeps_the_dtype_and_adds_like_np_add_at(index, dtype):
    """The gradient of x[index] (ScatterAdd into zeros of x's shape) is made in the gradient's dtype."""
    gy = _data((4, 2) if isinstance(index, tuple) else (3, 2), seed=3).astype(dtype)
    out = ScatterAdd(index, (4, 3) if isinstance(index, tuple) else (4, 2))(Tensor(gy, dtype=dtype))
    expected = np.zeros(out.shape, dtype)
    np.add.at(expected, index, gy)
    assert backend.dtype_name(out.dtype) == dtype
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("index", [5, (0, 7), (Ellipsis, -4)], ids=["row", "column", "negative"])
def test_an_out_of_range_index_is_an_index_error_quoting_the_index_as_given(index):
    with pytest.raises(IndexError, match=rf"^index {re.escape(repr(index))} is invalid for a tensor "
                                         r"of shape \(2, 3\): "):
        Tensor(np.ones((2, 3)))[index]


@pytest.mark.parametrize(
    "index, bad",
    [
        ((0, 0.5), "0.5"),
        ((None, "a"), "'a'"),
        ((Ellipsis, 1.0), "1.0"),
        ((slice(None), slice(0.5, None)), r"slice\(0.5, None, None\)"),
        ((np.array([0, 1]), 0.5), "0.5"),
        ((np.array([True, False]), "x"), "'x'"),
        (np.array([0.0, 1.0]), r"array\(\[0., 1.\]\)"),
    ],
    ids=["int_then_float", "none_then_str", "ellipsis_then_float", "float_slice", "array_then_float",
         "mask_then_str", "float_array"],
)
def test_a_bad_part_anywhere_in_the_index_is_a_type_error_naming_index(index, bad):
    with pytest.raises(TypeError, match=INDEX_TYPE_ERROR + bad + "$"):
        Tensor(np.ones((2, 3)))[index]


def test_a_buffer_with_a_shape_but_no_dtype_is_not_an_index():
    with pytest.raises(TypeError, match=INDEX_TYPE_ERROR):
        Tensor(np.ones((2, 3)))[memoryview(b"\x00\x01")]


# ------------------------------------------------------------------------- indexing on array_api_strict
STRICT_INDICES = {
    "int_on_a_matrix": 0,
    "negative_int": -1,
    "ellipsis_int": (Ellipsis, 1),
    "slices_with_negative_step": (slice(1, None), slice(None, None, -2)),
    "full_boolean_mask": np.arange(12).reshape(3, 4) % 3 == 0,
    "repeated_rows": [2, 2, 0],
    "slice_then_repeated_columns": (slice(None), [0, 0, 2]),
    "two_arrays": (np.array([0, 2, 2]), np.array([1, 1, 3])),
    "two_d_array": np.array([[1, 1], [0, 2]]),
    "uint8_then_ellipsis": (np.array([1, 1], dtype=np.uint8), Ellipsis),
}


@pytest.mark.parametrize("index", STRICT_INDICES.values(), ids=STRICT_INDICES)
def test_indexing_a_strict_tensor_gives_numpys_elements_and_gradients_on_its_device(index):
    _strict()
    x_np = _data((3, 4))
    np_index = tuple(np.asarray(i) if isinstance(i, list) else i for i in index) if isinstance(index, tuple) \
        else np.asarray(index) if isinstance(index, list) else index
    _check_getitem(x_np, np_index, device=STRICT, tensor_index=index)


def test_an_out_of_range_index_on_a_strict_tensor_is_an_index_error():
    _strict()
    x = Tensor(np.ones((2, 3)), device=STRICT)
    with pytest.raises(IndexError, match=r"is invalid for a tensor of shape \(2, 3\)"):
        x[:, [0, 3]]
    with pytest.raises(IndexError, match=r"is invalid for a tensor of shape \(2, 3\)"):
        x[2]


def test_an_index_the_strict_namespace_refuses_is_reported_at_indexing_time():
    """The standard has no Python-bool index: the IndexError comes from getitem and names the shape."""
    _strict()
    x = Tensor(np.ones((2, 3)), device=STRICT)
    with pytest.raises(IndexError, match=r"is invalid for a tensor of shape \(2, 3\): "):
        x[True]


def test_a_gather_on_a_strict_tensor_can_be_differentiated_twice():
    _strict()
    x_np = _data((3, 2))
    x = Tensor(x_np, dtype="float64", device=STRICT, requires_grad=True)
    (g,) = al.grad((x[[0, 0, 2]] ** 3).sum(), x, create_graph=True)
    (gg,) = al.grad(g.sum(), x)
    counts = np.array([2.0, 0.0, 1.0])[:, None]
    np.testing.assert_allclose(g.numpy(), 3 * counts * x_np**2, rtol=1e-14)
    np.testing.assert_allclose(gg.numpy(), 6 * counts * x_np, rtol=1e-14)
    assert gg.device == STRICT


@pytest.mark.parametrize("index", [(slice(None), [0, 0, 2]), ([1, 1, 0], [2, 2, 3]), ([-1, 0, -1],)],
                         ids=["columns", "pairs", "negative_rows"])
def test_gather_gradients_agree_with_pytorchs_accumulating_index(index):
    torch = pytest.importorskip("torch")
    x_np = _data((3, 4))
    weights = _data(x_np[tuple(np.asarray(i) if isinstance(i, list) else i for i in index)].shape, seed=8)
    x = Tensor(x_np, dtype="float64", requires_grad=True)
    x[index].backward(Tensor(weights, dtype="float64"))
    xt = torch.tensor(x_np, requires_grad=True)
    xt[tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)].backward(torch.tensor(weights))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-14, atol=1e-15)


# ------------------------------------------------------------------------------------------ transpose
@pytest.mark.parametrize("device", ["cpu", STRICT])
@pytest.mark.parametrize("axes", [(1, 2, 0), (2, 0, 1), (0, 2, 1), (-1, 0, -2)])
def test_transpose_with_explicit_axes_equals_numpy_and_its_gradient_undoes_it(axes, device):
    if device == STRICT:
        _strict()
    x_np = _data((2, 3, 4))
    x = Tensor(x_np, dtype="float64", device=device, requires_grad=True)
    y = al.transpose(x, *axes)
    expected = np.transpose(x_np, axes)
    assert y.device == device
    np.testing.assert_array_equal(y.numpy(), expected)
    weights = _data(expected.shape, seed=1)
    y.backward(Tensor(weights, dtype="float64", device=device))
    np.testing.assert_array_equal(x.grad.numpy(), np.transpose(weights, np.argsort([a % 3 for a in axes])))
    assert x.grad.device == device


def test_transpose_of_a_strict_tensor_reverses_its_axes_by_default():
    _strict()
    x_np = _data((2, 3, 4))
    y = al.permute(Tensor(x_np, device=STRICT, dtype="float32"))
    assert backend.dtype_name(y.dtype) == "float32"
    np.testing.assert_array_equal(y.numpy(), x_np.astype(np.float32).T)


# ------------------------------------------------------------------------------------- concat and stack
@pytest.mark.parametrize("device", ["cpu", STRICT])
@pytest.mark.parametrize("axis", [-1, -2, 0])
def test_concat_on_any_axis_equals_numpy_and_splits_the_gradient_back(axis, device):
    if device == STRICT:
        _strict()
    shapes = [(2, 3), (2, 1), (2, 2)] if axis == -1 else [(2, 3), (1, 3), (3, 3)]
    arrays = [_data(s, seed=i) for i, s in enumerate(shapes)]
    xs = [Tensor(a, dtype="float64", device=device, requires_grad=True) for a in arrays]
    y = al.concat(xs, axis=axis)
    expected = np.concatenate(arrays, axis=axis)
    assert y.device == device
    np.testing.assert_array_equal(y.numpy(), expected)
    weights = _data(expected.shape, seed=9)
    y.backward(Tensor(weights, dtype="float64", device=device))
    for x, part in zip(xs, np.split(weights, np.cumsum([s[axis] for s in shapes])[:-1], axis=axis)):
        np.testing.assert_array_equal(x.grad.numpy(), part)
        assert x.grad.device == device


@pytest.mark.parametrize("device", ["cpu", STRICT])
@pytest.mark.parametrize("axis", [-1, -2, -3, 1])
def test_stack_on_any_axis_equals_numpy_and_splits_the_gradient_back(axis, device):
    if device == STRICT:
        _strict()
    arrays = [_data((2, 3), seed=i) for i in range(3)]
    xs = [Tensor(a, dtype="float32", device=device, requires_grad=True) for a in arrays]
    y = al.stack(xs, axis=axis)
    expected = np.stack([a.astype(np.float32) for a in arrays], axis=axis)
    assert y.device == device and backend.dtype_name(y.dtype) == "float32"
    np.testing.assert_array_equal(y.numpy(), expected)
    weights = _data(expected.shape, seed=4).astype(np.float32)
    y.backward(Tensor(weights, dtype="float32", device=device))
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(x.grad.numpy(), np.take(weights, i, axis=axis))
        assert backend.dtype_name(x.grad.dtype) == "float32"


def test_a_list_joined_to_a_float64_tensor_keeps_float64_precision():
    y = al.concat([Tensor(np.array([1.0]), dtype="float64"), [0.1, 0.2]])
    assert backend.dtype_name(y.dtype) == "float64"
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.1, 0.2])
    z = al.stack([[0.1], Tensor(np.array([0.3]), dtype="float64")], axis=-1)
    np.testing.assert_array_equal(z.numpy(), [[0.1, 0.3]])


def test_a_list_joined_to_a_strict_tensor_joins_its_namespace():
    _strict()
    y = al.concat([[[0.1, 0.2]], Tensor(np.ones((1, 2)), dtype="float64", device=STRICT)], axis=0)
    assert y.device == STRICT and backend.dtype_name(y.dtype) == "float64"
    np.testing.assert_array_equal(y.numpy(), [[0.1, 0.2], [1.0, 1.0]])


@pytest.mark.parametrize("op", ["concat", "stack"])
def test_join_errors_name_the_op(op):
    join = getattr(al, op)
    with pytest.raises(ValueError, match=rf"^{op}: shapes \(2, 3\) and \(2, 4\) do not match$"):
        join([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])
    with pytest.raises(ValueError, match=rf"^{op} needs at least one tensor$"):
        join([])
    with pytest.raises(TypeError, match=rf"^{op}: tensors must be a list or tuple of Tensors, got Tensor$"):
        join(Tensor(np.ones(2)))


# ------------------------------------------------------------------------------------------------ pad
@pytest.mark.parametrize("device", ["cpu", STRICT])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "widths, value",
    [(((1, 2), (0, 3)), -1.5), (((0, 0), (2, 0)), 0.0), (((3, 1), (1, 1)), 2), ((2, 0), 4.0), (1, 0.5)],
    ids=["per_axis", "one_side", "int_value", "pair", "int_width"],
)
def test_pad_equals_np_pad_keeps_the_dtype_and_crops_the_gradient(widths, value, dtype, device):
    if device == STRICT:
        _strict()
    x_np = _data((2, 3)).astype(dtype)
    x = Tensor(x_np, dtype=dtype, device=device, requires_grad=True)
    y = al.pad(x, widths, value)
    expected = np.pad(x_np, widths, constant_values=value)
    assert y.device == device and backend.dtype_name(y.dtype) == dtype
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    weights = _data(expected.shape, seed=2).astype(dtype)
    y.backward(Tensor(weights, dtype=dtype, device=device))
    (b0, _), (b1, _) = np.broadcast_to(np.asarray(widths), (2, 2))
    np.testing.assert_array_equal(x.grad.numpy(), weights[b0:b0 + 2, b1:b1 + 3])
    assert x.grad.device == device


def test_pad_fills_with_zeros_by_default():
    y = al.pad(Tensor(np.full((1, 2), 7.0)), 1)
    np.testing.assert_array_equal(y.numpy(), np.pad(np.full((1, 2), 7.0), 1))


@pytest.mark.parametrize("width", [[(1, 2), (1,)], [[1], [1, 2]], 0.5, "3", (1.0, 2.0)],
                         ids=["ragged", "ragged_first", "float", "string", "float_pair"])
def test_pad_width_that_is_not_ints_is_a_type_error_naming_pad_width(width):
    with pytest.raises(TypeError, match=r"^pad_width must be an int, a pair or one pair per axis of ints, got "):
        al.pad(Tensor(np.ones((2, 3))), width)


# --------------------------------------------------------------------------- reshape, flatten, sum_to
@pytest.mark.parametrize("shape", [(-1,), (-1, 1, 4), (3, -1), (1, -1, 2, 1), (2, 2, 3), (12, 1)])
def test_reshape_with_an_inferred_size_equals_numpy(shape):
    x_np = _data((3, 4))
    np.testing.assert_array_equal(al.reshape(Tensor(x_np, dtype="float64"), shape).numpy(), x_np.reshape(shape))


@pytest.mark.parametrize("shape", [(-1, 5), (5, -1, 1), (0, -1), (13,), (1, 13)])
def test_reshape_refuses_a_shape_that_cannot_hold_the_elements(shape):
    with pytest.raises(ValueError, match=r"^cannot reshape a tensor of shape \(3, 4\) \(12 elements\) into shape"):
        al.reshape(Tensor(np.ones((3, 4))), shape)


def test_flatten_merges_every_axis_by_default():
    x_np = _data((2, 3, 4))
    y = al.flatten(Tensor(x_np, dtype="float64"))
    assert y.shape == (24,)
    np.testing.assert_array_equal(y.numpy(), x_np.ravel())


@pytest.mark.parametrize("start_dim, shape", [(0, (24,)), (1, (2, 12)), (2, (2, 3, 4)), (-1, (2, 3, 4)),
                                              (-2, (2, 12)), (-3, (24,))])
def test_flatten_from_start_dim_keeps_the_leading_axes(start_dim, shape):
    assert al.flatten(Tensor(np.ones((2, 3, 4))), start_dim).shape == shape


def test_flatten_of_a_vector_or_a_scalar():
    v = Tensor(np.arange(3.0))
    assert al.flatten(v).shape == (3,)
    assert al.flatten(v, -1).shape == (3,)
    assert al.flatten(Tensor(np.array(2.0))).shape == (1,)
    assert al.flatten(Tensor(np.array(2.0)), -1).shape == (1,)


@pytest.mark.parametrize("x_shape, start_dim", [((3,), 1), ((3,), -2), ((), 1), ((2, 3), 2)])
def test_flatten_refuses_a_start_dim_past_the_last_axis(x_shape, start_dim):
    with pytest.raises(ValueError, match=rf"^start_dim: axis {start_dim} is out of range"):
        al.flatten(Tensor(np.ones(x_shape)), start_dim)


@pytest.mark.parametrize(
    "x_shape, shape",
    [((2, 3, 4), (3, 1)), ((2, 3, 4), (1,)), ((2, 3, 4), (2, 1, 4)), ((2, 3, 4), ()), ((2, 3, 4), (4,)),
     ((2, 3, 4), (1, 1, 1)), ((3, 1), (1, 1)), ((5,), (5,))],
)
def test_sum_to_sums_the_broadcast_axes_like_numpy(x_shape, shape):
    x_np = _data(x_shape)
    x = Tensor(x_np, dtype="float64", requires_grad=True)
    y = al.sum_to(x, shape)
    lead = len(x_shape) - len(shape)
    expected = x_np.sum(axis=tuple(range(lead))) if lead else x_np
    expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
    assert y.shape == shape
    np.testing.assert_allclose(y.numpy(), expected.reshape(shape), rtol=1e-13)
    weights = _data(shape, seed=5)
    y.backward(Tensor(weights, dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(weights, x_shape))


@pytest.mark.parametrize("x_shape, shape", [((2, 3), (2,)), ((2, 3), (4, 3)), ((3,), (2, 3)), ((2, 3), (3, 3)),
                                            ((1, 3), (2, 3))])
def test_sum_to_refuses_a_shape_that_does_not_broadcast_to_the_tensor(x_shape, shape):
    with pytest.raises(ValueError, match=rf"^cannot sum shape {re.escape(str(x_shape))} to shape"):
        al.sum_to(Tensor(np.ones(x_shape)), shape)
