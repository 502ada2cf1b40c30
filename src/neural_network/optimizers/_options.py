"""The checks every optimizer option goes through, and the messages that explain a bad one.

One place for them: each optimizer's ``__init__`` turns its options into checked values
with :func:`number` (a real number in an :class:`Interval`) and :func:`flag` (True or
False), and PyTorch's option names (``lr=``, ``eps=``, ...) get an error that says ours.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from neural_network.errors import InvalidOptionError, describe

DECOUPLED = "decoupled_weight_decay"
"""The option that makes ``weight_decay`` decoupled (PyTorch's name for it on ``Adam``)."""

TORCH_OPTION_NAMES = {
    "lr": "learning_rate=",
    "eps": "epsilon=",
    "betas": "beta1= and beta2=",
    "rho": "alpha=",
}
"""PyTorch's (and Keras's) names of our options, with the name to use here."""


@dataclass(frozen=True)
class Interval:
    """The allowed values of a numeric option, written as ``text`` in error messages."""

    text: str
    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = True

    def __contains__(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below


NON_NEGATIVE = Interval("[0, inf)", 0.0)
POSITIVE = Interval("(0, inf)", 0.0, low_open=True)
DECAY_RATE = Interval("[0, 1)", 0.0, 1.0)
FRACTION = Interval("[0, 1]", 0.0, 1.0, high_open=False)

_HINTS = {
    "learning_rate": " The learning rate scales every step (a negative one would climb the loss "
    "instead of descending it); typical values are 1e-3 (Adam) to 1e-1 (SGD).",
    "epsilon": " epsilon keeps the step finite where a gradient (and so its running "
    "average) is zero; the usual value is 1e-8.",
    "beta1": " beta1 is the decay of the running mean of the gradient; the usual value is 0.9 "
    "(1 or more would never forget the first gradient, or blow up).",
    "beta2": " beta2 is the decay of the running mean of the squared gradient; the usual value "
    "is 0.999 (PyTorch's betas=(0.9, 0.999) is beta1=0.9, beta2=0.999 here).",
    "momentum": " momentum is the fraction of the previous step kept; the usual value is 0.9 "
    "(1 or more makes the steps grow without bound).",
    "alpha": " alpha is the decay of the running mean of the squared gradient; the usual value is 0.99.",
    "weight_decay": " weight_decay shrinks the weights toward zero; a negative value would "
    "push them away. Typical values are 1e-4 to 1e-2 (with decoupled_weight_decay=True, as "
    "AdamW, 1e-4 to 1e-1).",
    "dampening": " dampening scales down each new gradient in the momentum buffer; 0 is the usual value.",
}


def number(owner: str, name: str, value: object, allowed: Interval) -> float:
    """Return ``value`` as a float if it is a real number in ``allowed`` (refuse bools and text)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        fix = ""
        if isinstance(value, str):
            fix = f" Pass the number itself, {name}={value.strip()}, not a string."
        elif isinstance(value, (tuple, list)):
            fix = " Each option takes a single number (PyTorch's betas=(b1, b2) is beta1=b1, beta2=b2 here)."
        raise InvalidOptionError(
            f"{owner}: {name} must be a real number in {allowed.text}; got {describe(value)}.{fix}"
        )
    result = float(value)
    if not math.isfinite(result) or result not in allowed:
        raise InvalidOptionError(
            f"{owner}: {name} must be a finite number in {allowed.text}; got {value!r}."
            + _HINTS.get(name, "")
        )
    return result


def flag(owner: str, name: str, value: object) -> bool:
    """Return ``value`` if it is True or False (a string such as "false" would be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidOptionError(f"{owner}: {name} must be True or False; got {describe(value)}.")
    return bool(value)


def refuse_torch_names(owner: str, options: dict[str, object]) -> None:
    """Refuse PyTorch's option names with an error that says ours (Python's own would only
    say "unexpected keyword argument")."""
    for option in options:
        if option in TORCH_OPTION_NAMES:
            raise InvalidOptionError(
                f"{owner}: there is no option {option}=; PyTorch's {option}= is "
                f"{TORCH_OPTION_NAMES[option]} here, e.g. {owner}(learning_rate=0.01)."
            )
