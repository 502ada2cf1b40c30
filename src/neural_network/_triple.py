"""Exp and log in triple length (about 2**-150), and exact sums of float expansions.

For the losses whose two terms can agree to 53 bits or more, after the double-length
functions of :mod:`neural_network._numerics` (2**-100) have settled every other element.
"""

from __future__ import annotations

import decimal
import functools
import math
from fractions import Fraction

import array_api_compat
import numpy as np

from neural_network._numerics import (
    EXP_INVERSE_STEP,
    TABLE_BITS,
    log_double,
    power_of_two,
    split_fraction,
    two_product,
    two_sum,
)
from neural_network._validation import Array, Namespace

# Where the two terms of a loss agree to 53 bits or more (x = log(t) rounded: the
# divergence of a distribution from itself), a double-double exp or log (2**-100) still
# leaves 2**6 ulp of the difference: exp_triple and log_triple carry about 2**-149 (2**-154.6
# and 2**-150.7 measured against mpmath on 4,500 arguments each), so that such a difference
# keeps its ulps wherever the terms differ by more than about 2**-96 of themselves.
# Results are expansions: lists of floats whose exact sum is the value (not normalized; the first is the rounded value to within a few ulps). They cost a few hundred
# operations an element: callers use them on the elements a cheaper path cannot settle.


def distill(parts: list[Array], count: int = 3) -> list[Array]:
    """``count`` floats whose sum is ``sum(parts)`` within about ``((n - 1) u)**count sum(|parts|)``.

    Each pass is VecSum (Ogita, Rump and Oishi): the parts summed in order by TwoSum,
    the rounded sum kept as the next component and the rounding errors, exact, as the
    next pass's parts (their magnitudes sum to at most ``gamma_{n-1}`` of the pass's);
    the last pass adds its errors to its sum plainly. However much the parts cancel, the
    components sum to ``sum(parts)`` to within ``gamma_{n-1}**count sum(|parts|)`` and
    the last rounding. Where the parts do not cancel (a value and its smaller corrections)
    the first component is their sum to about an ulp; where they do, the components may
    overlap: :func:`rounded_sum` gives such a sum as one float.
    """
    out: list[Array] = []
    for step in range(count):
        total = parts[0]
        errors: list[Array] = []
        for part in parts[1:]:
            total, error = two_sum(total, part)
            errors.append(error)
        if step == count - 1 or not errors:
            for error in errors:
                total = total + error
            out.append(total)
            break
        out.append(total)
        parts = errors
    return out


def rounded_sum(parts: list[Array], folds: int = 4) -> Array:
    """``sum(parts)`` as one float, within ``(u + gamma_{n-1}**2) |sum| + gamma_{2n-2}**folds sum(|parts|)``.

    Ogita, Rump and Oishi's SumK: ``folds - 1`` passes of VecSum over the whole vector
    (each leaves the sum unchanged, exactly, and moves it into the last element), then the
    others summed plainly and added to it. However much the parts cancel, the result is
    within about an ulp of their exact sum while ``gamma**folds sum(|parts|)`` is below it
    (:func:`distill`'s components, which may overlap where they cancel, are summed so).
    """
    values = list(parts)
    for _ in range(folds - 1):
        for i in range(1, len(values)):
            values[i], values[i - 1] = two_sum(values[i], values[i - 1])
    total = values[0]
    for value in values[1:-1]:
        total = total + value
    return total + values[-1]


def _round_to_bits(value: decimal.Decimal, bits: int) -> float:
    """``value`` rounded to a float of at most ``bits`` significant bits."""
    mantissa, exponent = math.frexp(float(value))
    return math.ldexp(round(mantissa * 2.0**bits), exponent - bits)


def _decimal_triple(value: decimal.Decimal) -> tuple[float, float, float]:
    high = float(value)
    rest = value - decimal.Decimal(high)
    middle = float(rest)
    return high, middle, float(rest - decimal.Decimal(middle))


@functools.lru_cache(maxsize=1)
def triple_constants() -> tuple[tuple[float, ...], tuple[float, float, float], tuple[np.ndarray, ...]]:
    """``(step, ln2, table)`` for :func:`exp_triple` and :func:`log_triple`, from :mod:`decimal` at 80 digits.

    ``step``: ln 2 / 2**15 as four floats of at most 27 bits and a fifth (``k * part`` is
    exact for the first four, ``|k| < 2**26``; together about 2**-161 relative). ``ln2``:
    ln 2 in three floats (2**-159). ``table``: ``2**(j / 2**15)`` for ``j`` in [0, 2**15)
    as three float64 arrays, the products of ``2**(i / 256)`` and ``2**(k / 2**15)``
    (``k < 128``, both to 2**-159) in triple length (about 2**-155 relative).
    """
    with decimal.localcontext() as context:
        context.prec = 80
        ln2 = decimal.Decimal(2).ln()
        rest = ln2 / 2**TABLE_BITS
        step: list[float] = []
        for _ in range(4):
            step.append(_round_to_bits(rest, 27))
            rest -= decimal.Decimal(step[-1])
        step.append(float(rest))
        two = decimal.Decimal(2)
        coarse = np.array([_decimal_triple(two ** (decimal.Decimal(i) / 256)) for i in range(256)])
        fine = np.array([_decimal_triple(two ** (decimal.Decimal(k) / 2**TABLE_BITS)) for k in range(128)])
        ln2_parts = _decimal_triple(ln2)
    a = [np.repeat(coarse[:, i], 128) for i in range(3)]
    b = [np.tile(fine[:, i], 256) for i in range(3)]
    p, p_error = two_product(a[0], b[0])
    q, q_error = two_product(a[0], b[1])
    s, s_error = two_product(a[1], b[0])
    table = distill([p, q, s, p_error, q_error, s_error, a[0] * b[2] + a[1] * b[1] + a[2] * b[0]], 3)
    return tuple(step), ln2_parts, tuple(table)


def _table_lookup(xp: Namespace, table: np.ndarray, index: Array) -> Array:
    if isinstance(index, np.ndarray):
        return table[index]
    # The array API's take reads a 1-d index only: the flattened index, then the shape back.
    flat = xp.reshape(index, (-1,))
    values = xp.take(xp.asarray(table, device=array_api_compat.device(index)), flat)
    return xp.reshape(values, tuple(index.shape))


_SIXTH = split_fraction(Fraction(1, 6))
_TWENTY_FOURTH = split_fraction(Fraction(1, 24))
_ONE_HUNDRED_TWENTIETH = split_fraction(Fraction(1, 120))


def exp_triple(xp: Namespace, x: Array, *lows: Array) -> list[Array]:
    """``exp(x + sum(lows))`` as three floats, about 2**-150 relative, for a result above 2**-900.

    ``x`` in [-620, 709.7], ``lows`` smaller than an ulp of ``x`` each (the tail of an
    argument in double-double, or of a constant subtracted from it). Tang's method as in
    :func:`exp_double`: ``x = (m 2**15 + j) ln2 / 2**15 + r``, the reduction with ln 2 / 2**15
    in five parts (the products by ``n`` of the first four exact) and ``r`` kept as three
    floats (``|r| <= 2**-16.4``); ``exp(r1) - 1`` as its series to ``r1**8`` with
    ``r1**2``, ``r1**3 / 6``, ``r1**4 / 24`` and ``r1**5 / 120`` each formed by TwoProduct
    (so that every rounding left is below 2**-150), ``exp(r) = exp(r1) (1 + rho + rho**2 / 2)``
    for the tail ``rho`` (below 2**-68); the product by the table's ``2**(j / 2**15)`` (in
    three floats) by TwoProduct, and the powers of two exactly. Every sum by :func:`distill`.
    """
    step, _, table = triple_constants()
    n = xp.round(x * EXP_INVERSE_STEP)
    j = n - 2.0**TABLE_BITS * xp.floor(n * 2.0**-TABLE_BITS)
    m = (n - j) * 2.0**-TABLE_BITS
    # x - n step[0] is exact (Sterbenz), and so are the next three products.
    r1, r2, r3 = distill([x - n * step[0], -(n * step[1]), -(n * step[2]), -(n * step[3]), -(n * step[4]), *lows], 3)
    q, q_error = two_product(r1, r1)  # r1**2
    c, c_error = two_product(q, r1)  # r1**3 = c + c_error + q_error r1
    u, u_error = two_product(c, _SIXTH[0])
    cube_tail = (c_error + q_error * r1) * _SIXTH[0] + c * _SIXTH[1]
    f, f_error = two_product(q, q)  # r1**4 = f + f_error + 2 q q_error
    g, g_error = two_product(f, _TWENTY_FOURTH[0])
    fourth_tail = (f_error + 2.0 * q * q_error) * _TWENTY_FOURTH[0] + f * _TWENTY_FOURTH[1]
    h, h_error = two_product(f, r1)  # r1**5 = h + h_error + (f_error + 2 q q_error) r1
    h_error = h_error + (f_error + 2.0 * q * q_error) * r1
    v, v_error = two_product(h, _ONE_HUNDRED_TWENTIETH[0])
    series = r1 * (1.0 / 720.0 + r1 * (1.0 / 5040.0 + r1 * (1.0 / 40320.0)))
    fifth_tail = h_error * _ONE_HUNDRED_TWENTIETH[0] + h * (_ONE_HUNDRED_TWENTIETH[1] + series)
    # exp(r) - 1 = E + rho (1 + E) + rho**2 / 2, E = exp(r1) - 1, rho = r2 + r3
    e_rest = 0.5 * q + (u + (g + v))
    w, w_error = two_product(r1, r2)
    cross = (r2 * e_rest + r3 * r1) + 0.5 * (r2 * r2)
    # The terms below 2**-100 (r1 at most 2**-16.4, rho 2**-66.7) summed plainly: their
    # roundings are below 2**-150.
    small = ((u_error + cube_tail) + (cross + fifth_tail)) + ((fourth_tail + g_error) + (r3 + (w_error + v_error)))
    p1, p2, p3 = distill([r1, 0.5 * q, u, r2, g, w, 0.5 * q_error, v, small], 3)
    t1, t2, t3 = (_table_lookup(xp, part, xp.astype(j, xp.int64)) for part in table)
    a, a_error = two_product(t1, p1)
    b, b_error = two_product(t1, p2)
    d, d_error = two_product(t2, p1)
    parts = distill([t1, a, t2, b, d, a_error, t3, b_error, d_error, t1 * p3 + t2 * p2 + t3 * p1], 3)
    return [power_of_two(xp, part, m) for part in parts]


def log_triple(xp: Namespace, y: Array) -> list[Array]:
    """``log(y)`` as three floats, about 2**-149 absolute, for finite ``y > 0``.

    One Newton step from :func:`log_double`'s ``L``: ``log(y) = L + log(y exp(-L))``, with
    ``exp(-L)`` by :func:`exp_triple`, ``y exp(-L) = 1 + c`` by TwoProduct (``|c|`` about
    2**-100) and ``log(1 + c) = c - c**2 / 2``. ``y`` is first scaled by 2**-512 or 2**512
    (exactly) beyond 2**+-500, so that ``exp(-L)`` is within 2**+-563, and ``512 ln 2`` (in
    three floats, each product exact) is added back.
    """
    _, ln2, _ = triple_constants()
    big, small = y > 2.0**500, y < 2.0**-500
    zeros = xp.zeros_like(y)
    shift = xp.where(big, zeros - 512.0, xp.where(small, zeros + 512.0, zeros))
    scaled = y * xp.where(big, zeros + 2.0**-512, xp.where(small, zeros + 2.0**512, zeros + 1.0))
    high, low = log_double(xp, scaled)
    e1, e2, e3 = exp_triple(xp, -high, -low)
    p, p_error = two_product(scaled, e1)
    q, q_error = two_product(scaled, e2)
    c1, c2 = distill([p - 1.0, q, p_error, q_error, scaled * e3], 2)
    return distill(
        [high, -shift * ln2[0], low, -shift * ln2[1], c1, c2 - 0.5 * (c1 * c1), -shift * ln2[2]], 3
    )
