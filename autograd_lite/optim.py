"""Optimisers (SGD, Adam, AdamW), gradient-norm clipping and an exponential moving average of weights.

The updates run in place on the parameters' arrays, through fused numba loops for NumPy arrays
(``kernels/optim_kernels.py``, equations there) and through array operations for other array modules
(CuPy) or when numba is turned off (``AUTOGRAD_LITE_DISABLE_NUMBA=1`` or ``kernels.set_numba_enabled``).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograd_lite import backend, kernels
from autograd_lite.nn.module import Module
from autograd_lite.tensor import Tensor, check_flag, check_fraction, check_nonnegative, check_positive


def _tensors(params: Any, name: str = "params") -> list[Tensor]:
    """``params`` (a Module, one Tensor or an iterable of Tensors) as a list of Tensors."""
    if isinstance(params, Module):
        return list(params.parameters())
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, str | bytes | Mapping | np.ndarray) or not isinstance(params, Iterable):
        raise TypeError(f"{name} must be Tensors (e.g. model.parameters()), got {type(params).__name__}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name} must be Tensors (e.g. model.parameters()), got {type(p).__name__} at {i}")
    return params


def _check_state(state: Any) -> None:
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict (from state_dict()), got {type(state).__name__}")


def _use_numba(*arrays: Any) -> bool:
    """The fused kernels take contiguous NumPy arrays, unless numba is switched off (kernels.set_numba_enabled)."""
    return kernels.uses_numba(*arrays) and all(a.flags.c_contiguous for a in arrays)


class Optimizer:
    """Holds the parameters and per-parameter state; subclasses define ``_update(i, param, grad)``."""

    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params = _tensors(params)
        if not self.params:
            raise ValueError("params is empty: the optimizer got no parameters (an exhausted generator?)")
        for i, p in enumerate(self.params):
            if not p.requires_grad:
                raise TypeError(f"params must require grad (nn.Parameter or requires_grad=True), {i} does not")
        self.lr = check_positive(lr, "lr")
        self.step_count = 0
        self.param_steps = [0] * len(self.params)  # updates each parameter has had (Adam's t is per parameter)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        self.step_count += 1
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self.param_steps[i] += 1
                self._update(i, p.data, p.grad.data)

    def _update(self, i: int, param: Any, grad: Any) -> None:
        raise NotImplementedError

    def _buffer(self, i: int, name: str, like: Any) -> Any:
        state = self.state[i]
        if name not in state:
            state[name] = backend.array_namespace(like).zeros_like(like)
        return state[name]

    def state_dict(self) -> dict[str, Any]:
        """Step count and every state buffer as arrays (for checkpoints; saved with ``autograd_lite.save``)."""
        state = {"step_count": np.array(self.step_count), "lr": np.array(self.lr),
                 "param_steps": np.array(self.param_steps)}
        for i, buffers in enumerate(self.state):
            for name, value in buffers.items():
                state[f"{i}.{name}"] = np.array(backend.to_device(value, "cpu"))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _check_state(state)
        self.step_count = int(state["step_count"])
        self.lr = float(state["lr"])
        self.param_steps = [int(n) for n in state.get("param_steps", [self.step_count] * len(self.params))]
        if len(self.param_steps) != len(self.params):
            raise ValueError(f"optimizer state is for {len(self.param_steps)} parameters, not {len(self.params)}")
        self.state = [{} for _ in self.params]
        for key, value in state.items():
            if key in ("step_count", "lr", "param_steps"):
                continue
            index, name = key.split(".", 1)
            param = self.params[int(index)]
            if np.shape(value) != param.shape:
                raise ValueError(f"optimizer state {key} has shape {np.shape(value)}, parameter {param.shape}")
            value = np.array(value, dtype=backend.dtype_name(param.dtype))
            self.state[int(index)][name] = backend.to_device(value, param.device)


class SGD(Optimizer):
    """p <- p - lr * b with b <- momentum * b + (g + weight_decay * p) (plain SGD when momentum = 0)."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, lr)
        momentum = check_nonnegative(momentum, "momentum")
        weight_decay = check_nonnegative(weight_decay, "weight_decay")
        if check_flag(nesterov, "nesterov") and momentum == 0:
            raise ValueError("nesterov momentum needs momentum > 0")
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov

    def _update(self, i: int, param: Any, grad: Any) -> None:
        velocity = self._buffer(i, "velocity", param) if self.momentum else param  # unused without momentum
        if _use_numba(param, grad, velocity):
            from autograd_lite.kernels.optim_kernels import sgd_update

            dt = param.dtype.type  # constants in the parameter's dtype: float32 stays float32
            sgd_update(param.reshape(-1), grad.reshape(-1), velocity.reshape(-1), dt(self.lr), dt(self.momentum),
                       dt(self.weight_decay), self.nesterov)
            return
        g = grad + self.weight_decay * param if self.weight_decay else grad
        if self.momentum:
            velocity *= self.momentum
            velocity += g
            g = g + self.momentum * velocity if self.nesterov else velocity
        param -= self.lr * g


class Adam(Optimizer):
    """Adam with bias correction (equations in kernels/optim_kernels.py); ``weight_decay`` adds an L2
    penalty to the gradient, as in the paper and PyTorch's Adam."""

    decoupled = False

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        betas = (check_fraction(betas[0], "betas[0]"), check_fraction(betas[1], "betas[1]"))
        self.betas, self.eps = betas, check_positive(eps, "eps")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")

    def _update(self, i: int, param: Any, grad: Any) -> None:
        beta1, beta2 = self.betas
        m, v = self._buffer(i, "m", param), self._buffer(i, "v", param)
        t = self.param_steps[i]  # this parameter's own count, as PyTorch: it may have missed earlier steps
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        l2, decay = (0.0, self.weight_decay) if self.decoupled else (self.weight_decay, 0.0)
        if _use_numba(param, grad, m, v):
            from autograd_lite.kernels.optim_kernels import adam_update

            dt = param.dtype.type
            adam_update(param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1), dt(self.lr / c1),
                        dt(beta1), dt(1 - beta1), dt(beta2), dt(1 - beta2), dt(self.eps), dt(1 / math.sqrt(c2)),
                        dt(l2), dt(1 - self.lr * decay))
            return
        xp = backend.array_namespace(param)
        g = grad + l2 * param if l2 else grad
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if decay:
            param *= 1 - self.lr * decay
        param -= self.lr * (m / c1) / (xp.sqrt(v / c2) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p <- p (1 - lr wd), then the Adam step."""

    decoupled = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)


def _squared_sum(a: Any) -> float:
    """sum(a^2) in float64, in a's namespace."""
    xp = backend.array_namespace(a)
    return float(xp.sum(backend.astype(a, "float64") ** 2))


def clip_grad_norm_(params: Iterable[Tensor], max_norm: float) -> float:
    """Scale all gradients by min(1, max_norm / ||g||) where ||g|| is the norm of all of them together.

    Returns ||g|| before clipping (inf or NaN when a gradient is; nothing is scaled then)."""
    max_norm = check_positive(max_norm, "max_norm")
    params = [p for p in _tensors(params) if p.grad is not None]
    if not params:
        return 0.0
    total = math.sqrt(sum(_squared_sum(p.grad.data) for p in params))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in params:  # new arrays: gradients may be shared between parameters
            p.grad = Tensor._from_array(p.grad.data * scale)
    return total


class EMA:
    """An exponential moving average of parameters, theta_ema <- decay theta_ema + (1 - decay) theta
    (used to sample from diffusion models and GANs with smoother weights).

    With ``warmup=True`` the average leaves out the initial weights: after t updates it is the normalised
    sum_{i<=t} (1 - d) d^(t-i) theta_i / (1 - d^t) (Adam's bias correction), i.e. the update above with the
    decay d (1 - d^(t-1)) / (1 - d^t) at step t. Early in training the plain average is mostly the random
    initialisation (d^t of it); the warmed-up one is the trajectory's average from the first step.
    """

    def __init__(self, params: Module | Iterable[Tensor], decay: float = 0.999, warmup: bool = False):
        self.decay = check_fraction(decay, "decay")
        self.warmup = check_flag(warmup, "warmup")
        self.params = _tensors(params)
        if not self.params:
            raise ValueError("params is empty: nothing to average (an exhausted generator?)")
        self.shadow = [backend.copy(p.data) for p in self.params]
        self.num_updates = 0

    def current_decay(self) -> float:
        """The decay the next update uses."""
        if not self.warmup:
            return self.decay
        t, d = self.num_updates + 1, self.decay
        return d * (1 - d ** (t - 1)) / (1 - d ** t)

    def update(self) -> None:
        decay = self.current_decay()
        self.num_updates += 1
        for avg, p in zip(self.shadow, self.params):
            avg *= decay  # a Python float takes the array's dtype (NEP 50), in every namespace
            avg += (1 - decay) * p.data

    def copy_to(self, params: Module | Iterable[Tensor] | None = None) -> None:
        """Write the averages into ``params`` (by default the tracked parameters)."""
        targets = self.params if params is None else _tensors(params)
        if len(targets) != len(self.shadow):
            raise ValueError(f"params has {len(targets)} tensors, the average {len(self.shadow)}")
        for avg, p in zip(self.shadow, targets):
            p.data = backend.copy(avg)

    @contextmanager
    def average_parameters(self) -> Iterator[None]:
        """Temporarily swap the averages in (e.g. to sample), restoring the trained weights after."""
        saved = [p.data for p in self.params]
        self.copy_to()
        try:
            yield
        finally:
            for p, data in zip(self.params, saved):
                p.data = data

    def state_dict(self) -> dict[str, Any]:
        state = {f"shadow.{i}": np.array(backend.to_device(a, "cpu")) for i, a in enumerate(self.shadow)}
        state["num_updates"] = np.array(self.num_updates)
        state["decay"] = np.array(self.decay)
        state["warmup"] = np.array(self.warmup)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _check_state(state)
        for i, p in enumerate(self.params):
            saved = np.asarray(state[f"shadow.{i}"])
            if saved.shape != p.shape:
                raise ValueError(f"EMA shadow {i} has shape {saved.shape}, parameter {p.shape}")
            self.shadow[i] = backend.to_device(saved.astype(backend.dtype_name(p.dtype)), p.device)
        self.num_updates = int(state["num_updates"])
        self.decay = float(state["decay"])
        self.warmup = bool(state.get("warmup", False))
