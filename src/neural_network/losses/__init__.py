"""The loss catalog: every loss with its gradient beside it.

Each ``name(input, target, ...)`` has a twin ``name_grad(...)`` with the same
signature, returning the gradient of the loss with respect to its first argument.
"""

from neural_network.losses._classification import binary_cross_entropy as binary_cross_entropy
from neural_network.losses._classification import binary_cross_entropy_grad as binary_cross_entropy_grad
from neural_network.losses._classification import (
    binary_cross_entropy_with_logits as binary_cross_entropy_with_logits,
)
from neural_network.losses._classification import (
    binary_cross_entropy_with_logits_grad as binary_cross_entropy_with_logits_grad,
)
from neural_network.losses._elementwise import Reduction as Reduction
from neural_network.losses._regression import mse_loss as mse_loss
from neural_network.losses._regression import mse_loss_grad as mse_loss_grad
from neural_network.losses._softmax import cross_entropy as cross_entropy
from neural_network.losses._softmax import cross_entropy_grad as cross_entropy_grad
from neural_network.losses._softmax import nll_loss as nll_loss
from neural_network.losses._softmax import nll_loss_grad as nll_loss_grad

__all__ = [
    "Reduction",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "mse_loss",
    "mse_loss_grad",
    "nll_loss",
    "nll_loss_grad",
]
