"""Poisson likelihoods: PyTorch's ``poisson_nll_loss`` and Keras's ``poisson_loss``.

Each per-element value with its derivative beside it, and its reference. The deviances
(scikit-learn's ``mean_tweedie_deviance`` family) are in :mod:`._tweedie`, the pieces
both share (domains, the deviance of ``t`` against ``e^x``) in :mod:`._deviance`.
"""

from __future__ import annotations

import functools
import math

from neural_network._numerics import LN2, exp_double, log_double, two_product, two_sum
from neural_network._triple import exp_triple, log_triple, rounded_sum, triple_constants
from neural_network._validation import REAL, Array, Namespace
from neural_network.losses import _table_kernels
from neural_network.losses._common import any_true, bool_option, real_option, refine_flagged
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses.distributions._deviance import (
    COUNT,
    RATE,
    deviance_of_exp,
    exclude_zero,
    exp_less,
    xlogy,
)

# The deviances live in _tweedie; neural_network.losses imports them from here too.

_E_SWITCH = 709.0
"""exp(x) overflows above 709.78: beyond this the value is computed scaled."""

_SHIFT = 44.36141955583639
"""64 ln 2 rounded down to a multiple of 2**-43: ``x - _SHIFT`` is exact for ``x`` in [512, 1024)."""

_SHIFT_ERROR = -1.0806560032487666e-13
"""``_SHIFT - 64 ln 2``."""

_TWO_PI = 2.0 * math.pi


# --------------------------------------------------------------------------- poisson_nll_loss


def _exp_minus_product(xp: Namespace, x: Array, t: Array) -> Array:
    """``exp(x) - t x``, PyTorch's operations (same bits), finite wherever the value is.

    Above x = 709 ``exp(x)`` overflows while ``exp(x) - t x`` may still be finite (``t``
    near ``exp(x) / x``), and ``inf - inf`` would be NaN where ``t x`` overflows too. There
    the value is computed scaled by 2**-64: ``exp(x - S) (1 + e) - (t 2**-64) x``, with
    ``S = 64 ln 2 - e`` subtracted exactly, and scaled back (inf where it is beyond the
    float64 range). From x = 750 on, ``exp(x)`` exceeds ``t x`` by more than the float64
    range for every finite ``t``: the value is inf.
    """
    large = x > _E_SWITCH
    if not any_true(xp, large):
        return xp.exp(x) - t * x
    small = xp.minimum(x, _E_SWITCH)  # never inf - inf
    value = xp.exp(small) - t * small
    clipped = xp.minimum(xp.maximum(x, _E_SWITCH), 750.0)
    scaled = xp.exp(clipped - _SHIFT) * (1.0 + _SHIFT_ERROR) - (t * 2.0**-64) * clipped
    big = xp.where(x >= 750.0, xp.full_like(x, math.inf), scaled * 2.0**32 * 2.0**32)
    return xp.where(large, big, value)


def _stirling(xp: Namespace, t: Array) -> Array:
    """PyTorch's Stirling term ``t log t - t + log(2 pi t) / 2`` where ``t > 1``, else 0."""
    above = t > 1.0
    s = xp.where(above, t, xp.ones_like(t))
    term = s * xp.log(s) - s + 0.5 * xp.log(2.0 * math.pi * s)
    return xp.where(above, term, xp.zeros_like(t))


_PRODUCT_RANGE = 2.0**996
"""Below this ``t`` the product ``t x`` (``|x| <= 709``) is within TwoProduct's range."""


def _exp_minus_product_exact(xp: Namespace, x: Array, t: Array) -> Array:
    """``exp(x) - t x`` to about an ulp of itself, for ``0 < x <= 709`` and ``t < 2**996``.

    ``exp(x)`` in double-double (:func:`exp_double`, about 2**-100) and ``t x`` exactly
    (TwoProduct): their difference, formed with TwoSum, is within ``2**-99 t x`` and
    1.5 ulp, 4 ulp wherever the two cancel by no more than 2**-47. Where
    ``|value| < 2**-40 t x`` the element is formed again with :func:`exp_triple`
    (:func:`_exp_minus_product_triple`).
    """
    m, m_low = exp_double(xp, x)
    p, p_error = two_product(t, x)
    s, s_error = two_sum(m, -p)
    value = s + (s_error + (m_low - p_error))
    flagged = xp.abs(value) < _POISSON_TRIPLE * p
    return refine_flagged(xp, value, flagged, _exp_minus_product_triple, x, t, harmless=(1.0, 1.0))


_POISSON_TRIPLE = 2.0**-40
"""Below the terms' size times this, a double-double value is formed again in triple length."""


def _exp_minus_product_triple(xp: Namespace, x: Array, t: Array) -> Array:
    """``exp(x) - t x`` for ``0 < x <= 709`` and ``t < 2**996``: ``exp(x)`` in three floats
    (:func:`exp_triple`, about 2**-150 relative), ``t x`` exactly (TwoProduct), summed by
    :func:`rounded_sum` (SumK, to about an ulp): within about ``2**-148 t x`` and an ulp,
    4 ulp wherever the two terms
    differ by more than 2**-96 of themselves."""
    e = exp_triple(xp, x)
    p, p_error = two_product(t, x)
    return rounded_sum([e[0], -p, e[1], -p_error, e[2]])


def _poisson_log_input(xp: Namespace, x: Array, t: Array, /, *, full: bool) -> Array:
    if full:
        # e^x - t x + t log t - t + log(2 pi t) / 2 = (t log(t / e^x) - t + e^x) + log(2 pi t) / 2:
        # the generalized KL divergence, >= 0, plus a positive term (t > 1): no cancellation,
        # where the two parts, each of size about t log t, would cancel as written.
        # Elsewhere (t <= 1, no Stirling term) the plain value, on NumPy for those elements only.
        s = xp.maximum(t, xp.ones_like(t))
        stirling = deviance_of_exp(xp, x, s) + 0.5 * xp.log(_TWO_PI * s)
        plain = functools.partial(_poisson_log_input, full=False)
        return refine_flagged(xp, stirling, t <= 1.0, plain, x, t)
    value = _exp_minus_product(xp, x, t)
    # exp(x) and t x are each rounded (exp to about an ulp): where they are within a
    # factor 3 of each other the difference is recomputed (:func:`_exp_minus_product_refined`),
    # elsewhere the plain one is within 3 ulp of the exact value. Beyond x = 709 the
    # scaled form is kept.
    product = t * x
    e = value + product  # exp(x), as rounded; only used to select
    needed = (x > 0.0) & (x <= _E_SWITCH) & (e < 3.0 * product) & (product < 3.0 * e)
    inside = t < _PRODUCT_RANGE
    value = refine_flagged(xp, value, needed & inside, _exp_minus_product_refined, x, t, harmless=(1.0, 1.0))
    return refine_flagged(xp, value, needed & ~inside, _exp_minus_product_scaled, x, t, harmless=(700.0, 2.0**996))


def _exp_minus_product_scaled(xp: Namespace, x: Array, t: Array) -> Array:
    """``exp(x) - t x`` for ``t >= 2**996`` (``x > 690`` where it is used): as
    :func:`_exp_minus_product_exact` of ``x - 64 ln 2`` (in double-double) and ``t 2**-64``
    (exact), within TwoProduct's range, scaled back by 2**64 (exactly, or to inf); in triple
    length where the two cancel to 2**-40 (:func:`_exp_minus_product_scaled_triple`)."""
    head, error = two_sum(x, xp.full_like(x, -64.0 * LN2[0]))
    m, m_low = exp_double(xp, head, error - 64.0 * LN2[1])
    p, p_error = two_product(t * 2.0**-64, x)
    d, d_error = two_sum(m, -p)
    value = d + (d_error + (m_low - p_error))
    flagged = xp.abs(value) < _POISSON_TRIPLE * p
    value = refine_flagged(xp, value, flagged, _exp_minus_product_scaled_triple, x, t, harmless=(700.0, 2.0**996))
    return value * 2.0**64


def _exp_minus_product_scaled_triple(xp: Namespace, x: Array, t: Array) -> Array:
    """``(exp(x) - t x) 2**-64`` as :func:`_exp_minus_product_triple`, ``64 ln 2`` subtracted
    from ``x`` in three floats (each product by 64 exact)."""
    _, ln2, _ = triple_constants()
    head, error = two_sum(x, xp.full_like(x, -64.0 * ln2[0]))
    e = exp_triple(xp, head, error, xp.full_like(x, -64.0 * ln2[1]), xp.full_like(x, -64.0 * ln2[2]))
    p, p_error = two_product(t * 2.0**-64, x)
    return rounded_sum([e[0], -p, e[1], -p_error, e[2]])


def _exp_minus_product_refined(xp: Namespace, x: Array, t: Array) -> Array:
    """``exp(x) - t x`` to about an ulp for ``0 < x <= 709`` and ``t < 2**996``: in float64
    the table-driven form (:func:`~neural_network.losses._table_kernels.exp_minus_product`)
    where it is within its bound (all but terms that cancel by more than 2**14), else
    :func:`_exp_minus_product_exact` (in double-double, or in three floats beyond 2**40)."""
    if x.dtype != xp.float64:
        return _exp_minus_product_exact(xp, x, t)
    value, accepted = _table_kernels.exp_minus_product(xp, x, t)
    return refine_flagged(xp, value, ~accepted, _exp_minus_product_exact, x, t, harmless=(1.0, 1.0))


def _poisson_log_input_derivative(xp: Namespace, x: Array, t: Array, /, *, full: bool) -> Array:
    return exp_less(xp, x, t)


def _poisson_rate(xp: Namespace, x: Array, t: Array, /, *, full: bool, eps: float) -> Array:
    # x - t log(x + eps), with 0 for the term where t == 0 (its limit; 0 * log(0) would be NaN).
    # x + eps = s + s_error exactly (Fast2Sum, both >= 0), and log(x + eps) = log s + s_error / s
    # to second order: near x + eps = 1, where log is small, the rounding of s alone would
    # be up to 2u / |log s| of it. Then libm's log 2u, the added correction u and the
    # product u: 4u of t log(x + eps); where that is within a factor 3 of |value|
    # (|value| >= x / 2): 12u, and the difference u: within 13u. Closer, the two terms
    # cancel: the value is formed from a table, in double-double or in three floats there
    # (_poisson_rate_close, _poisson_rate_exact, _poisson_rate_triple).
    s = x + eps
    s_error = (xp.maximum(x, eps) - s) + xp.minimum(x, eps)
    keep = t > 0.0
    s = exclude_zero(xp, s, keep)
    value = x - t * (xp.log(s) + s_error / s)
    close = keep & (xp.abs(value) < 0.5 * x)
    value = refine_flagged(xp, value, close, functools.partial(_poisson_rate_close, eps=eps), x, t, harmless=(1.0, 1.0))
    return value + _stirling(xp, t) if full else value


_RATE_CANCELLATION = 2.0**10
"""Largest ``(x + |t log(x + eps)|) / |value|`` for which :func:`_poisson_rate_close`'s table-driven value is kept."""


def _poisson_rate_close(xp: Namespace, x: Array, t: Array, /, *, eps: float) -> Array:
    """``x - t log(x + eps)`` where ``x`` and ``t log(x + eps)`` are within a factor 3.

    ``x + eps = s + s_error`` (Fast2Sum), ``log s = high + low`` from the table
    (:func:`~neural_network.losses._table_kernels.log_parts`, about 2**-68 absolute),
    ``t high = p + p_error`` (TwoProduct) and ``x - p`` with TwoSum: the value is then
    within about ``2**-66 (x + |t log|)`` and its last rounding, within 1.5 ulp where the
    terms cancel by no more than 2**10; beyond (x within 2**-10 of t log(x + eps)), the
    same with ``log s`` in double-double (:func:`log_double`, 2**-100), or in three
    floats (:func:`_poisson_rate_exact`).
    """
    s = x + eps
    s_error = (xp.maximum(x, eps) - s) + xp.minimum(x, eps)
    high, low = _table_kernels.log_parts(xp, s)
    low = low + s_error / s
    p, p_error = two_product(t, high)
    d, d_error = two_sum(x, -p)
    tail = d_error - (p_error + t * low)
    value = d + tail
    accepted = xp.abs(value) * _RATE_CANCELLATION >= x
    if not any_true(xp, ~accepted):
        return value
    return refine_flagged(xp, value, ~accepted, functools.partial(_poisson_rate_exact, eps=eps), x, t, harmless=(1.0, 1.0))


def _poisson_rate_exact(xp: Namespace, x: Array, t: Array, /, *, eps: float) -> Array:
    """``x - t log(x + eps)`` with ``x + eps`` (TwoSum) and its log (:func:`log_double`,
    about 2**-96 absolute) in double-double, ``t log`` by TwoProduct and the difference by
    TwoSum: within about ``2**-95 t`` and 1.5 ulp, 4 ulp wherever ``|value| >= 2**-43 t``.
    Where ``|value| < 2**-40 (x + t)`` the element is formed again in triple length
    (:func:`_poisson_rate_triple`)."""
    s, s_error = two_sum(x, xp.full_like(x, eps))
    high, low = log_double(xp, s)
    p, p_error = two_product(t, high)
    d, d_error = two_sum(x, -p)
    value = d + (d_error - (p_error + t * (low + s_error / s)))
    flagged = xp.abs(value) < _POISSON_TRIPLE * (x + t)
    triple = functools.partial(_poisson_rate_triple, eps=eps)
    return refine_flagged(xp, value, flagged, triple, x, t, harmless=(1.0, 1.0))


def _poisson_rate_triple(xp: Namespace, x: Array, t: Array, /, *, eps: float) -> Array:
    """``x - t log(x + eps)`` with ``x + eps = s + s_error`` (TwoSum), ``log s`` in three
    floats (:func:`log_triple`, about 2**-149 absolute), ``log(1 + s_error / s)`` as
    ``r - r**2 / 2`` with ``r`` in two floats (its remainder exact by TwoProduct; the next
    term is below 2**-159), each product by ``t`` by TwoProduct and the sum by
    :func:`rounded_sum` (SumK, to about an ulp): within about ``2**-148 (x + t)`` and an
    ulp, 4 ulp wherever
    ``|value| >= 2**-96 (x + t)``."""
    s, s_error = two_sum(x, xp.full_like(x, eps))
    log_s = log_triple(xp, s)
    r = s_error / s
    p, p_error = two_product(r, s)
    r_low = ((s_error - p) - p_error) / s - 0.5 * (r * r)
    a, a_error = two_product(t, log_s[0])
    b, b_error = two_product(t, log_s[1])
    c, c_error = two_product(t, r)
    return rounded_sum([x, -a, -b, -a_error, -c, -b_error, -c_error, -(t * log_s[2]), -(t * r_low)])


def _poisson_rate_derivative(xp: Namespace, x: Array, t: Array, /, *, full: bool, eps: float) -> Array:
    # 1 - t / (x + eps) = (x + eps - t) / (x + eps), which vanishes at t = x + eps: there
    # 1 - t / s would keep none of the digits it cancels. With x + eps = s + s_error
    # exactly (Fast2Sum, both >= 0), s - t is exact where t is within a factor 2 of s
    # (Sterbenz; elsewhere nothing cancels), and s_error / s, at most half an ulp, is
    # left out of the denominator: the numerator's rounding, that and the division's,
    # within 2.5 ulp. An element with t = 0 is 1: with eps > 0 (x >= 0) s is positive and
    # s + s_error rounds to s (the rounded sum x + eps), which s divides exactly; with
    # eps = 0, also where x + eps = 0, by a selection.
    s = x + eps
    s_error = (xp.maximum(x, eps) - s) + xp.minimum(x, eps)
    if eps > 0.0:
        return ((s - t) + s_error) / s
    keep = t > 0.0
    g = ((s - t) + s_error) / exclude_zero(xp, s, keep)
    return xp.where(keep, g, xp.ones_like(g))


@functools.lru_cache(maxsize=64)
def _poisson_nll_with(log_input: bool, full: bool, eps: float) -> ElementwiseLoss:
    if log_input:
        return ElementwiseLoss(
            name="poisson_nll_loss",
            input=Operand("input", REAL),
            target=Operand("target", COUNT),
            value=functools.partial(_poisson_log_input, full=full),
            derivative=functools.partial(_poisson_log_input_derivative, full=full),
        )
    return ElementwiseLoss(
        name="poisson_nll_loss",
        input=Operand("input", RATE),
        target=Operand("target", COUNT),
        value=functools.partial(_poisson_rate, full=full, eps=eps),
        derivative=functools.partial(_poisson_rate_derivative, full=full, eps=eps),
    )


def _poisson_nll(func: str, log_input: object, full: object, eps: object) -> ElementwiseLoss:
    meaning = "the constant added to input before its log (log_input=False): a finite number >= 0"
    return _poisson_nll_with(
        bool_option(func, "log_input", log_input),
        bool_option(func, "full", full),
        real_option(func, "eps", eps, meaning=meaning, low=0.0, low_included=True),
    )


def poisson_nll_loss(
    input: object,
    target: object,
    *,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Poisson negative log-likelihood: ``torch.nn.functional.poisson_nll_loss``.

    .. math:: \ell_i = \begin{cases} e^{x_i} - y_i x_i & \text{log\_input (default)} \\
                                     x_i - y_i \log(x_i + \varepsilon) & \text{otherwise}
                       \end{cases}

    the negative log-likelihood of the count ``y`` under a Poisson law of mean
    ``exp(x)`` (or ``x``), without the constant ``log(y!)``; ``full=True`` adds its
    Stirling approximation ``y log y - y + log(2 pi y) / 2`` where ``y > 1`` (0 elsewhere).

    Parameters
    ----------
    input : array_like
        The log of the predicted mean (``log_input=True``) or the mean itself, then
        non-negative.
    target : array_like
        Observed counts (or rates), non-negative, the same shape as ``input``.
    log_input : bool, keyword-only
        Whether ``input`` is the log of the mean (default True, as in PyTorch).
    full : bool, keyword-only
        Add the Stirling term (default False).
    eps : float, keyword-only
        Added to ``input`` inside the log when ``log_input=False`` (default 1e-8, as in
        PyTorch); ``eps=0`` is allowed (a zero mean with a positive count is then ``inf``).
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    poisson_nll_loss_grad : its gradient. poisson_loss : Keras's form. poisson_deviance :
        scikit-learn's, 0 at a perfect prediction.

    Notes
    -----
    PyTorch's formulas in float64 (float32 input is computed in float64 and rounded
    once), each element within 4 ulp of its exact value (3 measured) with
    ``log_input=True``, also where ``exp(x)`` and ``y x`` nearly cancel: there (where
    an error bound on the libm value exceeds 4 ulp) ``exp(x)`` is formed to about
    2**-67 from a table, or in double-double where the cancellation is beyond 2**14 (in
    three floats beyond 2**40, below), and ``y x`` exactly (PyTorch's difference is only
    within an ulp of the larger term). With ``full=True`` and ``y > 1`` the value is formed as
    ``(y log(y / e^x) - y + e^x) + log(2 pi y) / 2``, two non-negative terms, where the
    written form's ``e^x - y x`` and ``y log y - y`` cancel. A term ``y log(...)`` with
    ``y = 0`` is 0 (its limit; PyTorch gives NaN for ``x = 0, y = 0, eps = 0``).
    ``exp(x) - y x`` is computed without overflow where its value is finite: above
    ``x = 709`` (where ``exp(x)`` overflows) it is formed scaled by 2**-64, so that a
    large ``y`` can still cancel it (there to about an ulp of the larger term), and it is
    ``inf``, without a warning, only where the value exceeds the float64 range. With
    ``log_input=False`` the value is within 4 ulp where ``x`` and ``y log(x + eps)``
    differ by more than 2**-10 of ``x``; closer it is formed with ``log(x + eps)`` in
    double-double, or in three floats (below).

    Where the two terms cancel to within about 2**-40 of each other (``e^x = y x``, or
    ``x = y log(x + eps)``, to nearly every bit) the double-double ``exp`` or ``log``
    (2**-100) is not enough, and the element is formed again with the ``exp`` or ``log``
    in three floats (about 2**-149): within 4 ulp wherever the terms differ by more than
    about 2**-96 of themselves (0.8 measured on the tests' adversarial cases,
    ``tests/adversarial_counts.py``; closer, within about 2**-148 of the terms). The gradient
    ``e^x - y`` is within 4 ulp (1.9 measured), ``e^x`` formed from the table or in double-double where
    it is within a factor 2 of ``y`` (to about 2**-102 of ``y`` where ``x`` is ``log y``
    rounded); ``1 - y / (x + eps)`` as ``(x + eps - y) / (x + eps)``, within 2.5 ulp.

    Unlike PyTorch, a negative ``target`` is refused, and so is a negative ``input`` with
    ``log_input=False`` (PyTorch would take the log of ``input + eps``).

    Examples
    --------
    >>> print(poisson_nll_loss([0.0, 1.0], [1.0, 2.0], reduction="none"))
    [1.         0.71828183]
    """
    loss = _poisson_nll("poisson_nll_loss", log_input, full, eps)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def poisson_nll_loss_grad(
    input: object,
    target: object,
    *,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`poisson_nll_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = e^{x_i} - y_i
              \quad\text{or}\quad 1 - \frac{y_i}{x_i + \varepsilon}

    (the Stirling term does not depend on ``input``); scaled by the weights and, for
    ``"mean"``, divided by ``sum(w)``. Each element is within 4 ulp of the exact value,
    also near its zero (see :func:`poisson_nll_loss`'s notes).

    Examples
    --------
    >>> print(poisson_nll_loss_grad([0.0, 1.0], [1.0, 2.0], reduction="none"))
    [0.         0.71828183]
    """
    loss = _poisson_nll("poisson_nll_loss_grad", log_input, full, eps)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _poisson_nll_reference(
    xp: Namespace, x: Array, t: Array, /, *, log_input: bool = True, full: bool = False, eps: float = 1e-8
) -> Array:
    value = xp.exp(x) - t * x if log_input else x - xlogy(xp, t, x + eps)
    if full:  # Stirling's approximation of log(t!) where t > 1
        s = xp.where(t > 1, t, 1)
        value = value + xp.where(t > 1, s * xp.log(s) - s + xp.log(2 * xp.pi * s) / 2, 0)
    return value


def _poisson_nll_reference_grad(
    xp: Namespace, x: Array, t: Array, /, *, log_input: bool = True, full: bool = False, eps: float = 1e-8
) -> Array:
    if log_input:
        return xp.exp(x) - t
    return 1 - xp.where(t > 0, t / xp.where(t > 0, x + eps, 1), 0)


register("poisson_nll_loss", _poisson_nll_reference, _poisson_nll_reference_grad)


# --------------------------------------------------------------------------- Keras Poisson

_KERAS_EPSILON = 1e-7

_KERAS_POISSON = ElementwiseLoss(
    name="poisson_loss",
    input=Operand("input", RATE),
    target=Operand("target", COUNT),
    value=functools.partial(_poisson_rate, full=False, eps=_KERAS_EPSILON),
    derivative=functools.partial(_poisson_rate_derivative, full=False, eps=_KERAS_EPSILON),
)


def poisson_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Keras's Poisson loss: ``keras.losses.Poisson``.

    .. math:: \ell_i = x_i - y_i \log(x_i + 10^{-7})

    Parameters
    ----------
    input : array_like
        Predicted means (``y_pred``), non-negative.
    target : array_like
        Observed counts (``y_true``), non-negative, the same shape.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` is Keras's value (its mean over the last axis, then over the batch:
        the same for rows of equal length).
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    poisson_loss_grad : its gradient. poisson_nll_loss : the same with ``log_input=False``
        and ``eps=1e-7``.

    Notes
    -----
    Keras's formula with its ``epsilon()`` of 1e-7 (Keras's argument order is
    ``(y_true, y_pred)``; here, as everywhere in this package, ``(input, target)``).
    Keras does not check its arguments; here negative values are refused. Each value is
    within 4 ulp of the exact one (1.8 measured, also where ``x`` and ``y log(x + 1e-7)``
    cancel: ``log`` is then formed from a table or in double-double), and each gradient
    ``1 - y / (x + 1e-7)``, formed as ``(x + 1e-7 - y) / (x + 1e-7)``, within 2.5 ulp.

    Examples
    --------
    >>> print(poisson_loss([1.0, 2.0], [1.0, 0.0]))
    1.4999999500000025
    """
    return _KERAS_POISSON(input, target, reduction=reduction, sample_weight=sample_weight)


def poisson_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`poisson_loss` with respect to ``input``: ``1 - y / (x + 1e-7)``.

    Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. Each element is
    within 2.5 ulp of the exact value, also near its zero (``y`` near ``x + 1e-7``).

    Examples
    --------
    >>> print(poisson_loss_grad([1.0, 2.0], [1.0, 0.0], reduction="none"))
    [9.999999e-08 1.000000e+00]
    """
    return _KERAS_POISSON.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _poisson_loss_reference(xp: Namespace, x: Array, t: Array, /) -> Array:
    return x - xlogy(xp, t, x + _KERAS_EPSILON)


def _poisson_loss_reference_grad(xp: Namespace, x: Array, t: Array, /) -> Array:
    return 1 - xp.where(t > 0, t / xp.where(t > 0, x + _KERAS_EPSILON, 1), 0)


register("poisson_loss", _poisson_loss_reference, _poisson_loss_reference_grad)
