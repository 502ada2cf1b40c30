"""Losses over a class axis: softmax cross-entropy and the negative log-likelihood.

Unlike the element-wise losses, each sample's loss here reads a whole row of class
scores, and the target is a class index per sample (or a probability per class). The
arguments go through the same validation path, and the per-sample losses and the
gradients through the same reduction path, as every other loss. Conventions follow
PyTorch's ``F.cross_entropy`` and ``F.nll_loss`` exactly: the class axis is axis 1 of
an ``(N, C, d1, ...)`` input (axis 0 of an unbatched ``(C,)`` one), ``weight`` holds
one weight per class, and a mean over class indices divides by the summed weights of
the target classes.

NumPy input is evaluated in blocks of samples (see :mod:`neural_network._blocks`): each
block of rows is read from memory once, checked (its minimum and maximum, decided after
the pass with the messages of :func:`_validation.check_values`), widened to float64 and
carried through the whole computation while it is in the processor's cache, on several
threads for large input. For few classes a block is held transposed, one class per row
of a (C, samples) array, so that every step, the maximum and the sums over the classes
included, is a vector operation over the samples; the class sums are then formed in
exactly the order of NumPy's pairwise summation of a row (:func:`_class_sums`), so each
sample's result is the same bits in either layout, whatever the block and the thread
count. Class-index targets are gathered, never expanded into a one-hot matrix. Other
array libraries take the same formulas as whole-array expressions.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neural_network import _blocks, _reduction, _validation
from neural_network._validation import NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses._elementwise import Reduction

LOG_PROBABILITY = Domain(
    "log-probabilities (values <= 0; -inf for a probability of 0)",
    high=0.0,
    allow_infinite=True,
    hint=lambda low, high: (
        " Positive values cannot be log-probabilities: these look like logits (raw scores), "
        "so use cross_entropy(input, target), which applies log_softmax itself."
    ),
)

_EXACT_INTEGERS = 2.0**53
"""Class indices given as floats must be below this in magnitude to be whole numbers exactly."""


# --------------------------------------------------------------------------- validation


@dataclass(slots=True)  # not frozen: one is made per call, and a frozen one is slower to make
class _Target:
    """A validated target: class indices, or class probabilities."""

    indices: Array | None = None  # (M,) integers, -1 where the sample is ignored
    ignored: bool = False  # whether any sample is ignored
    probabilities: Array | None = None  # the target array itself (the input's shape)


@dataclass(slots=True)
class _Checked:
    """Validated arguments, before the layout of the evaluation is chosen.

    ``deferred``: NumPy arguments, whose value checks (of the input, and of a probability
    target) are left to the blocked evaluation, which measures each block's minimum and
    maximum as it goes (see :func:`_prepare`).
    """

    func: str
    xp: Namespace
    device: Any
    x: Array  # the input as given (its own float dtype)
    class_axis: int
    classes: int
    sample_shape: tuple[int, ...]
    target: _Target
    weight: Array | None  # (C,) float64; None for all ones
    sample_weight: Array | None  # (M,) float64
    label_smoothing: float
    reduction: str
    domain: Domain
    deferred: bool
    mean_weight: Array | int | None = None  # for reduction="mean": see _mean_weight


def _prepare(
    func: str,
    input: object,
    target: object,
    *,
    weight: object,
    ignore_index: object,
    label_smoothing: object,
    reduction: object,
    sample_weight: object,
    log_probabilities: bool,
) -> _Checked:
    """Check every argument, in a fixed order, each failure with its own message.

    The values of NumPy input (and of a NumPy probability target) are checked during the
    evaluation, block by block; so that a call with several faults reports the same one
    as before, a later check that fails first makes those deferred checks eagerly.
    """
    reduction = _validation.check_reduction(func, reduction)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise InvalidOptionError(f"{func}: ignore_index must be an integer; got {ignore_index!r}.")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) or not (
        0.0 <= float(label_smoothing) <= 1.0
    ):
        raise InvalidOptionError(
            f"{func}: label_smoothing must be a number in [0, 1]; got {label_smoothing!r}. "
            "It is the share of each target spread evenly over all classes (0.1 is common)."
        )
    if type(input) is np.ndarray and type(target) is np.ndarray and weight is None and sample_weight is None:
        xp, device = _validation.namespace(func)  # NumPy's, without looking at each argument
    else:
        xp, device = _validation.namespace(
            func, input=input, target=target, weight=weight, sample_weight=sample_weight
        )
    x = _validation.as_real_array(func, "input", input, xp, device)
    if x.ndim == 0:
        raise ShapeMismatchError(
            f"{func}: input must have a class axis, shape (N, C) or (C,); got a scalar. "
            "For a single binary score use binary_cross_entropy_with_logits."
        )
    class_axis = 1 if x.ndim >= 2 else 0
    shape = tuple(x.shape)
    classes = shape[class_axis]
    if classes == 0:
        raise ShapeMismatchError(
            f"{func}: input must have at least one class along axis {class_axis}; got shape {shape}."
        )
    sample_shape = shape[:class_axis] + shape[class_axis + 1 :]
    domain = LOG_PROBABILITY if log_probabilities else REAL
    deferred = type(x) is np.ndarray
    if not deferred:
        _validation.check_values(func, "input", x, xp, domain)
    checked = _Checked(
        func=func, xp=xp, device=device, x=x, class_axis=class_axis, classes=classes,
        sample_shape=sample_shape, target=_Target(), weight=None, sample_weight=None,
        label_smoothing=float(label_smoothing), reduction=reduction, domain=domain, deferred=deferred,
    )
    try:
        _check_the_rest(checked, target, weight, sample_weight, int(ignore_index), log_probabilities)
    except (InvalidInputError, InvalidTypeError):
        if deferred:  # an earlier check, deferred, takes precedence
            _check_deferred_eagerly(checked)
        raise
    return checked


def _check_the_rest(
    checked: _Checked,
    target: object,
    weight: object,
    sample_weight: object,
    ignore_index: int,
    log_probabilities: bool,
) -> None:
    func, xp, device, classes = checked.func, checked.xp, checked.device, checked.classes
    checked.target = _read_target(checked, target, ignore_index, log_probabilities)

    if weight is not None:
        w = _validation.as_real_array(func, "weight", weight, xp, device)
        if tuple(w.shape) != (classes,):
            raise ShapeMismatchError(
                f"{func}: weight must hold one weight per class, shape ({classes},); got "
                f"weight.shape={tuple(w.shape)}. For one weight per sample, use sample_weight."
            )
        _validation.check_values(func, "weight", w, xp, NONNEGATIVE)
        checked.weight = _validation.working(xp, w)

    if sample_weight is not None:
        s = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
        if tuple(s.shape) != checked.sample_shape:
            raise ShapeMismatchError(
                f"{func}: sample_weight must hold one weight per sample, the shape of the "
                f"per-sample loss {checked.sample_shape}; got sample_weight.shape={tuple(s.shape)}."
            )
        _validation.check_values(func, "sample_weight", s, xp, NONNEGATIVE)
        checked.sample_weight = xp.reshape(_validation.working(xp, s), (-1,))

    if checked.target.probabilities is not None and ignore_index >= 0:
        raise InvalidOptionError(
            f"{func}: ignore_index={ignore_index} applies to class-index targets only; with class "
            "probabilities give an ignored sample sample_weight 0 instead (PyTorch refuses it too)."
        )
    if checked.reduction == "mean":
        checked.mean_weight = _mean_weight(checked)
        _check_mean_defined(func, xp, _samples(checked), checked.mean_weight)


def _read_target(checked: _Checked, target: object, ignore_index: int, log_probabilities: bool) -> _Target:
    """The target as class indices (flat, ignored samples set to -1) or class probabilities."""
    func, xp, device = checked.func, checked.xp, checked.device
    shape, sample_shape, classes = tuple(checked.x.shape), checked.sample_shape, checked.classes
    if target is None:
        raise InvalidTypeError(f"{func}: target is None; expected class indices or class probabilities.")
    if type(target) is np.ndarray and target.dtype.kind in "iu" and tuple(target.shape) == sample_shape:
        fast = _integer_indices(func, target, classes, ignore_index)
        if fast is not None:
            return fast
    integral = False
    if _validation.is_array(target):
        given: Array = target
        integral = _validation.dtype_kind(xp, given.dtype) in ("integral", "bool")
    t = _validation.as_real_array(func, "target", target, xp, device)
    t_shape = tuple(t.shape)
    if t_shape == shape and t_shape != sample_shape:
        if integral:
            raise InvalidTypeError(
                f"{func}: target has the shape of input {shape}, so it must hold class probabilities "
                f"(floats); got integers. For one-hot labels use target.argmax(axis=1) (class indices) "
                "or pass them as floats."
            )
        if log_probabilities:
            raise InvalidTypeError(
                f"{func}: target must hold class indices of shape {sample_shape}; got class "
                "probabilities. For probability targets use cross_entropy on logits."
            )
        if not checked.deferred:
            _validation.check_values(func, "target", t, xp, _validation.LABEL)
            _check_rows_sum_to_one(func, xp, _rows(xp, t, checked.class_axis, classes), t.dtype)
        return _Target(probabilities=t)
    if t_shape != sample_shape:
        raise ShapeMismatchError(
            f"{func}: target must hold one class index per sample, shape {sample_shape} for input "
            f"of shape {shape} (or class probabilities of shape {shape}); got target.shape={t_shape}."
            + (" Nothing is broadcast implicitly: reshape the target, e.g. target.reshape(-1)." if
               math.prod(t_shape) == math.prod(sample_shape) else "")
        )
    low, high = _validation.check_values(func, "target", t, xp, REAL)
    if max(abs(low), abs(high)) >= _EXACT_INTEGERS if math.prod(t_shape) else False:
        raise OutOfRangeError(
            f"{func}: target must hold class indices from 0 to {classes - 1}; got values from "
            f"{low:.6g} to {high:.6g}."
        )
    flat = xp.reshape(t, (-1,))
    if not bool(xp.all(flat == xp.floor(flat))):
        raise InvalidTypeError(
            f"{func}: target of shape {t_shape} must hold whole class indices; got fractional values. "
            f"Class probabilities must have the shape of input, {shape}."
        )
    indices = xp.astype(flat, xp.int64)
    ignored = indices == ignore_index
    counted = xp.where(ignored, 0, indices)
    any_ignored = bool(xp.any(ignored))
    if math.prod(t_shape) and not bool(xp.all(ignored)):
        low, high = int(xp.min(xp.where(ignored, classes, indices))), int(xp.max(counted))
        _check_class_range(func, classes, ignore_index, int(low), int(high))
    return _Target(indices=xp.where(ignored, -1, indices), ignored=any_ignored)


def _integer_indices(func: str, target: Array, classes: int, ignore_index: int) -> _Target | None:
    """Class indices from a NumPy integer array, without the float round trip; None to
    leave the rare cases (an ignore_index among the values, huge values) to the general path."""
    flat = target.reshape(-1)
    if flat.size == 0:
        return None
    low, high = int(np.minimum.reduce(flat)), int(np.maximum.reduce(flat))
    if low <= ignore_index <= high or max(abs(low), abs(high)) >= _EXACT_INTEGERS:
        return None
    _check_class_range(func, classes, ignore_index, low, high)
    return _Target(indices=flat.astype(np.intp, copy=False))


def _check_class_range(func: str, classes: int, ignore_index: int, low: int, high: int) -> None:
    if low < 0 or high >= classes:
        hint = ""
        if classes == 1:
            hint = " A single column of scores is a binary model: use binary_cross_entropy_with_logits."
        elif low >= 1 and high == classes:
            hint = " 1-based labels? Subtract 1 so the classes are 0 to C - 1."
        raise OutOfRangeError(
            f"{func}: target must hold class indices from 0 to {classes - 1} (input has {classes} "
            f"classes), or ignore_index={ignore_index}; got values from {min(low, high)} to "
            f"{max(low, high)}.{hint}"
        )


def _rows(xp: Namespace, a: Array, class_axis: int, classes: int) -> Array:
    """``a`` in float64 as (M, C) rows, one per sample."""
    return xp.reshape(xp.moveaxis(_validation.working(xp, a), class_axis, -1), (-1, classes))


def _check_rows_sum_to_one(func: str, xp: Namespace, rows: Array, dtype: Any) -> None:
    if rows.shape[0] == 0:
        return
    worst = float(xp.max(xp.abs(xp.sum(rows, axis=1) - 1.0)))
    _check_row_sums(func, worst, rows.shape[1], float(xp.finfo(dtype).eps))


def _check_row_sums(func: str, worst: float, classes: int, eps: float) -> None:
    """Refuse rows of probabilities whose sum is ``worst`` away from 1, beyond rounding
    (``eps``: the machine epsilon of the target's dtype)."""
    # Each probability is rounded once in its own dtype, so a row of C of them may be off
    # by C/2 units; allowing 64 times that refuses only rows that are not distributions.
    tolerance = 64 * classes * eps
    if worst > tolerance:
        raise OutOfRangeError(
            f"{func}: each row of class probabilities in target must sum to 1; got a row summing to "
            f"{1.0 + worst:.6g} or {1.0 - worst:.6g}. Normalize the rows, or pass class indices."
        )


def _check_deferred_eagerly(checked: _Checked) -> None:
    """The value checks the blocked evaluation would make, on the whole arrays at once."""
    _validation.check_values(checked.func, "input", checked.x, np, checked.domain)
    t = checked.target.probabilities
    if t is not None:
        _validation.check_values(checked.func, "target", t, np, _validation.LABEL)
        _check_rows_sum_to_one(checked.func, np, _rows(np, t, checked.class_axis, checked.classes), t.dtype)


def _samples(checked: _Checked) -> int:
    return math.prod(checked.sample_shape)


def _mean_weight(checked: _Checked) -> Array | int:
    """What each sample adds to the denominator of the mean (an int: that many ones).

    Over class indices it is the weight of the sample's class (0 for an ignored sample),
    as PyTorch divides by the summed class weights; over probabilities every sample
    counts 1. Sample weights multiply either.
    """
    xp, target, w, s = checked.xp, checked.target, checked.weight, checked.sample_weight
    indices = target.indices
    counted: Array | None = None
    if indices is not None and (w is not None or target.ignored):
        ignored = indices < 0
        if w is None:
            counted = xp.astype(xp.logical_not(ignored), xp.float64)
        else:
            counted = xp.where(ignored, 0.0, xp.take(w, xp.where(ignored, 0, indices)))
    if s is not None:
        return s if counted is None else s * counted
    return _samples(checked) if counted is None else counted


def _check_mean_defined(func: str, xp: Namespace, samples: int, mean_weight: Array | int) -> None:
    if samples == 0:
        raise EmptyInputError(
            f"{func}: reduction='mean' needs at least one sample; got none. "
            "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
        )
    if mean_weight == 0 if isinstance(mean_weight, int) else float(xp.max(mean_weight)) == 0.0:
        raise EmptyInputError(
            f"{func}: reduction='mean' divides by the summed weights of the counted samples, and they "
            "are all 0: every target is ignore_index, or its class or sample weight is 0. PyTorch "
            "returns NaN here; use reduction='sum' to get 0."
        )


def _denominator(checked: _Checked) -> Array | float:
    """The denominator of the mean: the summed mean weights, accumulated as every sum."""
    mean_weight = _mean_weight(checked) if checked.mean_weight is None else checked.mean_weight
    if isinstance(mean_weight, int):
        return float(mean_weight)
    return _reduction.total(checked.xp, mean_weight)


# --------------------------------------------------------------------------- class sums


def _class_sums(a: Array, axis: int) -> Array:
    """The sums of ``a`` over the class axis, keeping it (as length 1).

    For (M, C) rows this is ``np.add.reduce(a, axis=1)``. For a transposed (C, M) block
    the same sums are formed from whole rows (one vector operation per class), in the
    order NumPy's pairwise summation adds the entries of a row: so every sample's sum is
    the same bits in both layouts, and as accurate.
    """
    if axis == 1:
        return np.add.reduce(a, axis=1, keepdims=True)
    total = _pairwise(a, 0, a.shape[0])
    total += 0.0  # NumPy adds the row to its identity, +0.0: -0.0 becomes +0.0 there too
    return total[None, :]


def _pairwise(a: Array, start: int, count: int) -> Array:
    """NumPy's ``pairwise_sum`` of rows ``start:start + count`` of ``a`` (a new array):
    one by one below 8 terms; 8 running sums, combined pairwise, up to 128; halves beyond."""
    if count < 8:
        total = a[start] + a[start + 1] if count > 1 else a[start].copy()
        for i in range(start + 2, start + count):
            total += a[i]
        return total
    if count <= 128:
        whole = count - count % 8
        running = a[start : start + 8]
        if whole > 8:
            running = running.copy()
            for i in range(start + 8, start + whole, 8):
                running += a[i : i + 8]
        pairs = running[0::2] + running[1::2]  # r0 + r1, r2 + r3, r4 + r5, r6 + r7
        total = (pairs[0] + pairs[1]) + (pairs[2] + pairs[3])
        for i in range(start + whole, start + count):
            total += a[i]
        return total
    half = count // 2
    half -= half % 8
    return _pairwise(a, start, half) + _pairwise(a, start + half, count - half)


# --------------------------------------------------------------------------- log-softmax, exactly


def _log_softmax_parts(xp: Namespace, logits: Array) -> tuple[Array, Array, Array, Array]:
    """``-log p`` for every class, ``e = exp(z)``, ``rest`` and the one-hot of the first maximum.

    ``log p = z - log1p(rest)`` with ``z = x - max`` and ``rest`` the sum of ``exp(z)``
    over every class but one maximal one (whose term is exactly 1). ``log1p(rest)`` keeps
    full accuracy when the prediction is confident (rest ~ 1e-30), where ``log(sum)``
    would round to 0; and ``-log p = log1p(rest) - z`` adds two non-negative terms.
    The subtraction ``x - max`` is rounded, and ``exp`` would pass that error on as
    ``|z|/2`` units in the last place, so its exact error ``d`` (TwoSum) is carried along:
    ``exp(z + d) = e + e * d`` to first order.

    This is the whole-array form, for the array libraries other than NumPy; the NumPy
    evaluation (:class:`_Parts`) makes the same operations on each element, block by block.
    """
    top = xp.argmax(logits, axis=1)
    first_max = xp.astype(top[:, None] == xp.arange(logits.shape[1])[None, :], xp.float64)
    shift = -xp.max(logits, axis=1, keepdims=True)
    z = logits + shift
    # Where x - max overflows to -inf (logits spanning more than the float64 range), the
    # error term is inf - inf; it is discarded, and NumPy's warning about it silenced.
    with np.errstate(invalid="ignore"):
        back = z - logits
        d = (logits - (z - back)) + (shift - back)
    d = xp.where(xp.isfinite(z), d, 0.0)
    e = xp.exp(z)
    e = e + e * d
    rest = xp.sum(xp.where(first_max > 0, 0.0, e), axis=1, keepdims=True)
    nll = (xp.log1p(rest) - z) - d
    return nll, e, rest, first_max


# --------------------------------------------------------------------------- array-API formulas


def _weighted_sum(xp: Namespace, coefficient: Array, values: Array) -> Array:
    """Row sums of ``coefficient * values``, where a zero coefficient contributes 0 even
    against an infinite value (IEEE would give 0 * inf = NaN)."""
    return xp.sum(coefficient * xp.where(coefficient > 0, values, 0.0), axis=1)


@dataclass(frozen=True)
class _Classes:
    """Arguments of another array library in a flat layout: ``scores`` of shape (M, C)."""

    xp: Namespace
    scores: Array  # (M, C) float64: logits, or log-probabilities for nll_loss
    onehot: Array  # (M, C) float64: 1 at each sample's target class, 0 elsewhere and on ignored rows
    probabilities: Array | None  # (M, C) float64 when the target gives class probabilities
    weight: Array  # (C,) float64 class weights (ones when not given)


def _classes(checked: _Checked) -> _Classes:
    xp, classes = checked.xp, checked.classes
    scores = _rows(xp, checked.x, checked.class_axis, classes)
    w = checked.weight
    if w is None:
        w = xp.ones((classes,), dtype=xp.float64, device=checked.device)
    probabilities = None
    if checked.target.probabilities is not None:
        read = _rows(xp, checked.target.probabilities, checked.class_axis, classes)
        probabilities = (1.0 - checked.label_smoothing) * read + checked.label_smoothing / classes
        onehot = xp.zeros_like(scores)
    else:
        indices: Array = checked.target.indices
        positions = xp.arange(classes, device=checked.device)
        onehot = xp.astype(indices[:, None] == positions[None, :], xp.float64)
    return _Classes(xp=xp, scores=scores, onehot=onehot, probabilities=probabilities, weight=w)


def _cross_entropy_values(batch: _Classes, label_smoothing: float) -> Array:
    xp, w = batch.xp, batch.weight[None, :]
    nll, _, _, _ = _log_softmax_parts(xp, batch.scores)  # -log p, every entry >= 0
    if batch.probabilities is not None:
        return _weighted_sum(xp, w * batch.probabilities, nll)
    loss = (1.0 - label_smoothing) * _weighted_sum(xp, batch.onehot * w, nll)
    if label_smoothing:
        counted = xp.sum(batch.onehot, axis=1)  # 0 for an ignored sample
        loss = loss + (label_smoothing / batch.scores.shape[1]) * counted * _weighted_sum(xp, w, nll)
    return loss


def _cross_entropy_gradient(batch: _Classes, label_smoothing: float) -> Array:
    xp, w = batch.xp, batch.weight[None, :]
    _, e, rest, first_max = _log_softmax_parts(xp, batch.scores)
    p = e / (1.0 + rest)
    complement = rest / (1.0 + rest)  # 1 - p of the top class, exact even where p rounds to 1
    if batch.probabilities is not None:
        t = w * batch.probabilities
        total = xp.sum(t, axis=1, keepdims=True)
        # p T - t, but at the top class as (T - t_top) - T (1 - p_top), without the
        # cancellation of two numbers near T when p_top rounds to 1.
        others = xp.sum(xp.where(first_max > 0, 0.0, t), axis=1, keepdims=True)
        return xp.where(first_max > 0, others - total * complement, p * total - t)
    # p - onehot at the target class is -(1 - p); when the target is the top class that is
    # -complement. Elsewhere p <= 0.5 and p - 1 is exact enough.
    target_is_top = xp.sum(batch.onehot * first_max, axis=1, keepdims=True)
    difference = xp.where((batch.onehot * target_is_top) > 0, -complement, p - batch.onehot)
    counted = xp.sum(batch.onehot, axis=1, keepdims=True)
    target_weight = xp.sum(batch.onehot * w, axis=1, keepdims=True)
    gradient = (1.0 - label_smoothing) * target_weight * difference
    if label_smoothing:
        smooth = xp.sum(w, axis=1, keepdims=True) * p - w
        gradient = gradient + (label_smoothing / batch.scores.shape[1]) * counted * smooth
    return gradient


def _nll_values(batch: _Classes) -> Array:
    # -w[y] * input[y], gathered by the one-hot mask; a log-probability of -inf in a
    # class with coefficient 0 (another class, an ignored sample, a zero weight) adds 0.
    return _weighted_sum(batch.xp, batch.onehot * batch.weight[None, :], 0.0 - batch.scores)


def _nll_gradient(batch: _Classes) -> Array:
    return 0.0 - batch.onehot * batch.weight[None, :]


def _array_api_values(checked: _Checked, nll: bool) -> Array:
    xp, batch = checked.xp, _classes(checked)
    with np.errstate(over="ignore", divide="ignore"):
        values = _nll_values(batch) if nll else _cross_entropy_values(batch, checked.label_smoothing)
        if checked.reduction == "none":
            values = xp.reshape(values, checked.sample_shape)
        s = checked.sample_weight
        if s is not None and checked.reduction == "none":
            s = xp.reshape(s, checked.sample_shape)
        return _reduction.reduce_values(
            xp,
            values,
            reduction=checked.reduction,
            sample_weight=s,
            dtype=checked.x.dtype,
            mean_weight=_mean_weight_array(checked),
        )


def _array_api_gradient(checked: _Checked, nll: bool) -> Array:
    xp, batch = checked.xp, _classes(checked)
    with np.errstate(over="ignore", divide="ignore"):
        gradient = _nll_gradient(batch) if nll else _cross_entropy_gradient(batch, checked.label_smoothing)
        s = checked.sample_weight
        reduced = _reduction.reduce_derivatives(
            xp,
            gradient,
            reduction=checked.reduction,
            sample_weight=None if s is None else s[:, None],
            dtype=checked.x.dtype,
            mean_weight=_mean_weight_array(checked),
        )
    laid_out = xp.reshape(reduced, (*checked.sample_shape, checked.classes))
    return xp.moveaxis(laid_out, -1, checked.class_axis)


def _mean_weight_array(checked: _Checked) -> Array:
    mean_weight = _mean_weight(checked) if checked.mean_weight is None else checked.mean_weight
    if isinstance(mean_weight, int):
        return checked.xp.ones((mean_weight,), dtype=checked.xp.float64, device=checked.device)
    return mean_weight


# --------------------------------------------------------------------------- NumPy, in blocks

ELEMENTS = _blocks.BLOCK
"""Scores per block, about: the few float64 work arrays of a block stay in a core's cache
(larger blocks would spread the fixed cost of each NumPy call over more scores, smaller
ones would fit a faster cache; both lose, measured)."""

TRANSPOSED_CLASSES = 64
"""Up to this many classes a block is held transposed, (C, samples): its operations over
the classes are then vector operations over the samples, instead of short rows."""

_WORK_ARRAYS = 6
_LOCAL = threading.local()


def _scratch(shape: tuple[int, int]) -> list[Array]:
    """``_WORK_ARRAYS`` float64 work arrays of ``shape`` for one block, the same memory
    from block to block and call to call in each thread: fresh arrays of a few hundred
    kilobytes would cost page faults at every block. Each thread keeps them: 3 MB at most."""
    views: tuple[tuple[int, int], list[Array]] | None = getattr(_LOCAL, "views", None)
    if views is not None and views[0] == shape:  # the same shape as the last block: most often
        return views[1]
    size = shape[0] * shape[1]
    if size > 2 * ELEMENTS:  # a block of one huge row of classes: not kept
        return [np.empty(shape) for _ in range(_WORK_ARRAYS)]
    pool: list[Array] | None = getattr(_LOCAL, "pool", None)
    if pool is None or pool[0].size < size:
        pool = [np.empty(size) for _ in range(_WORK_ARRAYS)]
        _LOCAL.pool = pool
    arrays = [buffer[:size].reshape(shape) for buffer in pool]
    _LOCAL.views = shape, arrays
    return arrays


def _rows_per_block(classes: int) -> int:
    """Samples per block: about ``ELEMENTS`` scores, in whole multiples of the reduction's
    own block where that is near, so that per-block partial sums are those of the whole."""
    rows = max(1, ELEMENTS // classes)
    if rows >= _reduction.BLOCK // 2:
        rows = _reduction.BLOCK * max(1, round(rows / _reduction.BLOCK))
    return rows


def _spans(count: int, inner: int, rows: int) -> list[tuple[int, int, int, int]]:
    """Blocks of about ``rows`` samples of an (N, C, D) input, as ``(n0, n1, j0, j1)``:
    the samples ``n * D + j`` for ``n0 <= n < n1`` and ``j0 <= j < j1``, in order."""
    if count == 0 or inner == 0:
        return []
    if inner >= rows:
        return [(n, n + 1, j, min(j + rows, inner)) for n in range(count) for j in range(0, inner, rows)]
    group = rows // inner
    return [(n, min(n + group, count), 0, inner) for n in range(0, count, group)]


def _load(view: Array, axis: int, out: Array, *, writable: bool = False) -> Array:
    """A (k, C, w) view of the caller's array as a contiguous float64 block, (C, k w) or
    (k w, C): copied into ``out``, or the caller's memory itself where that is already
    such a block and the block is only read."""
    k, classes, width = view.shape
    if axis == 1 and width == 1 and not writable:
        rows = view[:, :, 0]
        if rows.dtype == np.float64 and rows.flags.c_contiguous:
            return rows
    if axis == 0:
        np.copyto(out.reshape(classes, k, width), view.transpose(1, 0, 2))
    else:
        np.copyto(out.reshape(k, width, classes), view.transpose(0, 2, 1))
    return out


def _store(out: Array, block: Array, axis: int) -> None:
    """Write a float64 block in the layout of :func:`_load` into the (k, C, w) view ``out``,
    rounded once to its dtype."""
    k, classes, width = out.shape
    if axis == 0:
        source = block.reshape(classes, k, width).transpose(1, 0, 2)
    else:
        source = block.reshape(k, width, classes).transpose(0, 2, 1)
    np.copyto(out, source, casting="same_kind")


@dataclass(slots=True)
class _Parts:
    """The log-softmax of a block of float64 scores ``a``, class axis ``axis``.

    The same operations as :func:`_log_softmax_parts` on every element: ``z = x - max``,
    its exact rounding error ``d``, ``e = exp(z) + exp(z) * d`` and ``rest``, the sum of
    ``e`` over every class but the first maximal one. ``e`` holds 0 at the first maxima
    (whose terms are exactly 1) until :meth:`probabilities` puts the 1 back.
    """

    z: Array
    d: Array
    e: Array
    rest: Array  # keepdims shape: (1, m) or (m, 1)
    unique: Array | None  # where the maxima are (a mask), when each sample has one maximum only
    maxima: Array | None  # else the flat position of each sample's first maximum
    low: float  # the block's smallest and largest score, for the value checks
    high: float

    @staticmethod
    def of(a: Array, axis: int, z: Array, d: Array, e: Array, back: Array) -> _Parts:
        """The parts of ``a``, written into the work arrays ``z``, ``d``, ``e`` (and ``back``)."""
        top = np.maximum.reduce(a, axis=axis, keepdims=True)
        low, high = float(np.minimum.reduce(a, axis=None)), float(np.maximum.reduce(top, axis=None))
        shift = np.negative(top)
        np.add(a, shift, out=z)
        np.subtract(z, a, out=back)  # TwoSum's error of x + shift, without its first add
        np.subtract(z, back, out=d)
        np.subtract(a, d, out=d)
        np.subtract(shift, back, out=back)
        d += back
        if not math.isfinite(high - low):
            # x - max may have overflowed to -inf (or the block holds NaN or inf, refused
            # after the pass): the error term is inf - inf there, and is discarded.
            np.copyto(d, 0.0, where=~np.isfinite(z))
        np.exp(z, out=e)
        np.multiply(e, d, out=back)
        e += back
        samples = a.shape[1 - axis]
        equal = np.equal(a, top)
        if np.count_nonzero(equal) == samples:
            # One maximum per sample, the common case: its term is exactly 1, and 1 - 1 = 0
            # (a subtraction of the mask, free of the branches of indexing by it).
            np.subtract(e, equal, out=e)
            return _Parts(z, d, e, _class_sums(e, axis), equal, None, low, high)
        # Ties (or NaN, refused after the pass): the first maximum of each sample.
        maxima = _positions(np.argmax(a, axis=axis), samples, a.shape[axis], axis)
        e.put(maxima, 0.0)
        return _Parts(z, d, e, _class_sums(e, axis), None, maxima, low, high)

    def is_first_maximum(self, positions: Array) -> Array:
        """Whether each sample's flat position (sample order) is its first maximum."""
        if self.unique is not None:
            return self.unique.take(positions)
        return positions == self.maxima

    def set_first_maxima(self, values: Array, per_sample: Array) -> None:
        """Write ``per_sample`` values (keepdims shape) at each sample's first maximum."""
        if self.unique is not None:
            np.copyto(values, per_sample, where=self.unique)
        else:
            values.put(self.maxima, per_sample.reshape(-1))

    def without_first_maxima(self, values: Array, out: Array) -> Array:
        """``values`` with 0 at each sample's first maximum, written into ``out``."""
        if self.unique is not None:  # v - v * 1 = 0 there, v - v * 0 = v elsewhere
            np.multiply(values, self.unique, out=out)
            return np.subtract(values, out, out=out)
        np.copyto(out, values)
        out.put(self.maxima, 0.0)
        return out

    def nll(self, positions: Array) -> Array:
        """``-log p`` at one flat position per sample: ``(log1p(rest) - z) - d``."""
        nll = np.log1p(self.rest).reshape(-1) - self.z.take(positions)
        nll -= self.d.take(positions)
        return nll

    def all_nll(self, out: Array) -> Array:
        """``-log p`` of every class, written into ``out``."""
        np.subtract(np.log1p(self.rest), self.z, out=out)
        out -= self.d
        return out

    def probabilities(self) -> tuple[Array, Array]:
        """``p = e / (1 + rest)`` of every class (in place of ``e``), and ``rest / (1 + rest)``,
        which is ``1 - p`` of the top class without the cancellation where ``p`` rounds to 1."""
        if self.unique is not None:  # the first maximum's term: exp(0), exactly 1
            np.add(self.e, self.unique, out=self.e)
        else:
            self.e.put(self.maxima, 1.0)
        above = 1.0 + self.rest
        np.divide(self.e, above, out=self.e)
        return self.e, (self.rest / above).reshape(-1)


def _positions(classes_of: Array, samples: int, classes: int, axis: int) -> Array:
    """Flat positions in a (C, m) or (m, C) block of one class per sample."""
    if axis == 0:
        return classes_of * samples + np.arange(samples)
    return np.arange(samples) * classes + classes_of


@dataclass(slots=True)
class _Pass:
    """One evaluation of NumPy arguments: the flat per-sample arrays and the options.

    ``x3`` (and ``t3``, a probability target) are the caller's arrays seen as (N, C, D),
    sample ``n * D + j`` being ``x3[n, :, j]``; ``indices`` are the class indices, -1 where
    the sample is ignored.
    """

    x3: Array
    t3: Array | None
    indices: Array | None
    ignored: bool
    weight: Array | None  # (C,) float64
    sample_weight: Array | None  # (M,) float64
    label_smoothing: float
    reduction: str
    denominator: Any  # what the mean divides by (1.0 for the other reductions)
    axis: int  # the class axis of a block: 0 (transposed) or 1
    spans: list[tuple[int, int, int, int]]  # the blocks: see _spans


def _numpy_pass(checked: _Checked) -> _Pass:
    x, classes = checked.x, checked.classes
    count = x.shape[0] if x.ndim >= 2 else 1
    inner = math.prod(x.shape[2:])
    t = checked.target.probabilities
    return _Pass(
        x3=x.reshape(count, classes, inner),
        t3=None if t is None else t.reshape(count, classes, inner),
        indices=checked.target.indices,
        ignored=checked.target.ignored,
        weight=checked.weight,
        sample_weight=checked.sample_weight,
        label_smoothing=checked.label_smoothing,
        reduction=checked.reduction,
        denominator=_denominator(checked) if checked.reduction == "mean" else 1.0,
        axis=0 if classes <= TRANSPOSED_CLASSES else 1,
        spans=_spans(count, inner, _rows_per_block(classes)),
    )


Task = Callable[[int, int, int, int, int, int], tuple[Any, ...]]
"""One block of a pass: ``task(n0, n1, j0, j1, start, stop)``, ``start:stop`` its samples."""


def _run_blocks(run: _Pass, task: Task) -> list[tuple[Any, ...]]:
    """``task`` on every block of ``run``, in order, on several threads for large input."""
    spans, inner = run.spans, run.x3.shape[2]

    def one(index: int) -> tuple[Any, ...]:
        n0, n1, j0, j1 = spans[index]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # for this thread
            return task(n0, n1, j0, j1, n0 * inner + j0, (n1 - 1) * inner + j1)

    if len(spans) <= 1:
        return [one(0)] if spans else []
    # map_blocks hands out element ranges of _blocks.BLOCK: one per block of samples here.
    return _blocks.map_blocks(lambda start, stop: one(start // _blocks.BLOCK), len(spans) * _blocks.BLOCK)


class _Values:
    """Per-sample losses of a pass, weighted and reduced as ``_reduction.reduce_values`` does.

    A block's partial sums are those of the whole when its samples are whole blocks of
    the reduction's (see :func:`_rows_per_block`); otherwise the losses are kept, one
    float per sample, and summed at the end.
    """

    def __init__(self, run: _Pass, samples: int, dtype: Any) -> None:
        self.run, self.dtype = run, dtype
        self.none = run.reduction == "none"
        aligned = all(((n1 - n0) * (j1 - j0)) % _reduction.BLOCK == 0 for n0, n1, j0, j1 in run.spans[:-1])
        self.out = None if aligned and not self.none else np.empty(samples, dtype=dtype if self.none else np.float64)

    def add(self, values: Array, start: int, stop: int) -> list[float]:
        """Weight a block's losses; return its partial sums, or keep them for the end."""
        s = self.run.sample_weight
        if s is not None:
            values = _reduction.apply_sample_weight(np, values, s[start:stop])
        if self.out is not None:
            self.out[start:stop] = values  # rounded once to the output dtype for "none"
            return []
        if values.size <= _reduction.BLOCK:  # what partials gives, without its reshaping
            return [float(np.add.reduce(values))]
        return _reduction.partials(values)

    def result(self, pieces: list[tuple[Any, ...]], shape: tuple[int, ...]) -> Array:
        if self.none:
            assert self.out is not None
            return self.out.reshape(shape)
        if self.out is None:
            total = float(_reduction.combine([partial for piece in pieces for partial in piece[-1]]))
        else:
            total = float(_reduction.total(np, self.out))
        denominator = float(self.run.denominator)
        if self.run.reduction == "mean" and denominator > 0:  # IEEE division, as NumPy's
            total = total / denominator
        elif self.run.reduction == "mean":  # no samples (a training batch of none): NaN
            total = math.nan
        if self.dtype == np.float64:
            return np.float64(total)
        with np.errstate(over="ignore"):  # rounded to a narrower float: inf beyond its range
            return np.dtype(self.dtype).type(total)


def _reduce_block(run: _Pass, gradient: Array, start: int, stop: int) -> Array:
    """A block's gradient weighted and reduced as ``_reduction.reduce_derivatives`` does."""
    s = run.sample_weight
    if s is not None:
        weights = _per_sample(s[start:stop], run.axis)
        gradient = weights * np.where(weights == 0, 0.0, gradient)
    if run.reduction == "mean":
        gradient /= run.denominator
    return gradient


def _per_sample(values: Array, axis: int) -> Array:
    """Per-sample ``values`` shaped to broadcast against a block with class axis ``axis``."""
    return values[None, :] if axis == 0 else values[:, None]


def _targets(run: _Pass, start: int, stop: int) -> tuple[Array, Array | None]:
    """The block's class indices (ignored samples at class 0) and where they are ignored."""
    assert run.indices is not None
    y = run.indices[start:stop]
    if not run.ignored:
        return y, None
    ignored = y < 0
    return np.where(ignored, 0, y), ignored


def _target_weights(run: _Pass, y: Array, ignored: Array | None) -> Array | None:
    """``w[y]`` per sample, 0 where ignored; None where that is 1 for every sample."""
    if run.weight is None:
        return None if ignored is None else np.where(ignored, 0.0, 1.0)
    weights = run.weight.take(y) + 0.0  # summed over a row with zeros, a weight of -0.0 was +0.0
    return weights if ignored is None else np.where(ignored, 0.0, weights)


def _check_measured(checked: _Checked, pieces: list[tuple[Any, ...]]) -> None:
    """Decide the deferred value checks from the blocks' minima and maxima (and row sums)."""
    if not pieces:
        return
    func = checked.func
    low, high = _extreme(np.min, pieces, 0), _extreme(np.max, pieces, 1)
    _validation.check_range(func, "input", checked.x, np, checked.domain, low, high)
    t = checked.target.probabilities
    if t is not None:
        low, high = _extreme(np.min, pieces, 2), _extreme(np.max, pieces, 3)
        _validation.check_range(func, "target", t, np, _validation.LABEL, low, high)
        _check_row_sums(func, _extreme(np.max, pieces, 4), checked.classes, float(np.finfo(t.dtype).eps))


def _extreme(which: Callable[[Any], Any], pieces: list[tuple[Any, ...]], at: int) -> float:
    """The smallest or the largest (``np.min``, ``np.max``) of the blocks' entries ``at``."""
    if len(pieces) == 1:
        return float(pieces[0][at])
    # NumPy's, not Python's min and max: a NaN in any block must come through.
    return float(which([piece[at] for piece in pieces]))


def _cross_entropy_numpy(
    checked: _Checked, *, value: bool, gradient: bool, check: bool = True
) -> tuple[Array, Array]:
    """The loss (reduced as asked) and its gradient, as many as wanted, in one pass; the
    input's values are checked unless ``check`` is false."""
    run = _numpy_pass(checked)
    count, classes, inner = run.x3.shape
    axis, ls = run.axis, run.label_smoothing
    values = _Values(run, count * inner, checked.x.dtype) if value else None
    out = np.empty(checked.x.shape, dtype=checked.x.dtype) if gradient else None
    out3 = None if out is None else out.reshape(count, classes, inner)
    w = None if run.weight is None else (run.weight[:, None] if axis == 0 else run.weight[None, :])
    sum_w = float(classes) if run.weight is None else float(np.add.reduce(run.weight))

    def task(n0: int, n1: int, j0: int, j1: int, start: int, stop: int) -> tuple[Any, ...]:
        samples = stop - start
        a, z, d, e, back, t = _scratch((classes, samples) if axis == 0 else (samples, classes))
        a = _load(run.x3[n0:n1, :, j0:j1], axis, a)
        parts = _Parts.of(a, axis, z, d, e, back)
        measured: tuple[Any, ...] = (parts.low, parts.high)
        if run.t3 is not None:  # class probabilities, (1 - ls) t + ls / C, times the class weights
            t = _load(run.t3[n0:n1, :, j0:j1], axis, t, writable=True)
            worst = np.abs(_class_sums(t, axis) - 1.0)
            measured += (float(np.min(t)), float(np.max(t)), float(np.max(worst)))
            t *= 1.0 - ls
            t += ls / classes
            if w is not None:
                t *= w
        partials: list[float] = []
        if values is not None:
            if run.t3 is not None:
                nll = parts.all_nll(back)
                np.multiply(t, np.where(t > 0, nll, 0.0), out=nll)
                loss = _class_sums(nll, axis).reshape(-1)
            else:
                y, ignored = _targets(run, start, stop)
                loss = parts.nll(_positions(y, samples, classes, axis))
                target_weight = _target_weights(run, y, ignored)
                if target_weight is not None:
                    loss = target_weight * np.where(target_weight > 0, loss, 0.0) + 0.0
                if ls:
                    nll = parts.all_nll(back)
                    if w is not None:
                        np.multiply(w, np.where(w > 0, nll, 0.0), out=nll)
                    counted = 1.0 if ignored is None else np.where(ignored, 0.0, 1.0)
                    loss = (1.0 - ls) * loss + ((ls / classes) * counted) * _class_sums(nll, axis).reshape(-1)
            partials = values.add(loss, start, stop)
        if out3 is not None:
            p, complement = parts.probabilities()
            if run.t3 is not None:
                total = _class_sums(t, axis)
                others = _class_sums(parts.without_first_maxima(t, back), axis)
                g = np.multiply(p, total, out=p)
                g -= t
                parts.set_first_maxima(g, others - total * complement.reshape(total.shape))
            else:
                y, ignored = _targets(run, start, stop)
                positions = _positions(y, samples, classes, axis)
                target_p = p.take(positions)
                difference = np.where(parts.is_first_maximum(positions), -complement, target_p - 1.0)
                if ignored is not None:
                    difference = np.where(ignored, target_p, difference)
                g = p
                if ls:
                    g = d  # free again: p is kept for the smoothing term
                    np.copyto(g, p)
                g.put(positions, difference)
                target_weight = _target_weights(run, y, ignored)
                if ls or target_weight is not None:
                    scale = 1.0 - ls if target_weight is None else (1.0 - ls) * target_weight
                    g *= _per_sample(np.broadcast_to(scale, (samples,)), axis)
                if ls:
                    smooth = np.multiply(p, sum_w, out=back)
                    smooth -= 1.0 if w is None else w
                    counted = 1.0 if ignored is None else np.where(ignored, 0.0, 1.0)
                    smooth *= _per_sample(np.broadcast_to((ls / classes) * counted, (samples,)), axis)
                    g += smooth
            _store(out3[n0:n1, :, j0:j1], _reduce_block(run, g, start, stop), axis)
        return (*measured, partials)

    pieces = _run_blocks(run, task)
    if check:
        _check_measured(checked, pieces)
    return (None if values is None else values.result(pieces, checked.sample_shape)), out


def _nll_numpy(checked: _Checked, *, value: bool) -> Array:
    """nll_loss, or its gradient, in one pass: a gather (or a scatter) per block."""
    run = _numpy_pass(checked)
    count, classes, inner = run.x3.shape
    values = _Values(run, count * inner, checked.x.dtype) if value else None
    out = None if value else np.empty(checked.x.shape, dtype=checked.x.dtype)
    out3 = None if out is None else out.reshape(count, classes, inner)

    def task(n0: int, n1: int, j0: int, j1: int, start: int, stop: int) -> tuple[Any, ...]:
        view = run.x3[n0:n1, :, j0:j1]
        measured = (float(np.min(view)), float(np.max(view)))
        y, ignored = _targets(run, start, stop)
        where = y.reshape(n1 - n0, 1, j1 - j0)
        target_weight = _target_weights(run, y, ignored)
        if values is not None:
            gathered = np.take_along_axis(view, where, axis=1).reshape(-1).astype(np.float64)
            loss = 0.0 - gathered
            if target_weight is not None:
                loss = target_weight * np.where(target_weight > 0, loss, 0.0) + 0.0
            return (*measured, values.add(loss, start, stop))
        assert out3 is not None
        target: Array = np.broadcast_to(0.0 - (1.0 if target_weight is None else target_weight), (stop - start,))
        other = np.zeros(stop - start)  # 0 - 0 * w: every other class, and the ignored samples
        if run.sample_weight is not None:
            s = run.sample_weight[start:stop]
            target = s * np.where(s == 0, 0.0, target)
            other = s * other
        if run.reduction == "mean":
            target = target / run.denominator
            other = other / run.denominator
        block = out3[n0:n1, :, j0:j1]
        np.copyto(block, other.reshape(n1 - n0, 1, j1 - j0), casting="same_kind")
        np.put_along_axis(block, where, target.reshape(n1 - n0, 1, j1 - j0).astype(block.dtype), axis=1)
        return (*measured, [])

    pieces = _run_blocks(run, task)
    _check_measured(checked, pieces)
    if values is not None:
        return values.result(pieces, checked.sample_shape)
    return out


# --------------------------------------------------------------------------- training


def cross_entropy_mean_value_and_grad(input: Array, labels: Array) -> tuple[float, Array]:
    """The mean cross-entropy of (N, C) logits and (N,) class indices, and its gradient.

    For the training loop, which has checked the labels once, with :func:`cross_entropy`,
    before the first epoch: no class weights, nothing ignored, no smoothing. The same
    computation as the public functions, value and gradient from one log-softmax.
    """
    count, classes = input.shape
    checked = _Checked(
        func="cross_entropy", xp=np, device=None, x=input, class_axis=1, classes=classes,
        sample_shape=(count,), target=_Target(indices=np.asarray(labels).astype(np.intp, copy=False)),
        weight=None, sample_weight=None, label_smoothing=0.0, reduction="mean", domain=REAL,
        deferred=True,
    )
    # No value checks: outputs that are not finite come out as a loss that is not, and
    # the training loop reports the divergence.
    value, gradient = _cross_entropy_numpy(checked, value=True, gradient=True, check=False)
    return float(value), gradient


# --------------------------------------------------------------------------- public functions


def cross_entropy(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    sample_weight: object = None,
) -> Array:
    r"""Softmax cross-entropy between logits and class targets, as PyTorch's ``F.cross_entropy``.

    With class indices ``y``, class weights ``w`` and label smoothing ``ε`` over ``C`` classes:

    .. math:: \ell_n = (1 - ε)\, w_{y_n} (-\log p_{n y_n})
                       + \frac{ε}{C} \sum_c w_c (-\log p_{nc}),
              \qquad p_n = \operatorname{softmax}(x_n)

    and the mean is :math:`\sum_n s_n \ell_n / \sum_n s_n w_{y_n}` over the samples whose
    target is not ``ignore_index`` (``s`` = ``sample_weight``, 1 if not given). With class
    probabilities ``t`` (target of the input's shape), smoothed to ``(1 - ε) t + ε / C``:
    :math:`\ell_n = -\sum_c w_c t_{nc} \log p_{nc}`, and the mean divides by ``sum(s)``.

    Parameters
    ----------
    input : array_like
        Logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or unbatched ``(C,)``; finite.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``; integers, or floats holding
        whole numbers), or class probabilities of the input's shape (rows summing to 1).
    weight : array_like, optional, keyword-only
        One non-negative weight per class, shape ``(C,)``.
    ignore_index : int, keyword-only
        A target value whose samples add nothing, to the loss or to the mean's denominator.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"none"`` returns the per-sample losses, shape ``(N, d1, ...)``.
    label_smoothing : float in [0, 1], keyword-only
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``, on top of ``weight``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else ``(N, d1, ...)``; the input's float dtype.

    Notes
    -----
    ``log_softmax`` is computed as ``z - log1p(rest)`` with ``z = x - max(x)`` and
    ``rest`` the sum of ``exp(z)`` over all classes but one maximal one, so a confident,
    correct prediction keeps its tiny loss to full relative accuracy (logits
    ``[40, 0]`` with target 0 give 4.248354255291589e-18, not 0). Where every target is
    ignored (or weighted 0), PyTorch returns NaN for the mean; this raises
    :class:`~neural_network.errors.EmptyInputError`.

    Examples
    --------
    >>> print(f"{cross_entropy([[2.0, 0.0, 0.0]], [0]):.15f}")  # log(1 + 2 e^-2) = 0.2395447662218845049
    0.239544766221885
    """
    checked = _prepare(
        "cross_entropy", input, target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, sample_weight=sample_weight,
        log_probabilities=False,
    )
    if checked.deferred:
        return _cross_entropy_numpy(checked, value=True, gradient=False)[0]
    return _array_api_values(checked, nll=False)


def cross_entropy_grad(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`cross_entropy` with respect to the logits ``input``.

    .. math:: \frac{\partial \ell_n}{\partial x_{nc}}
              = (1 - ε)\, w_{y_n} (p_{nc} - [c = y_n])
                + \frac{ε}{C} \Bigl(p_{nc} \sum_k w_k - w_c\Bigr)

    (with probabilities ``t``: :math:`p_{nc} \sum_k w_k t_{nk} - w_c t_{nc}`), scaled by the
    sample weights and divided by the mean's denominator. Same arguments as
    :func:`cross_entropy`; returns an array of the input's shape and float dtype.

    Examples
    --------
    >>> print(cross_entropy_grad([[0.0, 0.0]], [1]))
    [[ 0.5 -0.5]]
    """
    checked = _prepare(
        "cross_entropy_grad", input, target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, sample_weight=sample_weight,
        log_probabilities=False,
    )
    if checked.deferred:
        return _cross_entropy_numpy(checked, value=False, gradient=True)[1]
    return _array_api_gradient(checked, nll=False)


def nll_loss(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Negative log-likelihood of class indices under log-probabilities, as ``F.nll_loss``.

    .. math:: \ell_n = -w_{y_n}\, \text{input}_{n y_n}

    with the mean :math:`\sum_n s_n \ell_n / \sum_n s_n w_{y_n}` over samples whose target
    is not ``ignore_index``. ``cross_entropy(x, y)`` equals
    ``nll_loss(log_softmax(x), y)``; call ``cross_entropy`` on logits directly.

    Parameters
    ----------
    input : array_like
        Log-probabilities (values <= 0, ``-inf`` allowed), shape ``(N, C)``,
        ``(N, C, d1, ...)`` or ``(C,)``.
    target : array_like
        Class indices, shape ``(N, d1, ...)``.
    weight, ignore_index, reduction, sample_weight
        As in :func:`cross_entropy`.

    Examples
    --------
    >>> import math
    >>> print(nll_loss([[math.log(0.25), math.log(0.75)]], [1]))  # -log(0.75)
    0.2876820724517809
    """
    checked = _prepare(
        "nll_loss", input, target, weight=weight, ignore_index=ignore_index, label_smoothing=0.0,
        reduction=reduction, sample_weight=sample_weight, log_probabilities=True,
    )
    if checked.deferred:
        return _nll_numpy(checked, value=True)
    return _array_api_values(checked, nll=True)


def nll_loss_grad(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`nll_loss` with respect to ``input``: ``-w[y]`` at each target class.

    .. math:: \frac{\partial \ell_n}{\partial \text{input}_{nc}} = -w_{y_n} [c = y_n]

    scaled by the sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(nll_loss_grad([[-1.0, -0.5]], [1], reduction="sum"))
    [[ 0. -1.]]
    """
    checked = _prepare(
        "nll_loss_grad", input, target, weight=weight, ignore_index=ignore_index, label_smoothing=0.0,
        reduction=reduction, sample_weight=sample_weight, log_probabilities=True,
    )
    if checked.deferred:
        return _nll_numpy(checked, value=False)
    return _array_api_gradient(checked, nll=True)
