"""Activation functions, each with its derivative beside it.

The articles' ``sigmoid`` lives here; the network issue adds the rest of the family.
"""

from __future__ import annotations

import numpy as np

from neural_network import _numerics, _validation
from neural_network._validation import EXTENDED_REAL, Array


def _prepare(func: str, Z: object) -> tuple[_validation.Namespace, Array, Array]:
    xp, device = _validation.namespace(func, Z=Z)
    z = _validation.as_real_array(func, "Z", Z, xp, device)
    _validation.check_values(func, "Z", z, xp, EXTENDED_REAL)
    return xp, z, _validation.working(xp, z)


def sigmoid(Z: object) -> Array:
    r"""The logistic function, element-wise: :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Stable for any input: ``exp`` is only taken of ``-|z|``, so there is no overflow
    (and no warning) at ``z = -1000``, and tiny outputs such as ``sigmoid(-700)``
    keep full relative accuracy. ``+-inf`` give exactly 1 and 0; NaN is refused.

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, in the input's array library and
        float dtype (float64 for integers, lists and numbers).

    Examples
    --------
    >>> print(sigmoid([-1000.0, 0.0, 1000.0]))
    [0.  0.5 1. ]
    """
    xp, z, work = _prepare("sigmoid", Z)
    with np.errstate(under="ignore"):
        return xp.astype(_numerics.sigmoid(xp, work), z.dtype, copy=False)


def sigmoid_grad(Z: object) -> Array:
    r"""Derivative of :func:`sigmoid`: :math:`\sigma'(z) = \sigma(z)\,\sigma(-z)`.

    The product of the two tails (rather than ``s * (1 - s)``) keeps full relative
    accuracy where ``sigmoid(z)`` rounds to 1.

    Examples
    --------
    >>> print(sigmoid_grad([0.0]))
    [0.25]
    """
    xp, z, work = _prepare("sigmoid_grad", Z)
    with np.errstate(under="ignore"):
        s, s_neg = _numerics.sigmoid_pair(xp, work)
        return xp.astype(s * s_neg, z.dtype, copy=False)
