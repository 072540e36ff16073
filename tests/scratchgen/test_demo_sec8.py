"""Smoke test of the section-8 demo (conditional generation and inverse problems): quick settings train the
quick class-conditional DDPM, sweep the guidance weight, restore a few test digits on the three inverse problems
and save the three PNGs, in seconds."""
import importlib.util
import time
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec8_conditional_inverse.py"
NAMES = ["sec8_conditional_samples.png", "sec8_guidance_sweep.png", "sec8_inverse_problems.png"]


def load_demo():
    spec = importlib.util.spec_from_file_location("sec8_conditional_inverse", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_levels(images: np.ndarray) -> bool:
    """Digits on the 17 grey levels 0..16."""
    return bool(np.all(images == np.round(images)) and images.min() >= 0 and images.max() <= 16)


def test_sec8_demo_quick(tmp_path, monkeypatch):
    demo = load_demo()
    experiments = []  # what main computed, kept for the checks below (main itself returns only the paths)
    run_experiment = demo.run_experiment

    def recorded(quick):
        experiments.append(run_experiment(quick))
        return experiments[-1]

    monkeypatch.setattr(demo, "run_experiment", recorded)
    start = time.perf_counter()
    figures = demo.main(out_dir=str(tmp_path), quick=True)
    assert time.perf_counter() - start < 60  # a few seconds on a free machine; generous for a busy one
    assert [Path(f).name for f in figures] == NAMES
    for figure in figures:
        path = Path(figure)
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5_000
    (experiment,) = experiments
    assert experiment["quick"]

    run = experiment["run"]
    assert run["steps"] == demo.QUICK_TRAIN_STEPS and len(run["losses"]) == demo.QUICK_TRAIN_STEPS
    assert np.all(np.isfinite(run["losses"]))
    assert run["model"].conditional and run["config"].num_classes == 10 and run["T"] == 50

    # the guidance sweep: every w, the same labels, samples on the 17 levels, scores in range
    sweep = experiment["sweep"]
    per_label = demo.QUICK_PER_LABEL
    np.testing.assert_array_equal(sweep["labels"], np.repeat(np.arange(10), per_label))
    assert [row["w"] for row in sweep["rows"]] == list(demo.WEIGHTS)
    assert demo.WEIGHTS[0] == 0 and demo.GUIDED in demo.WEIGHTS and 1 in demo.WEIGHTS
    for row in sweep["rows"]:
        assert row["samples"].shape == (10 * per_label, 8, 8) and on_levels(row["samples"])
        assert 0 <= row["accuracy"] <= 1
        assert np.isfinite(row["frechet"]) and row["frechet"] > 0
    assert 0 <= sweep["classifier_accuracy"] <= 1 and sweep["classifier_accuracy"] > 0.8  # real test digits
    assert np.isfinite(sweep["frechet_real"]) and sweep["frechet_real"] > 0
    assert sweep["real_by_label"].shape == (10, per_label, 64)

    # the inverse problems: shapes, the known half kept exactly, finite PSNRs, accuracies in range
    inverse = experiment["inverse"]
    n = demo.QUICK_N_RESTORE
    truth = inverse["truth"]
    from scratchgen.cli import load_data

    test_images, test_labels = load_data("digits", labels=True)["test"]
    np.testing.assert_array_equal(truth, test_images[:n].reshape(n, 8, 8))
    np.testing.assert_array_equal(inverse["labels"], test_labels[:n])
    tasks = inverse["tasks"]
    assert set(tasks) == {"inpaint_dps", "inpaint_repaint", "superres_dps", "deblur_dps"}
    for key, out in tasks.items():
        assert out["restored"].shape == (n, 8, 8) and on_levels(out["restored"]), key
        np.testing.assert_array_equal(out["truth"], truth)
        assert np.isfinite(out["psnr"]), key
        expected = (n, 4, 4) if key == "superres_dps" else (n, 8, 8)
        assert out["observed"].shape == expected, key
    for key in ("inpaint_dps", "inpaint_repaint"):
        out = tasks[key]
        np.testing.assert_array_equal(out["restored"][:, :4], truth[:, :4])  # the observed upper half, exactly
        np.testing.assert_array_equal(out["observed"][:, 4:], 0)             # the lower half is not observed
        assert 0 <= out["accuracy"] <= 1
    assert 0 <= inverse["accuracy_observed"] <= 1
    superres = tasks["superres_dps"]
    np.testing.assert_allclose(superres["observed"], truth.reshape(n, 4, 2, 4, 2).mean(axis=(2, 4)), atol=1e-5)
    np.testing.assert_allclose(superres["nearest"], np.repeat(np.repeat(superres["observed"], 2, 1), 2, 2))
    assert superres["bilinear"].shape == (n, 8, 8)
    for value in (superres["psnr_bilinear"], superres["psnr_nearest"], tasks["deblur_dps"]["psnr_observed"],
                  tasks["inpaint_dps"]["psnr_observed"]):
        assert np.isfinite(value)


def test_the_same_seed_gives_the_same_run():
    """Two quick runs give the same losses, the same samples at every w and the same restorations."""
    demo = load_demo()
    from scratchgen.cli import load_data

    data = load_data("digits", labels=True)
    a, b = (demo.train(data, quick=True) for _ in range(2))
    np.testing.assert_array_equal(a["losses"], b["losses"])
    sweep_a, sweep_b = demo.guidance_sweep(a, data, quick=True), demo.guidance_sweep(b, data, quick=True)
    for row_a, row_b in zip(sweep_a["rows"], sweep_b["rows"]):
        np.testing.assert_array_equal(row_a["samples"], row_b["samples"])
        assert row_a["accuracy"] == row_b["accuracy"] and row_a["frechet"] == row_b["frechet"]
    inverse_a, inverse_b = demo.inverse_problems(a, data, quick=True), demo.inverse_problems(b, data, quick=True)
    for key, out in inverse_a["tasks"].items():
        np.testing.assert_array_equal(out["restored"], inverse_b["tasks"][key]["restored"])


def test_by_label_gives_one_row_per_label():
    demo = load_demo()
    samples = np.repeat(np.arange(10.0), 3)[:, None, None] * np.ones((1, 8, 8))  # 3 samples of each label, in order
    rows = demo.by_label(samples, per_label=3, columns=2)
    assert rows.shape == (20, 8, 8)
    np.testing.assert_array_equal(rows[:, 0, 0], np.repeat(np.arange(10.0), 2))
