"""Large NumPy input is evaluated in blocks and threads: the results must not change.

References: the same function on small slices (the unblocked path, itself checked
against mpmath in test_exactness.py) for per-element values and gradients; the exact
sum of those values (math.fsum) for reductions; and the error messages of small input.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import neural_network as nn
from neural_network import _blocks
from neural_network.errors import InvalidOptionError, NonFiniteError, OutOfRangeError

SIZE = 5 * _blocks.BLOCK + 1234  # several blocks and a ragged end
SLICE = 1000  # below one block: the unblocked path

LOSSES = {
    "mse_loss": (nn.mse_loss, nn.mse_loss_grad, "real"),
    "binary_cross_entropy": (nn.binary_cross_entropy, nn.binary_cross_entropy_grad, "probability"),
    "binary_cross_entropy_with_logits": (
        nn.binary_cross_entropy_with_logits,
        nn.binary_cross_entropy_with_logits_grad,
        "real",
    ),
}


def data(kind: str, dtype: type, seed: int = 0, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(size) * 4
    x = 1 / (1 + np.exp(-logits)) if kind == "probability" else logits
    y = rng.random(size)
    y[: size // 2] = np.round(y[: size // 2])  # hard and soft labels
    return x.astype(dtype), y.astype(dtype)


def in_slices(function, x: np.ndarray, y: np.ndarray, **options) -> np.ndarray:
    return np.concatenate([
        function(x[i : i + SLICE], y[i : i + SLICE], reduction="none", **{
            k: (v[i : i + SLICE] if isinstance(v, np.ndarray) else v) for k, v in options.items()
        })
        for i in range(0, x.size, SLICE)
    ])


@pytest.fixture(params=[1, 3], ids=["1-thread", "3-threads"])
def threads(request):
    _blocks.set_num_threads(request.param)
    yield request.param
    _blocks.set_num_threads(None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_per_element_values_and_gradients_equal_those_of_small_slices(name, dtype, threads):
    value, grad, kind = LOSSES[name]
    x, y = data(kind, dtype)
    w = np.random.default_rng(1).random(SIZE).astype(dtype)
    for options in ({}, {"sample_weight": w}):
        blocked = value(x, y, reduction="none", **options)
        assert blocked.dtype == dtype and blocked.shape == x.shape
        assert np.array_equal(blocked, in_slices(value, x, y, **options))
        gradient = grad(x, y, reduction="sum", **options)
        sliced = np.concatenate([
            grad(x[i : i + SLICE], y[i : i + SLICE], reduction="sum",
                 **{k: v[i : i + SLICE] for k, v in options.items()})
            for i in range(0, SIZE, SLICE)
        ])
        assert gradient.dtype == dtype and np.array_equal(gradient, sliced)


@pytest.mark.parametrize("name", list(LOSSES))
def test_mean_and_sum_are_the_exact_sums_of_the_values_correctly_rounded_or_close(name, threads):
    value, grad, kind = LOSSES[name]
    x, y = data(kind, np.float64, seed=2)
    elements = value(x, y, reduction="none")  # checked equal to the small-slice values above
    exact_sum = math.fsum(elements.tolist())
    # Error model: u = 2**-53, each +, / rounds with relative error <= u. The reference is the
    # exact sum of these same (non-negative) elements, so no libm enters. Each partial is
    # NumPy's pairwise sum of 2048 of them (at most 23 roundings on a term's way, relative
    # error <= 23u); fsum then rounds once: 24u, so 24 ulp; the mean divides once more: 25.
    assert abs(value(x, y, reduction="sum") - exact_sum) <= 24 * math.ulp(exact_sum)
    assert abs(value(x, y, reduction="mean") - exact_sum / SIZE) <= 25 * math.ulp(exact_sum / SIZE)
    mean_gradient = grad(x, y, reduction="mean")
    assert np.array_equal(mean_gradient, grad(x, y, reduction="sum") / SIZE)


@pytest.mark.parametrize("name", list(LOSSES))
def test_results_do_not_depend_on_the_thread_count(name):
    value, grad, kind = LOSSES[name]
    x, y = data(kind, np.float64, seed=3, size=40 * _blocks.BLOCK + 7)
    w = np.random.default_rng(4).random(x.size)
    results = []
    for count in (1, 2, 5):
        _blocks.set_num_threads(count)
        try:
            results.append([value(x, y), value(x, y, sample_weight=w), grad(x, y, reduction="mean")])
        finally:
            _blocks.set_num_threads(None)
    for other in results[1:]:
        assert other[0] == results[0][0] and other[1] == results[0][1]
        assert np.array_equal(other[2], results[0][2])


def test_a_matrix_with_pos_weight_per_column_is_blocked_like_the_rows_it_holds(threads):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((SIZE // 4, 4)) * 3
    y = rng.integers(0, 2, logits.shape).astype(float)
    pos_weight = np.array([0.5, 1.0, 2.0, 3.0])
    blocked = nn.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight, reduction="none")
    rows = np.concatenate([
        nn.binary_cross_entropy_with_logits(logits[i : i + 250], y[i : i + 250], pos_weight=pos_weight,
                                            reduction="none")
        for i in range(0, logits.shape[0], 250)
    ])
    assert np.array_equal(blocked, rows)


def test_non_contiguous_input_gives_the_same_values(threads):
    x, y = data("real", np.float64, seed=6, size=2 * SIZE)
    strided = nn.mse_loss(x[::2], y[::2], reduction="none")
    assert np.array_equal(strided, nn.mse_loss(x[::2].copy(), y[::2].copy(), reduction="none"))


@pytest.mark.parametrize("position", [0, 3 * _blocks.BLOCK + 17, SIZE - 1])
def test_a_nan_anywhere_is_reported_as_for_small_input(position, threads):
    x, y = data("real", np.float64, seed=7)
    x[position] = math.nan
    for call in (lambda: nn.mse_loss(x, y), lambda: nn.mse_loss_grad(x, y), lambda: nn.mse_loss(x, y, reduction="none")):
        with pytest.raises(NonFiniteError, match=rf"first at y_pred\[{position}\]"):
            call()


def test_a_label_out_of_range_deep_in_a_large_array_is_reported_with_its_index(threads):
    x, y = data("real", np.float64, seed=8)
    y[4 * _blocks.BLOCK + 5] = 2.0
    with pytest.raises(OutOfRangeError, match=rf"y\[{4 * _blocks.BLOCK + 5}\] = 2"):
        nn.binary_cross_entropy_with_logits(x, y)


def test_huge_losses_are_redone_in_the_extended_range_block_by_block(threads):
    if nn._validation.EXTENDED is None:
        pytest.skip("no wider floating type on this platform")
    x = np.zeros(SIZE)
    y = np.zeros(SIZE)
    x[[10, 2 * _blocks.BLOCK + 3]] = 1.5e154 * 1e1  # a squared error beyond the float64 range
    w = np.full(SIZE, 1e-300)
    values = nn.mse_loss(x, y, reduction="none", sample_weight=w)
    expected = float(np.longdouble(1.5e155) ** 2 * np.longdouble(1e-300))
    # Both: two products in the extended range (2**-64 each at most), then one rounding to
    # float64 (u = 2**-53): within 2u + 4 * 2**-64 < 3e-16 of each other.
    assert values[10] == values[2 * _blocks.BLOCK + 3] == pytest.approx(expected, rel=3e-16)
    assert np.count_nonzero(values) == 2


def test_thread_count_settings():
    assert _blocks.get_num_threads() >= 1
    _blocks.set_num_threads(2)
    try:
        assert _blocks.get_num_threads() == 2
    finally:
        _blocks.set_num_threads(None)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InvalidOptionError, match="set_num_threads"):
            _blocks.set_num_threads(bad)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEURAL_NETWORK_NUM_THREADS", "3")
    assert _blocks.get_num_threads() == 3
    monkeypatch.setenv("NEURAL_NETWORK_NUM_THREADS", "many")
    with pytest.raises(InvalidOptionError, match="NEURAL_NETWORK_NUM_THREADS must be a positive integer"):
        _blocks.get_num_threads()


# --------------------------------------------------------------------------- the finite-result shortcut

FLAGGED = [
    (name, loss)
    for name, loss in (
        ("mse_loss", nn.losses.regression._pointwise.MSE),
        ("binary_cross_entropy_with_logits", nn.losses.classification._binary.BCE_WITH_LOGITS),
    )
]


@pytest.mark.parametrize(("name", "loss"), FLAGGED, ids=[name for name, _ in FLAGGED])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_flagged_kernel_is_not_finite_wherever_a_finite_only_operand_is_not(name, loss, bad):
    """The promise behind skipping the finiteness check of large finite-only operands:
    the per-element value is NaN or infinite wherever such an operand is."""
    assert loss.value_propagates_non_finite
    rng = np.random.default_rng(9)
    x = rng.standard_normal(200) * 5
    y = rng.random(200)
    y[:100] = np.round(y[:100])
    for role in ("input", "target"):
        operand = loss.input if role == "input" else loss.target
        if operand.domain is not nn._validation.REAL:
            continue
        a, b = x.copy(), y.copy()
        (a if role == "input" else b)[::7] = bad
        with np.errstate(invalid="ignore", over="ignore"):
            values = loss.value(np, a, b)
            slopes = loss.derivative(np, a, b)
        broken = ~np.isfinite(a if role == "input" else b)
        assert not np.isfinite(values[broken]).any(), (name, role)
        if loss.derivative_propagates_non_finite:
            assert not np.isfinite(slopes[broken]).any(), (name, role, "derivative")
    # pos_weight, which scales the positive term, must not hide it either (0 * inf is NaN).
    if loss.weights:
        a = x.copy()
        a[::7] = bad
        with np.errstate(invalid="ignore", over="ignore"):
            values = loss.value(np, a, np.round(y), pos_weight=np.zeros(200))
        assert not np.isfinite(values[::7]).any()


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_large_and_small_inputs_refuse_a_non_finite_prediction_the_same_way(bad):
    for size in (100, SIZE):
        x, y = data("real", np.float64, seed=10, size=size)
        x[size // 2] = bad
        kind = "NaN" if math.isnan(bad) else "infinite"
        with pytest.raises(NonFiniteError, match=rf"1 {kind} value \(first at y_pred\[{size // 2}\]\)"):
            nn.mse_loss(x, y)


def test_overflow_in_worker_threads_warns_nothing():
    """NumPy's error state is per thread: each block must set it where it runs."""
    _blocks.set_num_threads(4)
    try:
        x = np.full(40 * _blocks.BLOCK, 1e200)
        assert nn.mse_loss(x, np.zeros_like(x), reduction="sum") == math.inf
        assert np.isinf(nn.mse_loss(x, np.zeros_like(x), reduction="none")).all()
    finally:
        _blocks.set_num_threads(None)


def test_scratch_arrays_are_reused_per_thread_and_owner_and_never_shared():
    first = _blocks.scratch("tests.owner", 2, (10,))
    again = _blocks.scratch("tests.owner", 2, (5, 2))
    assert [a.shape for a in again] == [(5, 2), (5, 2)] and all(a.dtype == np.float64 for a in again)
    assert all(np.shares_memory(a, b) for a, b in zip(first, again, strict=True))  # the same memory
    assert not np.shares_memory(first[0], first[1])
    other_owner = _blocks.scratch("tests.other", 1, (10,))[0]
    integers = _blocks.scratch("tests.owner", 1, (10,), np.int64)[0]
    assert integers.dtype == np.int64
    for array in (other_owner, integers):
        assert not any(np.shares_memory(array, mine) for mine in first)
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(_blocks.scratch, "tests.owner", 2, (10,)).result()
    assert not any(np.shares_memory(a, b) for a in first for b in theirs)
    huge = (_blocks.SCRATCH_LIMIT + 1,)
    assert not np.shares_memory(_blocks.scratch("tests.owner", 1, huge)[0], _blocks.scratch("tests.owner", 1, huge)[0])
