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

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable
from typing import Literal

import array_api_compat
import numpy as np

from neural_network import _numerics, _validation
from neural_network._validation import EXTENDED_REAL, REAL, Array, Namespace
from neural_network.errors import InvalidOptionError, NonFiniteError

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

# --------------------------------------------------------------------------- shared steps


def _prepare(func: str, Z: object) -> tuple[Namespace, Array, Array]:
    xp, device = _validation.namespace(func, Z=Z)
    z = _validation.as_real_array(func, "Z", Z, xp, device)
    _validation.check_values(func, "Z", z, xp, EXTENDED_REAL)
    return xp, z, _validation.working(xp, z)


_CHUNK = 32768
"""Elements per piece when a long NumPy computation is run in pieces (see :func:`_elementwise`)."""


def _elementwise(xp: Namespace, kernel: Callable[[Array], Array], work: Array) -> Array:
    """``kernel(work)``; for a large NumPy array, piece by piece.

    The exact GELU takes about a hundred array operations. On a million elements every
    intermediate array is 8 MB of fresh memory; in pieces of 32768 elements (256 kB) the
    intermediates stay in the processor's cache and their memory is reused, which made
    the GELU about 2.5 times faster in our measurements. Other libraries (PyTorch on a
    GPU) get the whole array at once.
    """
    size = math.prod(work.shape)
    if size <= _CHUNK or not array_api_compat.is_numpy_namespace(xp):
        return kernel(work)
    flat = xp.reshape(work, (-1,))
    result = np.empty_like(flat)
    for start in range(0, size, _CHUNK):
        result[start : start + _CHUNK] = kernel(flat[start : start + _CHUNK])
    return xp.reshape(result, tuple(work.shape))


def _quiet() -> np.errstate:
    # A result below the smallest float is rounded to a subnormal or to 0, and one beyond
    # the largest (a float32 leaky_relu of -3e38 with slope 2) to inf: both are the
    # correctly rounded answers, not accidents worth a warning. Invalid operations
    # (NaN) still warn: none may happen for valid input.
    return np.errstate(under="ignore", over="ignore")


def _real_option(func: str, name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidOptionError(
            f"{func}: {name} must be a real number; got {value!r} (type {type(value).__name__}). "
            f"Pass a Python float, e.g. {name}=float(value)."
        )
    number = float(value)
    if not math.isfinite(number) or (positive and number <= 0.0):
        expected = "a positive finite number" if positive else "a finite number"
        raise InvalidOptionError(f"{func}: {name} must be {expected}; got {value!r}.")
    return number


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
    xp, z, _ = _prepare("identity", Z)
    return xp.astype(z, z.dtype, copy=True)


def identity_grad(Z: object) -> Array:
    r"""Derivative of :func:`identity`: :math:`f'(z) = 1`.

    Examples
    --------
    >>> print(identity_grad([-2.0, 0.0, 3.0]))
    [1. 1. 1.]
    """
    xp, z, _ = _prepare("identity_grad", Z)
    return xp.ones_like(z)


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
    xp, z, work = _prepare("sigmoid", Z)
    with np.errstate(under="ignore"):
        return xp.astype(_numerics.sigmoid(xp, work), z.dtype, copy=False)


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
    xp, z, work = _prepare("sigmoid_grad", Z)
    with _quiet():
        return xp.astype(_elementwise(xp, lambda w: _numerics.logistic_density(xp, w), work), z.dtype, copy=False)


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
    xp, z, work = _prepare("tanh", Z)
    with _quiet():
        return xp.astype(xp.tanh(work), z.dtype, copy=False)


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
    xp, z, work = _prepare("tanh_grad", Z)
    with _quiet():
        slope = _elementwise(xp, lambda w: _numerics.logistic_density(xp, 2.0 * w, 4.0), work)
        return xp.astype(slope, z.dtype, copy=False)


# --------------------------------------------------------------------------- relu, leaky_relu


def relu(Z: object) -> Array:
    r"""The rectified linear unit, element-wise: :math:`\operatorname{relu}(z) = \max(z, 0)`.

    Exact (no rounding at all), computed in ``Z``'s own dtype.

    Examples
    --------
    >>> print(relu([-2.0, 0.0, 3.0]))
    [0. 0. 3.]
    """
    xp, z, _ = _prepare("relu", Z)
    return xp.where(z > 0, z, xp.zeros_like(z))


def relu_grad(Z: object) -> Array:
    r"""Derivative of :func:`relu`: 1 where :math:`z > 0`, else 0.

    At :math:`z = 0`, where relu has no derivative, 0 is returned, as PyTorch and
    TensorFlow do: a unit that is exactly at 0 does not learn through this input.

    Examples
    --------
    >>> print(relu_grad([-2.0, 0.0, 3.0]))
    [0. 0. 1.]
    """
    xp, z, _ = _prepare("relu_grad", Z)
    return xp.astype(z > 0, z.dtype)


def leaky_relu(Z: object, *, negative_slope: float = 0.01) -> Array:
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
    slope = _real_option("leaky_relu", "negative_slope", negative_slope)
    xp, z, work = _prepare("leaky_relu", Z)
    if slope == 0.0:  # 0 * -inf would be NaN; the limit is 0
        return xp.where(z > 0, z, xp.zeros_like(z))
    with _quiet():
        return xp.astype(xp.where(work > 0, work, slope * work), z.dtype, copy=False)


def leaky_relu_grad(Z: object, *, negative_slope: float = 0.01) -> Array:
    r"""Derivative of :func:`leaky_relu`: 1 for :math:`z > 0`, else :math:`a`.

    At :math:`z = 0` the slope :math:`a` is returned, as PyTorch does (with
    ``negative_slope=0`` this is :func:`relu_grad`).

    Examples
    --------
    >>> print(leaky_relu_grad([-2.0, 0.0, 3.0], negative_slope=0.1))
    [0.1 0.1 1. ]
    """
    slope = _real_option("leaky_relu_grad", "negative_slope", negative_slope)
    xp, z, work = _prepare("leaky_relu_grad", Z)
    ones = xp.ones_like(work)
    return xp.astype(xp.where(work > 0, ones, slope * ones), z.dtype, copy=False)


# --------------------------------------------------------------------------- elu


def _elu(xp: Namespace, w: Array, a: float = 1.0) -> Array:
    # expm1 of min(z, 0), not of z: xp.where evaluates both branches, and expm1(1000) overflows.
    return xp.where(w > 0, w, a * xp.expm1(xp.minimum(w, xp.zeros_like(w))))


def _elu_slope(xp: Namespace, w: Array, a: float = 1.0) -> Array:
    return xp.where(w > 0, xp.ones_like(w), a * xp.exp(xp.minimum(w, xp.zeros_like(w))))


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
    a = _real_option("elu", "alpha", alpha)
    xp, z, work = _prepare("elu", Z)
    with _quiet():
        return xp.astype(_elu(xp, work, a), z.dtype, copy=False)


def elu_grad(Z: object, *, alpha: float = 1.0) -> Array:
    r"""Derivative of :func:`elu`: 1 for :math:`z > 0`, else :math:`\alpha e^{z}`.

    At :math:`z = 0` the left derivative :math:`\alpha` is returned, as PyTorch does
    (both sides agree when :math:`\alpha = 1`).

    Examples
    --------
    >>> print(elu_grad([-1.0, 0.0, 2.0]))
    [0.36787944 1.         1.        ]
    """
    a = _real_option("elu_grad", "alpha", alpha)
    xp, z, work = _prepare("elu_grad", Z)
    with _quiet():
        return xp.astype(_elu_slope(xp, work, a), z.dtype, copy=False)


# --------------------------------------------------------------------------- gelu

Approximation = Literal["none", "tanh"]


def _check_approximate(func: str, approximate: object) -> str:
    if isinstance(approximate, str) and approximate in ("none", "tanh"):
        return approximate
    message = f"{func}: approximate must be 'none' (the exact GELU) or 'tanh'; got {approximate!r}."
    if isinstance(approximate, bool):
        message += f" (JAX's approximate={approximate} is approximate={'tanh' if approximate else 'none'!r} here.)"
    elif isinstance(approximate, str) and approximate.lower() in ("erf", "exact", "false", "none"):
        message += " For the exact GELU (with erf) pass approximate='none'."
    raise InvalidOptionError(message)


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
    mode = _check_approximate("gelu", approximate)
    xp, z, work = _prepare("gelu", Z)
    with _quiet():
        if mode == "tanh":
            value = _elementwise(xp, lambda w: _numerics.gelu_tanh(xp, w), work)
        else:
            value = _elementwise(xp, lambda w: _exact_gelu(xp, w), work)
        return xp.astype(value, z.dtype, copy=False)


def _exact_gelu(xp: Namespace, z: Array) -> Array:
    tail = _numerics.gelu_tail(xp, xp.abs(z))  # -gelu(-|z|), at most |z| / 2
    return xp.where(z >= 0, z - tail, -tail)


def _exact_gelu_slope(xp: Namespace, z: Array) -> Array:
    tail = _numerics.gelu_slope_tail(xp, xp.abs(z))  # gelu'(-|z|); gelu'(z) + gelu'(-z) = 1
    return xp.where(z > 0, 1.0 - tail, tail)


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
    mode = _check_approximate("gelu_grad", approximate)
    xp, z, work = _prepare("gelu_grad", Z)
    with _quiet():
        if mode == "tanh":
            slope = _elementwise(xp, lambda w: _numerics.gelu_tanh_slope(xp, w), work)
        else:
            slope = _elementwise(xp, lambda w: _exact_gelu_slope(xp, w), work)
        return xp.astype(slope, z.dtype, copy=False)


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
    b = _real_option("softplus", "beta", beta, positive=True)
    xp, z, work = _prepare("softplus", Z)
    with _quiet():
        value = _elementwise(xp, lambda w: _numerics.softplus_scaled(xp, w, b), work)
        return xp.astype(value, z.dtype, copy=False)


def softplus_grad(Z: object, *, beta: float = 1.0) -> Array:
    r"""Derivative of :func:`softplus`: :math:`\sigma(\beta z)`, the logistic function.

    Examples
    --------
    >>> print(softplus_grad([-800.0, 0.0, 800.0]))
    [0.  0.5 1. ]
    """
    b = _real_option("softplus_grad", "beta", beta, positive=True)
    xp, z, work = _prepare("softplus_grad", Z)
    with _quiet():
        value = _elementwise(xp, lambda w: _numerics.sigmoid_scaled(xp, w, b), work)
        return xp.astype(value, z.dtype, copy=False)


# --------------------------------------------------------------------------- softmax, log_softmax


def _check_axis(func: str, axis: object, ndim: int) -> int:
    if ndim == 0:
        raise InvalidOptionError(
            f"{func}: Z is a scalar (0-d), but softmax normalizes along an axis, so Z needs at "
            "least one dimension. Pass a 1-d array of scores, e.g. Z.reshape(1) or [z]."
        )
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise InvalidOptionError(f"{func}: axis must be an integer; got {axis!r}.")
    if not -ndim <= int(axis) < ndim:
        raise InvalidOptionError(
            f"{func}: axis={axis} is out of range for a {ndim}-d Z; expected -{ndim} <= axis < {ndim}. "
            "The classes are usually on the last axis (axis=-1), or axis=1 for (N, C, ...) inputs."
        )
    return int(axis) % ndim


_NO_GRADIENT = object()
"""What the value functions pass for ``grad_output``: a caller's None must still be refused."""


def _prepare_logits(func: str, Z: object, axis: object, grad_output: object = _NO_GRADIENT) -> tuple[
    Namespace, Array, Array, int, Array | None
]:
    """Validate the logits (and the upstream gradient) and return them in float64."""
    arguments = {"Z": Z} if grad_output is _NO_GRADIENT else {"Z": Z, "grad_output": grad_output}
    xp, device = _validation.namespace(func, **arguments)
    z = _validation.as_real_array(func, "Z", Z, xp, device)
    g = None
    if grad_output is not _NO_GRADIENT:
        g = _validation.as_real_array(func, "grad_output", grad_output, xp, device)
        _validation.check_same_shape(func, "Z", z, "grad_output", g)
        _validation.check_values(func, "grad_output", g, xp, REAL)
        g = _validation.working(xp, g)
    axis = _check_axis(func, axis, z.ndim)
    _, high = _validation.check_values(func, "Z", z, xp, EXTENDED_REAL)
    if high == math.inf:
        raise NonFiniteError(
            f"{func}: Z must not contain +inf; a logit of +inf leaves no finite distribution "
            "(and two of them no distribution at all). It usually comes from an overflow "
            "upstream: find where it appears. (-inf is allowed: it masks an entry out.)"
        )
    if math.prod(z.shape) > 0:
        _check_no_empty_row(func, xp, z, axis)
    return xp, z, _validation.working(xp, z), axis, g


def _check_no_empty_row(func: str, xp: Namespace, z: Array, axis: int) -> None:
    masked = xp.max(z, axis=axis) == -math.inf
    if not bool(xp.any(masked)):
        return
    flat = xp.reshape(xp.astype(masked, xp.float32), (-1,))
    count, position = int(xp.sum(flat)), int(xp.argmax(flat))
    index: list[str] = []
    for size in reversed(tuple(masked.shape)):
        position, rest = divmod(position, size)
        index.append(str(rest))
    index.reverse()
    index.insert(axis, ":")
    raise NonFiniteError(
        f"{func}: every entry of Z[{', '.join(index)}] is -inf ({count} such row"
        f"{'s' if count != 1 else ''} along axis {axis}): a fully masked row has no probability "
        "distribution. Leave at least one entry of every row unmasked, or drop those rows "
        "before the softmax."
    )


def softmax(Z: object, *, axis: int = -1) -> Array:
    r"""Softmax along ``axis``: :math:`s_i = e^{z_i} / \sum_j e^{z_j}`, each row a distribution.

    Stable for any logits: the row's maximum is subtracted first (exactly, so a gap of
    700 between two logits costs no accuracy), so ``exp`` never overflows. A logit of
    ``-inf`` masks its entry (probability exactly 0); a row of only ``-inf`` has no
    distribution and is an error, as is ``+inf``.

    Parameters
    ----------
    Z : array_like
        Scores (logits), at least 1-d; the output has the same shape, library and dtype.
    axis : int, keyword-only
        The axis along which the probabilities sum to 1 (default the last, as PyTorch's
        ``dim=-1`` and Keras).

    See Also
    --------
    log_softmax : its logarithm, accurate where ``log(softmax(Z))`` rounds to ``-inf``.

    Examples
    --------
    >>> print(softmax([[1.0, 2.0, 3.0], [0.0, 0.0, -np.inf]]))
    [[0.09003057 0.24472847 0.66524096]
     [0.5        0.5        0.        ]]
    """
    xp, z, work, axis, _ = _prepare_logits("softmax", Z, axis)
    if math.prod(z.shape) == 0:
        return xp.astype(z, z.dtype, copy=True)
    with _quiet():
        _, _, e, rest = _numerics.softmax_parts(xp, work, axis)
        return xp.astype(e / (1.0 + rest), z.dtype, copy=False)


def softmax_grad(Z: object, grad_output: object, *, axis: int = -1) -> Array:
    r"""Backward pass of :func:`softmax`: the vector-Jacobian product :math:`J^\top g`.

    .. math:: \frac{\partial L}{\partial z_i} = \sum_j g_j \frac{\partial s_j}{\partial z_i}
              = s_i \Bigl(g_i - \sum_j g_j s_j\Bigr), \qquad g = \frac{\partial L}{\partial s}

    The softmax Jacobian :math:`\operatorname{diag}(s) - s s^\top` is a (C, C) matrix
    per row; backpropagation only ever needs its product with the upstream gradient, which
    costs O(C) instead of O(C^2), so that product is what is returned (the same as
    PyTorch's autograd), not the Jacobian.

    Parameters
    ----------
    Z : array_like
        The logits the softmax was applied to.
    grad_output : array_like
        :math:`\partial L / \partial s`, the gradient of the loss with respect to the
        softmax output; the same shape as ``Z``, finite.
    axis : int, keyword-only
        The softmax axis.

    Returns
    -------
    grad : array
        :math:`\partial L / \partial Z`, in ``Z``'s shape, library and float dtype.

    Examples
    --------
    >>> print(softmax_grad([0.0, 0.0], [1.0, 0.0]))
    [ 0.25 -0.25]
    """
    xp, z, work, axis, g = _prepare_logits("softmax_grad", Z, axis, grad_output)
    if math.prod(z.shape) == 0:
        return xp.astype(z, z.dtype, copy=True)
    with _quiet():
        _, _, e, rest = _numerics.softmax_parts(xp, work, axis)
        s = e / (1.0 + rest)
        inner = xp.sum(g * s, axis=axis, keepdims=True)
        return xp.astype(s * (g - inner), z.dtype, copy=False)


def log_softmax(Z: object, *, axis: int = -1) -> Array:
    r"""The logarithm of :func:`softmax`: :math:`z_i - \log \sum_j e^{z_j}`.

    With :math:`m` the row's maximum, :math:`d_i = z_i - m` (exact) and :math:`r` the sum
    of :math:`e^{d_j}` over every entry but one maximal one, the result is
    :math:`d_i - \operatorname{log1p}(r)`: two non-positive terms, so nothing cancels, and
    ``log1p`` keeps a confident row's tiny :math:`r` (``log(1 + 1e-30)`` rounds to 0).
    ``log(softmax(Z))`` instead gives ``-inf`` wherever the probability underflows; this
    gives ``-1000.0``. A masked (``-inf``) logit gives ``-inf``.

    Examples
    --------
    >>> print(log_softmax([0.0, -1000.0]))
    [    0. -1000.]
    """
    xp, z, work, axis, _ = _prepare_logits("log_softmax", Z, axis)
    if math.prod(z.shape) == 0:
        return xp.astype(z, z.dtype, copy=True)
    with _quiet():
        d, d_error, _, rest = _numerics.softmax_parts(xp, work, axis)
        return xp.astype((d - xp.log1p(rest)) + d_error, z.dtype, copy=False)


def log_softmax_grad(Z: object, grad_output: object, *, axis: int = -1) -> Array:
    r"""Backward pass of :func:`log_softmax`: the vector-Jacobian product.

    .. math:: \frac{\partial L}{\partial z_i} = g_i - s_i \sum_j g_j, \qquad
              g = \frac{\partial L}{\partial \log s}

    See :func:`softmax_grad` for why the product, not the Jacobian, is returned.

    Examples
    --------
    >>> print(log_softmax_grad([0.0, 0.0], [1.0, 0.0]))
    [ 0.5 -0.5]
    """
    xp, z, work, axis, g = _prepare_logits("log_softmax_grad", Z, axis, grad_output)
    if math.prod(z.shape) == 0:
        return xp.astype(z, z.dtype, copy=True)
    with _quiet():
        _, _, e, rest = _numerics.softmax_parts(xp, work, axis)
        s = e / (1.0 + rest)
        return xp.astype(g - s * xp.sum(g, axis=axis, keepdims=True), z.dtype, copy=False)


# --------------------------------------------------------------------------- registry

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
upstream gradient (see :func:`softmax_grad`).
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
            message += (
                f" {name!r} is not provided as an element-wise activation"
                + (
                    ": softmax and log_softmax normalize along an axis; call them directly, or "
                    "use the cross_entropy loss, which applies log_softmax itself."
                    if "softmax" in key
                    else "."
                )
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


def _in_float64(kernel: Callable[[Namespace, Array], Array]) -> Forward:
    """``kernel`` computed in float64 and rounded once to ``z``'s dtype, as the public functions do."""

    def run(z: Array) -> Array:
        with _quiet():
            return kernel(np, z.astype(np.float64, copy=False)).astype(z.dtype, copy=False)

    return run


def _chain(slope: Forward) -> Backward:
    def backward(z: Array, grad: Array) -> Array:
        product: Array = grad * slope(z)
        return product

    return backward


def _identity_forward(z: Array) -> Array:
    return z  # the layer's Z is its own fresh array: no copy needed


def _identity_backward(z: Array, grad: Array) -> Array:
    return grad


def _relu_forward(z: Array) -> Array:
    return np.maximum(z, 0)


def _relu_backward(z: Array, grad: Array) -> Array:
    return np.multiply(grad, z > 0)  # relu'(0) = 0, as relu_grad


def _leaky_relu_backward(z: Array, grad: Array) -> Array:
    return np.where(z > 0, grad, 0.01 * grad)


def _sigmoid(xp: Namespace, w: Array) -> Array:
    return _numerics.sigmoid(xp, w)


def _sigmoid_slope(xp: Namespace, w: Array) -> Array:
    return _numerics.logistic_density(xp, w)


def _tanh_slope(xp: Namespace, w: Array) -> Array:
    return _numerics.logistic_density(xp, 2.0 * w, 4.0)


LAYER_KERNELS: dict[str, tuple[Forward, Backward]] = {
    "identity": (_identity_forward, _identity_backward),
    "relu": (_relu_forward, _relu_backward),
    "leaky_relu": (
        _in_float64(lambda xp, w: xp.where(w > 0, w, 0.01 * w)),
        _leaky_relu_backward,
    ),
    "sigmoid": (_in_float64(_sigmoid), _chain(_in_float64(_sigmoid_slope))),
    "tanh": (_in_float64(lambda xp, w: xp.tanh(w)), _chain(_in_float64(_tanh_slope))),
    "elu": (_in_float64(_elu), _chain(_in_float64(_elu_slope))),
    "gelu": (_in_float64(_exact_gelu), _chain(_in_float64(_exact_gelu_slope))),
    "gelu_tanh": (
        _in_float64(lambda xp, w: _numerics.gelu_tanh(xp, w)),
        _chain(_in_float64(lambda xp, w: _numerics.gelu_tanh_slope(xp, w))),
    ),
    "softplus": (
        _in_float64(lambda xp, w: _numerics.softplus_scaled(xp, w, 1.0)),
        _chain(_in_float64(lambda xp, w: _numerics.sigmoid_scaled(xp, w, 1.0))),
    ),
}
"""The activations of :data:`ACTIVATIONS` for a layer's trusted arrays: the same math as
the public functions (float64 working precision, one rounding), without the checks, and
with backward fused into one step (``relu`` and ``identity`` pass the gradient through
without multiplying). The layer has validated its input once, at the network's entrance."""
