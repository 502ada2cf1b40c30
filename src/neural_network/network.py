"""``Sequential``: layers applied one after another, forward and backward.

Input is validated once, at the network's entrance; the layers then work on plain,
trusted NumPy arrays, which keeps a training step free of per-layer overhead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from neural_network import _validation
from neural_network._validation import REAL
from neural_network.activations import sigmoid, softmax
from neural_network.errors import InvalidInputError, InvalidOptionError, ShapeMismatchError
from neural_network.layers import Dense, Dropout, Layer
from neural_network.parameters import Parameter

if TYPE_CHECKING:
    from neural_network.optimizers import Optimizer
    from neural_network.training import Callback, ClassWeight, History, LossFunction

FloatArray = NDArray[np.floating]

__all__ = ["Sequential"]

PREDICT_ROWS = 512
"""``predict`` evaluates the network on blocks of exactly this many rows (see ``_predict``)."""


_PROBABILITY_LOSSES = ("binary_cross_entropy_with_logits", "binary_cross_entropy", "cross_entropy", "nll_loss")


class Sequential:
    """A feed-forward network: the output of each layer is the input of the next.

    Parameters
    ----------
    layers : sequence of Dense and Dropout
        At least one ``Dense`` layer; each ``Dense`` layer's ``in_features`` must equal
        the previous ``Dense`` layer's ``out_features`` (a ``Dropout`` keeps the width).

    Attributes
    ----------
    loss : str or None
        The name of the loss the network was trained with (set by :meth:`fit`, saved
        with the model); :meth:`predict_proba` reads it. None until then; set it by hand
        (``model.loss = "cross_entropy"``) for a network trained elsewhere.

    Calling the network is predicting: ``model(X)`` is ``model.predict(X)``.

    Examples
    --------
    >>> model = Sequential([Dense(4, 8, "relu", rng=0), Dense(8, 1, rng=1)])
    >>> model.forward(np.zeros((5, 4))).shape
    (5, 1)
    >>> model.parameter_count
    49
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise InvalidOptionError("Sequential: layers must hold at least one layer; got none.")
        for position, layer in enumerate(self.layers):
            if not isinstance(layer, (Dense, Dropout)):
                raise InvalidOptionError(
                    f"Sequential: layer {position} must be a Dense or Dropout layer; got {type(layer).__name__}."
                )
        dense = [(position, layer) for position, layer in enumerate(self.layers) if isinstance(layer, Dense)]
        if not dense:
            raise InvalidOptionError(
                "Sequential: layers must hold at least one Dense layer; got only Dropout layers, which "
                "have nothing to train."
            )
        for (position, before), (after_position, after) in itertools.pairwise(dense):
            if before.out_features != after.in_features:
                raise ShapeMismatchError(
                    f"Sequential: layer {position} gives {before.out_features} outputs but layer "
                    f"{after_position} takes {after.in_features} inputs; make them equal, e.g. "
                    f"Dense({before.out_features}, {after.out_features})."
                )
        self._first_dense = dense[0][0]
        width = dense[0][1].in_features
        for layer in self.layers:
            if isinstance(layer, Dense):
                width = layer.out_features
            else:
                layer._features = width  # a Dropout passes on the width it receives
        dtypes = {layer.dtype for _, layer in dense}
        if len(dtypes) != 1:
            raise InvalidOptionError(f"Sequential: all layers must share one dtype; got {sorted(map(str, dtypes))}.")
        self.dtype = dense[0][1].dtype
        self._dense = [layer for _, layer in dense]
        self.loss: str | None = None
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
        self._flat_values: FloatArray | None = values

    @property
    def in_features(self) -> int:
        return self._dense[0].in_features

    @property
    def out_features(self) -> int:
        return self._dense[-1].out_features

    @property
    def dropout_layers(self) -> list[Dropout]:
        """The ``Dropout`` layers, in order."""
        return [layer for layer in self.layers if isinstance(layer, Dropout)]

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

    def predict(self, X: object, batch_size: int | None = None) -> FloatArray:
        """The network's output for ``X``, without keeping anything for backpropagation.

        ``Dropout`` layers are the identity here. Each row's output has the same bits
        whatever else is in ``X`` and whatever ``batch_size`` is (see ``_predict``).

        Parameters
        ----------
        X : array_like, shape (N, in_features)
        batch_size : int, optional
            Check, convert and evaluate ``X`` this many rows at a time, so that the memory
            used beyond ``X`` and the output is that of one batch (its copy in the
            network's dtype, and its activations) whatever N is. None checks and converts
            the whole of ``X`` at once (a copy of it if its dtype is not the network's).

        Returns
        -------
        ndarray, shape (N, out_features), of the network's dtype
        """
        func = "Sequential.predict"
        if batch_size is None:
            return self._predict(self.check_inputs(func, X))
        return self._predict_batches(func, X, _validation.positive_integer(func, "batch_size", batch_size))

    def __call__(self, X: object, batch_size: int | None = None) -> FloatArray:
        """``model(X)`` is :meth:`predict`."""
        return self.predict(X, batch_size)

    def predict_proba(self, X: object, batch_size: int | None = None) -> FloatArray:
        """Class probabilities for a classification network, as scikit-learn's ``predict_proba``.

        Which function turns the outputs into probabilities follows from :attr:`loss`:

        - ``"binary_cross_entropy_with_logits"``: the sigmoid of the logits;
        - ``"binary_cross_entropy"``: the outputs themselves (a sigmoid last layer);
        - ``"cross_entropy"``: the softmax of the logits over the classes;
        - ``"nll_loss"``: the exponential of the log-probabilities.

        A binary network with a single output gives two columns, P(class 0) and
        P(class 1), as scikit-learn does; with several outputs (multi-label) each column
        is the probability of its label.

        Parameters
        ----------
        X : array_like, shape (N, in_features)
        batch_size : int, optional
            As for :meth:`predict`.

        Returns
        -------
        ndarray, shape (N, classes)
        """
        func = "Sequential.predict_proba"
        if self.loss not in _PROBABILITY_LOSSES:
            if self.loss is None:
                problem = "the network does not know its loss (it was not trained with fit)"
            else:
                problem = f"the network was trained with the loss {self.loss!r}, which gives no probabilities"
            raise InvalidOptionError(
                f"{func}: predict_proba needs a classification network, trained with one of "
                f"{', '.join(_PROBABILITY_LOSSES)}; {problem}. For a regression network use "
                "predict(X); for a classifier trained elsewhere set model.loss, e.g. "
                "model.loss = 'cross_entropy'."
            )
        outputs = self.predict(X, batch_size)
        with np.errstate(over="ignore", under="ignore"):
            if self.loss == "binary_cross_entropy_with_logits":
                probabilities: FloatArray = np.asarray(sigmoid(outputs), dtype=self.dtype)
            elif self.loss == "cross_entropy":
                probabilities = np.asarray(softmax(outputs, axis=1), dtype=self.dtype)
            elif self.loss == "nll_loss":
                probabilities = np.exp(outputs)
            else:
                probabilities = outputs
        if self.loss in ("binary_cross_entropy_with_logits", "binary_cross_entropy") and self.out_features == 1:
            return np.concatenate([1 - probabilities, probabilities], axis=1)
        return probabilities

    def _predict_batches(self, func: str, X: object, batch_size: int) -> FloatArray:
        """:meth:`predict` batch by batch: each batch is checked and converted on its own."""
        if isinstance(X, np.ndarray):
            array: Any = X
        elif isinstance(X, (list, tuple)):
            array = X  # rows sliced as given: each batch is converted as it comes
        else:
            return self._predict(self.check_inputs(func, X))  # other libraries: one clear error
        rows = len(array)
        if isinstance(array, np.ndarray) and (array.ndim != 2 or array.shape[1] != self.in_features):
            self.check_inputs(func, array[:1] if array.ndim == 2 else array)  # the shape error
        outputs = np.empty((rows, self.out_features), dtype=self.dtype)
        for start in range(0, rows, batch_size):
            stop = min(start + batch_size, rows)
            try:
                batch = self.check_inputs(func, array[start:stop])
            except InvalidInputError as error:
                if start == 0 and stop == rows:
                    raise
                raise type(error)(f"{error} (In the batch of rows {start} to {stop - 1} of X.)") from None
            self._predict(batch, out=outputs[start:stop])
        if rows == 0:
            self.check_inputs(func, array)
        return outputs

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
        ``Dense`` layer skips it (one matrix product of the step's four or six), and a
        ``Dropout`` before it is not visited.
        """
        first = self._first_dense
        for layer in reversed(self.layers[first + 1 :]):
            gradient = layer.backward(gradient)
        self._dense[0]._delta(gradient)

    def _training_passes(self) -> tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], None]]:
        """``fit``'s forward pass and backward pass (:meth:`_forward`, :meth:`_backward_parameters`).

        The same operations on the same values, so the same bits, but each ``Dense`` layer
        writes into work arrays it keeps from batch to batch (``Dense._train_forward``):
        what the forward pass returns is overwritten by the next batch of its size.
        """
        forwards = [layer._train_forward if isinstance(layer, Dense) else layer.forward for layer in self.layers]
        backwards = [
            layer._train_backward if isinstance(layer, Dense) else layer.backward
            for layer in reversed(self.layers[self._first_dense + 1 :])
        ]
        first = self._dense[0]._train_delta  # its delta is not needed: nothing propagates further

        def forward(X: FloatArray) -> FloatArray:
            for step in forwards:
                X = step(X)
            return X

        def backward(gradient: FloatArray) -> None:
            for step in backwards:
                gradient = step(gradient)
            first(gradient)

        return forward, backward

    def _predict(self, X: FloatArray, out: FloatArray | None = None) -> FloatArray:
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
        outputs = np.empty((rows, self.out_features), dtype=self.dtype) if out is None else out
        for start in range(0, max(rows, 1), PREDICT_ROWS):
            count = min(PREDICT_ROWS, rows - start)
            block[:count] = X[start : start + count]
            block[count:] = 0.0
            result = block
            for layer in self._dense:  # a Dropout predicts the identity
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
            ``"binary_cross_entropy_with_logits"``, ``"cross_entropy"``, ...), a Keras or
            scikit-learn name (``"mse"``, ``"binary_crossentropy"``, ``"log_loss"``, ...;
            see :func:`neural_network.training.resolve_loss`), or two functions
            ``value(outputs, targets)`` and ``grad(outputs, targets)``.
        optimizer : Optimizer or str
            E.g. ``Adam(0.001)``; it updates the model's parameters in place. Or a name,
            ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"`` (any case): a new optimizer
            with ``learning_rate``, or Keras's default learning rate (0.001; SGD 0.01).
        epochs, batch_size : int
        validation_data : (X_val, y_val), optional
            Measured after every epoch (``val_loss`` and metrics).
        validation_split : float, default 0.0
            As Keras: the fraction of the rows of ``X`` and ``y`` in (0, 1), taken from the
            end, before any shuffling, to measure after every epoch instead of training on
            them. Shuffle X and y first if their order means something.
        class_weight : "balanced", dict or None
            For the classification losses: each sample's loss is weighted by the weight of
            its class, and each batch's mean divides by the sum of its weights (PyTorch's
            ``weight=``). ``"balanced"`` gives class ``c`` the weight
            ``n_samples / (n_classes * count_c)``, as scikit-learn; a dict maps class
            (0, 1, ... or the binary labels 0.0 and 1.0) to weight, 1 for those left out.
            The training loss is then the weighted one; ``val_loss`` stays unweighted (Keras).
        learning_rate : float, optional
            With an optimizer given by name only.
        rng : numpy.random.Generator or int, optional
            Shuffles the batches, and seeds the ``Dropout`` layers that have no generator
            of their own (one integer drawn from it per such layer, at the first ``fit``).
        callbacks : sequence of Callback
            E.g. ``EarlyStopping(patience=5)``, or a progress display.

        ``fit`` sets :attr:`loss` to the package's name of the loss. Options that other
        libraries name otherwise get an error that gives the name here (``lr=`` is
        ``learning_rate=``).
        """
        from neural_network.training import fit

        return fit(
            self, X, y, loss=loss, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
            validation_data=validation_data, validation_split=validation_split, class_weight=class_weight,
            learning_rate=learning_rate, rng=rng, callbacks=callbacks, **unexpected,
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
