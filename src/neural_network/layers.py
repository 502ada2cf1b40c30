"""Layers: ``Dense``, a fully connected layer (a neuron is ``Dense(n, 1)``), and ``Dropout``.

Forward propagation computes ``A = activation(X @ W + b)`` and keeps ``X`` and
``Z = X @ W + b``, which backpropagation needs; ``backward`` turns the gradient of the
loss with respect to ``A`` into the gradients of ``W`` and ``b`` (kept on the layer) and
the gradient with respect to ``X`` (returned, for the layer before).

Every layer has two ways forward: ``forward``, the training path (it keeps what
``backward`` needs, and a ``Dropout`` drops), and ``predict``, the inference path
(nothing kept, ``Dropout`` is the identity). ``Sequential.fit`` trains through the
first and evaluates the validation data through the second.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from neural_network import _validation
from neural_network.activations import get_activation
from neural_network.activations._registry import LAYER_KERNELS
from neural_network.errors import InvalidInputError, InvalidOptionError, ShapeMismatchError
from neural_network.parameters import Parameter

FloatArray = NDArray[np.floating]

__all__ = ["Dense", "Dropout", "Layer"]

_INITS = ("auto", "glorot", "he", "torch")
_AUTO_INIT = "glorot"
"""What ``init="auto"`` draws, for every activation: chosen with ``benchmarks/bench_init.py``."""


class Dense:
    r"""A fully connected layer: :math:`A = f(XW + b)`.

    Parameters
    ----------
    in_features, out_features : int
        The number of inputs each sample has, and of outputs the layer gives.
    activation : str, optional
        The name of an element-wise activation (``"relu"``, ``"sigmoid"``, ``"tanh"``,
        ...; see :data:`neural_network.activations.ACTIVATIONS`); None is the identity.
        For classification, leave the last layer linear and use a loss on logits
        (``binary_cross_entropy_with_logits``, ``cross_entropy``).
    rng : numpy.random.Generator or int, optional, keyword-only
        Where the initial weights come from (an int is a seed). None draws fresh
        entropy: pass a generator or a seed to get the same network every time.
    init : {"auto", "glorot", "he", "torch"}, keyword-only
        How the first weights are drawn (from ``rng``, the weights and then, for
        ``"torch"``, the bias):

        * ``"glorot"``: Glorot (Xavier) uniform in :math:`\pm\sqrt{6 / (n_{in} + n_{out})}`,
          bias 0, as Keras's default;
        * ``"he"``: He (Kaiming) normal, standard deviation :math:`\sqrt{2 / n_{in}}`,
          bias 0;
        * ``"torch"``: PyTorch's ``nn.Linear``: weights and bias uniform in
          :math:`\pm 1 / \sqrt{n_{in}}` (``kaiming_uniform_`` with ``a = sqrt(5)``);
        * ``"auto"`` (the default): ``"glorot"``, whatever the activation.

        ``"auto"`` chose ``"he"`` for the ReLU family until it was measured
        (``benchmarks/bench_init.py``: 10 public tables, 4 seeds, the same networks and
        training as scikit-learn's MLP, 100 or 100+100 ReLU units, Adam 1e-3, batches
        of 200, 200 epochs or early stopping). He's larger weights were the worst of the
        three in all four settings: the mean test score over the tables (accuracy or R²)
        was He 0.797 / Glorot 0.812 / torch 0.815 (one layer, 200 epochs), 0.761 / 0.805 /
        0.796 (one layer, early stopping), 0.757 / 0.784 / 0.792 and 0.757 / 0.795 / 0.792
        (two layers), against scikit-learn's 0.807, 0.728, 0.784 and 0.778; on diabetes
        (one layer, 200 epochs) R² 0.293 / 0.351 / 0.363, scikit-learn 0.332. With
        ``leaky_relu`` and ``gelu`` (6 of the tables, 3 seeds) He was the worst again:
        0.793 / 0.809 / 0.812 and 0.794 / 0.813 / 0.812 at 200 epochs. Glorot
        and ``"torch"`` are within each other's noise (ReLU: mean rank among the three
        1.60 to 1.80 against 1.40 to 1.90); Glorot is the default as it is the better of
        the two with early stopping on the ReLU networks, the default of Keras and of
        ``neural-network train``, close to scikit-learn's own draw, and known to the pure
        edition (``neural_network.pure``), to which ``"torch"`` layers cannot move.
    dtype : float32 or float64, keyword-only

    Attributes
    ----------
    weights : ndarray, shape (in_features, out_features)
        ``X @ weights`` as in the articles (not PyTorch's transposed ``(out, in)``).
    bias : ndarray, shape (out_features,)
    grad_weights, grad_bias : ndarray
        d(loss)/d(weights) and d(loss)/d(bias), filled by :meth:`backward`.

    Examples
    --------
    >>> layer = Dense(3, 2, "relu", rng=0)
    >>> layer
    Dense(3, 2, activation='relu')
    >>> layer.forward(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str | None = None,
        *,
        rng: np.random.Generator | int | None = None,
        init: str = "auto",
        dtype: type[np.floating] | np.dtype[np.floating] = np.float64,
    ) -> None:
        self.in_features = _validation.positive_integer("Dense", "in_features", in_features)
        self.out_features = _validation.positive_integer("Dense", "out_features", out_features)
        if init not in _INITS:
            raise InvalidOptionError(f"Dense: init must be one of {', '.join(map(repr, _INITS))}; got {init!r}.")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise InvalidOptionError(f"Dense: dtype must be float32 or float64; got {self.dtype}.")
        self.activation = "identity" if activation is None else activation
        get_activation(self.activation)  # a clear error for an unknown name
        self._activate, self._backward_activation = LAYER_KERNELS[self.activation]
        self._relu = self.activation == "relu"  # fit's path has its own relu (see _train_forward)
        self.init = _AUTO_INIT if init == "auto" else init
        weights, bias = self._initial_parameters(_validation.generator("Dense", rng))
        self._weights = Parameter("weights", weights)
        self._bias = Parameter("bias", bias)
        self._inputs: FloatArray | None = None
        self._pre_activation: FloatArray | None = None
        self._work: _Work | None = None  # fit's work arrays for its batches (see _train_forward)

    def _initial_parameters(self, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        """The first weights and bias, drawn from ``rng`` (the weights first) by :attr:`init`."""
        shape = (self.in_features, self.out_features)
        bias = np.zeros(self.out_features)
        if self.init == "he":
            weights = rng.normal(0.0, math.sqrt(2.0 / self.in_features), size=shape)
        elif self.init == "glorot":
            limit = math.sqrt(6.0 / (self.in_features + self.out_features))
            weights = rng.uniform(-limit, limit, size=shape)
        else:  # "torch": nn.Linear's reset_parameters, kaiming_uniform_(a=sqrt(5)) and its bias
            limit = 1.0 / math.sqrt(self.in_features)
            weights = rng.uniform(-limit, limit, size=shape)
            bias = rng.uniform(-limit, limit, size=self.out_features)
        return weights.astype(self.dtype), bias.astype(self.dtype)

    # ------------------------------------------------------------------ parameters

    @property
    def weights(self) -> FloatArray:
        return self._weights.value

    @weights.setter
    def weights(self, value: FloatArray) -> None:
        self._assign(self._weights, value)

    @property
    def bias(self) -> FloatArray:
        return self._bias.value

    @bias.setter
    def bias(self, value: FloatArray) -> None:
        self._assign(self._bias, value)

    @property
    def grad_weights(self) -> FloatArray:
        return self._weights.grad

    @property
    def grad_bias(self) -> FloatArray:
        return self._bias.grad

    def parameters(self) -> list[Parameter]:
        """The trainable parameters: weights, then bias."""
        return [self._weights, self._bias]

    def _assign(self, parameter: Parameter, value: FloatArray) -> None:
        array = np.asarray(value, dtype=self.dtype)
        if array.shape != parameter.value.shape:
            raise ShapeMismatchError(
                f"Dense: {parameter.name} must have shape {parameter.value.shape}; got {array.shape}."
            )
        if not np.all(np.isfinite(array)):
            raise InvalidInputError(f"Dense: {parameter.name} must be finite; got NaN or infinity.")
        parameter.value[...] = array  # in place: optimizers and saved references see the change

    # ------------------------------------------------------------------ propagation

    def forward(self, X: FloatArray) -> FloatArray:
        """Forward propagation, keeping what :meth:`backward` needs.

        ``X`` must be a validated array of shape (N, in_features) in the layer's
        dtype; :class:`~neural_network.network.Sequential` checks it once at its entrance.
        """
        Z = X @ self._weights.value
        Z += self._bias.value  # in place: one array fewer per step
        self._inputs, self._pre_activation = X, Z
        outputs: FloatArray = self._activate(Z)
        return outputs

    def backward(self, grad_output: FloatArray) -> FloatArray:
        r"""Backpropagation through the layer.

        With :math:`\delta = \partial L / \partial A \odot f'(Z)`:
        :math:`\partial L / \partial W = X^T \delta`, :math:`\partial L / \partial b = \sum_n \delta_n`
        and :math:`\partial L / \partial X = \delta W^T`, which is returned.
        """
        delta = self._delta(grad_output)
        grad_inputs: FloatArray = delta @ self._weights.value.T
        return grad_inputs

    def _delta(self, grad_output: FloatArray) -> FloatArray:
        r"""Fill the parameters' gradients; return :math:`\delta`, from which d(loss)/d(X) follows.

        The first layer of a network stops here: nothing needs the gradient of the data.
        """
        if self._inputs is None or self._pre_activation is None:
            raise InvalidInputError("Dense.backward: call forward first; there is nothing to propagate back.")
        delta: FloatArray = self._backward_activation(self._pre_activation, grad_output)
        np.matmul(self._inputs.T, delta, out=self._weights.grad)
        np.add.reduce(delta, axis=0, out=self._bias.grad)
        return delta

    # fit's path: the operations of forward, backward and _delta on the same values, in
    # the same order (so the same bits), written into work arrays that the layer keeps
    # from batch to batch instead of new arrays. What they return is overwritten by the
    # layer's next batch of the same size: fit uses it before then, nothing else sees it.

    def _train_forward(self, X: FloatArray) -> FloatArray:
        """``forward`` for ``fit``: the same values, into the layer's work arrays."""
        work = self._work
        if work is None or work.rows != X.shape[0]:  # made again for the last, smaller batch
            work = self._work = _Work(X.shape[0], self.in_features, self.out_features, X.dtype, self._relu)
        Z = np.matmul(X, self._weights.value, out=work.pre_activation)
        np.add(Z, self._bias.value, out=Z)
        self._inputs, self._pre_activation = X, Z
        if work.relu is not None:
            # relu: np.maximum(Z, 0), against an array of zeros: NumPy's vector loop for two
            # arrays is about three times as fast as its loop for an array and a scalar, with
            # the same results (+0.0 for -0.0, NaN kept with its sign).
            return np.maximum(Z, work.relu.zeros, out=work.relu.outputs)
        if self.activation == "identity":
            return Z
        outputs: FloatArray = self._activate(Z)
        return outputs

    def _train_backward(self, grad_output: FloatArray) -> FloatArray:
        """``backward`` for ``fit``, after :meth:`_train_forward`: d(loss)/d(X), into a work array."""
        delta, work = self._train_delta(grad_output)
        weights = self._weights.value
        if weights.shape[1] == 1:
            # A product over one term: each element is delta_i w_j, which BLAS adds to a
            # zero (so -0.0 becomes +0.0). The broadcast product and the addition of 0
            # give those bits at a third of the cost of NumPy's matmul for this shape.
            np.multiply(delta, weights.T, out=work.grad_inputs)
            return np.add(work.grad_inputs, 0.0, out=work.grad_inputs)
        return np.matmul(delta, weights.T, out=work.grad_inputs)

    def _train_delta(self, grad_output: FloatArray) -> tuple[FloatArray, _Work]:
        """``_delta`` for ``fit``, after :meth:`_train_forward`: the parameters' gradients; delta
        and the work arrays of the batch."""
        Z, X, work = self._pre_activation, self._inputs, self._work
        if Z is None or X is None or work is None:
            raise InvalidInputError("Dense.backward: call forward first; there is nothing to propagate back.")
        if work.relu is not None:  # relu: grad_output times the mask Z > 0, as the kernel computes it
            relu = work.relu
            delta: FloatArray = np.multiply(grad_output, np.greater(Z, 0, out=relu.mask), out=relu.delta)
        elif self.activation == "identity":
            delta = grad_output
        else:
            delta = self._backward_activation(Z, grad_output)
        np.matmul(X.T, delta, out=self._weights.grad)
        np.add.reduce(delta, axis=0, out=self._bias.grad)
        return delta, work

    def predict(self, X: FloatArray) -> FloatArray:
        """Forward propagation without keeping anything (for inference)."""
        Z = X @ self._weights.value
        Z += self._bias.value
        outputs: FloatArray = self._activate(Z)
        return outputs

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        """The shape of the last forward output, or None before the first forward."""
        return None if self._pre_activation is None else self._pre_activation.shape

    @property
    def parameter_count(self) -> int:
        return self.in_features * self.out_features + self.out_features

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features}, activation={self.activation!r})"


class _Work:
    """A ``Dense`` layer's work arrays for ``fit``'s batches of one size."""

    __slots__ = ("grad_inputs", "pre_activation", "relu", "rows")

    def __init__(self, rows: int, inputs: int, outputs: int, dtype: np.dtype[np.floating], relu: bool) -> None:
        self.rows = rows
        self.pre_activation: FloatArray = np.empty((rows, outputs), dtype=dtype)
        self.grad_inputs: FloatArray = np.empty((rows, inputs), dtype=dtype)
        self.relu = _ReluWork((rows, outputs), dtype) if relu else None


class _ReluWork:
    """relu's work arrays: its outputs, the mask and delta of backward, and zeros to compare with."""

    __slots__ = ("delta", "mask", "outputs", "zeros")

    def __init__(self, shape: tuple[int, int], dtype: np.dtype[np.floating]) -> None:
        self.zeros: FloatArray = np.zeros(shape, dtype=dtype)
        self.outputs: FloatArray = np.empty(shape, dtype=dtype)
        self.delta: FloatArray = np.empty(shape, dtype=dtype)
        self.mask: NDArray[np.bool_] = np.empty(shape, dtype=np.bool_)


class Dropout:
    r"""Inverted dropout: in training, each input is zeroed with probability ``rate``
    and the others are scaled by :math:`1 / (1 - \text{rate})`, so that the expected
    value of every output equals its input; at inference it is the identity.

    :math:`A = X \odot M`, with :math:`M_{ij} = 1 / (1 - p)` with probability
    :math:`1 - p` and 0 otherwise, drawn anew at every :meth:`forward`;
    :meth:`backward` multiplies the gradient by the same :math:`M`. These are the
    semantics of ``torch.nn.Dropout(p)`` in training mode and ``keras.layers.Dropout``.

    Training (``Sequential.fit``, and :meth:`forward` itself) drops; :meth:`predict`
    (``Sequential.predict``, the validation data of ``fit``, evaluation) never does.

    Parameters
    ----------
    rate : float
        The probability :math:`p \in [0, 1)` that an input is dropped (PyTorch's ``p``,
        Keras's ``rate``); 0 makes the layer the identity.
    rng : numpy.random.Generator or int, optional, keyword-only
        Where the masks come from (an int is a seed). With None, the first
        ``Sequential.fit`` that trains the layer seeds it from its own ``rng`` (it draws
        one integer from it, before the first shuffle), so that a seeded ``fit`` trains
        the same way every time; a ``forward`` outside ``fit`` before that uses fresh
        entropy. The generator's state is saved with the model, so training resumed
        from a saved checkpoint draws the masks it would have drawn.

    Attributes
    ----------
    in_features, out_features : int or None
        The width of the layer before (equal to each other); set when a
        :class:`~neural_network.network.Sequential` is built from the layer.

    Examples
    --------
    >>> layer = Dropout(0.5, rng=0)
    >>> layer
    Dropout(0.5)
    >>> X = np.ones((2, 4))
    >>> print(layer.predict(X))   # inference: the identity
    [[1. 1. 1. 1.]
     [1. 1. 1. 1.]]
    >>> sorted(set(layer.forward(X).ravel().tolist()))   # training: 0 or 1 / (1 - 0.5)
    [0.0, 2.0]
    """

    def __init__(self, rate: float, *, rng: np.random.Generator | int | None = None) -> None:
        if (
            isinstance(rate, (bool, np.bool_))
            or not isinstance(rate, (int, float, np.integer, np.floating))
            or not 0.0 <= float(rate) < 1.0
        ):
            raise InvalidOptionError(
                f"Dropout: rate must be a number in [0, 1), the probability of dropping each input; "
                f"got {rate!r}. Typical values are 0.1 to 0.5 (Keras's rate, PyTorch's p)."
            )
        self.rate = float(rate)
        self._rng: np.random.Generator | None = None if rng is None else _validation.generator("Dropout", rng)
        self._features: int | None = None
        self._mask: FloatArray | None = None

    @property
    def rng(self) -> np.random.Generator | None:
        """The generator of the masks; None until one is given or ``fit`` seeds it."""
        return self._rng

    @rng.setter
    def rng(self, value: np.random.Generator | int | None) -> None:
        self._rng = None if value is None else _validation.generator("Dropout", value)

    @property
    def in_features(self) -> int | None:
        return self._features

    @property
    def out_features(self) -> int | None:
        return self._features

    def parameters(self) -> list[Parameter]:
        """None: dropout has nothing to train."""
        return []

    def forward(self, X: FloatArray) -> FloatArray:
        """The training path: ``X`` times a new mask, which :meth:`backward` reuses."""
        if self.rate == 0.0:
            self._mask = np.ones(X.shape, dtype=X.dtype)
            return X
        if self._rng is None:
            self._rng = np.random.default_rng()
        dtype = X.dtype if X.dtype in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)
        keep = self._rng.random(X.shape, dtype=dtype) >= dtype.type(self.rate)
        # 1 / (1 - p) in the data's dtype, as torch divides its float mask by 1 - p.
        scale = dtype.type(1.0) / dtype.type(1.0 - self.rate)
        self._mask = np.where(keep, scale, dtype.type(0.0))
        outputs: FloatArray = X * self._mask
        return outputs

    def backward(self, grad_output: FloatArray) -> FloatArray:
        """The gradient times the mask of the last :meth:`forward`."""
        if self._mask is None:
            raise InvalidInputError("Dropout.backward: call forward first; there is nothing to propagate back.")
        if grad_output.shape != self._mask.shape:
            raise ShapeMismatchError(
                f"Dropout.backward: grad_output must have the shape of the last forward output "
                f"{self._mask.shape}; got {grad_output.shape}."
            )
        grad_inputs: FloatArray = grad_output * self._mask
        return grad_inputs

    def predict(self, X: FloatArray) -> FloatArray:
        """The inference path: the identity."""
        return X

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        """The shape of the last forward output, or None before the first forward."""
        return None if self._mask is None else self._mask.shape

    @property
    def parameter_count(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"Dropout({self.rate!r})"


Layer = Dense | Dropout
"""The layers a :class:`~neural_network.network.Sequential` is made of."""
