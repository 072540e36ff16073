"""io.load on damaged checkpoints: thousands of seeded byte-level corruptions of one realistic file, each of
which must give a ValueError or, when it only hit bytes the reader ignores, exactly the saved state.

Not in conftest's per-device list on purpose: the bytes on disk are the same whatever the default device.
"""
from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al

N_CORRUPTIONS = 3000


def _state() -> dict:
    rng = np.random.default_rng(0)
    config = {"model": "mlp", "hidden": [8, 8], "lr": 1e-3, "name": "fuzz ✓"}
    return {
        "model": {
            "0.weight": rng.standard_normal((8, 3)).astype(np.float32),
            "0.bias": np.zeros(8, np.float32),
            "2.weight": rng.standard_normal((1, 8)),  # float64
            "2.bias": np.array([0.5]),
            "mask": rng.random(8) > 0.5,  # bool
            "num_batches_tracked": np.array(12, np.int64),
        },
        "optimizer": {"step": 7, "lr": np.array(1e-3, np.float32), "m": {"0": rng.standard_normal(24)}},
        "config": np.array(json.dumps(config)),  # a numpy str array (dtype <U...)
    }


def _same(loaded: dict, expected: dict) -> bool:
    if not isinstance(loaded, dict) or sorted(loaded) != sorted(expected):
        return False
    for key, value in expected.items():
        got = loaded[key]
        if isinstance(value, dict):
            if not _same(got, value):
                return False
            continue
        value = np.asarray(value)
        if not isinstance(got, np.ndarray) or got.dtype != value.dtype or got.shape != value.shape:
            return False
        if not np.array_equal(got, value):
            return False
    return True


def _corrupt(data: bytes, rng: np.random.Generator) -> bytes:
    """One random damage: flipped bits, a truncation, a run of random bytes, or a run of zeros."""
    buf = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:  # flip bits in 1-4 random bytes
        for i in rng.integers(len(buf), size=rng.integers(1, 5)):
            buf[i] ^= int(rng.integers(1, 256))
    elif kind == 1:
        del buf[rng.integers(len(buf)):]
    else:
        start = int(rng.integers(len(buf)))
        stop = min(len(buf), start + int(rng.integers(1, 65)))
        run = rng.integers(256, size=stop - start, dtype=np.uint8) if kind == 2 else np.zeros(stop - start, np.uint8)
        buf[start:stop] = run.tobytes()
    return bytes(buf)


def test_every_corruption_is_a_value_error_or_the_same_state(tmp_path: Path) -> None:
    """3000 seeded corruptions of a ~3.6 KB checkpoint: each load raises ValueError naming the file, or returns
    the saved state unchanged (same keys, dtypes and values) when only ignored bytes (timestamps, comments,
    duplicated sizes) were hit; never another exception, never a silently different state."""
    state = _state()
    clean = tmp_path / "clean.npz"
    al.save(state, clean)
    data = clean.read_bytes()
    assert _same(al.load(clean), state)

    rng = np.random.default_rng(20240611)
    path = tmp_path / "damaged.npz"
    outcomes: Counter[str] = Counter()
    for i in range(N_CORRUPTIONS):
        damaged = _corrupt(data, rng)
        if damaged == data:  # a zero run over zeros: not a corruption
            outcomes["unchanged"] += 1
            continue
        path.write_bytes(damaged)
        try:
            loaded = al.load(path)
        except ValueError as error:
            assert "damaged.npz" in str(error) and "\n" not in str(error), (i, str(error))
            outcomes["raised"] += 1
            continue
        except Exception as error:  # noqa: BLE001 (the point: anything but ValueError is a bug)
            raise AssertionError(f"corruption {i}: {type(error).__name__}: {error}") from error
        assert _same(loaded, state), f"corruption {i} loaded a different state without an error"
        outcomes["identical"] += 1
    print(dict(outcomes))  # shown with -s: how many raised vs loaded identically
    assert outcomes["raised"] > N_CORRUPTIONS // 2  # most damage must be detected, not ignored


def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path: Path) -> None:
    """A zip member without the .npy magic is a ValueError, not raw bytes passed off as a value (np.load's
    NpzFile returns such members as bytes)."""
    path = tmp_path / "odd.npz"
    al.save({"a": np.ones(2)}, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("b.npy", b"not an array")
    with pytest.raises(ValueError, match="odd.npz.*magic"):
        al.load(path)


@pytest.mark.parametrize("marker", [np.array(1.0), np.array([1]), np.array("1"), np.array(0)],
                         ids=["float", "vector", "string", "zero"])
def test_the_format_marker_must_be_a_positive_integer_scalar(tmp_path: Path, marker: np.ndarray) -> None:
    """A marker that is not an integer scalar >= 1 is a ValueError naming the file (it used to be int()-ed)."""
    np.savez(tmp_path / "marker.npz", **{"__autograd_lite_format__": marker, "a": np.ones(1)})
    with pytest.raises(ValueError, match="marker.npz.*format marker"):
        al.load(tmp_path / "marker.npz")


def test_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    """An object array (pickled) is a ValueError: a checkpoint never holds one and pickle stays off."""
    values = {"__autograd_lite_format__": np.array(1), "a": np.array([None, 1], dtype=object)}
    np.savez(tmp_path / "objects.npz", allow_pickle=True, **values)
    with pytest.raises(ValueError, match="objects.npz.*dtype object"):
        al.load(tmp_path / "objects.npz")
