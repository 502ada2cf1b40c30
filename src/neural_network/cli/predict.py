"""``neural-network predict MODEL DATA``: a trained model's predictions for each row of a file.

The model's features are found in DATA by name (in any order; other columns, the
target among them, are ignored), and encoded as in training. DATA is read, and the
output written, in batches: memory stays bounded whatever the file's size. One output
row per input row, in the same order (after the ``--keep`` columns, copied as they are):

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

Columns written: the --keep columns (ids, say) as they are in DATA; then,
classification: prediction (the most probable class's label) and
probability_<label> for each class; regression: prediction.

Features are encoded as in training: categories one-hot (a value not seen in
training counts as none of them: predict says how many rows had one), empty
cells of numbers imputed with the training median. DATA is read, and the output
written, in batches: memory stays bounded whatever the file's size.
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
    parser.add_argument(
        "--keep", action="append", default=[], metavar="COL",
        help="copy this column of DATA (an id, say) into the output, before the predictions (repeat for more)",
    )
    from neural_network.cli.evaluate import add_batch_rows
    from neural_network.cli.loss import add_engine_arguments

    add_batch_rows(parser)
    add_engine_arguments(parser)


def run(arguments: argparse.Namespace) -> int:
    import numpy as np

    from neural_network.cli._errors import CommandError
    from neural_network.cli._features import Counts
    from neural_network.cli._model_file import load_model
    from neural_network.cli._report import Report
    from neural_network.cli._table import TableWriter, file_format, header, read_in_batches
    from neural_network.cli.evaluate import note_counts
    from neural_network.cli.loss import check_engine_arguments

    check_engine_arguments(arguments)
    if arguments.engine == "dask":
        return _on_dask(arguments)
    if arguments.output is not None:
        file_format(arguments.output, "--output")  # refuse an unknown extension before any work
    model, card = load_model(arguments.model)
    columns = header(arguments.data)
    keep = list(dict.fromkeys(arguments.keep))
    columns.require(card.column_names, "the model's features")
    columns.require(keep, "given with --keep")
    written = ["prediction", *(f"probability_{label}" for label in card.classes or ())]
    clash = [name for name in keep if name in written]
    if clash:
        raise CommandError(
            f"--keep {clash[0]!r} names a column that predict writes ({', '.join(written)}); rename it in DATA."
        )
    writer = TableWriter(arguments.output)
    rows, counts = 0, Counts()
    try:
        for chunk in read_in_batches(arguments.data, [*card.column_names, *keep], arguments.batch_rows):
            inputs = card.inputs(chunk, counts)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                outputs = model.predict(inputs)
            kept = {name: chunk.data.column(name).to_pylist() for name in keep}
            writer.write({**kept, **card.predictions(outputs)})
            rows += chunk.rows
        if rows == 0:
            raise CommandError(f"{arguments.data} has no rows of data, only the column names.")
        writer.close()
    except BaseException:
        writer.discard()
        raise
    notes = Report(as_json=arguments.output is None)  # notes to standard error when the rows go to standard output
    note_counts(notes, counts, rows)
    if arguments.output is not None:
        notes.note("wrote", f"{rows:,} predictions to {arguments.output}")
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
    if not card.plain:
        raise CommandError(
            "--engine dask predicts with models whose features are all columns of numbers; this model one-hot "
            "encodes text or marks empty cells. Leave --engine out: the streaming engine reads any size."
        )
    if arguments.keep:
        raise CommandError("--keep applies to the streaming engine; leave --engine dask out, or --keep.")
    paths = expand([arguments.data], folders=True)
    for path in paths:
        _stream.check_readable(path)
        _stream.check_columns(
            path, _stream.columns_of(path), [("the model's features", name) for name in card.column_names]
        )
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
        for _ in _stream.read_batches(path, card.column_names, 1 << 16):
            pass
    raise CommandError(f"the Dask computation failed: {type(failure).__name__}: {failure}", status=1)
