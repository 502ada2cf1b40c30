r"""Losses after optax: sparsemax, ranking softmax, NT-Xent; label-smoothing helpers.

* :func:`sparsemax_loss`: the multiclass sparsemax loss of Martins & Astudillo (2016),
  optax's ``multiclass_sparsemax_loss`` (optax's ``sparsemax_loss`` is the *binary* one).
* :func:`ranking_softmax_loss`: optax's ``ranking_softmax_loss`` (from rax), one loss per list.
* :func:`ntxent_loss`: optax's ``ntxent`` (SimCLR's NT-Xent, in the convention of
  pytorch-metric-learning's ``NTXentLoss``).
* :func:`smooth_labels` (optax's) and :func:`smooth_binary_labels` (Keras's binary
  label smoothing): not losses, helpers that build smoothed targets.

Every value and derivative is computed in float64 and rounded once to the input's dtype.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import _EXP_INVERSE_STEP, _EXP_STEP, exp_double, two_product, two_sum
from neural_network._validation import LABEL, NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._common import _any, _option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._feature_rows import row_sum_double
from neural_network.losses._focal import _class_prepare, _reduce_row_gradient, _reduce_rows, _rows_of
from neural_network.losses._reference import register
from neural_network.losses._table_kernels import STEP_TAIL, exp_parts

RELEVANCE = Domain(
    "finite non-negative relevance labels",
    0.0,
    hint=lambda low, high: " Relevance labels grade each item: 0 for irrelevant, larger for more relevant.",
)


# --------------------------------------------------------------------------- shared checks


def _sample_weight(
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


def _check_mean(func: str, xp: Namespace, mean_weight: Array, what: str) -> None:
    if math.prod(mean_weight.shape) == 0 or float(xp.max(mean_weight)) == 0.0:
        raise EmptyInputError(
            f"{func}: reduction='mean' divides by {what}, and it is 0. "
            "Use reduction='sum' (an empty sum is 0) or check the batch."
        )


def _reduce(
    func: str, xp: Namespace, values: Array, reduction: str, w: Array | None, count: Array, dtype: Any,
    what: str, shape: tuple[int, ...],
) -> Array:
    """Reduce per-sample ``values``; the mean divides by ``sum(w * count)``."""
    mean_weight = count if w is None else w * count
    if reduction == "mean":
        _check_mean(func, xp, mean_weight, what)
    if reduction == "none":
        values = xp.reshape(values, shape)
        w = None if w is None else xp.reshape(w, shape)
    return _reduction.reduce_values(
        xp, values, reduction=reduction, sample_weight=w, dtype=dtype, mean_weight=mean_weight
    )


def _reduce_gradient(
    func: str, xp: Namespace, gradient: Array, reduction: str, w: Array | None, count: Array, dtype: Any,
    what: str,
) -> Array:
    """Reduce per-sample gradient rows (M, K): scaled by ``w``, the mean divided as the loss."""
    mean_weight = count if w is None else w * count
    if reduction == "mean":
        _check_mean(func, xp, mean_weight, what)
    return _reduction.reduce_derivatives(
        xp, gradient, reduction=reduction, sample_weight=None if w is None else w[:, None], dtype=dtype,
        mean_weight=mean_weight,
    )


# --------------------------------------------------------------------------- sparsemax


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
    checked = _class_prepare(func, input, target, reduction, sample_weight)
    scores, labels = _rows_of(checked)
    # A target of class probabilities was checked (rows summing to 1) by _class_prepare.
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
    return _reduce_rows(checked, values)


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
    return _reduce_row_gradient(checked, gap_high + (gap_error + xp.where(p > 0.0, low, 0.0)))


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


# --------------------------------------------------------------------------- ranking softmax


def _ranking_prepare(
    func: str, input: object, target: object, where: object, reduction: object, sample_weight: object
) -> tuple[Namespace, Array, Array, Array, str, Array | None, Any, tuple[int, ...], tuple[int, ...]]:
    """Scores, labels and the mask as float64 (M, L) rows, with the reduction and weights."""
    checked_reduction = _validation.check_reduction(func, reduction)
    xp, device = _validation.namespace(func, input=input, target=target, where=where, sample_weight=sample_weight)
    x = _validation.as_real_array(func, "input", input, xp, device)
    y = _validation.as_real_array(func, "target", target, xp, device)
    if x.ndim == 0:
        raise ShapeMismatchError(
            f"{func}: input must hold scores of shape (..., list_size); got a scalar. "
            "Pass one row of scores per list, e.g. shape (N, L)."
        )
    _validation.check_same_shape(func, "input", x, "target", y)
    _validation.check_values(func, "input", x, xp, REAL)
    _validation.check_values(func, "target", y, xp, RELEVANCE)
    shape = tuple(x.shape)
    lists = shape[:-1]
    rows = (math.prod(lists), shape[-1])
    mask = xp.ones(rows, dtype=xp.float64, device=device) if device is not None else xp.ones(rows, dtype=xp.float64)
    if where is not None:
        m = _validation.as_real_array(func, "where", where, xp, device)
        _validation.check_same_shape(func, "input", x, "where", m)
        _validation.check_values(func, "where", m, xp, REAL)
        if math.prod(shape) and not bool(xp.all((m == 0.0) | (m == 1.0))):
            raise OutOfRangeError(
                f"{func}: where must be a boolean mask (True for the valid items); got values other "
                "than 0 and 1. Pass a boolean array, e.g. where=lengths[:, None] > arange(L)."
            )
        mask = xp.reshape(_validation.working(xp, m), rows)
    w = _sample_weight(func, sample_weight, xp, device, lists, checked_reduction)
    if w is not None:
        w = xp.reshape(w, (rows[0],))
    scores = xp.reshape(_validation.working(xp, x), rows)
    labels = xp.reshape(_validation.working(xp, y), rows)
    return xp, scores, labels, mask, checked_reduction, w, x.dtype, lists, shape


def _ranking_parts(
    xp: Namespace, scores: Array, labels: Array, mask: Array
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """``-log softmax`` over the valid items of each row (0 at masked ones), the softmax,
    the labels with the masked ones set to 0, the first maximal valid item (a mask),
    ``rest``, and ``z = s - max`` as ``d + d_error`` exactly (``-inf`` and 0 at masked items).

    ``-log p_i = log1p(rest) - z_i`` with ``rest`` the sum of ``exp(z)`` over the valid
    items but the first maximal one: two non-negative terms.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # scores spanning more than the float64 range
        return _ranking_parts_unchecked(xp, scores, labels, mask)


def _ranking_parts_unchecked(
    xp: Namespace, scores: Array, labels: Array, mask: Array
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    valid = mask > 0.0
    masked = xp.where(valid, scores, -math.inf)
    top = xp.max(masked, axis=1, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)  # a list without valid items
    # s - top exactly (TwoSum): exp turns the difference's rounding into a relative error
    # of |s - top| u (40u at a gap of 40); 0 error where the difference overflows (exp 0).
    d, d_error = two_sum(xp.where(valid, scores, top), -top)
    d_error = xp.where(xp.isfinite(d) & valid, d_error, 0.0)
    z = xp.where(valid, d, -math.inf)
    first = xp.argmax(z, axis=1)
    positions = xp.arange(z.shape[1], device=array_api_compat.device(z))
    first_hot = (first[:, None] == positions[None, :]) & valid
    e = xp.exp(z)
    e = e + e * d_error
    rest = xp.sum(xp.where(first_hot, 0.0, e), axis=1, keepdims=True)
    nll = xp.where(valid, xp.log1p(rest) - (xp.where(valid, z, 0.0) + d_error), 0.0)
    return nll, e / (1.0 + rest), xp.where(valid, labels, 0.0), first_hot, rest, z, d_error


_CANCELLATION_FACTOR = 1.5
"""A list is refined where an entry ``L p_i - y_i`` is below ``(L p_i + y_i) / 1.5`` (the terms within a factor 5).

In float64 an entry carries the roundings of ``p_i`` (``exp``, the sums, the division),
magnified by ``(L p_i + y_i) / |g_i|``: the entries left in float64 measured 3.2 ulp at
most (where nothing cancels, on lists of 32 items); with a factor 2 here, 4.1."""

_TABLE_LIMIT = 2.0**12
"""Largest ``(L p_i + y_i) / |g_i|`` for which the table's exp (2**-68) is accepted: 1/8 ulp."""

_BLOCK = 65536
"""Entries refined at a time on NumPy (:func:`_refine_lists`)."""

_REFINABLE = (2.0**-900, 2.0**900)
"""Sums of labels whose lists can be refined: the products of double length split them (2**27)."""


def _double_product(a: Array, a_low: Array, b: Array, b_low: Array) -> tuple[Array, Array]:
    """``(a + a_low)(b + b_low)`` as ``high + low``, to about 2**-104 of it."""
    high, error = two_product(a, b)
    return high, error + (a * b_low + a_low * b)


def _double_quotient(a: Array, a_low: Array, b: Array, b_low: Array) -> tuple[Array, Array]:
    """``(a + a_low) / (b + b_low)`` as ``high + low``, to about 2**-104 of it (one correction step)."""
    high = a / b
    product, error = two_product(high, b)
    return high, (((a - product) - error) + (a_low - high * b_low)) / b


def _ranking_gradient_double(
    xp: Namespace, z: Array, z_error: Array, labels: Array, first: Array, mask: Array, *, precise: bool
) -> tuple[Array, Array]:
    """``L p_i - y_i`` of whole (M, n) lists in double length, rounded once, and where it is within 5/8 ulp.

    ``e_j = exp(z_j)`` (``z = s - max`` exact as ``z + z_error``) as ``high + low``: from the
    table (:func:`~neural_network.losses._table_kernels.exp_parts`, about 2**-68
    relative), or with ``precise`` by :func:`~neural_network._numerics.exp_double`
    (2**-100); items more than 700 below the maximum count 0 (their share is below
    e**-700, some 2**-1000 of the others'). ``rest`` (the sum of ``e`` but the first maximal
    item's, which is 1), ``1 + rest``, ``L`` and the other labels' sum are formed by
    TwoSum (pairwise), and ``F = L / (1 + rest)`` in double length; then each entry is
    ``F e_i - y_i``, or at the first maximal item ``((L - y_i) - y_i rest) / (1 + rest)``
    (there ``e_i = 1``, and what is left of ``L / (1 + rest) - y_i`` is the small
    ``rest``'s share). Every entry is then within about ``eps (L p_i + y_i)`` before its
    rounding, ``eps`` the exp's error: accepted where ``(L p_i + y_i) / |g_i|`` is at most
    2**12 (:data:`_TABLE_LIMIT`, 1/8 ulp) for the table, 2**44 with ``precise``.
    """
    valid = mask > 0.0
    zeros = xp.zeros_like(labels)
    near = valid & (z >= -700.0)
    x = xp.where(near, z, 0.0)
    if precise:
        e_high, e_low = exp_double(xp, x, z_error)
        limit = 2.0**44
    else:
        n = xp.round(x * _EXP_INVERSE_STEP)
        e_high, e_low = exp_parts(xp, n, ((x + n * -_EXP_STEP[0]) - n * STEP_TAIL) + z_error)
        limit = _TABLE_LIMIT
    later = near & ~first
    rest, rest_low = row_sum_double(xp, xp.where(later, e_high, 0.0), xp.where(later, e_low, 0.0))
    rest, rest_low = two_sum(rest, rest_low)  # the table's low parts reach 2**-16 of the high ones
    size, size_error = two_sum(rest, xp.ones_like(rest))
    size_low = size_error + rest_low
    top_label = xp.sum(xp.where(first, labels, zeros), axis=1, keepdims=True)
    others, others_low = row_sum_double(xp, xp.where(first, zeros, labels), zeros)
    total, total_error = two_sum(others, top_label)
    factor, factor_low = _double_quotient(total, total_error + others_low, size, size_low)
    # every item but the first maximal one: L e_i / (1 + rest) - y_i
    share, share_low = _double_product(factor, factor_low, xp.where(later, e_high, 0.0), xp.where(later, e_low, 0.0))
    high, error = two_sum(share, -labels)
    gradient = high + (error + share_low)
    scale = share + labels
    # the first maximal item (one column): ((L - y) - y rest) / (1 + rest)
    part, part_low = _double_product(top_label, xp.zeros_like(rest), rest, rest_low)
    high, error = two_sum(others, -part)
    top, top_low = _double_quotient(high, error + (others_low - part_low), size, size_low)
    gradient = xp.where(valid, xp.where(first, top + top_low, gradient), 0.0)
    scale = xp.where(first, (others + part) / size, scale)
    return gradient, ~valid | (xp.abs(gradient) * limit >= scale)


def _refine_lists(
    xp: Namespace, gradient: Array, rows: Array, z: Array, z_error: Array, labels: Array, first: Array, mask: Array
) -> Array:
    """``gradient`` with the (M, n) lists where ``rows`` computed again in double length.

    By :func:`_ranking_gradient_double` with the table's exp, and with the precise one for
    the lists where that is refused (entries some 2**-12 of ``L p_i + y_i``). As
    :func:`~neural_network.losses._common._refined`, by lists: on NumPy only those lists,
    a block of about :data:`_BLOCK` entries at a time (measured: 1.5 to 2 times faster than
    10**6 entries at once, whose tens of temporaries leave the cache); other libraries compute
    every list and select. An entry comes from the same operations on the same operands
    either way: the same bits.
    """
    if not _any(xp, rows):
        return gradient
    if isinstance(gradient, np.ndarray):
        index = np.flatnonzero(rows)
        out = np.array(gradient, copy=True)
        step = max(1, _BLOCK // max(1, gradient.shape[1]))
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for start in range(0, index.shape[0], step):
                block = index[start : start + step]
                operands = tuple(o[block] for o in (z, z_error, labels, first, mask))
                refined, accepted = _ranking_gradient_double(np, *operands, precise=False)
                refused = ~np.all(accepted, axis=1)
                if refused.any():
                    again = tuple(o[refused] for o in operands)
                    refined[refused] = _ranking_gradient_double(np, *again, precise=True)[0]
                out[block] = refined
        return out
    refined, accepted = _ranking_gradient_double(xp, z, z_error, labels, first, mask, precise=False)
    refused = rows & ~xp.all(accepted, axis=1)
    if _any(xp, refused):
        precise = _ranking_gradient_double(xp, z, z_error, labels, first, mask, precise=True)[0]
        refined = xp.where(refused[:, None], precise, refined)
    return xp.where(rows[:, None], refined, gradient)


def ranking_softmax_loss(
    input: object,
    target: object,
    *,
    where: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Ranking softmax loss (listwise), optax's ``ranking_softmax_loss`` (from rax).

    For each list of scores ``s`` and relevance labels ``y >= 0`` (the last axis):

    .. math:: \ell(s, y) = -\sum_i y_i \log \frac{\exp(s_i)}{\sum_j \exp(s_j)}

    The labels are used as given, as optax does (rax's ``softmax_loss`` first divides
    them by their sum: pass ``target / target.sum(-1, keepdims=True)`` for that). A list
    whose labels are all 0 has loss 0.

    Parameters
    ----------
    input : array_like
        Scores, shape ``(..., L)``: one list of ``L`` items per leading index; finite.
    target : array_like
        Relevance labels, the input's shape, finite and non-negative.
    where : array_like of bool, optional, keyword-only
        The valid items (the input's shape). The others take no part: their score is
        left out of the softmax and their label ignored.
    reduction : {"mean", "sum", "none"}, keyword-only
        Over lists: ``"none"`` gives shape ``(...)``; the mean divides by the number of
        lists with at least one valid item (as optax's mean with ``where``), weighted by
        ``sample_weight`` if given. A mean over no such list is an error (optax gives 0).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per list, shape ``(...)``.

    Examples
    --------
    >>> print(f"{ranking_softmax_loss([2.0, 1.0, 3.0], [1.0, 0.0, 0.0]):.3f}")
    1.408
    >>> scores = [[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]]
    >>> labels = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> mask = [[True, True, False], [True, True, True]]
    >>> print(f"{ranking_softmax_loss(scores, labels, where=mask):.3f}")
    0.497
    """
    func = "ranking_softmax_loss"
    xp, s, y, mask, reduction_, w, dtype, lists, _ = _ranking_prepare(func, input, target, where, reduction, sample_weight)
    nll, _, labels, *_ = _ranking_parts(xp, s, y, mask)
    values = xp.sum(labels * nll, axis=1)
    count = xp.astype(xp.sum(mask, axis=1) > 0.0, xp.float64)
    return _reduce(func, xp, values, reduction_, w, count, dtype, "the number of lists with a valid item", lists)


def ranking_softmax_loss_grad(
    input: object,
    target: object,
    *,
    where: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`ranking_softmax_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial s_i} = \Bigl(\sum_j y_j\Bigr) p_i - y_i

    over the valid items (``p`` the softmax over them), 0 at masked items; scaled by the
    sample weights and divided by the mean's denominator. The input's shape and dtype.

    Notes
    -----
    Accuracy: every entry within 4 ulp, but for one case below (``L`` the sum of the labels). Where ``L p_i`` and
    ``y_i`` are within a factor 5 (the entry below ``(L p_i + y_i) / 1.5``) the float64
    entry would carry ``exp``'s and the sums' roundings magnified by the cancellation
    (31 ulp on normal draws, 9758 where ``L p_i`` is ``1e-4`` from ``y_i``): those lists
    are computed again in double length, ``exp`` from a table to 2**-68 and, for entries
    below 2**-12 of ``L p_i + y_i``, to 2**-100, the sums and the product with TwoSum and
    TwoProduct; such an entry is then within ``0.5 + 2**-47 (L p_i + y_i) / |g_i|`` ulp:
    4 ulp, except where the labels are ``L p_i`` to their last bits (entries below some
    2**-50 of ``L p_i + y_i``), which are within ``2**-100 (L p_i + y_i)`` absolute.
    Measured: 1.1 ulp on the catalog's draws, 0.5 on the adversarial ones (``L p_i``
    ``1e-4`` to ``1e-14`` from ``y_i``), 3.2 at most on 2 x 10**4 lists of 8 to 128 items with
    integer, one-hot and uniform labels (the entries left in float64). The cost: about 1.5
    (one relevant item per list) to 1.7 times (labels 0 to 3) the float64 gradient on
    10**5 lists of 8. The value keeps the 4 ulp promise too (measured 1.8).

    Examples
    --------
    >>> g = ranking_softmax_loss_grad([2.0, 1.0, 3.0], [1.0, 0.0, 0.0])
    >>> print([round(float(v), 3) for v in g])
    [-0.755, 0.09, 0.665]
    """
    func = "ranking_softmax_loss_grad"
    xp, s, y, mask, reduction_, w, dtype, _, shape = _ranking_prepare(func, input, target, where, reduction, sample_weight)
    _, p, labels, first, rest, z, z_error = _ranking_parts(xp, s, y, mask)
    total = xp.sum(labels, axis=1, keepdims=True)
    # At the first maximal item p = 1 / (1 + rest) rounds to 1 for a confident list, and
    # L p - y (L the sum of the labels) would lose what is left: there (where p > 1/2) it
    # is (L - y) - L (1 - p) with 1 - p = rest / (1 + rest) and L - y the other labels' sum.
    others = xp.sum(xp.where(first, xp.zeros_like(labels), labels), axis=1, keepdims=True)
    # (Only where p > 1/2: below, 1 - p is not small, and (L - y) - L (1 - p) would cancel.)
    confident = first & (rest < 1.0)
    with np.errstate(over="ignore", invalid="ignore"):  # labels near the float64 range
        taken = xp.where(confident, others, total * p)
        given = xp.where(confident, total * (rest / (1.0 + rest)), labels)
        gradient = taken - given
        # Where the two terms are within a factor 5 (|g| below 2/3 of their sum) the entry
        # has lost digits: its list is computed again in double length.
        cancelling = xp.abs(gradient) * _CANCELLATION_FACTOR < taken + given
        inside = (total >= _REFINABLE[0]) & (total <= _REFINABLE[1])
    rows = xp.any(cancelling & (mask > 0.0) & inside, axis=1)
    gradient = _refine_lists(xp, gradient, rows, z, z_error, labels, first, mask)
    count = xp.astype(xp.sum(mask, axis=1) > 0.0, xp.float64)
    reduced = _reduce_gradient(func, xp, gradient, reduction_, w, count, dtype, "the number of lists with a valid item")
    return xp.reshape(reduced, shape)


def _ranking_softmax_reference(xp: Namespace, s: Array, y: Array, /) -> Array:
    top = xp.max(s, axis=-1, keepdims=True)  # exp(s - top): no overflow on NumPy
    log_p = s - top - xp.log(xp.sum(xp.exp(s - top), axis=-1, keepdims=True))
    return -xp.sum(y * log_p, axis=-1)


def _ranking_softmax_reference_grad(xp: Namespace, s: Array, y: Array, /) -> Array:
    e = xp.exp(s - xp.max(s, axis=-1, keepdims=True))
    return xp.sum(y, axis=-1, keepdims=True) * e / xp.sum(e, axis=-1, keepdims=True) - y


register("ranking_softmax_loss", _ranking_softmax_reference, _ranking_softmax_reference_grad)


# --------------------------------------------------------------------------- NT-Xent


def _ntxent_prepare(
    func: str, embeddings: object, labels: object, temperature: object, reduction: object, sample_weight: object
) -> tuple[Namespace, Array, Array, float, str, Array | None, Any]:
    checked_reduction = _validation.check_reduction(func, reduction)
    t = _option(func, "temperature", temperature, meaning="a positive finite number dividing the cosine similarities",
                low=0.0, low_included=False)
    xp, device = _validation.namespace(func, embeddings=embeddings, labels=labels, sample_weight=sample_weight)
    x = _validation.as_real_array(func, "embeddings", embeddings, xp, device)
    y = _validation.as_real_array(func, "labels", labels, xp, device)
    if x.ndim != 2:
        raise ShapeMismatchError(
            f"{func}: embeddings must have shape (batch, features); got shape {tuple(x.shape)}. "
            "Flatten each embedding to one row, e.g. embeddings.reshape(len(embeddings), -1)."
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ShapeMismatchError(
            f"{func}: labels must hold one group label per embedding, shape ({x.shape[0]},); got shape "
            f"{tuple(y.shape)}. Embeddings with equal labels form the positive pairs."
        )
    _validation.check_values(func, "embeddings", x, xp, REAL)
    _validation.check_values(func, "labels", y, xp, REAL)
    x64 = _validation.working(xp, x)
    if x.shape[0] and x.shape[1] and not bool(xp.all(xp.max(xp.abs(x64), axis=1) > 0.0)):
        row = int(xp.argmin(xp.max(xp.abs(x64), axis=1)))
        raise OutOfRangeError(
            f"{func}: every row of embeddings must be non-zero (its cosine similarity is undefined); "
            f"got embeddings[{row}] = 0. Drop that sample, or check the model's output."
        )
    if x.shape[1] == 0 and x.shape[0]:
        raise ShapeMismatchError(f"{func}: embeddings must have at least one feature; got shape {tuple(x.shape)}.")
    w = _sample_weight(func, sample_weight, xp, device, (x.shape[0],), checked_reduction)
    return xp, x64, _validation.working(xp, y), t, checked_reduction, w, x.dtype


def _ntxent_parts(xp: Namespace, x: Array, y: Array, t: float) -> tuple[Array, ...]:
    """Unit rows ``u``, their scaled norms, the masks, ``s = cos / t`` and ``a_ij = lse_neg_i - s_ij``.

    ``lse_neg_i`` is the log-sum-exp of ``s_ik`` over the negatives ``k`` of anchor ``i``
    (``-inf`` if it has none), so the loss of the pair ``(i, j)`` is ``softplus(a_ij)``.
    """
    n = x.shape[0]
    largest = xp.max(xp.abs(x), axis=1, keepdims=True)
    v = x / largest
    nv = xp.sqrt(xp.sum(v * v, axis=1, keepdims=True))
    u = v / nv
    s = (u @ xp.permute_dims(u, (1, 0))) / t
    rows = xp.arange(n, device=array_api_compat.device(x))
    eye = rows[:, None] == rows[None, :]
    same = y[:, None] == y[None, :]
    positive = same & ~eye
    negative = ~same
    top = xp.max(xp.where(negative, s, -math.inf), axis=1, keepdims=True)
    finite_top = xp.where(xp.isfinite(top), top, 0.0)
    shifted = xp.where(negative, s - finite_top, -math.inf)
    summed = xp.sum(xp.exp(shifted), axis=1, keepdims=True)  # at least 1 where there are negatives
    lse = xp.where(xp.isfinite(top), finite_top + xp.log(xp.where(summed > 0.0, summed, 1.0)), -math.inf)
    a = xp.where(positive, lse - s, -math.inf)
    return u, nv, largest, s, positive, negative, lse, a


def _pair_counts(xp: Namespace, positive: Array) -> Array:
    return xp.sum(xp.astype(positive, xp.float64), axis=1)


def _softplus(xp: Namespace, a: Array) -> Array:
    """``log(1 + exp(a))`` without overflow; 0 at ``-inf``."""
    return xp.maximum(a, 0.0) + xp.log1p(xp.exp(0.0 - xp.abs(a)))


def _sigmoid(xp: Namespace, a: Array) -> Array:
    e = xp.exp(0.0 - xp.abs(a))
    return xp.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def ntxent_loss(
    embeddings: object,
    labels: object,
    *,
    temperature: float = 0.07,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR; optax's ``ntxent``.

    With ``s_ik = cos(x_i, x_k) / temperature``, for every ordered positive pair ``(i, j)``
    (``i != j`` with equal labels) and the negatives ``N(i)`` of anchor ``i`` (other labels):

    .. math:: \ell_{ij} = -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k \in N(i)} e^{s_{ik}}}
              = \mathrm{softplus}\Bigl(\log\sum_{k \in N(i)} e^{s_{ik}} - s_{ij}\Bigr)

    The other positives of the anchor are left out of the denominator, as in optax and
    pytorch-metric-learning's ``NTXentLoss``; the self-similarity too.

    Parameters
    ----------
    embeddings : array_like
        Shape ``(N, D)``, finite, no zero row.
    labels : array_like
        Shape ``(N,)``: equal labels mark the positive pairs (e.g. ``[0, 0, 1, 1]`` for two
        views of two images).
    temperature : float, keyword-only
        A positive number; optax's default 0.07.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"none"`` gives each anchor's summed pair losses, shape ``(N,)``; ``"sum"`` their
        total; ``"mean"`` divides the total by the number of positive pairs (optax's
        average over positive pairs), with weights by ``sum_i w_i P_i`` (``P_i`` the
        positives of anchor ``i``). A mean without any positive pair is an error
        (optax gives NaN).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per anchor, shape ``(N,)``.

    Notes
    -----
    optax divides by ``max(||x||, eps)``; here a zero embedding is refused instead.

    Examples
    --------
    >>> x = [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [-0.1, 1.0]]
    >>> print(f"{ntxent_loss(x, [0, 0, 1, 1], temperature=1.0):.6f}")
    0.554380
    """
    func = "ntxent_loss"
    xp, x, y, t, reduction_, w, dtype = _ntxent_prepare(func, embeddings, labels, temperature, reduction, sample_weight)
    *_, positive, _, _, a = _ntxent_parts(xp, x, y, t)
    values = xp.sum(xp.where(positive, _softplus(xp, a), 0.0), axis=1)
    return _reduce(func, xp, values, reduction_, w, _pair_counts(xp, positive), dtype,
                   "the number of positive pairs (labels that occur at least twice)", (x.shape[0],))


def ntxent_loss_grad(
    embeddings: object,
    labels: object,
    *,
    temperature: float = 0.07,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`ntxent_loss` with respect to ``embeddings``, shape ``(N, D)``.

    With ``a_ij`` as in :func:`ntxent_loss` and ``q_ik`` the softmax of ``s_ik`` over the
    negatives of ``i``, the derivative of anchor ``i``'s loss is ``-sigmoid(a_ij)`` with
    respect to ``s_ij`` (``j`` positive) and ``q_ik sum_j sigmoid(a_ij)`` with respect to
    ``s_ik`` (``k`` negative); it goes back through the cosine matrix and the
    normalization of every row (``(I - u u^T) / ||x||``). Scaled by the anchor weights
    and divided by the mean's denominator.

    Notes
    -----
    Accuracy, stated (the value's too): the cosines come from a plain matrix product of
    the unit rows, each within about ``(D + 2) u`` absolute, divided by the temperature;
    the loss and its gradient move by that over the temperature, which small losses and
    small temperatures magnify, and the gradient's terms cancel. Measured: 108 ulp of the
    gradient on normal draws (temperature 0.07), 42 for nearly parallel positives at
    temperature 0.01; the value 3 and 86 (registered budgets: 110 and 90). 4 ulp would
    need the cosine matrix in double length (an ``N x N x D`` product, not a BLAS one).

    Examples
    --------
    >>> g = ntxent_loss_grad([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], [0, 0, 1], temperature=1.0)
    >>> print(g.shape, g.dtype)
    (3, 2) float64
    """
    func = "ntxent_loss_grad"
    xp, x, y, t, reduction_, w, dtype = _ntxent_prepare(func, embeddings, labels, temperature, reduction, sample_weight)
    u, nv, largest, s, positive, negative, lse, a = _ntxent_parts(xp, x, y, t)
    sig = xp.where(positive, _sigmoid(xp, a), 0.0)
    q = xp.where(negative, xp.exp(xp.where(negative, s - xp.where(xp.isfinite(lse), lse, 0.0), -math.inf)), 0.0)
    g = q * xp.sum(sig, axis=1, keepdims=True) - sig  # d(anchor loss)/ds, row by row
    count = _pair_counts(xp, positive)
    # The weights of a sum scaled (and the result brought back): huge ones do not overflow
    # the products below, where rows of opposite signs would make inf - inf.
    w, exponent = _reduction.sum_weights(xp, w, reduction_)
    g = _reduce_gradient(func, xp, g, reduction_, w, count, xp.float64,
                         "the number of positive pairs (labels that occur at least twice)")
    g = g / t
    du = g @ u + xp.permute_dims(g, (1, 0)) @ u
    radial = xp.sum(du * u, axis=1, keepdims=True)
    dx = _reduction.unscale(((du - radial * u) / nv) / largest, exponent)
    return xp.astype(dx, dtype, copy=False)


def _ntxent_reference_parts(xp: Namespace, x: Array, labels: Array, temperature: float) -> tuple[Array, ...]:
    u = x / xp.sqrt(xp.sum(x * x, axis=1, keepdims=True))
    s = (u @ u.T) / temperature
    same = labels[:, None] == labels[None, :]
    positive = same & (xp.arange(x.shape[0])[:, None] != xp.arange(x.shape[0])[None, :])
    e = xp.exp(s)
    negatives = xp.sum(xp.where(same, 0.0, e), axis=1, keepdims=True)  # sum over k in N(i)
    return u, s, same, positive, e, negatives


def _ntxent_reference(xp: Namespace, x: Array, labels: Array, /, *, temperature: float = 0.07) -> Array:
    # Each anchor's sum over its positives j of -log(e^s_ij / (e^s_ij + sum_{k in N(i)} e^s_ik)).
    _, s, _, positive, e, negatives = _ntxent_reference_parts(xp, x, labels, temperature)
    return xp.sum(xp.where(positive, xp.log(e + negatives) - s, 0.0), axis=1)


def _ntxent_reference_grad(xp: Namespace, x: Array, labels: Array, /, *, temperature: float = 0.07) -> Array:
    u, _, same, positive, e, negatives = _ntxent_reference_parts(xp, x, labels, temperature)
    r = xp.where(positive, 1.0 / (e + negatives), 0.0)
    g = xp.where(positive, -negatives * r, xp.where(same, 0.0, e * xp.sum(r, axis=1, keepdims=True)))  # d/ds
    du = ((g + g.T) @ u) / temperature
    norm = xp.sqrt(xp.sum(x * x, axis=1, keepdims=True))
    return (du - xp.sum(du * u, axis=1, keepdims=True) * u) / norm


register(
    "ntxent_loss", _ntxent_reference, _ntxent_reference_grad, value_ulps=90, grad_ulps=110,
    why="the cosines come from a plain matrix product of the unit rows (each within about (D + 2) u "
    "absolute) and are divided by the temperature: the loss moves by that error over temperature, "
    "which small losses (confident positives) and small temperatures magnify; the gradient's "
    "softmax shares cancel against the sigmoids. Measured: value 3 ulp on the catalog's draws, 86 "
    "for nearly parallel positives at temperature 0.01; gradient 108 and 42",
)


# --------------------------------------------------------------------------- label smoothing


def _smoothing(func: str, smoothing: object) -> float:
    return _option(func, "smoothing", smoothing, meaning="a number in [0, 1], the probability mass spread "
                   "uniformly", low=0.0, low_included=True, high=1.0)


def smooth_labels(labels: object, smoothing: float, *, num_classes: int | None = None) -> Array:
    r"""Label smoothing, optax's ``smooth_labels``: ``(1 - smoothing) y + smoothing / C``.

    Each target distribution ``y`` over ``C`` classes is mixed with the uniform one. The
    result sums to 1 if ``y`` does, and is what PyTorch's ``cross_entropy(...,
    label_smoothing=smoothing)`` uses internally.

    Parameters
    ----------
    labels : array_like
        Without ``num_classes``: one-hot (or soft) rows, shape ``(..., C)``, values in
        [0, 1]. With ``num_classes``: integer class indices of any shape.
    smoothing : float
        In [0, 1] (optax's ``alpha``); 0 leaves the labels unchanged.
    num_classes : int, optional, keyword-only
        Given: ``labels`` are class indices in ``[0, num_classes)`` and the result has
        shape ``(*labels.shape, num_classes)``, float64.

    Returns
    -------
    array
        The smoothed labels, in the labels' floating dtype (float64 for indices).

    Examples
    --------
    >>> print(smooth_labels([[0.0, 1.0, 0.0, 0.0]], 0.2))
    [[0.05 0.85 0.05 0.05]]
    >>> print(smooth_labels([1, 0], 0.3, num_classes=3))
    [[0.1 0.8 0.1]
     [0.8 0.1 0.1]]
    """
    func = "smooth_labels"
    alpha = _smoothing(func, smoothing)
    xp, device = _validation.namespace(func, labels=labels)
    if num_classes is None:
        y = _validation.as_real_array(func, "labels", labels, xp, device)
        if y.ndim == 0:
            raise ShapeMismatchError(
                f"{func}: labels must be one-hot rows of shape (..., C); got a scalar. For class "
                "indices pass num_classes=C."
            )
        _validation.check_values(func, "labels", y, xp, LABEL)
        c = y.shape[-1]
        if c == 0:
            raise ShapeMismatchError(f"{func}: labels must have at least one class; got shape {tuple(y.shape)}.")
        y64 = _validation.working(xp, y)
        return xp.astype((1.0 - alpha) * y64 + alpha / c, y.dtype, copy=False)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise InvalidOptionError(
            f"{func}: num_classes must be a positive integer (the number of classes); got {describe(num_classes)}."
        )
    c = int(num_classes)
    indices = _validation.as_real_array(func, "labels", labels, xp, device)
    index_domain = Domain(f"class indices from 0 to {c - 1}", 0.0, float(c - 1))
    _validation.check_values(func, "labels", indices, xp, index_domain)
    indices = _validation.working(xp, indices)
    if math.prod(indices.shape) and not bool(xp.all(indices == xp.floor(indices))):
        raise OutOfRangeError(
            f"{func}: with num_classes, labels must hold integer class indices; got fractional values. "
            "For one-hot or soft rows leave num_classes out."
        )
    classes = xp.astype(xp.arange(c, device=array_api_compat.device(indices)), xp.float64)
    onehot = xp.astype(indices[..., None] == classes, xp.float64)
    return (1.0 - alpha) * onehot + alpha / c


def smooth_binary_labels(labels: object, smoothing: float) -> Array:
    r"""Binary label smoothing, as Keras's ``BinaryCrossentropy(label_smoothing=...)``:
    ``y (1 - smoothing) + smoothing / 2``.

    Each binary target is pulled towards 1/2 (the uniform distribution over two classes).

    Parameters
    ----------
    labels : array_like
        Binary (or soft) labels in [0, 1], any shape.
    smoothing : float
        In [0, 1]; 0 leaves the labels unchanged, 1 makes them all 1/2.

    Examples
    --------
    >>> print(smooth_binary_labels([0.0, 1.0], 0.2))
    [0.1 0.9]
    """
    func = "smooth_binary_labels"
    alpha = _smoothing(func, smoothing)
    xp, device = _validation.namespace(func, labels=labels)
    y = _validation.as_real_array(func, "labels", labels, xp, device)
    _validation.check_values(func, "labels", y, xp, LABEL)
    return xp.astype(_validation.working(xp, y) * (1.0 - alpha) + 0.5 * alpha, y.dtype, copy=False)
