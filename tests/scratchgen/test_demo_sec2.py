"""Smoke test: the section-2 demo runs quickly and writes its figures."""
import importlib.util
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sec2_sampling.py"


def test_sec2_demo_writes_its_figures(tmp_path):
    spec = importlib.util.spec_from_file_location("sec2_sampling", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = module.main(str(tmp_path), quick=True)
    assert len(paths) == 6
    for path in paths:
        assert Path(path).parent == tmp_path
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert Path(path).stat().st_size > 10_000
