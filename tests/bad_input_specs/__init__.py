"""The vocabulary of the bad-input fuzz (tests/test_bad_input.py): which entry points exist, how each is
called with good arguments, which of its arguments to corrupt, and the bad values of each kind of argument.

An entry point is registered with ``entry(obj, call, kinds=..., **valid)``:
- ``obj`` is the public function, class or method; its qualified name is the key the enumeration checks;
- ``call(**arguments)`` runs it (building a fresh estimator or model as needed);
- ``valid`` are arguments with which the call succeeds (the fuzz checks that first);
- ``kinds`` maps each argument to corrupt to its kind (a key of ``BAD_VALUES``); the bad value replaces the
  valid one and the call must raise ValueError or TypeError whose message names the argument (or the word
  in ``mentions``);
- ``unfitted``: a call of the method on an unfitted estimator or model, which must raise ValueError or
  TypeError saying to fit first.
An entry point with nothing to corrupt is listed with ``exempt(obj, reason)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st


@dataclass
class Entry:
    name: str
    call: Callable[..., Any]
    valid: dict[str, Any]
    kinds: dict[str, str]
    mentions: dict[str, str] = field(default_factory=dict)
    unfitted: Callable[[], Any] | None = None
    none_allowed: frozenset[str] = frozenset()


REGISTRY: dict[str, Entry] = {}
EXEMPT: dict[str, str] = {}


def qualified_name(obj: Any) -> str:
    obj = getattr(obj, "__func__", obj)  # classmethods and staticmethods
    if isinstance(obj, property):
        obj = obj.fget
    return f"{obj.__module__}.{obj.__qualname__}"


def entry(
    obj: Any,
    call: Callable[..., Any] | None = None,
    *,
    kinds: dict[str, str],
    mentions: dict[str, str] | None = None,
    unfitted: Callable[[], Any] | None = None,
    **valid: Any,
) -> None:
    """Register ``obj``; ``call`` defaults to ``obj`` itself. An argument whose default in ``obj``'s signature
    is None may be None, so None is not one of its bad values."""
    name = qualified_name(obj)
    if name in REGISTRY:
        raise AssertionError(f"{name} is registered twice")
    unknown = set(kinds) - set(valid)
    if unknown:
        raise AssertionError(f"{name}: no valid value for {sorted(unknown)}")
    missing = set(kinds.values()) - set(BAD_VALUES)
    if missing:
        raise AssertionError(f"{name}: unknown kinds {sorted(missing)}")
    try:
        parameters = inspect.signature(getattr(obj, "__func__", obj)).parameters
    except (TypeError, ValueError):
        parameters = {}
    none_allowed = frozenset(a for a in kinds if a in parameters and parameters[a].default is None)
    REGISTRY[name] = Entry(name, call or obj, valid, kinds, mentions or {}, unfitted, none_allowed)


def exempt(obj: Any, reason: str) -> None:
    EXEMPT[obj if isinstance(obj, str) else qualified_name(obj)] = reason


# ------------------------------------------------------------------------------------- the bad values
def _with_value(valid: Any, value: float, position: int) -> np.ndarray:
    array = np.array(valid, dtype=np.float64)
    if array.size == 0:
        return np.array([value])
    array.reshape(-1)[position % array.size] = value
    return array


def _data(valid: Any) -> st.SearchStrategy:
    """Bad versions of a finite real array: a NaN or an infinity somewhere, no samples, two more axes, and
    arrays of strings, objects or complex numbers; None."""
    array = np.asarray(valid)
    position = st.integers(0, 10**6)
    return st.one_of(
        position.map(lambda i: _with_value(array, np.nan, i)),
        st.tuples(st.sampled_from([np.inf, -np.inf]), position).map(lambda a: _with_value(array, *a)),
        st.just(array[:0]),
        st.just(array[None, None]),
        st.just(np.full(array.shape, "a")),
        st.just(np.full(array.shape, object(), dtype=object)),
        st.just(array + 1j),
        st.none(),
    )


def _values(valid: Any) -> st.SearchStrategy:
    """Bad versions of an array of real values of any shape (a batch of points, say): a NaN or an infinity
    somewhere, and arrays of strings, objects or complex numbers; None."""
    array = np.asarray(valid)
    position = st.integers(0, 10**6)
    return st.one_of(
        position.map(lambda i: _with_value(array, np.nan, i)),
        st.tuples(st.sampled_from([np.inf, -np.inf]), position).map(lambda a: _with_value(array, *a)),
        st.just(np.full(array.shape, "a")),
        st.just(np.full(array.shape, object(), dtype=object)),
        st.just(array + 1j),
        st.none(),
    )


def _labels(valid: Any) -> st.SearchStrategy:
    """Bad versions of a label vector: one label short, a second axis, NaN, strings of words; None."""
    array = np.asarray(valid)
    return st.sampled_from(
        [
            array[:-1],
            array[:, None].repeat(2, axis=1),
            _with_value(array, np.nan, 0),
            np.full(array.shape, object(), dtype=object),
            None,
        ]
    )


def _count(valid: Any) -> st.SearchStrategy:
    """Not a positive integer: zero, negative, fractional, a string, NaN, None."""
    return st.one_of(
        st.integers(-(10**6), 0),
        st.floats(0.1, 100).filter(lambda v: v != int(v)),
        st.sampled_from(["3", np.nan, None, [2]]),
    )


def _nonnegative_count(valid: Any) -> st.SearchStrategy:
    return st.one_of(
        st.integers(-(10**6), -1),
        st.floats(0.1, 100).filter(lambda v: v != int(v)),
        st.sampled_from(["3", np.nan, None]),
    )


def _positive(valid: Any) -> st.SearchStrategy:
    """Not a positive finite number: zero, negative, NaN, infinity, a string, None."""
    return st.one_of(
        st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, -1.0, np.nan, np.inf, "1.0", None, [1.0]]),
    )


def _nonnegative(valid: Any) -> st.SearchStrategy:
    return st.one_of(
        st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
        st.sampled_from([np.nan, np.inf, "1.0", None]),
    )


def _unit(valid: Any) -> st.SearchStrategy:
    """Not in [0, 1): negative, 1 or more, NaN, a string, None."""
    return st.one_of(
        st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
        st.floats(min_value=1.0, allow_nan=False),
        st.sampled_from([np.nan, "0.5", None]),
    )


def _real(valid: Any) -> st.SearchStrategy:
    """Not a finite real number: NaN, infinity, a string, None, a complex number."""
    return st.sampled_from([np.nan, np.inf, -np.inf, "1.0", None, 1j])


def _probabilities(valid: Any) -> st.SearchStrategy:
    """Not a probability vector: a sum off 1, a negative entry, NaN, empty, strings; None."""
    n = max(len(np.asarray(valid)), 2)
    return st.one_of(
        st.floats(0.05, 0.5).map(lambda e: np.full(n, (1 + e) / n)),
        st.floats(0.01, 0.5).map(lambda e: np.r_[-e, 1 + e, np.zeros(n - 2)]),
        st.sampled_from([np.r_[np.nan, np.ones(n - 1) / (n - 1)], np.zeros(0), np.full(n, "a"), None]),
    )


def _tensor(valid: Any) -> st.SearchStrategy:
    """Not a tensor nor an array of real numbers: None, a string, an object, a dict, complex numbers."""
    return st.sampled_from([None, "abc", object(), {"a": 1}, np.array([1.0 + 2.0j]), [None, 1.0]])


def _rng(valid: Any) -> st.SearchStrategy:
    """Not a Generator, a seed or None: a string, a fraction, a negative seed, an object."""
    return st.sampled_from(["seed", 1.5, -1, object(), [1.5]])


def _choice(valid: Any) -> st.SearchStrategy:
    """Not one of the names on offer."""
    return st.sampled_from(["no_such_option", "", 3, None])


def _function(valid: Any) -> st.SearchStrategy:
    """Not callable."""
    return st.sampled_from([None, 3, "lambda x: x", np.zeros(2)])


def _path(valid: Any) -> st.SearchStrategy:
    """Not a path: None, a number, a list, an object."""
    return st.sampled_from([None, 3, 1.5, [1], object()])


def _mapping(valid: Any) -> st.SearchStrategy:
    """Not a dict."""
    return st.sampled_from([None, 3, "state", [1, 2]])


BAD_VALUES: dict[str, Callable[[Any], st.SearchStrategy]] = {
    "data": _data,
    "labels": _labels,
    "count": _count,
    "nonnegative_count": _nonnegative_count,
    "positive": _positive,
    "nonnegative": _nonnegative,
    "unit": _unit,
    "real": _real,
    "probabilities": _probabilities,
    "tensor": _tensor,
    "rng": _rng,
    "choice": _choice,
    "function": _function,
    "mapping": _mapping,
    "path": _path,
}
BAD_VALUES["values"] = _values


# ------------------------------------------------------------------------------------- the deep models' kinds
def _sizes(valid: Any) -> st.SearchStrategy:
    """Not a non-empty sequence of positive integers (layer widths, a shape): empty, a zero, a negative, a
    fraction, a string, None, a None inside, a bare number."""
    return st.sampled_from([(), (0, 4), (-1, 4), (2.5, 4), "ab", None, [None, 4], 3])


def _object(valid: Any) -> st.SearchStrategy:
    """Not the object expected (a config, a model, a schedule, a classifier, a figure): None, a number, a
    string, a list, a bare object."""
    return st.sampled_from([None, 3, "abc", [1, 2], object()])


def _timesteps(valid: Any) -> st.SearchStrategy:
    """Not integer timesteps in range: a fraction, a negative or a huge step somewhere, strings, objects,
    complex numbers; None."""
    array = np.asarray(valid)
    return st.one_of(
        st.sampled_from([1.5, -1.0, 1e9]).map(lambda v: _with_value(array, v, 0)),
        st.sampled_from([np.full(array.shape, "a"), np.full(array.shape, object(), dtype=object), array + 1j, None]),
    )


def _interval(valid: Any) -> st.SearchStrategy:
    """Not a pair (low, high) of finite numbers with low < high."""
    return st.sampled_from([(1.0, -1.0), (np.nan, 1.0), (0.0,), "ab", 3, (None, 1.0), (0.0, np.inf)])


def _betas(valid: Any) -> st.SearchStrategy:
    """Not two numbers in [0, 1) (Adam's betas): one number, a 1, a negative, NaN, a string, None."""
    return st.sampled_from([(0.5,), (0.5, 1.0), (-0.1, 0.9), (np.nan, 0.9), "ab", None, 3])


def _bandwidths(valid: Any) -> st.SearchStrategy:
    """Not a positive number nor a non-empty sequence of them."""
    return st.sampled_from([0.0, -1.0, np.nan, np.inf, "1.0", [], [1.0, -1.0], [[1.0, 2.0]], [np.nan], None])


BAD_VALUES.update(
    {
        "sizes": _sizes,
        "object": _object,
        "timesteps": _timesteps,
        "interval": _interval,
        "betas": _betas,
        "bandwidths": _bandwidths,
    }
)



# ------------------------------------------------------------------------------------- the engine's kinds
def _float_dtype(valid: Any) -> st.SearchStrategy:
    """Not float32 or float64 (the dtypes a Tensor holds): an integer, half or complex dtype, a name NumPy
    does not know, a number, an object; None (NumPy reads it as float64)."""
    return st.sampled_from([np.int64, "int32", np.float16, np.complex128, bool, "no_such_dtype", 3, object(), None])


def _dtype(valid: Any) -> st.SearchStrategy:
    """Not a dtype at all: a name NumPy does not know, a number, a list, an object; None."""
    return st.sampled_from(["no_such_dtype", 3, 3.5, [1], object(), None])


def _device(valid: Any) -> st.SearchStrategy:
    """Not a device name ('cpu', 'cuda', 'array_api_strict'): another word, a capitalised one, empty, a
    number, an object; None."""
    return st.sampled_from(["gpu", "CPU", "", 3, object(), None])


def _flag(valid: Any) -> st.SearchStrategy:
    """Not True or False: a string (truthy whatever it says), None, a number, a list."""
    return st.sampled_from(["no", "yes", None, 2, 0.5, [True]])


def _axis(valid: Any) -> st.SearchStrategy:
    """Not an axis of the tensor: out of range on either side, a fraction, a string, an object, a list of
    fractions; None (where None does not mean every axis)."""
    return st.sampled_from([99, -99, 1.5, "0", object(), [0.5], None])


def _shape(valid: Any) -> st.SearchStrategy:
    """Not a shape: a negative size, a fraction, strings, a None inside; None, an object."""
    return st.sampled_from([(-2, 3), (1.5,), ("a",), [None], "3", None, object()])


def _rank(valid: Any) -> st.SearchStrategy:
    """A Tensor with the wrong number of axes (one fewer, one more, flat), or no tensor at all."""
    array, cls = np.asarray(valid), type(valid)
    return st.sampled_from([cls(array[0]), cls(array[None]), cls(array.reshape(-1)), None, "abc"])


def _number(valid: Any) -> st.SearchStrategy:
    """Not a real number (NaN and infinities are numbers here): a string, a complex number, a list, an
    array, an object; None."""
    return st.sampled_from(["1.0", 1j, [0.0], np.array([1.0, 2.0]), object(), None])


def _index(valid: Any) -> st.SearchStrategy:
    """Not an index: a fraction, a string, a dict, an object, fractions in a list, a fractional slice."""
    return st.sampled_from([1.5, "a", {"a": 1}, object(), [0.5], slice(0.5, 2), (0, "a")])


def _parameters(valid: Any) -> st.SearchStrategy:
    """Not a non-empty list of trainable Tensors: empty, None, a string, a number, a list of objects or of
    numbers, a Tensor that does not require grad."""
    return st.sampled_from([[], None, "abc", 3, [object()], [1.0], [valid[0].detach()]])


def _array(valid: Any) -> st.SearchStrategy:
    """Not an array: a string, a dict, an object; None."""
    return st.sampled_from(["abc", {"a": 1}, object(), None])


def _string(valid: Any) -> st.SearchStrategy:
    """Not a string: a number, bytes, a list, an object; None."""
    return st.sampled_from([3, b"x", ["a"], object(), None])


BAD_VALUES.update(
    {
        "float_dtype": _float_dtype,
        "dtype": _dtype,
        "device": _device,
        "flag": _flag,
        "axis": _axis,
        "shape": _shape,
        "rank": _rank,
        "number": _number,
        "index": _index,
        "parameters": _parameters,
        "array": _array,
        "string": _string,
    }
)

def bad_values(entry: Entry, argument: str) -> st.SearchStrategy:
    strategy = BAD_VALUES[entry.kinds[argument]](entry.valid[argument])
    if argument in entry.none_allowed:
        strategy = strategy.filter(lambda v: v is not None)
    return strategy
