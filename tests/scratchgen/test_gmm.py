"""GaussianMixture: scikit-learn as oracle, EM's properties, the lecture's example, and bad input."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgen.data import LECTURE_INIT_MEANS, LECTURE_INIT_SIGMAS, LECTURE_INIT_WEIGHTS, lecture_mixture_1d
from scratchgen.density import GaussianMixture
from scratchgen.density.gmm import full_covariances

TYPES = ("full", "diag", "spherical", "tied")


def blobs(seed, n=300, d=2, k=3, spread=4.0):
    rng = np.random.default_rng(seed)
    centres = spread * rng.standard_normal((k, d))
    scales = rng.uniform(0.3, 1.5, (k, d))
    label = rng.integers(0, k, n)
    return centres[label] + scales[label] * rng.standard_normal((n, d))


def to_sklearn_precisions(covariances, covariance_type):
    return np.linalg.inv(covariances) if covariance_type in ("full", "tied") else 1.0 / covariances


@pytest.mark.parametrize("covariance_type", TYPES)
def test_matches_sklearn_from_the_same_start(covariance_type):
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    X = blobs(0, n=400, d=3)
    start = GaussianMixture(3, covariance_type=covariance_type, max_iter=1, seed=0).fit(X)
    init = dict(weights_init=start.weights_, means_init=start.means_)
    ours = GaussianMixture(3, covariance_type=covariance_type, tol=0.0, max_iter=30,
                           covariances_init=start.covariances_, **init).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning: tol=0 never converges, on purpose
        theirs = sklearn_mixture.GaussianMixture(
            3, covariance_type=covariance_type, tol=0.0, max_iter=30,
            precisions_init=to_sklearn_precisions(start.covariances_, covariance_type), **init).fit(X)
    np.testing.assert_allclose(ours.weights_, theirs.weights_, atol=1e-6)
    np.testing.assert_allclose(ours.means_, theirs.means_, atol=1e-6)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, atol=1e-6)
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-9)
    np.testing.assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-9)


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 10**6), k=st.integers(1, 4), d=st.integers(1, 3),
       covariance_type=st.sampled_from(TYPES), init=st.sampled_from(("kmeans++", "random", "random_from_data")))
def test_em_never_decreases_the_likelihood(seed, k, d, covariance_type, init):
    X = blobs(seed, n=120, d=d, k=3)
    gmm = GaussianMixture(k, covariance_type=covariance_type, init=init, tol=0.0, max_iter=25, seed=seed).fit(X)
    history = gmm.log_likelihood_history_
    assert len(history) == gmm.n_iter_ + 1 == 26
    assert np.all(np.diff(history) >= -1e-9 * (1 + np.abs(history[:-1])))
    assert history[-1] == pytest.approx(gmm.score(X), abs=1e-12)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), k=st.integers(1, 5), covariance_type=st.sampled_from(TYPES))
def test_responsibilities_sum_to_one_and_predict_is_their_argmax(seed, k, covariance_type):
    X = blobs(seed, n=80)
    gmm = GaussianMixture(k, covariance_type=covariance_type, max_iter=10, seed=seed).fit(X)
    far = np.vstack([X, [[1e3, -1e3]]])   # a far-away point must not give NaN either
    resp = gmm.predict_proba(far)
    assert resp.shape == (len(far), k) and np.all(resp >= 0)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(gmm.predict(far), resp.argmax(axis=1))


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10**6), covariance_type=st.sampled_from(TYPES))
def test_relabelling_the_components_changes_nothing(seed, covariance_type):
    X = blobs(seed, n=150)
    a = GaussianMixture(3, covariance_type=covariance_type, max_iter=5, seed=seed).fit(X)
    perm = np.random.default_rng(seed).permutation(3)
    covs = a.covariances_ if covariance_type == "tied" else a.covariances_[perm]
    b = GaussianMixture(3, covariance_type=covariance_type, max_iter=5, tol=0.0, weights_init=a.weights_[perm],
                        means_init=a.means_[perm], covariances_init=covs).fit(X)
    c = GaussianMixture(3, covariance_type=covariance_type, max_iter=5, tol=0.0, weights_init=a.weights_,
                        means_init=a.means_, covariances_init=a.covariances_).fit(X)
    np.testing.assert_allclose(b.log_likelihood_history_, c.log_likelihood_history_, rtol=1e-10)
    np.testing.assert_allclose(b.means_, c.means_[perm], atol=1e-8)
    np.testing.assert_allclose(b.predict_proba(X), c.predict_proba(X)[:, perm], atol=1e-8)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_density_integrates_to_one_in_1d_and_2d(covariance_type):
    x1 = lecture_mixture_1d(300, seed=1)
    g1 = GaussianMixture(3, covariance_type=covariance_type, seed=0).fit(x1)
    grid = np.linspace(-15, 15, 30001)
    assert np.trapezoid(np.exp(g1.score_samples(grid)), grid) == pytest.approx(1.0, abs=1e-6)
    g2 = GaussianMixture(3, covariance_type=covariance_type, seed=0).fit(blobs(2, spread=2.0))
    t = np.linspace(-20, 20, 801)
    a, b = np.meshgrid(t, t, indexing="ij")
    density = np.exp(g2.score_samples(np.column_stack([a.ravel(), b.ravel()]))).reshape(a.shape)
    assert np.trapezoid(np.trapezoid(density, t, axis=1), t) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_sampled_moments_match_the_fitted_mixture(covariance_type):
    gmm = GaussianMixture(3, covariance_type=covariance_type, seed=0).fit(blobs(3, d=2))
    x, k = gmm.sample(200_000, rng=1, return_components=True)
    covariances = full_covariances(gmm.covariances_, covariance_type, 3, 2)
    mean = gmm.weights_ @ gmm.means_
    second = np.einsum("k,kij->ij", gmm.weights_, covariances + np.einsum("ki,kj->kij", gmm.means_, gmm.means_))
    np.testing.assert_allclose(x.mean(axis=0), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(x.T), second - np.outer(mean, mean), atol=0.08, rtol=0.02)
    np.testing.assert_allclose(np.bincount(k, minlength=3) / len(k), gmm.weights_, atol=0.005)
    assert not np.all(np.diff(k[:1000]) >= 0)  # random order, not grouped by component
    np.testing.assert_array_equal(gmm.sample(50, rng=7), gmm.sample(50, rng=np.random.default_rng(7)))


def test_recovers_the_lecture_example_from_the_lecture_start():
    x = lecture_mixture_1d(3000, seed=0)
    gmm = GaussianMixture(3, weights_init=LECTURE_INIT_WEIGHTS,
                          means_init=LECTURE_INIT_MEANS, covariances_init=LECTURE_INIT_SIGMAS[:, None, None] ** 2,
                          tol=1e-8, max_iter=500, keep_parameter_history=True).fit(x)
    order = np.argsort(gmm.means_[:, 0])
    assert gmm.converged_
    np.testing.assert_allclose(gmm.weights_[order], [0.3, 0.4, 0.3], atol=0.03)
    np.testing.assert_allclose(gmm.means_[order, 0], [-5, 0, 5], atol=0.1)
    np.testing.assert_allclose(np.sqrt(gmm.covariances_[order, 0, 0]), [0.8, 1.0, 0.5], rtol=0.1)
    assert len(gmm.parameter_history_) == gmm.n_iter_ + 1
    np.testing.assert_allclose(gmm.parameter_history_[0][0], [1 / 3, 1 / 3, 1 / 3])   # 0.33 each, normalised
    np.testing.assert_allclose(gmm.parameter_history_[0][1][:, 0], LECTURE_INIT_MEANS)


def test_sample_weights_equal_repeated_samples():
    X = blobs(4, n=100)
    counts = np.random.default_rng(0).integers(0, 4, len(X))
    start = GaussianMixture(3, max_iter=1, seed=0).fit(X)
    init = dict(weights_init=start.weights_, means_init=start.means_, covariances_init=start.covariances_)
    weighted = GaussianMixture(3, tol=0.0, max_iter=15, **init).fit(X, sample_weight=counts)
    repeated = GaussianMixture(3, tol=0.0, max_iter=15, **init).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, atol=1e-9)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, atol=1e-9)
    np.testing.assert_allclose(weighted.log_likelihood_history_, repeated.log_likelihood_history_, atol=1e-9)


def test_same_seed_same_fit_and_more_inits_never_worse():
    X = blobs(5, n=200, k=4)
    a, b = GaussianMixture(4, seed=3).fit(X), GaussianMixture(4, seed=3).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)
    one = GaussianMixture(4, n_init=1, seed=3).fit(X)
    five = GaussianMixture(4, n_init=5, seed=3).fit(X)
    assert five.lower_bound_ >= one.lower_bound_ - 1e-12


@pytest.mark.parametrize(("kwargs", "X", "match"), [
    ({"n_components": 5}, np.zeros((4, 2)) + np.arange(4)[:, None], "n_components"),
    ({"n_components": 0}, np.ones((4, 2)), "n_components"),
    ({"n_components": 2, "covariance_type": "ful"}, np.ones((4, 2)), "covariance_type"),
    ({"n_components": 2, "init": "kmeans"}, np.ones((4, 2)), "init"),
    ({"n_components": 1, "reg_covar": -1.0}, np.ones((4, 2)), "reg_covar"),
    ({"n_components": 1}, np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
    ({"n_components": 1}, np.ones((2, 2, 2)), "shape"),
    ({"n_components": 2, "reg_covar": 0.0}, np.ones((10, 2)), "reg_covar"),
    ({"n_components": 2, "means_init": np.zeros((3, 2))}, np.random.default_rng(0).random((10, 2)), "means_init"),
    ({"n_components": 2, "weights_init": [0.5, -0.5]}, np.random.default_rng(0).random((10, 2)), "weights_init"),
    ({"n_components": 2, "covariance_type": "diag", "covariances_init": np.array([[1.0, 0.0], [1.0, 1.0]])},
     np.random.default_rng(0).random((10, 2)), "positive definite"),
])
def test_bad_input_is_a_clear_value_error(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs).fit(X)


def test_other_misuse():
    with pytest.raises(TypeError):
        GaussianMixture(1).fit(np.array([["a", "b"]]))
    with pytest.raises(RuntimeError, match="fit"):
        GaussianMixture(1).score_samples(np.zeros((2, 2)))
    gmm = GaussianMixture(2, seed=0).fit(blobs(0))
    with pytest.raises(ValueError, match="features"):
        gmm.score_samples(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="sample_weight"):
        GaussianMixture(1).fit(blobs(0), sample_weight=-np.ones(300))


def test_save_and_load_round_trip(tmp_path):
    X = blobs(6)
    gmm = GaussianMixture(3, covariance_type="diag", seed=0).fit(X)
    path = tmp_path / "gmm.npz"
    gmm.save(path)
    loaded = GaussianMixture.load(path)
    assert loaded.covariance_type == "diag" and loaded.n_components == 3 and loaded.converged_ == gmm.converged_
    np.testing.assert_array_equal(loaded.score_samples(X), gmm.score_samples(X))
    np.testing.assert_array_equal(loaded.sample(10, rng=0), gmm.sample(10, rng=0))
    assert not list(tmp_path.glob(".*.tmp"))                       # the atomic write left no temporary
    with np.load(path, allow_pickle=False) as archive:             # plain arrays, no pickle needed
        assert "fitted/means_" in archive.files
    with pytest.raises(RuntimeError, match="fit"):
        GaussianMixture(2).save(tmp_path / "unfitted.npz")
