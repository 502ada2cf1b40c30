"""From one edition to the other: a network trained here, used there, and back.

Both editions describe a network the same way -- its layers' sizes, activations and
initialization schemes, and the weights and biases as numbers -- so a network moves
between them unchanged, through plain data:

* :meth:`Sequential.to_dict` / :meth:`Sequential.from_dict
  <neural_network.pure.network.Sequential.from_dict>`: lists, floats and strings,
  ready for ``json.dumps``;
* :func:`to_numpy` / :func:`from_numpy`: the NumPy edition's
  :class:`neural_network.Sequential`, with the same weights;
* :func:`save` / :func:`load`: the NumPy edition's model file (``.npz``), which its
  :func:`neural_network.serialization.load` and the ``neural-network`` command read.

These are the only functions of the pure edition that need NumPy; they import it when
called, so importing ``neural_network.pure`` still does not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from neural_network.errors import InvalidInputError, InvalidTypeError, describe
from neural_network.pure.network import Sequential

if TYPE_CHECKING:
    from neural_network import network as numpy_network

__all__ = ["from_numpy", "load", "save", "to_numpy"]


def to_numpy(model: Sequential) -> numpy_network.Sequential:
    """The NumPy edition's network with the layers and the weights of ``model`` (float64).

    Examples
    --------
    >>> from neural_network.pure import Dense, Sequential
    >>> pure_model = Sequential([Dense(2, 3, "relu", rng=0), Dense(3, 1, rng=1)])
    >>> numpy_model = to_numpy(pure_model)
    >>> numpy_model.layers[0].weights.tolist() == pure_model.layers[0].weights
    True
    """
    if not isinstance(model, Sequential):
        raise InvalidTypeError(f"to_numpy: model must be a pure-edition Sequential; got {describe(model)}.")
    import numpy as np

    from neural_network.layers import Dense as NumpyDense
    from neural_network.network import Sequential as NumpySequential

    layers = []
    for spec in model.to_dict()["layers"]:
        layer = NumpyDense(
            spec["in_features"], spec["out_features"], spec["activation"], rng=0, init=spec["init"]
        )
        layer.weights = np.array(spec["weights"], dtype=np.float64)
        layer.bias = np.array(spec["bias"], dtype=np.float64)
        layers.append(layer)
    return NumpySequential(layers)


def from_numpy(model: numpy_network.Sequential) -> Sequential:
    """The pure edition's network with the layers and weights of a NumPy-edition ``model``.

    float32 weights become the same numbers as Python floats. Layers with an activation
    the pure edition lacks (elu, gelu, softplus) are refused.
    """
    from neural_network.network import Sequential as NumpySequential

    if not isinstance(model, NumpySequential):
        raise InvalidTypeError(
            f"from_numpy: model must be the NumPy edition's neural_network.Sequential; got {describe(model)}."
        )
    return Sequential.from_dict(_numpy_dict(model))


def _numpy_dict(model: numpy_network.Sequential) -> Mapping[str, Any]:
    from neural_network.layers import Dense as NumpyDense

    layers = []
    for position, layer in enumerate(model.layers):
        if not isinstance(layer, NumpyDense):
            raise InvalidInputError(
                f"from_numpy: layer {position} is a {type(layer).__name__}; the pure edition has Dense "
                "layers only. Build the network without it to move it to the pure edition."
            )
        layers.append(
            {
                "class": "Dense",
                "in_features": layer.in_features,
                "out_features": layer.out_features,
                "activation": layer.activation,
                "init": layer.init,
                "dtype": str(layer.dtype),
                "weights": layer.weights.tolist(),
                "bias": layer.bias.tolist(),
            }
        )
    return {"class": "Sequential", "layers": layers}


def save(model: Sequential, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> None:
    """Write ``model`` as the NumPy edition's model file (see :mod:`neural_network.serialization`)."""
    to_numpy(model).save(path, metadata=metadata)


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read a NumPy-edition model file into the pure edition."""
    from neural_network.serialization import load as load_numpy

    return from_numpy(load_numpy(path))
