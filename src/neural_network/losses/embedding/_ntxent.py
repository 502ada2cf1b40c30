"""NT-Xent, the normalized temperature-scaled cross-entropy: optax's ``ntxent`` (SimCLR's loss, in the
convention of pytorch-metric-learning's ``NTXentLoss``). Computed in float64, rounded once.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import log_double, two_sum
from neural_network._validation import REAL, Array, Namespace
from neural_network.errors import OutOfRangeError, ShapeMismatchError
from neural_network.losses._common import real_option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._per_list import check_mean, reduce_list_gradient, reduce_lists, sample_weights
from neural_network.losses._reference import register
from neural_network.losses.embedding._feature_rows import (
    divide_double,
    dot_double,
    exp_nonpositive,
    product_double,
    row_sum_double,
    scaled_rows,
    sqrt_double,
)

_PAIRS = "the number of positive pairs (labels that occur at least twice)"
"""What the mean of NT-Xent divides by, as its errors name it."""

def _ntxent_prepare(
    func: str, embeddings: object, labels: object, temperature: object, reduction: object, sample_weight: object
) -> tuple[Namespace, Array, Array, float, str, Array | None, Any]:
    checked_reduction = _validation.check_reduction(func, reduction)
    t = real_option(func, "temperature", temperature, meaning="a positive finite number dividing the cosine similarities",
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
    w = sample_weights(func, sample_weight, xp, device, (x.shape[0],), checked_reduction)
    return xp, x64, _validation.working(xp, y), t, checked_reduction, w, x.dtype


def _unit_rows(xp: Namespace, x: Array) -> tuple[Array, Array, Array]:
    """The unit rows ``u``, and the norms ``nv`` of ``x`` divided by ``largest``, each row's
    largest magnitude (columns), so that ``x = largest nv u``."""
    largest = xp.max(xp.abs(x), axis=1, keepdims=True)
    v = x / largest
    nv = xp.sqrt(xp.sum(v * v, axis=1, keepdims=True))
    return v / nv, nv, largest


def _pairs(xp: Namespace, y: Array) -> tuple[Array, Array]:
    """The masks of the positive pairs (equal labels, not the diagonal) and the negative ones."""
    rows = xp.arange(y.shape[0], device=array_api_compat.device(y))
    same = y[:, None] == y[None, :]
    return same & (rows[:, None] != rows[None, :]), ~same


def _ntxent_parts(xp: Namespace, x: Array, y: Array, t: float) -> tuple[Array, ...]:
    """Unit rows ``u``, their scaled norms, the masks, ``s = cos / t`` and ``a_ij = lse_neg_i - s_ij``.

    ``lse_neg_i`` is the log-sum-exp of ``s_ik`` over the negatives ``k`` of anchor ``i``
    (``-inf`` if it has none), so the loss of the pair ``(i, j)`` is ``softplus(a_ij)``.
    """
    u, nv, largest = _unit_rows(xp, x)
    s = (u @ xp.permute_dims(u, (1, 0))) / t
    positive, negative = _pairs(xp, y)
    top = xp.max(xp.where(negative, s, -math.inf), axis=1, keepdims=True)
    finite_top = xp.where(xp.isfinite(top), top, 0.0)
    shifted = xp.where(negative, s - finite_top, -math.inf)
    summed = xp.sum(xp.exp(shifted), axis=1, keepdims=True)  # at least 1 where there are negatives
    lse = xp.where(xp.isfinite(top), finite_top + xp.log(xp.where(summed > 0.0, summed, 1.0)), -math.inf)
    a = xp.where(positive, lse - s, -math.inf)
    return u, nv, largest, s, positive, negative, lse, a


_TEMPERATURES = (2.0**-900, 2.0**900)
"""The temperatures of the double-length similarities (:func:`_similarities_double`): beyond
them the rows ``u / t`` would overflow the splits of the double-length products, or their
low parts underflow, and the value and gradient keep the plain float64 computation (there
``1 / t`` is so large that no loss of a finite float64 is small against it, or so small
that every ``a`` is ``log`` of the negatives' count to within ``2**-900``)."""

_EXP_ERROR = 2.5
"""Each exponential of the log-sum-exp's plain sum, ``exp(d) + exp(d) d_low``, within this many
``u`` of ``exp(d + d_low)``: a libm ``exp`` within 1 ulp (2u), the correction's addition (u/2)."""

_SUM_SHARE = 1.0
"""The ulps of an anchor's loss left to the plain sum's error (the rest is the softplus's and
the positives' sum's): an anchor whose bound exceeds it gets the double-length sum."""


def _similarities_double(xp: Namespace, x: Array, t: float) -> tuple[Array, Array]:
    """``s = cos(x_i, x_j) / t`` as ``s_hi + s_lo``, within about ``(2 D + 2) 2**-b u / t``
    absolute (``b`` the bits of the split of :func:`product_double`: ``2**-67 / t`` for ``D = 128``).

    The rows scaled by powers of two (exact), their norms in double length (products and
    sums exact to ``u**2``, :func:`sqrt_double`), the unit rows ``u`` and ``u / t`` each as
    a double-length pair (:func:`divide_double`), and their products ``(u / t) u^T`` as an
    exact part and a small rounded rest (:func:`product_double`), added by TwoSum.
    """
    v, _ = scaled_rows(xp, x)
    square, square_lo = dot_double(xp, v, v)  # |v_i|**2 in [1, 4 D)
    norm, norm_lo = sqrt_double(xp, square, square_lo)
    u, u_lo = divide_double(xp, v, 0.0 * v, norm[:, None], norm_lo[:, None])
    ut, ut_lo = divide_double(xp, u, u_lo, t + 0.0 * u, 0.0 * u)
    exact, rest = product_double(xp, ut, ut_lo, u, u_lo)
    return two_sum(exact, rest)


def _exact_log_sums(xp: Namespace, d: Array, d_lo: Array) -> tuple[Array, Array]:
    """``log sum_k exp(d_k + d_lo_k)`` of each row as ``(high, low)`` columns, within about
    ``2**-65`` absolute: each exponential in double length (:func:`exp_nonpositive`), summed by
    TwoSums (:func:`row_sum_double`), its log too (:func:`log_double`). Rows with a term
    ``d = 0`` (the sum at least 1); terms below -700 (below ``2**-1000`` of the sum) count 0."""
    inside = d > -700.0
    e, e_lo = exp_nonpositive(xp, xp.where(inside, d, 0.0), xp.where(inside, d_lo, 0.0))
    total, total_lo = row_sum_double(xp, xp.where(inside, e, 0.0), xp.where(inside, e_lo, 0.0))
    total = xp.where(total > 0.0, total, 1.0)  # rows without a term (not asked for): no log(0)
    high, low = log_double(xp, total)
    return high, low + total_lo / total


def _pair_losses(
    xp: Namespace, counted: Array, log_s: Array, log_s_lo: Array, delta: Array, delta_lo: Array
) -> tuple[Array, Array]:
    """Each anchor's ``sum_j softplus(a_ij)`` and ``sum_j sigmoid(a_ij)`` over its ``counted``
    pairs, ``a_ij = log S_i - delta_ij`` in double length (``log_s`` a column): the softplus
    of ``a_hi`` corrected by ``sigmoid(a_hi) a_lo`` (first order). On NumPy over the counted
    pairs only (few: a positive or two an anchor), summed an anchor at a time."""
    n = counted.shape[0]

    def terms(log_s: Array, log_s_lo: Array, delta: Array, delta_lo: Array) -> tuple[Array, Array]:
        a, a_error = two_sum(log_s, -delta)
        a_lo = a_error + (log_s_lo - delta_lo)
        tail = xp.exp(0.0 - xp.abs(a))
        sig = xp.where(a >= 0.0, 1.0, tail) / (1.0 + tail)
        return (xp.maximum(a, 0.0) + xp.log1p(tail)) + sig * a_lo, sig

    if isinstance(counted, np.ndarray):
        anchor, other = np.nonzero(counted)
        loss, sig = terms(log_s[anchor, 0], log_s_lo[anchor, 0], delta[anchor, other], delta_lo[anchor, other])
        return np.bincount(anchor, loss, minlength=n), np.bincount(anchor, sig, minlength=n)
    loss, sig = terms(log_s, log_s_lo, xp.where(counted, delta, 0.0), xp.where(counted, delta_lo, 0.0))
    return xp.sum(xp.where(counted, loss, 0.0), axis=1), xp.sum(xp.where(counted, sig, 0.0), axis=1)


def _ntxent_core(xp: Namespace, x: Array, y: Array, t: float) -> tuple[Array, ...]:
    """The positive pairs, those with a loss (their anchor has a negative), the anchors with
    a negative (a column), ``delta = s - top`` in double length, ``d`` (``delta`` on the
    negatives, ``-inf`` elsewhere) and ``log S`` in double length (from plain exponentials):
    see :func:`_ntxent_values`."""
    n = x.shape[0]
    device = array_api_compat.device(x)
    s, s_lo = _similarities_double(xp, x, t)
    rows = xp.arange(n, device=device)
    same = y[:, None] == y[None, :]
    negative = ~same
    has_negative = xp.any(negative, axis=1, keepdims=True)
    positive = same & (rows[:, None] != rows[None, :])
    counted = positive & has_negative  # the positive pairs with a loss
    top_index = xp.argmax(xp.where(negative, s, -math.inf), axis=1, keepdims=True)
    columns = rows[None, :] == top_index
    top = xp.sum(xp.where(columns, s, 0.0), axis=1, keepdims=True)  # one term: exact
    top_lo = xp.sum(xp.where(columns, s_lo, 0.0), axis=1, keepdims=True)
    # delta = s - top, in double length (<= 0 on the negatives, the top's own term exactly 0)
    delta, delta_error = two_sum(s, -top)
    delta_lo = delta_error + (s_lo - top_lo)
    d = xp.where(negative, delta, -math.inf)
    e = xp.exp(d)
    summed, summed_lo = row_sum_double(xp, e + e * delta_lo, 0.0 * e)
    summed = xp.where(has_negative, summed, 1.0)  # at least 1 (the top's term) where there are negatives
    log_s, log_s_lo = log_double(xp, summed)
    log_s_lo = log_s_lo + summed_lo / summed
    return positive, counted, has_negative, delta, delta_lo, d, log_s, log_s_lo


def _ntxent_values(xp: Namespace, x: Array, y: Array, t: float) -> tuple[Array, Array]:
    """Each anchor's summed pair losses, rounded a few times from their exact value, and the
    positive mask.

    ``a_ij = lse_i - s_ij`` cancels where the anchor's positive outscores its negatives
    (confident positives: the loss ``softplus(a) ~ e^a`` small against the logits ``1 / t``),
    and an absolute error of ``a`` is a relative one of the loss there. So ``a`` is formed in
    double length: the similarities (:func:`_similarities_double`), their differences
    ``delta_ik = s_ik - top_i`` from the anchor's largest negative (TwoSum), ``S_i = sum_k
    exp(delta_ik)`` over the negatives and ``a_ij = log S_i - delta_ij`` (:func:`log_double`,
    TwoSum); then ``softplus(a_hi) + sigmoid(a_hi) a_lo``. ``S`` is summed in double length
    from plain exponentials (each within ``_EXP_ERROR`` u): its relative error moves the
    anchor's loss by that times ``sum_j sigmoid(a_ij) / sum_j softplus(a_ij)`` relative;
    where this exceeds ``_SUM_SHARE`` ulp, the anchor's exponentials are taken in double
    length too (:func:`exp_nonpositive`: about ``2**-65``). Then ``a`` is within about
    ``2**-65 + (2 D + 2) 2**-b u / t`` absolute, and the loss within the softplus's roundings
    (about 2 ulps) and the sum of the positives' terms.
    """
    core = _ntxent_core(xp, x, y, t)
    positive, counted, has_negative, delta, delta_lo, d, log_s, log_s_lo = core
    values, slopes = _pair_losses(xp, counted, log_s, log_s_lo, delta, delta_lo)
    flagged = xp.reshape(has_negative, (-1,)) & (_EXP_ERROR * slopes > _SUM_SHARE * values)
    if not bool(xp.any(flagged)):
        return values, positive
    if isinstance(flagged, np.ndarray):
        index = np.flatnonzero(flagged)
        log_s, log_s_lo = np.array(log_s), np.array(log_s_lo)
        log_s[index], log_s_lo[index] = _exact_log_sums(np, d[index], delta_lo[index])
    else:
        exact, exact_lo = _exact_log_sums(xp, d, delta_lo)
        log_s = xp.where(flagged[:, None], exact, log_s)
        log_s_lo = xp.where(flagged[:, None], exact_lo, log_s_lo)
    return _pair_losses(xp, counted, log_s, log_s_lo, delta, delta_lo)[0], positive


def _ntxent_slopes(xp: Namespace, x: Array, y: Array, t: float) -> tuple[Array, Array]:
    """``sigmoid(a_ij)`` on the positive pairs and the softmax ``q_ik = exp(s_ik - lse_i)`` on
    the negatives (0 elsewhere), each from the double-length ``a`` and ``s - lse`` of
    :func:`_ntxent_core`, rounded about once."""
    _, counted, _, delta, delta_lo, d, log_s, log_s_lo = _ntxent_core(xp, x, y, t)
    a, a_error = two_sum(log_s, -delta)
    a_lo = a_error + (log_s_lo - delta_lo)
    a = xp.where(counted, a, -math.inf)
    sig = _sigmoid(xp, a)
    sig = xp.where(counted, sig + (sig * (1.0 - sig)) * a_lo, 0.0)  # sigmoid(a + a_lo), to first order
    finite = xp.isfinite(d)
    argument, argument_error = two_sum(xp.where(finite, d, 0.0), -log_s)
    argument_lo = argument_error + (delta_lo - log_s_lo)
    q = xp.exp(xp.where(finite, argument, -math.inf))
    return sig, q + q * xp.where(finite, argument_lo, 0.0)


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

    Accuracy: each anchor's value within 4 ulps of its exact value (1.2 measured, on the
    catalog's draws and the adversarial cases of ``tests/adversarial_ranking.py``). The loss
    ``softplus(a)``, ``a = lse - s``, cancels where the positive outscores the negatives (a
    small loss against logits of about ``1 / temperature``), and an absolute error of ``a``
    is a relative one of the loss there: so ``a`` is formed in double length, from cosines
    accurate to about ``2**-67 / temperature`` for ``D = 128`` (the unit rows in double length,
    their products by Ozaki's splitting: four matrix products of ``D`` columns), their differences
    from the anchor's largest negative by TwoSum, the log-sum-exp's sum by TwoSums and its log
    in double length. Its exponentials are plain where their error (1 ulp each) costs the
    anchor's value under an ulp, and in double length for the anchors where it does not (the
    confident ones). About 1.7 (none refined) to 3.4 (all refined) times the float64
    computation's time on 256 x 128 embeddings.
    Temperatures beyond ``2**+-900`` keep the float64 computation.

    Examples
    --------
    >>> x = [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [-0.1, 1.0]]
    >>> print(f"{ntxent_loss(x, [0, 0, 1, 1], temperature=1.0):.6f}")
    0.554380
    """
    func = "ntxent_loss"
    xp, x, y, t, reduction_, w, dtype = _ntxent_prepare(func, embeddings, labels, temperature, reduction, sample_weight)
    if x.shape[0] == 0:  # no anchor: no pair (a maximum over no negatives has no value)
        values, positive = xp.zeros_like(x[:, 0]), xp.astype(xp.zeros_like(x[:, :0]), xp.bool)
    elif _TEMPERATURES[0] <= t <= _TEMPERATURES[1]:
        values, positive = _ntxent_values(xp, x, y, t)
    else:
        *_, positive, _, _, a = _ntxent_parts(xp, x, y, t)
        values = xp.sum(xp.where(positive, _softplus(xp, a), 0.0), axis=1)
    return reduce_lists(func, xp, values, reduction_, w, _pair_counts(xp, positive), dtype,
                   _PAIRS, (x.shape[0],))


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
    Accuracy, stated: ``sigmoid(a_ij)`` and ``q_ik`` are rounded about once from the
    double-length ``a`` and ``s - lse`` of :func:`ntxent_loss`; what remains is the matrix
    product ``G u + G^T u`` and the projection, whose terms cancel (an entry can be a
    thousandth of its row's largest). Measured: 107 ulps on the catalog's draws (temperature
    0.07, ``D = 4``), 194 on the adversarial cases (``D = 64``; 842 there before, from the
    cosines' float64 rounding over the temperature); the budget registered 240. 4 ulps would
    need ``G`` and that product in double length.

    Examples
    --------
    >>> g = ntxent_loss_grad([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], [0, 0, 1], temperature=1.0)
    >>> print(g.shape, g.dtype)
    (3, 2) float64
    """
    func = "ntxent_loss_grad"
    xp, x, y, t, reduction_, w, dtype = _ntxent_prepare(func, embeddings, labels, temperature, reduction, sample_weight)
    if x.shape[0] == 0:  # no anchor: an empty gradient (a mean of no pairs is refused)
        if reduction_ == "mean":
            check_mean(func, xp, xp.zeros_like(x[:, 0]), _PAIRS)
        return xp.astype(xp.zeros_like(x), dtype, copy=False)
    if _TEMPERATURES[0] <= t <= _TEMPERATURES[1]:
        u, nv, largest = _unit_rows(xp, x)
        positive, _ = _pairs(xp, y)
        sig, q = _ntxent_slopes(xp, x, y, t)
    else:
        u, nv, largest, s, positive, negative, lse, a = _ntxent_parts(xp, x, y, t)
        sig = xp.where(positive, _sigmoid(xp, a), 0.0)
        q = xp.where(negative, xp.exp(xp.where(negative, s - xp.where(xp.isfinite(lse), lse, 0.0), -math.inf)), 0.0)
    g = q * xp.sum(sig, axis=1, keepdims=True) - sig  # d(anchor loss)/ds, row by row
    count = _pair_counts(xp, positive)
    # The weights of a sum scaled (and the result brought back): huge ones do not overflow
    # the products below, where rows of opposite signs would make inf - inf.
    w, exponent = _reduction.sum_weights(xp, w, reduction_)
    g = reduce_list_gradient(func, xp, g, reduction_, w, count, xp.float64,
                         _PAIRS)
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
    "ntxent_loss", _ntxent_reference, _ntxent_reference_grad, value_ulps=4, grad_ulps=240,
    why="gradient only (the value is within 4: a = lse - s in double length, from cosines accurate to "
    "about 2**-67 / temperature (D = 128), the log-sum-exp's exponentials in double length where the anchor's "
    "loss is small against them). The gradient's sigmoids and softmax shares are rounded about once "
    "from the same double-length a and s - lse, but G u + G^T u and the projection onto the sphere "
    "add terms of both signs, and an entry can be a thousandth of its row's largest: measured 107 "
    "ulps on the catalog's draws, 194 on the adversarial cases (842 there with float64 cosines)",
)
