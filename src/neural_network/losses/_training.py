"""The losses a training loop evaluates at every step, value and gradient together.

``fit`` checks its targets once, with the loss's public function, before the first
epoch; each step then calls the function here on the network's outputs and the
batch's targets. The math is that of the public functions: these entries only skip
the checks that have already been made, and share one call between value and gradient.

:func:`training_loss` picks, once per ``fit``, the step function for the targets at
hand: with hard labels (every label 0 or 1, as a classifier's targets are),
``binary_cross_entropy_with_logits`` gets a function that performs exactly the public
functions' operations on its arrays (so it gives their bits) without building their
validated-arguments object, checking the labels again or looking up work arrays: a
few dozen NumPy calls on the batch, one ``exp`` shared by the value and the gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neural_network._reduction import PARTIAL_LENGTH
from neural_network._validation import Array
from neural_network.losses.classification._binary import BCE, BCE_WITH_LOGITS
from neural_network.losses.multiclass._softmax import cross_entropy_mean_value_and_grad
from neural_network.losses.regression._pointwise import MSE

MeanValueAndGrad = Callable[[Array, Array], tuple[float, Array]]
"""``(outputs, targets) -> (mean loss, its gradient with respect to outputs)``."""

MEAN_VALUE_AND_GRAD: dict[str, MeanValueAndGrad] = {
    "mse_loss": MSE.mean_value_and_grad,
    "binary_cross_entropy": BCE.mean_value_and_grad,
    "binary_cross_entropy_with_logits": BCE_WITH_LOGITS.mean_value_and_grad,
    "cross_entropy": cross_entropy_mean_value_and_grad,
}
"""The losses ``fit`` knows by name, for arrays already checked."""


def training_loss(name: str, targets: NDArray[Any]) -> MeanValueAndGrad | None:
    """The step function for the loss ``name`` and these (checked) targets, or None
    if the loss has no fused path (``fit`` then calls its value and gradient functions).

    ``targets`` are all the targets of the training data: a property they share (hard
    labels) holds for every batch of them, and is checked here once.
    """
    if name == "binary_cross_entropy_with_logits" and _hard_labels(targets):
        return _logistic_hard_labels
    return MEAN_VALUE_AND_GRAD.get(name)


def _hard_labels(targets: NDArray[Any]) -> bool:
    """Whether every label is exactly 0 or 1 (NaN is neither)."""
    labels = np.asarray(targets)
    return bool(np.all((labels == 0) | (labels == 1)))


def _logistic_hard_labels(outputs: Array, targets: Array) -> tuple[float, Array]:
    """``binary_cross_entropy_with_logits`` and its gradient, mean over the batch, for labels
    that are all 0 or 1: the operations of ``_hard_label_logistic_loss`` and of
    ``_logistic_loss_derivative_numpy``, in the same order on the same float64 values, then
    the reduction of ``_reduction.reduce_values`` / ``reduce_derivatives`` for a mean
    without weights. A batch of more than ``PARTIAL_LENGTH`` elements takes the public path, whose
    sum is split into partial sums.

    It sets no ``np.errstate`` of its own (entering one costs about as much as a third of
    the function): ``fit`` calls it inside its own, which silences the overflow of a
    diverging network. Called outside one, only outputs whose losses overflow when
    summed (near float64's largest numbers) can warn.
    """
    count = outputs.size
    if count > PARTIAL_LENGTH or count == 0:
        return BCE_WITH_LOGITS.mean_value_and_grad(outputs, targets)
    dtype = outputs.dtype
    x = outputs.astype(np.float64, copy=False)
    y = targets.astype(np.float64, copy=False)
    e = np.exp(np.negative(np.abs(x)))
    # the value: max(x, 0) - y x + log1p(exp(-|x|))
    loss = np.maximum(x, 0.0)
    np.subtract(loss, np.multiply(y, x), out=loss)
    np.add(loss, np.log1p(e), out=loss)
    value = float(dtype.type(np.add.reduce(loss.reshape(-1)) / float(count)))
    # The gradient: (1 - y) sigmoid(x) - y sigmoid(-x), both sigmoids from e, as the
    # public derivative computes them: big = 1 / (1 + e) to about half an ulp, small =
    # e big, and sigmoid(x) = max(small, big [x >= 0]) is big for x >= 0 (small <= big,
    # as e <= 1), else small; sigmoid(-x) the other one. With a hard label one term is
    # an exact 0: the gradient is sigmoid(x) for y = 0 and 0 - sigmoid(-x) for y = 1
    # (+0 where sigmoid(-x) underflows to 0, as the public form's subtraction gives).
    s = np.add(1.0, e)
    c = np.add(np.subtract(1.0, s), e)
    big = np.divide(1.0, s)
    np.subtract(big, np.multiply(np.multiply(big, big), c), out=big)
    small = np.multiply(e, big)
    one = y.astype(np.bool_)
    gradient = np.where(np.not_equal(np.greater_equal(x, 0.0), one), big, small)
    np.subtract(0.0, gradient, out=gradient, where=one)
    np.divide(gradient, float(count), out=gradient)
    return value, gradient.astype(dtype, copy=False)
