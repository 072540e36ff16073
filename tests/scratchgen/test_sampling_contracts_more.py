"""More contracts of the samplers, the chain diagnostics and the discrete samplers (issue 14, after the sampling
group's mutation run).

What this file pins:
- MCMC draw for draw: Metropolis-Hastings, MALA and HMC replayed by hand from the same seed, in the documented
  order of draws (the proposal's normals, then one uniform per chain), with the documented acceptance ratios;
  a flat target (a constant Tensor) has zero gradient; a NaN log-density is reported with the kind of point
  (initial, proposed, leapfrog step) even when another chain overflowed; an overflowing proposal where the
  log-density is NaN is rejected; a diverging HMC trajectory raises no NumPy warning.
- Diagnostics: rho(t) is scale-free; the Sokal window includes M = c tau(M); without a window (a stuck chain
  among moving ones) tau is the full sum; per-dimension results equal the one-dimensional ones; the ESS cap is
  N log10 N at N = 10; the ESS's default c; R-hat of halves that sit still is inf without a NumPy warning; the
  never-moved warnings name the right dimensions and say what the statistic does.
- Discrete: the sum tolerance is inclusive, the CDF is renormalised and ends at 1, the first negative entry is
  named; a uniform exactly at 0 or at an interval's edge goes to the interval that contains it (both samplers,
  with a Generator whose next uniform is set); the alias table holds p / sum(p).
- Rejection: float64 samples from a float32 proposal, a log-excess of 1e-12 is within the envelope, no proposal
  is drawn once ``size`` are accepted, a bad proposal density is named at its point.
- rng: ``uniform_open`` redraws a zero that is drawn again.
"""
import warnings

import numpy as np
import pytest

import autograd_lite as al
from scratchgen import sampling
from scratchgen.sampling import AliasTable, check_probabilities, discrete_cdf, sample_discrete
from scratchgen.sampling.rng import uniform_open

# ---- helpers -----------------------------------------------------------------------------------------------
_PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645


def _generator_with_next_output(v: int) -> np.random.Generator:
    g = np.random.Generator(np.random.PCG64(0))
    state = g.bit_generator.state
    inc = state["state"]["inc"]
    # PCG64 steps s -> s * a + inc, then outputs rotr(hi ^ lo, hi >> 58): a state with hi = 0 outputs its low word
    state["state"]["state"] = ((v - inc) * pow(_PCG64_MULTIPLIER, -1, 1 << 128)) % (1 << 128)
    state["has_uint32"] = 0
    g.bit_generator.state = state
    return g


def generator_whose_next_uniform_is(u: float) -> np.random.Generator:
    """A Generator whose next ``random()`` is exactly u (a multiple of 2^-53 in [0, 1)), then PCG64's own stream."""
    v = int(u * 2**53) << 11                   # random() = (next 64 bits >> 11) * 2^-53
    assert _generator_with_next_output(v).random() == u
    return _generator_with_next_output(v)


def numpy_shifted_normal(x):
    return -0.5 * np.sum(x**2, axis=1) - np.sum(x, axis=1)      # N(-1, I) up to a constant


def tensor_normal(x):
    return -(x**2).sum(axis=1) / 2


def nan_off_zero_numpy(x):
    return np.where(x[:, 0] == 0.0, 0.0, np.nan)


def nan_off_zero_tensor(x):
    return tensor_normal(x) + np.where(x.numpy()[:, 0] == 0.0, 0.0, np.nan)


def other_warnings(record):
    return [str(w.message) for w in record if "never moved" not in str(w.message)]


# ---- MCMC: the documented steps, draw for draw ---------------------------------------------------------------
def test_metropolis_hastings_is_its_documented_step_replayed_from_the_seed():
    x0 = np.array([[0.5, -0.2], [1.0, 2.0], [-3.0, 0.0]])
    step = np.array([0.8, 1.5])
    result = sampling.metropolis_hastings(numpy_shifted_normal, x0, 30, step_size=step, n_chains=3, rng=5)
    rng = np.random.default_rng(5)
    x, log_p, accepted = x0.copy(), numpy_shifted_normal(x0), np.zeros(3)
    for t in range(30):
        proposal = x + step * rng.standard_normal(x.shape)           # x' = x + step_size xi
        log_p_new = numpy_shifted_normal(proposal)
        accept = np.log(rng.random(3)) < log_p_new - log_p          # log u < log p~(x') - log p~(x)
        x = np.where(accept[:, None], proposal, x)
        log_p = np.where(accept, log_p_new, log_p)
        accepted += accept
        np.testing.assert_array_equal(result.chains[:, t], x)
    np.testing.assert_array_equal(result.acceptance_rate, accepted / 30)
    assert 0 < accepted.sum() < 90


def test_mala_is_its_documented_step_replayed_from_the_seed():
    eps = 0.9
    x0 = np.array([[0.3], [-2.0], [1.5], [0.0]])
    result = sampling.mala(tensor_normal, x0, 40, step_size=eps, n_chains=4, rng=6)

    def log_q(to, frm):        # log N(to | frm + eps^2 / 2 grad log p~(frm), eps^2), grad log p~(x) = -x
        return -np.sum((to - frm - 0.5 * eps**2 * -frm) ** 2, axis=1) / (2 * eps**2)

    rng = np.random.default_rng(6)
    x, accepted = x0.copy(), np.zeros(4)
    for t in range(40):
        proposal = x + 0.5 * eps**2 * -x + eps * rng.standard_normal(x.shape)
        log_alpha = (-0.5 * np.sum(proposal**2, axis=1) + log_q(x, proposal)
                     + 0.5 * np.sum(x**2, axis=1) - log_q(proposal, x))
        accept = np.log(rng.random(4)) < log_alpha
        x = np.where(accept[:, None], proposal, x)
        accepted += accept
        np.testing.assert_allclose(result.chains[:, t], x, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(result.acceptance_rate, accepted / 40)
    assert 0 < accepted.sum() < 160


def test_hmc_is_its_documented_step_replayed_from_the_seed():
    """The acceptance test on H = -log p~ + |p|^2 / 2 at both ends, with a step large enough that it rejects."""
    eps, n_leapfrog = 1.3, 3
    x0 = np.array([[0.3, 1.0], [-2.0, 0.5], [1.5, -1.5]])
    result = sampling.hmc(tensor_normal, x0, 40, step_size=eps, n_leapfrog=n_leapfrog, n_chains=3, rng=7)
    rng = np.random.default_rng(7)
    x, accepted = x0.copy(), np.zeros(3)
    for t in range(40):
        p = rng.standard_normal(x.shape)
        x_new, p_new = sampling.leapfrog(x, p, lambda z: -z, eps, n_leapfrog)
        h_old = 0.5 * np.sum(x**2, axis=1) + 0.5 * np.sum(p**2, axis=1)
        h_new = 0.5 * np.sum(x_new**2, axis=1) + 0.5 * np.sum(p_new**2, axis=1)
        accept = np.log(rng.random(3)) < h_old - h_new
        x = np.where(accept[:, None], x_new, x)
        accepted += accept
        np.testing.assert_allclose(result.chains[:, t], x, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(result.acceptance_rate, accepted / 40)
    assert 10 < accepted.sum() < 110


def test_a_flat_tensor_target_has_zero_gradient_and_accepts_every_move():
    """A log-density that does not depend on x (a constant Tensor): MALA is a plain Gaussian random walk and HMC
    a free flight x + L eps p, and every proposal is accepted."""
    def flat(x):
        return al.Tensor(np.zeros(x.shape[0]))

    x0 = np.array([[1.0, -1.0], [0.0, 2.0]])
    walk = sampling.mala(flat, x0, 6, step_size=0.5, n_chains=2, rng=8)
    flight = sampling.hmc(flat, x0, 6, step_size=0.25, n_leapfrog=4, n_chains=2, rng=8)
    rng_walk, rng_flight = np.random.default_rng(8), np.random.default_rng(8)
    x_walk, x_flight = x0.copy(), x0.copy()
    for t in range(6):
        x_walk = x_walk + 0.5 * rng_walk.standard_normal(x0.shape)
        rng_walk.random(2)
        x_flight = x_flight + 4 * 0.25 * rng_flight.standard_normal(x0.shape)
        rng_flight.random(2)
        np.testing.assert_allclose(walk.chains[:, t], x_walk, rtol=1e-12)
        np.testing.assert_allclose(flight.chains[:, t], x_flight, rtol=1e-12)
    np.testing.assert_array_equal(walk.acceptance_rate, [1.0, 1.0])
    np.testing.assert_array_equal(flight.acceptance_rate, [1.0, 1.0])


@pytest.mark.parametrize("run, where", [
    (lambda: sampling.metropolis_hastings(lambda x: np.full(len(x), np.nan), np.zeros(1), 3, rng=0), "the initial"),
    (lambda: sampling.metropolis_hastings(nan_off_zero_numpy, np.zeros(1), 3, rng=0), "the proposed"),
    (lambda: sampling.mala(lambda x: tensor_normal(x) * np.nan, np.zeros(1), 3, rng=0), "the initial"),
    (lambda: sampling.mala(nan_off_zero_tensor, np.zeros(1), 3, rng=0), "the proposed"),
    (lambda: sampling.hmc(lambda x: tensor_normal(x) * np.nan, np.zeros(1), 3, rng=0), "the initial"),
    (lambda: sampling.hmc(nan_off_zero_tensor, np.zeros(1), 3, rng=0), "a leapfrog step at"),
], ids=["mh-initial", "mh-proposed", "mala-initial", "mala-proposed", "hmc-initial", "hmc-leapfrog"])
def test_a_nan_log_density_is_reported_with_the_kind_of_point_it_was_met_at(run, where):
    with pytest.raises(ValueError, match=rf"log_prob returned nan at {where} x = \[") as error:
        run()
    assert "(chain 0)" in str(error.value)


def test_a_nan_at_a_finite_proposal_is_reported_even_when_another_chain_overflowed():
    """Chain 0 starts at the largest float and its first proposal rounds up to inf (a divergence, rejected);
    chain 1's proposal is finite and its log-density NaN: that is still the user's error, named by chain."""
    big = np.finfo(np.float64).max
    z = np.random.default_rng(24).standard_normal((2, 1))
    assert z[0, 0] > 1.0                                       # 1e292 z rounds big + 1e292 z up to inf
    with np.errstate(over="ignore"):
        assert np.isinf(big + 1e292 * z[0, 0]) and np.isfinite(1e292 * z[1, 0])

    def log_prob(x):
        with np.errstate(invalid="ignore"):
            return np.where((x[:, 0] == 0.0) | (np.abs(x[:, 0]) > 1e300), 0.0, np.nan)

    with pytest.raises(ValueError, match=r"at the proposed x = .*\(chain 1\)"), np.errstate(over="ignore"):
        sampling.metropolis_hastings(log_prob, [[big], [0.0]], 3, step_size=1e292, n_chains=2, rng=24)


def test_an_overflowing_proposal_with_a_nan_log_density_is_rejected():
    """A flat target written 0 * x is NaN at x = +-inf; proposals that overflow to inf must be rejected (NaN is
    read as -inf there), so the chain stays finite while the finite proposals are all accepted."""
    def flat(x):
        with np.errstate(invalid="ignore"):
            return 0.0 * x[:, 0]

    with np.errstate(over="ignore", invalid="ignore"):
        result = sampling.metropolis_hastings(flat, [[0.0]], 60, step_size=1e308, rng=2)
    assert np.isfinite(result.chains).all()
    assert 0.5 < result.acceptance_rate[0] < 1.0               # some proposals overflowed and were rejected


def test_a_diverging_hmc_trajectory_raises_no_numpy_warning():
    def quartic(x):
        return -((x**2) ** 2).sum(axis=-1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sampling.hmc(quartic, np.ones((3, 1)), 3, step_size=50.0, n_leapfrog=20, n_chains=3, rng=2)
    np.testing.assert_array_equal(result.acceptance_rate, 0.0)


# ---- diagnostics -------------------------------------------------------------------------------------------
def ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    noise = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


def test_autocorrelation_does_not_depend_on_the_scale_of_the_chain():
    x = ar1(0.6, 300, 20)
    rho = sampling.autocorrelation_function(x)
    np.testing.assert_allclose(sampling.autocorrelation_function(1e-3 * x), rho, rtol=1e-9, atol=1e-12)
    centred = x - x.mean()
    direct = np.array([np.sum(centred[: 300 - t] * centred[t:]) for t in range(5)]) / np.sum(centred**2)
    np.testing.assert_allclose(sampling.autocorrelation_function(1e-3 * x)[:5], direct, atol=1e-12)


def test_the_sokal_window_includes_m_equal_to_c_tau():
    """M = min{M : M >= c tau(M)}: with c = 1 / tau(1) the window is M = 1, so tau = tau(1) = 1 + 2 rho(1)."""
    for seed in range(20):
        x = ar1(0.5, 400, seed)
        rho = sampling.autocorrelation_function(x)
        tau_1 = 2.0 * (rho[0] + rho[1]) - 1.0
        c = 1.0 / tau_1
        if c * tau_1 == 1.0 and 2.0 * np.sum(rho[:3]) - 1.0 != tau_1:
            break
    else:
        pytest.fail("no chain with c tau(1) == 1 exactly")
    assert sampling.autocorrelation_time(x, c=c) == tau_1
    assert sampling.effective_sample_size(x, c=c) == 400 / tau_1


def test_without_a_window_tau_is_the_full_sum_and_each_dimension_is_its_own():
    """A stuck chain among moving ones counts as rho = 1, so no M reaches c tau(M): tau sums every lag. The
    other dimension (both chains moving) finds its window; per dimension equals one dimension at a time."""
    rng = np.random.default_rng(21)
    chains = rng.standard_normal((2, 100, 2))
    chains[0, :, 0] = 0.5
    with pytest.warns(RuntimeWarning, match="never moved"):
        rho = sampling.autocorrelation_function(chains[:, :, 0])
    with pytest.warns(RuntimeWarning, match="never moved"):
        tau = sampling.autocorrelation_time(chains)
    with pytest.warns(RuntimeWarning, match="never moved"):
        tau_0 = sampling.autocorrelation_time(chains[:, :, 0])
    assert tau_0 == pytest.approx(2.0 * rho.sum() - 1.0, rel=1e-12)
    assert tau_0 > 50
    assert tau[0] == tau_0
    assert tau[1] == sampling.autocorrelation_time(chains[:, :, 1])
    assert tau[1] < 5


def test_the_ess_of_ten_anti_correlated_draws_is_capped_at_n_log10_n():
    x = np.array([1.0, -1.0] * 5)                       # rho(1) = -0.9: tau(1) < 0
    assert sampling.effective_sample_size(x) == pytest.approx(10 * np.log10(10))
    assert sampling.autocorrelation_time(x) == pytest.approx(1.0)


def test_the_ess_default_window_constant_is_five():
    x = ar1(0.9, 2000, 6)
    assert sampling.effective_sample_size(x) == sampling.effective_sample_size(x, c=5.0)
    assert sampling.effective_sample_size(x) != sampling.effective_sample_size(x, c=6.0)
    assert sampling.effective_sample_size(x) == pytest.approx(2000 / sampling.autocorrelation_time(x))


def test_split_rhat_of_halves_that_sit_still_is_inf_without_a_numpy_warning():
    chains = np.array([[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]])     # every half of two steps is constant
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sampling.split_rhat(chains) == np.inf


def test_a_constant_chain_gives_only_the_never_moved_warning():
    for statistic in (sampling.autocorrelation_function, sampling.autocorrelation_time,
                      sampling.effective_sample_size):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            statistic(np.ones((2, 20)))
        assert len(record) == 1 and not other_warnings(record)


def test_two_constant_chains_are_every_chain():
    with pytest.warns(RuntimeWarning, match="never moved: every chain is constant"):
        sampling.autocorrelation_time(np.ones((2, 20)))


def test_the_never_moved_warnings_name_only_their_dimensions_and_say_what_is_returned():
    rng = np.random.default_rng(22)
    chains = rng.standard_normal((3, 40, 3))
    chains[0, :, 1] = 0.25                      # dimension 1: one chain stuck; dimension 2 moves everywhere
    with pytest.warns(RuntimeWarning) as record:
        sampling.autocorrelation_function(chains)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1                  # nothing about dimension 2, and no all-stuck warning
    assert "chain(s) [0] stay constant in dimension(s) [1] while" in messages[0]
    assert messages[0].endswith("; their rho(t) is taken as 1 (perfectly correlated)")
    chains[:, :, 0] = 1.0                       # dimension 0: every chain stuck
    with pytest.warns(RuntimeWarning) as record:
        result = sampling.split_rhat(chains)
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert "constant in dimension(s) [0] (" in messages[0] and messages[0].endswith(
        "R-hat is undefined there: returning NaN")
    assert "chain(s) [0] stay constant in dimension(s) [1] while" in messages[1] and messages[1].endswith(
        "they cannot have mixed with the others: R-hat is inf there")
    assert np.isnan(result[0]) and result[1] == np.inf and np.isfinite(result[2])
    with pytest.warns(RuntimeWarning) as record:
        sampling.autocorrelation_function(chains[:, :, 0])
    assert str(record[0].message).endswith("; its rho(t) is taken as 1 (perfectly correlated)")


# ---- discrete ----------------------------------------------------------------------------------------------
def test_the_sum_tolerance_is_inclusive():
    tolerance = np.sqrt(np.finfo(np.float64).eps)       # 2^-26, exactly
    check_probabilities([0.5, 0.5 + tolerance])
    with pytest.raises(ValueError, match="sum to 1"):
        check_probabilities([0.5, 0.5 + 2 * tolerance])


def test_the_first_negative_probability_is_named_past_a_zero():
    with pytest.raises(ValueError, match=r"probs\[3\] = -0\.1"):
        check_probabilities([0.5, 0.0, 0.6, -0.1])


def test_discrete_cdf_is_renormalised_and_ends_at_one():
    p = np.array([0.25, 0.25, 0.5 + 2**-27, 0.0])
    total = p.sum()
    np.testing.assert_allclose(discrete_cdf(p)[:2], [0.25 / total, 0.5 / total], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(discrete_cdf(p)[2:], [1.0, 1.0])
    np.testing.assert_array_equal(discrete_cdf([0.2, 0.3, 0.5]), np.cumsum([0.2, 0.3, 0.5]) / 1.0)
    assert discrete_cdf([0.2, 0.3, 0.5])[-1] == 1.0


@pytest.mark.parametrize("sampler", [sample_discrete, lambda probs, size, rng: AliasTable(probs).sample(size, rng)],
                         ids=["inverse-transform", "alias"])
@pytest.mark.parametrize("probs, u, expected", [
    ([0.0, 1.0], 0.0, 1),                 # u = 0 is in [F_0, F_1) = [0, 1): never the empty category 0
    ([0.5, 0.0, 0.5], 0.5, 2),            # u = F_0 = F_1 = 0.5 is in [F_1, F_2)
    ([0.25, 0.75], 0.25, 1),
])
def test_a_uniform_on_an_interval_edge_goes_to_the_interval_that_holds_it(sampler, probs, u, expected):
    assert sampler(probs, 1, generator_whose_next_uniform_is(u))[0] == expected


def test_the_alias_table_holds_p_over_its_sum():
    p = np.array([0.1, 0.2, 0.3, 0.4 + 2**-27])          # within the tolerance of 1, not exactly 1
    table = AliasTable(p)
    mass = table.prob.copy()
    np.add.at(mass, table.alias, 1.0 - table.prob)
    np.testing.assert_allclose(mass / len(table), p / p.sum(), rtol=1e-14, atol=0)


# ---- rejection ---------------------------------------------------------------------------------------------
class UniformProposal:
    """U(0, 1) in float32, counting its batches."""

    def __init__(self):
        self.calls = 0

    def sample(self, size, rng):
        self.calls += 1
        return rng.random(size).astype(np.float32)

    def log_prob(self, x):
        return np.zeros(len(x))


def test_rejection_samples_are_float64_whatever_the_proposal_gives():
    x, rate = sampling.rejection_sample(lambda x: np.zeros(len(x)), UniformProposal(), 0.0, 50, rng=0)
    assert x.dtype == np.float64 and x.shape == (50,)
    assert rate == 1.0


def test_a_log_excess_of_1e_12_is_within_the_envelope():
    """The envelope check allows rounding: log p~ - log q - log M up to 1e-12 is no failure, beyond it is."""
    x, rate = sampling.rejection_sample(lambda x: np.full(len(x), 1e-12), UniformProposal(), 0.0, 20, rng=0)
    assert x.shape == (20,) and rate == 1.0
    with pytest.raises(ValueError, match="envelope fails"):
        sampling.rejection_sample(lambda x: np.full(len(x), 1e-11), UniformProposal(), 0.0, 20, rng=0)


class Grid:
    """The proposals 0, 1, 2, ... in every batch (log q = 0, except -inf at ``bad``), recording the batch sizes."""

    def __init__(self, bad=None):
        self.bad, self.sizes = bad, []

    def sample(self, size, rng):
        self.sizes.append(size)
        return np.arange(size, dtype=np.float64)

    def log_prob(self, x):
        return np.where(x == self.bad, -np.inf, 0.0)


def test_no_proposal_is_drawn_once_size_samples_are_accepted():
    """Only x = 0 is kept and one sample is wanted: the first batch holds exactly one, which ends the run; the
    acceptance rate is that batch's."""
    proposal = Grid()
    x, rate = sampling.rejection_sample(lambda x: np.where(x == 0.0, 0.0, -np.inf), proposal, 0.0, 1, rng=0)
    np.testing.assert_array_equal(x, [0.0])
    assert len(proposal.sizes) == 1
    assert rate == 1 / proposal.sizes[0]


def test_a_bad_proposal_density_is_named_at_its_point():
    with pytest.raises(ValueError, match=r"proposal\.log_prob returned -inf at its own sample x = 5\.0$"):
        sampling.rejection_sample(lambda x: np.full(len(x), -1.0), Grid(bad=5.0), 0.0, 3, rng=0)


# ---- rng ---------------------------------------------------------------------------------------------------
def test_uniform_open_redraws_a_zero_until_it_is_not_zero():
    class ZeroTwice:
        def __init__(self):
            self.calls = 0

        def random(self, size):
            self.calls += 1
            return np.zeros(size) if self.calls <= 2 else np.full(size, 0.75)

    u = uniform_open(ZeroTwice(), (2,))
    np.testing.assert_array_equal(u, [0.75, 0.75])
