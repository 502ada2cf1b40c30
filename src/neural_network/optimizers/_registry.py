"""The optimizers by name: :data:`OPTIMIZERS` and :func:`get_optimizer`."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

from neural_network.errors import InvalidOptionError, describe
from neural_network.optimizers._base import Optimizer
from neural_network.optimizers._options import TORCH_OPTION_NAMES
from neural_network.optimizers.adam import Adam, AdamW
from neural_network.optimizers.rmsprop import RMSprop
from neural_network.optimizers.sgd import SGD

__all__ = ["OPTIMIZERS", "get_optimizer"]

OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
"""The optimizers :func:`get_optimizer` knows, by lower-case name."""


def get_optimizer(name: str, **options: Any) -> Optimizer:
    """Create an optimizer from its name (case-insensitive) and keyword options.

    Parameters
    ----------
    name : {"sgd", "adam", "adamw", "rmsprop"}
        The optimizer, in any case ("Adam", "SGD").
    **options
        Its keyword arguments, e.g. ``learning_rate=0.01, momentum=0.9``.

    Examples
    --------
    >>> get_optimizer("Adam", learning_rate=0.01)
    Adam(learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-08, weight_decay=0.0, amsgrad=False)
    """
    valid = ", ".join(repr(key) for key in OPTIMIZERS)
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        message = f"get_optimizer: name must be one of {valid} (any case); got {describe(name)}."
        if isinstance(name, str):
            close = difflib.get_close_matches(name.lower(), OPTIMIZERS, n=1)
            if close:
                message += f" Did you mean {close[0]!r}?"
        raise InvalidOptionError(message)
    cls = OPTIMIZERS[name.lower()]
    accepted = list(inspect.signature(cls).parameters)
    for option in options:
        if option not in accepted:
            hint = (
                f" PyTorch's {option}= is {TORCH_OPTION_NAMES[option]} here."
                if option in TORCH_OPTION_NAMES
                else ""
            )
            raise InvalidOptionError(
                f"get_optimizer: {cls.__name__} has no option {option!r}; its options are "
                f"{', '.join(accepted)}.{hint}"
            )
    return cls(**options)
