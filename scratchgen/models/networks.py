"""The networks the models share: an MLP, a small conv encoder and a transposed-conv decoder for 8x8 images.

Only engine layers and ops appear here (no NumPy on ``tensor.data`` inside a forward), so the same
networks run on any array namespace the engine supports. The models' mathematics (ELBO, GAN losses,
noise schedules) lives in the model files; these are interchangeable function approximators.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_lite import Tensor, nn

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "gelu": nn.GELU,
    "softplus": nn.Softplus,
}


def activation_layer(name: str) -> nn.Module:
    """A fresh activation module by name (one of ``ACTIVATIONS``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    """x -> Linear -> act -> ... -> Linear: ``sizes = (in, hidden..., out)``; no activation after the last layer.

    ``dropout`` > 0 puts a Dropout after each hidden activation (the regulariser a 1000-image training set
    needs); it draws from ``dropout_rng`` (the training loop hands every Dropout its own generator).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0,
                 rng: np.random.Generator | int | None = None, dtype: Any = None):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP sizes must be at least (in, out), all positive; got {sizes}")
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out, rng=rng, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(activation_layer(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout, rng=rng))
        self.sizes = tuple(sizes)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)

    def extra_repr(self) -> str:
        return "-".join(str(s) for s in self.sizes)


class ConvEncoder(nn.Module):
    """(N, C, 8, 8) -> (N, out_features): conv 3x3 (8x8) -> act -> conv 4x4 stride 2 (4x4) -> act -> Linear."""

    def __init__(self, out_features: int, in_channels: int = 1, channels: Sequence[int] = (32, 64),
                 image_size: int = 8, activation: str = "relu", rng: np.random.Generator | int | None = None,
                 dtype: Any = None):
        super().__init__()
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        c1, c2 = channels
        if image_size % 2:
            raise ValueError(f"ConvEncoder needs an even image size, got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, rng=rng, dtype=dtype), activation_layer(activation),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1, rng=rng, dtype=dtype), activation_layer(activation),
            nn.Flatten(),
        )
        self.head = nn.Linear(c2 * (image_size // 2) ** 2, out_features, rng=rng, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """(N, in_features) -> (N, out_channels, 8, 8): Linear to (C, 4, 4) -> act -> transposed conv 4x4 stride 2
    (8x8) -> act -> conv 3x3 to ``out_channels`` (e.g. 17 logits a pixel for the categorical likelihood)."""

    def __init__(self, in_features: int, out_channels: int, channels: Sequence[int] = (64, 32),
                 image_size: int = 8, activation: str = "relu", rng: np.random.Generator | int | None = None,
                 dtype: Any = None):
        super().__init__()
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        c1, c2 = channels
        self.c1, self.half = c1, image_size // 2
        self.project = nn.Sequential(nn.Linear(in_features, c1 * self.half ** 2, rng=rng, dtype=dtype),
                                     activation_layer(activation))
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1, rng=rng, dtype=dtype), activation_layer(activation),
            nn.Conv2d(c2, out_channels, 3, padding=1, rng=rng, dtype=dtype),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.project(z).reshape(z.shape[0], self.c1, self.half, self.half)
        return self.upsample(h)
