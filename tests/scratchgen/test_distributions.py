"""scratchgen.distributions against SciPy (and mpmath where it is installed): values, tails, sampling."""
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from scratchgen.distributions import MultivariateNormal, Normal, erfc, log_ndtr, ndtr, ndtri

P_MIN = 1e-4  # per goodness-of-fit test; ~10 such tests in this file keep the family-wise rate ~1e-3


def max_rel_error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


# ---- special functions -------------------------------------------------------------------------------
def test_erfc_matches_scipy_over_its_whole_range():
    x = np.linspace(-30.0, 26.5, 100_001)
    # SciPy's own erfc is off by up to ~6e-14 relative in the far tail (it squares x directly).
    assert max_rel_error(erfc(x), sp.erfc(x)) < 1e-13


def test_erfc_to_double_precision_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = np.concatenate([np.linspace(-5.0, 26.0, 400), [0.0, 0.46875, 0.47, 4.0, 4.0001]])
    exact = np.array([float(mpmath.erfc(mpmath.mpf(float(v)))) for v in x])
    assert max_rel_error(erfc(x), exact) < 2e-15


def test_erfc_limits_and_symmetry():
    assert erfc(np.array([-np.inf, 0.0, np.inf])).tolist() == [2.0, 1.0, 0.0]
    x = np.linspace(0, 6, 101)
    np.testing.assert_allclose(erfc(-x) + erfc(x), 2.0, rtol=0, atol=4e-16)


def test_ndtr_and_log_ndtr_match_scipy_far_tails_included():
    x = np.linspace(-37.5, 8.0, 50_001)
    assert max_rel_error(ndtr(x), sp.ndtr(x)) < 1e-13
    x = np.concatenate([np.linspace(-1e3, 30.0, 50_001), [-1e6]])
    assert max_rel_error(log_ndtr(x), sp.log_ndtr(x)) < 1e-13


def test_ndtri_matches_scipy_far_tails_included():
    u = np.concatenate([np.logspace(-300, np.log10(0.5), 20_000), 1.0 - np.logspace(-16, np.log10(0.5), 5_000)])
    assert max_rel_error(ndtri(u), sp.ndtri(u)) < 4e-15
    assert ndtri(np.array([0.0, 0.5, 1.0])).tolist() == [-np.inf, 0.0, np.inf]


@pytest.mark.parametrize("bad", [-1e-3, 1.0 + 1e-12, np.nan])
def test_ndtri_rejects_values_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ndtri(np.array([0.3, bad]))


@given(hs.floats(-37.0, 5.0))
def test_ppf_inverts_cdf(x):
    assert abs(ndtri(ndtr(x)) - x) <= 1e-9 * (1.0 + abs(x))


@given(hs.floats(1e-300, 0.5))
def test_cdf_inverts_ppf(u):
    x = ndtri(u)
    # x carries ~eps relative error and d log Phi / dx ~ |x|: the round trip is good to ~eps x^2.
    assert abs(ndtr(x) - u) <= 1e-15 * (1.0 + x * x) * u


# ---- Normal --------------------------------------------------------------------------------------
@given(mu=hs.floats(-100, 100), sigma=hs.floats(1e-3, 1e3),
       z=hs.lists(hs.floats(-30, 30), min_size=1, max_size=20))
def test_normal_matches_scipy(mu, sigma, z):
    x = mu + sigma * np.array(z)
    d, ref = Normal(mu, sigma), st.norm(mu, sigma)
    np.testing.assert_allclose(d.log_prob(x), ref.logpdf(x), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(d.pdf(x), ref.pdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(d.cdf(x), ref.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(d.log_cdf(x), ref.logcdf(x), rtol=1e-12, atol=1e-300)


@given(mu=hs.floats(-100, 100), sigma=hs.floats(1e-3, 1e3), u=hs.floats(1e-200, 1 - 1e-12))
def test_normal_ppf_matches_scipy(mu, sigma, u):
    np.testing.assert_allclose(Normal(mu, sigma).ppf(u), st.norm(mu, sigma).ppf(u), rtol=1e-13, atol=1e-13 * sigma)


def test_normal_sample_passes_ks_and_is_reproducible():
    d = Normal(2.0, 3.0)
    x = d.sample(20_000, rng=np.random.default_rng(0))
    assert x.shape == (20_000,) and x.dtype == np.float64
    assert st.kstest(x, st.norm(2.0, 3.0).cdf).pvalue > P_MIN
    np.testing.assert_array_equal(d.sample((3, 4), rng=7), d.sample((3, 4), rng=7))
    assert d.sample((3, 4), rng=7).shape == (3, 4)


@pytest.mark.parametrize("kwargs, match", [
    ({"sigma": 0.0}, "sigma"), ({"sigma": -1.0}, "sigma"), ({"mu": np.nan}, "mu"), ({"sigma": np.inf}, "sigma"),
])
def test_normal_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Normal(**kwargs)


def test_normal_rejects_nan_input_and_bad_rng():
    with pytest.raises(ValueError, match="NaN"):
        Normal().log_prob([0.0, np.nan])
    with pytest.raises(TypeError, match="rng"):
        Normal().sample(3, rng="seed")
    with pytest.raises(ValueError, match="size"):
        Normal().sample(-1)


def test_normal_infinite_input_has_the_right_limits():
    d = Normal()
    assert d.log_prob(np.inf) == -np.inf
    assert d.cdf(np.array([-np.inf, np.inf])).tolist() == [0.0, 1.0]


# ---- MultivariateNormal ------------------------------------------------------------------------------
@hs.composite
def gaussians(draw):
    d = draw(hs.integers(1, 5))
    seed = draw(hs.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    cov = a @ a.T + draw(hs.floats(0.05, 2.0)) * np.eye(d)
    return rng.normal(size=d) * 3, cov, rng.normal(size=(7, d)) * 2


@settings(deadline=None)
@given(gaussians())
def test_multivariate_normal_matches_scipy(params):
    mean, cov, x = params
    d = MultivariateNormal(mean, cov)
    np.testing.assert_allclose(d.log_prob(x), st.multivariate_normal(mean, cov).logpdf(x), rtol=1e-10, atol=1e-10)
    assert np.isclose(d.log_det_cov, np.linalg.slogdet(cov)[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.cholesky @ d.cholesky.T, cov, rtol=1e-12, atol=1e-12)


def test_multivariate_normal_samples_have_chi_square_distances():
    cov = np.array([[2.0, 0.9, 0.0], [0.9, 1.0, -0.3], [0.0, -0.3, 0.5]])
    d = MultivariateNormal([1.0, -2.0, 0.5], cov)
    x = d.sample(20_000, rng=np.random.default_rng(1))
    assert x.shape == (20_000, 3)
    # (x - mu)^T Sigma^-1 (x - mu) ~ chi^2_3 exactly when x ~ N(mu, Sigma)
    assert st.kstest(d.mahalanobis_sq(x), st.chi2(3).cdf).pvalue > P_MIN
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)


@pytest.mark.parametrize("mean, cov, match", [
    ([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], "positive definite"),
    ([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]], "symmetric"),
    ([0.0, 0.0], np.eye(3), r"shape \(d, d\)"),
    ([[0.0]], [[1.0]], "1-D"),
    ([0.0, np.nan], np.eye(2), "finite"),
])
def test_multivariate_normal_rejects_bad_parameters(mean, cov, match):
    with pytest.raises(ValueError, match=match):
        MultivariateNormal(mean, cov)


def test_multivariate_normal_rejects_wrong_input_dimension():
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        MultivariateNormal([0.0, 0.0], np.eye(2)).log_prob(np.zeros((4, 3)))
