"""The one way every sampler turns ``rng`` into a Generator, and the open-interval uniforms."""
import numpy as np
import pytest

from scratchgen.sampling.rng import as_generator, check_size, uniform_open


def test_as_generator_passes_generators_through_and_seeds_ints():
    g = np.random.default_rng(0)
    assert as_generator(g) is g
    assert as_generator(5).random() == as_generator(5).random()
    assert as_generator(np.int64(5)).random() == as_generator(5).random()
    assert isinstance(as_generator(None), np.random.Generator)


@pytest.mark.parametrize("bad, error", [
    ("seed", TypeError), (1.5, TypeError), (True, TypeError), (np.random.RandomState(0), TypeError), (-1, ValueError),
])
def test_as_generator_rejects_other_things(bad, error):
    with pytest.raises(error, match="rng"):
        as_generator(bad)


class ZerosFirst:
    """A stand-in generator whose first draws are exact zeros (probability 2^-53 each in real life)."""

    def __init__(self):
        self.inner = np.random.default_rng(0)
        self.calls = 0

    def random(self, size):
        self.calls += 1
        u = self.inner.random(size)
        if self.calls == 1:
            u.flat[::3] = 0.0
        return u


def test_uniform_open_never_returns_zero():
    u = uniform_open(ZerosFirst(), (4, 5))
    assert u.shape == (4, 5)
    assert np.all((u > 0) & (u < 1))


@pytest.mark.parametrize("size, shape", [(3, (3,)), ((2, 3), (2, 3)), ((), ()), (np.int32(4), (4,))])
def test_check_size(size, shape):
    assert check_size(size) == shape


@pytest.mark.parametrize("size, error", [(-1, ValueError), (2.5, TypeError), ((2, -3), ValueError), ("3", TypeError)])
def test_check_size_rejects_bad_sizes(size, error):
    with pytest.raises(error, match="size"):
        check_size(size)
