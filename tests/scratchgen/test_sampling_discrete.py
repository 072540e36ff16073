"""Discrete inverse transform and the alias method: exact tables, goodness of fit, bad input."""
import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as hs

from scratchgen.sampling import AliasTable, check_probabilities, discrete_cdf, sample_discrete

P_MIN = 1e-4  # per goodness-of-fit test (a handful in this file)


@hs.composite
def probability_vectors(draw, max_size=50):
    """Probability vectors with some exact zeros, normalised."""
    n = draw(hs.integers(1, max_size))
    w = np.array(draw(hs.lists(hs.floats(0.0, 1.0), min_size=n, max_size=n)))
    w[draw(hs.integers(0, n - 1))] += 0.5          # at least one positive entry
    return w / w.sum()


def chi_square_pvalue(counts, probs):
    keep = probs > 0
    expected = probs[keep] * counts.sum()
    return st.chisquare(counts[keep], expected).pvalue


# ---- the lecture's three steps ---------------------------------------------------------------------
@given(probability_vectors(), hs.floats(0.0, 1.0, exclude_max=True))
def test_sample_discrete_takes_the_index_with_F_before_u_below_F(probs, u):
    cdf = discrete_cdf(probs)
    i = int(np.searchsorted(cdf, u, side="right"))
    lower = cdf[i - 1] if i > 0 else 0.0
    assert lower <= u < cdf[i]
    assert probs[i] > 0


def test_sample_discrete_uses_its_uniform_draws_as_the_lecture_says():
    probs = np.array([0.2, 0.5, 0.3])
    u = np.random.default_rng(3).random(1000)               # the same stream sample_discrete will draw
    expected = np.select([u < 0.2, u < 0.7], [0, 1], 2)
    np.testing.assert_array_equal(sample_discrete(probs, 1000, rng=3), expected)


def test_sample_discrete_fits_its_probabilities():
    probs = np.array([0.05, 0.0, 0.25, 0.1, 0.6])
    x = sample_discrete(probs, 50_000, rng=np.random.default_rng(0))
    counts = np.bincount(x, minlength=probs.size)
    assert counts[1] == 0
    assert chi_square_pvalue(counts, probs) > P_MIN


# ---- the alias table ---------------------------------------------------------------------------------
@given(probability_vectors(max_size=200))
def test_alias_table_holds_exactly_the_probabilities(probs):
    table = AliasTable(probs)
    n = len(table)
    assert np.all((table.prob >= 0) & (table.prob <= 1))
    # category k gets its own column's share plus the tops it donated to other columns
    mass = table.prob.copy()
    np.add.at(mass, table.alias, 1.0 - table.prob)
    np.testing.assert_allclose(mass / n, probs, rtol=0, atol=1e-12)


@given(probability_vectors())
def test_alias_table_never_draws_a_zero_probability_category(probs):
    x = AliasTable(probs).sample(2000, rng=1)
    assert np.all(probs[x] > 0)
    assert np.all(probs[sample_discrete(probs, 2000, rng=1)] > 0)


def test_alias_table_fits_its_probabilities_on_many_categories():
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.full(1000, 0.5))
    x = AliasTable(probs).sample(1_000_000, rng=rng)
    counts = np.bincount(x, minlength=probs.size)
    # pool categories into ~equal-probability bins so every expected count is large
    order = np.argsort(probs)
    bins = np.searchsorted(np.cumsum(probs[order]), np.linspace(0, 1, 51)[1:-1])
    observed = np.array([c.sum() for c in np.split(counts[order], bins)])
    expected = np.array([p.sum() for p in np.split(probs[order], bins)])
    assert chi_square_pvalue(observed, expected / expected.sum()) > P_MIN
    assert chi_square_pvalue(counts[:20], probs[:20] / probs[:20].sum()) > P_MIN


def test_alias_table_shapes_and_seeds():
    table = AliasTable([0.3, 0.7])
    assert table.sample((4, 5), rng=0).shape == (4, 5)
    assert table.sample(0, rng=0).shape == (0,)
    np.testing.assert_array_equal(table.sample(100_000, rng=9), table.sample(100_000, rng=9))
    assert not np.array_equal(table.sample(1000, rng=9), table.sample(1000, rng=10))
    assert np.all(AliasTable([1.0]).sample(10, rng=0) == 0)


# ---- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("probs, match", [
    ([0.5, np.nan, 0.5], r"finite.*probs\[1\] = nan"),
    ([0.5, np.inf], "finite"),
    ([0.7, -0.2, 0.5], r"non-negative.*probs\[1\] = -0.2"),
    ([0.2, 0.3], r"sum to 0.5.*off by -0.5"),
    ([0.5, 0.5 + 1e-6], r"off by \+1e-06"),
    ([], "non-empty"),
    ([[0.5, 0.5]], "1-D"),
])
def test_bad_probabilities_are_reported_clearly(probs, match):
    for make in (check_probabilities, AliasTable, lambda p: sample_discrete(p, 3)):
        with pytest.raises(ValueError, match=match):
            make(probs)


def test_tiny_rounding_in_the_sum_is_accepted():
    probs = np.array([0.25, 0.25, 0.5 + 1e-12])    # off by 1e-12 < sqrt(eps): fine
    assert check_probabilities(probs).sum() != 1.0
    assert sample_discrete(probs, 10, rng=0).max() < 3
    assert AliasTable(probs).sample(10, rng=0).max() < 3
