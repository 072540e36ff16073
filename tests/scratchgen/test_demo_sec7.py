"""Smoke test of the section-7 demo (the DDPM): quick settings draw the forward process, train both quick
models, sample them with both samplers, score them and save the three PNGs, in seconds."""
import importlib.util
import time
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec7_ddpm.py"
NAMES = ["sec7_ddpm_forward.png", "sec7_ddpm_reverse.png", "sec7_ddpm_samples.png"]


def load_demo():
    spec = importlib.util.spec_from_file_location("sec7_ddpm", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sec7_demo_quick(tmp_path, monkeypatch):
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

    # the forward process: the README's schedule from the data (t = 0) to pure noise (t = T)
    forward = experiment["forward"]
    T = forward["T"]
    assert T == 1000 and forward["t"][0] == 0 and forward["t"][-1] == T
    assert forward["t"] == sorted(forward["t"])
    titled = [float(demo.forward_title(t, a).split("= ")[-1]) for t, a in zip(forward["t"], forward["alpha_bar"])]
    assert titled[0] == 1 and all(b < a for a, b in zip(titled, titled[1:]))  # alpha-bar_t falls with t
    assert forward["alpha_bar"][-1] < 1e-3  # x_T is (almost) pure noise
    assert len(forward["swiss_roll"]) == len(forward["digit"]) == len(forward["t"])
    assert all(x.shape == experiment["data"].shape for x in forward["swiss_roll"])
    assert all(x.shape == (1, 8, 8) for x in forward["digit"])
    np.testing.assert_array_equal(forward["swiss_roll"][0], experiment["data"])  # t = 0 is the data itself

    swiss = experiment["swiss_roll"]
    assert swiss["steps"] == demo.QUICK_SWISS_STEPS and len(swiss["losses"]) == demo.QUICK_SWISS_STEPS
    for key in ("ancestral", "ddim"):
        assert swiss[key].shape == (demo.N_CHAMFER, 2) and np.all(np.isfinite(swiss[key]))
    times = [t for t, _ in swiss["trajectory"]]
    assert times[0] == swiss["T"] and times[-1] == 0 and times == sorted(times, reverse=True)
    np.testing.assert_array_equal(swiss["trajectory"][-1][1], swiss["ancestral"])
    chamfers = (swiss["chamfer"][0], swiss["chamfer_ddim"][0], swiss["chamfer_floor"][0])
    assert all(np.isfinite(c) and c > 0 for c in chamfers)
    floor = swiss["chamfer_floor"][0]
    assert floor < swiss["chamfer"][0] and floor < swiss["chamfer_ddim"][0]  # 200 quick steps: far from the data

    digits = experiment["digits"]
    assert digits["steps"] == demo.QUICK_DIGIT_STEPS
    assert digits["ancestral"].shape == (demo.QUICK_N_ANCESTRAL_DIGITS, 8, 8)
    assert digits["ddim"].shape == (demo.QUICK_N_FDD, 8, 8)
    for images in (digits["ancestral"], digits["ddim"]):
        assert np.all(images == np.round(images)) and images.min() >= 0 and images.max() <= 16  # the 17 levels
    assert all(x.shape == (demo.QUICK_N_ANCESTRAL_DIGITS, 8, 8) for _, x in digits["trajectory"])
    scores = (digits["fdd_ddim"], digits["fdd_real"], *digits["fdd_small"].values())
    assert all(np.isfinite(s) for s in scores)
    assert digits["fdd_real"] < digits["fdd_ddim"]  # eight steps of training are far from real digits


def test_the_same_seed_gives_the_same_samples():
    """Two quick swiss-roll runs give the same losses, samples and Chamfer distances."""
    demo = load_demo()
    from scratchgen.cli import load_data

    data = load_data("swiss_roll")
    a, b = (demo.swiss_roll_experiment(data, quick=True) for _ in range(2))
    np.testing.assert_array_equal(a["losses"], b["losses"])
    np.testing.assert_array_equal(a["ancestral"], b["ancestral"])
    np.testing.assert_array_equal(a["ddim"], b["ddim"])
    assert a["chamfer"] == b["chamfer"]


def test_snapshots_pick_the_nearest_kept_state():
    demo = load_demo()
    trajectory = [(t, np.full((1, 2), t)) for t in range(1000, -1, -demo.trajectory_every(1000))]
    picked = demo.snapshots(trajectory, demo.DIGIT_REVERSE_FRACTIONS, 1000)
    assert [t for t, _ in picked] == [1000, 600, 400, 300, 200, 150, 100, 75, 50, 25, 0]
    assert demo.trajectory_every(50) == 1
