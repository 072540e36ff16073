"""Smoke test of the section-6 demo (the VAE): quick settings train, evaluate and save the five PNGs."""
import importlib.util
import math
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec6_vae.py"
NAMES = ["sec6_reconstructions.png", "sec6_samples.png", "sec6_interpolation.png", "sec6_latent_manifold.png",
         "sec6_training_curves.png"]


def load_demo():
    spec = importlib.util.spec_from_file_location("sec6_vae", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sec6_demo_quick(tmp_path, monkeypatch):
    demo = load_demo()
    experiments = []  # what main trained, kept for the checks below (main itself returns only the paths)
    run_experiment = demo.run_experiment

    def recorded(quick):
        experiments.append(run_experiment(quick))
        return experiments[-1]

    monkeypatch.setattr(demo, "run_experiment", recorded)
    figures = demo.main(out_dir=str(tmp_path), quick=True)
    assert [Path(f).name for f in figures] == NAMES
    for figure in figures:
        path = Path(figure)
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5_000
    (experiment,) = experiments
    uniform = 64 * math.log(17)  # -log p(x) of the uniform model over the 17 grey levels
    for key, latent_dim in (("vae", 16), ("vae2d", 2)):
        run = experiment[key]
        assert run["config"].latent_dim == latent_dim and run["result"].epochs_done == demo.QUICK_EPOCHS
        m = run["metrics"]
        assert m["k"] == demo.QUICK_EVAL_K
        # the IWAE estimate is a tighter bound than the ELBO, and both models already beat the uniform one
        assert m["test_nll"] <= m["test_neg_elbo"] < uniform
        assert len(run["result"].validation_loss) == demo.QUICK_EPOCHS


def test_latent_grid_is_the_normal_quantiles():
    demo = load_demo()
    quantiles, z = demo.latent_grid(5)
    assert z.shape == (25, 2)
    np.testing.assert_allclose(quantiles, -quantiles[::-1], atol=1e-12)          # symmetric about 0
    np.testing.assert_allclose(quantiles[2], 0.0, atol=1e-12)
    np.testing.assert_allclose(quantiles[-1], 1.2815515655446004, rtol=1e-9)   # Phi^-1(0.9)
    assert z[0, 1] == quantiles[-1] and z[0, 0] == quantiles[0]                  # top-left: z_2 high, z_1 low
