"""Every input check of the pure edition, kept here so that the article modules read cleanly.

Each check raises an exception from :mod:`neural_network.errors` (the same classes as
the NumPy edition) whose message names the function and the argument, says what was
expected and what was received, and gives the fix for the classic mistakes. Nothing
is repaired silently. Standard library only.
"""

from __future__ import annotations

import difflib
import math
import numbers
import random
from collections.abc import Iterable, Sequence
from typing import TypeGuard

from neural_network.errors import (
    EmptyInputError,
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)

Matrix = list[list[float]]
"""A list of rows, each a list of floats: one row per sample (or per input, for weights)."""


# --------------------------------------------------------------------------- options


def positive_integer(func: str, name: str, value: object) -> int:
    """``value`` as an int if it is a whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidOptionError(f"{func}: {name} must be a positive integer; got {describe(value)}.")
    return int(value)


def real_option(
    func: str, name: str, value: object, *, low: float, high: float = math.inf, hint: str = ""
) -> float:
    """``value`` as a float if it is a finite real number with ``low <= value < high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fix = f" Pass the number itself, {name}={value.strip()}, not a string." if isinstance(value, str) else ""
        raise InvalidOptionError(f"{func}: {name} must be a real number; got {describe(value)}.{fix}")
    number = float(value)
    if not math.isfinite(number) or not low <= number < high:
        interval = f"[{low:g}, {high:g})" if math.isfinite(high) else f"[{low:g}, inf)"
        raise InvalidOptionError(f"{func}: {name} must be a finite number in {interval}; got {value!r}.{hint}")
    return number


def choice(func: str, name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``; otherwise an error that lists them (and a near miss)."""
    if isinstance(value, str) and value in choices:
        return value
    message = f"{func}: {name} must be one of {', '.join(map(repr, choices))}; got {value!r}."
    if isinstance(value, str):
        spelled = value.strip().lower().replace("-", "_").replace(" ", "_")
        close = [spelled] if spelled in choices else difflib.get_close_matches(spelled, choices, n=1, cutoff=0.6)
        if close:
            message += f" Did you mean {close[0]!r}?"
    elif callable(value):
        message += f" Pass the name as a string, e.g. {getattr(value, '__name__', choices[0])!r}."
    raise InvalidOptionError(message)


def generator(func: str, rng: object) -> random.Random:
    """The random generator ``rng`` names: a ``random.Random``, a seed (int >= 0), or None (fresh)."""
    if isinstance(rng, random.Random):
        return rng
    if rng is None:
        return random.Random()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and int(rng) >= 0:
        return random.Random(int(rng))
    hint = ""
    if type(rng).__module__.startswith("numpy"):
        hint = " The pure edition uses Python's random module: pass a seed, or random.Random(seed)."
    raise InvalidOptionError(
        f"{func}: rng must be a random.Random, a seed (an integer >= 0) or None; got {describe(rng)}.{hint} "
        "A seed makes the result reproducible: rng=0."
    )


# --------------------------------------------------------------------------- numbers, vectors, matrices


def number(func: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{func}: {name} must be a number; got {describe(value)}.")
    result = float(value)
    if not math.isfinite(result):
        raise NonFiniteError(f"{func}: {name} must be a finite number; got {result}.")
    return result


def _is_sequence(value: object) -> TypeGuard[Sequence[object]]:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def vector(func: str, name: str, value: object, length: int | None = None, what: str = "") -> list[float]:
    """``value`` as a list of finite floats (a list or tuple of numbers), of ``length`` if given."""
    if not _is_sequence(value):
        raise InvalidTypeError(f"{func}: {name} must be a list of numbers; got {describe(value)}.")
    result = [_element(func, name, item, f"[{index}]") for index, item in enumerate(value)]
    if length is not None and len(result) != length:
        raise ShapeMismatchError(
            f"{func}: {name} must hold {length} numbers{what}; got {len(result)}."
        )
    return result


def matrix(
    func: str, name: str, value: object, *, columns: int | None = None, rows: int | None = None, what: str = ""
) -> Matrix:
    """``value`` as a list of rows of finite floats, all of one length (``columns`` if given).

    ``rows`` fixes the number of rows too (weights); ``what`` says what a row is, for messages.
    """
    shape = f"({rows if rows is not None else 'N'}, {columns if columns is not None else 'M'})"
    if not _is_sequence(value):
        raise InvalidTypeError(
            f"{func}: {name} must be a list of rows (lists of numbers), shape {shape}; got {describe(value)}."
        )
    if len(value) == 0:
        raise EmptyInputError(f"{func}: {name} must hold at least one row; got an empty list.")
    if not all(_is_sequence(row) for row in value):
        flat = all(isinstance(item, numbers.Real) for item in value)
        hint = ""
        if flat and columns is not None and len(value) == columns:
            hint = f" A single sample? Wrap it in a list: [{name}]."
        elif flat and columns == 1:
            hint = f" One value per sample? Make each a row: [[v] for v in {name}]."
        index = next(i for i, row in enumerate(value) if not _is_sequence(row))
        raise InvalidTypeError(
            f"{func}: {name} must be a list of rows (lists of numbers), shape {shape}{what}; got "
            f"{describe(value[index])} at index {index}.{hint}"
        )
    sequences = [row for row in value if _is_sequence(row)]
    width = len(sequences[0]) if columns is None else columns
    result: Matrix = []
    for r, row in enumerate(sequences):
        if len(row) != width:
            hint = ""
            if columns is not None and rows is None and len(sequences) == columns and all(len(x) == len(row) for x in sequences):
                hint = " Samples in columns? Transpose it: [list(r) for r in zip(*X)]."
            raise ShapeMismatchError(
                f"{func}: every row of {name} must hold {width} numbers{what}; got {len(row)} in row {r}.{hint}"
            )
        result.append([_element(func, name, item, f"[{r}][{c}]") for c, item in enumerate(row)])
    if rows is not None and len(result) != rows:
        raise ShapeMismatchError(f"{func}: {name} must have shape {shape}{what}; got {len(result)} rows.")
    return result


def _element(func: str, name: str, item: object, where: str) -> float:
    if isinstance(item, bool) or not isinstance(item, numbers.Real):
        kind = "a nested list" if _is_sequence(item) else describe(item)
        raise InvalidTypeError(f"{func}: {name} must hold numbers only; got {kind} at {name}{where}.")
    result = float(item)
    if not math.isfinite(result):
        raise NonFiniteError(
            f"{func}: {name} must hold finite numbers; got {result} at {name}{where}. NaN and infinity "
            "usually come from an overflow upstream (a learning rate too large?)."
        )
    return result


def same_shape(func: str, name: str, value: Matrix, expected: tuple[int, int], hint: str = "") -> None:
    """Refuse a matrix whose (rows, columns) differ from ``expected``."""
    shape = (len(value), len(value[0]) if value else 0)
    if shape != expected:
        raise ShapeMismatchError(f"{func}: {name} must have shape {expected}; got {shape}.{hint}")


# --------------------------------------------------------------------------- activations


def elementwise(func: str, Z: object) -> tuple[str, Matrix]:
    """``Z`` as rows of floats, with its kind: ``"number"``, ``"list"`` or ``"rows"``.

    NaN is refused; ``+-inf`` are kept (the activations return their limits).
    """
    rows: list[Sequence[object]]
    if isinstance(Z, numbers.Real) and not isinstance(Z, bool):
        kind, rows = "number", [[Z]]
    elif _is_sequence(Z) and all(_is_sequence(row) for row in Z) and len(Z) > 0:
        kind, rows = "rows", [row for row in Z if _is_sequence(row)]
        ragged = next((r for r, row in enumerate(rows) if len(row) != len(rows[0])), None)
        if ragged is not None:
            raise ShapeMismatchError(
                f"{func}: every row of Z must have the same length; row 0 has {len(rows[0])} "
                f"numbers, row {ragged} has {len(rows[ragged])}."
            )
    elif _is_sequence(Z):
        kind, rows = "list", [Z]
    else:
        raise InvalidTypeError(
            f"{func}: Z must be a number, a list of numbers or a list of rows; got {describe(Z)}."
        )
    result: Matrix = []
    for r, row in enumerate(rows):
        values: list[float] = []
        for c, item in enumerate(row):
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                kind_of = "a list mixed with numbers or nested too deep" if _is_sequence(item) else describe(item)
                raise InvalidTypeError(f"{func}: Z must hold numbers only; got {kind_of} at position ({r}, {c}).")
            value = float(item)
            if math.isnan(value):
                raise NonFiniteError(f"{func}: Z must not hold NaN; got one at position ({r}, {c}).")
            values.append(value)
        result.append(values)
    return kind, result


def logits(func: str, name: str, Z: object) -> tuple[bool, Matrix]:
    """``Z`` (one list of scores, or a list of rows) as finite rows, and whether it was one list."""
    if isinstance(Z, numbers.Real):
        raise InvalidOptionError(
            f"{func}: {name} is a single number, but softmax normalizes a list of scores; pass a list, e.g. [z]."
        )
    if _is_sequence(Z) and len(Z) > 0 and all(isinstance(z, numbers.Real) for z in Z):
        return True, [vector(func, name, Z)]
    return False, matrix(func, name, Z)


# --------------------------------------------------------------------------- losses


def pairs(
    func: str, y_true: object, y_pred: object, *, probabilities: bool = False
) -> tuple[list[float], list[float], bool]:
    """Check a loss's two arguments and return them as equal-length lists of floats.

    The third value says whether they were given as numbers (one prediction).
    """
    targets = _floats(func, "y_true", y_true)
    predictions = _floats(func, "y_pred", y_pred)
    true_is_number = isinstance(y_true, numbers.Real)
    pred_is_number = isinstance(y_pred, numbers.Real)
    if true_is_number != pred_is_number:
        number_name, sequence_name = ("y_true", "y_pred") if true_is_number else ("y_pred", "y_true")
        raise ShapeMismatchError(
            f"{func}: y_true and y_pred must both be numbers or both be sequences; got {number_name} "
            f"= {describe(y_true if true_is_number else y_pred)} and {sequence_name} = "
            f"{describe(y_pred if true_is_number else y_true)}. Wrap the number in a list, "
            "or pass one element of the sequence."
        )
    if len(targets) != len(predictions):
        raise ShapeMismatchError(
            f"{func}: y_true and y_pred must have the same length; got {len(targets)} and "
            f"{len(predictions)} values. Check that both come from the same examples."
        )
    if not targets:
        raise EmptyInputError(
            f"{func}: y_true and y_pred must hold at least one value each; got two empty "
            "sequences. The mean of nothing is undefined."
        )
    if probabilities:
        _unit_interval(func, "y_pred", predictions, "probabilities", _LOGIT_HINT)
        _unit_interval(func, "y_true", targets, "labels", _LABEL_HINT)
        _not_swapped(func, targets, predictions)
    return targets, predictions, true_is_number


def epsilon(func: str, value: object) -> float:
    """The clip distance of binary cross-entropy: a number in (0, 0.5)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < float(value) < 0.5:
        raise InvalidOptionError(
            f"{func}: epsilon must be a number in (0, 0.5); got {describe(value)}. "
            "It is the distance from 0 and 1 at which probabilities are clipped (default 1e-9)."
        )
    return float(value)


_LOGIT_HINT = " These look like raw scores (logits): apply a sigmoid first, 1 / (1 + math.exp(-z))."
_LABEL_HINT = (
    " Binary labels are 0 or 1 (or a probability between); for regression targets use "
    "mean_squared_error."
)


def _floats(func: str, name: str, value: object) -> list[float]:
    if value is None:
        raise InvalidTypeError(f"{func}: {name} is None; expected a number or a sequence of numbers.")
    items: Iterable[object]
    if isinstance(value, numbers.Real):
        items = [value]
    elif isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or not hasattr(value, "__len__"):
        raise InvalidTypeError(
            f"{func}: {name} must be a number or a sequence of numbers; got {describe(value)}."
        )
    else:
        items = value
    result: list[float] = []
    for index, item in enumerate(items):
        if not isinstance(item, numbers.Real):
            nested = isinstance(item, Iterable) and not isinstance(item, str)
            raise InvalidTypeError(
                f"{func}: {name} must hold numbers only; got "
                f"{'a nested sequence' if nested else describe(item)} at index {index}. "
                "The pure edition takes flat sequences; flatten them, or use the NumPy edition."
            )
        value_ = float(item)
        if not math.isfinite(value_):
            raise NonFiniteError(
                f"{func}: {name} must hold finite numbers; got {value_} at index {index}. "
                "NaN and infinity usually come from an overflow or a division by zero upstream."
            )
        result.append(value_)
    return result


def _unit_interval(func: str, name: str, values: list[float], what: str, hint: str) -> None:
    for index, value in enumerate(values):
        if not 0.0 <= value <= 1.0:
            raise OutOfRangeError(
                f"{func}: {name} must hold {what} in [0, 1]; got {value!r} at index {index}." + hint
            )


def _not_swapped(func: str, targets: list[float], predictions: list[float]) -> None:
    """Refuse hard 0/1 predictions against targets that are all strictly between 0 and 1.

    That is what ``binary_cross_entropy(y_pred, y_true)`` looks like: the probabilities
    in the labels' place, the labels in the predictions'. It would give a plausible but
    wrong number (the clip makes it finite), so it is refused instead.
    """
    if all(p in (0.0, 1.0) for p in predictions) and all(0.0 < t < 1.0 for t in targets):
        raise InvalidInputError(
            f"{func}: the arguments look swapped: y_pred holds only 0 and 1 (labels?) while y_true "
            "holds only values strictly between 0 and 1 (probabilities?). This edition's order is "
            f"{func}(y_true, y_pred), the article's; the NumPy edition's is (A, y), prediction "
            f"first. Pass them by name to be sure: {func}(y_true=labels, y_pred=probabilities)."
        )


def class_indices(func: str, name: str, value: object, classes: int, count: int) -> list[int]:
    """``value`` as ``count`` class indices, each an integer in [0, classes)."""
    if not _is_sequence(value):
        raise InvalidTypeError(f"{func}: {name} must be a list of class indices; got {describe(value)}.")
    if len(value) != count:
        raise ShapeMismatchError(f"{func}: {name} must hold one class index per sample ({count}); got {len(value)}.")
    result: list[int] = []
    for index, item in enumerate(value):
        if _is_sequence(item):
            raise InvalidTypeError(
                f"{func}: {name} must hold one class index per sample; got a list at index {index}. "
                "One-hot rows? Use [row.index(max(row)) for row in y]."
            )
        if isinstance(item, bool) or not isinstance(item, (numbers.Integral, float)) or (
            isinstance(item, float) and not item.is_integer()
        ):
            raise InvalidTypeError(
                f"{func}: {name} must hold whole class indices; got {describe(item)} at index {index}."
            )
        label = int(item)
        if not 0 <= label < classes:
            raise OutOfRangeError(
                f"{func}: {name} must hold class indices 0 to {classes - 1} (the network has {classes} "
                f"outputs); got {label} at index {index}."
            )
        result.append(label)
    return result


# --------------------------------------------------------------------------- layers


def weights(func: str, value: object, in_features: int, out_features: int) -> Matrix:
    """A layer's weights: ``in_features`` rows of ``out_features`` numbers (``X @ W``)."""
    if (
        in_features != out_features
        and _is_sequence(value)
        and len(value) == out_features
        and all(_is_sequence(row) and len(row) == in_features for row in value)
    ):
        raise ShapeMismatchError(
            f"{func}: weights must have shape ({in_features}, {out_features}), one row per input; got "
            f"({out_features}, {in_features}): PyTorch's (out, in) layout? Transpose it: "
            "[list(column) for column in zip(*weights)]."
        )
    return matrix(
        func, "weights", value, rows=in_features, columns=out_features,
        what=f" (in_features={in_features} rows of out_features={out_features})",
    )
