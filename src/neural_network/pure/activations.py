r"""Article 2: activation functions, each with its derivative right beside it.

A neuron's weighted sum ``z`` goes through an activation ``f(z)``; backpropagation
needs its slope ``f'(z)``, so every ``<name>`` here has a ``<name>_grad`` next to it.
The names and conventions are those of the NumPy edition (``neural_network.sigmoid``,
...), so that the same network gives the same numbers in both editions.

Each function takes a number, a list of numbers or a list of rows (lists of numbers)
and returns a float, a list or a list of rows of floats, the same shape, element by
element. (The NumPy edition takes arrays of any shape.) ``+-inf`` give the limits;
NaN is refused.

``softmax`` is the exception: it turns a whole list of scores into probabilities that
sum to 1, so it takes one list (or a list of rows, each normalized on its own) and
``softmax_grad(Z, grad_output)`` returns the gradient with respect to ``Z`` given the
gradient with respect to the probabilities, as in the NumPy edition.

Every function is stable at the extremes: ``sigmoid(-1000)`` is ``0.0``, not an
``OverflowError``, and ``softmax([1000, 0])`` is ``[1.0, 0.0]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from neural_network.pure import _checks

__all__ = [
    "ACTIVATIONS",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_grad",
    "tanh",
    "tanh_grad",
]

Tensor = float | list[float] | list[list[float]]
"""What an element-wise activation returns: a float, a list, or a list of rows, as it was given."""

Scalar = Callable[[float], float]


# --------------------------------------------------------------------------- identity


def _identity(z: float) -> float:
    return z


def _identity_grad(z: float) -> float:
    return 1.0


def identity(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    """The identity, ``f(z) = z``: the activation of a linear (output) layer.

    >>> identity([-2, 0, 3])
    [-2.0, 0.0, 3.0]
    """
    return _each("identity", _identity, Z)


def identity_grad(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    """Derivative of :func:`identity`: 1 everywhere.

    >>> identity_grad([-2.0, 3.0])
    [1.0, 1.0]
    """
    return _each("identity_grad", _identity_grad, Z)


# --------------------------------------------------------------------------- sigmoid


def _sigmoid(z: float) -> float:
    # exp is only ever taken of -|z|: exp(1000) would overflow, exp(-1000) is just 0.
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _sigmoid_grad(z: float) -> float:
    # sigmoid(z) * sigmoid(-z) = e / (1 + e)**2 with e = exp(-|z|): the same value as
    # s * (1 - s), but it keeps its accuracy where s rounds to 1 (z > 37).
    e = math.exp(-abs(z))
    return e / ((1.0 + e) * (1.0 + e))


def sigmoid(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    r"""The logistic function, :math:`\sigma(z) = 1 / (1 + e^{-z})`, between 0 and 1.

    >>> sigmoid(0.0)
    0.5
    >>> sigmoid([-1000.0, 1000.0])
    [0.0, 1.0]
    """
    return _each("sigmoid", _sigmoid, Z)


def sigmoid_grad(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    r"""Derivative of :func:`sigmoid`: :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, at most 1/4.

    >>> sigmoid_grad(0.0)
    0.25
    """
    return _each("sigmoid_grad", _sigmoid_grad, Z)


# --------------------------------------------------------------------------- tanh


def _tanh(z: float) -> float:
    return math.tanh(z)


def _tanh_grad(z: float) -> float:
    # 1 - tanh(z)**2 = 4e / (1 + e)**2 with e = exp(-2|z|): the textbook form is exactly
    # 0 from |z| > 19, where tanh rounds to 1, although the slope is not.
    e = math.exp(-2.0 * abs(z))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def tanh(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    r"""The hyperbolic tangent, :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`, between -1 and 1.

    >>> tanh([0.0, 1000.0])
    [0.0, 1.0]
    """
    return _each("tanh", _tanh, Z)


def tanh_grad(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    r"""Derivative of :func:`tanh`: :math:`1 - \tanh^2(z)`.

    >>> tanh_grad(0.0)
    1.0
    """
    return _each("tanh_grad", _tanh_grad, Z)


# --------------------------------------------------------------------------- relu, leaky_relu


def _relu(z: float) -> float:
    return z if z > 0.0 else 0.0


def _relu_grad(z: float) -> float:
    # relu has no derivative at 0; 0 is used there, as PyTorch and the NumPy edition do.
    return 1.0 if z > 0.0 else 0.0


def relu(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    """The rectified linear unit, ``max(z, 0)``.

    >>> relu([-2.0, 0.0, 3.0])
    [0.0, 0.0, 3.0]
    """
    return _each("relu", _relu, Z)


def relu_grad(Z: float | Sequence[float] | Sequence[Sequence[float]]) -> Tensor:
    """Derivative of :func:`relu`: 1 where ``z > 0``, else 0 (0 at ``z = 0`` too).

    >>> relu_grad([-2.0, 0.0, 3.0])
    [0.0, 0.0, 1.0]
    """
    return _each("relu_grad", _relu_grad, Z)


def _leaky(slope: float) -> tuple[Scalar, Scalar]:
    def forward(z: float) -> float:
        return z if z > 0.0 else (0.0 if slope == 0.0 else slope * z)  # 0 * -inf would be NaN

    def backward(z: float) -> float:
        return 1.0 if z > 0.0 else slope  # the slope at z = 0, as PyTorch

    return forward, backward


def leaky_relu(
    Z: float | Sequence[float] | Sequence[Sequence[float]], *, negative_slope: float = 0.01
) -> Tensor:
    """Leaky ReLU: ``z`` for ``z > 0``, else ``negative_slope * z`` (PyTorch's name and default).

    >>> leaky_relu([-2.0, 3.0], negative_slope=0.1)
    [-0.2, 3.0]
    """
    slope = _checks.real_option("leaky_relu", "negative_slope", negative_slope, low=-math.inf)
    return _each("leaky_relu", _leaky(slope)[0], Z)


def leaky_relu_grad(
    Z: float | Sequence[float] | Sequence[Sequence[float]], *, negative_slope: float = 0.01
) -> Tensor:
    """Derivative of :func:`leaky_relu`: 1 for ``z > 0``, else ``negative_slope`` (also at 0).

    >>> leaky_relu_grad([-2.0, 0.0, 3.0], negative_slope=0.1)
    [0.1, 0.1, 1.0]
    """
    slope = _checks.real_option("leaky_relu_grad", "negative_slope", negative_slope, low=-math.inf)
    return _each("leaky_relu_grad", _leaky(slope)[1], Z)


# --------------------------------------------------------------------------- softmax


def _softmax_row(z: list[float]) -> list[float]:
    # Subtracting the largest score first changes nothing mathematically (the factor
    # e^-max cancels) but keeps every exp at most 1: exp(1000) would overflow.
    largest = max(z)
    exps = [math.exp(v - largest) for v in z]
    total = math.fsum(exps)
    return [e / total for e in exps]


def softmax(Z: Sequence[float] | Sequence[Sequence[float]]) -> list[float] | list[list[float]]:
    r"""Softmax, :math:`s_i = e^{z_i} / \sum_j e^{z_j}`: scores to probabilities that sum to 1.

    ``Z`` is one list of scores, or a list of rows (each row normalized on its own, as
    ``axis=-1`` in the NumPy edition). A single number is refused: it has nothing to be
    normalized against. The scores must be finite (the NumPy edition also takes
    ``-inf``, to mask an entry out).

    >>> softmax([0.0, 0.0])
    [0.5, 0.5]
    >>> softmax([[1000.0, 0.0]])
    [[1.0, 0.0]]
    """
    one_row, rows = _checks.logits("softmax", "Z", Z)
    result = [_softmax_row(row) for row in rows]
    return result[0] if one_row else result


def softmax_grad(
    Z: Sequence[float] | Sequence[Sequence[float]], grad_output: Sequence[float] | Sequence[Sequence[float]]
) -> list[float] | list[list[float]]:
    r"""Backward pass of :func:`softmax`: :math:`\partial L/\partial z_i = s_i (g_i - \sum_j g_j s_j)`.

    ``grad_output`` is :math:`g = \partial L / \partial s`, the gradient of the loss with
    respect to the probabilities, in ``Z``'s shape. The full derivative of a softmax is a
    matrix per row (the Jacobian :math:`\operatorname{diag}(s) - s s^T`); backpropagation
    only needs its product with ``g``, which is what is returned, as in the NumPy
    edition and PyTorch.

    >>> softmax_grad([0.0, 0.0], [1.0, 0.0])
    [0.25, -0.25]
    """
    one_row, rows = _checks.logits("softmax_grad", "Z", Z)
    _, grads = _checks.logits("softmax_grad", "grad_output", grad_output)
    _checks.same_shape(
        "softmax_grad", "grad_output", grads, (len(rows), len(rows[0])), " It must have the shape of Z."
    )
    result = []
    for z, g in zip(rows, grads, strict=True):
        s = _softmax_row(z)
        inner = math.fsum(gi * si for gi, si in zip(g, s, strict=True))
        result.append([si * (gi - inner) for gi, si in zip(g, s, strict=True)])
    return result[0] if one_row else result


# --------------------------------------------------------------------------- by name, for layers

ACTIVATIONS: dict[str, tuple[Scalar, Scalar]] = {
    "identity": (_identity, _identity_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "tanh": (_tanh, _tanh_grad),
    "relu": (_relu, _relu_grad),
    "leaky_relu": _leaky(0.01),
}
"""The element-wise activations a layer can use, by name: ``(f, f_grad)`` on one number.

``leaky_relu`` has its default slope, 0.01, as in the NumPy edition's layers. softmax
is not here: it is not element-wise. For classification leave the last layer linear
and use the ``cross_entropy`` loss, which applies the softmax itself.
"""


# --------------------------------------------------------------------------- shared step


def _each(func: str, f: Scalar, Z: object) -> Tensor:
    """``f`` applied to every number of ``Z``, keeping ``Z``'s shape."""
    kind, rows = _checks.elementwise(func, Z)
    result = [[f(z) for z in row] for row in rows]
    if kind == "number":
        return result[0][0]
    return result[0] if kind == "list" else result
