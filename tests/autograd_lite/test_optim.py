"""optim: SGD and Adam/AdamW update rules, the numba kernels against the NumPy path, clip_grad_norm_,
the EMA of weights, and optimizer state dicts."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from strategies import dtype_of, on_device, skip_unless_numpy

import autograd_lite as al
from autograd_lite import Tensor, kernels, nn, optim
from autograd_lite.kernels import optim_kernels


@pytest.fixture
def numba_off():
    """Run the NumPy (generic) update path, as AUTOGRAD_LITE_DISABLE_NUMBA=1 would at import."""
    previous = kernels.numba_enabled()
    kernels.set_numba_enabled(False)
    yield
    kernels.set_numba_enabled(previous)


def quadratic_problem(dtype=np.float64, seed=0):
    """Parameters of a few shapes and a loss sum_k sum((A_k * p_k - b_k)^2 + sin p_k) with a non-trivial gradient."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    params = [nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]
    scales = [on_device(rng.uniform(0.5, 2.0, s).astype(dtype)) for s in shapes]
    targets = [on_device(rng.standard_normal(s).astype(dtype)) for s in shapes]

    def loss():
        total = None
        for p, a, b in zip(params, scales, targets):
            term = ((p * a - b) ** 2 + al.sin(p)).sum()
            total = term if total is None else total + term
        return total

    return params, loss


def run(make_optimizer, steps=10, dtype=np.float64, seed=0):
    """Parameter values after each of ``steps`` optimizer steps on the quadratic problem."""
    params, loss = quadratic_problem(dtype, seed)
    optimizer = make_optimizer(params)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
        trajectory.append([p.numpy().copy() for p in params])
    return trajectory


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05),
    "sgd_momentum_decay": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.1),
    "adam_l2": lambda ps: optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1),
}


def _reference_sgd(p, grads, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    """PyTorch's SGD written out: b <- mu b + g', g' = g + wd p; p <- p - lr (g' + mu b if nesterov else b)."""
    p, b = p.copy(), None
    for grad in grads:
        g = grad(p) + weight_decay * p
        if momentum:
            b = g if b is None else momentum * b + g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
    return p


def _reference_adam(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    """Kingma & Ba with bias correction; L2 added to g (Adam) or decoupled shrinkage first (AdamW)."""
    p, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
    for t, grad in enumerate(grads, start=1):
        g = grad(p)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        p = p - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)
    return p


# ----- update rules against written-out references -----
@pytest.mark.parametrize("path", ["numba", "numpy"])
@pytest.mark.parametrize(
    "make, reference",
    [
        (lambda ps: optim.SGD(ps, lr=0.1), lambda p, gs: _reference_sgd(p, gs, 0.1)),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.05),
         lambda p, gs: _reference_sgd(p, gs, 0.1, 0.9, 0.05)),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
         lambda p, gs: _reference_sgd(p, gs, 0.1, 0.9, nesterov=True)),
        (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
         lambda p, gs: _reference_adam(p, gs, 0.1, weight_decay=0.1)),
        (lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1),
         lambda p, gs: _reference_adam(p, gs, 0.1, weight_decay=0.1, decoupled=True)),
    ],
    ids=["sgd", "sgd_momentum_decay", "sgd_nesterov", "adam_l2", "adamw"],
)
def test_update_rule_matches_the_written_out_equations(make, reference, path, request):
    """Five steps on f(p) = sum(p^3/3 - p) follow the optimizer's textbook equations exactly."""
    if path == "numpy":
        request.getfixturevalue("numba_off")
    start = np.array([0.3, -1.2, 2.0, 0.7])
    p = nn.Parameter(start.copy())
    optimizer = make([p])
    for _ in range(5):
        optimizer.zero_grad()
        (p**3 / 3 - p).sum().backward()
        optimizer.step()
    expected = reference(start, [lambda q: q**2 - 1] * 5)
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_adam_first_step_moves_each_parameter_by_about_lr(scale):
    """Bias correction makes Adam's first step lr * sign(g), whatever the gradient's scale."""
    p = nn.Parameter(np.zeros(4))
    p.grad = Tensor(scale * np.array([1.0, -2.0, 0.5, -4.0]))
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.numpy(), -0.01 * np.sign([1.0, -2.0, 0.5, -4.0]), rtol=1e-4)


def test_adam_bias_correction_counts_each_parameter_own_steps():
    """A parameter that gets its first gradient at step 3 still moves by ~lr (its own first step), as in PyTorch."""
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    optimizer = optim.Adam([a, b], lr=0.01)
    for _ in range(2):
        a.grad = Tensor(np.ones(2))
        optimizer.step()
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(2))
    optimizer.step()
    np.testing.assert_allclose(b.numpy(), [-0.01, -0.01], rtol=1e-4)


def test_parameters_without_gradient_are_not_updated():
    """step() leaves parameters whose .grad is None untouched (even with weight decay)."""
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    a.grad = Tensor(np.ones(2))
    optim.AdamW([a, b], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    assert not np.array_equal(a.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_decrease_the_loss(name):
    """Ten steps of every optimizer reduce the quadratic problem's loss."""
    params, loss = quadratic_problem()
    before = loss().item()
    optimizer = OPTIMIZERS[name](params)
    for _ in range(10):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    assert loss().item() < before


# ----- numba kernels == NumPy path -----
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_numba_path_equals_numpy_path(name, dtype, monkeypatch):
    """Ten steps with the fused numba kernels follow the NumPy path's trajectory (to rounding)."""
    skip_unless_numpy("the fused numba kernels update NumPy parameters only; elsewhere both runs take the "
                      "generic path, so there are not two paths to compare")
    with_numba = run(OPTIMIZERS[name], dtype=dtype)
    monkeypatch.setattr(kernels, "_numba_enabled", False)
    without = run(OPTIMIZERS[name], dtype=dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for step_a, step_b in zip(with_numba, without):
        for a, b in zip(step_a, step_b):
            assert dtype_of(a) == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def test_disable_numba_variable_switches_the_kernels_off_at_import():
    """AUTOGRAD_LITE_DISABLE_NUMBA=1 in the environment selects the NumPy path from the start."""
    env = {**os.environ, "AUTOGRAD_LITE_DISABLE_NUMBA": "1"}
    code = "import autograd_lite.kernels as k; print(k.numba_enabled())"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("name, kernel", [("adam", "adam_update"), ("sgd_momentum_decay", "sgd_update")])
def test_numba_kernels_run_on_contiguous_numpy_parameters(name, kernel, monkeypatch):
    """By default the fused kernel does the update (so the comparison above compares two paths)."""
    skip_unless_numpy("the fused numba kernels run on contiguous NumPy parameters only; another device's "
                      "parameters take the generic path by design")
    calls = []
    original = getattr(optim_kernels, kernel)
    monkeypatch.setattr(optim_kernels, kernel, lambda *args: calls.append(1) or original(*args))
    if not kernels.numba_enabled():
        pytest.skip("numba switched off in this environment")
    run(OPTIMIZERS[name], steps=1)
    assert calls


def test_optimizer_keeps_parameter_dtype():
    """A float32 parameter stays float32 (and keeps its array) through Adam and SGD steps."""
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    data = p.data
    for optimizer in (optim.Adam([p], lr=0.1), optim.SGD([p], lr=0.1, momentum=0.9)):
        p.grad = Tensor(np.ones(3, dtype=np.float32))
        optimizer.step()
    assert dtype_of(p) == np.float32
    assert p.data is data


@pytest.mark.parametrize(
    "make, error",
    [(lambda: optim.SGD([], lr=0.1), ValueError), (lambda: optim.SGD([nn.Parameter(np.ones(1))], lr=0.0), ValueError),
     (lambda: optim.SGD([Tensor(np.ones(1))], lr=0.1), TypeError),
     (lambda: optim.SGD([nn.Parameter(np.ones(1))], lr=0.1, nesterov=True), ValueError),
     (lambda: optim.Adam([nn.Parameter(np.ones(1))], betas=(0.9, 1.0)), ValueError),
     (lambda: optim.Adam([nn.Parameter(np.ones(1))], eps=0.0), ValueError)],
    ids=["empty", "lr", "no_grad_tensor", "nesterov_without_momentum", "beta", "eps"],
)
def test_optimizers_reject_bad_settings(make, error):
    """Empty parameter lists, non-trainable tensors and out-of-range hyper-parameters are rejected."""
    with pytest.raises(error):
        make()


# ----- clip_grad_norm_ -----
def _with_grads(*grads):
    params = [nn.Parameter(np.zeros_like(np.asarray(g, dtype=np.float64))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = Tensor(np.asarray(g, dtype=np.float64))
    return params


def _norm(params):
    return math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params))


def test_clip_grad_norm_returns_the_norm_and_scales_to_max_norm():
    """The total norm (here 13) is returned, and the clipped gradients have norm max_norm, same direction."""
    params = _with_grads([3.0, 4.0], [[12.0]])
    total = optim.clip_grad_norm_(params, max_norm=2.0)
    assert total == pytest.approx(13.0)
    assert _norm(params) == pytest.approx(2.0, rel=1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), np.array([3.0, 4.0]) * 2 / 13, rtol=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    """Gradients already within max_norm are unchanged."""
    params = _with_grads([0.3, 0.4])
    assert optim.clip_grad_norm_(params, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, 0.4])


def test_clip_grad_norm_scales_a_shared_gradient_once():
    """(a + b).sum() may hand a and b one gradient object; clipping still scales each exactly once."""
    a, b = nn.Parameter(np.zeros(4)), nn.Parameter(np.zeros(4))
    ((a + b) * 5.0).sum().backward()
    total = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert total == pytest.approx(math.sqrt(200.0))
    np.testing.assert_allclose(a.grad.numpy(), np.full(4, 5 / math.sqrt(200.0)), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 5 / math.sqrt(200.0)), rtol=1e-6)


def test_clip_grad_norm_with_an_infinite_gradient_returns_inf_and_scales_nothing():
    """A non-finite norm is reported and the gradients are left for the caller to handle."""
    params = _with_grads([np.inf, 1.0])
    assert optim.clip_grad_norm_(params, max_norm=1.0) == math.inf
    assert params[0].grad.numpy()[1] == 1.0


def test_clip_grad_norm_rejects_a_non_positive_max_norm():
    """max_norm must be positive."""
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm_(_with_grads([1.0]), max_norm=0.0)


# ----- EMA -----
def test_ema_update_is_the_exponential_moving_average():
    """After updates with weights w1, w2: shadow = d^2 w0 + d(1-d) w1 + (1-d) w2."""
    p = nn.Parameter(np.array([1.0, -2.0]))
    ema = optim.EMA([p], decay=0.9)
    w0 = p.numpy().copy()
    p.data = on_device(np.array([3.0, 0.0]))
    ema.update()
    p.data = on_device(np.array([-1.0, 5.0]))
    ema.update()
    expected = 0.81 * w0 + 0.09 * np.array([3.0, 0.0]) + 0.1 * np.array([-1.0, 5.0])
    np.testing.assert_allclose(ema.shadow[0], expected, rtol=1e-12)
    assert ema.num_updates == 2


def test_ema_average_parameters_swaps_in_and_restores():
    """Inside average_parameters() the model uses the averages; afterwards its trained weights are back."""
    model = nn.Linear(3, 2, rng=0, dtype=np.float64)
    ema = optim.EMA(model, decay=0.5)
    trained = {name: value.copy() for name, value in model.state_dict().items()}
    for p in model.parameters():
        p.data = p.data + 1.0
    ema.update()
    after_training = {name: value.copy() for name, value in model.state_dict().items()}
    with ema.average_parameters():
        for name, value in model.state_dict().items():
            np.testing.assert_allclose(value, trained[name] + 0.5)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, after_training[name])


def test_ema_copy_to_another_model():
    """copy_to(other) writes the averages into another model of the same shape."""
    source, target = nn.Linear(2, 2, rng=0), nn.Linear(2, 2, rng=1)
    ema = optim.EMA(source, decay=0.0)
    ema.copy_to(target)
    np.testing.assert_array_equal(target.weight.numpy(), source.weight.numpy())


def test_ema_state_dict_round_trip():
    """An EMA restored from its state dict holds the same averages and counters."""
    p = nn.Parameter(np.array([1.0, 2.0]))
    ema = optim.EMA([p], decay=0.7)
    p.data = p.data * 3
    ema.update()
    fresh = optim.EMA([nn.Parameter(np.zeros(2))], decay=0.1)
    fresh.load_state_dict(ema.state_dict())
    np.testing.assert_array_equal(fresh.shadow[0], ema.shadow[0])
    assert (fresh.num_updates, fresh.decay) == (1, 0.7)


def test_ema_rejects_a_decay_outside_zero_to_one():
    """decay must lie in [0, 1)."""
    with pytest.raises(ValueError, match="decay"):
        optim.EMA([nn.Parameter(np.ones(1))], decay=1.0)


# ----- optimizer state dicts -----
@pytest.mark.parametrize("name", ["sgd_momentum_decay", "adam", "adamw"])
def test_optimizer_state_dict_round_trip_continues_identically(name):
    """Five steps, a state-dict copy into fresh parameters and optimizer, five more: same as ten in a row."""
    straight = run(OPTIMIZERS[name], steps=10)
    params, loss = quadratic_problem()
    optimizer = OPTIMIZERS[name](params)
    for _ in range(5):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    saved_params, saved_state = [p.numpy().copy() for p in params], optimizer.state_dict()
    fresh_params, fresh_loss = quadratic_problem()
    for p, value in zip(fresh_params, saved_params):
        p.data = on_device(value)
    fresh = OPTIMIZERS[name](fresh_params)
    fresh.load_state_dict(saved_state)
    for _ in range(5):
        fresh.zero_grad()
        fresh_loss().backward()
        fresh.step()
    for a, b in zip(fresh_params, straight[-1]):
        np.testing.assert_array_equal(a.numpy(), b)


def test_optimizer_load_state_dict_rejects_wrong_shapes():
    """A state buffer whose shape differs from its parameter's is a ValueError."""
    params, loss = quadratic_problem()
    optimizer = optim.Adam(params, lr=0.1)
    loss().backward()
    optimizer.step()
    state = optimizer.state_dict()
    state["0.m"] = on_device(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="0.m"):
        optim.Adam(quadratic_problem()[0], lr=0.1).load_state_dict(state)


def test_ema_with_warmup_is_the_normalised_average_of_the_updates():
    """With warmup the initial weights carry no weight: after updates w1, w2, w3 the shadow is
    sum (1-d) d^(t-i) w_i / (1 - d^t), and the first update copies w1."""
    p = nn.Parameter(np.array([10.0, -20.0]))
    ema = optim.EMA([p], decay=0.9, warmup=True)
    updates = [np.array([3.0, 0.0]), np.array([-1.0, 5.0]), np.array([2.0, 2.0])]
    for t, w in enumerate(updates, 1):
        p.data = on_device(w)
        ema.update()
        if t == 1:
            np.testing.assert_allclose(ema.shadow[0], w, rtol=1e-15)
    weights = np.array([0.9 ** 2, 0.9, 1.0]) * 0.1
    expected = (weights[:, None] * np.array(updates)).sum(axis=0) / (1 - 0.9 ** 3)
    np.testing.assert_allclose(ema.shadow[0], expected, rtol=1e-12)
    restored = optim.EMA([nn.Parameter(np.zeros(2))], decay=0.5)
    restored.load_state_dict(ema.state_dict())
    assert restored.warmup and restored.current_decay() == pytest.approx(ema.current_decay())
