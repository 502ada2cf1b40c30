"""Training quality on the bundled datasets, against scikit-learn and PyTorch.

For breast cancer (binary), diabetes (regression) and wine (three classes), on a fixed,
seeded train/test split (stratified for the classes, 30 % held out, features standardized
with the training split's statistics), our ``Sequential.fit`` is compared with

* scikit-learn's ``MLPClassifier`` / ``MLPRegressor``: the same hidden layer and
  activation, Adam with the same learning rate, batch size and number of epochs, no L2
  penalty, no early stopping (it runs every epoch: its ``n_iter_`` is checked); its own
  initialization and shuffling;
* a PyTorch model of the same architecture (``nn.Linear`` layers holding a copy of OUR
  initial weights, so that only training differs), trained with ``torch.optim.Adam``,
  the matching ``torch.nn`` loss and batches shuffled by torch's own seeded generator.

Each is trained from five seeds; the mean test accuracy (R² for diabetes, measured by
``sklearn.metrics``) of ours must be within 0.02 of each reference's, and above a floor.

Finally, with the same initial weights and the same batch order (the permutations ``fit``
draws, one per epoch, from its generator, replayed from an identically seeded one),
training in float64 follows PyTorch's path to rounding: after several epochs every weight
agrees to about 1e-9 relative, and every epoch's mean loss to 1e-12.

Tests assert on quality, never on time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor

from neural_network.datasets import Dataset, load_breast_cancer, load_diabetes, load_wine
from neural_network.layers import Dense
from neural_network.network import Sequential
from neural_network.optimizers import Adam

torch = pytest.importorskip("torch")

SEEDS = range(5)
TOLERANCE = 0.02
"""How far below each reference's mean test metric ours may be (the issue's figure)."""


@dataclass(frozen=True)
class Task:
    """A dataset, the network trained on it (one hidden layer) and how it is trained."""

    name: str
    load: Callable[[], Dataset]
    loss: str
    outputs: int
    hidden: int
    activation: str
    learning_rate: float
    epochs: int
    batch_size: int
    floor: float
    """The mean test metric ours must exceed: far below what training reaches, far above chance."""
    init: str = "auto"

    @property
    def regression(self) -> bool:
        return self.loss == "mse_loss"


TASKS = [
    Task("breast_cancer", load_breast_cancer, "binary_cross_entropy_with_logits", 1,
         hidden=32, activation="tanh", learning_rate=1e-3, epochs=40, batch_size=32, floor=0.93),
    # He initialization (what "auto" drew for relu before benchmarks/bench_init.py chose Glorot)
    # draws first-layer weights about 1.6 times larger than scikit-learn's Glorot ones; on this
    # small, noisy data set the network then fits more slowly and generalizes worse: after 60
    # epochs its test R² was 0.01-0.07 below scikit-learn's, depending on the split. Glorot, which
    # scikit-learn draws for relu too, compares the training itself, and is named here so that the
    # comparison does not depend on the default. (Against PyTorch the initial weights are ours
    # whatever the scheme.)
    Task("diabetes", load_diabetes, "mse_loss", 1,
         hidden=32, activation="relu", learning_rate=1e-3, epochs=60, batch_size=32, floor=0.3, init="glorot"),
    Task("wine", load_wine, "cross_entropy", 3,
         hidden=16, activation="relu", learning_rate=1e-2, epochs=40, batch_size=16, floor=0.9),
]

TORCH_LOSSES = {
    "binary_cross_entropy_with_logits": torch.nn.BCEWithLogitsLoss,
    "mse_loss": torch.nn.MSELoss,
    "cross_entropy": torch.nn.CrossEntropyLoss,
}
TORCH_ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}




@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """PyTorch in one thread: on these tiny batches, threads only wait for each other (ten times
    slower on a busy two-core machine). The previous setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------- data and models


def split(task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fixed 70/30 split, standardized with the training split's mean and standard deviation.

    For regression the target is standardized too (R² does not change under an affine map
    of the target, and the learning rate then means the same as for the classifiers).
    """
    data = task.load()
    train, test = train_test_split(
        np.arange(len(data.y)), test_size=0.3, random_state=0, stratify=None if task.regression else data.y
    )
    X = (data.X - data.X[train].mean(axis=0)) / data.X[train].std(axis=0)
    y = data.y
    if task.regression:
        y = (y - y[train].mean()) / y[train].std()
    return X[train], y[train], X[test], y[test]


def our_model(task: Task, in_features: int, seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([
        Dense(in_features, task.hidden, task.activation, rng=rng, init=task.init),
        Dense(task.hidden, task.outputs, rng=rng),
    ])


def torch_copy(task: Task, model: Sequential) -> torch.nn.Sequential:
    """The same network in PyTorch (float64), starting from ``model``'s current weights.

    ``nn.Linear`` computes ``x @ weight.T + bias``: its weight is our (in, out) matrix transposed.
    """
    hidden, output = model.layers
    modules = []
    for layer in (hidden, output):
        linear = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights.T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.bias.copy()))
        modules.append(linear)
        if layer is hidden:
            modules.append(TORCH_ACTIVATIONS[task.activation]())
    return torch.nn.Sequential(*modules)


def torch_targets(task: Task, y: np.ndarray) -> torch.Tensor:
    if task.loss == "cross_entropy":
        return torch.from_numpy(y.astype(np.int64))
    return torch.from_numpy(y.astype(np.float64).reshape(-1, 1))


def train_torch(task: Task, net: torch.nn.Sequential, X: np.ndarray, y: np.ndarray,
                orders: list[np.ndarray]) -> list[float]:
    """Mini-batch Adam, one epoch per permutation in ``orders``; the mean loss of each epoch.

    The mean is over the epoch's samples: each batch's mean loss weighted by its size.
    """
    optimizer = torch.optim.Adam(net.parameters(), lr=task.learning_rate)
    criterion = TORCH_LOSSES[task.loss]()
    inputs, targets = torch.from_numpy(X), torch_targets(task, y)
    losses = []
    for order in orders:
        total = 0.0
        for start in range(0, len(order), task.batch_size):
            batch = torch.from_numpy(order[start : start + task.batch_size])
            optimizer.zero_grad()
            loss = criterion(net(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(order))
    return losses


def metric(task: Task, outputs: np.ndarray, y: np.ndarray) -> float:
    """R² (regression) or accuracy of a network's raw outputs (logits), by scikit-learn."""
    if task.regression:
        return float(r2_score(y, outputs[:, 0]))
    predicted = (outputs[:, 0] > 0).astype(int) if task.outputs == 1 else np.argmax(outputs, axis=1)
    return float(accuracy_score(y, predicted))


def torch_outputs(net: torch.nn.Sequential, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(X)).numpy()


# --------------------------------------------------------------------------- the three trainings


def scores(task: Task, seed: int) -> tuple[float, float, float]:
    """Test metric of ours, of scikit-learn's and of PyTorch's network trained from ``seed``."""
    X_train, y_train, X_test, y_test = split(task)
    model = our_model(task, X_train.shape[1], seed)
    net = torch_copy(task, model)  # before training: the same initial weights

    model.fit(X_train, y_train, loss=task.loss, optimizer=Adam(task.learning_rate), epochs=task.epochs,
              batch_size=task.batch_size, rng=1000 + seed)
    ours = metric(task, model.predict(X_test), y_test)

    generator = torch.Generator().manual_seed(seed)
    orders = [torch.randperm(len(y_train), generator=generator).numpy() for _ in range(task.epochs)]
    train_torch(task, net, X_train, y_train, orders)
    theirs_torch = metric(task, torch_outputs(net, X_test), y_test)

    estimator = MLPRegressor if task.regression else MLPClassifier
    reference = estimator(
        hidden_layer_sizes=(task.hidden,), activation=task.activation, solver="adam",
        learning_rate_init=task.learning_rate, batch_size=task.batch_size, max_iter=task.epochs,
        alpha=0.0, shuffle=True, early_stopping=False, n_iter_no_change=task.epochs + 1, random_state=seed,
    )
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):  # it stops at max_iter, as asked
        reference.fit(X_train, y_train)
    assert reference.n_iter_ == task.epochs
    theirs_sklearn = float(reference.score(X_test, y_test))  # accuracy, or R²
    return ours, theirs_sklearn, theirs_torch


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.name)
def test_test_metric_within_0_02_of_scikit_learn_and_pytorch(task: Task) -> None:
    """Mean test accuracy / R² over five seeds: ours >= each reference's - 0.02, and above the floor."""
    ours, theirs_sklearn, theirs_torch = np.mean([scores(task, seed) for seed in SEEDS], axis=0)
    figures = f"{task.name}: ours {ours:.4f}, scikit-learn {theirs_sklearn:.4f}, PyTorch {theirs_torch:.4f}"
    assert ours >= theirs_sklearn - TOLERANCE, figures
    assert ours >= theirs_torch - TOLERANCE, figures
    assert ours > task.floor, figures


# --------------------------------------------------------------------------- the same path as PyTorch


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.name)
def test_same_start_and_batches_follow_pytorchs_path(task: Task) -> None:
    """With the same initial weights and batch order, fit and torch.optim.Adam end at the same weights.

    ``fit`` draws ``generator.permutation(len(X))`` once per epoch; an identically seeded
    generator gives PyTorch the same batches. Five epochs are 40 to 65 Adam steps; the
    float64 results may differ only by the rounding of a different order of operations.
    """
    epochs = 5
    X_train, y_train, _, _ = split(task)
    model = our_model(task, X_train.shape[1], seed=11)
    initial = [p.value.copy() for p in model.parameters()]
    net = torch_copy(task, model)

    history = model.fit(X_train, y_train, loss=task.loss, optimizer=Adam(task.learning_rate), epochs=epochs,
                        batch_size=task.batch_size, rng=np.random.default_rng(12))
    replay = np.random.default_rng(12)
    orders = [replay.permutation(len(y_train)) for _ in range(epochs)]
    torch_losses = train_torch(task, net, X_train, y_train, orders)

    hidden, output = model.layers
    theirs = [net[0].weight.detach().numpy().T, net[0].bias.detach().numpy(),
              net[2].weight.detach().numpy().T, net[2].bias.detach().numpy()]
    ours = [hidden.weights, hidden.bias, output.weights, output.bias]
    for name, a, b, start in zip(["hidden weights", "hidden bias", "output weights", "output bias"],
                                 ours, theirs, initial, strict=True):
        scale = np.max(np.abs(b))
        # each element to 1e-9 relative (measured: 1e-13 at worst); a weight within 1e-12 of 0
        # to 1e-21 of the largest, absolute
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-21 * scale, err_msg=name)
        # and training moved them far more than that: what agrees is not the initial weights
        assert np.max(np.abs(b - start)) > 1e-3 * scale, name
    np.testing.assert_allclose(history.loss, torch_losses, rtol=1e-12)
    assert torch_losses[-1] < torch_losses[0]
