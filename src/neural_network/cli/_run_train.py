"""Carrying out ``neural-network train`` (its options and help are in :mod:`neural_network.cli.train`).

Read the table, choose the target and the task, train with a progress bar, then save
the model, the history, the plot and the held-out rows, and report the metrics.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from neural_network.activations import get_activation
from neural_network.cli._errors import CommandError, missing_column
from neural_network.cli._features import Learned, kinds, learn
from neural_network.cli._plot import plot_losses
from neural_network.cli._progress import EpochProgress
from neural_network.cli._report import Report
from neural_network.cli._table import Table, copy_rows, read_table, write_table
from neural_network.cli._targets import Target, infer_target
from neural_network.cli._training import Outcome, Prepared, Settings, prepare, split_rows, streams, train
from neural_network.cli.train import WEIGHT_DECAY_ROWS, auto_weight_decay

BUNDLED = "breast_cancer.csv"
"""The bundled file trained on when no DATA is given (see :mod:`neural_network.datasets`)."""

RUNS = Path("runs")
"""Where the default output folders go, under the working directory."""


def run_train(arguments: argparse.Namespace) -> int:
    report = Report(as_json=arguments.json)
    get_activation(arguments.activation)  # an unknown name is an error now, with a suggestion
    if arguments.out is not None and Path(arguments.out).exists() and not Path(arguments.out).is_dir():
        raise CommandError(f"--out {arguments.out!r} is a file; give a folder (it is created if needed).")
    settings = Settings(
        hidden=arguments.hidden, activation=arguments.activation, epochs=arguments.epochs,
        batch_size=arguments.batch_size, optimizer=arguments.optimizer, learning_rate=arguments.learning_rate,
        test_split=arguments.test_split, seed=arguments.seed, validation_split=arguments.validation_split,
        early_stopping=arguments.early_stopping, patience=arguments.patience,
        weight_decay=0.0 if arguments.weight_decay is None else arguments.weight_decay,  # auto: set below
        dropout=arguments.dropout, class_weight=arguments.class_weight, init=arguments.init,
    )
    described = "the bundled breast-cancer data" if arguments.data is None else arguments.data
    data_name = "breast_cancer" if arguments.data is None else Path(arguments.data).stem
    loaded = _load(arguments, settings, report, described)
    prepared, target = loaded.prepared, loaded.target
    if arguments.weight_decay is None:  # --weight-decay auto: the rule, on the rows that train
        settings = replace(settings, weight_decay=auto_weight_decay(prepared.rows["train"]))
    layers = " -> ".join([
        str(len(prepared.card.features)),
        *(f"{size} {settings.activation}" + (f" (dropout {settings.dropout:g})" if settings.dropout else "")
          for size in settings.hidden),
        str(target.outputs),
    ])
    decay = f", weight decay {settings.weight_decay:g}" if settings.weight_decay else ""
    if arguments.weight_decay is None:
        rule = f"min(1, sqrt({WEIGHT_DECAY_ROWS} / {prepared.rows['train']:,} training rows))"
        decay = f", weight decay {settings.weight_decay:.3g} (auto: {rule})"
    stopping = (
        f"at most {settings.epochs} epochs (early stopping: patience {settings.patience})"
        if settings.early_stopping and prepared.rows["validation"] else f"{settings.epochs} epochs"
    )
    weights = "; classes weighted (balanced)" if settings.class_weight else ""
    report.note(
        "network", f"{layers}; loss {target.loss}{weights}; {settings.optimizer} (learning rate "
        f"{settings.learning_rate}{decay}); {stopping} of batches of {settings.batch_size}",
    )

    progress = EpochProgress(report.console, settings.epochs, enabled=report.live, loss_scale=prepared.loss_scale)
    with progress:
        outcome = train(prepared, target, settings, callbacks=[progress])

    folder = _output_folder(arguments.out, data_name)
    saved = _save(outcome, arguments.data, loaded.test_rows, folder, data_name)
    kept = _kept(outcome)
    if report.as_json:
        report.json({
            "task": target.task, "loss": target.loss, "epochs": outcome.epochs, "best_epoch": outcome.best_epoch,
            "weight_decay": settings.weight_decay, "rows": outcome.rows, "metrics": outcome.metrics,
        })
    else:
        report.metrics(kept, outcome.metrics, outcome.rows)
    report.note("saved", f"{', '.join(path.name for path in saved)} in {folder}")
    model_file = shlex.quote(str(saved[0]))
    test_file = shlex.quote(str(saved[3])) if len(saved) > 3 else "TEST_FILE"
    if len(saved) <= 3:
        report.note("test", "no rows held out (--test-split 0): nothing was measured on test rows; evaluate the "
                    "model on a file of rows it has not seen")
    report.note("next", f"neural-network evaluate {model_file} {test_file}")
    return 0


@dataclass(frozen=True, eq=False)
class _Loaded:
    """What the file gave: the data ready to fit, and the held-out rows to write out."""

    prepared: Prepared
    target: Target
    test_rows: NDArray[np.intp]
    """The test rows of the file (0-based), to copy into test-split.csv."""


def _load(arguments: argparse.Namespace, settings: Settings, report: Report, described: str) -> _Loaded:
    """Read the table, choose the target, split, encode. The table is dropped on return: only the
    float64 array of the features and the test rows (to write them out) are kept."""
    with _data_file(arguments.data) as path:
        table = read_table(str(path))
    report.note("data", f"{described}: {table.rows:,} rows, {len(table.columns)} columns")
    name, why = _target_column(table, arguments.target)
    report.note("target", f"{name!r} ({why})")
    dropped = _dropped(table, arguments.drop, name)
    candidates = [column for column in table.columns if column != name and column not in dropped]
    if not candidates:
        raise CommandError(f"{table.path} has only the target column {name!r}; a network needs features too.")
    found = kinds(table, candidates)  # a bad cell is an error before any work
    target = infer_target(table.values(name), name, arguments.task)
    report.note("task", target.reason)
    if settings.class_weight is not None and target.classes is None:
        raise CommandError("--class-weight balanced weighs classes; a regression target has none. Leave it out.")
    split = split_rows(target, settings.test_split, settings.validation_split, streams(settings.seed)[0])
    learned = learn(table, found, split.train)
    for line in learned.left_out:
        report.note("left out", f"{line} (--drop it to silence this note)")
    if not learned.specs:
        raise CommandError(f"{table.path}: no column is left to be a feature; see the notes above.")
    prepared = prepare(table, target, split, learned, target_name=name, data=described)
    _describe_features(report, learned, prepared)
    stratified = ", stratified by class" if target.classes is not None else ""
    rows = prepared.rows
    report.note(
        "split", f"{rows['train']:,} rows to train, {rows['validation']:,} to validate, {rows['test']:,} to test "
        f"(--test-split {settings.test_split}, --validation-split {settings.validation_split}{stratified}, "
        f"--seed {settings.seed})",
    )
    return _Loaded(prepared, target, split.test)


def _dropped(table: Table, given: Sequence[str], target: str) -> set[str]:
    """The columns of ``--drop`` (each may list several, comma-separated), checked against the table."""
    names: list[str] = []
    for text in given:
        names.extend([text] if text in table.columns else [part.strip() for part in text.split(",")])
    for column in names:
        if column not in table.columns:
            raise missing_column(table.path, column, table.columns, option="--drop")
        if column == target:
            raise CommandError(f"--drop {column!r} names the target column; choose another with --target.")
    return set(names)


def _describe_features(report: Report, learned: Learned, prepared: Prepared) -> None:
    numbers = [spec for spec in learned.specs if spec.kind == "number"]
    categories = [spec for spec in learned.specs if spec.kind == "category"]
    noun = "column" if len(numbers) == 1 else "columns"
    parts = [f"{len(numbers)} {noun} of numbers, standardized with the training rows' mean and standard deviation"]
    if prepared.card.task == "regression":
        parts[0] += " (the target too)"
    imputed = [spec.name for spec in numbers if spec.indicator]
    if imputed:
        parts.append(f"empty cells imputed with the training median in {_listed(imputed)}")
    if categories:
        parts.append(
            f"{len(categories)} text {'column' if len(categories) == 1 else 'columns'} one-hot ("
            + ", ".join(f"{spec.name!r}: {len(spec.categories)} values" for spec in categories[:5])
            + (", ..." if len(categories) > 5 else "") + ")"
        )
    report.note("features", f"{len(prepared.card.features)} from {len(learned.specs)} columns: " + "; ".join(parts))


def _listed(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _kept(outcome: Outcome) -> str:
    """The table's title: which epoch's weights the model holds."""
    if outcome.best_epoch is None:
        return f"after {outcome.epochs} epochs"
    if outcome.stopped_early:
        return (
            f"kept epoch {outcome.best_epoch} of {outcome.epochs} (the lowest validation loss; stopped after "
            f"{outcome.epochs - outcome.best_epoch} epochs without improvement)"
        )
    return f"kept epoch {outcome.best_epoch} of {outcome.epochs} (the lowest validation loss)"


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


def _save(outcome: Outcome, data: str | None, test_rows: NDArray[np.intp], folder: Path, data_name: str) -> list[Path]:
    """Write model.npz, history.csv, loss.png and the held-out rows (if any: not with ``--test-split 0``);
    return their paths."""
    model, history, card = outcome.model, outcome.history, outcome.card
    suffix = ".csv" if data is None else Path(data).suffix.lower()
    paths = [folder / "model.npz", folder / "history.csv", folder / "loss.png"]
    if test_rows.size:
        paths.append(folder / f"test-split{suffix}")
    try:
        model.save(paths[0], metadata=card.metadata())
        write_table(history, str(paths[1]))
        units = " (squared target units)" if card.task == "regression" else ""
        plot_losses(
            str(paths[2]), history["loss"], history.get("val_loss", []),
            title=f"{data_name}: loss per epoch", loss_name=f"{card.loss}{units}", best_epoch=outcome.best_epoch,
        )
        if test_rows.size:
            with _data_file(data) as path:
                copy_rows(str(path), test_rows, str(paths[3]))
    except OSError as error:
        raise CommandError(f"cannot write to {str(folder)!r}: {error}") from None
    return paths
