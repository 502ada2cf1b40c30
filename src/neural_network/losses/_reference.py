"""Every loss's reference: its formula and its gradient, written once, in array-API operations.

A reference is the loss as its docstring's formula reads, in a few plain lines that
run on any array library: what a learner reads to see what the loss *is*. It is not
what the public function runs. The kernels beside it compute the same numbers faster,
in fewer passes and without overflow or cancellation where the plain formula has
them; the reference is what those kernels are held to. The tests evaluate every
reference in 60-digit arithmetic (an array namespace over mpmath numbers) and check
that the public function, on generic and on adversarial inputs, is within the ulp
budget registered here, for the value and for the gradient; they also check each
reference's gradient against the derivative of its value, so a reference cannot be
wrong in the same way as the kernel it judges.

A reference is two functions registered together, beside the loss::

    def _huber(xp, x, y, /, *, delta=1.0):
        d = x - y
        return xp.where(xp.abs(d) < delta, d * d / 2, delta * (xp.abs(d) - delta / 2))

    def _huber_grad(xp, x, y, /, *, delta=1.0):
        return xp.clip(x - y, -delta, delta)

    register("huber_loss", _huber, _huber_grad)

* ``value(xp, *arguments, **options)`` gives each sample's loss: the array that
  ``reduction="none"`` returns (for the losses that have no ``"none"``, the one that
  ``"sum"`` returns);
* ``grad(xp, *arguments, **options)`` gives the gradient of the sum of those values
  with respect to each argument the public ``*_grad`` differentiates: an array, or a
  tuple of arrays in argument order;
* ``arguments`` are the public function's positional arguments, already arrays of
  ``xp``; ``options`` are its keyword options (a reference takes those it needs and
  the defaults the public function has). Weights and reductions are not part of a
  reference: they are the shared reduction's (``neural_network._reduction``), which
  the tests check once for every loss.

The budget is the largest error, in units in the last place of the exact result, that
the loss promises for each value and each gradient entry in float64: 4 unless
``why`` says why the kernel computes differently on purpose (the docstring of the
loss then states the same bound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["REFERENCES", "Reference", "register"]

ULPS = 4.0
"""The catalog's promise: every value and gradient entry within 4 ulp of the exact result."""


@dataclass(frozen=True)
class Reference:
    """A loss's formula and gradient, and the accuracy its public functions promise against them."""

    name: str
    value: Callable[..., Any]
    grad: Callable[..., Any]
    value_ulps: float = ULPS
    grad_ulps: float = ULPS
    why: str = ""


REFERENCES: dict[str, Reference] = {}
"""Every registered reference, by the public name of its loss."""


def register(
    name: str,
    value: Callable[..., Any],
    grad: Callable[..., Any],
    *,
    value_ulps: float = ULPS,
    grad_ulps: float = ULPS,
    why: str = "",
) -> None:
    """Record ``value`` and ``grad`` as the reference of the loss ``name`` (once per name).

    A budget above :data:`ULPS` needs ``why``: what the kernel computes differently, and why.
    """
    if name in REFERENCES:
        raise ValueError(f"register: {name!r} already has a reference ({REFERENCES[name].value.__qualname__}).")
    if max(value_ulps, grad_ulps) > ULPS and not why:
        raise ValueError(f"register: {name!r} declares a budget above {ULPS} ulp without saying why.")
    REFERENCES[name] = Reference(name, value, grad, value_ulps, grad_ulps, why)
