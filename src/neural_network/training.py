"""Training: mini-batch gradient descent, the ``History`` it records, and callbacks.

One step of training is the whole pipeline of the articles and what they promise next:
forward propagation, the loss, its gradient, backpropagation, and the optimizer's update.
``fit`` repeats it over shuffled mini-batches for a number of epochs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from neural_network import _validation
from neural_network import losses as _losses
from neural_network.errors import InvalidInputError, InvalidOptionError, NonFiniteError, ShapeMismatchError
from neural_network.losses._training import MEAN_VALUE_AND_GRAD, MeanValueAndGrad

if TYPE_CHECKING:
    from neural_network.network import Sequential
    from neural_network.optimizers import Optimizer
    from neural_network.parameters import Parameter

__all__ = ["Callback", "EarlyStopping", "History", "fit", "resolve_loss"]

LossFunction = Callable[..., Any]
_CLASS_INDEX_LOSSES = frozenset({"cross_entropy", "nll_loss"})
_CLASSIFICATION_LOSSES = _CLASS_INDEX_LOSSES | {"binary_cross_entropy", "binary_cross_entropy_with_logits"}


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

    With ``restore_best_weights`` the model ends with the weights of its best epoch.

    Parameters
    ----------
    monitor : str
        ``"val_loss"`` (default; needs validation data), ``"loss"``, or a metric name.
    patience : int
        Epochs without improvement to wait before stopping.
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
        return self._waited > self.patience

    def on_train_end(self, model: Sequential) -> None:
        if self.restore_best_weights and self._best_values:
            for parameter, best in zip(model.parameters(), self._best_values, strict=True):
                parameter.value[...] = best


# --------------------------------------------------------------------------- losses and metrics


def resolve_loss(loss: str | tuple[LossFunction, LossFunction]) -> tuple[str, LossFunction, LossFunction]:
    """The name, value function and gradient function of a loss given by name or as a pair."""
    if isinstance(loss, str):
        names = sorted(name for name in _losses.__all__ if not name.endswith("_grad") and name != "Reduction")
        if loss not in names:
            raise InvalidOptionError(f"fit: loss must be one of {', '.join(names)}, or a (value, grad) pair; got {loss!r}.")
        return loss, getattr(_losses, loss), getattr(_losses, f"{loss}_grad")
    if isinstance(loss, tuple) and len(loss) == 2 and all(callable(part) for part in loss):
        return "custom", loss[0], loss[1]
    raise InvalidOptionError(
        f"fit: loss must be a loss name such as 'mse_loss', or a (value, grad) pair of functions; got {loss!r}."
    )


class _Metrics:
    """Accuracy (classification losses) or R² and RMSE (the others), summed batch by batch.

    During an epoch the training metrics are measured on each batch's outputs as the
    weights change, as the training loss is (and as Keras does): measuring them again
    on the whole training set after the epoch would cost another forward pass over it.
    """

    def __init__(self, loss_name: str, targets: NDArray[Any]) -> None:
        self.loss_name = loss_name
        self.correct = 0
        self.squared_error = 0.0
        self.count = 0
        self.elements = 0
        # R² compares the squared error with that of always predicting the mean target.
        self.spread = float(np.sum((targets - np.mean(targets, axis=0)) ** 2)) if targets.size else 0.0

    def add(self, outputs: NDArray[np.floating], targets: NDArray[Any]) -> None:
        self.count += outputs.shape[0]
        if self.loss_name in _CLASS_INDEX_LOSSES:
            self.correct += int(np.count_nonzero(np.argmax(outputs, axis=1) == targets))
        elif self.loss_name == "binary_cross_entropy_with_logits":
            self.correct += int(np.count_nonzero((outputs > 0) == (targets > 0.5)))
        elif self.loss_name == "binary_cross_entropy":
            self.correct += int(np.count_nonzero((outputs > 0.5) == (targets > 0.5)))
        elif self.loss_name != "custom":
            self.squared_error += float(np.sum((targets - outputs) ** 2))
            self.elements += outputs.size

    def results(self) -> dict[str, float]:
        if self.loss_name == "custom":
            return {}
        if self.loss_name in _CLASSIFICATION_LOSSES:
            return {"accuracy": self.correct / self.count if self.count else math.nan}
        return {
            "r2": 1.0 - self.squared_error / self.spread if self.spread > 0 else math.nan,
            "rmse": math.sqrt(self.squared_error / self.elements) if self.elements else math.nan,
        }


def _metrics(name: str, outputs: NDArray[np.floating], targets: NDArray[Any]) -> dict[str, float]:
    """The metrics of ``outputs`` against ``targets`` in one go (the validation data)."""
    metrics = _Metrics(name, targets)
    metrics.add(outputs, targets)
    return metrics.results()


# --------------------------------------------------------------------------- the loop


def fit(
    model: Sequential,
    X: object,
    y: object,
    *,
    loss: str | tuple[LossFunction, LossFunction],
    optimizer: Optimizer,
    epochs: int,
    batch_size: int = 32,
    validation_data: tuple[object, object] | None = None,
    rng: np.random.Generator | int | None = None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``model`` by mini-batch gradient descent; see :meth:`Sequential.fit`."""
    name, value_fn, grad_fn = resolve_loss(loss)
    epochs = _validation.positive_integer("fit", "epochs", epochs)
    batch_size = _validation.positive_integer("fit", "batch_size", batch_size)
    generator = _validation.generator("fit", rng)
    inputs = model.check_inputs("fit", X)
    if inputs.shape[0] == 0:
        raise InvalidInputError("fit: X has no rows; expected at least one sample to train on.")
    targets = _check_targets(model, name, value_fn, inputs, y, "y")
    validation = None
    if validation_data is not None:
        if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
            raise InvalidOptionError("fit: validation_data must be a pair (X_val, y_val).")
        val_inputs = model.check_inputs("fit", validation_data[0])
        if val_inputs.shape[0] == 0:
            raise InvalidInputError(
                "fit: validation_data has no rows; expected at least one sample, or validation_data=None."
            )
        validation = (val_inputs, _check_targets(model, name, value_fn, val_inputs, validation_data[1], "y_val"))
    step_loss = MEAN_VALUE_AND_GRAD.get(name) or _pair(value_fn, grad_fn)

    history = History()
    parameters = model.parameters()
    last_finite = _Snapshot(parameters)
    for callback in callbacks:
        callback.on_train_begin(model)
    count = inputs.shape[0]
    for epoch in range(epochs):
        order = generator.permutation(count)
        total = 0.0
        running = _Metrics(name, targets)
        for start in range(0, count, batch_size):
            batch = order[start : start + batch_size]
            # A diverging step overflows: the next loss (or, after the last step, the
            # weights) tells, and the error below says so, without NumPy's warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                outputs, target = model._forward(inputs[batch]), targets[batch]
                batch_loss, gradient = step_loss(outputs, target)
                if not math.isfinite(batch_loss):
                    _diverged(last_finite, parameters, optimizer, f"the training loss became {batch_loss}", epoch)
                running.add(outputs, target)
                total += batch_loss * batch.size
                model._backward_parameters(gradient)
                last_finite.keep(parameters)
                optimizer.step(parameters)
        if not last_finite.holds_finite(parameters):
            _diverged(last_finite, parameters, optimizer, "the weights stopped being finite numbers", epoch)
        logs = {"loss": total / count}
        history.loss.append(logs["loss"])
        logs.update(running.results())
        if validation is not None:
            val_outputs = model._predict(validation[0])
            logs["val_loss"] = float(value_fn(val_outputs, validation[1]))
            history.val_loss.append(logs["val_loss"])
            for metric, measured in _metrics(name, val_outputs, validation[1]).items():
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


class _Snapshot:
    """The weights before the latest step: the last ones whose loss was finite.

    A copy a step (about 6 microseconds for a 50-128-128-1 network), so that a
    diverging step can be undone before ``fit`` raises.
    """

    def __init__(self, parameters: list[Parameter]) -> None:
        self.values = [parameter.value.copy() for parameter in parameters]

    def keep(self, parameters: list[Parameter]) -> None:
        for saved, parameter in zip(self.values, parameters, strict=True):
            np.copyto(saved, parameter.value)

    def restore(self, parameters: list[Parameter]) -> None:
        for saved, parameter in zip(self.values, parameters, strict=True):
            np.copyto(parameter.value, saved)

    @staticmethod
    def holds_finite(parameters: list[Parameter]) -> bool:
        return all(bool(np.isfinite(parameter.value).all()) for parameter in parameters)


def _diverged(
    last_finite: _Snapshot, parameters: list[Parameter], optimizer: Optimizer, what: str, epoch: int
) -> NoReturn:
    last_finite.restore(parameters)
    raise NonFiniteError(
        f"fit: {what} in epoch {epoch + 1}: the model diverged. The weights are back to those "
        f"before the step that diverged. Lower the learning rate (now {optimizer.learning_rate}), "
        "standardize X (and y for regression), or check the data for extreme values."
    )


def _pair(value_fn: LossFunction, grad_fn: LossFunction) -> MeanValueAndGrad:
    """A (value, grad) pair of functions as one step function."""

    def step_loss(outputs: NDArray[np.floating], targets: NDArray[Any]) -> tuple[float, NDArray[np.floating]]:
        return float(value_fn(outputs, targets)), np.asarray(grad_fn(outputs, targets))

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
        if loss_name in _CLASS_INDEX_LOSSES and int(np.min(targets)) < 0:
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
    if loss_name in _CLASS_INDEX_LOSSES:
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
