r"""Article 1: what a neuron really computes.

A neuron multiplies each input by a weight, adds the products and a bias, and passes
the sum through an activation function:

.. math:: \text{output} = f\Bigl(\sum_i w_i x_i + b\Bigr)

That is all. A layer (:mod:`neural_network.pure.layer`) is several neurons that see
the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from neural_network.pure import _checks
from neural_network.pure.activations import ACTIVATIONS

__all__ = ["Neuron"]


class Neuron:
    """One neuron: ``activation(sum(w * x for w, x in zip(weights, inputs)) + bias)``.

    Parameters
    ----------
    weights : list of float
        One weight per input.
    bias : float
    activation : str
        ``"identity"`` (the default: the weighted sum itself), ``"sigmoid"``, ``"tanh"``,
        ``"relu"`` or ``"leaky_relu"``.

    Examples
    --------
    >>> neuron = Neuron([0.5, -1.0], bias=0.25)
    >>> neuron.forward([2.0, 1.0])  # 0.5 * 2 - 1 * 1 + 0.25
    0.25
    >>> Neuron([0.5, -1.0], 0.25, activation="sigmoid").forward([2.0, 1.0]) > 0.5
    True
    """

    def __init__(self, weights: Sequence[float], bias: float, activation: str = "identity") -> None:
        self.weights = _checks.vector("Neuron", "weights", weights)
        self.bias = _checks.number("Neuron", "bias", bias)
        self.activation = _checks.choice("Neuron", "activation", activation, list(ACTIVATIONS))

    def forward(self, inputs: Sequence[float]) -> float:
        """The neuron's output for one sample: one number per weight in, one number out."""
        x = _checks.vector(
            "Neuron.forward", "inputs", inputs, len(self.weights), what=", one per weight"
        )
        weighted_sum = sum(w * xi for w, xi in zip(self.weights, x, strict=True)) + self.bias
        f = ACTIVATIONS[self.activation][0]
        return f(weighted_sum)

    def __repr__(self) -> str:
        return f"Neuron(weights={self.weights!r}, bias={self.bias!r}, activation={self.activation!r})"
