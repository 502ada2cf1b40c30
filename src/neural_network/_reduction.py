"""The one reduction path: sample weights, ``none | sum | mean``, exact accumulation.

Every loss hands its per-element values (or derivatives) here. Sums are accumulated
in float64 whatever the input dtype. For NumPy input the array is summed in blocks of
``BLOCK`` elements (NumPy sums each block pairwise, so each partial carries an error of
a few units in the last place at most) and the partials are combined with
``math.fsum``, which adds them without any rounding error of its own. A float64 sum of
finite terms that overflows is redone on terms scaled by an exact power of two, so a
mean of huge but finite losses is still finite.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from neural_network._validation import Array, Namespace

BLOCK = 2048
"""Elements per partial sum on the NumPy path."""

_SCALE_EXPONENT = 64
"""Terms are scaled by 2**-64 when their float64 sum overflows (exact: a power of two)."""

Total = tuple[Array, int]
"""A sum held as ``(value, exponent)``: the sum is ``value * 2**exponent``."""


def apply_sample_weight(xp: Namespace, values: Array, sample_weight: Array | None) -> Array:
    """Multiply element-wise by the sample weights, if any.

    A zero weight removes its element even where the loss or the derivative is
    infinite: IEEE arithmetic would make ``0 * inf`` a NaN, so such elements are
    zeroed before the product rather than after.
    """
    if sample_weight is None:
        return values
    return sample_weight * xp.where(sample_weight == 0, 0.0, values)


def total(xp: Namespace, values: Array) -> Total:
    """The sum of ``values`` (a float64 array), accumulated exactly as described above."""
    result = _sum(xp, values)
    if math.isinf(float(result)):
        scaled = _sum(xp, values * 2.0**-_SCALE_EXPONENT)
        if math.isfinite(float(scaled)):
            return scaled, _SCALE_EXPONENT
    return result, 0


def _sum(xp: Namespace, values: Array) -> Array:
    if not array_api_compat.is_numpy_namespace(xp):
        return xp.sum(values, dtype=xp.float64)
    flat = np.reshape(values, -1)
    whole = flat.size - flat.size % BLOCK
    partials: list[float] = np.add.reduce(flat[:whole].reshape(-1, BLOCK), axis=1).tolist()
    partials.append(float(np.add.reduce(flat[whole:])))
    try:
        return np.float64(math.fsum(partials))
    except OverflowError:  # the exact sum of finite partials exceeds the float64 range
        return np.float64(math.inf)


def count(shape: tuple[int, ...]) -> Total:
    """The denominator of an unweighted mean: the number of elements."""
    return float(math.prod(shape)), 0


def reduce_values(
    xp: Namespace,
    values: Array,
    *,
    reduction: str,
    sample_weight: Array | None,
    denominator: Total,
    dtype: Any,
) -> Array:
    """Reduce per-element losses: the loss itself.

    ``none`` gives ``w * l`` element-wise, ``sum`` gives ``sum(w * l)`` and ``mean``
    gives ``sum(w * l) / denominator`` (the element count, or ``sum(w)``).
    """
    weighted = apply_sample_weight(xp, values, sample_weight)
    if reduction == "none":
        return xp.astype(weighted, dtype, copy=False)
    value, exponent = total(xp, weighted)
    if reduction == "mean":
        value = value / denominator[0]
        exponent -= denominator[1]
    if exponent:
        value = value * 2.0**exponent
    if array_api_compat.is_numpy_namespace(xp):
        return np.asarray(value, dtype=dtype)[()]
    return xp.astype(value, dtype)


def reduce_derivatives(
    xp: Namespace,
    derivatives: Array,
    *,
    reduction: str,
    sample_weight: Array | None,
    denominator: Total,
    dtype: Any,
) -> Array:
    """Reduce per-element derivatives: the gradient of the reduced loss.

    The gradient of ``sum(w * l)`` with respect to element ``i`` is ``w_i * l_i'``, the
    same array ``none`` gives; the mean divides it by the same denominator as the loss.
    """
    weighted = apply_sample_weight(xp, derivatives, sample_weight)
    if reduction == "mean":
        weighted = weighted / denominator[0]
        if denominator[1]:
            weighted = weighted * 2.0 ** -denominator[1]
    return xp.astype(weighted, dtype, copy=False)
