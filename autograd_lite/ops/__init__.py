"""Differentiable ops, one family per file: elementwise, reduce, shape, linalg (and conv)."""
from autograd_lite.ops.conv import avg_pool2d, conv2d, conv_transpose2d, max_pool2d, upsample_nearest2d
from autograd_lite.ops.elementwise import (
    abs,
    add,
    cast,
    clip,
    cos,
    div,
    erf,
    exp,
    gelu,
    leaky_relu,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    silu,
    sin,
    softplus,
    sqrt,
    sub,
    tanh,
    where,
)
from autograd_lite.ops.linalg import linear, matmul
from autograd_lite.ops.reduce import log_softmax, log_softmax_pick, logsumexp, max, mean, min, softmax, sum, var
from autograd_lite.ops.shape import (
    broadcast_to,
    concat,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    transpose,
    unsqueeze,
)

__all__ = [
    "avg_pool2d", "conv2d", "conv_transpose2d", "max_pool2d", "upsample_nearest2d",
    "abs", "add", "broadcast_to", "cast", "clip", "concat", "cos", "div", "erf", "exp", "flatten", "gelu",
    "getitem", "leaky_relu", "linear", "log", "log_softmax", "log_softmax_pick", "logsumexp", "matmul", "max",
    "maximum",
    "mean", "min", "minimum", "mul", "neg", "pad", "permute", "pow", "relu", "reshape", "sigmoid", "silu",
    "sin", "softmax", "softplus", "sqrt", "squeeze", "stack", "sub", "sum", "sum_to", "swapaxes", "tanh",
    "transpose", "unsqueeze", "var", "where",
]


def _install_tensor_methods() -> None:
    """x.sum(axis), x.reshape(2, 3), x.exp(), ...: the functional ops, also as Tensor methods."""
    from autograd_lite.tensor import Tensor

    def as_method(op):
        def method(self, *args, **kwargs):
            return op(self, *args, **kwargs)

        method.__name__, method.__doc__ = op.__name__, op.__doc__
        return method

    for name in (
        "sum", "mean", "var", "max", "min", "logsumexp", "softmax", "log_softmax",
        "reshape", "flatten", "transpose", "permute", "swapaxes", "squeeze", "unsqueeze", "broadcast_to",
        "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "clip", "pow", "matmul",
    ):
        setattr(Tensor, name, as_method(globals()[name]))


_install_tensor_methods()
