r"""Focal losses and the Poly-1 cross-entropy: cross-entropies that down-weight easy examples.

The binary focal loss is an element-wise loss (the loss engine of
:mod:`neural_network.losses._elementwise` evaluates it); the categorical focal loss and
the Poly-1 loss read a whole row of class scores and share the validation of
:func:`neural_network.losses.cross_entropy` (class indices or class probabilities,
``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``). All of them are written in terms of
``1 - p_t``, the probability the model gives to everything but the target, which is
computed without the cancellation of ``1 - p`` when ``p`` is near 1: from logits as
``sigmoid(-x)`` (binary) or ``rest / (1 + rest)`` (softmax, the top class).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from neural_network import _blocks, _reduction, _validation
from neural_network._numerics import exp_double, log_double, sigmoid_pair, softplus_pair, two_product, two_sum
from neural_network._validation import LABEL, PROBABILITY, REAL, Array, Namespace
from neural_network.errors import InvalidOptionError, OutOfRangeError
from neural_network.losses._classification import (
    _binary_cross_entropy,
    _binary_cross_entropy_derivative,
    refuse_swapped,
)
from neural_network.losses._common import _option
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._softmax_checks import (
    _check_deferred_eagerly,
    _check_mean_defined,
    _Checked,
    _mean_weight,
    _prepare,
    _rows,
    _samples,
    _scale_for_mean,
)
from neural_network.losses._softmax_math import (
    _classes,
    _log_softmax_parts,
    _mean_weight_array,
    _weighted_sum,
)

# --------------------------------------------------------------------------- options


def _gamma(func: str, gamma: object) -> float:
    return _option(
        func, "gamma", gamma, meaning="the focusing exponent: a finite number >= 0 (0 gives the cross-entropy)",
        low=0.0, low_included=True,
    )


def _alpha(func: str, alpha: object) -> float | None:
    if alpha is None:
        return None
    return _option(
        func, "alpha", alpha, meaning="the weight of the positive class: a number in [0, 1], or None for no weighting",
        low=0.0, low_included=True, high=1.0,
    )


def _from_logits(func: str, from_logits: object) -> bool:
    if not isinstance(from_logits, (bool, np.bool_)):
        raise InvalidOptionError(
            f"{func}: from_logits must be True or False; got {from_logits!r}. True: input holds "
            "logits (raw scores); False: input holds probabilities."
        )
    return bool(from_logits)


def _power(xp: Namespace, m: Array, gamma: float) -> Array:
    """``m ** gamma`` for ``m >= 0`` (``0 ** 0 = 1``), with the common exponents as products."""
    if gamma == 2.0:
        return m * m
    if gamma == 1.0:
        return m
    if gamma == 0.0:
        return xp.ones_like(m)
    return xp.pow(m, gamma)


def _power_below(xp: Namespace, m: Array, gamma: float) -> Array:
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
    softplus_x, softplus_neg_x = softplus_pair(xp, x)
    sigmoid_x, sigmoid_neg_x = sigmoid_pair(xp, x)
    ce = y * softplus_neg_x + (1.0 - y) * softplus_x
    m = y * sigmoid_neg_x + (1.0 - y) * sigmoid_x
    power = _power(xp, m, gamma)
    slope = (1.0 - y) * sigmoid_x - y * sigmoid_neg_x
    gradient = power * slope
    if gamma != 0.0:
        # m is 0 only where both sigmoids underflowed to it; r is then 0 as well.
        r = (sigmoid_x * sigmoid_neg_x) / xp.where(m > 0.0, m, 1.0)
        gradient = gradient + (gamma * (1.0 - 2.0 * y)) * (power * r) * ce
    return _alpha_weight(xp, y, alpha, gradient)


def _focal_probabilities(xp: Namespace, p: Array, y: Array, /, *, gamma: float, alpha: float | None) -> Array:
    ce = _binary_cross_entropy(xp, p, y)
    m = y * (1.0 - p) + (1.0 - y) * p  # 1 - p exact for p >= 1/2 (Sterbenz)
    power = _power(xp, m, gamma)
    # m = 0 only at a perfect hard prediction (p == y in {0, 1}), where CE = 0 as well.
    return _alpha_weight(xp, y, alpha, power * xp.where(m > 0.0, ce, 0.0))


def _focal_probabilities_derivative(
    xp: Namespace, p: Array, y: Array, /, *, gamma: float, alpha: float | None
) -> Array:
    # d/dp [m^g CE] = g m^(g-1) (1 - 2y) CE + m^g CE', with dm/dp = 1 - 2y.
    ce = _binary_cross_entropy(xp, p, y)
    m = y * (1.0 - p) + (1.0 - y) * p
    gradient = _power(xp, m, gamma) * _binary_cross_entropy_derivative(xp, p, y)
    if gamma != 0.0:
        c = gamma * (1.0 - 2.0 * y)
        # c = 0 (y = 1/2) against an infinite CE (p at 0 or 1): the term is 0, not NaN.
        counted = xp.where((m > 0.0) & (c != 0.0), ce, 0.0)
        gradient = gradient + c * _power_below(xp, m, gamma) * counted
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
    return _binary_focal_with(_gamma(func, gamma), _alpha(func, alpha), _from_logits(func, from_logits))


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

    Examples
    --------
    >>> print(binary_focal_loss_grad([0.0], [1.0], gamma=0.0, reduction="sum"))
    [-0.5]
    """
    loss = _binary_focal("binary_focal_loss_grad", gamma, alpha, from_logits)
    return loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)


# --------------------------------------------------------------------------- losses over a class axis


def _class_prepare(func: str, input: object, target: object, reduction: object, sample_weight: object) -> _Checked:
    """Validate like :func:`cross_entropy` (no class weights, nothing ignored), every value eagerly."""
    checked_reduction = _validation.check_reduction(func, reduction)
    # As a sum first: the mean's checks come after the refusal of ignored targets.
    checked = _prepare(
        func, input, target, weight=None, ignore_index=-100, label_smoothing=0.0,
        reduction="sum", sample_weight=sample_weight, log_probabilities=False,
    )
    if checked.deferred:
        _check_deferred_eagerly(checked)
    if checked.target.ignored:
        raise OutOfRangeError(
            f"{func}: target must hold class indices from 0 to {checked.classes - 1}; got -100. "
            "This loss has no ignore_index: give the samples to leave out sample_weight 0."
        )
    checked.reduction = checked_reduction
    if checked_reduction == "mean":
        _scale_for_mean(checked)
        checked.mean_weight = _mean_weight(checked)
        _check_mean_defined(func, checked.xp, _samples(checked), checked.mean_weight)
    return checked


def _check_probability_rows(checked: _Checked) -> None:
    """With ``from_logits=False``: ``input`` must hold rows of probabilities summing to 1."""
    func, xp = checked.func, checked.xp
    _validation.check_values(func, "input", checked.x, xp, PROBABILITY)
    rows = _rows(xp, checked.x, checked.class_axis, checked.classes)
    if rows.shape[0] == 0:
        return
    worst = float(xp.max(xp.abs(xp.sum(rows, axis=1) - 1.0)))
    tolerance = 64 * checked.classes * float(xp.finfo(checked.x.dtype).eps)
    if worst > tolerance:
        raise OutOfRangeError(
            f"{func}: with from_logits=False each row of input must hold class probabilities summing "
            f"to 1; got a row summing to {1.0 + worst:.6g} or {1.0 - worst:.6g}. Pass softmax outputs, "
            "or pass the logits with from_logits=True (more accurate)."
        )


def _probabilities_of(
    xp: Namespace, scores: Array, from_logits: bool
) -> tuple[Array, Array, Array, Array | None]:
    """``-log p``, ``p`` and ``q = 1 - p`` of every class (rows), and the first maxima (logits only).

    From logits, ``q`` of the top class is ``rest / (1 + rest)``, exact where ``p`` rounds to
    1; every other ``p`` is at most 1/2, so ``1 - p`` loses nothing. From probabilities,
    ``1 - p`` is exact for ``p >= 1/2``.
    """
    if not from_logits:
        return 0.0 - xp.log(scores), scores, 1.0 - scores, None
    nll, e, rest, first_max = _log_softmax_parts(xp, scores)
    above = 1.0 + rest
    p = e / above
    q = xp.where(first_max > 0, rest / above, 1.0 - p)
    return nll, p, q, first_max


def _rows_of(checked: _Checked) -> tuple[Array, Array]:
    """The scores and the target as (M, C) float64 rows (a one-hot of class indices)."""
    batch = _classes(checked)
    return batch.scores, batch.onehot if batch.probabilities is None else batch.probabilities


def _by_rows(compute: Callable[[Array, Array], Array], scores: Array, t: Array) -> Array:
    """``compute(scores, t)`` of (M, C) rows, row by row in effect: large NumPy input in blocks of
    rows of about ``_blocks.BLOCK`` entries (in the processor's cache), on several threads."""
    if not isinstance(scores, np.ndarray) or scores.size <= _blocks.BLOCK:
        with np.errstate(divide="ignore", over="ignore"):
            return compute(scores, t)
    rows = max(1, _blocks.BLOCK // scores.shape[1])
    count = -(-scores.shape[0] // rows)

    def one(start: int, stop: int) -> Array:
        i = start // _blocks.BLOCK
        # The floating-point error state belongs to each thread: set it here, in the thread.
        with np.errstate(divide="ignore", over="ignore"):
            return compute(scores[i * rows : (i + 1) * rows], t[i * rows : (i + 1) * rows])

    return np.concatenate(_blocks.map_blocks(one, count * _blocks.BLOCK))


def _logit_gradient(xp: Namespace, t: Array, g: Array, p: Array, q: Array, first_max: Array) -> Array:
    """``p_k G - t_k g_k`` (``G = sum_c t_c g_c``): the gradient through the softmax of a row loss
    ``sum_c t_c f(p_c)`` whose ``df/dx_k = g_c (p_k - [c = k])``.

    At the top class, where ``p`` may round to 1, it is ``(G - t g) - G q`` with
    ``G - t g`` summed over the other classes, without the cancellation of ``p G - t g``.
    """
    tg = t * g
    total = xp.sum(tg, axis=1, keepdims=True)
    others = xp.sum(xp.where(first_max > 0, 0.0, tg), axis=1, keepdims=True)
    return xp.where(first_max > 0, others - total * q, p * total - tg)


def _reduce_rows(checked: _Checked, values: Array) -> Array:
    xp = checked.xp
    if checked.reduction == "none":
        values = xp.reshape(values, checked.sample_shape)
    s = checked.sample_weight
    if s is not None and checked.reduction == "none":
        s = xp.reshape(s, checked.sample_shape)
    return _reduction.reduce_values(
        xp, values, reduction=checked.reduction, sample_weight=s, dtype=checked.x.dtype,
        mean_weight=_mean_weight_array(checked),
    )


def _reduce_row_gradient(checked: _Checked, gradient: Array) -> Array:
    xp, s = checked.xp, checked.sample_weight
    reduced = _reduction.reduce_derivatives(
        xp, gradient, reduction=checked.reduction, sample_weight=None if s is None else s[:, None],
        dtype=checked.x.dtype, mean_weight=_mean_weight_array(checked),
    )
    laid_out = xp.reshape(reduced, (*checked.sample_shape, checked.classes))
    return xp.moveaxis(laid_out, -1, checked.class_axis)


# --------------------------------------------------------------------------- categorical focal loss


def _categorical_focal_checked(
    func: str, input: object, target: object, gamma: object, alpha: object, from_logits: object,
    reduction: object, sample_weight: object,
) -> tuple[_Checked, float, float, bool]:
    g = _gamma(func, gamma)
    a = 1.0 if alpha is None else _option(
        func, "alpha", alpha, meaning="a finite number >= 0 scaling the loss, or None for 1", low=0.0,
        low_included=True,
    )
    logits = _from_logits(func, from_logits)
    checked = _class_prepare(func, input, target, reduction, sample_weight)
    if not logits:
        _check_probability_rows(checked)
    return checked, g, a, logits


def categorical_focal_loss(
    input: object,
    target: object,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = True,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Categorical focal loss, Keras's ``CategoricalFocalCrossentropy`` on a class axis.

    .. math:: \ell_n = \sum_c \alpha\, t_{nc}\, (1 - p_{nc})^\gamma\, (-\log p_{nc}),
              \qquad p_n = \operatorname{softmax}(x_n)

    Parameters
    ----------
    input : array_like
        Logits (``from_logits=True``, the default), or class probabilities (rows summing
        to 1) with ``from_logits=False``; shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``), or class probabilities
        (one-hot or soft) of the input's shape, as :func:`cross_entropy` takes them.
    gamma : float, keyword-only
        Focusing exponent, ``>= 0`` (default 2.0; 0 gives ``alpha`` times the cross-entropy).
    alpha : float or None, keyword-only
        A non-negative factor of the whole loss (Keras's ``alpha``, default 0.25 there);
        None (default) for 1.
    from_logits : bool, keyword-only
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over samples (``sum(s * l) / sum(s)``); ``"none"`` gives ``(N, d1, ...)``.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Notes
    -----
    Keras's ``CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=False)``
    renormalizes probability rows and clips them to [1e-7, 1 - 1e-7]; here logits are the
    default, probability rows must sum to 1 (they are refused otherwise) and nothing is
    clipped. Keras's value equals this one with ``alpha=0.25`` wherever its clipping does
    not act. ``-log p`` is the exact log-softmax of :func:`cross_entropy` and ``1 - p`` of
    the top class is ``rest / (1 + rest)``: a confident prediction keeps its tiny loss.
    NumPy input is evaluated as whole arrays (not in blocks as :func:`cross_entropy`).

    Examples
    --------
    >>> print(f"{categorical_focal_loss([[2.0, 0.0, 0.0]], [0]):.15f}")  # (1 - p)^2 (-log p)
    0.010869330887949
    """
    checked, g, a, logits = _categorical_focal_checked(
        "categorical_focal_loss", input, target, gamma, alpha, from_logits, reduction, sample_weight
    )
    xp = checked.xp

    def compute(scores: Array, t: Array) -> Array:
        nll, _, q, _ = _probabilities_of(xp, scores, logits)
        return _weighted_sum(xp, a * t, _power(xp, q, g) * xp.where(q > 0.0, nll, 0.0))

    return _reduce_rows(checked, _by_rows(compute, *_rows_of(checked)))


def categorical_focal_loss_grad(
    input: object,
    target: object,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = True,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`categorical_focal_loss` with respect to ``input``.

    From logits, with ``q = 1 - p`` and :math:`g_c = \alpha(\gamma q_c^{\gamma - 1} p_c
    (-\log p_c) + q_c^\gamma)`:

    .. math:: \frac{\partial \ell_n}{\partial x_{nk}} = p_{nk} \sum_c t_{nc}\, g_c - t_{nk}\, g_k

    From probabilities it is the partial derivative of each entry on its own,
    :math:`-\alpha t_k(\gamma q_k^{\gamma - 1}(-\log p_k) + q_k^\gamma / p_k)` (no projection
    onto the rows summing to 1; Keras's renormalization would add one). Scaled by the
    sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(categorical_focal_loss_grad([[0.0, 0.0]], [1], gamma=0.0))
    [[ 0.5 -0.5]]
    """
    checked, g, a, logits = _categorical_focal_checked(
        "categorical_focal_loss_grad", input, target, gamma, alpha, from_logits, reduction, sample_weight
    )
    xp = checked.xp

    def compute(scores: Array, t: Array) -> Array:
        nll, p, q, first_max = _probabilities_of(xp, scores, logits)
        power = _power(xp, q, g)
        below = _power_below(xp, q, g)
        if first_max is None:  # the partial derivatives of each probability on its own
            slope = g * below * xp.where(q > 0.0, nll, 0.0) + power / p
            return 0.0 - (a * t) * xp.where(t > 0.0, slope, 0.0)
        slope = a * (g * below * (p * nll) + power)
        return _logit_gradient(xp, t, slope, p, q, first_max)

    return _reduce_row_gradient(checked, _by_rows(compute, *_rows_of(checked)))


# --------------------------------------------------------------------------- Poly-1


def _epsilon(func: str, epsilon: object) -> float:
    return _option(
        func, "epsilon", epsilon, meaning="a finite real number (the Poly-1 coefficient; 0 gives the cross-entropy)",
        low=-math.inf, low_included=False,
    )


def poly_loss_cross_entropy(
    input: object,
    target: object,
    *,
    epsilon: float = 2.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Poly-1 cross-entropy (Leng et al. 2022), as optax's ``poly_loss_cross_entropy``.

    .. math:: \ell_n = \sum_c t_{nc} \bigl(-\log p_{nc} + \epsilon\,(1 - p_{nc})\bigr),
              \qquad p_n = \operatorname{softmax}(x_n)

    the softmax cross-entropy plus ``epsilon`` times ``1 - p_t``.

    Parameters
    ----------
    input : array_like
        Logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; finite.
    target : array_like
        Class probabilities of the input's shape (one-hot or soft, rows summing to 1, as
        optax's ``labels``), or class indices of shape ``(N,)`` (``(N, d1, ...)``).
    epsilon : float, keyword-only
        The Poly-1 coefficient (default 2.0, optax's). The paper uses values from -1 up;
        below -1 the loss is no longer decreasing in ``p_t``.
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over samples; optax returns the per-sample losses (``"none"``).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Notes
    -----
    ``-log p`` is the exact log-softmax of :func:`cross_entropy` and ``1 - p`` of the top
    class is ``rest / (1 + rest)``; for ``epsilon >= 0`` the two terms are non-negative and
    each element is within a few ulps. optax's ``where`` and ``axis`` arguments are not
    offered: the class axis is axis 1 (0 for a single sample), as in :func:`cross_entropy`.

    Examples
    --------
    >>> print(f"{poly_loss_cross_entropy([[2.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]]):.15f}")
    0.665572681898688
    """
    func = "poly_loss_cross_entropy"
    e = _epsilon(func, epsilon)
    checked = _class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp

    def compute(scores: Array, t: Array) -> Array:
        nll, _, q, _ = _probabilities_of(xp, scores, True)
        return _weighted_sum(xp, t, nll) + e * xp.sum(t * q, axis=1)

    return _reduce_rows(checked, _by_rows(compute, *_rows_of(checked)))


def poly_loss_cross_entropy_grad(
    input: object,
    target: object,
    *,
    epsilon: float = 2.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`poly_loss_cross_entropy` with respect to the logits ``input``.

    .. math:: \frac{\partial \ell_n}{\partial x_{nk}} = p_{nk} \sum_c t_{nc} g_c - t_{nk} g_k,
              \qquad g_c = 1 + \epsilon\, p_{nc}

    scaled by the sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(poly_loss_cross_entropy_grad([[0.0, 0.0]], [1], epsilon=0.0))
    [[ 0.5 -0.5]]
    """
    func = "poly_loss_cross_entropy_grad"
    e = _epsilon(func, epsilon)
    checked = _class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp

    def compute(scores: Array, t: Array) -> Array:
        _, p, q, first_max = _probabilities_of(xp, scores, True)
        assert first_max is not None
        return _logit_gradient(xp, t, 1.0 + e * p, p, q, first_max)

    return _reduce_row_gradient(checked, _by_rows(compute, *_rows_of(checked)))

