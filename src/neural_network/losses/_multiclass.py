r"""Multiclass margin losses, the binary sparsemax loss, the safe softmax cross-entropy and Circle.

* :func:`multiclass_hinge_loss`: optax's ``multiclass_hinge_loss`` (Crammer & Singer's
  multiclass hinge), ``max_j (x_j + [j != t]) - x_t``.
* :func:`multiclass_perceptron_loss`: optax's ``multiclass_perceptron_loss`` (Collins's
  structured perceptron), ``max_j x_j - x_t``.
* :func:`binary_sparsemax_loss`: optax's binary ``sparsemax_loss`` (``binary_sparsemax_loss``
  is its older name there), the Fenchel-Young loss of the sparse sigmoid.
* :func:`safe_softmax_cross_entropy`: optax's ``safe_softmax_cross_entropy``: a softmax
  cross-entropy over probability targets that is finite where a logit is ``-inf`` and its
  target 0 (``0 log 0 = 0``).
* :func:`circle_loss`: Keras's ``Circle`` (Sun et al. 2020) over a batch of embeddings.

The two class-axis margin losses share the validation of :func:`cross_entropy` (class
indices, or one-hot rows; the class axis is axis 1 of ``(N, C, d1, ...)``, axis 0 of
``(C,)``); the binary sparsemax loss is element-wise. Every value and derivative is computed
in float64 and rounded once to the input's dtype, so float32 stays float32.

**Gradients at the kinks.** Each loss here is a maximum (or clamps with ``max(., 0)``).
Where the maximum is attained twice, the gradient taken is that of the *active* side, as
in :mod:`neural_network.losses._margin`: a margin violated exactly (``v == 0``) counts as
violated, and among tied best other classes the first one gets the +1. Those are the
sub-gradients PyTorch's ``clamp_min`` and TensorFlow's ``maximum`` give (JAX, hence optax,
splits a tie evenly instead); for the perceptron it is what lets a model whose scores all
start equal learn at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import sigmoid_pair, softmax_parts, two_sum
from neural_network._validation import LABEL, NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._common import _option
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._focal import _class_prepare, _reduce_row_gradient, _reduce_rows, _rows_of
from neural_network.losses._softmax_checks import _check_rows_sum_to_one, _Checked, _rows

# --------------------------------------------------------------------------- shared pieces


def _indicator(xp: Namespace, mask: Array) -> Array:
    """A boolean array as 0.0/1.0 float64 (the array API does not multiply booleans)."""
    return xp.astype(mask, xp.float64)


def _positions(xp: Namespace, count: int, like: Array) -> Array:
    # On the device of ``like``: a library with several devices refuses to compare arrays
    # that live on different ones.
    return xp.arange(count, device=array_api_compat.device(like))


# --------------------------------------------------------------------------- multiclass hinge, perceptron


def _margin_rows(
    func: str, input: object, target: object, reduction: object, sample_weight: object
) -> tuple[_Checked, Array, Array]:
    """The validated arguments, the (M, C) scores and the (M, C) one-hot target."""
    checked = _class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp
    scores, onehot = _rows_of(checked)
    if checked.target.probabilities is not None and onehot.shape[0]:
        hard = bool(xp.all((onehot == 0.0) | (onehot == 1.0))) and bool(xp.all(xp.sum(onehot, axis=1) == 1.0))
        if not hard:
            raise OutOfRangeError(
                f"{func}: a target of the input's shape must hold one-hot rows (a single 1, zeros "
                "elsewhere); got soft labels. Pass class indices, or target.argmax(axis=1)."
            )
    return checked, scores, onehot


def _violation(xp: Namespace, scores: Array, onehot: Array, margin: float) -> tuple[Array, Array]:
    """``margin + max_{c != t} x_c - x_t`` and the first best other class, row by row.

    The difference is carried exactly (TwoSum), so the result is rounded once from its
    exact value. With a single class there is no other class: the result is ``-inf``.
    """
    others = xp.where(onehot > 0.0, -math.inf, scores)
    best = xp.max(others, axis=1)
    own = xp.sum(onehot * scores, axis=1)  # one non-zero term: exact
    # best = -inf (one class) or best - own beyond the float64 range make TwoSum's error
    # terms inf - inf; the infinite difference is the exact answer there and is kept.
    with np.errstate(over="ignore", invalid="ignore"):
        d, d_error = two_sum(best, 0.0 - own)
        if margin:
            s, s_error = two_sum(margin, d)
            v = s + (s_error + d_error)
        else:
            v = d
        v = xp.where(xp.isinf(d), d, v)
    return v, xp.argmax(others, axis=1)


def _margin_value(func: str, margin: float, input: object, target: object, reduction: object,
                  sample_weight: object) -> Array:
    checked, scores, onehot = _margin_rows(func, input, target, reduction, sample_weight)
    v, _ = _violation(checked.xp, scores, onehot, margin)
    # A float32 loss may exceed float32's range (scores of 3e38 and -3e38): inf, the
    # correctly rounded value, and no warning about the cast that gives it.
    with np.errstate(over="ignore"):
        return _reduce_rows(checked, checked.xp.maximum(v, 0.0) + 0.0)  # + 0.0: no -0.0


def _margin_gradient(func: str, margin: float, input: object, target: object, reduction: object,
                     sample_weight: object) -> Array:
    checked, scores, onehot = _margin_rows(func, input, target, reduction, sample_weight)
    xp = checked.xp
    v, best = _violation(xp, scores, onehot, margin)
    best_hot = _indicator(xp, best[:, None] == _positions(xp, checked.classes, scores)[None, :])
    active = _indicator(xp, v >= 0.0)[:, None]
    return _reduce_row_gradient(checked, active * (best_hot - onehot) + 0.0)


def multiclass_hinge_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Multiclass (Crammer-Singer) hinge loss, optax's ``multiclass_hinge_loss``.

    For scores ``x`` over ``C`` classes and the target class ``t``:

    .. math:: \ell = \max_j \bigl(x_j + [j \ne t]\bigr) - x_t
              = \max\bigl(0,\ 1 + \max_{j \ne t} x_j - x_t\bigr)

    Parameters
    ----------
    input : array_like
        Scores, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; finite.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``; integers, or floats holding
        whole numbers), or one-hot rows of the input's shape (soft labels are refused).
    reduction : {"mean", "sum", "none"}, keyword-only
        Over samples: ``"none"`` gives ``(N, d1, ...)``, the mean divides by ``N`` (by
        ``sum(sample_weight)`` with weights).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else ``(N, d1, ...)``; the input's float dtype.

    Notes
    -----
    optax's ``multiclass_hinge_loss(scores, labels)`` gives the per-sample losses
    (``reduction="none"`` here) and takes the class axis last; for ``(N, C)`` scores the
    two agree. With a single class the loss is 0, as optax's. Each value is rounded once
    from the exact ``1 + x_best - x_t``. It equals :func:`categorical_hinge_loss` for
    ``C >= 2``, which refuses a single class.

    Examples
    --------
    >>> print(multiclass_hinge_loss([[2.0, 1.5, -1.0], [0.0, 3.0, 1.0]], [0, 0], reduction="none"))
    [0.5 4. ]
    """
    return _margin_value("multiclass_hinge_loss", 1.0, input, target, reduction, sample_weight)


def multiclass_hinge_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`multiclass_hinge_loss` with respect to ``input``.

    Where ``1 + x_best - x_t >= 0`` (the kink included), -1 at the target class and +1 at
    the best other class (the first of them on a tie); 0 elsewhere and for a single class.
    Scaled by the sample weights and divided by the mean's denominator; the input's shape
    and dtype.

    Examples
    --------
    >>> print(multiclass_hinge_loss_grad([[2.0, 1.5, -1.0]], [0]))
    [[-1.  1.  0.]]
    """
    return _margin_gradient("multiclass_hinge_loss_grad", 1.0, input, target, reduction, sample_weight)


def multiclass_perceptron_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Multiclass perceptron loss, optax's ``multiclass_perceptron_loss``.

    .. math:: \ell = \max_j x_j - x_t = \max\bigl(0,\ \max_{j \ne t} x_j - x_t\bigr)

    0 when the target class scores highest (ties included), else the gap to the best score.

    Parameters
    ----------
    input : array_like
        Scores, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; finite.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``), or one-hot rows of the input's shape.
    reduction : {"mean", "sum", "none"}, keyword-only
        Over samples, as :func:`multiclass_hinge_loss`.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Notes
    -----
    optax gives the per-sample losses (``reduction="none"``), class axis last. Each value
    is ``max_j x_j - x_t`` rounded once: correctly rounded (``inf`` only where the exact
    difference exceeds the float64 range).

    Examples
    --------
    >>> print(multiclass_perceptron_loss([[2.0, 1.5, -1.0], [0.0, 3.0, 1.0]], [0, 0], reduction="none"))
    [0. 3.]
    """
    return _margin_value("multiclass_perceptron_loss", 0.0, input, target, reduction, sample_weight)


def multiclass_perceptron_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`multiclass_perceptron_loss` with respect to ``input``.

    Where ``max_{j != t} x_j >= x_t`` (a tie included: the perceptron updates on a tie),
    -1 at the target class and +1 at the first best other class; 0 elsewhere. Scaled by
    the sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(multiclass_perceptron_loss_grad([[0.0, 0.0, 0.0]], [1], reduction="sum"))
    [[ 1. -1.  0.]]
    """
    return _margin_gradient("multiclass_perceptron_loss_grad", 0.0, input, target, reduction, sample_weight)


# --------------------------------------------------------------------------- binary sparsemax


def _binary_hint(low: float, high: float) -> str:
    if low == -1.0 and high <= 1.0:
        return " Labels coded as -1/+1? Map them to 0/1 with (y + 1) / 2."
    return " The binary sparsemax loss takes one 0/1 label per score (1 for the positive class)."


BINARY = Domain("labels 0 or 1", 0.0, 1.0, hint=_binary_hint)
"""Labels in {0, 1}: the bounds refuse what lies outside [0, 1], :func:`_check_binary` the rest."""


def _check_binary(func: str, values: object) -> None:
    """Refuse labels strictly between 0 and 1 (the domain has refused the others)."""
    xp, device = _validation.namespace(func, target=values)
    y = _validation.as_real_array(func, "target", values, xp, device)
    if math.prod(y.shape) == 0:
        return
    soft = (y != 0.0) & (y != 1.0)
    if not bool(xp.any(soft)):
        return
    count, where, value = _validation._locate(xp, y, soft)
    raise OutOfRangeError(
        f"{func}: target must hold labels 0 or 1; got {count} value{'s' if count != 1 else ''} "
        f"strictly between (first: target{where} = {value:.6g}). optax's binary sparsemax loss "
        "reads a label as true or false; round soft labels first, e.g. (y >= 0.5)."
    )


def _clipped_plus_one(xp: Namespace, u: Array) -> Array:
    # min(max(u, -1), 1) + 1 lies in [0, 2]: twice the sparse sigmoid of u. Clipping first
    # keeps the square below 4 wherever it is not used (no overflow for huge scores), and
    # u + 1 is exact near u = -1, where the quadratic piece starts.
    return xp.minimum(xp.maximum(u, -1.0), 1.0) + 1.0


def _binary_sparsemax(xp: Namespace, x: Array, y: Array, /) -> Array:
    # sparse_plus(u), u = x (1 - 2y) (-x for a positive label, exact): 0 up to u = -1,
    # (u + 1)^2 / 4 up to u = 1, then u. Since (u + 1)^2 / 4 - u = (u - 1)^2 / 4 >= 0,
    # the three pieces are max(u, (t)^2 / 4) with t the clipped u + 1.
    u = x * (1.0 - 2.0 * y)
    t = _clipped_plus_one(xp, u)
    return xp.maximum(u, 0.25 * (t * t))


def _binary_sparsemax_derivative(xp: Namespace, x: Array, y: Array, /) -> Array:
    # sparse_sigmoid(u) (1 - 2y), which is sparse_sigmoid(x) - y, without the cancellation
    # of that form near 1. "+ 0.0" turns the -0.0 of a positive label into 0.0.
    sign = 1.0 - 2.0 * y
    return 0.5 * _clipped_plus_one(xp, x * sign) * sign + 0.0


_BINARY_SPARSEMAX = ElementwiseLoss(
    name="binary_sparsemax_loss",
    input=Operand("input", REAL),
    target=Operand("target", BINARY),
    value=_binary_sparsemax,
    derivative=_binary_sparsemax_derivative,
)


def binary_sparsemax_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Binary sparsemax loss, optax's ``sparsemax_loss`` (Blondel et al. 2020, sec. 4.4).

    The Fenchel-Young loss of the sparse sigmoid
    ``sparse_sigmoid(x) = min(max((x + 1) / 2, 0), 1)``: with ``u = -x`` for label 1 and
    ``u = x`` for label 0,

    .. math:: \ell = \mathrm{sparse\_plus}(u) = \begin{cases} 0 & u \le -1 \\
              (u + 1)^2 / 4 & -1 < u < 1 \\ u & u \ge 1 \end{cases}

    It is 0 exactly when ``sparse_sigmoid(x)`` equals the label, and differentiable
    everywhere (a Huber-like smoothing of the binary hinge).

    Parameters
    ----------
    input : array_like
        Scores (logits), any shape; finite.
    target : array_like
        Labels 0 or 1, the input's shape.
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, the input's shape (for scores of shape ``(N,)``, one per
        sample); mean = ``sum(w * l) / sum(w)``.

    Notes
    -----
    optax's ``sparsemax_loss(logits, labels)`` (``binary_sparsemax_loss`` in older
    versions) gives the per-element losses (``reduction="none"``) and takes any label
    as true or false; here only 0 and 1 are accepted. The multiclass sparsemax loss is
    :func:`sparsemax_loss`. Each value is within about 1.5 units in the last place.

    Examples
    --------
    >>> print(binary_sparsemax_loss([2.0, 0.0, -0.5, -3.0], [1, 1, 0, 0], reduction="none"))
    [0.     0.25   0.0625 0.    ]
    """
    value = _BINARY_SPARSEMAX(input, target, reduction=reduction, sample_weight=sample_weight)
    _check_binary("binary_sparsemax_loss", target)
    return value


def binary_sparsemax_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`binary_sparsemax_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial x} = \mathrm{sparse\_sigmoid}(x) - y

    (continuous: the loss has no kink), scaled by the weights and, for ``"mean"``,
    divided by ``sum(w)``.

    Examples
    --------
    >>> print(binary_sparsemax_loss_grad([2.0, 0.0, -0.5, -3.0], [1, 1, 0, 0], reduction="none"))
    [ 0.   -0.5   0.25  0.  ]
    """
    gradient = _BINARY_SPARSEMAX.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    _check_binary("binary_sparsemax_loss_grad", target)
    return gradient


# --------------------------------------------------------------------------- safe softmax cross-entropy


LOGIT_OR_MINUS_INF = Domain("logits (finite, or -inf for a class ruled out)", allow_infinite=True)
"""Logits that may be ``-inf`` (``check_values`` lets ``+inf`` through too: refused apart)."""


@dataclass(slots=True)
class _SoftmaxRows:
    """Validated arguments of :func:`safe_softmax_cross_entropy` as (M, C) float64 rows."""

    xp: Namespace
    logits: Array
    labels: Array
    reduction: str
    weight: Array | None  # (M,) float64
    dtype: Any
    sample_shape: tuple[int, ...]
    class_axis: int
    shape: tuple[int, ...]


def _softmax_prepare(
    func: str, input: object, target: object, reduction: object, sample_weight: object
) -> _SoftmaxRows:
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
    logits = _rows(xp, x, class_axis, classes)
    labels = _rows(xp, t, class_axis, classes)
    _check_rows_sum_to_one(func, xp, labels, t.dtype)
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
    return _SoftmaxRows(
        xp=xp, logits=logits, labels=labels, reduction=checked_reduction, weight=w, dtype=x.dtype,
        sample_shape=sample_shape, class_axis=class_axis, shape=shape,
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
    first = _indicator(xp, xp.argmax(logits, axis=1)[:, None] == _positions(xp, logits.shape[1], logits)[None, :])
    return nll, e, rest, first


def _softmax_reduce_values(checked: _SoftmaxRows, values: Array) -> Array:
    xp, w = checked.xp, checked.weight
    if checked.reduction == "none":
        values = xp.reshape(values, checked.sample_shape)
        w = None if w is None else xp.reshape(w, checked.sample_shape)
    with np.errstate(over="ignore"):  # beyond float32's range: inf, the correctly rounded value
        return _reduction.reduce_values(
            xp, values, reduction=checked.reduction, sample_weight=w, dtype=checked.dtype
        )


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
    xp, y = checked.xp, checked.labels
    nll, _, _, _ = _softmax_pieces(xp, checked.logits)
    values = xp.sum(y * xp.where(y > 0.0, nll, 0.0), axis=1)
    return _softmax_reduce_values(checked, values)


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

    Examples
    --------
    >>> print(safe_softmax_cross_entropy_grad([[0.0, 0.0, float("-inf")]], [[0.0, 1.0, 0.0]]))
    [[ 0.5 -0.5  0. ]]
    """
    func = "safe_softmax_cross_entropy_grad"
    checked = _softmax_prepare(func, input, target, reduction, sample_weight)
    xp, y = checked.xp, checked.labels
    _, e, rest, first = _softmax_pieces(xp, checked.logits)
    p = e / (1.0 + rest)
    complement = rest / (1.0 + rest)  # 1 - p at the top class, exact where p rounds to 1
    total = xp.sum(y, axis=1, keepdims=True)
    others = xp.sum(xp.where(first > 0.0, 0.0, y), axis=1, keepdims=True)
    gradient = xp.where(first > 0.0, others - total * complement, total * p - y)
    w = checked.weight
    # The mean divides by the number of samples (rows), or by their summed weights: the
    # same denominator as the loss's, not the number of logits.
    mean_weight = xp.ones_like(gradient[:, 0]) if w is None else w
    reduced = _reduction.reduce_derivatives(
        xp, gradient, reduction=checked.reduction, sample_weight=None if w is None else w[:, None],
        dtype=checked.dtype, mean_weight=mean_weight,
    )
    laid_out = xp.reshape(reduced, (*checked.sample_shape, checked.shape[checked.class_axis]))
    return xp.moveaxis(laid_out, -1, checked.class_axis)


# --------------------------------------------------------------------------- circle loss


@dataclass(slots=True)
class _CircleArguments:
    xp: Namespace
    x: Array  # (N, D) float64
    labels: Array  # (N,) float64, whole numbers
    gamma: float
    margin: float
    remove_diagonal: bool
    reduction: str
    weight: Array | None  # (N,) float64
    dtype: Any


def _circle_prepare(
    func: str, embeddings: object, labels: object, gamma: object, margin: object, remove_diagonal: object,
    reduction: object, sample_weight: object,
) -> _CircleArguments:
    checked_reduction = _validation.check_reduction(func, reduction)
    g = _option(func, "gamma", gamma, meaning="a positive finite number scaling the similarities (Keras's "
                "default 80)", low=0.0, low_included=False)
    m = _option(func, "margin", margin, meaning="a finite real number, the relaxation margin (Keras's default 0.4)",
                low=-math.inf, low_included=False)
    if not isinstance(remove_diagonal, (bool, np.bool_)):
        raise InvalidOptionError(
            f"{func}: remove_diagonal must be True or False; got {describe(remove_diagonal)}. "
            "True leaves each embedding's pair with itself out of its positives."
        )
    xp, device = _validation.namespace(func, embeddings=embeddings, labels=labels, sample_weight=sample_weight)
    x = _validation.as_real_array(func, "embeddings", embeddings, xp, device)
    y = _validation.as_real_array(func, "labels", labels, xp, device)
    if x.ndim != 2:
        raise ShapeMismatchError(
            f"{func}: embeddings must have shape (batch, features); got shape {tuple(x.shape)}. "
            "Flatten each embedding to one row, e.g. embeddings.reshape(len(embeddings), -1)."
        )
    n = x.shape[0]
    if y.ndim != 1 or y.shape[0] != n:
        raise ShapeMismatchError(
            f"{func}: labels must hold one integer class label per embedding, shape ({n},); got shape "
            f"{tuple(y.shape)}. Embeddings with equal labels form the positive pairs."
        )
    if n and x.shape[1] == 0:
        raise ShapeMismatchError(f"{func}: embeddings must have at least one feature; got shape {tuple(x.shape)}.")
    _validation.check_values(func, "embeddings", x, xp, REAL)
    _validation.check_values(func, "labels", y, xp, REAL)
    y64 = _validation.working(xp, y)
    if n and not bool(xp.all(y64 == xp.floor(y64))):
        count, where, value = _validation._locate(xp, y64, y64 != xp.floor(y64))
        raise InvalidTypeError(
            f"{func}: labels must hold integer class labels; got {count} fractional value"
            f"{'s' if count != 1 else ''} (first: labels{where} = {value:.6g}). Keras casts them to "
            "int32, truncating; pass the class of each embedding as a whole number."
        )
    w = None
    if sample_weight is not None:
        s = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
        if tuple(s.shape) != (n,):
            raise ShapeMismatchError(
                f"{func}: sample_weight must hold one weight per embedding (anchor), shape ({n},); got "
                f"sample_weight.shape={tuple(s.shape)}."
            )
        _, largest = _validation.check_values(func, "sample_weight", s, xp, NONNEGATIVE)
        w = _validation.working(xp, s)
        if checked_reduction == "mean":
            w = _reduction.scale_weights(w, largest, n)
    return _CircleArguments(
        xp=xp, x=_validation.working(xp, x), labels=y64, gamma=g, margin=m,
        remove_diagonal=bool(remove_diagonal), reduction=checked_reduction, weight=w, dtype=x.dtype,
    )


def _masked_logsumexp(xp: Namespace, values: Array, mask: Array) -> Array:
    """Row-wise ``log sum exp`` of ``values`` over ``mask`` (a column): ``-inf`` for an empty row,
    ``inf`` where a value is (the exact answer: nothing cancels it)."""
    top = xp.max(xp.where(mask, values, -math.inf), axis=1, keepdims=True)
    finite = xp.isfinite(top)
    shift = xp.where(finite, top, 0.0)
    summed = xp.sum(xp.where(mask, xp.exp(xp.where(mask, values, 0.0) - shift), 0.0), axis=1, keepdims=True)
    return xp.where(finite, shift + xp.log(xp.where(summed > 0.0, summed, 1.0)), top)


@dataclass(slots=True)
class _CircleParts:
    s: Array  # (N, N) similarities x_i . x_j
    d: Array  # (N, N) cosine distances max(1 - s, 0)
    positive: Array  # (N, N) bool
    negative: Array  # (N, N) bool
    a: Array  # (N, N) positive logits -gamma alpha_p (m - d)
    b: Array  # (N, N) negative logits gamma alpha_n (1 - m - d)
    lse_p: Array  # (N, 1)
    lse_n: Array  # (N, 1)
    z: Array  # (N,) lse_p + lse_n, -inf for an anchor without a positive or without a negative
    valid: Array  # (N,) bool: the anchor has both


def _circle_parts(args: _CircleArguments) -> _CircleParts:
    xp, x, y, g, m = args.xp, args.x, args.labels, args.gamma, args.margin
    n = x.shape[0]
    rows = _positions(xp, n, x)
    same = y[:, None] == y[None, :]
    positive = same & (rows[:, None] != rows[None, :]) if args.remove_diagonal else same
    negative = ~same
    # Embeddings far from unit norm (beyond about 1e154) make the similarities and the
    # logits overflow; the loss is then inf, as its exact value rounds, and the
    # log-sum-exp keeps that infinity rather than making a NaN of it.
    with np.errstate(over="ignore", invalid="ignore"):
        s = x @ xp.permute_dims(x, (1, 0))
        d = xp.maximum(1.0 - s, 0.0)
        alpha_p = xp.maximum(m + d, 0.0)
        alpha_n = xp.maximum(1.0 + m - d, 0.0)
        # A weight of 0 makes its term exactly 0, even against an infinite distance.
        a = xp.where(alpha_p > 0.0, (-g) * alpha_p * (m - d), 0.0)
        b = xp.where(alpha_n > 0.0, g * alpha_n * (1.0 - m - d), 0.0)
        lse_p = _masked_logsumexp(xp, a, positive)
        lse_n = _masked_logsumexp(xp, b, negative)
        valid = xp.any(positive, axis=1) & xp.any(negative, axis=1)
        z = xp.where(valid, xp.reshape(lse_p + lse_n, (n,)), -math.inf)
    return _CircleParts(s=s, d=d, positive=positive, negative=negative, a=a, b=b, lse_p=lse_p, lse_n=lse_n,
                        z=z, valid=valid)


def _circle_mean_weight(args: _CircleArguments, valid: Array, func: str) -> Array:
    """What each anchor adds to the mean's denominator: 1 (or its weight) if it has a positive
    and a negative, else 0, as Keras's mask ``loss > 0`` counts it."""
    xp = args.xp
    counted = _indicator(xp, valid)
    mean_weight = counted if args.weight is None else args.weight * counted
    if args.reduction == "mean" and (math.prod(mean_weight.shape) == 0 or float(xp.max(mean_weight)) == 0.0):
        raise EmptyInputError(
            f"{func}: reduction='mean' divides by the number of anchors with at least one positive (another "
            "embedding of its label) and one negative (another label), weighted by sample_weight, and it is "
            "0. Keras returns 0 here; use reduction='sum' for that, or check the batch's labels."
        )
    return mean_weight


def _softplus(xp: Namespace, z: Array) -> Array:
    """``log(1 + exp(z))``: two non-negative terms, no overflow; 0 at ``-inf``."""
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(0.0 - xp.abs(z)))


def circle_loss(
    embeddings: object,
    labels: object,
    *,
    gamma: float = 80.0,
    margin: float = 0.4,
    remove_diagonal: bool = True,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Circle loss (Sun et al. 2020) over a batch of embeddings, Keras's ``Circle``.

    With the cosine distances ``d_ij = max(1 - x_i . x_j, 0)`` of the (unit-norm)
    embeddings, the positives ``P(i)`` of anchor ``i`` (the other embeddings of its label;
    itself too with ``remove_diagonal=False``) and its negatives ``N(i)`` (other labels):

    .. math:: \ell_i = \mathrm{softplus}\Bigl(
              \log \sum_{j \in P(i)} e^{-\gamma\, [m + d_{ij}]_+ (m - d_{ij})}
              + \log \sum_{k \in N(i)} e^{\gamma\, [1 + m - d_{ik}]_+ (1 - m - d_{ik})}\Bigr)

    that is, the paper's ``log(1 + sum_j sum_k exp(gamma (alpha_n (s_n - Delta_n) -
    alpha_p (s_p - Delta_p))))`` with ``s = 1 - d``, ``Delta_p = 1 - m``, ``Delta_n = m``.
    An anchor without a positive or without a negative has loss 0.

    Parameters
    ----------
    embeddings : array_like
        Shape ``(N, D)``, finite. Keras expects L2-normalized rows (e.g. after
        ``UnitNormalization``) and so does the formula; they are used as given.
    labels : array_like
        Shape ``(N,)``: the integer class of each embedding.
    gamma : float, keyword-only
        The scale, positive (Keras's default 80).
    margin : float, keyword-only
        The relaxation margin ``m`` (Keras's default 0.4).
    remove_diagonal : bool, keyword-only
        Leave each embedding's pair with itself out of its positives (default True, as Keras).
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"none"`` gives the loss of each anchor, shape ``(N,)``. The mean divides the sum
        by the number of anchors that have a positive and a negative (Keras masks the
        others out of its mean), weighted by ``sample_weight`` if given.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per anchor, shape ``(N,)``.

    Notes
    -----
    Keras's mean counts the anchors whose loss is above 0 (its mask ``loss > 0``): the
    same anchors but for one whose loss underflows to 0 in float32, which is counted here.
    With sample weights Keras divides by that count; here by the summed weights of those
    anchors. A mean over no such anchor raises :class:`~neural_network.errors.EmptyInputError`
    (Keras: 0). Keras's functional ``circle`` also takes reference embeddings
    (``ref_embeddings``, ``ref_labels``); the ``Circle`` loss does not, nor does this one.
    Rows of norm beyond about 1e154 overflow the similarities: a loss that is then ``inf``
    has no gradient (NaN entries). Memory and time grow as ``N**2``.

    Examples
    --------
    >>> import math
    >>> h = math.sqrt(0.5)
    >>> x = [[1.0, 0.0], [h, h], [0.0, 1.0], [-h, h]]
    >>> print(circle_loss(x, [0, 0, 1, 1], gamma=1.0, reduction="none"))
    [1.00050916 1.12999767 1.12999767 1.00050916]
    """
    func = "circle_loss"
    args = _circle_prepare(func, embeddings, labels, gamma, margin, remove_diagonal, reduction, sample_weight)
    xp = args.xp
    if args.x.shape[0] == 0:
        values = args.labels  # an empty float64 array, on the arguments' device
        mean_weight = _circle_mean_weight(args, args.labels > 0.0, func)
    else:
        parts = _circle_parts(args)
        values = _softplus(xp, parts.z)
        mean_weight = _circle_mean_weight(args, parts.valid, func)
    with np.errstate(over="ignore"):  # beyond float32's range: inf, the correctly rounded value
        return _reduction.reduce_values(
            xp, values, reduction=args.reduction, sample_weight=args.weight, dtype=args.dtype,
            mean_weight=mean_weight,
        )


def circle_loss_grad(
    embeddings: object,
    labels: object,
    *,
    gamma: float = 80.0,
    margin: float = 0.4,
    remove_diagonal: bool = True,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`circle_loss` with respect to ``embeddings``, shape ``(N, D)``.

    With ``z_i`` the argument of the softplus and ``q``, ``r`` the softmax weights of the
    positive and negative terms, anchor ``i``'s loss has derivative
    ``sigmoid(z_i) (q_ij da_ij/dd + r_ij db_ij/dd) dd/ds`` with respect to
    ``s_ij = x_i . x_j``, which reaches ``x_i`` and ``x_j`` through ``ds_ij = x_j dx_i + x_i dx_j``.
    The three clamps (``max(1 - s, 0)`` and the two ``[.]_+``) pass the gradient at their
    kink, as TensorFlow's ``maximum`` does in Keras. Scaled by the anchor weights and
    divided by the mean's denominator. The embeddings are not normalized here, so the
    gradient is not projected onto the sphere: normalize in the model, as Keras advises.

    Examples
    --------
    >>> import math
    >>> h = math.sqrt(0.5)
    >>> g = circle_loss_grad([[1.0, 0.0], [h, h], [0.0, 1.0], [-h, h]], [0, 0, 1, 1], gamma=1.0)
    >>> print(g.shape, g.dtype)
    (4, 2) float64
    """
    func = "circle_loss_grad"
    args = _circle_prepare(func, embeddings, labels, gamma, margin, remove_diagonal, reduction, sample_weight)
    xp, x, g, m = args.xp, args.x, args.gamma, args.margin
    if x.shape[0] == 0:
        _circle_mean_weight(args, args.labels > 0.0, func)
        return xp.astype(x, args.dtype, copy=False)
    parts = _circle_parts(args)
    mean_weight = _circle_mean_weight(args, parts.valid, func)
    d = parts.d
    with np.errstate(over="ignore", invalid="ignore"):
        finite_p = xp.where(xp.isfinite(parts.lse_p), parts.lse_p, 0.0)
        finite_n = xp.where(xp.isfinite(parts.lse_n), parts.lse_n, 0.0)
        q = xp.where(parts.positive, xp.exp(xp.where(parts.positive, parts.a, 0.0) - finite_p), 0.0)
        r = xp.where(parts.negative, xp.exp(xp.where(parts.negative, parts.b, 0.0) - finite_n), 0.0)
    # Where its weight is active, a = g (d^2 - m^2) and b = g ((1 - d)^2 - m^2): their
    # slopes in d are 2 g d and 2 g (d - 1), and 0 where the weight is clamped to 0.
    # Written so, a clamped term gives 0 even at an infinite distance (0 * inf is NaN).
    # Pairs outside the masks get slope 0 too, so that their q = 0 never meets an infinity.
    da = xp.where(parts.positive & (m + d >= 0.0), (2.0 * g) * d, 0.0)
    db = xp.where(parts.negative & (1.0 + m - d >= 0.0), (2.0 * g) * (d - 1.0), 0.0)
    dd = 0.0 - _indicator(xp, 1.0 - parts.s >= 0.0)
    sig = sigmoid_pair(xp, parts.z)[0]  # 0 where z = -inf: an anchor without loss
    # Only an anchor whose loss is inf (embeddings far from unit norm) can meet inf * 0
    # here; its gradient is undefined, and NumPy is not to warn about it.
    with np.errstate(over="ignore", invalid="ignore"):
        G = sig[:, None] * (q * da + r * db) * dd
        # The weights of a sum scaled (and the result brought back): huge ones do not
        # overflow the products below, where rows of opposite signs would make inf - inf.
        w, exponent = _reduction.sum_weights(xp, args.weight, args.reduction)
        if w is not None:
            G = w[:, None] * xp.where(w[:, None] == 0.0, 0.0, G)
        if args.reduction == "mean":
            G = G / _reduction.total(xp, mean_weight)
        dx = _reduction.unscale(G @ x + xp.permute_dims(G, (1, 0)) @ x, exponent)
        return xp.astype(dx, args.dtype, copy=False)

