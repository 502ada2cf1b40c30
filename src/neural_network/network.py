"""``Sequential``: layers applied one after another, forward and backward.

Input is validated once, at the network's entrance; the layers then work on plain,
trusted NumPy arrays, which keeps a training step free of per-layer overhead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from neural_network import _validation
from neural_network._validation import REAL
from neural_network.errors import InvalidInputError, InvalidOptionError, ShapeMismatchError
from neural_network.layers import Dense
from neural_network.parameters import Parameter

if TYPE_CHECKING:
    from neural_network.optimizers import Optimizer
    from neural_network.training import Callback, History, LossFunction

FloatArray = NDArray[np.floating]

__all__ = ["Sequential"]

PREDICT_ROWS = 512
"""``predict`` evaluates the network on blocks of exactly this many rows (see ``_predict``)."""


class Sequential:
    """A feed-forward network: the output of each layer is the input of the next.

    Parameters
    ----------
    layers : sequence of Dense
        At least one layer; each layer's ``in_features`` must equal the previous
        layer's ``out_features``.

    Examples
    --------
    >>> model = Sequential([Dense(4, 8, "relu", rng=0), Dense(8, 1, rng=1)])
    >>> model.forward(np.zeros((5, 4))).shape
    (5, 1)
    >>> model.parameter_count
    49
    """

    def __init__(self, layers: Sequence[Dense]) -> None:
        self.layers = list(layers)
        if not self.layers:
            raise InvalidOptionError("Sequential: layers must hold at least one layer; got none.")
        for position, layer in enumerate(self.layers):
            if not isinstance(layer, Dense):
                raise InvalidOptionError(
                    f"Sequential: layer {position} must be a Dense layer; got {type(layer).__name__}."
                )
        for position, (before, after) in enumerate(zip(self.layers, self.layers[1:], strict=False)):
            if before.out_features != after.in_features:
                raise ShapeMismatchError(
                    f"Sequential: layer {position} gives {before.out_features} outputs but layer "
                    f"{position + 1} takes {after.in_features} inputs; make them equal, e.g. "
                    f"Dense({before.out_features}, {after.out_features})."
                )
        dtypes = {layer.dtype for layer in self.layers}
        if len(dtypes) != 1:
            raise InvalidOptionError(f"Sequential: all layers must share one dtype; got {sorted(map(str, dtypes))}.")
        self.dtype = self.layers[0].dtype
        self._pack_parameters()

    def _pack_parameters(self) -> None:
        """Keep every parameter in one flat array, and every gradient in another.

        Each layer's ``weights`` and ``bias`` become views of their part of the flat
        array (their values are unchanged). An optimizer can then update the whole
        network in one pass of a few array operations rather than a few per parameter,
        which is most of the cost of a step for a small network; see
        ``Optimizer._fused``.
        """
        parameters = self.parameters()
        total = sum(parameter.size for parameter in parameters)
        values = np.empty(total, dtype=self.dtype)
        grads = np.empty(total, dtype=self.dtype)
        start = 0
        for parameter in parameters:
            stop, shape = start + parameter.size, parameter.value.shape
            values[start:stop] = parameter.value.reshape(-1)
            grads[start:stop] = parameter.grad.reshape(-1)
            parameter.value = values[start:stop].reshape(shape)
            parameter.grad = grads[start:stop].reshape(shape)
            start = stop

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    # ------------------------------------------------------------------ propagation

    def forward(self, X: object) -> FloatArray:
        """Forward propagation through every layer, keeping what backpropagation needs."""
        return self._forward(self.check_inputs("Sequential.forward", X))

    def backward(self, grad_output: object) -> FloatArray:
        """Backpropagation: from d(loss)/d(output) fill every layer's gradients.

        Returns d(loss)/d(X), the gradient with respect to the network's input.
        """
        gradient = np.asarray(grad_output, dtype=self.dtype)
        expected = self.layers[-1].output_shape
        if expected is None:
            raise InvalidInputError("Sequential.backward: call forward first; there is nothing to propagate back.")
        if gradient.shape != expected:
            raise ShapeMismatchError(
                f"Sequential.backward: grad_output must have the shape of the last forward output "
                f"{expected}; got {gradient.shape}."
            )
        return self._backward(gradient)

    def predict(self, X: object) -> FloatArray:
        """The network's output for ``X``, without keeping anything for backpropagation."""
        return self._predict(self.check_inputs("Sequential.predict", X))

    # The trusted paths: arrays already checked (by the methods above, or once by fit).

    def _forward(self, X: FloatArray) -> FloatArray:
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def _backward(self, gradient: FloatArray) -> FloatArray:
        for layer in reversed(self.layers):
            gradient = layer.backward(gradient)
        return gradient

    def _backward_parameters(self, gradient: FloatArray) -> None:
        """Backpropagation for training: the parameters' gradients only.

        The gradient with respect to the data is never needed to train, so the first
        layer skips it (one matrix product of the step's four or six).
        """
        first, *rest = self.layers
        for layer in reversed(rest):
            gradient = layer.backward(gradient)
        first._delta(gradient)

    def _predict(self, X: FloatArray) -> FloatArray:
        """The outputs, each row's independent of the other rows and of ``X``'s memory layout.

        BLAS picks its matrix-product kernel by the matrices' shapes and layout (OpenBLAS
        has one for small products, and a matrix-vector one for a single row), and
        kernels sum in different orders: the same row scored in batches of other sizes
        would differ in its last bits. So every block of ``PREDICT_ROWS`` rows is copied
        into one C-ordered work array of that shape, the last one padded with zeros, and
        every layer always multiplies matrices of the same shapes; within one kernel
        each row is summed alike wherever it lies.
        """
        rows = X.shape[0]
        block = np.zeros((PREDICT_ROWS, *X.shape[1:]), dtype=X.dtype)
        outputs = np.empty((rows, self.out_features), dtype=self.dtype)
        for start in range(0, max(rows, 1), PREDICT_ROWS):
            count = min(PREDICT_ROWS, rows - start)
            block[:count] = X[start : start + count]
            block[count:] = 0.0
            result = block
            for layer in self.layers:
                result = layer.predict(result)
            outputs[start : start + count] = result[:count]
        return outputs

    def check_inputs(self, func: str, X: object) -> FloatArray:
        """``X`` as a finite array of shape (N, in_features) in the network's dtype."""
        xp, device = _validation.namespace(func, X=X)
        if not _validation.is_numpy_namespace(xp):
            raise InvalidInputError(f"{func}: X must be a NumPy array or a list; got {type(X).__name__}.")
        array = np.asarray(_validation.as_real_array(func, "X", X, xp, device), dtype=self.dtype)
        if array.ndim != 2 or array.shape[1] != self.in_features:
            hint = ""
            if array.ndim == 1 and array.shape[0] == self.in_features:
                hint = " A single sample? Use X.reshape(1, -1)."
            elif array.ndim == 2 and array.shape[0] == self.in_features:
                hint = " Samples in columns? Use X.T."
            raise ShapeMismatchError(
                f"{func}: X must have shape (N, {self.in_features}), one row per sample; got "
                f"{array.shape}.{hint}"
            )
        _validation.check_values(func, "X", array, np, REAL)
        return array

    # ------------------------------------------------------------------ training

    def fit(
        self,
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
        """Train by mini-batch gradient descent; return the per-epoch :class:`History`.

        Each epoch shuffles the samples with ``rng`` (a generator or a seed: the same
        seed gives the same training, bit for bit) and, for every batch, runs forward
        propagation, the loss gradient, backpropagation and ``optimizer.step``.

        Parameters
        ----------
        X : array_like, shape (N, in_features)
        y : array_like
            Targets: ``(N, out_features)``, or ``(N,)`` for a single-output model; class
            indices ``(N,)`` for ``cross_entropy``.
        loss : str or (value, grad) pair
            A loss of the package by name (``"mse_loss"``,
            ``"binary_cross_entropy_with_logits"``, ``"cross_entropy"``, ...), or two
            functions ``value(outputs, targets)`` and ``grad(outputs, targets)``.
        optimizer : Optimizer
            E.g. ``Adam(0.001)``; it updates the model's parameters in place.
        epochs, batch_size : int
        validation_data : (X_val, y_val), optional
            Measured after every epoch (``val_loss`` and metrics).
        rng : numpy.random.Generator or int, optional
        callbacks : sequence of Callback
            E.g. ``EarlyStopping(patience=5)``, or a progress display.
        """
        from neural_network.training import fit

        return fit(
            self, X, y, loss=loss, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
            validation_data=validation_data, rng=rng, callbacks=callbacks,
        )

    # ------------------------------------------------------------------ saving

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        optimizer: Optimizer | None = None,
        rng: np.random.Generator | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the network to ``path`` (an ``.npz`` file), without pickle; see
        :func:`neural_network.serialization.save`. With ``optimizer`` (and the shuffling
        ``rng``) saved too, :func:`neural_network.serialization.load_checkpoint` resumes
        training bit for bit."""
        from neural_network.serialization import save

        save(self, path, optimizer=optimizer, rng=rng, metadata=metadata)

    # ------------------------------------------------------------------ parameters

    def parameters(self) -> list[Parameter]:
        """Every trainable parameter, layer by layer (weights, then bias)."""
        return [parameter for layer in self.layers for parameter in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """The parameters with their names in the network, ``"0.weights"``, ``"0.bias"``, ..."""
        return [
            (f"{position}.{parameter.name}", parameter)
            for position, layer in enumerate(self.layers)
            for parameter in layer.parameters()
        ]

    @property
    def parameter_count(self) -> int:
        return sum(parameter.size for parameter in self.parameters())

    def __repr__(self) -> str:
        rows = [
            f"  ({position}) {layer!r:<40} {layer.parameter_count:>10,} parameters"
            for position, layer in enumerate(self.layers)
        ]
        return "Sequential(\n" + "\n".join(rows) + f"\n)  total: {self.parameter_count:,} parameters"
