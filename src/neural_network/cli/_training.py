"""The work of ``neural-network train``: split, standardize, build, fit, measure.

* **Split.** The rows are shuffled with the seed and a fraction ``test_split`` is held
  out to test, class by class for classification (each class keeps its share in both
  parts). The held-out rows are the validation data of ``fit``: their loss after each
  epoch is the history's ``val_loss``.
* **Standardize.** Each feature is shifted and scaled by the training rows' mean and
  standard deviation (a constant feature only shifted); for regression the target too.
  The numbers are stored in the model (see :mod:`neural_network.cli._model_file`).
* **Build.** ``Dense`` layers of the ``hidden`` sizes with the activation, then a linear
  layer of one output (binary, regression) or one per class (multiclass).
* **Fit** with the task's loss (see :data:`neural_network.cli._targets.LOSSES`).
* **Measure** the final model on both parts (see :mod:`neural_network.cli._metrics`).

One seed drives everything (the split, the initial weights and the shuffles, from
three independent streams): the same command gives the same model, bit for bit.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neural_network.cli._errors import CommandError
from neural_network.cli._metrics import measure
from neural_network.cli._model_file import ModelCard
from neural_network.cli._targets import Target
from neural_network.layers import Dense
from neural_network.network import PREDICT_ROWS, Sequential
from neural_network.optimizers import get_optimizer
from neural_network.training import Callback


@dataclass(frozen=True)
class Settings:
    """The choices of ``train``'s options."""

    hidden: tuple[int, ...]
    activation: str
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    test_split: float
    seed: int


@dataclass(frozen=True, eq=False)
class Outcome:
    """A trained model with its card, its history (columns of ``history.csv``) and its metrics."""

    model: Sequential
    card: ModelCard
    history: dict[str, Sequence[float]]
    metrics: dict[str, dict[str, float]]
    train_rows: NDArray[np.intp]
    test_rows: NDArray[np.intp]

    @property
    def epochs(self) -> int:
        return len(self.history["epoch"])


def split_rows(target: Target, fraction: float, generator: np.random.Generator) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row indices to train and to test (each sorted), stratified by class for classification."""
    count = len(target.y)
    if target.classes is None:
        groups = [np.arange(count)]
    else:
        groups = [np.flatnonzero(target.y == index) for index in range(len(target.classes))]
    held_out = [generator.permutation(group)[: round(fraction * len(group))] for group in groups]
    test = np.sort(np.concatenate(held_out)).astype(np.intp)
    train = np.setdiff1d(np.arange(count), test).astype(np.intp)
    if test.size == 0 or train.size == 0:
        raise CommandError(
            f"--test-split {fraction} of {count} rows leaves {train.size} to train and {test.size} to test; "
            "both need at least one row. Use a file with more rows, or another --test-split."
        )
    return train, test


def scale_of(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The mean and standard deviation of each column; a constant column gets scale 1."""
    mean = np.mean(values, axis=0)
    std = np.std(values, axis=0)
    constant = (np.max(values, axis=0) == np.min(values, axis=0)) | (std == 0)
    return mean, np.where(constant, 1.0, std)


@dataclass(frozen=True, eq=False)
class Prepared:
    """The data made ready to fit: the card, the standardized inputs, the targets ``fit`` sees
    (standardized for regression) and the split."""

    card: ModelCard
    inputs: NDArray[np.float64]
    y: NDArray[np.int64] | NDArray[np.float64]
    train_rows: NDArray[np.intp]
    test_rows: NDArray[np.intp]

    @property
    def loss_scale(self) -> float:
        """What turns a loss on the standardized target into the target's units (1 for classification)."""
        return 1.0 if self.card.y_scale is None else self.card.y_scale**2


def prepare(
    X: NDArray[np.float64], target: Target, *, features: Sequence[str], target_name: str, data: str,
    settings: Settings,
) -> Prepared:
    """Split the rows and standardize the raw features ``X`` (one column per name in ``features``)."""
    train_rows, test_rows = split_rows(target, settings.test_split, _streams(settings.seed)[0])
    x_mean, x_scale = scale_of(X[train_rows])
    y_mean = y_scale = None
    y = target.y
    if target.task == "regression":
        values = np.asarray(target.y, dtype=np.float64)
        mean, scale = scale_of(values[train_rows].reshape(-1, 1))
        y_mean, y_scale = float(mean[0]), float(scale[0])
        y = (values - y_mean) / y_scale
    card = ModelCard(
        task=target.task, loss=target.loss, features=tuple(features), target=target_name,
        classes=target.classes, x_mean=x_mean, x_scale=x_scale, y_mean=y_mean, y_scale=y_scale, data=data,
    )
    return Prepared(card, card.standardize(X), y, train_rows, test_rows)


def train(prepared: Prepared, target: Target, settings: Settings, callbacks: Sequence[Callback] = ()) -> Outcome:
    """Build the network, fit it on the training rows (validating on the test rows), and measure it."""
    _, init_stream, shuffle_stream = _streams(settings.seed)
    card, inputs, y = prepared.card, prepared.inputs, prepared.y
    train_rows, test_rows = prepared.train_rows, prepared.test_rows
    check_memory([len(card.features), *settings.hidden, target.outputs], settings.batch_size, available_memory())
    model = build(len(card.features), settings.hidden, settings.activation, target.outputs, init_stream)
    optimizer = get_optimizer(settings.optimizer, learning_rate=settings.learning_rate)
    history = model.fit(
        inputs[train_rows], y[train_rows], loss=target.loss, optimizer=optimizer, epochs=settings.epochs,
        batch_size=settings.batch_size, validation_data=(inputs[test_rows], y[test_rows]),
        rng=shuffle_stream, callbacks=callbacks,
    )
    # The history in the target's units (fit saw the standardized target, for regression).
    square = prepared.loss_scale
    unit = 1.0 if card.y_scale is None else card.y_scale
    columns: dict[str, Sequence[float]] = {
        "epoch": list(range(1, history.epochs + 1)),
        "loss": [value * square for value in history.loss],
        "val_loss": [value * square for value in history.val_loss],
    }
    for name in ("accuracy", "r2", "rmse"):
        for column in (name, f"val_{name}"):
            if column in history.metrics:
                factor = unit if name == "rmse" else 1.0
                columns[column] = [value * factor for value in history.metrics[column]]
    metrics = {
        "train": measure(model, card, inputs[train_rows], target.y[train_rows]),
        "test": measure(model, card, inputs[test_rows], target.y[test_rows]),
    }
    return Outcome(model, card, columns, metrics, train_rows, test_rows)


BYTES_PER_NUMBER = 8
"""The network's numbers are float64."""

COPIES_PER_PARAMETER = 4
"""Each weight and bias is held four times while training: its value, its gradient, and the two
running averages Adam keeps (the most that any of ``train``'s optimizers keeps)."""

NUMBERS_PER_UNIT = 3
"""Each unit keeps three numbers per row of a pass: its pre-activation, its activation, and the
gradient flowing back through it."""


def memory_needed(sizes: Sequence[int], batch_size: int) -> tuple[int, int]:
    """An estimate, in bytes, of the memory that training a network of layer ``sizes`` needs.

    ``sizes`` are the layers' widths, inputs first and outputs last. Returns two parts:

    * the parameters: every weight and bias of the ``Dense`` layers (``inputs * outputs +
      outputs`` each), :data:`COPIES_PER_PARAMETER` times;
    * the activations: :data:`NUMBERS_PER_UNIT` numbers for each unit, for each row of the
      largest pass: a training batch, or the block of ``PREDICT_ROWS`` rows that the
      network scores at a time.

    The data is left out (it is in memory already) and so is what NumPy and Python
    themselves take: the estimate is arithmetic on the sizes alone, costs nothing, and
    is right to within a factor of about two, which is all a refusal needs.
    """
    parameters = sum(before * after + after for before, after in itertools.pairwise(sizes))
    rows = max(batch_size, PREDICT_ROWS)
    units = sum(sizes)
    return (
        parameters * COPIES_PER_PARAMETER * BYTES_PER_NUMBER,
        rows * units * NUMBERS_PER_UNIT * BYTES_PER_NUMBER,
    )


def available_memory() -> int | None:
    """The bytes of memory this machine can give now, or None where it cannot tell.

    Linux tells it in ``/proc/meminfo`` (``MemAvailable``: free memory and what the system
    can reclaim); elsewhere the physical memory (``os.sysconf``, on macOS and other Unix
    systems) is the bound; on Windows neither is known and nothing is refused.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(sizes: Sequence[int], batch_size: int, available: int | None) -> None:
    """Refuse, before any allocation, a network whose training needs more than ``available`` bytes.

    See :func:`memory_needed` for the estimate. The message gives the widest single hidden
    layer that would fit, as a guide to a size that works.
    """
    if available is None:
        return
    parameters, activations = memory_needed(sizes, batch_size)
    if parameters + activations <= available:
        return
    inputs, outputs = sizes[0], sizes[-1]
    # One hidden layer of h units: (inputs + 1 + outputs) * h parameters, and h more units per row.
    per_unit = (inputs + 1 + outputs) * COPIES_PER_PARAMETER * BYTES_PER_NUMBER
    per_unit += max(batch_size, PREDICT_ROWS) * NUMBERS_PER_UNIT * BYTES_PER_NUMBER
    widest = max(available - memory_needed([inputs, outputs], batch_size)[1], 0) // per_unit
    hidden = ",".join(str(size) for size in sizes[1:-1])
    raise CommandError(
        f"--hidden {hidden}: training this network ({inputs} inputs, {outputs} outputs) would need about "
        f"{_gib(parameters + activations)} of memory ({_gib(parameters)} for the weights, their gradients and "
        f"the optimizer's state; {_gib(activations)} for the activations of {max(batch_size, PREDICT_ROWS)} "
        f"rows at a time), and this machine has {_gib(available)} available. Use smaller layers: tens to "
        f"hundreds of units suit most tables (the default is 64,64); one hidden layer of at most about "
        f"{widest:,} units would fit."
    )


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"


def _streams(seed: int) -> list[np.random.Generator]:
    """Three independent generators from one seed: the split, the initial weights, the shuffles."""
    return np.random.default_rng(seed).spawn(3)


def build(inputs: int, hidden: Sequence[int], activation: str, outputs: int, rng: np.random.Generator) -> Sequential:
    """Dense layers of the ``hidden`` sizes with ``activation``, then a linear output layer."""
    sizes = [inputs, *hidden, outputs]
    layers = [
        Dense(before, after, activation if position < len(hidden) else None, rng=rng)
        for position, (before, after) in enumerate(itertools.pairwise(sizes))
    ]
    return Sequential(layers)
