"""The regression losses of the catalog, each with its gradient, against independent references.

* PyTorch (``torch.nn.functional``): ``l1_loss``, ``huber_loss``, ``smooth_l1_loss``, values
  and autograd gradients, every reduction, float32 and float64, random and edge cases.
* mpmath: every element of every loss and gradient, every mean and sum, within the bound
  derived from its operations (``ELEMENT_BOUNDS``, ``reduction_bounds``) of the formula
  evaluated exactly (the float inputs as given, 200-bit arithmetic).
* scikit-learn (``sklearn.metrics``): the losses that follow it, with sample weights.
* Central finite differences: every gradient, the root losses' included.
* Properties shared by all: reductions, weights, dtypes, blocked evaluation, errors.

No expected value here comes from the functions under test. ``pytest -s`` prints the
worst ulp error measured for each loss, dtype and quantity at the end of the module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import pytest

from error_model import U, additions, any_order
from neural_network import _blocks, losses
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses.regression import _logarithmic

torch = pytest.importorskip("torch")
metrics = pytest.importorskip("sklearn.metrics")
array_api_strict = pytest.importorskip("array_api_strict")
F = torch.nn.functional

MP = mpmath.MPContext()
"""A private mpmath context: the precision set here never leaks into other tests."""
MP.prec = 200
Mpf = Any

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["float64", "float32"]

# Error model: u = 2**-53; a correctly rounded operation (+, -, *, /, sqrt) is within u
# relative, a libm function (log1p, exp, tanh) within 2u, and k u relative is within k
# ulp. float32 input is computed in float64 and rounded once: u of float32 (1 ulp) plus
# k u of float64 (k 2**-29 ulp), so 1.5 ulp for every float32 result below.
FLOAT32_ULPS = 1.5


def pairwise_roundings(n: int) -> int:
    """The most roundings a term meets in NumPy's pairwise sum of ``n`` (``np.add.reduce``):
    8 lanes, a tree of 3, the rest one by one; halved at multiples of 8 above 128."""
    if n < 8:
        return max(n - 1, 0)
    if n <= 128:
        return (n // 8 - 1) + 3 + n % 8
    half = n // 2 - (n // 2) % 8
    return 1 + max(pairwise_roundings(half), pairwise_roundings(n - half))


ELEMENT_BOUNDS = {
    # d = p - y is rounded once (u) wherever it does not overflow (then p/2 - y/2, u too).
    "l1_loss": (1, 0),  # |d|: u; sign(d): exact
    "huber_loss": (4, 1),  # m (a - m/2): quadratic a^2 2u + u; linear a u x2 (a - delta/2 >= a/2) + 2u
    "smooth_l1_loss": (4, 2),  # (a - m/2)(m / beta): as huber, m / beta u more; d / beta 2u
    "log_cosh": (5.5, 3),  # see below; tanh(d): d u (condition <= 1) + tanh 2u
    "mean_squared_log_error": (7, 5),  # see below
    "mean_absolute_percentage_error": (2, 1),  # |d| / max(|y|, eps): 2u; sign / max: u
    "pinball_loss": (3, 1),  # max((1 - q) d, -q d): d u, 1 - q u (q = 0.1), product u; 1 - q u
}
"""(value, gradient) bounds in float64 ulp, per loss, from its kernel's operations.

log_cosh: below |d| = 3/4, a^2 exact, g = 1/2 + q (|q| < 0.1, Horner and table 0.3u), s g
and its correction 2u, the correction of d's rounding (tanh's error second order) u:
3.5u. Above, (a - ln 2) + log1p(exp(-2a)), both >= 0: exp 2u and log1p 2u on the second,
at most 0.78 of the value (a = 3/4): 3.1u, a - ln2's low part 0.2u, the sums 2u: 5.5u.
mean_squared_log_error: log1p(r) 2u, the rest of (a - b) / (1 + b) kept to first order:
L within 2u (3u where r overflows: log1p(a) - log1p(b), opposite signs); L^2 4u (6u) and
its rounding: 7u. Gradient 2 L / (1 + p): L + its correction 3u, quotient and its
correction 2u: 5u (1 + p kept unrounded).
"""

REDUCED = pairwise_roundings(300)
"""18: the sums below are of the 300 random elements, all >= 0: no relative error grows."""


def reduction_bounds(value: float, gradient: float, dtype: type) -> dict[str, float]:
    """The bound for each reduction: element, w l (u), the sum, sum(w) and the division (u)."""
    if dtype == np.float32:
        return dict.fromkeys(("sum", "mean", "weighted sum", "weighted mean", "grad mean"), FLOAT32_ULPS)
    return {
        "sum": value + REDUCED,
        "mean": value + REDUCED + 1,
        "weighted sum": value + 1 + REDUCED,
        "weighted mean": value + 1 + 2 * REDUCED + 1,
        "grad mean": gradient + 1 + REDUCED + 1,
    }


def element_bounds(case: Case, dtype: type) -> tuple[float, float]:
    if dtype == np.float32:
        return FLOAT32_ULPS, FLOAT32_ULPS
    if case.name == "smooth_l1_loss" and case.options["beta"] == 0.0:
        return ELEMENT_BOUNDS["l1_loss"]
    if case.name == "pinball_loss" and case.options["quantile"] in (0.0, 1.0):
        return 1, 0  # max(+-d, 0): u; the gradient's (1 - q) and q are 0 or 1
    return ELEMENT_BOUNDS[case.name]


# --------------------------------------------------------------------------- the ulp ruler

FORMATS = {np.float64: (53, -1022, 1023), np.float32: (24, -126, 127)}
"""Significand bits, smallest normal exponent and largest exponent of each format."""


def spacing_at(exact: Mpf, dtype: type) -> Mpf:
    """The distance between consecutive floats of ``dtype`` around the real number ``exact``."""
    precision, emin, _ = FORMATS[dtype]
    exponent = emin
    if exact != 0:
        exponent = max(MP.frexp(exact)[1] - 1, emin)
    return MP.ldexp(1, exponent - precision + 1)


def ulp_error(got: float, exact: Mpf, dtype: type) -> float:
    """``|got - exact|`` in ulps of ``dtype`` at ``exact``; an exact value beyond the range must give inf."""
    precision, _, emax = FORMATS[dtype]
    got = float(got)
    if math.isnan(got):
        return math.inf
    if abs(exact) >= MP.ldexp(2 - MP.ldexp(1, -precision), emax):  # rounds to infinity
        return 0.0 if got == math.copysign(math.inf, float(exact)) else math.inf
    if math.isinf(got):
        return math.inf
    return float(abs(MP.mpf(got) - exact) / spacing_at(exact, dtype))


def test_the_ruler():
    one = MP.mpf(1)
    assert ulp_error(1.0 + 2.0**-52, one, np.float64) == 1.0
    assert ulp_error(1.0, one + MP.ldexp(1, -24), np.float32) == 0.5
    assert ulp_error(5e-324, MP.zero, np.float64) == 1.0
    assert ulp_error(math.inf, MP.mpf(10) ** 400, np.float64) == 0.0
    assert ulp_error(1.7976931348623157e308, MP.mpf(10) ** 400, np.float64) == math.inf


WORST: dict[tuple[str, str, str], float] = {}
"""The worst ulp error measured, per (loss, dtype, quantity)."""


def record(loss: str, dtype: type, quantity: str, errors: list[float]) -> float:
    worst = max(errors, default=0.0)
    key = (loss, np.dtype(dtype).name, quantity)
    WORST[key] = max(WORST.get(key, 0.0), worst)
    return worst


@pytest.fixture(scope="module", autouse=True)
def _report_worst() -> Iterator[None]:
    yield
    if WORST:
        print("\nworst ulp error measured (regression losses):")
        for (loss, dtype, quantity), worst in sorted(WORST.items()):
            print(f"  {loss:34s} {dtype:8s} {quantity:10s} {worst:6.3f}")


# --------------------------------------------------------------------------- exact references


def mp_sign(x: Mpf) -> Mpf:
    return MP.mpf((x > 0) - (x < 0))


def log_cosh_exact(d: Mpf) -> Mpf:
    a = abs(d)
    if a < MP.ldexp(1, -20):  # cosh(a) - 1 would need more than 200 bits; the series does not
        s = a * a
        return s / 2 - s**2 / 12 + s**3 / 45 - 17 * s**4 / 2520
    return MP.log(MP.cosh(a))


EPSILON = MP.ldexp(1, -52)


@dataclass(frozen=True)
class Case:
    """A loss under test: its functions, options, exact formulas and the data it takes."""

    name: str
    value: Callable[..., Any]
    grad: Callable[..., Any]
    exact: Callable[[Mpf, Mpf], Mpf]
    exact_grad: Callable[[Mpf, Mpf], Mpf]
    options: dict[str, float] = field(default_factory=dict)
    data: str = "real"  # "real", "log" (values > -1) or "percentage" (targets near 0 too)

    @property
    def id(self) -> str:
        return self.name + "".join(f"-{k}={v}" for k, v in self.options.items())

    def __call__(self, p: Any, y: Any, **kw: Any) -> Any:
        return self.value(p, y, **self.options, **kw)

    def gradient(self, p: Any, y: Any, **kw: Any) -> Any:
        return self.grad(p, y, **self.options, **kw)


def huber_case(delta: float) -> Case:
    dd = MP.mpf(delta)
    return Case(
        "huber_loss",
        losses.huber_loss,
        losses.huber_loss_grad,
        lambda p, y: (p - y) ** 2 / 2 if abs(p - y) < dd else dd * (abs(p - y) - dd / 2),
        lambda p, y: max(-dd, min(dd, p - y)),
        {"delta": delta},
    )


def smooth_l1_case(beta: float) -> Case:
    b = MP.mpf(beta)
    if beta == 0:
        return Case("smooth_l1_loss", losses.smooth_l1_loss, losses.smooth_l1_loss_grad,
                    lambda p, y: abs(p - y), lambda p, y: mp_sign(p - y), {"beta": beta})
    return Case(
        "smooth_l1_loss",
        losses.smooth_l1_loss,
        losses.smooth_l1_loss_grad,
        lambda p, y: (p - y) ** 2 / (2 * b) if abs(p - y) < b else abs(p - y) - b / 2,
        lambda p, y: max(-1, min(1, (p - y) / b)),
        {"beta": beta},
    )


def pinball_case(quantile: float) -> Case:
    q = MP.mpf(quantile)
    return Case(
        "pinball_loss",
        losses.pinball_loss,
        losses.pinball_loss_grad,
        lambda p, y: q * max(y - p, 0) + (1 - q) * max(p - y, 0),
        lambda p, y: (1 - q) if p > y else (-q if p < y else MP.zero),
        {"quantile": quantile},
    )


ELEMENTWISE = [
    Case("l1_loss", losses.l1_loss, losses.l1_loss_grad, lambda p, y: abs(p - y), lambda p, y: mp_sign(p - y)),
    huber_case(1.0),
    huber_case(0.3),
    smooth_l1_case(1.0),
    smooth_l1_case(0.25),
    smooth_l1_case(0.0),
    Case("log_cosh", losses.log_cosh, losses.log_cosh_grad, lambda p, y: log_cosh_exact(p - y), lambda p, y: MP.tanh(p - y)),
    Case(
        "mean_squared_log_error",
        losses.mean_squared_log_error,
        losses.mean_squared_log_error_grad,
        lambda p, y: (MP.log1p(p) - MP.log1p(y)) ** 2,
        lambda p, y: 2 * (MP.log1p(p) - MP.log1p(y)) / (1 + p),
        data="log",
    ),
    Case(
        "mean_absolute_percentage_error",
        losses.mean_absolute_percentage_error,
        losses.mean_absolute_percentage_error_grad,
        lambda p, y: abs(p - y) / max(abs(y), EPSILON),
        lambda p, y: mp_sign(p - y) / max(abs(y), EPSILON),
        data="percentage",
    ),
    pinball_case(0.5),
    pinball_case(0.1),
    pinball_case(0.9),
    pinball_case(0.0),
    pinball_case(1.0),
]

# --------------------------------------------------------------------------- data


def to_dtype(values: np.ndarray, dtype: type, data: str = "real") -> np.ndarray:
    """``values`` in ``dtype``, clipped into its range (and above -1 for the log losses)."""
    info = np.finfo(dtype)
    values = np.clip(values, -float(info.max), float(info.max)).astype(dtype)
    if data == "log":
        values = np.maximum(values, np.nextafter(dtype(-1), dtype(0)))
    return values


def random_data(data: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (input, target) of spread magnitudes and errors, some ties among them."""
    rng = np.random.default_rng(seed)
    if data == "log":
        y = np.exp(rng.uniform(-30, 30, n))
        near_minus_one = rng.random(n) < 0.15
        y[near_minus_one] = -1 + np.exp(rng.uniform(-36, -0.1, near_minus_one.sum()))
        close = rng.random(n) < 0.5
        p = np.where(close, y + np.abs(y + 1) * rng.standard_normal(n) * np.exp(rng.uniform(-40, -1, n)),
                     np.exp(rng.uniform(-30, 30, n)) - rng.random(n) * 0.99)
        p[: n // 10] = y[: n // 10]
        return np.maximum(p, np.nextafter(-1.0, 0.0)), y
    y = rng.standard_normal(n) * np.exp(rng.uniform(-5, 5, n))
    if data == "percentage":
        y[: n // 8] = rng.standard_normal(n // 8) * np.exp(rng.uniform(-45, -30, n // 8))  # below eps
        y[n // 8 : n // 6] = 0.0
    p = y + rng.standard_normal(n) * np.exp(rng.uniform(-30, 5, n))
    p[n // 6 : n // 6 + n // 10] = y[n // 6 : n // 6 + n // 10]
    return p, y


def edge_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The places where a formula switches, overflows, underflows or has a kink."""
    big, tiny = 1.7976931348623157e308, 5e-324
    pairs = [(0.0, 0.0), (1.0, 1.0), (-2.5, -2.5), (tiny, 0.0), (0.0, tiny), (1e-300, -1e-300), (1e-160, 0.0),
             (1e300, 0.0), (-1e300, 1e5), (1e308, -1e308), (big, -big), (-big, big), (1e308, 0.0), (2.0**-30, 2.0**-31)]
    for threshold in (case.options.get("delta"), case.options.get("beta"), 0.75 if case.name == "log_cosh" else None):
        if threshold:
            for t in (threshold, np.nextafter(threshold, 0), np.nextafter(threshold, 2 * threshold)):
                pairs += [(t, 0.0), (-t, 0.0), (1.0 + t, 1.0), (3.0, 3.0 + t)]
    if case.data == "log":
        m = np.nextafter(-1.0, 0.0)
        pairs = [(0.0, 0.0), (m, 0.0), (0.0, m), (m, m), (big, m), (m, big), (big, 0.0), (1e10, 4e9), (1e-300, 0.0),
                 (tiny, 0.0), (-0.5, -0.5 + 2**-53), (1e300, 1e300 * (1 + 2**-52)), (3.0, 3.0 + 2**-51),
                 (-0.9, -0.3), (2.0**-40, -(2.0**-41)), (1e-20, 3e-20)]
    if case.data == "percentage":
        eps = 2.0**-52
        pairs += [(1.0, 0.0), (1.0, eps), (1.0, -eps), (1.0, eps / 2), (1.0, 2 * eps), (0.0, 1e-300), (1e308, -1e308),
                  (-1e308, 1e308), (big, 1.0), (1.0, big)]
    p, y = np.array(pairs).T
    return p.copy(), y.copy()


def both_data(case: Case, dtype: type, seed: int = 0, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    p_random, y_random = random_data(case.data, n, seed)
    p_edge, y_edge = edge_data(case)
    p = to_dtype(np.concatenate([p_edge, p_random]), dtype, case.data)
    y = to_dtype(np.concatenate([y_edge, y_random]), dtype, case.data)
    return p, y


def exact_values(function: Callable[[Mpf, Mpf], Mpf], p: np.ndarray, y: np.ndarray) -> list[Mpf]:
    return [function(MP.mpf(a), MP.mpf(b)) for a, b in zip(p.astype(np.float64).tolist(), y.astype(np.float64).tolist(), strict=True)]


def ulps(got: Any, exact: list[Mpf], dtype: type) -> list[float]:
    return [ulp_error(g, e, dtype) for g, e in zip(np.asarray(got, dtype=np.float64).reshape(-1).tolist(), exact, strict=True)]


def worst_at(errors: list[float], p: np.ndarray, y: np.ndarray) -> str:
    i = int(np.argmax(errors))
    return f"{errors[i]:.3g} ulp at input={p[i]!r}, target={y[i]!r}"


# --------------------------------------------------------------------------- exactness (mpmath)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", ELEMENTWISE, ids=lambda c: c.id)
def test_every_element_and_reduction_within_ulps_of_mpmath(case, dtype):
    p, y = both_data(case, dtype, seed=len(case.id))
    values, slopes = exact_values(case.exact, p, y), exact_values(case.exact_grad, p, y)

    value_bound, gradient_bound = element_bounds(case, dtype)
    errors = ulps(case(p, y, reduction="none"), values, dtype)
    assert record(case.name, dtype, "value", errors) <= value_bound, worst_at(errors, p, y)
    errors = ulps(case.gradient(p, y, reduction="none"), slopes, dtype)
    assert record(case.name, dtype, "gradient", errors) <= gradient_bound, worst_at(errors, p, y)

    # The reductions, of the random part (the edge cases' extremes would make the sums overflow).
    edges = edge_data(case)[0].size
    p, y, values, slopes = p[edges:], y[edges:], values[edges:], slopes[edges:]
    n = len(values)
    assert all(ulp_error(0.0, v, dtype) < math.inf for v in values)
    weights = to_dtype(np.random.default_rng(1).uniform(0.0, 3.0, n), dtype)
    w = [MP.mpf(float(v)) for v in weights]
    total = MP.fsum(values)
    weighted = MP.fsum(a * b for a, b in zip(w, values, strict=True))
    bounds = reduction_bounds(*element_bounds(case, np.float64), dtype)
    for reduction, sample_weight, exact, bound in [
        ("sum", None, total, bounds["sum"]),
        ("mean", None, total / n, bounds["mean"]),
        ("sum", weights, weighted, bounds["weighted sum"]),
        ("mean", weights, weighted / MP.fsum(w), bounds["weighted mean"]),
    ]:
        error = ulp_error(case(p, y, reduction=reduction, sample_weight=sample_weight), exact, dtype)
        assert record(case.name, dtype, reduction, [error]) <= bound, (reduction, error)
    errors = ulps(case.gradient(p, y, sample_weight=weights), [a * s / MP.fsum(w) for a, s in zip(w, slopes, strict=True)], dtype)
    assert record(case.name, dtype, "grad mean", errors) <= bounds["grad mean"], worst_at(errors, p, y)


# --------------------------------------------------------------------------- PyTorch parity


TORCH_CASES = [
    ("l1_loss", {}),
    ("huber_loss", {"delta": 1.0}),
    ("huber_loss", {"delta": 0.3}),
    ("huber_loss", {"delta": 2.5}),
    ("smooth_l1_loss", {"beta": 1.0}),
    ("smooth_l1_loss", {"beta": 0.25}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("smooth_l1_loss", {"beta": 3.0}),
]


def torch_edge_pairs(options: dict[str, float], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Ties, |d| exactly delta/beta and beside it, tiny and huge differences."""
    large = 1e300 if dtype == np.float64 else 1e37
    small = 1e-310 if dtype == np.float64 else 1e-42
    pairs = [(0.0, 0.0), (1.5, 1.5), (-3.0, -3.0), (small, 0.0), (0.0, small), (large, 0.0), (-large, 1.0), (2.0, -2.0)]
    for t in (options.get("delta", 1.0), options.get("beta", 1.0)):
        t = float(dtype(t))
        if t:
            below, above = float(np.nextafter(dtype(t), dtype(0))), float(np.nextafter(dtype(t), dtype(2 * t)))
            for u in (t, below, above):
                pairs += [(u, 0.0), (0.0, u), (1.0 + u, 1.0), (-u, 0.0)]
    p, y = np.array(pairs, dtype=np.float64).T
    return p.astype(dtype), y.astype(dtype)


def torch_inputs(kind: str, options: dict[str, float], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    if kind == "edge":
        return torch_edge_pairs(options, dtype)
    rng = np.random.default_rng(7)
    y = rng.standard_normal((40, 7)) * 2
    p = y + rng.standard_normal((40, 7)) * np.exp(rng.uniform(-4, 2, (40, 7)))
    p[0] = y[0]  # a row of ties
    return p.astype(dtype), y.astype(dtype)


def torch_reduction_rtol(k: float, n: int, reduction: str, dtype: type, *, weighted: bool = False) -> float:
    """Ours against PyTorch, relative, for a sum or mean of n terms >= 0 whose elements are
    within k u on each side.

    float64, ours: the element k, w l u, the sum of one block (n <= 2048) additions(n), the
    weights' sum as long and the mean's division u. PyTorch: the same elements, but its sums
    in an order of its own, unknowable here: any_order(n) each. float32, ours: the float64
    result (within the float64 bound, times 2**-29 float32 ulp) rounded once, 2**-24
    relative; PyTorch rounds every step in float32 (2**-24 each): its float64 count in
    float32 units.
    """
    assert n <= _blocks.BLOCK
    mean = reduction == "mean"
    ours = k + weighted + additions(n) * (1 + (weighted and mean)) + mean
    theirs = k + weighted + any_order(n) * (1 + (weighted and mean)) + mean
    if dtype == np.float64:
        return (ours + theirs) * U
    return 2.0**-24 * (1 + theirs) + ours * U


def torch_value_and_grad(
    name: str, p: np.ndarray, y: np.ndarray, reduction: str, options: dict[str, float], weight: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(p, requires_grad=True)
    extra = {} if weight is None else {"weight": torch.tensor(weight)}
    value = getattr(F, name)(x, torch.tensor(y), reduction=reduction, **options, **extra)
    value.sum().backward()
    assert x.grad is not None
    return value.detach().numpy(), x.grad.numpy()


def assert_within_ulps(actual: Any, expected: Any, ulps: float, dtype: type, what: str) -> None:
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, what
    same_infinity = np.isinf(actual) & (actual == expected)
    spacing = np.spacing(np.abs(expected).astype(dtype)).astype(np.float64)
    bad = ~same_infinity & ~(np.abs(actual - expected) <= ulps * spacing)
    assert not bad.any(), f"{what}: {actual[bad][:5]} vs {expected[bad][:5]}"


@pytest.mark.parametrize("kind", ["random", "edge"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(("name", "options"), TORCH_CASES, ids=lambda v: str(v) if isinstance(v, str) else "")
def test_matches_torch(name, options, dtype, reduction, kind):
    p, y = torch_inputs(kind, options, dtype)
    ours = getattr(losses, name)(p, y, reduction=reduction, **options)
    ours_grad = getattr(losses, f"{name}_grad")(p, y, reduction=reduction, **options)
    value, grad = torch_value_and_grad(name, p, y, reduction, options)
    assert ours.dtype == dtype and ours_grad.dtype == dtype and ours_grad.shape == p.shape
    if reduction == "none":
        # Elements: PyTorch's own operations in float64 (ours round the float64 result once
        # for float32 input, PyTorch rounds each float32 step).
        assert_within_ulps(ours, value, 1 if dtype == np.float64 else 2, dtype, "values")
    else:
        # Sums of terms >= 0, each within ELEMENT_BOUNDS on both sides (PyTorch's elements
        # are these operations: the same bits above): see torch_reduction_rtol.
        k = ELEMENT_BOUNDS[name][0]
        np.testing.assert_allclose(ours, value, rtol=torch_reduction_rtol(k, p.size, reduction, dtype))
    assert_within_ulps(ours_grad, grad, 1, dtype, "gradients")
    if dtype == np.float64 and reduction != "mean":
        # The same operations as PyTorch's: the same bits (smooth_l1's quadratic part aside,
        # whose two roundings come in another order).
        np.testing.assert_array_equal(ours_grad, grad)
        if reduction == "none" and (name != "smooth_l1_loss" or options["beta"] == 0.0):
            np.testing.assert_array_equal(ours, value)
    if dtype == np.float32:
        # float32 results are the float64 results rounded once: within an ulp of PyTorch's float64.
        value64, grad64 = torch_value_and_grad(name, p.astype(np.float64), y.astype(np.float64), reduction, options)
        assert_within_ulps(ours, value64, 1, np.float32, "float32 values against float64")
        assert_within_ulps(ours_grad, grad64, 1, np.float32, "float32 gradients against float64")


def test_torch_gradient_conventions_at_the_kinks():
    """sign(0) = 0 for l1 at a tie; the (continuous) gradient +-delta or +-1 at |d| == delta, beta."""
    d = np.array([0.0, 2.0, -2.0, 0.5])
    zero = np.zeros(4)
    _, torch_l1 = torch_value_and_grad("l1_loss", d, zero, "none", {})
    np.testing.assert_array_equal(torch_l1, [0.0, 1.0, -1.0, 1.0])
    np.testing.assert_array_equal(losses.l1_loss_grad(d, zero, reduction="none"), torch_l1)
    _, torch_huber = torch_value_and_grad("huber_loss", d, zero, "none", {"delta": 2.0})
    np.testing.assert_array_equal(torch_huber, [0.0, 2.0, -2.0, 0.5])
    np.testing.assert_array_equal(losses.huber_loss_grad(d, zero, reduction="none", delta=2.0), torch_huber)
    _, torch_smooth = torch_value_and_grad("smooth_l1_loss", d, zero, "none", {"beta": 2.0})
    np.testing.assert_array_equal(torch_smooth, [0.0, 1.0, -1.0, 0.25])
    np.testing.assert_array_equal(losses.smooth_l1_loss_grad(d, zero, reduction="none", beta=2.0), torch_smooth)
    # beta = 0 is the L1 loss, with the same gradient 0 at a tie.
    value, grad = torch_value_and_grad("smooth_l1_loss", d, zero, "none", {"beta": 0.0})
    np.testing.assert_array_equal(losses.smooth_l1_loss(d, zero, reduction="none", beta=0.0), value)
    np.testing.assert_array_equal(losses.smooth_l1_loss_grad(d, zero, reduction="none", beta=0.0), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(("name", "options"), TORCH_CASES[:4], ids=lambda v: str(v) if isinstance(v, str) else "")
def test_sample_weight_against_torch_weight(name, options, dtype):
    """PyTorch 2.13's ``weight``: l1's mean is sum(w l) / sum(w), like sample_weight; huber's
    divides by the element count instead (its sums and per-element values agree)."""
    p, y = torch_inputs("random", options, dtype)
    w = np.random.default_rng(3).uniform(0, 2, p.shape).astype(dtype)
    for reduction in ("none", "sum", "mean"):
        value, grad = torch_value_and_grad(name, p, y, reduction, options, weight=w)
        ours = getattr(losses, name)(p, y, reduction=reduction, sample_weight=w, **options)
        ours_grad = getattr(losses, f"{name}_grad")(p, y, reduction=reduction, sample_weight=w, **options)
        if reduction == "mean" and name == "huber_loss":
            value, grad = value * p.size / w.astype(np.float64).sum(), grad * p.size / w.astype(np.float64).sum()
        # Values: torch_reduction_rtol with weights (huber's mean, which PyTorch divides by
        # the count, is rescaled here in NumPy: the product u, the division u, w.sum()
        # additions(n) more); none: w l, k + u on each side. Gradients: w g (g within
        # ELEMENT_BOUNDS' gradient bound) k_g + u on each side, the mean's sum(w) (PyTorch:
        # any_order(n), ours additions(n)) and division u each, or huber's rescaling.
        k, k_grad = ELEMENT_BOUNDS[name]
        n = p.size
        unit = U if dtype == np.float64 else 2.0**-24
        rescaled = (reduction == "mean" and name == "huber_loss") * (2 + additions(n))
        if reduction == "none":
            rtol = 2 * (k + 1) * unit
        else:
            rtol = torch_reduction_rtol(k, n, reduction, dtype, weighted=True) + rescaled * unit
        grad_roundings = 2 * (k_grad + 1) + (reduction == "mean") * (additions(n) + any_order(n) + 2) + rescaled
        np.testing.assert_allclose(ours, value, rtol=rtol, atol=0)
        np.testing.assert_allclose(ours_grad, grad, rtol=grad_roundings * unit, atol=0)


@pytest.mark.parametrize(("name", "options"), TORCH_CASES, ids=lambda v: str(v) if isinstance(v, str) else "")
def test_empty_input_against_torch(name, options):
    empty = np.zeros((0, 3))
    for reduction in ("sum", "none"):
        value, grad = torch_value_and_grad(name, empty, empty, reduction, options)
        np.testing.assert_array_equal(getattr(losses, name)(empty, empty, reduction=reduction, **options), value)
        ours_grad = getattr(losses, f"{name}_grad")(empty, empty, reduction=reduction, **options)
        assert ours_grad.shape == grad.shape == (0, 3)
    # PyTorch's mean of nothing is NaN; ours refuses it.
    with pytest.raises(EmptyInputError, match=f"{name}: reduction='mean' needs at least one element"):
        getattr(losses, name)(empty, empty, **options)


@pytest.mark.parametrize(
    ("name", "option", "value"),
    [("huber_loss", "delta", 0.0), ("huber_loss", "delta", -1.0), ("smooth_l1_loss", "beta", -0.5)],
)
def test_options_torch_refuses_are_refused(name, option, value):
    x = np.ones(3)
    with pytest.raises(RuntimeError):
        getattr(F, name)(torch.tensor(x), torch.tensor(x), **{option: value})
    for func in (name, f"{name}_grad"):
        with pytest.raises(InvalidOptionError, match=f"^{func}: {option} must be .*; got {option}={value!r}"):
            getattr(losses, func)(x, x, **{option: value})


# --------------------------------------------------------------------------- scikit-learn parity


def sklearn_data(data: str, shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if data == "log":
        y = rng.exponential(3.0, shape) - 0.5
        p = y * np.exp(rng.normal(0, 0.5, shape))
        return np.maximum(p, -0.9), np.maximum(y, -0.9)
    y = rng.normal(0, 3, shape)
    if data == "percentage":
        y.flat[:3] = [0.0, 1e-20, -1e-17]  # below scikit-learn's epsilon
    return y + rng.normal(0, 1, shape), y


SKLEARN = [
    ("mean_squared_log_error", {}, "log", lambda t, p, **k: metrics.mean_squared_log_error(t, p, **k)),
    ("mean_absolute_percentage_error", {}, "percentage", lambda t, p, **k: metrics.mean_absolute_percentage_error(t, p, **k)),
    ("pinball_loss", {"quantile": 0.5}, "real", lambda t, p, **k: metrics.mean_pinball_loss(t, p, alpha=0.5, **k)),
    ("pinball_loss", {"quantile": 0.1}, "real", lambda t, p, **k: metrics.mean_pinball_loss(t, p, alpha=0.1, **k)),
    ("pinball_loss", {"quantile": 0.95}, "real", lambda t, p, **k: metrics.mean_pinball_loss(t, p, alpha=0.95, **k)),
    ("pinball_loss", {"quantile": 0.0}, "real", lambda t, p, **k: metrics.mean_pinball_loss(t, p, alpha=0.0, **k)),
    ("pinball_loss", {"quantile": 1.0}, "real", lambda t, p, **k: metrics.mean_pinball_loss(t, p, alpha=1.0, **k)),
    ("l1_loss", {}, "real", lambda t, p, **k: metrics.mean_absolute_error(t, p, **k)),
    ("root_mean_squared_error", {}, "real", lambda t, p, **k: metrics.root_mean_squared_error(t, p, **k)),
    ("root_mean_squared_log_error", {}, "log", lambda t, p, **k: metrics.root_mean_squared_log_error(t, p, **k)),
]


SQUARE_ULPS = 3
"""An element (p - y)^2 (ours and scikit-learn's): p - y rounded once (u), its square 2u + u."""

SKLEARN_ELEMENT_ULPS = {
    "mean_absolute_percentage_error": 2,  # |p - y| u, / max(|y|, eps) u
    "pinball_loss": 3,  # diff u; 1 - alpha u; (1 - alpha)(1 - sign) diff u; the other term 0: exact
    "l1_loss": 1,  # |p - y|: u
    "root_mean_squared_error": SQUARE_ULPS,
}
"""scikit-learn's elements, each from its formula's operations (relative, in u); its log
errors: see :func:`sklearn_rtol`."""


def sklearn_rtol(name: str, p: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, columns: int = 1) -> float:
    """Ours against scikit-learn's mean of the same terms (>= 0), relative.

    Ours: each element within ELEMENT_BOUNDS (the root losses' squares: SQUARE_ULPS, the
    log error's 7u), w l u, NumPy's pairwise sums of the n (<= 2048) terms and of the
    weights additions(n) each, the division u. scikit-learn (np.average, NumPy's sums too):
    its elements (SKLEARN_ELEMENT_ULPS), w l u, per column of n / columns rows the sums and
    the division, then the uniform average of the columns: columns - 1 adds of terms >= 0
    and the division by columns (exact for a power of 2). Its log errors
    (log1p(y) - log1p(p))^2: log1p 2u on each of a, b, the difference u: d within
    2u (|a| + |b|) + u |d|, d^2 within u (4 |d| (|a| + |b|) + 3 d^2), relative to the sum of
    w d^2: the data's cancellation factor. The root losses: both relative errors halve
    through the root, and each root rounds once more (u).
    """
    n = p.size
    weights = np.ones(n) if w is None else np.broadcast_to(np.reshape(w, (-1, 1) if columns > 1 else -1), p.shape).ravel()
    weighted = w is not None
    if "log" in name:
        a, b = np.log1p(y.ravel()), np.log1p(p.ravel())
        d = a - b
        theirs_element = 3 + 4 * np.sum(weights * np.abs(d) * (np.abs(a) + np.abs(b))) / np.sum(weights * d * d)
        ours_element = ELEMENT_BOUNDS["mean_squared_log_error"][0]
    else:
        theirs_element = SKLEARN_ELEMENT_ULPS[name]
        ours_element = SQUARE_ULPS if name == "root_mean_squared_error" else ELEMENT_BOUNDS[name][0]
    rows = n // columns
    ours = ours_element + weighted + additions(n) * (1 + weighted) + 1
    theirs = theirs_element + weighted + additions(rows) * (1 + weighted) + 1
    theirs += (columns - 1) + (columns & (columns - 1) != 0)
    bound = ours + theirs
    if name.startswith("root_"):
        bound = bound / 2 + 2
    return float(bound) * U


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("name", "options", "data", "reference"), SKLEARN, ids=lambda v: v if isinstance(v, str) else "")
def test_matches_scikit_learn(name, options, data, reference, weighted):
    p, y = sklearn_data(data, (257,), seed=len(name))
    w = np.random.default_rng(5).uniform(0, 4, p.shape) if weighted else None
    expected = reference(y, p, sample_weight=w)  # scikit-learn: (y_true, y_pred)
    rtol = sklearn_rtol(name, p, y, w)  # derived there
    np.testing.assert_allclose(getattr(losses, name)(p, y, sample_weight=w, **options), expected, rtol=rtol, atol=0)


@pytest.mark.parametrize(("name", "options", "data", "reference"), SKLEARN[:7], ids=lambda v: v if isinstance(v, str) else "")
def test_matches_scikit_learn_on_columns_with_row_weights(name, options, data, reference):
    """A 2-D input is averaged over every element: scikit-learn's "uniform_average" of its
    columns, with its per-row sample weights given here per element."""
    p, y = sklearn_data(data, (60, 4), seed=3)
    w = np.random.default_rng(6).uniform(0, 2, 60)
    expected = reference(y, p, sample_weight=w)
    ours = getattr(losses, name)(p, y, sample_weight=np.broadcast_to(w[:, None], p.shape), **options)
    np.testing.assert_allclose(ours, expected, rtol=sklearn_rtol(name, p, y, w, columns=4), atol=0)  # derived there


def test_root_losses_of_columns_are_the_root_of_the_overall_mean():
    """Documented difference: scikit-learn's RMSE of a 2-D input averages the columns' roots."""
    p, y = sklearn_data("log", (50, 3), seed=4)
    # sklearn_rtol: the overall root against the root of scikit-learn's average of 3 columns.
    np.testing.assert_allclose(
        losses.root_mean_squared_error(p, y), math.sqrt(metrics.mean_squared_error(y, p)),
        rtol=sklearn_rtol("root_mean_squared_error", p, y, columns=3),
    )
    np.testing.assert_allclose(
        losses.root_mean_squared_log_error(p, y), math.sqrt(metrics.mean_squared_log_error(y, p)),
        rtol=sklearn_rtol("root_mean_squared_log_error", p, y, columns=3),
    )
    assert abs(losses.root_mean_squared_error(p, y) - metrics.root_mean_squared_error(y, p)) > 1e-6


@pytest.mark.parametrize("name", ["mean_squared_log_error", "root_mean_squared_log_error"])
def test_log_domain_is_scikit_learns(name):
    """scikit-learn 1.9 refuses values <= -1 and accepts the rest (older versions refused
    every negative value, scikit-learn issue #29678); so does this function (Keras clips at 1e-7)."""
    sklearn_function = getattr(metrics, name)
    ok = np.array([-0.5, 0.0, 3.0])
    rtol = sklearn_rtol(name, ok, ok[::-1])  # derived there
    np.testing.assert_allclose(getattr(losses, name)(ok, ok[::-1]), sklearn_function(ok[::-1], ok), rtol=rtol)
    for bad in (-1.0, -2.0):
        values = np.array([0.5, bad, 1.0])
        with pytest.raises(ValueError, match="-1"):
            sklearn_function(values, np.ones(3))
        for func, argument, args in [(name, "input", (values, np.ones(3))), (f"{name}_grad", "target", (np.ones(3), values))]:
            with pytest.raises(
                OutOfRangeError,
                match=rf"^{func}: {argument} must hold finite real numbers greater than -1; got values from "
                rf"{bad:g} to 1, 1 of them outside \(first: {argument}\[1\] = {bad:g}\)\. .*log1p.*Keras clips",
            ):
                getattr(losses, func)(*args)


# --------------------------------------------------------------------------- root losses


@dataclass(frozen=True)
class RootCase:
    name: str
    difference: Callable[[Mpf, Mpf], Mpf]
    slope: Callable[[Mpf], Mpf]
    data: str


ROOTS = [
    RootCase("root_mean_squared_error", lambda p, y: p - y, lambda p: MP.one, "real"),
    RootCase("root_mean_squared_log_error", lambda p, y: MP.log1p(p) - MP.log1p(y), lambda p: 1 / (1 + p), "log"),
]


def exact_root(case: RootCase, p: np.ndarray, y: np.ndarray, w: np.ndarray | None, reduction: str) -> tuple[Mpf, list[Mpf]]:
    """The root and its gradient, exactly: sqrt(sum w d^2 / D), w d d' / (D root)."""
    P, Y = [MP.mpf(float(v)) for v in p.reshape(-1)], [MP.mpf(float(v)) for v in y.reshape(-1)]
    W = [MP.one] * len(P) if w is None else [MP.mpf(float(v)) for v in w.reshape(-1)]
    d = [case.difference(a, b) for a, b in zip(P, Y, strict=True)]
    denominator = MP.fsum(W) if reduction == "mean" else MP.one
    root = MP.sqrt(MP.fsum(wi * di**2 for wi, di in zip(W, d, strict=True)) / denominator)
    grad = [wi * di * case.slope(a) / (denominator * root) if root else MP.zero for wi, di, a in zip(W, d, P, strict=True)]
    return root, grad


def root_inputs(case: RootCase, kind: str, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    if kind == "random":
        p, y = random_data(case.data, 200, 2)
    elif kind == "huge" and case.data == "real":  # squares beyond the float64 range
        y = rng.standard_normal(50) * 1e200
        p = y + rng.standard_normal(50) * 1e250
        p[0], y[0] = 1.7976931348623157e308, -1.7976931348623157e308
        p[1], y[1] = 1e308, -1e308
    elif kind == "tiny":  # squares below the smallest float
        y = rng.standard_normal(50) if case.data == "real" else rng.uniform(0, 3, 50)
        p = y + rng.standard_normal(50) * (1e-200 if case.data == "real" else 1e-250) * np.abs(y)
        if case.data == "real":
            p[:5], y[:5] = rng.standard_normal(5) * 1e-310, 0.0
    else:  # "huge" for the log loss: 1 + b near 2**-53, a near the largest float
        y = rng.uniform(0, 1e300, 50)
        p = np.full(50, np.nextafter(-1.0, 0.0))
    return to_dtype(p, dtype, case.data), to_dtype(y, dtype, case.data)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", ["random", "huge", "tiny"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", ROOTS, ids=lambda c: c.name)
def test_root_losses_within_ulps_of_mpmath(case, dtype, kind, reduction):
    p, y = root_inputs(case, kind, dtype)
    if dtype == np.float32 and kind != "random" and case.data == "real":
        p, y = p.astype(np.float64), y.astype(np.float64)  # float32 has no such magnitudes
        dtype = np.float64
    # d: 1u (p - y) or 3u (log1p 2u and the sum of its parts u); d^2 2k + 1, w d^2 1 more,
    # their sum pairwise, and sum(w) for a weighted mean: the root (sqrt exact, rounded
    # once) halves that, plus u. The gradient: d u (RMSE) or d / (1 + p) 5u, w u, the
    # factor 1 / sqrt(sum * denominator) (the same half, plus u), the product u.
    k, slope = (1, 1) if case.data == "real" else (3, 5)
    roundings = pairwise_roundings(p.size)
    for w in (None, to_dtype(np.random.default_rng(2).uniform(0, 2, p.shape), dtype)):
        weighted = w is not None
        half = (2 * k + 1 + weighted + roundings + (roundings if weighted and reduction == "mean" else 0)) / 2
        value_bound, gradient_bound = (half + 1, slope + weighted + half + 2) if dtype == np.float64 else (FLOAT32_ULPS,) * 2
        exact, exact_grad = exact_root(case, p, y, w, reduction)
        value = getattr(losses, case.name)(p, y, reduction=reduction, sample_weight=w)
        grad = getattr(losses, f"{case.name}_grad")(p, y, reduction=reduction, sample_weight=w)
        assert value.dtype == dtype and grad.dtype == dtype
        error = ulp_error(value, exact, dtype)
        assert record(case.name, dtype, reduction, [error]) <= value_bound, (error, value, exact)
        errors = ulps(grad, exact_grad, dtype)
        assert record(case.name, dtype, "gradient", errors) <= gradient_bound, worst_at(errors, p, y)


def test_root_of_a_sum_with_weights_near_the_float64_limit():
    """sum(w d**2) overflows float64 here although its root (3.7e154) does not: the errors are scaled."""
    p, y, w = np.array([1.0, 2.0, 3.0]), np.zeros(3), np.full(3, 1e308)
    exact, exact_grad = exact_root(ROOTS[0], p, y, w, "sum")
    # d / 4 exact; w d^2 u, the sum of 3 2u: the root half of that and its rounding, 2.5u.
    assert ulp_error(losses.root_mean_squared_error(p, y, reduction="sum", sample_weight=w), exact, np.float64) <= 2.5
    grad = losses.root_mean_squared_error_grad(p, y, reduction="sum", sample_weight=w)
    # w d u, the factor 1 / sqrt(sum) 1.5u + u, the product u: 4.5u
    assert max(ulps(grad, exact_grad, np.float64)) <= 4.5


@pytest.mark.parametrize("case", ROOTS, ids=lambda c: c.name)
def test_root_losses_at_zero_are_zero_with_a_zero_gradient(case):
    """At the minimum the root is not differentiable; the gradient is 0 (a subgradient),
    where PyTorch's autograd of sqrt(mse_loss) gives NaN."""
    p = np.array([0.5, 2.0, 3.0])
    x = torch.tensor(p, requires_grad=True)
    torch.sqrt(F.mse_loss(x, torch.tensor(p))).backward()
    assert x.grad is not None and bool(torch.isnan(x.grad).all())
    w = np.array([1.0, 0.0, 2.0])
    y = p.copy()
    y[1] = 7.0  # an error with zero weight changes nothing
    for reduction in ("mean", "sum"):
        for weights, target in [(None, p), (w, y)]:
            assert getattr(losses, case.name)(p, target, reduction=reduction, sample_weight=weights) == 0.0
            grad = getattr(losses, f"{case.name}_grad")(p, target, reduction=reduction, sample_weight=weights)
            np.testing.assert_array_equal(grad, np.zeros(3))
    assert getattr(losses, case.name)(np.zeros(0), np.zeros(0), reduction="sum") == 0.0
    assert getattr(losses, f"{case.name}_grad")(np.zeros(0), np.zeros(0), reduction="sum").shape == (0,)


@pytest.mark.parametrize("func", [c.name for c in ROOTS] + [f"{c.name}_grad" for c in ROOTS])
def test_root_losses_refuse_reduction_none(func):
    with pytest.raises(InvalidOptionError, match=rf"^{func}: reduction must be 'mean' or 'sum'; got 'none'\. .*l1_loss"):
        getattr(losses, func)([1.0, 2.0], [1.0, 3.0], reduction="none")
    with pytest.raises(InvalidOptionError, match=rf"^{func}: reduction must be one of .* Did you mean reduction='mean'"):
        getattr(losses, func)([1.0, 2.0], [1.0, 3.0], reduction="average")


# --------------------------------------------------------------------------- finite differences

FD_CASES = [(c.name, c.options, c.data) for c in ELEMENTWISE] + [(c.name, {}, c.data) for c in ROOTS]


def smooth_points(name: str, options: dict[str, float], data: str, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Moderate points, away from every kink (ties, |d| = delta or beta, a target of 0)."""
    rng = np.random.default_rng(8)
    if data == "log":
        y = rng.uniform(-0.5, 5, n)
        return y + rng.choice([-1, 1], n) * rng.uniform(0.1, 0.4, n), y
    y = rng.choice([-1, 1], n) * rng.uniform(0.5, 3, n)
    d = rng.choice([-1, 1], n) * rng.uniform(0.05, 2.5, n)
    threshold = options.get("delta", options.get("beta"))
    if threshold:
        d = np.where(np.abs(np.abs(d) - threshold) < 0.05, d + 0.1, d)
    return y + d, y


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(("name", "options", "data"), FD_CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_gradients_match_central_differences(name, options, data, reduction):
    p, y = smooth_points(name, options, data)
    w = np.random.default_rng(9).uniform(0.5, 2, p.shape)
    f = getattr(losses, name)
    grad = getattr(losses, f"{name}_grad")(p, y, reduction=reduction, sample_weight=w, **options)
    for i in range(p.size):
        h = 1e-6 * max(1.0, abs(p[i]))
        up, down = p.copy(), p.copy()
        up[i] += h
        down[i] -= h
        slope = (f(up, y, reduction=reduction, sample_weight=w, **options)
                 - f(down, y, reduction=reduction, sample_weight=w, **options)) / (up[i] - down[i])
        np.testing.assert_allclose(grad[i], slope, rtol=2e-7, atol=1e-9, err_msg=f"element {i}")


# --------------------------------------------------------------------------- common properties

ALL = [(c.name, c.options, c.data) for c in ELEMENTWISE[::2]] + [(c.name, {}, c.data) for c in ROOTS]
ALL_IDS = [f"{name}{''.join(f'-{k}={v}' for k, v in o.items())}" for name, o, _ in ALL]


def functions(name: str, options: dict[str, float]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    f, g = getattr(losses, name), getattr(losses, f"{name}_grad")
    return (lambda *a, **k: f(*a, **options, **k)), (lambda *a, **k: g(*a, **options, **k))


def is_root(name: str) -> bool:
    return name.startswith("root_")


@pytest.mark.parametrize(("name", "options", "data"), ALL, ids=ALL_IDS)
def test_reductions_and_weights_are_consistent(name, options, data):
    f, g = functions(name, options)
    p, y = (a.reshape(20, 10) for a in random_data(data, 200, 3))
    n = p.size
    ones = np.ones_like(p)
    if is_root(name):
        square_mean, square_sum = f(p, y) ** 2, f(p, y, reduction="sum") ** 2
        np.testing.assert_allclose(square_mean, square_sum / n, rtol=4e-16)
    else:
        none = f(p, y, reduction="none")
        assert none.shape == p.shape
        np.testing.assert_allclose(f(p, y, reduction="sum"), math.fsum(none.reshape(-1)), rtol=2e-16)
        np.testing.assert_allclose(f(p, y), f(p, y, reduction="sum") / n, rtol=2e-16)
        np.testing.assert_array_equal(f(p, y, reduction="none", sample_weight=ones), none)
        np.testing.assert_array_equal(g(p, y, reduction="none", sample_weight=ones), g(p, y, reduction="none"))
        np.testing.assert_allclose(g(p, y, reduction="none") / n, g(p, y), rtol=2e-16, atol=0)
    for reduction in ("mean", "sum"):
        # Unit weights change nothing (to the bit), and a zero weight removes its element.
        assert f(p, y, reduction=reduction, sample_weight=ones) == f(p, y, reduction=reduction)
        np.testing.assert_array_equal(
            g(p, y, reduction=reduction, sample_weight=ones), g(p, y, reduction=reduction)
        )
        keep = np.ones_like(p)
        keep[::3] = 0.0
        np.testing.assert_allclose(
            f(p, y, reduction=reduction, sample_weight=keep), f(p[keep == 1], y[keep == 1], reduction=reduction),
            rtol=4e-16,
        )
        grad = g(p, y, reduction=reduction, sample_weight=keep)
        np.testing.assert_array_equal(grad[keep == 0], 0.0)
        np.testing.assert_allclose(grad[keep == 1], g(p[keep == 1], y[keep == 1], reduction=reduction), rtol=4e-16)


def library_rtols(name: str, n: int, reduction: str) -> tuple[float, float]:
    """Another array library's result against NumPy's, relative: (value, gradient).

    The same formula on both paths, each element within ELEMENT_BOUNDS (value k, gradient
    k_g; the root losses' squares SQUARE_ULPS or the log error's 7u, their slopes u or 5u);
    a sum of n terms >= 0 in NumPy's pairwise order, additions(n), and in the library's
    own, any_order(n); a mean's division u each; gradients of the mean g / n: u each. The
    root losses: the sum's error halves through the root, which rounds once (u), and the
    gradient's factor sqrt(1 / S) (rounded once) times the slope (u) adds 2u to it.
    """
    mean = reduction == "mean"
    if is_root(name):
        square, slope = (SQUARE_ULPS, 1) if name == "root_mean_squared_error" else ELEMENT_BOUNDS["mean_squared_log_error"]
        inside = 2 * square + additions(n) + any_order(n) + 2 * mean
        return (inside / 2 + 2) * U, (2 * slope + inside / 2 + 4) * U
    k, k_grad = ELEMENT_BOUNDS[name]
    value = 2 * k if reduction == "none" else 2 * k + additions(n) + any_order(n) + 2 * mean
    return value * U, (2 * k_grad + 2 * mean) * U


@pytest.mark.parametrize(("name", "options", "data"), ALL, ids=ALL_IDS)
def test_dtypes_and_array_libraries(name, options, data):
    f, g = functions(name, options)
    p, y = random_data(data, 30, 4)
    reductions = ("mean", "sum") if is_root(name) else ("mean", "sum", "none")
    for reduction in reductions:
        reference, reference_grad = f(p, y, reduction=reduction), g(p, y, reduction=reduction)
        assert reference.dtype == np.float64 and reference_grad.dtype == np.float64
        p32, y32 = to_dtype(p, np.float32, data), to_dtype(y, np.float32, data)
        assert f(p32, y32, reduction=reduction).dtype == np.float32
        assert g(p32, y32, reduction=reduction).dtype == np.float32
        assert f(p.tolist(), y.tolist(), reduction=reduction).dtype == np.float64  # lists: float64
        for library, convert, back in [
            ("torch", torch.tensor, lambda r: r.numpy()),
            ("array_api_strict", array_api_strict.asarray, np.asarray),
        ]:
            value, grad = f(convert(p), convert(y), reduction=reduction), g(convert(p), convert(y), reduction=reduction)
            assert type(value) is type(convert(p)) and type(grad) is type(convert(p)), library
            value_rtol, grad_rtol = library_rtols(name, p.size, reduction)  # derived there
            np.testing.assert_allclose(back(value), reference, rtol=value_rtol, atol=0, err_msg=library)
            np.testing.assert_allclose(back(grad), reference_grad, rtol=grad_rtol, atol=0, err_msg=library)


SIZE = 3 * _blocks.BLOCK + 1234  # > 40000 elements: the blocked, threaded path
SLICE = 1000  # below one block: the direct path


@pytest.mark.parametrize(("name", "options", "data"), ALL, ids=ALL_IDS)
def test_large_arrays_equal_small_slices(name, options, data):
    f, g = functions(name, options)
    p, y = random_data(data, SIZE, 5)
    w = np.random.default_rng(6).uniform(0, 2, SIZE)
    slices = [slice(i, i + SLICE) for i in range(0, SIZE, SLICE)]
    _blocks.set_num_threads(3)
    try:
        if is_root(name):
            square = "mse_loss" if name == "root_mean_squared_error" else "mean_squared_log_error"
            squares = np.concatenate([getattr(losses, square)(p[s], y[s], reduction="none") for s in slices])
            np.testing.assert_allclose(f(p, y, reduction="sum"), math.sqrt(math.fsum(squares)), rtol=4e-16)
            root = f(p, y)
            grad = getattr(losses, f"{square}_grad")(p, y) / (2 * root)
            np.testing.assert_allclose(g(p, y), grad, rtol=8e-16)
            _blocks.set_num_threads(1)
            assert f(p, y, sample_weight=w) == f(p, y, sample_weight=w)
            return
        for weights in (None, w):
            piece = [None if weights is None else weights[s] for s in slices]
            none = np.concatenate([f(p[s], y[s], reduction="none", sample_weight=ws) for s, ws in zip(slices, piece, strict=True)])
            np.testing.assert_array_equal(f(p, y, reduction="none", sample_weight=weights), none)
            grads = np.concatenate([g(p[s], y[s], reduction="sum", sample_weight=ws) for s, ws in zip(slices, piece, strict=True)])
            np.testing.assert_array_equal(g(p, y, reduction="sum", sample_weight=weights), grads)
            np.testing.assert_allclose(f(p, y, reduction="sum", sample_weight=weights), math.fsum(none), rtol=2e-16)
        threaded = f(p, y), g(p, y)
        _blocks.set_num_threads(1)
        assert f(p, y) == threaded[0]
        np.testing.assert_array_equal(g(p, y), threaded[1])
    finally:
        _blocks.set_num_threads(None)


# --------------------------------------------------------------------------- errors


def all_functions() -> Iterator[tuple[str, dict[str, float], str]]:
    for name, options, data in ALL:
        yield name, options, data
        yield f"{name}_grad", options, data


FUNCS = list(all_functions())
FUNC_IDS = [name for name, _, _ in FUNCS]


@pytest.mark.parametrize(("func", "options", "data"), FUNCS, ids=FUNC_IDS)
def test_errors_name_the_function_and_the_argument(func, options, data):
    function = getattr(losses, func)
    ok = np.array([0.5, 1.0, 2.0])
    with pytest.raises(ShapeMismatchError, match=rf"^{func}: input and target must have the same shape; "
                       r"got input.shape=\(3,\) and target.shape=\(3, 1\)"):
        function(ok, ok.reshape(3, 1), **options)
    reduction = "mean" if func.startswith("root_") else "none"
    for argument, bad_value in [("input", math.nan), ("target", math.nan), ("input", math.inf), ("target", -math.inf)]:
        bad = ok.copy()
        bad[1] = bad_value
        arguments = (bad, ok) if argument == "input" else (ok, bad)
        for how in (reduction, "mean"):
            with pytest.raises(NonFiniteError, match=rf"^{func}: {argument} must hold finite numbers; got 1 "
                               rf"(NaN|infinite) value \(first at {argument}\[1\]\)"):
                function(*arguments, reduction=how, **options)
    with pytest.raises(InvalidOptionError, match=rf"^{func}: reduction must be .*; got None\. .*the string 'none'"):
        function(ok, ok, reduction=None, **options)
    with pytest.raises(OutOfRangeError, match=rf"^{func}: sample_weight must hold finite non-negative weights"):
        function(ok, ok, sample_weight=[1.0, -1.0, 1.0], **options)


@pytest.mark.parametrize(
    ("name", "option", "bad", "expected"),
    [
        ("huber_loss", "delta", -1.0, "positive finite number"),
        ("huber_loss", "delta", 0.0, "positive finite number"),
        ("huber_loss", "delta", math.inf, "positive finite number"),
        ("huber_loss", "delta", math.nan, "positive finite number"),
        ("huber_loss", "delta", "1", "a real number"),
        ("huber_loss", "delta", True, "a real number"),
        ("huber_loss", "delta", None, "a real number"),
        ("smooth_l1_loss", "beta", -0.5, r"finite number >= 0 \(0 gives the L1 loss\)"),
        ("smooth_l1_loss", "beta", math.inf, r"finite number >= 0"),
        ("smooth_l1_loss", "beta", np.array([1.0]), "a real number"),
        ("pinball_loss", "quantile", 1.5, r"a number in \[0, 1\] \(scikit-learn's alpha\)"),
        ("pinball_loss", "quantile", -0.1, r"a number in \[0, 1\]"),
        ("pinball_loss", "quantile", math.nan, r"a number in \[0, 1\]"),
    ],
)
def test_bad_options(name, option, bad, expected):
    for func in (name, f"{name}_grad"):
        with pytest.raises(InvalidOptionError, match=rf"^{func}: {option} must be .*{expected}"):
            getattr(losses, func)([1.0, 2.0], [1.5, 2.0], **{option: bad})


def test_options_take_numpy_and_python_numbers():
    x, t = np.array([0.1, 3.0]), np.zeros(2)
    for delta in (1, 1.0, np.float32(1.0), np.int64(1)):
        np.testing.assert_array_equal(losses.huber_loss(x, t, delta=delta), losses.huber_loss(x, t))
    np.testing.assert_array_equal(losses.pinball_loss(x, t, quantile=1), losses.pinball_loss(x, t, quantile=1.0))


def test_one_sided_pinball_refuses_infinite_input():
    """With quantile 0, an input of -inf would cost 0: a finite loss proves nothing there,
    so those inputs are checked, never trusted."""
    with pytest.raises(NonFiniteError, match=r"^pinball_loss: input must hold finite numbers"):
        losses.pinball_loss([-math.inf, 1.0], [0.0, 1.0], quantile=0.0)
    with pytest.raises(NonFiniteError, match=r"^pinball_loss: input must hold finite numbers"):
        losses.pinball_loss([math.inf, 1.0], [0.0, 1.0], quantile=1.0)


# --------------------------------------------------------------------------- extremes, without warnings


def test_differences_beyond_the_float64_range():
    """p - y overflows for finite p, y (1e308 - -1e308); losses that scale the difference
    down are still finite, and each is the exact value rounded (pytest makes any warning fail)."""
    p, y = np.array([1e308, -1e308, 1.7976931348623157e308]), np.array([-1e308, 1e308, -1.0])
    P, Y = [MP.mpf(v) for v in p.tolist()], [MP.mpf(v) for v in y.tolist()]
    checks = [
        (losses.huber_loss(p, y, reduction="none", delta=0.5), [MP.mpf(0.5) * (abs(a - b) - MP.mpf(0.25)) for a, b in zip(P, Y, strict=True)]),
        (losses.pinball_loss(p, y, reduction="none", quantile=0.1),
         [MP.mpf(0.1) * max(b - a, 0) + (1 - MP.mpf(0.1)) * max(a - b, 0) for a, b in zip(P, Y, strict=True)]),
        (losses.mean_absolute_percentage_error(p, y, reduction="none"), [abs(a - b) / abs(b) for a, b in zip(P, Y, strict=True)]),
        (losses.smooth_l1_loss(p, y, reduction="none", beta=1.5e308), [abs(a - b) - MP.mpf(1.5e308) / 2 for a, b in zip(P, Y, strict=True)]),
        (losses.l1_loss(p, y, reduction="none"), [abs(a - b) for a, b in zip(P, Y, strict=True)]),  # inf: the exact value is too
        (losses.log_cosh(p, y, reduction="none"), [abs(a - b) - MP.log(2) for a, b in zip(P, Y, strict=True)]),
    ]
    names = ["huber_loss", "pinball_loss", "mean_absolute_percentage_error", "smooth_l1_loss", "l1_loss", "log_cosh"]
    for (got, exact), name in zip(checks, names, strict=True):  # each within its derived bound
        bound = ELEMENT_BOUNDS[name][0]
        assert max(ulp_error(g, e, np.float64) for g, e in zip(got.tolist(), exact, strict=True)) <= bound, (got, exact)
    # Reduced, the extended range keeps the mean of per-element values that overflow: |d|,
    # the sum and / 3 in long double (2**-64 each), then one rounding to float64: 1.5 ulp.
    assert ulp_error(losses.l1_loss(p, y), MP.fsum(abs(a - b) for a, b in zip(P, Y, strict=True)) / 3, np.float64) <= 1.5
    np.testing.assert_array_equal(losses.huber_loss_grad(p, y, reduction="none"), [1.0, -1.0, 1.0])
    np.testing.assert_array_equal(losses.log_cosh_grad(p, y, reduction="none"), [1.0, -1.0, 1.0])


def test_log_cosh_has_full_relative_accuracy_for_small_errors():
    d = np.array([1e-9, 1e-150, 3e-200, 2.0**-30, 0.1, 0.7499999999999999, 0.75])
    exact = [log_cosh_exact(MP.mpf(v)) for v in d.tolist()]
    got = losses.log_cosh(d, np.zeros_like(d), reduction="none")
    assert max(ulps(got, exact, np.float64)) <= ELEMENT_BOUNDS["log_cosh"][0]  # 5.5 (0.75 included)
    naive = np.log(np.cosh(d))
    assert naive[0] == 0.0 and got[0] == 5e-19  # where log(cosh(d)) in floating point has lost everything


def test_log_cosh_table_is_the_documented_interpolant():
    """_LOG_COSH_P is P(s) = (log(cosh(sqrt s)) / s - 1/2) / s on [0, 9/16]: with its
    coefficients rounded to float64, g(s) = 1/2 + s P(s) is within 2**-56 of the exact one."""
    switch = MP.mpf(_logarithmic._LOG_COSH_SWITCH)

    def exact(s: Mpf) -> Mpf:
        if s < MP.ldexp(1, -40):
            return -MP.one / 12 + s / 45 - 17 * s**2 / 2520
        return (MP.log(MP.cosh(MP.sqrt(s))) / s - MP.one / 2) / s

    coefficients = [MP.mpf(c) for c in _logarithmic._LOG_COSH_P][::-1]
    worst = max(
        abs(s * (MP.polyval(coefficients, s) - exact(s))) / (MP.one / 2 + s * exact(s))
        for s in MP.linspace(0, switch**2, 300)
    )
    assert worst < MP.ldexp(1, -56), worst
    high, low = _logarithmic._LN2
    assert MP.mpf(high) + MP.mpf(low) - MP.log(2) < MP.ldexp(1, -105)


def _cancelling_logit_cases() -> Iterator[tuple[tuple[np.ndarray, ...], dict[str, Any]]]:
    """The adversarial cancellation cases, and logits from ``logit(y)`` to ``2**49`` ulp away
    from it (rounded), with and without ``pos_weight``: across the boundary ``2**-44``."""
    import adversarial_regression

    yield from adversarial_regression.ABSOLUTE["binary_cross_entropy_with_logits"]
    rng = np.random.default_rng(44)
    n = 4
    labels = np.concatenate([
        rng.uniform(0.001, 0.999, n), 10.0 ** rng.uniform(-300, -2, n),
        1.0 - 10.0 ** rng.uniform(-16, -2, n), 0.5 + rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(-12, -2, n),
    ])
    steps = np.array([0.0, 1.0, -1.0, 3.0, -3.0] + [float(s * 2**j) for j in range(4, 50, 3) for s in (1, -1)])
    for weight in (None, rng.uniform(0.1, 10.0, labels.size)):
        w = np.ones_like(labels) if weight is None else weight
        s = np.minimum(w * labels / (1.0 - labels + w * labels), 1.0 - 2.0**-53)
        centre = np.log(s) - np.log1p(-s)
        x = (centre[None, :] + steps[:, None] * np.spacing(np.abs(centre))[None, :]).ravel()
        y = np.broadcast_to(labels, (steps.size, labels.size)).ravel()
        yield (x, y), ({} if weight is None else {"pos_weight": np.broadcast_to(w, (steps.size, labels.size)).ravel()})


def test_logits_gradient_is_within_its_absolute_bound_where_its_terms_cancel():
    """binary_cross_entropy_with_logits_grad's Notes: with ``M = max(sigmoid(x), y)`` (with
    ``pos_weight`` p, ``(1 - y) sigmoid(x) + p y sigmoid(-x)``), within 4 ulp of the exact
    gradient ``g`` where ``|g| >= 2**-44 M``, within ``2**-97 M + 2**-1071`` of it below: at
    ``x = logit(y)`` no relative bound holds. Exact values from mpmath at 400 bits."""
    worst_relative, worst_absolute = 0.0, 0.0
    with mpmath.workprec(400):
        two = mpmath.mpf(2)
        for (x, y), options in _cancelling_logit_cases():
            got = np.asarray(losses.binary_cross_entropy_with_logits_grad(x, y, reduction="none", **options))
            x_all, y_all = np.broadcast_arrays(x, y)
            w_all = np.broadcast_to(options.get("pos_weight", 1.0), x_all.shape)
            for g, xi, yi, wi in zip(got.ravel(), x_all.ravel(), y_all.ravel(), w_all.ravel(), strict=True):
                xm, ym, wm = mpmath.mpf(float(xi)), mpmath.mpf(float(yi)), mpmath.mpf(float(wi))
                up, down = 1 / (1 + mpmath.exp(-xm)), 1 / (1 + mpmath.exp(xm))
                negative, positive = (1 - ym) * up, wm * ym * down
                exact = negative - positive
                scale = max(up, ym) if "pos_weight" not in options else negative + positive
                error = abs(mpmath.mpf(float(g)) - exact)
                if abs(exact) >= two**-44 * scale:
                    spacing = two ** (mpmath.floor(mpmath.log(abs(exact), 2)) - 52) if exact else two**-1074
                    relative = float(error / max(spacing, two**-1074))
                    worst_relative = max(worst_relative, relative)
                    assert relative <= 4.0, (float(xi), float(yi), float(wi), float(g), relative)
                else:
                    absolute = float(error / (two**-100 * scale + two**-1074))
                    worst_absolute = max(worst_absolute, absolute)
                    assert error <= two**-97 * scale + two**-1071, (float(xi), float(yi), float(wi), float(g), absolute)
    print(f"logits gradient: {worst_relative:.2f} ulp above 2**-44 M, {worst_absolute:.2f} (2**-100 M + 2**-1074) below")
