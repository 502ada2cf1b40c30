"""Real tables: text columns one-hot, empty cells imputed, columns left out, all stored in the model.

The expected features are built here, independently of the command line, from the
rules documented in ``train --help``: a column of numbers takes the median of its cells
in the training rows for an empty cell and gains a 0/1 "missing" feature; a text column
becomes one 0/1 feature per value (the empty cell a value of its own), a value unseen in
training all zeros. The network is then applied with the library (``load_checkpoint``),
and ``predict``'s output must match, whatever the order of the columns in the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_helpers import call, read_csv, write_csv
from neural_network import Dense, Sequential, load_checkpoint, sigmoid

HEADER = ["id", "name", "sex", "age", "port", "fare", "survived"]


def passengers(count: int = 300, seed: int = 2) -> list[list[object]]:
    """Rows of HEADER: an id, a unique name, sex, an age empty in a fifth of the rows (30 in most of
    the others, so that its training median is 30 whatever the split), a port of three values or
    empty, a fare, and whether the passenger survived (mostly by sex)."""
    rng = np.random.default_rng(seed)
    rows: list[list[object]] = []
    for index in range(count):
        sex = "female" if rng.random() < 0.45 else "male"
        age: object = "" if rng.random() < 0.2 else (30 if rng.random() < 0.7 else int(rng.integers(1, 80)))
        port = str(rng.choice(["S", "C", "Q", ""], p=[0.55, 0.2, 0.15, 0.1]))
        fare = round(float(rng.lognormal(3, 1)), 2)
        survived = int(rng.random() < (0.8 if sex == "female" else 0.2))
        rows.append([index, f"Passenger {index}", sex, age, port, fare, survived])
    return rows


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def trained(here: Path, capsys: pytest.CaptureFixture[str]) -> SimpleNamespace:
    data = write_csv(here / "passengers.csv", HEADER, passengers())
    result = call(capsys, "train", str(data), "--drop", "id", "--epochs", "5", "--out", "run")
    assert result.status == 0, result.err
    return SimpleNamespace(data=data, model=here / "run" / "model.npz", result=result)


def expected_features(columns: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
    """The raw features (before standardization) by the documented rules, built here."""
    ages = [float(value) if value else 30.0 for value in columns["age"]]
    names = ["sex=female", "sex=male", "age", "age (missing)", "port=(empty)", "port=C", "port=Q", "port=S",
             "fare"]
    rows = []
    for sex, age, empty, port, fare in zip(columns["sex"], ages, columns["age"], columns["port"], columns["fare"],
                                           strict=True):
        rows.append([
            sex == "female", sex == "male", age, empty == "",
            port == "", port == "C", port == "Q", port == "S", float(fare),
        ])
    return names, np.array(rows, dtype=float)


def library_probabilities(model_path: Path, columns: dict[str, list[str]]) -> np.ndarray:
    checkpoint = load_checkpoint(model_path)
    card = checkpoint.metadata["command_line"]
    names, raw = expected_features(columns)
    order = [names.index(feature) for feature in card["features"]]  # the model's input order
    X = (raw[:, order] - card["x_mean"]) / card["x_scale"]
    return sigmoid(checkpoint.model.predict(X)[:, 0])


def test_text_columns_are_one_hot_and_empty_cells_imputed_as_documented(trained):
    out = trained.result.out
    assert "left out: 'name': text with" in out and "is not a category" in out
    card = load_checkpoint(trained.model).metadata["command_line"]
    assert card["version"] == 2
    assert sorted(card["features"]) == sorted(expected_features({k: [] for k in HEADER})[0])
    by_name = {spec["name"]: spec for spec in card["columns"]}
    assert set(by_name) == {"sex", "age", "port", "fare"}  # id dropped, name left out
    assert by_name["age"] == {"name": "age", "kind": "number", "median": 30.0, "indicator": True}
    assert by_name["fare"]["indicator"] is False
    assert by_name["port"] == {"name": "port", "kind": "category", "categories": ["", "C", "Q", "S"]}
    # One-hot and indicator features are left as 0 and 1; numbers are standardized.
    for feature, mean, scale in zip(card["features"], card["x_mean"], card["x_scale"], strict=True):
        if "=" in feature or feature.endswith("(missing)"):
            assert (mean, scale) == (0.0, 1.0)


def test_predict_and_evaluate_apply_the_stored_encoding_in_any_column_order(trained, here, capsys):
    columns = read_csv(trained.data)
    expected = library_probabilities(trained.model, columns)
    assert call(capsys, "predict", str(trained.model), str(trained.data), "--output", "a.csv").status == 0
    reordered = ["fare", "survived", "port", "extra", "age", "sex", "name"]
    rows = [[*(columns[name][i] for name in reordered[:3]), "x", *(columns[name][i] for name in reordered[4:])]
            for i in range(len(columns["id"]))]
    write_csv(here / "reordered.csv", reordered, rows)
    assert call(capsys, "predict", str(trained.model), "reordered.csv", "--output", "b.csv").status == 0
    first, second = read_csv(here / "a.csv"), read_csv(here / "b.csv")
    assert first == second
    np.testing.assert_allclose([float(p) for p in first["probability_1"]], expected, rtol=1e-12)
    # Parquet, with its own types, gives the same.
    table = {name: columns[name] for name in ("sex", "port", "name")}
    table["age"] = [float(value) if value else None for value in columns["age"]]
    table["fare"] = [float(value) for value in columns["fare"]]
    pq.write_table(pa.table(table), here / "typed.parquet")
    assert call(capsys, "predict", str(trained.model), "typed.parquet", "--output", "c.csv").status == 0
    assert read_csv(here / "c.csv") == first
    result = call(capsys, "evaluate", str(trained.model), "reordered.csv", "--json")
    assert result.status == 0, result.err
    truth = np.array([float(value) for value in columns["survived"]])
    p = np.clip(expected, 1e-300, 1)
    q = np.clip(1 - expected, 1e-300, 1)
    loss = -np.mean(truth * np.log(p) + (1 - truth) * np.log(q))
    assert json.loads(result.out)["metrics"]["loss"] == pytest.approx(loss, rel=1e-9)


def test_unseen_categories_are_all_zeros_and_counted(trained, here, capsys):
    columns = read_csv(trained.data)
    new = {name: values[:10] for name, values in columns.items()}
    new["sex"] = ["other"] * 3 + new["sex"][3:]
    new["port"] = [*new["port"][:5], "Z", "Z", *new["port"][7:]]
    new["age"] = ["", *new["age"][1:]]
    write_csv(here / "new.csv", list(new), [list(row) for row in zip(*new.values(), strict=True)])
    result = call(capsys, "predict", str(trained.model), "new.csv", "--keep", "id", "--output", "p.csv")
    assert result.status == 0, result.err
    assert "5 of 10 rows had a category not seen in training ('sex': 3, 'port': 2)" in result.out
    predicted = read_csv(here / "p.csv")
    assert list(predicted) == ["id", "prediction", "probability_0", "probability_1"]
    assert predicted["id"] == new["id"]
    np.testing.assert_allclose(
        [float(p) for p in predicted["probability_1"]], library_probabilities(trained.model, new), rtol=1e-12
    )
    # To standard output, the note goes to standard error.
    result = call(capsys, "predict", str(trained.model), "new.csv")
    assert result.status == 0 and "5 of 10 rows had a category not seen" in result.err
    assert result.out.splitlines()[0] == "prediction,probability_0,probability_1"


def test_drop_leaves_any_column_out(here, capsys):
    data = write_csv(here / "passengers.csv", HEADER, passengers(120))
    result = call(capsys, "train", str(data), "--drop", "id,name", "--drop", "fare", "--epochs", "1", "--out", "run")
    assert result.status == 0, result.err
    assert "left out" not in result.out
    card = load_checkpoint(here / "run" / "model.npz").metadata["command_line"]
    assert [spec["name"] for spec in card["columns"]] == ["sex", "age", "port"]
    # predict does not need the columns left out.
    columns = read_csv(data)
    write_csv(here / "few.csv", ["sex", "age", "port"],
              [list(row) for row in zip(columns["sex"], columns["age"], columns["port"], strict=True)])
    assert call(capsys, "predict", "run/model.npz", "few.csv", "--output", "p.csv").status == 0
    message = call(capsys, "train", str(data), "--drop", "Fare").err
    assert "no column 'Fare' (given with --drop)" in message and "did you mean 'fare'" in message
    assert "names the target column" in call(capsys, "train", str(data), "--drop", "survived").err


def test_a_column_of_numbers_with_a_stray_word_is_an_error_naming_the_row(here, capsys):
    rows = [[i, "n/a" if i == 6 else i * 0.5, i % 2] for i in range(20)]
    write_csv(here / "stray.csv", ["a", "b", "y"], rows)
    result = call(capsys, "train", "stray.csv")
    assert result.status == 2
    assert "column 'b', row 7: 'n/a' is not a number" in result.err and "--drop b" in result.err


def test_a_model_file_of_version_1_still_loads_and_predicts(here, capsys):
    """The layout written before text columns were taken: features, x_mean, x_scale, no columns."""
    model = Sequential([Dense(2, 1, rng=0)])
    card = {
        "version": 1, "task": "binary", "loss": "binary_cross_entropy_with_logits", "features": ["a", "b"],
        "target": "y", "classes": [0, 1], "x_mean": np.array([1.0, 2.0]), "x_scale": np.array([2.0, 4.0]),
        "y_mean": None, "y_scale": None, "data": "old.csv",
    }
    model.save(here / "old.npz", metadata={"command_line": card})
    write_csv(here / "data.csv", ["b", "a", "y"], [[2.0, 3.0, 1], [6.0, 1.0, 0]])
    result = call(capsys, "predict", "old.npz", "data.csv", "--output", "p.csv")
    assert result.status == 0, result.err
    X = (np.array([[3.0, 2.0], [1.0, 6.0]]) - card["x_mean"]) / card["x_scale"]
    expected = sigmoid(model.predict(X)[:, 0])
    np.testing.assert_allclose([float(p) for p in read_csv(here / "p.csv")["probability_1"]], expected, rtol=1e-12)
    # An empty cell was never taken by a model of version 1: refused, naming the row.
    write_csv(here / "gap.csv", ["a", "b", "y"], [[1.0, "", 1]])
    result = call(capsys, "predict", "old.npz", "gap.csv")
    assert result.status == 2 and "column 'b', row 1 is empty" in result.err


def test_a_model_file_from_a_newer_version_says_to_upgrade_or_retrain(here, capsys):
    model = Sequential([Dense(1, 1, rng=0)])
    model.save(here / "new.npz", metadata={"command_line": {"version": 99}})
    write_csv(here / "data.csv", ["a"], [[1.0]])
    result = call(capsys, "predict", "new.npz", "data.csv")
    assert result.status == 2 and "model file version 99" in result.err and "train the model again" in result.err
