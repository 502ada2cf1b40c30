"""Activation functions, each with its derivative right beside it.

Two families live here:

* **Element-wise** activations ``f(Z)`` and their derivatives ``f_grad(Z) = f'(Z)``,
  element by element, with ``Z``'s shape: identity, sigmoid, tanh, relu, leaky_relu,
  elu, gelu and softplus. A layer's backward pass multiplies ``f_grad(Z)`` by the
  upstream gradient. They are listed by name in :data:`ACTIVATIONS`, for layers to look
  up with :func:`get_activation`.
* **Along an axis**: softmax and log_softmax. Every output depends on the whole row, so
  the full derivative is a Jacobian matrix per row; backpropagation never needs it, only
  its product with the upstream gradient, so ``softmax_grad(Z, grad_output)`` returns
  that vector-Jacobian product (what PyTorch's autograd computes), in ``Z``'s shape.

Every function accepts arrays of any array-API library (NumPy, PyTorch, ...) and
returns the same library; float32 stays float32, integers, lists and Python numbers
become float64. The computation runs in float64 and is rounded once at the end, and it
is stable at the extremes (no overflow, no warning, full relative accuracy in the
tails): tests/test_activations.py measures every function against mpmath in units in
the last place (ulp). ``Z`` may hold ``+-inf`` (the limits are returned); NaN is refused.
"""

from neural_network.activations._elementwise import elu as elu
from neural_network.activations._elementwise import elu_grad as elu_grad
from neural_network.activations._elementwise import gelu as gelu
from neural_network.activations._elementwise import gelu_grad as gelu_grad
from neural_network.activations._elementwise import identity as identity
from neural_network.activations._elementwise import identity_grad as identity_grad
from neural_network.activations._elementwise import leaky_relu as leaky_relu
from neural_network.activations._elementwise import leaky_relu_grad as leaky_relu_grad
from neural_network.activations._elementwise import relu as relu
from neural_network.activations._elementwise import relu_grad as relu_grad
from neural_network.activations._elementwise import sigmoid as sigmoid
from neural_network.activations._elementwise import sigmoid_grad as sigmoid_grad
from neural_network.activations._elementwise import softplus as softplus
from neural_network.activations._elementwise import softplus_grad as softplus_grad
from neural_network.activations._elementwise import tanh as tanh
from neural_network.activations._elementwise import tanh_grad as tanh_grad
from neural_network.activations._registry import ACTIVATIONS as ACTIVATIONS
from neural_network.activations._registry import get_activation as get_activation
from neural_network.activations._softmax import log_softmax as log_softmax
from neural_network.activations._softmax import log_softmax_grad as log_softmax_grad
from neural_network.activations._softmax import softmax as softmax
from neural_network.activations._softmax import softmax_grad as softmax_grad

__all__ = [
    "ACTIVATIONS",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "get_activation",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "log_softmax",
    "log_softmax_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_grad",
    "softplus",
    "softplus_grad",
    "tanh",
    "tanh_grad",
]
