"""The GAN: its losses against their closed forms, the gradient penalty to second order, a discriminator
step that helps D, short training on the ring, packing, sampling, bad input, checkpoints and resume."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import Tensor, ops
from scratchgen.data import make_toy
from scratchgen.models import GAN, GANConfig, build_model
from scratchgen.models.gan import discriminator_loss, generator_loss, gradient_penalty, pack_samples
from scratchgen.training import TrainConfig, Trainer, load_checkpoint, resume

TINY = dict(generator_hidden=(16,), discriminator_hidden=(16,), latent_dim=2, validation_samples=200)


def log_sigmoid(f):
    return -np.logaddexp(0.0, -f)


logits = st.lists(st.floats(-30, 30), min_size=1, max_size=20).map(np.array)


@settings(max_examples=30, deadline=None)
@given(real=logits, fake=logits)
def test_losses_equal_their_closed_forms(real, fake):
    """L_D = -E log D(x) - E log(1 - D(G(z))); minimax L_G = E log(1 - D); NS L_G = -E log D; WGAN means."""
    r, f = Tensor(real), Tensor(fake)
    expected_d = -log_sigmoid(real).mean() - log_sigmoid(-fake).mean()
    np.testing.assert_allclose(discriminator_loss(r, f, "minimax").item(), expected_d, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(discriminator_loss(r, f, "non_saturating").item(), expected_d, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(generator_loss(f, "minimax").item(), log_sigmoid(-fake).mean(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(generator_loss(f, "non_saturating").item(), -log_sigmoid(fake).mean(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(discriminator_loss(r, f, "wgan_gp").item(), fake.mean() - real.mean(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(generator_loss(f, "wgan_gp").item(), -fake.mean(), rtol=1e-10, atol=1e-12)


def test_the_saturating_loss_has_a_vanishing_gradient_where_d_rejects_the_fakes():
    """d L_G / d f at f = -10 (D(G(z)) ~ 0): sigmoid(-10) ~ 5e-5 for minimax, ~1 for non-saturating."""
    grads = {}
    for loss in ("minimax", "non_saturating"):
        f = Tensor(np.array([-10.0]), requires_grad=True)
        generator_loss(f, loss).backward()
        grads[loss] = abs(float(f.grad.numpy()[0]))
    assert grads["minimax"] < 1e-4 and grads["non_saturating"] > 0.99


def test_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared():
    """f(x) = w.x has grad w everywhere: the penalty is (||w|| - 1)^2 exactly."""
    w = np.array([[0.3], [-2.0], [0.5]])
    critic = lambda x: (x @ Tensor(w)).reshape(-1)  # noqa: E731
    rng = np.random.default_rng(0)
    real, fake = Tensor(rng.normal(size=(7, 3))), Tensor(rng.normal(size=(7, 3)))
    penalty = gradient_penalty(critic, real, fake, rng).item()
    assert penalty == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-10)


def test_gradient_penalty_gradients_pass_gradcheck_to_second_order():
    """d penalty / d theta (the gradient of an input gradient) and its own gradient match finite differences."""
    rng = np.random.default_rng(1)
    real, fake = Tensor(rng.normal(size=(5, 2))), Tensor(rng.normal(size=(5, 2)))
    w1, w2 = Tensor(rng.normal(size=(2, 4)), requires_grad=True), Tensor(rng.normal(size=(4, 1)), requires_grad=True)

    def penalty(a, b):
        critic = lambda x: (ops.tanh(x @ a) @ b).reshape(-1)  # noqa: E731
        return gradient_penalty(critic, real, fake, np.random.default_rng(7))

    assert al.gradcheck(penalty, [w1, w2])
    assert al.gradgradcheck(penalty, [w1, w2])


def test_packing_puts_m_samples_side_by_side():
    x = Tensor(np.arange(14.0).reshape(7, 2))
    packed = pack_samples(x, 3)
    assert packed.shape == (2, 6)
    np.testing.assert_array_equal(packed.numpy()[1], np.arange(6.0, 12.0))
    images = Tensor(np.zeros((6, 1, 8, 8)))
    assert pack_samples(images, 2).shape == (3, 2, 8, 8)
    with pytest.raises(ValueError, match="packed"):
        pack_samples(Tensor(np.zeros((1, 2))), 2)


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "wgan_gp"])
def test_a_discriminator_step_lowers_its_loss(loss):
    """One Adam step on L_D (same real batch, same fakes) lowers L_D."""
    model = GAN(GANConfig(data="ring", loss=loss, **TINY)).to(np.float64)
    real = Tensor(make_toy("ring", 256, seed=0))
    opt = al.optim.Adam(model.discriminator.parameters(), lr=1e-2)
    before = model.discriminator_objective(real, np.random.default_rng(3))
    opt.zero_grad()
    before.backward()
    opt.step()
    after = model.discriminator_objective(real, np.random.default_rng(3))
    assert after.item() < before.item()


def test_generator_step_leaves_the_discriminator_untouched():
    """G's update gives D's weights no gradient (D is held fixed) and keeps them trainable afterwards."""
    model = GAN(GANConfig(data="ring", **TINY))
    loss = model.generator_objective(64, np.random.default_rng(0))
    loss.backward()
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert all(p.grad is not None for p in model.generator.parameters())
    assert all(p.requires_grad for p in model.discriminator.parameters())


def test_short_training_on_the_ring_lowers_the_mmd():
    """~300 steps of the non-saturating game move the samples towards the ring (validation MMD^2 falls)."""
    model = GAN(GANConfig(data="ring", generator_hidden=(64, 64), discriminator_hidden=(64, 64), pack=2,
                          validation_samples=500))
    train, validation = make_toy("ring", 8192, seed=0), make_toy("ring", 500, seed=1)
    before = model.validation_loss(Tensor(validation), np.random.default_rng(0))
    Trainer(model, train, validation, TrainConfig(epochs=10, batch_size=256, lr=1e-3, patience=0),
            progress=False).fit()
    after = model.validation_loss(Tensor(validation), np.random.default_rng(0))
    assert after < 0.5 * before, (before, after)


def test_sampling_shapes_and_seeds():
    points = GAN(GANConfig(data="ring", **TINY))
    assert points.sample(5, 0).shape == (5, 2)
    np.testing.assert_array_equal(points.sample(5, 0), points.sample(5, 0))
    digits = GAN(GANConfig(data="digits", architecture="dcgan", discriminator_hidden=(8,), latent_dim=4))
    images = digits.sample(3, 1)
    assert images.shape == (3, 8, 8) and images.min() >= 0 and images.max() <= 16
    with pytest.raises(ValueError, match="n must be"):
        points.sample(0)


def test_data_scale_lets_both_players_work_at_unit_scale():
    """data_scale s: x = s MLP(z), and D judges x / s; so a model with s and one without, same weights, give
    samples that differ by the factor s and the same logit on points that do."""
    from autograd_lite import Tensor

    plain, scaled = GAN(GANConfig(data="grid", **TINY)), GAN(GANConfig(data="grid", data_scale=2.5, **TINY))
    np.testing.assert_allclose(scaled.sample(7, 3), 2.5 * plain.sample(7, 3), rtol=1e-6)
    x = np.random.default_rng(0).standard_normal((6, 2))
    d_plain = plain.discriminator(plain.discriminator.prepare(Tensor(x)))
    d_scaled = scaled.discriminator(scaled.discriminator.prepare(Tensor(2.5 * x)))
    np.testing.assert_allclose(d_scaled.numpy(), d_plain.numpy(), rtol=1e-6)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="data_scale"):
            GANConfig(data="grid", data_scale=bad)
    with pytest.raises(ValueError, match="data_scale"):
        GANConfig(data="digits", architecture="dcgan", data_scale=2.0)


@pytest.mark.parametrize("overrides, match", [
    (dict(data="mnist"), "data"), (dict(loss="hinge"), "loss"), (dict(architecture="dcgan"), "dcgan"),
    (dict(pack=0), "pack"), (dict(d_steps=0), "d_steps"), (dict(gradient_penalty=-1.0), "gradient_penalty"),
    (dict(betas=(0.5, 1.0)), "betas"), (dict(lr_scale_discriminator=0.0), "lr_scale"),
])
def test_bad_configs_are_refused_naming_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        GANConfig(**overrides)


@pytest.mark.parametrize("data, bad, match", [
    ("ring", np.zeros((4, 3)), r"\(n, 2\)"), ("ring", np.full((4, 2), np.nan), "finite"),
    ("digits", np.zeros((4, 63)), "8, 8"), ("digits", np.full((4, 64), 17.0), r"\[0, 16\]"),
    ("ring", np.zeros((0, 2)), "empty"),
])
def test_bad_training_data_is_a_value_error_naming_the_argument(data, bad, match):
    kw = dict(architecture="dcgan", discriminator_hidden=(8,)) if data == "digits" else TINY
    model = GAN(GANConfig(data=data, **kw))
    with pytest.raises(ValueError, match=match):
        model.check_data(bad, "train_data")


def test_checkpoint_round_trip_and_resume_reach_the_uninterrupted_weights(tmp_path):
    """Interrupt after 7 steps (mid-epoch), resume: the same weights as one uninterrupted run, to 1e-6;
    both Adams' moments travel in the checkpoint, and model.npz alone rebuilds the GAN."""
    train, validation = make_toy("ring", 1024, seed=0), make_toy("ring", 200, seed=1)
    config = TrainConfig(epochs=3, batch_size=128, lr=1e-3, patience=0, ema_decay=0.99)

    full = GAN(GANConfig(data="ring", d_steps=2, **TINY))
    Trainer(full, train, validation, config, out_dir=tmp_path / "full", progress=False).fit()

    part = GAN(GANConfig(data="ring", d_steps=2, **TINY))
    Trainer(part, train, validation, config, out_dir=tmp_path / "part", progress=False).fit(max_steps=7)
    resumed = resume(tmp_path / "part", train, validation, progress=False)
    resumed.fit()
    for (name, a), b in zip(full.state_dict().items(), resumed.model.state_dict().values()):
        np.testing.assert_allclose(a, b, atol=1e-6, err_msg=name)

    loaded = load_checkpoint(tmp_path / "full" / "model.npz").model
    assert isinstance(loaded, GAN) and loaded.config == full.config
    np.testing.assert_allclose(loaded.sample(10, 0), full.sample(10, 0), atol=1e-6)
    assert isinstance(build_model(loaded.config), GAN)


def test_select_best_false_keeps_the_last_epoch(tmp_path):
    """TrainConfig(select_best=False) (the GANs' setting) writes the last epoch's weights to model.npz."""
    train, validation = make_toy("ring", 512, seed=0), make_toy("ring", 200, seed=1)
    model = GAN(GANConfig(data="ring", **TINY))
    result = Trainer(model, train, validation, TrainConfig(epochs=3, batch_size=128, patience=0, select_best=False),
                     out_dir=tmp_path, progress=False).fit()
    assert result.best_epoch == 3
    saved = load_checkpoint(tmp_path / "model.npz").model
    for (name, a), b in zip(model.state_dict().items(), saved.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
