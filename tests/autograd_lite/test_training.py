"""End to end: small float32 MLPs trained with Adam learn XOR (classification) and y = sin(x) (regression)."""
from __future__ import annotations

import numpy as np
import pytest
from strategies import dtype_of

from autograd_lite import Tensor, nn, no_grad, optim

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_LABELS = np.array([[0], [1], [1], [0]], dtype=np.float32)


def fit(model, x, y, loss_fn, lr, max_steps, target):
    """Adam steps until the loss is below ``target`` (or max_steps); returns the losses seen."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(max_steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        assert dtype_of(loss) == np.float32
        assert all(dtype_of(p.grad) == np.float32 for p in model.parameters())
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < target:
            break
    return losses


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_learns_xor(seed):
    """A 2-8-1 tanh MLP reaches BCE < 0.05 on XOR within 200 Adam steps (lr 0.05), and classifies all four."""
    model = nn.Sequential(nn.Linear(2, 8, rng=seed), nn.Tanh(), nn.Linear(8, 1, rng=seed + 100))
    losses = fit(model, Tensor(XOR_INPUTS), Tensor(XOR_LABELS), nn.binary_cross_entropy_with_logits,
                 lr=0.05, max_steps=200, target=0.05)
    assert losses[-1] < 0.05
    with no_grad():
        predictions = model(Tensor(XOR_INPUTS)).numpy() > 0
    np.testing.assert_array_equal(predictions, XOR_LABELS.astype(bool))
    assert all(dtype_of(p) == np.float32 for p in model.parameters())


def test_mlp_fits_a_sine():
    """A 1-32-1 tanh MLP fits y = sin(x) on [-pi, pi] to MSE < 2e-3 within 500 Adam steps, also between
    the training points."""
    rng = np.random.default_rng(0)
    x_train = rng.uniform(-np.pi, np.pi, (128, 1)).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 32, rng=0), nn.Tanh(), nn.Linear(32, 1, rng=1))
    losses = fit(model, Tensor(x_train), Tensor(np.sin(x_train)), nn.mse_loss, lr=0.02, max_steps=500, target=1e-3)
    assert losses[-1] < 2e-3
    x_test = np.linspace(-3.0, 3.0, 61, dtype=np.float32)[:, None]
    with no_grad():
        test_error = float(np.mean((model(Tensor(x_test)).numpy() - np.sin(x_test)) ** 2))
    assert test_error < 2e-3


def test_relu_mlp_with_sgd_momentum_decreases_the_loss_tenfold():
    """A ReLU MLP trained with SGD + Nesterov momentum on the sine cuts its MSE by 10x in 300 steps."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-np.pi, np.pi, (64, 1)).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 32, rng=3), nn.ReLU(), nn.Linear(32, 1, rng=4))
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True)
    x_t, y_t = Tensor(x), Tensor(np.sin(x))
    first = nn.mse_loss(model(x_t), y_t).item()
    for _ in range(300):
        optimizer.zero_grad()
        loss = nn.mse_loss(model(x_t), y_t)
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 10
