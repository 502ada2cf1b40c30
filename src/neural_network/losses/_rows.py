r"""The row engine: the losses that read a whole row of class scores along a class axis.

Every class-axis loss (``cross_entropy``, ``nll_loss``, the focal and Poly-1 losses, the
categorical and multi-class hinges, the perceptron and sparsemax losses; with checks of
their own, ``safe_softmax_cross_entropy`` and the multi-label margin losses) runs the same
steps::

    arguments ─► prepare / class_prepare (namespace, class axis, class indices or
                 probabilities, class and sample weights, reduction) ─► RowArguments
              ─► rows_of / row_layout: (M, C) float64 rows, one per sample
              ─► the loss's per-row values or gradient, by_rows (NumPy: blocks of rows,
                 on threads; cross_entropy and nll_loss: multiclass._softmax_blocks, which checks the
                 values block by block as it goes)
              ─► reduce_rows / reduce_row_gradient (sample weights, none | sum | mean with
                 the mean's weights, the class axis put back)

:class:`RowArguments` is the one validated-arguments type of these losses. It is not the
element-wise engine's ``Batch`` and shares no base with it: the two hold the namespace,
dtype, reduction and sample weights under the same meaning, but a row loss also carries
the class axis, the sample shape, a target that is either indices or probabilities, the
class weights and the mean's denominator (PyTorch's summed class weights), which ``Batch``
has no place for, while ``Batch`` holds two operands of one shape and the kernels' extra
weights, which a row loss has not. A shared base would hold four fields and ``_elementwise``
would have to import it; the two types are kept apart, with those fields named alike
(``xp``, ``reduction``, ``sample_weight``, the result's ``dtype``).

``safe_softmax_cross_entropy`` (``-inf`` logits allowed, probabilities only) and PyTorch's
margin losses ((N, C) or (C,) only, class indices; their checks in ``multiclass._scores``)
make their own checks but validate into ``RowArguments`` too, and reduce through this
module. Containers that hold something else stay where they are:
``embedding._circle._CircleArguments`` (embeddings and their labels, not class scores; the
pairs are formed later), and, for other engines, CTC's ``sequence._ctc._Checked`` (sequence
lengths) and ``classification._overlap._Groups``.
"""

from __future__ import annotations

import math
import numbers
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
class RowTarget:
    """A validated target: class indices, or class probabilities."""

    indices: Array | None = None  # (M,) integers, -1 where the sample is ignored
    ignored: bool = False  # whether any sample is ignored
    probabilities: Array | None = None  # the target array itself (the input's shape)


@dataclass(slots=True)
class RowArguments:
    """The validated arguments of a class-axis loss, before the layout of the evaluation is chosen.

    ``x`` keeps its own dtype and layout (the class axis ``class_axis``: 1, or 0 for a
    single sample); :func:`rows_of` gives the (M, C) float64 rows. ``target`` holds class
    indices or class probabilities; ``weight`` the class weights, ``sample_weight`` one
    weight per sample (flat); ``mean_weight`` what each sample adds to the mean's
    denominator; ``scores`` the (M, C) float64 rows. ``deferred``: NumPy arguments, whose value checks (of the input, and of a probability
    target) are left to the blocked evaluation, which measures each block's minimum and
    maximum as it goes (see :func:`prepare`).
    """

    func: str
    xp: Namespace
    device: Any
    x: Array  # the input as given (its own float dtype)
    class_axis: int
    classes: int
    sample_shape: tuple[int, ...]
    target: RowTarget
    weight: Array | None  # (C,) float64; None for all ones
    sample_weight: Array | None  # (M,) float64
    label_smoothing: float
    reduction: str
    domain: Domain
    deferred: bool
    mean_weight: Array | int | None = None  # for reduction="mean": see mean_weights
    laid_out: Array | None = None  # the scores as (M, C) float64 rows, once made: see scores

    @property
    def scores(self) -> Array:
        """The scores as (M, C) float64 rows, one per sample (made once, on first use)."""
        if self.laid_out is None:
            self.laid_out = as_rows(self.xp, self.x, self.class_axis, self.classes)
        return self.laid_out

    @property
    def samples(self) -> int:
        """The number of samples, M."""
        return math.prod(self.sample_shape)

    @property
    def dtype(self) -> Any:
        """The dtype of the result: the input's."""
        return self.x.dtype


def prepare(
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
) -> RowArguments:
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
    checked = RowArguments(
        func=func, xp=xp, device=device, x=x, class_axis=class_axis, classes=classes,
        sample_shape=sample_shape, target=RowTarget(), weight=None, sample_weight=None,
        label_smoothing=float(label_smoothing), reduction=reduction, domain=domain, deferred=deferred,
    )
    try:
        _check_the_rest(checked, target, weight, sample_weight, int(ignore_index), log_probabilities)
    except (InvalidInputError, InvalidTypeError):
        if deferred:  # an earlier check, deferred, takes precedence
            check_deferred_eagerly(checked)
        raise
    return checked


def _check_the_rest(
    checked: RowArguments,
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
        scale_for_mean(checked)
        checked.mean_weight = mean_weights(checked)
        check_mean_defined(func, xp, sample_count(checked), checked.mean_weight)


def scale_for_mean(checked: RowArguments) -> None:
    """Scale the weights of a mean by powers of two (``_reduction.scale_weights``): the mean
    and its gradient do not change, and neither ``s * w[y] * loss`` nor the denominator
    overflows or loses the bits of tiny weights.

    The class weights cancel only over class indices (the mean divides by the summed
    ``w[y]``); over probabilities they scale the loss and are left as they are.
    """
    xp, bound = checked.xp, float(sample_count(checked))  # the denominator sums this many weights
    if checked.weight is not None and checked.target.indices is not None:
        largest = _reduction.largest(xp, checked.weight)
        exponent = _reduction.weight_exponent(largest, sample_count(checked))
        checked.weight = _reduction.scale(checked.weight, exponent)
        bound *= max(1.0, math.ldexp(largest, exponent))  # each sample weight meets one at most this large
    if checked.sample_weight is not None:
        largest = _reduction.largest(xp, checked.sample_weight)
        checked.sample_weight = _reduction.scale(checked.sample_weight, _reduction.weight_exponent(largest, bound))


def small_indices(
    input: object,
    target: object,
    *,
    weight: object,
    ignore_index: object,
    label_smoothing: object,
    reduction: object,
    sample_weight: object,
) -> Array | None:
    """The class indices of the commonest call, if it is one, else None.

    The commonest call: float64 (N, C) NumPy scores and (N,) NumPy integer class indices,
    each from 0 to C - 1 (none equal to ``ignore_index``), no weights, no smoothing, a
    known reduction. Each argument then passes every check of :func:`prepare` except
    the finiteness of the scores, which the evaluation decides. Anything else, faulty
    or only unusual, returns None: :func:`prepare` takes the call and says what is wrong.
    """
    if not (
        type(input) is np.ndarray
        and type(target) is np.ndarray
        and weight is None
        and sample_weight is None
        and type(ignore_index) is int
        and (type(label_smoothing) is float or type(label_smoothing) is int)
        and label_smoothing == 0
        and type(reduction) is str
        and reduction in _validation.REDUCTIONS
        and input.dtype is _FLOAT64
        and input.ndim == 2
        and target.dtype.kind in "iu"
        and target.shape == input.shape[:1]
        and target.size
    ):
        return None
    low, high = int(np.minimum.reduce(target)), int(np.maximum.reduce(target))
    if low < 0 or high >= input.shape[1] or low <= ignore_index <= high:
        return None
    return target.astype(np.intp, copy=False)


_FLOAT64 = np.dtype(np.float64)


def _read_target(checked: RowArguments, target: object, ignore_index: int, log_probabilities: bool) -> RowTarget:
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
            check_rows_sum_to_one(func, xp, as_rows(xp, t, checked.class_axis, classes), t.dtype)
        return RowTarget(probabilities=t)
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
    return RowTarget(indices=xp.where(ignored, -1, indices), ignored=any_ignored)


def _integer_indices(func: str, target: Array, classes: int, ignore_index: int) -> RowTarget | None:
    """Class indices from a NumPy integer array, without the float round trip; None to
    leave the rare cases (an ignore_index among the values, huge values) to the general path."""
    flat = target.reshape(-1)
    if flat.size == 0:
        return None
    low, high = int(np.minimum.reduce(flat)), int(np.maximum.reduce(flat))
    if low <= ignore_index <= high or max(abs(low), abs(high)) >= _EXACT_INTEGERS:
        return None
    _check_class_range(func, classes, ignore_index, low, high)
    return RowTarget(indices=flat.astype(np.intp, copy=False))


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


def as_rows(xp: Namespace, a: Array, class_axis: int, classes: int) -> Array:
    """``a`` in float64 as (M, C) rows, one per sample."""
    return xp.reshape(xp.moveaxis(_validation.working(xp, a), class_axis, -1), (-1, classes))


def check_rows_sum_to_one(func: str, xp: Namespace, rows: Array, dtype: Any) -> None:
    if rows.shape[0] == 0:
        return
    worst = float(xp.max(xp.abs(xp.sum(_validation.detached(rows), axis=1) - 1.0)))
    check_row_sums(func, worst, rows.shape[1], float(xp.finfo(dtype).eps))


def check_row_sums(func: str, worst: float, classes: int, eps: float) -> None:
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


def check_deferred_eagerly(checked: RowArguments) -> None:
    """The value checks the blocked evaluation would make, on the whole arrays at once."""
    _validation.check_values(checked.func, "input", checked.x, np, checked.domain)
    t = checked.target.probabilities
    if t is not None:
        _validation.check_values(checked.func, "target", t, np, _validation.LABEL)
        check_rows_sum_to_one(checked.func, np, as_rows(np, t, checked.class_axis, checked.classes), t.dtype)


def sample_count(checked: RowArguments) -> int:
    return math.prod(checked.sample_shape)


def mean_weights(checked: RowArguments) -> Array | int:
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
    return sample_count(checked) if counted is None else counted


def check_mean_defined(func: str, xp: Namespace, samples: int, mean_weight: Array | int) -> None:
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


def mean_denominator(checked: RowArguments) -> Array | float:
    """The denominator of the mean: the summed mean weights, accumulated as every sum."""
    mean_weight = mean_weights(checked) if checked.mean_weight is None else checked.mean_weight
    if isinstance(mean_weight, int):
        return float(mean_weight)
    return _reduction.total(checked.xp, mean_weight)


# --------------------------------------------------------------------------- rows


def class_prepare(func: str, input: object, target: object, reduction: object, sample_weight: object) -> RowArguments:
    """Validate like :func:`cross_entropy` (no class weights, nothing ignored), every value eagerly."""
    checked_reduction = _validation.check_reduction(func, reduction)
    # As a sum first: the mean's checks come after the refusal of ignored targets.
    checked = prepare(
        func, input, target, weight=None, ignore_index=-100, label_smoothing=0.0,
        reduction="sum", sample_weight=sample_weight, log_probabilities=False,
    )
    if checked.deferred:
        check_deferred_eagerly(checked)
    if checked.target.ignored:
        raise OutOfRangeError(
            f"{func}: target must hold class indices from 0 to {checked.classes - 1}; got -100. "
            "This loss has no ignore_index: give the samples to leave out sample_weight 0."
        )
    checked.reduction = checked_reduction
    if checked_reduction == "mean":
        scale_for_mean(checked)
        checked.mean_weight = mean_weights(checked)
        check_mean_defined(func, checked.xp, sample_count(checked), checked.mean_weight)
    return checked


@dataclass(frozen=True)
class RowLayout:
    """Arguments of another array library in a flat layout: ``scores`` of shape (M, C)."""

    xp: Namespace
    scores: Array  # (M, C) float64: logits, or log-probabilities for nll_loss
    onehot: Array  # (M, C) float64: 1 at each sample's target class, 0 elsewhere and on ignored rows
    probabilities: Array | None  # (M, C) float64 when the target gives class probabilities
    weight: Array  # (C,) float64 class weights (ones when not given)


def row_layout(checked: RowArguments) -> RowLayout:
    """The scores, the target (one-hot rows, or smoothed probabilities) and the class weights as rows."""
    xp, classes = checked.xp, checked.classes
    scores = as_rows(xp, checked.x, checked.class_axis, classes)
    w = checked.weight
    if w is None:
        w = xp.ones((classes,), dtype=xp.float64, device=checked.device)
    probabilities = None
    if checked.target.probabilities is not None:
        read = as_rows(xp, checked.target.probabilities, checked.class_axis, classes)
        probabilities = (1.0 - checked.label_smoothing) * read + checked.label_smoothing / classes
        onehot = xp.zeros_like(scores)
    else:
        indices: Array = checked.target.indices
        positions = xp.arange(classes, device=checked.device)
        onehot = xp.astype(indices[:, None] == positions[None, :], xp.float64)
    return RowLayout(xp=xp, scores=scores, onehot=onehot, probabilities=probabilities, weight=w)


def mean_weight_array(checked: RowArguments) -> Array:
    """What each sample adds to the mean's denominator, as an (M,) array (see :func:`mean_weights`)."""
    mean_weight = mean_weights(checked) if checked.mean_weight is None else checked.mean_weight
    if isinstance(mean_weight, int):
        return checked.xp.ones((mean_weight,), dtype=checked.xp.float64, device=checked.device)
    return mean_weight


def rows_of(checked: RowArguments) -> tuple[Array, Array]:
    """The scores and the target as (M, C) float64 rows (a one-hot of class indices)."""
    batch = row_layout(checked)
    return batch.scores, batch.onehot if batch.probabilities is None else batch.probabilities


def by_rows(compute: Callable[[Array, Array], Array], scores: Array, t: Array) -> Array:
    """``compute(scores, t)`` of (M, C) rows, row by row in effect: large NumPy input in blocks of
    rows of about ``_blocks.BLOCK`` entries (in the processor's cache), on several threads."""
    if not isinstance(scores, np.ndarray) or scores.size <= _blocks.BLOCK:
        with np.errstate(divide="ignore", over="ignore"):
            return compute(scores, t)
    rows = max(1, _blocks.BLOCK // scores.shape[1])
    count = -(-scores.shape[0] // rows)

    def one(start: int, stop: int) -> Array:
        i = start // _blocks.BLOCK
        # The floating-point error state belongs to each thread: set it here, in the thread.
        with np.errstate(divide="ignore", over="ignore"):
            return compute(scores[i * rows : (i + 1) * rows], t[i * rows : (i + 1) * rows])

    return np.concatenate(_blocks.map_blocks(one, count * _blocks.BLOCK))


def reduce_rows(checked: RowArguments, values: Array) -> Array:
    """Reduce the (M,) per-sample losses: ``none`` in the sample shape, else the weighted sum or mean."""
    xp = checked.xp
    if checked.reduction == "none":
        values = xp.reshape(values, checked.sample_shape)
    s = checked.sample_weight
    if s is not None and checked.reduction == "none":
        s = xp.reshape(s, checked.sample_shape)
    return _reduction.reduce_values(
        xp, values, reduction=checked.reduction, sample_weight=s, dtype=checked.x.dtype,
        mean_weight=mean_weight_array(checked),
    )


def reduce_row_gradient(checked: RowArguments, gradient: Array) -> Array:
    """Reduce the (M, C) gradient of the per-sample losses and lay it out as the input (class axis back)."""
    xp, s = checked.xp, checked.sample_weight
    reduced = _reduction.reduce_derivatives(
        xp, gradient, reduction=checked.reduction, sample_weight=None if s is None else s[:, None],
        dtype=checked.x.dtype, mean_weight=mean_weight_array(checked),
    )
    laid_out = xp.reshape(reduced, (*checked.sample_shape, checked.classes))
    return xp.moveaxis(laid_out, -1, checked.class_axis)
