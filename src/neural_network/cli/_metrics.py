"""A model's loss and metrics on data, measured the same way by ``train`` and ``evaluate``.

Classification: ``loss`` (the model's loss on its logits: binary cross-entropy or
softmax cross-entropy, mean over the rows) and ``accuracy`` (the fraction of rows whose
most probable class is the true one). Regression: ``loss`` (the mean squared error in
the target's units), ``r2`` (1 - MSE / variance of the target; ``nan`` for a constant
target) and ``rmse`` (the square root of the loss). Every value is computed from the
final weights on all the rows given, after training.

The rows are measured batch by batch (:class:`Measure`): the per-row losses are summed
by :class:`~neural_network._exact_sum.StreamingSum`, which gives the sum the library
forms over the whole array to the last bit, whatever the batches; the target's spread
(for R²) is merged batch by batch (Chan's formula). So memory stays bounded and the
values do not depend on the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from neural_network._exact_sum import StreamingSum
from neural_network.cli._model_file import ModelCard
from neural_network.losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from neural_network.network import Sequential

BATCH_ROWS = 1 << 16
"""Rows measured at a time: a few MB of outputs, whatever the data's size."""

Targets = NDArray[np.int64] | NDArray[np.float64]


class Measure:
    """The loss and metrics of a model's outputs, added batch by batch."""

    def __init__(self, card: ModelCard) -> None:
        self.card = card
        self.losses = StreamingSum()
        self.rows = 0
        self.correct = 0
        self.mean = 0.0  # of the target (regression), merged batch by batch
        self.spread = 0.0  # the sum of squared deviations from that mean

    def add(self, outputs: NDArray[np.floating], y: Targets) -> None:
        """Add the network's ``outputs`` for some rows, and their targets (class indices or values)."""
        card = self.card
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if card.task == "regression":
                predicted = card.values(outputs)
                values = np.asarray(y, dtype=np.float64)
                self.losses.add(mse_loss(predicted, values, reduction="none"))
                self._merge_spread(values)
            elif card.task == "binary":
                logits = np.asarray(outputs, dtype=np.float64)
                self.losses.add(
                    binary_cross_entropy_with_logits(logits, y.astype(np.float64).reshape(-1, 1), reduction="none")
                )
                self.correct += int(np.count_nonzero((logits[:, 0] > 0) == (y == 1)))
            else:
                logits = np.asarray(outputs, dtype=np.float64)
                self.losses.add(cross_entropy(logits, y, reduction="none"))
                self.correct += int(np.count_nonzero(np.argmax(logits, axis=1) == y))
        self.rows += len(y)

    def _merge_spread(self, values: NDArray[np.float64]) -> None:
        count = values.size
        if count == 0:
            return
        mean = float(np.mean(values))
        spread = float(np.sum((values - mean) ** 2))
        total = self.rows + count
        delta = mean - self.mean
        self.spread += spread + delta * delta * self.rows * count / total
        self.mean += delta * count / total

    def results(self) -> dict[str, float]:
        loss = self.losses.value() / self.rows if self.rows else math.nan
        if self.card.task != "regression":
            return {"loss": loss, "accuracy": self.correct / self.rows if self.rows else math.nan}
        spread = self.spread / self.rows if self.rows else 0.0
        return {
            "loss": loss,
            "r2": 1.0 - loss / spread if spread > 0 else math.nan,
            "rmse": math.sqrt(loss) if loss >= 0 else math.nan,
        }


def batches(X: NDArray[np.float64], y: Targets, rows: int = BATCH_ROWS) -> Iterator[tuple[NDArray[np.float64], Targets]]:
    for start in range(0, len(y), rows):
        yield X[start : start + rows], y[start : start + rows]


def measure(model: Sequential, card: ModelCard, X: NDArray[np.float64], y: Targets) -> dict[str, float]:
    """The metrics of ``model`` on standardized inputs ``X`` and targets ``y``, batch by batch."""
    measured = Measure(card)
    for inputs, targets in batches(X, y):
        measured.add(model.predict(inputs), targets)
    return measured.results()
