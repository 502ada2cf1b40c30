"""The pure-Python edition: from one neuron to a trained network, with the standard library only.

For learners who start without NumPy, one module per article of the series
*Neural Networks From Scratch (Pure Python)*, each short enough to read top to bottom:

========================================  ===========================================
article                                   module
========================================  ===========================================
#1 What a neuron really computes          :mod:`~neural_network.pure.neuron`: ``Neuron``
#2 Activation functions                   :mod:`~neural_network.pure.activations`
#3 Building a layer                       :mod:`~neural_network.pure.layer`: ``Dense``
#4 Forward propagation                    :mod:`~neural_network.pure.network`: ``Sequential``
#5 Loss functions                         :mod:`~neural_network.pure.losses`
#6 Gradients and backpropagation          ``Dense.backward``, ``Sequential.backward``
training                                  ``Sequential.fit``, :mod:`~neural_network.pure.optimizers`: ``SGD``
data                                      :mod:`~neural_network.pure.datasets`
========================================  ===========================================

Importing it imports nothing outside the standard library (a test checks that NumPy
stays unloaded). Its numbers are the NumPy edition's: with the same weights, the
forward pass, every gradient and an SGD step agree with it to 1e-12 relative (within
about 2e-15 of each array's largest entry: only sums that nearly cancel differ more,
relatively, as any two summation orders do), and ``fit`` is the same algorithm. A
network moves between the editions with ``Sequential.to_dict``/``from_dict`` (plain
data), :func:`to_numpy`, :func:`from_numpy`, and the NumPy edition's model file,
:func:`save` and :func:`load` (these four import NumPy when called). The input checks live in one
helper module, ``_checks``, and raise the package's errors (:mod:`neural_network.errors`).

>>> from neural_network.pure import Dense, SGD, Sequential, make_xor
>>> X, y = make_xor()
>>> network = Sequential([Dense(2, 8, "tanh", rng=0), Dense(8, 1, "sigmoid", rng=1)])
>>> losses = network.fit(X, y, loss="binary_cross_entropy", optimizer=SGD(0.5), epochs=500, batch_size=4, rng=0)
>>> [round(row[0]) for row in network.predict(X)]
[0, 1, 1, 0]
"""

from __future__ import annotations

from neural_network.errors import EmptyInputError as EmptyInputError
from neural_network.errors import InvalidInputError as InvalidInputError
from neural_network.errors import InvalidOptionError as InvalidOptionError
from neural_network.errors import InvalidTypeError as InvalidTypeError
from neural_network.errors import NonFiniteError as NonFiniteError
from neural_network.errors import OutOfRangeError as OutOfRangeError
from neural_network.errors import ShapeMismatchError as ShapeMismatchError
from neural_network.pure.activations import (
    identity,
    identity_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_grad,
    tanh,
    tanh_grad,
)
from neural_network.pure.datasets import (
    DATASET_NAMES,
    Dataset,
    load_breast_cancer,
    load_dataset,
    load_diabetes,
    load_iris,
    load_wine,
    make_moons,
    make_spiral,
    make_xor,
)
from neural_network.pure.exchange import from_numpy, load, save, to_numpy
from neural_network.pure.layer import Dense
from neural_network.pure.losses import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy,
    cross_entropy_grad,
    mean_squared_error,
    mean_squared_error_grad,
)
from neural_network.pure.network import Sequential
from neural_network.pure.neuron import Neuron
from neural_network.pure.optimizers import SGD

__all__ = [
    "DATASET_NAMES",
    "SGD",
    "Dataset",
    "Dense",
    "Neuron",
    "Sequential",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "from_numpy",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "load",
    "load_breast_cancer",
    "load_dataset",
    "load_diabetes",
    "load_iris",
    "load_wine",
    "make_moons",
    "make_spiral",
    "make_xor",
    "mean_squared_error",
    "mean_squared_error_grad",
    "relu",
    "relu_grad",
    "save",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_grad",
    "tanh",
    "tanh_grad",
    "to_numpy",
]
