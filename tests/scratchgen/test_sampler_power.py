"""Goodness-of-fit tests with power: every sampler on small tables and simple targets, with enough draws that a
bias of order 1/n (a category never drawn, a wrong acceptance ratio, a shifted kernel) fails.

Each test is seeded (it never flakes) and uses a threshold p > 1e-4; a planted off-by-one, a flipped sign or a
dropped term gives p-values far below that (some are shown against hand-made broken samplers).
"""
import numpy as np
import pytest
from scipy import stats

import autograd_lite as al
from scratchgen import distributions, sampling
from scratchgen.density import CategoricalMixture, GaussianMixture, KernelDensity

P_MIN = 1e-4
SMALL_TABLES = [[0.2, 0.5, 0.3], [0.5, 0.5], [1.0], [0.0, 0.3, 0.0, 0.7], [0.1] * 10, [0.999, 0.001],
                [0.05, 0.05, 0.9]]


def chi_square_p(counts: np.ndarray, probs: np.ndarray) -> float:
    """Pearson's test of the counts against the probabilities; categories of probability 0 must be empty."""
    probs = np.asarray(probs, dtype=float)
    assert np.all(counts[probs == 0] == 0), "a category of probability 0 was drawn"
    support = probs > 0
    if support.sum() == 1:
        return 1.0
    return stats.chisquare(counts[support], counts.sum() * probs[support]).pvalue


@pytest.mark.parametrize("probs", SMALL_TABLES, ids=str)
@pytest.mark.parametrize("sampler", ["sample_discrete", "alias_table"])
def test_discrete_samplers_draw_every_category_at_its_rate(sampler, probs):
    rng = np.random.default_rng(123)
    n = 200_000
    draw = (sampling.sample_discrete(probs, n, rng) if sampler == "sample_discrete"
            else sampling.AliasTable(probs).sample(n, rng))
    counts = np.bincount(draw, minlength=len(probs))
    assert len(counts) == len(probs) and draw.min() >= 0
    assert chi_square_p(counts, probs) > P_MIN


def test_the_chi_square_check_sees_a_sampler_that_never_draws_the_last_category():
    """The issue's planted bug (the last category of [0.2, 0.5, 0.3] never drawn, its mass going to the one
    before) is caught at once on this small table."""
    probs = np.array([0.2, 0.5, 0.3])
    biased = np.minimum(sampling.sample_discrete(probs, 200_000, np.random.default_rng(0)), 1)
    assert stats.chisquare(np.bincount(biased, minlength=3) + [0, 0, 0], 200_000 * probs).pvalue < P_MIN


def ks_p(samples: np.ndarray, cdf) -> float:
    return stats.kstest(np.ravel(samples), cdf).pvalue


def test_inverse_transform_draws_the_exponential():
    x = sampling.inverse_transform(lambda u: -np.log1p(-u) / 2.0, 20_000, rng=1)
    assert ks_p(x, stats.expon(scale=0.5).cdf) > P_MIN


@pytest.mark.parametrize("name, pdf, reference", [
    ("normal", lambda x: np.exp(-x**2 / 2), stats.norm()),
    ("gamma(3)", lambda x: np.where(x > 0, x**2 * np.exp(-np.abs(x)), 0.0), stats.gamma(3)),
    ("laplace", lambda x: np.exp(-np.abs(x - 1)), stats.laplace(loc=1)),
])
def test_numerical_inverse_cdf_samples_its_density(name, pdf, reference):
    sampler = sampling.NumericalInverseCDF(pdf, u_resolution=1e-10)
    assert ks_p(sampler.sample(20_000, rng=2), reference.cdf) > P_MIN
    u = np.linspace(0.001, 0.999, 101)
    np.testing.assert_allclose(sampler.cdf(sampler.ppf(u)), u, atol=1e-9)
    np.testing.assert_allclose(sampler.ppf(u), reference.ppf(u), rtol=1e-6, atol=1e-6)


def test_rejection_sampling_draws_the_target_not_the_proposal():
    """Target N(1, 0.5^2) from the proposal N(0, 2^2): M q >= p~ with M = max p~ / q."""
    proposal = distributions.Normal(0.0, 2.0)

    def log_target(x):
        return -0.5 * ((x - 1.0) / 0.5) ** 2

    grid = np.linspace(-10, 10, 20001)
    log_M = np.max(log_target(grid) - proposal.log_prob(grid)) + 1e-6
    x, rate = sampling.rejection_sample(log_target, proposal, log_M, 20_000, rng=3)
    assert ks_p(x, stats.norm(1.0, 0.5).cdf) > P_MIN
    expected_rate = 0.5 * np.sqrt(2 * np.pi) / np.exp(log_M)   # integral of p~ over M
    assert abs(rate - expected_rate) < 0.02


@pytest.mark.parametrize("sampler", ["metropolis_hastings", "mala", "hmc"])
def test_mcmc_leaves_its_target_invariant(sampler):
    """Start 4000 independent chains exactly at the target N(mu, diag(sd^2)) and take a few steps: a correct
    kernel keeps every step's states distributed as the target. A wrong acceptance ratio (a dropped proposal
    correction in MALA, a sign in HMC's energy) drifts the marginals, which the KS test on 4000 states sees."""
    mu, sd = np.array([1.0, -2.0]), np.array([0.5, 2.0])
    rng = np.random.default_rng(4)
    x0 = mu + sd * rng.standard_normal((4000, 2))

    def numpy_log_prob(x):
        return -0.5 * np.sum(((x - mu) / sd) ** 2, axis=-1)

    def tensor_log_prob(x):
        return -0.5 * (((x - al.Tensor(mu)) * al.Tensor(1 / sd)) ** 2).sum(axis=-1)

    if sampler == "metropolis_hastings":
        result = sampling.metropolis_hastings(numpy_log_prob, x0, 6, step_size=1.2 * sd, n_chains=4000, rng=5)
    elif sampler == "mala":
        result = sampling.mala(tensor_log_prob, x0, 6, step_size=0.6 * sd, n_chains=4000, rng=5)
    else:
        result = sampling.hmc(tensor_log_prob, x0, 3, step_size=0.3 * sd, n_leapfrog=5, n_chains=4000, rng=5)
    assert 0.2 < result.acceptance_rate.mean() < 1.0                      # it moved
    assert not np.allclose(result.chains[:, -1], x0)
    for j in range(2):
        assert ks_p(result.chains[:, -1, j], stats.norm(mu[j], sd[j]).cdf) > P_MIN


def test_the_invariance_check_sees_a_random_walk_without_the_metropolis_correction():
    """Always accepting a random-walk step inflates the variance: the same KS check fails."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(4000)
    for _ in range(6):
        x = x + 1.2 * rng.standard_normal(4000)
    assert ks_p(x, stats.norm().cdf) < P_MIN


def test_normal_and_multivariate_normal_sample_their_distributions():
    normal = distributions.Normal(2.0, 3.0)
    assert ks_p(normal.sample(20_000, rng=6), stats.norm(2, 3).cdf) > P_MIN
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    mvn = distributions.MultivariateNormal(np.array([1.0, -1.0]), cov)
    x = mvn.sample(20_000, rng=7)
    for direction in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, -1.0]) / np.sqrt(2)):
        projected = x @ direction
        reference = stats.norm(direction @ mvn.mean, np.sqrt(direction @ cov @ direction))
        assert ks_p(projected, reference.cdf) > P_MIN


def test_gmm_sample_draws_components_by_weight_and_each_from_its_gaussian():
    rng = np.random.default_rng(8)
    X = np.r_[rng.normal(-3, 0.5, 300), rng.normal(2, 1.5, 700)]
    gmm = GaussianMixture(2, seed=0).fit(X)
    x, k = gmm.sample(30_000, rng=9, return_components=True)
    assert chi_square_p(np.bincount(k, minlength=2), gmm.weights_) > P_MIN
    for c in range(2):
        reference = stats.norm(gmm.means_[c, 0], np.sqrt(gmm.covariances_[c, 0, 0]))
        assert ks_p(x[k == c, 0], reference.cdf) > P_MIN


@pytest.mark.parametrize("kernel", ["gaussian", "tophat", "epanechnikov"])
def test_kde_sample_draws_the_estimate(kernel):
    """In 1-D the KDE's CDF is a mixture of the kernel's CDFs at the samples (checked numerically against
    the density): the draws must follow it."""
    rng = np.random.default_rng(10)
    data = np.r_[rng.normal(0, 1, 40), rng.normal(4, 0.3, 20)]
    kde = KernelDensity(bandwidth=0.4, kernel=kernel).fit(data)
    grid = np.linspace(data.min() - 6, data.max() + 6, 200_001)
    density = kde.pdf(grid)
    cdf_values = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    assert abs(cdf_values[-1] - 1) < 1e-4
    draws = kde.sample(20_000, rng=11)
    assert ks_p(draws, lambda x: np.interp(x, grid, cdf_values)) > P_MIN


def test_bounded_kde_sample_follows_the_reflected_estimate():
    rng = np.random.default_rng(12)
    data = rng.exponential(1.0, 80)
    kde = KernelDensity(bandwidth=0.3, bounds=(0.0, np.inf)).fit(data)
    draws = kde.sample(20_000, rng=13)
    assert draws.min() >= 0
    grid = np.linspace(0, data.max() + 5, 200_001)
    density = kde.pdf(grid)
    cdf_values = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    assert ks_p(draws, lambda x: np.interp(x, grid, cdf_values)) > P_MIN


def test_categorical_mixture_sample_draws_each_feature_at_its_marginal_rate():
    rng = np.random.default_rng(14)
    X = np.r_[rng.choice(4, size=(300, 3), p=[0.7, 0.1, 0.1, 0.1]),
              rng.choice(4, size=(300, 3), p=[0.1, 0.1, 0.1, 0.7])]
    model = CategoricalMixture(2, seed=0).fit(X.astype(float))
    draws = model.sample(40_000, rng=15).astype(int)
    for d in range(3):
        marginal = model.weights_ @ model.probabilities_[:, d, :]
        assert chi_square_p(np.bincount(draws[:, d], minlength=4), marginal) > P_MIN
    # and the features stay dependent through the component, as the mixture says: P(x0 = 0, x1 = 0)
    joint = np.sum(model.weights_ * model.probabilities_[:, 0, 0] * model.probabilities_[:, 1, 0])
    observed = np.mean((draws[:, 0] == 0) & (draws[:, 1] == 0))
    assert abs(observed - joint) < 4 * np.sqrt(joint * (1 - joint) / len(draws))
