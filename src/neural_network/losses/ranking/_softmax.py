"""The ranking softmax loss: optax's ``ranking_softmax_loss`` (from rax), one loss per list.

Every value and derivative is computed in float64 and rounded once to the input's dtype.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _validation
from neural_network._numerics import EXP_INVERSE_STEP, EXP_STEP, exp_double, two_product, two_sum
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.errors import OutOfRangeError, ShapeMismatchError
from neural_network.losses._common import any_true
from neural_network.losses._elementwise import Reduction
from neural_network.losses._per_list import reduce_list_gradient, reduce_lists, sample_weights
from neural_network.losses._reference import register
from neural_network.losses._table_kernels import STEP_TAIL, exp_parts
from neural_network.losses.embedding._feature_rows import row_sum_double

RELEVANCE = Domain(
    "finite non-negative relevance labels",
    0.0,
    hint=lambda low, high: " Relevance labels grade each item: 0 for irrelevant, larger for more relevant.",
)



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
    w = sample_weights(func, sample_weight, xp, device, lists, checked_reduction)
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
        n = xp.round(x * EXP_INVERSE_STEP)
        e_high, e_low = exp_parts(xp, n, ((x + n * -EXP_STEP[0]) - n * STEP_TAIL) + z_error)
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
    :func:`~neural_network.losses._common.refine_flagged`, by lists: on NumPy only those lists,
    a block of about :data:`_BLOCK` entries at a time (measured: 1.5 to 2 times faster than
    10**6 entries at once, whose tens of temporaries leave the cache); other libraries compute
    every list and select. An entry comes from the same operations on the same operands
    either way: the same bits.
    """
    if not any_true(xp, rows):
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
    if any_true(xp, refused):
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
    return reduce_lists(func, xp, values, reduction_, w, count, dtype, "the number of lists with a valid item", lists)


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
    reduced = reduce_list_gradient(func, xp, gradient, reduction_, w, count, dtype, "the number of lists with a valid item")
    return xp.reshape(reduced, shape)


def _ranking_softmax_reference(xp: Namespace, s: Array, y: Array, /) -> Array:
    top = xp.max(s, axis=-1, keepdims=True)  # exp(s - top): no overflow on NumPy
    log_p = s - top - xp.log(xp.sum(xp.exp(s - top), axis=-1, keepdims=True))
    return -xp.sum(y * log_p, axis=-1)


def _ranking_softmax_reference_grad(xp: Namespace, s: Array, y: Array, /) -> Array:
    e = xp.exp(s - xp.max(s, axis=-1, keepdims=True))
    return xp.sum(y, axis=-1, keepdims=True) * e / xp.sum(e, axis=-1, keepdims=True) - y


register("ranking_softmax_loss", _ranking_softmax_reference, _ranking_softmax_reference_grad)
