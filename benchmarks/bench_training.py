"""Training benchmark: one epoch of the same MLP here, in PyTorch (CPU) and in scikit-learn.

    python benchmarks/bench_training.py [--samples 100000] [--epochs 3] [--threads 1] [--json FILE]

The network is the issue's: 50 inputs, two hidden ReLU layers of 128, one output (a
logit), binary cross-entropy on the logits, Adam with learning rate 0.001, batches of
64, float32. Each library trains on the same data; this library and PyTorch start from
the same initial weights (scikit-learn draws its own). Every epoch is timed on its own
and the median is reported, with the ratios to this library; the test accuracy after
the last epoch shows that the three train equally well. The thread count is the same
for all (BLAS through threadpoolctl, PyTorch through torch.set_num_threads).

A benchmark, not a test: these machines are shared and noisy, so read the ratios of
one run, never a single absolute time.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from _timing import write_json
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from neural_network import Adam, Dense, Sequential
from neural_network.training import Callback

FEATURES, HIDDEN, BATCH, LEARNING_RATE = 50, 128, 64, 1e-3


def make_data(samples: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A binary task a 50-128-128-1 network can learn but not memorize: labels from a
    random two-layer teacher network, 10% of them flipped."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples + samples // 5, FEATURES)).astype(np.float32)
    hidden = np.tanh(X @ rng.standard_normal((FEATURES, 32)) / np.sqrt(FEATURES))
    y = (hidden @ rng.standard_normal(32) > 0).astype(np.float32)
    flip = rng.random(y.size) < 0.1
    y[flip] = 1 - y[flip]
    return X[:samples], y[:samples], X[samples:], y[samples:]


def timed_epochs(run_epoch: Callable[[int], None], epochs: int) -> list[float]:
    times = []
    for epoch in range(epochs):
        start = time.perf_counter()
        run_epoch(epoch)
        times.append(time.perf_counter() - start)
    return times


def ours(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, epochs: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    model = Sequential([
        Dense(FEATURES, HIDDEN, "relu", rng=rng, dtype=np.float32),
        Dense(HIDDEN, HIDDEN, "relu", rng=rng, dtype=np.float32),
        Dense(HIDDEN, 1, rng=rng, dtype=np.float32),
    ])
    initial = [(layer.weights.copy(), layer.bias.copy()) for layer in model.layers]
    clock = EpochClock()
    model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=Adam(LEARNING_RATE), epochs=epochs,
              batch_size=BATCH, rng=1, callbacks=[clock])
    accuracy = float(np.mean((model.predict(X_test)[:, 0] > 0) == (y_test > 0.5)))
    return {"times": clock.times, "accuracy": accuracy, "initial": initial}


class EpochClock(Callback):
    """The time of each epoch of ``fit``: from the end of one to the end of the next
    (the first from the start of training, after ``fit`` has checked its input)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.last = 0.0

    def on_train_begin(self, model: Sequential) -> None:
        self.last = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Sequential) -> bool:
        now = time.perf_counter()
        self.times.append(now - self.last)
        self.last = now
        return False


def pytorch(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, epochs: int,
            initial: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, 1),
    )
    with torch.no_grad():
        linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
        for linear, (weights, bias) in zip(linears, initial, strict=True):
            linear.weight.copy_(torch.from_numpy(weights.T.copy()))  # torch keeps (out, in)
            linear.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_function = torch.nn.BCEWithLogitsLoss()
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)

    def epoch(_: int) -> None:
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), BATCH):
            batch = order[start : start + BATCH]
            optimizer.zero_grad()
            loss = loss_function(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()

    times = timed_epochs(epoch, epochs)
    with torch.no_grad():
        logits = model(torch.from_numpy(X_test))[:, 0].numpy()
    return {"times": times, "accuracy": float(np.mean((logits > 0) == (y_test > 0.5)))}


def scikit_learn(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, epochs: int) -> dict[str, Any]:
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN, HIDDEN), activation="relu", solver="adam",
                          learning_rate_init=LEARNING_RATE, batch_size=BATCH, alpha=0.0, random_state=1)
    labels = y.astype(np.int64)

    def epoch(_: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(X, labels, classes=[0, 1])  # one pass over the data

    times = timed_epochs(epoch, epochs)
    return {"times": times, "accuracy": float(model.score(X_test, y_test.astype(np.int64)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per library (median reported)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()

    X, y, X_test, y_test = make_data(arguments.samples, seed=0)
    torch.set_num_threads(arguments.threads)
    with threadpool_limits(limits=arguments.threads):
        results = {"neural_network": ours(X, y, X_test, y_test, arguments.epochs)}
        results["pytorch"] = pytorch(X, y, X_test, y_test, arguments.epochs, results["neural_network"].pop("initial"))
        results["scikit-learn"] = scikit_learn(X, y, X_test, y_test, arguments.epochs)

    base = statistics.median(results["neural_network"]["times"])
    print(f"One epoch: {arguments.samples:,} x {FEATURES}, {FEATURES}-{HIDDEN}-{HIDDEN}-1 ReLU MLP, Adam, "
          f"batch {BATCH}, float32, {arguments.threads} thread(s); median of {arguments.epochs} epochs")
    print(f"{'library':<16}{'epoch (s)':>12}{'vs ours':>10}{'test acc.':>12}")
    for name, result in results.items():
        median = statistics.median(result["times"])
        result["median"], result["ratio_to_ours"] = median, median / base
        print(f"{name:<16}{median:>12.3f}{median / base:>9.2f}x{result['accuracy']:>12.4f}")
    if arguments.json:
        write_json(arguments.json, arguments, results)


if __name__ == "__main__":
    main()
