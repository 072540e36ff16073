"""Backward semantics: accumulation, diamonds, freed graphs, explicit output gradients, grad modes,
autograd_lite.grad (higher order, allow_unused), retain_grad, deep graphs, detach, comparisons,
mixed precision, and what Tensor accepts as data."""
from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given
from strategies import arrays, dtype_of, shapes

import autograd_lite as al
from autograd_lite import Function, Tensor, backend


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----- accumulation and the chain rule -----
def test_gradients_accumulate_over_two_backward_calls():
    """Two backward passes add their gradients into the leaf's .grad."""
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * np.array([1.0, 2.0]))


@given(x=arrays(shapes()))
def test_a_diamond_gets_the_sum_of_its_paths(x):
    """With s = x^2 used by two branches, d(sin s + 3 s)/dx = (cos s + 3) 2x."""
    t = Tensor(x, requires_grad=True)
    s = t * t
    (al.sin(s) + s * 3).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), (np.cos(x * x) + 3) * 2 * x, rtol=1e-12, atol=1e-12)


def test_an_input_used_twice_in_one_op_gets_both_contributions():
    """d(x * x)/dx = 2x: both operands of one op feed the same leaf."""
    x = leaf([1.5, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_backward_from_a_leaf_scalar_gives_one():
    """A scalar leaf's gradient with respect to itself is 1."""
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_only_leaves_keep_gradients_by_default():
    """Intermediate tensors have no .grad after backward unless retain_grad() was called."""
    x = leaf([1.0, 2.0])
    y = x * 2
    y.sum().backward()
    assert y.grad is None
    assert x.grad is not None


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    """After y.retain_grad(), y.grad holds dL/dy (summed over its uses)."""
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    (y * y + y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.numpy() + 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * y.numpy() + 1))


# ----- freed graphs -----
def test_second_backward_through_a_freed_graph_raises():
    """Without retain_graph, a second backward through the same graph is a RuntimeError."""
    x = leaf([1.0, 2.0])
    loss = (al.exp(x) * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_second_backward_through_a_shared_freed_subgraph_raises():
    """A new output built on a freed intermediate cannot backpropagate through it."""
    x = leaf([1.0, 2.0])
    hidden = al.exp(x)
    hidden.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (hidden * 2).sum().backward()


def test_retain_graph_allows_a_second_backward():
    """retain_graph=True keeps the graph: a second backward works and accumulates the same gradient."""
    x = leaf([1.0, 2.0])
    loss = (al.exp(x) * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(x.numpy()) * (x.numpy() + 1)))


# ----- the output gradient -----
def test_backward_from_a_non_scalar_needs_an_output_gradient():
    """Backward from a tensor with several elements and no grad= is an error."""
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="non-scalar"):
        y.backward()


def test_backward_with_an_explicit_output_gradient_weights_the_outputs():
    """y.backward(w) gives the vector-Jacobian product w^T dy/dx."""
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(np.array([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * [1.0, 0.5, -1.0])


def test_backward_with_an_output_gradient_of_the_wrong_shape_raises():
    """An output gradient whose shape differs from the output's is a ValueError naming both."""
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(np.ones(2))


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    """A result with no differentiable inputs cannot backpropagate."""
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(np.ones(2)) * 2).sum().backward()


# ----- grad modes -----
def test_no_grad_builds_no_graph():
    """Inside no_grad() results do not require grad and have no creator."""
    x = leaf([1.0, 2.0])
    with al.no_grad():
        y = al.exp(x) * x
    assert not y.requires_grad
    assert y.creator is None
    assert al.is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    """A function decorated with @no_grad() builds no graph, and grad mode is restored afterwards."""

    @al.no_grad()
    def double(t):
        return t * 2

    assert not double(leaf([1.0])).requires_grad
    assert (leaf([1.0]) * 2).requires_grad


@pytest.mark.parametrize("mode", ["no_grad", "enable_grad"])
def test_grad_modes_work_as_bare_decorators(mode):
    """@no_grad and @enable_grad without parentheses run the function in that mode, return its result, keep
    its name and docstring, and restore the mode afterwards."""
    seen = []

    @getattr(al, mode)
    def double(t):
        """Twice t."""
        seen.append(al.is_grad_enabled())
        return t * 2

    outer = mode == "no_grad"  # run from the opposite mode, so the decorator must switch it
    al.set_grad_enabled(outer)
    try:
        y = double(leaf([1.0]))
        assert al.is_grad_enabled() is outer
    finally:
        al.set_grad_enabled(True)
    assert seen == [mode == "enable_grad"]
    assert y.requires_grad is (mode == "enable_grad")
    np.testing.assert_array_equal(y.numpy(), [2.0])
    assert double.__name__ == "double" and double.__doc__ == "Twice t."


def test_grad_mode_instances_are_still_context_managers_and_refuse_arguments():
    """no_grad() is a context manager as before; no_grad(3) is a TypeError, not a silent no-op."""
    with al.no_grad() as mode:
        assert not al.is_grad_enabled()
    assert isinstance(mode, al.no_grad)
    assert al.is_grad_enabled()
    with pytest.raises(TypeError, match="no_grad"):
        al.no_grad(3)


def test_enable_grad_inside_no_grad_records_again():
    """enable_grad() inside no_grad() builds a graph; no_grad resumes after it."""
    x = leaf([1.0, 2.0])
    with al.no_grad():
        with al.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad
    assert not z.requires_grad


def test_grad_mode_is_restored_after_an_exception():
    """An exception inside no_grad() does not leave recording switched off."""
    with pytest.raises(ZeroDivisionError), al.no_grad():
        raise ZeroDivisionError
    assert al.is_grad_enabled()


# ----- autograd_lite.grad and higher order -----
@given(x=arrays(shapes()))
def test_grad_with_create_graph_gives_a_differentiable_gradient(x):
    """d/dx of d/dx x^3 (from grad with create_graph=True) is 6x."""
    t = Tensor(x, requires_grad=True)
    (first,) = al.grad((t**3).sum(), t, create_graph=True)
    np.testing.assert_allclose(first.numpy(), 3 * x * x, rtol=1e-12, atol=1e-300)
    (second,) = al.grad(first.sum(), t)
    np.testing.assert_allclose(second.numpy(), 6 * x, rtol=1e-12, atol=1e-300)


def test_third_derivative_through_nested_grads():
    """Nested create_graph grads of x^3 reach the constant third derivative 6."""
    x = leaf([0.5, -2.0])
    (g1,) = al.grad((x**3).sum(), x, create_graph=True)
    (g2,) = al.grad(g1.sum(), x, create_graph=True)
    (g3,) = al.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), [6.0, 6.0])


def test_backward_with_create_graph_makes_grad_differentiable():
    """After loss.backward(create_graph=True), x.grad requires grad and differentiates to the Hessian."""
    x = leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (hessian_diagonal,) = al.grad(x.grad.sum(), x)
    np.testing.assert_allclose(hessian_diagonal.numpy(), 6 * x.numpy())


def test_grad_leaves_dot_grad_untouched():
    """autograd_lite.grad returns gradients without writing any leaf's .grad."""
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (gx,) = al.grad((x * w).sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    assert x.grad is None
    assert w.grad is None


def test_grad_with_respect_to_an_intermediate_tensor():
    """grad can differentiate with respect to a non-leaf tensor."""
    x = leaf([1.0, 2.0])
    hidden = x * 3
    (g,) = al.grad((hidden * hidden).sum(), hidden)
    np.testing.assert_allclose(g.numpy(), 2 * hidden.numpy())


def test_grad_of_an_unused_input_is_an_error_unless_allowed():
    """An input the output does not depend on raises, or gives None with allow_unused=True."""
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    loss = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        al.grad(loss, [x, unused], retain_graph=True)
    gx, gu = al.grad(loss, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert gu is None


def test_grad_with_several_outputs_sums_their_gradients():
    """grad([y1, y2], x) is the gradient of y1 + y2."""
    x = leaf([1.0, 2.0])
    (g,) = al.grad([(x * x).sum(), (x * 3).sum()], x)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() + 3)


def test_grad_with_one_output_upstream_of_another():
    """grad([y, 3y], x) with y = sum(x^2) is 4 * 2x: the ancestor output's own seed and the path through the
    other output both count."""
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (g,) = al.grad([y, y * 3], x)
    np.testing.assert_allclose(g.numpy(), 8 * x.numpy())


def test_a_custom_function_plugs_into_backward():
    """A Function subclass written as in function.py's docstring differentiates (twice, too)."""

    class Square(Function):
        def forward(self, x):
            return x * x

        def backward(self, grad_output):
            (x,) = self.inputs
            return grad_output * 2.0 * x

    assert al.gradcheck(Square.apply, [np.array([0.5, -1.5, 2.0])])
    assert al.gradgradcheck(Square.apply, [np.array([0.5, -1.5, 2.0])])


def test_gradcheck_catches_a_wrong_derivative():
    """gradcheck raises GradcheckError for a backward that is off by 0.1%, naming the input."""

    class AlmostSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, grad_output):
            return grad_output * 2.002 * self.inputs[0]

    with pytest.raises(al.GradcheckError, match="input 0"):
        al.gradcheck(AlmostSquare.apply, [np.array([0.5, -1.5, 2.0])])
    assert not al.gradcheck(AlmostSquare.apply, [np.array([0.5, -1.5, 2.0])], raise_exception=False)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    """A backward computed on raw arrays (a constant to the graph) has the wrong second derivative."""

    class OpaqueSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, grad_output):
            return grad_output * Tensor(2.0 * self.inputs[0].data)

    assert al.gradcheck(OpaqueSquare.apply, [np.array([0.5, -1.5])])
    with pytest.raises(al.GradcheckError):
        al.gradgradcheck(OpaqueSquare.apply, [np.array([0.5, -1.5])])


METHODS = ["sum", "mean", "var", "max", "min", "logsumexp", "softmax", "log_softmax", "exp", "log", "sqrt", "abs",
           "sin", "cos", "tanh", "sigmoid", "relu", "flatten", "transpose"]


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_are_the_functional_ops(name):
    """x.name() computes autograd_lite.name(x)."""
    x = Tensor(np.array([[0.5, 1.5, 2.5], [3.0, 0.25, 1.0]]))
    np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(al, name)(x).numpy())


# ----- graphs of unusual shape -----
def test_a_deep_chain_does_not_hit_the_recursion_limit():
    """Backward through 5000 chained ops (more than the recursion limit) works and is exact."""
    assert sys.getrecursionlimit() < 5000
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0001**5000, rtol=1e-9)
    del y  # freeing the 5000-deep chain must not recurse either


def test_a_graph_is_freed_by_reference_counting_alone():
    """Ops hold their inputs and outputs hold their op, never the reverse: dropping the loss frees the
    intermediate tensors at once, without the cycle collector."""
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        hidden = al.exp(x)
        alive = weakref.ref(hidden)
        loss = (hidden * 2).sum()
        del hidden
        assert alive() is not None
        del loss
        assert alive() is None
    finally:
        gc.enable()


def test_backward_works_inside_no_grad():
    """no_grad() stops recording, not differentiating: backward inside it still fills .grad."""
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    with al.no_grad():
        loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_detach_cuts_the_graph():
    """Nothing flows back through a detached tensor; it shares the data."""
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad
    assert d.creator is None
    assert np.shares_memory(d.numpy(), y.numpy())
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), d.numpy())


def test_comparisons_return_plain_boolean_arrays_of_the_tensors_namespace():
    """<, <=, >, >=, ==, != between tensors (or with numbers) give a plain bool array (np.ndarray on NumPy), not
    a Tensor."""
    a, b = leaf([1.0, 2.0, 3.0]), Tensor(np.array([2.0, 2.0, 2.0]))
    results = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= 2.0, "==": a == b, "!=": a != 2.0}
    expected = {"<": [1, 0, 0], "<=": [1, 1, 0], ">": [0, 0, 1], ">=": [0, 1, 1], "==": [0, 1, 0], "!=": [1, 0, 1]}
    for op, result in results.items():
        assert type(result) is type(a.data)
        assert backend.dtype_name(result.dtype) == "bool"
        np.testing.assert_array_equal(backend.to_device(result, "cpu"), np.array(expected[op], dtype=bool),
                                      err_msg=op)


def test_mixed_precision_inputs_get_gradients_in_their_own_dtype():
    """float32 * float64 is float64, yet the float32 input's gradient is float32 (and correct)."""
    a = leaf([1.0, 2.0], np.float32)
    b = leaf([3.0, 4.0], np.float64)
    out = a * b
    out.sum().backward()
    assert dtype_of(out) == np.float64
    assert dtype_of(a.grad) == np.float32
    assert dtype_of(b.grad) == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_requires_grad_cannot_be_changed_on_a_non_leaf():
    """requires_grad_ on a computed tensor is a RuntimeError (detach first)."""
    with pytest.raises(RuntimeError, match="leaf"):
        (leaf([1.0]) * 2).requires_grad_(False)


# ----- what Tensor accepts -----
@pytest.mark.parametrize(
    "data", [np.array([1, "a"], dtype=object), np.array(["a", "b"]), "abc", np.array([1 + 2j])],
    ids=["object", "string_array", "string", "complex"],
)
def test_tensor_rejects_non_real_data(data):
    """Object, string and complex data are a TypeError naming the dtype."""
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(data)


@pytest.mark.parametrize("other", ["a", np.array([None, None])], ids=["string", "object_array"])
def test_arithmetic_with_non_numbers_is_a_type_error(other):
    """Adding a string or an object array to a Tensor is a TypeError."""
    with pytest.raises(TypeError):
        Tensor(np.ones(2)) + other


@pytest.mark.parametrize(
    "data, dtype",
    [([1, 2], np.float32), (np.arange(3), np.float32), (np.ones(2, np.float64), np.float64),
     (np.ones(2, np.float32), np.float32), (np.ones(2, np.float16), np.float32)],
    ids=["list", "int_array", "float64_array", "float32_array", "float16_array"],
)
def test_tensor_dtype_rules(data, dtype):
    """Float32/float64 arrays keep their dtype; Python data and other arrays become float32."""
    assert dtype_of(Tensor(data)) == dtype
