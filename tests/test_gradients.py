"""Every ``_grad`` is the derivative of its loss, checked two independent ways.

1. **Central differences of the library's own loss** (float64): for each element,
   ``(L(x + h) - L(x - h)) / 2h`` with a step ``h`` scaled to the input. This ties each
   gradient to its value function, so the two cannot drift apart. Agreement is asked to
   ``rtol = 1e-6`` (the truncation error is ~h**2), plus the rounding of ``L`` itself
   divided by ``2h``.
2. **mpmath**: ``mp.diff`` of the loss written out as an mpmath formula, at 40 digits,
   an independent reference for the mathematics. Agreement is asked to ``7 * EPS``
   (derived at ``MP_RTOL``).

Inputs are random (fixed seeds) and kept away from the points where a loss is not
differentiable or the pure edition clips: probabilities in [0.05, 0.95], logits within
±8 for differences (±40 for mpmath), regression values over several orders of magnitude.
Every reduction is checked, with and without ``sample_weight`` and, for the logits loss,
with and without ``pos_weight`` (also broadcast per column). The last tests check that a
gradient has the shape of its first argument and its float dtype (float64 for integers,
booleans, lists and Python numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import pytest
from mpmath import mp, mpf

from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    mse_loss,
    mse_loss_grad,
    pure,
    sigmoid,
    sigmoid_grad,
)

EPS = float(np.finfo(np.float64).eps)
FD_RTOL = 1e-6
# Error model: u = EPS / 2; a correctly rounded operation is within u relative, a libm
# function (exp, log, log1p) within 2u, and k u relative is within k ulp. Per element:
# mse 2 (x - y) u; bce (x - y) / (x (1 - x)) 4u; the logits' (1 - y) s(x) - p y s(-x)
# 7u of each term (exp 2u, 1 / (1 + e) 2u, e / (1 + e) u, the products 2u; the terms
# may cancel: 4 EPS of their sizes, ``magnitude``) and u for the difference. Then w l'
# u, sum(w) of <= 12 weights (NumPy's pairwise sum: 7 roundings) 7u, the division u,
# and the reference's rounding u: 14u relative at most.
MP_RTOL = 7 * EPS
DIGITS = 40


# --------------------------------------------------------------------------- the two references


def central_difference(f: Callable[[float], float], x: float) -> tuple[float, float]:
    """``(f(x + h) - f(x - h)) / 2h`` and the rounding error to expect from it.

    ``h`` is ``eps**(1/3) * max(1, |x|)`` (which balances truncation against rounding),
    adjusted so that ``x + h`` is exactly representable. The rounding allowance assumes
    each value of ``f`` carries up to 16 EPS (32u) of relative error: an element within
    6u (a log or log1p and the roundings around it), times w u, a sum of <= 12 terms of
    one sign 7u, a division by sum(w) 8u more: 22u in all.
    """
    step = EPS ** (1 / 3) * max(1.0, abs(x))
    h = (x + step) - x
    upper, lower = f(x + h), f(x - h)
    rounding = 16 * EPS * (abs(upper) + abs(lower)) / (2 * h)
    return (upper - lower) / (2 * h), rounding


def mp_derivative(formula: Callable[..., Any], x: float, *args: float, digits: int = DIGITS) -> Any:
    """d/dt formula(t, *args) at t = x, with mpmath at ``digits`` significant digits."""
    with mp.workdps(digits):
        return mp.diff(lambda t: formula(t, *(mpf(a) for a in args)), mpf(x))


def mp_sigmoid(t: Any) -> Any:
    return 1 / (1 + mpmath.exp(-t))


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Loss:
    """A loss, its gradient, random valid inputs, and the loss of one element in mpmath.

    ``formula(t, y, pos_weight)`` is the per-element loss; ``magnitude(t, y, pos_weight)``
    bounds the size of the terms its derivative is the difference of (for the absolute
    part of the tolerance where that derivative cancels to near 0).
    """

    id: str
    value: Callable[..., Any]
    grad: Callable[..., Any]
    inputs: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
    targets: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
    formula: Callable[[Any, Any, Any], Any]
    magnitude: Callable[[float, float, float], float]
    has_pos_weight: bool = False


def labels(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Hard labels 0/1 and soft labels, mixed."""
    soft = rng.uniform(0.0, 1.0, shape)
    hard = rng.integers(0, 2, shape).astype(np.float64)
    return np.where(rng.uniform(size=shape) < 0.5, hard, soft)


def regression_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values from 1e-2 to 1e4 in size, either sign."""
    return rng.normal(size=shape) * 10.0 ** rng.uniform(-2, 4, shape)


def squared_error(t: Any, y: Any, pos_weight: Any) -> Any:
    return (t - y) ** 2


def cross_entropy(t: Any, y: Any, pos_weight: Any) -> Any:
    return -(y * mpmath.log(t) + (1 - y) * mpmath.log(1 - t))


def logistic_loss(t: Any, y: Any, pos_weight: Any) -> Any:
    # = pos_weight * y * softplus(-t) + (1 - y) * softplus(t): the PyTorch definition
    return pos_weight * y * mpmath.log(1 + mpmath.exp(-t)) + (1 - y) * mpmath.log(1 + mpmath.exp(t))


MSE = Loss(
    "mse_loss",
    mse_loss,
    mse_loss_grad,
    regression_values,
    regression_values,
    squared_error,
    lambda t, y, p: 2 * abs(t - y),
)
BCE = Loss(
    "binary_cross_entropy",
    binary_cross_entropy,
    binary_cross_entropy_grad,
    lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    labels,
    cross_entropy,
    lambda t, y, p: y / t + (1 - y) / (1 - t),
)


def logits_loss(id: str, inputs: Callable[..., np.ndarray], pos_weight: bool) -> Loss:
    return Loss(
        id,
        binary_cross_entropy_with_logits,
        binary_cross_entropy_with_logits_grad,
        inputs,
        labels,
        logistic_loss,
        lambda t, y, p: (1 - y) / (1 + math.exp(-t)) + p * y / (1 + math.exp(t)),
        has_pos_weight=pos_weight,
    )


def moderate_logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-8.0, 8.0, shape)


def wide_logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-40.0, 40.0, shape)


BCE_LOGITS = logits_loss("binary_cross_entropy_with_logits", moderate_logits, pos_weight=False)
BCE_LOGITS_POS = logits_loss("binary_cross_entropy_with_logits[pos_weight]", moderate_logits, pos_weight=True)
LOSSES = [MSE, BCE, BCE_LOGITS, BCE_LOGITS_POS]

SHAPES = [(7,), (4, 3)]
REDUCTIONS = ["none", "sum", "mean"]


@dataclass(frozen=True)
class Problem:
    """One random batch for one loss: arrays, keywords, and per-element weights."""

    x: np.ndarray
    y: np.ndarray
    keywords: dict[str, Any]
    sample_weight: np.ndarray  # ones when no sample_weight is passed
    pos_weight: np.ndarray  # broadcast to x.shape; ones when no pos_weight is passed

    def denominator(self, reduction: str) -> Any:
        """What the weighted losses are divided by: sum(w) for a mean, else 1 (exact, in mpmath)."""
        if reduction != "mean":
            return mpf(1)
        with mp.workdps(DIGITS):
            return mpmath.fsum(mpf(float(w)) for w in self.sample_weight.ravel())


def make_problem(loss: Loss, shape: tuple[int, ...], weighted: bool, reduction: str, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    x, y = loss.inputs(rng, shape), loss.targets(rng, shape)
    keywords: dict[str, Any] = {"reduction": reduction}
    w = np.ones(shape)
    if weighted:
        w = rng.uniform(0.0, 3.0, shape)
        w.ravel()[0] = 0.0  # a zero weight must zero its element's gradient
        keywords["sample_weight"] = w
    p = np.ones(shape)
    if loss.has_pos_weight:
        p_given = rng.uniform(0.25, 4.0, shape[-1:])  # one per column: broadcast against y
        keywords["pos_weight"] = p_given
        p = np.broadcast_to(p_given, shape)
    return Problem(x, y, keywords, w, p)


def problem_cases() -> list[Any]:
    cases = []
    for loss in LOSSES:
        for shape in SHAPES:
            for weighted in (False, True):
                for reduction in REDUCTIONS:
                    seed = len(cases)
                    weighting = "weighted" if weighted else "unweighted"
                    case_id = f"{loss.id}-{'x'.join(map(str, shape))}-{weighting}-{reduction}"
                    cases.append(pytest.param(loss, shape, weighted, reduction, seed, id=case_id))
    return cases


# --------------------------------------------------------------------------- the NumPy-edition losses


@pytest.mark.parametrize(("loss", "shape", "weighted", "reduction", "seed"), problem_cases())
def test_loss_grad_matches_central_differences(
    loss: Loss, shape: tuple[int, ...], weighted: bool, reduction: str, seed: int
) -> None:
    """Each element of ``loss_grad`` is the slope of the reduced ``loss`` along that element."""
    problem = make_problem(loss, shape, weighted, reduction, seed)
    gradient = loss.grad(problem.x, problem.y, **problem.keywords)
    assert gradient.shape == shape and gradient.dtype == np.float64

    for index in np.ndindex(shape):

        def along(t: float, index: tuple[int, ...] = index) -> float:
            moved = problem.x.copy()
            moved[index] = t
            value = loss.value(moved, problem.y, **problem.keywords)
            # "none" has one loss per element: element i's slope is that of its own loss
            return float(value[index] if reduction == "none" else value)

        estimate, rounding = central_difference(along, float(problem.x[index]))
        assert abs(gradient[index] - estimate) <= FD_RTOL * abs(estimate) + rounding, (
            f"at {index}: grad {gradient[index]!r}, central difference {estimate!r}"
        )


@pytest.mark.parametrize(("loss", "shape", "weighted", "reduction", "seed"), problem_cases())
def test_loss_grad_matches_mpmath(
    loss: Loss, shape: tuple[int, ...], weighted: bool, reduction: str, seed: int
) -> None:
    """``loss_grad`` = ``w_i * l'(x_i)`` (over ``sum(w)`` for a mean), ``l'`` by mp.diff of the formula."""
    problem = make_problem(loss, shape, weighted, reduction, seed)
    gradient = loss.grad(problem.x, problem.y, **problem.keywords)
    denominator = problem.denominator(reduction)
    for index in np.ndindex(shape):
        x, y = float(problem.x[index]), float(problem.y[index])
        w, p = float(problem.sample_weight[index]), float(problem.pos_weight[index])
        with mp.workdps(DIGITS):
            expected = float(mpf(w) * mp_derivative(loss.formula, x, y, p) / denominator)
        scale = w / float(denominator) * loss.magnitude(x, y, p)
        assert abs(gradient[index] - expected) <= MP_RTOL * abs(expected) + 4 * EPS * scale, (
            f"at {index} (x={x!r}, y={y!r}, w={w!r}, pos_weight={p!r}): "
            f"grad {gradient[index]!r}, mpmath {expected!r}"
        )


@pytest.mark.parametrize("pos_weight", [False, True], ids=["plain", "pos_weight"])
def test_logits_grad_matches_mpmath_for_large_logits(pos_weight: bool) -> None:
    """Up to ±40 the derivative sigmoid(x) - y keeps its accuracy (its tails are tiny, not 0)."""
    loss = logits_loss("wide", wide_logits, pos_weight)
    test_loss_grad_matches_mpmath(loss, (50,), weighted=False, reduction="none", seed=99)


# --------------------------------------------------------------------------- sigmoid


def test_sigmoid_grad_matches_central_differences() -> None:
    """sigmoid_grad is the slope of sigmoid, over [-30, 30]."""
    Z = np.random.default_rng(5).uniform(-30.0, 30.0, 40)
    gradient = sigmoid_grad(Z)
    for z, g in zip(Z, gradient, strict=True):
        estimate, rounding = central_difference(lambda t: float(sigmoid(t)), float(z))
        assert abs(g - estimate) <= FD_RTOL * abs(estimate) + rounding, (z, g, estimate)


def test_sigmoid_grad_matches_mpmath() -> None:
    """sigmoid_grad keeps full relative accuracy far into both tails (|z| up to 700)."""
    Z = np.concatenate([np.random.default_rng(6).uniform(-40.0, 40.0, 30), [-700.0, -300.5, 300.5, 700.0]])
    gradient = sigmoid_grad(Z)
    for z, g in zip(Z, gradient, strict=True):
        # sigmoid(300) = 1 - 5e-131: resolving its slope takes about |z| / ln(10) more digits
        digits = DIGITS + int(abs(z) / math.log(10))
        expected = float(mp_derivative(mp_sigmoid, float(z), digits=digits))
        assert abs(g - expected) <= MP_RTOL * abs(expected), (z, g, expected)


# --------------------------------------------------------------------------- the pure edition


def mp_mean_squared_error(t: Any, y_true: Any) -> Any:
    return (y_true - t) ** 2


def mp_pure_cross_entropy(t: Any, y_true: Any) -> Any:
    return -(y_true * mpmath.log(t) + (1 - y_true) * mpmath.log(1 - t))


PURE = [
    pytest.param(
        pure.mean_squared_error, pure.mean_squared_error_grad, mp_mean_squared_error, id="mean_squared_error"
    ),
    pytest.param(
        pure.binary_cross_entropy,
        pure.binary_cross_entropy_grad,
        mp_pure_cross_entropy,
        id="binary_cross_entropy",
    ),
]


def pure_inputs(seed: int, n: int) -> tuple[list[float], list[float]]:
    """Labels (hard and soft) and probabilities in [0.05, 0.95], far from the clip at 1e-9."""
    rng = np.random.default_rng(seed)
    return labels(rng, (n,)).tolist(), rng.uniform(0.05, 0.95, n).tolist()


@pytest.mark.parametrize(("value", "grad", "formula"), PURE)
@pytest.mark.parametrize("n", [1, 6])
def test_pure_grad_matches_central_differences_and_mpmath(
    value: Callable[..., float], grad: Callable[..., Any], formula: Callable[..., Any], n: int
) -> None:
    """The pure edition's gradient of the mean: element i is l'(p_i) / n."""
    y_true, y_pred = pure_inputs(seed=10 + n, n=n)
    gradient = grad(y_true, y_pred)
    assert isinstance(gradient, list) and len(gradient) == n
    for i in range(n):

        def along(t: float, i: int = i) -> float:
            return value(y_true, [*y_pred[:i], t, *y_pred[i + 1 :]])

        estimate, rounding = central_difference(along, y_pred[i])
        assert abs(gradient[i] - estimate) <= FD_RTOL * abs(estimate) + rounding, (i, gradient[i], estimate)
        with mp.workdps(DIGITS):
            expected = float(mp_derivative(formula, y_pred[i], y_true[i]) / n)
        scale = 2 * abs(y_pred[i] - y_true[i]) + y_true[i] / y_pred[i] + (1 - y_true[i]) / (1 - y_pred[i])
        assert abs(gradient[i] - expected) <= MP_RTOL * abs(expected) + 4 * EPS * scale / n, (
            i,
            gradient[i],
            expected,
        )


@pytest.mark.parametrize(("value", "grad", "formula"), PURE)
def test_pure_grad_of_numbers_is_a_number(
    value: Callable[..., float], grad: Callable[..., Any], formula: Callable[..., Any]
) -> None:
    """Two numbers give the derivative of one loss, a float (not a list), matching mpmath."""
    y_true, y_pred = 1.0, 0.3
    gradient = grad(y_true, y_pred)
    assert type(gradient) is float
    expected = float(mp_derivative(formula, y_pred, y_true))
    assert gradient == pytest.approx(expected, rel=MP_RTOL)
    estimate, rounding = central_difference(lambda t: value(y_true, t), y_pred)
    assert abs(gradient - estimate) <= FD_RTOL * abs(estimate) + rounding


@pytest.mark.parametrize("y_pred", [1e-12, 1 - 1e-12], ids=["near-0", "near-1"])
def test_pure_bce_grad_is_zero_where_clipped(y_pred: float) -> None:
    """Inside the clip (p < epsilon or p > 1 - epsilon) the loss is flat, so its slope is 0."""
    y_true = 1.0 if y_pred < 0.5 else 0.0
    assert pure.binary_cross_entropy_grad(y_true, y_pred) == 0.0
    h = 1e-13  # small enough to stay inside the clipped region on both sides
    flat = pure.binary_cross_entropy(y_true, y_pred + h) - pure.binary_cross_entropy(y_true, y_pred - h)
    assert flat == 0.0


# --------------------------------------------------------------------------- shape and dtype


NUMPY_GRADS = [
    pytest.param(mse_loss_grad, [[0.5, -1.0], [2.0, 3.0], [0.0, 1.0]], id="mse_loss_grad"),
    pytest.param(binary_cross_entropy_grad, [[0.25, 0.5], [0.75, 0.5], [0.125, 0.875]], id="bce_grad"),
    pytest.param(
        binary_cross_entropy_with_logits_grad, [[0.5, -1.0], [2.0, 3.0], [0.0, 1.0]], id="logits_grad"
    ),
]
TARGET = [[0.0, 1.0], [1.0, 0.5], [1.0, 0.0]]


@pytest.mark.parametrize(("grad", "x"), NUMPY_GRADS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_grad_has_the_shape_and_float_dtype_of_its_first_argument(
    grad: Callable[..., Any], x: list[list[float]], dtype: type, reduction: str
) -> None:
    """A float32 input gives a float32 gradient (whatever the target's dtype), and so on."""
    for target_dtype in (np.float32, np.float64):
        result = grad(np.asarray(x, dtype=dtype), np.asarray(TARGET, dtype=target_dtype), reduction=reduction)
        assert isinstance(result, np.ndarray)
        assert result.shape == (3, 2) and result.dtype == dtype


@pytest.mark.parametrize(("grad", "x"), NUMPY_GRADS)
@pytest.mark.parametrize("kind", ["int", "bool", "list", "nested-list"])
def test_grad_of_non_float_input_is_float64(
    grad: Callable[..., Any], x: list[list[float]], kind: str
) -> None:
    """Integers, booleans and lists have no float dtype to keep: their gradient is float64."""
    binary = [[0, 1], [1, 0], [1, 1]]  # valid for every loss, probabilities included
    make = {
        "int": lambda: np.asarray(binary, dtype=np.int64),
        "bool": lambda: np.asarray(binary, dtype=bool),
        "list": lambda: [float(v) for row in x for v in row],
        "nested-list": lambda: x,
    }
    first = make[kind]()
    target = np.asarray(TARGET, dtype=np.float32)
    if kind == "list":
        target = target.reshape(-1)
    result = grad(first, target, reduction="mean")
    assert isinstance(result, np.ndarray)
    assert result.shape == np.shape(first) and result.dtype == np.float64


@pytest.mark.parametrize(
    ("grad", "x", "y"), [(mse_loss_grad, 2, 3), (binary_cross_entropy_with_logits_grad, -1, 1)]
)
def test_grad_of_python_numbers_is_a_float64_scalar(grad: Callable[..., Any], x: int, y: int) -> None:
    """Two Python numbers give a 0-d float64 gradient."""
    result = grad(x, y)
    assert np.shape(result) == () and result.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int32, np.float16, np.float32, np.float64])
def test_sigmoid_grad_keeps_shape_and_float_dtype(dtype: type) -> None:
    """sigmoid_grad: the input's shape, its float dtype, float64 for integers."""
    Z = np.arange(-3, 3).reshape(2, 3).astype(dtype)
    result = sigmoid_grad(Z)
    expected = np.float64 if np.issubdtype(dtype, np.integer) else dtype
    assert result.shape == (2, 3) and result.dtype == expected
