"""Label smoothing: :func:`smooth_labels` (optax's) and :func:`smooth_binary_labels` (Keras's binary
label smoothing). Not losses: helpers that build the smoothed targets a loss then takes.
"""

from __future__ import annotations

import math
import numbers

import array_api_compat

from neural_network import _validation
from neural_network._validation import LABEL, Array, Domain
from neural_network.errors import InvalidOptionError, OutOfRangeError, ShapeMismatchError, describe
from neural_network.losses._common import real_option


def _smoothing(func: str, smoothing: object) -> float:
    return real_option(func, "smoothing", smoothing, meaning="a number in [0, 1], the probability mass spread "
                   "uniformly", low=0.0, low_included=True, high=1.0)


def smooth_labels(labels: object, smoothing: float, *, num_classes: int | None = None) -> Array:
    r"""Label smoothing, optax's ``smooth_labels``: ``(1 - smoothing) y + smoothing / C``.

    Each target distribution ``y`` over ``C`` classes is mixed with the uniform one. The
    result sums to 1 if ``y`` does, and is what PyTorch's ``cross_entropy(...,
    label_smoothing=smoothing)`` uses internally.

    Parameters
    ----------
    labels : array_like
        Without ``num_classes``: one-hot (or soft) rows, shape ``(..., C)``, values in
        [0, 1]. With ``num_classes``: integer class indices of any shape.
    smoothing : float
        In [0, 1] (optax's ``alpha``); 0 leaves the labels unchanged.
    num_classes : int, optional, keyword-only
        Given: ``labels`` are class indices in ``[0, num_classes)`` and the result has
        shape ``(*labels.shape, num_classes)``, float64.

    Returns
    -------
    array
        The smoothed labels, in the labels' floating dtype (float64 for indices).

    Examples
    --------
    >>> print(smooth_labels([[0.0, 1.0, 0.0, 0.0]], 0.2))
    [[0.05 0.85 0.05 0.05]]
    >>> print(smooth_labels([1, 0], 0.3, num_classes=3))
    [[0.1 0.8 0.1]
     [0.8 0.1 0.1]]
    """
    func = "smooth_labels"
    alpha = _smoothing(func, smoothing)
    xp, device = _validation.namespace(func, labels=labels)
    if num_classes is None:
        y = _validation.as_real_array(func, "labels", labels, xp, device)
        if y.ndim == 0:
            raise ShapeMismatchError(
                f"{func}: labels must be one-hot rows of shape (..., C); got a scalar. For class "
                "indices pass num_classes=C."
            )
        _validation.check_values(func, "labels", y, xp, LABEL)
        c = y.shape[-1]
        if c == 0:
            raise ShapeMismatchError(f"{func}: labels must have at least one class; got shape {tuple(y.shape)}.")
        y64 = _validation.working(xp, y)
        return xp.astype((1.0 - alpha) * y64 + alpha / c, y.dtype, copy=False)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise InvalidOptionError(
            f"{func}: num_classes must be a positive integer (the number of classes); got {describe(num_classes)}."
        )
    c = int(num_classes)
    indices = _validation.as_real_array(func, "labels", labels, xp, device)
    index_domain = Domain(f"class indices from 0 to {c - 1}", 0.0, float(c - 1))
    _validation.check_values(func, "labels", indices, xp, index_domain)
    indices = _validation.working(xp, indices)
    if math.prod(indices.shape) and not bool(xp.all(indices == xp.floor(indices))):
        raise OutOfRangeError(
            f"{func}: with num_classes, labels must hold integer class indices; got fractional values. "
            "For one-hot or soft rows leave num_classes out."
        )
    classes = xp.astype(xp.arange(c, device=array_api_compat.device(indices)), xp.float64)
    onehot = xp.astype(indices[..., None] == classes, xp.float64)
    return (1.0 - alpha) * onehot + alpha / c


def smooth_binary_labels(labels: object, smoothing: float) -> Array:
    r"""Binary label smoothing, as Keras's ``BinaryCrossentropy(label_smoothing=...)``:
    ``y (1 - smoothing) + smoothing / 2``.

    Each binary target is pulled towards 1/2 (the uniform distribution over two classes).

    Parameters
    ----------
    labels : array_like
        Binary (or soft) labels in [0, 1], any shape.
    smoothing : float
        In [0, 1]; 0 leaves the labels unchanged, 1 makes them all 1/2.

    Examples
    --------
    >>> print(smooth_binary_labels([0.0, 1.0], 0.2))
    [0.1 0.9]
    """
    func = "smooth_binary_labels"
    alpha = _smoothing(func, smoothing)
    xp, device = _validation.namespace(func, labels=labels)
    y = _validation.as_real_array(func, "labels", labels, xp, device)
    _validation.check_values(func, "labels", y, xp, LABEL)
    return xp.astype(_validation.working(xp, y) * (1.0 - alpha) + 0.5 * alpha, y.dtype, copy=False)
