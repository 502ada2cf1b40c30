r"""Rows of features for the embedding losses: the shared checks, and norms without overflow.

:class:`FeatureRows` validates the arguments of a loss over rows of features (the last axis,
or ``axis``) and reduces the per-row losses and their gradients; :func:`scaled_rows` scales
each row by a power of two near its largest magnitude (an exact scaling), so that the
squares of rows of ``1e200`` or ``1e-200`` neither overflow nor underflow.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._numerics import (
    EXP_INVERSE_STEP,
    EXP_STEP,
    TABLE_BITS,
    exp_table,
    power_of_two,
    two_product,
    two_sum,
)
from neural_network._validation import NONNEGATIVE, REAL, Array, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses.classification._signs import SIGN, check_signs

Float64 = Array
"""A float64 array of the inputs' library, on their device (rows of shape (M, D), or (M,))."""


# --------------------------------------------------------------------------- shared checks


class FeatureRows:
    """Validated arguments as (M, D) float64 rows, with the reduction and the weights."""

    def __init__(
        self,
        func: str,
        arrays: dict[str, object],
        *,
        reduction: object,
        sample_weight: object,
        target: object = None,
        axis: int = -1,
    ) -> None:
        self.func = func
        self.reduction = _validation.check_reduction(func, reduction)
        given = dict(arrays)
        if target is not None:
            given["target"] = target
        xp, device = _validation.namespace(func, **given, sample_weight=sample_weight)
        self.xp: Namespace = xp
        self.device: Any = device
        checked = {
            name: _validation.as_real_array(func, name, value, xp, device) for name, value in arrays.items()
        }
        names = list(checked)
        first = names[0]
        for name in names[1:]:
            _validation.check_same_shape(func, first, checked[first], name, checked[name])
        shape = tuple(checked[first].shape)
        if len(shape) == 0:
            raise ShapeMismatchError(
                f"{func}: {first} must have at least one axis (the features); got a scalar. "
                "Pass vectors of shape (D,) or rows of shape (N, D)."
            )
        if not -len(shape) <= axis < len(shape):
            raise InvalidOptionError(
                f"{func}: axis must name an axis of the {len(shape)}-dimensional input; got axis={axis}."
            )
        axis %= len(shape)
        for name in names:
            _validation.check_values(func, name, checked[name], xp, REAL)
        self.out_shape = shape[:axis] + shape[axis + 1 :]
        self.rows = math.prod(self.out_shape)
        self.features = shape[axis]
        self.shape, self.axis = shape, axis
        self.dtype: Any = xp.result_type(*(a.dtype for a in checked.values()))
        self.arrays = [self._as_rows(a) for a in checked.values()]
        self.target: Float64 | None = None
        if target is not None:
            t = _validation.as_real_array(func, "target", target, xp, device)
            if tuple(t.shape) != self.out_shape:
                raise ShapeMismatchError(
                    f"{func}: target must hold one label per row, shape {self.out_shape} ({first}'s shape "
                    f"without its feature axis); got target.shape={tuple(t.shape)}."
                )
            _validation.check_values(func, "target", t, xp, SIGN)
            check_signs(func, "target", t)
            self.target = xp.reshape(_validation.working(xp, t), (-1,))
        if self.reduction == "mean" and self.rows == 0:
            raise EmptyInputError(
                f"{func}: reduction='mean' needs at least one row; got {first}.shape={shape}. "
                "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
            )
        self.weight: Float64 | None = None
        if sample_weight is not None:
            w = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
            if tuple(w.shape) != self.out_shape:
                raise ShapeMismatchError(
                    f"{func}: sample_weight must hold one weight per row, shape {self.out_shape} ({first}'s "
                    f"shape without its feature axis); got sample_weight.shape={tuple(w.shape)}."
                )
            _, largest = _validation.check_values(func, "sample_weight", w, xp, NONNEGATIVE)
            if self.reduction == "mean" and largest == 0.0:
                raise OutOfRangeError(
                    f"{func}: sample_weight must have a positive sum for reduction='mean' (the weighted "
                    "mean is sum(w * loss) / sum(w)); got weights that are all 0. Give at least one row "
                    "a positive weight, or use reduction='sum'."
                )
            self.weight = xp.reshape(_validation.working(xp, w), (-1,))
            if self.reduction == "mean":  # the same mean, without overflow or lost bits
                self.weight = _reduction.scale_weights(self.weight, largest, self.rows)

    def _as_rows(self, a: Array) -> Float64:
        x = _validation.working(self.xp, a)
        return self.xp.reshape(self.xp.moveaxis(x, self.axis, -1), (self.rows, self.features))

    def reduce(self, values: Float64) -> Array:
        """The per-row losses reduced: ``sum(w l)``, divided by ``sum(w)`` (or the row count) for the mean."""
        xp = self.xp
        w = None if self.weight is None else xp.reshape(self.weight, self.out_shape)
        return _reduction.reduce_values(
            xp,
            xp.reshape(values, self.out_shape),
            reduction=self.reduction,
            sample_weight=w,
            dtype=self.dtype,
        )

    def reduce_gradient(self, gradient: Float64) -> Array:
        """A (M, D) gradient of the per-row losses, weighted and divided like :meth:`reduce`, laid out as the input."""
        xp = self.xp
        if self.weight is not None:
            gradient = self.weight[:, None] * xp.where(self.weight[:, None] == 0.0, 0.0, gradient)
        if self.reduction == "mean":
            denominator = (
                float(self.rows) if self.weight is None else float(_reduction.total(xp, self.weight))
            )
            gradient = gradient / denominator
        shaped = xp.reshape(gradient, (*self.out_shape, self.features))
        return xp.astype(xp.moveaxis(shaped, -1, self.axis), self.dtype, copy=False)


def scaled_rows(xp: Namespace, x: Float64) -> tuple[Float64, Float64]:
    """Rows ``x / s`` and ``s`` (a column): ``s`` the power of two at or just below each row's
    largest magnitude (1 for a zero row), so ``x / s`` is exact, its largest entry lies in
    [1, 2), and its squares neither overflow nor underflow where it matters. (The power
    just above would be ``2**1024``, beyond the float64 range, for rows reaching ``2**1023``.)"""
    if isinstance(x, np.ndarray):
        # The initial 0 also serves rows without features, and NumPy's maximum over short
        # rows runs twice as fast with it.
        largest = np.max(np.abs(x), axis=1, initial=0.0)
        _, exponent = np.frexp(largest)
        s = np.ldexp(1.0, exponent - 1)
    elif x.shape[1] == 0:  # rows without features: nothing to scale (max has no identity)
        return x, xp.ones((x.shape[0], 1), dtype=xp.float64, device=array_api_compat.device(x))
    else:
        largest = xp.max(xp.abs(x), axis=1)
        s = _power_of_two_below(xp, largest)
    s = xp.where(largest > 0.0, s, 1.0)[:, None]
    return x / s, s


def _power_of_two_below(xp: Namespace, largest: Float64) -> Float64:
    """``2**(e - 1)`` with ``largest = m 2**e``, ``0.5 <= m < 1``: NumPy's ``ldexp(1, frexp(largest)[1] - 1)``.

    The array API has no ``frexp``: ``log2`` gives the exponent to within one (it may round
    up to the next integer just below a power of two), and the comparisons correct it.
    Powers of two are exact in every library's ``pow``. The value where ``largest`` is 0
    is not used.
    """
    # log2(0) = -inf for the rows of zeros; 2 s = inf for s = 2**1023, and is not taken.
    with np.errstate(divide="ignore", over="ignore"):
        s = 2.0 ** xp.floor(xp.log2(largest))
        s = xp.where(largest < s, 0.5 * s, s)
        return xp.where(largest >= 2.0 * s, 2.0 * s, s)


# --------------------------------------------------------------------------- double-length row arithmetic
#
# The dot products and norms of the rows in about twice the working precision, where a
# loss subtracts from them what nearly equals them (1 - cos of nearly parallel rows,
# cos - margin at the margin, d(a, p) - d(a, n) at the kink): each product exact
# (TwoProduct), each row summed pairwise with TwoSum, the square root and the quotient
# corrected by their remainders. The rows are scaled (:func:`scaled_rows`): every product
# is far from overflow and, but for negligible terms, from underflow.


def row_sum_double(xp: Namespace, high: Array, low: Array) -> tuple[Array, Array]:
    """The sums of the (M, C) rows of ``high + low`` as ``(high, low)`` columns: pairwise,
    with TwoSum at each level for the high parts and plain sums for the errors (within
    about ``log2(C) u`` of them: some 2**-100 of the row's magnitudes)."""
    if high.shape[1] == 0:  # rows without entries: 0
        zero = xp.sum(high, axis=1, keepdims=True)
        return zero, zero
    while high.shape[1] > 1:
        if high.shape[1] % 2:
            zeros = xp.zeros_like(high[:, :1])
            high, low = xp.concat([high, zeros], axis=1), xp.concat([low, zeros], axis=1)
        s, error = two_sum(high[:, 0::2], high[:, 1::2])
        high, low = s, (low[:, 0::2] + low[:, 1::2]) + error
    return high, low


def two_square(x: Float64) -> tuple[Float64, Float64]:
    """``two_product(x, x)``, splitting ``x`` once (Veltkamp's split, 2**27 + 1)."""
    square = x * x
    scaled = 134217729.0 * x
    high = scaled - (scaled - x)
    low = x - high
    return square, ((high * high - square) + 2.0 * high * low) + low * low


def _dot_double(xp: Namespace, x: Float64, y: Float64) -> tuple[Float64, Float64]:
    """The rows' dot products as ``(high, low)`` (M,) arrays, within about ``log2(D) u**2``
    of ``sum |x y|``."""
    product, error = two_square(x) if x is y else two_product(x, y)
    high, low = row_sum_double(xp, product, error)
    return two_sum(high[:, 0], low[:, 0])



def dot_double(xp: Namespace, x: Float64, y: Float64) -> tuple[Float64, Float64]:
    """The (M, D) rows' dot products ``x_i . y_i`` as ``(high, low)`` (M,) arrays, within about
    ``log2(D) u**2`` of ``sum |x y|`` (pass ``y = x`` itself for the squared norms)."""
    return _dot_double(xp, x, y)

def sqrt_double(xp: Namespace, high: Float64, low: Float64) -> tuple[Float64, Float64]:
    """``sqrt(high + low)`` as ``(r, r_low)``, for ``high > 0``: one Newton step from ``sqrt(high)``."""
    r = xp.sqrt(high)
    square, square_error = two_product(r, r)
    return r, (((high - square) - square_error) + low) / (2.0 * r)


def divide_double(
    xp: Namespace, high: Float64, low: Float64, by: Float64, by_low: Float64
) -> tuple[Float64, Float64]:
    """``(high + low) / (by + by_low)`` as ``(q, q_low)``: the quotient corrected by its remainder."""
    q = high / by
    product, product_error = two_product(q, by)
    return q, (((high - product) - product_error) + (low - q * by_low)) / by


def cosine_double(
    xp: Namespace, u1: Float64, u2: Float64, e1: Float64 | float, e2: Float64 | float
) -> tuple[Float64, Float64, Float64, Float64, Float64, Float64]:
    """``c = u1.u2 / (a b)``, ``a = sqrt(|u1|^2 + e1)``, ``b = sqrt(|u2|^2 + e2)`` of each row,
    each as a double-length pair: ``(c, c_low, a, a_low, b, b_low)``. ``c`` is within about
    ``2**-100`` of ``max(|c|, sum |u1 u2| / (a b))``; rows scaled by :func:`scaled_rows`, ``0 <= e < 2**200``."""
    dot, dot_low = _dot_double(xp, u1, u2)
    norms = []
    for u, e in ((u1, e1), (u2, e2)):
        square, square_low = _dot_double(xp, u, u)
        square, error = two_sum(square, e + 0.0 * square)
        norms.append(sqrt_double(xp, square, square_low + error))
    (a, a_low), (b, b_low) = norms
    q, q_low = divide_double(xp, dot, dot_low, a, a_low)
    c, c_low = divide_double(xp, q, q_low, b, b_low)
    return c, c_low, a, a_low, b, b_low


def cosine_gradient_double(
    xp: Namespace, u1: Float64, u2: Float64, parts: tuple[Float64, ...]
) -> Float64:
    """``u2 / (a b) - c u1 / a**2`` (the scaled gradient of the cosine with respect to ``u1``),
    from :func:`cosine_double`'s ``parts = (c, c_low, a, a_low, b, b_low)``: each term in
    double length, their difference rounded once (it cancels for nearly parallel rows)."""
    c, c_low, a, a_low, b, b_low = (v[:, None] for v in parts)
    ab, ab_error = two_product(a, b)
    one = xp.ones_like(ab)
    inverse, inverse_low = divide_double(xp, one, 0.0 * one, ab, ab_error + (a * b_low + a_low * b))
    square, square_error = two_product(a, a)
    k, k_low = divide_double(xp, c, c_low, square, square_error + 2.0 * a * a_low)
    first, first_error = two_product(u2, inverse)
    second, second_error = two_product(u1, k)
    difference, difference_error = two_sum(first, -second)
    return difference + (difference_error + (first_error - second_error) + (u2 * inverse_low - u1 * k_low))



def _split_rows(xp: Namespace, x: Float64, bits: int) -> tuple[Float64, Float64]:
    """``x = high + low`` (both exact): ``high`` the leading ``bits`` bits of each row on the row's
    own grid (``2**(e - bits)``, ``|x_i| <= about 2**e``)."""
    largest = xp.max(xp.abs(x), axis=1, keepdims=True)
    exponent = xp.ceil(xp.log2(xp.where(largest > 0.0, largest, 1.0)))  # |x_i| <= about 2**exponent
    scale = xp.pow(xp.full_like(exponent, 2.0), bits - exponent)  # a power of two: x * scale exact
    high = xp.round(x * scale) / scale
    return high, x - high


def _split_bits(features: int) -> int:
    """The leading bits of :func:`_split_rows` whose products sum exactly over ``features``
    terms: ``2 bits + log2(features) <= 51`` (two bits of margin for log2's rounding)."""
    return (53 - 2 - math.ceil(math.log2(max(features, 1)))) // 2


def product_double(
    xp: Namespace, a: Float64, a_low: Float64, b: Float64, b_low: Float64
) -> tuple[Float64, Float64]:
    """``(a + a_low) (b + b_low)^T`` of (M, D) and (N, D) double-length rows as an unevaluated
    sum ``exact + rest`` (Ozaki's splitting, in four matrix products of ``D`` columns).

    The rows of ``a`` and ``b`` are split as in :func:`gram_double` (``a = ha + la``), so that
    ``ha hb^T`` is exact in any summation order; the rest, ``ha lb^T + (la + a_low) b^T +
    a b_low^T`` (``a_low b_low^T``, about ``u**2``, left out), is about ``2**-bits`` of
    ``|a_i| |b_j|`` and is rounded within about ``(2 D + 2) u 2**-bits`` of it (``2**-67`` for
    ``D = 128``). Rows within ``2**+-500`` of 1 (or zero): the grid neither overflows nor underflows.
    """
    bits = _split_bits(a.shape[1])
    ha, la = _split_rows(xp, a, bits)
    hb, lb = _split_rows(xp, b, bits)
    exact = ha @ xp.permute_dims(hb, (1, 0))
    rest = ha @ xp.permute_dims(lb, (1, 0)) + (la + a_low) @ xp.permute_dims(b, (1, 0))
    return exact, rest + a @ xp.permute_dims(b_low, (1, 0))


def gram_double(xp: Namespace, x: Float64) -> tuple[Float64, Float64]:
    """The Gram matrix ``x x^T`` of the (N, D) rows as an unevaluated sum ``exact + rest``
    (Ozaki's splitting, in two matrix products of ``D`` columns): ``exact`` holds the products
    of the rows' leading bits, exactly, and ``rest`` the others, rounded.

    Each row is split on its own grid into ``high``, its leading ``b = (51 - ceil(log2 D)) // 2``
    bits, and ``low = x - high`` (both exact): every product ``high_ik high_jk``, and every
    partial sum of ``D`` of them, is a whole multiple of the two rows' grids below ``2**51``
    of it, so ``high high^T`` is exact in whatever order the matrix product adds (fused or
    not). The rest, ``high low^T + low high^T + low low^T``, is about ``2**-b`` of ``|x_i| |x_j|``
    and is formed as ``m + m^T`` with ``m = (high + low / 2) low^T`` (``high + low / 2``
    rounded at ``2**-54`` of the row): within about ``(D + 1) u 2**-b |x_i| |x_j|`` (``2**-68`` of
    it for ``D = 128``), in any summation order. Rows within ``2**+-500`` of 1 (or zero): the grid
    neither overflows nor underflows.
    """
    high, low = _split_rows(xp, x, _split_bits(x.shape[1]))
    exact = high @ xp.permute_dims(high, (1, 0))
    half = (high + 0.5 * low) @ xp.permute_dims(low, (1, 0))
    return exact, half + xp.permute_dims(half, (1, 0))


def exp_nonpositive(xp: Namespace, x: Float64, x_low: Float64) -> tuple[Float64, Float64]:
    """``exp(x + x_low)`` as ``(high, low)`` for ``-700 <= x <= 0`` (``|x_low| <= ulp(x)``),
    within about ``2**-65`` relative (``2**-65.2`` measured against mpmath): a lighter
    :func:`~neural_network._numerics.exp_double` (whose ``2**-100`` costs twice as much), for
    sums whose terms need only some 12 bits beyond float64.

    Tang's method with ``exp_double``'s table: ``x = (m 2**15 + j) ln2 / 2**15 + r``, the
    reduction exact but for one rounding of ``r`` (``|r| <= 2**-16.5``: ``2**-69.5``),
    ``exp(r) - 1 = p`` by its series to ``r**4 / 24`` in float64 (within ``u |p|``, about
    ``2**-69.5``), and ``2**(j / 2**15) (1 + p)`` with the table's two parts and one Fast2Sum.
    """
    n = xp.round(x * EXP_INVERSE_STEP)
    j = n - 2.0**TABLE_BITS * xp.floor(n * 2.0**-TABLE_BITS)
    m = (n - j) * 2.0**-TABLE_BITS
    # x - n c1 is exact (c1 of 27 bits, |n| < 2**25, Sterbenz), n c2 and n c3 are exact products.
    r = (x - n * EXP_STEP[0]) + ((x_low - n * EXP_STEP[1]) - n * EXP_STEP[2])
    p = r + (r * r) * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0)))
    t_high, t_low = exp_table()
    index = xp.astype(j, xp.int64)
    if isinstance(x, np.ndarray):
        table_high, table_low = t_high[index], t_low[index]
    else:  # a 1-d index for the array API's take (see exp_double)
        device = array_api_compat.device(x)
        flat = xp.reshape(index, (-1,))
        table_high = xp.reshape(xp.take(xp.asarray(t_high, device=device), flat), tuple(index.shape))
        table_low = xp.reshape(xp.take(xp.asarray(t_low, device=device), flat), tuple(index.shape))
    tail = table_high * p  # |tail| < 2**-16 table_high: Fast2Sum's error is exact
    high = table_high + tail
    low = ((table_high - high) + tail) + table_low
    return power_of_two(xp, high, m), power_of_two(xp, low, m)
