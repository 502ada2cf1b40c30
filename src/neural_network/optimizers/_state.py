"""The per-parameter state of an optimizer, and the checks of a saved one before it is loaded.

An optimizer keeps, for each parameter, a few named arrays of the parameter's shape
(:data:`Buffers`: SGD's momentum buffer, Adam's two running means), tied to the
parameter's name and shape (a :data:`Slot`). :meth:`Optimizer.state_dict
<neural_network.optimizers.Optimizer.state_dict>` saves them as a list of entries
``{"name": ..., "shape": [...], "buffers": {...}}``; :func:`read_entries` checks such a
list, as :meth:`~neural_network.optimizers.Optimizer.load_state_dict` receives it.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import InvalidInputError, InvalidTypeError, ShapeMismatchError, describe

Buffers = dict[str, NDArray[np.floating]]
"""The state an optimizer keeps for one parameter: named arrays of the parameter's shape."""

Slot = tuple[str, tuple[int, ...]]
"""The name and shape of the parameter a :data:`Buffers` is for."""


def read_entries(owner: str, entries: object, buffer_names: tuple[str, ...]) -> tuple[list[Slot], list[Buffers]]:
    """Check the saved per-parameter entries; return their (name, shape) and copied arrays."""
    if not isinstance(entries, (list, tuple)):
        raise InvalidTypeError(f"{owner}: parameters must be a list of entries; got {describe(entries)}.")
    slots: list[Slot] = []
    buffers: list[Buffers] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"name", "shape", "buffers"}:
            raise InvalidTypeError(
                f"{owner}: parameters[{i}] must be a dict with keys 'buffers', 'name', 'shape'; "
                f"got {describe(entry)}."
            )
        name, shape, arrays = entry["name"], entry["shape"], entry["buffers"]
        if not isinstance(shape, (list, tuple, np.ndarray)) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape
        ):
            raise InvalidTypeError(
                f"{owner}: parameters[{i}]['shape'] must be a list of ints; got {shape!r}."
            )
        if not isinstance(arrays, dict) or set(arrays) != set(buffer_names):
            got = sorted(arrays) if isinstance(arrays, dict) else describe(arrays)
            raise InvalidInputError(
                f"{owner}: parameters[{i}] ({name!r}) must have the buffers {sorted(buffer_names)} "
                f"for these hyperparameters; got {got}."
            )
        shape = tuple(int(n) for n in shape)
        for key, array in arrays.items():
            if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
                raise InvalidTypeError(
                    f"{owner}: parameters[{i}]['buffers'][{key!r}] must be a float NumPy array; "
                    f"got {describe(array)}."
                )
            if array.shape != shape:
                raise ShapeMismatchError(
                    f"{owner}: parameters[{i}]['buffers'][{key!r}] has shape {array.shape}, "
                    f"not the parameter's shape {shape}."
                )
        slots.append((str(name), shape))
        buffers.append({key: array.copy() for key, array in arrays.items()})
    return slots, buffers
