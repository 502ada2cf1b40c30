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

from neural_network import _blocks, _reduction, _validation
from neural_network._numerics import power_of_two, two_product, two_sum
from neural_network._validation import LABEL, PROBABILITY, Array, Namespace
from neural_network.errors import EmptyInputError, InvalidOptionError, OutOfRangeError, ShapeMismatchError
from neural_network.losses._common import any_true, real_option
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

    def sums(self) -> tuple[Array, Array, Array]:
        """``I = sum(y p)``, ``A = sum(y (1 - p))`` and ``B = sum(p (1 - y))`` per group, in float."""
        xp, p, y = self.xp, self.p, self.y
        intersection = xp.sum(y * p, axis=1)
        misses = xp.sum(y * (1.0 - p), axis=1)  # A, "false negatives"
        false_alarms = xp.sum(p * (1.0 - y), axis=1)  # B, "false positives"
        return intersection, misses, false_alarms

    def parts(self, a: float, b: float, c: float, smooth: float) -> tuple[Array, Array, Array]:
        """``I``, the numerator ``a A + b B + smooth`` and the denominator ``c I + numerator``."""
        intersection, misses, false_alarms = self.sums()
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
    """d loss / d p = c (b (1 - y) I - y (a I + N)) / D**2 = c (b I - y T) / D**2 = K (y* - y) (N the
    numerator, D the denominator, ``T = a sum(y) + b sum(p) + smooth = a (I + A) + b (I + B) +
    smooth``, ``y* = b I / T`` and ``K = c T / D**2``, one of each per group).

    First from the float sums ``I``, ``A``, ``B`` the loss takes: ``y*`` and ``K`` per group in
    double length from them (:func:`_constants`), then three operations an element. That
    is within the sums' errors (a few ulp) and about two ulp, but ``y* - y`` magnifies the
    errors of ``y*`` by ``y* / |y* - y|``: a group with a label within ``y* / 2`` of ``y*``
    (soft labels near the point where the gradient's two terms cancel: 8937 ulp on random
    soft labels in groups of 300 before), or whose denominator is far from 1, is computed
    again from double-length sums (:func:`_double_parts`, about 2**-100 of each): there
    ``y* - y`` is exact where it cancels, and each element within about two ulp. With
    masks (``y*`` in [0, 1], labels 0 or 1) only a label of 1 with ``y* > 2/3`` sends its
    group there (``a sum(y) + b B + smooth`` small against ``b I``: a small ``alpha`` near a
    perfect prediction); random masks need none. Random soft labels mostly do (a group of
    a few dozen uniform labels already holds one within ``y* / 2`` of ``y*``). Cost (NumPy,
    16 groups of 65536, medians of 7 alternating runs on a shared 2-core machine): masks
    43 ms with float sums only before, 92 with double-length sums everywhere, 34 now; soft
    labels 41, 384, 74 (every group computed again).
    """
    y = groups.y
    i, misses, alarms = (v[:, None] for v in groups.sums())
    zero = 0.0 * i
    rest = _plus(_plus(_scaled(a, (misses, zero)), _scaled(b, (alarms, zero))), (smooth + zero, zero))  # N
    t = _plus(_plus(_scaled(a, (i, zero)), _scaled(b, (i, zero))), rest)  # (a + b) I + N
    d_pair = _plus(_scaled(c, (i, zero)), rest)
    groups.refuse_zero(d_pair[0])
    d = d_pair[0]
    q, correction, k_scaled, e = _constants(xp, _scaled(b, (i, zero)), t, d_pair, c)
    k = power_of_two(xp, k_scaled, -e)  # D in [2**-400, 2**400] where used: a normal float
    difference = q - y
    again = (d < _SAFE_LOW) | (d > _SAFE_HIGH)
    if y.shape[1]:  # a label within y* / 2 of y*
        again = again | (xp.min(xp.abs(difference), axis=1, keepdims=True) < 0.5 * q)
    again = xp.reshape(again, (-1,))
    if isinstance(difference, np.ndarray) and again.size and bool(np.all(again)):
        return _accurate_rows(np, groups.p, y, a, b, c, smooth)
    plain = _combine(xp, difference, correction, k)
    if not any_true(xp, again):
        return plain
    if isinstance(plain, np.ndarray):
        rows = np.flatnonzero(again)
        plain[rows] = _accurate_rows(np, groups.p[rows], y[rows], a, b, c, smooth)
        return plain
    return xp.where(again[:, None], _accurate_rows(xp, groups.p, y, a, b, c, smooth), plain)


def _combine(xp: Namespace, difference: Array, correction: Array, k: Array, e: Array | None = None) -> Array:
    """``(difference + correction) * k``, scaled by ``2**-e``: in place of ``difference`` on NumPy
    (the same operations, without a fresh array for each)."""
    if isinstance(difference, np.ndarray):
        np.add(difference, correction, out=difference)
        np.multiply(k, difference, out=difference)
        if e is not None:
            np.ldexp(difference, -e.astype(np.int32), out=difference)
        return difference
    product = k * (difference + correction)
    return product if e is None else power_of_two(xp, product, -e)


_SAFE_LOW, _SAFE_HIGH = 2.0**-400, 2.0**400
"""Denominators between these keep ``K = c T / D**2`` well inside the float64 range."""


def _constants(xp: Namespace, bi: _Pair, t: _Pair, d: _Pair, c: float) -> tuple[Array, Array, Array, Array]:
    """``y* = b I / T`` as ``q + correction`` (``q`` its float, the correction ``(b I - q T) / T``
    with ``q T`` by TwoProduct: about 2**-100 of ``y*`` from exact pairs) and ``K = c T / D**2``
    as ``K 2**e = c (T 2**-e) / (D 2**-e)**2`` rounded once from double length, and ``e``
    (:func:`_scale`, ``e = floor(log2 D)``: no overflow in ``D**2``), for double-length (M, 1)
    ``b I``, ``T`` and ``D``. ``T = 0`` (only for ``a = b = smooth = 0``) gives ``y* = K = 0``:
    the gradient there is 0.
    """
    empty = t[0] == 0.0
    t_high = xp.where(empty, xp.ones_like(t[0]), t[0])
    t_low = xp.where(empty, xp.zeros_like(t[1]), t[1])
    q = bi[0] / t_high
    product, product_error = two_product(q, t_high)
    correction = (((bi[0] - product) - product_error) + (bi[1] - q * t_low)) / t_high
    scale, e = _scale(xp, d, c)
    unit = (power_of_two(xp, t_high, -e), power_of_two(xp, t_low, -e))
    k_high, k_error = two_product(unit[0], scale[0])
    k = xp.where(empty, xp.zeros_like(k_high), k_high + (k_error + (unit[0] * scale[1] + unit[1] * scale[0])))
    return q, correction, k, e


def _accurate_rows(xp: Namespace, p: Array, y: Array, a: float, b: float, c: float, smooth: float) -> Array:
    """``K (y* - y)`` for (M, K) groups from double-length sums (:func:`_double_parts`,
    :func:`_constants`): ``(q - y) + correction`` is exact but for one rounding where ``y`` is
    within a factor of 2 of ``q`` (Sterbenz), and rounded twice at most elsewhere; ``K`` is
    applied as ``c (T 2**-e) / (D 2**-e)**2`` and the product scaled by ``2**-e`` (rounded
    only if subnormal): within about two ulp, whatever the size of ``D``.
    """
    q, correction, k, e = _constants(xp, *_double_parts(xp, p, y, a, b, c, smooth), c)
    return _combine(xp, q - y, correction, k, e)


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


def _double_parts(
    xp: Namespace, p: Array, y: Array, a: float, b: float, c: float, smooth: float
) -> tuple[_Pair, _Pair, _Pair]:
    """For (M, K) groups, as (M, 1) double-length pairs: ``b I``, ``T = a sum(y) + b sum(p) +
    smooth`` and ``D``.

    The gradient's numerator ``b (1 - y) I - y (a I + N)`` is ``b I - y T``, since ``I + A =
    sum(y)`` and ``I + B = sum(p)``; and ``D = c I + a A + b B + smooth``. The products
    ``y p`` are exact (TwoProduct) and every row is summed in double length
    (:func:`_row_sums`), so ``I``, ``sum(y)`` and ``sum(p)``, and ``A = sum(y) - I`` and ``B =
    sum(p) - I``, are within about ``K**2 2**-100`` (absolute) of their exact values.
    """
    i, total_y, total_p = _row_sums(xp, p, y)
    smooth_pair = (smooth + 0.0 * i[0], 0.0 * i[0])
    t = _plus(_plus(_scaled(a, total_y), _scaled(b, total_p)), smooth_pair)
    minus_i = (-i[0], -i[1])
    rest = _plus(_scaled(a, _plus(total_y, minus_i)), _scaled(b, _plus(total_p, minus_i)))
    return _scaled(b, i), t, _plus(_plus(_scaled(c, i), rest), smooth_pair)


_COLUMNS = 4096
"""Columns per piece in :func:`_row_sums`: pieces of ``_blocks.BLOCK`` elements stay in the cache."""


def _row_sums(xp: Namespace, p: Array, y: Array) -> tuple[_Pair, _Pair, _Pair]:
    """The sums of the (M, K) rows of ``y p`` (exact products: TwoProduct, high and low
    parts), ``y`` and ``p``, all in [0, 1], as (M, 1) double-length pairs.

    Rump's error-free extraction: with ``sigma = 2**k >= 2 K``, ``q = (sigma + high) - sigma``
    is ``high`` rounded to a multiple of ``2**(k - 52)``, exactly, and ``high - q`` is exact
    and at most ``2**(k - 53)``. Every partial sum of the ``q`` is such a multiple below
    ``2**k``: their sum is exact, in any order. What the rounded sum of the rests (with
    the low parts) misses is below ``log2(K) K**2 2**-104``: some 2**-70 of a sum of 65536
    terms.

    The rows are taken ``_COLUMNS`` columns at a time (and ``_blocks.BLOCK // _COLUMNS``
    rows): whole (M, K) temporaries, some twenty of them, cost more in page faults than in
    arithmetic (dice gradient, 16 soft groups of 65536: 180 ms; by pieces 100). The
    extracted parts ``q`` (all multiples of the same ``2**(k - 52)``, ``sigma`` from the whole
    row) sum exactly in any order; the rests are summed piece by piece, in the same order
    on every library and for any subset of rows: the same bits.
    """
    rows, size = p.shape
    sigma = 2.0 ** max(1, math.ceil(math.log2(2 * max(size, 1))))
    band = max(1, _blocks.BLOCK // _COLUMNS)
    bands: list[list[_Pair]] = []
    for r in range(0, rows, band):
        totals: list[Array] = []
        for c in range(0, max(size, 1), _COLUMNS):
            rs, cs = slice(r, min(r + band, rows)), slice(c, min(c + _COLUMNS, size))  # in bounds: array API
            y_piece, p_piece = y[rs, cs], p[rs, cs]
            product, error = two_product(y_piece, p_piece)
            sums: list[Array] = []
            for high, low in ((product, error), (y_piece, None), (p_piece, None)):
                q = (sigma + high) - sigma
                rest = high - q if low is None else (high - q) + low
                sums += [xp.sum(q, axis=1, keepdims=True), xp.sum(rest, axis=1, keepdims=True)]
            totals = sums if not totals else [t + u for t, u in zip(totals, sums, strict=True)]
        bands.append([two_sum(totals[j], totals[j + 1]) for j in (0, 2, 4)])
    if len(bands) == 1:
        return bands[0][0], bands[0][1], bands[0][2]
    joined = [
        (xp.concat([band_sums[j][0] for band_sums in bands], axis=0), xp.concat([band_sums[j][1] for band_sums in bands], axis=0))
        for j in range(3)
    ]
    return joined[0], joined[1], joined[2]


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


def _smooth(func: str, smooth: object) -> float:
    return real_option(
        func, "smooth", smooth, meaning="a finite number >= 0 added to the denominator (Keras: 1e-7)",
        low=0.0, low_included=True,
    )


def _weight(func: str, name: str, value: object, what: str) -> float:
    return real_option(func, name, value, meaning=f"the weight of the {what}: a finite number >= 0", low=0.0,
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
    ``input``. Each element is within 4 ulp of the exact gradient (2.6 measured, on random
    masks and soft labels in groups of 48 to 10**4 elements and where the two terms of the
    numerator cancel): from the float sums of the loss, and for a group with a soft label
    near the point where those terms cancel, from double-length sums (the same bits on
    every array library).

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
    the loss; scaled and averaged as :func:`dice_loss_grad`, and within 4 ulp as it is.

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
