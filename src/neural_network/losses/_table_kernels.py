"""Table-driven ``exp`` and ``log`` in about 2**-66 relative, for every array library.

The count losses (``poisson_nll_loss``, ``generalized_kl_divergence``,
``tweedie_deviance``) need ``exp`` and ``log`` to more than float64's precision where
their terms cancel. Double-double forms (:func:`~neural_network._numerics.exp_double`)
give 2**-100 at a few tens of operations an element; most elements need less. The
kernels here use one table, ``T_j = 2**(j / 2**15)`` in double-double
(:func:`~neural_network._numerics.exp_table`), for both functions, trust libm only to
choose a table entry, and say per element whether their result is within its bound;
the callers recompute the refused elements in double-double.

Every step is an array-API operation (``take`` for the table), so NumPy, PyTorch, CuPy,
JAX and array-api-strict run the same operations in the same order and give the same
bits for each element, whatever the array's length or library.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from neural_network._numerics import (
    EXP_INVERSE_STEP,
    EXP_STEP,
    TABLE_BITS,
    exp_table,
    power_of_two,
    two_sum,
    veltkamp_split,
)
from neural_network._validation import Array, Namespace

STEP_TAIL = EXP_STEP[1] + EXP_STEP[2]
"""The second and third parts of ln 2 / 2**15 in one float: ``k * STEP_TAIL`` is off by 2**-72 at most."""

STEP = EXP_STEP[0] + STEP_TAIL
"""ln 2 / 2**15 in one float."""


def table_entries(xp: Namespace, n: Array) -> tuple[Array, Array, Array]:
    """``T_j`` as ``(high, low)`` and ``floor(n / 2**15)``, ``j = n mod 2**15``, for integral float ``n``."""
    exponent = xp.floor(n * 2.0**-TABLE_BITS)
    index = xp.astype(n - 2.0**TABLE_BITS * exponent, xp.int64)
    t_high, t_low = exp_table()
    if isinstance(n, np.ndarray):
        return t_high.take(index), t_low.take(index), exponent  # take: the same entries, faster than [index]
    # The array API's take reads a 1-d index only: the flattened index, then n's shape.
    device = array_api_compat.device(n)
    flat = xp.reshape(index, (-1,))
    shape = tuple(n.shape)
    high = xp.reshape(xp.take(xp.asarray(t_high, device=device), flat), shape)
    low = xp.reshape(xp.take(xp.asarray(t_low, device=device), flat), shape)
    return high, low, exponent


def exp_parts(xp: Namespace, n: Array, r: Array) -> tuple[Array, Array]:
    """``e^(n s + r)`` as ``high + low``, ``s = ln 2 / 2**15``, to about 2**-67 relative, for integral float ``n`` and ``|r| <= 2**-15.5``.

    ``2**(n / 2**15) = 2**floor(n / 2**15) T_j`` and ``e^r = 1 + P(r)``, ``P`` four terms
    of ``expm1`` (the fifth is below 2**-89): ``high`` is the scaled ``T_j`` (the table's
    first part, exact), ``low`` the scaled ``T_j P(r) + T_j'``, below 2**-16 of it, whose
    roundings (and ``P``'s) count about 2**-69 of the result. Exact scaling needs
    ``floor(n / 2**15)`` within [-1022, 1023].
    """
    p = (((r * (1.0 / 24.0) + 1.0 / 6.0) * r + 0.5) * r) * r + r
    t_high, t_low, exponent = table_entries(xp, n)
    p = p * t_high + t_low
    if isinstance(exponent, np.ndarray):  # power_of_two's ldexp, with the exponent converted once
        scale = exponent.astype(np.int32)
        return np.ldexp(t_high, scale), np.ldexp(p, scale)
    return power_of_two(xp, t_high, exponent), power_of_two(xp, p, exponent)


MEDIUM_LIMIT = 2.0**11
"""Largest ``(e^w + 1) / f(w)`` for which :func:`deviance_of_exp`'s value is accepted."""


def deviance_of_exp(xp: Namespace, x: Array, t: Array) -> tuple[Array, Array]:
    """``t f(w)``, ``f(w) = e^w - 1 - w``, ``w = x - log t``, to about 2**-66, and where that is within 2.1 ulp.

    The generalized KL divergence ``t log(t / e^x) - t + e^x`` (float64), with the table
    for both the log and the exp, and no libm result trusted beyond choosing table entries:

    * ``log t = k s + log1p(delta)``, ``s = ln 2 / 2**15``, ``k`` the nearest integer to
      ``log(t) / s`` and ``delta = t / 2**(k / 2**15) - 1`` (``|delta| <= 2**-16.5``), from
      ``t 2**-floor(k / 2**15)`` less ``T`` (exact, Sterbenz) and one division; ``log1p``
      as four terms of its series;
    * ``w = n s + r`` with ``K = n + k`` the nearest integer to ``x / s``: ``x - K s1`` is
      exact as in :func:`~neural_network._numerics.exp_double`, and
      ``r = (x - K s1) - (K s' + log1p(delta))``, ``|r| <= 2**-15.5``;
    * ``e^w = 2**(n / 2**15) (1 + P(r))`` by :func:`exp_parts`, as ``high + low``;
      ``f = (e^w - 1) - n s1 - (n s' + r)``, the first two subtractions with TwoSum.

    The errors, each from one rounding of a term: ``e^w`` within 2**-66.5 relative, ``w``
    (as seen by ``e^w`` and by ``-w`` alike) within 2**-66.8, and the sums within
    ``2**-67.5 e^w + 2**-66.6``, so that ``f`` is within ``2**-11.78 (e^w + 1) / f`` ulp
    before its last rounding: with the value's two roundings, at most 1.5 ulp plus that.
    An element is accepted where ``(e^w + 1) / f <= 2**11`` (2.1 ulp at most): all but
    ``|w| < 0.06`` (near the minimum, ``e^x`` near ``t``), where the caller uses the
    double-double forms. ``t = 0`` gives ``e^x`` itself (``w = x``, ``high + low`` rounded
    once). Also refused: ``t`` beyond 2**+-1000, ``|x| > 700`` or ``|w| > 600``.

    Returns the value and the accepted mask.
    """
    zero = t == 0.0
    inside = (xp.abs(x) <= 700.0) & (zero | ((t >= 2.0**-1000) & (t <= 2.0**1000)))
    # Operands whose values are discarded need only be harmless (finite results, no
    # warnings): t = 0 is taken as 1 (its log is 0, and e^w = e^x), t > 2**1000 as
    # 2**1000, |x| > 700 as +-700.
    t = xp.minimum(t, 2.0**1000)
    ts = xp.where(zero, xp.ones_like(t), t)
    xs = xp.clip(x, -700.0, 700.0)
    k = xp.round(xp.log(ts) * EXP_INVERSE_STEP)
    K = xp.round(xs * EXP_INVERSE_STEP)
    n = K - k
    inside = inside & (xp.abs(n) <= 600.0 * EXP_INVERSE_STEP)
    n = xp.clip(n, -601.0 * EXP_INVERSE_STEP, 601.0 * EXP_INVERSE_STEP)  # e^w finite everywhere
    # log1p(delta), delta = t / T_k - 1
    t_high, t_low, exponent = table_entries(xp, k)
    delta = ((power_of_two(xp, ts, -exponent) - t_high) - t_low) / t_high
    log1p = ((((delta * -0.25 + 1.0 / 3.0) * delta - 0.5) * delta) * delta) + delta
    # r = x - K s - log1p(delta)
    r = (xs - K * EXP_STEP[0]) - (K * STEP_TAIL + log1p)
    e_high, e_low = exp_parts(xp, n, r)  # e^w = e^(n s + r)
    # f = (e^w - 1) - n s1 - (n s' + r)
    s, s_error = two_sum(e_high, xp.full_like(e_high, -1.0))
    h, h_error = two_sum(s, n * -EXP_STEP[0])
    value = h + ((e_low - (n * STEP_TAIL + r)) + (h_error + s_error))
    accepted = ((e_high + 1.0 <= value * MEDIUM_LIMIT) | zero) & inside
    # t f, or e^x where t = 0 (there f is finite and multiplied by 0)
    return value * t + (e_high + e_low) * xp.astype(zero, t.dtype), accepted


CANCELLATION_LIMIT = 2.0**14
"""Largest ``(e^x + t x) / |e^x - t x|`` for which :func:`exp_minus_product`'s value is accepted."""


def exp_minus_product(xp: Namespace, x: Array, t: Array) -> tuple[Array, Array]:
    """``exp(x) - t x`` for ``|x| <= 709`` and ``|t| < 2**996``, with ``exp`` to about 2**-67 and ``t x`` exactly, and where that is within 1.6 ulp.

    ``e^x = high + low`` by :func:`exp_parts` (``K`` the nearest integer to ``x / s``,
    ``x - K s1`` exact as in :func:`~neural_network._numerics.exp_double`, then less
    ``K (s2 + s3)``, off by 2**-69 at most) and ``t x = P + P'`` with ``P`` the (exact)
    product of the 26-bit high halves of each (Veltkamp's split) and ``P'`` the rest,
    below 2**-25 of it, rounded twice (2**-77). ``high - P`` is exact where the two are
    within a factor 2 (Sterbenz); elsewhere the terms cancel by a factor below 3 and its
    rounding is half an ulp of about the value. The sum of the steps' bounds puts
    ``(high - P) + (low - P')`` within ``2**-66.9 (e^x + t x)`` plus its rounding of the
    exact value: accepted where ``(e^x + t x) / |v| <= 2**14`` (:data:`CANCELLATION_LIMIT`),
    there within 0.54 + 0.5 ulp (1 + 0.5 where ``high - P`` is inexact).

    Returns the value and the accepted mask.
    """
    n = xp.round(x * EXP_INVERSE_STEP)
    r = (x + n * -EXP_STEP[0]) - n * STEP_TAIL
    high, low = exp_parts(xp, n, r)
    t_high, t_low = veltkamp_split(t)
    x_high, x_low = veltkamp_split(x)
    product = t_high * x_high
    value = (high - product) + (low - (t_low * x + x_low * t_high))
    accepted = xp.abs(value) >= (high + product) * (1.0 / CANCELLATION_LIMIT)
    return value, accepted


DIFFERENCE_LIMIT = 2.0**12
"""Largest ``e^x / |e^x - t|`` for which :func:`exp_less`'s value is accepted."""


def exp_less(xp: Namespace, x: Array, t: Array) -> tuple[Array, Array]:
    """``e^x - t`` for ``|x| <= 708``, with ``e^x`` to about 2**-67 (:func:`exp_parts`), and where that is within 1 ulp.

    ``x = n s + r`` as in :func:`exp_minus_product` (``r`` off by 2**-69 at most),
    ``e^x = high + low``, and ``(high - t) + low``: ``high - t`` is exact where the two are
    within a factor 2 (Sterbenz; elsewhere rounded, half an ulp of about the value, which
    the callers' elements are within a factor 2.4 of). The value is then within
    ``2**-66.5 e^x`` plus its roundings: accepted where ``e^x / |v| <= 2**12``
    (:data:`DIFFERENCE_LIMIT`), there within 0.35 + 0.5 ulp (+ 0.5 where ``high - t`` is
    rounded).

    Returns the value and the accepted mask.
    """
    n = xp.round(x * EXP_INVERSE_STEP)
    r = (x + n * -EXP_STEP[0]) - n * STEP_TAIL
    high, low = exp_parts(xp, n, r)
    value = (high - t) + low
    return value, xp.abs(value) * DIFFERENCE_LIMIT >= high


TWEEDIE_LIMIT = 2.0**9
"""Largest ``(q^b (1 + |b|) + |b q| + |a|) / |q^b - b q + a|`` for which :func:`tweedie_terms`'s value is accepted."""

SPLIT_LIMIT = 2.0**996
"""Below this a float's split (Veltkamp's, multiplying by 2**27 + 1) does not overflow."""


def tweedie_terms(
    xp: Namespace, q: Array, q_error: Array, scale: Array, constants: tuple[float, ...]
) -> tuple[Array, Array]:
    """``2 mu^b (q^b / (a b) - q / a + 1 / b)`` (``q + q_error = y / mu``, ``scale = mu^b``) with ``log q`` and ``q^b`` to about 2**-66, and where that is within 2 ulp.

    ``g = S / (a b)`` with ``S = q^b - b q + a`` (``q`` standing for ``q + q_error``),
    from the table for both the log and the exp; ``constants`` are ``b = 2 - power``, its
    first 26 bits and the rest, ``|b|``, ``a = 1 - power`` as ``(high, low)``, and
    ``1 / (a b)`` as its first 26 bits, the rest of its high part and its low part:

    * ``log q = k s + rest``, ``k`` the nearest integer to ``log(q) / s``,
      ``rest = log1p(delta) + q_error / q`` with ``delta = q / 2**(k / 2**15) - 1`` as in
      :func:`deviance_of_exp`;
    * ``b log q = N s + r``: ``b k`` is ``b1 k`` (``b1`` the first 26 bits of ``b``,
      exact) plus ``b' k``, ``N`` the nearest integer to ``b k + b rest / s``, and
      ``r = ((b1 k - N) + b' k) s + b rest`` (``b1 k - N`` exact), off by about
      ``2**-68 (1 + |b|)``; ``q^b = e^(N s + r)`` by :func:`exp_parts`;
    * ``b q`` as the exact product of the 26-bit halves (Veltkamp's split of ``q``), and
      the rest (below 2**-24 of it, with ``b q_error``), rounded to 2**-77;
    * ``S`` with TwoSum for the two large additions, then scaled by ``2 mu^b / (a b)``
      with ``mu^b / (a b)`` formed exactly (split products) from libm's ``mu^b``: two
      roundings and ``mu^b``'s.

    ``S`` is then within ``2**-64 (q^b (1 + |b|) + |b q| + |a|)`` (a margin of 4 over the
    sum of the steps' bounds); accepted where that is at most 2**-9 of ``|S|``
    (:data:`TWEEDIE_LIMIT`), there a quarter ulp, where ``|b log q| <= 700`` (``q^b`` a
    normal float) and ``mu^b < 2**996`` (its split). The callers keep ``q`` within
    2**+-500. Returns the value and the accepted mask.
    """
    (b, b_head, b_tail, b_size, a_high, a_low, c, c_head, c_tail, c_low) = constants
    # log q = k s + rest
    k = xp.round(xp.log(q) * EXP_INVERSE_STEP)
    t_high, t_low, exponent = table_entries(xp, k)
    delta = ((power_of_two(xp, q, -exponent) - t_high) - t_low) / t_high
    rest = (((((delta * -0.25 + 1.0 / 3.0) * delta - 0.5) * delta) * delta) + delta) + q_error / q
    # b log q = N s + r
    head = k * b_head  # exact: 26 bits times |k| < 2**25
    tail = k * b_tail
    b_rest = rest * b
    n = xp.round((b_rest * EXP_INVERSE_STEP + tail) + head)
    inside = (xp.abs(n) <= 700.0 * EXP_INVERSE_STEP) & (scale < SPLIT_LIMIT)
    n = xp.clip(n, -701.0 * EXP_INVERSE_STEP, 701.0 * EXP_INVERSE_STEP)  # harmless elsewhere
    r = (((head - n) + tail) * STEP) + b_rest
    high, low = exp_parts(xp, n, r)  # q^b
    # -b q = minus + minus_tail, the first exact
    q_head, q_tail = veltkamp_split(q)
    minus = q_head * -b_head
    minus_tail = (q * -b_tail + q_tail * -b_head) + q_error * -b
    size = (xp.abs(minus) + abs(a_high)) + high * (1.0 + b_size)
    # S = (q^b - b q) + a in double-double
    total, error = two_sum(high, minus)
    s_high, s_error = two_sum(total, xp.full_like(total, a_high))
    error = ((error + s_error) + (low + minus_tail)) + a_low  # S = s_high + error
    accepted = (xp.abs(s_high) >= size * (1.0 / TWEEDIE_LIMIT)) & inside
    # 2 mu^b / (a b) = 2 (w + w_error), mu^b c split into exact products
    scale = xp.minimum(scale, SPLIT_LIMIT)  # harmless where refused
    scale_head, scale_tail = veltkamp_split(scale)
    w = scale * c
    w_error = (((scale_head * c_head - w) + scale_head * c_tail) + scale_tail * c_head) + scale_tail * c_tail
    w_error = w_error + scale * c_low
    return (s_high * w + (error * w + w_error * s_high)) * 2.0, accepted


def log_parts(xp: Namespace, s: Array) -> tuple[Array, Array]:
    """``log s`` as ``high + low`` to about 2**-68 absolute, for normal ``s > 0``: ``high = k s1`` exact.

    ``k`` is the nearest integer to ``log(s) / step`` (``step = ln 2 / 2**15``, libm's log
    only chooses it), ``delta = s / 2**(k / 2**15) - 1`` from the table as in
    :func:`deviance_of_exp` (``|delta| <= 2**-16.5``; ``s`` less the table's high part is
    exact), and ``low = k (s2 + s3) + log1p(delta)``, four terms of its series. Near
    ``s = 1`` (``k = 0``) ``delta = s - 1`` exactly and ``low`` is ``log1p(delta)`` to
    2**-80 of itself.
    """
    k = xp.round(xp.log(s) * EXP_INVERSE_STEP)
    t_high, t_low, exponent = table_entries(xp, k)
    delta = ((power_of_two(xp, s, -exponent) - t_high) - t_low) / t_high
    log1p = ((((delta * -0.25 + 1.0 / 3.0) * delta - 0.5) * delta) * delta) + delta
    return k * EXP_STEP[0], k * STEP_TAIL + log1p
