"""Speed of scratchgen.density against scikit-learn, SciPy and KDEpy, side by side in one run.

Not part of the tests. Each row times our code and the reference on the same data and prints the ratio
reference / ours (above 1: we are faster). A reference that is not installed is skipped.

  GMM        EM, N=100000, d=2, K=8, full covariances, 100 iterations, convergence test off (tol=0),
             both started from the same parameters; time per iteration.  vs sklearn.mixture.GaussianMixture
  KDE exact  n = m = 10000 Gaussian kernels, Scott's rule, in 1-D and 2-D.  vs scipy.stats.gaussian_kde
  KDE grid   n = 1e6 samples in 1-D onto 4096 grid points.                 vs KDEpy.FFTKDE

Usage: python bench/density.py [--quick]
"""
from __future__ import annotations

import argparse
import importlib
import os
import time
import warnings

import numpy as np

from scratchgen.density import GaussianMixture, KernelDensity


def best_time(f, repeat: int) -> float:
    """The fastest of ``repeat`` runs after one warm-up run, in seconds (the least disturbed by other work
    on the machine)."""
    f()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def optional(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def row(task: str, ours: float, reference: float | None, name: str, unit: str = "ms") -> dict:
    scale = 1e3 if unit == "ms" else 1.0
    ratio = None if reference is None else reference / ours
    ref_text = "not installed" if reference is None else f"{reference * scale:9.1f} {unit}"
    ratio_text = "" if ratio is None else f"{ratio:5.2f}x"
    print(f"{task:<38} ours {ours * scale:9.1f} {unit}   {name:<13} {ref_text:<16} {ratio_text}", flush=True)
    return {"task": task, "ours": ours, "reference": reference, "name": name, "ratio": ratio}


def bench_gmm(iterations: int, repeat: int) -> dict:
    rng = np.random.default_rng(0)
    n, d, K = 100_000, 2, 8
    centres = 3.0 * rng.standard_normal((K, d))
    X = centres[rng.integers(0, K, n)] + rng.standard_normal((n, d)) @ np.array([[0.6, 0.2], [0.0, 0.4]])
    start = GaussianMixture(K, max_iter=1, seed=0).fit(X)
    init = dict(weights_init=start.weights_, means_init=start.means_)

    def ours():
        GaussianMixture(K, tol=0.0, max_iter=iterations, covariances_init=start.covariances_, **init).fit(X)

    t_ours = best_time(ours, repeat) / iterations
    mixture = optional("sklearn.mixture")
    t_ref = None
    if mixture is not None:
        def theirs():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # tol=0 never converges, on purpose
                mixture.GaussianMixture(K, tol=0.0, max_iter=iterations,
                                        precisions_init=np.linalg.inv(start.covariances_), **init).fit(X)
        t_ref = best_time(theirs, repeat) / iterations
    return row("GMM EM iteration (N=1e5, d=2, K=8)", t_ours, t_ref, "scikit-learn")


def bench_kde_exact(d: int, repeat: int) -> dict:
    rng = np.random.default_rng(d)
    X, Q = rng.standard_normal((10_000, d)), rng.standard_normal((10_000, d))
    kde = KernelDensity("scott").fit(X)
    t_ours = best_time(lambda: kde.score_samples(Q), repeat)
    stats = optional("scipy.stats")
    t_ref = None
    if stats is not None:
        reference = stats.gaussian_kde(X.T)
        t_ref = best_time(lambda: reference(Q.T), repeat)
        np.testing.assert_allclose(kde.pdf(Q), reference(Q.T), rtol=1e-9)
    return row(f"KDE exact {d}-D (n = m = 1e4)", t_ours, t_ref, "SciPy")


def bench_kde_grid(repeat: int) -> dict:
    x = np.random.default_rng(0).standard_normal(1_000_000)
    kde = KernelDensity("scott").fit(x)
    t_ours = best_time(lambda: kde.evaluate_grid(4096), repeat)
    kdepy = optional("KDEpy")
    t_ref = None
    if kdepy is not None:
        t_ref = best_time(lambda: kdepy.FFTKDE(bw=kde.bandwidth_).fit(x).evaluate(4096), repeat)
        grid, density = kde.evaluate_grid(4096)
        their_grid, their_density = kdepy.FFTKDE(bw=kde.bandwidth_).fit(x).evaluate(4096)
        gap = np.max(np.abs(np.interp(their_grid, grid, density) - their_density)) / density.max()
        print(f"    (grid densities agree with KDEpy to {gap:.1e} of the peak)")
    return row("KDE grid 1-D (n = 1e6, 4096 points)", t_ours, t_ref, "KDEpy")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 3
    print(f"numpy {np.__version__}, {os.cpu_count()} CPU cores; best of {repeat}; ratio = reference / ours")
    return [
        bench_gmm(10 if args.quick else 100, 1),
        bench_kde_exact(1, repeat),
        bench_kde_exact(2, repeat),
        bench_kde_grid(repeat if args.quick else 7),
    ]


if __name__ == "__main__":
    main()
