"""What the demos share: saving a figure, and the command line every demo script offers."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from scratchgen._checks import check_callable, check_count, check_finite_array, check_real_array


def _check_path(value: Any, name: str) -> None:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (a str or os.PathLike), got {type(value).__name__}")


def _digits(images: Any, name: str = "images") -> np.ndarray:
    """8x8 digits as finite (n, 8, 8): accepts (n, 8, 8), (n, 64), one (8, 8) or one (64,) (any grey scale: the
    forward process's noisy digits leave 0..16)."""
    images = check_finite_array(images, name)
    if not (images.shape in ((8, 8), (64,)) or (images.ndim == 2 and images.shape[1] == 64)
            or (images.ndim == 3 and images.shape[1:] == (8, 8))):
        raise ValueError(f"{name} must be 8x8 digits shaped (n, 8, 8) or (n, 64), got shape {images.shape}")
    return images.reshape(-1, 8, 8)


def _points(points: Any, name: str) -> np.ndarray:
    points = check_finite_array(points, name, ndim=2)
    if points.shape[1] != 2:
        raise ValueError(f"{name} must be 2-D points shaped (n, 2), got shape {points.shape}")
    return points


def save_figure(fig: plt.Figure, out_dir: str, name: str, quick: bool = False) -> str:
    """Save ``fig`` as ``out_dir/name`` (a smaller PNG for quick runs), close it and return the path."""
    if not isinstance(fig, plt.Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    _check_path(out_dir, "out_dir")
    _check_path(name, "name")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=60 if quick else 100, bbox_inches="tight")
    plt.close(fig)
    return path


def demo_command_line(main: Callable[[str, bool], list[str]], description: str) -> None:
    """``python demos/secN_*.py [--out DIR] [--quick]``: run a demo's ``main`` and list its figures."""
    check_callable(main, "main")
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="demo_output", help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    for path in main(args.out, args.quick):
        print("wrote", path)


def digit_canvas(images, columns: int):
    """8x8 digits tiled in a grid of ``columns``, one blank (NaN) pixel between them, as one array."""
    images, columns = _digits(images), check_count(columns, "columns")
    rows = int(np.ceil(len(images) / columns))
    canvas = np.full((rows * 9 + 1, columns * 9 + 1), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[1 + 9 * r:9 + 9 * r, 1 + 9 * c:9 + 9 * c] = image
    return canvas


def show_digits(ax, canvas, title: str = "") -> None:
    """Draw a ``digit_canvas`` (grey levels 0..16) on ``ax`` without ticks, with an optional small title."""
    if not hasattr(ax, "imshow"):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    canvas = check_real_array(canvas, "canvas")  # NaN allowed: the blank pixels between digits
    if canvas.ndim != 2:
        raise ValueError(f"canvas must be a 2-D array (a digit_canvas), got shape {canvas.shape}")
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=16, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8.5)


def budget_label(run: dict, quick: bool) -> str:
    """A demo run's training budget, labelled "demo budget" (beside the README's full run) or "quick".

    ``run`` holds ``train_config``, ``steps``, ``epochs``, ``n_batches`` (per epoch) and ``T``."""
    if not isinstance(run, dict):
        raise TypeError(f"run must be a dict, got {type(run).__name__}")
    missing = sorted({"train_config", "steps", "epochs", "n_batches", "T"} - set(run))
    if missing:
        raise ValueError(f"run lacks {missing}")
    t = run["train_config"]
    done = f"{run['steps']} steps ({run['epochs']:.3g} epochs) of batch {t.batch_size}"
    if quick:
        return f"quick: {done}, T = {run['T']}, tiny network"
    return f"demo budget: {done}; the README trains {t.epochs} epochs ({t.epochs * run['n_batches']:,} steps)"


def digit_grid_figure(images, title: str = "", columns: int | None = None) -> plt.Figure:
    """A grid of 8x8 digits (grey levels 0..16, white on black as in the data set) in one figure."""
    images = _digits(images)
    columns = int(np.ceil(np.sqrt(len(images)))) if columns is None else check_count(columns, "columns")
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
    samples = _points(samples, "samples")
    data = None if data is None else _points(data, "data")
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=3, c="0.65", label="data", linewidths=0)
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="tab:orange", label="samples", linewidths=0)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=3)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
