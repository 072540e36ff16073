"""Contracts of the density estimators that mutation testing found unchecked: the categorical mixture's EM
loop (history, convergence, iteration count, weights, restarts, initialisations), the KDE's helpers (FFT
lengths and convolution, binning at the edges, reflection at two bounds), cross-validation on a sub-sample,
and boundary cases of the checks. Each test would fail on a planted change of the line it names."""
import inspect

import numpy as np
import pytest
from scipy import signal, stats

from scratchgen.density import CategoricalMixture, GaussianMixture, KernelDensity
from scratchgen.density import kde as kde_module


def categorical_data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    a = rng.choice(4, size=(n // 2, 5), p=[0.7, 0.1, 0.1, 0.1])
    b = rng.choice(4, size=(n - n // 2, 5), p=[0.1, 0.1, 0.1, 0.7])
    return np.r_[a, b].astype(float)


# ------------------------------------------------------------------ the categorical mixture's EM loop
def test_categorical_defaults_are_the_documented_ones():
    defaults = {k: p.default for k, p in inspect.signature(CategoricalMixture).parameters.items()}
    assert defaults == {"n_components": 10, "n_categories": None, "alpha": 0.01, "tol": 1e-4, "max_iter": 200,
                        "n_init": 1, "init": "kmeans++", "seed": None}


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_categorical_em_never_decreases_and_counts_its_iterations(init):
    X = categorical_data()
    model = CategoricalMixture(3, init=init, tol=0.0, max_iter=7, seed=1).fit(X)
    history = model.log_likelihood_history_
    assert len(history) == 8 and model.n_iter_ == 7 and not model.converged_
    assert np.all(np.diff(history) >= -1e-12)
    assert history[-1] == pytest.approx(model.score(X), rel=1e-12)     # the last entry is the fitted model's
    np.testing.assert_allclose(model.probabilities_.sum(axis=2), 1.0)
    assert model.weights_.sum() == pytest.approx(1.0) and np.all(model.weights_ > 0)


def test_categorical_em_stops_when_the_gain_falls_below_tol():
    X = categorical_data()
    model = CategoricalMixture(2, tol=1e-3, max_iter=500, seed=1).fit(X)
    history = model.log_likelihood_history_
    assert model.converged_ and model.n_iter_ == len(history) - 1 < 500
    assert abs(history[-1] - history[-2]) < 1e-3
    assert np.all(np.abs(np.diff(history[:-1])) >= 1e-3)      # it did not stop earlier
    loose = CategoricalMixture(2, tol=1e9, seed=1).fit(X)
    assert loose.converged_ and loose.n_iter_ == 1


def test_categorical_sample_weights_are_repetitions():
    """An integer weight w on a sample is the same as the sample written w times."""
    X = categorical_data(n=40)
    weights = np.random.default_rng(2).integers(1, 4, len(X))
    weighted = CategoricalMixture(2, init="random", tol=0.0, max_iter=20, seed=3).fit(X, sample_weight=weights)
    expanded = np.repeat(np.arange(len(X)), weights)
    # its objective is the weighted mean log-likelihood, which is the repeated sample's plain mean
    np.testing.assert_allclose(weighted.log_likelihood_history_[-1], weighted.score(X[expanded]), rtol=1e-10)
    kmeans = CategoricalMixture(2, tol=0.0, max_iter=20, seed=3).fit(X, sample_weight=weights)
    unweighted = CategoricalMixture(2, tol=0.0, max_iter=20, seed=3).fit(X)
    assert not np.allclose(kmeans.probabilities_, unweighted.probabilities_)   # the weights reach the M-step


def test_categorical_restarts_keep_the_best():
    X = categorical_data(seed=4)
    best = CategoricalMixture(3, init="random", max_iter=30, n_init=4, seed=5).fit(X)
    rng = np.random.default_rng(5)
    finals = []
    for _ in range(4):
        finals.append(CategoricalMixture(3, init="random", max_iter=30, seed=rng).fit(X).log_likelihood_history_[-1])
    assert best.log_likelihood_history_[-1] == pytest.approx(max(finals), rel=1e-12)


def test_categorical_infers_the_categories_and_allows_one_component_per_sample():
    X = categorical_data(n=12)
    model = CategoricalMixture(12, seed=0).fit(X)
    assert model.n_categories_ == int(X.max()) + 1 == model.probabilities_.shape[2]
    np.testing.assert_array_equal(model.predict(X), np.argmax(model.predict_proba(X), axis=1))
    assert model.predict(X).shape == (12,)


def test_categorical_scores_improbable_samples_in_log_space():
    """A sample of 64 features each of probability ~1e-6 has log p ~ -900: finite, not -inf, next to a
    likely one (a shared shift by the batch's largest log-joint would underflow it)."""
    X = np.zeros((50, 64))
    model = CategoricalMixture(1, n_categories=3, alpha=1e-4, seed=0).fit(X)
    scores = model.score_samples(np.array([np.zeros(64), np.full(64, 2.0)]))
    assert np.all(np.isfinite(scores)) and scores[1] < -500 < scores[0]


# ------------------------------------------------------------------ the KDE's helpers
def test_fast_length_is_the_smallest_5_smooth_number_not_below_n():
    def smooth(m):
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    for n in range(1, 400):
        expected = next(m for m in range(n, 2 * n + 2) if smooth(m))
        assert kde_module._fast_length(n) == expected


@pytest.mark.parametrize("shapes", [((7,), (3,)), ((13,), (13,)), ((6, 5), (3, 4)), ((1,), (9,))])
def test_fft_convolve_is_the_full_linear_convolution(shapes):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    np.testing.assert_allclose(kde_module.fft_convolve(a, b), signal.convolve(a, b, method="direct"), atol=1e-12)


def test_linear_binning_splits_each_sample_between_its_two_nodes_and_keeps_the_last():
    low, step = np.array([0.0]), np.array([1.0])
    X = np.array([[0.25], [2.0], [3.0]])                   # 3.0 is the last node exactly
    counts = kde_module.linear_binning(X, None, low, step, (4,))
    np.testing.assert_allclose(counts, np.array([0.75, 0.25, 1.0, 1.0]) / 3)
    weighted = kde_module.linear_binning(X, np.array([0.5, 0.25, 0.25]), low, step, (4,))
    np.testing.assert_allclose(weighted, [0.375, 0.125, 0.25, 0.25])


def test_fold_into_reflects_between_two_bounds():
    x = np.array([-0.5, 0.3, 1.2, 2.7, -3.4])
    np.testing.assert_allclose(kde_module.fold_into(x, 0.0, 1.0), [0.5, 0.3, 0.8, 0.7, 0.6], atol=1e-12)
    np.testing.assert_allclose(kde_module.fold_into(x, 0.0, np.inf), np.abs(x))
    np.testing.assert_allclose(kde_module.fold_into(x, 1.0, np.inf), 1.0 + np.abs(x - 1.0))
    np.testing.assert_allclose(kde_module.fold_into(x, -np.inf, 1.0), 1.0 - np.abs(x - 1.0))


def test_reflected_images_at_two_bounds_are_the_mirror_lattice():
    images = np.sort(np.ravel(kde_module.reflected_images(np.array([0.25]), 0.0, 1.0, reach=1.1)))
    # x + 2k and -x + 2k within reach of [0, 1], k = -1, 0, 1
    expected = np.sort([0.25 - 2, 0.25, 0.25 + 2, -0.25 - 2, -0.25, -0.25 + 2])
    assert set(np.round(expected, 12)) <= set(np.round(images, 12))
    assert np.all(images > -1.1 - 2) and np.all(images < 2.1 + 2)


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "exponential"])
def test_two_sided_bounded_kde_integrates_to_one_on_its_interval_and_samples_inside(kernel):
    rng = np.random.default_rng(7)
    data = rng.beta(2, 5, 200)
    kde = KernelDensity(bandwidth=0.08, kernel=kernel, bounds=(0.0, 1.0)).fit(data)
    grid = np.linspace(0, 1, 20001)
    assert np.trapezoid(kde.pdf(grid), grid) == pytest.approx(1.0, abs=2e-4)
    nodes, on_grid = kde.evaluate_grid(4001)
    np.testing.assert_allclose(on_grid, kde.pdf(nodes), rtol=2e-3, atol=2e-3)
    draws = kde.sample(20_000, rng=8)
    assert draws.min() >= 0 and draws.max() <= 1
    cdf = np.concatenate([[0.0], np.cumsum((kde.pdf(grid)[1:] + kde.pdf(grid)[:-1]) / 2 * np.diff(grid))])
    assert stats.kstest(draws.ravel(), lambda x: np.interp(x, grid, cdf / cdf[-1])).pvalue > 1e-4
    assert kde.pdf(np.array([-0.01, 1.01])).tolist() == [0.0, 0.0]


def test_exponential_kernel_grid_matches_the_exact_sum():
    data = np.random.default_rng(9).normal(size=(100, 2))
    kde = KernelDensity(bandwidth=0.4, kernel="exponential").fit(data)
    (gx, gy), density = kde.evaluate_grid(200)
    points = np.stack(np.meshgrid(gx, gy, indexing="ij"), axis=-1).reshape(-1, 2)
    exact = kde.pdf(points).reshape(density.shape)
    assert np.max(np.abs(density - exact)) < 0.02 * exact.max()


def test_a_weighted_kde_samples_by_weight():
    data = np.array([0.0, 10.0, 20.0])
    kde = KernelDensity(bandwidth=0.1).fit(data, sample_weight=[0.0, 1.0, 3.0])
    draws = kde.sample(4000, rng=10).ravel()
    assert np.all(np.abs(draws - 0) > 5)                   # weight 0 is never drawn
    assert abs(np.mean(draws > 15) - 0.75) < 0.03


def test_bounds_admit_data_on_the_bound_and_refuse_an_empty_interval():
    KernelDensity(bandwidth=0.2, bounds=(0.0, 1.0)).fit(np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="low < high"):
        KernelDensity(bandwidth=0.2, bounds=(1.0, 1.0)).fit(np.array([1.0]))
    with pytest.raises(ValueError, match="within bounds"):
        KernelDensity(bandwidth=0.2, bounds=(0.0, 1.0)).fit(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="within bounds"):
        KernelDensity(bandwidth=0.2, bounds=(0.0, 1.0)).fit(np.array([-0.5, 0.5]))


def test_a_bandwidth_rule_works_on_two_samples():
    assert KernelDensity("scott").fit(np.array([0.0, 1.0])).bandwidth_ > 0


def test_cv_on_a_large_sample_scores_a_seeded_subsample():
    """Above CV_MAX_SAMPLES the held-out likelihood is scored on a random sub-sample drawn from ``seed``:
    the same seed gives the same bandwidth; the bandwidth is near the full-sample rule's scale."""
    X = np.random.default_rng(11).normal(size=kde_module.CV_MAX_SAMPLES + 500)
    first = KernelDensity("cv", seed=3).fit(X).bandwidth_
    assert KernelDensity("cv", seed=3).fit(X).bandwidth_ == first
    scott = KernelDensity("scott").fit(X).bandwidth_
    assert 0.5 * scott < first < 2.0 * scott
    bandwidths = {KernelDensity("cv", seed=s).fit(X).bandwidth_ for s in range(4)}
    assert len(bandwidths) > 1                              # the sub-sample does depend on the seed


def test_cv_with_a_compact_kernel_reaches_every_point():
    """An isolated point needs h above its nearest-neighbour distance over the kernel's radius, or its held-out
    density is 0: cv adds that h to its candidates and never returns one that leaves a point unreached."""
    X = np.r_[np.random.default_rng(12).normal(size=50), 8.0]
    kde = KernelDensity("cv", kernel="tophat", seed=0).fit(X)
    gap = np.min(np.abs(X[:-1] - 8.0))
    assert kde.bandwidth_ * kde._kernel.radius(1) >= gap * (50 / 51) ** 0.2 * 0.99
    assert np.isfinite(kde.cv_scores_[1]).any()


def test_gmm_fit_with_given_means_runs_once_and_starts_there():
    X = np.r_[np.random.default_rng(13).normal(-4, 1, 100), np.random.default_rng(14).normal(4, 1, 100)]
    gmm = GaussianMixture(2, means_init=[[-4.0], [4.0]], n_init=5, max_iter=1, keep_parameter_history=True).fit(X)
    np.testing.assert_allclose(gmm.parameter_history_[0][1], [[-4.0], [4.0]])
    assert gmm.n_iter_ == 1


@pytest.mark.parametrize("weighted", [False, True])
def test_categorical_random_init_starts_from_normalised_random_responsibilities(weighted):
    """init="random": r_ik ~ U(0, 1) normalised over k, then one M-step; the first history entry is the
    mean log-likelihood of exactly those parameters."""
    from scratchgen.density.categorical_mixture import one_hot

    X = categorical_data(n=60)
    n, D = X.shape
    s = np.random.default_rng(1).integers(1, 4, n).astype(float) if weighted else None
    model = CategoricalMixture(3, init="random", max_iter=1, tol=0.0, seed=7).fit(X, sample_weight=s)
    resp = np.random.default_rng(7).random((n, 3))
    resp /= resp.sum(axis=1, keepdims=True)
    features = one_hot(X.astype(np.intp), 4)
    weights, theta = model._m_step(features, resp, s, D, 4)
    log_px = model._e_step(model._log_joint(features, weights, np.log(theta)))[1]
    assert model.log_likelihood_history_[0] == pytest.approx(np.average(log_px, weights=s), rel=1e-12)
    kmeans = CategoricalMixture(3, max_iter=1, tol=0.0, seed=7).fit(X, sample_weight=s)
    assert kmeans.log_likelihood_history_[0] != pytest.approx(model.log_likelihood_history_[0], rel=1e-9)
