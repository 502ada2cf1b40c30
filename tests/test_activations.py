"""Activations and their derivatives, against references that share no code with them.

* **mpmath** (160-bit arithmetic, from the textbook definitions) on a stress set of inputs
  (0, subnormals, tiny, +-1, the tails +-40, +-1000, +-1e308, +-inf, the region borders of
  the implementation and the roots of the GELU derivatives) plus a seeded random sample:
  every element within the bound derived for its formula (see "Error model" below: any
  libm whose exp, expm1, log1p and tanh are within 1 ulp), 0.5 to 10 ulp in float64, and
  1 ulp in float32 (rounded once from float64). The worst error of each function is
  printed at the end (``pytest -s``).
* **PyTorch** 2.13 (``torch.nn.functional`` for values, ``torch.autograd`` for
  derivatives), float32 and float64, several shapes.
* **Finite differences** (Richardson-extrapolated central differences) for every
  derivative, and directional ones for the vector-Jacobian products of softmax.
* Properties of softmax / log_softmax (rows sum to 1, ``-inf`` masks an entry, a fully
  masked row is an error, any axis), dtype, shape and library preservation, no warning at
  the extremes, the error messages and the registry.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import array_api_compat
import mpmath
import numpy as np
import pytest

from neural_network import _numerics, activations
from neural_network.activations import (
    ACTIVATIONS,
    elu,
    elu_grad,
    gelu,
    gelu_grad,
    get_activation,
    identity,
    identity_grad,
    leaky_relu,
    leaky_relu_grad,
    log_softmax,
    log_softmax_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_grad,
    softplus,
    softplus_grad,
    tanh,
    tanh_grad,
)
from neural_network.errors import (
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    ShapeMismatchError,
)
from test_exactness import LOGISTIC_DENSITY, SIGMOID

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict")
F = torch.nn.functional

MP = mpmath.MPContext()
"""A private mpmath context: the precision set here never leaks into other tests."""
MP.prec = 160

Mpf = Any  # an mpmath number

# --------------------------------------------------------------------------- the ulp ruler

FORMATS = {np.float64: (53, -1022, 1023), np.float32: (24, -126, 127)}
"""Significand bits, smallest normal exponent, largest exponent."""


def ulp_error(got: float, exact: Mpf, dtype: type) -> float:
    """``|got - exact|`` in units of the spacing of ``dtype`` at the real number ``exact``.

    A correctly rounded result scores at most 0.5. Below the normal range the spacing is
    the smallest subnormal. An exact value that rounds to infinity (or is infinite) scores
    0 for that infinity and infinity for anything else; NaN always scores infinity.
    """
    precision, emin, emax = FORMATS[dtype]
    got = float(got)
    if math.isnan(got):
        return math.inf
    overflow = MP.ldexp(2 - MP.ldexp(1, -precision), emax)
    if MP.isinf(exact) or abs(exact) >= overflow:
        return 0.0 if got == (math.inf if exact > 0 else -math.inf) else math.inf
    if math.isinf(got):
        return math.inf
    exponent = emin if exact == 0 else max(MP.frexp(exact)[1] - 1, emin)
    return float(abs(MP.mpf(got) - exact) / MP.ldexp(1, exponent - precision + 1))


def test_the_ulp_ruler():
    """The ruler on distances known by construction."""
    one = MP.mpf(1)
    assert ulp_error(1.0 + 2.0**-52, one, np.float64) == 1.0
    assert ulp_error(1.0, one + MP.ldexp(1, -53), np.float64) == 0.5
    assert ulp_error(1.0, one + MP.ldexp(1, -24), np.float32) == 0.5
    assert ulp_error(0.0, MP.ldexp(1, -1074), np.float64) == 1.0  # subnormal spacing
    assert ulp_error(float(np.float32(2.0**-149)), MP.zero, np.float32) == 1.0
    assert ulp_error(0.5, MP.mpf(1) / 2 - MP.ldexp(1, -54), np.float64) == 1.0  # spacing below 1/2
    assert ulp_error(math.inf, MP.mpf(10) ** 400, np.float64) == 0.0
    assert ulp_error(1e308, MP.mpf(10) ** 400, np.float64) == math.inf
    assert ulp_error(math.nan, one, np.float64) == math.inf


WORST: dict[tuple[str, str, str], float] = {}
"""Worst ulp error per (function, dtype, library), printed when the module ends."""


@pytest.fixture(scope="module", autouse=True)
def report_worst_errors():
    yield
    if not WORST:
        return
    lines = ["", "Worst error against mpmath, in ulp of the output dtype:"]
    for (function, dtype, library), worst in sorted(WORST.items()):
        lines.append(f"  {function:<24} {dtype:<8} {library:<6} {worst:.3g}")
    print("\n".join(lines))


# --------------------------------------------------------------------------- exact references
#
# Each takes a Python float (converted exactly) and evaluates the textbook formula in
# mpmath. Where a formula cancels catastrophically (1 + tanh(u) for u << 0), the working
# precision is raised until the cancellation is paid for, rather than rewriting it.

SQRT2 = MP.sqrt(2)
KAPPA = MP.mpf("0.044715")


def _sigma(x: Mpf) -> Mpf:
    return 1 / (1 + MP.exp(-x))


FAR = 1000
"""Beyond |z| = 1000 the GELUs' Gaussian or logistic factor is below exp(-10**5), so the
references return the limits (z or 0 for the values, 1 or 0 for the derivatives): they
differ from the exact value by far less than the resolution of any float at it. (mpmath's
erfc refuses such arguments, and 1 + tanh(u) would need 10**8 bits.)"""


def _tanh_gelu_parts(z: Mpf) -> tuple[Mpf, Mpf]:
    """``1 + tanh(u)`` (computed with enough extra bits) and ``sech(u)**2 u'(z)``.

    Below u = -600 both are under 4 exp(-1200) (times |u'| < 10**5): the result of either
    GELU function is then below 2**-1700, and 0 is exact to far below a subnormal's spacing.
    """
    u = MP.sqrt(2 / MP.pi) * (z + KAPPA * z**3)
    if u < -600:
        return MP.zero, MP.zero
    extra = int(3 * max(-u, 0)) + 20  # for u < 0, 1 + tanh(u) ~ 2 exp(2u) cancels ~2.9|u| bits
    with MP.workprec(MP.prec + extra):
        one_plus = 1 + MP.tanh(u)
    return one_plus, MP.sqrt(2 / MP.pi) * (1 + 3 * KAPPA * z * z) / MP.cosh(u) ** 2


def ex_gelu(z: Mpf) -> Mpf:
    if abs(z) > FAR:
        return max(z, MP.zero)
    return z * MP.erfc(-z / SQRT2) / 2


def ex_gelu_grad(z: Mpf) -> Mpf:
    if abs(z) > FAR:
        return MP.one if z > 0 else MP.zero
    return MP.erfc(-z / SQRT2) / 2 + z * MP.exp(-z * z / 2) / MP.sqrt(2 * MP.pi)


def ex_gelu_tanh(z: Mpf) -> Mpf:
    if abs(z) > FAR:
        return max(z, MP.zero)
    return z / 2 * _tanh_gelu_parts(z)[0]


def ex_gelu_tanh_grad(z: Mpf) -> Mpf:
    if abs(z) > FAR:
        return MP.one if z > 0 else MP.zero
    one_plus, slope = _tanh_gelu_parts(z)
    return one_plus / 2 + z / 2 * slope


def ex_softplus(z: Mpf, beta: float) -> Mpf:
    x = MP.mpf(beta) * z  # exact: a product of two 53-bit numbers fits in 160 bits
    return MP.log1p(MP.exp(x)) / beta if x < 0 else (x + MP.log1p(MP.exp(-x))) / beta


@dataclass(frozen=True)
class Case:
    """An element-wise activation, its derivative and their exact references."""

    label: str
    value: Callable[[object], Any]
    grad: Callable[[object], Any]
    exact_value: Callable[[Mpf], Mpf]
    exact_grad: Callable[[Mpf], Mpf]
    limits: tuple[float, float, float, float]  # value at -inf, +inf; derivative at -inf, +inf
    ulps: tuple[float, float]  # float64 bounds of the value and of the derivative (see "Error model")


def _case(function: Callable[..., Any], grad: Callable[..., Any], **options: Any) -> tuple[Any, Any]:
    """``function`` and ``grad`` with their keyword options fixed."""
    return (lambda Z: function(Z, **options)), (lambda Z: grad(Z, **options))


# --------------------------------------------------------------------------- error model
#
# As in tests/test_exactness.py: u = 2**-53; +, -, *, / round with relative error <= u;
# libm's exp, expm1, log1p and tanh (NumPy's, with or without AVX-512, and torch's) are
# within 1 ulp: relative error <= 2u, or 1 ulp for a libm result returned as it is. The
# double-double steps of _numerics (two_sum, two_product, the last step of polynomial, the
# first-order corrections) contribute ~2**-100. A relative error k u is within k ulp; where
# the result is subnormal, a relative error k u of the unscaled value plus one rounding into
# the subnormal range is within 0.5 + tiny ulp. float32: the float64 result (k u, k <= 10)
# rounded once: 0.5 + 10 * 2**-29 < 1 ulp. The float64 bounds (value, derivative):

EXACT = 0.0
"""identity, relu, their derivatives, leaky_relu's derivative (slope * 1): no rounding at all."""
LEAKY_RELU = 0.5
"""slope * z: one correctly rounded product (z itself for z > 0)."""
TANH = 1.0
"""libm's tanh, returned as it is."""
TANH_GRAD = LOGISTIC_DENSITY
"""4e / (1 + e)**2 with e = exp(-2|z|) (2|z| exact): logistic_density, see LOGISTIC_DENSITY in
tests/test_exactness.py: exp 2u (condition (1 - e)/(1 + e) <= 1), s*s, / and the correction: 5u."""
SIGMOID_GRAD = LOGISTIC_DENSITY
ELU_ALPHA_1 = (1.0, 1.0)
"""1 * expm1(z) and 1 * exp(z): the libm result as it is (z > 0: z and 1, exact)."""
ELU = (3.0, 3.0)
"""alpha * expm1(z), alpha * exp(z): 2u + the product u. Subnormal: 1 ulp times |alpha| < 1, + 0.5."""
SOFTPLUS = {1.0: (5.0, 4.0), 0.5: (5.0, 4.0), 2.0: (5.0, 4.0), 3.0: (7.0, 4.0)}
"""Value max(z, 0) + tail / beta, tail = log1p(e) - slope * x_error, e = exp(-|beta z|): exp 2u
(condition of log1p(e) in e <= 1) + log1p 2u; beta = 1, 1/2, 2: x_error = 0 and tail / beta exact,
+ the sum of two terms >= 0 (u): 5u (a subnormal e: 1 ulp, doubled by / 0.5: 2 ulp). beta = 3:
the correction's subtraction u and / beta u more: 7u. Derivative sigmoid_scaled: n / s,
n = 1 (e in 1/(1 + e): condition <= 1/2, u) or e (condition of e/(1 + e) <= 1: 2u), the
division u, the first-order correction's subtraction u: 4u."""
GELU = 10.0
"""z <= 0: -(t/(1 + t)) g(y) exp(-t**2/2), t = -z, y = (t - 5)/(t + 5) (3 roundings: 3u of y,
times |y g'(y) / g| <= 0.51: 1.52u) + Horner's rounding in g (a running bound over [0, 40]:
1.25u) + truncation (< 0.1u); t/(1 + t) and its correction 2u; t**2 exact, exp 2u; w * h u;
the correction's sum u: 8.9u. z > 0: z - tail, tail / (z - tail) = Phi(-t)/Phi(t) <= 1, + u: 9.9u."""
GELU_GRAD = 9.5
"""z <= 0: (t - r) q(y) exp(-t**2/2): y 3u times |y q'/q| <= 0.67 (1.99u), Horner 1.01u,
truncation < 0.1u; t - r in double-double (r to 2**-109, |t - r| >= 1.4e-17: <= u); exp 2u,
w * h u, the sum u: 8.1u. z > 0: 1 - tail with |tail| / (1 - tail) <= 1 (tail in [-0.17, 0.5]),
+ u: 9.1u."""
GELU_TANH = 5.0
"""z sigmoid(x), x = sqrt(8/pi)(z + 0.044715 z**3) in double-double (its error ~2**-95 absolute,
first order through sigmoid(-x) <= 1). z < 0: z * h 2u (h/(1 + e) together: condition <= 1) + u,
/ s u, the correction's subtraction u: 5u. z >= 0: 1/(1 + e) u, / s u, subtraction u: 3u."""
GELU_TANH_GRAD = 9.0
"""(n / s)(1 + A), A = z x'(z) sigmoid(-x) from an exact product. x >= 0: sigmoid(-x) = e/s 3u,
1 + A (A >= 0) 3u + its rounding u, 1/s u, / u, subtraction u: 7u. x < 0 outside [-2.5, -0.5]:
sigmoid(-x) = 1/s 2u, times |A| / |1 + A| <= 1.33 (at the window's borders): 2.65u, + rounding
u, n * (1 + A) u, h/(1 + e) 2u, / u, subtraction u: 8.65u. In the window: (z - r2) p(z + 1.5)
(z + 1.5 exact): Horner 0.62u, truncation < 0.1u, r2 to 2**-108 over |z - r2| >= 3.6e-17
0.77u, the rounding u: 2.5u, then as above 5u: 7.5u."""


def _cases() -> list[Case]:
    cases = [
        Case(
            "identity", identity, identity_grad, lambda z: z, lambda z: MP.one, (-math.inf, math.inf, 1, 1),
            (EXACT, EXACT),
        ),
        Case(
            "sigmoid", sigmoid, sigmoid_grad, _sigma, lambda z: _sigma(z) * _sigma(-z), (0, 1, 0, 0),
            (SIGMOID, SIGMOID_GRAD),  # see SIGMOID and LOGISTIC_DENSITY in tests/test_exactness.py
        ),
        Case("tanh", tanh, tanh_grad, MP.tanh, lambda z: 1 / MP.cosh(z) ** 2, (-1, 1, 0, 0), (TANH, TANH_GRAD)),
        Case(
            "relu", relu, relu_grad, lambda z: max(z, MP.zero), lambda z: MP.one if z > 0 else MP.zero,
            (0, math.inf, 0, 1), (EXACT, EXACT),
        ),
        Case("gelu", gelu, gelu_grad, ex_gelu, ex_gelu_grad, (0, math.inf, 0, 1), (GELU, GELU_GRAD)),
        Case(
            "gelu_tanh", *_case(gelu, gelu_grad, approximate="tanh"), ex_gelu_tanh, ex_gelu_tanh_grad,
            (0, math.inf, 0, 1), (GELU_TANH, GELU_TANH_GRAD),
        ),
    ]
    for slope in (0.01, 0.2):
        a = MP.mpf(slope)
        cases.append(
            Case(
                f"leaky_relu(slope={slope})",
                *_case(leaky_relu, leaky_relu_grad, negative_slope=slope),
                lambda z, a=a: z if z > 0 else a * z,
                lambda z, a=a: MP.one if z > 0 else a,
                (-math.inf, math.inf, slope, 1),
                (LEAKY_RELU, EXACT),
            )
        )
    for alpha in (1.0, 0.3):
        a = MP.mpf(alpha)
        cases.append(
            Case(
                f"elu(alpha={alpha})",
                *_case(elu, elu_grad, alpha=alpha),
                lambda z, a=a: z if z > 0 else a * MP.expm1(z),
                lambda z, a=a: MP.one if z > 0 else a * MP.exp(z),
                (-alpha, math.inf, 0, 1),
                ELU_ALPHA_1 if alpha == 1.0 else ELU,
            )
        )
    for beta in (1.0, 0.5, 3.0):
        cases.append(
            Case(
                f"softplus(beta={beta})",
                *_case(softplus, softplus_grad, beta=beta),
                lambda z, b=beta: ex_softplus(z, b),
                lambda z, b=beta: _sigma(MP.mpf(b) * z),
                (0, math.inf, 0, 1),
                SOFTPLUS[beta],
            )
        )
    return cases


CASES = _cases()


# --------------------------------------------------------------------------- the stress set


def _signed(*magnitudes: float) -> list[float]:
    return [s * m for m in magnitudes for s in (1.0, -1.0)]


def _neighbours(*points: float) -> list[float]:
    """Each point and the two floats beside it: the borders of a piecewise implementation."""
    return [v for p in points for v in (float(np.nextafter(p, -np.inf)), p, float(np.nextafter(p, np.inf)))]


STRESS = [
    0.0,
    -0.0,
    *_signed(5e-324, 1e-310, 1e-300, 1e-40, 1e-20, 1e-8, 1e-3, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    *_signed(20.0, 30.0, 37.0, 37.7, 38.0, 38.5, 40.0, 100.0, 255.0, 300.0, 360.0, 372.0),
    *_signed(700.0, 745.0, 1000.0, 1e30, 1e300, 1e308),
    # the roots of gelu' and of the tanh GELU's derivative, to the last bit
    *_neighbours(-0.7517915246935645, -0.7524614220710163),
    # where the implementation switches formulas or scales: the tanh GELU's polynomial window
    # [-2.5, -0.5] and clipping at 30; exp kept normal below -512, reached at t = 32 in the
    # Gaussian, |z| = 256 in tanh', 512 in sigmoid', and z = -18.901... in the tanh GELU
    *_neighbours(-2.5, -0.5, 0.5, 30.0, -30.0, 32.0, -32.0, 256.0, -256.0, 512.0, -512.0, -18.90133736803215),
]
"""Inputs for every function: see the module docstring. Infinities are added per test."""


def _random_inputs() -> list[float]:
    rng = np.random.default_rng(20240611)
    return [
        *rng.uniform(-6.0, 6.0, 300).tolist(),
        *rng.uniform(-45.0, 45.0, 200).tolist(),
        *(-np.exp(rng.uniform(-20.0, np.log(40.0), 150))).tolist(),
        *np.exp(rng.uniform(-20.0, np.log(40.0), 50)).tolist(),
        *rng.uniform(-0.80, -0.70, 50).tolist(),
    ]


INPUTS = STRESS + _random_inputs()

FLOAT32_ULPS = 1.0
"""float32 results: the float64 result rounded once (see "Error model")."""


def tolerance(dtype: type, float64_ulps: float) -> float:
    """The bound derived for a float64 result, or the float32 one."""
    return float64_ulps if dtype is np.float64 else FLOAT32_ULPS


def _inputs(dtype: type) -> np.ndarray:
    values = np.asarray([v for v in INPUTS if abs(v) <= float(np.finfo(dtype).max)], dtype=np.float64)
    return np.unique(values.astype(dtype))


def check_ulps(
    label: str, got: Any, x: np.ndarray, exact: Sequence[Mpf], dtype: type, library: str, bound: float
) -> None:
    __tracebackhide__ = True
    got_array = np.asarray(got.cpu() if hasattr(got, "cpu") else got)
    assert got_array.dtype == dtype, f"{label}: dtype {got_array.dtype}, expected {np.dtype(dtype)}"
    values = got_array.ravel().tolist()
    errors = [ulp_error(g, e, dtype) for g, e in zip(values, exact, strict=True)]
    worst = max(errors)
    key = (label, np.dtype(dtype).name, library)
    WORST[key] = max(WORST.get(key, 0.0), worst)
    if worst <= bound:
        return
    order = sorted(range(len(errors)), key=lambda i: -errors[i])[:6]
    lines = [f"{label} ({np.dtype(dtype).name}, {library}): worst {worst:.3g} ulp > {bound}"]
    lines += [f"  z={x.ravel()[i]!r}: got {values[i]!r}, exact {MP.nstr(exact[i], 20)} ({errors[i]:.3g} ulp)" for i in order]
    pytest.fail("\n".join(lines))


_EXACT_CACHE: dict[tuple[str, str, float], Mpf] = {}


def _exact(case: Case, which: str, values: list[float]) -> list[Mpf]:
    function = case.exact_value if which == "value" else case.exact_grad
    result = []
    for v in values:
        key = (case.label, which, v)
        if key not in _EXACT_CACHE:
            _EXACT_CACHE[key] = function(MP.mpf(v))
        result.append(_EXACT_CACHE[key])
    return result


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_within_a_few_ulps_of_mpmath(case, which, dtype):
    """Every element within its derived bound (float64) / 1 ulp (float32) of the exact value, tails included."""
    x = _inputs(dtype)
    function = case.value if which == "value" else case.grad
    exact = _exact(case, which, x.tolist())
    label = case.label if which == "value" else f"{case.label} grad"
    bound = tolerance(dtype, case.ulps[0 if which == "value" else 1])  # see the Case's constants
    check_ulps(label, function(x), x, exact, dtype, "numpy", bound)


@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_torch_tensors_are_as_exact(case, which):
    """The same computation on float64 torch tensors (torch's own exp, log1p, tanh) meets the same bound."""
    x = _inputs(np.float64)
    function = case.value if which == "value" else case.grad
    got = function(torch.from_numpy(x))
    assert isinstance(got, torch.Tensor)
    label = case.label if which == "value" else f"{case.label} grad"
    # The same formulas with torch's exp, expm1, log1p, tanh (within 1 ulp too): the same bounds.
    bound = case.ulps[0 if which == "value" else 1]
    check_ulps(label, got, x, _exact(case, which, x.tolist()), np.float64, "torch", bound)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_infinities_give_the_limits(case, dtype):
    """f(-inf), f(+inf), f'(-inf), f'(+inf) are the mathematical limits, exactly."""
    x = np.asarray([-np.inf, np.inf], dtype=dtype)
    low, high, grad_low, grad_high = np.asarray(case.limits, dtype=dtype).tolist()  # 0.01 in float32
    assert case.value(x).tolist() == [low, high]
    assert case.grad(x).tolist() == [grad_low, grad_high]


def test_gelu_derivatives_keep_their_relative_accuracy_at_the_root():
    """Beside the root of gelu' the derivative is ~1e-17, and still within its bound in ulp (not 1e-17 absolute)."""
    root = -0.7517915246935645  # float nearest the root of Phi(z) + z phi(z)
    x = np.asarray([np.nextafter(root, -1.0), root, np.nextafter(root, 0.0)])
    got = gelu_grad(x)
    exact = [ex_gelu_grad(MP.mpf(v)) for v in x.tolist()]
    assert all(abs(float(e)) < 1e-15 for e in exact)  # really beside the root
    # See GELU_GRAD (z <= 0: 8.1u, the root in double-double included).
    assert max(ulp_error(g, e, np.float64) for g, e in zip(got.tolist(), exact, strict=True)) <= GELU_GRAD


def _chebyshev_monomials(f: Callable[[Mpf], Mpf], lo: Mpf, hi: Mpf, count: int, center: Mpf) -> list[Mpf]:
    """The first ``count`` Chebyshev coefficients of ``f`` on [lo, hi] (from 120 nodes),
    as coefficients of powers of ``x - center``."""
    nodes = 120
    angles = [MP.pi * (k + MP.mpf(1) / 2) / nodes for k in range(nodes)]
    values = [f(lo + (MP.cos(a) + 1) * (hi - lo) / 2) for a in angles]
    series = [2 * MP.fsum(v * MP.cos(j * a) for v, a in zip(values, angles, strict=True)) / nodes for j in range(count)]
    series[0] /= 2
    scale, shift = 2 / (hi - lo), (2 * center - lo - hi) / (hi - lo)  # T_j argument = scale * v + shift
    powers = [[MP.one], [shift, scale]]  # T_j as polynomials in v = x - center
    for j in range(2, count):
        row = [MP.zero] * (j + 1)
        for i, c in enumerate(powers[j - 1]):
            row[i] += 2 * shift * c
            row[i + 1] += 2 * scale * c
        for i, c in enumerate(powers[j - 2]):
            row[i] -= c
        powers.append(row)
    return [MP.fsum(series[j] * powers[j][i] for j in range(i, count) if i < len(powers[j])) for i in range(count)]


def test_gelu_tables_are_the_documented_interpolants():
    """The polynomial tables in _numerics are what their comments say, recomputed here with mpmath.

    m(t) = erfcx(t / sqrt 2) / 2 = Phi(-t) / (sqrt(2 pi) phi(t)); in y = (t - 5) / (t + 5)
    over 0 <= t <= 40: (1 + t) m(t) and (m(t) - t / sqrt(2 pi)) / (t - r); and for the tanh
    approximation (1 + z x'(z) sigmoid(-x)) / (z - r2) in powers of z + 1.5 over [-2.5, -0.5].
    """
    with MP.workprec(200):
        def m(t: Mpf) -> Mpf:
            x = t / MP.sqrt(2)
            return MP.erfc(x) * MP.exp(x * x) / 2

        def t_of(y: Mpf) -> Mpf:
            return 5 * (1 + y) / (1 - y)

        root = MP.findroot(lambda t: m(t) - t / MP.sqrt(2 * MP.pi), MP.mpf("0.75"))
        root2 = MP.findroot(ex_gelu_tanh_grad, MP.mpf("-0.75"))
        assert (float(root), float(root - float(root))) == _numerics._GELU_ROOT
        assert (float(root2), float(root2 - float(root2))) == _numerics._GELU_TANH_ROOT

        def one_plus_a(z: Mpf) -> Mpf:  # (1 + tanh(u)) / 2 = sigmoid(x) factored out of the derivative
            x = MP.sqrt(8 / MP.pi) * (z + KAPPA * z**3)
            return 1 + z * _sigma(-x) * MP.sqrt(8 / MP.pi) * (1 + 3 * KAPPA * z * z)

        y_max = MP.mpf(35) / 45
        tables = [
            (lambda y: (1 + t_of(y)) * m(t_of(y)), -1, y_max, 0, _numerics._GELU_TAIL_HEAD, _numerics._GELU_TAIL),
            (
                lambda y: (m(t_of(y)) - t_of(y) / MP.sqrt(2 * MP.pi)) / (t_of(y) - root),
                -1, y_max, 0, _numerics._GELU_SLOPE_HEAD, _numerics._GELU_SLOPE,
            ),
            (lambda z: one_plus_a(z) / (z - root2), -2.5, -0.5, -1.5, _numerics._GELU_TANH_SLOPE_HEAD, _numerics._GELU_TANH_SLOPE),
        ]
        for f, lo, hi, center, head, stored in tables:
            expected = _chebyshev_monomials(f, MP.mpf(lo), MP.mpf(hi), len(stored) + 1, MP.mpf(center))
            assert abs(MP.mpf(head[0]) + head[1] - expected[0]) < MP.ldexp(abs(expected[0]), -100)
            # Each stored coefficient is the float nearest the 200-bit recomputation (whose own
            # error is about 2**-190 relative): half an ulp of it, and a sliver.
            ulps = [abs(MP.mpf(a) - c) / float(np.spacing(abs(float(c)))) for a, c in zip(stored, expected[1:], strict=True)]
            assert max(ulps) <= 0.5 + 2.0**-40, ulps


# --------------------------------------------------------------------------- PyTorch parity

SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5)]


def _torch_cases() -> list[tuple[str, Callable[..., Any], Callable[..., Any], Callable[..., Any], float]]:
    """(label, ours, our derivative, torch function, largest |z|)."""
    return [
        ("identity", identity, identity_grad, lambda t: t * 1.0, 50.0),
        ("sigmoid", sigmoid, sigmoid_grad, torch.sigmoid, 50.0),
        ("tanh", tanh, tanh_grad, torch.tanh, 20.0),
        ("relu", relu, relu_grad, F.relu, 50.0),
        ("leaky_relu", leaky_relu, leaky_relu_grad, F.leaky_relu, 50.0),
        ("leaky_relu(0.2)", *_case(leaky_relu, leaky_relu_grad, negative_slope=0.2), lambda t: F.leaky_relu(t, 0.2), 50.0),
        ("elu", elu, elu_grad, F.elu, 50.0),
        ("elu(0.5)", *_case(elu, elu_grad, alpha=0.5), lambda t: F.elu(t, alpha=0.5), 50.0),
        ("gelu", gelu, gelu_grad, F.gelu, 12.0),
        ("gelu_tanh", *_case(gelu, gelu_grad, approximate="tanh"), lambda t: F.gelu(t, approximate="tanh"), 12.0),
        # below torch's threshold (beta z = 20), above which it returns z itself (see below)
        ("softplus", softplus, softplus_grad, F.softplus, 19.0),
        ("softplus(2)", *_case(softplus, softplus_grad, beta=2.0), lambda t: F.softplus(t, beta=2.0), 9.5),
    ]


TORCH_CASES = _torch_cases()

EPS64 = float(np.finfo(np.float64).eps)
TORCH_TOLERANCE = {np.float64: (1e-13, 16 * EPS64), np.float32: (float(np.finfo(np.float32).eps), 16 * EPS64)}
"""(rtol, atol). The absolute floor, 16 float64 ulps of 1, is torch's error where it
computes a small result as a difference (0.5 * (1 + erf(x)) for gelu at x = -6); the
mpmath tests above show ours is exact there. float32 results are compared with torch's
float64 result for the same float32 inputs, rounded to float32: both are then roundings
of nearly the same number, at most one float32 ulp apart."""


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("label, ours, ours_grad, reference, limit", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_value_and_autograd(label, ours, ours_grad, reference, limit, dtype, shape):
    """Value against torch.nn.functional, derivative against torch.autograd (the gradient of sum f)."""
    rng = np.random.default_rng(zlib.crc32(f"{label}{shape}".encode()))
    x = np.clip(limit / 3 * rng.standard_normal(shape), -limit, limit).astype(dtype)
    if x.size >= 7:
        x.ravel()[:3] = [0.0, -0.0, 1e-3]  # the kinks' conventions at 0
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = reference(t)
    y.sum().backward()
    rtol, atol = TORCH_TOLERANCE[dtype]
    expected_value = y.detach().numpy().astype(dtype)
    expected_grad = t.grad.numpy().astype(dtype)
    np.testing.assert_allclose(ours(x), expected_value, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours_grad(x), expected_grad, rtol=rtol, atol=atol)
    # fed torch tensors, our functions return torch tensors with the same values
    out = ours(torch.tensor(x))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.tensor(x).dtype and tuple(out.shape) == shape
    np.testing.assert_allclose(out.numpy(), expected_value, rtol=rtol, atol=atol)


def test_softplus_has_no_threshold_unlike_torch():
    """Above beta*z = 20 torch returns z itself; the exact value (ours, and mpmath's) is larger."""
    z = np.asarray([21.0, 25.0, 30.0])
    torch_value = F.softplus(torch.from_numpy(z)).numpy()
    assert torch_value.tolist() == z.tolist()  # torch's threshold cut
    ours = softplus(z)
    for got, v in zip(ours.tolist(), z.tolist(), strict=True):
        # z + tail rounded once (0.5 ulp); tail < 1e-9 carries 4u of itself: 1e-10 ulp of z more.
        assert ulp_error(got, ex_softplus(MP.mpf(v), 1.0), np.float64) <= 1
    assert (ours > z).all()


def test_torch_gelu_loses_the_negative_tail():
    """Where 1 + erf cancels (z < -10), torch's exact GELU is off by orders of magnitude or 0; ours is not."""
    z = np.asarray([-12.0, -20.0, -30.0])
    exact = [ex_gelu(MP.mpf(v)) for v in z.tolist()]
    ours = gelu(z).tolist()
    # See GELU (z <= 0: 8.9u).
    assert max(ulp_error(g, e, np.float64) for g, e in zip(ours, exact, strict=True)) <= GELU
    theirs = F.gelu(torch.from_numpy(z)).tolist()
    assert max(ulp_error(g, e, np.float64) for g, e in zip(theirs, exact, strict=True)) > 1e6


# --------------------------------------------------------------------------- finite differences


def _richardson(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    """Central differences at h and h/2, extrapolated: error O(h**4) + rounding/h."""
    h = 1e-3 * np.maximum(1.0, np.abs(z))

    def central(step: np.ndarray) -> np.ndarray:
        return (f(z + step) - f(z - step)) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_derivative_matches_finite_differences(case):
    """f_grad against differences of f itself, away from the kink at 0 (relu, leaky_relu, elu)."""
    rng = np.random.default_rng(7)
    z = rng.uniform(-8.0, 8.0, 400)
    z = z[np.abs(z) > 0.05]
    np.testing.assert_allclose(case.grad(z), _richardson(case.value, z), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize(
    "function, grad", [(softmax, softmax_grad), (log_softmax, log_softmax_grad)], ids=["softmax", "log_softmax"]
)
def test_vector_jacobian_products_match_directional_differences(function, grad, axis):
    """<v, f_grad(Z, g)> = d/de sum(g * f(Z + e v)) at e = 0, for random Z, g and direction v."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        Z, g, v = (rng.standard_normal((4, 6)) * s for s in (3.0, 1.0, 1.0))
        Z[1, 2] = -np.inf  # a masked entry moves nothing
        v[1, 2] = 0.0

        finite = np.isfinite(Z)

        def phi(e: np.ndarray, Z=Z, g=g, v=v, finite=finite) -> np.ndarray:
            # the masked entry's output (0, or -inf for log_softmax) does not move
            return np.asarray([np.sum((g * function(Z + t * v, axis=axis))[finite]) for t in e])

        directional = _richardson(phi, np.zeros(1))[0]
        g_used = np.where(finite, g, 0.0)  # phi ignores the masked output: so does its gradient
        np.testing.assert_allclose(np.sum(v * grad(Z, g_used, axis=axis)), directional, rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------------------- softmax against mpmath and torch


def _exact_softmax_row(row: Sequence[float]) -> tuple[list[Mpf], list[Mpf]]:
    """Probabilities and log-probabilities of one row, -inf entries masked.

    Shifted by the maximum (exactly: the differences of floats fit in 160 bits only when
    the floats are close, so they are formed at 2100 bits) to keep log(sum) small.
    """
    with MP.workprec(2200):
        finite = [MP.mpf(v) for v in row if v != -math.inf]
        top = max(finite)
        shifted = [MP.mpf(v) - top if v != -math.inf else -MP.inf for v in row]
        log_total = MP.log(MP.fsum(MP.exp(d) for d in shifted if d != -MP.inf))
        logs = [d - log_total for d in shifted]
        return [MP.exp(v) for v in logs], logs


def _logit_rows() -> list[list[float]]:
    rng = np.random.default_rng(11)
    rows = [list(rng.standard_normal(n) * s) for n in (1, 2, 3, 5, 10) for s in (0.1, 3.0, 30.0)]
    rows += [
        [0.0, -700.0, -745.5, 30.0],  # probabilities down to the subnormal range
        [1e300, 1e300, -1e300],  # huge logits: the differences are exact
        [0.1, 700.0, 699.9, -1e-20],  # a gap of 700 rounds z - max; kept exactly
        [0.0, -np.inf, 2.0, -np.inf],  # masked entries
        [-np.inf, 5.0, -np.inf],  # one entry left: probability exactly 1
        [5e-324, -5e-324, 0.0],
        [-40.0, -40.0, -40.0, 80.0],  # a confident row: log1p of ~1e-52
    ]
    return rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_softmax_and_log_softmax_are_within_a_few_ulps(dtype):
    """Every probability and log-probability of every stress row, against mpmath."""
    for row in _logit_rows():
        z = np.asarray(row, dtype=np.float64)
        if np.abs(z[np.isfinite(z)]).max() > np.finfo(dtype).max:
            continue
        z = z.astype(dtype)
        probabilities, logs = _exact_softmax_row(z.tolist())
        n = z.size
        # e = exp(d) (d + d_error exact) 2u, its first-order correction u: 3u. rest, n - 1 such
        # terms >= 0 in any order: (3 + n - 2)u. softmax e / (1 + rest): rest/(1 + rest) <=
        # (n - 1)/n of that, + 1 + rest u, / u. log_softmax (d - log1p(rest)) + d_error: log1p
        # 2u (its condition <= 1), two terms of one sign u, + d_error u: (n + 5)u.
        softmax_bound = tolerance(dtype, math.ceil(2 * (5 + (n + 1) * (n - 1) / n)) / 2)
        check_ulps("softmax", softmax(z[None, :]), z, probabilities, dtype, "numpy", softmax_bound)
        check_ulps("log_softmax", log_softmax(z), z, logs, dtype, "numpy", tolerance(dtype, n + 5))


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_softmax_family_matches_torch(axis, dtype):
    """softmax, log_softmax and their vector-Jacobian products against torch, along any axis.

    The reference is torch in float64 on the same inputs (rounded to float32 for float32
    input, as for the element-wise functions).
    """
    rng = np.random.default_rng(axis + 10)
    Z = (4 * rng.standard_normal((3, 4, 5))).astype(dtype)
    Z[0, 1, 2] = -np.inf
    g = rng.standard_normal(Z.shape).astype(dtype)
    rtol, atol = TORCH_TOLERANCE[dtype]
    for ours, ours_grad, reference in [
        (softmax, softmax_grad, torch.softmax),
        (log_softmax, log_softmax_grad, torch.log_softmax),
    ]:
        t = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
        y = reference(t, dim=axis)
        (y * torch.tensor(g, dtype=torch.float64)).sum().backward()  # d/dy = g, also at the masked -inf
        value = ours(Z, axis=axis)
        assert value.dtype == dtype
        np.testing.assert_allclose(value, y.detach().numpy().astype(dtype), rtol=rtol, atol=atol)
        np.testing.assert_allclose(ours_grad(Z, g, axis=axis), t.grad.numpy().astype(dtype), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- softmax properties


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_rows_sum_to_one(axis):
    rng = np.random.default_rng(5)
    Z = 20 * rng.standard_normal((6, 7, 8))
    rows = np.sum(softmax(Z, axis=axis), axis=axis)
    n, u = Z.shape[axis], 2.0**-53
    # Each s_i within (5 + (n + 1)(n - 1)/n)u (see test_softmax_and_log_softmax_are_within_a_few_ulps),
    # their sum rounds n - 1 times more: < (4 + 2n)u of 1.
    assert np.max(np.abs(rows - 1.0)) <= (4 + 2 * n) * u
    # exp(ls_i): |ls_i| (n + 5)u + 2u; weighted by s_i, sum s_i |ls_i| <= log n; the sum n - 1:
    rtol = ((n + 5) * math.log(n) + 2 + n - 1) * u
    assert np.allclose(np.sum(np.exp(log_softmax(Z, axis=axis)), axis=axis), 1.0, rtol=rtol, atol=0.0)


def test_minus_infinity_masks_an_entry():
    """A -inf logit has probability exactly 0 (log-probability -inf); the rest renormalize."""
    Z = np.asarray([[0.0, -np.inf, np.log(3.0)], [-np.inf, -np.inf, 7.0]])
    p = softmax(Z)
    assert p[0, 1] == 0.0 and p[1, 0] == 0.0 and p[1, 1] == 0.0
    assert p[1, 2] == 1.0
    # np.log(3) 2u (2.2u absolute), exp of it 2u: rest 4.2u; 0.75 = 1/(1 + rest): 4.2u / 4 + 2u;
    # 0.25 = e / (1 + rest): 4.2u + 1.05u + 2u = 7.25u.
    np.testing.assert_allclose(p[0], [0.25, 0.0, 0.75], rtol=7.5 * 2.0**-53)
    logs = log_softmax(Z)
    assert logs[0, 1] == -np.inf and logs[1, 2] == 0.0
    assert softmax_grad(Z, np.ones_like(Z))[0, 1] == 0.0


@pytest.mark.parametrize(
    "Z, axis, where",
    [
        ([[0.0, 1.0], [-np.inf, -np.inf]], -1, "Z[1, :]"),
        ([[0.0, -np.inf], [1.0, -np.inf]], 0, "Z[:, 1]"),
        ([-np.inf, -np.inf], -1, "Z[:]"),
    ],
)
@pytest.mark.parametrize("function", [softmax, log_softmax], ids=lambda f: f.__name__)
def test_a_fully_masked_row_is_an_error(function, Z, axis, where):
    with pytest.raises(NonFiniteError, match="no probability distribution") as error:
        function(Z, axis=axis)
    assert where in str(error.value) and "-inf" in str(error.value)
    assert str(error.value).startswith(function.__name__)


def test_plus_infinity_is_refused():
    with pytest.raises(NonFiniteError, match=r"\+inf"):
        softmax([0.0, np.inf])


def test_huge_logits_neither_overflow_nor_warn():
    with np.errstate(all="raise"):
        assert softmax([1e308, -1e308, 1e308]).tolist() == [0.5, 0.0, 0.5]
        assert log_softmax([1e308, -1e308]).tolist() == [0.0, -np.inf]  # exact -2e308 rounds to -inf


def test_log_softmax_is_finite_where_softmax_underflows():
    """log(softmax) would be -inf; log_softmax gives -1000 and the tiny -log1p(e^-700)."""
    # e^-1000 is below the smallest subnormal: a libm within 1 ulp returns 0 or 2**-1074,
    # so each result is within 2**-1074 (absolute) of the exact one, which rounds to 0 and -1000.
    got = log_softmax([0.0, -1000.0])
    assert abs(got[0]) <= 2.0**-1074 and got[1] == -1000.0
    # e^-700 is a normal number that log1p keeps: -log1p(rest) with rest = e^-700 (exp 2u),
    # log1p 2u (condition <= 1), the subtraction from 0 exact: 4u, within 4 ulp.
    tiny = log_softmax([0.0, -700.0])[0]
    with mpmath.workprec(160):
        exact = -mpmath.log1p(mpmath.exp(-700))
    assert tiny < 0 and abs(tiny - float(exact)) <= 4 * math.ulp(float(exact))


@pytest.mark.parametrize("shape, axis", [((0, 3), -1), ((3, 0), -1), ((0,), 0)])
def test_empty_input_gives_empty_output(shape, axis):
    Z = np.zeros(shape)
    for function in (softmax, log_softmax):
        assert function(Z, axis=axis).shape == shape
    for grad in (softmax_grad, log_softmax_grad):
        assert grad(Z, Z, axis=axis).shape == shape


def test_axis_errors():
    with pytest.raises(InvalidOptionError, match=r"softmax: Z is a scalar \(0-d\)"):
        softmax(3.0)
    with pytest.raises(InvalidOptionError, match=r"log_softmax: axis=1 is out of range for a 1-d Z"):
        log_softmax([1.0, 2.0], axis=1)
    with pytest.raises(InvalidOptionError, match=r"axis=-3 is out of range for a 2-d Z; expected -2 <= axis < 2"):
        softmax([[1.0, 2.0]], axis=-3)
    for bad in (True, 1.0, None, (0,)):
        with pytest.raises(InvalidOptionError, match="axis must be an integer"):
            softmax([[1.0, 2.0]], axis=bad)
    assert softmax([[1.0, 1.0]], axis=np.int64(0)).tolist() == [[1.0, 1.0]]  # NumPy integers are integers


def test_vjp_arguments_are_checked():
    with pytest.raises(ShapeMismatchError, match="softmax_grad: Z and grad_output must have the same shape"):
        softmax_grad([[1.0, 2.0]], [1.0, 2.0])
    with pytest.raises(NonFiniteError, match="log_softmax_grad: grad_output"):
        log_softmax_grad([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(InvalidTypeError, match="one array library"):
        softmax_grad(np.ones(2), torch.ones(2))


# --------------------------------------------------------------------------- dtypes, shapes, libraries

ELEMENTWISE = [f for pair in ACTIVATIONS.values() for f in pair]
ALONG_AXIS = [softmax, log_softmax]


def _all_functions() -> list[Callable[[Any], Any]]:
    grads = [lambda Z, g=g: g(Z, Z) for g in (softmax_grad, log_softmax_grad)]
    return ELEMENTWISE + ALONG_AXIS + grads


ALL = _all_functions()


@pytest.mark.parametrize("function", ALL)
@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 4)], ids=str)
def test_dtype_shape_and_library_are_kept(function, shape):
    x = np.linspace(-3, 3, math.prod(shape)).reshape(shape)
    for dtype in (np.float32, np.float64):
        out = function(x.astype(dtype))
        assert isinstance(out, np.ndarray) and out.dtype == dtype and out.shape == shape
    assert function(x.astype(np.int64)).dtype == np.float64
    assert function(x.tolist()).dtype == np.float64
    assert function(x > 0).dtype == np.float64
    for torch_dtype in (torch.float32, torch.float64):
        out = function(torch.tensor(x, dtype=torch_dtype))
        assert isinstance(out, torch.Tensor) and out.dtype == torch_dtype and tuple(out.shape) == shape
    out = function(xps.asarray(x, dtype=xps.float32))
    assert array_api_compat.array_namespace(out) is xps and out.dtype == xps.float32


@pytest.mark.parametrize("function", ELEMENTWISE)
def test_elementwise_functions_take_scalars(function):
    """A Python number gives a NumPy float64 scalar (0-d), a NumPy float32 scalar a float32 one."""
    out = function(0.5)
    assert array_api_compat.is_numpy_array(np.asarray(out)) and np.shape(out) == () and out.dtype == np.float64
    assert function(np.float32(0.5)).dtype == np.float32


def test_large_arrays_are_computed_in_pieces_identically():
    """NumPy arrays above 32768 elements go through the kernel in pieces: same values as whole."""
    rng = np.random.default_rng(1)
    big = 6 * rng.standard_normal((300, 250))
    for function in (gelu, gelu_grad, tanh_grad, softplus, softplus_grad):
        whole = function(big)
        assert whole.shape == big.shape
        np.testing.assert_array_equal(whole[::7, ::5], function(big[::7, ::5]))
    transposed = big.T  # not contiguous
    np.testing.assert_array_equal(gelu(transposed), gelu(np.ascontiguousarray(transposed)))


def test_identity_returns_a_new_array():
    x = np.asarray([1.0, 2.0])
    out = identity(x)
    out[0] = 5.0
    assert x[0] == 1.0


@pytest.mark.parametrize("function", ELEMENTWISE + ALONG_AXIS)
def test_no_warning_at_the_extremes(function):
    """No RuntimeWarning and no floating-point exception, even with every NumPy error raising."""
    extremes = [-1e308, -1000.0, -745.0, -40.0, -5e-324, -0.0, 0.0, 5e-324, 1e-310, 40.0, 745.0, 1000.0, 1e308]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for dtype in (np.float64, np.float32):
            x = np.asarray([v for v in extremes if abs(v) <= float(np.finfo(dtype).max)], dtype=dtype)
            if function not in ALONG_AXIS:
                x = np.concatenate([x, np.asarray([-np.inf, np.inf], dtype=dtype)])
            assert not np.isnan(function(x)).any()


def test_options_at_their_extremes_do_not_warn():
    x = np.asarray([-np.inf, -1e308, -1.0, -5e-324, 0.0, 1e-300, 1.0, 1e308, np.inf])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for slope in (0.0, 3.0, -1e300):
            assert not np.isnan(leaky_relu(x, negative_slope=slope)).any()
        assert leaky_relu([-np.inf, 1.0], negative_slope=0.0).tolist() == [0.0, 1.0]
        assert leaky_relu(np.float32([-3e38]), negative_slope=2.0).tolist() == [-np.inf]  # rounds to -inf
        for alpha in (0.0, 1e300, -2.0):
            assert not np.isnan(elu(x, alpha=alpha)).any() and not np.isnan(elu_grad(x, alpha=alpha)).any()
        for beta in (1e-300, 1e-5, 7.0, 1e10, 1e300, 1e308):
            assert not np.isnan(softplus(x, beta=beta)).any()
            assert not np.isnan(softplus_grad(x, beta=beta)).any()


def test_conventions_at_the_kinks():
    """relu'(0) = 0 (PyTorch), leaky_relu'(0) = slope, elu'(0) = alpha, gelu'(0) = 1/2."""
    zero = np.asarray([0.0, -0.0])
    assert relu_grad(zero).tolist() == [0.0, 0.0]
    assert leaky_relu_grad(zero, negative_slope=0.3).tolist() == [0.3, 0.3]
    assert elu_grad(zero, alpha=0.5).tolist() == [0.5, 0.5]
    assert gelu_grad(zero).tolist() == [0.5, 0.5]
    assert gelu_grad(zero, approximate="tanh").tolist() == [0.5, 0.5]
    assert softplus(zero).tolist() == [math.log(2.0)] * 2


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sigmoid([0.0, np.nan]), NonFiniteError, r"sigmoid: Z must hold finite numbers; got 1 NaN value \(first at Z\[1\]\)"),
        (lambda: gelu(None), InvalidTypeError, "gelu: Z is None"),
        (lambda: tanh([1 + 2j]), InvalidTypeError, "tanh: Z must be real"),
        (lambda: relu("1.0"), InvalidTypeError, "relu: Z must be numeric"),
        (lambda: gelu([1.0], approximate=True), InvalidOptionError, "approximate='tanh' here"),
        (lambda: gelu([1.0], approximate="erf"), InvalidOptionError, "approximate must be 'none'"),
        (lambda: gelu_grad([1.0], approximate=None), InvalidOptionError, "gelu_grad: approximate"),
        (lambda: leaky_relu([1.0], negative_slope="0.1"), InvalidOptionError, "leaky_relu: negative_slope must be a real number"),
        (lambda: leaky_relu_grad([1.0], negative_slope=np.inf), InvalidOptionError, "negative_slope must be a finite number"),
        (lambda: elu([1.0], alpha=True), InvalidOptionError, "elu: alpha must be a real number"),
        (lambda: elu_grad([1.0], alpha=np.nan), InvalidOptionError, "elu_grad: alpha must be a finite number"),
        (lambda: softplus([1.0], beta=0.0), InvalidOptionError, "softplus: beta must be a positive finite number"),
        (lambda: softplus_grad([1.0], beta=-1.0), InvalidOptionError, "softplus_grad: beta must be a positive"),
        (lambda: softplus([1.0], beta=torch.tensor(2.0)), InvalidOptionError, r"beta=float\(value\)"),
    ],
)
def test_errors_name_the_function_and_the_fix(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------- registry


def test_registry_lists_every_elementwise_activation():
    assert list(ACTIVATIONS) == [
        "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "softplus",
    ]
    assert ACTIVATIONS["relu"] == (relu, relu_grad)
    assert ACTIVATIONS["sigmoid"] == (sigmoid, sigmoid_grad)
    for name, (value, grad) in ACTIVATIONS.items():
        assert get_activation(name) == (value, grad)
    f, f_grad = get_activation("gelu_tanh")
    x = np.linspace(-4, 4, 9)
    np.testing.assert_array_equal(f(x), gelu(x, approximate="tanh"))
    np.testing.assert_array_equal(f_grad(x), gelu_grad(x, approximate="tanh"))
    assert set(activations.__all__) >= {"ACTIVATIONS", "get_activation", "softmax_grad", "log_softmax_grad"}


@pytest.mark.parametrize(
    "name, hint",
    [
        ("ReLU", "Did you mean 'relu'?"),
        ("LeakyReLU", "Did you mean 'leaky_relu'?"),
        ("leaky-relu", "Did you mean 'leaky_relu'?"),
        ("GELU_tanh", "Did you mean 'gelu_tanh'?"),
        ("sigmiod", "Did you mean 'sigmoid'?"),
        ("linear", "Did you mean 'identity'?"),
        ("softmax", "normalize along an axis"),
        ("swish", "is not provided"),
        (relu, "Pass the name as a string, e.g. 'relu'"),
        (None, "expected one of"),
    ],
)
def test_get_activation_suggests_the_right_name(name, hint):
    with pytest.raises(InvalidOptionError) as error:
        get_activation(name)
    message = str(error.value)
    assert message.startswith("get_activation: unknown activation")
    assert hint in message
    assert "'identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'elu', 'gelu', 'gelu_tanh', 'softplus'" in message
