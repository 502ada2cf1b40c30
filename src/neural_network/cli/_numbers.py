"""What every command takes for a number in a text cell: one definition, :data:`NUMBER`.

A number is a plain decimal literal: an optional sign, digits with an optional decimal
point (``3``, ``-0.25``, ``.5``, ``5.``), and an optional exponent (``1e-5``,
``+2.5E+3``); spaces and tabs around it are ignored. ``nan``, ``inf`` and ``infinity``
(in any case, signed) are numbers too, but not finite ones, and every command refuses
them as values. Not numbers: ``1_000`` (Python's digit separator), ``1,5`` (a decimal
comma), ``0x10``, digits of other scripts (``١٢``), and an empty cell (a missing value).

This is what PyArrow's CSV reader converts to float64, which ``loss`` uses to stream
numbers fast; ``train``, ``evaluate`` and ``predict`` read CSV cells as text and check
them against :data:`NUMBER` (with PyArrow's regular expressions, over a whole column at
once), so every command agrees on every cell. A test holds them to it.

Standard library only: the argument parser may import it.
"""

from __future__ import annotations

import re

NUMBER = (
    r"[ \t]*[+-]?"
    r"(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # 3, -0.25, .5, 5., 1e-5
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"  # inf, infinity, nan in any case
    r"[ \t]*"
)
"""A number, as a regular expression (the same in Python's ``re`` and PyArrow's RE2)."""

WHOLE_CELL = f"^(?:{NUMBER})$"
""":data:`NUMBER` anchored to match a whole cell (for PyArrow's ``match_substring_regex``)."""

EXAMPLES = "such as 0.25, -3 or 1e-5"
"""How the messages show what a number looks like."""


def is_number(text: str) -> bool:
    """Whether ``text`` is a number by :data:`NUMBER`."""
    return re.fullmatch(NUMBER, text) is not None
