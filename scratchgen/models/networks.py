"""The networks the models share: an MLP, a small conv encoder and a transposed-conv decoder for 8x8 images.

Only engine layers and ops appear here (no NumPy on ``tensor.data`` inside a forward), so the same
networks run on any array namespace the engine supports. The models' mathematics (ELBO, GAN losses,
noise schedules) lives in the model files; these are interchangeable function approximators.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_lite import Tensor, backend, nn, ops
from scratchgen._checks import as_generator, check_choice, check_count, check_fraction
from scratchgen.models.data_config import as_real_array, check_sizes

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "gelu": nn.GELU,
    "softplus": nn.Softplus,
}


def activation_layer(name: str) -> nn.Module:
    """A fresh activation module by name (one of ``ACTIVATIONS``)."""
    return ACTIVATIONS[check_choice(name, "activation", tuple(sorted(ACTIVATIONS)))]()


def network_input(module: nn.Module, x: Any, name: str) -> Tensor:
    """A network's input: a Tensor as is; host data (real numbers only, refused by name) as a Tensor beside
    the module's weights."""
    if isinstance(x, Tensor):
        return x
    weight = next(module.parameters())
    return Tensor(as_real_array(x, name), dtype=weight.dtype, device=weight.device)


class MLP(nn.Module):
    """x -> Linear -> act -> ... -> Linear: ``sizes = (in, hidden..., out)``; no activation after the last layer.

    ``dropout`` > 0 puts a Dropout after each hidden activation (the regulariser a 1000-image training set
    needs); it draws from ``dropout_rng`` (the training loop hands every Dropout its own generator).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0,
                 rng: np.random.Generator | int | None = None, dtype: Any = None):
        super().__init__()
        sizes = check_sizes(sizes, "sizes", min_length=2)
        dropout = check_fraction(dropout, "dropout")
        rng = as_generator(rng, "rng")
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
        x = network_input(self, x, "x")
        if x.ndim < 1 or x.shape[-1] != self.sizes[0]:
            raise ValueError(f"x must be shaped (..., {self.sizes[0]}), got {tuple(x.shape)}")
        return self.layers(x)

    def extra_repr(self) -> str:
        return "-".join(str(s) for s in self.sizes)


class ConvEncoder(nn.Module):
    """(N, C, 8, 8) -> (N, out_features): conv 3x3 (8x8) -> act -> conv 4x4 stride 2 (4x4) -> act -> Linear."""

    def __init__(self, out_features: int, in_channels: int = 1, channels: Sequence[int] = (32, 64),
                 image_size: int = 8, activation: str = "relu", rng: np.random.Generator | int | None = None,
                 dtype: Any = None):
        super().__init__()
        out_features, in_channels = check_count(out_features, "out_features"), check_count(in_channels, "in_channels")
        c1, c2 = check_sizes(channels, "channels", length=2)
        image_size = _check_image_size(image_size)
        activation_layer(activation)  # refused here, before any weight is drawn
        rng = as_generator(rng, "rng")
        self.input_shape = (in_channels, image_size, image_size)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, rng=rng, dtype=dtype), activation_layer(activation),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1, rng=rng, dtype=dtype), activation_layer(activation),
            nn.Flatten(),
        )
        self.head = nn.Linear(c2 * (image_size // 2) ** 2, out_features, rng=rng, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        x = network_input(self, x, "x")
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"x must be shaped (N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}")
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """(N, in_features) -> (N, out_channels, 8, 8): Linear to (C, 4, 4) -> act -> transposed conv 4x4 stride 2
    (8x8) -> act -> conv 3x3 to ``out_channels`` (e.g. 17 logits a pixel for the categorical likelihood)."""

    def __init__(self, in_features: int, out_channels: int, channels: Sequence[int] = (64, 32),
                 image_size: int = 8, activation: str = "relu", rng: np.random.Generator | int | None = None,
                 dtype: Any = None):
        super().__init__()
        in_features, out_channels = check_count(in_features, "in_features"), check_count(out_channels, "out_channels")
        c1, c2 = check_sizes(channels, "channels", length=2)
        image_size = _check_image_size(image_size)
        activation_layer(activation)
        rng = as_generator(rng, "rng")
        self.in_features = in_features
        self.c1, self.half = c1, image_size // 2
        self.project = nn.Sequential(nn.Linear(in_features, c1 * self.half ** 2, rng=rng, dtype=dtype),
                                     activation_layer(activation))
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1, rng=rng, dtype=dtype), activation_layer(activation),
            nn.Conv2d(c2, out_channels, 3, padding=1, rng=rng, dtype=dtype),
        )

    def forward(self, z: Tensor) -> Tensor:
        z = network_input(self, z, "z")
        if z.ndim != 2 or z.shape[1] != self.in_features:
            raise ValueError(f"z must be shaped (N, {self.in_features}), got {tuple(z.shape)}")
        h = self.project(z).reshape(z.shape[0], self.c1, self.half, self.half)
        return self.upsample(h)


class OnDevice:
    """Where a model's weights live, for the models built on ``nn.Module``: ``dtype`` (a NumPy dtype, whatever
    the array namespace), ``device`` ('cpu', 'cuda', 'array_api_strict'), and ``constant(values)``, host data
    (noise drawn with the caller's generator, schedules, masks) as a Tensor beside the weights. Moving the
    model with ``.to(device)`` moves everything it makes: the same seed gives the same numbers everywhere."""

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(backend.dtype_name(next(self.parameters()).dtype))

    @property
    def device(self) -> str:
        return next(self.parameters()).device

    def constant(self, values: Any) -> Tensor:
        if not isinstance(values, Tensor):
            values = as_real_array(values, "values")
        return Tensor(values, dtype=self.dtype, device=self.device)


def _check_image_size(image_size: Any) -> int:
    image_size = check_count(image_size, "image_size", minimum=2)
    if image_size % 2:
        raise ValueError(f"image_size must be even (a stride-2 layer halves it), got {image_size}")
    return image_size


# ----- the denoisers of the diffusion model: networks of (x_t, t) -------------------------------------------
def sinusoidal_embedding(t: Any, dim: int, max_period: float = 10_000.0, dtype: Any = np.float32,
                         device: str | None = None) -> Tensor:
    """The Transformer's position code for the timestep t (Vaswani et al. 2017; DDPM uses it for t):
    e(t) = [sin(t w_0), ..., sin(t w_{h-1}), cos(t w_0), ..., cos(t w_{h-1})], w_i = max_period^(-i / h),
    h = dim / 2. Smooth in t, one frequency per pair of features, from one cycle per step to ~1/max_period."""
    if dim < 2 or dim % 2:
        raise ValueError(f"the time embedding needs an even dim >= 2, got {dim}")
    half = dim // 2
    frequencies = max_period ** (-np.arange(half) / half)
    angles = np.asarray(t, dtype=np.float64).reshape(-1, 1) * frequencies
    return Tensor(np.concatenate([np.sin(angles), np.cos(angles)], axis=1), dtype=dtype, device=device)


class TimeEmbedding(nn.Module):
    """t -> sinusoidal_embedding(t) -> Linear -> SiLU -> Linear: a learned code of the noise level."""

    def __init__(self, dim: int, rng: np.random.Generator, dtype: Any = None):
        super().__init__()
        self.dim = dim
        self.first = nn.Linear(dim, dim, rng=rng, dtype=dtype)
        self.second = nn.Linear(dim, dim, rng=rng, dtype=dtype)
        self.act = nn.SiLU()

    def forward(self, t: Any) -> Tensor:
        code = sinusoidal_embedding(t, self.dim, dtype=self.first.weight.dtype, device=self.first.weight.device)
        return self.second(self.act(self.first(code)))


class LabelEmbedding(nn.Module):
    """A learned vector per class label, plus one for "no label" (index ``num_classes``, the null label of
    classifier-free guidance); added to the time embedding, so every block sees (t, label)."""

    def __init__(self, num_classes: int, dim: int, rng: np.random.Generator, dtype: Any = None):
        super().__init__()
        self.num_classes = int(num_classes)
        self.table = nn.Embedding(self.num_classes + 1, dim, rng=rng, dtype=dtype)
        self.table.weight.data *= 0.1  # start small beside the time code

    def forward(self, labels: Any) -> Tensor:
        given = np.asarray(labels)
        if given.dtype.kind == "f" and not np.all(given == np.round(given)):  # 1.7 is no class: never truncate it
            raise ValueError(f"labels must be whole numbers (class indices 0..{self.num_classes}), got {labels!r}")
        return self.table(given.astype(np.int64))


def _condition(time_code: Tensor, label: LabelEmbedding | None, labels: Any) -> Tensor:
    """e(t) + e(label) for a conditional network (labels None: the null label); e(t) for an unconditional one."""
    if label is None:
        if labels is not None:
            raise ValueError("this network is unconditional: it takes no labels")
        return time_code
    if labels is None:
        labels = np.full(time_code.shape[0], label.num_classes)
    return time_code + label(labels)


def _conditioning(time: TimeEmbedding, label: LabelEmbedding | None, t: Any, labels: Any, act: nn.Module) -> Tensor:
    """SiLU(e(t) [+ e(label)]), the code every layer of a denoiser reads, computed once per distinct
    (t, label): a sampler's batch shares one t, so its code is a single row that broadcasts over the batch
    (the time path is 6 of the ``TimeMLP``'s 10 GEMMs); a batch with fewer than half its rows distinct (the
    guided sampler's labels) gathers them. A training batch, whose t are mostly distinct, takes the plain path."""
    if label is None and labels is not None:
        raise ValueError("this network is unconditional: it takes no labels")
    t_rows = np.asarray(t).reshape(-1)
    keys = t_rows.reshape(-1, 1)
    if label is not None and labels is not None:
        label_rows = np.asarray(labels).reshape(-1)
        if label_rows.shape != t_rows.shape:  # let the plain path report (or broadcast) the mismatch
            return act(_condition(time(t), label, labels))
        keys = np.column_stack([t_rows, label_rows])
    if len(keys) > 1 and keys.dtype != object:
        if np.all(keys == keys[0]):  # the sampler's case, without np.unique's sort
            return act(_condition(time(keys[:1, 0]), label, None if keys.shape[1] == 1 else keys[:1, 1]))
        distinct, rows = np.unique(keys, axis=0, return_inverse=True)
        if len(distinct) <= len(keys) // 2:
            code = act(_condition(time(distinct[:, 0]), label, None if keys.shape[1] == 1 else distinct[:, 1]))
            return code if len(distinct) == 1 else code[rows.reshape(-1)]
    return act(_condition(time(t), label, labels))


class TimeMLP(nn.Module):
    """eps_theta(x_t, t) for 2-D points: h_0 = W_in x; h_l = SiLU(W_l h_{l-1} + U_l e(t)); out = W_out h_L.

    Every hidden layer gets its own projection U_l of the time embedding e(t), so each layer knows the noise
    level (the 2-D denoiser must change its shape completely between t = 1 and t = T)."""

    def __init__(self, data_dim: int = 2, hidden: Sequence[int] = (128, 128, 128, 128), time_dim: int = 128,
                 rng: np.random.Generator | int | None = None, dtype: Any = None, out_dim: int | None = None,
                 num_classes: int = 0):
        super().__init__()
        rng = as_generator(rng, "rng")
        hidden = [int(h) for h in hidden]
        if not hidden or min(hidden) < 1:
            raise ValueError(f"hidden must be non-empty positive widths, got {hidden}")
        self.time = TimeEmbedding(time_dim, rng, dtype)
        self.label = LabelEmbedding(num_classes, time_dim, rng, dtype) if num_classes else None
        self.inp = nn.Linear(data_dim, hidden[0], rng=rng, dtype=dtype)
        self.layers = [nn.Linear(a, b, rng=rng, dtype=dtype) for a, b in zip(hidden[:1] + hidden[:-1], hidden)]
        self.time_proj = [nn.Linear(time_dim, h, rng=rng, dtype=dtype) for h in hidden]
        for i, (layer, proj) in enumerate(zip(self.layers, self.time_proj)):
            setattr(self, f"layer{i}", layer)
            setattr(self, f"time_proj{i}", proj)
        self.out = nn.Linear(hidden[-1], data_dim if out_dim is None else out_dim, rng=rng, dtype=dtype)
        nn.init.zeros_(self.out.weight)  # start as eps_theta = 0: the loss starts at E|eps|^2 = d
        self.act = nn.SiLU()

    def forward(self, x: Tensor, t: Any, labels: Any = None) -> Tensor:
        e = _conditioning(self.time, self.label, t, labels, self.act)
        h = self.inp(x)
        for layer, proj in zip(self.layers, self.time_proj):
            code = proj(e)
            if code.shape[0] == 1:  # a sampler's batch shares t: add U_l e(t) to the bias, on one row
                h = self.act(ops.linear(h, layer.weight, layer.bias + code.reshape(-1)))
            else:
                h = self.act(layer(h) + code)
        return self.out(h)


class ResidualBlock(nn.Module):
    """x -> GN -> SiLU -> conv3x3 -> (+ Linear(e(t)) per channel) -> GN -> SiLU -> conv3x3, plus x (1x1 conv
    when the channel count changes): the DDPM U-Net's block, with the timestep added between the convs."""

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int, rng: np.random.Generator,
                 dtype: Any = None):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, c_in), c_in, dtype=dtype)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, rng=rng, dtype=dtype)
        self.time = nn.Linear(time_dim, c_out, rng=rng, dtype=dtype)
        self.norm2 = nn.GroupNorm(min(groups, c_out), c_out, dtype=dtype)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, rng=rng, dtype=dtype)
        self.skip = nn.Conv2d(c_in, c_out, 1, rng=rng, dtype=dtype) if c_in != c_out else None
        self.act = nn.SiLU()

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = h + self.time(e).reshape(e.shape[0], -1, 1, 1)
        h = self.conv2(self.act(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class UNet(nn.Module):
    """eps_theta(x_t, t) for (N, C, 8, 8) images: a U-Net with one down/up level and a skip connection.

        8x8:  conv3x3 (C) -> ResBlock(C)                         ---- skip ----+
        4x4:  conv4x4 stride 2 (2C) -> ResBlock(2C) -> ResBlock(2C)            |
        8x8:  transposed conv4x4 stride 2 (C) -> concat skip (2C) -> ResBlock(C) -> GN -> SiLU -> conv3x3

    The timestep enters every ResBlock (see ``ResidualBlock``). The last conv starts at zero (eps_theta = 0).
    """

    def __init__(self, in_channels: int = 1, channels: int = 32, time_dim: int = 128, groups: int = 8,
                 out_channels: int | None = None, rng: np.random.Generator | int | None = None, dtype: Any = None,
                 num_classes: int = 0):
        super().__init__()
        rng = as_generator(rng, "rng")
        c = int(channels)
        out_channels = in_channels if out_channels is None else out_channels
        self.time = TimeEmbedding(time_dim, rng, dtype)
        self.label = LabelEmbedding(num_classes, time_dim, rng, dtype) if num_classes else None
        self.inp = nn.Conv2d(in_channels, c, 3, padding=1, rng=rng, dtype=dtype)
        self.block_high = ResidualBlock(c, c, time_dim, groups, rng, dtype)
        self.down = nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, rng=rng, dtype=dtype)
        self.block_low1 = ResidualBlock(2 * c, 2 * c, time_dim, groups, rng, dtype)
        self.block_low2 = ResidualBlock(2 * c, 2 * c, time_dim, groups, rng, dtype)
        self.up = nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1, rng=rng, dtype=dtype)
        self.block_out = ResidualBlock(2 * c, c, time_dim, groups, rng, dtype)
        self.norm_out = nn.GroupNorm(min(groups, c), c, dtype=dtype)
        self.out = nn.Conv2d(c, out_channels, 3, padding=1, rng=rng, dtype=dtype)
        nn.init.zeros_(self.out.weight)
        self.act = nn.SiLU()

    def forward(self, x: Tensor, t: Any, labels: Any = None) -> Tensor:
        e = _conditioning(self.time, self.label, t, labels, self.act)
        high = self.block_high(self.inp(x), e)
        low = self.block_low2(self.block_low1(self.down(high), e), e)
        h = self.block_out(ops.concat([self.up(low), high], axis=1), e)
        return self.out(self.act(self.norm_out(h)))
