"""Numerically stable building blocks, written once for every array namespace.

Each function takes the namespace ``xp`` first (the error-free transformations, which
need only ``+``, ``-`` and ``*``, do without) and works on arrays already in the working
precision; none of them validates (the callers have).
"""

from __future__ import annotations

import decimal
import functools
from fractions import Fraction

import array_api_compat
import numpy as np

from neural_network._validation import Array, Namespace


def sigmoid(xp: Namespace, x: Array) -> Array:
    """The logistic function 1 / (1 + exp(-x)), accurate in both tails.

    See :func:`sigmoid_pair`, of which this is the first half.
    """
    return sigmoid_pair(xp, x)[0]


def _reciprocal_of_one_plus(xp: Namespace, e: Array) -> Array:
    """``1 / (1 + e)`` for ``0 <= e <= 1``, without the rounding error of ``1 + e``.

    ``s = 1 + e`` is rounded, but its error ``c = (1 - s) + e`` is exact (Fast2Sum,
    since 1 >= e), and ``1 / (s + c) = r - r * r * c`` to second order with
    ``r = 1 / s``. This removes about half a unit in the last place from every sigmoid.
    """
    s = 1.0 + e
    c = (1.0 - s) + e
    r = 1.0 / s
    return r - (r * r) * c


TINY = 2.0**-64
"""Below every positive ``1 + x`` (at least 2**-53, the spacing below 1), in float64 and
float32 alike: ``max(1 + x, TINY)`` changes only a 0, which keeps ``0 / 0`` out of a division."""


def log1p(xp: Namespace, x: Array) -> Array:
    """``log(1 + x)`` for ``-1 <= x <= 1`` from one ``log`` (libm's ``log1p`` costs twice as
    long where NumPy has no SIMD kernel for it, and its bits differ from CPU to CPU).

    ``u = 1 + x`` is rounded, but its error ``c = (1 - u) + x`` is exact (Fast2Sum, as
    ``|x| <= 1``; and ``1 - u`` is exact by Sterbenz's lemma for ``u`` in [1/2, 2], and
    because ``u = 1 + x`` exactly below 1/2). Then ``log(1 + x) = log(u) + log1p(c / u)``
    and ``log1p(c / u) = c / u`` to within ``(c / u)**2 / 2``, far below an ulp of the
    result. Error, for a libm ``log`` within 1 ulp: 1 ulp of ``log(u)`` (at most 2 of the
    result, where ``log(u)`` lies just above a power of two the result lies below), half
    an ulp for the sum and a negligible rest: under 3 ulp, and about 1 with glibc's log.
    Where ``u`` is exactly 1, ``log(u)`` is 0 and the result is ``c = x``, the correctly
    rounded ``log1p(x)`` for such tiny ``x``. At ``x = -1``, ``c = 0`` and the result is
    ``-inf`` (``max(u, TINY)`` keeps ``0 / 0`` out).

    Every BCE kernel computes its ``log(1 - p)`` with these operations, so that all give
    the same bits on any CPU.
    """
    u = 1.0 + x
    return xp.log(u) + ((1.0 - u) + x) / xp.maximum(u, TINY)


def softplus_pair(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``softplus(x)`` and ``softplus(-x)`` from one exp and one log1p.

    ``softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))``: the second term
    lies in [0, log 2], so neither term overflows and their sum (both non-negative)
    loses nothing to cancellation. ``-softplus(-x)`` is ``log(sigmoid(x))`` and
    ``-softplus(x)`` is ``log(1 - sigmoid(x))``, computed without ever rounding a
    sigmoid first.
    """
    tail = xp.log1p(xp.exp(-xp.abs(x)))
    return xp.maximum(x, 0.0) + tail, xp.maximum(-x, 0.0) + tail


def sigmoid_pair(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``sigmoid(x)`` and ``sigmoid(-x) = 1 - sigmoid(x)``, both to full relative accuracy.

    With ``e = exp(-|x|)`` (at most 1, so it never overflows) the larger of the two is
    ``1 / (1 + e)`` and the smaller ``e / (1 + e)``. The smaller keeps full relative
    accuracy for very negative x, where ``1 - sigmoid(-x)`` would round to 0.
    """
    e = xp.exp(-xp.abs(x))
    big = _reciprocal_of_one_plus(xp, e)
    small = e * big
    positive = x >= 0
    return select_larger(xp, positive, big, small), select_larger(xp, ~positive, big, small)


def select_larger(xp: Namespace, condition: Array, larger: Array, smaller: Array) -> Array:
    """``where(condition, larger, smaller)`` for finite ``larger >= smaller >= 0``, element-wise.

    NumPy's ``where`` costs about 4 ns an element when the condition changes at random
    (its loop branches, and the processor mispredicts half of the branches); for such
    arrays ``maximum(smaller, larger * condition)`` gives the same bits (``larger * 1``
    is ``larger``, ``larger * 0`` is 0, and the larger of the two wins) in a quarter of
    the time. Other libraries get ``where``.
    """
    if isinstance(larger, np.ndarray):
        return np.maximum(smaller, np.multiply(larger, condition))
    return xp.where(condition, larger, smaller)


# --------------------------------------------------------------------------- error-free transformations
#
# Each represents a sum or a product of two floats exactly, as a rounded result plus the
# rounding error (itself a float). They let a few critical steps below run in about twice
# the working precision with plain float64 operations (no fma, which the array API lacks).

SPLITTER = 134217729.0
"""2**27 + 1: Veltkamp's constant that splits a float64 into two 26-bit halves."""


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth's TwoSum)."""
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


def veltkamp_split(a: Array) -> tuple[Array, Array]:
    scaled = SPLITTER * a
    high = scaled - (scaled - a)
    return high, a - high


def two_product(a: Array, b: Array) -> tuple[Array, Array]:
    """``(p, e)`` with ``p = fl(a * b)`` and ``a * b = p + e`` exactly (Dekker's TwoProduct).

    Exact while ``|a|`` and ``|b|`` stay below about 1e300 (the split multiplies them by
    2**27) and the product does not underflow; callers bound their arguments.
    """
    p = a * b
    a_high, a_low = veltkamp_split(a)
    b_high, b_low = veltkamp_split(b)
    return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


def split_fraction(value: Fraction) -> tuple[float, float]:
    """An exact rational as a double-double constant ``(high, low)``, ``high`` its nearest float."""
    high = float(value)
    return high, float(value - Fraction(high))


def times_double(high: Array, low: Array, constant: tuple[float, float]) -> tuple[Array, Array]:
    """``(high + low) * constant`` for a double-double ``constant``, as ``(product, error)``:
    the product of the high parts by :func:`two_product`, the cross terms to first order."""
    p, p_error = two_product(high, constant[0])
    return p, p_error + (low * constant[0] + high * constant[1])


def polynomial(coefficients: tuple[float, ...], head: tuple[float, float], x: Array) -> tuple[Array, Array]:
    """``head + x * (c0 + c1 x + c2 x**2 + ...)`` as an unevaluated sum ``hi + lo``.

    ``head`` is the constant term in double precision (``head[0] + head[1]``). The last
    step, where the rounding errors of Horner's scheme would count in full, is done with
    :func:`two_product` and :func:`two_sum`; the earlier ones are damped by ``|x * (...)|``
    being several times smaller than the result.
    """
    # In place: ``tail`` is this function's own array, and NumPy then reuses one buffer
    # instead of allocating two arrays per coefficient (several times faster).
    tail = coefficients[-1] * x
    tail += coefficients[-2]
    for c in coefficients[-3::-1]:
        tail *= x
        tail += c
    product, product_error = two_product(x, tail)
    high, sum_error = two_sum(head[0], product)
    return high, (sum_error + product_error) + head[1]


# --------------------------------------------------------------------------- exp near underflow

_SHIFT = 44.36141955583639
"""64 ln 2 rounded down to a multiple of 2**-43: adding it to an x in [-1000, -512] is exact."""

_SHIFT_ERROR = -1.0806560032487666e-13
"""``_SHIFT - 64 ln 2``."""


def exp_scaled(xp: Namespace, x: Array) -> tuple[Array, Array, Array]:
    """``exp(x)`` as ``h * (1 - c) * scale`` for ``-1000 <= x <= 0``, with ``h`` never subnormal.

    A subnormal ``exp(x)`` has lost bits before the caller multiplies it by anything, and
    a factor of 15 then magnifies that loss 15-fold. So for ``x < -512`` the argument is
    raised by ``_SHIFT`` (about 64 ln 2), which is exact there (every such ``x`` is a
    multiple of 2**-43), and ``scale = 2**-64`` undoes it after the caller's products:
    the final result is rounded into the subnormal range once. ``c`` is the first-order
    correction, ``_SHIFT_ERROR``, of the rounded shift (0 where there is no shift).
    """
    far = x < -512.0
    zeros = xp.zeros_like(x)
    h = xp.exp(xp.where(far, x + _SHIFT, x))
    c = xp.where(far, zeros + _SHIFT_ERROR, zeros)
    scale = xp.where(far, zeros + 2.0**-64, zeros + 1.0)
    return h, c, scale


def _times_gaussian(xp: Namespace, w: Array, w_error: Array, t: Array) -> Array:
    """``(w + w_error) * exp(-t**2 / 2)`` for ``0 <= t <= 40``, rounded about once.

    ``t**2`` is formed exactly (``p + e``) because ``exp`` magnifies the error of its
    argument: a rounded ``t * t`` near ``t = 30`` would already cost hundreds of ulps.
    ``exp(-(p + e) / 2) = exp(-p / 2) * (1 - e / 2)`` to first order (``|e| < 1e-13``).
    """
    p, e = two_product(t, t)
    h, c, scale = exp_scaled(xp, -0.5 * p)
    v = w * h
    return (v + (w_error * h - v * (c + 0.5 * e))) * scale


# --------------------------------------------------------------------------- GELU, exact
#
# Phi(-t) = erfc(t / sqrt 2) / 2 is never computed from erf (1 + erf(x) cancels for x < 0,
# and t / sqrt 2 would be rounded before an erfc that magnifies the rounding t**2-fold).
# Instead the Gaussian factor exp(-t**2/2) is split off exactly (above) and what remains,
# a slowly varying function, is a polynomial: Phi(-t) = m(t) exp(-t**2/2) with
# m(t) = erfcx(t / sqrt 2) / 2 (0.5 at t = 0, ~ 1 / (t sqrt(2 pi)) for large t).
#
# The polynomials are Chebyshev interpolants computed with mpmath at 300 bits, truncated
# where the next coefficients fall below 2**-60, and expanded in powers of
# y = (t - 5) / (t + 5) over 0 <= t <= 40 (the map makes one polynomial cover the whole
# range; beyond t = 40 every result has underflowed):
#   _GELU_TAIL:  (1 + t) m(t)                                     (25 + 1 coefficients)
#   _GELU_SLOPE: (m(t) - t / sqrt(2 pi)) / (t - r), r = 0.75179...   (27 + 1 coefficients)
# where r is the root of gelu'(-r) = 0 (GELU's minimum at z = -r), carried in double
# precision (_GELU_ROOT): dividing it out gives gelu' full relative accuracy beside its
# zero. tests/test_activations.py recomputes these tables with mpmath
# (test_gelu_tables_are_the_documented_interpolants) and measures the results in ulps.

_GELU_MAP = 5.0
_GELU_RANGE = 40.0

_GELU_TAIL_HEAD = (0.46151582985003775, 2.4795512945185462e-17)
_GELU_TAIL = (
    -0.09155228183400893, 0.031030368425962893, 0.010002352385218004, -0.026401042966270202,
    0.024536963244032643, -0.015170415403205358, 0.006522000662670177, -0.001676072338193891,
    7.791638809082772e-06, 0.00018233411148833184, -5.360778828027052e-05, -9.89599061989164e-06,
    9.06050055311187e-06, -7.054871846493869e-08, -1.3089221937310208e-06, 1.2806923619841428e-07,
    1.9842631687663308e-07, -2.6272050159352048e-08, -3.2988973795444286e-08,
    3.391858390075967e-09, 5.569083364185548e-09, -5.43570040373459e-11, -7.209767436829283e-10,
    -7.506761342099177e-11, 2.7851212335442112e-11,
)
_GELU_SLOPE_HEAD = (-0.45143549526340543, 2.0264143548285143e-17)
_GELU_SLOPE = (
    0.08979658026980383, -0.06048781355387042, 0.03553512146914531, -0.017807831556909005,
    0.007334310929280103, -0.0023021837230948836, 0.0004405306215482567, 1.5195769797414667e-05,
    -4.0646969288044654e-05, 9.20119036559921e-06, 1.9927199177911666e-06, -1.3602519847934524e-06,
    -2.135556617072643e-08, 1.6900350914571472e-07, -1.2559416622230615e-08,
    -2.2195008090505765e-08, 2.553927390602463e-09, 3.2704123110058634e-09, -3.400417863262539e-10,
    -5.343305622950763e-10, 2.2399265040635416e-11, 9.048000325657389e-11, 5.413350046355185e-12,
    -1.3697890871746117e-11, -2.5304160636788747e-12, 1.3031540543237935e-12,
    4.0856692453650334e-13,
)
_GELU_ROOT = (0.7517915246935645, -1.4956759177009883e-17)


def gelu_tail(xp: Namespace, t: Array) -> Array:
    """``t * Phi(-t)`` for ``t >= 0`` (``-gelu(-t)``), to a few ulps; ``t`` is clipped at 40.

    ``gelu(z) = -gelu_tail(-z)`` for ``z <= 0`` and ``z - gelu_tail(z)`` for ``z >= 0``
    (because ``Phi(z) = 1 - Phi(-z)``); the tail is at most ``t / 2``, so neither form cancels.
    """
    t = xp.minimum(t, _GELU_RANGE)
    g_high, g_low = polynomial(_GELU_TAIL, _GELU_TAIL_HEAD, (t - _GELU_MAP) / (t + _GELU_MAP))
    s, s_error = two_sum(1.0, t)
    ratio = t / s
    ratio = ratio - ratio * (s_error / s)  # t / (1 + t), the sum 1 + t unrounded
    w, w_error = two_product(ratio, g_high)
    return _times_gaussian(xp, w, w_error + ratio * g_low, t)


def gelu_slope_tail(xp: Namespace, t: Array) -> Array:
    """``Phi(-t) - t phi(t)`` for ``t >= 0`` (``gelu'(-t)``), to a few ulps; ``t`` is clipped at 40.

    ``gelu'(z) = gelu_slope_tail(-z)`` for ``z <= 0`` and ``1 - gelu_slope_tail(z)`` for
    ``z >= 0`` (``gelu'(z) + gelu'(-z) = 1``); the tail lies in [-0.17, 0.5].
    """
    t = xp.minimum(t, _GELU_RANGE)
    q_high, q_low = polynomial(_GELU_SLOPE, _GELU_SLOPE_HEAD, (t - _GELU_MAP) / (t + _GELU_MAP))
    a, a_error = two_sum(t, -_GELU_ROOT[0])
    a_error = a_error - _GELU_ROOT[1]  # t - r = a + a_error, to twice the working precision
    w, w_error = two_product(a, q_high)
    return _times_gaussian(xp, w, w_error + (a * q_low + a_error * q_high), t)


# --------------------------------------------------------------------------- GELU, tanh approximation
#
# gelu_tanh(z) = z (1 + tanh(u)) / 2 with u = sqrt(2/pi) (z + 0.044715 z**3) is z * sigmoid(x)
# with x = 2u: 1 + tanh(u) = 2 sigmoid(2u), and the sigmoid is exact in both tails where
# 1 + tanh(u) cancels. sigmoid(x) ~ exp(x) for x << 0 turns an absolute error in x into a
# relative one, and x reaches -745 before the result underflows, so x is formed in twice
# the working precision. The derivative vanishes at z = r2 = -0.75246...; between -2.5
# and -0.5, (1 + A) / (z - r2) (see gelu_tanh_slope) is a polynomial in z + 1.5, made
# like the exact GELU's (28 coefficients, Chebyshev interpolant from mpmath).

_SQRT_8_OVER_PI = (1.5957691216057308, -9.96930880911092e-17)
_KAPPA = (0.044715, 2.1960211427085595e-18)
"""0.044715, the decimal constant of the approximation, in double precision."""
_KAPPA_3 = (0.134145, 1.3526957332032908e-17)
_GELU_TANH_RANGE = 30.0
_GELU_TANH_ROOT = (-0.7524614220710163, 3.635560509207687e-17)
_GELU_TANH_SLOPE_HEAD = (2.551694090856414, -1.3802060190770722e-16)
_GELU_TANH_SLOPE = (
    -0.9227935815077621, 0.0927227577416236, -0.028482263494177137, 0.007089872363352746,
    0.0032220215696397037, -0.0006334267876429829, -0.00038394683161494235, 3.3542671536369296e-05,
    4.5200104141577687e-05, 4.828280451294422e-06, -4.250679463229079e-06, -1.7253731606776652e-06,
    1.47975005130503e-07, 2.636777675169692e-07, 3.7157648433438394e-08, -2.4228217416607864e-08,
    -9.313057353939621e-09, 8.514776681629425e-10, 1.2644600312467046e-09, 1.6790626445600914e-10,
    -1.1602951886373492e-10, -4.288282599330174e-11, 5.526941919519078e-12, 5.541014826953181e-12,
    2.871690835632311e-13, -3.745955580985203e-13, -5.863122422242559e-14,
)


def _cubic(z: Array, square: tuple[Array, Array], kappa: tuple[float, float]) -> tuple[Array, Array]:
    """``sqrt(8/pi) * (z + kappa z**3)`` as ``hi + lo``, for ``|z| <= 30``; ``square = two_product(z, z)``."""
    s, s_error = square
    a, a_error = two_product(kappa[0], s)
    a_error = a_error + (kappa[0] * s_error + kappa[1] * s)
    b, b_error = two_sum(1.0, a)
    b_error = b_error + a_error
    p, p_error = two_product(z, b)
    p_error = p_error + z * b_error
    x, x_error = two_product(p, _SQRT_8_OVER_PI[0])
    return x, x_error + (p * _SQRT_8_OVER_PI[1] + _SQRT_8_OVER_PI[0] * p_error)


def _logistic(xp: Namespace, x: Array) -> tuple[Array, Array, Array, Array, Array, Array]:
    """``sigmoid(x) = n * scale * (1 - c) / (s + s_error)``, and ``sigmoid(-x)`` to about an ulp.

    With ``e = exp(-|x|)``, ``sigmoid(x)`` is ``1 / (1 + e)`` for ``x >= 0`` and
    ``e / (1 + e)`` below. It is returned in parts (numerator ``n``, never subnormal, and
    the unrounded sum ``s + s_error``) so that the caller multiplies its own factors into
    ``n`` and divides once: each rounding saved is an ulp kept.
    """
    h, c, scale = exp_scaled(xp, xp.maximum(-xp.abs(x), -1000.0))
    e = h * scale
    s, s_error = two_sum(1.0, e)
    positive = x >= 0
    ones, zeros = xp.ones_like(x), xp.zeros_like(x)
    numerator = xp.where(positive, ones, h)
    c = xp.where(positive, zeros, c)
    scale = xp.where(positive, ones, scale)
    s_neg = xp.where(positive, e, ones) / s
    return numerator, scale, c, s, s_error, s_neg


def gelu_tanh(xp: Namespace, z: Array) -> Array:
    """``z * sigmoid(x)``, ``x = sqrt(8/pi) (z + 0.044715 z**3)``: the tanh-approximate GELU."""
    clipped = xp.clip(z, -_GELU_TANH_RANGE, _GELU_TANH_RANGE)
    x, x_error = _cubic(clipped, two_product(clipped, clipped), _KAPPA)
    n, scale, c, s, s_error, s_neg = _logistic(xp, x)
    v = (clipped * n) / s
    # 1 / (s + s_error) = (1 - s_error / s) / s; sigmoid(x + dx) = sigmoid(x) (1 + sigmoid(-x) dx)
    v = v - v * (s_error / s + c - s_neg * x_error)
    return xp.where(z > _GELU_TANH_RANGE, z, v * scale)


def gelu_tanh_slope(xp: Namespace, z: Array) -> Array:
    """The derivative of :func:`gelu_tanh`: ``sigmoid(x) (1 + A)``, ``A = z x'(z) sigmoid(-x)``.

    ``z x'(z) = sqrt(8/pi) (z + 3 * 0.044715 z**3)`` is formed like ``x``. ``1 + A``
    cancels near the root r2, so on [-2.5, -0.5] it is ``(z - r2)`` times a polynomial.
    """
    clipped = xp.clip(z, -_GELU_TANH_RANGE, _GELU_TANH_RANGE)
    square = two_product(clipped, clipped)
    x, x_error = _cubic(clipped, square, _KAPPA)
    n, scale, c, s, s_error, s_neg = _logistic(xp, x)
    u, u_error = _cubic(clipped, square, _KAPPA_3)
    a, a_error = two_product(u, s_neg)
    # sigmoid(-(x + dx)) = sigmoid(-x) (1 - sigmoid(x) dx), and sigmoid(x) = 1 - sigmoid(-x)
    a_error = a_error + (u_error * s_neg - a * ((1.0 - s_neg) * x_error))
    one_plus, one_plus_error = two_sum(1.0, a)
    general = one_plus + (one_plus_error + a_error)

    w_high, w_low = polynomial(_GELU_TANH_SLOPE, _GELU_TANH_SLOPE_HEAD, clipped + 1.5)
    d, d_error = two_sum(clipped, -_GELU_TANH_ROOT[0])
    d_error = d_error - _GELU_TANH_ROOT[1]
    near, near_error = two_product(d, w_high)
    near = near + (near_error + (d * w_low + d_error * w_high))

    window = (clipped >= -2.5) & (clipped <= -0.5)
    v = (n * xp.where(window, near, general)) / s
    v = v - v * (s_error / s + c - s_neg * x_error)
    return xp.where(z > _GELU_TANH_RANGE, xp.ones_like(z), v * scale)


# --------------------------------------------------------------------------- tanh, softplus


def logistic_density(xp: Namespace, x: Array, factor: float = 1.0) -> Array:
    """``factor * e / (1 + e)**2`` with ``e = exp(-|x|)``: ``sigmoid(x) sigmoid(-x)`` times ``factor``.

    It is ``sigmoid'(x)`` for ``factor = 1`` and, at ``x = 2z`` with ``factor = 4``,
    ``tanh'(z) = 1 - tanh(z)**2``, which is 0 once ``tanh(z)`` rounds to 1 (``|z| > 19``)
    while the true value stays above the smallest float up to ``|z| = 373``. The sum
    ``1 + e`` is kept unrounded (``s + s_error``) and ``e`` never subnormal
    (:func:`exp_scaled`), so the result is rounded about three times, wherever it lies.
    """
    h, c, scale = exp_scaled(xp, -xp.minimum(xp.abs(x), 1000.0))
    s, s_error = two_sum(1.0, h * scale)
    v = (factor * h) / (s * s)
    v = v - v * (2.0 * s_error / s + c)  # 1 / (s + s_error)**2 = (1 - 2 s_error / s) / s**2
    return v * scale


def scaled_product(xp: Namespace, beta: float, z: Array) -> tuple[Array, Array]:
    """``beta * z`` as ``x + x_error`` where it matters (``|beta z| < 1000``), else ``x_error = 0``."""
    x = beta * z
    if beta > 1e290:  # too large to split exactly; |beta z| < 1000 only for |z| < 1e-287
        return x, xp.zeros_like(z)
    limit = min(1e300, 1000.0 / beta)
    _, error = two_product(beta, xp.clip(z, -limit, limit))
    return x, xp.where(xp.abs(z) <= limit, error, xp.zeros_like(z))


def softplus_scaled(xp: Namespace, z: Array, beta: float) -> Array:
    """``log(1 + exp(beta z)) / beta = max(z, 0) + log1p(exp(-|beta z|)) / beta``, for ``beta > 0``.

    ``beta z`` is carried in twice the working precision: for ``beta z = -700`` its
    rounding alone would change the (tiny) result by hundreds of ulps.
    """
    x, x_error = scaled_product(xp, beta, z)
    e = xp.exp(-xp.abs(x))
    tail = xp.log1p(e)
    # d/dx log1p(exp(-|x|)) = -sign(x) sigmoid(-|x|), applied to the rounding error of x.
    slope = e * _reciprocal_of_one_plus(xp, e)
    tail = tail - xp.where(x > 0, slope, -slope) * x_error
    return xp.maximum(z, xp.zeros_like(z)) + tail / beta


def sigmoid_scaled(xp: Namespace, z: Array, beta: float) -> Array:
    """``sigmoid(beta z)``, with ``beta z`` in twice the working precision."""
    x, x_error = scaled_product(xp, beta, z)
    n, scale, c, s, s_error, s_neg = _logistic(xp, x)
    v = n / s
    return (v - v * (s_error / s + c - s_neg * x_error)) * scale


# --------------------------------------------------------------------------- softmax


def softmax_parts(xp: Namespace, z: Array, axis: int) -> tuple[Array, Array, Array, Array]:
    """``d + d_error = z - max(z)`` exactly, ``e = exp(z - max)`` and ``rest``, along ``axis``.

    ``rest`` sums ``e`` over every entry but one maximal one (whose term is exactly 1),
    so ``softmax = e / (1 + rest)`` and ``log_softmax = d + d_error - log1p(rest)``: for a
    confident row (rest ~ 1e-30) log1p keeps what log(1 + rest) rounds away, and the two
    terms of the log-softmax have the same sign. The difference ``z - max`` is kept
    exactly because exp turns its rounding error into a relative error of the result
    (hundreds of ulps for a gap of 700). ``z`` holds finite numbers and ``-inf``, and no
    row is all ``-inf``.
    """
    top = xp.max(z, axis=axis, keepdims=True)
    zeros = xp.zeros_like(z)
    # The difference is -inf for a masked entry, and for one so far below the maximum
    # (-1e308 against 1e308) that it overflows: exp gives 0 for both, the exact answer.
    # TwoSum on an infinity would compute inf - inf (NaN), so those entries go through
    # it as the maximum itself, and get their -inf back afterwards.
    difference = z - top
    infinite = xp.isinf(difference)
    d, d_error = two_sum(xp.where(infinite, top, z), -top)
    d = xp.where(infinite, difference, d)
    d_error = xp.where(infinite, zeros, d_error)
    e = xp.exp(d)
    e = e + e * d_error
    size = z.shape[axis]
    shape = [1] * z.ndim
    shape[axis] = size
    positions = xp.reshape(xp.arange(size, device=array_api_compat.device(z)), tuple(shape))
    first = positions == xp.argmax(z, axis=axis, keepdims=True)
    rest = xp.sum(xp.where(first, zeros, e), axis=axis, keepdims=True)
    return d, d_error, e, rest


# --------------------------------------------------------------------------- exp and log in double-double
#
# Where the terms of a loss cancel, exp(x) or log(y) is needed to about twice the working
# precision: a libm result is off by up to an ulp, and a cancellation by a factor R
# magnifies that R-fold. exp_double is Tang's method with a table of 2**(j / 2**15) in
# double-double: x = (m 2**15 + j) ln2 / 2**15 + r with |r| <= ln2 / 2**16 (about 2**-16.5),
# the reduction exact (Cody-Waite, ln2 / 2**15 in three parts of at most 27 bits, so that
# every product with the integer N, below 2**26, is exact), and exp(r) - 1 =
# r + r**2 / 2 + r**3 / 6 + r**4 / 24 + r**5 / 120 (the next term is below 2**-108): the
# first two in double-double, the rest, below 2**-52, in double. log_double corrects the
# libm log with one Newton step that uses exp_double. Both are accurate to about 2**-100
# relative; tests/test_probabilistic_losses.py checks the constants and the results with
# mpmath.

TABLE_BITS = 15
EXP_INVERSE_STEP = 47274.23109984955
"""2**15 / ln 2."""
EXP_STEP = (2.115317329298705e-05, -5.812543626076234e-14, -1.3931602408343253e-22)
"""ln 2 / 2**15 as a sum of three floats, the first two of 27 bits."""
LN2 = (0.6931471805599453, 2.3190468138462996e-17)
"""ln 2 in double-double."""
LN2_PARTS = tuple(2.0**TABLE_BITS * c for c in EXP_STEP)
"""ln 2 in three parts, the first two of 27 bits: ``k * part`` is exact for ``|k| < 2**26``."""


@functools.lru_cache(maxsize=1)
def exp_table() -> tuple[np.ndarray, np.ndarray]:
    """``2**(j / 2**15)`` for ``j`` in [0, 2**15), as ``(high, low)`` float64 arrays.

    The products of two small tables, ``2**(i / 256)`` and ``2**(k / 2**15)`` for
    ``k < 128``, each computed with :mod:`decimal` at 50 digits and multiplied in
    double-double (relative error below 2**-104): 384 decimal powers instead of 32768.
    """
    with decimal.localcontext() as context:
        context.prec = 50
        two = decimal.Decimal(2)

        def parts(exponent: decimal.Decimal) -> tuple[float, float]:
            value = two**exponent
            high = float(value)
            return high, float(value - decimal.Decimal(high))

        coarse = np.array([parts(decimal.Decimal(i) / 256) for i in range(256)])
        fine = np.array([parts(decimal.Decimal(k) / 2**TABLE_BITS) for k in range(128)])
    a_high, a_low = np.repeat(coarse[:, 0], 128), np.repeat(coarse[:, 1], 128)
    b_high, b_low = np.tile(fine[:, 0], 256), np.tile(fine[:, 1], 256)
    p, p_error = two_product(a_high, b_high)
    high, error = two_sum(p, p_error + (a_high * b_low + a_low * b_high))
    return high, error


def power_of_two(xp: Namespace, value: Array, exponent: Array) -> Array:
    """``value * 2**exponent`` for integral float ``exponent`` in [-1076, 1024], rounded once.

    In two factors, each a normal float: the first product is exact, and only a result
    beyond the normal range is rounded (once) by the second. NumPy's ``ldexp`` takes
    the whole exponent at once (and rounds once), with an int32 exponent: several times
    faster than with int64.
    """
    if isinstance(value, np.ndarray):
        return np.ldexp(value, exponent.astype(np.int32))
    first = xp.floor(exponent * 0.5)
    return (value * xp.pow(2.0, first)) * xp.pow(2.0, exponent - first)


def exp_double(xp: Namespace, x: Array, x_error: Array | float = 0.0) -> tuple[Array, Array]:
    """``exp(x + x_error)`` as ``high + low``, about 2**-100 relative, for ``x`` in [-708, 709.7].

    ``x_error`` is the low part of the argument (``|x_error| <= ulp(x)``). Below -708 the
    result is subnormal and ``high`` is only about an ulp of it (``low`` underflows);
    callers that need more scale their arguments. ``x`` is clipped to [-745.2, 709.78],
    so the result is finite (0 or the largest float's neighbourhood beyond).
    """
    x = xp.clip(x, -745.2, 709.78)
    n = xp.round(x * EXP_INVERSE_STEP)
    j = n - 2.0**TABLE_BITS * xp.floor(n * 2.0**-TABLE_BITS)
    m = (n - j) * 2.0**-TABLE_BITS
    # The reduction: x - n c1 is exact (Sterbenz), n c1 and n c2 are exact products.
    head, error = two_sum(x - n * EXP_STEP[0], n * -EXP_STEP[1])
    r, r_low = two_sum(head, error + (x_error - n * EXP_STEP[2]))
    square, square_error = two_product(r, r)
    s, s_error = two_sum(r, 0.5 * square)
    tail = (square * r) * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0)))
    # exp(r) - 1 = s + s_low, the terms of (r + r_low)**2 / 2 beyond r**2 included
    s_low = s_error + (r_low + ((0.5 * square_error + r * r_low) + tail))
    t_high, t_low = exp_table()
    index = xp.astype(j, xp.int64)
    if isinstance(x, np.ndarray):
        table_high, table_low = t_high[index], t_low[index]
    else:
        # The array API's take reads a 1-d index only (PyTorch's index_select refuses any
        # other): the flattened index, and the result back in x's shape.
        device = array_api_compat.device(x)
        flat = xp.reshape(index, (-1,))
        table_high = xp.reshape(xp.take(xp.asarray(t_high, device=device), flat), tuple(index.shape))
        table_low = xp.reshape(xp.take(xp.asarray(t_low, device=device), flat), tuple(index.shape))
    # 2**(j / 2**15) exp(r) = T (1 + s + s_low)
    p, p_error = two_product(table_high, s)
    high, high_error = two_sum(table_high, p)
    low = high_error + (p_error + (table_low + (table_high * s_low + table_low * s)))
    return power_of_two(xp, high, m), power_of_two(xp, low, m)


def log_double(xp: Namespace, y: Array) -> tuple[Array, Array]:
    """``log(y)`` as ``high + low`` (``|low| <= ulp(high)``), about 2**-100 absolute, for finite ``y > 0``.

    One Newton step from the libm log ``L0``: ``log(y) = L0 + log(y exp(-L0))`` and
    ``y exp(-L0) = 1 + d`` with ``|d|`` about 2**-53, formed exactly enough with
    :func:`exp_double` and :func:`two_product`; ``log(1 + d) = d - d**2 / 2``. ``y`` is
    first scaled by 2**-512 or 2**512 (exactly) where it is beyond that, so that
    ``exp(-L0)`` stays in the normal range.
    """
    big, small = y > 2.0**512, y < 2.0**-512
    zeros = xp.zeros_like(y)
    shift = xp.where(big, zeros - 512.0, xp.where(small, zeros + 512.0, zeros))
    scaled = y * xp.where(big, zeros + 2.0**-512, xp.where(small, zeros + 2.0**512, zeros + 1.0))
    first = xp.log(scaled)
    e_high, e_low = exp_double(xp, -first)
    p, p_error = two_product(scaled, e_high)
    d = (p - 1.0) + (p_error + scaled * e_low)
    # log(y) = first + d - d**2 / 2 - shift ln 2; shift ln 2 is exact in two parts (shift = 0, +-2**9)
    high, error = two_sum(first, -shift * LN2[0])
    return two_sum(high, error + (d * (1.0 - 0.5 * d) - shift * LN2[1]))
