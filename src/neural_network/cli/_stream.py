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

from neural_network.cli._errors import CommandError, missing_column, refuse_repeated_columns
from neural_network.cli._numbers import EXAMPLES, WHOLE_CELL

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


def columns_of(path: str, parquet: bool | None = None) -> list[str]:
    """The column names of a CSV (its header) or Parquet file (its schema), each named once.

    Every command reads the names with this before any data: a header that is not UTF-8,
    a damaged compressed file and a name given to two columns are refused here.
    ``parquet`` says which format to read; by default the file's magic bytes tell.
    """
    if parquet is None:
        parquet = is_parquet(path)
    if parquet:
        try:
            names = list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowException, OSError) as error:
            raise CommandError(f"{path}: cannot read it as Parquet: {error}") from None
    else:
        header = _csv_header(path)
        if header is None:
            raise CommandError(f"{path} is empty: a CSV file needs a header line naming its columns.")
        names = header
    refuse_repeated_columns(path, names)
    return names


def _csv_header(path: str) -> list[str] | None:
    """The first record of a CSV file, read with the csv module (compressed files too)."""
    data = b""
    try:
        with pa.input_stream(path, compression="detect") as stream:
            while b"\n" not in data:
                block = stream.read(1 << 16)
                if not block:
                    break
                data += block
    except (pa.ArrowException, OSError) as error:
        raise unreadable(path, error) from None
    first_line = data.partition(b"\n")[0]
    try:
        first_line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_utf8(path, 1, first_line, None) from None
    text = data.decode("utf-8-sig", errors="replace")  # only the first line is used, unless a name spans lines
    for row in csv.reader(io.StringIO(text), delimiter=delimiter(path)):
        return row or None
    return None


def unreadable(path: str, error: Exception, first_row: int | None = None) -> CommandError:
    """The error for a file that cannot be read: a damaged compressed file is said to be one."""
    near = "" if first_row is None else f" (near row {first_row})"
    suffix = compression_of(path)
    if suffix is None:
        return CommandError(f"{path}: cannot read it{near}: {error}")
    return CommandError(
        f"{path}: cannot decompress it{near}: {error}. It is not a valid {suffix} file, or it is damaged or "
        "cut short: compress the CSV file again, or download it again (`gzip -t FILE` tests a .gz file)."
    )


# --------------------------------------------------------------------------- text that is not UTF-8


def not_utf8(path: str, line_number: int, line: bytes, header: Sequence[str] | None) -> CommandError:
    """The error for ``line`` (the ``line_number``-th of the file, 1 for the header), which is not UTF-8.

    Names the first cell that is not UTF-8 (its column from ``header``, where given),
    shows it, and says how to fix the file.
    """
    # Latin-1 gives every byte a character of its own, so a cell's bytes come back exactly.
    cells = [cell.encode("latin-1") for cell in next(csv.reader([line.decode("latin-1")], delimiter=delimiter(path)))]
    index = next((index for index, cell in enumerate(cells) if not _is_utf8(cell)), 0)
    cell = cells[index] if cells else line
    if line_number == 1:
        where = f"its header (line 1), in the name of column {index + 1},"
    elif header is not None and index < len(header):
        where = f"column {header[index]!r}, row {line_number - 1} (line {line_number}),"
    else:
        where = f"row {line_number - 1} (line {line_number}), column {index + 1},"
    shown = cell.decode("utf-8", errors="backslashreplace")  # the bytes UTF-8 refuses, as \xe9
    return CommandError(
        f"{path} is not UTF-8 text: {where} holds '{shown}'. "
        "The file was saved in another encoding (such as Latin-1 or Windows-1252). Save it as UTF-8 (in a "
        'spreadsheet: "CSV UTF-8"), or convert it: iconv -f latin1 -t utf-8 OLD.csv > NEW.csv'
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def find_non_utf8(path: str) -> CommandError | None:
    """The error for the first line of a CSV file that is not UTF-8, or None if every line is.

    A second pass over the file, taken only when a reader has met text that is not UTF-8.
    """
    header: list[str] | None = None
    try:
        with pa.input_stream(path, compression="detect") as stream:
            for number, line in enumerate(io.BufferedReader(stream), start=1):
                try:
                    text = line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    return not_utf8(path, number, line.rstrip(b"\r\n"), header)
                if number == 1:
                    header = next(csv.reader([text], delimiter=delimiter(path)), [])
    except (pa.ArrowException, OSError):
        return None
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
        raise unreadable(path, error, first_row) from None


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
    """Read the columns again as text and find the first cell that is not a number (or not UTF-8)."""
    first_row = 1
    try:
        reader = pacsv.open_csv(path, **_csv_options(path, names, pa.string(), threads=True))
        for batch in reader:
            if first_row + batch.num_rows > start_row:
                problems = [first_non_number(batch.column(name)) for name in names]
                found = [(index, name) for index, name in zip(problems, names, strict=True) if index is not None]
                if found:
                    index, name = min(found)
                    text = batch.column(name)[index].as_py()
                    row = first_row + index
                    what = "is empty" if text.strip() == "" else f"holds {text[:40]!r}, which is not a number"
                    return CommandError(
                        f"{path}, row {row} (line {row + 1}): column {name!r} {what}; every cell must "
                        f"hold a number ({EXAMPLES})."
                    )
            first_row += batch.num_rows
    except pa.ArrowInvalid as error:
        return find_non_utf8(path) if "UTF8" in str(error) else None
    except (pa.ArrowException, OSError):
        return None
    return None


def first_non_number(column: Any) -> int | None:
    """The index of the first cell of a text column that is not a number (see ``_numbers``), or None.

    A missing cell (null) is passed over: it is reported as empty where it is read.
    """
    numbers = pc.fill_null(pc.match_substring_regex(column, WHOLE_CELL), True)
    index = int(pc.index(numbers, False).as_py())
    return None if index < 0 else index
