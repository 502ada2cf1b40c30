"""Losses for counts and positive quantities: Poisson likelihoods and the Tweedie deviances.

``poisson_nll_loss`` is PyTorch's, ``poisson_loss`` Keras's, and the deviances are
scikit-learn's ``mean_tweedie_deviance`` family; each per-element value with its
derivative beside it.

The deviances measure how far ``y`` is from the predicted mean ``mu``, and are 0 where
they meet: the textbook formulas subtract terms that nearly cancel there (for Poisson,
``y log(y / mu)`` against ``y - mu``), losing every digit as ``mu -> y``. Here the value
is formed from ``v = (y - mu) / (y + mu)``, where ``log(y / mu) = 2 atanh(v)``:

* Poisson: ``y log(y / mu) - y + mu = v (y - mu) + 2 y T(v)``,
* Gamma:   ``y / mu - 1 - log(y / mu) = v (y - mu) / mu - 2 T(v)``,

with ``T(v) = atanh(v) - v = v^3 / 3 + v^5 / 5 + ...`` summed as a series for
``|v| <= 1/3`` (18 terms, ``v^2 <= 1/9``: the omitted tail is below 2**-58 of the
result). In that range ``y / mu`` lies in [1/2, 2], so ``y - mu`` is exact (Sterbenz),
and the leading term ``v (y - mu) = (y - mu)^2 / (y + mu)`` carries no cancellation.
Outside it the terms differ by at least a factor of about 3.6 and the direct formula is
used, with ``log(y / mu)`` corrected for the rounding of the quotient. Other powers use
a binomial series in ``y / mu - 1`` near ``y = mu`` and, elsewhere, their three terms
formed from a table-driven ``log`` and ``exp`` (about 2**-66) where an error bound
allows, else in double-double (:func:`neural_network._numerics.exp_double`; see
:func:`_tweedie_general`).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from neural_network._numerics import (
    LN2,
    LN2_PARTS,
    _split,
    exp_double,
    log_double,
    power_of_two,
    two_product,
    two_sum,
)
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.errors import InvalidOptionError, describe
from neural_network.losses import _table_kernels
from neural_network.losses._common import _any, _option, _refined
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction

# --------------------------------------------------------------------------- domains


def _count_hint(low: float, high: float) -> str:
    return (
        " A Poisson target is a count or a rate, never negative. Standardized targets? "
        "Use the original (non-negative) scale. Swapped arguments? These functions take "
        "(input=prediction, target=observation); scikit-learn's take (y_true, y_pred)."
    )


def _rate_hint(low: float, high: float) -> str:
    return (
        " The predicted mean must be positive. A model that predicts log-means should apply "
        "exp first (or use poisson_nll_loss, whose default log_input=True takes the log-mean); "
        "swapped arguments? These functions take (input=y_pred, target=y_true), the opposite "
        "of scikit-learn's order."
    )


def _positive_target_hint(low: float, high: float) -> str:
    return (
        " This deviance is defined for positive observations only (scikit-learn refuses 0 "
        "too): use power between 1 and 2 (compound Poisson) for targets with zeros."
    )


COUNT = Domain("finite non-negative numbers (counts or rates)", 0.0, hint=_count_hint)
RATE = Domain("finite non-negative numbers (predicted rates)", 0.0, hint=_rate_hint)
POSITIVE_MEAN = Domain("finite positive numbers (predicted means)", 5e-324, hint=_rate_hint)
POSITIVE_TARGET = Domain("finite positive numbers", 5e-324, hint=_positive_target_hint)
NONNEGATIVE_TARGET = Domain("finite non-negative numbers", 0.0, hint=_count_hint)

_E_SWITCH = 709.0
"""exp(x) overflows above 709.78: beyond this the value is computed scaled."""

_SHIFT = 44.36141955583639
"""64 ln 2 rounded down to a multiple of 2**-43: ``x - _SHIFT`` is exact for ``x`` in [512, 1024)."""

_SHIFT_ERROR = -1.0806560032487666e-13
"""``_SHIFT - 64 ln 2``."""


def _exclude_zero(xp: Namespace, z: Array, keep: Array) -> Array:
    """``where(keep, z, 1)`` for ``z >= 0``: a harmless argument for a log whose factor is 0.

    On NumPy without ``where``: ``maximum(z, not keep)`` is ``z`` where ``keep`` (``z >= 0``)
    and at least 1 elsewhere, where its log is finite and multiplied by 0.
    """
    if isinstance(z, np.ndarray):
        return np.maximum(z, ~keep)
    return xp.where(keep, z, xp.ones_like(z))


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
    if not _any(xp, large):
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

    ``exp(x)`` in double-double (:func:`exp_double`) and ``t x`` exactly (TwoProduct):
    their difference, formed with TwoSum, keeps its relative accuracy however much the
    two cancel (up to a factor of about 2**45).
    """
    m, m_low = exp_double(xp, x)
    p, p_error = two_product(t, x)
    s, s_error = two_sum(m, -p)
    return s + (s_error + (m_low - p_error))


def _poisson_log_input(xp: Namespace, x: Array, t: Array, /, *, full: bool) -> Array:
    if full:
        # e^x - t x + t log t - t + log(2 pi t) / 2 = (t log(t / e^x) - t + e^x) + log(2 pi t) / 2:
        # the generalized KL divergence, >= 0, plus a positive term (t > 1): no cancellation,
        # where the two parts, each of size about t log t, would cancel as written.
        # Elsewhere (t <= 1, no Stirling term) the plain value, on NumPy for those elements only.
        s = xp.maximum(t, xp.ones_like(t))
        stirling = _deviance_of_exp(xp, x, s) + 0.5 * xp.log(_TWO_PI * s)
        plain = functools.partial(_poisson_log_input, full=False)
        return _refined(xp, stirling, t <= 1.0, plain, x, t)
    value = _exp_minus_product(xp, x, t)
    # exp(x) and t x are each rounded (exp to about an ulp): where they are within a
    # factor 3 of each other the difference is recomputed (:func:`_exp_minus_product_refined`),
    # elsewhere the plain one is within 3 ulp of the exact value. Beyond x = 709 the
    # scaled form is kept.
    product = t * x
    e = value + product  # exp(x), as rounded; only used to select
    needed = (x > 0.0) & (x <= _E_SWITCH) & (t < _PRODUCT_RANGE) & (e < 3.0 * product) & (product < 3.0 * e)
    return _refined(xp, value, needed, _exp_minus_product_refined, x, t, harmless=(1.0, 1.0))


def _exp_minus_product_refined(xp: Namespace, x: Array, t: Array) -> Array:
    """``exp(x) - t x`` to about an ulp for ``0 < x <= 709`` and ``t < 2**996``: in float64
    the table-driven form (:func:`~neural_network.losses._table_kernels.exp_minus_product`)
    where it is within its bound (all but terms that cancel by more than 2**14), else
    :func:`_exp_minus_product_exact`."""
    if x.dtype != xp.float64:
        return _exp_minus_product_exact(xp, x, t)
    value, accepted = _table_kernels.exp_minus_product(xp, x, t)
    return _refined(xp, value, ~accepted, _exp_minus_product_exact, x, t, harmless=(1.0, 1.0))


def _poisson_log_input_derivative(xp: Namespace, x: Array, t: Array, /, *, full: bool) -> Array:
    return xp.exp(x) - t


def _poisson_rate(xp: Namespace, x: Array, t: Array, /, *, full: bool, eps: float) -> Array:
    # x - t log(x + eps), with 0 for the term where t == 0 (its limit; 0 * log(0) would be NaN).
    # x + eps = s + s_error exactly (Fast2Sum, both >= 0), and log(x + eps) = log s + s_error / s
    # to second order: near x + eps = 1, where log is small, the rounding of s alone would
    # be up to 2u / |log s| of it. Then libm's log 2u, the added correction u and the
    # product u: 4u of t log(x + eps); where that is within a factor 3 of |value|
    # (|value| >= x / 2): 12u, and the difference u: within 13u. Closer, the two terms
    # cancel: the value is formed in double-double there (_poisson_rate_close).
    s = x + eps
    s_error = (xp.maximum(x, eps) - s) + xp.minimum(x, eps)
    keep = t > 0.0
    s = _exclude_zero(xp, s, keep)
    value = x - t * (xp.log(s) + s_error / s)
    close = keep & (xp.abs(value) < 0.5 * x)
    value = _refined(xp, value, close, functools.partial(_poisson_rate_close, eps=eps), x, t, harmless=(1.0, 1.0))
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
    same with ``log s`` in double-double (:func:`log_double`, 2**-100).
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
    if not _any(xp, ~accepted):
        return value
    return _refined(xp, value, ~accepted, functools.partial(_poisson_rate_exact, eps=eps), x, t, harmless=(1.0, 1.0))


def _poisson_rate_exact(xp: Namespace, x: Array, t: Array, /, *, eps: float) -> Array:
    """``x - t log(x + eps)`` with ``x + eps`` (TwoSum) and its log (:func:`log_double`) in
    double-double, ``t log`` by TwoProduct and the difference by TwoSum: within an ulp
    and a half however much the terms cancel (to about 2**-100 of them)."""
    s, s_error = two_sum(x, xp.full_like(x, eps))
    high, low = log_double(xp, s)
    p, p_error = two_product(t, high)
    d, d_error = two_sum(x, -p)
    return d + (d_error - (p_error + t * (low + s_error / s)))


def _poisson_rate_derivative(xp: Namespace, x: Array, t: Array, /, *, full: bool, eps: float) -> Array:
    return 1.0 - t / _exclude_zero(xp, x + eps, t > 0.0)


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


def _flag(func: str, name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidOptionError(
            f"{func}: {name} must be True or False; got {describe(value)}. Pass a Python bool."
        )
    return bool(value)


def _poisson_nll(func: str, log_input: object, full: object, eps: object) -> ElementwiseLoss:
    meaning = "the constant added to input before its log (log_input=False): a finite number >= 0"
    return _poisson_nll_with(
        _flag(func, "log_input", log_input),
        _flag(func, "full", full),
        _option(func, "eps", eps, meaning=meaning, low=0.0, low_included=True),
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
    2**-67 from a table, or in double-double where the cancellation is beyond 2**14,
    and ``y x`` exactly (PyTorch's difference is only within an ulp of the larger term). With ``full=True`` and ``y > 1`` the value is formed as
    ``(y log(y / e^x) - y + e^x) + log(2 pi y) / 2``, two non-negative terms, where the
    written form's ``e^x - y x`` and ``y log y - y`` cancel. A term ``y log(...)`` with
    ``y = 0`` is 0 (its limit; PyTorch gives NaN for ``x = 0, y = 0, eps = 0``).
    ``exp(x) - y x`` is computed without overflow where its value is finite: above
    ``x = 709`` (where ``exp(x)`` overflows) it is formed scaled by 2**-64, so that a
    large ``y`` can still cancel it (there to about an ulp of the larger term), and it is
    ``inf``, without a warning, only where the value exceeds the float64 range.

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
    ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(poisson_nll_loss_grad([0.0, 1.0], [1.0, 2.0], reduction="none"))
    [0.         0.71828183]
    """
    loss = _poisson_nll("poisson_nll_loss_grad", log_input, full, eps)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


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
    Keras does not check its arguments; here negative values are refused.

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

    Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(poisson_loss_grad([1.0, 2.0], [1.0, 0.0], reduction="none"))
    [9.99999901e-08 1.00000000e+00]
    """
    return _KERAS_POISSON.grad(input, target, reduction=reduction, sample_weight=sample_weight)


# --------------------------------------------------------------------------- deviances: pieces

_NEAR = 1.0 / 3.0
"""|v| below which the series is used: y / mu in [1/2, 2]."""

_ATANH_TAIL = tuple(1.0 / (2 * j + 1) for j in range(1, 19))
"""``(atanh(v) - v) / v^3 = 1/3 + v^2 / 5 + ...``: 18 terms suffice for ``v^2 <= 1/9``."""


def _atanh_tail(xp: Namespace, v: Array) -> Array:
    """``atanh(v) - v`` for ``|v| <= 1/3`` (larger ``|v|`` give a finite, unused value)."""
    z = v * v
    s = _ATANH_TAIL[-1] * z
    for c in _ATANH_TAIL[-2:0:-1]:
        s += c
        s *= z
    s += _ATANH_TAIL[0]
    return (v * z) * s


def _ratio(xp: Namespace, y: Array, mu: Array) -> tuple[Array, Array]:
    """``v = (y - mu) / (y + mu)`` and ``y - mu`` for ``y >= 0``, ``mu > 0``."""
    d = y - mu
    total = y + mu
    v = d / total
    overflow = xp.isinf(total)
    if _any(xp, overflow):  # only near the float64 limit: halve (exactly) and divide again
        v = xp.where(overflow, (0.5 * y - 0.5 * mu) / (0.5 * y + 0.5 * mu), v)
    return v, d


def _quotient(xp: Namespace, y: Array, mu: Array) -> tuple[Array, Array, Array]:
    """``q = fl(y / mu)``, ``log(y / mu)`` and ``y / mu - q``, for ``y > 0``, ``mu > 0``.

    ``y = q mu + r`` exactly (``r`` from TwoProduct where the operands are in its
    range), so ``y / mu = q + r / mu`` and ``log(y / mu) = log(q) + r / y`` to first
    order. Where TwoProduct could overflow or underflow the correction is left out
    (there ``|log(y / mu)| > 346`` and the quotient's half-ulp error hardly counts). A
    ``q`` beyond the float64 range is clipped to the largest float; where it under- or
    overflows the log is ``log(y) - log(mu)`` (far apart there: nothing cancels).
    """
    q = xp.minimum(y / mu, 1.7976931348623157e308)
    safe = (q < 2.0**500) & (mu < 2.0**500) & (y > 2.0**-900) & (q > 2.0**-500)
    one = xp.ones_like(q)
    qs, ms = xp.where(safe, q, one), xp.where(safe, mu, one)
    product, product_error = two_product(qs, ms)
    r = xp.where(safe, (xp.where(safe, y, product) - product) - product_error, xp.zeros_like(q))
    log_q = xp.log(q) + r / y
    outside = (q < 2.0**-1000) | (q >= 1.7976931348623157e308)
    if _any(xp, outside):  # the quotient under- or overflowed: the logs are far apart, no cancellation
        log_q = xp.where(outside, xp.log(y) - xp.log(mu), log_q)
    return q, log_q, r / mu


def _log_y_over_mu(xp: Namespace, y: Array, mu: Array, v: Array, near: Array) -> Array:
    """``log(y / mu)`` to about an ulp: ``2 atanh(v)`` near ``y = mu``, else the corrected log.

    Requires ``y > 0``.
    """
    series = 2.0 * (v + _atanh_tail(xp, v))
    return xp.where(near, series, _quotient(xp, y, mu)[1])


# --------------------------------------------------------------------------- Poisson deviance


def _poisson_deviance(xp: Namespace, mu: Array, y: Array, /) -> Array:
    """``2 (y log(y / mu) - y + mu)``, 0 at ``y = mu``, to a few ulp everywhere."""
    v, d = _ratio(xp, y, mu)
    near = xp.abs(v) <= _NEAR
    series = v * d + 2.0 * y * _atanh_tail(xp, v)
    positive = y > 0.0
    ys = xp.where(positive, y, mu)  # a harmless y where y == 0 (its term is 0)
    log_ratio = _quotient(xp, ys, mu)[1]
    far = xp.where(positive, y * log_ratio, xp.zeros_like(y)) - d
    return 2.0 * xp.where(near, series, far)


def _poisson_deviance_derivative(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2.0 * ((mu - y) / mu)


def _deviance_of_dd(xp: Namespace, y: Array, m: Array, m_low: Array) -> Array:
    """``y log(y / mu) - y + mu`` for ``mu = m + m_low`` (double-double, normal), ``y >= 0``.

    :func:`_poisson_deviance`'s forms (half of it) with a mean known to twice the
    working precision, and each step kept to about an ulp. Near ``y = mu`` (``|v| <= 1/3``,
    ``v = (y - mu) / (y + mu)``): ``v (y - mu) = (y - mu)**2 / (y + mu)`` with the
    difference, its square and the sum in double-double, then one division. Where the far
    form's terms ``y log(y / mu)`` and ``y - mu`` still cancel by a factor above about 1.6
    (``|v| <= 0.8``, ``y / mu`` within [1/9, 9]) they are formed in double-double too
    (:func:`log_double`, TwoProduct); beyond, the corrected libm log is enough.
    """
    d, d_error = two_sum(y, -m)
    d, d_error = two_sum(d, d_error - m_low)
    total, total_error = two_sum(y, m)
    total_error = total_error + m_low
    v = d / total
    overflow = xp.isinf(total)
    if _any(xp, overflow):  # only near the float64 limit: halve (exactly) and divide again
        v = xp.where(overflow, (0.5 * d) / (0.5 * y + 0.5 * m), v)
        total_error = xp.where(overflow, xp.zeros_like(v), total_error)
    near = xp.abs(v) <= _NEAR
    # (d + d_error)**2 / (total + total_error) to first order, d squared exactly where
    # TwoProduct can (|d| < 2**500); beyond, v d (a value near the float64 limit).
    inside = xp.abs(d) < 2.0**500
    dn = xp.where(inside, d, xp.zeros_like(d))
    square, square_error = two_product(dn, dn)
    quotient = square / total
    quotient = quotient + ((square_error + 2.0 * dn * d_error) - quotient * total_error) / total
    series = xp.where(inside, quotient, v * d) + 2.0 * y * _atanh_tail(xp, v)
    positive = y > 0.0
    ys = xp.where(positive, y, m)
    q, log_q, q_error = _quotient(xp, ys, m)
    log_ratio = log_q - m_low / m
    far = xp.where(positive, y * log_ratio, xp.zeros_like(y)) - (d + d_error)
    value = xp.where(near, series, far)
    middle = (~near) & (xp.abs(v) <= 0.8) & positive & (m < 2.0**500) & (m > 2.0**-500)
    operands = (y, m, m_low, q, q_error, d, d_error)
    return _refined(xp, value, middle, _far_deviance_exact, *operands, harmless=(1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0))


def _far_deviance_exact(
    xp: Namespace, y: Array, m: Array, m_low: Array, q: Array, q_error: Array, d: Array, d_error: Array
) -> Array:
    """``y log(y / mu) - (y - mu)`` with the log and the product in double-double.

    ``y / mu = q + q_error`` (``q_error`` the quotient's remainder over ``m``) divided by
    ``1 + m_low / m``: its log is ``log(q) + q_error / q - m_low / m`` to second order.
    """
    log_high, log_low = log_double(xp, q)
    log_low = log_low + (q_error / q - m_low / m)
    p, p_error = two_product(y, log_high)
    s, s_error = two_sum(p, -d)
    return s + (s_error + ((p_error + y * log_low) - d_error))


def _deviance_of_exp(xp: Namespace, x: Array, t: Array) -> Array:
    """``t log(t / e^x) - t + e^x`` (``t >= 0``), to a few ulp wherever it is finite.

    In float64 most elements take the table-driven form
    (:func:`~neural_network.losses._table_kernels.deviance_of_exp`, a few tens of
    operations each); those it does not accept, and other dtypes, take
    :func:`_deviance_of_exp_double`. Both are array-API code: every library computes
    the same operations for an element, and so gets the same bits.
    """
    if x.dtype != xp.float64 or t.dtype != xp.float64:
        return _deviance_of_exp_double(xp, x, t)
    value, accepted = _table_kernels.deviance_of_exp(xp, x, t)
    return _refined(xp, value, ~accepted, _deviance_of_exp_double, x, t)


def _deviance_of_exp_double(xp: Namespace, x: Array, t: Array) -> Array:
    """``t log(t / e^x) - t + e^x`` (``t >= 0``) in double-double, to a few ulp wherever it is finite.

    The deviance is homogeneous in ``(t, e^x)``: beyond ``|x| = 300`` both are scaled by
    ``2**k``, ``k = -round(x / ln 2)``, exactly (``x + k ln 2`` in double-double), so that
    ``e^x`` is formed in double-double (:func:`exp_double`) near 1, where the quotient's
    remainder is exact too, and the value is scaled back by one rounding. Where ``t 2**k``
    would reach 2**1000 (``t`` far above ``e^x``), or ``|x| > 1100``, the terms are far
    apart and ``t ((log t - x) - 1) + e^x`` is used.
    """
    zeros = xp.zeros_like(x)
    clipped = xp.clip(x, -1100.0, 1100.0)
    far = xp.abs(clipped) > 300.0
    scaled = _any(xp, far)
    k = xp.where(far, xp.round(clipped * (-1.0 / LN2[0])), zeros) if scaled else zeros
    ts = power_of_two(xp, t, k) if scaled else t
    regular = (xp.abs(x) <= 1100.0) & (ts < 2.0**1000)
    # x + k ln 2: the products with the first two parts are exact (|k| < 2**11, parts of
    # 27 bits) and each is added with TwoSum (k times the second is still about 1e-6)
    head, head_error = two_sum(clipped, k * LN2_PARTS[0])
    head, second_error = two_sum(head, k * LN2_PARTS[1])
    xs, xs_error = two_sum(head, (head_error + second_error) + k * LN2_PARTS[2])
    # Outside the regular range give the double-double path harmless operands (discarded).
    m, m_low = exp_double(xp, xp.where(regular, xs, zeros), xp.where(regular, xs_error, zeros))
    value = _deviance_of_dd(xp, xp.where(regular, ts, zeros), m, m_low)
    if scaled:
        value = power_of_two(xp, value, -k)
    if _any(xp, ~regular):
        log_t = xp.log(_exclude_zero(xp, t, t > 0.0))
        plain = t * ((log_t - x) - 1.0) + xp.exp(xp.minimum(x, 710.0))
        value = xp.where(regular, value, plain)
    return value


_TWO_PI = 2.0 * math.pi


# --------------------------------------------------------------------------- Gamma deviance


def _gamma_deviance(xp: Namespace, mu: Array, y: Array, /) -> Array:
    """``2 (log(mu / y) + y / mu - 1)``, 0 at ``y = mu``, to a few ulp everywhere."""
    v, d = _ratio(xp, y, mu)
    near = xp.abs(v) <= _NEAR
    series = v * (d / mu) - 2.0 * _atanh_tail(xp, v)
    # y / mu - 1 with both roundings kept: q - 1 (TwoSum) and the quotient's remainder.
    q, log_ratio, q_error = _quotient(xp, y, mu)
    u, u_error = two_sum(q, -1.0)
    # q clipped at the largest float (y / mu beyond the float64 range) overflows to inf here.
    far = (u - log_ratio) + (u_error + q_error)
    return 2.0 * xp.where(near, series, far)


def _gamma_deviance_derivative(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2.0 * (((mu - y) / mu) / mu)


# --------------------------------------------------------------------------- other powers


@functools.lru_cache(maxsize=64)
def _tweedie_series(power: float) -> tuple[float, ...]:
    """Coefficients ``c_k``, k = 2..23, of ``f(L) = sum c_k L^k`` (see :func:`_tweedie_general`).

    ``c_k = (1 + b + ... + b^(k-2)) / k!`` with ``b = 2 - power``, each rounded once
    from its exact rational value.
    """
    b = Fraction(2.0 - power)
    return tuple(float(sum(b**i for i in range(k - 1)) / math.factorial(k)) for k in range(2, 24))


@functools.lru_cache(maxsize=64)
def _tweedie_near(power: float) -> tuple[float, tuple[float, ...]]:
    """A bound ``X`` and coefficients ``e_j`` of ``g(x) = x^2 / 2 * sum_j e_j x^j`` for ``|x| <= X``.

    ``g(x) = ((1 + x)^b - 1 - b x) / (a b)`` (``a = 1 - power``, ``b = 2 - power``) is the
    binomial series ``sum_{k >= 2} binom(b, k) x^k / (a b)``: ``e_0 = 1`` and
    ``e_j = 2 (b - 2) ... (b - j - 1) / (j + 2)!``, each rounded once from its exact value.
    ``X`` is 1/4, smaller for large ``|b|``, so that at most 80 terms bring the omitted
    tail below 2**-60 of the sum.
    """
    b = Fraction(2.0 - power)
    bound = Fraction(1, 4)
    while True:
        terms = [Fraction(1)]
        product = Fraction(1)
        for j in range(1, 81):
            product *= (b - j - 1) / (j + 2)
            terms.append(product)
            if all(abs(t) * bound**i < Fraction(1, 2**62) for i, t in enumerate(terms[-3:], start=len(terms) - 3)):
                return float(bound), tuple(float(t) for t in terms)
        bound /= 2


def _split_fraction(value: Fraction) -> tuple[float, float]:
    """An exact rational as a double-double ``(high, low)``."""
    high = float(value)
    return high, float(value - Fraction(high))


@functools.lru_cache(maxsize=64)
def _tweedie_constants(power: float) -> tuple[tuple[float, float], ...]:
    """``b``, ``1 / (a b)``, ``1 / a`` and ``1 / b`` in double-double (``a = 1 - power``, ``b = 2 - power``).

    From the exact rationals: ``1 - power`` itself is rounded for some powers (-0.3).
    """
    a, b = 1 - Fraction(power), 2 - Fraction(power)
    return tuple(_split_fraction(c) for c in (b, 1 / (a * b), 1 / a, 1 / b))


def _times(high: Array, low: Array, constant: tuple[float, float]) -> tuple[Array, Array]:
    """``(high + low) * constant`` for a double-double constant, as ``(product, error)``."""
    p, p_error = two_product(high, constant[0])
    return p, p_error + (low * constant[0] + high * constant[1])


def _tweedie_exact(xp: Namespace, q: Array, q_error: Array, scale: Array, /, *, power: float) -> Array:
    """``2 mu^b (q^b / (a b) - q / a + 1 / b)``, ``q + q_error = y / mu``, ``scale = mu^b``, in double-double.

    ``L = log(q)`` (:func:`log_double`, corrected for ``q_error``) and ``q^b = exp(b L)``
    (:func:`exp_double`) are each formed to about 2**-100, and the three terms are summed
    in double-double: what they lose to cancellation (a factor of a few thousand at
    most outside the near range, see :func:`_tweedie_general`) stays far below an ulp.
    The terms are scaled by ``2**-k``, ``k = round(max(b L, L, 0) / ln 2)``, exactly, so
    that none overflows, and the result by ``2**k``.
    """
    b, inverse_ab, inverse_a, inverse_b = _tweedie_constants(power)
    log_high, log_low = log_double(xp, q)
    log_low = log_low + q_error / q
    e, e_error = _times(log_high, log_low, b)
    zeros = xp.zeros_like(q)
    k = xp.round(xp.maximum(xp.maximum(e, log_high), zeros) * (1.0 / LN2[0]))
    # e - k ln 2, the products with the first two parts of ln 2 exact (k < 2**11, parts of
    # 27 bits), each added with TwoSum
    head, head_error = two_sum(e, -k * LN2_PARTS[0])
    head, second_error = two_sum(head, -k * LN2_PARTS[1])
    r, r_error = two_sum(head, (head_error + second_error) + (e_error - k * LN2_PARTS[2]))
    power_high, power_low = exp_double(xp, r, r_error)  # q^b 2**-k
    unit = power_of_two(xp, xp.ones_like(q), -k)
    t1, t1_error = _times(power_high, power_low, inverse_ab)
    t2, t2_error = _times(q * unit, q_error * unit, inverse_a)
    s, s_error = two_sum(t1, -t2)
    s, s_sum_error = two_sum(s, unit * inverse_b[0])
    g_low = (s_error + s_sum_error) + ((t1_error - t2_error) + unit * inverse_b[1])
    g = scale * s + scale * g_low
    return 2.0 * power_of_two(xp, g, k)


@functools.lru_cache(maxsize=64)
def _tweedie_table_constants(power: float) -> tuple[float, ...]:
    """For :func:`~neural_network.losses._table_kernels.tweedie_terms`: ``b`` (``b = 2 - power``),
    its 26-bit high half (Veltkamp's split) and the rest, ``|b|``, ``a = 1 - power`` as
    ``(high, low)``, and ``1 / (a b)`` as its high half, the rest of its high part and its
    low part, each from the exact rationals."""
    (b, b_low), inverse_ab = _tweedie_constants(power)[:2]
    a_high, a_low = _split_fraction(1 - Fraction(power))
    b_head, b_rest = _split(b)
    c_head, c_rest = _split(inverse_ab[0])
    return (b, b_head, b_rest + b_low, abs(b), a_high, a_low, inverse_ab[0], c_head, c_rest, inverse_ab[1])


def _tweedie_far(xp: Namespace, q: Array, q_error: Array, scale: Array, /, *, power: float) -> Array:
    """:func:`_tweedie_exact`'s value: in float64 mostly the table-driven form's
    (:func:`~neural_network.losses._table_kernels.tweedie_terms`), the same operations
    in every array library."""
    if q.dtype != xp.float64:
        return _tweedie_exact(xp, q, q_error, scale, power=power)
    value, accepted = _table_kernels.tweedie_terms(xp, q, q_error, scale, _tweedie_table_constants(power))
    exact = functools.partial(_tweedie_exact, power=power)
    return _refined(xp, value, ~accepted, exact, q, q_error, scale, harmless=(2.0, 0.0, 1.0))


def _tweedie_log_form(xp: Namespace, mu: Array, ys: Array, scale: Array, /, *, power: float) -> Array:
    """The deviance from ``L = log(y / mu)`` rounded once, for ratios and means beyond :func:`_tweedie_exact`'s range.

    ``2 mu^b f(L)``, ``f(L) = (exp(L) expm1(a L) / a - expm1(L)) / b`` (or
    ``(expm1(b L) / b - expm1(L)) / a`` for ``1.5 < power < 2``, accurate as ``b -> 0``),
    a series in ``L`` where ``|L| max(1, |b|) <= 1``. Its terms cancel by small factors:
    a few tens of ulp.
    """
    a, b = 1.0 - power, 2.0 - power
    coefficients = _tweedie_series(power)
    v, _ = _ratio(xp, ys, mu)
    L = _log_y_over_mu(xp, ys, mu, v, xp.abs(v) <= _NEAR)
    s = coefficients[-1] * L
    for c in coefficients[-2:0:-1]:
        s += c
        s *= L
    s += coefficients[0]
    series = (L * L) * s
    # Above L = 700 exp(L) overflows: there f = (exp(L) (expm1(a L) / a - 1) + 1) / b,
    # never inf - inf.
    Ld = xp.minimum(L, 700.0)
    direct = (xp.exp(Ld) * (xp.expm1(a * Ld) / a) - xp.expm1(Ld)) / b
    if _any(xp, L > 700.0):
        huge = (xp.exp(L) * (xp.expm1(a * L) / a - 1.0) + 1.0) / b
        direct = xp.where(L > 700.0, huge, direct)
    if 1.5 < power < 2.0:  # b in (0, 1/2): divide by a instead; b L <= 700 keeps expm1 finite
        bounded = xp.abs(L) * b <= 700.0
        Lb = xp.where(bounded, L, xp.zeros_like(L))
        by_a = (xp.expm1(b * Lb) / b - xp.expm1(Lb)) / a
        direct = xp.where(bounded, by_a, direct)
    f = xp.where(xp.abs(L) * max(1.0, abs(b)) <= 1.0, series, direct)
    return 2.0 * (scale * f)


@functools.lru_cache(maxsize=64)
def _exponents(power: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """``a = 1 - power`` and ``b = 2 - power`` as double-doubles from the exact rationals: ``b``
    is rounded for ``power`` outside [1, 4], ``a`` outside [1/2, 2]."""
    return _split_fraction(1 - Fraction(power)), _split_fraction(2 - Fraction(power))


def _pow(xp: Namespace, base: Array, exponent: tuple[float, float]) -> Array:
    """``base^(high + low)``: libm's ``pow`` of the rounded exponent, corrected to first order
    where the exponent is not a float. Its rounding alone would cost ``|log base|`` ulp
    (``2**-53 |e log base|`` relative): 600 ulp at ``base = 1e-134``."""
    high, low = exponent
    value = xp.pow(base, high)
    if low == 0.0:
        return value
    return value + value * (low * xp.log(base))


def _power_times(xp: Namespace, z: Array, base: Array, exponent: tuple[float, float]) -> Array:
    """``z base^exponent`` as ``(z h) h``, ``h = base^(exponent / 2)``: finite (and not 0)
    wherever the product is, however far ``base^exponent`` alone is beyond the range (the
    partial product lies between ``z`` and the result). Two roundings and ``h``'s more
    than ``z * base**exponent``: used only where that over- or underflows."""
    h = _pow(xp, base, (exponent[0] / 2.0, exponent[1] / 2.0))
    return (z * h) * h


def _tweedie_terms_summed(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """``2 (y^b / (a b) - y mu^a / a + mu^b / b)``, each term formed within the range.

    For ratios ``y / mu`` beyond 2**+-500 (where it is used) the three terms differ by
    factors of 2**250 or more but where ``b`` or ``a`` is within about 2**-9 of 0 (the
    log form's concern): no cancellation, a few ulp. Each power is formed in two halves
    (:func:`_power_times`), so that a term within the range is never lost to its power
    alone; a term beyond it dominates a deviance that is then beyond it too (it is never
    negative): inf.
    """
    (a, a_low), (b, b_low) = _exponents(power)
    half = (b / 2.0, b_low / 2.0)
    y_half, mu_half = _pow(xp, y, half), _pow(xp, mu, half)  # each term in two halves
    terms = [(y_half / (a * b)) * y_half, -_power_times(xp, y, mu, (a, a_low)) / a, (mu_half / b) * mu_half]
    beyond = xp.isinf(terms[0]) | xp.isinf(terms[1]) | xp.isinf(terms[2])
    if _any(xp, beyond):
        zeros = xp.zeros_like(terms[0])
        terms = [xp.where(beyond, zeros, term) for term in terms]
    value = 2.0 * ((terms[0] + terms[1]) + terms[2])
    return xp.where(beyond, xp.full_like(value, math.inf), value)


_TERMS_APART = 2.0**-4
"""Where ``|a|`` and ``|b|`` are both at least this, the terms of a deviance at a ratio beyond
2**+-500 differ by factors above e^21 (:func:`_tweedie_extreme_ratio`)."""


_EXTREME_RATIO = 346.0
"""``|log(y / mu)|`` beyond which (ratios beyond about 2**+-500) :func:`_tweedie_extreme_ratio` is used."""


def _extreme_ratio_limit(power: float) -> float:
    """The smallest ``|L|`` at which :func:`_tweedie_extreme_ratio`'s forms keep their bound.

    The three terms differ by factors ``e^(|L| min(1, |a|, |b|))`` over constants within
    2**20 (``|power| <= 2**20``): from ``|L| min(1, |a|, |b|) >= 40`` at least e^26 apart,
    or, for ``|b| > 15``, from ``|L| |b| >= 600`` at least e^(600 / |b|) (the deviance of a
    moderate ratio then leaves the range before they meet). The forms for ``|a|`` or ``|b|``
    below 1/16 keep :data:`_EXTREME_RATIO`.
    """
    spread = min(1.0, abs(1.0 - power), abs(2.0 - power))
    if spread < _TERMS_APART or abs(power) > 2.0**20:
        return _EXTREME_RATIO
    return min(_EXTREME_RATIO, 40.0 / spread, 600.0 / max(1.0, abs(2.0 - power)))


def _tweedie_extreme_ratio(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """The deviance where ``y / mu`` is beyond 2**+-500 (``|L| > 346``, ``L = log(y / mu)``),
    or beyond :func:`_extreme_ratio_limit` where exact's range ends.

    The terms ``y^b / (a b)``, ``-y mu^a / a`` and ``mu^b / b`` (in units of ``mu^b``:
    ``e^(b L) / (a b)``, ``-e^L / a``, ``1 / b``) then differ by factors of at least
    ``e^(|L| min(|a|, |b|))`` (or of ``e^|L|``), more than e^21 where ``|a|, |b| >= 1/16``:
    their sum (:func:`_tweedie_terms_summed`) has no cancellation. No exponential of
    ``L`` appears, whose rounding (an ulp of ``L``, ``2**-45`` absolute at ``|L| = 400``)
    would cost hundreds of ulp. For ``|b| < 1/16`` the first and third terms nearly cancel;
    as ``g = expm1(b L) / (a b) - (q - 1) / a`` (``q = y / mu``) the deviance is
    ``2 (mu^b expm1(b L) / (a b) - (y - mu) mu^a / a)``, and for ``|a| < 1/16`` likewise
    ``2 (y mu^a expm1(a L) / (a b) - (y - mu) mu^a / b)``: two terms that differ by a factor
    of ``|L|`` or more, with ``L`` in double-double (:func:`log_double` of each) and
    ``b L`` (or ``a L``) formed exactly to first order, so that ``expm1`` sees its
    argument to 2**-100. Powers are formed in two halves (:func:`_power_times`).
    """
    (a, a_low), (b, b_low) = _exponents(power)
    if min(abs(a), abs(b)) >= _TERMS_APART or abs(power) > 2.0**20:
        return _tweedie_terms_summed(xp, mu, y, power=power)
    y_high, y_low = log_double(xp, y)
    m_high, m_low = log_double(xp, mu)
    L, L_error = two_sum(y_high, -m_high)
    L_error = L_error + (y_low - m_low)
    c, c_low = (b, b_low) if abs(b) < abs(a) else (a, a_low)
    product, product_error = two_product(L, xp.full_like(L, c))
    product_error = product_error + (c * L_error + c_low * L)
    e = xp.expm1(product)
    e = e + (e + 1.0) * product_error  # expm1(p + dp) = expm1(p) + e^p dp, to first order
    if abs(b) < abs(a):
        first = _power_times(xp, e / (a * b), mu, (b, b_low))
        second = _power_times(xp, (y - mu) / a, mu, (a, a_low))
    else:
        first = _power_times(xp, y * (e / (a * b)), mu, (a, a_low))
        second = _power_times(xp, (y - mu) / b, mu, (a, a_low))
    return 2.0 * (first - second)


def _tweedie_logged(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """:func:`_tweedie_log_form`, but where ``mu^b`` is beyond the float64 range (or 0) while
    the deviance is not (``0 * inf``, or a finite value lost) the sum of the terms
    (:func:`_tweedie_terms_summed`): there one term dominates."""
    scale = _pow(xp, mu, _exponents(power)[1])
    outside = (scale == 0.0) | xp.isinf(scale)
    value = _tweedie_log_form(xp, mu, y, xp.where(outside, xp.ones_like(scale), scale), power=power)
    lost = outside | ~xp.isfinite(value) | (value == 0.0)
    if _any(xp, lost):
        value = xp.where(lost, _tweedie_terms_summed(xp, mu, y, power=power), value)
    return value


def _tweedie_rescaled(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """The deviance of ``(mu, y)`` as ``2**(k b)`` times that of ``(mu 2**-k, y 2**-k)``.

    The deviance is ``mu^b g(y / mu)``: homogeneous of degree ``b`` in ``(mu, y)``. With
    ``k`` the nearest integer to ``log2(mu)`` both are scaled exactly (``y / mu`` is moderate
    where this is used, so ``y 2**-k`` is too) and the scaled mean is near 1, within every
    accurate form's range. ``k b`` is formed exactly (TwoProduct), ``2**(k b)`` as an exact
    power of two times ``2**f``, ``|f| <= 1/2`` (libm's ``pow``, an ulp): an ulp and two
    roundings more than the scaled deviance's bound.
    """
    b, b_low = _exponents(power)[1]
    k = xp.round(xp.log2(mu))
    scaled = _tweedie_general(xp, power_of_two(xp, mu, -k), power_of_two(xp, y, -k), power=power)
    kb, kb_error = two_product(k, xp.full_like(k, b))
    n = xp.clip(xp.round(kb), -2200.0, 2200.0)  # beyond, 0 or inf either way
    fraction = (kb - n) + (kb_error + k * b_low)
    # 2**n in two steps within power_of_two's range, the partial result between the two
    # ends (rounded only where the result is)
    half = xp.trunc(n * 0.5)
    return power_of_two(xp, power_of_two(xp, scaled * xp.pow(xp.full_like(k, 2.0), fraction), half), n - half)


def _tweedie_general(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    """scikit-learn's deviance for ``power`` not in {0, 1, 2}.

    ``2 (y^b / (a b) - y mu^a / a + mu^b / b)`` with ``a = 1 - power``, ``b = 2 - power``
    is ``2 mu^b g(x)`` for ``y > 0``, where ``x = y / mu - 1`` and
    ``g(x) = ((1 + x)^b - 1 - b x) / (a b)``, 0 at ``x = 0`` where its terms cancel. For
    ``|x| <= X`` (1/4 for moderate powers, see :func:`_tweedie_near`) the deviance is
    ``mu^b x^2 h(x)``, the binomial series ``h(x) = 1 + (b - 2) x / 3 + ...``, with ``x``
    known exactly (``y / mu`` is within [3/4, 5/4]: ``fl(y / mu) - 1`` is exact and the
    quotient's remainder is recovered by TwoProduct) and ``x^2`` formed in double-double:
    nothing cancels. Elsewhere ``g = q^b / (a b) - q / a + 1 / b`` (``q = y / mu``) is
    formed from a table-driven log and exp (:func:`_tweedie_far`) where its
    bound allows, else in double-double (:func:`_tweedie_exact`): there its terms cancel by at most
    ``2 / (|a b| X^2)``, a few thousand, which the double-double precision absorbs.
    Ratios beyond 2**+-500, means beyond 2**+-500 and ``mu^b`` beyond 2**+-1000 keep the
    form in ``log(y / mu)`` (:func:`_tweedie_log_form`). For ``power < 0`` and ``y <= 0``
    the deviance is ``2 (-y mu^a / a + mu^b / b)``, a sum of non-negative terms.
    """
    b = 2.0 - power
    positive = y > 0.0
    ys = xp.where(positive, y, mu)
    scale = _pow(xp, mu, _exponents(power)[1])
    q, log_q, q_error = _quotient(xp, ys, mu)
    # Near y = mu: mu^b x^2 h(x), x = y / mu - 1 in double-double.
    bound, terms = _tweedie_near(power)
    x_head = q - 1.0
    near = (xp.abs(x_head) <= bound) & (mu < 2.0**500) & (ys > 2.0**-900)
    value = xp.zeros_like(q)
    if _any(xp, near):
        one = xp.ones_like(q)
        qs, ms, yn = xp.where(near, q, one), xp.where(near, mu, one), xp.where(near, ys, one)
        product, product_error = two_product(qs, ms)
        # x = (q - 1) + x_tail exactly to first order; q - 1 is exact but x_tail need not be
        # small beside it (q - 1 may be a few ulp of 1): renormalize before squaring.
        xn, x_tail = two_sum(xp.where(near, x_head, xp.zeros_like(q)), ((yn - product) - product_error) / ms)
        h = terms[-1] * xn
        for t in terms[-2:0:-1]:
            h += t
            h *= xn
        h += terms[0]
        square, square_error = two_product(xn, xn)
        x2 = square + (square_error + 2.0 * (xn * x_tail))
        # h(x) with x's tail: h'(x) ~ e_1, first order
        h = h + terms[1] * x_tail
        value = xp.where(near, (xp.where(near, scale, one) * x2) * h, value)
    far = positive & ~near
    exact = (
        far & (q > 2.0**-500) & (q < 2.0**500) & (mu < 2.0**500) & (ys > 2.0**-900)
        & (scale > 2.0**-1000) & (scale < 2.0**1000)
        # the deviance, at most about mu^b max(q, 1 / q)^max(1, |b|), within the range
        & (xp.log(scale) + xp.abs(log_q) * max(1.0, abs(b)) <= 700.0)
    )
    # Ratios beyond 2**+-500, or far enough apart for the terms where exact's range ends (see
    # _tweedie_extreme_ratio and _extreme_ratio_limit)
    extreme = far & ((xp.abs(log_q) >= _EXTREME_RATIO) | (~exact & (xp.abs(log_q) >= _extreme_ratio_limit(power))))
    harmless = (1.0, 2.0)  # mu, y
    value = _refined(xp, value, extreme, functools.partial(_tweedie_extreme_ratio, power=power), mu, ys, harmless=harmless)
    # A moderate ratio outside exact's range (a mean beyond 2**+-500, or mu^b beyond
    # 2**+-1000): the same deviance of mu and y scaled alike to a mean near 1, where the
    # forms in log(y / mu) take what exact's range still leaves out (large |b| only).
    unit = (mu >= 0.5) & (mu <= 2.0)
    outside = far & ~exact & ~extreme
    rescaled = functools.partial(_tweedie_rescaled, power=power)
    value = _refined(xp, value, outside & ~unit, rescaled, mu, ys, harmless=harmless)
    logged = functools.partial(_tweedie_logged, power=power)
    value = _refined(xp, value, outside & unit, logged, mu, ys, harmless=harmless)
    far_form = functools.partial(_tweedie_far, power=power)
    value = _refined(xp, value, exact, far_form, q, q_error, scale, harmless=(2.0, 0.0, 1.0))
    if power > 0.0:  # 1 < power < 2 allows y == 0: the deviance is then 2 mu^b / b
        return xp.where(positive, value, (2.0 / b) * scale)
    # power < 0: y may be zero or negative (scikit-learn's max(y, 0)^b is 0 there). That
    # branch is evaluated for every element by where(): give the others harmless values
    # (mu = 1, y = 0), or a huge mu there would make inf - inf and a warning for nothing.
    a = 1.0 - power
    y_other = xp.where(positive, xp.zeros_like(y), y)
    mu_other = xp.where(positive, xp.ones_like(mu), mu)
    scale_other = xp.where(positive, xp.ones_like(scale), scale)
    other = 2.0 * ((0.0 - y_other) * _pow(xp, mu_other, _exponents(power)[0]) / a + scale_other / b)
    return xp.where(positive, value, other)


def _tweedie_general_derivative(xp: Namespace, mu: Array, y: Array, /, *, power: float) -> Array:
    # d/dmu 2 (-y mu^a / a + mu^b / b) = 2 (mu - y) mu^(-power); where mu^(-power) alone
    # is beyond the range (or the product is only through it), in two halves.
    d = mu - y
    h = xp.pow(mu, -power)
    g = d * h
    lost = (h < 2.0**-1022) | xp.isinf(h) | xp.isinf(g) | ((xp.abs(g) < 2.0**-1022) & (d != 0.0))
    if _any(xp, lost):
        g = xp.where(lost, _power_times(xp, d, mu, (-power, 0.0)), g)
    return 2.0 * g


def _squared(xp: Namespace, mu: Array, y: Array, /) -> Array:
    d = mu - y
    return d * d


def _squared_derivative(xp: Namespace, mu: Array, y: Array, /) -> Array:
    return 2.0 * (mu - y)


@functools.lru_cache(maxsize=64)
def _tweedie_with(power: float, name: str) -> ElementwiseLoss:
    if power == 0.0:
        input, target, value, derivative = REAL, REAL, _squared, _squared_derivative
    elif power == 1.0:
        input, target, value, derivative = (
            POSITIVE_MEAN, NONNEGATIVE_TARGET, _poisson_deviance, _poisson_deviance_derivative,
        )
    elif power == 2.0:
        input, target, value, derivative = (
            POSITIVE_MEAN, POSITIVE_TARGET, _gamma_deviance, _gamma_deviance_derivative,
        )
    else:
        target = REAL if power < 0 else NONNEGATIVE_TARGET if power < 2 else POSITIVE_TARGET
        input = POSITIVE_MEAN
        value = functools.partial(_tweedie_general, power=power)
        derivative = functools.partial(_tweedie_general_derivative, power=power)
    return ElementwiseLoss(
        name=name,
        input=Operand("input", input),
        target=Operand("target", target),
        value=value,
        derivative=derivative,
    )


def _tweedie(func: str, power: object) -> ElementwiseLoss:
    meaning = "the Tweedie power: a finite number <= 0 or >= 1"
    p = _option(func, "power", power, meaning=meaning, low=-math.inf, low_included=False)
    if 0.0 < p < 1.0:
        raise InvalidOptionError(
            f"{func}: power must be <= 0 or >= 1; got power={p!r}. No Tweedie distribution has "
            "a power strictly between 0 and 1 (scikit-learn refuses it too). power=0 is the "
            "squared error, 1 Poisson, 2 Gamma, 3 inverse Gaussian."
        )
    return _tweedie_with(p, func.removesuffix("_grad"))


_POISSON_DEVIANCE = _tweedie_with(1.0, "poisson_deviance")
_GAMMA_DEVIANCE = _tweedie_with(2.0, "gamma_deviance")


def tweedie_deviance(
    input: object,
    target: object,
    *,
    power: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Tweedie deviance: scikit-learn's ``mean_tweedie_deviance``.

    .. math:: \ell_i = 2\Bigl(\frac{\max(y_i, 0)^{2-p}}{(1-p)(2-p)}
                        - \frac{y_i\, \mu_i^{1-p}}{1-p} + \frac{\mu_i^{2-p}}{2-p}\Bigr)

    with ``mu = input`` and ``y = target``; the limits ``(mu - y)^2`` for ``p = 0``,
    ``2 (y log(y / mu) - y + mu)`` for ``p = 1`` (Poisson) and
    ``2 (log(mu / y) + y / mu - 1)`` for ``p = 2`` (Gamma).

    Parameters
    ----------
    input : array_like
        Predicted means ``y_pred``: positive (any real number for ``power=0``). Note
        the order: scikit-learn takes ``(y_true, y_pred)``.
    target : array_like
        Observations ``y_true``, the same shape: any real number for ``power <= 0``,
        non-negative for ``1 <= power < 2``, positive for ``power >= 2``.
    power : float, keyword-only
        ``<= 0`` or ``>= 1`` (default 0.0, as in scikit-learn).
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"mean"`` is scikit-learn's value.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``, as
        scikit-learn's ``sample_weight`` (given per element).

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    Raises
    ------
    InvalidOptionError
        If ``0 < power < 1``.
    OutOfRangeError
        If an argument is outside its domain for ``power`` (as scikit-learn refuses it).

    See Also
    --------
    tweedie_deviance_grad : its gradient, ``2 (mu - y) mu^(-p)``.
    poisson_deviance, gamma_deviance : ``power=1`` and ``power=2``.

    Notes
    -----
    scikit-learn evaluates the formula above as written, whose terms cancel as
    ``mu -> y`` (where the deviance is 0): with ``mu`` within 1e-9 of ``y`` its
    deviance has few correct digits. Here the deviance is formed from ``log(y / mu)``
    and ``(y - mu) / (y + mu)`` with series where the terms would cancel (see the
    module's notes), so the Poisson and Gamma deviances are within a few ulp of the
    exact value everywhere. For other powers a binomial series in ``y / mu - 1`` (known
    exactly) covers ``|y / mu - 1| <= 1/4`` (less for ``|2 - p| > 4``); farther out the
    three terms are formed from ``log`` and ``exp`` to about 2**-66 (a table) where an
    error bound allows it, else in double-double (to about 2**-100), so that their
    cancellation costs nothing. Each element is within 4 ulp of the exact
    value (3 measured, powers -1 to 10, ``mu`` and ``y`` over 12 decades), also for
    ``p`` near 1 or 2. Ratios ``y / mu`` or means beyond 2**+-500 (or ``mu^(2-p)``
    beyond 2**+-1000) keep a form in ``log(y / mu)`` rounded once: a few tens of ulp.

    Examples
    --------
    scikit-learn's example (``mean_tweedie_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.],
    power=1)``, 1.4260...):

    >>> print(tweedie_deviance([0.5, 0.5, 2.0, 2.0], [2, 0, 1, 4], power=1))
    1.4260151319598084
    """
    loss = _tweedie("tweedie_deviance", power)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def tweedie_deviance_grad(
    input: object,
    target: object,
    *,
    power: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`tweedie_deviance` with respect to ``input`` (``mu``).

    .. math:: \frac{\partial \ell_i}{\partial \mu_i} = 2\,(\mu_i - y_i)\,\mu_i^{-p}

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(tweedie_deviance_grad([1.0, 2.0], [1.0, 1.0], power=2, reduction="none"))
    [0.  0.5]
    """
    loss = _tweedie("tweedie_deviance_grad", power)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def poisson_deviance(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Poisson deviance: scikit-learn's ``mean_poisson_deviance``.

    .. math:: \ell_i = 2\,\bigl(y_i \log(y_i / \mu_i) - y_i + \mu_i\bigr)

    (``y log(y / mu) = 0`` for ``y = 0``); :func:`tweedie_deviance` with ``power=1``.
    ``input`` is the predicted mean ``mu > 0`` and ``target`` the count ``y >= 0``
    (scikit-learn's order is ``(y_true, y_pred)``). Each element is within a few ulp of
    the exact value, also where ``mu`` is close to ``y`` (see :func:`tweedie_deviance`).

    Examples
    --------
    scikit-learn's example (``mean_poisson_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.])``, 1.4260...):

    >>> print(poisson_deviance([0.5, 0.5, 2.0, 2.0], [2, 0, 1, 4]))
    1.4260151319598084
    """
    return _POISSON_DEVIANCE(input, target, reduction=reduction, sample_weight=sample_weight)


def poisson_deviance_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`poisson_deviance` with respect to ``input``: ``2 (mu - y) / mu``.

    Examples
    --------
    >>> print(poisson_deviance_grad([1.0, 2.0], [1.0, 1.0], reduction="none"))
    [0. 1.]
    """
    return _POISSON_DEVIANCE.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def gamma_deviance(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gamma deviance: scikit-learn's ``mean_gamma_deviance``.

    .. math:: \ell_i = 2\,\bigl(\log(\mu_i / y_i) + y_i / \mu_i - 1\bigr)

    :func:`tweedie_deviance` with ``power=2``: ``input`` is the predicted mean ``mu > 0``
    and ``target`` the observation ``y > 0`` (scikit-learn's order is ``(y_true, y_pred)``).
    Scale-invariant: it depends on ``y / mu`` only. Each element is within a few ulp of
    the exact value, also where ``mu`` is close to ``y``.

    Examples
    --------
    scikit-learn's example (``mean_gamma_deviance([2, 0.5, 1, 4], [0.5, 0.5, 2., 2.])``, 1.0568...):

    >>> print(gamma_deviance([0.5, 0.5, 2.0, 2.0], [2, 0.5, 1, 4]))
    1.0568528194400546
    """
    return _GAMMA_DEVIANCE(input, target, reduction=reduction, sample_weight=sample_weight)


def gamma_deviance_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`gamma_deviance` with respect to ``input``: ``2 (mu - y) / mu^2``.

    Examples
    --------
    >>> print(gamma_deviance_grad([1.0, 2.0], [1.0, 1.0], reduction="none"))
    [0.  0.5]
    """
    return _GAMMA_DEVIANCE.grad(input, target, reduction=reduction, sample_weight=sample_weight)

