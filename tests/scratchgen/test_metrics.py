"""Sample metrics: mode coverage, MMD, Chamfer, Parzen, the digit classifier and FID, with SciPy/sklearn oracles."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgen import metrics
from scratchgen.data import grid_of_gaussians, load_digits, ring_of_gaussians
from scratchgen.metrics import (
    chamfer_distance,
    conditional_accuracy,
    frechet_digit_distance,
    frechet_distance,
    median_heuristic,
    mmd,
    mode_coverage,
    parzen_log_likelihood,
    toy_modes,
)


def gaussian_points(seed, n, d=2, shift=0.0):
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


def random_spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


# ------------------------------------------------------------------------------------ mode coverage
@pytest.mark.parametrize("name, make, n_modes", [("ring", ring_of_gaussians, 8), ("grid", grid_of_gaussians, 25)])
def test_samples_of_the_data_cover_every_mode_evenly(name, make, n_modes):
    """2500 samples of the toy data itself cover all modes, about 1 - exp(-9/2) = 98.9% of them are high quality
    (a 2-D Gaussian puts that mass within 3 std), and q is near uniform."""
    modes, std = toy_modes(name)
    result = mode_coverage(make(2500, seed=0), modes, std)
    assert result.modes_covered == n_modes
    assert result.high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.008)   # 4 binomial standard errors
    assert result.reverse_kl < 0.02        # a multinomial's KL to uniform is about (K - 1) / (2 n) = 0.005
    assert result.counts.shape == (n_modes,)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_at_one_mode_cover_one_mode_with_kl_log_k(name):
    """Samples all around one mode cover exactly that mode, and KL(q || uniform) = log K."""
    modes, std = toy_modes(name)
    samples = modes[3] + std * gaussian_points(0, 500)
    result = mode_coverage(samples, modes, std)
    assert result.modes_covered == 1 and result.counts[3] == result.counts.sum()
    assert result.reverse_kl == pytest.approx(np.log(len(modes)), rel=1e-12)


def test_far_points_are_not_high_quality():
    """Points 10 std from every mode are not high quality: nothing is covered and the reverse KL is inf."""
    modes, std = toy_modes("ring")
    angles = np.random.default_rng(0).uniform(0, 2 * np.pi, len(modes))
    samples = modes + 10 * std * np.column_stack([np.cos(angles), np.sin(angles)])
    result = mode_coverage(samples, modes, std)
    assert (result.modes_covered, result.high_quality, result.reverse_kl) == (0, 0.0, np.inf)
    assert result.counts.sum() == 0


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10**6), spread=st.floats(0.01, 0.2), n_std=st.floats(0.5, 5.0))
def test_counts_are_the_high_quality_samples(seed, spread, n_std):
    """The counts add up to the high-quality fraction times n, and the covered modes are the non-zero counts."""
    modes, std = toy_modes("grid")
    samples = grid_of_gaussians(300, std=spread, seed=seed)
    result = mode_coverage(samples, modes, std, n_std=n_std)
    assert result.counts.sum() == round(result.high_quality * len(samples))
    assert result.modes_covered == np.count_nonzero(result.counts)
    assert 0.0 <= result.reverse_kl <= np.log(len(modes)) + 1e-12 or result.reverse_kl == np.inf


def test_toy_modes_rejects_an_unknown_name():
    """Only the ring and the grid have known modes."""
    with pytest.raises(ValueError, match="name must be one of"):
        toy_modes("two_moons")


# ------------------------------------------------------------------------------------------ Chamfer
@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 40), m=st.integers(1, 40), d=st.integers(1, 4))
def test_chamfer_is_symmetric_and_zero_on_itself(seed, n, m, d):
    """chamfer(x, y) = chamfer(y, x), chamfer(x, x) = 0 exactly, and different sets are at a positive distance."""
    x, y = gaussian_points(seed, n, d), gaussian_points(seed + 1, m, d)
    for reduction in ("sum", "mean"):
        assert chamfer_distance(x, y, reduction) == pytest.approx(chamfer_distance(y, x, reduction), rel=1e-12)
        assert chamfer_distance(x, x, reduction) == 0.0
        assert chamfer_distance(x, y, reduction) > 0.0


@pytest.mark.parametrize("n, m, d", [(300, 200, 2), (50, 1200, 3), (1, 7, 1)])
def test_chamfer_matches_a_kd_tree(n, m, d):
    """Both reductions agree with squared nearest-neighbour distances from scipy's cKDTree."""
    spatial = pytest.importorskip("scipy.spatial")
    x, y = gaussian_points(0, n, d), gaussian_points(1, m, d, shift=0.5)
    x_to_y = spatial.cKDTree(y).query(x)[0] ** 2
    y_to_x = spatial.cKDTree(x).query(y)[0] ** 2
    assert chamfer_distance(x, y) == pytest.approx(x_to_y.sum() + y_to_x.sum(), rel=1e-10)
    assert chamfer_distance(x, y, "mean") == pytest.approx(x_to_y.mean() + y_to_x.mean(), rel=1e-10)


# ---------------------------------------------------------------------------------------------- MMD
def test_mmd_is_near_zero_for_one_distribution_and_large_for_a_shift():
    """Two samples of N(0, I) have an MMD^2 near 0; shifting one by one std makes it far larger."""
    x, y = gaussian_points(0, 600), gaussian_points(1, 600)
    same, shifted = mmd(x, y), mmd(x, y + 1.0)
    assert abs(same) < 0.01
    assert shifted > 0.1 and shifted > 20 * abs(same)


@pytest.mark.parametrize("bandwidth", [0.7, (0.3, 1.0, 3.0)])
def test_mmd_matches_sklearn_rbf_kernel(bandwidth):
    """The U-statistic agrees with one written from sklearn's rbf_kernel matrices (diagonals removed)."""
    pairwise = pytest.importorskip("sklearn.metrics.pairwise")
    x, y = gaussian_points(0, 40, 3), gaussian_points(1, 30, 3, shift=0.3)

    def kernel(a, b):
        return sum(pairwise.rbf_kernel(a, b, gamma=1 / (2 * h**2)) for h in np.atleast_1d(bandwidth))

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    m, n = len(x), len(y)
    expected = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                - 2 * kxy.mean())
    assert mmd(x, y, bandwidth) == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_mmd_default_bandwidth_is_the_median_distance():
    """Without a bandwidth, mmd uses the median pairwise distance of the pooled points (as scipy's pdist)."""
    distance = pytest.importorskip("scipy.spatial.distance")
    x, y = gaussian_points(0, 60), gaussian_points(1, 40, shift=1.0)   # 4950 pairs: an even count
    median = np.median(distance.pdist(np.vstack([x, y])))
    assert median_heuristic(x, y) == pytest.approx(median, rel=1e-10)
    assert mmd(x, y) == pytest.approx(mmd(x, y, median), rel=1e-10)


def test_median_heuristic_on_a_subset_is_close_to_the_exact_one():
    """Above MEDIAN_MAX_POINTS the median of a random subset is within 2% of the median of all pairs."""
    distance = pytest.importorskip("scipy.spatial.distance")
    x = gaussian_points(0, 3000)
    assert median_heuristic(x) == pytest.approx(np.median(distance.pdist(x)), rel=0.02)


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 30), m=st.integers(2, 30), shift=st.floats(0.0, 2.0))
def test_mmd_is_symmetric(seed, n, m, shift):
    """mmd(x, y) = mmd(y, x), also with the default (pooled, hence shared) bandwidth."""
    x, y = gaussian_points(seed, n), gaussian_points(seed + 1, m, shift=shift)
    assert mmd(x, y) == pytest.approx(mmd(y, x), rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------------- Frechet distance
def test_frechet_distance_of_a_gaussian_to_itself_is_zero():
    """Identical Gaussians are at distance 0."""
    rng = np.random.default_rng(0)
    mu, cov = rng.standard_normal(5), random_spd(rng, 5)
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_diagonal_gaussians_has_a_closed_form():
    """With diagonal covariances a, b the distance is |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2."""
    rng = np.random.default_rng(1)
    mu1, mu2, a, b = rng.standard_normal(4), rng.standard_normal(4), rng.uniform(0.1, 3, 4), rng.uniform(0.1, 3, 4)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_frechet_distance_matches_scipy_sqrtm(seed):
    """On random SPD matrices it agrees with the usual FID code built on scipy.linalg.sqrtm(C1 C2)."""
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(seed)
    d = 6
    mu1, mu2, cov1, cov2 = rng.standard_normal(d), rng.standard_normal(d), random_spd(rng, d), random_spd(rng, d)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * linalg.sqrtm(cov1 @ cov2).real)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-8)


# ------------------------------------------------------------------------------------------- Parzen
@pytest.mark.parametrize("d", [1, 2])
def test_parzen_estimate_approaches_the_true_log_density(d):
    """With 5000 generated samples from the true N(0, I), the Parzen test log-likelihood is within 0.05 nats
    of the true mean log-density of the test points; the bandwidth comes from the grid; stderr > 0."""
    generated, validation, test = gaussian_points(0, 5000, d), gaussian_points(1, 500, d), gaussian_points(2, 1000, d)
    true_log_density = np.mean(-0.5 * np.sum(test**2, axis=1) - 0.5 * d * np.log(2 * np.pi))
    grid = np.geomspace(0.05, 1.0, 12)
    result = parzen_log_likelihood(generated, validation, test, bandwidths=grid)
    assert result.log_likelihood == pytest.approx(true_log_density, abs=0.05)
    assert result.bandwidth in grid
    assert 0 < result.stderr < 0.1


def test_parzen_default_grid_brackets_the_best_bandwidth():
    """The default grid (relative to the data's scale) holds the best bandwidth inside it, for a wide blob
    and for the narrow modes of the ring alike (no end-of-grid warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for make in (lambda n, seed: 10 * gaussian_points(seed, n), ring_of_gaussians):
            parzen_log_likelihood(make(2000, seed=0), make(200, seed=1), make(200, seed=2))


def test_parzen_warns_when_the_best_bandwidth_is_at_the_grid_end():
    """A grid of only too-large bandwidths gets a warning to widen it."""
    with pytest.warns(RuntimeWarning, match="end of the grid"):
        parzen_log_likelihood(gaussian_points(0, 500), gaussian_points(1, 100), gaussian_points(2, 100),
                              bandwidths=[5.0, 10.0, 20.0])


# --------------------------------------------------------------------------------- digit classifier
@pytest.fixture(scope="module")
def classifier():
    return metrics.default_digit_classifier()


@pytest.fixture(scope="module")
def test_digits():
    return load_digits("test")


def test_classifier_reads_test_digits(classifier, test_digits):
    """The default classifier is right on at least 90% of the test split (writers it never saw)."""
    accuracy = classifier.accuracy(*test_digits)
    assert accuracy >= 0.9, f"test accuracy {accuracy:.4f}"


def test_classifier_outputs_have_the_documented_shapes(classifier, test_digits):
    """predict_proba rows are distributions whose argmax is predict; features are float64 (n, 128); (n, 8, 8)
    and (n, 64) images give the same answers."""
    images = test_digits[0][:20]
    p = classifier.predict_proba(images)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(np.argmax(p, axis=1), classifier.predict(images))
    features = classifier.features(images)
    assert features.shape == (20, 128) and features.dtype == np.float64
    np.testing.assert_array_equal(classifier.features(images.reshape(20, 8, 8)), features)


def test_default_classifier_is_cached(classifier):
    """default_digit_classifier trains once per process: the second call returns the same object."""
    assert metrics.default_digit_classifier() is classifier


def test_training_is_deterministic_given_the_seed():
    """Two trainings with the same seed give identical weights."""
    first, second = (metrics.train_digit_classifier(seed=3, epochs=2).state_dict() for _ in range(2))
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_conditional_accuracy_is_high_for_true_labels_and_chance_for_shuffled(classifier, test_digits):
    """Real digits with their labels score >= 0.9; with shuffled labels about 1/10."""
    images, labels = test_digits
    assert conditional_accuracy(images, labels, classifier) >= 0.9
    shuffled = np.random.default_rng(0).permutation(labels)
    assert conditional_accuracy(images, shuffled, classifier) < 0.2


def test_frechet_digit_distance_separates_real_digits_from_noise(classifier, test_digits):
    """FID(test, test) is 0; FID(validation, test) is much smaller than FID(noise, test)."""
    test_images = test_digits[0]
    noise = np.random.default_rng(0).uniform(0, 16, test_images.shape)
    real = frechet_digit_distance(load_digits("validation")[0], test_images, classifier)
    fake = frechet_digit_distance(noise, test_images, classifier)
    assert frechet_digit_distance(test_images, test_images, classifier) == pytest.approx(0.0, abs=1e-6 * fake)
    assert real < 0.1 * fake, f"FID validation-test {real:.3g}, noise-test {fake:.3g}"


# ------------------------------------------------------------------------------------------ bad input
POINTS = gaussian_points(0, 10)
NAN_POINTS = np.where(np.arange(20).reshape(10, 2) == 3, np.nan, POINTS)
MODES, STD = toy_modes("ring")
IMAGES = np.full((4, 64), 8.0)
LABELS = np.array([0, 1, 2, 3])
EYE = np.eye(2)


@pytest.mark.parametrize("call, match", [
    (lambda: mode_coverage(NAN_POINTS, MODES, STD), "samples contains NaN"),
    (lambda: mode_coverage(POINTS[:, 0], MODES, STD), "samples must be a 2-D array"),
    (lambda: mode_coverage(np.empty((0, 2)), MODES, STD), "samples needs at least 1"),
    (lambda: mode_coverage(gaussian_points(0, 10, 3), MODES, STD), "samples has 3 coordinates"),
    (lambda: mode_coverage(POINTS, MODES, 0.0), "std must be a positive"),
    (lambda: mode_coverage(POINTS, MODES, STD, n_std=np.inf), "n_std must be a finite number"),
    (lambda: mode_coverage(POINTS, MODES[None], STD), "modes must be a 2-D array"),
    (lambda: mmd(POINTS, POINTS[:1]), "y needs at least 2"),
    (lambda: mmd(NAN_POINTS, POINTS), "x contains NaN"),
    (lambda: mmd(POINTS, POINTS, bandwidth=-1.0), "bandwidth must be a positive"),
    (lambda: mmd(POINTS, POINTS, bandwidth=[]), "bandwidth must be a positive"),
    (lambda: mmd(np.zeros((5, 2)), np.zeros((5, 2))), "median"),
    (lambda: chamfer_distance(POINTS, gaussian_points(0, 10, 3)), "y has 3 coordinates"),
    (lambda: chamfer_distance(POINTS, np.empty((0, 2))), "y needs at least 1"),
    (lambda: chamfer_distance(POINTS, POINTS, reduction="max"), "reduction must be"),
    (lambda: parzen_log_likelihood(POINTS, POINTS, NAN_POINTS), "test contains NaN"),
    (lambda: parzen_log_likelihood(POINTS, POINTS[:, :1], POINTS), "validation has 1 coordinates"),
    (lambda: parzen_log_likelihood(POINTS, POINTS, POINTS, bandwidths=[0.1, np.nan]), "bandwidths must be"),
    (lambda: parzen_log_likelihood(POINTS, np.ones((5, 2)), POINTS), "validation samples are all identical"),
    (lambda: frechet_distance(np.zeros(2), EYE, np.zeros(3), np.eye(3)), "mu2 has 3 dimensions"),
    (lambda: frechet_distance(np.zeros(2), EYE, np.zeros(2), np.eye(3)), "cov2 must be a \\(2, 2\\)"),
    (lambda: frechet_distance(np.zeros(2), [[1, 2], [0, 1]], np.zeros(2), EYE), "cov1 must be symmetric"),
    (lambda: frechet_distance(np.zeros((2, 1)), EYE, np.zeros(2), EYE), "mu1 must be a non-empty 1-D"),
    (lambda: frechet_distance(np.array([np.nan, 0]), EYE, np.zeros(2), EYE), "mu1 or cov1 contains NaN"),
    (lambda: conditional_accuracy(IMAGES.reshape(4, 8, 4, 2), LABELS), "samples must be 8x8 digit images"),
    (lambda: conditional_accuracy(IMAGES / 8 - 1.5, LABELS), "samples must have pixel values in \\[0, 16\\]"),
    (lambda: conditional_accuracy(IMAGES, LABELS[:3]), "intended_labels must have shape \\(4,\\)"),
    (lambda: conditional_accuracy(IMAGES, LABELS + 7), "intended_labels must hold the integer digits"),
    (lambda: conditional_accuracy(IMAGES[:0], LABELS[:0]), "samples needs at least 1 image"),
    (lambda: frechet_digit_distance(IMAGES, IMAGES[:1]), "reference needs at least 2 image"),
    (lambda: frechet_digit_distance(np.where(IMAGES == 8, np.inf, 0), IMAGES), "samples contains NaN"),
])
def test_bad_input_is_a_value_error_that_names_the_argument(call, match):
    """Each metric rejects NaN, wrong shapes, empty sets and mismatched dimensions, naming the argument."""
    with pytest.raises(ValueError, match=match):
        call()
