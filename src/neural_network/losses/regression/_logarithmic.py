"""Losses on logarithms: log-cosh and the squared log error, each with its derivative beside it."""

from __future__ import annotations

import math

from neural_network._numerics import SPLITTER, two_product, two_sum
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.losses._common import any_true, choose
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register

# --------------------------------------------------------------------------- log-cosh
#
# log(cosh(d)) depends on a = |d| only. For a >= 3/4 it is (a - log 2) + log1p(exp(-2a)),
# with log 2 in double precision: the two terms have the same sign there and nothing
# cancels (the rounding of log1p(exp(-2a)) costs at most about an ulp of the result).
# Below 3/4 that sum cancels (both terms near log 2 - a), and log(cosh(a)) ~ a^2 / 2
# would lose all its digits as a -> 0. There it is a^2 g(a^2) with
# g(s) = log(cosh(sqrt s)) / s = 1/2 + s P(s), where P is a Chebyshev interpolant of
# degree 13 over 0 <= s <= 9/16, computed with mpmath at 300 bits (mpmath.chebyfit;
# interpolation error below 2e-20, where P ~ -1/12); with its coefficients rounded to
# float64, g is within 2**-57 of the exact one. a^2 is formed exactly (two_product), and
# the rounding error of d = p - y is corrected to first order (in both branches), so each
# value is within about an ulp. tests/test_regression_losses.py checks this table with mpmath.

_LOG_COSH_SWITCH = 0.75
_LOG_COSH_P = (
    -0.08333333333333333, 0.02222222222222221, -0.00674603174603017, 0.0021869488535434384,
    -0.0007386029591003695, 0.0002565805492445976, -9.098941738252286e-05, 3.277782396099542e-05,
    -1.194983885819467e-05, 4.3841562549720315e-06, -1.5886120395025818e-06, 5.349678367481748e-07,
    -1.4397144207691657e-07, 2.1821364873876868e-08,
)
_LN2 = (0.6931471805599453, 2.3190468138462996e-17)
"""log 2 in double precision: high part and the (exact) rest, to 2**-106."""


def _log_cosh(xp: Namespace, p: Array, y: Array, /) -> Array:
    difference = p - y
    a = xp.abs(difference)
    near = xp.minimum(a, _LOG_COSH_SWITCH)  # the small branch, at an argument it handles
    s, s_error = _square(near)  # a^2 = s + s_error exactly
    # g(s) = 1/2 + q with |q| < 0.05, q = s P(s) by Horner's scheme (in place: one buffer
    # for every coefficient); the sum 1/2 + q is kept unrounded (Fast2Sum).
    q = _LOG_COSH_P[-1] * s
    for c in _LOG_COSH_P[-2::-1]:
        q += c
        q *= s
    g = 0.5 + q
    g_error = (0.5 - g) + q
    small = s * g + (s * g_error + s_error * g)
    # a = inf (p - y beyond the float64 range) gives inf: the true value is above it too.
    large = ((a - _LN2[0]) - _LN2[1]) + xp.log1p(xp.exp(-2.0 * a))
    # The rounding error of p - y changes log(cosh) by tanh(d) times it, to first order:
    # up to 2 ulp for small a (where the loss is ~ a^2 / 2), and as much near the switch.
    # Added after the choice, once (tanh is odd: no sign to take).
    correction = xp.tanh(difference) * _difference_error(xp, difference, p, y)
    return choose(xp, a < _LOG_COSH_SWITCH, small, large) + correction


def _square(a: Array) -> tuple[Array, Array]:
    """``two_product(a, a)``, the same two floats, with ``a`` split once instead of twice."""
    scaled = SPLITTER * a
    high = scaled - (scaled - a)
    low = a - high
    square = a * a
    return square, ((high * high - square) + 2.0 * (high * low)) + low * low


def _difference_error(xp: Namespace, difference: Array, p: Array, y: Array) -> Array:
    """``(p - y) - difference`` exactly, where ``difference = fl(p - y)`` is finite; 0 where it is not.

    TwoSum's error term for ``p + (-y)``, its sum ``difference`` already formed.
    """
    overflow = xp.isinf(difference)
    if any_true(xp, overflow):  # TwoSum of an overflowing difference would compute inf - inf
        zeros = xp.zeros_like(p)
        p, y = xp.where(overflow, zeros, p), xp.where(overflow, zeros, y)
        difference = p - y
    b_virtual = difference - p
    return (p - (difference - b_virtual)) - (y + b_virtual)


def _log_cosh_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    return xp.tanh(p - y)


_LOG_COSH = ElementwiseLoss(
    name="log_cosh",
    input=Operand("input", REAL),
    target=Operand("target", REAL),
    value=_log_cosh,
    derivative=_log_cosh_derivative,
    value_propagates_non_finite=True,
)


def log_cosh(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Log-cosh loss: the logarithm of the hyperbolic cosine of the error.

    .. math:: \ell_i = \log\cosh(x_i - y_i)
                     = |d_i| + \log(1 + e^{-2|d_i|}) - \log 2

    About ``d**2 / 2`` for small errors and ``|d| - log 2`` for large ones: a smooth
    (twice differentiable) Huber-like loss.

    Parameters
    ----------
    input, target : array_like
        Predictions and targets, the same shape.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` is Keras's ``log_cosh`` value (its mean over the last axis, then over
        the batch: the same for rows of equal length); ``"none"`` is optax's
        ``log_cosh`` (element-wise).
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    log_cosh_grad : its gradient, ``tanh(d)``.

    Notes
    -----
    Follows Keras (``keras.losses.log_cosh``) and optax (``optax.log_cosh``), whose
    formulas are this one; neither PyTorch nor scikit-learn has it. Computed without
    overflow for every finite error, and with full relative accuracy for small ones,
    where ``log(cosh(d))`` in floating point gives 0 (``d = 1e-9``: 5e-19 here).

    Examples
    --------
    >>> print(log_cosh([1e-9, 2.0], [0.0, 0.0], reduction="none"))
    [5.00000000e-19 1.32500275e+00]
    """
    return _LOG_COSH(input, target, reduction=reduction, sample_weight=sample_weight)


def log_cosh_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`log_cosh` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \tanh(x_i - y_i)

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(log_cosh_grad([0.0, 100.0], [0.0, 0.0], reduction="none"))
    [0. 1.]
    """
    return _LOG_COSH.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _log_cosh_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    # log(cosh d) = log1p(cosh d - 1), with cosh d - 1 = (e^d - 1)^2 / (2 e^d): no 1 + tiny to round
    d = x - y
    return xp.log1p(xp.expm1(d) ** 2 / (2 * xp.exp(d)))


def _log_cosh_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.tanh(x - y)


register("log_cosh", _log_cosh_reference, _log_cosh_reference_grad)


# --------------------------------------------------------------------------- squared log error


def _above_minus_one_hint(low: float, high: float) -> str:
    return (
        " The loss compares log1p(input) with log1p(target), defined only above -1; it is meant "
        "for non-negative targets such as counts or prices (Keras clips values below 1e-7 "
        "instead of refusing them). Standardized targets? Compute the loss on the original scale."
    )


ABOVE_MINUS_ONE = Domain(
    "finite real numbers greater than -1",
    low=math.nextafter(-1.0, 0.0),
    hint=_above_minus_one_hint,
)
"""The domain of log1p: the arguments of the squared log errors (as scikit-learn 1.9 checks)."""


def _log_ratio(xp: Namespace, p: Array, y: Array) -> tuple[Array, Array]:
    """``|log1p(p) - log1p(y)|`` for ``p, y > -1``, as ``high + low`` (``low`` a small correction).

    With ``a = max(p, y)`` and ``b = min(p, y)`` it is ``log1p(r)``, ``r = (a - b) / (1 + b)
    >= 0``, where log1p magnifies no error (its condition number is at most 1) and
    nothing cancels: the difference of the two logarithms would lose the digits they
    share (25 ulp for 1e10 against 4e9). The rounding errors of ``a - b``, of ``1 + b``
    and of the quotient are all kept, and correct ``log1p(r)`` to first order in
    ``low``; only log1p's own rounding remains in ``high``. ``r`` overflows only for
    ``b`` near -1 and ``a`` huge, where the difference of the logarithms (of opposite
    signs) is exact.
    """
    a = xp.maximum(p, y)
    b = xp.minimum(p, y)
    s, s_error = two_sum(a, -b)  # finite: a - b < a + 1
    t, t_error = two_sum(1.0, b)  # 1 + b > 0
    r = s / t
    # The quotient's remainder s - r t is a float, found exactly with two_product; above
    # 2**500 the operands are scaled down (exactly) so that its products stay in range.
    s_scaled, t_scaled = s, t
    large = t > 2.0**500
    if any_true(xp, large):
        factor = xp.where(large, xp.full_like(t, 2.0**-600), xp.ones_like(t))
        s_scaled, t_scaled = s * factor, t * factor
    product, product_error = two_product(xp.minimum(r, 2.0**500), t_scaled)
    remainder = (s_scaled - product) - product_error
    # log1p((s + s_error) / (t + t_error)) = log1p(r) + dr / (1 + r) to first order, and
    # t (1 + r) = t + s = 1 + a. r t_error is formed as s (t_error / t): finite where r is not.
    low = remainder / (t_scaled + s_scaled) + (s_error - s * (t_error / t)) / (1.0 + a)
    high = xp.log1p(r)
    huge = r > 2.0**500  # log1p hardly depends on r there (and the remainder was clipped)
    if any_true(xp, huge):
        low = xp.where(huge, xp.zeros_like(low), low)
        high = xp.where(xp.isinf(r), xp.log1p(a) - xp.log1p(b), high)
    return high, low


def log_difference(xp: Namespace, p: Array, y: Array, /) -> Array:
    """``log1p(p) - log1p(y)``, to about an ulp (see :func:`_log_ratio`)."""
    high, low = _log_ratio(xp, p, y)
    return xp.sign(p - y) * (high + low)


def over_one_plus(xp: Namespace, value: Array, p: Array) -> Array:
    """``value / (1 + p)``, the sum ``1 + p`` unrounded (for ``p > -1``)."""
    t, t_error = two_sum(1.0, p)
    quotient = value / t
    return quotient - quotient * (t_error / t)


def _squared_log_error(xp: Namespace, p: Array, y: Array, /) -> Array:
    # (high + low)^2 = high^2 + 2 high low, with high^2 exact: rounded once at the end.
    high, low = _log_ratio(xp, p, y)
    square, square_error = two_product(high, high)
    return square + (square_error + 2.0 * high * low)


def _squared_log_error_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    return 2.0 * over_one_plus(xp, log_difference(xp, p, y), p)


MSLE = ElementwiseLoss(
    name="mean_squared_log_error",
    input=Operand("input", ABOVE_MINUS_ONE),
    target=Operand("target", ABOVE_MINUS_ONE),
    value=_squared_log_error,
    derivative=_squared_log_error_derivative,
)


def mean_squared_log_error(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Mean squared logarithmic error: scikit-learn's ``mean_squared_log_error``.

    .. math:: \ell_i = \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)^2

    The squared error of ``log1p``: relative rather than absolute errors, for positive
    targets spread over orders of magnitude (counts, prices).

    Parameters
    ----------
    input : array_like
        Predictions, greater than -1. Note the order: scikit-learn's functions take
        ``(y_true, y_pred)``; this one, like every loss here, ``(input, target)``.
    target : array_like
        Targets, greater than -1, the same shape as ``input``.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` (the default) is scikit-learn's value; ``"none"`` gives the squared
        log errors element-wise.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``
        (scikit-learn's ``sample_weight``, given per element).

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    Raises
    ------
    OutOfRangeError
        If a value is -1 or below, where ``log1p`` is undefined.

    See Also
    --------
    mean_squared_log_error_grad : its gradient.
    root_mean_squared_log_error : its square root.

    Notes
    -----
    Follows scikit-learn 1.9, which refuses values ``<= -1`` with an error (older
    versions refused every negative value: scikit-learn issue #29678); so does this function. Keras
    (``keras.losses.mean_squared_logarithmic_error``) refuses nothing: it clips both
    arguments at ``epsilon = 1e-7`` first, so that a negative prediction counts as
    1e-7, and computes ``log(x + 1)``. Here nothing is clipped, and each element is
    within about two ulp: the logarithms' difference is formed as ``log1p`` of the
    ratio ``(1 + a) / (1 + b)``, where their difference would cancel.

    Examples
    --------
    scikit-learn's example (``mean_squared_log_error([3, 5, 2.5, 7], [2.5, 5, 4, 8])``,
    0.03973012298459379); the exact value is 0.03973012298459379910 (mpmath):

    >>> print(mean_squared_log_error([2.5, 5, 4, 8], [3, 5, 2.5, 7]))
    0.039730122984593795
    """
    return MSLE(input, target, reduction=reduction, sample_weight=sample_weight)


def mean_squared_log_error_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`mean_squared_log_error` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i}
              = \frac{2 \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)}{1 + x_i}

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(mean_squared_log_error_grad([0.0, 1.0], [0.0, 0.0], reduction="none"))
    [0.         0.69314718]
    """
    return MSLE.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _msle_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return (xp.log1p(x) - xp.log1p(y)) ** 2


def _msle_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return 2 * (xp.log1p(x) - xp.log1p(y)) / (1 + x)


register("mean_squared_log_error", _msle_reference, _msle_reference_grad)
