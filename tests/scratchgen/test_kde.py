"""KernelDensity: SciPy as oracle, normalisation, scale-equivariance, sampling, grids, reflection, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgen.data import lecture_mixture_1d, ring_of_gaussians
from scratchgen.density import KernelDensity
from scratchgen.density.kernels import KERNELS

KERNEL_NAMES = tuple(KERNELS)


def correlated(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.standard_normal(d)


@pytest.mark.parametrize("rule", ["scott", "silverman"])
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_scipy_gaussian_kde(rule, d, weighted):
    stats = pytest.importorskip("scipy.stats")
    X = correlated(d, 400, d)
    weights = np.random.default_rng(1).random(400) if weighted else None
    queries = np.vstack([X[:50], correlated(9, 100, d) * 2])
    ours = KernelDensity(bandwidth=rule).fit(X, sample_weight=weights)
    theirs = stats.gaussian_kde(X.T, bw_method=rule, weights=weights)
    np.testing.assert_allclose(ours.kernel_covariance_, theirs.covariance, rtol=1e-12)
    np.testing.assert_allclose(ours.score_samples(queries), theirs.logpdf(queries.T), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours.pdf(queries), theirs(queries.T), rtol=1e-10, atol=1e-300)
    if d == 1:
        np.testing.assert_allclose(ours.bandwidth_, np.sqrt(theirs.covariance[0, 0]), rtol=1e-12)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), kernel=st.sampled_from(KERNEL_NAMES), bandwidth=st.floats(0.2, 2.0))
def test_density_integrates_to_one_in_1d(seed, kernel, bandwidth):
    x = np.random.default_rng(seed).standard_normal(50)
    kde = KernelDensity(bandwidth=bandwidth, kernel=kernel).fit(x)
    grid = np.linspace(-4 - 40 * bandwidth, 4 + 40 * bandwidth, 80001)
    assert np.trapezoid(kde.pdf(grid), grid) == pytest.approx(1.0, abs=2e-4)


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
def test_density_integrates_to_one_in_2d(kernel):
    kde = KernelDensity(bandwidth=0.8, kernel=kernel).fit(correlated(0, 40, 2) * 0.5)
    t = np.linspace(-14, 14, 561)
    a, b = np.meshgrid(t, t, indexing="ij")
    density = kde.pdf(np.column_stack([a.ravel(), b.ravel()])).reshape(a.shape)
    assert np.trapezoid(np.trapezoid(density, t, axis=1), t) == pytest.approx(1.0, abs=2e-3)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), d=st.integers(1, 3), rule=st.sampled_from(["scott", "silverman", "cv"]),
       a=st.floats(0.01, 100.0) | st.floats(-100.0, -0.01), kernel=st.sampled_from(KERNEL_NAMES))
def test_rules_are_scale_equivariant(seed, d, rule, a, kernel):
    X = correlated(seed, 60, d)
    queries = correlated(seed + 1, 20, d)
    base = KernelDensity(bandwidth=rule, kernel=kernel, seed=0).fit(X)
    scaled = KernelDensity(bandwidth=rule, kernel=kernel, seed=0).fit(a * X)
    expected = base.score_samples(queries) - d * np.log(abs(a))
    got = scaled.score_samples(a * queries)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
def test_sampled_moments_match_the_kde(kernel):
    X = correlated(3, 200, 2)
    weights = np.random.default_rng(0).random(200)
    kde = KernelDensity(bandwidth="silverman", kernel=kernel).fit(X, sample_weight=weights)
    draws = kde.sample(200_000, rng=5)
    p = weights / weights.sum()
    mean = p @ X
    covariance = (X - mean).T @ ((X - mean) * p[:, None]) + kde.kernel_covariance_
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.02 * np.sqrt(np.diag(covariance)).max())
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.03 * np.abs(covariance).max())
    np.testing.assert_array_equal(kde.sample(10, rng=1), kde.sample(10, rng=np.random.default_rng(1)))


def test_unit_kernels_have_unit_covariance_in_3d():
    for name in KERNEL_NAMES:
        kde = KernelDensity(bandwidth=1.0, kernel=name).fit(np.zeros((1, 3)))
        draws = kde.sample(100_000, rng=0)
        np.testing.assert_allclose(np.cov(draws.T), np.eye(3), atol=0.03, err_msg=name)


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_grid_matches_exact_sum_in_1d(kernel):
    x = lecture_mixture_1d(5000, seed=0)
    kde = KernelDensity(bandwidth="scott", kernel=kernel).fit(x)
    grid, density = kde.evaluate_grid(4096)
    exact = kde.pdf(grid)
    error = np.max(np.abs(density - exact)) / exact.max()
    print(f"1-D grid ({kernel}, 4096 nodes): max error / max density = {error:.2e}")
    assert error < 1e-3
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-4)


def test_grid_matches_exact_sum_in_2d():
    X = ring_of_gaussians(3000, std=0.2, seed=0)
    weights = np.random.default_rng(0).random(3000)
    kde = KernelDensity(bandwidth="scott").fit(X, sample_weight=weights)
    (gx, gy), density = kde.evaluate_grid((200, 180))
    a, b = np.meshgrid(gx, gy, indexing="ij")
    exact = kde.pdf(np.column_stack([a.ravel(), b.ravel()])).reshape(a.shape)
    error = np.max(np.abs(density - exact)) / exact.max()
    print(f"2-D grid (gaussian, 200x180 nodes): max error / max density = {error:.2e}")
    assert density.shape == (200, 180) and error < 5e-3
    _, finer = kde.evaluate_grid(grid_points=(200, 180), grid_bounds=((-4, 4), (-4, 4)))
    assert finer.shape == (200, 180)


def test_far_queries_stay_finite_and_exact():
    kde = KernelDensity(bandwidth=0.5).fit(np.zeros((3, 1)))
    expected = -0.5 * (100 / 0.5) ** 2 - 0.5 * np.log(2 * np.pi) - np.log(0.5)
    assert kde.score_samples([[100.0]])[0] == pytest.approx(expected, rel=1e-12)
    assert kde.score_samples([[100.0]])[0] == pytest.approx(expected, rel=1e-12)
    compact = KernelDensity(bandwidth=0.5, kernel="tophat").fit(np.zeros((3, 1)))
    assert compact.score_samples([[100.0]])[0] == -np.inf


def test_weights_equal_repeated_samples():
    X = correlated(0, 30, 2)
    counts = np.random.default_rng(0).integers(0, 4, 30)
    queries = correlated(1, 10, 2)
    weighted = KernelDensity(bandwidth=0.7).fit(X, sample_weight=counts)
    repeated = KernelDensity(bandwidth=0.7).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(weighted.score_samples(queries), repeated.score_samples(queries), rtol=1e-12)


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (0.0, np.inf), (-np.inf, 1.0)])
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_reflection_integrates_to_one_and_agrees_with_sampling(bounds, kernel):
    rng = np.random.default_rng(0)
    x = rng.beta(1.0, 3.0, 300) if bounds != (-np.inf, 1.0) else 1 - rng.beta(1.0, 3.0, 300)
    kde = KernelDensity(bandwidth=0.15, kernel=kernel, bounds=bounds).fit(x)
    low, high = max(bounds[0], -3.0), min(bounds[1], 4.0)
    grid = np.linspace(low, high, 20001)
    density = kde.pdf(grid)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
    assert kde.score_samples([[low - 0.01 if np.isfinite(bounds[0]) else high + 0.01]])[0] == -np.inf
    draws = kde.sample(40_000, rng=1)[:, 0]
    assert np.all((draws >= bounds[0]) & (draws <= bounds[1]))
    cdf = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    empirical = np.searchsorted(np.sort(draws), grid, side="right") / len(draws)
    assert np.max(np.abs(cdf - empirical)) < 0.015      # Kolmogorov-Smirnov distance
    nodes, on_grid = kde.evaluate_grid(2048)
    assert (nodes[0] == bounds[0]) or (nodes[-1] == bounds[1])
    np.testing.assert_allclose(on_grid, kde.pdf(nodes), atol=2e-3 * density.max())


def test_reflection_with_a_wide_kernel_needs_several_images():
    x = np.random.default_rng(0).random(100)
    kde = KernelDensity(bandwidth=3.0, bounds=(0.0, 1.0)).fit(x)
    grid = np.linspace(0, 1, 2001)
    assert np.trapezoid(kde.pdf(grid), grid) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(kde.pdf(grid), 1.0, atol=1e-3)   # a very wide kernel folds into uniform


def test_cv_prefers_narrow_kernels_on_narrow_modes_and_is_seeded():
    X = ring_of_gaussians(1500, seed=0)
    cv = KernelDensity(bandwidth="cv", seed=0).fit(X)
    scott = KernelDensity(bandwidth="scott").fit(X)
    assert cv.bandwidth_ < 0.2 * scott.bandwidth_
    assert cv.score(ring_of_gaussians(500, seed=1)) > scott.score(ring_of_gaussians(500, seed=1)) + 1.0
    assert KernelDensity(bandwidth="cv", seed=0).fit(X).bandwidth_ == cv.bandwidth_
    candidates, scores = cv.cv_scores_
    assert np.isfinite(scores).any() and len(candidates) == len(scores)


@pytest.mark.parametrize(("kwargs", "X", "weights", "match"), [
    ({"bandwidth": -1.0}, np.ones((5, 1)), None, "bandwidth"),
    ({"bandwidth": 0.0}, np.ones((5, 1)), None, "bandwidth"),
    ({"bandwidth": "scot"}, np.ones((5, 1)), None, "bandwidth"),
    ({"bandwidth": float("nan")}, np.ones((5, 1)), None, "bandwidth"),
    ({"kernel": "box"}, np.arange(5.0), None, "kernel"),
    ({}, np.arange(5.0), -np.ones(5), "sample_weight"),
    ({}, np.arange(5.0), np.array([1, 1, np.nan, 1, 1]), "sample_weight"),
    ({}, np.arange(5.0), np.ones(4), "sample_weight"),
    ({}, np.array([1.0, np.inf]), None, "NaN or infinity"),
    ({}, np.ones((5, 2)), None, "singular"),
    ({}, np.ones(1), None, "2 samples"),
    ({"bounds": (0, 1)}, np.ones((5, 2)), None, "1-D"),
    ({"bounds": (0, 1)}, np.array([0.5, 2.0]), None, "within bounds"),
    ({"bounds": (1, 0)}, np.array([0.5]), None, "low < high"),
])
def test_bad_input_is_a_clear_value_error(kwargs, X, weights, match):
    with pytest.raises(ValueError, match=match):
        KernelDensity(**kwargs).fit(X, sample_weight=weights)


def test_other_misuse():
    with pytest.raises(RuntimeError, match="fit"):
        KernelDensity().score_samples(np.zeros((2, 1)))
    kde = KernelDensity().fit(correlated(0, 20, 3))
    with pytest.raises(ValueError, match="features"):
        kde.score_samples(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1-D and 2-D"):
        kde.evaluate_grid()
    kde1 = KernelDensity().fit(np.arange(10.0))
    with pytest.raises(ValueError, match="contain every sample"):
        kde1.evaluate_grid(100, grid_bounds=(2.0, 5.0))
    with pytest.raises(ValueError, match="grid_points"):
        kde1.evaluate_grid(1)
    with pytest.raises(ValueError, match="n must be"):
        kde1.sample(0)


@pytest.mark.parametrize("kwargs", [{"bandwidth": "silverman", "kernel": "epanechnikov"},
                                    {"bandwidth": 0.2, "bounds": (0.0, np.inf)}])
def test_save_and_load_round_trip(tmp_path, kwargs):
    x = np.random.default_rng(0).gamma(2.0, 1.0, 200)
    weights = np.random.default_rng(1).random(200)
    kde = KernelDensity(**kwargs).fit(x, sample_weight=weights)
    kde.save(tmp_path / "kde.npz")
    loaded = KernelDensity.load(tmp_path / "kde.npz")
    grid = np.linspace(-1, 12, 50)
    np.testing.assert_array_equal(loaded.score_samples(grid), kde.score_samples(grid))
    np.testing.assert_array_equal(loaded.sample(20, rng=3), kde.sample(20, rng=3))
    np.testing.assert_array_equal(loaded.evaluate_grid(256)[1], kde.evaluate_grid(256)[1])
    from scratchgen.density import GaussianMixture
    with pytest.raises(ValueError, match="KernelDensity"):
        GaussianMixture.load(tmp_path / "kde.npz")


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), d=st.integers(1, 2), weighted=st.booleans())
def test_linear_binning_keeps_total_and_mean(seed, d, weighted):
    from scratchgen.density.kde import linear_binning
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (200, d))
    X[:2] = [[-1.0] * d, [1.0] * d]                    # samples on the first and the last node
    weights = rng.random(200) if weighted else None
    shape = (17,) * d
    counts = linear_binning(X, weights, np.full(d, -1.0), np.full(d, 2.0 / 16), shape)
    p = np.full(200, 1 / 200) if weights is None else weights
    assert counts.shape == shape and np.all(counts >= -1e-15)
    assert counts.sum() == pytest.approx(p.sum(), rel=1e-12)
    nodes = np.meshgrid(*[np.linspace(-1, 1, 17)] * d, indexing="ij")
    for axis in range(d):
        np.testing.assert_allclose(np.sum(counts * nodes[axis]), p @ X[:, axis], atol=1e-12)


@pytest.mark.parametrize("kernel", ["tophat", "epanechnikov"])
def test_cross_validation_reaches_an_isolated_point_with_a_compact_kernel(kernel):
    """An outlier far beyond every grid bandwidth still gets a finite held-out density (and a bandwidth)."""
    X = np.concatenate([np.random.default_rng(0).normal(size=(59, 1)), [[60.0]]])
    kde = KernelDensity(bandwidth="cv", kernel=kernel, seed=0).fit(X)
    assert np.isfinite(kde.cv_scores_[1]).any()
    assert np.isfinite(kde.score_samples(X)).all()
