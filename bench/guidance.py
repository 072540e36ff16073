"""The guidance sweep of a class-conditional digits DDPM: for w = 0 .. 4, how often the metrics classifier
reads each sample as its intended digit, and the Frechet digit distance of the samples to the test digits.

w = 0 is the unconditional model, w = 1 the conditional one; larger w trades diversity (Frechet distance)
for fidelity to the label (accuracy). 50 samples of every label, DDIM with 100 steps (eta 0), seed 0.

Usage: python bench/guidance.py CKPT [--weights 0 0.5 1 2 3 4] [--per-label 50] [--figure sweep.png]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from scratchgen import metrics
from scratchgen.data import load_digits
from scratchgen.training import load_checkpoint


def sweep(model, weights: list[float], per_label: int, seed: int = 0) -> list[dict]:
    labels = np.repeat(np.arange(model.config.num_classes), per_label)
    test = load_digits("test")[0]
    rows = []
    for w in weights:
        start = time.perf_counter()
        steps = min(100, model.schedule.T)
        samples = model.sample(len(labels), np.random.default_rng(seed), sampler="ddim", steps=steps,
                               labels=labels, guidance=w).reshape(-1, 64)
        rows.append({"w": w, "accuracy": metrics.conditional_accuracy(samples, labels),
                     "frechet": metrics.frechet_digit_distance(samples, test), "samples": samples,
                     "seconds": time.perf_counter() - start})
        print(f"| {w:g} | {rows[-1]['accuracy']:.1%} | {rows[-1]['frechet']:.2f} | {rows[-1]['seconds']:.0f} s |",
              flush=True)
    return rows


def figure(rows: list[dict], path: str, per_label: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scratchgen.plotting import digit_canvas

    fig = plt.figure(figsize=(3 + 2.2 * len(rows), 5.2))
    grid = fig.add_gridspec(2, len(rows), height_ratios=[1.6, 1])
    for i, row in enumerate(rows):  # the first 6 samples of every digit, one column per digit
        images = row["samples"].reshape(10, per_label, 8, 8)[:, :6].transpose(1, 0, 2, 3).reshape(-1, 8, 8)
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(digit_canvas(images, 10), cmap="gray", vmin=0, vmax=16)
        ax.set_title(f"w = {row['w']:g}\naccuracy {row['accuracy']:.0%}, Frechet {row['frechet']:.1f}", fontsize=9)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    w = [r["w"] for r in rows]
    ax.plot(w, [r["accuracy"] for r in rows], "o-", color="C0", label="accuracy (intended digit)")
    ax.set_xlabel("guidance weight w (0: unconditional, 1: conditional)")
    ax.set_ylabel("accuracy", color="C0")
    twin = ax.twinx()
    twin.plot(w, [r["frechet"] for r in rows], "s--", color="C1", label="Frechet digit distance")
    twin.set_ylabel("Frechet digit distance", color="C1")
    fig.suptitle("classifier-free guidance: fidelity to the label against diversity", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--weights", nargs="+", type=float, default=[0, 0.5, 1, 2, 3, 4])
    parser.add_argument("--per-label", type=int, default=50)
    parser.add_argument("--figure", help="write the sweep's figure to this PNG")
    args = parser.parse_args()
    model = load_checkpoint(args.checkpoint).model
    if not model.conditional:
        raise SystemExit("bench/guidance.py needs a class-conditional ddpm (scratchgen train ddpm --conditional)")
    print("| w | accuracy | Frechet digit distance | time |\n|---|---|---|---|")
    rows = sweep(model, args.weights, args.per_label)
    if args.figure:
        figure(rows, args.figure, args.per_label)


if __name__ == "__main__":
    main()
