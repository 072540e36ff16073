"""Lecture section 3: learning p(x) from samples, with a Gaussian mixture (EM) and a kernel density estimate.

Figures:
  sec3_em_iterations.png          EM on the lecture's 1-D example, from the lecture's initial guess
  sec3_kde.png                    a kernel at every sample, and the effect of the bandwidth
  sec3_sampling.png               sampling from both, in 1-D and on a 2-D toy set
  sec3_curse_of_dimensionality.png held-out log-likelihood as the dimension grows

Run: python demos/sec3_density.py [--quick]
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from scratchgen import data  # noqa: E402
from scratchgen.density import GaussianMixture, KernelDensity  # noqa: E402
from scratchgen.plotting import demo_command_line, save_figure  # noqa: E402

COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]


def normal_pdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)


def figure_em(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """The lecture's example: w = [0.3, 0.4, 0.3], mu = [-5, 0, 5], sigma = [0.8, 1, 0.5], K = 3, and EM
    started from w0 = [0.33, 0.33, 0.33], mu0 = [1.71, 0.69, -2.24], sigma0 = [1.72, 1.49, 1.21]."""
    x = data.lecture_mixture_1d(300 if quick else 1000, seed=0)
    gmm = GaussianMixture(3, weights_init=data.LECTURE_INIT_WEIGHTS,
                          means_init=data.LECTURE_INIT_MEANS,
                          covariances_init=data.LECTURE_INIT_SIGMAS[:, None, None] ** 2,
                          tol=1e-6, max_iter=200, keep_parameter_history=True).fit(x)
    history = gmm.parameter_history_
    shown = sorted({0, 1, 2, 3, 5, 8, len(history) - 1} & set(range(len(history))))
    grid = np.linspace(-9, 9, 600)
    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, t in zip(axes.flat, shown):
        w, mu, cov = history[t]
        sigma = np.sqrt(cov[:, 0, 0])
        ax.hist(x, bins=60, density=True, color="0.85", label="data")
        mixture = np.zeros_like(grid)
        for k in range(3):
            component = w[k] * normal_pdf(grid, mu[k, 0], sigma[k])
            mixture += component
            ax.plot(grid, component, color=COLOURS[k], lw=1.5,
                    label=f"w={w[k]:.2f} mu={mu[k, 0]:.2f} sigma={sigma[k]:.2f}")
        ax.plot(grid, mixture, "k", lw=1.5, label="p(x)")
        ax.plot(grid, data.lecture_mixture_1d_pdf(grid), "k:", lw=1, label="true p(x)")
        ax.set_title(f"iteration {t}: mean log p = {gmm.log_likelihood_history_[t]:.3f}")
        ax.set_ylim(0, 0.45)
        ax.legend(fontsize=6.5, loc="upper left")
    for ax in axes.flat[len(shown):-1]:
        ax.axis("off")
    ax = axes.flat[-1]
    ax.plot(gmm.log_likelihood_history_, "o-", ms=3)
    ax.set_xlabel("EM iteration t")
    ax.set_ylabel("mean log-likelihood")
    ax.set_title("EM never decreases the likelihood")
    fig.suptitle("EM for a Gaussian mixture: E-step p(k|x), M-step w_k, mu_k, sigma_k (lecture's example)")
    fig.tight_layout()
    if numbers is not None:
        order = np.argsort(gmm.means_[:, 0])  # components sorted by mean, as the true ones are listed
        numbers |= {"samples N": len(x), "EM iterations": len(history) - 1,
                    "mean log-likelihood, start": float(gmm.log_likelihood_history_[0]),
                    "mean log-likelihood, converged": float(gmm.log_likelihood_history_[-1]),
                    "fitted w (true 0.3, 0.4, 0.3)": ", ".join(f"{v:.3f}" for v in gmm.weights_[order]),
                    "fitted mu (true -5, 0, 5)": ", ".join(f"{v:.3f}" for v in gmm.means_[order, 0]),
                    "fitted sigma (true 0.8, 1, 0.5)":
                        ", ".join(f"{v:.3f}" for v in np.sqrt(gmm.covariances_[order, 0, 0]))}
    return save_figure(fig, out_dir, "sec3_em_iterations.png", quick)


def figure_kde(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    # Left: p_hat(x) = (1/N) sum_n K(x; x_n, sigma): one kernel per sample.
    points = data.lecture_mixture_1d(8, seed=3)
    sigma = 0.8
    kde = KernelDensity(bandwidth=sigma).fit(points)
    grid = np.linspace(-10, 10, 800)
    ax = axes[0]
    for n, p in enumerate(points):
        ax.plot(grid, normal_pdf(grid, p, sigma) / len(points), "--", color=COLOURS[n % 8], lw=1)
    ax.plot(grid, kde.pdf(grid), "k", lw=2, label="p_hat(x) = mean of the kernels")
    ax.plot(points, np.zeros_like(points), "k|", ms=18, mew=2, label="samples x_n")
    ax.set_title(f"a kernel at each of N = {len(points)} samples (sigma = {sigma})", fontsize=10)
    ax.legend(fontsize=8)
    # Middle: the bandwidth sets the smoothness.
    x = data.lecture_mixture_1d(200 if quick else 500, seed=1)
    ax = axes[1]
    ax.hist(x, bins=60, density=True, color="0.88")
    ax.plot(grid, data.lecture_mixture_1d_pdf(grid), "k:", lw=1.5, label="true p(x)")
    for i, bandwidth in enumerate([0.1, "scott", "cv", 3.0]):
        fitted = KernelDensity(bandwidth=bandwidth, seed=0).fit(x)
        if numbers is not None and isinstance(bandwidth, str):
            numbers[f"bandwidth by {bandwidth}, N = {len(x)}"] = float(fitted.bandwidth_)
        ax.plot(grid, fitted.pdf(grid), color=COLOURS[i],
                label=f"{bandwidth}: sigma = {fitted.bandwidth_:.2f}" if isinstance(bandwidth, str)
                else f"sigma = {bandwidth}")
    ax.set_title(f"bandwidth (N = {len(x)}): too small is spiky, too large blurs", fontsize=10)
    ax.legend(fontsize=8)
    # Right: the kernel's shape matters much less than its width.
    ax = axes[2]
    for i, kernel in enumerate(["gaussian", "epanechnikov", "tophat", "exponential"]):
        fitted = KernelDensity(bandwidth=0.6, kernel=kernel).fit(x)
        ax.plot(grid, fitted.pdf(grid), color=COLOURS[i], label=kernel)
    ax.plot(grid, data.lecture_mixture_1d_pdf(grid), "k:", lw=1.5, label="true p(x)")
    ax.set_title("kernels with the same standard deviation (0.6)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec3_kde.png", quick)


def figure_sampling(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    n = 2000 if quick else 20000
    x = data.lecture_mixture_1d(1000, seed=2)
    gmm = GaussianMixture(3, n_init=1 if quick else 3, seed=0).fit(x)
    kde = KernelDensity("cv", seed=0).fit(x)
    grid = np.linspace(-9, 9, 600)
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    for ax, model, name in [(axes[0, 0], gmm, "GMM"), (axes[0, 1], kde, "KDE")]:
        draws = model.sample(n, rng=1)[:, 0]
        ax.hist(draws, bins=80, density=True, color="0.75", label=f"{n} samples")
        ax.plot(grid, np.exp(model.score_samples(grid)), "k", label=f"{name} density")
        ax.set_title(f"{name}: " + ("pick k with prob. w_k, then N(mu_k, sigma_k)" if name == "GMM"
                                    else "pick x_i uniformly, then N(x_i, sigma)"), fontsize=10)
        ax.legend(fontsize=8)
    ax = axes[0, 2]
    ax.plot(grid, data.lecture_mixture_1d_pdf(grid), "k:", label="true")
    ax.plot(grid, np.exp(gmm.score_samples(grid)), label="GMM")
    ax.plot(grid, np.exp(kde.score_samples(grid)), label="KDE")
    ax.set_title("GMM (K = 3) and KDE (cv bandwidth) of p(x), N = 1000", fontsize=10)
    ax.legend(fontsize=8)

    ring = data.ring_of_gaussians(500 if quick else 3000, std=0.1, seed=0)
    gmm2 = GaussianMixture(8, n_init=1 if quick else 3, seed=0).fit(ring)
    kde2 = KernelDensity("cv", seed=0).fit(ring)
    m = 500 if quick else 3000
    (gx, gy), density = kde2.evaluate_grid(grid_bounds=((-3, 3), (-3, 3)))
    axes[1, 0].contourf(gx, gy, density.T, levels=30, cmap="viridis")
    axes[1, 0].plot(ring[:, 0], ring[:, 1], "w.", ms=1, alpha=0.3)
    axes[1, 0].set_title(f"KDE density (cv bandwidth {kde2.bandwidth_:.3f}), FFT grid")
    for ax, model, name in [(axes[1, 1], gmm2, "GMM, K = 8"), (axes[1, 2], kde2, "KDE")]:
        draws = model.sample(m, rng=2)
        ax.plot(ring[:, 0], ring[:, 1], ".", color="0.8", ms=2, label="training data")
        ax.plot(draws[:, 0], draws[:, 1], ".", color="tab:red", ms=2, label="samples")
        ax.set_title(f"samples from the {name}")
        ax.legend(fontsize=8, loc="upper right")
    if numbers is not None:
        numbers |= {"1-D, N = 1000: mean log p_hat of the training points, GMM": float(gmm.score(x)),
                    "... KDE (scored on its own kernels' centres: optimistic)": float(kde.score(x)),
                    "ring: cv bandwidth": float(kde2.bandwidth_)}
    for ax in axes[1]:
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec3_sampling.png", quick)


def curse_of_dimensionality(dimensions: list[int], n_train: int, n_test: int) -> dict[str, list[float]]:
    """Held-out gap per dimension, (log p(x) - log p_hat(x)) / d averaged over test points (a KL estimate),
    for data from 0.5 N(-2 e_1, I) + 0.5 N(2 e_1, I) in d dimensions."""
    gaps = {"GMM (K = 2, full)": [], "KDE (cv bandwidth)": []}
    rng = np.random.default_rng(0)
    for d in dimensions:
        def draw(n, d=d):
            x = rng.standard_normal((n, d))
            x[:, 0] += np.where(rng.random(n) < 0.5, -2.0, 2.0)
            return x

        train, test = draw(n_train), draw(n_test)
        log_true = (np.logaddexp(-0.5 * (test[:, 0] + 2) ** 2, -0.5 * (test[:, 0] - 2) ** 2) - np.log(2)
                    - 0.5 * np.sum(test[:, 1:] ** 2, axis=1) - 0.5 * d * np.log(2 * np.pi))
        models = [GaussianMixture(2, n_init=2, seed=0), KernelDensity("cv", seed=0)]
        for name, model in zip(gaps, models):
            gaps[name].append(float(np.mean(log_true - model.fit(train).score_samples(test)) / d))
    return gaps


def figure_curse(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    dimensions = [1, 2, 4, 8] if quick else [1, 2, 4, 8, 16, 32]
    n_train = 200 if quick else 500
    gaps = curse_of_dimensionality(dimensions, n_train, 1000)
    if numbers is not None:
        for name, gap in gaps.items():
            numbers |= {f"{name}, d = {d}: gap in nats per dimension": g for d, g in zip(dimensions, gap)}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, gap in gaps.items():
        ax.plot(dimensions, gap, "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dimension d")
    ax.set_ylabel("held-out (log p - log p_hat) / d   [nats]")
    ax.set_title(f"curse of dimensionality: N = {n_train} training samples\n"
                 "(0 = perfect; the KDE needs exponentially more data as d grows)")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec3_curse_of_dimensionality.png", quick)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return [figure_em(out_dir, quick), figure_kde(out_dir, quick), figure_sampling(out_dir, quick),
            figure_curse(out_dir, quick)]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
