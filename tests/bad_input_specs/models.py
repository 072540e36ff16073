"""Bad-input entries of the deep models, their metrics, the training loop, diffusion tools and plotting.

Every model here is tiny (a few hundred weights, T = 10 or 20 steps) and built once (``functools.cache``): the
fuzz calls each entry a dozen times per argument.
"""

from __future__ import annotations

import functools
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autograd_lite import optim
from scratchgen import metrics, plotting, training
from scratchgen.data import load_digits, make_toy
from scratchgen.models import (
    DDPM,
    GAN,
    MLP,
    VAE,
    ConvDecoder,
    ConvEncoder,
    DDPMConfig,
    GANConfig,
    HierarchicalVAE,
    HierarchicalVAEConfig,
    VAEConfig,
    build_model,
    config_from_dict,
    diffusion,
    inverse,
)
from scratchgen.models.data_config import PointsOrDigitsConfig
from scratchgen.models.networks import OnDevice
from scratchgen.models.vae import ELBO, LatentVariableModel

from . import entry, exempt

_TRAIN, _LABELS = load_digits("train")
DIGITS = _TRAIN[:8]                                  # (8, 64) grey levels 0..16
DIGIT_LABELS = _LABELS[:8]
POINTS = make_toy("ring", 32, seed=0)                # (32, 2)
IMAGES = np.linspace(-1, 1, 2 * 64).reshape(2, 1, 8, 8)   # model space, (N, 1, 8, 8)
SMALL = np.linspace(-1, 1, 2 * 16).reshape(2, 1, 4, 4)    # super-resolution's observations
OUT = Path(tempfile.mkdtemp(prefix="scratchgen_bad_input_models_"))

VAE_FIELDS = dict(likelihood="categorical", architecture="mlp", latent_dim=2, hidden=(8,), activation="relu",
                  dropout=0.0, input_dropout=0.0, objective="iwae", iwae_k=2, kl_warmup_epochs=0.0,
                  gaussian_sigma=0.1, log_var_min=-8.0, log_var_max=4.0, seed=0)
VAE_KINDS = dict(kind="choice", likelihood="choice", architecture="choice", latent_dim="count", hidden="sizes",
                 activation="choice", dropout="unit", input_dropout="unit", objective="choice", iwae_k="count",
                 kl_warmup_epochs="nonnegative", gaussian_sigma="positive", log_var_min="real", log_var_max="real",
                 seed="nonnegative_count")


# ------------------------------------------------------------------------------------- the tiny models
@functools.cache
def _vae() -> VAE:
    return VAE(VAEConfig(**VAE_FIELDS))


@functools.cache
def _hvae() -> HierarchicalVAE:
    return HierarchicalVAE(HierarchicalVAEConfig(**VAE_FIELDS, top_latent_dim=2))


def _gan_config() -> GANConfig:
    return GANConfig(data="ring", latent_dim=2, generator_hidden=(8,), discriminator_hidden=(8,),
                     validation_samples=32)


@functools.cache
def _gan() -> GAN:
    return GAN(_gan_config())


def _ddpm_config(conditional: bool = False) -> DDPMConfig:
    return DDPMConfig(data="ring", timesteps=20, hidden=(16, 16), time_dim=16, validation_draws=1,
                      num_classes=3 if conditional else 0)


@functools.cache
def _ddpm(conditional: bool = False) -> DDPM:
    return DDPM(_ddpm_config(conditional))


@functools.cache
def _digits_ddpm() -> DDPM:
    """A U-Net on the digits (the restorations need image-shaped samples), T = 10."""
    return DDPM(DDPMConfig(data="digits", architecture="unet", channels=4, groups=2, time_dim=8, timesteps=10))


@functools.cache
def _levels_ddpm() -> DDPM:
    return DDPM(DDPMConfig(data="digits", parameterization="levels", hidden=(8,), time_dim=8, timesteps=10))


@functools.cache
def _schedule() -> diffusion.NoiseSchedule:
    return diffusion.NoiseSchedule.make("linear", 20)


@functools.cache
def _classifier() -> metrics.DigitClassifier:
    return metrics.DigitClassifier(hidden=(16, 8)).fit(DIGITS, DIGIT_LABELS, epochs=1)


def _optimizers(gan: GAN) -> dict[str, optim.Optimizer]:
    return {name: optim.Adam(params, lr=1e-3) for name, (params, _) in gan.optimizer_groups().items()}


def _trainer(**overrides) -> training.Trainer:
    arguments = dict(model=_vae(), train_data=DIGITS, validation_data=DIGITS[:4],
                     config=training.TrainConfig(epochs=1, batch_size=4), progress=False)
    return training.Trainer(**{**arguments, **overrides})


@functools.cache
def _run_dir() -> Path:
    """A directory with a training checkpoint (one epoch of two steps) and its best model."""
    directory = OUT / "run"
    _trainer(out_dir=directory).fit()
    return directory


# ------------------------------------------------------------------------------------- networks
entry(MLP, lambda sizes, activation, dropout, rng: MLP(sizes, activation, dropout, rng),
      kinds={"sizes": "sizes", "activation": "choice", "dropout": "unit", "rng": "rng"},
      sizes=(2, 4, 3), activation="relu", dropout=0.1, rng=0)
entry(MLP.forward, lambda x: MLP((2, 4, 3), rng=0).forward(x), kinds={"x": "tensor"}, x=np.zeros((3, 2)))
exempt(MLP.extra_repr, "no argument: the layer sizes as text for repr()")
entry(ConvEncoder,
      kinds={"out_features": "count", "in_channels": "count", "channels": "sizes", "image_size": "count",
             "activation": "choice", "rng": "rng"},
      out_features=3, in_channels=1, channels=(2, 2), image_size=8, activation="relu", rng=0)
entry(ConvEncoder.forward, lambda x: ConvEncoder(3, channels=(2, 2), rng=0).forward(x), kinds={"x": "tensor"},
      x=np.zeros((2, 1, 8, 8)))
entry(ConvDecoder,
      kinds={"in_features": "count", "out_channels": "count", "channels": "sizes", "image_size": "count",
             "activation": "choice", "rng": "rng"},
      in_features=3, out_channels=1, channels=(2, 2), image_size=8, activation="relu", rng=0)
entry(ConvDecoder.forward, lambda z: ConvDecoder(3, 1, channels=(2, 2), rng=0).forward(z), kinds={"z": "tensor"},
      z=np.zeros((2, 3)))
entry(OnDevice.constant, lambda values: _vae().constant(values), kinds={"values": "tensor"}, values=np.zeros(3))

# ------------------------------------------------------------------------------------- configs
entry(VAEConfig, kinds=VAE_KINDS, kind="vae", **VAE_FIELDS)
entry(HierarchicalVAEConfig, kinds={**VAE_KINDS, "top_latent_dim": "count"}, kind="hvae", **VAE_FIELDS,
      top_latent_dim=2)
exempt(VAEConfig.to_json, "no argument: the config as JSON")
entry(config_from_dict, kinds={"values": "mapping"}, values={"kind": "vae", "latent_dim": 2, "hidden": [8]})
entry(PointsOrDigitsConfig.from_dict, lambda values: GANConfig.from_dict(values), kinds={"values": "mapping"},
      values={"data": "ring", "generator_hidden": [8], "discriminator_hidden": [8]})
exempt(PointsOrDigitsConfig.to_json, "no argument: the config as JSON")
entry(build_model, kinds={"config": "object"}, config={"kind": "gan", "data": "ring", "generator_hidden": [8],
                                                        "discriminator_hidden": [8]})
entry(GANConfig,
      kinds={"kind": "choice", "data": "choice", "architecture": "choice", "loss": "choice", "latent_dim": "count",
             "generator_hidden": "sizes", "discriminator_hidden": "sizes", "pack": "count",
             "gradient_penalty": "nonnegative", "d_steps": "count", "lr_scale_discriminator": "positive",
             "betas": "betas", "data_scale": "positive", "seed": "nonnegative_count", "validation_samples": "count"},
      kind="gan", data="ring", architecture="mlp", loss="non_saturating", latent_dim=2, generator_hidden=(8,),
      discriminator_hidden=(8,), pack=2, gradient_penalty=1.0, d_steps=1, lr_scale_discriminator=1.0,
      betas=(0.5, 0.999), data_scale=1.0, seed=0, validation_samples=32)
entry(DDPMConfig,
      kinds={"kind": "choice", "data": "choice", "architecture": "choice", "timesteps": "count", "schedule": "choice",
             "beta_start": "positive", "beta_end": "positive", "hidden": "sizes", "channels": "count",
             "time_dim": "count", "groups": "count", "variance": "choice", "parameterization": "choice",
             "num_classes": "nonnegative_count", "label_dropout": "unit", "seed": "nonnegative_count",
             "validation_draws": "count"},
      kind="ddpm", data="ring", architecture="mlp", timesteps=20, schedule="linear", beta_start=1e-4, beta_end=0.02,
      hidden=(16,), channels=4, time_dim=16, groups=2, variance="beta", parameterization="eps", num_classes=3,
      label_dropout=0.1, seed=0, validation_draws=1)

# ------------------------------------------------------------------------------------- the VAEs
entry(VAE, kinds={"config": "object"}, config=VAEConfig(**VAE_FIELDS))
entry(HierarchicalVAE, kinds={"config": "object"}, config=HierarchicalVAEConfig(**VAE_FIELDS))
exempt(ELBO, "a result record (elbo, reconstruction, kl), built by the models' elbo")
for _abstract in ("decode", "elbo", "log_weights", "posterior_code", "prior_sample"):
    exempt(getattr(LatentVariableModel, _abstract),
           f"the subclass interface (raises NotImplementedError): VAE.{_abstract} and HierarchicalVAE.{_abstract} "
           "are registered")

for _name, _model in (("vae", _vae), ("hvae", _hvae)):
    _class = VAE if _name == "vae" else HierarchicalVAE
    entry(_class.decode, functools.partial(lambda z, m: m().decode(z), m=_model), kinds={"z": "tensor"},
          z=np.zeros((3, 2)) if _name == "vae" else np.zeros((3, 10)))
    entry(_class.elbo, functools.partial(lambda x, rng, m: m().elbo(x, rng), m=_model),
          kinds={"x": "data", "rng": "rng"}, x=DIGITS, rng=0)
    entry(_class.log_weights, functools.partial(lambda x, k, rng, m: m().log_weights(x, k, rng), m=_model),
          kinds={"x": "data", "k": "count", "rng": "rng"}, x=DIGITS, k=2, rng=0)
    entry(_class.posterior_code, functools.partial(lambda x, m: m().posterior_code(x), m=_model),
          kinds={"x": "data"}, x=DIGITS)
    entry(_class.prior_sample, functools.partial(lambda n, rng, m: m().prior_sample(n, rng), m=_model),
          kinds={"n": "count", "rng": "rng"}, n=3, rng=0)
entry(VAE.encode, lambda x: _vae().encode(x), kinds={"x": "data"}, x=DIGITS)

_LVM = LatentVariableModel
entry(_LVM.check_data, lambda x: _vae().check_data(x), kinds={"x": "data"}, x=DIGITS)
entry(_LVM.to_tensor, lambda x: _vae().to_tensor(x), kinds={"x": "tensor"}, x=DIGITS)
entry(_LVM.iwae_bound, lambda x, k, rng: _vae().iwae_bound(x, k, rng), kinds={"x": "data", "k": "count", "rng": "rng"},
      x=DIGITS, k=2, rng=0)
entry(_LVM.kl_weight, lambda epoch: _vae().kl_weight(epoch), kinds={"epoch": "nonnegative"}, epoch=1.0)
entry(_LVM.training_loss, lambda x, rng, epoch: _vae().training_loss(x, rng, epoch),
      kinds={"x": "data", "rng": "rng", "epoch": "nonnegative"}, x=DIGITS, rng=0, epoch=0.5)
entry(_LVM.validation_loss, lambda x, rng: _vae().validation_loss(x, rng), kinds={"x": "data", "rng": "rng"},
      x=DIGITS, rng=0)
entry(_LVM.log_likelihood,
      lambda x, k, rng, batch_size, samples_per_pass: _vae().log_likelihood(x, k, rng, batch_size, samples_per_pass),
      kinds={"x": "data", "k": "count", "rng": "rng", "batch_size": "count", "samples_per_pass": "count"},
      x=DIGITS, k=4, rng=0, batch_size=4, samples_per_pass=2)
entry(_LVM.negative_elbo, lambda x, n_samples, rng: _vae().negative_elbo(x, n_samples, rng),
      kinds={"x": "data", "n_samples": "count", "rng": "rng"}, x=DIGITS, n_samples=2, rng=0)
entry(_LVM.sample, lambda n, rng: _hvae().sample(n, rng), kinds={"n": "count", "rng": "rng"}, n=3, rng=0)
entry(_LVM.reconstruct, lambda x: _vae().reconstruct(x), kinds={"x": "data"}, x=DIGITS)
entry(_LVM.interpolate, lambda x_a, x_b, steps: _vae().interpolate(x_a, x_b, steps),
      kinds={"x_a": "data", "x_b": "data", "steps": "count"}, x_a=DIGITS[:1], x_b=DIGITS[1:2], steps=3)

# ------------------------------------------------------------------------------------- the GAN
entry(GAN, kinds={"config": "object"}, config=_gan_config())
entry(GAN.check_data, lambda x: _gan().check_data(x), kinds={"x": "data"}, x=POINTS)
entry(GAN.to_tensor, lambda x: _gan().to_tensor(x), kinds={"x": "tensor"}, x=POINTS)
entry(GAN.noise, lambda n, rng: _gan().noise(n, rng), kinds={"n": "count", "rng": "rng"}, n=3, rng=0)
exempt(GAN.optimizer_groups, "no argument: the training loop's parameter groups (D's and G's Adam settings)")
exempt(GAN.ema_parameters, "no argument: the generator's parameters, which the training loop's EMA averages")
entry(GAN.discriminator_objective, lambda real, rng: _gan().discriminator_objective(real, rng),
      kinds={"real": "data", "rng": "rng"}, real=POINTS, rng=0)
entry(GAN.generator_objective, lambda n, rng: _gan().generator_objective(n, rng), kinds={"n": "count", "rng": "rng"},
      n=4, rng=0)
entry(GAN.training_step,
      lambda batch, rng, step, optimizers, check_loss, grad_clip: _gan().training_step(
          batch, rng=rng, epoch=0.0, step=step, optimizers=optimizers() if callable(optimizers) else optimizers,
          check_loss=check_loss, grad_clip=grad_clip),
      kinds={"batch": "data", "rng": "rng", "step": "nonnegative_count", "optimizers": "mapping",
             "check_loss": "function", "grad_clip": "nonnegative"},
      batch=POINTS, rng=0, step=0, optimizers=lambda: _optimizers(_gan()), check_loss=lambda loss: float(loss.item()),
      grad_clip=1.0)
entry(GAN.validation_loss, lambda x, rng: _gan().validation_loss(x, rng), kinds={"x": "data", "rng": "rng"},
      x=POINTS, rng=0)
entry(GAN.sample, lambda n, rng: _gan().sample(n, rng), kinds={"n": "count", "rng": "rng"}, n=3, rng=0)

# ------------------------------------------------------------------------------------- the DDPM
_T4 = np.array([1, 5, 10, 20])
entry(DDPM, kinds={"config": "object"}, config=_ddpm_config())
entry(DDPM.check_data, lambda x: _ddpm().check_data(x), kinds={"x": "data"}, x=POINTS)
entry(DDPM.check_labels, lambda labels, n: _ddpm(True).check_labels(labels, n),
      kinds={"labels": "labels", "n": "count"}, labels=np.array([0, 1, 2, 0]), n=4)
entry(DDPM.to_model_space, lambda x: _digits_ddpm().to_model_space(x), kinds={"x": "data"}, x=DIGITS)
entry(DDPM.to_data_space, lambda y: _digits_ddpm().to_data_space(y), kinds={"y": "data"}, y=IMAGES)
entry(DDPM.to_tensor, lambda x: _ddpm().to_tensor(x), kinds={"x": "tensor"}, x=POINTS)
entry(DDPM.eps_theta, lambda xt, t, labels: _ddpm(True).eps_theta(xt, t, labels),
      kinds={"xt": "data", "t": "timesteps", "labels": "labels"}, xt=POINTS[:4], t=_T4, labels=np.array([0, 1, 2, 3]))
entry(DDPM.eps_from_levels, lambda xt, t, logits: _levels_ddpm().eps_from_levels(xt, t, logits),
      kinds={"xt": "data", "t": "timesteps", "logits": "data"}, xt=np.zeros((2, 64)), t=np.array([1, 10]),
      logits=np.zeros((2, 17 * 64)))
entry(DDPM.predict_noise, lambda xt, t, labels, guidance: _ddpm(True).predict_noise(xt, t, labels, guidance),
      kinds={"xt": "data", "t": "timesteps", "labels": "labels", "guidance": "nonnegative"},
      xt=POINTS[:4], t=_T4, labels=np.array([0, 1, 2, 0]), guidance=2.0)
entry(DDPM.noise_prediction_loss, lambda x0, rng, labels: _ddpm(True).noise_prediction_loss(x0, rng, labels),
      kinds={"x0": "data", "rng": "rng", "labels": "labels"}, x0=POINTS[:4], rng=0, labels=np.array([0, 1, 2, 0]))
entry(DDPM.training_loss, lambda batch, rng: _ddpm().training_loss(batch, rng), kinds={"batch": "data", "rng": "rng"},
      batch=POINTS, rng=0)
entry(DDPM.validation_loss, lambda x, rng: _ddpm().validation_loss(x, rng), kinds={"x": "data", "rng": "rng"},
      x=POINTS, rng=0)
entry(DDPM.sample,
      lambda n, rng, sampler, steps, eta, variance, return_trajectory, labels, guidance: _ddpm(True).sample(
          n, rng, sampler, steps, eta, variance, return_trajectory, labels=labels, guidance=guidance),
      kinds={"n": "count", "rng": "rng", "sampler": "choice", "steps": "count", "eta": "nonnegative",
             "variance": "choice", "return_trajectory": "nonnegative_count", "labels": "labels",
             "guidance": "nonnegative"},
      n=4, rng=0, sampler="ddim", steps=3, eta=0.5, variance="beta", return_trajectory=1,
      labels=np.array([0, 1, 2, 0]), guidance=1.5)
entry(DDPM.nll_bound, lambda x, rng, variance, batch_size: _digits_ddpm().nll_bound(x, rng, variance, batch_size),
      kinds={"x": "data", "rng": "rng", "variance": "choice", "batch_size": "count"},
      x=DIGITS[:2], rng=0, variance="posterior", batch_size=1)
entry(DDPM.forward_process, lambda x, timesteps, rng: _ddpm().forward_process(x, timesteps, rng),
      kinds={"x": "data", "timesteps": "timesteps", "rng": "rng"}, x=POINTS, timesteps=[0, 5, 20], rng=0)

# ------------------------------------------------------------------------------------- diffusion
_X0, _NOISE = POINTS[:4], np.ones((4, 2))
entry(diffusion.linear_betas, kinds={"timesteps": "count", "beta_start": "positive", "beta_end": "positive"},
      timesteps=10, beta_start=1e-4, beta_end=0.02)
entry(diffusion.cosine_betas, kinds={"timesteps": "count", "s": "nonnegative", "max_beta": "unit"},
      timesteps=10, s=0.008, max_beta=0.999)
entry(diffusion.NoiseSchedule, kinds={"betas": "data"}, betas=np.linspace(1e-4, 0.02, 10))
entry(diffusion.NoiseSchedule.make,
      kinds={"name": "choice", "timesteps": "count", "beta_start": "positive", "beta_end": "positive"},
      name="linear", timesteps=10, beta_start=1e-4, beta_end=0.02)
entry(diffusion.NoiseSchedule.sigma2, lambda variance: _schedule().sigma2(variance), kinds={"variance": "choice"},
      variance="beta")
entry(diffusion.NoiseSchedule.q_sample, lambda x0, t, noise: _schedule().q_sample(x0, t, noise),
      kinds={"x0": "data", "t": "timesteps", "noise": "data"}, x0=_X0, t=np.array([0, 1, 10, 20]), noise=_NOISE)
entry(diffusion.NoiseSchedule.q_step, lambda x_prev, t, noise: _schedule().q_step(x_prev, t, noise),
      kinds={"x_prev": "data", "t": "timesteps", "noise": "data"}, x_prev=_X0, t=_T4, noise=_NOISE)
entry(diffusion.NoiseSchedule.q_posterior, lambda x0, xt, t: _schedule().q_posterior(x0, xt, t),
      kinds={"x0": "data", "xt": "data", "t": "timesteps"}, x0=_X0, xt=_NOISE, t=_T4)
entry(diffusion.NoiseSchedule.predict_x0, lambda xt, t, eps: _schedule().predict_x0(xt, t, eps),
      kinds={"xt": "data", "t": "timesteps", "eps": "data"}, xt=_X0, t=_T4, eps=_NOISE)
entry(diffusion.NoiseSchedule.p_mean, lambda xt, t, eps, clip: _schedule().p_mean(xt, t, eps, clip),
      kinds={"xt": "data", "t": "timesteps", "eps": "data", "clip": "interval"}, xt=_X0, t=_T4, eps=_NOISE,
      clip=(-3.0, 3.0))


def _zero_denoiser(x, t):
    return np.zeros_like(x)


entry(diffusion.ancestral_sample,
      lambda denoiser, schedule, shape, rng, variance, clip, trajectory_every, progress: diffusion.ancestral_sample(
          denoiser, schedule() if callable(schedule) else schedule, shape, rng, variance, clip, trajectory_every,
          progress),
      kinds={"denoiser": "function", "schedule": "object", "shape": "sizes", "rng": "rng", "variance": "choice",
             "clip": "interval", "trajectory_every": "nonnegative_count", "progress": "function"},
      denoiser=_zero_denoiser, schedule=_schedule, shape=(3, 2), rng=0, variance="posterior", clip=(-3.0, 3.0),
      trajectory_every=5, progress=lambda steps: None)
entry(diffusion.ddim_timesteps, kinds={"timesteps": "count", "steps": "count"}, timesteps=20, steps=5)
entry(diffusion.ddim_sample,
      lambda denoiser, schedule, shape, rng, steps, eta, clip, trajectory_every, progress: diffusion.ddim_sample(
          denoiser, schedule() if callable(schedule) else schedule, shape, rng, steps, eta, clip, trajectory_every,
          progress),
      kinds={"denoiser": "function", "schedule": "object", "shape": "sizes", "rng": "rng", "steps": "count",
             "eta": "nonnegative", "clip": "interval", "trajectory_every": "nonnegative_count",
             "progress": "function"},
      denoiser=_zero_denoiser, schedule=_schedule, shape=(3, 2), rng=0, steps=5, eta=1.0, clip=(-3.0, 3.0),
      trajectory_every=2, progress=lambda steps: None)

# ------------------------------------------------------------------------------------- inverse problems
_MASK = np.ones((2, 1, 8, 8))
_MASK[:, :, 4:] = 0
exempt(inverse.LinearOperator, "no argument: the base class of the operators")
for _abstract in ("forward", "adjoint"):
    exempt(getattr(inverse.LinearOperator, _abstract),
           f"the operators' interface (raises NotImplementedError); each operator's {_abstract} is registered")
entry(inverse.PixelMask, kinds={"mask": "data"}, mask=_MASK)
exempt(inverse.PixelMask.lower_half, "no argument: the fixed lower-half mask")
entry(inverse.PixelMask.forward, lambda x: inverse.PixelMask(_MASK).forward(x), kinds={"x": "data"}, x=IMAGES)
exempt(inverse.AveragePool, "no argument: a fixed 2x2 average")
entry(inverse.AveragePool.forward, lambda x: inverse.AveragePool().forward(x), kinds={"x": "data"}, x=IMAGES)
entry(inverse.AveragePool.adjoint, lambda y: inverse.AveragePool().adjoint(y), kinds={"y": "data"}, y=SMALL)
entry(inverse.AveragePool.upsample_bilinear, lambda y: inverse.AveragePool().upsample_bilinear(y),
      kinds={"y": "data"}, y=SMALL)
entry(inverse.AveragePool.upsample_nearest, lambda y: inverse.AveragePool().upsample_nearest(y),
      kinds={"y": "data"}, y=SMALL)
entry(inverse.GaussianBlur, kinds={"sigma": "positive", "size": "count"}, sigma=1.0, size=3)
entry(inverse.GaussianBlur.forward, lambda x: inverse.GaussianBlur().forward(x), kinds={"x": "data"}, x=IMAGES)
entry(inverse.GaussianBlur.adjoint, lambda y: inverse.GaussianBlur().adjoint(y), kinds={"y": "data"}, y=IMAGES)
entry(inverse.gaussian_kernel, kinds={"sigma": "positive", "size": "count"}, sigma=1.0, size=3)
entry(inverse.psnr, kinds={"restored": "data", "truth": "data", "peak": "positive"}, restored=DIGITS,
      truth=DIGITS[::-1], peak=16.0)
entry(inverse.repaint_schedule, kinds={"timesteps": "count", "resample": "count", "jump": "count"}, timesteps=10,
      resample=2, jump=3)
entry(inverse.repaint,
      lambda model, observed, mask, rng, resample, jump, guidance, progress: inverse.repaint(
          model() if callable(model) else model, observed, mask, rng, resample, jump, guidance=guidance,
          progress=progress),
      kinds={"model": "object", "observed": "data", "mask": "data", "rng": "rng", "resample": "count", "jump": "count",
             "guidance": "nonnegative", "progress": "function"},
      model=_digits_ddpm, observed=IMAGES, mask=_MASK, rng=0, resample=2, jump=3, guidance=1.0,
      progress=lambda steps: None)
entry(inverse.dps,
      lambda model, operator, observed, rng, steps, step_size, progress: inverse.dps(
          model() if callable(model) else model, operator, observed, rng, steps, step_size, progress=progress),
      kinds={"model": "object", "operator": "object", "observed": "data", "rng": "rng", "steps": "count",
             "step_size": "nonnegative", "progress": "function"},
      model=_digits_ddpm, operator=inverse.AveragePool(), observed=SMALL, rng=0, steps=3, step_size=1.0,
      progress=lambda steps: None)
entry(inverse.restore,
      lambda model, task, truth, rng, method, resample, steps, step_size, progress: inverse.restore(
          model() if callable(model) else model, task, truth, rng, method=method, resample=resample, steps=steps,
          step_size=step_size, progress=progress),
      kinds={"model": "object", "task": "choice", "truth": "data", "rng": "rng", "method": "choice",
             "resample": "count", "steps": "count", "step_size": "nonnegative", "progress": "function"},
      model=_digits_ddpm, task="inpaint", truth=DIGITS[:2], rng=0, method="repaint", resample=1, steps=3,
      step_size=1.0, progress=lambda steps: None)

# ------------------------------------------------------------------------------------- metrics
_MODES, _STD = metrics.toy_modes("ring")
entry(metrics.toy_modes, kinds={"name": "choice"}, name="ring")
entry(metrics.mode_coverage, kinds={"samples": "data", "modes": "data", "std": "positive", "n_std": "positive"},
      samples=POINTS, modes=_MODES, std=_STD, n_std=3.0)
exempt(metrics.ModeCoverage, "a result record (modes covered, high quality, reverse KL, counts), built by "
       "mode_coverage")
exempt(metrics.ParzenResult, "a result record (log-likelihood, stderr, bandwidth), built by parzen_log_likelihood")
entry(metrics.median_heuristic, kinds={"x": "data", "y": "data"}, x=POINTS, y=POINTS[::-1] + 0.1)
entry(metrics.mmd, kinds={"x": "data", "y": "data", "bandwidth": "bandwidths"}, x=POINTS, y=POINTS[::-1] + 0.1,
      bandwidth=[0.1, 1.0])
entry(metrics.chamfer_distance, kinds={"x": "data", "y": "data", "reduction": "choice"}, x=POINTS,
      y=POINTS[::-1] + 0.1, reduction="mean")
entry(metrics.parzen_log_likelihood,
      kinds={"generated": "data", "validation": "data", "test": "data", "bandwidths": "bandwidths"},
      generated=POINTS, validation=POINTS[:10] + 0.01, test=POINTS[10:20] - 0.01, bandwidths=[0.05, 0.1, 0.5])
_G = np.random.default_rng(0).normal(size=(20, 3))
entry(metrics.frechet_distance, kinds={"mu1": "data", "cov1": "data", "mu2": "data", "cov2": "data"},
      mu1=np.zeros(3), cov1=np.eye(3), mu2=np.ones(3), cov2=np.cov(_G, rowvar=False))
entry(metrics.frechet_digit_distance,
      lambda samples, reference, classifier: metrics.frechet_digit_distance(
          samples, reference, classifier() if callable(classifier) else classifier),
      kinds={"samples": "data", "reference": "data", "classifier": "object"},
      samples=DIGITS, reference=_TRAIN[8:16], classifier=_classifier)
entry(metrics.conditional_accuracy,
      lambda samples, intended_labels, classifier: metrics.conditional_accuracy(
          samples, intended_labels, classifier() if callable(classifier) else classifier),
      kinds={"samples": "data", "intended_labels": "labels", "classifier": "object"},
      samples=DIGITS, intended_labels=DIGIT_LABELS, classifier=_classifier)
entry(metrics.DigitClassifier, kinds={"hidden": "sizes", "dropout": "unit", "seed": "nonnegative_count"},
      hidden=(16, 8), dropout=0.2, seed=0)
entry(metrics.DigitClassifier.fit,
      lambda images, labels, validation, epochs, batch_size, lr, weight_decay, seed: metrics.DigitClassifier(
          hidden=(16, 8)).fit(images, labels, validation, epochs, batch_size, lr, weight_decay, seed),
      kinds={"images": "data", "labels": "labels", "validation": "object", "epochs": "count", "batch_size": "count",
             "lr": "positive", "weight_decay": "nonnegative", "seed": "nonnegative_count"},
      images=DIGITS, labels=DIGIT_LABELS, validation=(DIGITS[:4], DIGIT_LABELS[:4]), epochs=1, batch_size=4,
      lr=1e-3, weight_decay=1e-4, seed=0)
entry(metrics.DigitClassifier.forward, lambda pixels: _classifier().forward(pixels), kinds={"pixels": "tensor"},
      pixels=DIGITS / 16)
for _method in ("logits", "predict_proba", "predict", "features"):
    entry(getattr(metrics.DigitClassifier, _method),
          functools.partial(lambda images, m: getattr(_classifier(), m)(images), m=_method),
          kinds={"images": "data"}, images=DIGITS)
entry(metrics.DigitClassifier.accuracy, lambda images, labels: _classifier().accuracy(images, labels),
      kinds={"images": "data", "labels": "labels"}, images=DIGITS, labels=DIGIT_LABELS)
entry(metrics.train_digit_classifier, kinds={"seed": "nonnegative_count", "epochs": "count"}, seed=0, epochs=1)

# ------------------------------------------------------------------------------------- training
exempt(training.CheckpointError, "an exception class")
exempt(training.NonFiniteLossError, "an exception class")
exempt(training.TrainResult, "a result record (curves, best epoch, why it stopped), built by Trainer.fit")
exempt(training.Checkpoint, "a result record (the rebuilt model and what was stored beside it), built by "
       "load_checkpoint")
entry(training.TrainConfig,
      kinds={"epochs": "count", "batch_size": "count", "lr": "positive", "weight_decay": "nonnegative",
             "patience": "nonnegative_count", "grad_clip": "nonnegative", "ema_decay": "unit",
             "lr_patience": "nonnegative_count", "lr_factor": "positive", "seed": "nonnegative_count",
             "blas_threads": "nonnegative_count", "lr_schedule": "choice"},
      epochs=3, batch_size=8, lr=1e-3, weight_decay=0.0, patience=2, grad_clip=1.0, ema_decay=0.9, lr_patience=1,
      lr_factor=0.5, seed=0, blas_threads=1, lr_schedule="constant")
entry(training.TrainConfig.from_dict, kinds={"values": "mapping"}, values={"epochs": 3, "lr": 0.01})
entry(training.Trainer,
      lambda model, train_data, validation_data, config, out_dir, data_info, callback: _trainer(
          model=model() if callable(model) else model, train_data=train_data, validation_data=validation_data,
          config=config, out_dir=out_dir, data_info=data_info, callback=callback),
      kinds={"model": "object", "train_data": "data", "validation_data": "data", "config": "object",
             "out_dir": "path", "data_info": "mapping", "callback": "function"},
      model=_vae, train_data=DIGITS, validation_data=DIGITS[:4], config=training.TrainConfig(epochs=1, batch_size=4),
      out_dir=str(OUT / "trainer"), data_info={"data": "digits"}, callback=lambda trainer, step, loss: None)
entry(training.Trainer.fit, lambda max_steps: _trainer().fit(max_steps), kinds={"max_steps": "nonnegative_count"},
      max_steps=1)
entry(training.Trainer.load_state_dict,
      lambda checkpoint: _trainer().load_state_dict(checkpoint() if callable(checkpoint) else checkpoint),
      kinds={"checkpoint": "object"},
      checkpoint=lambda: training.load_checkpoint(_run_dir() / training.CHECKPOINT_NAME))
exempt(training.Trainer.save, "no argument: writes the checkpoint to the trainer's out_dir")
exempt(training.Trainer.state_dict, "no argument: the training state as a dict of arrays")
entry(training.load_checkpoint, lambda path: training.load_checkpoint(path() if callable(path) else path),
      kinds={"path": "path"}, path=lambda: _run_dir() / training.MODEL_NAME)
entry(training.write_checkpoint,
      lambda path, model, kind, train_config, data, extra, metrics, weights: training.write_checkpoint(
          path, model() if callable(model) else model, kind=kind, train_config=train_config, data=data, extra=extra,
          metrics=metrics, weights=weights),
      kinds={"path": "path", "model": "object", "kind": "choice", "train_config": "object", "data": "mapping",
             "extra": "mapping", "metrics": "mapping", "weights": "mapping"},
      path=str(OUT / "written.npz"), model=_vae, kind="model", train_config=training.TrainConfig(),
      data={"data": "digits"}, extra={}, metrics={"nll": 1.0}, weights=None)
entry(training.resume,
      lambda out_dir, train_data, validation_data, epochs, callback: training.resume(
          out_dir() if callable(out_dir) else out_dir, train_data, validation_data, progress=False, epochs=epochs,
          callback=callback),
      kinds={"out_dir": "path", "train_data": "data", "validation_data": "data", "epochs": "count",
             "callback": "function"},
      out_dir=_run_dir, train_data=DIGITS, validation_data=DIGITS[:4], epochs=2,
      callback=lambda trainer, step, loss: None)


# ------------------------------------------------------------------------------------- plotting
def _closed(figure: plt.Figure) -> None:
    plt.close(figure)


@functools.cache
def _axes() -> plt.Axes:
    return plt.figure().add_subplot()


def _save(fig, out_dir, name):
    figure = fig() if callable(fig) else fig
    try:
        return plotting.save_figure(figure, out_dir, name, quick=True)
    finally:
        if isinstance(figure, plt.Figure):
            plt.close(figure)


def _demo(main, description):
    argv, sys.argv = sys.argv, ["demo", "--out", str(OUT / "demo")]
    try:
        plotting.demo_command_line(main, description)
    finally:
        sys.argv = argv


entry(plotting.save_figure, _save,
      kinds={"fig": "object", "out_dir": "path", "name": "path"},
      fig=lambda: plt.figure(figsize=(1, 1)), out_dir=str(OUT / "figures"), name="empty.png")
entry(plotting.demo_command_line, _demo, kinds={"main": "function"}, main=lambda out, quick: [], description="demo")
entry(plotting.digit_canvas, kinds={"images": "data", "columns": "count"}, images=DIGITS, columns=3)
entry(plotting.show_digits,
      lambda ax, canvas, title: plotting.show_digits(ax() if callable(ax) else ax, canvas, title),
      kinds={"ax": "object", "canvas": "tensor"}, ax=_axes,
      canvas=plotting.digit_canvas(DIGITS, 3), title="digits")
entry(plotting.budget_label, kinds={"run": "mapping"},
      run={"train_config": training.TrainConfig(), "steps": 10, "epochs": 1.0, "n_batches": 10, "T": 20}, quick=False)
entry(plotting.digit_grid_figure, lambda images, columns: _closed(plotting.digit_grid_figure(images, columns=columns)),
      kinds={"images": "data", "columns": "count"}, images=DIGITS, columns=3)
entry(plotting.points_figure, lambda samples, data: _closed(plotting.points_figure(samples, data)),
      kinds={"samples": "data", "data": "data"}, samples=POINTS, data=POINTS[::-1])
