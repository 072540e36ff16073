"""Tensor and reverse-mode differentiation.

A :class:`Tensor` holds an array (``data``), and, when it was computed by an op while a graph was being
recorded, the op that made it (``creator``, a :class:`~autograd_lite.function.Function` that remembers its
input Tensors). ``backward()`` is the whole algorithm:

1. order the ops reachable from the output so that every op comes before the ops that made its inputs
   (a topological order, found by depth-first search);
2. walk that order, calling each op's ``backward`` with dL/d(its output) and adding what it returns into
   dL/d(each input) (chain rule; a tensor used twice receives the sum over its uses);
3. leaves (tensors the user made with ``requires_grad=True``) keep their total in ``.grad``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.grad_mode import _GradMode

_FLOAT_KINDS = ("float32", "float64")


class _Defaults:
    dtype = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """The dtype given to Python numbers, lists and integer arrays (float32 unless changed)."""
    _Defaults.dtype = check_float_dtype(dtype, "dtype")


def get_default_dtype() -> np.dtype:
    return _Defaults.dtype


_REAL_KINDS = "biuf"  # NumPy dtype kinds a Tensor can hold or meet: bool, signed, unsigned, float
_EXPECTED = "a Tensor, a real number or bool, or an array (or list) of them"


def _is_real_data(x: Any) -> bool:
    """Whether ``x`` is real-number data: a Tensor, a Python or NumPy bool, int or float, or an array
    (NumPy, CuPy, array-API) or nested list/tuple of them with a bool, integer or real floating dtype.
    None, strings, dicts, arbitrary objects and complex numbers are not."""
    if isinstance(x, Tensor | bool | int | float):
        return True
    if isinstance(x, np.ndarray | np.generic):
        return x.dtype.kind in _REAL_KINDS
    if isinstance(x, list | tuple):
        try:
            return np.asarray(x).dtype.kind in _REAL_KINDS  # [1, None] is dtype object, [1, "a"] a string
        except ValueError:  # ragged nesting
            return False
    if hasattr(x, "__array_namespace__") or hasattr(x, "__cuda_array_interface__"):  # CuPy, array_api_strict
        try:
            return np.dtype(backend.dtype_name(x.dtype)).kind in _REAL_KINDS
        except TypeError:  # a dtype NumPy has no name for
            return False
    return False


# Operand types that need no further look on the hot path of every operator.
_PLAIN_OPERANDS = frozenset({float, int})


def check_operand(other: Any, symbol: str, reflected: bool = False) -> None:
    """Raise TypeError unless ``other`` can meet a Tensor in ``tensor <symbol> other`` (or ``other <symbol>
    tensor`` when ``reflected``): Python's message for unsupported operands, plus what is accepted.

    Without it ``Tensor([1.0]) + None`` is NaN (NumPy turns None into NaN) and ``Tensor([1.0]) * {}`` fails
    deep inside NumPy."""
    cls = type(other)
    if cls in _PLAIN_OPERANDS or (cls is np.ndarray and other.dtype.kind in _REAL_KINDS) or _is_real_data(other):
        return
    name = type(other).__name__ + (f" of dtype {other.dtype}" if hasattr(other, "dtype") else "")
    left, right = ("Tensor", name)[:: -1 if reflected else 1]
    raise TypeError(f"unsupported operand type(s) for {symbol}: '{left}' and '{right}' (expected {_EXPECTED})")


def _describe(value: Any) -> str:
    return type(value).__name__ + (f" of dtype {value.dtype}" if hasattr(value, "dtype") else "")


def check_data(value: Any, name: str) -> None:
    """TypeError naming ``name`` unless ``value`` is real-number data (what a Tensor can be made of).

    The door of every op: without it None becomes NaN and a dict fails deep inside NumPy."""
    if type(value) in _PLAIN_OPERANDS or _is_real_data(value):
        return
    raise TypeError(f"{name} must be {_EXPECTED}, got {_describe(value)}")


# ----- argument checks at the door: each names the argument and says what it must be -----
def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (True is not a count, 2.0 is not an integer)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_number(value: Any, name: str, finite: bool = True) -> float:
    """A real number (finite unless ``finite=False``; NaN never)."""
    if not _is_number(value):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be a {'finite' if finite else 'real'} number, got {value}")
    return float(value)


def check_positive(value: Any, name: str) -> float:
    value = check_number(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


def check_nonnegative(value: Any, name: str) -> float:
    value = check_number(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_fraction(value: Any, name: str) -> float:
    """A number in [0, 1) (a dropout rate, a decay, a beta)."""
    value = check_number(value, name)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def check_flag(value: Any, name: str) -> bool:
    """True or False: a string such as "no" would otherwise count as True."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_float_dtype(dtype: Any, name: str) -> np.dtype:
    """float32 or float64, in any spelling (NumPy's, a namespace's dtype object, a name); None is refused
    (NumPy would read it as float64)."""
    try:
        parsed = np.dtype(backend.dtype_name(dtype))
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.name not in _FLOAT_KINDS:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}")
    return parsed


def parse_target(target: Any, name: str = "target") -> tuple[str | None, np.dtype | None]:
    """What ``.to(target)`` means: (a device, None) for a device name, (None, a dtype) for float32/float64."""
    if isinstance(target, str) and target in backend.DEVICES:
        return target, None
    try:
        return None, check_float_dtype(target, name)
    except TypeError:
        raise TypeError(
            f"{name} must be a device ({', '.join(map(repr, backend.DEVICES))}) or a float dtype (float32, float64), "
            f"got {target!r}"
        ) from None


def _as_float_array(data: Any, dtype: Any = None, device: str | None = None) -> Any:
    """``data`` as a float32/float64 array on ``device``; Python data and integers take the default dtype.

    Python and NumPy data go to ``device`` (the default device when None); an array of another namespace
    (CuPy, array_api_strict) stays where it is unless ``device`` names another one.
    """
    if isinstance(data, Tensor):
        data = data.data
    # (NumPy 2's scalars have an __array_namespace__ too: they are NumPy data, and go to the default device)
    if isinstance(data, np.ndarray | np.generic) or not hasattr(data, "__array_namespace__"):
        if data is None or isinstance(data, str | bytes):
            raise TypeError(f"Tensor data must be real numbers ({_EXPECTED}), got {type(data).__name__}")
        array = np.asarray(data)
        kind = array.dtype.kind
        if kind not in _REAL_KINDS:
            what = f"an array of dtype {array.dtype}" if isinstance(data, np.ndarray | np.generic | list | tuple) \
                else f"{type(data).__name__} (dtype {array.dtype})"
            raise TypeError(
                f"Tensor data must be real numbers ({_EXPECTED}), got {what}: "
                "None, objects, strings and complex numbers are not supported"
            )
        if dtype is not None:
            target = np.dtype(backend.dtype_name(dtype))
        elif kind == "f" and array.dtype.itemsize >= 4 and isinstance(data, np.ndarray | np.generic):
            target = array.dtype
        else:
            target = _Defaults.dtype
        if target.name not in _FLOAT_KINDS:
            raise TypeError(f"dtype must be float32 or float64, got {target}")
        array = array if array.dtype == target else array.astype(target)
        device = backend.get_default_device() if device is None else device
        return array if device == "cpu" else backend.to_device(array, device)
    if device is not None:
        data = backend.to_device(data, device)
    xp = backend.array_namespace(data)  # CuPy or another array-API module: keep it there
    if dtype is not None:
        if backend.dtype_name(dtype) not in _FLOAT_KINDS:
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        return xp.astype(data, backend.namespace_dtype(xp, dtype))
    if not xp.isdtype(data.dtype, "real floating"):
        if xp.isdtype(data.dtype, ("integral", "bool")):
            return xp.astype(data, backend.namespace_dtype(xp, _Defaults.dtype))
        raise TypeError(f"Tensor data must be real numbers, got dtype {data.dtype}")
    return data


class Tensor:
    """An array with an optional gradient, PyTorch-style.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)``: ``data`` is an array or anything
    ``numpy.asarray`` takes. Float32/float64 arrays keep their dtype; Python numbers, lists and integer arrays
    become the default dtype (float32). ``device`` ('cpu', 'cuda', 'array_api_strict') moves the data there;
    without it NumPy and Python data go to the default device (``set_default_device``) and other arrays stay
    where they are.
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators, giving a Tensor

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None,
                 device: str | None = None):
        self.data = _as_float_array(data, dtype, device)
        self.grad: Tensor | None = None
        self.requires_grad = check_flag(requires_grad, "requires_grad")
        self.creator = None
        self.name = name
        self._retains_grad = False

    @classmethod
    def _from_array(cls, array: Any) -> Tensor:
        """Fast constructor for op outputs (already float arrays; no checks)."""
        t = cls.__new__(cls)
        if isinstance(array, np.generic):  # NumPy reductions return scalars; keep everything an array
            array = np.asarray(array)
        t.data = array
        t.grad = None
        t.requires_grad = False
        t.creator = None
        t.name = None
        t._retains_grad = False
        return t

    # ----- array-like attributes -----
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return math.prod(self.data.shape)

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's spelling)
        return _ops.transpose(self)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.numpy(), prefix="Tensor(", separator=", ")
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    def __hash__(self) -> int:  # comparisons return arrays, so identity is the hash
        return id(self)

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a Tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied to the CPU if needed; not part of any graph)."""
        return backend.to_device(self.data, "cpu") if not isinstance(self.data, np.ndarray) else self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(tensor)`` gives the data (so matplotlib and NumPy functions accept tensors)."""
        return np.asarray(self.numpy(), dtype=dtype)

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.numpy().reshape(()))

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._from_array(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError("requires_grad_ can only change leaf tensors; use detach() first")
        self.requires_grad = check_flag(requires_grad, "requires_grad")
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def astype(self, dtype: Any) -> Tensor:
        return _ops.cast(self, dtype)

    def to(self, target: Any) -> Tensor:
        """``to('cpu'|'cuda'|'array_api_strict')`` moves the data (a new leaf); ``to(np.float64)`` casts
        (differentiable)."""
        device, dtype = parse_target(target)
        if device is not None:
            moved = Tensor._from_array(backend.to_device(self.data, device))
            moved.requires_grad = self.requires_grad
            return moved
        return self.astype(dtype)

    def zero_grad(self) -> None:
        self.grad = None

    # ----- the algorithm -----
    def backward(
        self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (weighted by ``grad`` if given).

        ``grad`` may be omitted only for a one-element tensor. ``retain_graph`` (default:
        ``create_graph``) keeps the graph for another backward; ``create_graph`` records the backward
        itself, so the gradients can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran under no_grad())"
            )
        retain_graph = None if retain_graph is None else check_flag(retain_graph, "retain_graph")
        run_backward([self], [grad], retain_graph, check_flag(create_graph, "create_graph"), capture=None,
                     grad_names=["grad"])

    # ----- operators (the ops themselves live in autograd_lite.ops) -----
    def __add__(self, other: Any) -> Tensor:
        if type(other) is not Tensor:
            check_operand(other, "+")
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        check_operand(other, "+", reflected=True)
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        if type(other) is not Tensor:
            check_operand(other, "-")
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        check_operand(other, "-", reflected=True)
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        if type(other) is not Tensor:
            check_operand(other, "*")
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        check_operand(other, "*", reflected=True)
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        if type(other) is not Tensor:
            check_operand(other, "/")
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        check_operand(other, "/", reflected=True)
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        if type(other) is not Tensor:
            check_operand(other, "**")
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        check_operand(other, "**", reflected=True)
        return _ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        if type(other) is not Tensor:
            check_operand(other, "@")
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        check_operand(other, "@", reflected=True)
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # Comparisons give plain boolean arrays: they have no gradient. A non-number gives NotImplemented, so
    # Python decides as for any object (PyTorch too): == None is False, < None a TypeError.
    def __lt__(self, other: Any) -> Any:
        return self.data < _raw(other) if _is_comparable(other) else NotImplemented

    def __le__(self, other: Any) -> Any:
        return self.data <= _raw(other) if _is_comparable(other) else NotImplemented

    def __gt__(self, other: Any) -> Any:
        return self.data > _raw(other) if _is_comparable(other) else NotImplemented

    def __ge__(self, other: Any) -> Any:
        return self.data >= _raw(other) if _is_comparable(other) else NotImplemented

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self.data == _raw(other) if _is_comparable(other) else NotImplemented

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self.data != _raw(other) if _is_comparable(other) else NotImplemented


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _is_comparable(x: Any) -> bool:
    return type(x) in _PLAIN_OPERANDS or _is_real_data(x)


def _topological_order(roots: Iterable[Tensor]) -> list:
    """Every op reachable from ``roots``, each listed before the ops that made its inputs."""
    postorder, visited = [], set()
    for root in roots:
        start = root.creator
        if start is None or start in visited:
            continue
        visited.add(start)
        stack = [(start, 0)]
        while stack:
            fn, i = stack[-1]
            if fn.inputs is None:
                raise RuntimeError(
                    "trying to backward through the graph a second time: its saved values were freed "
                    "by the first backward; pass retain_graph=True to the first call"
                )
            if i < len(fn.inputs):
                stack[-1] = (fn, i + 1)
                parent = fn.inputs[i].creator
                if parent is not None and parent not in visited:
                    visited.add(parent)
                    stack.append((parent, 0))
            else:
                stack.pop()
                postorder.append(fn)  # after all the ops that made its inputs
    postorder.reverse()
    return postorder


def _seed_gradient(root: Tensor, grad: Any, name: str) -> Tensor:
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward() from a non-scalar tensor of shape {root.shape} needs grad= "
                "(the weights of the outputs, same shape)"
            )
        return Tensor._from_array(backend.array_namespace(root.data).ones_like(root.data))
    if not isinstance(grad, Tensor):
        check_data(grad, name)
        grad = Tensor(grad, dtype=root.dtype, device=root.device)
    if grad.shape != root.shape:
        raise ValueError(f"{name} has shape {grad.shape}, expected the output's shape {root.shape}")
    return grad


def run_backward(
    roots: Sequence[Tensor],
    grads: Sequence[Any],
    retain_graph: bool | None,
    create_graph: bool,
    capture: Sequence[Tensor] | None,
    grad_names: Sequence[str] | None = None,
) -> list[Tensor | None] | None:
    """The chain rule over the graph below ``roots``.

    With ``capture=None`` gradients accumulate into the leaves' ``.grad`` (``Tensor.backward``);
    otherwise the gradients of the ``capture`` tensors are returned and no ``.grad`` changes
    (``autograd_lite.grad``).
    """
    if retain_graph is None:
        retain_graph = create_graph
    captured: dict[int, Tensor] | None = None if capture is None else {}
    targets = None if capture is None else {id(t) for t in capture}

    def receive(x: Tensor, g: Tensor) -> None:
        """A gradient for tensor x arrived: keep it where the caller wants it."""
        if captured is not None:
            if id(x) in targets:
                captured[id(x)] = g if id(x) not in captured else captured[id(x)] + g
        elif x.creator is None or x._retains_grad:
            x.grad = g if x.grad is None else x.grad + g

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        output_grads: dict[Any, Tensor] = {}  # op -> dL/d(its output), summed over uses
        names = grad_names or [f"grads[{i}]" for i in range(len(roots))]
        for root, grad, name in zip(roots, grads, names):
            g = _seed_gradient(root, grad, name)
            if root.creator is not None:
                fn = root.creator
                output_grads[fn] = g if fn not in output_grads else output_grads[fn] + g
            if root.creator is None or captured is not None:
                receive(root, g)
        order = _topological_order(roots)
        for fn in order:
            grad_output = output_grads.pop(fn, None)
            if grad_output is None:
                continue
            if captured is None and fn._output_ref() is not None and fn._output_ref()._retains_grad:
                receive(fn._output_ref(), grad_output)
            input_grads = fn.backward(grad_output)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for x, g in zip(fn.inputs, input_grads):
                if g is None or not x.requires_grad:
                    continue
                if g.dtype != x.dtype:  # mixed-precision inputs get gradients in their own dtype
                    g = _ops.cast(g, x.dtype)
                if x.creator is not None:
                    parent = x.creator
                    output_grads[parent] = g if parent not in output_grads else output_grads[parent] + g
                    if captured is not None:
                        receive(x, g)
                else:
                    receive(x, g)
        if not retain_graph:  # after the walk: an op's backward may need outputs its consumers hold
            for fn in order:
                fn.release()
    finally:
        _GradMode.enabled = previous_mode
    if capture is None:
        return None
    return [captured.get(id(t)) for t in capture]


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> list[Tensor]:
    """d(outputs)/d(inputs) as a list of Tensors, without touching any ``.grad`` (PyTorch's
    ``torch.autograd.grad``). With ``create_graph=True`` the result can be differentiated again."""
    outputs = _tensor_list(outputs, "outputs")
    inputs = _tensor_list(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, Tensor | np.ndarray):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    elif isinstance(grad_outputs, list | tuple):
        grad_outputs = list(grad_outputs)
    else:
        raise TypeError(
            f"grad_outputs must be a Tensor, an array, a list of them or None, got {_describe(grad_outputs)}"
        )
    retain_graph = None if retain_graph is None else check_flag(retain_graph, "retain_graph")
    create_graph = check_flag(create_graph, "create_graph")
    allow_unused = check_flag(allow_unused, "allow_unused")
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"outputs[{i}] does not require grad (no input needs a gradient)")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"inputs[{i}] does not require grad")
    names = ["grad_outputs"] if len(outputs) == 1 else [f"grad_outputs[{i}]" for i in range(len(outputs))]
    grads = run_backward(outputs, grad_outputs, retain_graph, create_graph, capture=inputs, grad_names=names)
    for i, g in enumerate(grads):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"inputs[{i}] was not used to compute the outputs; pass allow_unused=True "
                    "to get None for it"
                )
    return grads


def _tensor_list(value: Any, name: str) -> list[Tensor]:
    """A Tensor or a list/tuple of Tensors, as a list."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, list | tuple) and value and all(isinstance(t, Tensor) for t in value):
        return list(value)
    raise TypeError(f"{name} must be a Tensor or a non-empty list of Tensors, got {_describe(value)}")


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: str | None = None) -> Tensor:
    """Make a leaf Tensor (``autograd_lite.tensor([1., 2.], requires_grad=True)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


from autograd_lite import ops as _ops  # noqa: E402  (ops build on Tensor, Tensor's operators call ops)

