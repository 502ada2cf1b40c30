"""The exceptions this package raises for bad input.

Every check in the package raises one of these, never a bare ``assert``, and every
message has the same four parts: the function and argument, what was expected, what
was received, and (for the classic mistakes) how to fix it. They subclass the built-in
``ValueError`` / ``TypeError``, so ``except ValueError`` keeps working.

This module uses only the standard library: the pure-Python edition shares it.
"""

from __future__ import annotations

__all__ = [
    "EmptyInputError",
    "InvalidInputError",
    "InvalidOptionError",
    "InvalidTypeError",
    "NonFiniteError",
    "OutOfRangeError",
    "ShapeMismatchError",
]


class InvalidInputError(ValueError):
    """Base class of the value errors: the argument has the right type but a wrong value."""


class InvalidTypeError(TypeError):
    """An argument is not numeric data: None, strings, complex numbers, ragged lists."""


class ShapeMismatchError(InvalidInputError):
    """Arrays that must have the same shape do not (nothing is broadcast implicitly)."""


class NonFiniteError(InvalidInputError):
    """An argument contains NaN or infinity."""


class OutOfRangeError(InvalidInputError):
    """Values fall outside the domain of the function (probabilities outside [0, 1], ...)."""


class EmptyInputError(InvalidInputError):
    """A mean was asked of no elements at all."""


class InvalidOptionError(InvalidInputError):
    """A keyword option has a value that is not one of those allowed."""


def describe(value: object, limit: int = 60) -> str:
    """Return a short, readable rendering of ``value`` for an error message."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} (type {type(value).__name__})"
