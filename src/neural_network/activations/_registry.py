"""The element-wise activations by name (:data:`ACTIVATIONS`, :func:`get_activation`), and
their unchecked fast paths for :class:`~neural_network.layers.Dense` (:data:`LAYER_KERNELS`),
both made from the kernels of :mod:`neural_network.activations._kernels`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import partial

import numpy as np

from neural_network._validation import Array, Namespace
from neural_network.activations._checks import quiet
from neural_network.activations._elementwise import (
    elu,
    elu_grad,
    gelu,
    gelu_grad,
    identity,
    identity_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softplus,
    softplus_grad,
    tanh,
    tanh_grad,
)
from neural_network.activations._kernels import (
    ELU,
    GELU,
    GELU_TANH,
    IDENTITY,
    LEAKY_RELU,
    RELU,
    SIGMOID,
    SOFTPLUS,
    TANH,
    Kernel,
)
from neural_network.errors import InvalidOptionError

Activation = Callable[[object], Array]
"""An element-wise activation or its derivative: ``f(Z) -> array`` of ``Z``'s shape."""


def _gelu_tanh(Z: object) -> Array:
    return gelu(Z, approximate="tanh")


def _gelu_tanh_grad(Z: object) -> Array:
    return gelu_grad(Z, approximate="tanh")


ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "gelu": (gelu, gelu_grad),
    "gelu_tanh": (_gelu_tanh, _gelu_tanh_grad),
    "softplus": (softplus, softplus_grad),
}
"""Every element-wise activation by name: ``(f, f_grad)``, each taking only ``Z``.

Options take their defaults (``leaky_relu``: slope 0.01; ``elu``: alpha 1; ``softplus``:
beta 1); ``"gelu_tanh"`` is :func:`gelu` with ``approximate="tanh"``. softmax and
log_softmax are not element-wise and are not listed: their backward pass needs the
upstream gradient (see :func:`~neural_network.activations.softmax_grad`).
"""

_ALIASES = {
    "linear": "identity",
    "none": "identity",
    "logistic": "sigmoid",
    "swish": None,
    "silu": None,
    "softmax": None,
    "log_softmax": None,
    "logsoftmax": None,
}


def get_activation(name: object) -> tuple[Activation, Activation]:
    """The element-wise activation called ``name`` and its derivative, from :data:`ACTIVATIONS`.

    Names are exact (lower case, with underscores): a near miss such as ``"ReLU"`` is an
    error that suggests ``"relu"``, never a silent guess.

    Examples
    --------
    >>> f, f_grad = get_activation("relu")
    >>> print(f([-1.0, 2.0]), f_grad([-1.0, 2.0]))
    [0. 2.] [0. 1.]
    """
    if isinstance(name, str) and name in ACTIVATIONS:
        return ACTIVATIONS[name]
    valid = ", ".join(repr(key) for key in ACTIVATIONS)
    message = f"get_activation: unknown activation {name!r}; expected one of {valid}."
    if not isinstance(name, str):
        if callable(name):
            message += f" Pass the name as a string, e.g. {getattr(name, '__name__', 'relu')!r}."
        raise InvalidOptionError(message)
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    squeezed = key.replace("_", "")
    match = next((n for n in ACTIVATIONS if n.replace("_", "") == squeezed), None)
    if match is None and key in _ALIASES:
        match = _ALIASES[key]
        if match is None:
            message += f" {name!r} is not provided as an element-wise activation" + (
                ": softmax and log_softmax normalize along an axis; call them directly, or "
                "use the cross_entropy loss, which applies log_softmax itself."
                if "softmax" in key
                else "."
            )
            raise InvalidOptionError(message)
    if match is None:
        close = difflib.get_close_matches(key, list(ACTIVATIONS), n=1, cutoff=0.6)
        match = close[0] if close else None
    if match is not None:
        message += f" Did you mean {match!r}?"
    raise InvalidOptionError(message)


# --------------------------------------------------------------------------- kernels for layers

Forward = Callable[[Array], Array]
"""A layer's activation on a trusted NumPy array: ``a = f(z)``, in ``z``'s dtype."""

Backward = Callable[[Array, Array], Array]
"""A layer's backward step through its activation: ``(z, grad_a) -> grad_z = grad_a * f'(z)``."""


def _in_float64(part: Callable[[Namespace, Array], Array]) -> Forward:
    """``part`` computed in float64 and rounded once to ``z``'s dtype, as the public functions do."""

    def run(z: Array) -> Array:
        with quiet():
            return part(np, z.astype(np.float64, copy=False)).astype(z.dtype, copy=False)

    return run


def _chain(slope: Forward) -> Backward:
    def backward(z: Array, grad: Array) -> Array:
        product: Array = grad * slope(z)
        return product

    return backward


def _layer_kernels(kernel: Kernel) -> tuple[Forward, Backward]:
    """A layer's forward and backward steps, made from ``kernel`` for NumPy arrays."""
    if kernel.numpy_value is not None:
        forward = kernel.numpy_value
    elif kernel.in_float64:
        forward = _in_float64(kernel.value)
    else:
        forward = partial(kernel.value, np)
    if kernel.through is not None:
        return forward, partial(kernel.through, np)
    slope = _in_float64(kernel.slope) if kernel.in_float64 else partial(kernel.slope, np)
    return forward, _chain(slope)


_KERNELS: dict[str, Kernel] = {
    "identity": IDENTITY,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "elu": ELU,
    "gelu": GELU,
    "gelu_tanh": GELU_TANH,
    "softplus": SOFTPLUS,
}

LAYER_KERNELS: dict[str, tuple[Forward, Backward]] = {name: _layer_kernels(k) for name, k in _KERNELS.items()}
"""The activations of :data:`ACTIVATIONS` for a layer's trusted arrays: the same kernels as
the public functions (float64 working precision, one rounding), without the checks, and
with backward fused into one step where a kernel has one (``identity`` passes the gradient
through, ``relu`` and ``leaky_relu`` scale it without a slope array). The layer has
validated its input once, at the network's entrance."""
