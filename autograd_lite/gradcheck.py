"""Check gradients against finite differences (in float64), for the tests and for anyone adding an op.

The analytic gradient of L = sum(w * f(x)), with fixed random weights w, is compared with the central
difference

    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)         (error O(eps^2))

element by element for small inputs, and along random unit directions v for large ones
(dL/dv ~ (L(x + eps v) - L(x - eps v)) / (2 eps) against <grad L, v>).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.ops import concat, reshape
from autograd_lite.tensor import Tensor, check_count, check_data, check_flag, check_nonnegative, check_positive, grad


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def _flat_output(out: Any) -> Tensor:
    outs = [out] if isinstance(out, Tensor) else [o for o in out if o is not None]
    return outs[0].reshape(-1) if len(outs) == 1 else concat([o.reshape(-1) for o in outs])


def _check_function_and_inputs(fn: Any, inputs: Any) -> None:
    if not callable(fn):
        raise TypeError(f"fn must be a function of Tensors, got {type(fn).__name__}")
    if not isinstance(inputs, list | tuple):
        raise TypeError(f"inputs must be a list or tuple of arrays or Tensors, got {type(inputs).__name__}")
    for i, x in enumerate(inputs):
        check_data(x, f"inputs[{i}]")


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    max_elementwise: int = 128,
    n_directions: int = 16,
    seed: int = 0,
    raise_exception: bool = True,
    device: str | None = None,
) -> bool:
    """True if ``fn``'s gradients with respect to every input match finite differences.

    ``fn`` takes Tensors and returns a Tensor (or a sequence of them). ``inputs`` are arrays or Tensors;
    they are copied to float64 leaves on ``device`` (the default device when None). Inputs with more than
    ``max_elementwise`` elements are checked along ``n_directions`` random directions instead of element by
    element.
    """
    _check_function_and_inputs(fn, inputs)
    eps, atol, rtol = check_positive(eps, "eps"), check_nonnegative(atol, "atol"), check_nonnegative(rtol, "rtol")
    max_elementwise = check_count(max_elementwise, "max_elementwise", minimum=0)
    n_directions = check_count(n_directions, "n_directions")
    raise_exception = check_flag(raise_exception, "raise_exception")
    if device is not None:
        backend.namespace_of(device)  # a known device, before any work
    rng = np.random.default_rng(check_count(seed, "seed", minimum=0))
    arrays = [np.array(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    leaves = [Tensor(a, requires_grad=True, device=device) for a in arrays]
    out = _flat_output(fn(*leaves))
    weights = Tensor(rng.standard_normal(out.shape), device=out.device)

    def objective(values: list[np.ndarray]) -> float:
        # Inputs require grad here too: fn may itself differentiate (as in gradgradcheck).
        out = _flat_output(fn(*[Tensor(v, requires_grad=True, device=device) for v in values]))
        return float((out.detach() * weights).sum().item())

    if out.requires_grad:
        analytic = grad((out * weights).sum(), leaves, allow_unused=True)
    else:  # nothing in fn depends on its inputs through differentiable ops
        analytic = [None] * len(leaves)
    analytic = [np.zeros_like(a) if g is None else g.numpy() for a, g in zip(arrays, analytic)]

    for i, (array, analytic_grad) in enumerate(zip(arrays, analytic)):
        if analytic_grad.shape != array.shape:
            raise GradcheckError(f"input {i}: gradient shape {analytic_grad.shape} != input shape {array.shape}")
        if array.size <= max_elementwise:
            directions = np.eye(array.size).reshape((array.size,) + array.shape)
        else:
            directions = rng.standard_normal((n_directions,) + array.shape)
            directions /= np.sqrt((directions**2).sum(axis=tuple(range(1, directions.ndim)), keepdims=True))
        for direction in directions:
            values = list(arrays)
            values[i] = array + eps * direction
            plus = objective(values)
            values[i] = array - eps * direction
            minus = objective(values)
            numerical = (plus - minus) / (2 * eps)
            expected = float((analytic_grad * direction).sum())
            if not abs(numerical - expected) <= atol + rtol * abs(numerical):
                if not raise_exception:
                    return False
                where = (
                    f"element {np.unravel_index(int(np.argmax(direction)), array.shape)}"
                    if array.size <= max_elementwise else "a random direction"
                )
                raise GradcheckError(
                    f"input {i} (shape {array.shape}), {where}: analytic {expected:.10g} "
                    f"vs numerical {numerical:.10g} (difference {abs(numerical - expected):.3g})"
                )
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Any], seed: int = 0, **options: Any) -> bool:
    """Check second derivatives: the gradient of ``sum(w * fn(x))`` (built with create_graph=True)
    must itself pass :func:`gradcheck`."""
    _check_function_and_inputs(fn, inputs)
    rng = np.random.default_rng(check_count(seed, "seed", minimum=0) + 1)
    weights: list[Tensor] = []

    def first_gradient(*xs: Tensor) -> Tensor:
        out = _flat_output(fn(*xs))
        if not weights:
            weights.append(Tensor(rng.standard_normal(out.shape), device=out.device))
        if not out.requires_grad:
            return concat([reshape(x * 0.0, (-1,)) for x in xs])
        grads = grad((out * weights[0]).sum(), list(xs), create_graph=True, allow_unused=True)
        return concat([reshape(x * 0.0 if g is None else g, (-1,)) for x, g in zip(xs, grads)])

    return gradcheck(first_gradient, inputs, seed=seed, **options)
