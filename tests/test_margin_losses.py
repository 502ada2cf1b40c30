"""The margin and hinge losses, each with its gradient, against independent references.

* PyTorch (``torch.nn.functional``): ``soft_margin_loss``, ``hinge_embedding_loss``,
  ``margin_ranking_loss``: values and autograd gradients, every reduction, float32 and
  float64, random data, exact kinks, huge and tiny values, empty input.
* scikit-learn's binary ``sklearn.metrics.hinge_loss`` (mean, sample weights).
* mpmath: every element of every loss and gradient against the formula evaluated exactly
  (the float inputs as given, 200-bit arithmetic), in ulps.
* Hand derivations at the kinks; central finite differences away from them.
* Properties: reductions, weights, dtypes, blocked evaluation, errors.

No expected value here comes from the functions under test. ``pytest -s`` prints the
worst ulp error measured for each loss, dtype and quantity at the end of the module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
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
from neural_network.losses.ranking import _margin as _margin_ranking
from test_exactness import sum_roundings

torch = pytest.importorskip("torch")
metrics = pytest.importorskip("sklearn.metrics")
F = torch.nn.functional

MP = mpmath.MPContext()
MP.prec = 200
Mpf = Any

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["float64", "float32"]
REDUCTIONS = ["mean", "sum", "none"]
TORCH_DTYPES = {np.float64: torch.float64, np.float32: torch.float32}
EPS = {np.float64: 2.0**-52, np.float32: 2.0**-23}

# --------------------------------------------------------------------------- the ulp ruler

FORMATS = {np.float64: (53, -1022, 1023), np.float32: (24, -126, 127)}


def ulp_error(got: float, exact: Mpf, dtype: type) -> float:
    """``|got - exact|`` in ulps of ``dtype`` at ``exact``; a value beyond the range must be inf."""
    precision, emin, emax = FORMATS[dtype]
    got = float(got)
    if math.isnan(got):
        return math.inf
    if abs(exact) >= MP.ldexp(2 - MP.ldexp(1, -precision), emax):
        return 0.0 if got == math.copysign(math.inf, float(exact)) else math.inf
    if math.isinf(got):
        return math.inf
    exponent = emin if exact == 0 else max(MP.frexp(exact)[1] - 1, emin)
    return float(abs(MP.mpf(got) - exact) / MP.ldexp(1, exponent - precision + 1))


def test_the_ruler():
    assert ulp_error(1.0 + 2.0**-52, MP.mpf(1), np.float64) == 1.0
    assert ulp_error(5e-324, MP.zero, np.float64) == 1.0
    assert ulp_error(math.inf, MP.mpf(10) ** 400, np.float64) == 0.0


WORST: dict[tuple[str, str, str], float] = {}


def record(loss: str, dtype: type, quantity: str, errors: list[float]) -> float:
    worst = max(errors, default=0.0)
    key = (loss, np.dtype(dtype).name, quantity)
    WORST[key] = max(WORST.get(key, 0.0), worst)
    return worst


@pytest.fixture(scope="module", autouse=True)
def _report_worst() -> Iterator[None]:
    yield
    if WORST:
        print("\nworst ulp error measured (margin losses):")
        for (loss, dtype, quantity), worst in sorted(WORST.items()):
            print(f"  {loss:24s} {dtype:8s} {quantity:6s} {worst:6.3f}")


# --------------------------------------------------------------------------- data

EDGES = np.array(
    [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        1e-300,
        -1e-300,
        5e-324,
        30.0,
        -30.0,
        40.0,
        -40.0,
        88.0,
        -88.0,
        100.0,
        -100.0,
        700.0,
        -700.0,
        709.0,
        -709.0,
        740.0,
        -740.0,
        800.0,
        -800.0,
        1e10,
        -1e10,
        1e300,
        -1e300,
        1.7e308,
        -1.7e308,
        1.0 + 2.0**-52,
        1.0 - 2.0**-53,
    ]
)


def scores(dtype: type, seed: int = 0, size: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Random scores (several scales) and the edge values, each with both labels."""
    rng = np.random.default_rng(seed)
    random = rng.standard_normal(size) * rng.choice([0.1, 1.0, 5.0, 50.0], size)
    with np.errstate(over="ignore"):
        edges = EDGES.astype(dtype)
    edges = edges[np.isfinite(edges)]
    x = np.concatenate([random.astype(dtype), edges, edges])
    y = np.concatenate([rng.choice([-1.0, 1.0], size), np.ones(edges.size), -np.ones(edges.size)])
    return x, y.astype(dtype)


def torch_loss(
    function: Callable[..., Any], arrays: list[np.ndarray], **options: Any
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Torch's value and autograd gradients (of the value's sum) for the first arrays but the last."""
    tensors = [torch.tensor(a, requires_grad=i < len(arrays) - 1) for i, a in enumerate(arrays)]
    value = function(*tensors, **options)
    if tensors[0].numel():
        value.sum().backward()
    grads = [
        t.grad.numpy() if t.grad is not None else np.zeros_like(a)
        for t, a in zip(tensors[:-1], arrays[:-1], strict=True)
    ]
    return value.detach().numpy(), grads


def assert_close(got: Any, expected: Any, dtype: type, ulps: float, *, scale: Any = None) -> None:
    """Equal where ``expected`` is finite, within ``ulps`` of ``dtype`` relative to ``|expected|``
    (or to ``scale``, the size of what cancelled)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape
    finite = np.isfinite(expected)
    size = np.abs(expected) if scale is None else np.maximum(np.abs(expected), scale)
    tolerance = ulps * EPS[dtype] * size + np.finfo(dtype).smallest_subnormal * ulps
    with np.errstate(invalid="ignore"):
        bad = finite & ~(np.abs(got - expected) <= tolerance)
    assert not bad.any(), (got[bad][:5], expected[bad][:5])


# --------------------------------------------------------------------------- PyTorch parity


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_matches_torch(dtype, reduction):
    x, y = scores(dtype)
    expected, (grad,) = torch_loss(F.soft_margin_loss, [x, y], reduction=reduction)
    got = losses.soft_margin_loss(x, y, reduction=reduction)
    got_grad = losses.soft_margin_loss_grad(x, y, reduction=reduction)
    assert np.asarray(got).dtype == dtype and got_grad.dtype == dtype
    # Torch overflows (inf loss, NaN gradient) where -y x > 709 (88 in float32): there
    # the exact reference below decides; everywhere else both are within their bounds.
    # In u of the dtype (assert_close counts ulps of 2u): ours SOFT_MARGIN (float32: the
    # float64 result rounded once, u + 5u64); torch's log1p(exp(u)): exp 2u (log1p's
    # condition <= 1) + log1p 2u. Reductions: ours sum_roundings(n), torch's any order,
    # the mean's division u each.
    n = x.size
    sums = (sum_roundings(n) + any_order(n) + 2 * (reduction == "mean")) if reduction != "none" else 0
    ours = SOFT_MARGIN[0] if dtype == np.float64 else 1 + SOFT_MARGIN[0] * 2.0**-29
    assert_close(got, expected, dtype, (ours + 4 + sums) / 2)
    # Gradient: ours SOFT_MARGIN (sigmoid_pair); torch's -y z / (1 + z), z = exp(-y x):
    # exp 2u (condition 1/(1 + z) <= 1), 1 + z u, the division u; the mean: 1/n u, the product u
    # (ours divides once by n: u).
    mean = 3 if reduction == "mean" else 0
    ours = SOFT_MARGIN[1] if dtype == np.float64 else 1 + SOFT_MARGIN[1] * 2.0**-29
    assert_close(got_grad, grad, dtype, (ours + 4 + mean) / 2)
    if reduction == "none":
        u = -y.astype(np.float64) * x
        assert np.isinf(expected[u > 720]).all() and np.isfinite(got).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.5, -0.25, 2.0])
def test_hinge_embedding_matches_torch(dtype, reduction, margin):
    x, y = scores(dtype, seed=1)
    x = np.concatenate([x, np.array([margin, margin, margin - 1e-3], dtype=dtype)])  # exact kinks
    y = np.concatenate([y, np.array([-1.0, 1.0, -1.0], dtype=dtype)])
    x = x[np.abs(x.astype(np.float64)) < 1e300]  # torch's float sums overflow where ours are exact; see below
    y = y[: x.size]
    expected, (grad,) = torch_loss(F.hinge_embedding_loss, [x, y], margin=margin, reduction=reduction)
    got = losses.hinge_embedding_loss(x, y, margin=margin, reduction=reduction)
    got_grad = losses.hinge_embedding_loss_grad(x, y, margin=margin, reduction=reduction)
    assert np.asarray(got).dtype == dtype and got_grad.dtype == dtype
    if reduction == "none" and dtype == np.float64:
        np.testing.assert_array_equal(got, expected)  # the same single rounding: the same bits
    elif reduction == "none":  # float32: ours u (+ u64, the float64 rounding), torch's margin - x u
        assert_close(got, expected, dtype, 1.5)
    else:  # torch accumulates in float32 (or rounds margin - x in float32 first)
        # Each |l| <= |x| + |margin|: elements u each side; the sums, ours sum_roundings(n)
        # and torch's any order, u of sum |l| per rounding; the mean's division u each.
        n = x.size
        scale = (np.abs(x).astype(np.float64) + abs(margin)).sum()
        bound = 2 + sum_roundings(n) + any_order(n) + 2 * (reduction == "mean")
        assert_close(got, expected, dtype, bound / 2, scale=scale)
    # +-1 and 0, divided by n for the mean: fl(1/n) both ways (torch: 1/n times +-1, exact).
    np.testing.assert_array_equal(got_grad, grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5, -1.0])
def test_margin_ranking_matches_torch(dtype, reduction, margin):
    rng = np.random.default_rng(2)
    x1, y = scores(dtype, seed=2)
    x2 = (rng.standard_normal(x1.size) * 3).astype(dtype)
    # Exact kinks: x1 - x2 == margin * y, both labels.
    k1 = np.array([0.0, 1.0, 2.5, -3.0, 0.5], dtype=dtype)
    x1 = np.concatenate([x1, k1, k1])
    x2 = np.concatenate([x2, k1 - dtype(margin), k1 + dtype(margin)])
    y = np.concatenate([y, np.ones(5, dtype), -np.ones(5, dtype)])
    keep = (np.abs(x1.astype(np.float64)) < 1e300) & (np.abs(x2.astype(np.float64)) < 1e300)
    x1, x2, y = x1[keep], x2[keep], y[keep]
    expected, (g1, g2) = torch_loss(F.margin_ranking_loss, [x1, x2, y], margin=margin, reduction=reduction)
    got = losses.margin_ranking_loss(x1, x2, y, margin=margin, reduction=reduction)
    got1, got2 = losses.margin_ranking_loss_grad(x1, x2, y, margin=margin, reduction=reduction)
    assert np.asarray(got).dtype == dtype and got1.dtype == dtype and got2.dtype == dtype
    # Torch rounds x1 - x2 first: the two agree within the rounding of what cancelled.
    # Ours is rounded once (u |l|), torch's x1 - x2 and + margin twice (2u of the sizes);
    # reductions: ours sum_roundings(n), torch's any order, the mean's division u each.
    size = np.abs(x1.astype(np.float64)) + np.abs(x2) + abs(margin)
    scale = size.sum() if reduction != "none" else size
    n = x1.size
    sums = (sum_roundings(n) + any_order(n) + 2 * (reduction == "mean")) if reduction != "none" else 0
    assert_close(got, expected, dtype, (3 + sums) / 2, scale=scale)
    np.testing.assert_array_equal(got1, g1)
    np.testing.assert_array_equal(got2, g2)


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_empty_input_matches_torch(reduction):
    empty = np.empty((0, 3))
    for ours, theirs in [
        (losses.soft_margin_loss, F.soft_margin_loss),
        (losses.hinge_embedding_loss, F.hinge_embedding_loss),
    ]:
        expected = theirs(torch.tensor(empty), torch.tensor(empty), reduction=reduction).numpy()
        got = ours(empty, empty, reduction=reduction)
        np.testing.assert_array_equal(got, expected)
        assert np.shape(got) == expected.shape
    got = losses.margin_ranking_loss(empty, empty, empty, reduction=reduction)
    expected = F.margin_ranking_loss(*(torch.tensor(empty),) * 3, reduction=reduction).numpy()
    np.testing.assert_array_equal(got, expected)
    g1, g2 = losses.margin_ranking_loss_grad(empty, empty, empty, reduction=reduction)
    assert g1.shape == g2.shape == (0, 3)


def test_torch_tensors_stay_tensors():
    x = torch.tensor([0.5, -2.0, 3.0], dtype=torch.float32)
    y = torch.tensor([1.0, -1.0, -1.0], dtype=torch.float32)
    for value, grad in [
        (losses.soft_margin_loss, losses.soft_margin_loss_grad),
        (losses.hinge_loss, losses.hinge_loss_grad),
        (losses.hinge_embedding_loss, losses.hinge_embedding_loss_grad),
    ]:
        loss, gradient = value(x, y), grad(x, y)
        assert isinstance(loss, torch.Tensor) and loss.dtype == torch.float32 and loss.ndim == 0
        assert isinstance(gradient, torch.Tensor) and gradient.dtype == torch.float32
    expected = F.margin_ranking_loss(x, x * 0.5, y, margin=0.25)
    got = losses.margin_ranking_loss(x, x * 0.5, y, margin=0.25)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    torch.testing.assert_close(got, expected)
    g1, g2 = losses.margin_ranking_loss_grad(x, x * 0.5, y, margin=0.25, reduction="none")
    assert isinstance(g1, torch.Tensor) and isinstance(g2, torch.Tensor)


# --------------------------------------------------------------------------- scikit-learn, hand derivations


def test_hinge_mean_matches_scikit_learn():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200) * 2
    y = rng.choice([-1.0, 1.0], 200)
    w = rng.random(200)
    # scikit-learn: 1 - y x (as ours, u each), clipped, np.average: the pairwise sum
    # additions(200), / n; ours sum_roundings(200), / n. Weighted: w l u each side, and
    # the sums of w as long again.
    n = 200
    plain = 2 + additions(n) + sum_roundings(n) + 2
    weighted = plain + 2 + additions(n) + sum_roundings(n)
    assert math.isclose(float(losses.hinge_loss(x, y)), metrics.hinge_loss(y, x), rel_tol=plain * U)
    assert math.isclose(
        float(losses.hinge_loss(x, y, sample_weight=w)),
        metrics.hinge_loss(y, x, sample_weight=w),
        rel_tol=weighted * U,
    )


def test_hand_derived_values_and_kinks():
    x = np.array([2.0, 1.0, 0.5, 0.0, -0.0, -0.5, -3.0])
    y = np.ones(7)
    # hinge max(0, 1 - x); gradient -1 where x <= 1 (the kink x = 1 included).
    np.testing.assert_array_equal(losses.hinge_loss(x, y, reduction="none"), [0, 0, 0.5, 1, 1, 1.5, 4])
    np.testing.assert_array_equal(losses.hinge_loss_grad(x, y, reduction="none"), [0, -1, -1, -1, -1, -1, -1])
    np.testing.assert_array_equal(losses.hinge_loss_grad(-x, -y, reduction="none"), [0, 1, 1, 1, 1, 1, 1])
    # squared hinge: (1 - x)^2 and -2 (1 - x), 0 at the kink from both sides.
    np.testing.assert_array_equal(
        losses.squared_hinge_loss(x, y, reduction="none"), [0, 0, 0.25, 1, 1, 2.25, 16]
    )
    np.testing.assert_array_equal(
        losses.squared_hinge_loss_grad(x, y, reduction="none"), [0, 0, -1, -2, -2, -3, -8]
    )
    # perceptron max(0, -x); gradient -1 where x <= 0 (the boundary included).
    np.testing.assert_array_equal(losses.perceptron_loss(x, y, reduction="none"), [0, 0, 0, 0, 0, 0.5, 3])
    np.testing.assert_array_equal(
        losses.perceptron_loss_grad(x, y, reduction="none"), [0, 0, 0, -1, -1, -1, -1]
    )
    # No -0.0 anywhere: an inactive element's loss and gradient are +0.0.
    for function in (
        losses.hinge_loss_grad,
        losses.perceptron_loss_grad,
        losses.squared_hinge_loss_grad,
        losses.perceptron_loss,
    ):
        for sign in (1.0, -1.0):
            out = function(sign * x, sign * y, reduction="none")
            assert not np.signbit(out[out == 0]).any()


def test_large_margins_are_exact_where_torch_overflows():
    # soft margin: -y x = 1000 gives 1000 (plus exp(-1000), far below an ulp); torch: inf.
    assert losses.soft_margin_loss([1000.0], [-1.0]) == 1000.0
    assert losses.soft_margin_loss_grad([1000.0], [-1.0]) == 1.0
    assert losses.soft_margin_loss([1.7e308], [-1.0]) == 1.7e308
    # margin ranking: x1 - x2 overflows but the loss does not.
    got = losses.margin_ranking_loss([1e308], [-1e308], [-1.0], margin=-1.5e308, reduction="none")[0]
    # From the halves: 5e307 + 5e307 exact, -0.75e308 + 1e308 by TwoSum (error 0), rounded
    # once and doubled exactly: 0.5 ulp.
    assert ulp_error(got, MP.mpf(-1.5e308) + 2 * MP.mpf(1e308), np.float64) <= 0.5
    assert losses.margin_ranking_loss([1e308], [-1e308], [-1.0], reduction="none")[0] == math.inf
    assert losses.margin_ranking_loss([1e308], [-1e308], [1.0], reduction="none")[0] == 0.0
    g1, g2 = losses.margin_ranking_loss_grad([1e308, 1e308], [-1e308, -1e308], [-1.0, 1.0], reduction="none")
    np.testing.assert_array_equal(g1, [1.0, 0.0])
    np.testing.assert_array_equal(g2, [-1.0, 0.0])
    # the margin cancels the difference: rounded once from the exact value
    x1, x2 = 1.0 + 2.0**-52, 1e-17
    got = losses.margin_ranking_loss([x1], [x2], [-1.0], margin=-1.0, reduction="none")[0]
    assert got == float(MP.mpf(x1) - MP.mpf(x2) - 1)


# --------------------------------------------------------------------------- mpmath, in ulps


def mp_softplus(u: Mpf) -> Mpf:
    return MP.log1p(MP.exp(u))


EXACT: dict[str, tuple[Callable[..., Mpf], Callable[..., Mpf]]] = {
    "soft_margin_loss": (
        lambda x, y: mp_softplus(-y * x),
        lambda x, y: -y / (1 + MP.exp(y * x)),
    ),
    "hinge_loss": (lambda x, y: max(MP.zero, 1 - y * x), lambda x, y: -y if y * x <= 1 else MP.zero),
    "squared_hinge_loss": (
        lambda x, y: max(MP.zero, 1 - y * x) ** 2,
        lambda x, y: -2 * y * max(MP.zero, 1 - y * x),
    ),
    "perceptron_loss": (lambda x, y: max(MP.zero, -y * x), lambda x, y: -y if y * x <= 0 else MP.zero),
    "hinge_embedding_loss": (
        lambda x, y: x if y > 0 else max(MP.zero, 1 - x),
        lambda x, y: MP.one if y > 0 else (-MP.one if x <= 1 else MP.zero),
    ),
}
SOFT_MARGIN = (5.0, 5.0)
"""float64 (value, gradient), in u (= ulp). Value: max(u, 0) + log1p(exp(-|u|)), u = -y x
exact: exp 2u (log1p's condition <= 1) + log1p 2u: 4u on the tail; the sum of two terms
>= 0 u: 5u (a subnormal tail: 1 ulp each, 2 ulp). Gradient: -y sigmoid_pair(-y x), the
sigmoid's 5u (test_exactness.SIGMOID); the negation exact."""
SQUARED_HINGE = (3.0, 0.5)
"""h = 1 - y x rounded once (u); h * h: 2u + u. Gradient 0 - 2y h: h's rounding, 0.5 ulp."""
ULPS = {
    # float64 (value, gradient). hinge, hinge_embedding (margin 1): 1 - y x, 1 - x or x,
    # rounded once: 0.5 ulp; perceptron max(-y x, 0) exact; gradients +-1 or 0: exact.
    np.float64: {
        "soft_margin_loss": SOFT_MARGIN,
        "hinge_loss": (0.5, 0.0),
        "squared_hinge_loss": SQUARED_HINGE,
        "perceptron_loss": (0.0, 0.0),
        "hinge_embedding_loss": (0.5, 0.0),
    },
    # float32: the float64 result (<= 5u64) rounded once: 0.5 + 5 * 2**-29 < 1 ulp. A single
    # rounding stays 0.5: 1 - x of float32 x is exact in float64 unless |x| < 2**-29 or
    # |x| > 2**53, where its float64 rounding is no float32 midpoint (near 1, or a float32 -x).
    np.float32: {
        "soft_margin_loss": (1.0, 1.0),
        "hinge_loss": (0.5, 0.0),
        "squared_hinge_loss": (1.0, 0.5),
        "perceptron_loss": (0.0, 0.0),
        "hinge_embedding_loss": (0.5, 0.0),
    },
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(EXACT))
def test_every_element_within_a_few_ulps_of_mpmath(name, dtype):
    x, y = scores(dtype, seed=4)
    if name in ("squared_hinge_loss", "hinge_embedding_loss"):
        keep = np.abs(x.astype(np.float64)) < 1e150  # squares beyond the range are checked below
        x, y = x[keep], y[keep]
    value = getattr(losses, name)(x, y, reduction="none")
    grad = getattr(losses, name + "_grad")(x, y, reduction="none")
    exact_value, exact_grad = EXACT[name]
    errors = [
        ulp_error(v, exact_value(MP.mpf(float(a)), MP.mpf(float(b))), dtype)
        for v, a, b in zip(value, x, y, strict=True)
    ]
    grad_errors = [
        ulp_error(g, exact_grad(MP.mpf(float(a)), MP.mpf(float(b))), dtype)
        for g, a, b in zip(grad, x, y, strict=True)
    ]
    value_limit, grad_limit = ULPS[dtype][name]  # derived there
    assert record(name, dtype, "value", errors) <= value_limit
    assert record(name, dtype, "grad", grad_errors) <= grad_limit


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_margin_ranking_within_an_ulp_of_mpmath(dtype):
    rng = np.random.default_rng(5)
    n = 200
    x1 = (rng.standard_normal(n) * rng.choice([1e-20, 1.0, 1e3], n)).astype(dtype)
    x2 = (rng.standard_normal(n) * rng.choice([1e-20, 1.0, 1e3], n)).astype(dtype)
    x2[:50] = x1[:50] - (rng.standard_normal(50) * 1e-6).astype(dtype)  # the margin cancels
    y = rng.choice([-1.0, 1.0], n).astype(dtype)
    for margin in (0.0, 1e-6, -0.5):
        value = losses.margin_ranking_loss(x1, x2, y, margin=margin, reduction="none")
        g1, g2 = losses.margin_ranking_loss_grad(x1, x2, y, margin=margin, reduction="none")
        errors, grad_errors = [], []
        m = MP.mpf(margin)
        for i in range(n):
            argument = m - MP.mpf(float(y[i])) * (MP.mpf(float(x1[i])) - MP.mpf(float(x2[i])))
            errors.append(ulp_error(value[i], max(MP.zero, argument), dtype))
            slope = -MP.mpf(float(y[i])) if argument >= 0 else MP.zero
            grad_errors.append(max(ulp_error(g1[i], slope, dtype), ulp_error(g2[i], -slope, dtype)))
        # s + (s_error - y d_error) (TwoSum twice): rounded once, 0.5 ulp, + u of the small
        # correction (2**-52 ulp); float32: that rounded once more, 0.5 + 2**-29: within 1.
        assert record("margin_ranking_loss", dtype, "value", errors) <= 1.0
        assert record("margin_ranking_loss", dtype, "grad", grad_errors) == 0.0


def test_huge_squares_overflow_per_element_but_not_in_the_mean():
    y = np.array([1.0, 1.0])
    assert losses.squared_hinge_loss(np.array([-1e200, 0.0]), y, reduction="none")[0] == math.inf
    assert losses.squared_hinge_loss(np.array([-1e200, 0.0]), y) == math.inf  # the exact mean is beyond too
    # Each square is 1.69e308 (finite), their sum is not, their mean is.
    got = losses.squared_hinge_loss(np.array([-1.3e154, -1.3e154]), y)
    # Redone in the extended range (64-bit significand): 1 + x, the square, the sum, each
    # 2**-64, the / 2 exact: 2**-9 ulp of float64; rounded once: 0.5 + 2**-9, within 1.
    assert ulp_error(got, (1 + MP.mpf(1.3e154)) ** 2, np.float64) <= 1.0


# --------------------------------------------------------------------------- finite differences

FUNCTIONS = {
    "soft_margin_loss": (losses.soft_margin_loss, losses.soft_margin_loss_grad, {}),
    "hinge_loss": (losses.hinge_loss, losses.hinge_loss_grad, {}),
    "squared_hinge_loss": (losses.squared_hinge_loss, losses.squared_hinge_loss_grad, {}),
    "perceptron_loss": (losses.perceptron_loss, losses.perceptron_loss_grad, {}),
    "hinge_embedding_loss": (losses.hinge_embedding_loss, losses.hinge_embedding_loss_grad, {"margin": 0.7}),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_gradients_match_central_differences(name):
    value, grad, options = FUNCTIONS[name]
    rng = np.random.default_rng(6)
    x = rng.standard_normal(40) * 2
    y = rng.choice([-1.0, 1.0], 40)
    x = x[(np.abs(np.abs(x) - 1) > 1e-3) & (np.abs(x) > 1e-3) & (np.abs(x - 0.7) > 1e-3)]  # away from kinks
    y = y[: x.size]
    w = rng.random(x.size) + 0.5
    h = 1e-6
    for reduction in ("mean", "sum"):
        gradient = grad(x, y, reduction=reduction, sample_weight=w, **options)
        for i in range(x.size):
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            numeric = (
                value(up, y, reduction=reduction, sample_weight=w, **options)
                - value(down, y, reduction=reduction, sample_weight=w, **options)
            ) / (2 * h)
            assert math.isclose(gradient[i], numeric, rel_tol=1e-6, abs_tol=1e-8)


def test_margin_ranking_gradient_matches_central_differences():
    rng = np.random.default_rng(7)
    x1, x2 = rng.standard_normal(30), rng.standard_normal(30)
    y = rng.choice([-1.0, 1.0], 30)
    keep = np.abs(0.3 - y * (x1 - x2)) > 1e-3
    x1, x2, y = x1[keep], x2[keep], y[keep]
    g1, g2 = losses.margin_ranking_loss_grad(x1, x2, y, margin=0.3, reduction="sum")
    h = 1e-6
    for i in range(x1.size):
        e = np.zeros(x1.size)
        e[i] = h
        d1 = (
            losses.margin_ranking_loss(x1 + e, x2, y, margin=0.3, reduction="sum")
            - losses.margin_ranking_loss(x1 - e, x2, y, margin=0.3, reduction="sum")
        ) / (2 * h)
        d2 = (
            losses.margin_ranking_loss(x1, x2 + e, y, margin=0.3, reduction="sum")
            - losses.margin_ranking_loss(x1, x2 - e, y, margin=0.3, reduction="sum")
        ) / (2 * h)
        assert math.isclose(g1[i], d1, abs_tol=1e-8) and math.isclose(g2[i], d2, abs_tol=1e-8)


# --------------------------------------------------------------------------- properties


def ranking(name: str) -> bool:
    return name == "margin_ranking_loss"


ALL = [*FUNCTIONS, "margin_ranking_loss"]


def call(name: str, grad: bool, x: np.ndarray, y: np.ndarray, **kw: Any) -> Any:
    function = getattr(losses, name + ("_grad" if grad else ""))
    if ranking(name):
        result = function(x, x[::-1].copy() * 0.5, y, margin=0.25, **kw)
        return result[0] if grad else result
    return function(x, y, **kw)


@pytest.mark.parametrize("name", ALL)
def test_reductions_weights_and_dtypes(name):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(101) * 3
    y = rng.choice([-1.0, 1.0], 101)
    none = call(name, False, x, y, reduction="none")
    total = float(call(name, False, x, y, reduction="sum"))
    assert total == float(np.sum(none))  # one partial sum (fewer than 2048 elements): NumPy's pairwise sum
    # That sum: sum_roundings(101) u of sum |l| (hinge_embedding: l = x of both signs);
    # fsum's correctly rounded one: 0.5 ulp.
    magnitude = math.fsum(np.abs(none))
    assert abs(total - math.fsum(none)) <= sum_roundings(x.size) * U * magnitude + 0.5 * math.ulp(total)
    assert float(call(name, False, x, y, reduction="mean")) == total / x.size
    ones = np.ones_like(x)
    for reduction in REDUCTIONS:
        for grad in (False, True):
            plain = call(name, grad, x, y, reduction=reduction)
            np.testing.assert_array_equal(
                call(name, grad, x, y, reduction=reduction, sample_weight=ones), plain
            )
            np.testing.assert_array_equal(
                call(name, grad, x, y, reduction=reduction, sample_weight=2 * ones),
                plain if reduction == "mean" else 2 * plain,
            )
    w = rng.random(101)
    # Ours: w l u, its sum sum_roundings(101) u of sum |w l|, sum(w) as long, the division u;
    # the reference: w l u, fsum twice (u each), the division u.
    k = x.size
    got, reference = float(call(name, False, x, y, sample_weight=w)), math.fsum(w * none) / math.fsum(w)
    condition = math.fsum(np.abs(w * none)) / abs(math.fsum(w * none))
    bound = (2 + sum_roundings(k)) * condition + sum_roundings(k) + 1 + 3
    assert math.isclose(got, reference, rel_tol=bound * U)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    for reduction in REDUCTIONS:
        for grad in (False, True):
            assert np.asarray(call(name, grad, x32, y32, reduction=reduction)).dtype == np.float32
    assert call(name, True, x, y, reduction="none").shape == x.shape


@pytest.fixture(params=[1, 3], ids=["1-thread", "3-threads"])
def threads(request):
    _blocks.set_num_threads(request.param)
    yield request.param
    _blocks.set_num_threads(None)


@pytest.mark.parametrize("name", ALL)
def test_large_input_equals_small_slices(name, threads):
    size = 2 * _blocks.BLOCK + 4567  # > 70000 elements: several blocks and a ragged end
    rng = np.random.default_rng(9)
    x = rng.standard_normal(size) * 3
    y = rng.choice([-1.0, 1.0], size)
    for grad in (False, True):
        whole = call(name, grad, x, y, reduction="none")
        if ranking(name):  # the partner of a slice must be the slice of the partner
            x2 = x[::-1].copy() * 0.5
            function = losses.margin_ranking_loss_grad if grad else losses.margin_ranking_loss
            parts = [
                function(x[i : i + 1000], x2[i : i + 1000], y[i : i + 1000], margin=0.25, reduction="none")
                for i in range(0, size, 1000)
            ]
            pieces = np.concatenate([p[0] if grad else p for p in parts])
        else:
            pieces = np.concatenate(
                [
                    call(name, grad, x[i : i + 1000], y[i : i + 1000], reduction="none")
                    for i in range(0, size, 1000)
                ]
            )
        np.testing.assert_array_equal(whole, pieces)
    total = float(call(name, False, x, y, reduction="sum"))
    exact = math.fsum(call(name, False, x, y, reduction="none"))
    # Pairwise partial sums of 2048 elements combined exactly: sum_roundings(size) u of
    # sum |l| (hinge_embedding's l = x for y = 1 has both signs), against fsum's correctly
    # rounded sum (0.5 ulp).
    magnitude = math.fsum(np.abs(call(name, False, x, y, reduction="none")))
    assert abs(total - exact) <= sum_roundings(size) * U * magnitude + 0.5 * math.ulp(exact)


# --------------------------------------------------------------------------- errors


def raises(error: type, call_: Callable[[], Any], *fragments: str) -> None:
    with pytest.raises(error) as info:
        call_()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("grad", [False, True], ids=["value", "grad"])
def test_errors_name_the_function_and_argument(name, grad):
    func = name + ("_grad" if grad else "")
    x = np.array([0.5, -1.0, 2.0])
    good = np.array([1.0, -1.0, 1.0])
    raises(
        OutOfRangeError,
        lambda: call(name, grad, x, np.array([1.0, 0.0, 1.0])),
        func,
        "target",
        "-1 or +1",
        "2 * y - 1",
        "target[1]",
    )
    raises(
        OutOfRangeError, lambda: call(name, grad, x, np.array([1.0, 0.5, 1.0])), func, "target", "-1 or +1"
    )
    raises(
        OutOfRangeError, lambda: call(name, grad, x, np.array([1.0, 2.0, 0.0])), func, "target", "-1 or +1"
    )
    raises(NonFiniteError, lambda: call(name, grad, np.array([0.5, np.nan, 2.0]), good), func, "NaN")
    raises(NonFiniteError, lambda: call(name, grad, x, np.array([1.0, np.nan, 1.0])), func, "target", "NaN")
    raises(ShapeMismatchError, lambda: call(name, grad, x, good[:2]), func, "target", "same shape")
    raises(
        InvalidOptionError, lambda: call(name, grad, x, good, reduction="avg"), func, "reduction", "'mean'"
    )
    raises(EmptyInputError, lambda: call(name, grad, np.empty(0), np.empty(0)), func, "reduction='mean'")
    raises(NonFiniteError, lambda: call(name, grad, np.array([np.inf, 1.0, 1.0]), good), func, "infinite")


@pytest.mark.parametrize("name", ["hinge_embedding_loss", "margin_ranking_loss"])
@pytest.mark.parametrize("margin", [math.nan, math.inf, "1", None])
def test_bad_margin(name, margin):
    x, y = np.array([0.5, 1.0]), np.array([1.0, -1.0])
    for suffix in ("", "_grad"):
        function = getattr(losses, name + suffix)
        arrays = (x, x, y) if ranking(name) else (x, y)
        raises(InvalidOptionError, lambda f=function, a=arrays: f(*a, margin=margin), name + suffix, "margin")


def test_margin_ranking_checks_both_inputs():
    x, y = np.array([0.5, 1.0]), np.array([1.0, -1.0])
    raises(
        NonFiniteError,
        lambda: losses.margin_ranking_loss(x, np.array([1.0, np.nan]), y),
        "margin_ranking_loss",
        "input2",
    )
    raises(
        ShapeMismatchError,
        lambda: losses.margin_ranking_loss_grad(x, x[:1], y),
        "margin_ranking_loss_grad",
        "input1",
        "input2",
    )


# --------------------------------------------------------------------------- margin ranking, blocked

RANKING_SIZE = 3 * _blocks.BLOCK + 1234  # several blocks and a ragged end


def ranking_data(seed: int, size: int = RANKING_SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of spread magnitudes, with ties, signed zeros and differences the margin cancels."""
    rng = np.random.default_rng(seed)
    x1 = rng.standard_normal(size) * np.exp(rng.uniform(-30, 30, size))
    x2 = rng.standard_normal(size) * np.exp(rng.uniform(-30, 30, size))
    near = slice(0, size // 3)
    x2[near] = x1[near] + rng.standard_normal(size // 3) * 1e-17 * np.abs(x1[near])
    x1[::7], x2[::11], x1[1::13], x2[2::17] = 0.0, -0.0, -0.0, 0.0
    x2[3::19] = x1[3::19]
    x1[5::23] = x2[5::23] + 1.0  # a margin of +-1 cancels the difference
    return x1, x2, rng.choice([-1.0, 1.0], size)


def bits(a: Any) -> np.ndarray:
    """The bits of float results, so that +0 and -0 differ."""
    return np.asarray(a, dtype=np.float64).view(np.int64)


def whole_array_results(monkeypatch: Any, function: Callable[..., Any], *arguments: Any, **options: Any) -> Any:
    """``function`` as if no array were large: one pass over the whole arrays, nothing blocked."""
    with monkeypatch.context() as patch:
        patch.setattr(_blocks, "BLOCK", 2**62)
        return function(*arguments, **options)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("margin", [0.0, 0.25, -1.0, 1.0, 1e-17])
def test_margin_ranking_blocked_equals_the_whole_array_bit_for_bit(monkeypatch, dtype, margin):
    x1, x2, y = ranking_data(20)
    x1, x2 = x1.astype(dtype), x2.astype(dtype)
    w = np.random.default_rng(21).random(x1.size).astype(dtype)
    w[::9] = 0.0
    for reduction in REDUCTIONS:
        for sample_weight in (None, w):
            options = {"margin": margin, "reduction": reduction, "sample_weight": sample_weight}
            expected = whole_array_results(monkeypatch, losses.margin_ranking_loss, x1, x2, y, **options)
            expected_grads = whole_array_results(monkeypatch, losses.margin_ranking_loss_grad, x1, x2, y, **options)
            for count in (1, 2, 5):
                _blocks.set_num_threads(count)
                try:
                    with monkeypatch.context() as patch:  # valid input never takes the whole-array path
                        patch.setattr(_margin_ranking, "_ranking_prepare", None)
                        got = losses.margin_ranking_loss(x1, x2, y, **options)
                        grads = losses.margin_ranking_loss_grad(x1, x2, y, **options)
                finally:
                    _blocks.set_num_threads(None)
                assert np.asarray(got).dtype == dtype and np.array_equal(bits(got), bits(expected))
                for g, e in zip(grads, expected_grads, strict=True):
                    assert g.dtype == dtype and g.shape == x1.shape and np.array_equal(bits(g), bits(e))


def test_margin_ranking_blocked_leaves_the_arguments_alone_and_takes_any_layout(monkeypatch, threads):
    x1, x2, y = ranking_data(22, size=2 * RANKING_SIZE)
    copies = [a.copy() for a in (x1, x2, y)]
    strided = (x1[::2], x2[::2], y[::2])
    matrix = tuple(np.reshape(a[: 2 * _blocks.BLOCK * 2], (-1, 4)) for a in (x1, x2, y))
    for arrays in (strided, matrix):
        for function in (losses.margin_ranking_loss, losses.margin_ranking_loss_grad):
            got = function(*arrays, margin=0.5, reduction="none")
            expected = whole_array_results(monkeypatch, function, *arrays, margin=0.5, reduction="none")
            for g, e in zip(got if isinstance(got, tuple) else (got,), expected if isinstance(got, tuple) else (expected,),
                            strict=True):
                assert g.shape == arrays[0].shape and np.array_equal(bits(g), bits(e))
    for original, copy in zip((x1, x2, y), copies, strict=True):
        assert np.array_equal(bits(original), bits(copy))


def test_margin_ranking_blocked_overflow_is_repaired_as_for_small_input(monkeypatch, threads):
    """x1 - x2 beyond the float64 range in one element of a large array: the halves, as for small input."""
    x1, x2, y = ranking_data(23)
    x1[2 * _blocks.BLOCK + 5], x2[2 * _blocks.BLOCK + 5] = 1e308, -1e308
    x1[7], x2[7] = -1e308, 1e308
    for margin in (0.0, -1.5e308, 0.25):
        for reduction in REDUCTIONS:
            for function in (losses.margin_ranking_loss, losses.margin_ranking_loss_grad):
                got = function(x1, x2, y, margin=margin, reduction=reduction)
                expected = whole_array_results(monkeypatch, function, x1, x2, y, margin=margin, reduction=reduction)
                for g, e in zip(got if isinstance(got, tuple) else (got,),
                                expected if isinstance(got, tuple) else (expected,), strict=True):
                    assert np.array_equal(bits(g), bits(e))


@pytest.mark.parametrize("grad", [False, True], ids=["value", "grad"])
def test_margin_ranking_blocked_refuses_bad_input_as_for_small_input(grad, threads):
    """The same errors, the same order and the same positions as the whole-array checks."""
    func = "margin_ranking_loss" + ("_grad" if grad else "")
    function = getattr(losses, func)
    x1, x2, y = ranking_data(24)
    deep = 2 * _blocks.BLOCK + 17

    def with_value(array: np.ndarray, value: float, position: int = deep) -> np.ndarray:
        changed = array.copy()
        changed[position] = value
        return changed

    raises(NonFiniteError, lambda: function(with_value(x1, math.nan), x2, y), func, f"input1[{deep}]")
    raises(NonFiniteError, lambda: function(x1, with_value(x2, math.inf), y), func, "infinite", f"input2[{deep}]")
    raises(NonFiniteError, lambda: function(x1, x2, with_value(y, math.nan)), func, f"target[{deep}]")
    raises(OutOfRangeError, lambda: function(x1, x2, with_value(y, 0.0)), func, f"target[{deep}] = 0", "2 * y - 1")
    raises(OutOfRangeError, lambda: function(x1, x2, with_value(y, 0.5, 3)), func, "target[3] = 0.5")
    raises(OutOfRangeError, lambda: function(x1, x2, with_value(y, 2.0)), func, f"target[{deep}] = 2")
    # An input error comes before those of the reduction and the weights, as for small input.
    negative = with_value(np.ones_like(x1), -1.0)
    raises(NonFiniteError, lambda: function(with_value(x1, math.nan), x2, y, reduction="avg"), func, "input1")
    raises(NonFiniteError, lambda: function(x1, with_value(x2, math.nan), y, sample_weight=negative), func, "input2")
    raises(InvalidOptionError, lambda: function(x1, x2, y, reduction="avg"), func, "reduction")
    raises(OutOfRangeError, lambda: function(x1, x2, y, sample_weight=negative), func, "sample_weight")
    raises(ShapeMismatchError, lambda: function(x1, x2, y, sample_weight=negative[:-1]), func, "sample_weight")
    raises(OutOfRangeError, lambda: function(x1, x2, y, sample_weight=np.zeros_like(x1)), func, "positive sum")
