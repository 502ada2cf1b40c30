"""The one reduction path: sample weights, ``none | sum | mean``, exact accumulation.

Every loss hands its per-element values (or derivatives) here, in the working
precision. Sums are accumulated in float64 at least, whatever the input dtype. For
NumPy input the array is summed in blocks of ``PARTIAL_LENGTH`` elements (NumPy sums each block
pairwise, so each partial carries an error of a few units in the last place at most)
and the partials are combined with ``math.fsum``, which adds them without any rounding
error of its own.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from neural_network._exact_sum import PARTIAL_LENGTH, combine, partials
from neural_network._validation import Array, Namespace, detached

__all__ = [
    "PARTIAL_LENGTH", "apply_sample_weight", "combine", "denominator", "largest", "partials", "reduce_derivatives",
    "reduce_values", "scale", "scale_weights", "sum_weights", "total", "unscale", "weight_exponent",
]


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
        if flat.size <= PARTIAL_LENGTH or flat.dtype != np.float64:
            return np.add.reduce(flat)
        return combine(partials(flat))
    if array_api_compat.is_dask_array(values):  # chunk by chunk, combined exactly: see _dask
        from neural_network import _dask

        return _dask.total(values)
    return xp.sum(values, dtype=xp.float64)


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
