"""Module and Parameter: how layers hold their weights and find each other's.

A Module registers every Parameter, buffer (state that is saved but not trained, e.g. running averages)
and sub-Module assigned to it as an attribute, in assignment order, so ``parameters()`` and
``state_dict()`` walk the whole tree with dotted names (``encoder.0.weight``).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.tensor import Tensor, check_flag, parse_target


class Parameter(Tensor):
    """A Tensor that a Module trains: a leaf with ``requires_grad=True``."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"call super().__init__() in {type(self).__name__}.__init__ before setting attributes")
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep an array in the state dict without training it (e.g. an EMA, a noise schedule)."""
        if not isinstance(name, str) or not name or "." in name:
            raise TypeError(f"register_buffer: name must be a non-empty string without '.', got {name!r}")
        self._buffers[name] = None
        object.__setattr__(self, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- walking the tree -----
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        _check_prefix(prefix)
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()  # a parameter shared by two layers is listed once
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        for module_name, module in self.named_modules():
            for name in module._buffers:
                yield (f"{module_name}.{name}" if module_name else name), getattr(module, name)

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        mode = check_flag(mode, "mode")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # ----- saving and loading -----
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer as a NumPy array (a copy), by dotted name."""
        state = {name: np.array(param.numpy()) for name, param in self.named_parameters()}
        for name, value in self.named_buffers():
            if value is None:  # a declared but unset buffer has nothing to save
                continue
            value = value.numpy() if isinstance(value, Tensor) else backend.to_device(value, "cpu")
            state[name] = np.array(value)
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers; names and shapes must match.

        With ``strict=True`` a missing or unexpected name is an error; shapes must always match.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict of arrays (e.g. from state_dict()), got {type(state).__name__}")
        strict = check_flag(strict, "strict")
        own = dict(self.named_parameters())
        buffers = {name for name, _ in self.named_buffers()}
        missing = [n for n in list(own) + sorted(buffers) if n not in state]
        unexpected = [n for n in state if n not in own and n not in buffers]
        if strict and (missing or unexpected):
            raise KeyError(f"state dict does not match the model: missing {missing}, unexpected {unexpected}")
        for name, value in state.items():
            if name in own:
                param = own[name]
                value = np.asarray(value)
                if value.shape != param.shape:
                    raise ValueError(f"{name}: saved shape {value.shape} != parameter shape {param.shape}")
                param.data = backend.to_device(value.astype(backend.dtype_name(param.dtype), copy=True), param.device)
            elif name in buffers:
                owner, attr = self._owner_of(name)
                old = getattr(owner, attr)
                old_shape = getattr(old, "shape", None)
                if old_shape is not None and tuple(old_shape) != np.shape(value):
                    raise ValueError(f"{name}: saved shape {np.shape(value)} != buffer shape {tuple(old_shape)}")
                object.__setattr__(owner, attr, _in_the_form_of(old, np.array(value)))

    def _owner_of(self, dotted: str) -> tuple[Module, str]:
        *path, attr = dotted.split(".")
        module: Module = self
        for part in path:
            module = module._modules[part]
        return module, attr

    # ----- devices and dtypes -----
    def to(self, target: Any) -> Module:
        """Move every parameter and buffer to a device ('cpu'/'cuda') or cast it to a float dtype."""
        device, dtype = parse_target(target)
        target = device if device is not None else dtype
        for param in self.parameters():
            if isinstance(target, str):
                param.data = backend.to_device(param.data, target)
            else:
                param.data = backend.astype(param.data, target)
            param.grad = None
        for name, value in list(self.named_buffers()):
            owner, attr = self._owner_of(name)
            object.__setattr__(owner, attr, _buffer_to(value, target))
        return self

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_lines = repr(child).splitlines()
            lines.append(f"  ({name}): " + "\n  ".join(child_lines))
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


def _check_prefix(prefix: Any) -> None:
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")


def _in_the_form_of(old: Any, array: np.ndarray) -> Any:
    """A loaded buffer ``array`` shaped like the buffer ``old`` it replaces: a Tensor if that was one,
    with its dtype and on its device."""
    data = old.data if isinstance(old, Tensor) else old
    if not hasattr(data, "dtype"):
        return array
    array = backend.to_device(array.astype(backend.dtype_name(data.dtype)), backend.device_of(data))
    return Tensor(array) if isinstance(old, Tensor) else array


def _buffer_to(value: Any, target: Any) -> Any:
    """A buffer moved to device ``target`` ('cpu'/'cuda') or, if it holds floats, cast to dtype ``target``."""
    data = value.data if isinstance(value, Tensor) else value
    if not hasattr(data, "dtype"):  # None or a Python number
        return value
    if isinstance(target, str):
        data = backend.to_device(data, target)
    elif backend.is_floating(data):  # integer buffers (counts, indices) keep their dtype
        data = backend.astype(data, target)
    return Tensor(data) if isinstance(value, Tensor) else data
