"""The loss catalog: every loss with its gradient beside it.

Each ``name(input, target, ...)`` has a twin ``name_grad(...)`` with the same
signature, returning the gradient of the loss with respect to its first argument.

The losses live in one subpackage per task (``regression``, ``distributions``,
``classification``, ``multiclass``, ``ranking``, ``embedding``, ``sequence``), each of
whose ``__init__`` lists its modules; the two engines they share, element-wise
(``_elementwise``) and row by row along a class axis (``_rows``), and every loss's
reference (``_reference``) sit here. ``docs/architecture.md`` follows one call through.
"""

from neural_network.losses._elementwise import Reduction as Reduction
from neural_network.losses.classification import binary_cross_entropy as binary_cross_entropy
from neural_network.losses.classification import binary_cross_entropy_grad as binary_cross_entropy_grad
from neural_network.losses.classification import (
    binary_cross_entropy_with_logits as binary_cross_entropy_with_logits,
)
from neural_network.losses.classification import (
    binary_cross_entropy_with_logits_grad as binary_cross_entropy_with_logits_grad,
)
from neural_network.losses.classification import binary_focal_loss as binary_focal_loss
from neural_network.losses.classification import binary_focal_loss_grad as binary_focal_loss_grad
from neural_network.losses.classification import brier_score_loss as brier_score_loss
from neural_network.losses.classification import brier_score_loss_grad as brier_score_loss_grad
from neural_network.losses.classification import dice_loss as dice_loss
from neural_network.losses.classification import dice_loss_grad as dice_loss_grad
from neural_network.losses.classification import hinge_embedding_loss as hinge_embedding_loss
from neural_network.losses.classification import hinge_embedding_loss_grad as hinge_embedding_loss_grad
from neural_network.losses.classification import hinge_loss as hinge_loss
from neural_network.losses.classification import hinge_loss_grad as hinge_loss_grad
from neural_network.losses.classification import perceptron_loss as perceptron_loss
from neural_network.losses.classification import perceptron_loss_grad as perceptron_loss_grad
from neural_network.losses.classification import soft_margin_loss as soft_margin_loss
from neural_network.losses.classification import soft_margin_loss_grad as soft_margin_loss_grad
from neural_network.losses.classification import squared_hinge_loss as squared_hinge_loss
from neural_network.losses.classification import squared_hinge_loss_grad as squared_hinge_loss_grad
from neural_network.losses.classification import tversky_loss as tversky_loss
from neural_network.losses.classification import tversky_loss_grad as tversky_loss_grad
from neural_network.losses.distributions import gamma_deviance as gamma_deviance
from neural_network.losses.distributions import gamma_deviance_grad as gamma_deviance_grad
from neural_network.losses.distributions import gaussian_nll_loss as gaussian_nll_loss
from neural_network.losses.distributions import gaussian_nll_loss_grad as gaussian_nll_loss_grad
from neural_network.losses.distributions import generalized_kl_divergence as generalized_kl_divergence
from neural_network.losses.distributions import (
    generalized_kl_divergence_grad as generalized_kl_divergence_grad,
)
from neural_network.losses.distributions import kl_div as kl_div
from neural_network.losses.distributions import kl_div_grad as kl_div_grad
from neural_network.losses.distributions import poisson_deviance as poisson_deviance
from neural_network.losses.distributions import poisson_deviance_grad as poisson_deviance_grad
from neural_network.losses.distributions import poisson_loss as poisson_loss
from neural_network.losses.distributions import poisson_loss_grad as poisson_loss_grad
from neural_network.losses.distributions import poisson_nll_loss as poisson_nll_loss
from neural_network.losses.distributions import poisson_nll_loss_grad as poisson_nll_loss_grad
from neural_network.losses.distributions import tweedie_deviance as tweedie_deviance
from neural_network.losses.distributions import tweedie_deviance_grad as tweedie_deviance_grad
from neural_network.losses.embedding import circle_loss as circle_loss
from neural_network.losses.embedding import circle_loss_grad as circle_loss_grad
from neural_network.losses.embedding import cosine_embedding_loss as cosine_embedding_loss
from neural_network.losses.embedding import cosine_embedding_loss_grad as cosine_embedding_loss_grad
from neural_network.losses.embedding import cosine_similarity_loss as cosine_similarity_loss
from neural_network.losses.embedding import cosine_similarity_loss_grad as cosine_similarity_loss_grad
from neural_network.losses.embedding import ntxent_loss as ntxent_loss
from neural_network.losses.embedding import ntxent_loss_grad as ntxent_loss_grad
from neural_network.losses.embedding import triplet_margin_loss as triplet_margin_loss
from neural_network.losses.embedding import triplet_margin_loss_grad as triplet_margin_loss_grad
from neural_network.losses.embedding import (
    triplet_margin_with_distance_loss as triplet_margin_with_distance_loss,
)
from neural_network.losses.embedding import (
    triplet_margin_with_distance_loss_grad as triplet_margin_with_distance_loss_grad,
)
from neural_network.losses.multiclass import binary_sparsemax_loss as binary_sparsemax_loss
from neural_network.losses.multiclass import binary_sparsemax_loss_grad as binary_sparsemax_loss_grad
from neural_network.losses.multiclass import categorical_focal_loss as categorical_focal_loss
from neural_network.losses.multiclass import categorical_focal_loss_grad as categorical_focal_loss_grad
from neural_network.losses.multiclass import categorical_hinge_loss as categorical_hinge_loss
from neural_network.losses.multiclass import categorical_hinge_loss_grad as categorical_hinge_loss_grad
from neural_network.losses.multiclass import cross_entropy as cross_entropy
from neural_network.losses.multiclass import cross_entropy_grad as cross_entropy_grad
from neural_network.losses.multiclass import multi_margin_loss as multi_margin_loss
from neural_network.losses.multiclass import multi_margin_loss_grad as multi_margin_loss_grad
from neural_network.losses.multiclass import multiclass_hinge_loss as multiclass_hinge_loss
from neural_network.losses.multiclass import multiclass_hinge_loss_grad as multiclass_hinge_loss_grad
from neural_network.losses.multiclass import multiclass_perceptron_loss as multiclass_perceptron_loss
from neural_network.losses.multiclass import (
    multiclass_perceptron_loss_grad as multiclass_perceptron_loss_grad,
)
from neural_network.losses.multiclass import multilabel_margin_loss as multilabel_margin_loss
from neural_network.losses.multiclass import multilabel_margin_loss_grad as multilabel_margin_loss_grad
from neural_network.losses.multiclass import multilabel_soft_margin_loss as multilabel_soft_margin_loss
from neural_network.losses.multiclass import (
    multilabel_soft_margin_loss_grad as multilabel_soft_margin_loss_grad,
)
from neural_network.losses.multiclass import nll_loss as nll_loss
from neural_network.losses.multiclass import nll_loss_grad as nll_loss_grad
from neural_network.losses.multiclass import poly_loss_cross_entropy as poly_loss_cross_entropy
from neural_network.losses.multiclass import poly_loss_cross_entropy_grad as poly_loss_cross_entropy_grad
from neural_network.losses.multiclass import safe_softmax_cross_entropy as safe_softmax_cross_entropy
from neural_network.losses.multiclass import (
    safe_softmax_cross_entropy_grad as safe_softmax_cross_entropy_grad,
)
from neural_network.losses.multiclass import smooth_binary_labels as smooth_binary_labels
from neural_network.losses.multiclass import smooth_labels as smooth_labels
from neural_network.losses.multiclass import sparsemax_loss as sparsemax_loss
from neural_network.losses.multiclass import sparsemax_loss_grad as sparsemax_loss_grad
from neural_network.losses.ranking import margin_ranking_loss as margin_ranking_loss
from neural_network.losses.ranking import margin_ranking_loss_grad as margin_ranking_loss_grad
from neural_network.losses.ranking import ranking_softmax_loss as ranking_softmax_loss
from neural_network.losses.ranking import ranking_softmax_loss_grad as ranking_softmax_loss_grad
from neural_network.losses.regression import huber_loss as huber_loss
from neural_network.losses.regression import huber_loss_grad as huber_loss_grad
from neural_network.losses.regression import l1_loss as l1_loss
from neural_network.losses.regression import l1_loss_grad as l1_loss_grad
from neural_network.losses.regression import log_cosh as log_cosh
from neural_network.losses.regression import log_cosh_grad as log_cosh_grad
from neural_network.losses.regression import mean_absolute_percentage_error as mean_absolute_percentage_error
from neural_network.losses.regression import (
    mean_absolute_percentage_error_grad as mean_absolute_percentage_error_grad,
)
from neural_network.losses.regression import mean_squared_log_error as mean_squared_log_error
from neural_network.losses.regression import mean_squared_log_error_grad as mean_squared_log_error_grad
from neural_network.losses.regression import mse_loss as mse_loss
from neural_network.losses.regression import mse_loss_grad as mse_loss_grad
from neural_network.losses.regression import pinball_loss as pinball_loss
from neural_network.losses.regression import pinball_loss_grad as pinball_loss_grad
from neural_network.losses.regression import root_mean_squared_error as root_mean_squared_error
from neural_network.losses.regression import root_mean_squared_error_grad as root_mean_squared_error_grad
from neural_network.losses.regression import root_mean_squared_log_error as root_mean_squared_log_error
from neural_network.losses.regression import (
    root_mean_squared_log_error_grad as root_mean_squared_log_error_grad,
)
from neural_network.losses.regression import smooth_l1_loss as smooth_l1_loss
from neural_network.losses.regression import smooth_l1_loss_grad as smooth_l1_loss_grad
from neural_network.losses.sequence import ctc_loss as ctc_loss
from neural_network.losses.sequence import ctc_loss_grad as ctc_loss_grad

__all__ = [
    "Reduction",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "binary_focal_loss",
    "binary_focal_loss_grad",
    "binary_sparsemax_loss",
    "binary_sparsemax_loss_grad",
    "brier_score_loss",
    "brier_score_loss_grad",
    "categorical_focal_loss",
    "categorical_focal_loss_grad",
    "categorical_hinge_loss",
    "categorical_hinge_loss_grad",
    "circle_loss",
    "circle_loss_grad",
    "cosine_embedding_loss",
    "cosine_embedding_loss_grad",
    "cosine_similarity_loss",
    "cosine_similarity_loss_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "ctc_loss",
    "ctc_loss_grad",
    "dice_loss",
    "dice_loss_grad",
    "gamma_deviance",
    "gamma_deviance_grad",
    "gaussian_nll_loss",
    "gaussian_nll_loss_grad",
    "generalized_kl_divergence",
    "generalized_kl_divergence_grad",
    "hinge_embedding_loss",
    "hinge_embedding_loss_grad",
    "hinge_loss",
    "hinge_loss_grad",
    "huber_loss",
    "huber_loss_grad",
    "kl_div",
    "kl_div_grad",
    "l1_loss",
    "l1_loss_grad",
    "log_cosh",
    "log_cosh_grad",
    "margin_ranking_loss",
    "margin_ranking_loss_grad",
    "mean_absolute_percentage_error",
    "mean_absolute_percentage_error_grad",
    "mean_squared_log_error",
    "mean_squared_log_error_grad",
    "mse_loss",
    "mse_loss_grad",
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
    "ntxent_loss",
    "ntxent_loss_grad",
    "perceptron_loss",
    "perceptron_loss_grad",
    "pinball_loss",
    "pinball_loss_grad",
    "poisson_deviance",
    "poisson_deviance_grad",
    "poisson_loss",
    "poisson_loss_grad",
    "poisson_nll_loss",
    "poisson_nll_loss_grad",
    "poly_loss_cross_entropy",
    "poly_loss_cross_entropy_grad",
    "ranking_softmax_loss",
    "ranking_softmax_loss_grad",
    "root_mean_squared_error",
    "root_mean_squared_error_grad",
    "root_mean_squared_log_error",
    "root_mean_squared_log_error_grad",
    "safe_softmax_cross_entropy",
    "safe_softmax_cross_entropy_grad",
    "smooth_binary_labels",
    "smooth_l1_loss",
    "smooth_l1_loss_grad",
    "smooth_labels",
    "soft_margin_loss",
    "soft_margin_loss_grad",
    "sparsemax_loss",
    "sparsemax_loss_grad",
    "squared_hinge_loss",
    "squared_hinge_loss_grad",
    "triplet_margin_loss",
    "triplet_margin_loss_grad",
    "triplet_margin_with_distance_loss",
    "triplet_margin_with_distance_loss_grad",
    "tversky_loss",
    "tversky_loss_grad",
    "tweedie_deviance",
    "tweedie_deviance_grad",
]
