"""Function: the one shape every differentiable op has.

An op is a subclass of :class:`Function` with two methods:

``forward(self, *arrays) -> array``
    computes the output from raw arrays (NumPy or CuPy); it may save what backward needs on ``self``.
``backward(self, grad_output: Tensor) -> Tensor | tuple[Tensor | None, ...]``
    returns dL/d(input) for each input, given dL/d(output), **written with Tensor ops**. Because the
    backward is itself made of differentiable ops, running it with the graph recorder on
    (``create_graph=True``) gives gradients that can be differentiated again.

Inside backward, ``self.inputs`` are the input Tensors, ``self.output`` the output Tensor, and
``self.needs_input_grad[i]`` says whether input i wants a gradient (return None to skip work).

Calling an instance runs forward and, when a graph is being recorded, links the output to the op::

    class Square(Function):
        def forward(self, x):
            return x * x

        def backward(self, grad_output):
            (x,) = self.inputs
            return grad_output * 2.0 * x

    y = Square()(x)          # or Square.apply(x)
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.grad_mode import _GradMode
from autograd_lite.tensor import Tensor


class Function:
    inputs: tuple[Tensor, ...] | None
    needs_input_grad: tuple[bool, ...]

    def __call__(self, *inputs: Tensor) -> Tensor:
        for x in inputs:
            if not isinstance(x, Tensor):
                raise TypeError(
                    f"{type(self).__name__} expects Tensor inputs, got {type(x).__name__}; "
                    "wrap arrays with autograd_lite.tensor(...)"
                )
        arrays = [x.data for x in inputs]
        if len(arrays) > 1 and not all(type(a) is np.ndarray for a in arrays):
            backend.array_namespace(*arrays)  # one device per op: mixing them is an error, never a silent copy
        out = Tensor._from_array(self.forward(*arrays))
        if _GradMode.enabled and any(x.requires_grad for x in inputs):
            out.requires_grad = True
            out.creator = self
            self.inputs = inputs
            self.needs_input_grad = tuple(x.requires_grad for x in inputs)
            # A weak reference: the output owns its creator, not the other way round (no cycle).
            self._output_ref = weakref.ref(out)
        return out

    @classmethod
    def apply(cls, *inputs: Tensor, **options: Any) -> Tensor:
        """Build the op with ``options`` and apply it to ``inputs``."""
        return cls(**options)(*inputs)

    @property
    def output(self) -> Tensor:
        out = self._output_ref()
        if out is None:  # only reachable if the caller dropped the output yet backprops through it
            raise RuntimeError(f"the output of {type(self).__name__} no longer exists")
        return out

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad_output: Tensor) -> Tensor | tuple[Tensor | None, ...] | None:
        raise NotImplementedError

    def release(self) -> None:
        """Drop everything saved for backward (after a backward without ``retain_graph``)."""
        self.__dict__.clear()
        self.inputs = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
