"""The mathematics of denoising diffusion (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"),
independent of any network: noise schedules, the forward process, its posterior, and the two samplers.

Notation (the lecture's and the paper's): t = 1..T; beta_t the noise added at step t; alpha_t = 1 - beta_t;
alpha-bar_t = prod_{s <= t} alpha_s (alpha-bar_0 = 1). Arrays here are indexed by t itself: index 0 is t = 0.

Forward process (adds noise):  q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I), in closed form
    q(x_t | x_0) = N(sqrt(alpha-bar_t) x_0, (1 - alpha-bar_t) I),
    x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps.
Its posterior (what the backward process imitates):
    q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I),
    mu~_t = sqrt(alpha-bar_{t-1}) beta_t / (1 - alpha-bar_t) x_0
          + sqrt(alpha_t) (1 - alpha-bar_{t-1}) / (1 - alpha-bar_t) x_t,
    beta~_t = (1 - alpha-bar_{t-1}) / (1 - alpha-bar_t) beta_t.
Backward process (removes noise): p(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) with the network predicting
the added noise, eps_theta(x_t, t) ~ eps, and
    mu_theta = (x_t - beta_t / sqrt(1 - alpha-bar_t) eps_theta) / sqrt(alpha_t),
i.e. mu~_t with x_0 replaced by its estimate x0_hat = (x_t - sqrt(1 - alpha-bar_t) eps_theta) / sqrt(alpha-bar_t).

A ``denoiser`` below is any function ``(x_t, t) -> eps_hat`` on NumPy arrays (t: one integer per row), so the
samplers run with a trained network or with a closed-form optimal denoiser (the tests use one).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratchgen._checks import (
    as_generator,
    check_callable,
    check_choice,
    check_count,
    check_finite_array,
    check_fraction,
    check_nonnegative,
    check_positive,
)
from scratchgen.models.data_config import check_interval, check_sizes, check_timesteps

Denoiser = Callable[[np.ndarray, np.ndarray], np.ndarray]
SCHEDULES = ("linear", "cosine")
VARIANCES = ("beta", "posterior")


def linear_betas(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """beta_t rising linearly from ``beta_start`` (t = 1) to ``beta_end`` (t = T): DDPM's schedule for T = 1000."""
    timesteps = check_count(timesteps, "timesteps")
    if not 0 < check_positive(beta_start, "beta_start") <= check_positive(beta_end, "beta_end") < 1:
        raise ValueError(f"need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
    return np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol & Dhariwal (2021): alpha-bar_t = f(t) / f(0), f(t) = cos^2((t / T + s) / (1 + s) pi / 2), so
    beta_t = 1 - alpha-bar_t / alpha-bar_{t-1}, capped at ``max_beta`` (the last steps would reach 1).
    Noise is added more evenly over t than with the linear schedule, which wastes its last steps."""
    timesteps, s = check_count(timesteps, "timesteps"), check_nonnegative(s, "s")
    if check_fraction(max_beta, "max_beta") == 0:
        raise ValueError("max_beta must be in (0, 1), got 0")
    f = np.cos((np.arange(timesteps + 1) / timesteps + s) / (1 + s) * np.pi / 2) ** 2
    return np.minimum(1.0 - f[1:] / f[:-1], max_beta)


class NoiseSchedule:
    """beta_t, alpha_t, alpha-bar_t and the posterior coefficients for t = 0..T (float64; index = t).

    ``NoiseSchedule.make("linear", 1000)`` builds a named schedule; ``NoiseSchedule(betas)`` any other.
    """

    def __init__(self, betas: np.ndarray):
        betas = check_finite_array(betas, "betas", ndim=1)
        if not np.all((betas > 0) & (betas < 1)):
            raise ValueError("betas must be a non-empty 1-D array of values in (0, 1)")
        self.T = len(betas)
        self.betas = np.concatenate([[0.0], betas])            # beta_0 = 0: t = 0 is the data
        self.alphas = 1.0 - self.betas
        self.alpha_bars = np.cumprod(self.alphas)              # alpha-bar_0 = 1
        prev = np.concatenate([[1.0], self.alpha_bars[:-1]])   # alpha-bar_{t-1}
        self.alpha_bars_prev = prev
        # 1 - alpha-bar_t as -expm1(sum log(1 - beta)): 1 - cumprod cancels to 0 for betas below ~1e-16
        one_minus = -np.expm1(np.cumsum(np.log1p(-self.betas)))
        one_minus_prev = np.concatenate([[0.0], one_minus[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            # beta~_t; at t = 1 it is 0 (x_0 is then known exactly), at t = 0 undefined (set 0)
            self.posterior_variance = np.where(np.arange(self.T + 1) > 0,
                                               one_minus_prev / one_minus * self.betas, 0.0)
            self.posterior_x0_coef = np.where(np.arange(self.T + 1) > 0,
                                              np.sqrt(prev) * self.betas / one_minus, 0.0)
            self.posterior_xt_coef = np.where(np.arange(self.T + 1) > 0,
                                              np.sqrt(self.alphas) * one_minus_prev / one_minus, 0.0)

    @classmethod
    def make(cls, name: str, timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
        """The schedule ``name`` ("linear" from ``beta_start`` to ``beta_end``, or "cosine") over T steps."""
        if check_choice(name, "schedule name", SCHEDULES) == "linear":
            return cls(linear_betas(timesteps, beta_start, beta_end))
        return cls(cosine_betas(timesteps))

    def sigma2(self, variance: str) -> np.ndarray:
        """The backward process's sigma_t^2: ``"beta"`` (beta_t; right when x_0 ~ N(0, I)) or ``"posterior"``
        (beta~_t; right when x_0 is one fixed point). DDPM found both give similar samples."""
        return self.betas if check_choice(variance, "variance", VARIANCES) == "beta" else self.posterior_variance

    @staticmethod
    def _at(values: np.ndarray, t: np.ndarray, ndim: int) -> np.ndarray:
        """values[t] shaped (n, 1, ...) to broadcast against a batch of ``ndim`` axes."""
        return values[np.asarray(t)].reshape(-1, *([1] * (ndim - 1)))

    def _checked(self, x: Any, name: str, t: Any, low: int, other: Any, other_name: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A batch ``x`` (finite, one row a sample), its timesteps (in ``low``..T, a scalar or one a row) and a
        second array of x's shape (the noise, eps or x_t), each refused by name."""
        x = check_finite_array(x, name)
        if x.ndim < 1:
            raise ValueError(f"{name} must be a batch (n, ...), got a scalar")
        t = check_timesteps(t, self.T, "t", n=len(x), low=low, of=name)
        other = check_finite_array(other, other_name)
        if other.shape != x.shape:
            raise ValueError(f"{other_name} must have the shape of {name} {x.shape}, got {other.shape}")
        return x, t, other

    def q_sample(self, x0: np.ndarray, t: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps: a draw of q(x_t | x_0) in one step."""
        x0, t, noise = self._checked(x0, "x0", t, 0, noise, "noise")
        a = self._at(self.alpha_bars, t, np.ndim(x0))
        return np.sqrt(a) * x0 + np.sqrt(1 - a) * noise

    def q_step(self, x_prev: np.ndarray, t: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps: one step of the forward process q(x_t | x_{t-1})."""
        x_prev, t, noise = self._checked(x_prev, "x_prev", t, 1, noise, "noise")
        return (np.sqrt(self._at(self.alphas, t, np.ndim(x_prev))) * x_prev
                + np.sqrt(self._at(self.betas, t, np.ndim(x_prev))) * noise)

    def q_posterior(self, x0: np.ndarray, xt: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mu~_t(x_t, x_0), beta~_t): the mean and variance of q(x_{t-1} | x_t, x_0), for t >= 1."""
        xt, t, x0 = self._checked(xt, "xt", t, 1, x0, "x0")
        n = np.ndim(xt)
        mean = self._at(self.posterior_x0_coef, t, n) * x0 + self._at(self.posterior_xt_coef, t, n) * xt
        return mean, self._at(self.posterior_variance, t, n)

    def predict_x0(self, xt: np.ndarray, t: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """x0_hat = (x_t - sqrt(1 - alpha-bar_t) eps) / sqrt(alpha-bar_t): the forward formula solved for x_0."""
        xt, t, eps = self._checked(xt, "xt", t, 0, eps, "eps")
        a = self._at(self.alpha_bars, t, np.ndim(xt))
        return (xt - np.sqrt(1 - a) * eps) / np.sqrt(a)

    def p_mean(self, xt: np.ndarray, t: np.ndarray, eps: np.ndarray,
               clip: tuple[float, float] | None = None) -> np.ndarray:
        """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - alpha-bar_t) eps) / sqrt(alpha_t); with ``clip`` the
        same mean written as mu~_t(x_t, clip(x0_hat)), x0_hat kept inside the data's range."""
        xt, t, eps = self._checked(xt, "xt", t, 1, eps, "eps")
        if clip is not None:
            return self.q_posterior(np.clip(self.predict_x0(xt, t, eps), *check_interval(clip, "clip")), xt, t)[0]
        n = np.ndim(xt)
        coef = self._at(self.betas, t, n) / np.sqrt(1 - self._at(self.alpha_bars, t, n))
        return (xt - coef * eps) / np.sqrt(self._at(self.alphas, t, n))


def _full(t: int, n: int) -> np.ndarray:
    return np.full(n, t, dtype=np.int64)


def _check_sampler(denoiser: Any, schedule: Any, shape: Any, rng: Any, clip: Any, trajectory_every: Any,
                   progress: Any) -> tuple[tuple[int, ...], np.random.Generator, tuple[float, float] | None, int]:
    """The samplers' shared arguments, each refused by name: (shape, Generator, clip, trajectory_every)."""
    check_callable(denoiser, "denoiser")
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    if progress is not None:
        check_callable(progress, "progress")
    return (check_sizes(shape, "shape"), as_generator(rng, "rng"),
            None if clip is None else check_interval(clip, "clip"),
            check_count(trajectory_every, "trajectory_every", minimum=0))


def ancestral_sample(denoiser: Denoiser, schedule: NoiseSchedule, shape: tuple[int, ...],
                     rng: np.random.Generator, variance: str = "beta", clip: tuple[float, float] | None = None,
                     trajectory_every: int = 0, progress: Callable[[int], None] | None = None
                     ) -> np.ndarray | tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """The backward process (DDPM's Algorithm 2): x_T ~ N(0, I); for t = T, ..., 1:
    x_{t-1} = mu_theta(x_t, t) + sigma_t z, z ~ N(0, I) (z = 0 at t = 1). Returns x_0, and with
    ``trajectory_every`` = k also [(t, x_t)] every k steps (and at t = T and t = 0) for figures."""
    shape, rng, clip, trajectory_every = _check_sampler(denoiser, schedule, shape, rng, clip, trajectory_every,
                                                        progress)
    sigma = np.sqrt(schedule.sigma2(variance))
    x = rng.standard_normal(shape)
    trajectory = [(schedule.T, x.copy())] if trajectory_every else []
    for t in range(schedule.T, 0, -1):
        tt = _full(t, shape[0])
        mean = schedule.p_mean(x, tt, denoiser(x, tt), clip)
        x = mean + sigma[t] * rng.standard_normal(shape) if t > 1 else mean
        if trajectory_every and ((t - 1) % trajectory_every == 0):
            trajectory.append((t - 1, x.copy()))
        if progress is not None:
            progress(1)
    return (x, trajectory) if trajectory_every else x


def ddim_timesteps(timesteps: int, steps: int) -> np.ndarray:
    """S of the T timesteps, evenly strided and ending at t = T: tau_i = round(i T / S), i = 1..S.

    Starting at T matters: strided as range(0, T, T // S) the sampler would start from x_{T - T/S + 1}
    treated as pure noise, which it is not for small S (Lin et al. 2024)."""
    timesteps = check_count(timesteps, "timesteps")
    if check_count(steps, "steps") > timesteps:
        raise ValueError(f"steps must be an integer in 1..{timesteps}, got {steps!r}")
    return np.unique(np.round(np.arange(1, steps + 1) * timesteps / steps).astype(np.int64))


def ddim_sample(denoiser: Denoiser, schedule: NoiseSchedule, shape: tuple[int, ...], rng: np.random.Generator,
                steps: int = 50, eta: float = 0.0, clip: tuple[float, float] | None = None,
                trajectory_every: int = 0, progress: Callable[[int], None] | None = None
                ) -> np.ndarray | tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """DDIM (Song et al. 2021): the same trained eps_theta, S strided steps tau_S = T > ... > tau_1 > tau_0 = 0:

        x0_hat = (x_t - sqrt(1 - a_t) eps_theta) / sqrt(a_t),  a = alpha-bar, s = the previous timestep,
        sigma = eta sqrt((1 - a_s) / (1 - a_t)) sqrt(1 - a_t / a_s),
        x_s = sqrt(a_s) x0_hat + sqrt(1 - a_s - sigma^2) eps_theta + sigma z.

    eta = 0 is deterministic (an ODE-like map from noise to data); eta = 1 with S = T is DDPM's ancestral
    sampler with the posterior variance beta~_t."""
    shape, rng, clip, trajectory_every = _check_sampler(denoiser, schedule, shape, rng, clip, trajectory_every,
                                                        progress)
    eta = check_nonnegative(eta, "eta")
    taus = ddim_timesteps(schedule.T, steps)
    x = rng.standard_normal(shape)
    trajectory = [(schedule.T, x.copy())] if trajectory_every else []
    a = schedule.alpha_bars
    previous = np.concatenate([[0], taus[:-1]])
    for i in range(len(taus) - 1, -1, -1):
        t, s = int(taus[i]), int(previous[i])
        tt = _full(t, shape[0])
        eps = denoiser(x, tt)
        x0 = schedule.predict_x0(x, tt, eps)
        if clip is not None:
            x0 = np.clip(x0, *clip)
            eps = (x - np.sqrt(a[t]) * x0) / np.sqrt(1 - a[t])  # the noise that clipped x0 implies
        sigma = eta * np.sqrt((1 - a[s]) / (1 - a[t]) * (1 - a[t] / a[s]))
        x = np.sqrt(a[s]) * x0 + np.sqrt(max(1 - a[s] - sigma**2, 0.0)) * eps
        if sigma > 0 and s > 0:
            x = x + sigma * rng.standard_normal(shape)
        if trajectory_every and (i % trajectory_every == 0):
            trajectory.append((s, x.copy()))
        if progress is not None:
            progress(1)
    return (x, trajectory) if trajectory_every else x
