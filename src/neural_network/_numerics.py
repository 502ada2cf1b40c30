"""Numerically stable building blocks, written once for every array namespace.

Each function takes the namespace ``xp`` first and works on arrays already in the
working precision; none of them validates (the callers have).
"""

from __future__ import annotations

from neural_network._validation import Array, Namespace


def sigmoid(xp: Namespace, x: Array) -> Array:
    """The logistic function 1 / (1 + exp(-x)), accurate in both tails.

    See :func:`sigmoid_pair`, of which this is the first half.
    """
    return sigmoid_pair(xp, x)[0]


def _reciprocal_of_one_plus(xp: Namespace, e: Array) -> Array:
    """``1 / (1 + e)`` for ``0 <= e <= 1``, without the rounding error of ``1 + e``.

    ``s = 1 + e`` is rounded, but its error ``c = (1 - s) + e`` is exact (Fast2Sum,
    since 1 >= e), and ``1 / (s + c) = r - r * r * c`` to second order with
    ``r = 1 / s``. This removes about half a unit in the last place from every sigmoid.
    """
    s = 1.0 + e
    c = (1.0 - s) + e
    r = 1.0 / s
    return r - (r * r) * c


def softplus_pair(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``softplus(x)`` and ``softplus(-x)`` from one exp and one log1p.

    ``softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))``: the second term
    lies in [0, log 2], so neither term overflows and their sum (both non-negative)
    loses nothing to cancellation. ``-softplus(-x)`` is ``log(sigmoid(x))`` and
    ``-softplus(x)`` is ``log(1 - sigmoid(x))``, computed without ever rounding a
    sigmoid first.
    """
    tail = xp.log1p(xp.exp(-xp.abs(x)))
    return xp.maximum(x, 0.0) + tail, xp.maximum(-x, 0.0) + tail


def sigmoid_pair(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``sigmoid(x)`` and ``sigmoid(-x) = 1 - sigmoid(x)``, both to full relative accuracy.

    With ``e = exp(-|x|)`` (at most 1, so it never overflows) the larger of the two is
    ``1 / (1 + e)`` and the smaller ``e / (1 + e)``. The smaller keeps full relative
    accuracy for very negative x, where ``1 - sigmoid(-x)`` would round to 0.
    """
    e = xp.exp(-xp.abs(x))
    big = _reciprocal_of_one_plus(xp, e)
    small = e * big
    positive = x >= 0
    return xp.where(positive, big, small), xp.where(positive, small, big)
