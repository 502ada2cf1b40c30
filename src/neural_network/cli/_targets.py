"""What a target column asks for: the task, its classes, and the targets the loss takes.

``--task auto`` reads the task from the column:

* text (``"M"``, ``"setosa"``): classification, its distinct values being the classes,
  sorted (2 values: binary; 3 to :data:`MAX_AUTO_CLASSES`: multiclass); text that
  mixes numbers with other cells (``1``, ``0``, ``NA``) is refused, naming the row;
* whole numbers with 2 distinct values: binary;
* whole numbers with 3 to :data:`MAX_AUTO_CLASSES` distinct values, fewer than half the
  rows: multiclass;
* any other numbers: regression.

Classes are numbered 0, 1, ... in sorted order (so binary labels 1 and 2, or ``"B"`` and
``"M"``, become 0 and 1); the model keeps the labels and its predictions give them back.
A task given with ``--task`` must fit the column, or the command says why it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from neural_network.cli._errors import CommandError
from neural_network.cli._numbers import is_number

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("auto", "binary", "multiclass", "regression")
"""The choices of ``--task``."""

LOSSES: dict[str, str] = {
    "binary": "binary_cross_entropy_with_logits",
    "multiclass": "cross_entropy",
    "regression": "mse_loss",
}
"""The loss each task trains with (on the logits, for classification)."""

MAX_AUTO_CLASSES = 20
"""The most classes ``--task auto`` infers; pass ``--task multiclass`` for more."""

Label = str | int | float
"""A class label as the file writes it: text, or a number (whole numbers as int)."""

Values = NDArray[np.float64] | list[str]
"""A target column: numbers, or text."""


@dataclass(frozen=True)
class Target:
    """The task, the class labels (classification) and the encoded targets.

    ``y`` holds class indices (int64) for classification and the values (float64) for
    regression. ``reason`` says, for a person, why this task.
    """

    task: Task
    classes: tuple[Label, ...] | None
    y: NDArray[np.int64] | NDArray[np.float64]
    reason: str

    @property
    def loss(self) -> str:
        return LOSSES[self.task]

    @property
    def outputs(self) -> int:
        """The number of outputs the network needs: one logit per class for multiclass."""
        return len(self.classes) if self.task == "multiclass" and self.classes else 1


def infer_target(values: Values, name: str, task: str) -> Target:
    """The :class:`Target` of a column called ``name`` for ``--task task`` (the classes sorted)."""
    # --task auto or regression: at most the labels that can tell the task (no Python object per
    # value of a column of numbers with as many distinct values as rows).
    distinct, count = _distinct(values, None if task in ("binary", "multiclass") else MAX_AUTO_CLASSES + 1)
    rows = len(values)
    if count < 2:
        raise CommandError(
            f"the target column {name!r} holds a single value, {distinct[0]!r}: there is nothing to learn. "
            "Choose another column with --target."
        )
    if task == "auto":
        task = _auto_task(values, name, distinct, count, rows)
        why = f"column {name!r}"
    else:
        _check_fits(values, name, task, distinct)
        why = f"given with --task; column {name!r}"
    if task == "regression":
        return Target(
            "regression", None, np.asarray(values, dtype=np.float64),
            f"regression ({why} holds {count} distinct numbers in {rows} rows)",
        )
    classes = tuple(distinct)
    y = encode(values, classes, name, "the target")
    kind: Task = "binary" if task == "binary" else "multiclass"
    numbered = ", ".join(f"{label} = class {index}" for index, label in enumerate(classes[:MAX_AUTO_CLASSES]))
    more = ", ..." if count > MAX_AUTO_CLASSES else ""
    return Target(kind, classes, y, f"{kind} ({why} has {count} values: {numbered}{more})")


def encode(values: Values, classes: Sequence[Label], name: str, role: str, *, first_row: int = 1) -> NDArray[np.int64]:
    """The class index of each value; an error names the first row whose label is not a class
    (the values' first row being row ``first_row`` of the file)."""
    if not isinstance(values, list) and all(_exact_number(label) for label in classes):
        return _encode_numbers(values, classes, name, role, first_row)
    index: dict[Label, int] = {label: position for position, label in enumerate(classes)}
    labels = values if isinstance(values, list) else [_label(value) for value in values.tolist()]
    codes = np.empty(len(labels), dtype=np.int64)
    for row, label in enumerate(labels):
        code = index.get(label)
        if code is None:
            raise CommandError(
                f"column {name!r} ({role}), row {row + first_row}: {label!r} is not one of the model's classes "
                f"{_show(list(classes))}."
            )
        codes[row] = code
    return codes


def _encode_numbers(
    values: NDArray[np.float64], classes: Sequence[Label], name: str, role: str, first_row: int
) -> NDArray[np.int64]:
    """:func:`encode` of numbers with classes that are numbers, on arrays (no Python object per value):
    a value's class is the last one equal to it, as the dictionary of :func:`encode` finds it."""
    labels = np.array(classes, dtype=np.float64)
    order = np.argsort(labels, kind="stable")
    ranked = labels[order]
    place = np.maximum(np.searchsorted(ranked, values, side="right") - 1, 0)
    found = ranked[place] == values if ranked.size else np.zeros(len(values), dtype=bool)
    if not np.all(found):
        row = int(np.flatnonzero(~found)[0])
        raise CommandError(
            f"column {name!r} ({role}), row {row + first_row}: {_label(float(values[row]))!r} is not one of the "
            f"model's classes {_show(list(classes))}."
        )
    return order[place].astype(np.int64, copy=False)


def _exact_number(label: Label) -> bool:
    """Whether a label is a number that float64 holds exactly (so arrays compare as Python does)."""
    if isinstance(label, str):
        return False
    try:
        return float(label) == label
    except OverflowError:
        return False


def _auto_task(values: Values, name: str, distinct: list[Label], count: int, rows: int) -> str:
    """The task of ``--task auto``; ``distinct`` holds the first of the ``count`` distinct values (of
    numbers, up to ``MAX_AUTO_CLASSES + 1``: enough to tell the task; of text, all)."""
    if isinstance(values, list):
        row, cell = _first_non_number(values)
        if row >= 0 and any(_is_number(label) for label in distinct):  # 0, 1 and "NA": a bad cell
            raise CommandError(
                f"the target column {name!r} mixes numbers and text: row {row + 1} holds {cell!r}. "
                "Correct or drop that row (an empty cell or a marker such as NA is not a value), or pass "
                "--task multiclass to make every distinct text a class."
            )
        if count <= MAX_AUTO_CLASSES:
            return "binary" if count == 2 else "multiclass"
        raise CommandError(
            f"the target column {name!r} holds text with {count} distinct values: too many to be classes "
            f"with --task auto (at most {MAX_AUTO_CLASSES}). Choose another column with --target, or pass "
            "--task multiclass if it really has that many classes."
        )
    whole = all(isinstance(label, int) for label in distinct)
    if whole and count == 2:
        return "binary"
    if whole and count <= MAX_AUTO_CLASSES and count < rows / 2:
        return "multiclass"
    return "regression"


def _check_fits(values: Values, name: str, task: str, distinct: list[Label]) -> None:
    count = len(distinct)
    if task == "binary" and count != 2:
        raise CommandError(
            f"--task binary needs a target with exactly 2 values; column {name!r} has {count}: "
            f"{_show(distinct)}. Use --task multiclass or --task auto."
        )
    if task == "regression" and isinstance(values, list):
        row, cell = _first_non_number(values)
        where = f"row {row + 1} holds {cell!r}" if row >= 0 else "it is stored as text"
        raise CommandError(
            f"--task regression needs numbers; column {name!r} holds text ({where}). "
            "Use --task auto to classify it, or correct the column."
        )
    if task == "multiclass" and not isinstance(values, list):
        fraction = next((label for label in distinct if not isinstance(label, int)), None)
        if fraction is not None:
            raise CommandError(
                f"--task multiclass needs class labels, whole numbers or text; column {name!r} holds "
                f"{fraction!r}. Use --task regression for a quantity."
            )


def _distinct(values: Values, limit: int | None = None) -> tuple[list[Label], int]:
    """The distinct values, sorted (of numbers, only the first ``limit`` when given), and how many there are."""
    if isinstance(values, list):
        labels: list[Label] = sorted(set(values))
        return labels, len(labels)
    unique = np.unique(values)
    return [_label(value) for value in unique[:limit].tolist()], int(unique.size)


def _label(value: float) -> Label:
    """A number as a label: whole numbers as int (``1``, not ``1.0``)."""
    return int(value) if float(value).is_integer() else float(value)


def _first_non_number(cells: list[str]) -> tuple[int, str]:
    for row, cell in enumerate(cells):
        if not _is_number(cell):
            return row, cell
    return -1, ""


def _is_number(label: Label) -> bool:
    """Whether a label is a number: a text label by the definition every command shares."""
    return is_number(label) if isinstance(label, str) else True


def _show(labels: Sequence[Label], limit: int = 10) -> str:
    shown = ", ".join(str(label) for label in labels[:limit])
    return shown + (f", ... ({len(labels)} in all)" if len(labels) > limit else "")
