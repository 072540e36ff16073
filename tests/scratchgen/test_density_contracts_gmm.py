"""Contracts of GaussianMixture, the density checks and GenerativeClassifier that mutation testing found unchecked.

GaussianMixture: the constructor's defaults, the integer parameter count, the initialisations ("kmeans++" with
sample weights and its documented sequence of D^2 draws, "random" soft responsibilities, "random_from_data"
without replacement, nearest-mean responsibilities under ``means_init``), the checks of the initial values
(real dtypes, names in the messages, zero weights, symmetry to a relative 1e-10, positive definiteness), an
empty component staying finite, ``n_init`` keeping the best final log-likelihood, the convergence flag,
``lower_bound_`` and ``sample`` as mu_k + L_k z. The checks: the overflow limit itself is accepted, sample
weights (negative entries, a zero sum, sums below 1), complex labels, a warning-free log-sum-exp of -inf.
GenerativeClassifier: estimators without ``score_samples``, the default priors, zero priors, and that fitting
leaves the template estimator (and its generator) untouched.
"""
import warnings

import numpy as np
import pytest

from scratchgen.density import GaussianMixture, GenerativeClassifier, KernelDensity
from scratchgen.density._validation import MAX_ABS_VALUE, check_data, logsumexp_rows
from scratchgen.density.gmm import full_covariances, kmeans_plusplus_centres
from scratchgen.sampling import sample_discrete


def two_clusters_1d(seed=0, n=30):
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(-5.0, 1.0, n), rng.normal(5.0, 1.0, n)]


def three_blobs(seed=0, n=60, spread=3.0):
    rng = np.random.default_rng(seed)
    centres = spread * np.array([[0.0, 0.0], [1.0, 1.5], [2.0, -0.5]])
    label = rng.integers(0, 3, n)
    return centres[label] + rng.standard_normal((n, 2))


def four_far_clusters(scale=1.0, seed=0):
    """Five points around each of x = -300, -100, 100, 300: D^2 seeding must put one centre in each."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-300.0, 0.0], [-100.0, 0.0], [100.0, 0.0], [300.0, 0.0]])
    return scale * (np.repeat(centres, 5, axis=0) + rng.standard_normal((20, 2))), np.repeat(np.arange(4), 5)


# ------------------------------------------------------------------------------------ the door's checks
def test_data_exactly_at_the_overflow_limit_is_accepted():
    X = check_data([MAX_ABS_VALUE, -MAX_ABS_VALUE])
    assert X.dtype == np.float64 and X.shape == (2, 1)
    with pytest.raises(ValueError, match="overflow"):
        check_data([np.nextafter(MAX_ABS_VALUE, np.inf), 0.0])


def test_a_negative_sample_weight_is_refused_even_when_the_sum_is_positive():
    X = two_clusters_1d(n=5)
    weights = np.ones(len(X))
    weights[3] = -0.5
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        GaussianMixture(1).fit(X, sample_weight=weights)


def test_all_zero_sample_weights_are_refused():
    X = two_clusters_1d(n=5)
    with pytest.raises(ValueError, match="sample_weight must have a positive sum"):
        GaussianMixture(1).fit(X, sample_weight=np.zeros(len(X)))


def test_sample_weights_summing_to_less_than_one_are_accepted_and_only_their_ratios_matter():
    X = three_blobs(1)
    w = np.random.default_rng(2).integers(1, 4, len(X)).astype(float)
    tiny = w / (10 * w.sum())                                   # sums to 0.1
    a = GaussianMixture(3, tol=0.0, max_iter=10, seed=0).fit(X, sample_weight=w)
    b = GaussianMixture(3, tol=0.0, max_iter=10, seed=0).fit(X, sample_weight=tiny)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-9)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-9)
    np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=1e-9)
    assert b.score(X, sample_weight=tiny) == pytest.approx(a.score(X, sample_weight=w), rel=1e-12)


def test_complex_class_labels_are_refused():
    X = two_clusters_1d(n=5)
    y = np.r_[np.zeros(5), np.ones(5)].astype(complex)
    with pytest.raises(TypeError, match="y must hold numbers or strings"):
        GenerativeClassifier(GaussianMixture(1)).fit(X, y)


def test_logsumexp_of_a_row_of_minus_infinities_is_minus_infinity_without_a_warning():
    a = np.array([[-np.inf, -np.inf], [0.0, np.log(3.0)], [np.inf, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = logsumexp_rows(a)
    np.testing.assert_allclose(result, [-np.inf, np.log(4.0), np.inf])


def test_a_fitted_kde_does_not_change_when_the_caller_edits_its_training_array():
    X = np.random.default_rng(0).normal(size=(50, 2))
    kde = KernelDensity(bandwidth=0.5).fit(X)
    before = kde.sample(5, rng=0)
    X += 100.0
    np.testing.assert_array_equal(kde.sample(5, rng=0), before)


# ------------------------------------------------------------------------- GaussianMixture: parameters
def test_constructor_stores_the_documented_defaults_which_are_scikit_learn_s():
    gmm = GaussianMixture()
    assert vars(gmm) == {"n_components": 1, "covariance_type": "full", "tol": 1e-3, "reg_covar": 1e-6,
                         "max_iter": 100, "n_init": 1, "init": "kmeans++", "weights_init": None, "means_init": None,
                         "covariances_init": None, "keep_parameter_history": False, "seed": None}
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    theirs = sklearn_mixture.GaussianMixture()
    for name in ("n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init"):
        assert getattr(gmm, name) == getattr(theirs, name)
    fitted = GaussianMixture(seed=0).fit(three_blobs())
    assert fitted.weights_.shape == (1,) and not hasattr(fitted, "parameter_history_")


@pytest.mark.parametrize(("covariance_type", "count"), [("full", 1 + 6 + 12), ("diag", 1 + 6 + 6),
                                                        ("spherical", 1 + 6 + 2), ("tied", 1 + 6 + 6)])
def test_n_parameters_is_an_integer_count(covariance_type, count):
    X = np.random.default_rng(0).normal(size=(40, 3))
    gmm = GaussianMixture(2, covariance_type=covariance_type, max_iter=2, seed=0).fit(X)
    assert type(gmm.n_parameters()) is int and gmm.n_parameters() == count


def test_as_many_components_as_samples_is_allowed():
    gmm = GaussianMixture(2, seed=0).fit([0.0, 1.0])
    np.testing.assert_allclose(np.sort(gmm.means_[:, 0]), [0.0, 1.0], atol=1e-9)


# ------------------------------------------------------------------------ GaussianMixture: initial values
def test_integer_and_float32_initial_values_are_accepted():
    X = two_clusters_1d()
    gmm = GaussianMixture(2, weights_init=np.array([0.5, 0.5], dtype=np.float32), means_init=[[-5], [5]],
                          covariances_init=np.ones((2, 1, 1), dtype=int), max_iter=1,
                          keep_parameter_history=True).fit(X)
    weights, means, covariances = gmm.parameter_history_[0]
    assert weights.dtype == means.dtype == covariances.dtype == np.float64
    np.testing.assert_array_equal(means, [[-5.0], [5.0]])


def test_complex_initial_means_are_refused():
    with pytest.raises(TypeError, match="means_init must be an array of real numbers"):
        GaussianMixture(2, means_init=np.array([[-5.0], [5.0]], dtype=complex)).fit(two_clusters_1d())


@pytest.mark.parametrize("name", ["weights_init", "covariances_init"])
def test_a_non_numeric_initial_value_is_refused_by_its_name(name):
    value = ["a", "b"] if name == "weights_init" else [[["a"]], [["b"]]]
    with pytest.raises(TypeError, match=rf"^{name} must be an array of real numbers"):
        GaussianMixture(2, **{name: value}).fit(two_clusters_1d())


def test_a_zero_initial_weight_is_accepted():
    X = two_clusters_1d()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # log(0) of the zero weight: no warning either
        gmm = GaussianMixture(2, weights_init=[1.0, 0.0], means_init=[[-5.0], [5.0]], max_iter=1,
                              keep_parameter_history=True).fit(X)
    np.testing.assert_array_equal(gmm.parameter_history_[0][0], [1.0, 0.0])
    assert np.all(np.isfinite(gmm.means_)) and np.all(np.isfinite(gmm.score_samples(X)))


def test_a_zero_initial_weight_fits_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GaussianMixture(2, weights_init=[1.0, 0.0], means_init=[[-5.0], [5.0]]).fit(two_clusters_1d())


@pytest.mark.parametrize("covariances_init", [
    [[[1.0, 0.5], [0.5 * (1 + 2e-7), 1.0]]],      # asymmetric by a relative 2e-7 (above 1e-10)
    [[[1e-8, 0.0], [5e-9, 1e-8]]],                 # small variances: asymmetric by half, though < 1e-8 in absolute
])
def test_an_asymmetric_covariances_init_is_refused_relative_to_its_scale(covariances_init):
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="covariances_init must be symmetric"):
        GaussianMixture(1, covariances_init=covariances_init).fit(X)


def test_a_covariances_init_symmetric_up_to_rounding_is_accepted():
    X = np.random.default_rng(0).normal(size=(50, 2))
    gmm = GaussianMixture(1, covariances_init=[[[1.0, 0.5], [0.5 * (1 + 1e-12), 1.0]]], max_iter=1).fit(X)
    assert np.all(np.isfinite(gmm.covariances_))


@pytest.mark.parametrize(("covariance_type", "covariances_init"), [
    ("diag", [[1.0, 0.0], [1.0, 1.0]]),            # a zero variance: eigenvalue exactly 0
    ("spherical", [0.0, 1.0]),
    ("full", [[[1.0, 2.0], [2.0, 1.0]], np.eye(2)]),  # eigenvalues 3 and -1
])
def test_a_covariances_init_that_is_not_positive_definite_is_refused_by_name(covariance_type, covariances_init):
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="^covariances_init must be positive definite"):
        GaussianMixture(2, covariance_type=covariance_type, covariances_init=covariances_init).fit(X)


# ---------------------------------------------------------------------- GaussianMixture: initialisations
def test_means_init_starts_from_nearest_mean_responsibilities():
    """Points -0.5, 0, 1 are nearest to 0 and 2.5, 3 to 2.5: the initial weights and covariances are those of
    the two groups (the means are the given ones)."""
    X = np.array([-0.5, 0.0, 1.0, 2.5, 3.0])
    gmm = GaussianMixture(2, means_init=[0.0, 2.5], max_iter=1, keep_parameter_history=True).fit(X)
    weights, means, covariances = gmm.parameter_history_[0]
    np.testing.assert_allclose(weights, [3 / 5, 2 / 5], rtol=1e-12)
    np.testing.assert_array_equal(means, [[0.0], [2.5]])
    np.testing.assert_allclose(covariances[:, 0, 0], [np.var(X[:3]) + 1e-6, np.var(X[3:]) + 1e-6], rtol=1e-12)


def test_random_init_with_one_component_starts_at_the_sample_mean_and_covariance():
    """Normalised over one component every soft responsibility is 1, so the start is the plain M-step."""
    X = three_blobs(3)
    gmm = GaussianMixture(1, init="random", max_iter=1, keep_parameter_history=True, seed=4).fit(X)
    weights, means, covariances = gmm.parameter_history_[0]
    np.testing.assert_allclose(weights, [1.0])
    np.testing.assert_allclose(means[0], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(covariances[0], np.cov(X.T, bias=True) + 1e-6 * np.eye(2), rtol=1e-10)


def test_random_init_is_one_m_step_from_seeded_uniform_responsibilities_normalised_over_k():
    X = three_blobs(4)
    n, K = len(X), 3
    gmm = GaussianMixture(K, init="random", max_iter=1, keep_parameter_history=True, seed=7).fit(X)
    r = np.random.default_rng(7).random((n, K))
    r /= r.sum(axis=1, keepdims=True)
    n_k = r.sum(axis=0)
    means = r.T @ X / n_k[:, None]
    diff = X[None] - means[:, None]                                          # (K, n, d)
    covariances = np.einsum("nk,kni,knj->kij", r, diff, diff) / n_k[:, None, None] + 1e-6 * np.eye(2)
    weights0, means0, covariances0 = gmm.parameter_history_[0]
    np.testing.assert_allclose(weights0, n_k / n, rtol=1e-12)
    np.testing.assert_allclose(means0, means, rtol=1e-10)
    np.testing.assert_allclose(covariances0, covariances, rtol=1e-10)


@pytest.mark.parametrize("seed", range(10))
def test_random_from_data_with_one_component_per_sample_puts_one_on_each(seed):
    X = np.array([0.0, 1.0, 3.0, 7.0])
    gmm = GaussianMixture(4, init="random_from_data", max_iter=1, keep_parameter_history=True, seed=seed).fit(X)
    weights, means, _ = gmm.parameter_history_[0]
    np.testing.assert_allclose(weights, 0.25, rtol=1e-12)
    np.testing.assert_allclose(np.sort(means[:, 0]), X, rtol=1e-12)


def reference_kmeans_plusplus(X, K, rng, s):
    """The docstring's seeding, one discrete draw per centre: by weight first, then by s_i D(x_i)^2."""
    chosen = [sample_discrete(s / s.sum(), 1, rng)[0]]
    for _ in range(1, K):
        closest = np.min(((X[:, None, :] - X[chosen][None]) ** 2).sum(axis=2), axis=1)
        p = s * closest
        p = s if p.sum() <= 0 else p
        chosen.append(sample_discrete(p / p.sum(), 1, rng)[0])
    return X[chosen]


@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_plusplus_is_the_documented_sequence_of_weighted_d2_draws(weighted):
    X = three_blobs(5, n=40)
    s = np.random.default_rng(1).integers(1, 4, len(X)).astype(float) if weighted else None
    for seed in range(5):
        centres = kmeans_plusplus_centres(X, 4, np.random.default_rng(seed), s)
        expected = reference_kmeans_plusplus(X, 4, np.random.default_rng(seed), np.ones(len(X)) if s is None else s)
        np.testing.assert_array_equal(centres, expected)


@pytest.mark.parametrize("scale", [1.0, 1e-4])
def test_kmeans_plusplus_puts_one_centre_in_each_well_separated_cluster_at_any_scale(scale):
    X, cluster = four_far_clusters(scale)
    for seed in range(20):
        centres = kmeans_plusplus_centres(X, 4, np.random.default_rng(seed))
        picked = cluster[[np.flatnonzero(np.all(X == c, axis=1))[0] for c in centres]]
        assert sorted(picked) == [0, 1, 2, 3], seed


def test_kmeans_plusplus_never_picks_a_sample_of_weight_zero():
    X = np.array([[0.0], [1.0], [50.0], [100.0], [101.0]])
    s = np.array([1.0, 1.0, 0.0, 1.0, 1.0])
    for seed in range(20):
        centres = kmeans_plusplus_centres(X, 3, np.random.default_rng(seed), s)
        assert 50.0 not in centres[:, 0], seed


def test_samples_of_weight_zero_are_as_if_absent():
    """Far outliers of weight 0 change neither the k-means++ start nor EM: the fit is the one without them."""
    inliers = three_blobs(6)
    w = np.random.default_rng(3).integers(1, 4, len(inliers)).astype(float)
    X = np.vstack([inliers[:20], [[40.0, 40.0], [-40.0, 40.0]], inliers[20:], [[40.0, -40.0]]])
    s = np.r_[w[:20], 0.0, 0.0, w[20:], 0.0]
    kwargs = dict(tol=0.0, max_iter=8, keep_parameter_history=True, seed=2)
    with_zeros = GaussianMixture(3, **kwargs).fit(X, sample_weight=s)
    without = GaussianMixture(3, **kwargs).fit(inliers, sample_weight=w)
    for a, b in zip(with_zeros.parameter_history_[0], without.parameter_history_[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(with_zeros.means_, without.means_, rtol=1e-9)
    np.testing.assert_allclose(with_zeros.log_likelihood_history_, without.log_likelihood_history_, rtol=1e-10)


# ----------------------------------------------------------------------------- GaussianMixture: EM loop
def test_a_component_that_starts_with_no_sample_stays_finite_and_nothing_warns():
    X = two_clusters_1d()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gmm = GaussianMixture(3, means_init=[[-5.0], [5.0], [1000.0]], tol=0.0, max_iter=3).fit(X)
        scores = gmm.score_samples(X)
    assert np.all(gmm.weights_ >= 0) and gmm.weights_[2] < 1e-12
    for value in (gmm.weights_, gmm.means_, gmm.covariances_, gmm.log_likelihood_history_, scores):
        assert np.all(np.isfinite(value))


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_a_fit_and_its_scores_raise_no_warning(covariance_type):
    X = three_blobs(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gmm = GaussianMixture(3, covariance_type=covariance_type, max_iter=5, seed=0).fit(X)
        gmm.score_samples(X)
        gmm.sample(5, rng=0)


def test_n_init_keeps_the_run_with_the_best_final_log_likelihood():
    """n_init restarts draw from one generator in turn: they are the fits made one after another from it."""
    X = three_blobs(10, n=45, spread=2.0)
    kwargs = dict(init="random_from_data", tol=0.0, max_iter=3)
    rng = np.random.default_rng(10)
    runs = [GaussianMixture(3, seed=rng, **kwargs).fit(X).log_likelihood_history_ for _ in range(8)]
    finals = [h[-1] for h in runs]
    assert len(set(finals)) == len(finals) and np.argmax(finals) != 0
    assert np.argmax(finals) != np.argmax([h[1] for h in runs])      # the data set tells first from final apart
    best = GaussianMixture(3, n_init=8, seed=10, **kwargs).fit(X)
    np.testing.assert_array_equal(best.log_likelihood_history_, runs[int(np.argmax(finals))])


def test_among_equally_good_restarts_the_first_is_kept():
    """Data symmetric about 3 has mirror-image optima with exactly equal log-likelihoods; as scikit-learn's
    (a strict >), n_init keeps the first restart that reached the best value."""
    X = np.array([0.0, 1.0, 5.0, 6.0])
    kwargs = dict(init="random_from_data", tol=0.0, max_iter=3)
    rng = np.random.default_rng(3)
    runs = [GaussianMixture(2, seed=rng, **kwargs).fit(X) for _ in range(6)]
    finals = [run.lower_bound_ for run in runs]
    tied = [i for i, value in enumerate(finals) if value == max(finals)]
    assert len(tied) >= 2 and not np.array_equal(runs[tied[0]].means_, runs[tied[-1]].means_)
    best = GaussianMixture(2, n_init=6, seed=3, **kwargs).fit(X)
    np.testing.assert_array_equal(best.means_, runs[tied[0]].means_)


def test_n_init_restarts_when_only_the_covariances_are_given():
    X = three_blobs(8, n=45, spread=2.0)
    kwargs = dict(init="random_from_data", tol=0.0, max_iter=3, covariances_init=np.stack([np.eye(2)] * 3))
    rng = np.random.default_rng(12)
    finals = [GaussianMixture(3, seed=rng, **kwargs).fit(X).lower_bound_ for _ in range(6)]
    assert np.argmax(finals) != 0
    assert GaussianMixture(3, n_init=6, seed=12, **kwargs).fit(X).lower_bound_ == max(finals)


def test_lower_bound_is_the_final_mean_log_likelihood():
    X = three_blobs(9, spread=1.5)
    gmm = GaussianMixture(3, tol=1e-8, seed=0).fit(X)
    assert gmm.n_iter_ >= 4
    assert gmm.lower_bound_ == gmm.log_likelihood_history_[-1]
    assert gmm.lower_bound_ == pytest.approx(gmm.score(X), rel=1e-12)
    assert gmm.lower_bound_ > gmm.log_likelihood_history_[-2]


def test_reaching_max_iter_without_meeting_tol_is_not_converged():
    gmm = GaussianMixture(2, tol=0.0, max_iter=3, seed=0).fit(three_blobs(10))
    assert gmm.n_iter_ == 3 and not gmm.converged_ and len(gmm.log_likelihood_history_) == 4


def test_one_gaussian_converges_after_its_first_iteration():
    """K = 1 starts at the maximum-likelihood Gaussian: the first M-step changes nothing, so EM stops there."""
    gmm = GaussianMixture(1).fit(three_blobs(11))
    assert gmm.converged_ and gmm.n_iter_ == 1
    assert gmm.log_likelihood_history_[1] == pytest.approx(gmm.log_likelihood_history_[0], abs=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_sample_is_the_two_documented_steps(covariance_type):
    """k ~ w by discrete inverse transform, then x = mu_k + L_k z with z ~ N(0, I), from one generator."""
    gmm = GaussianMixture(3, covariance_type=covariance_type, max_iter=5, seed=0).fit(three_blobs(12))
    x, k = gmm.sample(50, rng=5, return_components=True)
    rng = np.random.default_rng(5)
    components = sample_discrete(gmm.weights_, 50, rng)
    z = rng.standard_normal((50, 2))
    lower = np.linalg.cholesky(full_covariances(gmm.covariances_, covariance_type, 3, 2))
    np.testing.assert_array_equal(k, components)
    np.testing.assert_allclose(x, gmm.means_[components] + np.einsum("nij,nj->ni", lower[components], z),
                               rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------------------- GenerativeClassifier
def labelled_clusters(seed=0):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(-2.0, 1.0, (30, 2)), rng.normal(2.0, 1.0, (10, 2))]
    return X, np.r_[np.zeros(30, int), np.ones(10, int)]


def test_an_estimator_without_score_samples_is_refused_at_fit():
    class FitOnly:
        def fit(self, X):
            return self

    X, y = labelled_clusters()
    with pytest.raises(TypeError, match="score_samples"):
        GenerativeClassifier(FitOnly()).fit(X, y)


def test_default_priors_are_the_class_frequencies_and_enter_p_of_x():
    X, y = labelled_clusters()
    model = GenerativeClassifier(GaussianMixture(1)).fit(X, y)
    np.testing.assert_allclose(model.log_priors_, np.log([0.75, 0.25]), rtol=1e-12)
    expected = np.logaddexp(model.estimators_[0].score_samples(X) + np.log(0.75),
                            model.estimators_[1].score_samples(X) + np.log(0.25))
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12)


def test_a_zero_prior_is_accepted_silently_and_that_class_is_never_predicted():
    X, y = labelled_clusters()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GenerativeClassifier(GaussianMixture(1), priors=[1.0, 0.0]).fit(X, y)
        proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.log_priors_, [0.0, -np.inf])
    np.testing.assert_array_equal(proba[:, 1], 0.0)
    np.testing.assert_array_equal(model.predict(X), 0)


def test_fitting_leaves_the_template_estimator_and_its_generator_untouched():
    """Each class gets a deep copy: the caller's generator is not advanced, so a refit gives the same fit."""
    X, y = labelled_clusters()
    rng = np.random.default_rng(0)
    template = GaussianMixture(2, seed=rng)
    state = rng.bit_generator.state
    first = GenerativeClassifier(template).fit(X, y)
    assert rng.bit_generator.state == state and not hasattr(template, "means_")
    second = GenerativeClassifier(template).fit(X, y)
    for a, b in zip(first.estimators_, second.estimators_, strict=True):
        np.testing.assert_array_equal(a.means_, b.means_)
