"""Smoke test of the section-4 demo, and its claim: p(y|x) is often sure on noise, p(x) flags it."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec4_why_generative.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("sec4_why_generative", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sec4_demo_quick(demo, tmp_path):
    figures = demo.main(out_dir=str(tmp_path), quick=True)
    assert len(figures) == 2
    for figure in figures:
        path = Path(figure)
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000


def test_discriminative_is_sure_on_noise_while_p_of_x_flags_it(demo):
    result = demo.run_experiment(quick=True)
    clean, noisy, noise = result["sets"].values()
    threshold = result["threshold"]
    assert clean["accuracy"] > 0.85 and result["generative_accuracy"] > 0.8
    assert np.mean(noise["p_y_given_x"].max(axis=1) > 0.9) > 0.3     # sure about images of nothing ...
    assert np.mean(noise["log_px"] < threshold) > 0.95                # ... which p(x) flags
    assert np.mean(noisy["log_px"] < threshold) > 0.9
    assert np.mean(clean["log_px"] < threshold) < 0.05                # real digits pass
