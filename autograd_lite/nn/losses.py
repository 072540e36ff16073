"""Losses, each a short composition of differentiable ops (so second derivatives work too).

    mse:                  mean (y_hat - y)^2
    bce with logits:      y softplus(-z) + (1-y) softplus(z)           (= -y log s(z) - (1-y) log(1-s(z)); stable)
    cross-entropy:        -log softmax(z)[target]                      (integer class targets)
    Gaussian NLL:         1/2 (log var + (y - mu)^2 / var) [+ 1/2 log 2 pi]
    KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2)   (per sample, over features)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite import ops
from autograd_lite.ops._util import as_tensor
from autograd_lite.tensor import Tensor, check_choice, check_flag, check_positive

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: input shape {a.shape} and target shape {b.shape} differ")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    check_choice(reduction, "reduction", _REDUCTIONS)  # before any work
    input = as_tensor(input, name="input")
    target = as_tensor(target, like=input, name="target")
    _same_shape("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], computed without overflow for any z."""
    check_choice(reduction, "reduction", _REDUCTIONS)
    logits = as_tensor(logits, name="logits")
    target = as_tensor(target, like=logits, name="target")
    _same_shape("binary_cross_entropy_with_logits", logits, target)
    # -log s(z) = softplus(-z) and -log(1 - s(z)) = softplus(z): smooth everywhere (the former
    # relu(z) - z y + softplus(-|z|) had the gradient -y at z = 0 instead of sigmoid(0) - y) and without
    # cancellation for confident predictions.
    loss = target * ops.softplus(-logits) + (1 - target) * ops.softplus(logits)
    return _reduce(loss, reduction)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-log p(target | x) with p = softmax(logits); logits (batch, classes), target (batch,) class indices."""
    check_choice(reduction, "reduction", _REDUCTIONS)
    logits = as_tensor(logits, name="logits")
    try:
        target = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
    except ValueError:  # ragged
        target = np.asarray(None)
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
    if logits.ndim != 2 or target.shape != logits.shape[:1]:
        raise ValueError(
            f"cross_entropy: expected logits (batch, classes) and target (batch,), "
            f"got shapes {logits.shape} and {target.shape}"
        )
    n_classes = logits.shape[1]
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        raise ValueError(f"cross_entropy: targets must lie in [0, {n_classes}), got {target.min()}..{target.max()}")
    log_p = ops.log_softmax(logits, axis=1)
    return _reduce(-log_p[np.arange(len(target)), target], reduction)


def gaussian_nll_loss(
    mean: Tensor, target: Any, var: Tensor, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    """-log N(target; mean, var) per element, up to the constant 1/2 log(2 pi) (added when ``full``)."""
    check_choice(reduction, "reduction", _REDUCTIONS)
    full, eps = check_flag(full, "full"), check_positive(eps, "eps")
    mean = as_tensor(mean, name="mean")
    target = as_tensor(target, like=mean, name="target")
    var = as_tensor(var, like=mean, name="var")
    if np.any(var.data < 0):
        raise ValueError("gaussian_nll_loss: var must be non-negative")
    var = ops.clip(var, eps, None)  # as PyTorch: a variance floor keeps log var finite
    diff = target - mean
    loss = 0.5 * (ops.log(var) + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def kl_normal_standard(mu: Tensor, log_var: Tensor, reduction: str = "mean") -> Tensor:
    """KL(N(mu, diag exp(log_var)) || N(0, I)) per sample (summed over the last axis), then reduced."""
    check_choice(reduction, "reduction", _REDUCTIONS)
    mu = as_tensor(mu, name="mu")
    log_var = as_tensor(log_var, like=mu, name="log_var")
    _same_shape("kl_normal_standard", mu, log_var)
    kl = 0.5 * (mu * mu + ops.exp(log_var) - 1.0 - log_var).sum(axis=-1)
    return _reduce(kl, reduction)
