"""The sparsemax losses: the multiclass one of Martins & Astudillo (2016), optax's
``multiclass_sparsemax_loss``, and the binary one, optax's ``sparsemax_loss`` (its older name
``binary_sparsemax_loss`` is ours): the Fenchel-Young losses of sparsemax and of the sparse
sigmoid. Every value and derivative is computed in float64 and rounded once to the input's
dtype.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat

from neural_network import _validation
from neural_network._numerics import two_product, two_sum
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.errors import OutOfRangeError
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import (
    class_prepare,
    reduce_row_gradient,
    reduce_rows,
    rows_of,
)
from neural_network.losses.embedding._feature_rows import row_sum_double


def _sparsemax_parts(xp: Namespace, z: Array) -> tuple[Array, Array, Array]:
    """``z - tau`` of (M, C) rows as ``high + low`` in double-double, and ``sparsemax(z)``.

    With ``z`` sorted in decreasing order and ``S_k`` the sum of its first ``k`` entries,
    the support has ``K = max{k : 1 + k z_(k) > S_k}`` entries (ties with the K-th are in
    it too: they meet the same condition) and ``tau = (S_K - 1) / K``. ``K`` is chosen in
    float64; ``tau`` is then formed in double-double, from the rows shifted by their
    maximum exactly (TwoSum), their sum over the support (pairwise, TwoSum at each level),
    ``- 1`` and the division by ``K`` with its remainder: near the edge of the support
    (``z_j`` within a few ulp of ``tau``) ``z_j - tau`` and ``p - y`` keep their digits,
    where the rounded shift, sum and division left about ``ulp(1) / p_j`` of them.
    """
    top = xp.max(z, axis=1, keepdims=True)
    d, d_error = two_sum(z, -top)
    d_error = xp.where(xp.isfinite(d), d_error, 0.0)  # a difference beyond the range: far outside
    ordered = xp.sort(d, axis=1, descending=True)
    sums = xp.cumulative_sum(ordered, axis=1)
    k = xp.astype(xp.arange(1, z.shape[1] + 1, device=array_api_compat.device(z)), xp.float64)[None, :]
    support = xp.astype(1.0 + k * ordered > sums, xp.float64)
    size = xp.sum(support, axis=1, keepdims=True)
    kth = xp.max(xp.where(k == size, ordered, -math.inf), axis=1, keepdims=True)
    inside = d >= kth
    high, low = row_sum_double(xp, xp.where(inside, d, 0.0), xp.where(inside, d_error, 0.0))
    high, error = two_sum(high, xp.full_like(high, -1.0))
    low = low + error  # S_K - 1
    tau = high / size
    product, product_error = two_product(tau, size)
    tau_low = (((high - product) - product_error) + low) / size
    difference, difference_error = two_sum(d, -tau)
    difference_low = difference_error + (d_error - tau_low)
    shifted = difference + difference_low
    return difference, difference_low, xp.maximum(shifted, 0.0)


def _sparsemax_rows(func: str, input: object, target: object, reduction: object, sample_weight: object) -> Any:
    checked = class_prepare(func, input, target, reduction, sample_weight)
    scores, labels = rows_of(checked)
    # A target of class probabilities was checked (rows summing to 1) by class_prepare.
    return checked, scores, labels


def sparsemax_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Multiclass sparsemax loss (Martins & Astudillo 2016), optax's ``multiclass_sparsemax_loss``.

    With :math:`p = \mathrm{sparsemax}(z) = \max(z - \tau, 0)` (``tau`` such that ``p``
    sums to 1) and a target ``y`` on the simplex (one-hot for a class index):

    .. math:: \ell(z, y) = -z \cdot y + \tfrac12 \sum_{j: z_j > \tau} (z_j^2 - \tau^2)
              + \tfrac12 \lVert y \rVert^2
              = \tfrac12 \lVert p - y \rVert^2 + \sum_j y_j \max(\tau - z_j, 0)

    The right-hand form (used here) adds non-negative terms, so the loss is computed
    without cancellation and is 0 exactly when ``p = y``.

    Parameters
    ----------
    input : array_like
        Scores (logits), shape ``(N, C)`` (or ``(N, C, d1, ...)``, ``(C,)``); finite.
    target : array_like
        Class indices of shape ``(N,)``, or rows of the input's shape on the probability
        simplex (one-hot rows, or soft labels summing to 1).
    reduction : {"mean", "sum", "none"}, keyword-only
        Over samples: the mean divides by ``N`` (by ``sum(sample_weight)`` if given).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample.

    Notes
    -----
    optax's ``multiclass_sparsemax_loss(scores, labels)`` takes integer labels and gives
    the per-sample losses (``reduction="none"`` here). For a one-hot target
    ``½||y||² = ½``, the constant in Martins & Astudillo's formula.
    Accuracy: every value and gradient entry within 4 ulp of the exact result (measured:
    1.2 at most), scores at the edge of the support included (``z - tau`` in double length).

    Examples
    --------
    >>> print(sparsemax_loss([[1.0, 0.0, -1.0], [2.0, 0.5, 0.0]], [0, 2], reduction="none"))
    [0. 2.]
    """
    func = "sparsemax_loss"
    checked, scores, labels = _sparsemax_rows(func, input, target, reduction, sample_weight)
    xp = checked.xp
    high, low, p = _sparsemax_parts(xp, scores)
    # p - y with p = z - tau in double-double where positive (TwoSum: the label's p near 1)
    gap_high, gap_error = two_sum(xp.where(p > 0.0, high, 0.0), -labels)
    gap = gap_high + (gap_error + xp.where(p > 0.0, low, 0.0))
    below = xp.maximum(0.0 - (high + low), 0.0)
    values = 0.5 * xp.sum(gap * gap, axis=1) + xp.sum(labels * below, axis=1)
    return reduce_rows(checked, values)


def sparsemax_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`sparsemax_loss` with respect to ``input``: ``sparsemax(z) - y``.

    Scaled by the sample weights and divided by the mean's denominator; the input's shape
    and dtype. (At ties of the support, where the loss is still differentiable, this is
    its gradient: the loss is continuously differentiable.)

    Examples
    --------
    >>> print(sparsemax_loss_grad([[2.0, 0.5, 0.0]], [2]))
    [[ 1.  0. -1.]]
    """
    func = "sparsemax_loss_grad"
    checked, scores, labels = _sparsemax_rows(func, input, target, reduction, sample_weight)
    xp = checked.xp
    high, low, p = _sparsemax_parts(xp, scores)
    gap_high, gap_error = two_sum(xp.where(p > 0.0, high, 0.0), -labels)
    return reduce_row_gradient(checked, gap_high + (gap_error + xp.where(p > 0.0, low, 0.0)))


def _sparsemax_reference_parts(xp: Namespace, z: Array, target: Array) -> tuple[Array, Array, Array]:
    """``p = sparsemax(z)``, the one-hot (or given) target ``y``, and ``max(tau - z, 0)``."""
    # z_j is in the support iff 1 + k_j z_j > S_j, with k_j and S_j the count and the sum
    # of the scores >= z_j; tau = (sum of the support - 1) / its size. (Shifted by the
    # largest score first: the loss does not change, and 1 + k z_j does not lose the 1.)
    z = z - xp.max(z, axis=1, keepdims=True)
    at_least = z[:, None, :] >= z[:, :, None]  # [n, j, i]: z_i >= z_j
    k = xp.sum(xp.where(at_least, 1.0, 0.0), axis=2)
    support = 1.0 + k * z > xp.sum(xp.where(at_least, z[:, None, :], 0.0), axis=2)
    tau = (xp.sum(xp.where(support, z, 0.0), axis=1, keepdims=True) - 1.0) / xp.sum(
        xp.where(support, 1.0, 0.0), axis=1, keepdims=True)
    classes = xp.arange(z.shape[1])[None, :]
    y = target if target.ndim == 2 else xp.where(classes == target[:, None], 1.0, 0.0)  # one-hot for indices
    return xp.maximum(z - tau, 0.0), y, xp.maximum(tau - z, 0.0)


def _sparsemax_reference(xp: Namespace, z: Array, target: Array, /) -> Array:
    # 1/2 |p - y|^2 + sum_j y_j max(tau - z_j, 0): Martins & Astudillo's -z.y + 1/2 |y|^2
    # + 1/2 sum_{z_j > tau} (z_j^2 - tau^2) without its cancellation (200 bits cannot absorb it at 1e300).
    p, y, below = _sparsemax_reference_parts(xp, z, target)
    return xp.sum((p - y) ** 2, axis=1) / 2 + xp.sum(y * below, axis=1)


def _sparsemax_reference_grad(xp: Namespace, z: Array, target: Array, /) -> Array:
    p, y, _ = _sparsemax_reference_parts(xp, z, target)
    return p - y


register("sparsemax_loss", _sparsemax_reference, _sparsemax_reference_grad)


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
