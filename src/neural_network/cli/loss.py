"""``neural-network loss``: any loss of the package over CSV or Parquet files of any size.

The files are read in batches (see ``_stream``); each batch gives its per-element
losses, ``w * l``, from the public loss with ``reduction="none"``, and those are summed
by :class:`~neural_network._reduction.StreamingSum`, which forms the very blocks the
library's own sum forms over one array. So the value does not depend on the batch size,
and several files give the value of their rows concatenated into one array (in the order
given): the value the library function returns for that array, to the last bit.

Every loss the command knows is one :class:`LossEntry` in :data:`LOSSES`, with the layout
of its columns; a new loss of the package slots in as one more entry.

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
import difflib
import glob
import inspect
import json
import math
import os
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from neural_network import losses
from neural_network._reduction import StreamingSum
from neural_network.cli._errors import CommandError
from neural_network.errors import InvalidInputError, InvalidTypeError

if TYPE_CHECKING:
    from neural_network.cli._stream import Chunk

Floats = np.ndarray[Any, np.dtype[np.float64]]

BATCH_ROWS = 1 << 18
"""Rows per batch unless ``--batch-rows`` says otherwise: a few tens of MB per column in flight."""

IGNORE_INDEX = -100
"""The class index that ``cross_entropy`` and ``nll_loss`` ignore by default (PyTorch's)."""

Layout = Literal["elementwise", "classes"]

HELP_WIDTH = 78


# --------------------------------------------------------------------------- the losses


@dataclass(frozen=True)
class LossEntry:
    """How the command calls one loss of the package.

    ``elementwise``: ``--pred`` and ``--target`` name the same number of columns, paired
    in order; the loss is taken element by element and the mean is over every element
    (weighted by the row's ``--weight``). ``classes``: ``--pred`` names one column per
    class (logits or log-probabilities), ``--target`` one column of class indices; the
    mean is over the rows whose target is not ``-100`` (PyTorch's ``ignore_index``).
    """

    name: str
    function: Callable[..., Any]
    layout: Layout
    pred: str
    """What the ``--pred`` columns hold, for the help."""
    target: str
    """What the ``--target`` column holds, for the help."""
    ignore_index: bool = False
    """A ``classes`` loss that ignores rows whose target is -100 (PyTorch's ``ignore_index``)."""
    options: tuple[tuple[str, object], ...] = ()
    """The ``--option`` values, passed to the function as keywords."""

    def values(self, pred: Floats, target: Floats, weight: Floats | None) -> Floats:
        """The weighted per-element losses ``w * l`` of a batch, in the library's row-major order.

        ``pred`` and ``target`` are ``(rows, columns)``; ``weight`` is one weight per row.
        """
        options = dict(self.options)
        if self.layout == "elementwise":
            sample_weight = None if weight is None else np.broadcast_to(weight[:, None], pred.shape)
            result: Floats = self.function(pred, target, reduction="none", sample_weight=sample_weight, **options)
        else:
            result = self.function(pred, target[:, 0], reduction="none", sample_weight=weight, **options)
        return result

    def counted(self, pred: Floats, target: Floats, weight: Floats | None) -> Floats | None:
        """What each element adds to the mean's denominator, or None for one each."""
        if self.layout == "elementwise":
            return None if weight is None else np.broadcast_to(weight[:, None], pred.shape)
        if not self.ignore_index:
            return None if weight is None else weight
        kept = target[:, 0] != IGNORE_INDEX
        return kept.astype(np.float64) if weight is None else np.where(kept, weight, 0.0)


LOSSES: dict[str, LossEntry] = {
    entry.name: entry
    for entry in (
        LossEntry("mse_loss", losses.mse_loss, "elementwise", "predictions", "targets"),
        LossEntry(
            "binary_cross_entropy", losses.binary_cross_entropy, "elementwise",
            "probabilities in [0, 1]", "labels in [0, 1]",
        ),
        LossEntry(
            "binary_cross_entropy_with_logits", losses.binary_cross_entropy_with_logits, "elementwise",
            "logits (raw scores)", "labels in [0, 1]",
        ),
        LossEntry("l1_loss", losses.l1_loss, "elementwise", "predictions", "targets"),
        LossEntry("huber_loss", losses.huber_loss, "elementwise", "predictions", "targets (delta 1)"),
        LossEntry("smooth_l1_loss", losses.smooth_l1_loss, "elementwise", "predictions", "targets (beta 1)"),
        LossEntry("log_cosh", losses.log_cosh, "elementwise", "predictions", "targets"),
        LossEntry(
            "mean_squared_log_error", losses.mean_squared_log_error, "elementwise",
            "predictions above -1", "targets above -1",
        ),
        LossEntry(
            "mean_absolute_percentage_error", losses.mean_absolute_percentage_error, "elementwise",
            "predictions", "targets (a fraction, not a percentage)",
        ),
        LossEntry("pinball_loss", losses.pinball_loss, "elementwise", "predictions", "targets (quantile 0.5)"),
        LossEntry(
            "poisson_nll_loss", losses.poisson_nll_loss, "elementwise",
            "log-rates (log_input=True)", "counts >= 0",
        ),
        LossEntry("poisson_loss", losses.poisson_loss, "elementwise", "rates >= 0", "counts >= 0"),
        LossEntry("poisson_deviance", losses.poisson_deviance, "elementwise", "rates > 0", "counts >= 0"),
        LossEntry("gamma_deviance", losses.gamma_deviance, "elementwise", "predictions > 0", "targets > 0"),
        LossEntry("tweedie_deviance", losses.tweedie_deviance, "elementwise", "predictions", "targets (power 0)"),
        LossEntry(
            "brier_score_loss", losses.brier_score_loss, "elementwise",
            "probabilities in [0, 1]", "labels in [0, 1]",
        ),
        LossEntry(
            "binary_focal_loss", losses.binary_focal_loss, "elementwise",
            "logits (gamma 2)", "labels in [0, 1]",
        ),
        LossEntry("soft_margin_loss", losses.soft_margin_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry("hinge_loss", losses.hinge_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry("squared_hinge_loss", losses.squared_hinge_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry("perceptron_loss", losses.perceptron_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry(
            "hinge_embedding_loss", losses.hinge_embedding_loss, "elementwise",
            "distances (margin 1)", "labels -1 or +1",
        ),
        LossEntry("kl_div", losses.kl_div, "elementwise", "log-probabilities <= 0", "probabilities in [0, 1]"),
        LossEntry(
            "generalized_kl_divergence", losses.generalized_kl_divergence, "elementwise",
            "log-predictions", "non-negative measures",
        ),
        LossEntry("binary_sparsemax_loss", losses.binary_sparsemax_loss, "elementwise", "scores", "labels 0 or 1"),
        LossEntry(
            "cross_entropy", losses.cross_entropy, "classes",
            "one column of logits per class", "class indices 0 to C-1", ignore_index=True,
        ),
        LossEntry(
            "nll_loss", losses.nll_loss, "classes",
            "one column of log-probabilities per class", "class indices 0 to C-1", ignore_index=True,
        ),
        *(
            LossEntry(name, getattr(losses, name), "classes", what, "class indices 0 to C-1")
            for name, what in (
                ("categorical_focal_loss", "one column of logits per class (gamma 2)"),
                ("poly_loss_cross_entropy", "one column of logits per class (epsilon 2)"),
                ("sparsemax_loss", "one column of scores per class"),
                ("multi_margin_loss", "one column of scores per class (p 1, margin 1)"),
                ("multiclass_hinge_loss", "one column of scores per class"),
                ("multiclass_perceptron_loss", "one column of scores per class"),
                ("categorical_hinge_loss", "one column of scores per class"),
            )
        ),
    )
}
"""The losses the command knows, by the name of the library function."""

ALIASES = {
    "mse": "mse_loss",
    "mean_squared_error": "mse_loss",
    "bce": "binary_cross_entropy",
    "log_loss": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "bcewithlogits": "binary_cross_entropy_with_logits",
    "ce": "cross_entropy",
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "nll": "nll_loss",
}
"""Other libraries' names, suggested (never silently accepted) when given to ``--loss``."""


def find_loss(name: str) -> LossEntry:
    """The entry for ``--loss NAME`` (dashes may stand for underscores), or a usage error."""
    key = name.strip().lower().replace("-", "_")
    if key in LOSSES:
        return LOSSES[key]
    known = ", ".join(LOSSES)
    suggestion = ALIASES.get(key) or next(iter(difflib.get_close_matches(key, list(LOSSES), n=1, cutoff=0.6)), None)
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    raise CommandError(f"unknown loss {name!r}.{hint} The losses are: {known}.")


# --------------------------------------------------------------------------- the command


_RESERVED = frozenset({"reduction", "sample_weight", "input", "target"})
"""Keywords the command itself passes (or the columns give): not options."""


def parse_options(entry: LossEntry, texts: Sequence[str]) -> tuple[tuple[str, object], ...]:
    """``--option NAME=VALUE`` texts as keywords of ``entry``'s function.

    VALUE is ``true``/``false``, a whole number, a number (the one number syntax of every
    command, :mod:`neural_network.cli._numbers`), or else the text itself; the library
    checks the value and says what it expects. NAME must be a keyword-only option of the
    function (its signature says which).
    """
    from neural_network.cli._numbers import is_number

    allowed = [
        name for name, parameter in inspect.signature(entry.function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in _RESERVED
    ]
    options: dict[str, object] = {}
    for text in texts:
        name, equals, raw = text.partition("=")
        name, raw = name.strip(), raw.strip()
        if not equals or not name:
            raise CommandError(f"--option takes NAME=VALUE, e.g. --option power=1.5; got {text!r}.")
        if name not in allowed:
            choices = ", ".join(allowed) if allowed else "none"
            raise CommandError(f"{entry.name} has no option {name!r}; its options: {choices}.")
        if name in options:
            raise CommandError(f"--option {name} is given twice; give each option once.")
        value: object
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        elif re.fullmatch(r"[+-]?[0-9]+", raw):
            value = int(raw)
        elif is_number(raw):
            value = float(raw)
        else:
            value = raw
        options[name] = value
    return tuple(options.items())


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


@dataclass(frozen=True)
class Columns:
    """The columns the command reads, resolved against the first file's header."""

    pred: list[str]
    target: list[str]
    weight: str | None

    def options(self) -> list[tuple[str, str]]:
        """``(option, column)`` for every column, for the messages."""
        pairs = [("--pred", name) for name in self.pred] + [("--target", name) for name in self.target]
        return pairs + ([("--weight", self.weight)] if self.weight else [])

    def all(self) -> list[str]:
        return list(dict.fromkeys(name for _, name in self.options()))


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


class Sums:
    """A loss's running sums over batches: the weighted losses, and what the mean divides by.

    Both sums are :class:`StreamingSum` s; the divisor is the summed weights of the counted
    elements where the loss counts by weight (``LossEntry.counted``), else their number.
    """

    def __init__(self) -> None:
        self.total = StreamingSum()
        self.denominator = StreamingSum()
        self.elements = 0
        self.weighted = False

    def add(self, entry: LossEntry, pred: Floats, target: Floats, weight: Floats | None, reduction: str) -> None:
        """Add one batch (raises what the library raises for a value it refuses)."""
        values = entry.values(pred, target, weight)
        self.total.add(values)
        if reduction != "mean":
            return
        counted = entry.counted(pred, target, weight)
        if counted is None:
            self.elements += values.size
        else:
            self.denominator.add(counted)
            self.weighted = True

    def divisor(self, reduction: str) -> float:
        """What the mean divides by (NaN for a sum)."""
        if reduction == "sum":
            return math.nan
        return self.denominator.value() if self.weighted else float(self.elements)


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
