"""The shipped digits (split, values, checksum) and the toy sets (definitions, seeding)."""
import hashlib
from importlib import resources

import numpy as np
import pytest

from scratchgen import data


def test_digits_file_is_the_documented_one():
    raw = resources.files("scratchgen.data").joinpath("digits.npz").read_bytes()
    expected = "b2dab7b501728c22e9119ad76740b2e17c77a231e42d1e592380d90886f1a05e"
    assert hashlib.sha256(raw).hexdigest() == expected
    assert resources.files("scratchgen.data").joinpath("DIGITS_LICENSE.md").is_file()


def test_digits_split_sizes_and_order():
    X_all, y_all = data.load_digits("all")
    parts = [data.load_digits(s) for s in ("train", "validation", "test")]
    assert [len(p[0]) for p in parts] == [1000, 350, 447]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), X_all)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), y_all)
    assert X_all.shape == (1797, 64) and X_all.dtype == np.float64
    assert X_all.min() == 0 and X_all.max() == 16 and np.all(X_all == np.round(X_all))
    assert set(np.unique(y_all)) == set(range(10))
    images, _ = data.load_digits("test", flatten=False)
    assert images.shape == (447, 8, 8)


def test_digits_rejects_unknown_split():
    with pytest.raises(ValueError, match="split"):
        data.load_digits("val")


@pytest.mark.parametrize("name", sorted(data.TOY_SETS))
def test_toy_sets_are_seeded_and_shaped(name):
    a, b = data.make_toy(name, 500, seed=3), data.make_toy(name, 500, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (500, 2) and a.dtype == np.float64 and np.all(np.isfinite(a))
    assert not np.array_equal(a, data.make_toy(name, 500, seed=4))
    rng = np.random.default_rng(7)
    same = data.make_toy(name, 50, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(data.make_toy(name, 50, seed=rng), same)


def test_ring_and_grid_match_their_definitions():
    modes = data.ring_modes()
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.0)
    assert len(np.unique(np.round(np.arctan2(modes[:, 1], modes[:, 0]), 6))) == 8
    x = data.ring_of_gaussians(20000, seed=0)
    nearest = np.argmin(((x[:, None] - modes) ** 2).sum(-1), axis=1)
    assert np.bincount(nearest, minlength=8).min() > 2000
    np.testing.assert_allclose((x - modes[nearest]).std(), 0.02, rtol=0.05)
    grid = data.grid_modes()
    assert grid.shape == (25, 2) and set(np.unique(grid)) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    g = data.grid_of_gaussians(20000, seed=0)
    nearest = np.argmin(((g[:, None] - grid) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose((g - grid[nearest]).std(), 0.05, rtol=0.05)


def test_checkerboard_only_black_squares():
    c = data.checkerboard(5000, seed=1)
    assert np.all(np.abs(c) <= 2)
    assert np.all((np.floor(c[:, 0]) + np.floor(c[:, 1])) % 2 == 0)


def test_lecture_mixture_matches_its_parameters():
    x, k = data.lecture_mixture_1d(60000, seed=0, return_components=True)
    np.testing.assert_allclose(np.bincount(k) / len(k), data.LECTURE_WEIGHTS, atol=0.01)
    for j in range(3):
        np.testing.assert_allclose(x[k == j].mean(), data.LECTURE_MEANS[j], atol=0.03)
        np.testing.assert_allclose(x[k == j].std(), data.LECTURE_SIGMAS[j], rtol=0.03)
    grid = np.linspace(-12, 12, 20001)
    np.testing.assert_allclose(np.trapezoid(data.lecture_mixture_1d_pdf(grid), grid), 1.0, atol=1e-8)


@pytest.mark.parametrize("n", [0, -1, 2.5])
def test_toy_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        data.two_moons(n)


def test_swiss_roll_is_the_benchmark_definition():
    """The KAIST DDPM benchmark: scikit-learn's hole=True roll, (x, z) kept, one scalar mean and std."""
    datasets = pytest.importorskip("sklearn.datasets")
    stats = pytest.importorskip("scipy.stats")
    ours = data.swiss_roll(20000, seed=0)
    # standardised with one scalar mean and one scalar std over both coordinates, times 2
    np.testing.assert_allclose(ours.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(ours.std(), 2.0, rtol=1e-12)
    # Each draw is standardised by its own statistics, which move by more than a KS test on 20000 points
    # forgives; so compare the pooled points of many small draws (the whole definition, normalisation included).
    def theirs(seed):
        x, _ = datasets.make_swiss_roll(100, noise=0.0, hole=True, random_state=seed)
        return (x[:, [0, 2]] - x[:, [0, 2]].mean()) / x[:, [0, 2]].std() * 2.0

    ours = np.concatenate([data.swiss_roll(100, seed=seed) for seed in range(300)])
    reference = np.concatenate([theirs(seed) for seed in range(300)])
    radius = lambda s: np.hypot(*s.T)  # noqa: E731
    for f_ours, f_ref in zip((ours[:, 0], ours[:, 1], radius(ours)),
                             (reference[:, 0], reference[:, 1], radius(reference))):
        assert stats.ks_2samp(f_ours, f_ref).pvalue > 0.01
    # and the test has power: the roll without its hole is told apart
    no_hole = np.concatenate([(lambda x: (x - x.mean()) / x.std() * 2.0)(
        datasets.make_swiss_roll(100, noise=0.0, hole=False, random_state=seed)[0][:, [0, 2]]) for seed in range(300)])
    assert stats.ks_2samp(radius(no_hole), radius(reference)).pvalue < 1e-6


def test_spiral_keeps_the_old_noisy_roll():
    x = data.spiral(5000, seed=0)
    assert x.shape == (5000, 2) and np.abs(x).max() < 4
