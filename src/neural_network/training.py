"""Training: mini-batch gradient descent, the ``History`` it records, and callbacks.

One step of training is the whole pipeline of the articles and what they promise next:
forward propagation, the loss, its gradient, backpropagation, and the optimizer's update.
``fit`` repeats it over shuffled mini-batches for a number of epochs.

``fit`` also speaks the dialects of Keras and scikit-learn: optimizers by name with
Keras's default learning rates (:data:`DEFAULT_LEARNING_RATES`), Keras's and
scikit-learn's loss names (:data:`LOSS_ALIASES`), ``validation_split``, ``class_weight``
(:func:`class_weights`) and ``History.history``.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from neural_network import _validation
from neural_network import losses as _losses
from neural_network._epoch_metrics import (
    BINARY_LOSSES,
    CLASS_INDEX_LOSSES,
    CLASSIFICATION_LOSSES,
    EpochMetrics,
    epoch_metrics,
)
from neural_network._last_finite import LastFinite, diverged, settled
from neural_network.errors import (
    InvalidInputError,
    InvalidOptionError,
    ShapeMismatchError,
    describe,
)
from neural_network.layers import Dense
from neural_network.losses._training import MEAN_VALUE_AND_GRAD, MeanValueAndGrad, training_loss
from neural_network.optimizers import Optimizer, get_optimizer

if TYPE_CHECKING:
    from neural_network.network import Sequential

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "LOSS_ALIASES",
    "Callback",
    "ClassWeight",
    "EarlyStopping",
    "History",
    "class_weights",
    "fit",
    "resolve_loss",
]

LossFunction = Callable[..., Any]
ClassWeight = Literal["balanced"] | Mapping[Any, float] | None
"""``fit``'s ``class_weight``: ``"balanced"``, a mapping of class to weight, or None."""


DEFAULT_LEARNING_RATES = {"adam": 0.001, "adamw": 0.001, "rmsprop": 0.001, "sgd": 0.01}
"""The learning rate of an optimizer that ``fit`` creates from its name: Keras's defaults."""

LOSS_ALIASES = {
    "mse": "mse_loss",
    "mean_squared_error": "mse_loss",
    "squared_error": "mse_loss",
    "mae": "l1_loss",
    "mean_absolute_error": "l1_loss",
    "absolute_error": "l1_loss",
    "huber": "huber_loss",
    "binary_crossentropy": "binary_cross_entropy_with_logits",
    "log_loss": "binary_cross_entropy_with_logits",
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
}
"""Keras's and scikit-learn's loss names, and the loss of this package each stands for.

``binary_crossentropy`` and ``log_loss`` are ``binary_cross_entropy`` (on probabilities)
for a network whose last layer has the sigmoid activation, as in Keras's default
(``from_logits=False``), and ``binary_cross_entropy_with_logits`` for a linear last
layer, as this package recommends (Keras's ``from_logits=True``). ``log_loss`` of a network
with several outputs, and ``categorical_crossentropy`` and
``sparse_categorical_crossentropy``, are ``cross_entropy``, which takes logits (leave the
last layer linear: the softmax is part of the loss) and class indices; ``fit`` turns the
one-hot rows of ``categorical_crossentropy`` into indices. ``mse`` is ``mse_loss``,
``mae`` ``l1_loss``, ``huber`` ``huber_loss`` (delta 1, as Keras's ``Huber``).
"""


# --------------------------------------------------------------------------- what training records


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch.

    ``loss`` is the mean training loss over the epoch's samples (each batch's mean loss
    weighted by its size, while the weights changed); ``val_loss`` the loss on the
    validation data after the epoch. ``metrics`` maps ``"accuracy"`` (classification)
    or ``"r2"`` and ``"rmse"`` (regression), and their ``"val_"`` twins, to per-epoch values;
    the training metrics, like the loss, are measured on each batch as the weights change.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)

    @property
    def history(self) -> dict[str, list[float]]:
        """Everything measured, as Keras's ``History.history``: a dict of per-epoch lists,
        ``"loss"``, the training metrics, then ``"val_loss"`` and the validation metrics
        (those measured only). The lists are those of this object, not copies.

        >>> h = History(loss=[0.5, 0.25], metrics={"accuracy": [0.75, 1.0]})
        >>> h.history
        {'loss': [0.5, 0.25], 'accuracy': [0.75, 1.0]}
        """
        result = {"loss": self.loss}
        result.update((name, values) for name, values in self.metrics.items() if not name.startswith("val_"))
        if self.val_loss:
            result["val_loss"] = self.val_loss
        result.update((name, values) for name, values in self.metrics.items() if name.startswith("val_"))
        return result

    def record(self, name: str, value: float) -> None:
        self.metrics.setdefault(name, []).append(value)


# --------------------------------------------------------------------------- callbacks


class Callback:
    """A hook into ``fit``; subclasses override what they need.

    ``on_epoch_end`` receives the epoch number (from 0) and the values measured
    (``"loss"``, ``"val_loss"``, metrics); returning True stops training.
    """

    def on_train_begin(self, model: Sequential) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Sequential) -> bool:
        """Called after every epoch; return True to stop training."""
        return False

    def on_train_end(self, model: Sequential) -> None:
        """Called once after the last epoch."""


class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for ``patience`` epochs.

    With ``restore_best_weights`` the model ends with the weights of its best epoch,
    bit for bit (a copy of them is kept each time the monitored value improves).

    Parameters
    ----------
    monitor : str
        ``"val_loss"`` (default; needs validation data), ``"loss"``, or a metric name.
    patience : int
        Epochs without improvement after which training stops (as Keras counts them).
    min_delta : float
        The smallest change that counts as an improvement.
    mode : {"min", "max"}
        Whether lower or higher is better (``"max"`` for accuracy and R²).
    """

    def __init__(
        self,
        *,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best_weights: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise InvalidOptionError(f"EarlyStopping: patience must be a non-negative integer; got {patience!r}.")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0 and math.isfinite(min_delta)):
            raise InvalidOptionError(f"EarlyStopping: min_delta must be a finite number >= 0; got {min_delta!r}.")
        if mode not in ("min", "max"):
            raise InvalidOptionError(f"EarlyStopping: mode must be 'min' or 'max'; got {mode!r}.")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, float(min_delta), mode
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._best_values: list[NDArray[np.floating]] = []
        self._waited = 0

    def on_train_begin(self, model: Sequential) -> None:
        self.best, self.best_epoch, self._best_values, self._waited = None, None, [], 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Sequential) -> bool:
        if self.monitor not in logs:
            raise InvalidOptionError(
                f"EarlyStopping: monitor={self.monitor!r} is not measured; measured are "
                f"{', '.join(sorted(logs))}. Monitoring 'val_loss' needs validation_data."
            )
        value = logs[self.monitor]
        improved = self.best is None or (
            value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        )
        if improved:
            self.best, self.best_epoch, self._waited = value, epoch, 0
            if self.restore_best_weights:
                self._best_values = [parameter.value.copy() for parameter in model.parameters()]
            return False
        self._waited += 1
        return self._waited >= self.patience  # as Keras: stop after `patience` epochs without improvement

    def on_train_end(self, model: Sequential) -> None:
        if self.restore_best_weights and self._best_values:
            for parameter, best in zip(model.parameters(), self._best_values, strict=True):
                parameter.value[...] = best


# --------------------------------------------------------------------------- losses and metrics


def _loss_names() -> list[str]:
    return sorted(
        name
        for name in _losses.__all__
        if hasattr(_losses, f"{name}_grad") and callable(getattr(_losses, name))
    )


def resolve_loss(
    loss: str | tuple[LossFunction, LossFunction], model: Sequential | None = None
) -> tuple[str, LossFunction, LossFunction]:
    """The name, value function and gradient function of a loss given by name or as a pair.

    A name is one of the package's losses (``"mse_loss"``, ``"cross_entropy"``, ...) or a
    Keras or scikit-learn name of one (:data:`LOSS_ALIASES`); the name returned is the
    package's. Where an alias depends on the network (``binary_crossentropy``,
    ``log_loss``), ``model`` decides; without one, the forms on logits are chosen. An
    unknown name gets the closest known names as suggestions.
    """
    if isinstance(loss, str):
        names = _loss_names()
        name = _alias(loss, model) if loss in LOSS_ALIASES else loss
        if name not in names:
            close = difflib.get_close_matches(loss, [*names, *LOSS_ALIASES], n=3, cutoff=0.6)
            suggestion = (
                f"Did you mean {' or '.join(map(repr, close))}?"
                if close
                else "Common choices: 'mse_loss' (regression), 'binary_cross_entropy_with_logits' "
                "(two classes), 'cross_entropy' (several classes)."
            )
            raise InvalidOptionError(
                f"fit: loss must be one of the {len(names)} losses of neural_network.losses, a Keras or "
                f"scikit-learn name of one, or a (value, grad) pair; got {loss!r}. {suggestion}"
            )
        return name, getattr(_losses, name), getattr(_losses, f"{name}_grad")
    if isinstance(loss, tuple) and len(loss) == 2 and all(callable(part) for part in loss):
        return "custom", loss[0], loss[1]
    raise InvalidOptionError(
        f"fit: loss must be a loss name such as 'mse_loss', or a (value, grad) pair of functions; got {loss!r}."
    )


def _alias(alias: str, model: Sequential | None) -> str:
    """The package's loss for a Keras or scikit-learn name, for this network (see LOSS_ALIASES)."""
    if model is None or alias not in ("binary_crossentropy", "log_loss"):
        return LOSS_ALIASES[alias]
    if alias == "log_loss" and model.out_features > 1:
        return "cross_entropy"
    last = next(layer for layer in reversed(model.layers) if isinstance(layer, Dense))
    return "binary_cross_entropy" if last.activation == "sigmoid" else "binary_cross_entropy_with_logits"


# --------------------------------------------------------------------------- the loop


_GATHER_ROWS = 1024
"""``fit`` copies the rows of its shuffled batches out of the training data this many at a time."""

_FIT_OPTIONS = (
    "loss", "optimizer", "epochs", "batch_size", "validation_data", "validation_split",
    "class_weight", "learning_rate", "rng", "callbacks",
)
_RENAMED_OPTIONS = {
    "lr": "learning_rate",
    "learning_rate_init": "learning_rate",
    "eta": "learning_rate",
    "nb_epoch": "epochs",
    "n_epochs": "epochs",
    "max_iter": "epochs",
    "validation_fraction": "validation_split",
    "random_state": "rng",
    "seed": "rng",
}


def fit(
    model: Sequential,
    X: object,
    y: object,
    *,
    loss: str | tuple[LossFunction, LossFunction],
    optimizer: Optimizer | str,
    epochs: int,
    batch_size: int = 32,
    validation_data: tuple[object, object] | None = None,
    validation_split: float = 0.0,
    class_weight: ClassWeight = None,
    learning_rate: float | None = None,
    rng: np.random.Generator | int | None = None,
    callbacks: Sequence[Callback] = (),
    **unexpected: object,
) -> History:
    """Train ``model`` by mini-batch gradient descent; see :meth:`Sequential.fit`.

    Everything is checked here, once: the data, the targets against the loss, the
    options. Each step then runs on trusted arrays, with the loss's fused value and
    gradient (:func:`neural_network.losses._training.training_loss`).
    """
    _refuse_unexpected(unexpected)
    name, value_fn, grad_fn = resolve_loss(loss, model)
    epochs = _validation.positive_integer("fit", "epochs", epochs)
    batch_size = _validation.positive_integer("fit", "batch_size", batch_size)
    generator = _validation.generator("fit", rng)
    optimizer = _resolve_optimizer(optimizer, learning_rate)
    split = _check_split(validation_split, validation_data)
    inputs = model.check_inputs("fit", X)
    if inputs.shape[0] == 0:
        raise InvalidInputError("fit: X has no rows; expected at least one sample to train on.")
    one_hot = loss == "categorical_crossentropy"
    targets = _check_targets(model, name, value_fn, inputs, _labels(y, one_hot, "y"), "y")
    validation = None
    if split:
        inputs, targets, validation = _split(inputs, targets, split)
    elif validation_data is not None:
        if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
            raise InvalidOptionError("fit: validation_data must be a pair (X_val, y_val).")
        val_inputs = model.check_inputs("fit", validation_data[0])
        if val_inputs.shape[0] == 0:
            raise InvalidInputError(
                "fit: validation_data has no rows; expected at least one sample, or validation_data=None."
            )
        val_targets = _labels(validation_data[1], one_hot, "y_val")
        validation = (val_inputs, _check_targets(model, name, value_fn, val_inputs, val_targets, "y_val"))
    weights = class_weights(name, class_weight, targets, model.out_features, dtype=model.dtype)
    step_loss = training_loss(name, targets) or _pair(value_fn, grad_fn)
    weighted_loss = _weighted_pair(value_fn, grad_fn)
    # Every check has passed: from here on, fit changes the model.
    if name != "custom":
        model.loss = name
    for layer in model.dropout_layers:
        if layer.rng is None:  # seeded from fit's generator, before the first shuffle
            layer.rng = np.random.default_rng(int(generator.integers(2**63)))

    history = History()
    parameters = model.parameters()
    last_finite = LastFinite(model)
    for callback in callbacks:
        callback.on_train_begin(model)
    count = inputs.shape[0]
    forward, backward = model._training_passes()
    gather = batch_size * max(1, _GATHER_ROWS // batch_size)  # whole batches, about _GATHER_ROWS rows
    for epoch in range(epochs):
        order = generator.permutation(count)
        step = optimizer._stepper(parameters)
        total = 0.0
        running = EpochMetrics(name, targets)
        classes = running.batches(count, model.out_features)
        # A diverging step overflows: the next loss (or, after the last step, the
        # weights) tells, and the error below says so, without NumPy's warnings.
        swapping = False  # from the step that binds the optimizer's flat arrays on (see LastFinite)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), settled(last_finite):
            for first in range(0, count, gather):
                # The rows of several batches gathered at once (one pass of NumPy's copy
                # over scattered rows waits less on memory than one pass per batch); each
                # batch is then a slice of them, holding the same rows in the same order.
                rows = order[first : first + gather]
                chunk_inputs, chunk_targets = inputs[rows], targets[rows]
                chunk_weights = None if weights is None else weights[rows]
                for start in range(0, rows.size, batch_size):
                    end = start + batch_size
                    outputs, target = forward(chunk_inputs[start:end]), chunk_targets[start:end]
                    if chunk_weights is None:
                        batch_loss, gradient = step_loss(outputs, target)
                    else:
                        batch_loss, gradient = weighted_loss(outputs, target, chunk_weights[start:end])
                    if not math.isfinite(batch_loss):
                        diverged(last_finite, parameters, optimizer, f"the training loss became {batch_loss}", epoch)
                    if classes:
                        running.predict(outputs, first + start)
                    else:
                        running.add(outputs, target)
                    total += batch_loss * target.shape[0]
                    backward(gradient)
                    if swapping:
                        last_finite.swap(step)
                    else:
                        last_finite.keep()
                        step()
                        swapping = step.fused is not None and last_finite.swaps(step.fused[0])
            if not last_finite.holds_finite():
                diverged(last_finite, parameters, optimizer, "the weights stopped being finite numbers", epoch)
        running.compare(targets[order], count)
        logs = {"loss": total / count}
        history.loss.append(logs["loss"])
        logs.update(running.results())
        if validation is not None:
            val_outputs = model._predict(validation[0])
            logs["val_loss"] = float(value_fn(val_outputs, validation[1]))
            history.val_loss.append(logs["val_loss"])
            for metric, measured in epoch_metrics(name, val_outputs, validation[1]).items():
                logs[f"val_{metric}"] = measured
        for metric, measured in logs.items():
            if metric not in ("loss", "val_loss"):
                history.record(metric, measured)
        stop = [callback.on_epoch_end(epoch, logs, model) for callback in callbacks]
        if any(stop):
            history.stopped_early = True
            break
    for callback in callbacks:
        callback.on_train_end(model)
        if isinstance(callback, EarlyStopping):
            history.best_epoch = callback.best_epoch
    return history


def _refuse_unexpected(unexpected: dict[str, object]) -> None:
    """A clear error for an option fit does not take (PyTorch's ``lr=``, a typo, ...)."""
    for option in unexpected:
        if option in _RENAMED_OPTIONS:
            right = _RENAMED_OPTIONS[option]
            example = (
                " With an optimizer by name, fit(..., optimizer='adam', learning_rate=0.01); "
                "or set it on the optimizer, Adam(learning_rate=0.01)."
                if right == "learning_rate"
                else ""
            )
            raise InvalidOptionError(f"fit: there is no option {option}=; it is called {right}= here.{example}")
        close = difflib.get_close_matches(option, _FIT_OPTIONS, n=2, cutoff=0.6)
        hint = f" Did you mean {' or '.join(f'{c}=' for c in close)}?" if close else ""
        raise InvalidOptionError(
            f"fit: unexpected option {option}=; fit takes {', '.join(f'{o}=' for o in _FIT_OPTIONS)}.{hint}"
        )


def _resolve_optimizer(optimizer: object, learning_rate: float | None) -> Optimizer:
    """``optimizer`` itself, or a new one of that name with ``learning_rate`` (Keras's default if None)."""
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            raise InvalidOptionError(
                f"fit: learning_rate= is for an optimizer given by name; got it with {optimizer!r}, "
                f"which has its own learning rate. Set it there, e.g. "
                f"{type(optimizer).__name__}(learning_rate={learning_rate!r}), or pass the name "
                f"{type(optimizer).__name__.lower()!r}."
            )
        return optimizer
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in DEFAULT_LEARNING_RATES:
            close = difflib.get_close_matches(key, DEFAULT_LEARNING_RATES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidOptionError(
                f"fit: optimizer must be an Optimizer, e.g. Adam(0.001), or one of the names "
                f"{', '.join(map(repr, DEFAULT_LEARNING_RATES))} (any case); got {optimizer!r}.{hint}"
            )
        rate = DEFAULT_LEARNING_RATES[key] if learning_rate is None else learning_rate
        return get_optimizer(key, learning_rate=rate)
    raise InvalidOptionError(
        f"fit: optimizer must be an Optimizer, e.g. Adam(0.001), or a name such as 'adam'; "
        f"got {describe(optimizer)}."
    )


def _check_split(validation_split: object, validation_data: object) -> float:
    """``validation_split`` as a float in (0, 1), or 0.0 for none."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise InvalidOptionError(
            f"fit: validation_split must be a fraction in [0, 1), e.g. 0.2; got {describe(validation_split)}."
        )
    split = float(validation_split)
    if not 0.0 <= split < 1.0:
        raise InvalidOptionError(
            f"fit: validation_split must be a fraction in [0, 1), the share of the rows held out, "
            f"e.g. 0.2; got {validation_split!r}."
        )
    if split and validation_data is not None:
        raise InvalidOptionError(
            "fit: give validation_data or validation_split, not both; validation_split holds out "
            "the last rows of X and y, validation_data brings its own rows."
        )
    return split


def _split(
    inputs: NDArray[np.floating], targets: NDArray[Any], split: float
) -> tuple[NDArray[np.floating], NDArray[Any], tuple[NDArray[np.floating], NDArray[Any]]]:
    """The first rows to train on and the last ``split`` of them to validate with (Keras's rule)."""
    rows = inputs.shape[0]
    cut = math.floor(rows * (1.0 - split))
    if cut < 1 or cut >= rows:
        raise InvalidOptionError(
            f"fit: validation_split={split!r} of {rows} rows leaves {cut} to train on and {rows - cut} "
            "to validate; both need at least one. Use a fraction that splits the rows, or more rows."
        )
    return inputs[:cut], targets[:cut], (inputs[cut:], targets[cut:])


def _labels(y: object, one_hot: bool, argument: str) -> object:
    """The class indices of one-hot rows (``categorical_crossentropy``); ``y`` otherwise."""
    if not one_hot:
        return y
    labels = np.asarray(y)
    if labels.ndim != 2:
        return y  # class indices already: cross_entropy takes them as they are
    if labels.dtype.kind not in "biuf" or not np.all((labels == 0) | (labels == 1)) or not np.all(
        np.count_nonzero(labels, axis=1) == 1
    ):
        raise InvalidInputError(
            f"fit: with loss='categorical_crossentropy', {argument} must hold one-hot rows (a single 1 in "
            f"each row, 0 elsewhere) or class indices; got rows that are not one-hot. For soft labels, "
            "call cross_entropy(logits, probabilities) in your own loop."
        )
    return np.argmax(labels, axis=1)


def _class_key(key: object) -> int | None:
    """A class_weight key as a class index: an integer, or a float that is a whole number (0.0, 1.0)."""
    if isinstance(key, (bool, np.bool_)):
        return None
    if isinstance(key, numbers.Integral):
        return int(key)
    if isinstance(key, (float, np.floating)) and float(key).is_integer():
        return int(key)
    return None


def class_weights(
    loss: str,
    class_weight: object,
    targets: NDArray[Any],
    classes: int,
    *,
    dtype: np.dtype[Any] | type[np.floating] = np.float64,
) -> NDArray[np.floating] | None:
    """Each sample's weight under ``class_weight``, the weight of its class; None for None.

    Parameters
    ----------
    loss : str
        A classification loss: ``"cross_entropy"`` or ``"nll_loss"`` (targets are class
        indices), ``"binary_cross_entropy"`` or ``"binary_cross_entropy_with_logits"`` with
        one output (targets are labels 0 or 1).
    class_weight : "balanced", mapping or None
        ``"balanced"``: class ``c`` weighs ``n_samples / (n_classes * count_c)``, with the
        classes that occur in ``targets`` (scikit-learn's ``compute_class_weight``). A
        mapping of class to a weight >= 0; the classes it leaves out weigh 1.
    targets : ndarray
        The checked targets: shape (N,) for class indices, (N, 1) for binary labels.
    classes : int
        The network's outputs (the number of classes for class indices).

    Returns
    -------
    ndarray or None
        Shape (N,) for class indices, (N, 1) for binary labels, in ``dtype``.
    """
    if class_weight is None:
        return None
    if loss not in CLASSIFICATION_LOSSES or (loss in BINARY_LOSSES and classes != 1):
        raise InvalidOptionError(
            f"fit: class_weight is for classification: the losses cross_entropy and nll_loss, or "
            f"binary_cross_entropy(_with_logits) with one output; got the loss {loss!r} with "
            f"{classes} output(s). Leave class_weight=None."
        )
    binary = loss in BINARY_LOSSES
    labels = targets.reshape(-1)
    if binary and not bool(np.all((labels == 0) | (labels == 1))):
        raise InvalidInputError(
            "fit: class_weight needs hard labels, each 0 or 1; got soft labels between. "
            "Leave class_weight=None, or round the labels."
        )
    indices = labels.astype(np.intp)
    known = 2 if binary else classes
    table = np.ones(known, dtype=np.float64)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise InvalidOptionError(
                f"fit: class_weight must be 'balanced', a dict of class to weight, or None; got {class_weight!r}."
            )
        counts = np.bincount(indices, minlength=known)
        present = counts > 0
        table[present] = labels.size / (int(np.count_nonzero(present)) * counts[present])
    elif isinstance(class_weight, Mapping):
        for key, weight in class_weight.items():
            position = _class_key(key)
            if position is None or not 0 <= position < known:
                raise InvalidOptionError(
                    f"fit: class_weight has the key {key!r}; its keys must be the classes 0 to {known - 1}"
                    f"{' (the labels 0 and 1)' if binary else ''}."
                )
            if (
                isinstance(weight, bool)
                or not isinstance(weight, numbers.Real)
                or not math.isfinite(float(weight))
                or float(weight) < 0
            ):
                raise InvalidOptionError(
                    f"fit: class_weight[{key!r}] must be a finite number >= 0; got {describe(weight)}."
                )
            table[position] = float(weight)
    else:
        raise InvalidOptionError(
            f"fit: class_weight must be 'balanced', a dict of class to weight, or None; got {describe(class_weight)}."
        )
    weights = table[indices].astype(dtype)
    if not np.any(weights > 0):
        raise InvalidOptionError("fit: class_weight gives every training sample the weight 0; nothing would be learned.")
    return weights.reshape(targets.shape) if binary else weights


def _pair(value_fn: LossFunction, grad_fn: LossFunction) -> MeanValueAndGrad:
    """A (value, grad) pair of functions as one step function."""

    def step_loss(outputs: NDArray[np.floating], targets: NDArray[Any]) -> tuple[float, NDArray[np.floating]]:
        return float(value_fn(outputs, targets)), np.asarray(grad_fn(outputs, targets))

    return step_loss


WeightedValueAndGrad = Callable[[NDArray[np.floating], NDArray[Any], NDArray[np.floating]], tuple[float, Any]]


def _weighted_pair(value_fn: LossFunction, grad_fn: LossFunction) -> WeightedValueAndGrad:
    """The public value and gradient functions with the batch's sample weights (class weights)."""

    def step_loss(
        outputs: NDArray[np.floating], targets: NDArray[Any], weights: NDArray[np.floating]
    ) -> tuple[float, NDArray[np.floating]]:
        value = float(value_fn(outputs, targets, sample_weight=weights))
        return value, np.asarray(grad_fn(outputs, targets, sample_weight=weights))

    return step_loss


def _check_targets(
    model: Sequential,
    loss_name: str,
    value_fn: LossFunction,
    inputs: NDArray[np.floating],
    y: object,
    argument: str,
) -> NDArray[Any]:
    """The targets as an array aligned with the model's outputs, checked once, not per batch.

    Beyond their shape, a loss of the package checks them itself (labels in [0, 1],
    class indices in range, ...): it is called once on neutral outputs.
    """
    targets = _aligned_targets(model, loss_name, inputs, y, argument)
    if loss_name in MEAN_VALUE_AND_GRAD and targets.shape[0] > 0:
        shape = (targets.shape[0], model.out_features)
        try:
            value_fn(np.full(shape, 0.5, dtype=model.dtype), targets)
        except InvalidInputError as error:
            raise type(error)(f"fit: {argument} does not fit the loss {loss_name!r}. {error}") from None
        if loss_name in CLASS_INDEX_LOSSES and int(np.min(targets)) < 0:
            raise InvalidInputError(
                f"fit: {argument} must hold class indices 0 to {model.out_features - 1}; got "
                f"{int(np.min(targets))}. fit does not ignore samples: drop those rows first."
            )
    return targets


def _aligned_targets(
    model: Sequential, loss_name: str, inputs: NDArray[np.floating], y: object, argument: str
) -> NDArray[Any]:
    targets = np.asarray(y)
    if targets.dtype.kind not in "biuf":
        raise InvalidInputError(f"fit: {argument} must be numeric; got dtype {targets.dtype}.")
    if targets.shape[:1] != inputs.shape[:1]:
        raise ShapeMismatchError(
            f"fit: {argument} must have one row per sample of X ({inputs.shape[0]}); got shape {targets.shape}."
        )
    if loss_name in CLASS_INDEX_LOSSES:
        if targets.ndim != 1:
            raise ShapeMismatchError(
                f"fit: with {loss_name}, {argument} must hold one class index per sample, shape "
                f"({inputs.shape[0]},); got {targets.shape}. One-hot rows? Use y.argmax(axis=1)."
            )
        return targets
    if targets.ndim == 1 and model.out_features == 1:
        targets = targets.reshape(-1, 1)  # a single-output model: y of shape (N,) is the usual form
    if targets.shape[1:] != (model.out_features,):
        raise ShapeMismatchError(
            f"fit: {argument} must have shape (N, {model.out_features}) to match the model's "
            f"{model.out_features} outputs; got {targets.shape}."
        )
    return targets.astype(model.dtype)
