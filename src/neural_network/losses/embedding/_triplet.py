r"""Triplet losses: ``triplet_margin_loss`` and ``triplet_margin_with_distance_loss``.

Each compares an anchor with a positive and a negative along the last axis and gives one
value per row (triplet), through PyTorch's ``pairwise_distance`` (``||x1 - x2 + eps||_p``)
or a distance the caller gives. Norms are taken of rows scaled by a power of two
(:func:`neural_network.losses.embedding._feature_rows.scaled_rows`): no overflow or underflow.
**Gradients at the kinks** follow PyTorch's autograd: ``clamp_min(z, 0)`` passes the
gradient at ``z == 0``, and ``minimum(d_neg, d_swap)`` splits it in half at a tie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

from neural_network._numerics import two_sum
from neural_network._validation import Array, Namespace
from neural_network.errors import (
    InvalidOptionError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._common import bool_option, indicator, real_option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses.embedding._feature_rows import (
    FeatureRows,
    Float64,
    divide_double,
    row_sum_double,
    scaled_rows,
    sqrt_double,
    two_square,
)

# --------------------------------------------------------------------------- pairwise distance, triplets


def _distance(xp: Namespace, v: Float64, v_low: Float64, p: float) -> tuple[Float64, ...]:
    """``||v + v_low||_p`` of each row and its gradient with respect to ``v`` (0 where the norm
    is 0), each as a pair ``(high, low)``: ``(norm, norm_low, grad, grad_low)``.

    For ``p`` = 2 and 1, in double length (TwoProduct squares, TwoSum row sums, a corrected
    square root and quotients): within about ``2**-100`` of the norm and of each entry
    of the gradient, so that ``d(a, p) - d(a, n)`` and ``g(v+) - g(v-)`` can cancel without
    losing their digits. Other orders: rounded results and zero low parts.
    """
    u, s = scaled_rows(xp, v)
    au = xp.abs(u)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        u_low = v_low / s
        zero = xp.zeros_like(u)
        if p == 2.0:
            square, square_error = two_square(u)
            total, total_low = row_sum_double(xp, square, square_error + 2.0 * u * u_low)
            r, r_low = sqrt_double(xp, total, total_low)
            grad, grad_low = divide_double(xp, u, u_low, r, r_low)
        elif p == 1.0:
            r, r_low = row_sum_double(xp, au, xp.where(u < 0.0, 0.0 - u_low, u_low))
            grad, grad_low = xp.sign(u), zero
        else:
            r = xp.sum(au**p, axis=1, keepdims=True) ** (1.0 / p)
            r_low = xp.zeros_like(r)
            grad, grad_low = xp.sign(u) * (au / r) ** (p - 1.0), zero
        inside = r > 0.0
        norm, norm_low = s[:, 0] * r[:, 0], xp.where(inside, s * r_low, 0.0)[:, 0]
        grad, grad_low = xp.where(inside, grad, 0.0), xp.where(inside, grad_low, 0.0)
    return norm, norm_low, grad, grad_low


def _pairwise(xp: Namespace, x1: Float64, x2: Float64, p: float, eps: float) -> tuple[Float64, ...]:
    """PyTorch's ``pairwise_distance(x1, x2, p, eps)`` = ``||x1 - x2 + eps||_p`` and its gradient
    with respect to ``x1`` (that of ``x2`` is its negative), as :func:`_distance` gives them:
    ``x1 - x2 + eps`` rounded and its rounding error (TwoSum, twice)."""
    with np.errstate(over="ignore", invalid="ignore"):
        difference, error = two_sum(x1, 0.0 - x2)
        v, shift_error = two_sum(difference, xp.full_like(difference, eps))
        # beyond the float64 range only for inputs near 1e308: v is inf, its error unknown
        v_low = xp.where(xp.isfinite(v), error + shift_error, 0.0)
    return _distance(xp, v, v_low, p)


Distance = Callable[[Namespace, Float64, Float64], tuple[Float64, ...]]
"""A distance of rows: ``(xp, x1, x2) -> (d, d_low, d/dx1, its low part, d/dx2, its low part)``,
each a double-length pair (low parts 0 where the distance is not computed in double length)."""


def _difference(xp: Namespace, high: Float64, low: Float64, minus: Float64, minus_low: Float64) -> Float64:
    """``(high + low) - (minus + minus_low)``, rounded about once (TwoSum of the high parts)."""
    with np.errstate(over="ignore", invalid="ignore"):
        difference, error = two_sum(high, 0.0 - minus)
        exact = difference + (error + (low - minus_low))
    return xp.where(xp.isfinite(exact), exact, high - minus)


def _triplet(
    rows: FeatureRows, distance: Distance, margin: float, swap: bool
) -> tuple[Float64, tuple[Float64, Float64, Float64]]:
    """The per-row triplet losses and their gradients (anchor, positive, negative).

    ``margin + d(a, p) - d(a, n)`` and each gradient's difference of two distances'
    gradients are formed from the double-length pairs: rounded about once, whatever they cancel.
    """
    xp = rows.xp
    a, pos, neg = rows.arrays
    d_pos, d_pos_low, gp_a, gp_a_low, gp_p, gp_p_low = distance(xp, a, pos)
    d_neg, d_neg_low, gn_a, gn_a_low, gn_n, gn_n_low = distance(xp, a, neg)
    alpha = xp.ones_like(d_neg)
    if swap:
        d_swap, d_swap_low, gs_p, gs_p_low, gs_n, gs_n_low = distance(xp, pos, neg)
        alpha = xp.where(d_neg < d_swap, 1.0, 0.5 * indicator(xp, d_neg == d_swap))
        tied_low = xp.where(d_neg == d_swap, xp.minimum(d_neg_low, d_swap_low), d_swap_low)
        d_neg_low = xp.where(d_neg < d_swap, d_neg_low, tied_low)
        d_neg = xp.minimum(d_neg, d_swap)
    with np.errstate(over="ignore", invalid="ignore"):
        gap, gap_error = two_sum(d_pos, 0.0 - d_neg)
        shifted, shift_error = two_sum(gap, xp.full_like(gap, margin))
        z = shifted + ((gap_error + shift_error) + (d_pos_low - d_neg_low))
        z = xp.where(xp.isfinite(z), z, margin + d_pos - d_neg)
    values = xp.maximum(z, 0.0)
    active = indicator(xp, z >= 0.0)[:, None]
    al = alpha[:, None]
    g_a = active * _difference(xp, gp_a, gp_a_low, al * gn_a, al * gn_a_low)
    g_p = active * (gp_p + gp_p_low)
    g_n = 0.0 - active * (al * (gn_n + gn_n_low))
    if swap:
        be = 1.0 - al
        g_p = active * _difference(xp, gp_p, gp_p_low, be * gs_p, be * gs_p_low)
        g_n = 0.0 - active * _difference(xp, al * gn_n, al * gn_n_low, 0.0 - be * gs_n, 0.0 - be * gs_n_low)
    return values, (g_a, g_p + 0.0, g_n + 0.0)


def _pairwise_distance(p: float, eps: float) -> Distance:
    def distance(xp: Namespace, x1: Float64, x2: Float64) -> tuple[Float64, ...]:
        d, d_low, g, g_low = _pairwise(xp, x1, x2, p, eps)
        return d, d_low, g, g_low, 0.0 - g, 0.0 - g_low

    return distance


def _triplet_prepare(
    func: str, anchor: object, positive: object, negative: object, reduction: object, sample_weight: object
) -> FeatureRows:
    arrays = {"anchor": anchor, "positive": positive, "negative": negative}
    return FeatureRows(func, arrays, reduction=reduction, sample_weight=sample_weight)


def _triplet_options(
    func: str, margin: object, p: object, eps: object, swap: object
) -> tuple[float, float, float, bool]:
    m = _positive_margin(func, margin)
    norm = real_option(
        func,
        "p",
        p,
        meaning="the order of the norm, a finite number >= 1 (2 for Euclidean)",
        low=1.0,
        low_included=True,
    )
    e = real_option(
        func,
        "eps",
        eps,
        meaning="the shift added to each difference, a finite number >= 0",
        low=0.0,
        low_included=True,
    )
    return m, norm, e, bool_option(func, "swap", swap)


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
    ``+ eps`` in float32, so the two differ by float32 roundings).
    Accuracy, for ``p`` = 2 and 1: every value and gradient entry within 4 ulp of the
    exact result (measured: 0.5 at most), ``d(a, p)`` close to ``d(a, n) - margin``
    included. The differences ``x - y + eps`` are kept with their rounding errors, the
    norms and their gradients formed in double length (exact squares, TwoSum row sums,
    corrected square roots and quotients), so ``margin + d(a, p) - d(a, n)`` and
    ``g(v+) - g(v-)`` are rounded about once: 3 to 7 times the plain sums' time. Other
    ``p``: plain ``pow`` and sums, each value within about ``(D + 5) u`` of
    ``margin + d(a, p) + d(a, n)`` (it cancels; measured 13 ulp of the value, 17 of the
    gradient, on normal draws of 4 features).

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


def _triplet_reference_distance(
    xp: Namespace, x1: Array, x2: Array, p: float, eps: float
) -> tuple[Array, Array]:
    """``||x1 - x2 + eps||_p`` of each row, and its gradient with respect to ``x1`` (0 at 0)."""
    v = x1 - x2 + eps
    norm = xp.sum(xp.abs(v) ** p, axis=-1) ** (1 / p)
    share = xp.abs(v) / xp.where(norm > 0, norm, 1.0)[:, None]  # |v_i| / ||v||, 0 where v is 0
    return norm, xp.sign(v) * share ** (p - 1)


def _triplet_reference(
    xp: Namespace, a: Array, pos: Array, neg: Array, /, *, margin: float = 1.0, p: float = 2.0,
    eps: float = 1e-6, swap: bool = False,
) -> Array:
    d_neg = _triplet_reference_distance(xp, a, neg, p, eps)[0]
    if swap:
        d_neg = xp.minimum(d_neg, _triplet_reference_distance(xp, pos, neg, p, eps)[0])
    return xp.maximum(margin + _triplet_reference_distance(xp, a, pos, p, eps)[0] - d_neg, 0.0)


def _triplet_reference_grad(
    xp: Namespace, a: Array, pos: Array, neg: Array, /, *, margin: float = 1.0, p: float = 2.0,
    eps: float = 1e-6, swap: bool = False,
) -> tuple[Array, Array, Array]:
    d_ap, g_ap = _triplet_reference_distance(xp, a, pos, p, eps)
    d_an, g_an = _triplet_reference_distance(xp, a, neg, p, eps)
    d_pn, g_pn = _triplet_reference_distance(xp, pos, neg, p, eps)
    # the share of d(a, n) in d_neg: 1 without swap; with it, 1, 0, or 1/2 at a tie with d(p, n)
    w = xp.where(d_an < d_pn, 1.0, xp.where(d_an == d_pn, 0.5, 0.0))[:, None] if swap else 1.0
    d_neg = xp.minimum(d_an, d_pn) if swap else d_an
    active = xp.where(margin + d_ap - d_neg >= 0, 1.0, 0.0)[:, None]  # the kink included
    return active * (g_ap - w * g_an), active * (-g_ap - (1 - w) * g_pn), active * (w * g_an + (1 - w) * g_pn)


register("triplet_margin_loss", _triplet_reference, _triplet_reference_grad)


# --------------------------------------------------------------------------- triplet with a distance


def _user_distance(func: str, distance: Callable[..., Any], gradient: Callable[..., Any] | None) -> Distance:
    def call(xp: Namespace, x1: Float64, x2: Float64) -> tuple[Float64, ...]:
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
            return d, xp.zeros_like(d), zero, zero, zero, zero
        g1, g2 = (xp.asarray(g, dtype=xp.float64, device=device) for g in gradient(x1, x2))
        if tuple(g1.shape) != tuple(x1.shape) or tuple(g2.shape) != tuple(x2.shape):
            raise ShapeMismatchError(
                f"{func}: the distance's gradient must return a pair of arrays of the rows' shape "
                f"{tuple(x1.shape)} (d/dx1, d/dx2 of each row's distance); got shapes {tuple(g1.shape)} "
                f"and {tuple(g2.shape)}."
            )
        return d, xp.zeros_like(d), g1, xp.zeros_like(g1), g2, xp.zeros_like(g2)

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
    return real_option(
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

    Notes
    -----
    With the default distance, the accuracy of :func:`triplet_margin_loss` (``p = 2``):
    every value and gradient entry within 4 ulp. With the caller's distance, its
    values and gradients are used as they come: ``margin + d(a, p) - d(a, n)`` is then
    rounded twice, and it cancels where the distances nearly differ by the margin.

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
    s = bool_option(func, "swap", swap)
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
    s = bool_option(func, "swap", swap)
    rows = _triplet_prepare(func, anchor, positive, negative, reduction, sample_weight)
    _, grads = _triplet(rows, distance, m, s)
    ga, gp, gn = (rows.reduce_gradient(g) for g in grads)
    return ga, gp, gn


# The default distance (pairwise_distance, p = 2, eps = 1e-6): triplet_margin_loss's reference.
register("triplet_margin_with_distance_loss", _triplet_reference, _triplet_reference_grad)
