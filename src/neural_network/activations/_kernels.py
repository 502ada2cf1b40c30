"""The arithmetic of every element-wise activation, each written once: value and slope side by side.

A :class:`Kernel` is one activation's ``value(xp, w) = f(w)`` and ``slope(xp, w) = f'(w)``
on a trusted array ``w`` of any array-API library ``xp``, with no checks. The public
functions of :mod:`~neural_network.activations._elementwise` check ``Z`` and run these in
float64, rounding once to ``Z``'s dtype; :data:`~neural_network.activations._registry.LAYER_KERNELS`
makes the layers' unchecked NumPy steps from the same kernels. Options (``negative_slope``,
``alpha``, ``beta``) are trailing arguments whose defaults are the public defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from neural_network import _numerics
from neural_network._validation import Array, Namespace


class Kernel(NamedTuple):
    """One activation's arithmetic, options at their defaults."""

    value: Callable[[Namespace, Array], Array]
    """``f(w)``."""
    slope: Callable[[Namespace, Array], Array]
    """``f'(w)``, element by element."""
    through: Callable[[Namespace, Array, Array], Array] | None = None
    """``(w, g) -> g f'(w)`` in one step, where that is exact and cheaper than the product."""
    in_float64: bool = True
    """False where the kernel is exact in any dtype, so that ``Z``'s own dtype is kept."""
    numpy_value: Callable[[Array], Array] | None = None
    """``f(w)`` for a NumPy array by a cheaper NumPy call, bit for bit ``value``'s result."""


IDENTITY = Kernel(
    value=lambda xp, w: w,
    slope=lambda xp, w: xp.ones_like(w),
    through=lambda xp, w, g: g,
    in_float64=False,
)

SIGMOID = Kernel(value=_numerics.sigmoid, slope=_numerics.logistic_density)


def _tanh_slope(xp: Namespace, w: Array) -> Array:
    return _numerics.logistic_density(xp, 2.0 * w, 4.0)  # sech(w)**2 = 4 e / (1 + e)**2, e = exp(-2|w|)


TANH = Kernel(value=lambda xp, w: xp.tanh(w), slope=_tanh_slope)

# --------------------------------------------------------------------------- piecewise linear


def _relu_through(xp: Namespace, w: Array, g: Array) -> Array:
    """``g`` where ``w > 0``, else 0: ``g`` times relu's slope at ``w``."""
    return xp.where(w > 0, g, xp.zeros_like(g))


RELU = Kernel(
    value=lambda xp, w: _relu_through(xp, w, w),
    slope=lambda xp, w: xp.astype(w > 0, w.dtype),
    through=lambda xp, w, g: xp.multiply(g, w > 0),  # NumPy multiplies by the mask as by 1.0 and 0.0
    in_float64=False,
    numpy_value=lambda w: np.maximum(w, 0),  # NumPy's max(-0.0, 0) is +0.0, as where() gives
)

LEAKY_SLOPE = 0.01
"""leaky_relu's default ``negative_slope`` (PyTorch's)."""


def leaky_relu_through(xp: Namespace, w: Array, g: Array, a: float = LEAKY_SLOPE) -> Array:
    """``g`` where ``w > 0``, else ``a g``: ``g`` times leaky_relu's slope at ``w``."""
    return xp.where(w > 0, g, a * g)


def leaky_relu_value(xp: Namespace, w: Array, a: float = LEAKY_SLOPE) -> Array:
    return leaky_relu_through(xp, w, w, a)


def leaky_relu_slope(xp: Namespace, w: Array, a: float = LEAKY_SLOPE) -> Array:
    return leaky_relu_through(xp, w, xp.ones_like(w), a)


LEAKY_RELU = Kernel(value=leaky_relu_value, slope=leaky_relu_slope, through=leaky_relu_through)

# --------------------------------------------------------------------------- smooth


def elu_value(xp: Namespace, w: Array, a: float = 1.0) -> Array:
    # expm1 of min(w, 0), not of w: xp.where evaluates both branches, and expm1(1000) overflows.
    return xp.where(w > 0, w, a * xp.expm1(xp.minimum(w, xp.zeros_like(w))))


def elu_slope(xp: Namespace, w: Array, a: float = 1.0) -> Array:
    return xp.where(w > 0, xp.ones_like(w), a * xp.exp(xp.minimum(w, xp.zeros_like(w))))


ELU = Kernel(value=elu_value, slope=elu_slope)


def _gelu_value(xp: Namespace, w: Array) -> Array:
    tail = _numerics.gelu_tail(xp, xp.abs(w))  # -gelu(-|w|), at most |w| / 2
    return xp.where(w >= 0, w - tail, -tail)


def _gelu_slope(xp: Namespace, w: Array) -> Array:
    tail = _numerics.gelu_slope_tail(xp, xp.abs(w))  # gelu'(-|w|); gelu'(w) + gelu'(-w) = 1
    return xp.where(w > 0, 1.0 - tail, tail)


GELU = Kernel(value=_gelu_value, slope=_gelu_slope)

GELU_TANH = Kernel(value=_numerics.gelu_tanh, slope=_numerics.gelu_tanh_slope)
"""The GELU's tanh approximation, ``gelu(Z, approximate="tanh")``."""


def softplus_value(xp: Namespace, w: Array, b: float = 1.0) -> Array:
    return _numerics.softplus_scaled(xp, w, b)


def softplus_slope(xp: Namespace, w: Array, b: float = 1.0) -> Array:
    return _numerics.sigmoid_scaled(xp, w, b)  # the logistic function of b w


SOFTPLUS = Kernel(value=softplus_value, slope=softplus_slope)
