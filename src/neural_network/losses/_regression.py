"""Regression losses: each per-element value with its derivative beside it."""

from __future__ import annotations

from neural_network._validation import REAL, Array, Namespace
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction

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
