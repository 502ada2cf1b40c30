r"""Overlap losses of segmentation: Dice and Tversky, as Keras 3 defines them.

Neither is a mean of per-element losses: each is one ratio of sums over a group of
elements (all of them by default, as Keras's ``axis=None``; or the axes named by
``axis``, one loss per remaining index). The reduction then combines those group
losses: ``"none"`` returns them (a 0-d array for ``axis=None``), ``"mean"`` their
(sample-weighted) mean, ``"sum"`` their weighted sum; ``sample_weight`` holds one weight
per group.

Both are written as a ratio of sums of non-negative terms, with ``A = sum(y (1 - p))``,
``B = sum(p (1 - y))`` and ``I = sum(y p)``::

    loss = (a A + b B + smooth) / (c I + a A + b B + smooth)

(Dice: a = b = 1, c = 2; Tversky: a = alpha, b = beta, c = 1), which is ``1 - index``
without the cancellation of ``1 - index`` for a near-perfect prediction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import power_of_two, two_product, two_sum
from neural_network._validation import LABEL, PROBABILITY, Array, Namespace
from neural_network.errors import EmptyInputError, InvalidOptionError, OutOfRangeError, ShapeMismatchError
from neural_network.losses._common import _any, _option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register

_KERAS_EPSILON = 1e-7
"""``keras.backend.epsilon()``, which Keras adds to the denominator of both losses."""


def _axes(func: str, axis: object, ndim: int) -> tuple[int, ...]:
    """The axes a group spans, as sorted non-negative integers (all of them for None)."""
    if axis is None:
        return tuple(range(ndim))
    given = (axis,) if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) else axis
    if not isinstance(given, tuple) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in given
    ):
        raise InvalidOptionError(
            f"{func}: axis must be None, an int or a tuple of ints; got {axis!r}. "
            "None (Keras's default) computes one loss over every element."
        )
    normalized = []
    for a in given:
        if not -ndim <= int(a) < ndim:
            raise InvalidOptionError(
                f"{func}: axis {int(a)} is out of range for input with {ndim} dimensions."
            )
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise InvalidOptionError(f"{func}: axis names an axis twice; got {axis!r}.")
    return tuple(sorted(normalized))


class _Groups:
    """Validated arguments as (M, K) float64 rows: one row per group, K elements each."""

    def __init__(
        self, func: str, input: object, target: object, axis: object, reduction: object, sample_weight: object
    ) -> None:
        self.func = func
        self.reduction = _validation.check_reduction(func, reduction)
        xp, device = _validation.namespace(func, input=input, target=target, sample_weight=sample_weight)
        x = _validation.as_real_array(func, "input", input, xp, device)
        t = _validation.as_real_array(func, "target", target, xp, device)
        _validation.check_same_shape(func, "input", x, "target", t)
        _validation.check_values(func, "input", x, xp, PROBABILITY)
        _validation.check_values(func, "target", t, xp, LABEL)
        shape = tuple(x.shape)
        axes = _axes(func, axis, len(shape))
        keep = tuple(a for a in range(len(shape)) if a not in axes)
        self.xp, self.dtype, self.shape, self.order = xp, x.dtype, shape, keep + axes
        self.out_shape = tuple(shape[a] for a in keep)
        groups, size = math.prod(self.out_shape), math.prod(shape[a] for a in axes)
        self.p = xp.reshape(xp.permute_dims(_validation.working(xp, x), self.order), (groups, size))
        self.y = xp.reshape(xp.permute_dims(_validation.working(xp, t), self.order), (groups, size))
        if self.reduction == "mean" and groups == 0:
            raise EmptyInputError(
                f"{func}: reduction='mean' needs at least one group of elements; got input.shape="
                f"{shape} with axis={axis!r}. Use reduction='sum' (an empty sum is 0)."
            )
        self.sample_weight: Array | None = None
        if sample_weight is not None:
            w = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
            if tuple(w.shape) != self.out_shape:
                raise ShapeMismatchError(
                    f"{func}: sample_weight must hold one weight per loss, shape {self.out_shape} (the "
                    f"input's shape without the axes {axes} the loss is taken over); got "
                    f"sample_weight.shape={tuple(w.shape)}."
                )
            _, largest = _validation.check_values(func, "sample_weight", w, xp, _validation.NONNEGATIVE)
            if self.reduction == "mean" and largest == 0.0:
                raise OutOfRangeError(
                    f"{func}: sample_weight must have a positive sum for reduction='mean'; got weights "
                    "that are all 0. Give at least one loss a positive weight, or use reduction='sum'."
                )
            self.sample_weight = xp.reshape(_validation.working(xp, w), (groups,))

    def parts(self, a: float, b: float, c: float, smooth: float) -> tuple[Array, Array, Array]:
        """``I``, the numerator ``a A + b B + smooth`` and the denominator ``c I + numerator``."""
        xp, p, y = self.xp, self.p, self.y
        intersection = xp.sum(y * p, axis=1)
        misses = xp.sum(y * (1.0 - p), axis=1)  # A, "false negatives"
        false_alarms = xp.sum(p * (1.0 - y), axis=1)  # B, "false positives"
        numerator = (a * misses + b * false_alarms) + smooth
        denominator = c * intersection + numerator
        self.refuse_zero(denominator)
        return intersection, numerator, denominator

    def refuse_zero(self, denominator: Array) -> None:
        """Refuse a group whose loss is 0 / 0 (a denominator of 0)."""
        if bool(self.xp.any(denominator == 0.0)):
            raise OutOfRangeError(
                f"{self.func}: the loss is 0 / 0 for a group whose input and target are all 0 "
                "(nothing predicted, nothing to find) with smooth=0. Pass smooth > 0 (Keras adds 1e-7)."
            )

    def reduce(self, values: Array) -> Array:
        xp = self.xp
        w = self.sample_weight
        if self.reduction == "none":
            values = xp.reshape(values, self.out_shape)
            w = None if w is None else xp.reshape(w, self.out_shape)
        return _reduction.reduce_values(xp, values, reduction=self.reduction, sample_weight=w, dtype=self.dtype)

    def gradient(self, rows: Array) -> Array:
        """Per-group gradients (M, K), weighted and averaged, back in the input's layout."""
        xp = self.xp
        w = self.sample_weight
        weighted = _reduction.apply_sample_weight(xp, rows, None if w is None else w[:, None])
        if self.reduction == "mean":
            weighted = weighted / (float(rows.shape[0]) if w is None else _reduction.total(xp, w))
        laid_out = xp.reshape(weighted, tuple(self.shape[a] for a in self.order))
        inverse = tuple(self.order.index(a) for a in range(len(self.shape)))
        return xp.astype(xp.permute_dims(laid_out, inverse), self.dtype, copy=False)


def _ratio_gradient(xp: Namespace, groups: _Groups, a: float, b: float, c: float, smooth: float) -> Array:
    """d loss / d p = c (b (1 - y) I - y (a I + N)) / D**2 = c (b I - y T) / D**2 (N the numerator,
    D the denominator, ``T = a sum(y) + b sum(p) + smooth``), from double-length sums.

    With a label of 0 or 1 one of the two terms is 0, and the gradient is one of two
    numbers per group, ``c b I / D**2`` or ``-c (a I + N) / D**2``: each is rounded once
    from double-length sums (:func:`_double_parts`, :func:`_close_gradient`), within about
    an ulp. From float sums it was within 4.4 ulp (groups of 10**4 random masks; the
    pairwise sums' errors grow with the group). With a soft label the two terms cancel
    where ``y`` nears ``b I / T``, and float sums' rounding errors become any number of ulp
    of the difference (8937 on random soft labels in groups of 300): there every element
    is computed in double length, within about an ulp. Cost (NumPy, 16 groups of 65536
    elements): masks 40 -> 85 ms, soft labels 40 -> 400 ms.
    """
    y = groups.y
    soft = (y > 0.0) & (y < 1.0)
    any_soft = _any(xp, soft)
    bi, t, d = _double_parts(xp, groups.p, y, a, b, c, smooth, exact_products=not any_soft)
    groups.refuse_zero(d[0])
    parts = (bi, t, *_scale(xp, d, c))
    one = 1.0 + 0.0 * bi[0]
    hard = xp.where(y > 0.0, _close_gradient(xp, one, *parts), _close_gradient(xp, 0.0 * one, *parts))
    return xp.where(soft, _close_gradient(xp, y, *parts), hard) if any_soft else hard


# Double-length numbers ``(high, low)``, ``|low|`` at most about an ulp of ``high``: the
# error-free sum and product (_numerics.two_sum, two_product) and the operations built on them.
_Pair = tuple[Array, Array]


def _plus(x: _Pair, y: _Pair) -> _Pair:
    high, error = two_sum(x[0], y[0])
    return two_sum(high, error + (x[1] + y[1]))


def _times(x: _Pair, y: _Pair) -> _Pair:
    high, error = two_product(x[0], y[0])
    return two_sum(high, error + (x[0] * y[1] + x[1] * y[0]))


def _scaled(factor: float, x: _Pair) -> _Pair:
    return _times((factor + 0.0 * x[0], 0.0 * x[0]), x)


def _row_sums(xp: Namespace, high: Array, low: Array | None = None) -> _Pair:
    """The sums of the (M, K) rows of ``high + low``, ``high`` in [0, 1], as (M, 1) pairs.

    Rump's error-free extraction: with ``sigma = 2**k >= 2 K``, ``q = (sigma + high) - sigma``
    is ``high`` rounded to a multiple of ``2**(k - 52)``, exactly, and ``high - q`` is exact
    and at most ``2**(k - 53)``. Every partial sum of the ``q`` is such a multiple below
    ``2**k``: their sum is exact, in any order. What the rounded sum of the rests (with
    ``low``) misses is below ``log2(K) K**2 2**-104``: some 2**-70 of a sum of 65536 terms.
    Five passes over the rows, where a pairwise sum with TwoSum at each level takes thirty.
    """
    sigma = 2.0 ** max(1, math.ceil(math.log2(2 * max(high.shape[1], 1))))
    q = (sigma + high) - sigma
    rest = high - q if low is None else (high - q) + low
    return two_sum(xp.sum(q, axis=1, keepdims=True), xp.sum(rest, axis=1, keepdims=True))


def _double_parts(
    xp: Namespace, p: Array, y: Array, a: float, b: float, c: float, smooth: float, *, exact_products: bool
) -> tuple[_Pair, _Pair, _Pair]:
    """For (M, K) groups, as (M, 1) double-length pairs: ``b I``, ``T = a sum(y) + b sum(p) +
    smooth`` and ``D``.

    The gradient's numerator ``b (1 - y) I - y (a I + N)`` is ``b I - y T``, since ``I + A =
    sum(y)`` and ``I + B = sum(p)``; and ``D = c I + a A + b B + smooth``. The products
    ``y p`` are exact (TwoProduct) and every row is summed in double length
    (:func:`_row_sums`), so ``I``, ``sum(y)`` and ``sum(p)``, and ``A = sum(y) - I`` and ``B =
    sum(p) - I``, are within about ``K**2 2**-100`` (absolute) of their exact values.
    With ``exact_products`` (every label 0 or 1) each ``y p`` is exact as it is, and so is
    ``sum(y)``.
    """
    if exact_products:  # y p is exact, and a sum of 0s and 1s is exact as it is
        i, count = _row_sums(xp, y * p), xp.sum(y, axis=1, keepdims=True)
        total_y = (count, 0.0 * count)
    else:
        i, total_y = _row_sums(xp, *two_product(y, p)), _row_sums(xp, y)
    total_p = _row_sums(xp, p)
    smooth_pair = (smooth + 0.0 * i[0], 0.0 * i[0])
    t = _plus(_plus(_scaled(a, total_y), _scaled(b, total_p)), smooth_pair)
    minus_i = (-i[0], -i[1])
    rest = _plus(_scaled(a, _plus(total_y, minus_i)), _scaled(b, _plus(total_p, minus_i)))
    return _scaled(b, i), t, _plus(_plus(_scaled(c, i), rest), smooth_pair)


def _scale(xp: Namespace, d: _Pair, c: float) -> tuple[_Pair, Array]:
    """``c / D**2`` for a positive double-length ``D``, as ``(c / (D 2**-e)**2, e)``: ``D 2**-e``
    is near 1 (``e = floor(log2 D)``; any power of two near ``D`` will do), so its square
    neither overflows nor underflows where ``D**2`` would (``smooth=1e300``, or tiny sums)."""
    e = xp.floor(xp.log2(d[0]))
    unit = (power_of_two(xp, d[0], -e), power_of_two(xp, d[1], -e))
    square = _times(unit, unit)
    q = c / square[0]
    product, product_error = two_product(q, square[0])
    return (q, ((c - product) - product_error - q * square[1]) / square[0]), e


def _close_gradient(xp: Namespace, y: Array, bi: _Pair, t: _Pair, scale: _Pair, e: Array) -> Array:
    """``c (b I - y T) / D**2`` from the double-length group terms of :func:`_double_parts` and
    :func:`_scale`: ``y T`` exact (TwoProduct), the difference in double length, scaled by
    ``2**-e`` (exact but for an underflow of its low part), times ``c / (D 2**-e)**2`` rounded
    once, and scaled by ``2**-e`` again (rounded only if the result is subnormal): within
    about an ulp."""
    product, product_error = two_product(y, t[0])
    high, error = two_sum(bi[0], -product)
    low = error + ((bi[1] - product_error) - y * t[1])
    high, low = power_of_two(xp, high, -e), power_of_two(xp, low, -e)
    g, g_error = two_product(high, scale[0])
    return power_of_two(xp, g + (g_error + (high * scale[1] + low * scale[0])), -e)


def _smooth(func: str, smooth: object) -> float:
    return _option(
        func, "smooth", smooth, meaning="a finite number >= 0 added to the denominator (Keras: 1e-7)",
        low=0.0, low_included=True,
    )


def _weight(func: str, name: str, value: object, what: str) -> float:
    return _option(func, name, value, meaning=f"the weight of the {what}: a finite number >= 0", low=0.0,
                   low_included=True)


def dice_loss(
    input: object,
    target: object,
    *,
    smooth: float = _KERAS_EPSILON,
    axis: int | tuple[int, ...] | None = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Dice loss, as Keras 3's ``keras.losses.Dice``.

    .. math:: \ell = 1 - \frac{2 \sum y p}{\sum y + \sum p + \text{smooth}}
                   = \frac{\sum \bigl(y (1 - p) + p (1 - y)\bigr) + \text{smooth}}
                          {\sum y + \sum p + \text{smooth}}

    over every element (``axis=None``), or over ``axis`` for each remaining index.

    Parameters
    ----------
    input : array_like
        Predicted probabilities in [0, 1], any shape.
    target : array_like
        Labels in [0, 1] (masks: 0 or 1; soft labels allowed), same shape.
    smooth : float, keyword-only
        Added to the denominator only, as Keras adds ``keras.backend.epsilon()`` = 1e-7
        (the default). 0 gives the exact Dice, refused only where it is 0/0.
    axis : None, int or tuple of ints, keyword-only
        The axes one loss is taken over: None (default, Keras's) for all; e.g. ``(1, 2)``
        for one loss per image of an ``(N, H, W)`` batch.
    reduction : {"mean", "sum", "none"}, keyword-only
        How the losses of the groups are combined; ``"none"`` returns them, shape of the
        input without ``axis`` (0-d for ``axis=None``). The mean divides by the number of
        groups (or ``sum(sample_weight)``), not by the number of elements.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per group (the shape of the ``"none"`` result).

    Notes
    -----
    Keras computes ``1 - 2 I / (S + eps)``, which cancels for a near-perfect prediction;
    here the loss is a ratio of sums of non-negative terms (see the module) and keeps its
    relative accuracy there. Other libraries differ on the smoothing: segmentation models
    often add ``smooth`` to the numerator too (``(2 I + s) / (S + s)``), which makes an
    empty prediction of an empty mask a loss of 0 rather than 1.

    Examples
    --------
    >>> print(f"{dice_loss([0.9, 0.2, 0.8], [1.0, 0.0, 1.0], smooth=0.0):.15f}")  # 1 - 3.4 / 3.9
    0.128205128205128
    """
    func = "dice_loss"
    s = _smooth(func, smooth)
    groups = _Groups(func, input, target, axis, reduction, sample_weight)
    with np.errstate(over="ignore"):
        _, numerator, denominator = groups.parts(1.0, 1.0, 2.0, s)
        return groups.reduce(numerator / denominator)


def dice_loss_grad(
    input: object,
    target: object,
    *,
    smooth: float = _KERAS_EPSILON,
    axis: int | tuple[int, ...] | None = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`dice_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial p_i} = \frac{2\bigl((1 - y_i) I - y_i (D - I)\bigr)}{D^2},
              \qquad I = \sum y p,\ D = \sum y + \sum p + \text{smooth}

    for each element of its group, scaled by the group's weight and, for ``"mean"``,
    divided by the number of groups (or ``sum(sample_weight)``). Same shape and dtype as
    ``input``. Each element is within an ulp of the exact gradient: the group's sums are
    taken in double length, and with soft labels, where the two terms of the numerator
    cancel, so is each element's numerator.

    Examples
    --------
    >>> print(dice_loss_grad([0.5, 0.5], [1.0, 0.0], smooth=0.0))  # I = 0.5, D = 2
    [-0.75  0.25]
    """
    func = "dice_loss_grad"
    s = _smooth(func, smooth)
    groups = _Groups(func, input, target, axis, reduction, sample_weight)
    with np.errstate(over="ignore", under="ignore"):
        return groups.gradient(_ratio_gradient(groups.xp, groups, 1.0, 1.0, 2.0, s))


def _dice_reference(
    xp: Namespace, p: Array, y: Array, /, *, smooth: float = _KERAS_EPSILON, axis: Any = None
) -> Array:
    total = xp.sum(y, axis=axis) + xp.sum(p, axis=axis) + smooth
    return 1 - 2 * xp.sum(y * p, axis=axis) / total


def _dice_reference_grad(
    xp: Namespace, p: Array, y: Array, /, *, smooth: float = _KERAS_EPSILON, axis: Any = None
) -> Array:
    intersection = xp.sum(y * p, axis=axis, keepdims=True)
    total = xp.sum(y, axis=axis, keepdims=True) + xp.sum(p, axis=axis, keepdims=True) + smooth
    return 2 * (intersection - y * total) / total**2


register("dice_loss", _dice_reference, _dice_reference_grad)


def tversky_loss(
    input: object,
    target: object,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = _KERAS_EPSILON,
    axis: int | tuple[int, ...] | None = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Tversky loss, as Keras 3's ``keras.losses.Tversky``.

    .. math:: \ell = 1 - \frac{I}{I + \alpha \sum y (1 - p) + \beta \sum p (1 - y) + \text{smooth}},
              \qquad I = \sum y p

    over every element (``axis=None``), or over ``axis`` for each remaining index.

    Parameters
    ----------
    input : array_like
        Predicted probabilities in [0, 1], any shape.
    target : array_like
        Labels in [0, 1], same shape.
    alpha, beta : float, keyword-only
        Non-negative weights (default 0.5 each, Keras's; then the loss is the Dice loss
        with ``smooth`` doubled). **As Keras's code computes it, ``alpha`` weights
        ``sum(y (1 - p))``, the missed positives (false negatives), and ``beta``
        ``sum(p (1 - y))``, the false alarms (false positives)**, although Keras's
        documentation (and Salehi et al.) call ``alpha`` the weight of the false
        positives. The formula here is Keras's; swap the two for the paper's convention.
    smooth : float, keyword-only
        Added to the denominator only (default 1e-7, Keras's ``epsilon()``).
    axis, reduction, sample_weight
        As in :func:`dice_loss`.

    Notes
    -----
    Computed as ``(alpha A + beta B + smooth) / (I + alpha A + beta B + smooth)``, a ratio of
    non-negative sums, without the cancellation of ``1 - index``.

    Examples
    --------
    >>> print(f"{tversky_loss([0.9, 0.2, 0.8], [1.0, 0.0, 1.0], alpha=0.7, beta=0.3, smooth=0.0):.15f}")
    0.137055837563452
    """
    func = "tversky_loss"
    a, b = _weight(func, "alpha", alpha, "missed positives"), _weight(func, "beta", beta, "false alarms")
    s = _smooth(func, smooth)
    groups = _Groups(func, input, target, axis, reduction, sample_weight)
    with np.errstate(over="ignore"):
        _, numerator, denominator = groups.parts(a, b, 1.0, s)
        return groups.reduce(numerator / denominator)


def tversky_loss_grad(
    input: object,
    target: object,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = _KERAS_EPSILON,
    axis: int | tuple[int, ...] | None = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`tversky_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial p_i} = \frac{\beta (1 - y_i) I - y_i (\alpha I + N)}{D^2}

    with ``N = alpha A + beta B + smooth`` the numerator and ``D = I + N`` the denominator of
    the loss; scaled and averaged as :func:`dice_loss_grad`, and within an ulp as it is.

    Examples
    --------
    >>> print(tversky_loss_grad([0.5, 0.5], [1.0, 0.0], smooth=0.0))
    [-0.75  0.25]
    """
    func = "tversky_loss_grad"
    a, b = _weight(func, "alpha", alpha, "missed positives"), _weight(func, "beta", beta, "false alarms")
    s = _smooth(func, smooth)
    groups = _Groups(func, input, target, axis, reduction, sample_weight)
    with np.errstate(over="ignore", under="ignore"):
        return groups.gradient(_ratio_gradient(groups.xp, groups, a, b, 1.0, s))


def _tversky_parts(xp: Namespace, p: Array, y: Array, axis: Any, keepdims: bool) -> tuple[Array, Array, Array]:
    """``I = sum(y p)``, ``A = sum(y (1 - p))`` (missed positives), ``B = sum(p (1 - y))`` (false alarms)."""
    def total(t: Array) -> Array:
        return xp.sum(t, axis=axis, keepdims=keepdims)

    return total(y * p), total(y * (1 - p)), total(p * (1 - y))


def _tversky_reference(
    xp: Namespace, p: Array, y: Array, /, *, alpha: float = 0.5, beta: float = 0.5,
    smooth: float = _KERAS_EPSILON, axis: Any = None,
) -> Array:
    i, a, b = _tversky_parts(xp, p, y, axis, keepdims=False)
    return 1 - i / (i + alpha * a + beta * b + smooth)


def _tversky_reference_grad(
    xp: Namespace, p: Array, y: Array, /, *, alpha: float = 0.5, beta: float = 0.5,
    smooth: float = _KERAS_EPSILON, axis: Any = None,
) -> Array:
    i, a, b = _tversky_parts(xp, p, y, axis, keepdims=True)
    total = i + alpha * a + beta * b + smooth
    return -(y * total - i * (y - alpha * y + beta * (1 - y))) / total**2


register("tversky_loss", _tversky_reference, _tversky_reference_grad)
