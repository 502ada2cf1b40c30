"""Likelihoods and deviances: losses that score a predicted distribution's parameters.

* ``_gaussian``: the Gaussian negative log-likelihood with a predicted variance.
* ``_poisson``: the Poisson likelihoods (PyTorch's and Keras's).
* ``_deviance``: the deviance ``y log(y / mu) - y + mu`` without cancellation, for the count losses.
* ``_tweedie``: the Tweedie, Poisson and Gamma deviances (scikit-learn's).
* ``_divergence``: Kullback-Leibler divergences (PyTorch's and optax's generalized form).
"""

from neural_network.losses.distributions._divergence import (
    generalized_kl_divergence as generalized_kl_divergence,
)
from neural_network.losses.distributions._divergence import (
    generalized_kl_divergence_grad as generalized_kl_divergence_grad,
)
from neural_network.losses.distributions._divergence import kl_div as kl_div
from neural_network.losses.distributions._divergence import kl_div_grad as kl_div_grad
from neural_network.losses.distributions._gaussian import gaussian_nll_loss as gaussian_nll_loss
from neural_network.losses.distributions._gaussian import gaussian_nll_loss_grad as gaussian_nll_loss_grad
from neural_network.losses.distributions._poisson import poisson_loss as poisson_loss
from neural_network.losses.distributions._poisson import poisson_loss_grad as poisson_loss_grad
from neural_network.losses.distributions._poisson import poisson_nll_loss as poisson_nll_loss
from neural_network.losses.distributions._poisson import poisson_nll_loss_grad as poisson_nll_loss_grad
from neural_network.losses.distributions._tweedie import gamma_deviance as gamma_deviance
from neural_network.losses.distributions._tweedie import gamma_deviance_grad as gamma_deviance_grad
from neural_network.losses.distributions._tweedie import poisson_deviance as poisson_deviance
from neural_network.losses.distributions._tweedie import poisson_deviance_grad as poisson_deviance_grad
from neural_network.losses.distributions._tweedie import tweedie_deviance as tweedie_deviance
from neural_network.losses.distributions._tweedie import tweedie_deviance_grad as tweedie_deviance_grad

__all__ = [
    "gamma_deviance",
    "gamma_deviance_grad",
    "gaussian_nll_loss",
    "gaussian_nll_loss_grad",
    "generalized_kl_divergence",
    "generalized_kl_divergence_grad",
    "kl_div",
    "kl_div_grad",
    "poisson_deviance",
    "poisson_deviance_grad",
    "poisson_loss",
    "poisson_loss_grad",
    "poisson_nll_loss",
    "poisson_nll_loss_grad",
    "tweedie_deviance",
    "tweedie_deviance_grad",
]
