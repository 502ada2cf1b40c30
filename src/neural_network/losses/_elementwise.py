"""The loss engine for losses defined element by element.

A loss declares four things and nothing else: the names and domains of its two
arguments, a kernel for the per-element value, and a kernel for its derivative with
respect to the first argument. The engine runs every loss through the same steps::

    arguments ─► _validation (namespace, dtype, shape, domain, weights)
              ─► kernel (value or derivative, in float64 working precision)
              ─► _reduction (sample weights, none | sum | mean, exact accumulation)
              ─► result (same array library; the input's float dtype, else float64)

so that value and gradient share their validation and options and cannot drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from neural_network import _blocks, _reduction, _validation
from neural_network._validation import NONNEGATIVE, REAL, Array, Domain, Namespace
from neural_network.errors import EmptyInputError, OutOfRangeError, ShapeMismatchError

Reduction = Literal["mean", "sum", "none"]
"""How per-element losses are combined: their weighted mean, their weighted sum, or not at all."""


Kernel = Callable[..., Array]
"""Per-element math of a loss: ``kernel(xp, input, target, /, **weights) -> array``.

Arrays arrive validated and in float64; the result has the shape of ``input``.
"""


@dataclass(frozen=True)
class PairCheck:
    """A check of the two operands together, such as arguments that look swapped.

    ``applies(input_range, target_range)`` decides from each operand's minimum and
    maximum, which the range checks measure anyway, whether to look at all; only then is
    ``check(func, xp, input, target)`` called (after every other check of the values), to
    raise or return.
    """

    applies: Callable[[tuple[float, float], tuple[float, float]], bool]
    check: Callable[[str, Namespace, Array, Array], None]

    def make(self, func: str, xp: Namespace, x: Array, t: Array, ranges: dict[str, tuple[float, float]]) -> None:
        """Make the check if the ranges found (by role, "input" and "target") say it may apply."""
        if len(ranges) == 2 and self.applies(ranges["input"], ranges["target"]):
            self.check(func, xp, x, t)


@dataclass(frozen=True)
class Operand:
    """One argument of a loss: its name (used in every message) and its domain."""

    name: str
    domain: Domain


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to create, and one is made per call
class Batch:
    """Validated arguments, ready for a kernel and the reduction.

    ``input`` and ``target`` keep their own float dtype (a kernel gets them in the
    working precision, block by block for large arrays); the weights are in the working
    precision already. ``deferred`` lists the operands ("input", "target") whose value
    checks the blocked evaluation makes as it goes (see :func:`_blocked`); ``trusted``
    those left unchecked because a finite result will prove them finite (see
    ``ElementwiseLoss.value_propagates_non_finite``), checked only if it is not.
    ``func`` is the function to blame in the messages of both.
    """

    xp: Namespace
    input: Array
    target: Array
    weights: dict[str, Array]
    sample_weight: Array | None
    reduction: str
    dtype: Any
    func: str = ""
    deferred: tuple[tuple[str, Operand], ...] = ()
    trusted: tuple[tuple[str, Operand], ...] = ()
    pair_check: PairCheck | None = None

    def operand(self, role: str) -> Array:
        """The array of the operand in that role, "input" or "target"."""
        return self.input if role == "input" else self.target

    def can_extend(self) -> bool:
        """Whether an overflow could be repaired in NumPy's extended range.

        Only float64 input can overflow the float64 working precision, only a weighted
        or averaged result can be finite when a per-element value is not, and only
        where NumPy's long double has a wider exponent range.
        """
        return (
            _validation.EXTENDED is not None
            and isinstance(self.input, np.ndarray)
            and self.dtype == np.float64
            and (self.reduction != "none" or self.sample_weight is not None)
        )

    def extended(self) -> Batch:
        """This batch with every array in NumPy's extended range."""

        def widen(array: Array) -> Array:
            return np.asarray(array, dtype=_validation.EXTENDED)

        return replace(
            self,
            input=widen(self.input),
            target=widen(self.target),
            weights={name: widen(value) for name, value in self.weights.items()},
            sample_weight=None if self.sample_weight is None else widen(self.sample_weight),
        )


Reducer = Callable[..., Array]
"""``_reduction.reduce_values`` or ``_reduction.reduce_derivatives``."""


@dataclass(frozen=True)
class ElementwiseLoss:
    """A loss ``l(input_i, target_i)`` evaluated element by element, and its derivative.

    ``weights`` names the extra keyword arrays of the loss (such as ``pos_weight``):
    non-negative, finite, and broadcast against the target, which they may not enlarge.
    """

    name: str
    input: Operand
    target: Operand
    value: Kernel
    derivative: Kernel
    weights: tuple[str, ...] = ()
    value_propagates_non_finite: bool = False
    """Whether ``value`` is NaN or infinite wherever an input is: then a finite reduced
    loss proves its finite-only operands finite, and large ones need no separate check."""
    derivative_propagates_non_finite: bool = False
    """The same promise for ``derivative``: a gradient that is finite everywhere proves
    the finite-only operands finite (checked block by block, in the cache)."""
    small_value: Kernel | None = None
    """A cheaper ``value`` for small calls (see :func:`_small`), for NumPy float64 arrays
    without weights: the same bits as ``value`` wherever it is finite, and not finite
    wherever the input leaves its domain. The input's range is then not measured: a
    result that is not finite sends the call to the general path, which checks it."""
    pair_check: PairCheck | None = None
    """A check of the input and target together (see :class:`PairCheck`), made where the
    ranges say it may apply. Wherever it raises, ``value`` must not be finite (the
    small-call path, which may skip measuring the input, then leaves the call to the
    general path, which makes the check)."""

    def __call__(
        self, input: object, target: object, *, reduction: str, sample_weight: object, **weights: object
    ) -> Array:
        """The reduced loss (or the per-element losses for ``reduction="none"``)."""
        trust = self.value_propagates_non_finite and sample_weight is None and reduction != "none"
        if sample_weight is None and _is_small_pair(input, target) and _none_given(weights):
            if self.small_value is not None:
                result = _small(self, self.small_value, input, target, reduction, trust=trust, gradient=False,
                                proven=("input",))
            else:
                result = _small(self, self.value, input, target, reduction, trust=trust, gradient=False)
            if result is not None:
                return result
        batch = self.prepare(self.name, input, target, reduction, sample_weight, weights, trust_finite=trust)
        return evaluate(self.value, _reduction.reduce_values, batch, reduced=reduction != "none")

    def grad(
        self, input: object, target: object, *, reduction: str, sample_weight: object, **weights: object
    ) -> Array:
        """The gradient of the reduced loss with respect to ``input``: same shape and dtype."""
        trust = self.derivative_propagates_non_finite and sample_weight is None
        if sample_weight is None and _is_small_pair(input, target) and _none_given(weights):
            result = _small(self, self.derivative, input, target, reduction, trust=trust, gradient=True)
            if result is not None:
                return result
        batch = self.prepare(f"{self.name}_grad", input, target, reduction, sample_weight, weights, trust_finite=trust)
        return evaluate(self.derivative, _reduction.reduce_derivatives, batch, reduced=False)

    def mean_value_and_grad(self, input: Array, target: Array) -> tuple[float, Array]:
        """The mean loss and its gradient together, for NumPy arrays already checked.

        For the training loop, which checks its targets once, with the public function,
        before the first epoch, and whose inputs are the network's own outputs: each
        step then needs both, without checking them again. Same kernels and reduction
        as the public functions (float64 working precision, exact accumulation).
        """
        batch = Batch(
            xp=np,
            input=input,
            target=target,
            weights={},
            sample_weight=None,
            reduction="mean",
            dtype=input.dtype,
        )
        # No extended-range retry: a network's outputs that overflow the loss have
        # diverged, and the training loop reports it.
        with np.errstate(divide="ignore", over="ignore"):
            value = _apply(self.value, _reduction.reduce_values, batch)
            return float(value), _apply(self.derivative, _reduction.reduce_derivatives, batch)

    def prepare(
        self,
        func: str,
        input: object,
        target: object,
        reduction: object,
        sample_weight: object,
        weights: dict[str, object],
        *,
        trust_finite: bool = False,
    ) -> Batch:
        """Validate every argument once (the values of large NumPy operands as they are
        evaluated, and finite-only operands not at all with ``trust_finite``; see
        :class:`Batch`).

        ``func`` is the name the caller knows (the loss or its ``_grad`` twin), used in
        every message.
        """
        x_name, t_name = self.input.name, self.target.name
        reduction = _validation.check_reduction(func, reduction)
        given = {name: value for name, value in weights.items() if value is not None}
        xp, device = _validation.namespace(
            func, **{x_name: input, t_name: target, "sample_weight": sample_weight}, **given
        )

        x = _validation.as_real_array(func, x_name, input, xp, device)
        t = _validation.as_real_array(func, t_name, target, xp, device)
        _validation.check_same_shape(func, x_name, x, t_name, t)
        trusted: tuple[tuple[str, Operand], ...] = ()
        checked: tuple[tuple[str, Operand], ...] = ()
        for role, operand in (("input", self.input), ("target", self.target)):
            if trust_finite and operand.domain is REAL:
                trusted += ((role, operand),)
            else:
                checked += ((role, operand),)
        blocked = _is_blocked(xp, x)
        if not blocked and math.prod(x.shape):
            arrays = [x if role == "input" else t for role, _ in checked]
            found = _validation.extremes(xp, *arrays)  # one pass over Dask arguments, not one each
            for (_, operand), array, (low, high) in zip(checked, arrays, found, strict=True):
                _validation.check_range(func, operand.name, array, xp, operand.domain, low, high)
            if self.pair_check is not None:
                self.pair_check.make(func, xp, x, t, {role: found[i] for i, (role, _) in enumerate(checked)})
        if reduction == "mean" and math.prod(x.shape) == 0:
            raise EmptyInputError(
                f"{func}: reduction='mean' needs at least one element; got "
                f"{x_name}.shape={tuple(x.shape)}. The mean of nothing is undefined: "
                "use reduction='sum' (an empty sum is 0) or check why the batch is empty."
            )

        extra = {name: self._broadcast_weight(func, name, value, t, xp, device) for name, value in given.items()}
        w = None
        if sample_weight is not None:
            w = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
            _validation.check_same_shape(func, x_name, x, "sample_weight", w)
            _, largest = _validation.check_values(func, "sample_weight", w, xp, NONNEGATIVE)
            if reduction == "mean" and largest == 0.0:
                raise OutOfRangeError(
                    f"{func}: sample_weight must have a positive sum for reduction='mean' "
                    "(the weighted mean is sum(w * loss) / sum(w)); got weights that are all 0. "
                    "Give at least one element a positive weight, or use reduction='sum'."
                )
            w = _validation.working(xp, w)
            if reduction == "mean":
                w = _reduction.scale_weights(w, largest, math.prod(x.shape))

        return Batch(
            xp=xp,
            input=x,
            target=t,
            weights=extra,
            sample_weight=w,
            reduction=reduction,
            dtype=x.dtype,
            func=func,
            deferred=checked if blocked else (),
            trusted=trusted,
            pair_check=self.pair_check,
        )

    def _broadcast_weight(
        self, func: str, name: str, value: object, target: Array, xp: Namespace, device: Any
    ) -> Array:
        weight = _validation.as_real_array(func, name, value, xp, device)
        t_name, target_shape = self.target.name, tuple(target.shape)
        if _validation.broadcast_shape(tuple(weight.shape), target_shape) != target_shape:
            raise ShapeMismatchError(
                f"{func}: {name} must broadcast against {t_name} without changing its shape; "
                f"got {name}.shape={tuple(weight.shape)} and {t_name}.shape={target_shape}. "
                f"For one weight per output column of an (N, C) target, pass an array of shape (C,)."
            )
        _validation.check_values(func, name, weight, xp, NONNEGATIVE)
        return _validation.working(xp, weight)


# --------------------------------------------------------------------------- small NumPy input
#
# For a few thousand elements the arithmetic of a loss takes a few microseconds, and the
# general path above (a namespace lookup, conversions, a Batch, the reducer's options,
# an ``np.errstate`` block) would cost as much again. The commonest call, two float64
# NumPy arrays of one shape and no weights, takes this path instead: the same checks
# (decided from one minimum and one maximum per checked operand), the same kernel on the
# same arrays and the same sums, with the Python around them cut to the minimum. It
# returns None for anything it does not settle (a value outside its domain, a result
# that is not finite, an unknown reduction); the general path then takes the call from
# the start, and raises, repairs or returns exactly what it always does.

_FLOAT64 = np.dtype(np.float64)
_FLOAT32 = np.dtype(np.float32)


def _is_small_pair(input: object, target: object) -> bool:
    """Whether the operands are float64 (or both float32) NumPy arrays of one shape, at least
    1-d, of one block at most."""
    return (
        type(input) is np.ndarray
        and type(target) is np.ndarray
        # native float64 or float32, both alike (anything else is converted: the general path)
        and (input.dtype is _FLOAT64 or input.dtype is _FLOAT32)
        and target.dtype is input.dtype
        and input.ndim > 0  # a 0-d result is a NumPy scalar: left to the general path
        and 0 < input.size <= _blocks.BLOCK
        and input.shape == target.shape
    )


def _none_given(weights: dict[str, object]) -> bool:
    """Whether no weight array (such as ``pos_weight``) was given."""
    return all(value is None for value in weights.values()) if weights else True


def _small(
    loss: ElementwiseLoss,
    kernel: Kernel,
    x: Array,
    t: Array,
    reduction: object,
    *,
    trust: bool,
    gradient: bool,
    proven: tuple[str, ...] = (),
) -> Array | None:
    """The loss (or its gradient) of small float64 arrays, or None to use the general path.

    Exact by construction: the kernel sees the arrays the general path would give it
    (float64 input is used as is), in the same namespace, and the reduction is the one
    ``_reduction.reduce_values`` or ``reduce_derivatives`` makes without weights: the
    sum of ``total``, divided by the element count for the mean. A result that is not
    finite is left to the general path, which checks the trusted operands and retries
    an overflow in the extended range (see :func:`_run`).
    """
    if type(reduction) is not str or reduction not in _validation.REDUCTIONS:
        return None
    narrow = x.dtype is _FLOAT32
    ranges: dict[str, tuple[float, float]] = {}
    if narrow:  # computed in float64 and rounded once at the end, as the general path does
        x, t = x.astype(_FLOAT64), t.astype(_FLOAT64)
    for role, operand, array in (("input", loss.input, x), ("target", loss.target, t)):
        if (trust and operand.domain is REAL) or role in proven:
            continue  # a finite result proves it in its domain, as in the general path
        low = float(np.minimum.reduce(array, axis=None))
        high = float(np.maximum.reduce(array, axis=None))
        if not operand.domain.holds(low, high):
            return None
        ranges[role] = (low, high)
    if loss.pair_check is not None and len(ranges) == 2 and loss.pair_check.applies(ranges["input"], ranges["target"]):
        return None  # the general path makes the check, with its message
    # Trusted operands may hold NaN or inf, whose arithmetic must stay silent (see _run).
    result = (_small_trusted if trust or proven else _small_checked)(kernel, x, t, reduction, gradient)
    if (trust or proven or reduction != "none") and not _all_finite_small(result):
        return None
    if narrow:
        result = _small_narrowed(result)
        if not _all_finite_small(result):  # beyond float32's range: the general path decides
            return None
    return result


def _small_result(kernel: Kernel, x: Array, t: Array, reduction: str, gradient: bool) -> Array:
    """The kernel and the reduction of :func:`_small` (under the caller's ``np.errstate``)."""
    values = kernel(_validation.NUMPY, x, t)
    if gradient:  # reduce_derivatives: w * l' (no weights here), over the count for the mean
        return values / float(x.size) if reduction == "mean" else values
    if reduction == "none":
        return values
    total = _reduction.total(np, values)
    return total / float(x.size) if reduction == "mean" else total


# np.errstate as a decorator costs half as much as the ``with`` statement, on every call.
_small_checked = np.errstate(divide="ignore", over="ignore", invalid="warn")(_small_result)
_small_trusted = np.errstate(divide="ignore", over="ignore", invalid="ignore")(_small_result)


def _narrowed(result: Array) -> Array:
    """``result`` rounded to float32: a NumPy scalar for a reduced loss, else an array,
    as ``reduce_values`` and ``reduce_derivatives`` round it."""
    if isinstance(result, np.ndarray) and result.ndim:
        return result.astype(_FLOAT32)
    return np.float32(result)


# A float64 value beyond float32's range becomes inf silently here; the caller then
# leaves the call to the general path.
_small_narrowed = np.errstate(over="ignore")(_narrowed)


def _all_finite_small(result: Array) -> bool:
    """Whether every element of ``result`` is finite (no floating-point warning, whatever it holds)."""
    if isinstance(result, np.ndarray):
        return bool(np.isfinite(result).all())
    return math.isfinite(result)


def _is_blocked(xp: Namespace, x: Array) -> bool:
    """Whether an operand is evaluated block by block: a NumPy array of more than one block."""
    return isinstance(x, np.ndarray) and x.size > _blocks.BLOCK


def evaluate(kernel: Kernel, reduce: Reducer, batch: Batch, *, reduced: bool) -> Array:
    """Apply ``kernel`` and ``reduce`` to ``batch`` (in blocks for large NumPy arrays), then
    check the trusted operands if the result is not finite."""
    if _is_blocked(batch.xp, batch.input):
        return _blocked(kernel, reduce, batch, reduced=reduced)  # checks the trusted operands itself
    result = _run(kernel, reduce, batch)
    if batch.trusted and not _all_finite(batch.xp, result):
        _check_trusted(batch)
    return result


def _all_finite(xp: Namespace, result: Array) -> bool:
    if isinstance(result, (np.ndarray, np.generic)) and np.ndim(result) == 0:
        return math.isfinite(result)
    return bool(xp.all(xp.isfinite(result)))


def _check_trusted(batch: Batch) -> None:
    """Check the operands left unchecked (a non-finite result may come from one of them)."""
    for role, operand in batch.trusted:
        _validation.check_values(batch.func, operand.name, batch.operand(role), batch.xp, operand.domain)


def _run(kernel: Kernel, reduce: Reducer, batch: Batch) -> Array:
    """Apply ``kernel`` and ``reduce`` to the whole of ``batch``; redo it in the extended range on overflow.

    float64 results can overflow in an intermediate (a per-element loss above 1.8e308)
    although the weighted or averaged result is finite; those rare calls are computed
    again in NumPy's long double, whose exponent range is far wider (see
    ``_validation.EXTENDED``). Where no wider type exists the result is inf.

    Only the infinite elements take the extended result: every other element keeps its
    float64 bits, so an element's value never depends on its neighbours (an inf that
    is the exact value, such as ``A = 0`` with ``y = 1``, stays inf either way).
    """
    # Unchecked (trusted) operands may hold NaN or inf, whose arithmetic is the point:
    # it makes the result non-finite, and evaluate then refuses them.
    invalid: Literal["ignore", "warn"] = "ignore" if batch.trusted else "warn"
    with np.errstate(divide="ignore", over="ignore", invalid=invalid):
        result = _apply(kernel, reduce, batch)
        if batch.can_extend():
            infinite = math.isinf(result) if isinstance(result, np.generic) else np.isinf(result)
            if infinite if isinstance(infinite, bool) else infinite.any():
                extended = _apply(kernel, reduce, batch.extended())
                merged: Array = np.where(infinite, extended, result)
                result = merged[()]  # a NumPy scalar again for the reduced loss
    return result


def _apply(kernel: Kernel, reduce: Reducer, batch: Batch) -> Array:
    xp = batch.xp
    values = kernel(xp, _working(xp, batch.input), _working(xp, batch.target), **batch.weights)
    return reduce(xp, values, reduction=batch.reduction, sample_weight=batch.sample_weight, dtype=batch.dtype)


def _working(xp: Namespace, array: Array) -> Array:
    """``array`` in the working precision, float64, unless already in the extended range."""
    if isinstance(array, np.ndarray):
        return array if array.dtype == _validation.EXTENDED else array.astype(np.float64, copy=False)
    return _validation.working(xp, array)


def _blocked(kernel: Kernel, reduce: Reducer, batch: Batch, *, reduced: bool) -> Array:
    """The same result as :func:`_run`, computed block by block (see :mod:`neural_network._blocks`).

    Each block of ``input`` and ``target`` is read from memory once: its minimum and
    maximum (for the deferred value checks), its conversion to the working precision,
    the kernel, the sample weights and the block's partial sums (or its part of the
    output) all happen while it is in the processor's cache. Sums are split into the
    same partial sums as :func:`_reduction.total` and combined exactly, so the result
    does not depend on the blocking or the thread count. The checks are decided after
    the pass, with the same messages as for small input.

    Trusted operands (see :class:`Batch`) are not measured: a finite result proves them
    finite, and a non-finite one sends them through the full check before anything else.
    """
    shape, size = tuple(batch.input.shape), math.prod(batch.input.shape)
    x, t = np.reshape(batch.input, -1), np.reshape(batch.target, -1)
    weights = {name: np.broadcast_to(value, shape).flat for name, value in batch.weights.items()}
    w = None if batch.sample_weight is None else np.reshape(batch.sample_weight, -1)
    mean = batch.reduction == "mean"
    denominator = _reduction.denominator(np, batch.input, batch.sample_weight) if mean else 1.0
    measured = [(operand, x if role == "input" else t) for role, operand in batch.deferred]
    out = np.empty(0 if reduced else size, dtype=batch.dtype)
    extend = batch.can_extend()

    def values_of(start: int, stop: int, widen: Callable[[Array], Array]) -> Array:
        block_weights = {name: widen(np.asarray(flat[start:stop])) for name, flat in weights.items()}
        if widen is _to_float64 and x.dtype != np.float64:  # float32: widened into this thread's scratch
            x_work, t_work = _blocks.scratch(__name__, 2, (stop - start,))
            np.copyto(x_work, x[start:stop])
            np.copyto(t_work, t[start:stop])
        else:
            x_work, t_work = widen(x[start:stop]), widen(t[start:stop])
        values = kernel(np, x_work, t_work, **block_weights)
        if w is not None:
            values = _reduction.apply_sample_weight(np, values, widen(w[start:stop]))
        return values

    def task(start: int, stop: int) -> tuple[list[tuple[float, float]], list[float]]:
        # The floating-point error state belongs to each thread: set it here, in the thread.
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            # ufunc reductions, not np.min and np.max: the same NaN-propagating result
            # without their Python wrappers, which hold the interpreter lock (see _blocks.BLOCK).
            ranges = [
                (float(np.minimum.reduce(a[start:stop])), float(np.maximum.reduce(a[start:stop])))
                for _, a in measured
            ]
            values = values_of(start, stop, _to_float64)
            if reduced:
                return ranges, _reduction.partials(values)
            if batch.trusted and not np.isfinite(values).all():
                ranges.append((math.nan, math.nan))  # marks the block: the trusted operands are checked
            part = out[start:stop]
            # Straight into the output, rounded once to its dtype: no further temporary.
            if mean:
                np.divide(values, denominator, out=part)
            else:
                np.copyto(part, values, casting="same_kind")
            if extend and np.isinf(part).any():  # redo the overflowing elements in the extended range
                wide = values_of(start, stop, _to_extended)
                part[...] = np.where(np.isinf(part), wide / denominator if mean else wide, part)
            return ranges, []

    pieces = _blocks.map_blocks(task, size)
    ranges: dict[str, tuple[float, float]] = {}
    for position, ((role, operand), (_, array)) in enumerate(zip(batch.deferred, measured, strict=True)):
        # np.min and np.max, not Python's: a NaN in any block must come through.
        low = float(np.min([piece[0][position][0] for piece in pieces]))
        high = float(np.max([piece[0][position][1] for piece in pieces]))
        _validation.check_range(batch.func, operand.name, array, np, operand.domain, low, high)
        ranges[role] = (low, high)
    if batch.pair_check is not None:
        batch.pair_check.make(batch.func, np, batch.input, batch.target, ranges)
    if not reduced:
        if any(len(piece[0]) > len(measured) for piece in pieces):
            _check_trusted(batch)  # a non-finite element: refuse a NaN or inf operand (else an overflow)
        return np.reshape(out, shape)
    value = _reduction.combine([partial for piece in pieces for partial in piece[1]]) / denominator
    result = np.asarray(value, dtype=batch.dtype)[()]
    if not np.isfinite(result):
        _check_trusted(batch)  # before the costly retry: a NaN or inf input is refused first
        if extend and np.isinf(result):
            result = _run(kernel, reduce, batch)
    return result


def _to_float64(array: Array) -> Array:
    return array.astype(np.float64, copy=False)


def _to_extended(array: Array) -> Array:
    return array.astype(_validation.EXTENDED)
