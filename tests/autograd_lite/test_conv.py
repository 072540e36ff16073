"""Convolution, pooling and upsampling ops and layers: gradients (first and second order), PyTorch
agreement, bad input, devices.

Every gradient test runs on both kernel paths (numba, generic); the kernels themselves are checked
against direct loops in test_kernels.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import PATHS, conv_geometries, dtype_of, on_path

import autograd_lite as al
from autograd_lite import backend, nn
from autograd_lite.ops import conv as conv_ops

# ------------------------------------------------------------------------------------ first-order gradients


@PATHS
@given(case=conv_geometries())
def test_conv2d_gradients_match_finite_differences(path, case):
    x, weight, bias, geometry, _ = case
    with on_path(path):
        assert al.gradcheck(lambda x, w, b: al.conv2d(x, w, b, **geometry), [x, weight, bias])


@PATHS
@given(case=conv_geometries(transposed=True))
def test_conv_transpose2d_gradients_match_finite_differences(path, case):
    x, weight, bias, geometry, output_padding = case
    with on_path(path):
        assert al.gradcheck(
            lambda x, w, b: al.conv_transpose2d(x, w, b, output_padding=output_padding, **geometry), [x, weight, bias]
        )


@PATHS
@given(
    kernel=st.integers(1, 3), stride=st.integers(1, 3), data=st.data(), seed=st.integers(0, 2**16),
)
def test_pooling_gradients_match_finite_differences(path, kernel, stride, data, seed):
    padding = data.draw(st.integers(0, kernel // 2))
    h, w = data.draw(st.integers(kernel, 6)), data.draw(st.integers(kernel, 6))
    # distinct, well-separated values: no window has a near-tie that a finite difference could flip
    values = np.random.default_rng(seed).permutation(2 * 3 * h * w).reshape(2, 3, h, w) * 0.01
    with on_path(path):
        assert al.gradcheck(lambda x: al.max_pool2d(x, kernel, stride, padding), [values])
        assert al.gradcheck(lambda x: al.avg_pool2d(x, kernel, stride, padding), [values])


@PATHS
@given(scale=st.integers(1, 3), seed=st.integers(0, 100))
def test_upsample_nearest2d_gradient_matches_finite_differences(path, scale, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, 3, 2))
    with on_path(path):
        assert al.gradcheck(lambda x: al.upsample_nearest2d(x, scale), [x])


# ----------------------------------------------------------------------------------- second-order gradients


@PATHS
@pytest.mark.parametrize(
    ("stride", "padding", "dilation"), [(1, 1, 1), (2, 0, 1), ((2, 1), (1, 0), (1, 2))]
)
def test_conv2d_second_derivatives(path, stride, padding, dilation):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    with on_path(path):
        assert al.gradgradcheck(lambda x, w, b: al.conv2d(x, w, b, stride, padding, dilation), [x, w, b])


@PATHS
@pytest.mark.parametrize(("stride", "padding", "output_padding"), [(1, 0, 0), (2, 1, 1)])
def test_conv_transpose2d_second_derivatives(path, stride, padding, output_padding):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 2, 3, 3)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(3)
    with on_path(path):
        assert al.gradgradcheck(
            lambda x, w, b: al.conv_transpose2d(x, w, b, stride, padding, output_padding), [x, w, b]
        )


@PATHS
def test_pooling_and_upsampling_second_derivatives(path):
    """Squared outputs make the second derivative non-trivial (the ops themselves are piecewise linear)."""
    x = np.random.default_rng(2).permutation(2 * 2 * 5 * 4).reshape(2, 2, 5, 4) * 0.1
    with on_path(path):
        assert al.gradgradcheck(lambda x: al.max_pool2d(x, 3, 2, 1) ** 2, [x])
        assert al.gradgradcheck(lambda x: al.avg_pool2d(x, 2, 1, 1) ** 2, [x])
        assert al.gradgradcheck(lambda x: al.upsample_nearest2d(x, (2, 1)) ** 2, [x])


@PATHS
def test_gradient_penalty_through_a_conv_critic_trains_the_weights(path):
    """d/dw of ||d critic(x)/dx||^2 (WGAN-GP's penalty) exists and matches finite differences."""
    rng = np.random.default_rng(3)
    x, w1, w2 = rng.standard_normal((2, 1, 5, 5)), rng.standard_normal((3, 1, 3, 3)), rng.standard_normal((1, 3, 3, 3))

    def penalty(w1, w2):
        inputs = al.Tensor(x, requires_grad=True)
        score = al.conv2d(al.tanh(al.conv2d(inputs, w1, padding=1)), w2, stride=2).sum()
        (grad_x,) = al.grad(score, [inputs], create_graph=True)
        return (grad_x * grad_x).sum()

    with on_path(path):
        assert al.gradcheck(penalty, [w1, w2])


# ------------------------------------------------------------------------------------------ agreement


def test_both_kernel_paths_give_the_same_tensors_and_gradients():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 3, 8, 8)).astype(np.float32)
    conv = nn.Conv2d(3, 5, 3, padding=1, rng=0)
    up = nn.ConvTranspose2d(5, 2, 4, stride=2, padding=1, rng=1)
    results = []
    for path in ("numba", "generic"):
        with on_path(path):
            inputs = al.Tensor(x, requires_grad=True)
            conv.zero_grad()
            up.zero_grad()
            y = up(al.max_pool2d(al.relu(conv(inputs)), 2))
            (y * y).sum().backward()
            results.append([y.numpy(), inputs.grad.numpy(), conv.weight.grad.numpy(), up.weight.grad.numpy()])
    for numba_result, generic_result in zip(*results):
        np.testing.assert_allclose(numba_result, generic_result, rtol=2e-4, atol=2e-4)


def test_ops_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((3, 4, 9, 7)), rng.standard_normal((5, 4, 3, 2)), rng.standard_normal(5)
    wt = rng.standard_normal((4, 3, 4, 3))
    cases = [
        (lambda x, w, b: al.conv2d(x, w, b, 2, 1, (2, 1)),
         lambda x, w, b: functional.conv2d(x, w, b, 2, 1, (2, 1)), (x, w, b)),
        (lambda x, w, b: al.conv_transpose2d(x, w, b, 2, 1, 1),
         lambda x, w, b: functional.conv_transpose2d(x, w, b, 2, 1, 1), (x, wt, b[:3])),
        (lambda x: al.max_pool2d(x, 3, 2, 1), lambda x: functional.max_pool2d(x, 3, 2, 1), (x,)),
        (lambda x: al.avg_pool2d(x, 3, 2, 1), lambda x: functional.avg_pool2d(x, 3, 2, 1), (x,)),
        (lambda x: al.upsample_nearest2d(x, 2), lambda x: functional.interpolate(x, scale_factor=2), (x,)),
    ]
    for ours, theirs, arrays in cases:
        ours_in = [al.Tensor(a, requires_grad=True) for a in arrays]
        theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
        y, expected = ours(*ours_in), theirs(*theirs_in)
        np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
        g = rng.standard_normal(y.shape)
        y.backward(al.Tensor(g))
        expected.backward(torch.tensor(g))
        for a, t in zip(ours_in, theirs_in):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_layers_match_pytorch_initialisation_bounds_and_shapes():
    conv = nn.Conv2d(32, 64, 3, padding=1, rng=0)
    up = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1, rng=0)
    assert conv.weight.shape == (64, 32, 3, 3) and conv.bias.shape == (64,)
    assert up.weight.shape == (64, 32, 4, 4) and up.bias.shape == (32,)
    assert np.abs(conv.weight.numpy()).max() <= 1 / np.sqrt(32 * 9)
    assert np.abs(up.weight.numpy()).max() <= 1 / np.sqrt(32 * 16)
    x = al.Tensor(np.zeros((2, 32, 7, 7), np.float32))
    assert conv(x).shape == (2, 64, 7, 7)
    assert up(conv(x)).shape == (2, 32, 14, 14)
    assert nn.MaxPool2d(2)(x).shape == (2, 32, 3, 3)
    assert nn.AvgPool2d(3, 1, 1)(x).shape == (2, 32, 7, 7)
    assert nn.Upsample(scale_factor=2)(x).shape == (2, 32, 14, 14)
    assert dtype_of(conv(x)) == np.float32
    assert len(list(nn.Sequential(conv, nn.ReLU(), up).parameters())) == 4


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "message"),
    [
        ((3, 8, 8), (4, 3, 3, 3), r"input must be 4-D .*\(3, 8, 8\)"),
        ((2, 3, 8, 8), (4, 3, 3), r"weight must be 4-D .*\(4, 3, 3\)"),
        ((2, 2, 8, 8), (4, 3, 3, 3), r"input has 2 channels \(shape \(2, 2, 8, 8\)\) but the weight expects 3"),
        ((2, 3, 2, 2), (4, 3, 5, 5), r"kernel \(5, 5\) .* larger than the padded input \(2, 2\)"),
    ],
)
def test_conv2d_bad_input_raises_value_error_naming_the_shapes(x_shape, w_shape, message):
    with pytest.raises(ValueError, match=message):
        al.conv2d(al.Tensor(np.zeros(x_shape)), al.Tensor(np.zeros(w_shape)))


def test_layers_bad_input_raises_value_error_naming_the_shapes():
    with pytest.raises(ValueError, match=r"input has 1 channels .* expects 3"):
        nn.Conv2d(3, 8, 3)(al.Tensor(np.zeros((2, 1, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"input has 4 channels .* expects 8"):
        nn.ConvTranspose2d(8, 4, 4, stride=2)(al.Tensor(np.zeros((2, 4, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"input must be 4-D .*\(8, 8\)"):
        nn.MaxPool2d(2)(al.Tensor(np.zeros((8, 8))))
    with pytest.raises(ValueError, match=r"kernel \(3, 3\).*padded input \(2, 2\)"):
        nn.AvgPool2d(3)(al.Tensor(np.zeros((1, 1, 2, 2))))
    with pytest.raises(ValueError, match="positive channel counts"):
        nn.Conv2d(0, 8, 3)
    with pytest.raises(ValueError, match="nearest"):
        nn.Upsample(2, mode="bilinear")


# --------------------------------------------------------------------------------------------- devices


def test_the_generic_path_runs_conv_gradients_on_array_api_strict_tensors():
    """Forward and backward of conv2d / conv_transpose2d / pooling on a non-NumPy namespace."""
    xp = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((2, 4, 3, 3))
    results = []
    for wrap in (np.asarray, xp.asarray):
        inputs, weight = al.Tensor(wrap(x), requires_grad=True), al.Tensor(wrap(w), requires_grad=True)
        y = al.max_pool2d(al.conv2d(inputs, weight, padding=1), 2)
        y.backward(al.Tensor(wrap(g)))
        results.append([np.asarray(t) for t in (y.data, inputs.grad.data, weight.grad.data)])
    for numpy_result, strict_result in zip(*results):
        np.testing.assert_allclose(strict_result, numpy_result, rtol=1e-10, atol=1e-10)


def test_mixing_devices_in_one_conv_is_an_error_not_a_copy():
    pytest.importorskip("array_api_strict")
    here = backend.get_default_device()
    x = al.Tensor(np.zeros((1, 1, 4, 4)))  # on the test's device
    w = al.Tensor(np.zeros((1, 1, 3, 3))).to("array_api_strict" if here == "cpu" else "cpu")  # on another one
    with pytest.raises(ValueError, match="different devices"):
        al.conv2d(x, w)


@pytest.mark.gpu
@pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and a GPU")
def test_a_conv_training_step_on_the_gpu_matches_the_cpu():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 1, 8, 8)).astype(np.float32)
    losses, grads = [], []
    for device in ("cpu", "cuda"):
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                              nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1, rng=1)).to(device)
        optimizer = al.optim.SGD(model.parameters(), lr=0.1)
        inputs = al.Tensor(x).to(device)
        step_losses = []
        for _ in range(2):
            optimizer.zero_grad()
            loss = ((model(inputs) - inputs) ** 2).mean()
            loss.backward()
            optimizer.step()
            step_losses.append(loss.item())
        assert model[0].weight.device == device
        losses.append(step_losses)
        grads.append(model[0].weight.grad.numpy())
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-3, atol=1e-5)
    assert losses[0][1] < losses[0][0]


def test_conv_ops_module_exposes_the_functions_it_documents():
    for name in ("conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "upsample_nearest2d"):
        assert getattr(al, name) is getattr(conv_ops, name)
