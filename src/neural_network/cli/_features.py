"""The table -> features step of ``train``, ``evaluate`` and ``predict``: what each column becomes.

Learned on the training rows by ``train`` (:func:`learn`) and stored in the model file
(:meth:`ColumnSpec.to_json`, plain JSON), then applied to any table by every command
(:func:`encode`), columns found by name in any order:

* **A column of numbers** is one feature. An empty cell takes the training rows' median;
  where the training rows had empty cells, a second feature ``<name> (missing)`` is 1
  for an imputed cell and 0 otherwise (so the network can tell a guessed value).
* **A text column** with few distinct values is one-hot: a feature ``<name>=<value>``
  per value seen in the training rows, 1 where the cell holds that value. An empty cell
  is a value of its own (``<name>=(empty)``). A value the training rows never held
  gives all zeros, and the commands count the rows that had one.
* **A text column with too many distinct values** to be a category (ids, names, free
  text): more than :data:`MAX_CATEGORIES`, or more than half the training rows, is left
  out, and ``train`` says so, naming it.
* **Any column** can be left out with ``--drop``; other kinds of column (dates, times,
  binary) must be left out or converted.

The numbers are then standardized (see :mod:`neural_network.cli._model_file`); the
one-hot and missing-indicator features are left as 0 and 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from neural_network.cli._errors import CommandError

MAX_CATEGORIES = 50
"""The most distinct values a text column may hold in the training rows to be one-hot."""

EMPTY = ""
"""The category of an empty text cell (shown as ``(empty)`` in feature names)."""

Kind = Literal["number", "category"]


@dataclass(frozen=True)
class ColumnSpec:
    """What one column of the table becomes: see the module's description."""

    name: str
    kind: Kind
    median: float | None = None
    """Numbers: the value of an empty cell (the training median); None where an empty cell is refused."""
    indicator: bool = False
    """Numbers: whether a ``(missing)`` feature follows the column's own."""
    categories: tuple[str, ...] = ()
    """Text: the values seen in the training rows, sorted; ``""`` for the empty cell."""

    @property
    def width(self) -> int:
        """The number of features the column gives."""
        if self.kind == "category":
            return len(self.categories)
        return 2 if self.indicator else 1

    def feature_names(self) -> list[str]:
        if self.kind == "category":
            return [f"{self.name}={category if category != EMPTY else '(empty)'}" for category in self.categories]
        return [self.name, f"{self.name} (missing)"] if self.indicator else [self.name]

    def to_json(self) -> dict[str, Any]:
        if self.kind == "category":
            return {"name": self.name, "kind": "category", "categories": list(self.categories)}
        return {"name": self.name, "kind": "number", "median": self.median, "indicator": self.indicator}

    @staticmethod
    def from_json(part: object) -> ColumnSpec:
        """The spec stored by :meth:`to_json`; ``ValueError`` (or ``KeyError``, ``TypeError``) if damaged."""
        if not isinstance(part, dict):
            raise ValueError("columns")
        name = part["name"]
        if not isinstance(name, str):
            raise ValueError("column name")
        if part["kind"] == "category":
            categories = part["categories"]
            if not isinstance(categories, list) or not all(isinstance(item, str) for item in categories):
                raise ValueError(f"categories of {name!r}")
            return ColumnSpec(name, "category", categories=tuple(categories))
        if part["kind"] != "number":
            raise ValueError(f"kind of {name!r}")
        median = part["median"]
        if median is not None and not (isinstance(median, (int, float)) and np.isfinite(median)):
            raise ValueError(f"median of {name!r}")
        indicator = part["indicator"]
        if not isinstance(indicator, bool) or (indicator and median is None):
            raise ValueError(f"indicator of {name!r}")
        return ColumnSpec(name, "number", None if median is None else float(median), indicator)


@dataclass
class Learned:
    """The columns kept, in input order, and a line for each column left out."""

    specs: list[ColumnSpec]
    left_out: list[str] = field(default_factory=list)


@dataclass
class Counts:
    """What :func:`encode` met: rows with a value unseen in training, and cells imputed, per column."""

    unseen: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    unseen_rows: int = 0

    def add(self, other: Counts) -> None:
        for name, count in other.unseen.items():
            self.unseen[name] = self.unseen.get(name, 0) + count
        for name, count in other.imputed.items():
            self.imputed[name] = self.imputed.get(name, 0) + count
        self.unseen_rows += other.unseen_rows


def kinds(table: Any, names: Sequence[str]) -> dict[str, str]:
    """``"number"`` or ``"text"`` for each column of ``names`` (in ``table``, a ``_table.Table``);
    a column of another kind, or of numbers with a cell that is not one, is an error naming it."""
    from neural_network.cli._table import give_back

    found: dict[str, str] = {}
    for name in names:
        kind = table.kind(name)
        if kind == "other":
            kind_name = table.data.column(name).type
            raise CommandError(
                f"{table.path}: column {name!r} holds {kind_name} values, which are neither numbers nor text. "
                f"Leave it out with --drop {name}, or convert it to numbers or text."
            )
        if kind == "number":
            table.numbers(name, missing=True)  # refuses inf and nan, naming the row
        found[name] = kind
    give_back()  # what the checks took
    return found


def learn(table: Any, kinds: dict[str, str], rows: NDArray[np.intp]) -> Learned:
    """What each column of ``kinds`` (see :func:`kinds`) becomes, from the ``rows`` of ``table`` to train on."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from neural_network.cli._table import give_back

    learned = Learned([])
    picked = pa.array(rows)
    for name, kind in kinds.items():
        if kind == "number":
            values = table.numbers(name, missing=True)[rows]
            present = values[~np.isnan(values)]
            count = values.size
            del values  # the training rows' numbers are held once
            if present.size == 0:
                learned.left_out.append(f"{name!r}: empty in every training row")
                continue
            learned.specs.append(ColumnSpec(name, "number", float(np.median(present)), bool(present.size < count)))
            continue
        text = pc.fill_null(table.data.column(name).take(picked).cast(pa.string()), EMPTY)
        categories = sorted(str(value) for value in pc.unique(text).to_pylist())
        del text
        filled = [category for category in categories if category != EMPTY]
        if len(filled) > MAX_CATEGORIES or len(filled) > len(rows) / 2:
            learned.left_out.append(
                f"{name!r}: text with {len(filled):,} distinct values in {len(rows):,} training rows is not a "
                f"category (at most {MAX_CATEGORIES}, and at most half the rows): an id or a name?"
            )
            continue
        learned.specs.append(ColumnSpec(name, "category", categories=tuple(categories)))
    give_back()  # the training rows taken of each column, and what came before (the target, the split)
    return learned


def width(specs: Sequence[ColumnSpec]) -> int:
    return sum(spec.width for spec in specs)


def feature_names(specs: Sequence[ColumnSpec]) -> list[str]:
    return [name for spec in specs for name in spec.feature_names()]


def encode(
    table: Any, specs: Sequence[ColumnSpec], out: NDArray[np.float64], order: NDArray[np.intp] | None = None,
    *, release: bool = False,
) -> Counts:
    """Fill ``out`` (rows x :func:`width`) with the raw features of ``table``'s rows (``order``: which, in
    which order; default all) and return what was imputed or unseen. ``out`` is written column by
    column, so no copy of the whole table is made; with ``release`` each column of the table is
    dropped once encoded (``train``: with ``out`` in column-major order, the memory the table
    gives back is what the next columns of ``out`` take)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counts = Counts()
    unseen_any = np.zeros(out.shape[0], dtype=bool)
    position = 0
    for spec in specs:
        if spec.kind == "number":
            values = table.numbers(spec.name, missing=spec.median is not None)
            feature = out[:, position]
            if order is not None:  # straight into ``out`` ("clip": unbuffered; the rows are in range)
                np.take(values, order, out=feature, mode="clip")
            else:
                feature[...] = values
            del values
            empty = np.isnan(feature)
            imputed = int(np.count_nonzero(empty))
            if imputed:
                counts.imputed[spec.name] = imputed
                feature[empty] = spec.median
            if spec.indicator:
                out[:, position + 1] = empty
            position += spec.width
            if release:
                table.release(spec.name)
            continue
        column = table.data.column(spec.name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.string())  # numbers in a column that was text in training
        # A value not among the categories is unseen (-1); an empty cell (null) is the category
        # EMPTY where training met one, else unseen too.
        codes = pc.index_in(column, value_set=pa.array(spec.categories, pa.string()))
        found = np.asarray(pc.fill_null(codes, -1).to_numpy(zero_copy_only=False))  # int32
        del codes
        if EMPTY in spec.categories and column.null_count:
            empty = np.asarray(column.is_null().to_numpy(zero_copy_only=False))
            found = np.where(empty, spec.categories.index(EMPTY), found)
            del empty
        if order is not None:
            found = found[order]
        for offset in range(spec.width):  # 1.0 where the cell holds the category, 0.0 elsewhere
            out[:, position + offset] = found == offset
        known = found >= 0
        unseen = int(found.size - np.count_nonzero(known))
        if unseen:
            counts.unseen[spec.name] = unseen
            unseen_any |= ~known
        position += spec.width
        if release:
            del column, found, known
            table.release(spec.name)
    counts.unseen_rows = int(np.count_nonzero(unseen_any))
    return counts
