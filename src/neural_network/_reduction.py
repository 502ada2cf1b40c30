"""The one reduction path: sample weights, ``none | sum | mean``, exact accumulation.

Every loss hands its per-element values (or derivatives) here, in the working
precision. Sums are accumulated in float64 at least, whatever the input dtype. For
NumPy input the array is summed in blocks of ``BLOCK`` elements (NumPy sums each block
pairwise, so each partial carries an error of a few units in the last place at most)
and the partials are combined with ``math.fsum``, which adds them without any rounding
error of its own.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from neural_network._validation import Array, Namespace, detached

BLOCK = 2048
"""Elements per partial sum on the NumPy path."""


def apply_sample_weight(xp: Namespace, values: Array, sample_weight: Array | None) -> Array:
    """Multiply element-wise by the sample weights, if any.

    A zero weight removes its element even where the loss or the derivative is
    infinite: IEEE arithmetic would make ``0 * inf`` a NaN, so such elements are
    zeroed before the product rather than after.
    """
    if sample_weight is None:
        return values
    return sample_weight * xp.where(sample_weight == 0, 0.0, values)


def weight_exponent(largest: float, count: float) -> int:
    """The power of two to multiply ``count`` weights by, the largest ``largest``, so that
    a weighted sum or mean loses nothing.

    A weighted mean, and its gradient, do not change when every weight is multiplied by
    the same number, and multiplying by a power of two is exact; a weighted sum is
    divided by it again at the end (see :func:`unscale`). Weights whose largest is below
    1 are scaled up until it lies in [1, 2), so subnormal weights keep their bits in
    ``w * l``. Weights are scaled down only if ``sum(w)`` could overflow; a weight below
    2**-1074 of the largest then counts as 0 (its share is below every float64).
    """
    if not 0.0 < largest < math.inf:  # no positive weight: nothing to keep
        return 0
    exponent = 1 - math.frexp(largest)[1]
    if exponent < 0 and largest * count < 2.0**1000:
        return 0
    return exponent


def scale(values: Array, exponent: int) -> Array:
    """``values * 2**exponent``, exact unless the result leaves the normal range.

    Where ``2**exponent`` is not a float64 the factor is applied in two halves.
    """
    if exponent == 0:
        return values
    if -1074 <= exponent <= 1023:
        return values * 2.0**exponent
    half = exponent // 2
    return (values * 2.0**half) * 2.0 ** (exponent - half)


def scale_weights(weights: Array, largest: float, count: float) -> Array:
    """The weights of a mean scaled by ``2**weight_exponent(largest, count)``: the same
    mean and gradient, without lost bits or an overflowing ``sum(w)``."""
    return scale(weights, weight_exponent(largest, count))


def unscale(value: Array, exponent: int) -> Array:
    """A sum of weights scaled by ``2**exponent`` brought back: ``value * 2**-exponent``,
    rounded once (``inf`` beyond the range) for NumPy."""
    if exponent == 0:
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        with np.errstate(over="ignore"):
            return np.ldexp(value, -exponent)
    return scale(value, -exponent)


def sum_weights(xp: Namespace, weights: Array | None, reduction: str) -> tuple[Array | None, int]:
    """The weights of a ``sum`` scaled as those of a mean (see :func:`weight_exponent`), and
    the exponent :func:`unscale` takes off the sum; the weights unchanged, and 0, for the
    other reductions (a mean's weights are scaled when they are validated)."""
    if weights is None or reduction != "sum":
        return weights, 0
    exponent = weight_exponent(largest(xp, weights), math.prod(weights.shape))
    return scale(weights, exponent), exponent


def largest(xp: Namespace, values: Array) -> float:
    """The largest of non-negative ``values``, 0.0 if there are none."""
    if math.prod(values.shape) == 0:
        return 0.0
    return float(xp.max(detached(values)))


def total(xp: Namespace, values: Array) -> Array:
    """The sum of ``values`` as a 0-d array of their dtype, accumulated as described above."""
    if isinstance(values, np.ndarray):
        flat = values.reshape(-1)
        # A single partial sum (fsum would return it unchanged), or the extended-range
        # fallback (no fsum, which works in float64).
        if flat.size <= BLOCK or flat.dtype != np.float64:
            return np.add.reduce(flat)
        return combine(partials(flat))
    if array_api_compat.is_dask_array(values):  # chunk by chunk, combined exactly: see _dask
        from neural_network import _dask

        return _dask.total(values)
    return xp.sum(values, dtype=xp.float64)


def partials(values: Array) -> list[float]:
    """The partial sums of float64 NumPy ``values``: one per whole ``BLOCK``, then the rest.

    A long array cut at multiples of ``BLOCK`` gives, piece by piece, the same partials
    as the whole: the blocked evaluation of the losses relies on it.
    """
    flat = np.reshape(values, -1)
    whole = flat.size - flat.size % BLOCK
    sums: list[float] = np.add.reduce(flat[:whole].reshape(-1, BLOCK), axis=1).tolist()
    sums.append(float(np.add.reduce(flat[whole:])))  # 0.0 if nothing is left: changes no sum
    return sums


def combine(sums: list[float]) -> Array:
    """The exact sum of ``sums``, rounded once to float64 (``inf`` beyond its range)."""
    try:
        return np.float64(math.fsum(sums))
    except OverflowError:  # the exact sum of finite partials exceeds the float64 range
        return np.float64(math.inf)
    except ValueError:  # inf and -inf in different partials: NaN, as NumPy's own sum gives
        return np.float64(math.nan)


def denominator(xp: Namespace, values: Array, sample_weight: Array | None) -> Array | float:
    """What a mean divides by: the sum of the sample weights if there are any, else the
    number of elements of ``values``."""
    return _denominator(xp, values, sample_weight, None)


def _denominator(
    xp: Namespace, values: Array, sample_weight: Array | None, mean_weight: Array | None
) -> Array | float:
    """What a mean divides by: ``sum(mean_weight)`` if the loss gives one, else the sum
    of the sample weights, else the number of elements."""
    if mean_weight is not None:
        return total(xp, mean_weight)
    if sample_weight is not None:
        return total(xp, sample_weight)
    return float(math.prod(values.shape))


def reduce_values(
    xp: Namespace,
    values: Array,
    *,
    reduction: str,
    sample_weight: Array | None,
    dtype: Any,
    mean_weight: Array | None = None,
) -> Array:
    """Reduce per-element losses: the loss itself.

    ``none`` gives ``w * l`` element-wise, ``sum`` gives ``sum(w * l)`` and ``mean``
    gives ``sum(w * l) / sum(w)`` (the element count without weights). The weights of a
    mean come scaled by :func:`scale_weights` (each loss's validation does it, before it
    forms ``mean_weight`` from them); those of a sum are scaled here. A loss whose
    mean has another denominator passes it as ``mean_weight`` (cross-entropy with class
    weights divides by the summed weights of the target classes, as PyTorch does).
    """
    if reduction == "none":
        return xp.astype(apply_sample_weight(xp, values, sample_weight), dtype, copy=False)
    # A sum is taken with the weights scaled as a mean's are (see weight_exponent), and
    # brought back at the end, rounded once: extreme weights lose nothing there either.
    weights, exponent = sum_weights(xp, sample_weight, reduction)
    value = total(xp, apply_sample_weight(xp, values, weights))
    if reduction == "mean":
        value = value / _denominator(xp, values, sample_weight, mean_weight)
    value = unscale(value, exponent)
    if isinstance(values, np.ndarray):
        return np.dtype(dtype).type(value)  # a NumPy scalar of the caller's dtype, rounded once
    return xp.astype(value, dtype)


def reduce_derivatives(
    xp: Namespace,
    derivatives: Array,
    *,
    reduction: str,
    sample_weight: Array | None,
    dtype: Any,
    mean_weight: Array | None = None,
) -> Array:
    """Reduce per-element derivatives: the gradient of the reduced loss.

    The gradient of ``sum(w * l)`` with respect to element ``i`` is ``w_i * l_i'``, the
    same array ``none`` gives; the mean divides it by the same denominator as the loss.
    """
    weighted = apply_sample_weight(xp, derivatives, sample_weight)
    if reduction == "mean":
        weighted = weighted / _denominator(xp, derivatives, sample_weight, mean_weight)
    return xp.astype(weighted, dtype, copy=False)


class StreamingSum:
    """The sum of float64 values that arrive in pieces, equal to ``total`` of their concatenation.

    ``total`` sums each whole block of ``BLOCK`` elements pairwise, then the tail, and
    adds those partials with ``math.fsum``. This accumulator forms exactly the same
    blocks over the concatenated stream, whatever the sizes of the pieces: the elements
    after the last whole block wait in a carry (fewer than ``BLOCK`` of them) until the
    next piece completes the block. So ``value()`` equals ``total`` of the whole array,
    to the last bit, for every way of cutting it into pieces.

    Memory stays bounded however many values arrive: every ``FOLD`` block partials are
    folded into their exact sum, held as a few non-overlapping floats (Shewchuk's
    expansion, the same arithmetic ``math.fsum`` does inside). The exact sum does not
    change, and ``math.fsum`` rounds it correctly, so the result is the same bits.

    Where the exact sum of finite values exceeds the float64 range the value is ``inf``,
    as with ``total``. Only NumPy arrays (or anything ``numpy.asarray`` reads) in
    float64 are summed; other dtypes are converted to float64 first.
    """

    FOLD = 1024
    """Block partials kept before they are folded into the exact running sum."""

    def __init__(self) -> None:
        self.count = 0
        """How many values have been added."""
        self._carry: np.ndarray[Any, np.dtype[np.float64]] = np.empty(0)
        self._pending: list[float] = []
        self._exact: list[float] = []  # non-overlapping finite floats whose sum is exact
        self._special: list[float] = []  # inf, -inf and NaN, each once if it came: fsum decides
        self._overflow = False

    def add(self, values: object) -> None:
        """Add the values of an array of any shape (in row-major order)."""
        flat = np.reshape(np.asarray(values, dtype=np.float64), -1)
        self.count += flat.size
        with np.errstate(over="ignore", invalid="ignore"):  # a block's sum may overflow: inf, as in total
            self._add(flat)

    def _add(self, flat: np.ndarray[Any, np.dtype[np.float64]]) -> None:
        # The carry holds the last 1 to BLOCK values (a full block waits there until more
        # values come), so that up to BLOCK values in all are still there for ``total``.
        if self._carry.size:
            missing = BLOCK - self._carry.size
            if flat.size <= missing:
                self._carry = np.concatenate((self._carry, flat))
                return
            self._pending.append(float(np.add.reduce(np.concatenate((self._carry, flat[:missing])))))
            flat = flat[missing:]
        whole = flat.size - flat.size % BLOCK
        if whole == flat.size:  # keep the last whole block in the carry
            whole -= BLOCK
        if whole > 0:
            self._pending.extend(np.add.reduce(flat[:whole].reshape(-1, BLOCK), axis=1).tolist())
        self._carry = flat[max(whole, 0) :].copy()
        if len(self._pending) >= self.FOLD:
            self._fold()

    def terms(self) -> list[float]:
        """Floats whose exact sum is the sum ``value()`` rounds.

        Sums accumulated apart (one per chunk of a Dask array) are merged exactly by
        passing all their terms to :func:`combine`.
        """
        if self._overflow:
            return [math.inf]
        with np.errstate(over="ignore", invalid="ignore"):
            last = float(np.add.reduce(self._carry))
        return [*self._special, *self._exact, *self._pending, last]

    def value(self) -> float:
        """The sum of everything added so far, as ``total`` gives it for the concatenation."""
        if self._overflow:
            return math.inf
        with np.errstate(over="ignore", invalid="ignore"):
            if not (self._pending or self._exact or self._special):  # every value is in the carry
                return float(total(np, self._carry))
            last = float(np.add.reduce(self._carry))  # a whole block, or the tail of fewer
        return float(combine([*self._special, *self._exact, *self._pending, last]))

    def _fold(self) -> None:
        pending, self._pending = self._pending, []
        exact = self._exact
        for partial in pending:
            if self._overflow:
                return
            if not math.isfinite(partial):
                # fsum's result depends only on which of inf, -inf and NaN it met, not how often.
                if not any(_same(partial, seen) for seen in self._special):
                    self._special.append(partial)
                continue
            x, kept = partial, 0
            for y in exact:
                if abs(x) < abs(y):
                    x, y = y, x
                high = x + y
                if math.isinf(high):  # two finite floats whose sum leaves the float64 range
                    self._overflow = True
                    return
                low = y - (high - x)
                if low:
                    exact[kept] = low
                    kept += 1
                x = high
            exact[kept:] = [x]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))
