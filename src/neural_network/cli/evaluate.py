"""``neural-network evaluate MODEL DATA``: a trained model's loss and metrics on a file.

The model's features are found in DATA by name (in any order; other columns are
ignored), encoded and standardized as in training (categories one-hot, empty cells
imputed), read in batches so that memory stays bounded whatever the file's size, and the target column the model was trained
on (or ``--target``) is compared with the predictions: ``loss`` and ``accuracy`` for
classification; ``loss`` (the mean squared error, in the target's units), ``r2`` and
``rmse`` for regression. See :mod:`neural_network.cli._metrics`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neural_network.cli._features import Counts
    from neural_network.cli._report import Report

BATCH_ROWS = 1 << 16
"""Rows read at a time unless ``--batch-rows`` says otherwise: a few MB, whatever the file's size."""

DESCRIPTION = """\
Measure a model trained by `neural-network train` on a table: its loss and
accuracy (classification) or its loss, R² and RMSE (regression).

MODEL is the model.npz that train wrote; DATA a .csv or .parquet file holding
the model's feature columns (found by name, in any order; other columns are
ignored) and its target column. The features are encoded as in training, with
what the model stores (categories, medians of empty cells, standardization).
DATA is read in batches: memory stays bounded whatever its size.
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="measure a trained model on a CSV or Parquet file",
        description=DESCRIPTION,
        epilog="example:\n  neural-network evaluate runs/breast_cancer-1/model.npz "
        "runs/breast_cancer-1/test-split.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="a model.npz written by neural-network train")
    parser.add_argument("data", metavar="DATA", help="a .csv or .parquet file with the features and the target")
    parser.add_argument(
        "--target", metavar="COL",
        help="the column holding the true values (default: the column the model was trained on)",
    )
    parser.add_argument(
        "--json", action="store_true",
        help='print one JSON object instead of the table: {"task", "loss", "rows", "metrics": {...}}',
    )
    add_batch_rows(parser)


def add_batch_rows(parser: argparse.ArgumentParser) -> None:
    """``--batch-rows``, shared with ``predict``."""
    from neural_network.cli._arguments import positive_int

    parser.add_argument(
        "--batch-rows", type=positive_int, default=BATCH_ROWS, metavar="N",
        help=f"rows read at a time (default {BATCH_ROWS}); lower it to use less memory. The results do not "
        "depend on it.",
    )


def run(arguments: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from neural_network.cli._errors import CommandError
    from neural_network.cli._features import Counts
    from neural_network.cli._metrics import Measure
    from neural_network.cli._model_file import load_model
    from neural_network.cli._report import Report
    from neural_network.cli._table import header, read_in_batches

    report = Report(as_json=arguments.json)
    model, card = load_model(arguments.model)
    columns = header(arguments.data)
    name = card.target if arguments.target is None else arguments.target
    why = "the model's target" if arguments.target is None else "given with --target"
    columns.require([name], why)
    columns.require(card.column_names, "the model's features")
    measured, counts = Measure(card), Counts()
    for chunk in read_in_batches(arguments.data, [*card.column_names, name], arguments.batch_rows):
        inputs = card.inputs(chunk, counts)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            outputs = model.predict(inputs)
        measured.add(outputs, card.targets(chunk, name))
    if measured.rows == 0:
        raise CommandError(f"{arguments.data} has no rows of data, only the column names.")
    metrics = measured.results()
    note_counts(report, counts, measured.rows)
    if report.as_json:
        report.json({"task": card.task, "loss": card.loss, "rows": measured.rows, "metrics": metrics})
        return 0
    report.note("model", f"{arguments.model} ({card.task}, trained on {card.data}; loss {card.loss})")
    report.note("data", f"{arguments.data}: {measured.rows:,} rows; target {name!r}")
    column = Path(arguments.data).name
    report.metrics("evaluation", {column: metrics}, {column: measured.rows})
    return 0


def note_counts(report: Report, counts: Counts, rows: int) -> None:
    """Say how many rows held a category the training rows did not (all zeros for the network),
    and how many empty cells were imputed."""
    if counts.unseen:
        per_column = ", ".join(f"{name!r}: {count:,}" for name, count in counts.unseen.items())
        report.note(
            "unseen", f"{counts.unseen_rows:,} of {rows:,} rows had a category not seen in training ({per_column}); "
            "it counts as none of the known ones"
        )
    if counts.imputed:
        per_column = ", ".join(f"{name!r}: {count:,}" for name, count in counts.imputed.items())
        report.note("imputed", f"empty cells filled with the training median ({per_column})")
