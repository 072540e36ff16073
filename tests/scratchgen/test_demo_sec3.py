"""Smoke test: the section-3 demo (GMM by EM, KDE, sampling, curse of dimensionality) runs and saves PNGs."""
import importlib.util
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec3_density.py"


def test_sec3_demo_quick(tmp_path):
    spec = importlib.util.spec_from_file_location("sec3_density", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main(out_dir=str(tmp_path), quick=True)
    assert len(figures) == 4
    for figure in figures:
        path = Path(figure)
        assert path.parent == tmp_path and path.suffix == ".png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_curse_of_dimensionality_hurts_the_kde_more():
    spec = importlib.util.spec_from_file_location("sec3_density", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gaps = module.curse_of_dimensionality([1, 16], n_train=300, n_test=500)
    gmm, kde = gaps["GMM (K = 2, full)"], gaps["KDE (cv bandwidth)"]
    assert kde[1] > kde[0] + 0.04          # the KDE's per-dimension gap grows with d ...
    assert kde[1] > gmm[1]                 # ... faster than the (well-specified) mixture's
