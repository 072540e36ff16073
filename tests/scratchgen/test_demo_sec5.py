"""Smoke test of the section-5 demo (the GAN): quick settings train three ring games and the DCGAN, measure
them and save the three PNGs, in seconds."""
import importlib.util
import time
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec5_gan.py"
NAMES = ["sec5_gan_training.png", "sec5_gan_losses.png", "sec5_gan_digits.png"]


def load_demo():
    spec = importlib.util.spec_from_file_location("sec5_gan", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sec5_demo_quick(tmp_path, monkeypatch):
    demo = load_demo()
    experiments = []  # what main trained, kept for the checks below (main itself returns only the paths)
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
    runs = experiment["ring"]
    assert [(r["config"].loss, r["config"].pack) for r in runs] == [(loss, pack) for _, loss, pack in demo.VARIANTS]
    for run in runs:
        assert run["steps"] == demo.QUICK_RING_STEPS and run["samples"].shape == (demo.N_POINTS, 2)
        assert 0 <= run["coverage"].modes_covered <= 8 and 0 <= run["coverage"].high_quality <= 1
        curve = run["curve"]
        assert curve["step"] == list(range(0, demo.QUICK_RING_STEPS + 1, demo.QUICK_CURVE_EVERY))
        assert all(0 < d < 1 for d in curve["d_fake"])
    # the snapshots are of the default game only, at the chosen steps, with D on the whole grid
    assert all(not r["snapshots"] for r in runs[:-1])
    pictures = runs[-1]["snapshots"]
    assert [p["step"] for p in pictures] == list(demo.QUICK_SNAPSHOTS)
    for picture in pictures:
        assert picture["d_grid"].shape == (demo.QUICK_GRID ** 2,)
        assert np.all((picture["d_grid"] > 0) & (picture["d_grid"] < 1))
    digits = experiment["digits"]
    assert digits["steps"] == demo.QUICK_DIGIT_STEPS and digits["samples"].shape == (demo.N_DIGITS, 64)
    assert digits["fdd_real"] < digits["fdd"]  # four steps of training are far from real digits


def test_the_last_variant_is_the_readme_game():
    """sec5_gan_training.png draws the README's ring game: the last variant changes nothing in gan_settings."""
    demo = load_demo()
    from dataclasses import replace

    from scratchgen.cli import gan_settings

    _, loss, pack = demo.VARIANTS[-1]
    config, train = gan_settings("ring")
    demo_config, demo_train = demo.ring_settings(quick=False, loss=loss, pack=pack)
    assert demo_config == replace(config, seed=demo.SEED)
    assert demo_train == replace(train, seed=demo.SEED, blas_threads=1)


def test_the_same_seed_gives_the_same_game():
    """Two quick runs of one ring game give the same samples, curve and decision surface."""
    demo = load_demo()
    from scratchgen.cli import load_data

    data = load_data("ring")
    label, loss, pack = demo.VARIANTS[-1]
    a, b = (demo.train_ring(data, label, loss, pack, quick=True, snapshots=(demo.QUICK_SNAPSHOTS[-1],))
            for _ in range(2))
    np.testing.assert_array_equal(a["samples"], b["samples"])
    assert a["curve"] == b["curve"]
    np.testing.assert_array_equal(a["snapshots"][0]["d_grid"], b["snapshots"][0]["d_grid"])


def test_a_packed_discriminator_is_drawn_on_packs_of_copies():
    """For pack m, D(x) on the surface is D's output on the input (x, x, ..., x): m copies side by side."""
    demo = load_demo()
    from autograd_lite import Tensor, no_grad, ops
    from scratchgen.models import GAN

    config, _ = demo.ring_settings(quick=True, pack=3)
    model = GAN(config)
    _, points = demo.decision_grid(5)
    surface = demo.discriminator_probability(model, points)
    with no_grad():
        by_hand = ops.sigmoid(model.discriminator.net(Tensor(np.tile(points, 3).astype(model.dtype)))).numpy()
    assert surface.shape == (25,)
    np.testing.assert_allclose(surface, by_hand.reshape(-1), rtol=1e-6)
