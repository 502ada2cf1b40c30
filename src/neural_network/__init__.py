"""neural_network: neural networks from scratch in NumPy, with losses exact to the last bit.

The NumPy article's toolkit is importable from the top, as the article shows::

    from neural_network import mse_loss, binary_cross_entropy, sigmoid, normalize

and the pure-Python article's functions live in :mod:`neural_network.pure`, which
needs only the standard library. Names are loaded on first use, so that importing
``neural_network.pure`` does not import NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "_blocks": ("get_num_threads", "set_num_threads"),
    "activations": (
        "elu",
        "elu_grad",
        "gelu",
        "gelu_grad",
        "identity",
        "identity_grad",
        "leaky_relu",
        "leaky_relu_grad",
        "log_softmax",
        "log_softmax_grad",
        "relu",
        "relu_grad",
        "sigmoid",
        "sigmoid_grad",
        "softmax",
        "softmax_grad",
        "softplus",
        "softplus_grad",
        "tanh",
        "tanh_grad",
    ),
    "layers": ("Dense", "Dropout"),
    "linalg": ("matrix_multiply",),
    "network": ("Sequential",),
    "optimizers": ("SGD", "Adam", "AdamW", "RMSprop"),
    "training": ("EarlyStopping", "History"),
    "losses": (
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
    ),
    "preprocessing": ("normalize",),
    "serialization": ("Checkpoint", "load", "load_checkpoint"),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_MODULE_OF)

if TYPE_CHECKING:
    from neural_network._blocks import get_num_threads as get_num_threads
    from neural_network._blocks import set_num_threads as set_num_threads
    from neural_network.activations import elu as elu
    from neural_network.activations import elu_grad as elu_grad
    from neural_network.activations import gelu as gelu
    from neural_network.activations import gelu_grad as gelu_grad
    from neural_network.activations import identity as identity
    from neural_network.activations import identity_grad as identity_grad
    from neural_network.activations import leaky_relu as leaky_relu
    from neural_network.activations import leaky_relu_grad as leaky_relu_grad
    from neural_network.activations import log_softmax as log_softmax
    from neural_network.activations import log_softmax_grad as log_softmax_grad
    from neural_network.activations import relu as relu
    from neural_network.activations import relu_grad as relu_grad
    from neural_network.activations import sigmoid as sigmoid
    from neural_network.activations import sigmoid_grad as sigmoid_grad
    from neural_network.activations import softmax as softmax
    from neural_network.activations import softmax_grad as softmax_grad
    from neural_network.activations import softplus as softplus
    from neural_network.activations import softplus_grad as softplus_grad
    from neural_network.activations import tanh as tanh
    from neural_network.activations import tanh_grad as tanh_grad
    from neural_network.layers import Dense as Dense
    from neural_network.layers import Dropout as Dropout
    from neural_network.linalg import matrix_multiply as matrix_multiply
    from neural_network.losses import binary_cross_entropy as binary_cross_entropy
    from neural_network.losses import binary_cross_entropy_grad as binary_cross_entropy_grad
    from neural_network.losses import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
    from neural_network.losses import (
        binary_cross_entropy_with_logits_grad as binary_cross_entropy_with_logits_grad,
    )
    from neural_network.losses import cross_entropy as cross_entropy
    from neural_network.losses import cross_entropy_grad as cross_entropy_grad
    from neural_network.losses import mse_loss as mse_loss
    from neural_network.losses import mse_loss_grad as mse_loss_grad
    from neural_network.losses import nll_loss as nll_loss
    from neural_network.losses import nll_loss_grad as nll_loss_grad
    from neural_network.network import Sequential as Sequential
    from neural_network.optimizers import SGD as SGD
    from neural_network.optimizers import Adam as Adam
    from neural_network.optimizers import AdamW as AdamW
    from neural_network.optimizers import RMSprop as RMSprop
    from neural_network.preprocessing import normalize as normalize
    from neural_network.serialization import Checkpoint as Checkpoint
    from neural_network.serialization import load as load
    from neural_network.serialization import load_checkpoint as load_checkpoint
    from neural_network.training import EarlyStopping as EarlyStopping
    from neural_network.training import History as History


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'neural_network' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neural_network.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
