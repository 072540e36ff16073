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


# ------------------------------------------------------------------ issue 14: the next survivors
def test_categorical_constructor_stores_the_documented_defaults_and_fits_with_them():
    """The signature test above reads the defaults; this one checks what the constructor stores, and that a
    fit with the defaults is the fit with those values spelled out."""
    assert vars(CategoricalMixture()) == {"n_components": 10, "n_categories": None, "alpha": 0.01, "tol": 1e-4,
                                         "max_iter": 200, "n_init": 1, "init": "kmeans++", "seed": None}
    X = categorical_data(n=60)
    default = CategoricalMixture(seed=0).fit(X)
    spelled = CategoricalMixture(10, alpha=0.01, tol=1e-4, max_iter=200, n_init=1, init="kmeans++", seed=0).fit(X)
    np.testing.assert_array_equal(default.probabilities_, spelled.probabilities_)
    assert default.n_iter_ == spelled.n_iter_ and default.weights_.shape == (10,)


@pytest.mark.parametrize("weighted", [False, True])
def test_categorical_kmeans_init_starts_from_seeded_weighted_kmeans_plusplus(weighted):
    """init="kmeans++": hard responsibilities from k-means++ centres drawn from ``seed`` with the sample weights,
    then one weighted M-step; the first history entry is the mean log-likelihood of those parameters."""
    from scratchgen.density.categorical_mixture import one_hot
    from scratchgen.density.gmm import hard_responsibilities, kmeans_plusplus_centres

    X = categorical_data(n=60)
    n, D = X.shape
    s = np.random.default_rng(1).integers(1, 5, n).astype(float) if weighted else None
    model = CategoricalMixture(4, max_iter=1, tol=0.0, seed=7).fit(X, sample_weight=s)
    resp = hard_responsibilities(X, kmeans_plusplus_centres(X, 4, np.random.default_rng(7), s))
    features = one_hot(X.astype(np.intp), 4)
    weights, theta = model._m_step(features, resp, s, D, 4)
    log_px = model._e_step(model._log_joint(features, weights, np.log(theta)))[1]
    assert model.log_likelihood_history_[0] == pytest.approx(np.average(log_px, weights=s), rel=1e-12)
    again = CategoricalMixture(4, max_iter=1, tol=0.0, seed=7).fit(X, sample_weight=s)
    np.testing.assert_array_equal(again.probabilities_, model.probabilities_)


def test_categorical_a_component_left_empty_keeps_a_tiny_positive_weight():
    """More components than distinct rows: k-means++ repeats a centre, one component gets no sample, and its
    weight stays tiny but positive (10 eps / n), so the log-likelihood stays finite."""
    X = np.r_[np.zeros((10, 3)), np.ones((10, 3))]
    model = CategoricalMixture(3, seed=0, max_iter=5, tol=0.0).fit(X)
    assert np.all(np.isfinite(model.log_likelihood_history_))
    assert np.all(model.weights_ > 0) and model.weights_.min() < 1e-12
    assert np.all(np.isfinite(model.score_samples(X)))


def test_categorical_tol_zero_runs_every_iteration_even_at_a_fixed_point():
    """K = 1 reaches its fixed point after one M-step (the gain is exactly 0): tol=0 still runs max_iter."""
    X = categorical_data(n=30)
    model = CategoricalMixture(1, tol=0.0, max_iter=5, seed=0).fit(X)
    assert model.n_iter_ == 5 and not model.converged_
    assert np.ptp(model.log_likelihood_history_[1:]) == 0.0


def test_categorical_restarts_compare_their_final_likelihoods():
    """n_init restarts of one iteration each: the kept one has the best final (not first) log-likelihood."""
    X = categorical_data(seed=8, n=80)
    rng = np.random.default_rng(14)
    runs = [CategoricalMixture(3, init="random", max_iter=1, tol=0.0, seed=rng).fit(X) for _ in range(8)]
    finals = [r.log_likelihood_history_[-1] for r in runs]
    firsts = [r.log_likelihood_history_[0] for r in runs]
    assert np.argmax(finals) != np.argmax(firsts)          # the data set tells the two rules apart
    best = CategoricalMixture(3, init="random", max_iter=1, tol=0.0, n_init=8, seed=14).fit(X)
    np.testing.assert_array_equal(best.log_likelihood_history_, runs[int(np.argmax(finals))].log_likelihood_history_)


def test_categorical_scoring_refuses_a_value_beyond_the_fitted_categories():
    X = categorical_data(n=30)
    model = CategoricalMixture(2, seed=0).fit(X)
    bad = X[:1].copy()
    bad[0, 0] = model.n_categories_                        # one past the last category, in the first feature
    with pytest.raises(ValueError, match="n_categories"):
        model.score_samples(bad)


def test_categorical_index_limit_and_one_hot_limit(monkeypatch):
    from scratchgen.density import categorical_mixture

    with pytest.raises(ValueError, match="one-hot table"):
        CategoricalMixture(1).fit([[2.0**62]])            # a usable index, but far too many categories
    with pytest.raises(ValueError, match="usable index"):
        CategoricalMixture(1).fit([[2.0**63]])
    monkeypatch.setattr(categorical_mixture, "MAX_ONE_HOT_ENTRIES", 60)
    X = np.zeros((10, 3))
    X[0] = 1.0                                             # V = 2: n D V = 60, exactly the limit
    CategoricalMixture(1).fit(X)
    X[0] = 2.0                                             # V = 3: 90 entries
    with pytest.raises(ValueError, match="one-hot table"):
        CategoricalMixture(1).fit(X)


# ---- persistence
def test_load_refuses_a_file_without_an_estimator_name(tmp_path):
    from autograd_lite import io

    path = tmp_path / "foreign.npz"
    io.save({"weights": np.ones(3)}, path)
    with pytest.raises(ValueError, match=r"does not hold a KernelDensity \(it holds: no estimator\)"):
        KernelDensity.load(path)


def test_load_without_saved_params_uses_the_constructor_defaults(tmp_path):
    from autograd_lite import io

    X = np.random.default_rng(20).normal(size=(40, 1))
    kde = KernelDensity().fit(X)
    fitted = {name: getattr(kde, name) for name in KernelDensity._saved_fitted}
    path = tmp_path / "no_params.npz"
    io.save({"estimator": "KernelDensity", "fitted": fitted}, path)
    loaded = KernelDensity.load(path)
    assert loaded.bandwidth == "scott" and loaded.kernel == "gaussian" and loaded.bounds is None
    np.testing.assert_array_equal(loaded.score_samples(X), kde.score_samples(X))


def test_loaded_values_are_plain_python_values_and_refit(tmp_path):
    path = tmp_path / "kde.npz"
    X = np.random.default_rng(21).normal(size=(30, 1))
    KernelDensity(bandwidth=0.3).fit(X).save(path)
    loaded = KernelDensity.load(path)
    assert type(loaded.bandwidth) is float and type(loaded.bandwidth_) is float
    assert type(loaded.n_features_in_) is int and type(loaded.kernel) is str
    assert loaded.fit(X).bandwidth_ == 0.3                  # a loaded estimator fits again
    gmm_path = tmp_path / "gmm.npz"
    GaussianMixture(np.uint8(2), max_iter=np.uint16(5), seed=0).fit(X).save(gmm_path)
    gmm = GaussianMixture.load(gmm_path)
    assert gmm.n_components == 2 and gmm.max_iter == 5      # unsigned numpy ints come back as numbers
    assert type(gmm.n_components) is int


# ---- kernels
@pytest.mark.parametrize("name", ["gaussian", "exponential", "tophat", "epanechnikov", "linear"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_kernel_reach_is_where_the_profile_ends_or_falls_below_e_minus_40(name, d):
    from scratchgen.density.kernels import KERNELS

    kernel = KERNELS[name]
    reach = kernel.reach(d)
    at = kernel.profile(np.array([reach**2]), d)[0]
    if np.isfinite(kernel.radius(d)):
        assert reach == kernel.radius(d) and at < 1e-15 or name == "tophat"   # (rounding: R^2 can be < d + 2)
        assert kernel.profile(np.array([(1.001 * reach) ** 2]), d)[0] == 0.0
        assert kernel.profile(np.array([(0.999 * reach) ** 2]), d)[0] > 0
    else:
        assert at == pytest.approx(np.exp(-40.0), rel=1e-9, abs=0.0)


@pytest.mark.parametrize("name", ["gaussian", "exponential", "tophat", "epanechnikov", "linear"])
def test_log_profile_is_the_log_of_the_profile(name):
    from scratchgen.density.kernels import KERNELS

    kernel = KERNELS[name]
    for d in (1, 2, 4):
        r2 = np.linspace(0.0, 0.9 * kernel.reach(d), 7) ** 2
        np.testing.assert_allclose(kernel.log_profile(r2, d), np.log(kernel.profile(r2.copy(), d)), rtol=1e-12,
                                   atol=1e-12)


def test_exponential_kde_far_from_the_data_is_exact_in_log_space():
    """exp(-sqrt(2) 500) underflows: the log density comes from the log profile, exactly."""
    from scratchgen.density.kernels import KERNELS

    kde = KernelDensity(bandwidth=1.0, kernel="exponential").fit(np.array([0.0]))
    expected = -np.sqrt(2.0) * 500.0 - KERNELS["exponential"].log_normaliser(1)
    assert kde.score_samples(np.array([500.0]))[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["tophat", "epanechnikov", "linear", "exponential"])
def test_unit_kernel_draws_follow_their_kernel(name):
    from scratchgen.density.kernels import KERNELS, sample_unit_kernel

    kernel = KERNELS[name]
    u = sample_unit_kernel(kernel, 20_000, 1, np.random.default_rng(22))[:, 0]
    assert np.abs(u).max() <= kernel.reach(1) + 1e-12
    assert np.var(u) == pytest.approx(1.0, abs=0.05)
    grid = np.linspace(-kernel.reach(1), kernel.reach(1), 4001)
    density = np.exp(kernel.log_profile(grid**2, 1) - kernel.log_normaliser(1))
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    assert stats.kstest(u, lambda x: np.interp(x, grid, cdf / cdf[-1])).pvalue > 1e-4


@pytest.mark.parametrize("weighted", [False, True])
def test_kde_sample_is_the_two_documented_steps(weighted):
    """Seeded draws are exactly: pick x_i (uniform integers, or the weighted discrete sampler), then add
    L u with u the generator's standard normals for the Gaussian kernel."""
    from scratchgen.sampling import sample_discrete

    X = np.random.default_rng(23).normal(size=(15, 2))
    w = np.random.default_rng(24).random(15) if weighted else None
    kde = KernelDensity(bandwidth=0.5).fit(X, sample_weight=w)
    rng = np.random.default_rng(25)
    chosen = sample_discrete(kde.weights_, 50, rng) if weighted else rng.integers(0, 15, 50)
    expected = X[chosen] + rng.standard_normal((50, 2)) * 0.5
    np.testing.assert_allclose(kde.sample(50, rng=25), expected, rtol=1e-12)


# ---- kde: reflection, grids, cross-validation
def test_fold_into_and_images_with_bounds_away_from_zero():
    x = np.array([0.5, 1.5, 3.5, 5.8, -2.2])
    np.testing.assert_allclose(kde_module.fold_into(x, 1.0, 3.0), [1.5, 1.5, 2.5, 1.8, 1.8], atol=1e-12)
    images = kde_module.reflected_images(np.array([1.25]), 1.0, 3.0, reach=0.5)
    assert {1.25, 0.75, 5.25, 4.75} <= set(np.round(images.ravel(), 12))
    np.testing.assert_allclose(kde_module.reflected_images(np.array([1.25]), 1.0, np.inf, 1.0), [[1.25], [0.75]])


def test_fft_convolve_trims_to_the_full_length_when_the_fft_is_longer():
    a, b = np.arange(7.0), np.arange(5.0)                 # full length 11, FFT length 12
    np.testing.assert_allclose(kde_module.fft_convolve(a, b), np.convolve(a, b), atol=1e-9)


def test_fit_names_a_bad_seed():
    with pytest.raises(TypeError, match=r"^seed: expected"):
        KernelDensity(1.0, seed="bad").fit(np.zeros(3))


def test_a_bandwidth_rule_refuses_identical_samples():
    with pytest.raises(ValueError, match="singular"):
        KernelDensity("scott").fit(np.ones(5))


def test_default_grid_spans_the_data_plus_four_kernel_deviations_per_axis():
    X = np.c_[np.random.default_rng(26).normal(size=50), 100.0 + 5 * np.random.default_rng(27).normal(size=50)]
    kde = KernelDensity("scott").fit(X)
    (gx, gy), _ = kde.evaluate_grid()
    std = np.sqrt(np.diag(kde.kernel_covariance_))
    np.testing.assert_allclose([gx[0], gx[-1]], [X[:, 0].min() - 4 * std[0], X[:, 0].max() + 4 * std[0]])
    np.testing.assert_allclose([gy[0], gy[-1]], [X[:, 1].min() - 4 * std[1], X[:, 1].max() + 4 * std[1]])


def test_grid_points_at_the_coarsest_allowed_step():
    """Over [-4, 14] with h = 1 a step of 0.5 needs 37 nodes: 37 are accepted, 36 refused; 2 nodes are the
    fewest, accepted where the bandwidth allows."""
    kde = KernelDensity(bandwidth=1.0).fit(np.array([0.0, 10.0]))
    grid, _ = kde.evaluate_grid(37)
    assert len(grid) == 37 and grid[1] - grid[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="too coarse"):
        kde.evaluate_grid(36)
    wide = KernelDensity(bandwidth=10.0).fit(np.array([0.0, 0.5]))
    grid, density = wide.evaluate_grid(2, grid_bounds=(0.0, 0.5))
    np.testing.assert_allclose(density, wide.pdf(grid), rtol=1e-3)


def test_grid_bounds_must_contain_the_samples_on_each_side_and_axis():
    kde = KernelDensity(bandwidth=0.5).fit(np.array([0.0, 1.0]))
    kde.evaluate_grid(grid_bounds=(0.0, 1.0))                       # the data's own range is allowed
    for bounds in [(0.5, 3.0), (-3.0, 0.5)]:
        with pytest.raises(ValueError, match="contain every sample"):
            kde.evaluate_grid(grid_bounds=bounds)
    with pytest.raises(ValueError, match="low < high"):
        KernelDensity(bandwidth=0.5).fit(np.array([1.0])).evaluate_grid(grid_bounds=(1.0, 1.0))
    X = np.array([[0.0, 10.0], [1.0, 11.0]])
    kde2 = KernelDensity(bandwidth=0.5).fit(X)
    (gx, gy), _ = kde2.evaluate_grid(grid_bounds=((0.0, 1.0), (10.0, 11.0)))
    assert gx[0] == 0.0 and gy[-1] == 11.0


def test_default_grid_size_limit(monkeypatch):
    kde = KernelDensity(bandwidth=1.0).fit(np.array([0.0, 1.0]))
    monkeypatch.setattr(kde_module, "MAX_GRID_NODES", 1024)
    assert len(kde.evaluate_grid()[0]) == 1024                      # exactly the limit is allowed
    monkeypatch.setattr(kde_module, "MAX_GRID_NODES", 1023)
    with pytest.raises(ValueError, match="too small for a grid"):
        kde.evaluate_grid()


@pytest.mark.parametrize("kernel", ["tophat", "epanechnikov", "linear"])
def test_grid_of_a_compact_kernel_is_symmetric_about_a_single_sample(kernel):
    kde = KernelDensity(bandwidth=1.0, kernel=kernel).fit(np.array([0.0]))
    grid, density = kde.evaluate_grid(801, grid_bounds=(-4.0, 4.0))
    np.testing.assert_allclose(density, density[::-1], atol=1e-12)
    assert np.sum(density) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-9)


def test_grid_narrower_than_the_kernel_keeps_the_offsets_between_its_ends():
    kde = KernelDensity(bandwidth=1.0).fit(np.array([0.0, 1.0]))
    grid, density = kde.evaluate_grid(101, grid_bounds=(0.0, 1.0))
    np.testing.assert_allclose(density, kde.pdf(grid), rtol=1e-4)


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-np.inf, 1.0), (0.0, np.inf)])
def test_bounded_grid_matches_the_exact_density_with_a_wide_kernel(bounds):
    """h larger than the interval: the grid needs images beyond its own span, and only at the finite bounds."""
    data = np.random.default_rng(28).beta(2, 5, 100)
    kde = KernelDensity(bandwidth=0.8, bounds=bounds).fit(data)
    grid, density = kde.evaluate_grid()
    np.testing.assert_allclose(density, kde.pdf(grid), rtol=2e-3)


def test_the_non_renormalised_lattice_of_a_kernel_far_wider_than_the_grid_is_exact():
    """When even the grid's own lattice of kernel values is big (> 2^20 offsets) the kernel is sampled on it and
    scaled by its normaliser, not renormalised: with samples on grid nodes the grid is the exact density."""
    gx = np.linspace(0.0, 1.0, 500)
    X = np.array([[gx[10], gx[20]], [gx[400], gx[300]], [gx[250], gx[499]]])
    kde = KernelDensity(bandwidth=0.55, kernel="epanechnikov").fit(X)
    reach = np.ceil(kde._kernel.reach(2) * 0.55 / (gx[1] - gx[0]))
    assert 2**20 < (2 * reach + 1) ** 2 <= 2**21 and reach < 1.5 * 499
    (ax, ay), density = kde.evaluate_grid(500, grid_bounds=((0.0, 1.0), (0.0, 1.0)))
    points = np.stack(np.meshgrid(ax, ay, indexing="ij"), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(density, kde.pdf(points).reshape(density.shape), rtol=1e-9)


def loo_scores(x, q, bandwidths):
    """The held-out log-likelihood sum_i q_i log(sum_{j != i} q_j N(x_i; x_j, h^2) / (1 - q_i)), 1-D."""
    from scipy.special import logsumexp

    diff = x[:, None] - x[None, :]
    out = []
    for h in bandwidths:
        log_k = stats.norm.logpdf(diff / h) - np.log(h) + np.log(q)[None, :]
        np.fill_diagonal(log_k, -np.inf)
        out.append(np.sum(q * (logsumexp(log_k, axis=1) - np.log1p(-q))))
    return np.array(out)


@pytest.mark.parametrize("weighted", [False, True])
def test_cv_scores_a_seeded_subsample_and_rescales_its_winner(weighted):
    """n > CV_MAX_SAMPLES: the held-out likelihood is scored on the seeded sub-sample (without replacement), at
    CV_FACTORS times Scott's h for the sub-sample's n_eff, and the best h is rescaled by (n_eff_sub/n_eff)^(1/5)."""
    n = kde_module.CV_MAX_SAMPLES + 300
    X = np.random.default_rng(29).normal(size=n)
    w = np.random.default_rng(30).random(n) + 0.2 if weighted else None
    kde = KernelDensity("cv", seed=4).fit(X, sample_weight=w)
    subset = np.sort(np.random.default_rng(4).choice(n, kde_module.CV_MAX_SAMPLES, replace=False))
    p = kde.weights_
    q = p[subset] / p[subset].sum()
    n_eff_sub = 1.0 / np.sum(q**2)
    scale = KernelDensity("scott").fit(X, sample_weight=w).bandwidth_ * kde.n_effective_**0.2
    candidates, scores = kde.cv_scores_
    assert len(candidates) == len(kde_module.CV_FACTORS)   # an interior maximum: no widening
    np.testing.assert_allclose(candidates, kde_module.CV_FACTORS * n_eff_sub**-0.2 * scale, rtol=1e-12)
    np.testing.assert_allclose(scores, loo_scores(X[subset], q, candidates), rtol=1e-9)
    best = candidates[np.argmax(scores)]
    assert kde.bandwidth_ == pytest.approx(best * (n_eff_sub / kde.n_effective_) ** 0.2, rel=1e-12)


def test_cv_widens_its_search_a_decade_below_when_the_best_is_the_smallest():
    """Tight clusters far apart: the best h is below 0.02 Scott; cv adds edge x geomspace(0.1, 1, 8)[:-1]."""
    rng = np.random.default_rng(31)
    X = np.r_[rng.normal(-100, 0.05, 60), rng.normal(100, 0.05, 60)]
    kde = KernelDensity("cv").fit(X)
    candidates, scores = kde.cv_scores_
    assert len(candidates) > len(kde_module.CV_FACTORS)
    np.testing.assert_allclose(candidates[:8] / candidates[7], np.r_[np.geomspace(0.1, 1.0, 8)[:-1], 1.0],
                               rtol=1e-12)
    assert np.all(np.diff(candidates) > 0) and 0 < np.argmax(scores) < len(candidates) - 1


def test_cv_with_a_compact_kernel_widens_above_the_reaching_bandwidth():
    """The smallest h that reaches an isolated point is the largest candidate: cv widens the search above it by
    edge x geomspace(1, 10, 8)[1:], and keeps it."""
    X = np.r_[np.random.default_rng(12).normal(size=50), 8.0]
    kde = KernelDensity("cv", kernel="tophat", seed=0).fit(X)
    candidates, scores = kde.cv_scores_
    np.testing.assert_allclose(candidates[-8:] / candidates[-8], np.geomspace(1.0, 10.0, 8), rtol=1e-12)
    gap = np.min(np.abs(X[:-1] - 8.0))
    assert candidates[-8] == pytest.approx(1.01 * gap / np.sqrt(3.0), rel=1e-12)
    assert kde.bandwidth_ == candidates[-8] == candidates[np.argmax(scores)]


def test_cv_with_a_compact_kernel_on_two_samples_takes_the_smallest_reaching_bandwidth():
    kde = KernelDensity("cv", kernel="tophat").fit(np.array([0.0, 0.5]))   # (1-D: S = 1, distances as given)
    assert kde.bandwidth_ == pytest.approx(1.01 * 0.5 / np.sqrt(3.0), rel=1e-12)


def test_cv_without_an_interior_maximum_on_untied_samples_does_not_blame_ties():
    x = np.random.default_rng(32).normal(size=20)
    X = np.r_[x, x + 1e-13]                                 # near-duplicates, not ties
    with pytest.raises(ValueError, match="no interior maximum") as caught:
        KernelDensity("cv").fit(X)
    assert "tied" not in str(caught.value)
    with pytest.raises(ValueError, match="tied samples"):
        KernelDensity("cv").fit(np.r_[x, x])
