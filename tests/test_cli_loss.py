"""``neural-network loss``, end to end, and the streaming sum under it.

The command runs in a subprocess through both real entry points (``python -m
neural_network`` and the console script); the many exactness cases (every loss, file
format, weighting, reduction and batch size) run through ``neural_network.cli.main`` in
this process, the same code path once the interpreter has started.

Expected values never come from the command line: they are the library's loss functions
on the same data held in memory as one array, scikit-learn's metrics, or mpmath at 50
digits. The streamed value must equal the library's to the last bit, whatever the batch
size and however the rows are spread over files.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import log_loss, mean_squared_error

from neural_network import losses
from neural_network._exact_sum import PARTIAL_LENGTH, StreamingSum
from neural_network._reduction import total
from neural_network.cli import main
from neural_network.cli._loss_table import IGNORE_INDEX, LOSSES

SCRIPT = Path(sys.executable).parent / ("neural-network.exe" if sys.platform == "win32" else "neural-network")
MiB = 1 << 20

ROWS = 20_000
"""Rows of the main data set: about ten CSV blocks, four Parquet row groups, ten sums of PARTIAL_LENGTH."""


# --------------------------------------------------------------------------- running the command


def command(entry_point: str) -> list[str]:
    if entry_point == "module":
        return [sys.executable, "-m", "neural_network"]
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed next to the interpreter: {SCRIPT} does not exist")
    return [str(SCRIPT)]


def run(entry_point: str, *arguments: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``loss`` in a subprocess, every Python warning an error (the command promises none)."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [*command(entry_point), "loss", *map(str, arguments)],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=env,
    )


@pytest.fixture(params=["module", "script"], ids=["python -m neural_network", "neural-network"])
def entry_point(request):
    return request.param


def loss_json(capsys, *arguments: object) -> dict[str, Any]:
    """``loss ... --json`` through ``main`` in this process: the parsed output."""
    status = main(["loss", *map(str, arguments), "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert err == ""
    return json.loads(out)


# --------------------------------------------------------------------------- data


def make_data(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Columns for every loss: predictions, targets and weights of many magnitudes."""
    rng = np.random.default_rng(seed)
    p = rng.random(rows)
    y = (rng.random(rows) < p).astype(np.float64)
    soft = rng.random(rows) < 0.1
    y[soft] = rng.random(int(soft.sum()))  # soft labels
    p[:5], y[:5] = [0.0, 1.0, 0.5, 0.0, 1.0], [0.0, 1.0, 0.5, 0.0, 1.0]  # exact limits, finite losses
    logits = rng.standard_normal((rows, 3)) * 4.0
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    classes = rng.integers(0, 3, rows).astype(np.float64)
    classes[rng.random(rows) < 0.05] = IGNORE_INDEX
    weight = rng.random(rows) * 3.0
    weight[rng.random(rows) < 0.05] = 0.0
    return {
        "p": p,
        "y": y,
        "logit": rng.standard_normal(rows) * 5.0,
        "r_pred": rng.standard_normal(rows) * 10.0 ** rng.integers(-3, 4, rows),
        "r_target": rng.standard_normal(rows),
        "r2_pred": rng.standard_normal(rows),
        "r2_target": rng.standard_normal(rows) * 100.0,
        "c0": logits[:, 0], "c1": logits[:, 1], "c2": logits[:, 2],
        "lp0": np.minimum(log_probabilities[:, 0], 0.0),
        "lp1": np.minimum(log_probabilities[:, 1], 0.0),
        "lp2": np.minimum(log_probabilities[:, 2], 0.0),
        "cls": classes,
        "w": weight,
        "w_small": rng.random(rows) * 0.75,  # largest weight below 1: the library rescales them by 2**k
    }


def write(path: Path, data: dict[str, np.ndarray], *, row_group_size: int = 5000) -> Path:
    table = pa.table(data)
    if path.suffix == ".parquet":
        pq.write_table(table, path, row_group_size=row_group_size)
    else:
        pacsv.write_csv(table, path)  # shortest round-trip text: read back, every float is the same
    return path


CASES: dict[str, tuple[list[str], list[str]]] = {
    "mse_loss": (["r_pred"], ["r_target"]),
    "binary_cross_entropy": (["p"], ["y"]),
    "binary_cross_entropy_with_logits": (["logit"], ["y"]),
    "cross_entropy": (["c0", "c1", "c2"], ["cls"]),
    "nll_loss": (["lp0", "lp1", "lp2"], ["cls"]),
}
"""Columns for each loss of the command: ``(--pred, --target)``."""

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "mse_loss": losses.mse_loss,
    "binary_cross_entropy": losses.binary_cross_entropy,
    "binary_cross_entropy_with_logits": losses.binary_cross_entropy_with_logits,
    "cross_entropy": losses.cross_entropy,
    "nll_loss": losses.nll_loss,
}


def library_value(
    name: str, data: dict[str, np.ndarray], *, weight: str | None = None, reduction: str = "mean",
    pred: list[str] | None = None, target: list[str] | None = None,
) -> float:
    """The library function on the whole data held in memory, as a person would call it."""
    pred = pred or CASES[name][0]
    target = target or CASES[name][1]
    w = None if weight is None else data[weight]
    function = FUNCTIONS[name]
    if name in ("cross_entropy", "nll_loss"):
        return float(function(np.column_stack([data[c] for c in pred]), data[target[0]], reduction=reduction,
                              sample_weight=w))
    if len(pred) == 1:
        return float(function(data[pred[0]], data[target[0]], reduction=reduction, sample_weight=w))
    P = np.column_stack([data[c] for c in pred])
    T = np.column_stack([data[c] for c in target])
    W = None if w is None else np.repeat(w[:, None], P.shape[1], axis=1)
    return float(function(P, T, reduction=reduction, sample_weight=W))


def arguments(name: str, *, weight: str | None = None) -> list[str]:
    pred, target = CASES[name]
    options = ["--loss", name, "--pred", ",".join(pred), "--target", ",".join(target)]
    return options + (["--weight", weight] if weight else [])


@pytest.fixture(scope="module")
def data():
    return make_data(ROWS, seed=0)


@pytest.fixture(scope="module")
def files(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("loss")
    return {kind: write(folder / f"data.{kind}", data) for kind in ("csv", "parquet")}


def test_every_loss_of_the_command_is_tested():
    """The losses with columns here are tested in depth (every format, weights, batch
    sizes, errors); every other one is element-wise and is tested on data from the loss
    registry (test_every_elementwise_loss_streams_to_the_library_value)."""
    assert set(CASES) == set(FUNCTIONS) <= set(LOSSES)
    others = set(LOSSES) - set(CASES)
    # element-wise ones: test_every_elementwise_loss_streams_to_the_library_value; one
    # column per class: test_every_class_loss_streams_to_the_library_value
    assert all(LOSSES[name].layout in ("elementwise", "classes") for name in others)


# --------------------------------------------------------------------------- the streaming sum


def cuts(draw: st.DrawFn, size: int) -> list[int]:
    points = draw(st.lists(st.integers(0, size), max_size=12))
    return sorted(points)


@st.composite
def arrays_and_cuts(draw: st.DrawFn) -> tuple[np.ndarray, list[int]]:
    size = draw(st.sampled_from([0, 1, PARTIAL_LENGTH - 1, PARTIAL_LENGTH, PARTIAL_LENGTH + 1, 2 * PARTIAL_LENGTH, 3 * PARTIAL_LENGTH + 17, 9000]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(size) * 10.0 ** rng.integers(-20, 20, size)
    return values, cuts(draw, size)


@given(arrays_and_cuts(), st.sampled_from([1, 2, StreamingSum.FOLD]))
def test_streaming_sum_equals_total_of_the_concatenation_to_the_last_bit(case, fold):
    """Whatever the pieces, the streamed sum is ``total`` of the whole array (which the losses use)."""
    values, points = case
    accumulator = StreamingSum()
    accumulator.FOLD = fold  # fold the partials into the exact running sum early and often
    for start, stop in zip([0, *points], [*points, values.size], strict=True):
        accumulator.add(values[start:stop])
    expected = float(total(np, values))
    assert accumulator.value() == expected
    assert math.copysign(1.0, accumulator.value()) == math.copysign(1.0, expected)
    assert accumulator.count == values.size


def test_streaming_sum_of_pieces_of_every_size():
    rng = np.random.default_rng(1)
    values = rng.random(5 * PARTIAL_LENGTH + 123) * 10.0 ** rng.integers(-8, 8, 5 * PARTIAL_LENGTH + 123)
    expected = float(total(np, values))
    for piece in (1, 7, PARTIAL_LENGTH - 1, PARTIAL_LENGTH, PARTIAL_LENGTH + 1, 3 * PARTIAL_LENGTH, values.size):
        accumulator = StreamingSum()
        for start in range(0, values.size, piece):
            accumulator.add(values[start : start + piece])
        assert accumulator.value() == expected, piece


@pytest.mark.parametrize("size", [1, PARTIAL_LENGTH, PARTIAL_LENGTH + 1, 2 * PARTIAL_LENGTH])
def test_streaming_sum_of_negative_zeros_has_the_sign_total_gives(size):
    values = np.full(size, -0.0)
    for piece in (1, PARTIAL_LENGTH, size):
        accumulator = StreamingSum()
        for start in range(0, size, piece):
            accumulator.add(values[start : start + piece])
        assert repr(accumulator.value()) == repr(float(total(np, values)))


def test_streaming_sum_beyond_the_float64_range_is_inf_as_total():
    values = np.full(4 * PARTIAL_LENGTH, 1e305)
    accumulator = StreamingSum()
    accumulator.FOLD = 1
    for start in range(0, values.size, 1000):
        accumulator.add(values[start : start + 1000])
    with np.errstate(over="ignore"):
        expected = float(total(np, values))
    assert accumulator.value() == math.inf == expected


def test_streaming_sum_keeps_infinity_and_nan_as_fsum_does():
    for special in (math.inf, math.nan):
        values = np.ones(3 * PARTIAL_LENGTH)
        values[PARTIAL_LENGTH + 5] = special
        accumulator = StreamingSum()
        accumulator.FOLD = 1
        accumulator.add(values[:100])
        accumulator.add(values[100:])
        with np.errstate(invalid="ignore"):
            expected = float(total(np, values))
        assert repr(accumulator.value()) == repr(expected)


def test_streaming_sum_memory_does_not_grow_with_the_count():
    """Folding keeps a handful of floats, however many blocks were added."""
    accumulator = StreamingSum()
    rng = np.random.default_rng(2)
    for _ in range(50):
        accumulator.add(rng.standard_normal(64 * PARTIAL_LENGTH) * 1e10)
    assert len(accumulator._pending) < StreamingSum.FOLD
    assert len(accumulator._exact) < 64


# --------------------------------------------------------------------------- values: the library's, to the last bit


@pytest.mark.parametrize("weight", [None, "w", "w_small"], ids=["unweighted", "weighted", "weights-below-1"])
@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("name", list(CASES))
def test_mean_equals_the_library_function_on_the_whole_data(capsys, files, data, name, kind, weight):
    result = loss_json(capsys, files[kind], *arguments(name, weight=weight))
    assert result == {"loss": name, "value": library_value(name, data, weight=weight), "rows": ROWS}


@pytest.mark.parametrize("weight", [None, "w"], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", list(CASES))
def test_sum_equals_the_library_function_on_the_whole_data(capsys, files, data, name, weight):
    result = loss_json(capsys, files["parquet"], *arguments(name, weight=weight), "--reduction", "sum")
    assert result["value"] == library_value(name, data, weight=weight, reduction="sum")


@pytest.mark.parametrize("batch_rows", [13, 100, PARTIAL_LENGTH - 1, PARTIAL_LENGTH, PARTIAL_LENGTH + 1, 3 * PARTIAL_LENGTH + 5, ROWS])
@pytest.mark.parametrize("name", list(CASES))
def test_many_batches_give_the_value_of_one_to_the_last_bit(capsys, files, data, name, batch_rows):
    """Streaming: any batch size gives the value of one batch, and the library's."""
    one = loss_json(capsys, files["parquet"], *arguments(name, weight="w"), "--batch-rows", ROWS)
    many = loss_json(capsys, files["parquet"], *arguments(name, weight="w"), "--batch-rows", batch_rows)
    assert many["value"] == one["value"] == library_value(name, data, weight="w")


@pytest.mark.parametrize("name", ["mse_loss", "cross_entropy"])
def test_one_row_at_a_time_gives_the_same_bits(capsys, tmp_path, name):
    small = make_data(2 * PARTIAL_LENGTH + 100, seed=3)
    path = write(tmp_path / "small.csv", small)
    result = loss_json(capsys, path, *arguments(name, weight="w"), "--batch-rows", 1)
    assert result["value"] == library_value(name, small, weight="w")
    assert result["rows"] == 2 * PARTIAL_LENGTH + 100


def test_several_files_and_a_glob_sum_exactly_as_one(capsys, tmp_path, data):
    """Rows spread over files of both formats (cut off the PARTIAL_LENGTH grid) give the value of one array."""
    bounds = [0, 3001, 11111, ROWS]
    parts = [{name: column[a:b] for name, column in data.items()} for a, b in itertools.pairwise(bounds)]
    given = [write(tmp_path / "a.csv", parts[0]), write(tmp_path / "b.parquet", parts[1]),
             write(tmp_path / "c.csv", parts[2])]
    for name in CASES:
        result = loss_json(capsys, *given, *arguments(name, weight="w"), "--batch-rows", 999)
        assert result == {"loss": name, "value": library_value(name, data, weight="w"), "rows": ROWS}

    for index, part in enumerate(parts):
        write(tmp_path / f"part-{index}.parquet", part)
    result = loss_json(capsys, str(tmp_path / "part-*.parquet"), *arguments("binary_cross_entropy", weight="w"))
    assert result["value"] == library_value("binary_cross_entropy", data, weight="w")
    assert result["rows"] == ROWS


def test_several_column_pairs_are_one_loss_over_every_element(capsys, files, data):
    pred, target = ["r_pred", "r2_pred"], ["r_target", "r2_target"]
    for weight in (None, "w"):
        result = loss_json(capsys, files["csv"], "--loss", "mse_loss", "--pred", ",".join(pred),
                           "--target", ",".join(target), *(["--weight", weight] if weight else []))
        assert result["value"] == library_value("mse_loss", data, weight=weight, pred=pred, target=target)


def test_integer_and_float32_parquet_columns_are_read_as_numbers(capsys, tmp_path, data):
    table = {
        "c0": data["c0"].astype(np.float32), "c1": data["c1"], "c2": data["c2"],
        "cls": data["cls"].astype(np.int64),
    }
    path = write(tmp_path / "typed.parquet", table)
    result = loss_json(capsys, path, *arguments("cross_entropy"))
    expected = {**data, "c0": data["c0"].astype(np.float32).astype(np.float64)}
    assert result["value"] == library_value("cross_entropy", expected)


def test_an_infinite_loss_is_reported_as_inf(capsys, tmp_path):
    path = write(tmp_path / "inf.csv", {"p": np.array([0.5, 0.0]), "y": np.array([1.0, 1.0])})
    result = loss_json(capsys, path, "--loss", "binary_cross_entropy", "--pred", "p", "--target", "y")
    assert result["value"] == "inf"
    assert float(losses.binary_cross_entropy([0.5, 0.0], [1.0, 1.0])) == math.inf


def test_an_empty_table_sums_to_zero(capsys, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("p,y\n")
    assert loss_json(capsys, path, "--loss", "mse_loss", "--pred", "p", "--target", "y", "--reduction", "sum") == {
        "loss": "mse_loss", "value": 0.0, "rows": 0,
    }


# --------------------------------------------------------------------------- values: other references


def test_mse_matches_scikit_learn(capsys, files, data):
    for weight in (None, "w"):
        result = loss_json(capsys, files["csv"], *arguments("mse_loss", weight=weight))
        expected = mean_squared_error(data["r_target"], data["r_pred"],
                                      sample_weight=None if weight is None else data[weight])
        assert result["value"] == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_matches_scikit_learn_log_loss(capsys, tmp_path):
    """scikit-learn clips probabilities to [eps, 1 - eps]; these stay inside, so the two agree."""
    rng = np.random.default_rng(4)
    p = rng.uniform(1e-3, 1 - 1e-3, ROWS)
    y = (rng.random(ROWS) < p).astype(np.float64)
    w = rng.random(ROWS)
    path = write(tmp_path / "binary.parquet", {"p": p, "y": y, "w": w})
    for weight in (None, w):
        options = ["--weight", "w"] if weight is not None else []
        result = loss_json(capsys, path, "--loss", "binary_cross_entropy", "--pred", "p", "--target", "y", *options)
        assert result["value"] == pytest.approx(log_loss(y, p, sample_weight=weight), rel=1e-12)


def test_logistic_loss_is_within_its_bound_of_the_exact_value(capsys, tmp_path):
    """The streamed mean against mpmath at 50 digits (exact per-element losses, exact sum)."""
    rng = np.random.default_rng(5)
    rows = 3000
    logits = rng.standard_normal(rows) * 6.0
    y = (rng.random(rows) < 0.5).astype(np.float64)
    path = write(tmp_path / "logits.csv", {"z": logits, "y": y})
    result = loss_json(capsys, path, "--loss", "binary_cross_entropy_with_logits", "--pred", "z",
                       "--target", "y", "--batch-rows", 1000)
    with mpmath.workdps(50):
        terms = [
            t * mpmath.log1p(mpmath.exp(-mpmath.mpf(z))) + (1 - t) * mpmath.log1p(mpmath.exp(mpmath.mpf(z)))
            for z, t in zip(logits.tolist(), y.tolist(), strict=True)
        ]
        exact = mpmath.fsum(terms) / rows
        error = abs(mpmath.mpf(result["value"]) - exact)
    # u = 2**-53; exp, log1p within 1 ulp (2u). Elements (hard labels, >= 0): log1p(exp(-|x|))
    # 4u, + max(+-x, 0) u; the streamed sum: 23 roundings in a 2048-block's pairwise sum, fsum
    # once, the division once: 5u + 24u + u, so 30 ulp.
    assert error <= 30 * math.ulp(float(exact))


# --------------------------------------------------------------------------- end to end, through both entry points


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_json_output_has_the_documented_schema(entry_point, files, data, kind, tmp_path):
    completed = run(entry_point, files[kind], *arguments("binary_cross_entropy", weight="w"), "--json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    result = json.loads(completed.stdout)
    assert list(result) == ["loss", "value", "rows"]
    assert isinstance(result["value"], float) and isinstance(result["rows"], int)
    assert result == {
        "loss": "binary_cross_entropy", "value": library_value("binary_cross_entropy", data, weight="w"),
        "rows": ROWS,
    }


def test_table_output_shows_the_value_as_python_prints_it(entry_point, files, data, tmp_path):
    completed = run(entry_point, files["csv"], *arguments("mse_loss"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    expected = library_value("mse_loss", data)
    lines = completed.stdout.splitlines()
    assert any("value" in line and repr(expected) in line for line in lines), completed.stdout
    assert any("rows" in line and str(ROWS) in line for line in lines), completed.stdout
    assert "mse_loss" in completed.stdout


@pytest.mark.parametrize("name", list(CASES))
def test_every_loss_through_a_real_entry_point(name, files, data, tmp_path):
    """Each loss once in a subprocess, with tiny batches, alternating the two entry points."""
    entry = "module" if list(CASES).index(name) % 2 == 0 else "script"
    completed = run(entry, files["parquet"], *arguments(name, weight="w"), "--json", "--batch-rows", 777,
                    cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["value"] == library_value(name, data, weight="w")


def test_help_lists_the_losses_and_options(tmp_path):
    completed = run("script", "--help", cwd=tmp_path)
    assert completed.returncode == 0
    for text in [*CASES, "--pred", "--target", "--weight", "--json", "--reduction", "--batch-rows"]:
        assert text in completed.stdout


def test_the_command_keeps_rich_and_pyarrow_out_of_the_core_imports(tmp_path):
    code = (
        "import argparse, sys\n"
        "import neural_network, neural_network.cli, neural_network.cli.loss as loss\n"
        "loss.add_parser(argparse.ArgumentParser().add_subparsers())\n"
        "heavy = sorted(m for m in ('rich', 'pyarrow', 'matplotlib') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr


# --------------------------------------------------------------------------- errors: status 2, one message, no traceback


def _column_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _long_csv(tmp_path: Path, name: str, row: int, cell: str, column: str = "y") -> Path:
    """A CSV of 20,000 rows whose data row ``row`` has ``cell`` in ``column``: the error is in a later block."""
    rng = np.random.default_rng(6)
    p, y = rng.random(ROWS), (rng.random(ROWS) < 0.5).astype(np.float64)
    lines = ["p,y,w"] + [f"{a!r},{b!r},1.0" for a, b in zip(p.tolist(), y.tolist(), strict=True)]
    index = ["p", "y", "w"].index(column)
    cells = lines[row].split(",")
    cells[index] = cell
    lines[row] = ",".join(cells)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _parquet_with_null(tmp_path: Path) -> Path:
    y = pa.array([1.0] * 7776 + [None] + [0.0] * 2000)
    path = tmp_path / "null.parquet"
    pq.write_table(pa.table({"p": pa.array([0.5] * 9777), "y": y}), path, row_group_size=3000)
    return path


def _parquet_with_text(tmp_path: Path) -> Path:
    path = tmp_path / "text.parquet"
    pq.write_table(pa.table({"p": [0.5, 0.25], "y": ["yes", "no"]}), path)
    return path


BCE = ["--loss", "binary_cross_entropy", "--pred", "p", "--target", "y"]

ERRORS: dict[str, tuple[Callable[[Path], list[object]], list[str]]] = {
    "missing file": (lambda d: ["missing.csv", *BCE], ["missing.csv", "no such file"]),
    "glob matching nothing": (lambda d: ["nothing-*.parquet", *BCE], ["no file matches", "nothing-*.parquet"]),
    "directory": (lambda d: [d, *BCE], ["is a directory"]),
    "missing column": (
        lambda d: [_column_file(d, "c.csv", "p,Y\n0.5,1\n"), *BCE],
        ["c.csv has no column 'y'", "--target", "its columns are 'p', 'Y'", "did you mean 'Y'"],
    ),
    "missing weight column in the second file": (
        lambda d: [_column_file(d, "a.csv", "p,y,w\n0.5,1,1\n"), _column_file(d, "b.csv", "p,y\n0.5,1\n"),
                   *BCE, "--weight", "w"],
        ["b.csv has no column 'w'", "--weight", "its columns are 'p', 'y'"],
    ),
    "non-numeric cell": (
        lambda d: [_long_csv(d, "text.csv", 15000, "abc", column="p"), *BCE],
        ["text.csv, row 15000", "column 'p'", "'abc'", "not a number"],
    ),
    "empty cell": (lambda d: [_long_csv(d, "empty.csv", 12345, ""), *BCE], ["empty.csv, row 12345", "'y'", "empty"]),
    "empty Parquet cell": (
        lambda d: [_parquet_with_null(d), *BCE, "--batch-rows", 1000],
        ["null.parquet, row 7777", "column 'y' is empty"],
    ),
    "text column in Parquet": (lambda d: [_parquet_with_text(d), *BCE], ["text.parquet", "'y'", "not numbers"]),
    "target outside the loss's domain": (
        lambda d: [_long_csv(d, "labels.csv", 9000, "2.0"), *BCE],
        ["labels.csv, row 9000", "--target 'y' = 2.0", "labels in [0, 1]"],
    ),
    "class index outside the classes": (
        lambda d: [_column_file(d, "classes.csv", "a,b,k\n1,2,0\n1,2,1\n3,4,2\n"),
                   "--loss", "cross_entropy", "--pred", "a,b", "--target", "k"],
        ["classes.csv, row 3", "--target 'k' = 2.0", "class indices from 0 to 1"],
    ),
    "NaN prediction": (
        lambda d: [_long_csv(d, "nan.csv", 4321, "nan", column="p"), *BCE],
        ["nan.csv, row 4321", "NaN"],
    ),
    "negative weight": (
        lambda d: [_long_csv(d, "weights.csv", 100, "-1.0", column="w"), *BCE, "--weight", "w"],
        ["weights.csv, row 100", "--weight 'w' = -1.0", "non-negative"],
    ),
    "weights summing to zero": (
        lambda d: [_column_file(d, "zero.csv", "p,y,w\n0.5,1,0\n0.25,0,0\n"), *BCE, "--weight", "w"],
        ["'w' sums to 0", "--reduction sum"],
    ),
    "mean of no rows": (lambda d: [_column_file(d, "header.csv", "p,y\n"), *BCE], ["no rows", "--reduction sum"]),
    "empty file": (lambda d: [_column_file(d, "void.csv", ""), *BCE], ["void.csv is empty"]),
    "row with a missing cell": (
        lambda d: [_column_file(d, "ragged.csv", "p,y\n0.5,1\n0.25,0\n0.75\n"), *BCE],
        ["ragged.csv", "row 3 (line 4)", "1 cell", "2 cells"],
    ),
    "unknown loss": (
        lambda d: [_column_file(d, "ok.csv", "p,y\n0.5,1\n"), "--loss", "mse", "--pred", "p", "--target", "y"],
        ["unknown loss 'mse'", "Did you mean 'mse_loss'", *CASES],
    ),
    "unpaired columns": (
        lambda d: [_column_file(d, "ok.csv", "p,y\n0.5,1\n"), "--loss", "mse_loss", "--pred", "p,y", "--target", "y"],
        ["pairs each --pred column with a --target column"],
    ),
    "missing option": (lambda d: ["x.csv", "--pred", "p", "--target", "y"], ["--loss", "required"]),
    "batch of no rows": (lambda d: ["x.csv", *BCE, "--batch-rows", "0"], ["--batch-rows", "at least 1 row"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_exit_2_with_a_message_naming_the_problem(case, tmp_path):
    make, expected = ERRORS[case]
    data_folder = tmp_path / "data"
    data_folder.mkdir()
    entry = "script" if case in ("missing file", "non-numeric cell", "target outside the loss's domain") else "module"
    completed = run(entry, *make(data_folder), cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    for text in expected:
        assert text in completed.stderr, f"{text!r} not in {completed.stderr!r}"


def test_an_unexpected_failure_exits_1_in_one_line(capsys, monkeypatch, files):
    from neural_network.cli import loss

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(loss, "compute", broken)
    status = main(["loss", str(files["csv"]), *arguments("mse_loss")])
    _, err = capsys.readouterr()
    assert status == 1
    assert "unexpected error: RuntimeError: disk on fire" in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- memory: bounded, whatever the file size


PEAK_WRAPPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\npeak_rss_kib={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command and reports its peak resident memory (Linux: ``ru_maxrss`` in KiB).

The command is forked from this small wrapper, not from pytest: a child's peak starts at
its parent's resident memory when it forks (and at the parent's *peak* after a vfork, as
``subprocess`` does), so measured from pytest every run would show pytest's size."""


def peak_rss(arguments: list[object], cwd: Path) -> int:
    """The peak resident memory of one ``loss`` run in its own process, in bytes."""
    completed = subprocess.run(
        [sys.executable, "-S", "-c", PEAK_WRAPPER, *command("script"), "loss", *map(str, arguments)],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["rows"] > 0
    peak = completed.stderr.strip().splitlines()[-1]
    assert peak.startswith("peak_rss_kib="), completed.stderr
    return int(peak.removeprefix("peak_rss_kib=")) * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read with wait4, in KiB on Linux")
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_peak_memory_does_not_grow_with_the_file(tmp_path, kind):
    """A file ten times larger (2 million rows, 200 batches) costs no more memory than a smaller one.

    Held whole, the large file's two columns alone would take 32 MB more (their float64
    values), PyArrow's table of them as much again and the loss's temporaries several
    times that; streamed, the peak stays within 30 MiB of the small file's. For Parquet,
    one batch of every row shows that the measure sees such growth.
    """
    rng = np.random.default_rng(7)
    rows = 2_000_000
    columns = {"p": rng.random(rows), "y": (rng.random(rows) < 0.5).astype(np.float64)}
    large = write(tmp_path / f"large.{kind}", columns, row_group_size=100_000)
    small = write(tmp_path / f"small.{kind}", {name: values[: rows // 10] for name, values in columns.items()},
                  row_group_size=100_000)
    options = [*BCE, "--json", "--batch-rows", 10_000]
    small_peak = peak_rss([small, *options], tmp_path)
    large_peak = peak_rss([large, *options], tmp_path)
    assert small_peak > 20 * MiB  # the measure is of the command (Python, NumPy, PyArrow), not the wrapper
    assert large_peak - small_peak < 30 * MiB, (small_peak / MiB, large_peak / MiB)
    if kind == "parquet":
        whole = peak_rss([large, *BCE, "--json", "--batch-rows", rows], tmp_path)
        assert whole - large_peak > 30 * MiB, (large_peak / MiB, whole / MiB)


# --------------------------------------------------------------------------- every element-wise loss


@pytest.mark.parametrize(
    "name", sorted(name for name, entry in LOSSES.items() if entry.layout == "elementwise")
)
def test_every_elementwise_loss_streams_to_the_library_value(name, capsys, tmp_path):
    """Each loss the command knows, on valid data drawn from the loss registry, read in
    batches that cut the 2048-element partial sums: the library's value, to the last bit."""
    from loss_catalog import BY_NAME

    prediction, target = BY_NAME[name].draw(np.random.default_rng(17), 6000)[:2]
    if prediction.ndim == 1:
        path = write(tmp_path / "data.parquet", {"p": prediction, "t": target})
        pred, targets = "p", "t"
    else:  # rows of several elements (kl_div's distributions): one column pair per element
        width = prediction.shape[1]
        path = write(tmp_path / "data.parquet", {**{f"p{j}": prediction[:, j] for j in range(width)},
                                                 **{f"t{j}": target[:, j] for j in range(width)}})
        pred, targets = ",".join(f"p{j}" for j in range(width)), ",".join(f"t{j}" for j in range(width))
    result = loss_json(capsys, path, "--loss", name, "--pred", pred, "--target", targets, "--batch-rows", 777)
    assert result["rows"] == prediction.shape[0]
    assert result["value"] == float(getattr(losses, name)(prediction, target))


@pytest.mark.parametrize(
    "name", sorted(name for name, entry in LOSSES.items() if entry.layout == "classes" and not entry.ignore_index)
)
def test_every_class_loss_streams_to_the_library_value(name, capsys, tmp_path):
    """Each loss with one --pred column per class and a --target column of class indices,
    on data drawn from the loss registry, read in batches: the library's value, to the last bit."""
    from loss_catalog import BY_NAME

    scores, target = BY_NAME[name].draw(np.random.default_rng(18), 6000)[:2]
    assert scores.ndim == 2 and target.ndim == 1  # class indices
    columns = {f"s{j}": scores[:, j] for j in range(scores.shape[1])}
    path = write(tmp_path / "data.parquet", {**columns, "k": target})
    result = loss_json(capsys, path, "--loss", name, "--pred", ",".join(columns), "--target", "k", "--batch-rows", 777)
    assert result["rows"] == scores.shape[0]
    assert result["value"] == float(getattr(losses, name)(scores, target))


@pytest.mark.parametrize(
    ("name", "option", "keywords"),
    [("tweedie_deviance", ["power=1.5"], {"power": 1.5}), ("huber_loss", ["delta=2"], {"delta": 2}),
     ("poisson_nll_loss", ["log_input=false", "full=true"], {"log_input": False, "full": True}),
     ("multi_margin_loss", ["p=2", "margin=0.5"], {"p": 2, "margin": 0.5})],
)
def test_options_reach_the_library_function(name, option, keywords, capsys, tmp_path):
    """--option NAME=VALUE: the library's value with those keywords, to the last bit."""
    rng = np.random.default_rng(19)
    if name == "multi_margin_loss":
        scores, target = rng.normal(size=(3000, 3)), rng.integers(0, 3, 3000)
        data, pred, expected = {"a": scores[:, 0], "b": scores[:, 1], "c": scores[:, 2], "k": target}, "a,b,c", (scores, target)
    else:
        p, t = np.exp(rng.normal(size=3000)), rng.gamma(2.0, 1.0, 3000)
        data, pred, expected = {"a": p, "k": t}, "a", (p, t)
    path = write(tmp_path / "data.parquet", data)
    arguments = [argument for text in option for argument in ("--option", text)]
    result = loss_json(capsys, path, "--loss", name, "--pred", pred, "--target", "k", *arguments)
    assert result["value"] == float(getattr(losses, name)(*expected, **keywords))


@pytest.mark.parametrize(
    ("option", "words"),
    [("powr=1.5", ["no option 'powr'", "its options: power"]), ("power", ["NAME=VALUE"]),
     ("power=0.5", ["power must be <= 0 or >= 1"])],
)
def test_a_bad_option_is_one_message_and_exit_2(option, words, capsys, tmp_path):
    path = write(tmp_path / "data.parquet", {"a": np.ones(10), "k": np.ones(10)})
    status = main(["loss", str(path), "--loss", "tweedie_deviance", "--pred", "a", "--target", "k", "--option", option])
    _, err = capsys.readouterr()
    assert status == 2 and "Traceback" not in err
    assert all(word in err for word in words), err
