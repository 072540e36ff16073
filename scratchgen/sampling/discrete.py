"""Sampling a discrete distribution p(x_1), ..., p(x_n) (lecture: inverse transform, discrete case).

Two algorithms, the same distribution:

- ``sample_discrete``: the lecture's three steps, O(log n) per draw.
      1. F_i = sum_{j <= i} p(x_j)        (the CDF; F_n = 1)
      2. u ~ U(0, 1)
      3. take x_i with F_{i-1} <= u < F_i (a binary search: ``np.searchsorted``)
- ``AliasTable``: Walker's alias method (Vose's construction), O(1) per draw after an O(n) setup; the
  right tool for many draws from one distribution.

Both return indices i in {0, ..., n-1}; map them to values with ``values[i]``.
"""
from __future__ import annotations

import numpy as np

from scratchgen._checks import check_real_array
from scratchgen.sampling.rng import RNGLike, as_generator, check_size

SUM_TOLERANCE = np.sqrt(np.finfo(np.float64).eps)  # ~1.5e-8: how far from 1 the probabilities may sum
_CHUNK = 1 << 13  # draws per block: the block's temporaries (64 KiB each) stay in the CPU cache


def check_probabilities(probs, name: str = "probs") -> np.ndarray:
    """Validate a probability vector: 1-D, finite, p_i >= 0 and sum_i p_i = 1 within sqrt(eps)."""
    p = check_real_array(probs, name)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of probabilities, got shape {p.shape}")
    if not np.isfinite(p).all():
        i = int(np.flatnonzero(~np.isfinite(p))[0])
        raise ValueError(f"{name}: expected finite probabilities, got {name}[{i}] = {p[i]}")
    if (p < 0).any():
        i = int(np.flatnonzero(p < 0)[0])
        raise ValueError(f"{name}: probabilities must be non-negative, got {name}[{i}] = {p[i]}")
    total = float(np.sum(p))
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(
            f"{name}: probabilities must sum to 1, they sum to {total!r} (off by {total - 1.0:+.3g}, "
            f"tolerance {SUM_TOLERANCE:.1e}); normalise them first: {name} / {name}.sum()"
        )
    return p


def discrete_cdf(probs) -> np.ndarray:
    """F_i = sum_{j <= i} p_j, renormalised so that F ends at exactly 1.

    Every entry from the last non-zero probability on is set to 1, so a u just below 1 never falls
    past the last category that can actually occur (cumulative sums round).
    """
    p = check_probabilities(probs)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    cdf[np.flatnonzero(p)[-1]:] = 1.0
    return cdf


def sample_discrete(probs, size=(), rng: RNGLike = None) -> np.ndarray:
    """Draw indices i with P(i) = probs[i] by discrete inverse transform (the lecture's three steps)."""
    cdf = discrete_cdf(probs)                           # 1. F_i
    u = as_generator(rng).random(check_size(size))      # 2. u ~ U(0, 1)
    return np.searchsorted(cdf, u, side="right")        # 3. the i with F_{i-1} <= u < F_i


class AliasTable:
    """Walker's alias method: O(1) draws from a fixed discrete distribution.

    Picture n columns of height n p_i / n, i.e. mean height 1/n. The table cuts the tall columns and
    stacks the pieces on the short ones until every column has height exactly 1/n and holds at most two
    categories: its own i, with share ``prob[i]``, and ``alias[i]`` on top. A draw then takes
        column i ~ U{0, ..., n-1},  height v ~ U(0, 1),  x = i if v < prob[i] else alias[i],
    and category k gets (n p_k) / n = p_k of the mass: its own column share plus what it donated.

    Setup (Vose 1991): scaled_k = n p_k; repeatedly pair a small column (scaled < 1) with a large one
    (scaled >= 1): the small one keeps prob = scaled_small and takes the large one as its alias; the
    large one gives away 1 - scaled_small and is put back in the small or large list.
    """

    def __init__(self, probs):
        p = check_probabilities(probs)
        n = p.size
        scaled = (p * (n / p.sum())).tolist()   # python floats: the setup loop is sequential anyway
        prob = [1.0] * n
        alias = list(range(n))
        small = [i for i, s in enumerate(scaled) if s < 1.0]
        large = [i for i, s in enumerate(scaled) if s >= 1.0]
        while small and large:
            s, l = small.pop(), large.pop()
            prob[s], alias[s] = scaled[s], l
            scaled[l] = (scaled[l] + scaled[s]) - 1.0   # this order loses the fewest digits
            (small if scaled[l] < 1.0 else large).append(l)
        # Whatever is left has scaled = 1 up to rounding: keeps its whole column (prob 1, alias itself).
        self.probs = p
        self.prob = np.array(prob)
        self.alias = np.array(alias, dtype=np.intp)
        # Column i covers n u in [i, i + 1) and its own share is n u < i + prob[i]: folding i into the
        # threshold lets one uniform give both the column and the height (they are independent).
        self._threshold = np.arange(n) + self.prob
        # Row i holds the two outcomes of column i, (i, alias[i]); flattened, outcome b of column i
        # sits at 2 i + b, so a draw is one lookup instead of a where() over two lookups.
        self._outcomes = np.stack([np.arange(n), self.alias], axis=1).ravel()

    def __len__(self) -> int:
        return self.prob.size

    def sample(self, size=(), rng: RNGLike = None) -> np.ndarray:
        """Draw indices i with P(i) = probs[i]; one uniform per draw, no search."""
        rng = as_generator(rng)
        shape = check_size(size)
        out = np.empty(shape, dtype=np.intp)
        flat = out.reshape(-1)
        n = len(self)
        nu = np.empty(min(flat.size, _CHUNK))
        for start in range(0, flat.size, _CHUNK):       # blocks keep the temporaries in cache
            block = nu[: min(_CHUNK, flat.size - start)]
            rng.random(out=block)
            block *= n                                  # n u ~ U(0, n)
            column = block.astype(np.intp)              # i = floor(n u) ~ U{0, ..., n-1}
            on_alias = block >= self._threshold.take(column)  # v = n u - i >= prob[i]: the alias part
            column += column
            column += on_alias                          # 2 i + (0: own category, 1: alias)
            self._outcomes.take(column, out=flat[start:start + block.size])
        return out
