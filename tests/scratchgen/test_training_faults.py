"""Training under faults: ``kill -9`` of a real ``scratchgen train`` process, mid-epoch or in the middle of
writing a checkpoint, never leaves a checkpoint that does not load, and ``--resume`` continues from the last
checkpoint's epoch to exactly the weights of an uninterrupted run (only the killed epoch's steps are redone).

The runs are the CLI's quick 2-D DDPM on the ring (50,000 points, batches of 2048: 25 steps, a fraction of a
second per epoch, a checkpoint after every epoch)."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
import autograd_lite.io as al_io
from scratchgen import cli
from scratchgen.data import make_toy
from scratchgen.models import build_model
from scratchgen.training import CHECKPOINT_NAME, MODEL_NAME, TrainConfig, Trainer, load_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="the platform has no SIGKILL")

REPO = Path(__file__).resolve().parents[2]
EPOCHS, BATCH = 4, 2048
N_BATCHES = math.ceil(cli.TOY_SIZES["train"] / BATCH)  # steps per epoch
TRAIN = ["train", "ddpm", "--data", "ring", "--quick", "--epochs", str(EPOCHS), "--batch-size", str(BATCH),
         "--no-progress"]
RESUME = ["train", "ddpm", "--data", "ring", "--quick", "--resume", "--no-progress"]  # epochs: the stored ones
TIMEOUT = 120  # seconds for any one process: a generous bound on a loaded machine, never reached when well


def _env() -> dict[str, str]:
    # one BLAS thread: the runs share two cores with other work (and stay bit-for-bit comparable)
    threads = dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1")
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return os.environ | threads | {"PYTHONPATH": path}


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "scratchgen.cli", *args]


def _run(args: list[str]) -> str:
    """Run the CLI to completion and return its stdout."""
    done = subprocess.run(_command(args), capture_output=True, text=True, timeout=TIMEOUT, env=_env(), cwd=REPO)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _kill_when(process: subprocess.Popen, ready, what: str, delay: float = 0.0) -> None:
    """SIGKILL ``process`` ``delay`` seconds after ``ready()`` holds (polled every few ms); it must still be
    running."""
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the training process ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} after {TIMEOUT} s")
        time.sleep(0.005)
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=TIMEOUT)
    assert process.returncode == -signal.SIGKILL, f"the process ended by itself (exit {process.returncode})"


def _history(checkpoint) -> list[float]:
    return json.loads(str(checkpoint.state["history"]))["train_loss"]


def _assert_same_state(ours: dict, theirs: dict, where: str = "") -> None:
    """Nested state dicts with the same keys and bit-for-bit the same arrays."""
    assert ours.keys() == theirs.keys(), where
    for key in ours:
        if isinstance(ours[key], dict):
            _assert_same_state(ours[key], theirs[key], f"{where}/{key}")
        else:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=f"{where}/{key}")


def _assert_equals_the_uninterrupted_run(out: Path, reference: dict) -> None:
    final = load_checkpoint(out / CHECKPOINT_NAME)
    progress = final.state["progress"]
    assert int(progress["epoch"]) == EPOCHS and int(progress["step"]) == EPOCHS * N_BATCHES
    assert _history(final) == _history(reference["checkpoint"])  # every epoch's loss, to the last bit
    for key in ("model", "optimizer", "ema", "best_model", "rng_state", "history"):
        _assert_same_state({key: final.state[key]}, {key: reference["checkpoint"].state[key]})
    model = load_checkpoint(out / MODEL_NAME)
    _assert_same_state(model.state["model"], reference["model"].state["model"], "model.npz")
    assert model.metrics == reference["model"].metrics  # the same weights evaluate the same


def _leftovers(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name not in (CHECKPOINT_NAME, MODEL_NAME))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """An uninterrupted run: its final checkpoint and model."""
    out = tmp_path_factory.mktemp("uninterrupted")
    stdout = _run([*TRAIN, "--out", str(out)])
    assert f"completed after {EPOCHS} epochs, {EPOCHS * N_BATCHES} steps" in stdout
    assert _leftovers(out) == []
    return {"checkpoint": load_checkpoint(out / CHECKPOINT_NAME), "model": load_checkpoint(out / MODEL_NAME)}


def test_a_run_killed_mid_epoch_resumes_from_its_last_checkpoint_to_the_same_weights(reference, tmp_path):
    """SIGKILL 0.1 s after the first checkpoint appears (a few steps into the next epoch, of ~0.4 s; on a
    stalled machine perhaps later, even inside the next save): checkpoint.npz loads,
    holds a whole epoch k (0 < k < EPOCHS) identical to the uninterrupted run's first k; --resume starts at
    epoch k, step k * 25, runs to the requested total and ends on bit-for-bit the uninterrupted weights."""
    out = tmp_path / "run"
    process = subprocess.Popen(_command([*TRAIN, "--out", str(out)]), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=_env(), cwd=REPO)
    _kill_when(process, (out / CHECKPOINT_NAME).exists, "a checkpoint", delay=0.1)

    checkpoint = load_checkpoint(out / CHECKPOINT_NAME)  # whole, whatever the kill interrupted
    assert checkpoint.kind == "checkpoint"
    progress = checkpoint.state["progress"]
    k = int(progress["epoch"])
    assert 1 <= k < EPOCHS
    assert int(progress["step"]) == k * N_BATCHES and int(progress["step_in_epoch"]) == 0
    assert _history(checkpoint) == _history(reference["checkpoint"])[:k]
    for stray in _leftovers(out):  # only a save the kill cut short leaves anything, and only its temp file
        assert stray.name.startswith(f".{CHECKPOINT_NAME}.") or stray.name.startswith(f".{MODEL_NAME}.")
        assert stray.suffix == ".tmp"

    stdout = _run([*RESUME, "--out", str(out)])
    assert f"resuming ddpm from epoch {k}, step {k * N_BATCHES}\n" in stdout
    assert f"completed after {EPOCHS} epochs, {EPOCHS * N_BATCHES} steps" in stdout
    _assert_equals_the_uninterrupted_run(out, reference)


# A real training run whose writer stops half-way through the second epoch's checkpoint (half its members
# written and flushed, no zip directory yet) and signals that, so the kill lands inside the write.
STALL_IN_SECOND_CHECKPOINT = """
import os, sys, time, zipfile
import numpy as np
import autograd_lite.io as io
from scratchgen import cli

marker, argv = sys.argv[1], sys.argv[2:]
write = io._write_npz

def stalling(f, flat):
    if "progress/epoch" not in flat or int(flat["progress/epoch"]) != 2:
        return write(f, flat)
    archive = zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    for name, array in list(flat.items())[: len(flat) // 2]:
        with archive.open(name + ".npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, array, allow_pickle=False)
    f.flush()
    os.fsync(f.fileno())
    open(marker, "w").close()
    time.sleep(600)

io._write_npz = stalling
sys.exit(cli.main(argv))
"""


def test_a_kill_while_the_checkpoint_is_written_leaves_the_previous_one_whole(reference, tmp_path):
    """SIGKILL in the middle of writing epoch 2's checkpoint: checkpoint.npz is still epoch 1's, whole; the
    half-written temp file beside it is not a readable .npz and --resume ignores it, redoing epoch 2 only, to
    the uninterrupted weights."""
    out, marker = tmp_path / "run", tmp_path / "stalled"
    process = subprocess.Popen([sys.executable, "-c", STALL_IN_SECOND_CHECKPOINT, str(marker), *TRAIN,
                                "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=_env(), cwd=REPO)
    _kill_when(process, marker.exists, "a stalled checkpoint write")

    checkpoint = load_checkpoint(out / CHECKPOINT_NAME)
    assert int(checkpoint.state["progress"]["epoch"]) == 1
    assert _history(checkpoint) == _history(reference["checkpoint"])[:1]
    [stray] = _leftovers(out)  # the cut-short write, under its temporary name
    assert stray.name.startswith(f".{CHECKPOINT_NAME}.") and stray.suffix == ".tmp" and stray.stat().st_size > 0
    with pytest.raises(ValueError, match="not a readable .npz"):
        al.load(stray)

    stdout = _run([*RESUME, "--out", str(out)])
    assert f"resuming ddpm from epoch 1, step {N_BATCHES}\n" in stdout
    assert f"completed after {EPOCHS} epochs, {EPOCHS * N_BATCHES} steps" in stdout
    _assert_equals_the_uninterrupted_run(out, reference)


@pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_save_that_fails_midway_keeps_the_previous_checkpoint_and_no_temp_file(error, tmp_path, monkeypatch):
    """A writer that raises after writing part of the archive (a full disk, a second Ctrl-C): the error
    propagates, checkpoint.npz is byte-for-byte the previous one and still loads, and the temp file is gone."""
    config, _ = cli.ddpm_settings("ring", quick=True)
    model = build_model(asdict(config))
    trainer = Trainer(model, make_toy("ring", 512, seed=0), make_toy("ring", 64, seed=1),
                      TrainConfig(epochs=1, batch_size=256, patience=0, ema_decay=0.999), out_dir=tmp_path,
                      progress=False)
    trainer.fit()
    path = tmp_path / CHECKPOINT_NAME
    before = path.read_bytes()
    write = al_io._write_npz

    def failing(f, flat):
        with zipfile.ZipFile(f, "w") as archive:
            archive.writestr("model/partial.npy", b"\x93NUMPY half of it")
        f.flush()
        raise error

    monkeypatch.setattr(al_io, "_write_npz", failing)
    trainer.epoch += 1  # a different state, so an overwrite would show
    with pytest.raises(type(error)):
        trainer.save()
    assert path.read_bytes() == before
    assert int(load_checkpoint(path).state["progress"]["epoch"]) == 1
    assert _leftovers(tmp_path) == []
    monkeypatch.setattr(al_io, "_write_npz", write)
    trainer.save()  # and the next save goes through
    assert int(load_checkpoint(path).state["progress"]["epoch"]) == 2 and _leftovers(tmp_path) == []
