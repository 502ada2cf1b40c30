"""Binary classification: one score or probability per element, labels 0/1 or -1/+1.

* ``_binary``: binary cross-entropy (on probabilities and on logits) and the Brier score.
* ``_focal``: the binary focal loss, and the options the focal losses share.
* ``_signs``: labels -1 and +1, which the margin losses take.
* ``_margin``: soft margin, hinge, squared hinge, perceptron and hinge embedding.
* ``_overlap``: the Dice and Tversky overlap losses of segmentation.
"""

from neural_network.losses.classification._binary import binary_cross_entropy as binary_cross_entropy
from neural_network.losses.classification._binary import (
    binary_cross_entropy_grad as binary_cross_entropy_grad,
)
from neural_network.losses.classification._binary import (
    binary_cross_entropy_with_logits as binary_cross_entropy_with_logits,
)
from neural_network.losses.classification._binary import (
    binary_cross_entropy_with_logits_grad as binary_cross_entropy_with_logits_grad,
)
from neural_network.losses.classification._binary import brier_score_loss as brier_score_loss
from neural_network.losses.classification._binary import brier_score_loss_grad as brier_score_loss_grad
from neural_network.losses.classification._focal import binary_focal_loss as binary_focal_loss
from neural_network.losses.classification._focal import binary_focal_loss_grad as binary_focal_loss_grad
from neural_network.losses.classification._margin import hinge_embedding_loss as hinge_embedding_loss
from neural_network.losses.classification._margin import (
    hinge_embedding_loss_grad as hinge_embedding_loss_grad,
)
from neural_network.losses.classification._margin import hinge_loss as hinge_loss
from neural_network.losses.classification._margin import hinge_loss_grad as hinge_loss_grad
from neural_network.losses.classification._margin import perceptron_loss as perceptron_loss
from neural_network.losses.classification._margin import perceptron_loss_grad as perceptron_loss_grad
from neural_network.losses.classification._margin import soft_margin_loss as soft_margin_loss
from neural_network.losses.classification._margin import soft_margin_loss_grad as soft_margin_loss_grad
from neural_network.losses.classification._margin import squared_hinge_loss as squared_hinge_loss
from neural_network.losses.classification._margin import squared_hinge_loss_grad as squared_hinge_loss_grad
from neural_network.losses.classification._overlap import dice_loss as dice_loss
from neural_network.losses.classification._overlap import dice_loss_grad as dice_loss_grad
from neural_network.losses.classification._overlap import tversky_loss as tversky_loss
from neural_network.losses.classification._overlap import tversky_loss_grad as tversky_loss_grad

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "binary_focal_loss",
    "binary_focal_loss_grad",
    "brier_score_loss",
    "brier_score_loss_grad",
    "dice_loss",
    "dice_loss_grad",
    "hinge_embedding_loss",
    "hinge_embedding_loss_grad",
    "hinge_loss",
    "hinge_loss_grad",
    "perceptron_loss",
    "perceptron_loss_grad",
    "soft_margin_loss",
    "soft_margin_loss_grad",
    "squared_hinge_loss",
    "squared_hinge_loss_grad",
    "tversky_loss",
    "tversky_loss_grad",
]
