"""Preparing inputs: ``normalize`` from the NumPy article."""

from __future__ import annotations

import math

from neural_network import _validation
from neural_network._validation import REAL, Array
from neural_network.errors import EmptyInputError, InvalidOptionError


def normalize(X: object, *, axis: int | None = None) -> Array:
    r"""Shift and scale ``X`` to mean 0 and standard deviation 1.

    .. math:: \frac{X - \operatorname{mean}(X)}{\operatorname{std}(X)}

    With the default ``axis=None`` the mean and the (population) standard deviation
    are taken over the whole array, as in the NumPy article; ``axis=0`` normalizes each
    column (feature) separately, which is what a model's inputs usually need. Where
    the values are all equal they are only shifted (the article's rule for std == 0), so
    a constant column becomes exactly 0 rather than NaN.

    Examples
    --------
    >>> print(normalize([[1.0, 2.0], [3.0, 4.0]], axis=0))
    [[-1. -1.]
     [ 1.  1.]]
    """
    func = "normalize"
    xp, device = _validation.namespace(func, X=X)
    x = _validation.as_real_array(func, "X", X, xp, device)
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int) or not -x.ndim <= axis < x.ndim):
        raise InvalidOptionError(
            f"{func}: axis must be None or an integer in [{-x.ndim}, {x.ndim - 1}] for an "
            f"array of shape {tuple(x.shape)}; got axis={axis!r}."
        )
    size = x.shape[axis] if axis is not None else math.prod(x.shape)
    if not size:
        raise EmptyInputError(f"{func}: X must hold at least one value to normalize; got shape {tuple(x.shape)}.")
    _validation.check_values(func, "X", x, xp, REAL)
    work = _validation.working(xp, x)
    mean = xp.mean(work, axis=axis, keepdims=True)
    centered = work - mean
    std = xp.sqrt(xp.mean(centered * centered, axis=axis, keepdims=True))
    # A constant slice is recognized by its range, not by std == 0: the rounded mean of
    # [0.1, 0.1, 0.1] is not 0.1, so its computed std is 1e-17 and would blow up to +-1.
    constant = xp.max(work, axis=axis, keepdims=True) == xp.min(work, axis=axis, keepdims=True)
    scaled = xp.where(constant, 0.0, centered / xp.where(constant, 1.0, std))
    return xp.astype(scaled, x.dtype, copy=False)
