"""Errors the command line reports as one message and an exit status, never a traceback."""

from __future__ import annotations

from collections.abc import Sequence

USAGE_OR_DATA = 2
"""Exit status for a mistake the person can fix: a usage error, a missing file or column, bad data."""

UNEXPECTED = 1
"""Exit status for anything else (a bug, or the machine ran out of something)."""


class CommandError(Exception):
    """A problem with the command's arguments or data, told in words a person can act on.

    ``main`` prints ``neural-network <command>: <message>`` to standard error and exits
    with ``status`` (2 unless said otherwise).
    """

    def __init__(self, message: str, status: int = USAGE_OR_DATA) -> None:
        super().__init__(message)
        self.status = status


def missing_column(path: str, name: str, available: Sequence[str], *, option: str) -> CommandError:
    """The error for ``--<option> NAME`` when the file has no column ``NAME``."""
    listed = ", ".join(repr(column) for column in available) or "(none)"
    hint = ""
    folded = {column.lower(): column for column in available}
    if name.lower() in folded:
        hint = f" Column names are case-sensitive: did you mean {folded[name.lower()]!r}?"
    return CommandError(f"{path} has no column {name!r} (given with {option}); its columns are {listed}.{hint}")


def missing_columns(path: str, names: Sequence[str], available: Sequence[str], *, role: str) -> CommandError:
    """The error for columns a command needs but the file lacks; ``role`` says why they are needed
    (e.g. ``"the model's features"``)."""
    listed = ", ".join(repr(column) for column in available) or "(none)"
    absent = ", ".join(repr(name) for name in names)
    noun = "column" if len(names) == 1 else "columns"
    folded = {column.lower(): column for column in available}
    close = [f"{folded[name.lower()]!r} for {name!r}" for name in names if name.lower() in folded]
    hint = f" Column names are case-sensitive: did you mean {', '.join(close)}?" if close else ""
    return CommandError(f"{path} has no {noun} {absent} ({role}); its columns are {listed}.{hint}")


def refuse_repeated_columns(path: str, names: Sequence[str]) -> None:
    """Refuse a file that names a column twice: which of the two a command read would be a guess.

    Every command checks the header with this before it reads any data (see ``_stream.columns_of``).
    """
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        listed = ", ".join(repr(name) for name in repeated)
        raise CommandError(
            f"{path}: the column name(s) {listed} appear more than once in its header; a command could only "
            "guess which one you mean. Give every column its own name (rename or remove the copies)."
        )
