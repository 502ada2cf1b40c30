"""Roots of mean squares: RMSE and RMSLE, with their gradients."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._validation import Array, Namespace
from neural_network.errors import InvalidOptionError
from neural_network.losses._common import any_true
from neural_network.losses._elementwise import Batch, ElementwiseLoss, Reduction, evaluate
from neural_network.losses._reference import register
from neural_network.losses.regression._logarithmic import MSLE, log_difference, over_one_plus
from neural_network.losses.regression._pointwise import L1, squared_error, squared_error_derivative

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
        slopes = evaluate(kernel, _reduction.reduce_derivatives, batch, reduced=False)  # w d d'
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
        total = float(_validation.detached(evaluate(kernel, _reduction.reduce_values, batch, reduced=True)))
        if _SAFE_SQUARES <= total < math.inf:
            return total, 0, False
        largest, halved = self._largest(batch)
        if largest == 0.0:
            return 0.0, 0, False
        exponent = -math.frexp(largest)[1]  # the largest scaled error lies in [0.5, 1)
        kernel = functools.partial(self._scaled_square, exponent=exponent, halved=halved)
        total = float(_validation.detached(evaluate(kernel, _reduction.reduce_values, batch, reduced=True)))
        return total, exponent, halved

    def _largest(self, batch: Batch) -> tuple[float, bool]:
        """The largest ``|d|`` with a positive weight, and whether it is of halved errors."""
        xp = batch.xp
        if math.prod(batch.input.shape) == 0:
            return 0.0, False
        p, y = _validation.working(xp, batch.input), _validation.working(xp, batch.target)
        with np.errstate(over="ignore", divide="ignore"):
            d = self.difference(xp, p, y)
            halved = self.halves and any_true(xp, xp.isinf(d))
            if halved:
                d = p * 0.5 - y * 0.5
        magnitude = xp.abs(d)
        if batch.sample_weight is not None:
            magnitude = xp.where(batch.sample_weight > 0, magnitude, xp.zeros_like(magnitude))
        return float(xp.max(_validation.detached(magnitude))), halved

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
    loss=replace(L1, name="root_mean_squared_error", value=squared_error, derivative=squared_error_derivative),
    difference=_error,
    halves=True,
)
_RMSLE = _RootOfSquares(
    loss=replace(MSLE, name="root_mean_squared_log_error"),
    difference=log_difference,
    slope=over_one_plus,
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


def _rmse_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.sqrt(xp.sum((x - y) ** 2))  # reduction="sum": the root of the sum of squares


def _rmse_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return (x - y) / xp.sqrt(xp.sum((x - y) ** 2))


register("root_mean_squared_error", _rmse_reference, _rmse_reference_grad)


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


def _rmsle_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.sqrt(xp.sum((xp.log1p(x) - xp.log1p(y)) ** 2))  # reduction="sum"


def _rmsle_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    d = xp.log1p(x) - xp.log1p(y)
    return d / ((1 + x) * xp.sqrt(xp.sum(d**2)))


register("root_mean_squared_log_error", _rmsle_reference, _rmsle_reference_grad)
