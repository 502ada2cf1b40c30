"""The class-axis losses on NumPy: blocks of samples over threads (see the module _softmax)."""


from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neural_network import _blocks, _reduction, _validation
from neural_network._validation import REAL, Array
from neural_network.losses._rows import RowArguments, check_row_sums, mean_denominator
from neural_network.losses.multiclass._softmax_math import class_sums

# --------------------------------------------------------------------------- NumPy, in blocks

ELEMENTS = _blocks.BLOCK
"""Scores per block, about: the few float64 work arrays of a block stay in a core's cache
(larger blocks would spread the fixed cost of each NumPy call over more scores, smaller
ones would fit a faster cache; both lose, measured)."""

TRANSPOSED_CLASSES = 64
"""Up to this many classes a block is held transposed, (C, samples): its operations over
the classes are then vector operations over the samples, instead of short rows."""

_WORK_ARRAYS = 6


def _scratch(shape: tuple[int, int]) -> list[Array]:
    """``_WORK_ARRAYS`` float64 work arrays of ``shape`` for one block, the same memory
    from block to block and call to call in each thread (see ``_blocks.scratch``)."""
    return list(_blocks.scratch(__name__, _WORK_ARRAYS, shape))


def _rows_per_block(classes: int) -> int:
    """Samples per block: about ``ELEMENTS`` scores, in whole multiples of the reduction's
    own block where that is near, so that per-block partial sums are those of the whole."""
    rows = max(1, ELEMENTS // classes)
    if rows >= _reduction.PARTIAL_LENGTH // 2:
        rows = _reduction.PARTIAL_LENGTH * max(1, round(rows / _reduction.PARTIAL_LENGTH))
    return rows


def _spans(count: int, inner: int, rows: int) -> list[tuple[int, int, int, int]]:
    """Blocks of about ``rows`` samples of an (N, C, D) input, as ``(n0, n1, j0, j1)``:
    the samples ``n * D + j`` for ``n0 <= n < n1`` and ``j0 <= j < j1``, in order."""
    if count == 0 or inner == 0:
        return []
    if inner >= rows:
        return [(n, n + 1, j, min(j + rows, inner)) for n in range(count) for j in range(0, inner, rows)]
    group = rows // inner
    return [(n, min(n + group, count), 0, inner) for n in range(0, count, group)]


def _load(view: Array, axis: int, out: Array, *, writable: bool = False) -> Array:
    """A (k, C, w) view of the caller's array as a contiguous float64 block, (C, k w) or
    (k w, C): copied into ``out``, or the caller's memory itself where that is already
    such a block and the block is only read."""
    k, classes, width = view.shape
    if axis == 1 and width == 1 and not writable:
        rows = view[:, :, 0]
        if rows.dtype == np.float64 and rows.flags.c_contiguous:
            return rows
    if axis == 0:
        np.copyto(out.reshape(classes, k, width), view.transpose(1, 0, 2))
    else:
        np.copyto(out.reshape(k, width, classes), view.transpose(0, 2, 1))
    return out


def _store(out: Array, block: Array, axis: int) -> None:
    """Write a float64 block in the layout of :func:`_load` into the (k, C, w) view ``out``,
    rounded once to its dtype."""
    k, classes, width = out.shape
    if axis == 0:
        source = block.reshape(classes, k, width).transpose(1, 0, 2)
    else:
        source = block.reshape(k, width, classes).transpose(0, 2, 1)
    np.copyto(out, source, casting="same_kind")


@dataclass(slots=True)
class _Parts:
    """The log-softmax of a block of float64 scores ``a``, class axis ``axis``.

    The same operations as :func:`log_softmax_parts` on every element: ``z = x - max``,
    its exact rounding error ``d``, ``e = exp(z) + exp(z) * d`` and ``rest``, the sum of
    ``e`` over every class but the first maximal one. ``e`` holds 0 at the first maxima
    (whose terms are exactly 1) until :meth:`probabilities` puts the 1 back.
    """

    z: Array
    d: Array
    e: Array
    rest: Array  # keepdims shape: (1, m) or (m, 1)
    unique: Array | None  # where the maxima are (a mask), when each sample has one maximum only
    maxima: Array | None  # else the flat position of each sample's first maximum
    low: float  # the block's smallest and largest score, for the value checks
    high: float

    @staticmethod
    def of(a: Array, axis: int, z: Array, d: Array, e: Array, back: Array) -> _Parts:
        """The parts of ``a``, written into the work arrays ``z``, ``d``, ``e`` (and ``back``)."""
        top = np.maximum.reduce(a, axis=axis, keepdims=True)
        low, high = float(np.minimum.reduce(a, axis=None)), float(np.maximum.reduce(top, axis=None))
        shift = np.negative(top)
        np.add(a, shift, out=z)
        np.subtract(z, a, out=back)  # TwoSum's error of x + shift, without its first add
        np.subtract(z, back, out=d)
        np.subtract(a, d, out=d)
        np.subtract(shift, back, out=back)
        d += back
        if not math.isfinite(high - low):
            # x - max may have overflowed to -inf (or the block holds NaN or inf, refused
            # after the pass): the error term is inf - inf there, and is discarded.
            np.copyto(d, 0.0, where=~np.isfinite(z))
        np.exp(z, out=e)
        np.multiply(e, d, out=back)
        e += back
        samples = a.shape[1 - axis]
        equal = np.equal(a, top)
        if np.count_nonzero(equal) == samples:
            # One maximum per sample, the common case: its term is exactly 1, and 1 - 1 = 0
            # (a subtraction of the mask, free of the branches of indexing by it).
            np.subtract(e, equal, out=e)
            return _Parts(z, d, e, class_sums(e, axis), equal, None, low, high)
        # Ties (or NaN, refused after the pass): the first maximum of each sample.
        maxima = _positions(np.argmax(a, axis=axis), samples, a.shape[axis], axis)
        e.put(maxima, 0.0)
        return _Parts(z, d, e, class_sums(e, axis), None, maxima, low, high)

    def is_first_maximum(self, positions: Array) -> Array:
        """Whether each sample's flat position (sample order) is its first maximum."""
        if self.unique is not None:
            return self.unique.take(positions)
        return positions == self.maxima

    def set_first_maxima(self, values: Array, per_sample: Array) -> None:
        """Write ``per_sample`` values (keepdims shape) at each sample's first maximum."""
        if self.unique is not None:
            np.copyto(values, per_sample, where=self.unique)
        else:
            values.put(self.maxima, per_sample.reshape(-1))

    def without_first_maxima(self, values: Array, out: Array) -> Array:
        """``values`` with 0 at each sample's first maximum, written into ``out``."""
        if self.unique is not None:  # v - v * 1 = 0 there, v - v * 0 = v elsewhere
            np.multiply(values, self.unique, out=out)
            return np.subtract(values, out, out=out)
        np.copyto(out, values)
        out.put(self.maxima, 0.0)
        return out

    def nll(self, positions: Array) -> Array:
        """``-log p`` at one flat position per sample: ``(log1p(rest) - z) - d``."""
        nll = np.log1p(self.rest).reshape(-1) - self.z.take(positions)
        nll -= self.d.take(positions)
        return nll

    def all_nll(self, out: Array) -> Array:
        """``-log p`` of every class, written into ``out``."""
        np.subtract(np.log1p(self.rest), self.z, out=out)
        out -= self.d
        return out

    def probabilities(self) -> tuple[Array, Array]:
        """``p = e / (1 + rest)`` of every class (in place of ``e``), and ``rest / (1 + rest)``,
        which is ``1 - p`` of the top class without the cancellation where ``p`` rounds to 1."""
        if self.unique is not None:  # the first maximum's term: exp(0), exactly 1
            np.add(self.e, self.unique, out=self.e)
        else:
            self.e.put(self.maxima, 1.0)
        above = 1.0 + self.rest
        np.divide(self.e, above, out=self.e)
        return self.e, (self.rest / above).reshape(-1)


def _positions(classes_of: Array, samples: int, classes: int, axis: int) -> Array:
    """Flat positions in a (C, m) or (m, C) block of one class per sample."""
    if axis == 0:
        return classes_of * samples + np.arange(samples)
    return np.arange(samples) * classes + classes_of


@dataclass(slots=True)
class _Pass:
    """One evaluation of NumPy arguments: the flat per-sample arrays and the options.

    ``x3`` (and ``t3``, a probability target) are the caller's arrays seen as (N, C, D),
    sample ``n * D + j`` being ``x3[n, :, j]``; ``indices`` are the class indices, -1 where
    the sample is ignored.
    """

    x3: Array
    t3: Array | None
    indices: Array | None
    ignored: bool
    weight: Array | None  # (C,) float64
    sample_weight: Array | None  # (M,) float64
    label_smoothing: float
    reduction: str
    denominator: Any  # what the mean divides by (1.0 for the other reductions)
    axis: int  # the class axis of a block: 0 (transposed) or 1
    spans: list[tuple[int, int, int, int]]  # the blocks: see _spans


def _numpy_pass(checked: RowArguments) -> _Pass:
    x, classes = checked.x, checked.classes
    count = x.shape[0] if x.ndim >= 2 else 1
    inner = math.prod(x.shape[2:])
    t = checked.target.probabilities
    return _Pass(
        x3=x.reshape(count, classes, inner),
        t3=None if t is None else t.reshape(count, classes, inner),
        indices=checked.target.indices,
        ignored=checked.target.ignored,
        weight=checked.weight,
        sample_weight=checked.sample_weight,
        label_smoothing=checked.label_smoothing,
        reduction=checked.reduction,
        denominator=mean_denominator(checked) if checked.reduction == "mean" else 1.0,
        axis=0 if classes <= TRANSPOSED_CLASSES else 1,
        spans=_spans(count, inner, _rows_per_block(classes)),
    )


Task = Callable[[int, int, int, int, int, int], tuple[Any, ...]]
"""One block of a pass: ``task(n0, n1, j0, j1, start, stop)``, ``start:stop`` its samples."""


def _run_blocks(run: _Pass, task: Task) -> list[tuple[Any, ...]]:
    """``task`` on every block of ``run``, in order, on several threads for large input."""
    spans, inner = run.spans, run.x3.shape[2]

    def one(index: int) -> tuple[Any, ...]:
        n0, n1, j0, j1 = spans[index]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # for this thread
            return task(n0, n1, j0, j1, n0 * inner + j0, (n1 - 1) * inner + j1)

    if len(spans) <= 1:
        return [one(0)] if spans else []
    # map_blocks hands out element ranges of _blocks.BLOCK: one per block of samples here.
    return _blocks.map_blocks(lambda start, stop: one(start // _blocks.BLOCK), len(spans) * _blocks.BLOCK)


class _Values:
    """Per-sample losses of a pass, weighted and reduced as ``_reduction.reduce_values`` does.

    A block's partial sums are those of the whole when its samples are whole blocks of
    the reduction's (see :func:`_rows_per_block`); otherwise the losses are kept, one
    float per sample, and summed at the end.
    """

    def __init__(self, run: _Pass, samples: int, dtype: Any) -> None:
        self.run, self.dtype = run, dtype
        self.none = run.reduction == "none"
        aligned = all(((n1 - n0) * (j1 - j0)) % _reduction.PARTIAL_LENGTH == 0 for n0, n1, j0, j1 in run.spans[:-1])
        self.out = None if aligned and not self.none else np.empty(samples, dtype=dtype if self.none else np.float64)
        # A sum's weights scaled as reduce_values scales them, and the total brought back at the end.
        self.weights, self.exponent = _reduction.sum_weights(np, run.sample_weight, run.reduction)

    def add(self, values: Array, start: int, stop: int) -> list[float]:
        """Weight a block's losses; return its partial sums, or keep them for the end."""
        s = self.weights
        if s is not None:
            values = _reduction.apply_sample_weight(np, values, s[start:stop])
        if self.out is not None:
            self.out[start:stop] = values  # rounded once to the output dtype for "none"
            return []
        if values.size <= _reduction.PARTIAL_LENGTH:  # what partials gives, without its reshaping
            return [float(np.add.reduce(values))]
        return _reduction.partials(values)

    def result(self, pieces: list[tuple[Any, ...]], shape: tuple[int, ...]) -> Array:
        if self.none:
            assert self.out is not None
            return self.out.reshape(shape)
        if self.out is None:
            total = float(_reduction.combine([partial for piece in pieces for partial in piece[-1]]))
        else:
            with np.errstate(over="ignore"):  # beyond the range (huge class weights): inf
                total = float(_reduction.total(np, self.out))
        total = float(_reduction.unscale(np.float64(total), self.exponent))
        denominator = float(self.run.denominator)
        if self.run.reduction == "mean" and denominator > 0:  # IEEE division, as NumPy's
            total = total / denominator
        elif self.run.reduction == "mean":  # no samples (a training batch of none): NaN
            total = math.nan
        if self.dtype == np.float64:
            return np.float64(total)
        with np.errstate(over="ignore"):  # rounded to a narrower float: inf beyond its range
            return np.dtype(self.dtype).type(total)


def _reduce_block(run: _Pass, gradient: Array, start: int, stop: int) -> Array:
    """A block's gradient weighted and reduced as ``_reduction.reduce_derivatives`` does."""
    s = run.sample_weight
    if s is not None:
        weights = _per_sample(s[start:stop], run.axis)
        gradient = weights * np.where(weights == 0, 0.0, gradient)
    if run.reduction == "mean":
        gradient /= run.denominator
    return gradient


def _per_sample(values: Array, axis: int) -> Array:
    """Per-sample ``values`` shaped to broadcast against a block with class axis ``axis``."""
    return values[None, :] if axis == 0 else values[:, None]


def _targets(run: _Pass, start: int, stop: int) -> tuple[Array, Array | None]:
    """The block's class indices (ignored samples at class 0) and where they are ignored."""
    assert run.indices is not None
    y = run.indices[start:stop]
    if not run.ignored:
        return y, None
    ignored = y < 0
    return np.where(ignored, 0, y), ignored


def _target_weights(run: _Pass, y: Array, ignored: Array | None) -> Array | None:
    """``w[y]`` per sample, 0 where ignored; None where that is 1 for every sample."""
    if run.weight is None:
        return None if ignored is None else np.where(ignored, 0.0, 1.0)
    weights = run.weight.take(y) + 0.0  # summed over a row with zeros, a weight of -0.0 was +0.0
    return weights if ignored is None else np.where(ignored, 0.0, weights)


def _check_measured(checked: RowArguments, pieces: list[tuple[Any, ...]]) -> None:
    """Decide the deferred value checks from the blocks' minima and maxima (and row sums)."""
    if not pieces:
        return
    func = checked.func
    low, high = _extreme(np.min, pieces, 0), _extreme(np.max, pieces, 1)
    _validation.check_range(func, "input", checked.x, np, checked.domain, low, high)
    t = checked.target.probabilities
    if t is not None:
        low, high = _extreme(np.min, pieces, 2), _extreme(np.max, pieces, 3)
        _validation.check_range(func, "target", t, np, _validation.LABEL, low, high)
        check_row_sums(func, _extreme(np.max, pieces, 4), checked.classes, float(np.finfo(t.dtype).eps))


def _extreme(which: Callable[[Any], Any], pieces: list[tuple[Any, ...]], at: int) -> float:
    """The smallest or the largest (``np.min``, ``np.max``) of the blocks' entries ``at``."""
    if len(pieces) == 1:
        return float(pieces[0][at])
    # NumPy's, not Python's min and max: a NaN in any block must come through.
    return float(which([piece[at] for piece in pieces]))


def cross_entropy_numpy(
    checked: RowArguments, *, value: bool, gradient: bool, check: bool = True
) -> tuple[Array, Array]:
    """The loss (reduced as asked) and its gradient, as many as wanted, in one pass; the
    input's values are checked unless ``check`` is false."""
    run = _numpy_pass(checked)
    count, classes, inner = run.x3.shape
    axis, ls = run.axis, run.label_smoothing
    values = _Values(run, count * inner, checked.x.dtype) if value else None
    out = np.empty(checked.x.shape, dtype=checked.x.dtype) if gradient else None
    out3 = None if out is None else out.reshape(count, classes, inner)
    w = None if run.weight is None else (run.weight[:, None] if axis == 0 else run.weight[None, :])
    with np.errstate(over="ignore"):  # class weights summing beyond the range: inf
        sum_w = float(classes) if run.weight is None else float(np.add.reduce(run.weight))

    def task(n0: int, n1: int, j0: int, j1: int, start: int, stop: int) -> tuple[Any, ...]:
        samples = stop - start
        a, z, d, e, back, t = _scratch((classes, samples) if axis == 0 else (samples, classes))
        a = _load(run.x3[n0:n1, :, j0:j1], axis, a)
        parts = _Parts.of(a, axis, z, d, e, back)
        measured: tuple[Any, ...] = (parts.low, parts.high)
        if run.t3 is not None:  # class probabilities, (1 - ls) t + ls / C, times the class weights
            t = _load(run.t3[n0:n1, :, j0:j1], axis, t, writable=True)
            worst = np.abs(class_sums(t, axis) - 1.0)
            measured += (float(np.min(t)), float(np.max(t)), float(np.max(worst)))
            t *= 1.0 - ls
            t += ls / classes
            if w is not None:
                t *= w
        partials: list[float] = []
        if values is not None:
            if run.t3 is not None:
                nll = parts.all_nll(back)
                np.multiply(t, np.where(t > 0, nll, 0.0), out=nll)
                loss = class_sums(nll, axis).reshape(-1)
            else:
                y, ignored = _targets(run, start, stop)
                loss = parts.nll(_positions(y, samples, classes, axis))
                target_weight = _target_weights(run, y, ignored)
                if target_weight is not None:
                    loss = target_weight * np.where(target_weight > 0, loss, 0.0) + 0.0
                if ls:
                    nll = parts.all_nll(back)
                    if w is not None:
                        np.multiply(w, np.where(w > 0, nll, 0.0), out=nll)
                    counted = 1.0 if ignored is None else np.where(ignored, 0.0, 1.0)
                    loss = (1.0 - ls) * loss + ((ls / classes) * counted) * class_sums(nll, axis).reshape(-1)
            partials = values.add(loss, start, stop)
        if out3 is not None:
            p, complement = parts.probabilities()
            if run.t3 is not None:
                total = class_sums(t, axis)
                others = class_sums(parts.without_first_maxima(t, back), axis)
                g = np.multiply(p, total, out=p)
                g -= t
                parts.set_first_maxima(g, others - total * complement.reshape(total.shape))
            else:
                y, ignored = _targets(run, start, stop)
                positions = _positions(y, samples, classes, axis)
                target_p = p.take(positions)
                difference = np.where(parts.is_first_maximum(positions), -complement, target_p - 1.0)
                if ignored is not None:
                    difference = np.where(ignored, target_p, difference)
                g = p
                if ls:
                    g = d  # free again: p is kept for the smoothing term
                    np.copyto(g, p)
                g.put(positions, difference)
                target_weight = _target_weights(run, y, ignored)
                if ls or target_weight is not None:
                    scale = 1.0 - ls if target_weight is None else (1.0 - ls) * target_weight
                    g *= _per_sample(np.broadcast_to(scale, (samples,)), axis)
                if ls:
                    smooth = np.multiply(p, sum_w, out=back)
                    smooth -= 1.0 if w is None else w
                    counted = 1.0 if ignored is None else np.where(ignored, 0.0, 1.0)
                    smooth *= _per_sample(np.broadcast_to((ls / classes) * counted, (samples,)), axis)
                    g += smooth
            _store(out3[n0:n1, :, j0:j1], _reduce_block(run, g, start, stop), axis)
        return (*measured, partials)

    pieces = _run_blocks(run, task)
    if check:
        _check_measured(checked, pieces)
    return (None if values is None else values.result(pieces, checked.sample_shape)), out


# --------------------------------------------------------------------------- small input, one block
#
# A few thousand scores with class indices, no weights and no smoothing: the commonest
# call. It is one block of the pass above, so this path makes exactly the operations the
# block makes (the same layout, _Parts, gather and sums), without the pass around it
# (spans, threads, per-block bookkeeping), which costs as much as the arithmetic here.


def cross_entropy_small(x: Array, indices: Array, reduction: str, *, gradient: bool) -> Array | None:
    """cross_entropy (or its gradient) of float64 (N, C) scores that make one block, with
    valid class indices (none ignored); None where the scores are more than one block or
    not all finite: the general path then takes the call (and raises the error it always does).

    The same bits as :func:`cross_entropy_numpy`: its one block computes this, then sums
    the losses as ``_reduction.total`` does (``_Values``) and divides by N.
    """
    samples, classes = x.shape
    if not (0 < samples * classes <= ELEMENTS and samples <= _rows_per_block(classes)):
        return None
    axis = 0 if classes <= TRANSPOSED_CLASSES else 1  # the layout the pass would choose
    a, z, d, e, back, _ = _scratch((classes, samples) if axis == 0 else (samples, classes))
    view = x.reshape(samples, classes, 1)
    result: Array | None = _one_block(view, _load(view, axis, a), axis, (z, d, e, back), indices, reduction, gradient)
    return result


def _one_block_quietly(
    view: Array, a: Array, axis: int, work: tuple[Array, Array, Array, Array],
    indices: Array, reduction: str, gradient: bool,
) -> Array | None:
    """The body of :func:`cross_entropy_small`: the task of ``cross_entropy_numpy`` for
    one block without weights, smoothing or ignored samples, and its reduction."""
    parts = _Parts.of(a, axis, *work)
    if not REAL.holds(parts.low, parts.high):
        return None
    samples = indices.shape[0]
    positions = _positions(indices, samples, a.shape[axis], axis)
    if not gradient:
        loss = parts.nll(positions)  # a new array: returned as it is for "none"
        if reduction == "none":
            return loss
        total = float(_reduction.total(np, loss))
        return np.float64(total / samples if reduction == "mean" else total)
    p, complement = parts.probabilities()
    target_p = p.take(positions)
    g = p
    g.put(positions, np.where(parts.is_first_maximum(positions), -complement, target_p - 1.0))
    if reduction == "mean":
        g /= float(samples)
    out = np.empty(view.shape)
    _store(out, g, axis)
    return out.reshape(view.shape[:2])


# Silent as each block of the pass is (exp underflows, x - max overflows to -inf). As a
# decorator, np.errstate costs half as much as the ``with`` statement.
_one_block = np.errstate(divide="ignore", over="ignore", invalid="ignore")(_one_block_quietly)


def nll_numpy(checked: RowArguments, *, value: bool) -> Array:
    """nll_loss, or its gradient, in one pass: a gather (or a scatter) per block."""
    run = _numpy_pass(checked)
    count, classes, inner = run.x3.shape
    values = _Values(run, count * inner, checked.x.dtype) if value else None
    out = None if value else np.empty(checked.x.shape, dtype=checked.x.dtype)
    out3 = None if out is None else out.reshape(count, classes, inner)

    def task(n0: int, n1: int, j0: int, j1: int, start: int, stop: int) -> tuple[Any, ...]:
        view = run.x3[n0:n1, :, j0:j1]
        measured = (float(np.min(view)), float(np.max(view)))
        y, ignored = _targets(run, start, stop)
        where = y.reshape(n1 - n0, 1, j1 - j0)
        target_weight = _target_weights(run, y, ignored)
        if values is not None:
            gathered = np.take_along_axis(view, where, axis=1).reshape(-1).astype(np.float64)
            loss = 0.0 - gathered
            if target_weight is not None:
                loss = target_weight * np.where(target_weight > 0, loss, 0.0) + 0.0
            return (*measured, values.add(loss, start, stop))
        assert out3 is not None
        target: Array = np.broadcast_to(0.0 - (1.0 if target_weight is None else target_weight), (stop - start,))
        other = np.zeros(stop - start)  # 0 - 0 * w: every other class, and the ignored samples
        if run.sample_weight is not None:
            s = run.sample_weight[start:stop]
            target = s * np.where(s == 0, 0.0, target)
            other = s * other
        if run.reduction == "mean":
            target = target / run.denominator
            other = other / run.denominator
        block = out3[n0:n1, :, j0:j1]
        np.copyto(block, other.reshape(n1 - n0, 1, j1 - j0), casting="same_kind")
        np.put_along_axis(block, where, target.reshape(n1 - n0, 1, j1 - j0).astype(block.dtype), axis=1)
        return (*measured, [])

    pieces = _run_blocks(run, task)
    _check_measured(checked, pieces)
    if values is not None:
        return values.result(pieces, checked.sample_shape)
    return out
