"""The density estimators never return a silent NaN or a quietly wrong number: each case failed before."""
import numpy as np
import pytest

from scratchgen.density import CategoricalMixture, GaussianMixture, GenerativeClassifier, KernelDensity


def two_classes_1d(seed=0):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(0, 1, 50), rng.normal(5, 1, 50)]
    return X, np.r_[np.zeros(50), np.ones(50)]


# ------------------------------------------------------------------ densities that are zero everywhere
@pytest.mark.parametrize("estimator", [KernelDensity(bandwidth=0.5, kernel="epanechnikov"),
                                       KernelDensity(bandwidth=0.5, kernel="tophat"),
                                       KernelDensity(bandwidth=0.5, bounds=(-10.0, 10.0))])
def test_a_point_outside_every_support_has_no_posterior_and_says_so(estimator):
    X, y = two_classes_1d()
    classifier = GenerativeClassifier(estimator).fit(X, y)
    points = np.array([[2.5], [100.0]])
    assert classifier.score_samples(points)[1] == -np.inf          # p(x) = 0: flagged as out-of-distribution
    for method in (classifier.predict_proba, classifier.predict_log_proba, classifier.predict):
        with pytest.raises(ValueError, match=r"rows \[1\].*zero density under every class"):
            method(points)
    assert np.isclose(classifier.predict_proba(points[:1]).sum(), 1.0)


def test_far_points_keep_a_posterior_under_unbounded_kernels_and_mixtures():
    """log space throughout: a point 1000 standard deviations out still gets log p(x | c) > -inf."""
    X, y = two_classes_1d()
    far = np.array([[1000.0], [-1000.0]])
    for estimator in (KernelDensity(bandwidth=0.5), KernelDensity(bandwidth=0.5, kernel="exponential"),
                      GaussianMixture(2, seed=0)):
        classifier = GenerativeClassifier(estimator).fit(X, y)
        proba = classifier.predict_proba(far)
        assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
        if isinstance(estimator, KernelDensity):                      # one bandwidth: the nearer class wins
            assert classifier.predict(far).tolist() == [1.0, 0.0]
        assert np.all(np.isfinite(classifier.score_samples(far)))


def test_score_checks_the_labels_shape():
    X, y = two_classes_1d()
    classifier = GenerativeClassifier(GaussianMixture(1)).fit(X, y)
    with pytest.raises(ValueError, match="y must have shape"):
        classifier.score(X, y[:-1])


# ------------------------------------------------------------------ initial parameters, extreme data
@pytest.mark.parametrize("kwargs, error, match", [
    ({"means_init": [[np.nan], [1.0]]}, ValueError, "means_init contains NaN"),
    ({"means_init": [[np.inf], [1.0]]}, ValueError, "means_init contains NaN"),
    ({"means_init": [["a"], ["b"]]}, TypeError, "means_init must be an array of real numbers"),
    ({"weights_init": [0.5, 0.6]}, ValueError, "weights_init must be 2 non-negative finite numbers summing to 1"),
    ({"weights_init": [np.nan, 1.0]}, ValueError, "weights_init"),
    ({"weights_init": [1.5, -0.5]}, ValueError, "weights_init"),
    ({"weights_init": [1.0, 0.0, 0.0]}, ValueError, "weights_init"),
    ({"covariances_init": [np.nan, 1.0], "covariance_type": "spherical"}, ValueError, "covariances_init contains NaN"),
    ({"covariances_init": [[[1.0]], [[-1.0]]]}, ValueError, "positive definite"),
    ({"covariances_init": [[1.0, 0.0], [1.0, 1.0]], "covariance_type": "tied"}, ValueError, "covariances_init must"),
])
def test_initial_parameters_are_checked_at_the_door(kwargs, error, match):
    X, _ = two_classes_1d()
    if np.shape(kwargs.get("covariances_init", [])) == (2, 2):
        X = np.column_stack([X, X[::-1]])
    with pytest.raises(error, match=match):
        GaussianMixture(2, seed=0, **kwargs).fit(X)


def test_a_non_symmetric_covariance_is_refused():
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match="symmetric"):
        GaussianMixture(1, covariances_init=[[[2.0, 0.5], [0.1, 2.0]]]).fit(X)


def test_rounded_initial_weights_like_the_lecture_s_are_accepted_and_normalised():
    X = np.r_[two_classes_1d()[0], np.random.default_rng(1).normal(10, 1, 50)]
    gmm = GaussianMixture(3, weights_init=[0.33, 0.33, 0.33], means_init=[0.0, 5.0, 10.0], max_iter=1).fit(X)
    assert np.isclose(gmm.weights_.sum(), 1.0)


@pytest.mark.parametrize("estimator", [GaussianMixture(2, seed=0), KernelDensity(), CategoricalMixture(2)])
def test_data_whose_squares_overflow_is_refused_not_turned_into_nan(estimator):
    X = np.abs(two_classes_1d()[0]) * 1e155
    with pytest.raises(ValueError, match="overflow float64.*rescale X"):
        estimator.fit(X)


def test_em_is_scale_equivariant_up_to_the_limit():
    """x -> s x scales the means by s and shifts the mean log-likelihood by -d log s (reg_covar 0)."""
    X, _ = two_classes_1d()
    s = 1e140
    small = GaussianMixture(2, reg_covar=0.0, seed=0).fit(X)
    large = GaussianMixture(2, reg_covar=0.0, seed=0).fit(X * s)
    np.testing.assert_allclose(large.means_ / s, small.means_, rtol=1e-9)
    np.testing.assert_allclose(large.covariances_ / s**2, small.covariances_, rtol=1e-9)
    assert np.isclose(large.lower_bound_ + np.log(s), small.lower_bound_, rtol=0, atol=1e-9)


# ------------------------------------------------------------------ numerics that changed the answer
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "tophat", "linear"])
@pytest.mark.parametrize("d", [1, 2])
def test_the_grid_density_integrates_to_one_even_for_a_bandwidth_below_the_default_step(kernel, d):
    X = np.random.default_rng(0).normal(size=(300, d))
    kde = KernelDensity(bandwidth=0.003 if d == 1 else 0.01, kernel=kernel).fit(X)
    axes, density = kde.evaluate_grid()
    steps = [a[1] - a[0] for a in ([axes] if d == 1 else axes)]
    assert np.all(np.array(steps) <= 0.5 * kde.bandwidth_ * (1 + 1e-12))   # the default grid was refined
    assert np.isclose(density.sum() * np.prod(steps), 1.0, atol=1e-6)


def test_a_grid_the_caller_chose_too_coarse_is_refused():
    kde = KernelDensity(bandwidth=0.01).fit(np.random.default_rng(0).normal(size=(300, 2)))
    with pytest.raises(ValueError, match="grid_points=100 is too coarse"):
        kde.evaluate_grid(100)


def test_cv_on_tied_data_refuses_instead_of_taking_the_edge_of_its_grid():
    with pytest.raises(ValueError, match="tied samples"):
        KernelDensity(bandwidth="cv", seed=0).fit(np.r_[np.zeros(30), np.ones(30)])


def test_cv_widens_its_search_when_the_best_bandwidth_lies_beyond_its_grid():
    """Three tight clusters far apart: Scott's rule sees the spread of all of them (h ~ 4), the held-out
    likelihood wants the clusters' own (h ~ 0.001), beyond the first candidates 0.02 x Scott."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.001, 100) for c in (0.0, 10.0, 20.0)])
    kde = KernelDensity(bandwidth="cv", seed=0).fit(X)
    candidates, scores = kde.cv_scores_
    assert 0 < np.argmax(scores) < len(candidates) - 1
    assert 0.0001 < kde.bandwidth_ < 0.003
    assert kde.score(X) > KernelDensity(bandwidth=0.02 * 4).fit(X).score(X)


def test_a_huge_category_index_is_refused_before_any_allocation():
    X = np.zeros((1000, 64))
    X[0, 0] = 10**9
    with pytest.raises(ValueError, match="GiB"):
        CategoricalMixture(2).fit(X)
    with pytest.raises(ValueError, match="category indices"):
        CategoricalMixture(2).fit(np.full((10, 2), 1e30))
