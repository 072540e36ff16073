"""Contracts of scratchgen.models.vae that test_vae.py leaves open.

Pinned here: the KL helpers sum over the last axis of stacked samples; the config's JSON is key-sorted and a
dict without ``kind`` is a VAE config; Tensors are accepted as images and stay differentiable inputs; the pixel
likelihoods' defaults (Gaussian sigma 0.1), their means and samplers with huge logits, zero-probability
outcomes and the clipped Gaussian draw; the model's dtype in what it converts and returns; the log-variance
clamp; the VAE and HVAE ELBOs against a hand computation from the docstring formulas; KL warm-up, the
training and validation losses; log_likelihood's and negative_elbo's defaults, its k range, its last pass and
its per-image log-sum-exp; interpolate's defaults and first images; keyword construction; seeded determinism
with dropout; and the HVAE's networks (architecture, activation, dropout, mirrored decoder, top-down path).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special

from autograd_lite import Tensor, nn, no_grad, ops
from scratchgen.data import load_digits
from scratchgen.models import VAE, HierarchicalVAE, HierarchicalVAEConfig, VAEConfig, config_from_dict
from scratchgen.models.networks import ACTIVATIONS, MLP, ConvDecoder, ConvEncoder
from scratchgen.models.vae import PixelLikelihood, check_images, kl_between_normals, kl_to_standard_normal

LOG_2PI = math.log(2 * math.pi)


def tiny(kind: str = "vae", **overrides):
    """A fast model: one hidden layer of 8, two latent dimensions (two at the top too)."""
    values = dict(hidden=(8,), latent_dim=2, seed=0, iwae_k=2) | overrides
    if kind == "hvae":
        return HierarchicalVAE(HierarchicalVAEConfig(**({"top_latent_dim": 2} | values)))
    return VAE(VAEConfig(**values))


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits("train")[0][:6]


def _np(t: Tensor) -> np.ndarray:
    return np.asarray(t.numpy(), dtype=np.float64)


def _split(h: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    d = h.shape[-1] // 2
    return h[..., :d], np.clip(h[..., d:], lo, hi)


def _kl_std(mu: np.ndarray, lv: np.ndarray) -> np.ndarray:
    return 0.5 * (mu**2 + np.exp(lv) - 1 - lv).sum(axis=-1)


def _categorical_log_prob(out: np.ndarray, x: np.ndarray) -> np.ndarray:
    logp = special.log_softmax(out, axis=-2)  # (n, 17, 64)
    return np.take_along_axis(logp, x.astype(np.int64)[:, None, :], axis=-2)[:, 0, :].sum(axis=-1)


# ----- the Gaussian algebra on stacked samples -----------------------------------------------------------------
def test_kl_helpers_sum_over_the_last_axis_of_stacked_samples():
    """On (k, n, d) inputs both KLs are per (k, n) sums over the d latent dimensions."""
    rng = np.random.default_rng(1)
    mu_q, lv_q, mu_p, lv_p = (rng.standard_normal((2, 3, 4)) for _ in range(4))
    kl = kl_to_standard_normal(Tensor(mu_q), Tensor(lv_q)).numpy()
    assert kl.shape == (2, 3)
    np.testing.assert_allclose(kl, _kl_std(mu_q, lv_q), rtol=1e-12)
    kl = kl_between_normals(Tensor(mu_q), Tensor(lv_q), Tensor(mu_p), Tensor(lv_p)).numpy()
    expected = 0.5 * (lv_p - lv_q + (np.exp(lv_q) + (mu_q - mu_p) ** 2) / np.exp(lv_p) - 1).sum(axis=-1)
    assert kl.shape == (2, 3)
    np.testing.assert_allclose(kl, expected, rtol=1e-12)


# ----- configuration ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [VAEConfig, HierarchicalVAEConfig])
def test_config_json_lists_its_fields_in_sorted_order(cls):
    """to_json is canonical: the keys come sorted (one config, one string, whatever the field order)."""
    keys = list(json.loads(cls(hidden=(4,)).to_json()))
    assert keys == sorted(keys) and "kind" in keys


def test_config_from_dict_without_a_kind_is_a_vae_config():
    """A dict with no ``kind`` describes a plain VAE."""
    config = config_from_dict({"latent_dim": 3, "hidden": [4]})
    assert type(config) is VAEConfig and config == VAEConfig(latent_dim=3, hidden=(4,))


@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_models_take_their_config_as_keyword_overrides(kind):
    """VAE(**fields) / HierarchicalVAE(**fields) build the model of the config with those fields."""
    cls, config_cls = (VAE, VAEConfig) if kind == "vae" else (HierarchicalVAE, HierarchicalVAEConfig)
    model = cls(latent_dim=3, hidden=(4,), seed=2)
    assert model.config == config_cls(latent_dim=3, hidden=(4,), seed=2)


# ----- images as Tensors -------------------------------------------------------------------------------------------
def test_check_images_and_the_estimates_accept_a_tensor(digits):
    """A Tensor of grey levels is validated like the same NumPy array."""
    np.testing.assert_array_equal(check_images(Tensor(digits), "categorical"), check_images(digits, "categorical"))
    model = tiny()
    np.testing.assert_array_equal(model.log_likelihood(Tensor(digits), k=2), model.log_likelihood(digits, k=2))


def test_a_tensor_batch_stays_a_differentiable_input(digits):
    """A Tensor batch is used as is: the ELBO's gradient reaches the pixels."""
    model = tiny(likelihood="bernoulli")
    x = Tensor(digits, requires_grad=True, dtype=model.dtype)
    model.elbo(x, rng=0).elbo.sum().backward()
    assert x.grad is not None and x.grad.shape == digits.shape
    grad = x.grad.numpy()
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


# ----- pixel likelihoods ---------------------------------------------------------------------------------------
def test_gaussian_pixel_likelihood_defaults_to_sigma_0_1():
    """PixelLikelihood('gaussian') is N(x / 16; sigmoid(l), 0.1^2) per pixel."""
    rng = np.random.default_rng(2)
    out, x = rng.standard_normal((3, 1, 64)), rng.integers(0, 17, (3, 64)).astype(np.float64)
    ours = PixelLikelihood("gaussian").log_prob(Tensor(out), Tensor(x)).numpy()
    mu = special.expit(out[:, 0])
    expected = (-0.5 * ((x / 16 - mu) / 0.1) ** 2 - math.log(0.1) - 0.5 * LOG_2PI).sum(axis=1)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def _peaked_logits() -> tuple[np.ndarray, np.ndarray]:
    """(2, 17, 64) logits with one level 60 nats above the rest at every pixel, and per-pixel offsets of
    +-800 (beyond exp's range): the levels every pixel all but surely takes."""
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 17, (2, 64))
    out = np.zeros((2, 17, 64))
    np.put_along_axis(out, levels[:, None, :], 60.0, axis=1)
    out += np.where(np.arange(64) % 2 == 0, 800.0, -800.0)
    return out, levels


def test_categorical_mean_and_sample_are_stable_for_huge_logits():
    """Softmax over the 17 levels is taken per pixel, shifted by that pixel's own maximum: logits far beyond
    exp's range still give the right means and draws."""
    out, levels = _peaked_logits()
    pixels = PixelLikelihood("categorical")
    np.testing.assert_allclose(pixels.mean(out), levels, atol=1e-9)
    np.testing.assert_array_equal(pixels.sample(out, np.random.default_rng(4)), levels)


def test_pixel_means_keep_the_decoder_dtype():
    """mean() of float32 decoder outputs is float32 for every likelihood."""
    out = np.random.default_rng(5).standard_normal((2, 17, 64)).astype(np.float32)
    for name in ("categorical", "bernoulli", "gaussian"):
        assert PixelLikelihood(name).mean(out).dtype == np.float32


class _ZeroUniforms:
    """A generator whose uniforms are all exactly 0: the edge of [0, 1) that rng.random() can return."""

    def random(self, shape):
        return np.zeros(shape)


def test_zero_probability_outcomes_are_never_drawn_even_at_u_equal_zero():
    """Inverse-transform sampling never picks a grey level of probability 0 (categorical), and a pixel whose
    'on' probability is 0 stays 0 (Bernoulli), even when the uniform is exactly 0."""
    out = np.zeros((1, 17, 64))
    out[:, 0, :] = -2000.0  # level 0: probability exp(-2000) = 0 in float64
    draws = PixelLikelihood("categorical").sample(out, _ZeroUniforms())
    np.testing.assert_array_equal(draws, np.ones((1, 64)))
    with np.errstate(over="ignore"):
        draws = PixelLikelihood("bernoulli").sample(np.full((1, 1, 64), -2000.0), _ZeroUniforms())
    np.testing.assert_array_equal(draws, np.zeros((1, 64)))


def test_gaussian_samples_are_reparameterised_draws_clipped_to_the_pixel_range():
    """The Gaussian sampler draws 16 (sigmoid(l) + s eta), eta the generator's standard normals (one per pixel),
    clipped to [0, 16]: with logits near +-6 many draws land exactly on 0 and 16."""
    rng = np.random.default_rng(6)
    out = rng.uniform(-6, 6, (5, 1, 64))
    draws = PixelLikelihood("gaussian", gaussian_sigma=0.2).sample(out, np.random.default_rng(7))
    eta = np.random.default_rng(7).standard_normal((5, 64))
    expected = np.clip(16 * (special.expit(out[:, 0]) + 0.2 * eta), 0, 16)
    np.testing.assert_allclose(draws, expected, rtol=1e-12)
    assert draws.dtype == np.float64
    assert np.any(draws == 0) and np.any(draws == 16) and draws.min() >= 0 and draws.max() <= 16


# ----- the model's dtype -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_a_float32_model_converts_and_returns_float32(kind, digits):
    """The default (float32) model converts data to float32 and reconstructs and interpolates in float32."""
    model = tiny(kind)
    assert model.dtype == np.float32
    assert model.check_data(digits).dtype == np.float32
    assert model.reconstruct(digits).dtype == np.float32
    assert model.interpolate(digits[0], digits[1], steps=3).dtype == np.float32


# ----- the bounds against hand computations ---------------------------------------------------------------------
def test_encoder_log_variance_is_clamped_to_the_configured_range(digits):
    """log sigma^2 from the encoder lies in [log_var_min, log_var_max] and reaches both ends when the raw
    outputs spread beyond them."""
    model = tiny(latent_dim=8, log_var_min=-0.01, log_var_max=0.01).to(np.float64)
    with no_grad():
        _, log_var = model.encode(digits)
    lv = log_var.numpy()
    assert lv.min() == -0.01 and lv.max() == 0.01


def test_vae_elbo_matches_the_hand_computation_with_the_configured_gaussian_sigma(digits):
    """ELBO = log N(x / 16; sigmoid(decode(z)), s^2) - KL, z = mu + sigma eta with eta from the given seed and
    s the config's gaussian_sigma (not the likelihood's default)."""
    model = tiny(likelihood="gaussian", gaussian_sigma=0.5).to(np.float64)
    with no_grad():
        terms = model.elbo(digits, rng=5)
        mu, lv = (_np(t) for t in model.encode(digits))
        z = mu + np.exp(0.5 * lv) * np.random.default_rng(5).standard_normal(mu.shape)
        out = _np(model.decode(z))
    mean = special.expit(out[:, 0])
    recon = (-0.5 * ((digits / 16 - mean) / 0.5) ** 2 - math.log(0.5) - 0.5 * LOG_2PI).sum(axis=1)
    np.testing.assert_allclose(terms.reconstruction.numpy(), recon, rtol=1e-10)
    np.testing.assert_allclose(terms.kl.numpy(), _kl_std(mu, lv), rtol=1e-10)
    np.testing.assert_allclose(terms.elbo.numpy(), recon - _kl_std(mu, lv), rtol=1e-10)


def test_hvae_elbo_matches_the_docstring_formula(digits):
    """The HVAE's one-sample ELBO from its networks by hand: q(z_2|x) = N(mu(h), sigma(h)^2), z_1's posterior
    N(mu_p + dmu, sigma_p^2 exp(dlog)) (log-variance clamped), eta_2 then eta_1 drawn from the seed, and
    kl = KL(q(z_2) || N(0, I)) + KL(q(z_1) || p(z_1|z_2)). Tight log-variance bounds make the clamp bite."""
    lo, hi = -0.05, 0.05
    model = tiny("hvae", log_var_min=lo, log_var_max=hi).to(np.float64)
    rng = np.random.default_rng(8)
    with no_grad():
        terms = model.elbo(digits, rng=8)
        h = model.bottom_up_activation(model.bottom_up(Tensor(digits / 16)))
        mu2, lv2 = _split(_np(model.posterior_top(h)), lo, hi)
        z2 = mu2 + np.exp(0.5 * lv2) * rng.standard_normal(mu2.shape)
        t = model.top_down(Tensor(z2))
        mu_p, lv_p = _split(_np(model.prior_bottom(t)), lo, hi)
        delta = _np(model.posterior_bottom(ops.concat([h, t], axis=-1)))
        d = delta.shape[-1] // 2
        raw = lv_p + delta[:, d:]
        assert raw.min() < lo and raw.max() > hi
        mu1, lv1 = mu_p + delta[:, :d], np.clip(raw, lo, hi)
        z1 = mu1 + np.exp(0.5 * lv1) * rng.standard_normal(mu1.shape)
        out = _np(model.decode(np.concatenate([z1, _np(t)], axis=1)))
    recon = _categorical_log_prob(out, digits)
    kl1 = 0.5 * (lv_p - lv1 + (np.exp(lv1) + (mu1 - mu_p) ** 2) / np.exp(lv_p) - 1).sum(axis=-1)
    kl = _kl_std(mu2, lv2) + kl1
    np.testing.assert_allclose(terms.reconstruction.numpy(), recon, rtol=1e-10)
    np.testing.assert_allclose(terms.kl.numpy(), kl, rtol=1e-10)
    np.testing.assert_allclose(terms.elbo.numpy(), recon - kl, rtol=1e-10)


# ----- objectives --------------------------------------------------------------------------------------------------
def test_kl_weight_is_one_without_warmup_and_linear_during_a_short_one():
    """beta = 1 at every epoch without warm-up; with a half-epoch warm-up beta = epoch / 0.5 up to 1."""
    plain = tiny()
    assert plain.kl_weight(0.0) == 1.0 and plain.kl_weight(3.5) == 1.0
    short = tiny(kl_warmup_epochs=0.5)
    assert short.kl_weight(0.0) == 0.0 and short.kl_weight(0.25) == 0.5 and short.kl_weight(2.0) == 1.0
    assert tiny(kl_warmup_epochs=1.0).kl_weight(0.5) == 0.5


def test_training_loss_defaults_to_epoch_zero(digits):
    """Without an epoch the loss is at the start of warm-up: beta = 0, so -mean(reconstruction) even for the
    IWAE objective."""
    model = tiny(kl_warmup_epochs=2.0, objective="iwae").to(np.float64)
    model.eval()
    x = model.to_tensor(model.check_data(digits))
    with no_grad():
        loss = model.training_loss(x, np.random.default_rng(0)).item()
        expected = -model.elbo(x, rng=0).reconstruction.numpy().mean()
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("objective, k", [("elbo", 1), ("iwae", 3)])
def test_validation_loss_is_minus_the_bound_with_the_training_k(objective, k, digits):
    """validation_loss = -mean L_k with k = iwae_k for IWAE and k = 1 (the ELBO) for the ELBO objective."""
    model = tiny(objective=objective, iwae_k=3).to(np.float64)
    x = model.to_tensor(model.check_data(digits))
    with no_grad():
        expected = -model.iwae_bound(x, k, rng=0).numpy().mean()
    assert model.validation_loss(x, np.random.default_rng(0)) == pytest.approx(expected, rel=1e-12)


# ----- log_likelihood and negative_elbo ---------------------------------------------------------------------------
def test_log_likelihood_and_negative_elbo_defaults(digits):
    """log_likelihood defaults to k = 1000, rng = 0, batches of 64, passes of 250; negative_elbo to 10 samples
    and rng = 0."""
    model = tiny()
    x = digits[:2]
    np.testing.assert_array_equal(model.log_likelihood(x),
                                  model.log_likelihood(x, k=1000, rng=0, batch_size=64, samples_per_pass=250))
    np.testing.assert_array_equal(model.negative_elbo(x), model.negative_elbo(x, n_samples=10, rng=0))


def test_log_likelihood_evaluates_64_images_a_batch_by_default():
    """65 images go in a batch of 64 and one of 1 (the draws follow that split)."""
    x = load_digits("train")[0][:65]
    model = tiny()
    np.testing.assert_array_equal(model.log_likelihood(x, k=2), model.log_likelihood(x, k=2, batch_size=64))
    assert not np.array_equal(model.log_likelihood(x, k=2), model.log_likelihood(x, k=2, batch_size=65))


def test_log_likelihood_takes_k_up_to_100000(digits):
    """k = 100000 is allowed, k = 100001 is refused naming k."""
    model = tiny(likelihood="bernoulli", hidden=(2,), latent_dim=1)
    value = model.log_likelihood(digits[:1], k=100_000, samples_per_pass=100_000)
    assert value.shape == (1,) and np.isfinite(value[0])
    with pytest.raises(ValueError, match="^k must be"):
        model.log_likelihood(digits[:1], k=100_001)


def test_log_likelihood_last_pass_draws_only_the_samples_left(digits):
    """k = 5 in passes of 2 is 2 + 2 + 1 samples: the same estimate as one pass of 5."""
    model = tiny().to(np.float64)
    np.testing.assert_allclose(model.log_likelihood(digits, k=5, samples_per_pass=2),
                               model.log_likelihood(digits, k=5, samples_per_pass=5), rtol=1e-12)


def test_log_likelihood_log_sum_exp_is_per_image():
    """The log-mean-exp is stabilised per image: two images thousands of nats apart (Gaussian pixels with a
    small sigma) both get finite estimates, each the log-mean-exp of its own weights."""
    model = tiny(likelihood="gaussian", gaussian_sigma=0.01).to(np.float64)
    x = np.stack([np.zeros(64), np.full(64, 8.0)])
    ours = model.log_likelihood(x, k=4, rng=0)
    model.eval()
    with no_grad():
        w = model.log_weights(x, 4, np.random.default_rng(0)).numpy()
    assert np.ptp(w.max(axis=0)) > 1000
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, special.logsumexp(w, axis=0) - math.log(4), rtol=1e-12)


# ----- decoding, interpolating -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_decode_takes_a_single_code(kind, digits):
    """A 1-D code (code_dim,) decodes to one image's (channels, 64) parameters."""
    model = tiny(kind)
    with no_grad():
        code = model.posterior_code(digits).numpy()
        one = model.decode(code[0]).numpy()
        batch = model.decode(code[:1]).numpy()
    assert one.shape == (model.pixels.channels, 64)
    np.testing.assert_array_equal(one, batch[0])


def test_interpolate_defaults_to_8_steps_allows_2_and_uses_the_first_images(digits):
    """interpolate has 8 steps by default; 2 steps are its two ends; only each argument's first image counts."""
    model = tiny()
    assert model.interpolate(digits[0], digits[1]).shape == (8, 8, 8)
    ends = model.interpolate(digits[0], digits[1], steps=2)
    np.testing.assert_allclose(ends, model.reconstruct(digits[:2]), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(model.interpolate(digits[:3], digits[3:], steps=4),
                                  model.interpolate(digits[0], digits[3], steps=4))
    np.testing.assert_array_equal(model.interpolate(digits[:2], digits[3:5], steps=2),
                                  model.interpolate(digits[0], digits[3], steps=2))


# ----- seeds and networks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_same_seed_same_model_and_same_dropout_masks(kind, architecture, digits):
    """Two models built from one config have the same weights and, in training mode, draw the same dropout
    masks (input dropout included): the seed fixes everything."""
    config = dict(architecture=architecture, dropout=0.3, input_dropout=0.5, seed=4)
    a, b = tiny(kind, **config), tiny(kind, **config)
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(pa, pb, err_msg=name)
    assert a.training and b.training
    np.testing.assert_array_equal(a.elbo(digits[:3], rng=0).elbo.numpy(), b.elbo(digits[:3], rng=0).elbo.numpy())


@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_without_dropout_training_mode_is_deterministic(kind, digits):
    """With dropout = input_dropout = 0 the training-mode ELBO equals the eval-mode one."""
    model = tiny(kind, hidden=(8, 8))
    train = model.elbo(digits, rng=1).elbo.numpy()
    model.eval()
    np.testing.assert_array_equal(train, model.elbo(digits, rng=1).elbo.numpy())


def test_every_hvae_network_drops_out_in_training_mode():
    """dropout > 0 puts Dropout in every HVAE network (bottom-up, top-down, posterior, decoder): each is random
    in training mode and deterministic in eval mode."""
    model = tiny("hvae", hidden=(8, 8), dropout=0.5)
    width, d1 = 8, 2
    rng = np.random.default_rng(9)
    inputs = {"bottom_up": rng.random((4, 64)), "top_down": rng.standard_normal((4, 2)),
              "posterior_bottom": rng.standard_normal((4, 2 * width)),
              "decoder": rng.standard_normal((4, d1 + width))}
    for name, x in inputs.items():
        network = getattr(model, name)
        x = Tensor(x, dtype=model.dtype)
        model.train()
        with no_grad():
            assert not np.array_equal(network(x).numpy(), network(x).numpy()), name
        model.eval()
        with no_grad():
            np.testing.assert_array_equal(network(x).numpy(), network(x).numpy(), err_msg=name)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_every_activation_is_the_configured_one(kind, architecture):
    """activation='tanh' reaches every network: each activation layer in the model is a Tanh."""
    model = tiny(kind, architecture=architecture, hidden=(8, 8), activation="tanh")
    kinds = tuple(ACTIVATIONS.values())
    found = [type(m) for m in model.modules() if isinstance(m, kinds)]
    assert found and set(found) == {nn.Tanh}


def test_hvae_architecture_picks_mlp_or_conv_networks():
    """The HVAE's bottom-up network and decoder are MLPs for 'mlp' and the conv encoder / decoder for 'conv'."""
    mlp, conv = tiny("hvae"), tiny("hvae", architecture="conv")
    assert isinstance(mlp.bottom_up, MLP) and isinstance(mlp.decoder, MLP)
    assert isinstance(conv.bottom_up, ConvEncoder) and isinstance(conv.decoder, ConvDecoder)


@pytest.mark.parametrize("skip", [True, False])
def test_hvae_decoder_mirrors_the_hidden_sizes(skip):
    """With hidden = (8, 16) the bottom-up MLP is 64-8-16 and the decoder code-16-8-(17*64)."""
    model = tiny("hvae", hidden=(8, 16), skip_top_down=skip)
    assert model.bottom_up.sizes == (64, 8, 16)
    assert model.code_dim == (2 + 16 if skip else 2)
    assert model.decoder.sizes == (model.code_dim, 16, 8, 17 * 64)


def test_hvae_top_down_features_are_activations(digits):
    """t(z_2), the decoder's skip input, ends in the activation: with relu the t part of every code is >= 0."""
    model = tiny("hvae", activation="relu", hidden=(16,))
    with no_grad():
        codes = [model.posterior_code(digits).numpy(), model.prior_sample(50, np.random.default_rng(0)).numpy()]
    for code in codes:
        t = code[:, 2:]
        assert t.shape[1] == 16 and t.min() >= 0 and np.any(t > 0)
