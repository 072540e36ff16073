"""Layers: Linear, Sequential, activations, Dropout, LayerNorm, GroupNorm, Embedding.

Every layer with weights takes ``rng`` (a numpy Generator or an int seed) for its initialisation and
``dtype`` (float32 unless given) for its parameters.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd_lite import backend, ops
from autograd_lite.nn import init
from autograd_lite.nn.module import Module, Parameter
from autograd_lite.ops._util import as_tensor, check_shape
from autograd_lite.tensor import (
    Tensor,
    check_choice,
    check_count,
    check_flag,
    check_float_dtype,
    check_fraction,
    check_nonnegative,
    check_number,
    get_default_dtype,
)


def _empty(shape: tuple[int, ...], dtype: Any) -> Parameter:
    dtype = get_default_dtype() if dtype is None else check_float_dtype(dtype, "dtype")
    return Parameter(np.zeros(shape, dtype=dtype))


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features); initialised like PyTorch,
    W, b ~ U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng: Any = None, dtype: Any = None):
        super().__init__()
        in_features, out_features = check_count(in_features, "in_features"), check_count(out_features, "out_features")
        bias = check_flag(bias, "bias")
        rng = init.as_generator(rng)
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = init.uniform_(_empty((out_features, in_features), dtype), -bound, bound, rng)
        self.bias = init.uniform_(_empty((out_features,), dtype), -bound, bound, rng) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Layers applied one after another; ``Sequential(a, b)(x) == b(a(x))``."""

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layers must be Modules, got {type(layer).__name__} at position {i}")
            setattr(self, str(i), layer)

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class _Activation(Module):
    function = staticmethod(ops.relu)

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)


class ReLU(_Activation):
    function = staticmethod(ops.relu)


class Tanh(_Activation):
    function = staticmethod(ops.tanh)


class Sigmoid(_Activation):
    function = staticmethod(ops.sigmoid)


class SiLU(_Activation):
    function = staticmethod(ops.silu)


class Softplus(_Activation):
    function = staticmethod(ops.softplus)


class GELU(Module):
    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = check_choice(approximate, "approximate", ("none", "tanh"))

    def forward(self, x: Tensor) -> Tensor:
        return ops.gelu(x, self.approximate)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = check_number(negative_slope, "negative_slope")

    def forward(self, x: Tensor) -> Tensor:
        return ops.leaky_relu(x, self.negative_slope)


class Identity(Module):
    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merge all axes after the batch axis: (N, C, H, W) -> (N, C*H*W)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.flatten(x, 1)


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p) (so the
    expectation is unchanged); the identity in eval mode."""

    def __init__(self, p: float = 0.5, rng: Any = None):
        super().__init__()
        self.p = check_fraction(p, "Dropout probability p")
        self.rng = init.as_generator(rng)

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        if not self.training or self.p == 0:
            return x
        # the mask 1[u >= p] / (1 - p), made in x's dtype in one pass (u stays float64: the same random stream)
        dtype = np.dtype(backend.dtype_name(x.dtype))
        keep = np.multiply(self.rng.random(x.shape) >= self.p, dtype.type(1 / (1 - self.p)), dtype=dtype)
        return x * Tensor._from_array(backend.to_device(keep, x.device))


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance, as in the layer-norm papers)."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / ops.sqrt(var + eps)


class LayerNorm(Module):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta over the last len(normalized_shape) axes."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5, elementwise_affine: bool = True,
                 dtype: Any = None):
        super().__init__()
        self.normalized_shape = check_shape(normalized_shape, "normalized_shape")
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(f"normalized_shape must be one or more positive sizes, got {normalized_shape!r}")
        self.eps = check_nonnegative(eps, "eps")
        elementwise_affine = check_flag(elementwise_affine, "elementwise_affine")
        self.weight = init.ones_(_empty(self.normalized_shape, dtype)) if elementwise_affine else None
        self.bias = _empty(self.normalized_shape, dtype) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        k = len(self.normalized_shape)
        if x.shape[-k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape}: x must end in shape {self.normalized_shape}, "
                             f"got shape {x.shape}")
        y = _normalize(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        return y * self.weight + self.bias if self.weight is not None else y


class GroupNorm(Module):
    """Normalise each group of channels of each sample: x of shape (N, C, *) in ``num_groups`` groups,
    then a per-channel scale and shift."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, dtype: Any = None):
        super().__init__()
        num_groups, num_channels = check_count(num_groups, "num_groups"), check_count(num_channels, "num_channels")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, check_nonnegative(eps, "eps")
        affine = check_flag(affine, "affine")
        self.weight = init.ones_(_empty((num_channels,), dtype)) if affine else None
        self.bias = _empty((num_channels,), dtype) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_channels} channels): x must have shape "
                             f"(N, {self.num_channels}, ...), got shape {x.shape}")
        n = x.shape[0]
        grouped = ops.reshape(x, (n, self.num_groups, -1))
        y = ops.reshape(_normalize(grouped, (2,), self.eps), x.shape)
        if self.weight is None:
            return y
        per_channel = (1, self.num_channels) + (1,) * (x.ndim - 2)
        return y * ops.reshape(self.weight, per_channel) + ops.reshape(self.bias, per_channel)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors; ``forward(indices)`` looks rows up (gradient: scatter-add)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Any = None, dtype: Any = None):
        super().__init__()
        num_embeddings = check_count(num_embeddings, "num_embeddings")
        self.num_embeddings, self.embedding_dim = num_embeddings, check_count(embedding_dim, "embedding_dim")
        self.weight = init.normal_(_empty((num_embeddings, self.embedding_dim), dtype), rng=rng)

    def forward(self, indices: Any) -> Tensor:
        if isinstance(indices, Tensor):  # Tensors are always float: accept whole numbers
            values = indices.numpy()
            indices = values.astype(np.int64) if np.all(values == np.round(values)) else values
        try:
            indices = np.asarray(indices)
        except ValueError:  # ragged
            indices = np.asarray(None)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"Embedding indices must be integers, got dtype {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self.num_embeddings):
            raise IndexError(f"Embedding indices must lie in [0, {self.num_embeddings})")
        return self.weight[indices]
