"""What the demos share: saving a figure, and the command line every demo script offers."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import matplotlib.pyplot as plt


def save_figure(fig: plt.Figure, out_dir: str, name: str, quick: bool = False) -> str:
    """Save ``fig`` as ``out_dir/name`` (a smaller PNG for quick runs), close it and return the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=60 if quick else 100, bbox_inches="tight")
    plt.close(fig)
    return path


def demo_command_line(main: Callable[[str, bool], list[str]], description: str) -> None:
    """``python demos/secN_*.py [--out DIR] [--quick]``: run a demo's ``main`` and list its figures."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="demo_output", help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    for path in main(args.out, args.quick):
        print("wrote", path)


def digit_canvas(images, columns: int):
    """8x8 digits tiled in a grid of ``columns``, one blank (NaN) pixel between them, as one array."""
    import numpy as np

    images = np.asarray(images, dtype=float).reshape(-1, 8, 8)
    rows = int(np.ceil(len(images) / columns))
    canvas = np.full((rows * 9 + 1, columns * 9 + 1), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[1 + 9 * r:9 + 9 * r, 1 + 9 * c:9 + 9 * c] = image
    return canvas


def show_digits(ax, canvas, title: str = "") -> None:
    """Draw a ``digit_canvas`` (grey levels 0..16) on ``ax`` without ticks, with an optional small title."""
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=16, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8.5)


def budget_label(run: dict, quick: bool) -> str:
    """A demo run's training budget, labelled "demo budget" (beside the README's full run) or "quick".

    ``run`` holds ``train_config``, ``steps``, ``epochs``, ``n_batches`` (per epoch) and ``T``."""
    t = run["train_config"]
    done = f"{run['steps']} steps ({run['epochs']:.3g} epochs) of batch {t.batch_size}"
    if quick:
        return f"quick: {done}, T = {run['T']}, tiny network"
    return f"demo budget: {done}; the README trains {t.epochs} epochs ({t.epochs * run['n_batches']:,} steps)"


def digit_grid_figure(images, title: str = "", columns: int | None = None) -> plt.Figure:
    """A grid of 8x8 digits (grey levels 0..16, white on black as in the data set) in one figure."""
    import numpy as np

    images = np.asarray(images, dtype=float).reshape(-1, 8, 8)
    columns = columns or int(np.ceil(np.sqrt(len(images))))
    canvas = digit_canvas(images, columns)
    rows = (canvas.shape[0] - 1) // 9
    fig, ax = plt.subplots(figsize=(0.5 * columns + 0.5, 0.5 * rows + 0.7))
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=16, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def points_figure(samples, data=None, title: str = "") -> plt.Figure:
    """2-D samples (orange) over the data's points (grey), on equal axes."""
    import numpy as np

    samples = np.asarray(samples, dtype=float)
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    if data is not None:
        data = np.asarray(data, dtype=float)
        ax.scatter(data[:, 0], data[:, 1], s=3, c="0.65", label="data", linewidths=0)
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="tab:orange", label="samples", linewidths=0)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=3)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
