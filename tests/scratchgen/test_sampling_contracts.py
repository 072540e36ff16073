"""Contracts of the samplers and chain diagnostics that mutation testing found untested: defaults, shapes and
return types, edge branches (stuck halves, diverging trajectories, exact acceptance), each a planted-bug check."""
import inspect

import numpy as np
import pytest
from scipy import stats

import autograd_lite as al
from scratchgen import distributions, sampling
from scratchgen.sampling import NumericalInverseCDF
from scratchgen.sampling.rng import uniform_open


def tensor_normal(x):
    return -(x**2).sum(axis=-1) / 2


def numpy_normal(x):
    return -0.5 * np.sum(x**2, axis=-1)


@pytest.mark.parametrize("sampler, log_prob, extra", [
    (sampling.metropolis_hastings, numpy_normal, {}),
    (sampling.mala, tensor_normal, {}),
    (sampling.hmc, tensor_normal, {"n_leapfrog": 10}),
])
def test_samplers_defaults_are_the_documented_ones(sampler, log_prob, extra):
    """Calling with the defaults equals calling with the documented values spelled out."""
    step = {sampling.metropolis_hastings: 1.0, sampling.mala: 0.1, sampling.hmc: 0.1}[sampler]
    implicit = sampler(log_prob, np.zeros(2), 5, rng=0)
    explicit = sampler(log_prob, np.zeros(2), 5, step_size=step, n_chains=1, rng=0, **extra)
    np.testing.assert_array_equal(implicit.chains, explicit.chains)
    assert implicit.chains.shape == (1, 5, 2)


def test_hmc_with_a_large_step_still_leaves_the_target_invariant():
    """eps = 1.5 on N(0, 1) makes big energy errors (acceptance well below 1): only the correct
    Metropolis test on H = -log p + |p|^2 / 2 keeps the marginal N(0, 1); a wrong sign on the kinetic
    energy accepts almost everything and inflates the spread."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4000, 1))
    result = sampling.hmc(tensor_normal, x0, 4, step_size=1.5, n_leapfrog=3, n_chains=4000, rng=1)
    assert 0.3 < result.acceptance_rate.mean() < 0.9
    assert stats.kstest(result.chains[:, -1, 0], stats.norm().cdf).pvalue > 1e-4


def test_a_diverging_hmc_trajectory_is_rejected():
    """A quartic well with a huge step blows the trajectory up to inf: every proposal is rejected and the
    chains stay put, finite."""
    def quartic(x):
        return -((x**2) ** 2).sum(axis=-1)

    x0 = np.full((5, 1), 1.0)
    result = sampling.hmc(quartic, x0, 3, step_size=50.0, n_leapfrog=20, n_chains=5, rng=2)
    assert np.all(result.acceptance_rate == 0)
    np.testing.assert_array_equal(result.chains[:, -1], x0)


def test_leapfrog_conserves_energy_to_second_order_and_is_reversible():
    x, p = np.array([1.0, -0.5]), np.array([0.3, 0.8])
    h0 = 0.5 * np.sum(x**2) + 0.5 * np.sum(p**2)
    errors = []
    for eps in (0.1, 0.05):
        x1, p1 = sampling.leapfrog(x, p, lambda z: -z, eps, int(round(1 / eps)))
        errors.append(abs(0.5 * np.sum(x1**2) + 0.5 * np.sum(p1**2) - h0))
        xb, pb = sampling.leapfrog(x1, -p1, lambda z: -z, eps, int(round(1 / eps)))
        np.testing.assert_allclose(xb, x, atol=1e-12)
        np.testing.assert_allclose(-pb, p, atol=1e-12)
    assert 3.0 < errors[0] / errors[1] < 5.0                 # O(eps^2): halving eps quarters the error
    # the exact flow of the harmonic oscillator for t = 1, which leapfrog approximates
    exact = x * np.cos(1.0) + p * np.sin(1.0)
    np.testing.assert_allclose(sampling.leapfrog(x, p, lambda z: -z, 0.001, 1000)[0], exact, atol=1e-5)


def test_rejection_sampling_with_an_exact_envelope_accepts_everything():
    """p~ = q and M = 1: every proposal is accepted, so the acceptance rate is exactly 1 and the samples are
    the proposal's own draws, exactly ``size`` of them."""
    proposal = distributions.Normal(0.0, 1.0)
    x, rate = sampling.rejection_sample(proposal.log_prob, proposal, 0.0, 1000, rng=3)
    assert rate == 1.0 and x.shape == (1000,)


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_rejection_sampling_returns_exactly_size_samples(size):
    log_M = 0.5 * np.log(2 * np.pi)                     # exp(-z^2) <= M N(z | 0, 1) with equality at 0
    x, rate = sampling.rejection_sample(lambda z: -z**2, distributions.Normal(0, 1), log_M + 1e-9, size, rng=4)
    assert x.shape == (size,) and 0 < rate <= 1


def test_diagnostics_return_a_float_for_one_dimension_and_arrays_per_dimension():
    rng = np.random.default_rng(5)
    chains = rng.standard_normal((3, 200))
    for statistic in (sampling.autocorrelation_time, sampling.effective_sample_size, sampling.split_rhat):
        assert isinstance(statistic(chains), float)
        per_dimension = statistic(chains[..., None].repeat(2, axis=2))
        assert isinstance(per_dimension, np.ndarray) and per_dimension.shape == (2,)
    assert sampling.autocorrelation_function(chains).shape == (200,)
    assert sampling.autocorrelation_function(chains[..., None]).shape == (200, 1)
    assert sampling.autocorrelation_function(np.array([3.0, 1.0])).shape == (2,)


def test_the_defaults_of_the_window_constant_are_five():
    for statistic in (sampling.autocorrelation_time, sampling.effective_sample_size):
        assert inspect.signature(statistic).parameters["c"].default == 5.0
    rng = np.random.default_rng(6)
    ar = np.zeros(2000)
    for t in range(1, 2000):
        ar[t] = 0.9 * ar[t - 1] + rng.standard_normal()
    assert sampling.autocorrelation_time(ar) == sampling.autocorrelation_time(ar, c=5.0)
    assert sampling.autocorrelation_time(ar) != sampling.autocorrelation_time(ar, c=6.0)


def test_autocorrelation_of_an_ar1_chain_matches_phi_to_the_lag():
    """rho(t) = phi^t for x_t = phi x_{t-1} + noise: a wrong FFT padding (circular wrap-around) or window
    shows up as a wrong rho at large lags and a wrong tau = (1 + phi) / (1 - phi)."""
    rng = np.random.default_rng(7)
    phi, n = 0.8, 200_000
    x = np.zeros(n)
    noise = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    rho = sampling.autocorrelation_function(x)
    np.testing.assert_allclose(rho[:6], phi ** np.arange(6), atol=0.01)
    assert abs(rho[n - 1]) < 0.01                           # no wrap-around: the last lag has one pair
    assert abs(sampling.autocorrelation_time(x) - (1 + phi) / (1 - phi)) < 0.6
    # a short chain: the biased estimator c(t) = sum / n has c(n - 1) = (x_0 - m)(x_{n-1} - m) / n exactly
    short = np.array([1.0, 3.0, 2.0, 6.0])
    centred = short - short.mean()
    expected = np.array([np.sum(centred[: 4 - t] * centred[t:]) for t in range(4)]) / np.sum(centred**2)
    np.testing.assert_allclose(sampling.autocorrelation_function(short), expected, atol=1e-12)


def test_split_rhat_sees_chains_whose_halves_sit_still_at_different_values():
    """Each half constant but the halves differ: the chains moved once and never mixed, R-hat huge (inf but
    for the rounding of the rank normalisation)."""
    chains = np.array([[0.0] * 50 + [1.0] * 50, [2.0] * 50 + [3.0] * 50])
    assert sampling.split_rhat(chains) > 1e6


def test_split_rhat_needs_four_steps_per_chain():
    with pytest.raises(ValueError, match="4 steps"):
        sampling.split_rhat(np.random.default_rng(8).standard_normal((2, 3)))
    assert np.isfinite(sampling.split_rhat(np.random.default_rng(8).standard_normal((2, 4))))


def test_split_rhat_of_mixed_chains_agrees_with_the_formula():
    """Two chains of four draws, by hand: split halves, rank-normalise all eight draws, R-hat on bulk and
    folded draws, the larger of the two."""
    from scratchgen.distributions import ndtri

    chains = np.array([[0.1, 2.0, -1.0, 0.5], [1.5, -0.3, 0.7, 3.0]])
    halves = np.concatenate([chains[:, :2], chains[:, 2:]])

    def rank_normal(a):
        ranks = stats.rankdata(a.ravel()).reshape(a.shape)
        return ndtri((ranks - 0.375) / (a.size + 0.25))

    def rhat(z):
        n = z.shape[1]
        w = z.var(axis=1, ddof=1).mean()
        b = n * z.mean(axis=1).var(ddof=1)
        return np.sqrt(((n - 1) / n * w + b / n) / w)

    expected = max(rhat(rank_normal(halves)), rhat(rank_normal(np.abs(halves - np.median(halves)))))
    assert sampling.split_rhat(chains) == pytest.approx(expected, rel=1e-12)


def test_mcmc_rejects_a_log_density_that_is_nan_and_names_where():
    with pytest.raises(ValueError, match="initial"):
        sampling.metropolis_hastings(lambda x: np.full(len(x), np.nan), np.zeros(1), 3, rng=0)
    with pytest.raises(ValueError, match="initial"):
        sampling.mala(lambda x: (x * al.Tensor(np.nan)).sum(axis=-1), np.zeros(1), 3, rng=0)


def test_the_never_moved_warning_says_who_and_where():
    constant = np.full((1, 50), 0.3)
    with pytest.warns(RuntimeWarning, match=r"never moved: it is constant \("):
        sampling.effective_sample_size(constant)
    with pytest.warns(RuntimeWarning, match=r"never moved: every chain is constant \("):
        sampling.effective_sample_size(np.full((3, 50), 0.3))
    moving = np.random.default_rng(9).standard_normal((3, 50, 2))
    moving[:, :, 1] = 0.3
    with pytest.warns(RuntimeWarning, match=r"every chain is constant in dimension\(s\) \[1\]"):
        ess = sampling.effective_sample_size(moving)
    assert np.isfinite(ess[0]) and np.isnan(ess[1])
    moving[2, :, 0] = 1.0
    with pytest.warns(RuntimeWarning, match=r"chain\(s\) \[2\] stay constant in dimension\(s\) \[0\]"):
        sampling.split_rhat(moving)


def test_split_rhat_per_dimension_goes_on_past_a_constant_dimension():
    chains = np.random.default_rng(10).standard_normal((4, 100, 3))
    chains[:, :, 0] = 1.0
    with pytest.warns(RuntimeWarning):
        result = sampling.split_rhat(chains)
    assert np.isnan(result[0])
    np.testing.assert_allclose(result[1:], [sampling.split_rhat(chains[:, :, k]) for k in (1, 2)])


def test_anti_correlated_chains_are_capped_at_n_log10_n():
    """An AR(-0.95) chain sums to a tiny tau; like ArviZ, the ESS is capped at N log10 N."""
    rng = np.random.default_rng(11)
    x = np.zeros(5000)
    for t in range(1, 5000):
        x[t] = -0.95 * x[t - 1] + rng.standard_normal()
    assert sampling.effective_sample_size(x) == pytest.approx(5000 * np.log10(5000))
    assert sampling.autocorrelation_time(x) == pytest.approx(1 / np.log10(5000))


def test_rejection_sampling_names_the_first_bad_log_density():
    proposal = distributions.Normal(0.0, 1.0)

    def nan_at_the_first_point(x):
        values = -x**2 / 2
        values[0] = np.nan
        return values

    with pytest.raises(ValueError, match="log_target returned nan"):
        sampling.rejection_sample(nan_at_the_first_point, proposal, 2.0, 10, rng=0)

    class BadProposal:
        def __init__(self, bad):
            self.bad = bad

        def sample(self, size, rng):
            return rng.standard_normal(size)

        def log_prob(self, x):
            values = -x**2 / 2
            values[0] = self.bad
            return values

    for bad in (np.nan, -np.inf):
        with pytest.raises(ValueError, match="proposal"):
            sampling.rejection_sample(lambda x: -x**2, BadProposal(bad), 2.0, 10, rng=0)


def test_uniform_open_redraws_exact_zeros():
    from scratchgen.sampling.rng import uniform_open

    class ZerosFirst:
        def __init__(self):
            self.calls = 0

        def random(self, size):
            self.calls += 1
            return np.zeros(size) if self.calls == 1 else np.full(size, 0.25)

    u = uniform_open(ZerosFirst(), (3,))
    np.testing.assert_array_equal(u, [0.25, 0.25, 0.25])


def test_alias_table_keeps_its_probabilities():
    table = sampling.AliasTable([0.2, 0.5, 0.3])
    np.testing.assert_array_equal(table.probs, [0.2, 0.5, 0.3])
    assert table.sample((2, 3), rng=0).shape == (2, 3)


@pytest.fixture(scope="module")
def gaussian_inverse_cdf():
    return sampling.NumericalInverseCDF(lambda x: np.exp(-x**2 / 2), u_resolution=1e-10)


def test_numerical_inverse_cdf_keeps_shapes_and_the_ends_of_the_unit_interval(gaussian_inverse_cdf):
    sampler = gaussian_inverse_cdf
    u = np.array([[0.1, 0.5, 0.9], [0.25, 0.75, 0.5]])
    x = sampler.ppf(u)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(x, stats.norm.ppf(u), atol=1e-7)
    np.testing.assert_allclose(sampler.cdf(x), u, atol=1e-9)
    ends = sampler.ppf(np.array([0.0, 1.0]))
    assert ends[0] <= -8 and ends[1] >= 8                    # u = 0 and 1 are allowed: the domain's ends
    assert sampler.cdf(np.array([-1e300, -np.inf])).tolist() == [0.0, 0.0]
    assert sampler.cdf(np.array([1e300, np.inf])).tolist() == [1.0, 1.0]
    for bad in (-0.1, 1.1, np.nan):
        with pytest.raises(ValueError, match="u"):
            sampler.ppf(np.array([0.5, bad]))


def test_numerical_inverse_cdf_samples_are_its_ppf_of_open_uniforms(gaussian_inverse_cdf):
    from scratchgen.sampling.rng import uniform_open

    sampler = gaussian_inverse_cdf
    draws = sampler.sample((3, 4), rng=0)
    assert draws.shape == (3, 4)
    np.testing.assert_allclose(draws.ravel(), sampler.ppf(uniform_open(np.random.default_rng(0), 12)), rtol=1e-12)
    assert sampler.u_error() == sampler.u_error(8) <= 1e-10


def test_numerical_inverse_cdf_on_a_bounded_support_puts_no_mass_outside():
    sampler = sampling.NumericalInverseCDF(lambda x: x * (1 - x), support=(0.0, 1.0), u_resolution=1e-10)
    np.testing.assert_allclose(sampler.cdf(np.array([-0.5, 0.0, 1.0, 1.5])), [0.0, 0.0, 1.0, 1.0], atol=1e-15)
    assert sampler.cdf(np.array([-0.5, 1.5])).tolist() == [0.0, 1.0]
    u = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(sampler.ppf(u), stats.beta(2, 2).ppf(u), atol=1e-7)
    draws = sampler.sample(20_000, rng=1)
    assert draws.min() > 0 and draws.max() < 1
    assert stats.kstest(draws, stats.beta(2, 2).cdf).pvalue > 1e-4


def test_rejection_sampling_gives_up_after_exactly_max_proposals():
    """A hopeless envelope (M = e^50) accepts nothing: the sampler stops once it has made max_proposals
    proposals (one batch of 64 here), not a batch later."""
    with pytest.raises(RuntimeError, match="after 64 proposals"):
        sampling.rejection_sample(lambda x: -x**2 / 2, distributions.Normal(0, 1), 50.0, 10, rng=0,
                                  max_proposals=64)


def test_a_broken_envelope_is_reported_at_its_worst_point():
    class Grid:
        def sample(self, size, rng):
            return np.linspace(-1.0, 3.0, size)

        def log_prob(self, x):
            return -0.5 * x**2                           # p~ = 1 over q: the ratio grows with |x|

    with pytest.raises(ValueError, match=r"at x = 3\.0 "):
        sampling.rejection_sample(lambda x: np.zeros_like(x), Grid(), 0.0, 10, rng=0)


# ------------------------------------------------------------------ issue 14: inverse transform survivors


def test_inverse_transform_returns_float64_and_names_the_u_of_a_nan():
    x = sampling.inverse_transform(lambda u: u.astype(np.float32), size=4, rng=0)
    assert x.dtype == np.float64
    u = uniform_open(np.random.default_rng(1), 5)
    with pytest.raises(ValueError, match=f"u = {float(u.max())!r}"):
        sampling.inverse_transform(lambda v: np.where(v == v.max(), np.nan, v), size=5, rng=1)


def test_numerical_inverse_refuses_an_empty_support_and_a_centre_on_its_ends():
    with pytest.raises(ValueError, match="support"):
        NumericalInverseCDF(lambda x: np.ones_like(x), support=(1.0, 1.0))
    for c in (0.0, 1.0):
        with pytest.raises(ValueError, match="center"):
            NumericalInverseCDF(lambda x: np.ones_like(x), support=(0.0, 1.0), center=c)


def test_numerical_inverse_accepts_the_ends_of_the_u_resolution_range():
    for res in (1e-2, 1e-14):
        inv = NumericalInverseCDF(lambda x: np.ones_like(x), support=(0.0, 1.0), u_resolution=res)
        assert inv.u_error() <= res


def uniform_01(x):
    return ((x > 0) & (x < 1)).astype(float)


def test_numerical_inverse_of_a_uniform_is_the_identity_everywhere():
    """Few intervals, none of them crowded in the guide table: every u is looked up by the guide alone."""
    inv = NumericalInverseCDF(uniform_01, support=(0.0, 1.0))
    u = np.linspace(0.0, 1.0, 20001)
    np.testing.assert_allclose(inv.ppf(u), u, atol=1e-9)
    assert inv.cdf(np.array([1.0]))[0] == 1.0 and inv.cdf(np.array([0.0]))[0] == 0.0


def test_numerical_inverse_accepts_a_boolean_pdf():
    inv = NumericalInverseCDF(lambda x: (x > 0) & (x < 2), support=(0.0, 2.0))
    np.testing.assert_allclose(inv.ppf(np.array([0.25, 0.5])), [0.5, 1.0], atol=1e-9)


def test_numerical_inverse_names_nan_negative_and_infinite_values():
    tail = r"; if the pdf is only defined on part of the line \(e\.g\. x > 0\), pass support=\(lower, upper\)"
    with pytest.raises(ValueError, match=r"pdf\(6\.0\) = nan \(NaN\)" + tail):
        NumericalInverseCDF(lambda x: np.where(x == 6.0, np.nan, 1.0), support=(0.0, 10.0))
    with pytest.raises(ValueError, match=r"\(negative\)" + tail):
        NumericalInverseCDF(lambda x: np.where(x > 6.0, -1.0, 1.0), support=(0.0, 10.0))
    with pytest.raises(ValueError, match=r"\(infinite\)" + tail):
        NumericalInverseCDF(lambda x: np.where((x > 2) & (x < 3), np.inf, stats.norm.pdf(x)))


def test_numerical_inverse_names_a_pdf_that_breaks_down_before_its_tail_fades():
    with pytest.raises(ValueError, match=r"\(NaN\), where the tail mass is not yet negligible; if the pdf"):
        NumericalInverseCDF(lambda x: np.where(x <= 0, np.exp(np.minimum(x, 0)), np.nan))


def test_numerical_inverse_refuses_a_pdf_of_zero_mass():
    with pytest.raises(ValueError, match="integrates to"):
        NumericalInverseCDF(lambda x: (x == 0.0).astype(float), support=(-1.0, 1.0))


@pytest.mark.parametrize("support, centre", [((0.0, 3.3), 1.65), ((0.3, np.inf), 1.3), ((-np.inf, 2.5), 1.5),
                                             ((-np.inf, np.inf), 0.0)])
def test_numerical_inverse_grid_starts_geometric_around_the_default_centre(support, centre):
    """The default centre: the midpoint of a finite support, one from its finite end, 0 on the line; the grid
    holds every centre +- 2^k (k >= -30) inside the support, the nearest at 2^-30."""
    inv = NumericalInverseCDF(lambda x: stats.norm.pdf(x, 1.0, 2.0), support=support)
    nodes = inv.nodes
    k = 2.0 ** np.arange(-30, 2)
    expected = np.r_[centre - k, centre + k]
    expected = expected[(expected > support[0]) & (expected < support[1])]
    assert np.all(np.isin(expected, nodes))
    assert np.min(np.abs(nodes[nodes != centre] - centre)) == 2.0**-30


@pytest.mark.parametrize("support, spike", [((-np.inf, np.inf), (2.0**-20, 2.0**-19)),
                                            ((-np.inf, np.inf), (-(2.0**-19), -(2.0**-20))),
                                            ((0.0, np.inf), (2.0**-25, 2.0**-24)),
                                            ((-np.inf, 0.0), (-(2.0**-24), -(2.0**-25))),
                                            ((0.0, 3.3), (1.65 - 1e-7, 1.65 + 1e-7))])
def test_numerical_inverse_finds_a_narrow_pdf_by_its_probes(support, spike):
    """The centre search probes c0 +- 2^k from k = -30 up, and the finite ends + -2^k: a pdf that is zero at c0
    but positive next to it (or next to an end) is found."""
    lo, hi = spike
    inv = NumericalInverseCDF(lambda x: ((x >= lo) & (x <= hi)).astype(float), support=support)
    draws = inv.sample(200, rng=3)
    assert np.all((draws >= lo - 1e-12 * abs(lo)) & (draws <= hi + 1e-12 * abs(hi)))


def test_numerical_inverse_handles_zero_over_zero_at_both_finite_ends():
    """x log x is 0 * -inf = NaN exactly at 0 (and (1 - x) log(1 - x) at 1): the nodes there are probed one
    float inside."""
    def pdf(x):
        return x * np.log(x) * (1 - x) * np.log1p(-x)

    inv = NumericalInverseCDF(pdf, support=(0.0, 1.0))
    assert inv.u_error() <= 1e-10


def test_numerical_inverse_allows_an_infinite_density_at_a_node():
    """|x|^-1/2 is infinite at 0, which is a grid node (the centre search steps off it): allowed there."""
    inv = NumericalInverseCDF(lambda x: 0.5 / np.sqrt(np.abs(x)), support=(-1.0, 1.0))
    assert 0.0 in inv.nodes
    u = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(inv.ppf(u), np.sign(u - 0.5) * (2 * u - 1) ** 2, atol=1e-8)


def test_numerical_inverse_max_intervals_is_a_limit_it_may_reach():
    n = NumericalInverseCDF(stats.norm.pdf).n_intervals
    assert NumericalInverseCDF(stats.norm.pdf, max_intervals=n).n_intervals == n
    with pytest.raises(RuntimeError, match="intervals"):
        NumericalInverseCDF(stats.norm.pdf, max_intervals=n - 1)


def test_numerical_inverse_of_a_tiny_unnormalised_pdf():
    """p scaled by 1e-80: thresholds are relative to the mass, so the construction is the same."""
    inv = NumericalInverseCDF(lambda x: 1e-80 * np.exp(-0.5 * x**2))
    assert inv.total_mass == pytest.approx(1e-80 * np.sqrt(2 * np.pi), rel=1e-12)
    assert inv.u_error() <= 1e-10
    np.testing.assert_allclose(inv.ppf(np.array([0.1, 0.5, 0.9])), stats.norm.ppf([0.1, 0.5, 0.9]), atol=1e-7)


def test_numerical_inverse_total_mass_is_accurate():
    inv = NumericalInverseCDF(lambda x: np.exp(-0.5 * x**2))
    assert inv.total_mass == pytest.approx(np.sqrt(2 * np.pi), rel=1e-12)


def test_numerical_inverse_cuts_a_heavy_tail_far_from_its_centre_where_it_is_negligible():
    """A Cauchy centred at 1000: the tail test is p(x) |x - c|; its CDF is right to well under u_resolution."""
    dist = stats.cauchy(1000.0)
    inv = NumericalInverseCDF(dist.pdf, center=1000.0)
    x = 1000.0 + np.r_[-np.geomspace(1e9, 1e-3, 60), np.geomspace(1e-3, 1e9, 60)]
    assert np.max(np.abs(inv.cdf(x) - dist.cdf(x))) < 1e-10


def test_numerical_inverse_ppf_is_monotone_where_slopes_are_clipped():
    """x^4 on (0, 1) at a coarse u_resolution: near 0 the slope 1 / p is far above the secant and is clipped to
    3x it, where the cubic stays monotone."""
    inv = NumericalInverseCDF(lambda x: x**4, support=(0.0, 1.0), u_resolution=1e-2)
    x = inv.ppf(np.linspace(0.0, 1.0, 200001))
    assert np.all(np.diff(x) >= 0)


def test_numerical_inverse_ppf_reports_the_first_u_out_of_range():
    inv = NumericalInverseCDF(uniform_01, support=(0.0, 1.0))
    assert inv.ppf(np.array([0.0, 1.0])).tolist() == pytest.approx([0.0, 1.0], abs=1e-12)
    with pytest.raises(ValueError, match=r"got 1\.5"):
        inv.ppf(np.array([0.0, 1.0, 1.5]))


def test_numerical_inverse_cdf_stays_within_zero_and_one():
    inv = NumericalInverseCDF(stats.norm.pdf)
    x = np.linspace(inv.nodes[-2], inv.nodes[-1], 10001)
    F = inv.cdf(x)
    assert np.all(F <= 1.0) and inv.cdf(inv.nodes[-1:])[0] == 1.0
