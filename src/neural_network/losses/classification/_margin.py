r"""Margin and hinge losses for labels -1 and +1: each per-element value with its derivative.

Every loss here takes its labels as -1 and +1, never 0 and 1: a 0 is refused with the
hint ``2 * y - 1``. Libraries disagree on the encoding (Keras's ``Hinge`` converts 0/1
labels to -1/+1 silently, scikit-learn binarizes whatever two labels it is given, optax
and PyTorch expect -1/+1 and compute nonsense from a 0), and accepting both would make
a 0 mean "negative" here and "no margin at all" in the formula copied from a paper.

**Gradients at the kinks.** ``max(0, a)`` has no derivative at ``a == 0``. Every loss
here takes the active side there (the sub-gradient of the linear piece): PyTorch's
``clamp_min`` autograd does so (``hinge_embedding_loss``, ``margin_ranking_loss``), as
do TensorFlow/Keras (``tf.maximum`` sends the gradient to its first argument at ties)
and scikit-learn's SGD losses (``Hinge.dloss`` is ``-y`` for ``y x <= threshold``).
For the perceptron it is what makes a zero-initialized model learn at all (the
perceptron rule updates on ``y x <= 0``). JAX (optax) splits ties, giving half of it.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from neural_network._numerics import sigmoid_pair
from neural_network._validation import REAL, Array, Namespace
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses.classification._signs import SIGN, check_signs, indicator, margin_option

# --------------------------------------------------------------------------- soft margin


def _soft_margin(xp: Namespace, x: Array, y: Array, /) -> Array:
    # softplus(u), u = -y x (exact for y = +-1): max(u, 0) + log1p(exp(-|u|)). Neither
    # term overflows and both are >= 0, so nothing cancels: PyTorch's log1p(exp(u)) is
    # inf from u = 710 on, where this is u plus a vanishing tail.
    u = -y * x
    return xp.maximum(u, 0.0) + xp.log1p(xp.exp(-xp.abs(u)))


def _soft_margin_derivative(xp: Namespace, x: Array, y: Array, /) -> Array:
    # -y sigmoid(-y x), with the sigmoid accurate in both tails (no exp(u) / (1 + exp(u))).
    return -y * sigmoid_pair(xp, -y * x)[0]


_SOFT_MARGIN = ElementwiseLoss(
    name="soft_margin_loss",
    input=Operand("input", REAL),
    target=Operand("target", SIGN),
    value=_soft_margin,
    derivative=_soft_margin_derivative,
)


def soft_margin_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Soft margin (logistic) loss: ``torch.nn.functional.soft_margin_loss``.

    .. math:: \ell_i = \log\bigl(1 + e^{-y_i x_i}\bigr), \qquad y_i \in \{-1, +1\}

    Parameters
    ----------
    input : array_like
        Scores (logits), any shape.
    target : array_like
        Labels -1 or +1, the same shape as ``input``. 0/1 labels are refused: pass
        ``2 * y - 1``.
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    soft_margin_loss_grad : its gradient.
    binary_cross_entropy_with_logits : the same loss for 0/1 labels.

    Notes
    -----
    Computed as ``softplus(-y x) = max(-y x, 0) + log1p(exp(-|x|))``: within about an
    ulp of the exact value for every finite score. PyTorch computes
    ``log1p(exp(-y x))``, which agrees to an ulp or two until ``exp`` overflows
    (``-y x > 709.78`` in float64, ``> 88.7`` in float32), where PyTorch gives ``inf``
    and this gives ``-y x`` (plus its tail), the true value.

    Examples
    --------
    >>> print(soft_margin_loss([0.0, 2.0, 1000.0], [1, 1, -1], reduction="none"))
    [6.93147181e-01 1.26928011e-01 1.00000000e+03]
    """
    value = _SOFT_MARGIN(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("soft_margin_loss", "target", target)
    return value


def soft_margin_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`soft_margin_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = -y_i\, \sigma(-y_i x_i)

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. The sigmoid is
    accurate in both tails, and finite where PyTorch's ``exp(u) / (1 + exp(u))`` is
    ``inf / inf`` (NaN).

    Examples
    --------
    >>> print(soft_margin_loss_grad([0.0, 0.0], [1, -1], reduction="none"))
    [-0.5  0.5]
    """
    gradient = _SOFT_MARGIN.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("soft_margin_loss_grad", "target", target)
    return gradient


def _soft_margin_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.log1p(xp.exp(-y * x))


def _soft_margin_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return -y / (1 + xp.exp(y * x))


register("soft_margin_loss", _soft_margin_reference, _soft_margin_reference_grad)


# --------------------------------------------------------------------------- hinge, squared hinge, perceptron


def _hinge(xp: Namespace, x: Array, y: Array, /) -> Array:
    # y x is exact for y = +-1, so 1 - y x is rounded once: correctly rounded.
    return xp.maximum(1.0 - y * x, 0.0)


def _hinge_derivative(xp: Namespace, x: Array, y: Array, /) -> Array:
    # -y where 1 - y x >= 0 (the kink included; see the module), else 0. "0.0 - ..."
    # makes the zeros +0.0 whatever the sign of y.
    return 0.0 - y * indicator(xp, y * x <= 1.0)


def _squared_hinge(xp: Namespace, x: Array, y: Array, /) -> Array:
    h = xp.maximum(1.0 - y * x, 0.0)
    return h * h


def _squared_hinge_derivative(xp: Namespace, x: Array, y: Array, /) -> Array:
    # -2 y max(0, 1 - y x): continuous, 0 at the kink from both sides.
    return 0.0 - (2.0 * y) * xp.maximum(1.0 - y * x, 0.0)


def _perceptron(xp: Namespace, x: Array, y: Array, /) -> Array:
    # max(0, -y x) is exact; "0.0 +" turns a -0.0 into 0.0.
    return xp.maximum(-y * x, 0.0) + 0.0


def _perceptron_derivative(xp: Namespace, x: Array, y: Array, /) -> Array:
    return 0.0 - y * indicator(xp, y * x <= 0.0)


_HINGE = ElementwiseLoss(
    name="hinge_loss",
    input=Operand("input", REAL),
    target=Operand("target", SIGN),
    value=_hinge,
    derivative=_hinge_derivative,
)
_SQUARED_HINGE = replace(
    _HINGE, name="squared_hinge_loss", value=_squared_hinge, derivative=_squared_hinge_derivative
)
_PERCEPTRON = replace(_HINGE, name="perceptron_loss", value=_perceptron, derivative=_perceptron_derivative)


def hinge_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Hinge loss of a binary classifier (the linear SVM's loss).

    .. math:: \ell_i = \max(0,\ 1 - y_i x_i), \qquad y_i \in \{-1, +1\}

    Parameters
    ----------
    input : array_like
        Decision values (scores), any shape.
    target : array_like
        Labels -1 or +1, the same shape as ``input``. 0/1 labels are refused with the
        hint ``2 * y - 1`` (see the Notes).
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    hinge_loss_grad : its gradient. squared_hinge_loss, perceptron_loss : its variants.

    Notes
    -----
    The mean equals Keras's ``Hinge`` (``keras.losses.hinge(y_true, y_pred)``),
    optax's ``hinge_loss(scores, targets)`` averaged, and scikit-learn's binary
    ``sklearn.metrics.hinge_loss(y_true, pred_decision, sample_weight=w)``, for
    -1/+1 labels. The libraries differ on other labels: Keras converts 0/1 labels to
    -1/+1, scikit-learn maps the larger of any two labels to +1 and the other to -1,
    optax computes ``1 - 0 * x = 1`` from a 0. Here only -1 and +1 are accepted. Each
    element is correctly rounded (``y x`` is exact, ``1 - y x`` rounded once).

    Examples
    --------
    >>> print(hinge_loss([2.0, 0.5, -0.5], [1, 1, 1], reduction="none"))
    [0.  0.5 1.5]
    >>> print(hinge_loss([2.0, 0.5, -0.5], [1, 1, 1]))
    0.6666666666666666
    """
    value = _HINGE(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("hinge_loss", "target", target)
    return value


def hinge_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`hinge_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \begin{cases} -y_i & y_i x_i \le 1 \\
                                                     0 & \text{otherwise} \end{cases}

    scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. At the kink
    ``y x == 1`` it is ``-y``, as TensorFlow/Keras's gradient and scikit-learn's
    ``SGDClassifier`` give (JAX/optax: ``-y / 2``); see the module's notes.

    Examples
    --------
    >>> print(hinge_loss_grad([2.0, 1.0, -0.5], [1, 1, -1], reduction="none"))
    [ 0. -1.  1.]
    """
    gradient = _HINGE.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("hinge_loss_grad", "target", target)
    return gradient


def _hinge_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.maximum(1 - y * x, 0.0)


def _hinge_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.where(y * x <= 1, -y, 0.0)  # the kink y x = 1 included


register("hinge_loss", _hinge_reference, _hinge_reference_grad)


def squared_hinge_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Squared hinge loss: Keras's ``SquaredHinge``.

    .. math:: \ell_i = \max(0,\ 1 - y_i x_i)^2, \qquad y_i \in \{-1, +1\}

    Same arguments and label convention as :func:`hinge_loss` (labels -1 or +1 only;
    Keras converts 0/1 labels, here they are refused with the hint ``2 * y - 1``).
    Differentiable everywhere. Each element is the square of the correctly rounded
    hinge: within about 1.5 ulp; an element beyond the float64 range is ``inf``, while
    the mean is recomputed in the extended range when that makes it finite.

    Examples
    --------
    >>> print(squared_hinge_loss([2.0, 0.5, -0.5], [1, 1, 1], reduction="none"))
    [0.   0.25 2.25]
    """
    value = _SQUARED_HINGE(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("squared_hinge_loss", "target", target)
    return value


def squared_hinge_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`squared_hinge_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = -2\, y_i \max(0,\ 1 - y_i x_i)

    continuous (0 at ``y x == 1`` from both sides); scaled by the weights and, for
    ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(squared_hinge_loss_grad([2.0, 0.5, -0.5], [1, 1, -1], reduction="none"))
    [ 0. -1.  1.]
    """
    gradient = _SQUARED_HINGE.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("squared_hinge_loss_grad", "target", target)
    return gradient


def _squared_hinge_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.maximum(1 - y * x, 0.0) ** 2


def _squared_hinge_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return -2 * y * xp.maximum(1 - y * x, 0.0)


register("squared_hinge_loss", _squared_hinge_reference, _squared_hinge_reference_grad)


def perceptron_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Perceptron loss: optax's ``perceptron_loss``.

    .. math:: \ell_i = \max(0,\ -y_i x_i), \qquad y_i \in \{-1, +1\}

    The hinge loss without its margin: 0 for every correctly classified sample. Same
    arguments and label convention as :func:`hinge_loss`. Exact (``y x`` is exact).

    Examples
    --------
    >>> print(perceptron_loss([2.0, 0.0, -0.5], [1, 1, 1], reduction="none"))
    [0.  0.  0.5]
    """
    value = _PERCEPTRON(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("perceptron_loss", "target", target)
    return value


def perceptron_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`perceptron_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \begin{cases} -y_i & y_i x_i \le 0 \\
                                                     0 & \text{otherwise} \end{cases}

    At ``y x == 0`` it is ``-y``: the perceptron rule's update on a sample on the
    boundary, which lets a model initialized at zero learn (JAX/optax's gradient is
    ``-y / 2`` there). Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(perceptron_loss_grad([2.0, 0.0, -0.5], [1, 1, 1], reduction="none"))
    [ 0. -1. -1.]
    """
    gradient = _PERCEPTRON.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("perceptron_loss_grad", "target", target)
    return gradient


def _perceptron_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.maximum(-y * x, 0.0)


def _perceptron_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.where(y * x <= 0, -y, 0.0)  # the kink y x = 0 included


register("perceptron_loss", _perceptron_reference, _perceptron_reference_grad)


# --------------------------------------------------------------------------- hinge embedding


def _hinge_embedding(xp: Namespace, x: Array, y: Array, /, *, margin: float) -> Array:
    # PyTorch: x for y = 1, max(0, margin - x) for y = -1 (one rounding: its bits).
    return xp.where(y > 0.0, x, xp.maximum(margin - x, 0.0))


def _hinge_embedding_derivative(xp: Namespace, x: Array, y: Array, /, *, margin: float) -> Array:
    # PyTorch: 1 for y = 1; -1 for y = -1 where margin - x >= 0 (the kink included: the
    # gradient of clamp_min), else 0. margin - x >= 0 exactly when x <= margin.
    positive = indicator(xp, y > 0.0)
    return positive - (1.0 - positive) * indicator(xp, x <= margin)


_HINGE_EMBEDDING = ElementwiseLoss(
    name="hinge_embedding_loss",
    input=Operand("input", REAL),
    target=Operand("target", SIGN),
    value=functools.partial(_hinge_embedding, margin=1.0),
    derivative=functools.partial(_hinge_embedding_derivative, margin=1.0),
)


@functools.lru_cache(maxsize=64)
def _hinge_embedding_with(margin: float) -> ElementwiseLoss:
    return replace(
        _HINGE_EMBEDDING,
        value=functools.partial(_hinge_embedding, margin=margin),
        derivative=functools.partial(_hinge_embedding_derivative, margin=margin),
    )


def hinge_embedding_loss(
    input: object,
    target: object,
    *,
    margin: float = 1.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Hinge embedding loss: ``torch.nn.functional.hinge_embedding_loss``.

    .. math:: \ell_i = \begin{cases} x_i & y_i = 1 \\
                                     \max(0,\ \text{margin} - x_i) & y_i = -1 \end{cases}

    For learning embeddings from pair distances ``x`` (often an L1 distance): similar
    pairs (``y = 1``) are pulled together, dissimilar ones (``y = -1``) pushed beyond
    ``margin``.

    Parameters
    ----------
    input : array_like
        Distances (or any scores), any shape.
    target : array_like
        Labels -1 or +1, same shape as ``input``.
    margin : float, keyword-only
        A finite real number (default 1.0, as in PyTorch).
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    Notes
    -----
    Matches PyTorch to the last bit in float64 (the same single rounding of
    ``margin - x``). PyTorch also accepts other labels (a 0 then adds both cases);
    here only -1 and +1 are.

    Examples
    --------
    >>> print(hinge_embedding_loss([0.5, 0.5, 2.0], [1, -1, -1], reduction="none"))
    [0.5 0.5 0. ]
    """
    loss = _hinge_embedding_with(margin_option("hinge_embedding_loss", margin))
    value = loss(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("hinge_embedding_loss", "target", target)
    return value


def hinge_embedding_loss_grad(
    input: object,
    target: object,
    *,
    margin: float = 1.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`hinge_embedding_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_i}{\partial x_i} = \begin{cases} 1 & y_i = 1 \\
              -1 & y_i = -1,\ x_i \le \text{margin} \\ 0 & \text{otherwise} \end{cases}

    At the kink ``x == margin`` it is -1, as PyTorch's autograd gives. Scaled by the
    weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(hinge_embedding_loss_grad([0.5, 1.0, 2.0], [1, -1, -1], reduction="none"))
    [ 1. -1.  0.]
    """
    loss = _hinge_embedding_with(margin_option("hinge_embedding_loss_grad", margin))
    gradient = loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("hinge_embedding_loss_grad", "target", target)
    return gradient


def _hinge_embedding_reference(xp: Namespace, x: Array, y: Array, /, *, margin: float = 1.0) -> Array:
    return xp.where(y > 0, x, xp.maximum(margin - x, 0.0))


def _hinge_embedding_reference_grad(xp: Namespace, x: Array, y: Array, /, *, margin: float = 1.0) -> Array:
    return xp.where(y > 0, 1.0, xp.where(x <= margin, -1.0, 0.0))  # the kink x = margin included


register("hinge_embedding_loss", _hinge_embedding_reference, _hinge_embedding_reference_grad)
