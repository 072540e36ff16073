"""autograd_lite: a small reverse-mode automatic differentiation engine on NumPy arrays.

PyTorch-style on the outside (``Tensor``, ``.backward()``, ``nn.Module``, ``optim.Adam``, ``no_grad()``),
DeZero/Chainer-style inside: every op is a :class:`Function` with a forward on arrays and a backward
written with Tensor ops, so gradients of gradients come for free.

Where to read: ``tensor.py`` (Tensor and backward), ``function.py`` (the shape of an op), ``ops/`` (every
op and its derivative), ``nn/`` (layers and losses), ``optim.py``, ``gradcheck.py``, ``io.py``.
"""
from autograd_lite import nn, ops, optim
from autograd_lite.function import Function
from autograd_lite.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_lite.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd_lite.io import load, save
from autograd_lite.ops import *  # noqa: F403  (the functional API: autograd_lite.exp(x), ...)
from autograd_lite.tensor import Tensor, get_default_dtype, grad, set_default_dtype, tensor

__all__ = [
    "Function", "GradcheckError", "Tensor", "enable_grad", "get_default_dtype", "grad", "gradcheck",
    "gradgradcheck", "is_grad_enabled", "load", "nn", "no_grad", "ops", "optim", "save", "set_default_dtype",
    "set_grad_enabled", "tensor", *ops.__all__,
]
