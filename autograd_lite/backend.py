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


def array_namespace(*arrays: Any) -> ModuleType:
    """The array module of ``arrays`` (numpy for NumPy arrays and scalars).

    All arrays must share one namespace: mixing devices is an error, never a silent copy.
    """
    namespace = None
    for a in arrays:
        cupy = sys.modules.get("cupy")  # only ever set if the user imported CuPy
        if isinstance(a, (np.ndarray, np.generic, int, float, bool)) or a is None:
            xp = np
        elif cupy is not None and isinstance(a, cupy.ndarray):  # older CuPy has no __array_namespace__
            xp = cupy
        elif hasattr(a, "__array_namespace__"):
            xp = a.__array_namespace__()
        else:
            raise TypeError(f"expected an array, got {type(a).__name__}")
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


def device_of(a: Any) -> str:
    """'cpu' for NumPy arrays, 'cuda' for CuPy arrays, else the namespace's name."""
    if isinstance(a, (np.ndarray, np.generic)):
        return "cpu"
    cupy = _cupy()
    if cupy is not None and isinstance(a, cupy.ndarray):
        return "cuda"
    return array_namespace(a).__name__


def to_device(a: Any, device: str) -> Any:
    """Copy array ``a`` to ``device`` ('cpu' or 'cuda'); a no-op when it is already there."""
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device_of(a) == device:
        return a
    if device == "cpu":
        cupy = _cupy()
        if cupy is not None and isinstance(a, cupy.ndarray):
            return cupy.asnumpy(a)
        return np.asarray(a)
    cupy = _cupy()
    if cupy is None:
        raise RuntimeError("device 'cuda' needs CuPy and a GPU (pip install 'scratchgen[gpu]')")
    return cupy.asarray(a)


def cuda_available() -> bool:
    return _cupy() is not None
