"""Training with ``Sequential.fit``: it learns, it is reproducible, and its callbacks work.

Quality is compared with scikit-learn's MLPClassifier on the bundled breast-cancer data
(same architecture, optimizer, learning rate, batch size and epochs); tests assert on
quality, never on time.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from neural_network.datasets import load_breast_cancer
from neural_network.errors import InvalidOptionError, ShapeMismatchError
from neural_network.layers import Dense
from neural_network.network import Sequential
from neural_network.optimizers import SGD, Adam
from neural_network.training import EarlyStopping


def split_and_standardize(seed: int = 0):
    data = load_breast_cancer()
    order = np.random.default_rng(seed).permutation(len(data.y))
    test, train = order[:114], order[114:]
    mean, std = data.X[train].mean(axis=0), data.X[train].std(axis=0)
    X = (data.X - mean) / std
    return X[train], data.y[train], X[test], data.y[test]


def classifier(seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([Dense(30, 16, "relu", rng=rng), Dense(16, 1, rng=rng)])


def test_training_reaches_the_accuracy_of_scikit_learn_on_breast_cancer() -> None:
    X_train, y_train, X_test, y_test = split_and_standardize()
    model = classifier(seed=1)
    model.fit(X_train, y_train, loss="binary_cross_entropy_with_logits", optimizer=Adam(0.001),
              epochs=60, batch_size=32, rng=2)
    ours = float(np.mean((model.predict(X_test)[:, 0] > 0) == (y_test == 1)))

    reference = MLPClassifier(hidden_layer_sizes=(16,), activation="relu", solver="adam", learning_rate_init=0.001,
                              batch_size=32, max_iter=60, alpha=0.0, random_state=1)
    with pytest.warns(ConvergenceWarning):  # scikit-learn warns when max_iter ends training
        reference.fit(X_train, y_train)
    theirs = float(reference.score(X_test, y_test))
    assert ours >= theirs - 0.02, (ours, theirs)
    assert ours > 0.93


def test_same_seed_same_training_bit_for_bit() -> None:
    X_train, y_train, _, _ = split_and_standardize()
    results = []
    for _ in range(2):
        model = classifier(seed=3)
        history = model.fit(X_train, y_train, loss="binary_cross_entropy_with_logits", optimizer=SGD(0.05, momentum=0.9),
                            epochs=3, batch_size=16, rng=np.random.default_rng(4))
        results.append((history.loss, [p.value.copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_history_records_losses_and_metrics() -> None:
    X_train, y_train, X_test, y_test = split_and_standardize()
    model = classifier(seed=5)
    history = model.fit(X_train, y_train, loss="binary_cross_entropy_with_logits", optimizer=Adam(0.01),
                        epochs=5, validation_data=(X_test, y_test), rng=6)
    assert history.epochs == 5 and len(history.val_loss) == 5
    assert history.loss[-1] < history.loss[0]
    assert set(history.metrics) == {"accuracy", "val_accuracy"}
    assert all(0.0 <= a <= 1.0 for a in history.metrics["val_accuracy"])


def test_regression_with_mse_reports_r2_and_rmse() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(256, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.25  # a linear target: one linear layer can fit it exactly
    model = Sequential([Dense(3, 1, rng=8)])
    history = model.fit(X, y, loss="mse_loss", optimizer=Adam(0.05), epochs=200, batch_size=64, rng=9)
    assert history.metrics["r2"][-1] > 0.9999
    np.testing.assert_allclose(model.layers[0].weights[:, 0], [1.5, -2.0, 0.5], atol=1e-3)


def test_multiclass_training_with_cross_entropy() -> None:
    rng = np.random.default_rng(10)
    centers = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    labels = rng.integers(0, 3, size=300)
    X = centers[labels] + rng.normal(scale=0.5, size=(300, 2))
    model = Sequential([Dense(2, 8, "tanh", rng=11), Dense(8, 3, rng=12)])
    history = model.fit(X, labels, loss="cross_entropy", optimizer=Adam(0.05), epochs=30, rng=13)
    assert history.metrics["accuracy"][-1] > 0.97


def test_early_stopping_restores_the_best_weights() -> None:
    X_train, y_train, X_test, y_test = split_and_standardize()
    model = classifier(seed=14)
    stopper = EarlyStopping(patience=2)
    # A learning rate far too large makes the validation loss worsen quickly.
    history = model.fit(X_train, y_train, loss="binary_cross_entropy_with_logits", optimizer=SGD(5.0),
                        epochs=40, validation_data=(X_test, y_test), rng=15, callbacks=[stopper])
    best = history.best_epoch
    assert best is not None and history.stopped_early
    # the best epoch, then patience (2) epochs without improvement, the last of which stops
    # (Keras's count: keras.callbacks.EarlyStopping stops when `wait >= patience`)
    assert history.epochs == best + 1 + 2
    from neural_network import binary_cross_entropy_with_logits

    restored = float(binary_cross_entropy_with_logits(model.predict(X_test), y_test.reshape(-1, 1).astype(float)))
    assert restored == pytest.approx(history.val_loss[best], rel=1e-12)


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"loss": "hinge"}, InvalidOptionError, ["loss must be one of", "Did you mean 'hinge_loss'?"]),
        ({"loss": "mean_sqaured_eror"}, InvalidOptionError, ["Did you mean 'mean_squared_error'"]),
        ({"loss": "qwxz"}, InvalidOptionError, ["Common choices", "mse_loss"]),
        ({"epochs": 0}, InvalidOptionError, ["epochs", "positive integer"]),
        ({"batch_size": 2.5}, InvalidOptionError, ["batch_size"]),
        ({"y": np.zeros(7)}, ShapeMismatchError, ["one row per sample"]),
        ({"loss": "cross_entropy", "y": np.zeros((20, 2))}, ShapeMismatchError, ["class index", "argmax"]),
    ],
)
def test_fit_errors_are_clear(options, error, words) -> None:
    model = Sequential([Dense(3, 1, rng=0)])
    arguments = {"loss": "mse_loss", "epochs": 1, "batch_size": 4, "y": np.zeros(20)}
    arguments.update(options)
    y = arguments.pop("y")
    with pytest.raises(error) as caught:
        model.fit(np.zeros((20, 3)), y, optimizer=SGD(0.1), **arguments)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy"])
def test_the_fused_training_loss_equals_the_two_public_calls(name, dtype):
    """DESIGN.md's contract: the training loop's value-and-gradient path gives exactly
    what the public loss and its _grad give."""
    import neural_network.losses as losses
    from neural_network.losses._training import MEAN_VALUE_AND_GRAD

    rng = np.random.default_rng(11)
    if name == "cross_entropy":
        outputs = rng.standard_normal((64, 3)).astype(dtype) * 4
        targets = rng.integers(0, 3, 64)
    else:
        outputs = rng.standard_normal((64, 1)).astype(dtype) * 4
        if name == "binary_cross_entropy":
            outputs = (1 / (1 + np.exp(-outputs))).astype(dtype)
        targets = rng.integers(0, 2, (64, 1)).astype(dtype)
    value, gradient = MEAN_VALUE_AND_GRAD[name](outputs, targets)
    assert value == float(getattr(losses, name)(outputs, targets))
    expected = getattr(losses, f"{name}_grad")(outputs, targets)
    assert gradient.dtype == expected.dtype == dtype
    assert np.array_equal(gradient, expected)
