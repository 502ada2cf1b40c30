"""Numerically stable building blocks, written once for every array namespace.

Each function takes the namespace ``xp`` first and works on arrays already in the
working precision; none of them validates (the callers have).
"""

from __future__ import annotations

from neural_network._validation import Array, Namespace


def sigmoid(xp: Namespace, x: Array) -> Array:
    """The logistic function 1 / (1 + exp(-x)), accurate in both tails.

    With ``e = exp(-|x|)`` (at most 1, so it never overflows) the value is ``1 / (1 + e)``
    for x >= 0 and ``e / (1 + e)`` for x < 0. The second form keeps full relative
    accuracy for very negative x, where ``1 - sigmoid(-x)`` would round to 0.
    """
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


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
    """``sigmoid(x)`` and ``sigmoid(-x) = 1 - sigmoid(x)``, both to full relative accuracy."""
    e = xp.exp(-xp.abs(x))
    big = 1.0 / (1.0 + e)
    small = e / (1.0 + e)
    positive = x >= 0
    return xp.where(positive, big, small), xp.where(positive, small, big)
