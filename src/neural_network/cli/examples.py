"""``neural-network examples``: both series' worked examples, step by step, run here.

``neural-network examples pure`` walks the pure-Python series with
:mod:`neural_network.pure`: one neuron's output by hand and by the code, an activation,
a layer, forward propagation, the loss, the gradients of one neuron by hand and by the
code, then a network that learns XOR. ``neural-network examples numpy`` runs the NumPy
article's examples and exercises. Without a series, both, the pure one first.

On a terminal each step waits for Enter (``q`` and Enter stops); ``--all`` prints every
step at once, and so does any run whose input or output is not a terminal (a pipe, a
file), as the tests run it. Each step prints its inputs, what the library computes
from them and, where an article printed a value its own code does not give, says so.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    mse_loss,
    mse_loss_grad,
    sigmoid,
)

Print = Callable[[str], None]
"""Where a line of the walkthrough goes (``print`` on the command line)."""

Ask = Callable[[str], str]
"""Shows a prompt and returns the line typed (``input`` on a terminal)."""

SERIES = ("pure", "numpy")
"""The series the walkthrough can show, in the order it shows them."""

PROMPT = "[Enter: next step, q then Enter: stop] "

ARTICLE_PRINTS = "0.1731486847"
"""What the NumPy article prints for its binary cross-entropy example (its code does not give it)."""

TRUE_LOSS_ROUNDED = "0.15392626529447748"
"""The article example's true loss, 0.15392626529447747142... (mpmath at 50 digits, from
the logits), rounded once to the nearest float64: a constant of mathematics, stated
here, not computed by this library (tests/test_examples_walkthrough.py checks it)."""


@dataclass(frozen=True)
class Step:
    """One step of a walkthrough: a title and what it prints."""

    title: str
    show: Callable[[Print], None]


@dataclass(frozen=True)
class Series:
    """One series of articles: its heading and its steps, in order."""

    name: str
    heading: str
    steps: tuple[Step, ...]


# --------------------------------------------------------------------------- the command


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "examples",
        help="walk through both series' examples, step by step",
        description="Walk through the articles' worked examples with this library, one step at "
        "a time: inputs, outputs, losses and gradients, by hand and by the code. On a terminal "
        "each step waits for Enter; when the output is piped, everything is printed at once.",
    )
    parser.add_argument(
        "series",
        nargs="?",
        choices=SERIES,
        help="pure: the pure-Python series, from one neuron to XOR learned; numpy: the NumPy "
        "article on losses (default: both)",
    )
    parser.add_argument(
        "--all", action="store_true", help="print every step at once, without waiting for Enter"
    )


def run(arguments: argparse.Namespace) -> int:
    """``neural-network examples [pure|numpy] [--all]``."""
    interactive = not arguments.all and sys.stdin.isatty() and sys.stdout.isatty()
    names = SERIES if arguments.series is None else (arguments.series,)
    walk(names, ask=_ask_terminal if interactive else None)
    return 0


def _ask_terminal(prompt: str) -> str:
    """Show ``prompt`` on standard output and read a line (``input`` would show it on
    standard error where the readline module is not loaded)."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def walk(names: Sequence[str] = SERIES, *, echo: Print = print, ask: Ask | None = None) -> bool:
    """Print the walkthrough of the series ``names``; return whether it was shown to the end.

    With ``ask``, every step after the first waits for it to return (Enter), and an
    answer of ``q`` (or the end of the input) stops the walkthrough there.
    """
    chosen = [series for series in (_pure_series(), _numpy_series()) if series.name in names]
    first = True
    with np.printoptions(precision=8, suppress=False):
        for series in chosen:
            for number, step in enumerate(series.steps, start=1):
                if not first and ask is not None and not _go_on(ask, echo):
                    return False
                if number == 1:
                    _heading(echo, series.heading)
                echo("")
                echo(f"-- Step {number} of {len(series.steps)}: {step.title}")
                step.show(echo)
                first = False
    return True


def _go_on(ask: Ask, echo: Print) -> bool:
    """Wait for Enter: True to go on, False for ``q`` or the end of the input."""
    echo("")
    try:
        answer = ask(PROMPT)
    except EOFError:
        echo("")
        return False
    return answer.strip().lower() not in ("q", "quit")


def _heading(echo: Print, title: str) -> None:
    echo("")
    echo(title)
    echo("=" * len(title))


def _show(echo: Print, name: str, value: object) -> None:
    text = str(value)
    if "\n" in text:
        echo(f"{name}:")
        for line in text.splitlines():
            echo(f"    {line}")
    else:
        echo(f"{name}: {text}")


# --------------------------------------------------------------------------- the pure-Python series


def _pure_series() -> Series:
    return Series(
        "pure",
        "Neural Networks From Scratch (pure Python): from one neuron to XOR, with neural_network.pure",
        (
            Step("Article 1: what a neuron computes, by hand and by the code", _neuron),
            Step("Article 2: an activation function and its derivative", _activation),
            Step("Article 3: a layer, several neurons that see the same inputs", _layer),
            Step("Article 4: forward propagation through a network", _forward),
            Step("Article 5: the loss, how wrong the prediction is", _loss),
            Step("Article 6: the gradients of one neuron, by hand and by the code", _gradients),
            Step("Training: a network learns XOR", _xor),
        ),
    )


NEURON_WEIGHTS = [0.5, -1.0]
NEURON_BIAS = 0.25
NEURON_INPUTS = [2.0, 1.0]


def _neuron(echo: Print) -> None:
    from neural_network.pure import Neuron

    echo("from neural_network.pure import Neuron")
    echo("")
    echo("A neuron multiplies each input by its weight, adds the products and a bias,")
    echo("and passes the sum through an activation (here none: identity).")
    _show(echo, "weights", NEURON_WEIGHTS)
    _show(echo, "bias", NEURON_BIAS)
    _show(echo, "inputs", NEURON_INPUTS)
    (w1, w2), (x1, x2) = NEURON_WEIGHTS, NEURON_INPUTS
    echo(f"by hand: {w1} * {x1} + ({w2}) * {x2} + {NEURON_BIAS} = {w1 * x1 + w2 * x2 + NEURON_BIAS}")
    neuron = Neuron(NEURON_WEIGHTS, NEURON_BIAS)
    _show(echo, "Neuron(weights, bias).forward(inputs)", neuron.forward(NEURON_INPUTS))


def _activation(echo: Print) -> None:
    from neural_network.pure import Neuron, relu, sigmoid, sigmoid_grad

    echo("from neural_network.pure import sigmoid, sigmoid_grad, relu")
    echo("")
    echo("An activation bends the weighted sum z; without one, any stack of layers is a")
    echo("single linear function. sigmoid(z) = 1 / (1 + e^-z) squeezes z into (0, 1).")
    z = 0.25
    _show(echo, "z (the neuron's weighted sum above)", z)
    _show(echo, "by hand: 1 / (1 + math.exp(-z))", 1.0 / (1.0 + math.exp(-z)))
    _show(echo, "sigmoid(z)", sigmoid(z))
    _show(echo, "its derivative sigmoid_grad(z) = s (1 - s)", sigmoid_grad(z))
    _show(echo, "relu([-2.0, 0.0, 3.0]), max(0, z) for each", relu([-2.0, 0.0, 3.0]))
    echo("The same neuron with the activation:")
    neuron = Neuron(NEURON_WEIGHTS, NEURON_BIAS, activation="sigmoid")
    _show(echo, 'Neuron(weights, bias, activation="sigmoid").forward(inputs)', neuron.forward(NEURON_INPUTS))
    _show(echo, "sigmoid(-1000.0), no overflow", sigmoid(-1000.0))


LAYER_WEIGHTS = [[0.5, 1.0], [-1.0, 0.5]]
"""2 inputs, 2 neurons: row i holds input i's weight in each neuron (X @ W)."""
LAYER_BIAS = [0.25, -1.0]


def _layer(echo: Print) -> None:
    from neural_network.pure import Dense

    echo("from neural_network.pure import Dense")
    echo("")
    echo("A layer is several neurons that see the same inputs. Dense keeps one row of")
    echo("weights per input, one column per neuron: Z = X @ weights + bias, A = f(Z).")
    layer = Dense(2, 2)
    layer.weights = LAYER_WEIGHTS
    layer.bias = LAYER_BIAS
    _show(echo, "layer = Dense(2, 2); layer.weights", layer.weights)
    _show(echo, "layer.bias", layer.bias)
    _show(echo, "X (one sample per row)", [NEURON_INPUTS])
    (a, b), (c, d) = LAYER_WEIGHTS
    x1, x2 = NEURON_INPUTS
    echo(f"by hand, neuron 1: {a} * {x1} + ({c}) * {x2} + {LAYER_BIAS[0]} = {a * x1 + c * x2 + LAYER_BIAS[0]}")
    echo(f"by hand, neuron 2: {b} * {x1} + {d} * {x2} + ({LAYER_BIAS[1]}) = {b * x1 + d * x2 + LAYER_BIAS[1]}")
    _show(echo, "layer.forward(X)", layer.forward([NEURON_INPUTS]))
    echo("Neuron 1 is the neuron of step 1: a layer is neurons side by side.")


def _forward(echo: Print) -> None:
    from neural_network.pure import Dense, Sequential

    echo("from neural_network.pure import Dense, Sequential")
    echo("")
    echo("Forward propagation: each layer's output is the next layer's input.")
    hidden = Dense(2, 2, "relu")
    hidden.weights, hidden.bias = LAYER_WEIGHTS, LAYER_BIAS
    output = Dense(2, 1, "sigmoid")
    output.weights, output.bias = [[1.0], [-2.0]], [0.5]
    network = Sequential([hidden, output])
    X = [NEURON_INPUTS, [0.0, 1.0]]
    _show(echo, "X", X)
    H = hidden.forward(X)
    _show(echo, 'hidden = Dense(2, 2, "relu") (the weights of step 3): H = hidden.forward(X)', H)
    _show(echo, 'output = Dense(2, 1, "sigmoid"), weights [[1.0], [-2.0]], bias [0.5]: output.forward(H)',
          output.forward(H))
    _show(echo, "Sequential([hidden, output]).forward(X), the same in one call", network.forward(X))


def _loss(echo: Print) -> None:
    from neural_network.pure import binary_cross_entropy as pure_bce
    from neural_network.pure import binary_cross_entropy_grad as pure_bce_grad
    from neural_network.pure import mean_squared_error, mean_squared_error_grad

    echo("from neural_network.pure import mean_squared_error, binary_cross_entropy")
    echo("")
    echo("The article's two examples. The pure edition takes (y_true, y_pred), as the")
    echo("article does; the NumPy edition takes (prediction, target).")
    _show(echo, "y_true", 3.0)
    _show(echo, "y_pred", 2.5)
    _show(echo, "loss = mean_squared_error(y_true, y_pred)", mean_squared_error(3.0, 2.5))
    _show(echo, "d loss / d y_pred", mean_squared_error_grad(3.0, 2.5))
    echo("The article prints 0.25: the same.")
    echo("")
    _show(echo, "y_true", 1)
    _show(echo, "y_pred", 0.9)
    _show(echo, "loss = binary_cross_entropy(y_true, y_pred)", pure_bce(1, 0.9))
    _show(echo, "d loss / d y_pred", pure_bce_grad(1, 0.9))
    echo("The article prints ~0.105, that is -ln(0.9). Like the article, the pure edition")
    echo("clips y_pred to [1e-9, 1 - 1e-9]: binary_cross_entropy(1, 0.0) is about 20.72.")


GRADIENT_TARGET = 1.0


def _gradients(echo: Print) -> None:
    from neural_network.pure import Dense
    from neural_network.pure import binary_cross_entropy as pure_bce
    from neural_network.pure import binary_cross_entropy_grad as pure_bce_grad

    echo("The neuron of step 2 (sigmoid), its target y = 1, and the binary cross-entropy:")
    echo("how much does the loss change with each weight? The chain rule, by hand:")
    echo("  dL/dp = -(y / p) + (1 - y) / (1 - p),  dp/dz = p (1 - p),  so dL/dz = p - y,")
    echo("  dL/dw_i = (p - y) x_i  and  dL/db = p - y.")
    (w1, w2), (x1, x2), y = NEURON_WEIGHTS, NEURON_INPUTS, GRADIENT_TARGET
    z = w1 * x1 + w2 * x2 + NEURON_BIAS
    p = 1.0 / (1.0 + math.exp(-z))
    _show(echo, "z", z)
    _show(echo, "p = 1 / (1 + math.exp(-z))", p)
    _show(echo, "loss = binary_cross_entropy(y, p)", pure_bce(y, p))
    _show(echo, "by hand: dL/dw = [(p - y) * x1, (p - y) * x2]", [(p - y) * x1, (p - y) * x2])
    _show(echo, "by hand: dL/db = p - y", p - y)
    echo("By the code: one Dense neuron, forward, then backward from dL/dp.")
    neuron = Dense(2, 1, "sigmoid")
    neuron.weights, neuron.bias = [[w1], [w2]], [NEURON_BIAS]
    (prediction,) = neuron.forward([NEURON_INPUTS])
    grad_p = pure_bce_grad(y, prediction[0])
    _show(echo, "dL/dp = binary_cross_entropy_grad(y, p)", grad_p)
    neuron.backward([[grad_p]])
    _show(echo, "neuron.backward([[dL/dp]]); neuron.grad_weights", neuron.grad_weights)
    _show(echo, "neuron.grad_bias", neuron.grad_bias)
    echo("The same numbers, up to the last digit or two: the code multiplies dL/dp by")
    echo("p (1 - p), which rounds differently from p - y. Gradient descent moves each")
    echo("weight a small step against its gradient: here, every weight goes up.")


def _xor(echo: Print) -> None:
    from neural_network.pure import SGD, Dense, Sequential, make_xor

    echo("from neural_network.pure import Dense, Sequential, SGD, make_xor")
    echo("")
    echo("XOR is 1 where the two inputs differ: no single neuron can draw that line,")
    echo("a hidden layer of 8 can. Forward, loss, backward and an SGD step, 500 times:")
    X, y = make_xor()
    _show(echo, "X, y = make_xor()", f"{X}, {y}")
    network = Sequential([Dense(2, 8, "tanh", rng=0), Dense(8, 1, "sigmoid", rng=1)])
    echo('network = Sequential([Dense(2, 8, "tanh", rng=0), Dense(8, 1, "sigmoid", rng=1)])')
    history = network.fit(
        X, y, loss="binary_cross_entropy", optimizer=SGD(0.5), epochs=500, batch_size=4, rng=0
    )
    echo('history = network.fit(X, y, loss="binary_cross_entropy", optimizer=SGD(0.5),')
    echo("                      epochs=500, batch_size=4, rng=0)")
    for epoch in (1, 10, 100, 500):
        echo(f"loss after epoch {epoch:>3}: {history[epoch - 1]:.6f}")
    predictions = network.predict(X)
    for sample, label, row in zip(X, y, predictions, strict=True):
        echo(f"input {sample}: predicted {row[0]:.4f}, rounded {round(row[0])}, label {label}")
    rounded = [round(row[0]) for row in predictions]
    accuracy = sum(r == t for r, t in zip(rounded, y, strict=True)) / len(y)
    echo(f"accuracy: {accuracy:.0%}")


# --------------------------------------------------------------------------- the NumPy series


def _numpy_series() -> Series:
    X3 = np.array([[1.0], [2.0], [3.0]])
    y3 = np.array([[2.0], [3.5], [5.0]])
    return Series(
        "numpy",
        "Learn Deep Learning with NumPy, Part 2.1: loss functions, with neural_network",
        (
            Step("Example: MSE on y = 2x + 1 with the true weights", _article_mse),
            Step("Example: binary cross-entropy of sigmoid outputs", _article_bce),
            Step(
                "Exercise 1: MSE with a perfect fit (W = 1.5, b = 0.5)",
                lambda echo: _regression(echo, X3, 1.5, 0.5, y3, "A perfect prediction: the loss is 0."),
            ),
            Step(
                "Exercise 2: binary cross-entropy, mostly right",
                lambda echo: _classification(
                    echo, np.array([[1.0], [-1.0], [2.0]]), np.array([[1.0], [0.0], [1.0]])
                ),
            ),
            Step(
                "Exercise 3: MSE with an imperfect weight (W = 1.0)",
                lambda echo: _regression(
                    echo, X3, 1.0, 0.5, y3, "Errors of 0.5, 1 and 1.5: the loss is (0.25 + 1 + 2.25) / 3 = 7/6."
                ),
            ),
            Step("Exercise 4: binary cross-entropy, mostly wrong", _exercise_4),
        ),
    )


def _article_mse(echo: Print) -> None:
    echo("from neural_network import mse_loss, binary_cross_entropy, sigmoid")
    echo("")
    X4, y4 = np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([[3.0], [5.0], [7.0], [9.0]])
    _regression(echo, X4, 2.0, 1.0, y4, "The article prints 0.0: the same.")


def _article_bce(echo: Print) -> None:
    Z = np.array([[2.0], [-1.0], [3.0], [-2.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    _classification(echo, Z, y)
    article_A = 1 / (1 + np.exp(-Z))  # the article's own sigmoid and loss, verbatim
    article_value = -np.mean(y * np.log(article_A + 1e-15) + (1 - y) * np.log(1 - article_A + 1e-15))
    echo("The article's code adds 1e-15 inside both logs; run here it prints")
    _show(echo, "-np.mean(y * np.log(A + 1e-15) + (1 - y) * np.log(1 - A + 1e-15))", article_value)
    echo(
        f"The article prints {ARTICLE_PRINTS}; its code gives {float(article_value)!r}; "
        f"the exact value, rounded once, is {TRUE_LOSS_ROUNDED}."
    )
    echo("From the logits, without rounding the probabilities first:")
    _show(echo, "binary_cross_entropy_with_logits(Z, y)", binary_cross_entropy_with_logits(Z, y))


def _exercise_4(echo: Print) -> None:
    _classification(echo, np.array([[-2.0], [2.0], [-1.0]]), np.array([[1.0], [0.0], [1.0]]))
    echo("Confident wrong predictions cost far more than in exercise 2.")


def _regression(echo: Print, X: np.ndarray, w: float, b: float, y_true: np.ndarray, note: str) -> None:
    W = np.array([[w]])
    y_pred = X @ W + b
    _show(echo, "X", X)
    _show(echo, "W", W)
    _show(echo, "b", b)
    _show(echo, "y_pred = X @ W + b", y_pred)
    _show(echo, "y_true", y_true)
    _show(echo, "mse_loss(y_pred, y_true)", mse_loss(y_pred, y_true))
    _show(echo, "mse_loss_grad(y_pred, y_true)", mse_loss_grad(y_pred, y_true))
    echo(note)


def _classification(echo: Print, Z: np.ndarray, y_true: np.ndarray) -> None:
    A = sigmoid(Z)
    _show(echo, "Z (logits)", Z)
    _show(echo, "A = sigmoid(Z)", A)
    _show(echo, "y_true", y_true)
    _show(echo, "binary_cross_entropy(A, y_true)", binary_cross_entropy(A, y_true))
    _show(echo, "binary_cross_entropy_grad(A, y_true)", binary_cross_entropy_grad(A, y_true))
