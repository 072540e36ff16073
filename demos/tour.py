"""The demo tour: runs every lecture-section demo in order and saves its figures.

Each ``demos/secN_*.py`` script is standalone (``python demos/sec2_sampling.py``) and exposes
``main(out_dir, quick=False) -> list[str]`` (the paths of the figures it saved). The tour runs them in
lecture order; Ctrl-C stops it between (or inside) demos, keeping what was already written.

Usage: ``python demos/tour.py [--out demo_output] [--quick] [--only sec2]``
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DEMO_DIR = Path(__file__).resolve().parent


def discover_demos(only: str | None = None) -> list[Path]:
    """The section demos in lecture order (their file names start with secN_)."""
    demos = sorted(DEMO_DIR.glob("sec*_*.py"))
    return [d for d in demos if only is None or d.stem.startswith(only)]


def run_demo(path: Path, out_dir: Path, quick: bool) -> list[str]:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(out_dir=str(out_dir), quick=quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output", help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", default=None, help="run only demos whose name starts with this")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    demos = discover_demos(args.only)
    if not demos:
        print("no demos found", file=sys.stderr)
        return 1
    try:
        for i, path in enumerate(demos, 1):
            start = time.perf_counter()
            print(f"[{i}/{len(demos)}] {path.stem} ...", flush=True)
            figures = run_demo(path, out_dir, args.quick)
            for figure in figures:
                print(f"    wrote {figure}")
            print(f"    done in {time.perf_counter() - start:.1f} s", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: figures written so far are in", out_dir, file=sys.stderr)
        return 130
    print(f"all {len(demos)} demos done; figures in {out_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
