"""Helpers the command-line tests share: run a command in-process, write and read CSV files
with the standard library (independent of the command's own reader and writer)."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest

from neural_network.cli import main


def call(capsys: pytest.CaptureFixture[str], *arguments: str) -> SimpleNamespace:
    """``neural-network ARGUMENTS`` in this process: its exit status, stdout and stderr."""
    try:
        status = main(list(arguments))
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return SimpleNamespace(status=status, out=out, err=err)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> dict[str, list[str]]:
    """A CSV file's columns as the text of their cells (the standard library's reader)."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}
