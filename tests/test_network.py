"""Dense layers and Sequential networks: forward and backward against PyTorch and finite differences.

The reference network is built in PyTorch with the same weights (``torch.nn.Linear``
stores the transpose, ``(out, in)``), the same activations and the same loss; its
autograd gradients of every weight, bias and of the input are the expected values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neural_network import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    cross_entropy,
    cross_entropy_grad,
    mse_loss,
    mse_loss_grad,
)
from neural_network.errors import InvalidInputError, InvalidOptionError, ShapeMismatchError
from neural_network.layers import Dense
from neural_network.network import Sequential

TORCH_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "elu": torch.nn.functional.elu,
    "softplus": lambda z: torch.nn.functional.softplus(z, threshold=1000.0),
    "gelu": torch.nn.functional.gelu,
    "gelu_tanh": lambda z: torch.nn.functional.gelu(z, approximate="tanh"),
}

ARCHITECTURES = [
    pytest.param([3, 1], ["identity"], id="one-neuron"),
    pytest.param([4, 5, 1], ["relu", "identity"], id="relu-2-layers"),
    pytest.param([6, 8, 7, 3], ["tanh", "sigmoid", "identity"], id="tanh-sigmoid-3-layers"),
    pytest.param([5, 6, 6, 6, 2], ["elu", "leaky_relu", "softplus", "identity"], id="elu-leaky-softplus-4-layers"),
    pytest.param([4, 9, 2], ["gelu", "identity"], id="gelu"),
    pytest.param([4, 9, 2], ["gelu_tanh", "identity"], id="gelu-tanh"),
]


def build(sizes: list[int], activations: list[str], seed: int, dtype=np.float64) -> Sequential:
    rng = np.random.default_rng(seed)
    layers = [
        Dense(n_in, n_out, activation, rng=rng, dtype=dtype)
        for n_in, n_out, activation in zip(sizes[:-1], sizes[1:], activations, strict=True)
    ]
    for layer in layers:  # non-zero biases, so that the bias gradients are tested for real
        layer.bias = rng.normal(size=layer.out_features)
    return Sequential(layers)


def torch_forward(model: Sequential, X: np.ndarray):
    """The same network in PyTorch; returns (output, input tensor, [(W, b) leaf tensors])."""
    x = torch.tensor(X, requires_grad=True)
    leaves = []
    out = x
    for layer in model.layers:
        W = torch.tensor(layer.weights, requires_grad=True)
        b = torch.tensor(layer.bias, requires_grad=True)
        leaves.append((W, b))
        out = TORCH_ACTIVATIONS[layer.activation](out @ W + b)
    return out, x, leaves


def assert_close(ours: np.ndarray, reference: torch.Tensor, rtol: float) -> None:
    expected = reference.detach().numpy()
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    assert ours.shape == expected.shape
    assert float(np.max(np.abs(ours - expected))) <= rtol * scale


@pytest.mark.parametrize(("sizes", "activations"), ARCHITECTURES)
@pytest.mark.parametrize("seed", [0, 1])
def test_forward_and_backward_match_pytorch_autograd_with_mse(sizes, activations, seed) -> None:
    model = build(sizes, activations, seed)
    rng = np.random.default_rng(100 + seed)
    X = rng.normal(size=(7, sizes[0]))
    y = rng.normal(size=(7, sizes[-1]))

    outputs = model.forward(X)
    grad_X = model.backward(mse_loss_grad(outputs, y))

    reference, x, leaves = torch_forward(model, X)
    torch.nn.functional.mse_loss(reference, torch.tensor(y)).backward()
    assert_close(outputs, reference, 1e-13)
    assert float(mse_loss(outputs, y)) == pytest.approx(
        float(torch.nn.functional.mse_loss(reference.detach(), torch.tensor(y))), rel=1e-13
    )
    for layer, (W, b) in zip(model.layers, leaves, strict=True):
        assert_close(layer.grad_weights, W.grad, 1e-12)
        assert_close(layer.grad_bias, b.grad, 1e-12)
    assert_close(grad_X, x.grad, 1e-12)


def test_backward_with_binary_and_multiclass_losses_matches_pytorch() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(11, 5))
    for out_features, targets, ours, ours_grad, theirs in [
        (
            1,
            rng.integers(0, 2, size=(11, 1)).astype(float),
            binary_cross_entropy_with_logits,
            binary_cross_entropy_with_logits_grad,
            lambda o, t: torch.nn.functional.binary_cross_entropy_with_logits(o, torch.tensor(t)),
        ),
        (
            4,
            rng.integers(0, 4, size=11),
            cross_entropy,
            cross_entropy_grad,
            lambda o, t: torch.nn.functional.cross_entropy(o, torch.tensor(t)),
        ),
    ]:
        model = build([5, 6, out_features], ["relu", "identity"], seed=out_features)
        outputs = model.forward(X)
        model.backward(ours_grad(outputs, targets))
        reference, _, leaves = torch_forward(model, X)
        torch_loss = theirs(reference, targets)
        torch_loss.backward()
        assert float(ours(outputs, targets)) == pytest.approx(float(torch_loss.detach()), rel=1e-13)
        for layer, (W, b) in zip(model.layers, leaves, strict=True):
            assert_close(layer.grad_weights, W.grad, 1e-12)
            assert_close(layer.grad_bias, b.grad, 1e-12)


@pytest.mark.parametrize(("sizes", "activations"), ARCHITECTURES)
def test_gradients_match_central_finite_differences(sizes, activations) -> None:
    """Independent of PyTorch: perturb each parameter and watch the loss move."""
    model = build(sizes, activations, seed=3)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, sizes[0]))
    y = rng.normal(size=(5, sizes[-1]))
    model.backward(mse_loss_grad(model.forward(X), y))
    for parameter in model.parameters():
        analytic = parameter.grad.copy()
        numeric = np.zeros_like(analytic)
        for index in np.ndindex(parameter.value.shape):
            saved = parameter.value[index]
            step = 1e-6 * max(1.0, abs(saved))
            parameter.value[index] = saved + step
            up = float(mse_loss(model.predict(X), y))
            parameter.value[index] = saved - step
            down = float(mse_loss(model.predict(X), y))
            parameter.value[index] = saved
            numeric[index] = (up - down) / (2 * step)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_predict_equals_forward_and_keeps_nothing() -> None:
    model = build([4, 5, 2], ["tanh", "identity"], seed=5)
    X = np.random.default_rng(6).normal(size=(3, 4))
    np.testing.assert_array_equal(model.predict(X), model.forward(X))
    fresh = build([4, 5, 2], ["tanh", "identity"], seed=5)
    fresh.predict(X)
    with pytest.raises(InvalidInputError, match="call forward first"):
        fresh.backward(np.zeros((3, 2)))


def test_float32_network_stays_float32() -> None:
    model = build([3, 4, 1], ["relu", "identity"], seed=8, dtype=np.float32)
    X = np.random.default_rng(9).normal(size=(6, 3))
    out = model.forward(X)
    assert out.dtype == np.float32
    assert model.backward(np.ones((6, 1))).dtype == np.float32
    assert all(p.value.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())


def test_initialization_schemes() -> None:
    rng = np.random.default_rng(10)
    relu = Dense(400, 300, "relu", rng=rng, init="he")
    tanh = Dense(400, 300, "tanh", rng=rng)
    # He: normal with variance 2 / fan_in; Glorot (what "auto" draws): uniform with variance 2 / (fan_in + fan_out)
    assert relu.init == "he" and tanh.init == "glorot"
    assert np.var(relu.weights) == pytest.approx(2 / 400, rel=0.02)
    assert np.var(tanh.weights) == pytest.approx(2 / 700, rel=0.02)
    assert np.max(np.abs(tanh.weights)) <= np.sqrt(6 / 700)
    assert np.all(relu.bias == 0)


def test_same_seed_same_network() -> None:
    a, b = Dense(5, 3, "relu", rng=42), Dense(5, 3, "relu", rng=42)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_a_neuron_is_dense_n_1() -> None:
    neuron = Dense(3, 1, "sigmoid", rng=0)
    neuron.weights = np.array([[0.5], [-1.0], [2.0]])
    neuron.bias = np.array([0.25])
    z = 1.0 * 0.5 + 2.0 * -1.0 + 3.0 * 2.0 + 0.25
    assert neuron.forward(np.array([[1.0, 2.0, 3.0]]))[0, 0] == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-15)


def test_parameters_and_summary() -> None:
    model = Sequential([Dense(30, 64, "relu", rng=0), Dense(64, 1, rng=0)])
    assert model.parameter_count == 30 * 64 + 64 + 64 + 1
    assert [name for name, _ in model.named_parameters()] == ["0.weights", "0.bias", "1.weights", "1.bias"]
    summary = repr(model)
    assert "Dense(30, 64, activation='relu')" in summary and "2,049" in summary


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Dense(0, 3), InvalidOptionError, ["in_features", "positive integer"]),
        (lambda: Dense(3, 2.5), InvalidOptionError, ["out_features"]),
        (lambda: Dense(3, 2, init="xavier"), InvalidOptionError, ["init", "'glorot'"]),
        (lambda: Dense(3, 2, dtype=np.int64), InvalidOptionError, ["float32 or float64"]),
        (lambda: Sequential([]), InvalidOptionError, ["at least one layer"]),
        (lambda: Sequential([Dense(3, 4), Dense(5, 1)]), ShapeMismatchError, ["gives 4 outputs", "takes 5 inputs"]),
    ],
)
def test_construction_errors(make, error, words) -> None:
    with pytest.raises(error) as caught:
        make()
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("X", "words"),
    [
        (np.zeros(4), ["(N, 4)", "reshape(1, -1)"]),
        (np.zeros((4, 3)), ["(N, 4)", "X.T"]),
        (np.array([[1.0, np.nan, 0.0, 0.0]]), ["NaN"]),
        ([["a", "b", "c", "d"]], ["numeric"]),
    ],
)
def test_input_errors_are_clear(X, words) -> None:
    model = Sequential([Dense(4, 2, rng=0)])
    with pytest.raises((InvalidInputError, TypeError)) as caught:
        model.forward(X)
    for word in words:
        assert word in str(caught.value)


def test_weights_setter_checks_shape_and_values() -> None:
    layer = Dense(2, 2, rng=0)
    with pytest.raises(ShapeMismatchError, match=r"\(2, 2\)"):
        layer.weights = np.zeros((2, 3))
    with pytest.raises(InvalidInputError, match="finite"):
        layer.bias = np.array([np.inf, 0.0])


def test_sequential_keeps_its_parameters_in_one_flat_array_with_their_values() -> None:
    layers = [Dense(3, 4, "relu", rng=0), Dense(4, 2, rng=1)]
    before = [p.value.copy() for layer in layers for p in layer.parameters()]
    model = Sequential(layers)
    parameters = model.parameters()
    base = parameters[0].value.base
    assert base is not None and base.size == model.parameter_count
    assert all(p.value.base is base for p in parameters)
    assert all(p.grad.base is parameters[0].grad.base for p in parameters)
    for p, value in zip(parameters, before, strict=True):
        assert np.array_equal(p.value, value)
    # Assigning through the layer writes into the flat array, where optimizers see it.
    layers[1].bias = [5.0, 6.0]
    assert base[-2:].tolist() == [5.0, 6.0]


@pytest.mark.parametrize(("sizes", "activations"), [([4, 64, 64, 2], ["relu", "relu", "identity"]),
                                                     ([64, 1], ["sigmoid"]), ([13, 30, 3], ["tanh", "gelu"])])
def test_each_rows_prediction_has_the_same_bits_whatever_rows_share_its_call(sizes, activations) -> None:
    # BLAS chooses its kernel by the product's shape (a matrix-vector kernel for one row,
    # OpenBLAS's small-matrix kernels for a few), and kernels sum in different orders:
    # before predict used blocks of a fixed shape, a 64-2 layer gave rows of a 50-row call
    # other bits than the same rows of a 400-row call.
    model = build(sizes, activations, seed=3)
    X = np.random.default_rng(4).normal(size=(1300, sizes[0]))
    whole = model.predict(X)
    for size in (1, 2, 7, 50, 133, 511, 512, 513):
        for start in (0, 5, 600):
            np.testing.assert_array_equal(model.predict(X[start : start + size]), whole[start : start + size])
    np.testing.assert_array_equal(model.predict(np.asfortranarray(X)), whole)  # another memory layout
    np.testing.assert_array_equal(model.predict(X[::-1])[::-1], whole)  # another order of the rows
