"""``predict`` and ``evaluate`` read their files in batches: the results do not depend on the batch.

Each test streams more rows than one batch (``--batch-rows`` small) and compares, row by
row, with the whole file scored at once by the library (``load_checkpoint`` and the
features standardized here), and with the losses of the library on the whole array.
Errors in a later batch name the row as the file numbers it. ``train`` reads its file whole, in
pieces of rows: the cells across the pieces' boundaries are checked against Python's reading of
the text, and numeric labels against a dictionary of the classes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_helpers import call, read_csv, write_csv
from neural_network import cross_entropy, load_checkpoint, mse_loss, softmax
from neural_network.cli import main

ROWS = 1000


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A multiclass table and a regression table of ROWS rows each, with models trained on them."""
    folder = tmp_path_factory.mktemp("streaming")
    rng = np.random.default_rng(11)
    X = rng.normal(size=(ROWS, 3))
    species = np.array(["a", "b", "c"])[np.argmax(X @ rng.normal(size=(3, 3)), axis=1)]
    classes = write_csv(folder / "classes.csv", ["x1", "x2", "x3", "species"],
                        [[*x, s] for x, s in zip(X.tolist(), species, strict=True)])
    y = 5 + X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=ROWS)
    values = write_csv(folder / "values.csv", ["x1", "x2", "x3", "target"],
                       [[*x, v] for x, v in zip(X.tolist(), y.tolist(), strict=True)])
    for data, out in ((classes, "classes-run"), (values, "values-run")):
        status = main(["train", str(data), "--epochs", "3", "--hidden", "8", "--out", str(folder / out), "--json"])
        assert status == 0
    return SimpleNamespace(
        folder=folder, classes=classes, values=values, X=X, species=species, y=y,
        classes_model=folder / "classes-run" / "model.npz", values_model=folder / "values-run" / "model.npz",
    )


def library_outputs(model_path: Path, X: np.ndarray) -> tuple[np.ndarray, dict]:
    checkpoint = load_checkpoint(model_path)
    card = checkpoint.metadata["command_line"]
    return checkpoint.model.predict((X - card["x_mean"]) / card["x_scale"]), card


@pytest.mark.parametrize("batch_rows", ["7", "256", "100000"])
def test_predict_in_batches_equals_the_whole_file_at_once(files, tmp_path, capsys, batch_rows):
    output = tmp_path / "p.csv"
    result = call(capsys, "predict", str(files.classes_model), str(files.classes), "--batch-rows", batch_rows,
                  "--output", str(output))
    assert result.status == 0, result.err
    assert f"wrote: {ROWS:,} predictions" in result.out
    predicted = read_csv(output)
    logits, card = library_outputs(files.classes_model, files.X)
    probabilities = softmax(logits, axis=1)
    for index, label in enumerate(card["classes"]):
        np.testing.assert_array_equal([float(p) for p in predicted[f"probability_{label}"]], probabilities[:, index])
    assert predicted["prediction"] == [card["classes"][i] for i in np.argmax(logits, axis=1)]


def test_predict_to_parquet_and_standard_output_in_batches(files, tmp_path, capsys):
    model, data = str(files.values_model), str(files.values)
    assert call(capsys, "predict", model, data, "--batch-rows", "64", "--output", str(tmp_path / "p.parquet")).status == 0
    written = pq.read_table(tmp_path / "p.parquet")
    assert written.num_rows == ROWS and written.schema.field("prediction").type == pa.float64()
    outputs, card = library_outputs(files.values_model, files.X)
    expected = outputs[:, 0] * card["y_scale"] + card["y_mean"]
    np.testing.assert_array_equal(written.column("prediction").to_numpy(), expected)
    result = call(capsys, "predict", model, data, "--batch-rows", "33")
    lines = result.out.splitlines()
    assert lines[0] == "prediction" and len(lines) == ROWS + 1  # one header, however many batches
    np.testing.assert_array_equal([float(line) for line in lines[1:]], expected)


@pytest.mark.parametrize("batch_rows", ["9", "100000"])
def test_evaluate_in_batches_gives_the_librarys_loss_on_the_whole_array(files, capsys, batch_rows):
    result = call(capsys, "evaluate", str(files.classes_model), str(files.classes), "--batch-rows", batch_rows,
                  "--json")
    assert result.status == 0, result.err
    report = json.loads(result.out)
    logits, card = library_outputs(files.classes_model, files.X)
    target = np.array([card["classes"].index(label) for label in files.species])
    assert report["rows"] == ROWS
    assert report["metrics"]["loss"] == pytest.approx(float(cross_entropy(logits, target)), rel=1e-13)
    assert report["metrics"]["accuracy"] == float(np.mean(np.argmax(logits, axis=1) == target))

    result = call(capsys, "evaluate", str(files.values_model), str(files.values), "--batch-rows", batch_rows,
                  "--json")
    report = json.loads(result.out)
    outputs, card = library_outputs(files.values_model, files.X)
    predicted = outputs[:, 0] * card["y_scale"] + card["y_mean"]
    mse = float(mse_loss(predicted, files.y))
    assert report["metrics"]["loss"] == pytest.approx(mse, rel=1e-13)
    assert report["metrics"]["r2"] == pytest.approx(1 - mse / np.var(files.y), rel=1e-12)


def test_the_batch_size_does_not_change_a_single_bit(files, capsys):
    reports = []
    for batch_rows in ("1", "10", "999", "1000", "4096"):
        result = call(capsys, "evaluate", str(files.values_model), str(files.values), "--batch-rows", batch_rows,
                      "--json")
        reports.append(json.loads(result.out)["metrics"])
    assert all(report["loss"] == reports[0]["loss"] for report in reports)


def test_a_bad_cell_in_a_later_batch_is_named_by_its_row_in_the_file(files, tmp_path, capsys):
    rows = read_rows(files.classes)
    rows[1 + 876][1] = "oops"  # data row 877
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    output = tmp_path / "p.csv"
    result = call(capsys, "predict", str(files.classes_model), str(bad), "--batch-rows", "100", "--output",
                  str(output))
    assert result.status == 2
    assert "column 'x2', row 877: 'oops' is not a number" in result.err
    assert not output.exists() and list(tmp_path.iterdir()) == [bad]  # no half-written file left behind
    result = call(capsys, "evaluate", str(files.classes_model), str(bad), "--batch-rows", "100")
    assert result.status == 2 and "row 877" in result.err


def test_an_unknown_label_in_a_later_batch_is_named_by_its_row(files, tmp_path, capsys):
    rows = read_rows(files.classes)
    rows[1 + 500][3] = "rose"
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    result = call(capsys, "evaluate", str(files.classes_model), str(bad), "--batch-rows", "64")
    assert result.status == 2 and "row 501: 'rose' is not one of the model's classes" in result.err


def test_a_file_with_no_rows_is_refused(files, tmp_path, capsys):
    empty = write_csv(tmp_path / "empty.csv", ["x1", "x2", "x3", "species"], [])
    for command in ("predict", "evaluate"):
        result = call(capsys, command, str(files.classes_model), str(empty))
        assert result.status == 2 and "has no rows of data" in result.err


# --------------------------------------------------------------------------- train's whole-file read


def test_a_file_read_whole_in_pieces_gives_every_cell_as_written(tmp_path):
    """``train`` reads a CSV file whole into pieces of about ``SLAB_ROWS`` rows; across the pieces'
    boundaries every number is the one the cell writes (Python's float of the text), an empty cell
    is missing, and a text column stays text."""
    from neural_network.cli._errors import CommandError
    from neural_network.cli._table import SLAB_ROWS, read_table

    rows = SLAB_ROWS + 4321
    rng = np.random.default_rng(5)
    values = rng.normal(size=rows)
    cells = [repr(value) for value in values.tolist()]
    empty = [3, SLAB_ROWS - 1, SLAB_ROWS, SLAB_ROWS + 1, rows - 1]
    for row in empty:
        cells[row] = ""
    words = [("ab", "cd", "")[row % 3] for row in range(rows)]
    path = write_csv(tmp_path / "big.csv", ["x", "word", "n"],
                     [[cell, word, row] for row, (cell, word) in enumerate(zip(cells, words, strict=True))])
    table = read_table(str(path))
    assert table.rows == rows and table.kind("x") == "number" and table.kind("word") == "text"
    got = table.numbers("x", missing=True)
    expected = np.array([float(cell) if cell else np.nan for cell in cells])
    np.testing.assert_array_equal(got, expected)  # NaN where the cell is empty, the same bits elsewhere
    assert table.numbers("n").tolist() == list(range(rows))
    with pytest.raises(CommandError, match=f"column 'x', row {empty[0] + 1} is empty"):
        table.numbers("x")
    for name in ("x", "word", "n"):
        table.release(name)
    assert table.columns == ()


def test_numeric_labels_are_encoded_as_a_dictionary_of_the_classes_would():
    """The class index of numeric labels, found on arrays: checked against a plain dictionary lookup
    (whole numbers and floats alike, a repeated class: its last position), and an unknown label
    named with its row."""
    from neural_network.cli._errors import CommandError
    from neural_network.cli._targets import encode

    rng = np.random.default_rng(9)
    for classes in ([0, 1], [1.5, -2, 7, 0.25], [3, 1, 2, 1], [True, 2], [10**17, 5]):
        labels = rng.choice(np.array([float(label) for label in classes]), size=50)
        index = {label: position for position, label in enumerate(classes)}  # a repeat keeps its last position
        expected = [index[int(value) if value.is_integer() else value] for value in labels.tolist()]
        assert encode(labels, classes, "y", "the target").tolist() == expected
    with pytest.raises(CommandError, match=r"column 'y' \(the target\), row 12: 2 is not one of the model's classes 0, 1"):
        encode(np.array([0.0, 1.0, 2.0]), [0, 1], "y", "the target", first_row=10)
    with pytest.raises(CommandError, match=r"row 1: 0.5 is not one of the model's classes 0, 1"):
        encode(np.array([0.5]), [0, 1], "y", "the target")


def test_an_unknown_numeric_label_in_a_later_batch_is_named_by_its_row(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    labels = (X[:, 0] > 0).astype(int)
    data = write_csv(tmp_path / "d.csv", ["a", "b", "y"], [[*x, y] for x, y in zip(X.tolist(), labels.tolist(), strict=True)])
    assert call(capsys, "train", str(data), "--epochs", "1", "--out", str(tmp_path / "run")).status == 0
    rows = read_rows(data)
    rows[1 + 250][2] = "2"
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    result = call(capsys, "evaluate", str(tmp_path / "run" / "model.npz"), str(bad), "--batch-rows", "64")
    assert result.status == 2 and "row 251: 2 is not one of the model's classes 0, 1" in result.err
