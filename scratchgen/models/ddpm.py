"""The denoising diffusion probabilistic model (DDPM): the lecture's forward and backward processes, learned.

The forward process adds Gaussian noise step by step until the data is pure noise (``diffusion.py`` has the
schedules and formulas); the backward process is a network eps_theta(x_t, t) that predicts the added noise, so
each step can remove some of it. Training (Ho et al. 2020, Algorithm 1) is regression on the noise:

    L_simple = E_{x_0, t ~ U{1..T}, eps ~ N(0, I)} || eps - eps_theta(x_t, t) ||^2,
    x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps,

a reweighting of the variational bound below that trains better samplers. Sampling: ``diffusion.ancestral_sample``
(the backward process, T steps) or ``diffusion.ddim_sample`` (S << T steps, the same network).

The likelihood (``nll_bound``): the variational bound on -log p(x_0), in nats, as DDPM's eq. (5),

    L = KL(q(x_T | x_0) || N(0, I))                                   (L_T: ~0 for a good schedule)
      + sum_{t=2}^T E_q KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))    (Gaussians: closed form)
      - E_q log p_theta(x_0 | x_1)                                      (L_0: the discretised decoder)

The digits' denoiser (``parameterization="levels"``): x_0 takes one of 17 grey levels per pixel, so near t = 0,
where x_t = sqrt(alpha-bar_t) x_0 + sigma eps with sigma far below the levels' spacing, the best eps_theta is
a sawtooth of x_t, (x_t - sqrt(alpha-bar_t) round(x_t)) / sigma, which a smooth network cannot draw (measured:
a plain eps-network's error there is ~0.9 of eps's variance, and the steps t < 50 cost 120 of its 154 nats).
So the network outputs logits l_k(x_t, t) over the levels y_k of each pixel, Bayes' rule adds the exact
Gaussian likelihood of the pixel's own x_t,

    p(x_0 = y_k | x_t) = softmax_k( l_k + log N(x_t; sqrt(alpha-bar_t) y_k, (1 - alpha-bar_t)) ),
    x0_hat = sum_k p(x_0 = y_k | x_t) y_k,   eps_theta = (x_t - sqrt(alpha-bar_t) x0_hat) / sqrt(1 - alpha-bar_t),

and the rest (L_simple, samplers, bound) is unchanged: as the noise vanishes the likelihood dominates and
x0_hat snaps to the nearest level, so eps_theta becomes exact where the plain network is worst.

For the digits the decoder is exact over the 17 grey levels: with the levels scaled to y_k = k / 8 - 1 in
[-1, 1] (bins of width 1/8), p(x_0 = y_k | x_1) = Phi((y_k + 1/16 - mu) / sigma_1) - Phi((y_k - 1/16 - mu) / sigma_1),
the outer bins reaching to -inf and +inf (DDPM's decoder for 256 levels, here for 17). So the bound is a
number of nats per image of a discrete distribution, comparable with the VAE's test NLL and the mixtures'.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import Tensor, nn, ops
from scratchgen._checks import (
    as_generator,
    check_choice,
    check_count,
    check_finite_array,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_real_array,
)
from scratchgen.models.data_config import (
    IMAGE_SHAPE,
    MAX_PIXEL,
    N_PIXELS,
    PointsOrDigitsConfig,
    check_kind,
    check_points_or_digits,
    check_sizes,
    check_timesteps,
)
from scratchgen.models.diffusion import SCHEDULES, VARIANCES, NoiseSchedule, ancestral_sample, ddim_sample
from scratchgen.models.networks import OnDevice, TimeMLP, UNet

ARCHITECTURES = ("mlp", "unet")
PARAMETERIZATIONS = ("eps", "levels")

HALF_BIN = 1.0 / MAX_PIXEL  # half the distance between two grey levels in model space [-1, 1]
LEVELS = np.arange(MAX_PIXEL + 1) / (MAX_PIXEL / 2) - 1.0  # the 17 grey levels y_k = k / 8 - 1
SAMPLERS = ("ancestral", "ddim")


@dataclass
class DDPMConfig(PointsOrDigitsConfig):
    """Everything that defines a DDPM (saved as JSON in every checkpoint).

    ``data``: ``"digits"`` or a 2-D toy set's name. ``architecture``: ``"mlp"`` (``TimeMLP``; 2-D points, or the
    64 pixels flattened) or ``"unet"`` (``UNet``, digits only). ``schedule``: ``"linear"`` (``beta_start`` ..
    ``beta_end``) or ``"cosine"``. ``variance``: the sampler's sigma_t^2, ``"beta"`` or ``"posterior"``.
    ``clip_x0``: keep x0_hat inside [-1, 1] while sampling the digits. ``parameterization``: ``"eps"`` (the
    network is eps_theta) or ``"levels"`` (digits: eps_theta from the network's distribution over the 17 grey
    levels, see the module docstring). ``num_classes`` > 0 makes a class-conditional model (data: (x, labels)),
    trained with the label replaced by the null label with probability ``label_dropout`` (classifier-free
    guidance). ``validation_draws``: noise draws per validation point for the validation L_simple.
    """

    kind: str = "ddpm"
    data: str = "swiss_roll"
    architecture: str = "mlp"
    timesteps: int = 1000
    schedule: str = "linear"
    beta_start: float = 1e-4
    beta_end: float = 0.02
    hidden: tuple[int, ...] = (128, 128, 128, 128)
    channels: int = 32
    time_dim: int = 128
    groups: int = 8
    variance: str = "beta"
    clip_x0: bool = False
    parameterization: str = "eps"
    num_classes: int = 0
    label_dropout: float = 0.1
    seed: int = 0
    validation_draws: int = 4

    def __post_init__(self) -> None:
        check_ddpm_config(self)


def check_ddpm_config(config: DDPMConfig) -> None:
    """Refuse a configuration that cannot build a DDPM, naming the field; integers and the widths are stored as
    Python ints (the checkpoint's JSON)."""
    from scratchgen.data import TOY_SETS

    check_kind(config, "ddpm")
    check_choice(config.data, "data", ("digits", *sorted(TOY_SETS)))
    check_choice(config.architecture, "architecture", ARCHITECTURES)
    if config.architecture == "unet" and not config.is_image:
        raise ValueError("architecture 'unet' is for the digits; the 2-D sets use 'mlp'")
    check_choice(config.schedule, "schedule", SCHEDULES)
    check_choice(config.variance, "variance", VARIANCES)
    for name in ("timesteps", "channels", "time_dim", "groups", "validation_draws"):
        setattr(config, name, check_count(getattr(config, name), name))
    config.num_classes = check_count(config.num_classes, "num_classes (0: unconditional)", minimum=0)
    config.seed = check_count(config.seed, "seed", minimum=0)
    check_fraction(config.label_dropout, "label_dropout")
    if config.time_dim % 2:
        raise ValueError(f"time_dim must be even (sin and cos pairs), got {config.time_dim}")
    config.hidden = check_sizes(config.hidden, "hidden")
    if not 0 < check_positive(config.beta_start, "beta_start") <= check_positive(config.beta_end, "beta_end") < 1:
        raise ValueError(f"need 0 < beta_start <= beta_end < 1, got {config.beta_start}, {config.beta_end}")
    check_choice(config.parameterization, "parameterization", PARAMETERIZATIONS)
    if config.parameterization == "levels" and not config.is_image:
        raise ValueError("parameterization 'levels' is for the digits' 17 grey levels; the 2-D sets use 'eps'")
    if config.clip_x0 and not config.is_image:
        raise ValueError("clip_x0 keeps x0_hat inside the digits' [-1, 1]; the 2-D sets have no such range")


def log_bin_probability(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """log(Phi(upper) - Phi(lower)) for lower < upper (either may be infinite), without cancellation: in the
    upper tail the same mass is Phi(-lower) - Phi(-upper), computed there."""
    from scratchgen.distributions import log_ndtr

    flip = lower > 0
    lo, hi = np.where(flip, -upper, lower), np.where(flip, -lower, upper)
    with np.errstate(divide="ignore"):  # log Phi(-inf) = -inf for the open outer bins
        log_hi, log_lo = log_ndtr(hi), log_ndtr(lo)
        return log_hi + np.log1p(-np.exp(np.minimum(log_lo - log_hi, 0.0)))


def discretized_gaussian_log_likelihood(x0: np.ndarray, mean: np.ndarray, sigma: float) -> np.ndarray:
    """log p(x_0 | x_1) per pixel for x_0 on the 17 levels y_k = k / 8 - 1: the N(mean, sigma^2) mass of the
    level's bin [y_k - 1/16, y_k + 1/16], the outer bins open-ended (so the 17 probabilities sum to 1)."""
    lower = np.where(x0 <= -1 + 1e-6, -np.inf, (x0 - HALF_BIN - mean) / sigma)
    upper = np.where(x0 >= 1 - 1e-6, np.inf, (x0 + HALF_BIN - mean) / sigma)
    return log_bin_probability(lower, upper)


def gaussian_kl(mean_q: np.ndarray, var_q: np.ndarray, mean_p: np.ndarray, var_p: np.ndarray) -> np.ndarray:
    """KL(N(mean_q, var_q) || N(mean_p, var_p)) per coordinate: (log(var_p / var_q) + (var_q + (mean_q -
    mean_p)^2) / var_p - 1) / 2."""
    return 0.5 * (np.log(var_p / var_q) + (var_q + (mean_q - mean_p) ** 2) / var_p - 1.0)


class DDPM(OnDevice, nn.Module):
    """A DDPM (``DDPMConfig``): the noise schedule and the denoiser eps_theta, trained by
    ``scratchgen.training.Trainer`` on L_simple.

    The model works in model space: 2-D points as they are, digits x in 0..16 as y = x / 8 - 1 in [-1, 1].
    ``sample`` returns data space: (n, 2) points, or (n, 8, 8) digits on the 17 grey levels (the discretised
    decoder's draw).
    """

    def __init__(self, config: DDPMConfig | None = None, **overrides: Any):
        super().__init__()
        if config is None:
            config = DDPMConfig(**overrides)
        elif not isinstance(config, DDPMConfig):
            raise TypeError(f"config must be a DDPMConfig, got {type(config).__name__}")
        self.config = config
        self.schedule = NoiseSchedule.make(config.schedule, config.timesteps, config.beta_start, config.beta_end)
        rng = np.random.default_rng(config.seed)
        outputs = len(LEVELS) if config.parameterization == "levels" else 1  # per pixel / coordinate
        if config.architecture == "unet":
            self.net = UNet(1, config.channels, config.time_dim, config.groups, out_channels=outputs, rng=rng,
                            num_classes=config.num_classes)
        else:
            self.net = TimeMLP(config.data_dim, config.hidden, config.time_dim, rng=rng,
                               out_dim=outputs * config.data_dim, num_classes=config.num_classes)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """One sample's shape in model space: (2,), (64,) or (1, 8, 8)."""
        if self.config.architecture == "unet":
            return (1, *IMAGE_SHAPE)
        return (self.config.data_dim,)

    @property
    def clip(self) -> tuple[float, float] | None:
        return (-1.0, 1.0) if self.config.clip_x0 else None

    # ----- data -----
    @property
    def conditional(self) -> bool:
        return self.config.num_classes > 0

    def check_data(self, x: Any, name: str = "x") -> Any:
        """Validated data space: (n, 2) finite points, or digits (n, 8, 8) / (n, 64) with values in 0..16; for a
        conditional model the pair (x, labels), labels integers in 0..num_classes - 1."""
        if not self.conditional:
            return check_points_or_digits(x, name, self.config.is_image)
        if not isinstance(x, tuple) or len(x) != 2:
            raise ValueError(f"{name} must be a pair (x, labels) for a class-conditional model")
        points = check_points_or_digits(x[0], name, self.config.is_image)
        return points, self.check_labels(x[1], len(points), f"{name} labels")

    def check_labels(self, labels: Any, n: int, name: str = "labels") -> np.ndarray:
        """Class labels as int64, one per sample, each in 0..num_classes - 1."""
        return self._labels(labels, n, name, null=False)

    def _labels(self, labels: Any, n: int, name: str, null: bool) -> np.ndarray:
        """``check_labels``; with ``null`` the null label num_classes too (the network's "no label")."""
        n = check_count(n, "n")
        if not self.conditional:
            raise ValueError(f"{name} are for a class-conditional model (num_classes > 0)")
        a = check_real_array(labels, name)
        if a.ndim == 0:
            a = np.full(n, a)
        if a.shape != (n,) or not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError(f"{name} must be {n} whole numbers, got shape {a.shape}")
        a = a.astype(np.int64)
        top = self.config.num_classes if null else self.config.num_classes - 1
        if a.size and (a.min() < 0 or a.max() > top):
            raise ValueError(f"{name} must lie in 0..{top}")
        return a

    def _model_tensor(self, x: Any, name: str) -> Tensor:
        """A model-space batch (n, *sample_shape): a Tensor as is, host data checked (finite reals) first."""
        if not isinstance(x, Tensor):
            x = self.constant(check_finite_array(x, name))
        if x.ndim < 1 or tuple(x.shape[1:]) != self.sample_shape:
            raise ValueError(f"{name} must be a model-space batch shaped (n, {', '.join(map(str, self.sample_shape))})"
                             f", got {tuple(x.shape)}")
        return x

    def _timesteps(self, t: Any, n: int, of: str) -> np.ndarray:
        """Timesteps 1..T, one per row of the batch ``of`` (a scalar is repeated)."""
        t = check_timesteps(t, self.schedule.T, "t", n=n, of=of)
        return np.full(n, t) if t.size == 1 else t

    def to_model_space(self, x: np.ndarray) -> np.ndarray:
        """Data -> model space (float64): digits y = x / 8 - 1 shaped as ``sample_shape``; points unchanged."""
        a = check_points_or_digits(x, "x", self.config.is_image)
        if self.config.is_image:
            a = a.reshape(len(a), *self.sample_shape) / (MAX_PIXEL / 2) - 1.0
        return a

    def to_data_space(self, y: np.ndarray) -> np.ndarray:
        """Model -> data space: digits rounded to the nearest of the 17 levels (the decoder's bins), (n, 8, 8)."""
        y = check_finite_array(y, "y")
        shapes = ((N_PIXELS,), IMAGE_SHAPE, (1, *IMAGE_SHAPE)) if self.config.is_image else ((2,),)
        if y.ndim < 2 or y.shape[1:] not in shapes:
            raise ValueError(f"y must be model-space samples shaped (n, {', '.join(map(str, shapes[-1]))}), "
                             f"got {y.shape}")
        return self._to_data_space(y)

    def _to_data_space(self, y: np.ndarray) -> np.ndarray:
        if not self.config.is_image:
            return np.asarray(y, dtype=np.float64)
        levels = np.clip(np.round((np.asarray(y) + 1.0) * (MAX_PIXEL / 2)), 0, MAX_PIXEL)
        return levels.reshape(len(levels), *IMAGE_SHAPE).astype(np.float64)

    def to_tensor(self, x: Any) -> Any:
        """Model-space Tensor of the data; for a conditional model (Tensor, labels)."""
        if self.conditional:
            if not isinstance(x, tuple) or len(x) != 2:
                raise ValueError("x must be a pair (x, labels) for a class-conditional model")
            points = self.to_model_space(x[0])
            return self.constant(points), self.check_labels(x[1], len(points), "x labels")
        return self.constant(self.to_model_space(x))

    # ----- the denoiser -----
    def eps_theta(self, xt: Tensor, t: np.ndarray, labels: Any = None) -> Tensor:
        """eps_theta(x_t, t[, label]) in model space, a Tensor (differentiable in the weights and in x_t);
        a conditional model without labels is asked with the null label (its unconditional half)."""
        xt = self._model_tensor(xt, "xt")
        t = self._timesteps(t, xt.shape[0], "xt")
        if labels is not None:
            labels = self._labels(labels, xt.shape[0], "labels", null=True)
        out = self.net(xt, t, labels) if self.conditional else self.net(xt, t)
        if self.config.parameterization == "eps":
            return out
        return self.eps_from_levels(xt, t, out)

    def eps_from_levels(self, xt: Tensor, t: np.ndarray, logits: Tensor) -> Tensor:
        """eps_theta from logits over the 17 levels: p(y_k | x_t) = softmax_k(l_k + log N(x_t; sqrt(a) y_k, 1 - a)),
        x0_hat = sum_k p(y_k | x_t) y_k, eps = (x_t - sqrt(a) x0_hat) / sqrt(1 - a), a = alpha-bar_t."""
        xt = self._model_tensor(xt, "xt")
        n, k = xt.shape[0], len(LEVELS)
        t = self._timesteps(t, n, "xt")
        if not isinstance(logits, Tensor):
            logits = self.constant(check_finite_array(logits, "logits"))
        if logits.ndim < 1 or logits.shape[0] != n or math.prod(logits.shape) != n * k * math.prod(self.sample_shape):
            raise ValueError(f"logits must hold {k} logits per coordinate of each of the {n} rows of xt, got shape "
                             f"{tuple(logits.shape)}")
        a = self.schedule.alpha_bars[t].reshape(n, 1, 1)
        levels = LEVELS.reshape(1, k, 1)
        x = xt.reshape(n, 1, -1)
        diff = x - self.constant(np.sqrt(a) * levels)              # (n, 17, pixels)
        log_likelihood = diff * diff * self.constant(-0.5 / (1 - a))
        posterior = ops.softmax(logits.reshape(n, k, -1) + log_likelihood, axis=1)
        x0 = (posterior * self.constant(levels)).sum(axis=1, keepdims=True)
        eps = (x - x0 * self.constant(np.sqrt(a))) * self.constant(1 / np.sqrt(1 - a))
        return eps.reshape(*xt.shape)

    def predict_noise(self, xt: np.ndarray, t: np.ndarray, labels: Any = None, guidance: float = 1.0) -> np.ndarray:
        """eps_theta(x_t, t) on NumPy arrays in model space (no graph): the ``denoiser`` the samplers call.

        A conditional model with ``labels`` and guidance weight w (classifier-free guidance, Ho & Salimans 2022):
        eps~ = eps_theta(x_t, t, null) + w (eps_theta(x_t, t, label) - eps_theta(x_t, t, null)). w = 0 is the
        unconditional model, w = 1 the conditional one, w > 1 pushes further along the label's direction
        (fidelity to the label for diversity). Both halves run as one batch."""
        guidance = check_nonnegative(guidance, "guidance")
        xt = check_finite_array(xt, "xt")
        if xt.ndim < 1 or xt.shape[1:] != self.sample_shape:
            raise ValueError(f"xt must be a model-space batch shaped (n, {', '.join(map(str, self.sample_shape))}), "
                             f"got {xt.shape}")
        xt, t = xt.astype(self.dtype), self._timesteps(t, len(xt), "xt")
        if labels is not None:
            labels = self._labels(labels, len(xt), "labels", null=True)
        with al.no_grad():
            if labels is None or guidance == 0:
                return self.eps_theta(self.constant(xt), t).numpy().astype(np.float64)
            if guidance == 1:
                return self.eps_theta(self.constant(xt), t, labels).numpy().astype(np.float64)
            null = np.full(len(xt), self.config.num_classes)
            both = self.eps_theta(self.constant(np.concatenate([xt, xt])), np.concatenate([t, t]),
                                  np.concatenate([labels, null])).numpy().astype(np.float64)
        conditional, unconditional = both[:len(xt)], both[len(xt):]
        return unconditional + guidance * (conditional - unconditional)

    def noise_prediction_loss(self, x0: Tensor, rng: np.random.Generator, labels: Any = None) -> Tensor:
        """L_simple on a batch: mean over samples and coordinates of (eps - eps_theta(x_t, t))^2; with labels,
        each is replaced by the null label with probability ``label_dropout`` (so one network learns both the
        conditional and the unconditional eps, as classifier-free guidance needs)."""
        x0, rng = self._model_tensor(x0, "x0"), as_generator(rng, "rng")
        n = x0.shape[0]
        if labels is not None:
            labels = self.check_labels(labels, n)
            labels = np.where(rng.random(n) < self.config.label_dropout, self.config.num_classes, labels)
        t = rng.integers(1, self.schedule.T + 1, size=n)
        eps = rng.standard_normal(x0.shape)
        a = NoiseSchedule._at(self.schedule.alpha_bars, t, x0.ndim)
        eps = self.constant(eps)
        xt = x0 * self.constant(np.sqrt(a)) + eps * self.constant(np.sqrt(1 - a))
        residual = self.eps_theta(xt, t, labels) - eps
        return (residual * residual).mean()

    def training_loss(self, batch: Any, rng: np.random.Generator, epoch: float = 0.0) -> Tensor:
        """L_simple on a model-space batch (``to_tensor``'s: a Tensor, or (Tensor, labels) if conditional)."""
        if self.conditional:
            if not isinstance(batch, tuple) or len(batch) != 2:
                raise ValueError("batch must be a pair (x, labels) for a class-conditional model")
            return self.noise_prediction_loss(self._model_tensor(batch[0], "batch"), rng, batch[1])
        return self.noise_prediction_loss(self._model_tensor(batch, "batch"), rng)

    def validation_loss(self, x: Tensor, rng: np.random.Generator) -> float:
        """L_simple on the validation points, ``validation_draws`` noise draws each (the trainer reseeds rng,
        so every evaluation sees the same t and eps)."""
        rng = as_generator(rng, "rng")
        if not self.conditional:
            x = self._model_tensor(x, "x")
        total = 0.0
        with al.no_grad():
            for _ in range(self.config.validation_draws):
                total += float(self.training_loss(x, rng).item())
        return total / self.config.validation_draws

    # ----- sampling -----
    def sample(self, n: int, rng: np.random.Generator | int | None = None, sampler: str = "ancestral",
               steps: int | None = None, eta: float = 0.0, variance: str | None = None,
               return_trajectory: int = 0, progress: bool = False, labels: Any = None,
               guidance: float = 1.0) -> Any:
        """n samples in data space. ``sampler``: ``"ancestral"`` (T steps, sigma_t^2 by ``variance``, default
        the config's) or ``"ddim"`` (``steps`` strided steps, default 50, noise ``eta``). With
        ``return_trajectory`` = k: (samples, [(t, x_t in data space)] every k steps). A conditional model takes
        ``labels`` (one per sample, or one for all) and the guidance weight w (see ``predict_noise``); without
        labels it samples its unconditional half."""
        n, rng = check_count(n, "n"), as_generator(rng, "rng")
        sampler = check_choice(sampler, "sampler", SAMPLERS)
        # every argument is checked, also those the chosen sampler ignores
        steps = 50 if steps is None else check_count(steps, "steps")
        eta = check_nonnegative(eta, "eta")
        variance = self.config.variance if variance is None else check_choice(variance, "variance", VARIANCES)
        return_trajectory = check_count(return_trajectory, "return_trajectory", minimum=0)
        shape = (n, *self.sample_shape)
        if labels is not None:
            labels = self.check_labels(labels, n)
        guidance = check_nonnegative(guidance, "guidance")

        def denoiser(x: np.ndarray, t: np.ndarray) -> np.ndarray:
            return self.predict_noise(x, t, labels, guidance)

        was_training = self.training
        self.eval()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.schedule.T if sampler == "ancestral" else steps, unit="step",
                       leave=False, desc=f"{sampler} sampling")
        try:
            if sampler == "ancestral":
                out = ancestral_sample(denoiser, self.schedule, shape, rng, variance, self.clip, return_trajectory,
                                       bar.update if bar else None)
            else:
                out = ddim_sample(denoiser, self.schedule, shape, rng, steps, eta, self.clip,
                                  return_trajectory, bar.update if bar else None)
        finally:
            self.train(was_training)
            if bar is not None:
                bar.close()
        if not return_trajectory:
            return self._to_data_space(out)
        x, trajectory = out
        if self.config.is_image:  # intermediate states stay continuous (noise is not on the grid)
            trajectory = [(t, (y.reshape(len(y), *IMAGE_SHAPE) + 1) * (MAX_PIXEL / 2)) for t, y in trajectory]
        return self._to_data_space(x), trajectory

    # ----- the likelihood bound -----
    def nll_bound(self, x: Any, rng: np.random.Generator | int | None = 0, variance: str | None = None,
                  batch_size: int = 512) -> dict[str, np.ndarray]:
        """The variational bound on -log p(x_0) per image, in nats (digits only; see the module docstring).

        Every term t = 1..T is evaluated (one draw of x_t ~ q(x_t | x_0) each), so the estimate is unbiased for
        the bound. Returns per-image arrays ``prior`` (L_T), ``diffusion`` (sum_{t>=2} L_{t-1}), ``decoder``
        (L_0) and ``total``. sigma_t^2 of the backward steps by ``variance`` (default the config's); the decoder
        uses sigma_1^2 = beta_1 (beta~_1 = 0).
        """
        if not self.config.is_image:
            raise ValueError("nll_bound is defined for the digits (a discrete likelihood); 2-D points have none")
        x = self.check_data(x, "x")
        if self.conditional:
            x = x[0]
        if not np.all(x == np.round(x)):
            raise ValueError("x must hold whole grey levels 0..16: the bound is a likelihood of discrete images")
        x0_all = self.to_model_space(x)
        rng, batch_size = as_generator(rng, "rng"), check_count(batch_size, "batch_size")
        s, T = self.schedule, self.schedule.T
        sigma2 = s.sigma2(self.config.variance if variance is None else variance)
        n = len(x0_all)
        axes = tuple(range(1, x0_all.ndim))
        prior = 0.5 * np.sum(-np.log(1 - s.alpha_bars[T]) + (1 - s.alpha_bars[T])
                             + s.alpha_bars[T] * x0_all**2 - 1.0, axis=axes)
        diffusion, decoder = np.zeros(n), np.zeros(n)
        was_training = self.training
        self.eval()
        try:
            for start in range(0, n, batch_size):
                x0 = x0_all[start:start + batch_size]
                m = len(x0)
                for t in range(T, 0, -1):
                    tt = np.full(m, t)
                    xt = s.q_sample(x0, tt, rng.standard_normal(x0.shape))
                    eps = self.predict_noise(xt, tt)
                    if t > 1:
                        mean_q, var_q = s.q_posterior(x0, xt, tt)
                        kl = gaussian_kl(mean_q, var_q, s.p_mean(xt, tt, eps), sigma2[t])
                        diffusion[start:start + m] += kl.sum(axis=axes)
                    else:
                        mean = s.p_mean(xt, tt, eps)
                        decoder[start:start + m] = -discretized_gaussian_log_likelihood(
                            x0, mean, math.sqrt(s.betas[1])).sum(axis=axes)
        finally:
            self.train(was_training)
        return {"prior": prior, "diffusion": diffusion, "decoder": decoder, "total": prior + diffusion + decoder}

    def forward_process(self, x: Any, timesteps: list[int], rng: np.random.Generator | int | None = 0
                        ) -> list[np.ndarray]:
        """x_t ~ q(x_t | x_0) for each t in ``timesteps`` (one noise draw shared by all t), in data space
        units (digits on the 0..16 scale, continuous): the lecture's forward-process figure."""
        x = self.check_data(x, "x")
        x0 = self.to_model_space(x[0] if self.conditional else x)
        timesteps = np.atleast_1d(check_timesteps(timesteps, self.schedule.T, "timesteps", low=0))
        rng = as_generator(rng, "rng")
        eps = rng.standard_normal(x0.shape)
        out = []
        for t in timesteps:
            xt = x0 if t == 0 else self.schedule.q_sample(x0, np.full(len(x0), int(t)), eps)
            out.append((xt.reshape(len(xt), *IMAGE_SHAPE) + 1) * (MAX_PIXEL / 2) if self.config.is_image else xt)
        return out


def ddpm_config_from_dict(values: dict[str, Any]) -> DDPMConfig:
    """A DDPMConfig from its JSON dict (unknown keys refused, naming them)."""
    return DDPMConfig.from_dict(values)
