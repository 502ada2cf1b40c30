"""The work of ``neural-network train``: split, encode, standardize, build, fit, measure.

* **Split.** The rows are shuffled with the seed and a fraction ``test_split`` is held
  out to test, class by class for classification (each class keeps its share in both
  parts); the test rows are touched once, at the end (``test_split`` 0: none are held
  out, and nothing is measured on test rows). A fraction ``validation_split`` of
  the rest (stratified alike) is the validation data of ``fit``: their loss after each
  epoch is the history's ``val_loss``, which early stopping watches. The remaining rows
  train.
* **Encode.** Each column becomes features as :mod:`neural_network.cli._features` says
  (one-hot categories, imputed numbers), learned on the training rows only.
* **Standardize.** Each column of numbers is shifted and scaled by the training rows'
  mean and standard deviation (a constant one only shifted); for regression the target
  too. The numbers are stored in the model (see :mod:`neural_network.cli._model_file`).
* **Build.** ``Dense`` layers of the ``hidden`` sizes with the activation and ``init`` (each followed
  by ``Dropout`` with ``--dropout``), then a linear layer of one output (binary,
  regression) or one per class (multiclass).
* **Fit** with the task's loss (see :data:`neural_network.cli._targets.LOSSES`), stopping
  early when the validation loss has not improved for ``patience`` epochs and keeping
  the weights of the best epoch.
* **Measure** the kept model on the three parts, batch by batch (see
  :mod:`neural_network.cli._metrics`).

The data is held once, as one float64 array whose rows are in the order training,
validation, test: ``fit`` and the measures read views of it, never copies. It is filled
column by column as the table read from the file gives its columns up.

One seed drives everything (the split, the initial weights and the shuffles, from
three independent streams): the same command gives the same model, bit for bit.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neural_network.cli import _features
from neural_network.cli._errors import CommandError
from neural_network.cli._metrics import measure
from neural_network.cli._model_file import ModelCard
from neural_network.cli._targets import Target
from neural_network.errors import NonFiniteError
from neural_network.layers import Dense
from neural_network.network import PREDICT_ROWS, Sequential
from neural_network.optimizers import OPTIMIZERS, get_optimizer
from neural_network.training import Callback, EarlyStopping, fit

PARTS = ("train", "validation", "test")
"""The parts of the rows, in the order the data array holds them."""


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
    validation_split: float = 0.2
    early_stopping: bool = True
    patience: int = 10
    weight_decay: float = 0.0
    dropout: float = 0.0
    class_weight: str | None = None
    init: str = "auto"


@dataclass(frozen=True, eq=False)
class Outcome:
    """A trained model with its card, its history (columns of ``history.csv``) and its metrics."""

    model: Sequential
    card: ModelCard
    history: dict[str, Sequence[float]]
    metrics: dict[str, dict[str, float]]
    rows: dict[str, int]
    best_epoch: int | None
    """The epoch (from 1) whose weights were kept, with early stopping; None without."""
    stopped_early: bool

    @property
    def epochs(self) -> int:
        return len(self.history["epoch"])


@dataclass(frozen=True)
class Split:
    """Row indices (each sorted) of the three parts."""

    train: NDArray[np.intp]
    validation: NDArray[np.intp]
    test: NDArray[np.intp]

    @property
    def order(self) -> NDArray[np.intp]:
        """Every row, in the order the data array holds them: training, validation, test."""
        return np.concatenate([self.train, self.validation, self.test]).astype(np.intp)


def split_rows(
    target: Target, test_fraction: float, validation_fraction: float, generator: np.random.Generator
) -> Split:
    """The three parts, stratified by class for classification: a fraction ``test_fraction`` of the
    rows to test (0: none), a fraction ``validation_fraction`` of the others to validate, the rest to
    train."""
    count = len(target.y)
    if target.classes is None:
        groups = [np.arange(count)]
    else:
        groups = [np.flatnonzero(target.y == index) for index in range(len(target.classes))]
    parts: list[list[NDArray[np.intp]]] = [[], [], []]
    for group in groups:
        shuffled = generator.permutation(group)
        held = round(test_fraction * len(group))
        rest = shuffled[held:]
        validating = round(validation_fraction * len(rest))
        parts[0].append(rest[validating:])
        parts[1].append(rest[:validating])
        parts[2].append(shuffled[:held])
    train, validation, test = (np.sort(np.concatenate(part)).astype(np.intp) for part in parts)
    if (test_fraction > 0 and test.size == 0) or train.size + validation.size == 0:
        raise CommandError(
            f"--test-split {test_fraction} of {count} rows leaves {train.size + validation.size} to train and "
            f"{test.size} to test; both need at least one row. Use a file with more rows, or another --test-split."
        )
    if train.size == 0 or (validation_fraction > 0 and validation.size == 0):
        raise CommandError(
            f"--validation-split {validation_fraction} of the {train.size + validation.size} rows left after the "
            f"test split leaves {train.size} to train and {validation.size} to validate; both need at least one "
            "row. Use a file with more rows, another --validation-split, or --validation-split 0 with "
            "--no-early-stopping."
        )
    return Split(train, validation, test)


def scale_of(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The mean and standard deviation of each column; a constant column gets scale 1."""
    mean = np.mean(values, axis=0)
    std = np.std(values, axis=0)
    constant = (np.max(values, axis=0) == np.min(values, axis=0)) | (std == 0)
    return mean, np.where(constant, 1.0, std)


@dataclass(frozen=True, eq=False)
class Prepared:
    """The data made ready to fit: the card, the standardized inputs and the targets ``fit`` sees
    (standardized for regression), both with their rows in the order training, validation, test."""

    card: ModelCard
    inputs: NDArray[np.float64]
    y: NDArray[np.int64] | NDArray[np.float64]
    labels: NDArray[np.int64] | NDArray[np.float64]
    """The targets in their own units (class indices, or values), in the same order."""
    rows: dict[str, int]
    counts: _features.Counts = field(default_factory=_features.Counts)

    @property
    def loss_scale(self) -> float:
        """What turns a loss on the standardized target into the target's units (1 for classification)."""
        return 1.0 if self.card.y_scale is None else self.card.y_scale**2

    def part(self, name: str) -> slice:
        """The rows of a part (``"train"``, ``"validation"`` or ``"test"``) in the arrays."""
        start = 0
        for part in PARTS:
            if part == name:
                return slice(start, start + self.rows[part])
            start += self.rows[part]
        raise KeyError(name)


def prepare(
    table: Any, target: Target, split: Split, learned: _features.Learned, *, target_name: str, data: str
) -> Prepared:
    """Encode the columns of ``table`` (a ``_table.Table``) into one float64 array, rows in the split's
    order, and standardize it in place with the training rows' numbers. The table's columns are
    dropped as they are encoded."""
    order = split.order
    specs = learned.specs
    # Column-major: each feature is written whole while the table's column it comes from is
    # dropped, so the data is held about once (batches are gathered row by row, C-ordered).
    inputs = np.empty((len(order), _features.width(specs)), dtype=np.float64, order="F")
    counts = _features.encode(table, specs, inputs, order, release=True)
    training = inputs[: split.train.size]
    x_mean = np.zeros(inputs.shape[1])
    x_scale = np.ones(inputs.shape[1])
    position = 0
    for spec in specs:
        if spec.kind == "number":
            mean, scale = scale_of(training[:, position : position + 1])
            x_mean[position], x_scale[position] = mean[0], scale[0]
        position += spec.width
    labels = target.y[order]
    y = labels
    y_mean = y_scale = None
    if target.task == "regression":
        values = np.asarray(labels, dtype=np.float64)
        mean, scale = scale_of(values[: split.train.size].reshape(-1, 1))
        y_mean, y_scale = float(mean[0]), float(scale[0])
        y = (values - y_mean) / y_scale
    card = ModelCard(
        task=target.task, loss=target.loss, features=tuple(_features.feature_names(specs)), target=target_name,
        classes=target.classes, x_mean=x_mean, x_scale=x_scale, y_mean=y_mean, y_scale=y_scale, data=data,
        columns=tuple(specs),
    )
    card.standardize(inputs)
    rows = {"train": int(split.train.size), "validation": int(split.validation.size), "test": int(split.test.size)}
    return Prepared(card, inputs, y, labels, rows, counts)


class _Epochs(Callback):
    """Counts the epochs done, and stops a run whose validation loss is not a finite number."""

    def __init__(self) -> None:
        self.done = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Sequential) -> bool:
        self.done = epoch + 1
        if not np.isfinite(logs.get("val_loss", 0.0)) or not np.isfinite(logs["loss"]):
            raise NonFiniteError(f"the loss became {logs.get('val_loss')} in epoch {epoch + 1}")
        return False


def train(prepared: Prepared, target: Target, settings: Settings, callbacks: Sequence[Callback] = ()) -> Outcome:
    """Build the network, fit it on the training rows (validating on the validation rows), and measure it."""
    _, init_stream, shuffle_stream = streams(settings.seed)
    card, inputs, y = prepared.card, prepared.inputs, prepared.y
    check_memory([len(card.features), *settings.hidden, target.outputs], settings.batch_size, available_memory())
    model = build(
        len(card.features), settings.hidden, settings.activation, target.outputs, init_stream,
        dropout=settings.dropout, init=settings.init,
    )
    options: dict[str, Any] = {"learning_rate": settings.learning_rate}
    if settings.weight_decay:
        options["weight_decay"] = settings.weight_decay
        if "decoupled_weight_decay" in inspect.signature(OPTIMIZERS[settings.optimizer]).parameters:
            options["decoupled_weight_decay"] = True  # as AdamW, for every optimizer
    optimizer = get_optimizer(settings.optimizer, **options)
    fit_options: dict[str, Any] = {}
    if settings.class_weight is not None:
        if "class_weight" not in inspect.signature(fit).parameters:
            raise CommandError("--class-weight needs a version of the library whose fit takes class_weight.")
        fit_options["class_weight"] = settings.class_weight
    train_part, validation_part = prepared.part("train"), prepared.part("validation")
    validating = prepared.rows["validation"] > 0
    stopper = EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True)
    epochs = _Epochs()
    watchers = [*callbacks, epochs, *([stopper] if settings.early_stopping and validating else [])]
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            history = fit(
                model, inputs[train_part], y[train_part], loss=target.loss, optimizer=optimizer, epochs=settings.epochs,
                batch_size=settings.batch_size,
                validation_data=(inputs[validation_part], y[validation_part]) if validating else None,
                rng=shuffle_stream, callbacks=watchers, **fit_options,
            )
    except NonFiniteError:
        raise CommandError(
            f"training diverged in epoch {epochs.done + 1}: the loss stopped being a finite number, so nothing "
            f"was saved. Lower --learning-rate (now {settings.learning_rate:g}; try "
            f"{settings.learning_rate / 10:g}); the features are standardized already"
            + (" (the target too)" if target.task == "regression" else "")
            + ", so check the data for extreme values, or use --optimizer adam."
        ) from None
    # The history in the target's units (fit saw the standardized target, for regression).
    square = prepared.loss_scale
    unit = 1.0 if card.y_scale is None else card.y_scale
    columns: dict[str, Sequence[float]] = {
        "epoch": list(range(1, history.epochs + 1)),
        "loss": [value * square for value in history.loss],
    }
    if validating:
        columns["val_loss"] = [value * square for value in history.val_loss]
    for name in ("accuracy", "r2", "rmse"):
        for column in (name, f"val_{name}"):
            if column in history.metrics:
                factor = unit if name == "rmse" else 1.0
                columns[column] = [value * factor for value in history.metrics[column]]
    best = None if history.best_epoch is None else history.best_epoch + 1
    card = replace(card, best_epoch=best, epochs=history.epochs)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        metrics = {
            part: measure(model, card, inputs[prepared.part(part)], prepared.labels[prepared.part(part)])
            for part in PARTS
            if prepared.rows[part]
        }
    return Outcome(model, card, columns, metrics, dict(prepared.rows), best, history.stopped_early)


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
        f"hundreds of units suit most tables (the default is one layer of 32; 64,64 is two of 64); one hidden layer of at most about "
        f"{widest:,} units would fit."
    )


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"


def streams(seed: int) -> list[np.random.Generator]:
    """Three independent generators from one seed: the split, the initial weights, the shuffles."""
    return np.random.default_rng(seed).spawn(3)


def build(
    inputs: int, hidden: Sequence[int], activation: str, outputs: int, rng: np.random.Generator,
    *, dropout: float = 0.0, init: str = "auto",
) -> Sequential:
    """Dense layers of the ``hidden`` sizes with ``activation`` (each followed by dropout of rate
    ``dropout``, if above 0), then a linear output layer; ``init`` is ``Dense``'s initialization."""
    sizes = [inputs, *hidden, outputs]
    layers: list[Any] = []
    for position, (before, after) in enumerate(itertools.pairwise(sizes)):
        hidden_layer = position < len(hidden)
        layers.append(Dense(before, after, activation if hidden_layer else None, init=init, rng=rng))
        if hidden_layer and dropout > 0:
            layers.append(_dropout_layer(dropout, rng))
    return Sequential(layers)


def _dropout_layer(rate: float, rng: np.random.Generator) -> Any:
    """The library's ``Dropout(rate, rng=...)`` layer."""
    dropout = getattr(importlib.import_module("neural_network.layers"), "Dropout", None)
    if dropout is None:
        raise CommandError("--dropout needs a version of the library with the Dropout layer.")
    return dropout(rate, rng=rng)
