"""The digits results table: test NLL (nats) of every model, mean and spread over seeds.

Not part of the tests. Trains each deep model with its default settings (exactly what
``scratchgen train MODEL --out DIR --seed S`` does), one run at a time so runs do not share the two cores,
and reads the metrics the command stored in ``DIR/model.npz``. The classical baselines
(``CategoricalMixture``, independent pixels) are fitted here too.

Usage: python bench/digits_nll.py [--models vae hvae] [--seeds 0 1 2] [--out runs/digits_nll]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scratchgen.data import load_digits
from scratchgen.density import CategoricalMixture
from scratchgen.training import load_checkpoint


def train(model: str, seed: int, out: Path) -> dict:
    """One ``scratchgen train`` run in its own process; its stored metrics plus the wall time."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "scratchgen.cli", "train", model, "--out", str(out), "--seed", str(seed),
               "--no-progress"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    metrics = load_checkpoint(out / "model.npz").metrics
    return metrics | {"seconds": time.perf_counter() - start}


def baselines() -> list[tuple[str, float, float]]:
    """(name, validation NLL, test NLL) of the classical models (alpha = 0.1, as in the README)."""
    train_x, _ = load_digits("train")
    validation_x, _ = load_digits("validation")
    test_x, _ = load_digits("test")
    rows = []
    for K in (1, 10):
        model = CategoricalMixture(K, n_categories=17, alpha=0.1, seed=0).fit(train_x)
        name = "independent pixels (K=1)" if K == 1 else f"CategoricalMixture K={K}"
        rows.append((name, -model.score(validation_x), -model.score(test_x)))
    return rows


def spread(values: list[float]) -> str:
    v = np.asarray(values)
    return f"{v.mean():.2f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.2f} ({v.min():.2f}-{v.max():.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["vae", "hvae"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="runs/digits_nll")
    args = parser.parse_args()
    print("| model | test NLL (IWAE k=1000) | test -ELBO | best epoch | train + eval time |")
    print("|---|---|---|---|---|")
    for model in args.models:
        runs = [train(model, seed, Path(args.out) / f"{model}-seed{seed}") for seed in args.seeds]
        for seed, run in zip(args.seeds, runs):
            print(f"<!-- {model} seed {seed}: NLL {run['test_nll']:.3f}, -ELBO {run['test_neg_elbo']:.3f}, "
                  f"epoch {run['best_epoch']}, {run['seconds']:.0f} s -->", flush=True)
        print(f"| {model} | {spread([r['test_nll'] for r in runs])} | {spread([r['test_neg_elbo'] for r in runs])} "
              f"| {spread([r['best_epoch'] for r in runs])} | {spread([r['seconds'] for r in runs])} s |", flush=True)
    for name, validation, test in baselines():
        print(f"| {name} | {test:.2f} (exact; validation {validation:.2f}) | | | |")


if __name__ == "__main__":
    main()
