"""Rejection sampling (lecture section 2: when F^-1 is out of reach but p(x) can be evaluated).

Given a target p~(x) (normalised or not), a proposal q(x) we can sample, and M with p~(x) <= M q(x):

    1. x ~ q
    2. u ~ U(0, 1)
    3. accept x if u < p~(x) / (M q(x)) (the ratio computed in log space); else go to 1.

Accepted points are uniform under the curve p~, so x ~ p~ / Z. The acceptance rate is Z / M
(1 / M for a normalised target): a tight envelope matters. If the bound fails somewhere, the
samples are silently biased; we check every proposed point and raise instead.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from scratchgen._checks import check_count, check_real
from scratchgen.sampling.rng import RNGLike, as_generator


class Proposal(Protocol):
    """What rejection sampling needs from q: draws and log-densities (e.g. ``distributions.Normal``)."""

    def sample(self, size, rng: np.random.Generator) -> np.ndarray: ...

    def log_prob(self, x: np.ndarray) -> np.ndarray: ...


def rejection_sample(log_target: Callable[[np.ndarray], np.ndarray], proposal: Proposal, log_M: float,
                     size: int, rng: RNGLike = None,
                     max_proposals: int = 100_000_000) -> tuple[np.ndarray, float]:
    """Draw ``size`` samples from p~ by rejection from ``proposal`` under the envelope M q.

    Returns ``(samples, acceptance_rate)``; samples have shape (size, *event_shape). Proposals are
    drawn in vectorised batches sized from the running acceptance rate.
    Raises ValueError, naming the point, if p~(x) > M q(x) at any proposed x.
    """
    if not callable(log_target):
        raise TypeError(f"log_target: expected a callable log-density, got {type(log_target).__name__}")
    for method in ("sample", "log_prob"):
        if not callable(getattr(proposal, method, None)):
            raise TypeError(f"proposal: expected an object with sample(size, rng) and log_prob(x); "
                            f"{type(proposal).__name__} has no {method}()")
    log_M = check_real(log_M, "log_M")      # the log of the envelope constant M
    n = check_count(size, "size")  # the number of samples
    max_proposals = check_count(max_proposals, "max_proposals")
    rng = as_generator(rng)
    accepted, n_accepted, n_proposed = [], 0, 0
    rate_guess = 0.5
    while n_accepted < n:
        if n_proposed >= max_proposals:
            raise RuntimeError(f"rejection_sample: only {n_accepted} of {n} samples accepted after "
                               f"{n_proposed} proposals; the envelope M q is far too loose (or p~ is ~0)")
        # the batch size only sets how many proposals are drawn at once: every size gives exact draws from p (with
        # one seed, other sizes give other numbers, so the size is part of what a seed reproduces)
        batch = int(min(max((n - n_accepted) / rate_guess * 1.1 + 16, 64), 1 << 20))  # pragma: no mutate
        x = np.asarray(proposal.sample(batch, rng), dtype=np.float64)
        log_ratio = _log_target_values(log_target, x, batch) - log_M - _log_q(proposal, x, batch)
        if (log_ratio > 1e-12).any():                   # p~(x) > M q(x): the envelope is broken
            i = int(np.argmax(log_ratio))
            raise ValueError(
                f"the envelope fails: p~(x) > M q(x) at x = {x[i].tolist()!r} "
                f"(log p~ - log q - log M = {log_ratio[i]:.4g}); increase log_M by at least that much"
            )
        keep = rng.random(batch) < np.exp(log_ratio)    # step 3: u < p~(x) / (M q(x))
        accepted.append(x[keep])
        n_accepted += int(keep.sum())
        n_proposed += batch
        rate_guess = max(n_accepted / n_proposed, 1e-6)  # pragma: no mutate (it only sizes the next batch)
    return np.concatenate(accepted)[:n], n_accepted / n_proposed


def _log_target_values(log_target, x: np.ndarray, batch: int) -> np.ndarray:
    values = np.asarray(log_target(x), dtype=np.float64)
    if values.shape != (batch,):
        raise ValueError(f"log_target must return one log-density per point, shape ({batch},); got {values.shape}")
    if np.isnan(values).any() or np.isposinf(values).any():
        i = int(np.flatnonzero(np.isnan(values) | np.isposinf(values))[0])
        raise ValueError(f"log_target returned {values[i]} at x = {x[i].tolist()!r}; "
                         "it must be finite or -inf (outside the support)")
    return values


def _log_q(proposal, x: np.ndarray, batch: int) -> np.ndarray:
    values = np.asarray(proposal.log_prob(x), dtype=np.float64)
    if values.shape != (batch,):
        raise ValueError(f"proposal.log_prob must return shape ({batch},), got {values.shape}")
    if np.isnan(values).any() or np.isneginf(values).any():
        i = int(np.flatnonzero(np.isnan(values) | np.isneginf(values))[0])
        raise ValueError(f"proposal.log_prob returned {values[i]} at its own sample x = {x[i].tolist()!r}")
    return values
