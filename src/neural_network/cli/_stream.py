"""Numeric columns of CSV and Parquet files, read in batches of bounded size.

PyArrow reads the files: CSV through its streaming reader (``pyarrow.csv.open_csv``,
only the named columns, each as float64), Parquet through
``ParquetFile.iter_batches``. Either way at most a few batches are in memory at once,
so memory does not grow with the file.

Every problem with the data is raised as a :class:`CommandError` that names the file,
the column and the 1-based data row (the first row after the header is row 1): a
missing file or column, a cell that is empty or not a number. Locating the row of a
CSV cell PyArrow could not convert costs a second pass over the file, taken only on
that error path.

This module imports PyArrow, so only the commands that read files import it.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from neural_network.cli._errors import CommandError, missing_column

Floats = np.ndarray[Any, np.dtype[np.float64]]

PARQUET_MAGIC = b"PAR1"
CSV_BLOCK_BYTES = 1 << 18
"""Bytes of CSV text parsed at a time (a row may not be longer). PyArrow's reader holds
up to some forty times this while it parses and converts (10 MB here); larger blocks are
no faster (measured over 10 million rows) and take more memory."""
PARQUET_BUFFER_BYTES = 1 << 20
"""Read buffer per Parquet column chunk: without one PyArrow reads a whole column chunk
(a row group's worth, a million rows or more) at once."""


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of one file: ``columns[name][i]`` is data row ``first_row + i``."""

    path: str
    first_row: int
    """1-based number of the chunk's first data row within its file (the header is not a row)."""
    columns: dict[str, Floats]

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


# --------------------------------------------------------------------------- files and headers


def is_parquet(path: str) -> bool:
    """Whether ``path`` is a Parquet file: by its magic bytes, whatever its name."""
    with open(path, "rb") as file:
        return file.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC


def check_readable(path: str) -> None:
    """Refuse a path that is not a readable file, in words a person can act on."""
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file.")
    if os.path.isdir(path):
        raise CommandError(f"{path} is a directory; give the data files in it (a glob such as '{path}/*.csv' works).")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise CommandError(f"{path}: cannot open it: {error.strerror or error}.") from None


def columns_of(path: str) -> list[str]:
    """The column names of a CSV (its header) or Parquet file (its schema)."""
    if is_parquet(path):
        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowException, OSError) as error:
            raise CommandError(f"{path}: cannot read it as Parquet: {error}") from None
    header = _csv_header(path)
    if header is None:
        raise CommandError(f"{path} is empty: a CSV file needs a header line naming its columns.")
    return header


def _csv_header(path: str) -> list[str] | None:
    """The first record of a CSV file, read with the csv module (compressed files too)."""
    data = b""
    with pa.input_stream(path, compression="detect") as stream:
        while b"\n" not in data:
            block = stream.read(1 << 16)
            if not block:
                break
            data += block
    text = data.decode("utf-8-sig", errors="replace")
    for row in csv.reader(io.StringIO(text), delimiter=delimiter(path)):
        return row or None
    return None


COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")
"""The suffixes of compressed CSV files (read whole: a compressed stream cannot be cut)."""


def compression_of(path: str) -> str | None:
    """The compression suffix of ``path`` (such as ``".gz"``), or None."""
    return next((suffix for suffix in COMPRESSED if path.lower().endswith(suffix)), None)


def delimiter(path: str) -> str:
    """The CSV delimiter by the file name: a tab for .tsv and .tab, else a comma."""
    name = path.lower()
    suffix = compression_of(name)
    if suffix:
        name = name.removesuffix(suffix)
    return "\t" if name.endswith((".tsv", ".tab")) else ","


def check_columns(path: str, available: Sequence[str], wanted: Sequence[tuple[str, str]]) -> None:
    """Refuse the first ``(option, column)`` whose column ``path`` lacks."""
    present = set(available)
    for option, name in wanted:
        if name not in present:
            raise missing_column(path, name, available, option=option)


# --------------------------------------------------------------------------- batches


def read_batches(path: str, columns: Sequence[str], batch_rows: int) -> Iterator[Chunk]:
    """The named columns of ``path`` as float64, at most ``batch_rows`` rows at a time.

    The columns must exist (see :func:`check_columns`). Raises :class:`CommandError` for
    an empty or non-numeric cell, with its row, and for a file PyArrow cannot parse.
    """
    names = list(dict.fromkeys(columns))
    if is_parquet(path):
        yield from _parquet_batches(path, names, batch_rows)
    else:
        yield from _csv_batches(path, names, batch_rows)


def _parquet_batches(path: str, names: list[str], batch_rows: int) -> Iterator[Chunk]:
    try:
        file = pq.ParquetFile(path, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
        schema = file.schema_arrow
    except (pa.ArrowException, OSError) as error:
        raise CommandError(f"{path}: cannot read it as Parquet: {error}") from None
    for name in names:
        kind = schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
                or pa.types.is_decimal(kind)):
            raise CommandError(
                f"{path}: column {name!r} holds {kind} values, not numbers. Give a numeric column, "
                "or convert this one to numbers first."
            )
    first_row = 1
    batches = file.iter_batches(batch_size=batch_rows, columns=names, use_threads=True)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as error:
            raise CommandError(f"{path}: cannot read it as Parquet (near row {first_row}): {error}") from None
        yield _chunk(path, first_row, batch, names)
        first_row += batch.num_rows


def _csv_options(path: str, names: list[str], kind: Any, threads: bool) -> dict[str, Any]:
    return {
        "read_options": pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=threads),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter(path)),
        "convert_options": pacsv.ConvertOptions(
            column_types={name: kind for name in names},
            include_columns=names,
            # Only an empty cell is missing; "NA", "null" and the like are not numbers.
            null_values=[""],
            strings_can_be_null=False,
            quoted_strings_can_be_null=True,
        ),
    }


def _csv_batches(path: str, names: list[str], batch_rows: int) -> Iterator[Chunk]:
    first_row = 1
    try:
        reader = pacsv.open_csv(path, **_csv_options(path, names, pa.float64(), threads=True))
        for batch in reader:
            for start in range(0, batch.num_rows, batch_rows):
                piece = batch.slice(start, batch_rows)
                yield _chunk(path, first_row, piece, names)
                first_row += piece.num_rows
    except pa.ArrowInvalid as error:
        raise _csv_error(path, names, first_row, error) from None
    except (pa.ArrowException, OSError) as error:
        raise CommandError(f"{path}: cannot read it as CSV (near row {first_row}): {error}") from None


def _chunk(path: str, first_row: int, batch: Any, names: list[str]) -> Chunk:
    columns: dict[str, Floats] = {}
    for name in names:
        column = batch.column(name)
        if column.null_count:
            row = first_row + int(pc.index(column.is_null(), True).as_py())
            raise CommandError(f"{path}, row {row}: column {name!r} is empty; every cell must hold a number.")
        if column.type != pa.float64():
            column = pc.cast(column, pa.float64(), safe=False)
        values: Floats = column.to_numpy(zero_copy_only=False)
        columns[name] = values
    return Chunk(path, first_row, columns)


# --------------------------------------------------------------------------- CSV errors, located


def _csv_error(path: str, names: list[str], first_row: int, error: Exception) -> CommandError:
    """The CSV error PyArrow raised, with the row it happened in (found by reading again)."""
    message = str(error)
    if message.startswith("Empty CSV file"):
        return CommandError(f"{path} is empty: a CSV file needs a header line naming its columns.")
    if "straddle" in message:
        return CommandError(
            f"{path}: a row (at or after row {first_row}) is longer than {CSV_BLOCK_BYTES // 1024} KiB, "
            "the most this command reads as one row. Is it a CSV file with one record per line?"
        )
    if "parse error" in message:
        return CommandError(f"{path}: {_parse_error_row(path, names, message)}")
    if "conversion error" in message:
        located = _unconvertible_cell(path, names, first_row)
        if located is not None:
            return located
    return CommandError(f"{path}: cannot read it as CSV (at or after row {first_row}): {message}")


def _parse_error_row(path: str, names: list[str], message: str) -> str:
    """Arrow's parse error with the data row it happened in (a row with too many or too few cells)."""
    found: list[Any] = []

    def handler(row: Any) -> str:
        found.append(row)
        return "error"

    options = _csv_options(path, names, pa.string(), threads=False)
    options["parse_options"] = pacsv.ParseOptions(delimiter=delimiter(path), invalid_row_handler=handler)
    try:
        for _ in pacsv.open_csv(path, **options):
            pass
    except (pa.ArrowException, OSError):
        pass
    if not found or found[0].number is None:
        return f"cannot read it as CSV: {message}"
    row = found[0]
    return (
        f"row {row.number - 1} (line {row.number}) has {_cells(row.actual_columns)} where the header has "
        f"{_cells(row.expected_columns)}: {row.text[:80]!r}. Every row must have one cell per column."
    )


def _cells(count: int) -> str:
    return f"{count} cell{'' if count == 1 else 's'}"


def _unconvertible_cell(path: str, names: list[str], start_row: int) -> CommandError | None:
    """Read the columns again as text and find the first cell that is not a number."""
    first_row = 1
    try:
        reader = pacsv.open_csv(path, **_csv_options(path, names, pa.string(), threads=True))
        for batch in reader:
            if first_row + batch.num_rows > start_row:
                problems = [_first_bad_cell(batch.column(name)) for name in names]
                found = [(index, name) for index, name in zip(problems, names, strict=True) if index is not None]
                if found:
                    index, name = min(found)
                    text = batch.column(name)[index].as_py()
                    row = first_row + index
                    what = "is empty" if text.strip() == "" else f"holds {text[:40]!r}, which is not a number"
                    return CommandError(
                        f"{path}, row {row} (line {row + 1}): column {name!r} {what}; every cell must "
                        "hold a number (such as 0.25, -3 or 1e-5)."
                    )
            first_row += batch.num_rows
    except (pa.ArrowException, OSError):
        return None
    return None


def _converts(column: Any) -> bool:
    try:
        pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
    except pa.ArrowInvalid:
        return False
    return True


def _first_bad_cell(column: Any) -> int | None:
    """The index of the first cell of a text column that is not a number (bisection)."""
    if _converts(column):
        return None
    low, high = 0, len(column)  # column[:low] converts, column[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if _converts(column.slice(0, middle)):
            low = middle
        else:
            high = middle
    return high - 1
