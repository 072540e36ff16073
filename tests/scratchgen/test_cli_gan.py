"""``scratchgen train gan`` end to end on ``--quick``: the 2-D ring and the digits, then sample and evaluate."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_cli import run_main

from scratchgen.training import load_checkpoint


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan_ring")
    code, stdout, stderr = run_main(["train", "gan", "--data", "ring", "--quick", "--out", out, "--no-progress"])
    assert code == 0, stderr
    return out, stdout


def test_train_gan_on_the_ring_writes_a_model_with_the_mode_metrics(ring_run):
    """The quick run writes model.npz (a GAN, on the ring) and prints and stores the mode metrics."""
    out, stdout = ring_run
    model = load_checkpoint(out / "model.npz")
    assert model.config["kind"] == "gan" and model.data["name"] == "ring"
    for key in ("modes_covered", "high_quality", "reverse_kl", "mmd"):
        assert key in model.metrics and key in stdout
    assert 0 <= model.metrics["modes_covered"] <= 8 and 0 <= model.metrics["high_quality"] <= 1


def test_sample_writes_points_to_npz_and_a_scatter_png(ring_run, tmp_path):
    out, _ = ring_run
    code, _, stderr = run_main(["sample", out / "model.npz", "--n", 50, "--out", tmp_path / "s.npz"])
    assert code == 0, stderr
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        assert f["samples"].shape == (50, 2) and np.isfinite(f["samples"]).all()
    code, _, stderr = run_main(["sample", out / "checkpoint.npz", "--out", tmp_path / "s.png"])
    assert code == 0, stderr
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_json_has_the_issue_keys_and_is_reproducible(ring_run):
    out, _ = ring_run
    results = []
    for _ in range(2):
        code, stdout, stderr = run_main(["evaluate", out / "model.npz", "--json"])
        assert code == 0, stderr
        results.append(json.loads(stdout))
    assert results[0] == results[1]
    assert {"modes_covered", "high_quality", "reverse_kl", "mmd"} <= set(results[0])


def test_sample_mean_is_refused_for_a_gan(ring_run, tmp_path):
    out, _ = ring_run
    code, stdout, stderr = run_main(["sample", out / "model.npz", "--mean", "--out", tmp_path / "s.npz"])
    assert code == 2 and "--mean" in stderr and len(stderr.splitlines()) == 1


@pytest.mark.filterwarnings("ignore:the best Parzen bandwidth")  # two quick epochs make a poor generator
def test_train_gan_on_the_digits_reports_frechet_and_parzen(tmp_path):
    """The DCGAN pair on the digits, quick: its metrics sit beside the same numbers for real digits."""
    code, stdout, stderr = run_main(["train", "gan", "--data", "digits", "--quick", "--out", tmp_path,
                                     "--no-progress"])
    assert code == 0, stderr
    metrics = load_checkpoint(tmp_path / "model.npz").metrics
    for key in ("frechet_digit_distance", "frechet_digit_distance_real", "parzen_log_likelihood",
                "parzen_log_likelihood_real"):
        assert math.isfinite(metrics[key]), key
    # two quick epochs make poor digits: further from the test digits than real training digits are
    assert metrics["frechet_digit_distance"] > metrics["frechet_digit_distance_real"]
    code, _, stderr = run_main(["sample", tmp_path / "model.npz", "--n", 4, "--out", tmp_path / "d.npz"])
    with np.load(tmp_path / "d.npz", allow_pickle=False) as f:
        assert f["samples"].shape == (4, 8, 8)


@pytest.mark.parametrize("loss", ["minimax", "wgan_gp"])
def test_train_gan_with_each_loss(loss, tmp_path):
    """--loss minimax and --loss wgan_gp (gradient penalty 10, 5 critic steps, betas (0, 0.9)) run end to end."""
    code, stdout, stderr = run_main(["train", "gan", "--loss", loss, "--quick", "--out", tmp_path, "--no-progress"])
    assert code == 0, stderr
    config = load_checkpoint(tmp_path / "model.npz").config
    assert config["loss"] == loss
    if loss == "wgan_gp":
        assert config["gradient_penalty"] == 10.0 and config["d_steps"] == 5 and config["betas"] == [0.0, 0.9]
