"""Parity with PyTorch (torch 2.13.0, CPU): loss values AND gradients.

For ``mse_loss``, ``binary_cross_entropy`` and ``binary_cross_entropy_with_logits`` the
reference is ``torch.nn.functional`` and the reference gradient is what
``torch.autograd`` computes for the same reduced loss. Every check runs the three
reductions; for ``reduction="none"`` the torch gradient is the gradient of
``sum(loss)``, which is exactly the element-wise derivative our ``*_grad`` returns.

``sample_weight`` has no torch equivalent: the reference is built from torch's
per-element losses as ``(w * loss).sum() / w.sum()`` ("mean"), ``(w * loss).sum()``
("sum") or ``w * loss`` ("none"), and autograd differentiates that.

Tolerances: derived, element by element, from both computations' operations (see
:func:`allowances` and the comment above it): our bound and torch's added, torch's sums in
an order of its own (``error_model.any_order``), the cancellation of torch's formulas
measured on the data (a gradient element ``sigmoid(x) - y`` against the size of its terms).
float32: torch rounds every step in float32, we round the float64 result once; a separate
test shows our float32 results are within one float32 ulp (and the float64 allowance) of
torch's float64 results.

Where torch is *less* exact than this package (the logits loss of confidently right
predictions, where torch returns 0 or a value with a few correct digits) the parity
inputs stay in the range where torch's own formula is accurate to the tolerance, and
the cases outside it are compared with mpmath instead of torch in
``test_torch_is_the_inexact_one``. ``test_intentional_divergences`` documents where we
differ from torch on purpose (no clamping, no implicit broadcasting).

The number of parity comparisons run (one value and one gradient each) is printed
when the module finishes (``pytest -s`` shows it).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import pytest
import torch

from error_model import U, additions, any_order
from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    mse_loss,
    mse_loss_grad,
)
from neural_network._reduction import PARTIAL_LENGTH
from neural_network.errors import ShapeMismatchError

F = torch.nn.functional  # the usual name of this module

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)
SHAPES = ((), (1,), (7,), (3, 4), (2, 3, 5), (10_000,))

# --------------------------------------------------------------------------- tolerances
#
# Derived, not measured (tests/error_model.py: u = 2**-53, each correctly rounded operation
# within u relative, each libm call within 1 ulp, 2u, whichever libm either side calls).
# The allowance of an element is the sum of two bounds on its absolute error: ours and
# torch's, each from its formula's operations.
#
# Ours (tests/test_exactness.py): MSE 3u, BCE 9u, the logits loss 8u, relative to the
# element; gradients: mse 2 (p - y) u, BCE (p - y) / (p (1 - p)) 4u (p - y of exact inputs
# u, 1 - p u, the product u, the division u), the logits (1 - y) sigmoid(x) - pos_weight y
# sigmoid(-x): each sigmoid 5u (test_exactness.SIGMOID), the factors u, their products u:
# 7u of each term, the difference u: 8u of G = (1 - y) sigmoid(x) + pos_weight y sigmoid(-x).
#
# torch (2.13, CPU; its libm: SLEEF's or the C library's, within 1 ulp either way):
# * mse_loss: (x - y)^2, 3u; backward 2 (x - y) times the incoming gradient: 1u + 1u.
# * binary_cross_entropy: (y - 1) max(log1p(-x), -100) - y max(log(x), -100) (log1p, as
#   test_torch_bce_takes_log1p shows): log1p or log 2u, y - 1 u, each product u, the
#   two terms >= 0 added u: 5u. Backward (x - y) / max((1 - x) x, 1e-12): 4u (the clamp is
#   outside the inputs drawn here), times the incoming gradient u.
# * the logits: (1 - y) x - log_sigmoid(x) lw, lw = 1 + (pos_weight - 1) y, log_sigmoid
#   = min(x, 0) - log1p(exp(-|x|)) 5u: (1 - y) x 2u, lw within u (1 + 3 |pos_weight - 1| y),
#   ls lw within 9u |ls| (1 + |pos_weight - 1| y), the difference u: 10u of
#   M = |(1 - y) x| + |ls| (1 + |pos_weight - 1| y), which cancels for y = 0, x < 0 (the
#   data's factor M / |loss|, computed below). Backward: as autograd differentiates it,
#   (1 - y) - lw sigmoid(-x), or the fused sigmoid(x) lw - pos_weight y; which one torch
#   takes is not ours to know: 10u of the larger term size T of the two forms.
#
# Weights: w l u on each side (torch's reference is w * loss). Sums of n terms: ours adds
# each block of 2048 pairwise and the blocks exactly (fsum): additions(min(n, 2048)) + 1
# for n > 2048; torch's order is its own: any_order(n) (error_model), of sum |w l|. The
# mean: the division u each, and sum(w) (ours as its sum, torch any_order(n)); the
# gradient of the mean: the incoming 1 / n or w / sum(w) (u, and sum(w)'s error) on each
# side. float32: ours is the float64 result rounded once (2**-24 relative, plus its float64
# bound in units of 2**-29 ulp); torch rounds each step in float32: the same counts in
# units of 2**-24.

EPS64 = 2 * U
U32 = 2.0**-24
"""The relative error of one float32 rounding (the u of float32)."""

OURS = {"mse_loss": (3.0, 1.0), "binary_cross_entropy": (9.0, 4.0), "binary_cross_entropy_with_logits": (8.0, 8.0)}
TORCH = {"mse_loss": (3.0, 2.0), "binary_cross_entropy": (5.0, 4.0), "binary_cross_entropy_with_logits": (10.0, 10.0)}
"""(value, gradient) element bounds, in u, of ours and torch's (see above): relative to the
element, but for the logits loss, relative to its term sizes (:func:`term_sizes`)."""


def our_sum_roundings(n: int) -> int:
    """Ours: pairwise within each block of 2048, then the blocks' partials added exactly, once rounded."""
    return additions(min(n, PARTIAL_LENGTH)) + (n > PARTIAL_LENGTH)


def term_sizes(name: str, x: np.ndarray, y: np.ndarray, pos_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per element, the sizes the absolute errors are relative to: (value: ours, torch;
    gradient: ours and torch's larger), unweighted, in float64."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if name == "mse_loss":
            d = x - y
            return d * d, d * d, np.abs(2 * d)
        if name == "binary_cross_entropy":
            value = -(y * np.log(x) + (1 - y) * np.log1p(-x))
            return value, value, np.abs((x - y) / (x * (1 - x)))
        pw = np.ones_like(x) if pos_weight is None else np.broadcast_to(np.asarray(pos_weight, dtype=np.float64), x.shape)
        tail = np.log1p(np.exp(-np.abs(x)))
        log_sigmoid = np.minimum(x, 0.0) - tail
        value = pw * y * (np.maximum(-x, 0.0) + tail) + (1 - y) * (np.maximum(x, 0.0) + tail)
        lw = 1 + np.abs(pw - 1) * y
        torch_value = np.abs((1 - y) * x) + np.abs(log_sigmoid) * lw
        sigmoid, sigmoid_neg = 1 / (1 + np.exp(-x)), 1 / (1 + np.exp(x))
        ours_grad = (1 - y) * sigmoid + pw * y * sigmoid_neg
        torch_grad = np.maximum(sigmoid * lw + pw * y, (1 - y) + lw * sigmoid_neg)
        return value, torch_value, np.maximum(ours_grad, torch_grad)


def allowances(
    name: str, x: np.ndarray, y: np.ndarray, reduction: str, sample_weight: np.ndarray | None, pos_weight: Any,
) -> tuple[Any, np.ndarray]:
    """The derived allowance (absolute) of the value and of each gradient element (see above)."""
    ours_value, torch_value = OURS[name][0], TORCH[name][0]
    ours_grad, torch_grad = OURS[name][1], TORCH[name][1]
    value_ours, value_torch, grad_size = term_sizes(name, x, y, pos_weight)
    n = x.size
    w = np.ones(x.shape) if sample_weight is None else sample_weight.astype(np.float64)
    weighted = sample_weight is not None
    unit, ours_unit = (U, U) if x.dtype == np.float64 else (U32, U)
    # The elements: each side's bound, w l u each.
    element = w * (ours_value * value_ours * ours_unit + torch_value * value_torch * unit)
    element += 2 * weighted * unit * w * value_ours
    magnitude = float(np.sum(w * value_ours))
    denominator = float(np.sum(w)) if weighted else float(n)
    mean_roundings = 2 + weighted * (our_sum_roundings(n) + any_order(n))
    if reduction == "none":
        value: Any = element
    else:
        value = float(np.sum(element)) + (our_sum_roundings(n) * ours_unit + any_order(n) * unit) * magnitude
        if reduction == "mean":
            value = value / denominator + mean_roundings * unit * magnitude / denominator
    # The gradients: each side's bound of the local derivative (ours and torch's at the
    # larger term size), times w (u) and the incoming 1 / n or 1 / sum(w) of the mean.
    incoming = 1.0 / denominator if reduction == "mean" else 1.0
    grad = w * incoming * grad_size * ((ours_grad + 1) * ours_unit + (torch_grad + 1) * unit)
    if reduction == "mean":
        grad += w * incoming * grad_size * mean_roundings * unit
    if x.dtype == np.float32:  # ours: the float64 result rounded once to float32
        value = value + U32 * (w * value_ours if reduction == "none" else magnitude * incoming)
        grad = grad + U32 * w * incoming * grad_size
    return value, grad


def assert_close(actual: Any, expected: Any, allowed: Any, what: str) -> None:
    """Element-wise ``|actual - expected| <= allowed``, with a message that shows the worst element."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    error = np.abs(actual - expected)
    allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), error.shape)
    bad = ~((error <= allowed) | (actual == expected))  # also catches NaN; equal infinities pass
    if bad.any():
        worst = np.unravel_index(np.argmax(np.where(bad, error - allowed, -np.inf)), bad.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} elements differ; worst at {worst}: "
            f"got {actual[worst]!r}, torch {expected[worst]!r} (allowed error {allowed[worst]:.3g})"
        )


# --------------------------------------------------------------------------- the losses


@dataclass(frozen=True)
class Loss:
    """One of our losses, its gradient, and the torch function it must agree with."""

    ours: Callable[..., Any]
    ours_grad: Callable[..., Any]
    torch: Callable[..., Any]


LOSSES = {
    "mse_loss": Loss(mse_loss, mse_loss_grad, F.mse_loss),
    "binary_cross_entropy": Loss(binary_cross_entropy, binary_cross_entropy_grad, F.binary_cross_entropy),
    "binary_cross_entropy_with_logits": Loss(
        binary_cross_entropy_with_logits,
        binary_cross_entropy_with_logits_grad,
        F.binary_cross_entropy_with_logits,
    ),
}


def torch_reference(
    torch_loss: Callable[..., Any],
    x: np.ndarray,
    y: np.ndarray,
    reduction: str,
    *,
    sample_weight: np.ndarray | None = None,
    pos_weight: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The torch loss and its autograd gradient with respect to ``x``, in ``x``'s dtype."""
    X = torch.tensor(x, requires_grad=True)
    Y = torch.tensor(y)
    options = {} if pos_weight is None else {"pos_weight": torch.tensor(pos_weight, dtype=X.dtype)}
    if sample_weight is None:
        loss = torch_loss(X, Y, reduction=reduction, **options)
    else:
        W = torch.tensor(sample_weight)
        weighted = W * torch_loss(X, Y, reduction="none", **options)
        loss = {"none": weighted, "sum": weighted.sum(), "mean": weighted.sum() / W.sum()}[reduction]
    # For "none", the gradient of sum(loss) is the element-wise derivative times w.
    loss.sum().backward()
    return loss.detach().numpy(), X.grad.numpy()


PARITY_CASES = [0]
"""How many (value, gradient) pairs were compared with torch; printed at the end."""


@pytest.fixture(scope="module", autouse=True)
def _report_parity_count() -> Iterator[None]:
    yield
    print(f"\n{__name__}: {PARITY_CASES[0]} parity cases (value + gradient) compared with torch")


def check_parity(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    pos_weight: Any = None,
) -> None:
    """Compare value and gradient with torch for every reduction (like tinygrad's helper_test_op).

    Our results must also keep ``x``'s dtype and shape (a scalar for "mean"/"sum").
    """
    loss = LOSSES[name]
    options = {} if pos_weight is None else {"pos_weight": pos_weight}
    for reduction in REDUCTIONS:
        ref_value, ref_grad = torch_reference(
            loss.torch, x, y, reduction, sample_weight=sample_weight, pos_weight=pos_weight
        )
        value = loss.ours(x, y, reduction=reduction, sample_weight=sample_weight, **options)
        grad = loss.ours_grad(x, y, reduction=reduction, sample_weight=sample_weight, **options)
        what = f"{name}(reduction={reduction!r}, dtype={x.dtype}, shape={x.shape})"
        assert value.dtype == x.dtype and grad.dtype == x.dtype, what
        assert np.shape(value) == (x.shape if reduction == "none" else ()), what
        value_allowed, grad_allowed = allowances(name, x, y, reduction, sample_weight, pos_weight)  # derived there
        assert_close(value, ref_value, value_allowed, what + " value")
        assert_close(grad, ref_grad, grad_allowed, what + " gradient")
        PARITY_CASES[0] += 1


# --------------------------------------------------------------------------- inputs


def rng_for(*key: object) -> np.random.Generator:
    """A generator seeded from the test's parameters: each case has its own fixed data."""
    return np.random.default_rng(list(repr(key).encode()))


def fill(pairs: list[tuple[float, float]], shape: tuple[int, ...], dtype: Any, rng: np.random.Generator):
    """Spread (input, target) pairs over ``shape`` in a shuffled, repeating order."""
    order = rng.permutation(len(pairs))
    chosen = np.resize(np.asarray(pairs, dtype=dtype)[order], (math.prod(shape), 2))
    return chosen[:, 0].reshape(shape), chosen[:, 1].reshape(shape)


def sample_weights(shape: tuple[int, ...], dtype: Any, rng: np.random.Generator) -> np.ndarray:
    """Random non-negative weights; one weight is exactly 0 when there are several."""
    w = rng.uniform(0.0, 2.0, shape).astype(dtype)
    if w.size > 1:
        w.reshape(-1)[0] = 0.0
    return w


def mse_edge_pairs(dtype: Any) -> list[tuple[float, float]]:
    """Equal values (loss 0), huge and tiny differences, and a difference of one ulp."""
    info = np.finfo(dtype)
    big = float(np.sqrt(info.max)) * 1e-3  # 10_000 squared differences still sum to a finite number
    tiny = float(np.sqrt(info.tiny)) * 4  # its square is still a normal number
    one_ulp = 1.0 + float(info.eps)
    return [(0.0, 0.0), (-2.5, -2.5), (big, -big), (-big, 0.0), (tiny, -tiny), (one_ulp, 1.0), (1e3, -7.0)]


def bce_edge_pairs(dtype: Any) -> list[tuple[float, float]]:
    """Probabilities near 0 and 1, inside torch's safe region (log A > -100, A(1-A) > 1e-12)."""
    if dtype == np.float64:
        probabilities = [1e-11, 1e-6, 0.5, 1 - 1e-6, 1 - 1e-11]
    else:  # 1 - 1e-11 rounds to 1 in float32
        probabilities = [1e-11, 1e-6, 0.5, 1 - 2.0**-20, 1 - 2.0**-24]
    return list(itertools.product(probabilities, [0.0, 0.3, 1.0]))


EXTREME_LOGITS = [-1e4, -40.0, 0.0, 40.0, 1e4]
TORCH_INEXACT_PAIRS = {(-40.0, 0.0), (40.0, 1.0)}
"""torch's loss is 0 at (-40, 0) and its gradient 0 at (40, 1); the exact values are
+-4.2e-18 (see test_torch_is_the_inexact_one). At +-1e4 the exact values underflow to 0,
so torch agrees there."""


def logit_edge_pairs() -> list[tuple[float, float]]:
    grid = itertools.product(EXTREME_LOGITS, [0.0, 0.25, 1.0])
    return [pair for pair in grid if pair not in TORCH_INEXACT_PAIRS]


LOGIT_RANGE = {np.float64: 6.0, np.float32: 3.0}
"""Random logits are drawn from [-R, R]. torch computes the logits loss as
``(1 - y) x - log_sigmoid(x)``, which cancels for y = 0 and x < 0 (it loses about
``x / ln 10`` digits): within these ranges it is still accurate to the tolerance."""


def make_inputs(name: str, kind: str, shape: tuple[int, ...], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of ``dtype`` for one loss: random, or edge values."""
    rng = rng_for(name, kind, shape, dtype.__name__)
    if kind == "edge":
        pairs = {
            "mse_loss": mse_edge_pairs(dtype),
            "binary_cross_entropy": bce_edge_pairs(dtype),
            "binary_cross_entropy_with_logits": logit_edge_pairs(),
        }[name]
        return fill(pairs, shape, dtype, rng)
    if name == "mse_loss":
        x, y = rng.normal(0.0, 3.0, shape), rng.normal(0.0, 3.0, shape)
    else:
        if name == "binary_cross_entropy":
            x = rng.uniform(0.001, 0.999, shape)
        else:
            x = rng.uniform(-LOGIT_RANGE[dtype], LOGIT_RANGE[dtype], shape)
        y = rng.integers(0, 2, shape) if kind == "hard labels" else rng.uniform(0.0, 1.0, shape)
    return np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)


def shape_id(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("kind", ["random", "edge"])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_mse_loss_matches_torch(dtype, shape, kind, weighted):
    """mse_loss and mse_loss_grad agree with F.mse_loss and its autograd gradient."""
    x, y = make_inputs("mse_loss", kind, shape, dtype)
    w = sample_weights(shape, dtype, rng_for("w", shape)) if weighted else None
    check_parity("mse_loss", x, y, sample_weight=w)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("kind", ["hard labels", "soft labels", "edge"])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_binary_cross_entropy_matches_torch(dtype, shape, kind, weighted):
    """binary_cross_entropy (and _grad) agree with F.binary_cross_entropy in torch's safe region."""
    x, y = make_inputs("binary_cross_entropy", kind, shape, dtype)
    w = sample_weights(shape, dtype, rng_for("w", shape)) if weighted else None
    check_parity("binary_cross_entropy", x, y, sample_weight=w)


def pos_weight_cases() -> Iterator[Any]:
    """(shape, pos_weight kind): a scalar for every shape, (C,) and (1, C) for shapes with columns."""
    for shape in SHAPES:
        kinds = ["none", "scalar"] + (["(C,)", "(1, C)"] if len(shape) >= 2 else [])
        for kind in kinds:
            yield pytest.param(shape, kind, id=f"{shape_id(shape)}-pos_weight={kind}")


def make_pos_weight(kind: str, shape: tuple[int, ...], dtype: Any) -> Any:
    if kind == "none":
        return None
    if kind == "scalar":
        return 2.5
    columns = shape[-1]
    weights = rng_for("pos_weight", shape).uniform(0.0, 4.0, columns).astype(dtype)
    return weights if kind == "(C,)" else weights.reshape(1, columns)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("kind", ["hard labels", "soft labels", "edge"])
@pytest.mark.parametrize(("shape", "pos_weight"), list(pos_weight_cases()))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_binary_cross_entropy_with_logits_matches_torch(dtype, shape, pos_weight, kind, weighted):
    """The logits loss (and _grad) agree with F.binary_cross_entropy_with_logits, pos_weight included."""
    x, y = make_inputs("binary_cross_entropy_with_logits", kind, shape, dtype)
    w = sample_weights(shape, dtype, rng_for("w", shape)) if weighted else None
    p = make_pos_weight(pos_weight, shape, dtype)
    check_parity("binary_cross_entropy_with_logits", x, y, sample_weight=w, pos_weight=p)


def test_torch_bce_takes_log1p():
    """The derivation above assumes torch's BCE takes log1p(-x), not log(1 - x): at x = 1e-11,
    y = 0 the two differ in the 8th digit (log(1 - x) keeps only what 1 - x did not round away)."""
    value = F.binary_cross_entropy(torch.tensor([1e-11], dtype=torch.float64), torch.zeros(1, dtype=torch.float64))
    # Both log1p within 1 ulp (2u each): 4u apart at most; log(1 - x) is off by 8e-9 relative.
    assert float(value) == pytest.approx(-math.log1p(-1e-11), rel=4 * U)
    assert abs(float(value) + math.log(1 - 1e-11)) > 1e-9 * float(value)


def assert_within_float32_ulps(actual: Any, expected: Any, ulps: float, allowed64: Any, what: str) -> None:
    """|actual - expected| <= ulps float32 ulps of expected, plus the float64 allowance."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    spacing = np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64)
    allowed = ulps * spacing + allowed64
    error = np.abs(actual - expected)
    assert np.all(error <= allowed), f"{what}: up to {np.max(error / spacing):.2f} float32 ulps off"


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("shape", [(3, 4), (10_000,)], ids=shape_id)
@pytest.mark.parametrize("name", list(LOSSES))
def test_float32_is_torch_float64_rounded_once(name, shape, weighted):
    """float32 results are torch's float64 results on the same inputs, rounded once (<= 1 ulp).

    We compute float32 input in float64 and round at the end, so we should be within
    one float32 ulp of the float64 reference, much closer than torch's own float32 path.
    The gradient floor (a few float64 ulps of the largest element) only matters for
    elements that are differences of nearly equal terms.
    """
    kind = "random" if name == "mse_loss" else "soft labels"
    x32, y32 = make_inputs(name, kind, shape, np.float32)
    if name == "binary_cross_entropy_with_logits":  # the float64 logit range: wider
        x32 = (x32 * (LOGIT_RANGE[np.float64] / LOGIT_RANGE[np.float32])).astype(np.float32)
    w32 = sample_weights(shape, np.float32, rng_for("w", shape)) if weighted else None
    w64 = None if w32 is None else w32.astype(np.float64)
    loss = LOSSES[name]
    for reduction in REDUCTIONS:
        ref_value, ref_grad = torch_reference(
            loss.torch, x32.astype(np.float64), y32.astype(np.float64), reduction, sample_weight=w64
        )
        value = loss.ours(x32, y32, reduction=reduction, sample_weight=w32)
        grad = loss.ours_grad(x32, y32, reduction=reduction, sample_weight=w32)
        assert value.dtype == np.float32 and grad.dtype == np.float32
        what = f"{name}(reduction={reduction!r})"
        # Ours: the float64 result r, within the float64 allowance of torch's float64 t (the
        # float64 inputs are the float32 ones), rounded once: half a float32 ulp of r, at most
        # one of t (a binade apart at most), plus that allowance.
        x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
        value64, grad64 = allowances(name, x64, y64, reduction, w64, None)  # derived there
        assert_within_float32_ulps(value, ref_value, 1, value64, what + " value")
        assert_within_float32_ulps(grad, ref_grad, 1, grad64, what + " gradient")
        PARITY_CASES[0] += 1


# --------------------------------------------------------------------------- where torch is off


def exact_logits_loss(x: float, y: float, pos_weight: float = 1.0) -> float:
    """p y softplus(-x) + (1 - y) softplus(x) with mpmath at 256 bits, rounded once."""
    with mpmath.workprec(256):
        x_, y_, p_ = mpmath.mpf(x), mpmath.mpf(y), mpmath.mpf(pos_weight)
        return float(p_ * y_ * mpmath.log1p(mpmath.exp(-x_)) + (1 - y_) * mpmath.log1p(mpmath.exp(x_)))


def exact_logits_loss_derivative(x: float, y: float, pos_weight: float = 1.0) -> float:
    """(1 - y) sigmoid(x) - p y sigmoid(-x) with mpmath at 256 bits, rounded once."""
    with mpmath.workprec(256):
        x_, y_, p_ = mpmath.mpf(x), mpmath.mpf(y), mpmath.mpf(pos_weight)
        sigmoid, sigmoid_neg = 1 / (1 + mpmath.exp(-x_)), 1 / (1 + mpmath.exp(x_))
        return float((1 - y_) * sigmoid - p_ * y_ * sigmoid_neg)


def relative_error(actual: float, exact: float) -> float:
    return abs(actual - exact) / abs(exact)


@pytest.mark.parametrize("pos_weight", [None, 3.0])
@pytest.mark.parametrize(
    ("x", "y", "quantity"),
    [
        (-40.0, 0.0, "value"),  # torch: -40 - (-40 - 4.2e-18) = 0
        (-20.0, 0.0, "value"),  # torch: 2.0611530e-09, exact 2.0611536e-09 (6 digits)
        (-12.0, 0.0, "value"),  # torch: about 10 correct digits
        (40.0, 1.0, "gradient"),  # torch: sigmoid(40) - 1 = 1 - 1 = 0
        (20.0, 1.0, "gradient"),  # torch: 1 - sigmoid(20) keeps about 7 digits
        (15.0, 1.0, "gradient"),  # torch: about 9 correct digits
    ],
)
def test_torch_is_the_inexact_one(x, y, quantity, pos_weight):
    """Confidently right predictions: we match mpmath, torch does not (so no parity is asked there).

    torch's loss ``(1 - y) x - log_sigmoid(x)`` cancels for y = 0, x << 0, and its
    gradient ``sigmoid(x) - y`` (times the pos_weight terms) cancels for y = 1, x >> 0.
    Our forms (softplus, the two sigmoid tails) have no cancellation.
    """
    torch_value, torch_grad = torch_reference(
        F.binary_cross_entropy_with_logits, np.array([x]), np.array([y]), "sum", pos_weight=pos_weight
    )
    p = 1.0 if pos_weight is None else pos_weight
    if quantity == "value":
        exact = exact_logits_loss(x, y, p)
        ours = binary_cross_entropy_with_logits([x], [y], pos_weight=pos_weight)
        theirs = float(torch_value)
    else:
        exact = exact_logits_loss_derivative(x, y, p)
        ours = binary_cross_entropy_with_logits_grad([x], [y], pos_weight=pos_weight)[0]
        theirs = float(torch_grad[0])
    assert exact != 0.0
    # u = EPS64 / 2; exp, log1p within 1 ulp: 2u each. Value: log1p(exp(-|x|)) 4u (+ an exact
    # 0). Gradient: sigmoid(-x) = e * 1/(1 + e), 5u. Times pos_weight u; the rounded
    # reference u more: at most 7u <= 4 * EPS64.
    assert relative_error(float(ours), exact) <= 4 * EPS64, (float(ours), exact)
    # torch misses our bound above by more than a hundred times: it is torch that is off.
    assert relative_error(theirs, exact) > 100 * 4 * EPS64, (theirs, exact)


# --------------------------------------------------------------------------- on purpose


def torch_bce(A: float, y: float) -> tuple[float, float]:
    """torch's BCE of one probability and its gradient (float64)."""
    X = torch.tensor([A], dtype=torch.float64, requires_grad=True)
    loss = F.binary_cross_entropy(X, torch.tensor([y], dtype=torch.float64), reduction="sum")
    loss.backward()
    return loss.item(), X.grad.item()


TORCH_CLAMPED_GRADIENT = pytest.approx(-1e12, rel=1e-8)
"""torch's BCE gradient for y = 1 and A (1 - A) < 1e-12: (A - 1) / 1e-12, with the
1e-12 held as a float32 constant (9.99999996e-13), hence -1.000000004e12."""


def test_tiny_probability_is_not_clamped():
    """A = 1e-300, y = 1: the loss is -log(1e-300) = 690.775...; torch clamps the log at -100."""
    with mpmath.workprec(256):
        exact = float(-mpmath.log(mpmath.mpf(1e-300)))
        exact_grad = float(-1 / mpmath.mpf(1e-300))
    torch_value, torch_grad = torch_bce(1e-300, 1.0)
    assert torch_value == 100.0
    assert torch_grad == TORCH_CLAMPED_GRADIENT
    # -log(p): one libm log, 1 ulp (2u = EPS64); the reference rounded to a float, u more.
    assert relative_error(float(binary_cross_entropy([1e-300], [1.0])), exact) <= 1.5 * EPS64
    # p - 1 = -1, 1 - p = 1 and p * 1 are exact: one division, correctly rounded as exact_grad is.
    assert relative_error(float(binary_cross_entropy_grad([1e-300], [1.0])[0]), exact_grad) <= EPS64


def test_zero_probability_of_the_true_class_is_infinite():
    """A = 0, y = 1: the exact loss is +inf and its gradient -inf; torch gives 100 and -1e12."""
    torch_value, torch_grad = torch_bce(0.0, 1.0)
    assert (torch_value, torch_grad) == (100.0, TORCH_CLAMPED_GRADIENT)
    assert binary_cross_entropy([0.0], [1.0]) == math.inf
    assert binary_cross_entropy_grad([0.0], [1.0])[0] == -math.inf


def test_gradient_outside_torch_safe_region():
    """Where A (1 - A) < 1e-12 torch's gradient is its clamp; ours is the derivative (or its limit).

    A = 1e-40, y = 1: the value is inside torch's log region and agrees; the
    gradient -1/A = -1e40, torch -1e12. A = y in {0, 1}: d/dA of -log(1 - A) at 0 is
    1 (and of -log A at 1 is -1); torch returns 0.
    """
    torch_value, torch_grad = torch_bce(1e-40, 1.0)
    with mpmath.workprec(256):
        exact = float(-mpmath.log(mpmath.mpf(1e-40)))
    assert relative_error(torch_value, exact) <= 1e-12
    assert relative_error(float(binary_cross_entropy([1e-40], [1.0])), exact) <= 1.5 * EPS64  # as above
    assert torch_grad == TORCH_CLAMPED_GRADIENT
    # -1/p rounded once (u); 1e-40 and 1e40 are each the exact power rounded (u): 2u = EPS64.
    assert relative_error(float(binary_cross_entropy_grad([1e-40], [1.0])[0]), -1e40) <= EPS64

    for A, limit in [(0.0, 1.0), (1.0, -1.0)]:
        assert torch_bce(A, A)[1] == 0.0
        assert binary_cross_entropy_grad([A], [A])[0] == limit


def test_column_against_flat_is_an_error_not_a_broadcast():
    """(n, 1) predictions against (n,) targets: torch's mse_loss warns and broadcasts to (n, n).

    The (n, n) result silently pairs every prediction with every target; we raise
    ShapeMismatchError and suggest the reshape. torch's BCE losses refuse too (ValueError,
    of which ShapeMismatchError is a subclass).
    """
    n = 4
    column = np.linspace(0.1, 0.9, n).reshape(n, 1)
    flat = np.array([0.0, 1.0, 1.0, 0.0])
    with pytest.warns(UserWarning, match="target size"):
        broadcast = F.mse_loss(torch.tensor(column), torch.tensor(flat), reduction="none")
    assert tuple(broadcast.shape) == (n, n)

    for ours in (mse_loss, mse_loss_grad, binary_cross_entropy, binary_cross_entropy_with_logits_grad):
        with pytest.raises(ShapeMismatchError, match="reshape"):
            ours(column, flat, reduction="none")
    for theirs in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError):
            theirs(torch.tensor(column), torch.tensor(flat))
