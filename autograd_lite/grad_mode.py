"""Whether ops record a graph: ``no_grad()`` turns recording off, ``enable_grad()`` back on."""
from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import ContextDecorator

import numpy as np


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


def set_grad_enabled(mode: bool) -> None:
    if not isinstance(mode, bool | np.bool_):  # bool(mode) would take "no" as True
        raise TypeError(f"mode must be True or False, got {mode!r}")
    _GradMode.enabled = bool(mode)


class _SetGradMode(ContextDecorator):
    """Context manager (and decorator) that sets grad mode and restores the previous one on exit.

    ``with no_grad():``, ``@no_grad()`` and bare ``@no_grad`` all work, as in PyTorch.
    """

    mode = True

    def __new__(cls, func: Callable | None = None):
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(f"{cls.__name__}(func): func must be a function to decorate (or nothing), got {func!r}")
        return cls()(func)  # bare @no_grad: Python passed the function itself

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_SetGradMode):  # noqa: N801 (PyTorch's spelling)
    """Ops inside build no graph: for evaluation, sampling and parameter updates."""

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801
    """Turn graph recording back on inside a ``no_grad`` block."""

    mode = True
