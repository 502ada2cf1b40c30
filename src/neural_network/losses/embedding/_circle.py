r"""Circle loss (Sun et al. 2020), Keras's ``Circle``, over a batch of embeddings.

A loss over pairs of a batch rather than over a class axis: each anchor's positives
(the other embeddings of its label) against its negatives (the other labels), through
the cosine similarities of the (unit-norm) embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import log_double, sigmoid_pair, two_product, two_sum
from neural_network._validation import NONNEGATIVE, REAL, Array, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._common import real_option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses.embedding._feature_rows import exp_nonpositive, gram_double, row_sum_double


@dataclass(slots=True)
class _CircleArguments:
    """Validated arguments of :func:`circle_loss`: embeddings and their class labels, not class
    scores along a class axis, so not the row engine's ``RowArguments`` (the (N, N) similarities
    it scores are formed later, from these)."""

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
    g = real_option(func, "gamma", gamma, meaning="a positive finite number scaling the similarities (Keras's "
                "default 80)", low=0.0, low_included=False)
    m = real_option(func, "margin", margin, meaning="a finite real number, the relaxation margin (Keras's default 0.4)",
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
    d: Array  # (N, N) cosine distances max(1 - s, 0)
    inside: Array  # (N, N) bool: 1 - s >= 0, where the clamp passes the gradient
    d_low: Array  # (N, N) d's rounding error, exact d - d ((1, 1) zero unless accurate)
    c_low: Array  # (N, N) the rounding error of c = 1 - d, exact (1 - d) - c ((1, 1) zero unless accurate)
    positive: Array  # (N, N) bool
    negative: Array  # (N, N) bool
    a: Array  # (N, N) positive logits -gamma alpha_p (m - d)
    b: Array  # (N, N) negative logits gamma alpha_n (1 - m - d)
    valid: Array  # (N,) bool: the anchor has both


def _distances(xp: Namespace, x: Array, *, accurate: bool) -> tuple[Array, Array, Array, Array]:
    """The cosine distances ``d = max(1 - s, 0)`` of ``s = x x^T``, where ``1 - s >= 0`` (the
    side of the clamp the gradient passes), and the first-order corrections ``d_low`` and
    ``c_low`` of ``d`` and of ``c = 1 - d`` (``d + d_low`` and ``c + c_low`` are within
    about ``2**-68`` of the exact values where ``accurate``, for up to 128 features; a ``(1, 1)``
    zero otherwise).

    ``accurate``: ``1 - s`` rounded once from the exact similarities, not from their
    rounding. ``1 - s`` cancels for a pair of nearly parallel rows: from the rounded ``s``
    (an ulp of 1 off, and more from the matrix product's additions) it errs by up to
    ``u / d`` relative, and the gradient's terms ``2 gamma d`` with it (up to 580 ulps of
    the gradient measured). The similarities are then summed exactly in two parts (Ozaki's
    splitting): each row is split into its leading bits on the row's own grid and the rest,
    ``x = x1 + x2``, with so few leading bits that every product ``x1_ik x1_jk`` and every
    partial sum of ``D`` of them is a whole multiple of the grid below ``2**53`` of it:
    ``x1 x1^T`` is exact, in whatever order the matrix product adds. ``1 - x1 x1^T`` is
    taken by TwoSum, and the rest, ``x1 x2^T + x2 x1^T + x2 x2^T`` (:func:`gram_double`: one
    matrix product of ``D`` columns and its transpose; about ``2**-b`` of ``s``, ``b = (51 -
    ceil(log2 D)) // 2``, so its own rounding is about ``(D + 1) 2**-b u``: ``2**-73`` at ``D
    = 4``, ``2**-68`` at ``D = 128``), subtracted from the TwoSum's error: ``d`` within an ulp
    (or that absolute, where smaller), and what its rounding left out, ``d_low``. One more
    matrix product and about fifteen operations a pair. Rows beyond ``2**+-500`` in size (the grid could
    overflow, the products underflow) keep the plain ``1 - s``.
    """
    n = x.shape[0]
    largest = xp.max(xp.abs(x), axis=1, keepdims=True) if n else x[:, :1]
    if not accurate or not n or not bool(xp.all((largest == 0.0) | ((largest > 2.0**-500) & (largest < 2.0**500)))):
        s = x @ xp.permute_dims(x, (1, 0))
        zero = xp.zeros((1, 1), dtype=s.dtype, device=array_api_compat.device(s))
        return xp.maximum(1.0 - s, 0.0), 1.0 - s >= 0.0, zero, zero
    exact_part, rest = gram_double(xp, x)
    one_minus, one_error = two_sum(xp.ones_like(exact_part), -exact_part)
    tail = one_error - rest
    distance = one_minus + tail
    inside = distance >= 0.0
    d_low = xp.where(inside, tail - (distance - one_minus), 0.0)  # Fast2Sum: |tail| << |one_minus|
    d = xp.where(inside, distance, 0.0)
    c = 1.0 - d  # exact where d >= 1/2; else its rounding error, by Fast2Sum (|1| >= |d|)
    c_low = ((1.0 - c) - d) - d_low
    return d, inside, d_low, c_low


def _circle_parts(args: _CircleArguments, *, accurate: bool = False) -> _CircleParts:
    """The pairs' distances, masks and logits; ``accurate``: the distances rounded once from
    their exact value, with their rounding errors (:func:`_distances`), for the gradient."""
    xp, x, y, g, m = args.xp, args.x, args.labels, args.gamma, args.margin
    n = x.shape[0]
    rows = xp.arange(n, device=array_api_compat.device(x))
    same = y[:, None] == y[None, :]
    positive = same & (rows[:, None] != rows[None, :]) if args.remove_diagonal else same
    negative = ~same
    # Embeddings far from unit norm (beyond about 1e154) make the similarities and the
    # logits overflow; the loss is then inf, as its exact value rounds, and the
    # log-sum-exp keeps that infinity rather than making a NaN of it.
    with np.errstate(over="ignore", invalid="ignore"):
        d, inside, d_low, c_low = _distances(xp, x, accurate=accurate)
        alpha_p = xp.maximum(m + d, 0.0)
        alpha_n = xp.maximum(1.0 + m - d, 0.0)
        # A weight of 0 makes its term exactly 0, even against an infinite distance.
        a = xp.where(alpha_p > 0.0, (-g) * alpha_p * (m - d), 0.0)
        b = xp.where(alpha_n > 0.0, g * alpha_n * (1.0 - m - d), 0.0)
    valid = xp.any(positive, axis=1) & xp.any(negative, axis=1)
    return _CircleParts(d=d, inside=inside, d_low=d_low, c_low=c_low, positive=positive, negative=negative,
                        a=a, b=b, valid=valid)


def _softplus_argument(xp: Namespace, parts: _CircleParts, lse_p: Array, lse_n: Array) -> Array:
    """``z = lse_p + lse_n``, shape ``(N,)``; ``-inf`` for an anchor without a positive or a negative."""
    with np.errstate(over="ignore", invalid="ignore"):
        return xp.where(parts.valid, xp.reshape(lse_p + lse_n, (-1,)), -math.inf)


def _column(xp: Namespace, values: Array, index: Array) -> Array:
    """``values[i, index[i]]`` for each row, shape ``(N, 1)`` (exactly: one term is not 0)."""
    if hasattr(xp, "take_along_axis"):
        return xp.take_along_axis(values, index, axis=1)
    columns = xp.arange(values.shape[1], device=array_api_compat.device(values))
    return xp.sum(xp.where(columns[None, :] == index, values, 0.0), axis=1, keepdims=True)


def _softmax_weights(
    xp: Namespace, active: Array, mask: Array, logits: Array, u: Array, u_low: Array, gamma: float, margin: float,
) -> tuple[Array, Array]:
    """Each anchor's softmax of ``logits`` over ``mask``, ``q_ij = exp(a_ij - a_it) / sum_k
    exp(a_ik - a_it)`` with ``t`` the anchor's largest logit, and its log-sum-exp ``(N, 1)``
    (as :func:`_masked_logsumexp`, from these sums).

    An ``active`` logit (its weight not clamped) is ``a = gamma (u^2 - m^2)`` (``u = d`` for
    the positives, ``1 - d`` for the negatives), an inactive one exactly 0. With ``rho`` the
    largest logit's ``u`` where it is active and ``m`` where it is not (its logit 0 is then
    ``gamma (m^2 - m^2)``), ``a_ij - a_it = gamma (u_ij - rho) (u_ij + rho) + 2 gamma (u_ij
    u_low_ij - rho rho_low)`` for an active term: the margin, or the largest logit, cancels
    exactly, the difference is rounded from the (nearly) exact ``u`` a few times relative
    to itself, and ``u``'s own rounding is put back to first order. An inactive term's is
    minus the largest logit, formed so too. From the rounded logits, ``a - a_t`` errs by an
    ulp of ``a`` (up to 320 at ``gamma = 80``: 3e-14, 250 ulps of ``q``), and of ``u - m``
    (``d`` near ``m``: 17 ulps measured); ``exp(a - lse)`` adds an ulp of the log-sum-exp.
    For every anchor where a largest logit is not finite (embeddings far from unit norm),
    ``a - a_t`` as it rounds.
    """
    top = xp.argmax(xp.where(mask, logits, -math.inf), axis=1, keepdims=True)
    shift = _column(xp, logits, top)
    if not bool(xp.all(xp.isfinite(shift))):
        difference = xp.where(mask, logits, 0.0) - shift
    else:
        # An inactive logit is exactly 0; an active one that is 0 gives the same rho^2 = m^2.
        top_active = shift != 0.0
        rho = xp.where(top_active, _column(xp, u, top), margin)
        rho_low = xp.where(top_active, _column(xp, xp.broadcast_to(u_low, tuple(u.shape)), top), 0.0)
        close = gamma * ((u - rho) * (u + rho)) + (2.0 * gamma) * (u * u_low - rho * rho_low)
        minus_top = xp.where(top_active, gamma * ((margin - rho) * (margin + rho)) - (2.0 * gamma) * (rho * rho_low), 0.0)
        difference = xp.where(active, close, minus_top)
    e = xp.where(mask, xp.exp(xp.where(mask, difference, 0.0)), 0.0)
    summed = xp.sum(e, axis=1, keepdims=True)
    summed = xp.where(summed > 0.0, summed, 1.0)
    empty = ~xp.any(mask, axis=1, keepdims=True)
    shift = xp.where(empty, -math.inf, shift)
    return e / summed, xp.where(xp.isfinite(shift), shift + xp.log(summed), shift)


def _circle_mean_weight(args: _CircleArguments, valid: Array, func: str) -> Array:
    """What each anchor adds to the mean's denominator: 1 (or its weight) if it has a positive
    and a negative, else 0, as Keras's mask ``loss > 0`` counts it."""
    xp = args.xp
    counted = xp.astype(valid, xp.float64)
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


_EXP_ERROR = 2.5
"""Each exponential of a log-sum-exp's plain sum, ``exp(d) + exp(d) d_low``, within this many
``u`` of ``exp(d + d_low)``: a libm ``exp`` within 1 ulp (2u), the correction's addition (u/2)."""

_SUM_SHARE = 1.0
"""The ulps of an anchor's loss left to the error of its two plain sums (the rest is the
softplus's): an anchor whose bound exceeds it gets its sums in double length."""


def _logits_double(xp: Namespace, w: Array, w_low: Array, active: Array, gamma: float, margin: float) -> tuple[Array, Array]:
    """``gamma (w - m) (w + m)`` of the (nearly exact) ``w + w_low`` as ``(high, low)``, and 0
    where not ``active`` (the weight clamped): each factor by TwoSum, their product and the
    scaling by TwoProduct, the cross terms to first order (about ``2**-100`` of the logit
    beside ``w``'s own error)."""
    minus, minus_error = two_sum(w, -margin)
    plus, plus_error = two_sum(w, margin)
    product, product_error = two_product(minus, plus)
    product_low = product_error + (minus * (plus_error + w_low) + (minus_error + w_low) * plus)
    high, high_error = two_product(product, gamma)
    low = high_error + gamma * product_low
    return xp.where(active, high, 0.0), xp.where(active, low, 0.0)


def _top_double(xp: Namespace, mask: Array, high: Array, low: Array) -> tuple[Array, Array]:
    """Each row's largest ``high`` over ``mask`` and its ``low``, as ``(N, 1)`` columns (0 for
    an empty row)."""
    index = xp.argmax(xp.where(mask, high, -math.inf), axis=1, keepdims=True)
    columns = xp.arange(high.shape[1], device=array_api_compat.device(high))[None, :] == index
    top = xp.sum(xp.where(columns, high, 0.0), axis=1, keepdims=True)  # one term: exact
    return top, xp.sum(xp.where(columns, low, 0.0), axis=1, keepdims=True)


def _log_sums_double(
    xp: Namespace, masks: tuple[Array, Array], delta: Array, delta_low: Array, *, exact: bool
) -> list[tuple[Array, Array]]:
    """For each of the (disjoint) ``masks``, ``log sum exp(delta + delta_low)`` over it, row by
    row (a term ``delta = 0`` in every row that is asked for) as ``(high, low)`` columns: the
    terms summed by TwoSums (:func:`row_sum_double`), the log in double length
    (:func:`log_double`). The exponentials plain (each within ``_EXP_ERROR`` u), or, ``exact``,
    within about ``2**-65`` (:func:`exp_nonpositive`; terms below -700 count 0); one
    exponential a pair for both masks."""
    if exact:
        inside = delta > -700.0
        e, e_low = exp_nonpositive(xp, xp.where(inside, delta, 0.0), xp.where(inside, delta_low, 0.0))
        e, e_low = xp.where(inside, e, 0.0), xp.where(inside, e_low, 0.0)
    else:
        e = xp.exp(delta)
        e, e_low = e + e * delta_low, 0.0 * e
    logs = []
    for mask in masks:
        total, total_low = row_sum_double(xp, xp.where(mask, e, 0.0), xp.where(mask, e_low, 0.0))
        total = xp.where(total > 0.0, total, 1.0)  # rows without a term: no log(0)
        high, low = log_double(xp, total)
        logs.append((high, low + total_low / total))
    return logs


def _circle_values(args: _CircleArguments) -> tuple[Array, Array] | None:
    """Each anchor's loss rounded a few times from its exact value, and the anchors with a
    positive and a negative; ``None`` where embeddings beyond ``2**+-500`` in size or extreme
    options leave the plain float64 computation (:func:`_circle_parts`) to the caller.

    For nearly parallel positives (and far negatives) ``z = lse_p + lse_n`` cancels, and an
    absolute error of ``z`` is a relative one of a small loss ``softplus(z) ~ e^z``. So every
    step is in double length: the distances rounded once from the exact similarities, with
    their rounding errors (:func:`_distances`); the logits ``gamma (w - m) (w + m)`` (``w = d``
    for the positives, ``1 - d`` for the negatives; :func:`_logits_double`); each log-sum-exp
    as its largest logit plus the log of the sum of ``exp(logit - top)`` (the differences by
    TwoSum, :func:`_log_sums_double`); ``z`` by TwoSum; and ``softplus(z_hi) + sigmoid(z_hi)
    z_lo``. The plain exponentials' error (``_EXP_ERROR`` u in each sum) moves the loss by
    ``2 _EXP_ERROR sigmoid(z) / softplus(z)`` ulps at most; the anchors where this exceeds
    ``_SUM_SHARE`` get their exponentials in double length too. Then ``z`` is within about
    ``2**-64`` absolute (besides the distances' ``2**-75`` times the logits' slopes ``2
    gamma``) and the loss within the softplus's roundings (about 2 ulps).
    """
    xp, x, y, g, m = args.xp, args.x, args.labels, args.gamma, args.margin
    n = x.shape[0]
    largest = xp.max(xp.abs(x), axis=1)
    in_range = (largest == 0.0) | ((largest > 2.0**-500) & (largest < 2.0**500))
    if not (2.0**-400 < g < 2.0**400 and abs(m) < 2.0**400 and bool(xp.all(in_range))):
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # similarities beyond the float range: None below
        d, _, d_low, c_low = _distances(xp, x, accurate=True)
    rows = xp.arange(n, device=array_api_compat.device(x))
    same = y[:, None] == y[None, :]
    positive = same & (rows[:, None] != rows[None, :]) if args.remove_diagonal else same
    negative = ~same
    valid = xp.any(positive, axis=1) & xp.any(negative, axis=1)
    w = xp.where(negative, 1.0 - d, d)
    w_low = xp.where(negative, xp.broadcast_to(c_low, tuple(d.shape)), xp.broadcast_to(d_low, tuple(d.shape)))
    active = xp.where(negative, 1.0 + m - d > 0.0, m + d > 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        logit, logit_low = _logits_double(xp, w, w_low, active, g, m)
    if not bool(xp.all(xp.abs(logit) < 2.0**900)):
        return None
    (top_p, top_p_low), (top_n, top_n_low) = (_top_double(xp, mask, logit, logit_low) for mask in (positive, negative))
    # logit - top in double length, from the top of its own mask (each top's own term exactly 0)
    top = xp.where(positive, top_p, top_n)
    delta, delta_error = two_sum(logit, -top)
    counted = positive | negative
    delta_low = xp.where(counted, delta_error + (logit_low - xp.where(positive, top_p_low, top_n_low)), 0.0)
    delta = xp.where(counted, delta, -math.inf)
    high, error = two_sum(top_p, top_n)
    tops_low = error + (top_p_low + top_n_low)

    def values_of(logs: list[tuple[Array, Array]]) -> tuple[Array, Array]:
        (log_p, log_p_low), (log_n, log_n_low) = logs
        z, z_error = two_sum(high, log_p)
        z, z_error2 = two_sum(z, log_n)
        z_low = (z_error + z_error2) + (tops_low + (log_p_low + log_n_low))
        z = xp.where(valid, xp.reshape(z, (-1,)), -math.inf)
        z_low = xp.where(valid, xp.reshape(z_low, (-1,)), 0.0)
        tail = xp.exp(0.0 - xp.abs(z))
        sig = xp.where(z >= 0.0, 1.0, tail) / (1.0 + tail)
        return (xp.maximum(z, 0.0) + xp.log1p(tail)) + sig * z_low, sig

    logs = _log_sums_double(xp, (positive, negative), delta, delta_low, exact=False)
    values, sig = values_of(logs)
    flagged = valid & ((2.0 * _EXP_ERROR) * sig > _SUM_SHARE * values)
    if bool(xp.any(flagged)):
        if isinstance(flagged, np.ndarray):
            index = np.flatnonzero(flagged)
            better = _log_sums_double(np, (positive[index], negative[index]), delta[index], delta_low[index], exact=True)
            for k, (high_k, low_k) in enumerate(better):
                logs[k] = (np.array(logs[k][0]), np.array(logs[k][1]))
                logs[k][0][index], logs[k][1][index] = high_k, low_k
        else:
            better = _log_sums_double(xp, (positive, negative), delta, delta_low, exact=True)
            logs = [(xp.where(flagged[:, None], b[0], a[0]), xp.where(flagged[:, None], b[1], a[1])) for a, b in zip(logs, better, strict=True)]
        values, _ = values_of(logs)
    return values, valid


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

    Accuracy: each anchor's value within 4 ulps of its exact value (0.9 measured, on the
    catalog's draws and the adversarial cases of ``tests/adversarial_multiclass.py``). For
    nearly parallel positives (and far negatives) ``z = lse_p + lse_n`` cancels, and a small
    loss ``softplus(z) ~ e^z`` turns an absolute error of ``z`` into a relative one (float64
    throughout: 27.5 ulps at ``gamma = 80``, 107 at 256). So ``z`` is formed in double
    length: the distances ``1 - x_i . x_j`` rounded once from the exact similarities (Ozaki's
    splitting), the logits ``gamma (w - m) (w + m)`` by TwoSums and TwoProducts, each
    log-sum-exp as its largest logit plus the log (in double length) of a sum by TwoSums of
    ``exp(logit - top)``. Those exponentials are plain where their error (1 ulp each) costs
    the anchor's value under an ulp, and in double length for the anchors where it does not
    (small losses). About 3 (none refined) to 5 (all refined) times the float64 computation's
    time on 256 x 128 unit embeddings. Rows beyond ``2**+-500`` in size keep the float64 computation.

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
        accurate = _circle_values(args)
        if accurate is not None:
            values, valid = accurate
        else:
            parts = _circle_parts(args)
            with np.errstate(over="ignore", invalid="ignore"):
                lse_p = _masked_logsumexp(xp, parts.a, parts.positive)
                lse_n = _masked_logsumexp(xp, parts.b, parts.negative)
            values, valid = _softplus(xp, _softplus_argument(xp, parts, lse_p, lse_n)), parts.valid
        mean_weight = _circle_mean_weight(args, valid, func)
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

    **Accuracy.** The value is within 4 ulps (see :func:`circle_loss`). Each gradient entry is
    within 3 ulps (40 for nearly parallel positives) of
    ``sum_j |G_ij| |x_jk| + |G_ji| |x_jk|`` (the sizes of the terms ``G x + G^T x`` adds,
    ``G`` the derivatives in the similarities: 2.97 measured on 80 draws of unit rows; for
    nearly parallel positives 7.44 in 3 features and 37.6 in 32 at ``gamma = 80``, 35.2 at
    ``gamma = 256``),
    and so within ``3 kappa`` ulps of itself, ``kappa`` that size over the entry: 13 ulps
    measured on the catalog's draws, 589 the worst of 80 draws (``kappa = 711``), the
    budget registered 600. Before, float64 throughout: 89 ulps of the terms, 4239 of the
    entry. Three steps, at about 1.6 times the plain cost:

    * the distances ``1 - x_i . x_j`` rounded once from the exact similarities (Ozaki's
      splitting, see ``_distances``): from the rounded ``s``, the distance of nearly
      parallel rows errs by ``u / d`` relative;
    * each softmax weight as ``exp(a - a_top) / sum``, with ``a - a_top = gamma (u - rho)
      (u + rho)`` from the nearly exact ``u = d`` (or ``1 - d``) and their rounding errors,
      not from the rounded logits (an ulp of ``|a|``, up to ``4 gamma = 320``: 250 ulps
      of the weight) nor from ``exp(a - lse)`` (an ulp of the log-sum-exp besides: up to
      2240 ulps of the gradient);
    * ``u - m`` never formed, so that a distance near the margin costs nothing.

    What remains is float64's rounding of ``G`` (1-3 ulps an entry) through the sum of
    terms of both signs. Within 4 ulps of each entry would need ``G`` in double length
    (the exponentials, the sigmoid, the products) and a compensated matrix product: the
    full double-length computation, 4-40 times the cost.

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
    parts = _circle_parts(args, accurate=True)
    mean_weight = _circle_mean_weight(args, parts.valid, func)
    d = parts.d
    with np.errstate(over="ignore", invalid="ignore"):
        q, lse_p = _softmax_weights(xp, m + d > 0.0, parts.positive, parts.a, d, parts.d_low, g, m)
        r, lse_n = _softmax_weights(xp, 1.0 + m - d > 0.0, parts.negative, parts.b, 1.0 - d, parts.c_low, g, m)
    # Where its weight is active, a = g (d^2 - m^2) and b = g ((1 - d)^2 - m^2): their
    # slopes in d are 2 g d and 2 g (d - 1), and 0 where the weight is clamped to 0.
    # Written so, a clamped term gives 0 even at an infinite distance (0 * inf is NaN).
    # Pairs outside the masks get slope 0 too, so that their q = 0 never meets an infinity.
    da = xp.where(parts.positive & (m + d >= 0.0), (2.0 * g) * d, 0.0)
    db = xp.where(parts.negative & (1.0 + m - d >= 0.0), (2.0 * g) * (d - 1.0), 0.0)
    dd = 0.0 - xp.astype(parts.inside, xp.float64)
    sig = sigmoid_pair(xp, _softplus_argument(xp, parts, lse_p, lse_n))[0]  # 0 where z = -inf: an anchor without loss
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



def _circle_reference_parts(
    xp: Namespace, x: Array, labels: Array, gamma: float, margin: float, remove_diagonal: bool
) -> tuple[Array, ...]:
    """The similarities, the masks of the positives and negatives, and the two logits ``a``, ``b``."""
    s, same = x @ x.T, labels[:, None] == labels[None, :]
    itself = xp.arange(x.shape[0])[:, None] == xp.arange(x.shape[0])[None, :]
    positive, d = same & ~itself if remove_diagonal else same, xp.maximum(1 - s, 0.0)
    a = -gamma * xp.maximum(margin + d, 0.0) * (margin - d)
    b = gamma * xp.maximum(1 - d + margin, 0.0) * (1 - d - margin)
    return s, d, positive, ~same, a, b


def _circle_reference(
    xp: Namespace, x: Array, labels: Array, /, *, gamma: float = 80.0, margin: float = 0.4,
    remove_diagonal: bool = True,
) -> Array:
    _, _, positive, negative, a, b = _circle_reference_parts(xp, x, labels, gamma, margin, remove_diagonal)
    # softplus(log sum_P e^a + log sum_N e^b): 0 for an anchor without a positive or a negative
    return xp.log1p(xp.sum(xp.where(positive, xp.exp(a), 0.0), axis=1) * xp.sum(xp.where(negative, xp.exp(b), 0.0), axis=1))


def _circle_reference_grad(
    xp: Namespace, x: Array, labels: Array, /, *, gamma: float = 80.0, margin: float = 0.4,
    remove_diagonal: bool = True,
) -> Array:
    s, d, positive, negative, a, b = _circle_reference_parts(xp, x, labels, gamma, margin, remove_diagonal)
    ea, eb = xp.where(positive, xp.exp(a), 0.0), xp.where(negative, xp.exp(b), 0.0)
    sum_a, sum_b = xp.sum(ea, axis=1, keepdims=True), xp.sum(eb, axis=1, keepdims=True)
    da = xp.where(margin + d >= 0, 2 * gamma * d, 0.0)  # da/dd, db/dd where the weights are active
    db = xp.where(1 - d + margin >= 0, 2 * gamma * (d - 1), 0.0)
    g = (ea * sum_b * da + eb * sum_a * db) / (1 + sum_a * sum_b) * xp.where(1 - s >= 0, -1.0, 0.0)  # dl_i/ds_ij
    return g @ x + g.T @ x  # s_ij = x_i . x_j


register(
    "circle_loss", _circle_reference, _circle_reference_grad, value_ulps=4, grad_ulps=600,
    why="gradient only (the value is within 4: z = lse_p + lse_n in double length from the exact distances, the "
    "sums' exponentials in double length where the loss is small against them; 107 ulps before at gamma 256). "
    "Gradient: G x + G^T x adds terms of both signs, each with float64's rounding of G (1-3 ulps; the distances and "
    "the softmax weights are formed from the exact similarities and their rounding errors), and an entry can be far "
    "smaller than its terms: within 3 ulps of the terms' sizes (2.97 measured; 7.4 to 37.6 for nearly parallel positives, "
    "35 at gamma 256), so within 3 kappa ulps of the entry; 13 ulps measured on the catalog's draws, 229 on the "
    "adversarial cases, 589 the worst of 80 draws (kappa = 711; 4239 before). Within 4 needs G in double length and "
    "a compensated matrix product, the full double-length computation (4-40x the cost)",
)
