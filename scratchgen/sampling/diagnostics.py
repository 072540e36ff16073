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

A chain that never moved (constant in a dimension) is a broken sampler, not a perfect one: where every
chain is constant tau, ESS and R-hat are NaN; a stuck chain among moving ones counts as rho(t) = 1 in
tau and ESS, and makes R-hat inf. Either way a ``RuntimeWarning`` says which chains never moved.
"""
from __future__ import annotations

import warnings

import numpy as np

from scratchgen._checks import check_positive, check_real_array


def _as_chains(x, name: str = "x") -> tuple[np.ndarray, bool]:
    """x as (n_chains, n_steps, d), and whether the caller gave a d axis."""
    x = check_real_array(x, name)
    if x.size == 0:
        raise ValueError(f"{name}: expected at least one chain of at least one step, got shape {x.shape}")
    if x.ndim not in (1, 2, 3):
        raise ValueError(f"{name}: expected shape (n_steps,), (n_chains, n_steps) or (n_chains, n_steps, d), "
                         f"got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    has_dim = x.ndim == 3
    x = x.reshape((1,) * (2 - min(x.ndim, 2)) + x.shape)
    return (x if has_dim else x[..., None]), has_dim


def _never_moved(chains: np.ndarray) -> np.ndarray:
    """(n_chains, d) mask: True where a chain has the same value at every step in that dimension."""
    return chains.max(axis=1) == chains.min(axis=1)


def _warn_never_moved(stuck: np.ndarray, has_dim: bool, if_all: str, if_some: str) -> np.ndarray:
    """RuntimeWarning naming the chains (and dimensions) that never moved; returns the (d,) mask of the
    dimensions where every chain is stuck. ``if_all`` / ``if_some`` say what the statistic does then."""
    every = stuck.all(axis=0)
    some = stuck.any(axis=0) & ~every

    def dims(mask):
        return f" in dimension(s) {np.flatnonzero(mask).tolist()}" if has_dim else ""

    if every.any():
        who = "every chain is" if stuck.shape[0] > 1 else "it is"
        warnings.warn(f"the chain never moved: {who} constant{dims(every)} (every proposal rejected? a step "
                      f"size far too large, or a start where the density is zero?); {if_all}",
                      RuntimeWarning, stacklevel=3)
    if some.any():
        chains = np.flatnonzero(stuck[:, some].any(axis=1)).tolist()
        warnings.warn(f"the chain never moved: chain(s) {chains} stay constant{dims(some)} while the "
                      f"others move; {if_some}", RuntimeWarning, stacklevel=3)
    return every


def _autocorrelation(chains: np.ndarray, stuck: np.ndarray) -> np.ndarray:
    """rho(t), shape (n_steps, d), averaged over chains; a chain that never moved has rho(t) = 1."""
    n = chains.shape[1]
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << int(2 * n - 1).bit_length()  # pragma: no mutate (any length >= 2n - 1 gives the same rho)
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n]
    variance = acov[:, :1]
    # A constant chain is perfectly correlated, not independent: rho = 1 keeps it from inflating the ESS
    # (and its acov is only the rounding error of its mean, so it is not used).
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where((variance > 0) & ~stuck[:, None, :], acov / variance, 1.0).mean(axis=0)
    rho[0] = 1.0
    return rho


def autocorrelation_function(x) -> np.ndarray:
    """rho(t) for t = 0, ..., n_steps - 1, averaged over chains; shape (n_steps,) or (n_steps, d).

    c(t) = (1/n) sum_i (x_i - mean)(x_{i+t} - mean) is a convolution, so it is one FFT, a squared
    modulus and an inverse FFT; zero-padding to >= 2n stops the circular wrap-around. A chain that
    never moved counts as rho(t) = 1 for all t (with a ``RuntimeWarning``).
    """
    x, has_dim = _as_chains(x)
    stuck = _never_moved(x)
    _warn_never_moved(stuck, has_dim, "its rho(t) is taken as 1 (perfectly correlated)",
                      "their rho(t) is taken as 1 (perfectly correlated)")
    rho = _autocorrelation(x, stuck)
    return rho if has_dim else rho[:, 0]


def _autocorrelation_time(chains: np.ndarray, stuck: np.ndarray, every: np.ndarray, c: float) -> np.ndarray:
    rho = _autocorrelation(chains, stuck)
    tau_of_window = 2.0 * np.cumsum(rho, axis=0) - 1.0      # tau(M) for M = 0, 1, ...
    window = np.arange(rho.shape[0])[:, None]
    ok = window >= c * tau_of_window
    first = np.where(ok.any(axis=0), ok.argmax(axis=0), rho.shape[0] - 1)
    tau = tau_of_window[first, np.arange(rho.shape[1])]
    # Anti-correlated chains (HMC near half a period) can make the sum tiny or even negative; like
    # ArviZ, cap the ESS at N log10(N), i.e. tau >= 1 / log10(N), N = all draws.
    tau = np.maximum(tau, 1.0 / np.log10(max(chains.shape[0] * chains.shape[1], 10)))
    return np.where(every, np.nan, tau)      # no chain moved: there is nothing to measure


_STUCK_TAU = ("tau and the ESS are undefined there: returning NaN",
              "they count as perfectly correlated (rho = 1), so they lower the ESS instead of inflating it")


def autocorrelation_time(x, c: float = 5.0) -> float | np.ndarray:
    """Integrated autocorrelation time tau = 1 + 2 sum_{t=1}^M rho(t), M = min{M : M >= c tau(M)}.

    Needs chains much longer than tau (say n_steps > 50 tau) to be reliable. NaN (with a
    ``RuntimeWarning``) where no chain ever moved; a stuck chain among moving ones has rho = 1.
    """
    c = check_positive(c, "c")
    chains, has_dim = _as_chains(x)
    stuck = _never_moved(chains)
    every = _warn_never_moved(stuck, has_dim, *_STUCK_TAU)
    tau = _autocorrelation_time(chains, stuck, every, c)
    return tau if has_dim else float(tau[0])


def effective_sample_size(x, c: float = 5.0) -> float | np.ndarray:
    """ESS = (number of draws) / tau; NaN (with a ``RuntimeWarning``) where no chain ever moved."""
    c = check_positive(c, "c")
    chains, has_dim = _as_chains(x)
    stuck = _never_moved(chains)
    every = _warn_never_moved(stuck, has_dim, *_STUCK_TAU)
    ess = chains.shape[0] * chains.shape[1] / _autocorrelation_time(chains, stuck, every, c)
    return ess if has_dim else float(ess[0])


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
    with np.errstate(divide="ignore"):  # W = 0: every half sat still at its own value, R-hat = inf
        return float(np.sqrt(((n - 1) / n * within + between / n) / within))


def split_rhat(x) -> float | np.ndarray:
    """Rank-normalised split R-hat: max(R-hat of ranks, R-hat of folded ranks) after halving each chain.

    Where no chain moved it is NaN; where some chains never moved and others did, +inf: those chains
    cannot have mixed, and the ranked statistic alone can stay near 1.01-1.05 when the stuck value sits
    near the pooled median or quartiles. Both come with a ``RuntimeWarning`` naming the chains.
    """
    chains, has_dim = _as_chains(x)
    half = chains.shape[1] // 2
    if half < 2:
        raise ValueError(f"x: split R-hat needs at least 4 steps per chain, got {chains.shape[1]}")
    stuck = _never_moved(chains)
    every = _warn_never_moved(stuck, has_dim, "R-hat is undefined there: returning NaN",
                              "they cannot have mixed with the others: R-hat is inf there")
    some = stuck.any(axis=0) & ~every
    split = np.concatenate([chains[:, :half], chains[:, -half:]], axis=0)   # (2 m, n/2, d)
    result = np.empty(split.shape[2])
    for k in range(split.shape[2]):
        if every[k] or some[k]:
            result[k] = np.nan if every[k] else np.inf
            continue
        draws = split[:, :, k]
        bulk = _rhat(_rank_normalise(draws))
        tail = _rhat(_rank_normalise(np.abs(draws - np.median(draws))))
        result[k] = max(bulk, tail)
    return result if has_dim else float(result[0])
