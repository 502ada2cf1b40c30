"""Training benchmark: one epoch of the same MLP here and in PyTorch (CPU), with SGD and with Adam.

    python benchmarks/bench_training.py [--samples 100000] [--epochs 5] [--threads 1 2]
                                        [--optimizers sgd adam] [--sklearn] [--json FILE]

The network is the issue's: 50 inputs, two hidden ReLU layers of 128, one output (a
logit), binary cross-entropy on the logits, batches of 64, float32; SGD with learning
rate 0.01 (Keras's default) and Adam with learning rate 0.001. Both libraries train on
the same data from the same initial weights. The epochs of the two libraries
alternate (ours, PyTorch, ours, PyTorch, ...), so that a burst of load on this shared
machine hits both alike; each epoch is timed on its own and the median is reported,
with PyTorch's time divided by ours (above 1: ours is faster). Beside the wall-clock
time, each epoch's CPU time (``time.process_time``, all the process's threads) is
measured: when other programs load the machine, the wall-clock time of an epoch counts
the time it waited for a core, which the CPU time does not, so the ratio of CPU times
is the steadier one on a busy machine at 1 thread (at 2 threads it also counts the time
a thread spins waiting for the other). The test accuracy after
the last epoch shows that both train equally well. The thread count is the same for
both (BLAS through threadpoolctl, PyTorch through torch.set_num_threads).
``--sklearn`` adds scikit-learn's MLPClassifier (Adam only; it draws its own weights).

It also measures the fixed cost of one batch's loss: the loss value and its gradient
for a batch of 64 in the one call that ``fit`` makes (its hot path), beside the two
public calls ``binary_cross_entropy_with_logits`` and ``..._grad`` that check their
arguments each time.

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
from _timing import median_time, write_json
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from neural_network import SGD, Adam, Dense, Sequential
from neural_network.losses import binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad
from neural_network.optimizers import Optimizer
from neural_network.training import Callback

FEATURES, HIDDEN, BATCH = 50, 128, 64
LEARNING_RATES = {"sgd": 0.01, "adam": 1e-3}


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


class EpochClock(Callback):
    """The time of each epoch of ``fit``, from after ``fit`` has checked its input."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.cpu_times: list[float] = []
        self.last = self.last_cpu = 0.0

    def on_train_begin(self, model: Sequential) -> None:
        self.last, self.last_cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Sequential) -> bool:
        now, now_cpu = time.perf_counter(), time.process_time()
        self.times.append(now - self.last)
        self.cpu_times.append(now_cpu - self.last_cpu)
        self.last, self.last_cpu = now, now_cpu
        return False


class Ours:
    """This library: one ``fit`` call per epoch (the same generator carries the shuffling on)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, optimizer: str) -> None:
        rng = np.random.default_rng(0)
        self.model = Sequential([
            Dense(FEATURES, HIDDEN, "relu", rng=rng, dtype=np.float32),
            Dense(HIDDEN, HIDDEN, "relu", rng=rng, dtype=np.float32),
            Dense(HIDDEN, 1, rng=rng, dtype=np.float32),
        ])
        self.initial = [(layer.weights.copy(), layer.bias.copy()) for layer in self.model.layers
                        if isinstance(layer, Dense)]
        rate = LEARNING_RATES[optimizer]
        self.optimizer: Optimizer = SGD(rate) if optimizer == "sgd" else Adam(rate)
        self.X, self.y, self.rng, self.clock = X, y, np.random.default_rng(1), EpochClock()

    def epoch(self) -> None:
        self.model.fit(self.X, self.y, loss="binary_cross_entropy_with_logits", optimizer=self.optimizer,
                       epochs=1, batch_size=BATCH, rng=self.rng, callbacks=[self.clock])

    def accuracy(self, X_test: np.ndarray, y_test: np.ndarray) -> float:
        return float(np.mean((self.model.predict(X_test)[:, 0] > 0) == (y_test > 0.5)))


class PyTorch:
    def __init__(self, X: np.ndarray, y: np.ndarray, optimizer: str,
                 initial: list[tuple[np.ndarray, np.ndarray]]) -> None:
        torch.manual_seed(1)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
            torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
            torch.nn.Linear(HIDDEN, 1),
        )
        with torch.no_grad():
            linears = [layer for layer in self.model if isinstance(layer, torch.nn.Linear)]
            for linear, (weights, bias) in zip(linears, initial, strict=True):
                linear.weight.copy_(torch.from_numpy(weights.T.copy()))  # torch keeps (out, in)
                linear.bias.copy_(torch.from_numpy(bias))
        rate = LEARNING_RATES[optimizer]
        self.optimizer = (torch.optim.SGD(self.model.parameters(), lr=rate) if optimizer == "sgd"
                          else torch.optim.Adam(self.model.parameters(), lr=rate))
        self.loss = torch.nn.BCEWithLogitsLoss()
        self.inputs, self.targets = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
        self.times: list[float] = []
        self.cpu_times: list[float] = []

    def epoch(self) -> None:
        start, start_cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(len(self.inputs))
        for first in range(0, len(self.inputs), BATCH):
            batch = order[first : first + BATCH]
            self.optimizer.zero_grad()
            loss = self.loss(self.model(self.inputs[batch]), self.targets[batch])
            loss.backward()
            self.optimizer.step()
        self.times.append(time.perf_counter() - start)
        self.cpu_times.append(time.process_time() - start_cpu)

    def accuracy(self, X_test: np.ndarray, y_test: np.ndarray) -> float:
        with torch.no_grad():
            logits = self.model(torch.from_numpy(X_test))[:, 0].numpy()
        return float(np.mean((logits > 0) == (y_test > 0.5)))


def scikit_learn(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, epochs: int) -> dict[str, Any]:
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN, HIDDEN), activation="relu", solver="adam",
                          learning_rate_init=LEARNING_RATES["adam"], batch_size=BATCH, alpha=0.0, random_state=1)
    labels = y.astype(np.int64)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(X, labels, classes=[0, 1])  # one pass over the data
        times.append(time.perf_counter() - start)
    return {"times": times, "median": statistics.median(times),
            "accuracy": float(model.score(X_test, y_test.astype(np.int64)))}


def compare(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, optimizer: str,
            epochs: int) -> dict[str, Any]:
    """Alternate the epochs of the two libraries; the medians, their ratio and the accuracies."""
    ours = Ours(X, y, optimizer)
    theirs = PyTorch(X, y, optimizer, ours.initial)
    for _ in range(epochs):
        ours.epoch()
        theirs.epoch()
    mine, torch_time = statistics.median(ours.clock.times), statistics.median(theirs.times)
    mine_cpu, torch_cpu = statistics.median(ours.clock.cpu_times), statistics.median(theirs.cpu_times)
    return {
        "optimizer": optimizer,
        "ours": {"times": ours.clock.times, "median": mine, "cpu_times": ours.clock.cpu_times,
                 "cpu_median": mine_cpu, "accuracy": ours.accuracy(X_test, y_test)},
        "pytorch": {"times": theirs.times, "median": torch_time, "cpu_times": theirs.cpu_times,
                    "cpu_median": torch_cpu, "accuracy": theirs.accuracy(X_test, y_test)},
        "pytorch_over_ours": torch_time / mine,
        "pytorch_over_ours_cpu": torch_cpu / mine_cpu,
    }


def loss_call_cost(repeats: int = 2000) -> dict[str, float]:
    """Microseconds for the loss value and gradient of a batch of 64 (float32), fit's call and the public pair."""
    from neural_network.losses import _training

    rng = np.random.default_rng(2)
    outputs = rng.standard_normal((BATCH, 1)).astype(np.float32)
    targets = rng.integers(0, 2, (BATCH, 1)).astype(np.float32)
    name = "binary_cross_entropy_with_logits"
    # What fit calls per batch (before training_loss existed: the MEAN_VALUE_AND_GRAD entry).
    choose = getattr(_training, "training_loss", None)
    fused = choose(name, targets) if choose is not None else _training.MEAN_VALUE_AND_GRAD[name]

    def public() -> None:
        binary_cross_entropy_with_logits(outputs, targets)
        binary_cross_entropy_with_logits_grad(outputs, targets)

    def per_call(run: Callable[[], object]) -> float:
        def many() -> None:
            for _ in range(repeats):
                run()
        return median_time(many, 5) / repeats * 1e6

    return {"fit_hot_path_us": per_call(lambda: fused(outputs, targets)), "public_pair_us": per_call(public)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per library (median reported)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--optimizers", nargs="+", choices=sorted(LEARNING_RATES), default=["sgd", "adam"])
    parser.add_argument("--sklearn", action="store_true", help="also time scikit-learn's MLPClassifier (Adam)")
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()

    X, y, X_test, y_test = make_data(arguments.samples, seed=0)
    with threadpool_limits(limits=1):
        costs = loss_call_cost()
    print(f"Loss value and gradient of a batch of {BATCH} (float32, 1 thread): fit's hot path "
          f"{costs['fit_hot_path_us']:.1f} us, the public pair {costs['public_pair_us']:.1f} us")
    print(f"One epoch: {arguments.samples:,} x {FEATURES}, {FEATURES}-{HIDDEN}-{HIDDEN}-1 ReLU MLP, "
          f"batch {BATCH}, float32; median of {arguments.epochs} alternating epochs")
    print(f"{'optimizer':<10}{'threads':>8}{'ours (s)':>10}{'torch (s)':>11}{'torch/ours':>12}"
          f"{'CPU: torch/ours':>17}{'acc. ours':>11}{'acc. torch':>12}{'ours us/batch':>15}")
    batches = -(-arguments.samples // BATCH)
    runs = []
    for threads in arguments.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            for optimizer in arguments.optimizers:
                result = compare(X, y, X_test, y_test, optimizer, arguments.epochs)
                result["threads"] = threads
                runs.append(result)
                print(f"{optimizer:<10}{threads:>8}{result['ours']['median']:>10.3f}"
                      f"{result['pytorch']['median']:>11.3f}{result['pytorch_over_ours']:>11.2f}x"
                      f"{result['pytorch_over_ours_cpu']:>16.2f}x"
                      f"{result['ours']['accuracy']:>11.4f}{result['pytorch']['accuracy']:>12.4f}"
                      f"{result['ours']['median'] / batches * 1e6:>15.1f}")
            if arguments.sklearn:
                sk = scikit_learn(X, y, X_test, y_test, arguments.epochs)
                runs.append({"optimizer": "adam", "threads": threads, "scikit-learn": sk})
                print(f"{'sklearn':<10}{threads:>8}{sk['median']:>10.3f}{'':>40}{sk['accuracy']:>11.4f}")
    if arguments.json:
        write_json(arguments.json, arguments, {"loss_call": costs, "runs": runs})


if __name__ == "__main__":
    main()
