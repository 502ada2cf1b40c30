"""Arguments that look swapped: the NumPy edition's binary cross-entropy says so.

The NumPy edition takes ``(A, y)``: prediction first, as the NumPy article and PyTorch;
the pure-Python edition takes ``(y_true, y_pred)``, as its article. A learner who mixes
them up passes hard labels as the prediction and probabilities as the target, whose
loss is ``inf``. Where the prediction holds only 0 and 1 while every target lies
strictly between 0 and 1, the function raises an error that says the arguments look
swapped and shows this edition's order, whichever way the arguments were passed
(positionally, as Python numbers or lists, or by keyword), for the loss and its
gradient, on small and large (blocked) arrays and through the array API (PyTorch).

Everything else keeps its value: soft predictions, hard predictions against hard
labels, a prediction that saturates in places. Expected values come from ``math`` and
mpmath here, never from the library.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import torch

from neural_network import _validation, binary_cross_entropy, binary_cross_entropy_grad
from neural_network.errors import InvalidInputError
from neural_network.losses import binary_focal_loss, binary_focal_loss_grad

LOGITS = [2.0, -1.0, 3.0, -2.0]
LABELS = [1.0, 0.0, 1.0, 0.0]
PROBABILITIES = [1.0 / (1.0 + math.exp(-z)) for z in LOGITS]  # the NumPy article's example, by math
BLOCKED = 3 * 65536 + 5  # more than one block of the engine: the large-array path

LOSSES = [
    pytest.param(binary_cross_entropy, "binary_cross_entropy(A, y)", id="binary_cross_entropy"),
    pytest.param(binary_cross_entropy_grad, "binary_cross_entropy_grad(A, y)", id="binary_cross_entropy_grad"),
]


def column(values: list[float], dtype: Any = np.float64) -> np.ndarray:
    return np.array(values, dtype=dtype).reshape(-1, 1)


def exact_bce(p: list[float], y: list[float]) -> float:
    """Mean BCE at 50 digits, rounded once; inf where a term is."""
    with mpmath.workdps(50):
        terms = []
        for pi, yi in zip(p, y, strict=True):
            term = mpmath.mpf(0)
            for weight, q in ((yi, pi), (1 - yi, 1 - mpmath.mpf(pi))):
                if weight:
                    if q == 0:
                        return math.inf
                    term -= weight * mpmath.log(q)
            terms.append(term)
        return float(mpmath.fsum(terms) / len(terms))


def assert_says_swapped(error: pytest.ExceptionInfo[InvalidInputError], order: str) -> None:
    message = str(error.value)
    assert isinstance(error.value, ValueError)  # except ValueError keeps working
    assert "look swapped" in message
    assert order in message  # this edition's order
    assert "(y_true, y_pred)" in message or "from_logits" in message  # the other edition's, for BCE
    assert "Swap them" in message


# --------------------------------------------------------------------------- the swap is refused


@pytest.mark.parametrize(("loss", "order"), LOSSES)
@pytest.mark.parametrize(
    "swapped",
    [
        pytest.param(lambda: (column(LABELS), column(PROBABILITIES)), id="positional arrays"),
        pytest.param(lambda: (LABELS, PROBABILITIES), id="positional lists"),
        pytest.param(lambda: (1, 0.9), id="the pure article's call binary_cross_entropy(1, 0.9)"),
        pytest.param(lambda: (column(LABELS, np.float32), column(PROBABILITIES, np.float32)), id="float32"),
        pytest.param(lambda: (torch.tensor(LABELS), torch.tensor(PROBABILITIES)), id="torch"),
        pytest.param(
            lambda: (np.resize(np.array(LABELS), BLOCKED), np.resize(np.array(PROBABILITIES), BLOCKED)),
            id="large array",
        ),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_labels_first_say_the_arguments_look_swapped(
    loss: Callable[..., Any], order: str, swapped: Callable[[], tuple[Any, Any]], reduction: str
) -> None:
    labels, probabilities = swapped()
    with pytest.raises(InvalidInputError) as error:
        loss(labels, probabilities, reduction=reduction)
    assert_says_swapped(error, order)


@pytest.mark.parametrize(("loss", "order"), LOSSES)
@pytest.mark.parametrize(
    "keywords",
    [
        pytest.param(lambda: {"A": column(LABELS), "y": column(PROBABILITIES)}, id="A=, y="),
        pytest.param(lambda: {"y": column(PROBABILITIES), "A": column(LABELS)}, id="y=, A="),
        pytest.param(
            lambda: {"A": column(LABELS), "y": column(PROBABILITIES), "sample_weight": column([1.0, 2.0, 1.0, 1.0])},
            id="with sample_weight",
        ),
    ],
)
def test_keywords_swapped_say_so_too(
    loss: Callable[..., Any], order: str, keywords: Callable[[], dict[str, Any]]
) -> None:
    with pytest.raises(InvalidInputError) as error:
        loss(**keywords())
    assert_says_swapped(error, order)


def test_the_focal_loss_on_probabilities_says_so() -> None:
    """binary_focal_loss(from_logits=False) takes probabilities as BCE does, and shares the check."""
    for loss in (binary_focal_loss, binary_focal_loss_grad):
        with pytest.raises(InvalidInputError) as error:
            loss(column(LABELS), column(PROBABILITIES), from_logits=False)
        message = str(error.value)
        assert "look swapped" in message and "(input, target, from_logits=False)" in message


# --------------------------------------------------------------------------- keywords, and no false alarm


def test_the_article_call_and_keywords_give_the_same_loss() -> None:
    """``binary_cross_entropy(A, y)``, ``(A=, y=)`` and ``(y=, A=)``: the article's value."""
    A, y = column(PROBABILITIES), column(LABELS)
    expected = exact_bce(PROBABILITIES, LABELS)
    for value in (binary_cross_entropy(A, y), binary_cross_entropy(A=A, y=y), binary_cross_entropy(y=y, A=A),
                  binary_cross_entropy(A, y=y)):
        assert abs(float(value) - expected) <= 4 * math.ulp(expected)
    grads = [binary_cross_entropy_grad(A, y), binary_cross_entropy_grad(y=y, A=A)]
    np.testing.assert_array_equal(grads[0], grads[1])


LEGITIMATE = [
    # soft predictions, hard labels: the common case
    pytest.param(PROBABILITIES, LABELS, id="soft predictions, hard labels"),
    # soft predictions, soft labels
    pytest.param([0.25, 0.5, 0.75], [0.5, 0.5, 0.5], id="soft predictions, soft labels"),
    # hard predictions against hard labels: right (0) and wrong (inf), not swapped
    pytest.param([1.0, 0.0, 1.0], [1.0, 0.0, 1.0], id="hard predictions, hard labels, right"),
    pytest.param([1.0, 0.0, 0.0], [1.0, 0.0, 1.0], id="hard predictions, hard labels, one wrong"),
    # hard predictions against labels some of which are hard: not the swap's signature
    pytest.param([1.0, 0.0, 1.0], [1.0, 0.0, 0.5], id="hard predictions, some soft labels"),
    # a prediction that saturates in places, against soft labels
    pytest.param([1.0, 0.25, 0.5], [0.5, 0.5, 0.5], id="saturated prediction, soft labels"),
    pytest.param([0.0, 0.5], [0.0, 0.5], id="zero prediction on a zero label"),
]


@pytest.mark.parametrize(("p", "y"), LEGITIMATE)
def test_no_false_alarm(p: list[float], y: list[float]) -> None:
    expected = exact_bce(p, y)
    value = float(binary_cross_entropy(column(p), column(y)))
    if math.isinf(expected):
        assert value == math.inf
    else:
        assert abs(value - expected) <= 8 * math.ulp(expected)
    binary_cross_entropy_grad(column(p), column(y))  # no error either
    binary_cross_entropy(column(p), column(y), reduction="none")


def test_no_false_alarm_on_large_arrays() -> None:
    """Hard predictions against hard labels over several blocks: the mean of 0s and ln 2s."""
    A = np.resize(np.array([1.0, 0.0, 0.5, 0.5]), BLOCKED)
    y = np.resize(np.array([1.0, 0.0, 1.0, 0.0]), BLOCKED)
    halves = int(np.count_nonzero(A == 0.5))
    expected = float(mpmath.mpf(halves) * mpmath.log(2) / BLOCKED)
    assert abs(float(binary_cross_entropy(A, y)) - expected) <= 16 * math.ulp(expected)
    hard = np.resize(np.array([1.0, 0.0]), BLOCKED)
    assert float(binary_cross_entropy(hard, hard)) == 0.0
    # at A = y in {0, 1} the derivative is its limit, -1 (y = 1) or 1 (y = 0)
    np.testing.assert_array_equal(binary_cross_entropy_grad(hard, hard, reduction="none"), 1.0 - 2.0 * hard)


@pytest.mark.parametrize("size", [4, BLOCKED], ids=["small", "large"])
def test_soft_predictions_are_never_examined(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check costs nothing in the common case: a prediction with no exact 0 or 1, or a
    target with an exact 0 or 1, is decided from the ranges the checks measure anyway."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the swap check examined the arrays")

    monkeypatch.setattr(_validation, "check_not_swapped", fail)
    soft = np.resize(np.array(PROBABILITIES), size)
    hard = np.resize(np.array(LABELS), size)
    for loss in (binary_cross_entropy, binary_cross_entropy_grad):
        loss(soft, hard)  # soft predictions
        loss(hard, hard)  # hard labels as the target
        loss(soft, soft)
