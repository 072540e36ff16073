"""MCMC: Metropolis-Hastings, the leapfrog integrator, MALA and HMC (gradients from autograd_lite)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from scratchgen.sampling import effective_sample_size, hmc, leapfrog, mala, metropolis_hastings


def gaussian_log_prob(x):
    return -0.5 * np.sum(x * x, axis=1)


def assert_moments(chains, mean, std, burn_in=100, z=6.0):
    """Mean within z Monte Carlo standard errors (from the ESS), std within 10%."""
    kept = chains[:, burn_in:]
    ess = effective_sample_size(kept)
    sample_mean = kept.mean(axis=(0, 1))
    assert np.all(np.abs(sample_mean - mean) < z * np.asarray(std) / np.sqrt(ess)), (sample_mean, ess)
    np.testing.assert_allclose(kept.std(axis=(0, 1)), std, rtol=0.1)


# ---- Metropolis-Hastings -----------------------------------------------------------------------------
def test_metropolis_hastings_recovers_the_standard_normal():
    result = metropolis_hastings(gaussian_log_prob, 3.0, 4000, step_size=2.4, n_chains=8,
                                 rng=np.random.default_rng(0))
    assert result.chains.shape == (8, 4000, 1)
    assert result.acceptance_rate.shape == (8,)
    assert np.all((result.acceptance_rate > 0.3) & (result.acceptance_rate < 0.6))
    assert_moments(result.chains, 0.0, 1.0)


def test_metropolis_hastings_on_a_correlated_gaussian():
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    precision = np.linalg.inv(cov)
    log_prob = lambda x: -0.5 * np.einsum("ni,ij,nj->n", x, precision, x)  # noqa: E731
    result = metropolis_hastings(log_prob, np.zeros(2), 6000, step_size=0.8, n_chains=8, rng=1)
    kept = result.chains[:, 500:].reshape(-1, 2)
    np.testing.assert_allclose(np.cov(kept.T), cov, atol=0.12)


def test_metropolis_hastings_respects_the_support():
    log_prob = lambda x: np.where((x[:, 0] >= 0) & (x[:, 0] <= 1), 0.0, -np.inf)  # noqa: E731  U(0, 1)
    result = metropolis_hastings(log_prob, 0.5, 2000, step_size=0.5, n_chains=4, rng=2)
    assert np.all((result.chains >= 0) & (result.chains <= 1))
    assert abs(result.chains.mean() - 0.5) < 0.05


@given(seed=hs.integers(0, 2**32 - 1), n_chains=hs.integers(1, 5))
def test_same_seed_same_chains(seed, n_chains):
    a = metropolis_hastings(gaussian_log_prob, 0.0, 50, 1.0, n_chains, rng=seed)
    b = metropolis_hastings(gaussian_log_prob, 0.0, 50, 1.0, n_chains, rng=seed)
    np.testing.assert_array_equal(a.chains, b.chains)
    # rejected steps repeat the previous state, accepted ones do not
    moved = np.any(np.diff(np.concatenate([np.zeros((n_chains, 1, 1)), a.chains], axis=1), axis=1) != 0, axis=2)
    np.testing.assert_allclose(moved.mean(axis=1), a.acceptance_rate)


def test_metropolis_hastings_bad_input():
    with pytest.raises(ValueError, match="returned nan"):
        metropolis_hastings(lambda x: np.where(x[:, 0] > 2, np.nan, 0.0), 0.0, 500, 1.0, rng=0)
    with pytest.raises(ValueError, match="one log-density per chain"):
        metropolis_hastings(lambda x: -0.5 * x * x, 0.0, 10, 1.0, n_chains=3)
    with pytest.raises(ValueError, match="zero density"):
        metropolis_hastings(lambda x: np.where(x[:, 0] > 0, 0.0, -np.inf), -1.0, 10, 1.0)
    with pytest.raises(ValueError, match="step_size"):
        metropolis_hastings(gaussian_log_prob, 0.0, 10, -1.0)
    with pytest.raises(ValueError, match="x0"):
        metropolis_hastings(gaussian_log_prob, np.zeros((2, 3)), 10, 1.0, n_chains=4)
    with pytest.raises(ValueError, match="x0"):
        metropolis_hastings(gaussian_log_prob, np.nan, 10, 1.0)
    with pytest.raises(ValueError, match="n_steps"):
        metropolis_hastings(gaussian_log_prob, 0.0, 0, 1.0)


# ---- leapfrog: energy conservation on the harmonic oscillator ----------------------------------------
def oscillator_energy(x, p):
    return 0.5 * (x * x + p * p)             # H for log p~(x) = -x^2 / 2, so grad log p~ = -x


@pytest.mark.parametrize("eps", [0.2, 0.1, 0.05])
def test_leapfrog_conserves_the_shadow_energy_exactly(eps):
    # For the oscillator, leapfrog conserves H~ = (x^2 (1 - eps^2 / 4) + p^2) / 2 exactly.
    x0, p0 = np.array([1.0, -0.3]), np.array([0.5, 2.0])
    x, p = leapfrog(x0, p0, lambda x: -x, eps, 1000)
    shadow = lambda x, p: 0.5 * (x * x * (1 - eps**2 / 4) + p * p)  # noqa: E731
    np.testing.assert_allclose(shadow(x, p), shadow(x0, p0), rtol=1e-11)


def test_leapfrog_energy_error_is_second_order():
    x0, p0 = np.array([1.0]), np.array([0.0])
    errors = []
    for eps in (0.2, 0.1, 0.05):
        drift = [abs(oscillator_energy(*leapfrog(x0, p0, lambda x: -x, eps, n)) - 0.5)[0] for n in range(1, 80)]
        errors.append(max(drift))
        assert max(drift) <= eps**2 / 4 * 0.5 * 1.01   # |H - H0| <= eps^2 / 4 H0 (from the shadow energy)
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 4.0, rtol=0.1)   # halving eps quarters the error: O(eps^2)


def test_leapfrog_is_time_reversible():
    grad = lambda x: -x**3                  # noqa: E731  anharmonic: log p~ = -x^4 / 4
    x0, p0 = np.array([0.7, -1.2]), np.array([0.3, 0.9])
    x, p = leapfrog(x0, p0, grad, 0.05, 200)
    x_back, p_back = leapfrog(x, -p, grad, 0.05, 200)
    np.testing.assert_allclose(x_back, x0, atol=1e-10)
    np.testing.assert_allclose(-p_back, p0, atol=1e-10)


# ---- MALA and HMC with engine gradients --------------------------------------------------------------
autograd_lite = pytest.importorskip("autograd_lite")


def gaussian_tensor_log_prob(mu, sigma):
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    return lambda x: (-0.5 * ((x - mu) / sigma) ** 2).sum(axis=1)


def test_engine_gradient_is_the_analytic_one():
    from scratchgen.sampling.mcmc import _value_and_grad

    x = np.random.default_rng(0).normal(size=(5, 3))
    mu, sigma = np.array([1.0, -2.0, 0.5]), np.array([0.5, 2.0, 1.0])
    values, gradient = _value_and_grad(gaussian_tensor_log_prob(mu, sigma), x, "x")
    np.testing.assert_allclose(values, -0.5 * np.sum(((x - mu) / sigma) ** 2, axis=1), rtol=1e-12)
    np.testing.assert_allclose(gradient, -(x - mu) / sigma**2, rtol=1e-12)


def test_hmc_recovers_a_gaussian():
    mu, sigma = np.array([1.0, -2.0]), np.array([0.5, 2.0])
    result = hmc(gaussian_tensor_log_prob(mu, sigma), mu, 400, step_size=0.2, n_leapfrog=5, n_chains=8,
                 rng=np.random.default_rng(3))
    assert result.chains.shape == (8, 400, 2)
    assert np.all(result.acceptance_rate > 0.7)
    assert_moments(result.chains, mu, sigma, burn_in=50)


def test_mala_recovers_a_gaussian():
    mu, sigma = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    result = mala(gaussian_tensor_log_prob(mu, sigma), np.zeros(2), 1500, step_size=0.5, n_chains=8,
                  rng=np.random.default_rng(4))
    assert np.all((result.acceptance_rate > 0.4) & (result.acceptance_rate < 0.95))
    assert_moments(result.chains, mu, sigma, burn_in=200)


def test_mala_and_hmc_reject_nan_and_non_tensor_log_probs():
    def nan_beyond_one(x):
        return (-0.5 * x**2).sum(axis=1) * (x.numpy()[:, 0] < 1) + np.where(x.numpy()[:, 0] < 1, 0.0, np.nan)

    with pytest.raises(ValueError, match="returned nan"):
        mala(nan_beyond_one, 0.0, 200, 1.0, rng=0)
    with pytest.raises(ValueError, match="returned nan"):
        hmc(nan_beyond_one, 0.0, 200, 0.5, 5, rng=0)
    with pytest.raises(TypeError, match="Tensor"):
        hmc(lambda x: np.zeros(1), 0.0, 10, 0.5, 5)
    with pytest.raises(ValueError, match="n_leapfrog"):
        hmc(gaussian_tensor_log_prob(0.0, 1.0), 0.0, 10, 0.5, 0)


def test_hmc_rejects_a_diverging_trajectory_instead_of_failing():
    # a huge step on a steep target blows the trajectory up; such proposals are rejected
    result = hmc(gaussian_tensor_log_prob(0.0, 0.01), 0.0, 20, step_size=5.0, n_leapfrog=20, rng=0)
    assert np.all(np.isfinite(result.chains))
    assert result.acceptance_rate[0] < 0.5


NUMPY_LOG_PROBS = {
    "np.sum": lambda x: -0.5 * np.sum(x * x, axis=1),                  # np.sum passes out= to Tensor.sum
    "np.exp": lambda x: np.log(np.exp(-0.5 * x * x)).sum(axis=1),        # a ufunc on a Tensor
    "float": lambda x: -0.5 * float((x**2).sum()),                      # float() of a Tensor
    "returns ndarray": lambda x: -0.5 * (np.asarray(x) ** 2).sum(axis=1),  # right values, no graph
}


@pytest.mark.parametrize("sampler", ["mala", "hmc"])
@pytest.mark.parametrize("name", sorted(NUMPY_LOG_PROBS))
def test_a_numpy_log_prob_is_a_type_error_that_says_how_to_write_it(sampler, name):
    run = {"mala": lambda f: mala(f, 0.0, 10, 0.5, n_chains=2, rng=0),
           "hmc": lambda f: hmc(f, 0.0, 10, 0.5, 3, n_chains=2, rng=0)}[sampler]
    with pytest.raises(TypeError, match=r"log_prob.*write log_prob with Tensor ops \(autograd_lite\), "
                                        r"e\.g\. lambda x: -\(x\*\*2\)\.sum"):
        run(NUMPY_LOG_PROBS[name])


def test_a_bug_in_a_tensor_log_prob_keeps_its_own_error():
    # it fails on NumPy arrays too, so it is not a NumPy log-density: its own error is the useful one
    def buggy(x):
        return x.no_such_method()

    with pytest.raises(AttributeError, match="no_such_method"):
        mala(buggy, 0.0, 10, 0.5, rng=0)
    with pytest.raises(AttributeError, match="no_such_method"):
        hmc(buggy, 0.0, 10, 0.5, 3, rng=0)
