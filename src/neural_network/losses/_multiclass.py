r"""Multiclass margin losses, the binary sparsemax loss and the safe softmax cross-entropy.

* :func:`multiclass_hinge_loss`: optax's ``multiclass_hinge_loss`` (Crammer & Singer's
  multiclass hinge), ``max_j (x_j + [j != t]) - x_t``.
* :func:`multiclass_perceptron_loss`: optax's ``multiclass_perceptron_loss`` (Collins's
  structured perceptron), ``max_j x_j - x_t``.
* :func:`binary_sparsemax_loss`: optax's binary ``sparsemax_loss`` (``binary_sparsemax_loss``
  is its older name there), the Fenchel-Young loss of the sparse sigmoid.
* :func:`safe_softmax_cross_entropy`: optax's ``safe_softmax_cross_entropy``: a softmax
  cross-entropy over probability targets that is finite where a logit is ``-inf`` and its
  target 0 (``0 log 0 = 0``).
* :func:`circle_loss`: Keras's ``Circle`` (Sun et al. 2020) over a batch of embeddings, in
  :mod:`neural_network.losses._circle` (a loss over pairs of a batch), imported here.

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

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import softmax_parts, two_sum
from neural_network._validation import LABEL, NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import EmptyInputError, NonFiniteError, OutOfRangeError, ShapeMismatchError
from neural_network.losses._circle import circle_loss as circle_loss
from neural_network.losses._circle import circle_loss_grad as circle_loss_grad
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import (
    RowArguments,
    RowTarget,
    as_rows,
    check_rows_sum_to_one,
    class_prepare,
    reduce_row_gradient,
    reduce_rows,
    rows_of,
)
from neural_network.losses._softmax_math import softmax_reference_grad, softmax_reference_parts

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
) -> tuple[RowArguments, Array, Array]:
    """The validated arguments, the (M, C) scores and the (M, C) one-hot target."""
    checked = class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp
    scores, onehot = rows_of(checked)
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
        return reduce_rows(checked, checked.xp.maximum(v, 0.0) + 0.0)  # + 0.0: no -0.0


def _margin_gradient(func: str, margin: float, input: object, target: object, reduction: object,
                     sample_weight: object) -> Array:
    checked, scores, onehot = _margin_rows(func, input, target, reduction, sample_weight)
    xp = checked.xp
    v, best = _violation(xp, scores, onehot, margin)
    best_hot = _indicator(xp, best[:, None] == _positions(xp, checked.classes, scores)[None, :])
    active = _indicator(xp, v >= 0.0)[:, None]
    return reduce_row_gradient(checked, active * (best_hot - onehot) + 0.0)


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


def _margin_reference_parts(xp: Namespace, x: Array, y: Array, margin: float) -> tuple[Array, Array, Array]:
    """``v = margin + max_{j != y} x_j - x_y``, the one-hot target and the best other classes."""
    target = y[:, None] == xp.arange(x.shape[1])[None, :]
    others = xp.where(target, -xp.inf, x)
    best = xp.max(others, axis=1, keepdims=True)
    return margin + best[:, 0] - xp.take_along_axis(x, y[:, None], axis=1)[:, 0], target, others == best


def _hinge_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.maximum(_margin_reference_parts(xp, x, y, 1.0)[0], 0.0)


def _hinge_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    v, target, best = _margin_reference_parts(xp, x, y, 1.0)  # +1 at the best other class, -1 at y
    return xp.where(v[:, None] >= 0, xp.where(best, 1.0, 0.0) - xp.where(target, 1.0, 0.0), 0.0)


def _perceptron_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.maximum(_margin_reference_parts(xp, x, y, 0.0)[0], 0.0)


def _perceptron_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    v, target, best = _margin_reference_parts(xp, x, y, 0.0)
    return xp.where(v[:, None] >= 0, xp.where(best, 1.0, 0.0) - xp.where(target, 1.0, 0.0), 0.0)


register("multiclass_hinge_loss", _hinge_reference, _hinge_reference_grad)
register("multiclass_perceptron_loss", _perceptron_reference, _perceptron_reference_grad)


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


def _binary_sparsemax_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    u = xp.where(y > 0, -x, x)  # sparse_plus(u): 0, (u + 1)^2 / 4, then u
    return xp.where(u <= -1, 0.0, xp.where(u < 1, (u + 1) * (u + 1) / 4, u))


def _binary_sparsemax_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.clip((x + 1) / 2, min=0.0, max=1.0) - y  # sparse_sigmoid(x) - y


register("binary_sparsemax_loss", _binary_sparsemax_reference, _binary_sparsemax_reference_grad)


# --------------------------------------------------------------------------- safe softmax cross-entropy


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
    first = _indicator(xp, xp.argmax(logits, axis=1)[:, None] == _positions(xp, logits.shape[1], logits)[None, :])
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
