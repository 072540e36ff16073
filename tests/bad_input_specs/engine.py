"""Bad-input entries of the engine (autograd_lite): ops, Tensor, nn, optim, init, io, gradcheck, backend.

Tensor operands are of kind "tensor" (None, strings, objects, dicts and complex numbers are a TypeError),
never "data": NaN and infinities are legitimate values for the engine's ops, as in PyTorch.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

import autograd_lite as al
from autograd_lite import backend, nn, optim
from autograd_lite.function import Function
from autograd_lite.nn import init, layers

from . import entry, exempt

RNG = np.random.default_rng(0)


def _tensor(*shape: int) -> al.Tensor:
    return al.Tensor(RNG.normal(size=shape))  # float64


X = _tensor(3, 4)  # a batch of 3 rows of 4 features
IMAGES = _tensor(2, 3, 6, 6)  # (N, C, H, W)
CONV_WEIGHT = _tensor(4, 3, 3, 3)  # (C_out, C_in, kH, kW)
TRANSPOSED_WEIGHT = _tensor(3, 4, 3, 3)  # (C_in, C_out, kH, kW)
CHANNEL_BIAS = _tensor(4)
CLASSES = np.array([0, 1, 3])  # one class index per row of X
SAVED = str(Path(tempfile.mkdtemp(prefix="autograd_lite_bad_input_")) / "state.npz")
al.save({"w": np.ones(2)}, SAVED)


def _parameters() -> list[nn.Parameter]:
    """Two fresh trainable tensors with gradients."""
    params = [nn.Parameter(np.ones((2, 3))), nn.Parameter(np.zeros(3))]
    for p in params:
        p.grad = al.Tensor(np.full(p.shape, 0.5))
    return params


PARAMS = _parameters()
NO_ARGUMENTS = "takes no arguments: nothing to corrupt"


def _forwards(op: str) -> str:
    return f"forwards to autograd_lite.ops.{op}, covered there"


# ------------------------------------------------------------------------------------- elementwise ops
for _op in (al.abs, al.cos, al.erf, al.exp, al.log, al.neg, al.relu, al.sigmoid, al.silu, al.sin, al.softplus,
            al.sqrt, al.tanh):
    entry(_op, kinds={"x": "tensor"}, x=X)
for _op in (al.add, al.sub, al.mul, al.div, al.maximum, al.minimum):
    entry(_op, kinds={"a": "tensor", "b": "tensor"}, a=X, b=X)
entry(al.pow, kinds={"base": "tensor", "exponent": "tensor"}, base=X, exponent=X)
entry(al.cast, kinds={"x": "tensor", "dtype": "float_dtype"}, x=X, dtype=np.float32)
entry(al.clip, kinds={"x": "tensor", "low": "number", "high": "number"}, x=X, low=-1.0, high=1.0)
entry(al.gelu, kinds={"x": "tensor", "approximate": "choice"}, x=X, approximate="tanh")
entry(al.leaky_relu, kinds={"x": "tensor", "negative_slope": "real"}, x=X, negative_slope=0.1)
entry(al.where, kinds={"condition": "tensor", "a": "tensor", "b": "tensor"}, condition=X.data > 0, a=X, b=X)

# ------------------------------------------------------------------------------------- linear algebra
entry(al.linear, kinds={"x": "tensor", "weight": "tensor", "bias": "tensor"}, x=X, weight=_tensor(5, 4),
      bias=_tensor(5))
entry(al.matmul, kinds={"a": "tensor", "b": "tensor"}, a=X, b=_tensor(4, 2))

# ------------------------------------------------------------------------------------- reductions
for _op in (al.sum, al.mean, al.max, al.min, al.logsumexp):
    entry(_op, kinds={"x": "tensor", "axis": "axis", "keepdims": "flag"}, x=X, axis=1, keepdims=False)
entry(al.var, kinds={"x": "tensor", "axis": "axis", "keepdims": "flag", "ddof": "nonnegative_count"}, x=X,
      axis=1, keepdims=False, ddof=1)
for _op in (al.softmax, al.log_softmax):
    entry(_op, kinds={"x": "tensor", "axis": "axis"}, x=X, axis=-1)
entry(al.log_softmax_pick, kinds={"x": "tensor", "index": "labels", "axis": "axis"}, x=X, index=CLASSES, axis=-1)

# ------------------------------------------------------------------------------------- shape ops
entry(al.broadcast_to, kinds={"x": "tensor", "shape": "shape"}, x=_tensor(1, 4), shape=(3, 4))
entry(al.sum_to, kinds={"x": "tensor", "shape": "shape"}, x=X, shape=(1, 4))
entry(al.reshape, lambda x, shape: al.reshape(x, shape), kinds={"x": "tensor", "shape": "shape"}, x=X, shape=(4, 3))
entry(al.transpose, lambda x, axes: al.transpose(x, axes), kinds={"x": "tensor", "axes": "shape"}, x=IMAGES[0],
      axes=(2, 0, 1))  # permute is transpose
entry(al.swapaxes, kinds={"x": "tensor", "axis1": "axis", "axis2": "axis"}, x=X, axis1=0, axis2=1)
entry(al.flatten, kinds={"x": "tensor", "start_dim": "axis"}, x=IMAGES, start_dim=1)
entry(al.squeeze, kinds={"x": "tensor", "axis": "axis"}, x=_tensor(3, 1, 4), axis=1)
entry(al.unsqueeze, kinds={"x": "tensor", "axis": "axis"}, x=X, axis=1)
for _op in (al.concat, al.stack):
    entry(_op, kinds={"tensors": "tensor", "axis": "axis"}, tensors=[X, X], axis=0)
entry(al.getitem, kinds={"x": "tensor", "index": "index"}, x=X, index=(slice(0, 2), 1))
entry(al.pad, kinds={"x": "tensor", "pad_width": "nonnegative_count", "value": "number"}, x=X, pad_width=1,
      value=0.0)

# ------------------------------------------------------------------------------------- convolutions and pooling
# x is PyTorch's ``input``, the name the convolution kernels' messages use.
entry(
    al.conv2d,
    kinds={"x": "rank", "weight": "tensor", "bias": "tensor", "stride": "count", "padding": "nonnegative_count",
           "dilation": "count"},
    mentions={"x": "input"},
    x=IMAGES, weight=CONV_WEIGHT, bias=CHANNEL_BIAS, stride=1, padding=1, dilation=1,
)
entry(
    al.conv_transpose2d,
    kinds={"x": "rank", "weight": "tensor", "bias": "tensor", "stride": "count", "padding": "nonnegative_count",
           "output_padding": "nonnegative_count", "dilation": "count"},
    mentions={"x": "input"},
    x=IMAGES, weight=TRANSPOSED_WEIGHT, bias=CHANNEL_BIAS, stride=2, padding=1, output_padding=1, dilation=1,
)
for _op in (al.max_pool2d, al.avg_pool2d):
    entry(_op, kinds={"x": "rank", "kernel_size": "count", "stride": "count", "padding": "nonnegative_count"},
          mentions={"x": "input"}, x=IMAGES, kernel_size=2, stride=2, padding=0)
entry(al.upsample_nearest2d, kinds={"x": "rank", "scale_factor": "count"}, mentions={"x": "input"}, x=IMAGES,
      scale_factor=2)

# ------------------------------------------------------------------------------------- Tensor and autograd
_TENSOR_KINDS = {"data": "tensor", "requires_grad": "flag", "dtype": "float_dtype", "device": "device"}
entry(al.Tensor, kinds=_TENSOR_KINDS, data=[1.0, 2.0], requires_grad=True, dtype=np.float64, device="cpu")
entry(al.tensor, kinds=_TENSOR_KINDS, data=[1.0, 2.0], requires_grad=True, dtype=np.float64, device="cpu")
entry(nn.Parameter, kinds={"data": "tensor", "requires_grad": "flag", "dtype": "float_dtype"}, data=[1.0, 2.0],
      requires_grad=True, dtype=np.float32)
entry(al.Tensor.astype, lambda dtype: X.astype(dtype), kinds={"dtype": "float_dtype"}, dtype=np.float32)
entry(al.Tensor.to, lambda target: X.to(target), kinds={"target": "device"}, target="cpu")
entry(
    al.Tensor.requires_grad_,
    lambda requires_grad: al.tensor([1.0]).requires_grad_(requires_grad),
    kinds={"requires_grad": "flag"},
    requires_grad=True,
)


def _backward(grad, retain_graph, create_graph):
    (al.tensor([1.0, 2.0], requires_grad=True) * 2.0).backward(grad, retain_graph, create_graph)


entry(al.Tensor.backward, _backward, kinds={"grad": "tensor", "retain_graph": "flag", "create_graph": "flag"},
      grad=np.ones(2), retain_graph=False, create_graph=False)
for _method in (al.Tensor.detach, al.Tensor.item, al.Tensor.numpy, al.Tensor.tolist, al.Tensor.retain_grad,
                al.Tensor.zero_grad):
    exempt(_method, NO_ARGUMENTS)
exempt(
    "autograd_lite.ops._install_tensor_methods.<locals>.as_method.<locals>.method",
    "the Tensor methods x.sum(...), x.reshape(...), x.exp(), ... each forward to the autograd_lite.ops function "
    "of the same name, covered there",
)

_LEAF = al.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
_OUT = (_LEAF * _LEAF).sum()
entry(
    al.grad,
    kinds={"outputs": "tensor", "inputs": "tensor", "grad_outputs": "tensor", "retain_graph": "flag",
           "create_graph": "flag", "allow_unused": "flag"},
    outputs=_OUT, inputs=_LEAF, grad_outputs=al.tensor(1.0, dtype=np.float64), retain_graph=True,
    create_graph=False, allow_unused=False,  # retain_graph: the one graph serves every call
)
entry(
    al.gradcheck,
    kinds={"fn": "function", "inputs": "tensor", "eps": "positive", "atol": "nonnegative", "rtol": "nonnegative",
           "max_elementwise": "nonnegative_count", "n_directions": "count", "seed": "rng",
           "raise_exception": "flag", "device": "device"},
    fn=lambda x: x * x, inputs=[np.ones(3)], eps=1e-6, atol=1e-6, rtol=1e-4, max_elementwise=128,
    n_directions=4, seed=0, raise_exception=True, device="cpu",
)
entry(al.gradgradcheck, kinds={"fn": "function", "inputs": "tensor", "seed": "rng"}, fn=lambda x: x * x * x,
      inputs=[np.ones(2)], seed=0)
exempt(al.GradcheckError, "an exception class")

entry(Function.apply, lambda inputs: _Square.apply(inputs), kinds={"inputs": "tensor"}, inputs=X)
exempt(Function, "the base class of ops, built without arguments; its inputs are checked when applied (apply)")
exempt(Function.forward, "abstract: every op defines it (on arrays its own op has checked)")
exempt(Function.backward, "abstract: every op defines it (called by the engine with the gradient it made)")
exempt(Function.release, NO_ARGUMENTS)


class _Square(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * 2.0 * self.inputs[0]


for _mode in (al.no_grad, al.enable_grad):
    entry(_mode, kinds={"func": "function"}, func=lambda: None)
entry(al.set_grad_enabled, kinds={"mode": "flag"}, mode=True)
exempt(al.is_grad_enabled, NO_ARGUMENTS)
entry(al.set_default_dtype, kinds={"dtype": "float_dtype"}, dtype=np.float32)  # the default: nothing changes
exempt(al.get_default_dtype, NO_ARGUMENTS)

# ------------------------------------------------------------------------------------- io
entry(al.save, kinds={"state": "mapping", "path": "path"}, state={"w": np.ones(2)}, path=SAVED)
entry(al.load, kinds={"path": "path", "device": "device"}, path=SAVED, device="cpu")

# ------------------------------------------------------------------------------------- backend
for _function in (backend.copy, backend.device_of, backend.is_floating):
    entry(_function, kinds={"a": "array"}, a=np.zeros(2))
entry(backend.array_namespace, lambda arrays: backend.array_namespace(arrays), kinds={"arrays": "array"},
      arrays=np.zeros(2))
entry(backend.astype, kinds={"a": "array", "dtype": "dtype"}, a=np.zeros(2), dtype="float32")
entry(backend.to_device, kinds={"a": "array", "device": "device"}, a=np.zeros(2), device="cpu")
entry(backend.dtype_name, kinds={"dtype": "dtype"}, dtype=np.float32)
entry(backend.namespace_dtype, kinds={"xp": "object", "dtype": "dtype"}, xp=np, dtype="float64")
entry(backend.namespace_of, kinds={"device": "device"}, device="cpu")
entry(backend.set_default_device, kinds={"device": "device"}, device="cpu")  # the default: nothing changes
exempt(backend.is_numpy, "a predicate: whether any object is a NumPy array, a valid question of every value")
exempt(backend.get_default_device, NO_ARGUMENTS)
exempt(backend.cuda_available, NO_ARGUMENTS)


# ------------------------------------------------------------------------------------- Module
@functools.cache
def _model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 5, rng=0, dtype=np.float64), nn.ReLU(), nn.Linear(5, 2, rng=1, dtype=np.float64))


exempt(nn.Module, NO_ARGUMENTS)
exempt(nn.Module.forward, "abstract: raises NotImplementedError; each layer defines its own (registered below)")
for _method in (nn.Module.children, nn.Module.modules, nn.Module.named_children, nn.Module.parameters,
                nn.Module.named_buffers, nn.Module.eval, nn.Module.zero_grad, nn.Module.num_parameters,
                nn.Module.state_dict, nn.Module.extra_repr):
    exempt(_method, NO_ARGUMENTS)
for _method in (nn.Module.named_modules, nn.Module.named_parameters):
    entry(_method, functools.partial(lambda prefix, m: list(getattr(_model(), m)(prefix)), m=_method.__name__),
          kinds={"prefix": "string"}, prefix="net")
entry(nn.Module.register_buffer, lambda name: nn.Module().register_buffer(name, np.zeros(2)),
      kinds={"name": "string"}, name="running_mean")
entry(nn.Module.load_state_dict, lambda state, strict: _model().load_state_dict(state, strict),
      kinds={"state": "mapping", "strict": "flag"}, state=_model().state_dict(), strict=True)
entry(nn.Module.to, lambda target: nn.Linear(2, 2, rng=0).to(target), kinds={"target": "device"}, target="cpu")
entry(nn.Module.train, lambda mode: _model().train(mode), kinds={"mode": "flag"}, mode=True)

# ------------------------------------------------------------------------------------- layers
entry(nn.Linear, kinds={"in_features": "count", "out_features": "count", "bias": "flag", "rng": "rng",
                        "dtype": "float_dtype"}, in_features=4, out_features=5, bias=True, rng=0, dtype=np.float32)
entry(nn.Linear.forward, lambda x: _model()[0](x), kinds={"x": "tensor"}, x=X)
entry(nn.Sequential, lambda layer: nn.Sequential(layer), kinds={"layer": "object"}, mentions={"layer": "layers"},
      layer=nn.ReLU())
entry(nn.Sequential.forward, lambda x: _model()(x), kinds={"x": "tensor"}, x=X)
entry(layers._Activation.forward, lambda x: [cls()(x) for cls in (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.SiLU,
                                                                  nn.Softplus)],
      kinds={"x": "tensor"}, x=X)  # their shared forward: the op of each checks x
for _layer in (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.Softplus, nn.Identity, nn.Flatten):
    exempt(_layer, NO_ARGUMENTS)
exempt(nn.Identity.forward, "returns its input unchanged, whatever it is (as PyTorch's Identity)")
entry(nn.Flatten.forward, lambda x: nn.Flatten()(x), kinds={"x": "tensor"}, x=IMAGES)
entry(nn.GELU, kinds={"approximate": "choice"}, approximate="tanh")
entry(nn.GELU.forward, lambda x: nn.GELU()(x), kinds={"x": "tensor"}, x=X)
entry(nn.LeakyReLU, kinds={"negative_slope": "real"}, negative_slope=0.2)
entry(nn.LeakyReLU.forward, lambda x: nn.LeakyReLU()(x), kinds={"x": "tensor"}, x=X)
entry(nn.Dropout, kinds={"p": "unit", "rng": "rng"}, p=0.5, rng=0)
entry(nn.Dropout.forward, lambda x: nn.Dropout(0.5, rng=0)(x), kinds={"x": "tensor"}, x=X)
entry(nn.LayerNorm, kinds={"normalized_shape": "shape", "eps": "nonnegative", "elementwise_affine": "flag",
                           "dtype": "float_dtype"}, normalized_shape=4, eps=1e-5, elementwise_affine=True,
      dtype=np.float32)
entry(nn.LayerNorm.forward, lambda x: nn.LayerNorm(4, dtype=np.float64)(x), kinds={"x": "tensor"}, x=X)
entry(nn.GroupNorm, kinds={"num_groups": "count", "num_channels": "count", "eps": "nonnegative", "affine": "flag",
                           "dtype": "float_dtype"}, num_groups=2, num_channels=4, eps=1e-5, affine=True,
      dtype=np.float32)
entry(nn.GroupNorm.forward, lambda x: nn.GroupNorm(2, 4, dtype=np.float64)(x), kinds={"x": "rank"},
      x=_tensor(2, 4, 3))
entry(nn.Embedding, kinds={"num_embeddings": "count", "embedding_dim": "count", "rng": "rng", "dtype": "float_dtype"},
      num_embeddings=5, embedding_dim=3, rng=0, dtype=np.float32)
entry(nn.Embedding.forward, lambda indices: nn.Embedding(5, 3, rng=0)(indices), kinds={"indices": "tensor"},
      indices=CLASSES)

_CONV_KINDS = {"in_channels": "count", "out_channels": "count", "kernel_size": "count", "stride": "count",
               "padding": "nonnegative_count", "dilation": "count", "bias": "flag", "rng": "rng",
               "dtype": "float_dtype"}
entry(nn.Conv2d, kinds=_CONV_KINDS, in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=1, dilation=1,
      bias=True, rng=0, dtype=np.float32)
entry(nn.ConvTranspose2d, kinds={**_CONV_KINDS, "output_padding": "nonnegative_count"}, in_channels=3,
      out_channels=4, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1, bias=True, rng=0,
      dtype=np.float32)
_LAYERS = {
    nn.Conv2d: lambda: nn.Conv2d(3, 4, 3, padding=1, rng=0, dtype=np.float64),
    nn.ConvTranspose2d: lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, rng=0,
                                                   dtype=np.float64),
    nn.MaxPool2d: lambda: nn.MaxPool2d(2),
    nn.AvgPool2d: lambda: nn.AvgPool2d(2),
    nn.Upsample: lambda: nn.Upsample(2),
}
for _layer, _make in _LAYERS.items():
    entry(_layer.forward, functools.partial(lambda x, make: make()(x), make=_make), kinds={"x": "rank"},
          mentions={"x": "input"}, x=IMAGES)
    exempt(_layer.extra_repr, NO_ARGUMENTS)
exempt(nn.Linear.extra_repr, NO_ARGUMENTS)
for _pool in (nn.MaxPool2d, nn.AvgPool2d):
    entry(_pool, kinds={"kernel_size": "count", "stride": "count", "padding": "nonnegative_count"}, kernel_size=2,
          stride=2, padding=0)
entry(nn.Upsample, kinds={"scale_factor": "count", "mode": "choice"}, scale_factor=2, mode="nearest")

# ------------------------------------------------------------------------------------- losses
entry(nn.mse_loss, kinds={"input": "tensor", "target": "tensor", "reduction": "choice"}, input=X, target=X,
      reduction="mean")
entry(nn.binary_cross_entropy_with_logits, kinds={"logits": "tensor", "target": "tensor", "reduction": "choice"},
      logits=X, target=al.Tensor((X.data > 0) * 1.0), reduction="sum")
entry(nn.cross_entropy, kinds={"logits": "tensor", "target": "labels", "reduction": "choice"}, logits=X,
      target=CLASSES, reduction="none")
entry(
    nn.gaussian_nll_loss,
    kinds={"mean": "tensor", "target": "tensor", "var": "tensor", "full": "flag", "eps": "positive",
           "reduction": "choice"},
    mean=X, target=X, var=al.abs(X) + 0.1, full=False, eps=1e-6, reduction="mean",
)
entry(nn.kl_normal_standard, kinds={"mu": "tensor", "log_var": "tensor", "reduction": "choice"}, mu=X, log_var=X,
      reduction="mean")

# ------------------------------------------------------------------------------------- init
_WEIGHT = al.Tensor(np.zeros((4, 3, 2, 2)))
entry(init.as_generator, kinds={"rng": "rng"}, rng=0)
entry(init.fans, kinds={"shape": "shape"}, shape=(4, 3, 2, 2))
entry(init.uniform_, kinds={"tensor": "tensor", "low": "real", "high": "real", "rng": "rng"}, tensor=_WEIGHT,
      low=-1.0, high=1.0, rng=0)
entry(init.normal_, kinds={"tensor": "tensor", "mean": "real", "std": "nonnegative", "rng": "rng"}, tensor=_WEIGHT,
      mean=0.0, std=1.0, rng=0)
for _function in (init.zeros_, init.ones_):
    entry(_function, kinds={"tensor": "tensor"}, tensor=_WEIGHT)
for _function in (init.xavier_uniform_, init.xavier_normal_):
    entry(_function, kinds={"tensor": "tensor", "gain": "nonnegative", "rng": "rng"}, tensor=_WEIGHT, gain=1.0, rng=0)
for _function in (init.kaiming_uniform_, init.kaiming_normal_):
    entry(_function, kinds={"tensor": "tensor", "negative_slope": "real", "mode": "choice", "rng": "rng"},
          tensor=_WEIGHT, negative_slope=0.0, mode="fan_out", rng=0)

# ------------------------------------------------------------------------------------- optimizers
entry(optim.Optimizer, kinds={"params": "parameters", "lr": "positive"}, params=PARAMS, lr=0.1)
entry(optim.SGD, kinds={"params": "parameters", "lr": "positive", "momentum": "nonnegative",
                        "weight_decay": "nonnegative", "nesterov": "flag"},
      params=PARAMS, lr=0.1, momentum=0.9, weight_decay=0.0, nesterov=True)
for _optimizer in (optim.Adam, optim.AdamW):
    entry(_optimizer, kinds={"params": "parameters", "lr": "positive", "betas": "betas", "eps": "positive",
                             "weight_decay": "nonnegative"},
          params=PARAMS, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
entry(optim.Optimizer.load_state_dict, lambda state: optim.Adam(_parameters()).load_state_dict(state),
      kinds={"state": "mapping"}, state=optim.Adam(_parameters()).state_dict())
exempt(optim.Optimizer.step, NO_ARGUMENTS + " (it reads the parameters' own .grad)")
for _method in (optim.Optimizer.zero_grad, optim.Optimizer.state_dict):
    exempt(_method, NO_ARGUMENTS)
entry(optim.clip_grad_norm_, lambda params, max_norm: optim.clip_grad_norm_(params, max_norm),
      kinds={"params": "tensor", "max_norm": "positive"}, params=PARAMS, max_norm=1.0)

entry(optim.EMA, kinds={"params": "tensor", "decay": "unit", "warmup": "flag"}, params=PARAMS, decay=0.9, warmup=True)
_EMA = optim.EMA(PARAMS, decay=0.9)
entry(optim.EMA.copy_to, lambda params: _EMA.copy_to(params), kinds={"params": "tensor"}, params=_parameters())
entry(optim.EMA.load_state_dict, lambda state: optim.EMA(_parameters()).load_state_dict(state),
      kinds={"state": "mapping"}, state=_EMA.state_dict())
for _method in (optim.EMA.update, optim.EMA.current_decay, optim.EMA.average_parameters, optim.EMA.state_dict):
    exempt(_method, NO_ARGUMENTS)
