"""Carrying out ``neural-network train`` (its options and help are in :mod:`neural_network.cli.train`).

Read the table, choose the target and the task, train with a progress bar, then save
the model, the history, the plot and the held-out rows, and report the metrics.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import shlex
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neural_network.activations import get_activation
from neural_network.cli._errors import CommandError
from neural_network.cli._model_file import FEATURE_HINT
from neural_network.cli._plot import plot_losses
from neural_network.cli._progress import EpochProgress
from neural_network.cli._report import Report
from neural_network.cli._table import Table, read_table, write_table
from neural_network.cli._targets import infer_target
from neural_network.cli._training import Outcome, Settings, prepare, train

BUNDLED = "breast_cancer.csv"
"""The bundled file trained on when no DATA is given (see :mod:`neural_network.datasets`)."""

RUNS = Path("runs")
"""Where the default output folders go, under the working directory."""


def run_train(arguments: argparse.Namespace) -> int:
    report = Report(as_json=arguments.json)
    get_activation(arguments.activation)  # an unknown name is an error now, with a suggestion
    if arguments.out is not None and Path(arguments.out).exists() and not Path(arguments.out).is_dir():
        raise CommandError(f"--out {arguments.out!r} is a file; give a folder (it is created if needed).")
    with _data_file(arguments.data) as path:
        table = read_table(str(path))
    described = "the bundled breast-cancer data" if arguments.data is None else arguments.data
    report.note("data", f"{described}: {table.rows:,} rows, {len(table.columns)} columns")

    name, why = _target_column(table, arguments.target)
    report.note("target", f"{name!r} ({why})")
    features = [column for column in table.columns if column != name]
    if not features:
        raise CommandError(f"{table.path} has only the target column {name!r}; a network needs features too.")
    X = np.column_stack([table.numbers(column, FEATURE_HINT) for column in features])
    target = infer_target(table.values(name), name, arguments.task)
    report.note("task", target.reason)

    settings = Settings(
        hidden=arguments.hidden, activation=arguments.activation, epochs=arguments.epochs,
        batch_size=arguments.batch_size, optimizer=arguments.optimizer, learning_rate=arguments.learning_rate,
        test_split=arguments.test_split, seed=arguments.seed,
    )
    data_name = "breast_cancer" if arguments.data is None else Path(arguments.data).stem
    prepared = prepare(X, target, features=features, target_name=name, data=described, settings=settings)
    report.note(
        "features", f"{len(features)} columns, standardized with the training rows' mean and standard deviation"
        + (" (the target too)" if target.task == "regression" else ""),
    )
    stratified = ", stratified by class" if target.classes is not None else ""
    report.note(
        "split", f"{len(prepared.train_rows):,} rows to train, {len(prepared.test_rows):,} to test "
        f"(--test-split {settings.test_split}{stratified}, --seed {settings.seed})",
    )
    layers = " -> ".join([str(len(features)), *(f"{size} {settings.activation}" for size in settings.hidden),
                          str(target.outputs)])
    report.note(
        "network", f"{layers}; loss {target.loss}; {settings.optimizer} (learning rate "
        f"{settings.learning_rate}); {settings.epochs} epochs of batches of {settings.batch_size}",
    )

    progress = EpochProgress(report.console, settings.epochs, enabled=report.live, loss_scale=prepared.loss_scale)
    with progress:
        outcome = train(prepared, target, settings, callbacks=[progress])

    folder = _output_folder(arguments.out, data_name)
    saved = _save(outcome, table, folder, data_name, Path(table.path).suffix.lower())
    if report.as_json:
        report.json({"task": target.task, "loss": target.loss, "epochs": outcome.epochs, "metrics": outcome.metrics})
    else:
        rows = {"train": len(outcome.train_rows), "test": len(outcome.test_rows)}
        report.metrics(f"after {outcome.epochs} epochs", outcome.metrics, rows)
    report.note("saved", f"{', '.join(path.name for path in saved)} in {folder}")
    model_file, _, _, test_file = (shlex.quote(str(path)) for path in saved)
    report.note("next", f"neural-network evaluate {model_file} {test_file}")
    return 0


@contextlib.contextmanager
def _data_file(data: str | None) -> Iterator[Path]:
    """The file to read: DATA, or the bundled breast-cancer file."""
    if data is not None:
        yield Path(data)
        return
    with importlib.resources.as_file(importlib.resources.files("neural_network.datasets") / "data" / BUNDLED) as path:
        yield path


def _target_column(table: Table, given: str | None) -> tuple[str, str]:
    """The target's name, and why it was chosen."""
    if given is not None:
        table.require([given], "given with --target")
        return given, "given with --target"
    if "target" in table.columns:
        return "target", "the column named 'target'; choose another with --target"
    return table.columns[-1], "the last column; choose another with --target"


def _output_folder(given: str | None, data_name: str) -> Path:
    """``--out`` (created if needed), or a new folder ``runs/<data>-<n>`` that did not exist."""
    try:
        if given is not None:
            folder = Path(given)
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        RUNS.mkdir(exist_ok=True)
        number = 1
        while True:
            folder = RUNS / f"{data_name}-{number}"
            try:
                folder.mkdir()  # fails if the folder exists: another run's files are never replaced
            except FileExistsError:
                number += 1
            else:
                return folder
    except OSError as error:
        raise CommandError(f"cannot create the output folder: {error}") from None


def _save(outcome: Outcome, table: Table, folder: Path, data_name: str, suffix: str) -> list[Path]:
    """Write model.npz, history.csv, loss.png and the held-out rows; return their paths."""
    model, history, card = outcome.model, outcome.history, outcome.card
    paths = [folder / "model.npz", folder / "history.csv", folder / "loss.png", folder / f"test-split{suffix}"]
    try:
        model.save(paths[0], metadata=card.metadata())
        write_table(history, str(paths[1]))
        units = " (squared target units)" if card.task == "regression" else ""
        plot_losses(
            str(paths[2]), history["loss"], history["val_loss"],
            title=f"{data_name}: loss per epoch", loss_name=f"{card.loss}{units}",
        )
        write_table(table.subset(outcome.test_rows), str(paths[3]))
    except OSError as error:
        raise CommandError(f"cannot write to {str(folder)!r}: {error}") from None
    return paths
