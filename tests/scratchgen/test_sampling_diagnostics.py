"""MCMC diagnostics: autocorrelation by FFT, tau with Sokal's window, ESS, rank-normalised split R-hat."""
import warnings

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from scratchgen.sampling import autocorrelation_function, autocorrelation_time, effective_sample_size, split_rhat


def ar1(a, n_chains, n_steps, rng):
    """x_t = a x_{t-1} + e_t, started in its stationary law N(0, 1 / (1 - a^2)); tau = (1 + a) / (1 - a)."""
    noise = rng.standard_normal((n_chains, n_steps))
    x = np.empty((n_chains, n_steps))
    x[:, 0] = noise[:, 0] / np.sqrt(1 - a * a)
    for t in range(1, n_steps):
        x[:, t] = a * x[:, t - 1] + noise[:, t]
    return x


def test_ar1_with_a_09_has_tau_19():
    x = ar1(0.9, 4, 50_000, np.random.default_rng(0))
    assert abs(autocorrelation_time(x) - 19.0) < 0.2 * 19.0
    assert abs(autocorrelation_time(x[0]) - 19.0) < 0.2 * 19.0   # one chain, 1-D input


def test_ar1_autocorrelation_is_geometric():
    x = ar1(0.5, 8, 20_000, np.random.default_rng(1))
    rho = autocorrelation_function(x)
    np.testing.assert_allclose(rho[:6], 0.5 ** np.arange(6), atol=0.02)


@settings(deadline=None)
@given(n=hs.integers(10, 300), seed=hs.integers(0, 2**32 - 1))
def test_fft_autocorrelation_matches_the_direct_sum(n, seed):
    x = np.random.default_rng(seed).normal(size=(2, n)).cumsum(axis=1)
    centred = x - x.mean(axis=1, keepdims=True)
    direct = np.array([[np.dot(c[: n - t], c[t:]) for t in range(n)] for c in centred])
    expected = (direct / direct[:, :1]).mean(axis=0)
    np.testing.assert_allclose(autocorrelation_function(x), expected, atol=1e-10)


def test_iid_draws_have_ess_about_n():
    x = np.random.default_rng(2).standard_normal((4, 5000))
    assert abs(effective_sample_size(x) - x.size) < 0.2 * x.size
    # per dimension with a d axis: one independent, one strongly correlated
    both = np.stack([x, ar1(0.9, 4, 5000, np.random.default_rng(3))], axis=2)
    ess = effective_sample_size(both)
    assert ess.shape == (2,) and ess[0] > 0.8 * x.size and ess[1] < 0.1 * x.size


def test_anti_correlated_chains_get_a_capped_ess():
    x = ar1(-0.9, 2, 2000, np.random.default_rng(4))      # tau = 0.1 / 1.9 ~ 0.05
    ess = effective_sample_size(x)
    assert x.size < ess <= x.size * np.log10(x.size) + 1e-6


# ---- split R-hat --------------------------------------------------------------------------------------
def reference_rank_rhat(chains):
    """Vehtari et al. (2021) rank-normalised split R-hat, written independently with SciPy's ranks."""
    half = chains.shape[1] // 2
    split = np.concatenate([chains[:, :half], chains[:, -half:]])

    def rhat(z):
        n = z.shape[1]
        w = z.var(axis=1, ddof=1).mean()
        b = n * z.mean(axis=1).var(ddof=1)
        return np.sqrt(((n - 1) / n * w + b / n) / w)

    def normalise(z):
        r = st.rankdata(z, method="average").reshape(z.shape)
        return sp.ndtri((r - 0.375) / (z.size + 0.25))

    return max(rhat(normalise(split)), rhat(normalise(np.abs(split - np.median(split)))))


@settings(deadline=None)
@given(seed=hs.integers(0, 2**32 - 1), shift=hs.floats(0.0, 1.0), n_chains=hs.integers(2, 5),
       ties=hs.booleans())
def test_split_rhat_matches_an_independent_implementation(seed, shift, n_chains, ties):
    x = np.random.default_rng(seed).normal(size=(n_chains, 201)) + shift * np.arange(n_chains)[:, None]
    if ties:
        x = np.round(x, 1)                                  # many ties: ranks must be averaged
    assert np.isclose(split_rhat(x), reference_rank_rhat(x), rtol=1e-12)


def test_split_rhat_tells_mixed_from_unmixed_chains():
    rng = np.random.default_rng(5)
    assert split_rhat(rng.standard_normal((4, 1000))) < 1.01
    assert split_rhat(rng.standard_normal((4, 1000)) + np.array([[0], [0], [0], [1.0]])) > 1.05
    trending = rng.standard_normal((4, 1000)) + np.linspace(0, 2, 1000)   # within-chain drift: split catches it
    assert split_rhat(trending) > 1.05
    wider = rng.standard_normal((4, 1000)) * np.array([[1], [1], [1], [3.0]])  # same centre, other scale
    assert split_rhat(wider) > 1.05                                              # the folded R-hat sees it


def test_diagnostics_bad_input():
    with pytest.raises(ValueError, match="finite"):
        autocorrelation_time(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        effective_sample_size(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="at least 4"):
        split_rhat(np.zeros((3, 3)))


# ---- chains that never moved: a broken sampler must not look like a perfect one -----------------------
def test_a_constant_single_chain_is_nan_with_a_warning():
    x = np.full(1000, 0.1)                 # 0.1 is inexact: its mean's rounding must not pass for motion
    for diagnostic in (autocorrelation_time, effective_sample_size, split_rhat):
        with pytest.warns(RuntimeWarning, match="the chain never moved"):
            assert np.isnan(diagnostic(x))
    with pytest.warns(RuntimeWarning, match="the chain never moved"):
        np.testing.assert_array_equal(autocorrelation_function(x), 1.0)   # perfectly correlated


def test_all_constant_chains_are_nan_per_dimension():
    rng = np.random.default_rng(6)
    stuck = np.broadcast_to(rng.normal(size=(4, 1, 1)), (4, 500, 1))     # each chain at its own start value
    moving = ar1(0.5, 4, 500, rng)[..., None]
    x = np.concatenate([stuck, moving], axis=2)                          # dimension 0 stuck, 1 fine
    for diagnostic in (autocorrelation_time, effective_sample_size, split_rhat):
        with pytest.warns(RuntimeWarning, match=r"never moved: every chain is constant in dimension\(s\) \[0\]"):
            value = diagnostic(x)
        assert np.isnan(value[0]) and np.isfinite(value[1])
        with pytest.warns(RuntimeWarning, match="never moved"):
            assert np.isnan(diagnostic(stuck[:, :, 0]))


@pytest.mark.parametrize("stuck_at", [0.0, 0.3, 0.77, 1.15, 3.5, 2000.0])
def test_one_stuck_chain_among_moving_ones_lowers_the_ess_and_fails_rhat(stuck_at):
    # 0 and 2000 are exact means (their acov is exactly 0); 0.77 sits at the folded median of N(0, 4/3),
    # where the ranked R-hat alone gives only ~1.05
    moving = ar1(0.5, 4, 2000, np.random.default_rng(7))
    x = np.vstack([moving, np.full((1, 2000), stuck_at)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ess_moving = effective_sample_size(moving)                        # no warning for healthy chains
        assert split_rhat(moving) < 1.01
    for diagnostic in (effective_sample_size, autocorrelation_time, split_rhat):
        with pytest.warns(RuntimeWarning, match=r"never moved: chain\(s\) \[4\] stay constant"):
            value = diagnostic(x)
        if diagnostic is effective_sample_size:
            assert value < ess_moving and value < 0.1 * x.size
        elif diagnostic is autocorrelation_time:
            assert value > 5 * autocorrelation_time(moving)
        else:
            assert value > 1.1
