"""Weights and reductions of the losses with one value per list or anchor (ranking softmax, NT-Xent).

Each such loss gives one value per row (a list of items, an anchor); its mean divides the
weighted sum by ``sum(w * count)``, where ``count`` is what each row's value averages over.
"""

from __future__ import annotations

import math
from typing import Any

from neural_network import _reduction, _validation
from neural_network._validation import NONNEGATIVE, Array, Namespace
from neural_network.errors import EmptyInputError, ShapeMismatchError


def sample_weights(
    func: str, sample_weight: object, xp: Namespace, device: Any, shape: tuple[int, ...], reduction: str
) -> Array | None:
    """The sample weights as a float64 array of ``shape`` (one per sample), or None; scaled
    for a mean (``_reduction.scale_weights``: the mean does not change)."""
    if sample_weight is None:
        return None
    w = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
    if tuple(w.shape) != shape:
        raise ShapeMismatchError(
            f"{func}: sample_weight must hold one weight per sample, shape {shape}; got shape "
            f"{tuple(w.shape)}. Pass a weight for each row (list, anchor) of the batch."
        )
    _, largest = _validation.check_values(func, "sample_weight", w, xp, NONNEGATIVE)
    if reduction == "mean":
        return _reduction.scale_weights(_validation.working(xp, w), largest, math.prod(shape))
    return _validation.working(xp, w)


def check_mean(func: str, xp: Namespace, mean_weight: Array, what: str) -> None:
    if math.prod(mean_weight.shape) == 0 or float(xp.max(mean_weight)) == 0.0:
        raise EmptyInputError(
            f"{func}: reduction='mean' divides by {what}, and it is 0. "
            "Use reduction='sum' (an empty sum is 0) or check the batch."
        )


def reduce_lists(
    func: str, xp: Namespace, values: Array, reduction: str, w: Array | None, count: Array, dtype: Any,
    what: str, shape: tuple[int, ...],
) -> Array:
    """Reduce per-sample ``values``; the mean divides by ``sum(w * count)``."""
    mean_weight = count if w is None else w * count
    if reduction == "mean":
        check_mean(func, xp, mean_weight, what)
    if reduction == "none":
        values = xp.reshape(values, shape)
        w = None if w is None else xp.reshape(w, shape)
    return _reduction.reduce_values(
        xp, values, reduction=reduction, sample_weight=w, dtype=dtype, mean_weight=mean_weight
    )


def reduce_list_gradient(
    func: str, xp: Namespace, gradient: Array, reduction: str, w: Array | None, count: Array, dtype: Any,
    what: str,
) -> Array:
    """Reduce per-sample gradient rows (M, K): scaled by ``w``, the mean divided as the loss."""
    mean_weight = count if w is None else w * count
    if reduction == "mean":
        check_mean(func, xp, mean_weight, what)
    return _reduction.reduce_derivatives(
        xp, gradient, reduction=reduction, sample_weight=None if w is None else w[:, None], dtype=dtype,
        mean_weight=mean_weight,
    )
