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
    parser.add_argument(
        "data", metavar="DATA",
        help="a .csv or .parquet file with the model's features; with --engine dask also a folder "
        "or a glob pattern such as 'scores/*.parquet'",
    )
    parser.add_argument(
        "--output", metavar="FILE",
        help="a .csv or .parquet file to write (replaced if it exists); default: CSV on standard output. "
        "With --engine dask: a new folder, to hold one Parquet file per partition",
    )
    from neural_network.cli.loss import add_engine_arguments

    add_engine_arguments(parser)


def run(arguments: argparse.Namespace) -> int:
    from neural_network.cli._model_file import load_model
    from neural_network.cli._report import Report
    from neural_network.cli._table import file_format, read_table, write_table
    from neural_network.cli.loss import check_engine_arguments

    check_engine_arguments(arguments)
    if arguments.engine == "dask":
        return _on_dask(arguments)
    if arguments.output is not None:
        file_format(arguments.output, "--output")  # refuse an unknown extension before any work
    model, card = load_model(arguments.model)
    table = read_table(arguments.data)
    columns = card.predictions(model.predict(card.inputs(table)))
    write_table(columns, arguments.output)
    if arguments.output is not None:
        Report(as_json=False).note("wrote", f"{table.rows:,} predictions to {arguments.output}")
    return 0


def _on_dask(arguments: argparse.Namespace) -> int:
    """Predict on a Dask cluster: every partition of DATA to one Parquet file of ``--output``."""
    import os

    from neural_network.cli import _dask_engine, _stream
    from neural_network.cli._errors import CommandError
    from neural_network.cli._model_file import load_model
    from neural_network.cli._report import Report
    from neural_network.cli.loss import expand

    _dask_engine.require_dask()
    output = arguments.output
    if output is None:
        raise CommandError("--engine dask writes its predictions to a folder: give one with --output FOLDER.")
    if os.path.exists(output) and not (os.path.isdir(output) and not os.listdir(output)):
        raise CommandError(
            f"--output {output} already exists; --engine dask writes a new folder of Parquet files. "
            "Give a new folder name, or remove the old one."
        )
    model, card = load_model(arguments.model)
    paths = expand([arguments.data], folders=True)
    for path in paths:
        _stream.check_readable(path)
        _stream.check_columns(path, _stream.columns_of(path), [("the model's features", name) for name in card.features])
    with _dask_engine.cluster(arguments.scheduler, arguments.workers) as client:
        try:
            rows = _dask_engine.write_predictions(model, card, paths, output, client)
        except CommandError:
            raise
        except Exception as error:  # a cell that is not a number, found by a worker
            failure = error
        else:
            Report(as_json=False).note("wrote", f"{rows:,} predictions to {output}")
            return 0
    for path in paths:  # name the file and row at fault: raises CommandError if there is one
        for _ in _stream.read_batches(path, card.features, 1 << 16):
            pass
    raise CommandError(f"the Dask computation failed: {type(failure).__name__}: {failure}", status=1)
