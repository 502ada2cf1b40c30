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
    "activations": ("sigmoid", "sigmoid_grad"),
    "linalg": ("matrix_multiply",),
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
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_MODULE_OF)

if TYPE_CHECKING:
    from neural_network.activations import sigmoid as sigmoid
    from neural_network.activations import sigmoid_grad as sigmoid_grad
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
    from neural_network.preprocessing import normalize as normalize


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'neural_network' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neural_network.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
