"""Pieces the losses share: option checks, exact repairs, and refinement of the elements that need it."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from neural_network._validation import Array, Namespace
from neural_network.errors import InvalidOptionError, describe


def real_option(
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


def bool_option(func: str, name: str, value: object) -> bool:
    """A True/False option as a bool, or an InvalidOptionError naming the function and the option."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidOptionError(
            f"{func}: {name} must be True or False; got {describe(value)}. Pass a Python bool."
        )
    return bool(value)


def any_true(xp: Namespace, mask: Array) -> bool:
    if isinstance(mask, np.ndarray):
        return bool(mask.any())
    return bool(xp.any(mask))


def indicator(xp: Namespace, condition: Array) -> Array:
    """1.0 where ``condition`` holds, else 0.0, in float64: the array API multiplies no
    booleans and refuses ``where(condition, 1.0, 0.0)`` (one branch must be an array)."""
    return xp.astype(condition, xp.float64)


def repair_overflow(
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
    if not any_true(xp, overflow):
        return value
    return xp.where(overflow, halved(p * 0.5 - y * 0.5), value)


def choose(xp: Namespace, condition: Array, if_true: Array, if_false: Array) -> Array:
    """``where(condition, if_true, if_false)`` for non-negative values (NaN passes through).

    On NumPy without ``where``, whose branches cost about 4 ns an element for a condition
    that changes at random (see ``_numerics.select_larger``): ``v * True`` is ``v`` and
    ``v * False`` is 0, and the larger of the chosen value and 0 is the chosen value.
    """
    if isinstance(if_true, np.ndarray):
        return np.maximum(np.multiply(if_true, condition), np.multiply(if_false, ~condition))
    return xp.where(condition, if_true, if_false)


def refine_flagged(
    xp: Namespace, value: Array, needed: Array, exact: Callable[..., Array], *operands: Array,
    harmless: tuple[float, ...] | None = None,
) -> Array:
    """``value`` with the elements where ``needed`` replaced by ``exact(xp, *operands)`` there.

    On NumPy ``exact`` runs on those elements only (it costs tens of operations an
    element, and often few need it); other libraries evaluate it everywhere and select,
    with the operands replaced by ``harmless`` (one number each) where not ``needed``, for
    a function defined only where it is needed. Either way an element's result comes from
    the same operations on the same operands: the same bits.
    """
    if not any_true(xp, needed):
        return value
    if isinstance(value, np.ndarray):
        index = np.flatnonzero(needed)
        out = np.array(value, copy=True).reshape(-1)
        out[index] = exact(np, *(np.reshape(o, -1)[index] for o in operands))
        return out.reshape(value.shape)
    if harmless is not None:
        operands = tuple(xp.where(needed, o, xp.full_like(o, h)) for o, h in zip(operands, harmless, strict=True))
    return xp.where(needed, exact(xp, *operands), value)
