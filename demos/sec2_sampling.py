"""Lecture section 2: how to draw samples from p(x) when p(x) is known.

Figures:
  sec2_discrete_inverse_transform.png   the discrete CDF F_i, u ~ U(0, 1) mapped to the x_i with F_{i-1} <= u < F_i
  sec2_continuous_inverse_transform.png the inverse CDF of N(0, 1), and histograms of x = F^-1(u) against p(x)
  sec2_numerical_inverse_cdf.png        F^-1 built from the pdf alone (the lecture's 1-D mixture): samples vs p(x)
  sec2_rejection_sampling.png           accepted and rejected points under M q(x), and the accepted x's
  sec2_metropolis_hastings.png          MH chains: traces, autocorrelation (with tau) and histograms, 3 step sizes
  sec2_gradient_mcmc.png                MH vs MALA vs HMC on a correlated 2-D Gaussian (gradients from autograd_lite)

Run: python demos/sec2_sampling.py [--quick]
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from scratchgen import data  # noqa: E402
from scratchgen.distributions import Normal  # noqa: E402
from scratchgen.plotting import demo_command_line, save_figure  # noqa: E402
from scratchgen.sampling import (  # noqa: E402
    AliasTable,
    NumericalInverseCDF,
    autocorrelation_function,
    autocorrelation_time,
    discrete_cdf,
    effective_sample_size,
    hmc,
    inverse_transform,
    mala,
    metropolis_hastings,
    rejection_sample,
    sample_discrete,
)


def mixture_log_pdf(x: np.ndarray) -> np.ndarray:
    """log p(x) of the lecture's mixture, log sum_k w_k N(x | mu_k, sigma_k), in log space (no log(0))."""
    parts = [np.log(w) + Normal(mu, sigma).log_prob(x)
             for w, mu, sigma in zip(data.LECTURE_WEIGHTS, data.LECTURE_MEANS, data.LECTURE_SIGMAS)]
    return np.logaddexp.reduce(parts, axis=0)


def figure_discrete(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """Inverse transform for a discrete p(x_i): F_i = sum_{j<=i} p(x_j), u ~ U(0,1), x_i with F_{i-1} <= u < F_i."""
    x_values = np.arange(1, 7)
    probs = np.array([0.1, 0.25, 0.05, 0.3, 0.2, 0.1])
    cdf = discrete_cdf(probs)
    rng = np.random.default_rng(1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))

    axes[0].bar(x_values, probs, color="tab:blue", alpha=0.8)
    axes[0].set(title="1. p(x_i) (sums to 1)", xlabel="x_i", ylabel="p(x_i)")

    ax = axes[1]
    ax.step(np.concatenate([[0.5], x_values, [6.5]]), np.concatenate([[0], cdf, [1]]), where="post", color="k")
    for u, colour in zip([0.07, 0.33, 0.62, 0.91], ["tab:red", "tab:orange", "tab:green", "tab:purple"]):
        i = int(np.searchsorted(cdf, u, side="right"))
        ax.annotate("", xy=(x_values[i], u), xytext=(0.5, u), arrowprops=dict(arrowstyle="->", color=colour))
        ax.annotate("", xy=(x_values[i], 0), xytext=(x_values[i], u), arrowprops=dict(arrowstyle="->", color=colour))
        ax.text(0.55, u + 0.015, f"u = {u}", color=colour, fontsize=8)
    ax.set(title="2.-3. u ~ U(0,1), take x_i with F_{i-1} <= u < F_i", xlabel="x_i", ylabel="F_i", ylim=(0, 1.05))

    n = 2000 if quick else 100_000
    counts_search = np.bincount(sample_discrete(probs, n, rng), minlength=6) / n
    counts_alias = np.bincount(AliasTable(probs).sample(n, rng), minlength=6) / n
    axes[2].bar(x_values - 0.2, counts_search, width=0.4, label="sample_discrete (search)")
    axes[2].bar(x_values + 0.2, counts_alias, width=0.4, label="AliasTable (O(1))")
    axes[2].scatter(x_values, probs, color="k", zorder=3, label="p(x_i)")
    axes[2].set(title=f"frequencies of {n} draws", xlabel="x_i")
    axes[2].legend(fontsize=8)
    if numbers is not None:
        numbers |= {"discrete: draws": n,
                    "discrete: largest |frequency - p(x_i)|, binary search": float(np.abs(counts_search - probs).max()),
                    "discrete: largest |frequency - p(x_i)|, alias table": float(np.abs(counts_alias - probs).max())}
    return save_figure(fig, out_dir, "sec2_discrete_inverse_transform.png", quick)


def figure_continuous(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """Inverse transform for N(0, 1): x = F^-1(u) with F the normal CDF (its inverse is Wichura's AS 241)."""
    normal = Normal()
    grid = np.linspace(-4, 4, 400)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))

    ax = axes[0]
    ax.plot(grid, normal.cdf(grid), color="k", label="F(x)")
    for u, colour in zip([0.05, 0.3, 0.6, 0.93], ["tab:red", "tab:orange", "tab:green", "tab:purple"]):
        x = normal.ppf(u)
        ax.annotate("", xy=(x, u), xytext=(-4, u), arrowprops=dict(arrowstyle="->", color=colour))
        ax.annotate("", xy=(x, 0), xytext=(x, u), arrowprops=dict(arrowstyle="->", color=colour))
        ax.text(-3.9, u + 0.02, f"u = {u}  ->  x = {x:.2f}", color=colour, fontsize=8)
    ax.set(title="F(x) of N(0, 1): u on the y-axis maps to x = F^-1(u)", xlabel="x", ylabel="u = F(x)")

    u = np.linspace(0.001, 0.999, 400)
    axes[1].plot(u, normal.ppf(u), color="k")
    axes[1].set(title="the inverse CDF F^-1(u)", xlabel="u", ylabel="x")

    n = 2000 if quick else 200_000
    samples = inverse_transform(normal.ppf, n, rng=2)
    axes[2].hist(samples, bins=80, density=True, alpha=0.6, label=f"{n} draws of F^-1(u)")
    axes[2].plot(grid, normal.pdf(grid), color="k", label="p(x)")
    axes[2].set(title="histogram against the pdf", xlabel="x")
    axes[2].legend(fontsize=8)
    if numbers is not None:
        numbers |= {"N(0, 1): draws of F^-1(u)": n, "N(0, 1): sample mean (0)": float(samples.mean()),
                    "N(0, 1): sample std (1)": float(samples.std())}
    return save_figure(fig, out_dir, "sec2_continuous_inverse_transform.png", quick)


def figure_numerical_inverse(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """No closed-form F^-1: build it from the pdf (the lecture's mixture) and sample through it."""
    sampler = NumericalInverseCDF(data.lecture_mixture_1d_pdf)
    grid = np.linspace(-9, 9, 600)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    axes[0].plot(grid, sampler.cdf(grid), color="k")
    nodes = sampler.nodes[(sampler.nodes > -9) & (sampler.nodes < 9)]
    axes[0].plot(nodes, np.full(nodes.size, -0.04), "|", color="tab:red", markersize=8, alpha=0.3,
                 label=f"{sampler.n_intervals} intervals (ends shown as a rug)")
    axes[0].set(title="F(x) by adaptive Gauss-Legendre quadrature", xlabel="x", ylabel="F(x)")
    axes[0].legend(fontsize=8)
    u = np.linspace(1e-4, 1 - 1e-4, 1000)
    axes[1].plot(u, sampler.ppf(u), color="k")
    axes[1].set(title=f"F^-1(u), monotone cubic pieces; u-error {sampler.u_error():.1e}", xlabel="u", ylabel="x")
    n = 2000 if quick else 200_000
    axes[2].hist(sampler.sample(n, rng=3), bins=120, density=True, alpha=0.6, label=f"{n} draws")
    axes[2].plot(grid, data.lecture_mixture_1d_pdf(grid), color="k", label="p(x)")
    axes[2].set(title="samples against the mixture's pdf", xlabel="x")
    axes[2].legend(fontsize=8)
    if numbers is not None:
        numbers |= {"numerical F^-1 of the mixture: intervals": sampler.n_intervals,
                    "numerical F^-1 of the mixture: u-error": float(sampler.u_error())}
    return save_figure(fig, out_dir, "sec2_numerical_inverse_cdf.png", quick)


def figure_rejection(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """Rejection: x ~ q, u ~ U(0,1), keep x if u M q(x) <= p(x). Target: the lecture's mixture; q = N(0, 4^2)."""
    proposal = Normal(0.0, 4.0)
    grid = np.linspace(-12, 12, 800)
    ratio = data.lecture_mixture_1d_pdf(grid) / proposal.pdf(grid)
    log_M = float(np.log(ratio.max() * 1.02))       # a tight envelope, found on a grid, with 2% to spare
    M = np.exp(log_M)
    rng = np.random.default_rng(4)
    n_show = 600 if quick else 3000
    x = proposal.sample(n_show, rng)
    height = rng.random(n_show) * M * proposal.pdf(x)
    accepted = height <= data.lecture_mixture_1d_pdf(x)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    ax = axes[0]
    ax.plot(grid, M * proposal.pdf(grid), color="tab:blue", label=f"M q(x), M = {M:.2f}")
    ax.plot(grid, data.lecture_mixture_1d_pdf(grid), color="k", label="p(x)")
    ax.scatter(x[accepted], height[accepted], s=4, color="tab:green", label=f"accepted ({accepted.mean():.0%})")
    ax.scatter(x[~accepted], height[~accepted], s=4, color="tab:red", alpha=0.5, label="rejected")
    ax.set(title="points (x, u M q(x)) under the envelope", xlabel="x")
    ax.legend(fontsize=8)

    n = 2000 if quick else 100_000
    samples, rate = rejection_sample(mixture_log_pdf, proposal, log_M, n, rng=rng)
    axes[1].hist(samples, bins=100, density=True, alpha=0.6, label=f"{n} accepted draws")
    axes[1].plot(grid, data.lecture_mixture_1d_pdf(grid), color="k", label="p(x)")
    axes[1].set(title=f"acceptance rate {rate:.3f} vs 1/M = {1 / M:.3f}", xlabel="x")
    axes[1].legend(fontsize=8)
    if numbers is not None:
        numbers |= {"envelope M (q = N(0, 4^2))": float(M), "accepted draws": n, "acceptance rate": float(rate),
                    "1/M (the expected rate)": float(1 / M)}
    return save_figure(fig, out_dir, "sec2_rejection_sampling.png", quick)


def figure_metropolis_hastings(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """Random-walk MH on the lecture's mixture with three step sizes: too small, reasonable, too large."""
    n_steps = 1500 if quick else 20_000
    log_prob = lambda z: mixture_log_pdf(z[:, 0])  # noqa: E731  (n_chains, 1) -> (n_chains,)
    grid = np.linspace(-9, 9, 600)
    step_sizes = [0.3, 3.0, 30.0]
    fig, axes = plt.subplots(3, 3, figsize=(15, 9))
    for row, step in enumerate(step_sizes):
        result = metropolis_hastings(log_prob, 0.0, n_steps, step_size=step, n_chains=4, rng=10 + row)
        chains = result.chains[:, :, 0]
        tau = autocorrelation_time(chains)
        if numbers is not None:
            numbers |= {f"MH step {step}: acceptance": float(result.acceptance_rate.mean()),
                        f"MH step {step}: autocorrelation time tau": float(tau),
                        f"MH step {step}: ESS of {chains.size}": float(chains.size / tau)}
        label = f"step {step}: acceptance {result.acceptance_rate.mean():.2f}"
        shown = min(n_steps, 3000)                   # a window, so sticking and jumping stay visible
        axes[row, 0].plot(chains[0, :shown], lw=0.6)
        axes[row, 0].set(title=f"trace (first {shown}), {label}", xlabel="step", ylabel="x")
        rho = autocorrelation_function(chains)
        lags = min(300, n_steps)
        axes[row, 1].plot(np.arange(lags), rho[:lags], color="tab:purple")
        axes[row, 1].axhline(0, color="grey", lw=0.5)
        axes[row, 1].set(title=f"autocorrelation: tau = {tau:.0f}, ESS = {chains.size / tau:.0f} of {chains.size}",
                         xlabel="lag", ylim=(-0.2, 1.05))
        axes[row, 2].hist(chains.ravel(), bins=100, density=True, alpha=0.6)
        axes[row, 2].plot(grid, data.lecture_mixture_1d_pdf(grid), color="k")
        axes[row, 2].set(title="all chains against p(x)", xlabel="x", xlim=(-9, 9))
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec2_metropolis_hastings.png", quick)


def figure_gradient_mcmc(out_dir: str, quick: bool, numbers: dict | None = None) -> str:
    """Random walk vs gradient-guided proposals on N(0, Sigma), Sigma = [[1, 0.95], [0.95, 1]]."""
    cov = np.array([[1.0, 0.95], [0.95, 1.0]])
    precision = np.linalg.inv(cov)

    def log_prob(x):  # works on NumPy arrays (MH) and on autograd_lite Tensors (MALA, HMC)
        return -0.5 * ((x @ precision) * x).sum(axis=1)

    n_steps = 200 if quick else 1500
    x0 = np.array([-2.5, 2.5])
    runs = {
        "random-walk MH (step 0.25)": metropolis_hastings(log_prob, x0, n_steps, 0.25, n_chains=4, rng=20),
        "MALA (step 0.25)": mala(log_prob, x0, n_steps, 0.25, n_chains=4, rng=21),
        "HMC (step 0.15, 10 leapfrog steps)": hmc(log_prob, x0, n_steps, 0.15, 10, n_chains=4, rng=22),
    }
    t = np.linspace(0, 2 * np.pi, 200)
    ellipse = np.linalg.cholesky(cov) @ np.stack([np.cos(t), np.sin(t)])
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    for col, (name, result) in enumerate(runs.items()):
        chain = result.chains[0]
        ax = axes[0, col]
        for r in (1, 2, 3):
            ax.plot(r * ellipse[0], r * ellipse[1], color="grey", lw=0.6)
        ax.plot(chain[:150, 0], chain[:150, 1], ".-", lw=0.6, ms=3, color="tab:blue")
        ax.plot(*x0, "r*", ms=10)
        ess = effective_sample_size(result.chains[:, n_steps // 5:])
        if numbers is not None:
            numbers |= {f"{name}: acceptance": float(result.acceptance_rate.mean()),
                        f"{name}: smallest ESS of {4 * (n_steps - n_steps // 5)}": float(ess.min())}
        ax.set(title=f"{name}\nacceptance {result.acceptance_rate.mean():.2f}, ESS {ess.min():.0f} "
               f"of {4 * (n_steps - n_steps // 5)}", xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal")
        axes[1, col].plot(chain[:, 0], lw=0.6)
        axes[1, col].set(title="trace of x_1 (first chain)", xlabel="step")
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec2_gradient_mcmc.png", quick)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return [
        figure_discrete(out_dir, quick),
        figure_continuous(out_dir, quick),
        figure_numerical_inverse(out_dir, quick),
        figure_rejection(out_dir, quick),
        figure_metropolis_hastings(out_dir, quick),
        figure_gradient_mcmc(out_dir, quick),
    ]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
