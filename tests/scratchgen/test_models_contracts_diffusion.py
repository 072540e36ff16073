"""Contracts of ``scratchgen.models.diffusion`` that test_ddpm.py leaves open (mutation testing, issue 14).

Pinned here: the linear schedule's range check (equal ends allowed, beta_end >= 1 refused) and its float64 result
even for float32 ends; the cosine schedule as its formula, T values, capped at ``max_beta`` (0 refused); a
schedule's arrays by hand for three betas (alpha-bar_{t-1}, the posterior's variance and coefficients, set to 0 at
t = 0), zero betas refused, and a construction that warns of nothing; ``make("cosine")``; ``sigma2``'s two
choices; timesteps one per row of the batch; ``q_step``, ``q_sample`` and ``predict_x0`` by hand (t = 0 is the
data itself); the ancestral sampler and DDIM, with and without clipping and eta, step by step against the formulas
in their docstrings with the same generator's draws; how many draws each takes from the caller's generator (no z
at the last step, none at all for eta = 0); DDIM's default of 50 deterministic steps; one progress tick per step.
All in float64, seeded, with small T.
"""
import warnings

import numpy as np
import pytest

from scratchgen.models.diffusion import (
    NoiseSchedule,
    ancestral_sample,
    cosine_betas,
    ddim_sample,
    ddim_timesteps,
    linear_betas,
)

BETAS = np.array([0.1, 0.2, 0.3])


def toy_denoiser(x, t):
    """A made-up eps_theta, affine in x_t and depending on t (one int64 timestep per row)."""
    assert t.dtype == np.int64 and t.shape == (len(x),)
    return 0.4 * x - 0.05 * t.reshape(-1, *([1] * (x.ndim - 1)))


# ----- schedules ---------------------------------------------------------------------------------------------
def test_linear_betas_default_range_and_float64_for_float32_ends():
    np.testing.assert_allclose(linear_betas(5), [1e-4, 0.0050750, 0.01005, 0.0150250, 0.02], rtol=1e-12)
    betas = linear_betas(3, np.float32(0.125), np.float32(0.25))
    assert betas.dtype == np.float64
    np.testing.assert_array_equal(betas, [0.125, 0.1875, 0.25])


def test_linear_betas_allow_equal_ends_and_refuse_beta_end_of_one_or_more():
    np.testing.assert_array_equal(linear_betas(4, 0.01, 0.01), np.full(4, 0.01))  # a constant schedule
    for start, end in ((0.1, 1.0), (0.1, 1.5), (0.2, 0.1)):
        with pytest.raises(ValueError, match="beta_start <= beta_end < 1"):
            linear_betas(4, start, end)


def test_cosine_betas_are_the_formula_capped_at_max_beta():
    T, s = 6, 0.05
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    expected = 1 - f[1:] / f[:-1]
    got = cosine_betas(T, s=s, max_beta=0.9)
    assert got.shape == (T,)
    np.testing.assert_allclose(got, np.minimum(expected, 0.9), rtol=1e-12)
    assert got[-1] == 0.9 and expected[-1] > 0.9  # the cap bites at the last step only
    assert expected[-2] < 0.9
    assert cosine_betas(4).shape == (4,) and cosine_betas(4)[-1] == 0.999  # the default cap
    with pytest.raises(ValueError, match="max_beta"):
        cosine_betas(4, max_beta=0)


def test_make_builds_the_cosine_and_linear_schedules():
    cosine = NoiseSchedule.make("cosine", 7)
    assert cosine.T == 7
    np.testing.assert_array_equal(cosine.betas[1:], cosine_betas(7))
    linear = NoiseSchedule.make("linear", 5, 1e-3, 0.05)
    np.testing.assert_array_equal(linear.betas[1:], linear_betas(5, 1e-3, 0.05))


def test_schedule_arrays_by_hand():
    """betas 0.1, 0.2, 0.3: alpha-bar = 1, 0.9, 0.72, 0.504; beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t;
    the posterior's entries at t = 0 (undefined) are 0, and at t = 1 x_0 is known exactly."""
    s = NoiseSchedule(BETAS)
    assert s.T == 3
    np.testing.assert_array_equal(s.betas, [0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(s.alphas, [1, 0.9, 0.8, 0.7], rtol=1e-15)
    np.testing.assert_allclose(s.alpha_bars, [1, 0.9, 0.72, 0.504], rtol=1e-15)
    np.testing.assert_allclose(s.alpha_bars_prev, [1, 1, 0.9, 0.72], rtol=1e-15)
    beta, alpha = np.array([0.1, 0.2, 0.3]), np.array([0.9, 0.8, 0.7])
    ab, prev = np.array([0.9, 0.72, 0.504]), np.array([1, 0.9, 0.72])  # t = 1..3
    np.testing.assert_allclose(s.posterior_variance[1:], (1 - prev) / (1 - ab) * beta, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(s.posterior_x0_coef[1:], np.sqrt(prev) * beta / (1 - ab), rtol=1e-12)
    np.testing.assert_allclose(s.posterior_xt_coef[1:], np.sqrt(alpha) * (1 - prev) / (1 - ab), rtol=1e-12,
                               atol=1e-16)
    assert s.posterior_variance[0] == 0 and s.posterior_x0_coef[0] == 0 and s.posterior_xt_coef[0] == 0
    assert s.posterior_variance[1] == 0 and s.posterior_xt_coef[1] == 0
    np.testing.assert_allclose(s.posterior_x0_coef[1], 1.0, rtol=1e-15)
    assert s.posterior_variance[2] == pytest.approx(0.1 / 0.28 * 0.2, rel=1e-12)


def test_building_a_schedule_warns_of_nothing():
    """The 0 / 0 of the posterior at t = 0 is silenced: no RuntimeWarning for any schedule."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NoiseSchedule(BETAS)
        NoiseSchedule.make("cosine", 10)
        NoiseSchedule.make("linear", 10)


def test_betas_must_lie_strictly_inside_zero_one():
    for bad in ([0.0, 0.1], [0.1, -0.2], [0.5, 1.0]):
        with pytest.raises(ValueError, match="betas"):
            NoiseSchedule(np.array(bad))


def test_sigma2_is_beta_or_the_posterior_variance():
    s = NoiseSchedule(BETAS)
    np.testing.assert_array_equal(s.sigma2("beta"), [0, 0.1, 0.2, 0.3])
    np.testing.assert_array_equal(s.sigma2("posterior"), s.posterior_variance)
    assert s.sigma2("beta")[2] != s.sigma2("posterior")[2]
    with pytest.raises(ValueError, match="variance"):
        s.sigma2("learned")


# ----- the forward process and its inverse --------------------------------------------------------------------
def test_timesteps_must_be_one_per_row_of_the_batch():
    s = NoiseSchedule(BETAS)
    for x, t in ((np.zeros((3, 2)), np.array([1, 2])), (np.zeros((1, 2)), np.array([1, 2, 3]))):
        with pytest.raises(ValueError, match=rf"^t must be a scalar or one timestep per row of x0 \({len(x)}\)"):
            s.q_sample(x, t, np.zeros_like(x))
        with pytest.raises(ValueError, match=rf"^t must be a scalar or one timestep per row of x_prev \({len(x)}\)"):
            s.q_step(x, t, np.zeros_like(x))
    x = np.arange(6.0).reshape(3, 2)
    noise = np.ones((3, 2))
    np.testing.assert_array_equal(s.q_sample(x, 2, noise), s.q_sample(x, np.full(3, 2), noise))


def test_q_step_and_q_sample_by_hand():
    s = NoiseSchedule(BETAS)
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    noise = np.array([[0.3, 0.7], [-1.2, 0.4]])
    t = np.array([1, 3])
    alpha, beta, alpha_bar = np.array([[0.9], [0.7]]), np.array([[0.1], [0.3]]), np.array([[0.9], [0.504]])
    np.testing.assert_allclose(s.q_step(x, t, noise), np.sqrt(alpha) * x + np.sqrt(beta) * noise, rtol=1e-14)
    np.testing.assert_allclose(s.q_sample(x, t, noise), np.sqrt(alpha_bar) * x + np.sqrt(1 - alpha_bar) * noise,
                               rtol=1e-14)
    with pytest.raises(ValueError, match="^t must hold whole timesteps in 1..3"):
        s.q_step(x, 0, noise)


def test_predict_x0_by_hand_and_at_t_zero_is_xt():
    s = NoiseSchedule(BETAS)
    xt = np.array([[1.0, -2.0], [0.5, 3.0]])
    eps = np.array([[0.3, 0.7], [-1.2, 0.4]])
    np.testing.assert_array_equal(s.predict_x0(xt, 0, eps), xt)  # alpha-bar_0 = 1: no noise in the data
    np.testing.assert_allclose(s.predict_x0(xt, 2, eps), (xt - np.sqrt(0.28) * eps) / np.sqrt(0.72), rtol=1e-14)


# ----- the samplers ------------------------------------------------------------------------------------------
def ancestral_by_hand(schedule, shape, seed, variance, clip=None):
    """DDPM's Algorithm 2 written out from the module's docstring (mu_theta, or mu~_t at the clipped x0_hat)."""
    rng = np.random.default_rng(seed)
    sigma2 = schedule.betas if variance == "beta" else schedule.posterior_variance
    x = rng.standard_normal(shape)
    for t in range(schedule.T, 0, -1):
        beta, alpha, ab, prev = (schedule.betas[t], schedule.alphas[t], schedule.alpha_bars[t],
                                 schedule.alpha_bars_prev[t])
        eps = toy_denoiser(x, np.full(shape[0], t, dtype=np.int64))
        if clip is None:
            mean = (x - beta / np.sqrt(1 - ab) * eps) / np.sqrt(alpha)
        else:
            x0 = np.clip((x - np.sqrt(1 - ab) * eps) / np.sqrt(ab), *clip)
            mean = np.sqrt(prev) * beta / (1 - ab) * x0 + np.sqrt(alpha) * (1 - prev) / (1 - ab) * x
        x = mean + np.sqrt(sigma2[t]) * rng.standard_normal(shape) if t > 1 else mean
    return x, rng


@pytest.mark.parametrize("variance", ["beta", "posterior"])
@pytest.mark.parametrize("clip", [None, (-0.5, 0.5)])
def test_ancestral_sample_is_algorithm_2_draw_for_draw(variance, clip):
    s = NoiseSchedule(BETAS)
    expected, _ = ancestral_by_hand(s, (5, 2), 7, variance, clip)
    got = ancestral_sample(toy_denoiser, s, (5, 2), np.random.default_rng(7), variance=variance, clip=clip)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    if clip is not None:
        unclipped = ancestral_sample(toy_denoiser, s, (5, 2), np.random.default_rng(7), variance=variance)
        assert not np.allclose(got, unclipped)  # the clip bites on this draw


def test_the_last_ancestral_step_is_the_mean_without_noise():
    """x_T and one z for t = T..2 are drawn from the caller's generator: none at t = 1, so with T = 1 the sample
    is mu_theta(x_1, 1) and the generator has moved by x_T's draw only."""
    s = NoiseSchedule(np.array([0.2]))
    rng = np.random.default_rng(3)
    x = ancestral_sample(toy_denoiser, s, (4, 2), rng)
    reference = np.random.default_rng(3)
    x1 = reference.standard_normal((4, 2))
    np.testing.assert_allclose(x, (x1 - 0.2 / np.sqrt(0.2) * toy_denoiser(x1, np.ones(4, np.int64))) / np.sqrt(0.8),
                               rtol=1e-13)
    assert rng.standard_normal() == reference.standard_normal()
    s3 = NoiseSchedule(BETAS)
    rng = np.random.default_rng(3)
    ancestral_sample(toy_denoiser, s3, (4, 2), rng, variance="posterior")
    _, after = ancestral_by_hand(s3, (4, 2), 3, "posterior")
    assert rng.standard_normal() == after.standard_normal()


def ddim_by_hand(schedule, shape, seed, steps, eta, clip=None):
    """The DDIM update of ddim_sample's docstring; clipping x0_hat replaces eps by the noise it implies."""
    rng = np.random.default_rng(seed)
    a = schedule.alpha_bars
    taus = ddim_timesteps(schedule.T, steps)
    x = rng.standard_normal(shape)
    for t, s in zip(taus[::-1], np.concatenate([[0], taus[:-1]])[::-1]):
        eps = toy_denoiser(x, np.full(shape[0], t, dtype=np.int64))
        x0 = (x - np.sqrt(1 - a[t]) * eps) / np.sqrt(a[t])
        if clip is not None:
            x0 = np.clip(x0, *clip)
            eps = (x - np.sqrt(a[t]) * x0) / np.sqrt(1 - a[t])
        sigma = eta * np.sqrt((1 - a[s]) / (1 - a[t])) * np.sqrt(1 - a[t] / a[s])
        x = np.sqrt(a[s]) * x0 + np.sqrt(1 - a[s] - sigma**2) * eps
        if s > 0 and eta > 0:
            x = x + sigma * rng.standard_normal(shape)
    return x, rng


@pytest.mark.parametrize("eta", [0.0, 0.5])
@pytest.mark.parametrize("clip", [None, (-0.4, 0.4)])
def test_ddim_is_its_update_formula_draw_for_draw(eta, clip):
    s = NoiseSchedule(linear_betas(6, 0.05, 0.3))
    expected, _ = ddim_by_hand(s, (5, 2), 11, 3, eta, clip)
    got = ddim_sample(toy_denoiser, s, (5, 2), np.random.default_rng(11), steps=3, eta=eta, clip=clip)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    if clip is not None:
        assert np.all(np.abs(got) <= 0.4 + 1e-12)
        unclipped = ddim_sample(toy_denoiser, s, (5, 2), np.random.default_rng(11), steps=3, eta=eta)
        assert not np.allclose(got, unclipped)


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_takes_from_the_generator_x_T_and_a_z_per_noisy_step_only(eta):
    """eta = 0 is deterministic given x_T: the caller's generator moves by x_T's draw alone; with eta > 0 by one z
    per step except the last (s = 0)."""
    s = NoiseSchedule(linear_betas(6, 0.05, 0.3))
    rng = np.random.default_rng(5)
    ddim_sample(toy_denoiser, s, (3, 2), rng, steps=3, eta=eta)
    _, after = ddim_by_hand(s, (3, 2), 5, 3, eta)
    assert rng.standard_normal() == after.standard_normal()


def test_ddim_defaults_to_fifty_deterministic_steps():
    s = NoiseSchedule(linear_betas(60, 1e-3, 0.1))
    default = ddim_sample(toy_denoiser, s, (2, 2), np.random.default_rng(0))
    np.testing.assert_array_equal(default, ddim_sample(toy_denoiser, s, (2, 2), np.random.default_rng(0), steps=50,
                                                       eta=0.0))
    np.testing.assert_allclose(default, ddim_by_hand(s, (2, 2), 0, 50, 0.0)[0], rtol=1e-12, atol=1e-12)


def test_each_sampler_step_ticks_progress_by_one():
    s = NoiseSchedule(BETAS)
    ticks = []
    ancestral_sample(toy_denoiser, s, (2, 2), np.random.default_rng(0), progress=ticks.append)
    assert ticks == [1, 1, 1]
    ticks.clear()
    ddim_sample(toy_denoiser, s, (2, 2), np.random.default_rng(0), steps=2, progress=ticks.append)
    assert ticks == [1, 1]


def test_posterior_coefficients_stay_exact_for_betas_below_float_resolution():
    # 1 - beta rounds to 1 for beta = 1e-20, but 1 - alpha-bar_1 is 1e-20, not 0: no inf or nan coefficients
    schedule = NoiseSchedule(np.array([1e-20, 0.1]))
    one_minus = np.array([0.0, 1e-20, 0.1 + 0.9e-20])       # 1 - alpha-bar_t, exactly to float64
    np.testing.assert_allclose(schedule.posterior_x0_coef[1:], schedule.betas[1:] / one_minus[1:]
                               * np.sqrt([1.0, 1.0 - 1e-20]), rtol=1e-15)
    np.testing.assert_allclose(schedule.posterior_variance, [0.0, 0.0, 1e-20 / one_minus[2] * 0.1], rtol=1e-15)
    np.testing.assert_allclose(schedule.posterior_xt_coef, [0.0, 0.0, np.sqrt(0.9) * 1e-20 / one_minus[2]],
                               rtol=1e-15)
