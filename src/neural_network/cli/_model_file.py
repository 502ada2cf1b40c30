"""What a model trained by ``neural-network train`` carries, and how a table becomes its input.

The model file is an ordinary model file of the library (see
:mod:`neural_network.serialization`); the command line keeps what it needs besides the
weights in the file's metadata, under the key ``"command_line"``:

``version``
    2, the layout described here. A file of version 1 (written before text columns and
    empty cells were taken) still loads: its columns are all numbers, with no empty cell.
``task``, ``loss``
    ``"binary"`` / ``"multiclass"`` / ``"regression"``, and the loss trained with.
``columns``
    What each column of the table that the network reads becomes (a list, in input
    order): ``{"name", "kind": "number", "median", "indicator"}`` or ``{"name", "kind":
    "category", "categories"}``; see :mod:`neural_network.cli._features`. Columns are
    found by name, so a file may order them differently or hold more columns.
``features``, ``target``
    The names of the network's inputs, in order (a column of numbers by its name, its
    missing indicator as ``<name> (missing)``, a category as ``<name>=<value>``), and
    the target column.
``classes``
    Classification: the label of each class index, as in the training file (text or
    numbers); ``null`` for regression.
``x_mean``, ``x_scale``
    The standardization of the inputs (arrays, stored exactly): the network sees
    ``(x - x_mean) / x_scale``, with the training rows' mean and standard deviation for
    a column of numbers (a constant column has scale 1), and 0 and 1 for the one-hot and
    missing-indicator features, which stay 0 or 1.
``y_mean``, ``y_scale``
    Regression: the network is trained on ``(y - y_mean) / y_scale`` and its output is
    turned back into the target's units; ``null`` for classification.
``data``
    What the model was trained on (a file name, or the bundled data).
``best_epoch``, ``epochs``
    The epoch whose weights were kept (early stopping) and the epochs run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neural_network.activations import sigmoid, softmax
from neural_network.cli import _features
from neural_network.cli._errors import CommandError
from neural_network.cli._features import ColumnSpec, Counts
from neural_network.cli._table import Table
from neural_network.cli._targets import LOSSES, Label, Task, encode
from neural_network.network import Sequential
from neural_network.serialization import load_checkpoint

FloatArray = NDArray[np.floating[Any]]
"""The network's outputs (float64, or float32 for a float32 network)."""

KEY = "command_line"
VERSION = 2
VERSIONS = (1, 2)
"""The versions this module reads."""


@dataclass(frozen=True, eq=False)
class ModelCard:
    """The command line's metadata of a model: see the module's description."""

    task: Task
    loss: str
    features: tuple[str, ...]
    target: str
    classes: tuple[Label, ...] | None
    x_mean: NDArray[np.float64]
    x_scale: NDArray[np.float64]
    y_mean: float | None
    y_scale: float | None
    data: str
    columns: tuple[ColumnSpec, ...] = ()
    best_epoch: int | None = None
    epochs: int | None = None

    def metadata(self) -> dict[str, Any]:
        """The metadata to save with the model."""
        return {
            KEY: {
                "version": VERSION,
                "task": self.task,
                "loss": self.loss,
                "columns": [spec.to_json() for spec in self.columns],
                "features": list(self.features),
                "target": self.target,
                "classes": None if self.classes is None else list(self.classes),
                "x_mean": self.x_mean,
                "x_scale": self.x_scale,
                "y_mean": self.y_mean,
                "y_scale": self.y_scale,
                "data": self.data,
                "best_epoch": self.best_epoch,
                "epochs": self.epochs,
            }
        }

    @property
    def column_names(self) -> list[str]:
        """The table's columns the network reads."""
        return [spec.name for spec in self.columns]

    @property
    def plain(self) -> bool:
        """Whether every input is a column of numbers, one feature each (no category, no missing indicator)."""
        return all(spec.kind == "number" and not spec.indicator for spec in self.columns)

    # ------------------------------------------------------------------ inputs and targets

    def inputs(self, table: Table, counts: Counts | None = None) -> NDArray[np.float64]:
        """The network's standardized inputs from the columns of ``table``, found by name.

        What was imputed or unseen is added to ``counts``, where given.
        """
        table.require(self.column_names, "the model's features")
        out = np.empty((table.rows, len(self.features)), dtype=np.float64)
        found = _features.encode(table, self.columns, out)
        if counts is not None:
            counts.add(found)
        return self.standardize(out)

    def standardize(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(X - x_mean) / x_scale``, in place where ``X`` is a float64 array."""
        if X.dtype != np.float64:
            X = np.asarray(X, dtype=np.float64)
        X -= self.x_mean
        X /= self.x_scale
        return X

    def targets(self, table: Table, name: str) -> NDArray[np.int64] | NDArray[np.float64]:
        """The target column ``name`` of ``table`` as the loss takes it: class indices, or values."""
        if self.classes is None:
            return table.numbers(name)
        return encode(table.values(name), self.classes, name, "the target", first_row=table.first_row)

    # ------------------------------------------------------------------ outputs

    def predictions(self, outputs: FloatArray) -> dict[str, list[Any] | NDArray[np.float64]]:
        """The columns ``predict`` writes, from the network's outputs.

        Classification: ``prediction`` (the label of the most probable class) and
        ``probability_<label>`` for each class. Regression: ``prediction``, in the
        target's units.
        """
        if self.classes is None:
            return {"prediction": self.values(outputs)}
        probabilities = self.probabilities(outputs)
        # The largest logit (not probability, which may round to a tie) chooses, as in _metrics.
        chosen = np.argmax(outputs, axis=1) if self.task == "multiclass" else (outputs[:, 0] > 0)
        columns: dict[str, list[Any] | NDArray[np.float64]] = {
            "prediction": [self.classes[int(index)] for index in chosen]
        }
        for index, label in enumerate(self.classes):
            columns[f"probability_{label}"] = probabilities[:, index]
        return columns

    def probabilities(self, outputs: FloatArray) -> NDArray[np.float64]:
        """Each class's probability, one column per class (binary: sigmoid(-z), sigmoid(z))."""
        if self.task == "binary":
            return np.column_stack([np.asarray(sigmoid(-outputs[:, 0])), np.asarray(sigmoid(outputs[:, 0]))])
        return np.asarray(softmax(outputs, axis=1), dtype=np.float64)

    def values(self, outputs: FloatArray) -> NDArray[np.float64]:
        """Regression: the outputs in the target's units."""
        mean = 0.0 if self.y_mean is None else self.y_mean
        scale = 1.0 if self.y_scale is None else self.y_scale
        return np.asarray(outputs[:, 0] * scale + mean, dtype=np.float64)


# --------------------------------------------------------------------------- reading a model file


def load_model(path: str) -> tuple[Sequential, ModelCard]:
    """The network and its card from a file written by ``neural-network train``."""
    if not os.path.exists(path):
        raise CommandError(f"no model file {path!r}; check the path (it is the model.npz that train wrote).")
    if os.path.isdir(path):
        raise CommandError(f"MODEL {path!r} is a folder; give the model.npz file in it.")
    try:
        with open(path, "rb") as file:
            start = file.read(4)
    except OSError as error:  # no permission to read it, most often
        raise CommandError(
            f"cannot read the model file {path!r}: {error.strerror or error}. Check that you may read it "
            f"(ls -l {path}; chmod u+r gives you the right, if the file is yours)."
        ) from None
    if start != b"PK\x03\x04":  # every .npz file is a zip archive, which starts so
        raise CommandError(
            f"MODEL {path!r} is not a model file: a model file is the .npz archive that "
            "`neural-network train` writes (model.npz in its output folder)."
        )
    checkpoint = load_checkpoint(path)  # the library's clear errors for a damaged or foreign archive
    card = _card(path, checkpoint.metadata.get(KEY))
    model = checkpoint.model
    expected_outputs = len(card.classes) if card.task == "multiclass" and card.classes else 1
    if model.in_features != len(card.features) or model.out_features != expected_outputs:
        raise CommandError(
            f"{path}: the network takes {model.in_features} inputs and gives {model.out_features} outputs, "
            f"but its metadata names {len(card.features)} features and a {card.task} task; the file was edited."
        )
    return model, card


def _card(path: str, part: object) -> ModelCard:
    if not isinstance(part, dict):
        raise CommandError(
            f"{path} is a model file without the command line's metadata (feature names, standardization): "
            "it was saved by model.save, not by `neural-network train`. Train it with `neural-network train`."
        )
    version = part.get("version")
    if isinstance(version, int) and version > VERSION:
        raise CommandError(
            f"{path} was written by a newer version of neural-network (model file version {version}; this one "
            f"reads {', '.join(map(str, VERSIONS))}). Upgrade the package, or train the model again with this one."
        )
    try:
        if version not in VERSIONS or part["task"] not in LOSSES or part["loss"] != LOSSES[part["task"]]:
            raise ValueError("version, task or loss")
        features = tuple(str(name) for name in part["features"])
        if version == 1:  # every feature a column of numbers, no empty cell taken
            columns = tuple(ColumnSpec(name, "number") for name in features)
        else:
            columns = tuple(ColumnSpec.from_json(spec) for spec in part["columns"])
            if _features.feature_names(columns) != list(features):
                raise ValueError("columns and features")
        classes = None if part["classes"] is None else tuple(part["classes"])
        x_mean = np.asarray(part["x_mean"], dtype=np.float64)
        x_scale = np.asarray(part["x_scale"], dtype=np.float64)
        if x_mean.shape != (len(features),) or x_scale.shape != (len(features),):
            raise ValueError("standardization")
        regression = part["task"] == "regression"
        if regression != (classes is None):
            raise ValueError("classes")
        y_mean = float(part["y_mean"]) if regression else None
        y_scale = float(part["y_scale"]) if regression else None
        return ModelCard(
            task=part["task"], loss=part["loss"], features=features, target=str(part["target"]),
            classes=classes, x_mean=x_mean, x_scale=x_scale, y_mean=y_mean, y_scale=y_scale,
            data=str(part["data"]), columns=columns,
            best_epoch=_optional_int(part.get("best_epoch")), epochs=_optional_int(part.get("epochs")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CommandError(
            f"{path}: the command line's metadata in the model file is incomplete or damaged ({error}); "
            "train the model again."
        ) from None


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("epochs")
    return value
