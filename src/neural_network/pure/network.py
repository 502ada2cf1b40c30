"""Article 4: forward propagation through a network of layers; then training it.

A network is a list of layers, the outputs of each the inputs of the next.
:meth:`Sequential.forward` runs them in order; :meth:`Sequential.backward` runs
backpropagation in the reverse order; :meth:`Sequential.fit` repeats

    forward -> loss -> gradient of the loss -> backward -> optimizer step

over shuffled mini-batches, which is all that training is. It is the NumPy edition's
``fit``, step for step: the same shuffling of the samples every epoch, the same
batches, the loss as the mean over each batch, and the history as the mean loss of
each epoch, so both editions train alike.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Mapping, Sequence
from typing import Any

from neural_network.errors import (
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)
from neural_network.pure import _checks
from neural_network.pure._checks import Matrix
from neural_network.pure.layer import Dense
from neural_network.pure.losses import FLAT_LOSSES, cross_entropy_step
from neural_network.pure.optimizers import SGD

__all__ = ["LOSSES", "Sequential"]

LOSSES = ("mean_squared_error", "binary_cross_entropy", "cross_entropy")
"""The losses :meth:`Sequential.fit` takes by name."""


class Sequential:
    """A feed-forward network: the output of each layer is the input of the next.

    Parameters
    ----------
    layers : list of Dense
        At least one; each layer's ``in_features`` must equal the previous layer's
        ``out_features``.

    Examples
    --------
    >>> from neural_network.pure import Dense, SGD, make_xor
    >>> X, y = make_xor()
    >>> network = Sequential([Dense(2, 8, "tanh", rng=0), Dense(8, 1, "sigmoid", rng=1)])
    >>> history = network.fit(X, y, loss="binary_cross_entropy", optimizer=SGD(0.5),
    ...                       epochs=500, batch_size=4, rng=0)
    >>> history[-1] < history[0]
    True
    >>> [round(row[0]) for row in network.predict(X)]
    [0, 1, 1, 0]
    """

    def __init__(self, layers: Sequence[Dense]) -> None:
        if not isinstance(layers, Sequence) or isinstance(layers, Dense):
            raise InvalidTypeError(f"Sequential: layers must be a list of Dense layers; got {describe(layers)}.")
        self.layers = list(layers)
        if not self.layers:
            raise InvalidOptionError("Sequential: layers must hold at least one layer; got none.")
        for position, layer in enumerate(self.layers):
            if not isinstance(layer, Dense):
                raise InvalidTypeError(f"Sequential: layer {position} must be a Dense layer; got {describe(layer)}.")
        for position, (before, after) in enumerate(zip(self.layers, self.layers[1:], strict=False)):
            if before.out_features != after.in_features:
                raise ShapeMismatchError(
                    f"Sequential: layer {position} gives {before.out_features} outputs but layer "
                    f"{position + 1} takes {after.in_features} inputs; make them equal, e.g. "
                    f"Dense({before.out_features}, {after.out_features})."
                )

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    @property
    def parameter_count(self) -> int:
        return sum(layer.parameter_count for layer in self.layers)

    # ------------------------------------------------------------------ propagation

    def forward(self, X: Sequence[Sequence[float]]) -> Matrix:
        """Forward propagation of a batch (one row per sample), keeping what backpropagation needs."""
        return self._forward(self._inputs("Sequential.forward", X))

    def predict(self, X: Sequence[Sequence[float]]) -> Matrix:
        """The network's outputs for ``X``, one row per sample, keeping nothing."""
        return self._forward(self._inputs("Sequential.predict", X), keep=False)

    def backward(self, grad_output: Sequence[Sequence[float]]) -> Matrix:
        """Backpropagation: fill every layer's gradients from ``dL/d(output)``; return ``dL/dX``."""
        last = self.layers[-1]
        if last._pre_activation is None:
            raise InvalidInputError("Sequential.backward: call forward first; there is nothing to propagate back.")
        grad = _checks.matrix("Sequential.backward", "grad_output", grad_output, columns=self.out_features)
        _checks.same_shape(
            "Sequential.backward", "grad_output", grad, (len(last._pre_activation), self.out_features),
            " It is dL/d(output): the shape of the last forward output.",
        )
        for layer in reversed(self.layers):
            grad = layer._backward(grad)
        return grad

    def _forward(self, X: Matrix, keep: bool = True) -> Matrix:
        for layer in self.layers:
            X = layer._forward(X, keep)
        return X

    def _backward_parameters(self, grad: Matrix) -> None:
        """Backpropagation for training: the first layer needs no gradient of the data."""
        first, *rest = self.layers
        for layer in reversed(rest):
            grad = layer._backward(grad)
        first._delta(grad)

    def _inputs(self, func: str, X: object) -> Matrix:
        return _checks.matrix(func, "X", X, columns=self.in_features, what=" (one row per sample)")

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: Sequence[Sequence[float]],
        y: Sequence[float] | Sequence[Sequence[float]],
        *,
        loss: str = "mean_squared_error",
        optimizer: SGD | None = None,
        epochs: int = 1000,
        batch_size: int = 32,
        rng: random.Random | int | None = None,
    ) -> list[float]:
        """Train by mini-batch gradient descent; return the mean training loss of every epoch.

        Parameters
        ----------
        X : list of rows
            One row of ``in_features`` numbers per sample.
        y : list
            The targets: a number per sample for a network with one output, else a row of
            ``out_features`` numbers per sample; class indices (0 to ``out_features - 1``)
            for ``loss="cross_entropy"``.
        loss : {"mean_squared_error", "binary_cross_entropy", "cross_entropy"}
            The mean over the batch (over every output, for the first two).
            ``"binary_cross_entropy"`` needs a sigmoid last layer; ``"cross_entropy"``
            a linear one with an output per class (it applies the softmax itself).
        optimizer : SGD, optional
            ``SGD()`` (learning rate 0.1) if not given.
        epochs, batch_size : int
            Passes over the data (default 1000), and samples per step (default 32; the
            last batch of an epoch may be smaller).
        rng : int or random.Random, optional
            Shuffles the samples every epoch; a seed gives the same training every time.
        """
        func = "Sequential.fit"
        name = _checks.choice(func, "loss", loss, LOSSES)
        epochs = _checks.positive_integer(func, "epochs", epochs)
        batch_size = _checks.positive_integer(func, "batch_size", batch_size)
        generator = _checks.generator(func, rng)
        if optimizer is None:
            optimizer = SGD()
        elif not isinstance(optimizer, SGD):
            raise InvalidTypeError(f"{func}: optimizer must be an SGD of the pure edition; got {describe(optimizer)}.")
        inputs = self._inputs(func, X)
        count = len(inputs)
        if name == "cross_entropy":
            labels = self._labels(func, y, count)
        else:
            targets = self._targets(func, name, y, count)
        history: list[float] = []
        for epoch in range(epochs):
            order = list(range(count))
            generator.shuffle(order)
            total = 0.0
            for start in range(0, count, batch_size):
                batch = order[start : start + batch_size]
                outputs = self._forward([inputs[i] for i in batch])
                if name == "cross_entropy":
                    value, gradient = cross_entropy_step([labels[i] for i in batch], outputs)
                else:
                    value, flat = FLAT_LOSSES[name](
                        [t for i in batch for t in targets[i]], [a for row in outputs for a in row]
                    )
                    width = self.out_features
                    gradient = [flat[k : k + width] for k in range(0, len(flat), width)]
                if not math.isfinite(value):
                    raise NonFiniteError(
                        f"{func}: the training loss became {value} in epoch {epoch + 1}: the network "
                        f"diverged. Lower the learning rate (now {optimizer.learning_rate}), or scale X "
                        "(and y for regression) to values near 1."
                    )
                total += value * len(batch)
                self._backward_parameters(gradient)
                optimizer.step(self.layers)
            history.append(total / count)
        return history

    def _targets(self, func: str, name: str, y: object, count: int) -> Matrix:
        if name == "binary_cross_entropy" and self.layers[-1].activation != "sigmoid":
            raise InvalidOptionError(
                f"{func}: loss='binary_cross_entropy' needs probabilities, so a last layer with "
                f"activation='sigmoid'; this one is {self.layers[-1].activation!r}. Use Dense(..., "
                "activation='sigmoid') last, or loss='mean_squared_error'."
            )
        if (
            self.out_features == 1
            and isinstance(y, Sequence)
            and all(isinstance(v, numbers.Real) for v in y)
        ):
            y = [[v] for v in y]
        rows = _checks.matrix(func, "y", y, columns=self.out_features, what=" (one row of targets per sample)")
        if len(rows) != count:
            raise ShapeMismatchError(f"{func}: y must have one target per sample of X ({count}); got {len(rows)}.")
        if name == "binary_cross_entropy":
            for index, row in enumerate(rows):
                if not all(0.0 <= t <= 1.0 for t in row):
                    raise OutOfRangeError(
                        f"{func}: y must hold labels in [0, 1] for binary_cross_entropy; got {row} at index "
                        f"{index}. For other targets use loss='mean_squared_error'."
                    )
        return rows

    def _labels(self, func: str, y: object, count: int) -> list[int]:
        if self.layers[-1].activation != "identity" or self.out_features < 2:
            raise InvalidOptionError(
                f"{func}: loss='cross_entropy' needs a linear last layer with one output per class "
                f"(it applies the softmax itself); this one is Dense(..., {self.out_features}, "
                f"activation={self.layers[-1].activation!r}). Use Dense(hidden, classes) last."
            )
        return _checks.class_indices(func, "y", y, self.out_features, count)

    # ------------------------------------------------------------------ exchange

    def to_dict(self) -> dict[str, Any]:
        """The network as plain data (strings, ints, lists of floats), e.g. for ``json.dumps``.

        The layers are described as in the NumPy edition's model file, with their
        weights and bias as lists: ``{"class": "Sequential", "layers": [{"class":
        "Dense", "in_features": 2, "out_features": 8, "activation": "tanh", "init":
        "glorot", "weights": [[...], [...]], "bias": [...]}, ...]}``.
        :func:`neural_network.pure.to_numpy` turns it into the NumPy edition's network.
        """
        return {
            "class": "Sequential",
            "layers": [
                {
                    "class": "Dense",
                    "in_features": layer.in_features,
                    "out_features": layer.out_features,
                    "activation": layer.activation,
                    "init": layer.init,
                    "weights": [list(row) for row in layer.weights],
                    "bias": list(layer.bias),
                }
                for layer in self.layers
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sequential:
        """The network that :meth:`to_dict` describes (every field checked)."""
        func = "Sequential.from_dict"
        if not isinstance(data, Mapping) or not isinstance(data.get("layers"), list):
            raise InvalidTypeError(
                f"{func}: data must be a dict with a list 'layers', as to_dict() returns; got {describe(data)}."
            )
        if data.get("class", "Sequential") != "Sequential":
            raise InvalidInputError(f"{func}: data describes a {data['class']!r}, not a 'Sequential'.")
        layers = []
        for position, spec in enumerate(data["layers"]):
            where = f"{func}: layers[{position}]"
            if not isinstance(spec, Mapping):
                raise InvalidTypeError(f"{where} must be a dict; got {describe(spec)}.")
            missing = sorted(_REQUIRED - set(spec))
            unknown = sorted(set(spec) - _REQUIRED - _OPTIONAL)
            if missing or unknown:
                raise InvalidInputError(
                    f"{where} must have the keys {sorted(_REQUIRED)} (and optionally {sorted(_OPTIONAL)}); "
                    f"missing {missing}, unknown {unknown}."
                )
            if spec.get("class", "Dense") != "Dense":
                raise InvalidInputError(f"{where} is a {spec['class']!r}; the pure edition has Dense layers only.")
            if spec.get("dtype", "float64") not in ("float64", "float32"):
                raise InvalidInputError(f"{where}: dtype must be 'float64' or 'float32'; got {spec['dtype']!r}.")
            layer = Dense(
                spec["in_features"], spec["out_features"], spec["activation"], rng=0, init=spec.get("init", "auto")
            )
            layer.weights = spec["weights"]
            layer.bias = spec["bias"]
            layers.append(layer)
        return cls(layers)

    def __repr__(self) -> str:
        rows = [f"  ({position}) {layer!r}" for position, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(rows) + f"\n)  total: {self.parameter_count} parameters"


_REQUIRED = frozenset({"in_features", "out_features", "activation", "weights", "bias"})
_OPTIONAL = frozenset({"class", "init", "dtype"})
