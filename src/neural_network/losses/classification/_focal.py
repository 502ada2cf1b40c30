r"""The binary focal loss (Lin et al. 2017), and the options the focal losses share.

An element-wise loss (the loss engine of :mod:`neural_network.losses._elementwise`
evaluates it), written in terms of ``1 - p_t``, the probability the model gives to the
other label, computed without the cancellation of ``1 - p`` when ``p`` is near 1: from
logits as ``sigmoid(-x)``. From logits the value and the gradient are carried in
double-double and rounded once. The categorical focal loss is in
:mod:`neural_network.losses.multiclass._focal`.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from neural_network._numerics import exp_double, log_double, sigmoid_pair, softplus_pair, two_product, two_sum
from neural_network._validation import LABEL, PROBABILITY, REAL, Array, Namespace
from neural_network.errors import InvalidOptionError
from neural_network.losses._common import real_option
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses.classification._binary import (
    bce_values,
    binary_cross_entropy_derivative,
    refuse_swapped,
)

# --------------------------------------------------------------------------- options


def gamma_option(func: str, gamma: object) -> float:
    return real_option(
        func, "gamma", gamma, meaning="the focusing exponent: a finite number >= 0 (0 gives the cross-entropy)",
        low=0.0, low_included=True,
    )


def _alpha(func: str, alpha: object) -> float | None:
    if alpha is None:
        return None
    return real_option(
        func, "alpha", alpha, meaning="the weight of the positive class: a number in [0, 1], or None for no weighting",
        low=0.0, low_included=True, high=1.0,
    )


def from_logits_option(func: str, from_logits: object) -> bool:
    if not isinstance(from_logits, (bool, np.bool_)):
        raise InvalidOptionError(
            f"{func}: from_logits must be True or False; got {from_logits!r}. True: input holds "
            "logits (raw scores); False: input holds probabilities."
        )
    return bool(from_logits)


def focal_power(xp: Namespace, m: Array, gamma: float) -> Array:
    """``m ** gamma`` for ``m >= 0`` (``0 ** 0 = 1``), with the common exponents as products."""
    if gamma == 2.0:
        return m * m
    if gamma == 1.0:
        return m
    if gamma == 0.0:
        return xp.ones_like(m)
    return xp.pow(m, gamma)


def focal_power_below(xp: Namespace, m: Array, gamma: float) -> Array:
    """``m ** (gamma - 1)`` where ``m > 0``, and 0 where ``m == 0`` (every caller multiplies it
    by a factor that is 0 there: the limit of the product is 0)."""
    if gamma == 1.0:
        return xp.ones_like(m)
    if gamma == 2.0:
        return m
    positive = m > 0.0
    return xp.where(positive, xp.pow(xp.where(positive, m, 1.0), gamma - 1.0), 0.0)


# --------------------------------------------------------------------------- binary focal loss


def _alpha_weight(xp: Namespace, y: Array, alpha: float | None, value: Array) -> Array:
    """``alpha_t * value`` with ``alpha_t = alpha y + (1 - alpha)(1 - y)``; a zero weight gives 0
    even against an infinite value."""
    if alpha is None:
        return value
    a = alpha * y + (1.0 - alpha) * (1.0 - y)
    return a * xp.where(a > 0.0, value, 0.0)


Pair = tuple[Array, Array]
"""A double-double number ``high + low`` (``|low| <= ulp(high)``), element-wise."""


def _times(a: Pair, b: Pair) -> Pair:
    high, error = two_product(a[0], b[0])
    return two_sum(high, error + (a[0] * b[1] + a[1] * b[0]))


def _plus(a: Pair, b: Pair) -> Pair:
    high, error = two_sum(a[0], b[0])
    return two_sum(high, error + (a[1] + b[1]))


_HUGE = 2.0**990
"""Beyond this ``|x|`` the cross-entropies are scaled by 2**-64 before their double-double
products, whose splitting (see ``two_product``) would overflow near the largest float."""


def _focal_logits(xp: Namespace, x: Array, y: Array, /, *, gamma: float, alpha: float | None) -> Array:
    """``m**gamma * CE`` in double-double, rounded once (for ``gamma`` 0, 1 or 2).

    CE = y softplus(-x) + (1 - y) softplus(x) and m = 1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x):
    non-negative terms each, to full relative accuracy in both tails (no 1 - sigmoid).
    In float64 the loss multiplies the error of ``exp`` about three-fold (twice through
    ``m**2``, once through CE): 5 ulp measured, 14 bounded for a libm within 1 ulp. Here
    ``t = exp(-|x|)`` comes from ``exp_double`` (table-driven, no libm), ``log1p(t)`` from
    ``log_double`` (libm's log and a Newton step), and every sum and product keeps its
    rounding error, all to about 2**-100: the result is rounded once (half an ulp),
    plus ``pow``'s error for another ``gamma`` (an ulp) and that of ``alpha``'s weight.
    """
    t, t_low = exp_double(xp, -xp.abs(x))
    s, c = two_sum(1.0 + 0.0 * t, t)  # 1 + t = s + c, s in [1, 2]
    c = c + t_low
    r = 1.0 / s
    p, p_error = two_product(r, s)
    d = (p - 1.0) + (p_error + r * c)  # r (1 + t) - 1, about 2**-53
    big = two_sum(r, -(r * d))  # 1 / (1 + t)
    small = _times((t, t_low), big)  # t / (1 + t)
    positive = x >= 0
    sigmoid_x = (xp.where(positive, big[0], small[0]), xp.where(positive, big[1], small[1]))
    sigmoid_neg_x = (xp.where(positive, small[0], big[0]), xp.where(positive, small[1], big[1]))
    log_s, log_s_low = log_double(xp, s)
    tail = two_sum(log_s, log_s_low + c / s)  # log1p(t) = log(s) + log1p(c / s), c / s ~ 2**-53
    scale = xp.where(xp.abs(x) > _HUGE, 0.0 * t + 2.0**-64, 0.0 * t + 1.0)
    softplus_x = _plus((scale * xp.maximum(x, 0.0), 0.0 * t), (scale * tail[0], scale * tail[1]))
    softplus_neg_x = _plus((scale * xp.maximum(-x, 0.0), 0.0 * t), (scale * tail[0], scale * tail[1]))
    label = (y, 0.0 * y)
    rest = two_sum(1.0 + 0.0 * y, -y)  # 1 - y, exactly
    ce = _plus(_times(label, softplus_neg_x), _times(rest, softplus_x))
    m = _plus(_times(label, sigmoid_neg_x), _times(rest, sigmoid_x))
    if gamma == 0.0:
        value = ce[0] + ce[1]
    elif gamma == 1.0:
        value = _times(m, ce)[0]
    elif gamma == 2.0:
        value = _times(_times(m, m), ce)[0]
    else:
        # m**gamma (1 + m_low / m)**gamma, to first order in m_low / m (about 2**-53)
        power = xp.pow(m[0], gamma)
        correction = gamma * (m[1] / xp.where(m[0] > 0.0, m[0], 1.0))
        value = _times((power, power * correction), ce)[0]
    return _alpha_weight(xp, y, alpha, value / scale)


def _focal_logits_derivative(
    xp: Namespace, x: Array, y: Array, /, *, gamma: float, alpha: float | None
) -> Array:
    # d/dx [m^g CE] = g m^g r (1 - 2y) CE + m^g (sigmoid(x) - y), with m = 1 - p_t and
    # r = sigmoid(x) sigmoid(-x) / m = dm/dx / ((1 - 2y) m), which lies in [0, 1]. For a
    # hard label both terms have the sign of 1 - 2y: nothing cancels.
    #
    # Error bound (tests/error_model.py: U = 2**-53 per rounding, 2U per libm call), hard
    # labels, first order; by symmetry x >= 0, e = exp(-x) with error eta (|eta| <= 2U),
    # w = e / (1 + e) <= 1/2. sigmoid_pair: 1 / (1 + e) two roundings (1 / s and the
    # correction; the rounding of 1 + e is compensated), 2U - w eta; e / (1 + e) one more,
    # 3U + (1 - w) eta. softplus: log1p 2U + k eta (k <= 1.45 w), plus max(+-x, 0): 3U.
    # m, CE and the slope are then selected exactly (products by 1 and 0); r's factor m
    # cancels exactly: the other sigmoid's error and 2U. T1 = m^g slope: 3(g + 1)U + 3U
    # (pow 2U and the product; 11U for g = 2, where m^2 is a product); T2 = g(1 - 2y)
    # (m^g r) CE: 3gU + 2U (pow), 3U + 2U (r), 3U (CE), 3U (three products): (3g + 13)U
    # (17U for g = 2 and 13U for g = 1, where the product by g(1 - 2y) is exact). G = T1 +
    # T2, one sign: the larger and U. exp's eta passes through m^(g + 1) at most:
    # (g + 1) 2U. alpha_t (1 - alpha rounded) and its product: 2U. In all: 7 ulp for
    # g = 0, 20 for g = 1, 26 for g = 2, (5g + 18) otherwise (35.5 at the tests' g = 3.5),
    # registered as 36. With exp and log1p each off by an ulp the
    # tests measure up to 12.8 (3.9 with NumPy's own). Soft labels add the roundings of
    # y a + (1 - y) b, and where the gradient vanishes (sigmoid(x) near y) its terms
    # cancel: the bound is then relative to |T1| + |T2|, not to the gradient.
    softplus_x, softplus_neg_x = softplus_pair(xp, x)
    sigmoid_x, sigmoid_neg_x = sigmoid_pair(xp, x)
    ce = y * softplus_neg_x + (1.0 - y) * softplus_x
    m = y * sigmoid_neg_x + (1.0 - y) * sigmoid_x
    power = focal_power(xp, m, gamma)
    slope = (1.0 - y) * sigmoid_x - y * sigmoid_neg_x
    gradient = power * slope
    if gamma != 0.0:
        # m is 0 only where both sigmoids underflowed to it; r is then 0 as well.
        r = (sigmoid_x * sigmoid_neg_x) / xp.where(m > 0.0, m, 1.0)
        gradient = gradient + (gamma * (1.0 - 2.0 * y)) * (power * r) * ce
    return _alpha_weight(xp, y, alpha, gradient)


def _focal_probabilities(xp: Namespace, p: Array, y: Array, /, *, gamma: float, alpha: float | None) -> Array:
    ce = bce_values(xp, p, y)
    m = y * (1.0 - p) + (1.0 - y) * p  # 1 - p exact for p >= 1/2 (Sterbenz)
    power = focal_power(xp, m, gamma)
    # m = 0 only at a perfect hard prediction (p == y in {0, 1}), where CE = 0 as well.
    return _alpha_weight(xp, y, alpha, power * xp.where(m > 0.0, ce, 0.0))


def _focal_probabilities_derivative(
    xp: Namespace, p: Array, y: Array, /, *, gamma: float, alpha: float | None
) -> Array:
    # d/dp [m^g CE] = g m^(g-1) (1 - 2y) CE + m^g CE', with dm/dp = 1 - 2y.
    ce = bce_values(xp, p, y)
    m = y * (1.0 - p) + (1.0 - y) * p
    gradient = focal_power(xp, m, gamma) * binary_cross_entropy_derivative(xp, p, y)
    if gamma != 0.0:
        c = gamma * (1.0 - 2.0 * y)
        # c = 0 (y = 1/2) against an infinite CE (p at 0 or 1): the term is 0, not NaN.
        counted = xp.where((m > 0.0) & (c != 0.0), ce, 0.0)
        gradient = gradient + c * focal_power_below(xp, m, gamma) * counted
    return _alpha_weight(xp, y, alpha, gradient)


_BINARY_FOCAL = ElementwiseLoss(
    name="binary_focal_loss",
    input=Operand("input", REAL),
    target=Operand("target", LABEL),
    value=functools.partial(_focal_logits, gamma=2.0, alpha=None),
    derivative=functools.partial(_focal_logits_derivative, gamma=2.0, alpha=None),
)


_SWAPPED_PROBABILITIES = refuse_swapped(
    "input", "target", options=", from_logits=False", logits="binary_focal_loss(logits, target)"
)
"""On probabilities, labels passed first look like BCE's (see ``binary_cross_entropy``)."""


@functools.lru_cache(maxsize=64)
def _binary_focal_with(gamma: float, alpha: float | None, from_logits: bool) -> ElementwiseLoss:
    if from_logits:
        return replace(
            _BINARY_FOCAL,
            value=functools.partial(_focal_logits, gamma=gamma, alpha=alpha),
            derivative=functools.partial(_focal_logits_derivative, gamma=gamma, alpha=alpha),
        )
    return replace(
        _BINARY_FOCAL,
        input=Operand("input", PROBABILITY),
        value=functools.partial(_focal_probabilities, gamma=gamma, alpha=alpha),
        derivative=functools.partial(_focal_probabilities_derivative, gamma=gamma, alpha=alpha),
        pair_check=_SWAPPED_PROBABILITIES,
    )


def _binary_focal(func: str, gamma: object, alpha: object, from_logits: object) -> ElementwiseLoss:
    return _binary_focal_with(gamma_option(func, gamma), _alpha(func, alpha), from_logits_option(func, from_logits))


def binary_focal_loss(
    input: object,
    target: object,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = True,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Binary focal loss (Lin et al. 2017), as torchvision's ``sigmoid_focal_loss``.

    .. math:: \ell_i = \alpha_t\, (1 - p_t)^\gamma\, \mathrm{CE}_i, \qquad
              p_t = p y + (1 - p)(1 - y), \quad \alpha_t = \alpha y + (1 - \alpha)(1 - y)

    with ``p = sigmoid(input)`` (or ``input`` itself with ``from_logits=False``) and
    ``CE`` the binary cross-entropy; ``alpha=None`` means ``alpha_t = 1``.

    Parameters
    ----------
    input : array_like
        Logits (``from_logits=True``, the default) or probabilities in [0, 1], any shape.
    target : array_like
        Labels in [0, 1], same shape: 0 or 1, or soft labels (``p_t`` as torchvision).
    gamma : float, keyword-only
        Focusing exponent, ``>= 0`` (default 2.0); 0 gives the (alpha-weighted) cross-entropy.
    alpha : float in [0, 1] or None, keyword-only
        Weight of the positive class (``1 - alpha`` for the negatives); None (default) for none.
    from_logits : bool, keyword-only
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    Notes
    -----
    **Defaults.** Libraries differ: torchvision's ``sigmoid_focal_loss(inputs, targets,
    alpha=0.25, gamma=2, reduction="none")`` weights by default (``alpha=-1`` turns it
    off); Keras's ``BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25,
    gamma=2.0, from_logits=False)`` applies ``alpha`` only with ``apply_class_balancing``,
    clips probabilities to [1e-7, 1 - 1e-7] and averages over the last axis first;
    optax's ``sigmoid_focal_loss(logits, labels, alpha=None, gamma=2.)`` does not weight.
    The defaults here are optax's (``alpha=None``, ``gamma=2``, logits): pass
    ``alpha=0.25`` for torchvision's. Values equal torchvision's formula for every
    ``alpha``, ``gamma`` and soft label.

    **Exact.** ``CE = y softplus(-x) + (1 - y) softplus(x)`` and
    ``1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x)`` are sums of non-negative terms, each
    accurate in both tails: ``x = 40, y = 1`` gives ``sigmoid(-40)**2 * softplus(-40)``
    (about 7.67e-53), where ``1 - sigmoid(40)`` rounds to 0. Nothing is clipped; with
    probabilities, ``p = 0`` against ``y = 1`` gives ``inf``, the exact value.

    Examples
    --------
    >>> print(binary_focal_loss([0.0, 2.0, -1.0], [1.0, 1.0, 0.0], reduction="none"))
    [0.1732868  0.00180356 0.02265806]
    >>> print(f"{binary_focal_loss([40.0], [1.0], reduction='sum'):.6e}")
    7.667648e-53
    """
    loss = _binary_focal("binary_focal_loss", gamma, alpha, from_logits)
    return loss(input, target, reduction=reduction, sample_weight=sample_weight)


def binary_focal_loss_grad(
    input: object,
    target: object,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = True,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`binary_focal_loss` with respect to ``input``.

    From logits, with ``m = 1 - p_t`` and ``s = sigmoid``:

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \alpha_t \Bigl(
              \gamma\, m^\gamma \frac{s(x) s(-x)}{m} (1 - 2y)\, \mathrm{CE}
              + m^\gamma \bigl(s(x) - y\bigr)\Bigr)

    (from probabilities: :math:`\alpha_t(\gamma m^{\gamma-1}(1 - 2y)\mathrm{CE} + m^\gamma
    \mathrm{CE}')`, with ``CE'`` that of :func:`binary_cross_entropy_grad`); scaled by the
    weights and, for ``"mean"``, divided by ``sum(w)``. Same arguments as the loss.

    From logits it is formed in float64 with libm's ``exp`` and ``log1p`` (not in
    double-double as the loss: ten times the time), whose errors pass ``(gamma + 1)``-fold
    through ``m**gamma``: for hard labels and a libm within an ulp, within 7, 20 and 26
    ulp for ``gamma`` 0, 1 and 2 and ``5 gamma + 18`` ulp otherwise, by a derivation that
    counts every rounding (3.9 measured with NumPy's libm, 12.8 with ``exp`` and ``log1p``
    off by an ulp). With soft labels the two terms cancel where the gradient vanishes
    (``sigmoid(x)`` near ``y``): there the bound holds relative to the terms.

    Examples
    --------
    >>> print(binary_focal_loss_grad([0.0], [1.0], gamma=0.0, reduction="sum"))
    [-0.5]
    """
    loss = _binary_focal("binary_focal_loss_grad", gamma, alpha, from_logits)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _binary_focal_reference_parts(xp: Namespace, x: Array, y: Array) -> tuple[Array, Array, Array, Array]:
    """``p = sigmoid(x)``, ``1 - p``, the cross-entropy and ``m = 1 - p_t`` (no ``1 - p`` formed)."""
    p, q = 1 / (1 + xp.exp(-x)), 1 / (1 + xp.exp(x))
    ce = y * xp.log1p(xp.exp(-x)) + (1 - y) * xp.log1p(xp.exp(x))  # -y log p - (1 - y) log(1 - p)
    return p, q, ce, y * q + (1 - y) * p


def _binary_focal_reference_alpha(xp: Namespace, y: Array, alpha: float | None) -> Array | int:
    """``alpha_t = alpha y + (1 - alpha)(1 - y)`` (1 without ``alpha``), in ``xp``'s arithmetic."""
    return 1 if alpha is None else xp.asarray(alpha) * y + (1 - xp.asarray(alpha)) * (1 - y)


def _binary_focal_reference(
    xp: Namespace, x: Array, y: Array, /, *, gamma: float = 2.0, alpha: float | None = None
) -> Array:
    _, _, ce, m = _binary_focal_reference_parts(xp, x, y)
    return _binary_focal_reference_alpha(xp, y, alpha) * m**gamma * ce


def _binary_focal_reference_grad(
    xp: Namespace, x: Array, y: Array, /, *, gamma: float = 2.0, alpha: float | None = None
) -> Array:
    p, q, ce, m = _binary_focal_reference_parts(xp, x, y)  # dm/dx = (1 - 2y) p q
    a = _binary_focal_reference_alpha(xp, y, alpha)
    slope = (1 - y) * p - y * q  # dCE/dx = p - y, without forming 1 - p
    return a * (gamma * m ** (gamma - 1) * (1 - 2 * y) * p * q * ce + m**gamma * slope)


register(
    "binary_focal_loss", _binary_focal_reference, _binary_focal_reference_grad, grad_ulps=36,
    why="the gradient from logits is formed in float64 with libm's exp and log1p, whose errors pass "
    "(gamma + 1)-fold through m**gamma * slope: derived for hard labels in tests/error_model.py's model, "
    "7, 20 and 26 ulp for gamma 0, 1 and 2, 5 gamma + 18 otherwise (35.5 at the tests' gamma 3.5; "
    "see _focal_logits_derivative); 3.9 measured with NumPy's libm, 12.8 with exp and log1p each moved by an ulp",
)
