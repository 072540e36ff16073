"""Save and load state dicts as ``.npz`` files: no pickle, written atomically.

A state is a dict of arrays (or numbers), possibly nested (``{"model": ..., "optimizer": ..., "step": 7}``);
nesting is stored with "/" in the key. The file is written to a temporary name in the same folder and
renamed into place, so an interrupted save never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import io
import math
import os
import struct
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Mapping
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


def _check_path(path: Any) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def _umask() -> int:
    """The process's umask, read without changing it where the platform tells (Linux's /proc); elsewhere
    set and restored at once (process-wide for that instant, as every umask query on those systems)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (best effort: some platforms and file systems cannot fsync a folder)."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a folder
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``state`` to ``path`` (.npz) atomically; the file's permissions follow the umask, like any new file."""
    if not isinstance(state, Mapping):
        raise TypeError(f"save: state must be a dict (e.g. model.state_dict()), got {type(state).__name__}")
    path = _check_path(path)
    flat = _flatten(state)
    flat[FORMAT_KEY] = np.array(FORMAT_VERSION)  # last: a central directory cut short loses it first
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            mode = 0o666 & ~_umask()  # mkstemp makes the file 0600, which the rename would keep
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            else:
                os.chmod(tmp, mode)
            _write_npz(f, flat)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _write_npz(f: Any, flat: dict[str, np.ndarray]) -> None:
    """np.savez's format (a zip of .npy members), written member by member: ``np.savez(f, **flat)``
    would take the keys "file" and "allow_pickle" as its own arguments (the latter silently)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in flat.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(path: str | os.PathLike, device: str | None = None) -> dict[str, Any]:
    """Read a file written by :func:`save`; nested dicts come back nested, values as NumPy arrays, or as
    arrays on ``device`` ('cuda', 'array_api_strict') when it is given.

    A damaged file is a ``ValueError`` naming it: every member's checksum and sizes are verified before its
    header is trusted, so damage either raises or hit bytes the reader never uses (timestamps, comments).
    """
    if device is not None:
        backend.namespace_of(device)  # a known, usable device, checked before the file is read
    path = _check_path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    with open(path, "rb") as f:  # outside the corruption handling: a permission error stays an OSError
        if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise ValueError(f"{path} holds a single array (.npy), not a .npz archive")
        size = os.fstat(f.fileno()).st_size
        f.seek(0)
        try:
            flat = _read_archive(f, size)
        except _CORRUPTION_ERRORS as error:
            detail = " ".join(str(error).split())  # one line, even for numpy's multi-line messages
            detail = detail if len(detail) <= 200 else detail[:200] + "..."
            raise ValueError(
                f"{path} is not a readable .npz file (truncated or corrupt?): {type(error).__name__}: {detail}"
            ) from None
    if FORMAT_KEY not in flat:
        raise ValueError(f"{path} was not written by autograd_lite.save (no format marker)")
    marker = flat.pop(FORMAT_KEY)
    if marker.shape != () or marker.dtype.kind not in "iu":
        raise ValueError(f"{path}: the format marker is not an integer scalar (dtype {marker.dtype}, "
                         f"shape {marker.shape}): corrupt or not written by autograd_lite.save")
    if int(marker) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer autograd_lite (format {FORMAT_VERSION} is known)")
    if int(marker) < 1:
        raise ValueError(f"{path}: invalid format marker {int(marker)} (corrupt?)")
    state: dict[str, Any] = {}
    for key, value in flat.items():
        node = state
        *parents, leaf = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path}: {key!r} is nested under a value, not a dict (corrupt?)")
        if leaf in node:
            raise ValueError(f"{path}: {key!r} is both a value and a dict (corrupt?)")
        node[leaf] = value if device is None else backend.to_device(value, device)
    return state


_NPY_MAGIC = b"\x93NUMPY"
# What the standard library's zip and zlib readers and numpy's header parser raise on bytes they cannot
# make sense of; inside _read_archive each of them means a damaged file (our own checks raise ValueError).
_CORRUPTION_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, OSError, ValueError,
    KeyError, IndexError, TypeError, SyntaxError, tokenize.TokenError, NotImplementedError, RuntimeError,
    OverflowError, MemoryError,
)
_CHUNK = 1 << 20


def _read_archive(f: Any, size: int) -> dict[str, np.ndarray]:
    """Every member of the zip in ``f`` (``size`` bytes) as {key: array}, verified member by member."""
    flat: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(f) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not a .npy array")
            key = info.filename[: -len(".npy")]
            if key in flat:
                raise ValueError(f"member {info.filename!r} appears twice")
            if key != FORMAT_KEY and (not key or any(not part for part in key.split("/"))):
                raise ValueError(f"member {info.filename!r} has an empty key")
            flat[key] = _read_member(archive, info, size)
    return flat


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> np.ndarray:
    """One .npy member as an array. All its bytes are read first, so zipfile's CRC check has passed before
    the header is parsed, and the header's shape and dtype must account for the data exactly."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise ValueError(f"member {name!r} is marked encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):  # what np.savez(_compressed) write
        raise ValueError(f"member {name!r} uses compression method {info.compress_type}")
    if info.compress_size > size or (info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size):
        raise ValueError(f"member {name!r} claims {info.file_size} bytes, more than the file holds")
    with archive.open(info) as member:
        prefix = _read_exactly(member, len(_NPY_MAGIC) + 2, name)
        if prefix[: len(_NPY_MAGIC)] != _NPY_MAGIC:
            raise ValueError(f"member {name!r} does not start with the .npy magic string")
        version = tuple(prefix[len(_NPY_MAGIC):])
        if version not in ((1, 0), (2, 0)):  # what np.lib.format writes for non-object arrays
            raise ValueError(f"member {name!r} has unsupported .npy version {version}")
        length_bytes = _read_exactly(member, 2 if version == (1, 0) else 4, name)
        header_length = int.from_bytes(length_bytes, "little")
        consumed = len(prefix) + len(length_bytes) + header_length
        if consumed > info.file_size:
            raise ValueError(f"member {name!r}: its header is longer than the member")
        header = _read_exactly(member, header_length, name)
        data = bytearray(info.file_size - consumed)  # bounded by the checks above, never by the header
        view = memoryview(data)
        for start in range(0, len(data), _CHUNK):
            chunk = view[start:start + _CHUNK]
            while len(chunk):
                n = member.readinto(chunk)
                if not n:
                    raise ValueError(f"member {name!r} ends early")
                chunk = chunk[n:]
        if member.read(1):  # reading to the end is what makes zipfile verify the CRC-32
            raise ValueError(f"member {name!r} is longer than its recorded size")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(io.BytesIO(length_bytes + header))
    if dtype.hasobject or dtype.subdtype is not None:  # save never writes them; allow_pickle stays off
        raise ValueError(f"member {name!r} has dtype {dtype}, which a checkpoint never holds")
    count = math.prod(shape)
    if any(n < 0 for n in shape) or count * dtype.itemsize != len(data):
        raise ValueError(f"member {name!r}: shape {shape} of {dtype} does not match its {len(data)} data bytes")
    if dtype.itemsize == 0:
        return np.empty(shape, dtype)
    array = np.frombuffer(data, dtype=dtype, count=count)  # shares the (writable) bytearray: no copy
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _read_exactly(member: Any, n: int, name: str) -> bytes:
    data = member.read(n)
    if len(data) != n:
        raise ValueError(f"member {name!r} ends early")
    return data
