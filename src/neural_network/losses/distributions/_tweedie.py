"""The Tweedie deviances: scikit-learn's ``mean_tweedie_deviance``, ``mean_poisson_deviance`` and ``mean_gamma_deviance``.

Powers 1 (Poisson) and 2 (Gamma) use the forms in ``v = (y - mu) / (y + mu)`` of
:mod:`._deviance`. Other powers use a binomial series in ``y / mu - 1`` near ``y = mu``
and, elsewhere, their three terms formed from a table-driven ``log`` and ``exp`` (about
2**-66) where an error bound allows, else in double-double
(:func:`neural_network._numerics.exp_double`; see :func:`_tweedie_general`).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

from neural_network._numerics import (
    LN2,
    LN2_PARTS,
    exp_double,
    log_double,
    power_of_two,
    split_fraction,
    times_double,
    two_product,
    two_sum,
    veltkamp_split,
)
from neural_network._validation import REAL, Array, Namespace
from neural_network.errors import InvalidOptionError
from neural_network.losses import _table_kernels
from neural_network.losses._common import any_true, real_option, refine_flagged
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses.distributions._deviance import (
    NEAR,
    NONNEGATIVE_TARGET,
    POSITIVE_MEAN,
    POSITIVE_TARGET,
    deviance_quotient,
    deviance_ratio,
    gamma_deviance_derivative,
    gamma_deviance_values,
    log_y_over_mu,
    poisson_deviance_derivative,
    poisson_deviance_values,
    xlogy,
)

# --------------------------------------------------------------------------- other powers


@functools.lru_cache(maxsize=64)
def _tweedie_series(power: float) -> tuple[float, ...]:
    """Coefficients ``c_k``, k = 2..23, of ``f(L) = sum c_k L^k`` (see :func:`_tweedie_general`).

    ``c_k = (1 + b + ... + b^(k-2)) / k!`` with ``b = 2 - power``, each rounded once
    from its exact rational value.
    """
    b = Fraction(2.0 - power)
    return tuple(float(sum(b**i for i in range(k - 1)) / math.factorial(k)) for k in range(2, 24))


@functools.lru_cache(maxsize=64)
def _tweedie_near(power: float) -> tuple[float, tuple[float, ...]]:
    """A bound ``X`` and coefficients ``e_j`` of ``g(x) = x^2 / 2 * sum_j e_j x^j`` for ``|x| <= X``.

    ``g(x) = ((1 + x)^b - 1 - b x) / (a b)`` (``a = 1 - power``, ``b = 2 - power``) is the
    binomial series ``sum_{k >= 2} binom(b, k) x^k / (a b)``: ``e_0 = 1`` and
    ``e_j = 2 (b - 2) ... (b - j - 1) / (j + 2)!``, each rounded once from its exact value.
    ``X`` is 1/4, smaller for large ``|b|``, so that at most 80 terms bring the omitted
    tail below 2**-60 of the sum.
    """
    b = Fraction(2.0 - power)
    bound = Fraction(1, 4)
    while True:
        terms = [Fraction(1)]
        product = Fraction(1)
        for j in range(1, 81):
            product *= (b - j - 1) / (j + 2)
            terms.append(product)
            if all(abs(t) * bound**i < Fraction(1, 2**62) for i, t in enumerate(terms[-3:], start=len(terms) - 3)):
                return float(bound), tuple(float(t) for t in terms)
        bound /= 2


@functools.lru_cache(maxsize=64)
def _tweedie_constants(power: float) -> tuple[tuple[float, float], ...]:
    """``b``, ``1 / (a b)``, ``1 / a`` and ``1 / b`` in double-double (``a = 1 - power``, ``b = 2 - power``).

    From the exact rationals: ``1 - power`` itself is rounded for some powers (-0.3).
    """
    a, b = 1 - Fraction(power), 2 - Fraction(power)
    return tuple(split_fraction(c) for c in (b, 1 / (a * b), 1 / a, 1 / b))


def _tweedie_exact(xp: Namespace, q: Array, q_error: Array, scale: Array, /, *, power: float) -> Array:
    """``2 mu^b (q^b / (a b) - q / a + 1 / b)``, ``q + q_error = y / mu``, ``scale = mu^b``, in double-double.

    ``L = log(q)`` (:func:`log_double`, corrected for ``q_error``) and ``q^b = exp(b L)``
    (:func:`exp_double`) are each formed to about 2**-100, and the three terms are summed
    in double-double: what they lose to cancellation (a factor of a few thousand at
    most outside the near range, see :func:`_tweedie_general`) stays far below an ulp.
    The terms are scaled by ``2**-k``, ``k = round(max(b L, L, 0) / ln 2)``, exactly, so
    that none overflows, and the result by ``2**k``.
    """
    b, inverse_ab, inverse_a, inverse_b = _tweedie_constants(power)
    log_high, log_low = log_double(xp, q)
    log_low = log_low + q_error / q
    e, e_error = times_double(log_high, log_low, b)
    zeros = xp.zeros_like(q)
    k = xp.round(xp.maximum(xp.maximum(e, log_high), zeros) * (1.0 / LN2[0]))
    # e - k ln 2, the products with the first two parts of ln 2 exact (k < 2**11, parts of
    # 27 bits), each added with TwoSum
    head, head_error = two_sum(e, -k * LN2_PARTS[0])
    head, second_error = two_sum(head, -k * LN2_PARTS[1])
    r, r_error = two_sum(head, (head_error + second_error) + (e_error - k * LN2_PARTS[2]))
    power_high, power_low = exp_double(xp, r, r_error)  # q^b 2**-k
    unit = power_of_two(xp, xp.ones_like(q), -k)
    t1, t1_error = times_double(power_high, power_low, inverse_ab)
    t2, t2_error = times_double(q * unit, q_error * unit, inverse_a)
    s, s_error = two_sum(t1, -t2)
    s, s_sum_error = two_sum(s, unit * inverse_b[0])
    g_low = (s_error + s_sum_error) + ((t1_error - t2_error) + unit * inverse_b[1])
    g = scale * s + scale * g_low
    return 2.0 * power_of_two(xp, g, k)


@functools.lru_cache(maxsize=64)
def _tweedie_table_constants(power: float) -> tuple[float, ...]:
    """For :func:`~neural_network.losses._table_kernels.tweedie_terms`: ``b`` (``b = 2 - power``),
    its 26-bit high half (Veltkamp's split) and the rest, ``|b|``, ``a = 1 - power`` as
    ``(high, low)``, and ``1 / (a b)`` as its high half, the rest of its high part and its
    low part, each from the exact rationals."""
    (b, b_low), inverse_ab = _tweedie_constants(power)[:2]
    a_high, a_low = split_fraction(1 - Fraction(power))
    b_head, b_rest = veltkamp_split(b)
    c_head, c_rest = veltkamp_split(inverse_ab[0])
    return (b, b_head, b_rest + b_low, abs(b), a_high, a_low, inverse_ab[0], c_head, c_rest, inverse_ab[1])


def _tweedie_far(xp: Namespace, q: Array, q_error: Array, scale: Array, /, *, power: float) -> Array:
    """:func:`_tweedie_exact`'s value: in float64 mostly the table-driven form's
    (:func:`~neural_network.losses._table_kernels.tweedie_terms`), the same operations
    in every array library."""
    if q.dtype != xp.float64:
        return _tweedie_exact(xp, q, q_error, scale, power=power)
    value, accepted = _table_kernels.tweedie_terms(xp, q, q_error, scale, _tweedie_table_constants(power))
    exact = functools.partial(_tweedie_exact, power=power)
    return refine_flagged(xp, value, ~accepted, exact, q, q_error, scale, harmless=(2.0, 0.0, 1.0))


def _tweedie_log_form(xp: Namespace, mu: Array, ys: Array, scale: Array, /, *, power: float) -> Array:
    """The deviance from ``L = log(y / mu)`` rounded once, for ratios and means beyond :func:`_tweedie_exact`'s range.

    ``2 mu^b f(L)``, ``f(L) = (exp(L) expm1(a L) / a - expm1(L)) / b`` (or
    ``(expm1(b L) / b - expm1(L)) / a`` for ``1.5 < power < 2``, accurate as ``b -> 0``),
    a series in ``L`` where ``|L| max(1, |b|) <= 1``. Its terms cancel by small factors:
    a few tens of ulp.
    """
    a, b = 1.0 - power, 2.0 - power
    coefficients = _tweedie_series(power)
    v, _ = deviance_ratio(xp, ys, mu)
    L = log_y_over_mu(xp, ys, mu, v, xp.abs(v) <= NEAR)
    s = coefficients[-1] * L
    for c in coefficients[-2:0:-1]:
        s += c
        s *= L
    s += coefficients[0]
    series = (L * L) * s
    # Above L = 700 exp(L) overflows: there f = (exp(L) (expm1(a L) / a - 1) + 1) / b,
    # never inf - inf.
    Ld = xp.minimum(L, 700.0)
    direct = (xp.exp(Ld) * (xp.expm1(a * Ld) / a) - xp.expm1(Ld)) / b
    if any_true(xp, L > 700.0):
        huge = (xp.exp(L) * (xp.expm1(a * L) / a - 1.0) + 1.0) / b
        direct = xp.where(L > 700.0, huge, direct)
    if 1.5 < power < 2.0:  # b in (0, 1/2): divide by a instead; b L <= 700 keeps expm1 finite
        bounded = xp.abs(L) * b <= 700.0
        Lb = xp.where(bounded, L, xp.zeros_like(L))
        by_a = (xp.expm1(b * Lb) / b - xp.expm1(Lb)) / a
        direct = xp.where(bounded, by_a, direct)
    f = xp.where(xp.abs(L) * max(1.0, abs(b)) <= 1.0, series, direct)
    return 2.0 * (scale * f)


@functools.lru_cache(maxsize=64)
def _exponents(power: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """``a = 1 - power`` and ``b = 2 - power`` as double-doubles from the exact rationals: ``b``
    is rounded for ``power`` outside [1, 4], ``a`` outside [1/2, 2]."""
    return split_fraction(1 - Fraction(power)), split_fraction(2 - Fraction(power))


def _pow(xp: Namespace, base: Array, exponent: tuple[float, float]) -> Array:
    """``base^(high + low)``: libm's ``pow`` of the rounded exponent, corrected to first order
    where the exponent is not a float. Its rounding alone would cost ``|log base|`` ulp
    (``2**-53 |e log base|`` relative): 600 ulp at ``base = 1e-134``."""
    high, low = exponent
    value = xp.pow(base, high)
    if low == 0.0:
        return value
    return value + value * (low * xp.log(base))


def _power_times(xp: Namespace, z: Array, base: Array, exponent: tuple[float, float]) -> Array:
    """``z base^exponent`` as ``(z h) h``, ``h = base^(exponent / 2)``: finite (and not 0)
    wherever the product is, however far ``base^exponent`` alone is beyond the range (the
    partial product lies between ``z`` and the result). Two roundings and ``h``'s more
    than ``z * base**exponent``: used only where that over- or underflows."""
    h = _pow(xp, base, (exponent[0] / 2.0, exponent[1] / 2.0))
    return (z * h) * h


def _tweedie_terms_summed(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """``2 (y^b / (a b) - y mu^a / a + mu^b / b)``, each term formed within the range.

    For ratios ``y / mu`` beyond 2**+-500 (where it is used) the three terms differ by
    factors of 2**250 or more but where ``b`` or ``a`` is within about 2**-9 of 0 (the
    log form's concern): no cancellation, a few ulp. Each power is formed in two halves
    (:func:`_power_times`), so that a term within the range is never lost to its power
    alone; a term beyond it dominates a deviance that is then beyond it too (it is never
    negative): inf.
    """
    (a, a_low), (b, b_low) = _exponents(power)
    half = (b / 2.0, b_low / 2.0)
    y_half, mu_half = _pow(xp, y, half), _pow(xp, mu, half)  # each term in two halves
    terms = [(y_half / (a * b)) * y_half, -_power_times(xp, y, mu, (a, a_low)) / a, (mu_half / b) * mu_half]
    beyond = xp.isinf(terms[0]) | xp.isinf(terms[1]) | xp.isinf(terms[2])
    if any_true(xp, beyond):
        zeros = xp.zeros_like(terms[0])
        terms = [xp.where(beyond, zeros, term) for term in terms]
    value = 2.0 * ((terms[0] + terms[1]) + terms[2])
    return xp.where(beyond, xp.full_like(value, math.inf), value)


_TERMS_APART = 2.0**-4
"""Where ``|a|`` and ``|b|`` are both at least this, the terms of a deviance at a ratio beyond
2**+-500 differ by factors above e^21 (:func:`_tweedie_extreme_ratio`)."""


_EXTREME_RATIO = 346.0
"""``|log(y / mu)|`` beyond which (ratios beyond about 2**+-500) :func:`_tweedie_extreme_ratio` is used."""


def _extreme_ratio_limit(power: float) -> float:
    """The smallest ``|L|`` at which :func:`_tweedie_extreme_ratio`'s forms keep their bound.

    The three terms differ by factors ``e^(|L| min(1, |a|, |b|))`` over constants within
    2**20 (``|power| <= 2**20``): from ``|L| min(1, |a|, |b|) >= 40`` at least e^26 apart,
    or, for ``|b| > 15``, from ``|L| |b| >= 600`` at least e^(600 / |b|) (the deviance of a
    moderate ratio then leaves the range before they meet). The forms for ``|a|`` or ``|b|``
    below 1/16 keep :data:`_EXTREME_RATIO`.
    """
    spread = min(1.0, abs(1.0 - power), abs(2.0 - power))
    if spread < _TERMS_APART or abs(power) > 2.0**20:
        return _EXTREME_RATIO
    return min(_EXTREME_RATIO, 40.0 / spread, 600.0 / max(1.0, abs(2.0 - power)))


def _tweedie_extreme_ratio(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """The deviance where ``y / mu`` is beyond 2**+-500 (``|L| > 346``, ``L = log(y / mu)``),
    or beyond :func:`_extreme_ratio_limit` where exact's range ends.

    The terms ``y^b / (a b)``, ``-y mu^a / a`` and ``mu^b / b`` (in units of ``mu^b``:
    ``e^(b L) / (a b)``, ``-e^L / a``, ``1 / b``) then differ by factors of at least
    ``e^(|L| min(|a|, |b|))`` (or of ``e^|L|``), more than e^21 where ``|a|, |b| >= 1/16``:
    their sum (:func:`_tweedie_terms_summed`) has no cancellation. No exponential of
    ``L`` appears, whose rounding (an ulp of ``L``, ``2**-45`` absolute at ``|L| = 400``)
    would cost hundreds of ulp. For ``|b| < 1/16`` the first and third terms nearly cancel;
    as ``g = expm1(b L) / (a b) - (q - 1) / a`` (``q = y / mu``) the deviance is
    ``2 (mu^b expm1(b L) / (a b) - (y - mu) mu^a / a)``, and for ``|a| < 1/16`` likewise
    ``2 (y mu^a expm1(a L) / (a b) - (y - mu) mu^a / b)``: two terms that differ by a factor
    of ``|L|`` or more, with ``L`` in double-double (:func:`log_double` of each) and
    ``b L`` (or ``a L``) formed exactly to first order, so that ``expm1`` sees its
    argument to 2**-100. Powers are formed in two halves (:func:`_power_times`).
    """
    (a, a_low), (b, b_low) = _exponents(power)
    if min(abs(a), abs(b)) >= _TERMS_APART or abs(power) > 2.0**20:
        return _tweedie_terms_summed(xp, mu, y, power=power)
    y_high, y_low = log_double(xp, y)
    m_high, m_low = log_double(xp, mu)
    L, L_error = two_sum(y_high, -m_high)
    L_error = L_error + (y_low - m_low)
    c, c_low = (b, b_low) if abs(b) < abs(a) else (a, a_low)
    product, product_error = two_product(L, xp.full_like(L, c))
    product_error = product_error + (c * L_error + c_low * L)
    e = xp.expm1(product)
    e = e + (e + 1.0) * product_error  # expm1(p + dp) = expm1(p) + e^p dp, to first order
    if abs(b) < abs(a):
        first = _power_times(xp, e / (a * b), mu, (b, b_low))
        second = _power_times(xp, (y - mu) / a, mu, (a, a_low))
    else:
        first = _power_times(xp, y * (e / (a * b)), mu, (a, a_low))
        second = _power_times(xp, (y - mu) / b, mu, (a, a_low))
    return 2.0 * (first - second)


def _tweedie_logged(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """:func:`_tweedie_log_form`, but where ``mu^b`` is beyond the float64 range (or 0) while
    the deviance is not (``0 * inf``, or a finite value lost) the sum of the terms
    (:func:`_tweedie_terms_summed`): there one term dominates."""
    scale = _pow(xp, mu, _exponents(power)[1])
    outside = (scale == 0.0) | xp.isinf(scale)
    value = _tweedie_log_form(xp, mu, y, xp.where(outside, xp.ones_like(scale), scale), power=power)
    lost = outside | ~xp.isfinite(value) | (value == 0.0)
    if any_true(xp, lost):
        value = xp.where(lost, _tweedie_terms_summed(xp, mu, y, power=power), value)
    return value


def _tweedie_rescaled(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """The deviance of ``(mu, y)`` as ``2**(k b)`` times that of ``(mu 2**-k, y 2**-k)``.

    The deviance is ``mu^b g(y / mu)``: homogeneous of degree ``b`` in ``(mu, y)``. With
    ``k`` the nearest integer to ``log2(mu)`` both are scaled exactly (``y / mu`` is moderate
    where this is used, so ``y 2**-k`` is too) and the scaled mean is near 1, within every
    accurate form's range. ``k b`` is formed exactly (TwoProduct), ``2**(k b)`` as an exact
    power of two times ``2**f``, ``|f| <= 1/2`` (libm's ``pow``, an ulp): an ulp and two
    roundings more than the scaled deviance's bound.
    """
    b, b_low = _exponents(power)[1]
    k = xp.round(xp.log2(mu))
    scaled = _tweedie_general(xp, power_of_two(xp, mu, -k), power_of_two(xp, y, -k), power=power)
    kb, kb_error = two_product(k, xp.full_like(k, b))
    n = xp.round(kb)
    fraction = (kb - n) + (kb_error + k * b_low)
    n = xp.clip(n, -2200.0, 2200.0)  # beyond, 0 or inf either way (0 where the deviance is)
    # 2**n in two steps within power_of_two's range, the partial result between the two
    # ends (rounded only where the result is)
    half = xp.trunc(n * 0.5)
    return power_of_two(xp, power_of_two(xp, scaled * xp.pow(xp.full_like(k, 2.0), fraction), half), n - half)


def _tweedie_general(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """scikit-learn's deviance for ``power`` not in {0, 1, 2}.

    ``2 (y^b / (a b) - y mu^a / a + mu^b / b)`` with ``a = 1 - power``, ``b = 2 - power``
    is ``2 mu^b g(x)`` for ``y > 0``, where ``x = y / mu - 1`` and
    ``g(x) = ((1 + x)^b - 1 - b x) / (a b)``, 0 at ``x = 0`` where its terms cancel. For
    ``|x| <= X`` (1/4 for moderate powers, see :func:`_tweedie_near`) the deviance is
    ``mu^b x^2 h(x)``, the binomial series ``h(x) = 1 + (b - 2) x / 3 + ...``, with ``x``
    known exactly (``y / mu`` is within [3/4, 5/4]: ``fl(y / mu) - 1`` is exact and the
    quotient's remainder is recovered by TwoProduct) and ``x^2`` formed in double-double:
    nothing cancels. Elsewhere ``g = q^b / (a b) - q / a + 1 / b`` (``q = y / mu``) is
    formed from a table-driven log and exp (:func:`_tweedie_far`) where its
    bound allows, else in double-double (:func:`_tweedie_exact`): there its terms cancel by at most
    ``2 / (|a b| X^2)``, a few thousand, which the double-double precision absorbs.
    Ratios beyond 2**+-500, means beyond 2**+-500 and ``mu^b`` beyond 2**+-1000 keep the
    form in ``log(y / mu)`` (:func:`_tweedie_log_form`). For ``power < 0`` and ``y <= 0``
    the deviance is ``2 (-y mu^a / a + mu^b / b)``, a sum of non-negative terms.
    """
    b = 2.0 - power
    positive = y > 0.0
    ys = xp.where(positive, y, mu)
    scale = _pow(xp, mu, _exponents(power)[1])
    q, log_q, q_error = deviance_quotient(xp, ys, mu)
    # Near y = mu: mu^b x^2 h(x), x = y / mu - 1 in double-double.
    bound, terms = _tweedie_near(power)
    x_head = q - 1.0
    # (mu^b within the range: beyond, the rescaled form below takes the element)
    near = (xp.abs(x_head) <= bound) & (mu < 2.0**500) & (ys > 2.0**-900) & (scale > 0.0) & (scale < math.inf)
    value = xp.zeros_like(q)
    if any_true(xp, near):
        one = xp.ones_like(q)
        qs, ms, yn = xp.where(near, q, one), xp.where(near, mu, one), xp.where(near, ys, one)
        product, product_error = two_product(qs, ms)
        # x = (q - 1) + x_tail exactly to first order; q - 1 is exact but x_tail need not be
        # small beside it (q - 1 may be a few ulp of 1): renormalize before squaring.
        xn, x_tail = two_sum(xp.where(near, x_head, xp.zeros_like(q)), ((yn - product) - product_error) / ms)
        h = terms[-1] * xn
        for t in terms[-2:0:-1]:
            h += t
            h *= xn
        h += terms[0]
        square, square_error = two_product(xn, xn)
        x2 = square + (square_error + 2.0 * (xn * x_tail))
        # h(x) with x's tail: h'(x) ~ e_1, first order
        h = h + terms[1] * x_tail
        value = xp.where(near, (xp.where(near, scale, one) * x2) * h, value)
    far = positive & ~near
    exact = (
        far & (q > 2.0**-500) & (q < 2.0**500) & (mu < 2.0**500) & (ys > 2.0**-900)
        & (scale > 2.0**-1000) & (scale < 2.0**1000)
        # the deviance, at most about mu^b max(q, 1 / q)^max(1, |b|), within the range
        & (xp.log(scale) + xp.abs(log_q) * max(1.0, abs(b)) <= 700.0)
    )
    # Ratios beyond 2**+-500, or far enough apart for the terms where exact's range ends (see
    # _tweedie_extreme_ratio and _extreme_ratio_limit)
    extreme = far & ((xp.abs(log_q) >= _EXTREME_RATIO) | (~exact & (xp.abs(log_q) >= _extreme_ratio_limit(power))))
    harmless = (1.0, 2.0)  # mu, y
    value = refine_flagged(xp, value, extreme, functools.partial(_tweedie_extreme_ratio, power=power), mu, ys, harmless=harmless)
    # A moderate ratio outside exact's range (a mean beyond 2**+-500, or mu^b beyond
    # 2**+-1000): the same deviance of mu and y scaled alike to a mean near 1, where the
    # forms in log(y / mu) take what exact's range still leaves out (large |b| only).
    unit = (mu >= 0.5) & (mu <= 2.0)
    outside = far & ~exact & ~extreme
    rescaled = functools.partial(_tweedie_rescaled, power=power)
    value = refine_flagged(xp, value, outside & ~unit, rescaled, mu, ys, harmless=harmless)
    logged = functools.partial(_tweedie_logged, power=power)
    value = refine_flagged(xp, value, outside & unit, logged, mu, ys, harmless=harmless)
    far_form = functools.partial(_tweedie_far, power=power)
    value = refine_flagged(xp, value, exact, far_form, q, q_error, scale, harmless=(2.0, 0.0, 1.0))
    if power > 0.0:  # 1 < power < 2 allows y == 0: the deviance is then 2 mu^b / b
        return xp.where(positive, value, (2.0 / b) * scale)
    # power < 0: y may be zero or negative (scikit-learn's max(y, 0)^b is 0 there). That
    # branch is evaluated for every element by where(): give the others harmless values
    # (mu = 1, y = 0), or a huge mu there would make inf - inf and a warning for nothing.
    a = 1.0 - power
    y_other = xp.where(positive, xp.zeros_like(y), y)
    mu_other = xp.where(positive, xp.ones_like(mu), mu)
    scale_other = xp.where(positive, xp.ones_like(scale), scale)
    other = 2.0 * ((0.0 - y_other) * _pow(xp, mu_other, _exponents(power)[0]) / a + scale_other / b)
    return xp.where(positive, value, other)


def _tweedie_general_derivative(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    # d/dmu 2 (-y mu^a / a + mu^b / b) = 2 (mu - y) mu^(-power); where mu^(-power) alone
    # is beyond the range (or the product is only through it), in two halves.
    d = mu - y
    h = xp.pow(mu, -power)
    g = d * xp.minimum(h, 1.7976931348623157e308)  # 0 at d = 0 (not 0 * inf), else as d * h
    lost = ((h < 2.0**-1022) | xp.isinf(h) | xp.isinf(g) | (xp.abs(g) < 2.0**-1022)) & (d != 0.0)
    if any_true(xp, lost):
        g = xp.where(lost, _power_times(xp, d, xp.where(lost, mu, xp.ones_like(mu)), (-power, 0.0)), g)
    return 2.0 * g


def _squared(xp: Namespace, mu: Array, y: Array, /) -> Array:
    d = mu - y
    return d * d


def _squared_derivative(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2.0 * (mu - y)


@functools.lru_cache(maxsize=64)
def _tweedie_with(power: float, name: str) -> ElementwiseLoss:
    if power == 0.0:
        input, target, value, derivative = REAL, REAL, _squared, _squared_derivative
    elif power == 1.0:
        input, target, value, derivative = (
            POSITIVE_MEAN, NONNEGATIVE_TARGET, poisson_deviance_values, poisson_deviance_derivative,
        )
    elif power == 2.0:
        input, target, value, derivative = (
            POSITIVE_MEAN, POSITIVE_TARGET, gamma_deviance_values, gamma_deviance_derivative,
        )
    else:
        target = REAL if power < 0 else NONNEGATIVE_TARGET if power < 2 else POSITIVE_TARGET
        input = POSITIVE_MEAN
        value = functools.partial(_tweedie_general, power=power)
        derivative = functools.partial(_tweedie_general_derivative, power=power)
    return ElementwiseLoss(
        name=name,
        input=Operand("input", input),
        target=Operand("target", target),
        value=value,
        derivative=derivative,
    )


def _tweedie(func: str, power: object) -> ElementwiseLoss:
    meaning = "the Tweedie power: a finite number <= 0 or >= 1"
    p = real_option(func, "power", power, meaning=meaning, low=-math.inf, low_included=False)
    if 0.0 < p < 1.0:
        raise InvalidOptionError(
            f"{func}: power must be <= 0 or >= 1; got power={p!r}. No Tweedie distribution has "
            "a power strictly between 0 and 1 (scikit-learn refuses it too). power=0 is the "
            "squared error, 1 Poisson, 2 Gamma, 3 inverse Gaussian."
        )
    return _tweedie_with(p, func.removesuffix("_grad"))


_POISSON_DEVIANCE = _tweedie_with(1.0, "poisson_deviance")
_GAMMA_DEVIANCE = _tweedie_with(2.0, "gamma_deviance")


def tweedie_deviance(
    input: object,
    target: object,
    *,
    power: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Tweedie deviance: scikit-learn's ``mean_tweedie_deviance``.

    .. math:: \ell_i = 2\Bigl(\frac{\max(y_i, 0)^{2-p}}{(1-p)(2-p)}
                        - \frac{y_i\, \mu_i^{1-p}}{1-p} + \frac{\mu_i^{2-p}}{2-p}\Bigr)

    with ``mu = input`` and ``y = target``; the limits ``(mu - y)^2`` for ``p = 0``,
    ``2 (y log(y / mu) - y + mu)`` for ``p = 1`` (Poisson) and
    ``2 (log(mu / y) + y / mu - 1)`` for ``p = 2`` (Gamma).

    Parameters
    ----------
    input : array_like
        Predicted means ``y_pred``: positive (any real number for ``power=0``). Note
        the order: scikit-learn takes ``(y_true, y_pred)``.
    target : array_like
        Observations ``y_true``, the same shape: any real number for ``power <= 0``,
        non-negative for ``1 <= power < 2``, positive for ``power >= 2``.
    power : float, keyword-only
        ``<= 0`` or ``>= 1`` (default 0.0, as in scikit-learn).
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` is scikit-learn's value.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``, as
        scikit-learn's ``sample_weight`` (given per element).

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    Raises
    ------
    InvalidOptionError
        If ``0 < power < 1``.
    OutOfRangeError
        If an argument is outside its domain for ``power`` (as scikit-learn refuses it).

    See Also
    --------
    tweedie_deviance_grad : its gradient, ``2 (mu - y) mu^(-p)``.
    poisson_deviance, gamma_deviance : ``power=1`` and ``power=2``.

    Notes
    -----
    scikit-learn evaluates the formula above as written, whose terms cancel as
    ``mu -> y`` (where the deviance is 0): with ``mu`` within 1e-9 of ``y`` its
    deviance has few correct digits. Here the deviance is formed from ``log(y / mu)``
    and ``(y - mu) / (y + mu)`` with series where the terms would cancel (see the
    module's notes), so the Poisson and Gamma deviances are within a few ulp of the
    exact value everywhere. For other powers a binomial series in ``y / mu - 1`` (known
    exactly) covers ``|y / mu - 1| <= 1/4`` (less for ``|2 - p| > 4``); farther out the
    three terms are formed from ``log`` and ``exp`` to about 2**-66 (a table) where an
    error bound allows it, else in double-double (to about 2**-100), so that their
    cancellation costs nothing. Each element is within 4 ulp of the exact
    value (3 measured, powers -1 to 10, ``mu`` and ``y`` over 12 decades), also for
    ``p`` near 1 or 2. Ratios ``y / mu`` or means beyond 2**+-500 (or ``mu^(2-p)``
    beyond 2**+-1000) take forms scaled by powers of two, or forms in ``log(y / mu)``
    whose terms do not cancel: 3.9 ulp measured (ratios up to e^+-700, means up to
    e^+-690, powers -1 to 10). The gradient ``2 (mu - y) mu^(-p)`` is within 4 ulp (2.5 measured)
    (``mu^(-p)`` in two halves where it alone is beyond the range), and 0 at ``mu = y``.

    Examples
    --------
    scikit-learn's example (``mean_tweedie_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.],
    power=1)``, 1.4260...):

    >>> print(tweedie_deviance([0.5, 0.5, 2.0, 2.0], [2, 0, 1, 4], power=1))
    1.4260151319598084
    """
    loss = _tweedie("tweedie_deviance", power)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def tweedie_deviance_grad(
    input: object,
    target: object,
    *,
    power: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`tweedie_deviance` with respect to ``input`` (``mu``).

    .. math:: \frac{\partial \ell_i}{\partial \mu_i} = 2\,(\mu_i - y_i)\,\mu_i^{-p}

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(tweedie_deviance_grad([1.0, 2.0], [1.0, 1.0], power=2, reduction="none"))
    [0.  0.5]
    """
    loss = _tweedie("tweedie_deviance_grad", power)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _tweedie_reference(xp: Namespace, mu: Array, y: Array, /, *, power: float = 0.0) -> Array:
    if power in (0.0, 1.0, 2.0):  # the limits
        return [_squared_reference, _poisson_deviance_reference, _gamma_deviance_reference][int(power)](xp, mu, y)
    # the three terms over mu^b: (y / mu)^b / (a b) - (y / mu) / a + 1 / b, on one denominator
    a, b = 1 - xp.asarray(power), 2 - xp.asarray(power)  # exact in the tests' arithmetic
    q = y / mu
    return 2 * mu**b * (xp.maximum(q, 0) ** b - b * q + a) / (a * b)


def _tweedie_reference_grad(xp: Namespace, mu: Array, y: Array, /, *, power: float = 0.0) -> Array:
    return 2 * (mu - y) * mu ** -xp.asarray(power)


def _squared_reference(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return (mu - y) ** 2


register("tweedie_deviance", _tweedie_reference, _tweedie_reference_grad)


def poisson_deviance(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Poisson deviance: scikit-learn's ``mean_poisson_deviance``.

    .. math:: \ell_i = 2\,\bigl(y_i \log(y_i / \mu_i) - y_i + \mu_i\bigr)

    (``y log(y / mu) = 0`` for ``y = 0``); :func:`tweedie_deviance` with ``power=1``.
    ``input`` is the predicted mean ``mu > 0`` and ``target`` the count ``y >= 0``
    (scikit-learn's order is ``(y_true, y_pred)``). Each element is within a few ulp of
    the exact value, also where ``mu`` is close to ``y`` (see :func:`tweedie_deviance`).

    Examples
    --------
    scikit-learn's example (``mean_poisson_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.])``, 1.4260...):

    >>> print(poisson_deviance([0.5, 0.5, 2.0, 2.0], [2, 0, 1, 4]))
    1.4260151319598084
    """
    return _POISSON_DEVIANCE(input, target, reduction=reduction, sample_weight=sample_weight)


def poisson_deviance_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`poisson_deviance` with respect to ``input``: ``2 (mu - y) / mu``.

    Within 1.5 ulp of the exact value (``mu - y`` and the division, each rounded once).

    Examples
    --------
    >>> print(poisson_deviance_grad([1.0, 2.0], [1.0, 1.0], reduction="none"))
    [0. 1.]
    """
    return _POISSON_DEVIANCE.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _poisson_deviance_reference(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2 * (xlogy(xp, y, y / mu) - y + mu)


def _poisson_deviance_reference_grad(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2 * (mu - y) / mu


register("poisson_deviance", _poisson_deviance_reference, _poisson_deviance_reference_grad)


def gamma_deviance(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gamma deviance: scikit-learn's ``mean_gamma_deviance``.

    .. math:: \ell_i = 2\,\bigl(\log(\mu_i / y_i) + y_i / \mu_i - 1\bigr)

    :func:`tweedie_deviance` with ``power=2``: ``input`` is the predicted mean ``mu > 0``
    and ``target`` the observation ``y > 0`` (scikit-learn's order is ``(y_true, y_pred)``).
    Scale-invariant: it depends on ``y / mu`` only. Each element is within a few ulp of
    the exact value, also where ``mu`` is close to ``y``.

    Examples
    --------
    scikit-learn's example (``mean_gamma_deviance([2, 0.5, 1, 4], [0.5, 0.5, 2., 2.])``, 1.0568...):

    >>> print(gamma_deviance([0.5, 0.5, 2.0, 2.0], [2, 0.5, 1, 4]))
    1.0568528194400546
    """
    return _GAMMA_DEVIANCE(input, target, reduction=reduction, sample_weight=sample_weight)


def gamma_deviance_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`gamma_deviance` with respect to ``input``: ``2 (mu - y) / mu^2``.

    Within 2 ulp of the exact value (``mu - y`` and two divisions, each rounded once).

    Examples
    --------
    >>> print(gamma_deviance_grad([1.0, 2.0], [1.0, 1.0], reduction="none"))
    [0.  0.5]
    """
    return _GAMMA_DEVIANCE.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _gamma_deviance_reference(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2 * (xp.log(mu / y) + y / mu - 1)


def _gamma_deviance_reference_grad(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2 * (mu - y) / mu**2


register("gamma_deviance", _gamma_deviance_reference, _gamma_deviance_reference_grad)
