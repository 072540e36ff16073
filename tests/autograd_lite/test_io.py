"""io: save/load round trips of nested checkpoints without pickle, atomic writes, clear errors for files
that are not ours, and resuming training from a checkpoint."""
from __future__ import annotations

import os
import stat
import zipfile

import numpy as np
import pytest
from strategies import dtype_of

import autograd_lite as al
from autograd_lite import Tensor, nn, optim


def small_model(seed=0):
    return nn.Sequential(nn.Linear(3, 8, rng=seed), nn.Tanh(), nn.Linear(8, 1, rng=seed + 1))


def batch():
    rng = np.random.default_rng(42)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    return Tensor(x), Tensor(np.sin(x.sum(axis=1, keepdims=True)))


def train(model, optimizer, steps):
    x, y = batch()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.mse_loss(model(x), y).backward()
        optimizer.step()


def _assert_same_tree(a, b):
    assert isinstance(b, dict)
    assert sorted(a) == sorted(b)
    for key, value in a.items():
        if isinstance(value, dict):
            _assert_same_tree(value, b[key])
        else:
            expected = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            assert dtype_of(b[key]) == expected.dtype, key
            np.testing.assert_array_equal(b[key], expected, err_msg=key)


# ----- round trips -----
def test_nested_checkpoint_round_trip(tmp_path):
    """A {model, optimizer, step} checkpoint comes back nested, with equal arrays and dtypes."""
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    train(model, optimizer, 2)
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 2,
                  "extra": {"deep": {"tensor": Tensor(np.arange(3.0)), "flag": True}}}
    al.save(checkpoint, tmp_path / "ckpt.npz")
    _assert_same_tree(checkpoint, al.load(tmp_path / "ckpt.npz"))


def test_saved_file_loads_without_pickle(tmp_path):
    """The file is a plain .npz that numpy reads with allow_pickle=False (no object arrays inside)."""
    al.save({"model": small_model().state_dict(), "step": 3}, tmp_path / "ckpt.npz")
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files
        assert int(archive["step"]) == 3


@pytest.mark.parametrize("key", ["file", "allow_pickle", "args"])
def test_any_key_name_round_trips(tmp_path, key):
    """Keys that happen to be np.savez's own argument names are saved like any other."""
    al.save({key: np.arange(3.0), "other": 1}, tmp_path / "ckpt.npz")
    loaded = al.load(tmp_path / "ckpt.npz")
    np.testing.assert_array_equal(loaded[key], np.arange(3.0))


def test_save_creates_missing_folders(tmp_path):
    """Saving into a folder that does not exist yet creates it."""
    al.save({"a": 1}, tmp_path / "runs" / "1" / "ckpt.npz")
    assert al.load(tmp_path / "runs" / "1" / "ckpt.npz")["a"] == 1


@pytest.mark.parametrize(
    "state, error", [({"a/b": 1}, ValueError), ({1: 2}, ValueError), ({"a": object()}, TypeError), ([1], TypeError)],
    ids=["slash_in_key", "non_string_key", "object_value", "not_a_dict"],
)
def test_save_rejects_what_it_cannot_store(tmp_path, state, error):
    """Keys with '/', non-string keys, Python objects and non-dicts are refused before writing."""
    with pytest.raises(error):
        al.save(state, tmp_path / "ckpt.npz")
    assert not (tmp_path / "ckpt.npz").exists()


# ----- atomic writes -----
def test_save_leaves_no_temporary_files(tmp_path):
    """After a save the folder holds only the checkpoint."""
    al.save({"a": np.ones(3)}, tmp_path / "ckpt.npz")
    al.save({"a": np.zeros(3)}, tmp_path / "ckpt.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_a_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    """An exception in the middle of writing leaves the previous file intact and no temporary file."""
    path = tmp_path / "ckpt.npz"
    al.save({"weights": np.arange(4.0)}, path)
    written = []

    def write_then_crash(file, array, *args, **kwargs):
        written.append(array)
        if len(written) == 2:  # the first member is on disk (in the temporary file), then the crash
            raise OSError("disk full")
        return original(file, array, *args, **kwargs)

    original = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(OSError, match="disk full"):
        al.save({"weights": np.zeros(4), "more": np.ones(100)}, path)
    monkeypatch.undo()
    assert len(written) == 2
    np.testing.assert_array_equal(al.load(path)["weights"], np.arange(4.0))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_a_failed_save_never_creates_a_checkpoint(tmp_path, monkeypatch):
    """If the very first save fails, no file (and no temporary) is left at all."""
    monkeypatch.setattr(np.lib.format, "write_array", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        al.save({"a": np.ones(2)}, tmp_path / "ckpt.npz")
    assert list(tmp_path.iterdir()) == []


posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits and umask")


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002, 0o000])
def test_a_checkpoint_gets_the_permissions_of_any_new_file(tmp_path, umask):
    """The temporary file is made 0600 by mkstemp; the checkpoint ends up 0666 minus the umask, like a file
    open() creates (it used to stay -rw------- whatever the umask)."""
    previous = os.umask(umask)
    try:
        al.save({"a": np.ones(2)}, tmp_path / "ckpt.npz")
        al.save({"a": np.zeros(2)}, tmp_path / "again.npz")
        al.save({"a": np.zeros(2)}, tmp_path / "again.npz")  # replacing a file: the same rule
    finally:
        os.umask(previous)
    for name in ("ckpt.npz", "again.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


@posix_only
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux reports the umask in /proc")
def test_the_umask_is_read_without_changing_it(tmp_path, monkeypatch):
    """Setting the umask to read it changes it for every thread for a moment; where /proc tells it, it is
    only read."""
    with open("/proc/self/status") as status:
        if not any(line.startswith("Umask:") for line in status):
            pytest.skip("this kernel's /proc does not report the umask")
    previous = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda mask: pytest.fail("os.umask called"))
        al.save({"a": np.ones(2)}, tmp_path / "ckpt.npz")
        monkeypatch.undo()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "ckpt.npz").stat().st_mode) == 0o640


@posix_only
def test_the_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    """The rename is made durable too: the folder is fsynced after os.replace (the file before it)."""
    events = []
    fsync, replace = os.fsync, os.replace

    def record_fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    def record_replace(src, dst):
        events.append("replace")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", record_fsync)
    monkeypatch.setattr(os, "replace", record_replace)
    al.save({"a": np.ones(2)}, tmp_path / "ckpt.npz")
    assert events == ["fsync file", "replace", "fsync folder"]


@posix_only
def test_a_folder_that_cannot_be_fsynced_is_no_error(tmp_path, monkeypatch):
    """Some file systems refuse to fsync a folder: the checkpoint is written all the same."""
    fsync = os.fsync

    def refuse_folders(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError("EINVAL")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", refuse_folders)
    al.save({"a": np.ones(2)}, tmp_path / "ckpt.npz")
    monkeypatch.undo()
    np.testing.assert_array_equal(al.load(tmp_path / "ckpt.npz")["a"], np.ones(2))


# ----- files that are not ours -----
def test_loading_a_truncated_file_is_a_clear_error(tmp_path):
    """A checkpoint cut in half gives a ValueError saying it is truncated or corrupt."""
    path = tmp_path / "ckpt.npz"
    al.save({"model": small_model().state_dict()}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        al.load(path)


def test_loading_a_foreign_npz_is_a_clear_error(tmp_path):
    """An .npz written by np.savez directly (no format marker) gives a ValueError saying so."""
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match="not written by autograd_lite.save"):
        al.load(tmp_path / "foreign.npz")


@pytest.mark.parametrize(
    "write",
    [lambda p: p.write_text("this is not a checkpoint"), lambda p: p.write_bytes(b""),
     lambda p: np.save(p, np.ones(3)), lambda p: zipfile.ZipFile(p, "w").close()],
    ids=["text", "empty", "npy", "empty_zip"],
)
def test_loading_a_file_that_is_not_a_checkpoint_is_a_value_error(tmp_path, write):
    """Text, empty, .npy and empty-zip files all give a ValueError naming the file."""
    path = tmp_path / "not_a_checkpoint.npz"
    write(path)
    if not path.exists():  # np.save appends .npy
        path = tmp_path / "not_a_checkpoint.npz.npy"
    with pytest.raises(ValueError, match="not_a_checkpoint"):
        al.load(path)


def test_loading_a_missing_file_is_file_not_found(tmp_path):
    """A path that does not exist gives FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        al.load(tmp_path / "nothing.npz")


def test_loading_a_newer_format_is_refused(tmp_path):
    """A file whose format marker is newer than this version is a ValueError, not a silent misread."""
    np.savez(tmp_path / "future.npz", **{"__autograd_lite_format__": np.array(99), "a": np.ones(1)})
    with pytest.raises(ValueError, match="newer"):
        al.load(tmp_path / "future.npz")


# ----- resuming training -----
@pytest.mark.parametrize(
    "make_optimizer",
    [lambda ps: optim.Adam(ps, lr=0.01), lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
     lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1)],
    ids=["adam", "sgd_nesterov", "adamw"],
)
def test_resuming_from_a_checkpoint_gives_the_uninterrupted_trajectory(tmp_path, make_optimizer):
    """Ten steps equal five steps, a save, a load into fresh objects and five more (bit for bit)."""
    straight = small_model()
    train(straight, make_optimizer(list(straight.parameters())), 10)

    first = small_model()
    optimizer = make_optimizer(list(first.parameters()))
    train(first, optimizer, 5)
    al.save({"model": first.state_dict(), "optimizer": optimizer.state_dict(), "step": 5}, tmp_path / "ckpt.npz")

    checkpoint = al.load(tmp_path / "ckpt.npz")
    resumed = small_model(seed=100)  # different initial weights: everything must come from the file
    resumed_optimizer = make_optimizer(list(resumed.parameters()))
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    assert int(checkpoint["step"]) == 5
    train(resumed, resumed_optimizer, 5)

    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value, err_msg=name)
