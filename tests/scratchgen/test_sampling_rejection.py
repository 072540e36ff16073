"""Rejection sampling: correct distribution, acceptance ~ Z / M, and loud failure when the envelope breaks."""
import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from scratchgen.distributions import MultivariateNormal, Normal
from scratchgen.sampling import rejection_sample

P_MIN = 1e-4


def binomial_tolerance(rate, n_proposed, z=6.0):
    """How far an acceptance rate may stray from ``rate`` (z standard errors; z = 6 keeps it flake-free)."""
    return z * np.sqrt(rate * (1 - rate) / n_proposed)


def test_normal_from_a_wider_normal():
    target = Normal()
    # p / q = 2 exp(-3 x^2 / 8) <= 2 = M, tight at x = 0
    x, rate = rejection_sample(target.log_prob, Normal(0.0, 2.0), np.log(2.0), 20_000, rng=np.random.default_rng(0))
    assert x.shape == (20_000,)
    assert st.kstest(x, st.norm().cdf).pvalue > P_MIN
    assert abs(rate - 0.5) < binomial_tolerance(0.5, 40_000)


@settings(deadline=None)
@given(scale=hs.floats(1.1, 3.0), slack=hs.floats(0.0, 1.0), z=hs.floats(0.2, 5.0), seed=hs.integers(0, 2**32 - 1))
def test_acceptance_rate_is_Z_over_M(scale, slack, z, seed):
    # target p~ = Z N(0, 1); proposal N(0, scale); the tight log M is log(Z scale); add some slack
    log_target = lambda x: np.log(z) + Normal().log_prob(x)  # noqa: E731
    log_M = np.log(z * scale) + slack
    n = 3000
    _, rate = rejection_sample(log_target, Normal(0.0, scale), log_M, n, rng=seed)
    expected = z / np.exp(log_M)
    n_proposed = n / rate                     # what was actually proposed
    assert abs(rate - expected) < binomial_tolerance(expected, n_proposed)


def test_uniform_target_on_an_interval_from_a_normal():
    # p~(x) = 1 on [-1, 1] (Z = 2), q = N(0, 1): max p~ / q = sqrt(2 pi) e^{1/2} at |x| = 1
    log_target = lambda x: np.where(np.abs(x) <= 1, 0.0, -np.inf)  # noqa: E731
    log_M = 0.5 * np.log(2 * np.pi) + 0.5
    x, rate = rejection_sample(log_target, Normal(), log_M, 10_000, rng=1)
    assert np.all(np.abs(x) <= 1)
    assert st.kstest(x, st.uniform(-1, 2).cdf).pvalue > P_MIN
    assert abs(rate - 2 / np.exp(log_M)) < binomial_tolerance(2 / np.exp(log_M), 10_000 / rate)


def test_multivariate_target():
    cov = np.array([[1.0, 0.6], [0.6, 1.0]])
    target = MultivariateNormal([0.0, 0.0], cov)
    proposal = MultivariateNormal([0.0, 0.0], 4.0 * np.eye(2))
    # p / q <= max over x of the ratio, attained at x = 0: sqrt(det(4 I) / det(cov))
    log_M = 0.5 * (np.log(16.0) - np.log(np.linalg.det(cov)))
    x, rate = rejection_sample(target.log_prob, proposal, log_M, 20_000, rng=2)
    assert x.shape == (20_000, 2)
    assert st.kstest(target.mahalanobis_sq(x), st.chi2(2).cdf).pvalue > P_MIN
    assert abs(rate - np.exp(-log_M)) < binomial_tolerance(np.exp(-log_M), 20_000 / rate)


def test_same_seed_same_samples():
    a = rejection_sample(Normal().log_prob, Normal(0, 2), np.log(2.0), 500, rng=5)
    b = rejection_sample(Normal().log_prob, Normal(0, 2), np.log(2.0), 500, rng=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


# ---- bad input ---------------------------------------------------------------------------------------
def test_broken_envelope_raises_and_names_the_point():
    # q = N(0, 1/2) has lighter tails than the target: p / q is unbounded, any M fails far out
    with pytest.raises(ValueError, match=r"envelope fails.*x = .*increase log_M"):
        rejection_sample(Normal().log_prob, Normal(0.0, 0.5), np.log(2.0), 10_000, rng=0)
    # a too-small M fails right at the mode
    with pytest.raises(ValueError, match="envelope fails"):
        rejection_sample(Normal().log_prob, Normal(0.0, 2.0), np.log(1.5), 1000, rng=0)


@pytest.mark.parametrize("log_M", [np.nan, np.inf, -np.inf])
def test_log_M_must_be_finite(log_M):
    with pytest.raises(ValueError, match="log_M"):
        rejection_sample(Normal().log_prob, Normal(0, 2), log_M, 10)


def test_bad_targets_and_proposals():
    with pytest.raises(ValueError, match="log_target returned nan"):
        rejection_sample(lambda x: np.where(x > 1, np.nan, -x * x), Normal(0, 2), 1.0, 1000, rng=0)
    with pytest.raises(ValueError, match="one log-density per point"):
        rejection_sample(lambda x: np.zeros(3), Normal(0, 2), 1.0, 10, rng=0)
    with pytest.raises(TypeError, match="sample"):
        rejection_sample(Normal().log_prob, object(), 1.0, 10)
    with pytest.raises(TypeError, match="log_target"):
        rejection_sample(None, Normal(), 1.0, 10)


def test_hopeless_envelope_stops_with_a_clear_error():
    log_target = lambda x: np.where(np.abs(x - 30) < 1e-3, 0.0, -np.inf)  # noqa: E731  mass far out in q's tail
    with pytest.raises(RuntimeError, match="too loose"):
        rejection_sample(log_target, Normal(0.0, 1.0), 500.0, 10, rng=0, max_proposals=100_000)
