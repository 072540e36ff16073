"""Fused optimiser updates: one pass over each parameter instead of NumPy's ~10 temporaries.

Adam's update of one element (Kingma & Ba, 2015), with bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t:

    m <- beta1 m + (1 - beta1) g
    v <- beta2 v + (1 - beta2) g^2
    p <- p - lr (m / c1) / (sqrt(v / c2) + eps)

Each loop iteration touches only element i of each array, so the loop could be parallel; it is not,
because the models' parameters are small enough that a thread hand-off costs more than the work.
"""
from __future__ import annotations

import math

import numba


@numba.njit(cache=True)
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, c1, c2, l2, decay):
    """In place on flat arrays: Adam with L2 penalty ``l2`` (added to g) and decoupled decay
    ``decay`` (AdamW: p <- p (1 - lr decay) before the step)."""
    shrink = 1.0 - lr * decay
    for i in range(param.size):
        g = grad[i] + l2 * param[i]
        m[i] = beta1 * m[i] + (1.0 - beta1) * g
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
        param[i] = param[i] * shrink - lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)


@numba.njit(cache=True)
def sgd_update(param, grad, velocity, lr, momentum, weight_decay, nesterov):
    """In place on flat arrays: SGD with momentum (PyTorch's form: b <- mu b + g; p <- p - lr b)."""
    for i in range(param.size):
        g = grad[i] + weight_decay * param[i]
        if momentum != 0.0:
            velocity[i] = momentum * velocity[i] + g
            g = g + momentum * velocity[i] if nesterov else velocity[i]
        param[i] -= lr * g
