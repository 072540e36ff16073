"""The GAN's and the DDPM's results tables, mean and spread over seeds.

GAN (``--model gan``): modes covered and high-quality samples on the ring and the grid, the lecture's minimax
loss beside the default, the digits' Frechet digit distance and Parzen log-likelihood. DDPM (``--model
ddpm``): the swiss roll's Chamfer distances (ancestral, DDIM 50, the floor), the ring's and grid's modes,
the digits' test NLL bound and Frechet digit distance; ``digits:conditional`` the class-conditional model's
guidance and inverse-problem metrics (``train ddpm --data digits --conditional``).

Not part of the tests. Each run is exactly ``scratchgen train MODEL --data DATA --seed S [--loss LOSS]``
(the README's default settings), one at a time so runs do not share the two cores; the metrics are the
ones the command stored in ``DIR/model.npz`` (``scratchgen evaluate`` prints the same). The time is the
whole command's (training and the test evaluation).

Usage: python bench/results.py [--model gan|ddpm] [--runs ring grid ring:minimax digits digits:conditional]
[--seeds 0 1 2 3 4] [--out runs/MODEL]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scratchgen.training import load_checkpoint

COLUMNS = {  # (model, kind of data) -> the metrics of its table
    ("gan", "points"): ("modes_covered", "high_quality", "reverse_kl", "mmd"),
    ("gan", "digits"): ("frechet_digit_distance", "frechet_digit_distance_real", "parzen_log_likelihood",
                        "parzen_log_likelihood_real"),
    ("ddpm", "points"): ("chamfer", "chamfer_ddim50", "chamfer_floor", "modes_covered", "high_quality"),
    ("ddpm", "digits"): ("test_nll_bound", "frechet_digit_distance", "frechet_digit_distance_real"),
    ("ddpm", "conditional"): ("guided_accuracy", "inpaint_accuracy", "inpaint_accuracy_repaint", "superres_psnr",
                              "superres_psnr_bilinear", "superres_psnr_nearest", "deblur_psnr",
                              "deblur_psnr_observed", "restore_inpaint_seconds", "restore_superres_seconds",
                              "restore_deblur_seconds"),
}
DEFAULT_RUNS = {"gan": ["ring", "grid", "ring:minimax", "digits"], "ddpm": ["swiss_roll", "ring", "grid", "digits"]}


def train(model: str, data: str, variant: str | None, seed: int, out: Path) -> dict:
    """One ``scratchgen train MODEL`` run in its own process: its stored metrics plus the wall time. The variant
    is the GAN's loss, or ``conditional`` for the class-conditional DDPM."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "scratchgen.cli", "train", model, "--data", data, "--out", str(out),
               "--seed", str(seed), "--no-progress"]
    if variant == "conditional":
        command.append("--conditional")
    elif variant:
        command += ["--loss", variant]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    run = load_checkpoint(out / "model.npz").metrics | {"seconds": time.perf_counter() - start}
    if variant == "conditional":
        run |= restore_seconds(out / "model.npz", out)
    return run


def restore_seconds(checkpoint: Path, out: Path, n: int = 64) -> dict:
    """The wall time of ``scratchgen restore CKPT --task T --n 64`` (the whole command, DPS) for every task."""
    seconds = {}
    for task in ("inpaint", "superres", "deblur"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scratchgen.cli", "restore", str(checkpoint), "--task", task,
                        "--n", str(n), "--out", str(out / f"restore-{task}.npz")], check=True,
                       stdout=subprocess.DEVNULL)
        seconds[f"restore_{task}_seconds"] = time.perf_counter() - start
    return seconds


def spread(values: list[float]) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3g} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.2g} ({v.min():.3g}-{v.max():.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("gan", "ddpm"), default="gan")
    parser.add_argument("--runs", nargs="+", help="DATA, DATA:LOSS (the GAN's loss) or digits:conditional (DDPM)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", help="where the runs go (default runs/MODEL)")
    args = parser.parse_args()
    for spec in args.runs or DEFAULT_RUNS[args.model]:
        data, _, loss = spec.partition(":")
        kind = "conditional" if loss == "conditional" else "digits" if data == "digits" else "points"
        columns = COLUMNS[args.model, kind]
        name = f"{data}-{loss or 'default'}"
        runs, out = [], Path(args.out or f"runs/{args.model}")
        for seed in args.seeds:
            run = train(args.model, data, loss or None, seed, out / f"{name}-seed{seed}")
            runs.append(run)
            print(f"<!-- {name} seed {seed}: " + ", ".join(f"{c} {run[c]:.4g}" for c in columns if c in run)
                  + f", {run['seconds']:.0f} s -->", flush=True)
        print(f"| {name} | " + " | ".join(spread([r[c] for r in runs]) for c in columns if c in runs[0])
              + f" | {spread([r['seconds'] for r in runs])} s |", flush=True)


if __name__ == "__main__":
    main()
