"""The pure edition as a package: standard library only, its pieces, its data, its exchange
with the NumPy edition, and its error messages (issue 14, items 1, 2 and 4).

Expected values are worked out by hand (exact in binary floating point where possible),
come from the NumPy edition (the bundled data sets, the model file), or from the
definitions in the book (the spiral) -- never from the module under test.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import neural_network as nn
from neural_network import pure
from neural_network.datasets import load_dataset as numpy_load_dataset
from neural_network.errors import (
    EmptyInputError,
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.serialization import load as numpy_load

# --------------------------------------------------------------------------- standard library only

EVERYTHING = """
import sys
import neural_network.pure as pure

pure.Neuron([0.5, -1.0], 0.25, activation="sigmoid").forward([2.0, 1.0])
for name in ("identity", "sigmoid", "tanh", "relu", "leaky_relu"):
    getattr(pure, name)([[-1.0, 2.0]]), getattr(pure, name + "_grad")(0.5)
pure.softmax([1.0, 2.0]), pure.softmax_grad([[1.0, 2.0]], [[1.0, 0.0]])
pure.mean_squared_error([1.0], [0.5]), pure.mean_squared_error_grad(1.0, 0.5)
pure.binary_cross_entropy(1, 0.9), pure.binary_cross_entropy_grad([1, 0], [0.9, 0.2])
pure.cross_entropy([0], [[1.0, 2.0]]), pure.cross_entropy_grad(1, [1.0, 2.0])
X, y = pure.make_xor()
pure.make_moons(20, noise=0.1, rng=0), pure.make_spiral(5, 3, rng=0)
for name in pure.DATASET_NAMES:
    pure.load_dataset(name)
pure.load_iris(), pure.load_wine(), pure.load_diabetes(), pure.load_breast_cancer()
layer = pure.Dense(2, 3, "relu", rng=0)
layer.forward(X), layer.backward([[1.0, 0.0, -1.0]] * 4)
model = pure.Sequential([pure.Dense(2, 4, "tanh", rng=0), pure.Dense(4, 1, "sigmoid", rng=1)])
model.fit(X, y, loss="binary_cross_entropy", optimizer=pure.SGD(0.5, momentum=0.9), epochs=3, batch_size=2, rng=0)
model.fit(X, y, loss="mean_squared_error", epochs=2)
model.forward(X), model.backward([[1.0]] * 4), model.predict(X)
spiral = pure.Sequential([pure.Dense(2, 8, "leaky_relu", rng=0), pure.Dense(8, 3, rng=1)])
spiral.fit(*pure.make_spiral(4, 3, rng=1), loss="cross_entropy", epochs=2, rng=random_seed)
pure.Sequential.from_dict(model.to_dict())
repr(model), repr(layer), repr(pure.SGD())
loaded = sorted(name for name in sys.modules if name == "numpy" or name.startswith("numpy."))
assert not loaded, loaded
print("no numpy")
""".replace("random_seed", "3")


def test_importing_and_using_the_pure_edition_never_imports_numpy() -> None:
    """Every public function but the four that convert to and from NumPy, in a fresh interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", EVERYTHING], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "no numpy"


def test_all_lists_the_public_names() -> None:
    assert sorted(pure.__all__) == sorted(set(pure.__all__))
    for name in pure.__all__:
        assert getattr(pure, name) is not None
    for module in ("neuron", "activations", "layer", "network", "losses", "optimizers", "datasets"):
        assert Path(pure.__file__).with_name(f"{module}.py").exists()


# --------------------------------------------------------------------------- the pieces, by hand


def test_a_neuron_computes_its_weighted_sum_and_activation() -> None:
    neuron = pure.Neuron([0.5, -1.0, 2.0], bias=0.25)
    # 0.5 * 2 - 1 * 1 + 2 * 0.75 + 0.25 = 1.75, exact in binary
    assert neuron.forward([2.0, 1.0, 0.75]) == 1.75
    assert pure.Neuron([1.0], -3.0, activation="relu").forward([2.0]) == 0.0
    assert pure.Neuron([1.0], 0.0, activation="sigmoid").forward([0.0]) == 0.5
    assert repr(neuron).startswith("Neuron(weights=[0.5, -1.0, 2.0], bias=0.25")


def test_activations_take_numbers_lists_and_rows() -> None:
    assert pure.relu(-2) == 0.0 and type(pure.relu(3)) is float
    assert pure.relu([-2, 3]) == [0.0, 3.0]
    assert pure.relu([[-2, 3], [4, -5]]) == [[0.0, 3.0], [4.0, 0.0]]
    assert pure.relu([]) == []
    assert pure.leaky_relu(-2.0) == -0.02  # the default slope 0.01
    assert pure.sigmoid(-1000.0) == 0.0 and pure.sigmoid(1000.0) == 1.0  # no OverflowError
    assert pure.sigmoid(-745.0) > 0.0  # e^-745 is still a (subnormal) number
    assert pure.sigmoid(math.inf) == 1.0 and pure.tanh(-math.inf) == -1.0
    assert pure.sigmoid_grad(0.0) == 0.25 and pure.tanh_grad(0.0) == 1.0
    assert pure.softmax([0.0, math.log(3.0)]) == pytest.approx([0.25, 0.75], rel=1e-15)
    assert pure.softmax([1000.0, 1000.0]) == [0.5, 0.5]
    assert pure.softmax([[1.0, 1.0], [5.0, 5.0]]) == [[0.5, 0.5], [0.5, 0.5]]


def test_a_dense_layer_by_hand() -> None:
    """Z = X @ W + b with W of shape (in, out): rows are inputs, columns neurons."""
    layer = pure.Dense(2, 3, "relu", rng=0)
    layer.weights = [[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]]
    layer.bias = [0.0, -1.0, 0.25]
    X = [[2.0, 4.0], [-2.0, 1.0]]
    # row 0: [2 + 2, 8 - 1, -2 + 4 + 0.25] = [4, 7, 2.25]; row 1: [-2 + 0.5, 2 - 1, 2 + 1 + 0.25]
    assert layer.forward(X) == [[4.0, 7.0, 2.25], [0.0, 1.0, 3.25]]
    G = [[1.0, 1.0, 1.0], [1.0, 2.0, -1.0]]
    # delta = G * relu'(Z): the second row's first neuron is off
    delta = [[1.0, 1.0, 1.0], [0.0, 2.0, -1.0]]
    grad_inputs = layer.backward(G)
    assert layer.grad_bias == [1.0, 3.0, 0.0]
    assert layer.grad_weights == [
        [sum(X[n][i] * delta[n][j] for n in range(2)) for j in range(3)] for i in range(2)
    ]
    assert grad_inputs == [[sum(d * w for d, w in zip(delta[n], layer.weights[i], strict=True)) for i in range(2)] for n in range(2)]


def test_initialization_follows_the_numpy_edition_scheme() -> None:
    """Glorot uniform within sqrt(6 / (in + out)) for tanh / sigmoid / linear; He normal
    with standard deviation sqrt(2 / in) on request; PyTorch's uniform +-1/sqrt(in); seeded."""
    glorot = pure.Dense(40, 60, "tanh", rng=1)
    limit = math.sqrt(6 / 100)
    values = [w for row in glorot.weights for w in row]
    assert glorot.init == "glorot" and max(map(abs, values)) <= limit and max(map(abs, values)) > 0.9 * limit
    assert glorot.bias == [0.0] * 60
    he = pure.Dense(50, 80, "relu", rng=2, init="he")
    values = [w for row in he.weights for w in row]
    spread = math.sqrt(sum(v * v for v in values) / len(values))
    assert he.init == "he" and spread == pytest.approx(math.sqrt(2 / 50), rel=0.05)  # 4000 draws: ~1.1%
    # PyTorch's nn.Linear: weights and bias uniform in +-1/sqrt(in), 4000 and 80 draws.
    torch_like = pure.Dense(50, 80, "relu", rng=3, init="torch")
    values = [w for row in torch_like.weights for w in row]
    bound = 1 / math.sqrt(50)
    assert max(map(abs, values)) <= bound and max(map(abs, values)) > 0.99 * bound
    assert max(map(abs, torch_like.bias)) <= bound and len(set(torch_like.bias)) == 80
    assert pure.Dense(3, 2, rng=5).weights == pure.Dense(3, 2, rng=random.Random(5)).weights
    # "auto" is Glorot for every activation, as in the NumPy edition.
    assert pure.Dense(3, 2, "relu", rng=1).init == pure.Dense(3, 2, "relu", rng=1, init="glorot").init == "glorot"
    assert pure.Dense(3, 2, "relu", rng=1).weights == pure.Dense(3, 2, "relu", rng=1, init="glorot").weights


def test_sgd_steps_by_hand() -> None:
    layer = pure.Dense(1, 2, rng=0)
    layer.weights, layer.bias = [[1.0, -1.0]], [0.5, 0.0]
    optimizer = pure.SGD(0.5, momentum=0.5)
    layer.grad_weights, layer.grad_bias = [[1.0, 2.0]], [4.0, -2.0]
    optimizer.step([layer])  # the buffer is the gradient itself: w - 0.5 g
    assert (layer.weights, layer.bias) == ([[0.5, -2.0]], [-1.5, 1.0])
    optimizer.step([layer])  # buffer 0.5 b + g = 1.5 g
    assert (layer.weights, layer.bias) == ([[-0.25, -3.5]], [-4.5, 2.5])
    optimizer.learning_rate = 0.0
    optimizer.step([layer])
    assert layer.weights == [[-0.25, -3.5]]


def test_fit_learns_xor_and_returns_the_loss_of_every_epoch() -> None:
    X, y = pure.make_xor()
    model = pure.Sequential([pure.Dense(2, 8, "tanh", rng=0), pure.Dense(8, 1, "sigmoid", rng=1)])
    history = model.fit(X, y, loss="binary_cross_entropy", optimizer=pure.SGD(0.5, momentum=0.9), epochs=100, batch_size=4, rng=0)
    assert len(history) == 100 and history[-1] < 0.1 * history[0]
    assert [round(row[0]) for row in model.predict(X)] == y
    again = pure.Sequential([pure.Dense(2, 8, "tanh", rng=0), pure.Dense(8, 1, "sigmoid", rng=1)])
    same = again.fit(X, y, loss="binary_cross_entropy", optimizer=pure.SGD(0.5, momentum=0.9), epochs=100, batch_size=4, rng=0)
    assert same == history  # a seed gives the same training, bit for bit


def test_fit_takes_targets_as_numbers_or_rows() -> None:
    X = [[0.0], [1.0], [2.0]]
    flat, rows = (pure.Sequential([pure.Dense(1, 1, rng=0)]) for _ in range(2))
    first = flat.fit(X, [1.0, 3.0, 5.0], epochs=5, batch_size=2, rng=1)
    second = rows.fit(X, [[1.0], [3.0], [5.0]], epochs=5, batch_size=2, rng=1)
    assert first == second


# --------------------------------------------------------------------------- data


def test_xor_and_moons() -> None:
    X, y = pure.make_xor()
    assert X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] and y == [0, 1, 1, 0]
    X, y = pure.make_moons(7)
    assert len(X) == 7 and y == [0, 0, 0, 0, 1, 1, 1]
    for (a, b), label in zip(X, y, strict=True):  # on the unit circle, or the shifted one
        centre = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(a - centre[0], b - centre[1]) == pytest.approx(1.0, rel=1e-12)
        assert (b >= -1e-12) if label == 0 else (b <= 0.5 + 1e-12)
    noisy, _ = pure.make_moons(7, noise=0.1, rng=3)
    assert noisy != X and noisy == pure.make_moons(7, noise=0.1, rng=3)[0]


def test_spiral_follows_the_book() -> None:
    """Class j: r from 0 to 1 evenly, t from 4j to 4(j + 1) evenly plus N(0, 0.2) noise,
    the point (r sin 2.5t, r cos 2.5t). The noise is replayed from the same generator."""
    X, y = pure.make_spiral(50, 3, rng=7)
    assert len(X) == 150 and y == [0] * 50 + [1] * 50 + [2] * 50
    replay = random.Random(7)
    for j in range(3):
        noise = [replay.gauss(0.0, 1.0) * 0.2 for _ in range(50)]
        for k in range(50):
            r = k / 49
            t = 4 * j + 4 * k / 49 + noise[k]
            a, b = X[50 * j + k]
            assert a == pytest.approx(r * math.sin(2.5 * t), abs=1e-12)
            assert b == pytest.approx(r * math.cos(2.5 * t), abs=1e-12)


@pytest.mark.parametrize("name", ["breast_cancer", "diabetes", "iris", "wine"])
def test_bundled_data_sets_equal_the_numpy_edition(name: str) -> None:
    data, reference = pure.load_dataset(name), numpy_load_dataset(name)
    assert reference.X.tolist() == data.X
    assert data.y == reference.y.tolist()
    assert all(type(v) is (float if name == "diabetes" else int) for v in data.y)
    assert data.feature_names == reference.feature_names and data.target_names == reference.target_names
    assert data.task == reference.task and name in repr(data)
    assert getattr(pure, f"load_{name}")().X == data.X


# --------------------------------------------------------------------------- exchange


def trained_pure_model() -> tuple[pure.Sequential, list[list[float]]]:
    X, y = pure.make_spiral(10, 3, rng=0)
    model = pure.Sequential([pure.Dense(2, 6, "relu", rng=0), pure.Dense(6, 5, "tanh", rng=1), pure.Dense(5, 3, rng=2)])
    model.fit(X, y, loss="cross_entropy", optimizer=pure.SGD(0.1, momentum=0.9), epochs=5, batch_size=8, rng=0)
    return model, X


def test_to_dict_and_from_dict_round_trip_through_json() -> None:
    model, X = trained_pure_model()
    data = json.loads(json.dumps(model.to_dict()))
    copy = pure.Sequential.from_dict(data)
    assert copy.to_dict() == model.to_dict()
    assert copy.predict(X) == model.predict(X)
    assert data["layers"][0]["activation"] == "relu" and data["layers"][0]["init"] == "glorot"


def test_a_pure_model_saved_as_a_model_file_loads_in_the_numpy_edition(tmp_path: Path) -> None:
    model, X = trained_pure_model()
    path = tmp_path / "pure.npz"
    pure.save(model, path, metadata={"trained_by": "pure"})
    loaded = numpy_load(path)
    for layer, twin in zip(model.layers, loaded.layers, strict=True):
        assert twin.weights.tolist() == layer.weights and twin.bias.tolist() == layer.bias
        assert twin.activation == layer.activation
    np.testing.assert_allclose(loaded.predict(np.array(X)), model.predict(X), rtol=1e-12, atol=1e-15)
    assert pure.load(path).to_dict() == model.to_dict()  # and back


def test_a_numpy_model_file_loads_in_the_pure_edition(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(np.float64)
    model = nn.Sequential([nn.Dense(3, 4, "sigmoid", rng=0), nn.Dense(4, 1, "sigmoid", rng=1)])
    model.fit(X, y, loss="binary_cross_entropy", optimizer=nn.SGD(0.1), epochs=3, rng=0)
    path = tmp_path / "numpy.npz"
    model.save(path)
    loaded = pure.load(path)
    assert [layer.weights for layer in loaded.layers] == [layer.weights.tolist() for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(X.tolist()), model.predict(X), rtol=1e-12, atol=1e-15)
    back = pure.to_numpy(pure.from_numpy(model))
    assert all(np.array_equal(a.weights, b.weights) for a, b in zip(back.layers, model.layers, strict=True))


def test_float32_numpy_models_convert_exactly() -> None:
    model = nn.Sequential([nn.Dense(2, 3, "tanh", rng=0, dtype=np.float32)])
    converted = pure.from_numpy(model)
    assert converted.layers[0].weights == model.layers[0].weights.astype(np.float64).tolist()


def test_exchange_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(InvalidTypeError, match="pure-edition Sequential"):
        pure.to_numpy(nn.Sequential([nn.Dense(2, 1, rng=0)]))
    with pytest.raises(InvalidTypeError, match="NumPy edition"):
        pure.from_numpy(pure.Sequential([pure.Dense(2, 1, rng=0)]))
    with pytest.raises(InvalidOptionError, match="activation must be one of"):
        pure.from_numpy(nn.Sequential([nn.Dense(2, 1, "gelu", rng=0)]))
    good = pure.Sequential([pure.Dense(2, 1, rng=0)]).to_dict()
    with pytest.raises(InvalidInputError, match="missing \\['bias'\\]"):
        pure.Sequential.from_dict({"layers": [{k: v for k, v in good["layers"][0].items() if k != "bias"}]})
    with pytest.raises(ShapeMismatchError, match="weights must have shape"):
        pure.Sequential.from_dict({"layers": [{**good["layers"][0], "weights": [[1.0, 2.0]]}]})
    with pytest.raises(InvalidTypeError, match="as to_dict\\(\\) returns"):
        pure.Sequential.from_dict([1, 2])


# --------------------------------------------------------------------------- errors that teach


def message(call: object, error: type[Exception]) -> str:
    assert callable(call)
    with pytest.raises(error) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("function", [pure.binary_cross_entropy, pure.binary_cross_entropy_grad])
def test_swapped_binary_cross_entropy_arguments_are_named(function: object) -> None:
    """The article's example swapped: (0.9, 1) -- a probability as y_true, a label as y_pred."""
    assert callable(function)
    for y_pred_first, labels in [(0.9, 1), ([0.9, 0.2, 0.6], [1, 0, 1])]:
        text = message(lambda y_pred_first=y_pred_first, labels=labels: function(y_pred_first, labels), InvalidInputError)
        assert "look swapped" in text and "(y_true, y_pred)" in text and "y_true=" in text
    # passed by name, the same values are fine
    function(y_true=[1, 0, 1], y_pred=[0.9, 0.2, 0.6])
    function(y_pred=0.9, y_true=1)


def test_soft_labels_with_saturated_predictions_are_not_called_swapped() -> None:
    """Only when every label is strictly inside (0, 1) and every prediction is 0 or 1."""
    assert pure.binary_cross_entropy([0.3, 1.0], [1.0, 0.0]) > 0  # one hard label: not a swap
    assert pure.binary_cross_entropy([0.0, 1.0], [0.0, 1.0]) > 0
    assert pure.binary_cross_entropy(0.5, 0.5) == pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: pure.Dense(2, 3).forward([1.0, 2.0]), InvalidTypeError, ["A single sample?", "[X]"]),
        (lambda: pure.Dense(3, 2).forward([[1.0, 2.0, 3.0], [1.0, 2.0]]), ShapeMismatchError, ["row 1"]),
        (lambda: pure.Dense(2, 3).forward([[1.0, math.nan]]), NonFiniteError, ["X[0][1]"]),
        (lambda: pure.Dense(2, 3).forward([]), EmptyInputError, ["at least one row"]),
        (lambda: pure.Dense(2, 3).forward([[1.0, "2"]]), InvalidTypeError, ["'2'"]),
        (lambda: setattr(pure.Dense(2, 3), "weights", [[0.0, 0.0]] * 3), ShapeMismatchError, ["PyTorch", "Transpose"]),
        (lambda: setattr(pure.Dense(2, 3), "bias", [0.0]), ShapeMismatchError, ["bias must hold 3"]),
        (lambda: pure.Dense(2, 3).backward([[1.0, 1.0, 1.0]]), InvalidInputError, ["call forward first"]),
        (lambda: pure.Dense(0, 3), InvalidOptionError, ["in_features must be a positive integer"]),
        (lambda: pure.Dense(2, 3, "ReLU"), InvalidOptionError, ["Did you mean 'relu'?"]),
        (lambda: pure.Dense(2, 3, "softmax"), InvalidOptionError, ["activation must be one of"]),
        (lambda: pure.Dense(2, 3, rng=np.random.default_rng(0)), InvalidOptionError, ["random.Random(seed)"]),
        (lambda: pure.Neuron([1.0, 2.0], 0.0).forward([1.0]), ShapeMismatchError, ["one per weight"]),
        (lambda: pure.SGD(-0.1), InvalidOptionError, ["learning_rate", "[0, inf)"]),
        (lambda: pure.SGD(0.1, momentum=1.0), InvalidOptionError, ["momentum", "[0, 1)"]),
        (lambda: pure.SGD("0.1"), InvalidOptionError, ["learning_rate=0.1, not a string"]),
        (lambda: pure.SGD().step(pure.Dense(1, 1)), InvalidTypeError, ["list of Dense"]),
        (lambda: pure.Sequential([]), InvalidOptionError, ["at least one layer"]),
        (lambda: pure.Sequential([pure.Dense(2, 3), pure.Dense(4, 1)]), ShapeMismatchError, ["Dense(3, 1)"]),
        (lambda: pure.sigmoid("1"), InvalidTypeError, ["Z must be a number"]),
        (lambda: pure.sigmoid([math.nan]), NonFiniteError, ["NaN"]),
        (lambda: pure.relu([[1.0], [1.0, 2.0]]), ShapeMismatchError, ["same length"]),
        (lambda: pure.softmax(1.0), InvalidOptionError, ["single number"]),
        (lambda: pure.softmax_grad([1.0, 2.0], [1.0]), ShapeMismatchError, ["shape of Z"]),
        (lambda: pure.leaky_relu(1.0, negative_slope=math.inf), InvalidOptionError, ["negative_slope"]),
        (lambda: pure.cross_entropy([3], [[1.0, 2.0]]), OutOfRangeError, ["class indices 0 to 1"]),
        (lambda: pure.cross_entropy([0.5], [[1.0, 2.0]]), InvalidTypeError, ["whole class indices"]),
        (lambda: pure.cross_entropy(0, [[1.0, 2.0], [0.0, 1.0]]), ShapeMismatchError, ["one class index"]),
        (lambda: pure.make_spiral(0), InvalidOptionError, ["samples_per_class"]),
        (lambda: pure.make_moons(10, noise=-1.0), InvalidOptionError, ["noise"]),
        (lambda: pure.load_dataset("Iris"), InvalidOptionError, ["Did you mean 'iris'?"]),
    ],
)
def test_bad_input_gets_a_message_that_teaches(call: object, error: type[Exception], words: list[str]) -> None:
    text = message(call, error)
    for word in words:
        assert word in text, (word, text)


XOR_X, XOR_Y = pure.make_xor()


@pytest.mark.parametrize(
    ("keywords", "error", "words"),
    [
        ({"loss": "mse"}, InvalidOptionError, ["loss must be one of"]),
        ({"loss": "mean-squared-error"}, InvalidOptionError, ["Did you mean 'mean_squared_error'?"]),
        ({"epochs": 0}, InvalidOptionError, ["epochs must be a positive integer"]),
        ({"batch_size": 2.5}, InvalidOptionError, ["batch_size"]),
        ({"optimizer": nn.SGD(0.1)}, InvalidTypeError, ["SGD of the pure edition"]),
        ({"y": [0, 1, 1]}, ShapeMismatchError, ["one target per sample of X (4)"]),
        ({"y": [0, 1, 2, 0]}, OutOfRangeError, ["labels in [0, 1]"]),
        ({"rng": -1}, InvalidOptionError, ["rng must be"]),
    ],
)
def test_fit_refuses_bad_arguments(keywords: dict[str, object], error: type[Exception], words: list[str]) -> None:
    model = pure.Sequential([pure.Dense(2, 3, "tanh", rng=0), pure.Dense(3, 1, "sigmoid", rng=1)])
    arguments: dict[str, object] = {"loss": "binary_cross_entropy", "epochs": 1, "y": XOR_Y, **keywords}
    y = arguments.pop("y")
    text = message(lambda: model.fit(XOR_X, y, **arguments), error)
    for word in words:
        assert word in text, (word, text)


def test_fit_checks_that_the_loss_suits_the_last_layer() -> None:
    linear = pure.Sequential([pure.Dense(2, 1, rng=0)])
    assert "activation='sigmoid'" in message(
        lambda: linear.fit(XOR_X, XOR_Y, loss="binary_cross_entropy", epochs=1), InvalidOptionError
    )
    squashed = pure.Sequential([pure.Dense(2, 3, "sigmoid", rng=0)])
    assert "linear last layer" in message(
        lambda: squashed.fit(XOR_X, XOR_Y, loss="cross_entropy", epochs=1), InvalidOptionError
    )
    classifier = pure.Sequential([pure.Dense(2, 3, rng=0)])
    assert "One-hot rows?" in message(
        lambda: classifier.fit(XOR_X, [[1, 0, 0]] * 4, loss="cross_entropy", epochs=1), InvalidTypeError
    )


def test_a_diverging_fit_says_so() -> None:
    X = [[1e150, -1e150], [2e150, 1e150]]
    model = pure.Sequential([pure.Dense(2, 1, rng=0)])
    text = message(lambda: model.fit(X, [1.0, 2.0], optimizer=pure.SGD(1.0), epochs=5), NonFiniteError)
    assert "diverged" in text and "Lower the learning rate" in text


def test_results_are_python_floats() -> None:
    assert type(pure.cross_entropy(0, [Fraction(1, 2), 2])) is float
    layer = pure.Dense(1, 1, rng=0)
    layer.weights, layer.bias = [[Fraction(1, 2)]], [1]
    assert all(type(v) is float for v in layer.weights[0] + layer.bias)
    assert type(layer.forward([[3]])[0][0]) is float
