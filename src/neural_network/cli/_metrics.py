"""A model's loss and metrics on data, measured the same way by ``train`` and ``evaluate``.

Classification: ``loss`` (the model's loss on its logits: binary cross-entropy or
softmax cross-entropy, mean over the rows) and ``accuracy`` (the fraction of rows whose
most probable class is the true one). Regression: ``loss`` (the mean squared error in
the target's units), ``r2`` (1 - MSE / variance of the target; ``nan`` for a constant
target) and ``rmse`` (the square root of the loss). Every value is computed from the
final weights on all the rows given, after training (not batch by batch during it).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from neural_network.cli._model_file import ModelCard
from neural_network.losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from neural_network.network import Sequential


def measure(
    model: Sequential, card: ModelCard, X: NDArray[np.float64], y: NDArray[np.int64] | NDArray[np.float64]
) -> dict[str, float]:
    """The metrics of ``model`` on standardized inputs ``X`` and targets ``y`` (class indices or values)."""
    outputs = model.predict(X)
    if card.task == "regression":
        predicted = card.values(outputs)
        loss = float(mse_loss(predicted, y))
        spread = float(np.mean((y - np.mean(y)) ** 2))
        return {"loss": loss, "r2": 1.0 - loss / spread if spread > 0 else math.nan, "rmse": math.sqrt(loss)}
    if card.task == "binary":
        loss = float(binary_cross_entropy_with_logits(outputs, y.astype(np.float64).reshape(-1, 1)))
        chosen = (outputs[:, 0] > 0).astype(np.int64)
    else:
        loss = float(cross_entropy(outputs, y))
        chosen = np.argmax(outputs, axis=1)
    return {"loss": loss, "accuracy": float(np.mean(chosen == y))}
