"""Element-wise ops and their derivatives, all in one place.

Binary ops broadcast like NumPy; their backward un-broadcasts with ``sum_to``. Each backward is written
with Tensor ops so it can be differentiated again (``create_graph=True``).

    d(a+b) = da + db            d(a*b) = b da + a db         d(a/b) = da/b - (a/b) db/b
    d(x^c) = c x^(c-1) dx       d(a^b) = b a^(b-1) da + a^b log(a) db
    d exp(x) = exp(x) dx        d log(x) = dx/x              d sqrt(x) = dx / (2 sqrt(x))
    d sin(x) = cos(x) dx        d cos(x) = -sin(x) dx        d tanh(x) = (1 - tanh(x)^2) dx
    d sigmoid(x) = s(1-s) dx    d softplus(x) = sigmoid(x) dx
    d erf(x) = 2/sqrt(pi) exp(-x^2) dx                       d |x| = sign(x) dx
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite import backend
from autograd_lite.backend import array_namespace as _xp  # every forward computes through its arrays' module
from autograd_lite.function import Function
from autograd_lite.grad_mode import is_grad_enabled
from autograd_lite.ops._util import as_tensor, as_tensor_pair
from autograd_lite.ops.shape import sum_to
from autograd_lite.tensor import Tensor, check_choice, check_float_dtype, check_number


# ----- arithmetic -----
class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), (sum_to(-gy, b.shape) if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * self.output / b, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class PowConstant(Function):
    """y = x^c for a constant exponent c."""

    def __init__(self, exponent: float):
        self.exponent = exponent

    def forward(self, x):
        return x**self.exponent

    def backward(self, gy):
        (x,) = self.inputs
        c = self.exponent
        if c == 0:  # x^0 = 1 has no gradient (c x^(c-1) would be 0 * inf = NaN at x = 0)
            return gy * 0.0
        if c == 1:  # likewise, x^0 in the backward would make the second derivative NaN at 0
            return gy
        if c == 2:
            return gy * (2 * x)
        return gy * (c * x ** (c - 1))


class Pow(Function):
    """y = a^b for tensors a, b (the gradient in b needs a > 0)."""

    def forward(self, a, b):
        return a**b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * self.output * log(a), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    def __init__(self, dtype: Any):
        self.dtype = dtype

    def forward(self, x):
        self.input_dtype = x.dtype
        xp = backend.array_namespace(x)
        return xp.astype(x, backend.namespace_dtype(xp, self.dtype))

    def backward(self, gy):
        return Cast(self.input_dtype)(gy)


def add(a: Any, b: Any) -> Tensor:
    return Add()(*as_tensor_pair(a, b))


def sub(a: Any, b: Any) -> Tensor:
    return Sub()(*as_tensor_pair(a, b))


def mul(a: Any, b: Any) -> Tensor:
    return Mul()(*as_tensor_pair(a, b))


def div(a: Any, b: Any) -> Tensor:
    return Div()(*as_tensor_pair(a, b))


def neg(x: Tensor) -> Tensor:
    return Neg()(as_tensor(x))


def pow(base: Any, exponent: Any) -> Tensor:  # noqa: A001 (the op's name)
    """base ** exponent; a Python-number exponent uses the cheaper constant-power rule."""
    if isinstance(base, Tensor) and isinstance(exponent, int | float) and not isinstance(exponent, bool):
        return PowConstant(float(exponent) if not float(exponent).is_integer() else int(exponent))(base)
    return Pow()(*as_tensor_pair(base, exponent, ("base", "exponent")))


def cast(x: Tensor, dtype: Any) -> Tensor:
    """x converted to ``dtype`` (float32/float64); the gradient is cast back."""
    x = as_tensor(x)
    name = check_float_dtype(dtype, "dtype").name
    if backend.dtype_name(x.dtype) == name:
        return x
    return Cast(name)(x)


# ----- unary math -----
class Exp(Function):
    def forward(self, x):
        return _xp(x).exp(x)

    def backward(self, gy):
        return gy * self.output


class Log(Function):
    def forward(self, x):
        return _xp(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    def forward(self, x):
        return _xp(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.output)


class Abs(Function):
    def forward(self, x):
        return _xp(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * Tensor._from_array(_xp(x).sign(x))


class Sin(Function):
    def forward(self, x):
        return _xp(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    def forward(self, x):
        return _xp(x).cos(x)

    def backward(self, gy):
        return gy * -sin(self.inputs[0])


class Tanh(Function):
    def forward(self, x):
        return _xp(x).tanh(x)

    def backward(self, gy):
        y = self.output
        return gy * (1 - y * y)


class Sigmoid(Function):
    def forward(self, x):
        # 1/(1 + e^-x) for x >= 0 and e^x/(1 + e^x) for x < 0, with e = exp(-|x|) <= 1: never overflows and
        # keeps full relative precision in the negative tail (0.5 (1 + tanh(x/2)) rounds against 1 there:
        # sigmoid(-17) came out 6e-8 instead of 4.1e-8 in float32, sigmoid(-40) 0 in float64).
        xp = _xp(x)
        e = xp.exp(-xp.abs(x))
        y = xp.maximum(e, xp.astype(x >= 0, x.dtype))  # 1 where x >= 0, else e (np.where: 3x slower)
        y /= 1 + e
        return y

    def backward(self, gy):
        y = self.output
        return gy * (y * (1 - y))


class Erf(Function):
    def forward(self, x):
        return _erf_array(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * ((2 / math.sqrt(math.pi)) * exp(-(x * x)))


def _erf_array(x: Any) -> Any:
    """erf on an array: a numba ufunc for NumPy (NumPy has no erf), cupyx.scipy.special on CuPy, else the host's."""
    xp = backend.array_namespace(x)
    if xp is np:
        from autograd_lite.kernels.special import erf

        return erf(x)
    if xp.__name__ == "cupy":
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)
    # The array-API standard has no erf: other namespaces compute it on the host and move the result back.
    from autograd_lite.kernels.special import erf

    return backend.to_device(erf(backend.to_device(x, "cpu")), backend.device_of(x))


def exp(x: Tensor) -> Tensor:
    return Exp()(as_tensor(x))


def log(x: Tensor) -> Tensor:
    return Log()(as_tensor(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt()(as_tensor(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001
    return Abs()(as_tensor(x))


def sin(x: Tensor) -> Tensor:
    return Sin()(as_tensor(x))


def cos(x: Tensor) -> Tensor:
    return Cos()(as_tensor(x))


def tanh(x: Tensor) -> Tensor:
    return Tanh()(as_tensor(x))


def sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) = 1 / (1 + exp(-x))"""
    return Sigmoid()(as_tensor(x))


def erf(x: Tensor) -> Tensor:
    """erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt"""
    return Erf()(as_tensor(x))


# ----- activations -----
class Relu(Function):
    def forward(self, x):
        return _xp(x).maximum(x, 0)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * Tensor._from_array(_xp(x).astype(x > 0, x.dtype))


class LeakyRelu(Function):
    def __init__(self, slope: float):
        self.slope = slope

    def forward(self, x):
        xp = _xp(x)
        # max(x, a x) is the same function for 0 < a <= 1, and 7x faster than np.where; not at a = 0, where
        # max(inf, inf * 0) is nan
        if 0 < self.slope <= 1:
            return xp.maximum(x, x * self.slope)
        return xp.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        data = self.inputs[0].data
        mask = _xp(data).astype(data > 0, data.dtype)  # 1 where x > 0, else the slope: (1 - a) [x > 0] + a
        mask *= 1 - self.slope
        mask += self.slope
        return gy * Tensor._from_array(mask)


class Silu(Function):
    """y = x sigmoid(x) = x / (1 + e^-x), in four array passes (the composite x * sigmoid(x) takes nine, and SiLU is
    every hidden layer of the DDPM's networks). For x -> -inf, e^-x overflows to inf and y = x / inf = -0, where the
    exact value is below 1e-36 (float32) or 1e-305 (float64).

    dy/dx = s + y (1 - s), s = sigmoid(x) = 1 / (1 + e^-x): with no graph recorded, from the saved 1 + e^-x in five
    passes; with one (create_graph), through differentiable ops, so it can be differentiated again."""

    def forward(self, x):
        xp = _xp(x)
        if backend.is_numpy(x):
            with np.errstate(over="ignore", invalid="ignore"):  # e^-x = inf: y = -0, its limit (-inf / inf: nan)
                self.denominator = np.exp(-x)
                self.denominator += 1
                return x / self.denominator
        self.denominator = 1 + xp.exp(-x)  # (array-API namespaces have no errstate; CuPy does not warn)
        return x / self.denominator

    def backward(self, gy):
        if not is_grad_enabled():
            with np.errstate(invalid="ignore"):  # 0 * inf at x = +-inf: nan, as PyTorch's gradient there
                s = 1 / self.denominator
                grad = (1 - s) * self.output.data
                grad += s
            return gy * Tensor._from_array(grad)
        (x,) = self.inputs
        s = sigmoid(x)
        return gy * (s + x * s * (1 - s))


class Softplus(Function):
    def forward(self, x):
        # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
        xp = _xp(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


def relu(x: Tensor) -> Tensor:
    """relu(x) = max(x, 0)"""
    return Relu()(as_tensor(x))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu(x) = x if x > 0 else negative_slope * x"""
    return LeakyRelu(check_number(negative_slope, "negative_slope"))(as_tensor(x))


def softplus(x: Tensor) -> Tensor:
    """softplus(x) = log(1 + exp(x))"""
    return Softplus()(as_tensor(x))


def silu(x: Tensor) -> Tensor:
    """silu(x) = x * sigmoid(x) (also called swish)"""
    return Silu()(as_tensor(x))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """gelu(x) = x * Phi(x) = x/2 (1 + erf(x/sqrt 2)); ``approximate='tanh'`` uses
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = as_tensor(x)
    if check_choice(approximate, "approximate", ("none", "tanh")) == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))


# ----- selection -----
class Maximum(Function):
    """max(a, b); at ties the gradient is split equally, as in PyTorch."""

    def forward(self, a, b):
        return _xp(a).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        xp = _xp(a.data)
        share_a = xp.astype(a.data > b.data, gy.dtype) + 0.5 * xp.astype(a.data == b.data, gy.dtype)
        return _split(gy, a, b, share_a)


class Minimum(Function):
    def forward(self, a, b):
        return _xp(a).minimum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        xp = _xp(a.data)
        share_a = xp.astype(a.data < b.data, gy.dtype) + 0.5 * xp.astype(a.data == b.data, gy.dtype)
        return _split(gy, a, b, share_a)


def _split(gy: Tensor, a: Tensor, b: Tensor, share_a: Any) -> tuple[Tensor, Tensor]:
    share_a = Tensor._from_array(share_a)
    return sum_to(gy * share_a, a.shape), sum_to(gy * (1 - share_a), b.shape)


class Clip(Function):
    """clip(x, low, high); the gradient passes where low <= x <= high."""

    def __init__(self, low: float | None, high: float | None):
        self.low, self.high = low, high

    def forward(self, x):
        return _xp(x).clip(x, self.low, self.high)

    def backward(self, gy):
        data = self.inputs[0].data
        xp = _xp(data)
        inside = xp.ones(data.shape, dtype=xp.bool)
        if self.low is not None:
            inside &= data >= self.low
        if self.high is not None:
            inside &= data <= self.high
        return gy * Tensor._from_array(xp.astype(inside, data.dtype))


class Where(Function):
    """where(condition, a, b): a where condition holds, else b (condition is a constant mask)."""

    def __init__(self, condition: Any):
        self.condition = condition

    def forward(self, a, b):
        return _xp(a).where(self.condition, a, b)

    def backward(self, gy):
        a, b = self.inputs
        zero = Tensor._from_array(_xp(gy.data).zeros((), dtype=gy.dtype))
        ga = sum_to(Where(self.condition)(gy, zero), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(Where(self.condition)(zero, gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum()(*as_tensor_pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum()(*as_tensor_pair(a, b))


def clip(x: Tensor, low: float | None = None, high: float | None = None) -> Tensor:
    x = as_tensor(x)
    low = None if low is None else check_number(low, "low", finite=False)  # an infinite bound is no bound
    high = None if high is None else check_number(high, "high", finite=False)
    if low is None and high is None:
        raise ValueError("clip needs low, high or both")
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip: low ({low}) is greater than high ({high})")
    return Clip(low, high)(x)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick a where ``condition`` (a boolean array, or a comparison of tensors) holds, else b."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    if not hasattr(condition, "__array_namespace__"):
        try:
            condition = np.asarray(condition)
        except ValueError:  # ragged
            condition = np.asarray(None)
    if backend.dtype_name(condition.dtype) != "bool":
        raise TypeError(f"where: condition must be a boolean array, got dtype {condition.dtype}")
    a, b = as_tensor_pair(a, b)
    return Where(backend.to_device(condition, a.device))(a, b)  # a NumPy mask joins the tensors' device
