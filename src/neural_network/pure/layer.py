r"""Article 3: a layer, several neurons that see the same inputs; and its backward pass.

A ``Dense`` layer with ``in_features`` inputs and ``out_features`` neurons keeps one
weight per (input, neuron) pair and one bias per neuron. For a batch of samples ``X``
(a list of rows, one row per sample) it computes, neuron by neuron,

.. math:: Z = X W + b, \qquad A = f(Z)

``weights`` has one row per *input* (``in_features`` rows of ``out_features`` numbers),
so that ``Z[n][j] = sum_i X[n][i] * W[i][j] + b[j]``, the ``X @ W`` of the NumPy
edition (PyTorch stores the transpose).

Backpropagation (the articles after the losses) runs the same computation backwards.
Given ``G = dL/dA``, the gradient of the loss with respect to the layer's outputs:

.. math::

    \delta = G \odot f'(Z), \qquad
    \frac{\partial L}{\partial W} = X^T \delta, \qquad
    \frac{\partial L}{\partial b} = \sum_n \delta_n, \qquad
    \frac{\partial L}{\partial X} = \delta W^T

The last one is returned: it is the ``G`` of the layer below.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from operator import add, mul

from neural_network.errors import InvalidInputError
from neural_network.pure import _checks
from neural_network.pure._checks import Matrix
from neural_network.pure.activations import ACTIVATIONS

__all__ = ["Dense", "matmul", "transpose"]

_INITS = ("auto", "glorot", "he", "torch")


class Dense:
    r"""A fully connected layer: ``A = activation(X @ weights + bias)``.

    Parameters
    ----------
    in_features, out_features : int
        The number of inputs of each sample, and of neurons (outputs).
    activation : str, optional
        ``"identity"`` (None means this too), ``"sigmoid"``, ``"tanh"``, ``"relu"`` or
        ``"leaky_relu"`` (slope 0.01). For several classes leave the last layer linear
        and train with the ``cross_entropy`` loss, which applies the softmax itself.
    rng : int or random.Random, optional, keyword-only
        Where the initial weights come from (an int is a seed). None draws fresh ones.
    init : {"auto", "glorot", "he", "torch"}, keyword-only
        The NumPy edition's schemes: Glorot (uniform in
        :math:`\pm\sqrt{6 / (n_{in} + n_{out})}`; what ``"auto"`` draws, as there), He
        (normal, standard deviation :math:`\sqrt{2 / n_{in}}`), or PyTorch's (weights and
        bias uniform in :math:`\pm 1/\sqrt{n_{in}}`). The bias starts at 0 but with
        ``"torch"``.

    Attributes
    ----------
    weights : list of in_features lists of out_features floats
    bias : list of out_features floats
        Both can be set (a new value is checked and copied); :class:`SGD
        <neural_network.pure.optimizers.SGD>` changes them in place.
    grad_weights, grad_bias : lists of the same shapes
        d(loss)/d(weights) and d(loss)/d(bias), filled by :meth:`backward`.

    Examples
    --------
    >>> layer = Dense(2, 3, "relu", rng=0)
    >>> layer
    Dense(2, 3, activation='relu')
    >>> layer.weights = [[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]
    >>> layer.forward([[2.0, 3.0]])  # relu of [2, 3, -2 + 3]
    [[2.0, 3.0, 1.0]]
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str | None = None,
        *,
        rng: random.Random | int | None = None,
        init: str = "auto",
    ) -> None:
        self.in_features = _checks.positive_integer("Dense", "in_features", in_features)
        self.out_features = _checks.positive_integer("Dense", "out_features", out_features)
        name = "identity" if activation is None else activation
        self.activation = _checks.choice("Dense", "activation", name, list(ACTIVATIONS))
        self._f, self._f_grad = ACTIVATIONS[self.activation]
        init = _checks.choice("Dense", "init", init, _INITS)
        self.init = init if init != "auto" else "glorot"
        generator = _checks.generator("Dense", rng)
        self._weights = self._initial_weights(generator)
        bound = 1.0 / math.sqrt(self.in_features)
        self._bias = [generator.uniform(-bound, bound) if self.init == "torch" else 0.0 for _ in range(self.out_features)]
        self.grad_weights: Matrix = [[0.0] * self.out_features for _ in range(self.in_features)]
        self.grad_bias: list[float] = [0.0] * self.out_features
        self._inputs: Matrix | None = None
        self._pre_activation: Matrix | None = None

    def _initial_weights(self, rng: random.Random) -> Matrix:
        rows, columns = self.in_features, self.out_features
        if self.init == "he":
            spread = math.sqrt(2.0 / rows)
            return [[rng.gauss(0.0, spread) for _ in range(columns)] for _ in range(rows)]
        limit = 1.0 / math.sqrt(rows) if self.init == "torch" else math.sqrt(6.0 / (rows + columns))
        return [[rng.uniform(-limit, limit) for _ in range(columns)] for _ in range(rows)]

    # ------------------------------------------------------------------ parameters

    @property
    def weights(self) -> Matrix:
        return self._weights

    @weights.setter
    def weights(self, value: Sequence[Sequence[float]]) -> None:
        self._weights = _checks.weights("Dense", value, self.in_features, self.out_features)

    @property
    def bias(self) -> list[float]:
        return self._bias

    @bias.setter
    def bias(self, value: Sequence[float]) -> None:
        self._bias = _checks.vector("Dense", "bias", value, self.out_features, what=", one per output")

    @property
    def parameter_count(self) -> int:
        return self.in_features * self.out_features + self.out_features

    # ------------------------------------------------------------------ forward

    def forward(self, X: Sequence[Sequence[float]]) -> Matrix:
        """The outputs for a batch ``X`` (a list of samples), kept with ``X`` for :meth:`backward`."""
        rows = _checks.matrix("Dense.forward", "X", X, columns=self.in_features, what=" (one row per sample)")
        return self._forward(rows)

    def _forward(self, X: Matrix, keep: bool = True) -> Matrix:
        Z = [list(map(add, row, self._bias)) for row in matmul(X, self._weights)]
        if keep:
            self._inputs, self._pre_activation = X, Z
        if self.activation == "identity":
            return [list(row) for row in Z]  # a copy: changing the output must not change Z
        if self.activation == "relu":  # the commonest case, written out: no call per number
            return [[z if z > 0.0 else 0.0 for z in row] for row in Z]
        return [list(map(self._f, row)) for row in Z]

    # ------------------------------------------------------------------ backward

    def backward(self, grad_output: Sequence[Sequence[float]]) -> Matrix:
        """Fill ``grad_weights`` and ``grad_bias`` from ``grad_output = dL/dA``; return ``dL/dX``."""
        if self._inputs is None:
            raise InvalidInputError("Dense.backward: call forward first; there is nothing to propagate back.")
        grad = _checks.matrix("Dense.backward", "grad_output", grad_output, columns=self.out_features)
        _checks.same_shape(
            "Dense.backward", "grad_output", grad, (len(self._inputs), self.out_features),
            " It is dL/dA, one row per sample of the last forward.",
        )
        return self._backward(grad)

    def _backward(self, grad_output: Matrix) -> Matrix:
        delta = self._delta(grad_output)
        return matmul(delta, transpose(self._weights))

    def _delta(self, grad_output: Matrix) -> Matrix:
        """Fill the gradients of the parameters; return delta = dL/dZ.

        The first layer of a network stops here: nothing needs the gradient of the data.
        """
        if self._inputs is None or self._pre_activation is None:
            raise InvalidInputError("Dense.backward: call forward first; there is nothing to propagate back.")
        Z = self._pre_activation
        if self.activation == "identity":
            delta = grad_output
        elif self.activation == "relu":
            delta = [
                [g if z > 0.0 else 0.0 for g, z in zip(g_row, z_row, strict=True)]
                for g_row, z_row in zip(grad_output, Z, strict=True)
            ]
        else:
            delta = [list(map(mul, g_row, map(self._f_grad, z_row))) for g_row, z_row in zip(grad_output, Z, strict=True)]
        self.grad_weights = matmul(transpose(self._inputs), delta)
        self.grad_bias = [float(sum(column)) for column in zip(*delta, strict=True)]
        return delta

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features}, activation={self.activation!r})"


# --------------------------------------------------------------------------- matrix product


def transpose(A: Matrix) -> Matrix:
    """The rows of ``A`` as columns: ``transpose(A)[j][i] == A[i][j]``."""
    return [list(column) for column in zip(*A, strict=True)]


def matmul(A: Matrix, B: Matrix) -> Matrix:
    """The matrix product ``A @ B``: entry (i, j) is ``sum(A[i][k] * B[k][j] for k)``.

    Each entry is summed in the order of k, so both ways below give the same bits; they
    differ only in speed. Where ``B`` has few rows and many columns (a layer with few
    inputs and many neurons), a row of the result is built as the rows of ``B`` scaled
    by ``A[i][k]`` and added, a few long list operations; otherwise entry by entry, one
    ``sum(map(mul, ...))`` over a row of ``A`` and a column of ``B``, which runs in C.
    """
    if 4 * len(B) <= len(B[0]):
        first, rest = B[0], B[1:]
        result = []
        for a in A:
            row = [a[0] * b for b in first]
            for a_k, b_row in zip(a[1:], rest, strict=True):
                row = [r + a_k * b for r, b in zip(row, b_row, strict=True)]
            result.append(row)
        return result
    columns = list(zip(*B, strict=True))
    return [[sum(map(mul, a, column)) for column in columns] for a in A]
