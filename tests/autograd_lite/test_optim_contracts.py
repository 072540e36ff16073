"""optim contracts: the defaults of Adam and AdamW (one hand-computed step, and a few steps against PyTorch),
the step counters, the names and values of the state buffers in state dicts, loading state dicts (per-parameter
step counts, checkpoints without them, buffers cast to the parameter's dtype, Fortran-ordered buffers, buffer
names with dots), parameters that are non-contiguous views (updated in place, through the generic path), an
infinite parameter entry without an L2 term (stays infinite, as in PyTorch; the fused kernels make it NaN: a
strict xfail), clip_grad_norm_ at and below its threshold and its exact scale, and the EMA's state dict (dtype,
old checkpoints without ``warmup``). Float64 throughout unless a test is about float32; NumPy only."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_lite import Tensor, kernels, nn, optim


def _param(values, dtype=np.float64):
    return nn.Parameter(np.array(values, dtype=dtype))


def _step(optimizer, params, grads):
    """Set each parameter's gradient (None to leave it without one) and take one step."""
    for p, g in zip(params, grads):
        p.grad = None if g is None else Tensor(np.array(g, dtype=p.numpy().dtype))
    optimizer.step()


GRADS = [np.array([[0.5, -1.0, 2.0], [0.1, -0.3, 1.5]]), np.array([[-0.2, 0.4, 1.0], [2.0, 0.0, -0.7]]),
         np.array([[1.0, 1.0, -1.0], [0.3, -2.0, 0.2]]), np.array([[0.0, -0.5, 0.5], [1.2, 0.8, -0.1]]),
         np.array([[-1.0, 0.2, 0.3], [0.4, 0.5, 0.6]])]
START = np.array([[0.3, -1.2, 2.0], [0.7, 0.0, -0.4]])


# ----- defaults -----
def test_adam_default_lr_is_1e_3_and_default_adam_has_no_weight_decay():
    """First step of Adam() from p = 10 with g = -1: p + lr g / (|g| + eps) with lr = 1e-3, eps = 1e-8; an L2 penalty
    (g + wd p = 9 with wd = 1) would move p down instead."""
    p = _param([10.0])
    _step(optim.Adam([p]), [p], [[-1.0]])
    np.testing.assert_allclose(p.numpy(), [10.0 + 1e-3 / (1.0 + 1e-8)], rtol=1e-14)


def test_adamw_defaults_are_lr_1e_3_and_weight_decay_0_01():
    """First step of AdamW() from p = 10 with g = 1: p (1 - lr wd) - lr g / (|g| + eps), lr = 1e-3, wd = 0.01."""
    p = _param([10.0])
    _step(optim.AdamW([p]), [p], [[1.0]])
    np.testing.assert_allclose(p.numpy(), [10.0 * (1 - 1e-3 * 0.01) - 1e-3 / (1.0 + 1e-8)], rtol=1e-14)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_and_adamw_with_default_settings_follow_pytorch(name):
    """Five steps with every setting left at its default match torch.optim.Adam / AdamW with theirs."""
    torch = pytest.importorskip("torch")
    p = nn.Parameter(START.copy())
    ours = getattr(optim, name)([p])
    q = torch.nn.Parameter(torch.tensor(START))
    theirs = getattr(torch.optim, name)([q])
    for g in GRADS:
        _step(ours, [p], [g])
        q.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)


# ----- counters -----
def test_step_count_starts_at_zero_and_counts_every_step():
    """step_count (and the state dict's copy) counts step() calls, including one where no parameter had a gradient;
    param_steps counts each parameter's own updates."""
    a, b = _param([1.0]), _param([2.0])
    optimizer = optim.SGD([a, b], lr=0.1)
    assert optimizer.step_count == 0
    assert int(optimizer.state_dict()["step_count"]) == 0
    _step(optimizer, [a, b], [[1.0], None])
    _step(optimizer, [a, b], [None, None])
    _step(optimizer, [a, b], [[1.0], [1.0]])
    assert optimizer.step_count == 3
    state = optimizer.state_dict()
    assert int(state["step_count"]) == 3
    np.testing.assert_array_equal(state["param_steps"], [2, 1])


# ----- state buffers -----
def test_plain_sgd_keeps_no_state_buffers():
    """SGD without momentum needs no buffer: its state dict holds only the counters and the learning rate."""
    p = _param([1.0, 2.0])
    optimizer = optim.SGD([p], lr=0.1)
    _step(optimizer, [p], [[1.0, 1.0]])
    assert set(optimizer.state_dict()) == {"step_count", "lr", "param_steps"}
    np.testing.assert_allclose(p.numpy(), [0.9, 1.9], rtol=1e-15)


def test_sgd_momentum_buffer_is_saved_as_velocity():
    """After gradients g1, g2 the momentum buffer is mu g1 + g2, saved under '0.velocity'."""
    p = _param([1.0, 2.0])
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9)
    _step(optimizer, [p], [[1.0, -2.0]])
    _step(optimizer, [p], [[0.5, 0.5]])
    state = optimizer.state_dict()
    assert set(state) == {"step_count", "lr", "param_steps", "0.velocity"}
    np.testing.assert_allclose(state["0.velocity"], [0.9 * 1.0 + 0.5, 0.9 * -2.0 + 0.5], rtol=1e-15)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_moments_are_saved_as_m_and_v(name):
    """After one gradient g the moments are m = (1 - beta1) g and v = (1 - beta2) g^2, saved as '0.m' and '0.v'."""
    p = _param([1.0, -2.0])
    optimizer = getattr(optim, name)([p], lr=0.1, betas=(0.8, 0.9))
    _step(optimizer, [p], [[2.0, -3.0]])
    state = optimizer.state_dict()
    assert set(state) == {"step_count", "lr", "param_steps", "0.m", "0.v"}
    np.testing.assert_allclose(state["0.m"], [0.2 * 2.0, 0.2 * -3.0], rtol=1e-14)
    np.testing.assert_allclose(state["0.v"], [0.1 * 4.0, 0.1 * 9.0], rtol=1e-14)


# ----- load_state_dict -----
def _continue(make, state, start, grads):
    """A fresh optimizer on parameters at ``start`` loads ``state`` and takes steps with ``grads``."""
    params = [nn.Parameter(np.array(s)) for s in start]
    optimizer = make(params)
    optimizer.load_state_dict(state)
    for g in grads:
        _step(optimizer, params, g)
    return optimizer, [p.numpy() for p in params]


def test_load_state_dict_restores_each_parameter_step_count():
    """A parameter that missed the first two steps has param_steps 1, not step_count 3, after a reload, and its
    next Adam step uses t = 2 as in the uninterrupted run."""
    def make(ps):
        return optim.Adam(ps, lr=0.1)

    a, b = _param([1.0, 2.0]), _param([-1.0, 0.5])
    optimizer = make([a, b])
    grads = [[[1.0, 1.0], None], [[0.5, -1.0], None], [[0.2, 0.3], [1.0, -2.0]], [[0.1, 0.1], [-0.5, 0.7]]]
    for g in grads[:3]:
        _step(optimizer, [a, b], g)
    state = optimizer.state_dict()
    restored, values = _continue(make, state, [a.numpy().copy(), b.numpy().copy()], grads[3:])
    _step(optimizer, [a, b], grads[3])
    assert restored.param_steps == optimizer.param_steps == [4, 2]
    for got, want in zip(values, [a.numpy(), b.numpy()]):
        np.testing.assert_array_equal(got, want)


def test_load_state_dict_without_param_steps_counts_step_count_for_every_parameter():
    """A checkpoint saved before param_steps existed loads, each parameter taken to have had every step."""
    p = _param([1.0, 2.0])
    optimizer = optim.Adam([p], lr=0.1)
    for g in ([1.0, 2.0], [0.5, -0.5]):
        _step(optimizer, [p], [g])
    state = optimizer.state_dict()
    del state["param_steps"]
    restored, _ = _continue(lambda ps: optim.Adam(ps, lr=0.1), state, [p.numpy().copy()], [])
    assert restored.step_count == 2
    assert restored.param_steps == [2]


def test_load_state_dict_casts_buffers_to_the_parameter_dtype():
    """float64 buffers loaded into an optimizer of float32 parameters become float32 (and the update stays so)."""
    p64 = _param([1.0, 2.0])
    source = optim.Adam([p64], lr=0.1)
    _step(source, [p64], [[1.0, -1.0]])
    p32 = _param([1.0, 2.0], dtype=np.float32)
    target = optim.Adam([p32], lr=0.1)
    target.load_state_dict(source.state_dict())
    state = target.state_dict()
    assert state["0.m"].dtype == np.float32 and state["0.v"].dtype == np.float32
    _step(target, [p32], [[1.0, 1.0]])
    assert p32.numpy().dtype == np.float32
    assert target.state_dict()["0.m"].dtype == np.float32


@pytest.mark.parametrize("make, fortran", [
    (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1), ["0.velocity"]),
    (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1), ["0.m"]),
    (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1), ["0.v"]),
    (lambda ps: optim.AdamW(ps, lr=0.1), ["0.m", "0.v"]),
], ids=["sgd_velocity", "adam_m", "adam_v", "adamw_both"])
def test_fortran_ordered_state_buffers_load_and_training_continues_identically(make, fortran):
    """Buffers handed back in Fortran order (a transposed copy of a checkpoint's array) are used and kept up to
    date: two steps, reload with those buffers Fortran-ordered, three steps = five steps in a row."""
    p = nn.Parameter(START.copy())
    straight = make([p])
    for g in GRADS[:2]:
        _step(straight, [p], [g])
    state = {k: np.asfortranarray(v) if k in fortran else v for k, v in straight.state_dict().items()}
    _, values = _continue(make, state, [p.numpy().copy()], [[g] for g in GRADS[2:]])
    for g in GRADS[2:]:
        _step(straight, [p], [g])
    np.testing.assert_allclose(values[0], p.numpy(), rtol=1e-12, atol=1e-14)


class _HalfMomentum(optim.Optimizer):
    """A user's optimizer whose buffer name has a dot in it: b <- b / 2 + g; p <- p - lr b."""

    def _update(self, i, param, grad):
        buffer = self._buffer(i, "grad.avg", param)
        buffer *= 0.5
        buffer += grad
        param -= self.lr * buffer


def test_state_dict_round_trip_of_a_subclass_with_a_dotted_buffer_name():
    """Keys are '<index>.<name>' split at the first dot, so a buffer named 'grad.avg' is saved and restored."""
    a, b = _param([1.0, 2.0]), _param([3.0])
    optimizer = _HalfMomentum([a, b], lr=0.1)
    _step(optimizer, [a, b], [[1.0, -1.0], [2.0]])
    state = optimizer.state_dict()
    assert {"0.grad.avg", "1.grad.avg"} <= set(state)
    restored, values = _continue(lambda ps: _HalfMomentum(ps, lr=0.1), state, [a.numpy().copy(), b.numpy().copy()],
                                 [[[0.5, 0.5], [1.0]]])
    np.testing.assert_allclose(restored.state[0]["grad.avg"], [0.5 * 1.0 + 0.5, 0.5 * -1.0 + 0.5], rtol=1e-15)
    np.testing.assert_allclose(values[0], [1.0 - 0.1 * 1.0 - 0.1 * 1.0, 2.0 + 0.1 - 0.1 * 0.0], rtol=1e-15)
    np.testing.assert_allclose(values[1], [3.0 - 0.2 - 0.1 * 2.0], rtol=1e-15)


# ----- non-contiguous parameters -----
OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.1),
}


@pytest.mark.parametrize("layout", ["columns", "transposed"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_non_contiguous_parameter_is_updated_in_place_like_a_contiguous_one(name, layout):
    """A parameter that is a view (the first columns of a wider array, or a transpose) moves as a contiguous
    copy of it does, and the update lands in the viewed array."""
    if layout == "columns":
        base = np.zeros((2, 5))
        base[:, :3] = START
        view = base[:, :3]
    else:
        base = np.ascontiguousarray(START.T)
        view = base.T
    p, reference = nn.Parameter(view), nn.Parameter(START.copy())
    assert not p.data.flags.c_contiguous and np.shares_memory(p.data, base)
    ours, theirs = OPTIMIZERS[name]([p]), OPTIMIZERS[name]([reference])
    for g in GRADS[:3]:
        _step(ours, [p], [g])
        _step(theirs, [reference], [g])
    np.testing.assert_allclose(p.numpy(), reference.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(view, reference.numpy(), rtol=1e-12, atol=1e-14)


# ----- non-finite parameters -----
INF_OPTIMIZERS = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1), "SGD"),
    "adam": (lambda ps: optim.Adam(ps, lr=0.1), "Adam"),
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.1), "AdamW"),
}


def _step_from_infinity(name, monkeypatch, numba):
    """One step (g = 1) of an optimizer without an L2 term from p = [inf, 1], next to PyTorch's."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(kernels, "_numba_enabled", numba)
    make, torch_name = INF_OPTIMIZERS[name]
    p = _param([math.inf, 1.0])
    _step(make([p]), [p], [[1.0, 1.0]])
    q = torch.nn.Parameter(torch.tensor([math.inf, 1.0], dtype=torch.float64))
    theirs = getattr(torch.optim, torch_name)([q], lr=0.1)
    q.grad = torch.ones(2, dtype=torch.float64)
    theirs.step()
    return p.numpy(), q.detach().numpy()


@pytest.mark.parametrize("name", INF_OPTIMIZERS)
def test_without_l2_term_an_infinite_parameter_stays_infinite_on_the_generic_path(name, monkeypatch):
    """With no L2 penalty the update does not involve p itself, so an infinite entry stays inf (no 0 * inf = NaN)
    and the finite entry moves as in PyTorch."""
    ours, theirs = _step_from_infinity(name, monkeypatch, numba=False)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    assert ours[0] == math.inf


@pytest.mark.parametrize("name", INF_OPTIMIZERS)
def test_without_l2_term_an_infinite_parameter_stays_infinite_on_the_fused_path(name, monkeypatch):
    """The same step through the fused kernels (numba on, contiguous NumPy parameter)."""
    ours, theirs = _step_from_infinity(name, monkeypatch, numba=True)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


# ----- clip_grad_norm_ -----
def test_clip_grad_norm_without_any_gradient_returns_zero():
    """Parameters none of which has a gradient have total norm 0."""
    assert optim.clip_grad_norm_([_param([1.0]), _param([2.0, 3.0])], max_norm=1.0) == 0.0


def test_clip_grad_norm_at_exactly_max_norm_leaves_the_gradients_alone():
    """A norm equal to max_norm (here 5) is within the limit: the gradient is not rescaled at all."""
    p = _param([0.0, 0.0])
    p.grad = Tensor(np.array([3.0, 4.0]))
    grad = p.grad
    assert optim.clip_grad_norm_([p], max_norm=5.0) == 5.0
    assert p.grad is grad
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 4.0])


def test_clip_grad_norm_scales_by_max_norm_over_norm_plus_1e_6():
    """The scale is max_norm / (||g|| + 1e-6), as PyTorch's: for a small norm (5e-4) the clipped norm is visibly
    below max_norm (1e-4 * 5e-4 / (5e-4 + 1e-6))."""
    p = _param([0.0, 0.0])
    p.grad = Tensor(np.array([3e-4, 4e-4]))
    total = optim.clip_grad_norm_([p], max_norm=1e-4)
    assert total == pytest.approx(5e-4, rel=1e-14)
    np.testing.assert_allclose(p.grad.numpy(), np.array([3e-4, 4e-4]) * 1e-4 / (5e-4 + 1e-6), rtol=1e-13)
    assert math.hypot(*p.grad.numpy()) < 1e-4


def test_clip_grad_norm_matches_pytorch():
    """Norm and clipped gradients of two parameters agree with torch.nn.utils.clip_grad_norm_."""
    torch = pytest.importorskip("torch")
    grads = [np.array([3e-4, -4e-4, 1e-4]), np.array([[2e-4], [-1e-4]])]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = Tensor(g.copy()), torch.tensor(g)
    total = optim.clip_grad_norm_(ours, max_norm=2e-4)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=2e-4)
    assert total == pytest.approx(float(expected), rel=1e-14)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13)


# ----- EMA state dict -----
def test_ema_state_dict_round_trip_keeps_float32_averages():
    """A float32 model's averages stay float32 through a state dict, and copy_to leaves the model float32."""
    p = _param([1.0, 2.0], dtype=np.float32)
    ema = optim.EMA([p], decay=0.5)
    p.data = np.array([3.0, 4.0], dtype=np.float32)
    ema.update()
    target = _param([0.0, 0.0], dtype=np.float32)
    restored = optim.EMA([target], decay=0.9)
    restored.load_state_dict(ema.state_dict())
    assert restored.shadow[0].dtype == np.float32
    np.testing.assert_array_equal(restored.shadow[0], np.array([2.0, 3.0], dtype=np.float32))
    restored.copy_to()
    assert target.numpy().dtype == np.float32


def test_ema_state_without_warmup_loads_as_the_plain_average():
    """A checkpoint from before the warmup option has no 'warmup' entry: it loads with warmup off."""
    p = _param([1.0])
    ema = optim.EMA([p], decay=0.9)
    ema.update()
    state = ema.state_dict()
    del state["warmup"]
    restored = optim.EMA([_param([0.0])], decay=0.5, warmup=True)
    restored.load_state_dict(state)
    assert restored.warmup is False
    assert restored.current_decay() == 0.9
