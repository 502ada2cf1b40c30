"""What the count losses share: their domains, and the deviance ``y log(y / mu) - y + mu`` formed without cancellation.

The deviances measure how far ``y`` is from the predicted mean ``mu``, and are 0 where
they meet: the textbook formulas subtract terms that nearly cancel there (for Poisson,
``y log(y / mu)`` against ``y - mu``), losing every digit as ``mu -> y``. Here the value
is formed from ``v = (y - mu) / (y + mu)``, where ``log(y / mu) = 2 atanh(v)``:

* Poisson: ``y log(y / mu) - y + mu = v (y - mu) + 2 y T(v)``,
* Gamma:   ``y / mu - 1 - log(y / mu) = v (y - mu) / mu - 2 T(v)``,

with ``T(v) = atanh(v) - v = v^3 / 3 + v^5 / 5 + ...`` summed as a series for
``|v| <= 1/3`` (18 terms, ``v^2 <= 1/9``: the omitted tail is below 2**-58 of the
result). In that range ``y / mu`` lies in [1/2, 2], so ``y - mu`` is exact (Sterbenz),
and the leading term ``v (y - mu) = (y - mu)^2 / (y + mu)`` carries no cancellation.
Outside it the terms differ by at least a factor of about 3.6 and the direct formula is
used, with ``log(y / mu)`` corrected for the rounding of the quotient. The same
deviance of ``t`` against the mean ``e^x`` (:func:`deviance_of_exp`) is
``poisson_nll_loss``'s Stirling form and the generalized KL divergence; ``e^x - t``
(:func:`exp_less`) is the gradient of both.
"""

from __future__ import annotations

import numpy as np

from neural_network._numerics import (
    LN2,
    LN2_PARTS,
    exp_double,
    log_double,
    power_of_two,
    two_product,
    two_sum,
)
from neural_network._validation import Array, Domain, Namespace
from neural_network.losses import _table_kernels
from neural_network.losses._common import any_true, refine_flagged

# --------------------------------------------------------------------------- domains


def _count_hint(low: float, high: float) -> str:
    return (
        " A Poisson target is a count or a rate, never negative. Standardized targets? "
        "Use the original (non-negative) scale. Swapped arguments? These functions take "
        "(input=prediction, target=observation); scikit-learn's take (y_true, y_pred)."
    )


def _rate_hint(low: float, high: float) -> str:
    return (
        " The predicted mean must be positive. A model that predicts log-means should apply "
        "exp first (or use poisson_nll_loss, whose default log_input=True takes the log-mean); "
        "swapped arguments? These functions take (input=y_pred, target=y_true), the opposite "
        "of scikit-learn's order."
    )


def _positive_target_hint(low: float, high: float) -> str:
    return (
        " This deviance is defined for positive observations only (scikit-learn refuses 0 "
        "too): use power between 1 and 2 (compound Poisson) for targets with zeros."
    )


COUNT = Domain("finite non-negative numbers (counts or rates)", 0.0, hint=_count_hint)
RATE = Domain("finite non-negative numbers (predicted rates)", 0.0, hint=_rate_hint)
POSITIVE_MEAN = Domain("finite positive numbers (predicted means)", 5e-324, hint=_rate_hint)
POSITIVE_TARGET = Domain("finite positive numbers", 5e-324, hint=_positive_target_hint)
NONNEGATIVE_TARGET = Domain("finite non-negative numbers", 0.0, hint=_count_hint)


def exclude_zero(xp: Namespace, z: Array, keep: Array) -> Array:
    """``where(keep, z, 1)`` for ``z >= 0``: a harmless argument for a log whose factor is 0.

    On NumPy without ``where``: ``maximum(z, not keep)`` is ``z`` where ``keep`` (``z >= 0``)
    and at least 1 elsewhere, where its log is finite and multiplied by 0.
    """
    if isinstance(z, np.ndarray):
        return np.maximum(z, ~keep)
    return xp.where(keep, z, xp.ones_like(z))


def xlogy(xp: Namespace, t: Array, z: Array) -> Array:
    """``t log z``, 0 where ``t == 0`` (its limit)."""
    return xp.where(t > 0, t * xp.log(xp.where(t > 0, z, 1)), 0)


# --------------------------------------------------------------------------- deviances: pieces

NEAR = 1.0 / 3.0
"""|v| below which the series is used: y / mu in [1/2, 2]."""

_ATANH_TAIL = tuple(1.0 / (2 * j + 1) for j in range(1, 19))
"""``(atanh(v) - v) / v^3 = 1/3 + v^2 / 5 + ...``: 18 terms suffice for ``v^2 <= 1/9``."""


def _atanh_tail(xp: Namespace, v: Array) -> Array:
    """``atanh(v) - v`` for ``|v| <= 1/3`` (larger ``|v|`` give a finite, unused value)."""
    z = v * v
    s = _ATANH_TAIL[-1] * z
    for c in _ATANH_TAIL[-2:0:-1]:
        s += c
        s *= z
    s += _ATANH_TAIL[0]
    return (v * z) * s


def deviance_ratio(xp: Namespace, y: Array, mu: Array) -> tuple[Array, Array]:
    """``v = (y - mu) / (y + mu)`` and ``y - mu`` for ``y >= 0``, ``mu > 0``."""
    d = y - mu
    total = y + mu
    v = d / total
    overflow = xp.isinf(total)
    if any_true(xp, overflow):  # only near the float64 limit: halve (exactly) and divide again
        v = xp.where(overflow, (0.5 * y - 0.5 * mu) / (0.5 * y + 0.5 * mu), v)
    return v, d


def deviance_quotient(xp: Namespace, y: Array, mu: Array) -> tuple[Array, Array, Array]:
    """``q = fl(y / mu)``, ``log(y / mu)`` and ``y / mu - q``, for ``y > 0``, ``mu > 0``.

    ``y = q mu + r`` exactly (``r`` from TwoProduct where the operands are in its
    range), so ``y / mu = q + r / mu`` and ``log(y / mu) = log(q) + r / y`` to first
    order. Where TwoProduct could overflow or underflow the correction is left out
    (there ``|log(y / mu)| > 346`` and the quotient's half-ulp error hardly counts). A
    ``q`` beyond the float64 range is clipped to the largest float; where it under- or
    overflows the log is ``log(y) - log(mu)`` (far apart there: nothing cancels).
    """
    q = xp.minimum(y / mu, 1.7976931348623157e308)
    safe = (q < 2.0**500) & (mu < 2.0**500) & (y > 2.0**-900) & (q > 2.0**-500)
    one = xp.ones_like(q)
    qs, ms = xp.where(safe, q, one), xp.where(safe, mu, one)
    product, product_error = two_product(qs, ms)
    r = xp.where(safe, (xp.where(safe, y, product) - product) - product_error, xp.zeros_like(q))
    log_q = xp.log(q) + r / y
    outside = (q < 2.0**-1000) | (q >= 1.7976931348623157e308)
    if any_true(xp, outside):  # the quotient under- or overflowed: the logs are far apart, no cancellation
        log_q = xp.where(outside, xp.log(y) - xp.log(mu), log_q)
    return q, log_q, r / mu


def log_y_over_mu(xp: Namespace, y: Array, mu: Array, v: Array, near: Array) -> Array:
    """``log(y / mu)`` to about an ulp: ``2 atanh(v)`` near ``y = mu``, else the corrected log.

    Requires ``y > 0``.
    """
    series = 2.0 * (v + _atanh_tail(xp, v))
    return xp.where(near, series, deviance_quotient(xp, y, mu)[1])


# --------------------------------------------------------------------------- Poisson deviance


def poisson_deviance_values(xp: Namespace, mu: Array, y: Array, /) -> Array:
    """``2 (y log(y / mu) - y + mu)``, 0 at ``y = mu``, to a few ulp everywhere."""
    v, d = deviance_ratio(xp, y, mu)
    near = xp.abs(v) <= NEAR
    series = v * d + 2.0 * y * _atanh_tail(xp, v)
    positive = y > 0.0
    ys = xp.where(positive, y, mu)  # a harmless y where y == 0 (its term is 0)
    log_ratio = deviance_quotient(xp, ys, mu)[1]
    far = xp.where(positive, y * log_ratio, xp.zeros_like(y)) - d
    return 2.0 * xp.where(near, series, far)


def poisson_deviance_derivative(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2.0 * ((mu - y) / mu)


def _deviance_of_dd(xp: Namespace, y: Array, m: Array, m_low: Array) -> Array:
    """``y log(y / mu) - y + mu`` for ``mu = m + m_low`` (double-double, normal), ``y >= 0``.

    :func:`poisson_deviance_values`'s forms (half of it) with a mean known to twice the
    working precision, and each step kept to about an ulp. Near ``y = mu`` (``|v| <= 1/3``,
    ``v = (y - mu) / (y + mu)``): ``v (y - mu) = (y - mu)**2 / (y + mu)`` with the
    difference, its square and the sum in double-double, then one division. Where the far
    form's terms ``y log(y / mu)`` and ``y - mu`` still cancel by a factor above about 1.6
    (``|v| <= 0.8``, ``y / mu`` within [1/9, 9]) they are formed in double-double too
    (:func:`log_double`, TwoProduct); beyond, the corrected libm log is enough.
    """
    d, d_error = two_sum(y, -m)
    d, d_error = two_sum(d, d_error - m_low)
    total, total_error = two_sum(y, m)
    total_error = total_error + m_low
    v = d / total
    overflow = xp.isinf(total)
    if any_true(xp, overflow):  # only near the float64 limit: halve (exactly) and divide again
        v = xp.where(overflow, (0.5 * d) / (0.5 * y + 0.5 * m), v)
        total_error = xp.where(overflow, xp.zeros_like(v), total_error)
    near = xp.abs(v) <= NEAR
    # (d + d_error)**2 / (total + total_error) to first order, d squared exactly where
    # TwoProduct can (|d| < 2**500); beyond, v d (a value near the float64 limit).
    inside = xp.abs(d) < 2.0**500
    dn = xp.where(inside, d, xp.zeros_like(d))
    square, square_error = two_product(dn, dn)
    quotient = square / total
    quotient = quotient + ((square_error + 2.0 * dn * d_error) - quotient * total_error) / total
    series = xp.where(inside, quotient, v * d) + 2.0 * y * _atanh_tail(xp, v)
    positive = y > 0.0
    ys = xp.where(positive, y, m)
    q, log_q, q_error = deviance_quotient(xp, ys, m)
    log_ratio = log_q - m_low / m
    far = xp.where(positive, y * log_ratio, xp.zeros_like(y)) - (d + d_error)
    value = xp.where(near, series, far)
    middle = (~near) & (xp.abs(v) <= 0.8) & positive & (m < 2.0**500) & (m > 2.0**-500)
    operands = (y, m, m_low, q, q_error, d, d_error)
    return refine_flagged(xp, value, middle, _far_deviance_exact, *operands, harmless=(1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0))


def _far_deviance_exact(
    xp: Namespace, y: Array, m: Array, m_low: Array, q: Array, q_error: Array, d: Array, d_error: Array
) -> Array:
    """``y log(y / mu) - (y - mu)`` with the log and the product in double-double.

    ``y / mu = q + q_error`` (``q_error`` the quotient's remainder over ``m``) divided by
    ``1 + m_low / m``: its log is ``log(q) + q_error / q - m_low / m`` to second order.
    """
    log_high, log_low = log_double(xp, q)
    log_low = log_low + (q_error / q - m_low / m)
    p, p_error = two_product(y, log_high)
    s, s_error = two_sum(p, -d)
    return s + (s_error + ((p_error + y * log_low) - d_error))


def deviance_of_exp(xp: Namespace, x: Array, t: Array) -> Array:
    """``t log(t / e^x) - t + e^x`` (``t >= 0``), to a few ulp wherever it is finite.

    In float64 most elements take the table-driven form
    (:func:`~neural_network.losses._table_kernels.deviance_of_exp`, a few tens of
    operations each); those it does not accept, and other dtypes, take
    :func:`_deviance_of_exp_double`. Both are array-API code: every library computes
    the same operations for an element, and so gets the same bits.
    """
    if x.dtype != xp.float64 or t.dtype != xp.float64:
        return _deviance_of_exp_double(xp, x, t)
    value, accepted = _table_kernels.deviance_of_exp(xp, x, t)
    return refine_flagged(xp, value, ~accepted, _deviance_of_exp_double, x, t)


def _deviance_of_exp_double(xp: Namespace, x: Array, t: Array) -> Array:
    """``t log(t / e^x) - t + e^x`` (``t >= 0``) in double-double, to a few ulp wherever it is finite.

    The deviance is homogeneous in ``(t, e^x)``: beyond ``|x| = 300`` both are scaled by
    ``2**k``, ``k = -round(x / ln 2)``, exactly (``x + k ln 2`` in double-double), so that
    ``e^x`` is formed in double-double (:func:`exp_double`) near 1, where the quotient's
    remainder is exact too, and the value is scaled back by one rounding. Where ``t 2**k``
    would reach 2**1000 (``t`` far above ``e^x``), or ``|x| > 1100``, the terms are far
    apart and ``t ((log t - x) - 1) + e^x`` is used.
    """
    zeros = xp.zeros_like(x)
    clipped = xp.clip(x, -1100.0, 1100.0)
    far = xp.abs(clipped) > 300.0
    scaled = any_true(xp, far)
    k = xp.where(far, xp.round(clipped * (-1.0 / LN2[0])), zeros) if scaled else zeros
    ts = power_of_two(xp, t, k) if scaled else t
    regular = (xp.abs(x) <= 1100.0) & (ts < 2.0**1000)
    # x + k ln 2: the products with the first two parts are exact (|k| < 2**11, parts of
    # 27 bits) and each is added with TwoSum (k times the second is still about 1e-6)
    head, head_error = two_sum(clipped, k * LN2_PARTS[0])
    head, second_error = two_sum(head, k * LN2_PARTS[1])
    xs, xs_error = two_sum(head, (head_error + second_error) + k * LN2_PARTS[2])
    # Outside the regular range give the double-double path harmless operands (discarded).
    m, m_low = exp_double(xp, xp.where(regular, xs, zeros), xp.where(regular, xs_error, zeros))
    value = _deviance_of_dd(xp, xp.where(regular, ts, zeros), m, m_low)
    if scaled:
        value = power_of_two(xp, value, -k)
    if any_true(xp, ~regular):
        log_t = xp.log(exclude_zero(xp, t, t > 0.0))
        plain = t * ((log_t - x) - 1.0) + xp.exp(xp.minimum(x, 710.0))
        value = xp.where(regular, value, plain)
    return value



# --------------------------------------------------------------------------- Gamma deviance


def gamma_deviance_values(xp: Namespace, mu: Array, y: Array, /) -> Array:
    """``2 (log(mu / y) + y / mu - 1)``, 0 at ``y = mu``, to a few ulp everywhere."""
    v, d = deviance_ratio(xp, y, mu)
    near = xp.abs(v) <= NEAR
    series = v * (d / mu) - 2.0 * _atanh_tail(xp, v)
    # y / mu - 1 with both roundings kept: q - 1 (TwoSum) and the quotient's remainder.
    q, log_ratio, q_error = deviance_quotient(xp, y, mu)
    u, u_error = two_sum(q, -1.0)
    # q clipped at the largest float (y / mu beyond the float64 range) overflows to inf here.
    far = (u - log_ratio) + (u_error + q_error)
    return 2.0 * xp.where(near, series, far)


def gamma_deviance_derivative(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2.0 * (((mu - y) / mu) / mu)


# --------------------------------------------------------------------------- e^x - t


def exp_less(xp: Namespace, x: Array, t: Array, /) -> Array:
    """``e^x - t`` (``t >= 0``), the gradient of ``poisson_nll_loss`` and of the generalized KL
    divergence, within 4 ulp of the exact value (1.9 measured) wherever it is finite.

    libm's ``exp`` less ``t`` where the two differ by at least ``e^x / 1.75``: the exp's
    rounding, at most 3.5 times as many ulps of the difference, and the subtraction's:
    within 4 ulp for an exp within an ulp (2.25 for glibc's, within half an ulp).
    Closer (``e^x`` within a factor 2.4 of ``t``: the prediction near the target, where the
    gradient vanishes) the difference magnifies the rounding of ``exp``: there ``e^x`` is
    formed to about 2**-67 (the table, :func:`~neural_network.losses._table_kernels.exp_less`)
    or, where ``e^x`` and ``t`` agree to more than 12 bits, in double-double
    (:func:`exp_double`, about 2**-102), and ``t`` is subtracted exactly (Sterbenz). Where
    ``x`` is ``log t`` rounded (the two agree to all but the last bits of ``x``) that leaves
    an absolute error of about ``2**-102 t``, which in ulps of the (tiny) difference is
    unbounded as ``x`` tends to ``log t``: 1.5 ulp on the tests' adversarial cases.
    """
    e = xp.exp(x)
    value = e - t
    return refine_flagged(xp, value, xp.abs(value) * 1.75 < e, _exp_less_close, x, t, harmless=(0.0, 1.0))


def _exp_less_close(xp: Namespace, x: Array, t: Array) -> Array:
    """:func:`exp_less` where ``e^x`` is within a factor 2.4 of ``t`` (so ``x < 709.8``): the
    table's value for ``|x| <= 708``, within its bound, else :func:`_exp_less_exact`."""
    if x.dtype != xp.float64:
        return _exp_less_exact(xp, x, t)
    if isinstance(x, np.ndarray) and x.size and np.minimum.reduce(x, axis=None) >= -708.0 and np.maximum.reduce(x, axis=None) <= 708.0:
        value, accepted = _table_kernels.exp_less(np, x, t)  # as below, where the clip changes nothing
        refused = np.flatnonzero(~accepted)
        if refused.size:
            value[refused] = _exp_less_exact(np, x[refused], t[refused])
        return value
    value, accepted = _table_kernels.exp_less(xp, xp.clip(x, -708.0, 708.0), t)
    accepted = accepted & (xp.abs(x) <= 708.0)
    return refine_flagged(xp, value, ~accepted, _exp_less_exact, x, t, harmless=(0.0, 1.0))


def _exp_less_exact(xp: Namespace, x: Array, t: Array) -> Array:
    high, low = exp_double(xp, x)
    return (high - t) + low
