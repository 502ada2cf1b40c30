r"""Learning: gradient descent, each weight moved a little against its gradient.

After backpropagation every layer holds ``grad_weights`` and ``grad_bias``: how much the
loss grows when each parameter grows. Stepping the other way lowers the loss:

.. math:: w \leftarrow w - \eta \, g

With momentum :math:`\mu`, the step remembers the previous ones: a buffer
:math:`b = g` at the first step, then :math:`b \leftarrow \mu b + g`, and
:math:`w \leftarrow w - \eta b`. This is the NumPy edition's ``SGD`` (and
``torch.optim.SGD``) exactly, so both editions take the same steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from neural_network.errors import InvalidInputError, InvalidTypeError, describe
from neural_network.pure import _checks
from neural_network.pure._checks import Matrix
from neural_network.pure.layer import Dense

__all__ = ["SGD"]


class SGD:
    """Stochastic gradient descent, with optional momentum.

    Parameters
    ----------
    learning_rate : float, default 0.1
        The step size, >= 0. (The NumPy edition's default is 0.01; 0.1 suits the small
        networks of the series, which the pure edition is for.)
    momentum : float, default 0.0
        The fraction of the previous step kept, in [0, 1); 0.9 is usual.

    Examples
    --------
    >>> layer = Dense(1, 1, rng=0)
    >>> layer.weights, layer.bias = [[1.0]], [0.0]
    >>> layer.grad_weights, layer.grad_bias = [[0.5]], [-1.0]
    >>> SGD(0.1).step([layer])
    >>> layer.weights, layer.bias
    ([[0.95]], [0.1])
    """

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.0) -> None:
        self.learning_rate = learning_rate
        self.momentum = _checks.real_option(
            "SGD", "momentum", momentum, low=0.0, high=1.0,
            hint=" momentum is the fraction of the previous step kept; 0.9 is usual (1 or more never forgets).",
        )
        self._layers: list[Dense] | None = None
        self._buffers: list[tuple[Matrix, list[float]]] = []

    @property
    def learning_rate(self) -> float:
        """The step size; it may be lowered between calls of ``fit`` (checked when set)."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _checks.real_option(
            "SGD", "learning_rate", value, low=0.0,
            hint=" The learning rate scales every step; typical values are 0.01 to 0.5.",
        )

    def step(self, layers: Sequence[Dense]) -> None:
        """Move every layer's weights and bias against its gradients (``network.layers``)."""
        layers = self._bind(layers)
        for position, layer in enumerate(layers):
            grad_weights, grad_bias = layer.grad_weights, layer.grad_bias
            if self.momentum != 0.0:
                grad_weights, grad_bias = self._remember(position, grad_weights, grad_bias)
            rate = self.learning_rate
            # In place, as the NumPy edition: a list you hold (layer.weights[0]) sees the step.
            for w_row, g_row in zip(layer.weights, grad_weights, strict=True):
                w_row[:] = [w - rate * g for w, g in zip(w_row, g_row, strict=True)]
            layer.bias[:] = [b - rate * g for b, g in zip(layer.bias, grad_bias, strict=True)]

    def _remember(self, position: int, grad_weights: Matrix, grad_bias: list[float]) -> tuple[Matrix, list[float]]:
        """The momentum buffers b = momentum * b + g (b = g at the first step), which are the step."""
        if position == len(self._buffers):
            self._buffers.append(([list(row) for row in grad_weights], list(grad_bias)))
        else:
            mu = self.momentum
            old_weights, old_bias = self._buffers[position]
            self._buffers[position] = (
                [
                    [mu * b + g for b, g in zip(b_row, g_row, strict=True)]
                    for b_row, g_row in zip(old_weights, grad_weights, strict=True)
                ],
                [mu * b + g for b, g in zip(old_bias, grad_bias, strict=True)],
            )
        return self._buffers[position]

    def _bind(self, layers: Sequence[Dense]) -> list[Dense]:
        """Check ``layers``; the momentum buffers belong to the layers of the first step."""
        if isinstance(layers, Dense) or not isinstance(layers, Sequence):
            raise InvalidTypeError(
                f"SGD.step: layers must be a list of Dense layers (network.layers); got {describe(layers)}."
            )
        bound = list(layers)
        for index, layer in enumerate(bound):
            if not isinstance(layer, Dense):
                raise InvalidTypeError(
                    f"SGD.step: layers[{index}] must be a Dense layer; got {describe(layer)}."
                )
        if self._layers is None:
            self._layers = bound
        elif len(bound) != len(self._layers) or any(a is not b for a, b in zip(bound, self._layers, strict=True)):
            raise InvalidInputError(
                "SGD.step: this optimizer keeps momentum for the layers of its first step and must "
                "always be stepped with those same layers; create one optimizer per network."
            )
        return bound

    def __repr__(self) -> str:
        return f"SGD(learning_rate={self.learning_rate!r}, momentum={self.momentum!r})"
