"""Whole CSV and Parquet files as named columns, read and written with PyArrow.

The format is told by the file's extension: ``.csv``, or ``.parquet`` (also ``.pq``).
A file is read whole into memory (``train``, ``evaluate`` and ``predict`` need all of it).

Rows are numbered as a person counts them in a spreadsheet of the data: the first row
under the header is row 1. A CSV file must be UTF-8 text; its cells are read as text,
and a column is numbers when every cell is one by :mod:`neural_network.cli._numbers`
(the definition every command shares). An empty cell is a missing value (and so is a
cell in a Parquet file that holds null); every other cell is taken as written, so ``NA``
in a column of numbers is reported as a cell that is not a number. Every problem is a
:class:`~neural_network.cli._errors.CommandError` that names the file, the column and
the row.

This module imports PyArrow: only the commands that read or write data import it.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
from collections.abc import Mapping, Sequence
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
from neural_network.cli._numbers import EXAMPLES

FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
"""The extensions this module reads and writes, and the format each one names."""

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


@dataclass(frozen=True)
class Table:
    """A file's columns, by name, as PyArrow read them."""

    path: str
    data: Any  # pyarrow.Table
    untyped: bool = False
    """Whether the cells came as text with no type (CSV): then a column of numbers is told by its cells."""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.data.column_names)

    @property
    def rows(self) -> int:
        return int(self.data.num_rows)

    def subset(self, rows: NDArray[np.intp]) -> dict[str, list[Any]]:
        """The given rows of every column, as Python values (to write them out again)."""
        return dict(self.data.take(pa.array(rows)).to_pydict())

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

    def numbers(self, name: str, hint: str = "") -> NDArray[np.float64]:
        """The column as finite float64 numbers; an error names the first cell that is not one.

        ``hint`` is added to the error for a cell that is not a number.
        """
        column = self.data.column(name)
        self._refuse_empty(name, column)
        if self.is_numeric(name):
            values = np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)
        elif _is_text(column.type):
            values = self._parse_numbers(name, column, hint)
        else:
            raise CommandError(
                f"{self.path}: column {name!r} holds {column.type} values; expected numbers. "
                f"{_fix_for(column.type)}"
            )
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            row = int(bad[0])
            raise CommandError(
                f"{self.path}: column {name!r}, row {row + 1}: {float(values[row])!r} is not a finite number; "
                "replace it or drop the row."
            )
        return values

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
                f"{self.path}: column {name!r}, row {row + 1} is empty (rows counted from 1 below the "
                "header); fill it in or drop the row."
            )

    def _parse_numbers(self, name: str, column: Any, hint: str) -> NDArray[np.float64]:
        """A text column as numbers: every cell must be one (see :mod:`neural_network.cli._numbers`)."""
        row = _stream.first_non_number(column)
        if row is not None:
            raise CommandError(
                f"{self.path}: column {name!r}, row {row + 1}: {column[row].as_py()!r} is not a number "
                f"({EXAMPLES}; rows counted from 1 below the header); correct the cell or drop the row.{hint}"
            )
        trimmed = pc.utf8_trim(column, " \t")
        return np.asarray(pc.cast(trimmed, pa.float64()).to_numpy(), dtype=np.float64)


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
    location = Path(path)
    if not location.exists():
        where = "" if location.is_absolute() else f" (looked in {str(Path.cwd())!r})"
        raise CommandError(f"no file {path!r}{where}; check the path.")
    if location.is_dir():
        raise CommandError(f"{path!r} is a folder; expected a {kind} file.")
    names = _stream.columns_of(path, parquet=kind == "Parquet")  # refuses a name given to two columns
    data = _read_csv(path, names) if kind == "CSV" else _read_parquet(path)
    for index, column in enumerate(data.columns):
        if pa.types.is_dictionary(column.type):  # a categorical column (pandas' "category"): its values
            data = data.set_column(index, data.field(index).name, column.cast(column.type.value_type))
    if data.num_rows == 0:
        raise CommandError(f"{path} has no rows of data, only the column names {', '.join(map(repr, names))}.")
    return Table(path, data, untyped=kind == "CSV")


def _read_csv(path: str, names: Sequence[str]) -> Any:
    # Every cell as text, numbers told by _numbers; only an empty cell is missing ("NA" is text).
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
    )
    try:
        return pa_csv.read_csv(path, convert_options=convert)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error):
            raise _stream.find_non_utf8(path) or CommandError(f"{path} is not UTF-8 text: {error}") from None
        if "Expected" in str(error) and "columns" in str(error):
            _explain_ragged_row(path, convert)
        raise CommandError(f"cannot read {path} as CSV: {error}") from None
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error}") from None


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
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise CommandError(f"cannot read {path} as Parquet: {error}") from None


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
