"""Rows of class scores with class-index targets: the checks PyTorch's margin losses share."""

from __future__ import annotations

import math

import array_api_compat
import numpy as np

from neural_network import _validation
from neural_network._numerics import two_sum
from neural_network._validation import NONNEGATIVE, REAL, Array, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidTypeError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses._rows import (
    RowArguments,
    RowTarget,
)

EXACT_INTEGERS = 2.0**53


def score_rows(func: str, input: object, reduction: object, **others: object) -> RowArguments:
    """Check ``reduction`` and ``input``; the namespace is shared by ``others``."""
    checked_reduction = _validation.check_reduction(func, reduction)
    xp, device = _validation.namespace(func, input=input, **others)
    x = _validation.as_real_array(func, "input", input, xp, device)
    if x.ndim not in (1, 2):
        raise ShapeMismatchError(
            f"{func}: input must hold scores of shape (N, C), or (C,) for one sample; got shape "
            f"{tuple(x.shape)}. For extra axes, move the class axis last and reshape to (-1, C)."
        )
    if x.shape[-1] == 0:
        raise ShapeMismatchError(f"{func}: input must have at least one class (C >= 1); got shape {tuple(x.shape)}.")
    _validation.check_values(func, "input", x, xp, REAL)
    one_sample = x.ndim == 1
    rows = _validation.working(xp, xp.reshape(x, (1, -1)) if one_sample else x)
    return RowArguments(
        func=func, xp=xp, device=device, x=x, class_axis=0 if one_sample else 1, classes=int(x.shape[-1]),
        sample_shape=() if one_sample else (int(x.shape[0]),), target=RowTarget(), weight=None, sample_weight=None,
        label_smoothing=0.0, reduction=checked_reduction, domain=REAL, deferred=False, laid_out=rows,
    )


def check_class_weights(rows: RowArguments, weight: object, sample_weight: object) -> None:
    """Check the per-class ``weight`` (if the loss has one) and ``sample_weight``; then the mean."""
    func, xp, device = rows.func, rows.xp, rows.device
    if weight is not None:
        w = _validation.as_real_array(func, "weight", weight, xp, device)
        if tuple(w.shape) != (rows.classes,):
            raise ShapeMismatchError(
                f"{func}: weight must hold one weight per class, shape ({rows.classes},); got "
                f"weight.shape={tuple(w.shape)}. For one weight per sample, use sample_weight."
            )
        _validation.check_values(func, "weight", w, xp, NONNEGATIVE)
        rows.weight = _validation.working(xp, w)
    if sample_weight is not None:
        s = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
        expected = () if rows.class_axis == 0 else (rows.samples,)
        if tuple(s.shape) != expected:
            raise ShapeMismatchError(
                f"{func}: sample_weight must hold one weight per sample, shape {expected}; got "
                f"sample_weight.shape={tuple(s.shape)}. For one weight per class, use weight."
            )
        _validation.check_values(func, "sample_weight", s, xp, NONNEGATIVE)
        rows.sample_weight = xp.reshape(_validation.working(xp, s), (-1,))
    if rows.reduction == "mean":
        if rows.samples == 0:
            raise EmptyInputError(
                f"{func}: reduction='mean' needs at least one sample; got none. "
                "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
            )
        if rows.sample_weight is not None and float(xp.max(rows.sample_weight)) == 0.0:
            raise EmptyInputError(
                f"{func}: reduction='mean' divides by the summed sample weights, and they are all 0. "
                "Use reduction='sum' to get 0, or give some sample a positive weight."
            )


def class_indices(rows: RowArguments, name: str, target: object, shape: tuple[int, ...], low: int) -> Array:
    """``target`` as int64 class indices of ``shape``, each from ``low`` to ``C - 1``."""
    func, xp = rows.func, rows.xp
    if target is None:
        raise InvalidTypeError(f"{func}: {name} is None; expected class indices.")
    t = _validation.as_real_array(func, name, target, xp, rows.device)
    if tuple(t.shape) != shape:
        raise ShapeMismatchError(
            f"{func}: {name} must have shape {shape} for input of shape "
            f"{(rows.classes,) if rows.class_axis == 0 else tuple(rows.scores.shape)}; got {name}.shape={tuple(t.shape)}."
            + (" Nothing is broadcast implicitly: reshape the target." if math.prod(t.shape) == math.prod(shape) else "")
        )
    t = xp.reshape(t, (-1,))
    if math.prod(shape) == 0:
        return xp.astype(t, xp.int64)
    found_low, found_high = _validation.check_values(func, name, t, xp, REAL)
    if not bool(xp.all(t == xp.floor(t))):
        raise InvalidTypeError(
            f"{func}: {name} must hold whole class indices; got fractional values. "
            "For one-hot or multi-hot rows use multilabel_soft_margin_loss, or convert them to indices."
        )
    if found_low < low or found_high > rows.classes - 1 or max(-found_low, found_high) >= EXACT_INTEGERS:
        hint = ""
        if found_low >= 1 and found_high == rows.classes:
            hint = " 1-based labels? Subtract 1 so the classes are 0 to C - 1."
        raise OutOfRangeError(
            f"{func}: {name} must hold class indices from {low} to {rows.classes - 1} (input has "
            f"{rows.classes} classes); got values from {found_low:.6g} to {found_high:.6g}.{hint}"
        )
    return xp.astype(t, xp.int64)


def onehot_rows(rows: RowArguments, indices: Array) -> Array:
    """(N, C) float64 one-hot rows of (N,) class indices."""
    xp = rows.xp
    positions = xp.arange(rows.classes, device=rows.device)
    return xp.astype(indices[:, None] == positions[None, :], xp.float64)


def hinge_argument(xp: Namespace, margin: float, own: Array, other: Array) -> Array:
    """``margin - own + other`` rounded once from its exact value (inf where it overflows)."""
    with np.errstate(over="ignore", invalid="ignore"):
        d, d_error = two_sum(other, -own)
        s, s_error = two_sum(margin, d)
        v = s + (s_error + d_error)
        return xp.where(xp.isinf(d), d, v)


def positions(xp: Namespace, count: int, like: Array) -> Array:
    # On the device of ``like``: a library with several devices refuses to compare arrays
    # that live on different ones.
    return xp.arange(count, device=array_api_compat.device(like))
