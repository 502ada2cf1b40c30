"""The habits of Keras and scikit-learn users: optimizer and loss names, validation_split,
History.history, class_weight, model(X), predict_proba, lr=; and exact early stopping.

References: Keras's default learning rates and loss definitions (written out here),
scikit-learn's ``compute_class_weight`` and ``log_loss``, and PyTorch's losses with
per-class weights for class-weighted training.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss
from sklearn.utils.class_weight import compute_class_weight

import neural_network.losses as losses
from neural_network import load
from neural_network.errors import InvalidInputError, InvalidOptionError
from neural_network.layers import Dense
from neural_network.losses._training import MEAN_VALUE_AND_GRAD, training_loss
from neural_network.network import Sequential
from neural_network.optimizers import SGD, Adam, AdamW, RMSprop
from neural_network.training import LOSS_ALIASES, Callback, EarlyStopping, class_weights, resolve_loss


def blobs(rows: int = 240, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(classes, 4))
    labels = rng.integers(0, classes, size=rows)
    return centers[labels] + rng.normal(size=(rows, 4)), labels


def weights_of(model: Sequential) -> list[np.ndarray]:
    return [p.value.copy() for p in model.parameters()]


def same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def classifier(outputs: int = 3, last: str | None = None, seed: int = 1) -> Sequential:
    return Sequential([Dense(4, 8, "tanh", rng=seed), Dense(8, outputs, last, rng=seed + 1)])


# --------------------------------------------------------------------------- optimizers by name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("adam", lambda: Adam(0.001)),
        ("Adam", lambda: Adam(0.001)),
        ("sgd", lambda: SGD(0.01)),
        ("rmsprop", lambda: RMSprop(0.001)),  # Keras's default, not PyTorch's 0.01
        ("adamw", lambda: AdamW(0.001)),
    ],
)
def test_an_optimizer_by_name_is_the_keras_default(name, expected) -> None:
    X, y = blobs()
    by_name, by_object = classifier(), classifier()
    by_name.fit(X, y, loss="cross_entropy", optimizer=name, epochs=2, rng=3)
    by_object.fit(X, y, loss="cross_entropy", optimizer=expected(), epochs=2, rng=3)
    assert same_weights(weights_of(by_name), weights_of(by_object))


def test_an_optimizer_by_name_takes_learning_rate() -> None:
    X, y = blobs()
    by_name, by_object = classifier(), classifier()
    by_name.fit(X, y, loss="cross_entropy", optimizer="sgd", learning_rate=0.2, epochs=1, rng=3)
    by_object.fit(X, y, loss="cross_entropy", optimizer=SGD(0.2), epochs=1, rng=3)
    assert same_weights(weights_of(by_name), weights_of(by_object))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"optimizer": "adma"}, ["optimizer must be", "Did you mean 'adam'?"]),
        ({"optimizer": 3}, ["optimizer must be an Optimizer"]),
        ({"optimizer": Adam(0.01), "learning_rate": 0.1}, ["learning_rate= is for an optimizer given by name"]),
        ({"lr": 0.1}, ["there is no option lr=", "learning_rate="]),
        ({"learning_rate_init": 0.1}, ["learning_rate="]),
        ({"epoch": 3}, ["unexpected option epoch=", "Did you mean epochs="]),
        ({"validation_split": 1.0}, ["validation_split", "[0, 1)"]),
        ({"validation_split": "0.2"}, ["validation_split"]),
        ({"validation_split": 0.2, "validation_data": (np.zeros((2, 4)), np.zeros(2))}, ["not both"]),
        ({"validation_split": 0.999}, ["leaves 0 to train on and 240 to validate"]),
    ],
)
def test_fit_option_errors(options, words) -> None:
    X, y = blobs()
    arguments = {"loss": "cross_entropy", "optimizer": "adam", "epochs": 1}
    arguments.update(options)
    with pytest.raises(InvalidOptionError) as caught:
        classifier().fit(X, y, **arguments)
    for word in words:
        assert word in str(caught.value)


# --------------------------------------------------------------------------- losses by Keras and scikit-learn names


def test_every_alias_resolves_to_a_loss_of_ours() -> None:
    for alias in LOSS_ALIASES:
        name, value, grad = resolve_loss(alias)
        assert value is getattr(losses, name) and grad is getattr(losses, f"{name}_grad")


def test_regression_aliases_are_kerass_definitions() -> None:
    rng = np.random.default_rng(4)
    prediction, target = rng.normal(size=(50, 1)) * 2, rng.normal(size=(50, 1))
    error = prediction - target
    keras = {
        "mse": np.mean(error**2),
        "mean_squared_error": np.mean(error**2),
        "mae": np.mean(np.abs(error)),
        "mean_absolute_error": np.mean(np.abs(error)),
        # keras.losses.Huber(delta=1.0): 0.5 x^2 where |x| <= 1, else |x| - 0.5
        "huber": np.mean(np.where(np.abs(error) <= 1.0, 0.5 * error**2, np.abs(error) - 0.5)),
    }
    for alias, expected in keras.items():
        _, value, _ = resolve_loss(alias)
        assert float(value(prediction, target)) == pytest.approx(float(expected), rel=1e-13), alias


def test_binary_aliases_follow_the_last_layer() -> None:
    X, y = blobs(classes=2)
    logits = classifier(outputs=1)
    sigmoid = classifier(outputs=1, last="sigmoid")
    for alias in ("binary_crossentropy", "log_loss"):
        assert resolve_loss(alias, logits)[0] == "binary_cross_entropy_with_logits"
        assert resolve_loss(alias, sigmoid)[0] == "binary_cross_entropy"
    assert resolve_loss("log_loss", classifier(outputs=3))[0] == "cross_entropy"
    # With a sigmoid last layer, the loss is scikit-learn's log_loss of the probabilities.
    probabilities = sigmoid.predict(X)
    _, value, _ = resolve_loss("log_loss", sigmoid)
    assert float(value(probabilities, y.reshape(-1, 1).astype(float))) == pytest.approx(
        log_loss(y, probabilities[:, 0]), rel=1e-12
    )
    # and fit trains on it as on binary_cross_entropy
    a, b = classifier(1, "sigmoid"), classifier(1, "sigmoid")
    a.fit(X, y, loss="binary_crossentropy", optimizer="adam", epochs=2, rng=5)
    b.fit(X, y, loss="binary_cross_entropy", optimizer="adam", epochs=2, rng=5)
    assert same_weights(weights_of(a), weights_of(b)) and a.loss == "binary_cross_entropy"


def test_categorical_crossentropy_takes_one_hot_rows() -> None:
    X, y = blobs()
    one_hot = np.eye(3)[y]
    a, b, c = classifier(), classifier(), classifier()
    a.fit(X, one_hot, loss="categorical_crossentropy", optimizer="adam", epochs=2, rng=6,
          validation_data=(X[:20], one_hot[:20]))
    b.fit(X, y, loss="sparse_categorical_crossentropy", optimizer="adam", epochs=2, rng=6)
    c.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=2, rng=6)
    assert same_weights(weights_of(a), weights_of(c)) and same_weights(weights_of(b), weights_of(c))
    with pytest.raises(InvalidInputError, match="one-hot rows"):
        classifier().fit(X, np.full((240, 3), 1 / 3), loss="categorical_crossentropy", optimizer="adam", epochs=1)


def test_an_unknown_loss_gets_a_few_suggestions_not_the_whole_list() -> None:
    with pytest.raises(InvalidOptionError) as caught:
        resolve_loss("binary_crossentropy_logits")
    message = str(caught.value)
    assert "Did you mean" in message and "binary_crossentropy" in message
    assert message.count("'") <= 2 * 4  # the name given and at most three suggestions
    with pytest.raises(InvalidOptionError, match="Did you mean 'mse'"):
        resolve_loss("mse_")


# --------------------------------------------------------------------------- validation_split, History.history


def test_validation_split_holds_out_the_last_rows_as_keras() -> None:
    X, y = blobs(250)
    split, explicit = classifier(), classifier()
    h1 = split.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=3, validation_split=0.2, rng=7)
    cut = 200  # floor(250 * 0.8)
    h2 = explicit.fit(X[:cut], y[:cut], loss="cross_entropy", optimizer="adam", epochs=3,
                      validation_data=(X[cut:], y[cut:]), rng=7)
    assert same_weights(weights_of(split), weights_of(explicit))
    assert h1.history == h2.history
    logits = split.predict(X[cut:])
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(50), y[cut:]])
    assert h1.val_loss[-1] == pytest.approx(float(expected), rel=1e-12)


def test_history_is_kerass_dict_of_lists() -> None:
    X, y = blobs()
    history = classifier().fit(X, y, loss="cross_entropy", optimizer="adam", epochs=4, validation_split=0.25, rng=8)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(values) == 4 for values in history.history.values())
    assert history.history["loss"] == history.loss and history.history["val_accuracy"] == history.metrics["val_accuracy"]
    plain = classifier().fit(X, y, loss="cross_entropy", optimizer="adam", epochs=2, rng=8)
    assert list(plain.history) == ["loss", "accuracy"]


# --------------------------------------------------------------------------- class weights


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_balanced_class_weights_are_scikit_learns(classes) -> None:
    rng = np.random.default_rng(classes)
    y = rng.choice(classes, size=300, p=np.linspace(1, 3, classes) / np.linspace(1, 3, classes).sum())
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    weights = class_weights("cross_entropy", "balanced", y, classes)
    for c, w in zip(np.unique(y), expected, strict=True):
        assert np.all(weights[y == c] == pytest.approx(w, rel=1e-15))
    binary = (y == 0).astype(float).reshape(-1, 1)
    expected = compute_class_weight("balanced", classes=np.array([0.0, 1.0]), y=binary[:, 0])
    weights = class_weights("binary_cross_entropy_with_logits", "balanced", binary, 1)
    assert weights.shape == (300, 1)
    np.testing.assert_allclose(weights[binary == 0][0], expected[0], rtol=1e-15)
    np.testing.assert_allclose(weights[binary == 1][0], expected[1], rtol=1e-15)


def test_class_weighted_step_is_torchs_weighted_cross_entropy() -> None:
    X, y = blobs(60)
    y[:40] = 0  # imbalanced
    model = classifier()
    initial = weights_of(model)
    # One full batch: the step does not depend on the shuffle.
    model.fit(X, y, loss="cross_entropy", optimizer=SGD(0.5), epochs=1, batch_size=60, class_weight="balanced", rng=0)
    weights = compute_class_weight("balanced", classes=np.arange(3), y=y)

    W1, b1, W2, b2 = (torch.tensor(a, requires_grad=True) for a in initial)
    logits = torch.tanh(torch.from_numpy(X) @ W1 + b1) @ W2 + b2
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y), weight=torch.from_numpy(weights))
    loss.backward()
    for ours, start, theirs in zip(weights_of(model), initial, (W1, b1, W2, b2), strict=True):
        np.testing.assert_allclose(ours, start - 0.5 * theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_class_weighted_binary_step_is_a_weighted_mean_of_torchs_losses() -> None:
    X, labels = blobs(60, classes=2)
    y = labels.astype(float)
    model = classifier(outputs=1)
    initial = weights_of(model)
    model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=SGD(0.5), epochs=1, batch_size=60,
              class_weight={0: 3.0}, rng=0)
    sample = torch.from_numpy(np.where(y == 0, 3.0, 1.0)).reshape(-1, 1)
    W1, b1, W2, b2 = (torch.tensor(a, requires_grad=True) for a in initial)
    logits = torch.tanh(torch.from_numpy(X) @ W1 + b1) @ W2 + b2
    per_sample = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.from_numpy(y).reshape(-1, 1), reduction="none"
    )
    ((per_sample * sample).sum() / sample.sum()).backward()  # the weighted mean, as PyTorch's weight=
    for ours, start, theirs in zip(weights_of(model), initial, (W1, b1, W2, b2), strict=True):
        np.testing.assert_allclose(ours, start - 0.5 * theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_balanced_class_weights_help_the_rare_class() -> None:
    rng = np.random.default_rng(9)
    X = rng.normal(size=(1000, 4))
    y = ((X[:, 0] + 0.5 * rng.normal(size=1000)) > 1.6).astype(float)  # about 6% positives
    recall = []
    for weight in (None, "balanced"):
        model = classifier(outputs=1, seed=10)
        model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer="adam", learning_rate=0.01, epochs=10,
                  class_weight=weight, rng=11)
        predicted = model.predict(X)[:, 0] > 0
        recall.append(float(np.mean(predicted[y == 1])))
    assert recall[1] > recall[0] + 0.1


@pytest.mark.parametrize(
    ("loss", "class_weight", "y", "error", "words"),
    [
        ("mse_loss", "balanced", None, InvalidOptionError, ["class_weight is for classification"]),
        ("cross_entropy", "equal", None, InvalidOptionError, ["'balanced', a dict"]),
        ("cross_entropy", {5: 1.0}, None, InvalidOptionError, ["key 5", "0 to 2"]),
        ("cross_entropy", {0: -1.0}, None, InvalidOptionError, [">= 0"]),
        ("cross_entropy", {0: 0, 1: 0, 2: 0}, None, InvalidOptionError, ["weight 0"]),
        ("cross_entropy", [1, 2, 3], None, InvalidOptionError, ["a dict"]),
        ("binary_cross_entropy_with_logits", "balanced", "soft", InvalidInputError, ["hard labels"]),
    ],
)
def test_class_weight_errors(loss, class_weight, y, error, words) -> None:
    X, labels = blobs()
    outputs = 1 if "binary" in loss or loss == "mse_loss" else 3
    target = labels.astype(float) if outputs == 1 else labels
    if y == "soft":
        target = np.full(240, 0.3)
    with pytest.raises(error) as caught:
        classifier(outputs).fit(X, target, loss=loss, optimizer="adam", epochs=1, class_weight=class_weight)
    for word in words:
        assert word in str(caught.value)


# --------------------------------------------------------------------------- model(X), predict_proba


def test_calling_the_model_is_predicting() -> None:
    X, _ = blobs()
    model = classifier()
    assert np.array_equal(model(X), model.predict(X))


def test_predict_proba_for_binary_and_multiclass_networks(tmp_path) -> None:
    X, y = blobs()
    multi = classifier()
    multi.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=2, rng=12)
    expected = torch.softmax(torch.from_numpy(multi.predict(X)), dim=1).numpy()
    np.testing.assert_allclose(multi.predict_proba(X), expected, rtol=1e-13, atol=1e-300)

    binary = classifier(outputs=1)
    binary.fit(X, (y == 0).astype(float), loss="binary_crossentropy", optimizer="adam", epochs=2, rng=13)
    p = torch.sigmoid(torch.from_numpy(binary.predict(X)[:, 0])).numpy()
    probabilities = binary.predict_proba(X)
    assert probabilities.shape == (240, 2)  # scikit-learn's columns: P(0), P(1)
    np.testing.assert_allclose(probabilities[:, 1], p, rtol=1e-13)
    np.testing.assert_allclose(probabilities[:, 0], 1 - p, rtol=1e-13)

    binary.save(tmp_path / "m.npz")  # the loss travels with the model
    np.testing.assert_array_equal(load(tmp_path / "m.npz").predict_proba(X), probabilities)


def test_predict_proba_refuses_regression_and_untrained_networks() -> None:
    X, y = blobs()
    regression = classifier(outputs=1)
    regression.fit(X, y.astype(float), loss="mse", optimizer="adam", epochs=1, rng=0)
    with pytest.raises(InvalidOptionError, match=r"'mse_loss', which gives no probabilities.*predict\(X\)"):
        regression.predict_proba(X)
    untrained = classifier()
    with pytest.raises(InvalidOptionError, match="does not know its loss"):
        untrained.predict_proba(X)
    untrained.loss = "cross_entropy"
    assert np.allclose(untrained.predict_proba(X).sum(axis=1), 1.0)


# --------------------------------------------------------------------------- early stopping restores exactly


class Recorder(Callback):
    def __init__(self) -> None:
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch, logs, model) -> bool:
        self.weights.append(weights_of(model))
        return False


@pytest.mark.parametrize("epochs", [40, 6])
def test_early_stopping_restores_the_best_epochs_weights_bit_for_bit(epochs) -> None:
    X, y = blobs(300)
    model = classifier()
    recorder, stopper = Recorder(), EarlyStopping(patience=2)
    # A learning rate too large for the data: the validation loss soon stops improving.
    history = model.fit(X[:240], y[:240], loss="cross_entropy", optimizer=SGD(2.0, momentum=0.9), epochs=epochs,
                        validation_data=(X[240:], y[240:]), callbacks=[recorder, stopper], rng=14)
    best = history.best_epoch
    assert best is not None and best == int(np.argmin(history.val_loss))
    assert best < len(history.val_loss) - 1  # a later epoch was worse: the restore matters
    assert same_weights(weights_of(model), recorder.weights[best])


# --------------------------------------------------------------------------- the hot path


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_the_hard_label_hot_path_gives_the_public_functions_bits(dtype) -> None:
    rng = np.random.default_rng(15)
    special = np.array([0.0, -0.0, 1e-300, -1e-300, 36.0, -36.0, 40.0, -40.0, 700.0, -700.0, 745.5, -745.5, 800.0,
                        -800.0, 1e30, -1e30])
    for rows in (1, 7, 64, 2048, 3000):
        x = (rng.standard_normal(rows) * rng.choice([0.1, 3.0, 30.0], rows)).astype(dtype)
        x[: min(rows, special.size)] = special[: min(rows, special.size)].astype(dtype)
        outputs = x.reshape(-1, 1)
        targets = rng.integers(0, 2, (rows, 1)).astype(dtype)
        step = training_loss("binary_cross_entropy_with_logits", targets)
        assert step is not MEAN_VALUE_AND_GRAD["binary_cross_entropy_with_logits"]
        value, gradient = step(outputs, targets)
        expected_value = float(losses.binary_cross_entropy_with_logits(outputs, targets))
        expected_gradient = losses.binary_cross_entropy_with_logits_grad(outputs, targets)
        assert value == expected_value
        assert gradient.dtype == expected_gradient.dtype == dtype
        assert gradient.tobytes() == expected_gradient.tobytes()  # signed zeros included


def test_soft_labels_take_the_general_path() -> None:
    targets = np.array([[0.0], [0.3], [1.0]])
    assert training_loss("binary_cross_entropy_with_logits", targets) is MEAN_VALUE_AND_GRAD[
        "binary_cross_entropy_with_logits"
    ]
    assert training_loss("mse_loss", targets) is MEAN_VALUE_AND_GRAD["mse_loss"]
    assert training_loss("l1_loss", targets) is None
