"""``neural-network train``, ``evaluate`` and ``predict``, end to end.

Every command runs in a subprocess through both real entry points (``python -m
neural_network`` and the console script) on the bundled data; more cases run through
``neural_network.cli.main`` in this process (the same code path after the interpreter
starts), on small files generated here.

The expected values do not come from the command line: files are read back with the
standard library's ``csv`` module, losses are computed with the library's loss functions
on the model loaded with ``load_checkpoint`` and the inputs standardized here, and
accuracy, R² and RMSE come from scikit-learn.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from matplotlib.image import imread
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

from cli_helpers import call, read_csv, write_csv
from neural_network import binary_cross_entropy_with_logits, cross_entropy, load_checkpoint, sigmoid, softmax
from neural_network.cli.train import OPTIMIZERS
from neural_network.optimizers import OPTIMIZERS as LIBRARY_OPTIMIZERS

SCRIPT = Path(sys.executable).parent / ("neural-network.exe" if sys.platform == "win32" else "neural-network")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEAVY = ("rich", "pyarrow", "matplotlib")

TRAIN_KEYS = {"task", "loss", "epochs", "best_epoch", "weight_decay", "rows", "metrics"}
PARTS = {"train", "validation", "test"}
EVALUATE_KEYS = {"task", "loss", "rows", "metrics"}
CLASSIFICATION_METRICS = {"loss", "accuracy"}
REGRESSION_METRICS = {"loss", "r2", "rmse"}


# --------------------------------------------------------------------------- running the commands


def command(entry_point: str) -> list[str]:
    if entry_point == "module":
        return [sys.executable, "-m", "neural_network"]
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed next to the interpreter: {SCRIPT} does not exist")
    return [str(SCRIPT)]


def run(entry_point: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command in a subprocess, every Python warning an error (the commands promise none)."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [*command(entry_point), *arguments], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def fails(capsys, *arguments: str, status: int = 2) -> str:
    """Run a command that must fail with ``status`` and one message, no traceback; return the message."""
    result = call(capsys, *arguments)
    assert result.status == status, (result.out, result.err)
    assert "Traceback" not in result.err
    assert result.err.strip(), "an error must be explained"
    return result.err


# --------------------------------------------------------------------------- data made here


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> SimpleNamespace:
    """Three small files: binary labels 1/2 (target in the middle), three text classes
    (Parquet), and a regression target named 'target' in the first column."""
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(7)

    X = rng.normal(size=(80, 3))
    label = np.where(X @ np.array([1.5, -2.0, 0.5]) > 0, 2, 1)
    binary = write_csv(
        folder / "binary.csv", ["f1", "label", "f2", "f3"],
        [[x[0], int(y), x[1], x[2]] for x, y in zip(X.tolist(), label, strict=True)],
    )

    centers = np.array([[0, 0, 0, 0], [3, 3, 0, 0], [0, 3, 3, 3]], dtype=float)
    species = np.repeat(["setosa", "versicolor", "virginica"], 30)
    Xm = centers[np.repeat([0, 1, 2], 30)] + rng.normal(size=(90, 4))
    multiclass = folder / "flowers.parquet"
    pq.write_table(
        pa.table({"a": Xm[:, 0], "b": Xm[:, 1], "c": Xm[:, 2], "d": Xm[:, 3], "species": species.tolist()}),
        multiclass,
    )

    Xr = rng.normal(size=(100, 2))
    yr = 100 + 3 * Xr[:, 0] - 2 * Xr[:, 1] + 0.1 * rng.normal(size=100)
    regression = write_csv(
        folder / "regression.csv", ["target", "x1", "x2"],
        [[y, x[0], x[1]] for x, y in zip(Xr.tolist(), yr.tolist(), strict=True)],
    )
    return SimpleNamespace(folder=folder, binary=binary, multiclass=multiclass, regression=regression)


def standardized(model_path: Path, columns: dict[str, list[float]]) -> tuple[object, dict, np.ndarray]:
    """The model, its command-line metadata and the file's features standardized as it says."""
    checkpoint = load_checkpoint(model_path)
    card = checkpoint.metadata["command_line"]
    X = np.array([[float(value) for value in columns[name]] for name in card["features"]]).T
    return checkpoint.model, card, (X - card["x_mean"]) / card["x_scale"]


# --------------------------------------------------------------------------- the bundled data, both entry points


@pytest.fixture(
    scope="module", params=["module", "script"], ids=["python -m neural_network", "neural-network"]
)
def bundled(request, tmp_path_factory) -> SimpleNamespace:
    """``train`` (defaults but 3 epochs), then ``evaluate --json`` and ``predict`` on the held-out rows."""
    cwd = tmp_path_factory.mktemp("bundled")
    trained = run(request.param, "train", "--epochs", "3", cwd=cwd)
    folder = cwd / "runs" / "breast_cancer-1"
    model, test = folder / "model.npz", folder / "test-split.csv"
    evaluated = run(request.param, "evaluate", str(model), str(test), "--json", cwd=cwd)
    predicted = run(request.param, "predict", str(model), str(test), cwd=cwd)
    return SimpleNamespace(
        cwd=cwd, folder=folder, model=model, test=test, trained=trained, evaluated=evaluated, predicted=predicted
    )


def test_train_on_the_bundled_data_says_what_it_does_and_leaves_its_files(bundled):
    trained = bundled.trained
    assert trained.returncode == 0, trained.stderr
    assert trained.stderr == ""
    assert "task: binary (column 'diagnosis' has 2 values: benign = class 0, malignant = class 1)" in trained.stdout
    assert "target: 'diagnosis' (the last column" in trained.stdout
    assert "epoch 3/3" in trained.stdout  # the progress bar's last state
    for metric in ("loss", "accuracy", "rows"):
        assert metric in trained.stdout
    assert "runs/breast_cancer-1" in trained.stdout.replace(os.sep, "/")
    assert sorted(path.name for path in bundled.folder.iterdir()) == [
        "history.csv", "loss.png", "model.npz", "test-split.csv"
    ]


def test_the_held_out_rows_are_a_stratified_fifth_of_the_bundled_data(bundled):
    labels = read_csv(bundled.test)["diagnosis"]
    # 212 malignant and 357 benign tumours: round(0.2 * 212) = 42 and round(0.2 * 357) = 71.
    assert (labels.count("malignant"), labels.count("benign")) == (42, 71)
    assert len(read_csv(bundled.test)) == 31  # every column, as in the bundled file


def test_history_has_one_row_per_epoch(bundled):
    history = read_csv(bundled.folder / "history.csv")
    assert list(history) == ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"]
    assert history["epoch"] == ["1", "2", "3"]
    assert all(math.isfinite(float(value)) for column in history.values() for value in column)


def test_the_plot_is_a_real_png(bundled):
    path = bundled.folder / "loss.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    assert image.shape == (500, 800, 4)  # 8 x 5 inches at 100 dpi, RGBA
    assert image[..., :3].std() > 0.05  # not a blank image: axes, curves and text are drawn


def test_evaluate_on_the_held_out_rows_matches_the_library_and_scikit_learn(bundled):
    evaluated = bundled.evaluated
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stderr == ""
    report = json.loads(evaluated.stdout)
    assert set(report) == EVALUATE_KEYS and set(report["metrics"]) == CLASSIFICATION_METRICS
    assert (report["task"], report["loss"], report["rows"]) == ("binary", "binary_cross_entropy_with_logits", 113)

    columns = read_csv(bundled.test)
    model, card, X = standardized(bundled.model, columns)
    assert card["classes"] == ["benign", "malignant"]
    y = np.array([card["classes"].index(label) for label in columns["diagnosis"]], dtype=float)
    logits = model.predict(X)
    expected = float(binary_cross_entropy_with_logits(logits, y.reshape(-1, 1)))
    assert report["metrics"]["loss"] == pytest.approx(expected, rel=1e-12)

    predicted = read_csv_text(bundled.predicted.stdout)
    assert report["metrics"]["accuracy"] == accuracy_score(columns["diagnosis"], predicted["prediction"])


def read_csv_text(text: str) -> dict[str, list[str]]:
    rows = list(csv.reader(text.splitlines()))
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}


def test_predict_writes_labels_and_the_sigmoid_of_the_logits(bundled):
    predicted = bundled.predicted
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stderr == ""
    columns = read_csv_text(predicted.stdout)
    assert list(columns) == ["prediction", "probability_benign", "probability_malignant"]
    model, _, X = standardized(bundled.model, read_csv(bundled.test))
    z = model.predict(X)[:, 0]
    assert [float(p) for p in columns["probability_malignant"]] == pytest.approx(sigmoid(z).tolist(), rel=1e-12)
    assert [float(p) for p in columns["probability_benign"]] == pytest.approx(sigmoid(-z).tolist(), rel=1e-12)
    assert columns["prediction"] == ["malignant" if value > 0 else "benign" for value in z]


def test_train_json_is_one_object_with_the_documented_keys(tmp_path, entry_point="module"):
    completed = run(entry_point, "train", "--epochs", "2", "--json", "--out", "out", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)  # the whole of standard output is one JSON object
    assert set(report) == TRAIN_KEYS
    assert (report["task"], report["loss"], report["epochs"]) == ("binary", "binary_cross_entropy_with_logits", 2)
    assert set(report["metrics"]) == set(report["rows"]) == PARTS
    # 569 rows: 113 held out to test (stratified), a fifth of the other 456 to validate.
    assert report["rows"] == {"train": 365, "validation": 91, "test": 113}
    assert report["best_epoch"] in (1, 2)
    assert all(set(part) == CLASSIFICATION_METRICS for part in report["metrics"].values())
    assert "task: binary" in completed.stderr  # the notes go to standard error
    assert (tmp_path / "out" / "model.npz").exists()


@pytest.mark.parametrize("entry_point", ["module", "script"])
def test_errors_exit_2_with_one_message_and_no_traceback(entry_point, tmp_path):
    completed = run(entry_point, "train", "no-such-file.csv", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        f"neural-network train: no file 'no-such-file.csv' (looked in {str(tmp_path.resolve())!r}); check the path."
    )
    assert completed.stdout == ""
    assert not (tmp_path / "runs").exists()


def test_the_parser_imports_none_of_the_heavy_libraries(tmp_path):
    """``import neural_network.cli`` and every ``--help`` leave Rich, PyArrow and Matplotlib unimported."""
    code = (
        "import contextlib, io, sys\n"
        "import neural_network.cli\n"
        "for argv in (['--help'], ['train', '--help'], ['evaluate', '--help'], ['predict', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        neural_network.cli.main(argv)\n"
        f"print(sorted({{name.split('.')[0] for name in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


# --------------------------------------------------------------------------- more cases, in this process


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default output folder is made under the working directory
    return tmp_path


def train_json(capsys, *arguments: str) -> dict:
    result = call(capsys, "train", *arguments, "--json")
    assert result.status == 0, result.err
    return json.loads(result.out)


def evaluate_json(capsys, model: Path, data: Path) -> dict:
    result = call(capsys, "evaluate", str(model), str(data), "--json")
    assert result.status == 0, result.err
    return json.loads(result.out)


def test_binary_labels_1_and_2_are_classes_0_and_1_and_predictions_give_them_back(data, here, capsys):
    report = train_json(capsys, str(data.binary), "--target", "label", "--epochs", "3", "--out", "run")
    assert report["task"] == "binary"
    result = call(capsys, "train", str(data.binary), "--target", "label", "--epochs", "1", "--out", "again")
    assert "task: binary (column 'label' has 2 values: 1 = class 0, 2 = class 1)" in result.out

    columns = read_csv(data.binary)
    model, _, X = standardized(here / "run" / "model.npz", columns)
    y = np.array([float(label) - 1 for label in columns["label"]])
    evaluated = evaluate_json(capsys, here / "run" / "model.npz", data.binary)
    logits = model.predict(X)
    assert evaluated["metrics"]["loss"] == pytest.approx(
        float(binary_cross_entropy_with_logits(logits, y.reshape(-1, 1))), rel=1e-12
    )
    assert call(capsys, "predict", str(here / "run" / "model.npz"), str(data.binary), "--output", "p.csv").status == 0
    predicted = read_csv(here / "p.csv")
    assert set(predicted["prediction"]) <= {"1", "2"}
    assert evaluated["metrics"]["accuracy"] == accuracy_score(columns["label"], predicted["prediction"])
    assert evaluated["rows"] == 80


def test_train_metrics_on_the_test_split_are_what_evaluate_measures_on_it(data, here, capsys):
    """The held-out file reproduces the test rows exactly: same loss, same accuracy."""
    report = train_json(capsys, str(data.binary), "--target", "label", "--epochs", "3", "--out", "run")
    evaluated = evaluate_json(capsys, here / "run" / "model.npz", here / "run" / "test-split.csv")
    assert evaluated["metrics"] == report["metrics"]["test"]
    history = read_csv(here / "run" / "history.csv")
    assert len(history["epoch"]) == report["epochs"] == 3
    # The validation loss of the kept epoch is the validation loss of the final model.
    kept = float(history["val_loss"][report["best_epoch"] - 1])
    assert kept == pytest.approx(report["metrics"]["validation"]["loss"], rel=1e-12)
    assert kept == min(float(value) for value in history["val_loss"])


def test_text_classes_from_parquet_are_multiclass(data, here, capsys):
    report = train_json(capsys, str(data.multiclass), "--epochs", "5", "--hidden", "8", "--out", "run")
    assert report["task"] == "multiclass" and report["loss"] == "cross_entropy"
    assert set(report["metrics"]["test"]) == CLASSIFICATION_METRICS
    assert (here / "run" / "test-split.parquet").exists()

    table = pq.read_table(data.multiclass).to_pydict()
    model, card, X = standardized(here / "run" / "model.npz", table)
    assert card["classes"] == ["setosa", "versicolor", "virginica"]
    y = np.array([card["classes"].index(label) for label in table["species"]])
    evaluated = evaluate_json(capsys, here / "run" / "model.npz", data.multiclass)
    logits = model.predict(X)
    assert evaluated["metrics"]["loss"] == pytest.approx(float(cross_entropy(logits, y)), rel=1e-12)

    assert call(capsys, "predict", str(here / "run" / "model.npz"), str(data.multiclass), "--output", "p.parquet").status == 0
    predicted = pq.read_table(here / "p.parquet").to_pydict()
    assert list(predicted) == ["prediction", *(f"probability_{label}" for label in card["classes"])]
    probabilities = np.column_stack([predicted[f"probability_{label}"] for label in card["classes"]])
    np.testing.assert_allclose(probabilities, softmax(logits, axis=1), rtol=1e-12)
    assert evaluated["metrics"]["accuracy"] == accuracy_score(table["species"], predicted["prediction"])


def test_a_column_named_target_is_the_default_and_regression_is_in_its_units(data, here, capsys):
    result = call(capsys, "train", str(data.regression), "--epochs", "30", "--out", "run")
    assert result.status == 0, result.err
    assert "target: 'target' (the column named 'target'" in result.out
    assert "task: regression (column 'target' holds 100 distinct numbers in 100 rows)" in result.out
    for metric in ("r2", "rmse"):
        assert metric in result.out

    model_path = here / "run" / "model.npz"
    evaluated = evaluate_json(capsys, model_path, data.regression)
    assert set(evaluated) == EVALUATE_KEYS and set(evaluated["metrics"]) == REGRESSION_METRICS
    assert call(capsys, "predict", str(model_path), str(data.regression), "--output", "p.csv").status == 0
    predicted = [float(value) for value in read_csv(here / "p.csv")["prediction"]]
    truth = [float(value) for value in read_csv(data.regression)["target"]]
    assert evaluated["metrics"]["loss"] == pytest.approx(mean_squared_error(truth, predicted), rel=1e-9)
    assert evaluated["metrics"]["rmse"] == pytest.approx(math.sqrt(mean_squared_error(truth, predicted)), rel=1e-9)
    assert evaluated["metrics"]["r2"] == pytest.approx(r2_score(truth, predicted), rel=1e-9)
    assert evaluated["metrics"]["r2"] > 0.5  # 30 epochs learn most of a linear target

    history = read_csv(here / "run" / "history.csv")
    assert list(history) == ["epoch", "loss", "val_loss", "r2", "val_r2", "rmse", "val_rmse"]


def test_predict_finds_features_by_name_in_any_order_and_ignores_other_columns(data, here, capsys):
    train_json(capsys, str(data.regression), "--epochs", "2", "--out", "run")
    columns = read_csv(data.regression)
    shuffled = write_csv(
        here / "shuffled.csv", ["note", "x2", "x1"],
        [["n", x2, x1] for x1, x2 in zip(columns["x1"], columns["x2"], strict=True)],
    )
    model = str(here / "run" / "model.npz")
    assert call(capsys, "predict", model, str(data.regression), "--output", "a.csv").status == 0
    assert call(capsys, "predict", model, str(shuffled), "--output", "b.csv").status == 0
    assert read_csv(here / "a.csv") == read_csv(here / "b.csv")


def test_the_same_seed_gives_the_same_training(data, here, capsys):
    arguments = (str(data.multiclass), "--epochs", "3", "--hidden", "4")
    train_json(capsys, *arguments, "--out", "one")
    train_json(capsys, *arguments, "--out", "two")
    train_json(capsys, *arguments, "--out", "three", "--seed", "1")
    one, two, three = (read_csv(here / name / "history.csv") for name in ("one", "two", "three"))
    assert one == two
    assert one != three


def test_the_default_folder_is_new_every_time(data, here, capsys):
    for _ in range(2):
        train_json(capsys, str(data.multiclass), "--epochs", "1", "--hidden", "")
    assert sorted(path.name for path in (here / "runs").iterdir()) == ["flowers-1", "flowers-2"]


def test_an_explicit_task_that_fits_is_used(data, here, capsys):
    report = train_json(capsys, str(data.binary), "--target", "label", "--task", "multiclass", "--epochs", "1",
                        "--out", "run")
    assert (report["task"], report["loss"]) == ("multiclass", "cross_entropy")
    report = train_json(capsys, str(data.binary), "--target", "label", "--task", "regression", "--epochs", "1",
                        "--out", "run")
    assert set(report["metrics"]["test"]) == REGRESSION_METRICS


def test_the_optimizer_choices_are_the_librarys():
    assert sorted(OPTIMIZERS) == sorted(LIBRARY_OPTIMIZERS)


# --------------------------------------------------------------------------- errors


def test_missing_file(here, capsys):
    assert "no file 'absent.csv'" in fails(capsys, "train", "absent.csv")
    assert "no model file 'absent.npz'" in fails(capsys, "evaluate", "absent.npz", "absent.csv")


def test_unsupported_extension(here, capsys):
    (here / "data.json").write_text("{}")
    assert "use a .csv or .parquet file" in fails(capsys, "train", "data.json")


def test_missing_target_column_lists_the_columns(data, here, capsys):
    message = fails(capsys, "train", str(data.binary), "--target", "Label")
    assert "no column 'Label'" in message
    assert "its columns are 'f1', 'label', 'f2', 'f3'" in message
    assert "did you mean 'label'" in message


def test_a_cell_that_is_not_a_number_is_named_by_row(here, capsys):
    write_csv(here / "bad.csv", ["a", "b", "y"], [[1, 2, 0], [3, 4, 1], [5, "n/a", 0], [7, 8, 1]])
    message = fails(capsys, "train", "bad.csv")
    assert "column 'b', row 3: 'n/a' is not a number" in message


def test_an_empty_target_cell_is_named_by_row(here, capsys):
    write_csv(here / "gap.csv", ["a", "b", "y"], [[1, 2, 0], [3, 4, ""], [5, 6, 0], [7, 8, 1]])
    assert "column 'y', row 2 is empty" in fails(capsys, "train", "gap.csv")


def test_a_row_with_too_few_cells_is_named_by_line(here, capsys):
    (here / "ragged.csv").write_text("a,b,y\n1,2,0\n3,4\n5,6,1\n")
    assert "line 3 has 2 cell(s) where the header has 3" in fails(capsys, "train", "ragged.csv")


def test_a_task_that_does_not_fit_the_target(data, here, capsys):
    write_csv(here / "three.csv", ["a", "y"], [[i, i % 3] for i in range(12)])
    assert "--task binary needs a target with exactly 2 values; column 'y' has 3: 0, 1, 2" in fails(
        capsys, "train", "three.csv", "--task", "binary"
    )
    assert "--task regression needs numbers; column 'species' holds text (row 1 holds 'setosa')" in fails(
        capsys, "train", str(data.multiclass), "--task", "regression"
    )
    write_csv(here / "one.csv", ["a", "y"], [[i, 5] for i in range(12)])
    assert "holds a single value" in fails(capsys, "train", "one.csv")


def test_text_with_too_many_values_for_classes(here, capsys):
    write_csv(here / "names.csv", ["a", "y"], [[i, f"name {i}"] for i in range(40)])
    message = fails(capsys, "train", "names.csv")
    assert "holds text with 40 distinct values: too many to be classes with --task auto" in message


def test_a_number_column_with_a_typo_names_the_row(here, capsys):
    write_csv(here / "typo.csv", ["a", "y"], [[i, "oops" if i == 4 else i * 1.5] for i in range(40)])
    assert "mixes numbers and text: row 5 holds 'oops'" in fails(capsys, "train", "typo.csv")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--hidden", "64,x", "argument --hidden: expected sizes separated by commas"),
        ("--hidden", "64,0", "argument --hidden: every layer needs at least 1 unit"),
        ("--epochs", "0", "argument --epochs: must be at least 1; got 0"),
        ("--batch-size", "-3", "argument --batch-size: must be at least 1"),
        ("--test-split", "-0.1", "argument --test-split: must be at least 0 and below 1"),
        ("--test-split", "1", "argument --test-split: must be at least 0 and below 1"),
        ("--test-split", "1.5", "argument --test-split: must be at least 0 and below 1"),
        ("--learning-rate", "nan", "argument --learning-rate: must be a finite number greater than 0"),
        ("--optimizer", "adamm", "argument --optimizer: invalid choice: 'adamm'"),
        ("--weight-decay", "automatic", "argument --weight-decay: must be a finite number of at least 0, or 'auto'"),
        ("--weight-decay", "inf", "argument --weight-decay: must be a finite number of at least 0, or 'auto'"),
    ],
)
def test_bad_options_are_usage_errors(here, capsys, option, value, expected):
    message = fails(capsys, "train", option, value)
    assert expected in message
    assert "usage: neural-network train" in message


def test_an_unknown_activation_suggests_the_name(here, capsys):
    assert "Did you mean 'relu'?" in fails(capsys, "train", "--activation", "ReLU")


def test_a_test_split_that_leaves_no_test_rows(here, capsys):
    write_csv(here / "tiny.csv", ["a", "y"], [[i, i * 0.5] for i in range(4)])
    assert "leaves 4 to train and 0 to test" in fails(capsys, "train", "tiny.csv", "--test-split", "0.1")


def test_a_file_that_is_not_a_model(data, here, capsys):
    assert "is not a model file" in fails(capsys, "evaluate", str(data.binary), str(data.binary))
    (here / "plain.npz").write_bytes(b"PK\x03\x04 but not a zip archive")
    assert "not a neural_network model file" in fails(capsys, "predict", "plain.npz", str(data.binary))


def test_a_model_saved_by_the_library_lacks_what_the_commands_need(data, here, capsys):
    from neural_network import Dense, Sequential

    Sequential([Dense(3, 1, rng=0)]).save("library.npz")
    assert "saved by model.save, not by `neural-network train`" in fails(
        capsys, "evaluate", "library.npz", str(data.binary)
    )


def test_feature_columns_missing_at_predict_time(data, here, capsys):
    train_json(capsys, str(data.regression), "--epochs", "1", "--out", "run")
    write_csv(here / "partial.csv", ["x1", "other"], [[1.0, 2.0]])
    message = fails(capsys, "predict", "run/model.npz", "partial.csv")
    assert "has no column 'x2' (the model's features); its columns are 'x1', 'other'" in message


def test_a_label_the_model_does_not_know(data, here, capsys):
    train_json(capsys, str(data.multiclass), "--epochs", "1", "--out", "run")
    write_csv(here / "new.csv", ["a", "b", "c", "d", "species"], [[0, 0, 0, 0, "setosa"], [1, 1, 1, 1, "rose"]])
    message = fails(capsys, "evaluate", "run/model.npz", "new.csv")
    assert "row 2: 'rose' is not one of the model's classes setosa, versicolor, virginica" in message


def test_predict_refuses_an_unknown_output_format_before_any_work(data, here, capsys):
    train_json(capsys, str(data.regression), "--epochs", "1", "--out", "run")
    assert "--output 'p.json' has the extension '.json'" in fails(
        capsys, "predict", "run/model.npz", str(data.regression), "--output", "p.json"
    )
    assert not (here / "p.json").exists()


def test_an_unexpected_error_is_one_line_with_status_1(data, here, capsys, monkeypatch):
    from neural_network.cli import _run_train

    def broken(*arguments, **options):
        raise RuntimeError("the plot broke")

    monkeypatch.setattr(_run_train, "plot_losses", broken)
    message = fails(capsys, "train", str(data.regression), "--epochs", "1", "--out", "run", status=1)
    assert message.strip().splitlines() == [
        "neural-network train: unexpected error: RuntimeError: the plot broke. This is a bug; please report "
        "it with the command you ran."
    ]


def test_a_target_mixing_numbers_and_text_names_the_row(here, capsys):
    write_csv(here / "marker.csv", ["a", "y"], [[i, "NA" if i == 6 else i % 2] for i in range(12)])
    message = fails(capsys, "train", "marker.csv")
    assert "mixes numbers and text: row 7 holds 'NA'" in message


def test_a_categorical_parquet_column_is_read_as_its_labels(here, capsys):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    labels = pa.array(np.where(X[:, 0] > 0, "yes", "no").tolist()).dictionary_encode()
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "answer": labels}), here / "categorical.parquet")
    result = call(capsys, "train", "categorical.parquet", "--epochs", "1", "--out", "run")
    assert result.status == 0, result.err
    assert "task: binary (column 'answer' has 2 values: no = class 0, yes = class 1)" in result.out


def test_an_infinite_or_nan_cell_is_named_by_row(here, capsys):
    write_csv(here / "inf.csv", ["a", "b", "y"], [[1, 2, 0], [3, "inf", 1], [5, 6, 0], [7, 8, 1]])
    assert "column 'b', row 2: inf is not a finite number" in fails(capsys, "train", "inf.csv")


# --------------------------------------------------------------------------- --weight-decay auto


def regression_table(path: Path, rows: int) -> Path:
    generator = np.random.default_rng(rows)
    x = generator.normal(size=(rows, 2))
    y = x[:, 0] - 2 * x[:, 1] + 0.1 * generator.normal(size=rows)
    table = np.column_stack([x, y])
    return write_csv(path, ["a", "b", "y"], [[float(value) for value in row] for row in table])


@pytest.mark.parametrize(
    ("rows", "extra", "expected"),
    [
        # Every row trains (no test or validation rows), so the rule reads the table's size:
        # min(1, sqrt(364 / rows)), worked by hand.
        (200, ("--weight-decay", "auto"), 1.0),  # fewer than 364 rows: 1
        (364, ("--weight-decay", "auto"), 1.0),  # the constant itself: sqrt(1) = 1
        (1456, ("--weight-decay", "auto"), 0.5),  # 4 x 364: sqrt(1/4)
        (3276, ("--weight-decay", "AUTO"), 1 / 3),  # 9 x 364
        (1456, (), 0.5),  # the default is the rule
        (1456, ("--weight-decay", "0.3"), 0.3),  # a number is used as given
        (1456, ("--weight-decay", "0"), 0.0),
    ],
)
def test_weight_decay_auto_shrinks_with_the_training_rows(here, capsys, monkeypatch, rows, extra, expected):
    from neural_network.cli import _training

    made = []
    real = _training.get_optimizer

    def recording(name, **options):
        made.append(options.get("weight_decay", 0.0))
        return real(name, **options)

    monkeypatch.setattr(_training, "get_optimizer", recording)
    data = regression_table(here / "data.csv", rows)
    report = train_json(capsys, str(data), "--target", "y", "--test-split", "0", "--validation-split", "0",
                        "--epochs", "1", "--out", "run", *extra)
    assert report["rows"] == {"train": rows, "validation": 0, "test": 0}
    assert report["weight_decay"] == pytest.approx(expected, rel=1e-15)
    assert made == [pytest.approx(expected, rel=1e-15)]  # the decay the optimizer was given


def test_the_rule_counts_only_the_rows_that_train(here, capsys):
    """1,820 rows: a fifth (364) held out to test, a fifth of the other 1,456 to validate, the rest train."""
    data = regression_table(here / "data.csv", 1820)
    report = train_json(capsys, str(data), "--target", "y", "--epochs", "1", "--out", "run",
                        "--weight-decay", "auto")
    train = report["rows"]["train"]
    assert report["rows"]["test"] == 364 and 1150 <= train <= 1170
    assert report["weight_decay"] == pytest.approx(math.sqrt(364 / train), rel=1e-15)
    result = call(capsys, "train", str(data), "--target", "y", "--epochs", "1", "--out", "again",
                  "--weight-decay", "auto")
    rule = f"min(1, sqrt(364 / {train:,} training rows))"
    assert f"weight decay {math.sqrt(364 / train):.3g} (auto: {rule})" in result.out
