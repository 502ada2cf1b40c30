"""Argument types for the commands' options: each turns the text given into a value, or
raises ``argparse.ArgumentTypeError`` so that argparse prints the usage and the problem
and exits with status 2. Standard library only: the parser is built for ``--help``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", int, float)


def _parsed(text: str, convert: Callable[[str], T], expected: str) -> T:
    """``convert(text)``, or the usage error saying what was ``expected``."""
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer of at least 1 (epochs, batch size)."""
    value = _parsed(text, int, "a whole number of at least 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def seed(text: str) -> int:
    """A seed for NumPy's generators: an integer of at least 0."""
    value = _parsed(text, int, "a whole number of at least 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more; got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number greater than 0 (the learning rate)."""
    value = _parsed(text, float, "a number such as 0.001")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0; got {text!r}")
    return value


def layer_sizes(text: str) -> tuple[int, ...]:
    """Hidden layer sizes separated by commas, e.g. ``64,64``; an empty text means no hidden layer."""
    if not text.strip():
        return ()
    sizes = []
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected sizes separated by commas, such as 64,64; {part.strip()!r} in {text!r} is not a "
                "whole number"
            ) from None
        if size < 1:
            raise argparse.ArgumentTypeError(f"every layer needs at least 1 unit; got {size} in {text!r}")
        sizes.append(size)
    return tuple(sizes)


def _share(text: str, noun: str) -> float:
    """A number from 0 (included) to 1 (excluded); ``noun`` names it in the message."""
    value = _parsed(text, float, f"a {noun} such as 0.2")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, e.g. 0.2; got {text!r}")
    return value


def fraction_or_zero(text: str) -> float:
    """A number from 0 (included) to 1 (excluded): the share of rows that tests or validates."""
    return _share(text, "fraction")


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (the weight decay)."""
    value = _parsed(text, float, "a number such as 0.0001")
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0; got {text!r}")
    return value


def dropout_rate(text: str) -> float:
    """A rate from 0 (included) to 1 (excluded): the fraction of units dropped."""
    return _share(text, "rate")
