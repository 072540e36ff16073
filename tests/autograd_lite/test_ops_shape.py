"""Shape ops (reshape, transpose/permute, broadcast_to, squeeze/unsqueeze, getitem, concat, stack, pad):
forward equals NumPy, gradients move the numbers back (finite differences), dtypes are kept, and bad
shapes, axes and widths are clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FLOAT_DTYPES, SECOND_ORDER_EXAMPLES, arrays, dtype_of, shapes

import autograd_lite as al
from autograd_lite import Tensor


# ----- cases: (function of Tensors, NumPy reference of arrays, input arrays) -----
@st.composite
def reshape_case(draw, dtype=np.float64):
    shape = draw(shapes())
    target = list(draw(st.permutations(shape)))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    x = draw(arrays(shape, dtype))
    return (lambda x: al.reshape(x, tuple(target))), (lambda x: x.reshape(target)), [x]


@st.composite
def transpose_case(draw, dtype=np.float64):
    shape = draw(shapes(min_dims=1))
    axes = tuple(draw(st.permutations(range(len(shape)))))
    x = draw(arrays(shape, dtype))
    if draw(st.booleans()):
        return (lambda x: al.permute(x, axes)), (lambda x: np.transpose(x, axes)), [x]
    return (lambda x: x.T), (lambda x: x.T), [x]


@st.composite
def broadcast_to_case(draw, dtype=np.float64):
    shape = draw(shapes(max_dims=2))
    lead = draw(st.lists(st.integers(1, 3), max_size=3 - len(shape)))
    target = tuple(lead) + tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    x = draw(arrays(shape, dtype))
    return (lambda x: al.broadcast_to(x, target)), (lambda x: np.broadcast_to(x, target)), [x]


@st.composite
def squeeze_case(draw, dtype=np.float64):
    shape = draw(shapes(min_dims=1, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.one_of(st.none(), st.sampled_from(ones))) if ones else None
    x = draw(arrays(shape, dtype))
    return (lambda x: al.squeeze(x, axis)), (lambda x: np.squeeze(x, axis)), [x]


@st.composite
def unsqueeze_case(draw, dtype=np.float64):
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    x = draw(arrays(shape, dtype))
    return (lambda x: al.unsqueeze(x, axis)), (lambda x: np.expand_dims(x, axis)), [x]


@st.composite
def basic_index_case(draw, dtype=np.float64):
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = draw(arrays(shape, dtype))
    return (lambda x: x[index]), (lambda x: x[index]), [x]


@st.composite
def integer_array_index_case(draw, dtype=np.float64):
    """Integer arrays with repeated entries (the gradient must add up the repeats), also negative ones."""
    shape = draw(shapes(min_dims=1))
    rows = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
    if len(shape) > 1 and draw(st.booleans()):
        cols = draw(st.lists(st.integers(0, shape[1] - 1), min_size=len(rows), max_size=len(rows)))
        index = (np.array(rows), np.array(cols))
    else:
        index = np.array(rows)
    x = draw(arrays(shape, dtype))
    return (lambda x: x[index]), (lambda x: x[index]), [x]


@st.composite
def mixed_index_case(draw, dtype=np.float64):
    """A slice or Ellipsis together with a repeating integer array: x[:, [0, 0, 2]], x[..., [1, 1]]."""
    shape = draw(shapes(min_dims=2))
    cols = np.array(draw(st.lists(st.integers(0, shape[-1] - 1), min_size=1, max_size=5)))
    index = draw(st.sampled_from([(Ellipsis, cols), (slice(None, None, -1),) * (len(shape) - 1) + (cols,)]))
    x = draw(arrays(shape, dtype))
    return (lambda x: x[index]), (lambda x: x[index]), [x]


@st.composite
def boolean_mask_case(draw, dtype=np.float64):
    shape = draw(shapes(min_dims=1))
    mask = draw(hnp.arrays(bool, shape if draw(st.booleans()) else shape[:1]))
    x = draw(arrays(shape, dtype))
    return (lambda x: x[mask]), (lambda x: x[mask]), [x]


@st.composite
def concat_case(draw, dtype=np.float64):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    xs = []
    for size in sizes:
        piece = list(shape)
        piece[axis] = size
        xs.append(draw(arrays(tuple(piece), dtype)))
    return (lambda *ts: al.concat(list(ts), axis)), (lambda *xs: np.concatenate(xs, axis)), xs


@st.composite
def stack_case(draw, dtype=np.float64):
    shape = draw(shapes(max_dims=2))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [draw(arrays(shape, dtype)) for _ in range(draw(st.integers(1, 3)))]
    return (lambda *ts: al.stack(list(ts), axis)), (lambda *xs: np.stack(xs, axis)), xs


@st.composite
def pad_case(draw, dtype=np.float64):
    shape = draw(shapes(min_dims=1))
    widths = tuple(tuple(draw(st.lists(st.integers(0, 2), min_size=2, max_size=2))) for _ in shape)
    value = draw(st.sampled_from([0.0, -1.5]))
    x = draw(arrays(shape, dtype))
    return (lambda x: al.pad(x, widths, value)), (lambda x: np.pad(x, widths, constant_values=value)), [x]


CASES = {
    "reshape": reshape_case,
    "transpose": transpose_case,
    "broadcast_to": broadcast_to_case,
    "squeeze": squeeze_case,
    "unsqueeze": unsqueeze_case,
    "getitem_basic": basic_index_case,
    "getitem_integer_arrays": integer_array_index_case,
    "getitem_mixed": mixed_index_case,
    "getitem_boolean_mask": boolean_mask_case,
    "concat": concat_case,
    "stack": stack_case,
    "pad": pad_case,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", CASES)
@given(data=st.data())
def test_shape_op_forward_equals_numpy(name, dtype, data):
    """Every shape op gives exactly NumPy's array, in the input's dtype."""
    fn, reference, xs = data.draw(CASES[name](dtype))
    out = fn(*[Tensor(x) for x in xs])
    expected = reference(*xs)
    assert dtype_of(out) == dtype
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("name", CASES)
@given(data=st.data())
def test_shape_op_gradient_matches_finite_differences(name, data):
    """Every shape op's gradient (moving the numbers back) agrees with central differences."""
    fn, _, xs = data.draw(CASES[name]())
    assert al.gradcheck(fn, xs)


@settings(max_examples=SECOND_ORDER_EXAMPLES)
@pytest.mark.parametrize("name", CASES)
@given(data=st.data())
def test_shape_op_second_gradient_matches_finite_differences(name, data):
    """The backward of every shape op is itself differentiable (its gradient's gradient is right)."""
    fn, _, xs = data.draw(CASES[name]())
    assert al.gradgradcheck(lambda *ts: fn(*ts) ** 2, xs)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", CASES)
@given(data=st.data())
@settings(max_examples=5)
def test_shape_op_gradient_keeps_the_dtype(name, dtype, data):
    """float32 (float64) inputs get float32 (float64) gradients of their own shape."""
    fn, _, xs = data.draw(CASES[name](dtype))
    leaves = [Tensor(x, requires_grad=True) for x in xs]
    fn(*leaves).sum().backward()
    for leaf in leaves:
        assert dtype_of(leaf.grad) == dtype
        assert leaf.grad.shape == leaf.shape


def test_getitem_gradient_adds_up_repeated_indices():
    """x[[0, 0, 2, 0]] sends three gradients to x[0] and one to x[2]."""
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1, 0])


def test_getitem_accepts_an_integer_tensor_index():
    """A Tensor of (float-stored) integers indexes like an integer array."""
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    out = x[Tensor(np.array([2, 0]))]
    np.testing.assert_array_equal(out.numpy(), [[4, 5], [0, 1]])


def test_stack_gradient_splits_back_per_input():
    """d sum(w * stack([a, b]))/da = w[0] and /db = w[1]."""
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    w = np.arange(6.0).reshape(2, 3)
    (al.stack([a, b]) * Tensor(w)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), w[0])
    np.testing.assert_array_equal(b.grad.numpy(), w[1])


def test_pad_accepts_an_int_and_a_pair():
    """pad(x, 1) pads every axis by 1 on both sides; pad(x, (1, 2)) by 1 before and 2 after."""
    x = Tensor(np.ones((2, 3)))
    assert al.pad(x, 1).shape == (4, 5)
    assert al.pad(x, (1, 2)).shape == (5, 6)


def test_reshape_accepts_separate_ints_and_a_tuple():
    """x.reshape(3, 2) and x.reshape((3, 2)) agree, and -1 is inferred."""
    x = Tensor(np.arange(6.0))
    assert x.reshape(3, 2).shape == x.reshape((3, 2)).shape == x.reshape(-1, 2).shape == (3, 2)


def test_flatten_keeps_the_leading_axes():
    """flatten(x, 1) merges every axis after the first."""
    assert al.flatten(Tensor(np.ones((2, 3, 4))), 1).shape == (2, 12)


# ----- bad input -----
@pytest.mark.parametrize("shape", [(4, 2), (4, -1), (-1, -1), (7,)])
def test_reshape_rejects_an_impossible_shape(shape):
    """Reshaping 6 elements into a shape that cannot hold them is a ValueError naming both shapes."""
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\)"):
        al.reshape(Tensor(np.ones((2, 3))), shape)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: al.transpose(x, 0, 3),
        lambda x: al.permute(x, (0, 0)),
        lambda x: al.squeeze(x, 5),
        lambda x: al.squeeze(x, 0),
        lambda x: al.unsqueeze(x, 4),
        lambda x: al.swapaxes(x, 0, 2),
        lambda x: al.flatten(x, 3),
        lambda x: al.concat([x, x], axis=2),
        lambda x: al.stack([x, x], axis=-4),
    ],
    ids=["transpose", "permute_repeat", "squeeze_range", "squeeze_size", "unsqueeze", "swapaxes", "flatten",
         "concat", "stack"],
)
def test_shape_ops_reject_a_bad_axis(call):
    """An axis the tensor does not have (or cannot squeeze) is a ValueError, never a silent wrap-around."""
    with pytest.raises(ValueError, match="axis|axes"):
        call(Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("width", [-1, (1, -2), [1, 2, 3], ((1, 1), (1, 1), (1, 1))])
def test_pad_rejects_a_bad_width(width):
    """A negative pad width or one with the wrong number of pairs is a ValueError."""
    with pytest.raises(ValueError, match="pad_width"):
        al.pad(Tensor(np.ones((2, 3))), width)


def test_broadcast_to_rejects_an_incompatible_shape():
    """Broadcasting (2, 3) to (4, 3) is impossible: a ValueError naming both shapes."""
    with pytest.raises(ValueError, match=r"\(2, 3\) to \(4, 3\)"):
        al.broadcast_to(Tensor(np.ones((2, 3))), (4, 3))


def test_concat_rejects_mismatched_shapes():
    """concat of (2, 3) and (2, 4) along axis 0 is a ValueError naming both shapes."""
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
        al.concat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], axis=0)


def test_concat_of_nothing_is_an_error():
    """concat([]) has no shape: a ValueError."""
    with pytest.raises(ValueError, match="at least one"):
        al.concat([])


def test_getitem_out_of_range_is_an_index_error_naming_the_shape():
    """Indexing past the end is an IndexError that names the tensor's shape."""
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]
