"""Contracts of the GAN and of the shared model-config helpers that mutation testing found unchecked.

The GAN: both MLP players against a NumPy forward pass (ReLU in G, leaky ReLU 0.2 in D, a linear last layer, one
logit per packed sample, the data scale and the digits' [0, 16] <-> [-1, 1] maps), the DCGAN players against
networks rebuilt from the same seed, packing that drops the remainder, the gradient penalty against its formula
(and at a zero gradient), D's and G's objectives and one training step against the same computation done by
hand, gradient clipping of each player's update, the G step every ``d_steps``-th step, the two optimizer
groups, the validation MMD's bandwidths and the digits' Frechet distance, keyword overrides and
``build_model``. The config helpers: sorted JSON keys, unknown keys refused, (n, 8, 8) digits flattened, the
widths', intervals' and timesteps' checks, and ``as_real_array`` passing real arrays through without a copy.
"""
from __future__ import annotations

import json
from collections import deque

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor, nn, optim
from scratchgen import metrics
from scratchgen.models import DDPM, GAN, ConvDecoder, ConvEncoder, DDPMConfig, GANConfig, build_model
from scratchgen.models.data_config import (
    as_real_array,
    check_interval,
    check_points_or_digits,
    check_sizes,
    check_timesteps,
)
from scratchgen.models.gan import discriminator_loss, generator_loss, gradient_penalty, pack_samples

TINY = dict(generator_hidden=(5, 4), discriminator_hidden=(4, 3), latent_dim=3, validation_samples=40)


def tiny_gan(**overrides) -> GAN:
    """A tiny GAN in float64 (exact comparisons)."""
    return GAN(GANConfig(**{**TINY, **overrides})).to(np.float64)


def mlp_forward(params, x, slope):
    """y = W_k(... act(W_1 x + b_1) ...) + b_k, act = leaky ReLU with ``slope`` (0: ReLU), none after the last."""
    weights = [p.numpy() for p in params]
    pairs = list(zip(weights[::2], weights[1::2]))
    for i, (w, b) in enumerate(pairs):
        x = x @ w.T + b
        if i < len(pairs) - 1:
            x = np.where(x > 0, x, slope * x)
    return x


def sgd_optimizers(model, lr=0.1):
    return {"discriminator": optim.SGD(model.discriminator.parameters(), lr=lr),
            "generator": optim.SGD(model.generator.parameters(), lr=lr)}


def weights(module):
    return [p.numpy().copy() for p in module.parameters()]


def points(n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)) * [1.0, 2.0] + [0.5, -1.0]


# ----- construction ----------------------------------------------------------------------------------------
def test_keyword_overrides_build_the_config():
    model = GAN(latent_dim=3, generator_hidden=(5,), discriminator_hidden=(4,), seed=2)
    assert model.config == GANConfig(latent_dim=3, generator_hidden=(5,), discriminator_hidden=(4,), seed=2)
    assert model.noise(2, 0).shape == (2, 3)


def test_build_model_builds_the_model_of_the_given_config():
    gan_config = GANConfig(**TINY, seed=4)
    gan = build_model(gan_config)
    assert isinstance(gan, GAN) and gan.config == gan_config
    assert [p.shape for p in gan.generator.parameters()] == [(5, 3), (5,), (4, 5), (4,), (2, 4), (2,)]
    ddpm_config = DDPMConfig(hidden=(8,), time_dim=8, timesteps=10, seed=1)
    ddpm = build_model(ddpm_config)
    assert isinstance(ddpm, DDPM) and ddpm.config == ddpm_config


# ----- the players -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1.0, 2.0, 0.5])
def test_mlp_generator_is_relu_layers_then_a_linear_output_times_the_data_scale(scale):
    model = tiny_gan(data_scale=scale)
    z = np.random.default_rng(1).normal(size=(7, 3))
    got = model.generator(Tensor(z)).numpy()
    expected = scale * mlp_forward(model.generator.parameters(), z, slope=0.0)
    assert got.shape == (7, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_mlp_generator_of_digits_maps_tanh_onto_zero_to_sixteen():
    model = tiny_gan(data="digits")
    z = np.random.default_rng(1).normal(size=(4, 3)) * 5
    got = model.generator(Tensor(z)).numpy()
    expected = 8.0 * (np.tanh(mlp_forward(model.generator.parameters(), z, slope=0.0)) + 1.0)
    assert got.shape == (4, 64)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got.min() >= 0.0 and got.max() <= 16.0


@pytest.mark.parametrize("scale, pack", [(1.0, 1), (2.0, 1), (0.5, 2), (1.0, 3)])
def test_mlp_discriminator_reads_x_over_the_scale_packed_through_leaky_relu_to_one_logit(scale, pack):
    model = tiny_gan(data_scale=scale, pack=pack)
    D = model.discriminator
    x = points(n=7) * 3
    n = 7 // pack
    got = D(D.prepare(Tensor(x))).numpy()
    packed = (x[:n * pack] / scale).reshape(n, 2 * pack)
    expected = mlp_forward(D.parameters(), packed, slope=0.2).reshape(-1)
    assert got.shape == (n,)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_mlp_discriminator_of_digits_rescales_the_pixels_to_minus_one_one():
    model = tiny_gan(data="digits")
    D = model.discriminator
    x = np.random.default_rng(2).uniform(0, 16, size=(5, 64))
    x[0], x[1] = 0.0, 16.0
    prepared = D.prepare(Tensor(x)).numpy()
    np.testing.assert_allclose(prepared, x / 8.0 - 1.0, rtol=1e-15, atol=1e-15)
    assert np.all(prepared[0] == -1.0) and np.all(prepared[1] == 1.0)
    expected = mlp_forward(D.parameters(), x / 8.0 - 1.0, slope=0.2).reshape(-1)
    np.testing.assert_allclose(D(D.prepare(Tensor(x))).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pack", [1, 2])
def test_dcgan_players_are_the_conv_networks_drawn_from_the_seed_generator_first(pack):
    """G = 8 (tanh(ConvDecoder(z)) + 1); D = ConvEncoder(m channels, leaky ReLU) -> LeakyReLU(0.2) -> Linear(., 1),
    their weights drawn in that order from default_rng(seed)."""
    config = GANConfig(data="digits", architecture="dcgan", latent_dim=3, discriminator_hidden=(6,), pack=pack,
                       seed=3)
    model = GAN(config)
    rng = np.random.default_rng(3)
    decoder = ConvDecoder(3, 1, activation="relu", rng=rng)
    critic = nn.Sequential(ConvEncoder(6, in_channels=pack, activation="leaky_relu", rng=rng), nn.LeakyReLU(0.2),
                           nn.Linear(6, 1, rng=rng))
    z = np.random.default_rng(4).normal(size=(4, 3)).astype(np.float32)
    with al.no_grad():
        fake = model.generator(Tensor(z))
        expected_fake = (np.tanh(decoder(Tensor(z)).numpy().reshape(4, 64)) + 1) * 8.0
        np.testing.assert_allclose(fake.numpy(), expected_fake, rtol=1e-5, atol=1e-5)
        prepared = model.discriminator.prepare(fake)
        assert prepared.shape == (4 // pack, pack, 8, 8)
        images = (expected_fake / 8.0 - 1.0).reshape(4 // pack, pack, 8, 8).astype(np.float32)
        np.testing.assert_allclose(model.discriminator(prepared).numpy(),
                                   critic(Tensor(images)).numpy().reshape(-1), rtol=1e-4, atol=1e-5)


def test_packing_drops_the_rows_that_do_not_fill_a_pack():
    x = np.arange(10.0).reshape(5, 2)
    np.testing.assert_array_equal(pack_samples(Tensor(x), 2).numpy(), x[:4].reshape(2, 4))
    np.testing.assert_array_equal(pack_samples(Tensor(x[:3]), 2).numpy(), x[:2].reshape(1, 4))


# ----- the gradient penalty --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 2), (3, 1, 2, 2)])
def test_gradient_penalty_of_a_quadratic_critic_matches_its_formula(shape):
    """f(x) = |x|^2 / 2 has grad x: the penalty is E[(|e x + (1 - e) y| - 1)^2], one e ~ U(0, 1) per sample."""
    data = np.random.default_rng(0)
    real, fake = data.normal(size=shape), data.normal(size=shape) + 2.0
    critic = lambda x: 0.5 * (x * x).reshape(x.shape[0], -1).sum(axis=1)  # noqa: E731
    got = gradient_penalty(critic, Tensor(real), Tensor(fake), np.random.default_rng(7)).item()
    e = np.random.default_rng(7).random((shape[0],) + (1,) * (len(shape) - 1))
    x_hat = (e * real + (1 - e) * fake).reshape(shape[0], -1)
    expected = np.mean((np.sqrt((x_hat ** 2).sum(axis=1)) - 1) ** 2)
    assert got == pytest.approx(expected, rel=1e-10)


def test_gradient_penalty_of_a_flat_critic_is_one_and_finite():
    """Zero input gradient: ||g|| ~ 0 (the 1e-12 under the root keeps it finite), so the penalty is 1."""
    critic = lambda x: (x * 0.0).sum(axis=1)  # noqa: E731
    rng = np.random.default_rng(0)
    real, fake = Tensor(rng.normal(size=(4, 2))), Tensor(rng.normal(size=(4, 2)))
    value = gradient_penalty(critic, real, fake, rng).item()
    assert np.isfinite(value) and value == pytest.approx(1.0, abs=1e-5)


def test_gradient_penalty_keeps_a_float32_discriminator_in_float32():
    model = GAN(GANConfig(**TINY, loss="wgan_gp", gradient_penalty=1.0))
    D = model.discriminator
    rng = np.random.default_rng(0)
    real = D.prepare(model.to_tensor(points()))
    fake = D.prepare(model.to_tensor(points(seed=1)))
    penalty = gradient_penalty(D, real, fake, rng)
    assert real.dtype == np.float32 and penalty.dtype == np.float32
    assert model.discriminator_objective(points(), rng).dtype == np.float32


# ----- the game ----------------------------------------------------------------------------------------------
def test_optimizer_groups_give_d_the_scaled_lr_and_both_the_betas():
    model = tiny_gan(lr_scale_discriminator=3.0, betas=(0.25, 0.75))
    groups = model.optimizer_groups()
    assert list(groups) == ["discriminator", "generator"]
    d_params, d_options = groups["discriminator"]
    g_params, g_options = groups["generator"]
    assert d_options == {"lr_scale": 3.0, "betas": (0.25, 0.75)}
    assert g_options == {"betas": (0.25, 0.75)}
    assert [id(p) for p in d_params] == [id(p) for p in model.discriminator.parameters()]
    assert [id(p) for p in g_params] == [id(p) for p in model.generator.parameters()]


@pytest.mark.parametrize("loss, penalty, pack", [("non_saturating", 0.0, 1), ("minimax", 0.5, 2),
                                                 ("wgan_gp", 0.0, 1), ("wgan_gp", 2.0, 3)])
def test_discriminator_objective_is_the_loss_on_as_many_fakes_plus_the_weighted_penalty(loss, penalty, pack):
    model = tiny_gan(loss=loss, gradient_penalty=penalty, pack=pack)
    D, G = model.discriminator, model.generator
    real = points(n=6)
    got = model.discriminator_objective(real, np.random.default_rng(5)).item()
    rng = np.random.default_rng(5)
    fake = G(Tensor(rng.standard_normal((6, 3))))
    real_in, fake_in = D.prepare(Tensor(real)), D.prepare(fake)
    expected = discriminator_loss(D(real_in), D(fake_in), loss).item()
    if penalty:
        expected += penalty * gradient_penalty(D, real_in, fake_in, rng).item()
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "wgan_gp"])
def test_generator_objective_is_the_loss_of_n_fresh_fakes_with_d_frozen(loss):
    model = tiny_gan(loss=loss)
    D, G = model.discriminator, model.generator
    value = model.generator_objective(5, np.random.default_rng(2))
    fake = G(Tensor(np.random.default_rng(2).standard_normal((5, 3))))
    assert value.item() == pytest.approx(generator_loss(D(D.prepare(fake)), loss).item(), rel=1e-12)
    value.backward()
    assert all(p.grad is None for p in D.parameters()) and all(p.requires_grad for p in D.parameters())
    assert all(p.grad is not None for p in G.parameters())


def test_a_tensor_batch_is_used_as_is_so_gradients_reach_it():
    model = tiny_gan()
    real = Tensor(points(), requires_grad=True, dtype=np.float64)
    model.discriminator_objective(real, np.random.default_rng(0)).backward()
    assert real.grad is not None and np.any(real.grad.numpy() != 0)


def test_training_step_is_one_d_update_then_one_g_update_on_as_many_fakes():
    batch = points(n=6)
    stepped, by_hand = tiny_gan(seed=1), tiny_gan(seed=1)
    value = stepped.training_step(batch, rng=np.random.default_rng(9), epoch=0.0, step=0,
                                  optimizers=sgd_optimizers(stepped), check_loss=lambda t: t.item())
    rng, opts = np.random.default_rng(9), sgd_optimizers(by_hand)
    d_loss = by_hand.discriminator_objective(batch, rng)
    by_hand.zero_grad()
    d_loss.backward()
    opts["discriminator"].step()
    g_loss = by_hand.generator_objective(6, rng)
    by_hand.zero_grad()
    g_loss.backward()
    opts["generator"].step()
    assert value == pytest.approx(d_loss.item(), rel=1e-12)
    for a, b in zip(weights(stepped), weights(by_hand)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def step_once(model, grad_clip=None, step=0, lr=0.1, scale=1.0):
    kwargs = {} if grad_clip is None else {"grad_clip": grad_clip}
    return model.training_step(points(n=6) * scale, rng=np.random.default_rng(3), epoch=0.0, step=step,
                               optimizers=sgd_optimizers(model, lr), check_loss=lambda t: t.item(), **kwargs)


def test_training_step_does_not_clip_by_default():
    """Far-out points and the WGAN critic's loss give D a gradient of norm ~50: a default clip would show."""
    default, unclipped, clipped = (tiny_gan(loss="wgan_gp") for _ in range(3))
    loss = unclipped.discriminator_objective(points(n=6) * 100, np.random.default_rng(3))
    loss.backward()
    assert optim.clip_grad_norm_(unclipped.discriminator.parameters(), 1e9) > 10
    unclipped.zero_grad()
    step_once(default, scale=100)
    step_once(unclipped, grad_clip=0.0, scale=100)
    step_once(clipped, grad_clip=1.0, scale=100)
    for a, b in zip(weights(default), weights(unclipped)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(weights(default), weights(clipped)))


def test_grad_clip_bounds_each_players_sgd_update_to_lr_times_the_clip():
    model = tiny_gan()
    d_before, g_before = weights(model.discriminator), weights(model.generator)
    step_once(model, grad_clip=1e-3, lr=1.0)
    for before, after in ((d_before, weights(model.discriminator)), (g_before, weights(model.generator))):
        change = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(after, before)))
        assert change == pytest.approx(1e-3, rel=1e-3)


def test_the_generator_steps_on_every_d_steps_th_step_only():
    model = tiny_gan(d_steps=3)
    moved = []
    for step in range(6):
        before = weights(model.generator)
        step_once(model, step=step)
        moved.append(any(not np.array_equal(a, b) for a, b in zip(before, weights(model.generator))))
    assert moved == [False, False, True, False, False, True]


# ----- validation ------------------------------------------------------------------------------------------
def test_validation_loss_is_the_mmd_at_three_fractions_of_the_per_coordinate_spread():
    model = tiny_gan()
    reference = np.random.default_rng(3).normal(size=(30, 2)) * [1.0, 3.0] + [10.0, -5.0]
    got = model.validation_loss(reference, np.random.default_rng(8))
    spread = np.sqrt((reference[:, 0].var() + reference[:, 1].var()) / 2)
    samples = model.sample(40, np.random.default_rng(8))
    expected = metrics.mmd(samples, reference, bandwidth=(0.02 * spread, 0.1 * spread, 0.5 * spread))
    assert got == pytest.approx(expected, rel=1e-10)


def test_validation_loss_of_digits_is_the_frechet_digit_distance_of_the_samples():
    model = tiny_gan(data="digits", validation_samples=12)
    reference = np.random.default_rng(3).uniform(0, 16, size=(10, 64))
    got = model.validation_loss(reference, np.random.default_rng(8))
    expected = metrics.frechet_digit_distance(model.sample(12, np.random.default_rng(8)), reference)
    assert got == pytest.approx(expected, rel=1e-10)


# ----- the config helpers ----------------------------------------------------------------------------------
def test_config_json_has_sorted_keys_and_round_trips():
    config = GANConfig(**TINY, loss="minimax", seed=5)
    keys = list(json.loads(config.to_json()))
    assert keys == sorted(keys) and keys != list(config.__dataclass_fields__)
    assert GANConfig.from_dict(json.loads(config.to_json())) == config


def test_from_dict_refuses_unknown_keys_naming_them():
    with pytest.raises(ValueError, match="bogus"):
        GANConfig.from_dict({"latent_dim": 3, "bogus": 1})


def test_digits_of_shape_n_8_8_are_flattened_row_by_row():
    images = np.random.default_rng(0).integers(0, 17, size=(3, 8, 8))
    flat = check_points_or_digits(images, "x", True)
    assert flat.shape == (3, 64) and flat.dtype == np.float64
    np.testing.assert_array_equal(flat, images.reshape(3, 64))
    np.testing.assert_array_equal(check_points_or_digits(images[:1], "x", True), images[:1].reshape(1, 64))


@pytest.mark.parametrize("shape", [(3, 4, 16), (3, 8, 4), (3, 8, 8, 1), (64,)])
def test_digits_of_other_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="shape"):
        check_points_or_digits(np.zeros(shape), "x", True)


def test_widths_must_be_a_list_tuple_range_or_array():
    assert check_sizes(range(2, 4), "w") == (2, 3)
    with pytest.raises(TypeError, match="w must be"):
        check_sizes(deque([4, 4]), "w")


def test_widths_count_message_says_exactly_or_at_least():
    with pytest.raises(ValueError, match="exactly 3"):
        check_sizes([1, 2], "w", length=3)
    with pytest.raises(ValueError, match="at least 2"):
        check_sizes([1], "w", min_length=2)


def test_an_interval_needs_low_strictly_below_high():
    assert check_interval([0, 1], "clip") == (0.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        check_interval((1.0, 1.0), "clip")


def test_timesteps_are_named_t_of_x_by_default_and_must_be_at_most_one_dimensional():
    with pytest.raises(ValueError, match=r"^t must hold whole timesteps in 1\.\.10"):
        check_timesteps(0, 10)
    with pytest.raises(ValueError, match=r"^t must be a scalar or one timestep per row of x \(3\)"):
        check_timesteps([1, 2], 10, n=3)
    with pytest.raises(ValueError, match="scalar or one timestep per row"):
        check_timesteps([[1, 2]], 10)
    np.testing.assert_array_equal(check_timesteps([1, 2, 3], 10, n=3), [1, 2, 3])


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8, np.bool_])
def test_as_real_array_passes_a_real_array_through_without_a_copy(dtype):
    a = np.ones(3, dtype=dtype)
    assert as_real_array(a, "x") is a


def test_as_real_array_converts_a_list_to_float64():
    out = as_real_array([1, 2], "x")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 2.0])
    with pytest.raises(TypeError, match="x must be"):
        as_real_array(None, "x")
