"""CategoricalMixture (EM on the digits' grey levels) and GenerativeClassifier (Bayes, p(x) for outliers)."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgen.data import N_PIXEL_VALUES, load_digits
from scratchgen.density import CategoricalMixture, GaussianMixture, GenerativeClassifier, KernelDensity


def planted(seed, n=400, D=6, V=4, K=3):
    rng = np.random.default_rng(seed)
    theta = rng.dirichlet(np.full(V, 0.3), size=(K, D))
    k = rng.integers(0, K, n)
    u = rng.random((n, D, 1))
    return np.sum(np.cumsum(theta[k], axis=2) < u, axis=2).clip(0, V - 1), theta


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), K=st.integers(1, 4), init=st.sampled_from(["kmeans++", "random"]))
def test_categorical_em_never_decreases_the_likelihood(seed, K, init):
    X, _ = planted(seed)
    model = CategoricalMixture(K, n_categories=4, alpha=1e-9, init=init, tol=0.0, max_iter=20, seed=seed).fit(X)
    history = model.log_likelihood_history_
    assert np.all(np.diff(history) >= -1e-7)
    resp = model.predict_proba(X)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(model.probabilities_.sum(axis=2), 1.0, atol=1e-12)


def test_categorical_probabilities_sum_to_one_over_every_configuration():
    X, _ = planted(0, D=3, V=3)
    model = CategoricalMixture(2, n_categories=3, seed=0).fit(X)
    every = np.array(list(itertools.product(range(3), repeat=3)))
    assert np.exp(model.score_samples(every)).sum() == pytest.approx(1.0, abs=1e-12)


def test_one_component_is_the_smoothed_frequency_table():
    X, _ = planted(1, V=5)
    alpha = 0.5
    model = CategoricalMixture(1, n_categories=5, alpha=alpha).fit(X)
    counts = np.stack([np.bincount(X[:, d], minlength=5) for d in range(X.shape[1])])
    np.testing.assert_allclose(model.probabilities_[0], (counts + alpha) / (len(X) + 5 * alpha), rtol=1e-12)


def test_categorical_sampling_matches_the_marginals_and_is_seeded():
    X, _ = planted(2)
    model = CategoricalMixture(3, n_categories=4, seed=0).fit(X)
    draws = model.sample(100_000, rng=3).astype(int)
    marginal = np.einsum("k,kdv->dv", model.weights_, model.probabilities_)
    frequencies = np.stack([np.bincount(draws[:, d], minlength=4) for d in range(X.shape[1])]) / len(draws)
    np.testing.assert_allclose(frequencies, marginal, atol=0.01)
    np.testing.assert_array_equal(model.sample(20, rng=4), model.sample(20, rng=np.random.default_rng(4)))


def test_categorical_weights_equal_repeats():
    X, _ = planted(3, n=60)
    counts = np.random.default_rng(0).integers(0, 4, len(X))
    weighted = CategoricalMixture(1, n_categories=4).fit(X, sample_weight=counts)
    repeated = CategoricalMixture(1, n_categories=4).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(weighted.probabilities_, repeated.probabilities_, rtol=1e-12)
    np.testing.assert_allclose(weighted.score(X), repeated.score(X), rtol=1e-12)


def test_digits_baseline_beats_independent_pixels():
    X_train, _ = load_digits("train")
    X_test, _ = load_digits("test")
    single = CategoricalMixture(1, n_categories=N_PIXEL_VALUES, alpha=0.1).fit(X_train)
    mixture = CategoricalMixture(10, n_categories=N_PIXEL_VALUES, alpha=0.1, seed=0).fit(X_train)
    nll_single, nll_mixture = -single.score(X_test), -mixture.score(X_test)
    print(f"digits test NLL (nats): independent pixels {nll_single:.2f}, 10-component mixture {nll_mixture:.2f}")
    assert nll_mixture < nll_single - 3.0
    assert 85.0 < nll_mixture < 105.0


@pytest.mark.parametrize(("kwargs", "X", "match"), [
    ({"n_components": 2}, np.array([[0.5, 1.0], [1.0, 2.0]]), "integers"),
    ({"n_components": 2}, np.array([[-1, 1], [1, 2]]), "integers"),
    ({"n_components": 2, "n_categories": 2}, np.array([[0, 1], [1, 2]]), "n_categories"),
    ({"n_components": 3}, np.array([[0, 1], [1, 2]]), "n_components"),
    ({"n_components": 1, "alpha": 0.0}, np.array([[0, 1], [1, 2]]), "alpha"),
    ({"n_components": 1, "init": "kmeans"}, np.array([[0, 1], [1, 2]]), "init"),
])
def test_categorical_bad_input(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        CategoricalMixture(**kwargs).fit(X)


def two_gaussian_classes(seed, n=300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 2)) * np.where(y[:, None] == 0, 1.0, 0.5) + 2.0 * y[:, None]
    return X, y


def test_matches_gaussian_naive_bayes():
    naive_bayes = pytest.importorskip("sklearn.naive_bayes")
    X, y = two_gaussian_classes(0)
    epsilon = 1e-9 * np.var(X, axis=0).max()     # GaussianNB's var_smoothing, as our reg_covar
    ours = GenerativeClassifier(GaussianMixture(1, covariance_type="diag", reg_covar=epsilon)).fit(X, y)
    theirs = naive_bayes.GaussianNB().fit(X, y)
    queries = np.vstack([X, [[10.0, -10.0]]])
    np.testing.assert_allclose(ours.predict_proba(queries), theirs.predict_proba(queries), atol=1e-9)
    np.testing.assert_allclose(ours.predict_log_proba(queries), theirs.predict_log_proba(queries), atol=1e-7)
    np.testing.assert_array_equal(ours.predict(queries), theirs.predict(queries))


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 10**6))
def test_bayes_rule_is_consistent(seed):
    X, y = two_gaussian_classes(seed)
    model = GenerativeClassifier(KernelDensity(bandwidth="scott")).fit(X, y)
    joint = model.joint_log_likelihood(X)
    log_px = model.score_samples(X)
    np.testing.assert_allclose(np.log(np.exp(joint).sum(axis=1)), log_px, rtol=1e-10)
    np.testing.assert_allclose(model.predict_proba(X), np.exp(joint - log_px[:, None]), rtol=1e-9)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0, atol=1e-12)
    assert model.score(X, y) > 0.8


def test_p_of_x_flags_outliers_that_p_of_y_given_x_does_not():
    X, y = two_gaussian_classes(1)
    model = GenerativeClassifier(GaussianMixture(1)).fit(X, y)
    outlier = np.array([[40.0, 40.0]])
    assert model.predict_proba(outlier).max() > 0.99          # the conditional is certain ...
    assert model.score_samples(outlier)[0] < model.score_samples(X).min() - 50   # ... but p(x) is tiny


def test_priors_and_bad_input():
    X, y = two_gaussian_classes(2)
    uniform = GenerativeClassifier(GaussianMixture(1), priors=[0.5, 0.5]).fit(X, y)
    np.testing.assert_allclose(np.exp(uniform.log_priors_), [0.5, 0.5])
    with pytest.raises(ValueError, match="priors"):
        GenerativeClassifier(GaussianMixture(1), priors=[0.9, 0.2]).fit(X, y)
    with pytest.raises(ValueError, match="y must"):
        GenerativeClassifier(GaussianMixture(1)).fit(X, y[:-1])
    with pytest.raises(ValueError, match="class"):
        GenerativeClassifier(GaussianMixture(2)).fit(X[:3], np.array([0, 1, 2]))   # 1 sample, 2 components
    with pytest.raises(TypeError, match="estimator"):
        GenerativeClassifier(object()).fit(X, y)
    with pytest.raises(RuntimeError, match="fit"):
        GenerativeClassifier(GaussianMixture(1)).predict(X)
