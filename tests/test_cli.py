"""The command line, end to end, through the real entry points.

``python -m neural_network`` and the installed ``neural-network`` console script are
run in a subprocess, as a learner would run them. ``examples`` walks through both
series (piped, so all at once); its loss values are checked against values computed
here independently (exact fractions, or mpmath at 50 digits), in the order the articles
give them. tests/test_examples_walkthrough.py checks the steps, the terminal mode and
the pure series.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

DIGITS = 50
ARTICLE_VALUE = "0.1731486847"
"""What the NumPy article prints for its BCE example (wrong); the walkthrough must say so."""

SCRIPT_NAME = "neural-network.exe" if sys.platform == "win32" else "neural-network"
SCRIPT = Path(sys.executable).parent / SCRIPT_NAME


# --------------------------------------------------------------------------- running the entry points


def command(entry_point: str) -> list[str]:
    """The argv prefix of an entry point: ``python -m neural_network`` or the console script."""
    if entry_point == "module":
        return [sys.executable, "-m", "neural_network"]
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed next to the interpreter: {SCRIPT} does not exist")
    return [str(SCRIPT)]


def run(entry_point: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command with every Python warning turned into an error (the library promises none)."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [*command(entry_point), *arguments], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


@pytest.fixture(params=["module", "script"], ids=["python -m neural_network", "neural-network"])
def entry_point(request):
    return request.param


@pytest.fixture(
    scope="module", params=["module", "script"], ids=["python -m neural_network", "neural-network"]
)
def examples(request, tmp_path_factory):
    """``<entry point> examples``, run once per entry point for the whole module."""
    return run(request.param, "examples", cwd=tmp_path_factory.mktemp("cli"))


# --------------------------------------------------------------------------- independent expected values


def exact_bce_of_float_probabilities(Z: list[float], y: list[float]) -> mpmath.mpf:
    """Exact mean BCE of the float64 probabilities 1 / (1 + np.exp(-Z)) (the article's formula)."""
    A = (1 / (1 + np.exp(-np.array(Z)))).tolist()
    with mpmath.workdps(DIGITS):
        terms = [
            -(t * mpmath.log(mpmath.mpf(p)) + (1 - t) * mpmath.log(1 - mpmath.mpf(p)))
            for p, t in zip(A, y, strict=True)
        ]
        return mpmath.fsum(terms) / len(terms)


def exact_bce_from_logits(Z: list[float], y: list[float]) -> mpmath.mpf:
    """mean(y log(1 + e^-z) + (1 - y) log(1 + e^z)): no probability is rounded on the way."""
    with mpmath.workdps(DIGITS):
        terms = [
            t * mpmath.log1p(mpmath.exp(-mpmath.mpf(z))) + (1 - t) * mpmath.log1p(mpmath.exp(mpmath.mpf(z)))
            for z, t in zip(Z, y, strict=True)
        ]
        return mpmath.fsum(terms) / len(terms)


def article_code_value(Z: list[float], y: list[float]) -> mpmath.mpf:
    """The NumPy article's formula, -mean(y log(A + 1e-15) + (1 - y) log(1 - A + 1e-15)), at 50 digits."""
    A = (1 / (1 + np.exp(-np.array(Z)))).tolist()
    with mpmath.workdps(DIGITS):
        eps = mpmath.mpf(1e-15)
        terms = [
            t * mpmath.log(mpmath.mpf(p) + eps) + (1 - t) * mpmath.log(1 - mpmath.mpf(p) + eps)
            for p, t in zip(A, y, strict=True)
        ]
        return -mpmath.fsum(terms) / len(terms)


Check = tuple[str, Callable[[str], bool]]
"""A description and a test of one printed number (the token as printed)."""


def printed_exactly(value: float) -> Check:
    """The number printed as Python prints this float (repr; NumPy scalars print the same)."""
    return repr(value), lambda token: token == repr(value)


def printed_within(exact: mpmath.mpf, ulps: float) -> Check:
    """A number printed the way Python prints a float, within ``ulps`` units of the exact value."""

    def check(token: str) -> bool:
        try:
            value = float(token)
        except ValueError:
            return False
        with mpmath.workdps(DIGITS):
            close = abs(mpmath.mpf(value) - exact) <= ulps * math.ulp(float(exact))
        return close and token == repr(value)

    return f"{mpmath.nstr(exact, 20)} (within {ulps} ulp)", check


PURE_BCE = -mpmath.log(mpmath.mpf(0.9))
BCE_EXAMPLE = ([2.0, -1.0, 3.0, -2.0], [1.0, 0.0, 1.0, 0.0])
EXERCISE_2 = ([1.0, -1.0, 2.0], [1.0, 0.0, 1.0])
EXERCISE_4 = ([-2.0, 2.0, -1.0], [1.0, 0.0, 1.0])

LOSSES_IN_ORDER: list[tuple[str, Check]] = [
    # Pure article: (3 - 2.5)^2 = 1/4; -ln 0.9.
    ("pure MSE example", printed_exactly(float(Fraction(1, 4)))),
    ("pure BCE example", printed_within(PURE_BCE, 1)),  # one math.log, the rest exact
    # NumPy article: W = 2, b = 1 fit y = 2x + 1 exactly.
    ("NumPy MSE example", printed_exactly(0.0)),
    # Bounds for any libm within 1 ulp (u = 2**-53, k u relative is k ulp; derivations in
    # test_articles.py): the sigmoid's error on the probabilities (<= 5u each) moves the mean
    # by 14u (example), 10.4u (exercise 2), 6u (exercise 4) of it; the mean BCE adds 10u.
    ("NumPy BCE example", printed_within(exact_bce_from_logits(*BCE_EXAMPLE), 24)),
    # From the logits: log1p(exp(-|x|)) 4u, + max(x, 0) u, 3 roundings in the sum of 4: 8 ulp.
    ("NumPy BCE example from logits", printed_within(exact_bce_from_logits(*BCE_EXAMPLE), 8)),
    # Exercise 1: 1.5 x + 0.5 hits 2, 3.5, 5 exactly.
    ("exercise 1", printed_exactly(0.0)),
    ("exercise 2", printed_within(exact_bce_from_logits(*EXERCISE_2), 21)),
    # Exercise 3: errors 1/2, 1, 3/2, so (1/4 + 1 + 9/4) / 3 = 7/6.
    ("exercise 3", printed_exactly(float(Fraction(7, 6)))),
    ("exercise 4", printed_within(exact_bce_from_logits(*EXERCISE_4), 16)),
]

NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?")


# --------------------------------------------------------------------------- examples


def test_examples_exits_0_without_errors_or_warnings(examples):
    assert examples.returncode == 0, examples.stderr
    assert examples.stderr == ""


def test_examples_print_every_loss_in_the_articles_order(examples):
    """Each example's and exercise's loss appears, in order, printed as Python prints the float."""
    tokens = NUMBER.findall(examples.stdout)
    position = 0
    for name, (description, matches) in LOSSES_IN_ORDER:
        while position < len(tokens) and not matches(tokens[position]):
            position += 1
        assert position < len(tokens), (
            f"{name}: no {description} after the previous loss in:\n{examples.stdout}"
        )
        position += 1


def test_examples_explain_the_articles_wrong_value(examples):
    """The walkthrough names the article's 0.1731486847 and what the article's code really prints.

    That value is the article's 1e-15 formula evaluated on the float64 probabilities
    (computed here in mpmath).
    """
    assert ARTICLE_VALUE in examples.stdout
    assert repr(float(article_code_value(*BCE_EXAMPLE))) in examples.stdout


def test_examples_show_the_article_code_imports(examples):
    """The walkthrough tells the learner which imports the article code needs."""
    assert "from neural_network.pure import" in examples.stdout
    assert "from neural_network import" in examples.stdout


# --------------------------------------------------------------------------- usage


def test_no_command_exits_2_and_prints_usage(entry_point, tmp_path):
    completed = run(entry_point, cwd=tmp_path)
    assert completed.returncode == 2
    assert "usage: neural-network" in completed.stdout + completed.stderr
    assert "examples" in completed.stdout + completed.stderr  # the command is listed
    assert "Traceback" not in completed.stderr


def test_help_lists_the_examples_command(entry_point, tmp_path):
    completed = run(entry_point, "--help", cwd=tmp_path)
    assert completed.returncode == 0
    assert "usage: neural-network" in completed.stdout
    assert "examples" in completed.stdout


def test_version_matches_the_installed_distribution(entry_point, tmp_path):
    """``--version`` prints the version the installed metadata records, and exits 0."""
    completed = run(entry_point, "--version", cwd=tmp_path)
    assert completed.returncode == 0
    installed = importlib.metadata.version("neural-network")
    assert completed.stdout.strip() == f"neural-network {installed}"


def test_version_attribute_matches_the_distribution():
    import neural_network

    assert neural_network.__version__ == importlib.metadata.version("neural-network")


@pytest.mark.parametrize(
    "arguments",
    [["frobnicate"], ["examples", "--frobnicate"], ["examples", "frobnicate"]],
    ids=["command", "option", "series"],
)
def test_unknown_input_exits_2_with_an_error_and_no_traceback(entry_point, arguments, tmp_path):
    completed = run(entry_point, *arguments, cwd=tmp_path)
    assert completed.returncode == 2
    assert "error" in completed.stderr
    assert "frobnicate" in completed.stderr
    assert "usage: neural-network" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
