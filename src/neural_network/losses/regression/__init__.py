"""Regression: losses between a real-valued prediction and a real-valued target.

* ``_pointwise``: squared, absolute, Huber and smooth L1 errors.
* ``_logarithmic``: log-cosh and the squared log error.
* ``_root``: RMSE and RMSLE, roots of the mean squares.
* ``_percentage``: the mean absolute percentage error.
* ``_quantile``: the pinball (quantile) loss.
"""

from neural_network.losses.regression._logarithmic import log_cosh as log_cosh
from neural_network.losses.regression._logarithmic import log_cosh_grad as log_cosh_grad
from neural_network.losses.regression._logarithmic import mean_squared_log_error as mean_squared_log_error
from neural_network.losses.regression._logarithmic import (
    mean_squared_log_error_grad as mean_squared_log_error_grad,
)
from neural_network.losses.regression._percentage import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from neural_network.losses.regression._percentage import (
    mean_absolute_percentage_error_grad as mean_absolute_percentage_error_grad,
)
from neural_network.losses.regression._pointwise import huber_loss as huber_loss
from neural_network.losses.regression._pointwise import huber_loss_grad as huber_loss_grad
from neural_network.losses.regression._pointwise import l1_loss as l1_loss
from neural_network.losses.regression._pointwise import l1_loss_grad as l1_loss_grad
from neural_network.losses.regression._pointwise import mse_loss as mse_loss
from neural_network.losses.regression._pointwise import mse_loss_grad as mse_loss_grad
from neural_network.losses.regression._pointwise import smooth_l1_loss as smooth_l1_loss
from neural_network.losses.regression._pointwise import smooth_l1_loss_grad as smooth_l1_loss_grad
from neural_network.losses.regression._quantile import pinball_loss as pinball_loss
from neural_network.losses.regression._quantile import pinball_loss_grad as pinball_loss_grad
from neural_network.losses.regression._root import root_mean_squared_error as root_mean_squared_error
from neural_network.losses.regression._root import (
    root_mean_squared_error_grad as root_mean_squared_error_grad,
)
from neural_network.losses.regression._root import root_mean_squared_log_error as root_mean_squared_log_error
from neural_network.losses.regression._root import (
    root_mean_squared_log_error_grad as root_mean_squared_log_error_grad,
)

__all__ = [
    "huber_loss",
    "huber_loss_grad",
    "l1_loss",
    "l1_loss_grad",
    "log_cosh",
    "log_cosh_grad",
    "mean_absolute_percentage_error",
    "mean_absolute_percentage_error_grad",
    "mean_squared_log_error",
    "mean_squared_log_error_grad",
    "mse_loss",
    "mse_loss_grad",
    "pinball_loss",
    "pinball_loss_grad",
    "root_mean_squared_error",
    "root_mean_squared_error_grad",
    "root_mean_squared_log_error",
    "root_mean_squared_log_error_grad",
    "smooth_l1_loss",
    "smooth_l1_loss_grad",
]
