"""nn contracts (issue 14): the layers' constructor defaults, seeded initialisation streams and bounds,
parameter shapes and dtypes, the affine switches of the norms, the forward passes against ops (and PyTorch),
and the messages that name the layer. Each test here kills mutants that the behaviour tests let through."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_lite import Tensor, nn
from autograd_lite.nn import functional as F
from autograd_lite.nn import init
from autograd_lite.ops import conv as conv_ops


def _x(shape, seed=0, dtype=np.float32):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a.numpy() if isinstance(a, Tensor) else a, dtype=np.float64),
                               np.asarray(b.numpy() if isinstance(b, Tensor) else b, dtype=np.float64),
                               rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------- conv.py

@pytest.mark.parametrize("layer, c_in, c_out, w_shape, fan", [
    (nn.Conv2d, 3, 4, (4, 3, 2, 5), 3 * 10),
    (nn.ConvTranspose2d, 3, 4, (3, 4, 2, 5), 4 * 10),
])
def test_conv_init_is_the_seeded_stream_weight_then_bias(layer, c_in, c_out, w_shape, fan):
    m = layer(c_in, c_out, (2, 5), rng=7)
    bound = 1.0 / math.sqrt(fan)  # a non-square kernel: fan uses kH * kW
    rng = np.random.default_rng(7)
    expected_w = rng.uniform(-bound, bound, w_shape).astype(np.float32)
    expected_b = rng.uniform(-bound, bound, (c_out,)).astype(np.float32)
    assert m.weight.shape == w_shape and m.bias.shape == (c_out,)
    np.testing.assert_array_equal(m.weight.numpy(), expected_w)
    np.testing.assert_array_equal(m.bias.numpy(), expected_b)
    # a Generator is used as is: the same draws as the seed
    g = np.random.default_rng(7)
    m2 = layer(c_in, c_out, (2, 5), rng=g)
    np.testing.assert_array_equal(m2.weight.numpy(), expected_w)
    np.testing.assert_array_equal(m2.bias.numpy(), expected_b)


@pytest.mark.parametrize("layer", [nn.Conv2d, nn.ConvTranspose2d])
def test_conv_bias_false_and_kernel_size_one(layer):
    m = layer(2, 3, 1, bias=False, rng=0)
    assert m.bias is None and m.kernel_size == (1, 1)
    assert [name for name, _ in m.named_parameters()] == ["weight"]
    assert layer(2, 3, (1, 3), rng=0).kernel_size == (1, 3)


@pytest.mark.parametrize("layer, name", [(nn.Conv2d, "Conv2d"), (nn.ConvTranspose2d, "ConvTranspose2d")])
def test_conv_channel_errors_name_the_layer(layer, name):
    with pytest.raises(ValueError, match=rf"^{name} needs positive channel counts"):
        layer(0, 2, 3)
    with pytest.raises(TypeError, match=rf"^{name}: in_channels must be an integer"):
        layer(2.0, 2, 3)


def test_conv2d_defaults_and_forward_passes_every_argument():
    x = _x((2, 3, 7, 6))
    m = nn.Conv2d(3, 4, 3, rng=1)
    assert (m.stride, m.padding, m.dilation) == (1, 0, 1)
    y = m(x)
    assert y.shape == (2, 4, 5, 4)  # no padding by default
    _close(y, conv_ops.conv2d(x, m.weight, m.bias))
    assert np.abs(y.numpy() - conv_ops.conv2d(x, m.weight).numpy()).max() > 1e-3  # the bias is added
    m = nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2, rng=1)
    y = m(x)
    _close(y, conv_ops.conv2d(x, m.weight, m.bias, 2, 1, 2))
    assert y.shape == (2, 4, 3, 2)


def test_conv_transpose2d_defaults_and_forward_passes_every_argument():
    x = _x((2, 3, 4, 5))
    m = nn.ConvTranspose2d(3, 2, 3, rng=1)
    assert (m.stride, m.padding, m.output_padding, m.dilation) == (1, 0, 0, 1)
    y = m(x)
    assert y.shape == (2, 2, 6, 7)  # (H - 1) * 1 + 3
    _close(y, conv_ops.conv_transpose2d(x, m.weight, m.bias))
    assert np.abs(y.numpy() - conv_ops.conv_transpose2d(x, m.weight).numpy()).max() > 1e-3
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1, dilation=2, rng=1)
    y = m(x)
    _close(y, conv_ops.conv_transpose2d(x, m.weight, m.bias, 2, 1, 1, 2))
    assert y.shape == (2, 2, 3 * 2 - 2 + 4 + 1 + 1, 4 * 2 - 2 + 4 + 1 + 1)


def test_conv_transpose2d_output_padding_must_be_below_the_stride():
    nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=1)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, output_padding=1)


@pytest.mark.parametrize("layer, op", [(nn.MaxPool2d, conv_ops.max_pool2d), (nn.AvgPool2d, conv_ops.avg_pool2d)])
def test_pools_pass_stride_and_padding(layer, op):
    x = _x((1, 2, 7, 7))
    m = layer(3)
    assert (m.stride, m.padding) == (None, 0)
    assert m(x).shape == (1, 2, 2, 2)  # stride defaults to the kernel size
    m = layer(3, stride=1, padding=1)
    y = m(x)
    assert y.shape == (1, 2, 7, 7)
    _close(y, op(x, 3, 1, 1))


def test_upsample_default_and_scale():
    x = _x((1, 1, 2, 3))
    m = nn.Upsample()
    assert m.scale_factor == 2 and m.mode == "nearest"
    assert m(x).shape == (1, 1, 4, 6)
    y = nn.Upsample(3)(x)
    assert y.shape == (1, 1, 6, 9)
    np.testing.assert_array_equal(y.numpy(), np.repeat(np.repeat(x.numpy(), 3, axis=2), 3, axis=3))


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    m = nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2), rng=3, dtype=np.float64)
    x = _x((2, 2, 6, 7), dtype=np.float64)
    ref = torch.nn.functional.conv2d(torch.tensor(x.numpy()), torch.tensor(m.weight.numpy()),
                                     torch.tensor(m.bias.numpy()), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    _close(m(x), ref.numpy(), 1e-10)


# -------------------------------------------------------------------------------------------- layers.py

def test_linear_dtype_and_bias_init():
    m = nn.Linear(4, 3, rng=0, dtype=np.float64)
    assert m.weight.dtype == np.float64 and m.bias.dtype == np.float64
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.5, 0.5, (3, 4))
    b = rng.uniform(-0.5, 0.5, (3,))
    np.testing.assert_array_equal(m.weight.numpy(), w)
    np.testing.assert_array_equal(m.bias.numpy(), b)
    big = nn.Linear(4, 200, rng=1)
    assert big.bias.numpy().min() < -0.4 and big.bias.numpy().max() > 0.4


def test_leaky_relu_default_slope():
    m = nn.LeakyReLU()
    assert m.negative_slope == 0.01
    _close(m(Tensor(np.array([-2.0, 3.0]))), [-0.02, 3.0], 1e-12)


def test_dropout_defaults_modes_and_dtype():
    d = nn.Dropout(rng=0)
    assert d.p == 0.5
    with pytest.raises(ValueError, match="^Dropout probability p"):
        nn.Dropout(1.0)
    x = Tensor(np.ones((50, 40), dtype=np.float32))
    y = d(x)
    assert y.dtype == np.float32
    values = np.unique(y.numpy())
    np.testing.assert_array_equal(values, [0.0, 2.0])
    u = np.random.default_rng(0).random((50, 40))
    np.testing.assert_array_equal(y.numpy(), np.where(u >= 0.5, 2.0, 0.0))
    d.eval()
    assert d(x) is x


def test_normalize_adds_eps():
    x = Tensor(np.full((2, 4), 3.0))  # zero variance: 0 / sqrt(0 + eps) = 0, not NaN
    np.testing.assert_array_equal(nn.LayerNorm(4)(x).numpy(), np.zeros((2, 4)))
    x = Tensor(np.array([[0.0, 0.0, 0.0, 1e-3]]))
    y = nn.LayerNorm(4, eps=1e-6, elementwise_affine=False)(x).numpy()
    centred = x.numpy() - x.numpy().mean()
    _close(y, centred / np.sqrt((centred ** 2).mean() + 1e-6), 1e-6)


def test_layer_norm_defaults_shapes_and_dtype():
    m = nn.LayerNorm(3)
    assert m.eps == 1e-5 and m.normalized_shape == (3,)
    assert [name for name, _ in m.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(m.weight.numpy(), np.ones(3))
    np.testing.assert_array_equal(m.bias.numpy(), np.zeros(3))
    off = nn.LayerNorm((2, 3), elementwise_affine=False)
    assert off.weight is None and off.bias is None and list(off.parameters()) == []
    x = _x((4, 2, 3))
    _close(off(x), nn.LayerNorm((2, 3))(x))
    m64 = nn.LayerNorm(3, dtype=np.float64)
    assert m64.weight.dtype == np.float64 and m64.bias.dtype == np.float64
    assert nn.LayerNorm(1)(_x((2, 1))).shape == (2, 1)
    for bad in (0, (2, 0), ()):
        with pytest.raises(ValueError, match="normalized_shape must be one or more positive sizes"):
            nn.LayerNorm(bad)


def test_group_norm_defaults_shapes_and_dtype():
    m = nn.GroupNorm(2, 4)
    assert m.eps == 1e-5
    assert [name for name, _ in m.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(m.weight.numpy(), np.ones(4))
    off = nn.GroupNorm(2, 4, affine=False)
    assert off.weight is None and off.bias is None and list(off.parameters()) == []
    x = _x((3, 4, 5))
    _close(off(x), m(x))
    m64 = nn.GroupNorm(2, 4, dtype=np.float64)
    assert m64.weight.dtype == np.float64 and m64.bias.dtype == np.float64


def _set(param, values):
    param.data = np.asarray(values, dtype=param.numpy().dtype)


def test_norms_match_torch_with_weights_and_bias():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    # a large-ish eps, and small inputs, so that the default eps shows in the result
    x = (0.01 * rng.standard_normal((3, 4, 5))).astype(np.float64)
    ln = nn.LayerNorm(5, dtype=np.float64)
    w, b = rng.uniform(0.5, 2.0, 5), rng.standard_normal(5)
    _set(ln.weight, w)
    _set(ln.bias, b)
    ref = torch.nn.functional.layer_norm(torch.tensor(x), (5,), torch.tensor(w), torch.tensor(b), eps=1e-5)
    _close(ln(Tensor(x)), ref.numpy(), 1e-9)
    for shape in ((3, 4, 5), (6, 4)):  # (N, C) is a valid GroupNorm input, as in PyTorch
        xs = (0.01 * rng.standard_normal(shape)).astype(np.float64)
        gn = nn.GroupNorm(2, 4, dtype=np.float64)
        w, b = rng.uniform(0.5, 2.0, 4), rng.standard_normal(4)
        _set(gn.weight, w)
        _set(gn.bias, b)
        ref = torch.nn.functional.group_norm(torch.tensor(xs), 2, torch.tensor(w), torch.tensor(b), eps=1e-5)
        _close(gn(Tensor(xs)), ref.numpy(), 1e-9)
        ref = torch.nn.functional.group_norm(torch.tensor(xs), 2, eps=1e-5)
        _close(nn.GroupNorm(2, 4, affine=False)(Tensor(xs)), ref.numpy(), 1e-9)


def test_embedding_indices_as_tensors_lists_and_bad_ones():
    e = nn.Embedding(5, 3, rng=0)
    expected = e.weight.numpy()[[1, 4, 0]]
    np.testing.assert_array_equal(e(Tensor(np.array([1.0, 4.0, 0.0]))).numpy(), expected)
    np.testing.assert_array_equal(e([1, 4, 0]).numpy(), expected)
    with pytest.raises(TypeError, match="Embedding indices must be integers"):
        e(Tensor(np.array([1.0, 2.5])))
    with pytest.raises(TypeError, match="Embedding indices must be integers"):
        e([[1, 2], [3]])


# -------------------------------------------------------------------------------------------- losses.py

_F64 = Tensor(np.array([[0.0, 0.0], [0.0, 0.0]]))  # float64: a list target must join it, not float32


def test_loss_targets_join_the_input_dtype():
    t = [[0.1, 0.2], [0.3, 0.7]]
    ref = np.asarray(t)  # 0.1 is not a float32: a float32 target would be off by ~1e-9
    _close(F.mse_loss(_F64, t, reduction="none"), ref ** 2, 1e-15)
    _close(F.gaussian_nll_loss(_F64, t, [[1.0, 1.0], [1.0, 0.1]], reduction="none"),
           0.5 * (np.log([[1.0, 1.0], [1.0, 0.1]]) + ref ** 2 / np.array([[1.0, 1.0], [1.0, 0.1]])), 1e-15)
    _close(F.kl_normal_standard(_F64, [[0.1, 0.2], [0.3, 0.7]], reduction="none"),
           0.5 * (np.exp(ref) - 1.0 - ref).sum(axis=-1), 1e-15)


@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits", "kl_normal_standard"])
def test_loss_shape_errors_name_the_loss(name):
    with pytest.raises(ValueError, match=rf"^{name}: input shape"):
        getattr(F, name)(Tensor(np.zeros((2, 3))), np.zeros((3, 2)))


def test_cross_entropy_ragged_target_is_a_type_error():
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), [[0, 1], [2]])


def test_gaussian_nll_defaults_zero_variance_and_reduction():
    mean, target = Tensor(np.zeros(3)), np.array([0.5, -1.0, 2.0])
    var = np.array([1.0, 0.5, 2.0])
    per = 0.5 * (np.log(var) + target ** 2 / var)  # full=False: no 1/2 log 2 pi
    loss = F.gaussian_nll_loss(mean, target, var)
    assert loss.shape == ()
    _close(loss, per.mean(), 1e-12)
    _close(F.gaussian_nll_loss(mean, target, var, full=True), per.mean() + 0.5 * math.log(2 * math.pi), 1e-12)
    zero = F.gaussian_nll_loss(mean, np.zeros(3), np.zeros(3), reduction="sum")  # var 0: floored at eps
    _close(zero, 3 * 0.5 * math.log(1e-6), 1e-12)


def test_kl_sums_over_the_last_axis_and_reduces_by_default():
    mu = np.random.default_rng(0).standard_normal((2, 3, 4))
    lv = np.random.default_rng(1).standard_normal((2, 3, 4))
    per = 0.5 * (mu ** 2 + np.exp(lv) - 1.0 - lv).sum(axis=-1)
    _close(F.kl_normal_standard(Tensor(mu), Tensor(lv), reduction="none"), per, 1e-12)
    loss = F.kl_normal_standard(Tensor(mu), Tensor(lv))
    assert loss.shape == ()
    _close(loss, per.mean(), 1e-12)


# -------------------------------------------------------------------------------------------- module.py

class _Buffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.zeros(2))
        self.register_buffer("unset", None)
        self.register_buffer("array", np.zeros(3, dtype=np.float32))
        self.register_buffer("tensor", Tensor(np.zeros(2, dtype=np.float32)))
        self.register_buffer("number", 1.5)

    def forward(self, x, scale=1.0):
        return x * scale


def test_register_buffer_refuses_dotted_names_and_call_passes_kwargs():
    m = _Buffers()
    with pytest.raises(TypeError, match="register_buffer"):
        m.register_buffer("a.b", np.zeros(1))
    assert m(2.0, scale=3.0) == 6.0


def test_state_dict_skips_only_the_unset_buffer():
    assert sorted(_Buffers().state_dict()) == ["array", "number", "tensor", "w"]


def test_load_state_dict_copies_casts_and_checks_buffer_shapes():
    m = _Buffers()
    w = np.array([1.0, 2.0])
    state = {**m.state_dict(), "w": w, "array": np.arange(3.0), "number": 2.5, "unset": np.ones(1)}
    m.load_state_dict(state)
    w[0] = 99.0  # the parameter holds a copy
    np.testing.assert_array_equal(m.w.numpy(), [1.0, 2.0])
    assert type(m.array) is np.ndarray and m.array.dtype == np.float32  # the old buffer's form and dtype
    np.testing.assert_array_equal(m.array, [0.0, 1.0, 2.0])
    assert isinstance(m.tensor, Tensor) and m.number == 2.5
    np.testing.assert_array_equal(m.unset, [1.0])
    with pytest.raises(ValueError, match="array: saved shape"):
        m.load_state_dict({**state, "array": np.zeros(4)})


def test_to_keeps_parameters_and_buffers_and_clears_grads():
    m = _Buffers()
    m.w.grad = np.ones(2)
    assert m.to("cpu") is m
    np.testing.assert_array_equal(m.w.numpy(), [0.0, 0.0])
    assert m.w.grad is None
    assert type(m.array) is np.ndarray and m.array.shape == (3,)
    m.to(np.float64)
    assert m.array.dtype == np.float64 and type(m.array) is np.ndarray
    assert isinstance(m.tensor, Tensor) and m.tensor.dtype == np.float64


# ---------------------------------------------------------------------------------------------- init.py

def test_init_fans_defaults_and_ties():
    assert init.fans((4, 3, 5)) == (15, 20)
    t = init.uniform_(Tensor(np.zeros(2000)), rng=0)
    assert 0.0 <= t.numpy().min() and t.numpy().max() < 1.0 and t.numpy().max() > 0.99
    np.testing.assert_array_equal(init.uniform_(Tensor(np.zeros(3)), 2.0, 2.0).numpy(), [2.0] * 3)
    t = init.normal_(Tensor(np.zeros(4000)), rng=0).numpy()
    assert abs(t.mean()) < 0.1 and abs(t.std() - 1.0) < 0.05
    x = init.xavier_normal_(Tensor(np.zeros((400, 100))), rng=0).numpy()
    assert abs(x.std() - math.sqrt(2 / 500)) < 0.002
    k = init.kaiming_normal_(Tensor(np.zeros((400, 100))), rng=0).numpy()
    assert abs(k.mean()) < 0.01 and abs(k.std() - math.sqrt(2 / 100)) < 0.005
    for shape in ((4, 1), (1, 4)):
        init.xavier_uniform_(Tensor(np.zeros(shape)), rng=0)
    for shape in ((0, 3), (3, 0)):
        with pytest.raises(ValueError, match="no fan_in/fan_out"):
            init.xavier_uniform_(Tensor(np.zeros(shape)), rng=0)
