"""Binary classification losses: each per-element value with its derivative beside it."""

from __future__ import annotations

from typing import Any

import numpy as np

from neural_network import _blocks, _validation
from neural_network._numerics import (
    TINY,
    exp_double,
    exp_scaled,
    log1p,
    sigmoid_pair,
    softplus_pair,
    two_product,
    two_sum,
)
from neural_network._validation import LABEL, PROBABILITY, REAL, Array, Namespace
from neural_network.losses._common import any_true, refine_flagged
from neural_network.losses._elementwise import ElementwiseLoss, Operand, PairCheck, Reduction
from neural_network.losses._reference import register


def refuse_swapped(p_name: str, t_name: str, *, options: str = "", logits: str, other: str = "") -> PairCheck:
    """The check that a prediction of only 0s and 1s is not the target passed first.

    Looked at only where the prediction holds an exact 0 or 1 and every target lies
    strictly between 0 and 1 (their ranges show it, free); the message shows this
    edition's order, ``func(p_name, t_name<options>)``, the call ``logits`` that takes
    logits instead, and ``other``. The loss and its derivative are infinite wherever it
    raises (a label strictly between 0 and 1 against a probability of exactly 0 or 1),
    as :class:`PairCheck` needs.
    """

    def check(func: str, xp: Namespace, p: Array, t: Array) -> None:
        call = f"{func}({p_name}, {t_name}{options})"
        _validation.check_not_swapped(func, xp, p_name, p, t_name, t, call=call, logits=logits, other=other)

    return PairCheck(applies=_validation.may_be_swapped, check=check)


# --------------------------------------------------------------------------- on probabilities


def bce_values(xp: Namespace, p: Array, y: Array, /) -> Array:
    if isinstance(p, np.ndarray) and p.ndim and p.size:  # 0-d: NumPy's scalars take no out=
        hard = _hard_label_binary_cross_entropy(p, y)
        if hard is not None:
            return hard
        return _soft_label_binary_cross_entropy(p, y)
    # log(1 - p) as log1p(-p), from one log (see _numerics.log1p): for tiny p, 1 - p
    # rounds to 1 and its plain log to 0. A term whose factor (y or 1 - y) is 0 is 0,
    # its limit, even where its log is -inf: IEEE arithmetic would give 0 * -inf = NaN,
    # so the log is taken of a harmless 1 there.
    log_p = xp.log(_unless(xp, y > 0, p, 1.0))
    log_q = log1p(xp, -_unless(xp, y < 1, p, 0.0))
    # Both terms are <= 0, so adding them cannot cancel. "0.0 - s" rather than "-s"
    # makes a perfect prediction give 0.0, not -0.0.
    return 0.0 - (y * log_p + (1.0 - y) * log_q)


def _soft_label_binary_cross_entropy(
    p: np.ndarray[Any, np.dtype[np.float64]], y: np.ndarray[Any, np.dtype[np.float64]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The general form above, for NumPy: the same operations in the same order (so the
    same bits), written into one new array and four of the thread's work arrays instead
    of fresh temporaries (see ``_blocks.scratch``)."""
    log_p, log_q, c, t = _blocks.scratch(__name__, 4, p.shape)
    loss: np.ndarray[Any, np.dtype[np.float64]] = np.subtract(1.0, y)
    np.maximum(p, np.less_equal(y, 0.0), out=log_p)  # p, or 1 where y = 0: _unless(y > 0, p, 1)
    np.log(log_p, out=log_p)
    np.minimum(p, np.less(y, 1.0), out=c)  # m = p, or 0 where y = 1: _unless(y < 1, p, 0)
    # log1p(-m) as _numerics.log1p computes it: u = 1 - m, log(u) + ((1 - u) - m) / max(u, tiny)
    np.subtract(1.0, c, out=log_q)
    np.subtract(1.0, log_q, out=t)
    np.subtract(t, c, out=c)
    np.maximum(log_q, TINY, out=t)
    np.divide(c, t, out=c)
    np.log(log_q, out=log_q)
    np.add(log_q, c, out=log_q)
    np.multiply(y, log_p, out=log_p)
    np.multiply(loss, log_q, out=log_q)
    np.add(log_p, log_q, out=log_p)
    np.subtract(0.0, log_p, out=loss)
    return loss


def _hard_label_binary_cross_entropy(
    p: np.ndarray[Any, np.dtype[np.float64]], y: np.ndarray[Any, np.dtype[np.float64]]
) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """The loss with one logarithm per element, where every label is 0 or 1 (else None).

    With a hard label the general form is ``-log(p)`` (y = 1) or ``-log1p(-p)`` (y = 0),
    the latter computed as ``_numerics.log1p`` does: ``log(u) + ((1 - u) - p) / u`` with
    ``u = 1 - p``. Both are ``-(log(w) + e / w)`` with ``w = |(1 - y) - p|`` (``p``, or
    ``u``) and ``e = ((1 - w) - p) (1 - y)`` (0, or the rounding error of ``u``; ``0 / p``
    is 0 and ``log(p) + 0`` is ``log(p)``), here formed with its sign changed, which is
    exact. So one log an element instead of two, in ten NumPy calls, with the operations
    the general form makes on every element: the same bits, whatever the CPU's ``log``.
    """
    if not _hard_labels(y):
        return None
    w, c, floor = _blocks.scratch(__name__, 3, p.shape)
    loss: np.ndarray[Any, np.dtype[np.float64]] = np.subtract(1.0, y)  # s = 1 - y, 0 or 1
    np.subtract(loss, p, out=w)
    np.abs(w, out=w)  # p (y = 1), or u = 1 - p rounded (y = 0)
    np.subtract(1.0, w, out=c)
    np.subtract(p, c, out=c)
    np.multiply(c, loss, out=c)  # 0 (y = 1), or p - (1 - u): minus the rounding error of u (y = 0)
    np.maximum(w, TINY, out=floor)
    np.divide(c, floor, out=c)
    np.log(w, out=w)
    # -(log(w) + e / w), for e = -c, as (-e / w) - log(w): the same bits, and +0.0, not
    # -0.0, for a perfect prediction (x - x is +0.0), as the general form's "0 - s" gives.
    np.subtract(c, w, out=loss)
    return loss


def _hard_labels(y: np.ndarray[Any, np.dtype[np.float64]]) -> bool:
    """Whether every label is 0 or 1: whether the labels that are not 0 are all exactly 1.

    Two exact comparisons and two counts, with nothing rounded: a soft label however
    close to 0 or 1 (1e-300, 1 - 2**-53) is not 0 or 1, and NaN is neither.
    """
    (flags,) = _blocks.scratch(__name__, 1, y.shape, np.bool_)
    nonzero = int(np.count_nonzero(np.not_equal(y, 0.0, out=flags)))
    return nonzero == int(np.count_nonzero(np.equal(y, 1.0, out=flags)))


def _unless(xp: Namespace, keep: Array, p: Array, bound: float) -> Array:
    """``where(keep, p, bound)`` for probabilities ``p`` and a bound of 1 or 0.

    On NumPy without ``where``, whose branches cost most of the loss for random labels
    (see ``_numerics.select_larger``): ``maximum(p, not keep)`` is ``p`` or 1, and
    ``minimum(p, keep)`` is ``p`` or 0, exactly, since 0 <= p <= 1.
    """
    if not isinstance(p, np.ndarray):
        return xp.where(keep, p, bound)
    return np.maximum(p, ~keep) if bound == 1.0 else np.minimum(p, keep)


def _small_binary_cross_entropy(xp: Namespace, p: Array, y: Array, /) -> Array:
    """The general form without its guards, for small calls (``ElementwiseLoss.small_value``).

    ``y log(p) + (1 - y) log1p(-p)``, with the same ``log1p``, has the bits of the guarded
    form wherever it is finite: a guard changes a term only where its factor is 0, and ``0 * log(...)`` is
    then a zero either way, which leaves the other term's bits unchanged. It is NaN or
    infinite where the guards matter (p = 0 or 1) and wherever p leaves [0, 1] (the
    log of a negative number is NaN), so the engine need not measure ``A`` first.
    Half the operations of the guarded forms.
    """
    return 0.0 - (y * xp.log(p) + (1.0 - y) * log1p(xp, -p))


def binary_cross_entropy_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    # d/dp = (p - y) / (p (1 - p)). With a hard label the numerator p - y rounds exactly
    # like the factor 1 - p (y = 1) or p (y = 0) of the denominator, so the quotient is
    # -1/p or 1/(1 - p) to within about one unit in the last place.
    # At p == y in {0, 1} it is 0/0; its limit is 1 / (1 - p) = 1 (y = 0) or -1/p = -1 (y = 1).
    if isinstance(p, np.ndarray) and p.ndim:
        ratio = _binary_cross_entropy_derivative_inside(p, y)
        if ratio is not None:
            return ratio
    denominator = p * (1.0 - p)
    limit = (denominator == 0.0) & (p == y)
    ratio = (p - y) / xp.where(limit, 1.0, denominator)
    return xp.where(limit, 1.0 - 2.0 * y, ratio)


def _binary_cross_entropy_derivative_inside(
    p: np.ndarray[Any, np.dtype[np.float64]], y: np.ndarray[Any, np.dtype[np.float64]]
) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """The derivative where no ``p`` is 0 or 1 (else None): ``(p - y) / (p (1 - p))``
    with the same operations as the general form (whose limits are then not needed),
    in one new array and one work array: six NumPy calls instead of eleven."""
    (denominator,) = _blocks.scratch(__name__, 1, p.shape)
    np.subtract(1.0, p, out=denominator)
    np.multiply(p, denominator, out=denominator)
    if np.equal(denominator, 0.0).any():
        return None
    ratio: np.ndarray[Any, np.dtype[np.float64]] = np.subtract(p, y)
    np.divide(ratio, denominator, out=ratio)
    return ratio


BCE = ElementwiseLoss(
    name="binary_cross_entropy",
    input=Operand("A", PROBABILITY),
    target=Operand("y", LABEL),
    value=bce_values,
    derivative=binary_cross_entropy_derivative,
    small_value=_small_binary_cross_entropy,
    pair_check=refuse_swapped(
        "A",
        "y",
        logits="binary_cross_entropy_with_logits(logits, y)",
        other=" (the pure-Python edition, neural_network.pure, takes (y_true, y_pred), as its article does)",
    ),
)


def binary_cross_entropy(
    A: object, y: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Binary cross-entropy (log loss) of predicted probabilities.

    .. math:: \ell_i = -\bigl(y_i \log A_i + (1 - y_i) \log(1 - A_i)\bigr)

    Parameters
    ----------
    A : array_like
        Predicted probabilities in [0, 1] (after a sigmoid), any shape. Argument order
        (prediction, target) follows the NumPy article and PyTorch; by keyword,
        ``binary_cross_entropy(A=A, y=y)`` in any order.
    y : array_like
        Labels in [0, 1], same shape as ``A``: 0 or 1, or a soft label between.
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``A``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``A``; ``A``'s float dtype.

    Raises
    ------
    InvalidInputError
        Where the arguments look swapped: ``A`` holds only 0 and 1 while every ``y`` lies
        strictly between (the labels passed first, the probabilities second). The
        message shows this edition's order. That loss would be ``inf``. The ranges the
        checks measure anyway decide whether to look, so soft predictions cost nothing.

    See Also
    --------
    binary_cross_entropy_grad : its gradient with respect to ``A``.
    binary_cross_entropy_with_logits : the same loss from logits, exact where this
        one cannot be (a probability of 1 - 1e-20 is already rounded to 1).

    Notes
    -----
    **Exact, with no epsilon.** Nothing is clipped: ``A = 1e-300`` with ``y = 1``
    gives 690.77552789821368, its true value. ``A = 0`` with ``y = 1`` (or ``A = 1``
    with ``y = 0``) gives ``inf``, the exact value, without a warning, and an
    infinite gradient; use the logits version to avoid it. Other libraries return a
    finite stand-in there: PyTorch clamps each log at -100 (loss 100), Keras clips
    ``A`` to [1e-7, 1 - 1e-7] (loss 16.1), the NumPy article adds 1e-15 inside the
    logs (loss 34.5) and the pure-Python article clips to 1e-9 (loss 20.7). Where
    those stand-ins are not involved, values agree with ``F.binary_cross_entropy``.

    **A saturated probability, here and in the pure edition.** This edition never clips:
    a probability of exactly 0 or 1 on the wrong side gives ``inf``. The pure-Python
    edition, ``neural_network.pure.binary_cross_entropy(y_true, y_pred)``, clips
    ``y_pred`` to [1e-9, 1 - 1e-9] as its article's code does, and gives 20.72 there.
    Each follows its purpose: the pure edition is read beside its article, so its
    numbers are the article's, line for line; this edition promises every value within
    a few ulp of the true one, and a clipped loss would be a wrong finite number that
    hides a saturated model (and would differ from library to library, as above). An
    ``inf`` says what happened; :func:`binary_cross_entropy_with_logits` gives the
    finite, exact loss of such a model from its logits.

    Examples
    --------
    The NumPy article's example. The article prints 0.1731486847; its code prints
    0.15392626529447628, shifted by the 1e-15 it adds inside both logs; the exact
    loss of these probabilities is 0.153926265294477482 (mpmath), correctly rounded:

    >>> from neural_network import sigmoid
    >>> A = sigmoid([[2.0], [-1.0], [3.0], [-2.0]])
    >>> print(binary_cross_entropy(A, [[1.0], [0.0], [1.0], [0.0]]))
    0.15392626529447748

    The pure-Python article's call, ``(y_true, y_pred)``, is the other way round here:

    >>> binary_cross_entropy(1, 0.9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neural_network.errors.InvalidInputError: binary_cross_entropy: the arguments look swapped: ...
    """
    return BCE(A, y, reduction=reduction, sample_weight=sample_weight)


def binary_cross_entropy_grad(
    A: object, y: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``A``.

    .. math:: \frac{\partial \ell_i}{\partial A_i} = \frac{A_i - y_i}{A_i (1 - A_i)}

    that is ``-1 / A`` for ``y = 1`` and ``1 / (1 - A)`` for ``y = 0``; scaled by the
    weights and, for ``"mean"``, divided by ``sum(w)``. At ``A = y`` in {0, 1} it is
    the limit, -1 or 1; at ``A = 0`` with ``y > 0`` it is ``-inf``. PyTorch divides
    by ``max(A (1 - A), 1e-12)`` instead, and so differs where ``A (1 - A) < 1e-12``.
    Nothing is clipped (the pure edition clips at 1e-9: see :func:`binary_cross_entropy`),
    and arguments that look swapped are refused as there.

    Examples
    --------
    >>> print(binary_cross_entropy_grad([0.5, 0.75], [1.0, 0.0], reduction="none"))
    [-2.  4.]
    """
    return BCE.grad(A, y, reduction=reduction, sample_weight=sample_weight)


def _bce_reference(xp: Namespace, A: Array, y: Array, /) -> Array:
    return -(y * xp.log(A) + (1 - y) * xp.log1p(-A))  # log(1 - A), without rounding 1 - A


def _bce_reference_grad(xp: Namespace, A: Array, y: Array, /) -> Array:
    return (A - y) / (A * (1 - A))


register("binary_cross_entropy", _bce_reference, _bce_reference_grad)


# --------------------------------------------------------------------------- on logits


def _logistic_loss(xp: Namespace, logits: Array, y: Array, /, pos_weight: Array | None = None) -> Array:
    # log(sigmoid(x)) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x), computed
    # without rounding a sigmoid (which is exactly 1 for x > 37 in float64, losing the
    # whole loss of a confidently right prediction). Both terms are >= 0: no cancellation.
    if pos_weight is None and isinstance(logits, np.ndarray) and logits.ndim and logits.size:
        hard = _hard_label_logistic_loss(logits, y)
        if hard is not None:
            return hard
    softplus_x, softplus_neg_x = softplus_pair(xp, logits)
    positive = y * softplus_neg_x
    if pos_weight is not None:
        positive = _weighted_positive(xp, logits, y, pos_weight, positive)
    return positive + (1.0 - y) * softplus_x


def _weighted_positive(xp: Namespace, x: Array, y: Array, pos_weight: Array, positive: Array) -> Array:
    """``pos_weight * positive``, where ``positive`` is ``y softplus(-x)`` or ``y sigmoid(-x)``.

    Beyond ``x = 708`` both are ``y exp(-x)``, a subnormal number that has lost bits,
    which a ``pos_weight`` above 1 would magnify (43 ulp at ``x = 745``, ``pos_weight =
    100``). There ``exp(-x)`` is taken scaled into the normal range (``exp_scaled``) and
    the product is rounded into the subnormal range once.
    """
    if isinstance(x, np.ndarray) and not np.greater(x, 708.0).any():
        return pos_weight * positive  # the common case, without the scaled exp of every element
    h, c, scale = exp_scaled(xp, xp.maximum(-xp.abs(x), -1000.0))
    far = ((pos_weight * y) * (h - h * c)) * scale
    return xp.where(x > 708.0, far, pos_weight * positive)


def _hard_label_logistic_loss(
    x: np.ndarray[Any, np.dtype[np.float64]], y: np.ndarray[Any, np.dtype[np.float64]]
) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """The loss from one softplus an element, where every label is 0 or 1 (else None).

    With a hard label the loss is ``softplus(x)`` (y = 0) or ``softplus(-x)`` (y = 1),
    which the general form computes as ``max(±x, 0) + log1p(exp(-|x|))``. Here
    ``max(±x, 0)`` is ``max(x, 0) - y x``, exactly (``y x`` is 0 or x, and
    ``max(x, 0) - x`` is ``max(-x, 0)``), and the same ``log1p(exp(-|x|))`` is added: the same
    bits as the general form, in eight NumPy calls. (NumPy's log1p costs no more than
    ``_numerics.log1p`` here: scalar glibc's log1p on (0, 1] takes 5.5 ns an element, its
    log on [1, 2] 5.8 and the five operations around it 1.4 more.) An infinite logit still
    gives a loss that is not finite (``inf - inf`` or ``0 * inf``), which lets the
    engine skip measuring the logits up front (``value_propagates_non_finite``).
    """
    if not _hard_labels(y):
        return None
    t, tail, positive = _blocks.scratch(__name__, 3, x.shape)  # no fresh temporaries: see _blocks.scratch
    np.abs(x, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=tail)
    np.maximum(x, 0.0, out=positive)
    loss: np.ndarray[Any, np.dtype[np.float64]] = np.multiply(y, x)
    np.subtract(positive, loss, out=loss)  # max(x, 0) - y x = max(x (1 - 2y), 0)
    np.add(loss, tail, out=loss)
    return loss


def logistic_loss_derivative(
    xp: Namespace, logits: Array, y: Array, /, pos_weight: Array | None = None
) -> Array:
    # d/dx = (1 - y) sigmoid(x) - pos_weight * y * sigmoid(-x). With a hard label one
    # term is 0 and the other is a sigmoid to full relative accuracy (for y = 1 it is
    # -sigmoid(-x), never the cancelling sigmoid(x) - 1).
    #
    # With a soft label the two terms cancel near x = logit(y) (with pos_weight p, where
    # (1 - y) sigma(x) = p y sigma(-x)). The term with the sigmoid of the negative logit,
    # e * r (e = exp(-|x|), r = 1 / (1 + e)), is within 2.5u, the other within 1.5u, and
    # g = A - B within (2.5 A + 1.5 B) / |g| + u/2 ulp. Where |g| < 0.7 (A + B) the
    # sigmoid is formed in double-double instead (_logistic_gradient_close, and
    # _weighted_gradient_close with pos_weight, 528 ulp before on random soft labels):
    # within 4u wherever |g| >= 2**-44 M, and within 2**-97 M + 2**-1071 absolute below
    # that (M as in binary_cross_entropy_with_logits_grad's Notes). Elsewhere g is within
    # 4u (3.8 measured at |g| = 0.7 (A + B)); at 0.5 (A + B) it would be 4.8u (4.1 measured).
    # Routing the elements between 0.5 and 0.7 to double-double too costs about 40% with
    # soft labels (NumPy, 1e6 elements: uniform in (0, 1) 104 -> 147 ms, 0.1/0.9 117 ->
    # 182 ms), nothing with hard ones; with pos_weight and soft labels 43 -> 163 ms.
    if pos_weight is None and isinstance(logits, np.ndarray) and logits.ndim:
        gradient = _logistic_loss_derivative_numpy(logits, y)
        soft = (y > 0.0) & (y < 1.0)
        if not any_true(xp, soft):  # hard labels: one term is 0, nothing cancels
            return gradient
        terms = (gradient + y) * (1.0 - 2.0 * y) + y  # sigma + y - 2 y sigma, from the same numbers
    else:
        sigmoid_x, sigmoid_neg_x = sigmoid_pair(xp, logits)
        positive = y * sigmoid_neg_x
        if pos_weight is not None:
            positive = _weighted_positive(xp, logits, y, pos_weight, positive)
        negative = (1.0 - y) * sigmoid_x
        gradient = negative - positive
        soft = (y > 0.0) & (y < 1.0)
        if not any_true(xp, soft):
            return gradient
        terms = (gradient + y) * (1.0 - 2.0 * y) + y if pos_weight is None else negative + positive
    close = soft & (xp.abs(gradient) < 0.7 * terms)
    if pos_weight is None:
        return refine_flagged(xp, gradient, close, _logistic_gradient_close, logits, y, harmless=(0.0, 0.5))
    weight = xp.broadcast_to(pos_weight, tuple(logits.shape))
    return refine_flagged(xp, gradient, close, _weighted_gradient_close, logits, y, weight, harmless=(0.0, 0.5, 1.0))


def _sigmoid_double(xp: Namespace, x: Array) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """``sigmoid(x)`` and ``sigmoid(-x)`` in double-double, each about 2**-100 of itself.

    ``e = exp(-|x|)`` (:func:`exp_double`), ``1 + e`` by TwoSum, its reciprocal ``r``
    corrected by the residual ``1 - r (1 + e)`` (TwoProduct), ``e / (1 + e)`` likewise.
    """
    e_high, e_low = exp_double(xp, -xp.abs(x))
    d_high, d_error = two_sum(xp.ones_like(e_high), e_high)
    d_low = d_error + e_low
    r = 1.0 / d_high
    p, p_error = two_product(r, d_high)
    big_low = r * (((1.0 - p) - p_error) - r * d_low)
    s, s_error = two_product(e_high, r)
    small_low = s_error + (e_high * big_low + e_low * r)
    positive = x >= 0.0
    up = (xp.where(positive, r, s), xp.where(positive, big_low, small_low))
    down = (xp.where(positive, s, r), xp.where(positive, small_low, big_low))
    return up, down


def _logistic_gradient_close(xp: Namespace, x: Array, y: Array) -> Array:
    """``sigmoid(x) - y`` with the sigmoid in double-double (:func:`_sigmoid_double`), for a
    soft ``y`` near it.

    ``sigmoid - y`` by TwoSum and rounded once: within ``BOUND`` (see
    :func:`binary_cross_entropy_with_logits_grad`): an ulp and a half wherever the
    difference exceeds ``2**-44 y``; below that (``x`` within an ulp or so of
    ``logit(y)``) the double-double sigmoid's own error, about ``2**-100`` of the terms,
    is what remains, the same bits on every array library.
    """
    (high, low), _ = _sigmoid_double(xp, x)
    t, t_error = two_sum(high, -y)
    return t + (t_error + low)


def _weighted_gradient_close(xp: Namespace, x: Array, y: Array, w: Array) -> Array:
    """``(1 - y) sigmoid(x) - w y sigmoid(-x)`` in double-double, for a soft ``y`` where the
    two terms nearly cancel: ``1 - y`` exact (TwoSum), ``w y`` exact (TwoProduct), each
    term to about 2**-100 of itself and their difference rounded once; bounded as
    :func:`_logistic_gradient_close`."""
    up, down = _sigmoid_double(xp, x)
    rest, weight = two_sum(1.0 + 0.0 * y, -y), two_product(w, y)
    negative, negative_error = two_product(rest[0], up[0])
    positive, positive_error = two_product(weight[0], down[0])
    high, error = two_sum(negative, -positive)
    low = (negative_error + (rest[0] * up[1] + rest[1] * up[0])) - (
        positive_error + (weight[0] * down[1] + weight[1] * down[0])
    )
    return high + (error + low)


def _logistic_loss_derivative_numpy(
    x: np.ndarray[Any, np.dtype[np.float64]], y: np.ndarray[Any, np.dtype[np.float64]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The derivative above, without ``pos_weight``, for NumPy: the operations of
    ``sigmoid_pair`` and of the combination, in the same order (so the same bits), in
    one new array and four work arrays instead of about fifteen fresh temporaries."""
    e, sigmoid_x, sigmoid_neg_x, big = _blocks.scratch(__name__, 4, x.shape)
    np.abs(x, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    # big = 1 / (1 + e) to about half an ulp: _numerics._reciprocal_of_one_plus
    np.add(1.0, e, out=sigmoid_x)  # s
    np.subtract(1.0, sigmoid_x, out=sigmoid_neg_x)
    np.add(sigmoid_neg_x, e, out=sigmoid_neg_x)  # c = (1 - s) + e
    np.divide(1.0, sigmoid_x, out=big)  # r
    np.multiply(big, big, out=sigmoid_x)
    np.multiply(sigmoid_x, sigmoid_neg_x, out=sigmoid_x)
    np.subtract(big, sigmoid_x, out=big)  # r - (r * r) * c
    np.multiply(e, big, out=e)  # small = e * big
    # _numerics.select_larger: max(small, big * condition) is big or small, exactly
    positive = np.greater_equal(x, 0.0)
    np.multiply(big, positive, out=sigmoid_x)
    np.maximum(e, sigmoid_x, out=sigmoid_x)
    np.multiply(big, np.logical_not(positive, out=positive), out=sigmoid_neg_x)
    np.maximum(e, sigmoid_neg_x, out=sigmoid_neg_x)
    gradient: np.ndarray[Any, np.dtype[np.float64]] = np.subtract(1.0, y)
    np.multiply(gradient, sigmoid_x, out=gradient)
    np.multiply(y, sigmoid_neg_x, out=sigmoid_neg_x)
    np.subtract(gradient, sigmoid_neg_x, out=gradient)
    return gradient


BCE_WITH_LOGITS = ElementwiseLoss(
    name="binary_cross_entropy_with_logits",
    input=Operand("logits", REAL),
    target=Operand("y", LABEL),
    value=_logistic_loss,
    derivative=logistic_loss_derivative,
    weights=("pos_weight",),
    value_propagates_non_finite=True,
)


def binary_cross_entropy_with_logits(
    logits: object,
    y: object,
    *,
    pos_weight: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Binary cross-entropy of ``sigmoid(logits)``, computed from the logits.

    .. math:: \ell_i = p_i\, y_i\, \operatorname{softplus}(-x_i)
                       + (1 - y_i) \operatorname{softplus}(x_i)

    which is :func:`binary_cross_entropy` of ``sigmoid(x)`` with the positive term
    multiplied by ``pos_weight`` (``p``), but exact for every finite logit.

    Parameters
    ----------
    logits : array_like
        Raw scores (before the sigmoid), any shape.
    y : array_like
        Labels in [0, 1], same shape as ``logits``.
    pos_weight : array_like, optional, keyword-only
        Non-negative weight of the positive term, broadcast against ``y`` as in
        PyTorch (e.g. shape ``(C,)`` for one weight per column of an ``(N, C)``
        target); the only argument that broadcasts. ``n_negative / n_positive`` of a
        column balances a rare positive class.
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``logits``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``logits``.

    Notes
    -----
    ``softplus(x) = max(x, 0) + log1p(exp(-|x|))`` never overflows, and the two terms
    are non-negative, so each element is within a few units in the last place of the
    exact value, for logits of any size: ``x = 40, y = 1`` gives 4.248354255291589e-18,
    where forms that round ``sigmoid(40)`` to 1 give 0. Matches
    ``F.binary_cross_entropy_with_logits`` (its ``pos_weight`` included).

    Examples
    --------
    The same example from the logits: the exact value 0.153926265294477471 (mpmath)
    without the rounding of the probabilities.

    >>> print(binary_cross_entropy_with_logits([2.0, -1.0, 3.0, -2.0], [1, 0, 1, 0]))
    0.15392626529447748
    """
    return BCE_WITH_LOGITS(
        logits, y, reduction=reduction, sample_weight=sample_weight, pos_weight=pos_weight
    )


def binary_cross_entropy_with_logits_grad(
    logits: object,
    y: object,
    *,
    pos_weight: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to ``logits``.

    .. math:: \frac{\partial \ell_i}{\partial x_i}
              = (1 - y_i)\,\sigma(x_i) - p_i\, y_i\, \sigma(-x_i)

    which is ``sigmoid(x) - y`` without ``pos_weight``; scaled by the weights and, for
    ``"mean"``, divided by ``sum(w)``.

    Notes
    -----
    With a hard label, or where the two terms do not cancel to 44 bits, each element is
    within 4 ulp of the exact gradient ``g`` (tested with logits up to 745 and weights up
    to 1e10). Near ``x = logit(y)`` with a soft label (with ``pos_weight``, where ``(1 - y)
    sigmoid(x) = p y sigmoid(-x)``) the two terms cancel, and there the sigmoid is formed
    in double length. Its own error, about ``2**-100`` of the terms, then bounds the
    result, which no relative bound can hold as ``g`` goes to 0: with ``M = max(sigmoid(x),
    y)`` (with ``pos_weight``: ``M = (1 - y) sigmoid(x) + p y sigmoid(-x)``), each element
    is within 4 ulp of ``g`` where ``|g| >= 2**-44 M`` (2.2 measured) and within ``2**-97 M
    + 2**-1071`` of it everywhere else (``6.6 (2**-100 M + 2**-1074)`` measured, at and
    within ``2**49`` ulp of that point): ``x`` within about an ulp of ``logit(y)``, which
    random data reaches once in ``2**44`` elements. Every array library gives the same
    bits.

    Examples
    --------
    >>> print(binary_cross_entropy_with_logits_grad([0.0, 0.0], [1.0, 0.0], reduction="sum"))
    [-0.5  0.5]
    """
    return BCE_WITH_LOGITS.grad(
        logits, y, reduction=reduction, sample_weight=sample_weight, pos_weight=pos_weight
    )


def _softplus(xp: Namespace, x: Array) -> Array:
    return xp.log1p(xp.exp(x))


def _sigmoid(xp: Namespace, x: Array) -> Array:
    return 1 / (1 + xp.exp(-x))


def _bce_logits_reference(xp: Namespace, x: Array, y: Array, /, *, pos_weight: Any = None) -> Array:
    p = 1 if pos_weight is None else pos_weight
    return p * y * _softplus(xp, -x) + (1 - y) * _softplus(xp, x)


def _bce_logits_reference_grad(xp: Namespace, x: Array, y: Array, /, *, pos_weight: Any = None) -> Array:
    p = 1 if pos_weight is None else pos_weight
    return (1 - y) * _sigmoid(xp, x) - p * y * _sigmoid(xp, -x)


register("binary_cross_entropy_with_logits", _bce_logits_reference, _bce_logits_reference_grad)


# --------------------------------------------------------------------------- Brier score


def _brier(xp: Namespace, p: Array, y: Array, /) -> Array:
    # p - y is exact whenever the two are within a factor of 2 (Sterbenz), and rounded once
    # otherwise; its square is then within about 1.5 ulp.
    d = p - y
    return d * d


def _brier_derivative(xp: Namespace, p: Array, y: Array, /) -> Array:
    return 2.0 * (p - y)


_BRIER = ElementwiseLoss(
    name="brier_score_loss",
    input=Operand("input", PROBABILITY),
    target=Operand("target", LABEL),
    value=_brier,
    derivative=_brier_derivative,
)


def brier_score_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Brier score of predicted probabilities: scikit-learn's binary ``brier_score_loss``.

    .. math:: \ell_i = (p_i - y_i)^2

    Parameters
    ----------
    input : array_like
        Predicted probabilities of the positive class, in [0, 1], any shape.
    target : array_like
        Labels in [0, 1], same shape: 0 or 1 (scikit-learn accepts only two labels; a
        soft label between is accepted here, the Brier score of a probabilistic outcome).
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    Notes
    -----
    The mean equals ``sklearn.metrics.brier_score_loss(y_true, y_proba, sample_weight=w)``
    for 0/1 labels (scikit-learn takes ``(y_true, y_proba)``: the opposite order), and is
    the mean squared error of the probabilities. scikit-learn's multiclass form
    (``scale_by_half``) is not this function. Labels -1/+1 or class names are refused:
    map the positive class to 1 and the other to 0.

    Examples
    --------
    scikit-learn's example (``brier_score_loss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])``):

    >>> print(f"{brier_score_loss([0.1, 0.9, 0.8, 0.3], [0, 1, 1, 0]):.3f}")
    0.037
    """
    return _BRIER(input, target, reduction=reduction, sample_weight=sample_weight)


def brier_score_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`brier_score_loss` with respect to ``input``: ``2 (p - y)``.

    Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``.

    Examples
    --------
    >>> print(brier_score_loss_grad([0.25, 0.5], [1.0, 0.0], reduction="none"))
    [-1.5  1. ]
    """
    return _BRIER.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _brier_reference(xp: Namespace, p: Array, y: Array, /) -> Array:
    return (p - y) ** 2


def _brier_reference_grad(xp: Namespace, p: Array, y: Array, /) -> Array:
    return 2 * (p - y)


register("brier_score_loss", _brier_reference, _brier_reference_grad)
