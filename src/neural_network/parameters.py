"""A trainable array and its gradient: what layers own and optimizers update."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["Parameter"]


class Parameter:
    """A trainable array with the gradient of the loss beside it.

    Layers create their parameters and fill ``grad`` during ``backward``; optimizers
    read ``grad`` and update ``value`` in place, so every view of the array (a layer's
    ``weights`` property, a saved reference) sees the new values.

    Parameters
    ----------
    name : str
        A name unique within its layer (``"weights"``, ``"bias"``); a network's
        ``parameters()`` prefixes it with the layer's position.
    value : ndarray
        The initial values (a float ndarray; it is owned by the parameter from then on).

    Examples
    --------
    >>> p = Parameter("bias", np.zeros(2))
    >>> p.grad[:] = [0.5, -1.0]
    >>> p
    Parameter('bias', shape=(2,), dtype=float64)
    """

    __slots__ = ("grad", "name", "value")

    def __init__(self, name: str, value: NDArray[np.floating]) -> None:
        self.name = name
        self.value: NDArray[np.floating] = value
        self.grad: NDArray[np.floating] = np.zeros_like(value)

    @property
    def size(self) -> int:
        """The number of scalars in the parameter."""
        return int(self.value.size)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"
