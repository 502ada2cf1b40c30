"""The losses a training loop evaluates at every step, value and gradient together.

``fit`` checks its targets once, with the loss's public function, before the first
epoch; each step then calls the function here on the network's outputs and the
batch's targets. The math is that of the public functions: these entries only skip
the checks that have already been made, and share one call between value and gradient.
"""

from __future__ import annotations

from collections.abc import Callable

from neural_network._validation import Array
from neural_network.losses._classification import _BCE, _BCE_WITH_LOGITS
from neural_network.losses._regression import _MSE
from neural_network.losses._softmax import cross_entropy_mean_value_and_grad

MeanValueAndGrad = Callable[[Array, Array], tuple[float, Array]]
"""``(outputs, targets) -> (mean loss, its gradient with respect to outputs)``."""

MEAN_VALUE_AND_GRAD: dict[str, MeanValueAndGrad] = {
    "mse_loss": _MSE.mean_value_and_grad,
    "binary_cross_entropy": _BCE.mean_value_and_grad,
    "binary_cross_entropy_with_logits": _BCE_WITH_LOGITS.mean_value_and_grad,
    "cross_entropy": cross_entropy_mean_value_and_grad,
}
"""The losses ``fit`` knows by name, for arrays already checked."""
