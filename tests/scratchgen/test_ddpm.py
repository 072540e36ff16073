"""The DDPM: the forward process and its posterior, the samplers on a Gaussian toy with the exact denoiser,
the discretised decoder and the variational bound, training, checkpoints."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from scratchgen.data import make_toy
from scratchgen.models import DDPM, DDPMConfig, build_model
from scratchgen.models.ddpm import discretized_gaussian_log_likelihood, gaussian_kl, log_bin_probability
from scratchgen.models.diffusion import (
    NoiseSchedule,
    ancestral_sample,
    cosine_betas,
    ddim_sample,
    ddim_timesteps,
    linear_betas,
)
from scratchgen.training import TrainConfig, Trainer

schedules = st.lists(st.floats(1e-4, 0.5), min_size=1, max_size=40).map(np.array)


# ----- the forward process -----------------------------------------------------------------------------------
@given(schedules)
def test_closed_form_moments_match_repeated_steps(betas):
    """q(x_t | x_0) = N(sqrt(abar_t) x_0, 1 - abar_t) is the T-fold composition of x_t = sqrt(alpha_t) x_{t-1} +
    sqrt(beta_t) eps: propagate the mean and variance step by step and compare at every t."""
    s = NoiseSchedule(betas)
    x0, mean, var = 1.7, 1.7, 0.0
    for t in range(1, s.T + 1):
        mean, var = np.sqrt(1 - betas[t - 1]) * mean, (1 - betas[t - 1]) * var + betas[t - 1]
        np.testing.assert_allclose(mean, np.sqrt(s.alpha_bars[t]) * x0, rtol=1e-12)
        np.testing.assert_allclose(var, 1 - s.alpha_bars[t], rtol=1e-10, atol=1e-15)


def test_q_step_chain_and_q_sample_agree_in_distribution():
    s = NoiseSchedule(linear_betas(30, 1e-3, 0.2))
    rng = np.random.default_rng(0)
    x0 = np.full((20000, 1), 0.8)
    x = x0.copy()
    for t in range(1, s.T + 1):
        x = s.q_step(x, np.full(len(x), t), rng.standard_normal(x.shape))
    direct = s.q_sample(x0, np.full(len(x0), s.T), rng.standard_normal(x0.shape))
    assert stats.ks_2samp(x[:, 0], direct[:, 0]).pvalue > 0.01
    assert stats.kstest(direct[:, 0], "norm", args=(np.sqrt(s.alpha_bars[-1]) * 0.8,
                                                    np.sqrt(1 - s.alpha_bars[-1]))).pvalue > 0.01


@given(schedules, st.floats(-3, 3), st.floats(-3, 3))
def test_posterior_is_bayes_rule(betas, x0, xt):
    """q(x_{t-1} | x_t, x_0) from Bayes: prior N(sqrt(abar_{t-1}) x_0, 1 - abar_{t-1}) times the likelihood
    N(x_t; sqrt(alpha_t) x_{t-1}, beta_t), a product of Gaussians: precisions add, means are precision-weighted."""
    s = NoiseSchedule(betas)
    for t in range(2, s.T + 1):
        prior_var = 1 - s.alpha_bars[t - 1]
        precision = 1 / prior_var + s.alphas[t] / s.betas[t]
        mean = (np.sqrt(s.alpha_bars[t - 1]) * x0 / prior_var + np.sqrt(s.alphas[t]) * xt / s.betas[t]) / precision
        got_mean, got_var = s.q_posterior(np.array([x0]), np.array([xt]), np.array([t]))
        np.testing.assert_allclose(got_var.ravel(), 1 / precision, rtol=1e-9)
        np.testing.assert_allclose(got_mean.ravel(), mean, rtol=1e-9, atol=1e-9)


@given(schedules, st.floats(-3, 3), st.floats(-3, 3))
def test_p_mean_is_the_posterior_mean_at_the_predicted_x0(betas, x0, eps):
    s = NoiseSchedule(betas)
    t = np.array([s.T])
    xt = s.q_sample(np.array([x0]), t, np.array([eps]))
    np.testing.assert_allclose(s.predict_x0(xt, t, np.array([eps])), [x0], atol=1e-6 / np.sqrt(s.alpha_bars[-1]))
    np.testing.assert_allclose(s.p_mean(xt, t, np.array([eps])), s.q_posterior(np.array([x0]), xt, t)[0],
                               rtol=1e-7, atol=1e-7)


def test_schedules():
    betas = linear_betas(1000)
    assert betas[0] == 1e-4 and betas[-1] == 0.02 and np.all(np.diff(betas) > 0)
    s = NoiseSchedule(cosine_betas(100))
    f = np.cos((np.arange(101) / 100 + 0.008) / 1.008 * np.pi / 2) ** 2
    np.testing.assert_allclose(s.alpha_bars[:95], (f / f[0])[:95], rtol=1e-10)  # the cap bites only at the end
    assert np.all(s.betas[1:] <= 0.999)
    assert NoiseSchedule.make("linear", 1000).alpha_bars[-1] < 1e-4  # x_T is (almost) pure noise
    with pytest.raises(ValueError, match="schedule"):
        NoiseSchedule.make("quadratic", 10)
    with pytest.raises(ValueError, match="betas"):
        NoiseSchedule(np.array([0.1, 1.0]))


def test_ddim_timesteps_are_strided_and_end_at_T():
    taus = ddim_timesteps(1000, 50)
    assert len(taus) == 50 and taus[-1] == 1000 and taus[0] == 20 and np.all(np.diff(taus) == 20)
    np.testing.assert_array_equal(ddim_timesteps(10, 10), np.arange(1, 11))
    assert ddim_timesteps(1000, 3).tolist() == [333, 667, 1000]
    with pytest.raises(ValueError, match="steps"):
        ddim_timesteps(10, 11)


# ----- the samplers, with the exact denoiser of Gaussian data -------------------------------------------------
MU, SD = np.array([1.0, -0.5]), 0.5


def gaussian_schedule():
    return NoiseSchedule.make("linear", 1000)


def exact_denoiser(schedule):
    """x_0 ~ N(mu, sd^2 I): x_t ~ N(sqrt(a) mu, a sd^2 + 1 - a), and E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) mu)
    / (a sd^2 + 1 - a): the best possible eps_theta."""
    def denoiser(x, t):
        a = schedule.alpha_bars[t][:, None]
        return np.sqrt(1 - a) * (x - np.sqrt(a) * MU) / (a * SD**2 + 1 - a)
    return denoiser


def assert_gaussian_samples(x, tolerance=0.05):
    for axis in range(2):
        assert stats.kstest(x[:, axis], "norm", args=(MU[axis], SD)).pvalue > 0.01
    np.testing.assert_allclose(x.mean(axis=0), MU, atol=tolerance)
    np.testing.assert_allclose(x.std(axis=0), SD, rtol=2 * tolerance)


@pytest.mark.parametrize("variance", ["beta", "posterior"])
def test_ancestral_sampling_with_the_exact_denoiser_recovers_the_data(variance):
    s = gaussian_schedule()
    x = ancestral_sample(exact_denoiser(s), s, (4000, 2), np.random.default_rng(1), variance=variance)
    assert_gaussian_samples(x)


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_with_all_steps_and_the_exact_denoiser_recovers_the_data(eta):
    s = gaussian_schedule()
    x = ddim_sample(exact_denoiser(s), s, (4000, 2), np.random.default_rng(2), steps=1000, eta=eta)
    assert_gaussian_samples(x)


def test_few_step_ddim_on_gaussian_data_is_the_predicted_affine_map():
    """With eta = 0 and the exact denoiser each DDIM step is affine in x_t, x_s = c x_t + d with
    c = (sqrt(a_s a_t) sd^2 + sqrt((1 - a_s)(1 - a_t))) / (a_t sd^2 + 1 - a_t): composing the 20 maps predicts the
    output's mean and std exactly (a little too narrow: coarse DDIM shrinks a Gaussian, by Cauchy-Schwarz)."""
    s = gaussian_schedule()
    taus = ddim_timesteps(1000, 20)
    scale, shift = 1.0, np.zeros(2)  # x = scale * x_T + shift
    for t, u in zip(taus[::-1], np.concatenate([[0], taus[:-1]])[::-1]):
        a_t, a_s = s.alpha_bars[t], s.alpha_bars[u]
        v = a_t * SD**2 + 1 - a_t
        c = (np.sqrt(a_s * a_t) * SD**2 + np.sqrt((1 - a_s) * (1 - a_t))) / v
        d = np.sqrt(a_s) * (MU - np.sqrt(a_t) * MU * np.sqrt(a_t) * SD**2 / v) - np.sqrt(1 - a_s) * np.sqrt(
            1 - a_t) * np.sqrt(a_t) * MU / v
        scale, shift = c * scale, c * shift + d
    x = ddim_sample(exact_denoiser(s), s, (4000, 2), np.random.default_rng(2), steps=20)
    assert 0.8 * SD < scale < 0.9 * SD  # visibly narrower than the data
    for axis in range(2):
        assert stats.kstest(x[:, axis], "norm", args=(shift[axis], scale)).pvalue > 0.01


def test_ddim_eta_one_all_steps_is_ancestral_with_the_posterior_variance():
    s = NoiseSchedule.make("linear", 200, 1e-3, 0.05)
    denoiser = exact_denoiser(s)
    a = ancestral_sample(denoiser, s, (3000, 2), np.random.default_rng(3), variance="posterior")
    d = ddim_sample(denoiser, s, (3000, 2), np.random.default_rng(3), steps=200, eta=1.0)
    np.testing.assert_allclose(d, a, rtol=1e-8, atol=1e-8)  # the same update, draw for draw
    other = ddim_sample(denoiser, s, (3000, 2), np.random.default_rng(4), steps=200, eta=1.0)
    for axis in range(2):
        assert stats.ks_2samp(a[:, axis], other[:, axis]).pvalue > 0.01


def test_a_wrong_denoiser_is_caught():
    """The toy has teeth: a denoiser off by 10% gives samples the KS test rejects."""
    s = gaussian_schedule()
    exact = exact_denoiser(s)
    x = ancestral_sample(lambda x, t: 1.1 * exact(x, t), s, (4000, 2), np.random.default_rng(1))
    with pytest.raises(AssertionError):
        assert_gaussian_samples(x)


def test_trajectory_and_clipping():
    s = NoiseSchedule.make("linear", 100, 1e-3, 0.1)
    x, trajectory = ancestral_sample(exact_denoiser(s), s, (50, 2), np.random.default_rng(0), trajectory_every=25)
    assert [t for t, _ in trajectory] == [100, 75, 50, 25, 0]
    np.testing.assert_array_equal(trajectory[-1][1], x)
    clipped = ddim_sample(exact_denoiser(s), s, (500, 2), np.random.default_rng(0), steps=10, clip=(-0.2, 0.2))
    assert np.all(np.abs(clipped) <= 0.2 + 1e-12)


# ----- the discretised decoder and the bound -----------------------------------------------------------------
LEVELS = np.arange(17) / 8.0 - 1.0


@given(st.floats(-1.5, 1.5), st.floats(1e-3, 2.0))
@settings(max_examples=50)
def test_the_decoder_sums_to_one_over_the_17_levels(mean, sigma):
    log_p = discretized_gaussian_log_likelihood(LEVELS, np.full(17, mean), sigma)
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, rtol=1e-9)
    assert np.all(log_p <= 0)


def test_bin_probability_in_the_tails():
    """No cancellation far in the upper tail: the mass of [8, 9] is Phi(-8) - Phi(-9)."""
    np.testing.assert_allclose(log_bin_probability(np.array([8.0]), np.array([9.0])),
                               np.log(stats.norm.sf(8.0) - stats.norm.sf(9.0)), rtol=1e-10)
    np.testing.assert_allclose(log_bin_probability(np.array([-np.inf]), np.array([0.0])), np.log(0.5))


def test_gaussian_kl():
    assert gaussian_kl(np.array(0.3), np.array(0.5), np.array(0.3), np.array(0.5)) == 0
    rng = np.random.default_rng(0)
    z = 0.2 + np.sqrt(0.5) * rng.standard_normal(200_000)  # Monte Carlo E_q[log q - log p]
    mc = np.mean(stats.norm.logpdf(z, 0.2, np.sqrt(0.5)) - stats.norm.logpdf(z, -0.4, np.sqrt(1.5)))
    np.testing.assert_allclose(gaussian_kl(np.array(0.2), np.array(0.5), np.array(-0.4), np.array(1.5)), mc, rtol=0.01)


def tiny_digit_model(**overrides):
    config = DDPMConfig(**{"data": "digits", "architecture": "unet", "channels": 8, "time_dim": 16, "timesteps": 20,
                           "clip_x0": True, **overrides})
    return DDPM(config)


def test_the_bound_on_digits_is_finite_and_made_of_its_terms():
    from scratchgen.data import load_digits

    digits = load_digits("test")[0][:20]
    model = tiny_digit_model()
    bound = model.nll_bound(digits, rng=0)
    assert set(bound) == {"prior", "diffusion", "decoder", "total"}
    np.testing.assert_allclose(bound["total"], bound["prior"] + bound["diffusion"] + bound["decoder"])
    assert np.all(np.isfinite(bound["total"])) and np.all(bound["diffusion"] >= 0) and np.all(bound["prior"] >= 0)
    again = model.nll_bound(digits, rng=0)
    np.testing.assert_array_equal(again["total"], bound["total"])  # seeded
    with pytest.raises(ValueError, match="whole grey levels"):
        model.nll_bound(np.minimum(digits + 0.5, 16))
    with pytest.raises(ValueError, match="digits"):
        DDPM(DDPMConfig(data="ring", hidden=(8,), time_dim=8)).nll_bound(np.zeros((3, 2)))


def test_samples_are_digits_on_the_17_levels_and_seeded():
    model = tiny_digit_model()
    a = model.sample(6, rng=5)
    assert a.shape == (6, 8, 8) and set(np.unique(a)) <= set(range(17))
    np.testing.assert_array_equal(a, model.sample(6, rng=5))
    b, trajectory = model.sample(4, rng=0, sampler="ddim", steps=5, return_trajectory=1)
    assert b.shape == (4, 8, 8) and len(trajectory) == 6 and trajectory[0][1].shape == (4, 8, 8)


# ----- training ----------------------------------------------------------------------------------------------
def test_a_short_training_run_lowers_the_loss_on_the_swiss_roll():
    train, validation = make_toy("swiss_roll", 4000, seed=0), make_toy("swiss_roll", 500, seed=1)
    model = DDPM(DDPMConfig(data="swiss_roll", hidden=(64, 64), time_dim=32))
    before = model.validation_loss(model.to_tensor(validation), np.random.default_rng(0))
    result = Trainer(model, train, validation, TrainConfig(epochs=10, batch_size=128, lr=5e-3, patience=0),
                     progress=False).fit()
    after = model.validation_loss(model.to_tensor(validation), np.random.default_rng(0))
    assert before > 0.9 and after < 0.75 * before  # eps_theta = 0 at the start: E|eps|^2 / 2 = 1; trained ~0.3
    assert result.validation_loss[-1] < result.validation_loss[0]


def test_checkpoint_round_trip(tmp_path):
    from scratchgen.training import load_checkpoint, write_checkpoint

    model = tiny_digit_model(seed=3)
    for p in model.parameters():  # move off the zero-initialised output layer
        p.data += 0.01
    write_checkpoint(tmp_path / "m.npz", model, kind="model")
    loaded = load_checkpoint(tmp_path / "m.npz").model
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8))
    t = np.array([1, 5, 10, 15, 20])
    np.testing.assert_array_equal(loaded.predict_noise(x, t), model.predict_noise(x, t))
    assert isinstance(build_model(loaded.config), DDPM)


def test_config_is_validated():
    with pytest.raises(ValueError, match="unet"):
        DDPMConfig(data="ring", architecture="unet")
    with pytest.raises(ValueError, match="clip_x0"):
        DDPMConfig(data="ring", clip_x0=True)
    with pytest.raises(ValueError, match="variance"):
        DDPMConfig(variance="learned")
    with pytest.raises(ValueError, match="beta_start"):
        DDPMConfig(beta_start=0.1, beta_end=0.01)
    with pytest.raises(ValueError, match="sampler"):
        DDPM(DDPMConfig(hidden=(8,), time_dim=8)).sample(3, sampler="euler")


def test_the_levels_denoiser_is_exact_as_the_noise_vanishes():
    """With x_0 on the 17 levels and sigma_t far below their spacing, Bayes' rule alone (the network's logits
    still zero) recovers x_0, hence eps, exactly; the plain eps-network at zero predicts eps = 0."""
    rng = np.random.default_rng(0)
    x0_levels = rng.integers(0, 17, (8, 64))
    for parameterization, tolerance in (("levels", 1e-8), ("eps", None)):
        model = tiny_digit_model(parameterization=parameterization, timesteps=1000)
        x0 = model.to_model_space(x0_levels)
        t = np.full(8, 1)
        eps = rng.standard_normal(x0.shape)
        error = np.mean((model.predict_noise(model.schedule.q_sample(x0, t, eps), t) - eps) ** 2)
        if tolerance is None:
            assert error > 0.5
        else:
            assert error < tolerance


def test_the_levels_denoiser_is_differentiable_in_x_t():
    """The guidance and inverse-problem samplers differentiate eps_theta through x_t."""
    import autograd_lite as al
    from autograd_lite import Tensor

    model = tiny_digit_model(parameterization="levels")
    model.to(np.float64)
    xt = Tensor(np.random.default_rng(1).standard_normal((2, 1, 8, 8)) * 0.5, requires_grad=True)
    t = np.array([3, 15])
    (g,) = al.grad(model.eps_theta(xt, t).sum(), xt)
    h = 1e-6
    bump = np.zeros((2, 1, 8, 8))
    bump[1, 0, 3, 4] = h
    up, down = model.predict_noise(xt.numpy() + bump, t), model.predict_noise(xt.numpy() - bump, t)
    numeric = (up.sum() - down.sum()) / (2 * h)
    np.testing.assert_allclose(g.numpy()[1, 0, 3, 4], numeric, rtol=1e-5)
    with pytest.raises(ValueError, match="levels"):
        DDPMConfig(data="ring", parameterization="levels")


def test_a_class_conditional_model_takes_its_pairs_everywhere():
    """nll_bound and forward_process take a conditional model's (x, labels) pairs (the bound of its
    unconditional half); labels passed to an unconditional model are refused."""
    from scratchgen.data import load_digits

    model = tiny_digit_model(channels=4, groups=2, time_dim=8, timesteps=5, num_classes=10)
    x, labels = (a[:2] for a in load_digits("test"))
    bound = model.nll_bound((x, labels), rng=0)
    assert np.all(np.isfinite(bound["total"]))
    states = model.forward_process((x, labels), [0, 5], rng=0)
    np.testing.assert_allclose(states[0], x.reshape(2, 8, 8))
    unconditional = tiny_digit_model(channels=4, groups=2, time_dim=8, timesteps=5)
    with pytest.raises(ValueError, match="^labels are for a class-conditional model"):
        unconditional.eps_theta(np.zeros((2, 1, 8, 8)), np.array([1, 2]), labels=np.array([0, 1]))


def test_timesteps_and_model_space_batches_are_checked_by_name():
    """t must be whole timesteps in 1..T, one per row (or one for all); x_t must have the model's sample shape;
    the schedule's formulas need noise of x's shape."""
    model = DDPM(DDPMConfig(data="ring", hidden=(8,), time_dim=8, timesteps=10))
    x = np.zeros((3, 2))
    np.testing.assert_array_equal(model.predict_noise(x, 4), model.predict_noise(x, np.full(3, 4)))
    for t in (0, 11, 2.5, np.array([1, 2])):
        with pytest.raises(ValueError, match="^t must"):
            model.predict_noise(x, t)
    with pytest.raises(ValueError, match=r"^xt must be a model-space batch shaped \(n, 2\)"):
        model.predict_noise(np.zeros((3, 3)), 4)
    with pytest.raises(ValueError, match="^noise must have the shape of x0"):
        model.schedule.q_sample(x, np.full(3, 2), np.zeros((3, 1)))
    assert model.schedule.q_sample(x, 0, np.ones((3, 2))).shape == (3, 2)  # t = 0 is the data itself


@pytest.mark.parametrize("network", ["mlp", "unet"])
@pytest.mark.parametrize("classes", [0, 3])
def test_a_shared_timestep_code_gives_each_rows_own_output_and_gradient(network, classes):
    """A batch with few distinct (t, label) rows computes their code once (one row when all share t, as in a
    sampler's step); outputs and weight gradients equal those of each row alone, which takes the plain path."""
    import autograd_lite as al
    from scratchgen.models.networks import TimeMLP, UNet

    rng = np.random.default_rng(3)
    if network == "mlp":
        net = TimeMLP(2, hidden=(8, 8), time_dim=8, rng=0, dtype=np.float64, num_classes=classes)
        x = rng.standard_normal((6, 2))
    else:
        net = UNet(1, channels=4, time_dim=8, groups=2, rng=0, dtype=np.float64, num_classes=classes)
        x = rng.standard_normal((6, 1, 8, 8))
    for p in net.parameters():  # move off the zero last layer, which would zero every other gradient
        p.data = p.data + 0.1 * rng.standard_normal(p.shape)
    labels = np.array([0, 1, 0, 0, 1, 3]) if classes else None
    for t in (np.full(6, 7), np.array([7, 7, 2, 7, 2, 7])):
        whole = net(al.Tensor(x), t, labels)
        (whole * whole).sum().backward()
        grads = [p.grad.numpy().copy() for p in net.parameters()]
        net.zero_grad()
        rows = []
        for i in range(6):
            out = net(al.Tensor(x[i:i + 1]), t[i:i + 1], None if labels is None else labels[i:i + 1])
            (out * out).sum().backward()
            rows.append(out.numpy())
        np.testing.assert_allclose(whole.numpy(), np.concatenate(rows), rtol=1e-10, atol=1e-12)
        for p, g in zip(net.parameters(), grads):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-8, atol=1e-10)
        net.zero_grad()
