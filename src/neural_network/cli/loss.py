"""``neural-network loss``: any loss of the package over CSV or Parquet files of any size.

The files are read in batches (see ``_stream``); each batch gives its per-element
losses, ``w * l``, from the public loss with ``reduction="none"``, and those are summed
by :class:`~neural_network._exact_sum.StreamingSum`, which forms the very blocks the
library's own sum forms over one array. So the value does not depend on the batch size,
and several files give the value of their rows concatenated into one array (in the order
given): the value the library function returns for that array, to the last bit.

Every loss the command knows is one ``LossEntry`` in ``_loss_table.LOSSES``, with the
layout of its columns; a new loss of the package slots in as one more entry.

The mean divides the streamed sum of ``w * l`` by the streamed sum of the weights (or by
the element count), both exact as above. The library's weighted mean first multiplies
every weight by a power of two (so that the largest lies in [1, 2)), which changes
nothing unless a product ``w * l`` or a partial sum falls below 2.2e-308, where float64
loses bits: only there can the command's last bit differ from the library's. Likewise a
per-element loss beyond the float64 range (such as ``mse_loss`` of a difference above
1.3e154) is ``inf`` here, where the library redoes an in-memory mean in long double.

Errors in the data are reported with their file and 1-based data row: cells that are
empty or not numbers by the reader (see ``_stream``), values a loss refuses by the
library itself (its message, for the first refused row of the batch, found by bisection).
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import math
import os
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from neural_network.cli._errors import CommandError
from neural_network.cli._loss_table import (
    IGNORE_INDEX,
    LOSSES,
    Columns,
    Floats,
    LossEntry,
    Sums,
    find_loss,
    parse_options,
)
from neural_network.errors import InvalidInputError, InvalidTypeError

if TYPE_CHECKING:
    from neural_network.cli._stream import Chunk

BATCH_ROWS = 1 << 18
"""Rows per batch unless ``--batch-rows`` says otherwise: a few tens of MB per column in flight."""

HELP_WIDTH = 78


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = "\n".join(
        f"  {entry.name}\n      --pred: {entry.pred}; --target: {entry.target}" for entry in LOSSES.values()
    )
    parser = commands.add_parser(
        "loss",
        help="compute any loss of the package over CSV or Parquet files of any size, streamed",
        description=textwrap.fill(
            "Compute a loss over the rows of CSV or Parquet files, read in batches so memory "
            "stays bounded whatever their size. Several files (or a glob) count as one table, "
            "their rows in the order given; the value is the library function's on that table, "
            "to the last bit, whatever the batch size (with --engine dask: within a few units "
            "in the last place, as the partitions cut its partial sums elsewhere).", HELP_WIDTH,
        ),
        epilog=(
            f"losses:\n{listing}\n\n"
            + textwrap.fill(
                "Several --pred and --target columns are given comma-separated: pairs of columns for "
                "the element-wise losses (the mean is over every element), one column per class for "
                "the class losses (for cross_entropy and nll_loss rows whose target is -100 are "
                "ignored, as in PyTorch). --option NAME=VALUE passes an option of the loss.",
                HELP_WIDTH,
            )
            + "\n\nexample:\n"
            "  neural-network loss 'predictions/*.parquet' --loss binary_cross_entropy_with_logits \\\n"
            "      --pred logit --target label --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE",
        help="CSV (.csv, .tsv, optionally .gz) or Parquet files, or glob patterns such as 'part-*.parquet'; "
        "with --engine dask also folders of such files",
    )
    parser.add_argument("--loss", required=True, metavar="NAME", help="the loss, by its library name (see below)")
    parser.add_argument("--pred", required=True, metavar="COL", help="the prediction column(s), comma-separated")
    parser.add_argument("--target", required=True, metavar="COL", help="the target column(s), comma-separated")
    parser.add_argument("--weight", metavar="COL", help="a column of non-negative sample weights (one per row)")
    parser.add_argument(
        "--reduction", choices=("mean", "sum"), default="mean",
        help="the weighted mean (default) or the weighted sum of the per-element losses",
    )
    parser.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE",
        help="an option of the loss, as in the library (e.g. power=1.5 for tweedie_deviance, delta=2 for "
        "huber_loss, full=true for poisson_nll_loss); repeat for several",
    )
    parser.add_argument("--json", action="store_true", help='print {"loss", "value", "rows"} as JSON')
    add_engine_arguments(parser)
    parser.add_argument(
        "--batch-rows", type=_positive_int, default=BATCH_ROWS, metavar="N",
        help=f"rows read at a time (default {BATCH_ROWS}); lower it to use less memory. "
        "The value does not depend on it.",
    )


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine``, ``--scheduler`` and ``--workers``, shared with ``predict``."""
    parser.add_argument(
        "--engine", choices=("stream", "dask"), default="stream",
        help="stream: read the files in batches in this process (default); dask: spread the "
        "partitions of the files over a Dask cluster (pip install 'neural-network[dask]')",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="with --engine dask: the address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786; "
        "default: a local cluster started for the command",
    )
    parser.add_argument(
        "--workers", type=_positive_int, metavar="N",
        help="with --engine dask and no --scheduler: worker processes of the local cluster "
        "(default: one per processor)",
    )


def check_engine_arguments(arguments: argparse.Namespace) -> None:
    """Refuse ``--scheduler`` or ``--workers`` without ``--engine dask``, and both together."""
    for option in ("scheduler", "workers"):
        if getattr(arguments, option) is not None and arguments.engine != "dask":
            raise CommandError(f"--{option} applies to --engine dask only; add --engine dask, or leave --{option} out.")
    if arguments.scheduler is not None and arguments.workers is not None:
        raise CommandError(
            "--workers sizes the local cluster; with --scheduler the running cluster's workers are used. "
            "Leave one of them out."
        )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of rows, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 row, got {value}")
    return value


@dataclass
class Result:
    value: float
    rows: int


def run(arguments: argparse.Namespace) -> int:
    from neural_network.cli import _stream

    entry = find_loss(arguments.loss)
    entry = dataclasses.replace(entry, options=parse_options(entry, arguments.option))
    check_engine_arguments(arguments)
    paths = expand(arguments.files, folders=arguments.engine == "dask")
    for path in paths:
        _stream.check_readable(path)
    headers = {path: _stream.columns_of(path) for path in paths}
    columns = resolve_columns(entry, arguments, headers[paths[0]])
    for path in paths:
        _stream.check_columns(path, headers[path], columns.options())

    if arguments.engine == "dask":
        result = _on_dask(entry, columns, paths, arguments)
    else:
        result = _streamed(entry, columns, paths, arguments)
    if arguments.json:
        value: float | str = result.value if math.isfinite(result.value) else repr(result.value)
        print(json.dumps({"loss": entry.name, "value": value, "rows": result.rows}))
    else:
        _print_table(entry, arguments, paths, columns, result)
    return 0


def _streamed(entry: LossEntry, columns: Columns, paths: Sequence[str], arguments: argparse.Namespace) -> Result:
    from neural_network.cli import _stream

    chunks = (chunk for path in paths for chunk in _stream.read_batches(path, columns.all(), arguments.batch_rows))
    return compute(entry, columns, chunks, arguments.reduction)


def _on_dask(entry: LossEntry, columns: Columns, paths: Sequence[str], arguments: argparse.Namespace) -> Result:
    """The loss computed on a Dask cluster (see ``_dask_engine``).

    Where the cluster's computation fails, the files are streamed again to name the file
    and row at fault; if streaming finds nothing wrong, the cluster's error is reported.
    """
    from neural_network.cli import _dask_engine

    _dask_engine.require_dask()
    with _dask_engine.cluster(arguments.scheduler, arguments.workers) as client:
        try:
            total, divisor, rows = _dask_engine.loss_sums(entry, columns, paths, arguments.reduction, client)
        except CommandError:
            raise
        except Exception as error:  # a refused value or an unreadable cell, raised on a worker
            failure = error
        else:
            return result_of(entry, columns, arguments.reduction, total, divisor, rows)
    _streamed(entry, columns, paths, arguments)  # raises CommandError at the first bad row, if any
    raise CommandError(f"the Dask computation failed: {type(failure).__name__}: {failure}", status=1)


def expand(patterns: Sequence[str], *, folders: bool = False) -> list[str]:
    """The files: each existing path as given, each glob pattern's matches in sorted order.

    With ``folders`` (the Dask engine), a folder stands for the CSV and Parquet files in it.
    """
    paths: list[str] = []
    for pattern in patterns:
        if folders and os.path.isdir(pattern):
            from neural_network.cli._dask_engine import data_files

            paths.extend(data_files(pattern))
            continue
        if os.path.exists(pattern) or not glob.has_magic(pattern):
            paths.append(pattern)
            continue
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise CommandError(f"no file matches {pattern!r}.")
        paths.extend(matches)
    return paths


def resolve_columns(entry: LossEntry, arguments: argparse.Namespace, header: Sequence[str]) -> Columns:
    """Split ``--pred``/``--target`` at commas (unless the whole text names a column) and check the layout."""

    def split(text: str) -> list[str]:
        if text in header:
            return [text]
        names = [name.strip() for name in text.split(",")]
        if any(not name for name in names):
            raise CommandError(f"empty column name in {text!r}; separate column names with single commas.")
        return names

    pred, target = split(arguments.pred), split(arguments.target)
    if entry.layout == "elementwise" and len(pred) != len(target):
        raise CommandError(
            f"{entry.name} pairs each --pred column with a --target column; got {len(pred)} --pred "
            f"column(s) ({', '.join(pred)}) and {len(target)} --target column(s) ({', '.join(target)})."
        )
    if entry.layout == "classes" and len(target) != 1:
        raise CommandError(
            f"{entry.name} takes one --target column of class indices; got {len(target)} "
            f"({', '.join(target)}). For one-hot targets, give the index of the 1 in a column of its own."
        )
    return Columns(pred, target, arguments.weight)


def compute(entry: LossEntry, columns: Columns, chunks: Iterator[Chunk], reduction: str) -> Result:
    """Stream the chunks through the loss; the weighted mean or sum, exact as the library's."""
    sums = Sums()
    rows = 0
    for chunk in chunks:
        if chunk.rows == 0:
            continue
        pred = np.column_stack([chunk.columns[name] for name in columns.pred])
        target = np.column_stack([chunk.columns[name] for name in columns.target])
        weight = chunk.columns[columns.weight] if columns.weight else None
        try:
            sums.add(entry, pred, target, weight, reduction)
        except (InvalidInputError, InvalidTypeError) as error:
            raise locate(entry, columns, chunk, pred, target, weight, error) from None
        rows += chunk.rows
    return result_of(entry, columns, reduction, sums.total.value(), sums.divisor(reduction), rows)


def result_of(
    entry: LossEntry, columns: Columns, reduction: str, total: float, divisor: float, rows: int
) -> Result:
    """The weighted sum, or the mean ``total / divisor``, refusing a mean of nothing."""
    if reduction == "sum":
        return Result(total, rows)
    if rows == 0:
        raise CommandError(
            "the files hold no rows, and the mean of nothing is undefined. Use --reduction sum "
            "(an empty sum is 0), or check the files."
        )
    if divisor == 0.0:
        raise CommandError(
            f"{_why_nothing_counts(entry, columns)}, so the mean (the weighted sum divided by the "
            "summed weights of the counted rows) is undefined. Use --reduction sum, or check the data."
        )
    return Result(total / divisor, rows)


def _why_nothing_counts(entry: LossEntry, columns: Columns) -> str:
    ignored = f"every --target is {IGNORE_INDEX} (ignored)"
    if columns.weight is None:
        return ignored
    zero = f"the --weight column {columns.weight!r} sums to 0"
    return f"{zero} over the counted rows, or {ignored}" if entry.layout == "classes" else zero


# --------------------------------------------------------------------------- locating a refused row


def locate(
    entry: LossEntry,
    columns: Columns,
    chunk: Chunk,
    pred: Floats,
    target: Floats,
    weight: Floats | None,
    error: Exception,
) -> CommandError:
    """The library's refusal of a batch, told for the first row it refuses (found by bisection).

    Every check of the losses is element by element, so a prefix of the batch is refused
    exactly when it holds a refused row: the shortest refused prefix ends at the first one.
    """

    def refusal(start: int, stop: int) -> Exception | None:
        try:
            entry.values(pred[start:stop], target[start:stop], None if weight is None else weight[start:stop])
        except (InvalidInputError, InvalidTypeError) as found:
            return found
        return None

    low, high = 0, chunk.rows  # pred[:low] is accepted, pred[:high] refused
    while high - low > 1:
        middle = (low + high) // 2
        if refusal(0, middle) is None:
            low = middle
        else:
            high = middle
    index = high - 1
    alone = refusal(index, index + 1)
    if alone is None:  # not a check of single rows: report the batch
        last = chunk.first_row + chunk.rows - 1
        return CommandError(f"{chunk.path}, rows {chunk.first_row} to {last}: {error}")
    cells = ", ".join(
        f"{option} {name!r} = {float(chunk.columns[name][index])!r}" for option, name in columns.options()
    )
    return CommandError(f"{chunk.path}, row {chunk.first_row + index} ({cells}): {_tidy(str(alone))}")


def _tidy(message: str) -> str:
    """The library's message about one row, without what only makes sense for an array."""
    message = re.sub(r", 1 of them outside \(first: [^)]*\)", "", message)
    message = re.sub(r"got values from ([^\s,;]+?) to \1(?=[.,;)]?(?:\s|$))", r"got \1", message)
    return re.sub(r" \(first at \w+\[[\d, ]*\]\)", "", message)


# --------------------------------------------------------------------------- output


def _print_table(
    entry: LossEntry, arguments: argparse.Namespace, paths: list[str], columns: Columns, result: Result
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{arguments.reduction} {entry.name}", show_header=False, title_justify="left")
    table.add_column("quantity", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("value", repr(result.value)),
        ("rows", str(result.rows)),
        ("files", paths[0] if len(paths) == 1 else f"{len(paths)} files"),
        ("--pred", ", ".join(columns.pred)),
        ("--target", ", ".join(columns.target)),
    ]
    if columns.weight:
        rows.append(("--weight", columns.weight))
    for name, text in rows:
        table.add_row(name, Text(text))  # Text: a file or column name is not Rich markup
    Console(highlight=False).print(table)
