"""Saving fitted estimators: one ``.npz`` file, no pickle, written atomically (``autograd_lite.io``)."""
from __future__ import annotations

import os

import numpy as np

from autograd_lite import io

from ._validation import check_is_fitted


def _plain(value: np.ndarray):
    """A loaded 0-d array back to the Python value it was saved from (str, int, float, bool)."""
    return str(value) if value.dtype.kind == "U" else value.item() if value.ndim == 0 else value


class SaveLoadMixin:
    """``save(path)`` and ``cls.load(path)`` for an estimator that lists what defines it:
    ``_saved_params`` (constructor arguments) and ``_saved_fitted`` (fitted attributes). After loading,
    ``_restore()`` rebuilds whatever is derived from them (Cholesky factors and the like)."""

    _saved_params: tuple[str, ...] = ()
    _saved_fitted: tuple[str, ...] = ()

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted estimator to ``path`` (.npz)."""
        check_is_fitted(self, self._saved_fitted[0])
        params = {name: getattr(self, name) for name in self._saved_params if getattr(self, name) is not None}
        fitted = {name: getattr(self, name) for name in self._saved_fitted}
        io.save({"estimator": type(self).__name__, "params": params, "fitted": fitted}, path)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read an estimator written by ``save``; it scores and samples exactly as the saved one."""
        state = io.load(path)
        held = _plain(state.get("estimator", np.array("no estimator")))
        if held != cls.__name__:
            raise ValueError(f"{path} does not hold a {cls.__name__} (it holds: {held})")
        params = {name: _plain(value) for name, value in state.get("params", {}).items()}
        estimator = cls(**params)
        for name, value in state["fitted"].items():
            setattr(estimator, name, _plain(value))
        estimator._restore()
        return estimator

    def _restore(self) -> None:
        pass
