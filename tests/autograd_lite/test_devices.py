"""The engine on another array-API namespace: ``array_api_strict`` (the standard's reference implementation,
which refuses everything NumPy-only) as a device. Each op's forward, gradient and second derivative there
equal NumPy's; the op list is shared with the NumPy run through one parametrisation (``DEVICES``)."""
import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import backend

xp = pytest.importorskip("array_api_strict")

DEVICES = ("cpu", "array_api_strict")

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "neg_scalar": lambda a, b: 2.0 - a * 3.0,
    "pow_constant": lambda a, b: a**3,
    "pow": lambda a, b: (a * a + 1) ** b,
    "exp": lambda a, b: al.exp(a),
    "log": lambda a, b: al.log(a * a + 1),
    "sqrt": lambda a, b: al.sqrt(a * a + 1),
    "abs": lambda a, b: abs(a),
    "sin_cos": lambda a, b: al.sin(a) * al.cos(b),
    "tanh": lambda a, b: al.tanh(a),
    "sigmoid": lambda a, b: al.sigmoid(a),
    "erf": lambda a, b: al.erf(a),
    "relu": lambda a, b: al.relu(a),
    "leaky_relu": lambda a, b: al.leaky_relu(a, 0.2),
    "softplus": lambda a, b: al.softplus(a),
    "silu": lambda a, b: al.silu(a),
    "gelu": lambda a, b: al.gelu(a),
    "maximum": lambda a, b: al.maximum(a, b),
    "minimum": lambda a, b: al.minimum(a, b),
    "clip": lambda a, b: al.clip(a, -0.5, 0.5),
    "where": lambda a, b: al.where(a > b, a, b),
    "where_numpy_mask": lambda a, b: al.where(np.array([True, False, True, False]), a, b),
    "sum_axis": lambda a, b: a.sum(axis=0),
    "mean": lambda a, b: a.mean(),
    "var": lambda a, b: al.var(a, axis=1),
    "max_axis": lambda a, b: al.max(a, axis=1),
    "min": lambda a, b: al.min(a),
    "logsumexp": lambda a, b: al.logsumexp(a, axis=1),
    "softmax": lambda a, b: al.softmax(a),
    "log_softmax": lambda a, b: al.log_softmax(a, axis=0),
    "log_softmax_pick": lambda a, b: al.log_softmax_pick(a, np.array([0, 1, 3])),
    "matmul": lambda a, b: a @ b.T,
    "reshape": lambda a, b: a.reshape(2, 6),
    "transpose": lambda a, b: a.T,
    "broadcast": lambda a, b: al.broadcast_to(b, (3, 4)) * a,
    "slice": lambda a, b: a[1:],
    "integer_index": lambda a, b: a[np.array([0, 0, 2])],
    "mask_index": lambda a, b: a[a.numpy() > 0],
    "column": lambda a, b: a[:, 1],
    "concat": lambda a, b: al.concat([a, b]),
    "stack": lambda a, b: al.stack([a, a * 2]),
    "pad": lambda a, b: al.pad(a, 1),
    "cast": lambda a, b: a.astype(np.float32) * 2,
    "tensor_index": lambda a, b: a[al.Tensor(np.array([2, 0, 2]), device=a.device)],
    "low_dim_mask": lambda a, b: a[np.array([True, False, True])],
    "new_axis_and_integer": lambda a, b: a[None, ..., 1] * b[0, 1],
}


def _run(op, device: str, dtype: str, second_order: bool) -> list[np.ndarray]:
    """The op's output, and the gradient of sum(y^2) (and, with ``second_order``, of sum(grad^2)) on a device."""
    rng = np.random.default_rng(0)
    a = al.Tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device, dtype=dtype)
    b = al.Tensor(rng.standard_normal((1, 4)), requires_grad=True, device=device, dtype=dtype)
    y = op(a, b)
    assert y.device == device
    (ga,) = al.grad((y * y).sum(), [a], create_graph=second_order)
    results = [y.numpy(), ga.numpy()]
    if second_order:
        (gga,) = al.grad((ga * ga).sum(), [a], allow_unused=True)
        results.append(np.zeros(a.shape) if gga is None else gga.numpy())
    return results


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 1e-6)])
def test_every_op_gives_numpys_numbers_on_array_api_strict(name, dtype, rtol):
    second_order = dtype == "float64" and name not in ("integer_index", "mask_index")
    cpu, strict = (_run(OPS[name], device, dtype, second_order) for device in DEVICES)
    for numpy_result, strict_result in zip(cpu, strict):
        np.testing.assert_allclose(strict_result, numpy_result, rtol=rtol, atol=rtol)


def test_tensors_are_made_on_and_moved_between_devices():
    t = al.tensor([1.0, 2.0], device="array_api_strict")
    assert t.device == "array_api_strict" and isinstance(t.data, xp.__dict__["asarray"]([0]).__class__)
    assert t.to("cpu").device == "cpu" and t.to("cpu").numpy().tolist() == [1.0, 2.0]
    assert al.Tensor(np.zeros(2)).to("array_api_strict").device == "array_api_strict"
    assert backend.dtype_name(t.dtype) == "float32"  # Python data takes the default dtype on every device


def test_the_default_device_takes_numpy_data_there():
    try:
        backend.set_default_device("array_api_strict")
        assert al.Tensor(np.ones(3)).device == "array_api_strict"
        assert al.Tensor(np.ones(3), device="cpu").device == "cpu"
        assert al.Tensor(np.float64(2.0)).device == "array_api_strict"  # NumPy scalars are NumPy data too
        assert al.Tensor(np.float32(2.0)).device == "array_api_strict"
    finally:
        backend.set_default_device("cpu")
    assert al.Tensor(np.ones(3)).device == "cpu"
    with pytest.raises(ValueError, match="device must be one of"):
        backend.set_default_device("tpu")


def test_noise_drawn_on_the_host_is_the_same_numbers_on_every_device():
    noise = np.random.default_rng(3).standard_normal(5)
    moved = al.Tensor(noise, device="array_api_strict", dtype="float64")
    np.testing.assert_array_equal(moved.numpy(), noise)


def test_a_bad_index_is_quoted_as_given_on_every_device():
    for device in DEVICES:
        x = al.Tensor(np.zeros((3, 4)), device=device)
        with pytest.raises(IndexError, match=r"^index 7 is invalid for a tensor of shape \(3, 4\): "):
            x[7]


def test_mixing_devices_is_an_error_not_a_copy():
    a = al.Tensor(np.ones(3), device="array_api_strict")
    with pytest.raises(ValueError, match="different devices"):
        a + al.Tensor(np.ones(3))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_an_mlp_training_step_on_array_api_strict_equals_numpys(optimizer):
    weights = []
    for device in DEVICES:
        model = al.nn.Sequential(al.nn.Linear(4, 8, rng=0), al.nn.Tanh(), al.nn.Linear(8, 1, rng=1)).to(device)
        step = getattr(al.optim, optimizer)(model.parameters(), lr=1e-2)
        x = al.Tensor(np.random.default_rng(2).standard_normal((16, 4)), device=device)
        for _ in range(3):
            step.zero_grad()
            ((model(x) - 1.0) ** 2).mean().backward()
            step.step()
        assert all(p.device == device for p in model.parameters())
        weights.append([p.numpy() for p in model.parameters()])
    for numpy_weight, strict_weight in zip(*weights):
        np.testing.assert_allclose(strict_weight, numpy_weight, rtol=1e-6, atol=1e-7)
