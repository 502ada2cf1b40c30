"""Pure-edition benchmark: how long the standard-library network takes to learn XOR and the spiral.

    python benchmarks/bench_pure.py [--xor-seeds 5] [--spiral-seeds 1] [--json FILE]

Issue 14's targets, measured here and not in a test (these machines are shared and
noisy, and a test never asserts on time):

* XOR, a 2-8-1 network (tanh, then sigmoid), binary cross-entropy, SGD(0.5,
  momentum=0.9), the four samples as one batch: time until all four are right
  (target: under 1 s);
* the spiral of *Neural Networks from Scratch*, 3 classes x 100 points, a 2-64-3
  network (ReLU, then linear), cross-entropy, SGD(0.1, momentum=0.9) with batches of
  32, the learning rate lowered to 0.03 after 600 epochs and to 0.01 after 900: time
  until the training accuracy passes 90% (target: under 30 s), and the accuracy after
  all 1000 epochs.

Accuracy is measured every ``--check-every`` epochs, on the whole training set; the
time of those measurements is included (it is small: a forward pass). Each seed seeds
the data, the initial weights and the shuffling. Both the wall time and the processor
time of this process are printed: on a busy shared machine the wall time grows with
the other processes' load, the processor time much less.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

from _timing import write_json

from neural_network.pure import SGD, Dense, Sequential, make_spiral, make_xor

SPIRAL_SCHEDULE = ((0.1, 600), (0.03, 300), (0.01, 100))
"""(learning rate, epochs) phases of the spiral's training."""


def accuracy(model: Sequential, X: list[list[float]], y: list[int]) -> float:
    """The fraction of samples whose largest output (or, for one output, > 0.5) is the label."""
    outputs = model.predict(X)
    if model.out_features == 1:
        return sum((row[0] > 0.5) == (label == 1) for row, label in zip(outputs, y, strict=True)) / len(y)
    return sum(row.index(max(row)) == label for row, label in zip(outputs, y, strict=True)) / len(y)


class Clock:
    """Wall time and this process's processor time since it was made, in seconds."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def xor(seed: int, check_every: int) -> dict[str, Any]:
    X, y = make_xor()
    clock = Clock()
    model = Sequential([Dense(2, 8, "tanh", rng=seed), Dense(8, 1, "sigmoid", rng=seed + 1000)])
    optimizer = SGD(0.5, momentum=0.9)
    epochs = 0
    while epochs < 5000:
        model.fit(X, y, loss="binary_cross_entropy", optimizer=optimizer, epochs=check_every, batch_size=4, rng=epochs)
        epochs += check_every
        if accuracy(model, X, y) == 1.0:
            wall, cpu = clock.read()
            return {"seed": seed, "epochs": epochs, "seconds": wall, "cpu_seconds": cpu, "accuracy": 1.0}
    return {"seed": seed, "epochs": epochs, "seconds": math.nan, "cpu_seconds": math.nan, "accuracy": accuracy(model, X, y)}


def spiral(seed: int, check_every: int) -> dict[str, Any]:
    X, y = make_spiral(100, 3, rng=seed)
    clock = Clock()
    model = Sequential([Dense(2, 64, "relu", rng=seed), Dense(64, 3, rng=seed + 1000)])
    optimizer = SGD(SPIRAL_SCHEDULE[0][0], momentum=0.9)
    epochs, reached, reached_epoch = 0, (math.nan, math.nan), None
    for learning_rate, phase in SPIRAL_SCHEDULE:
        optimizer.learning_rate = learning_rate
        for _ in range(phase // check_every):
            model.fit(X, y, loss="cross_entropy", optimizer=optimizer, epochs=check_every, batch_size=32, rng=epochs)
            epochs += check_every
            if reached_epoch is None and accuracy(model, X, y) > 0.9:
                reached, reached_epoch = clock.read(), epochs
    wall, cpu = clock.read()
    return {
        "seed": seed,
        "epochs_to_90": reached_epoch,
        "seconds_to_90": reached[0],
        "cpu_seconds_to_90": reached[1],
        "epochs": epochs,
        "seconds": wall,
        "cpu_seconds": cpu,
        "accuracy": accuracy(model, X, y),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--xor-seeds", type=int, default=5)
    parser.add_argument("--spiral-seeds", type=int, default=1)
    parser.add_argument("--check-every", type=int, default=25, help="epochs between accuracy checks (spiral)")
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()

    xor_runs = [xor(seed, check_every=5) for seed in range(arguments.xor_seeds)]
    for run in xor_runs:
        print(
            f"XOR 2-8-1     seed {run['seed']}: 100% after {run['epochs']:>4} epochs in {run['seconds']:.3f} s "
            f"(processor {run['cpu_seconds']:.3f} s)"
        )
    print(
        f"XOR median: {statistics.median(run['seconds'] for run in xor_runs):.3f} s, processor "
        f"{statistics.median(run['cpu_seconds'] for run in xor_runs):.3f} s (target: under 1 s)"
    )

    spiral_runs = []
    for seed in range(arguments.spiral_seeds):
        run = spiral(seed, arguments.check_every)
        spiral_runs.append(run)
        print(
            f"spiral 2-64-3 seed {run['seed']}: >90% after {run['epochs_to_90']} epochs in "
            f"{run['seconds_to_90']:.1f} s, processor {run['cpu_seconds_to_90']:.1f} s (target: under 30 s); "
            f"{run['accuracy']:.1%} after {run['epochs']} epochs, {run['seconds']:.1f} s "
            f"(processor {run['cpu_seconds']:.1f} s)"
        )
    if arguments.json:
        write_json(arguments.json, arguments, {"xor": xor_runs, "spiral": spiral_runs})


if __name__ == "__main__":
    main()
