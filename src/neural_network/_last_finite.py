"""The last finite weights of a training run: what a diverging run goes back to (issue 13, item 7).

``fit`` keeps the weights before every step (:class:`LastFinite`); when the loss or the
weights stop being finite it restores them and raises (:func:`diverged`), with the advice
that usually helps, so that a diverged run never leaves NaN weights behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import NonFiniteError
from neural_network.optimizers import Optimizer

if TYPE_CHECKING:
    from neural_network.network import Sequential
    from neural_network.optimizers._base import Stepper
    from neural_network.parameters import Parameter


class LastFinite:
    """The weights before the latest step: the last ones whose loss was finite.

    Kept at every step, so that a diverging step can be undone before ``fit`` raises.
    With the network's flat array of parameters (``Sequential._pack_parameters``) and an
    optimizer that updates it as one (``Stepper.fused``), a step writes the new weights
    into a second flat array and points the parameters at it (:meth:`swap`), the first
    keeping the weights before the step: no copy. Between epochs (:meth:`settle`), and
    whenever ``fit`` stops, the parameters are views of the network's own array again,
    holding the latest weights. Otherwise each step copies the weights first (:meth:`keep`).
    """

    def __init__(self, model: Sequential) -> None:
        self.parameters = model.parameters()
        flat = model._flat_values
        # The flat array only while every parameter is still a contiguous view of it.
        self.flat = (
            flat
            if flat is not None and all(p.value.base is flat and p.value.flags.c_contiguous for p in self.parameters)
            else None
        )
        self.values = [parameter.value.copy() for parameter in self.parameters]
        self.saved_flat = None if self.flat is None else self.flat.copy()
        self.views = [p.value for p in self.parameters]  # the parameters' arrays, views of flat
        self.saved_views: list[NDArray[np.floating]] = []  # the same parts of saved_flat
        if self.flat is not None and self.saved_flat is not None:
            origin, size = self.flat.ctypes.data, self.flat.itemsize
            for view in self.views:
                start = (view.ctypes.data - origin) // size
                self.saved_views.append(self.saved_flat[start : start + view.size].reshape(view.shape))
        self.swapped = False  # whether the parameters are views of saved_flat (the latest weights there)
        # swap()'s (latest weights, the array for the next ones, its views), by self.swapped
        self.orders = (
            [(self.flat, self.saved_flat, self.saved_views), (self.saved_flat, self.flat, self.views)]
            if self.flat is not None and self.saved_flat is not None
            else []
        )

    def swaps(self, values: NDArray[np.floating]) -> bool:
        """Whether :meth:`swap` can take the steps of an optimizer whose flat values are ``values``."""
        flat = self.flat
        return (
            flat is not None
            and values.ctypes.data == flat.ctypes.data
            and values.shape == flat.shape
            and values.dtype == flat.dtype
        )

    def swap(self, step: Stepper) -> None:
        """One step of ``step``, from the latest weights into the other flat array."""
        latest, other, views = self.orders[self.swapped]
        step.into(latest, other)
        for parameter, view in zip(self.parameters, views, strict=True):
            parameter.value = view
        self.swapped = not self.swapped

    def keep(self) -> None:
        """Copy the weights, before a step that updates them in place."""
        if self.flat is not None and self.saved_flat is not None:
            if self.swapped:  # the latest weights are in saved_flat: the network's array takes them
                np.copyto(self.flat, self.saved_flat)
                self._point(self.views)
            else:
                np.copyto(self.saved_flat, self.flat)
            return
        for saved, parameter in zip(self.values, self.parameters, strict=True):
            np.copyto(saved, parameter.value)

    def restore(self) -> None:
        """Back to the weights before the latest step, in the network's own arrays."""
        if self.flat is not None and self.saved_flat is not None:
            if self.swapped:  # the network's array holds them already
                self._point(self.views)
            else:
                np.copyto(self.flat, self.saved_flat)
            return
        for saved, parameter in zip(self.values, self.parameters, strict=True):
            np.copyto(parameter.value, saved)

    def settle(self) -> None:
        """The latest weights back in the network's own arrays, those before them kept."""
        if self.swapped and self.flat is not None and self.saved_flat is not None:
            before = self.flat.copy()
            np.copyto(self.flat, self.saved_flat)
            np.copyto(self.saved_flat, before)
            self._point(self.views)

    def _point(self, views: list[NDArray[np.floating]]) -> None:
        for parameter, view in zip(self.parameters, views, strict=True):
            parameter.value = view
        self.swapped = False

    def holds_finite(self) -> bool:
        return all(bool(np.isfinite(parameter.value).all()) for parameter in self.parameters)


@contextlib.contextmanager
def settled(snapshot: LastFinite) -> Iterator[None]:
    """The network's own arrays hold the latest weights when the block ends, however it ends."""
    try:
        yield
    finally:
        snapshot.settle()


def diverged(
    last_finite: LastFinite, parameters: list[Parameter], optimizer: Optimizer, what: str, epoch: int
) -> NoReturn:
    last_finite.restore()
    raise NonFiniteError(
        f"fit: {what} in epoch {epoch + 1}: the model diverged. The weights are back to those "
        f"before the step that diverged. Lower the learning rate (now {optimizer.learning_rate}), "
        "standardize X (and y for regression), or check the data for extreme values."
    )
