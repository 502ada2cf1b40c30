"""Gaussian negative log-likelihood with a predicted variance: PyTorch's ``gaussian_nll_loss``.

A three-array loss: the engine (``_elementwise``) sees ``input`` and ``target`` as its
two operands and ``var`` as an extra keyword array broadcast against them, after
``var`` has been checked here and given PyTorch's shape (see :func:`_variance`).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from neural_network import _validation
from neural_network._numerics import log_double, two_product, two_sum, veltkamp_split
from neural_network._triple import distill, log_triple, rounded_sum
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.errors import ShapeMismatchError
from neural_network.losses._common import any_true, bool_option, real_option, refine_flagged
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register


def _variance_hint(low: float, high: float) -> str:
    return (
        " A variance is never negative. Log-variances (a network's raw output)? Pass "
        "exp(log_var), or softplus(raw) for a positive output; standard deviations? Pass std**2."
    )


VARIANCE = Domain("finite non-negative variances", 0.0, hint=_variance_hint)

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


_LOG_TWO_PI = (1.8378770664093456, -7.756588316134483e-17, -2.647943193699614e-33)
"""log(2 pi) in three floats (mpmath at 300 bits; tests/test_probabilistic_losses.py checks
it): the first two are its double-double."""


def _gaussian(xp: Namespace, x: Array, t: Array, /, var: Array, *, eps: float, full: bool) -> Array:
    # PyTorch's operations: 0.5 (log(v) + (x - t)^2 / v) with v = max(var, eps). Where
    # log v (negative below v = 1) cancels the rest by more than a factor 2, the plain sum
    # keeps no more digits than they cancel (no correct digit at v = 1 / (2 pi), x = t,
    # with full=True): there each part is formed in double-double (_gaussian_close), or
    # in three floats where that still leaves the value below 2**-40 of the parts.
    # Elsewhere: log 2u, (d^2 / v) 3u+u (d's rounding twice), the sum u, at most twice the
    # value each: 2 (2u + 4u) + u, the constant's u (full): within 14u.
    v = xp.maximum(var, eps)
    d = x - t
    log_v = xp.log(v)
    q = d * d / v
    if any_true(xp, xp.isinf(q)):  # d * d beyond the range while d^2 / v is not (or is: inf either way)
        q = xp.where(xp.isinf(q), d * (d / v), q)
    loss = 0.5 * (log_v + q)
    value = loss + _HALF_LOG_TWO_PI if full else loss
    size = 0.5 * (xp.abs(log_v) + q) + (_HALF_LOG_TWO_PI if full else 0.0)
    close = xp.abs(value) < 0.5 * size
    if not any_true(xp, close):
        return value
    v = xp.broadcast_to(v, tuple(x.shape))
    close_value = functools.partial(_gaussian_close, full=full)
    return refine_flagged(xp, value, close, close_value, x, t, v, harmless=(0.0, 0.0, 1.0))


def _gaussian_close(xp: Namespace, x: Array, t: Array, v: Array, /, *, full: bool) -> Array:
    """``0.5 (log v + (x - t)^2 / v) (+ 0.5 log(2 pi))`` with each part in double-double.

    ``d = x - t`` (TwoSum), ``d^2`` (TwoProduct, with ``d``'s error to first order), the
    quotient with its remainder (TwoProduct, ``d^2 - q v`` exact), ``log v``
    (:func:`log_double`, about 2**-96 absolute) and ``log(2 pi)`` in double-double, summed
    with TwoSum: within about ``2**-96 (1 + size)`` (``size`` the parts' magnitudes) plus
    the last rounding, however they cancel: 4 ulp wherever ``|value| >= 2**-44 (1 + size)``.
    Where ``|value| < 2**-40 (1 + size)`` the element is formed again in triple length
    (:func:`_gaussian_triple`).
    """
    d, d_error = two_sum(x, -t)
    square, square_error = two_product(d, d)
    square_error = square_error + 2.0 * d * d_error
    q = square / v
    p, p_error = two_product(q, v)
    q_low = (((square - p) - p_error) + square_error) / v
    log_high, log_low = log_double(xp, v)
    s, s_error = two_sum(log_high, q)
    low = s_error + (log_low + q_low)
    size = 1.0 + 0.5 * (xp.abs(log_high) + q)
    if full:
        s, c_error = two_sum(s, xp.full_like(s, _LOG_TWO_PI[0]))
        low = low + (c_error + _LOG_TWO_PI[1])
        size = size + _HALF_LOG_TWO_PI
    value = 0.5 * (s + low)
    triple = functools.partial(_gaussian_triple, full=full)
    return refine_flagged(xp, value, xp.abs(value) < _GAUSSIAN_TRIPLE * size, triple, x, t, v, harmless=(0.0, 0.0, 1.0))


_GAUSSIAN_TRIPLE = 2.0**-40
"""Below ``1 + size`` times this, :func:`_gaussian_close`'s value is formed again in triple length."""


def _gaussian_triple(xp: Namespace, x: Array, t: Array, v: Array, /, *, full: bool) -> Array:
    """``0.5 (log v + (x - t)^2 / v) (+ 0.5 log(2 pi))`` with every part in three floats.

    ``d = x - t`` exactly (TwoSum), ``d^2`` exactly (TwoProduct of each pair, the square
    of ``d``'s error rounded: 2**-159 of it), ``d^2 / v`` as three quotients, each the
    remainder (exact, TwoProduct) divided again (2**-159), ``log v`` by :func:`log_triple`
    (about 2**-149 absolute), ``log(2 pi)`` in three floats (2**-159), all summed by
    :func:`rounded_sum` (SumK, to about an ulp): within about ``2**-148 (1 + size)`` and
    an ulp, 4 ulp wherever ``|value| >= 2**-96 (1 + size)``. ``d`` and ``v`` are scaled by ``2**+-300`` and
    ``2**+-600`` (exactly) beyond ``v = 2**+-600``, so that every product stays within
    TwoProduct's range.
    """
    d, d_error = two_sum(x, -t)
    ones = xp.ones_like(v)
    scale = xp.where(v < 2.0**-600, ones * 2.0**300, xp.where(v > 2.0**600, ones * 2.0**-300, ones))
    d, d_error, w = d * scale, d_error * scale, v * (scale * scale)
    a, a_error = two_product(d, d)
    b, b_error = two_product(d, d_error)
    square = distill([a, 2.0 * b, a_error, 2.0 * b_error, d_error * d_error], 3)
    q1 = square[0] / w
    p, p_error = two_product(q1, w)
    rest = distill([square[0] - p, -p_error, square[1], square[2]], 2)
    q2 = rest[0] / w
    p, p_error = two_product(q2, w)
    q3 = (((rest[0] - p) - p_error) + rest[1]) / w
    log_v = log_triple(xp, v)
    parts = [log_v[0], q1, log_v[1], q2, log_v[2], q3]
    if full:
        parts += [xp.full_like(q1, _LOG_TWO_PI[0]), xp.full_like(q1, _LOG_TWO_PI[1]), xp.full_like(q1, _LOG_TWO_PI[2])]
    return 0.5 * rounded_sum(parts)


def _gaussian_derivative(xp: Namespace, x: Array, t: Array, /, var: Array, *, eps: float, full: bool) -> Array:
    return (x - t) / xp.maximum(var, eps)


def _gaussian_var_numerator(
    xp: Namespace, x: Array, t: Array, /, var: Array, *, eps: float, full: bool
) -> Array:
    # d/dv 0.5 (log v + d^2 / v) = 0.5 (v - d^2) / v^2 at v = max(var, eps): this is v times
    # it, the last division left to _by_var (after the sums over a shared variance). PyTorch
    # clamps var in place under no_grad, so its autograd takes this derivative at the
    # clamped value, as if the clamp were the identity: so does this one.
    # 1 - d^2 / v vanishes at d^2 = v, where it would keep none of the digits it cancels:
    # as (v - d^2) / v with d = x - t (TwoSum) and d^2 (TwoProduct) exact to first order
    # (:func:`_one_less`). Where d^2 is beyond TwoProduct's range (|d| >= 2**510) the same
    # with d and v scaled by 2**-8 and 2**-16 where d^2 may be near v (v >= 2**1000), else
    # 1 - d (d / v), whose terms are then 2**20 apart.
    v = xp.maximum(var, eps)
    d, d_error = two_sum(x, -t)
    inside = xp.abs(d) < 2.0**510
    if not any_true(xp, ~inside):
        return 0.5 * _one_less(xp, d, d_error, v)
    zeros = xp.zeros_like(d)
    n = _one_less(xp, xp.where(inside, d, zeros), xp.where(inside, d_error, zeros), v)
    near = (v >= 2.0**1000) & (xp.abs(d) < 2.0**513)  # d^2 may be near v
    ones = xp.ones_like(d)
    scaled = _one_less(xp, xp.where(near, d, zeros) * 2.0**-8, d_error * 2.0**-8, xp.where(near, v, ones) * 2.0**-16)
    return 0.5 * xp.where(inside, n, xp.where(near, scaled, 1.0 - d * (d / v)))


def _one_less(xp: Namespace, d: Array, d_error: Array, v: Array) -> Array:
    """``1 - (d + d_error)^2 / v`` for ``|d| < 2**510``: ``v - d^2`` is exact where ``d^2`` is
    within a factor 2 of ``v`` (Sterbenz; elsewhere nothing cancels), ``d^2`` by TwoProduct
    and its tail to first order: that rounding and the division's, within 1.5 ulp."""
    square = d * d
    high, low = veltkamp_split(d)  # TwoProduct of d by itself, d split once
    square_error = ((high * high - square) + 2.0 * (high * low)) + low * low
    return (((v - square) - square_error) - 2.0 * d * d_error) / v


def _by_var(xp: Namespace, g: Array, v: Array, eps: float) -> Array:
    """The sums of :func:`_gaussian_var_numerator` (over the elements of a shared variance)
    divided by ``v = max(var, eps)``: the derivative by ``var``. ``v`` is the same for every
    element of such a sum, so it is divided once, after the sum."""
    v = xp.maximum(v, eps)
    with np.errstate(over="ignore"):  # a derivative beyond the range is inf, without a warning
        return g / v


@functools.lru_cache(maxsize=64)
def _gaussian_with(eps: float, full: bool) -> tuple[ElementwiseLoss, ElementwiseLoss]:
    loss = ElementwiseLoss(
        name="gaussian_nll_loss",
        input=Operand("input", REAL),
        target=Operand("target", REAL),
        value=functools.partial(_gaussian, eps=eps, full=full),
        derivative=functools.partial(_gaussian_derivative, eps=eps, full=full),
        weights=("var",),
    )
    by_var = ElementwiseLoss(
        name="gaussian_nll_loss",
        input=Operand("input", REAL),
        target=Operand("target", REAL),
        value=loss.value,
        derivative=functools.partial(_gaussian_var_numerator, eps=eps, full=full),
        weights=("var",),
    )
    return loss, by_var


def _options(func: str, full: object, eps: object) -> tuple[ElementwiseLoss, ElementwiseLoss, float]:
    """The loss, its form for the derivative by ``var``, and the checked ``eps``."""
    meaning = "the smallest variance used (var is clamped to it): a positive finite number"
    clamp = real_option(func, "eps", eps, meaning=meaning, low=0.0, low_included=False)
    return (*_gaussian_with(clamp, bool_option(func, "full", full)), clamp)


def _variance(
    func: str, input: object, target: object, var: object, sample_weight: object
) -> tuple[Namespace, Array, tuple[int, ...]]:
    """``var`` checked and shaped to broadcast against ``input``; its own shape.

    PyTorch's rules: ``var`` has the shape of ``input``; or that shape without the last
    dimension (one variance for the whole last axis); or the same number of dimensions
    with exactly one of them 1 where ``input``'s is not (one variance shared along that
    axis). A Python number is one variance for every element.
    """
    xp, device = _validation.namespace(
        func, input=input, target=target, var=var, sample_weight=sample_weight
    )
    x = _validation.as_real_array(func, "input", input, xp, device)
    t = _validation.as_real_array(func, "target", target, xp, device)
    _validation.check_same_shape(func, "input", x, "target", t)
    v = _validation.as_real_array(func, "var", var, xp, device)
    x_shape, v_shape = tuple(x.shape), tuple(v.shape)
    if v_shape and v_shape != x_shape:  # a 0-d var (or a number) is one variance for all
        if x_shape[:-1] == v_shape:
            v = xp.reshape(v, (*v_shape, 1))
        elif not (
            len(v_shape) == len(x_shape)
            and sum(b for a, b in zip(x_shape, v_shape, strict=True) if a != b) == 1
        ):
            raise ShapeMismatchError(
                f"{func}: var must have the shape of input {x_shape}, that shape without its last "
                f"dimension {x_shape[:-1]}, or the same dimensions with one of them 1 (one "
                f"variance shared along that axis); got var.shape={v_shape}. For one variance "
                f"per row of an (N, D) input pass shape (N,) or (N, 1); for one per element, {x_shape}."
            )
    _validation.check_values(func, "var", v, xp, VARIANCE)
    return xp, v, v_shape


def gaussian_nll_loss(
    input: object,
    target: object,
    var: object,
    *,
    full: bool = False,
    eps: float = 1e-6,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gaussian negative log-likelihood: ``torch.nn.functional.gaussian_nll_loss``.

    .. math:: \ell_i = \tfrac12\Bigl(\log v_i + \frac{(x_i - y_i)^2}{v_i}\Bigr)
              \;\bigl(+\ \tfrac12 \log 2\pi \text{ if full}\bigr), \qquad v_i = \max(\text{var}_i, \varepsilon)

    the negative log-likelihood of ``target`` under a normal law of mean ``input`` and
    variance ``var``, both predicted (heteroscedastic regression).

    Parameters
    ----------
    input : array_like
        Predicted means, any shape.
    target : array_like
        Observations, the same shape as ``input``.
    var : array_like or float
        Predicted variances, non-negative: the shape of ``input``, that shape without
        its last dimension, the same dimensions with one of them 1 (PyTorch's rules), or
        a number.
    full : bool, keyword-only
        Add the constant ``log(2 pi) / 2`` (default False, as in PyTorch).
    eps : float, keyword-only
        Variances below ``eps`` are clamped to it (default 1e-6, as in PyTorch).
    reduction : {"mean", "sum", "none"}, keyword-only
        Over the elements of ``input``.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    gaussian_nll_loss_grad : its gradient, a pair (d/d input, d/d var).

    Notes
    -----
    PyTorch's operations in float64 (float32 input is computed in float64 and rounded
    once), within 4 ulp (2.1 measured; 14 by a derivation that takes libm's ``log`` to
    an ulp), except where ``log v`` cancels the rest by more than a factor 2 (the value
    near 0): there every part is formed in double-double (about 2**-96 of the parts,
    absolute), and where they cancel to 2**-40 or closer in three floats (``log v`` to
    about 2**-149): within 4 ulp wherever the value exceeds about 2**-96 of the parts
    (1.3 measured on the tests' adversarial cases, ``log v + d^2 / v`` zero to 2**-53 of
    its terms; closer, within about 2**-148 of them, absolute). PyTorch's sum keeps no
    correct digit there: ``gaussian_nll_loss(0, 0, 1 / (2 pi), full=True)`` is 3.09e-17,
    not 0. The gradient by ``input`` is within 2 ulp; by ``var`` it is formed as
    ``(v - d^2) / (2 v^2)`` with ``d^2`` exact to first order, so that its zero at
    ``d^2 = v`` costs nothing, and summed over the elements of a shared variance by
    TwoSum before the division: within 4 ulp (2.9 measured). Like PyTorch, a negative
    variance is refused; infinite and NaN ones are refused here too.

    Examples
    --------
    >>> print(gaussian_nll_loss([0.0, 1.0], [0.0, 0.0], [1.0, 0.5], reduction="none"))
    [0.         0.65342641]
    """
    func = "gaussian_nll_loss"
    loss, _, _ = _options(func, full, eps)
    _, v, _ = _variance(func, input, target, var, sample_weight)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight, var=v)


def _in_dtype(xp: Namespace, result: Array, dtype: Any) -> Array:
    if isinstance(result, (np.ndarray, np.generic)):
        return np.asarray(result, dtype=dtype)
    return xp.astype(result, dtype)


_SUMMED_ROWS = 8192
"""Rows (indices of axis 0) summed at a time by :func:`_summed` on NumPy."""


def _summed(xp: Namespace, g: Array, axis: int) -> Array:
    """The sum of ``g`` along ``axis`` (kept, of length 1), within about an ulp however its terms cancel.

    A variance shared by several elements gets the sum of their derivatives, which have
    either sign. Pairwise, with each pair's sum formed by TwoSum and the rounding errors
    (exact) summed apart: the result is rounded once, plus the errors' own sum (of the
    order of ``n u^2`` of the terms).
    """
    if isinstance(g, np.ndarray) and axis > 0 and g.shape[0] > _SUMMED_ROWS:
        # Each sum lies along ``axis``, within one index of axis 0: in slices of that axis,
        # whose work arrays stay in the cache, with the same operations on each element.
        rows = range(0, g.shape[0], _SUMMED_ROWS)
        return np.concatenate([_summed(np, g[start : start + _SUMMED_ROWS], axis) for start in rows], axis=0)
    if isinstance(g, np.ndarray) and g.shape[axis] < 16:
        return _summed_numpy(g, axis)

    def part(start: int, stop: int) -> Array:
        return g[(slice(None),) * axis + (slice(start, stop),)]

    errors = xp.zeros_like(part(0, 1))
    while g.shape[axis] > 1:
        n = g.shape[axis]
        half = n // 2
        s, e = two_sum(part(0, half), part(half, 2 * half))
        errors = errors + xp.sum(e, axis=axis, keepdims=True)
        g = xp.concat([s, part(2 * half, n)], axis=axis) if n % 2 else s
    return g + errors


def _summed_numpy(g: np.ndarray, axis: int) -> np.ndarray:
    """:func:`_summed` on NumPy for fewer than 16 terms per sum: the same operations on a
    copy with ``axis`` first, so that each part is contiguous. NumPy adds up to 7 terms
    (each level's errors) in their order along either layout, so the bits are the same
    (but for the sign of a zero error sum, which the zero it is added to drops)."""
    h = np.ascontiguousarray(np.moveaxis(g, axis, 0))
    errors = np.zeros_like(h[:1])
    while h.shape[0] > 1:
        n = h.shape[0]
        half = n // 2
        s, e = two_sum(h[:half], h[half : 2 * half])
        errors += np.sum(e, axis=0, keepdims=True)
        h = np.concatenate([s, h[2 * half : n]], axis=0) if n % 2 else s
    return np.moveaxis(h + errors, 0, axis)  # a new array: h may be g itself (one term)


def gaussian_nll_loss_grad(
    input: object,
    target: object,
    var: object,
    *,
    full: bool = False,
    eps: float = 1e-6,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array]:
    r"""Gradient of :func:`gaussian_nll_loss`: the pair (d/d ``input``, d/d ``var``).

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \frac{x_i - y_i}{v_i}, \qquad
              \frac{\partial \ell_i}{\partial v_i} = \frac{1}{2 v_i}\Bigl(1 - \frac{(x_i - y_i)^2}{v_i}\Bigr)

    with ``v = max(var, eps)``, scaled by the weights and, for ``"mean"``, divided by
    ``sum(w)``. The second has ``var``'s shape (summed over the axis a shared variance
    covers) and dtype. Where ``var < eps`` it is PyTorch's autograd value: PyTorch
    clamps ``var`` in place without recording it, so its gradient is the derivative at
    ``eps``, not 0 (the derivative of the clamp).

    Examples
    --------
    >>> g_input, g_var = gaussian_nll_loss_grad([0.0, 1.0], [0.0, 0.0], [1.0, 0.5], reduction="sum")
    >>> print(g_input, g_var)
    [0. 2.] [ 0.5 -1. ]
    """
    func = "gaussian_nll_loss_grad"
    loss, by_var, clamp = _options(func, full, eps)
    xp, v, v_shape = _variance(func, input, target, var, sample_weight)
    g_input = loss.grad(input, target, reduction=reduction, sample_weight=sample_weight, var=v)
    # d/d var in float64 (input as float64), summed over the broadcast axes, then rounded once.
    x = _validation.working(xp, _validation.as_real_array(func, "input", input, xp, None))
    g = by_var.grad(x, target, reduction=reduction, sample_weight=sample_weight, var=v)
    shared = tuple(axis for axis, (a, b) in enumerate(zip(g.shape, v.shape, strict=True)) if a != b) if v.shape else None
    if shared is None:
        g = _summed(xp, xp.reshape(g, (-1,)), 0)
    for axis in shared or ():
        g = _summed(xp, g, axis)
    g = xp.reshape(_by_var(xp, g, xp.reshape(_validation.working(xp, v), tuple(g.shape)), clamp), v_shape)
    return g_input, _in_dtype(xp, g, v.dtype)


def _per_element(xp: Namespace, var: Array, x: Array) -> Array:
    """``var`` broadcastable against ``x``: one variance per row has the last axis added."""
    return xp.reshape(var, (*var.shape, 1)) if var.ndim == x.ndim - 1 else var


def _gaussian_nll_reference(
    xp: Namespace, x: Array, t: Array, var: Array, /, *, full: bool = False, eps: float = 1e-6
) -> Array:
    v = _per_element(xp, xp.maximum(var, eps), x)
    value = (xp.log(v) + (x - t) ** 2 / v) / 2
    return value + xp.log(2 * xp.pi) / 2 if full else value


def _gaussian_nll_reference_grad(
    xp: Namespace, x: Array, t: Array, var: Array, /, *, full: bool = False, eps: float = 1e-6
) -> tuple[Array, Array]:
    # d/d var at v = max(var, eps), as PyTorch's autograd (see gaussian_nll_loss_grad),
    # summed over the elements a shared variance covers
    v = _per_element(xp, xp.maximum(var, eps), x)
    by_var = (1 - (x - t) ** 2 / v) / (2 * v)
    return (x - t) / v, xp.sum(by_var, axis=-1) if var.ndim == x.ndim - 1 else by_var


register("gaussian_nll_loss", _gaussian_nll_reference, _gaussian_nll_reference_grad)
