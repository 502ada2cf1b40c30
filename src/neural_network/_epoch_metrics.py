"""What ``fit`` measures each epoch besides the loss: accuracy for the classification losses,
R² and RMSE for the others, summed batch by batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

CLASS_INDEX_LOSSES = frozenset({"cross_entropy", "nll_loss"})
BINARY_LOSSES = frozenset({"binary_cross_entropy", "binary_cross_entropy_with_logits"})
CLASSIFICATION_LOSSES = CLASS_INDEX_LOSSES | BINARY_LOSSES
"""The losses whose targets are class indices, one probability or logit per class, and either."""


class EpochMetrics:
    """Accuracy (classification losses) or R² and RMSE (the others), summed batch by batch.

    During an epoch the training metrics are measured on each batch's outputs as the
    weights change, as the training loss is (and as Keras does): measuring them again
    on the whole training set after the epoch would cost another forward pass over it.
    """

    def __init__(self, loss_name: str, targets: NDArray[Any]) -> None:
        self.loss_name = loss_name
        self.correct = 0
        self.squared_error = 0.0
        self.count = 0
        self.elements = 0
        # R² compares the squared error with that of always predicting the mean target
        # (a pass over all the targets, which classification, measured by accuracy, skips).
        regression = loss_name not in CLASSIFICATION_LOSSES and loss_name != "custom"
        self.spread = float(np.sum((targets - np.mean(targets, axis=0)) ** 2)) if regression and targets.size else 0.0
        self.predicted: NDArray[Any] = np.empty(0, dtype=np.bool_)  # see batches
        self.batched = False

    def add(self, outputs: NDArray[np.floating], targets: NDArray[Any]) -> None:
        self.count += outputs.shape[0]
        if self.loss_name in CLASS_INDEX_LOSSES:
            self.correct += int(np.count_nonzero(np.argmax(outputs, axis=1) == targets))
        elif self.loss_name == "binary_cross_entropy_with_logits":
            self.correct += int(np.count_nonzero((outputs > 0) == (targets > 0.5)))
        elif self.loss_name == "binary_cross_entropy":
            self.correct += int(np.count_nonzero((outputs > 0.5) == (targets > 0.5)))
        elif self.loss_name != "custom":
            self.squared_error += float(np.sum((targets - outputs) ** 2))
            self.elements += outputs.size

    def batches(self, rows: int, outputs: int) -> bool:
        """Prepare to take an epoch's classification batch by batch (:meth:`predict`, then
        :meth:`compare`); False for the other losses, whose batches go to :meth:`add`."""
        if self.loss_name in CLASS_INDEX_LOSSES:
            self.predicted, self.batched = np.empty(rows, dtype=np.intp), True
        elif self.loss_name in BINARY_LOSSES:
            self.predicted, self.batched = np.empty((rows, outputs), dtype=np.bool_), True
        return self.batched

    def predict(self, outputs: NDArray[np.floating], start: int) -> None:
        """Keep the classes the batch's ``outputs`` predict, for the rows from ``start``: the
        comparison with the targets waits for the end of the epoch (:meth:`compare`), one
        call for the epoch rather than a few per batch, with the same count."""
        into = self.predicted[start : start + outputs.shape[0]]
        if self.loss_name in CLASS_INDEX_LOSSES:
            np.argmax(outputs, axis=1, out=into)
        elif self.loss_name == "binary_cross_entropy_with_logits":
            np.greater(outputs, 0, out=into)
        else:
            np.greater(outputs, 0.5, out=into)

    def compare(self, targets: NDArray[Any], rows: int) -> None:
        """Count the right predictions of the first ``rows`` rows, whose targets are ``targets``."""
        if not self.batched:
            return
        predicted, truth = self.predicted[:rows], targets[:rows]
        right = predicted == truth if self.loss_name in CLASS_INDEX_LOSSES else predicted == (truth > 0.5)
        self.correct += int(np.count_nonzero(right))
        self.count += rows

    def results(self) -> dict[str, float]:
        if self.loss_name == "custom":
            return {}
        if self.loss_name in CLASSIFICATION_LOSSES:
            return {"accuracy": self.correct / self.count if self.count else math.nan}
        return {
            "r2": 1.0 - self.squared_error / self.spread if self.spread > 0 else math.nan,
            "rmse": math.sqrt(self.squared_error / self.elements) if self.elements else math.nan,
        }


def epoch_metrics(name: str, outputs: NDArray[np.floating], targets: NDArray[Any]) -> dict[str, float]:
    """The metrics of ``outputs`` against ``targets`` in one go (the validation data)."""
    metrics = EpochMetrics(name, targets)
    metrics.add(outputs, targets)
    return metrics.results()
