"""The GAN results table: modes covered and high-quality samples on the ring and the grid, the lecture's
minimax loss beside the default, and the digits' Frechet digit distance and Parzen log-likelihood;
mean and spread over seeds.

Not part of the tests. Each run is exactly ``scratchgen train gan --data DATA --seed S [--loss LOSS]``
(the README's default settings), one at a time so runs do not share the two cores; the metrics are the
ones the command stored in ``DIR/model.npz`` (``scratchgen evaluate`` prints the same).

Usage: python bench/gan_modes.py [--runs ring grid ring:minimax digits] [--seeds 0 1 2 3 4] [--out runs/gan]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scratchgen.training import load_checkpoint

COLUMNS = {
    "points": ("modes_covered", "high_quality", "reverse_kl", "mmd"),
    "digits": ("frechet_digit_distance", "frechet_digit_distance_real", "parzen_log_likelihood",
               "parzen_log_likelihood_real"),
}


def train(data: str, loss: str | None, seed: int, out: Path) -> dict:
    """One ``scratchgen train gan`` run in its own process: its stored metrics plus the wall time."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "scratchgen.cli", "train", "gan", "--data", data, "--out", str(out),
               "--seed", str(seed), "--no-progress"] + (["--loss", loss] if loss else [])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return load_checkpoint(out / "model.npz").metrics | {"seconds": time.perf_counter() - start}


def spread(values: list[float]) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3g} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.2g} ({v.min():.3g}-{v.max():.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["ring", "grid", "ring:minimax", "digits"],
                        help="DATA or DATA:LOSS")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", default="runs/gan")
    args = parser.parse_args()
    for spec in args.runs:
        data, _, loss = spec.partition(":")
        columns = COLUMNS["digits" if data == "digits" else "points"]
        name = f"{data}-{loss or 'default'}"
        runs = []
        for seed in args.seeds:
            run = train(data, loss or None, seed, Path(args.out) / f"{name}-seed{seed}")
            runs.append(run)
            print(f"<!-- {name} seed {seed}: " + ", ".join(f"{c} {run[c]:.4g}" for c in columns if c in run)
                  + f", {run['seconds']:.0f} s -->", flush=True)
        print(f"| {name} | " + " | ".join(spread([r[c] for r in runs]) for c in columns if c in runs[0])
              + f" | {spread([r['seconds'] for r in runs])} s |", flush=True)


if __name__ == "__main__":
    main()
