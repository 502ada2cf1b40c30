"""cross_entropy, nll_loss and their gradients, against independent references.

1. **Parity with PyTorch** (torch 2.13.0 CPU): value and autograd gradient, float32 and
   float64, inputs ``(N, C)``, ``(N, C, d1)``, ``(N, C, d1, d2)`` and unbatched ``(C,)``,
   class-index and class-probability targets, class ``weight``, ``ignore_index`` (the
   default -100 and the in-range 0), ``label_smoothing`` 0 / 0.1 / 1, every reduction,
   and ``sample_weight``. ``sample_weight`` has no torch equivalent: the reference is
   built from torch's per-sample losses ``l`` (class weights and ignoring applied) as
   ``s * l`` ("none"), ``sum(s * l)`` ("sum") and ``sum(s * l) / sum(s * w[y])`` over
   the counted samples (or ``/ sum(s)`` for probability targets) ("mean"), and autograd
   differentiates that.
2. **Exactness** against mpmath at 200 bits: each per-sample loss within 4 ulp in float64
   (extreme logits, ties at the maximum, 1000 classes), the gradient of hard labels
   within a few ulp, float32 results within 1 ulp of the correctly rounded value; and the
   cases where torch is the inexact one.
3. **Central differences** (float64) of every ``_grad`` for every option combination.
4. **Properties**: ``cross_entropy = nll_loss(log_softmax)``, shift invariance of a row,
   gradient rows summing to 0, ``sum`` = fsum of ``none``, unit sample weights.
5. **Errors**: the exception type and the key words of the message, for every bad input.
6. **Array libraries**: NumPy, array-api-strict and torch in, the same library out.

Run ``pytest tests/test_cross_entropy.py -s`` to see the figures measured (parity cases,
worst relative error against torch, worst ulp against mpmath).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import array_api_compat
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from error_model import additions, any_order
from neural_network import cross_entropy, cross_entropy_grad, nll_loss, nll_loss_grad
from neural_network._blocks import BLOCK, set_num_threads
from neural_network._reduction import total as reduction_total
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses.multiclass._softmax import cross_entropy_mean_value_and_grad

torch = pytest.importorskip("torch")
array_api_strict = pytest.importorskip("array_api_strict")

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float64, np.float32)
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)

SHAPES = {"N,C": (6, 4), "N,C,d1": (3, 4, 5), "N,C,d1,d2": (2, 3, 2, 3), "C": (5,)}
"""One input shape per layout; every one has at least 3 classes (see make_case)."""

# --------------------------------------------------------------------------- figures

FIGURES: dict[str, float] = {"parity cases": 0}
"""What the module measured, printed when it finishes (``pytest -s``)."""


def record_worst(key: str, value: float) -> None:
    FIGURES[key] = max(FIGURES.get(key, 0.0), value)


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Iterator[None]:
    yield
    lines = ["", f"{__name__}: figures measured"]
    lines += [
        f"  {key:<72} {value if isinstance(value, int) else f'{value:.3g}'}"
        for key, value in sorted(FIGURES.items())
    ]
    print("\n".join(lines))


# --------------------------------------------------------------------------- layouts


def class_axis(shape: tuple[int, ...]) -> int:
    return 1 if len(shape) >= 2 else 0


def sample_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the per-sample loss: the input's shape without its class axis."""
    axis = class_axis(shape)
    return shape[:axis] + shape[axis + 1 :]


def from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``(M, C)`` rows, one per sample, laid out as an input of ``shape`` (class axis 1, or 0 if unbatched)."""
    axis = class_axis(shape)
    return np.moveaxis(rows.reshape(*sample_shape(shape), shape[axis]), -1, axis)


def rng_for(*key: object) -> np.random.Generator:
    """A generator seeded from the test's parameters: each case has its own fixed data."""
    return np.random.default_rng(list(repr(key).encode()))


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """Arguments of one call: logits (or log-probabilities), target and the options."""

    x: np.ndarray
    target: np.ndarray
    probabilities: bool = False
    weight: np.ndarray | None = None
    ignore_index: int = -100
    label_smoothing: float = 0.0
    sample_weight: np.ndarray | None = None

    def options(self, reduction: str, *, nll: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = {
            "weight": self.weight,
            "ignore_index": self.ignore_index,
            "reduction": reduction,
            "sample_weight": self.sample_weight,
        }
        if not nll:
            options["label_smoothing"] = self.label_smoothing
        return options

    def describe(self, reduction: str) -> str:
        return (
            f"shape={self.x.shape}, dtype={self.x.dtype}, "
            f"{'probabilities' if self.probabilities else 'indices'}, "
            f"weight={self.weight is not None}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, sample_weight={self.sample_weight is not None}, "
            f"reduction={reduction!r}"
        )


def index_target(rng: np.random.Generator, shape: tuple[int, ...], ignore_index: int) -> np.ndarray:
    """Class indices with about a third of the samples ignored; sample 0 is always counted (class 1)."""
    classes = shape[class_axis(shape)]
    flat = rng.integers(0, classes, math.prod(sample_shape(shape)))
    if ignore_index not in range(classes):  # an in-range ignore_index is hit by the random classes
        flat[rng.uniform(size=flat.size) < 0.3] = ignore_index
    flat[0] = 1
    return flat.reshape(sample_shape(shape))


def probability_target(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Rows of class probabilities: spread out, one-hot, and with exact zeros."""
    classes = shape[class_axis(shape)]
    samples = math.prod(sample_shape(shape))
    rows = rng.dirichlet(np.full(classes, 0.7), samples)
    if samples >= 3:
        rows[1] = np.eye(classes)[2]  # a hard label written as probabilities
        rows[2, 0] = 0.0  # a class of probability 0: 0 * log p must be 0
        rows[2] /= rows[2].sum()
    return from_rows(rows.astype(dtype), shape)


def make_case(
    shape: tuple[int, ...],
    dtype: Any,
    *,
    probabilities: bool = False,
    weighted: bool = False,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    sample_weighted: bool = False,
    logit_range: float = 2.5,
) -> Case:
    """Random logits in [-R, R] and a target; class 1 of sample 0 keeps every mean defined.

    The class weights give the last class a weight of 0 (never class 1, as there are at
    least 3 classes); the sample weights give the last sample a weight of 0 (never sample 0).
    """
    rng = rng_for(shape, np.dtype(dtype).name, probabilities, weighted, ignore_index, label_smoothing)
    x = rng.uniform(-logit_range, logit_range, shape).astype(dtype)
    if probabilities:
        target = probability_target(rng, shape, dtype)
    else:
        target = index_target(rng, shape, ignore_index)
    weight = None
    if weighted:
        weight = rng.uniform(0.25, 2.0, shape[class_axis(shape)]).astype(dtype)
        weight[-1] = 0.0
    sample_weight = None
    if sample_weighted:
        sample_weight = np.asarray(rng.uniform(0.0, 2.0, sample_shape(shape)), dtype=dtype)
        if sample_weight.size > 1:
            sample_weight.reshape(-1)[-1] = 0.0
        sample_weight.reshape(-1)[0] = 1.5
    return Case(x, target, probabilities, weight, ignore_index, label_smoothing, sample_weight)


def log_probability_case(case: Case) -> Case:
    """The same case for nll_loss: log_softmax of the logits (torch, float64, then rounded)."""
    logits = torch.tensor(case.x.astype(np.float64))
    log_p = torch.log_softmax(logits, dim=class_axis(case.x.shape)).numpy().astype(case.x.dtype)
    return replace(case, x=log_p, label_smoothing=0.0)


# --------------------------------------------------------------------------- torch references


def torch_counted_weight(target: Any, weight: Any, ignore_index: int, classes: int) -> Any:
    """w[y] for every sample, 0 where the target is ignore_index (what a torch mean divides by)."""
    ignored = target == ignore_index
    index = torch.where(ignored, torch.zeros_like(target), target)
    w = torch.ones(classes, dtype=torch.float64) if weight is None else weight
    return torch.where(ignored, torch.zeros((), dtype=w.dtype), w[index])


def torch_reference(case: Case, reduction: str, *, nll: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """torch's loss and its autograd gradient with respect to the input, in the input's dtype.

    For ``"none"`` the gradient is that of ``sum(loss)``: each sample's loss depends on its
    own row only, so that is the per-sample derivative our ``_grad`` returns.
    """
    X = torch.tensor(case.x, requires_grad=True)
    T = torch.tensor(case.target)
    W = None if case.weight is None else torch.tensor(case.weight)
    function = torch.nn.functional.nll_loss if nll else torch.nn.functional.cross_entropy
    options: dict[str, Any] = {"weight": W, "ignore_index": case.ignore_index}
    if not nll:
        options["label_smoothing"] = case.label_smoothing
    if case.sample_weight is None:
        loss = function(X, T, reduction=reduction, **options)
    else:
        S = torch.tensor(case.sample_weight)
        weighted = S * function(X, T, reduction="none", **options)
        if case.probabilities:
            denominator = S.sum()
        else:
            classes = case.x.shape[class_axis(case.x.shape)]
            denominator = (S * torch_counted_weight(T, W, case.ignore_index, classes).to(S.dtype)).sum()
        loss = {"none": weighted, "sum": weighted.sum(), "mean": weighted.sum() / denominator}[reduction]
    loss.sum().backward()
    return loss.detach().numpy(), X.grad.numpy()


# --------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= rtol * |expected| + floor * max|expected|``, element-wise."""

    rtol: float
    floor: float = 0.0


FORWARD = {np.float64: Tolerance(1e-12), np.float32: Tolerance(2e-5)}
"""Not derived: the values with label smoothing or probability targets (our bound is derived
for class indices without smoothing only, value_ulps; torch's smoothed and soft-label forms
are not derived here), relative. In float32 torch rounds at every step (its log-softmax
subtracts the log of a sum from the logit); we round once. The class-index cases without
smoothing are derived instead (:func:`index_allowances`)."""

BACKWARD = {np.float64: Tolerance(1e-12, 8 * EPS64), np.float32: Tolerance(2e-5, 8 * EPS32)}
"""Not derived, as FORWARD: the gradients, relative, with an absolute floor of a few ulps of
the largest element for the elements that are differences of nearly equal terms
(``p * sum(w t) - w t``)."""

U = EPS64 / 2
U32 = EPS32 / 2


def torch_log_softmax_ulps(classes: int, log_p: np.ndarray) -> np.ndarray:
    """The absolute error of torch's float64 log_softmax, in u, of each entry (rows, classes).

    ls_j = (x_j - m) - log(S), S = sum_k exp(z_k), z = x - m <= 0: z_j rounds (u |z_j|), each
    exp(z_k) 2u and u |z_k| through its condition (|z| e^z <= 1/e of S), the sum of C terms
    > 0 in torch's order any_order(C): S within (2.37 + any_order(C))u, passed to log S
    absolutely; log 2u |log S|, the subtraction u |ls_j|: with log S <= -ls_j and |z_j| <= -ls_j,
    (2.37 + any_order(C)) + 3 |ls_j|.
    """
    return 2.37 + any_order(classes) + 3 * np.abs(log_p)


def index_allowances(case: Case, reduction: str, *, nll: bool) -> tuple[Any, np.ndarray] | None:
    """The derived allowance (absolute) of the value and of each gradient element, for class
    indices without label smoothing; None otherwise (FORWARD and BACKWARD).

    Per sample n of target t (ignored: 0 on both sides), its class weight w and sample
    weight s. Value: ours -log p_t within value_ulps(C) relative (nll_loss: -x_t, exact),
    torch's (torch_log_softmax_ulps; nll_loss: exact); then w, s: u each per side. Sum of M
    terms >= 0: ours additions(M), torch any_order(M); the mean's denominator D = sum s w:
    the products u and the same sums, the division u, per side. Gradient: c (p - y) with
    c = w s (/ D): ours gradient_ulps(C) of each element, torch's p = exp(ls) within
    (E + 2)u (E its log_softmax's), p - y u; c's products and division: 3u per side, and D's
    sums for the mean. nll_loss: -c at the target: c's roundings. float32: torch rounds in
    float32 (the same counts in 2**-24), ours the float64 result once (2**-24 relative).
    """
    if case.probabilities or case.label_smoothing:
        return None
    shape = case.x.shape
    axis, classes = class_axis(shape), shape[class_axis(shape)]
    rows = np.moveaxis(case.x.astype(np.float64), axis, -1).reshape(-1, classes)
    target = np.asarray(case.target).reshape(-1)
    valid = target != case.ignore_index
    index = np.where(valid, target, 0)
    weight = np.ones(classes) if case.weight is None else case.weight.astype(np.float64)
    w = np.where(valid, weight[index], 0.0)
    s = np.ones(target.size) if case.sample_weight is None else case.sample_weight.astype(np.float64).reshape(-1)
    c = w * s
    log_p = rows if nll else rows - rows.max(axis=1, keepdims=True)
    if not nll:
        log_p = log_p - np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    picked = -log_p[np.arange(target.size), index]
    unit = U if case.x.dtype == np.float64 else U32
    theirs_ls = np.zeros_like(log_p) if nll else torch_log_softmax_ulps(classes, log_p)
    ours_element = 0.0 if nll else value_ulps(classes)
    m = target.size
    weights = 1 + (case.sample_weight is not None)
    # values
    element = c * (ours_element * U * picked + theirs_ls[np.arange(m), index] * unit + weights * (U + unit) * picked)
    magnitude = float(np.sum(c * picked))
    denominator = float(np.sum(c))
    sums = additions(m) * U + any_order(m) * unit
    mean = (1 + weights) * (U + unit) + sums  # D's products and sums, the division, per side
    rounded = U32 * (case.x.dtype == np.float32)  # ours: the float64 result rounded to float32
    if reduction == "none":
        value: Any = (element + rounded * c * picked).reshape(sample_shape(shape))
    else:
        value = float(np.sum(element)) + (sums + rounded) * magnitude
        if reduction == "mean":
            value = (value + mean * magnitude) / denominator
    # gradients
    scale = c / denominator if reduction == "mean" else c
    onehot = np.zeros_like(log_p)
    onehot[np.arange(m), index] = 1.0
    p = np.exp(log_p)
    g = np.abs(p - onehot) if not nll else onehot
    roundings = (weights + 1) * (U + unit) + (sums if reduction == "mean" else 0.0)
    if nll:
        grad = scale[:, None] * onehot * roundings
    else:
        ours_g = gradient_ulps(classes) * U * g
        theirs_g = ((theirs_ls + 2) * p + g) * unit
        grad = scale[:, None] * (ours_g + theirs_g + roundings * g)
    grad = grad + rounded * scale[:, None] * g
    return value, from_rows(grad, shape)


def assert_close(
    actual: Any, expected: Any, tolerance: Tolerance | None, what: str, figure: str, allowed: Any = None
) -> None:
    """Element-wise comparison, within ``tolerance`` or the derived absolute ``allowed``;
    records the worst relative error of the elements above the floor."""
    __tracebackhide__ = True
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = np.max(np.abs(expected), initial=0.0)
    error = np.abs(actual - expected)
    floor = 0.0 if tolerance is None else tolerance.floor
    if tolerance is not None:
        allowed = tolerance.rtol * np.abs(expected) + tolerance.floor * scale
    allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), error.shape)
    bad = ~((error <= allowed) | (actual == expected))  # NaN fails too
    significant = np.abs(expected) > max(floor, 1e-3) * scale
    if np.any(significant):
        record_worst(figure, float(np.max(error[significant] / np.abs(expected[significant]))))
        record_worst(figure + " (/ largest element)", float(np.max(error) / scale))
    if bad.any():
        worst = np.unravel_index(np.argmax(np.where(bad, error - allowed, -np.inf)), bad.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} elements differ; worst at {worst}: "
            f"got {actual[worst]!r}, torch {expected[worst]!r} (allowed error {allowed[worst]:.3g})"
        )


def check_parity(case: Case, *, nll: bool = False) -> None:
    """Value and gradient against torch, for every reduction; dtype and shape kept."""
    ours, ours_grad = (nll_loss, nll_loss_grad) if nll else (cross_entropy, cross_entropy_grad)
    dtype = case.x.dtype.type
    for reduction in REDUCTIONS:
        what = ("nll_loss" if nll else "cross_entropy") + f"({case.describe(reduction)})"
        ref_value, ref_grad = torch_reference(case, reduction, nll=nll)
        value = ours(case.x, case.target, **case.options(reduction, nll=nll))
        grad = ours_grad(case.x, case.target, **case.options(reduction, nll=nll))
        assert value.dtype == dtype and grad.dtype == dtype, what
        expected_shape = sample_shape(case.x.shape) if reduction == "none" else ()
        assert np.shape(value) == expected_shape, what
        name = np.dtype(dtype).name
        derived = index_allowances(case, reduction, nll=nll)
        forward, backward = (FORWARD[dtype], BACKWARD[dtype]) if derived is None else (None, None)
        assert_close(
            value, ref_value, forward, what + " value", f"worst relative error vs torch, {name} value",
            allowed=None if derived is None else derived[0],
        )
        assert_close(
            grad,
            ref_grad,
            backward,
            what + " gradient",
            f"worst relative error vs torch, {name} gradient",
            allowed=None if derived is None else derived[1],
        )
        FIGURES["parity cases"] += 1


# --------------------------------------------------------------------------- 1. parity


def index_options() -> Iterator[Any]:
    for weighted, ignore_index, smoothing, sample_weighted in itertools.product(
        (False, True), (-100, 0), (0.0, 0.1, 1.0), (False, True)
    ):
        yield pytest.param(
            weighted,
            ignore_index,
            smoothing,
            sample_weighted,
            id=f"w={int(weighted)}-ignore={ignore_index}-ls={smoothing}-sw={int(sample_weighted)}",
        )


@pytest.mark.parametrize(
    ("weighted", "ignore_index", "label_smoothing", "sample_weighted"), list(index_options())
)
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_entropy_indices_match_torch(
    dtype, shape, weighted, ignore_index, label_smoothing, sample_weighted
):
    """Class-index targets: F.cross_entropy and its autograd gradient, every option and reduction."""
    case = make_case(
        shape,
        dtype,
        weighted=weighted,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        sample_weighted=sample_weighted,
    )
    check_parity(case)


@pytest.mark.parametrize("sample_weighted", [False, True], ids=["sw=0", "sw=1"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0], ids=lambda s: f"ls={s}")
@pytest.mark.parametrize("weighted", [False, True], ids=["w=0", "w=1"])
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_entropy_probabilities_match_torch(dtype, shape, weighted, label_smoothing, sample_weighted):
    """Class-probability targets (rows summing to 1, one-hot rows, zeros): torch's soft-label branch."""
    case = make_case(
        shape,
        dtype,
        probabilities=True,
        weighted=weighted,
        label_smoothing=label_smoothing,
        sample_weighted=sample_weighted,
    )
    check_parity(case)


@pytest.mark.parametrize("sample_weighted", [False, True], ids=["sw=0", "sw=1"])
@pytest.mark.parametrize("ignore_index", [-100, 0], ids=lambda i: f"ignore={i}")
@pytest.mark.parametrize("weighted", [False, True], ids=["w=0", "w=1"])
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_nll_loss_matches_torch(dtype, shape, weighted, ignore_index, sample_weighted):
    """nll_loss on log-probabilities: F.nll_loss and its autograd gradient."""
    case = make_case(
        shape, dtype, weighted=weighted, ignore_index=ignore_index, sample_weighted=sample_weighted
    )
    check_parity(log_probability_case(case), nll=True)


def test_float_targets_holding_whole_numbers_are_class_indices():
    """Class indices given as floats (0.0, 2.0, -100.0) give exactly what int64 indices give."""
    case = make_case((6, 4), np.float64, weighted=True, label_smoothing=0.1, sample_weighted=True)
    check_parity(case)
    as_floats = replace(case, target=case.target.astype(np.float64))
    for reduction in REDUCTIONS:
        options = case.options(reduction)
        assert np.array_equal(
            cross_entropy(as_floats.x, as_floats.target, **options),
            cross_entropy(case.x, case.target, **options),
        )
        assert np.array_equal(
            cross_entropy_grad(as_floats.x, as_floats.target, **options),
            cross_entropy_grad(case.x, case.target, **options),
        )


@pytest.mark.parametrize("function", ["cross_entropy", "nll_loss"])
def test_unbatched_ignored_target_matches_torch_for_sum_and_none(function):
    """An unbatched input whose one target is ignore_index: loss 0 and gradient 0, as in torch."""
    case = make_case((5,), np.float64, weighted=True)
    case = replace(case, target=np.asarray(-100))
    if function == "nll_loss":
        case = log_probability_case(case)
    ours, ours_grad = (
        (cross_entropy, cross_entropy_grad) if function == "cross_entropy" else (nll_loss, nll_loss_grad)
    )
    for reduction in ("sum", "none"):
        ref_value, ref_grad = torch_reference(case, reduction, nll=function == "nll_loss")
        options = case.options(reduction, nll=function == "nll_loss")
        assert float(ours(case.x, case.target, **options)) == float(ref_value) == 0.0
        assert np.array_equal(ours_grad(case.x, case.target, **options), ref_grad)
        assert not np.any(ref_grad)


def test_nll_loss_accepts_minus_infinity_like_torch():
    """log(0) = -inf is a valid log-probability: off the target class, or on an ignored sample,
    it changes nothing.

    On the target class the loss is +inf, as in torch. No warning may be emitted (pytest
    turns warnings into errors).
    """
    with np.errstate(divide="ignore"):
        log_p = np.log(np.array([[0.0, 0.25, 0.75], [0.5, 0.0, 0.5], [0.0, 0.0, 1.0]]))
    target = np.array([1, -100, 2])
    weight = np.array([0.5, 2.0, 1.5])
    case = Case(log_p, target, weight=weight)
    for reduction in REDUCTIONS:
        ref_value, ref_grad = torch_reference(case, reduction, nll=True)
        assert np.all(np.isfinite(ref_value))
        np.testing.assert_array_equal(nll_loss(log_p, target, weight=weight, reduction=reduction), ref_value)
        np.testing.assert_array_equal(
            nll_loss_grad(log_p, target, weight=weight, reduction=reduction), ref_grad
        )
    infinite = Case(log_p, np.array([0, 1, 2]))
    ref_value, _ = torch_reference(infinite, "sum", nll=True)
    assert float(ref_value) == math.inf == float(nll_loss(log_p, infinite.target, reduction="sum"))


def test_float32_is_torch_float64_rounded_once():
    """float32 input is computed in float64 and rounded once: within 1 float32 ulp of torch's float64 result.

    That is much closer than torch's own float32 path (see FORWARD). The gradient gets an
    absolute floor of a few float64 ulps of its largest element, for the cancelling elements.
    """
    for probabilities, smoothing in itertools.product((False, True), (0.0, 0.1)):
        case32 = make_case(
            (3, 4, 5),
            np.float32,
            probabilities=probabilities,
            weighted=True,
            label_smoothing=smoothing,
            sample_weighted=True,
        )
        case64 = replace(
            case32,
            x=case32.x.astype(np.float64),
            target=case32.target.astype(np.float64) if probabilities else case32.target,
            weight=case32.weight.astype(np.float64),
            sample_weight=case32.sample_weight.astype(np.float64),
        )
        for reduction in REDUCTIONS:
            ref_value, ref_grad = torch_reference(case64, reduction)
            for ours, reference in (
                (cross_entropy(case32.x, case32.target, **case32.options(reduction)), ref_value),
                (cross_entropy_grad(case32.x, case32.target, **case32.options(reduction)), ref_grad),
            ):
                assert ours.dtype == np.float32
                spacing = np.spacing(np.abs(reference).astype(np.float32)).astype(np.float64)
                error = np.abs(ours.astype(np.float64) - reference)
                allowed = spacing + 4 * EPS64 * np.max(np.abs(reference))
                record_worst("float32 vs torch float64, float32 ulps", float(np.max(error / spacing)))
                assert np.all(error <= allowed), case32.describe(reduction)
            FIGURES["parity cases"] += 1


def test_ignore_index_with_probability_targets_is_refused_like_torch():
    """ignore_index has no meaning for probability targets: torch raises, and so do we.

    The default -100 (no class) is accepted, so that the option can stay at its default.
    """
    case = make_case((6, 4), np.float64, probabilities=True)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        torch.nn.functional.cross_entropy(torch.tensor(case.x), torch.tensor(case.target), ignore_index=0)
    for function in (cross_entropy, cross_entropy_grad):
        with pytest.raises(InvalidOptionError, match="class-index targets only"):
            function(case.x, case.target, ignore_index=0)
    expected = torch_reference(case, "mean")[0]
    # Probability targets: not derived (FORWARD).
    np.testing.assert_allclose(cross_entropy(case.x, case.target, ignore_index=-100), expected, rtol=FORWARD[np.float64].rtol)


def test_mean_of_nothing_is_an_error_where_torch_gives_nan():
    """Every target ignored (or of class weight 0): torch's mean is NaN; ours raises EmptyInputError.

    "sum" is 0 in both; "none" is all zeros in both.
    """
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    for target, weight in ((np.array([-100, -100]), None), (np.array([2, 2]), np.array([1.0, 1.0, 0.0]))):
        case = Case(x, target, weight=weight)
        assert math.isnan(float(torch_reference(case, "mean")[0]))
        with pytest.raises(EmptyInputError):
            cross_entropy(x, target, weight=weight)
        with pytest.raises(EmptyInputError):
            cross_entropy_grad(x, target, weight=weight)
        for reduction in ("sum", "none"):
            value, grad = torch_reference(case, reduction)
            np.testing.assert_array_equal(cross_entropy(x, target, weight=weight, reduction=reduction), value)
            np.testing.assert_array_equal(
                cross_entropy_grad(x, target, weight=weight, reduction=reduction), grad
            )


# --------------------------------------------------------------------------- 2. exactness (mpmath)

MP = mpmath.MPContext()
"""A private mpmath context, so that the precision set here never leaks into other tests."""
MP.prec = 200

# Error model of the ulp bounds below, for any libm whose exp, log, log1p are within 1 ulp:
# u = 2**-53; a correctly rounded operation errs by <= u relative, a libm function by <= 2u;
# a relative error k u is within k ulp. Errors pass through condition numbers; a sum of
# same-sign terms adds, to each term's error, u per addition the term passes through.




def rest_additions(classes: int) -> int:
    """Roundings of ``rest``: its C terms include the exact 0 of the first maximum."""
    return classes - 2 if classes < 8 else additions(classes)


def value_ulps(classes: int) -> float:
    """-log p_c = fl(fl(log1p(rest) - z_c) - d_c). Each e_k = exp(z_k) + exp(z_k) d_k errs by
    3u (exp 2u, the add u), rest by (3 + r)u with r = rest_additions; log1p passes that on
    times rest / ((1 + rest) log1p(rest)) <= 1 and adds 2u; the subtractions add
    non-negative terms, u each: (r + 7)u."""
    return rest_additions(classes) + 7.0


def gradient_ulps(classes: int) -> float:
    """p_c = e_c / fl(1 + rest): 3u + (3 + r)u rest / (1 + rest) + u + u = (r + 8)u; the
    target's p - 1 (p <= 1/2 there, condition <= 1) adds u; the top's 1 - p = rest / (1 + rest)
    errs by (3 + r)u / (1 + rest) + 2u: (r + 9)u at most."""
    return rest_additions(classes) + 9.0

Mpf = Any  # an mpmath number (for annotations)

FORMATS = {np.float64: (53, -1022), np.float32: (24, -126)}
"""(significand bits, exponent of the smallest normal number) of each format."""


def spacing_at(exact: Mpf, dtype: Any) -> Mpf:
    """The distance between consecutive floats of ``dtype`` around the real number ``exact``."""
    precision, emin = FORMATS[dtype]
    exponent = emin
    if exact != 0:
        exponent = max(MP.frexp(exact)[1] - 1, emin)
    return MP.ldexp(1, exponent - precision + 1)


def ulp_error(got: float, exact: Mpf, dtype: Any) -> float:
    """``|got - exact|`` in ulps of ``dtype`` at ``exact`` (a correctly rounded result scores <= 0.5)."""
    if math.isnan(got) or math.isinf(got):
        return 0.0 if MP.isinf(exact) and (got > 0) == (exact > 0) else math.inf
    return float(abs(MP.mpf(got) - exact) / spacing_at(exact, dtype))


def correctly_rounded(exact: Mpf, dtype: Any) -> float:
    """``exact`` rounded to the nearest float of ``dtype`` (ties to even), subnormals included."""
    spacing = spacing_at(exact, dtype)
    quotient = exact / spacing
    nearest = MP.floor(quotient)
    remainder = quotient - nearest
    if remainder > 0.5 or (remainder == 0.5 and int(nearest) % 2 == 1):
        nearest += 1
    return float(np.asarray(float(nearest * spacing), dtype=dtype))


def test_the_ulp_rulers_are_right():
    """The rulers themselves, on values whose distances are known by construction."""
    one = MP.mpf(1)
    assert ulp_error(1.0 + 2.0**-52, one, np.float64) == 1.0
    assert ulp_error(1.0, one + MP.ldexp(1, -53), np.float64) == 0.5
    assert ulp_error(5e-324, MP.zero, np.float64) == 1.0
    assert ulp_error(3.0, MP.mpf(2), np.float32) == 2.0**22
    assert correctly_rounded(one + MP.ldexp(1, -24), np.float32) == 1.0  # a tie: to even
    assert correctly_rounded(one + MP.ldexp(3, -24), np.float32) == 1.0 + 2.0**-22
    assert correctly_rounded(MP.mpf(0.1), np.float32) == float(np.float32(0.1))
    assert correctly_rounded(MP.ldexp(3, -151), np.float32) == float(np.float32(2.0**-149))


def exact_nll_row(row: Sequence[float]) -> list[Mpf]:
    """``-log softmax(row)_c`` for every class ``c``, exact to 200 bits relative.

    With ``m`` the first maximum and ``R = sum_{k != argmax} exp(x_k - m)`` (every difference
    formed exactly): ``-log p_c = log1p(R) + (m - x_c)``, a sum of two non-negative terms.
    ``log1p`` keeps the relative accuracy of a tiny ``R`` (a confident prediction).
    """
    top = max(range(len(row)), key=lambda k: (row[k], -k))
    m = MP.mpf(row[top])
    rest = MP.fsum(MP.exp(MP.fsub(v, m, exact=True)) for k, v in enumerate(row) if k != top)
    base = MP.log1p(rest)
    return [base + MP.fsub(m, v, exact=True) for v in row]


def exact_softmax_gradient_row(row: Sequence[float], target: int) -> list[Mpf]:
    """``p_c - [c = target]``, with ``1 - p_target`` summed from the other classes (no cancellation)."""
    m = MP.mpf(max(row))
    terms = [MP.exp(MP.fsub(v, m, exact=True)) for v in row]
    total = MP.fsum(terms)
    others = MP.fsum(t for k, t in enumerate(terms) if k != target)
    return [-others / total if c == target else terms[c] / total for c in range(len(row))]


def exact_sample_losses(
    rows: np.ndarray,
    target: np.ndarray,
    *,
    probabilities: bool = False,
    weight: Sequence[float] | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> list[Mpf]:
    """Each row's loss from the textbook definition, in exact arithmetic on the float arguments."""
    classes = rows.shape[1]
    w = [MP.mpf(v) for v in (weight if weight is not None else [1.0] * classes)]
    eps = MP.mpf(label_smoothing)
    losses = []
    for row, t in zip(rows.tolist(), target.tolist(), strict=True):
        nll = exact_nll_row(row)
        if probabilities:
            smoothed = [(1 - eps) * MP.mpf(v) + eps / classes for v in t]
            losses.append(MP.fsum(w[c] * smoothed[c] * nll[c] for c in range(classes)))
        elif t == ignore_index:
            losses.append(MP.zero)
        else:
            smooth = MP.fsum(w[c] * nll[c] for c in range(classes)) * eps / classes
            losses.append((1 - eps) * w[t] * nll[t] + smooth)
    return losses


WORST_ULP: dict[tuple[str, str], float] = {}


def check_ulps(
    what: str, got: Any, exact: Sequence[Mpf], dtype: Any, tolerance: float, rows: Any = None
) -> None:
    """Every element of ``got`` within ``tolerance`` ulp of its exact value; the worst is recorded."""
    __tracebackhide__ = True
    got = np.asarray(got)
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}"
    values = got.ravel().tolist()
    errors = [ulp_error(g, e, dtype) for g, e in zip(values, exact, strict=True)]
    worst = max(errors)
    record_worst(f"worst ulp vs mpmath, {what}, {np.dtype(dtype).name}", worst)
    if worst > tolerance:
        i = errors.index(worst)
        context = "" if rows is None else f" (row {np.asarray(rows).reshape(len(values), -1)[i].tolist()})"
        pytest.fail(
            f"{what}: {worst:.3g} ulp > {tolerance} at element {i}{context}: "
            f"got {values[i]!r}, exact {MP.nstr(exact[i], 20)}"
        )


def check_float32_rounding(what: str, got: Any, exact: Sequence[Mpf], rows: Any = None) -> None:
    """Every float32 element is the correctly rounded exact value or one of its two neighbours."""
    __tracebackhide__ = True
    got = np.asarray(got)
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}"
    # The float64 result is within 31 ulp (gradient_ulps(1000)), under 2**-24 float32 ulp;
    # rounding it adds 1/2: under 1 float32 ulp, so the nearest float32 or a neighbour.
    check_ulps(what, got, exact, np.float32, tolerance=1.5)  # records the figure
    for i, (g, e) in enumerate(zip(got.ravel().tolist(), exact, strict=True)):
        nearest = np.float32(correctly_rounded(e, np.float32))
        allowed = {
            nearest,
            np.nextafter(nearest, np.float32(np.inf)),
            np.nextafter(nearest, np.float32(-np.inf)),
        }
        assert np.float32(g) in allowed, f"{what}[{i}]: got {g!r}, correctly rounded {float(nearest)!r}"


EXACT_DIFFERENCE_ROWS = [
    # confident and wrong or right, two classes: [40, 0] is the documented example
    [40.0, 0.0],
    [-40.0, 0.0],
    [40.0, -40.0],
    [20.0, 0.0],
    [36.5, 0.0],
    [37.0, 0.0],
    [3.75, -2.5],
    [745.0, 0.0],
    [746.0, 0.0],
    [1000.0, 0.5],
    [-700.0, -740.5],
    [0.5, 0.25],
    [0.0, 0.0],
    # extreme logits
    [1e4, -1e4],
    [-1e4, 1e4],
    [1e4, 1e4 - 1.0],
    [1e4, 0.0],
    [1e4, 0.0, -1e4],
    [40.0, -40.0, 0.0],
    [1e-300, 0.0],
    [1e-20, -1e-20, 0.0],
    # ties at the maximum
    [3.0, 3.0, 1.0],
    [5.0, 5.0, 5.0, 5.0],
    [-2.0, 7.0, 7.0],
    [40.0, 40.0, 0.0],
    [1e4, 1e4, 1e4],
    [0.0, 0.0, -40.0, 40.0, 40.0],
    [1.0, 2.0, 3.0, 4.0, 5.0],
    [-3.0, -2.5, -2.0, -1.5],
]
"""Rows whose differences ``x_k - max(x)`` are exactly representable in float64."""

INEXACT_DIFFERENCE_ROWS = [
    [40.0, 0.3],
    [0.3, 40.0],
    [37.3, 1.1],
    [25.123, -3.3],
    [1e4, 0.3],
    [700.1, 660.3],
    [10.0, 0.3, -0.7],
    *np.random.default_rng(7).normal(0.0, 10.0, (4, 5)).tolist(),
]
"""Rows whose differences ``x_k - max(x)`` round: where the top class is the target, each
rounding error ``d`` of a difference ``z`` changes ``exp(z)`` by a relative ``d``, i.e. by up
to ``|z| / 2`` ulps of the (tiny) loss: logits [40, 0.3] give 21 ulp."""


def large_rows() -> list[list[float]]:
    """C = 1000: multiples of 1/8 (exact differences), spread and with one dominant class."""
    rng = np.random.default_rng(1000)
    spread = np.round(rng.normal(0.0, 3.0, 1000) * 8) / 8
    dominant = np.round(rng.normal(0.0, 2.0, 1000) * 8) / 8
    dominant[417] = 60.0
    return [spread.tolist(), dominant.tolist()]


def targets_for(row: Sequence[float]) -> list[int]:
    """Every class of a small row; the top, the bottom and two others of a large one."""
    if len(row) <= 8:
        return list(range(len(row)))
    return sorted({int(np.argmax(row)), int(np.argmin(row)), 0, len(row) - 1})



ROW_SETS = {
    "exact differences": EXACT_DIFFERENCE_ROWS,
    "1000 classes": large_rows(),
    "inexact differences": INEXACT_DIFFERENCE_ROWS,
}


def row_set_params() -> list[Any]:
    return [
        pytest.param(name, id=name)
        for name in ROW_SETS
    ]


@pytest.mark.parametrize("rows", row_set_params())
def test_per_sample_losses_are_within_their_bound(rows):
    """cross_entropy(reduction="none") of every stress row and every target: within value_ulps in float64."""
    for row in ROW_SETS[rows]:
        targets = np.array(targets_for(row))
        x = np.tile(np.array(row), (len(targets), 1))
        exact = exact_sample_losses(x, targets)
        got = cross_entropy(x, targets, reduction="none")
        # value_ulps: 7 (C = 2) to 10 (C = 5) and 29 (C = 1000: 22 additions in rest)
        bound = value_ulps(len(row))
        check_ulps(f"cross_entropy value [{rows}]", got, exact, np.float64, tolerance=bound, rows=x)


@pytest.mark.parametrize("rows", row_set_params())
def test_hard_label_gradients_are_within_their_bound(rows):
    """cross_entropy_grad(reduction="none") for hard labels: p_c at the other classes and
    -(1 - p_y) at the target class (exact even where p_y rounds to 1), within gradient_ulps."""
    for row in ROW_SETS[rows]:
        targets = np.array(targets_for(row))
        x = np.tile(np.array(row), (len(targets), 1))
        got = cross_entropy_grad(x, targets, reduction="none")
        exact = [g for t in targets.tolist() for g in exact_softmax_gradient_row(row, t)]
        at_target = got[np.arange(len(targets)), targets]
        exact_at_target = [exact_softmax_gradient_row(row, t)[t] for t in targets.tolist()]
        bound = gradient_ulps(len(row))  # 9 (C = 2) to 12 (C = 5), 31 (C = 1000)
        check_ulps(f"cross_entropy_grad at the target [{rows}]", at_target, exact_at_target, np.float64, bound)
        check_ulps(f"cross_entropy_grad [{rows}]", got, exact, np.float64, tolerance=bound)


OPTION_ROWS = np.array(
    [[40.0, 0.0, -3.5, 2.25], [1.0, 2.0, 3.0, 4.0], [-1e4, 1e4, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0]]
)
OPTION_WEIGHT = [0.5, 2.0, 1.25, 3.0]


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weight"])
def test_losses_with_options_are_within_their_bound(weighted, label_smoothing):
    """Class weights, label smoothing and probability targets, per sample, in float64."""
    weight = OPTION_WEIGHT if weighted else None
    x = np.repeat(OPTION_ROWS, 4, axis=0)
    indices = np.tile(np.arange(4), len(OPTION_ROWS))
    got = cross_entropy(x, indices, weight=weight, label_smoothing=label_smoothing, reduction="none")
    exact = exact_sample_losses(x, indices, weight=weight, label_smoothing=label_smoothing)
    # Indices: fl(1 - ls) w_y nll_y, (r + 7)u + 3u; plus fl(ls / C) sum_c w_c nll_c, (r + 7)u
    # + u (w) + (C - 1)u (the sum) + 2u; the final add u: (r + C + 10)u. Probabilities: the
    # target ((1 - ls) t + ls / C) w errs by 4u, its product with nll_c u, the class sum
    # (C - 1)u: (r + C + 11)u, 17 ulp for C = 4.
    bound = rest_additions(4) + 4 + 11.0
    check_ulps("cross_entropy value with options", got, exact, np.float64, bound, rows=x)

    probabilities = np.tile(
        np.array(
            [[0.25, 0.75, 0.0, 0.0], [0.125, 0.125, 0.25, 0.5], [0.0, 0.0, 1.0, 0.0], [0.1, 0.2, 0.3, 0.4]]
        ),
        (len(OPTION_ROWS), 1),
    )
    got = cross_entropy(x, probabilities, weight=weight, label_smoothing=label_smoothing, reduction="none")
    exact = exact_sample_losses(
        x, probabilities, probabilities=True, weight=weight, label_smoothing=label_smoothing
    )
    check_ulps("cross_entropy value with options", got, exact, np.float64, bound, rows=x)


def test_reductions_are_within_their_bound():
    """ "mean" and "sum" with class weights, ignored samples and sample weights, against the exact
    weighted sum (and the exact denominator sum(s * w[y]) of the counted samples)."""
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(0.0, 4.0, (300, 6)) * 64) / 64
    target = rng.integers(0, 6, 300)
    target[rng.uniform(size=300) < 0.2] = -100
    weight = rng.uniform(0.1, 3.0, 6)
    s = rng.uniform(0.0, 2.0, 300)
    # Per sample (r + C + 10)u = 20u (see the options test), s u; the pairwise sum of 300
    # same-sign terms additions(300) = 19: 40 ulp. The mean's denominator sum(s w[y]) errs
    # by u + 19u and the division by u: 61 ulp.
    sum_bound = rest_additions(6) + 6 + 10 + 1 + additions(300)
    mean_bound = sum_bound + 1 + additions(300) + 1
    for label_smoothing in (0.0, 0.1):
        options = {"weight": weight, "label_smoothing": label_smoothing, "sample_weight": s}
        losses = exact_sample_losses(x, target, weight=weight.tolist(), label_smoothing=label_smoothing)
        weighted = MP.fsum(MP.mpf(si) * li for si, li in zip(s.tolist(), losses, strict=True))
        denominator = MP.fsum(
            MP.mpf(si) * MP.mpf(weight[t])
            for si, t in zip(s.tolist(), target.tolist(), strict=True)
            if t != -100
        )
        check_ulps(
            "cross_entropy sum",
            [cross_entropy(x, target, reduction="sum", **options)],
            [weighted],
            np.float64,
            sum_bound,
        )
        check_ulps(
            "cross_entropy mean",
            [cross_entropy(x, target, reduction="mean", **options)],
            [weighted / denominator],
            np.float64,
            mean_bound,
        )
    log_p = -np.abs(x)
    exact_nll = [
        MP.zero if t == -100 else -MP.mpf(weight[t]) * MP.mpf(log_p[i, t])
        for i, t in enumerate(target.tolist())
    ]
    check_ulps(  # one product w * (-log p): correctly rounded
        "nll_loss value", nll_loss(log_p, target, weight=weight, reduction="none"), exact_nll, np.float64, 0.5
    )
    weighted = MP.fsum(MP.mpf(si) * li for si, li in zip(s.tolist(), exact_nll, strict=True))
    check_ulps(
        "nll_loss sum",
        [nll_loss(log_p, target, weight=weight, sample_weight=s, reduction="sum")],
        [weighted],
        np.float64,
        2 + additions(300),  # w u, s u, the sum 19u: 21 ulp
    )


@pytest.mark.parametrize("rows", list(ROW_SETS))
def test_float32_is_correctly_rounded_within_1_ulp(rows):
    """float32 logits (the stress rows rounded to float32): values and hard-label gradients are the
    correctly rounded float32 of the exact result, or a neighbour of it."""
    for row in ROW_SETS[rows]:
        row32 = np.asarray(row, dtype=np.float32)
        targets = np.array(targets_for(row32.tolist()))
        x = np.tile(row32, (len(targets), 1))
        exact = exact_sample_losses(x.astype(np.float64), targets)
        check_float32_rounding(
            "cross_entropy value", cross_entropy(x, targets, reduction="none"), exact, rows=x
        )
        gradient = [g for t in targets.tolist() for g in exact_softmax_gradient_row(row32.tolist(), t)]
        check_float32_rounding(
            "cross_entropy_grad", cross_entropy_grad(x, targets, reduction="none"), gradient
        )


@pytest.mark.parametrize(
    ("row", "dtype"),
    [
        ([40.0, 0.0], np.float64),  # torch: loss 0 and gradient 0; exact 4.2e-18
        ([36.0, 0.0], np.float64),  # torch: 2.2e-16 (1 + 2.3e-16 rounded); exact 2.3e-16
        ([38.0, 2.0, -1.0], np.float64),
        ([20.0, 0.0], np.float32),  # torch float32: 0; exact 2.1e-9
        ([12.0, 0.0], np.float32),
    ],
)
def test_torch_is_the_inexact_one(row, dtype):
    """Confident, correct predictions: torch's log-softmax ``z - log(sum(exp(z)))`` rounds the sum
    near 1, so its loss and its target-class gradient keep few or no correct digits; ours are
    within 4 ulp (float64) or correctly rounded (float32) of mpmath."""
    x = np.array([row], dtype=dtype)
    target = np.array([0])
    torch_value, torch_grad = torch_reference(Case(x, target), "sum")
    exact = exact_sample_losses(x.astype(np.float64), target)[0]
    exact_grad = exact_softmax_gradient_row(x[0].astype(np.float64).tolist(), 0)[0]
    # Target the top class, exact differences: the value is log1p(rest), (2 + r)u + 2u, and the
    # gradient -rest / (1 + rest), (2 + r)u + 2u: 5 ulp for C <= 3. float32: that in float64
    # (5 * 2**-29 float32 ulp) rounded once, 1/2 more.
    tolerance = 0.5 + 2.0**-26 if dtype is np.float32 else 5.0
    assert ulp_error(float(cross_entropy(x, target)), exact, dtype) <= tolerance
    assert ulp_error(float(cross_entropy_grad(x, target)[0, 0]), exact_grad, dtype) <= tolerance
    # torch is off by more than 1e-3 relative: a billion times its parity tolerance.
    assert abs(float(torch_value) - exact) > 1e-3 * exact
    assert abs(float(torch_grad[0, 0]) - exact_grad) > 1e-3 * abs(exact_grad)


# --------------------------------------------------------------------------- 3. central differences

FD_RTOL = 1e-6
"""Agreement asked of a central difference, relative to the largest gradient element
(the truncation error is ~h**2 with h ~ 6e-6)."""


def central_differences(loss: Callable[[np.ndarray], float], x: np.ndarray) -> tuple[np.ndarray, float]:
    """``(L(x + h e_i) - L(x - h e_i)) / 2h`` for every element, and the rounding to allow for.

    ``h = eps**(1/3) * max(1, |x_i|)``, adjusted so that ``x_i + h`` is exact. The rounding
    allowance assumes each value of ``L`` is off by up to 16 ulp.
    """
    gradient = np.empty_like(x)
    rounding = 0.0
    for index in np.ndindex(x.shape):
        step = EPS64 ** (1 / 3) * max(1.0, abs(float(x[index])))
        h = (x[index] + step) - x[index]
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        upper, lower = loss(up), loss(down)
        gradient[index] = (upper - lower) / (2 * h)
        rounding = max(rounding, 16 * EPS64 * (abs(upper) + abs(lower)) / (2 * h))
    return gradient, rounding


def total_loss(
    function: Callable[..., Any], target: np.ndarray, options: dict[str, Any]
) -> Callable[[np.ndarray], float]:
    """The scalar whose gradient ``_grad`` returns: the loss itself, or the sum of the "none" losses."""
    return lambda x: math.fsum(np.ravel(function(x, target, **options)).tolist())


def check_finite_differences(
    function: Callable[..., Any], grad: Callable[..., Any], case: Case, *, nll: bool = False
) -> None:
    for reduction in REDUCTIONS:
        options = case.options(reduction, nll=nll)
        expected, rounding = central_differences(total_loss(function, case.target, options), case.x)
        got = grad(case.x, case.target, **options)
        scale = float(np.max(np.abs(expected)))
        error = float(np.max(np.abs(got - expected)))
        record_worst("worst central-difference error / max|gradient|", error / max(scale, 1e-300))
        assert error <= FD_RTOL * scale + rounding, (
            f"{case.describe(reduction)}: error {error:.3g}, scale {scale:.3g}"
        )


def fd_index_options() -> Iterator[Any]:
    for shape, weighted, ignore_index, smoothing, sample_weighted in itertools.product(
        ((3, 4, 2), (4,)), (False, True), (-100, 0), (0.0, 0.1, 1.0), (False, True)
    ):
        yield pytest.param(
            shape,
            weighted,
            ignore_index,
            smoothing,
            sample_weighted,
            id=f"{shape}-w={int(weighted)}-ignore={ignore_index}-ls={smoothing}-sw={int(sample_weighted)}",
        )


@pytest.mark.parametrize(
    ("shape", "weighted", "ignore_index", "label_smoothing", "sample_weighted"), list(fd_index_options())
)
def test_cross_entropy_grad_is_the_derivative_for_indices(
    shape, weighted, ignore_index, label_smoothing, sample_weighted
):
    """cross_entropy_grad against central differences of cross_entropy: class indices, every option."""
    case = make_case(
        shape,
        np.float64,
        weighted=weighted,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        sample_weighted=sample_weighted,
        logit_range=6.0,
    )
    check_finite_differences(cross_entropy, cross_entropy_grad, case)


@pytest.mark.parametrize("sample_weighted", [False, True], ids=["sw=0", "sw=1"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0], ids=lambda s: f"ls={s}")
@pytest.mark.parametrize("weighted", [False, True], ids=["w=0", "w=1"])
@pytest.mark.parametrize("shape", [(3, 4, 2), (4,)], ids=str)
def test_cross_entropy_grad_is_the_derivative_for_probabilities(
    shape, weighted, label_smoothing, sample_weighted
):
    """cross_entropy_grad against central differences of cross_entropy: class probabilities, every option."""
    case = make_case(
        shape,
        np.float64,
        probabilities=True,
        weighted=weighted,
        label_smoothing=label_smoothing,
        sample_weighted=sample_weighted,
        logit_range=6.0,
    )
    check_finite_differences(cross_entropy, cross_entropy_grad, case)


@pytest.mark.parametrize("sample_weighted", [False, True], ids=["sw=0", "sw=1"])
@pytest.mark.parametrize("ignore_index", [-100, 0], ids=lambda i: f"ignore={i}")
@pytest.mark.parametrize("weighted", [False, True], ids=["w=0", "w=1"])
@pytest.mark.parametrize("shape", [(3, 4, 2), (4,)], ids=str)
def test_nll_loss_grad_is_the_derivative(shape, weighted, ignore_index, sample_weighted):
    """nll_loss_grad against central differences of nll_loss (log-probabilities kept below 0)."""
    case = make_case(
        shape, np.float64, weighted=weighted, ignore_index=ignore_index, sample_weighted=sample_weighted
    )
    case = log_probability_case(case)
    assert np.max(case.x) < -1e-3  # no step reaches a positive log-probability
    check_finite_differences(nll_loss, nll_loss_grad, case, nll=True)


# --------------------------------------------------------------------------- 4. properties


@dataclass(frozen=True)
class Drawn:
    """A random batch ``(N, C)`` with random options; sample 0 is counted with positive weights."""

    case: Case
    reduction: str


@st.composite
def batches(
    draw: st.DrawFn, *, grid: bool = False, probabilities: bool | None = None, smoothing: bool = True
) -> Drawn:
    """Batches of 1-6 samples over 2-6 classes, logits in [-30, 30] (multiples of 1/64 if ``grid``)."""
    n, c = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    logit = st.integers(-30 * 64, 30 * 64).map(lambda k: k / 64) if grid else st.floats(-30.0, 30.0)
    x = np.array(draw(st.lists(logit, min_size=n * c, max_size=n * c))).reshape(n, c)
    if probabilities is None:
        probabilities = draw(st.booleans())
    # ignore_index >= 0 is refused with probability targets (as torch does): draw it for indices only
    ignore_index = draw(st.sampled_from([-100, 0, c - 1])) if not probabilities else -100
    if probabilities:
        raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n * c, max_size=n * c))).reshape(n, c)
        raw[:, 0] += 0.5  # no row of zeros
        target = raw / raw.sum(axis=1, keepdims=True)
    else:
        target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
        if ignore_index == -100:
            target = np.where(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))), -100, target)
        target[0] = 1 if ignore_index == 0 else 0
    weight = None
    if draw(st.booleans()):
        weight = np.array(draw(st.lists(st.floats(0.0, 4.0), min_size=c, max_size=c)))
        weight[target[0] if not probabilities else 0] += 0.5
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = np.array(draw(st.lists(st.floats(0.0, 4.0), min_size=n, max_size=n)))
        sample_weight[0] += 0.5
    label_smoothing = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])) if smoothing else 0.0
    case = Case(x, target, probabilities, weight, ignore_index, label_smoothing, sample_weight)
    return Drawn(case, draw(st.sampled_from(REDUCTIONS)))


def within_ulps(actual: Any, expected: Any, ulps: float) -> bool:
    """``|actual - expected| <= ulps * (eps * |expected| + 2**-1074)`` element-wise (equal
    infinities and zeros pass).

    ``ulps * eps`` relative allows ``2 ulps`` roundings of at most u = eps / 2 each; below the
    normal range a rounding errs instead by up to half the smallest subnormal, 2**-1075,
    absolute: ``2 ulps`` of those are the second term.
    """
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    bound = ulps * (EPS64 * np.abs(expected) + 2.0**-1074)
    return bool(np.all((actual == expected) | (np.abs(actual - expected) <= bound)))


def mp_log_softmax(x: np.ndarray) -> np.ndarray:
    """log_softmax of each row, exact (mpmath) and rounded once to float64."""
    return np.array([[-float(v) for v in exact_nll_row(row)] for row in x.tolist()])


@given(drawn=batches(probabilities=False, smoothing=False))
def test_cross_entropy_is_nll_loss_of_log_softmax(drawn):
    """cross_entropy(x, y) = nll_loss(log_softmax(x), y), log_softmax from mpmath; every option but smoothing.

    Bound, in u = eps / 2 (C <= 6, N <= 6): ours per sample value_ulps(6) + w = 12u, the
    reference 1/2 + 1; s adds u to each, the sum of <= 6 terms 5u to each, the mean's
    division u to each (both divide by the same bits): 19u + 8.5u = 27.5u, 14 eps.
    """
    case = drawn.case
    options = case.options(drawn.reduction, nll=True)
    ours = cross_entropy(case.x, case.target, **options)
    reference = nll_loss(mp_log_softmax(case.x), case.target, **options)
    assert within_ulps(ours, reference, 14), (ours, reference)


@given(drawn=batches(grid=True), shift=st.integers(-1000, 1000))
def test_shifting_a_row_changes_nothing(drawn, shift):
    """Adding a constant to every logit of a row leaves its loss and its gradient unchanged.

    Logits on a grid of 1/64 and integer shifts make ``x + c`` exact, so any difference
    would be the library's own doing.
    """
    case = drawn.case
    shifts = np.arange(case.x.shape[0])[:, None] * shift  # a different shift for every row
    shifted = replace(case, x=case.x + shifts)
    assert np.array_equal(shifted.x - shifts, case.x)
    options = case.options(drawn.reduction)
    assert within_ulps(
        cross_entropy(shifted.x, case.target, **options), cross_entropy(case.x, case.target, **options), 2
    )
    assert within_ulps(
        cross_entropy_grad(shifted.x, case.target, **options),
        cross_entropy_grad(case.x, case.target, **options),
        2,
    )


def row_terms(case: Case, reduction: str) -> np.ndarray:
    """Per row, the size of the terms a gradient row is the difference of.

    Row n is ``a_n (p_n S_n - v_n)`` with ``v_n`` the weighted (smoothed) target row,
    ``S_n = sum(v_n)`` and ``a_n`` the sample weight over the mean's denominator, so its
    elements are differences of terms adding up to ``2 a_n S_n``.
    """
    n, c = case.x.shape
    w = np.ones(c) if case.weight is None else case.weight
    eps = case.label_smoothing
    if case.probabilities:
        S = (((1 - eps) * case.target + eps / c) * w).sum(axis=1)
    else:
        counted = case.target != case.ignore_index
        S = np.where(counted, (1 - eps) * w[np.where(counted, case.target, 0)] + eps / c * w.sum(), 0.0)
    a = np.ones(n) if case.sample_weight is None else case.sample_weight
    if reduction == "mean":
        a = a / denominator(case)
    return 2 * a * S


@given(drawn=batches())
def test_gradient_rows_sum_to_zero(drawn):
    """Each gradient row sums to 0: softmax rows sum to 1 and every target row sums to its weight.

    True with class weights and label smoothing too (``sum_c p_c sum_k w_k - w_c = 0``).
    Allowed: the rounding of the C terms of the row, a few ulps of their size each (and
    a few subnormal spacings, for subnormal weights).
    """
    case = drawn.case
    gradient = cross_entropy_grad(case.x, case.target, **case.options(drawn.reduction))
    sums = np.array([math.fsum(row) for row in gradient.tolist()])
    allowed = 4 * case.x.shape[1] * (EPS64 * row_terms(case, drawn.reduction) + 5e-324)
    assert np.all(np.abs(sums) <= allowed), (sums, allowed)


def denominator(case: Case) -> float:
    """What the mean divides by, computed here: sum(s * w[y]) over counted samples, or sum(s)."""
    n = case.x.shape[0]
    s = np.ones(n) if case.sample_weight is None else case.sample_weight
    if case.probabilities:
        return math.fsum(s.tolist())
    w = np.ones(case.x.shape[1]) if case.weight is None else case.weight
    return math.fsum(
        float(s[i]) * float(w[t]) for i, t in enumerate(case.target.tolist()) if t != case.ignore_index
    )


@given(drawn=batches())
def test_sum_and_mean_are_reductions_of_none(drawn):
    """ "sum" is the fsum of "none" and "mean" is that over the mean's denominator;
    the same holds for the gradients, element by element.

    In u = eps / 2: "sum" adds the same products pairwise, <= 5 roundings for N <= 6, the
    fsum 1/2: 2.75 eps. "mean" also divides by a pairwise sum of the same s w[y] (5u) where
    the reference divides by their fsum (u/2), each division u: 13u, 6.5 eps; the gradient's
    mean is none / D: 5u + u/2 + 2u, 4 eps.
    """
    case = drawn.case
    for function in (cross_entropy, cross_entropy_grad):
        none = function(case.x, case.target, **case.options("none"))
        total = function(case.x, case.target, **case.options("sum"))
        mean = function(case.x, case.target, **case.options("mean"))
        if function is cross_entropy:
            exact_total = math.fsum(none.tolist())
            assert within_ulps(total, exact_total, 4), (total, exact_total)
            assert within_ulps(mean, exact_total / denominator(case), 6.5), (
                mean,
                exact_total / denominator(case),
            )
        else:
            assert np.array_equal(total, none)
            assert within_ulps(mean, none / denominator(case), 4)


@given(drawn=batches())
def test_unit_sample_weights_change_nothing(drawn):
    """sample_weight=ones gives exactly what no sample_weight gives (value and gradient)."""
    case = replace(drawn.case, sample_weight=None)
    ones = replace(case, sample_weight=np.ones(case.x.shape[0]))
    for function in (cross_entropy, cross_entropy_grad):
        assert np.array_equal(
            function(case.x, case.target, **case.options(drawn.reduction)),
            function(ones.x, ones.target, **ones.options(drawn.reduction)),
        )


@given(drawn=batches(), data=st.data())
def test_renaming_the_classes_changes_nothing(drawn, data):
    """Permuting the classes of the logits, the weights and the targets gives the same loss."""
    case = drawn.case
    classes = case.x.shape[1]
    order = np.array(data.draw(st.permutations(range(classes))))
    renamed = np.argsort(order)  # new position of each old class
    target = (
        case.target[:, order]
        if case.probabilities
        else np.where(case.target == case.ignore_index, -100, renamed[np.clip(case.target, 0, None)])
    )
    permuted = replace(
        case,
        x=case.x[:, order],
        target=target,
        weight=None if case.weight is None else case.weight[order],
        ignore_index=case.ignore_index if case.probabilities else -100,
    )
    options, permuted_options = case.options(drawn.reduction), permuted.options(drawn.reduction)
    # Two summation orders: each side within (r + C + 11)u = 21u per sample (the options
    # test), s u, the sum 5u, the division u (the same denominator bits): 28u each, 28 eps.
    assert within_ulps(
        cross_entropy(permuted.x, permuted.target, **permuted_options),
        cross_entropy(case.x, case.target, **options),
        28,
    )
    gradient = cross_entropy_grad(case.x, case.target, **options)
    permuted_gradient = cross_entropy_grad(permuted.x, permuted.target, **permuted_options)
    scale = np.max(np.abs(gradient), initial=0.0)
    assert np.all(np.abs(permuted_gradient - gradient[:, order]) <= 8 * EPS64 * (np.abs(gradient) + scale))


# --------------------------------------------------------------------------- 5. errors

LOGITS = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -2.0]])
LOG_P = np.log(np.array([[0.5, 0.25, 0.25], [0.125, 0.5, 0.375]]))
Y = np.array([0, 2])
NAN, INF = float("nan"), float("inf")


@dataclass(frozen=True)
class Bad:
    """A bad call: arguments, the exception expected, and words its message must contain."""

    input: Any
    target: Any
    options: dict[str, Any]
    error: type[Exception]
    words: tuple[str, ...]
    functions: str = "both"  # "both", "cross_entropy" or "nll_loss"


BAD = {
    # a mean of nothing (PyTorch returns NaN)
    "every target ignored": Bad(
        LOGITS, [-100, -100], {}, EmptyInputError, ("ignore_index", "reduction='sum'")
    ),
    "every target ignored, in-range ignore_index": Bad(
        LOGITS, [1, 1], {"ignore_index": 1}, EmptyInputError, ("ignore_index",)
    ),
    "every counted class weight 0": Bad(
        LOGITS, Y, {"weight": [0.0, 1.0, 0.0]}, EmptyInputError, ("weight", "NaN")
    ),
    "every sample weight 0": Bad(LOGITS, Y, {"sample_weight": [0.0, 0.0]}, EmptyInputError, ("weight",)),
    "empty batch": Bad(
        np.zeros((0, 3)), np.zeros(0, dtype=int), {}, EmptyInputError, ("at least one sample",)
    ),
    # the input
    "scalar input": Bad(
        1.5, 0, {}, ShapeMismatchError, ("class axis", "scalar", "binary_cross_entropy_with_logits")
    ),
    "NaN in input": Bad(
        [[0.0, NAN, 1.0], [0.0, 0.0, 0.0]], Y, {}, NonFiniteError, ("input", "NaN", "[0, 1]")
    ),
    "infinite logit": Bad(
        [[0.0, INF, 1.0], [0.0, 0.0, 0.0]], Y, {}, NonFiniteError, ("input", "infinite"), "cross_entropy"
    ),
    "string input": Bad("logits", Y, {}, InvalidTypeError, ("input", "numeric")),
    "positive log-probability": Bad(
        [[0.5, -1.0, -2.0], [-1.0, -1.0, -1.0]],
        Y,
        {},
        OutOfRangeError,
        ("log-probabilities", "cross_entropy(input, target)"),
        "nll_loss",
    ),
    "NaN log-probability": Bad(
        [[NAN, -1.0, -2.0], [-1.0, -1.0, -1.0]], Y, {}, NonFiniteError, ("NaN",), "nll_loss"
    ),
    # the target
    "target None": Bad(LOGITS, None, {}, InvalidTypeError, ("target", "None")),
    "class index = C": Bad(
        LOGITS, [0, 3], {}, OutOfRangeError, ("0 to 2", "3 classes", "got values from 0 to 3")
    ),
    "1-based labels": Bad(LOGITS, [1, 3], {}, OutOfRangeError, ("1-based", "Subtract 1")),
    "negative class index": Bad(LOGITS, [0, -1], {}, OutOfRangeError, ("0 to 2", "ignore_index=-100")),
    "one column of scores": Bad(
        [[0.5], [1.0]], [0, 1], {}, OutOfRangeError, ("binary_cross_entropy_with_logits",), "cross_entropy"
    ),
    "fractional class index": Bad(
        LOGITS, [0.0, 1.5], {}, InvalidTypeError, ("whole", "probabilities", "(2, 3)")
    ),
    "NaN class index": Bad(LOGITS, [0.0, NAN], {}, NonFiniteError, ("target", "NaN")),
    "one-hot integers": Bad(
        LOGITS, np.eye(3, dtype=np.int64)[[0, 2]], {}, InvalidTypeError, ("argmax", "floats"), "cross_entropy"
    ),
    "one-hot booleans": Bad(
        LOGITS, np.eye(3, dtype=bool)[[0, 2]], {}, InvalidTypeError, ("argmax",), "cross_entropy"
    ),
    "rows not summing to 1": Bad(
        LOGITS,
        [[0.5, 0.5, 0.5], [0.0, 1.0, 0.0]],
        {},
        OutOfRangeError,
        ("sum to 1", "1.5", "Normalize"),
        "cross_entropy",
    ),
    "negative probability": Bad(
        LOGITS,
        [[1.5, -0.5, 0.0], [0.0, 1.0, 0.0]],
        {},
        OutOfRangeError,
        ("target", "[0, 1]"),
        "cross_entropy",
    ),
    "probabilities for nll_loss": Bad(
        LOG_P,
        [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]],
        {},
        InvalidTypeError,
        ("class indices", "cross_entropy"),
        "nll_loss",
    ),
    "target of the wrong length": Bad(LOGITS, [0, 1, 2], {}, ShapeMismatchError, ("target", "(2,)", "(3,)")),
    "target as a column": Bad(LOGITS, [[0], [2]], {}, ShapeMismatchError, ("(2, 1)", "reshape(-1)")),
    "unbatched input, batched target": Bad([-1.0, -2.0, -0.5], [1], {}, ShapeMismatchError, ("target", "()")),
    # weights
    "weight of the wrong shape": Bad(
        LOGITS,
        Y,
        {"weight": [1.0, 2.0]},
        ShapeMismatchError,
        ("one weight per class", "(3,)", "sample_weight"),
    ),
    "weight per sample given as weight": Bad(
        np.zeros((3, 2)),
        [0, 1, 1],
        {"weight": [1.0, 2.0, 3.0]},
        ShapeMismatchError,
        ("(2,)", "sample_weight"),
    ),
    "negative weight": Bad(LOGITS, Y, {"weight": [1.0, -1.0, 1.0]}, OutOfRangeError, ("weight", "negative")),
    "NaN weight": Bad(LOGITS, Y, {"weight": [1.0, NAN, 1.0]}, NonFiniteError, ("weight",)),
    "sample_weight of the wrong shape": Bad(
        LOGITS, Y, {"sample_weight": [1.0, 2.0, 3.0]}, ShapeMismatchError, ("sample_weight", "(2,)")
    ),
    "negative sample weight": Bad(
        LOGITS, Y, {"sample_weight": [1.0, -2.0]}, OutOfRangeError, ("sample_weight", "negative")
    ),
    # options
    "ignore_index a float": Bad(
        LOGITS, Y, {"ignore_index": 1.5}, InvalidOptionError, ("ignore_index", "integer", "1.5")
    ),
    "ignore_index a string": Bad(
        LOGITS, Y, {"ignore_index": "0"}, InvalidOptionError, ("ignore_index", "'0'")
    ),
    "ignore_index None": Bad(LOGITS, Y, {"ignore_index": None}, InvalidOptionError, ("ignore_index", "None")),
    "ignore_index True": Bad(LOGITS, Y, {"ignore_index": True}, InvalidOptionError, ("ignore_index", "True")),
    "label_smoothing negative": Bad(
        LOGITS,
        Y,
        {"label_smoothing": -0.1},
        InvalidOptionError,
        ("label_smoothing", "[0, 1]", "-0.1"),
        "cross_entropy",
    ),
    "label_smoothing above 1": Bad(
        LOGITS, Y, {"label_smoothing": 1.5}, InvalidOptionError, ("label_smoothing", "1.5"), "cross_entropy"
    ),
    "label_smoothing NaN": Bad(
        LOGITS, Y, {"label_smoothing": NAN}, InvalidOptionError, ("label_smoothing", "nan"), "cross_entropy"
    ),
    "label_smoothing a string": Bad(
        LOGITS, Y, {"label_smoothing": "0.1"}, InvalidOptionError, ("label_smoothing",), "cross_entropy"
    ),
    "reduction 'avg'": Bad(LOGITS, Y, {"reduction": "avg"}, InvalidOptionError, ("reduction", "'mean'")),
    "reduction None": Bad(LOGITS, Y, {"reduction": None}, InvalidOptionError, ("'none'",)),
    # libraries
    "torch input, NumPy target": Bad(
        torch.tensor(LOGITS), Y, {}, InvalidTypeError, ("one array library", "torch", "numpy")
    ),
    "NumPy input, torch weight": Bad(
        LOGITS, Y, {"weight": torch.ones(3, dtype=torch.float64)}, InvalidTypeError, ("weight", "torch")
    ),
}


def bad_calls() -> Iterator[Any]:
    for name, bad in BAD.items():
        families = ("cross_entropy", "nll_loss") if bad.functions == "both" else (bad.functions,)
        for family in families:
            for suffix in ("", "_grad"):
                yield pytest.param(name, family + suffix, id=f"{name}-{family + suffix}")


FUNCTIONS = {f.__name__: f for f in (cross_entropy, cross_entropy_grad, nll_loss, nll_loss_grad)}


@pytest.mark.parametrize(("name", "function"), list(bad_calls()))
def test_bad_input_is_refused(name, function):
    """The exception type, the words of the message, and the function named first (``_grad`` included)."""
    bad = BAD[name]
    x = bad.input
    if function.startswith("nll_loss") and x is LOGITS:
        x = LOG_P
    with pytest.raises(bad.error) as caught:
        FUNCTIONS[function](x, bad.target, **bad.options)
    message = str(caught.value)
    assert message.startswith(f"{function}: "), message
    for word in bad.words:
        assert word in message, (word, message)


def test_errors_are_builtin_errors():
    """The exceptions subclass ValueError / TypeError, so generic handlers keep working."""
    with pytest.raises(ValueError):
        cross_entropy(LOGITS, [0, 3])
    with pytest.raises(TypeError):
        cross_entropy(LOGITS, np.eye(3, dtype=np.int64)[[0, 2]])


def test_what_is_accepted():
    """Not errors: NumPy integers for ignore_index, an int label_smoothing, unsigned and boolean
    targets, a zero class weight, -inf log-probabilities, "sum" of nothing, and probability rows
    off by a few roundings."""
    expected = float(cross_entropy(LOGITS, Y, ignore_index=2))
    assert float(cross_entropy(LOGITS, Y, ignore_index=np.int64(2))) == expected
    assert float(cross_entropy(LOGITS, Y, ignore_index=np.int32(2))) == expected
    assert float(cross_entropy(LOGITS, Y, label_smoothing=1)) == float(
        cross_entropy(LOGITS, Y, label_smoothing=1.0)
    )
    assert float(cross_entropy(LOGITS, Y.astype(np.uint8))) == float(cross_entropy(LOGITS, Y))
    assert float(cross_entropy(LOGITS, np.array([True, False]))) == float(cross_entropy(LOGITS, [1, 0]))
    assert np.isfinite(cross_entropy(LOGITS, Y, weight=[0.0, 1.0, 1.0]))
    assert float(cross_entropy(LOGITS, [-100, -100], reduction="sum")) == 0.0
    assert float(nll_loss(np.zeros((0, 3)), np.zeros(0, dtype=int), reduction="sum")) == 0.0
    rows = np.full((2, 3), 1 / 3)  # each row sums to 1 - 1 ulp or so
    assert np.isfinite(cross_entropy(LOGITS, rows))
    nearly = np.array([[0.1, 0.2, 0.7 + 8 * EPS64], [0.3, 0.3, 0.4]])
    assert np.isfinite(cross_entropy(LOGITS, nearly))


def test_numpy_float32_label_smoothing_is_accepted():
    assert float(cross_entropy(LOGITS, Y, label_smoothing=np.float32(0.5))) == float(
        cross_entropy(LOGITS, Y, label_smoothing=0.5)
    )


def test_huge_float_class_index_is_out_of_range():
    with pytest.raises(OutOfRangeError, match="1e"):
        cross_entropy(LOGITS, [0.0, 1e20])


def test_zero_classes_is_our_error():
    with pytest.raises((ShapeMismatchError, OutOfRangeError), match="class"):
        cross_entropy(np.zeros((2, 0)), [0, 0])


def test_logits_spanning_more_than_the_float64_range():
    """Finite logits whose difference exceeds the largest float: the exact losses are 0 and
    (rounded) inf, the gradient is exact: [0, 0] for the top class, [1, -1] for the other."""
    x = np.array([[1.7e308, -1.7e308]])
    assert float(cross_entropy(x, [0])) == 0.0
    assert float(cross_entropy(x, [1])) == math.inf
    assert cross_entropy_grad(x, [0]).tolist() == [[0.0, 0.0]]
    assert cross_entropy_grad(x, [1]).tolist() == [[1.0, -1.0]]


def test_overflowing_weighted_loss_is_infinite_without_warning():
    """1e308 * 10 exceeds the float64 range: the loss is inf, silently (the exact value rounds there)."""
    assert float(cross_entropy([[0.0, 10.0]], [0], weight=[1e308, 1.0], reduction="sum")) == math.inf


def test_one_hot_probabilities_give_the_loss_of_class_indices():
    """A hard label written as a probability row gives the loss of its class index (within 1 ulp),
    however confident the prediction."""
    x = np.array([[40.0, 0.0, -3.0], [6.0, 0.0, 0.0], [0.0, 1e4, 0.0], [2.5, 2.5, -1.0]])
    y = np.array([0, 0, 1, 1])
    one_hot = np.eye(3)[y]
    for reduction in REDUCTIONS:
        assert within_ulps(
            cross_entropy(x, one_hot, reduction=reduction), cross_entropy(x, y, reduction=reduction), 1
        )


def test_one_hot_probabilities_give_the_gradient_of_class_indices():
    """The same for the gradient, which the class-index path computes without cancellation."""
    x = np.array([[40.0, 0.0, -3.0], [6.0, 0.0, 0.0], [0.0, 1e4, 0.0], [2.5, 2.5, -1.0]])
    y = np.array([0, 0, 1, 1])
    gradient = cross_entropy_grad(x, np.eye(3)[y], reduction="none")
    exact = [
        g for row, t in zip(x.tolist(), y.tolist(), strict=True) for g in exact_softmax_gradient_row(row, t)
    ]
    # One-hot t: p_c - t_c as in gradient_ulps; at the top, others - total (1 - p_top) =
    # 1 - complement where the target is another class (row 4): (r + 5)u times the
    # condition rest / 1 = 1.03, plus u. gradient_ulps(3) = 10 covers both.
    check_ulps("cross_entropy_grad of one-hot probabilities", gradient, exact, np.float64, gradient_ulps(3))


# --------------------------------------------------------------------------- 6. array libraries

LIBRARIES = ("numpy", "array_api_strict", "torch")


def to_library(library: str, value: Any) -> Any:
    """A NumPy array (or None) as an array of ``library``, with the same dtype and values."""
    if value is None or library == "numpy":
        return value
    if library == "array_api_strict":
        return array_api_strict.asarray(value)
    return torch.asarray(np.array(value))


def to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return np.asarray(value)


LIBRARY_CASES = {
    "indices": lambda dtype: make_case(
        (3, 4, 5), dtype, weighted=True, ignore_index=0, label_smoothing=0.1, sample_weighted=True
    ),
    "probabilities": lambda dtype: make_case(
        (6, 4), dtype, probabilities=True, weighted=True, label_smoothing=0.1, sample_weighted=True
    ),
    "unbatched": lambda dtype: make_case((5,), dtype, weighted=True),
    "log-probabilities": lambda dtype: log_probability_case(
        make_case((3, 4, 5), dtype, weighted=True, ignore_index=-100, sample_weighted=True)
    ),
}


@pytest.mark.parametrize("kind", list(LIBRARY_CASES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("library", LIBRARIES)
def test_any_array_library_in_the_same_out(library, dtype, kind):
    """The result is an array of the input's library and float dtype, with the values of the NumPy path."""
    case = LIBRARY_CASES[kind](dtype)
    nll = kind == "log-probabilities"
    functions = (nll_loss, nll_loss_grad) if nll else (cross_entropy, cross_entropy_grad)
    arguments = [to_library(library, a) for a in (case.x, case.target, case.weight, case.sample_weight)]
    x, target, weight, sample_weight = arguments
    input_namespace = array_api_compat.array_namespace(x)
    for function, reduction in itertools.product(functions, REDUCTIONS):
        options = case.options(reduction, nll=nll) | {"weight": weight, "sample_weight": sample_weight}
        result = function(x, target, **options)
        assert array_api_compat.array_namespace(result) is input_namespace, (function.__name__, type(result))
        assert result.dtype == x.dtype, (function.__name__, result.dtype)
        expected = function(case.x, case.target, **case.options(reduction, nll=nll))
        assert tuple(result.shape) == np.shape(expected)
        rtol = 8 * float(np.finfo(dtype).eps)
        np.testing.assert_allclose(
            to_numpy(result), expected, rtol=rtol, atol=rtol * float(np.max(np.abs(expected)))
        )


@pytest.mark.parametrize("library", ["array_api_strict", "torch"])
def test_integer_and_float_targets_in_every_library(library):
    """int32, int64 and whole float targets of any library are class indices; lists give NumPy float64."""
    case = make_case((6, 4), np.float64)
    expected = cross_entropy(case.x, case.target)
    x = to_library(library, case.x)
    for dtype in (np.int32, np.int64, np.float64):
        target = to_library(library, case.target.astype(dtype))
        assert float(cross_entropy(x, target)) == pytest.approx(float(expected), rel=4 * EPS64)
    from_lists = cross_entropy(case.x.tolist(), case.target.tolist(), reduction="none")
    assert isinstance(from_lists, np.ndarray) and from_lists.dtype == np.float64


@pytest.mark.parametrize("library", ["array_api_strict", "torch"])
def test_errors_are_the_same_in_every_library(library):
    """Invalid input raises the same exception with the same message as the NumPy input."""
    for name in (
        "1-based labels",
        "rows not summing to 1",
        "NaN in input",
        "one-hot integers",
        "every target ignored",
    ):
        bad = BAD[name]
        arguments = [to_library(library, np.asarray(a)) for a in (bad.input, bad.target)]
        with pytest.raises(bad.error) as numpy_error:
            cross_entropy(np.asarray(bad.input), np.asarray(bad.target), **bad.options)
        with pytest.raises(bad.error) as library_error:
            cross_entropy(*arguments, **bad.options)
        assert str(library_error.value) == str(numpy_error.value)


# --------------------------------------------------------------------------- 7. large input, in blocks
#
# NumPy input is evaluated block by block, on several threads. The references: the same
# functions on small slices (each well within a block: the unblocked path, checked
# against mpmath and torch above), the reduction path on those per-sample values,
# torch and mpmath; and, for errors, the messages of small input.

CLASS_COUNTS = (3, 10, 100)
"""Few classes (a block is held transposed), ten, and many (a block of rows)."""


def large_count(classes: int) -> int:
    """Samples enough for several blocks, and a ragged last one."""
    return 5 * BLOCK // classes + 777


def slice_size(classes: int) -> int:
    """Samples of a slice well within one block (and not aligned with the blocks)."""
    return max(1, BLOCK // (8 * classes) - 3)


@pytest.fixture(params=[1, 3], ids=["1-thread", "3-threads"])
def threads(request):
    set_num_threads(request.param)
    yield request.param
    set_num_threads(None)


def large_case(
    classes: int,
    dtype: Any,
    *,
    layout: str = "N,C",
    probabilities: bool = False,
    weighted: bool = False,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    sample_weighted: bool = False,
    seed: int = 0,
    extreme: bool = True,
) -> Case:
    """A large case: (N, C), (N, C, d) with a short d, or (N, C, d) with a d longer than a block.

    Logits of a few units, with some tied rows, rows of whole numbers, a confident row and
    (``extreme``) a row spanning more than the float64 range, spread over the blocks.
    """
    rng = np.random.default_rng([seed, classes, np.dtype(dtype).itemsize, int(probabilities)])
    samples = large_count(classes)
    shape = {
        "N,C": (samples, classes),
        "N,C,d": (samples // 7 + 1, classes, 7),
        "N,C,long d": (2, classes, samples // 2),
    }[layout]
    rows = rng.normal(0.0, 3.0, (math.prod(sample_shape(shape)), classes))
    count = rows.shape[0]
    rows[count // 3] = 0.0  # every class tied
    rows[count // 2, :2] = 7.0  # two tied maxima
    rows[count // 5] = np.round(rows[count // 5])
    rows[2 * count // 3, 1] = 60.0  # confident: a loss near 1e-26 for class 1
    if extreme and dtype == np.float64:
        rows[3 * count // 4, :2] = [1.7e308, -1.7e308]
    x = from_rows(rows.astype(dtype), shape)
    if probabilities:
        target = probability_target(rng, shape, dtype)
    else:
        target = index_target(rng, shape, ignore_index)
    weight = rng.uniform(0.25, 2.0, classes).astype(dtype) if weighted else None
    if weight is not None:
        weight[-1] = 0.0
    sample_weight = None
    if sample_weighted:
        sample_weight = rng.uniform(0.0, 2.0, sample_shape(shape)).astype(dtype)
        sample_weight.reshape(-1)[::97] = 0.0
    return Case(x, target, probabilities, weight, ignore_index, label_smoothing, sample_weight)


def in_slices(function: Callable[..., Any], case: Case, *, nll: bool = False, **options: Any) -> np.ndarray:
    """``function`` with ``reduction="none"`` (a loss) or any reduction (a gradient, kept per
    sample) applied slice by slice along the samples, laid out as the whole."""
    shape = case.x.shape
    axis = class_axis(shape)
    classes = shape[axis]
    rows = np.moveaxis(case.x, axis, -1).reshape(-1, classes)
    target = (
        np.moveaxis(case.target, axis, -1).reshape(-1, classes) if case.probabilities
        else case.target.reshape(-1)
    )
    s = None if case.sample_weight is None else case.sample_weight.reshape(-1)
    size = slice_size(classes)
    pieces = []
    for start in range(0, rows.shape[0], size):
        part = slice(start, start + size)
        arguments = case.options(options.pop("reduction", "none"), nll=nll) | options
        arguments["reduction"] = arguments.get("reduction", "none")
        arguments["sample_weight"] = None if s is None else s[part]
        pieces.append(function(rows[part], target[part], **arguments))
    result = np.concatenate(pieces)
    if result.ndim == 1:
        return result.reshape(sample_shape(shape))
    return np.moveaxis(result.reshape(*sample_shape(shape), classes), -1, axis)


def same_bits(actual: Any, expected: Any) -> bool:
    """Equal arrays of one dtype and shape, bit for bit (the sign of a zero included)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    return (
        actual.dtype == expected.dtype
        and actual.shape == expected.shape
        and actual.tobytes() == expected.tobytes()
    )


LARGE_OPTIONS = {
    "plain": {},
    "weight, ignored": {"weighted": True, "ignore_index": 0},
    "smoothing, sample weights": {"label_smoothing": 0.1, "sample_weighted": True, "ignore_index": -100},
    "probabilities": {"probabilities": True, "weighted": True, "label_smoothing": 0.1, "sample_weighted": True},
}


@pytest.mark.parametrize("options", list(LARGE_OPTIONS))
@pytest.mark.parametrize("layout", ["N,C", "N,C,d", "N,C,long d"])
@pytest.mark.parametrize("classes", CLASS_COUNTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_large_input_gives_the_losses_and_gradients_of_small_slices(dtype, classes, layout, options, threads):
    case = large_case(classes, dtype, layout=layout, **LARGE_OPTIONS[options])
    losses = cross_entropy(case.x, case.target, **case.options("none"))
    assert same_bits(losses, in_slices(cross_entropy, case))
    for reduction in ("none", "sum"):
        gradient = cross_entropy_grad(case.x, case.target, **case.options(reduction))
        assert same_bits(gradient, in_slices(cross_entropy_grad, case, reduction=reduction)), reduction


@pytest.mark.parametrize("layout", ["N,C", "N,C,d", "N,C,long d"])
@pytest.mark.parametrize("classes", CLASS_COUNTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_large_log_probabilities_give_the_nll_of_small_slices(dtype, classes, layout, threads):
    case = log_probability_case(
        large_case(classes, dtype, layout=layout, weighted=True, ignore_index=1, sample_weighted=True)
    )
    case.x.reshape(-1)[case.x.size // 2] = -np.inf  # a probability of 0, allowed
    losses = nll_loss(case.x, case.target, **case.options("none", nll=True))
    assert same_bits(losses, in_slices(nll_loss, case, nll=True))
    gradient = nll_loss_grad(case.x, case.target, **case.options("sum", nll=True))
    assert same_bits(gradient, in_slices(nll_loss_grad, case, nll=True, reduction="sum"))


@pytest.mark.parametrize("options", list(LARGE_OPTIONS))
@pytest.mark.parametrize("classes", CLASS_COUNTS)
def test_large_sum_and_mean_reduce_the_per_sample_losses(classes, options, threads):
    """"sum" is the reduction path's sum of the per-sample losses (checked above against small
    slices), within 4 ulp of their exact sum; "mean" divides it by the exact summed weights,
    and the gradient of the mean is that of the sum divided by the same number."""
    case = large_case(classes, np.float64, extreme=False, **LARGE_OPTIONS[options])
    losses = cross_entropy(case.x, case.target, **case.options("none"))
    total = cross_entropy(case.x, case.target, **case.options("sum"))
    assert total == reduction_total(np, losses)
    exact = math.fsum(losses.tolist())
    assert abs(total - exact) <= 4 * math.ulp(exact)
    counted = case.target != case.ignore_index if not case.probabilities else np.ones(losses.shape, bool)
    w = np.ones(case.x.shape[1]) if case.weight is None or case.probabilities else case.weight.astype(float)
    per_sample = np.where(counted, w[np.where(counted, case.target, 0)], 0.0) if not case.probabilities else 1.0
    s = 1.0 if case.sample_weight is None else case.sample_weight
    denominator = reduction_total(np, np.broadcast_to(s * per_sample, losses.shape))
    assert cross_entropy(case.x, case.target, **case.options("mean")) == total / denominator
    mean_gradient = cross_entropy_grad(case.x, case.target, **case.options("mean"))
    assert same_bits(mean_gradient, cross_entropy_grad(case.x, case.target, **case.options("sum")) / denominator)


def test_large_results_do_not_depend_on_the_thread_count():
    results = []
    for count in (1, 2, 5):
        set_num_threads(count)
        try:
            outcome = []
            for options in LARGE_OPTIONS.values():
                case = large_case(10, np.float64, seed=9, **options)
                for reduction in REDUCTIONS:
                    outcome.append(cross_entropy(case.x, case.target, **case.options(reduction)))
                    outcome.append(cross_entropy_grad(case.x, case.target, **case.options(reduction)))
            results.append(outcome)
        finally:
            set_num_threads(None)
    for other in results[1:]:
        assert all(same_bits(a, b) for a, b in zip(other, results[0], strict=True))


@pytest.mark.parametrize("classes", CLASS_COUNTS)
def test_large_float32_is_the_float64_result_rounded_once(classes, threads):
    """float32 input is computed in float64 and rounded once, block by block as a whole."""
    case = large_case(classes, np.float32, weighted=True, ignore_index=0, label_smoothing=0.1)
    wide = replace(case, x=case.x.astype(np.float64), weight=case.weight.astype(np.float64))
    for function in (cross_entropy, cross_entropy_grad):
        for reduction in REDUCTIONS:
            narrow = function(case.x, case.target, **case.options(reduction))
            rounded = np.asarray(function(wide.x, wide.target, **wide.options(reduction))).astype(np.float32)
            assert same_bits(narrow, rounded), (function.__name__, reduction)


def test_large_input_matches_torch_and_mpmath():
    """The per-sample losses and the gradient of a million logits against torch, and a sample
    of the per-sample losses deep inside against mpmath."""
    rng = np.random.default_rng(10)
    x = rng.uniform(-2.5, 2.5, (100_000, 10))  # torch's own error stays below the tolerance
    y = rng.integers(0, 10, 100_000)
    X = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(X, torch.tensor(y), reduction="none")
    expected.sum().backward()
    losses = cross_entropy(x, y, reduction="none")
    value_allowed, _ = index_allowances(Case(x, y), "none", nll=False)  # derived there
    _, grad_allowed = index_allowances(Case(x, y), "sum", nll=False)
    assert_close(losses, expected.detach().numpy(), None, "large value", "large, vs torch", allowed=value_allowed)
    gradient = cross_entropy_grad(x, y, reduction="sum")
    assert_close(gradient, X.grad.numpy(), None, "large gradient", "large, vs torch", allowed=grad_allowed)
    picked = rng.choice(100_000, 40, replace=False)
    check_ulps("cross_entropy value, large input", losses[picked], exact_sample_losses(x[picked], y[picked]),
               np.float64, value_ulps(10), rows=x[picked])  # 13 ulp: 6 additions in rest


def test_large_non_contiguous_input_is_read_as_the_same_values():
    case = large_case(10, np.float64, weighted=True, ignore_index=0)
    for x in (np.asfortranarray(case.x), np.ascontiguousarray(case.x.T).T, case.x[::-1][::-1]):
        for function in (cross_entropy, cross_entropy_grad):
            assert same_bits(
                function(x, case.target, **case.options("none")),
                function(case.x, case.target, **case.options("none")),
            )
    probabilities = large_case(10, np.float64, probabilities=True)
    target = np.asfortranarray(probabilities.target)
    assert same_bits(
        cross_entropy_grad(probabilities.x, target, reduction="none"),
        cross_entropy_grad(probabilities.x, probabilities.target, reduction="none"),
    )


def test_large_results_are_not_overwritten_by_later_calls():
    """Blocks reuse work arrays from call to call: no result may be one of them."""
    first, second = large_case(10, np.float64, seed=1), large_case(10, np.float64, seed=2)
    kept = [cross_entropy(first.x, first.target, reduction="none"), cross_entropy_grad(first.x, first.target)]
    copies = [np.copy(a) for a in kept]
    cross_entropy(second.x, second.target, reduction="none")
    cross_entropy_grad(second.x, second.target)
    small = make_case((6, 4), np.float64)
    cross_entropy_grad(small.x, small.target)
    assert all(same_bits(a, b) for a, b in zip(kept, copies, strict=True))
    assert first.x.flags.writeable and same_bits(first.x, large_case(10, np.float64, seed=1).x)


def test_training_entry_is_the_public_functions():
    """The training loop's value and gradient together: those of cross_entropy and
    cross_entropy_grad, bit for bit, for a batch and for a large input."""
    for samples, dtype in ((64, np.float32), (large_count(10), np.float64)):
        rng = np.random.default_rng(samples)
        x = rng.normal(0.0, 3.0, (samples, 10)).astype(dtype)
        y = rng.integers(0, 10, samples)
        value, gradient = cross_entropy_mean_value_and_grad(x, y)
        assert value == float(cross_entropy(x, y))
        assert same_bits(gradient, cross_entropy_grad(x, y))


def test_training_entry_lets_a_diverged_output_through():
    """No value checks there: NaN outputs give a NaN loss, for the training loop to report."""
    x = np.zeros((large_count(10), 10))
    x[5, 3] = np.nan
    value, gradient = cross_entropy_mean_value_and_grad(x, np.zeros(x.shape[0], dtype=np.int64))
    assert math.isnan(value) and np.isnan(gradient[5]).all()


def large_logits(classes: int = 10) -> np.ndarray:
    return np.random.default_rng(11).normal(0.0, 2.0, (large_count(classes), classes))


@pytest.mark.parametrize("function", [cross_entropy, cross_entropy_grad], ids=lambda f: f.__name__)
@pytest.mark.parametrize(("value", "what"), [(np.nan, "1 NaN value"), (np.inf, "1 infinite value"),
                                             (-np.inf, "1 infinite value")])
def test_a_non_finite_logit_deep_inside_is_located(function, value, what, threads):
    x = large_logits()
    row = x.shape[0] - 5
    x[row, 7] = value
    with pytest.raises(NonFiniteError) as caught:
        function(x, np.zeros(x.shape[0], dtype=np.int64))
    message = str(caught.value)
    assert message.startswith(f"{function.__name__}: input must hold finite numbers; got {what} (first at "
                              f"input[{row}, 7])"), message
    with pytest.raises(NonFiniteError) as small:  # the same message as for the few rows around it
        function(x[row - 1 :], np.zeros(6, dtype=np.int64))
    assert str(small.value) == message.replace(f"input[{row}, 7]", "input[1, 7]")


def test_a_non_finite_value_deep_inside_an_nd_input_is_located(threads):
    x = np.random.default_rng(12).normal(0.0, 1.0, (3, 4, 20_000))
    x[2, 1, 19_000] = np.nan
    with pytest.raises(NonFiniteError, match=r"input\[2, 1, 19000\]"):
        cross_entropy(x, np.zeros((3, 20_000), dtype=np.int64))


@pytest.mark.parametrize("function", [nll_loss, nll_loss_grad], ids=lambda f: f.__name__)
def test_a_positive_log_probability_deep_inside_is_located(function, threads):
    x = -np.abs(large_logits())
    x[-3, 2] = 0.5
    with pytest.raises(OutOfRangeError) as caught:
        function(x, np.zeros(x.shape[0], dtype=np.int64))
    message = str(caught.value)
    assert f"1 of them outside (first: input[{x.shape[0] - 3}, 2] = 0.5)" in message, message
    assert "cross_entropy(input, target)" in message


@pytest.mark.parametrize("function", list(FUNCTIONS.values()), ids=list(FUNCTIONS))
@pytest.mark.parametrize("kind", ["integers", "floats", "integers, ignore_index among them"])
def test_a_class_index_out_of_range_deep_inside_is_refused(function, kind):
    x = large_logits()
    if function.__name__.startswith("nll"):
        x = -np.abs(x)
    y = np.random.default_rng(13).integers(0, 10, x.shape[0])
    options = {}
    if kind == "integers, ignore_index among them":
        y[::5] = 3
        options["ignore_index"] = 3
    y[-10], y[-11], y[-12] = 10, 0, 3
    if kind == "floats":
        y = y.astype(np.float64)
    with pytest.raises(OutOfRangeError) as caught:
        function(x, y, **options)
    with pytest.raises(OutOfRangeError) as small:  # the message for the few rows around it
        function(x[-12:], y[-12:], **options)
    assert str(caught.value) == str(small.value)
    assert "got values from 0 to 10." in str(small.value)


def test_a_probability_row_deep_inside_that_is_not_a_distribution_is_refused(threads):
    case = large_case(10, np.float64, probabilities=True)
    target = case.target.copy()
    target[-4] *= 1.5
    with pytest.raises(OutOfRangeError, match="sum to 1"):
        cross_entropy(case.x, target)
    target = case.target.copy()
    target[-4, 3] = np.nan
    with pytest.raises(NonFiniteError, match=rf"target\[{target.shape[0] - 4}, 3\]"):
        cross_entropy_grad(case.x, target)


def test_a_large_call_with_several_faults_reports_the_same_one_as_a_small_call():
    """The input's values are checked as the blocks are evaluated, the other arguments before:
    a fault in those must not hide a fault of the input, reported first for small input."""
    for rows in (2, large_count(10)):
        x = large_logits()[:rows].copy()
        x[-1, 4] = np.nan
        y = np.zeros(rows, dtype=np.int64)
        with pytest.raises(NonFiniteError, match=rf"input\[{rows - 1}, 4\]"):
            cross_entropy(x, y, weight=np.ones(3))
        with pytest.raises(NonFiniteError, match=rf"input\[{rows - 1}, 4\]"):
            cross_entropy(x, y, ignore_index=0)  # every target ignored: the mean is undefined
        with pytest.raises(NonFiniteError, match="input"):
            cross_entropy(x, np.full(rows, 10))
