"""fit's hot path: the work arrays of Dense, the fused optimizer step, the accuracy counted per epoch.

fit trains through private paths (``Sequential._training_passes``, ``Optimizer._stepper``)
that write into arrays kept from batch to batch. These tests hold them to two
references: a training loop written here by hand from the formulas (plain NumPy, the
gradient of the logistic loss derived by hand: (sigmoid(x) - y) / N), which fit must
follow to float64 rounding; and, bit for bit, the layers' public forward and backward
passes, which compute the same operations into new arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from neural_network import SGD, Adam, AdamW, Dense, Dropout, RMSprop, Sequential
from neural_network.errors import NonFiniteError
from neural_network.losses import (
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits_grad,
    cross_entropy_grad,
)
from neural_network.optimizers import Optimizer
from neural_network.parameters import Parameter


def _data(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.standard_normal(rows) > 0).astype(np.float64)
    return X, y


def _network(dtype: type[np.floating], seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([
        Dense(6, 16, "relu", rng=rng, dtype=dtype),
        Dense(16, 16, "relu", rng=rng, dtype=dtype),
        Dense(16, 1, rng=rng, dtype=dtype),
    ])


def _hand_sgd(
    weights: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray, order: np.ndarray,
    batch: int, rate: float,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], float, float]:
    """One epoch of mini-batch SGD on a ReLU network with the logistic loss, from the formulas.

    Returns the weights, the mean loss over the samples and the accuracy, both measured on
    each batch before its step (as fit measures them)."""
    weights = [(W.copy(), b.copy()) for W, b in weights]
    total, right = 0.0, 0
    for start in range(0, len(X), batch):
        rows = order[start : start + batch]
        activations, pre = [X[rows]], []
        for position, (W, b) in enumerate(weights):
            Z = activations[-1] @ W + b
            pre.append(Z)
            activations.append(Z if position == len(weights) - 1 else np.maximum(Z, 0.0))
        x, t = activations[-1], y[rows].reshape(-1, 1)
        total += float(np.sum(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))))
        right += int(np.count_nonzero((x > 0) == (t > 0.5)))
        grad = (1.0 / (1.0 + np.exp(-x)) - t) / len(rows)
        updates = []
        for position in reversed(range(len(weights))):
            W, b = weights[position]
            if position < len(weights) - 1:
                grad = grad * (pre[position] > 0)
            updates.append((activations[position].T @ grad, grad.sum(axis=0)))
            grad = grad @ W.T
        for (W, b), (gW, gb) in zip(weights, reversed(updates), strict=True):
            W -= rate * gW
            b -= rate * gb
    return weights, total / len(X), right / len(X)


@pytest.mark.parametrize("batch", [16, 23, 200])
def test_fit_follows_the_formulas(batch: int) -> None:
    X, y = _data(203, 6, seed=1)
    model = _network(np.float64)
    start = [(layer.weights.copy(), layer.bias.copy()) for layer in model.layers if isinstance(layer, Dense)]
    order = np.random.default_rng(7).permutation(len(X))
    expected, loss, accuracy = _hand_sgd(start, X, y, order, batch, 0.05)
    history = model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=SGD(0.05), epochs=1,
                        batch_size=batch, rng=np.random.default_rng(7))
    for layer, (W, b) in zip(model.layers, expected, strict=True):
        assert isinstance(layer, Dense)
        np.testing.assert_allclose(layer.weights, W, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.bias, b, rtol=1e-10, atol=1e-12)
    assert history.loss[0] == pytest.approx(loss, rel=1e-12)
    assert history.metrics["accuracy"][0] == accuracy


def _public_step(model: Sequential, X: np.ndarray, gradient: np.ndarray) -> list[np.ndarray]:
    """The public per-layer passes: outputs, every gradient and d(loss)/d(X) of the layer after the first."""
    outputs = model.forward(X)
    model.backward(gradient)
    return [outputs.copy()] + [p.grad.copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu", None])
def test_training_passes_give_the_public_passes_bits(dtype: type[np.floating], activation: str | None) -> None:
    rng = np.random.default_rng(3)
    model = Sequential([
        Dense(5, 8, activation, rng=rng, dtype=dtype),
        Dense(8, 8, activation, rng=rng, dtype=dtype),
        Dense(8, 1, "relu", rng=rng, dtype=dtype),
    ])
    forward, backward = model._training_passes()
    for rows in (7, 7, 3, 7):  # work arrays made, reused, made again for a smaller batch
        X = rng.standard_normal((rows, 5)).astype(dtype)
        X[0, :] = 0.0  # zero pre-activations: relu's -0.0 and +0.0, the slope at 0
        X[1, 0] = -0.0
        gradient = rng.standard_normal((rows, 1)).astype(dtype)
        gradient[2] = -0.0  # the signs of zero products must match the matrix product's
        expected = _public_step(model, X, gradient)
        outputs = forward(X)
        backward(gradient)
        got = [outputs] + [p.grad for p in model.parameters()]
        for want, have in zip(expected, got, strict=True):
            assert want.dtype == have.dtype
            assert want.tobytes() == have.tobytes()


def test_relu_work_arrays_keep_nan_and_signed_zero() -> None:
    layer = Dense(3, 4, "relu", rng=0, dtype=np.float32)
    X = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0], [np.nan, 1.0, 1.0], [-np.inf, 0.0, 0.0]], dtype=np.float32)
    layer.bias = np.array([0.0, -0.0, 1.0, -1.0], dtype=np.float32)
    with np.errstate(invalid="ignore"):  # inf times 0 in the product
        expected = layer.forward(X).copy()
        assert layer._train_forward(X).tobytes() == expected.tobytes()
    assert np.isnan(expected).any() and (expected == 0).any()


def test_one_output_layer_gradient_has_the_matrix_product_bits() -> None:
    """A layer with one output: d(loss)/d(X) is delta_i w_j, +0.0 where the product is -0.0."""
    layer = Dense(4, 1, rng=0)
    layer.weights = np.array([[0.0], [-0.0], [2.0], [-3.0]])
    X = np.ones((3, 4))
    gradient = np.array([[-1.0], [0.0], [2.5]])
    layer.forward(X)
    expected = layer.backward(gradient).copy()
    hand = np.array([[g * w + 0.0 for w in (0.0, -0.0, 2.0, -3.0)] for g in (-1.0, 0.0, 2.5)])
    assert expected.tobytes() == hand.tobytes()
    layer._train_forward(X)
    assert layer._train_backward(gradient).tobytes() == hand.tobytes()


@pytest.mark.parametrize("make", [lambda: SGD(0.05), lambda: SGD(0.05, momentum=0.9, nesterov=True),
                                  lambda: Adam(0.01), lambda: SGD(0.05, weight_decay=0.1)])
def test_epochs_in_one_fit_or_several_are_the_same(make: Callable[[], Optimizer]) -> None:
    """The fused step is taken again at each epoch and each fit: 3 epochs at once, or 1 then 2."""
    X, y = _data(150, 6, seed=2)
    models, optimizers = [_network(np.float32), _network(np.float32)], [make(), make()]
    models[0].fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=optimizers[0], epochs=3,
                  batch_size=32, rng=np.random.default_rng(4))
    generator = np.random.default_rng(4)
    for epochs in (1, 2):
        models[1].fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=optimizers[1], epochs=epochs,
                      batch_size=32, rng=generator)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert a.value.tobytes() == b.value.tobytes()
    assert optimizers[0].step_count == optimizers[1].step_count == 3 * 5


def test_fused_step_equals_step_on_each_parameter() -> None:
    """The flat update fit uses is, bit for bit, the update of each parameter on its own."""
    X, y = _data(100, 6, seed=5)
    model = _network(np.float32)
    optimizer = SGD(0.1, momentum=0.5)
    model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=optimizer, epochs=2, batch_size=25, rng=1)
    copies = [Parameter(p.name, p.value.copy()) for p in model.parameters()]
    for copy, p in zip(copies, model.parameters(), strict=True):
        copy.grad[...] = p.grad
    alone = SGD(0.1, momentum=0.5)
    alone.load_state_dict(optimizer.state_dict())
    alone.step(copies)
    step = optimizer._stepper(model.parameters())
    step()
    step()  # the second call is the fused update without checks
    alone.step(copies)
    for copy, p in zip(copies, model.parameters(), strict=True):
        assert copy.value.tobytes() == p.value.tobytes()


class _Counting(SGD):
    """An optimizer whose own step must be called at every batch."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__(learning_rate)
        self.calls = 0

    def step(self, parameters: Sequence[Parameter]) -> None:
        self.calls += 1
        super().step(parameters)


def test_an_optimizer_with_its_own_step_keeps_it() -> None:
    X, y = _data(90, 6, seed=6)
    optimizer = _Counting(0.05)
    _network(np.float64).fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=optimizer, epochs=2,
                             batch_size=30, rng=0)
    assert optimizer.calls == 6
    assert isinstance(optimizer, Optimizer)


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_accuracy_counts_each_batch_before_its_step(loss: str) -> None:
    """The training accuracy, counted at the end of the epoch, is that of each batch's outputs."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((97, 4))
    classes = 3 if loss == "cross_entropy" else 1
    y = rng.integers(0, 3, 97) if classes == 3 else (X[:, 0] > 0).astype(np.float64)
    last = "sigmoid" if loss == "binary_cross_entropy" else None
    model = Sequential([Dense(4, 8, "relu", rng=1), Dropout(0.2, rng=2), Dense(8, classes, last, rng=3)])
    twin = Sequential([Dense(4, 8, "relu", rng=1), Dropout(0.2, rng=2), Dense(8, classes, last, rng=3)])
    history = model.fit(X, y, loss=loss, optimizer=SGD(0.1), epochs=1, batch_size=20, rng=9)
    # The twin steps batch by batch through the public passes, counting by hand.
    order = np.random.default_rng(9).permutation(97)
    optimizer, right = SGD(0.1), 0
    grads = {"cross_entropy": cross_entropy_grad, "binary_cross_entropy": binary_cross_entropy_grad,
             "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits_grad}
    for start in range(0, 97, 20):
        rows = order[start : start + 20]
        outputs = twin.forward(X[rows])
        target = y[rows] if classes == 3 else y[rows].reshape(-1, 1)
        if classes == 3:
            right += sum(int(np.argmax(o) == t) for o, t in zip(outputs, target, strict=True))
        else:
            cut = 0.5 if loss == "binary_cross_entropy" else 0.0
            right += sum(int((o[0] > cut) == (t[0] > 0.5)) for o, t in zip(outputs, target, strict=True))
        twin.backward(grads[loss](outputs, target))
        optimizer.step(twin.parameters())
    assert history.metrics["accuracy"][0] == right / 97


class _Blowup:
    """A custom loss, the mean squared error, whose value is infinite at one call, or
    whose gradient, at one call, is large enough to make the weights infinite."""

    def __init__(self, bad_value: int, bad_grad: int) -> None:
        self.bad_value, self.bad_grad, self.values, self.grads = bad_value, bad_grad, 0, 0

    def value(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        self.values += 1
        return math.inf if self.values == self.bad_value else float(np.mean((outputs - targets) ** 2))

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        self.grads += 1
        scale = 1e38 if self.grads == self.bad_grad else 2.0 / outputs.size
        return (scale * (outputs - targets)).astype(outputs.dtype)


def _twin_divergence(
    model: Sequential, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, loss: _Blowup, seed: int
) -> tuple[list[np.ndarray], str | None]:
    """fit's loop through the public passes, with fit's promise on divergence: the weights
    before the step after which the loss (or, at an epoch's end, a weight) is not finite."""
    generator = np.random.default_rng(seed)
    before = [p.value.copy() for p in model.parameters()]
    targets = y.reshape(-1, 1).astype(np.float32)  # as fit converts them, to the network's dtype
    for _ in range(3):
        order = generator.permutation(len(X))
        for start in range(0, len(X), 30):
            rows = order[start : start + 30]
            with np.errstate(all="ignore"):
                outputs = model.forward(X[rows])
                if not math.isfinite(loss.value(outputs, targets[rows])):
                    return before, "loss"
                model.backward(loss.grad(outputs, targets[rows]))
                before = [p.value.copy() for p in model.parameters()]
                optimizer.step(model.parameters())
        if not all(np.isfinite(p.value).all() for p in model.parameters()):
            return before, "weights"
    return [p.value.copy() for p in model.parameters()], None


# 120 rows in batches of 30: 4 steps an epoch, the last 3 of which swap the arrays.
# Infinite losses before and after each step, in every epoch (the first after an epoch
# that ended on the second array); weights made infinite by the last step of an epoch,
# and by a step within one.
_BLOWUPS = [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0), (9, 0), (12, 0), (0, 4), (0, 6), (0, 8), (0, 0)]


_OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "sgd": lambda: SGD(0.01),
    "sgd decoupled": lambda: SGD(0.01, momentum=0.9, weight_decay=0.1, decoupled_weight_decay=True),
    "sgd l2 nesterov": lambda: SGD(0.01, momentum=0.5, nesterov=True, weight_decay=0.1),
    "adam": lambda: Adam(0.01),
    "adam l2": lambda: Adam(0.01, weight_decay=0.1, amsgrad=True),
    "adamw": lambda: AdamW(0.01, weight_decay=0.1),
    "rmsprop": lambda: RMSprop(0.01, momentum=0.5, weight_decay=0.1),
    "own step": lambda: _Counting(0.01),
}


@pytest.mark.parametrize(("bad_value", "bad_grad"), _BLOWUPS)
@pytest.mark.parametrize("kind", list(_OPTIMIZERS))
def test_a_diverging_run_stops_with_the_last_finite_weights(bad_value: int, bad_grad: int, kind: str) -> None:
    """And a run that does not diverge ends with the weights of the public steps, whichever
    way fit updates them (in place, or into the second flat array)."""
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((120, 6)), rng.standard_normal(120)
    make = _OPTIMIZERS[kind]

    model, twin = _network(np.float32, seed=4), _network(np.float32, seed=4)
    expected, what = _twin_divergence(twin, make(), X, y, _Blowup(bad_value, bad_grad), seed=5)
    loss = _Blowup(bad_value, bad_grad)
    try:
        model.fit(X, y, loss=(loss.value, loss.grad), optimizer=make(), epochs=3, batch_size=30, rng=5)
        stopped = None
    except NonFiniteError as error:
        stopped = "loss" if "training loss" in str(error) else "weights"
    assert stopped == what
    for want, p in zip(expected, model.parameters(), strict=True):
        assert want.tobytes() == p.value.tobytes()
        assert p.value.base is model._flat_values  # the network's own arrays again
