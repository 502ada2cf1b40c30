"""Whole CSV and Parquet files as named columns, read and written with PyArrow.

The format is told by the file's extension: ``.csv``, or ``.parquet`` (also ``.pq``).
``train`` reads a file whole (:func:`read_table`: a CSV column of numbers straight into
float64, never the whole file as text, in memory that goes back to the system as soon as
``train`` drops the column, see :meth:`Table.release`); ``evaluate`` and ``predict`` read it in batches
of bounded size (:func:`read_in_batches`), each batch a table of its own, and write
theirs batch by batch (:class:`TableWriter`).

Rows are numbered as a person counts them in a spreadsheet of the data: the first row
under the header is row 1. A CSV file must be UTF-8 text; its cells are read as text,
and a column is numbers when every cell is one by :mod:`neural_network.cli._numbers`
(the definition every command shares), empty cells aside. An empty cell is a missing
value (and so is a cell in a Parquet file that holds null); every other cell is taken as
written, so ``NA`` in a column of numbers is reported as a cell that is not a number
(see :meth:`Table.kind`). Every problem is a
:class:`~neural_network.cli._errors.CommandError` that names the file, the column and
the row.

This module imports PyArrow: only the commands that read or write data import it.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from neural_network.cli import _stream
from neural_network.cli._errors import CommandError, missing_columns
from neural_network.cli._numbers import EXAMPLES, WHOLE_CELL

FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
"""The extensions this module reads and writes, and the format each one names."""

SLAB_ROWS = 1 << 17
"""A CSV file read whole keeps each column of numbers in pieces of about this many rows (1 MiB),
each an array that NumPy allocates (from the system, as a block of its own) and PyArrow reads
without a copy: a column dropped once encoded gives its memory straight back to the system.
Kept in PyArrow's allocator, the small pieces of each block of the file, interleaved with the
other columns' on the same pages, would give back nothing until the last column went."""

Column = NDArray[np.float64] | list[str]
"""A column's values: numbers as float64, or text."""


def file_format(path: str, role: str) -> str:
    """The format (``"CSV"`` or ``"Parquet"``) that the extension of ``path`` names.

    ``role`` says what the file is for, e.g. ``"DATA"`` or ``"--output"``.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"the extension {suffix!r}" if suffix else "no extension"
        raise CommandError(
            f"{role} {path!r} has {shown}; use a .csv or .parquet file (the format is told by the extension)."
        )
    return FORMATS[suffix]


@dataclass
class Table:
    """A file's columns, by name, as PyArrow read them."""

    path: str
    data: Any  # pyarrow.Table
    untyped: bool = False
    """Whether the cells came as text with no type (CSV): then a column of numbers is told by its cells."""
    first_row: int = 1
    """The number, within its file, of the table's first row (a batch of a file read in batches)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.data.column_names)

    @property
    def rows(self) -> int:
        return int(self.data.num_rows)

    def release(self, name: str) -> None:
        """Forget a column that is no longer needed, and the memory it held."""
        self.data = self.data.drop_columns([name])
        give_back()

    def require(self, names: Sequence[str], role: str) -> None:
        """Raise the missing-columns error if any of ``names`` (``role``: why they are needed) is absent."""
        absent = [name for name in names if name not in self.columns]
        if absent:
            raise missing_columns(self.path, absent, self.columns, role=role)

    def is_numeric(self, name: str) -> bool:
        """Whether the column holds numbers (or booleans) rather than text."""
        kind = self.data.column(name).type
        return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
                    or pa.types.is_decimal(kind))

    def numbers(self, name: str, hint: str = "", *, missing: bool = False) -> NDArray[np.float64]:
        """The column as finite float64 numbers; an error names the first cell that is not one.

        ``hint`` is added to the error for a cell that is not a number. With ``missing``
        an empty cell is NaN (a value to impute) rather than an error.
        """
        column = self.data.column(name)
        if not missing:
            self._refuse_empty(name, column)
        if self.is_numeric(name):
            values = _float64(column)
        elif _is_text(column.type):
            values = self._parse_numbers(name, column, hint)
        else:
            raise CommandError(
                f"{self.path}: column {name!r} holds {column.type} values; expected numbers. "
                f"{_fix_for(column.type)}"
            )
        finite = np.isfinite(values)
        if missing and column.null_count:
            finite |= column.is_null().to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(~finite)
        if bad.size:
            row = int(bad[0])
            raise CommandError(
                f"{self.path}: column {name!r}, row {row + self.first_row}: {float(values[row])!r} is not a finite "
                "number; replace it or drop the row."
            )
        return values

    def kind(self, name: str) -> str:
        """``"number"``, ``"text"`` or ``"other"``: what the column's cells hold.

        A CSV column is numbers when every cell that is not empty is a number, and text
        when most of its cells are not numbers; a column of numbers with a few
        cells that are not (``n/a``, a typo) is an error naming the first of them, as
        guessing would hide a mistake in the file. A column with no cell at all is text.
        """
        column = self.data.column(name)
        if self.is_numeric(name):
            return "number"
        if not _is_text(column.type):
            return "other"
        if not self.untyped or column.null_count == len(column):
            return "text"
        row = _stream.first_non_number(column)
        if row is None:
            return "number"
        numbers = pc.sum(pc.match_substring_regex(column, WHOLE_CELL)).as_py() or 0
        if 2 * numbers > len(column) - column.null_count:
            self._parse_numbers(name, column, f" An empty cell is imputed; --drop {name} leaves the column out.")
        return "text"

    def values(self, name: str) -> Column:
        """The column as numbers or as text, with no cell empty.

        Numbers: a numeric column, or a CSV column every cell of which is a number. A text
        column of a Parquet file stays text, as its writer typed it.
        """
        column = self.data.column(name)
        self._refuse_empty(name, column)
        if self.is_numeric(name) or (
            self.untyped and _is_text(column.type) and _stream.first_non_number(column) is None
        ):
            return self.numbers(name)
        if not _is_text(column.type):
            raise CommandError(
                f"{self.path}: column {name!r} holds {column.type} values; expected numbers or text labels. "
                f"{_fix_for(column.type)}"
            )
        return [str(value) for value in column.to_pylist()]

    def _refuse_empty(self, name: str, column: Any) -> None:
        if column.null_count:
            row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise CommandError(
                f"{self.path}: column {name!r}, row {row + self.first_row} is empty (rows counted from 1 below the "
                "header); fill it in or drop the row."
            )

    def _parse_numbers(self, name: str, column: Any, hint: str) -> NDArray[np.float64]:
        """A text column as numbers: every cell must be one (see :mod:`neural_network.cli._numbers`)."""
        row = _stream.first_non_number(column)
        if row is not None:
            raise CommandError(
                f"{self.path}: column {name!r}, row {row + self.first_row}: {column[row].as_py()!r} is not a number "
                f"({EXAMPLES}; rows counted from 1 below the header); correct the cell or drop the row.{hint}"
            )
        # A chunk at a time into one NumPy array, so PyArrow never holds the column whole as text
        # trimmed or as numbers. An empty cell (null) stays null: NaN.
        return _float64(column, lambda chunk: pc.cast(pc.utf8_trim(chunk, " \t"), pa.float64()))


def _float64(column: Any, convert: Callable[[Any], Any] | None = None) -> NDArray[np.float64]:
    """A column (a ``pyarrow.ChunkedArray``) as a new float64 array, a null as NaN: each chunk is cast
    (or converted by ``convert``) and copied into an array NumPy allocates, so that no copy of the
    whole column is made in PyArrow's memory, which keeps what it frees (see :func:`give_back`)."""
    values = np.empty(len(column), dtype=np.float64)
    start = 0
    for chunk in column.chunks:
        numbers = convert(chunk) if convert is not None else chunk.cast(pa.float64())
        values[start : start + len(chunk)] = numbers.to_numpy(zero_copy_only=False)
        start += len(chunk)
    return values


def give_back() -> None:
    """Return to the system the memory that PyArrow's allocator, and C's, hold unused.

    PyArrow's allocator (mimalloc or jemalloc) keeps freed memory for reuse, so without this
    the blocks of text of a file read whole, and the text columns of a table dropped once
    encoded, would stay in the process's memory. So does the C library's ``malloc`` (glibc):
    once NumPy has freed an array of some size, it serves smaller arrays (a column's training
    rows, a mask) from its heap and keeps up to twice that size of them freed, tens of MB on
    a large file; ``malloc_trim`` gives that back (where there is no glibc, nothing is done).
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None on a system whose C library has none (macOS, Windows, musl)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def _is_text(kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _fix_for(kind: Any) -> str:
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "Its cells are not UTF-8 text: save the file with the UTF-8 encoding."
    return "Convert the column to numbers, or leave it out of the file."


# --------------------------------------------------------------------------- reading


def read_table(path: str) -> Table:
    """Read the whole CSV or Parquet file at ``path``; refuse a missing, unreadable or empty file."""
    kind = file_format(path, "DATA")
    _check_file(path, kind)
    names = _stream.columns_of(path, parquet=kind == "Parquet")  # refuses a name given to two columns
    data = _decoded(_read_csv(path, names) if kind == "CSV" else _read_parquet(path))
    if data.num_rows == 0:
        raise CommandError(f"{path} has no rows of data, only the column names {', '.join(map(repr, names))}.")
    return Table(path, data, untyped=kind == "CSV")


def _read_csv(path: str, names: Sequence[str]) -> Any:
    """The CSV file's columns: a column whose every cell is a number (or empty) as float64 (empty
    cells null), any other as text. Every cell is read as text first, numbers told by ``_numbers``;
    only an empty cell is missing ("NA" is text).

    Read in two passes so that memory holds the numbers as float64, never the whole file as
    text: the first streams every column in blocks, keeping the numbers of the columns that
    are numbers so far (in pieces of :data:`SLAB_ROWS` rows); the second reads only the
    columns found to hold text.
    """
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
    )
    try:
        numbers: dict[str, list[Any]] = {name: [] for name in names}
        pending: dict[str, list[Any]] = {name: [] for name in names}
        rows = pending_rows = 0
        options = pa_csv.ReadOptions(block_size=_stream.CSV_BLOCK_BYTES)
        for batch in pa_csv.open_csv(path, read_options=options, convert_options=convert):
            rows += batch.num_rows
            pending_rows += batch.num_rows
            for name in [name for name in names if name in numbers]:
                column = batch.column(name)
                if _stream.first_non_number(column) is None:
                    trimmed = pc.utf8_trim(column, " \t")
                    pending[name].append(pc.cast(trimmed, pa.float64()))
                else:
                    del numbers[name], pending[name]  # text: read whole in the second pass
            del batch
            if pending_rows >= SLAB_ROWS:
                _gather(numbers, pending)
                pending_rows = 0
        _gather(numbers, pending)
        text = [name for name in names if name not in numbers]
        words: Any = None
        if text:
            convert.include_columns = text
            words = pa_csv.read_csv(path, convert_options=convert)
            give_back()
        columns = [
            pa.chunked_array(numbers[name], pa.float64()) if name in numbers else words.column(name)
            for name in names
        ]
        if rows == 0:
            return pa.table({name: pa.array([], pa.string()) for name in names})
        return pa.table(dict(zip(names, columns, strict=True)))
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error):
            raise _stream.find_non_utf8(path) or CommandError(f"{path} is not UTF-8 text: {error}") from None
        if "Expected" in str(error) and "columns" in str(error):
            _explain_ragged_row(path, convert)
        raise CommandError(f"cannot read {path} as CSV: {error}") from None
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error}") from None


def _gather(numbers: dict[str, list[Any]], pending: dict[str, list[Any]]) -> None:
    """Join each column's pending pieces (one a block) into one array that NumPy allocates (and PyArrow
    reads without a copy), and give back the memory the pieces took in PyArrow's allocator."""
    for name, pieces in pending.items():
        if pieces:
            values = np.concatenate([piece.to_numpy(zero_copy_only=False) for piece in pieces])
            empty = sum(piece.null_count for piece in pieces)
            mask = (
                np.concatenate([piece.is_null().to_numpy(zero_copy_only=False) for piece in pieces]) if empty else None
            )
            numbers[name].append(pa.array(values, mask=mask))
            pieces.clear()
    give_back()


def _explain_ragged_row(path: str, convert: Any) -> None:
    """Read again on one thread, which knows the line of a row with the wrong number of cells."""
    found: list[Any] = []

    def record(row: Any) -> str:
        found.append(row)
        return "error"

    with contextlib.suppress(pa.ArrowInvalid):
        pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=False),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=record),
            convert_options=convert,
        )
    if found:
        row = found[0]
        line = f"line {row.number}" if row.number is not None else "a line"
        raise CommandError(
            f"cannot read {path} as CSV: {line} has {row.actual_columns} cell(s) where the header has "
            f"{row.expected_columns}: {row.text!r}. Quote cells that contain commas."
        )


def _read_parquet(path: str) -> Any:
    """The Parquet file's columns, read :data:`SLAB_ROWS` rows at a time: memory holds the table and
    one batch being decoded (reading it whole at once would take about three times the table)."""
    try:
        file = pq.ParquetFile(path, pre_buffer=False, buffer_size=_stream.PARQUET_BUFFER_BYTES)
        batches = list(file.iter_batches(batch_size=SLAB_ROWS))
        give_back()  # what decoding the file took
        return pa.Table.from_batches(batches) if batches else file.schema_arrow.empty_table()
    except (pa.ArrowException, OSError) as error:
        raise CommandError(f"cannot read {path} as Parquet: {error}") from None


def read_in_batches(path: str, names: Sequence[str], batch_rows: int) -> Iterator[Table]:
    """The named columns of the file at ``path``, ``batch_rows`` rows at a time, each batch a
    :class:`Table` that numbers its rows as the file does (its ``first_row``).

    The cells are read as :func:`read_table` reads them (CSV cells as text), so a batch
    gives what the whole table would; memory holds a few batches, whatever the file's size.
    The columns must exist (see :meth:`Table.require`, on :func:`header`).
    """
    kind = file_format(path, "DATA")
    wanted = list(dict.fromkeys(names))
    first_row = 1
    if kind == "Parquet":
        try:
            file = pq.ParquetFile(path, pre_buffer=False, buffer_size=_stream.PARQUET_BUFFER_BYTES)
            batches = file.iter_batches(batch_size=batch_rows, columns=wanted)
            for batch in batches:
                data = _decoded(pa.Table.from_batches([batch]))
                yield Table(path, data, untyped=False, first_row=first_row)
                first_row += batch.num_rows
        except (pa.ArrowException, OSError) as error:
            raise CommandError(f"cannot read {path} as Parquet (near row {first_row}): {error}") from None
        return
    options = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(wanted, pa.string()), include_columns=wanted,
        null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
    )
    try:
        reader = pa_csv.open_csv(
            path, read_options=pa_csv.ReadOptions(block_size=_stream.CSV_BLOCK_BYTES), convert_options=options
        )
        for batch in reader:
            for start in range(0, batch.num_rows, batch_rows):
                piece = batch.slice(start, batch_rows)
                yield Table(path, pa.Table.from_batches([piece]), untyped=True, first_row=first_row)
                first_row += piece.num_rows
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error):
            raise _stream.find_non_utf8(path) or CommandError(f"{path} is not UTF-8 text: {error}") from None
        raise _stream._csv_error(path, wanted, first_row, error) from None
    except (pa.ArrowException, OSError) as error:
        raise _stream.unreadable(path, error, first_row) from None


def copy_rows(path: str, rows: NDArray[np.intp], output: str, batch_rows: int = 1 << 16) -> None:
    """Write the given rows (0-based, sorted) of the file at ``path`` to ``output``, every column as the
    file holds it (CSV cells as written), reading and writing in batches."""
    names = _stream.columns_of(path, parquet=file_format(path, "DATA") == "Parquet")
    writer = TableWriter(output)
    try:
        for batch in read_in_batches(path, names, batch_rows):
            start = batch.first_row - 1
            low, high = np.searchsorted(rows, [start, start + batch.rows])
            if high > low:
                writer.write_arrow(batch.data.take(pa.array(rows[low:high] - start)))
        if not writer.started:  # no row at all: the header alone
            writer.write({name: [] for name in names})
        writer.close()
    except BaseException:
        writer.discard()
        raise


def header(path: str) -> Table:
    """A table of no rows with the file's columns: to check names before reading the data."""
    kind = file_format(path, "DATA")
    _check_file(path, kind)
    names = _stream.columns_of(path, parquet=kind == "Parquet")
    return Table(path, pa.table({name: pa.array([], pa.string()) for name in names}), untyped=kind == "CSV")


def _decoded(data: Any) -> Any:
    """The table with each categorical (dictionary) column as its values."""
    for index, column in enumerate(data.columns):
        if pa.types.is_dictionary(column.type):  # a categorical column (pandas' "category"): its values
            data = data.set_column(index, data.field(index).name, column.cast(column.type.value_type))
    return data


def _check_file(path: str, kind: str) -> None:
    location = Path(path)
    if not location.exists():
        where = "" if location.is_absolute() else f" (looked in {str(Path.cwd())!r})"
        raise CommandError(f"no file {path!r}{where}; check the path.")
    if location.is_dir():
        raise CommandError(f"{path!r} is a folder; expected a {kind} file.")


# --------------------------------------------------------------------------- writing


def write_table(columns: Mapping[str, Sequence[Any] | NDArray[Any]], path: str | None) -> None:
    """Write the columns to ``path`` (CSV or Parquet by its extension), or as CSV to standard output.

    CSV numbers are written as Python writes floats (the shortest text that reads back
    as the same number), and text is quoted only where it must be.
    """
    if path is None:
        try:
            _write_csv(columns, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped early (``| head``): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    kind = file_format(path, "--output")
    folder = Path(path).parent
    if not folder.is_dir():
        raise CommandError(f"cannot write {path!r}: the folder {str(folder)!r} does not exist.")
    try:
        if kind == "CSV":
            with open(path, "w", newline="", encoding="utf-8") as file:
                _write_csv(columns, file)
        else:
            table = pa.table({name: _plain(values) for name, values in columns.items()})
            pq.write_table(table, path)
    except (OSError, pa.ArrowException) as error:
        raise CommandError(f"cannot write {path!r}: {error}") from None


def _write_csv(columns: Mapping[str, Sequence[Any] | NDArray[Any]], file: Any) -> None:
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(list(columns))
    cells = [_plain(values) for values in columns.values()]
    writer.writerows(zip(*cells, strict=True))


def _plain(values: Sequence[Any] | NDArray[Any]) -> list[Any]:
    """Python values (str, int, float), which both writers render exactly."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


class TableWriter:
    """Columns written batch by batch: to a CSV or Parquet file, or as CSV to standard output.

    A file is written under a temporary name in its folder and given its name by
    :meth:`close` (so a failed command leaves no half-written file behind, and an
    existing file is replaced only by a complete one); :meth:`discard` removes it.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._header = True
        self._parquet: Any = None
        self._file: Any = None
        self._files = contextlib.ExitStack()
        self._partial: str | None = None
        if path is None:
            self._kind = "CSV"
            return
        self._kind = file_format(path, "--output")
        folder = Path(path).parent
        if not folder.is_dir():
            raise CommandError(f"cannot write {path!r}: the folder {str(folder)!r} does not exist.")
        self._partial = str(folder / f".{Path(path).name}.partial")

    def write(self, columns: Mapping[str, Sequence[Any] | NDArray[Any]]) -> None:
        """Write the next rows (the same columns every time)."""
        try:
            if self.path is None:
                self._write_stdout(columns)
            elif self._kind == "CSV":
                if self._file is None:
                    self._file = self._files.enter_context(_open_text(self._partial or ""))
                self._write_rows(columns, self._file)
            else:
                table = pa.table({name: _plain(values) for name, values in columns.items()})
                if self._parquet is None:
                    self._parquet = pq.ParquetWriter(self._partial or "", table.schema)
                self._parquet.write_table(table.cast(self._parquet.schema))
        except (OSError, pa.ArrowException) as error:
            self.discard()
            raise CommandError(f"cannot write {self.path!r}: {error}") from None

    @property
    def started(self) -> bool:
        """Whether anything was written yet."""
        return not self._header or self._parquet is not None

    def write_arrow(self, table: Any) -> None:
        """Write the rows of a ``pyarrow.Table`` (the same columns every time), keeping its types in Parquet."""
        if self._kind == "CSV" or self.path is None:
            self.write(table.to_pydict())
            return
        try:
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._partial or "", table.schema)
            self._parquet.write_table(table)
        except (OSError, pa.ArrowException) as error:
            self.discard()
            raise CommandError(f"cannot write {self.path!r}: {error}") from None

    def _write_stdout(self, columns: Mapping[str, Sequence[Any] | NDArray[Any]]) -> None:
        try:
            self._write_rows(columns, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped early (``| head``): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def _write_rows(self, columns: Mapping[str, Sequence[Any] | NDArray[Any]], file: Any) -> None:
        writer = csv.writer(file, lineterminator="\n")
        if self._header:
            writer.writerow(list(columns))
            self._header = False
        writer.writerows(zip(*(_plain(values) for values in columns.values()), strict=True))

    def close(self) -> None:
        """Finish the file and give it its name."""
        try:
            self._files.close()
            if self._parquet is not None:
                self._parquet.close()
            if self._partial is not None and self.path is not None and os.path.exists(self._partial):
                os.replace(self._partial, self.path)
        except (OSError, pa.ArrowException) as error:
            self.discard()
            raise CommandError(f"cannot write {self.path!r}: {error}") from None

    def discard(self) -> None:
        """Stop writing and remove the temporary file."""
        with contextlib.suppress(OSError, pa.ArrowException):
            self._files.close()
            if self._parquet is not None:
                self._parquet.close()
        self._file = self._parquet = None
        if self._partial is not None:
            with contextlib.suppress(OSError):
                os.remove(self._partial)


@contextlib.contextmanager
def _open_text(path: str) -> Iterator[Any]:
    """A UTF-8 text file opened for writing CSV rows."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        yield file
