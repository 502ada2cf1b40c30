"""``neural-network examples``: both articles' worked examples and exercises, run here.

Each step prints its inputs, the predictions, the loss and its gradient as this
library computes them. Where an article printed a value that its own code does not
give, the walkthrough says so and why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    mse_loss,
    mse_loss_grad,
    pure,
    sigmoid,
)

Print = Callable[[str], None]


def run(echo: Print = print) -> None:
    """Print the walkthrough of both articles."""
    np.set_printoptions(precision=8, suppress=False)
    _pure_article(echo)
    _numpy_article(echo)


def _heading(echo: Print, title: str) -> None:
    echo("")
    echo(title)
    echo("=" * len(title))


def _step(echo: Print, title: str) -> None:
    echo("")
    echo(f"-- {title}")


def _show(echo: Print, name: str, value: object) -> None:
    text = str(value)
    if "\n" in text:
        echo(f"{name}:")
        for line in text.splitlines():
            echo(f"    {line}")
    else:
        echo(f"{name}: {text}")


def _pure_article(echo: Print) -> None:
    _heading(echo, "Neural Networks From Scratch (pure Python), Article #5: loss functions")
    echo("from neural_network.pure import mean_squared_error, binary_cross_entropy")

    _step(echo, "Mean squared error of one prediction")
    _show(echo, "y_true", 3.0)
    _show(echo, "y_pred", 2.5)
    _show(echo, "loss = mean_squared_error(y_true, y_pred)", pure.mean_squared_error(3.0, 2.5))
    _show(echo, "d loss / d y_pred", pure.mean_squared_error_grad(3.0, 2.5))
    echo("The article prints 0.25: the same.")

    _step(echo, "Binary cross-entropy of a confident, correct prediction")
    _show(echo, "y_true", 1)
    _show(echo, "y_pred", 0.9)
    _show(echo, "loss = binary_cross_entropy(y_true, y_pred)", pure.binary_cross_entropy(1, 0.9))
    _show(echo, "d loss / d y_pred", pure.binary_cross_entropy_grad(1, 0.9))
    echo("The article prints ~0.105, that is -ln(0.9).")


def _numpy_article(echo: Print) -> None:
    _heading(echo, "Learn Deep Learning with NumPy, Part 2.1: loss functions")
    echo("from neural_network import mse_loss, binary_cross_entropy, sigmoid")

    X4 = np.array([[1.0], [2.0], [3.0], [4.0]])
    _regression(echo, "Example: MSE on y = 2x + 1 with the true weights", X4, 2.0, 1.0,
                np.array([[3.0], [5.0], [7.0], [9.0]]), "The article prints 0.0: the same.")

    Z = np.array([[2.0], [-1.0], [3.0], [-2.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    _classification(echo, "Example: binary cross-entropy of sigmoid outputs", Z, y)
    article_A = 1 / (1 + np.exp(-Z))  # the article's own sigmoid and loss, verbatim
    article_value = -np.mean(y * np.log(article_A + 1e-15) + (1 - y) * np.log(1 - article_A + 1e-15))
    echo("The article prints 0.1731486847, which its code does not give: its code adds")
    echo(f"1e-15 inside both logs and prints {article_value!s}. The exact loss is")
    echo("0.15392626529447747 (50-digit mpmath, from the logits); the value above is the")
    echo("exact loss of the rounded probabilities, correctly rounded. From the logits:")
    _show(echo, "binary_cross_entropy_with_logits(Z, y)", binary_cross_entropy_with_logits(Z, y))

    X3 = np.array([[1.0], [2.0], [3.0]])
    y3 = np.array([[2.0], [3.5], [5.0]])
    _regression(echo, "Exercise 1: MSE with a perfect fit (W = 1.5, b = 0.5)", X3, 1.5, 0.5, y3,
                "A perfect prediction: the loss is 0.")
    _classification(echo, "Exercise 2: binary cross-entropy, mostly right",
                    np.array([[1.0], [-1.0], [2.0]]), np.array([[1.0], [0.0], [1.0]]))
    _regression(echo, "Exercise 3: MSE with an imperfect weight (W = 1.0)", X3, 1.0, 0.5, y3,
                "Errors of 0.5, 1 and 1.5: the loss is (0.25 + 1 + 2.25) / 3 = 7/6.")
    _classification(echo, "Exercise 4: binary cross-entropy, mostly wrong",
                    np.array([[-2.0], [2.0], [-1.0]]), np.array([[1.0], [0.0], [1.0]]))
    echo("Confident wrong predictions cost far more than in exercise 2.")


def _regression(echo: Print, title: str, X: np.ndarray, w: float, b: float, y_true: np.ndarray, note: str) -> None:
    _step(echo, title)
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


def _classification(echo: Print, title: str, Z: np.ndarray, y_true: np.ndarray) -> None:
    _step(echo, title)
    A = sigmoid(Z)
    _show(echo, "Z (logits)", Z)
    _show(echo, "A = sigmoid(Z)", A)
    _show(echo, "y_true", y_true)
    _show(echo, "binary_cross_entropy(A, y_true)", binary_cross_entropy(A, y_true))
    _show(echo, "binary_cross_entropy_grad(A, y_true)", binary_cross_entropy_grad(A, y_true))
