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

from neural_network._validation import Array, Namespace

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


def total(xp: Namespace, values: Array) -> Array:
    """The sum of ``values`` as a 0-d array of their dtype, accumulated as described above."""
    if not array_api_compat.is_numpy_namespace(xp):
        return xp.sum(values, dtype=xp.float64)
    flat = np.reshape(values, -1)
    if flat.dtype != np.float64:  # the extended-range fallback: no fsum, which works in float64
        return np.add.reduce(flat)
    whole = flat.size - flat.size % BLOCK
    partials: list[float] = np.add.reduce(flat[:whole].reshape(-1, BLOCK), axis=1).tolist()
    partials.append(float(np.add.reduce(flat[whole:])))
    try:
        return np.float64(math.fsum(partials))
    except OverflowError:  # the exact sum of finite partials exceeds the float64 range
        return np.float64(math.inf)


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
    gives ``sum(w * l) / sum(w)`` (the element count without weights). A loss whose
    mean has another denominator passes it as ``mean_weight`` (cross-entropy with class
    weights divides by the summed weights of the target classes, as PyTorch does).
    """
    weighted = apply_sample_weight(xp, values, sample_weight)
    if reduction == "none":
        return xp.astype(weighted, dtype, copy=False)
    value = total(xp, weighted)
    if reduction == "mean":
        value = value / _denominator(xp, values, sample_weight, mean_weight)
    if array_api_compat.is_numpy_namespace(xp):
        return np.asarray(value, dtype=dtype)[()]
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
