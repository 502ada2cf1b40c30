"""``neural-network examples``: a walkthrough, step by step on a terminal, all at once otherwise.

* ``--all``, and any run whose output is piped, print every step without waiting;
* on a terminal (a pseudo-terminal here) each step waits for Enter, and ``q`` stops;
  the same is driven in-process through ``walk``'s injectable ``ask``;
* ``examples pure`` walks the pure-Python series (a neuron, an activation, a layer,
  forward propagation, the loss, a neuron's gradients by hand and by the code, XOR
  learned): every number it prints is checked against exact fractions or mpmath;
* exactly one line of the whole walkthrough calls a number exact, and it says what the
  article prints, what the article's code gives (its code, run here) and the true loss
  rounded once (mpmath at 50 digits).
"""

from __future__ import annotations

import math
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from neural_network.cli.examples import PROMPT, SERIES, walk

DIGITS = 50
ARTICLE_PRINTS = "0.1731486847"  # the NumPy article's printed value for its BCE example
EXPECTED_EXACT_LINE = (
    "The article prints 0.1731486847; its code gives 0.15392626529447628; "
    "the exact value, rounded once, is 0.15392626529447748."
)
PURE_STEPS, NUMPY_STEPS = 7, 6


def run_examples(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m neural_network examples ...`` with piped output and every warning an error."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "neural_network", "examples", *arguments],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def everything() -> str:
    completed = run_examples("--all")
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout


@pytest.fixture(scope="module")
def pure_output() -> str:
    completed = run_examples("pure")
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout


def value_after(output: str, prefix: str) -> str:
    """The text after ``prefix: `` on the line that starts with it."""
    for line in output.splitlines():
        if line.startswith(prefix + ": "):
            return line[len(prefix) + 2 :]
    raise AssertionError(f"no line starting with {prefix!r} in:\n{output}")


def floats_in(text: str) -> list[float]:
    return [float(token) for token in re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", text)]


def within(value: float, exact: mpmath.mpf, ulps: float) -> bool:
    with mpmath.workdps(DIGITS):
        return bool(abs(mpmath.mpf(value) - exact) <= ulps * math.ulp(float(exact)))


def exact_sigmoid(z: float) -> mpmath.mpf:
    with mpmath.workdps(DIGITS):
        return 1 / (1 + mpmath.exp(-mpmath.mpf(z)))


# --------------------------------------------------------------------------- all at once


def test_piped_output_prints_every_step_of_both_series(everything: str) -> None:
    piped = run_examples()  # no --all: the output is not a terminal, so everything at once
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout == everything
    assert PROMPT.strip() not in everything
    for number in range(1, PURE_STEPS + 1):
        assert f"-- Step {number} of {PURE_STEPS}:" in everything
    for number in range(1, NUMPY_STEPS + 1):
        assert f"-- Step {number} of {NUMPY_STEPS}:" in everything
    assert everything.index("Neural Networks From Scratch (pure Python)") < everything.index(
        "Learn Deep Learning with NumPy"
    )


def test_each_series_alone(everything: str, pure_output: str) -> None:
    numpy_output = run_examples("numpy", "--all").stdout
    assert "Learn Deep Learning with NumPy" in numpy_output and "pure Python" not in numpy_output
    assert "Learn Deep Learning with NumPy" not in pure_output
    assert pure_output + numpy_output == everything


def test_an_unknown_series_is_a_usage_error() -> None:
    completed = run_examples("torch")
    assert completed.returncode == 2
    assert "invalid choice" in completed.stderr and "Traceback" not in completed.stderr


# --------------------------------------------------------------------------- the one exact line


def article_code_value() -> float:
    """The NumPy article's code, verbatim, on its example."""
    Z = np.array([[2.0], [-1.0], [3.0], [-2.0]])
    A = 1 / (1 + np.exp(-Z))
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    epsilon = 1e-15
    return float(-np.mean(y * np.log(A + epsilon) + (1 - y) * np.log(1 - A + epsilon)))


def true_loss() -> mpmath.mpf:
    """mean(y log(1 + e^-z) + (1 - y) log(1 + e^z)) at 50 digits: nothing rounded on the way."""
    with mpmath.workdps(DIGITS):
        terms = [
            t * mpmath.log1p(mpmath.exp(-mpmath.mpf(z))) + (1 - t) * mpmath.log1p(mpmath.exp(mpmath.mpf(z)))
            for z, t in zip([2.0, -1.0, 3.0, -2.0], [1.0, 0.0, 1.0, 0.0], strict=True)
        ]
        return mpmath.fsum(terms) / len(terms)


def test_the_numbers_of_the_exact_line_are_right() -> None:
    """Independently of the walkthrough: the article's code and mpmath give the line's numbers."""
    assert repr(article_code_value()) == "0.15392626529447628"
    with mpmath.workdps(DIGITS):
        exact = true_loss()
        assert mpmath.nstr(exact, 20) == "0.15392626529447747142"
        assert repr(float(exact)) == "0.15392626529447748"  # mpmath rounds to nearest, once
        assert abs(exact - mpmath.mpf(ARTICLE_PRINTS)) > mpmath.mpf("0.019")  # the article's value is wrong


def test_exactly_one_line_calls_a_number_exact(everything: str, pure_output: str) -> None:
    lines = [line for line in everything.splitlines() if "exact" in line.lower()]
    assert lines == [EXPECTED_EXACT_LINE]
    expected = (
        f"The article prints {ARTICLE_PRINTS}; its code gives {article_code_value()!r}; "
        f"the exact value, rounded once, is {float(true_loss())!r}."
    )
    assert lines[0] == expected
    assert "exact" not in pure_output.lower()


# --------------------------------------------------------------------------- the pure series, checked


def test_a_neuron_by_hand_and_by_the_code(pure_output: str) -> None:
    by_hand = Fraction(1, 2) * 2 + Fraction(-1) * 1 + Fraction(1, 4)  # 0.5 * 2 - 1 * 1 + 0.25
    assert value_after(pure_output, "Neuron(weights, bias).forward(inputs)") == repr(float(by_hand))
    assert "= 0.25" in value_after(pure_output, "by hand")


def test_an_activation(pure_output: str) -> None:
    exact = exact_sigmoid(0.25)
    for prefix in ("sigmoid(z)", 'Neuron(weights, bias, activation="sigmoid").forward(inputs)'):
        (value,) = floats_in(value_after(pure_output, prefix))
        assert within(value, exact, 1)
    (slope,) = floats_in(value_after(pure_output, "its derivative sigmoid_grad(z) = s (1 - s)"))
    assert within(slope, exact * (1 - exact), 2)
    assert value_after(pure_output, "relu([-2.0, 0.0, 3.0]), max(0, z) for each") == "[0.0, 0.0, 3.0]"
    assert value_after(pure_output, "sigmoid(-1000.0), no overflow") == "0.0"  # e^-1000 / (1 + e^-1000) < 2^-1074


def test_a_layer_is_neurons_side_by_side(pure_output: str) -> None:
    x = [Fraction(2), Fraction(1)]
    W = [[Fraction(1, 2), Fraction(1)], [Fraction(-1), Fraction(1, 2)]]
    b = [Fraction(1, 4), Fraction(-1)]
    Z = [float(sum(x[i] * W[i][j] for i in range(2)) + b[j]) for j in range(2)]
    assert value_after(pure_output, "layer.forward(X)") == repr([Z])


def test_forward_propagation(pure_output: str) -> None:
    # hidden relu layer of step 3: [0.25, 1.5] and relu([-0.75, -0.5]) = [0, 0];
    # then 1 * h1 - 2 * h2 + 0.5: -2.25 and 0.5, through the sigmoid
    expected = [exact_sigmoid(-2.25), exact_sigmoid(0.5)]
    for prefix in ("Sequential([hidden, output]).forward(X), the same in one call",):
        values = floats_in(value_after(pure_output, prefix))
        assert len(values) == 2 and all(within(v, e, 2) for v, e in zip(values, expected, strict=True))


def test_the_loss(pure_output: str) -> None:
    assert value_after(pure_output, "loss = mean_squared_error(y_true, y_pred)") == repr(float(Fraction(1, 4)))
    (bce,) = floats_in(value_after(pure_output, "loss = binary_cross_entropy(y_true, y_pred)"))
    assert within(bce, -mpmath.log(mpmath.mpf(0.9)), 1)


def test_the_gradients_of_one_neuron_by_hand_and_by_the_code(pure_output: str) -> None:
    p = exact_sigmoid(0.25)  # the sigmoid neuron, target 1: dL/dz = p - 1
    with mpmath.workdps(DIGITS):
        expected = [(p - 1) * 2, (p - 1) * 1]
    by_hand = floats_in(value_after(pure_output, "by hand: dL/dw = [(p - y) * x1, (p - y) * x2]"))
    by_code = floats_in(value_after(pure_output, "neuron.backward([[dL/dp]]); neuron.grad_weights"))
    bias = floats_in(value_after(pure_output, "neuron.grad_bias"))
    # p - 1 cancels: p's 1-ulp error is relative to p (0.56), so about 2 ulp of p - 1 (-0.44);
    # the code's product (-1/p) * p (1 - p) adds a few roundings more
    assert all(within(v, e, 3) for v, e in zip(by_hand, expected, strict=True))
    assert all(within(v, e, 6) for v, e in zip(by_code, expected, strict=True))
    assert within(bias[0], expected[1], 6)


def test_xor_is_learned(pure_output: str) -> None:
    rows = re.findall(r"input \[(\S+), (\S+)\]: predicted \S+, rounded (\d), label (\d)", pure_output)
    assert len(rows) == 4
    for a, b, rounded, label in rows:
        xor = int(float(a) != float(b))
        assert int(label) == xor and int(rounded) == xor
    assert "accuracy: 100%" in pure_output


# --------------------------------------------------------------------------- step by step


def test_walk_waits_for_enter_before_each_step() -> None:
    prompts: list[str] = []
    lines: list[str] = []

    def enter(prompt: str) -> str:
        prompts.append(prompt)
        lines.append("<enter>")
        return ""

    assert walk(("numpy",), echo=lines.append, ask=enter) is True
    assert prompts == [PROMPT] * (NUMPY_STEPS - 1)
    steps = [i for i, line in enumerate(lines) if line.startswith("-- Step ")]
    waits = [i for i, line in enumerate(lines) if line == "<enter>"]
    assert len(steps) == NUMPY_STEPS
    assert all(waits[k] < steps[k + 1] for k in range(NUMPY_STEPS - 1))  # each step after its Enter
    assert all(steps[k] < waits[k] for k in range(NUMPY_STEPS - 1))  # and each wait after a step


@pytest.mark.parametrize("answer", ["q", "quit", " Q "])
def test_q_stops_the_walk(answer: str) -> None:
    lines: list[str] = []
    answers = iter(["", answer])
    assert walk(SERIES, echo=lines.append, ask=lambda prompt: next(answers)) is False
    titles = [line for line in lines if line.startswith("-- Step ")]
    assert len(titles) == 2


def test_the_end_of_input_stops_the_walk() -> None:
    def closed(prompt: str) -> str:
        raise EOFError

    lines: list[str] = []
    assert walk(("pure",), echo=lines.append, ask=closed) is False
    assert [line for line in lines if line.startswith("-- Step ")] == [
        f"-- Step 1 of {PURE_STEPS}: Article 1: what a neuron computes, by hand and by the code"
    ]


# --------------------------------------------------------------------------- on a real terminal


on_posix = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX only")


class Terminal:
    """``python -m neural_network examples ...`` with a pseudo-terminal as its input and output."""

    def __init__(self, *arguments: str) -> None:
        import pty

        self.master, slave = pty.openpty()
        env = {**os.environ, "PYTHONWARNINGS": "error", "TERM": "dumb"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "neural_network", "examples", *arguments],
            stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env, close_fds=True,
        )
        os.close(slave)
        self.seen = ""

    def read_until(self, text: str | None, timeout: float = 60.0) -> str:
        """Read until ``text`` appears (None: until the program closes the terminal); return what came."""
        start, deadline = len(self.seen), time.monotonic() + timeout
        while text is None or text not in self.seen[start:]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"waited for {text!r}; the terminal showed:\n{self.seen[start:]}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the program has closed the terminal
                chunk = b""
            if not chunk:
                assert text is None, f"the program ended before {text!r}:\n{self.seen[start:]}"
                break
            self.seen += chunk.decode().replace("\r\n", "\n")
        return self.seen[start:]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self) -> int:
        """Read to the end; return the exit status (nothing may have gone to standard error)."""
        self.read_until(None)
        status = self.process.wait(timeout=60)
        assert self.process.stderr is not None
        assert self.process.stderr.read() == b""
        return status

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)
        if self.process.stderr is not None:
            self.process.stderr.close()
        os.close(self.master)


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    """Start the command on a pseudo-terminal; closed (and killed if still running) afterwards."""
    started: list[Terminal] = []

    def start(*arguments: str) -> Terminal:
        started.append(Terminal(*arguments))
        return started[-1]

    yield start
    for each in started:
        each.close()


@on_posix
def test_on_a_terminal_each_step_waits_for_enter(terminal: Callable[..., Terminal]) -> None:
    shell = terminal("numpy")
    first = shell.read_until(PROMPT)
    assert f"-- Step 1 of {NUMPY_STEPS}" in first and "-- Step 2" not in first
    shell.type("\n")
    second = shell.read_until(PROMPT)
    assert f"-- Step 2 of {NUMPY_STEPS}" in second and "-- Step 3" not in second
    assert EXPECTED_EXACT_LINE in second
    shell.type("q\n")
    assert shell.finish() == 0
    assert "-- Step 3" not in shell.seen


@on_posix
def test_on_a_terminal_enter_goes_to_the_end(terminal: Callable[..., Terminal]) -> None:
    shell = terminal("numpy")
    for _ in range(NUMPY_STEPS - 1):
        shell.read_until(PROMPT)
        shell.type("\n")
    assert shell.finish() == 0
    assert f"-- Step {NUMPY_STEPS} of {NUMPY_STEPS}" in shell.seen


@on_posix
def test_on_a_terminal_all_prints_everything_at_once(terminal: Callable[..., Terminal]) -> None:
    shell = terminal("--all")
    assert shell.finish() == 0
    assert PROMPT.strip() not in shell.seen
    assert f"-- Step {PURE_STEPS} of {PURE_STEPS}" in shell.seen
    assert f"-- Step {NUMPY_STEPS} of {NUMPY_STEPS}" in shell.seen
