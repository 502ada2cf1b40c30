"""Properties every loss must have, checked on many random batches (hypothesis).

The reductions are defined in one line each: ``"none"`` gives ``w * l`` element-wise,
``"sum"`` gives ``sum(w * l)`` and ``"mean"`` gives ``sum(w * l) / sum(w)``; the gradient
is the derivative of that reduced value. The tests below check those definitions and
their consequences (unit weights change nothing, order does not matter, scaling every
weight by the same number does not change a mean) for every loss, in float32 and
float64, on inputs drawn from each loss's domain:

* regression values within ±1e6 (``mse_loss``),
* probabilities in [0, 1], the end points included (``binary_cross_entropy``; a
  probability of exactly 0 for a positive label gives the exact loss ``inf``),
* logits within ±1e3 (``binary_cross_entropy_with_logits``, with and without ``pos_weight``),
* labels in [0, 1]: the hard labels 0 and 1 and soft labels between.

References are computed independently of the reduction under test: ``math.fsum`` (a
correctly rounded sum) and exact rational arithmetic (``fractions.Fraction``), in
float64. A float32 batch is computed internally in float64 and rounded once, so its
references are computed on the same batch converted to float64 (exactly) and its
results must be within 1 ulp of float32 of them. (A reference built from float32
intermediates would itself be off, by far more than 1 ulp, wherever those intermediates
are subnormal or overflow.)

Tolerances are counted in units in the last place (ulp) of the result's dtype. A float64
sum is rounded more than once on the way (the library sums blocks pairwise, as NumPy
does, and combines the partials exactly), so float64 sums are allowed a few ulp; results
that involve no summation must agree to the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    mse_loss,
    mse_loss_grad,
)

PROPERTY = settings()  # the profile chosen in conftest.py: deadline, examples, derandomization

# Error model: u = 2**-53; each rounding of +, *, / is within u relative, and k u relative
# is within k ulp. No libm function enters these tests: the references are this library's
# own per-element values, summed exactly (math.fsum, Fraction), so only the reduction's
# roundings count. Losses and weights are >= 0: a sum of them amplifies no relative error.
SUM_DEPTH = 11
"""Roundings a term passes through in NumPy's pairwise sum (``np.add.reduce``) of n <= 24.

Eight lanes, then a tree of 3 additions, then the n % 8 left over one by one: at n = 23,
1 + 3 + 7 (see ``numpy/_core/src/umath/loops_utils.h.src``). A sum of terms of one sign
is then within ``SUM_DEPTH u`` of its exact value.
"""

SUM_ULPS = SUM_DEPTH + 0.5
"""A float64 sum against ``math.fsum``: ``SUM_DEPTH u``, plus the reference's own rounding."""

MEAN_ULPS = 1 + SUM_DEPTH + SUM_DEPTH + 1
"""A weighted mean, ``sum(w l) / sum(w)``: the products (u), the two sums, the division."""


def ulps(dtype: type, float64: float) -> float:
    """The tolerance for ``dtype``: ``float64`` ulp in float64, 1 ulp in float32.

    float32 results are the float64 result rounded once: within 1 ulp of float32 of a
    float64 reference (rounding is monotone, and the two float64 values differ by a few
    ulp of float64, 2**-29 times smaller: their float32 roundings are equal or adjacent).
    """
    return float64 if dtype is np.float64 else 1


# --------------------------------------------------------------------------- the registry


def probabilities(width: int) -> st.SearchStrategy[float]:
    """Probabilities in [0, 1], with the end points 0 and 1 drawn often."""
    return st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0, width=width))


def labels(width: int) -> st.SearchStrategy[float]:
    """Labels: hard 0 and 1 (most often, as in practice) and soft labels between."""
    return st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0, width=width))


def regression_values(width: int) -> st.SearchStrategy[float]:
    return st.floats(-1e6, 1e6, width=width)


def logits(width: int) -> st.SearchStrategy[float]:
    return st.floats(-1e3, 1e3, width=width)


def no_options(width: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.just({})


def a_pos_weight(width: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"pos_weight": st.floats(0.0, 10.0)})


@dataclass(frozen=True)
class Loss:
    """A loss, its gradient, and strategies for its inputs, targets and extra keywords."""

    id: str
    value: Callable[..., Any]
    grad: Callable[..., Any]
    inputs: Callable[[int], st.SearchStrategy[float]]
    targets: Callable[[int], st.SearchStrategy[float]]
    options: Callable[[int], st.SearchStrategy[dict[str, Any]]] = field(default=no_options)


LOSSES = [
    Loss("mse_loss", mse_loss, mse_loss_grad, regression_values, regression_values),
    Loss("binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_grad, probabilities, labels),
    Loss(
        "binary_cross_entropy_with_logits",
        binary_cross_entropy_with_logits,
        binary_cross_entropy_with_logits_grad,
        logits,
        labels,
    ),
    Loss(
        "binary_cross_entropy_with_logits[pos_weight]",
        binary_cross_entropy_with_logits,
        binary_cross_entropy_with_logits_grad,
        logits,
        labels,
        a_pos_weight,
    ),
]
each_loss = pytest.mark.parametrize("loss", LOSSES, ids=[loss.id for loss in LOSSES])


@dataclass(frozen=True)
class Batch:
    """Input, target, sample weights (at least one positive) and extra keywords, one dtype."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    options: dict[str, Any]

    @property
    def dtype(self) -> type:
        return self.x.dtype.type

    def in_float64(self) -> Batch:
        """The same batch in float64 (every float32 is exactly a float64): for the references."""
        return Batch(
            self.x.astype(np.float64), self.y.astype(np.float64), self.w.astype(np.float64), self.options
        )

    def value(self, loss: Loss, reduction: str, **weights: Any) -> Any:
        return loss.value(self.x, self.y, reduction=reduction, **self.options, **weights)

    def grad(self, loss: Loss, reduction: str, **weights: Any) -> Any:
        return loss.grad(self.x, self.y, reduction=reduction, **self.options, **weights)


def weights(width: int) -> st.SearchStrategy[float]:
    """Non-negative finite weights: zeros (which drop an element), small integers, any float."""
    return st.one_of(st.just(0.0), st.integers(1, 5).map(float), st.floats(0.0, 100.0, width=width))


@st.composite
def batches(
    draw: st.DrawFn, loss: Loss, weight_values: Callable[[int], st.SearchStrategy[float]] = weights
) -> Batch:
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    width = 32 if dtype is np.float32 else 64
    n = draw(st.integers(1, 24))

    def array(elements: st.SearchStrategy[float]) -> np.ndarray:
        return np.array(draw(st.lists(elements, min_size=n, max_size=n)), dtype=dtype)

    x, y, w = array(loss.inputs(width)), array(loss.targets(width)), array(weight_values(width))
    if loss.inputs is probabilities and np.isin(x, (0.0, 1.0)).all() and ((y > 0.0) & (y < 1.0)).all():
        # only 0s and 1s against only soft labels look swapped: refused (test_argument_swap.py);
        # hard labels throughout, so that no subset a test takes looks swapped either
        y = (1.0 - x).astype(dtype)
    if not w.any():
        w[0] = 1.0  # a mean needs a positive total weight
    return Batch(x, y, w, draw(loss.options(width)))


def integer_weights(width: int) -> st.SearchStrategy[float]:
    return st.integers(0, 7).map(float)


# --------------------------------------------------------------------------- comparison in ulp


def assert_within_ulps(actual: Any, expected: Any, ulps: float, dtype: type) -> None:
    """``actual`` is within ``ulps`` units in the last place (of ``dtype``) of ``expected``.

    ``expected`` (float64, or exact) is first rounded to ``dtype``: a reference beyond
    float32's range becomes inf, as a float32 result must. Infinities must match exactly;
    an ulp is taken at the magnitude of ``expected`` (for a subnormal, the smallest step).
    """
    a = np.asarray(actual, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = np.asarray(expected, dtype=np.float64).astype(dtype).astype(np.float64)
    assert a.shape == e.shape
    finite = np.isfinite(e)
    assert np.array_equal(a[~finite], e[~finite]), f"{a[~finite]} != {e[~finite]}"
    ulp = np.spacing(np.abs(e[finite]).astype(dtype)).astype(np.float64)
    error = np.abs(a[finite] - e[finite]) / ulp
    worst = float(error.max()) if error.size else 0.0
    assert worst <= ulps, f"off by {worst:.3g} ulp (allowed {ulps}): {a} vs {e}"


def weighted(w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``w * values`` in float64, with 0 where ``w`` is 0 (a zero weight drops even an infinite loss)."""
    w64, v64 = w.astype(np.float64), np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(w64 == 0, 0.0, w64 * v64)


def exact_weighted_mean(w: np.ndarray, values: np.ndarray) -> float:
    """``sum(w * l) / sum(w)`` in exact rational arithmetic, rounded once to float64."""
    terms = [(float(wi), float(li)) for wi, li in zip(w, values, strict=True) if wi != 0]
    if any(math.isinf(li) for _, li in terms):
        return math.inf  # the losses are non-negative: an infinite term makes the mean infinite
    numerator = sum((Fraction(wi) * Fraction(li) for wi, li in terms), Fraction(0))
    return float(numerator / sum((Fraction(float(wi)) for wi in w), Fraction(0)))


def exact_shares(w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``w_i * v_i / sum(w)`` for each i, in exact rational arithmetic, each rounded once to float64."""
    total = sum((Fraction(float(wi)) for wi in w), Fraction(0))
    shares = [
        0.0 if wi == 0 else vi if math.isinf(vi) else float(Fraction(float(wi)) * Fraction(vi) / total)
        for wi, vi in zip(w, values.tolist(), strict=True)
    ]
    return np.array(shares)


# --------------------------------------------------------------------------- reductions of the loss


@each_loss
@PROPERTY
@given(data=st.data())
def test_sum_is_the_fsum_of_none(loss: Loss, data: st.DataObject) -> None:
    """``"sum"`` is the sum of the per-element values ``"none"`` returns, with and without weights."""
    batch = data.draw(batches(loss))
    reference = batch.in_float64()
    for weights_given in ({}, {"sample_weight": batch.w}):
        total = batch.value(loss, "sum", **weights_given)
        assert total.shape == () and total.dtype == batch.dtype
        per_element = reference.value(loss, "none", **weights_given)
        assert_within_ulps(total, math.fsum(per_element.tolist()), ulps(batch.dtype, SUM_ULPS), batch.dtype)


@each_loss
@PROPERTY
@given(data=st.data())
def test_mean_is_sum_over_n(loss: Loss, data: st.DataObject) -> None:
    """``"mean"`` is ``"sum"`` divided by the number of elements (to the ulp: one division)."""
    batch = data.draw(batches(loss))
    mean = batch.value(loss, "mean")
    assert mean.shape == () and mean.dtype == batch.dtype
    total = float(batch.in_float64().value(loss, "sum"))
    assert_within_ulps(mean, total / batch.x.size, 1, batch.dtype)


@each_loss
@PROPERTY
@given(data=st.data())
def test_unit_weights_change_nothing(loss: Loss, data: st.DataObject) -> None:
    """``sample_weight`` of all ones gives bit-for-bit the unweighted loss and gradient, every reduction."""
    batch = data.draw(batches(loss))
    ones = np.ones_like(batch.x)
    for reduction in ("none", "sum", "mean"):
        for func in (batch.value, batch.grad):
            plain = func(loss, reduction)
            unit = func(loss, reduction, sample_weight=ones)
            assert unit.dtype == plain.dtype and unit.shape == plain.shape
            assert np.array_equal(unit, plain), f"{reduction}: {unit} != {plain}"


@each_loss
@PROPERTY
@given(data=st.data())
def test_weighted_mean_is_sum_wl_over_sum_w(loss: Loss, data: st.DataObject) -> None:
    """With ``sample_weight=w``: ``"none"`` is ``w * l`` and ``"mean"`` is ``sum(w * l) / sum(w)``.

    ``l`` is the unweighted ``"none"`` output (in float64); the reference mean is exact
    (rational arithmetic) and rounded once.
    """
    batch = data.draw(batches(loss))
    per_element = batch.in_float64().value(loss, "none")
    per_element_weighted = batch.value(loss, "none", sample_weight=batch.w)
    # one product, rounded once: exact in float64
    assert_within_ulps(
        per_element_weighted, weighted(batch.w, per_element), ulps(batch.dtype, 0), batch.dtype
    )

    mean = batch.value(loss, "mean", sample_weight=batch.w)
    expected = exact_weighted_mean(batch.w, per_element)
    # MEAN_ULPS u against the exact mean, plus the reference's rounding
    assert_within_ulps(mean, expected, ulps(batch.dtype, MEAN_ULPS + 0.5), batch.dtype)


@each_loss
@PROPERTY
@given(data=st.data())
def test_order_does_not_matter(loss: Loss, data: st.DataObject) -> None:
    """Shuffling the elements (input, target and weight together) leaves sum and mean unchanged.

    Up to the rounding of the summation: in float64 each order is within ``MEAN_ULPS u``
    of the exact value (a sum within ``SUM_DEPTH u``), so two orders agree within twice that.
    """
    batch = data.draw(batches(loss))
    order = np.array(data.draw(st.permutations(range(batch.x.size))), dtype=np.intp)
    shuffled = Batch(batch.x[order], batch.y[order], batch.w[order], batch.options)
    for reduction in ("sum", "mean"):
        for weights_given, shuffled_weights in (
            ({}, {}),
            ({"sample_weight": batch.w}, {"sample_weight": shuffled.w}),
        ):
            assert_within_ulps(
                shuffled.value(loss, reduction, **shuffled_weights),
                batch.value(loss, reduction, **weights_given),
                ulps(batch.dtype, 2 * MEAN_ULPS + 0.5),
                batch.dtype,
            )


@each_loss
@PROPERTY
@given(data=st.data())
def test_scaling_every_weight_keeps_the_mean(loss: Loss, data: st.DataObject) -> None:
    """Weights ``w`` and ``3 * w`` (integers, so ``3 * w`` is exact) give the same weighted mean.

    Multiplying by a power of two is exact in binary floating point, so ``2 * w`` and
    ``4 * w`` must give the very same bits.
    """
    batch = data.draw(batches(loss, integer_weights))
    mean = batch.value(loss, "mean", sample_weight=batch.w)
    for factor in (2.0, 4.0):
        assert np.array_equal(batch.value(loss, "mean", sample_weight=factor * batch.w), mean)
    tripled = batch.value(loss, "mean", sample_weight=3.0 * batch.w)
    # sum(w) and sum(3 w) are exact (small integers); each mean: products u, sum, division u
    assert_within_ulps(tripled, mean, ulps(batch.dtype, 2 * (SUM_DEPTH + 2) + 0.5), batch.dtype)


# --------------------------------------------------------------------------- reductions of the gradient


@each_loss
@PROPERTY
@given(data=st.data())
def test_gradient_of_sum_is_none_gradient_times_weights(loss: Loss, data: st.DataObject) -> None:
    """d/dx_i of ``sum_j w_j l_j`` is ``w_i l_i'``: the ``"sum"`` gradient is the weighted ``"none"`` one.

    The gradients of ``"sum"`` and ``"none"`` are the same array exactly; against ``w *``
    the unweighted derivative (float64) it is one product, rounded once: exact in float64.
    """
    batch = data.draw(batches(loss))
    assert np.array_equal(batch.grad(loss, "sum"), batch.grad(loss, "none"))

    gradient = batch.grad(loss, "sum", sample_weight=batch.w)
    assert gradient.shape == batch.x.shape and gradient.dtype == batch.dtype
    assert np.array_equal(gradient, batch.grad(loss, "none", sample_weight=batch.w))
    derivative = batch.in_float64().grad(loss, "none")
    # Where the float64 derivative overflowed (d = -1/A for a subnormal A) but w * d is
    # finite, the gradient must have d's sign and at least the magnitude w * max.
    overflowed = np.isinf(derivative) & (batch.w > 0)
    assert np.all(np.sign(gradient[overflowed]) == np.sign(derivative[overflowed]))
    with np.errstate(over="ignore"):  # the floor itself may exceed the float64 range
        floor = batch.w[overflowed].astype(np.float64) * np.finfo(np.float64).max
    assert np.all(np.abs(gradient[overflowed].astype(np.float64)) >= np.minimum(floor, np.finfo(batch.dtype).max))
    kept = ~overflowed
    assert_within_ulps(
        gradient[kept], weighted(batch.w[kept], derivative[kept]), ulps(batch.dtype, 0), batch.dtype
    )


@each_loss
@PROPERTY
@given(data=st.data())
def test_gradient_of_mean_is_sum_gradient_over_n(loss: Loss, data: st.DataObject) -> None:
    """The ``"mean"`` gradient is the ``"sum"`` gradient over n (over ``sum(w)`` with weights)."""
    batch = data.draw(batches(loss))
    reference = batch.in_float64()
    gradient = batch.grad(loss, "mean")
    assert gradient.shape == batch.x.shape and gradient.dtype == batch.dtype
    summed = reference.grad(loss, "sum")
    # Where the "sum" gradient overflowed (d = -1/A for a subnormal A), d / n may still be
    # finite: it must then have the same sign and at least the magnitude max / n.
    overflowed = np.isinf(summed)
    bound = np.finfo(batch.dtype).max / batch.x.size
    assert np.all(np.sign(gradient[overflowed]) == np.sign(summed[overflowed]))
    assert np.all(np.abs(gradient[overflowed].astype(np.float64)) >= bound)
    assert_within_ulps(gradient[~overflowed], summed[~overflowed] / batch.x.size, 1, batch.dtype)

    # w_i * d_i / sum(w) from the unweighted derivative d, exactly: w_i * d_i alone may
    # overflow where the quotient does not (d = -1/A for a subnormal A).
    weighted_gradient = batch.grad(loss, "mean", sample_weight=batch.w)
    derivative = reference.grad(loss, "none")
    # As above: where d overflowed in float64, w_i d_i / sum(w) may be finite; it must then
    # have d's sign and at least the magnitude (w_i / sum(w)) * max.
    overflowed = np.isinf(derivative) & (batch.w > 0)
    share = batch.w[overflowed].astype(np.float64) / math.fsum(batch.w.astype(np.float64).tolist())
    assert np.all(np.sign(weighted_gradient[overflowed]) == np.sign(derivative[overflowed]))
    with np.errstate(over="ignore"):  # the floor itself may exceed the range of the dtype
        floor = np.minimum(share * np.finfo(np.float64).max, np.finfo(batch.dtype).max)
    assert np.all(np.abs(weighted_gradient[overflowed].astype(np.float64)) >= floor * (1 - 1e-6))
    expected = exact_shares(batch.w, derivative)
    kept = ~overflowed
    # w d (u) over sum(w) (SUM_DEPTH u), divided (u), against the reference rounded once
    assert_within_ulps(
        weighted_gradient[kept], expected[kept], ulps(batch.dtype, SUM_DEPTH + 2.5), batch.dtype
    )
