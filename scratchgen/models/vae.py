"""Variational auto-encoders on the 8x8 digits: the lecture's prescribed latent-variable model.

The generative model is p(z) = N(0, I) and p_theta(x|z), a decoder network turned into a likelihood for
the 64 pixels. The encoder q_phi(z|x) = N(mu_phi(x), diag sigma_phi(x)^2) approximates the posterior,
and the two are trained together by maximising the evidence lower bound

    ELBO(x) = E_{q_phi(z|x)}[log p_theta(x|z)] - KL(q_phi(z|x) || p(z)) <= log p(x),

whose first term is the reconstruction term and whose second is the prior-matching term (closed form for
two Gaussians). Its gradient with respect to phi goes through the reparameterisation
z = mu_phi(x) + sigma_phi(x) * eta, eta ~ N(0, I).

The importance-weighted bound (Burda et al., 2016) with k samples z_1..z_k ~ q_phi(z|x),

    L_k(x) = log (1/k) sum_i p_theta(x, z_i) / q_phi(z_i|x)   (ELBO = L_1 <= L_k <= L_{k+1} -> log p(x)),

is both a tighter training objective and the way the literature reports a VAE's log-likelihood
(k = 1000 or 5000 on the test set, in nats).

Decoder likelihoods (``likelihood=``):

* ``"categorical"``: each pixel is one of the 17 grey levels, p(x_d = v | z) = softmax(logits_d)_v. An exact
  discrete likelihood, so -log p(x) in nats compares with every other model of the digits.
* ``"bernoulli"``: p(x_d | z) = Bernoulli(x_d / 16; sigmoid(logit_d)) on the grey level scaled to [0, 1]
  (the continuous-Bernoulli-free convention of most VAE code: not a normalised density over 0..16).
* ``"gaussian"``: N(x_d / 16; mu_d, s^2) with a fixed s, whose log-likelihood is the lecture's MSE term
  -||x - mu||^2 / (2 s^2) up to a constant (a density on the scaled pixels, not a probability).

The mathematics lives here; the networks (MLP, conv encoder / decoder) are in ``networks.py``.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple

import numpy as np

from autograd_lite import Tensor, backend, nn, no_grad, ops
from scratchgen._checks import (
    as_generator,
    check_choice,
    check_count,
    check_finite_array,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_real,
    check_real_array,
)
from scratchgen.data import IMAGE_SHAPE, N_PIXEL_VALUES
from scratchgen.models.data_config import as_real_array, check_kind, check_mapping, check_sizes
from scratchgen.models.networks import ACTIVATIONS, MLP, ConvDecoder, ConvEncoder, OnDevice, activation_layer

N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
MAX_PIXEL = N_PIXEL_VALUES - 1
LIKELIHOODS = ("categorical", "bernoulli", "gaussian")
ARCHITECTURES = ("mlp", "conv")
OBJECTIVES = ("elbo", "iwae")
LOG_2PI = math.log(2 * math.pi)


# ----- Gaussian algebra the ELBO needs -----------------------------------------------------------------
def gaussian_log_density(z: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """log N(z; mu, diag exp(log_var)) = -1/2 sum_j [log 2 pi + log_var_j + (z_j - mu_j)^2 / exp(log_var_j)]."""
    return -0.5 * (LOG_2PI + log_var + (z - mu) ** 2 * ops.exp(-log_var)).sum(axis=-1)


def standard_normal_log_density(z: Tensor) -> Tensor:
    """log N(z; 0, I) = -1/2 sum_j [log 2 pi + z_j^2]."""
    return -0.5 * (LOG_2PI + z * z).sum(axis=-1)


def kl_to_standard_normal(mu: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum_j [mu_j^2 + sigma_j^2 - 1 - log sigma_j^2] (closed form)."""
    return 0.5 * (mu * mu + ops.exp(log_var) - 1.0 - log_var).sum(axis=-1)


def kl_between_normals(mu_q: Tensor, log_var_q: Tensor, mu_p: Tensor, log_var_p: Tensor) -> Tensor:
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2))
    = 1/2 sum_j [log sigma_p^2 - log sigma_q^2 + (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2 - 1]."""
    return 0.5 * (log_var_p - log_var_q + (ops.exp(log_var_q) + (mu_q - mu_p) ** 2) * ops.exp(-log_var_p)
                  - 1.0).sum(axis=-1)


class ELBO(NamedTuple):
    """Per-image terms of the bound, in nats: ``elbo = reconstruction - kl``."""

    elbo: Tensor
    reconstruction: Tensor
    kl: Tensor


# ----- configuration ---------------------------------------------------------------------------------------
@dataclass
class VAEConfig:
    """Everything that defines a VAE (saved as JSON inside every checkpoint, so a ``.npz`` alone rebuilds it).

    The training objective belongs to the model too: ``objective`` ("elbo" or "iwae" with ``iwae_k``
    samples), KL warm-up over ``kl_warmup_epochs`` (beta rises linearly from 0 to 1), ``dropout`` after each
    hidden layer and ``input_dropout`` on the encoder's input pixels.
    """

    kind: str = "vae"
    likelihood: str = "categorical"
    architecture: str = "mlp"
    latent_dim: int = 16
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "leaky_relu"
    dropout: float = 0.0
    input_dropout: float = 0.0
    objective: str = "iwae"
    iwae_k: int = 10
    kl_warmup_epochs: float = 0.0
    gaussian_sigma: float = 0.1
    log_var_min: float = -8.0
    log_var_max: float = 4.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class HierarchicalVAEConfig(VAEConfig):
    """A two-level VAE: ``latent_dim`` is z_1's size (next to the pixels), ``top_latent_dim`` z_2's."""

    kind: str = "hvae"
    top_latent_dim: int = 8
    skip_top_down: bool = True  # the decoder sees [z_1, t(z_2)] (NVAE's top-down path) or z_1 alone


def check_config(config: VAEConfig) -> None:
    """Refuse a configuration that cannot build a model, naming the field; integers are stored as Python ints
    (a NumPy integer would not go into the checkpoint's JSON)."""
    check_kind(config, "hvae" if isinstance(config, HierarchicalVAEConfig) else "vae")
    choices = {"likelihood": LIKELIHOODS, "architecture": ARCHITECTURES, "objective": OBJECTIVES,
               "activation": tuple(sorted(ACTIVATIONS))}
    for name, allowed in choices.items():
        check_choice(getattr(config, name), name, allowed)
    positive = ["latent_dim", "iwae_k"] + (["top_latent_dim"] if hasattr(config, "top_latent_dim") else [])
    for name in positive:
        setattr(config, name, check_count(getattr(config, name), name))
    config.seed = check_count(config.seed, "seed", minimum=0)
    config.hidden = check_sizes(config.hidden, "hidden")
    for name in ("dropout", "input_dropout"):
        check_fraction(getattr(config, name), name)
    check_nonnegative(config.kl_warmup_epochs, "kl_warmup_epochs")
    check_positive(config.gaussian_sigma, "gaussian_sigma")
    if not check_real(config.log_var_min, "log_var_min") < check_real(config.log_var_max, "log_var_max"):
        raise ValueError(f"log_var_min must be below log_var_max, got {config.log_var_min}, {config.log_var_max}")


def config_from_dict(values: dict[str, Any]) -> VAEConfig:
    """The config a checkpoint's JSON describes (``kind`` picks the class); unknown fields are an error."""
    check_mapping(values, "values")
    kinds = {"vae": VAEConfig, "hvae": HierarchicalVAEConfig}
    kind = values.get("kind", "vae")
    if kind not in kinds:
        raise ValueError(f"unknown model kind {kind!r} (known: {sorted(kinds)})")
    cls = kinds[kind]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {unknown}")
    return cls(**values)


# ----- input checks ----------------------------------------------------------------------------------------
def check_images(x: Any, likelihood: str, name: str = "x") -> np.ndarray:
    """Digits as a float (n, 64) array: accepts (n, 64), (n, 8, 8), (n, 1, 8, 8) or one image (8, 8) / (64,).

    Grey levels must be finite and lie in 0..16; the categorical likelihood needs whole numbers.
    """
    if isinstance(x, Tensor):
        x = x.numpy()
    x = check_real_array(x, name)
    if x.shape in ((N_PIXELS,), IMAGE_SHAPE):
        x = x.reshape(1, N_PIXELS)
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != N_PIXELS or x.shape[1:] not in (
            (N_PIXELS,), IMAGE_SHAPE, (1, *IMAGE_SHAPE)):
        raise ValueError(f"{name} must hold 8x8 images, shaped (n, 64), (n, 8, 8) or (n, 1, 8, 8); got {x.shape}")
    x = x.reshape(len(x), N_PIXELS)
    if len(x) == 0:
        raise ValueError(f"{name} holds no images")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    if x.min() < 0 or x.max() > MAX_PIXEL:
        raise ValueError(f"{name} must hold grey levels in [0, {MAX_PIXEL}], got values in [{x.min()}, {x.max()}]")
    if likelihood == "categorical" and not np.array_equal(x, np.round(x)):
        raise ValueError(f"{name}: the categorical likelihood needs whole grey levels 0..{MAX_PIXEL}")
    return x


# ----- the pixel likelihoods p(x|z) ------------------------------------------------------------------------
class PixelLikelihood:
    """Turns decoder outputs into log p(x|z) and samples; one of the three in the module docstring.

    ``channels`` outputs per pixel: the decoder's output is laid out (..., channels, 64), so the softmax
    over the 17 grey levels runs along contiguous rows of 64 (fast) rather than along a short last axis.
    """

    def __init__(self, name: str, gaussian_sigma: float = 0.1):
        self.name, self.sigma = name, gaussian_sigma
        self.channels = N_PIXEL_VALUES if name == "categorical" else 1

    def log_prob(self, out: Tensor, x: Tensor) -> Tensor:
        """log p(x|z) summed over the 64 pixels; ``out`` (..., channels, 64), ``x`` (n, 64) grey levels."""
        if self.name == "categorical":
            # log p(x|z) = sum_d log softmax(logits_d)[x_d]: each pixel's grey level picks its log-probability
            xp = backend.array_namespace(x.data)
            levels = xp.astype(x.data, xp.int64)
            return ops.log_softmax_pick(out, levels, axis=-2).sum(axis=-1)
        logits = out[..., 0, :]
        t = x / MAX_PIXEL
        if self.name == "bernoulli":
            # log Bernoulli(t; sigmoid(l)) = t l - log(1 + e^l)
            return (t * logits - ops.softplus(logits)).sum(axis=-1)
        # log N(t; mu, s^2) with mu = sigmoid(l): -(t - mu)^2 / (2 s^2) - log s - log(2 pi) / 2
        mu = ops.sigmoid(logits)
        return (-0.5 * ((t - mu) / self.sigma) ** 2 - math.log(self.sigma) - 0.5 * LOG_2PI).sum(axis=-1)

    def mean(self, out: np.ndarray) -> np.ndarray:
        """E[x|z] on the 0..16 scale, (n, 64)."""
        if self.name == "categorical":
            shifted = out - out.max(axis=-2, keepdims=True)
            p = np.exp(shifted)
            p /= p.sum(axis=-2, keepdims=True)
            return np.tensordot(np.arange(N_PIXEL_VALUES, dtype=out.dtype), p, axes=([0], [-2]))
        return MAX_PIXEL / (1 + np.exp(-out[..., 0, :]))

    def sample(self, out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """x ~ p(x|z) on the 0..16 scale, (n, 64): a grey level a pixel (categorical), 0 or 16 (Bernoulli),
        or the Gaussian draw clipped to the pixel range."""
        if self.name == "categorical":
            shifted = out - out.max(axis=-2, keepdims=True)
            cdf = np.cumsum(np.exp(shifted), axis=-2)
            u = rng.random((out.shape[0], 1, N_PIXELS)) * cdf[:, -1:, :]
            return (u >= cdf).sum(axis=-2).astype(np.float64)  # inverse transform: the first level with F > u
        p = 1 / (1 + np.exp(-out[..., 0, :].astype(np.float64)))
        if self.name == "bernoulli":
            return MAX_PIXEL * (rng.random(p.shape) < p).astype(np.float64)
        return np.clip(MAX_PIXEL * (p + self.sigma * rng.standard_normal(p.shape)), 0, MAX_PIXEL)


# ----- the models ------------------------------------------------------------------------------------------
class LatentVariableModel(OnDevice, nn.Module):
    """What both VAEs share: the bounds, the likelihood estimate, sampling and the input checks.

    Subclasses define ``log_weights(x, k, rng)`` (log p(x, z_i) - log q(z_i|x) for k samples each),
    ``elbo(x, rng)``, ``prior_sample(n, rng)`` and ``decode(z)``.
    """

    config: VAEConfig
    code_dim: int  # the decoder's input width, set by the subclass

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.pixels = PixelLikelihood(config.likelihood, config.gaussian_sigma)

    # helpers
    def check_data(self, x: Any, name: str = "x") -> np.ndarray:
        """Validated digits as a (n, 64) array of the model's dtype (see :func:`check_images`)."""
        return check_images(x, self.config.likelihood, name).astype(self.dtype)

    def to_tensor(self, x: np.ndarray) -> Tensor:
        """Already checked data as a Tensor on the model's device."""
        return self.constant(as_real_array(x, "x"))

    def _images(self, x: Any, name: str = "x") -> Tensor:
        return self.to_tensor(self.check_data(x, name))

    def _batch(self, x: Any, name: str = "x") -> Tensor:
        """Digits as a Tensor: a Tensor as is (the training loop's checked batch), anything else checked."""
        return x if isinstance(x, Tensor) else self._images(x, name)

    def _code(self, z: Any, name: str = "z") -> Tensor:
        """Decoder input (..., code_dim): a Tensor as is, host data checked (finite reals) first."""
        if not isinstance(z, Tensor):
            z = self.constant(check_finite_array(z, name))
        if z.ndim < 1 or z.shape[-1] != self.code_dim:
            raise ValueError(f"{name} must be shaped (..., {self.code_dim}), got {tuple(z.shape)}")
        return z

    def _noise(self, shape: tuple[int, ...], rng: np.random.Generator) -> Tensor:
        """eta ~ N(0, I), drawn by the caller's generator (same seed, same numbers on every device)."""
        return self.constant(rng.standard_normal(shape))

    def _reparameterise(self, mu: Tensor, log_var: Tensor, rng: np.random.Generator,
                        k: int | None = None) -> tuple[Tensor, Tensor]:
        """z = mu + sigma * eta, eta ~ N(0, I) (k samples stacked on a new first axis if k is given);
        returns (z, eta)."""
        eta = self._noise(mu.shape if k is None else (k, *mu.shape), rng)
        return mu + ops.exp(0.5 * log_var) * eta, eta

    def _split_gaussian(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """A network's output (n, 2 d) as (mu, log sigma^2), the log-variance clamped to a safe range."""
        d = h.shape[-1] // 2
        return h[..., :d], ops.clip(h[..., d:], self.config.log_var_min, self.config.log_var_max)

    def _decoder_output(self, network: nn.Module, h: Tensor) -> Tensor:
        """Run a decoder network on (..., features) and lay its output out as (..., channels, 64)."""
        lead = h.shape[:-1]
        out = network(h.reshape(-1, h.shape[-1]))
        return out.reshape(*lead, self.pixels.channels, N_PIXELS)

    @contextmanager
    def _evaluating(self) -> Iterator[None]:
        """Eval mode (no dropout) and no graph for the body; the previous mode is restored after."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                yield
        finally:
            self.train(was_training)

    # the objectives
    def iwae_bound(self, x: Any, k: int, rng: np.random.Generator | int | None = None) -> Tensor:
        """L_k(x) = logsumexp_i [log p(x, z_i) - log q(z_i|x)] - log k, z_i ~ q(z|x) (per image, differentiable)."""
        k = check_count(k, "k")
        return ops.logsumexp(self.log_weights(self._batch(x), k, as_generator(rng, "rng")), axis=0) - math.log(k)

    def kl_weight(self, epoch: float) -> float:
        """KL warm-up: beta = min(1, epoch / kl_warmup_epochs) (1 without warm-up)."""
        epoch = check_nonnegative(epoch, "epoch")
        warmup = self.config.kl_warmup_epochs
        return 1.0 if warmup <= 0 else min(1.0, epoch / warmup)

    def training_loss(self, x: Tensor, rng: np.random.Generator, epoch: float = 0.0) -> Tensor:
        """The mean over the batch of -ELBO (with KL weight beta during warm-up) or of -L_k (IWAE)."""
        x, rng, beta = self._batch(x), as_generator(rng, "rng"), self.kl_weight(epoch)
        if self.config.objective == "iwae" and beta >= 1:
            return -self.iwae_bound(x, self.config.iwae_k, rng).mean()
        terms = self.elbo(x, rng)
        return -(terms.reconstruction - beta * terms.kl).mean()

    def validation_loss(self, x: Tensor, rng: np.random.Generator) -> float:
        """Early stopping watches -L_k with the training k (or -ELBO), in nats per image."""
        x, rng = self._batch(x), as_generator(rng, "rng")
        with no_grad():
            k = self.config.iwae_k if self.config.objective == "iwae" else 1
            return -float(self.iwae_bound(x, k, rng).mean().item())

    # honest numbers
    def log_likelihood(self, x: Any, k: int = 1000, rng: np.random.Generator | int | None = 0,
                       batch_size: int = 64, samples_per_pass: int = 250) -> np.ndarray:
        """The importance-weighted estimate of log p(x) per image, L_k with k samples (nats, float64).

        Evaluated without a graph in batches of ``batch_size`` images and ``samples_per_pass`` samples,
        the passes combined by log-sum-exp, so k = 5000 fits in memory.
        """
        if check_count(k, "k") > 100_000:
            raise ValueError(f"k must be an integer in 1..100000, got {k!r}")
        batch_size, samples_per_pass = check_count(batch_size, "batch_size"), check_count(samples_per_pass,
                                                                                           "samples_per_pass")
        x = self.check_data(x)
        rng = as_generator(rng, "rng")
        out = np.empty(len(x))
        with self._evaluating():
            for start in range(0, len(x), batch_size):
                xb = self.to_tensor(x[start:start + batch_size])
                chunks = []
                for done in range(0, k, samples_per_pass):
                    w = self.log_weights(xb, min(samples_per_pass, k - done), rng).numpy()
                    chunks.append(w.astype(np.float64))
                log_w = np.concatenate(chunks, axis=0)
                m = log_w.max(axis=0)
                out[start:start + batch_size] = m + np.log(np.exp(log_w - m).mean(axis=0))
        return out

    def negative_elbo(self, x: Any, n_samples: int = 10, rng: np.random.Generator | int | None = 0) -> np.ndarray:
        """-ELBO per image (nats), the expectation over q(z|x) estimated with ``n_samples`` draws."""
        n_samples = check_count(n_samples, "n_samples")
        x = self.check_data(x)
        rng = as_generator(rng, "rng")
        with self._evaluating():
            xb = self.to_tensor(x)
            total = sum(self.elbo(xb, rng).elbo.numpy().astype(np.float64) for _ in range(n_samples))
        return -total / n_samples

    # generating
    def sample(self, n: int, rng: np.random.Generator | int | None = None, mean: bool = False) -> np.ndarray:
        """n digits from the model, (n, 8, 8) grey levels 0..16: z ~ p(z), then x ~ p(x|z) (or E[x|z] if
        ``mean``)."""
        n = check_count(n, "n")
        rng = as_generator(rng, "rng")
        with self._evaluating():
            out = self.decode(self.prior_sample(n, rng)).numpy()
        x = self.pixels.mean(out) if mean else self.pixels.sample(out, rng)
        return x.reshape(int(n), *IMAGE_SHAPE)

    def reconstruct(self, x: Any) -> np.ndarray:
        """E[x|z] at the posterior mean code of each digit (``posterior_code``): (n, 8, 8) on the 0..16 scale."""
        with self._evaluating():
            out = self.decode(self.posterior_code(self._images(x))).numpy()
        return self.pixels.mean(out).reshape(-1, *IMAGE_SHAPE)

    def interpolate(self, x_a: Any, x_b: Any, steps: int = 8) -> np.ndarray:
        """Decoder means along the straight line c_t = (1 - t) c(x_a) + t c(x_b), t = 0..1 in ``steps`` steps,
        between the posterior mean codes of the first image of each: (steps, 8, 8)."""
        steps = check_count(steps, "steps", minimum=2)
        with self._evaluating():
            c_a = self.posterior_code(self._images(x_a, "x_a")[:1])
            c_b = self.posterior_code(self._images(x_b, "x_b")[:1])
            t = np.linspace(0.0, 1.0, int(steps), dtype=self.dtype).reshape(-1, 1)
            t = Tensor._from_array(backend.to_device(t, self.device))
            out = self.decode((1 - t) * c_a + t * c_b).numpy()
        return self.pixels.mean(out).reshape(-1, *IMAGE_SHAPE)

    # subclass interface
    def log_weights(self, x: Tensor, k: int, rng: np.random.Generator) -> Tensor:
        raise NotImplementedError

    def elbo(self, x: Any, rng: np.random.Generator | int | None = None) -> ELBO:
        raise NotImplementedError

    def prior_sample(self, n: int, rng: np.random.Generator) -> Tensor:
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:
        raise NotImplementedError

    def posterior_code(self, x: Tensor) -> Tensor:
        """The decoder input at the posterior means (what ``reconstruct`` and ``interpolate`` decode)."""
        raise NotImplementedError


class VAE(LatentVariableModel):
    """One stochastic layer: q_phi(z|x) = N(mu_phi(x), diag sigma_phi(x)^2), p(z) = N(0, I), p_theta(x|z).

    >>> vae = VAE(VAEConfig(latent_dim=8, hidden=(64,)))
    >>> terms = vae.elbo(x)           # terms.elbo = terms.reconstruction - terms.kl, per image
    >>> vae.log_likelihood(x, k=1000) # the IWAE estimate of log p(x), nats
    """

    def __init__(self, config: VAEConfig | None = None, **overrides: Any):
        if config is None:
            config = VAEConfig(**overrides)
        elif not isinstance(config, VAEConfig):
            raise TypeError(f"config must be a VAEConfig, got {type(config).__name__}")
        super().__init__(config)
        rng = np.random.default_rng(config.seed)
        d, hidden = config.latent_dim, config.hidden
        self.code_dim = d
        self.input_dropout = nn.Dropout(config.input_dropout, rng=rng)
        if config.architecture == "mlp":
            self.encoder = MLP((N_PIXELS, *hidden, 2 * d), config.activation, config.dropout, rng=rng)
            self.decoder = MLP((d, *hidden[::-1], self.pixels.channels * N_PIXELS), config.activation,
                               config.dropout, rng=rng)
        else:
            self.encoder = ConvEncoder(2 * d, activation=config.activation, rng=rng)
            self.decoder = ConvDecoder(d, self.pixels.channels, activation=config.activation, rng=rng)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """mu_phi(x), log sigma_phi(x)^2 from the grey levels scaled to [0, 1]."""
        h = self.input_dropout(self._batch(x) / MAX_PIXEL)
        if self.config.architecture == "conv":
            h = h.reshape(-1, 1, *IMAGE_SHAPE)
        return self._split_gaussian(self.encoder(h))

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's parameters of p_theta(x|z), laid out (..., channels, 64)."""
        return self._decoder_output(self.decoder, self._code(z))

    def elbo(self, x: Any, rng: np.random.Generator | int | None = None) -> ELBO:
        """ELBO(x) = log p_theta(x|z) - KL(q_phi(z|x) || N(0, I)), one reparameterised z = mu + sigma * eta."""
        x = self._batch(x)
        mu, log_var = self.encode(x)
        z, _ = self._reparameterise(mu, log_var, as_generator(rng, "rng"))
        reconstruction = self.pixels.log_prob(self.decode(z), x)
        kl = kl_to_standard_normal(mu, log_var)
        return ELBO(reconstruction - kl, reconstruction, kl)

    def log_weights(self, x: Tensor, k: int, rng: np.random.Generator) -> Tensor:
        """(k, n): log p_theta(x|z_i) + log p(z_i) - log q_phi(z_i|x), z_i = mu + sigma * eta_i."""
        x, k, rng = self._batch(x), check_count(k, "k"), as_generator(rng, "rng")
        mu, log_var = self.encode(x)
        z, eta = self._reparameterise(mu, log_var, rng, k)
        # log q(z|x) with z = mu + sigma eta: -1/2 sum [log 2 pi + log sigma^2 + eta^2]
        log_q = -0.5 * (LOG_2PI + log_var + eta * eta).sum(axis=-1)
        return self.pixels.log_prob(self.decode(z), x) + standard_normal_log_density(z) - log_q

    def prior_sample(self, n: int, rng: np.random.Generator) -> Tensor:
        return self._noise((check_count(n, "n"), self.config.latent_dim), as_generator(rng, "rng"))

    def posterior_code(self, x: Tensor) -> Tensor:
        """z = mu_phi(x)."""
        return self.encode(x)[0]


class HierarchicalVAE(LatentVariableModel):
    """Two stochastic layers, generated top-down (the lecture's NVAE sketch, in its smallest form):

        p(z_2) = N(0, I),  p_theta(z_1|z_2) = N(mu_p(z_2), sigma_p(z_2)^2),  p_theta(x|z_1, z_2);
        q_phi(z_2|x) = N(mu(h), sigma(h)^2),  q_phi(z_1|x, z_2) = N(mu_p + dmu(h, t), sigma_p^2 * exp(dlog(h, t))),

    with h = the bottom-up features of x and t = the top-down features of z_2 (NVAE's residual posterior:
    q(z_1|.) is stated relative to its prior). The bound is

        ELBO = E_q[log p(x|z_1, z_2)] - KL(q(z_2|x) || p(z_2)) - E_{q(z_2|x)}[KL(q(z_1|x, z_2) || p(z_1|z_2))],

    both KLs in closed form given the sampled z_2; the IWAE weights are
    log p(x|z_1, z_2) + log p(z_1|z_2) + log p(z_2) - log q(z_1|x, z_2) - log q(z_2|x).
    The conv architecture swaps the bottom-up MLP and the decoder for the conv encoder / decoder.
    """

    config: HierarchicalVAEConfig

    def __init__(self, config: HierarchicalVAEConfig | None = None, **overrides: Any):
        if config is None:
            config = HierarchicalVAEConfig(**overrides)
        elif not isinstance(config, HierarchicalVAEConfig):
            raise TypeError(f"config must be a HierarchicalVAEConfig, got {type(config).__name__}")
        super().__init__(config)
        rng = np.random.default_rng(config.seed)
        d1, d2, hidden, act = config.latent_dim, config.top_latent_dim, config.hidden, config.activation
        width = hidden[-1]
        self.input_dropout = nn.Dropout(config.input_dropout, rng=rng)
        if config.architecture == "mlp":
            self.bottom_up = MLP((N_PIXELS, *hidden), act, config.dropout, rng=rng)
        else:
            self.bottom_up = ConvEncoder(width, activation=act, rng=rng)
        self.bottom_up_activation = activation_layer(act)
        self.posterior_top = nn.Linear(width, 2 * d2, rng=rng)
        self.top_down = nn.Sequential(MLP((d2, width, width), act, config.dropout, rng=rng), activation_layer(act))
        self.prior_bottom = nn.Linear(width, 2 * d1, rng=rng)
        self.posterior_bottom = MLP((2 * width, width, 2 * d1), act, config.dropout, rng=rng)
        decoder_in = self.code_dim = d1 + width if config.skip_top_down else d1
        if config.architecture == "mlp":
            self.decoder = MLP((decoder_in, *hidden[::-1], self.pixels.channels * N_PIXELS), act,
                               config.dropout, rng=rng)
        else:
            self.decoder = ConvDecoder(decoder_in, self.pixels.channels, activation=act, rng=rng)

    def _bottom_up(self, x: Tensor) -> Tensor:
        h = self.input_dropout(x / MAX_PIXEL)
        if self.config.architecture == "conv":
            h = h.reshape(-1, 1, *IMAGE_SHAPE)
        return self.bottom_up_activation(self.bottom_up(h))

    def _prior_bottom(self, t: Tensor) -> tuple[Tensor, Tensor]:
        return self._split_gaussian(self.prior_bottom(t))

    def _posterior_bottom(self, h: Tensor, t: Tensor, mu_p: Tensor, log_var_p: Tensor) -> tuple[Tensor, Tensor]:
        h = ops.broadcast_to(h, t.shape) if h.shape != t.shape else h
        delta = self.posterior_bottom(ops.concat([h, t], axis=-1))
        d = delta.shape[-1] // 2
        log_var = ops.clip(log_var_p + delta[..., d:], self.config.log_var_min, self.config.log_var_max)
        return mu_p + delta[..., :d], log_var

    def decode(self, z: Tensor) -> Tensor:
        """p_theta(x|z_1, z_2) from z = [z_1, t(z_2)] (as laid out by ``_decoder_input``), (..., channels, 64)."""
        return self._decoder_output(self.decoder, self._code(z))

    def _decoder_input(self, z1: Tensor, t: Tensor) -> Tensor:
        return ops.concat([z1, t], axis=-1) if self.config.skip_top_down else z1

    def _top_down(self, z2: Tensor) -> Tensor:
        lead = z2.shape[:-1]
        return self.top_down(z2.reshape(-1, z2.shape[-1])).reshape(*lead, -1)

    def elbo(self, x: Any, rng: np.random.Generator | int | None = None) -> ELBO:
        """ELBO = log p(x|z_1, z_2) - KL(q(z_2|x)||p(z_2)) - KL(q(z_1|x, z_2)||p(z_1|z_2)), one sample;
        ``kl`` is the sum of the two KLs."""
        x = self._batch(x)
        rng = as_generator(rng, "rng")
        h = self._bottom_up(x)
        mu2, log_var2 = self._split_gaussian(self.posterior_top(h))
        z2, _ = self._reparameterise(mu2, log_var2, rng)
        t = self._top_down(z2)
        mu_p, log_var_p = self._prior_bottom(t)
        mu1, log_var1 = self._posterior_bottom(h, t, mu_p, log_var_p)
        z1, _ = self._reparameterise(mu1, log_var1, rng)
        reconstruction = self.pixels.log_prob(self.decode(self._decoder_input(z1, t)), x)
        kl = kl_to_standard_normal(mu2, log_var2) + kl_between_normals(mu1, log_var1, mu_p, log_var_p)
        return ELBO(reconstruction - kl, reconstruction, kl)

    def log_weights(self, x: Tensor, k: int, rng: np.random.Generator) -> Tensor:
        x, k, rng = self._batch(x), check_count(k, "k"), as_generator(rng, "rng")
        h = self._bottom_up(x)
        mu2, log_var2 = self._split_gaussian(self.posterior_top(h))
        z2, eta2 = self._reparameterise(mu2, log_var2, rng, k)
        t = self._top_down(z2)
        mu_p, log_var_p = self._prior_bottom(t)
        mu1, log_var1 = self._posterior_bottom(h, t, mu_p, log_var_p)
        z1, eta1 = self._reparameterise(mu1, log_var1, rng)
        log_q = (-0.5 * (LOG_2PI + log_var2 + eta2 * eta2).sum(axis=-1)
                 - 0.5 * (LOG_2PI + log_var1 + eta1 * eta1).sum(axis=-1))
        log_prior = standard_normal_log_density(z2) + gaussian_log_density(z1, mu_p, log_var_p)
        return self.pixels.log_prob(self.decode(self._decoder_input(z1, t)), x) + log_prior - log_q

    def prior_sample(self, n: int, rng: np.random.Generator) -> Tensor:
        """z_2 ~ N(0, I), z_1 ~ p(z_1|z_2); returned as the decoder's input [z_1, t(z_2)]."""
        rng = as_generator(rng, "rng")
        z2 = self._noise((check_count(n, "n"), self.config.top_latent_dim), rng)
        t = self._top_down(z2)
        mu_p, log_var_p = self._prior_bottom(t)
        z1, _ = self._reparameterise(mu_p, log_var_p, rng)
        return self._decoder_input(z1, t)

    def posterior_code(self, x: Tensor) -> Tensor:
        """[mu_1, t(mu_2)]: z_2 at its posterior mean, then z_1 at its posterior mean given it (mu_1 alone
        without the skip connection)."""
        h = self._bottom_up(self._batch(x))
        mu2, _ = self._split_gaussian(self.posterior_top(h))
        t = self._top_down(mu2)
        mu_p, log_var_p = self._prior_bottom(t)
        mu1, _ = self._posterior_bottom(h, t, mu_p, log_var_p)
        return self._decoder_input(mu1, t)


def build_model(config: VAEConfig | dict[str, Any]) -> LatentVariableModel:
    """The VAE a config (or its JSON dict) describes (``scratchgen.models.build_model`` knows every model)."""
    if isinstance(config, dict):
        config = config_from_dict(config)
    if not isinstance(config, VAEConfig):
        raise TypeError(f"config must be a VAEConfig or its dict, got {type(config).__name__}")
    return HierarchicalVAE(config) if isinstance(config, HierarchicalVAEConfig) else VAE(config)
