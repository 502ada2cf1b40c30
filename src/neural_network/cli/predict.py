"""``neural-network predict MODEL DATA``: a trained model's predictions for each row of a file.

The model's features are found in DATA by name (in any order; other columns, the
target among them, are ignored). One output row per input row, in the same order:

* classification: ``prediction`` (the label of the most probable class, as written in
  the training file) and ``probability_<label>`` for each class;
* regression: ``prediction``, in the target's units.

Written to ``--output`` (CSV or Parquet, by its extension), or as CSV to standard output.
"""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Predict with a model trained by `neural-network train`, one row per row of DATA.

MODEL is the model.npz that train wrote; DATA a .csv or .parquet file holding
the model's feature columns (found by name, in any order; other columns, the
target among them, are ignored).

Columns written: classification: prediction (the most probable class's label)
and probability_<label> for each class; regression: prediction.
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "predict",
        help="write a trained model's predictions for a CSV or Parquet file",
        description=DESCRIPTION,
        epilog="example:\n  neural-network predict runs/breast_cancer-1/model.npz "
        "runs/breast_cancer-1/test-split.csv --output predictions.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="a model.npz written by neural-network train")
    parser.add_argument("data", metavar="DATA", help="a .csv or .parquet file with the model's features")
    parser.add_argument(
        "--output", metavar="FILE",
        help="a .csv or .parquet file to write (replaced if it exists); default: CSV on standard output",
    )


def run(arguments: argparse.Namespace) -> int:
    from neural_network.cli._model_file import load_model
    from neural_network.cli._report import Report
    from neural_network.cli._table import file_format, read_table, write_table

    if arguments.output is not None:
        file_format(arguments.output, "--output")  # refuse an unknown extension before any work
    model, card = load_model(arguments.model)
    table = read_table(arguments.data)
    columns = card.predictions(model.predict(card.inputs(table)))
    write_table(columns, arguments.output)
    if arguments.output is not None:
        Report(as_json=False).note("wrote", f"{table.rows:,} predictions to {arguments.output}")
    return 0
