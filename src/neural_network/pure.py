"""The pure-Python edition: the first article's loss functions, standard library only.

For learners who start without NumPy. Importing this module imports neither NumPy nor
anything else outside the standard library. Argument order is ``(y_true, y_pred)``,
as in that article and in scikit-learn (the NumPy edition at the package top takes
``(prediction, target)``, as its own article and PyTorch do).

Each function takes either two numbers, giving the loss of one prediction, or two
sequences of the same length, giving the mean over them. The derivatives are with
respect to ``y_pred``: a number for numbers, a list (the gradient of the mean) for
sequences.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)

Values = float | Sequence[float]
"""A number, or a flat sequence of numbers."""

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "mean_squared_error",
    "mean_squared_error_grad",
]


# --------------------------------------------------------------------------- mean squared error


def mean_squared_error(y_true: Values, y_pred: Values) -> float:
    """Squared error of one prediction, or the mean squared error of a sequence.

    ``(y_true - y_pred) ** 2``, averaged over the pairs when given sequences.

    >>> mean_squared_error(3.0, 2.5)
    0.25
    >>> mean_squared_error([3.0, 1.0], [2.5, 1.0])
    0.125
    """
    targets, predictions, _ = _pairs("mean_squared_error", y_true, y_pred)
    return _mean([(t - p) ** 2 for t, p in zip(targets, predictions, strict=True)])


def mean_squared_error_grad(y_true: Values, y_pred: Values) -> float | list[float]:
    """Derivative of :func:`mean_squared_error` with respect to ``y_pred``.

    ``2 * (y_pred - y_true)`` for one prediction; for sequences each element is
    divided by their number n, since the loss is a mean.

    >>> mean_squared_error_grad(3.0, 2.5)
    -1.0
    >>> mean_squared_error_grad([3.0, 1.0], [2.5, 1.0])
    [-0.5, 0.0]
    """
    targets, predictions, scalar = _pairs("mean_squared_error_grad", y_true, y_pred)
    n = len(targets)
    grads = [2.0 * (p - t) / n for t, p in zip(targets, predictions, strict=True)]
    return grads[0] if scalar else grads


# --------------------------------------------------------------------------- binary cross-entropy


def binary_cross_entropy(y_true: Values, y_pred: Values, epsilon: float = 1e-9) -> float:
    """Binary cross-entropy of predicted probabilities, as the first article defines it.

    ``-(y log p + (1 - y) log(1 - p))`` with the probability first clipped to
    ``[epsilon, 1 - epsilon]``, so that a prediction of exactly 0 or 1 gives a large
    finite loss (20.72 for the default epsilon) rather than infinity. Values outside
    [0, 1] are refused, not clipped: they are a mistake (often logits), not a rounding.

    >>> round(binary_cross_entropy(1, 0.9), 6)
    0.105361
    """
    func = "binary_cross_entropy"
    _check_epsilon(func, epsilon)
    targets, predictions, _ = _pairs(func, y_true, y_pred, probabilities=True)
    # log1p(-p) is log(1 - p) without the rounding of 1 - p (which matters for p near epsilon).
    return _mean(
        [
            -(t * math.log(p) + (1.0 - t) * math.log1p(-p))
            for t, p in zip(targets, (_clip(p, epsilon) for p in predictions), strict=True)
        ]
    )


def binary_cross_entropy_grad(
    y_true: Values, y_pred: Values, epsilon: float = 1e-9
) -> float | list[float]:
    """Derivative of :func:`binary_cross_entropy` with respect to ``y_pred``.

    ``(p - y) / (p (1 - p))`` where ``epsilon <= p <= 1 - epsilon``, divided by n for
    sequences. Where the clip is active the loss does not change with ``p``, so the
    derivative there is 0: a saturated prediction gets no gradient, which is why
    training usually works from logits instead.

    >>> binary_cross_entropy_grad(1, 0.5)
    -2.0
    """
    func = "binary_cross_entropy_grad"
    _check_epsilon(func, epsilon)
    targets, predictions, scalar = _pairs(func, y_true, y_pred, probabilities=True)
    n = len(targets)
    grads = [
        (p - t) / (p * (1.0 - p)) / n if epsilon <= p <= 1.0 - epsilon else 0.0
        for t, p in zip(targets, predictions, strict=True)
    ]
    return grads[0] if scalar else grads


# --------------------------------------------------------------------------- helpers


def _clip(p: float, epsilon: float) -> float:
    return min(max(p, epsilon), 1.0 - epsilon)


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _check_epsilon(func: str, epsilon: object) -> None:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not 0.0 < float(epsilon) < 0.5:
        raise InvalidOptionError(
            f"{func}: epsilon must be a number in (0, 0.5); got {describe(epsilon)}. "
            "It is the distance from 0 and 1 at which probabilities are clipped (default 1e-9)."
        )


def _pairs(
    func: str, y_true: object, y_pred: object, *, probabilities: bool = False
) -> tuple[list[float], list[float], bool]:
    """Check the two arguments and return them as equal-length lists of floats.

    The third value says whether they were given as numbers (one prediction).
    """
    targets = _floats(func, "y_true", y_true)
    predictions = _floats(func, "y_pred", y_pred)
    true_is_number = _is_number(y_true)
    pred_is_number = _is_number(y_pred)
    if true_is_number != pred_is_number:
        number, sequence = ("y_true", "y_pred") if true_is_number else ("y_pred", "y_true")
        raise ShapeMismatchError(
            f"{func}: y_true and y_pred must both be numbers or both be sequences; got {number} "
            f"= {describe(y_true if true_is_number else y_pred)} and {sequence} = "
            f"{describe(y_pred if true_is_number else y_true)}. Wrap the number in a list, "
            "or pass one element of the sequence."
        )
    if len(targets) != len(predictions):
        raise ShapeMismatchError(
            f"{func}: y_true and y_pred must have the same length; got {len(targets)} and "
            f"{len(predictions)} values. Check that both come from the same examples."
        )
    if not targets:
        raise EmptyInputError(
            f"{func}: y_true and y_pred must hold at least one value each; got two empty "
            "sequences. The mean of nothing is undefined."
        )
    if probabilities:
        _check_unit_interval(func, "y_pred", predictions, "probabilities", _LOGIT_HINT)
        _check_unit_interval(func, "y_true", targets, "labels", _LABEL_HINT)
    return targets, predictions, true_is_number


_LOGIT_HINT = (
    " These look like raw scores (logits): apply a sigmoid first, 1 / (1 + math.exp(-z))."
)
_LABEL_HINT = (
    " Binary labels are 0 or 1 (or a probability between); for regression targets use "
    "mean_squared_error."
)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real)


def _floats(func: str, name: str, value: object) -> list[float]:
    if value is None:
        raise InvalidTypeError(f"{func}: {name} is None; expected a number or a sequence of numbers.")
    if _is_number(value):
        items: Iterable[object] = [value]
    elif isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or not hasattr(value, "__len__"):
        raise InvalidTypeError(
            f"{func}: {name} must be a number or a sequence of numbers; got {describe(value)}."
        )
    else:
        items = value
    result: list[float] = []
    for index, item in enumerate(items):
        if not isinstance(item, numbers.Real):
            kind = "a nested sequence" if isinstance(item, Iterable) and not isinstance(item, str) else describe(item)
            raise InvalidTypeError(
                f"{func}: {name} must hold numbers only; got {kind} at index {index}. "
                "The pure edition takes flat sequences; flatten them, or use the NumPy edition."
            )
        number = float(item)
        if not math.isfinite(number):
            raise NonFiniteError(
                f"{func}: {name} must hold finite numbers; got {number} at index {index}. "
                "NaN and infinity usually come from an overflow or a division by zero upstream."
            )
        result.append(number)
    return result


def _check_unit_interval(func: str, name: str, values: list[float], what: str, hint: str) -> None:
    for index, value in enumerate(values):
        if not 0.0 <= value <= 1.0:
            raise OutOfRangeError(
                f"{func}: {name} must hold {what} in [0, 1]; got {value!r} at index {index}." + hint
            )
