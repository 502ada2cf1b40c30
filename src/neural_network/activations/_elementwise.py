"""Element-wise activations ``f(Z)``, each with its derivative ``f_grad(Z)`` right beside it.

Each function checks ``Z`` and its options, then runs its activation's kernel (from
:mod:`~neural_network.activations._kernels`) in float64 and rounds once to ``Z``'s dtype;
identity and relu, exact in any dtype, keep ``Z``'s own.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from neural_network._validation import Array
from neural_network.activations._checks import approximation, in_pieces, prepare, quiet, real_option
from neural_network.activations._kernels import (
    GELU,
    GELU_TANH,
    IDENTITY,
    LEAKY_SLOPE,
    RELU,
    SIGMOID,
    TANH,
    elu_slope,
    elu_value,
    leaky_relu_slope,
    leaky_relu_value,
    softplus_slope,
    softplus_value,
)

# --------------------------------------------------------------------------- identity


def identity(Z: object) -> Array:
    r"""The identity, :math:`f(z) = z`: the activation of a linear output layer.

    Returns a new array (never ``Z`` itself), so writing into the result leaves ``Z``
    unchanged.

    Examples
    --------
    >>> print(identity([-2, 0, 3]))
    [-2.  0.  3.]
    """
    xp, z, _ = prepare("identity", Z)
    return xp.astype(IDENTITY.value(xp, z), z.dtype, copy=True)


def identity_grad(Z: object) -> Array:
    r"""Derivative of :func:`identity`: :math:`f'(z) = 1`.

    Examples
    --------
    >>> print(identity_grad([-2.0, 0.0, 3.0]))
    [1. 1. 1.]
    """
    xp, z, _ = prepare("identity_grad", Z)
    return IDENTITY.slope(xp, z)


# --------------------------------------------------------------------------- sigmoid


def sigmoid(Z: object) -> Array:
    r"""The logistic function, element-wise: :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Stable for any input: ``exp`` is only taken of ``-|z|``, so there is no overflow
    (and no warning) at ``z = -1000``, and tiny outputs such as ``sigmoid(-700)``
    keep full relative accuracy. ``+-inf`` give exactly 1 and 0; NaN is refused.

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, in the input's array library and
        float dtype (float64 for integers, lists and numbers).

    Examples
    --------
    >>> print(sigmoid([-1000.0, 0.0, 1000.0]))
    [0.  0.5 1. ]
    """
    xp, z, work = prepare("sigmoid", Z)
    with np.errstate(under="ignore"):
        return xp.astype(SIGMOID.value(xp, work), z.dtype, copy=False)


def sigmoid_grad(Z: object) -> Array:
    r"""Derivative of :func:`sigmoid`: :math:`\sigma'(z) = \sigma(z)\,\sigma(-z) = e^{-|z|} / (1 + e^{-|z|})^2`.

    The product of the two tails (rather than ``s * (1 - s)``) keeps full relative
    accuracy where ``sigmoid(z)`` rounds to 1; it is computed from one ``exp`` with the
    sum ``1 + e`` kept unrounded.

    Examples
    --------
    >>> print(sigmoid_grad([0.0]))
    [0.25]
    """
    xp, z, work = prepare("sigmoid_grad", Z)
    with quiet():
        return xp.astype(in_pieces(xp, lambda w: SIGMOID.slope(xp, w), work), z.dtype, copy=False)


# --------------------------------------------------------------------------- tanh


def tanh(Z: object) -> Array:
    r"""The hyperbolic tangent, element-wise: :math:`\tanh(z) = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`.

    The library's own ``tanh`` (within about one ulp; exactly ``+-1`` from ``|z| > 19``).

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, library and float dtype.

    Examples
    --------
    >>> print(tanh([-1000.0, 0.0, 0.5]))
    [-1.          0.          0.46211716]
    """
    xp, z, work = prepare("tanh", Z)
    with quiet():
        return xp.astype(TANH.value(xp, work), z.dtype, copy=False)


def tanh_grad(Z: object) -> Array:
    r"""Derivative of :func:`tanh`: :math:`\tanh'(z) = 1 - \tanh^2(z) = \operatorname{sech}^2(z)`.

    Computed as :math:`4e / (1 + e)^2` with :math:`e = e^{-2|z|}`: the textbook
    ``1 - tanh(z)**2`` is exactly 0 from ``|z| > 19`` (where ``tanh`` rounds to 1)
    although the derivative stays above the smallest float up to ``|z| = 373``.

    Examples
    --------
    >>> print(tanh_grad([0.0, 20.0]))
    [1.0000000e+00 1.6993417e-17]
    """
    xp, z, work = prepare("tanh_grad", Z)
    with quiet():
        return xp.astype(in_pieces(xp, lambda w: TANH.slope(xp, w), work), z.dtype, copy=False)


# --------------------------------------------------------------------------- relu, leaky_relu


def relu(Z: object) -> Array:
    r"""The rectified linear unit, element-wise: :math:`\operatorname{relu}(z) = \max(z, 0)`.

    Exact (no rounding at all), computed in ``Z``'s own dtype.

    Examples
    --------
    >>> print(relu([-2.0, 0.0, 3.0]))
    [0. 0. 3.]
    """
    xp, z, _ = prepare("relu", Z)
    return RELU.value(xp, z)


def relu_grad(Z: object) -> Array:
    r"""Derivative of :func:`relu`: 1 where :math:`z > 0`, else 0.

    At :math:`z = 0`, where relu has no derivative, 0 is returned, as PyTorch and
    TensorFlow do: a unit that is exactly at 0 does not learn through this input.

    Examples
    --------
    >>> print(relu_grad([-2.0, 0.0, 3.0]))
    [0. 0. 1.]
    """
    xp, z, _ = prepare("relu_grad", Z)
    return RELU.slope(xp, z)


def leaky_relu(Z: object, *, negative_slope: float = LEAKY_SLOPE) -> Array:
    r"""Leaky ReLU, element-wise: :math:`z` for :math:`z > 0`, else :math:`a z`.

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, library and float dtype.
    negative_slope : float, keyword-only
        The slope :math:`a` for negative inputs (PyTorch's name and default, 0.01; Keras
        calls it ``alpha`` and defaults to 0.3). Any finite number.

    Examples
    --------
    >>> print(leaky_relu([-2.0, 0.0, 3.0], negative_slope=0.1))
    [-0.2  0.   3. ]
    """
    slope = real_option("leaky_relu", "negative_slope", negative_slope)
    xp, z, work = prepare("leaky_relu", Z)
    if slope == 0.0:  # 0 * -inf would be NaN; the limit is 0
        return RELU.value(xp, z)
    with quiet():
        return xp.astype(leaky_relu_value(xp, work, slope), z.dtype, copy=False)


def leaky_relu_grad(Z: object, *, negative_slope: float = LEAKY_SLOPE) -> Array:
    r"""Derivative of :func:`leaky_relu`: 1 for :math:`z > 0`, else :math:`a`.

    At :math:`z = 0` the slope :math:`a` is returned, as PyTorch does (with
    ``negative_slope=0`` this is :func:`relu_grad`).

    Examples
    --------
    >>> print(leaky_relu_grad([-2.0, 0.0, 3.0], negative_slope=0.1))
    [0.1 0.1 1. ]
    """
    slope = real_option("leaky_relu_grad", "negative_slope", negative_slope)
    xp, z, work = prepare("leaky_relu_grad", Z)
    return xp.astype(leaky_relu_slope(xp, work, slope), z.dtype, copy=False)


# --------------------------------------------------------------------------- elu


def elu(Z: object, *, alpha: float = 1.0) -> Array:
    r"""Exponential linear unit: :math:`z` for :math:`z > 0`, else :math:`\alpha (e^{z} - 1)`.

    ``expm1`` gives :math:`e^z - 1` to full relative accuracy near 0, where
    ``exp(z) - 1`` cancels (at ``z = -1e-10`` it keeps 6 digits, expm1 all 16).

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, library and float dtype.
    alpha : float, keyword-only
        The value :math:`-\alpha` approached as :math:`z \to -\infty` (default 1, as in
        PyTorch and Keras). Any finite number.

    Examples
    --------
    >>> print(elu([-1000.0, -1e-10, 2.0]))
    [-1.e+00 -1.e-10  2.e+00]
    """
    a = real_option("elu", "alpha", alpha)
    xp, z, work = prepare("elu", Z)
    with quiet():
        return xp.astype(elu_value(xp, work, a), z.dtype, copy=False)


def elu_grad(Z: object, *, alpha: float = 1.0) -> Array:
    r"""Derivative of :func:`elu`: 1 for :math:`z > 0`, else :math:`\alpha e^{z}`.

    At :math:`z = 0` the left derivative :math:`\alpha` is returned, as PyTorch does
    (both sides agree when :math:`\alpha = 1`).

    Examples
    --------
    >>> print(elu_grad([-1.0, 0.0, 2.0]))
    [0.36787944 1.         1.        ]
    """
    a = real_option("elu_grad", "alpha", alpha)
    xp, z, work = prepare("elu_grad", Z)
    with quiet():
        return xp.astype(elu_slope(xp, work, a), z.dtype, copy=False)


# --------------------------------------------------------------------------- gelu

Approximation = Literal["none", "tanh"]


def gelu(Z: object, *, approximate: Approximation = "none") -> Array:
    r"""Gaussian error linear unit: :math:`z\,\Phi(z)`, :math:`\Phi` the standard normal CDF.

    .. math:: \operatorname{gelu}(z) = z\,\Phi(z) = \frac{z}{2}\left(1 + \operatorname{erf}(z/\sqrt 2)\right)

    With ``approximate="tanh"``, the approximation of Hendrycks & Gimpel (2016) used by
    GPT-2 and the original BERT:

    .. math:: \frac{z}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(z + 0.044715\,z^3)\right)\right)

    Both are computed to a few ulps for every input, the tails included (down to
    ``gelu(-38) = -1.1e-314``), where ``1 + erf`` and ``1 + tanh`` cancel to 0.

    *How the exact GELU is computed.* NumPy has no ``erf``, nor has the array API
    standard. ``math.erf`` element by element costs a Python call per element (about
    twice the time of the whole computation below on NumPy, and no option for a GPU
    tensor), ``1 + erf(x)`` cancels in the negative tail, and even ``erfc(-z / sqrt 2)``
    loses digits there, because the rounding of ``z / sqrt 2`` is magnified about
    ``z**2``-fold. So :math:`\Phi(-t) = m(t)\,e^{-t^2/2}` is evaluated from its two
    factors: the Gaussian with ``t**2`` formed exactly, and the slowly varying
    :math:`m(t)` (half the scaled complementary error function) as one polynomial,
    fitted with mpmath, in a variable that maps :math:`[0, 40]` onto an interval. It uses
    array-API operations only, so PyTorch tensors are computed in PyTorch, on their device.

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, library and float dtype.
    approximate : {"none", "tanh"}, keyword-only
        PyTorch's argument and values (``F.gelu(x, approximate="tanh")``).

    References
    ----------
    D. Hendrycks and K. Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415.

    Examples
    --------
    >>> print(gelu([-40.0, -1.0, 0.0, 1.0]))
    [-0.         -0.15865525  0.          0.84134475]
    >>> print(gelu([-1.0, 1.0], approximate="tanh"))
    [-0.15880801  0.84119199]
    """
    kernel = GELU_TANH if approximation("gelu", approximate) == "tanh" else GELU
    xp, z, work = prepare("gelu", Z)
    with quiet():
        return xp.astype(in_pieces(xp, lambda w: kernel.value(xp, w), work), z.dtype, copy=False)


def gelu_grad(Z: object, *, approximate: Approximation = "none") -> Array:
    r"""Derivative of :func:`gelu`: :math:`\Phi(z) + z\,\varphi(z)`, :math:`\varphi` the normal density.

    For ``approximate="tanh"`` the derivative of the approximation itself (what PyTorch's
    autograd returns for it): with :math:`x = \sqrt{8/\pi}\,(z + 0.044715 z^3)`,
    :math:`\sigma(x)\,\bigl(1 + z\,x'(z)\,\sigma(-x)\bigr)`.

    Both vanish at GELU's minimum (:math:`z \approx -0.7518`, resp. -0.7525); near it the
    derivative is computed as :math:`(z - z_0)` times a polynomial, so that it keeps full
    relative accuracy even there.

    Examples
    --------
    >>> print(gelu_grad([-1.0, 0.0, 1.0]))
    [-0.08331547  0.5         1.08331547]
    """
    kernel = GELU_TANH if approximation("gelu_grad", approximate) == "tanh" else GELU
    xp, z, work = prepare("gelu_grad", Z)
    with quiet():
        return xp.astype(in_pieces(xp, lambda w: kernel.slope(xp, w), work), z.dtype, copy=False)


# --------------------------------------------------------------------------- softplus


def softplus(Z: object, *, beta: float = 1.0) -> Array:
    r"""Softplus, a smooth ReLU: :math:`\frac{1}{\beta}\log\left(1 + e^{\beta z}\right)`.

    Computed as :math:`\max(z, 0) + \log(1 + e^{-|\beta z|}) / \beta`, exact for every
    input: no overflow for large :math:`z`, full relative accuracy for very negative
    :math:`z` (``softplus(-700) ~ 1e-304``).

    *Difference from PyTorch:* ``F.softplus`` has a ``threshold`` (default 20) above
    which it returns :math:`z` itself, an error of :math:`\log(1 + e^{-20}) \approx 2e-9`
    at :math:`\beta z = 20`, visible in float64. There is no threshold here: the exact
    formula never overflows, so nothing needs cutting.

    Parameters
    ----------
    Z : array_like
        Any shape; the output has the same shape, library and float dtype.
    beta : float, keyword-only
        Sharpness :math:`\beta > 0` (default 1, as in PyTorch); large :math:`\beta`
        approaches relu.

    Examples
    --------
    >>> print(softplus([-1.0, 0.0, 100.0]))
    [  0.31326169   0.69314718 100.        ]
    >>> print(softplus([-700.0, 1000.0]))
    [9.85967654e-305 1.00000000e+003]
    """
    b = real_option("softplus", "beta", beta, positive=True)
    xp, z, work = prepare("softplus", Z)
    with quiet():
        return xp.astype(in_pieces(xp, lambda w: softplus_value(xp, w, b), work), z.dtype, copy=False)


def softplus_grad(Z: object, *, beta: float = 1.0) -> Array:
    r"""Derivative of :func:`softplus`: :math:`\sigma(\beta z)`, the logistic function.

    Examples
    --------
    >>> print(softplus_grad([-800.0, 0.0, 800.0]))
    [0.  0.5 1. ]
    """
    b = real_option("softplus_grad", "beta", beta, positive=True)
    xp, z, work = prepare("softplus_grad", Z)
    with quiet():
        return xp.astype(in_pieces(xp, lambda w: softplus_slope(xp, w, b), work), z.dtype, copy=False)
