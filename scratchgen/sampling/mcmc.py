"""Markov chain Monte Carlo (lecture section 2: when neither F^-1 nor a tight envelope is available).

A chain x_0, x_1, ... whose stationary distribution is the target pi(x) = p~(x) / Z; only log p~ is
needed, because Z cancels in every acceptance ratio. All samplers run ``n_chains`` independent chains
at once, vectorised over chains; the Python loop is over steps only.

- ``metropolis_hastings``: random walk x' = x + sigma xi, accepted with probability
  min(1, p~(x') / p~(x)) (the proposal is symmetric, so q cancels).
- ``mala``: Langevin proposal x' = x + (eps^2 / 2) grad log p~(x) + eps xi, with the Hastings
  correction q(x | x') / q(x' | x) since it is not symmetric.
- ``hmc``: Hamiltonian Monte Carlo: momentum p ~ N(0, I), ``leapfrog`` steps along
  H(x, p) = -log p~(x) + |p|^2 / 2, accepted with probability min(1, exp(H(x, p) - H(x*, p*))).

MALA and HMC take ``log_prob`` written with autograd_lite Tensors and get grad log p~ from the engine;
a NumPy log-density (np.sum, np.exp, float(...) on the Tensor) is a ``TypeError`` saying so at the first call.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from scratchgen._checks import check_callable, check_count, check_finite_array, check_real_array
from scratchgen.sampling.rng import RNGLike, as_generator


class MCMCResult(NamedTuple):
    """``chains``: (n_chains, n_steps, d) states after each step; ``acceptance_rate``: (n_chains,)."""

    chains: np.ndarray
    acceptance_rate: np.ndarray


# ---- checks shared by the samplers ---------------------------------------------------------------
def _initial_state(x0, n_chains: int) -> np.ndarray:
    n_chains = check_count(n_chains, "n_chains")
    x0 = check_real_array(x0, "x0")
    if x0.ndim == 0:
        x0 = x0.reshape(1)
    if x0.ndim == 1:
        x0 = np.broadcast_to(x0, (n_chains, x0.size))
    if x0.ndim != 2 or x0.shape[0] != n_chains or x0.shape[1] == 0:
        raise ValueError(f"x0: expected a scalar, shape (d,) or shape (n_chains, d) = ({n_chains}, d); "
                         f"got shape {x0.shape}")
    if not np.isfinite(x0).all():
        raise ValueError("x0 must be finite (found NaN or inf)")
    return x0.copy()


def _check_positive(value, name: str, d: int) -> np.ndarray:
    value = check_real_array(value, name)
    if value.shape not in ((), (d,)):
        raise ValueError(f"{name}: expected a number or shape ({d},), got shape {value.shape}")
    if not (np.isfinite(value).all() and (value > 0).all()):
        raise ValueError(f"{name}: expected positive finite values, got {value}")
    return value


_check_count = check_count


def _check_log_density(values, x: np.ndarray, where: str) -> np.ndarray:
    """log p~ must be one number per chain, never NaN or +inf (-inf is fine: outside the support)."""
    values = np.asarray(values, dtype=np.float64)
    n_chains = x.shape[0]
    if values.shape != (n_chains,):
        raise ValueError(f"log_prob must return one log-density per chain, shape ({n_chains},); "
                         f"got shape {values.shape} (sum over the last axis?)")
    bad = np.isnan(values) | np.isposinf(values)
    bad &= np.isfinite(x).all(axis=1)   # a diverged (non-finite) HMC trajectory is rejected, not an error
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"log_prob returned {values[i]} at {where} x = {x[i].tolist()} (chain {i}); "
                         "it must be finite, or -inf outside the support")
    return np.where(np.isnan(values), -np.inf, values)


# ---- random-walk Metropolis-Hastings --------------------------------------------------------------
def metropolis_hastings(log_prob: Callable[[np.ndarray], np.ndarray], x0, n_steps: int, step_size=1.0,
                        n_chains: int = 1, rng: RNGLike = None) -> MCMCResult:
    """Random-walk Metropolis-Hastings on ``n_chains`` chains at once.

    Each step: x' = x + step_size * xi, xi ~ N(0, I); accept with probability
    alpha = min(1, p~(x') / p~(x)), i.e. if log u < log p~(x') - log p~(x); otherwise stay at x.

    ``log_prob`` maps an array (n_chains, d) to log p~ of each row, shape (n_chains,).
    """
    check_callable(log_prob, "log_prob")
    rng = as_generator(rng)
    x = _initial_state(x0, n_chains)
    n_steps = _check_count(n_steps, "n_steps")
    step_size = _check_positive(step_size, "step_size", x.shape[1])
    log_p = _check_log_density(log_prob(x), x, "the initial")
    if np.isneginf(log_p).any():
        raise ValueError(f"x0 has zero density (log_prob = -inf) in chain {int(np.argmin(log_p))}")
    chains = np.empty((x.shape[0], n_steps, x.shape[1]))
    n_accepted = np.zeros(x.shape[0])
    for t in range(n_steps):
        proposal = x + step_size * rng.standard_normal(x.shape)
        log_p_proposal = _check_log_density(log_prob(proposal), proposal, "the proposed")
        accept = np.log(rng.random(x.shape[0])) < log_p_proposal - log_p
        x = np.where(accept[:, None], proposal, x)
        log_p = np.where(accept, log_p_proposal, log_p)
        chains[:, t] = x
        n_accepted += accept
    return MCMCResult(chains, n_accepted / n_steps)


# ---- gradient-based samplers ------------------------------------------------------------------------
def leapfrog(x: np.ndarray, p: np.ndarray, grad_log_prob: Callable[[np.ndarray], np.ndarray],
             step_size, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Leapfrog (Stormer-Verlet) integration of Hamilton's equations for H = -log p~(x) + |p|^2 / 2.

        p <- p + (eps / 2) grad log p~(x)
        repeat n_steps times:  x <- x + eps p;  p <- p + eps grad log p~(x)  (eps / 2 on the last)

    Time-reversible and volume-preserving; the energy error stays O(eps^2) over long trajectories.
    ``grad_log_prob`` is any function of a NumPy array (no engine needed), e.g. ``lambda x: -x``.
    """
    n_steps = _check_count(n_steps, "n_steps")
    check_callable(grad_log_prob, "grad_log_prob")
    x, p = check_finite_array(x, "x").copy(), check_finite_array(p, "p").copy()
    if x.shape != p.shape:
        raise ValueError(f"p must have the shape of x, {x.shape}, got {p.shape}")
    step_size = _check_positive(step_size, "step_size", x.shape[-1])
    p = p + 0.5 * step_size * grad_log_prob(x)
    for i in range(n_steps):
        x = x + step_size * p
        kick = step_size if i < n_steps - 1 else 0.5 * step_size
        p = p + kick * grad_log_prob(x)
    return x, p


_WRITE_WITH_TENSORS = ("write log_prob with Tensor ops (autograd_lite), e.g. lambda x: -(x**2).sum(axis=1) / 2 "
                       "for a standard normal (x ** 2, (x - mu) / sigma, .sum(axis=1), .exp(), .log() on the "
                       "Tensor x, no np.* calls); metropolis_hastings takes a NumPy log_prob as it is")


def _value_and_grad(log_prob: Callable, x: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """log p~(x) per chain and its gradient, from the engine: sum over chains, then backward (the
    chains are independent, so d(sum)/dx_i = d log p~(x_i) / dx_i)."""
    from autograd_lite import Tensor  # the engine is needed only by the gradient-based samplers

    leaf = Tensor(x, requires_grad=True)
    try:
        out = log_prob(leaf)
    except (TypeError, AttributeError) as error:
        # A NumPy log-density (np.sum, np.exp, float(...)) fails on a Tensor deep inside NumPy, with a
        # message about ufuncs or an 'out' argument. If it runs on the plain array, that is the mistake.
        try:
            np_out = log_prob(x.copy())
        except Exception:
            raise error from None                      # a bug of its own: let the user see it
        raise TypeError(f"log_prob: mala and hmc differentiate it with autograd_lite, so it is called with "
                        f"a Tensor and must return one; it runs on a NumPy array (returning "
                        f"{type(np_out).__name__}) but fails on the Tensor with {type(error).__name__}: "
                        f"{error}; {_WRITE_WITH_TENSORS}") from error
    if not isinstance(out, Tensor):
        raise TypeError(f"log_prob must return an autograd_lite Tensor computed from its input, got "
                        f"{type(out).__name__} (a NumPy log-density?): {_WRITE_WITH_TENSORS}")
    values = _check_log_density(out.numpy(), x, where)
    if out.requires_grad:
        out.sum().backward()
    gradient = np.zeros_like(x) if leaf.grad is None else np.asarray(leaf.grad.numpy(), dtype=np.float64)
    return values, gradient


def mala(log_prob: Callable, x0, n_steps: int, step_size=0.1, n_chains: int = 1,
         rng: RNGLike = None) -> MCMCResult:
    """Metropolis-adjusted Langevin algorithm on ``n_chains`` chains at once.

        x' = x + (eps^2 / 2) grad log p~(x) + eps xi,  xi ~ N(0, I)
        log q(x' | x) = -|x' - x - (eps^2 / 2) grad log p~(x)|^2 / (2 eps^2)  (+ const)
        alpha = min(1, p~(x') q(x | x') / (p~(x) q(x' | x)))

    ``log_prob`` takes an autograd_lite Tensor of shape (n_chains, d) and returns a Tensor (n_chains,).
    """
    check_callable(log_prob, "log_prob")
    rng = as_generator(rng)
    x = _initial_state(x0, n_chains)
    n_steps = _check_count(n_steps, "n_steps")
    eps = _check_positive(step_size, "step_size", x.shape[1])
    log_p, grad = _value_and_grad(log_prob, x, "the initial")
    if np.isneginf(log_p).any():
        raise ValueError(f"x0 has zero density (log_prob = -inf) in chain {int(np.argmin(log_p))}")

    def log_q(to, frm, grad_frm):  # log N(to | frm + eps^2/2 grad, eps^2 I), constants dropped
        z = (to - frm - 0.5 * eps**2 * grad_frm) / eps
        return -0.5 * np.sum(z * z, axis=1)

    chains = np.empty((x.shape[0], n_steps, x.shape[1]))
    n_accepted = np.zeros(x.shape[0])
    for t in range(n_steps):
        proposal = x + 0.5 * eps**2 * grad + eps * rng.standard_normal(x.shape)
        log_p_new, grad_new = _value_and_grad(log_prob, proposal, "the proposed")
        log_alpha = log_p_new + log_q(x, proposal, grad_new) - log_p - log_q(proposal, x, grad)
        accept = np.log(rng.random(x.shape[0])) < log_alpha
        x = np.where(accept[:, None], proposal, x)
        log_p = np.where(accept, log_p_new, log_p)
        grad = np.where(accept[:, None], grad_new, grad)
        chains[:, t] = x
        n_accepted += accept
    return MCMCResult(chains, n_accepted / n_steps)


def hmc(log_prob: Callable, x0, n_steps: int, step_size=0.1, n_leapfrog: int = 10, n_chains: int = 1,
        rng: RNGLike = None) -> MCMCResult:
    """Hamiltonian Monte Carlo on ``n_chains`` chains at once.

        p ~ N(0, I);  (x*, p*) = leapfrog(x, p, eps, L);  H(x, p) = -log p~(x) + |p|^2 / 2
        accept x* with probability min(1, exp(H(x, p) - H(x*, p*)))

    ``log_prob`` takes an autograd_lite Tensor of shape (n_chains, d) and returns a Tensor (n_chains,).
    A trajectory that diverges to non-finite values is rejected.
    """
    check_callable(log_prob, "log_prob")
    rng = as_generator(rng)
    x = _initial_state(x0, n_chains)
    n_steps = _check_count(n_steps, "n_steps")
    n_leapfrog = _check_count(n_leapfrog, "n_leapfrog")
    eps = _check_positive(step_size, "step_size", x.shape[1])
    log_p, _ = _value_and_grad(log_prob, x, "the initial")
    if np.isneginf(log_p).any():
        raise ValueError(f"x0 has zero density (log_prob = -inf) in chain {int(np.argmin(log_p))}")

    def grad_log_prob(z):
        return _value_and_grad(log_prob, z, "a leapfrog step at")[1]

    chains = np.empty((x.shape[0], n_steps, x.shape[1]))
    n_accepted = np.zeros(x.shape[0])
    for t in range(n_steps):
        p = rng.standard_normal(x.shape)
        with np.errstate(over="ignore", invalid="ignore"):
            x_new, p_new = leapfrog(x, p, grad_log_prob, eps, n_leapfrog)
            log_p_new, _ = _value_and_grad(log_prob, x_new, "the end of a trajectory at")
            h_old = -log_p + 0.5 * np.sum(p * p, axis=1)
            h_new = -log_p_new + 0.5 * np.sum(p_new * p_new, axis=1)
            log_alpha = np.where(np.isfinite(h_new), h_old - h_new, -np.inf)
        accept = np.log(rng.random(x.shape[0])) < log_alpha
        x = np.where(accept[:, None], x_new, x)
        log_p = np.where(accept, log_p_new, log_p)
        chains[:, t] = x
        n_accepted += accept
    return MCMCResult(chains, n_accepted / n_steps)
