r"""Article 5: loss functions, how wrong the network is, each with its derivative beside it.

Argument order is ``(y_true, y_pred)``, as in the article and in scikit-learn (the
NumPy edition takes ``(prediction, target)``, as its own article and PyTorch do);
pass them by name, ``y_true=`` and ``y_pred=``, to be sure.

:func:`mean_squared_error` and :func:`binary_cross_entropy` take either two numbers,
giving the loss of one prediction, or two flat sequences of the same length, giving
the mean over them. Their derivatives are with respect to ``y_pred``: a number for
numbers, a list (the gradient of the mean) for sequences.

:func:`cross_entropy` is the loss of a classifier with several classes: it takes the
class index of each sample and the network's raw scores (logits), applies the softmax
itself, and is what :meth:`Sequential.fit <neural_network.pure.network.Sequential.fit>`
uses for the spiral.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import overload

from neural_network.errors import ShapeMismatchError, describe
from neural_network.pure import _checks
from neural_network.pure._checks import Matrix

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "mean_squared_error",
    "mean_squared_error_grad",
]

Values = float | Sequence[float]
"""A number, or a flat sequence of numbers."""


# --------------------------------------------------------------------------- mean squared error


def mean_squared_error(y_true: Values, y_pred: Values) -> float:
    """Squared error of one prediction, or the mean squared error of a sequence.

    ``(y_true - y_pred) ** 2``, averaged over the pairs when given sequences.

    >>> mean_squared_error(3.0, 2.5)
    0.25
    >>> mean_squared_error([3.0, 1.0], [2.5, 1.0])
    0.125
    """
    targets, predictions, _ = _checks.pairs("mean_squared_error", y_true, y_pred)
    return _mean([(t - p) ** 2 for t, p in zip(targets, predictions, strict=True)])


@overload
def mean_squared_error_grad(y_true: float, y_pred: float) -> float: ...
@overload
def mean_squared_error_grad(y_true: Sequence[float], y_pred: Sequence[float]) -> list[float]: ...


def mean_squared_error_grad(y_true: Values, y_pred: Values) -> float | list[float]:
    """Derivative of :func:`mean_squared_error` with respect to ``y_pred``.

    ``2 * (y_pred - y_true)`` for one prediction; for sequences each element is
    divided by their number n, since the loss is a mean.

    >>> mean_squared_error_grad(3.0, 2.5)
    -1.0
    >>> mean_squared_error_grad([3.0, 1.0], [2.5, 1.0])
    [-0.5, 0.0]
    """
    targets, predictions, scalar = _checks.pairs("mean_squared_error_grad", y_true, y_pred)
    grads = _mse_grad(targets, predictions)
    return grads[0] if scalar else grads


def _mse_grad(targets: list[float], predictions: list[float]) -> list[float]:
    n = len(targets)
    return [2.0 * (p - t) / n for t, p in zip(targets, predictions, strict=True)]


# --------------------------------------------------------------------------- binary cross-entropy


def binary_cross_entropy(y_true: Values, y_pred: Values, epsilon: float = 1e-9) -> float:
    """Binary cross-entropy of predicted probabilities, as the article defines it.

    ``-(y log p + (1 - y) log(1 - p))`` with the probability ``p`` first clipped to
    ``[epsilon, 1 - epsilon]``; the mean over the pairs when given sequences.

    A saturated probability -- exactly 0 or 1, or closer to them than ``epsilon`` -- is
    clipped, as the article does: ``binary_cross_entropy(1, 0.0)`` is ``-log(1e-9)``,
    about 20.72, a large but finite loss, and its gradient there is 0. The NumPy
    edition's ``binary_cross_entropy(A, y)`` returns the exact ``inf`` instead: its
    promise is the exact value, and a clip would both hide a model that is certain and
    wrong and change the loss of every honest probability below epsilon; there, the
    way to stay finite is to train on logits (``binary_cross_entropy_with_logits``).
    Here the article's clip is kept, so that its code and this function agree.

    Values outside [0, 1] are refused, not clipped: they are a mistake (often logits),
    not a rounding. So are swapped arguments, when they can be told: ``y_pred`` holding
    only 0 and 1 while ``y_true`` holds only values strictly between 0 and 1 is what
    ``binary_cross_entropy(probabilities, labels)`` looks like, and it would otherwise
    give a plausible wrong number.

    >>> round(binary_cross_entropy(1, 0.9), 6)
    0.105361
    >>> round(binary_cross_entropy(y_true=[1, 0], y_pred=[0.9, 0.2]), 6)
    0.164252
    """
    func = "binary_cross_entropy"
    epsilon = _checks.epsilon(func, epsilon)
    targets, predictions, _ = _checks.pairs(func, y_true, y_pred, probabilities=True)
    return _bce(targets, predictions, epsilon)


def _bce(targets: list[float], predictions: list[float], epsilon: float) -> float:
    # log1p(-p) is log(1 - p) without the rounding of 1 - p (which matters for p near epsilon).
    return _mean(
        [
            -(t * math.log(p) + (1.0 - t) * math.log1p(-p))
            for t, p in zip(targets, (_clip(p, epsilon) for p in predictions), strict=True)
        ]
    )


@overload
def binary_cross_entropy_grad(y_true: float, y_pred: float, epsilon: float = 1e-9) -> float: ...
@overload
def binary_cross_entropy_grad(
    y_true: Sequence[float], y_pred: Sequence[float], epsilon: float = 1e-9
) -> list[float]: ...


def binary_cross_entropy_grad(y_true: Values, y_pred: Values, epsilon: float = 1e-9) -> float | list[float]:
    """Derivative of :func:`binary_cross_entropy` with respect to ``y_pred``.

    ``(p - y) / (p (1 - p))`` where ``epsilon <= p <= 1 - epsilon``, divided by n for
    sequences. Where the clip is active the loss does not change with ``p``, so the
    derivative there is 0: a saturated prediction gets no gradient, which is why
    training usually works from logits instead.

    >>> binary_cross_entropy_grad(1, 0.5)
    -2.0
    """
    func = "binary_cross_entropy_grad"
    epsilon = _checks.epsilon(func, epsilon)
    targets, predictions, scalar = _checks.pairs(func, y_true, y_pred, probabilities=True)
    grads = _bce_grad(targets, predictions, epsilon)
    return grads[0] if scalar else grads


def _bce_grad(targets: list[float], predictions: list[float], epsilon: float) -> list[float]:
    n = len(targets)
    return [
        (p - t) / (p * (1.0 - p)) / n if epsilon <= p <= 1.0 - epsilon else 0.0
        for t, p in zip(targets, predictions, strict=True)
    ]


# --------------------------------------------------------------------------- cross-entropy


def cross_entropy(y_true: int | Sequence[int], logits: Sequence[float] | Sequence[Sequence[float]]) -> float:
    r"""Cross-entropy of raw scores against class indices: :math:`-\log \operatorname{softmax}(z)_y`.

    ``y_true`` is one class index and ``logits`` one list of scores (one sample), or a
    list of indices and a list of rows (the mean over the samples). The softmax is
    applied here, so the network's last layer stays linear, as with the NumPy
    edition's ``cross_entropy`` (and PyTorch's ``CrossEntropyLoss``). Computed as
    :math:`\log(1 + r) - d_y`, where :math:`d = z - \max z` and :math:`r` sums
    :math:`e^{d_j}` over every class but the largest: no ``exp`` can overflow, and a
    confident right answer keeps its tiny loss instead of rounding it to 0.

    >>> round(cross_entropy(0, [2.0, 1.0, 0.1]), 4)
    0.417
    """
    rows, labels = _class_pairs("cross_entropy", y_true, logits)
    return cross_entropy_step(labels, rows)[0]


@overload
def cross_entropy_grad(y_true: int, logits: Sequence[float]) -> list[float]: ...
@overload
def cross_entropy_grad(y_true: Sequence[int], logits: Sequence[Sequence[float]]) -> list[list[float]]: ...


def cross_entropy_grad(
    y_true: int | Sequence[int], logits: Sequence[float] | Sequence[Sequence[float]]
) -> list[float] | list[list[float]]:
    """Derivative of :func:`cross_entropy` with respect to ``logits``: ``(softmax(z) - one_hot(y)) / n``.

    In ``logits``'s shape: a list for one sample, a list of rows for several.

    >>> cross_entropy_grad(1, [0.0, 0.0])
    [0.5, -0.5]
    """
    rows, labels = _class_pairs("cross_entropy_grad", y_true, logits)
    grads = cross_entropy_step(labels, rows)[1]
    return grads[0] if not isinstance(y_true, Sequence) else grads


def cross_entropy_step(labels: list[int], rows: Matrix) -> tuple[float, Matrix]:
    """The mean loss and its gradient, from checked class indices and logits."""
    n = len(rows)
    losses, grads = [], []
    for label, z in zip(labels, rows, strict=True):
        top = z.index(max(z))
        d = [v - z[top] for v in z]
        exps = [math.exp(v) for v in d]
        rest = math.fsum(e for k, e in enumerate(exps) if k != top)  # exps[top] is exactly 1
        losses.append(math.log1p(rest) - d[label])
        grads.append([(e / (1.0 + rest) - (1.0 if k == label else 0.0)) / n for k, e in enumerate(exps)])
    return _mean(losses), grads


def _class_pairs(func: str, y_true: object, logits: object) -> tuple[Matrix, list[int]]:
    one, rows = _checks.logits(func, "logits", logits)
    if one != (not isinstance(y_true, Sequence)):
        raise ShapeMismatchError(
            f"{func}: give one class index with one list of scores, or a list of indices with a list "
            f"of rows; got y_true = {describe(y_true)} with {len(rows)} row(s) of logits."
        )
    labels = [y_true] if one else y_true
    return rows, _checks.class_indices(func, "y_true", labels, len(rows[0]), len(rows))


# --------------------------------------------------------------------------- for training

StepLoss = Callable[[list[float], list[float]], tuple[float, list[float]]]
"""``(targets, outputs) -> (mean loss, gradient)`` on flat, already checked lists."""


def _mse_step(targets: list[float], outputs: list[float]) -> tuple[float, list[float]]:
    return _mean([(t - p) * (t - p) for t, p in zip(targets, outputs, strict=True)]), _mse_grad(targets, outputs)


def _bce_step(targets: list[float], outputs: list[float]) -> tuple[float, list[float]]:
    return _bce(targets, outputs, 1e-9), _bce_grad(targets, outputs, 1e-9)


FLAT_LOSSES: dict[str, StepLoss] = {
    "mean_squared_error": _mse_step,
    "binary_cross_entropy": _bce_step,
}
"""The element-wise losses ``fit`` knows by name: the mean over every output of the batch."""


# --------------------------------------------------------------------------- helpers


def _clip(p: float, epsilon: float) -> float:
    return min(max(p, epsilon), 1.0 - epsilon)


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)
