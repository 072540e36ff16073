"""The engine's tests run on every array namespace: NumPy ('cpu') and ``array_api_strict``, the array-API
standard's reference namespace, which refuses anything NumPy-only (and so stands in for CuPy on a machine
with no GPU). One autouse fixture sets the default device, so each test in the op, layer, optimizer, graph
and io modules runs once per device without a copy of its code."""
import pytest

from autograd_lite import backend

_PER_DEVICE_MODULES = (
    "test_ops_elementwise", "test_ops_shape", "test_ops_reduce", "test_ops_linalg", "test_conv",
    "test_nn", "test_optim", "test_graph", "test_io", "test_training",
)
_DEVICES = ["cpu"]
try:
    import array_api_strict  # noqa: F401

    _DEVICES.append("array_api_strict")
except ImportError:  # without it only NumPy runs (the test extra installs it)
    pass


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rsplit(".", 1)[-1] in _PER_DEVICE_MODULES:
        metafunc.fixturenames.append("default_device")
        metafunc.parametrize("default_device", _DEVICES)


@pytest.fixture(autouse=True)
def _on_default_device(request: pytest.FixtureRequest):
    """Sets the device new tensors go to for the duration of one test, where the test is parametrised by one.

    (A fixture named in ``pytest_generate_tests`` joins the parametrisation but not the fixtures a test runs, so
    the device is read from the test's parameters here, by an autouse fixture, which does run.)"""
    callspec = getattr(request.node, "callspec", None)
    device = callspec.params.get("default_device") if callspec is not None else None
    if device is None:
        yield None
        return
    previous = backend.get_default_device()
    backend.set_default_device(device)
    yield device
    backend.set_default_device(previous)
