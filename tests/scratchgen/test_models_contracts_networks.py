"""Contracts of the shared networks in ``scratchgen.models.networks``, checked against NumPy written out here.

What is pinned: each network's forward against a hand computation from its own weights (the MLP, the conv
encoder and decoder with a NumPy convolution, the time embedding and its sinusoidal code from the docstring
formula, the denoisers' TimeMLP and ResidualBlock); ``dtype`` reaching every parameter and ``rng`` seeding
every draw (dropout and label tables included); the defaults of TimeMLP, UNet and ``sinusoidal_embedding``;
host input placed beside the weights on another array namespace; the label table (``num_classes`` + 1 rows,
0.1 x standard normal) and the null label; the (t, label) conditioning paths (one shared t, repeated rows,
a scalar t broadcast over a batch of labels) agreeing with the row-by-row answer; and the inputs refused at
the door, each by the argument's name.
"""
import numpy as np
import pytest

from autograd_lite import Tensor
from scratchgen.models.networks import (
    MLP,
    ConvDecoder,
    ConvEncoder,
    LabelEmbedding,
    ResidualBlock,
    TimeEmbedding,
    TimeMLP,
    UNet,
    sinusoidal_embedding,
)

F64 = np.float64


# ----- NumPy references ---------------------------------------------------------------------------------------
def _np(tensor):
    return np.asarray(tensor.numpy(), dtype=F64)


def _relu(a):
    return np.maximum(a, 0.0)


def _silu(a):
    return a / (1.0 + np.exp(-a))


def _linear(layer, a):
    return a @ _np(layer.weight).T + _np(layer.bias)


def _conv2d(x, weight, bias, stride=1, padding=0):
    """Cross-correlation, x (N, C, H, W), weight (O, C, k, k)."""
    n, _, h, w = x.shape
    k = weight.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    out = np.zeros((n, weight.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, weight)
    return out + bias.reshape(1, -1, 1, 1)


def _conv_transpose2d(x, weight, bias, stride, padding):
    """The adjoint of ``_conv2d``: weight (C_in, C_out, k, k), each input pixel scatters a k x k patch."""
    n, _, h, w = x.shape
    k = weight.shape[-1]
    full = np.zeros((n, weight.shape[1], (h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            full[:, :, i * stride:i * stride + k, j * stride:j * stride + k] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], weight)
    ho, wo = (h - 1) * stride - 2 * padding + k, (w - 1) * stride - 2 * padding + k
    return full[:, :, padding:padding + ho, padding:padding + wo] + bias.reshape(1, -1, 1, 1)


def _sinusoid(t, dim, max_period=10_000.0):
    half = dim // 2
    w = np.array([max_period ** (-i / half) for i in range(half)])
    angles = np.asarray(t, dtype=F64).reshape(-1, 1) * w
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def _time_code(time, t):
    return _linear(time.second, _silu(_linear(time.first, _sinusoid(t, time.dim))))


def _time_mlp_reference(net, x, t, labels=None):
    e = _time_code(net.time, t)
    if net.label is not None:
        rows = np.full(e.shape[0], net.label.num_classes) if labels is None else np.asarray(labels)
        e = e + _np(net.label.table.weight)[rows]
    e = _silu(e)
    h = _linear(net.inp, x)
    for layer, proj in zip(net.layers, net.time_proj):
        h = _silu(_linear(layer, h) + _linear(proj, e))
    return _linear(net.out, h)


def _all_float64(module):
    return {name: np.dtype(p.numpy().dtype) for name, p in module.named_parameters()} == {
        name: np.dtype(F64) for name, _ in module.named_parameters()}


def _same_parameters(a, b):
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    return pa.keys() == pb.keys() and all(np.array_equal(pa[k].numpy(), pb[k].numpy()) for k in pa)


def _scramble_output_layer(net, seed=1):
    """The denoisers start with a zero last layer (output = its bias); give it weights so the output sees h."""
    weight = net.out.weight
    weight.data[...] = np.random.default_rng(seed).normal(0.0, 0.5, weight.shape)


# ----- MLP ----------------------------------------------------------------------------------------------------
def test_mlp_forward_is_linear_relu_linear_with_the_requested_dtype():
    net = MLP((3, 5, 2), rng=0, dtype=F64)
    assert _all_float64(net)
    x = np.random.default_rng(2).normal(size=(4, 3))
    first, last = [m for m in net.layers if hasattr(m, "weight")]
    np.testing.assert_allclose(_np(net(x)), _linear(last, _relu(_linear(first, x))), rtol=1e-12, atol=1e-12)


def test_mlp_takes_a_single_unbatched_vector():
    net = MLP((3, 4, 2), rng=0, dtype=F64)
    x = np.array([0.5, -1.0, 2.0])
    out = net(x)
    assert tuple(out.shape) == (2,)
    np.testing.assert_allclose(_np(out), _np(net(x[None]))[0], rtol=1e-12)


def test_mlp_refuses_a_scalar_and_a_wrong_width_by_name():
    net = MLP((3, 4, 2), rng=0, dtype=F64)
    with pytest.raises(ValueError, match=r"^x\b"):
        net(np.float64(1.0))
    with pytest.raises(ValueError, match=r"^x\b"):
        net(np.zeros((2, 5)))


def test_mlp_needs_an_input_and_an_output_size():
    with pytest.raises(ValueError, match="sizes"):
        MLP((3,), rng=0)


def test_mlp_dropout_draws_from_the_seeded_generator():
    x = np.ones((6, 3))
    a, b = (MLP((3, 16, 2), dropout=0.5, rng=7, dtype=F64) for _ in range(2))
    assert a.training
    first, second = _np(a(x)), _np(b(x))
    np.testing.assert_array_equal(first, second)  # same seed: same weights and the same dropout masks
    assert not np.allclose(first, first[:1])  # and the masks differ between rows, so dropout is on


def test_mlp_given_host_data_puts_it_beside_weights_on_another_namespace():
    pytest.importorskip("array_api_strict")
    net = MLP((3, 4, 2), rng=0, dtype=F64)
    x = np.random.default_rng(3).normal(size=(2, 3))
    expected = _np(net(x))
    net.to("array_api_strict")
    out = net(x)
    assert out.device == "array_api_strict"
    np.testing.assert_allclose(_np(out), expected, rtol=1e-12)


# ----- conv encoder and decoder -------------------------------------------------------------------------------
def test_conv_encoder_is_conv_relu_conv_relu_linear():
    enc = ConvEncoder(3, in_channels=2, channels=(3, 4), rng=0, dtype=F64)
    assert _all_float64(enc)
    w1, b1, w2, b2, wh, bh = (_np(p) for p in enc.parameters())
    x = np.random.default_rng(1).normal(size=(2, 2, 8, 8))
    h = _relu(_conv2d(x, w1, b1, padding=1))
    h = _relu(_conv2d(h, w2, b2, stride=2, padding=1))
    assert h.shape == (2, 4, 4, 4)
    expected = h.reshape(2, -1) @ wh.T + bh
    np.testing.assert_allclose(_np(enc(x)), expected, rtol=1e-10, atol=1e-12)


def test_conv_encoder_channels_must_be_a_pair():
    for channels in [(4,), (4, 8, 16)]:
        with pytest.raises(ValueError, match="channels"):
            ConvEncoder(3, channels=channels, rng=0)
        with pytest.raises(ValueError, match="channels"):
            ConvDecoder(3, 2, channels=channels, rng=0)


def test_conv_encoder_refuses_a_wrong_image_shape_by_name():
    enc = ConvEncoder(3, channels=(2, 3), rng=0, dtype=F64)
    for shape in [(2, 1, 6, 6), (2, 2, 8, 8), (1, 8, 8)]:
        with pytest.raises(ValueError, match=r"^x\b"):
            enc(np.zeros(shape))


def test_conv_networks_take_the_smallest_even_image_size_and_refuse_odd_ones():
    enc = ConvEncoder(3, channels=(2, 3), image_size=2, rng=0, dtype=F64)
    assert tuple(enc(np.zeros((1, 1, 2, 2))).shape) == (1, 3)
    dec = ConvDecoder(3, 2, channels=(2, 3), image_size=2, rng=0, dtype=F64)
    assert tuple(dec(np.zeros((1, 3))).shape) == (1, 2, 2, 2)
    for size in (1, 3, 0):
        with pytest.raises(ValueError, match="image_size"):
            ConvEncoder(3, image_size=size, rng=0)


def test_conv_decoder_is_linear_relu_upconv_relu_conv():
    dec = ConvDecoder(3, 2, channels=(4, 3), rng=0, dtype=F64)
    assert _all_float64(dec)
    wl, bl, wt, bt, wc, bc = (_np(p) for p in dec.parameters())
    z = np.random.default_rng(1).normal(size=(2, 3))
    h = _relu(z @ wl.T + bl).reshape(2, 4, 4, 4)
    h = _relu(_conv_transpose2d(h, wt, bt, stride=2, padding=1))
    assert h.shape == (2, 3, 8, 8)
    expected = _conv2d(h, wc, bc, padding=1)
    np.testing.assert_allclose(_np(dec(z)), expected, rtol=1e-10, atol=1e-12)


def test_conv_decoder_refuses_a_wrong_code_shape_by_name():
    dec = ConvDecoder(3, 2, channels=(2, 3), rng=0, dtype=F64)
    for shape in [(3,), (2, 4), (2, 3, 1)]:
        with pytest.raises(ValueError, match=r"^z\b"):
            dec(np.zeros(shape))


def test_networks_name_a_bad_rng():
    for make in [lambda rng: MLP((2, 2), rng=rng), lambda rng: ConvEncoder(2, rng=rng),
                 lambda rng: ConvDecoder(2, 1, rng=rng), lambda rng: TimeMLP(hidden=(4,), time_dim=4, rng=rng),
                 lambda rng: UNet(channels=2, time_dim=4, groups=1, rng=rng)]:
        with pytest.raises(TypeError, match=r"^rng\b"):
            make("seed")
        with pytest.raises(ValueError, match=r"^rng\b"):
            make(-1)


# ----- the sinusoidal code and the time embedding -------------------------------------------------------------
def test_sinusoidal_embedding_follows_the_docstring_formula():
    t = np.array([0.0, 1.0, 7.5, 250.0, 999.0])
    code = sinusoidal_embedding(t, 8, dtype=F64)
    assert tuple(code.shape) == (5, 8)
    np.testing.assert_allclose(_np(code), _sinusoid(t, 8), rtol=0, atol=1e-13)
    np.testing.assert_allclose(_np(code)[0], [0, 0, 0, 0, 1, 1, 1, 1], atol=0)
    # w_0 = 1 and w_{h-1} = max_period^(-(h-1)/h), with max_period 10_000 by default
    np.testing.assert_allclose(_np(code)[3, [0, 4]], [np.sin(250.0), np.cos(250.0)], atol=1e-13)
    w_last = 10_000.0 ** (-3 / 4)
    np.testing.assert_allclose(_np(code)[4, [3, 7]], [np.sin(999.0 * w_last), np.cos(999.0 * w_last)], atol=1e-13)


def test_sinusoidal_embedding_max_period_sets_the_slowest_frequency():
    code = _np(sinusoidal_embedding([3.0], 4, max_period=100.0, dtype=F64))
    np.testing.assert_allclose(code, [[np.sin(3.0), np.sin(0.3), np.cos(3.0), np.cos(0.3)]], atol=1e-14)


def test_sinusoidal_embedding_defaults_to_float32_rows_per_t():
    code = sinusoidal_embedding(5, 2)
    assert np.dtype(code.numpy().dtype) == np.float32 and tuple(code.shape) == (1, 2)
    np.testing.assert_allclose(code.numpy(), [[np.sin(5.0), np.cos(5.0)]], rtol=1e-6)
    assert tuple(sinusoidal_embedding(np.arange(6).reshape(2, 3), 4).shape) == (6, 4)


@pytest.mark.parametrize("dim", [0, 1, 3, 7])
def test_sinusoidal_embedding_needs_an_even_dim_of_at_least_two(dim):
    with pytest.raises(ValueError, match="dim"):
        sinusoidal_embedding([1.0], dim)


def test_time_embedding_is_linear_silu_linear_of_the_code_in_float64():
    time = TimeEmbedding(6, np.random.default_rng(0), dtype=F64)
    assert _all_float64(time)
    t = np.array([1, 17, 500])
    out = time(t)
    assert np.dtype(out.numpy().dtype) == F64
    np.testing.assert_allclose(_np(out), _time_code(time, t), rtol=1e-13, atol=1e-13)


# ----- the label embedding and the (t, label) conditioning ----------------------------------------------------
def test_label_table_has_a_null_row_and_starts_at_a_tenth_of_a_standard_normal():
    table = LabelEmbedding(3, 4, np.random.default_rng(5), dtype=F64)
    assert _all_float64(table)
    expected = 0.1 * np.random.default_rng(5).standard_normal((4, 4))
    np.testing.assert_allclose(_np(table.table.weight), expected, rtol=1e-15)
    np.testing.assert_allclose(_np(table([3, 0])), expected[[3, 0]], rtol=1e-15)
    with pytest.raises(IndexError):
        table([4])


def test_label_embedding_takes_whole_number_float_labels():
    table = LabelEmbedding(3, 4, np.random.default_rng(5), dtype=F64)
    np.testing.assert_array_equal(_np(table(np.array([2.0, 0.0, 3.0]))), _np(table([2, 0, 3])))


@pytest.mark.parametrize("labels", [[1.7], [0.0, 2.5], [np.nan]])
def test_label_embedding_refuses_labels_that_are_not_whole_numbers(labels):
    table = LabelEmbedding(3, 4, np.random.default_rng(5), dtype=F64)
    with pytest.raises(ValueError, match="^labels must be whole numbers"):
        table(np.array(labels))


def _conditional_mlp(num_classes=3):
    net = TimeMLP(2, hidden=(5, 6), time_dim=4, rng=0, dtype=F64, num_classes=num_classes)
    _scramble_output_layer(net)
    return net


def test_time_mlp_forward_matches_the_hand_computation_with_and_without_labels():
    net = _conditional_mlp()
    assert _all_float64(net)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 2))
    t, labels = np.array([3, 9, 1, 40]), np.array([0, 2, 1, 3])
    np.testing.assert_allclose(_np(net(x, t, labels)), _time_mlp_reference(net, x, t, labels), rtol=1e-11, atol=1e-12)
    # no labels: the null label (index num_classes)
    np.testing.assert_allclose(_np(net(x, t)), _time_mlp_reference(net, x, t, [3, 3, 3, 3]), rtol=1e-11, atol=1e-12)
    assert not np.allclose(_np(net(x, t, labels)), _np(net(x, t)))


@pytest.mark.parametrize("case", ["one_t", "one_t_one_label", "repeated_rows", "float_t_repeated_labels",
                                  "scalar_t_batch_of_labels", "batch_of_t_scalar_label", "distinct_rows"])
def test_time_mlp_conditioning_paths_agree_with_the_row_by_row_answer(case):
    net = _conditional_mlp()
    x = np.random.default_rng(6).normal(size=(6, 2))
    t, labels = {
        "one_t": (np.full(6, 7), None),
        "one_t_one_label": (np.full(6, 7), np.full(6, 2)),
        "repeated_rows": (np.array([5, 9, 5, 9, 5, 9]), np.array([1, 0, 1, 0, 1, 0])),
        "float_t_repeated_labels": (np.full(6, 3.0), np.full(6, 1)),
        "scalar_t_batch_of_labels": (7, np.array([0, 1, 2, 3, 1, 0])),
        "batch_of_t_scalar_label": (np.array([1, 2, 3, 4, 5, 6]), 2),
        "distinct_rows": (np.array([1, 2, 3, 4, 5, 6]), np.array([0, 1, 2, 0, 1, 2])),
    }[case]
    t_rows = np.broadcast_to(np.asarray(t), (6,))
    label_rows = np.full(6, 3) if labels is None else np.broadcast_to(np.asarray(labels), (6,))
    expected = np.concatenate([_time_mlp_reference(net, x[i:i + 1], t_rows[i:i + 1], label_rows[i:i + 1])
                               for i in range(6)])
    out = net(x, t, labels)
    assert tuple(out.shape) == (6, 2)
    np.testing.assert_allclose(_np(out), expected, rtol=1e-11, atol=1e-12)


def test_unconditional_networks_refuse_labels_and_have_no_label_table():
    for net in [TimeMLP(rng=0), UNet(channels=2, time_dim=4, groups=1, rng=0)]:
        assert net.label is None
        x = np.zeros((2, 2)) if isinstance(net, TimeMLP) else np.zeros((2, 1, 8, 8))
        with pytest.raises(ValueError, match="unconditional"):
            net(x, np.array([1, 2]), np.array([0, 1]))


# ----- TimeMLP ------------------------------------------------------------------------------------------------
def test_time_mlp_defaults_are_a_2d_denoiser_with_a_128_wide_time_code():
    net = TimeMLP(rng=0)
    assert net.time.dim == 128 and net.label is None
    assert [layer.out_features for layer in net.layers] == [128, 128, 128, 128]
    assert (net.inp.in_features, net.out.out_features) == (2, 2)
    out = net(np.zeros((3, 2)), np.array([1, 2, 3]))
    assert tuple(out.shape) == (3, 2)
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(net.out.bias.numpy(), (3, 2)))  # zero last layer


def test_time_mlp_takes_unequal_widths_and_an_output_size():
    net = TimeMLP(3, hidden=(4, 6, 5), time_dim=4, rng=0, dtype=F64, out_dim=7)
    assert [(layer.in_features, layer.out_features) for layer in net.layers] == [(4, 4), (4, 6), (6, 5)]
    _scramble_output_layer(net)
    x = np.random.default_rng(8).normal(size=(2, 3))
    t = np.array([2, 30])
    out = net(x, t)
    assert tuple(out.shape) == (2, 7)
    np.testing.assert_allclose(_np(out), _time_mlp_reference(net, x, t), rtol=1e-11, atol=1e-12)


def test_time_mlp_takes_width_one_and_refuses_empty_or_zero_widths():
    assert tuple(TimeMLP(hidden=(1,), time_dim=4, rng=0)(np.zeros((2, 2)), 3).shape) == (2, 2)
    for hidden in [(), (4, 0), (-1,)]:
        with pytest.raises(ValueError, match="hidden"):
            TimeMLP(hidden=hidden, time_dim=4, rng=0)


def test_conditional_denoisers_are_reproducible_from_the_seed():
    assert _same_parameters(_conditional_mlp(), _conditional_mlp())
    make = lambda: UNet(channels=2, time_dim=4, groups=1, rng=3, num_classes=2)  # noqa: E731
    assert _same_parameters(make(), make())


# ----- the U-Net and its residual block -----------------------------------------------------------------------
def _block_reference(block, x, e, identity):
    h = block.conv1(block.act(block.norm1(Tensor(x))))
    h = h + block.time(Tensor(e)).reshape(e.shape[0], -1, 1, 1)
    h = block.conv2(block.act(block.norm2(h)))
    return _np(h) + (x if identity else _np(block.skip(Tensor(x))))


@pytest.mark.parametrize("c_in, c_out", [(4, 4), (2, 4)])
def test_residual_block_adds_the_time_code_between_the_convs_and_the_input_after(c_in, c_out):
    block = ResidualBlock(c_in, c_out, 3, groups=2, rng=np.random.default_rng(0), dtype=F64)
    assert _all_float64(block)
    assert (block.skip is None) == (c_in == c_out)
    rng = np.random.default_rng(1)
    x, e = rng.normal(size=(2, c_in, 4, 4)), rng.normal(size=(2, 3))
    out = block(Tensor(x), Tensor(e))
    np.testing.assert_allclose(_np(out), _block_reference(block, x, e, c_in == c_out), rtol=1e-12, atol=1e-12)


def test_unet_defaults_are_a_one_channel_32_wide_net_with_8_groups_and_a_128_wide_time_code():
    net = UNet(rng=0)
    assert net.time.dim == 128 and net.label is None
    assert tuple(net.inp.weight.shape) == (32, 1, 3, 3) and tuple(net.out.weight.shape) == (1, 32, 3, 3)
    assert net.norm_out.num_groups == 8 and net.block_low1.norm1.num_groups == 8
    out = net(np.zeros((1, 1, 8, 8)), np.array([4]))
    assert tuple(out.shape) == (1, 1, 8, 8)


def test_unet_parameters_all_take_the_requested_dtype():
    for num_classes in (0, 2):
        net = UNet(1, channels=4, time_dim=4, groups=2, rng=0, dtype=F64, num_classes=num_classes)
        assert _all_float64(net)
        x = np.random.default_rng(0).normal(size=(2, 1, 8, 8))
        assert np.dtype(net(x, np.array([1, 2])).numpy().dtype) == F64


def test_time_mlp_gradients_through_a_shared_t_match_finite_differences():
    """A batch that shares t adds U_l e(t) to each layer's bias on one row: its gradients, in x and in the time
    projection U_l, are those of the plain h_l = SiLU(W_l h_{l-1} + b_l + U_l e(t)) (central differences)."""
    import autograd_lite as al

    net = _conditional_mlp()
    x = np.random.default_rng(8).normal(size=(5, 2))
    t = np.full(5, 11)
    assert al.gradcheck(lambda xs: net(xs, t), [x])
    weight = net.time_proj[1].weight
    (analytic,) = al.grad(net(Tensor(x, dtype="float64"), t).sum(), [weight])
    eps, (i, j) = 1e-6, (2, 3)
    values = []
    for step in (eps, -eps):
        weight.data[i, j] += step
        values.append(float(net(Tensor(x, dtype="float64"), t).sum().item()))
        weight.data[i, j] -= step
    np.testing.assert_allclose(analytic.numpy()[i, j], (values[0] - values[1]) / (2 * eps), rtol=1e-6, atol=1e-9)
