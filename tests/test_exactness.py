"""Exactness: every loss, gradient and activation against a high-precision mpmath reference.

The contract measured here: each element (``reduction="none"``), mean and sum is within
a bound in units in the last place (ulp) of the exact value, derived at each assertion
for any libm whose exp, log and log1p are within 1 ulp (see "Error model" below); float32
results are within 1 ulp.

"Exact" means: the float inputs *as given* (every float is a rational number, converted to
mpmath without any rounding), pushed through the mathematical formula in 200-bit
arithmetic (120 bits for the bulk arrays of the mean/sum tests). The distance between the
library's result and that value is measured in ulps of the output dtype at the exact value
(see :func:`ulp_error`), so float32 results are compared with the exact value rounded
correctly to float32, not with a float64 stand-in.

Running ``pytest tests/test_exactness.py -q -s`` prints, at the end, the worst error
measured for each function, dtype and quantity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import mpmath
import numpy as np
import pytest

from error_model import pairwise_roundings
from neural_network import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    mse_loss,
    mse_loss_grad,
    sigmoid,
    sigmoid_grad,
)

MP = mpmath.MPContext()
"""A private mpmath context, so that the precision set here never leaks into other tests."""
MP.prec = 200

BULK_PRECISION = 120
"""Bits for the references of the large random arrays (fast enough, still ~10**-36 relative)."""

# Error model: u = 2**-53; +, -, *, /, sqrt and conversions round with relative error <= u;
# libm's exp, log, log1p within 1 ulp: <= 2u; _numerics.log1p (BCE's log(1 - p)): 3 ulp,
# <= 6u. A relative error k u is within k ulp. float32 results are float64 results
# (k u, k < 100) rounded once: within 0.5 + 100 * 2**-29 < 1 ulp.
FLOAT32_TOLERANCE = 1.0


def tolerance(dtype: type, float64_ulps: float) -> float:
    """The bound of a float64 result derived at the assertion, or of the float32 one."""
    return float64_ulps if dtype is np.float64 else FLOAT32_TOLERANCE


# Element bounds in float64, as relative errors in units of u (= ulp bounds):
SIGMOID = 5.0
"""e = exp(-|x|) 2u, x1/2 into 1/(1 + e), x1 into e/(1 + e); 1/(1 + e) rounds twice
(r = 1/s, r - r*r*c), the small side e * big once more: 2u + 2u + u."""
LOGISTIC_DENSITY = 5.0
"""exp 2u (condition (1 - e)/(1 + e) <= 1), then s*s, the division and the correction: 3u."""
MSE = 3.0
"""p - y: u, doubled by the square; the product: u."""
BCE = 9.0
"""Soft labels: y*log(p): 2u + u; (1 - y) u, log1p 6u, the product u: 8u; the sum of the
two terms (both >= 0) u. Hard labels alone: log 2u (y = 1), log1p 6u (y = 0)."""
BCE_HARD = 6.0
LOGISTIC_LOSS = 8.0
"""tail = log1p(exp(-|x|)): exp 2u (condition <= 1) + log1p 2u; + max(+-x, 0) (>= 0): 5u;
times y, pos_weight or the rounded 1 - y: 7u; the sum of the two terms u."""
LOGISTIC_LOSS_HARD = 5.0
"""One label 0 or 1: max(x, 0) - y x is exact, + tail: 5u."""
WEIGHT = 1.0
"""A sample weight multiplies once."""
OVERFLOW = 1.5
"""Redone in the extended range (a few roundings of 2**-64) and rounded once to float64."""




def sum_roundings(n: int) -> int:
    """The most roundings a term meets in ``_reduction.total`` of n terms: per block of 2048,
    the first term starts the reduction and the rest are summed pairwise; math.fsum of the
    partials rounds once more. Terms of one sign: relative error <= that many u."""
    blocks = {min(n, 2048), n % 2048 if n > 2048 else 0}
    worst = max(1 + pairwise_roundings(size - 1) if size > 1 else 0 for size in blocks)
    return worst + (1 if n > 2048 else 0)


def reduction_bound(element: float, n: int, reduction: str, weighted: bool) -> float:
    """Non-negative elements within ``element`` u: sum(w l) and sum(w l) / sum(w), in u.

    w * l: u; the sum: sum_roundings(n); the mean divides once more, by sum(w) (its own
    sum_roundings(n)) or by n (exact).
    """
    bound = element + (WEIGHT if weighted else 0.0) + sum_roundings(n)
    if reduction == "mean":
        bound += 1 + (sum_roundings(n) if weighted else 0)
    return bound

DTYPES = [np.float64, np.float32]

Mpf = mpmath.mpf  # type of the reference values (for annotations only)

# --------------------------------------------------------------------------- the ulp ruler


@dataclass(frozen=True)
class Format:
    """The parameters of an IEEE binary format that fix its spacing and its range."""

    precision: int  # significand bits, the hidden one included
    emin: int  # exponent of the smallest normal number
    emax: int  # exponent of the largest finite number


FORMATS = {np.float64: Format(53, -1022, 1023), np.float32: Format(24, -126, 127)}


def spacing_at(exact: Mpf, dtype: type) -> Mpf:
    """The distance between consecutive floats of ``dtype`` around the real number ``exact``.

    For ``2**e <= |exact| < 2**(e + 1)`` it is ``2**(e - precision + 1)``; below the smallest
    normal number (0 and subnormals included) it is the smallest subnormal, the spacing of
    the whole subnormal range.
    """
    fmt = FORMATS[dtype]
    exponent = fmt.emin
    if exact != 0:
        _, e = MP.frexp(exact)  # exact = m * 2**e with 1/2 <= |m| < 1
        exponent = max(e - 1, fmt.emin)
    return MP.ldexp(1, exponent - fmt.precision + 1)


def overflow_threshold(dtype: type) -> Mpf:
    """The smallest real number that rounds to infinity in ``dtype`` (round to nearest even)."""
    fmt = FORMATS[dtype]
    return MP.ldexp(2 - MP.ldexp(1, -fmt.precision), fmt.emax)


def rounds_to_infinity(exact: Mpf, dtype: type) -> bool:
    """True for a finite real number too large for ``dtype``: its correctly rounded float is inf."""
    return bool(MP.isfinite(exact)) and abs(exact) >= overflow_threshold(dtype)


def ulp_error(got: float, exact: Mpf, dtype: type) -> float:
    """How far ``got`` is from the real number ``exact``, in ulps of ``dtype`` at ``exact``.

    A correctly rounded result scores at most 0.5. Where the exact value is infinite, or so
    large that it rounds to infinity in ``dtype``, the right answer is that infinity: it
    scores 0 and anything else scores infinity. A computed infinity where the exact value
    is finite counts as the first power of two past the largest float (one ulp beyond it).
    """
    got = float(got)
    if math.isnan(got):
        return math.inf
    if MP.isinf(exact) or abs(exact) >= overflow_threshold(dtype):
        return 0.0 if got == (math.inf if exact > 0 else -math.inf) else math.inf
    value = MP.mpf(got)
    if math.isinf(got):
        value = MP.ldexp(1 if got > 0 else -1, FORMATS[dtype].emax + 1)
    return float(abs(value - exact) / spacing_at(exact, dtype))


def test_ulp_error_is_a_correct_ruler():
    """The ruler itself, on values whose distances are known by construction."""
    one = MP.mpf(1)
    assert ulp_error(1.0, one, np.float64) == 0.0
    assert ulp_error(1.0 + 2.0**-52, one, np.float64) == 1.0
    assert ulp_error(1.0, one + MP.ldexp(1, -53), np.float64) == 0.5  # a tie: half an ulp
    assert ulp_error(1.0, one + MP.ldexp(1, -24), np.float32) == 0.5
    assert ulp_error(3.0, MP.mpf(2), np.float32) == 2.0**22  # spacing at 2 is 2**-22
    # Zero and subnormals are measured with the smallest subnormal spacing.
    assert ulp_error(5e-324, MP.zero, np.float64) == 1.0
    assert ulp_error(0.0, MP.mpf(2) ** -1075, np.float64) == 0.5
    assert ulp_error(float(np.float32(2.0**-149)), MP.zero, np.float32) == 1.0
    assert ulp_error(2.0**-1000, MP.ldexp(1, -1000) * (1 + MP.ldexp(1, -50)), np.float64) == 4.0
    # Overflow: infinity is right once the exact value rounds to it, and only then.
    assert ulp_error(math.inf, MP.mpf(10) ** 400, np.float64) == 0.0
    assert ulp_error(1.7976931348623157e308, MP.mpf(10) ** 400, np.float64) == math.inf
    assert ulp_error(math.inf, MP.mpf(10) ** 39, np.float32) == 0.0
    assert ulp_error(math.inf, MP.mpf(10) ** 38, np.float32) > 1e6
    assert ulp_error(-math.inf, -MP.inf, np.float64) == 0.0
    assert ulp_error(math.inf, -MP.inf, np.float64) == math.inf
    assert ulp_error(math.nan, MP.one, np.float64) == math.inf


# --------------------------------------------------------------------------- exact references
#
# Each takes Python floats (or numpy scalars), converts them exactly to mpmath and evaluates
# the textbook formula at the context's precision.


def exact_sigmoid(x: float) -> Mpf:
    """sigma(x) = 1 / (1 + e**-x)."""
    return 1 / (1 + MP.exp(-MP.mpf(x)))


def exact_sigmoid_derivative(x: float) -> Mpf:
    """sigma'(x) = sigma(x) * sigma(-x) (= e**-x / (1 + e**-x)**2)."""
    return exact_sigmoid(x) * exact_sigmoid(-x)


def exact_softplus(x: Mpf) -> Mpf:
    """log(1 + e**x), keeping every bit of e**x in the sum 1 + e**x, however small it is."""
    e = MP.exp(x)
    if MP.mag(e) < -2 * MP.prec:
        return e  # log(1 + e) = e (1 - e/2 + ...): e alone is exact to twice the precision
    return MP.log(MP.fadd(1, e, prec=4 * MP.prec))  # 1 + e rounded at 4x the precision: exact


def exact_squared_error(p: float, y: float) -> Mpf:
    difference = MP.mpf(p) - MP.mpf(y)
    return difference * difference


def exact_squared_error_derivative(p: float, y: float) -> Mpf:
    return 2 * (MP.mpf(p) - MP.mpf(y))


def exact_bce(a: float, y: float) -> Mpf:
    """-(y log a + (1 - y) log(1 - a)); a term whose factor is 0 is 0 (its limit), even at log 0."""
    loss = MP.zero
    if y != 0:
        loss -= MP.mpf(y) * MP.log(a)  # log(0) = -inf: the exact loss of a=0, y>0 is +inf
    if y != 1:
        loss -= (1 - MP.mpf(y)) * MP.log(MP.fsub(1, a, exact=True))  # 1 - a formed exactly
    return loss


def exact_bce_derivative_hard(a: float, y: float) -> Mpf:
    """d/da of the BCE for a hard label: -1/a for y = 1 and 1/(1 - a) for y = 0."""
    a = MP.mpf(a)
    if y == 1:
        return -1 / a if a != 0 else -MP.inf
    assert y == 0, "only hard labels have this closed form"
    return 1 / (1 - a) if a != 1 else MP.inf


def exact_logistic_loss(x: float, y: float, pos_weight: float = 1.0) -> Mpf:
    """pos_weight * y * log(1 + e**-x) + (1 - y) * log(1 + e**x), a zero factor giving 0."""
    x = MP.mpf(x)
    loss = MP.zero
    if y != 0:
        loss += MP.mpf(pos_weight) * MP.mpf(y) * exact_softplus(-x)
    if y != 1:
        loss += (1 - MP.mpf(y)) * exact_softplus(x)
    return loss


def exact_logistic_derivative(x: float, y: float, pos_weight: float = 1.0) -> Mpf:
    """(1 - y) sigma(x) - pos_weight * y * sigma(-x); for y = 1 that is pos_weight * (sigma(x) - 1)."""
    x, y = MP.mpf(x), MP.mpf(y)
    return (1 - y) * exact_sigmoid(x) - MP.mpf(pos_weight) * y * exact_sigmoid(-x)


def weighted(values: Sequence[Mpf], weights: Sequence[float] | None) -> list[Mpf]:
    """w * l element-wise, with 0 * inf = 0: a zero weight removes its element (the API's rule)."""
    if weights is None:
        return list(values)
    return [MP.zero if w == 0 else MP.mpf(w) * v for v, w in zip(values, weights, strict=True)]


# --------------------------------------------------------------------------- measuring and reporting

WORST: dict[tuple[str, str, str], float] = {}
"""Worst ulp error seen for each (function, dtype, quantity); printed at the end of the module."""


@pytest.fixture(scope="module", autouse=True)
def report_worst_errors():
    """After the last test of this module, print the worst error of each kind (visible with -s)."""
    yield
    if not WORST:
        return
    rows = sorted(WORST.items())
    width = max(len(function) for (function, _, _), _ in rows)
    q_width = max(len(quantity) for (_, _, quantity), _ in rows)
    lines = ["", "Worst error measured against mpmath (ulp of the output dtype):"]
    lines.append(f"  {'function':<{width}}  {'dtype':<7}  {'quantity':<{q_width}}  worst ulp")
    for (function, dtype, quantity), worst in rows:
        lines.append(f"  {function:<{width}}  {dtype:<7}  {quantity:<{q_width}}  {worst:.3g}")
    print("\n".join(lines))


def check_ulps(
    function: str,
    quantity: str,
    got: object,
    exact: Sequence[Mpf],
    dtype: type,
    *,
    tolerance: float,
    inputs: dict[str, np.ndarray] | None = None,
) -> None:
    """Assert that every value of ``got`` is within ``tolerance`` ulp of its exact value.

    The worst error is recorded for the final table; on failure the message lists the
    worst offenders with their inputs.
    """
    __tracebackhide__ = True  # a failure points at the calling test, not at this helper
    got_array = np.asarray(got)
    assert got_array.dtype == dtype, f"{function}: expected a {np.dtype(dtype)} result, got {got_array.dtype}"
    values = got_array.ravel().tolist()
    assert len(values) == len(exact)
    errors = [ulp_error(g, e, dtype) for g, e in zip(values, exact, strict=True)]
    worst = max(errors)
    key = (function, np.dtype(dtype).name, quantity)
    WORST[key] = max(WORST.get(key, 0.0), worst)
    if worst <= tolerance:
        return
    bad = sorted(range(len(errors)), key=lambda i: -errors[i])[:8]
    lines = [f"{function} ({quantity}, {np.dtype(dtype).name}): worst error {worst:.3g} ulp > {tolerance}"]
    for i in bad:
        if errors[i] <= tolerance:
            break
        where = ", ".join(f"{name}={np.ravel(a)[i]!r}" for name, a in (inputs or {}).items())
        lines.append(
            f"  [{i}] {where}: got {values[i]!r}, exact {MP.nstr(exact[i], 20)} ({errors[i]:.3g} ulp)"
        )
    pytest.fail("\n".join(lines))


# --------------------------------------------------------------------------- the stress set

F64_MIN_SUBNORMAL = 5e-324
F32_MIN_SUBNORMAL = float(np.finfo(np.float32).smallest_subnormal)


def _signed(*magnitudes: float) -> list[float]:
    return [s * m for m in magnitudes for s in (1.0, -1.0)]


LOGITS = [
    0.0,
    *_signed(1e-300, 1e-40, 1e-20, 1e-8, 0.5, 1.0, 2.0, 3.75, 10.0, 20.0, 36.7, 37.0, 40.0),
    *_signed(88.0, 100.0, 700.0, 745.0, 1000.0, 1e4, 1e30),
]
"""Logits: 0 and tiny ones (sigmoid ~ 1/2), the range where sigmoid(x) rounds to 1 in float64
(x > ~37) and float32 (x > ~17), where exp underflows (x < -745, float32 x < -104), and huge."""

PROBABILITIES = [
    0.0,
    F64_MIN_SUBNORMAL,
    1e-310,
    1e-300,
    1e-200,
    F32_MIN_SUBNORMAL,
    1e-40,
    1e-30,
    1e-16,
    1e-8,
    0.1,
    0.25,
    0.5,
    0.7,
    0.9,
    1 - 1e-8,
    1 - 2.0**-24,
    1 - 2.0**-52,
    1 - 2.0**-53,
    1.0,
]
"""Probabilities from exactly 0 through subnormals up to the largest float below 1, and 1."""

HARD_LABELS = [0.0, 1.0]
LABELS = [*HARD_LABELS, 0.3, 0.5, 1e-9, 1 - 1e-9, 0.999]

MSE_VALUES = [
    0.0,
    *_signed(1e-300, 1e-200, 1e-160, 1e-22, 0.1, 1.0, 2.5, 1e16, 1e19, 1e150, 1e154, 1e200),
    0.3,
    3.0,
    2e19,
    1.3e154,
    1.4e154,
]
"""Predictions and targets for the squared error: every ordered pair of these is tested. Squares
of the large ones overflow (1.4e154**2 > max float64; 2e19**2 > max float32); squares of the
small ones are subnormal or underflow."""

NEARLY_EQUAL = [1.0, 0.1, 3.0, 1e16, 123456.789, 1e-300, 1e-40, 1e19, 1e200]
"""Each paired with its neighbours: the difference cancels completely, only the last bit is left."""

POS_WEIGHTS = [1.0, 0.0, 0.25, 3.0, 1e-3, 100.0]
SAMPLE_WEIGHTS = [1.0, 0.5, 3.0, 0.0, 1e-3, 7.25]


def representable(values: Sequence[float], dtype: type) -> np.ndarray:
    """``values`` in ``dtype``, dropping those too large for it (1e150 is no float32)."""
    finite = [v for v in values if abs(v) <= float(np.finfo(dtype).max)]
    return np.asarray(finite, dtype=dtype)


def pairs(first: Sequence[float], second: Sequence[float], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b) of ``first`` x ``second`` in ``dtype``, without duplicates."""
    a, b = representable(first, dtype), representable(second, dtype)
    unique = dict.fromkeys((x, y) for x in a.tolist() for y in b.tolist())
    columns = np.asarray(list(unique), dtype=dtype)
    return columns[:, 0].copy(), columns[:, 1].copy()


def mse_pairs(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    p, y = pairs(MSE_VALUES, MSE_VALUES, dtype)
    near = representable(NEARLY_EQUAL, dtype)
    up, down = np.nextafter(near, dtype(np.inf)), np.nextafter(near, dtype(-np.inf))
    extra_p = np.concatenate([near, near, up, np.asarray([0.1 + 0.2], dtype=dtype)])
    extra_y = np.concatenate([up, down, down, np.asarray([0.3], dtype=dtype)])
    return np.concatenate([p, extra_p]), np.concatenate([y, extra_y])


def cycled(values: Sequence[float], n: int, dtype: type) -> np.ndarray:
    """``values`` repeated to length ``n``: a weight for every element of the stress set."""
    return np.resize(np.asarray(values, dtype=dtype), n)


def exact_values(function: Callable[..., Mpf], *columns: np.ndarray) -> list[Mpf]:
    return [function(*args) for args in zip(*(c.tolist() for c in columns), strict=True)]


# --------------------------------------------------------------------------- per element: activations


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_within_its_bound(dtype):
    """sigmoid(x) for every stress logit and +-inf: 0 and 1 exactly where the exact value rounds there."""
    x = np.concatenate([representable(LOGITS, dtype), np.asarray([np.inf, -np.inf], dtype=dtype)])
    exact = [MP.one if v == math.inf else MP.zero if v == -math.inf else exact_sigmoid(v) for v in x.tolist()]
    bound = tolerance(dtype, SIGMOID)  # see SIGMOID; 0 and 1 at +-inf are exact
    check_ulps("sigmoid", "value", sigmoid(x), exact, dtype, tolerance=bound, inputs={"x": x})


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_grad_is_within_its_bound(dtype):
    """sigma'(x) keeps its relative accuracy in both tails, where sigma(x) * (1 - sigma(x)) would give 0."""
    x = representable(LOGITS, dtype)
    exact = exact_values(exact_sigmoid_derivative, x)
    # see LOGISTIC_DENSITY; below -512, exp_scaled's shift is exact and its correction first order
    bound = tolerance(dtype, LOGISTIC_DENSITY)
    check_ulps("sigmoid_grad", "value", sigmoid_grad(x), exact, dtype, tolerance=bound, inputs={"x": x})


# --------------------------------------------------------------------------- per element: losses


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_weights", [False, True], ids=["unweighted", "sample_weight"])
def test_mse_loss_elements_are_within_their_bound(dtype, use_weights):
    """(p - y)**2 for huge, tiny and nearly equal pairs; inf where the exact square overflows."""
    p, y = mse_pairs(dtype)
    losses = exact_values(exact_squared_error, p, y)
    if use_weights:
        # A square beyond the float range (1.4e154**2) times a weight below 1 can be finite
        # again: test_finite_results_whose_intermediates_overflow has those cases.
        keep = np.asarray([not rounds_to_infinity(v, dtype) for v in losses])
        p, y, losses = p[keep], y[keep], [v for v, k in zip(losses, keep, strict=True) if k]
    w = cycled(SAMPLE_WEIGHTS, p.size, dtype) if use_weights else None
    exact = weighted(losses, None if w is None else w.tolist())
    got = mse_loss(p, y, reduction="none", sample_weight=w)
    quantity = "none, sample_weight" if use_weights else "none"
    bound = tolerance(dtype, MSE + (WEIGHT if use_weights else 0.0))  # see MSE and WEIGHT
    check_ulps("mse_loss", quantity, got, exact, dtype, tolerance=bound, inputs={"p": p, "y": y})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_weights", [False, True], ids=["unweighted", "sample_weight"])
def test_binary_cross_entropy_elements_are_within_their_bound(dtype, use_weights):
    """BCE of every stress probability with hard and soft labels, without any clipping.

    A = y in {0, 1} gives exactly 0; A = 0 with y > 0 (or A = 1 with y < 1) gives +inf, the
    exact value; everything else is finite and must be within its bound.
    """
    A, y = pairs(PROBABILITIES, LABELS, dtype)
    w = cycled(SAMPLE_WEIGHTS, A.size, dtype) if use_weights else None
    exact = weighted(exact_values(exact_bce, A, y), None if w is None else w.tolist())
    got = binary_cross_entropy(A, y, reduction="none", sample_weight=w)
    quantity = "none, sample_weight" if use_weights else "none"
    # Soft labels among them: the soft-label form for all (see BCE), and a weight (WEIGHT).
    bound = tolerance(dtype, BCE + (WEIGHT if use_weights else 0.0))
    check_ulps("binary_cross_entropy", quantity, got, exact, dtype, tolerance=bound, inputs={"A": A, "y": y})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_pos_weight", [False, True], ids=["plain", "pos_weight"])
def test_binary_cross_entropy_with_logits_elements_are_within_their_bound(dtype, use_pos_weight):
    """The logistic loss of every stress logit: finite everywhere, tiny losses kept (x = 40, y = 1)."""
    x, y = pairs(LOGITS, LABELS, dtype)
    pw = cycled(POS_WEIGHTS, x.size, dtype) if use_pos_weight else np.ones_like(x)
    exact = exact_values(exact_logistic_loss, x, y, pw)
    got = binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=pw if use_pos_weight else None)
    quantity = "none, pos_weight" if use_pos_weight else "none"
    # Soft labels among them: the general form (see LOGISTIC_LOSS), pos_weight included.
    check_ulps(
        "binary_cross_entropy_with_logits",
        quantity,
        got,
        exact,
        dtype,
        tolerance=tolerance(dtype, LOGISTIC_LOSS),
        inputs={"x": x, "y": y, "pos_weight": pw},
    )


def test_the_references_agree_with_the_naive_formulas_at_huge_precision():
    """A check of the test itself: the references against the naive textbook forms.

    With enough bits (more than the magnitude of the logit) log(1 + exp(x)) and
    log(1 - a) have no accuracy problem at all, so both must agree with the references
    to the 200 bits the references promise.
    """
    for x in (-1e4, -745.0, -40.0, -1e-300, 0.0, 1e-20, 3.75, 37.0, 1000.0, 1e4):
        reference = exact_softplus(MP.mpf(x))
        with MP.workprec(400 + 2 * int(abs(x))):
            naive = MP.log(1 + MP.exp(MP.mpf(x)))
        assert abs(reference - naive) <= abs(naive) * MP.ldexp(1, -190), x
    for a in (5e-324, 1e-300, 1e-16, 0.5, 1 - 2.0**-53):
        reference = exact_bce(a, 0.0)
        with MP.workprec(2400):
            naive = -MP.log(1 - MP.mpf(a))
        assert abs(reference - naive) <= abs(naive) * MP.ldexp(1, -190), a


# --------------------------------------------------------------------------- gradients


def reduced_derivatives(derivatives: list[Mpf], reduction: str) -> list[Mpf]:
    """The gradient of the reduced loss: the derivatives themselves for none/sum, divided by n for mean."""
    if reduction == "mean":
        return [d / len(derivatives) for d in derivatives]
    return derivatives


REDUCTIONS = ["none", "sum", "mean"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_grad_is_within_its_bound(dtype, reduction):
    """2 (p - y), and 2 (p - y) / n for the mean, over the squared-error stress pairs."""
    p, y = mse_pairs(dtype)
    exact = reduced_derivatives(exact_values(exact_squared_error_derivative, p, y), reduction)
    got = mse_loss_grad(p, y, reduction=reduction)
    # p - y rounds once (u), 2 * is exact; the mean's / n once more: u.
    check_ulps(
        "mse_loss_grad",
        f"grad {reduction}",
        got,
        exact,
        dtype,
        tolerance=tolerance(dtype, 2.0 if reduction == "mean" else 1.0),
        inputs={"p": p, "y": y},
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_grad_hard_labels_is_within_its_bound(dtype, reduction):
    """-1/A for y = 1 and 1/(1 - A) for y = 0 at every stress probability (+-inf where exact)."""
    A, y = pairs(PROBABILITIES, HARD_LABELS, dtype)
    exact = reduced_derivatives(exact_values(exact_bce_derivative_hard, A, y), reduction)
    got = binary_cross_entropy_grad(A, y, reduction=reduction)
    # (p - y) / (p * (1 - p)): for y = 1, p - 1 rounds as 1 - p does and cancels, leaving the
    # product and the division (2u); for y = 0, 1 - p, the product, the division: 3u; mean: + u.
    check_ulps(
        "binary_cross_entropy_grad",
        f"grad {reduction}",
        got,
        exact,
        dtype,
        tolerance=tolerance(dtype, 4.0 if reduction == "mean" else 3.0),
        inputs={"A": A, "y": y},
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_pos_weight", [False, True], ids=["plain", "pos_weight"])
def test_binary_cross_entropy_with_logits_grad_hard_labels_is_within_its_bound(dtype, reduction, use_pos_weight):
    """sigma(x) for y = 0 and -pos_weight * sigma(-x) for y = 1, never the cancelling sigma(x) - 1."""
    x, y = pairs(LOGITS, HARD_LABELS, dtype)
    pw = cycled(POS_WEIGHTS, x.size, dtype) if use_pos_weight else np.ones_like(x)
    exact = reduced_derivatives(exact_values(exact_logistic_derivative, x, y, pw), reduction)
    got = binary_cross_entropy_with_logits_grad(
        x, y, reduction=reduction, pos_weight=pw if use_pos_weight else None
    )
    quantity = f"grad {reduction}" + (", pos_weight" if use_pos_weight else "")
    # One term: sigmoid(x) or -sigmoid(-x), from sigmoid_pair (see SIGMOID); pos_weight and
    # the mean's division round once each.
    bound = SIGMOID + (1.0 if use_pos_weight else 0.0) + (1.0 if reduction == "mean" else 0.0)
    check_ulps(
        "binary_cross_entropy_with_logits_grad",
        quantity,
        got,
        exact,
        dtype,
        tolerance=tolerance(dtype, bound),
        inputs={"x": x, "y": y, "pos_weight": pw},
    )


# --------------------------------------------------------------------------- means and sums


def exact_reductions(elements: Sequence[Mpf], weights: Sequence[float] | None) -> dict[str, Mpf]:
    """The exact ``sum(w * l)`` and ``sum(w * l) / sum(w)`` (w = 1 without weights)."""
    total = MP.fsum(weighted(elements, weights))
    count = MP.fsum(weights) if weights is not None else MP.mpf(len(elements))
    return {"sum": total, "mean": total / count}


@pytest.mark.parametrize("dtype", DTYPES)
def test_mean_of_huge_finite_losses_is_finite(dtype):
    """Seven finite squared errors whose sum overflows: the sum is inf (exactly), the mean finite and exact."""
    big = np.sqrt(np.finfo(dtype).max) * dtype(0.75)  # its square is 0.56 * max: finite
    p = np.full(7, big, dtype=dtype)
    y = np.zeros(7, dtype=dtype)
    exact = exact_reductions(exact_values(exact_squared_error, p, y), None)
    for reduction in ("mean", "sum"):  # the sum is 3.9 * max: exactly infinity in the float
        got = mse_loss(p, y, reduction=reduction)
        check_ulps(
            "mse_loss",
            f"{reduction} (overflowing sum)",
            got,
            [exact[reduction]],
            dtype,
            tolerance=tolerance(dtype, OVERFLOW),  # the float64 mean is redone in the extended range
        )


STRESS_ELEMENT = {"mse_loss": MSE, "binary_cross_entropy": BCE, "binary_cross_entropy_with_logits": LOGISTIC_LOSS}
"""Relative error of each element, in u (labels hard and soft)."""


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_weights", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize(
    ("name", "function", "stress_set", "reference"),
    [
        ("mse_loss", mse_loss, mse_pairs, exact_squared_error),
        (
            "binary_cross_entropy",
            binary_cross_entropy,
            lambda dtype: pairs(PROBABILITIES, LABELS, dtype),
            exact_bce,
        ),
        (
            "binary_cross_entropy_with_logits",
            binary_cross_entropy_with_logits,
            lambda dtype: pairs(LOGITS, LABELS, dtype),
            exact_logistic_loss,
        ),
    ],
    ids=["mse", "bce", "bce_with_logits"],
)
def test_stress_set_sum_and_mean_are_within_their_bound(name, function, stress_set, reference, dtype, use_weights):
    """The sum and mean of the stress set: all of it, then only its elements of finite float value.

    With every element, one infinite loss (A = 0, y = 1; 1e200**2) makes the exact sum and
    mean infinite, and the result must be inf (or finite, if its weight is 0). Without those,
    the sum of huge finite losses may still overflow while the mean stays finite.
    """
    a, b = stress_set(dtype)
    losses = exact_values(reference, a, b)
    finite = np.asarray([bool(MP.isfinite(v)) and not rounds_to_infinity(v, dtype) for v in losses])
    parts = [("stress", np.ones_like(finite))]
    if not finite.all():
        parts.append(("stress, finite part", finite))
    for part, keep in parts:
        w = cycled(SAMPLE_WEIGHTS, a.size, dtype)[keep] if use_weights else None
        kept = [v for v, k in zip(losses, keep, strict=True) if k]
        exact = exact_reductions(kept, None if w is None else w.tolist())
        for reduction in ("sum", "mean"):
            got = function(a[keep], b[keep], reduction=reduction, sample_weight=w)
            quantity = f"{reduction}{', sample_weight' if use_weights else ''} ({part})"
            # Non-negative elements within STRESS_ELEMENT[name] u: see reduction_bound.
            bound = reduction_bound(STRESS_ELEMENT[name], int(keep.sum()), reduction, use_weights)
            check_ulps(name, quantity, got, [exact[reduction]], dtype, tolerance=tolerance(dtype, bound))


@pytest.mark.parametrize(
    ("name", "quantity", "call", "exact"),
    [
        pytest.param(
            "mse_loss",
            "none, sample_weight",
            lambda: mse_loss([1.4e154], [0.0], reduction="none", sample_weight=[1e-3]),
            lambda: [MP.mpf(1e-3) * MP.mpf(1.4e154) ** 2],
            id="mse-weighted-element",
        ),
        pytest.param(
            "mse_loss",
            "sum, sample_weight",
            lambda: mse_loss([1.4e154], [0.0], reduction="sum", sample_weight=[1e-3]),
            lambda: [MP.mpf(1e-3) * MP.mpf(1.4e154) ** 2],
            id="mse-weighted-sum",
        ),
        pytest.param(
            "mse_loss",
            "mean",
            lambda: mse_loss([1.4e154, 0.0], [0.0, 0.0]),
            lambda: [MP.mpf(1.4e154) ** 2 / 2],
            id="mse-mean",
        ),
        pytest.param(
            "mse_loss_grad",
            "grad mean",
            lambda: mse_loss_grad([1.5e308, 0.0, 0.0, 0.0], [-1.5e308, 0.0, 0.0, 0.0]),
            lambda: [2 * (MP.mpf(1.5e308) * 2) / 4, MP.zero, MP.zero, MP.zero],
            id="mse-grad-mean",
        ),
        pytest.param(
            "binary_cross_entropy_grad",
            "grad mean",
            lambda: binary_cross_entropy_grad([5e-309, 0.5, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0]),
            lambda: [
                -1 / (4 * MP.mpf(5e-309)),
                -1 / (4 * MP.mpf(0.5)),
                -1 / (4 * MP.mpf(0.5)),
                -1 / (4 * MP.mpf(0.5)),
            ],
            id="bce-grad-mean",
        ),
        pytest.param(
            "binary_cross_entropy_grad",
            "grad none, sample_weight",
            lambda: binary_cross_entropy_grad([5e-309], [1.0], reduction="none", sample_weight=[0.25]),
            lambda: [-MP.mpf(0.25) / MP.mpf(5e-309)],
            id="bce-grad-weighted-element",
        ),
    ],
)
def test_finite_results_whose_intermediates_overflow(name, quantity, call, exact):
    """Finite exact results reached through a per-element value that overflows float64.

    A weight below 1, or the 1/n of a mean, brings back into range a square or a derivative
    that is itself too large for a float (1.4e154**2, 2 * 3e308, 1/5e-309). The contract
    covers every finite exact value, so each must come out finite and within its bound.
    """
    check_ulps(name, quantity + " (overflow)", call(), exact(), np.float64, tolerance=OVERFLOW)


SIZES = [1, 7, 1000, 100_003]
SHARED_SIZE = 100_003
SEED = 20_240_611


@dataclass(frozen=True)
class RandomCase:
    """Random inputs of one loss, with the exact loss of each element."""

    first: np.ndarray  # y_pred, A or logits
    target: np.ndarray
    sample_weight: np.ndarray
    pos_weight: np.ndarray | None
    exact: list[Mpf]


def _mixed_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """Two thirds hard labels (0 or 1), one third soft labels uniform in [0, 1)."""
    return np.where(rng.random(n) < 2 / 3, rng.integers(0, 2, n), rng.uniform(0.0, 1.0, n))


def _sample_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    """Weights in [0, 2), a tenth of them exactly 0; the first is 1 so the sum is positive."""
    w = rng.uniform(0.0, 2.0, n)
    w[rng.random(n) < 0.1] = 0.0
    w[0] = 1.0
    return w


def random_inputs(loss: str, n: int, dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Seeded inputs mixing magnitudes: (first argument, target, pos_weight or None)."""
    rng = np.random.default_rng([SEED, n, ["mse", "bce", "logits"].index(loss), np.dtype(dtype).itemsize])
    if loss == "mse":
        scale = 10.0 ** rng.uniform(-3.0, 3.0, n)  # targets from 1e-3 to 1e3 ...
        y = rng.normal(size=n) * scale
        # ... and errors from 1e-8 of the target (heavy cancellation) to the target's size
        p = y + rng.normal(size=n) * scale * 10.0 ** rng.uniform(-8.0, 0.0, n)
        return p.astype(dtype), y.astype(dtype), None
    if loss == "bce":
        deepest = 300.0 if dtype is np.float64 else 37.0
        tiny = 10.0 ** -rng.uniform(1.0, deepest, n)  # confident and wrong or right ...
        near_one = 1.0 - 10.0 ** -rng.uniform(1.0, 16.0, n)  # ... at both ends
        kind = rng.integers(0, 3, n)
        A = np.choose(kind, [tiny, near_one, rng.uniform(0.0, 1.0, n)]).astype(dtype)
        # Keep 0 < A < 1 so that soft labels have finite losses.
        A = np.clip(A, np.finfo(dtype).smallest_subnormal, np.nextafter(dtype(1), dtype(0)))
        return A, _mixed_labels(rng, n).astype(dtype), None
    x = rng.normal(size=n) * 10.0 ** rng.uniform(-2.0, 2.7, n)  # |x| from ~0 to ~1500
    pos_weight = rng.uniform(0.0, 4.0, n)
    return x.astype(dtype), _mixed_labels(rng, n).astype(dtype), pos_weight.astype(dtype)


@cache
def random_case(loss: str, n: int, dtype: type) -> RandomCase:
    """The inputs and their exact element losses (pos_weight included for the logits loss)."""
    if n >= SHARED_SIZE and dtype is np.float64:
        # mpmath needs ~30 µs per logarithm, so the largest float64 arrays reuse the float32
        # arrays, widened (exactly) to float64: their exact losses are the same numbers.
        # The float64 results are still full float64 values; what this size tests is the
        # accumulation of 100_003 of them.
        narrow = random_case(loss, n, np.float32)
        pos_weight = None if narrow.pos_weight is None else narrow.pos_weight.astype(np.float64)
        return RandomCase(
            narrow.first.astype(np.float64),
            narrow.target.astype(np.float64),
            narrow.sample_weight.astype(np.float64),
            pos_weight,
            narrow.exact,
        )
    first, target, pos_weight = random_inputs(loss, n, dtype)
    reference = {"mse": exact_squared_error, "bce": exact_bce, "logits": exact_logistic_loss}[loss]
    columns = (first, target) if pos_weight is None else (first, target, pos_weight)
    with MP.workprec(BULK_PRECISION):
        exact = exact_values(reference, *columns)
    rng = np.random.default_rng([SEED, n, 99])
    return RandomCase(first, target, _sample_weights(rng, n).astype(dtype), pos_weight, exact)


RANDOM_ELEMENT = {"mse": MSE, "bce": BCE, "logits": LOGISTIC_LOSS}
"""Relative error of each element, in u (labels hard and soft, pos_weight for the logits)."""

RANDOM_LOSSES = {
    "mse": ("mse_loss", mse_loss),
    "bce": ("binary_cross_entropy", binary_cross_entropy),
    "logits": ("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits),
}


def call_random(loss: str, case: RandomCase, reduction: str, sample_weight: np.ndarray | None) -> object:
    function = RANDOM_LOSSES[loss][1]
    if case.pos_weight is not None:
        return function(
            case.first,
            case.target,
            reduction=reduction,
            sample_weight=sample_weight,
            pos_weight=case.pos_weight,
        )
    return function(case.first, case.target, reduction=reduction, sample_weight=sample_weight)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("loss", list(RANDOM_LOSSES))
def test_random_sum_and_mean_are_within_their_bound(loss, n, dtype):
    """sum(w * l) and sum(w * l) / sum(w) of seeded random arrays, with and without weights.

    The reference is the exact (mpmath fsum) sum of the exact element losses of the float
    inputs as given; the logits loss carries a random pos_weight.
    """
    case = random_case(loss, n, dtype)
    name = RANDOM_LOSSES[loss][0] + (" (pos_weight)" if case.pos_weight is not None else "")
    for sample_weight in (None, case.sample_weight):
        weights = None if sample_weight is None else sample_weight.tolist()
        exact = exact_reductions(case.exact, weights)
        for reduction in ("sum", "mean"):
            got = call_random(loss, case, reduction, sample_weight)
            quantity = f"{reduction}{'' if weights is None else ', sample_weight'} (random)"
            # Soft labels, pos_weight: RANDOM_ELEMENT[loss] u per element; see reduction_bound.
            bound = reduction_bound(RANDOM_ELEMENT[loss], n, reduction, weights is not None)
            check_ulps(name, quantity, got, [exact[reduction]], dtype, tolerance=tolerance(dtype, bound))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", list(RANDOM_LOSSES))
def test_random_elements_are_within_their_bound(loss, dtype):
    """Every element of the 1000-element random arrays (the stress set's complement: typical values)."""
    case = random_case(loss, 1000, dtype)
    name = RANDOM_LOSSES[loss][0] + (" (pos_weight)" if case.pos_weight is not None else "")
    got = call_random(loss, case, "none", None)
    inputs = {"first": case.first, "target": case.target}
    bound = tolerance(dtype, RANDOM_ELEMENT[loss])  # see MSE, BCE, LOGISTIC_LOSS (soft labels among them)
    check_ulps(name, "none (random)", got, case.exact, dtype, tolerance=bound, inputs=inputs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("name", "function", "reference"),
    [("sigmoid", sigmoid, exact_sigmoid), ("sigmoid_grad", sigmoid_grad, exact_sigmoid_derivative)],
    ids=["sigmoid", "sigmoid_grad"],
)
def test_random_activations_are_within_their_bound(name, function, reference, dtype):
    """The activations at the 1000 random logits (|x| from ~0 to ~1500): typical values, not just the stress set."""
    x = random_case("logits", 1000, dtype).first
    exact = exact_values(reference, x)
    bound = tolerance(dtype, SIGMOID if name == "sigmoid" else LOGISTIC_DENSITY)
    check_ulps(name, "value (random)", function(x), exact, dtype, tolerance=bound, inputs={"x": x})


RANDOM_GRADIENTS = {
    "mse": ("mse_loss_grad", mse_loss_grad, exact_squared_error_derivative),
    "bce": ("binary_cross_entropy_grad", binary_cross_entropy_grad, exact_bce_derivative_hard),
    "logits": (
        "binary_cross_entropy_with_logits_grad",
        binary_cross_entropy_with_logits_grad,
        exact_logistic_derivative,
    ),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("loss", list(RANDOM_GRADIENTS))
def test_random_gradients_are_within_their_bound(loss, reduction, dtype):
    """Gradients at the hard-label elements of the 1000-element random arrays (all of them for MSE)."""
    case = random_case(loss, 1000, dtype)
    name, gradient, reference = RANDOM_GRADIENTS[loss]
    keep = np.ones(case.first.shape, dtype=bool) if loss == "mse" else (case.target == 0) | (case.target == 1)
    first, target = case.first[keep], case.target[keep]
    kwargs = {}
    columns = [first, target]
    if case.pos_weight is not None:
        kwargs["pos_weight"] = case.pos_weight[keep]
        columns.append(kwargs["pos_weight"])
    exact = reduced_derivatives(exact_values(reference, *columns), reduction)
    got = gradient(first, target, reduction=reduction, **kwargs)
    quantity = f"grad {reduction} (random)"
    # As in the stress tests above: MSE 1u, BCE 3u (hard labels), the logits SIGMOID + pos_weight;
    # the mean's division + u.
    bound = {"mse": 1.0, "bce": 3.0, "logits": SIGMOID + 1.0}[loss] + (1.0 if reduction == "mean" else 0.0)
    check_ulps(
        name,
        quantity,
        got,
        exact,
        dtype,
        tolerance=tolerance(dtype, bound),
        inputs={"first": first, "target": target},
    )


# --------------------------------------------------------------------------- the NumPy article's example

ARTICLE_Z = [[2.0], [-1.0], [3.0], [-2.0]]
ARTICLE_Y = [[1.0], [0.0], [1.0], [0.0]]


def test_numpy_article_sigmoid_is_within_its_bound():
    """sigmoid(Z) of the article's Z, each element within SIGMOID ulp of the exact logistic function."""
    A = sigmoid(ARTICLE_Z)
    exact = [exact_sigmoid(row[0]) for row in ARTICLE_Z]
    check_ulps(
        "sigmoid", "article example", A, exact, np.float64, tolerance=SIGMOID, inputs={"Z": np.asarray(ARTICLE_Z)}
    )


def test_numpy_article_bce_is_within_its_bound():
    """binary_cross_entropy(sigmoid(Z), y): within its bound of the exact mean BCE of those probabilities.

    The reference starts from the float64 probabilities our sigmoid returned, since those are
    exactly what binary_cross_entropy receives (the sigmoid has its own test above).
    """
    A = sigmoid(ARTICLE_Z)
    probabilities = np.ravel(A).tolist()
    labels = [row[0] for row in ARTICLE_Y]
    exact = MP.fsum(exact_bce(a, t) for a, t in zip(probabilities, labels, strict=True)) / 4
    got = binary_cross_entropy(A, ARTICLE_Y)
    # Hard labels (BCE_HARD), the mean of 4: see reduction_bound.
    bound = reduction_bound(BCE_HARD, 4, "mean", weighted=False)
    check_ulps("binary_cross_entropy", "article example", got, [exact], np.float64, tolerance=bound)


def test_numpy_article_bce_with_logits_is_within_its_bound():
    """binary_cross_entropy_with_logits(Z, y): within its bound of the exact mean loss of the logits."""
    pairs_ = zip(ARTICLE_Z, ARTICLE_Y, strict=True)
    exact = MP.fsum(exact_logistic_loss(z[0], t[0]) for z, t in pairs_) / 4
    got = binary_cross_entropy_with_logits(ARTICLE_Z, ARTICLE_Y)
    bound = reduction_bound(LOGISTIC_LOSS_HARD, 4, "mean", weighted=False)  # hard labels: see LOGISTIC_LOSS_HARD
    check_ulps("binary_cross_entropy_with_logits", "article example", got, [exact], np.float64, tolerance=bound)


# --------------------------------------------------------------------------- the hard-label fast paths


@pytest.mark.parametrize("y", [1e-17, 2.5e-17, 1e-30, 1.0 - 2.0**-53])
def test_soft_labels_next_to_0_and_1_are_not_taken_for_hard_ones(y):
    # The NumPy kernels take a faster form where every label is exactly 0 or 1. A label
    # within 2**-55 of 0 makes 2y - 1 round to -1, so that test would pass it as hard;
    # y (1 - y) == 0 is exact.
    p = np.array([1e-300, 0.25, 0.9])
    labels = np.full(3, y)
    for got, a in zip(binary_cross_entropy(p, labels, reduction="none").tolist(), p.tolist(), strict=True):
        assert ulp_error(got, exact_bce(a, y), np.float64) <= BCE  # the soft-label form
    x = np.array([-40.0, -1.0, 3.0])
    for got, z in zip(binary_cross_entropy_with_logits(x, labels, reduction="none").tolist(), x.tolist(), strict=True):
        assert ulp_error(got, exact_logistic_loss(z, y), np.float64) <= LOGISTIC_LOSS  # the general form


@pytest.mark.parametrize("layout", ["fortran", "transposed", "strided"])
def test_misclassified_hard_labels_keep_full_accuracy_in_any_memory_layout(layout):
    # y = 1 with p < 1/2 takes log(p) itself (p - 1 is rounded): located by a flat index,
    # which must address the elements whatever the array's strides.
    rng = np.random.default_rng(5)
    p = 10.0 ** -rng.uniform(1, 300, (40, 6))
    y = np.ones((40, 6))
    if layout == "fortran":
        p, y = np.asfortranarray(p), np.asfortranarray(y)
    elif layout == "transposed":
        p, y = p.T, y.T
    else:
        p, y = p[::2], y[::2]
    got = binary_cross_entropy(p, y, reduction="none")
    for value, a in zip(got.ravel().tolist(), p.ravel().tolist(), strict=True):
        # y = 1: log(p) + ((1 - p) - (1 - p)) / p, the correction exactly 0: one log, 1 ulp.
        assert ulp_error(value, exact_bce(a, 1.0), np.float64) <= 1


@pytest.mark.parametrize("size", [7, 1000, 40_000])  # the small-call path, and the blocked one
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float32_is_the_float64_result_rounded_once(size, reduction):
    rng = np.random.default_rng(size)
    p = rng.uniform(1e-6, 1 - 1e-6, size).astype(np.float32)
    y = (rng.random(size) < p).astype(np.float32)
    x = (rng.standard_normal(size) * 6).astype(np.float32)
    cases = [
        (mse_loss, x, p), (binary_cross_entropy, p, y), (binary_cross_entropy_with_logits, x, y),
        (mse_loss_grad, x, p), (binary_cross_entropy_grad, p, y), (binary_cross_entropy_with_logits_grad, x, y),
    ]
    for function, a, b in cases:
        got = function(a, b, reduction=reduction)
        wide = function(a.astype(np.float64), b.astype(np.float64), reduction=reduction)
        assert np.asarray(got).dtype == np.float32
        np.testing.assert_array_equal(got, np.asarray(wide).astype(np.float32), err_msg=function.__name__)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_call_binary_cross_entropy_has_the_bits_of_the_general_path(reduction, dtype):
    # Small unweighted calls take a form without the guards of 0 * log(0); weights of 1
    # (which change no bit) send the same call through the general path, the reference.
    rng = np.random.default_rng(11)
    p = np.concatenate([rng.uniform(0, 1, 300), 10.0 ** -rng.uniform(1, 300, 50), 1 - 10.0 ** -rng.uniform(1, 16, 50)])
    edges = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0])
    edge_labels = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.25, 0.75])
    for y in (np.round(rng.random(p.size)), rng.random(p.size)):  # hard labels, then soft ones
        for a, b in ((p, y), (np.concatenate([p, edges]), np.concatenate([y, edge_labels]))):
            a, b = a.astype(dtype), b.astype(dtype)
            got = binary_cross_entropy(a, b, reduction=reduction)
            reference = binary_cross_entropy(a, b, reduction=reduction, sample_weight=np.ones(a.size, dtype))
            assert np.asarray(got).dtype == dtype
            np.testing.assert_array_equal(got, reference)
    edge_values = binary_cross_entropy(edges, edge_labels, reduction="none")
    assert edge_values[:2].tolist() == [0.0, 0.0] and np.isinf(edge_values[2:4]).all()


@pytest.mark.parametrize("bad", [1.5, -1e-300, math.inf, math.nan])
def test_small_call_binary_cross_entropy_refuses_a_probability_outside_0_1(bad):
    p = np.full(50, 0.25)
    p[17] = bad
    y = np.ones(50)
    with pytest.raises(ValueError) as unweighted:
        binary_cross_entropy(p, y)
    with pytest.raises(ValueError) as weighted:
        binary_cross_entropy(p, y, sample_weight=np.ones(50))
    assert "A[17]" in str(unweighted.value)
    assert str(unweighted.value) == str(weighted.value)


def test_hard_label_bce_next_to_one_half_is_within_1_ulp_and_equals_the_general_form():
    # p - 1 rounds to -1/2 for p = 1/2 - 2**-54 (a tie, to even): the hard-label form must
    # still take log(p) there, not log1p of the rounded p - 1 (an ulp off), so that a
    # large array (blocked, hard-label form) gives the bits of its small slices (the
    # general form).
    near = [0.5 - 2.0**-54, 0.5 - 2.0**-53, 0.5, 0.5 + 2.0**-53, 0.25 - 2.0**-55]
    a = np.resize(near, 70_000)
    got = binary_cross_entropy(a, np.ones(a.size), reduction="none")
    for value, probability in zip(got[:5].tolist(), near, strict=True):
        assert ulp_error(value, exact_bce(probability, 1.0), np.float64) <= 1  # y = 1: one log
    np.testing.assert_array_equal(got[:5], binary_cross_entropy(a[:5], np.ones(5), reduction="none"))


def test_pos_weight_does_not_magnify_the_lost_bits_of_a_subnormal_exp():
    # Beyond x = 708 the positive term y * softplus(-x) (and y * sigmoid(-x) in the
    # gradient) is exp(-x), a subnormal number that has lost bits; pos_weight = 100 used
    # to multiply that loss (43 ulp at x = 745). Now exp(-x) is scaled into the normal
    # range first: pos_weight * y (u), libm's exp (2u) and its shift correction (u, u),
    # the product (u), then one rounding into the subnormal range (half an ulp there):
    # 6u relative, and 0.5 ulp more where the result is subnormal: 6.5 ulp.
    x = np.concatenate([np.linspace(700.0, 760.0, 61), [708.0, 708.5, 745.0, 745.1]])
    y = np.ones_like(x)
    for pos_weight in (3.0, 100.0, 1000.0):
        weights = np.full_like(x, pos_weight)
        values = binary_cross_entropy_with_logits(x, y, pos_weight=weights, reduction="none")
        grads = binary_cross_entropy_with_logits_grad(x, y, pos_weight=weights, reduction="none")
        for got, grad, logit in zip(values, grads, x, strict=True):
            assert ulp_error(got, exact_logistic_loss(logit, 1.0, pos_weight), np.float64) <= 6.5
            assert ulp_error(grad, exact_logistic_derivative(logit, 1.0, pos_weight), np.float64) <= 6.5
