"""scikit-learn's invariants for every loss of the registry (issue 15, item 4).

For each entry of ``tests/loss_catalog.py`` that has the property, values and gradients:

1. sample order: permuting the samples permutes ``reduction="none"`` and the gradients,
   and leaves ``sum`` and ``mean`` equal (bitwise where whole blocks of the reduction's
   sum move, within a derived bound for any permutation);
2. weight scaling: weights times a power of two leave ``mean`` unchanged and scale
   ``sum`` exactly (bitwise);
3. a zero weight removes its sample (bitwise where whole blocks are removed, within a
   derived bound for scattered ones);
4. unit weights equal no weights (bitwise), at a size whose sum has several partials;
5. non-unit weights change the result, and weigh each sample as its repetition would;
6. blocked equals small: every loss with a blocked path beyond the element-wise ones of
   ``test_blocked_catalog.py`` gives, from one call of more than ``2**17`` elements, the
   bits of calls on slices, on 1 and 2 threads; and the element-wise ones do so on 2
   threads at a size that really starts the thread pool (``_blocks.THREADED_SIZE``,
   which ``test_blocked_catalog.py``'s 135,393 elements stay below).

Expected values are the same functions on transformed input. Where the result is
exact by construction the check is equality, reasoned from ``_reduction.py``:

* ``total`` sums each block of ``PARTIAL_LENGTH = 2048`` terms with NumPy's pairwise sum and adds
  the partials with ``math.fsum``, exactly, rounding once. So a sum does not change when
  whole blocks are permuted, or when a block of zeros (zero weights) is taken out; but
  any other reordering changes the pairwise partials, by at most
  ``gamma(R) sum |l|`` each (``R`` = :func:`error_model.additions`).
* Multiplying by a power of two commutes with every rounding (away from overflow and
  subnormals, which these inputs do not reach), and the weights of a mean and of a sum
  are normalised by a power of two before use (``weight_exponent``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from error_model import U, additions
from loss_catalog import ENTRIES, Entry
from neural_network import _blocks
from neural_network._reduction import PARTIAL_LENGTH
from test_blocked_catalog import ELEMENTWISE, HARD_LABELS

Arrays = tuple[np.ndarray, ...]


def _name(entry: Entry) -> str:
    return "-".join([entry.name, *(f"{key}={value}" for key, value in entry.options.items())])


SETS = {
    "ntxent_loss": "each anchor's term depends on every other sample (its positives and negatives): "
    "a zero weight removes the anchor's term, not the sample, and a permutation reorders each anchor's "
    "inner sums over the others (measured: 2.6e-16 relative), for which no bound is derived here",
    "circle_loss": "each anchor's term depends on every other sample (its positives and negatives): "
    "a zero weight removes the anchor's term, not the sample, and a permutation reorders each anchor's "
    "inner sums over the others (measured: 1.5e-16 relative), for which no bound is derived here",
}
"""Losses over sets of samples: the per-sample invariants do not apply."""

ONE_VALUE = {
    "tversky_loss": "axis=None: one index over the whole batch, its weight a scalar; no sample has a "
    "result or a weight of its own",
}
"""Losses with one value per call: the per-sample invariants do not apply."""

ROOTS = {"root_mean_squared_error", "root_mean_squared_log_error"}
"""The root of the weighted mean or sum: weights scale the sum's square."""


def _per_sample(entries: list[Entry]) -> list[Any]:
    """Every entry as a parameter, those of :data:`SETS` and :data:`ONE_VALUE` skipped with their reason."""
    reasons = {**SETS, **ONE_VALUE}
    return [
        pytest.param(e, id=_name(e), marks=[pytest.mark.skip(reason=reasons[e.name])] if e.name in reasons else [])
        for e in entries
    ]


ALL = [pytest.param(e, id=_name(e)) for e in ENTRIES]
PER_SAMPLE = _per_sample(ENTRIES)


# --------------------------------------------------------------------------- helpers


def call(entry: Entry, arrays: Arrays, **kwargs: Any) -> np.ndarray:
    return np.asarray(entry.value(*arrays, **entry.options, **kwargs))


def grads(entry: Entry, arrays: Arrays, **kwargs: Any) -> tuple[np.ndarray, ...]:
    result = entry.grad(*arrays, **entry.options, **kwargs)
    return tuple(np.asarray(g) for g in (result if isinstance(result, tuple) else (result,)))


def sample_axis(entry: Entry, position: int) -> int:
    """The axis of argument ``position`` that holds the samples: CTC's log-probabilities
    are (frames, samples, classes), as PyTorch's; every other argument has them first."""
    return 1 if entry.name == "ctc_loss" and position == 0 else 0


def count(entry: Entry, arrays: Arrays) -> int:
    return int(arrays[0].shape[sample_axis(entry, 0)])


def take(entry: Entry, arrays: Arrays, index: np.ndarray) -> Arrays:
    """The samples ``index`` (in that order) of every argument."""
    return tuple(np.take(a, index, axis=sample_axis(entry, i)) for i, a in enumerate(arrays))


def take_grads(entry: Entry, gradients: tuple[np.ndarray, ...], index: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.take(g, index, axis=sample_axis(entry, p))
                 for g, p in zip(gradients, entry.differentiable_in, strict=True))


def draw(entry: Entry, samples: int, seed: int) -> Arrays:
    """The entry's arguments for exactly ``samples`` samples (its draws take about n elements)."""
    for factor in (1, 4, 8, 20):
        arrays = tuple(np.ascontiguousarray(a) for a in entry.draw(np.random.default_rng(seed), factor * samples))
        if count(entry, arrays) == samples:
            return arrays
    raise AssertionError(f"no draw of {entry.name} has {samples} samples")


def weight_shape(entry: Entry, arrays: Arrays) -> tuple[int, ...]:
    if "none" in entry.reductions:
        return np.shape(call(entry, arrays, reduction="none"))
    return arrays[0].shape


def terms_per_sample(entry: Entry) -> int:
    """How many terms of the reduction's sum one sample gives (a row of per-element losses: 4)."""
    arrays = draw(entry, 8, 0)
    return int(np.prod(weight_shape(entry, arrays))) // 8


def expand(entry: Entry, arrays: Arrays, per_sample: np.ndarray) -> np.ndarray:
    """Sample weights: one per sample, repeated over the sample's terms (gaussian_nll_loss and
    kl_div weigh each element of a row)."""
    shape = weight_shape(entry, arrays)
    return np.ascontiguousarray(np.broadcast_to(per_sample.reshape(-1, *([1] * (len(shape) - 1))), shape))


def gamma(k: int) -> float:
    """Higham's gamma_k = k u / (1 - k u): the relative error of k roundings, to all orders."""
    return k * U / (1 - k * U)


@functools.cache
def roundings(*sizes: int) -> int:
    """The most roundings a term meets in the library's sum of any of ``sizes`` terms: in one
    partial of at most ``PARTIAL_LENGTH`` terms (NumPy's pairwise sum; ``additions`` is not monotone
    in the count, so the largest over every partial size)."""
    return max(additions(m) for m in range(1, min(max(sizes), PARTIAL_LENGTH) + 1))


def sum_gap(terms: int, magnitude: float) -> float:
    """How far the library's sum of ``terms`` terms whose magnitudes add to ``magnitude``
    may be from the exact sum: each partial within ``gamma(R)`` times its own magnitudes
    (Higham's bound for a summation tree of depth ``R``); the partials added exactly and
    rounded once (half an ulp, at most ``U magnitude``) where there are several."""
    return gamma(roundings(terms)) * magnitude + (U * magnitude if terms > PARTIAL_LENGTH else 0.0)


def mean_denominator(entry: Entry, arrays: Arrays) -> float:
    return float(entry.mean_is_sum_over(arrays)) if entry.mean_is_sum_over else float(arrays[0].size)


def assert_bits(got: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...], what: object) -> None:
    assert len(got) == len(expected), what
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e, err_msg=str(what), strict=True)


def with_threads(count_: int, function: Callable[[], Any]) -> Any:
    _blocks.set_num_threads(count_)
    try:
        return function()
    finally:
        _blocks.set_num_threads(None)


# --------------------------------------------------------------------------- 1. sample order

SAMPLES = 500
"""Samples for the bounded checks: every loss's terms fit one partial (at most 2,000)."""


@pytest.mark.parametrize("entry", PER_SAMPLE)
def test_permuting_samples_permutes_each_result_and_keeps_sum_and_mean(entry: Entry):
    arrays = draw(entry, SAMPLES, 11)
    order = np.random.default_rng(12).permutation(SAMPLES)
    moved = take(entry, arrays, order)
    for reduction in entry.reductions:
        # Each sample's value and derivative is computed from that sample alone (the mean's
        # denominator is a count): the same bits, moved.
        assert_bits(grads(entry, moved, reduction=reduction),
                    take_grads(entry, grads(entry, arrays, reduction=reduction), order), reduction)
    if "none" in entry.reductions:
        terms = call(entry, arrays, reduction="none")
        assert_bits((call(entry, moved, reduction="none"),), (np.take(terms, order, axis=0),), "none")
        magnitude = float(np.sum(np.abs(terms), dtype=np.float64))
    for reduction in set(entry.reductions) - {"none"}:
        before, after = float(call(entry, arrays, reduction=reduction)), float(call(entry, moved, reduction=reduction))
        if entry.name in ROOTS:
            # sqrt(S / D) or sqrt(S) of a sum of squares (terms >= 0): S within gamma(R) relative
            # in either order, D a count (exact); the division and the root round once each,
            # and the root halves the relative error of what it takes (sqrt(1 + x) <= 1 + x / 2):
            # each within (gamma(R) + U) / 2 + U of the exact root r, so the two within
            # (gamma(R) + 3 U) r <= (gamma(R) + U) (|a| + |b|), as gamma(R) >= U.
            bound = (gamma(roundings(SAMPLES)) + U) * (abs(before) + abs(after))
        else:
            # Each order's sum within sum_gap of the exact sum; a mean divides it by the same
            # exact count and rounds once (U |m| each).
            bound = 2 * sum_gap(terms.size, magnitude)
            if reduction == "mean":
                bound = bound / mean_denominator(entry, arrays) + U * (abs(before) + abs(after))
        assert abs(after - before) <= bound, (reduction, after, before, bound)


def _blocks_of_samples(entry: Entry) -> tuple[int, int]:
    """Samples per block of the reduction's sum, and samples in all: three whole blocks and
    a ragged tail of 40 samples (a fourth partial)."""
    per_block = PARTIAL_LENGTH // terms_per_sample(entry)
    return per_block, 3 * per_block + 40


@pytest.mark.parametrize("entry", PER_SAMPLE)
def test_permuting_whole_blocks_of_the_sum_changes_no_bit(entry: Entry):
    per_block, samples = _blocks_of_samples(entry)
    arrays = draw(entry, samples, 13)
    weights = np.random.default_rng(14).uniform(0.5, 3.0, samples)
    index = np.arange(samples)
    # Blocks 2, 0, 1, then the tail: the same four partials, added exactly in another order.
    order = np.concatenate([index[2 * per_block : 3 * per_block], index[:2 * per_block], index[3 * per_block :]])
    moved = take(entry, arrays, order)
    for w, w_moved in ((None, None), (expand(entry, arrays, weights), expand(entry, arrays, weights[order]))):
        for reduction in entry.reductions:
            before = call(entry, arrays, reduction=reduction, sample_weight=w)
            after = call(entry, moved, reduction=reduction, sample_weight=w_moved)
            expected = np.take(before, order, axis=0) if reduction == "none" else before
            assert_bits((after,), (expected,), (reduction, w is not None))
            # The mean's denominator, sum(w), is a sum of the same blocks: exact too.
            assert_bits(grads(entry, moved, reduction=reduction, sample_weight=w_moved),
                        take_grads(entry, grads(entry, arrays, reduction=reduction, sample_weight=w), order),
                        (reduction, w is not None))


# --------------------------------------------------------------------------- 2. weight scaling


@pytest.mark.parametrize("factor", [2.0**-10, 2.0**12])
@pytest.mark.parametrize("entry", ALL)
def test_weights_times_a_power_of_two_keep_the_mean_and_scale_the_sum_exactly(entry: Entry, factor: float):
    arrays = draw(entry, 60 if entry.name in SETS else SAMPLES, 21)
    shape = weight_shape(entry, arrays)
    weights = np.random.default_rng(22).uniform(0.5, 3.0, shape)
    # A root loss's sum is sqrt(sum w l): it scales by sqrt(factor), a power of two here.
    sum_factor = factor**0.5 if entry.name in ROOTS else factor
    for reduction in entry.reductions:
        plain = call(entry, arrays, reduction=reduction, sample_weight=weights)
        scaled = call(entry, arrays, reduction=reduction, sample_weight=weights * factor)
        gradients = grads(entry, arrays, reduction=reduction, sample_weight=weights)
        scaled_gradients = grads(entry, arrays, reduction=reduction, sample_weight=weights * factor)
        # Every product, sum and quotient of the scaled computation is that of the plain one
        # times a power of two (the weights are normalised by one before use in any case):
        # rounding commutes with it, so the bits are those of the plain result, scaled.
        by = {"mean": 1.0, "sum": sum_factor, "none": factor}[reduction]
        assert_bits((scaled,), (plain * by,), reduction)
        assert_bits(scaled_gradients, tuple(g * by for g in gradients), reduction)


# --------------------------------------------------------------------------- 3. zero weights


@pytest.mark.parametrize("entry", PER_SAMPLE)
def test_zero_weights_on_a_whole_block_remove_those_samples_bitwise(entry: Entry):
    per_block, samples = _blocks_of_samples(entry)
    arrays = draw(entry, samples, 31)
    weights = np.random.default_rng(32).uniform(0.5, 3.0, samples)
    weights[per_block : 2 * per_block] = 0.0
    kept = np.concatenate([np.arange(per_block), np.arange(2 * per_block, samples)])
    rest, rest_weights = take(entry, arrays, kept), expand(entry, arrays, weights)[kept]
    w = expand(entry, arrays, weights)
    for reduction in entry.reductions:
        # A zero weight makes its terms exactly 0: the middle partial is 0 and fsum adds the
        # others exactly, as it does without them; sum(w) likewise.
        got = call(entry, arrays, reduction=reduction, sample_weight=w)
        expected = call(entry, rest, reduction=reduction, sample_weight=rest_weights)
        if reduction == "none":
            assert not got[per_block : 2 * per_block].any()
            got = got[kept]
        assert_bits((got,), (expected,), reduction)
        if entry.name in ROOTS:
            continue  # the root's derivative divides by the root of the whole: checked below
        gradients = grads(entry, arrays, reduction=reduction, sample_weight=w)
        for g in take_grads(entry, gradients, np.arange(per_block, 2 * per_block)):
            assert not g.any(), reduction
        assert_bits(take_grads(entry, gradients, kept),
                    grads(entry, rest, reduction=reduction, sample_weight=rest_weights), reduction)
    if entry.name in ROOTS:
        # d sqrt(S/D) = w d_i / (2 D sqrt(S/D)): the same S and D, so the same bits.
        for reduction in entry.reductions:
            gradients = grads(entry, arrays, reduction=reduction, sample_weight=w)
            assert not take_grads(entry, gradients, np.arange(per_block, 2 * per_block))[0].any()
            assert_bits(take_grads(entry, gradients, kept),
                        grads(entry, rest, reduction=reduction, sample_weight=rest_weights), reduction)


@pytest.mark.parametrize("entry", PER_SAMPLE)
def test_scattered_zero_weights_remove_their_samples(entry: Entry):
    arrays = draw(entry, SAMPLES, 33)
    rng = np.random.default_rng(34)
    weights = rng.uniform(0.5, 3.0, SAMPLES)
    removed = rng.random(SAMPLES) < 0.1
    weights[removed] = 0.0
    kept = np.flatnonzero(~removed)
    w = expand(entry, arrays, weights)
    rest, rest_weights = take(entry, arrays, kept), w[kept]
    per_term = terms_per_sample(entry)
    for reduction in set(entry.reductions) - {"none"}:
        got = float(call(entry, arrays, reduction=reduction, sample_weight=w))
        expected = float(call(entry, rest, reduction=reduction, sample_weight=rest_weights))
        # The zeros shift the other terms into other places of NumPy's pairwise sums: each
        # side is within its sum_gap of the same exact sum. sum(w) (terms > 0) likewise, within
        # gamma(R) relative; a mean's quotient rounds once more on each side.
        r = gamma(roundings(SAMPLES, kept.size))
        if entry.name in ROOTS:
            # As in the permutation test: each side within (r + U) / 2 + U of the exact root,
            # and a mean's sum(w) within r relative too: (2 r + U) / 2 + U. The two sides:
            # (2 r + 3 U) |root| <= (2 r + U) (|a| + |b|), as r >= U.
            bound = ((2 * r if reduction == "mean" else r) + U) * (abs(got) + abs(expected))
        else:
            terms = call(entry, arrays, reduction="none", sample_weight=w)
            magnitude = float(np.sum(np.abs(terms), dtype=np.float64))
            bound = sum_gap(terms.size, magnitude) + sum_gap(kept.size * per_term, magnitude)
            if reduction == "mean":
                denominator = float(np.sum(rest_weights) * mean_denominator(entry, rest) / rest_weights.size)
                # Each quotient (S + e) / (D (1 + d)), |d| <= gamma(R): |e| / D + |m| (gamma(R) + U)
                # to first order; 2 gamma(R) + U covers the second-order terms at R u < 2**-40.
                relative = 2 * r + U
                bound = bound / denominator + relative * (abs(got) + abs(expected))
        assert abs(got - expected) <= bound, (reduction, got, expected, bound)


# --------------------------------------------------------------------------- 4. unit weights


@pytest.mark.parametrize("entry", ALL)
def test_unit_weights_equal_no_weights_across_several_partials(entry: Entry):
    """tests/test_loss_catalog.py checks 200 elements, one partial; here the sum has four."""
    # tversky_loss: rows of 8 elements, 808 rows (6,464 elements); the sets: quadratic, 60.
    samples = 60 if entry.name in SETS else 808 if entry.name in ONE_VALUE else _blocks_of_samples(entry)[1]
    arrays = draw(entry, samples, 41)
    ones = np.ones(weight_shape(entry, arrays))
    for reduction in entry.reductions:
        # 1 * l is l, sum(ones) is the count, exactly: the same operations on the same bits.
        assert_bits((call(entry, arrays, reduction=reduction, sample_weight=ones),),
                    (call(entry, arrays, reduction=reduction),), reduction)
        assert_bits(grads(entry, arrays, reduction=reduction, sample_weight=ones),
                    grads(entry, arrays, reduction=reduction), reduction)


# --------------------------------------------------------------------------- 5. non-unit weights


@pytest.mark.parametrize("entry", ALL)
def test_non_unit_weights_change_the_result(entry: Entry):
    arrays = draw(entry, 60 if entry.name in SETS else SAMPLES, 51)
    shape = weight_shape(entry, arrays)
    weights = np.random.default_rng(52).uniform(0.5, 3.0, shape)
    # One value (a scalar weight): w l / w is l, so only the sum can change.
    for reduction in ("sum",) if entry.name in ONE_VALUE else entry.reductions:
        plain = call(entry, arrays, reduction=reduction)
        weighted = call(entry, arrays, reduction=reduction, sample_weight=weights)
        assert not np.array_equal(plain, weighted), reduction
        if reduction == "none":
            assert_bits((weighted,), (weights * plain,), reduction)  # w l, rounded once
        changed = [not np.array_equal(g, h) for g, h in zip(
            grads(entry, arrays, reduction=reduction), grads(entry, arrays, reduction=reduction, sample_weight=weights),
            strict=True)]
        assert all(changed), reduction


@pytest.mark.parametrize("entry", PER_SAMPLE)
def test_an_integer_weight_counts_its_sample_that_many_times(entry: Entry):
    arrays = draw(entry, SAMPLES, 53)
    # 1 or 2: doubling is exact, so 2 l, 2 d and a row's sum of 2 d_j are those of the copies
    # added up (x + x = 2 x; 3 x would round differently from (x + x) + x in a row's sum).
    repeats = np.random.default_rng(54).integers(1, 3, SAMPLES)
    w = expand(entry, arrays, repeats.astype(float))
    copies = np.repeat(np.arange(SAMPLES), repeats)
    repeated = take(entry, arrays, copies)
    for reduction in set(entry.reductions) - {"none"}:
        weighted = float(call(entry, arrays, reduction=reduction, sample_weight=w))
        plain = float(call(entry, repeated, reduction=reduction))
        n_weighted, n_repeated = int(np.prod(w.shape)), int(np.prod(weight_shape(entry, repeated)))
        if entry.name in ROOTS:
            # S_w = sum 2 l or l (terms >= 0) within gamma(R) of the exact, S_r within gamma(R');
            # the denominators (integer sums) are exact; each quotient and root rounds once and
            # the root halves the rest: (gamma(R) + gamma(R')) / 2 + 2 U relative, bounded here
            # by (gamma(R) + gamma(R') + 2 U) times |a| + |b| (with R = R', the larger).
            relative = 2 * gamma(roundings(n_weighted, n_repeated)) + 2 * U
            bound = relative * (abs(weighted) + abs(plain))
        else:
            terms = call(entry, repeated, reduction="none")
            magnitude = float(np.sum(np.abs(terms), dtype=np.float64))  # = sum w |l|
            # 2 l is exact; each sum within its sum_gap of the same exact sum.
            bound = sum_gap(n_weighted, magnitude) + sum_gap(n_repeated, magnitude)
            if reduction == "mean":  # the same exact denominator; each quotient rounds once
                bound = bound / mean_denominator(entry, repeated) + U * (abs(weighted) + abs(plain))
        assert abs(weighted - plain) <= bound, (reduction, weighted, plain, bound)
    if entry.name in ROOTS:
        return  # its derivative holds the root of the whole sum: compared in the sum above
    # The gradient of the sum: w d_i, against the copies' d_i added up: 2 d = d + d, exactly.
    for got, per_copy, position in zip(grads(entry, arrays, reduction="sum", sample_weight=w),
                                       grads(entry, repeated, reduction="sum"), entry.differentiable_in, strict=True):
        axis = sample_axis(entry, position)
        added = np.zeros_like(got)
        for k in range(2):
            nth = np.flatnonzero(repeats > k)
            first = np.searchsorted(copies, nth) + k  # the k-th copy of each sample with more than k
            index = [slice(None)] * got.ndim
            index[axis] = nth
            added[tuple(index)] += np.take(per_copy, first, axis=axis)
        np.testing.assert_array_equal(got, added, strict=True)


# --------------------------------------------------------------------------- 6. blocked equals small

ROWS = 2**17 + 1237
"""Samples of the row losses: 529,236 scores in four columns, past ``_blocks.THREADED_SIZE``
(8 blocks of 65,536), so that 2 threads really share the blocks."""

SLICE = 4099
"""Samples per small call: at most one block of scores (small path), cutting the blocks
at other places than the engine does."""

BLOCKED_ROWS = ["cross_entropy", "nll_loss", "categorical_focal_loss", "poly_loss_cross_entropy",
                "multilabel_margin_loss", "gaussian_nll_loss", "kl_div"]
"""Losses of (N, C) input with a blocked path (``_blocks.map_blocks``), beyond the element-wise ones."""

REDUCED_ONLY = ["root_mean_squared_error", "root_mean_squared_log_error"]
"""Blocked element-wise losses without ``reduction="none"``: a value for the whole only."""

NOT_BLOCKED_CHECKED = set(SETS)
"""Quadratic in the samples: never evaluated at a blocked size."""


def _entries(names: list[str]) -> list[Any]:
    return [pytest.param(e, id=_name(e)) for e in ENTRIES if e.name in names]


def test_every_loss_with_a_blocked_path_is_checked_here():
    """Every loss that calls ``_blocks.map_blocks`` for its arithmetic on more than 2**17
    elements is in test_blocked_catalog's ELEMENTWISE or in this file's lists."""
    seen: set[str] = set()
    original = _blocks.map_blocks

    def spy(task: Callable[[int, int], Any], size: int) -> Any:
        if "_smallest_magnitude" not in getattr(task, "__qualname__", ""):  # a check of labels, not arithmetic
            seen.add(current)
        return original(task, size)

    covered = {e.name for e in ELEMENTWISE} | set(BLOCKED_ROWS) | set(REDUCED_ONLY) | NOT_BLOCKED_CHECKED
    _blocks.map_blocks = spy
    try:
        for entry in ENTRIES:
            if entry.name in covered:
                continue
            current = entry.name
            arrays = entry.draw(np.random.default_rng(0), 2**17 + 4321)
            call(entry, arrays, reduction=entry.reductions[0])
            grads(entry, arrays, reduction="sum")
    finally:
        _blocks.map_blocks = original
    assert not seen, f"losses with a blocked path that no blocked-equals-small test checks: {sorted(seen)}"


def _sliced(function: Callable[..., Any], entry: Entry, arrays: Arrays, **kwargs: Any) -> tuple[np.ndarray, ...]:
    pieces = []
    for start in range(0, count(entry, arrays), SLICE):
        index = np.arange(start, min(start + SLICE, count(entry, arrays)))
        result = function(*take(entry, arrays, index), **entry.options, **kwargs)
        pieces.append(result if isinstance(result, tuple) else (result,))
    return tuple(np.concatenate([np.asarray(piece[i]) for piece in pieces]) for i in range(len(pieces[0])))


def _whole(entry: Entry, arrays: Arrays) -> tuple[np.ndarray, ...]:
    reduced = tuple(call(entry, arrays, reduction=r) for r in entry.reductions if r != "none")
    values = (call(entry, arrays, reduction="none"),) if "none" in entry.reductions else ()
    return values + grads(entry, arrays, reduction="sum") + reduced


@pytest.mark.parametrize("entry", _entries(BLOCKED_ROWS))
def test_row_losses_give_the_bits_of_small_calls_on_1_and_2_threads(entry: Entry):
    arrays = draw(entry, ROWS, 61)
    assert arrays[0].size > _blocks.THREADED_SIZE
    # Small calls: each row's value, and the gradient of the sum (each row's derivative).
    expected = _sliced(entry.value, entry, arrays, reduction="none") + _sliced(entry.grad, entry, arrays, reduction="sum")
    one = with_threads(1, lambda: _whole(entry, arrays))
    two = with_threads(2, lambda: _whole(entry, arrays))
    assert_bits(one[: len(expected)], expected, "1 thread against small calls")
    # The reduced values too: the same partials, combined exactly, whatever the threads.
    assert_bits(two, one, "2 threads against 1")


@pytest.mark.parametrize("entry", _entries(REDUCED_ONLY))
def test_reduced_only_losses_give_the_same_bits_on_1_and_2_threads(entry: Entry):
    """No per-element value to compare with small calls (the root is of the whole sum, and so
    is the gradient's denominator): the blocked call's bits do not depend on the threads."""
    arrays = draw(entry, 4 * ROWS, 62)
    assert arrays[0].size > _blocks.THREADED_SIZE
    assert_bits(with_threads(2, lambda: _whole(entry, arrays)), with_threads(1, lambda: _whole(entry, arrays)),
                "2 threads against 1")


@pytest.mark.parametrize(
    ("entry", "hard"),
    [pytest.param(e, False, id=_name(e)) for e in ELEMENTWISE]
    + [pytest.param(e, True, id=f"{_name(e)}-hard-labels") for e in ELEMENTWISE if e.name in HARD_LABELS],
)
def test_element_wise_losses_give_the_bits_of_small_calls_on_2_threads(entry: Entry, hard: bool):
    """test_blocked_catalog.py checks these at 135,393 elements, below THREADED_SIZE, where
    the engine runs every block on the calling thread whatever the count: here 2 threads run."""
    arrays = draw(entry, 4 * ROWS, 63)
    if hard:
        arrays = (arrays[0], np.round(arrays[1]))
    assert arrays[0].size > _blocks.THREADED_SIZE
    expected = _sliced(entry.value, entry, arrays, reduction="none") + _sliced(entry.grad, entry, arrays, reduction="sum")
    two = with_threads(2, lambda: _whole(entry, arrays))
    assert_bits(two[: len(expected)], expected, "2 threads against small calls")
    assert_bits(two[len(expected):], with_threads(1, lambda: _whole(entry, arrays))[len(expected):], "sum and mean")
