"""The pure edition's gradients against central finite differences (no NumPy involved).

A network's backward pass is checked on the scalar ``L = sum(G * output)`` (so that
``dL/d(output) = G``) and through each of the training losses; every activation's and
every loss's derivative on its own too. Central differences with step ``h`` have an
error of order ``h**2`` (truncation) plus ``eps / h`` (rounding): ``h = 1e-6`` and a
relative tolerance of ``1e-6`` leave a wide margin for both.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable

import pytest

from neural_network import pure
from neural_network.pure.losses import FLAT_LOSSES, cross_entropy_step

H = 1e-6
RTOL = 1e-6
ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


def central(f: Callable[[float], float], x: float) -> float:
    return (f(x + H) - f(x - H)) / (2 * H)


def close(derivative: float, estimate: float, scale: float = 1.0) -> bool:
    return abs(derivative - estimate) <= RTOL * max(abs(estimate), 1e-3 * scale)


def rows(n: int, m: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 2.0) for _ in range(m)] for _ in range(n)]


def away_from_kinks(X: list[list[float]], model: pure.Sequential) -> bool:
    """No pre-activation within 1e-4 of relu's kink at 0, where the one-sided slopes differ."""
    model.forward(X)
    return all(
        abs(z) > 1e-4
        for layer in model.layers
        if layer._pre_activation is not None
        for row in layer._pre_activation
        for z in row
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backward_matches_finite_differences(activation: str, depth: int) -> None:
    sizes = [3, 4, 4, 2][: depth + 1]
    model = pure.Sequential([pure.Dense(a, b, activation, rng=k) for k, (a, b) in enumerate(itertools.pairwise(sizes))])
    X, G = rows(5, sizes[0], seed=depth), rows(5, sizes[-1], seed=10 + depth)
    assert away_from_kinks(X, model)

    def loss() -> float:
        return math.fsum(g * a for g_row, a_row in zip(G, model.predict(X), strict=True) for g, a in zip(g_row, a_row, strict=True))

    model.forward(X)
    grad_inputs = model.backward(G)
    for k, layer in enumerate(model.layers):
        for i, row in enumerate(layer.weights):
            for j in range(len(row)):
                original = row[j]

                def at(value: float, row: list[float] = row, j: int = j) -> float:
                    row[j] = value
                    return loss()

                estimate = central(at, original)
                row[j] = original
                assert close(layer.grad_weights[i][j], estimate), (k, i, j)
        for j in range(layer.out_features):
            original = layer.bias[j]

            def at_bias(value: float, bias: list[float] = layer.bias, j: int = j) -> float:
                bias[j] = value
                return loss()

            estimate = central(at_bias, original)
            layer.bias[j] = original
            assert close(layer.grad_bias[j], estimate), (k, "bias", j)
    for n, x_row in enumerate(X):
        for i in range(len(x_row)):
            original = x_row[i]

            def at_input(value: float, x_row: list[float] = x_row, i: int = i) -> float:
                x_row[i] = value
                return loss()

            estimate = central(at_input, original)
            x_row[i] = original
            assert close(grad_inputs[n][i], estimate), (n, i)


@pytest.mark.parametrize("name", ["mean_squared_error", "binary_cross_entropy", "cross_entropy"])
def test_training_losses_give_the_gradient_of_their_mean(name: str) -> None:
    """The (value, gradient) pairs ``fit`` uses: the gradient is that of the batch mean."""
    rng = random.Random(1)
    if name == "cross_entropy":
        logits = rows(4, 3, seed=2)
        labels = [rng.randrange(3) for _ in logits]
        _, grads = cross_entropy_step(labels, logits)
        for n in range(4):
            for c in range(3):
                original = logits[n][c]

                def at(value: float, n: int = n, c: int = c) -> float:
                    logits[n][c] = value
                    return cross_entropy_step(labels, logits)[0]

                estimate = central(at, original)
                logits[n][c] = original
                assert close(grads[n][c], estimate)
        return
    targets = [float(rng.randrange(2)) for _ in range(6)]
    outputs = [rng.uniform(0.1, 0.9) for _ in range(6)]
    step = FLAT_LOSSES[name]
    _, grad = step(targets, outputs)
    for i in range(6):
        original = outputs[i]

        def at_output(value: float, i: int = i) -> float:
            outputs[i] = value
            return step(targets, outputs)[0]

        estimate = central(at_output, original)
        outputs[i] = original
        assert close(grad[i], estimate)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivatives_match_finite_differences(name: str) -> None:
    f, f_grad = getattr(pure, name), getattr(pure, name + "_grad")
    # Beyond |z| = 8 a difference of sigmoid or tanh values near +-1 resolves too few
    # bits; the tails are checked against the NumPy edition in test_pure_parity.py.
    for z in [-8.0, -3.0, -0.7, -1e-3, 1e-3, 0.4, 2.5, 8.0]:
        estimate = central(f, z)
        assert close(f_grad(z), estimate, scale=1e-3), (name, z)


def test_softmax_grad_matches_finite_differences() -> None:
    Z = [0.3, -1.2, 2.0, 0.0]
    G = [0.5, -1.0, 0.25, 2.0]
    grad = pure.softmax_grad(Z, G)
    for i in range(4):

        def at(value: float, i: int = i) -> float:
            shifted = [value if k == i else z for k, z in enumerate(Z)]
            return math.fsum(g * s for g, s in zip(G, pure.softmax(shifted), strict=True))

        assert close(grad[i], central(at, Z[i]))


def test_cross_entropy_grad_matches_finite_differences_of_the_public_loss() -> None:
    logits = [[0.3, -1.2, 2.0], [1.0, 1.0, -4.0]]
    labels = [2, 0]
    grad = pure.cross_entropy_grad(labels, logits)
    for n in range(2):
        for c in range(3):

            def at(value: float, n: int = n, c: int = c) -> float:
                shifted = [[value if (m, k) == (n, c) else z for k, z in enumerate(row)] for m, row in enumerate(logits)]
                return pure.cross_entropy(labels, shifted)

            assert close(grad[n][c], central(at, logits[n][c]))
    assert pure.cross_entropy_grad(1, [0.0, 0.0]) == [0.5, -0.5]  # one sample: a list, exact
