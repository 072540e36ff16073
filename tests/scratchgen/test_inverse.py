"""The inverse problems' linear operators: adjoints, NumPy and Tensor paths agree, the baselines, PSNR."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import Tensor
from scratchgen.models.inverse import OPERATORS, AveragePool, GaussianBlur, PixelMask, gaussian_kernel, psnr

OPERATOR_CASES = [PixelMask.lower_half(), AveragePool(), GaussianBlur(1.0, 5), GaussianBlur(0.6, 3)]


@pytest.mark.parametrize("A", OPERATOR_CASES, ids=lambda A: f"{A.name}")
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 4))
@settings(max_examples=20, deadline=None)
def test_the_adjoint_is_the_adjoint(A, seed, n):
    """<A x, y> = <x, A^T y> for random x, y: the defining property, on both the NumPy and the Tensor path."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, 1, 8, 8)), rng.standard_normal((n, *A.observed_shape))
    np.testing.assert_allclose(np.sum(A(x) * y), np.sum(x * A.adjoint(y)), atol=1e-10)
    np.testing.assert_allclose(A(Tensor(x)).numpy(), A(x), atol=1e-12)
    np.testing.assert_allclose(A.adjoint(Tensor(y)).numpy(), A.adjoint(y), atol=1e-12)


@pytest.mark.parametrize("A", OPERATOR_CASES, ids=lambda A: f"{A.name}")
def test_the_operator_is_differentiable(A):
    """grad_x (1/2)||y - A x||^2 = -A^T (y - A x): what DPS differentiates through the denoiser."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((2, *A.observed_shape))
    xt = Tensor(x, requires_grad=True)
    r = Tensor(y) - A(xt)
    (g,) = al.grad((r * r).sum() * 0.5, xt)
    np.testing.assert_allclose(g.numpy(), -A.adjoint(y - A(x)), atol=1e-12)


def test_the_operators_do_what_they_say():
    x = np.arange(64.0).reshape(1, 1, 8, 8)
    masked = PixelMask.lower_half()(x)
    assert np.all(masked[0, 0, 4:] == 0) and np.array_equal(masked[0, 0, :4], x[0, 0, :4])
    pooled = AveragePool()(x)
    assert pooled.shape == (1, 1, 4, 4) and pooled[0, 0, 0, 0] == np.mean([0, 1, 8, 9])
    k = gaussian_kernel(1.0, 5)
    assert k.sum() == pytest.approx(1.0) and np.array_equal(k, k.T) and k[2, 2] == k.max()
    flat = np.ones((1, 1, 8, 8))
    blurred = GaussianBlur(1.0, 5)(flat)
    assert blurred[0, 0, 3, 3] == pytest.approx(1.0) and blurred[0, 0, 0, 0] < 0.6  # zero padding darkens corners
    assert set(OPERATORS) == {"inpaint", "superres", "deblur"}
    with pytest.raises(ValueError, match="mask"):
        PixelMask(np.full((8, 8), 0.5))
    with pytest.raises(ValueError, match="odd"):
        GaussianBlur(1.0, 4)


def test_the_upsampling_baselines():
    A = AveragePool()
    ramp = np.tile(np.arange(8.0), (8, 1)).reshape(1, 1, 8, 8)  # linear in the column index
    low = A(ramp)
    np.testing.assert_allclose(A.upsample_bilinear(low)[0, 0, :, 1:7], ramp[0, 0, :, 1:7])  # exact inside
    np.testing.assert_allclose(A.upsample_nearest(low), A.adjoint(low) * 4)
    np.testing.assert_allclose(A(A.upsample_bilinear(low))[..., 1:3], low[..., 1:3])  # consistent inside


def test_psnr():
    truth = np.zeros((2, 8, 8))
    assert psnr(truth, truth) == float("inf")
    assert psnr(truth + 1.6, truth) == pytest.approx(20.0)  # MSE = (16 / 10)^2: 20 dB
