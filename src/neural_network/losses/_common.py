"""Pieces the regression losses share: option checks and exact repairs."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from neural_network._validation import Array, Namespace
from neural_network.errors import InvalidOptionError, describe


def _option(
    func: str, name: str, value: object, *, meaning: str, low: float, low_included: bool, high: float = math.inf
) -> float:
    """A scalar option as a float, or an InvalidOptionError naming the function and the option.

    ``meaning`` says what the option is for and what it must be (e.g. "the threshold
    where the loss turns from quadratic to linear: a positive finite number").
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidOptionError(
            f"{func}: {name} must be a real number, {meaning}; got {describe(value)}. "
            f"Pass a Python float, e.g. {name}=float(value)."
        )
    number = float(value)
    above = number >= low if low_included else number > low
    if not (math.isfinite(number) and above and number <= high):
        raise InvalidOptionError(f"{func}: {name} must be {meaning}; got {name}={number!r}.")
    return number


def _any(xp: Namespace, mask: Array) -> bool:
    if isinstance(mask, np.ndarray):
        return bool(mask.any())
    return bool(xp.any(mask))


def _repair_overflow(
    xp: Namespace, value: Array, difference: Array, p: Array, y: Array, halved: Callable[[Array], Array]
) -> Array:
    """``value`` with the elements where ``p - y`` overflowed computed again from halves.

    Two finite float64 numbers can differ by more than the largest float (1e308 and
    -1e308), while a loss that scales the difference down (a quantile below 1, a
    division by the target) is still finite. There ``halved(p / 2 - y / 2)`` gives the
    value: the halves are exact at that size, and ``halved`` scales its result back up.
    A check of the differences costs little; the repair is made only where needed.
    """
    overflow = xp.isinf(difference)
    if not _any(xp, overflow):
        return value
    return xp.where(overflow, halved(p * 0.5 - y * 0.5), value)


def _choose(xp: Namespace, condition: Array, if_true: Array, if_false: Array) -> Array:
    """``where(condition, if_true, if_false)`` for non-negative values (NaN passes through).

    On NumPy without ``where``, whose branches cost about 4 ns an element for a condition
    that changes at random (see ``_numerics.select_larger``): ``v * True`` is ``v`` and
    ``v * False`` is 0, and the larger of the chosen value and 0 is the chosen value.
    """
    if isinstance(if_true, np.ndarray):
        return np.maximum(np.multiply(if_true, condition), np.multiply(if_false, ~condition))
    return xp.where(condition, if_true, if_false)


