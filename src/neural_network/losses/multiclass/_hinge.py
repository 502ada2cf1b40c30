r"""The multiclass hinges: every loss that takes a row of class scores and a margin.

* :func:`multiclass_hinge_loss`: optax's ``multiclass_hinge_loss`` (Crammer & Singer's
  multiclass hinge), ``max_j (x_j + [j != t]) - x_t``.
* :func:`multiclass_perceptron_loss`: optax's ``multiclass_perceptron_loss`` (Collins's
  structured perceptron), ``max_j x_j - x_t``.
* :func:`categorical_hinge_loss`: Keras's ``CategoricalHinge``,
  ``max(0, 1 + max_{j != t} x_j - x_t)`` for one-hot targets.
* :func:`multi_margin_loss`: PyTorch's ``multi_margin_loss`` (Weston and Watkins's hinge
  against every other class), with ``p = 1`` or ``2``.

The first three share the validation of :func:`cross_entropy` (class indices, or one-hot
rows; the class axis is axis 1 of ``(N, C, d1, ...)``, axis 0 of ``(C,)``);
``multi_margin_loss`` takes PyTorch's ``(N, C)`` or ``(C,)`` scores and class indices,
checked by :mod:`neural_network.losses.multiclass._scores`. Every value and derivative is
computed in float64 and rounded once to the input's dtype, so float32 stays float32.

**Gradients at the kinks.** Each loss here is a maximum (or clamps with ``max(., 0)``).
Where the maximum is attained twice, the gradient taken is that of the *active* side, as in
:mod:`neural_network.losses.classification._margin`: a margin violated exactly (``v == 0``) counts as
violated, and among tied best other classes the first one gets the +1. Those are the
sub-gradients PyTorch's ``clamp_min`` and TensorFlow's ``maximum`` give (JAX, hence optax,
splits a tie evenly instead); for the perceptron it is what lets a model whose scores all
start equal learn at all. ``multi_margin_loss`` follows PyTorch's kernel instead: a term
counts only where its argument is strictly positive, in the value and in the gradient (at
an argument exactly 0 that term's gradient is 0), so that its gradients match autograd's.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from neural_network import _validation
from neural_network._numerics import two_sum
from neural_network._validation import Array, Namespace
from neural_network.errors import (
    InvalidOptionError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._common import indicator, real_option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import (
    RowArguments,
    class_prepare,
    reduce_row_gradient,
    reduce_rows,
    rows_of,
)
from neural_network.losses.multiclass._scores import (
    check_class_weights,
    class_indices,
    hinge_argument,
    onehot_rows,
    positions,
    score_rows,
)

# --------------------------------------------------------------------------- shared pieces

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
    best_hot = indicator(xp, best[:, None] == positions(xp, checked.classes, scores)[None, :])
    active = indicator(xp, v >= 0.0)[:, None]
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


# --------------------------------------------------------------------------- multi margin


def _power(func: str, p: object) -> int:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or float(p) not in (1.0, 2.0):
        raise InvalidOptionError(
            f"{func}: p must be 1 (the hinge) or 2 (the squared hinge), as in PyTorch; got p={describe(p)}."
        )
    return int(float(p))


def _multi_margin_prepare(func: str, input: object, target: object, p: object, margin: object, weight: object,
                          reduction: object, sample_weight: object
                          ) -> tuple[RowArguments, int, tuple[Array, Array, Array], Array | int]:
    """The rows, ``p``, and ``z_j = margin - x_y + x_j`` scaled by ``2**-exponent``, where it
    counts (times the row's class weight) and the one-hot target; and ``exponent``.

    ``exponent`` (an (N, 1) array, or 0 for none) is 0 unless ``z``, its square or a
    row's sum of them could overflow where the loss (divided by ``C``) does not: scores
    near the float64 range, or ``p = 2`` and scores beyond about 2**500. The scaling of
    such a row by a power of two is exact (but for its subnormal scores, which are then
    far below its largest term), and undone once at the end.
    """
    power = _power(func, p)
    m = real_option(func, "margin", margin, meaning="the margin by which the target's score must lead: "
                "a finite real number", low=-math.inf, low_included=True)
    rows = score_rows(func, input, reduction, target=target, weight=weight, sample_weight=sample_weight)
    xp = rows.xp
    shape = () if rows.class_axis == 0 else (rows.samples,)
    indices = class_indices(rows, "target", target, shape, 0)
    check_class_weights(rows, weight, sample_weight)
    onehot = onehot_rows(rows, indices)
    exponent: Array | int = 0
    scores, shifted_margin = rows.scores, m
    if rows.samples:
        half = 0.5 * abs(m) + xp.max(xp.abs(rows.scores), axis=1, keepdims=True)  # each row's |z| <= 2 half
        room = 1020.0 - math.log2(rows.classes) if power == 1 else (1020.0 - math.log2(rows.classes)) / 2
        with np.errstate(divide="ignore"):
            needed = xp.maximum(xp.floor(xp.log2(half)) + (3.0 - math.floor(room)), 0.0)
        if float(xp.max(_validation.detached(needed))) > 0:  # rows near the range: scaled by 2**-exponent, exactly
            exponent = needed
            scale = 2.0 ** (0.0 - needed)
            scores, shifted_margin = rows.scores * scale, m * scale
    own = xp.sum(onehot * scores, axis=1)  # one non-zero term: exact
    z = hinge_argument(xp, shifted_margin, own[:, None], scores)
    active = xp.astype((z > 0.0) & (onehot == 0.0), xp.float64)
    if rows.weight is not None:  # PyTorch scales the whole row by the weight of its target class
        row_weight = xp.sum(onehot * rows.weight[None, :], axis=1)
        active = active * row_weight[:, None]
    return rows, power, (z, active, onehot), exponent


def _unscaled(xp: Namespace, values: Array, exponent: Array | int) -> Array:
    """``values * 2**exponent`` (per row), in two exact steps (inf where the result overflows)."""
    if isinstance(exponent, int):
        return values
    first = xp.floor(exponent / 2)
    if values.ndim == 1:
        exponent, first = exponent[:, 0], first[:, 0]
    with np.errstate(over="ignore"):
        return (values * 2.0**first) * 2.0 ** (exponent - first)


def multi_margin_loss(
    input: object,
    target: object,
    *,
    p: int = 1,
    margin: float = 1.0,
    weight: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Multi-class margin loss: ``torch.nn.functional.multi_margin_loss``.

    .. math:: \ell_n = \frac{w_{y_n}}{C} \sum_{j \ne y_n} \max\bigl(0,\ \text{margin} - x_{n y_n} + x_{nj}\bigr)^p

    Parameters
    ----------
    input : array_like
        Scores, shape ``(N, C)`` or ``(C,)``; finite.
    target : array_like
        Class indices 0 to ``C - 1``, shape ``(N,)`` (``()`` for a ``(C,)`` input).
    p : {1, 2}, keyword-only
        1 for the hinge (default), 2 for the squared hinge.
    margin : float, keyword-only
        A finite real number (default 1.0).
    weight : array_like, optional, keyword-only
        One non-negative weight per class, shape ``(C,)``; sample ``n``'s loss is scaled by
        the weight of its target class ``w[y_n]`` (applied after the power, as PyTorch's
        kernel does; its documentation puts it inside). The mean still divides by ``N``.
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample; the mean is then ``sum(s * l) / sum(s)``.

    Notes
    -----
    Each argument ``margin - x_y + x_j`` is rounded once from its exact value (PyTorch
    rounds twice, in the input's dtype); a term counts only where it is strictly
    positive. The target class itself never contributes (its term would be ``margin``).
    A row whose arguments, squares or sums could overflow where the loss does not (scores
    near 1e308, or beyond about 1e150 with ``p=2``) is scaled by a power of two first:
    scores of -1e308 and 1e308 against class 0 give 1e308, where PyTorch gives ``inf``.

    Examples
    --------
    >>> print(multi_margin_loss([[0.1, 0.2, 0.4, 0.8]], [3], reduction="none"))
    [0.325]
    """
    func = "multi_margin_loss"
    rows, power, (z, active, _), exponent = _multi_margin_prepare(
        func, input, target, p, margin, weight, reduction, sample_weight
    )
    xp = rows.xp
    hinge = xp.where(active > 0.0, z, 0.0)
    with np.errstate(over="ignore"):  # a square beyond the float64 range is inf, the exact answer
        terms = active * (hinge if power == 1 else hinge * hinge)
    return reduce_rows(rows, _unscaled(xp, xp.sum(terms, axis=1) / float(rows.classes), power * exponent))


def multi_margin_loss_grad(
    input: object,
    target: object,
    *,
    p: int = 1,
    margin: float = 1.0,
    weight: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`multi_margin_loss` with respect to ``input``.

    For ``j != y`` with ``z_j = margin - x_y + x_j > 0``:
    ``d/dx_j = w_y p z_j^(p-1) / C``, and ``d/dx_y`` is minus their sum; 0 elsewhere
    (at ``z_j == 0`` too, as PyTorch's kernel). Scaled by the sample weights and, for
    ``"mean"``, divided by ``N`` (or ``sum(sample_weight)``).

    Examples
    --------
    >>> print(multi_margin_loss_grad([[0.1, 0.2, 0.4, 0.8]], [3], reduction="sum"))
    [[ 0.25  0.25  0.25 -0.75]]
    """
    func = "multi_margin_loss_grad"
    rows, power, (z, active, onehot), exponent = _multi_margin_prepare(
        func, input, target, p, margin, weight, reduction, sample_weight
    )
    xp = rows.xp
    slope = active if power == 1 else active * (2.0 * xp.where(active > 0.0, z, 0.0))
    gradient = xp.where(onehot > 0.0, -xp.sum(slope, axis=1, keepdims=True), slope)
    return reduce_row_gradient(rows, _unscaled(xp, gradient / float(rows.classes), (power - 1) * exponent))


def _multi_margin_reference_parts(xp: Namespace, x: Array, y: Array, margin: float) -> tuple[Array, Array]:
    """``z_j = margin - x_y + x_j`` and where it counts: ``j != y`` and ``z_j > 0``."""
    z = margin - xp.take_along_axis(x, y[:, None], axis=1) + x
    return z, (z > 0) & (y[:, None] != xp.arange(x.shape[1])[None, :])


def _multi_margin_reference(xp: Namespace, x: Array, y: Array, /, *, p: int = 1, margin: float = 1.0) -> Array:
    z, counted = _multi_margin_reference_parts(xp, x, y, margin)
    return xp.sum(xp.where(counted, z, 0.0) ** p, axis=1) / x.shape[1]


def _multi_margin_reference_grad(xp: Namespace, x: Array, y: Array, /, *, p: int = 1, margin: float = 1.0) -> Array:
    z, counted = _multi_margin_reference_parts(xp, x, y, margin)
    slope = xp.where(counted, p * z ** (p - 1), 0.0) / x.shape[1]  # d/dx_j; d/dx_y is minus their sum
    return xp.where(y[:, None] == xp.arange(x.shape[1])[None, :], -xp.sum(slope, axis=1, keepdims=True), slope)


register("multi_margin_loss", _multi_margin_reference, _multi_margin_reference_grad)


# --------------------------------------------------------------------------- categorical hinge


def _categorical_hinge_rows(func: str, input: object, target: object, reduction: object, sample_weight: object) -> Any:
    """The validated arguments, the (M, C) scores and the (M, C) one-hot target."""
    checked = class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp
    if checked.classes < 2:
        raise ShapeMismatchError(
            f"{func}: input must have at least 2 classes (the margin is against the best other "
            f"class); got {checked.classes}. For a single binary score use hinge_loss."
        )
    scores, onehot = rows_of(checked)
    if checked.target.probabilities is not None and onehot.shape[0]:
        hard = bool(xp.all((onehot == 0.0) | (onehot == 1.0))) and bool(xp.all(xp.sum(onehot, axis=1) == 1.0))
        if not hard:
            raise OutOfRangeError(
                f"{func}: a target of the input's shape must hold one-hot rows (a single 1, zeros "
                "elsewhere); got soft labels. Pass class indices, or target.argmax(axis=1)."
            )
    return checked, scores, onehot


def _categorical_hinge_margin(xp: Namespace, scores: Array, onehot: Array) -> tuple[Array, Array]:
    """``1 + max_{c != t} x_c - x_t`` rounded once from its exact value, and the best other class."""
    others = xp.where(onehot > 0.0, -math.inf, scores)
    best = xp.max(others, axis=1)
    own = xp.sum(onehot * scores, axis=1)  # one non-zero term: exact
    with np.errstate(over="ignore", invalid="ignore"):
        d, d_error = two_sum(best, -own)
        s, s_error = two_sum(1.0, d)
        v = s + (s_error + d_error)
        v = xp.where(xp.isinf(d), d, v)  # beyond the float64 range: inf, the exact answer
    return v, xp.argmax(others, axis=1)


def categorical_hinge_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Categorical (Crammer-Singer) hinge loss, Keras's ``CategoricalHinge``.

    .. math:: \ell_n = \max\bigl(0,\ 1 + \max_{c \ne t_n} x_{nc} - x_{n t_n}\bigr)

    Parameters
    ----------
    input : array_like
        Scores, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``, with ``C >= 2``; finite.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``), or one-hot rows of the input's
        shape (soft labels are refused).
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over samples; ``"none"`` gives ``(N, d1, ...)``.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Notes
    -----
    Keras computes ``max(0, 1 + max((1 - y) * x) - sum(y * x))``: its "best other class"
    includes the 0 it leaves at the target's place, so where every other score is
    negative Keras's loss is larger than this one (scores ``[-1, -2]``, target 0: Keras 2,
    here 0). For non-negative scores (probabilities, Keras's documented input) the two
    agree. Each element is rounded once from the exact ``1 + x_best - x_t``.

    Examples
    --------
    >>> print(categorical_hinge_loss([[2.0, 1.5, -1.0], [0.0, 3.0, 1.0]], [0, 0], reduction="none"))
    [0.5 4. ]
    """
    func = "categorical_hinge_loss"
    checked, scores, onehot = _categorical_hinge_rows(func, input, target, reduction, sample_weight)
    v, _ = _categorical_hinge_margin(checked.xp, scores, onehot)
    return reduce_rows(checked, checked.xp.maximum(v, 0.0))


def categorical_hinge_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`categorical_hinge_loss` with respect to ``input``.

    Where the margin is violated (``1 + x_best - x_t >= 0``, the kink included, as every
    hinge here), -1 at the target class and +1 at the best other class (the first of them
    on a tie); 0 elsewhere. Scaled by the sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(categorical_hinge_loss_grad([[2.0, 1.5, -1.0]], [0]))
    [[-1.  1.  0.]]
    """
    func = "categorical_hinge_loss_grad"
    checked, scores, onehot = _categorical_hinge_rows(func, input, target, reduction, sample_weight)
    xp = checked.xp
    v, best = _categorical_hinge_margin(xp, scores, onehot)
    positions = xp.arange(checked.classes, device=checked.device)
    best_hot = indicator(xp, best[:, None] == positions[None, :])
    active = indicator(xp, v >= 0.0)[:, None]
    return reduce_row_gradient(checked, active * (best_hot - onehot) + 0.0)


def _categorical_hinge_reference_parts(xp: Namespace, x: Array, t: Array) -> tuple[Array, Array, Array]:
    """For scores ``(N, C)`` and class indices ``(N,)``: the target mask, the others' scores, ``1 + best - own``."""
    target = xp.arange(x.shape[1]) == t[:, None]
    others = xp.where(target, -xp.inf, x)
    best = xp.max(others, axis=1, keepdims=True)
    return target, others == best, 1 + best - xp.take_along_axis(x, t[:, None], axis=1)


def _categorical_hinge_reference(xp: Namespace, x: Array, t: Array, /) -> Array:
    return xp.maximum(_categorical_hinge_reference_parts(xp, x, t)[2][:, 0], 0.0)


def _categorical_hinge_reference_grad(xp: Namespace, x: Array, t: Array, /) -> Array:
    target, best, v = _categorical_hinge_reference_parts(xp, x, t)
    return xp.where(v >= 0, xp.where(best, 1.0, 0.0) - xp.where(target, 1.0, 0.0), 0.0)


register("categorical_hinge_loss", _categorical_hinge_reference, _categorical_hinge_reference_grad)
