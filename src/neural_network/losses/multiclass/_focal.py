r"""The categorical focal loss and the Poly-1 cross-entropy: cross-entropies that down-weight easy examples.

Both read a whole row of class scores and share the validation of
:func:`neural_network.losses.cross_entropy` (class indices or class probabilities,
``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``) through the row engine
(:mod:`neural_network.losses._rows`). Both are written in terms of ``1 - p``, computed without the
cancellation of ``1 - p`` when ``p`` is near 1: ``rest / (1 + rest)`` at the top class.
The binary focal loss, and the options the focal losses share, are in
:mod:`neural_network.losses.classification._focal`.
"""

from __future__ import annotations

import math

from neural_network import _validation
from neural_network._validation import PROBABILITY, Array, Namespace
from neural_network.errors import OutOfRangeError
from neural_network.losses._common import real_option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import (
    RowArguments,
    as_rows,
    by_rows,
    class_prepare,
    reduce_row_gradient,
    reduce_rows,
    rows_of,
)
from neural_network.losses.classification._focal import (
    focal_power,
    focal_power_below,
    from_logits_option,
    gamma_option,
)
from neural_network.losses.multiclass._softmax_math import (
    log_softmax_parts,
    softmax_reference_grad,
    softmax_reference_parts,
    weighted_sum,
)

# --------------------------------------------------------------------------- losses over a class axis


def _check_probability_rows(checked: RowArguments) -> None:
    """With ``from_logits=False``: ``input`` must hold rows of probabilities summing to 1."""
    func, xp = checked.func, checked.xp
    _validation.check_values(func, "input", checked.x, xp, PROBABILITY)
    rows = as_rows(xp, checked.x, checked.class_axis, checked.classes)
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
    nll, e, rest, first_max = log_softmax_parts(xp, scores)
    above = 1.0 + rest
    p = e / above
    q = xp.where(first_max > 0, rest / above, 1.0 - p)
    return nll, p, q, first_max


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


# --------------------------------------------------------------------------- categorical focal loss


def _categorical_focal_checked(
    func: str, input: object, target: object, gamma: object, alpha: object, from_logits: object,
    reduction: object, sample_weight: object,
) -> tuple[RowArguments, float, float, bool]:
    g = gamma_option(func, gamma)
    a = 1.0 if alpha is None else real_option(
        func, "alpha", alpha, meaning="a finite number >= 0 scaling the loss, or None for 1", low=0.0,
        low_included=True,
    )
    logits = from_logits_option(func, from_logits)
    checked = class_prepare(func, input, target, reduction, sample_weight)
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
        return weighted_sum(xp, a * t, focal_power(xp, q, g) * xp.where(q > 0.0, nll, 0.0))

    return reduce_rows(checked, by_rows(compute, *rows_of(checked)))


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

    From logits with class indices each entry is within 4 ulps. With soft targets
    ``p_k sum_c t_c g_c - t_k g_k`` cancels where the two terms nearly meet: 1068 ulps
    measured on ordinary soft targets (the budget registered is 1100); in absolute terms
    within 4 ulps of ``p_k sum_c t_c g_c + t_k g_k``.

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
        power = focal_power(xp, q, g)
        below = focal_power_below(xp, q, g)
        if first_max is None:  # the partial derivatives of each probability on its own
            slope = g * below * xp.where(q > 0.0, nll, 0.0) + power / p
            return 0.0 - (a * t) * xp.where(t > 0.0, slope, 0.0)
        slope = a * (g * below * (p * nll) + power)
        return _logit_gradient(xp, t, slope, p, q, first_max)

    return reduce_row_gradient(checked, by_rows(compute, *rows_of(checked)))


def _class_targets(xp: Namespace, x: Array, y: Array) -> Array:
    """The target as (N, C) class probabilities (one-hot rows for class indices)."""
    return xp.where(y[:, None] == xp.arange(x.shape[1])[None, :], 1.0, 0.0) if y.ndim < x.ndim else y


def _categorical_focal_reference(
    xp: Namespace, x: Array, y: Array, /, *, gamma: float = 2.0, alpha: float | None = None
) -> Array:
    nll, _, q = softmax_reference_parts(xp, x)  # -log p and 1 - p, p = softmax(x)
    a = 1 if alpha is None else alpha
    return xp.sum(a * _class_targets(xp, x, y) * q**gamma * nll, axis=1)


def _categorical_focal_reference_grad(
    xp: Namespace, x: Array, y: Array, /, *, gamma: float = 2.0, alpha: float | None = None
) -> Array:
    nll, p, q = softmax_reference_parts(xp, x)
    a = 1 if alpha is None else alpha
    g = a * (gamma * q ** (gamma - 1) * p * nll + q**gamma)  # d(term c)/dx_k = g_c (p_k - [c = k])
    return softmax_reference_grad(xp, p, q, _class_targets(xp, x, y) * g)


register(
    "categorical_focal_loss", _categorical_focal_reference, _categorical_focal_reference_grad, grad_ulps=1100,
    why="with soft targets the gradient p_k sum(t g) - t_k g_k cancels where the two nearly meet, magnifying "
    "the float64 error of p and g: 1068 ulps measured on ordinary soft targets (Dirichlet rows); within 4 "
    "needs p, log p and q**gamma in double length (7 times the cost, measured). Absolutely, within 4 ulps of "
    "p_k sum(t g) + t_k g_k",
)


# --------------------------------------------------------------------------- Poly-1


def _epsilon(func: str, epsilon: object) -> float:
    return real_option(
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
    checked = class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp

    def compute(scores: Array, t: Array) -> Array:
        nll, _, q, _ = _probabilities_of(xp, scores, True)
        return weighted_sum(xp, t, nll) + e * xp.sum(t * q, axis=1)

    return reduce_rows(checked, by_rows(compute, *rows_of(checked)))


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

    scaled by the sample weights and divided by the mean's denominator. Within 4 ulps for
    class indices; with soft targets the two terms cancel where they nearly meet (46 ulps
    measured on ordinary soft targets, the budget registered 47), and in absolute terms
    each entry is within 3 ulps of ``p_k sum_c t_c g_c + t_k g_k``.

    Examples
    --------
    >>> print(poly_loss_cross_entropy_grad([[0.0, 0.0]], [1], epsilon=0.0))
    [[ 0.5 -0.5]]
    """
    func = "poly_loss_cross_entropy_grad"
    e = _epsilon(func, epsilon)
    checked = class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp

    def compute(scores: Array, t: Array) -> Array:
        _, p, q, first_max = _probabilities_of(xp, scores, True)
        assert first_max is not None
        return _logit_gradient(xp, t, 1.0 + e * p, p, q, first_max)

    return reduce_row_gradient(checked, by_rows(compute, *rows_of(checked)))


def _poly_reference(xp: Namespace, x: Array, y: Array, /, *, epsilon: float = 2.0) -> Array:
    nll, _, q = softmax_reference_parts(xp, x)  # -log p and 1 - p, p = softmax(x)
    return xp.sum(_class_targets(xp, x, y) * (nll + epsilon * q), axis=1)


def _poly_reference_grad(xp: Namespace, x: Array, y: Array, /, *, epsilon: float = 2.0) -> Array:
    _, p, q = softmax_reference_parts(xp, x)  # d(term c)/dx_k = (1 + epsilon p_c) (p_k - [c = k])
    return softmax_reference_grad(xp, p, q, _class_targets(xp, x, y) * (1 + epsilon * p))


register(
    "poly_loss_cross_entropy", _poly_reference, _poly_reference_grad, grad_ulps=47,
    why="with soft targets the gradient p_k sum(t g) - t_k g_k (g = 1 + epsilon p) cancels where the two "
    "nearly meet: 46 ulps measured on ordinary soft targets (Dirichlet rows); within 4 needs p in double "
    "length (6 times the cost, measured). Absolutely, within 3 ulps of p_k sum(t g) + t_k g_k",
)
