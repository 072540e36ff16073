"""Agreement with PyTorch on the CPU (skipped without torch): forward values and gradients of ops, losses
and normalisation layers, and optimizer trajectories from the same start, all in float64 to ~1e-6."""
from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor, nn, optim

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-6, 1e-9


def _compare(ours_fn, torch_fn, inputs, weights_seed=0):
    """Forward values and d sum(w * f)/d(inputs) of both frameworks agree."""
    ours = [Tensor(x, requires_grad=True) for x in inputs]
    theirs = [torch.tensor(x, requires_grad=True) for x in inputs]
    out, expected = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    w = np.random.default_rng(weights_seed).standard_normal(out.shape)
    (out * Tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.grad.dtype == np.float64
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"input {i}")


def _normal(*shape, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


def _positive(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.2, 3.0, shape)


OPS = {
    "exp": (al.exp, torch.exp, lambda: [_normal(3, 4)]),
    "log": (al.log, torch.log, lambda: [_positive(3, 4)]),
    "sqrt": (al.sqrt, torch.sqrt, lambda: [_positive(3, 4)]),
    "tanh": (al.tanh, torch.tanh, lambda: [_normal(3, 4)]),
    "sigmoid": (al.sigmoid, torch.sigmoid, lambda: [_normal(3, 4, scale=5)]),
    "softplus": (al.softplus, F.softplus, lambda: [_normal(3, 4, scale=5)]),
    "silu": (al.silu, F.silu, lambda: [_normal(3, 4)]),
    "gelu": (al.gelu, F.gelu, lambda: [_normal(3, 4)]),
    "gelu_tanh": (lambda x: al.gelu(x, "tanh"), lambda x: F.gelu(x, approximate="tanh"), lambda: [_normal(3, 4)]),
    "erf": (al.erf, torch.erf, lambda: [_normal(3, 4)]),
    "leaky_relu": (lambda x: al.leaky_relu(x, 0.1), lambda x: F.leaky_relu(x, 0.1), lambda: [_normal(3, 4)]),
    "pow": (al.pow, torch.pow, lambda: [_positive(3, 1), _normal(4)]),
    "div_broadcast": (al.div, torch.div, lambda: [_normal(2, 3, 4), _positive(3, 1)]),
    "maximum_ties": (al.maximum, torch.maximum, lambda: [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])]),
    "amax_ties": (lambda x: al.max(x, axis=1), lambda x: torch.amax(x, dim=1),
                  lambda: [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])]),
    "var_unbiased": (lambda x: al.var(x, axis=0, ddof=1), lambda x: torch.var(x, dim=0), lambda: [_normal(4, 3)]),
    "logsumexp": (lambda x: al.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, dim=-1),
                  lambda: [_normal(3, 4, scale=300)]),
    "softmax": (lambda x: al.softmax(x, axis=1), lambda x: torch.softmax(x, dim=1), lambda: [_normal(2, 3, 4)]),
    "log_softmax": (lambda x: al.log_softmax(x, axis=0), lambda x: torch.log_softmax(x, dim=0),
                    lambda: [_normal(3, 4, scale=300)]),
    "matmul_broadcast_batch": (al.matmul, torch.matmul, lambda: [_normal(2, 1, 3, 4), _normal(5, 4, 2, seed=1)]),
    "matmul_vector_vector": (al.matmul, torch.matmul, lambda: [_normal(4), _normal(4, seed=1)]),
    "linear": (al.linear, F.linear, lambda: [_normal(2, 3, 4), _normal(5, 4, seed=1), _normal(5, seed=2)]),
    "getitem_repeats": (lambda x: x[[0, 2, 0]], lambda x: x[[0, 2, 0]], lambda: [_normal(3, 2)]),
    "pad": (lambda x: al.pad(x, ((1, 0), (2, 1))), lambda x: F.pad(x, (2, 1, 1, 0)), lambda: [_normal(2, 3)]),
}


@pytest.mark.parametrize("name", OPS)
def test_op_agrees_with_torch(name):
    """Forward value and gradient equal PyTorch's."""
    ours_fn, torch_fn, make = OPS[name]
    _compare(ours_fn, torch_fn, make())


def _targets(seed=1):
    return np.random.default_rng(seed).uniform(size=(4, 3))


LOSSES = {
    "mse": (nn.mse_loss, F.mse_loss, lambda: [_normal(4, 3), _normal(4, 3, seed=1)]),
    "bce_with_logits": (
        lambda z: nn.binary_cross_entropy_with_logits(z, _targets()),
        lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(_targets())),
        lambda: [_normal(4, 3, scale=3)],
    ),
    "bce_with_logits_extreme": (
        lambda z: nn.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0, 1.0, 0.0, 0.3]), reduction="none"),
        lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor([0.0, 1.0, 1.0, 0.0, 0.3]), reduction="none"),
        lambda: [np.array([1000.0, -1000.0, 0.0, 0.0, 50.0])],
    ),
    "cross_entropy": (
        lambda z: nn.cross_entropy(z, np.array([2, 0, 1, 2])),
        lambda z: F.cross_entropy(z, torch.tensor([2, 0, 1, 2])),
        lambda: [_normal(4, 3, scale=3)],
    ),
    "cross_entropy_extreme": (
        lambda z: nn.cross_entropy(z, np.array([1, 0]), reduction="sum"),
        lambda z: F.cross_entropy(z, torch.tensor([1, 0]), reduction="sum"),
        lambda: [np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])],
    ),
    "gaussian_nll": (
        lambda mu, var: nn.gaussian_nll_loss(mu, _targets(), var),
        lambda mu, var: F.gaussian_nll_loss(mu, torch.tensor(_targets()), var),
        lambda: [_normal(4, 3), _positive(4, 3)],
    ),
    "gaussian_nll_full_sum": (
        lambda mu, var: nn.gaussian_nll_loss(mu, _targets(), var, full=True, reduction="sum"),
        lambda mu, var: F.gaussian_nll_loss(mu, torch.tensor(_targets()), var, full=True, reduction="sum"),
        lambda: [_normal(4, 3), _positive(4, 3)],
    ),
    "kl_normal_standard": (
        nn.kl_normal_standard,
        lambda mu, log_var: torch.distributions.kl_divergence(
            torch.distributions.Normal(mu, torch.exp(0.5 * log_var)), torch.distributions.Normal(0.0, 1.0)
        ).sum(-1).mean(),
        lambda: [_normal(4, 3), _normal(4, 3, seed=1)],
    ),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_agrees_with_torch(name):
    """Loss value and gradients equal PyTorch's (including logits of +-1000 and exactly 0)."""
    ours_fn, torch_fn, make = LOSSES[name]
    _compare(ours_fn, torch_fn, make())


@pytest.mark.parametrize(
    "ours, theirs, shape",
    [(lambda: nn.LayerNorm((3, 4), dtype=np.float64), lambda: torch.nn.LayerNorm((3, 4), dtype=torch.float64),
      (2, 3, 4)),
     (lambda: nn.GroupNorm(2, 4, dtype=np.float64), lambda: torch.nn.GroupNorm(2, 4, dtype=torch.float64),
      (3, 4, 2, 2))],
    ids=["layer_norm", "group_norm"],
)
def test_norm_layer_agrees_with_torch(ours, theirs, shape):
    """LayerNorm/GroupNorm outputs and gradients (input, weight, bias) equal PyTorch's."""
    ours, theirs = ours(), theirs()
    rng = np.random.default_rng(0)
    weight, bias = rng.standard_normal(ours.weight.shape), rng.standard_normal(ours.bias.shape)
    ours.weight.data, ours.bias.data = weight.copy(), bias.copy()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
        theirs.bias.copy_(torch.tensor(bias))
    x = 3 * rng.standard_normal(shape) + 1
    _compare(ours, theirs, [x])
    ours.zero_grad()
    theirs.zero_grad()
    w = rng.standard_normal(shape)
    (ours(Tensor(x)) * Tensor(w)).sum().backward()
    (theirs(torch.tensor(x)) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=RTOL, atol=ATOL)


# ----- optimizer trajectories -----
OPTIMIZERS = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.05), lambda ps: torch.optim.SGD(ps, lr=0.05)),
    "sgd_momentum_weight_decay": (
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
    ),
    "sgd_nesterov": (
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True),
    ),
    "adam": (lambda ps: optim.Adam(ps, lr=0.1), lambda ps: torch.optim.Adam(ps, lr=0.1)),
    "adam_l2": (
        lambda ps: optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    ),
    "adamw": (
        lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1),
        lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1),
    ),
}


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    return ([rng.standard_normal(s) for s in shapes], [rng.uniform(0.5, 2.0, s) for s in shapes],
            [rng.standard_normal(s) for s in shapes])


def _loss(params, scales, targets, sin):
    """sum_k sum((a_k p_k - b_k)^2 + sin p_k): curved, with different scales per coordinate."""
    return sum(((p * a - b) ** 2 + sin(p)).sum() for p, a, b in zip(params, scales, targets))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_trajectory_agrees_with_torch(name):
    """Ten steps from the same start follow PyTorch's trajectory, step by step (float64)."""
    starts, scales, targets = _problem()
    ours = [nn.Parameter(p.copy()) for p in starts]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in starts]
    ours_optimizer, torch_optimizer = OPTIMIZERS[name][0](ours), OPTIMIZERS[name][1](theirs)
    torch_scales, torch_targets = [torch.tensor(a) for a in scales], [torch.tensor(b) for b in targets]
    for step in range(10):
        ours_optimizer.zero_grad()
        _loss(ours, [Tensor(a) for a in scales], [Tensor(b) for b in targets], al.sin).backward()
        ours_optimizer.step()
        torch_optimizer.zero_grad()
        _loss(theirs, torch_scales, torch_targets, torch.sin).backward()
        torch_optimizer.step()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-9, err_msg=f"step {step}")


def test_adam_agrees_with_torch_when_a_parameter_joins_late():
    """A parameter whose first gradient comes at step 3 follows PyTorch's per-parameter bias correction."""
    ours = [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))]
    theirs = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    ours_optimizer, torch_optimizer = optim.Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    for step in range(6):
        used = [0, 1] if step >= 2 else [0]
        for params, opt, sin in ((ours, ours_optimizer, al.sin), (theirs, torch_optimizer, torch.sin)):
            opt.zero_grad()
            sum((sin(params[i]) * (i + 1)).sum() for i in used).backward()
            opt.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-6)


def test_clip_grad_norm_agrees_with_torch():
    """clip_grad_norm_ returns the same total norm and leaves the same gradients as PyTorch's."""
    grads = [_normal(3, 4, scale=5), _normal(4, seed=1, scale=5)]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = Tensor(g.copy()), torch.tensor(g.copy())
    total = optim.clip_grad_norm_(ours, max_norm=1.5)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5)
    assert total == pytest.approx(float(torch_total), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
