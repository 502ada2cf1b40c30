"""The machinery every optimizer shares: the :class:`Optimizer` base class.

It checks the parameters of each step and ties the per-parameter state to them
(binding), updates all of a model's parameters at once where their arrays allow it
(:mod:`._flat`), and saves and restores the state (:meth:`Optimizer.state_dict`,
:meth:`Optimizer.load_state_dict`). An update rule (:mod:`.sgd`, :mod:`.adam`,
:mod:`.rmsprop`) only writes its options and its :meth:`Optimizer._update`.
"""

from __future__ import annotations

import inspect
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import InvalidInputError, InvalidTypeError, ShapeMismatchError, describe
from neural_network.optimizers._flat import FlatArrays
from neural_network.optimizers._options import DECOUPLED, NON_NEGATIVE, number, refuse_torch_names
from neural_network.optimizers._state import Buffers, Slot, read_entries
from neural_network.parameters import Parameter

_O = TypeVar("_O", bound="Optimizer")


class Optimizer(ABC):
    """What every optimizer shares: checking its input, per-parameter state, saving it.

    A subclass validates its hyperparameters in ``__init__``, lists them in
    :meth:`hyperparameters`, names the arrays it keeps per parameter in
    :meth:`_buffer_names` (creating them in :meth:`_new_buffers`) and writes its update
    rule in :meth:`_update`, which changes one parameter's ``value`` in place.

    Attributes
    ----------
    learning_rate : float
        The step size; it may be changed between steps (a learning-rate schedule), and
        is checked each time it is set.
    step_count : int
        The number of steps taken so far (Adam's bias correction uses it).
    decoupled_weight_decay : bool
        Whether ``weight_decay`` shrinks the weights directly, ``w *= 1 - learning_rate *
        weight_decay`` before the step (AdamW's decay, Loshchilov & Hutter 2019), rather
        than adding ``weight_decay * w`` to the gradient (L2, PyTorch's default).
    """

    decoupled_weight_decay: bool = False

    def __new__(cls: type[_O], *args: Any, **kwargs: Any) -> _O:
        refuse_torch_names(cls.__name__, kwargs)
        return super().__new__(cls)

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self.step_count = 0
        # The parameters of the first step, by identity; None until then. After
        # load_state_dict on a fresh optimizer, _slots and _buffers hold the loaded
        # state until the first step binds it to parameters of the same names and shapes.
        self._parameters: list[Parameter] | None = None
        self._slots: list[Slot] = []
        self._buffers: list[Buffers] = []
        self._flat: FlatArrays | None = None  # see _fused
        self._scratch: dict[tuple[tuple[int, ...], np.dtype[Any]], NDArray[np.floating]] = {}  # see _work

    @property
    def learning_rate(self) -> float:
        """The step size, a finite number >= 0."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = number(type(self).__name__, "learning_rate", value, NON_NEGATIVE)

    # ----------------------------------------------------------------------- what subclasses write

    @abstractmethod
    def hyperparameters(self) -> dict[str, float | bool]:
        """The options of this optimizer, by name, in the order of its signature."""

    def _buffer_names(self) -> tuple[str, ...]:
        """The arrays kept per parameter once a step has been taken (none by default)."""
        return ()

    def _decay(self, w: NDArray[np.floating], g: NDArray[np.floating]) -> NDArray[np.floating]:
        """Weight decay, before the update rule: with ``decoupled_weight_decay``, shrink ``w``
        in place by ``1 - learning_rate * weight_decay`` (as ``torch.optim.AdamW``) and
        return ``g``; else return ``g + weight_decay * w`` (L2, as ``torch.optim``'s default)."""
        decay: float = getattr(self, "weight_decay", 0.0)
        if decay == 0:
            return g
        if self.decoupled_weight_decay:
            w *= 1 - self.learning_rate * decay
            return g
        return g + decay * w

    def _work(self, like: NDArray[np.floating]) -> NDArray[np.floating]:
        """A work array of ``like``'s shape and dtype, for an update rule's intermediate
        results (``np.multiply(g, c, out=work)`` rather than a new array per operation): one
        per shape and dtype, kept between steps, its contents meaningless between uses."""
        key = (like.shape, like.dtype)
        work = self._scratch.get(key)
        if work is None:
            work = self._scratch[key] = np.empty(like.shape, dtype=like.dtype)
        return work

    def _new_buffers(self, value: NDArray[np.floating]) -> Buffers:
        """The per-parameter state before the first step: zeros of the parameter's shape and dtype."""
        return {name: np.zeros_like(value) for name in self._buffer_names()}

    @abstractmethod
    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        """Update the values ``w`` in place from the gradient ``g`` (never modify ``g``)."""

    # ----------------------------------------------------------------------- stepping

    def step(self, parameters: Sequence[Parameter]) -> None:
        """Update every parameter's ``value`` in place from its ``grad``.

        Parameters
        ----------
        parameters : sequence of Parameter
            The same parameters, in the same order, at every step (the state is kept
            per position). Their gradients must already be computed.
        """
        flat = self._flat
        if flat is None or flat.state is None or not isinstance(parameters, list) or not flat.fits(parameters):
            # Not the very arrays of the last step: check everything again.
            bound = self._bind(parameters)
            flat = self._fused(bound)
            if flat.state is None:
                self.step_count += 1
                for p, state in zip(bound, self._buffers, strict=True):
                    # A gradient of another float dtype is rounded to the parameter's, as the
                    # update is computed (and the parameter kept) in the parameter's dtype.
                    self._update(p.value, p.grad.astype(p.value.dtype, copy=False), state)
                return
        self.step_count += 1
        self._update(flat.values, flat.grads, flat.state)
        flat.share_new_buffers(self._buffers)

    def _stepper(self, parameters: list[Parameter]) -> Stepper:
        """``step(parameters)`` for a loop that steps the same parameters, unchanged, many
        times: see :class:`Stepper`. ``fit`` takes one per epoch (its callbacks, between
        epochs, may change the model or the optimizer)."""
        return Stepper(self, parameters)

    def _update_into(
        self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers, out: NDArray[np.floating]
    ) -> None:
        """:meth:`_update` with its result written into ``out``, an array of ``w``'s shape and
        dtype, and ``w`` left as it was: here ``w`` copied into ``out``, then updated there.
        An update rule may write its last operation into ``out`` directly instead (the same
        operations on the same values, so the same bits), which saves the copy."""
        np.copyto(out, w)
        self._update(out, g, state)

    def _fused(self, parameters: list[Parameter]) -> FlatArrays:
        """One update for all parameters at once, where their arrays allow it.

        A :class:`~neural_network.network.Sequential` keeps all its parameters in one
        flat array and all their gradients in another; updating those two once gives bit
        for bit what updating each parameter does, as every update rule acts element by
        element (:mod:`neural_network.optimizers._flat` says how).
        """
        if self._flat is None or not self._flat.fits(parameters):
            self._flat = FlatArrays.of(parameters, self._buffers)
        return self._flat

    def _bind(self, parameters: Sequence[Parameter]) -> list[Parameter]:
        """Check ``parameters`` and their gradients; on the first step, tie the state to them."""
        owner = f"{type(self).__name__}.step"
        if isinstance(parameters, Parameter):
            raise InvalidTypeError(
                f"{owner}: parameters must be a sequence of Parameter; got a single {parameters!r}. "
                "Wrap it in a list: step([p])."
            )
        try:
            params = list(parameters)
        except TypeError:
            raise InvalidTypeError(
                f"{owner}: parameters must be a sequence of Parameter; got {describe(parameters)}."
            ) from None
        if not params:
            raise InvalidInputError(
                f"{owner}: parameters is empty; there is nothing to update. "
                "Does the model have any layers with parameters?"
            )
        for i, p in enumerate(params):
            _check_parameter(owner, i, p)
        if self._parameters is None:
            if self._slots:
                self._check_slots(owner, params, self._slots)
                self._buffers = [
                    {name: array.astype(p.value.dtype) for name, array in state.items()}
                    for p, state in zip(params, self._buffers, strict=True)
                ]
            else:
                self._buffers = [self._new_buffers(p.value) for p in params]
            self._slots = [(p.name, p.value.shape) for p in params]
            self._parameters = params
            return params
        if len(params) != len(self._parameters) or any(
            p is not q for p, q in zip(params, self._parameters, strict=False)
        ):
            raise InvalidInputError(
                f"{owner}: this optimizer keeps state for the {len(self._parameters)} parameters of its "
                f"first step ({_names(self._parameters)}) and must always be stepped with those same "
                f"objects, in the same order; got {len(params)} parameters ({_names(params)}) that are "
                "not the same. Create one optimizer per model (a new optimizer for a new model)."
            )
        # A parameter whose array was replaced by one of another shape no longer fits its state.
        self._check_slots(owner, params, self._slots)
        return params

    def _check_slots(
        self, owner: str, params: list[Parameter], slots: list[Slot]
    ) -> None:
        """Refuse parameters that differ in count, names or shapes from those the state was made for."""
        if len(params) != len(slots):
            raise InvalidInputError(
                f"{owner}: the optimizer state is for {len(slots)} parameters "
                f"({', '.join(name for name, _ in slots)}); got {len(params)} ({_names(params)}). "
                "Load a state saved from the same model."
            )
        for i, (p, (name, shape)) in enumerate(zip(params, slots, strict=True)):
            if p.name != name:
                raise InvalidInputError(
                    f"{owner}: parameter {i} is named {p.name!r} but the optimizer state at that "
                    f"position is for {name!r}. Pass the parameters in the order they were saved."
                )
            if p.value.shape != shape:
                raise ShapeMismatchError(
                    f"{owner}: parameter {i} ({p.name!r}) has shape {p.value.shape} but the optimizer "
                    f"state at that position has shape {shape}. Load a state saved from the same model."
                )

    # ----------------------------------------------------------------------- saving and restoring

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer: hyperparameters, step count and per-parameter state.

        Everything but the arrays is JSON-serializable. The arrays are copies, so later
        steps do not change a saved state.

        Returns
        -------
        dict
            ``{"optimizer": class name, "hyperparameters": {...}, "step": int,
            "parameters": [{"name": str, "shape": [int, ...], "buffers": {name: ndarray}}, ...]}``,
            one entry per parameter, by position (empty before the first step).
        """
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "step": self.step_count,
            "parameters": [
                {
                    "name": name,
                    "shape": list(shape),
                    "buffers": {key: array.copy() for key, array in state.items()},
                }
                for (name, shape), state in zip(self._slots, self._buffers, strict=True)
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`, so that the next steps are exactly those that would have followed.

        The hyperparameters are restored too. On an optimizer that has already been
        stepped, the state must match its parameters now; on a fresh one, it is checked
        against the parameters of the next step (count, names, shapes). Saved arrays are
        converted to each parameter's dtype. Nothing changes unless the whole state is valid.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        kind = type(self).__name__
        expected_keys = {"optimizer", "hyperparameters", "step", "parameters"}
        if not isinstance(state, dict) or set(state) != expected_keys:
            got = sorted(state) if isinstance(state, dict) else describe(state)
            raise InvalidTypeError(
                f"{owner}: state must be a dict with keys {sorted(expected_keys)}, as returned by "
                f"state_dict(); got {got}."
            )
        if state["optimizer"] != kind:
            raise InvalidInputError(
                f"{owner}: this state was saved from {state['optimizer']!r}, not {kind!r}; "
                f"load it into {state['optimizer']}() instead."
            )
        hyper = state["hyperparameters"]
        required = set(self.hyperparameters()) - {DECOUPLED}
        optional = {DECOUPLED} & set(inspect.signature(type(self)).parameters)
        if not isinstance(hyper, dict) or not required <= set(hyper) <= required | optional:
            raise InvalidInputError(
                f"{owner}: hyperparameters must have the keys {sorted(required)}"
                f"{f' (and optionally {sorted(optional)})' if optional else ''}; got {describe(hyper)}."
            )
        restored = type(self)(**hyper)  # the constructor's checks apply to saved options too
        step = state["step"]
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise InvalidInputError(f"{owner}: step must be an integer >= 0; got {describe(step)}.")
        slots, buffers = read_entries(owner, state["parameters"], restored._buffer_names())
        if (step == 0) != (not slots):
            raise InvalidInputError(
                f"{owner}: a state with step={step} must have "
                f"{'no' if step == 0 else 'one entry per'} parameter; got {len(slots)} entries."
            )
        if self._parameters is not None and not slots:
            # A state saved before any step: start afresh with the parameters already bound.
            slots = [(p.name, p.value.shape) for p in self._parameters]
            buffers = [restored._new_buffers(p.value) for p in self._parameters]
        elif self._parameters is not None:
            self._check_slots(owner, self._parameters, slots)
            buffers = [
                {name: array.astype(p.value.dtype) for name, array in entry.items()}
                for p, entry in zip(self._parameters, buffers, strict=True)
            ]
        for name in required | optional:
            setattr(self, name, getattr(restored, name))
        self.step_count = int(step)
        self._slots, self._buffers = slots, buffers
        self._flat = None  # new buffers: the flat view, if any, is made again at the next step

    def __repr__(self) -> str:
        options = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters().items())
        return f"{type(self).__name__}({options})"


class Stepper:
    """``optimizer.step(parameters)`` for a loop that steps the same parameters many times.

    The first call is a full :meth:`Optimizer.step`; once the parameters are known to be a
    model's flat arrays (``fused``), each call is the fused update alone, without checking
    again, call after call, that the parameters still hold the arrays they held: the loop
    that takes a stepper replaces none of them while it uses it. An optimizer that
    overrides :meth:`Optimizer.step` keeps its own at every call.
    """

    __slots__ = ("fused", "optimizer", "parameters")

    def __init__(self, optimizer: Optimizer, parameters: list[Parameter]) -> None:
        self.optimizer, self.parameters = optimizer, parameters
        self.fused: tuple[NDArray[np.floating], NDArray[np.floating], Buffers] | None = None
        """The flat values, gradients and state that each call updates; None until then."""

    def __call__(self) -> None:
        optimizer = self.optimizer
        if self.fused is not None:
            optimizer.step_count += 1
            optimizer._update(*self.fused)
            return
        optimizer.step(self.parameters)
        flat = optimizer._flat
        if (
            type(optimizer).step is Optimizer.step
            and flat is not None
            and flat.state is not None
            and flat.fits(self.parameters)
        ):
            self.fused = (flat.values, flat.grads, flat.state)

    def into(self, values: NDArray[np.floating], out: NDArray[np.floating]) -> None:
        """One step from ``values`` (the flat values, or an array that stands for them) written
        into ``out``, ``values`` unchanged; only once ``fused`` is known."""
        fused = self.fused
        if fused is None:
            raise InvalidInputError("Stepper.into: call the stepper once first; it has bound no flat arrays yet.")
        self.optimizer.step_count += 1
        self.optimizer._update_into(values, fused[1], fused[2], out)


def _check_parameter(owner: str, i: int, p: object) -> None:
    if not isinstance(p, Parameter):
        raise InvalidTypeError(
            f"{owner}: parameters[{i}] must be a Parameter; got {describe(p)}. "
            "Pass the model's parameters (e.g. network.parameters()), not their arrays."
        )
    if not isinstance(p.value, np.ndarray) or p.value.dtype.kind != "f":
        raise InvalidTypeError(
            f"{owner}: parameter {i} ({p.name!r}) must hold a floating-point NumPy array; "
            f"got {describe(p.value)}."
        )
    if not isinstance(p.grad, np.ndarray) or p.grad.dtype.kind not in "fiu":
        raise InvalidTypeError(
            f"{owner}: the gradient of parameter {i} ({p.name!r}) must be a real NumPy array; "
            f"got {describe(p.grad)}. Run the backward pass before stepping."
        )
    if p.grad.shape != p.value.shape:
        raise ShapeMismatchError(
            f"{owner}: the gradient of parameter {i} ({p.name!r}) has shape {p.grad.shape} but "
            f"the parameter has shape {p.value.shape}; they must be the same (nothing is "
            "broadcast). Check the backward pass that filled p.grad."
        )


def _names(params: Sequence[Parameter]) -> str:
    names = [p.name for p in params]
    return ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")


def with_decoupled(optimizer: Optimizer, options: dict[str, float | bool]) -> dict[str, float | bool]:
    """``options`` with ``decoupled_weight_decay=True`` last if it is set: the default, False,
    is left out, so that the repr and saved state of an optimizer without it stay as they were."""
    if optimizer.decoupled_weight_decay:
        options[DECOUPLED] = True
    return options

