"""The one validation path: every public function checks its input here.

Each check raises an exception from :mod:`neural_network.errors` whose message names
the function and the argument, says what was expected and what was received, and
gives the fix for the classic mistakes. Nothing here repairs input silently.

Arrays of any library that follows the array API standard are accepted; the
namespace of the inputs is found with ``array_api_compat.array_namespace`` and every
operation below goes through it, so PyTorch tensors stay tensors.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from neural_network.errors import (
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)

Array = Any
"""An array of any array-API library (NumPy, PyTorch, CuPy, JAX, array-api-strict)."""

Namespace = Any
"""An array-API namespace, as returned by ``array_api_compat.array_namespace``."""

REDUCTIONS = ("mean", "sum", "none")

_REDUCTION_HINTS = {
    "avg": "mean",
    "average": "mean",
    "elementwise_mean": "mean",
    "total": "sum",
    "batchmean": "mean",
}


# --------------------------------------------------------------------------- options


def check_reduction(func: str, reduction: object) -> str:
    """Return ``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"``."""
    if isinstance(reduction, str) and reduction in REDUCTIONS:
        return reduction
    message = (
        f"{func}: reduction must be one of 'mean', 'sum' or 'none'; got {reduction!r}."
    )
    if reduction is None:
        message += " To keep the per-element losses, pass the string 'none', not None."
    elif isinstance(reduction, str) and reduction.lower() in _REDUCTION_HINTS:
        message += f" Did you mean reduction={_REDUCTION_HINTS[reduction.lower()]!r}?"
    raise InvalidOptionError(message)


# --------------------------------------------------------------------------- arrays


def namespace(func: str, **arguments: object) -> tuple[Namespace, Any]:
    """Return the array namespace and device shared by the array ``arguments``.

    Lists and Python scalars take the namespace of the arrays beside them (NumPy if
    there are none). Arrays of two different libraries are an error, not a guess.
    """
    # The common case first, without array-api-compat's general dispatch (it costs more
    # than the whole loss for a few hundred elements): only NumPy arrays, lists and numbers.
    if all(value is None or type(value) is np.ndarray or not is_array(value) for value in arguments.values()):
        return NUMPY, None
    for name, value in arguments.items():
        if isinstance(value, np.ma.MaskedArray):
            _refuse_masked(func, name)
    arrays = {name: value for name, value in arguments.items() if is_array(value)}
    try:
        xp = array_api_compat.array_namespace(*arrays.values())
    except TypeError:
        kinds = ", ".join(f"{name} is {type(v).__module__}.{type(v).__name__}" for name, v in arrays.items())
        raise InvalidTypeError(
            f"{func}: all array arguments must come from one array library; got {kinds}. "
            "Convert them to one library first, e.g. torch.as_tensor(y) or numpy.asarray(y)."
        ) from None
    first = next(iter(arrays.values()))
    return xp, array_api_compat.device(first)


def _refuse_masked(func: str, name: str) -> None:
    """A masked array's mask would be ignored (NumPy's functions read the data under it),
    so neither the mask nor the data would be honoured: say how to choose."""
    raise InvalidTypeError(
        f"{func}: {name} is a masked array (numpy.ma); expected a plain array. Its mask would be "
        "ignored and the values under it used. To leave the masked elements out, select the "
        f"same elements of every argument: keep = ~numpy.ma.getmaskarray({name}), then pass "
        f"{name}.data[keep] (and the other arguments [keep]), or {name}.compressed() for a lone "
        f"array; to count them with a value of your choice, pass {name}.filled(value)."
    )


NUMPY: Namespace = array_api_compat.array_namespace(np.empty(0))
"""NumPy's namespace, as array-api-compat gives it (what :func:`namespace` returns for NumPy)."""


def is_array(value: object) -> bool:
    """Whether ``value`` is an array of an array-API library (Python numbers are not)."""
    return bool(array_api_compat.is_array_api_obj(value)) and not isinstance(value, (bool, int, float))


def as_real_array(func: str, name: str, value: object, xp: Namespace, device: Any) -> Array:
    """Return ``value`` as a real floating-point array of namespace ``xp``.

    Floating arrays keep their dtype; booleans, integers, lists and Python scalars
    become float64. None, strings, complex numbers and ragged lists are refused.
    """
    if type(value) is np.ndarray and value.dtype.kind == "f":  # the common case, first
        return value
    if value is None:
        raise InvalidTypeError(
            f"{func}: {name} is None; expected an array or a number. "
            "Did a function upstream forget to return its result?"
        )
    if isinstance(value, (str, bytes)):
        raise InvalidTypeError(
            f"{func}: {name} must be numeric; got the string {value!r}. "
            "Convert the data to numbers first (e.g. float(text) or numpy.asarray(..., dtype=float))."
        )
    if not is_array(value):
        converted = _from_python(func, name, value)
        if device is not None or not is_numpy_namespace(xp):
            return xp.asarray(converted, device=device)
        return converted
    array: Array = value
    kind = dtype_kind(xp, array.dtype)
    if kind == "real floating":
        return array
    if kind in ("bool", "integral"):
        return xp.astype(array, xp.float64)
    if kind == "complex floating":
        raise InvalidTypeError(
            f"{func}: {name} must be real; got a complex array (dtype {array.dtype}). "
            "Losses are defined on real numbers: pass x.real or abs(x) as your problem requires."
        )
    raise InvalidTypeError(
        f"{func}: {name} must be numeric; got an array of dtype {array.dtype}. "
        "Convert it with numpy.asarray(values, dtype=float) after checking that every entry is a number."
    )


def _from_python(func: str, name: str, value: object) -> np.ndarray[Any, Any]:
    """Read a list, tuple or Python scalar as a float64 NumPy array (or explain why not)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidTypeError(
            f"{func}: {name} must be a rectangular array of numbers; got a ragged nested sequence "
            f"{describe(value)}. Every row must have the same length."
        ) from None
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    if array.dtype.kind == "c":
        raise InvalidTypeError(
            f"{func}: {name} must be real; got complex numbers {describe(value)}. "
            "Losses are defined on real numbers: pass the real part or the magnitude."
        )
    raise InvalidTypeError(
        f"{func}: {name} must be numeric; got {describe(value)} holding "
        f"{'None or mixed objects' if array.dtype.kind == 'O' else 'text'}. "
        "Convert every entry to a number first."
    )


def dtype_kind(xp: Namespace, dtype: Any) -> str:
    """The array-API kind of ``dtype``: "real floating", "integral", "bool", "complex floating" or "other"."""
    for kind in ("real floating", "integral", "bool", "complex floating"):
        try:
            if xp.isdtype(dtype, kind):
                return kind
        except (TypeError, ValueError):
            return "other"
    return "other"


def is_numpy_namespace(xp: Namespace) -> bool:
    """Whether ``xp`` is NumPy's namespace (through array-api-compat or not)."""
    return bool(array_api_compat.is_numpy_namespace(xp))


EXTENDED: Any = np.longdouble if np.finfo(np.longdouble).maxexp > np.finfo(np.float64).maxexp else None
"""NumPy's long double where its exponent range is wider than float64's (x86-64: 80-bit,
aarch64: 128-bit), else None. It is the fallback for the rare float64 computation whose
intermediate overflows although its result is finite."""


def working(xp: Namespace, x: Array) -> Array:
    """``x`` in the working precision, float64, so each result is rounded only once at the end.

    float32 and half-precision input is computed in float64 and rounded back, which
    makes those results correctly rounded in nearly every case; float64 is used as is.
    """
    return xp.astype(x, xp.float64, copy=False)


# --------------------------------------------------------------------------- shapes


def check_same_shape(func: str, a_name: str, a: Array, b_name: str, b: Array) -> None:
    """Refuse arrays of different shapes: nothing is broadcast implicitly."""
    a_shape, b_shape = tuple(a.shape), tuple(b.shape)
    if a_shape == b_shape:
        return
    message = (
        f"{func}: {a_name} and {b_name} must have the same shape; "
        f"got {a_name}.shape={a_shape} and {b_name}.shape={b_shape}."
    )
    raise ShapeMismatchError(message + " " + _shape_hint(a_name, a_shape, b_name, b_shape))


def _shape_hint(a_name: str, a_shape: tuple[int, ...], b_name: str, b_shape: tuple[int, ...]) -> str:
    a_size, b_size = math.prod(a_shape), math.prod(b_shape)
    if a_size != b_size:
        return (
            f"They hold {a_size} and {b_size} values: check that both come from the same "
            "batch (the same rows, the same train/test split)."
        )
    hint = "Nothing is broadcast implicitly"
    broadcast = broadcast_shape(a_shape, b_shape)
    if broadcast is not None and broadcast != a_shape:
        hint += (
            f" (broadcasting would pair every element of one with every element of the other "
            f"and silently give a {broadcast} result)"
        )
    return hint + f". Reshape one to match, e.g. {b_name} = {b_name}.reshape{_reshape_args(a_shape)}."


def _reshape_args(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return "(-1)"
    if len(shape) == 2 and shape[1] == 1:
        return "(-1, 1)"
    return str(shape)


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """The shape of ``a`` and ``b`` broadcast together, or None if they do not broadcast."""
    result: list[int] = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        result.append(max(x, y) if 0 not in (x, y) else 0)
    return tuple(reversed(result))


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Domain:
    """The values an argument may take, and the hint to give when they fall outside.

    ``hint`` receives the smallest and largest value found and returns advice for
    the likely mistake behind them (or an empty string).
    """

    description: str
    low: float = -math.inf
    high: float = math.inf
    allow_infinite: bool = False
    hint: Callable[[float, float], str] = lambda low, high: ""

    def holds(self, low: float, high: float) -> bool:
        """Whether values from ``low`` to ``high`` all lie in the domain (False for NaN).

        Exactly the values :func:`check_range` accepts: a caller that knows the minimum
        and the maximum can decide the common case with this, and leave the message to
        the full check.
        """
        if not (self.low <= low and high <= self.high):  # NaN fails every comparison
            return False
        return self.allow_infinite or (-math.inf < low and high < math.inf)


def _logit_hint(low: float, high: float) -> str:
    return (
        " These look like logits (raw scores before the sigmoid): use "
        "binary_cross_entropy_with_logits(logits, y), or apply sigmoid first."
    )


def _label_hint(low: float, high: float) -> str:
    if low == -1.0 and high == 1.0:
        return " Labels coded as -1/+1? Map them to 0/1 with (y + 1) / 2."
    if low >= 0 and float(high).is_integer():
        return (
            " Regression targets or class indices? Use mse_loss for regression; for classes, "
            "one binary column per class (one-hot) in [0, 1]."
        )
    return " Regression targets? Use mse_loss. Labels must be 0, 1 or a probability in between."


REAL = Domain("finite real numbers")
EXTENDED_REAL = Domain("real numbers (infinity allowed, NaN not)", allow_infinite=True)
PROBABILITY = Domain("probabilities in [0, 1]", 0.0, 1.0, hint=_logit_hint)
LABEL = Domain("labels in [0, 1] (0, 1, or a soft label between)", 0.0, 1.0, hint=_label_hint)
NONNEGATIVE = Domain(
    "finite non-negative weights",
    0.0,
    hint=lambda low, high: " A weight scales a term of the loss; it cannot be negative.",
)


def check_values(func: str, name: str, x: Array, xp: Namespace, domain: Domain) -> tuple[float, float]:
    """Refuse NaN, infinity (unless the domain allows it) and values outside ``domain``.

    One pass for the minimum and one for the maximum decide the common case; only
    when something is wrong are the offending elements located for the message.
    NaN propagates through min and max in every supported library. Returns the
    minimum and the maximum (``(inf, -inf)`` for an empty array) for further checks.
    """
    if math.prod(x.shape) == 0:
        return math.inf, -math.inf
    low, high = extremes(xp, x)[0]
    check_range(func, name, x, xp, domain, low, high)
    return low, high


def extremes(xp: Namespace, *arrays: Array) -> list[tuple[float, float]]:
    """The minimum and maximum of each non-empty array, as floats.

    Dask arrays are all measured in one pass over their chunks (each ``float()`` of a
    Dask result would be a pass of its own), so checking a loss's arguments reads its
    data once, whatever their number.
    """
    if all(type(x) is np.ndarray for x in arrays):  # NumPy's reductions directly: a small call costs half as much
        return [(float(np.minimum.reduce(x, axis=None)), float(np.maximum.reduce(x, axis=None))) for x in arrays]
    if any(array_api_compat.is_dask_array(x) for x in arrays):
        import dask

        found = dask.compute(*[(xp.min(x), xp.max(x)) for x in arrays])
        return [(float(low), float(high)) for low, high in found]
    return [(float(xp.min(x)), float(xp.max(x))) for x in map(detached, arrays)]


def detached(x: Array) -> Array:
    """``x`` without its autograd graph, for values that checks read as Python numbers.

    PyTorch warns when a tensor that requires grad becomes a float (an error under
    ``-W error``); the checks only read values, and the loss itself keeps the graph.
    """
    return x.detach() if array_api_compat.is_torch_array(x) else x


def check_range(func: str, name: str, x: Array, xp: Namespace, domain: Domain, low: float, high: float) -> None:
    """:func:`check_values` with the minimum and maximum of ``x`` already known.

    The loss engine measures them block by block as it computes (the blocks are then in
    the processor's cache), and calls this to decide; ``x`` is only read again to
    locate the offending elements for the message.
    """
    if math.isnan(low) or math.isnan(high):
        _raise_non_finite(func, name, x, xp, xp.isnan(x), "NaN")
    if not domain.allow_infinite and (math.isinf(low) or math.isinf(high)):
        _raise_non_finite(func, name, x, xp, xp.isinf(x), "infinite")
    if low < domain.low or high > domain.high:
        outside = (x < domain.low) | (x > domain.high)
        count, where, value = _locate(xp, x, outside)
        raise OutOfRangeError(
            f"{func}: {name} must hold {domain.description}; got values from {low:.6g} to "
            f"{high:.6g}, {count} of them outside (first: {name}{where} = {value:.6g})."
            + domain.hint(low, high)
        )


def may_be_swapped(p_range: tuple[float, float], t_range: tuple[float, float]) -> bool:
    """Whether probabilities ``p`` and labels ``t`` with these (minimum, maximum) could be
    the labels and the probabilities passed the other way round: only if ``p`` holds an
    exact 0 or 1 while every ``t`` lies strictly between 0 and 1. Decided from the ranges
    the checks measure anyway: soft predictions, the common case, are never examined."""
    (p_low, p_high), (t_low, t_high) = p_range, t_range
    return (p_low == 0.0 or p_high == 1.0) and t_low > 0.0 and t_high < 1.0


def check_not_swapped(
    func: str, xp: Namespace, p_name: str, p: Array, t_name: str, t: Array, *, call: str, logits: str, other: str
) -> None:
    """Refuse a prediction of only 0s and 1s against a target of values strictly between.

    That pair is what a learner gets by passing the labels first and the probabilities
    second, and its loss is infinite. Called only where :func:`may_be_swapped` holds
    (every target is strictly between 0 and 1); the prediction is read block by block,
    and a soft value in it (a prediction that merely saturates somewhere) ends the look
    at once. ``call`` shows this edition's order (``"binary_cross_entropy(A, y)"``),
    ``logits`` the call that takes logits instead, and ``other`` (if not empty) how the
    other edition differs.
    """
    if not _only_zeros_and_ones(xp, p):
        return
    raise InvalidInputError(
        f"{func}: the arguments look swapped: {p_name}, the prediction, holds only 0 and 1, while "
        f"{t_name}, the target, holds only values strictly between 0 and 1. This edition takes the "
        f"predicted probabilities first: {call}, as the NumPy article and PyTorch do{other}. Swap "
        f"them. If the order is right, the loss is infinite: a prediction of exactly 0 or 1 "
        f"against a label between costs inf; compute it from the logits with {logits}."
    )


_EXAMINED = 65536
"""Elements examined at a time by the swap check, which stops at the first that settles it."""


def _only_zeros_and_ones(xp: Namespace, x: Array) -> bool:
    if not isinstance(x, np.ndarray):
        return bool(xp.all((x == 0.0) | (x == 1.0)))
    flat = np.reshape(x, -1)
    for start in range(0, flat.size, _EXAMINED):
        block = flat[start : start + _EXAMINED]
        # the elements that are not 0 (NaN was refused before) are all exactly 1
        if np.count_nonzero(block) != np.count_nonzero(block == 1.0):
            return False
    return True


def _raise_non_finite(func: str, name: str, x: Array, xp: Namespace, mask: Array, what: str) -> None:
    count, where, _ = _locate(xp, x, mask)
    raise NonFiniteError(
        f"{func}: {name} must hold finite numbers; got {count} {what} value"
        f"{'s' if count != 1 else ''} (first at {name}{where}). NaN and infinity usually come "
        "from a diverged model, a division by zero or a log of 0 upstream: find where they "
        "appear, or drop those rows before computing the loss."
    )


def _locate(xp: Namespace, x: Array, mask: Array) -> tuple[int, str, float]:
    """Count the true elements of ``mask`` and give the index and value of the first one."""
    x, mask = detached(x), detached(mask)
    flat = xp.reshape(xp.astype(mask, xp.float32), (-1,))
    count = int(xp.sum(flat))
    position = int(xp.argmax(flat))
    value = float(xp.reshape(x, (-1,))[position])
    shape = tuple(x.shape)
    index: list[int] = []
    for size in reversed(shape):
        position, rest = divmod(position, size)
        index.append(rest)
    where = "[" + ", ".join(str(i) for i in reversed(index)) + "]" if shape else ""
    return count, where, value


# --------------------------------------------------------------------------- options shared by the training API


def positive_integer(func: str, name: str, value: object) -> int:
    """``value`` as an int if it is a whole number of at least 1 (Python's or NumPy's), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidOptionError(f"{func}: {name} must be a positive integer; got {value!r}.")
    return int(value)


def generator(func: str, rng: object) -> np.random.Generator:
    """The random generator that ``rng`` names: a Generator itself, a seed (an integer
    >= 0, Python's or NumPy's), or None for fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    raise InvalidOptionError(
        f"{func}: rng must be a numpy.random.Generator, a seed (an integer >= 0) or None; got {rng!r}. "
        "A seed makes the result reproducible: rng=0."
    )

