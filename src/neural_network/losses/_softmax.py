"""Losses over a class axis: softmax cross-entropy and the negative log-likelihood.

Unlike the element-wise losses, each sample's loss here reads a whole row of class
scores, and the target is a class index per sample (or a probability per class). The
arguments go through the same validation path, and the per-sample losses and the
gradients through the same reduction path, as every other loss. Conventions follow
PyTorch's ``F.cross_entropy`` and ``F.nll_loss`` exactly: the class axis is axis 1 of
an ``(N, C, d1, ...)`` input (axis 0 of an unbatched ``(C,)`` one), ``weight`` holds
one weight per class, and a mean over class indices divides by the summed weights of
the target classes.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from neural_network import _reduction, _validation
from neural_network._validation import NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import (
    EmptyInputError,
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


# --------------------------------------------------------------------------- validated batch


@dataclass(frozen=True)
class _Classes:
    """Validated arguments in a flat layout: ``scores`` of shape (M, C), one row a sample."""

    xp: Namespace
    scores: Array  # (M, C) float64: logits, or log-probabilities for nll_loss
    onehot: Array  # (M, C) float64: 1 at each sample's target class, 0 elsewhere and on ignored rows
    probabilities: Array | None  # (M, C) float64 when the target gives class probabilities
    weight: Array  # (C,) float64 class weights (ones when not given)
    sample_weight: Array | None  # (M,) float64
    mean_weight: Array  # (M,) what the mean divides by: see _mean_weight
    sample_shape: tuple[int, ...]  # the shape of the per-sample loss
    class_axis: int  # where the class axis sits in the caller's input
    reduction: str
    dtype: Any


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
) -> _Classes:
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
    _validation.check_values(func, "input", x, xp, LOG_PROBABILITY if log_probabilities else REAL)

    flat = xp.reshape(xp.moveaxis(_validation.working(xp, x), class_axis, -1), (-1, classes))
    read, is_probabilities = _read_target(
        func, target, xp, device, shape, sample_shape, classes, int(ignore_index), log_probabilities
    )

    w = xp.ones((classes,), dtype=xp.float64, device=device)
    if weight is not None:
        w = _validation.as_real_array(func, "weight", weight, xp, device)
        if tuple(w.shape) != (classes,):
            raise ShapeMismatchError(
                f"{func}: weight must hold one weight per class, shape ({classes},); got "
                f"weight.shape={tuple(w.shape)}. For one weight per sample, use sample_weight."
            )
        _validation.check_values(func, "weight", w, xp, NONNEGATIVE)
        w = _validation.working(xp, w)

    s = None
    if sample_weight is not None:
        s = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
        if tuple(s.shape) != sample_shape:
            raise ShapeMismatchError(
                f"{func}: sample_weight must hold one weight per sample, the shape of the "
                f"per-sample loss {sample_shape}; got sample_weight.shape={tuple(s.shape)}."
            )
        _validation.check_values(func, "sample_weight", s, xp, NONNEGATIVE)
        s = xp.reshape(_validation.working(xp, s), (-1,))

    probabilities = None
    if is_probabilities:
        if int(ignore_index) >= 0:
            raise InvalidOptionError(
                f"{func}: ignore_index={ignore_index} applies to class-index targets only; with class "
                "probabilities give an ignored sample sample_weight 0 instead (PyTorch refuses it too)."
            )
        onehot = xp.zeros_like(flat)
        probabilities = (1.0 - float(label_smoothing)) * read + float(label_smoothing) / classes
    else:
        positions = xp.arange(classes, device=device)
        onehot = xp.astype(read[:, None] == positions[None, :], xp.float64)
    mean_weight = _mean_weight(xp, onehot, probabilities, w, s)
    batch = _Classes(
        xp=xp,
        scores=flat,
        onehot=onehot,
        probabilities=probabilities,
        weight=w,
        sample_weight=s,
        mean_weight=mean_weight,
        sample_shape=sample_shape,
        class_axis=class_axis,
        reduction=reduction,
        dtype=x.dtype,
    )
    if reduction == "mean":
        _check_mean_defined(func, batch)
    return batch


def _read_target(
    func: str,
    target: object,
    xp: Namespace,
    device: Any,
    shape: tuple[int, ...],
    sample_shape: tuple[int, ...],
    classes: int,
    ignore_index: int,
    log_probabilities: bool,
) -> tuple[Array, bool]:
    """Return the target and whether it holds class probabilities.

    Class indices come back flat, shape (M,), with ignored samples set to -1 (no class);
    probabilities come back as (M, C) rows.
    """
    if target is None:
        raise InvalidTypeError(f"{func}: target is None; expected class indices or class probabilities.")
    integral = False
    if _validation.is_array(target):
        given: Array = target
        integral = _validation.dtype_kind(xp, given.dtype) in ("integral", "bool")
    t = _validation.as_real_array(func, "target", target, xp, device)
    t_shape = tuple(t.shape)
    if t_shape == shape and classes > 0 and t_shape != sample_shape:
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
        _validation.check_values(func, "target", t, xp, _validation.LABEL)
        class_axis = 1 if len(shape) >= 2 else 0
        rows = xp.reshape(xp.moveaxis(_validation.working(xp, t), class_axis, -1), (-1, classes))
        _check_rows_sum_to_one(func, xp, rows, t.dtype)
        return rows, True
    if t_shape != sample_shape:
        raise ShapeMismatchError(
            f"{func}: target must hold one class index per sample, shape {sample_shape} for input "
            f"of shape {shape} (or class probabilities of shape {shape}); got target.shape={t_shape}."
            + (" Nothing is broadcast implicitly: reshape the target, e.g. target.reshape(-1)." if
               math.prod(t_shape) == math.prod(sample_shape) else "")
        )
    low, high = _validation.check_values(func, "target", t, xp, REAL)
    if max(abs(low), abs(high)) >= 2.0**53 if math.prod(t_shape) else False:
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
    if math.prod(t_shape) and not bool(xp.all(ignored)):
        low, high = int(xp.min(xp.where(ignored, classes, indices))), int(xp.max(counted))
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
    return xp.where(ignored, -1, indices), False


def _check_rows_sum_to_one(func: str, xp: Namespace, rows: Array, dtype: Any) -> None:
    if rows.shape[0] == 0:
        return
    # Each probability is rounded once in its own dtype, so a row of C of them may be off
    # by C/2 units; allowing 64 times that refuses only rows that are not distributions.
    tolerance = 64 * rows.shape[1] * float(xp.finfo(dtype).eps)
    sums = xp.sum(rows, axis=1)
    worst = float(xp.max(xp.abs(sums - 1.0)))
    if worst > tolerance:
        raise OutOfRangeError(
            f"{func}: each row of class probabilities in target must sum to 1; got a row summing to "
            f"{1.0 + worst:.6g} or {1.0 - worst:.6g}. Normalize the rows, or pass class indices."
        )


def _mean_weight(
    xp: Namespace, onehot: Array, probabilities: Array | None, w: Array, s: Array | None
) -> Array:
    """What each sample adds to the denominator of the mean.

    Over class indices it is the weight of the sample's class (0 for an ignored sample),
    as PyTorch divides by the summed class weights; over probabilities every sample
    counts 1. Sample weights multiply either.
    """
    if probabilities is None:
        counted = xp.sum(onehot * w[None, :], axis=1)
    else:
        counted = xp.ones((probabilities.shape[0],), dtype=xp.float64)
    return counted if s is None else s * counted


def _check_mean_defined(func: str, batch: _Classes) -> None:
    if batch.scores.shape[0] == 0:
        raise EmptyInputError(
            f"{func}: reduction='mean' needs at least one sample; got none. "
            "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
        )
    if float(batch.xp.max(batch.mean_weight)) == 0.0:
        raise EmptyInputError(
            f"{func}: reduction='mean' divides by the summed weights of the counted samples, and they "
            "are all 0: every target is ignore_index, or its class or sample weight is 0. PyTorch "
            "returns NaN here; use reduction='sum' to get 0."
        )


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


def _weighted_sum(xp: Namespace, coefficient: Array, values: Array) -> Array:
    """Row sums of ``coefficient * values``, where a zero coefficient contributes 0 even
    against an infinite value (IEEE would give 0 * inf = NaN)."""
    return xp.sum(coefficient * xp.where(coefficient > 0, values, 0.0), axis=1)


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


# --------------------------------------------------------------------------- reduction and layout


def _reduce_values(batch: _Classes, values: Array) -> Array:
    xp = batch.xp
    if batch.reduction == "none":
        values = xp.reshape(values, batch.sample_shape)
    with np.errstate(divide="ignore", over="ignore"):
        return _reduction.reduce_values(
            xp,
            values,
            reduction=batch.reduction,
            sample_weight=None if batch.sample_weight is None else _as_sample_shape(batch, batch.sample_weight),
            dtype=batch.dtype,
            mean_weight=batch.mean_weight,
        )


def _as_sample_shape(batch: _Classes, flat: Array) -> Array:
    return flat if batch.reduction != "none" else batch.xp.reshape(flat, batch.sample_shape)


def _reduce_gradient(batch: _Classes, gradient: Array) -> Array:
    xp = batch.xp
    with np.errstate(divide="ignore", over="ignore"):
        reduced = _reduction.reduce_derivatives(
            xp,
            gradient,
            reduction=batch.reduction,
            sample_weight=None if batch.sample_weight is None else batch.sample_weight[:, None],
            dtype=batch.dtype,
            mean_weight=batch.mean_weight,
        )
    classes = batch.scores.shape[1]
    laid_out = xp.reshape(reduced, (*batch.sample_shape, classes))
    return xp.moveaxis(laid_out, -1, batch.class_axis)


def cross_entropy_mean_value_and_grad(input: Array, labels: Array) -> tuple[float, Array]:
    """The mean cross-entropy of (N, C) logits and (N,) class indices, and its gradient.

    For the training loop, which has checked the labels once, with :func:`cross_entropy`,
    before the first epoch: no class weights, nothing ignored, no smoothing. Same
    computation as the public functions.
    """
    scores = input.astype(np.float64, copy=False)
    count, classes = scores.shape
    batch = _Classes(
        xp=np,
        scores=scores,
        onehot=(labels[:, None] == np.arange(classes)[None, :]).astype(np.float64),
        probabilities=None,
        weight=np.ones(classes),
        sample_weight=None,
        mean_weight=np.ones(count),
        sample_shape=(count,),
        class_axis=1,
        reduction="mean",
        dtype=input.dtype,
    )
    with np.errstate(over="ignore", divide="ignore"):
        value = _reduce_values(batch, _cross_entropy_values(batch, 0.0))
        return float(value), _reduce_gradient(batch, _cross_entropy_gradient(batch, 0.0))


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
    batch = _prepare(
        "cross_entropy", input, target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, sample_weight=sample_weight,
        log_probabilities=False,
    )
    with np.errstate(over="ignore", divide="ignore"):
        return _reduce_values(batch, _cross_entropy_values(batch, float(label_smoothing)))


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
    batch = _prepare(
        "cross_entropy_grad", input, target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, sample_weight=sample_weight,
        log_probabilities=False,
    )
    with np.errstate(over="ignore", divide="ignore"):
        return _reduce_gradient(batch, _cross_entropy_gradient(batch, float(label_smoothing)))


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
    batch = _prepare(
        "nll_loss", input, target, weight=weight, ignore_index=ignore_index, label_smoothing=0.0,
        reduction=reduction, sample_weight=sample_weight, log_probabilities=True,
    )
    with np.errstate(over="ignore", divide="ignore"):
        return _reduce_values(batch, _nll_values(batch))


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
    batch = _prepare(
        "nll_loss_grad", input, target, weight=weight, ignore_index=ignore_index, label_smoothing=0.0,
        reduction=reduction, sample_weight=sample_weight, log_probabilities=True,
    )
    with np.errstate(over="ignore", divide="ignore"):
        return _reduce_gradient(batch, _nll_gradient(batch))
