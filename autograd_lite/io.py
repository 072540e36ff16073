"""Save and load state dicts as ``.npz`` files: no pickle, written atomically.

A state is a dict of arrays (or numbers), possibly nested (``{"model": ..., "optimizer": ..., "step": 7}``);
nesting is stored with "/" in the key. The file is written to a temporary name in the same folder and
renamed into place, so an interrupted save never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.tensor import Tensor

FORMAT_KEY = "__autograd_lite_format__"
FORMAT_VERSION = 1


def _flatten(state: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    flat: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not isinstance(key, str) or "/" in key:
            raise ValueError(f"state keys must be strings without '/', got {key!r}")
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "/"))
            continue
        if isinstance(value, Tensor):
            array = value.numpy()
        elif hasattr(value, "__array_namespace__") and not isinstance(value, np.ndarray):
            array = backend.to_device(value, "cpu")  # a device array (CuPy, array_api_strict): to the host
        else:
            array = np.asarray(value)
        if array.dtype.kind == "O":
            raise TypeError(f"{name}: cannot save objects of type {type(value).__name__} (only arrays and numbers)")
        flat[name] = array
    return flat


def save(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``state`` to ``path`` (.npz) atomically."""
    if not isinstance(state, dict):
        raise TypeError(f"save expects a dict (e.g. model.state_dict()), got {type(state).__name__}")
    flat = _flatten(state)
    flat[FORMAT_KEY] = np.array(FORMAT_VERSION)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, flat)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_npz(f: Any, flat: dict[str, np.ndarray]) -> None:
    """np.savez's format (a zip of .npy members), written member by member: ``np.savez(f, **flat)``
    would take the keys "file" and "allow_pickle" as its own arguments (the latter silently)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in flat.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(path: str | os.PathLike, device: str | None = None) -> dict[str, Any]:
    """Read a file written by :func:`save`; nested dicts come back nested, values as NumPy arrays, or as
    arrays on ``device`` ('cuda', 'array_api_strict') when it is given."""
    if device is not None:
        backend.namespace_of(device)  # a known, usable device, checked before the file is read
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a .npy file: one bare array
            raise ValueError("it holds a single array (.npy), not a .npz archive")
        with archive:
            flat = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable .npz file (truncated or corrupt?): {error}") from None
    if FORMAT_KEY not in flat:
        raise ValueError(f"{path} was not written by autograd_lite.save (no format marker)")
    if int(flat.pop(FORMAT_KEY)) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer autograd_lite (format {FORMAT_VERSION} is known)")
    state: dict[str, Any] = {}
    for key, value in flat.items():
        node = state
        *parents, leaf = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value if device is None else backend.to_device(value, device)
    return state
