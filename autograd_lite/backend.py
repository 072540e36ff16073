"""Which array module a tensor's data lives on, and moving data between devices.

The engine's ops are written against an array namespace ``xp``: NumPy on the CPU, CuPy on a GPU, or any
other module that follows the Python array-API standard (``array_api_strict`` in the tests proves the
generic code paths use nothing NumPy-only). ``array_namespace(a)`` is the one place that decides which.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

import numpy as np


def _cupy() -> ModuleType | None:
    """CuPy if it is installed and can see a GPU, else None (imported lazily, cached)."""
    global _CUPY
    if _CUPY is _UNSET:
        try:
            cupy = importlib.import_module("cupy")
            cupy.cuda.runtime.getDeviceCount()
            _CUPY = cupy
        except Exception:  # not installed, no driver, no device: the CPU path is the only one
            _CUPY = None
    return _CUPY


_UNSET = object()
_CUPY: Any = _UNSET


def _namespace_of_array(a: Any, name: str) -> ModuleType:
    cupy = sys.modules.get("cupy")  # only ever set if the user imported CuPy
    if isinstance(a, (np.ndarray, np.generic, int, float, bool)):
        return np
    if cupy is not None and isinstance(a, cupy.ndarray):  # older CuPy has no __array_namespace__
        return cupy
    if hasattr(a, "__array_namespace__"):
        return a.__array_namespace__()
    raise TypeError(f"{name} must be an array (NumPy, CuPy or array-API) or a number, got {type(a).__name__}")


def array_namespace(*arrays: Any) -> ModuleType:
    """The array module of ``arrays`` (numpy for NumPy arrays and scalars).

    All arrays must share one namespace: mixing devices is an error, never a silent copy.
    """
    namespace = None
    for a in arrays:
        xp = np if type(a) is np.ndarray else _namespace_of_array(a, "arrays")  # the hot path first
        if namespace is None:
            namespace = xp
        elif xp is not namespace:
            raise ValueError(
                f"arrays live on different devices ({namespace.__name__} and {xp.__name__}); "
                "move them with .to(device) first"
            )
    return np if namespace is None else namespace


def is_numpy(a: Any) -> bool:
    return isinstance(a, np.ndarray)


# Devices are named by strings: 'cpu' (NumPy), 'cuda' (CuPy on a GPU), and 'array_api_strict' (the array-API
# standard's reference namespace on the CPU: what the tests use to prove the engine needs nothing NumPy-only).
DEVICES = ("cpu", "cuda", "array_api_strict")
_default_device = "cpu"


def set_default_device(device: str) -> None:
    """The device new Tensors made from Python or NumPy data go to (``torch.set_default_device``'s role)."""
    global _default_device
    namespace_of(device)  # validates the name and that the namespace can be used here
    _default_device = device


def get_default_device() -> str:
    return _default_device


def namespace_of(device: str) -> ModuleType:
    """The array module that holds a device's arrays."""
    if device == "cpu":
        return np
    if device == "cuda":
        cupy = _cupy()
        if cupy is None:
            raise RuntimeError("device 'cuda' needs CuPy and a GPU (pip install 'scratchgen[gpu]')")
        return cupy
    if device == "array_api_strict":
        return importlib.import_module("array_api_strict")
    raise ValueError(f"device must be one of {', '.join(map(repr, DEVICES))}, got {device!r}")


def device_of(a: Any) -> str:
    """'cpu' for NumPy arrays, 'cuda' for CuPy arrays, else the namespace's name ('array_api_strict')."""
    if isinstance(a, (np.ndarray, np.generic)):
        return "cpu"
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(a, cupy.ndarray):
        return "cuda"
    xp = _namespace_of_array(a, "a")
    return "cpu" if xp is np else xp.__name__  # a Python number is host data


def to_device(a: Any, device: str) -> Any:
    """Copy array ``a`` to ``device`` (one of DEVICES); a no-op when it is already there.

    Every move goes through a NumPy array on the CPU, so data made on the CPU (random noise drawn with a
    ``numpy.random.Generator``) is the same numbers on every device.
    """
    xp = namespace_of(device)
    if device_of(a) == device and not isinstance(a, int | float | bool):
        return a
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(a, cupy.ndarray):
        host = cupy.asnumpy(a)
    else:
        host = np.asarray(a)  # NumPy data, Python numbers, or another namespace's CPU array
    return host if xp is np else xp.asarray(host)


def dtype_name(dtype: Any) -> str:
    """'float32', 'float64', ... for a NumPy dtype, a namespace's dtype object or a name.

    None is refused: NumPy would read it as float64."""
    if dtype is not None:
        try:
            return np.dtype(dtype).name
        except (TypeError, ValueError):  # a non-NumPy namespace's dtype (array_api_strict.float32 prints as its name)
            name = str(dtype).rsplit(".", 1)[-1]
            try:
                return np.dtype(name).name
            except (TypeError, ValueError):
                pass
    return _not_a_dtype(dtype)


def _not_a_dtype(dtype: Any) -> str:
    raise TypeError(f"dtype must be a dtype (np.float32, 'float64', a namespace's dtype), got {dtype!r}")


def namespace_dtype(xp: ModuleType, dtype: Any) -> Any:
    """``dtype`` (any spelling) as namespace ``xp``'s own dtype object."""
    if not isinstance(xp, ModuleType):
        raise TypeError(f"xp must be an array namespace (a module such as numpy), got {type(xp).__name__}")
    name = dtype_name(dtype)
    found = getattr(xp, name, None)
    if found is None:
        raise TypeError(f"dtype {name} is not a dtype of the array namespace xp ({xp.__name__})")
    return found


def astype(a: Any, dtype: Any) -> Any:
    """Array ``a`` (any namespace) cast to ``dtype`` (any spelling), in its own namespace."""
    xp = _namespace_of_array(a, "a")
    return xp.astype(xp.asarray(a), namespace_dtype(xp, dtype))


def copy(a: Any) -> Any:
    """A copy of array ``a`` in its own namespace (``a.copy()`` is NumPy's, not the standard's)."""
    return _namespace_of_array(a, "a").asarray(a, copy=True)


def is_floating(a: Any) -> bool:
    """Whether array ``a`` (any namespace) holds real floating-point numbers."""
    _namespace_of_array(a, "a")
    return np.dtype(dtype_name(np.asarray(a).dtype if isinstance(a, int | float | bool) else a.dtype)).kind == "f"


def cuda_available() -> bool:
    return _cupy() is not None
