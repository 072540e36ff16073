"""nn: Module bookkeeping (registration order, names, sharing, modes, state dicts), layers, initialisers'
statistics, and the losses (formulas, gradients, stability, bad targets)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, dtype_of, on_device

import autograd_lite as al
from autograd_lite import Tensor, nn
from autograd_lite.nn import init


class Block(nn.Module):
    def __init__(self, rng=0):
        super().__init__()
        self.second = nn.Linear(3, 2, rng=rng)
        self.first = nn.Linear(4, 3, rng=rng)
        self.scale = nn.Parameter(np.ones(2))
        self.register_buffer("running", np.zeros(2))

    def forward(self, x):
        return self.second(al.relu(self.first(x))) * self.scale


class Model(nn.Module):
    def __init__(self, rng=0):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 4, rng=rng), nn.Tanh(), nn.Dropout(0.5, rng=rng))
        self.head = Block(rng)

    def forward(self, x):
        return self.head(self.body(x))


MODEL_NAMES = [
    "body.0.weight", "body.0.bias",
    "head.scale", "head.second.weight", "head.second.bias", "head.first.weight", "head.first.bias",
]


# ----- Module bookkeeping -----
def test_named_parameters_follow_registration_order_with_dotted_names():
    """Parameters are listed module by module, each in assignment order, under dotted names."""
    assert [name for name, _ in Model().named_parameters()] == MODEL_NAMES


def test_direct_parameters_come_before_those_of_submodules():
    """A module's own parameters precede its children's, and children keep assignment order."""
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "second.weight", "second.bias", "first.weight", "first.bias"]


def test_children_are_the_direct_submodules_in_order():
    """children() gives the direct submodules in assignment order."""
    block = Block()
    assert list(block.children()) == [block.second, block.first]


def test_a_shared_parameter_is_listed_once():
    """A Parameter used by two layers appears once in parameters() and state_dict()."""
    model = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Linear(3, 3, rng=1))
    model[1].weight = model[0].weight
    params = list(model.parameters())
    assert len(params) == 3
    assert len({id(p) for p in params}) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.bias"]


def test_reassigning_an_attribute_replaces_its_registration():
    """Setting a registered parameter's name to a plain value removes it from parameters()."""
    block = Block()
    block.scale = 2.0
    assert "scale" not in dict(block.named_parameters())


def test_train_and_eval_propagate_to_every_submodule():
    """eval() switches every module off training mode; train() back on."""
    model = Model()
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_parameter_gradient():
    """After backward and zero_grad(), no parameter holds a gradient."""
    model = Model().eval()
    model(Tensor(np.ones((5, 2)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_setting_attributes_before_super_init_is_a_clear_error():
    """Forgetting super().__init__() is a RuntimeError that says so."""

    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.ones(2))

    with pytest.raises(RuntimeError, match="super"):
        Broken()


def test_sequential_rejects_non_modules():
    """Sequential(a function) is a TypeError naming the position."""
    with pytest.raises(TypeError, match="position 1"):
        nn.Sequential(nn.ReLU(), al.relu)


# ----- state dicts -----
def test_state_dict_round_trip_restores_outputs():
    """Loading one model's state dict into a differently initialised one makes them compute the same."""
    a, b = Model(rng=1).eval(), Model(rng=2).eval()
    x = Tensor(np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32))
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_state_dict_holds_parameters_and_buffers_as_copies():
    """state_dict has every parameter and buffer by name, as arrays that later training does not change."""
    model = Model()
    state = model.state_dict()
    assert list(state) == MODEL_NAMES + ["head.running"]
    before = state["head.scale"].copy()
    model.head.scale.data += 1
    np.testing.assert_array_equal(state["head.scale"], before)


def test_load_state_dict_keeps_parameter_dtype():
    """Loading float64 arrays into float32 parameters keeps them float32."""
    model = nn.Linear(2, 2, rng=0)
    model.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    assert dtype_of(model.weight) == np.float32


def test_load_state_dict_rejects_missing_names():
    """A state dict without one of the model's names is a KeyError listing it."""
    state = Model().state_dict()
    del state["head.first.bias"]
    with pytest.raises(KeyError, match="head.first.bias"):
        Model().load_state_dict(state)


def test_load_state_dict_rejects_unexpected_names():
    """A state dict with a name the model lacks is a KeyError listing it."""
    state = Model().state_dict()
    state["head.extra"] = np.ones(2)
    with pytest.raises(KeyError, match="head.extra"):
        Model().load_state_dict(state)


def test_load_state_dict_non_strict_ignores_extra_and_missing_names():
    """strict=False loads what matches and ignores the rest."""
    model = Model()
    state = {"head.scale": np.full(2, 7.0), "unknown": np.ones(1)}
    model.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(model.head.scale.numpy(), [7.0, 7.0])


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_rejects_wrong_shapes(strict):
    """A parameter of the wrong shape is a ValueError naming it, strict or not."""
    state = Model().state_dict()
    state["head.second.weight"] = np.ones((3, 3))
    with pytest.raises(ValueError, match="head.second.weight"):
        Model().load_state_dict(state, strict=strict)


def test_module_to_casts_parameters():
    """model.to(np.float64) casts every parameter to float64."""
    model = Model().to(np.float64)
    assert all(dtype_of(p) == np.float64 for p in model.parameters())


# ----- Dropout -----
def test_dropout_is_the_identity_in_eval_mode():
    """In eval mode Dropout returns its input unchanged."""
    x = Tensor(np.random.default_rng(0).standard_normal((8, 8)))
    np.testing.assert_array_equal(nn.Dropout(0.5, rng=0).eval()(x).numpy(), x.numpy())


def test_dropout_preserves_the_mean_in_training():
    """Zeroing with probability p and scaling by 1/(1-p) keeps the mean (here of 200 000 ones)."""
    out = nn.Dropout(0.3, rng=0)(Tensor(np.ones(200_000))).numpy()
    assert abs(out.mean() - 1.0) < 0.01
    assert abs((out == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7], rtol=1e-6)


def test_dropout_is_reproducible_with_a_seed():
    """Two Dropouts seeded alike drop the same elements; another seed drops others."""
    x = Tensor(np.ones(100))
    a, b, c = nn.Dropout(0.5, rng=3)(x), nn.Dropout(0.5, rng=3)(x), nn.Dropout(0.5, rng=4)(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


def test_dropout_gradient_uses_the_same_mask():
    """The gradient of dropout is the mask it applied, scaled by 1/(1-p)."""
    x = Tensor(np.ones(50), requires_grad=True)
    out = nn.Dropout(0.4, rng=0)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())


def test_dropout_rejects_p_outside_zero_to_one():
    """p must lie in [0, 1)."""
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.0)


# ----- layers -----
def test_linear_computes_x_w_transpose_plus_b():
    """Linear(x) = x W^T + b with W of shape (out, in)."""
    layer = nn.Linear(3, 2, rng=0)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(Tensor(x)).numpy(), expected, rtol=1e-6)


def test_linear_init_is_reproducible_with_the_same_seed():
    """Two Linears built with the same seed are identical; another seed differs."""
    a, b, c = nn.Linear(5, 3, rng=7), nn.Linear(5, 3, rng=7), nn.Linear(5, 3, rng=8)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    """Linear's weights lie in (-1/sqrt(in), 1/sqrt(in)) with the uniform's std, bound/sqrt(3)."""
    layer = nn.Linear(400, 300, rng=0)
    bound = 1 / math.sqrt(400)
    w = layer.weight.numpy()
    assert np.abs(w).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert dtype_of(layer.weight) == np.float32


def test_linear_without_bias_has_one_parameter():
    """Linear(bias=False) has only its weight."""
    assert [name for name, _ in nn.Linear(2, 3, bias=False).named_parameters()] == ["weight"]


def test_sequential_applies_layers_in_order():
    """Sequential(a, b)(x) == b(a(x)), and indexing/len/iteration see the layers."""
    a, b = nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1)
    model = nn.Sequential(a, nn.ReLU(), b)
    x = Tensor(np.ones((2, 2), dtype=np.float32))
    np.testing.assert_array_equal(model(x).numpy(), b(al.relu(a(x))).numpy())
    assert len(model) == 3
    assert model[2] is b
    assert list(model)[0] is a


@pytest.mark.parametrize(
    "module, function",
    [(nn.ReLU(), al.relu), (nn.Tanh(), al.tanh), (nn.Sigmoid(), al.sigmoid), (nn.SiLU(), al.silu),
     (nn.Softplus(), al.softplus), (nn.GELU(), al.gelu), (nn.GELU("tanh"), lambda x: al.gelu(x, "tanh")),
     (nn.LeakyReLU(0.1), lambda x: al.leaky_relu(x, 0.1)), (nn.Identity(), lambda x: x)],
    ids=["relu", "tanh", "sigmoid", "silu", "softplus", "gelu", "gelu_tanh", "leaky_relu", "identity"],
)
def test_activation_modules_match_their_functions(module, function):
    """Each activation module computes its functional form."""
    x = Tensor(np.linspace(-3, 3, 13))
    np.testing.assert_array_equal(module(x).numpy(), function(x).numpy())


def test_flatten_module_keeps_the_batch_axis():
    """Flatten turns (N, C, H, W) into (N, C*H*W)."""
    assert nn.Flatten()(Tensor(np.ones((2, 3, 4, 5)))).shape == (2, 60)


@given(x=arrays((3, 2, 5)))
def test_layer_norm_normalises_the_last_axes(x):
    """With unit scale and zero shift, LayerNorm's output has mean 0 and variance 1 per sample."""
    layer = nn.LayerNorm((2, 5), eps=0.0, dtype=np.float64)
    y = layer(Tensor(x + np.arange(10).reshape(2, 5))).numpy()  # arange: no constant rows
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1, rtol=1e-8)


@given(x=arrays((2, 4, 3)))
def test_group_norm_normalises_each_group(x):
    """GroupNorm(2 groups of 2 channels): each group of each sample has mean 0 and variance 1."""
    layer = nn.GroupNorm(2, 4, eps=0.0, dtype=np.float64)
    y = layer(Tensor(x + np.arange(12).reshape(4, 3))).numpy().reshape(2, 2, 6)
    np.testing.assert_allclose(y.mean(axis=2), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(axis=2), 1, rtol=1e-8)


@pytest.mark.parametrize(
    "make_layer, shape",
    [(lambda: nn.LayerNorm(4, dtype=np.float64), (3, 4)), (lambda: nn.GroupNorm(2, 4, dtype=np.float64), (2, 4, 3))],
    ids=["layer_norm", "group_norm"],
)
def test_norm_layers_gradients_match_finite_differences(make_layer, shape):
    """LayerNorm and GroupNorm differentiate correctly in their input."""
    rng = np.random.default_rng(0)
    layer = make_layer()  # made in the test, so on the test's device
    layer.weight.data = on_device(rng.standard_normal(layer.weight.shape))
    layer.bias.data = on_device(rng.standard_normal(layer.bias.shape))
    assert al.gradcheck(layer, [rng.standard_normal(shape)])


def test_norm_layers_reject_inputs_of_the_wrong_shape():
    """LayerNorm(4) on (3, 5) and GroupNorm(4 channels) on (2, 3, 3) are ValueErrors."""
    with pytest.raises(ValueError, match="LayerNorm"):
        nn.LayerNorm(4)(Tensor(np.ones((3, 5))))
    with pytest.raises(ValueError, match="GroupNorm"):
        nn.GroupNorm(2, 4)(Tensor(np.ones((2, 3, 3))))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


def test_embedding_looks_up_rows_and_scatters_gradients():
    """Embedding(indices) picks rows; a repeated index accumulates its gradient."""
    table = nn.Embedding(5, 3, rng=0)
    out = table(np.array([[1, 4], [1, 0]]))
    np.testing.assert_array_equal(out.numpy(), table.weight.numpy()[[[1, 4], [1, 0]]])
    out.sum().backward()
    np.testing.assert_array_equal(table.weight.grad.numpy()[:, 0], [1, 2, 0, 0, 1])


def test_embedding_rejects_bad_indices():
    """Float indices are a TypeError; out-of-range ones an IndexError."""
    table = nn.Embedding(5, 3, rng=0)
    with pytest.raises(TypeError, match="integers"):
        table(np.array([1.0]))
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        table(np.array([5]))


# ----- init -----
def _weight(shape, dtype=np.float64):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)], ids=["dense", "conv"])
def test_xavier_uniform_bound_and_std(shape):
    """xavier_uniform: |w| <= sqrt(6/(fan_in+fan_out)) and std = bound/sqrt(3)."""
    receptive = int(np.prod(shape[2:]))
    bound = math.sqrt(6 / (shape[1] * receptive + shape[0] * receptive))
    w = init.xavier_uniform_(_weight(shape), rng=0).numpy()
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_xavier_normal_std():
    """xavier_normal: std = gain * sqrt(2/(fan_in+fan_out)), mean 0."""
    w = init.xavier_normal_(_weight((300, 200)), gain=2.0, rng=0).numpy()
    std = 2.0 * math.sqrt(2 / 500)
    assert abs(w.std() - std) < 0.01 * std
    assert abs(w.mean()) < 0.01 * std


@pytest.mark.parametrize("mode, fan", [("fan_in", 200), ("fan_out", 300)])
def test_kaiming_uniform_bound(mode, fan):
    """kaiming_uniform for ReLU: |w| <= sqrt(6/fan), std = sqrt(2/fan)."""
    w = init.kaiming_uniform_(_weight((300, 200)), mode=mode, rng=0).numpy()
    bound = math.sqrt(6 / fan)
    assert np.abs(w).max() <= bound
    assert abs(w.std() - math.sqrt(2 / fan)) < 0.01 * math.sqrt(2 / fan)


def test_kaiming_normal_std_with_leaky_slope():
    """kaiming_normal with negative slope a: std = sqrt(2/(1+a^2)) / sqrt(fan_in)."""
    w = init.kaiming_normal_(_weight((300, 200)), negative_slope=0.5, rng=0).numpy()
    std = math.sqrt(2 / 1.25) / math.sqrt(200)
    assert abs(w.std() - std) < 0.01 * std


@pytest.mark.parametrize(
    "initialise",
    [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_],
    ids=["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"],
)
def test_init_is_seeded_and_keeps_the_dtype(initialise):
    """The same seed gives the same weights; the parameter keeps its float32 dtype."""
    a = initialise(_weight((8, 6), np.float32), rng=5)
    b = initialise(_weight((8, 6), np.float32), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert dtype_of(a) == np.float32


def test_init_rejects_bad_arguments():
    """A 1-D weight has no fan-in; mode must be fan_in/fan_out; rng must be a Generator or seed."""
    with pytest.raises(ValueError, match="2 dimensions"):
        init.xavier_uniform_(_weight((5,)))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(_weight((3, 3)), mode="fan_avg")
    with pytest.raises(TypeError, match="rng"):
        init.normal_(_weight((3, 3)), rng="seed")


# ----- losses -----
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@given(data=st.data())
def test_mse_loss_is_the_mean_squared_error(data):
    """mse_loss = mean((y_hat - y)^2); 'sum' and 'none' reduce accordingly."""
    y_hat, y = data.draw(arrays((3, 2))), data.draw(arrays((3, 2)))
    target = on_device(y)
    np.testing.assert_allclose(nn.mse_loss(Tensor(y_hat), target).item(), np.mean((y_hat - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(nn.mse_loss(Tensor(y_hat), target, "sum").item(), np.sum((y_hat - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(nn.mse_loss(Tensor(y_hat), target, "none").numpy(), (y_hat - y) ** 2, rtol=1e-12)


@given(data=st.data())
def test_bce_with_logits_equals_the_cross_entropy_of_sigmoid(data):
    """bce_with_logits(z, y) = -[y log s(z) + (1-y) log(1-s(z))] for moderate z."""
    z, y = data.draw(arrays((4,))), data.draw(arrays((4,), low=0.0, high=1.0))
    expected = -(y * np.log(_sigmoid(z)) + (1 - y) * np.log(1 - _sigmoid(z)))
    loss = nn.binary_cross_entropy_with_logits(Tensor(z), on_device(y), reduction="none")
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10)


def test_bce_with_logits_gradient_at_zero_logit_is_sigmoid_minus_target():
    """d bce/dz = sigmoid(z) - y, also at z = 0 (e.g. a zero-initialised output layer)."""
    z = Tensor(np.zeros(3), requires_grad=True)
    y = np.array([0.0, 1.0, 0.25])
    nn.binary_cross_entropy_with_logits(z, on_device(y), reduction="sum").backward()
    np.testing.assert_allclose(z.grad.numpy(), 0.5 - y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_stable_at_large_logits(dtype):
    """At |z| = 1000 the loss is 0 for right and |z| for wrong predictions, with gradients s(z) - y."""
    z = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype), requires_grad=True)
    y = on_device(np.array([1.0, 0.0, 0.0, 1.0]))  # a plain float64 array: it joins the logits' dtype
    loss = nn.binary_cross_entropy_with_logits(z, y, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [0, 0, 1000, 1000])
    np.testing.assert_allclose(z.grad.numpy(), [0, 0, 1, -1])
    assert dtype_of(loss) == dtype


def test_bce_with_logits_keeps_precision_for_confident_predictions():
    """For z = 30, y = 1 the loss log(1 + e^-30) ~ 9.4e-14 is resolved, not rounded to 0."""
    loss = nn.binary_cross_entropy_with_logits(Tensor(np.array([30.0, -30.0])), on_device(np.array([1.0, 0.0])), "none")
    np.testing.assert_allclose(loss.numpy(), np.log1p(np.exp(-30.0)), rtol=1e-10)


@given(data=st.data())
def test_cross_entropy_is_minus_log_softmax_at_the_target(data):
    """cross_entropy(z, t) = mean_i -log softmax(z_i)[t_i]."""
    z = data.draw(arrays((4, 3)))
    t = np.array(data.draw(st.lists(st.integers(0, 2), min_size=4, max_size=4)))
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.cross_entropy(Tensor(z), t).item(), -log_p[np.arange(4), t].mean(), rtol=1e-12)


def test_cross_entropy_is_stable_at_large_logits():
    """Logits of +-1000 give a finite loss and finite gradients."""
    z = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), requires_grad=True)
    loss = nn.cross_entropy(z, np.array([1, 1]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [2000.0, 0.0])
    np.testing.assert_allclose(z.grad.numpy(), [[1, -1], [0, 0]])


@pytest.mark.parametrize(
    "target, error, message",
    [(np.array([0.0, 1.0]), TypeError, "integer"), (np.array([0, 3]), ValueError, r"\[0, 3\)"),
     (np.array([-1, 0]), ValueError, r"\[0, 3\)"), (np.array([0, 1, 2]), ValueError, "shapes")],
    ids=["float", "too_large", "negative", "shape"],
)
def test_cross_entropy_rejects_bad_targets(target, error, message):
    """Float targets are a TypeError; out-of-range or mis-shaped ones a ValueError."""
    with pytest.raises(error, match=message):
        nn.cross_entropy(Tensor(np.zeros((2, 3))), target)


@given(data=st.data())
def test_gaussian_nll_is_the_negative_log_density(data):
    """gaussian_nll_loss(full=True) = -log N(y; mu, var), averaged."""
    mu, y = data.draw(arrays((5,))), data.draw(arrays((5,)))
    var = data.draw(arrays((5,), low=0.1, high=3.0))
    expected = 0.5 * (np.log(2 * np.pi * var) + (y - mu) ** 2 / var)
    loss = nn.gaussian_nll_loss(Tensor(mu), on_device(y), Tensor(var), full=True, reduction="none")
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)


def test_gaussian_nll_rejects_a_negative_variance():
    """A negative variance is a ValueError."""
    with pytest.raises(ValueError, match="non-negative"):
        nn.gaussian_nll_loss(Tensor(np.zeros(2)), on_device(np.zeros(2)), Tensor(np.array([1.0, -1.0])))


@given(data=st.data())
def test_kl_to_standard_normal_matches_the_closed_form(data):
    """KL(N(mu, e^lv) || N(0, I)) = 1/2 sum(mu^2 + e^lv - 1 - lv) per row, and is >= 0."""
    mu, log_var = data.draw(arrays((3, 4))), data.draw(arrays((3, 4)))
    kl = nn.kl_normal_standard(Tensor(mu), Tensor(log_var), reduction="none").numpy()
    np.testing.assert_allclose(kl, 0.5 * (mu**2 + np.exp(log_var) - 1 - log_var).sum(axis=1), rtol=1e-12)
    assert np.all(kl >= -1e-12)  # >= 0 up to rounding (e^lv - 1 - lv for tiny lv)


LOSSES = {
    "mse": (lambda a, b: nn.mse_loss(a, b), lambda rng: [rng.standard_normal((3, 2)), rng.standard_normal((3, 2))]),
    "bce": (lambda z, y: nn.binary_cross_entropy_with_logits(z, y),
            lambda rng: [rng.standard_normal(4), rng.uniform(size=4)]),
    "cross_entropy": (lambda z: nn.cross_entropy(z, np.array([2, 0, 1])), lambda rng: [rng.standard_normal((3, 3))]),
    "gaussian_nll": (lambda mu, y, var: nn.gaussian_nll_loss(mu, y, var),
                     lambda rng: [rng.standard_normal(4), rng.standard_normal(4), rng.uniform(0.5, 2, size=4)]),
    "kl": (nn.kl_normal_standard, lambda rng: [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradients_match_finite_differences(name):
    """Every loss differentiates correctly in all its tensor arguments, to second order too."""
    fn, make = LOSSES[name]
    inputs = make(np.random.default_rng(0))
    assert al.gradcheck(fn, inputs)
    assert al.gradgradcheck(fn, inputs)


@pytest.mark.parametrize(
    "call",
    [lambda: nn.mse_loss(Tensor(np.ones(3)), np.ones(3), reduction="average"),
     lambda: nn.mse_loss(Tensor(np.ones(3)), np.ones(4)),
     lambda: nn.binary_cross_entropy_with_logits(Tensor(np.ones((2, 1))), np.ones(2))],
    ids=["reduction", "mse_shape", "bce_shape"],
)
def test_losses_reject_bad_reductions_and_shapes(call):
    """An unknown reduction or mismatched input/target shapes are ValueErrors."""
    with pytest.raises(ValueError):
        call()


# ----- buffers -----
class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 2, rng=0)
        self.register_buffer("schedule", Tensor(np.linspace(0, 1, 3, dtype=np.float32)))
        self.register_buffer("counts", np.arange(3))


def test_load_state_dict_keeps_a_tensor_buffer_a_tensor_of_its_dtype():
    """Loading into a Tensor buffer gives a Tensor again (same dtype), not a bare float64 array."""
    model = WithBuffers()
    state = model.state_dict()
    state["schedule"] = np.array([5.0, 6.0, 7.0])  # float64 on disk
    model.load_state_dict(state)
    assert isinstance(model.schedule, Tensor)
    assert dtype_of(model.schedule) == np.float32
    np.testing.assert_array_equal(model.schedule.numpy(), [5, 6, 7])
    np.testing.assert_array_equal(model.counts, [0, 1, 2])


def test_module_to_casts_float_buffers_and_keeps_integer_ones():
    """model.to(float64) casts floating buffers (Tensor or array) with the parameters; integer buffers stay."""
    model = WithBuffers().to(np.float64)
    assert isinstance(model.schedule, Tensor)
    assert dtype_of(model.schedule) == np.float64
    assert dtype_of(model.counts) == np.arange(3).dtype
