"""Is the chain any good? Autocorrelation time, effective sample size and split R-hat.

Chains are arrays of shape (n_steps,), (n_chains, n_steps) or (n_chains, n_steps, d) (the layout of
``metropolis_hastings``); with d > 1 every statistic is computed per dimension.

- rho(t): the autocorrelation at lag t, by FFT (O(n log n) instead of O(n^2)), averaged over chains.
- tau = 1 + 2 sum_{t=1}^{M} rho(t), the integrated autocorrelation time, with Sokal's automatic window:
  the smallest M >= c tau(M) (c = 5), which cuts the noisy tail of rho before it swamps the sum.
- ESS = n_chains n_steps / tau: how many independent draws the chain is worth (at most N log10 N:
  anti-correlated chains can beat independent draws, but not by more).
- split R-hat (Vehtari et al. 2021): split each chain in halves, rank-normalise all draws, and compare
  between- and within-chain variance; also on the folded draws |x - median|; report the larger.
  Near 1 (< 1.01) when the chains agree.
"""
from __future__ import annotations

import numpy as np


def _as_chains(x, name: str = "x") -> tuple[np.ndarray, bool]:
    """x as (n_chains, n_steps, d), and whether the caller gave a d axis."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2, 3):
        raise ValueError(f"{name}: expected shape (n_steps,), (n_chains, n_steps) or (n_chains, n_steps, d), "
                         f"got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    has_dim = x.ndim == 3
    x = x.reshape((1,) * (2 - min(x.ndim, 2)) + x.shape)
    return (x if has_dim else x[..., None]), has_dim


def autocorrelation_function(x) -> np.ndarray:
    """rho(t) for t = 0, ..., n_steps - 1, averaged over chains; shape (n_steps,) or (n_steps, d).

    c(t) = (1/n) sum_i (x_i - mean)(x_{i+t} - mean) is a convolution, so it is one FFT, a squared
    modulus and an inverse FFT; zero-padding to >= 2n stops the circular wrap-around.
    """
    x, has_dim = _as_chains(x)
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n]
    variance = acov[:, :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(variance > 0, acov / variance, 0.0).mean(axis=0)
    rho[0] = 1.0
    return rho if has_dim else rho[:, 0]


def autocorrelation_time(x, c: float = 5.0) -> float | np.ndarray:
    """Integrated autocorrelation time tau = 1 + 2 sum_{t=1}^M rho(t), M = min{M : M >= c tau(M)}.

    Needs chains much longer than tau (say n_steps > 50 tau) to be reliable.
    """
    chains, has_dim = _as_chains(x)
    rho = autocorrelation_function(x)
    rho = rho if has_dim else rho[:, None]
    tau_of_window = 2.0 * np.cumsum(rho, axis=0) - 1.0      # tau(M) for M = 0, 1, ...
    window = np.arange(rho.shape[0])[:, None]
    ok = window >= c * tau_of_window
    first = np.where(ok.any(axis=0), ok.argmax(axis=0), rho.shape[0] - 1)
    tau = tau_of_window[first, np.arange(rho.shape[1])]
    # Anti-correlated chains (HMC near half a period) can make the sum tiny or even negative; like
    # ArviZ, cap the ESS at N log10(N), i.e. tau >= 1 / log10(N), N = all draws.
    tau = np.maximum(tau, 1.0 / np.log10(max(chains.shape[0] * chains.shape[1], 10)))
    return tau if has_dim else float(tau[0])


def effective_sample_size(x, c: float = 5.0) -> float | np.ndarray:
    """ESS = (number of draws) / tau."""
    chains, _ = _as_chains(x)
    return chains.shape[0] * chains.shape[1] / autocorrelation_time(x, c)


def _rank_normalise(x: np.ndarray) -> np.ndarray:
    """z = Phi^-1((r - 3/8) / (S + 1/4)) with r the rank of each draw among all S draws (ties averaged)."""
    from scratchgen.distributions import ndtri

    flat = x.ravel()
    values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0   # ranks 1..S; a tie gets the mean of its ranks
    ranks = average_rank[inverse.ravel()]
    return ndtri((ranks - 0.375) / (flat.size + 0.25)).reshape(x.shape)


def _rhat(chains: np.ndarray) -> float:
    """R-hat = sqrt(var+ / W), var+ = (n-1)/n W + B/n, for chains of shape (m, n)."""
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean()
    between = n * chains.mean(axis=1).var(ddof=1)
    if within == 0:
        return np.inf if between > 0 else 1.0
    return float(np.sqrt(((n - 1) / n * within + between / n) / within))


def split_rhat(x) -> float | np.ndarray:
    """Rank-normalised split R-hat: max(R-hat of ranks, R-hat of folded ranks) after halving each chain."""
    chains, has_dim = _as_chains(x)
    half = chains.shape[1] // 2
    if half < 2:
        raise ValueError(f"x: split R-hat needs at least 4 steps per chain, got {chains.shape[1]}")
    split = np.concatenate([chains[:, :half], chains[:, -half:]], axis=0)   # (2 m, n/2, d)
    result = np.empty(split.shape[2])
    for k in range(split.shape[2]):
        draws = split[:, :, k]
        bulk = _rhat(_rank_normalise(draws))
        tail = _rhat(_rank_normalise(np.abs(draws - np.median(draws))))
        result[k] = max(bulk, tail)
    return result if has_dim else float(result[0])
