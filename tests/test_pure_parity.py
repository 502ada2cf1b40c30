"""The pure edition gives the NumPy edition's numbers (issue 14, item 2).

The NumPy edition is the reference: given the same weights, the pure edition's forward
pass, every gradient (of the weights, the biases and the inputs, layer by layer) and
one SGD step (two with momentum) must equal it to 1e-12 relative, for every activation
and for networks of 1 to 3 layers; the activations, the losses and ``fit`` likewise.

Tolerance: each element within ``RTOL * |expected|``, plus ``1e-14 * max|expected|`` of
its array. The floor is for entries that are sums of terms which nearly cancel: there
two correct summation orders (BLAS blocks and fuses, the pure edition adds in order)
differ by a few units of rounding of the *terms*, which can be any multiple of the
small result. Measured over 300 random networks (16 samples each), 10 of 77,000
entries differ by more than 1e-12 of themselves (at most 4e-11), while no array
differs by more than 2e-15 of its largest entry; the floor leaves a margin of 5 for
other BLAS kernels. :func:`max_relative_difference` gives the plain element-wise ratio.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import neural_network as nn
from neural_network import pure
from neural_network.layers import Dense as NumpyDense
from neural_network.network import Sequential as NumpySequential

RTOL = 1e-12
ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
SIZES = [4, 6, 5, 3]  # in_features of the first layer, then each layer's out_features


def max_relative_difference(actual: object, expected: object) -> float:
    """max |a - e| / |e| over the elements where e != 0 (0 where both are 0)."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    nonzero = e != 0
    if np.any(a[~nonzero] != 0):
        return float(np.max(np.abs(a[~nonzero])))  # an absolute difference where e == 0
    return float(np.max(np.abs(a[nonzero] - e[nonzero]) / np.abs(e[nonzero]), initial=0.0))


def assert_close(actual: object, expected: object, what: str) -> None:
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, (what, a.shape, e.shape)
    floor = 1e-14 * float(np.max(np.abs(e), initial=0.0))
    bad = np.abs(a - e) > RTOL * np.abs(e) + floor
    assert not np.any(bad), (what, a[bad][:5], e[bad][:5], max_relative_difference(a, e))


def twin_networks(activation: str, depth: int, seed: int) -> tuple[pure.Sequential, NumpySequential]:
    """A pure network (its own random weights) and a NumPy one given the very same weights."""
    layers = [
        pure.Dense(SIZES[k], SIZES[k + 1], activation, rng=seed + k) for k in range(depth)
    ]
    rng = random.Random(seed)
    for layer in layers:  # non-zero biases, so that the bias path is tested too
        layer.bias = [rng.uniform(-0.5, 0.5) for _ in range(layer.out_features)]
    numpy_layers = []
    for layer in layers:
        twin = NumpyDense(layer.in_features, layer.out_features, activation, rng=0)
        twin.weights = np.array(layer.weights)
        twin.bias = np.array(layer.bias)
        numpy_layers.append(twin)
    return pure.Sequential(layers), NumpySequential(numpy_layers)


def batch(rows: int, columns: int, seed: int, scale: float = 1.5) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0.0, scale) for _ in range(columns)] for _ in range(rows)]


# --------------------------------------------------------------------------- networks


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_backward_and_sgd_step_equal_the_numpy_edition(activation: str, depth: int) -> None:
    model, reference = twin_networks(activation, depth, seed=10 * depth)
    X = batch(7, SIZES[0], seed=depth)
    assert_close(model.forward(X), reference.forward(np.array(X)), "forward")
    assert_close(model.predict(X), reference.predict(np.array(X)), "predict")

    G = batch(7, SIZES[depth], seed=100 + depth, scale=1.0)  # dL/d(output)
    assert_close(model.backward(G), reference.backward(np.array(G)), "dL/dX")
    for k, (layer, twin) in enumerate(zip(model.layers, reference.layers, strict=True)):
        assert_close(layer.grad_weights, twin.grad_weights, f"layer {k} grad_weights")
        assert_close(layer.grad_bias, twin.grad_bias, f"layer {k} grad_bias")

    pure.SGD(0.1).step(model.layers)
    nn.SGD(0.1).step(reference.parameters())
    for k, (layer, twin) in enumerate(zip(model.layers, reference.layers, strict=True)):
        assert_close(layer.weights, twin.weights, f"layer {k} weights after a step")
        assert_close(layer.bias, twin.bias, f"layer {k} bias after a step")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_momentum_steps_equal_the_numpy_edition(activation: str) -> None:
    """Three steps with momentum: the buffer starts as the first gradient, then mu * b + g."""
    model, reference = twin_networks(activation, 2, seed=7)
    optimizer, numpy_optimizer = pure.SGD(0.05, momentum=0.9), nn.SGD(0.05, momentum=0.9)
    for step in range(3):
        X = batch(5, SIZES[0], seed=step)
        G = batch(5, SIZES[2], seed=50 + step, scale=1.0)
        model.forward(X)
        model.backward(G)
        reference.forward(np.array(X))
        reference.backward(np.array(G))
        optimizer.step(model.layers)
        numpy_optimizer.step(reference.parameters())
    for layer, twin in zip(model.layers, reference.layers, strict=True):
        assert_close(layer.weights, twin.weights, "weights")
        assert_close(layer.bias, twin.bias, "bias")


@pytest.mark.parametrize(
    ("loss", "numpy_loss", "last", "targets"),
    [
        ("mean_squared_error", "mse_loss", "identity", "values"),
        ("binary_cross_entropy", "binary_cross_entropy", "sigmoid", "labels"),
        ("cross_entropy", "cross_entropy", "identity", "classes"),
    ],
)
def test_fit_follows_the_numpy_edition(loss: str, numpy_loss: str, last: str, targets: str) -> None:
    """Whole-batch training (the order of the samples then changes nothing but rounding):
    the same loss history and the same final weights, over 25 epochs."""
    outputs = 3 if targets == "classes" else 2
    rng = random.Random(3)
    X = batch(12, 3, seed=4)
    y: list[int] | list[list[float]]
    if targets == "classes":
        y = [rng.randrange(outputs) for _ in X]
    elif targets == "labels":
        y = [[float(rng.randrange(2)), rng.random()] for _ in X]
    else:
        y = [[rng.gauss(0, 1) for _ in range(outputs)] for _ in X]
    layers = [pure.Dense(3, 5, "tanh", rng=1), pure.Dense(5, outputs, last, rng=2)]
    model = pure.Sequential(layers)
    reference = pure.to_numpy(model)
    history = model.fit(X, y, loss=loss, optimizer=pure.SGD(0.2, momentum=0.5), epochs=25, batch_size=12, rng=0)
    expected = reference.fit(
        np.array(X), np.array(y), loss=numpy_loss, optimizer=nn.SGD(0.2, momentum=0.5), epochs=25,
        batch_size=12, rng=0,
    )
    # 25 steps let the rounding differences of each step grow a little: 1e-10.
    np.testing.assert_allclose(history, expected.loss, rtol=1e-10)
    for layer, twin in zip(model.layers, reference.layers, strict=True):
        np.testing.assert_allclose(layer.weights, twin.weights, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(layer.bias, twin.bias, rtol=1e-10, atol=1e-13)


# --------------------------------------------------------------------------- activations

GRID = [-1000.0, -300.0, -40.0, -5.0, -1.0, -0.25, -1e-9, 0.0, 1e-9, 0.25, 1.0, 5.0, 40.0, 300.0, 1000.0]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_equal_the_numpy_edition(name: str) -> None:
    for suffix in ("", "_grad"):
        function = getattr(pure, name + suffix)
        expected = getattr(nn, name + suffix)(np.array(GRID))
        assert_close(function(GRID), expected, name + suffix)
        assert_close(function([GRID, GRID[::-1]]), np.stack([expected, expected[::-1]]), name + suffix + " rows")
        assert_close(function(GRID[3]), expected[3], name + suffix + " number")


@pytest.mark.parametrize("slope", [0.0, 0.2, -0.5])
def test_leaky_relu_slope_equals_the_numpy_edition(slope: float) -> None:
    assert_close(pure.leaky_relu(GRID, negative_slope=slope), nn.leaky_relu(GRID, negative_slope=slope), "value")
    assert_close(
        pure.leaky_relu_grad(GRID, negative_slope=slope), nn.leaky_relu_grad(GRID, negative_slope=slope), "grad"
    )


def test_softmax_and_its_backward_equal_the_numpy_edition() -> None:
    Z = [[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0], [-5.0, -5.0, 700.0], [0.5, -0.25, 0.125]]
    G = batch(4, 3, seed=9)
    assert_close(pure.softmax(Z), nn.softmax(np.array(Z)), "softmax")
    assert_close(pure.softmax(Z[0]), nn.softmax(np.array(Z[0])), "softmax of one list")
    assert_close(pure.softmax_grad(Z, G), nn.softmax_grad(np.array(Z), np.array(G)), "softmax_grad")


# --------------------------------------------------------------------------- losses


def test_losses_equal_the_numpy_edition() -> None:
    rng = random.Random(5)
    labels = [float(rng.randrange(2)) for _ in range(8)] + [0.3, 0.7]
    probabilities = [rng.uniform(0.01, 0.99) for _ in labels]
    targets = [rng.gauss(0, 2) for _ in labels]
    # the NumPy edition's order is (prediction, target); the pure edition's (y_true, y_pred)
    assert_close(pure.mean_squared_error(targets, probabilities), nn.mse_loss(probabilities, targets), "mse")
    assert_close(
        pure.mean_squared_error_grad(targets, probabilities), nn.mse_loss_grad(probabilities, targets), "mse grad"
    )
    assert_close(
        pure.binary_cross_entropy(labels, probabilities), nn.binary_cross_entropy(probabilities, labels), "bce"
    )
    assert_close(
        pure.binary_cross_entropy_grad(labels, probabilities),
        nn.binary_cross_entropy_grad(probabilities, labels),
        "bce grad",
    )
    logits = [*batch(6, 4, seed=6, scale=3.0), [900.0, 0.0, -900.0, 1.0]]
    classes = [rng.randrange(4) for _ in logits]
    assert_close(pure.cross_entropy(classes, logits), nn.cross_entropy(np.array(logits), np.array(classes)), "ce")
    assert_close(
        pure.cross_entropy_grad(classes, logits),
        nn.cross_entropy_grad(np.array(logits), np.array(classes)),
        "ce grad",
    )


def test_a_confident_right_answer_keeps_its_tiny_loss() -> None:
    """-log softmax(z)_y for z = [40, 0]: about 4.2e-18, which log(sum(exp)) would round to 0."""
    loss = pure.cross_entropy(0, [40.0, 0.0])
    assert loss > 0
    assert_close(loss, nn.cross_entropy(np.array([[40.0, 0.0]]), np.array([0])), "tiny loss")
