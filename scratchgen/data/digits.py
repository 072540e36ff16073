"""The 8x8 handwritten digits shipped with the package, and their fixed train/validation/test split.

1797 grey-scale images of 8x8 pixels, each pixel a count 0..16 (see ``DIGITS_LICENSE.md``). The split is
the one of Tomczak's "Deep Generative Modeling" code, so that test negative log-likelihoods (in nats) are
comparable with its published numbers: train = the first 1000 images, validation = the next 350,
test = the remaining 447.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

N_TRAIN, N_VALIDATION, N_TEST = 1000, 350, 447
N_PIXEL_VALUES = 17  # pixels take the values 0, 1, ..., 16
IMAGE_SHAPE = (8, 8)

_SPLITS = {
    "train": slice(0, N_TRAIN),
    "validation": slice(N_TRAIN, N_TRAIN + N_VALIDATION),
    "test": slice(N_TRAIN + N_VALIDATION, N_TRAIN + N_VALIDATION + N_TEST),
    "all": slice(None),
}


def load_digits(
    split: str = "all", flatten: bool = True, dtype: type = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split: ``"train"``, ``"validation"``, ``"test"`` or ``"all"``.

    Returns ``(X, y)``: ``X`` has shape (n, 64) if ``flatten`` else (n, 8, 8), values 0..16 as ``dtype``;
    ``y`` holds the digits 0..9 as int64.
    """
    if not isinstance(split, str) or split not in _SPLITS:
        raise ValueError(f"split must be one of {sorted(_SPLITS)}, got {split!r}")
    try:
        numeric = dtype is not None and np.dtype(dtype).kind in "fiu"
    except TypeError:
        numeric = False
    if not numeric:
        raise TypeError(f"dtype must be a NumPy integer or float type (e.g. np.float32), got {dtype!r}")
    path = resources.files(__package__).joinpath("digits.npz")
    with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
        images, labels = z["images"], z["labels"]
    images, labels = images[_SPLITS[split]], labels[_SPLITS[split]]
    X = images.reshape(len(images), -1) if flatten else images
    return X.astype(dtype), labels.astype(np.int64)
