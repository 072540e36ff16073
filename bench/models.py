"""One training (or DDPM sampling) step of a README model, autograd_lite vs PyTorch CPU (float32, own processes).

``--model vae`` (the default) is ``scratchgen.cli.default_settings("vae")``: an MLP encoder 64-256-256-32 and
decoder 16-256-256-1088 (leaky ReLU, dropout 0.3 after each hidden layer, input dropout 0.2), a categorical
decoder (a 17-way log-softmax per pixel), trained with the IWAE bound, k = 10 (``--elbo``: also the ELBO,
k = 1). A step is what ``Trainer`` does: a batch of 128 training digits, the loss (forward), backward, an Adam
step (lr 1e-3).

``--model gan-mlp`` / ``gan-dcgan`` is the GAN of ``scratchgen.cli.gan_settings("ring")`` (an MLP pair, D on
packs of 2 points) / ``gan_settings("digits")`` (DCGAN: G a ConvDecoder, D a ConvEncoder + leaky ReLU +
Linear), read at run time, so the widths are the README's of the day. A step is ``GAN.training_step`` as
``Trainer._train_step`` runs it (d_steps 1; the Trainer's EMA of G is left off, so both sides do the same
work): a D update (G's fakes under no_grad, D on real and fake in one pass, L_D = softplus(-f(x)) +
softplus(f(G(z))), backward, Adam) then a G update (fresh noise, D frozen, L_G = softplus(-f(G(z))), backward,
Adam), on a batch of the settings' ``batch_size`` from the CLI's training set (the 50000 ring points, the
digits). The PyTorch side is the same network and the same loss written with ``torch.nn``, built from the
config.

``--model ddpm-mlp`` / ``ddpm-unet`` is the DDPM of ``scratchgen.cli.ddpm_settings("swiss_roll")`` (``TimeMLP``
on the 2-D points) / ``ddpm_settings("digits")`` (the ``UNet`` on the digits in model space, y = x / 8 - 1 shaped
(n, 1, 8, 8)), read at run time. Two rows each: a training step as ``Trainer._train_step`` runs it (EMA off):
L_simple on a batch of the settings' ``batch_size`` from the CLI's training set (t ~ U{1..T}, eps ~ N(0, I),
x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps, the mean of (eps - eps_theta(x_t, t))^2), backward, an
Adam step; and a sampling step, one step of ``diffusion.ancestral_sample`` on the evaluation's batch (2048
points / 1000 digits): eps_theta(x_t, t) without a graph, then x_{t-1} = mu_theta(x_t, t) + sigma_t z (the
digits' mean through the clipped x0_hat), t running down from T.
Every row of a sampling batch shares t, so both sides compute the time embedding on one row and broadcast it
(ours' ``networks._conditioning``; the PyTorch side's ``shared_code``). The PyTorch networks repeat ours layer for
layer (the same attribute names, so ``--check`` also compares the parameters' names): the sinusoidal embedding
(sin then cos, frequencies 10000^(-i / half)), Linear-SiLU-Linear, a SiLU, then each layer's projection;
GroupNorm with the same groups, the same convs (padding, stride, the 4x4 stride-2 ConvTranspose2d).

Each engine runs in a worker process of its own (this script with ``--side``), started once and warmed up;
the parent then alternates timed rounds between the workers (only one runs at a time) and prints the median
time per step (and the CPU time per step, all threads together: on a loaded machine the 1-thread CPU time
is the steadier measure of work). Ours runs with NumPy's BLAS limited to 1 thread (what the training loop
does for conv models) and to 2 threads (what it does for the MLP models); the DCGAN at 1 only (its numba
conv kernels run their own pool, numba's default thread count, as in training), and so the U-Net. PyTorch with
``torch.set_num_threads(2)`` (``--torch-threads``).

Run: ``python bench/models.py [--model vae|gan-mlp|gan-dcgan|ddpm-mlp|ddpm-unet] [--elbo] [--rounds 5] [--steps 100]
[--torch-threads 2,1]`` (PyTorch optional: without it only ours is timed; one ratio column per PyTorch thread
count). ``python bench/models.py [--model ...] --check`` verifies that the two sides compute the same losses
and gradients (same weights, same noise; the VAE's dropout off; the DDPM's weights moved off their
initialisation, whose zero last layer would zero every other gradient, and also one sampling step from the same
x_t with the same z); ``--parts`` also times the VAE's forward / backward / Adam apart.
"""
from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

LOG_2PI = math.log(2 * math.pi)
GAN_DATA = {"gan-mlp": "ring", "gan-dcgan": "digits"}  # --model -> the data set of gan_settings(data)
DDPM_DATA = {"ddpm-mlp": "swiss_roll", "ddpm-unet": "digits"}  # --model -> the data set of ddpm_settings(data)
CASES = {"vae": ("iwae", "elbo"), "gan-mlp": ("gan-mlp",), "gan-dcgan": ("gan-dcgan",),  # what one worker runs
         "ddpm-mlp": ("ddpm-mlp", "ddpm-mlp-sample"), "ddpm-unet": ("ddpm-unet", "ddpm-unet-sample")}
NAMES = {"iwae": "IWAE k=10", "elbo": "ELBO k=1", "gan-mlp": "GAN MLP", "gan-dcgan": "DCGAN",
         "ddpm-mlp": "training", "ddpm-mlp-sample": "sampling", "ddpm-unet": "training", "ddpm-unet-sample": "sampling"}
CONV_CASES = ("gan-dcgan", "ddpm-unet", "ddpm-unet-sample")  # ours at 1 BLAS thread only (numba runs the convs)


def settings(case: str):
    """The README model's (config, TrainConfig): ``gan_settings`` for a GAN, ``ddpm_settings`` for a DDPM (either
    step); ``default_settings("vae")`` for the VAE, with the ELBO variant's objective and k."""
    from scratchgen.cli import ddpm_settings, default_settings, gan_settings

    if case in GAN_DATA:
        return gan_settings(GAN_DATA[case])
    if case.removesuffix("-sample") in DDPM_DATA:
        return ddpm_settings(DDPM_DATA[case.removesuffix("-sample")])
    config, train = default_settings("vae")
    if case == "elbo":
        config = replace(config, objective="elbo", iwae_k=1)
    return config, train


def train_data(case: str) -> np.ndarray:
    """The CLI's training set: the digits (n, 64), or the 50000 ring / swiss roll points (n, 2)."""
    from scratchgen.cli import load_data

    return load_data(GAN_DATA.get(case) or DDPM_DATA.get(case, "digits"))["train"]


def sample_batch(case: str) -> int:
    """The evaluation's sampling batch: the 2048 points of the chamfer distance, the 1000 digits of the FDD."""
    from scratchgen.cli import N_CHAMFER, N_GENERATED_DIGITS

    return N_GENERATED_DIGITS if settings(case)[0].is_image else N_CHAMFER


def batches(n: int, size: int, seed: int = 0):
    """Endless minibatch indices of ``size`` samples: shuffled epochs, as the training loop draws them."""
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n)
        for start in range(0, n - size + 1, size):
            yield perm[start:start + size]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


# ----- autograd_lite ----------------------------------------------------------------------------------------
# An engine's ``phases``: (name, callable) pairs that together make one training step, timed apart.
class Ours:
    """The scratchgen VAE and its training step, as ``Trainer._train_step`` runs it."""

    def __init__(self, objective: str):
        from autograd_lite import nn, optim
        from scratchgen.models import VAE

        config, train = settings(objective)
        self.model = VAE(config)
        self.rng = np.random.default_rng(0)
        for module in self.model.modules():  # the Trainer hands every Dropout the training stream
            if isinstance(module, nn.Dropout):
                module.rng = self.rng
        self.x = self.model.check_data(train_data(objective), "train_data")
        self.batches = batches(len(self.x), train.batch_size)
        self.optimizer = optim.Adam(list(self.model.parameters()), lr=train.lr)
        self.model.train()
        self.phases = [("forward", self.forward), ("backward", self.backward), ("Adam", self.optimizer.step)]

    def forward(self) -> None:
        batch = self.model.to_tensor(self.x[next(self.batches)])
        self.loss = self.model.training_loss(batch, self.rng, 1.0)
        self.loss.item()

    def backward(self) -> None:
        self.optimizer.zero_grad()
        self.loss.backward()


class OursTrainer:
    """The scratchgen GAN's or DDPM's step: ``Trainer._train_step`` (which calls ``GAN.training_step``; for the
    DDPM ``training_loss``, backward, Adam), EMA off."""

    def __init__(self, case: str):
        from scratchgen.models import DDPM, GAN
        from scratchgen.training import Trainer

        config, train = settings(case)
        x = train_data(case)
        model = (DDPM if case in DDPM_DATA else GAN)(config)
        self.trainer = Trainer(model, x, x[:1000], replace(train, ema_decay=0.0), progress=False)
        self.x = self.trainer.train_data  # validated (and the digits flattened) as the Trainer holds them
        self.batches = batches(len(self.x), train.batch_size)
        self.n_batches = math.ceil(len(self.x) / train.batch_size)
        self.phases = [("step", self.step)]

    def step(self) -> None:
        self.trainer._train_step(self.x[next(self.batches)], self.n_batches)


class OursSampler:
    """One step of the DDPM's ``diffusion.ancestral_sample`` on the evaluation's batch; t runs down from T (and
    starts again at T after t = 2, so every step draws z)."""

    def __init__(self, case: str):
        from scratchgen.models import DDPM

        config, _ = settings(case)
        self.model = DDPM(config)
        self.model.eval()
        self.sigma = np.sqrt(self.model.schedule.sigma2(config.variance))
        self.rng = np.random.default_rng(0)
        self.x = self.rng.standard_normal((sample_batch(case), *self.model.sample_shape))
        self.t = config.timesteps
        self.phases = [("step", self.step)]

    def ancestral_step(self, x: np.ndarray, t: int, z: np.ndarray) -> np.ndarray:
        """x_{t-1} = mu_theta(x_t, t) + sigma_t z, as the sampler's loop computes it."""
        tt = np.full(len(x), t)
        return self.model.schedule.p_mean(x, tt, self.model.predict_noise(x, tt), self.model.clip) + self.sigma[t] * z

    def step(self) -> None:
        self.x = self.ancestral_step(self.x, self.t, self.rng.standard_normal(self.x.shape))
        self.t = self.t - 1 if self.t > 2 else self.model.config.timesteps


# ----- PyTorch ----------------------------------------------------------------------------------------------
def torch_mlp(sizes, activation, dropout: float = 0.0):
    """Linear layers with ``activation()`` (and Dropout) after each but the last, as ours' MLPs."""
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
            if dropout > 0:
                layers.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*layers)


def torch_vae(config):
    """The same networks in ``torch.nn`` (layers in the same order, so ours' weights can be copied in)."""
    import torch

    def mlp(sizes):
        return torch_mlp(sizes, lambda: torch.nn.LeakyReLU(0.01), config.dropout)

    class VAE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            d, hidden = config.latent_dim, config.hidden
            self.input_dropout = torch.nn.Dropout(config.input_dropout)
            self.encoder = mlp((64, *hidden, 2 * d))
            self.decoder = mlp((d, *hidden[::-1], 17 * 64))

        def encode(self, x):
            h = self.encoder(self.input_dropout(x / 16.0))
            d = h.shape[-1] // 2
            return h[..., :d], torch.clamp(h[..., d:], config.log_var_min, config.log_var_max)

        def log_px(self, z, levels):
            """log p(x|z): a 17-way log-softmax per pixel, picked at each pixel's grey level."""
            out = self.decoder(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:-1], 17, 64)
            index = levels.expand(*z.shape[:-1], 1, 64)
            return torch.log_softmax(out, dim=-2).gather(-2, index).squeeze(-2).sum(-1)

        def loss(self, x, levels, eta=None):
            mu, log_var = self.encode(x)
            if config.objective == "elbo":
                eta = torch.randn_like(mu) if eta is None else eta
                z = mu + torch.exp(0.5 * log_var) * eta
                kl = 0.5 * (mu * mu + torch.exp(log_var) - 1.0 - log_var).sum(-1)
                return -(self.log_px(z, levels) - kl).mean()
            k = config.iwae_k
            eta = torch.randn(k, *mu.shape) if eta is None else eta
            z = mu + torch.exp(0.5 * log_var) * eta
            log_q = -0.5 * (LOG_2PI + log_var + eta * eta).sum(-1)
            log_pz = -0.5 * (LOG_2PI + z * z).sum(-1)
            log_w = self.log_px(z, levels) + log_pz - log_q
            return -(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()

    return VAE()


def torch_gan(config):
    """The GAN's generator and discriminator in ``torch.nn``, built from the config as ``Generator`` and
    ``Discriminator`` build ours (same layers in the same order), and its minimax / non-saturating losses."""
    import torch
    from torch import nn
    from torch.nn.functional import softplus

    c = config
    if c.loss not in ("minimax", "non_saturating") or c.gradient_penalty or c.d_steps != 1:
        raise NotImplementedError(f"the PyTorch GAN plays the minimax or non-saturating game, d_steps 1, no "
                                  f"gradient penalty (got {c.loss}, {c.d_steps}, {c.gradient_penalty})")
    if c.architecture == "dcgan":  # ConvDecoder / ConvEncoder with their default channels (64, 32) / (32, 64)
        width = c.discriminator_hidden[-1]
        generator = nn.Sequential(
            nn.Linear(c.latent_dim, 64 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (64, 4, 4)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(32, 1, 3, padding=1),
            nn.Flatten())
        discriminator = nn.Sequential(  # activation_layer("leaky_relu") is our LeakyReLU's default slope 0.01
            nn.Conv2d(c.pack, 32, 3, padding=1), nn.LeakyReLU(0.01),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.01), nn.Flatten(),
            nn.Linear(64 * 4 * 4, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))
    else:
        generator = torch_mlp((c.latent_dim, *c.generator_hidden, c.data_dim), nn.ReLU)
        discriminator = torch_mlp((c.pack * c.data_dim, *c.discriminator_hidden, 1), lambda: nn.LeakyReLU(0.2))

    class GAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.generator, self.discriminator = generator, discriminator

        def sample(self, z):
            x = self.generator(z)
            return 8 * (torch.tanh(x) + 1) if c.is_image else x

        def prepare(self, x):
            """D's input: digits rescaled to [-1, 1] (image-shaped for the conv D), packed by m."""
            if c.is_image:
                x = x / 8 - 1
                if c.architecture == "dcgan":
                    x = x.reshape(-1, 1, 8, 8)
            n = x.shape[0] // c.pack * c.pack
            return x[:n].reshape(n // c.pack, c.pack * x.shape[1], *x.shape[2:]) if c.pack > 1 else x

        def discriminator_loss(self, real, z):
            with torch.no_grad():
                fake = self.sample(z)
            real, fake = self.prepare(real), self.prepare(fake)
            f = self.discriminator(torch.cat([real, fake])).reshape(-1)  # one pass over both halves
            return softplus(-f[:len(real)]).mean() + softplus(f[len(real):]).mean()

        def generator_loss(self, z):
            self.discriminator.requires_grad_(False)  # D held fixed: no gradient for its weights
            try:
                f = self.discriminator(self.prepare(self.sample(z))).reshape(-1)
            finally:
                self.discriminator.requires_grad_(True)
            return softplus(-f).mean() if c.loss == "non_saturating" else -softplus(f).mean()

    return GAN()


def torch_ddpm(config):
    """The DDPM's eps_theta(x_t, t) in ``torch.nn``: ``TimeMLP`` or ``UNet`` (with ``TimeEmbedding`` and
    ``ResidualBlock``) as ``DDPM`` builds them, the same attributes in the same order, so the parameters come in
    ours' order and under ours' names."""
    import torch
    from torch import nn

    c = config

    def shared_code(time, act, t):
        """SiLU(e(t)); once, as one row broadcast over the batch, when every row shares t (a sampler's step),
        as ours' ``_conditioning`` does, so both sides run the same arithmetic."""
        return act(time(t[:1] if bool((t == t[0]).all()) else t))

    def group_norm(channels):
        return nn.GroupNorm(min(c.groups, channels), channels)

    class TimeEmbedding(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim, self.first, self.second, self.act = dim, nn.Linear(dim, dim), nn.Linear(dim, dim), nn.SiLU()

        def forward(self, t):
            half = self.dim // 2  # sinusoidal_embedding: sin then cos, w_i = 10000^(-i / half), in float64
            angles = t.double()[:, None] * 10_000.0 ** (-torch.arange(half, dtype=torch.float64) / half)
            code = torch.cat([angles.sin(), angles.cos()], dim=1).float()
            return self.second(self.act(self.first(code)))

    class TimeMLP(nn.Module):
        def __init__(self):
            super().__init__()
            hidden = list(c.hidden)
            self.time, self.inp = TimeEmbedding(c.time_dim), nn.Linear(c.data_dim, hidden[0])
            self.layers = [nn.Linear(a, b) for a, b in zip(hidden[:1] + hidden[:-1], hidden)]
            self.time_proj = [nn.Linear(c.time_dim, h) for h in hidden]
            for i, (layer, proj) in enumerate(zip(self.layers, self.time_proj)):
                setattr(self, f"layer{i}", layer)
                setattr(self, f"time_proj{i}", proj)
            self.out, self.act = nn.Linear(hidden[-1], c.data_dim), nn.SiLU()

        def forward(self, x, t):
            e = shared_code(self.time, self.act, t)
            h = self.inp(x)
            for layer, proj in zip(self.layers, self.time_proj):
                h = self.act(layer(h) + proj(e))
            return self.out(h)

    class ResidualBlock(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.norm1, self.conv1 = group_norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
            self.time = nn.Linear(c.time_dim, c_out)
            self.norm2, self.conv2 = group_norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
            self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None
            self.act = nn.SiLU()

        def forward(self, x, e):
            h = self.conv1(self.act(self.norm1(x))) + self.time(e)[:, :, None, None]
            h = self.conv2(self.act(self.norm2(h)))
            return h + (self.skip(x) if self.skip is not None else x)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            w = c.channels
            self.time, self.inp = TimeEmbedding(c.time_dim), nn.Conv2d(1, w, 3, padding=1)
            self.block_high = ResidualBlock(w, w)
            self.down = nn.Conv2d(w, 2 * w, 4, stride=2, padding=1)
            self.block_low1, self.block_low2 = ResidualBlock(2 * w, 2 * w), ResidualBlock(2 * w, 2 * w)
            self.up = nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1)
            self.block_out, self.norm_out = ResidualBlock(2 * w, w), group_norm(w)
            outputs = 17 if c.parameterization == "levels" else 1  # logits over the 17 grey levels per pixel
            self.out, self.act = nn.Conv2d(w, outputs, 3, padding=1), nn.SiLU()

        def forward(self, x, t):
            e = shared_code(self.time, self.act, t)
            high = self.block_high(self.inp(x), e)
            low = self.block_low2(self.block_low1(self.down(high), e), e)
            h = self.block_out(torch.cat([self.up(low), high], dim=1), e)
            return self.out(self.act(self.norm_out(h)))

    return UNet() if c.architecture == "unet" else TimeMLP()


def torch_update(loss, optimizer) -> None:
    loss.item()  # ours checks every loss for NaN before using it
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


class Torch:
    def __init__(self, objective: str, threads: int = 2):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch = torch
        config, train = settings(objective)
        self.model = torch_vae(config)
        x = train_data(objective)
        self.x = torch.from_numpy(x.astype(np.float32))
        self.levels = torch.from_numpy(x.astype(np.int64)).unsqueeze(-2)  # (n, 1, 64) for gather
        self.batches = batches(len(x), train.batch_size)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=train.lr)
        self.model.train()
        self.phases = [("forward", self.forward), ("backward", self.backward), ("Adam", self.optimizer.step)]

    def forward(self) -> None:
        idx = self.torch.from_numpy(next(self.batches))
        self.loss = self.model.loss(self.x[idx], self.levels[idx])
        self.loss.item()

    def backward(self) -> None:
        self.optimizer.zero_grad()
        self.loss.backward()


class TorchGAN:
    """The same step as ``GAN.training_step``: a D update, then a G update on fresh noise."""

    def __init__(self, case: str, threads: int = 2):
        import torch

        from scratchgen.models import GAN

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch = torch
        config, train = settings(case)
        self.model = torch_gan(config)
        copy_weights(GAN(config), self.model)  # ours' initial weights (asserting the same layer shapes)
        x = train_data(case)
        self.x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32))
        self.noise_shape = (train.batch_size, config.latent_dim)
        self.batches = batches(len(x), train.batch_size)
        self.d_optimizer = torch.optim.Adam(self.model.discriminator.parameters(),
                                            lr=train.lr * config.lr_scale_discriminator, betas=config.betas)
        self.g_optimizer = torch.optim.Adam(self.model.generator.parameters(), lr=train.lr, betas=config.betas)
        self.phases = [("step", self.step)]

    def step(self) -> None:
        real = self.x[self.torch.from_numpy(next(self.batches))]
        torch_update(self.model.discriminator_loss(real, self.torch.randn(self.noise_shape)), self.d_optimizer)
        torch_update(self.model.generator_loss(self.torch.randn(self.noise_shape)), self.g_optimizer)


class TorchDDPM:
    """The DDPM's training step (L_simple, backward, Adam) or, for a ``-sample`` case, one ancestral step on the
    evaluation's batch, t running down as ``OursSampler``'s; the schedule's numbers are ours'."""

    def __init__(self, case: str, threads: int = 2):
        import torch

        from scratchgen.models import DDPM
        from scratchgen.models.ddpm import LEVELS

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch = torch
        config, train = settings(case)
        ours = DDPM(config)
        self.net, self.schedule, self.clip, self.T = torch_ddpm(config), ours.schedule, config.clip_x0, config.timesteps
        copy_weights(ours.net, self.net)  # ours' initial weights (asserting the same layer shapes)
        self.sigma = np.sqrt(self.schedule.sigma2(config.variance))
        self.levels = config.parameterization == "levels"
        self.level_values = torch.from_numpy(LEVELS.astype(np.float32)).reshape(1, 17, 1)
        self.root_a, self.root_1ma = (torch.from_numpy(np.sqrt(a).astype(np.float32))  # as ours casts them
                                      for a in (self.schedule.alpha_bars, 1 - self.schedule.alpha_bars))
        if case.endswith("-sample"):
            self.x, self.t = torch.randn(sample_batch(case), *ours.sample_shape), self.T
            self.phases = [("step", self.sample_step)]
        else:
            self.x = torch.from_numpy(ours.to_model_space(train_data(case)).astype(np.float32))
            self.batches = batches(len(self.x), train.batch_size)
            self.optimizer = torch.optim.Adam(self.net.parameters(), lr=train.lr)
            self.phases = [("step", self.train_step)]

    def eps_theta(self, xt, t):
        """The network's eps; with the levels head (``DDPM.eps_from_levels``) the posterior mean over the 17
        levels of softmax(logits + log N(x_t; sqrt(a) y_k, 1 - a)) gives x0_hat, and eps follows from it."""
        out = self.net(xt, t)
        if not self.levels:
            return out
        torch, n = self.torch, len(xt)
        root_a, root_1ma = self.root_a[t].reshape(n, 1, 1), self.root_1ma[t].reshape(n, 1, 1)
        x = xt.reshape(n, 1, -1)
        diff = x - root_a * self.level_values
        posterior = torch.softmax(out.reshape(n, 17, -1) - 0.5 * diff * diff / (root_1ma * root_1ma), dim=1)
        x0 = (posterior * self.level_values).sum(dim=1, keepdim=True)
        return ((x - x0 * root_a) / root_1ma).reshape(xt.shape)

    def loss(self, x0, t, eps):
        """L_simple at the given t and eps: x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps."""
        shape = (-1,) + (1,) * (x0.dim() - 1)
        xt = x0 * self.root_a[t].reshape(shape) + eps * self.root_1ma[t].reshape(shape)
        residual = self.eps_theta(xt, t) - eps
        return (residual * residual).mean()

    def ancestral_step(self, x, t: int, z):
        """x_{t-1} = mu_theta(x_t, t) + sigma_t z, mu_theta through the clipped x0_hat for the digits."""
        s = self.schedule
        a, alpha = float(s.alpha_bars[t]), float(s.alphas[t])
        with self.torch.no_grad():
            eps = self.eps_theta(x, self.torch.full((len(x),), t))
            if self.clip:
                x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1.0, 1.0)
                mean = float(s.posterior_x0_coef[t]) * x0 + float(s.posterior_xt_coef[t]) * x
            else:
                mean = (x - (1 - alpha) / math.sqrt(1 - a) * eps) / math.sqrt(alpha)
            return mean + float(self.sigma[t]) * z

    def train_step(self) -> None:
        x0 = self.x[self.torch.from_numpy(next(self.batches))]
        t = self.torch.randint(1, self.T + 1, (len(x0),))
        torch_update(self.loss(x0, t, self.torch.randn_like(x0)), self.optimizer)

    def sample_step(self) -> None:
        self.x = self.ancestral_step(self.x, self.t, self.torch.randn_like(self.x))
        self.t = self.t - 1 if self.t > 2 else self.T


# ----- the worker -------------------------------------------------------------------------------------------
def make_engine(side: str, case: str, threads: int):
    if case.endswith("-sample"):
        return OursSampler(case) if side == "ours" else TorchDDPM(case, threads)
    if case in GAN_DATA or case in DDPM_DATA:
        return OursTrainer(case) if side == "ours" else (TorchGAN if case in GAN_DATA else TorchDDPM)(case, threads)
    return Ours(case) if side == "ours" else Torch(case, threads)


def worker(side: str, case: str, threads: int) -> None:
    """Build one side (``threads``: NumPy's BLAS threads for ours, ``torch.set_num_threads`` for PyTorch), warm
    it up, say ``ready`` and its phases' names, then answer each line ``N`` on stdin with the wall-clock and
    CPU seconds per step of N steps and each phase's wall-clock seconds per step."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads if side == "ours" else 1, user_api="blas"):
        engine = make_engine(side, case, threads)

        def run(n: int) -> list[float]:
            totals = [0.0] * len(engine.phases)
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(n):
                for i, (_, phase) in enumerate(engine.phases):
                    t0 = time.perf_counter()
                    phase()
                    totals[i] += time.perf_counter() - t0
            per_step, cpu = (time.perf_counter() - start) / n, (time.process_time() - cpu_start) / n
            return [per_step, cpu] + [t / n for t in totals]

        run(20)  # warm-up: caches, allocator, numba
        print("ready", *(name for name, _ in engine.phases), flush=True)
        for line in sys.stdin:
            if line.strip() == "quit":
                break
            print(" ".join(f"{t:.6e}" for t in run(int(line))), flush=True)


class Worker:
    def __init__(self, label: str, side: str, case: str, threads: int):
        self.label, self.side = label, side
        command = [sys.executable, str(Path(__file__).resolve()), "--side", side, "--threads", str(threads),
                   "--case", case]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.times: list[list[float]] = []
        self.phases = self._expect("ready").split()[1:]

    def _expect(self, word: str) -> str:
        line = self.process.stdout.readline()
        if not line.startswith(word) and word:
            raise RuntimeError(f"worker {self.label} failed (got {line!r})")
        return line

    def round(self, steps: int) -> None:
        self.process.stdin.write(f"{steps}\n")
        self.process.stdin.flush()
        self.times.append([float(t) for t in self._expect("").split()])

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()

    def median(self, column: int = 0) -> float:
        return statistics.median(t[column] for t in self.times)


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def title(model: str, rounds: int, steps: int) -> str:
    """The table's first line: the model as the settings define it."""
    config, train = settings(CASES[model][0])
    if model == "vae":
        what = f"VAE training step (MLP 64-256-256, latent 16, categorical, batch {train.batch_size}, Adam)"
    elif model in DDPM_DATA:
        c = config
        if c.architecture == "unet":
            import numba

            net = (f"U-Net {c.channels}/{2 * c.channels} channels, GroupNorm {c.groups}, numba "
                   f"{numba.config.NUMBA_NUM_THREADS} threads")
        else:
            net = f"TimeMLP {'-'.join(map(str, (c.data_dim, *c.hidden, c.data_dim)))}"
        what = (f"DDPM on {c.data} ({net}, time embedding {c.time_dim}; T {c.timesteps}): a training step "
                f"(batch {train.batch_size}, Adam) and an ancestral sampling step (batch {sample_batch(model)})")
    else:
        c = config
        if c.architecture == "dcgan":
            import numba

            nets = (f"G Linear {c.latent_dim}-1024, convT 64->32, conv 32->1; D conv {c.pack}->32->64, "
                    f"Linear 1024-{c.discriminator_hidden[-1]}-1; numba {numba.config.NUMBA_NUM_THREADS} threads")
        else:
            sizes = ((c.latent_dim, *c.generator_hidden, c.data_dim), (c.pack * c.data_dim, *c.discriminator_hidden, 1))
            nets = "G MLP {}, D MLP {}".format(*("-".join(map(str, s)) for s in sizes))
        what = (f"GAN training step on {c.data} ({nets}; pack {c.pack}, {c.loss}, batch {train.batch_size}, "
                f"D and G Adam steps)")
    return f"README {what}, float32; median of {rounds} rounds x {steps} steps"


def header(first: str, torch_threads: list[int]) -> str:
    ratios = "".join(f" {f'ours/torch-{n}':>13s}" for n in torch_threads)
    return f"{first:10s} {'side':22s} {'per step':>12s} {'rounds':>16s} {'CPU/step':>12s}{ratios}"


def benchmark(case: str, rounds: int, steps: int, parts: bool, torch_threads: list[int]) -> None:
    """One table row per side; ours' rows end with ours / PyTorch (median wall-clock) for each PyTorch row."""
    ours_threads = (1,) if case in CONV_CASES else (1, 2)  # numba's conv pool and BLAS's would fight
    specs = [(f"ours, {plural(n, 'BLAS thread')}", "ours", n) for n in ours_threads]
    specs += [(f"PyTorch, {plural(n, 'thread')}", "torch", n) for n in torch_threads]
    workers = [Worker(label, side, case, threads) for label, side, threads in specs]
    try:
        for _ in range(rounds):
            for w in workers:
                w.round(steps)
    finally:
        for w in workers:
            w.close()
    torch_times = [w.median() for w in workers if w.side == "torch"]
    for w in workers:
        spread = f"{min(t[0] for t in w.times) * 1e3:.1f}-{max(t[0] for t in w.times) * 1e3:.1f}"
        ratios = "" if w.side == "torch" else "".join(f" {w.median() / t:13.2f}" for t in torch_times)
        print(f"{NAMES[case]:10s} {w.label:22s} {w.median() * 1e3:9.2f} ms {spread:>13s} ms "
              f"{w.median(1) * 1e3:9.2f} ms{ratios}")
        if parts and len(w.phases) > 1:
            print(f"{'':33s} " + ", ".join(f"{name} {w.median(2 + i) * 1e3:.2f} ms"
                                           for i, name in enumerate(w.phases)))


# ----- the correctness check --------------------------------------------------------------------------------
def copy_weights(ours, theirs) -> None:
    """Ours' parameters into the torch module's, in order (the same layers, so the same shapes)."""
    import torch

    with torch.no_grad():
        for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert a.shape == tuple(b.shape), f"ours {a.shape} vs torch {tuple(b.shape)}"
            b.copy_(torch.from_numpy(a.numpy()))


def compare(label: str, loss, loss_t, ours, theirs, tol: float = 1e-3) -> None:
    """Print and assert that the losses and every parameter gradient of the two modules agree (float32: each
    gradient to ``tol`` of its largest entry)."""
    worst = 0.0
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        g, gt = a.grad.numpy(), b.grad.numpy()
        worst = max(worst, float(np.abs(g - gt).max() / (np.abs(gt).max() + 1e-12)))
    loss, loss_t = float(loss.item()), float(loss_t.item())
    print(f"{label}: loss ours {loss:.5f}, torch {loss_t:.5f}; largest gradient difference {worst:.1e} "
          "(relative to each tensor's largest entry)")
    assert abs(loss - loss_t) < tol * max(abs(loss_t), 1.0)
    assert worst < tol


def check_vae(objective: str) -> None:
    """Same weights, same noise, dropout off: the two losses and all gradients agree."""
    import torch

    from scratchgen.models import VAE

    config, train = settings(objective)
    ours, theirs = VAE(config), torch_vae(config)
    copy_weights(ours, theirs)
    ours.eval()  # dropout off on both sides: the only randomness left is the reparameterisation noise
    theirs.eval()
    n = train.batch_size
    x = train_data(objective)[:n]
    shape = (config.iwae_k, n, config.latent_dim) if objective == "iwae" else (n, config.latent_dim)
    eta = np.random.default_rng(0).standard_normal(shape).astype(np.float32)  # what ours draws with seed 0
    loss = ours.training_loss(ours.to_tensor(x), np.random.default_rng(0), 1.0)
    loss.backward()
    loss_t = theirs.loss(torch.from_numpy(x.astype(np.float32)),
                         torch.from_numpy(x.astype(np.int64)).unsqueeze(-2), torch.from_numpy(eta))
    loss_t.backward()
    compare(objective, loss, loss_t, ours, theirs)


def check_gan(case: str) -> None:
    """Same weights, same noise: L_D and D's gradients agree, then L_G and G's (and D, frozen, gets none)."""
    import torch

    from scratchgen.models import GAN

    config, train = settings(case)
    ours, theirs = GAN(config), torch_gan(config)
    copy_weights(ours, theirs)
    n = train.batch_size
    real = ours.check_data(train_data(case)[:n])
    noise = np.random.default_rng(0)  # what ours draws from seed 0: D's fakes' noise, then G's
    z_d, z_g = (torch.from_numpy(noise.standard_normal((n, config.latent_dim)).astype(np.float32)) for _ in "dg")
    rng = np.random.default_rng(0)
    d_loss, d_loss_t = ours.discriminator_objective(ours.to_tensor(real), rng), theirs.discriminator_loss(
        torch.from_numpy(real.astype(np.float32)), z_d)
    d_loss.backward()
    d_loss_t.backward()
    compare(f"{case} D", d_loss, d_loss_t, ours.discriminator, theirs.discriminator)
    ours.zero_grad()
    theirs.zero_grad()
    g_loss, g_loss_t = ours.generator_objective(n, rng), theirs.generator_loss(z_g)
    g_loss.backward()
    g_loss_t.backward()
    compare(f"{case} G", g_loss, g_loss_t, ours.generator, theirs.generator)
    assert all(p.grad is None for p in [*ours.discriminator.parameters(), *theirs.discriminator.parameters()])


def check_ddpm(case: str) -> None:
    """Same weights, moved off their initialisation (the zero last layer would zero every other gradient), same t
    and eps: L_simple and every gradient agree (and the parameters' names); then one ancestral step from the same
    x_t with the same z, at t = T / 2 (the digits' x0_hat mostly clipped there)."""
    import torch

    ours, theirs = OursSampler(f"{case}-sample"), TorchDDPM(case)
    model, net = ours.model, ours.model.net
    rng = np.random.default_rng(1)
    for p in net.parameters():
        p.data = p.data + (0.05 * rng.standard_normal(p.shape)).astype(p.dtype)
    assert [name for name, _ in net.named_parameters()] == [name for name, _ in theirs.net.named_parameters()]
    copy_weights(net, theirs.net)
    x = model.check_data(train_data(case)[:settings(case)[1].batch_size])
    loss = model.training_loss(model.to_tensor(x), np.random.default_rng(0))
    loss.backward()
    draws, x0 = np.random.default_rng(0), model.to_model_space(x)  # what ours draws from seed 0: t, then eps
    t, eps = draws.integers(1, theirs.T + 1, size=len(x)), draws.standard_normal(x0.shape)
    loss_t = theirs.loss(*(torch.from_numpy(a) for a in (x0.astype(np.float32), t, eps.astype(np.float32))))
    loss_t.backward()
    compare(f"{case} L_simple", loss, loss_t, net, theirs.net, tol=1e-4)
    xt, z = (rng.standard_normal(ours.x.shape).astype(np.float32) for _ in "xz")
    step = ours.ancestral_step(xt.astype(np.float64), theirs.T // 2, z)
    step_t = theirs.ancestral_step(torch.from_numpy(xt), theirs.T // 2, torch.from_numpy(z)).numpy()
    worst = float(np.abs(step - step_t).max() / np.abs(step).max())
    print(f"{case} ancestral step at t = {theirs.T // 2}: largest difference {worst:.1e} (relative to the largest "
          "|x_{t-1}|)")
    assert worst < 1e-4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=tuple(CASES), default="vae", help="the README model (default vae)")
    parser.add_argument("--elbo", action="store_true", help="also time the VAE's ELBO (k = 1) objective")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side (default 5)")
    parser.add_argument("--steps", type=int, default=100, help="steps per round (default 100)")
    parser.add_argument("--parts", action="store_true", help="also time the VAE's forward, backward, Adam apart")
    parser.add_argument("--check", action="store_true", help="check both sides compute the same loss and grads")
    parser.add_argument("--side", choices=("ours", "torch"), help=argparse.SUPPRESS)  # a worker process
    parser.add_argument("--case", choices=tuple(NAMES), default="iwae", help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", default="2",
                        help="PyTorch thread counts to time, comma-separated (default 2)")
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        worker(args.side, args.case, args.threads)
        return
    if args.elbo and args.model != "vae":
        parser.error("--elbo is for --model vae")
    torch_available = have_torch()
    if args.check:
        if not torch_available:
            sys.exit("--check needs PyTorch (pip install torch==2.13.0)")
        for case in CASES[args.model][:1 if args.model in DDPM_DATA else None]:  # check_ddpm does both steps
            (check_gan if case in GAN_DATA else check_ddpm if case in DDPM_DATA else check_vae)(case)
        return
    if not torch_available:
        print("PyTorch is not installed (pip install torch==2.13.0): timing autograd_lite only")
    print(title(args.model, args.rounds, args.steps))
    torch_threads = [int(n) for n in args.torch_threads.split(",")] if torch_available else []
    print(header({"vae": "objective"}.get(args.model, "step" if args.model in DDPM_DATA else "model"), torch_threads))
    for case in CASES[args.model][:1 if args.model == "vae" and not args.elbo else None]:
        benchmark(case, args.rounds, args.steps, args.parts, torch_threads)


if __name__ == "__main__":
    main()
