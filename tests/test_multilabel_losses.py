"""The multi-class and multi-label margin losses against PyTorch (values and autograd).

* ``multilabel_soft_margin_loss``, ``multi_margin_loss`` (p = 1, 2), ``multilabel_margin_loss``:
  every reduction, float32 and float64, random data, class weights, per-sample weights
  (against PyTorch's ``"none"`` output weighted by hand), one-sample ``(C,)`` input,
  empty targets, exact kinks (PyTorch's strict ``> 0``), extreme logits.
* float32 results are compared tightly with PyTorch evaluated in float64 on the same
  float32 inputs (ours are computed in float64 and rounded once), loosely with PyTorch's
  float32 result.
* Central finite differences; errors naming the function and the argument.

No expected value here comes from the functions under test.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from error_model import U, additions, any_order
from neural_network import losses
from neural_network._numerics import two_sum
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]
TORCH_DTYPES = {np.float64: torch.float64, np.float32: torch.float32}
LOOSE32 = 2e-5
"""float32 against PyTorch's float32 (its own roundings of 2**-24 each): a loose check only."""


def _multilabel_target(rng: np.random.Generator, n: int, c: int) -> np.ndarray[Any, Any]:
    """PyTorch-layout targets: a random set of distinct classes, -1, then random padding."""
    rows = []
    for _ in range(n):
        k = int(rng.integers(0, c + 1))
        chosen = list(rng.permutation(c)[:k])
        padding = list(rng.integers(-1, c, size=c - k))
        if k < c:
            padding[0] = -1
        rows.append(chosen + padding)
    return np.array(rows, dtype=np.int64).reshape(n, c)


# --------------------------------------------------------------------------- the derived bounds
#
# Ours against PyTorch's float64, in u = 2**-53 (tests/error_model.py): each path's error is
# bounded per term against a scale computed from the data (the terms' sizes, so that the
# cancellation in margin - x_y + x_j or in sigma(x) - y counts through its condition),
# and the two paths add. PyTorch's formulas (its CPU kernels, float64, a libm within 1 ulp)
# add sequentially: any_order. float32: ours is the float64 result rounded once, 2**-24.

LOGISTIC_TERM = 8.0
"""One class of the soft margin loss, t softplus(-x) + (1 - t) softplus(x), either path:
test_exactness.LOGISTIC_LOSS's count (tail 5u; times t or the rounded 1 - t, 7u; the sum,
u). PyTorch's logsigmoid, min(x, 0) - log1p(exp(-|x|)), errs by the same 5u."""

SIGMOID = 5.0
"""test_exactness.SIGMOID: sigmoid_pair's larger and smaller sigmoid, 5u each; PyTorch's
logsigmoid backward, (x < 0) - sign z / (1 + z) with z = exp(-|x|): exp 2u, 1 + z and the
division u each, the subtraction from 1 (condition <= 1) u: 5u too."""


def _safe_kinks(margin: float, own: np.ndarray, other: np.ndarray) -> None:
    """Both paths count the same pairs: PyTorch's (margin - own) + other errs by at most
    2u S (S = |margin| + |own| + |other|), so every z it rounds is either exactly 0 in both
    (margin - own exact, then the sum exact) or at least 4u S from 0 (the same sign)."""
    with np.errstate(over="ignore", invalid="ignore"):
        first, first_error = two_sum(np.float64(margin), -own)
        z = first + other
        size = abs(margin) + np.abs(own) + np.abs(other)
        exact_first = first_error == 0.0
    assert np.all((np.abs(z) > 4 * U * size) | ((z == 0.0) & exact_first)), "a kink within rounding of 0"


def _scales(name: str, x: np.ndarray, t: Any, options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) sizes of the per-sample losses' terms and (N, C) sizes of the gradient's, in float64."""
    x = np.asarray(x, np.float64)
    n, c = x.shape
    if name == "multilabel_soft_margin_loss":
        t = np.asarray(t, np.float64)
        w = np.ones(c) if options.get("weight") is None else np.asarray(options["weight"], np.float64)
        soft_pos, soft_neg = np.logaddexp(0.0, x), np.logaddexp(0.0, -x)
        with np.errstate(over="ignore"):
            sig_pos, sig_neg = 1 / (1 + np.exp(-x)), 1 / (1 + np.exp(x))
        terms = w * (t * soft_neg + (1 - t) * soft_pos)
        return terms.sum(axis=1) / c, w * (t * sig_neg + (1 - t) * sig_pos) / c
    if name == "multi_margin_loss":
        y, p, m = np.asarray(t), options["p"], options["margin"]
        w = np.ones(c) if options.get("weight") is None else np.asarray(options["weight"], np.float64)
        own = x[np.arange(n), y][:, None]
        _safe_kinks(m, own, x)
        active = ((m - own) + x > 0) & (np.arange(c) != y[:, None])
        size = np.where(active, abs(m) + np.abs(own) + np.abs(x), 0.0)
        row = w[y][:, None] / c
        slope = row * p * size ** (p - 1) * active
        slope[np.arange(n), y] = slope.sum(axis=1)
        return (row[:, 0] * (size**p).sum(axis=1)), slope
    values, grads = np.zeros(n), np.zeros((n, c))
    for k, row in enumerate(np.asarray(t)):
        listed = row[: [*row.tolist(), -1].index(-1)]
        others = np.setdiff1d(np.arange(c), listed)
        own, other = x[k, listed][:, None], x[k, others][None, :]
        _safe_kinks(1.0, own, other)
        active = (1 - own) + other > 0
        values[k] = np.where(active, 1 + np.abs(own) + np.abs(other), 0.0).sum() / c
        grads[k, others] += active.sum(axis=0) / c
        grads[k, listed] += active.sum(axis=1) / c
    return values, grads


def _roundings(name: str, x: np.ndarray, t: Any, options: dict[str, Any]) -> tuple[float, float]:
    """(value, gradient) per-sample roundings, ours plus PyTorch's, in u, relative to :func:`_scales`.

    Soft margin: LOGISTIC_TERM and the class weight (u) each path, the class sums (ours
    additions(C), PyTorch's any_order(C)), / C (u). Gradient: ours (1 - t) sigma(x) - t
    sigma(-x): SIGMOID, 1 - t and the product 2u, the difference u, w and / C 2u; PyTorch's:
    SIGMOID, the incoming 1/N, / C, w, t (or 1 - t, rounded) 5u, the products and the sum of
    the two branches 2u.
    Multi margin: ours z rounded once (u; p = 2: z z, 3u), PyTorch's (margin - x_y) + x_j
    2u of S (p = 2: 5u of S^2); the row weight u, the class sums, / C u. Gradient: ours 2z
    (p = 2: u), the target's sum of the slopes (additions(C)), / C; PyTorch's g = 1/(N C)
    2u, 2z 2u (p = 2), g w z products 2u, the target's sum (any_order(C)).
    Multilabel margin: ours z once (u), each target's sum over the classes additions(C),
    the running sum over the targets C - 1, / C u; PyTorch's z 2u of S, its sequential sum
    over every pair (at most C^2 / 4), / C u. Gradient: ours exact counts, / C u;
    PyTorch's g = 1/(N C) 2u, added once per pair (any_order(C)).
    """
    c = np.shape(x)[-1]
    if name == "multilabel_soft_margin_loss":
        value = 2 * (LOGISTIC_TERM + 1 + 1) + additions(c) + any_order(c)
        return value, (SIGMOID + 2 + 1 + 2) + (SIGMOID + 5 + 2)
    if name == "multi_margin_loss":
        p = options["p"]
        value = (1 if p == 1 else 3) + (2 if p == 1 else 5) + 2 * (1 + 1) + additions(c) + any_order(c)
        return value, (p == 2) + additions(c) + 1 + 2 + 2 * (p == 2) + 2 + any_order(c)
    value = 1 + additions(c) + (c - 1) + 1 + 2 + any_order(c * c // 4) + 1
    return value, 1 + 2 + any_order(c)


def allowed(name: str, x: Any, t: Any, options: dict[str, Any], reduction: str, dtype: Any,
            sample_weight: Any = None, expected: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """The absolute errors the derivation allows the (value, gradient) of one call, ours against
    PyTorch's float64. Reductions, per path: a sample weight u, the sum of N ours
    additions(N) and PyTorch's any_order(N), the mean's division u and its denominator, the
    sum of the sample weights (N exact without), as long as the sum; float32, 2**-24 of the
    result more."""
    x64 = np.atleast_2d(np.asarray(x, np.float64))
    t2 = np.asarray(t).reshape(x64.shape[0], -1) if name != "multi_margin_loss" else np.atleast_1d(t)
    sizes, grad_sizes = _scales(name, x64, t2, options)
    k_value, k_grad = _roundings(name, x64, t2, options)
    n = x64.shape[0]
    s = np.ones(n) if sample_weight is None else np.atleast_1d(np.asarray(sample_weight, np.float64))
    weighted = sample_weight is not None
    sums = additions(n) + any_order(n)
    k_value += 2 * weighted
    k_grad += 2 * weighted
    if reduction == "mean":
        k_value += 2 + sums * weighted
        k_grad += 2 + sums * weighted
    denominator = s.sum() if reduction == "mean" else 1.0
    if reduction == "none":
        value = k_value * U * s * sizes
    else:
        value = (k_value + sums) * U * float(np.sum(s * sizes)) / denominator
    grad = k_grad * U * s[:, None] * grad_sizes / denominator
    if np.ndim(x) == 1:
        value, grad = np.reshape(value, ()) if reduction == "none" else value, grad.reshape(-1)
    if dtype == np.float32 and expected is not None:  # ours rounded once to float32
        value = value + 2.0**-24 * np.abs(expected[0])
        grad = grad + 2.0**-24 * np.abs(expected[1])
    return value, grad


def assert_within(got: Any, expected: Any, tolerance: Any, what: str) -> None:
    """``|got - expected| <= tolerance`` element-wise (the smallest subnormal besides)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape, what
    error = np.abs(got - expected)
    bad = ~(error <= tolerance + 5e-324)
    assert not bad.any(), (what, got[bad][:4], expected[bad][:4], np.max(error / np.maximum(tolerance, 5e-324)))


# Each case: (our name, torch call, arguments (input, target, options) drawn from a generator).
Case = tuple[str, Callable[..., Any], Callable[[np.random.Generator, Any], tuple[Any, Any, dict[str, Any]]]]


def _soft(rng: np.random.Generator, dtype: Any) -> tuple[Any, Any, dict[str, Any]]:
    x = (rng.standard_normal((7, 5)) * 3).astype(dtype)
    t = (rng.random((7, 5)) < 0.5).astype(dtype)
    t[0, :] = rng.random(5).astype(dtype)  # soft labels in one row
    return x, t, {"weight": rng.random(5).astype(dtype) * 2}


def _multi(p: int, weighted: bool) -> Callable[[np.random.Generator, Any], tuple[Any, Any, dict[str, Any]]]:
    def draw(rng: np.random.Generator, dtype: Any) -> tuple[Any, Any, dict[str, Any]]:
        x = rng.standard_normal((9, 4)).astype(dtype)
        y = rng.integers(0, 4, size=9)
        options: dict[str, Any] = {"p": p, "margin": 0.7}
        if weighted:
            options["weight"] = rng.random(4).astype(dtype) * 2
        return x, y, options

    return draw


def _mlm(rng: np.random.Generator, dtype: Any) -> tuple[Any, Any, dict[str, Any]]:
    return rng.standard_normal((8, 5)).astype(dtype), _multilabel_target(rng, 8, 5), {}


CASES: list[Case] = [
    ("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss, _soft),
    ("multi_margin_loss", F.multi_margin_loss, _multi(1, False)),
    ("multi_margin_loss", F.multi_margin_loss, _multi(2, True)),
    ("multi_margin_loss", F.multi_margin_loss, _multi(1, True)),
    ("multilabel_margin_loss", F.multilabel_margin_loss, _mlm),
]
CASE_IDS = ["soft", "multi-p1", "multi-p2-weight", "multi-p1-weight", "multilabel"]


def _torch_args(name: str, x: Any, t: Any, options: dict[str, Any], tdtype: Any) -> tuple[Any, Any, dict[str, Any]]:
    xt = torch.tensor(np.asarray(x), dtype=tdtype, requires_grad=True)
    if name == "multilabel_soft_margin_loss":
        tt = torch.tensor(np.asarray(t), dtype=tdtype)
    else:
        tt = torch.tensor(np.asarray(t), dtype=torch.int64)
    opts = dict(options)
    if opts.get("weight") is not None:
        opts["weight"] = torch.tensor(np.asarray(opts["weight"]), dtype=tdtype)
    return xt, tt, opts


def _torch(name: str, fn: Callable[..., Any], x: Any, t: Any, options: dict[str, Any], reduction: str,
           tdtype: Any, sample_weight: Any = None) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """PyTorch's value and autograd gradient (of the sum for "none"); sample weights by hand."""
    xt, tt, opts = _torch_args(name, x, t, options, tdtype)
    if sample_weight is None:
        value = fn(xt, tt, reduction=reduction, **opts)
    else:
        s = torch.tensor(np.asarray(sample_weight), dtype=tdtype)
        weighted = fn(xt, tt, reduction="none", **opts) * s
        value = {"none": weighted, "sum": weighted.sum(), "mean": weighted.sum() / s.sum()}[reduction]
    value.sum().backward()
    assert xt.grad is not None
    return value.detach().numpy(), xt.grad.numpy()


def options_id(draw: Any) -> str:
    """A stable name of a case's generator (for the seed)."""
    return str(CASE_IDS[[case[2] for case in CASES].index(draw)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(("name", "fn", "draw"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("weighted_samples", [False, True], ids=["", "sample_weight"])
def test_parity_with_torch(name: str, fn: Any, draw: Any, dtype: Any, reduction: str, weighted_samples: bool) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{name}{options_id(draw)}{reduction}{dtype}{weighted_samples}".encode()))
    x, t, options = draw(rng, dtype)
    s = rng.random(x.shape[0]).astype(dtype) if weighted_samples else None
    extra = {} if s is None else {"sample_weight": s}
    ours = getattr(losses, name)(x, t, reduction=reduction, **options, **extra)
    grad = getattr(losses, name + "_grad")(x, t, reduction=reduction, **options, **extra)
    assert np.asarray(ours).dtype == dtype and grad.dtype == dtype and grad.shape == x.shape
    assert np.shape(ours) == (() if reduction != "none" else (x.shape[0],))
    # Tight: PyTorch in float64 on the same inputs (ours is rounded once from float64).
    exact_options = {k: (np.asarray(v, np.float64) if k == "weight" else v) for k, v in options.items()}
    value64, grad64 = _torch(name, fn, x.astype(np.float64), t, exact_options, reduction, torch.float64,
                             None if s is None else s.astype(np.float64))
    tolerance = allowed(name, x, t, exact_options, reduction, dtype, s, (value64, grad64))  # derived there
    assert_within(ours, value64, tolerance[0], "value")
    assert_within(grad, grad64, tolerance[1], "gradient")
    # Loose: PyTorch in the input's own dtype (float64: the comparison above).
    value_t, grad_t = _torch(name, fn, x, t, options, reduction, TORCH_DTYPES[dtype], s)
    if dtype == np.float64:
        assert_within(ours, value_t, tolerance[0], "value")
        assert_within(grad, grad_t, tolerance[1], "gradient")
    else:
        np.testing.assert_allclose(ours, value_t, rtol=LOOSE32, atol=LOOSE32 * 1e-2)
        np.testing.assert_allclose(grad, grad_t, rtol=LOOSE32, atol=LOOSE32 * 1e-2)


@pytest.mark.parametrize(("name", "fn", "draw"), CASES, ids=CASE_IDS)
def test_one_sample_input(name: str, fn: Any, draw: Any) -> None:
    """A (C,) input (target () for multi_margin_loss, (C,) otherwise) as PyTorch's 1-D form."""
    x, t, options = draw(np.random.default_rng(3), np.float64)
    x1, t1 = x[1], np.asarray(t)[1]
    for reduction in REDUCTIONS:
        value, grad = _torch(name, fn, x1, t1, options, reduction, torch.float64)
        ours = getattr(losses, name)(x1, t1, reduction=reduction, **options)
        ours_grad = getattr(losses, name + "_grad")(x1, t1, reduction=reduction, **options)
        assert np.shape(ours) == () and ours_grad.shape == x1.shape
        tolerance = allowed(name, x1, t1, options, reduction, np.float64)  # derived there, N = 1
        assert_within(ours, value, tolerance[0], "value")
        assert_within(ours_grad, grad, tolerance[1], "gradient")


# --------------------------------------------------------------------------- kinks and extremes


def test_multi_margin_kink_matches_torch() -> None:
    """z = margin - x_y + x_j exactly 0: the term contributes nothing, its gradient is 0 (torch's kernel)."""
    x = np.array([[1.0, 0.0, 0.5], [0.25, 0.25, -2.0]])
    y = np.array([0, 1])
    for p in (1, 2):
        for reduction in REDUCTIONS:
            value, grad = _torch("multi_margin_loss", F.multi_margin_loss, x, y, {"p": p}, reduction, torch.float64)
            np.testing.assert_array_equal(losses.multi_margin_loss(x, y, p=p, reduction=reduction), value)
            np.testing.assert_array_equal(losses.multi_margin_loss_grad(x, y, p=p, reduction=reduction), grad)
    # By hand, p = 1, sum: row 0 has z = [., 0, 0.5] -> only class 2 active.
    np.testing.assert_array_equal(
        losses.multi_margin_loss_grad(x[:1], y[:1], reduction="sum"), [[-1 / 3, 0.0, 1 / 3]]
    )


def test_multilabel_margin_kink_and_edges_match_torch() -> None:
    x = np.array([[1.0, 0.0, 0.5, 2.0], [0.1, 0.2, 0.4, 0.8], [3.0, -1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    # row 0: target 0 against non-target 1: 1 - 1 + 0 = 0 exactly (a kink), against 2: 0.5.
    # row 1: no targets (loss 0); row 2: every class (loss 0); row 3: padding after -1 ignored.
    t = np.array([[0, 3, -1, -1], [-1, 2, 1, 0], [3, 1, 2, 0], [2, -1, 2, 2]])
    for reduction in REDUCTIONS:
        value, grad = _torch("multilabel_margin_loss", F.multilabel_margin_loss, x, t, {}, reduction, torch.float64)
        tolerance = allowed("multilabel_margin_loss", x, t, {}, reduction, np.float64)  # derived there
        assert_within(losses.multilabel_margin_loss(x, t, reduction=reduction), value, tolerance[0], "value")
        assert_within(losses.multilabel_margin_loss_grad(x, t, reduction=reduction), grad, tolerance[1], "gradient")
    none = losses.multilabel_margin_loss(x, t, reduction="none")
    assert none[1] == 0.0 and none[2] == 0.0
    # Row 0 by hand: pairs (0,1): 0 (kink), (0,2): 0.5, (3,1): 0, (3,2): 0 (1 - 2 + 0.5 < 0)... /4.
    assert none[0] == 0.5 / 4


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_soft_margin_extreme_logits(dtype: Any) -> None:
    """Logits of +-1e4 (float32's exp overflows at 89): finite, and equal to PyTorch's float64 value."""
    x = np.array([[1e4, -1e4, 30.0, -30.0], [-1e4, 1e4, 0.0, 745.0]], dtype=dtype)
    t = np.array([[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.5, 1.0]], dtype=dtype)
    for reduction in REDUCTIONS:
        value, grad = _torch("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss, x.astype(np.float64),
                             t, {}, reduction, torch.float64)
        ours = losses.multilabel_soft_margin_loss(x, t, reduction=reduction)
        ours_grad = losses.multilabel_soft_margin_loss_grad(x, t, reduction=reduction)
        assert np.all(np.isfinite(ours)) and np.asarray(ours).dtype == dtype
        tolerance = allowed("multilabel_soft_margin_loss", x, t, {}, reduction, dtype, None, (value, grad))
        assert_within(ours, value, tolerance[0], "value")  # derived in allowed
        assert_within(ours_grad, grad, tolerance[1], "gradient")
    # By hand: row 0 is (1e4 + 1e4 + softplus(-30) + softplus(-30)) / 4.
    expected = (2e4 + 2 * np.log1p(np.exp(-30.0))) / 4
    np.testing.assert_allclose(losses.multilabel_soft_margin_loss(x, t, reduction="none")[0], expected, rtol=1e-7)


def test_empty_batch() -> None:
    x = np.zeros((0, 3))
    assert losses.multi_margin_loss(x, np.zeros(0, np.int64), reduction="sum") == 0.0
    assert losses.multilabel_margin_loss(x, np.zeros((0, 3), np.int64), reduction="none").shape == (0,)
    assert losses.multilabel_soft_margin_loss_grad(x, x, reduction="sum").shape == (0, 3)
    with pytest.raises(EmptyInputError, match="multi_margin_loss: reduction='mean'"):
        losses.multi_margin_loss(x, np.zeros(0, np.int64))


def test_torch_tensors_stay_tensors() -> None:
    x = torch.randn(4, 3, dtype=torch.float32)
    y = torch.tensor([0, 2, 1, 1])
    value = losses.multi_margin_loss(x, y, p=2)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32
    torch.testing.assert_close(value, F.multi_margin_loss(x, y, p=2))
    t = torch.tensor([[1, -1, 0], [0, 1, 2], [-1, 0, 0], [2, 0, -1]])
    g = losses.multilabel_margin_loss_grad(x, t)
    xr = x.clone().requires_grad_(True)
    F.multilabel_margin_loss(xr, t).backward()
    assert isinstance(g, torch.Tensor)
    torch.testing.assert_close(g, xr.grad)
    soft = (torch.rand(4, 3) > 0.5).float()
    torch.testing.assert_close(losses.multilabel_soft_margin_loss(x, soft), F.multilabel_soft_margin_loss(x, soft))


# --------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize(("name", "fn", "draw"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_finite_differences(name: str, fn: Any, draw: Any, reduction: str) -> None:
    rng = np.random.default_rng(11)
    x, t, options = draw(rng, np.float64)
    s = rng.random(x.shape[0])
    loss = getattr(losses, name)
    grad = getattr(losses, name + "_grad")(x, t, reduction=reduction, sample_weight=s, **options)
    h = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        plus = loss(up, t, reduction=reduction, sample_weight=s, **options)
        minus = loss(down, t, reduction=reduction, sample_weight=s, **options)
        numeric[index] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- errors


X = np.array([[0.1, 0.2, 0.4], [0.5, -0.3, 0.0]])


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: losses.multi_margin_loss(X, [0, 3]), OutOfRangeError, r"multi_margin_loss: target must hold class indices from 0 to 2"),
        (lambda: losses.multi_margin_loss(X, [1, 3]), OutOfRangeError, r"1-based labels\? Subtract 1"),
        (lambda: losses.multi_margin_loss(X, [0.5, 1]), InvalidTypeError, r"multi_margin_loss: target must hold whole"),
        (lambda: losses.multi_margin_loss(X, [[0], [1]]), ShapeMismatchError, r"multi_margin_loss: target must have shape \(2,\)"),
        (lambda: losses.multi_margin_loss(X, [0, 1], p=3), InvalidOptionError, r"multi_margin_loss: p must be 1 .* got p=3"),
        (lambda: losses.multi_margin_loss(X, [0, 1], p=True), InvalidOptionError, r"multi_margin_loss: p must be"),
        (lambda: losses.multi_margin_loss_grad(X, [0, 1], margin=float("nan")), InvalidOptionError, r"multi_margin_loss_grad: margin must be"),
        (lambda: losses.multi_margin_loss(X, [0, 1], weight=[1.0, 2.0]), ShapeMismatchError, r"multi_margin_loss: weight must hold one weight per class, shape \(3,\)"),
        (lambda: losses.multi_margin_loss(X, [0, 1], weight=[1.0, -2.0, 1.0]), OutOfRangeError, r"multi_margin_loss: weight must hold finite non-negative"),
        (lambda: losses.multi_margin_loss(X, [0, 1], reduction="avg"), InvalidOptionError, r"Did you mean reduction='mean'"),
        (lambda: losses.multi_margin_loss(np.zeros((2, 2, 2)), [0, 1]), ShapeMismatchError, r"multi_margin_loss: input must hold scores of shape \(N, C\)"),
        (lambda: losses.multi_margin_loss([[np.nan, 0.0]], [0]), NonFiniteError, r"multi_margin_loss: input must hold finite"),
        (lambda: losses.multi_margin_loss(X, [0, 1], sample_weight=[1.0]), ShapeMismatchError, r"multi_margin_loss: sample_weight must hold one weight per sample, shape \(2,\)"),
        (lambda: losses.multi_margin_loss(X, [0, 1], sample_weight=[0.0, 0.0]), EmptyInputError, r"summed sample weights"),
        (lambda: losses.multilabel_soft_margin_loss(X, [[0, 1, 2], [1, 0, 0]]), OutOfRangeError, r"multilabel_soft_margin_loss: target must hold labels in \[0, 1\]"),
        (lambda: losses.multilabel_soft_margin_loss(X, [0, 2]), ShapeMismatchError, r"multilabel_soft_margin_loss: target must have the input's shape .* Class indices\?"),
        (lambda: losses.multilabel_soft_margin_loss_grad(X, X * 0, weight=[1.0]), ShapeMismatchError, r"multilabel_soft_margin_loss_grad: weight"),
        (lambda: losses.multilabel_soft_margin_loss(X, None), InvalidTypeError, r"multilabel_soft_margin_loss: target is None"),
        (lambda: losses.multilabel_margin_loss(X, [[0, -1, 3], [1, -1, 0]]), OutOfRangeError, r"multilabel_margin_loss: target must hold class indices from -1 to 2"),
        (lambda: losses.multilabel_margin_loss(X, [[0, 0, -1], [1, -1, 0]]), OutOfRangeError, r"multilabel_margin_loss: each row of target must list a class at most once.*class 0 2 times in target\[0\]"),
        (lambda: losses.multilabel_margin_loss_grad(X, [0, 1]), ShapeMismatchError, r"multilabel_margin_loss_grad: target must have shape \(2, 3\)"),
        (lambda: losses.multilabel_margin_loss(X, [[0.5, -1, 0], [1, -1, 0]]), InvalidTypeError, r"multilabel_margin_loss: target must hold whole class indices"),
    ],
)
def test_errors_name_function_and_argument(call: Callable[[], Any], error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        call()


def test_duplicates_after_the_first_minus_one_are_padding() -> None:
    """Only the list before the first -1 counts: repeats in the padding are not an error (PyTorch agrees)."""
    t = np.array([[0, -1, 2, 2], [1, 3, -1, -1]])
    x = np.array([[0.3, -0.2, 0.1, 0.9], [0.0, 0.5, 0.2, 0.1]])
    value, _ = _torch("multilabel_margin_loss", F.multilabel_margin_loss, x, t, {}, "sum", torch.float64)
    tolerance = allowed("multilabel_margin_loss", x, t, {}, "sum", np.float64)[0]  # derived there
    assert_within(losses.multilabel_margin_loss(x, t, reduction="sum"), value, tolerance, "value")


def test_huge_scores_give_inf_not_nan() -> None:
    """Scores of +-1e308: the hinge argument 2e308 is beyond float64, but its mean over the two
    classes (p=1) is 1e308, which is finite: that is the loss (PyTorch gives inf, overflowing
    on the way). Its square (p=2) is beyond the range: inf, PyTorch's too."""
    x = np.array([[1e308, -1e308], [-1e308, 1e308], [0.0, 5e-324]])
    y = np.array([0, 0, 1])
    for p, expected in ((1, 1e308), (2, np.inf)):
        value = losses.multi_margin_loss(x, y, p=p, reduction="none")
        grad = losses.multi_margin_loss_grad(x, y, p=p, reduction="none")
        assert value[0] == 0.0 and value[1] == expected and not np.isnan(grad).any()
        assert F.multi_margin_loss(torch.tensor(x[1:2]), torch.tensor(y[1:2]), p=p).item() == np.inf
    # with four classes the slope of p=2, 2 z / C = 1e308, is finite (z = 2e308 is not)
    wide, target = np.array([[-1e308, 1e308, 0.0, 0.0]]), np.array([0])
    assert losses.multi_margin_loss_grad(wide, target, p=2, reduction="sum")[0, 1] == 1e308
    t = np.array([[0, -1], [0, -1], [1, -1]])
    assert losses.multilabel_margin_loss(x, t, reduction="none")[1] == np.inf
    assert not np.isnan(losses.multilabel_margin_loss_grad(x, t)).any()


# --------------------------------------------------------------------------- multilabel margin, O(N C)


def _hard_multilabel_case(rng: np.random.Generator, n: int, c: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Scores with ties and exact kinks (x_i = x_j - 1), targets with early -1 terminators,
    repeats after the -1, empty and full rows."""
    x = np.round(rng.standard_normal((n, c)) * 4) / 4  # quarter steps: many z exactly 0
    x[: n // 3] = rng.standard_normal((n // 3, c)) * np.exp(rng.uniform(-20, 20, (n // 3, 1)))
    t = _multilabel_target(rng, n, c)
    t[::7, 0] = -1  # no target at all
    t[1::11] = np.argsort(rng.random((len(t[1::11]), c)), axis=1)  # every class
    for row in t[2::5]:  # repeats in the padding, after the first -1: not targets
        ends = np.flatnonzero(row == -1)
        if ends.size and ends[0] + 1 < c:
            row[ends[0] + 1 :] = max(row[0], 0)
    return x, t


@pytest.mark.parametrize(("n", "c"), [(50, 7), (3000, 40), (700, 300)])
def test_multilabel_margin_matches_torch_on_large_and_hard_cases(n: int, c: int) -> None:
    rng = np.random.default_rng(n + c)
    x, t = _hard_multilabel_case(rng, n, c)
    for reduction in REDUCTIONS:
        value, grad = _torch("multilabel_margin_loss", F.multilabel_margin_loss, x, t, {}, reduction, torch.float64)
        tolerance = allowed("multilabel_margin_loss", x, t, {}, reduction, np.float64)  # derived there
        assert_within(losses.multilabel_margin_loss(x, t, reduction=reduction), value, tolerance[0], "value")
        assert_within(losses.multilabel_margin_loss_grad(x, t, reduction=reduction), grad, tolerance[1], "gradient")


def test_multilabel_margin_numpy_path_equals_the_general_one(monkeypatch: Any) -> None:
    """The NumPy path decides the pairs by thresholds and groups rows on threads; the general
    one (any array library) forms every z: the same pairs, the same sums to rounding."""
    from neural_network import _blocks
    from neural_network.losses.multiclass import _multilabel

    rng = np.random.default_rng(5)
    x, t = _hard_multilabel_case(rng, 4000, 64)  # several groups of rows: threads
    results = []
    for count in (1, 2, 5):
        _blocks.set_num_threads(count)
        try:
            results.append((losses.multilabel_margin_loss(x, t, reduction="none"),
                            losses.multilabel_margin_loss_grad(x, t, reduction="sum")))
        finally:
            _blocks.set_num_threads(None)
    for value, grad in results[1:]:  # the thread count changes nothing
        assert np.array_equal(value, results[0][0]) and np.array_equal(grad, results[0][1])
    monkeypatch.setattr(_multilabel, "_NO_OVERFLOW", 0.0)  # every call takes the general path
    general = losses.multilabel_margin_loss(x, t, reduction="none")
    # Each path rounds z once from its exact value (u; the general one's correction s_error +
    # d_error rounds too, a further u of z at most) and sums the C terms of a target (pairwise,
    # additions(C)), then its C - 1 targets one by one; all terms > 0: relative, both paths.
    c = x.shape[1]
    np.testing.assert_allclose(results[0][0], general, rtol=2 * (2 + additions(c) + c - 1) * U)
    assert np.array_equal(results[0][1], losses.multilabel_margin_loss_grad(x, t, reduction="sum"))


def test_multilabel_margin_memory_is_linear_in_the_classes() -> None:
    """All pairs at once would need N C^2 floats (here 80 MB each); one target at a time, O(N C)."""
    import tracemalloc

    rng = np.random.default_rng(6)
    n, c = 1000, 100
    x, t = rng.standard_normal((n, c)), _multilabel_target(rng, n, c)
    for function in (losses.multilabel_margin_loss, losses.multilabel_margin_loss_grad):
        function(x[:2], t[:2])
        tracemalloc.start()
        try:
            function(x, t)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 30 * n * c * 8, peak


def test_multilabel_margin_repeats_are_refused_in_every_library() -> None:
    x = torch.tensor([[0.1, 0.2, 0.4], [0.5, -0.3, 0.0]], dtype=torch.float64)
    with pytest.raises(OutOfRangeError, match=r"class 2 2 times in target\[1\]"):
        losses.multilabel_margin_loss(x, torch.tensor([[0, 1, -1], [2, 2, -1]]))
    with pytest.raises(OutOfRangeError, match=r"class 2 2 times in target\[1\]"):
        losses.multilabel_margin_loss(x.numpy(), np.array([[0, 1, -1], [2, 2, -1]]))


# --------------------------------------------------------------------------- gradients against mpmath


def _mp_soft_margin_grad(x: float, y: float, w: float, classes: int) -> Any:
    """``(sigmoid(x) - y) w / C`` at 200 bits: the derivative of the soft margin term."""
    from test_exactness import MP

    return (1 / (1 + MP.exp(-MP.mpf(x))) - MP.mpf(y)) * MP.mpf(w) / classes


@pytest.mark.parametrize("classes", [3, 4, 7])
def test_soft_margin_gradient_within_four_ulps_of_mpmath(classes: int) -> None:
    """Each entry within 4 ulps wherever sigmoid(x) and y differ by 2**-44 of the larger:
    hard labels, soft labels at random, and soft labels 1e-4 to 1e-13 (relative) from the
    sigmoid, where sigmoid(x) - y cancels up to 43 bits; class weights and a class count
    that is not a power of two (the division rounds)."""
    from test_exactness import MP, ulp_error

    rng = np.random.default_rng(classes)
    n = 120 // classes
    x = rng.standard_normal((3 * n, classes)) * 4
    sigmoid = 1 / (1 + np.exp(-x))
    y = np.concatenate([
        np.round(rng.random((n, classes))),
        rng.random((n, classes)),
        np.clip(sigmoid[2 * n :] * (1 + rng.choice([-1, 1], (n, classes)) * 10.0 ** rng.uniform(-13, -4, (n, classes))), 0, 1),
    ])
    w = rng.uniform(0.1, 3.0, classes)
    got = losses.multilabel_soft_margin_loss_grad(x, y, weight=w, reduction="sum")
    worst = 0.0
    for i, c in np.ndindex(x.shape):
        exact = _mp_soft_margin_grad(float(x[i, c]), float(y[i, c]), float(w[c]), classes)
        if abs(exact) * classes >= 2.0**-44 * max(sigmoid[i, c], y[i, c]) * w[c]:
            worst = max(worst, ulp_error(got[i, c], MP.mpf(exact), np.float64))
    assert worst <= 4.0, worst


def test_circle_gradient_within_its_stated_ulps_of_its_terms() -> None:
    """circle_loss_grad (its other tests are in test_multiclass_losses.py): where ``G x + G^T x``
    cancels, its relative error has no bound in float64; its absolute error has, in ulps of
    ``sum_j |G_ij| |x_jk| + |G_ji| |x_jk|``: 2.97 measured on the catalog's draws of unit rows
    (held to 6: an ulp of libm's exp and log in ``G``), and on the adversarial cases 7.44 for
    nearly parallel positives in 3 features, 9.24 at the value's refinement threshold
    (gamma 17.8), 37.6 for nearly parallel views in 32 features at the default gamma (held to
    40), 35.2 at gamma 256 (held to 36): the rounding of ``G`` grows where ``z`` cancels."""
    import adversarial_multiclass
    import mp_namespace
    from loss_catalog import BY_NAME
    from mp_namespace import exact
    from neural_network.losses._reference import REFERENCES
    from test_exactness import MP, spacing_at

    def sizes(x: np.ndarray, labels: np.ndarray, gamma: float = 80.0, margin: float = 0.4,
              remove_diagonal: bool = True) -> np.ndarray:
        """|G| |x| + |G|^T |x| in float64, G the derivative of each anchor's loss in s_ij (Keras's formula)."""
        n = len(x)
        same = labels[:, None] == labels[None, :]
        positive = same & ~np.eye(n, dtype=bool) if remove_diagonal else same
        exact_x = mp_namespace.MP.asarray(x)  # d from the exact similarities: 1 - s cancels for close rows
        d = np.maximum(np.asarray(1 - exact_x @ exact_x.T, dtype=np.float64), 0)
        a = -gamma * np.maximum(margin + d, 0) * (margin - d)
        b = gamma * np.maximum(1 - d + margin, 0) * (1 - d - margin)
        with np.errstate(all="ignore"):
            top_a = np.max(np.where(positive, a, -np.inf), 1, keepdims=True)
            top_b = np.max(np.where(~same, b, -np.inf), 1, keepdims=True)
            ea, eb = np.where(positive, np.exp(a - top_a), 0), np.where(~same, np.exp(b - top_b), 0)
            z = top_a + top_b + np.log(ea.sum(1, keepdims=True)) + np.log(eb.sum(1, keepdims=True))
            g = np.nan_to_num(1 / (1 + np.exp(-z)) * (ea / ea.sum(1, keepdims=True) * 2 * gamma * d
                                                      + eb / eb.sum(1, keepdims=True) * 2 * gamma * np.abs(d - 1)))
        return g @ np.abs(x) + g.T @ np.abs(x)

    cases = [(BY_NAME["circle_loss"].draw(np.random.default_rng(seed), 48), {}) for seed in range(12)]
    worst_generic, worst, worst_steep = 0.0, 0.0, 0.0
    generic = len(cases)
    for case, ((x, labels), options) in enumerate(cases + adversarial_multiclass.CASES["circle_loss"]):
        got = losses.circle_loss_grad(x, labels, reduction="sum", **options)
        expected = np.asarray(exact(REFERENCES["circle_loss"].grad, x, labels, **options), dtype=object)
        scale = sizes(x, labels, **options)
        for index in np.ndindex(got.shape):
            if scale[index] > 0:
                error = abs(MP.mpf(float(got[index])) - MP.mpf(expected[index]))
                ulps = float(error / spacing_at(MP.mpf(float(scale[index])), np.float64))
                if case < generic:
                    worst_generic = max(worst_generic, ulps)
                elif options.get("gamma", 80.0) <= 80.0:
                    worst = max(worst, ulps)
                else:
                    worst_steep = max(worst_steep, ulps)
    print(f"worst absolute error of circle_loss_grad: {worst_generic:.2f} ulps of its terms on draws, "
          f"{worst:.2f} on adversarial cases, {worst_steep:.2f} at gamma 256")
    assert worst_generic <= 6.0, worst_generic
    # Nearly parallel views: 7.44 in 3 features, 37.6 in 32 (the value's z cancels there too).
    assert worst <= 40.0, worst
    # At gamma = 256 the rounding of the weights grows with gamma (35.2 measured, nearly parallel
    # positives): the docstring states it.
    assert worst_steep <= 36.0, worst_steep
