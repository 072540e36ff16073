"""The scratchgen command line, end to end and in-process: train (and resume), sample, evaluate, and one
line with exit code 2 for every kind of misuse."""
from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
from scratchgen.cli import default_settings, main
from scratchgen.data import load_digits
from scratchgen.training import load_checkpoint


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) with its stdout and stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def train_quick(kind: str, out: Path) -> str:
    code, stdout, stderr = run_main(["train", kind, "--quick", "--out", out, "--no-progress"])
    assert code == 0, stderr
    return stdout


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory) -> tuple[Path, str]:
    """A quick VAE run's folder and what it printed (shared: tests that change a run work on a copy)."""
    out = tmp_path_factory.mktemp("vae_run")
    return out, train_quick("vae", out)


def test_train_quick_writes_the_model_and_the_checkpoint(vae_run):
    """train vae --quick writes model.npz (the best model, with its test metrics) and checkpoint.npz (the
    training state after the two quick epochs), and says so."""
    out, stdout = vae_run
    model, checkpoint = load_checkpoint(out / "model.npz"), load_checkpoint(out / "checkpoint.npz")
    assert model.kind == "model" and checkpoint.kind == "checkpoint"
    assert model.config["kind"] == "vae" and model.data["name"] == "digits"
    epochs = default_settings("vae", quick=True)[1].epochs
    assert math.isfinite(model.metrics["test_nll"]) and model.metrics["best_epoch"] == epochs
    assert int(checkpoint.state["progress"]["epoch"]) == epochs
    assert f"stopped: completed after {epochs} epochs" in stdout and "wrote" in stdout
    assert any(line.split()[:1] == ["test_nll"] for line in stdout.splitlines())  # the metrics table


@pytest.mark.parametrize("name", ["model.npz", "checkpoint.npz"])
def test_sample_writes_a_png(name, vae_run, tmp_path):
    """sample CKPT --out FILE.png writes a PNG figure, from a model.npz or a checkpoint.npz."""
    target = tmp_path / "figures" / "samples.png"
    code, stdout, _ = run_main(["sample", vae_run[0] / name, "--n", 9, "--out", target])
    assert code == 0 and "wrote 9 samples" in stdout
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _samples(checkpoint: Path, path: Path, *flags) -> np.ndarray:
    code, _, stderr = run_main(["sample", checkpoint, "--n", 12, "--out", path, *flags])
    assert code == 0, stderr
    with np.load(path) as archive:
        assert archive.files == ["samples"]
        return archive["samples"]


def test_sample_writes_the_raw_samples_to_npz(vae_run, tmp_path):
    """sample --out FILE.npz stores 'samples', (n, 8, 8) whole grey levels in 0..16, the same for the same
    --seed and different for another; --mean gives decoder means in [0, 16]."""
    checkpoint = vae_run[0] / "model.npz"
    samples = _samples(checkpoint, tmp_path / "a.npz")
    assert samples.shape == (12, 8, 8) and samples.min() >= 0 and samples.max() <= 16
    assert np.array_equal(samples, np.round(samples))
    np.testing.assert_array_equal(samples, _samples(checkpoint, tmp_path / "b.npz"))
    assert not np.array_equal(samples, _samples(checkpoint, tmp_path / "c.npz", "--seed", 1))
    means = _samples(checkpoint, tmp_path / "d.npz", "--mean")
    assert means.min() >= 0 and means.max() <= 16 and not np.array_equal(means, np.round(means))
    expected = load_checkpoint(checkpoint).model.sample(12, rng=0)
    np.testing.assert_array_equal(samples, expected)


def test_evaluate_json_prints_one_object_with_the_test_metrics(vae_run):
    """evaluate --json --k 20 prints one JSON line whose test_nll (the IWAE estimate on the test split) is
    finite, at most test_neg_elbo + 0.5, and what log_likelihood of the loaded model gives."""
    code, stdout, stderr = run_main(["evaluate", vae_run[0] / "model.npz", "--json", "--k", 20])
    assert code == 0 and stderr == ""
    assert len(stdout.splitlines()) == 1
    metrics = json.loads(stdout)
    assert {"test_nll", "test_neg_elbo", "test_nll_stderr", "test_neg_elbo_stderr"} <= metrics.keys()
    assert all(isinstance(metrics[key], float) and math.isfinite(metrics[key]) for key in ("test_nll", "test_neg_elbo"))
    assert metrics["k"] == 20 and metrics["n_test"] == len(load_digits("test")[0])
    assert metrics["test_nll"] <= metrics["test_neg_elbo"] + 0.5
    model = load_checkpoint(vae_run[0] / "model.npz").model
    expected = -model.log_likelihood(load_digits("test")[0], k=20, rng=0).mean()
    assert metrics["test_nll"] == pytest.approx(expected, rel=1e-12)


def test_evaluate_without_json_prints_a_table(vae_run):
    """evaluate without --json prints the checkpoint, then one 'name value' line per metric."""
    code, stdout, _ = run_main(["evaluate", vae_run[0] / "model.npz", "--k", 5])
    assert code == 0
    lines = stdout.splitlines()
    assert "model.npz" in lines[0] and any(line.split()[0] == "test_nll" for line in lines[1:])


def test_train_resume_continues_the_run(vae_run, tmp_path):
    """train vae --quick --resume --epochs E+1 continues from the finished quick run's epoch E and step S and
    trains one more epoch."""
    out = tmp_path / "run"
    shutil.copytree(vae_run[0], out)
    progress = load_checkpoint(out / "checkpoint.npz").state["progress"]
    epoch, step = int(progress["epoch"]), int(progress["step"])
    code, stdout, stderr = run_main(["train", "vae", "--quick", "--resume", "--epochs", epoch + 1, "--out", out,
                                     "--no-progress"])
    assert code == 0, stderr
    assert f"resuming vae from epoch {epoch}, step {step}" in stdout
    assert f"after {epoch + 1} epochs, {step + step // epoch} steps" in stdout
    checkpoint = load_checkpoint(out / "checkpoint.npz")
    assert int(checkpoint.state["progress"]["epoch"]) == epoch + 1
    assert len(json.loads(str(checkpoint.state["history"]))["validation_loss"]) == epoch + 1


def test_resume_takes_the_data_set_from_the_checkpoint_and_refuses_new_settings(tmp_path):
    """A ddpm trained on the ring resumes on the ring when --data is left out (its default, swiss_roll, used
    to win silently); a different --data, or a setting the checkpoint fixes (--lr, --seed), is misuse."""
    out = tmp_path / "run"
    code, _, stderr = run_main(["train", "ddpm", "--data", "ring", "--quick", "--epochs", 1, "--batch-size", 4096,
                                "--out", out, "--no-progress"])
    assert code == 0, stderr
    for extra, message in ((["--data", "swiss_roll"], "was trained on ring"), (["--lr", "0.1"], "--lr cannot"),
                           (["--seed", "3"], "--seed cannot")):
        code, _, stderr = run_main(["train", "ddpm", "--resume", "--out", out, *extra])
        assert code == 2 and message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    code, stdout, stderr = run_main(["train", "ddpm", "--quick", "--resume", "--epochs", 2, "--out", out,
                                     "--no-progress"])
    assert code == 0, stderr
    assert "resuming ddpm from epoch 1" in stdout
    assert load_checkpoint(out / "checkpoint.npz").data["name"] == "ring"


def test_hvae_trains_samples_and_evaluates(tmp_path):
    """train hvae --quick, then sample and evaluate its model.npz: an HVAE end to end."""
    stdout = train_quick("hvae", tmp_path)
    assert "training hvae" in stdout
    assert load_checkpoint(tmp_path / "model.npz").config["kind"] == "hvae"
    samples = _samples(tmp_path / "model.npz", tmp_path / "s.npz")
    assert samples.shape == (12, 8, 8) and samples.min() >= 0 and samples.max() <= 16
    code, stdout, _ = run_main(["evaluate", tmp_path / "model.npz", "--json", "--k", 5])
    assert code == 0 and math.isfinite(json.loads(stdout)["test_nll"])


# ----- misuse --------------------------------------------------------------------------------------------------
def _foreign(folder: Path) -> Path:
    np.savez(folder / "foreign.npz", weights=np.ones((2, 2)))
    return folder / "foreign.npz"


def _truncated(folder: Path, run: Path) -> Path:
    data = (run / "model.npz").read_bytes()
    (folder / "cut.npz").write_bytes(data[: len(data) // 2])
    return folder / "cut.npz"


def _corrupt_run(folder: Path, run: Path) -> Path:
    (folder / "run").mkdir()
    _truncated(folder, run).rename(folder / "run" / "checkpoint.npz")
    return folder / "run"


def _not_ours(folder: Path) -> Path:
    al.save({"weights": np.ones(3)}, folder / "other.npz")
    return folder / "other.npz"


MISUSE = {
    # name: (argv from (tmp folder, quick run folder), what the message says)
    "sample a missing file": (lambda t, r: ["sample", t / "none.npz", "--out", t / "s.npz"], "no such checkpoint"),
    "evaluate a missing file": (lambda t, r: ["evaluate", t / "none.npz"], "no such checkpoint"),
    "sample a foreign npz": (lambda t, r: ["sample", _foreign(t), "--out", t / "s.npz"],
                             "not written by autograd_lite"),
    "evaluate another autograd_lite file": (lambda t, r: ["evaluate", _not_ours(t)], "not a scratchgen checkpoint"),
    "evaluate a truncated checkpoint": (lambda t, r: ["evaluate", _truncated(t, r)], "truncated or corrupt"),
    "an unknown model": (lambda t, r: ["train", "flow", "--quick", "--out", t], "unknown model 'flow'"),
    "a VAE on a 2-D set": (lambda t, r: ["train", "vae", "--data", "ring", "--out", t], "models the digits"),
    "a GAN flag for a VAE": (lambda t, r: ["train", "vae", "--loss", "minimax", "--out", t], "does not apply"),
    "a VAE flag for a GAN": (lambda t, r: ["train", "gan", "--k", 5, "--out", t], "does not apply"),
    "a GAN loss that does not exist": (lambda t, r: ["train", "gan", "--loss", "hinge", "--out", t],
                                       "invalid choice"),
    "a conv GAN on the ring": (lambda t, r: ["train", "gan", "--architecture", "dcgan", "--quick", "--out", t],
                               "for the digits"),
    "--pack 0": (lambda t, r: ["train", "gan", "--pack", 0, "--quick", "--out", t], "pack must be"),
    "an unknown data set": (lambda t, r: ["train", "vae", "--data", "mnist", "--out", t], "unknown data set 'mnist'"),
    "resume with nothing to resume": (lambda t, r: ["train", "vae", "--resume", "--out", t], "nothing to resume"),
    "resume a corrupt checkpoint": (lambda t, r: ["train", "vae", "--resume", "--out", _corrupt_run(t, r)],
                                    "truncated or corrupt"),
    "resume a run of another model": (lambda t, r: ["train", "hvae", "--resume", "--out", r], "holds a vae"),
    "--n 0": (lambda t, r: ["sample", r / "model.npz", "--n", 0, "--out", t / "s.npz"], "--n must be"),
    "a bad --out suffix": (lambda t, r: ["sample", r / "model.npz", "--out", t / "s.jpg"], "--out must end in"),
    "--k 0": (lambda t, r: ["evaluate", r / "model.npz", "--k", 0], "--k must be"),
    "--k too large": (lambda t, r: ["evaluate", r / "model.npz", "--k", 10**6], "--k must be"),
    "--epochs 0": (lambda t, r: ["train", "vae", "--quick", "--epochs", 0, "--out", t], "epochs must be"),
    "--lr 0": (lambda t, r: ["train", "vae", "--quick", "--lr", 0, "--out", t], "lr must be positive"),
    "--latent-dim 0": (lambda t, r: ["train", "vae", "--quick", "--latent-dim", 0, "--out", t], "latent_dim must"),
    "--likelihood poisson": (lambda t, r: ["train", "vae", "--likelihood", "poisson", "--out", t], "invalid choice"),
    "--n not a number": (lambda t, r: ["sample", r / "model.npz", "--n", "many", "--out", t / "s.npz"],
                         "invalid int value"),
    "no command": (lambda t, r: [], "required"),
    "an unknown command": (lambda t, r: ["fly"], "invalid choice"),
    "train without --out": (lambda t, r: ["train", "vae"], "--out"),
    "an unknown option": (lambda t, r: ["evaluate", r / "model.npz", "--bogus"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", MISUSE)
def test_misuse_exits_2_with_one_line_on_stderr(case, vae_run, tmp_path):
    """Bad use of the command line exits with code 2 and exactly one line on stderr naming the problem,
    without a traceback, and writes nothing."""
    make_argv, reason = MISUSE[case]
    argv = make_argv(tmp_path, vae_run[0])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, stdout, stderr = run_main(argv)
    assert code == 2
    assert len(stderr.splitlines()) == 1 and stderr.startswith("scratchgen: error: ") and reason in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


# ----- the installed entry point ---------------------------------------------------------------------------------
def _console_script() -> str:
    script = Path(sys.executable).with_name("scratchgen")
    return str(script) if script.exists() else shutil.which("scratchgen") or pytest.skip("scratchgen not installed")


@pytest.mark.parametrize("argv, expected", [
    (["--help"], ["train", "sample", "evaluate"]),
    (["train", "--help"], ["--resume", "--quick", "--out", "--epochs"]),
])
def test_the_installed_console_script_prints_help(argv, expected):
    """The installed ``scratchgen`` command runs (a real subprocess) and its --help lists the commands and
    the train options."""
    done = subprocess.run([_console_script(), *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(word in done.stdout for word in expected)
