"""The mean absolute percentage error (MAPE), with its derivative beside it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neural_network._validation import Array, Namespace
from neural_network.losses._common import repair_overflow
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses.regression._pointwise import L1

_EPSILON = float(np.finfo(np.float64).eps)
"""scikit-learn's floor on |target| in the percentage error: float64's machine epsilon, 2**-52."""


def _percentage_error(xp: Namespace, p: Array, y: Array, /) -> Array:
    difference = p - y
    scale = xp.maximum(xp.abs(y), _EPSILON)
    value = xp.abs(difference) / scale
    return repair_overflow(xp, value, difference, p, y, lambda half: 2.0 * (xp.abs(half) / scale))


def _percentage_error_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    # sign(0) = 0 at a tie, as for l1_loss.
    return xp.sign(p - y) / xp.maximum(xp.abs(y), _EPSILON)


_MAPE = replace(
    L1,
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


def _mape_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.abs(x - y) / xp.maximum(xp.abs(y), _EPSILON)


def _mape_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    d = x - y
    sign = xp.where(d > 0, 1.0, xp.where(d < 0, -1.0, 0.0))  # 0 at a tie
    return sign / xp.maximum(xp.abs(y), _EPSILON)


register("mean_absolute_percentage_error", _mape_reference, _mape_reference_grad)
