"""``scratchgen train ddpm`` end to end on ``--quick``: the swiss roll and the digits, then sample and evaluate."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_cli import run_main

from scratchgen.training import load_checkpoint


@pytest.fixture(scope="module")
def roll_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm_roll")
    code, stdout, stderr = run_main(["train", "ddpm", "--quick", "--out", out, "--no-progress"])
    assert code == 0, stderr
    return out, stdout


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm_digits")
    code, stdout, stderr = run_main(["train", "ddpm", "--data", "digits", "--quick", "--out", out, "--no-progress"])
    assert code == 0, stderr
    return out, stdout


def test_train_ddpm_defaults_to_the_swiss_roll_and_reports_chamfer(roll_run):
    out, stdout = roll_run
    model = load_checkpoint(out / "model.npz")
    assert model.config["kind"] == "ddpm" and model.data["name"] == "swiss_roll"
    for key in ("chamfer", "chamfer_ddim50", "chamfer_floor"):
        assert key in model.metrics and key in stdout and math.isfinite(model.metrics[key])
    assert model.metrics["chamfer_floor"] < model.metrics["chamfer"]  # two quick epochs: far from the floor


def test_sample_with_both_samplers(roll_run, tmp_path):
    out, _ = roll_run
    for extra in ([], ["--sampler", "ddim", "--steps", "5"], ["--sampler", "ddim", "--steps", "5", "--eta", "1"]):
        code, _, stderr = run_main(["sample", out / "model.npz", "--n", 30, "--out", tmp_path / "s.npz", *extra])
        assert code == 0, stderr
        with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
            assert f["samples"].shape == (30, 2) and np.isfinite(f["samples"]).all()
    code, _, stderr = run_main(["sample", out / "checkpoint.npz", "--out", tmp_path / "s.png", "--sampler", "ddim"])
    assert code == 0, stderr
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("extra, message", [
    (["--steps", "5"], "--steps"),                       # steps without --sampler ddim
    (["--sampler", "ddim", "--steps", "0"], "--steps"),
    (["--sampler", "ddim", "--steps", "100000"], "--steps"),
    (["--sampler", "ddim", "--eta", "-1"], "--eta"),
    (["--mean"], "--mean"),
])
def test_sampler_misuse_is_one_line_and_exit_2(roll_run, tmp_path, extra, message):
    out, _ = roll_run
    code, _, stderr = run_main(["sample", out / "model.npz", "--out", tmp_path / "s.npz", *extra])
    assert code == 2 and message in stderr and len(stderr.splitlines()) == 1


def test_ddpm_flags_are_refused_elsewhere(tmp_path):
    code, _, stderr = run_main(["train", "gan", "--quick", "--schedule", "cosine", "--out", tmp_path])
    assert code == 2 and "--schedule" in stderr and len(stderr.splitlines()) == 1
    code, _, stderr = run_main(["train", "ddpm", "--quick", "--loss", "wgan_gp", "--out", tmp_path])
    assert code == 2 and "--loss" in stderr


def test_digits_evaluate_json_has_the_bound_and_the_frechet_distance(digits_run, tmp_path):
    out, stdout = digits_run
    assert "test_nll_bound" in stdout
    code, stdout, stderr = run_main(["evaluate", out / "model.npz", "--json"])
    assert code == 0, stderr
    metrics = json.loads(stdout)
    assert {"test_nll_bound", "frechet_digit_distance", "bound_prior", "bound_diffusion", "bound_decoder"} <= set(
        metrics)
    assert metrics["test_nll_bound"] > 0 and math.isfinite(metrics["frechet_digit_distance"])
    code, _, stderr = run_main(["sample", out / "model.npz", "--n", 8, "--out", tmp_path / "d.npz",
                                "--sampler", "ddim", "--steps", "4"])
    assert code == 0, stderr
    with np.load(tmp_path / "d.npz", allow_pickle=False) as f:
        samples = f["samples"]
    assert samples.shape == (8, 8, 8) and set(np.unique(samples)) <= set(range(17))


def test_a_gan_refuses_the_diffusion_sampler_flags(tmp_path):
    code, _, stderr = run_main(["train", "gan", "--quick", "--out", tmp_path / "g", "--no-progress"])
    assert code == 0, stderr
    code, _, stderr = run_main(["sample", tmp_path / "g" / "model.npz", "--sampler", "ddim", "--out",
                                tmp_path / "s.npz"])
    assert code == 2 and "--sampler" in stderr and len(stderr.splitlines()) == 1


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm_conditional")
    code, stdout, stderr = run_main(["train", "ddpm", "--conditional", "--quick", "--out", out, "--no-progress"])
    assert code == 0, stderr
    return out, stdout


def test_conditional_training_reports_the_guidance_and_restoration_keys(conditional_run):
    out, stdout = conditional_run
    model = load_checkpoint(out / "model.npz")
    assert model.config["num_classes"] == 10 and model.data["name"] == "digits"
    keys = {"guided_accuracy", "inpaint_accuracy", "superres_psnr", "deblur_psnr", "superres_psnr_bilinear",
            "superres_psnr_nearest", "deblur_psnr_observed"}
    assert keys <= set(model.metrics) and all(key in stdout for key in keys)
    assert 0 <= model.metrics["guided_accuracy"] <= 1


def test_sample_with_a_label_and_guidance(conditional_run, tmp_path):
    out, _ = conditional_run
    code, _, stderr = run_main(["sample", out / "model.npz", "--n", 6, "--label", 3, "--guidance", 2,
                                "--sampler", "ddim", "--steps", 3, "--out", tmp_path / "s.npz"])
    assert code == 0, stderr
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        assert f["samples"].shape == (6, 8, 8) and list(f["labels"]) == [3] * 6
    for extra, message in ((["--label", "10"], "--label"), (["--guidance", "-1"], "--guidance")):
        code, _, stderr = run_main(["sample", out / "model.npz", "--out", tmp_path / "s.npz", *extra])
        assert code == 2 and message in stderr and len(stderr.splitlines()) == 1


def test_restore_writes_observed_restored_truth(conditional_run, tmp_path):
    out, _ = conditional_run
    for task, observed_shape in (("inpaint", (4, 8, 8)), ("superres", (4, 4, 4)), ("deblur", (4, 8, 8))):
        code, _, stderr = run_main(["restore", out / "model.npz", "--task", task, "--n", 4,
                                    "--out", tmp_path / f"{task}.npz"])
        assert code == 0, stderr
        with np.load(tmp_path / f"{task}.npz", allow_pickle=False) as f:
            assert f["observed"].shape == observed_shape and f["restored"].shape == (4, 8, 8)
            assert f["truth"].shape == (4, 8, 8)
            if task == "inpaint":  # the known upper half is kept exactly
                np.testing.assert_array_equal(f["restored"][:, :4], f["truth"][:, :4])
    code, _, stderr = run_main(["restore", out / "model.npz", "--task", "inpaint", "--n", 2,
                                "--out", tmp_path / "r.png"])
    assert code == 0 and (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_guidance_and_restore_misuse(roll_run, tmp_path):
    out, _ = roll_run
    code, _, stderr = run_main(["sample", out / "model.npz", "--guidance", "2", "--out", tmp_path / "s.npz"])
    assert code == 2 and "class-conditional" in stderr and len(stderr.splitlines()) == 1
    code, _, stderr = run_main(["restore", out / "model.npz", "--task", "deblur", "--out", tmp_path / "r.npz"])
    assert code == 2 and "digits" in stderr and len(stderr.splitlines()) == 1
    code, _, stderr = run_main(["train", "ddpm", "--data", "ring", "--conditional", "--out", tmp_path])
    assert code == 2 and "--conditional" in stderr
