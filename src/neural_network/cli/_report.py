"""What the commands print: notes, tables of metrics (Rich), or one JSON object.

A person reads notes and a table on standard output. With ``--json`` standard output
holds exactly one JSON object (NaN, which JSON lacks, is written ``null``), and the
notes go to standard error.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

METRIC_ORDER = ("loss", "accuracy", "r2", "rmse")


class Report:
    """Where a command's output goes: a Rich console for people, standard output for JSON."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.console = Console(stderr=as_json, highlight=False, soft_wrap=True)

    @property
    def live(self) -> bool:
        """Whether to draw a progress bar: always for people; with JSON, only on a terminal."""
        return not self.as_json or self.console.is_terminal

    def note(self, label: str, text: str) -> None:
        """One line such as ``task: binary (...)``."""
        self.console.print(Text.assemble((f"{label}: ", "bold"), text))

    def metrics(self, title: str, columns: Mapping[str, Mapping[str, float]], rows: Mapping[str, int]) -> None:
        """A table with a row per metric and a column per part of the data (``train``, ``test``)."""
        table = Table(title=title, title_style="bold")
        table.add_column("metric")
        for name in columns:
            table.add_column(escape(name), justify="right")  # a file name, not Rich markup
        first = next(iter(columns.values()))
        for metric in (name for name in METRIC_ORDER if name in first):
            table.add_row(metric, *(_format(metric, values[metric]) for values in columns.values()))
        table.add_row("rows", *(f"{rows[name]:,}" for name in columns))
        self.console.print(table)

    def json(self, document: Mapping[str, object]) -> None:
        print(json.dumps(_plain(document), allow_nan=False), file=sys.stdout)


def _format(metric: str, value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.4f}" if metric in ("accuracy", "r2") else f"{value:.6g}"


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return value
