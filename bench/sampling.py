"""Speed of the section-2 samplers against their references, measured side by side in one run.

  1. 1e7 draws from 1000 categories: ``AliasTable`` (and ``sample_discrete``) vs ``rng.choice``.
  2. The standard normal from its pdf alone: ``NumericalInverseCDF`` vs SciPy's
     ``NumericalInversePolynomial`` (UNU.RAN's PINV), setup time, 1e7 draws and u-error.

Each timing is the best of ``--repeats`` runs, the contenders interleaved so that both see the same
machine load. Ratios are reference time / our time (> 1: we are faster).

Run: python bench/sampling.py [--draws 10000000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import scipy.special as sp
from scipy.stats.sampling import NumericalInversePolynomial

from scratchgen.sampling import AliasTable, NumericalInverseCDF, sample_discrete


def best_time(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def interleaved(contenders: dict, repeats: int) -> dict:
    """Best time of each contender, running them in turn ``repeats`` times (warm-up run first)."""
    for fn in contenders.values():
        fn()
    times = {name: np.inf for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name] = min(times[name], best_time(fn, 1))
    return times


def standard_normal_pdf(x):
    return np.exp(-0.5 * x * x)


class ScipyNormal:
    """What NumericalInversePolynomial needs: a pdf (the same unnormalised one) and, for u_error, a cdf."""

    def pdf(self, x):
        return standard_normal_pdf(x)

    def cdf(self, x):
        return sp.ndtr(x)


def max_u_error(ppf, n: int = 1_000_000, seed: int = 0) -> float:
    """max |Phi(ppf(u)) - u| with the exact normal CDF, on random u plus both far tails."""
    u = np.concatenate([np.random.default_rng(seed).random(n), np.logspace(-14, -1, 1000),
                        1.0 - np.logspace(-14, -1, 1000)])
    return float(np.max(np.abs(sp.ndtr(ppf(u)) - u)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, repeats = args.draws, args.repeats
    print(f"# {platform.processor() or platform.machine()}, numpy {np.__version__}, {n:.0e} draws, "
          f"best of {repeats}\n")

    # ---- 1. discrete: 1000 categories -----------------------------------------------------------
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(1000))
    table = AliasTable(probs)
    setup = best_time(lambda: AliasTable(probs), repeats)
    times = interleaved({
        "rng.choice": lambda: rng.choice(1000, size=n, p=probs),
        "AliasTable.sample": lambda: table.sample(n, rng),
        "sample_discrete": lambda: sample_discrete(probs, n, rng),
    }, repeats)
    print("| discrete, 1000 categories | time | vs rng.choice |")
    print("|---|---|---|")
    for name, t in times.items():
        print(f"| {name} ({n:.0e} draws) | {t:.3f} s | {times['rng.choice'] / t:.2f}x |")
    print(f"| AliasTable setup | {setup * 1e3:.2f} ms | |\n")

    # ---- 2. continuous: standard normal from its pdf ---------------------------------------------
    ours = NumericalInverseCDF(standard_normal_pdf, u_resolution=1e-10)
    theirs = NumericalInversePolynomial(ScipyNormal(), u_resolution=1e-10, random_state=1)
    setups = interleaved({
        "scipy": lambda: NumericalInversePolynomial(ScipyNormal(), u_resolution=1e-10),
        "ours": lambda: NumericalInverseCDF(standard_normal_pdf, u_resolution=1e-10),
    }, repeats)
    rng = np.random.default_rng(1)
    draws = interleaved({
        "scipy": lambda: theirs.rvs(n),
        "ours": lambda: ours.sample(n, rng),
    }, repeats)
    print("| standard normal from its pdf | NumericalInversePolynomial (SciPy) | NumericalInverseCDF | ratio |")
    print("|---|---|---|---|")
    print(f"| setup | {setups['scipy'] * 1e3:.2f} ms | {setups['ours'] * 1e3:.2f} ms | "
          f"{setups['scipy'] / setups['ours']:.2f}x |")
    print(f"| {n:.0e} draws | {draws['scipy']:.3f} s | {draws['ours']:.3f} s | "
          f"{draws['scipy'] / draws['ours']:.2f}x |")
    print(f"| u-error, own estimate | {theirs.u_error()[0]:.2e} | {ours.u_error():.2e} | |")
    print(f"| u-error vs exact Phi (1e6 u + tails) | {max_u_error(theirs.ppf):.2e} | {max_u_error(ours.ppf):.2e} | |")
    print(f"| intervals | {theirs.intervals} | {ours.n_intervals} | |")


if __name__ == "__main__":
    main()
