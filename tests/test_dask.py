"""Dask: every loss and activation over chunked arrays, and ``--engine dask`` on a real cluster.

Expected values are the NumPy results of the same functions on the same data held in
memory, themselves checked against mpmath and PyTorch elsewhere. A reduced loss over a
Dask array is summed chunk by chunk and combined exactly, so it must agree with NumPy
within the derived :func:`chunking_ulps` whatever the chunking, and be the same bits from run to run; per-element
losses and gradients must stay lazy and come back chunked like the input.

The cluster tests start a ``distributed.LocalCluster`` of two worker processes
themselves; the memory test limits its workers' memory and scores a Parquet data set
several times larger than that limit.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import dask
import dask.array as da
import dask.callbacks
import distributed
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from error_model import U, pairwise_roundings
from loss_catalog import ENTRIES, Entry
from neural_network import activations
from neural_network._reduction import PARTIAL_LENGTH
from neural_network.cli import main
from neural_network.errors import OutOfRangeError
from test_cli_loss import CASES, arguments, library_value, make_data, write
from worker_memory import peak_memory, reset_peak_memory

NOT_YET: dict[str, str] = {}
"""Losses that do not go through Dask yet, and why."""


def with_marks(entries: list[Entry]) -> list[Any]:
    return [
        pytest.param(e, id=e.name, marks=[pytest.mark.xfail(strict=True, reason=NOT_YET[e.name])] if e.name in NOT_YET else [])
        for e in entries
    ]


ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "identity")


def ulps(got: float, expected: float) -> float:
    """The distance from ``expected`` in units of its last place (0 for equal values)."""
    if got == expected:
        return 0.0
    return abs(got - expected) / math.ulp(expected)


def cancellation(entry: Entry, arrays: tuple[np.ndarray, ...]) -> float:
    """How much a sum of the loss's terms cancels: sum |l| / |sum l| (1 for terms of one sign).

    Sums cut in other places round differently, by a few ulp of the sum of magnitudes;
    where positive and negative terms cancel, that is many ulp of the result.
    """
    if "none" not in entry.reductions:
        return 1.0
    terms = np.asarray(entry.value(*arrays, reduction="none", **entry.options))
    return max(float(np.sum(np.abs(terms)) / abs(np.sum(terms))), 1.0)


@functools.cache
def partial_roundings(n: int) -> int:
    """The most roundings a term meets in a partial sum of at most ``min(n, PARTIAL_LENGTH)`` terms
    (NumPy's pairwise sum after the reduction's first term), however the chunks cut them."""
    return max(1 + pairwise_roundings(m - 1) for m in range(1, min(n, PARTIAL_LENGTH) + 1))


def chunking_ulps(terms: int, cancellation: float, reduction: str) -> float:
    """How far two cuttings of one sum may be apart, in ulp of the result.

    Each result is its partials (each within ``partial_roundings`` u of its sum of |l|)
    added exactly and rounded once: ``R c`` ulp + 1/2 from the exact sum, ``c`` the
    :func:`cancellation`; two of them: ``2 R c + 1``. A mean divides each by a
    denominator (n exact, or sum(w) >= 0 cut alike: ``2 R``) and rounds once more each.
    """
    r = partial_roundings(terms)
    bound = 2 * r * cancellation + 1
    return bound + 2 * r + 1 if reduction == "mean" else bound


def chunked(arrays: tuple[np.ndarray, ...], rows: int | tuple[int, ...]) -> tuple[Any, ...]:
    """The arrays as Dask arrays cut into ``rows`` rows per chunk along the first axis."""
    return tuple(da.from_array(a, chunks=(rows, *a.shape[1:])) if a.ndim else a for a in arrays)


def sync() -> Any:
    return dask.config.set(scheduler="synchronous")


# --------------------------------------------------------------------------- arrays, in this process


@pytest.mark.parametrize("entry", with_marks(ENTRIES))
def test_reduced_losses_agree_with_numpy_within_4_ulp_for_every_chunking(entry: Entry):
    rng = np.random.default_rng(7)
    arrays = entry.draw(rng, 600)
    first = arrays[0].shape[0]
    terms = PARTIAL_LENGTH  # at most one whole block per partial, whatever the loss's terms
    with sync():
        for reduction in set(entry.reductions) - {"none"}:
            expected = float(entry.value(*arrays, reduction=reduction, **entry.options))
            for rows in (37, first // 3 + 1, first):
                result = entry.value(*chunked(arrays, rows), reduction=reduction, **entry.options)
                assert isinstance(result, da.Array), "a reduced loss over Dask arrays stays lazy"
                bound = chunking_ulps(terms, cancellation(entry, arrays), reduction)  # derived there
                assert ulps(float(result.compute()), expected) <= bound, (reduction, rows)


@pytest.mark.parametrize("entry", with_marks(ENTRIES))
def test_per_element_losses_and_gradients_are_lazy_and_chunked_like_the_input(entry: Entry):
    rng = np.random.default_rng(8)
    arrays = entry.draw(rng, 300)
    rows = max(arrays[0].shape[0] // 4, 1)
    dask_arrays = chunked(arrays, rows)
    with sync():
        if "none" in entry.reductions:
            values = entry.value(*dask_arrays, reduction="none", **entry.options)
            expected = entry.value(*arrays, reduction="none", **entry.options)
            assert isinstance(values, da.Array)
            if values.ndim and values.shape[0] == arrays[0].shape[0]:  # samples first (not CTC's frames)
                assert values.chunks[0] == dask_arrays[0].chunks[0]
            # per sample, the same operations on the same numbers, whatever the chunk holds
            # (coupled losses: see the report)
            np.testing.assert_allclose(values.compute(), expected, rtol=4e-16, atol=0)
        gradients = entry.grad(*dask_arrays, **entry.options)
        expected_gradients = entry.grad(*arrays, **entry.options)
        if not isinstance(gradients, tuple):
            gradients, expected_gradients = (gradients,), (expected_gradients,)
        for position, got, want in zip(entry.differentiable_in, gradients, expected_gradients, strict=True):
            assert isinstance(got, da.Array)
            assert got.chunks == dask_arrays[position].chunks
            # Losses that couple samples (contrastive, overlap) sum across chunks in another
            # order: a few ulp of the largest gradient.
            np.testing.assert_allclose(got.compute(), want, rtol=1e-15, atol=16 * 2.0**-52 * np.max(np.abs(want)))


def test_the_sum_is_the_same_bits_from_run_to_run_and_numpys_when_chunks_hold_whole_blocks():
    from neural_network.losses import binary_cross_entropy_with_logits

    rng = np.random.default_rng(9)
    n = 10 * PARTIAL_LENGTH + 123
    x, y = rng.standard_normal(n) * 8, (rng.random(n) < 0.5).astype(np.float64)
    expected = binary_cross_entropy_with_logits(x, y, reduction="sum")
    whole = binary_cross_entropy_with_logits(*chunked((x, y), 3 * PARTIAL_LENGTH), reduction="sum")
    assert float(whole.compute(scheduler="threads")) == float(expected)
    cut = binary_cross_entropy_with_logits(*chunked((x, y), 1000), reduction="sum")
    results = {float(cut.compute(scheduler="threads")) for _ in range(5)}
    assert len(results) == 1
    assert ulps(results.pop(), float(expected)) <= chunking_ulps(n, 1.0, "sum")  # terms >= 0


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_and_their_gradients_stay_lazy_and_equal_numpy(name: str):
    x = np.random.default_rng(10).standard_normal(1000) * 6
    X = da.from_array(x, chunks=128)
    for function in (getattr(activations, name), getattr(activations, f"{name}_grad")):
        result = function(X)
        assert isinstance(result, da.Array)
        assert result.chunks == X.chunks
        np.testing.assert_array_equal(result.compute(scheduler="synchronous"), function(x))


def test_softmax_over_chunked_rows_equals_numpy():
    x = np.random.default_rng(11).standard_normal((50, 6)) * 5
    X = da.from_array(x, chunks=(8, 6))
    for function in (activations.softmax, activations.log_softmax):
        result = function(X, axis=1)
        assert isinstance(result, da.Array)
        # Each path within test_activations' bounds for n = 6 classes (softmax 5 + (n + 1)(n - 1)/n,
        # log_softmax n + 5, in u): two paths, twice the larger.
        n = x.shape[1]
        rtol = 2 * max(5 + (n + 1) * (n - 1) / n, n + 5) * U
        np.testing.assert_allclose(result.compute(scheduler="synchronous"), function(x, axis=1), rtol=rtol)


def test_an_invalid_value_in_any_chunk_is_refused_with_the_librarys_message():
    from neural_network.losses import binary_cross_entropy

    p = np.full(1000, 0.5)
    y = np.zeros(1000)
    y[777] = 2.0
    with sync(), pytest.raises(OutOfRangeError, match=r"binary_cross_entropy: y must hold labels in \[0, 1\]"):
        binary_cross_entropy(*chunked((p, y), 100)).compute()


# --------------------------------------------------------------------------- on a cluster


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50,
    ) as local, distributed.Client(local) as client:
        yield client


def test_losses_over_dask_arrays_on_a_two_process_cluster_agree_with_numpy(cluster):
    rng = np.random.default_rng(12)
    for name in ("mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
                 "tweedie_deviance", "huber_loss"):
        entry = next(e for e in ENTRIES if e.name == name)
        arrays = entry.draw(rng, 8000)
        for reduction in ("mean", "sum"):
            expected = float(entry.value(*arrays, reduction=reduction, **entry.options))
            for rows in (997, 4096, arrays[0].shape[0]):
                result = entry.value(*chunked(arrays, rows), reduction=reduction, **entry.options)
                bound = chunking_ulps(8000, cancellation(entry, arrays), reduction)  # derived there
                assert ulps(float(cluster.compute(result).result()), expected) <= bound, (name, reduction, rows)


def cli_json(capsys, *words: object) -> dict[str, Any]:
    status = main([*map(str, words), "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("weight", [None, "w"])
def test_loss_engine_dask_agrees_with_the_library_for_several_partitionings(capsys, tmp_path, cluster, name, weight):
    data = make_data(12_000, seed=3)
    expected = library_value(name, data, weight=weight)
    address = cluster.scheduler.address
    for group in (1000, 4096, 12_000):
        folder = tmp_path / f"groups-{group}"
        folder.mkdir()
        parts = np.array_split(np.arange(12_000), 3)
        for index, rows in enumerate(parts):
            write(folder / f"part-{index}.parquet", {k: v[rows] for k, v in data.items()}, row_group_size=group)
        got = cli_json(capsys, "loss", folder, *arguments(name, weight=weight), "--engine", "dask",
                       "--scheduler", address)
        # CASES' losses are >= 0; weighted or not, a mean: see chunking_ulps.
        assert ulps(got["value"], expected) <= chunking_ulps(12_000, 1.0, "mean"), group
        assert got["rows"] == 12_000
    csv_file = write(tmp_path / "data.csv", data)
    got = cli_json(capsys, "loss", csv_file, *arguments(name, weight=weight), "--engine", "dask",
                   "--scheduler", address)
    assert ulps(got["value"], expected) <= chunking_ulps(12_000, 1.0, "mean")


def test_loss_engine_dask_names_the_file_and_row_of_a_refused_value(capsys, tmp_path, cluster):
    data = make_data(3000, seed=4)
    data["y"][2345] = 1.5
    folder = tmp_path / "bad"
    folder.mkdir()
    write(folder / "a.parquet", {k: v[:2000] for k, v in data.items()}, row_group_size=500)
    write(folder / "b.parquet", {k: v[2000:] for k, v in data.items()}, row_group_size=500)
    status = main(["loss", str(folder), *arguments("binary_cross_entropy"), "--engine", "dask",
                   "--scheduler", cluster.scheduler.address])
    _, err = capsys.readouterr()
    assert status == 2
    assert "b.parquet, row 346" in err and "labels in [0, 1]" in err


def test_engine_options_are_refused_where_they_do_not_apply(capsys, tmp_path):
    data_file = write(tmp_path / "d.csv", make_data(10, seed=5))
    for extra, message in (
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler applies to --engine dask only"),
        (["--workers", "2"], "--workers applies to --engine dask only"),
        (["--engine", "dask", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "Leave one of them out"),
    ):
        status = main(["loss", str(data_file), *arguments("mse_loss"), *extra])
        _, err = capsys.readouterr()
        assert status == 2 and message in err


def test_predict_engine_dask_writes_the_predictions_of_the_streaming_command(capsys, tmp_path, cluster):
    rng = np.random.default_rng(6)
    table = {f"x{i}": rng.standard_normal(400) for i in range(4)}
    table["label"] = np.where(table["x0"] + table["x1"] > 0, "yes", "no")
    training = tmp_path / "train.csv"
    pd.DataFrame(table).to_csv(training, index=False)
    out = tmp_path / "run"
    assert main(["train", str(training), "--target", "label", "--epochs", "3", "--out", str(out), "--json"]) == 0
    features = pd.DataFrame({k: v for k, v in table.items() if k != "label"})
    data = tmp_path / "score"
    data.mkdir()
    for index, rows in enumerate(np.array_split(np.arange(400), 3)):
        features.iloc[rows].to_parquet(data / f"part-{index}.parquet", row_group_size=50)
    assert main(["predict", str(out / "model.npz"), str(tmp_path / "train.csv"), "--output",
                 str(tmp_path / "expected.csv")]) == 0
    assert main(["predict", str(out / "model.npz"), str(data), "--engine", "dask", "--scheduler",
                 cluster.scheduler.address, "--output", str(tmp_path / "predicted")]) == 0
    capsys.readouterr()
    expected = pd.read_csv(tmp_path / "expected.csv")
    got = pd.read_parquet(tmp_path / "predicted").reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    # Sequential.predict gives each row the same bits whatever rows share its batch (blocks
    # of a fixed shape), so partitions of other sizes give the streaming command's numbers.
    # The CSV holds them to the last bit: pandas writes floats with repr's 17 digits.
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


# --------------------------------------------------------------------------- memory


WORKER_MEMORY = 512 * (1 << 20)
"""Each worker's memory limit in the memory test; the nanny stops a worker that goes past 95% of it."""


def test_scoring_parquet_several_times_larger_than_a_workers_memory(capsys, tmp_path):
    rows_per_group, groups_per_file = 1 << 18, 24
    files = math.ceil(4 * WORKER_MEMORY / (16 * rows_per_group * groups_per_file))  # two float64 columns
    folder = tmp_path / "big"
    folder.mkdir()
    rng = np.random.default_rng(13)
    for index in range(files):
        with pq.ParquetWriter(folder / f"part-{index:03d}.parquet", pa.schema([("p", pa.float64()),
                                                                              ("y", pa.float64())])) as out:
            for _ in range(groups_per_file):
                p = rng.random(rows_per_group)
                out.write_table(pa.table({"p": p, "y": (rng.random(rows_per_group) < p).astype(np.float64)}))
    rows = files * groups_per_file * rows_per_group
    assert 16 * rows >= 4 * WORKER_MEMORY  # the data as float64 in memory
    options = ["--loss", "binary_cross_entropy", "--pred", "p", "--target", "y"]
    streamed = cli_json(capsys, "loss", f"{folder}/*.parquet", *options)
    # A worker past 80% of its limit would pause and wait for memory (the test would hang);
    # without pausing, one past 95% is stopped by its nanny, and the computation fails.
    with dask.config.set({"distributed.worker.memory.pause": False}), distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, memory_limit=WORKER_MEMORY,
        dashboard_address=":0", silence_logs=50,
    ) as local, distributed.Client(local) as client:
        measured = all(client.run(reset_peak_memory).values())
        got = cli_json(capsys, "loss", folder, *options, "--engine", "dask", "--scheduler", local.scheduler_address)
        peaks = client.run(peak_memory)
    assert got["rows"] == streamed["rows"] == rows
    assert ulps(got["value"], streamed["value"]) <= chunking_ulps(rows, 1.0, "mean")  # terms >= 0, as above
    if measured:  # Linux: each worker's own peak while it scored, below its limit
        print(f"peak worker memory: {max(peaks.values()) / (1 << 20):.0f} MiB of {WORKER_MEMORY >> 20} MiB")
        assert len(peaks) == 2 and max(peaks.values()) < WORKER_MEMORY, peaks


class _Computations(dask.callbacks.Callback):
    """Counts the computations Dask starts (each one a pass over the data it needs)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def _start(self, dsk: Any) -> None:
        self.count += 1


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "brier_score_loss"])
def test_checking_two_dask_arguments_reads_them_in_one_pass(name):
    from neural_network import losses

    rng = np.random.default_rng(14)
    p, y = rng.random(5000), (rng.random(5000) < 0.5).astype(np.float64)
    with sync(), _Computations() as computations:
        result = getattr(losses, name)(*chunked((p, y), 700))
        assert computations.count <= 1  # the checks of both arguments together, before the result
        result.compute()
    assert computations.count <= 2


def test_predict_engine_dask_names_the_file_and_row_of_a_cell_that_is_not_a_number(capsys, tmp_path, cluster):
    rng = np.random.default_rng(15)
    table = pd.DataFrame({"a": rng.standard_normal(60), "b": rng.standard_normal(60)})
    table["y"] = table["a"] * 2.0 + 1.0
    table.to_csv(tmp_path / "train.csv", index=False)
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "train.csv"), "--target", "y", "--epochs", "2", "--out", str(out), "--json"]) == 0
    data = tmp_path / "score"
    data.mkdir()
    table.iloc[:30].to_csv(data / "1.csv", index=False)
    broken = table.iloc[30:].astype(object)
    broken.iloc[7, 1] = "n/a"
    broken.to_csv(data / "2.csv", index=False)
    capsys.readouterr()
    status = main(["predict", str(out / "model.npz"), str(data), "--engine", "dask", "--scheduler",
                   cluster.scheduler.address, "--output", str(tmp_path / "predicted")])
    _, err = capsys.readouterr()
    assert status == 2
    assert "2.csv" in err and "row 8" in err and "'n/a'" in err
