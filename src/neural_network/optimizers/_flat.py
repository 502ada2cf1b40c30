"""One update for all parameters at once: the flat arrays behind a model's parameters.

A :class:`~neural_network.network.Sequential` keeps all its parameters in one flat
array (each parameter a view of its part) and all their gradients in another. The
update rules act element by element, so updating the two flat arrays once gives bit for
bit what updating each parameter does, in one pass of a few array operations instead of
a few per parameter. :class:`FlatArrays` finds those flat arrays (:func:`span`) and
makes the state buffers flat too, each parameter's buffer a view of its part.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neural_network.optimizers._state import Buffers
from neural_network.parameters import Parameter


class FlatArrays:
    """The flat arrays behind a list of parameters, if there are such: see ``Optimizer._fused``.

    ``state`` is None when the parameters are not consecutive views of one flat value
    array and one flat gradient array (a model's own layers, or parameters made by hand).
    """

    def __init__(
        self,
        parameters: list[Parameter],
        values: NDArray[np.floating],
        grads: NDArray[np.floating],
        state: Buffers | None,
    ) -> None:
        self._views = [(p, p.value, p.grad) for p in parameters]
        self.values, self.grads, self.state = values, grads, state
        self._shared = -1  # the number of flat buffers shared with the parameters so far

    def fits(self, parameters: list[Parameter]) -> bool:
        """Whether ``parameters`` still hold the very arrays this was made from."""
        return len(parameters) == len(self._views) and all(
            p is q and p.value is value and p.grad is grad
            for p, (q, value, grad) in zip(parameters, self._views, strict=False)
        )

    @classmethod
    def of(cls, parameters: list[Parameter], buffers: list[Buffers]) -> FlatArrays:
        values = span([p.value for p in parameters])
        grads = span([p.grad for p in parameters])
        names = set(buffers[0]) if buffers else set()
        if values is None or grads is None or values.dtype != grads.dtype or any(set(b) != names for b in buffers):
            return cls(parameters, np.empty(0), np.empty(0), None)
        state = {
            name: np.concatenate([entry[name].reshape(-1) for entry in buffers]).astype(values.dtype)
            for name in sorted(names)
        }
        flat = cls(parameters, values, grads, state)
        for entry in buffers:  # each parameter's buffers become views of the flat ones
            entry.clear()
        flat.share_new_buffers(buffers)
        return flat

    def share_new_buffers(self, buffers: list[Buffers]) -> None:
        """Give each parameter a view of every flat buffer the update created (SGD's first
        momentum step creates its buffer from the gradient)."""
        if self.state is None or len(self.state) == self._shared:
            return  # nothing new since the last time (every step but the first, at most)
        self._shared = len(self.state)
        start = 0
        for entry, (_, value, _) in zip(buffers, self._views, strict=True):
            for name, flat in self.state.items():
                if name not in entry:
                    entry[name] = flat[start : start + value.size].reshape(value.shape)
            start += value.size


def span(arrays: list[NDArray[np.floating]]) -> NDArray[np.floating] | None:
    """The flat array of which ``arrays`` are consecutive contiguous parts, or None."""
    base = arrays[0].base if arrays else None
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    origin, position = base.ctypes.data, 0
    for array in arrays:
        if array.base is not base or not array.flags.c_contiguous or array.dtype != base.dtype:
            return None
        if array.ctypes.data - origin != position * base.itemsize:
            return None
        position += array.size
    result: NDArray[np.floating] = base[:position]
    return result
