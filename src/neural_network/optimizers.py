r"""Optimizers: SGD, Adam, AdamW and RMSprop, each a small class with its update rule in view.

An optimizer turns gradients into parameter updates. Each one reads ``p.grad`` of every
:class:`~neural_network.parameters.Parameter` it is given and updates ``p.value`` in
place, so every view of the array (a layer's ``weights``) sees the new values::

    optimizer = Adam(0.001)
    for X, y in batches:
        ...                                 # forward, loss, backward fill every p.grad
        optimizer.step(network.parameters())

The update rules are those of ``torch.optim`` (PyTorch 2.13): the same formulas, the
same place for epsilon, the same bias correction and the same first step of the
momentum buffer, so a model trained here follows the same path as in PyTorch, to
rounding (the tests compare both over many steps, to 1e-12 in float64).

``weight_decay`` is PyTorch's on every optimizer: an L2 penalty added to the gradient
(``g + weight_decay * w``), except on :class:`AdamW`, whose decay is decoupled from the
gradient (``w *= 1 - learning_rate * weight_decay`` before the step). With
``decoupled_weight_decay=True``, SGD, Adam and RMSprop decay that way too (Adam then is
AdamW, as ``torch.optim.Adam(decoupled_weight_decay=True)``); the default is 0 (no decay)
everywhere but AdamW (0.01, as PyTorch). PyTorch's option names get an error that says
ours: ``SGD(lr=0.1)`` asks for ``learning_rate=``.

Per-parameter state (momentum buffers, Adam's moments) is created on the first step,
in the parameter's dtype, and stays tied to the parameters of that step, by position:
an optimizer must always be stepped with the same parameters. :meth:`Optimizer.state_dict`
saves the hyperparameters, the step count and that state; :meth:`Optimizer.load_state_dict`
restores them so that training continues exactly as if it had never stopped.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import (
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    ShapeMismatchError,
    describe,
)
from neural_network.parameters import Parameter

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "get_optimizer"]

Buffers = dict[str, NDArray[np.floating]]
"""The state an optimizer keeps for one parameter: named arrays of the parameter's shape."""

_O = TypeVar("_O", bound="Optimizer")

_DECOUPLED = "decoupled_weight_decay"
"""The option that makes ``weight_decay`` decoupled (PyTorch's name for it on ``Adam``)."""


# --------------------------------------------------------------------------- option checks


@dataclass(frozen=True)
class _Interval:
    text: str
    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = True

    def __contains__(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below


_NON_NEGATIVE = _Interval("[0, inf)", 0.0)
_POSITIVE = _Interval("(0, inf)", 0.0, low_open=True)
_DECAY_RATE = _Interval("[0, 1)", 0.0, 1.0)
_FRACTION = _Interval("[0, 1]", 0.0, 1.0, high_open=False)

_HINTS = {
    "learning_rate": " The learning rate scales every step (a negative one would climb the loss "
    "instead of descending it); typical values are 1e-3 (Adam) to 1e-1 (SGD).",
    "epsilon": " epsilon keeps the step finite where a gradient (and so its running "
    "average) is zero; the usual value is 1e-8.",
    "beta1": " beta1 is the decay of the running mean of the gradient; the usual value is 0.9 "
    "(1 or more would never forget the first gradient, or blow up).",
    "beta2": " beta2 is the decay of the running mean of the squared gradient; the usual value "
    "is 0.999 (PyTorch's betas=(0.9, 0.999) is beta1=0.9, beta2=0.999 here).",
    "momentum": " momentum is the fraction of the previous step kept; the usual value is 0.9 "
    "(1 or more makes the steps grow without bound).",
    "alpha": " alpha is the decay of the running mean of the squared gradient; the usual value is 0.99.",
    "weight_decay": " weight_decay shrinks the weights toward zero; a negative value would "
    "push them away. Typical values are 1e-4 to 1e-2 (with decoupled_weight_decay=True, as "
    "AdamW, 1e-4 to 1e-1).",
    "dampening": " dampening scales down each new gradient in the momentum buffer; 0 is the usual value.",
}


def _number(owner: str, name: str, value: object, allowed: _Interval) -> float:
    """Return ``value`` as a float if it is a real number in ``allowed`` (refuse bools and text)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        fix = ""
        if isinstance(value, str):
            fix = f" Pass the number itself, {name}={value.strip()}, not a string."
        elif isinstance(value, (tuple, list)):
            fix = " Each option takes a single number (PyTorch's betas=(b1, b2) is beta1=b1, beta2=b2 here)."
        raise InvalidOptionError(
            f"{owner}: {name} must be a real number in {allowed.text}; got {describe(value)}.{fix}"
        )
    number = float(value)
    if not math.isfinite(number) or number not in allowed:
        raise InvalidOptionError(
            f"{owner}: {name} must be a finite number in {allowed.text}; got {value!r}."
            + _HINTS.get(name, "")
        )
    return number


def _flag(owner: str, name: str, value: object) -> bool:
    """Return ``value`` if it is True or False (a string such as "false" would be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidOptionError(f"{owner}: {name} must be True or False; got {describe(value)}.")
    return bool(value)


# --------------------------------------------------------------------------- the base class


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
        # PyTorch's names get an error that says ours (Python's own would only say
        # "unexpected keyword argument").
        for option in kwargs:
            if option in _TORCH_OPTION_NAMES:
                raise InvalidOptionError(
                    f"{cls.__name__}: there is no option {option}=; PyTorch's {option}= is "
                    f"{_TORCH_OPTION_NAMES[option]} here, e.g. {cls.__name__}(learning_rate=0.01)."
                )
        return super().__new__(cls)

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self.step_count = 0
        # The parameters of the first step, by identity; None until then. After
        # load_state_dict on a fresh optimizer, _slots and _buffers hold the loaded
        # state until the first step binds it to parameters of the same names and shapes.
        self._parameters: list[Parameter] | None = None
        self._slots: list[tuple[str, tuple[int, ...]]] = []
        self._buffers: list[Buffers] = []
        self._flat: _Flat | None = None  # see _fused

    @property
    def learning_rate(self) -> float:
        """The step size, a finite number >= 0."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _number(type(self).__name__, "learning_rate", value, _NON_NEGATIVE)

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

    def _fused(self, parameters: list[Parameter]) -> _Flat:
        """One update for all parameters at once, where their arrays allow it.

        A :class:`~neural_network.network.Sequential` keeps all its parameters in one
        flat array (each parameter a view of its part) and all their gradients in
        another. The update rules act element by element, so updating the two flat
        arrays once gives bit for bit what updating each parameter does, in one pass
        of a few array operations instead of a few per parameter. The state buffers are
        then made flat too, each parameter's buffer a view of its part.
        """
        if self._flat is None or not self._flat.fits(parameters):
            self._flat = _Flat.of(parameters, self._buffers)
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
        self, owner: str, params: list[Parameter], slots: list[tuple[str, tuple[int, ...]]]
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
        required = set(self.hyperparameters()) - {_DECOUPLED}
        optional = {_DECOUPLED} & set(inspect.signature(type(self)).parameters)
        if not isinstance(hyper, dict) or not required <= set(hyper) <= required | optional:
            raise InvalidInputError(
                f"{owner}: hyperparameters must have the keys {sorted(required)}"
                f"{f' (and optionally {sorted(optional)})' if optional else ''}; got {describe(hyper)}."
            )
        restored = type(self)(**hyper)  # the constructor's checks apply to saved options too
        step = state["step"]
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise InvalidInputError(f"{owner}: step must be an integer >= 0; got {describe(step)}.")
        slots, buffers = _read_entries(owner, state["parameters"], restored._buffer_names())
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


class _Flat:
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
    def of(cls, parameters: list[Parameter], buffers: list[Buffers]) -> _Flat:
        values = _span([p.value for p in parameters])
        grads = _span([p.grad for p in parameters])
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


def _span(arrays: list[NDArray[np.floating]]) -> NDArray[np.floating] | None:
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
    span: NDArray[np.floating] = base[:position]
    return span


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


def _read_entries(
    owner: str, entries: object, buffer_names: tuple[str, ...]
) -> tuple[list[tuple[str, tuple[int, ...]]], list[Buffers]]:
    """Check the saved per-parameter entries; return their (name, shape) and copied arrays."""
    if not isinstance(entries, (list, tuple)):
        raise InvalidTypeError(f"{owner}: parameters must be a list of entries; got {describe(entries)}.")
    slots: list[tuple[str, tuple[int, ...]]] = []
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


# --------------------------------------------------------------------------- the optimizers


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    With gradient :math:`g_t`, weights :math:`w`, learning rate :math:`\eta`, momentum
    :math:`\mu`, dampening :math:`\tau` and weight decay :math:`\lambda`:

    .. math::

        g_t &\leftarrow g_t + \lambda w_{t-1} \\
        b_1 &= g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \\
        d_t &= g_t + \mu b_t \text{ (Nesterov)}, \quad\text{else } d_t = b_t
              \quad (d_t = g_t \text{ without momentum}) \\
        w_t &= w_{t-1} - \eta d_t

    In words: ``g += weight_decay * w``; ``b = g`` at the first step, then
    ``b = momentum * b + (1 - dampening) * g``; ``w -= learning_rate * (g + momentum * b)``
    with Nesterov, else ``w -= learning_rate * b``. This is ``torch.optim.SGD`` exactly,
    including the undamped first buffer (Sutskever et al. 2013 scale ``lr`` into the
    buffer instead; the two agree for a constant learning rate).

    Parameters
    ----------
    learning_rate : float, default 0.01
        Step size :math:`\eta \ge 0` (PyTorch's ``lr``, whose default is 1e-3; 0.01 is Keras's).
    momentum : float, default 0.0, keyword-only
        Fraction :math:`\mu \in [0, 1)` of the previous step kept.
    nesterov : bool, default False, keyword-only
        Nesterov momentum: look ahead along the buffer. Needs ``momentum > 0`` and
        ``dampening == 0``.
    weight_decay : float, default 0.0, keyword-only
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    dampening : float, default 0.0, keyword-only
        :math:`\tau \in [0, 1]`, scales down each new gradient in the buffer.
    decoupled_weight_decay : bool, default False, keyword-only
        Decay the weights directly, ``w *= 1 - learning_rate * weight_decay`` before the
        step, instead of adding ``weight_decay * w`` to the gradient: AdamW's decoupled
        decay (Loshchilov & Hutter 2019), for this optimizer too. Only with
        ``weight_decay > 0`` does it change anything.

    Examples
    --------
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> w.grad[:] = [0.5, -0.5]
    >>> SGD(0.1).step([w])
    >>> print(w.value)
    [ 0.95 -1.95]
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(learning_rate)
        self.momentum = _number(owner, "momentum", momentum, _DECAY_RATE)
        self.nesterov = _flag(owner, "nesterov", nesterov)
        self.weight_decay = _number(owner, "weight_decay", weight_decay, _NON_NEGATIVE)
        self.dampening = _number(owner, "dampening", dampening, _FRACTION)
        self.decoupled_weight_decay = _flag(owner, _DECOUPLED, decoupled_weight_decay)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise InvalidOptionError(
                f"{owner}: nesterov=True needs momentum > 0 and dampening = 0; got momentum={momentum!r}, "
                f"dampening={dampening!r}. Nesterov momentum looks ahead along the momentum buffer: "
                "pass e.g. momentum=0.9, or nesterov=False."
            )

    def hyperparameters(self) -> dict[str, float | bool]:
        return _with_decoupled(self, {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "dampening": self.dampening,
        })

    def _buffer_names(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum != 0 else ()

    def _new_buffers(self, value: NDArray[np.floating]) -> Buffers:
        return {}  # the momentum buffer starts as the first gradient, in _update

    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        g = self._decay(w, g)
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                # np.array, not g.copy(): for a 0-d parameter, g may be a NumPy scalar,
                # and the buffer must be an array to be updated in place.
                state["momentum_buffer"] = np.array(g, dtype=w.dtype)
            else:
                b = state["momentum_buffer"]
                b *= self.momentum
                b += (1 - self.dampening) * g
            b = state["momentum_buffer"]
            g = g + self.momentum * b if self.nesterov else b
        w -= self.learning_rate * g


class Adam(Optimizer):
    r"""Adam: steps scaled by running means of the gradient and of its square.

    With gradient :math:`g_t` at step :math:`t = 1, 2, \dots`, :math:`m_0 = v_0 = 0`:

    .. math::

        g_t &\leftarrow g_t + \lambda w_{t-1} \quad\text{(L2 weight decay, if } \lambda > 0) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ (AMSGrad)}, \quad\text{else } \hat v_t = v_t \\
        w_t &= w_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
               \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    In words: ``m`` and ``v`` are running means of ``g`` and ``g**2``; dividing by
    ``1 - beta**t`` undoes their bias toward the zeros they start from. Epsilon is added
    to the bias-corrected root, as in ``torch.optim.Adam`` (Kingma & Ba 2015, Algorithm 1).
    ``weight_decay`` adds ``weight_decay * w`` to the gradient, as PyTorch's Adam does;
    for decoupled weight decay use :class:`AdamW`.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Step size :math:`\eta \ge 0` (PyTorch's ``lr``).
    beta1, beta2 : float, default 0.9 and 0.999, keyword-only
        Decay rates in [0, 1) of the two running means (PyTorch's ``betas``).
    epsilon : float, default 1e-8, keyword-only
        :math:`\epsilon > 0`, keeps the step finite where :math:`v_t = 0` (PyTorch's ``eps``).
    weight_decay : float, default 0.0, keyword-only
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    amsgrad : bool, default False, keyword-only
        Divide by the largest :math:`v` seen so far (Reddi et al. 2018).
    decoupled_weight_decay : bool, default False, keyword-only
        Decay the weights directly, ``w *= 1 - learning_rate * weight_decay`` before the
        step, instead of adding ``weight_decay * w`` to the gradient: AdamW's decoupled
        decay (Loshchilov & Hutter 2019), as :class:`AdamW` and ``torch.optim.Adam(decoupled_weight_decay=True)``. Only with
        ``weight_decay > 0`` does it change anything.

    Examples
    --------
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> w.grad[:] = [0.5, -0.5]
    >>> Adam(0.1).step([w])   # the first step moves each weight by about learning_rate
    >>> print(w.value)
    [ 0.9 -1.9]
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(learning_rate)
        self.beta1 = _number(owner, "beta1", beta1, _DECAY_RATE)
        self.beta2 = _number(owner, "beta2", beta2, _DECAY_RATE)
        self.epsilon = _number(owner, "epsilon", epsilon, _POSITIVE)
        self.weight_decay = _number(owner, "weight_decay", weight_decay, _NON_NEGATIVE)
        self.amsgrad = _flag(owner, "amsgrad", amsgrad)
        self.decoupled_weight_decay = _flag(owner, _DECOUPLED, decoupled_weight_decay)

    def hyperparameters(self) -> dict[str, float | bool]:
        options: dict[str, float | bool] = {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
            "weight_decay": self.weight_decay,
            "amsgrad": self.amsgrad,
        }
        return options if isinstance(self, AdamW) else _with_decoupled(self, options)

    def _buffer_names(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if self.amsgrad else ("exp_avg", "exp_avg_sq")

    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        self._adam_step(w, self._decay(w, g), state)

    def _adam_step(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        t = self.step_count
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # m moves the fraction (1 - beta1) of the way to g: the same running mean as
        # beta1 * m + (1 - beta1) * g, written as torch's lerp_ writes it.
        m += (1 - self.beta1) * (g - m)
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        if self.amsgrad:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            v = v_max
        bias_correction1 = 1 - self.beta1**t
        bias_correction2 = 1 - self.beta2**t
        step_size = self.learning_rate / bias_correction1
        denominator = np.sqrt(v) / math.sqrt(bias_correction2) + self.epsilon
        w -= step_size * (m / denominator)


class AdamW(Adam):
    r"""Adam with decoupled weight decay: the weights shrink directly, not through the gradient.

    .. math::

        w_{t-1} &\leftarrow (1 - \eta \lambda)\, w_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        w_t &= w_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
               \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    In words: ``w *= 1 - learning_rate * weight_decay``, then the :class:`Adam` step
    with the plain gradient (``v_hat`` is ``v``, or its running maximum with
    ``amsgrad=True``). Unlike L2 decay, the shrinkage is not divided by
    :math:`\sqrt{v}`, so every weight decays at the same rate (Loshchilov & Hutter 2019).
    The decay is multiplied by the learning rate, as in ``torch.optim.AdamW``.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Step size :math:`\eta \ge 0`.
    beta1, beta2, epsilon, amsgrad
        As for :class:`Adam`.
    weight_decay : float, default 0.01, keyword-only
        Decoupled decay :math:`\lambda \ge 0`.
    decoupled_weight_decay : True, keyword-only
        Accepted (True only) so that every optimizer can be made with
        ``decoupled_weight_decay=True``, e.g. by :func:`get_optimizer`.

    Examples
    --------
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> AdamW(0.1, weight_decay=0.5).step([w])   # zero gradient: only the decay acts
    >>> print(w.value)
    [ 0.95 -1.9 ]
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        decoupled_weight_decay: bool = True,
    ) -> None:
        if decoupled_weight_decay is not True:
            raise InvalidOptionError(
                f"AdamW: decoupled_weight_decay must be True, as AdamW's decay always is (the option "
                f"exists so that every optimizer takes it); got {describe(decoupled_weight_decay)}. "
                "For L2 decay through the gradient use Adam(weight_decay=...)."
            )
        super().__init__(
            learning_rate,
            beta1=beta1,
            beta2=beta2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            decoupled_weight_decay=True,
        )

    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        if self.weight_decay != 0:
            w *= 1 - self.learning_rate * self.weight_decay
        self._adam_step(w, g, state)

    decoupled_weight_decay = True


class RMSprop(Optimizer):
    r"""RMSprop: steps divided by the root of a running mean of the squared gradient.

    With :math:`v_0 = \bar g_0 = b_0 = 0`:

    .. math::

        g_t &\leftarrow g_t + \lambda w_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t, \quad
        r_t = \sqrt{v_t - \bar g_t^2} + \epsilon \text{ (centered)}, \quad
        \text{else } r_t = \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / r_t, \quad w_t = w_{t-1} - \eta b_t
              \quad\text{(momentum)}, \quad\text{else } w_t = w_{t-1} - \eta\, g_t / r_t

    In words: each weight's step is its gradient divided by the root of the recent mean
    of its squared gradient (centered: of its variance); epsilon is added after the root,
    as in ``torch.optim.RMSprop`` (Hinton, Lecture 6e; centered: Graves 2013).

    Parameters
    ----------
    learning_rate : float, default 0.01
        Step size :math:`\eta \ge 0` (PyTorch's ``lr``).
    alpha : float, default 0.99, keyword-only
        Decay rate in [0, 1) of the running means.
    epsilon : float, default 1e-8, keyword-only
        :math:`\epsilon > 0`, keeps the step finite where :math:`v_t = 0` (PyTorch's ``eps``).
    momentum : float, default 0.0, keyword-only
        :math:`\mu \in [0, 1)`.
    centered : bool, default False, keyword-only
        Divide by an estimate of the standard deviation of the gradient instead of its
        root mean square.
    weight_decay : float, default 0.0, keyword-only
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    decoupled_weight_decay : bool, default False, keyword-only
        Decay the weights directly, ``w *= 1 - learning_rate * weight_decay`` before the
        step, instead of adding ``weight_decay * w`` to the gradient: AdamW's decoupled
        decay (Loshchilov & Hutter 2019), for this optimizer too. Only with
        ``weight_decay > 0`` does it change anything.

    Examples
    --------
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> w.grad[:] = [0.5, -0.5]
    >>> RMSprop(0.01).step([w])   # first step: g / (sqrt(0.01 g^2) + epsilon), about 10 sign(g)
    >>> print(w.value.round(6))
    [ 0.9 -1.9]
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        *,
        alpha: float = 0.99,
        epsilon: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(learning_rate)
        self.alpha = _number(owner, "alpha", alpha, _DECAY_RATE)
        self.epsilon = _number(owner, "epsilon", epsilon, _POSITIVE)
        self.momentum = _number(owner, "momentum", momentum, _DECAY_RATE)
        self.centered = _flag(owner, "centered", centered)
        self.weight_decay = _number(owner, "weight_decay", weight_decay, _NON_NEGATIVE)
        self.decoupled_weight_decay = _flag(owner, _DECOUPLED, decoupled_weight_decay)

    def hyperparameters(self) -> dict[str, float | bool]:
        return _with_decoupled(self, {
            "learning_rate": self.learning_rate,
            "alpha": self.alpha,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "centered": self.centered,
            "weight_decay": self.weight_decay,
        })

    def _buffer_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = ("square_avg",)
        if self.centered:
            names += ("grad_avg",)
        if self.momentum != 0:
            names += ("momentum_buffer",)
        return names

    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        g = self._decay(w, g)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        if self.centered:
            g_avg = state["grad_avg"]
            g_avg += (1 - self.alpha) * (g - g_avg)  # torch's lerp_, as in Adam
            # v - g_avg^2 >= 0 in exact arithmetic, but after a long run of equal gradients
            # it is a difference of nearly equal numbers and can round below 0; the clamp
            # keeps the root real (torch would return NaN there), and changes nothing else.
            root = np.sqrt(np.maximum(v - g_avg * g_avg, 0)) + self.epsilon
        else:
            root = np.sqrt(v) + self.epsilon
        if self.momentum != 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += g / root
            w -= self.learning_rate * b
        else:
            w -= self.learning_rate * (g / root)


def _with_decoupled(optimizer: Optimizer, options: dict[str, float | bool]) -> dict[str, float | bool]:
    """``options`` with ``decoupled_weight_decay=True`` last if it is set: the default, False,
    is left out, so that the repr and saved state of an optimizer without it stay as they were."""
    if optimizer.decoupled_weight_decay:
        options[_DECOUPLED] = True
    return options


# --------------------------------------------------------------------------- by name

OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
"""The optimizers :func:`get_optimizer` knows, by lower-case name."""

_TORCH_OPTION_NAMES = {
    "lr": "learning_rate=",
    "eps": "epsilon=",
    "betas": "beta1= and beta2=",
    "rho": "alpha=",
}


def get_optimizer(name: str, **options: Any) -> Optimizer:
    """Create an optimizer from its name (case-insensitive) and keyword options.

    Parameters
    ----------
    name : {"sgd", "adam", "adamw", "rmsprop"}
        The optimizer, in any case ("Adam", "SGD").
    **options
        Its keyword arguments, e.g. ``learning_rate=0.01, momentum=0.9``.

    Examples
    --------
    >>> get_optimizer("Adam", learning_rate=0.01)
    Adam(learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-08, weight_decay=0.0, amsgrad=False)
    """
    valid = ", ".join(repr(key) for key in OPTIMIZERS)
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        message = f"get_optimizer: name must be one of {valid} (any case); got {describe(name)}."
        if isinstance(name, str):
            close = difflib.get_close_matches(name.lower(), OPTIMIZERS, n=1)
            if close:
                message += f" Did you mean {close[0]!r}?"
        raise InvalidOptionError(message)
    cls = OPTIMIZERS[name.lower()]
    accepted = list(inspect.signature(cls).parameters)
    for option in options:
        if option not in accepted:
            hint = (
                f" PyTorch's {option}= is {_TORCH_OPTION_NAMES[option]} here."
                if option in _TORCH_OPTION_NAMES
                else ""
            )
            raise InvalidOptionError(
                f"get_optimizer: {cls.__name__} has no option {option!r}; its options are "
                f"{', '.join(accepted)}.{hint}"
            )
    return cls(**options)
