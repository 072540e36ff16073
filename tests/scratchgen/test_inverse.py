"""The inverse problems' linear operators: adjoints, NumPy and Tensor paths agree, the baselines, PSNR."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import Tensor
from scratchgen.models.inverse import OPERATORS, AveragePool, GaussianBlur, PixelMask, gaussian_kernel, psnr

OPERATOR_CASES = [PixelMask.lower_half(), AveragePool(), GaussianBlur(1.0, 5), GaussianBlur(0.6, 3)]


@pytest.mark.parametrize("A", OPERATOR_CASES, ids=lambda A: f"{A.name}")
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 4))
@settings(max_examples=20, deadline=None)
def test_the_adjoint_is_the_adjoint(A, seed, n):
    """<A x, y> = <x, A^T y> for random x, y: the defining property, on both the NumPy and the Tensor path."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, 1, 8, 8)), rng.standard_normal((n, *A.observed_shape))
    np.testing.assert_allclose(np.sum(A(x) * y), np.sum(x * A.adjoint(y)), atol=1e-10)
    np.testing.assert_allclose(A(Tensor(x)).numpy(), A(x), atol=1e-12)
    np.testing.assert_allclose(A.adjoint(Tensor(y)).numpy(), A.adjoint(y), atol=1e-12)


@pytest.mark.parametrize("A", OPERATOR_CASES, ids=lambda A: f"{A.name}")
def test_the_operator_is_differentiable(A):
    """grad_x (1/2)||y - A x||^2 = -A^T (y - A x): what DPS differentiates through the denoiser."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((2, *A.observed_shape))
    xt = Tensor(x, requires_grad=True)
    r = Tensor(y) - A(xt)
    (g,) = al.grad((r * r).sum() * 0.5, xt)
    np.testing.assert_allclose(g.numpy(), -A.adjoint(y - A(x)), atol=1e-12)


def test_the_operators_do_what_they_say():
    x = np.arange(64.0).reshape(1, 1, 8, 8)
    masked = PixelMask.lower_half()(x)
    assert np.all(masked[0, 0, 4:] == 0) and np.array_equal(masked[0, 0, :4], x[0, 0, :4])
    pooled = AveragePool()(x)
    assert pooled.shape == (1, 1, 4, 4) and pooled[0, 0, 0, 0] == np.mean([0, 1, 8, 9])
    k = gaussian_kernel(1.0, 5)
    assert k.sum() == pytest.approx(1.0) and np.array_equal(k, k.T) and k[2, 2] == k.max()
    flat = np.ones((1, 1, 8, 8))
    blurred = GaussianBlur(1.0, 5)(flat)
    assert blurred[0, 0, 3, 3] == pytest.approx(1.0) and blurred[0, 0, 0, 0] < 0.6  # zero padding darkens corners
    assert set(OPERATORS) == {"inpaint", "superres", "deblur"}
    with pytest.raises(ValueError, match="mask"):
        PixelMask(np.full((8, 8), 0.5))
    with pytest.raises(ValueError, match="odd"):
        GaussianBlur(1.0, 4)


def test_the_upsampling_baselines():
    A = AveragePool()
    ramp = np.tile(np.arange(8.0), (8, 1)).reshape(1, 1, 8, 8)  # linear in the column index
    low = A(ramp)
    np.testing.assert_allclose(A.upsample_bilinear(low)[0, 0, :, 1:7], ramp[0, 0, :, 1:7])  # exact inside
    np.testing.assert_allclose(A.upsample_nearest(low), A.adjoint(low) * 4)
    np.testing.assert_allclose(A(A.upsample_bilinear(low))[..., 1:3], low[..., 1:3])  # consistent inside


def test_psnr():
    truth = np.zeros((2, 8, 8))
    assert psnr(truth, truth) == float("inf")
    assert psnr(truth + 1.6, truth) == pytest.approx(20.0)  # MSE = (16 / 10)^2: 20 dB


# ----- the restoration samplers -------------------------------------------------------------------------------
def tiny_conditional_model(seed=0):
    from scratchgen.models import DDPM, DDPMConfig

    model = DDPM(DDPMConfig(data="digits", architecture="unet", channels=8, time_dim=16, timesteps=15,
                            parameterization="levels", clip_x0=True, num_classes=10, seed=seed))
    for p in model.parameters():  # off the zero-initialised output layer, so labels matter
        p.data += 0.05 * np.random.default_rng(seed).standard_normal(p.shape).astype(p.dtype)
    return model


def test_guidance_zero_is_the_unconditional_model_and_one_the_conditional():
    model = tiny_conditional_model()
    unconditional = model.sample(6, rng=3)
    np.testing.assert_array_equal(model.sample(6, rng=3, labels=7, guidance=0.0), unconditional)
    conditional = model.sample(6, rng=3, labels=7, guidance=1.0)
    assert not np.array_equal(conditional, unconditional)
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8))
    t = np.array([2, 5, 9, 15])
    e_c, e_u = model.predict_noise(x, t, labels=[1, 2, 3, 4]), model.predict_noise(x, t)
    np.testing.assert_allclose(model.predict_noise(x, t, labels=[1, 2, 3, 4], guidance=3.0), e_u + 3 * (e_c - e_u),
                               atol=1e-4)  # float32: one batch of both halves against two batches


def test_labels_are_validated():
    from scratchgen.models import DDPM, DDPMConfig

    model = tiny_conditional_model()
    with pytest.raises(ValueError, match="0..9"):
        model.sample(2, labels=10)
    with pytest.raises(ValueError, match="guidance"):
        model.sample(2, labels=1, guidance=-1.0)
    with pytest.raises(ValueError, match="class-conditional"):
        DDPM(DDPMConfig(data="digits", architecture="unet", channels=8, time_dim=16, timesteps=5)).sample(2, labels=1)
    with pytest.raises(ValueError, match="pair"):
        model.check_data(np.zeros((3, 64)))


def test_repaint_keeps_the_known_pixels_exactly():
    from scratchgen.data import load_digits
    from scratchgen.models.inverse import repaint

    model = tiny_conditional_model()
    truth = model.to_model_space(load_digits("test")[0][:5])
    A = PixelMask.lower_half()
    restored = repaint(model, A(truth), A.mask, np.random.default_rng(0), resample=2)
    known = np.broadcast_to(A.mask, truth.shape) == 1
    np.testing.assert_array_equal(restored[known], truth[known])
    assert np.all(np.isfinite(restored)) and not np.allclose(restored[~known], 0)


class FirstCoordinate:
    """A = [1, 0] on 2-D points: observe x's first coordinate."""

    observed_shape = (1,)

    def __call__(self, x):
        return x[:, :1]


class ExactGaussianModel:
    """The exact denoiser of x_0 ~ N(mu, sd^2 I) in 2-D, as engine ops (so DPS can differentiate it)."""

    def __init__(self, mu, sd):
        from scratchgen.models.diffusion import NoiseSchedule

        self.schedule = NoiseSchedule.make("linear", 1000)
        self.mu, self.sd = np.asarray(mu, dtype=np.float64), sd
        self.sample_shape, self.dtype, self.clip = (2,), np.float64, None

    def parameters(self):
        return []

    def constant(self, values):
        return Tensor(values, dtype=self.dtype)

    def eps_theta(self, xt, t, labels=None):
        a = self.schedule.alpha_bars[t][:, None]
        v = a * self.sd**2 + 1 - a
        return (xt - Tensor(np.sqrt(a) * self.mu)) * Tensor(np.sqrt(1 - a) / v)


def test_dps_with_the_exact_denoiser_moves_samples_toward_the_posterior():
    """x_0 ~ N((1, -0.5), 0.5^2 I), y = x_0[0] = 2: the posterior puts x_0[0] at 2 and leaves x_0[1] ~ N(-0.5,
    0.25). Plain sampling (step 0) scatters x_0[0] around 1; DPS moves it to y, the other coordinate stays put."""
    from scratchgen.models.inverse import dps

    model = ExactGaussianModel([1.0, -0.5], 0.5)
    y = np.full((400, 1), 2.0)
    prior = dps(model, FirstCoordinate(), y, np.random.default_rng(0), steps=100, step_size=0.0)
    guided = dps(model, FirstCoordinate(), y, np.random.default_rng(0), steps=100, step_size=0.5)
    assert abs(prior[:, 0].mean() - 1.0) < 0.1 and abs(prior[:, 0].std() - 0.5) < 0.1
    assert np.mean(np.abs(guided[:, 0] - 2.0)) < 0.25 * np.mean(np.abs(prior[:, 0] - 2.0))
    assert abs(guided[:, 1].mean() + 0.5) < 0.1 and abs(guided[:, 1].std() - 0.5) < 0.15


def test_the_repaint_schedule_walks_down_with_jumps_back_up():
    from scratchgen.models.inverse import repaint_schedule

    moves = repaint_schedule(30, resample=2, jump=10)
    downs = [m for m in moves if m[1] < m[0]]
    ups = [m for m in moves if m[1] > m[0]]
    assert moves[0] == (30, 29) and moves[-1] == (1, 0)
    assert all(a - b == 1 for a, b in downs) and ups == [(20, 30), (10, 20)]
    assert len(downs) == 30 + 2 * 10  # each jump adds its 10 steps again
    assert all(b == a_next for (_, b), (a_next, _) in zip(moves, moves[1:]))  # one continuous walk
    assert repaint_schedule(30, resample=1, jump=10) == [(t, t - 1) for t in range(30, 0, -1)]
