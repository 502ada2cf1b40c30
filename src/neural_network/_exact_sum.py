"""Exact sums of float64 values: the pieces the reduction, Dask and the command line share.

NumPy sums each block of ``PARTIAL_LENGTH`` elements pairwise (each partial carries an error of
a few units in the last place at most); ``math.fsum`` then adds the partials without
any rounding error of its own. :func:`partials` and :func:`combine` do it for one
array; :class:`StreamingSum` forms exactly the same blocks over values that arrive in
pieces (a file read in batches, the chunks of a Dask array), so every path gives the
same bits as the in-memory sum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neural_network._validation import Array

__all__ = ["PARTIAL_LENGTH", "StreamingSum", "combine", "partials"]

PARTIAL_LENGTH = 2048
"""Elements per partial sum on the NumPy path (not ``_blocks.BLOCK``, the 65,536 elements a
thread takes at a time; a multiple of this one, so that blocks cut no partial)."""



def partials(values: Array) -> list[float]:
    """The partial sums of float64 NumPy ``values``: one per whole ``PARTIAL_LENGTH``, then the rest.

    A long array cut at multiples of ``PARTIAL_LENGTH`` gives, piece by piece, the same partials
    as the whole: the blocked evaluation of the losses relies on it.
    """
    flat = np.reshape(values, -1)
    whole = flat.size - flat.size % PARTIAL_LENGTH
    sums: list[float] = np.add.reduce(flat[:whole].reshape(-1, PARTIAL_LENGTH), axis=1).tolist()
    sums.append(float(np.add.reduce(flat[whole:])))  # 0.0 if nothing is left: changes no sum
    return sums


def combine(sums: list[float]) -> Array:
    """The exact sum of ``sums``, rounded once to float64 (``inf`` beyond its range)."""
    try:
        return np.float64(math.fsum(sums))
    except OverflowError:  # the exact sum of finite partials exceeds the float64 range
        return np.float64(math.inf)
    except ValueError:  # inf and -inf in different partials: NaN, as NumPy's own sum gives
        return np.float64(math.nan)


class StreamingSum:
    """The sum of float64 values that arrive in pieces, equal to ``total`` of their concatenation.

    ``total`` sums each whole block of ``PARTIAL_LENGTH`` elements pairwise, then the tail, and
    adds those partials with ``math.fsum``. This accumulator forms exactly the same
    blocks over the concatenated stream, whatever the sizes of the pieces: the elements
    after the last whole block wait in a carry (fewer than ``PARTIAL_LENGTH`` of them) until the
    next piece completes the block. So ``value()`` equals ``total`` of the whole array,
    to the last bit, for every way of cutting it into pieces.

    Memory stays bounded however many values arrive: every ``FOLD`` block partials are
    folded into their exact sum, held as a few non-overlapping floats (Shewchuk's
    expansion, the same arithmetic ``math.fsum`` does inside). The exact sum does not
    change, and ``math.fsum`` rounds it correctly, so the result is the same bits.

    Where the exact sum of finite values exceeds the float64 range the value is ``inf``,
    as with ``total``. Only NumPy arrays (or anything ``numpy.asarray`` reads) in
    float64 are summed; other dtypes are converted to float64 first.
    """

    FOLD = 1024
    """Block partials kept before they are folded into the exact running sum."""

    def __init__(self) -> None:
        self.count = 0
        """How many values have been added."""
        self._carry: np.ndarray[Any, np.dtype[np.float64]] = np.empty(0)
        self._pending: list[float] = []
        self._exact: list[float] = []  # non-overlapping finite floats whose sum is exact
        self._special: list[float] = []  # inf, -inf and NaN, each once if it came: fsum decides
        self._overflow = False

    def add(self, values: object) -> None:
        """Add the values of an array of any shape (in row-major order)."""
        flat = np.reshape(np.asarray(values, dtype=np.float64), -1)
        self.count += flat.size
        with np.errstate(over="ignore", invalid="ignore"):  # a block's sum may overflow: inf, as in total
            self._add(flat)

    def _add(self, flat: np.ndarray[Any, np.dtype[np.float64]]) -> None:
        # The carry holds the last 1 to PARTIAL_LENGTH values (a full block waits there until more
        # values come), so that up to PARTIAL_LENGTH values in all are still there for ``total``.
        if self._carry.size:
            missing = PARTIAL_LENGTH - self._carry.size
            if flat.size <= missing:
                self._carry = np.concatenate((self._carry, flat))
                return
            self._pending.append(float(np.add.reduce(np.concatenate((self._carry, flat[:missing])))))
            flat = flat[missing:]
        whole = flat.size - flat.size % PARTIAL_LENGTH
        if whole == flat.size:  # keep the last whole block in the carry
            whole -= PARTIAL_LENGTH
        if whole > 0:
            self._pending.extend(np.add.reduce(flat[:whole].reshape(-1, PARTIAL_LENGTH), axis=1).tolist())
        self._carry = flat[max(whole, 0) :].copy()
        if len(self._pending) >= self.FOLD:
            self._fold()

    def terms(self) -> list[float]:
        """Floats whose exact sum is the sum ``value()`` rounds.

        Sums accumulated apart (one per chunk of a Dask array) are merged exactly by
        passing all their terms to :func:`combine`.
        """
        if self._overflow:
            return [math.inf]
        with np.errstate(over="ignore", invalid="ignore"):
            last = float(np.add.reduce(self._carry))
        return [*self._special, *self._exact, *self._pending, last]

    def value(self) -> float:
        """The sum of everything added so far, as ``total`` gives it for the concatenation."""
        if self._overflow:
            return math.inf
        with np.errstate(over="ignore", invalid="ignore"):
            if not (self._pending or self._exact or self._special):  # every value is in the carry
                return float(np.add.reduce(self._carry))  # what total gives for PARTIAL_LENGTH values or fewer
            last = float(np.add.reduce(self._carry))  # a whole block, or the tail of fewer
        return float(combine([*self._special, *self._exact, *self._pending, last]))

    def _fold(self) -> None:
        pending, self._pending = self._pending, []
        exact = self._exact
        for partial in pending:
            if self._overflow:
                return
            if not math.isfinite(partial):
                # fsum's result depends only on which of inf, -inf and NaN it met, not how often.
                if not any(_same(partial, seen) for seen in self._special):
                    self._special.append(partial)
                continue
            x, kept = partial, 0
            for y in exact:
                if abs(x) < abs(y):
                    x, y = y, x
                high = x + y
                if math.isinf(high):  # two finite floats whose sum leaves the float64 range
                    self._overflow = True
                    return
                low = y - (high - x)
                if low:
                    exact[kept] = low
                    kept += 1
                x = high
            exact[kept:] = [x]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))
