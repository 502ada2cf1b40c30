"""``Sequential.predict(X, batch_size=...)``: the same bits in any batch size, memory bounded."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from neural_network.errors import InvalidOptionError, NonFiniteError, ShapeMismatchError
from neural_network.layers import Dense, Dropout
from neural_network.network import PREDICT_ROWS, Sequential


def model(dtype: type[np.floating] = np.float64) -> Sequential:
    return Sequential([
        Dense(6, 32, "relu", rng=0, dtype=dtype),
        Dropout(0.3, rng=1),
        Dense(32, 16, "tanh", rng=2, dtype=dtype),
        Dense(16, 3, rng=3, dtype=dtype),
    ])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("batch_size", [1, 7, PREDICT_ROWS - 1, PREDICT_ROWS, PREDICT_ROWS + 1, 1000, 5000])
def test_the_bits_do_not_depend_on_the_batch_size(dtype, batch_size) -> None:
    X = np.random.default_rng(4).standard_normal((1700, 6))  # float64 data, converted batch by batch
    network = model(dtype)
    whole = network.predict(X)
    batched = network.predict(X, batch_size=batch_size)
    assert batched.dtype == whole.dtype == dtype
    assert batched.tobytes() == whole.tobytes()
    assert network(X, batch_size=batch_size).tobytes() == whole.tobytes()


def test_lists_and_empty_input() -> None:
    X = np.random.default_rng(5).standard_normal((30, 6))
    network = model()
    assert np.array_equal(network.predict(X.tolist(), batch_size=8), network.predict(X))
    assert network.predict(np.zeros((0, 6)), batch_size=8).shape == (0, 3)


def test_the_memory_beyond_the_output_is_one_batchs() -> None:
    """A float64 X for a float32 network: without batches, the whole of X is converted at
    once (a 24 MB copy); with batches, one batch at a time."""
    X = np.random.default_rng(6).standard_normal((500_000, 6))
    network = model(np.float32)
    output_bytes = 500_000 * 3 * 4
    tracemalloc.start()
    try:
        network.predict(X, batch_size=4096)
        _, batched_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        network.predict(X)
        _, whole_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert whole_peak > output_bytes + 12_000_000
    assert batched_peak < output_bytes + 2_000_000


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "64", True])
def test_batch_size_is_checked(batch_size) -> None:
    with pytest.raises(InvalidOptionError, match="batch_size must be a positive integer"):
        model().predict(np.zeros((4, 6)), batch_size=batch_size)


def test_errors_name_the_rows_of_the_batch() -> None:
    X = np.zeros((3000, 6))
    X[1500, 2] = np.nan
    with pytest.raises(NonFiniteError) as caught:
        model().predict(X, batch_size=1000)
    assert "rows 1000 to 1999" in str(caught.value) and "X[500, 2]" in str(caught.value)
    with pytest.raises(ShapeMismatchError, match=r"X must have shape \(N, 6\)"):
        model().predict(np.zeros((10, 5)), batch_size=4)
    with pytest.raises(ShapeMismatchError, match="A single sample"):
        model().predict(np.zeros(6), batch_size=4)
