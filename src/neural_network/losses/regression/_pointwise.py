"""Regression losses: each per-element value with its derivative beside it."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from neural_network._validation import REAL, Array, Namespace
from neural_network.losses._common import real_option, repair_overflow
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register

# --------------------------------------------------------------------------- mean squared error


def squared_error(xp: Namespace, y_pred: Array, y: Array, /) -> Array:
    # The difference of two floats is correctly rounded (and exact when they are close),
    # so (p - y)^2 carries at most about 1.5 units in the last place of error.
    difference = y_pred - y
    if isinstance(difference, np.ndarray):  # squared in place: no second array
        return np.multiply(difference, difference, out=difference)
    return difference * difference


def squared_error_derivative(xp: Namespace, y_pred: Array, y: Array, /) -> Array:
    difference = y_pred - y
    if isinstance(difference, np.ndarray):  # doubled in place: no second array
        return np.multiply(difference, 2.0, out=difference)
    return 2.0 * difference


MSE = ElementwiseLoss(
    name="mse_loss",
    input=Operand("y_pred", REAL),
    target=Operand("y", REAL),
    value=squared_error,
    derivative=squared_error_derivative,
    value_propagates_non_finite=True,
    derivative_propagates_non_finite=True,
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
    return MSE(y_pred, y, reduction=reduction, sample_weight=sample_weight)


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
    return MSE.grad(y_pred, y, reduction=reduction, sample_weight=sample_weight)


def _mse_reference(xp: Namespace, y_pred: Array, y: Array, /) -> Array:
    return (y_pred - y) ** 2


def _mse_reference_grad(xp: Namespace, y_pred: Array, y: Array, /) -> Array:
    return 2 * (y_pred - y)


register("mse_loss", _mse_reference, _mse_reference_grad)


# --------------------------------------------------------------------------- L1, Huber, smooth L1


def _absolute_error(xp: Namespace, p: Array, y: Array, /) -> Array:
    return xp.abs(p - y)


def _absolute_error_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    # sign(0) = 0: PyTorch's gradient of |d| at d = 0.
    return xp.sign(p - y)


L1 = ElementwiseLoss(
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
    return L1(input, target, reduction=reduction, sample_weight=sample_weight)


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
    return L1.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _l1_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.abs(x - y)


def _l1_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    d = x - y
    return xp.where(d > 0, 1.0, xp.where(d < 0, -1.0, 0.0))  # sign(d), 0 at a tie


register("l1_loss", _l1_reference, _l1_reference_grad)


def _huber(xp: Namespace, p: Array, y: Array, /, *, delta: float) -> Array:
    difference = p - y
    value = _huber_of(xp, xp.abs(difference), delta)
    # Where d overflowed, |d| > delta: the linear branch, delta (2|h| - delta / 2) for d = 2h.
    return repair_overflow(
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
    return _huber_with(real_option(func, "delta", delta, meaning=meaning, low=0.0, low_included=False))


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


def _huber_reference(xp: Namespace, x: Array, y: Array, /, *, delta: float = 1.0) -> Array:
    d = x - y
    return xp.where(xp.abs(d) < delta, d * d / 2, delta * (xp.abs(d) - delta / 2))


def _huber_reference_grad(xp: Namespace, x: Array, y: Array, /, *, delta: float = 1.0) -> Array:
    return xp.clip(x - y, min=-delta, max=delta)


register("huber_loss", _huber_reference, _huber_reference_grad)


def _smooth_l1(xp: Namespace, p: Array, y: Array, /, *, beta: float) -> Array:
    difference = p - y
    value = _smooth_l1_of(xp, xp.abs(difference), beta)
    # Where d overflowed, |d| > beta: the linear branch, 2|h| - beta / 2 for d = 2h.
    return repair_overflow(xp, value, difference, p, y, lambda half: 2.0 * (xp.abs(half) - 0.25 * beta))


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
        return replace(L1, name="smooth_l1_loss")
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
    return _smooth_l1_with(real_option(func, "beta", beta, meaning=meaning, low=0.0, low_included=True))


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


def _smooth_l1_reference(xp: Namespace, x: Array, y: Array, /, *, beta: float = 1.0) -> Array:
    d = x - y
    return xp.where(xp.abs(d) < beta, d * d / (2 * beta), xp.abs(d) - beta / 2)


def _smooth_l1_reference_grad(xp: Namespace, x: Array, y: Array, /, *, beta: float = 1.0) -> Array:
    return xp.clip((x - y) / beta, min=-1.0, max=1.0)


register("smooth_l1_loss", _smooth_l1_reference, _smooth_l1_reference_grad)
