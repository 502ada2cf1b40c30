"""Regression losses: each per-element value with its derivative beside it."""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import two_product, two_sum
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.errors import InvalidOptionError, describe
from neural_network.losses._elementwise import Batch, ElementwiseLoss, Operand, Reduction, _evaluate

# --------------------------------------------------------------------------- mean squared error


def _squared_error(xp: Namespace, y_pred: Array, y: Array, /) -> Array:
    # The difference of two floats is correctly rounded (and exact when they are close),
    # so (p - y)^2 carries at most about 1.5 units in the last place of error.
    difference = y_pred - y
    return difference * difference


def _squared_error_derivative(xp: Namespace, y_pred: Array, y: Array, /) -> Array:
    return 2.0 * (y_pred - y)


_MSE = ElementwiseLoss(
    name="mse_loss",
    input=Operand("y_pred", REAL),
    target=Operand("y", REAL),
    value=_squared_error,
    derivative=_squared_error_derivative,
    value_propagates_non_finite=True,
)


def mse_loss(
    y_pred: object, y: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Mean squared error between predictions and targets.

    .. math:: \ell_i = (\hat y_i - y_i)^2, \qquad
              \text{mean} = \frac{\sum_i w_i \ell_i}{\sum_i w_i}

    Parameters
    ----------
    y_pred : array_like
        Predictions, any shape. Argument order (prediction, target) follows the NumPy
        article and PyTorch's ``F.mse_loss``.
    y : array_like
        Targets, the same shape as ``y_pred`` (nothing is broadcast: a ``(n, 1)``
        prediction against a ``(n,)`` target is an error, not an ``(n, n)`` result).
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"none"`` returns ``w * l`` element-wise.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``y_pred``; the mean becomes
        ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar (0-d) for ``"mean"`` and ``"sum"``, else the shape of ``y_pred``; in
        the array library of the input, with ``y_pred``'s float dtype (float64 for
        integers, lists and Python numbers).

    See Also
    --------
    mse_loss_grad : its gradient with respect to ``y_pred``.

    Notes
    -----
    Matches ``torch.nn.functional.mse_loss`` and scikit-learn's
    ``mean_squared_error``. Sums are accumulated in float64 and combined exactly.

    Examples
    --------
    >>> print(mse_loss([2.5, 0.0], [3.0, -0.5]))
    0.25
    """
    return _MSE(y_pred, y, reduction=reduction, sample_weight=sample_weight)


def mse_loss_grad(
    y_pred: object, y: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`mse_loss` with respect to ``y_pred``.

    .. math:: \frac{\partial \ell_i}{\partial \hat y_i} = 2 (\hat y_i - y_i)

    scaled by ``w_i`` and, for ``"mean"``, divided by ``sum(w)`` (the element count
    without weights). Same arguments as :func:`mse_loss`; returns an array of
    ``y_pred``'s shape and float dtype.

    Examples
    --------
    >>> print(mse_loss_grad([2.5, 0.0], [3.0, -0.5]))
    [-0.5  0.5]
    """
    return _MSE.grad(y_pred, y, reduction=reduction, sample_weight=sample_weight)


# --------------------------------------------------------------------------- shared pieces


def _option(
    func: str, name: str, value: object, *, meaning: str, low: float, low_included: bool, high: float = math.inf
) -> float:
    """A scalar option as a float, or an InvalidOptionError naming the function and the option.

    ``meaning`` says what the option is for and what it must be (e.g. "the threshold
    where the loss turns from quadratic to linear: a positive finite number").
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidOptionError(
            f"{func}: {name} must be a real number, {meaning}; got {describe(value)}. "
            f"Pass a Python float, e.g. {name}=float(value)."
        )
    number = float(value)
    above = number >= low if low_included else number > low
    if not (math.isfinite(number) and above and number <= high):
        raise InvalidOptionError(f"{func}: {name} must be {meaning}; got {name}={number!r}.")
    return number


def _any(xp: Namespace, mask: Array) -> bool:
    if isinstance(mask, np.ndarray):
        return bool(mask.any())
    return bool(xp.any(mask))


def _repair_overflow(
    xp: Namespace, value: Array, difference: Array, p: Array, y: Array, halved: Callable[[Array], Array]
) -> Array:
    """``value`` with the elements where ``p - y`` overflowed computed again from halves.

    Two finite float64 numbers can differ by more than the largest float (1e308 and
    -1e308), while a loss that scales the difference down (a quantile below 1, a
    division by the target) is still finite. There ``halved(p / 2 - y / 2)`` gives the
    value: the halves are exact at that size, and ``halved`` scales its result back up.
    A check of the differences costs little; the repair is made only where needed.
    """
    overflow = xp.isinf(difference)
    if not _any(xp, overflow):
        return value
    return xp.where(overflow, halved(p * 0.5 - y * 0.5), value)


def _choose(xp: Namespace, condition: Array, if_true: Array, if_false: Array) -> Array:
    """``where(condition, if_true, if_false)`` for non-negative values (NaN passes through).

    On NumPy without ``where``, whose branches cost about 4 ns an element for a condition
    that changes at random (see ``_numerics.select_larger``): ``v * True`` is ``v`` and
    ``v * False`` is 0, and the larger of the chosen value and 0 is the chosen value.
    """
    if isinstance(if_true, np.ndarray):
        return np.maximum(np.multiply(if_true, condition), np.multiply(if_false, ~condition))
    return xp.where(condition, if_true, if_false)


# --------------------------------------------------------------------------- L1, Huber, smooth L1


def _absolute_error(xp: Namespace, p: Array, y: Array, /) -> Array:
    return xp.abs(p - y)


def _absolute_error_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    # sign(0) = 0: PyTorch's gradient of |d| at d = 0.
    return xp.sign(p - y)


_L1 = ElementwiseLoss(
    name="l1_loss",
    input=Operand("input", REAL),
    target=Operand("target", REAL),
    value=_absolute_error,
    derivative=_absolute_error_derivative,
    value_propagates_non_finite=True,
)


def l1_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Mean absolute error: ``torch.nn.functional.l1_loss``.

    .. math:: \ell_i = |x_i - y_i|, \qquad
              \text{mean} = \frac{\sum_i w_i \ell_i}{\sum_i w_i}

    Parameters
    ----------
    input : array_like
        Predictions, any shape.
    target : array_like
        Targets, the same shape as ``input`` (nothing is broadcast).
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"none"`` returns ``w * l`` element-wise.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; the mean becomes
        ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar (0-d) for ``"mean"`` and ``"sum"``, else the shape of ``input``; in the
        array library of the input, with ``input``'s float dtype (float64 otherwise).

    See Also
    --------
    l1_loss_grad : its gradient with respect to ``input``.

    Notes
    -----
    Matches ``torch.nn.functional.l1_loss`` (and scikit-learn's
    ``mean_absolute_error``). PyTorch 2.13's ``weight`` argument is this
    ``sample_weight``, with the same weighted mean. Each element is the correctly
    rounded ``|x - y|`` of the rounded difference: within one unit in the last place.

    Examples
    --------
    >>> print(l1_loss([2.5, 0.0, 2.0], [3.0, -0.5, 2.0]))
    0.3333333333333333
    """
    return _L1(input, target, reduction=reduction, sample_weight=sample_weight)


def l1_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`l1_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \operatorname{sign}(x_i - y_i)

    scaled by ``w_i`` and, for ``"mean"``, divided by ``sum(w)`` (the element count
    without weights). Where ``input == target`` it is 0, as in PyTorch (whose autograd
    uses ``sign(0) = 0``; 0 is a subgradient of ``|d|`` there).

    Examples
    --------
    >>> print(l1_loss_grad([2.5, 0.0, 2.0], [3.0, -0.5, 2.0], reduction="sum"))
    [-1.  1.  0.]
    """
    return _L1.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _huber(xp: Namespace, p: Array, y: Array, /, *, delta: float) -> Array:
    difference = p - y
    value = _huber_of(xp, xp.abs(difference), delta)
    # Where d overflowed, |d| > delta: the linear branch, delta (2|h| - delta / 2) for d = 2h.
    return _repair_overflow(
        xp, value, difference, p, y, lambda half: (2.0 * delta) * (xp.abs(half) - 0.25 * delta)
    )


def _huber_of(xp: Namespace, a: Array, delta: float) -> Array:
    # PyTorch: 0.5 a^2 for a < delta, else delta (a - delta / 2); both branches at once,
    # with m = min(a, delta): m (a - m / 2) is (a / 2) a or delta (a - delta / 2), the
    # same operations as PyTorch's (same bits), without a branch. a - m / 2 >= a / 2,
    # so the subtraction never cancels. NaN passes through min.
    m = xp.minimum(a, delta)
    return m * (a - 0.5 * m)


def _huber_derivative(xp: Namespace, p: Array, y: Array, /, *, delta: float) -> Array:
    # PyTorch: d clipped to [-delta, delta]; continuous at |d| = delta (both sides give
    # +-delta), and 0 at d = 0.
    return xp.minimum(xp.maximum(p - y, -delta), delta)


_HUBER = ElementwiseLoss(
    name="huber_loss",
    input=Operand("input", REAL),
    target=Operand("target", REAL),
    value=_huber,
    derivative=_huber_derivative,
    value_propagates_non_finite=True,
)


@functools.lru_cache(maxsize=64)
def _huber_with(delta: float) -> ElementwiseLoss:
    return replace(
        _HUBER,
        value=functools.partial(_huber, delta=delta),
        derivative=functools.partial(_huber_derivative, delta=delta),
    )


def _huber_delta(func: str, delta: object) -> ElementwiseLoss:
    meaning = "the threshold where the loss turns from quadratic to linear: a positive finite number"
    return _huber_with(_option(func, "delta", delta, meaning=meaning, low=0.0, low_included=False))


def huber_loss(
    input: object,
    target: object,
    *,
    reduction: Reduction = "mean",
    delta: float = 1.0,
    sample_weight: object = None,
) -> Array:
    r"""Huber loss: ``torch.nn.functional.huber_loss``.

    .. math:: \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\
                                     \delta\,(|d_i| - \tfrac12 \delta) & \text{otherwise}
                       \end{cases}, \qquad d_i = x_i - y_i

    Quadratic near 0, linear (slope ``delta``) beyond ``delta``: squared error for small
    residuals, robust to outliers.

    Parameters
    ----------
    input, target : array_like
        Predictions and targets, the same shape.
    reduction : {"mean", "sum", "none"}, keyword-only
    delta : float, keyword-only
        The threshold, a positive finite number (default 1.0, as in PyTorch).
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; the mean becomes
        ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    huber_loss_grad : its gradient. smooth_l1_loss : this loss divided by ``delta``.

    Notes
    -----
    Matches ``torch.nn.functional.huber_loss`` (same operations, so float64 values
    agree to the last bit). PyTorch accepts ``delta=inf`` (then the loss is
    ``d**2 / 2`` everywhere); here ``delta`` must be finite: use :func:`mse_loss` (and
    halve it) for that. PyTorch 2.13's ``weight`` argument divides its weighted mean
    by the element count; ``sample_weight`` gives the weighted mean
    ``sum(w * l) / sum(w)`` (the sums agree).

    Examples
    --------
    >>> print(huber_loss([0.5, 3.0], [0.0, 0.0], reduction="none"))
    [0.125 2.5  ]
    >>> print(huber_loss([0.5, 3.0], [0.0, 0.0], delta=2.0, reduction="none"))
    [0.125 4.   ]
    """
    loss = _huber_delta("huber_loss", delta)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def huber_loss_grad(
    input: object,
    target: object,
    *,
    reduction: Reduction = "mean",
    delta: float = 1.0,
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`huber_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(d_i, -\delta, \delta)

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. The derivative is
    continuous: at ``|d| == delta`` both formulas give ``±delta`` (PyTorch's value),
    and at ``d == 0`` it is 0.

    Examples
    --------
    >>> print(huber_loss_grad([0.5, 3.0, -1.0], [0.0, 0.0, 0.0], reduction="none"))
    [ 0.5  1.  -1. ]
    """
    loss = _huber_delta("huber_loss_grad", delta)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _smooth_l1(xp: Namespace, p: Array, y: Array, /, *, beta: float) -> Array:
    difference = p - y
    value = _smooth_l1_of(xp, xp.abs(difference), beta)
    # Where d overflowed, |d| > beta: the linear branch, 2|h| - beta / 2 for d = 2h.
    return _repair_overflow(xp, value, difference, p, y, lambda half: 2.0 * (xp.abs(half) - 0.25 * beta))


def _smooth_l1_of(xp: Namespace, a: Array, beta: float) -> Array:
    # PyTorch: 0.5 a^2 / beta for a < beta, else a - beta / 2. With m = min(a, beta),
    # (a - m / 2) * (m / beta) is (a / 2) (a / beta), or (a - beta / 2) * 1 exactly:
    # the linear branch has PyTorch's bits, the quadratic one its two roundings (in
    # another order), and nothing overflows (m / beta <= 1).
    m = xp.minimum(a, beta)
    return (a - 0.5 * m) * (m / beta)


def _smooth_l1_derivative(xp: Namespace, p: Array, y: Array, /, *, beta: float) -> Array:
    # PyTorch: d / beta clipped to [-1, 1]; continuous at |d| = beta, 0 at d = 0.
    return xp.minimum(xp.maximum((p - y) / beta, -1.0), 1.0)


_SMOOTH_L1 = replace(_HUBER, name="smooth_l1_loss", value=_smooth_l1, derivative=_smooth_l1_derivative)


@functools.lru_cache(maxsize=64)
def _smooth_l1_with(beta: float) -> ElementwiseLoss:
    if beta == 0.0:  # PyTorch's special case: the L1 loss (the limit as beta -> 0)
        return replace(_L1, name="smooth_l1_loss")
    return replace(
        _SMOOTH_L1,
        value=functools.partial(_smooth_l1, beta=beta),
        derivative=functools.partial(_smooth_l1_derivative, beta=beta),
    )


def _smooth_l1_beta(func: str, beta: object) -> ElementwiseLoss:
    meaning = (
        "the threshold where the loss turns from quadratic to linear: "
        "a finite number >= 0 (0 gives the L1 loss)"
    )
    return _smooth_l1_with(_option(func, "beta", beta, meaning=meaning, low=0.0, low_included=True))


def smooth_l1_loss(
    input: object,
    target: object,
    *,
    reduction: Reduction = "mean",
    beta: float = 1.0,
    sample_weight: object = None,
) -> Array:
    r"""Smooth L1 loss: ``torch.nn.functional.smooth_l1_loss``.

    .. math:: \ell_i = \begin{cases} \tfrac12 d_i^2 / \beta & |d_i| < \beta \\
                                     |d_i| - \tfrac12 \beta & \text{otherwise}
                       \end{cases}, \qquad d_i = x_i - y_i

    The Huber loss divided by ``beta``: its linear part has slope 1 whatever ``beta``.

    Parameters
    ----------
    input, target : array_like
        Predictions and targets, the same shape.
    reduction : {"mean", "sum", "none"}, keyword-only
    beta : float, keyword-only
        The threshold, a finite number >= 0 (default 1.0, as in PyTorch). ``beta=0``
        gives :func:`l1_loss`, as in PyTorch.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; the mean becomes
        ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    smooth_l1_loss_grad : its gradient. huber_loss : this loss times ``beta``.

    Notes
    -----
    Matches ``torch.nn.functional.smooth_l1_loss``: the linear part to the last bit,
    the quadratic part within an ulp (the same two roundings, in another order). PyTorch
    accepts ``beta=inf`` (the loss is then 0 everywhere); here ``beta`` must be finite.

    Examples
    --------
    >>> print(smooth_l1_loss([0.5, 3.0], [0.0, 0.0], reduction="none"))
    [0.125 2.5  ]
    >>> print(smooth_l1_loss([0.5, 3.0], [0.0, 0.0], beta=0.0, reduction="none"))
    [0.5 3. ]
    """
    loss = _smooth_l1_beta("smooth_l1_loss", beta)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def smooth_l1_loss_grad(
    input: object,
    target: object,
    *,
    reduction: Reduction = "mean",
    beta: float = 1.0,
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`smooth_l1_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(d_i / \beta, -1, 1)

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. Continuous at
    ``|d| == beta`` (both formulas give ±1, PyTorch's value) and 0 at ``d == 0``; with
    ``beta=0`` it is ``sign(d)``, 0 at ``d == 0``, as PyTorch gives.

    Examples
    --------
    >>> print(smooth_l1_loss_grad([0.5, 3.0, 0.0], [0.0, 0.0, 0.0], reduction="none"))
    [0.5 1.  0. ]
    """
    loss = _smooth_l1_beta("smooth_l1_loss_grad", beta)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


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
    s, s_error = two_product(near, near)  # a^2 = s + s_error exactly
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
    # The rounding error of p - y changes log(cosh) by tanh(a) times it, to first order:
    # up to 2 ulp for small a (where the loss is ~ a^2 / 2), and as much near the switch.
    correction = xp.tanh(a) * (xp.sign(difference) * _difference_error(xp, difference, p, y))
    return _choose(xp, a < _LOG_COSH_SWITCH, small + correction, large + correction)


def _difference_error(xp: Namespace, difference: Array, p: Array, y: Array) -> Array:
    """``(p - y) - difference`` exactly, where ``difference = fl(p - y)`` is finite; 0 where it is not."""
    overflow = xp.isinf(difference)
    if _any(xp, overflow):  # TwoSum of an overflowing difference would compute inf - inf
        zeros = xp.zeros_like(p)
        p, y = xp.where(overflow, zeros, p), xp.where(overflow, zeros, y)
    return two_sum(p, -y)[1]


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
    if _any(xp, large):
        factor = xp.where(large, xp.full_like(t, 2.0**-600), xp.ones_like(t))
        s_scaled, t_scaled = s * factor, t * factor
    product, product_error = two_product(xp.minimum(r, 2.0**500), t_scaled)
    remainder = (s_scaled - product) - product_error
    # log1p((s + s_error) / (t + t_error)) = log1p(r) + dr / (1 + r) to first order, and
    # t (1 + r) = t + s = 1 + a. r t_error is formed as s (t_error / t): finite where r is not.
    low = remainder / (t_scaled + s_scaled) + (s_error - s * (t_error / t)) / (1.0 + a)
    high = xp.log1p(r)
    huge = r > 2.0**500  # log1p hardly depends on r there (and the remainder was clipped)
    if _any(xp, huge):
        low = xp.where(huge, xp.zeros_like(low), low)
        high = xp.where(xp.isinf(r), xp.log1p(a) - xp.log1p(b), high)
    return high, low


def _log_difference(xp: Namespace, p: Array, y: Array, /) -> Array:
    """``log1p(p) - log1p(y)``, to about an ulp (see :func:`_log_ratio`)."""
    high, low = _log_ratio(xp, p, y)
    return xp.sign(p - y) * (high + low)


def _over_one_plus(xp: Namespace, value: Array, p: Array) -> Array:
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
    return 2.0 * _over_one_plus(xp, _log_difference(xp, p, y), p)


_MSLE = ElementwiseLoss(
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
    return _MSLE(input, target, reduction=reduction, sample_weight=sample_weight)


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
    return _MSLE.grad(input, target, reduction=reduction, sample_weight=sample_weight)


# --------------------------------------------------------------------------- root mean squares


_SAFE_SQUARES = 2.0**-900
"""A sum of squares below this may hide squares that underflowed: scale the errors and redo it."""


def _times_power_of_two(x: Array, exponent: int) -> Array:
    """``x * 2**exponent``, in steps that are powers of two themselves (2**1073 is no float)."""
    while exponent != 0:
        step = max(-1000, min(1000, exponent))
        x = x * 2.0**step
        exponent -= step
    return x


def _square_root(value: Fraction) -> float:
    """``sqrt(value)`` for a rational ``value >= 0``, rounded once to float64 (inf beyond its range).

    The integer square root is taken with at least 80 bits, so that the final rounding
    of that 80-bit (truncated) root is, but for the rarest of ties, the correct one.
    """
    if value == 0:
        return 0.0
    p, q = value.numerator, value.denominator
    k = max(0, (q.bit_length() - p.bit_length()) // 2 + 81)
    try:
        return float(Fraction(math.isqrt((p << (2 * k)) // q), 1 << k))
    except OverflowError:
        return math.inf


def _root_reduction(func: str, reduction: object) -> str:
    checked = _validation.check_reduction(func, reduction)
    if checked == "none":
        raise InvalidOptionError(
            f"{func}: reduction must be 'mean' or 'sum'; got 'none'. The root of one element's "
            "square is just the absolute error: for per-element values use l1_loss(..., "
            "reduction='none'), or the squares whose mean this is the root of with "
            "reduction='none'. 'sum' gives the root of the weighted sum of squares (the "
            "Euclidean norm of the errors)."
        )
    return checked


@dataclass(frozen=True)
class _RootOfSquares:
    """``sqrt(reduce(w * d**2))``, the root of a (weighted) mean or sum of squared errors.

    ``difference(xp, p, y)`` is the signed error ``d``; ``slope(xp, v, p)`` multiplies
    ``v`` by ``dd/dp`` (None when it is 1); ``loss`` holds the name and the operands'
    domains. The loss engine sums ``w d**2`` (exact accumulation, in float64 even for
    float32 input); the root of that sum ``N`` over the mean's denominator ``D`` is then
    taken in exact rational arithmetic and rounded once. The gradient
    ``w d d' / (D * root)`` is ``w d d'`` times the one number ``1 / sqrt(N D)``, also
    rounded once: three roundings an element in all.

    Where a square would leave the float64 range (``|d| > 1e154`` or ``|d| < 1e-154``)
    the errors are first scaled by a power of two that brings the largest near 1, and
    the root scaled back; the gradient does not change with that scale.
    """

    loss: ElementwiseLoss
    difference: Callable[[Namespace, Array, Array], Array]
    slope: Callable[[Namespace, Array, Array], Array] | None = None
    halves: bool = False
    """Whether ``d`` is ``p - y``, which can overflow for finite operands: then the
    scaled errors are formed from ``p / 2 - y / 2``."""

    def value(self, func: str, input: object, target: object, reduction: object, sample_weight: object) -> Array:
        checked = _root_reduction(func, reduction)
        trust = self.loss.value_propagates_non_finite and sample_weight is None
        batch = self.loss.prepare(func, input, target, checked, sample_weight, {}, trust_finite=trust)
        dtype, denominator = batch.dtype, self._as_sum(batch)
        total, exponent, halved = self._reduced_square(batch)
        # root = sqrt(total / denominator) * 2**(halved - exponent), rounded once (inf beyond the range)
        root = math.inf
        if math.isfinite(total):  # only a sum with weights near the float64 limit is not
            root = _square_root(Fraction(total) / denominator * Fraction(4) ** (halved - exponent))
        if isinstance(batch.input, np.ndarray):
            return np.asarray(root, dtype=dtype)[()]
        return batch.xp.asarray(root, dtype=dtype, device=array_api_compat.device(batch.input))

    def grad(self, func: str, input: object, target: object, reduction: object, sample_weight: object) -> Array:
        checked = _root_reduction(func, reduction)
        batch = self.loss.prepare(func, input, target, checked, sample_weight, {})
        xp, dtype, denominator = batch.xp, batch.dtype, self._as_sum(batch)
        total, exponent, halved = self._reduced_square(batch)
        kernel = functools.partial(self._scaled_slope, exponent=exponent, halved=halved)
        slopes = _evaluate(kernel, _reduction.reduce_derivatives, batch, reduced=False)  # w d d'
        # At the minimum (every weighted error 0) the root is not differentiable (like
        # |d| at 0); 0 is a subgradient there, and every slope is already 0.
        if total > 0.0:
            factor = _square_root(1 / (Fraction(total) * denominator)) if math.isfinite(total) else 0.0
            slopes = slopes * factor
        return xp.astype(slopes, dtype, copy=False)

    @staticmethod
    def _as_sum(batch: Batch) -> Fraction:
        """Make ``batch`` compute float64 sums; return what the mean divides them by (1 for a sum)."""
        denominator = Fraction(1)
        if batch.reduction == "mean":
            denominator = Fraction(float(_reduction.denominator(batch.xp, batch.input, batch.sample_weight)))
        batch.reduction, batch.dtype = "sum", batch.xp.float64
        return denominator

    def _reduced_square(self, batch: Batch) -> tuple[float, int, bool]:
        """The sum of the weighted scaled squares, the scale's exponent, and whether ``d`` was halved."""
        kernel = functools.partial(self._scaled_square, exponent=0, halved=False)
        total = float(_evaluate(kernel, _reduction.reduce_values, batch, reduced=True))
        if _SAFE_SQUARES <= total < math.inf:
            return total, 0, False
        largest, halved = self._largest(batch)
        if largest == 0.0:
            return 0.0, 0, False
        exponent = -math.frexp(largest)[1]  # the largest scaled error lies in [0.5, 1)
        kernel = functools.partial(self._scaled_square, exponent=exponent, halved=halved)
        total = float(_evaluate(kernel, _reduction.reduce_values, batch, reduced=True))
        return total, exponent, halved

    def _largest(self, batch: Batch) -> tuple[float, bool]:
        """The largest ``|d|`` with a positive weight, and whether it is of halved errors."""
        xp = batch.xp
        if math.prod(batch.input.shape) == 0:
            return 0.0, False
        p, y = _validation.working(xp, batch.input), _validation.working(xp, batch.target)
        with np.errstate(over="ignore", divide="ignore"):
            d = self.difference(xp, p, y)
            halved = self.halves and _any(xp, xp.isinf(d))
            if halved:
                d = p * 0.5 - y * 0.5
        magnitude = xp.abs(d)
        if batch.sample_weight is not None:
            magnitude = xp.where(batch.sample_weight > 0, magnitude, xp.zeros_like(magnitude))
        return float(xp.max(magnitude)), halved

    def _scaled(self, xp: Namespace, p: Array, y: Array, exponent: int, halved: bool) -> Array:
        d = p * 0.5 - y * 0.5 if halved else self.difference(xp, p, y)
        return _times_power_of_two(d, exponent)

    def _scaled_square(self, xp: Namespace, p: Array, y: Array, /, *, exponent: int, halved: bool) -> Array:
        d = self._scaled(xp, p, y, exponent, halved)
        return d * d

    def _scaled_slope(self, xp: Namespace, p: Array, y: Array, /, *, exponent: int, halved: bool) -> Array:
        d = self._scaled(xp, p, y, exponent, halved)
        return d if self.slope is None else self.slope(xp, d, p)


def _error(xp: Namespace, p: Array, y: Array, /) -> Array:
    return p - y


_RMSE = _RootOfSquares(
    loss=replace(_L1, name="root_mean_squared_error", value=_squared_error, derivative=_squared_error_derivative),
    difference=_error,
    halves=True,
)
_RMSLE = _RootOfSquares(
    loss=replace(_MSLE, name="root_mean_squared_log_error"),
    difference=_log_difference,
    slope=_over_one_plus,
)


def root_mean_squared_error(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Root mean squared error: scikit-learn's ``root_mean_squared_error``.

    .. math:: \text{RMSE} = \sqrt{\frac{\sum_i w_i (x_i - y_i)^2}{\sum_i w_i}}

    Parameters
    ----------
    input, target : array_like
        Predictions and targets, the same shape. scikit-learn takes ``(y_true, y_pred)``:
        the opposite order (the value is symmetric, the gradient is not).
    reduction : {"mean", "sum"}, keyword-only
        ``"mean"`` (the default) is the RMSE; ``"sum"`` the root of the weighted *sum* of
        squares (the Euclidean norm of the errors). ``"none"`` is refused with an error:
        the root of one element's square is only ``|x - y|`` (:func:`l1_loss` with
        ``reduction="none"`` gives those).
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``.

    Returns
    -------
    loss : array
        A scalar, in ``input``'s float dtype.

    See Also
    --------
    root_mean_squared_error_grad : its gradient. mse_loss : its square.

    Notes
    -----
    The root of a mean over every element: for a 2-D input it is Keras's
    ``RootMeanSquaredError``; scikit-learn's ``root_mean_squared_error`` averages the
    roots of the columns instead (its ``multioutput="uniform_average"``), which agrees
    for 1-D input and a single column. Squares beyond the float64 range (errors above
    1e154 or below 1e-154) are scaled by a power of two, not lost: the result is within
    about an ulp of the exact root for every finite input.

    Examples
    --------
    scikit-learn's example (``root_mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])``):

    >>> print(root_mean_squared_error([2.5, 0.0, 2, 8], [3, -0.5, 2, 7]))
    0.6123724356957945
    """
    return _RMSE.value("root_mean_squared_error", input, target, reduction, sample_weight)


def root_mean_squared_error_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`root_mean_squared_error` with respect to ``input``.

    .. math:: \frac{\partial\, \text{RMSE}}{\partial x_i} = \frac{w_i (x_i - y_i)}{\sum_j w_j \cdot \text{RMSE}}

    (for ``"sum"``, without the ``sum(w)``). Where the RMSE is 0 (every weighted error is
    0) the root is not differentiable, like ``|d|`` at 0; the gradient is 0 there, a
    subgradient, as :func:`l1_loss_grad` gives at a tie. PyTorch's autograd of
    ``torch.sqrt(F.mse_loss(x, y))`` gives NaN there (0 / 0).

    Examples
    --------
    >>> print(root_mean_squared_error_grad([3.0, 0.0], [0.0, 4.0], reduction="sum"))
    [ 0.6 -0.8]
    >>> print(root_mean_squared_error_grad([1.0, 2.0], [1.0, 2.0]))
    [0. 0.]
    """
    return _RMSE.grad("root_mean_squared_error_grad", input, target, reduction, sample_weight)


def root_mean_squared_log_error(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Root mean squared logarithmic error: scikit-learn's ``root_mean_squared_log_error``.

    .. math:: \text{RMSLE} = \sqrt{\frac{\sum_i w_i \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)^2}
                                        {\sum_i w_i}}

    Parameters
    ----------
    input, target : array_like
        Predictions and targets, greater than -1, the same shape. scikit-learn takes
        ``(y_true, y_pred)``: the opposite order.
    reduction : {"mean", "sum"}, keyword-only
        ``"mean"`` (the default) is the RMSLE; ``"sum"`` the root of the weighted sum of
        squares. ``"none"`` is refused with an error, as for
        :func:`root_mean_squared_error` (:func:`mean_squared_log_error` with
        ``reduction="none"`` gives the squares).
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``.

    Returns
    -------
    loss : array
        A scalar, in ``input``'s float dtype.

    Raises
    ------
    OutOfRangeError
        If a value is -1 or below (scikit-learn refuses them too; Keras clips at 1e-7:
        see :func:`mean_squared_log_error`).

    See Also
    --------
    root_mean_squared_log_error_grad : its gradient. mean_squared_log_error : its square.

    Notes
    -----
    The root of the mean over every element (scikit-learn averages the roots of the
    columns of a 2-D input instead; the two agree for 1-D input).

    Examples
    --------
    scikit-learn's example (``root_mean_squared_log_error([3, 5, 2.5, 7], [2.5, 5, 4, 8])``,
    0.19932416558108); the exact value is 0.199324165581080005 (mpmath):

    >>> print(root_mean_squared_log_error([2.5, 5, 4, 8], [3, 5, 2.5, 7]))
    0.19932416558108
    """
    return _RMSLE.value("root_mean_squared_log_error", input, target, reduction, sample_weight)


def root_mean_squared_log_error_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`root_mean_squared_log_error` with respect to ``input``.

    .. math:: \frac{\partial\, \text{RMSLE}}{\partial x_i}
              = \frac{w_i \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)}{(1 + x_i) \sum_j w_j \cdot \text{RMSLE}}

    (for ``"sum"``, without the ``sum(w)``); 0 where the RMSLE is 0, a subgradient (see
    :func:`root_mean_squared_error_grad`).

    Examples
    --------
    >>> print(root_mean_squared_log_error_grad([0.0, 1.0], [0.0, 0.0], reduction="sum"))
    [0.  0.5]
    """
    return _RMSLE.grad("root_mean_squared_log_error_grad", input, target, reduction, sample_weight)


# --------------------------------------------------------------------------- percentage error

_EPSILON = float(np.finfo(np.float64).eps)
"""scikit-learn's floor on |target| in the percentage error: float64's machine epsilon, 2**-52."""


def _percentage_error(xp: Namespace, p: Array, y: Array, /) -> Array:
    difference = p - y
    scale = xp.maximum(xp.abs(y), _EPSILON)
    value = xp.abs(difference) / scale
    return _repair_overflow(xp, value, difference, p, y, lambda half: 2.0 * (xp.abs(half) / scale))


def _percentage_error_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    # sign(0) = 0 at a tie, as for l1_loss.
    return xp.sign(p - y) / xp.maximum(xp.abs(y), _EPSILON)


_MAPE = replace(
    _L1,
    name="mean_absolute_percentage_error",
    value=_percentage_error,
    derivative=_percentage_error_derivative,
)


def mean_absolute_percentage_error(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Mean absolute percentage error: scikit-learn's ``mean_absolute_percentage_error``.

    .. math:: \ell_i = \frac{|x_i - y_i|}{\max(|y_i|, \epsilon)}, \qquad \epsilon = 2^{-52}

    A fraction, not a percentage: 0.25 means 25 %.

    Parameters
    ----------
    input : array_like
        Predictions. scikit-learn takes ``(y_true, y_pred)``: the opposite order, and the
        order matters (the target is the denominator).
    target : array_like
        Targets, the same shape as ``input``.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` (the default) is scikit-learn's value; ``"none"`` gives each relative error.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    mean_absolute_percentage_error_grad : its gradient.

    Notes
    -----
    scikit-learn's definition: ``epsilon`` is float64's machine epsilon
    (2.220446049250313e-16), so a target of 0 gives a huge but finite error, and the
    result is *not* multiplied by 100. Keras (``keras.losses.MeanAbsolutePercentageError``)
    multiplies by 100 and uses ``epsilon = 1e-7``: its value is 100 times this one
    wherever every ``|target| >= 1e-7``.

    Examples
    --------
    scikit-learn's example (``mean_absolute_percentage_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])``):

    >>> print(mean_absolute_percentage_error([2.5, 0.0, 2, 8], [3, -0.5, 2, 7]))
    0.3273809523809524
    """
    return _MAPE(input, target, reduction=reduction, sample_weight=sample_weight)


def mean_absolute_percentage_error_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`mean_absolute_percentage_error` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \frac{\operatorname{sign}(x_i - y_i)}{\max(|y_i|, \epsilon)}

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``; 0 where
    ``input == target`` (``sign(0) = 0``, as for :func:`l1_loss_grad`).

    Examples
    --------
    >>> print(mean_absolute_percentage_error_grad([2.5, 4.0], [2.0, 4.0], reduction="none"))
    [0.5 0. ]
    """
    return _MAPE.grad(input, target, reduction=reduction, sample_weight=sample_weight)


# --------------------------------------------------------------------------- pinball (quantile) loss


def _pinball(xp: Namespace, p: Array, y: Array, /, *, quantile: float) -> Array:
    # quantile * max(y - p, 0) + (1 - quantile) * max(p - y, 0) = max((1 - q) d, -q d)
    # with d = p - y, for 0 < q < 1: one product rounded, as in scikit-learn (same bits).
    # "+ 0.0" turns the -0.0 of a tie into 0.0.
    difference = p - y
    above, below = 1.0 - quantile, -quantile
    value = xp.maximum(above * difference, below * difference) + 0.0
    return _repair_overflow(
        xp, value, difference, p, y, lambda half: 2.0 * xp.maximum(above * half, below * half)
    )


def _pinball_one_sided(xp: Namespace, p: Array, y: Array, /, *, quantile: float) -> Array:
    # quantile 0: max(p - y, 0); quantile 1: max(y - p, 0). Kept apart from _pinball,
    # whose 0 * d would be NaN for an infinite d.
    difference = p - y if quantile == 0.0 else y - p
    return xp.maximum(difference, 0.0) + 0.0


def _pinball_derivative(xp: Namespace, p: Array, y: Array, /, *, quantile: float) -> Array:
    # 1 - q where p > y, -q where p < y, and 0 at a tie (as l1_loss; pinball with
    # quantile 0.5 is half the L1 loss). Written with the sign s, without a branch.
    s = xp.sign(p - y)
    over = xp.maximum(s, 0.0)  # 1 where p > y, else 0
    under = over - s  # 1 where p < y, else 0
    return (1.0 - quantile) * over - quantile * under


@functools.lru_cache(maxsize=64)
def _pinball_with(quantile: float) -> ElementwiseLoss:
    one_sided = quantile in (0.0, 1.0)
    return replace(
        _L1,
        name="pinball_loss",
        value=functools.partial(_pinball_one_sided if one_sided else _pinball, quantile=quantile),
        derivative=functools.partial(_pinball_derivative, quantile=quantile),
        # With quantile 0 an input of -inf costs 0: a finite result proves nothing.
        value_propagates_non_finite=not one_sided,
    )


def _pinball_quantile(func: str, quantile: object) -> ElementwiseLoss:
    meaning = "the quantile to estimate: a number in [0, 1] (scikit-learn's alpha)"
    return _pinball_with(_option(func, "quantile", quantile, meaning=meaning, low=0.0, low_included=True, high=1.0))


def pinball_loss(
    input: object,
    target: object,
    *,
    quantile: float = 0.5,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Pinball (quantile) loss: scikit-learn's ``mean_pinball_loss``.

    .. math:: \ell_i = q \max(y_i - x_i, 0) + (1 - q) \max(x_i - y_i, 0)

    Minimized, over a constant prediction, by the ``q``-th quantile of the targets:
    under-predictions cost ``q`` per unit, over-predictions ``1 - q``.

    Parameters
    ----------
    input : array_like
        Predictions. scikit-learn takes ``(y_true, y_pred)``: the opposite order, and the
        order matters unless ``quantile=0.5``.
    target : array_like
        Targets, the same shape as ``input``.
    quantile : float, keyword-only
        The quantile ``q`` in [0, 1], default 0.5 (half the absolute error).
        scikit-learn calls it ``alpha``.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` (the default) is scikit-learn's value; ``"none"`` gives each element's loss.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    pinball_loss_grad : its gradient.

    Notes
    -----
    scikit-learn's ``mean_pinball_loss(y_true, y_pred, alpha=q)`` with the same
    arithmetic (one product rounded; ``1 - q`` rounded once), so float64 elements agree
    to the last bit.

    Examples
    --------
    scikit-learn's example (``mean_pinball_loss([1, 2, 3], [0, 2, 3], alpha=0.1)``):

    >>> print(pinball_loss([0, 2, 3], [1, 2, 3], quantile=0.1))
    0.03333333333333333
    """
    loss = _pinball_quantile("pinball_loss", quantile)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def pinball_loss_grad(
    input: object,
    target: object,
    *,
    quantile: float = 0.5,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`pinball_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \begin{cases} 1 - q & x_i > y_i \\
                                                                    -q & x_i < y_i \\
                                                                    0 & x_i = y_i \end{cases}

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. At a tie the loss
    has a kink; 0 lies in its subdifferential ``[-q, 1 - q]`` and is what
    :func:`l1_loss_grad` gives there (``quantile=0.5`` is half the L1 loss).

    Examples
    --------
    >>> print(pinball_loss_grad([0.0, 2.0, 3.0], [1.0, 2.0, 2.0], quantile=0.1, reduction="none"))
    [-0.1  0.   0.9]
    """
    loss = _pinball_quantile("pinball_loss_grad", quantile)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)
