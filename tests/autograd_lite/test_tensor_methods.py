"""The functional ops that are also Tensor methods (``x.sum(axis)``, ``x.reshape(2, 3)``, ``x.exp()``, ...): each
method exists, passes its arguments (positional and keyword) through to the op, gives the op's values and
gradient, and carries the op's name and docstring (so ``help(x.sum)`` reads like ``help(al.sum)``)."""
from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor

# method name: (positional arguments, keyword arguments) of one call
CALLS = {
    "sum": ((1,), {"keepdims": True}),
    "mean": ((0,), {}),
    "var": ((), {"axis": 1, "ddof": 1}),
    "max": ((1,), {}),
    "min": ((), {"axis": 0, "keepdims": True}),
    "logsumexp": ((1,), {}),
    "softmax": ((0,), {}),
    "log_softmax": ((), {"axis": 1}),
    "reshape": ((3, 4), {}),
    "flatten": ((), {}),
    "transpose": ((1, 0), {}),
    "permute": ((1, 0), {}),
    "swapaxes": ((0, 1), {}),
    "squeeze": ((), {}),
    "unsqueeze": ((1,), {}),
    "broadcast_to": (((2, 4, 3),), {}),
    "exp": ((), {}),
    "log": ((), {}),
    "sqrt": ((), {}),
    "abs": ((), {}),
    "sin": ((), {}),
    "cos": ((), {}),
    "tanh": ((), {}),
    "sigmoid": ((), {}),
    "relu": ((), {}),
    "clip": ((0.5,), {"high": 1.5}),
    "pow": ((3.0,), {}),
    "matmul": ((np.arange(3.0).reshape(3, 1),), {}),
}


def _leaf():
    values = np.random.default_rng(0).uniform(0.1, 2.0, size=(4, 3))
    return Tensor(values, dtype="float64", requires_grad=True)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_method_is_its_op_with_the_same_arguments(name):
    args, kwargs = CALLS[name]
    x, y = _leaf(), _leaf()
    by_method = getattr(x, name)(*args, **kwargs)
    by_function = getattr(al, name)(y, *args, **kwargs)
    assert by_method.shape == by_function.shape
    np.testing.assert_array_equal(by_method.numpy(), by_function.numpy())
    weights = np.random.default_rng(1).standard_normal(by_method.shape)
    (by_method * Tensor(weights, dtype="float64")).sum().backward()
    (by_function * Tensor(weights, dtype="float64")).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_method_carries_the_ops_name_and_docstring(name):
    method, op = getattr(Tensor, name), getattr(al, name)
    assert method.__name__ == op.__name__  # (permute is transpose, under both names)
    assert method.__doc__ == op.__doc__
