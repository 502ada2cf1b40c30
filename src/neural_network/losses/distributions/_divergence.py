"""Kullback-Leibler divergences: PyTorch's ``kl_div`` and optax's generalized (convex) form."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from neural_network import _reduction
from neural_network._numerics import log_double
from neural_network._triple import log_triple, rounded_sum
from neural_network._validation import REAL, Array, Domain, Namespace
from neural_network.errors import EmptyInputError, InvalidOptionError
from neural_network.losses._common import any_true, bool_option, refine_flagged
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction, evaluate
from neural_network.losses._reference import register
from neural_network.losses.distributions._deviance import deviance_of_exp, exclude_zero, exp_less

# --------------------------------------------------------------------------- domains


def _log_probability_hint(low: float, high: float) -> str:
    return (
        " Values above 0 are not log-probabilities: kl_div takes the log of the predicted "
        "distribution as input (as PyTorch's F.kl_div does). Probabilities? Pass log(p), or "
        "log_softmax of the logits."
    )


def _log_target_hint(low: float, high: float) -> str:
    return (
        " Values above 0 are not log-probabilities. Probabilities? Pass log_target=False "
        "(the default) with the probabilities themselves."
    )


def _probability_target_hint(low: float, high: float) -> str:
    if low < 0:
        return (
            " Negative values: log-probabilities? Pass log_target=True, or exp(target)."
        )
    return " Values above 1: counts or unnormalized weights? Divide each row by its sum first."


LOG_PROBABILITY = Domain(
    "log-probabilities: numbers <= 0 (-inf allowed)", -math.inf, 0.0, allow_infinite=True,
    hint=_log_probability_hint,
)
LOG_TARGET = Domain(
    "log-probabilities: numbers <= 0 (-inf allowed)", -math.inf, 0.0, allow_infinite=True,
    hint=_log_target_hint,
)
TARGET_PROBABILITY = Domain("probabilities in [0, 1]", 0.0, 1.0, hint=_probability_target_hint)


def _finite_where_positive(xp: Namespace, x: Array, weight: Array) -> Array:
    """``x`` where ``weight > 0``, else 0: a log-probability of -inf whose factor is 0 counts 0."""
    if any_true(xp, xp.isinf(x)):
        return xp.where(weight > 0, x, xp.zeros_like(x))
    return x


# --------------------------------------------------------------------------- kl_div


def _kl(xp: Namespace, x: Array, t: Array, /) -> Array:
    # t (log t - x): 0 where t == 0 (its limit), also for x = -inf. The difference is
    # formed first (PyTorch subtracts the two products, xlogy(t, t) - t x, which cancel
    # where the element is small). Where log t and x are within a factor 2 of each other
    # (x = log(t) rounded, the commonest case: the divergence of a distribution from
    # itself) libm's log t would leave no correct digit: there it is in double-double,
    # and log t - x is exact (Sterbenz) before its low part is added; where they agree to
    # 40 bits or more, in three floats (_kl_close, _kl_triple).
    log_t = xp.log(exclude_zero(xp, t, t > 0.0))
    x = _finite_where_positive(xp, x, t)
    d = log_t - x
    value = t * d
    close = (t > 0.0) & (xp.abs(d) <= 0.5 * xp.abs(x))
    return refine_flagged(xp, value, close, _kl_close, x, t, harmless=(0.0, 1.0))


_KL_TRIPLE = 2.0**-40
"""Below ``t`` times this, :func:`_kl_close`'s double-double value is formed again in triple length."""


def _kl_close(xp: Namespace, x: Array, t: Array) -> Array:
    """``t (log t - x)`` with ``log t`` in double-double, for ``t > 0`` and ``x`` near ``log t``.

    :func:`log_double` is within about 2**-96 absolute (exp_double's 2**-100, and the
    tail of 512 ln 2 where ``t < 2**-512``); ``high - x`` is exact (Sterbenz) and the
    rest costs two roundings: within ``t 2**-96`` and 1.5 ulp, 4 ulp wherever
    ``|value| >= t 2**-44``. Where ``|value| < t 2**-40`` (``x`` agrees with ``log t`` to
    40 bits or more) the element is formed again with :func:`log_triple`
    (:func:`_kl_triple`).
    """
    high, low = log_double(xp, t)
    value = t * ((high - x) + low)
    return refine_flagged(xp, value, xp.abs(value) < _KL_TRIPLE * t, _kl_triple, x, t, harmless=(0.0, 1.0))


def _kl_triple(xp: Namespace, x: Array, t: Array) -> Array:
    """``t (log t - x)`` with ``log t`` in three floats (:func:`log_triple`, about 2**-149
    absolute) and ``log t - x`` summed by :func:`rounded_sum` (SumK, to about an ulp):
    within ``t 2**-148`` and 2 ulp, so within 4 ulp while ``|log t - x| >= 2**-96``."""
    parts = log_triple(xp, t)
    return t * rounded_sum([parts[0], -x, parts[1], parts[2]])


def _kl_derivative(xp: Namespace, x: Array, t: Array, /) -> Array:
    return 0.0 - t


def _kl_log_target(xp: Namespace, x: Array, t: Array, /) -> Array:
    # exp(t) (t - x), 0 where t = -inf (a probability of 0). Below t = -708 exp(t) is
    # subnormal, short of bits before the product (which may bring it back up, to the
    # normal range: -745 - (-1e300)): there as (exp(t / 2) (t - x)) exp(t / 2), each
    # factor normal down to t = -1416 (beyond, the value is below the smallest float).
    p = xp.exp(t)
    if any_true(xp, xp.isinf(t)):
        zeros = xp.zeros_like(t)
        t, x = xp.where(p > 0, t, zeros), xp.where(p > 0, x, zeros)
    value = p * (t - _finite_where_positive(xp, x, p))
    low = t < -708.0
    if any_true(xp, low):
        h = xp.exp(0.5 * t)
        value = xp.where(low, (h * (t - _finite_where_positive(xp, x, h))) * h, value)
    return value


def _kl_log_target_derivative(xp: Namespace, x: Array, t: Array, /) -> Array:
    return 0.0 - xp.exp(t)


_KL = ElementwiseLoss(
    name="kl_div",
    input=Operand("input", LOG_PROBABILITY),
    target=Operand("target", TARGET_PROBABILITY),
    value=_kl,
    derivative=_kl_derivative,
)
_KL_LOG_TARGET = ElementwiseLoss(
    name="kl_div",
    input=Operand("input", LOG_PROBABILITY),
    target=Operand("target", LOG_TARGET),
    value=_kl_log_target,
    derivative=_kl_log_target_derivative,
)

_KL_REDUCTIONS = ("batchmean", "mean", "sum", "none")
KLReduction = Literal["batchmean", "mean", "sum", "none"]


def _kl_reduction(func: str, reduction: object) -> str:
    if isinstance(reduction, str) and reduction in _KL_REDUCTIONS:
        return reduction
    message = f"{func}: reduction must be one of 'batchmean', 'mean', 'sum' or 'none'; got {reduction!r}."
    if reduction is None:
        message += " To keep the per-element values, pass the string 'none', not None."
    raise InvalidOptionError(message)


def _in_dtype(xp: Namespace, result: Array, dtype: Any) -> Array:
    """``result`` (float64) rounded once to ``dtype``; a NumPy scalar stays a scalar."""
    if isinstance(result, (np.ndarray, np.generic)):
        return np.asarray(result, dtype=dtype)[()]
    return xp.astype(result, dtype)


def _divergence(
    func: str, input: object, target: object, reduction: object, sample_weight: object, log_target: object,
    *, gradient: bool,
) -> Array:
    checked = _kl_reduction(func, reduction)
    loss = _KL_LOG_TARGET if bool_option(func, "log_target", log_target) else _KL
    if checked != "batchmean":
        run = loss.grad if gradient else loss
        return run(input, target, reduction=checked, sample_weight=sample_weight)
    # batchmean: the float64 sum (or its gradient) divided by the number of rows, rounded once.
    batch = loss.prepare(func, input, target, "sum", sample_weight, {})
    dtype, shape = batch.dtype, tuple(batch.input.shape)
    batch.dtype = batch.xp.float64
    rows = shape[0] if shape else 1  # PyTorch does not divide a 0-d input
    if rows == 0:
        raise EmptyInputError(
            f"{func}: reduction='batchmean' needs at least one row; got input.shape={shape}. "
            "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
        )
    if gradient:
        result = evaluate(loss.derivative, _reduction.reduce_derivatives, batch, reduced=False)
    else:
        result = evaluate(loss.value, _reduction.reduce_values, batch, reduced=True)
    return _in_dtype(batch.xp, result / rows, dtype)


def kl_div(
    input: object,
    target: object,
    *,
    reduction: KLReduction = "mean",
    log_target: bool = False,
    sample_weight: object = None,
) -> Array:
    r"""Kullback-Leibler divergence: ``torch.nn.functional.kl_div``.

    .. math:: \ell_i = y_i\,(\log y_i - x_i) \quad\text{or, with log\_target,}\quad
              e^{y_i}\,(y_i - x_i)

    where ``x = input`` holds the log-probabilities of the predicted distribution ``Q``
    and ``y = target`` the probabilities of the reference ``P`` (or their logs):
    ``sum_i l_i`` over a row is ``KL(P || Q)``.

    Parameters
    ----------
    input : array_like
        Log-probabilities (``<= 0``; ``-inf`` allowed), e.g. ``log_softmax`` of logits.
        Note the order: the *prediction's* logs first, as in PyTorch.
    target : array_like
        Probabilities in [0, 1] (or log-probabilities with ``log_target=True``), same shape.
    reduction : {"mean", "batchmean", "sum", "none"}, keyword-only
        ``"batchmean"``: the sum divided by ``input.shape[0]``, the mean KL divergence of
        the rows, which is the KL divergence of the mathematics. ``"mean"`` (PyTorch's
        default, kept here for parity) divides by the number of *elements*: the KL
        divergence divided by the number of classes too. PyTorch warns about it and
        will change it; prefer ``"batchmean"``.
    log_target : bool, keyword-only
        Whether ``target`` holds log-probabilities (default False).
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; ``"mean"`` becomes
        ``sum(w * l) / sum(w)`` and ``"batchmean"`` ``sum(w * l) / input.shape[0]``.

    Returns
    -------
    loss : array
        A scalar, or the shape of ``input`` for ``"none"``; ``input``'s float dtype.

    See Also
    --------
    kl_div_grad : its gradient, ``-y`` (or ``-exp(y)``).
    generalized_kl_divergence : for unnormalized measures.

    Notes
    -----
    An element with ``y = 0`` (or ``y = -inf`` with ``log_target``) is 0, its limit,
    also where ``x = -inf`` (PyTorch gives NaN there); ``y > 0`` with ``x = -inf`` is
    ``inf``. Each element is ``y (log y - x)``: within 4 ulp (2.3 measured) where
    ``log y`` and ``x`` differ by more than a factor 2; closer (``x`` is ``log y``
    rounded, the divergence of a distribution from itself) ``log y`` is in double-double,
    and where ``x`` agrees with it to 40 bits or more in three floats (about 2**-149): the
    element is within 4 ulp wherever ``|log y - x| >= 2**-96`` (0.7 measured on the tests'
    adversarial cases; beyond, within ``y 2**-148`` absolute). The rounding of ``x``
    itself is seen (``kl_div(log(0.3), 0.3)`` is 2.68e-17, not 0). With
    ``log_target`` the value is ``exp(y) (y - x)``, within 4 ulp; below ``y = -708``
    (``exp(y)`` subnormal) as ``(exp(y / 2) (y - x)) exp(y / 2)``. Gradients are exact
    (``-y``) or within an ulp (``-exp(y)``). PyTorch computes ``xlogy(y, y) - y x``, whose two products
    cancel where the element is small. PyTorch accepts any target and any input; here an input above 0
    (probabilities passed in place of their logs, the classic mistake) and targets
    outside [0, 1] are refused. Sums are exact (float64, combined exactly); the
    ``batchmean`` division is rounded once, to the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> q = np.log([[0.25, 0.75]])
    >>> print(kl_div(q, [[0.5, 0.5]], reduction="batchmean"))
    0.14384103622589045
    """
    return _divergence("kl_div", input, target, reduction, sample_weight, log_target, gradient=False)


def kl_div_grad(
    input: object,
    target: object,
    *,
    reduction: KLReduction = "mean",
    log_target: bool = False,
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`kl_div` with respect to ``input``: ``-y`` (``-exp(y)`` with ``log_target``).

    Scaled by the weights and divided by ``sum(w)`` (``"mean"``) or by
    ``input.shape[0]`` (``"batchmean"``). Per element exact (``-y``), or within an ulp
    (``-exp(y)``, libm's ``exp``).

    Examples
    --------
    >>> print(kl_div_grad([[-1.0, -0.5]], [[0.5, 0.5]], reduction="batchmean"))
    [[-0.5 -0.5]]
    """
    return _divergence("kl_div_grad", input, target, reduction, sample_weight, log_target, gradient=True)


def _kl_div_reference(xp: Namespace, x: Array, t: Array, /, *, log_target: bool = False) -> Array:
    p = xp.exp(t) if log_target else t  # the target's probabilities
    log_p = t if log_target else xp.log(xp.where(p > 0, p, 1))
    return xp.where(p > 0, p * (log_p - x), 0)  # 0 where p == 0 (its limit)


def _kl_div_reference_grad(xp: Namespace, x: Array, t: Array, /, *, log_target: bool = False) -> Array:
    return -xp.exp(t) if log_target else -t


register("kl_div", _kl_div_reference, _kl_div_reference_grad)


# --------------------------------------------------------------------------- generalized KL


def _measure_hint(low: float, high: float) -> str:
    return " The target is a non-negative measure (counts, intensities, unnormalized probabilities)."


MEASURE = Domain("finite non-negative numbers", 0.0, hint=_measure_hint)


def _generalized_kl(xp: Namespace, x: Array, t: Array, /) -> Array:
    # t (log t - x) - t + exp(x) is the Poisson deviance (halved) of t against the mean
    # exp(x): formed as t f(x - log t), f(w) = e^w - 1 - w, with log t, w and e^w to about
    # 2**-66 (table-driven, kept where its bound is 2.1 ulp), else in
    # double-double, so that nothing is lost where its terms cancel (near exp(x) = t, and
    # wherever log t is large beside the value).
    return deviance_of_exp(xp, x, t)


def _generalized_kl_derivative(xp: Namespace, x: Array, t: Array, /) -> Array:
    return exp_less(xp, x, t)


_GENERALIZED_KL = ElementwiseLoss(
    name="generalized_kl_divergence",
    input=Operand("input", REAL),
    target=Operand("target", MEASURE),
    value=_generalized_kl,
    derivative=_generalized_kl_derivative,
)


def generalized_kl_divergence(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Generalized Kullback-Leibler divergence: optax's ``convex_kl_divergence``.

    .. math:: \ell_i = y_i\,(\log y_i - x_i) - y_i + e^{x_i}

    The KL divergence extended to non-negative measures that need not sum to 1 (the
    I-divergence of non-negative matrix factorization): ``x = input`` is the log of the
    predicted measure, ``y = target`` the reference measure. Each element is
    non-negative, and 0 exactly where ``exp(x) = y``; for normalized ``exp(x)`` and ``y``
    its row sums are :func:`kl_div`'s.

    Parameters
    ----------
    input : array_like
        Log-predictions, any finite real numbers.
    target : array_like
        Non-negative, finite, the same shape.
    reduction : {"mean", "sum", "none"}, keyword-only
        optax returns the sum over the last axis (one value per example): that is
        ``reduction="none"`` summed over the last axis; ``"mean"`` averages over every
        element.
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input``; ``input``'s float dtype.

    See Also
    --------
    generalized_kl_divergence_grad : its gradient, ``exp(x) - y``.

    Notes
    -----
    Named as in the issue; optax calls it ``convex_kl_divergence(log_predictions,
    targets)`` (its ``kl_divergence`` plus ``sum(exp(log_predictions) - targets)``), with
    the same argument order. An element with ``y = 0`` is ``exp(x)``. Each element is
    within 3.5 ulp of its exact value, also near its minimum (``exp(x)`` close to ``y``),
    where the terms of the formula cancel (3.3 measured on the tests' adversarial cases);
    the bounds derived in tests/test_probabilistic_losses.py allow 8.5 ulp where
    ``|x| > 700``, ``y`` is beyond 2**+-1000 or ``|x - log y| > 600``, where 2.6 are
    measured. Where ``x`` is ``log y`` rounded (the value about ``y (x - log y)^2 / 2``)
    the double-double ``log y`` bounds the error to about ``2**-101 y |log y|``. The
    gradient ``exp(x) - y`` is within 4 ulp (see :func:`poisson_nll_loss`). It is computed as the (halved) Poisson deviance of
    ``y`` against the mean ``exp(x)``, with a table-driven ``log``/``exp`` to about 2**-66
    where that is within its bound, else in double-double with the forms of
    :func:`poisson_deviance`; the same operations in every array library.

    Examples
    --------
    >>> print(generalized_kl_divergence([0.0, 0.0], [1.0, 2.0], reduction="none"))
    [0.         0.38629436]
    """
    return _GENERALIZED_KL(input, target, reduction=reduction, sample_weight=sample_weight)


def generalized_kl_divergence_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`generalized_kl_divergence` with respect to ``input``: ``exp(x) - y``.

    Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. Each element is
    within 4 ulp of the exact value (1.5 measured), also near its zero (``exp(x)`` near ``y``), where
    ``exp(x)`` is formed to about 2**-67 (a table) or 2**-102 (double-double): within
    about ``2**-101 y`` where ``x`` is ``log y`` rounded.

    Examples
    --------
    >>> print(generalized_kl_divergence_grad([0.0, 0.0], [1.0, 2.0], reduction="none"))
    [ 0. -1.]
    """
    return _GENERALIZED_KL.grad(input, target, reduction=reduction, sample_weight=sample_weight)


def _generalized_kl_reference(xp: Namespace, x: Array, t: Array, /) -> Array:
    t_log_t = xp.where(t > 0, t * xp.log(xp.where(t > 0, t, 1)), 0)  # 0 where t == 0
    return t_log_t - t * x - t + xp.exp(x)


def _generalized_kl_reference_grad(xp: Namespace, x: Array, t: Array, /) -> Array:
    return xp.exp(x) - t


register("generalized_kl_divergence", _generalized_kl_reference, _generalized_kl_reference_grad)
