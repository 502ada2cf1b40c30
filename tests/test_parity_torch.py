"""Parity with PyTorch (torch 2.13.0, CPU): loss values AND gradients.

For ``mse_loss``, ``binary_cross_entropy`` and ``binary_cross_entropy_with_logits`` the
reference is ``torch.nn.functional`` and the reference gradient is what
``torch.autograd`` computes for the same reduced loss. Every check runs the three
reductions; for ``reduction="none"`` the torch gradient is the gradient of
``sum(loss)``, which is exactly the element-wise derivative our ``*_grad`` returns.

``sample_weight`` has no torch equivalent: the reference is built from torch's
per-element losses as ``(w * loss).sum() / w.sum()`` ("mean"), ``(w * loss).sum()``
("sum") or ``w * loss`` ("none"), and autograd differentiates that.

Tolerances (see ``FORWARD`` and ``BACKWARD``):

* float64: relative 1e-12. A gradient element that is a difference of two terms
  (``sigmoid(x) - y`` with a soft label) can be far smaller than the terms, so its
  rounding error is measured against the largest gradient element: an absolute floor
  of a few float64 ulps of ``max |reference|``.
* float32: relative 1e-5 against torch computed in float32 (torch rounds at every
  step, we round once), and a separate test shows our float32 results are within one
  float32 ulp of torch's float64 results rounded to float32.

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

from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    mse_loss,
    mse_loss_grad,
)
from neural_network.errors import ShapeMismatchError

F = torch.nn.functional  # the usual name of this module

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)
SHAPES = ((), (1,), (7,), (3, 4), (2, 3, 5), (10_000,))

# --------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= rtol * |expected| + floor * max(|expected|)``, element-wise."""

    rtol: float
    floor: float = 0.0


EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)

FORWARD = {np.float64: Tolerance(rtol=1e-12), np.float32: Tolerance(rtol=1e-5)}
BACKWARD = {
    np.float64: Tolerance(rtol=1e-12, floor=4 * EPS64),
    np.float32: Tolerance(rtol=1e-5, floor=4 * EPS32),
}


def assert_close(actual: Any, expected: Any, tolerance: Tolerance, what: str) -> None:
    """Element-wise comparison with a message that shows the worst element."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    error = np.abs(actual - expected)
    allowed = tolerance.rtol * np.abs(expected) + tolerance.floor * np.max(np.abs(expected), initial=0.0)
    bad = ~(error <= allowed)  # also catches NaN
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
    forward: Tolerance | None = None,
    backward: Tolerance | None = None,
) -> None:
    """Compare value and gradient with torch for every reduction (like tinygrad's helper_test_op).

    Our results must also keep ``x``'s dtype and shape (a scalar for "mean"/"sum").
    """
    loss, dtype = LOSSES[name], x.dtype.type
    forward = forward or FORWARD[dtype]
    backward = backward or BACKWARD[dtype]
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
        assert_close(value, ref_value, forward, what + " value")
        assert_close(grad, ref_grad, backward, what + " gradient")
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


def assert_within_float32_ulps(actual: Any, expected: Any, ulps: float, floor: float, what: str) -> None:
    """|actual - expected| <= ulps float32 ulps of expected (+ an absolute floor for cancellations)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    spacing = np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64)
    allowed = ulps * spacing + floor * np.max(np.abs(expected), initial=0.0)
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
        # Ours: the float64 result (within 60u of exact, u = 2**-53, tests/test_exactness.py) rounded
        # once; torch's float64 within a few u too: 0.5 float32 ulp + about 100 * 2**-29 < 1.
        assert_within_float32_ulps(value, ref_value, 1, 0.0, what + " value")
        assert_within_float32_ulps(grad, ref_grad, 1, 4 * EPS64, what + " gradient")
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
    # torch misses the float64 parity tolerance (1e-12) by more than ten times: it is torch that is off.
    assert relative_error(theirs, exact) > 10 * FORWARD[np.float64].rtol, (theirs, exact)


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
