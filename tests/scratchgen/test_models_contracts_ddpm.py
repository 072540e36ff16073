"""Contracts of ``scratchgen.models.ddpm`` that test_ddpm.py leaves open (mutation testing, issue 14).

Pinned here: the config's beta range (equal ends allowed, beta_end = 1 refused); a DDPM built from keyword
overrides, its schedule's beta_end and its network (the configured U-Net or MLP, seeded by ``config.seed``);
the checks of conditional pairs and labels, naming the argument (and the batch ``xt`` for timesteps); the levels
denoiser against Bayes' rule over the 17 grey levels, one timestep for a whole batch; the null label and the
classifier-free guidance formula; L_simple, ``training_loss`` and ``validation_loss`` against the generator's
draws; ``sample``'s defaults (eta = 0, 50 DDIM steps, guidance 1, quiet), its seeding, its clipping, its
progress bar and its data-space trajectory; ``to_data_space``'s shapes and rounding; the likelihood bound term by
term (prior, diffusion, decoder, batching, default seed); ``forward_process``'s states; the decoder's open outer
bins without a warning. Tiny networks in float64 with weights moved off their zero-initialised output layers.
"""
import warnings

import numpy as np
import pytest

import autograd_lite as al
from scratchgen.models import DDPM, DDPMConfig
from scratchgen.models.ddpm import LEVELS, discretized_gaussian_log_likelihood, gaussian_kl, log_bin_probability
from scratchgen.models.diffusion import NoiseSchedule, ancestral_sample, ddim_sample
from scratchgen.models.networks import TimeMLP, UNet

POINTS = {"data": "ring", "hidden": (8,), "time_dim": 8, "timesteps": 10}
DIGITS = {"data": "digits", "architecture": "unet", "channels": 4, "groups": 2, "time_dim": 8, "timesteps": 5}


def perturb(module, seed=0, scale=0.3):
    """Moves every weight by seeded noise (the output layers start at zero, which would make eps_theta = 0)."""
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data = p.data + scale * rng.standard_normal(p.shape)
    return module


def model64(settings, seed=0, **overrides):
    model = DDPM(DDPMConfig(**{**settings, **overrides}))
    model.to(np.float64)
    return perturb(model, seed)


def points(n=4, seed=1):
    return np.random.default_rng(seed).standard_normal((n, 2))


# ----- the config and the model's parts -----------------------------------------------------------------------
def test_config_allows_equal_beta_ends_and_refuses_beta_end_of_one():
    config = DDPMConfig(**POINTS, beta_start=0.01, beta_end=0.01)  # a constant schedule is a valid schedule
    np.testing.assert_allclose(DDPM(config).schedule.betas[1:], 0.01)
    for beta_end in (1.0, 1.5):
        with pytest.raises(ValueError, match="beta_start <= beta_end < 1"):
            DDPMConfig(**POINTS, beta_end=beta_end)


def test_a_model_from_keyword_overrides_is_the_model_of_that_config():
    model = DDPM(**POINTS, beta_start=1e-3, beta_end=0.05)
    assert model.config == DDPMConfig(**POINTS, beta_start=1e-3, beta_end=0.05)
    expected = NoiseSchedule.make("linear", 10, 1e-3, 0.05)
    np.testing.assert_allclose(model.schedule.betas, expected.betas, rtol=1e-12)
    assert model.schedule.betas[-1] == pytest.approx(0.05)


@pytest.mark.parametrize("settings, network", [
    ({**DIGITS, "num_classes": 3, "seed": 4}, "unet"),
    ({**DIGITS, "parameterization": "levels"}, "unet"),
    ({**POINTS, "num_classes": 3, "seed": 2}, "mlp"),
    ({"data": "digits", "hidden": (8,), "time_dim": 8, "timesteps": 5, "parameterization": "levels"}, "mlp"),
])
def test_the_network_is_the_configured_one_seeded_by_the_config(settings, network):
    """The denoiser's network is UNet(1, channels, time_dim, groups) or TimeMLP(data_dim, hidden, time_dim), one
    output per level and pixel for "levels", with the config's classes, drawn from default_rng(config.seed)."""
    config = DDPMConfig(**settings)
    model = DDPM(config)
    outputs = 17 if config.parameterization == "levels" else 1
    rng = np.random.default_rng(config.seed)
    if network == "unet":
        expected = UNet(1, config.channels, config.time_dim, config.groups, out_channels=outputs, rng=rng,
                        num_classes=config.num_classes)
        x = np.random.default_rng(9).standard_normal((3, 1, 8, 8))
    else:
        expected = TimeMLP(config.data_dim, config.hidden, config.time_dim, rng=rng, out_dim=outputs * config.data_dim,
                           num_classes=config.num_classes)
        x = np.random.default_rng(9).standard_normal((3, config.data_dim))
    got, want = list(model.net.parameters()), list(expected.parameters())
    assert [p.shape for p in got] == [p.shape for p in want]
    for p, q in zip(got, want):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    model.to(np.float64)
    expected.to(np.float64)
    perturb(model.net, 5)
    perturb(expected, 5)
    t = np.array([1, 3, 5])
    labels = np.array([0, 2, 3]) if config.num_classes else None
    np.testing.assert_allclose(model.net(al.Tensor(x), t, labels).numpy(), expected(al.Tensor(x), t, labels).numpy(),
                               rtol=1e-12, atol=1e-12)


# ----- data, labels and names in messages --------------------------------------------------------------------
def test_a_conditional_model_wants_exactly_a_pair_and_names_its_parts():
    model = DDPM(DDPMConfig(**POINTS, num_classes=3))
    x, labels = points(), np.array([0, 1, 2, 0])
    for bad in ((x, labels, labels), [x, labels], x):
        with pytest.raises(ValueError, match="pair"):
            model.check_data(bad)
    with pytest.raises(ValueError, match="^train must be 2-D points"):
        model.check_data((np.zeros((4, 3)), labels), "train")
    with pytest.raises(ValueError, match="^train labels must lie in 0..2"):
        model.check_data((x, np.array([0, 1, 2, 5])), "train")
    with pytest.raises(ValueError, match="^x labels must lie in 0..2"):
        model.to_tensor((x, np.array([0, 1, 2, 7])))
    got_x, got_labels = model.check_data((x, labels))
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_labels, labels)


def test_labels_must_be_whole_numbers_and_come_back_as_int64():
    model = DDPM(DDPMConfig(**POINTS, num_classes=3))
    with pytest.raises(ValueError, match="whole numbers"):
        model.check_labels(np.array([0, 1.5, 2, 0]), 4)
    got = model.check_labels([0.0, 1.0, 2.0, 0.0], 4)
    assert got.dtype == np.int64 and got.tolist() == [0, 1, 2, 0]
    assert model.check_labels(2, 3).tolist() == [2, 2, 2]  # one label for all
    with pytest.raises(ValueError, match="0..2"):
        model.check_labels([3, 0, 0, 0], 4)  # the null label is the network's, not the user's


def test_timestep_errors_name_the_batch_xt_and_its_rows():
    t = np.array([1, 2])  # two timesteps for three rows
    points_model = DDPM(DDPMConfig(**POINTS))
    for call in (lambda: points_model.eps_theta(np.zeros((3, 2)), t),
                 lambda: points_model.predict_noise(np.zeros((3, 2)), t)):
        with pytest.raises(ValueError, match=r"^t must be a scalar or one timestep per row of xt \(3\)"):
            call()
    levels = DDPM(DDPMConfig(**DIGITS, parameterization="levels"))
    with pytest.raises(ValueError, match=r"^t must be a scalar or one timestep per row of xt \(3\)"):
        levels.eps_from_levels(np.zeros((3, 1, 8, 8)), t, np.zeros((3, 17, 8, 8)))


def test_predict_noise_refuses_a_badly_shaped_xt_reporting_the_shape_given():
    with pytest.raises(ValueError, match="^xt must be a model-space batch shaped"):
        DDPM(DDPMConfig(**POINTS)).predict_noise(np.float64(0.5), 1)
    model = DDPM(DDPMConfig(**POINTS, num_classes=3))  # guidance runs both halves as one batch of 2n rows
    with pytest.raises(ValueError, match=r"^xt must be a model-space batch shaped \(n, 2\), got \(3, 3\)$"):
        model.predict_noise(np.zeros((3, 3)), 4, labels=np.array([0, 1, 2]), guidance=2.0)


# ----- the levels denoiser ------------------------------------------------------------------------------------
def test_eps_from_levels_is_bayes_rule_over_the_17_levels():
    """p(y_k | x_t) = softmax_k(l_k - (x_t - sqrt(a) y_k)^2 / (2 (1 - a))), x0_hat = sum_k p_k y_k and
    eps = (x_t - sqrt(a) x0_hat) / sqrt(1 - a), computed here in NumPy at a moderate noise level."""
    model = model64(DIGITS, parameterization="levels", timesteps=50)
    rng = np.random.default_rng(2)
    xt = rng.standard_normal((2, 1, 8, 8))
    logits = 2.0 * rng.standard_normal((2, 17, 8, 8))
    t = np.array([10, 30])
    got = model.eps_from_levels(xt, t, logits).numpy()
    a = model.schedule.alpha_bars[t].reshape(2, 1, 1)
    x = xt.reshape(2, 1, 64)
    z = logits.reshape(2, 17, 64) - (x - np.sqrt(a) * LEVELS.reshape(1, 17, 1)) ** 2 / (2 * (1 - a))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    x0 = (p * LEVELS.reshape(1, 17, 1)).sum(axis=1, keepdims=True)
    expected = ((x - np.sqrt(a) * x0) / np.sqrt(1 - a)).reshape(2, 1, 8, 8)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_the_levels_denoiser_takes_one_timestep_for_the_whole_batch():
    model = model64(DIGITS, parameterization="levels")
    rng = np.random.default_rng(3)
    xt, logits = rng.standard_normal((3, 1, 8, 8)), rng.standard_normal((3, 17, 8, 8))
    np.testing.assert_array_equal(model.eps_from_levels(xt, 4, logits).numpy(),
                                  model.eps_from_levels(xt, np.full(3, 4), logits).numpy())
    np.testing.assert_array_equal(model.predict_noise(xt, 2), model.predict_noise(xt, np.full(3, 2)))


# ----- labels and guidance ------------------------------------------------------------------------------------
def test_the_null_label_is_the_unconditional_half():
    model = model64(POINTS, num_classes=3)
    x, t = points(), np.full(4, 6)
    np.testing.assert_allclose(model.predict_noise(x, t, labels=np.full(4, 3)), model.predict_noise(x, t),
                               rtol=1e-12, atol=1e-14)


def test_guidance_extrapolates_from_the_unconditional_to_the_conditional_eps():
    """eps~ = eps(null) + w (eps(label) - eps(null)): w = 0 unconditional, w = 1 conditional, w = 2 twice as far."""
    model = model64(POINTS, num_classes=3)
    x, t, labels = points(), np.array([2, 6, 6, 9]), np.array([0, 1, 2, 0])
    conditional, unconditional = model.predict_noise(x, t, labels), model.predict_noise(x, t)
    assert not np.allclose(conditional, unconditional)
    np.testing.assert_allclose(model.predict_noise(x, t, labels, guidance=0.0), unconditional, rtol=1e-12)
    for w in (2.0, 3.5):
        np.testing.assert_allclose(model.predict_noise(x, t, labels, guidance=w),
                                   unconditional + w * (conditional - unconditional), rtol=1e-10, atol=1e-12)
    plain = model64(POINTS)
    np.testing.assert_array_equal(plain.predict_noise(x, t, guidance=2.0), plain.predict_noise(x, t))


# ----- the losses ---------------------------------------------------------------------------------------------
def test_noise_prediction_loss_is_l_simple_with_the_generators_draws():
    """In order: the label dropout's uniforms (only with labels), t ~ U{1..T}, eps ~ N(0, I); then
    mean((eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t, label) - eps)^2)."""
    model = model64(POINTS, num_classes=3, label_dropout=0.5)
    x0, labels = points(8), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    rng = np.random.default_rng(7)
    dropped = rng.random(8) < 0.5
    assert 0 < dropped.sum() < 8
    used = np.where(dropped, 3, labels)
    t = rng.integers(1, 11, size=8)
    eps = rng.standard_normal((8, 2))
    a = model.schedule.alpha_bars[t][:, None]
    xt = np.sqrt(a) * x0 + np.sqrt(1 - a) * eps
    expected = np.mean((model.predict_noise(xt, t, used) - eps) ** 2)
    got = model.noise_prediction_loss(model.constant(x0), np.random.default_rng(7), labels).item()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_training_on_one_timestep_draws_t_equal_to_one():
    model = model64(POINTS, timesteps=1)
    x0 = points(5)
    rng = np.random.default_rng(0)
    assert rng.integers(1, 2, size=5).tolist() == [1] * 5
    eps = rng.standard_normal((5, 2))
    a = model.schedule.alpha_bars[1]
    expected = np.mean((model.predict_noise(np.sqrt(a) * x0 + np.sqrt(1 - a) * eps, 1) - eps) ** 2)
    got = model.training_loss(model.to_tensor(x0), np.random.default_rng(0)).item()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_training_loss_on_a_conditional_batch_uses_its_labels():
    model = model64(POINTS, num_classes=3)
    x, labels = model.constant(points()), np.array([0, 1, 2, 0])
    got = model.training_loss((x, labels), np.random.default_rng(1)).item()
    assert got == model.noise_prediction_loss(x, np.random.default_rng(1), labels).item()
    for bad in ((x, labels, labels), [x, labels], x):
        with pytest.raises(ValueError, match="pair"):
            model.training_loss(bad, np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"^batch must be a model-space batch shaped \(n, 2\)"):
        model.training_loss((model.constant(np.zeros((4, 3))), labels), np.random.default_rng(1))


def test_validation_loss_is_the_mean_over_the_validation_draws():
    model = model64(POINTS, validation_draws=3)
    x = model.to_tensor(points(6))
    rng = np.random.default_rng(5)
    expected = np.mean([model.training_loss(x, rng).item() for _ in range(3)])
    np.testing.assert_allclose(model.validation_loss(x, np.random.default_rng(5)), expected, rtol=1e-12)
    assert model.validation_loss(x, 5) == model.validation_loss(x, 5)


# ----- sampling -----------------------------------------------------------------------------------------------
def test_sample_defaults_are_eta_zero_fifty_ddim_steps_and_guidance_one():
    model = model64(POINTS, timesteps=60)
    ddim = model.sample(3, rng=0, sampler="ddim", steps=4)
    np.testing.assert_array_equal(ddim, model.sample(3, rng=0, sampler="ddim", steps=4, eta=0.0))
    assert not np.allclose(ddim, model.sample(3, rng=0, sampler="ddim", steps=4, eta=1.0))
    fifty = model.sample(2, rng=1, sampler="ddim")
    np.testing.assert_array_equal(fifty, model.sample(2, rng=1, sampler="ddim", steps=50))
    assert not np.allclose(fifty, model.sample(2, rng=1, sampler="ddim", steps=51))
    conditional = model64(POINTS, num_classes=3)
    once = conditional.sample(3, rng=2, sampler="ddim", steps=3, labels=1)
    np.testing.assert_array_equal(once, conditional.sample(3, rng=2, sampler="ddim", steps=3, labels=1,
                                                           guidance=1.0))
    assert not np.allclose(once, conditional.sample(3, rng=2, sampler="ddim", steps=3, labels=1, guidance=2.0))


def test_sample_is_the_sampler_run_with_the_models_denoiser_and_clip():
    """Seeded both ways: the same rng gives the same digits, ancestral and DDIM; clip_x0 keeps x0_hat in [-1, 1]."""
    model = model64(DIGITS, clip_x0=True)
    shape, s = (3, 1, 8, 8), model.schedule
    for clip, check in (((-1.0, 1.0), np.testing.assert_array_equal), (None, None)):
        want_a = model.to_data_space(ancestral_sample(model.predict_noise, s, shape, np.random.default_rng(4),
                                                      "beta", clip))
        want_d = model.to_data_space(ddim_sample(model.predict_noise, s, shape, np.random.default_rng(4), 3, 0.5,
                                                 clip))
        got_a, got_d = model.sample(3, rng=4), model.sample(3, rng=4, sampler="ddim", steps=3, eta=0.5)
        if check is not None:
            check(got_a, want_a)
            check(got_d, want_d)
        else:  # the clipping bites: without it the digits differ
            assert not np.array_equal(got_a, want_a) and not np.array_equal(got_d, want_d)
    np.testing.assert_array_equal(model.sample(2, rng=6, sampler="ddim", steps=2),
                                  model.sample(2, rng=6, sampler="ddim", steps=2))


class RecordingBar:
    """A stand-in for tqdm: remembers its arguments, its updates and whether it was closed."""

    def __init__(self, made, **kwargs):
        self.kwargs, self.count, self.closed = kwargs, 0, False
        made.append(self)

    def update(self, k=1):
        self.count += k

    def close(self):
        self.closed = True


def test_sampling_is_quiet_by_default_and_shows_one_bar_step_per_step(monkeypatch):
    import tqdm.auto

    made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda **kwargs: RecordingBar(made, **kwargs))
    model = DDPM(DDPMConfig(**POINTS))
    model.sample(2, rng=0)
    model.sample(2, rng=0, sampler="ddim", steps=3)
    assert made == []
    model.sample(2, rng=0, progress=True)
    model.sample(2, rng=0, sampler="ddim", steps=3, progress=True)
    ancestral, ddim = made
    assert ancestral.kwargs == {"total": 10, "unit": "step", "leave": False, "desc": "ancestral sampling"}
    assert ddim.kwargs == {"total": 3, "unit": "step", "leave": False, "desc": "ddim sampling"}
    assert (ancestral.count, ddim.count) == (10, 3) and ancestral.closed and ddim.closed


def test_a_digit_trajectory_is_in_data_units_and_ends_at_the_samples():
    """States x_t as (x + 1) * 8 on the 0..16 scale, continuous: x_T is the seed's first draw, and the samples
    are the last state rounded to the nearest level."""
    model = model64(DIGITS)
    samples, trajectory = model.sample(3, rng=0, return_trajectory=2)
    assert [t for t, _ in trajectory] == [5, 4, 2, 0]
    x_T = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).reshape(3, 8, 8)
    np.testing.assert_allclose(trajectory[0][1], (x_T + 1) * 8, rtol=1e-12)
    np.testing.assert_array_equal(samples, np.clip(np.round(trajectory[-1][1]), 0, 16))


def test_to_data_space_rounds_and_clips_digits_and_keeps_points():
    digits = DDPM(DDPMConfig(**DIGITS))
    y = np.zeros((2, 64))
    y[0, :6] = [-5.0, -1.0, -0.93, 0.0, 0.5, 3.0]
    expected = np.full((2, 64), 8.0)
    expected[0, :6] = [0, 0, 1, 8, 12, 16]
    for shape in ((2, 64), (2, 8, 8), (2, 1, 8, 8)):
        got = digits.to_data_space(y.reshape(shape))
        assert got.shape == (2, 8, 8) and got.dtype == np.float64
        np.testing.assert_array_equal(got, expected.reshape(2, 8, 8))
    for bad in (y.ravel(), np.zeros((2, 63)), np.zeros((2, 2))):
        with pytest.raises(ValueError, match="^y must be model-space samples"):
            digits.to_data_space(bad)
    model = DDPM(DDPMConfig(**POINTS))
    x = points(3)
    got = model.to_data_space(x)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, x)
    for bad in (np.zeros((3, 3)), np.zeros(2), np.zeros((3, 64))):
        with pytest.raises(ValueError, match=r"^y must be model-space samples shaped \(n, 2\)"):
            model.to_data_space(bad)


# ----- the likelihood bound -----------------------------------------------------------------------------------
def random_digits(n, seed=0):
    return np.random.default_rng(seed).integers(0, 17, (n, 8, 8)).astype(np.float64)


def test_the_prior_term_is_the_kl_of_q_x_T_to_the_standard_normal_per_image():
    model = model64(DIGITS, timesteps=3)
    x = random_digits(3)
    x[0] = 0  # images with different sums of squares
    x0 = x.reshape(3, 64) / 8 - 1
    a = model.schedule.alpha_bars[3]
    expected = gaussian_kl(np.sqrt(a) * x0, np.full_like(x0, 1 - a), np.zeros_like(x0), np.ones_like(x0)).sum(axis=1)
    bound = model.nll_bound(x, rng=0)
    assert bound["prior"].shape == (3,)
    np.testing.assert_allclose(bound["prior"], expected, rtol=1e-12)


def test_the_bound_is_every_term_t_one_to_T_with_one_draw_each_batch_by_batch():
    """For each batch (in order) and t = T, ..., 1: x_t = q_sample(x_0, t, a fresh draw); t >= 2 adds
    KL(q(x_{t-1} | x_t, x_0) || N(mu_theta, sigma_t^2)), t = 1 is the decoder -log p(x_0 | x_1), sigma_1^2 = beta_1."""
    model = model64(DIGITS, timesteps=3)
    s = model.schedule
    x = random_digits(3, seed=1)
    x0_all = x.reshape(3, 1, 8, 8) / 8 - 1
    rng = np.random.default_rng(11)
    diffusion, decoder = np.zeros(3), np.zeros(3)
    for lo, hi in ((0, 2), (2, 3)):
        x0 = x0_all[lo:hi]
        for t in (3, 2, 1):
            tt = np.full(hi - lo, t)
            xt = s.q_sample(x0, tt, rng.standard_normal(x0.shape))
            mean = s.p_mean(xt, tt, model.predict_noise(xt, tt))
            if t > 1:
                mean_q, var_q = s.q_posterior(x0, xt, tt)
                diffusion[lo:hi] += gaussian_kl(mean_q, var_q, mean, s.betas[t]).sum(axis=(1, 2, 3))
            else:
                decoder[lo:hi] = -discretized_gaussian_log_likelihood(x0, mean, np.sqrt(s.betas[1])).sum(
                    axis=(1, 2, 3))
    bound = model.nll_bound(x, rng=np.random.default_rng(11), batch_size=2)
    np.testing.assert_allclose(bound["diffusion"], diffusion, rtol=1e-10)
    np.testing.assert_allclose(bound["decoder"], decoder, rtol=1e-10)
    assert np.all(bound["diffusion"] > 0) and np.all(bound["decoder"] > 0)


def test_the_bound_defaults_to_seed_zero_and_batches_of_512():
    model = model64({"data": "digits", "hidden": (4,), "time_dim": 4, "timesteps": 2})
    x = random_digits(513, seed=2)
    bound = model.nll_bound(x)
    for key, value in model.nll_bound(x, rng=0, batch_size=512).items():
        np.testing.assert_array_equal(bound[key], value)
    assert not np.allclose(bound["total"], model.nll_bound(x, rng=0, batch_size=513)["total"])


def test_the_decoders_open_outer_bins_raise_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_p = discretized_gaussian_log_likelihood(LEVELS, np.zeros(17), 0.3)
        assert log_bin_probability(np.array([-np.inf]), np.array([0.0]))[0] == pytest.approx(np.log(0.5))
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, rtol=1e-12)


# ----- the forward process ------------------------------------------------------------------------------------
def test_forward_process_states_share_one_draw_of_the_default_seed():
    model = DDPM(DDPMConfig(**POINTS))
    x = points(4)
    states = model.forward_process(x, [0, 1, 10])
    eps = np.random.default_rng(0).standard_normal((4, 2))
    a = model.schedule.alpha_bars
    np.testing.assert_array_equal(states[0], x)
    for state, t in zip(states[1:], (1, 10)):
        np.testing.assert_allclose(state, np.sqrt(a[t]) * x + np.sqrt(1 - a[t]) * eps, rtol=1e-12)
