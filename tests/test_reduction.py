"""The shared reduction path: exact accumulation, overflow, weights, dtypes.

Every loss reduces through ``neural_network._reduction``; these tests pin the
properties that path promises, with expected values from mpmath or exact rationals.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from error_model import U
from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    mse_loss,
    mse_loss_grad,
)
from neural_network._reduction import PARTIAL_LENGTH

# Error model: u = 2**-53; a correctly rounded operation is within u relative, a libm
# function (log, exp, log1p, ...) within 2u (1 ulp), and k u relative is within k ulp.
# NumPy's pairwise sum (np.add.reduce) puts each term through at most 22 roundings in a
# block of 2048 (lanes of 8, a tree of 3, a tail of up to 7, 8 halvings) and 3 for n = 3.


def exact_mean_of_squares(pred: np.ndarray, target: np.ndarray) -> Fraction:
    """The exact mean of (p - y)^2 over float64 inputs, as a rational number."""
    total = sum((Fraction(float(p)) - Fraction(float(t))) ** 2 for p, t in zip(pred, target, strict=True))
    return total / len(pred)


def test_sum_across_many_blocks_is_correctly_rounded_for_cancelling_magnitudes() -> None:
    # Terms spanning 30 orders of magnitude, across many blocks: a naive float64
    # running sum drops the small terms; the exact combination of partials keeps them.
    rng = np.random.default_rng(1)
    n = 7 * PARTIAL_LENGTH + 123
    diff = np.where(rng.random(n) < 0.01, 1e15, 1.0) * rng.random(n)
    target = np.zeros(n)
    got = mse_loss(diff, target, reduction="sum")
    exact = sum(Fraction(float(d)) ** 2 for d in diff)
    # Each square is rounded once (u) before summing, so compare with the exact sum of
    # the rounded squares: each block's pairwise sum of terms >= 0 is within 22u, the
    # partials are added exactly (fsum) and rounded once: 22.5 ulp (a naive running sum
    # would allow n u, 14459 ulp). Against the exact squares: u more, 23u in all.
    exact_of_rounded = sum(Fraction(float(d) * float(d)) for d in diff)
    assert abs(Fraction(float(got)) - exact_of_rounded) <= Fraction(22.5) * Fraction(math.ulp(float(exact_of_rounded)))
    assert abs(Fraction(float(got)) - exact) / exact <= Fraction(23) * Fraction(U)


def test_mean_of_huge_finite_losses_does_not_overflow() -> None:
    # (1.3e154)^2 = 1.69e308 is finite, and so is the mean of two of them,
    # although their float64 sum is not.
    pred = np.array([1.3e154, 1.3e154])
    target = np.zeros(2)
    got = mse_loss(pred, target)
    exact = exact_mean_of_squares(pred, target)
    assert math.isfinite(float(got))
    # In the extended range (long double, 2**-64): square, sum, exact halving, then one
    # rounding to float64 (u): (1 + 2**-10) u, so 1.5 ulp.
    assert abs(Fraction(float(got)) - exact) <= Fraction(1.5) * Fraction(math.ulp(float(exact)))


def test_sum_of_huge_losses_overflows_to_inf_without_warning() -> None:
    # The exact sum 3.38e308 exceeds the float64 range: inf is the correctly rounded result.
    assert mse_loss(np.array([1.3e154, 1.3e154]), np.zeros(2), reduction="sum") == math.inf


def test_zero_weight_masks_an_infinite_loss() -> None:
    # A = 0 with y = 1 has an infinite loss; weight 0 removes it (0 * inf would be NaN).
    A = np.array([0.0, 0.5])
    y = np.array([1.0, 1.0])
    w = np.array([0.0, 2.0])
    expected = float(mpmath.log(2))  # only the second element counts: -log(0.5)
    # libm's log(0.5) (2u); then 2 l, 0 + 2 l and 2 l / 2 are exact: within 2 ulp
    assert abs(float(binary_cross_entropy(A, y, sample_weight=w)) - expected) <= 2 * math.ulp(expected)
    grad = binary_cross_entropy_grad(A, y, sample_weight=w)
    assert grad[0] == 0.0
    assert grad[1] == -2.0 * 2.0 / 2.0  # w * (-1/A) / sum(w)


def test_weighted_mean_is_sum_of_weighted_losses_over_sum_of_weights() -> None:
    pred = np.array([1.0, 2.0, 4.0])
    target = np.array([0.0, 0.0, 0.0])
    w = np.array([1.0, 0.5, 0.25])
    # (1*1 + 0.5*4 + 0.25*16) / 1.75 = 7 / 1.75 = 4, exactly.
    assert mse_loss(pred, target, sample_weight=w) == 4.0
    # d/dp_i = w_i * 2 p_i / sum(w)
    np.testing.assert_array_equal(mse_loss_grad(pred, target, sample_weight=w), [2 / 1.75, 2 / 1.75, 2 / 1.75])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float32_in_float32_out_and_the_target_dtype_does_not_matter(reduction: str) -> None:
    pred = np.array([0.1, 0.2, 0.7], dtype=np.float32)
    target64 = np.array([0.0, 1.0, 1.0])
    value = binary_cross_entropy(pred, target64, reduction=reduction)
    grad = binary_cross_entropy_grad(pred, target64, reduction=reduction)
    assert value.dtype == np.float32
    assert grad.dtype == np.float32
    # The result is the float64 computation rounded once to float32.
    exact = [-mpmath.log(mpmath.mpf(float(p))) if t == 1 else -mpmath.log1p(-mpmath.mpf(float(p)))
             for p, t in zip(pred, target64, strict=True)]
    # float64 errors: -log(p) 2u, -log1p(-p) from one log 3u (_numerics.log1p); the sum of
    # 3 (terms >= 0) 2u more, the mean u more: 6u at most. Rounded once to float32, that
    # gives the correctly rounded value wherever no float32 rounding boundary lies within
    # 6u of the exact value, which is checked here: the equalities below then follow.
    def rounded_within(e, k):
        return np.float32(float(e * (1 - k * U))) == np.float32(float(e * (1 + k * U)))

    if reduction == "none":
        assert all(rounded_within(e, 3) for e in exact)
        np.testing.assert_array_equal(value, np.array([float(e) for e in exact], dtype=np.float32))
    else:
        total = mpmath.fsum(exact) / (3 if reduction == "mean" else 1)
        assert rounded_within(total, 6)
        assert value == np.float32(float(total))


def test_integers_lists_and_scalars_become_float64() -> None:
    assert mse_loss([1, 2, 3], [1, 2, 5]).dtype == np.float64
    assert mse_loss(np.array([1, 2], dtype=np.int32), np.array([0, 0])).dtype == np.float64
    assert mse_loss(3, 2.5) == 0.25
    assert mse_loss_grad(np.array([True, False]), [0.0, 0.0]).dtype == np.float64


def test_scalar_results_are_numpy_scalars_that_print_plainly() -> None:
    value = binary_cross_entropy_with_logits(np.zeros(4), np.ones(4))
    assert isinstance(value, np.float64)
    assert str(value) == str(float(value))
    # log1p(exp(0)): exp 2u (x 0.72 through log1p), log 2u, the correction's addition u;
    # the sum of 4 adds 2 roundings (3 l, 4 l), / 4 is exact: 6.5u, so 6.5 ulp.
    expected = float(mpmath.log(2))
    assert abs(float(value) - expected) <= 6.5 * math.ulp(expected)


def test_none_reduction_of_0d_input_keeps_its_shape() -> None:
    out = mse_loss(np.float64(2.0), np.float64(0.5), reduction="none")
    assert np.shape(out) == ()
    assert out == 2.25
