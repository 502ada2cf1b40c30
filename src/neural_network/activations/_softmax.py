"""Softmax and log_softmax along an axis, each with its backward pass (a vector-Jacobian product)."""

from __future__ import annotations

import math
import numbers

from neural_network import _numerics, _validation
from neural_network._validation import EXTENDED_REAL, REAL, Array, Namespace
from neural_network.activations._checks import quiet
from neural_network.errors import InvalidOptionError, NonFiniteError


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


def _prepare_logits(
    func: str, Z: object, axis: object, grad_output: object = _NO_GRADIENT
) -> tuple[Namespace, Array, Array, int, Array | None]:
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
    >>> import numpy as np
    >>> print(softmax([[1.0, 2.0, 3.0], [0.0, 0.0, -np.inf]]))
    [[0.09003057 0.24472847 0.66524096]
     [0.5        0.5        0.        ]]
    """
    xp, z, work, axis, _ = _prepare_logits("softmax", Z, axis)
    if math.prod(z.shape) == 0:
        return xp.astype(z, z.dtype, copy=True)
    with quiet():
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
    with quiet():
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
    with quiet():
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
    with quiet():
        _, _, e, rest = _numerics.softmax_parts(xp, work, axis)
        s = e / (1.0 + rest)
        return xp.astype(g - s * xp.sum(g, axis=axis, keepdims=True), z.dtype, copy=False)
