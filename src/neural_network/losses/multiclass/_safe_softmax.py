"""optax's ``safe_softmax_cross_entropy``: a softmax cross-entropy over probability targets
that is finite where a logit is ``-inf`` and its target 0 (``0 log 0 = 0``).

It validates into the row engine's ``RowArguments`` with checks of its own (``-inf`` logits
allowed, probabilities only) and reduces through :mod:`neural_network.losses._rows`.
"""

from __future__ import annotations

import math

import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import softmax_parts
from neural_network._validation import LABEL, NONNEGATIVE, Array, Domain, Namespace
from neural_network.errors import EmptyInputError, NonFiniteError, OutOfRangeError, ShapeMismatchError
from neural_network.losses._common import indicator
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import (
    RowArguments,
    RowTarget,
    as_rows,
    check_rows_sum_to_one,
    reduce_row_gradient,
    reduce_rows,
)
from neural_network.losses.multiclass._scores import positions
from neural_network.losses.multiclass._softmax_math import softmax_reference_grad, softmax_reference_parts

LOGIT_OR_MINUS_INF = Domain("logits (finite, or -inf for a class ruled out)", allow_infinite=True)
"""Logits that may be ``-inf`` (``check_values`` lets ``+inf`` through too: refused apart)."""


def _softmax_prepare(
    func: str, input: object, target: object, reduction: object, sample_weight: object
) -> RowArguments:
    checked_reduction = _validation.check_reduction(func, reduction)
    xp, device = _validation.namespace(func, input=input, target=target, sample_weight=sample_weight)
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
        raise ShapeMismatchError(f"{func}: input must have at least one class along axis {class_axis}; got shape {shape}.")
    sample_shape = shape[:class_axis] + shape[class_axis + 1 :]
    t = _validation.as_real_array(func, "target", target, xp, device)
    if tuple(t.shape) == sample_shape and tuple(t.shape) != shape:
        raise ShapeMismatchError(
            f"{func}: target must hold class probabilities of the input's shape {shape}; got class "
            f"indices of shape {sample_shape}. One-hot them (e.g. numpy.eye({classes})[target], moved to "
            "axis 1), or use cross_entropy, which takes indices."
        )
    _validation.check_same_shape(func, "input", x, "target", t)
    _, high = _validation.check_values(func, "input", x, xp, LOGIT_OR_MINUS_INF)
    if high == math.inf:
        count, where, _ = _validation._locate(xp, x, xp.isinf(x) & (x > 0.0))
        raise NonFiniteError(
            f"{func}: input must hold finite logits or -inf (a class ruled out); got {count} +inf "
            f"value{'s' if count != 1 else ''} (first at input{where}). +inf makes the softmax "
            "undefined: find where it appears upstream."
        )
    _validation.check_values(func, "target", t, xp, LABEL)
    logits = as_rows(xp, x, class_axis, classes)
    labels = as_rows(xp, t, class_axis, classes)
    check_rows_sum_to_one(func, xp, labels, t.dtype)
    if logits.shape[0] and not bool(xp.all(xp.max(logits, axis=1) > -math.inf)):
        row = int(xp.argmin(xp.max(logits, axis=1)))
        raise OutOfRangeError(
            f"{func}: every row of input must have a class that is not -inf (the softmax of a row "
            f"of -inf is undefined); got the row of sample {row} all -inf. Drop that sample, or check "
            "the mask that ruled out its classes."
        )
    rows = logits.shape[0]
    w = None
    if sample_weight is not None:
        s = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
        if tuple(s.shape) != sample_shape:
            raise ShapeMismatchError(
                f"{func}: sample_weight must hold one weight per sample, shape {sample_shape}; got "
                f"sample_weight.shape={tuple(s.shape)}."
            )
        _, largest = _validation.check_values(func, "sample_weight", s, xp, NONNEGATIVE)
        if checked_reduction == "mean" and rows and largest == 0.0:
            raise EmptyInputError(
                f"{func}: reduction='mean' divides by sum(sample_weight), and every weight is 0. "
                "Give at least one sample a positive weight, or use reduction='sum'."
            )
        w = xp.reshape(_validation.working(xp, s), (-1,))
        if checked_reduction == "mean":
            w = _reduction.scale_weights(w, largest, rows)
    if checked_reduction == "mean" and rows == 0:
        raise EmptyInputError(
            f"{func}: reduction='mean' needs at least one sample; got input.shape={shape}. "
            "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
        )
    return RowArguments(
        func=func, xp=xp, device=device, x=x, class_axis=class_axis, classes=classes, sample_shape=sample_shape,
        target=RowTarget(probabilities=t), weight=None, sample_weight=w, label_smoothing=0.0,
        reduction=checked_reduction, domain=LOGIT_OR_MINUS_INF, deferred=False,
    )


def _softmax_pieces(xp: Namespace, logits: Array) -> tuple[Array, Array, Array, Array]:
    """``-log p`` of every class (``inf`` at a ``-inf`` logit), ``e``, ``rest`` and the first maxima.

    ``-log p_j = log1p(rest) - (d_j + d_error_j)``, with ``d + d_error = x - max`` exactly
    and ``rest`` the sum of ``exp`` over every class but one maximal one: two non-negative
    terms, so a confident row keeps its tiny loss to full relative accuracy.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        d, d_error, e, rest = softmax_parts(xp, logits, 1)
        nll = (xp.log1p(rest) - d) - d_error
    first = indicator(xp, xp.argmax(logits, axis=1)[:, None] == positions(xp, logits.shape[1], logits)[None, :])
    return nll, e, rest, first


def _softmax_rows(checked: RowArguments) -> tuple[Array, Array]:
    """The logits and the target probabilities (the only target :func:`_softmax_prepare` takes)
    as (M, C) float64 rows, as they were checked."""
    xp, axis, classes, target = checked.xp, checked.class_axis, checked.classes, checked.target.probabilities
    return as_rows(xp, checked.x, axis, classes), as_rows(xp, target, axis, classes)


def safe_softmax_cross_entropy(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Softmax cross-entropy that allows ``-inf`` logits, optax's ``safe_softmax_cross_entropy``.

    For logits ``x`` and target probabilities ``y`` over the classes:

    .. math:: \ell = -\sum_{j:\, y_j > 0} y_j \log \frac{e^{x_j}}{\sum_k e^{x_k}}

    Terms with ``y_j = 0`` are left out (``0 \log 0 = 0``), so a logit of ``-inf`` (a class
    masked out) whose target is 0 gives a finite loss and gradient, where the plain
    formula gives ``0 \cdot (-\infty) = \mathrm{NaN}``.

    Parameters
    ----------
    input : array_like
        Logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``: finite, or ``-inf``;
        each row needs one logit above ``-inf``. ``+inf`` and NaN are refused.
    target : array_like
        Class probabilities of the input's shape: in [0, 1], each row summing to 1
        (one-hot rows, or soft labels).
    reduction : {"mean", "sum", "none"}, keyword-only
        Over samples: ``"none"`` gives ``(N, d1, ...)``, the mean divides by the number of
        samples (by ``sum(sample_weight)`` with weights).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else ``(N, d1, ...)``; the input's float dtype.

    Notes
    -----
    optax's ``safe_softmax_cross_entropy(logits, labels)`` gives the per-sample losses
    (``reduction="none"``) and takes the class axis last; for ``(N, C)`` logits the two
    agree. A ``-inf`` logit with a positive target gives ``inf``, the exact value (optax
    too). Computed as ``sum_j y_j (log1p(rest) - (x_j - max))``, non-negative terms only:
    logits ``[40, 0]`` with target ``[1, 0]`` give 4.248354255291589e-18, not 0.

    Examples
    --------
    >>> import math
    >>> x = [[2.0, 0.0, -math.inf], [1.0, 1.0, 1.0]]
    >>> y = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]
    >>> print(safe_softmax_cross_entropy(x, y, reduction="none"))  # log(1 + e^-2), log(3)
    [0.12692801 1.09861229]
    """
    func = "safe_softmax_cross_entropy"
    checked = _softmax_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp
    logits, y = _softmax_rows(checked)
    nll, _, _, _ = _softmax_pieces(xp, logits)
    values = xp.sum(y * xp.where(y > 0.0, nll, 0.0), axis=1)
    with np.errstate(over="ignore"):  # beyond float32's range: inf, the correctly rounded value
        return reduce_rows(checked, values)


def safe_softmax_cross_entropy_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`safe_softmax_cross_entropy` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial x_j} = \Bigl(\sum_k y_k\Bigr) p_j - y_j,
              \qquad p = \operatorname{softmax}(x)

    optax's gradient (its custom JVP): 0 at a ``-inf`` logit whose target is 0, and
    ``-y_j`` at one whose target is not (the limit, where the loss itself is ``inf``). At the
    top class it is formed as ``sum_{k != j} y_k - (sum_k y_k)(1 - p_j)``, without the
    cancellation of ``p_j - y_j`` near 1. Scaled by the sample weights and divided by the
    mean's denominator; the input's shape and dtype.

    Where the softmax nearly equals a soft target, ``(sum_k y_k) p_j - y_j`` cancels and the
    ulp or two of float64's ``p`` is magnified as much: 3381 ulps measured on ordinary soft
    targets (the budget registered is 3400), unbounded where a target equals the softmax to
    its last bit; in absolute terms every entry is within 2 ulps of ``(sum_k y_k) p_j + y_j``.

    Examples
    --------
    >>> print(safe_softmax_cross_entropy_grad([[0.0, 0.0, float("-inf")]], [[0.0, 1.0, 0.0]]))
    [[ 0.5 -0.5  0. ]]
    """
    func = "safe_softmax_cross_entropy_grad"
    checked = _softmax_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp
    logits, y = _softmax_rows(checked)
    _, e, rest, first = _softmax_pieces(xp, logits)
    p = e / (1.0 + rest)
    complement = rest / (1.0 + rest)  # 1 - p at the top class, exact where p rounds to 1
    total = xp.sum(y, axis=1, keepdims=True)
    others = xp.sum(xp.where(first > 0.0, 0.0, y), axis=1, keepdims=True)
    gradient = xp.where(first > 0.0, others - total * complement, total * p - y)
    # The mean divides by the number of samples (rows), or by their summed weights: the
    # same denominator as the loss's, not the number of logits.
    return reduce_row_gradient(checked, gradient)


def _safe_softmax_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    nll, _, _ = softmax_reference_parts(xp, x)  # -log softmax(x): inf at a logit of -inf
    return xp.sum(xp.where(y > 0, y * nll, 0.0), axis=1)  # 0 log 0 = 0


def _safe_softmax_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    _, p, q = softmax_reference_parts(xp, x)
    return softmax_reference_grad(xp, p, q, y)  # p sum(y) - y


register(
    "safe_softmax_cross_entropy", _safe_softmax_reference, _safe_softmax_reference_grad, grad_ulps=3400,
    why="the gradient p_j sum(y) - y_j cancels where the softmax nearly equals a soft target, magnifying "
    "the ulp or two of float64's p: 3381 ulps measured on ordinary soft targets (Dirichlet rows); within 4 "
    "needs p in double length (4 times the cost, measured). Absolutely, within 2 ulps of p_j sum(y) + y_j",
)
