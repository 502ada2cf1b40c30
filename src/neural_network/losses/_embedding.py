r"""Embedding losses over rows of features: cosine embedding, triplet margin, cosine similarity.

Each loss compares vectors along the last axis (``axis`` for
:func:`cosine_similarity_loss`) and gives one value per row; ``reduction="mean"``
divides by the number of rows (by ``sum(sample_weight)`` with weights), never by the
number of features. ``sample_weight`` holds one non-negative weight per row.

**Norms without overflow or underflow.** Every norm is taken of the row scaled by a
power of two near its largest magnitude (an exact scaling), so rows of ``1e200`` or
``1e-200`` give the same cosines and distances as rows of ``1`` (PyTorch squares them
first: ``inf / inf`` is NaN, ``0 / 0`` is NaN or the epsilon decides). Everything is
computed in float64 and rounded once to the inputs' dtype; float32 stays float32.

**Gradients at the kinks** follow PyTorch's autograd: ``clamp_min(z, 0)`` passes the
gradient at ``z == 0``, and ``minimum(d_neg, d_swap)`` splits it in half at a tie.

The computation goes through the inputs' array namespace: arrays of another library
(PyTorch tensors, CuPy arrays) are computed in that library, on their device, never
through NumPy. The operations are the same element by element, so array-api-strict's
results are NumPy's to the bit.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

from neural_network import _reduction, _validation
from neural_network._validation import NONNEGATIVE, REAL, Array, Namespace
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._common import _option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._margin import SIGN, check_signs

Float64 = Array
"""A float64 array of the inputs' library, on their device (rows of shape (M, D), or (M,))."""

TORCH_COSINE_EPSILON = float(np.float32(1e-12))
"""What PyTorch's ``cosine_embedding_loss`` adds to each squared norm: its C++ constant
``EPSILON = 1e-12`` is a ``float``, so the value is float32's 1e-12,
9.999999960041972e-13 (a float64 1e-12 would differ in the 11th digit for tiny rows)."""

KERAS_EPSILON = 1e-7
"""Keras's ``backend.epsilon()``: the floor of each norm in ``CosineSimilarity``."""


# --------------------------------------------------------------------------- shared checks


class _Rows:
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


def _scaled(xp: Namespace, x: Float64) -> tuple[Float64, Float64]:
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


# --------------------------------------------------------------------------- cosine embedding


def _cosine_parts(xp: Namespace, x1: Float64, x2: Float64) -> tuple[Float64, ...]:
    """PyTorch's cosine ``x1.x2 / sqrt((|x1|^2 + e)(|x2|^2 + e))`` from scaled rows, and its pieces."""
    u1, s1 = _scaled(xp, x1)
    u2, s2 = _scaled(xp, x2)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        e1 = TORCH_COSINE_EPSILON / s1[:, 0] / s1[:, 0]  # inf for rows below about 1e-160: cos -> 0
        e2 = TORCH_COSINE_EPSILON / s2[:, 0] / s2[:, 0]
        a = xp.sqrt(xp.sum(u1 * u1, axis=1) + e1)
        b = xp.sqrt(xp.sum(u2 * u2, axis=1) + e2)
        cos = xp.sum(u1 * u2, axis=1) / a / b
    return cos, u1, s1, u2, s2, a, b


def _cosine_embedding_prepare(
    func: str,
    input1: object,
    input2: object,
    target: object,
    margin: object,
    reduction: object,
    sample_weight: object,
) -> tuple[_Rows, float]:
    m = _option(func, "margin", margin, meaning="a finite real number", low=-math.inf, low_included=False)
    rows = _Rows(
        func,
        {"input1": input1, "input2": input2},
        target=target,
        reduction=reduction,
        sample_weight=sample_weight,
    )
    return rows, m


def cosine_embedding_loss(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Cosine embedding loss: ``torch.nn.functional.cosine_embedding_loss``.

    .. math:: \ell_i = \begin{cases} 1 - \cos(x^{(1)}_i, x^{(2)}_i) & y_i = 1 \\
              \max\bigl(0,\ \cos(x^{(1)}_i, x^{(2)}_i) - \text{margin}\bigr) & y_i = -1 \end{cases}
              \qquad \cos(a, b) = \frac{a \cdot b}{\sqrt{(\lVert a\rVert^2 + \epsilon)(\lVert b\rVert^2 + \epsilon)}}

    with PyTorch's :math:`\epsilon` = float32's 1e-12 (:data:`TORCH_COSINE_EPSILON`).

    Parameters
    ----------
    input1, input2 : array_like
        Vectors along the last axis: shape ``(N, D)`` or ``(D,)`` (more leading axes are
        accepted too), the same shape; finite.
    target : array_like
        Labels -1 or +1, one per row: shape ``(N,)`` (``()`` for a single vector). 0/1
        labels are refused with the hint ``2 * y - 1``.
    margin : float, keyword-only
        A finite real number (default 0.0, as in PyTorch; values in [-1, 1] make sense).
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over rows.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per row; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the target's shape; the float dtype of the inputs.

    Notes
    -----
    The norms are taken of rows scaled by a power of two (exact), and ``epsilon`` scaled
    alike: the same value as PyTorch's to within an ulp or two in float64, but finite
    where PyTorch's squares overflow (a row of 1e200: PyTorch gives NaN, here the true
    cosine). PyTorch accepts other labels (they give 0); here only -1 and +1 are.
    Accuracy, stated rather than promised in ulp: each value is within ``(2D + 6) u`` of
    ``C + |loss|`` (``D`` features, ``u = 2**-53``, ``C = sum |x1 x2| / (|x1| |x2|)``): the
    sums of D products, then ``1 - cos``, which cancels for nearly parallel rows (1 - cos
    of rows 1e-8 apart has no correct digit; a compensated dot product would cost about
    15 times the time).

    Examples
    --------
    >>> x1 = [[1.0, 0.0], [1.0, 1.0]]
    >>> x2 = [[0.0, 1.0], [2.0, 2.0]]
    >>> print(cosine_embedding_loss(x1, x2, [1, -1], reduction="none"))
    [1. 1.]
    """
    rows, m = _cosine_embedding_prepare(
        "cosine_embedding_loss", input1, input2, target, margin, reduction, sample_weight
    )
    x1, x2 = rows.arrays
    y = rows.target
    assert y is not None
    cos = _cosine_parts(rows.xp, x1, x2)[0]
    values = rows.xp.where(y > 0.0, 1.0 - cos, rows.xp.maximum(cos - m, 0.0))
    return rows.reduce(values)


def cosine_embedding_loss_grad(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array]:
    r"""Gradient of :func:`cosine_embedding_loss`: the pair (d/d ``input1``, d/d ``input2``).

    .. math:: \frac{\partial \cos}{\partial x^{(1)}} = \frac{x^{(2)}}{\sqrt{AB}} - \cos \frac{x^{(1)}}{A},
              \qquad A = \lVert x^{(1)}\rVert^2 + \epsilon,\ B = \lVert x^{(2)}\rVert^2 + \epsilon

    (and symmetrically for ``input2``), times -1 for ``y = 1``, times 1 for ``y = -1``
    where ``cos - margin >= 0`` (the kink included, as PyTorch's autograd), else 0.
    Scaled by the weights and, for ``"mean"``, divided by the number of rows (``sum(w)``).
    Both arrays have the inputs' shape and dtype.

    Examples
    --------
    >>> g1, g2 = cosine_embedding_loss_grad([[1.0, 0.0]], [[0.0, 1.0]], [1])
    >>> print(g1, g2)
    [[-0. -1.]] [[-1. -0.]]
    """
    rows, m = _cosine_embedding_prepare(
        "cosine_embedding_loss_grad", input1, input2, target, margin, reduction, sample_weight
    )
    x1, x2 = rows.arrays
    y = rows.target
    assert y is not None
    xp = rows.xp
    cos, u1, s1, u2, s2, a, b = _cosine_parts(xp, x1, x2)
    coefficient = xp.where(y > 0.0, -1.0, _indicator(xp, cos - m >= 0.0))[:, None]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ab = (a * b)[:, None]
        g1 = (u2 / ab - cos[:, None] * u1 / (a * a)[:, None]) / s1
        g2 = (u1 / ab - cos[:, None] * u2 / (b * b)[:, None]) / s2
        g1 = xp.where(xp.isfinite(ab), g1, 0.0)  # a norm beyond range: the cosine is 0 and flat
        g2 = xp.where(xp.isfinite(ab), g2, 0.0)
    return rows.reduce_gradient(coefficient * g1), rows.reduce_gradient(coefficient * g2)


# --------------------------------------------------------------------------- pairwise distance, triplets


def _distance(xp: Namespace, v: Float64, p: float) -> tuple[Float64, Float64]:
    """``||v||_p`` of each row and its gradient with respect to ``v`` (0 where the norm is 0)."""
    u, s = _scaled(xp, v)
    au = xp.abs(u)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        if p == 2.0:
            r = xp.sqrt(xp.sum(u * u, axis=1))
        elif p == 1.0:
            r = xp.sum(au, axis=1)
        else:
            r = xp.sum(au**p, axis=1) ** (1.0 / p)
        norm = s[:, 0] * r
        rr = r[:, None]
        if p == 2.0:
            grad = u / rr
        elif p == 1.0:
            grad = xp.sign(u)
        else:
            grad = xp.sign(u) * (au / rr) ** (p - 1.0)
        grad = xp.where(rr > 0.0, grad, 0.0)
    return norm, grad


def _pairwise(xp: Namespace, x1: Float64, x2: Float64, p: float, eps: float) -> tuple[Float64, Float64]:
    """PyTorch's ``pairwise_distance(x1, x2, p, eps)`` = ``||x1 - x2 + eps||_p`` and its gradient
    with respect to ``x1`` (that of ``x2`` is its negative)."""
    with np.errstate(over="ignore", invalid="ignore"):
        v = x1 - x2 + eps  # beyond the float64 range only for inputs near 1e308: inf
    return _distance(xp, v, p)


def _indicator(xp: Namespace, condition: Array) -> Float64:
    """1.0 where ``condition`` holds, else 0.0 (``where(condition, 1.0, 0.0)``, which the
    array API refuses: at least one of its branches must be an array)."""
    return xp.astype(condition, xp.float64)


Distance = Callable[[Namespace, Float64, Float64], tuple[Float64, Float64, Float64]]
"""A distance of rows: ``(xp, x1, x2) -> (d, d/dx1, d/dx2)``."""


def _triplet(
    rows: _Rows, distance: Distance, margin: float, swap: bool
) -> tuple[Float64, tuple[Float64, Float64, Float64]]:
    """The per-row triplet losses and their gradients (anchor, positive, negative)."""
    xp = rows.xp
    a, pos, neg = rows.arrays
    d_pos, gp_a, gp_p = distance(xp, a, pos)
    d_neg, gn_a, gn_n = distance(xp, a, neg)
    alpha = xp.ones_like(d_neg)
    if swap:
        d_swap, gs_p, gs_n = distance(xp, pos, neg)
        alpha = xp.where(d_neg < d_swap, 1.0, 0.5 * _indicator(xp, d_neg == d_swap))
        d_neg = xp.minimum(d_neg, d_swap)
    with np.errstate(over="ignore", invalid="ignore"):
        z = margin + d_pos - d_neg
    values = xp.maximum(z, 0.0)
    active = _indicator(xp, z >= 0.0)[:, None]
    al = alpha[:, None]
    g_a = active * (gp_a - al * gn_a)
    g_p = active * gp_p
    g_n = 0.0 - active * (al * gn_n)
    if swap:
        be = 1.0 - al
        g_p = g_p - active * be * gs_p
        g_n = g_n - active * be * gs_n
    return values, (g_a, g_p + 0.0, g_n + 0.0)


def _pairwise_distance(p: float, eps: float) -> Distance:
    def distance(xp: Namespace, x1: Float64, x2: Float64) -> tuple[Float64, Float64, Float64]:
        d, g = _pairwise(xp, x1, x2, p, eps)
        return d, g, 0.0 - g

    return distance


def _triplet_prepare(
    func: str, anchor: object, positive: object, negative: object, reduction: object, sample_weight: object
) -> _Rows:
    arrays = {"anchor": anchor, "positive": positive, "negative": negative}
    return _Rows(func, arrays, reduction=reduction, sample_weight=sample_weight)


def _triplet_options(
    func: str, margin: object, p: object, eps: object, swap: object
) -> tuple[float, float, float, bool]:
    m = _positive_margin(func, margin)
    norm = _option(
        func,
        "p",
        p,
        meaning="the order of the norm, a finite number >= 1 (2 for Euclidean)",
        low=1.0,
        low_included=True,
    )
    e = _option(
        func,
        "eps",
        eps,
        meaning="the shift added to each difference, a finite number >= 0",
        low=0.0,
        low_included=True,
    )
    return m, norm, e, _flag(func, "swap", swap)


def _flag(func: str, name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidOptionError(f"{func}: {name} must be True or False; got {describe(value)}.")
    return bool(value)


def triplet_margin_loss(
    anchor: object,
    positive: object,
    negative: object,
    *,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Triplet margin loss: ``torch.nn.functional.triplet_margin_loss``.

    .. math:: \ell_i = \max\bigl(0,\ \text{margin} + d(a_i, p_i) - d(a_i, n_i)\bigr),
              \qquad d(x, y) = \lVert x - y + \text{eps} \rVert_p

    PyTorch's ``pairwise_distance`` convention: ``eps`` is added to every component of
    the difference (not to the norm). With ``swap=True``, ``d(a, n)`` is replaced by
    ``min(d(a, n), d(p, n))`` (Balntas et al., 2016).

    Parameters
    ----------
    anchor, positive, negative : array_like
        Vectors along the last axis, ``(N, D)`` or ``(D,)`` (more leading axes are
        accepted, as PyTorch does), the same shape; finite.
    margin : float, keyword-only
        A positive finite number (default 1.0; PyTorch refuses ``margin <= 0`` as well).
    p : float, keyword-only
        The order of the norm, finite and ``>= 1`` (default 2.0). PyTorch also takes
        ``p < 1`` and ``inf``; they are refused here.
    eps : float, keyword-only
        The shift, finite and ``>= 0`` (default 1e-6).
    swap : bool, keyword-only
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over rows (triplets).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per triplet; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape without the last axis.

    Notes
    -----
    Norms are computed from rows scaled by a power of two: no overflow or underflow
    (PyTorch's squares overflow from about 1e154 in float64 and 1e19 in float32, giving
    ``inf - inf`` = NaN).
    float32 input is computed in float64 and rounded once (PyTorch rounds ``a - p`` and
    ``+ eps`` in float32, so the two differ by float32 roundings). Accuracy, stated: each
    value is within ``(D/2 + 5) u`` of ``margin + d(a, p) + d(a, n) + eps sqrt(D)``
    (``u = 2**-53``; the two distances cancel where they are close).

    Examples
    --------
    >>> print(triplet_margin_loss([[0.0, 0.0]], [[3.0, 4.0]], [[6.0, 8.0]], eps=0.0))
    0.0
    >>> print(triplet_margin_loss([[0.0, 0.0]], [[3.0, 4.0]], [[3.0, 4.0]], eps=0.0))
    1.0
    """
    func = "triplet_margin_loss"
    m, norm, e, s = _triplet_options(func, margin, p, eps, swap)
    rows = _triplet_prepare(func, anchor, positive, negative, reduction, sample_weight)
    values, _ = _triplet(rows, _pairwise_distance(norm, e), m, s)
    return rows.reduce(values)


def triplet_margin_loss_grad(
    anchor: object,
    positive: object,
    negative: object,
    *,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array, Array]:
    r"""Gradient of :func:`triplet_margin_loss`: (d/d ``anchor``, d/d ``positive``, d/d ``negative``).

    With :math:`g(v) = \nabla \lVert v \rVert_p = \operatorname{sign}(v)\,(|v| / \lVert v\rVert_p)^{p-1}`
    (0 where ``v`` is 0), :math:`v^+ = a - p + \text{eps}`, :math:`v^- = a - n + \text{eps}`,
    each active row (``margin + d_pos - d_neg >= 0``, the kink included) gives
    ``d/da = g(v+) - g(v-)``, ``d/dp = -g(v+)``, ``d/dn = g(v-)``. With ``swap`` and
    ``d(p, n) < d(a, n)`` the negative term moves to ``positive``; at a tie it is split
    in half, as PyTorch's ``minimum`` does. Scaled by the weights and, for ``"mean"``,
    divided by the number of triplets (``sum(w)``). Each array has the inputs' shape and dtype.

    Examples
    --------
    >>> ga, gp, gn = triplet_margin_loss_grad([[0.0, 0.0]], [[3.0, 4.0]], [[3.0, 4.0]], eps=0.0)
    >>> print(ga, gp, gn)
    [[0. 0.]] [[0.6 0.8]] [[-0.6 -0.8]]
    """
    func = "triplet_margin_loss_grad"
    m, norm, e, s = _triplet_options(func, margin, p, eps, swap)
    rows = _triplet_prepare(func, anchor, positive, negative, reduction, sample_weight)
    _, grads = _triplet(rows, _pairwise_distance(norm, e), m, s)
    ga, gp, gn = (rows.reduce_gradient(g) for g in grads)
    return ga, gp, gn


# --------------------------------------------------------------------------- triplet with a distance


def _user_distance(func: str, distance: Callable[..., Any], gradient: Callable[..., Any] | None) -> Distance:
    def call(xp: Namespace, x1: Float64, x2: Float64) -> tuple[Float64, Float64, Float64]:
        # The user's functions get the rows in the inputs' library; what they return is
        # read in that library, on the rows' device (a NumPy array for NumPy input).
        device = array_api_compat.device(x1)
        d = xp.asarray(distance(x1, x2), dtype=xp.float64, device=device)
        if tuple(d.shape) != (x1.shape[0],):
            raise ShapeMismatchError(
                f"{func}: distance_function must return one distance per row, shape ({x1.shape[0]},) for "
                f"rows of shape {tuple(x1.shape)}; got shape {tuple(d.shape)}. Reduce over the last axis "
                "(axis=-1)."
            )
        if gradient is None:
            zero = xp.zeros_like(x1)
            return d, zero, zero
        g1, g2 = (xp.asarray(g, dtype=xp.float64, device=device) for g in gradient(x1, x2))
        if tuple(g1.shape) != tuple(x1.shape) or tuple(g2.shape) != tuple(x2.shape):
            raise ShapeMismatchError(
                f"{func}: the distance's gradient must return a pair of arrays of the rows' shape "
                f"{tuple(x1.shape)} (d/dx1, d/dx2 of each row's distance); got shapes {tuple(g1.shape)} "
                f"and {tuple(g2.shape)}."
            )
        return d, g1, g2

    return call


def _distance_option(func: str, distance_function: object, *, need_gradient: bool) -> Distance:
    if distance_function is None or (isinstance(distance_function, str) and distance_function == "euclidean"):
        return _pairwise_distance(2.0, 1e-6)
    if (
        isinstance(distance_function, tuple)
        and len(distance_function) == 2
        and all(callable(f) for f in distance_function)
    ):
        return _user_distance(func, distance_function[0], distance_function[1])
    if callable(distance_function) and not need_gradient:
        return _user_distance(func, distance_function, None)
    if callable(distance_function):
        raise InvalidOptionError(
            f"{func}: distance_function must come with its gradient here: got the bare callable "
            f"{describe(distance_function)}, whose derivative cannot be known. Pass a pair "
            "(distance, distance_grad), with distance(x1, x2) -> (M,) and distance_grad(x1, x2) -> "
            "(d/dx1, d/dx2), each (M, D); or None / 'euclidean' for pairwise_distance."
        )
    raise InvalidOptionError(
        f"{func}: distance_function must be None, 'euclidean', a callable (x1, x2) -> distances, or a "
        f"pair (distance, distance_grad); got {describe(distance_function)}."
    )


def _positive_margin(func: str, margin: object) -> float:
    return _option(
        func,
        "margin",
        margin,
        meaning="a positive finite number (PyTorch refuses margin <= 0 too)",
        low=0.0,
        low_included=False,
    )


def triplet_margin_with_distance_loss(
    anchor: object,
    positive: object,
    negative: object,
    *,
    distance_function: object = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Triplet margin loss with a distance: ``torch.nn.functional.triplet_margin_with_distance_loss``.

    .. math:: \ell_i = \max\bigl(0,\ \text{margin} + d(a_i, p_i) - d(a_i, n_i)\bigr)

    Parameters
    ----------
    anchor, positive, negative : array_like
        Vectors along the last axis, the same shape; finite.
    distance_function : None, "euclidean", callable or (callable, callable), keyword-only
        ``None`` or ``"euclidean"``: PyTorch's default ``pairwise_distance`` (``p = 2``,
        ``eps = 1e-6``), as in :func:`triplet_margin_loss`. A callable
        ``distance(x1, x2)`` receives float64 rows of shape ``(M, D)``, arrays of the
        inputs' library on their device, and returns the ``M`` distances. For :func:`triplet_margin_with_distance_loss_grad` it must come
        as a pair ``(distance, distance_grad)``, ``distance_grad(x1, x2)`` returning
        ``(d/dx1, d/dx2)`` of each row's distance, each ``(M, D)``: a bare callable has no
        gradient that can be known here (PyTorch gets it from autograd).
    margin : float, keyword-only
        A positive finite number (default 1.0; PyTorch refuses ``margin <= 0`` as well).
    swap : bool, keyword-only
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over rows (triplets).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per triplet; mean = ``sum(w * l) / sum(w)``.

    Examples
    --------
    >>> import numpy as np
    >>> l1 = lambda x1, x2: np.abs(x1 - x2).sum(axis=-1)
    >>> print(triplet_margin_with_distance_loss([[0.0]], [[1.0]], [[1.5]], distance_function=l1))
    0.5
    """
    func = "triplet_margin_with_distance_loss"
    distance = _distance_option(func, distance_function, need_gradient=False)
    m = _positive_margin(func, margin)
    s = _flag(func, "swap", swap)
    rows = _triplet_prepare(func, anchor, positive, negative, reduction, sample_weight)
    values, _ = _triplet(rows, distance, m, s)
    return rows.reduce(values)


def triplet_margin_with_distance_loss_grad(
    anchor: object,
    positive: object,
    negative: object,
    *,
    distance_function: object = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array, Array]:
    r"""Gradient of :func:`triplet_margin_with_distance_loss`: (d/d ``anchor``, d/d ``positive``, d/d ``negative``).

    The chain rule through the distance's gradient, as :func:`triplet_margin_loss_grad`
    (the kink included, a ``swap`` tie split in half). ``distance_function`` must be
    ``None``, ``"euclidean"`` or a pair ``(distance, distance_grad)``.

    Examples
    --------
    >>> import numpy as np
    >>> l1 = (lambda x1, x2: np.abs(x1 - x2).sum(axis=-1),
    ...       lambda x1, x2: (np.sign(x1 - x2), -np.sign(x1 - x2)))
    >>> ga, gp, gn = triplet_margin_with_distance_loss_grad([[0.0]], [[1.0]], [[1.5]], distance_function=l1)
    >>> print(ga, gp, gn)
    [[0.]] [[1.]] [[-1.]]
    """
    func = "triplet_margin_with_distance_loss_grad"
    distance = _distance_option(func, distance_function, need_gradient=True)
    m = _positive_margin(func, margin)
    s = _flag(func, "swap", swap)
    rows = _triplet_prepare(func, anchor, positive, negative, reduction, sample_weight)
    _, grads = _triplet(rows, distance, m, s)
    ga, gp, gn = (rows.reduce_gradient(g) for g in grads)
    return ga, gp, gn


# --------------------------------------------------------------------------- cosine similarity (Keras)


def _axis(func: str, axis: object) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise InvalidOptionError(f"{func}: axis must be an integer (the feature axis); got {describe(axis)}.")
    return int(axis)


def _unit(xp: Namespace, x: Float64) -> tuple[Float64, Float64, Float64]:
    """Keras's ``x / max(||x||, 1e-7)`` of each row, the scaled row ``u = x / s``, and ``s * ||u||``'s parts."""
    u, s = _scaled(xp, x)
    r = xp.sqrt(xp.sum(u * u, axis=1))[:, None]
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        small = s * r <= KERAS_EPSILON
        unit = xp.where(small, x / KERAS_EPSILON, u / xp.where(r > 0.0, r, 1.0))
    return unit, small, r * s


def cosine_similarity_loss(
    input: object,
    target: object,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Cosine similarity loss: Keras's ``CosineSimilarity`` (``keras.losses.cosine_similarity``).

    .. math:: \ell_i = -\frac{x_i}{\max(\lVert x_i\rVert, \epsilon)} \cdot
                        \frac{t_i}{\max(\lVert t_i\rVert, \epsilon)}, \qquad \epsilon = 10^{-7}

    A number in [-1, 1]: -1 for vectors pointing the same way, 0 if either is zero.
    Keras's ``epsilon`` (``backend.epsilon()``, 1e-7) floors each norm, as in
    ``keras.ops.normalize``. optax's ``cosine_distance`` is ``1 + `` this loss (it
    floors each norm at its own ``epsilon=0``).

    Parameters
    ----------
    input : array_like
        Predictions (Keras's ``y_pred``); finite.
    target : array_like
        Targets (Keras's ``y_true``), the same shape. Note the order: ours is
        ``(input, target)``, Keras's ``(y_true, y_pred)``.
    axis : int, keyword-only
        The feature axis (default -1).
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over the other axes' positions (rows).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per row (the input's shape without ``axis``); mean =
        ``sum(w * l) / sum(w)`` (Keras's ``"sum_over_batch_size"`` divides by the row
        count instead).

    Notes
    -----
    Accuracy, stated rather than promised in ulp: each value is within ``(2D + 4) u`` of
    ``sum |x^ t^|`` (``D`` features, ``u = 2**-53``, ``x^`` and ``t^`` the unit rows): the
    sum of D products cancels for nearly orthogonal rows.

    Examples
    --------
    >>> print(cosine_similarity_loss([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]],
    ...                              [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], reduction="none"))
    [-0. -1.  1.]
    """
    func = "cosine_similarity_loss"
    rows = _Rows(
        func,
        {"input": input, "target": target},
        reduction=reduction,
        sample_weight=sample_weight,
        axis=_axis(func, axis),
    )
    x, t = rows.arrays
    values = -rows.xp.sum(_unit(rows.xp, x)[0] * _unit(rows.xp, t)[0], axis=1)
    return rows.reduce(values)


def cosine_similarity_loss_grad(
    input: object,
    target: object,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`cosine_similarity_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial x} = -\frac{\hat t - (\hat x \cdot \hat t)\,\hat x}{\lVert x\rVert}
              \quad (\lVert x\rVert > \epsilon), \qquad -\frac{\hat t}{\epsilon} \quad \text{otherwise}

    with :math:`\hat x = x / \max(\lVert x\rVert, \epsilon)`. Scaled by the weights
    and, for ``"mean"``, divided by the number of rows (``sum(w)``).

    Examples
    --------
    >>> print(cosine_similarity_loss_grad([[2.0, 0.0]], [[0.0, 3.0]]))
    [[-0.  -0.5]]
    """
    func = "cosine_similarity_loss_grad"
    rows = _Rows(
        func,
        {"input": input, "target": target},
        reduction=reduction,
        sample_weight=sample_weight,
        axis=_axis(func, axis),
    )
    xp = rows.xp
    x, t = rows.arrays
    x_hat, small, _ = _unit(xp, x)
    t_hat = _unit(xp, t)[0]
    u, s = _scaled(xp, x)
    r = xp.sqrt(xp.sum(u * u, axis=1))[:, None]
    c = xp.sum(x_hat * t_hat, axis=1)[:, None]
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        regular = -((t_hat - c * x_hat) / xp.where(r > 0.0, r, 1.0)) / s
        gradient = xp.where(small, -t_hat / KERAS_EPSILON, regular)
    return rows.reduce_gradient(gradient)
