"""The generative adversarial network: an implicit model, trained as a two-player game.

A generator G maps noise z ~ N(0, I) to data, x = G(z); a discriminator D(x) = sigmoid(f(x)) tells real from
generated. The lecture's minimax game is

    min_G max_D V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p(z)}[log(1 - D(G(z)))].

For a fixed G the best D is p_data / (p_data + p_G), and against it G minimises 2 JS(p_data || p_G) - log 4.
p_G(x) has no formula (G is a sampler, not a density), so a GAN is judged by ``scratchgen.metrics``.

The losses (``loss=``), written with D's logits f (so log D = -softplus(-f), log(1 - D) = -softplus(f)):

* ``"minimax"`` (the lecture's, saturating):  L_D = softplus(-f(x)) + softplus(f(G(z))),
  L_G = E[log(1 - D(G(z)))] = -softplus(f(G(z))). Early on D rejects every fake, D(G(z)) ~ 0, and the
  gradient of log(1 - D) there vanishes: G stalls or collapses onto a few modes (the failure the lecture names).
* ``"non_saturating"`` (Goodfellow et al. 2014's fix): the same L_D, L_G = -E[log D(G(z))] = softplus(-f(G(z))):
  the same fixed point, strong gradients exactly where G is bad.
* ``"wgan_gp"`` (Gulrajani et al. 2017): f is a critic (no sigmoid) estimating the Wasserstein-1 distance,
  L_D = E[f(G(z))] - E[f(x)] + lambda E[(||grad f(x_hat)|| - 1)^2] with x_hat on segments between real and
  fake points, L_G = -E[f(G(z))].

Remedies for mode collapse, as options:

* ``pack`` = m (PacGAN, Lin et al. 2018): D judges m samples at once, concatenated. A generator that puts all
  its mass on one mode makes packs with no diversity, which D learns to spot; the packed D's loss penalises
  collapse.
* ``gradient_penalty`` = lambda (with any loss): keeps D's input gradient near norm 1, so D stays smooth and
  G's gradient informative everywhere. It differentiates through D's input gradient (``create_graph=True``:
  the engine's second-order gradients).

Training alternates: a D step on every batch, a G step on every ``d_steps``-th one (WGAN-GP uses 5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import Tensor, nn, ops, optim
from scratchgen._checks import (
    as_generator,
    check_callable,
    check_choice,
    check_count,
    check_fraction,
    check_nonnegative,
    check_positive,
)
from scratchgen.models.data_config import (  # noqa: F401 (check_points_or_digits: re-exported)
    IMAGE_SHAPE,
    MAX_PIXEL,
    N_PIXELS,
    PointsOrDigitsConfig,
    as_real_array,
    check_kind,
    check_points_or_digits,
    check_sizes,
)
from scratchgen.models.networks import ConvDecoder, ConvEncoder, OnDevice

LOSSES = ("minimax", "non_saturating", "wgan_gp")
ARCHITECTURES = ("mlp", "dcgan")


@dataclass
class GANConfig(PointsOrDigitsConfig):
    """Everything that defines a GAN and its game (saved as JSON in every checkpoint).

    ``data``: ``"digits"`` (8x8 images, 0..16) or a 2-D toy set's name (``scratchgen.data.TOY_SETS``).
    ``architecture``: ``"mlp"`` or ``"dcgan"`` (transposed convolutions in G, convolutions in D; digits only).
    ``generator_hidden`` / ``discriminator_hidden``: the MLPs' widths. ``lr_scale_discriminator``: D's learning
    rate relative to the training loop's ``lr`` (G's). ``betas``: both Adams' (0.5, 0.999) as in DCGAN.
    ``data_scale`` (2-D sets): the data's spread s; G's MLP outputs unit-scale points, x = s MLP(z), and D reads
    x / s, so both networks work at unit scale (the usual input normalisation; the digits are rescaled to
    [-1, 1] instead).
    """

    kind: str = "gan"
    data: str = "ring"
    architecture: str = "mlp"
    loss: str = "non_saturating"
    latent_dim: int = 8
    generator_hidden: tuple[int, ...] = (256, 256, 256)
    discriminator_hidden: tuple[int, ...] = (256, 256, 256)
    pack: int = 1
    gradient_penalty: float = 0.0
    d_steps: int = 1
    lr_scale_discriminator: float = 1.0
    betas: tuple[float, float] = (0.5, 0.999)
    data_scale: float = 1.0
    seed: int = 0
    validation_samples: int = 500

    def __post_init__(self) -> None:
        check_gan_config(self)


def check_gan_config(config: GANConfig) -> None:
    """Refuse a configuration that cannot build a GAN, naming the field; integers and the widths are stored as
    Python ints, the betas as a tuple of floats (the checkpoint's JSON)."""
    from scratchgen.data import TOY_SETS

    check_kind(config, "gan")
    check_choice(config.data, "data", ("digits", *sorted(TOY_SETS)))
    check_choice(config.architecture, "architecture", ARCHITECTURES)
    if config.architecture == "dcgan" and not config.is_image:
        raise ValueError("architecture 'dcgan' is for the digits; the 2-D sets use 'mlp'")
    check_choice(config.loss, "loss", LOSSES)
    for name in ("latent_dim", "pack", "d_steps", "validation_samples"):
        setattr(config, name, check_count(getattr(config, name), name))
    config.seed = check_count(config.seed, "seed", minimum=0)
    config.generator_hidden = check_sizes(config.generator_hidden, "generator_hidden")
    config.discriminator_hidden = check_sizes(config.discriminator_hidden, "discriminator_hidden")
    check_nonnegative(config.gradient_penalty, "gradient_penalty")
    check_positive(config.lr_scale_discriminator, "lr_scale_discriminator")
    config.data_scale = float(check_positive(config.data_scale, "data_scale"))
    if config.is_image and config.data_scale != 1.0:
        raise ValueError(f"data_scale is for the 2-D sets (the digits are rescaled to [-1, 1]), "
                         f"got {config.data_scale}")
    if not isinstance(config.betas, (list, tuple)) or len(config.betas) != 2:
        raise TypeError(f"betas must be two numbers in [0, 1), got {config.betas!r}")
    config.betas = tuple(check_fraction(b, "betas") for b in config.betas)


# ----- the losses (D's logits in, a scalar out) -------------------------------------------------------------
def discriminator_loss(real_logits: Tensor, fake_logits: Tensor, loss: str) -> Tensor:
    """L_D: softplus(-f(x)) + softplus(f(G(z))) = -[log D(x) + log(1 - D(G(z)))] for the minimax and
    non-saturating games (the same D objective); E[f(G(z))] - E[f(x)] for the WGAN critic."""
    if loss == "wgan_gp":
        return fake_logits.mean() - real_logits.mean()
    return ops.softplus(-real_logits).mean() + ops.softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor, loss: str) -> Tensor:
    """L_G: E[log(1 - D(G(z)))] = -softplus(f) (minimax, saturating); -E[log D(G(z))] = softplus(-f)
    (non-saturating); -E[f(G(z))] (WGAN)."""
    if loss == "minimax":
        return -ops.softplus(fake_logits).mean()
    if loss == "non_saturating":
        return ops.softplus(-fake_logits).mean()
    return -fake_logits.mean()


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor, rng: np.random.Generator) -> Tensor:
    """E[(||grad_x f(x_hat)||_2 - 1)^2], x_hat = e x + (1 - e) G(z), e ~ U(0, 1) per (packed) sample.

    The penalty is differentiated again in D's update, so the input gradient keeps its graph."""
    e = Tensor(rng.random((real.shape[0],) + (1,) * (real.ndim - 1)), dtype=real.dtype, device=real.device)
    x_hat = (e * real.detach() + (1 - e) * fake.detach()).detach().requires_grad_(True)
    (g,) = al.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = ops.sqrt((g * g).reshape(g.shape[0], -1).sum(axis=1) + 1e-12)
    return ((norm - 1) ** 2).mean()


def pack_samples(x: Tensor, m: int) -> Tensor:
    """PacGAN's packing: (n, d) -> (n // m, m d), m consecutive samples side by side (n // m * m kept);
    images (n, 1, 8, 8) -> (n // m, m, 8, 8), the m samples as channels."""
    n = (x.shape[0] // m) * m
    if n == 0:
        raise ValueError(f"a batch of {x.shape[0]} samples cannot be packed by {m}")
    x = x[:n] if n != x.shape[0] else x
    return x.reshape(n // m, m * x.shape[1], *x.shape[2:])


# ----- the networks ----------------------------------------------------------------------------------------
def _mlp(sizes: tuple[int, ...], activation: nn.Module, rng: np.random.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, rng=rng))
        if i < len(sizes) - 2:
            layers.append(activation() if isinstance(activation, type) else activation)
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """z (n, latent) -> x: points (n, 2), or digits (n, 64) on the 0..16 scale (8 (tanh(.) + 1))."""

    def __init__(self, config: GANConfig, rng: np.random.Generator):
        super().__init__()
        self.config = config
        if config.architecture == "dcgan":
            self.net = ConvDecoder(config.latent_dim, 1, activation="relu", rng=rng)
        else:
            self.net = _mlp((config.latent_dim, *config.generator_hidden, config.data_dim), nn.ReLU, rng)

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z)
        if not self.config.is_image:
            return out * self.config.data_scale if self.config.data_scale != 1.0 else out
        return (ops.tanh(out.reshape(z.shape[0], N_PIXELS)) + 1) * (MAX_PIXEL / 2)


class Discriminator(nn.Module):
    """x -> f(x), one logit per (packed) sample; digits are rescaled to [-1, 1] first. Leaky ReLU (slope 0.2),
    as DCGAN recommends for D."""

    def __init__(self, config: GANConfig, rng: np.random.Generator):
        super().__init__()
        self.config = config
        m = config.pack
        if config.architecture == "dcgan":
            self.net = nn.Sequential(ConvEncoder(config.discriminator_hidden[-1], in_channels=m,
                                                 activation="leaky_relu", rng=rng),
                                     nn.LeakyReLU(0.2), nn.Linear(config.discriminator_hidden[-1], 1, rng=rng))
        else:
            self.net = _mlp((m * config.data_dim, *config.discriminator_hidden, 1), nn.LeakyReLU(0.2), rng)

    def prepare(self, x: Tensor) -> Tensor:
        """Data-space samples -> D's input: rescaled, image-shaped for the conv D, packed by m."""
        if self.config.is_image:
            x = x / (MAX_PIXEL / 2) - 1
            if self.config.architecture == "dcgan":
                x = x.reshape(x.shape[0], 1, *IMAGE_SHAPE)
        elif self.config.data_scale != 1.0:
            x = x / self.config.data_scale
        return pack_samples(x, self.config.pack) if self.config.pack > 1 else x

    def forward(self, packed: Tensor) -> Tensor:
        return self.net(packed).reshape(-1)


# ----- the model -------------------------------------------------------------------------------------------
class GAN(OnDevice, nn.Module):
    """A generator and a discriminator (``GANConfig``), trained by ``scratchgen.training.Trainer``.

    ``sample(n, rng)``: z ~ N(0, I), x = G(z). ``validation_loss``: MMD^2 of 500 samples to the validation
    points (2-D), or the Frechet digit distance (digits): a GAN's own losses say little about its samples.
    """

    def __init__(self, config: GANConfig | None = None, **overrides: Any):
        super().__init__()
        if config is None:
            config = GANConfig(**overrides)
        elif not isinstance(config, GANConfig):
            raise TypeError(f"config must be a GANConfig, got {type(config).__name__}")
        self.config = config
        rng = np.random.default_rng(config.seed)
        self.generator = Generator(config, rng)
        self.discriminator = Discriminator(config, rng)

    # ----- data -----
    def check_data(self, x: Any, name: str = "x") -> np.ndarray:
        """Validated training data: (n, 2) finite points, or digits (n, 8, 8) / (n, 64) in [0, 16]."""
        return check_points_or_digits(x, name, self.config.is_image)

    def to_tensor(self, x: np.ndarray) -> Tensor:
        return self.constant(as_real_array(x, "x"))

    def _batch(self, x: Any, name: str) -> Tensor:
        """Data as a Tensor: a Tensor as is (the training loop's checked batch), anything else checked first."""
        return x if isinstance(x, Tensor) else self.to_tensor(self.check_data(x, name))

    def noise(self, n: int, rng: np.random.Generator) -> Tensor:
        n, rng = check_count(n, "n"), as_generator(rng, "rng")
        return self.constant(rng.standard_normal((n, self.config.latent_dim)))

    # ----- the game -----
    def optimizer_groups(self) -> dict[str, tuple[list[nn.Parameter], dict[str, Any]]]:
        """Two Adams: D's at ``lr * lr_scale_discriminator``, G's at ``lr``, both with ``betas``."""
        c = self.config
        return {"discriminator": (list(self.discriminator.parameters()),
                                  {"lr_scale": c.lr_scale_discriminator, "betas": c.betas}),
                "generator": (list(self.generator.parameters()), {"betas": c.betas})}

    def ema_parameters(self) -> list[nn.Parameter]:
        """The EMA averages G's weights (the samples'), not D's."""
        return list(self.generator.parameters())

    def discriminator_objective(self, real: Tensor, rng: np.random.Generator) -> Tensor:
        """L_D on a real batch and as many fakes (G fixed), plus the gradient penalty if any."""
        D, c = self.discriminator, self.config
        real, rng = self._batch(real, "real"), as_generator(rng, "rng")
        with al.no_grad():
            fake = self.generator(self.noise(real.shape[0], rng))
        real_in, fake_in = D.prepare(real), D.prepare(fake)
        logits = D(ops.concat([real_in, fake_in], axis=0))  # one pass over both halves: bigger, faster GEMMs
        loss = discriminator_loss(logits[:real_in.shape[0]], logits[real_in.shape[0]:], c.loss)
        if c.gradient_penalty:
            loss = loss + c.gradient_penalty * gradient_penalty(D, real_in, fake_in, rng)
        return loss

    def generator_objective(self, n: int, rng: np.random.Generator) -> Tensor:
        """L_G on n fresh fakes. D is held fixed: its weights get no gradient (and cost no weight GEMMs)."""
        D = self.discriminator
        n, rng = check_count(n, "n"), as_generator(rng, "rng")
        frozen = list(D.parameters())
        for p in frozen:
            p.requires_grad = False
        try:
            return generator_loss(D(D.prepare(self.generator(self.noise(n, rng)))), self.config.loss)
        finally:
            for p in frozen:
                p.requires_grad = True

    def training_step(self, batch: Tensor, *, rng: np.random.Generator, epoch: float, step: int,
                      optimizers: dict[str, optim.Optimizer], check_loss: Any, grad_clip: float = 0.0) -> float:
        """One D update on this batch; then, every ``d_steps``-th step, one G update. Returns L_D."""
        batch, rng = self._batch(batch, "batch"), as_generator(rng, "rng")
        step, grad_clip = check_count(step, "step", minimum=0), check_nonnegative(grad_clip, "grad_clip")
        check_callable(check_loss, "check_loss")
        if not isinstance(optimizers, dict) or not all(
                isinstance(optimizers.get(p), optim.Optimizer) for p in ("discriminator", "generator")):
            raise TypeError("optimizers must be a dict of an Optimizer for 'discriminator' and one for 'generator' "
                            f"(see optimizer_groups), got {type(optimizers).__name__}")
        d_loss = self.discriminator_objective(batch, rng)
        value = check_loss(d_loss)
        self._update(d_loss, optimizers["discriminator"], self.discriminator, grad_clip)
        if (step + 1) % self.config.d_steps == 0:
            g_loss = self.generator_objective(batch.shape[0], rng)
            check_loss(g_loss)
            self._update(g_loss, optimizers["generator"], self.generator, grad_clip)
        return value

    def _update(self, loss: Tensor, optimizer: optim.Optimizer, player: nn.Module, grad_clip: float) -> None:
        self.zero_grad()
        loss.backward()
        if grad_clip:
            optim.clip_grad_norm_(player.parameters(), grad_clip)
        optimizer.step()

    def validation_loss(self, x: Tensor, rng: np.random.Generator) -> float:
        """MMD^2 (Gaussian kernels at 3 scales of the data's spread) between ``validation_samples`` samples
        and the validation points; for the digits the Frechet digit distance to the validation digits."""
        from scratchgen import metrics

        reference = x.numpy() if isinstance(x, Tensor) else self.check_data(x, "x")
        samples = self.sample(self.config.validation_samples, as_generator(rng, "rng"))
        if self.config.is_image:
            return metrics.frechet_digit_distance(samples, reference)
        spread = float(np.sqrt(np.mean(np.var(reference, axis=0))))
        return metrics.mmd(samples, reference, bandwidth=(0.02 * spread, 0.1 * spread, 0.5 * spread))

    # ----- sampling -----
    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """x = G(z), z ~ N(0, I): (n, 2) points, or (n, 8, 8) digits on the 0..16 scale (continuous)."""
        n, rng = check_count(n, "n"), as_generator(rng, "rng")
        was_training = self.training
        self.eval()
        try:
            with al.no_grad():
                x = self.generator(self.noise(n, rng)).numpy().astype(np.float64)
        finally:
            self.train(was_training)
        return x.reshape(n, *IMAGE_SHAPE) if self.config.is_image else x


def gan_config_from_dict(values: dict[str, Any]) -> GANConfig:
    """A GANConfig from its JSON dict (unknown keys refused, naming them)."""
    return GANConfig.from_dict(values)
