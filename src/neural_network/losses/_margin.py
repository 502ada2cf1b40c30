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
import math
from dataclasses import replace
from typing import Any

import numpy as np

from neural_network import _blocks, _reduction, _validation
from neural_network._numerics import sigmoid_pair, two_sum
from neural_network._validation import EXTENDED_REAL, NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import InvalidInputError, InvalidTypeError, OutOfRangeError, ShapeMismatchError
from neural_network.losses._common import _option
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._focal import _class_prepare, _reduce_row_gradient, _reduce_rows, _rows_of

# --------------------------------------------------------------------------- labels -1 and +1


def _sign_hint(low: float, high: float) -> str:
    if low >= 0.0 and high <= 1.0:
        return " Labels coded as 0/1? Map them to -1/+1 with 2 * y - 1."
    if low >= 0.0 and float(high).is_integer():
        return (
            " Class indices? These losses are binary: map the positive class to +1 and "
            "every other to -1 (e.g. numpy.where(y == k, 1.0, -1.0))."
        )
    return " Regression targets or scores? Labels must be exactly -1 or +1."


SIGN = Domain("labels -1 or +1", -1.0, 1.0, hint=_sign_hint)
"""Labels in {-1, +1}. Its bounds reject what lies outside [-1, 1];
:func:`check_signs` rejects what lies strictly between."""


def check_signs(func: str, name: str, values: object) -> None:
    """Refuse labels strictly between -1 and +1 (a 0/1 label gets the hint ``2 * y - 1``).

    For arguments already checked against :data:`SIGN` (finite, in [-1, 1]): the only
    values left to refuse are those with ``|y| < 1``. Large NumPy arrays are measured in
    blocks, on several threads.
    """
    xp, device = _validation.namespace(func, **{name: values})
    y = _validation.as_real_array(func, name, values, xp, device)
    if math.prod(y.shape) == 0 or _smallest_magnitude(xp, y) == 1.0:
        return
    inside = xp.abs(y) < 1.0
    count, where, value = _validation._locate(xp, y, inside)
    has_zero = bool(xp.any(y == 0.0))
    hint = (
        "Labels coded as 0/1? Map them to -1/+1 with 2 * y - 1."
        if has_zero
        else "Soft labels or probabilities are not margins' labels: use -1 or +1 (e.g. numpy.sign(y))."
    )
    raise OutOfRangeError(
        f"{func}: {name} must hold labels -1 or +1; got {count} value{'s' if count != 1 else ''} "
        f"that {'are' if count != 1 else 'is'} neither (first: {name}{where} = {value:.6g}). {hint}"
    )


def _smallest_magnitude(xp: Namespace, y: Array) -> float:
    if isinstance(y, np.ndarray):
        flat = np.reshape(y, -1)
        return min(_blocks.map_blocks(lambda start, stop: float(np.min(np.abs(flat[start:stop]))), flat.size))
    return float(xp.min(xp.abs(_validation.detached(y))))


def _indicator(xp: Namespace, mask: Array) -> Array:
    """A boolean array as 0.0/1.0 (NumPy multiplies booleans directly; the array API does not)."""
    if isinstance(mask, np.ndarray):
        return mask
    return xp.astype(mask, xp.float64)


def _margin(func: str, margin: object) -> float:
    return _option(func, "margin", margin, meaning="a finite real number", low=-math.inf, low_included=False)


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


# --------------------------------------------------------------------------- hinge, squared hinge, perceptron


def _hinge(xp: Namespace, x: Array, y: Array, /) -> Array:
    # y x is exact for y = +-1, so 1 - y x is rounded once: correctly rounded.
    return xp.maximum(1.0 - y * x, 0.0)


def _hinge_derivative(xp: Namespace, x: Array, y: Array, /) -> Array:
    # -y where 1 - y x >= 0 (the kink included; see the module), else 0. "0.0 - ..."
    # makes the zeros +0.0 whatever the sign of y.
    return 0.0 - y * _indicator(xp, y * x <= 1.0)


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
    return 0.0 - y * _indicator(xp, y * x <= 0.0)


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


# --------------------------------------------------------------------------- hinge embedding


def _hinge_embedding(xp: Namespace, x: Array, y: Array, /, *, margin: float) -> Array:
    # PyTorch: x for y = 1, max(0, margin - x) for y = -1 (one rounding: its bits).
    return xp.where(y > 0.0, x, xp.maximum(margin - x, 0.0))


def _hinge_embedding_derivative(xp: Namespace, x: Array, y: Array, /, *, margin: float) -> Array:
    # PyTorch: 1 for y = 1; -1 for y = -1 where margin - x >= 0 (the kink included: the
    # gradient of clamp_min), else 0. margin - x >= 0 exactly when x <= margin.
    positive = _indicator(xp, y > 0.0)
    return positive - (1.0 - positive) * _indicator(xp, x <= margin)


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
    loss = _hinge_embedding_with(_margin("hinge_embedding_loss", margin))
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
    loss = _hinge_embedding_with(_margin("hinge_embedding_loss_grad", margin))
    gradient = loss.grad(input, target, reduction=reduction, sample_weight=sample_weight)
    check_signs("hinge_embedding_loss_grad", "target", target)
    return gradient


# --------------------------------------------------------------------------- margin ranking


def _ranking(xp: Namespace, v: Array, y: Array, /) -> Array:
    # v = margin - y (x1 - x2), already formed exactly (see _ranking_argument).
    return xp.maximum(v, 0.0)


def _ranking_derivative(xp: Namespace, v: Array, y: Array, /) -> Array:
    # d/dx1 = -y where v >= 0 (the kink included, as PyTorch's clamp_min), else 0.
    return 0.0 - y * _indicator(xp, v >= 0.0)


_RANKING = ElementwiseLoss(
    name="margin_ranking_loss",
    # The engine sees v = margin - y (input1 - input2), formed after input1 and input2
    # are checked: v is inf only where the loss itself exceeds the float64 range.
    input=Operand("input1", EXTENDED_REAL),
    target=Operand("target", SIGN),
    value=_ranking,
    derivative=_ranking_derivative,
)


def _ranking_argument(xp: Namespace, x1: Array, x2: Array, y: Array, margin: float) -> Array:
    """``margin - y (x1 - x2)``, rounded once from its exact value (float64 arrays).

    The difference is carried exactly (TwoSum) because the margin may cancel it: with
    ``x1 - x2`` rounded first, ``(1.0000000000000002 - 1e-17) - 1`` (``y = -1``,
    ``margin = -1``) would lose the whole 1e-17 of its 2.1e-16. ``x1 - x2`` overflows for finite inputs far apart (1e308 and -1e308): there
    the same is computed from the halves (exact at that size) and doubled, which is inf
    only where the loss itself is beyond the float64 range.
    """
    d, d_error = two_sum(x1, -x2)
    s, s_error = two_sum(margin, -y * d)
    v = s + (s_error - y * d_error)
    overflow = xp.isinf(d)
    if not bool(xp.any(overflow)):
        return v
    h, h_error = two_sum(x1 * 0.5, -(x2 * 0.5))
    s, s_error = two_sum(0.5 * margin, -y * h)
    halved = s + (s_error - y * h_error)
    return xp.where(overflow, 2.0 * halved, v)


def _ranking_arrays(
    func: str, input1: object, input2: object, target: object, sample_weight: object, margin: object
) -> tuple[float, Namespace, Any, Array, Array, Array]:
    """The margin, the namespace and device, and ``input1``, ``input2`` and ``target`` as
    arrays of one shape (their values not checked yet)."""
    m = _margin(func, margin)
    xp, device = _validation.namespace(
        func, input1=input1, input2=input2, target=target, sample_weight=sample_weight
    )
    x1 = _validation.as_real_array(func, "input1", input1, xp, device)
    x2 = _validation.as_real_array(func, "input2", input2, xp, device)
    y = _validation.as_real_array(func, "target", target, xp, device)
    _validation.check_same_shape(func, "input1", x1, "input2", x2)
    _validation.check_same_shape(func, "input1", x1, "target", y)
    return m, xp, device, x1, x2, y


def _ranking_prepare(func: str, xp: Namespace, x1: Array, x2: Array, y: Array, m: float) -> Array:
    """Check the values of ``input1``, ``input2`` and ``target``; return ``v``."""
    _validation.check_values(func, "input1", x1, xp, REAL)
    _validation.check_values(func, "input2", x2, xp, REAL)
    _validation.check_values(func, "target", y, xp, SIGN)
    check_signs(func, "target", y)
    with np.errstate(over="ignore", invalid="ignore"):
        return _ranking_argument(
            xp, _validation.working(xp, x1), _validation.working(xp, x2), _validation.working(xp, y), m
        )


# The blocked evaluation. Forming v over whole arrays and handing it to the loss engine
# writes and reads about twenty full-size temporaries (TwoSum twice, the overflow check)
# in main memory, and the engine reads v and y once more. Here every block of input1,
# input2 and target is read once and everything else happens in the cache, on several
# threads (see neural_network._blocks); the blocks' results are the unblocked ones, bit
# for bit, whatever the thread count.
#
# Nothing is refused here. Each block proves its arguments valid on the way: the labels
# by min |y| = max |y| = 1 (NaN fails both), input1 and input2 by a finite sum of v,
# which is NaN or infinite wherever either is (and where x1 - x2 overflows, which the
# whole-array path repairs from the halves). Any block that proves less sends the call
# through the whole-array path, which checks everything in the documented order and
# raises the documented errors; so do reductions and sample weights it would refuse.


def _ranking_weights(
    func: str, x1: Array, sample_weight: object, reduction: str, device: Any
) -> tuple[Array | None, float] | None:
    """The sample weights in the working precision and what a mean divides by, as the loss
    engine prepares them; None where the engine would refuse them (it then explains why)."""
    if sample_weight is None:
        return None, float(x1.size)
    try:
        w = _validation.as_real_array(func, "sample_weight", sample_weight, np, device)
        _validation.check_same_shape(func, "input1", x1, "sample_weight", w)
        _, largest = _validation.check_values(func, "sample_weight", w, np, NONNEGATIVE)
    except (InvalidInputError, InvalidTypeError):
        return None
    if not isinstance(w, np.ndarray) or (reduction == "mean" and largest == 0.0):
        return None
    w = np.reshape(_validation.working(np, w), -1)
    if reduction != "mean":
        return w, 1.0
    w = _reduction.scale_weights(w, largest, x1.size)
    return w, float(_reduction.total(np, w))


def _ranking_block(x1: Array, x2: Array, y: Array, margin: float) -> Array:
    """``_ranking_argument`` of float64 blocks where ``x1 - x2`` does not overflow, bit for
    bit, in place in three scratch arrays.

    For ``margin == 0`` the argument is ``y (x2 - x1)``, a single rounding (the TwoSum
    terms vanish; a zero comes out +0 either way once the loss takes ``max(v, 0)``, and
    its derivative tests ``v >= 0``). Otherwise the same operations as TwoSum, reordered
    only where a result could change the sign of a zero, which ``s + ...`` with ``s``
    nonzero or +0 absorbs (``margin - y d`` is exactly 0 only as +0).
    """
    if margin == 0.0:
        d = np.subtract(x2, x1)
        return np.multiply(d, y, out=d)
    d = np.subtract(x1, x2)  # x1 + (-x2)
    b = np.subtract(d, x1)  # TwoSum(x1, -x2): b_virtual
    e = np.subtract(d, b)
    np.subtract(x1, e, out=e)
    np.add(b, x2, out=b)
    np.subtract(e, b, out=e)  # the error of d: (x1 - (d - b)) + (-x2 - b)
    np.multiply(d, y, out=d)  # y d, exact
    np.multiply(e, y, out=e)  # y d_error, exact
    s = np.subtract(margin, d)  # TwoSum(margin, -y d)
    bv = np.subtract(s, margin)
    np.add(bv, d, out=d)  # -(-y d - b_virtual)
    np.subtract(s, bv, out=bv)
    np.subtract(margin, bv, out=bv)
    np.subtract(bv, d, out=bv)  # s_error
    np.subtract(bv, e, out=bv)  # s_error - y d_error
    return np.add(s, bv, out=s)


def _ranking_active(x1: Array, x2: Array, y: Array, yd: Array, margin: float) -> Array:
    """Where ``margin - y (x1 - x2) >= 0`` exactly (as ``v >= 0``), from ``yd = y fl(x1 - x2)``.

    Rounding is monotone and ``margin`` a float, so ``yd < margin`` and ``yd > margin``
    decide it; only at ``yd == margin`` does the rounding error of ``x1 - x2`` (TwoSum)
    matter. The gradient needs no more than that sign: no ``v``.
    """
    active = np.less_equal(yd, margin)
    ties = np.flatnonzero(yd == margin)
    if ties.size:
        p, q = x1[ties], x2[ties]
        d = p - q
        b = d - p
        error = (p - (d - b)) - (q + b)  # x1 - x2 = d + error
        active[ties] = y[ties] * error <= 0.0
    return active


def _ranking_blocked(
    func: str,
    x1: Array,
    x2: Array,
    y: Array,
    margin: float,
    reduction: object,
    sample_weight: object,
    device: Any,
    *,
    gradient: bool,
) -> Array | tuple[Array, Array] | None:
    """The loss (or both gradients) of large NumPy arrays, block by block; None where the
    whole-array path must decide (see the comment above)."""
    if not (isinstance(x1, np.ndarray) and x1.size > _blocks.BLOCK) or reduction not in ("mean", "sum", "none"):
        return None
    prepared = _ranking_weights(func, x1, sample_weight, str(reduction), device)
    if prepared is None:
        return None
    w, denominator = prepared
    mean, reduced = reduction == "mean", reduction != "none" and not gradient
    shape, size = tuple(x1.shape), x1.size
    dtype = np.result_type(x1.dtype, x2.dtype)
    a, b, t = np.reshape(x1, -1), np.reshape(x2, -1), np.reshape(y, -1)
    first = np.empty(0 if reduced else size, dtype=dtype)
    second = np.empty(size if gradient else 0, dtype=dtype)

    def task(start: int, stop: int) -> tuple[bool, list[float]]:
        # The floating-point error state belongs to each thread: set it here, in the thread.
        with np.errstate(over="ignore", invalid="ignore"):
            labels = _to_float64(t[start:stop])
            magnitude = np.abs(labels)
            x1, x2 = _to_float64(a[start:stop]), _to_float64(b[start:stop])
            if gradient and margin != 0.0:
                v = np.subtract(x1, x2)
                np.multiply(v, labels, out=v)  # y (x1 - x2), rounded once
            else:
                v = _ranking_block(x1, x2, labels, margin)
            valid = (
                float(np.minimum.reduce(magnitude)) == 1.0 == float(np.maximum.reduce(magnitude))
                and math.isfinite(np.add.reduce(v))
            )
            if not valid:
                return False, []
            if gradient:
                active = _ranking_active(x1, x2, labels, v, margin) if margin != 0.0 else np.greater_equal(v, 0.0)
                # Into a scratch array: a float64 block of the labels is the caller's memory.
                values = np.multiply(labels, active, out=magnitude)
                values = np.subtract(0.0, values, out=values)  # 0.0 - y [v >= 0], as _ranking_derivative
            else:
                values = np.maximum(v, 0.0, out=v)
            if w is not None:
                values = _reduction.apply_sample_weight(np, values, w[start:stop])
            if reduced:
                return True, _reduction.partials(values)
            part = first[start:stop]
            if mean and gradient:
                np.divide(values, denominator, out=part)
            else:
                np.copyto(part, values, casting="same_kind")
            if gradient:
                np.subtract(0.0, part, out=second[start:stop])
            return True, []

    pieces = _blocks.map_blocks(task, size)
    if not all(valid for valid, _ in pieces):
        return None
    if gradient:
        return np.reshape(first, shape), np.reshape(second, shape)
    if not reduced:
        return np.reshape(first, shape)
    total = _reduction.combine([partial for _, partials in pieces for partial in partials])
    value = total / denominator if mean else total
    if not math.isfinite(value):  # the engine redoes an overflow in the extended range
        return None
    return np.asarray(value, dtype=dtype)[()]


def _to_float64(array: Array) -> Array:
    return array.astype(np.float64, copy=False)


def _in_dtype(xp: Namespace, result: Array, dtype: Any) -> Array:
    """``result`` (float64) rounded once to ``dtype``; a NumPy scalar stays a scalar."""
    if isinstance(result, (np.ndarray, np.generic)):
        return np.asarray(result, dtype=dtype)[()]
    return xp.astype(result, dtype)


def margin_ranking_loss(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Margin ranking loss: ``torch.nn.functional.margin_ranking_loss``.

    .. math:: \ell_i = \max\bigl(0,\ -y_i\,(x^{(1)}_i - x^{(2)}_i) + \text{margin}\bigr)

    ``y = 1`` says ``input1`` should rank above ``input2`` by at least ``margin``,
    ``y = -1`` the reverse.

    Parameters
    ----------
    input1, input2 : array_like
        Scores of the two items of each pair, the same shape.
    target : array_like
        Labels -1 or +1, the same shape.
    margin : float, keyword-only
        A finite real number (default 0.0, as in PyTorch).
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input1``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input1``; the float dtype
        of ``input1`` and ``input2`` together (float64 for integers and lists).

    See Also
    --------
    margin_ranking_loss_grad : its gradient, a pair (d/d input1, d/d input2).

    Notes
    -----
    Each element is rounded once from the exact ``margin - y (x1 - x2)``: PyTorch
    rounds ``x1 - x2`` first, so the two agree to the last bit except where the margin
    cancels the difference (then PyTorch's result can be off by the rounding of the
    difference). Where ``x1 - x2`` overflows although both are finite (1e308 and
    -1e308) it is taken from the halves; a loss beyond the float64 range is ``inf``,
    and so is any reduction over it (PyTorch's as well). Large NumPy arrays are evaluated
    block by block, on several threads (see :func:`neural_network.set_num_threads`), with
    the same results to the last bit.

    Examples
    --------
    >>> print(margin_ranking_loss([2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1, 1, -1], margin=0.5, reduction="none"))
    [0.  0.5 0. ]
    """
    func = "margin_ranking_loss"
    m, xp, device, x1, x2, y = _ranking_arrays(func, input1, input2, target, sample_weight, margin)
    blocked = _ranking_blocked(func, x1, x2, y, m, reduction, sample_weight, device, gradient=False)
    if blocked is not None:
        return blocked
    v = _ranking_prepare(func, xp, x1, x2, y, m)
    result = _RANKING(v, y, reduction=reduction, sample_weight=sample_weight)
    return _in_dtype(xp, result, xp.result_type(x1.dtype, x2.dtype))


def margin_ranking_loss_grad(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array]:
    r"""Gradient of :func:`margin_ranking_loss`: the pair (d/d ``input1``, d/d ``input2``).

    .. math:: \frac{\partial \ell_i}{\partial x^{(1)}_i} = -\frac{\partial \ell_i}{\partial x^{(2)}_i}
              = \begin{cases} -y_i & -y_i (x^{(1)}_i - x^{(2)}_i) + \text{margin} \ge 0 \\
                              0 & \text{otherwise} \end{cases}

    At the kink (the argument exactly 0) the gradient is taken, as PyTorch's autograd
    does. Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. Both arrays
    have ``input1``'s shape and the dtype of :func:`margin_ranking_loss`.

    Examples
    --------
    >>> g1, g2 = margin_ranking_loss_grad([2.0, 1.0], [1.0, 1.0], [1, 1], reduction="none")
    >>> print(g1, g2)
    [ 0. -1.] [0. 1.]
    """
    func = "margin_ranking_loss_grad"
    m, xp, device, x1, x2, y = _ranking_arrays(func, input1, input2, target, sample_weight, margin)
    blocked = _ranking_blocked(func, x1, x2, y, m, reduction, sample_weight, device, gradient=True)
    if isinstance(blocked, tuple):
        return blocked
    v = _ranking_prepare(func, xp, x1, x2, y, m)
    dtype = xp.result_type(x1.dtype, x2.dtype)
    first = _RANKING.grad(v, y, reduction=reduction, sample_weight=sample_weight)
    return _in_dtype(xp, first, dtype), _in_dtype(xp, 0.0 - first, dtype)


# --------------------------------------------------------------------------- categorical hinge


def _categorical_hinge_rows(func: str, input: object, target: object, reduction: object, sample_weight: object) -> Any:
    """The validated arguments, the (M, C) scores and the (M, C) one-hot target."""
    checked = _class_prepare(func, input, target, reduction, sample_weight)
    xp = checked.xp
    if checked.classes < 2:
        raise ShapeMismatchError(
            f"{func}: input must have at least 2 classes (the margin is against the best other "
            f"class); got {checked.classes}. For a single binary score use hinge_loss."
        )
    scores, onehot = _rows_of(checked)
    if checked.target.probabilities is not None and onehot.shape[0]:
        hard = bool(xp.all((onehot == 0.0) | (onehot == 1.0))) and bool(xp.all(xp.sum(onehot, axis=1) == 1.0))
        if not hard:
            raise OutOfRangeError(
                f"{func}: a target of the input's shape must hold one-hot rows (a single 1, zeros "
                "elsewhere); got soft labels. Pass class indices, or target.argmax(axis=1)."
            )
    return checked, scores, onehot


def _categorical_hinge_margin(xp: Namespace, scores: Array, onehot: Array) -> tuple[Array, Array]:
    """``1 + max_{c != t} x_c - x_t`` rounded once from its exact value, and the best other class."""
    others = xp.where(onehot > 0.0, -math.inf, scores)
    best = xp.max(others, axis=1)
    own = xp.sum(onehot * scores, axis=1)  # one non-zero term: exact
    with np.errstate(over="ignore", invalid="ignore"):
        d, d_error = two_sum(best, -own)
        s, s_error = two_sum(1.0, d)
        v = s + (s_error + d_error)
        v = xp.where(xp.isinf(d), d, v)  # beyond the float64 range: inf, the exact answer
    return v, xp.argmax(others, axis=1)


def categorical_hinge_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Categorical (Crammer-Singer) hinge loss, Keras's ``CategoricalHinge``.

    .. math:: \ell_n = \max\bigl(0,\ 1 + \max_{c \ne t_n} x_{nc} - x_{n t_n}\bigr)

    Parameters
    ----------
    input : array_like
        Scores, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``, with ``C >= 2``; finite.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``), or one-hot rows of the input's
        shape (soft labels are refused).
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over samples; ``"none"`` gives ``(N, d1, ...)``.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``.

    Notes
    -----
    Keras computes ``max(0, 1 + max((1 - y) * x) - sum(y * x))``: its "best other class"
    includes the 0 it leaves at the target's place, so where every other score is
    negative Keras's loss is larger than this one (scores ``[-1, -2]``, target 0: Keras 2,
    here 0). For non-negative scores (probabilities, Keras's documented input) the two
    agree. Each element is rounded once from the exact ``1 + x_best - x_t``.

    Examples
    --------
    >>> print(categorical_hinge_loss([[2.0, 1.5, -1.0], [0.0, 3.0, 1.0]], [0, 0], reduction="none"))
    [0.5 4. ]
    """
    func = "categorical_hinge_loss"
    checked, scores, onehot = _categorical_hinge_rows(func, input, target, reduction, sample_weight)
    v, _ = _categorical_hinge_margin(checked.xp, scores, onehot)
    return _reduce_rows(checked, checked.xp.maximum(v, 0.0))


def categorical_hinge_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`categorical_hinge_loss` with respect to ``input``.

    Where the margin is violated (``1 + x_best - x_t >= 0``, the kink included, as every
    hinge here), -1 at the target class and +1 at the best other class (the first of them
    on a tie); 0 elsewhere. Scaled by the sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(categorical_hinge_loss_grad([[2.0, 1.5, -1.0]], [0]))
    [[-1.  1.  0.]]
    """
    func = "categorical_hinge_loss_grad"
    checked, scores, onehot = _categorical_hinge_rows(func, input, target, reduction, sample_weight)
    xp = checked.xp
    v, best = _categorical_hinge_margin(xp, scores, onehot)
    positions = xp.arange(checked.classes, device=checked.device)
    best_hot = _indicator(xp, best[:, None] == positions[None, :])
    active = _indicator(xp, v >= 0.0)[:, None]
    return _reduce_row_gradient(checked, active * (best_hot - onehot) + 0.0)
