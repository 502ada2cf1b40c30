"""An array namespace over mpmath numbers: the losses' references evaluated exactly enough.

``MP`` evaluates a reference (``neural_network.losses._reference``) on NumPy arrays
of dtype ``object`` whose entries are mpmath numbers at 200 bits (about 60 digits),
with the array-API names a reference uses. Arithmetic operators work on such arrays
element by element; the functions below apply mpmath's to each entry. Float64 input
converts exactly (``asarray``); 200 bits leave more than 140 bits of margin for any
cancellation the references' plain formulas have on the tests' inputs, so the results
are the exact values to far below one float64 ulp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

CONTEXT = mpmath.MPContext()
CONTEXT.prec = 200


def _each(function: Callable[[Any], Any]) -> Callable[[Any], np.ndarray]:
    vectorized = np.frompyfunc(function, 1, 1)

    def apply(x: Any) -> np.ndarray:
        return np.asarray(vectorized(x), dtype=object)

    return apply


def _exact(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    return CONTEXT.mpf(float(x)) if isinstance(x, (float, np.floating)) else x


class _Namespace:
    """The array-API subset the references use, over object arrays of mpmath numbers."""

    pi = CONTEXT.pi
    e = CONTEXT.e
    inf = CONTEXT.inf

    exp = staticmethod(_each(CONTEXT.exp))
    expm1 = staticmethod(_each(CONTEXT.expm1))
    log = staticmethod(_each(lambda v: CONTEXT.log(v) if v != 0 else -CONTEXT.inf))
    log1p = staticmethod(_each(lambda v: CONTEXT.log1p(v) if v != -1 else -CONTEXT.inf))
    sqrt = staticmethod(_each(CONTEXT.sqrt))
    tanh = staticmethod(_each(CONTEXT.tanh))
    cosh = staticmethod(_each(CONTEXT.cosh))
    sinh = staticmethod(_each(CONTEXT.sinh))
    erf = staticmethod(_each(CONTEXT.erf))
    abs = staticmethod(np.abs)
    sign = staticmethod(_each(CONTEXT.sign))
    where = staticmethod(np.where)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    take_along_axis = staticmethod(np.take_along_axis)
    reshape = staticmethod(np.reshape)
    stack = staticmethod(np.stack)
    concat = staticmethod(np.concatenate)
    arange = staticmethod(np.arange)
    isfinite = staticmethod(_each(CONTEXT.isfinite))

    @staticmethod
    def asarray(x: Any, dtype: Any = None) -> np.ndarray:
        array = np.asarray(x)
        if array.dtype.kind in "iub" or (dtype is not None and np.dtype(dtype).kind in "iub"):
            return array
        return np.asarray(np.frompyfunc(_exact, 1, 1)(array), dtype=object)

    @staticmethod
    def clip(x: Any, min: Any = None, max: Any = None) -> np.ndarray:
        result = np.asarray(x, dtype=object)
        if min is not None:
            result = np.maximum(result, min)
        if max is not None:
            result = np.minimum(result, max)
        return result

    @staticmethod
    def sum(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        # Entries at 200 bits: any order gives the same value to far below a float64 ulp.
        return np.sum(np.asarray(x, dtype=object), axis=axis, keepdims=keepdims)

    @staticmethod
    def max(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        return np.max(np.asarray(x, dtype=object), axis=axis, keepdims=keepdims)

    @staticmethod
    def min(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        return np.min(np.asarray(x, dtype=object), axis=axis, keepdims=keepdims)

    @staticmethod
    def zeros_like(x: Any) -> np.ndarray:
        return np.full(np.shape(x), CONTEXT.mpf(0), dtype=object)

    @staticmethod
    def ones_like(x: Any) -> np.ndarray:
        return np.full(np.shape(x), CONTEXT.mpf(1), dtype=object)


MP = _Namespace()
"""The namespace to pass as a reference's ``xp``."""


def exact(reference: Callable[..., Any], *arguments: np.ndarray, **options: Any) -> Any:
    """``reference(MP, ...)`` on float64 (or integer) arrays, converted exactly."""
    return reference(MP, *(MP.asarray(a) for a in arguments), **options)
