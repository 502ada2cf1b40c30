"""The pinball (quantile) loss, with its derivative beside it."""

from __future__ import annotations

import functools
from dataclasses import replace

from neural_network._validation import Array, Namespace
from neural_network.losses._common import real_option, repair_overflow
from neural_network.losses._elementwise import ElementwiseLoss, Reduction
from neural_network.losses._reference import register
from neural_network.losses.regression._pointwise import L1


def _pinball(xp: Namespace, p: Array, y: Array, /, *, quantile: float) -> Array:
    # quantile * max(y - p, 0) + (1 - quantile) * max(p - y, 0) = max((1 - q) d, -q d)
    # with d = p - y, for 0 < q < 1: one product rounded, as in scikit-learn (same bits).
    # "+ 0.0" turns the -0.0 of a tie into 0.0.
    difference = p - y
    above, below = 1.0 - quantile, -quantile
    value = xp.maximum(above * difference, below * difference) + 0.0
    return repair_overflow(
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
        L1,
        name="pinball_loss",
        value=functools.partial(_pinball_one_sided if one_sided else _pinball, quantile=quantile),
        derivative=functools.partial(_pinball_derivative, quantile=quantile),
        # With quantile 0 an input of -inf costs 0: a finite result proves nothing.
        value_propagates_non_finite=not one_sided,
    )


def _pinball_quantile(func: str, quantile: object) -> ElementwiseLoss:
    meaning = "the quantile to estimate: a number in [0, 1] (scikit-learn's alpha)"
    return _pinball_with(real_option(func, "quantile", quantile, meaning=meaning, low=0.0, low_included=True, high=1.0))


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


def _pinball_reference(xp: Namespace, x: Array, y: Array, /, *, quantile: float = 0.5) -> Array:
    below, above = xp.maximum(y - x, 0.0), xp.maximum(x - y, 0.0)
    return quantile * below + (above - quantile * above)  # (1 - q) above, 1 - q unrounded


def _pinball_reference_grad(xp: Namespace, x: Array, y: Array, /, *, quantile: float = 0.5) -> Array:
    over = xp.where(x > y, xp.ones_like(x), xp.zeros_like(x))
    under = xp.where(x < y, xp.ones_like(x), xp.zeros_like(x))
    return over - quantile * (over + under)  # 1 - q, -q, or 0 at a tie


register("pinball_loss", _pinball_reference, _pinball_reference_grad)
