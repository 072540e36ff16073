"""Tensor operators and the constructor refuse what is not real-number data with a TypeError naming it,
instead of NaN (NumPy reads None as NaN) or an error from deep inside NumPy.

Not in conftest's per-device list: the checks happen before any data reaches a device; the
array_api_strict case is spelled out below.
"""
from __future__ import annotations

import operator
import re

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor

BAD_OPERANDS = {
    "None": None, "str": "a", "bytes": b"a", "object": object(), "dict": {}, "set": {1.0}, "complex": 1j,
    "complex_array": np.array([1j]), "string_array": np.array(["x"]), "list_with_None": [1.0, None],
    "list_with_str": [1.0, "a"], "complex_scalar": np.complex64(1),
}
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow, "@": operator.matmul}


@pytest.mark.parametrize("symbol", OPERATORS)
@pytest.mark.parametrize("bad", BAD_OPERANDS.values(), ids=BAD_OPERANDS.keys())
def test_an_operator_with_a_non_number_is_a_type_error(symbol, bad):
    """tensor <op> bad raises TypeError naming the operator and both types, with what is accepted."""
    t = Tensor([1.0, 2.0])
    pattern = f"for {re.escape(symbol)}: 'Tensor' and '{type(bad).__name__}" + r".*\(expected a Tensor, a real number"
    with pytest.raises(TypeError, match=pattern):
        OPERATORS[symbol](t, bad)


@pytest.mark.parametrize("symbol", OPERATORS)
@pytest.mark.parametrize("bad", BAD_OPERANDS.values(), ids=BAD_OPERANDS.keys())
def test_a_reflected_operator_with_a_non_number_is_a_type_error(symbol, bad):
    """bad <op> tensor raises the same TypeError with the operands in their written order."""
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=rf"'{type(bad).__name__}.*' and 'Tensor' \(expected"):
        OPERATORS[symbol](bad, t)


def test_none_is_never_silently_nan():
    """The case that used to give [nan] without a word."""
    with pytest.raises(TypeError, match="NoneType"):
        Tensor([1.0]) + None
    with pytest.raises(TypeError, match="NoneType"):
        Tensor([1.0]) ** None  # 1 ** nan is 1: this one used to be silently *right-looking*


@pytest.mark.parametrize(
    "good", [2, 2.0, True, np.float32(2), np.int64(2), np.bool_(True), np.array([2.0]), np.array([2]),
             np.array([True]), [2.0, 3.0], (2, 3), Tensor([2.0, 3.0])],
    ids=["int", "float", "bool", "np_float32", "np_int64", "np_bool", "float_array", "int_array",
         "bool_array", "list", "tuple", "tensor"],
)
def test_real_operands_still_work_on_both_sides(good):
    """Numbers, bools, real and bool NumPy scalars and arrays, lists and Tensors combine as before."""
    t = Tensor([1.0, 2.0])
    expected = np.asarray(good.numpy() if isinstance(good, Tensor) else good, dtype=np.float32)
    np.testing.assert_allclose((t + good).numpy(), t.numpy() + expected)
    np.testing.assert_allclose((good - t).numpy(), expected - t.numpy())
    assert (t * good).dtype == np.float32


@pytest.mark.parametrize(
    "data", [None, "abc", b"abc", [1, None], [1.0, "a"], np.array([1 + 2j]), 1j, {}, object(), {"a": 1.0}],
    ids=["None", "str", "bytes", "list_with_None", "list_with_str", "complex_array", "complex", "dict",
         "object", "dict_of_numbers"],
)
def test_the_constructor_refuses_non_numbers(data):
    """Tensor(data) with no real numbers in it is a TypeError saying what a Tensor holds."""
    with pytest.raises(TypeError, match="Tensor data must be real numbers"):
        Tensor(data)


def test_comparisons_with_non_numbers_follow_python():
    """== None is False and != None True (no elementwise array of NaN comparisons); < None is Python's
    TypeError. Real operands still compare elementwise."""
    t = Tensor([1.0, 2.0])
    assert (t == None) is False  # noqa: E711 (the operator is what is tested)
    assert (t != None) is True  # noqa: E711
    with pytest.raises(TypeError, match="'<' not supported"):
        t < None  # noqa: B015
    np.testing.assert_array_equal(t < 1.5, [True, False])
    np.testing.assert_array_equal(t == Tensor([1.0, 0.0]), [True, False])


def test_array_api_operands_are_checked_by_dtype():
    """An array-API array of reals combines with a Tensor on its namespace; a complex one is a TypeError."""
    xp = pytest.importorskip("array_api_strict")
    t = Tensor(xp.asarray([1.0, 2.0]))
    np.testing.assert_array_equal((t + xp.asarray([1.0, 1.0])).numpy(), [2.0, 3.0])
    with pytest.raises(TypeError, match="complex"):
        t * xp.asarray([1j, 1j])


@pytest.mark.parametrize("bad", [None, "a", {}, object(), np.array([1j]), [1.0, None]],
                         ids=["None", "str", "dict", "object", "complex_array", "list_with_None"])
@pytest.mark.parametrize(
    "call, name",
    [(lambda bad: al.add(Tensor([1.0]), bad), "b"), (lambda bad: al.mul(bad, Tensor([1.0])), "a"),
     (lambda bad: al.pow(Tensor([1.0]), bad), "exponent"), (lambda bad: al.exp(bad), "x"),
     (lambda bad: al.where(np.array([True]), Tensor([1.0]), bad), "b"),
     (lambda bad: al.linear(Tensor([[1.0]]), bad), "weight"), (lambda bad: al.concat([Tensor([1.0]), bad]), "tensors")],
    ids=["add", "mul", "pow", "exp", "where", "linear", "concat"],
)
def test_the_functional_ops_refuse_non_numbers_by_name(call, name, bad):
    """The functional API checks its operands at the same door as the operators: al.add(t, None) is a
    TypeError naming b (it used to be NaN: NumPy reads None as NaN)."""
    with pytest.raises(TypeError, match=rf"\b{name}(\[\d\])? must be a Tensor, a real number"):
        call(bad)
