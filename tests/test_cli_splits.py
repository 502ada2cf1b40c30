"""``neural-network train``'s three splits, early stopping, divergence and regularization flags.

The expected values come from outside the command: the split is checked by set
arithmetic on row ids written into the data; the test rows' influence by training twice
on files that differ only there; the epoch kept by early stopping against a second run
that simply stops at that epoch, and against the minimum of history.csv read back with
the ``csv`` module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import call, read_csv, write_csv
from neural_network import load_checkpoint
from neural_network.cli._targets import infer_target
from neural_network.cli._training import split_rows


def train_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict:
    result = call(capsys, "train", *arguments, "--json")
    assert result.status == 0, result.err
    return json.loads(result.out)


def weights(path: Path) -> list[np.ndarray]:
    return [parameter.value for parameter in load_checkpoint(path).model.parameters()]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def classification_rows(count: int = 200, seed: int = 5) -> list[list[object]]:
    """Rows ``id, a, b, c, label``: a noisy linear boundary, so that a wide network overfits."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(count, 3))
    label = (X @ np.array([1.0, -1.0, 0.5]) + rng.normal(scale=1.0, size=count) > 0).astype(int)
    return [[index, *x, int(y)] for index, (x, y) in enumerate(zip(X.tolist(), label, strict=True))]


HEADER = ["id", "a", "b", "c", "label"]


# --------------------------------------------------------------------------- the split


@pytest.mark.parametrize(("test", "validation"), [(0.2, 0.2), (0.3, 0.1), (0.1, 0.0)])
def test_the_three_parts_cover_every_row_once_and_keep_each_class_share(test, validation):
    labels = np.array(["yes"] * 130 + ["no"] * 70)
    target = infer_target(labels.tolist(), "label", "auto")
    split = split_rows(target, test, validation, np.random.default_rng(3))
    parts = [set(split.train.tolist()), set(split.validation.tolist()), set(split.test.tolist())]
    assert sum(len(part) for part in parts) == 200
    assert set().union(*parts) == set(range(200))
    for label, count in (("no", 70), ("yes", 130)):  # each class keeps its share in each part
        held = round(test * count)
        assert int(np.sum(labels[split.test] == label)) == held
        assert int(np.sum(labels[split.validation] == label)) == round(validation * (count - held))


def test_the_parts_are_disjoint_end_to_end_and_reported(here, capsys):
    data = write_csv(here / "data.csv", HEADER, classification_rows())
    report = train_json(capsys, str(data), "--drop", "id", "--epochs", "3", "--out", "run")
    # 200 rows: 0.2 held out per class, then 0.2 of the rest per class.
    labels = [row[-1] for row in classification_rows()]
    ones = sum(labels)
    zeros = len(labels) - ones
    test = round(0.2 * ones) + round(0.2 * zeros)
    validation = round(0.2 * (ones - round(0.2 * ones))) + round(0.2 * (zeros - round(0.2 * zeros)))
    assert report["rows"] == {"train": 200 - test - validation, "validation": validation, "test": test}
    held = read_csv(here / "run" / "test-split.csv")
    assert len(held["id"]) == test == len(set(held["id"]))
    assert list(held) == HEADER  # every column, as written in the file


def test_the_test_rows_never_influence_training(here, capsys):
    """Train twice on files that differ only in the test rows' features: the same model, bit for bit."""
    rows = classification_rows()
    first = write_csv(here / "first.csv", HEADER, rows)
    train_json(capsys, str(first), "--drop", "id", "--epochs", "5", "--out", "one")
    held = {int(value) for value in read_csv(here / "one" / "test-split.csv")["id"]}
    changed = [[row[0], *(1e3 * (index + 1) for index in range(3)), row[-1]] if row[0] in held else row
               for row in rows]
    second = write_csv(here / "second.csv", HEADER, changed)
    train_json(capsys, str(second), "--drop", "id", "--epochs", "5", "--out", "two")
    for mine, theirs in zip(weights(here / "one" / "model.npz"), weights(here / "two" / "model.npz"), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    one = load_checkpoint(here / "one" / "model.npz").metadata["command_line"]
    two = load_checkpoint(here / "two" / "model.npz").metadata["command_line"]
    np.testing.assert_array_equal(one["x_mean"], two["x_mean"])
    np.testing.assert_array_equal(one["x_scale"], two["x_scale"])
    assert read_csv(here / "one" / "history.csv") == read_csv(here / "two" / "history.csv")


# --------------------------------------------------------------------------- early stopping


def test_early_stopping_keeps_the_best_epochs_weights_exactly(here, capsys):
    data = write_csv(here / "data.csv", HEADER, classification_rows(120))
    common = (str(data), "--drop", "id", "--hidden", "64,64", "--learning-rate", "0.01")
    report = train_json(capsys, *common, "--patience", "3", "--epochs", "300", "--out", "stopped")
    best, ran = report["best_epoch"], report["epochs"]
    assert best < ran < 300
    assert ran - best in (3, 4)  # stopped once 3 epochs (the library's EarlyStopping: 3 more) brought nothing
    history = read_csv(here / "stopped" / "history.csv")
    losses = [float(value) for value in history["val_loss"]]
    assert len(losses) == ran
    assert losses.index(min(losses)) + 1 == best
    # A run that simply ends at the best epoch has the same weights, bit for bit.
    train_json(capsys, *common, "--no-early-stopping", "--epochs", str(best), "--out", "plain")
    for kept, plain in zip(weights(here / "stopped" / "model.npz"), weights(here / "plain" / "model.npz"),
                           strict=True):
        np.testing.assert_array_equal(kept, plain)
    card = load_checkpoint(here / "stopped" / "model.npz").metadata["command_line"]
    assert (card["best_epoch"], card["epochs"]) == (best, ran)


def test_the_table_says_which_epoch_was_kept(here, capsys):
    data = write_csv(here / "data.csv", HEADER, classification_rows(120))
    result = call(capsys, "train", str(data), "--drop", "id", "--learning-rate", "0.01", "--patience", "2",
                  "--out", "run")
    assert result.status == 0, result.err
    assert "kept epoch " in result.out and "the lowest validation loss" in result.out
    assert "epochs without improvement)" in result.out


def test_without_early_stopping_every_epoch_runs_and_the_last_is_kept(here, capsys):
    data = write_csv(here / "data.csv", HEADER, classification_rows(120))
    report = train_json(capsys, str(data), "--drop", "id", "--no-early-stopping", "--epochs", "7", "--out", "run")
    assert (report["epochs"], report["best_epoch"]) == (7, None)


def test_no_validation_split_means_no_validation_columns(here, capsys):
    data = write_csv(here / "data.csv", HEADER, classification_rows(120))
    report = train_json(capsys, str(data), "--drop", "id", "--validation-split", "0", "--epochs", "4",
                        "--out", "run")
    assert report["rows"]["validation"] == 0 and report["epochs"] == 4 and report["best_epoch"] is None
    assert set(report["metrics"]) == {"train", "test"}
    assert list(read_csv(here / "run" / "history.csv")) == ["epoch", "loss", "accuracy"]


def test_test_split_0_holds_out_no_rows_and_says_so(here, capsys):
    """``--test-split 0``: every row trains or validates, nothing is measured on test rows, no test file."""
    rows = classification_rows(120)
    data = write_csv(here / "data.csv", HEADER, rows)
    report = train_json(capsys, str(data), "--drop", "id", "--test-split", "0", "--epochs", "4", "--out", "run")
    labels = [row[-1] for row in rows]
    ones = sum(labels)
    validation = round(0.2 * ones) + round(0.2 * (len(labels) - ones))
    assert report["rows"] == {"train": 120 - validation, "validation": validation, "test": 0}
    assert set(report["metrics"]) == {"train", "validation"}
    assert sorted(path.name for path in (here / "run").iterdir()) == ["history.csv", "loss.png", "model.npz"]
    result = call(capsys, "train", str(data), "--drop", "id", "--test-split", "0", "--epochs", "4", "--out", "table")
    assert result.status == 0, result.err
    assert "0 to test (--test-split 0.0" in result.out
    assert "no rows held out (--test-split 0)" in result.out
    assert "test-split" not in result.out.split("saved:")[1].split("\n")[0]
    # The model is the one trained on the same rows: evaluate takes it as usual.
    assert call(capsys, "evaluate", "run/model.npz", str(data), "--json").status == 0


def test_a_validation_split_that_leaves_no_rows_is_refused(here, capsys):
    write_csv(here / "tiny.csv", ["a", "y"], [[i, i * 0.5] for i in range(5)])
    result = call(capsys, "train", "tiny.csv", "--validation-split", "0.05")
    assert result.status == 2
    assert "--validation-split 0.05" in result.err and "--no-early-stopping" in result.err


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--validation-split", "1", "argument --validation-split: must be at least 0 and below 1"),
        ("--patience", "0", "argument --patience: must be at least 1"),
        ("--weight-decay", "-1", "argument --weight-decay: must be a finite number of at least 0"),
        ("--dropout", "1", "argument --dropout: must be at least 0 and below 1"),
        ("--class-weight", "equal", "argument --class-weight: invalid choice: 'equal'"),
    ],
)
def test_bad_new_options_are_usage_errors(here, capsys, option, value, expected):
    result = call(capsys, "train", option, value)
    assert result.status == 2 and expected in result.err


# --------------------------------------------------------------------------- divergence


def test_a_diverging_run_exits_2_saves_nothing_and_warns_nothing(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = 1e3 * (X[:, 0] - X[:, 1])
    write_csv(tmp_path / "data.csv", ["x1", "x2", "target"], [[*x, value] for x, value in zip(X.tolist(), y, strict=True)])
    env = {**os.environ, "PYTHONWARNINGS": "error"}  # a NumPy RuntimeWarning would become an error
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-m", "neural_network", "train", "data.csv", "--optimizer", "sgd",
         "--learning-rate", "1000", "--out", "run"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neural-network train: training diverged in epoch ")
    assert "Lower --learning-rate (now 1000; try 100)" in lines[0]
    assert "Warning" not in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- regularization flags


def test_weight_decay_dropout_and_class_weight_are_used_and_seeded(here, capsys):
    rows = [row for row in classification_rows(240) if row[-1] == 1 or row[0] % 4 == 0]  # imbalanced
    data = write_csv(here / "data.csv", HEADER, rows)
    common = (str(data), "--drop", "id", "--epochs", "4", "--no-early-stopping", "--hidden", "16")
    train_json(capsys, *common, "--out", "plain")
    for option, value in (("--weight-decay", "0.1"), ("--dropout", "0.3"), ("--class-weight", "balanced")):
        first = train_json(capsys, *common, option, value, "--out", "one")
        second = train_json(capsys, *common, option, value, "--out", "two")
        assert first == second  # seeded: the same command, the same run
        for one, two in zip(weights(here / "one" / "model.npz"), weights(here / "two" / "model.npz"), strict=True):
            np.testing.assert_array_equal(one, two)
        differs = [
            not np.array_equal(one, plain)
            for one, plain in zip(weights(here / "one" / "model.npz"), weights(here / "plain" / "model.npz"),
                                  strict=True)
        ]
        assert any(differs), option


def test_class_weight_needs_classes(here, capsys):
    write_csv(here / "data.csv", ["x", "target"], [[i, i * 0.37] for i in range(30)])
    result = call(capsys, "train", "data.csv", "--class-weight", "balanced")
    assert result.status == 2 and "a regression target has none" in result.err


def test_weight_decay_is_decoupled_for_every_optimizer(here, capsys, monkeypatch):
    from neural_network.cli import _training

    made = []
    real = _training.get_optimizer

    def recording(name, **options):
        made.append((name, options))
        return real(name, **options)

    monkeypatch.setattr(_training, "get_optimizer", recording)
    data = write_csv(here / "data.csv", HEADER, classification_rows(60))
    for optimizer in ("sgd", "adam", "rmsprop", "adamw"):
        train_json(capsys, str(data), "--drop", "id", "--epochs", "1", "--optimizer", optimizer,
                   "--weight-decay", "0.05", "--out", "run")
    assert made == [
        (name, {"learning_rate": 0.001, "weight_decay": 0.05, "decoupled_weight_decay": True})
        for name in ("sgd", "adam", "rmsprop", "adamw")
    ]


def test_the_measured_defaults_reach_the_network_and_the_optimizer(here, capsys, monkeypatch):
    """One hidden layer of 32 ReLU units, Glorot's initialization, Adam with decoupled weight decay 1."""
    from neural_network.cli import _training

    made = []
    real = _training.get_optimizer

    def recording(name, **options):
        made.append((name, options))
        return real(name, **options)

    monkeypatch.setattr(_training, "get_optimizer", recording)
    data = write_csv(here / "data.csv", HEADER, classification_rows(60))
    train_json(capsys, str(data), "--drop", "id", "--epochs", "1", "--out", "run")
    assert made == [("adam", {"learning_rate": 0.001, "weight_decay": 1.0, "decoupled_weight_decay": True})]
    dense = [layer for layer in load_checkpoint(here / "run" / "model.npz").model.layers if hasattr(layer, "weights")]
    assert [(layer.in_features, layer.out_features) for layer in dense] == [(3, 32), (32, 1)]
    model = _training.build(3, (32,), "relu", 1, np.random.default_rng(0), init="glorot")
    assert [layer.init for layer in model.layers] == ["glorot", "glorot"]
    limit = np.sqrt(6 / (3 + 32))
    assert np.all(np.abs(model.layers[0].weights) <= limit)
