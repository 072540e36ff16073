"""Continuous inverse transform: analytic F^-1, and F^-1 built numerically from a pdf (the u-error contract)."""
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from scratchgen.distributions import Normal
from scratchgen.sampling import NumericalInverseCDF, inverse_transform

P_MIN = 1e-4  # per goodness-of-fit test (a handful in this file)


def standard_normal_pdf(x):
    return np.exp(-0.5 * x * x)                     # unnormalised on purpose


def true_u_error(sampler, cdf, n=200_000, seed=0):
    """max |F(F^-1(u)) - u| with the exact F, on random u plus both far tails."""
    u = np.concatenate([np.random.default_rng(seed).random(n), np.logspace(-14, -1, 500),
                        1.0 - np.logspace(-14, -1, 500)])
    return np.max(np.abs(cdf(sampler.ppf(u)) - u))


# ---- analytic inverse transform -------------------------------------------------------------------
def test_inverse_transform_of_the_normal_ppf_is_normal():
    x = inverse_transform(Normal(1.0, 2.0).ppf, 20_000, rng=np.random.default_rng(0))
    assert x.shape == (20_000,)
    assert st.kstest(x, st.norm(1.0, 2.0).cdf).pvalue > P_MIN


def test_inverse_transform_exponential_and_seeds():
    ppf = lambda u: -np.log1p(-u)                   # noqa: E731  F^-1 of Exp(1)
    x = inverse_transform(ppf, 20_000, rng=3)
    assert st.kstest(x, st.expon().cdf).pvalue > P_MIN
    np.testing.assert_array_equal(x, inverse_transform(ppf, 20_000, rng=3))


def test_inverse_transform_bad_ppf():
    with pytest.raises(TypeError, match="ppf"):
        inverse_transform(0.5, 10)
    with pytest.raises(ValueError, match="NaN"):
        inverse_transform(lambda u: np.where(u > 0.5, np.nan, u), 100, rng=0)
    with pytest.raises(ValueError, match="one value per u"):
        inverse_transform(lambda u: u[:3], 10, rng=0)


# ---- NumericalInverseCDF on the normal ---------------------------------------------------------------
@pytest.fixture(scope="module")
def normal_inverse():
    return NumericalInverseCDF(standard_normal_pdf)


def test_normal_u_error_meets_the_resolution(normal_inverse):
    assert normal_inverse.u_error() <= 1e-10
    assert true_u_error(normal_inverse, sp.ndtr) <= 1e-10
    assert np.isclose(normal_inverse.total_mass, np.sqrt(2 * np.pi), rtol=1e-12)


def test_normal_cdf_and_ppf_match_scipy(normal_inverse):
    x = np.linspace(-8, 8, 1001)
    np.testing.assert_allclose(normal_inverse.cdf(x), sp.ndtr(x), rtol=0, atol=1e-12)
    u = np.linspace(1e-6, 1 - 1e-6, 1001)
    # an x-error is a u-error divided by the density
    x_error = np.abs(normal_inverse.ppf(u) - sp.ndtri(u))
    assert np.all(x_error <= 1e-10 / st.norm.pdf(sp.ndtri(u)))
    assert np.all(np.diff(normal_inverse.ppf(np.sort(np.random.default_rng(0).random(10_000)))) >= 0)


def test_normal_samples_pass_ks(normal_inverse):
    x = normal_inverse.sample(50_000, rng=np.random.default_rng(2))
    assert st.kstest(x, st.norm().cdf).pvalue > P_MIN
    assert normal_inverse.sample((2, 3), rng=0).shape == (2, 3)


def test_agrees_with_scipy_numerical_inverse_polynomial(normal_inverse):
    from scipy.stats.sampling import NumericalInversePolynomial

    class Dist:
        def pdf(self, x):
            return standard_normal_pdf(x)

    reference = NumericalInversePolynomial(Dist(), u_resolution=1e-10)
    u = np.linspace(1e-6, 1 - 1e-6, 2001)
    # both have u-error <= 1e-10, so their x's differ by at most 2e-10 / pdf
    x_gap = np.abs(normal_inverse.ppf(u) - reference.ppf(u))
    assert np.all(x_gap <= 2e-10 / st.norm.pdf(sp.ndtri(u)))


# ---- the u-error contract on other shapes ------------------------------------------------------------
FAMILIES = {
    # name: (pdf builder(a), support, exact cdf(a))
    "normal": (lambda a: (lambda x: 7.0 * np.exp(-0.5 * ((x - a) / (0.1 + a * a)) ** 2)), (-np.inf, np.inf),
               lambda a: st.norm(a, 0.1 + a * a).cdf),
    "gamma": (lambda a: (lambda x: x ** (1 + a) * np.exp(-x)), (0.0, np.inf), lambda a: st.gamma(2 + a).cdf),
    "cauchy": (lambda a: (lambda x: 1.0 / (1.0 + (x / (0.5 + a)) ** 2)), (-np.inf, np.inf),
               lambda a: st.cauchy(0, 0.5 + a).cdf),
    "mixture": (lambda a: (lambda x: np.exp(-0.5 * (x + 2) ** 2) + a * np.exp(-0.5 * ((x - 3) / 0.3) ** 2) / 0.3),
                (-np.inf, np.inf), lambda a: (lambda x: (st.norm(-2).cdf(x) + a * st.norm(3, 0.3).cdf(x)) / (1 + a))),
    "beta": (lambda a: (lambda x: x ** (0.5 + a) * (1 - x) ** 2), (0.0, 1.0), lambda a: st.beta(1.5 + a, 3).cdf),
    "laplace": (lambda a: (lambda x: np.exp(-np.abs(x - a))), (-np.inf, np.inf), lambda a: st.laplace(a).cdf),
}


@settings(deadline=None)
@given(family=hs.sampled_from(sorted(FAMILIES)), a=hs.floats(0.0, 2.0),
       u_resolution=hs.sampled_from([1e-8, 1e-10, 1e-12]))
def test_u_error_stays_below_the_resolution(family, a, u_resolution):
    make_pdf, support, make_cdf = FAMILIES[family]
    sampler = NumericalInverseCDF(make_pdf(a), support, u_resolution=u_resolution)
    assert sampler.u_error() <= u_resolution
    # the exact CDF agrees (up to SciPy's own accuracy and our quadrature's ~1e-13)
    assert true_u_error(sampler, make_cdf(a), n=2000) <= u_resolution + 1e-13


def test_pole_at_a_finite_end_is_handled():
    # Beta(1/2, 1): pdf ~ x^-1/2, infinite at 0; F^-1(u) = u^2 is smooth, and the slopes 1/p = 0 there.
    sampler = NumericalInverseCDF(lambda x: 1.0 / np.sqrt(x), (0.0, 1.0))
    assert sampler.u_error() <= 1e-10
    u = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(sampler.ppf(u), u * u, rtol=0, atol=1e-9)


def test_pdf_undefined_exactly_at_a_finite_end():
    # the log-normal formula is 0 / 0 = NaN at x = 0; the support end is probed one float inside
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(np.exp(-0.5 * np.log(0.0) ** 2) / 0.0)
    sampler = NumericalInverseCDF(lambda x: np.exp(-0.5 * np.log(x) ** 2) / x, (0.0, np.inf))
    assert true_u_error(sampler, st.lognorm(1.0).cdf, n=2000) <= 1e-10


def test_scale_is_found_without_help():
    narrow = NumericalInverseCDF(lambda x: np.exp(-0.5 * (x / 1e-6) ** 2))
    wide = NumericalInverseCDF(lambda x: np.exp(-0.5 * (x / 1e6) ** 2))
    for sampler, scale in ((narrow, 1e-6), (wide, 1e6)):
        assert true_u_error(sampler, st.norm(0, scale).cdf, n=2000) <= 1e-10


def test_center_helps_when_the_mass_is_far_from_zero():
    pdf = lambda x: np.exp(-0.5 * (x - 1e4) ** 2)  # noqa: E731
    with pytest.raises(ValueError, match="center"):
        NumericalInverseCDF(pdf)
    sampler = NumericalInverseCDF(pdf, center=1e4)
    assert true_u_error(sampler, st.norm(1e4).cdf, n=2000) <= 1e-10


# ---- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("pdf, support, match", [
    (lambda x: np.sin(x), (-np.inf, np.inf), "negative"),
    (lambda x: np.zeros_like(x), (-np.inf, np.inf), "zero"),
    (lambda x: np.zeros_like(x), (0.0, 1.0), "zero"),
    (lambda x: np.where(x > 0.5, np.nan, 1.0), (0.0, 1.0), "NaN"),
    (lambda x: np.ones_like(x), (-np.inf, np.inf), "decay"),
    (lambda x: np.ones(3), (0.0, 1.0), "one value per x"),
    (standard_normal_pdf, (1.0, 0.0), "support"),
    (standard_normal_pdf, (0.0, np.nan), "support"),
])
def test_bad_pdfs_are_reported_clearly(pdf, support, match):
    with pytest.raises(ValueError, match=match):
        NumericalInverseCDF(pdf, support)


def test_bad_arguments(normal_inverse):
    with pytest.raises(TypeError, match="pdf"):
        NumericalInverseCDF("normal")
    with pytest.raises(ValueError, match="u_resolution"):
        NumericalInverseCDF(standard_normal_pdf, u_resolution=0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        normal_inverse.ppf([0.2, 1.5])
    with pytest.raises(ValueError, match="NaN"):
        normal_inverse.cdf([np.nan])


# ---- textbook pdfs that overflow far out, where the mass is negligible -------------------------------
def logistic_pdf(x):
    return np.exp(-x) / (1 + np.exp(-x)) ** 2         # inf / inf = NaN for x < -709


TEXTBOOK = {
    # name: (pdf, support, center, SciPy's distribution as the oracle)
    "logistic": (logistic_pdf, (-np.inf, np.inf), None, st.logistic()),
    "logistic, center given": (lambda x: logistic_pdf(x - 3.0), (-np.inf, np.inf), 3.0, st.logistic(3.0)),
    "gumbel": (lambda x: np.exp(-x) * np.exp(-np.exp(-x)), (-np.inf, np.inf), None, st.gumbel_r()),  # inf * 0
    "gumbel, one exp": (lambda x: np.exp(-(x + np.exp(-x))), (-np.inf, np.inf), 1.0, st.gumbel_r()),
    "gamma(2) on (0, inf)": (lambda x: x * np.exp(-x), (0.0, np.inf), None, st.gamma(2)),
    "gamma(2) by np.where": (lambda x: np.where(x > 0, x * np.exp(-x), 0.0), (-np.inf, np.inf), None, st.gamma(2)),
    "gamma(2.5), NaN below 0": (lambda x: x**1.5 * np.exp(-x), (-np.inf, np.inf), None, st.gamma(2.5)),
    "normal, NaN beyond 40": (lambda x: np.where(np.abs(x) < 40, np.exp(-0.5 * x * x), np.nan), (-np.inf, np.inf),
                              None, st.norm()),
    "cauchy": (lambda x: 1 / (np.pi * (1 + x * x)), (-np.inf, np.inf), None, st.cauchy()),
    "student t(3)": (lambda x: (1 + x * x / 3) ** -2, (-np.inf, np.inf), None, st.t(3)),
}


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_textbook_pdfs_that_overflow_far_out_match_scipy(name):
    pdf, support, center, reference = TEXTBOOK[name]
    sampler = NumericalInverseCDF(pdf, support, u_resolution=1e-10, center=center)
    # the documented contract, |F(F^-1(u)) - u| <= u_resolution, with SciPy's exact F
    assert true_u_error(sampler, reference.cdf, n=20_000) <= 1e-10 + 1e-13
    # in x that is a u-error over the density (twice, for the density's change across the gap)
    u = np.linspace(1e-6, 1 - 1e-6, 2001)
    x_ref = reference.ppf(u)
    assert np.all(np.abs(sampler.ppf(u) - x_ref) <= 2 * (1e-10 + 1e-13) / reference.pdf(x_ref) + 1e-12 * np.abs(x_ref))
    assert st.kstest(sampler.sample(20_000, rng=np.random.default_rng(7)), reference.cdf).pvalue > P_MIN


@pytest.mark.parametrize("pdf, center, match", [
    # x exp(-x) is negative for x < 0: not a density on the line
    (lambda x: x * np.exp(-x), None, "negative"),
    (lambda x: x * np.exp(-x), 1.5, "negative"),
    # NaN at x = -4, where the normal still has mass 3e-5
    (lambda x: np.where(np.abs(x) < 3, np.exp(-0.5 * x * x), np.nan), None, "NaN.*not yet negligible"),
    (lambda x: np.where(np.abs(x) < 3, np.exp(-0.5 * x * x), np.inf), 0.5, "infinite.*not yet negligible"),
])
def test_nan_inf_or_negative_where_the_mass_is_says_to_pass_support(pdf, center, match):
    with pytest.raises(ValueError, match=match) as error:
        NumericalInverseCDF(pdf, center=center)
    assert "support=" in str(error.value)
