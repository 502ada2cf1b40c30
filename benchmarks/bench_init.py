"""``Dense``'s initializations compared by measurement, with scikit-learn's MLP as the reference.

    pip install -e ".[bench]"
    python benchmarks/bench_init.py [--tables diabetes,wine,...] [--seeds 4]
        [--networks relu:100 relu:100,100] [--epochs 200] [--max-rows 3000] [--json FILE]

The measuring stick for the library's ``Dense(..., init="auto")`` (issue 13, item 5),
which it made Glorot for every activation (He for the ReLU family before).
For every table of ``_tables.py`` chosen and every seed, one 80/20 split (stratified by
class for classification) is prepared as ``bench_tabular.py`` prepares it for its
baselines (numbers: median imputation plus a missing-indicator column, then
``StandardScaler``; text columns one-hot), and, on exactly those rows, the same network
is trained with the Python API (``Sequential``, ``Dense``, ``fit``) once per
initialization:

* ``he``: what ``init="auto"`` drew before this benchmark chose: He (normal,
  sd sqrt(2 / fan_in), bias 0) for the hidden layers, Glorot for the linear output layer;
* ``glorot``: Glorot uniform (±sqrt(6 / (fan_in + fan_out)), bias 0) for every layer,
  as Keras;
* ``torch``: PyTorch's ``nn.Linear`` (weights and bias uniform ±1/sqrt(fan_in)) for
  every layer;

and scikit-learn's ``MLPClassifier``/``MLPRegressor`` (whose own draw is Glorot-like,
bias included) is trained on the same rows as the reference. The settings are
scikit-learn's defaults where they have a counterpart: hidden layers of ``--networks``
(one of 100 ReLU units, scikit-learn's default, and two of 100), Adam with learning rate 1e-3, batches of 200 (or all the rows if fewer), the
regression target standardized on the training rows (scikit-learn through the same
standardization); a single logistic output for two classes (our
``binary_cross_entropy_with_logits``), softmax for more (``cross_entropy``), squared
error for regression. Two modes:

* ``fixed``: ``--epochs`` epochs (200). scikit-learn's ``max_iter`` is the same, but it
  stops earlier when its training loss has not improved by ``tol`` for 10 epochs;
* ``early``: the last 10% of the training rows held out (the split is shuffled), at
  most ``--epochs`` epochs, ``EarlyStopping(patience=10, restore_best_weights=True)``
  on ``val_loss``; scikit-learn with ``early_stopping=True`` (10% held out, patience
  10 on the validation score, best weights kept).

The seed decides the split, the initial weights (one generator for the layers, the
same for every initialization) and the shuffles (another generator, the same for
every initialization), so the initializations are compared on paired runs.

The printed table (Markdown) gives, per table, network and mode, the mean ± sd over the
seeds of the test score (accuracy, or R²) of each initialization and of scikit-learn's
MLP (for its activations only: relu, tanh, logistic); then, per network and mode and
over all tables, each initialization's mean score, its mean
difference from scikit-learn's, its mean rank among the three (1 is best; ties share),
and the number of tables on which it is the best of the three (ties count).

A benchmark, not a test. The default run (10 tables x 4 seeds x 2 networks x 2 modes:
480 fits of ours, 160 of scikit-learn's; the large ``wages`` table sampled to
``--max-rows`` rows) takes about 3.5 minutes of CPU, in one BLAS thread; on 2 cores
shared with a load of about 10 it took 12 minutes of wall time.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from _tables import Table, by_name
from _timing import write_json
from bench_tabular import preprocessing
from threadpoolctl import threadpool_limits

from neural_network import Dense, Sequential
from neural_network.optimizers import Adam
from neural_network.training import EarlyStopping

DEFAULT_TABLES = ("iris", "wine", "breast_cancer", "penguins", "titanic", "digits",
                  "diabetes", "cars", "hitters", "wages")
INITS = {
    "he": ("he", "glorot"),
    "glorot": ("glorot", "glorot"),
    "torch": ("torch", "torch"),
}
"""Each initialization compared: (``init`` of the hidden layers, ``init`` of the linear output layer)."""
MODES = ("fixed", "early")
SKLEARN = "sklearn MLP"
SKLEARN_ACTIVATIONS = ("relu", "tanh", "logistic")


@dataclass(frozen=True)
class Network:
    """The hidden layers: their activation and sizes (the output layer is linear)."""

    activation: str
    hidden: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.activation}:{','.join(map(str, self.hidden))}"


DEFAULT_NETWORKS = (Network("relu", (100,)), Network("relu", (100, 100)))
BATCH = 200
LEARNING_RATE = 1e-3
PATIENCE = 10
VALIDATION = 0.1


def prepared_split(table: Table, frame: Any, seed: int, max_rows: int) -> dict[str, Any]:
    """The split's features (float64, preprocessed on the training rows) and targets."""
    from sklearn.model_selection import train_test_split

    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0).reset_index(drop=True)
    stratify = None if table.task == "regression" else frame[table.target]
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)
    prepare, _ = preprocessing(train, table.target)
    X = np.asarray(prepare.fit_transform(train.drop(columns=[table.target])), dtype=np.float64)
    X_test = np.asarray(prepare.transform(test.drop(columns=[table.target])), dtype=np.float64)
    y_raw, y_test_raw = train[table.target].to_numpy(), test[table.target].to_numpy()
    if table.task == "regression":
        mean, sd = float(np.mean(y_raw)), float(np.std(y_raw))
        y, y_test = (y_raw.astype(np.float64) - mean) / sd, (y_test_raw.astype(np.float64) - mean) / sd
    else:
        classes = np.unique(y_raw)
        y, y_test = np.searchsorted(classes, y_raw), np.searchsorted(classes, y_test_raw)
        if len(classes) == 2:
            y, y_test = y.astype(np.float64), y_test.astype(np.float64)
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test}


def score(task: str, y_true: Any, y_pred: Any) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return float(r2_score(y_true, y_pred) if task == "regression" else accuracy_score(y_true, y_pred))


def outputs_of(task: str, y: Any) -> int:
    return int(np.max(y)) + 1 if task == "multiclass" else 1


def run_ours(task: str, data: dict[str, Any], network: Network, inits: tuple[str, str], mode: str,
             seed: int, epochs: int) -> tuple[float, int]:
    """The test score of one network, and the epochs it ran."""
    X, y = data["X"], data["y"]
    hidden = network.hidden
    init_rng = np.random.default_rng([seed, 1])
    sizes = [X.shape[1], *hidden, outputs_of(task, y)]
    layers = [
        Dense(before, after, network.activation if position < len(hidden) else None, rng=init_rng,
              init=inits[0] if position < len(hidden) else inits[1])
        for position, (before, after) in enumerate(itertools.pairwise(sizes))
    ]
    model = Sequential(layers)
    loss = {"regression": "mse_loss", "binary": "binary_cross_entropy_with_logits",
            "multiclass": "cross_entropy"}[task]
    callbacks = [EarlyStopping(patience=PATIENCE, restore_best_weights=True)] if mode == "early" else []
    history = model.fit(X, y, loss=loss, optimizer=Adam(LEARNING_RATE), epochs=epochs,
                        batch_size=min(BATCH, len(X)), validation_split=VALIDATION if mode == "early" else 0.0,
                        rng=np.random.default_rng([seed, 2]), callbacks=callbacks)
    outputs = model.predict(data["X_test"])
    if task == "regression":
        predicted = outputs.reshape(-1)
    elif task == "binary":
        predicted = (outputs.reshape(-1) > 0).astype(np.float64)
    else:
        predicted = np.argmax(outputs, axis=1)
    return score(task, data["y_test"], predicted), len(history.history["loss"])


def run_sklearn(task: str, data: dict[str, Any], network: Network, mode: str, seed: int,
                epochs: int) -> tuple[float, int]:
    """scikit-learn's MLP, its defaults but for the settings shared with ours."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    maker: Callable[..., Any] = MLPRegressor if task == "regression" else MLPClassifier
    model = maker(hidden_layer_sizes=network.hidden, activation=network.activation,
                  learning_rate_init=LEARNING_RATE, batch_size=min(BATCH, len(data["X"])), max_iter=epochs, random_state=seed,
                  early_stopping=mode == "early", validation_fraction=VALIDATION, n_iter_no_change=PATIENCE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # With early stopping, a small table's batch exceeds the rows left to train on: clipped, as ours.
        warnings.filterwarnings("ignore", message="Got `batch_size`", category=UserWarning)
        model.fit(data["X"], data["y"])
    return score(task, data["y_test"], model.predict(data["X_test"])), int(model.n_iter_)


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def print_markdown(rows: list[list[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |")
        if number == 0:
            print("| " + " | ".join("-" * width for width in widths) + " |")


def ranks(values: list[float]) -> list[float]:
    """1 for the highest value; tied values (to 1e-9) share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda index: -values[index])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and abs(values[order[end + 1]] - values[order[start]]) < 1e-9:
            end += 1
        for index in order[start:end + 1]:
            result[index] = (start + end) / 2 + 1
        start = end + 1
    return result


def network_of(text: str) -> Network:
    """``ACTIVATION:SIZES``, e.g. ``relu:100,100``."""
    activation, _, sizes = text.partition(":")
    try:
        return Network(activation, tuple(int(size) for size in sizes.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ACTIVATION:SIZES such as relu:100,100; got {text!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tables", default=",".join(DEFAULT_TABLES), help="comma-separated names of _tables.py")
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0..N-1: one split each (default: 4)")
    parser.add_argument("--networks", type=network_of, nargs="+", default=list(DEFAULT_NETWORKS),
                        metavar="ACTIVATION:SIZES", help="the hidden layers, e.g. gelu:100 (default: relu:100 "
                        "relu:100,100); scikit-learn runs only for its activations (relu, tanh, logistic)")
    parser.add_argument("--epochs", type=int, default=200, help="epochs, or the most with early stopping (200)")
    parser.add_argument("--max-rows", type=int, default=3000, help="a larger table is sampled to this (3000)")
    parser.add_argument("--json", metavar="FILE", help="write the settings and every run as JSON")
    arguments = parser.parse_args()
    threadpool_limits(1)  # one BLAS thread: the runs are small, and the machine is shared
    suite = by_name()
    unknown = [name for name in arguments.tables.split(",") if name not in suite]
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}; the suite: {', '.join(suite)}")
    networks: list[Network] = arguments.networks
    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    for table in (suite[name] for name in arguments.tables.split(",")):
        frame = table.load()
        table_start = time.perf_counter()
        for seed in range(arguments.seeds):
            data = prepared_split(table, frame, seed, arguments.max_rows)
            for network, mode in itertools.product(networks, MODES):
                key = {"table": table.name, "seed": seed, "network": str(network), "mode": mode}
                for name, inits in INITS.items():
                    test, ran = run_ours(table.task, data, network, inits, mode, seed, arguments.epochs)
                    runs.append(key | {"init": name, "test": test, "epochs": ran})
                if network.activation in SKLEARN_ACTIVATIONS:
                    test, ran = run_sklearn(table.task, data, network, mode, seed, arguments.epochs)
                    runs.append(key | {"init": SKLEARN, "test": test, "epochs": ran})
        print(f"# {table.name}: {len(frame):,} rows ({min(len(frame), arguments.max_rows):,} used), "
              f"{time.perf_counter() - table_start:.0f} s", flush=True)
    tables = list(dict.fromkeys(run["table"] for run in runs))
    print_results(runs, tables, networks, arguments)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if arguments.json:
        write_json(arguments.json, arguments, {"runs": runs})


def print_results(runs: list[dict[str, Any]], tables: list[str], networks: list[Network],
                  arguments: argparse.Namespace) -> None:
    suite = by_name()
    names = [*INITS, SKLEARN]

    def scores(table: str, network: Network, mode: str, name: str) -> list[float]:
        wanted = (table, str(network), mode, name)
        return [run["test"] for run in runs if (run["table"], run["network"], run["mode"], run["init"]) == wanted]

    def cell(values: list[float]) -> str:
        return mean_sd(values) if values else "—"

    print(f"\nAdam {LEARNING_RATE:g}, batch {BATCH}, {arguments.epochs} epochs (fixed) or early stopping (patience "
          f"{PATIENCE}, {VALIDATION:.0%} held out); mean ± sd over {arguments.seeds} seeds of the test accuracy "
          "(classification) or R² (regression)\n")
    rows = [["table", "metric", "hidden", "mode", *names]]
    for table in tables:
        metric = "R²" if suite[table].task == "regression" else "accuracy"
        for network, mode in itertools.product(networks, MODES):
            rows.append([table, metric, str(network), mode,
                         *(cell(scores(table, network, mode, name)) for name in names)])
    print_markdown(rows)

    print(f"\nOver the {len(tables)} tables: mean score, mean difference from scikit-learn's MLP, mean rank "
          "among the three initializations (1 = best, ties share), tables where it is the best of the three "
          "(ties count)\n")
    rows = [["hidden", "mode", "init", "mean score", "minus sklearn", "mean rank", "best on"]]
    for network, mode in itertools.product(networks, MODES):
        means = {name: [statistics.mean(values) for table in tables
                        if (values := scores(table, network, mode, name))] for name in names}
        table_ranks = [ranks([means[name][index] for name in INITS]) for index in range(len(tables))]
        for position, name in enumerate(INITS):
            difference = (f"{statistics.mean(a - b for a, b in zip(means[name], means[SKLEARN], strict=True)):+.4f}"
                          if means[SKLEARN] else "—")
            rank = statistics.mean(row[position] for row in table_ranks)
            best = sum(row[position] == min(row) for row in table_ranks)
            rows.append([str(network), mode, name, f"{statistics.mean(means[name]):.4f}", difference,
                         f"{rank:.2f}", f"{best}/{len(tables)}"])
        if means[SKLEARN]:
            rows.append([str(network), mode, SKLEARN, f"{statistics.mean(means[SKLEARN]):.4f}", "—", "—", "—"])
    print_markdown(rows)


if __name__ == "__main__":
    main()
