"""matmul (1-D, 2-D, batched, broadcast batch) and linear: forward equals NumPy, gradients match finite
differences (first and second order), dtypes are kept, and mismatched shapes are clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import FLOAT_DTYPES, SECOND_ORDER_EXAMPLES, arrays, broadcastable_pairs, dtype_of, on_device

import autograd_lite as al
from autograd_lite import Tensor

KINDS = ["vector_vector", "vector_matrix", "matrix_vector", "matrix_matrix", "batched", "batched_vector"]


@st.composite
def matmul_shapes(draw, kind):
    """Shapes of a @ b for each way NumPy's matmul treats its operands."""
    m, n, p = (draw(st.integers(1, 3)) for _ in range(3))
    if kind == "vector_vector":
        return (n,), (n,)
    if kind == "vector_matrix":
        return (n,), (n, p)
    if kind == "matrix_vector":
        return (m, n), (n,)
    if kind == "matrix_matrix":
        return (m, n), (n, p)
    batch_a, batch_b = draw(broadcastable_pairs(max_dims=2, max_side=3))  # includes one side unbatched
    if kind == "batched":
        return (*batch_a, m, n), (*batch_b, n, p)
    return ((*batch_a, m, n), (n,)) if draw(st.booleans()) else ((n,), (*batch_b, n, p))


@st.composite
def matmul_case(draw, kind, dtype=np.float64):
    shape_a, shape_b = draw(matmul_shapes(kind))
    return draw(arrays(shape_a, dtype)), draw(arrays(shape_b, dtype))


@st.composite
def linear_case(draw, dtype=np.float64, bias=True):
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(arrays((*batch, n_in), dtype))
    weight = draw(arrays((n_out, n_in), dtype))
    return [x, weight, draw(arrays((n_out,), dtype))] if bias else [x, weight]


def _tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if np.dtype(dtype) == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_matmul_forward_equals_numpy(kind, dtype, data):
    """a @ b has NumPy's value and shape for vectors, matrices and (broadcast) batches."""
    a, b = data.draw(matmul_case(kind, dtype))
    out = Tensor(a) @ Tensor(b)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert out.shape == expected.shape
    assert dtype_of(out) == dtype
    np.testing.assert_allclose(out.numpy(), expected, **_tolerance(dtype))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_matmul_gradient_matches_finite_differences(kind, data):
    """Both matmul gradients (summed over broadcast batch axes) agree with central differences."""
    assert al.gradcheck(al.matmul, list(data.draw(matmul_case(kind))))


@settings(max_examples=SECOND_ORDER_EXAMPLES)
@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_matmul_second_gradient_matches_finite_differences(kind, data):
    """matmul's gradients are themselves correctly differentiable (mixed second derivatives)."""
    assert al.gradgradcheck(al.matmul, list(data.draw(matmul_case(kind))))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_matmul_gradients_keep_dtype_and_shape(kind, dtype):
    """float32 (float64) operands get float32 (float64) gradients of their own shapes."""
    shape_a, shape_b = {
        "vector_vector": ((3,), (3,)), "vector_matrix": ((3,), (3, 2)), "matrix_vector": ((2, 3), (3,)),
        "matrix_matrix": ((2, 3), (3, 4)), "batched": ((1, 2, 3), (4, 3, 2)), "batched_vector": ((2, 2, 3), (3,)),
    }[kind]
    a = Tensor(np.ones(shape_a, dtype=dtype), requires_grad=True)
    b = Tensor(np.ones(shape_b, dtype=dtype), requires_grad=True)
    (a @ b).sum().backward()
    assert (dtype_of(a.grad), dtype_of(b.grad)) == (dtype, dtype)
    assert (a.grad.shape, b.grad.shape) == (shape_a, shape_b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@given(data=st.data())
def test_linear_forward_equals_x_w_transpose_plus_b(bias, dtype, data):
    """linear(x, W, b) = x W^T + b for inputs with any number of batch axes."""
    arrays_ = data.draw(linear_case(dtype, bias))
    out = al.linear(*[Tensor(a) for a in arrays_])
    x, w = (a.astype(np.float64) for a in arrays_[:2])
    expected = x @ w.T + (arrays_[2] if bias else 0)
    assert dtype_of(out) == dtype
    np.testing.assert_allclose(out.numpy(), expected, **_tolerance(dtype))


@pytest.mark.parametrize("bias", [True, False])
@given(data=st.data())
def test_linear_gradient_matches_finite_differences(bias, data):
    """The gradients of linear in x, W and b agree with central differences."""
    assert al.gradcheck(al.linear, data.draw(linear_case(bias=bias)))


@settings(max_examples=SECOND_ORDER_EXAMPLES)
@given(data=st.data())
def test_linear_second_gradient_matches_finite_differences(data):
    """linear's gradients are themselves correctly differentiable."""
    assert al.gradgradcheck(al.linear, data.draw(linear_case()))


def test_linear_accepts_a_plain_array_input():
    """A plain array input (NumPy's on the CPU, the device's own elsewhere) joins the weight's dtype (a
    constant with no gradient)."""
    weight = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    out = al.linear(on_device(np.ones((4, 3))), weight)
    assert dtype_of(out) == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), np.full((2, 3), 4.0))


# ----- bad input -----
@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4, 5)), ((3,), (2,)), ((2, 2, 3), (2, 4)), ((5,), (2, 4, 3))])
def test_matmul_rejects_mismatched_shapes_naming_both(shape_a, shape_b):
    """Contracting axes of different lengths is a ValueError whose message names both shapes."""
    with pytest.raises(ValueError) as error:
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))
    assert str(shape_a) in str(error.value)
    assert str(shape_b) in str(error.value)


def test_matmul_rejects_scalars():
    """matmul needs at least one axis on each side."""
    with pytest.raises(ValueError, match="at least one axis"):
        al.matmul(Tensor(np.ones(())), Tensor(np.ones(3)))


def test_matmul_rejects_batch_shapes_that_do_not_broadcast():
    """Batch axes (2,) and (3,) cannot broadcast: a ValueError."""
    with pytest.raises(ValueError):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 2)))


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape",
    [((4, 3), (2, 5), None), ((4, 3), (2, 3), (3,)), ((4, 3), (3,), None)],
    ids=["inner", "bias", "weight_ndim"],
)
def test_linear_rejects_mismatched_shapes(x_shape, w_shape, b_shape):
    """linear with an input, weight or bias of the wrong shape is a ValueError that names the shapes."""
    bias = None if b_shape is None else Tensor(np.ones(b_shape))
    with pytest.raises(ValueError, match="shape"):
        al.linear(Tensor(np.ones(x_shape)), Tensor(np.ones(w_shape)), bias)
