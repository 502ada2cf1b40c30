"""``neural-network evaluate MODEL DATA``: a trained model's loss and metrics on a file.

The model's features are found in DATA by name (in any order; other columns are
ignored), standardized as in training, and the target column the model was trained
on (or ``--target``) is compared with the predictions: ``loss`` and ``accuracy`` for
classification; ``loss`` (the mean squared error, in the target's units), ``r2`` and
``rmse`` for regression. See :mod:`neural_network.cli._metrics`.
"""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Measure a model trained by `neural-network train` on a table: its loss and
accuracy (classification) or its loss, R² and RMSE (regression).

MODEL is the model.npz that train wrote; DATA a .csv or .parquet file holding
the model's feature columns (found by name, in any order; other columns are
ignored) and its target column. The features are standardized with the numbers
stored in the model.
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


def run(arguments: argparse.Namespace) -> int:
    from pathlib import Path

    from neural_network.cli._metrics import measure
    from neural_network.cli._model_file import load_model
    from neural_network.cli._report import Report
    from neural_network.cli._table import read_table

    report = Report(as_json=arguments.json)
    model, card = load_model(arguments.model)
    table = read_table(arguments.data)
    name = card.target if arguments.target is None else arguments.target
    why = "the model's target" if arguments.target is None else "given with --target"
    table.require([name], why)
    inputs = card.inputs(table)
    metrics = measure(model, card, inputs, card.targets(table, name))
    if report.as_json:
        report.json({"task": card.task, "loss": card.loss, "rows": table.rows, "metrics": metrics})
        return 0
    report.note("model", f"{arguments.model} ({card.task}, trained on {card.data}; loss {card.loss})")
    report.note("data", f"{arguments.data}: {table.rows:,} rows; target {name!r}")
    column = Path(arguments.data).name
    report.metrics("evaluation", {column: metrics}, {column: table.rows})
    return 0
