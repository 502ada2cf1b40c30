"""Multiclass and multilabel: a row of class scores per sample (the row engine's losses).

* ``_softmax``, ``_softmax_math``, ``_softmax_blocks``: cross-entropy and NLL; their exact log-softmax; their NumPy blocks.
* ``_safe_softmax``: optax's safe softmax cross-entropy.
* ``_focal``: the categorical focal loss and the Poly-1 cross-entropy.
* ``_smoothing``: label smoothing.
* ``_sparsemax``: the sparsemax losses, multiclass and binary.
* ``_scores``: rows of class scores with class-index targets (PyTorch's margin losses' checks).
* ``_hinge``: the multiclass hinges: Crammer-Singer, perceptron, Keras's categorical hinge, PyTorch's multi margin.
* ``_multilabel``: the multilabel soft margin and multilabel margin losses.
"""

from neural_network.losses.multiclass._focal import categorical_focal_loss as categorical_focal_loss
from neural_network.losses.multiclass._focal import categorical_focal_loss_grad as categorical_focal_loss_grad
from neural_network.losses.multiclass._focal import poly_loss_cross_entropy as poly_loss_cross_entropy
from neural_network.losses.multiclass._focal import (
    poly_loss_cross_entropy_grad as poly_loss_cross_entropy_grad,
)
from neural_network.losses.multiclass._hinge import categorical_hinge_loss as categorical_hinge_loss
from neural_network.losses.multiclass._hinge import categorical_hinge_loss_grad as categorical_hinge_loss_grad
from neural_network.losses.multiclass._hinge import multi_margin_loss as multi_margin_loss
from neural_network.losses.multiclass._hinge import multi_margin_loss_grad as multi_margin_loss_grad
from neural_network.losses.multiclass._hinge import multiclass_hinge_loss as multiclass_hinge_loss
from neural_network.losses.multiclass._hinge import multiclass_hinge_loss_grad as multiclass_hinge_loss_grad
from neural_network.losses.multiclass._hinge import multiclass_perceptron_loss as multiclass_perceptron_loss
from neural_network.losses.multiclass._hinge import (
    multiclass_perceptron_loss_grad as multiclass_perceptron_loss_grad,
)
from neural_network.losses.multiclass._multilabel import multilabel_margin_loss as multilabel_margin_loss
from neural_network.losses.multiclass._multilabel import (
    multilabel_margin_loss_grad as multilabel_margin_loss_grad,
)
from neural_network.losses.multiclass._multilabel import (
    multilabel_soft_margin_loss as multilabel_soft_margin_loss,
)
from neural_network.losses.multiclass._multilabel import (
    multilabel_soft_margin_loss_grad as multilabel_soft_margin_loss_grad,
)
from neural_network.losses.multiclass._safe_softmax import (
    safe_softmax_cross_entropy as safe_softmax_cross_entropy,
)
from neural_network.losses.multiclass._safe_softmax import (
    safe_softmax_cross_entropy_grad as safe_softmax_cross_entropy_grad,
)
from neural_network.losses.multiclass._smoothing import smooth_binary_labels as smooth_binary_labels
from neural_network.losses.multiclass._smoothing import smooth_labels as smooth_labels
from neural_network.losses.multiclass._softmax import cross_entropy as cross_entropy
from neural_network.losses.multiclass._softmax import cross_entropy_grad as cross_entropy_grad
from neural_network.losses.multiclass._softmax import nll_loss as nll_loss
from neural_network.losses.multiclass._softmax import nll_loss_grad as nll_loss_grad
from neural_network.losses.multiclass._sparsemax import binary_sparsemax_loss as binary_sparsemax_loss
from neural_network.losses.multiclass._sparsemax import (
    binary_sparsemax_loss_grad as binary_sparsemax_loss_grad,
)
from neural_network.losses.multiclass._sparsemax import sparsemax_loss as sparsemax_loss
from neural_network.losses.multiclass._sparsemax import sparsemax_loss_grad as sparsemax_loss_grad

__all__ = [
    "binary_sparsemax_loss",
    "binary_sparsemax_loss_grad",
    "categorical_focal_loss",
    "categorical_focal_loss_grad",
    "categorical_hinge_loss",
    "categorical_hinge_loss_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "multi_margin_loss",
    "multi_margin_loss_grad",
    "multiclass_hinge_loss",
    "multiclass_hinge_loss_grad",
    "multiclass_perceptron_loss",
    "multiclass_perceptron_loss_grad",
    "multilabel_margin_loss",
    "multilabel_margin_loss_grad",
    "multilabel_soft_margin_loss",
    "multilabel_soft_margin_loss_grad",
    "nll_loss",
    "nll_loss_grad",
    "poly_loss_cross_entropy",
    "poly_loss_cross_entropy_grad",
    "safe_softmax_cross_entropy",
    "safe_softmax_cross_entropy_grad",
    "smooth_binary_labels",
    "smooth_labels",
    "sparsemax_loss",
    "sparsemax_loss_grad",
]
