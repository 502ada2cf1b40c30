"""Labels -1 and +1, which every margin loss takes: their domain and the check that refuses the rest.

Libraries disagree on the encoding of a binary label (Keras's ``Hinge`` converts 0/1
labels to -1/+1 silently, scikit-learn binarizes whatever two labels it is given, optax
and PyTorch expect -1/+1 and compute nonsense from a 0): the margin losses here accept
-1 and +1 only, and refuse a 0 with the hint ``2 * y - 1`` (see ``_margin.py``).
"""

from __future__ import annotations

import math

import numpy as np

from neural_network import _blocks, _validation
from neural_network._validation import Array, Domain, Namespace
from neural_network.errors import OutOfRangeError
from neural_network.losses._common import real_option


def _sign_hint(low: float, high: float) -> str:
    if low >= 0.0 and high <= 1.0:
        return " Labels coded as 0/1? Map them to -1/+1 with 2 * y - 1."
    if low >= 0.0 and float(high).is_integer():
        return (
            " Class indices? These losses are binary: map the positive class to +1 and "
            "every other to -1 (e.g. numpy.where(y == k, 1.0, -1.0))."
        )
    return " Regression targets or scores? Labels must be exactly -1 or +1."


SIGN = Domain("labels -1 or +1", -1.0, 1.0, hint=_sign_hint)
"""Labels in {-1, +1}. Its bounds reject what lies outside [-1, 1];
:func:`check_signs` rejects what lies strictly between."""


def check_signs(func: str, name: str, values: object) -> None:
    """Refuse labels strictly between -1 and +1 (a 0/1 label gets the hint ``2 * y - 1``).

    For arguments already checked against :data:`SIGN` (finite, in [-1, 1]): the only
    values left to refuse are those with ``|y| < 1``. Large NumPy arrays are measured in
    blocks, on several threads.
    """
    xp, device = _validation.namespace(func, **{name: values})
    y = _validation.as_real_array(func, name, values, xp, device)
    if math.prod(y.shape) == 0 or _smallest_magnitude(xp, y) == 1.0:
        return
    inside = xp.abs(y) < 1.0
    count, where, value = _validation._locate(xp, y, inside)
    has_zero = bool(xp.any(y == 0.0))
    hint = (
        "Labels coded as 0/1? Map them to -1/+1 with 2 * y - 1."
        if has_zero
        else "Soft labels or probabilities are not margins' labels: use -1 or +1 (e.g. numpy.sign(y))."
    )
    raise OutOfRangeError(
        f"{func}: {name} must hold labels -1 or +1; got {count} value{'s' if count != 1 else ''} "
        f"that {'are' if count != 1 else 'is'} neither (first: {name}{where} = {value:.6g}). {hint}"
    )


def _smallest_magnitude(xp: Namespace, y: Array) -> float:
    if isinstance(y, np.ndarray):
        flat = np.reshape(y, -1)
        return min(_blocks.map_blocks(lambda start, stop: float(np.min(np.abs(flat[start:stop]))), flat.size))
    return float(xp.min(xp.abs(_validation.detached(y))))


def indicator(xp: Namespace, mask: Array) -> Array:
    """A boolean array as 0.0/1.0 (NumPy multiplies booleans directly; the array API does not)."""
    if isinstance(mask, np.ndarray):
        return mask
    return xp.astype(mask, xp.float64)


def margin_option(func: str, margin: object) -> float:
    return real_option(func, "margin", margin, meaning="a finite real number", low=-math.inf, low_included=False)
