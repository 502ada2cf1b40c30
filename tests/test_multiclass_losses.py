"""multiclass_hinge_loss, multiclass_perceptron_loss, binary_sparsemax_loss,
safe_softmax_cross_entropy and circle_loss, each with its gradient.

References are independent of the functions under test:

* mpmath (50 digits): each loss's formula evaluated per sample from its mathematical
  definition (optax's and Keras's), on the float inputs as given, written plainly below;
  the closed-form losses are compared in ulps of the output dtype (at most 4), the Circle
  loss (a log-sum-exp of dot products) to a relative tolerance.
* torch autograd of the same formulas written in torch operations (float64).
* Central finite differences of the loss, away from the kinks.
* Hand derivations of the documented sub-gradients at the kinks.

``pytest -s`` prints the worst ulp (or relative) error measured for each loss at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import mpmath
import numpy as np
import pytest
import torch

from error_model import U, additions
from neural_network import losses
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)

MP = mpmath.MPContext()
MP.dps = 50
Mpf = Any

RNG = np.random.default_rng(20250117)
REDUCTIONS = ["mean", "sum", "none"]
WORST: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_worst() -> Iterator[None]:
    yield
    for name, value in sorted(WORST.items()):
        print(f"worst {name}: {value:.3g}")


def _record(name: str, value: float) -> None:
    WORST[name] = max(WORST.get(name, 0.0), value)


# Error model of the bounds, for any libm whose exp, log, log1p are within 1 ulp: u = 2**-53;
# a correctly rounded operation errs by <= u relative, a libm function by <= 2u; a relative
# error k u is within k ulp. Errors pass through condition numbers; a sum of same-sign terms
# adds u per addition a term passes through (additions). float32 is computed in float64 and
# rounded once: 1/2 ulp plus the float64 bound times 2**-29.




UNDERIVED_RTOL = {"safe gradient": 1e-13, "safe gradient floor": 1e-16, "circle gradient": 1e-10,
                  "circle gradient floor": 1e-12, "circle unclamped": 1e-12, "circle unclamped floor": 1e-14}
"""Not derived: the gradients of safe_softmax_cross_entropy and circle_loss against autograd
through PyTorch's log_softmax and the Circle formula. No file derives our bounds of these
gradients (tests/test_devices.py UNDERIVED "gradient", circle_loss), nor of autograd's
through those formulas: each comparison keeps the tolerance it had, named here ("floor":
the absolute one, for circle's in units of the largest element)."""


MARGIN_ULPS = 1.0
"""multiclass_hinge_loss, multiclass_perceptron_loss (and _margin's categorical_hinge_loss, the
same two_sum form): best - own and the margin summed exactly (TwoSum) and rounded once, the
two error terms added first (u of a term far below an ulp): within 1 ulp. Their gradients
are +-1 and 0 (times the weight, over the mean's denominator): exact."""
BINARY_SPARSEMAX_ULPS = (3.0, 1.0)
"""binary_sparsemax_loss (value, slope). No libm: t = fl(clip(u) + 1) errs by u, t * t by
2u + u, the 0.25 exact: 3 ulp; the slope 0.5 t sign: the rounding of t only."""


def circle_ulps(gamma: float) -> float:
    """circle_loss per anchor, relative, in u, for unit rows of D = 4 and batches of at most 10
    at margin 0.4 (derived in test_circle_values_against_mpmath): z within 68 g u + 41u
    absolute, passed on as relative by softplus, + 5u."""
    return 68 * gamma + 41 + 5


def safe_ulps(classes: int) -> float:
    """-log p_j = fl(fl(log1p(rest) - d_j) - d_error_j): each exp(d) + exp(d) d_error errs by 3u,
    rest (its C terms hold the exact 0 of the first maximum) by 3u + r u, log1p passes that
    on (factor <= 1) and adds 2u, the two non-negative adds u each: (r + 7)u. Times y_j, u;
    the class sum, additions(C): (r + 8 + additions(C))u."""
    r = classes - 2 if classes < 8 else additions(classes)
    return r + 8.0 + additions(classes)


# --------------------------------------------------------------------------- the ulp ruler

BITS = {np.float64: (53, -1022, 1023), np.float32: (24, -126, 127)}


def ulps(got: float, exact: Mpf, dtype: type = np.float64) -> float:
    """``|got - exact|`` in units of the spacing of ``dtype`` at the real number ``exact``.

    An infinite exact value (or one that rounds to infinity) must be met exactly.
    """
    precision, emin, emax = BITS[dtype]
    got = float(got)
    if math.isnan(got):
        return math.inf
    largest = MP.ldexp(2 - MP.ldexp(1, -precision), emax)
    if MP.isinf(exact) or abs(exact) >= largest:
        return 0.0 if got == (math.inf if exact > 0 else -math.inf) else math.inf
    if math.isinf(got):
        return math.inf
    exponent = emin if exact == 0 else max(int(MP.frexp(exact)[1]) - 1, emin)
    return float(abs(MP.mpf(got) - exact) / MP.ldexp(1, exponent - precision + 1))


def test_the_ruler() -> None:
    assert ulps(1.0, MP.mpf(1)) == 0.0
    assert ulps(1.0 + 2.0**-52, MP.mpf(1)) == 1.0
    assert ulps(1.0, MP.mpf(1) + MP.ldexp(1, -24), np.float32) == 0.5
    assert ulps(math.inf, MP.mpf(10) ** 400) == 0.0
    assert ulps(1e308, MP.mpf(10) ** 400) == math.inf


# --------------------------------------------------------------------------- mpmath references


def mp_multiclass_hinge(row: np.ndarray, label: int) -> Mpf:
    """optax: max_j (s_j + 1 - [j == label]) - s_label."""
    s = [MP.mpf(float(v)) for v in row]
    return max(s[j] + (0 if j == label else 1) for j in range(len(s))) - s[label]


def mp_multiclass_perceptron(row: np.ndarray, label: int) -> Mpf:
    """optax: max_j s_j - s_label."""
    s = [MP.mpf(float(v)) for v in row]
    return max(s) - s[label]


def mp_binary_sparsemax(x: float, y: float) -> Mpf:
    """optax: sparse_plus(-x) for label 1, sparse_plus(x) for label 0."""
    u = -MP.mpf(float(x)) if y == 1 else MP.mpf(float(x))
    if u <= -1:
        return MP.zero
    if u >= 1:
        return u
    return (u + 1) ** 2 / 4


def mp_binary_sparsemax_slope(x: float, y: float) -> Mpf:
    """d/dx: sparse_sigmoid(x) - y, sparse_sigmoid(x) = clip((x + 1) / 2, 0, 1)."""
    xm = MP.mpf(float(x))
    return min(max((xm + 1) / 2, MP.zero), MP.one) - y


def mp_safe_cross_entropy(row: np.ndarray, labels: np.ndarray) -> Mpf:
    """-sum_{j: y_j > 0} y_j log softmax(x)_j, a -inf logit contributing exp(-inf) = 0.

    -log softmax(x)_j = log(1 + sum_{k != j} exp(x_k - x_j)), taken with log1p: 50 digits
    of log(1 + 1e-45) would keep only 5 of the tiny part.
    """
    x = [MP.mpf(float(v)) if np.isfinite(v) else None for v in row]
    total = MP.zero
    for j, y in enumerate(labels):
        if y == 0:
            continue
        if x[j] is None:
            return MP.inf
        others = MP.fsum(MP.exp(v - x[j]) for k, v in enumerate(x) if k != j and v is not None)
        total += MP.mpf(float(y)) * MP.log1p(others)
    return total


def mp_circle(x: np.ndarray, labels: np.ndarray, gamma: float, margin: float, remove_diagonal: bool) -> list[Mpf]:
    """Keras's circle: softplus(lse_P(-g [m + d]_+ (m - d)) + lse_N(g [1 + m - d]_+ (1 - m - d)))."""
    g, m = MP.mpf(gamma), MP.mpf(margin)
    rows = [[MP.mpf(float(v)) for v in r] for r in x]
    out = []
    for i, xi in enumerate(rows):
        pos, neg = [], []
        for j, xj in enumerate(rows):
            d = max(1 - MP.fsum(a * b for a, b in zip(xi, xj, strict=True)), MP.zero)
            if labels[i] == labels[j] and (i != j or not remove_diagonal):
                pos.append(-g * max(m + d, MP.zero) * (m - d))
            elif labels[i] != labels[j]:
                neg.append(g * max(1 + m - d, MP.zero) * (1 - m - d))
        if not pos or not neg:
            out.append(MP.zero)
            continue
        z = MP.log(MP.fsum(MP.exp(a) for a in pos)) + MP.log(MP.fsum(MP.exp(b) for b in neg))
        out.append(MP.log1p(MP.exp(z)))
    return out


# --------------------------------------------------------------------------- torch references (autograd)


def torch_margin(scores: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    onehot = torch.nn.functional.one_hot(labels, scores.shape[1]).to(scores.dtype)
    return (scores + margin * (1 - onehot)).max(dim=1).values - (scores * onehot).sum(dim=1)


def torch_binary_sparsemax(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    u = torch.where(y == 1, -x, x)
    return torch.where(u <= -1, torch.zeros_like(u), torch.where(u >= 1, u, (u + 1) ** 2 / 4))


def torch_safe_cross_entropy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    log_p = torch.log_softmax(x, dim=1)
    return -torch.where(y != 0, y * log_p, torch.zeros_like(log_p)).sum(dim=1)


def torch_circle(
    x: torch.Tensor, labels: torch.Tensor, gamma: float, margin: float, remove_diagonal: bool, clamp: bool = True
) -> torch.Tensor:
    s = x @ x.T
    d = torch.clamp_min(1 - s, 0.0) if clamp else 1 - s
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(x.shape[0], dtype=torch.bool)
    positive = same & ~eye if remove_diagonal else same
    negative = ~same
    a = -gamma * torch.clamp_min(margin + d, 0.0) * (margin - d)
    b = gamma * torch.clamp_min(1 + margin - d, 0.0) * (1 - margin - d)
    lse_p = torch.logsumexp(torch.where(positive, a, -torch.inf), dim=1)
    lse_n = torch.logsumexp(torch.where(negative, b, -torch.inf), dim=1)
    z = lse_p + lse_n
    return torch.logaddexp(z, torch.zeros_like(z))  # F.softplus turns linear from z = 20 on


def torch_grad(f: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray) -> np.ndarray:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    f(t).backward()
    assert t.grad is not None
    return t.grad.numpy()


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


def reduce_reference(values: list[Mpf], weights: np.ndarray | None, reduction: str,
                     counted: list[bool] | None = None) -> Mpf | list[Mpf]:
    """The exact reduction of exact per-sample values."""
    w = [MP.one] * len(values) if weights is None else [MP.mpf(float(v)) for v in weights]
    weighted = [a * b if a != 0 else MP.zero for a, b in zip(w, values, strict=True)]
    if reduction == "none":
        return weighted
    total = MP.fsum(weighted)
    if reduction == "sum":
        return total
    keep = [True] * len(values) if counted is None else counted
    return total / MP.fsum(a for a, k in zip(w, keep, strict=True) if k)


def unit_rows(n: int, d: int) -> np.ndarray:
    x = RNG.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# --------------------------------------------------------------------------- multiclass hinge, perceptron

MARGIN_LOSSES = {
    "multiclass_hinge_loss": (losses.multiclass_hinge_loss, losses.multiclass_hinge_loss_grad, mp_multiclass_hinge, 1.0),
    "multiclass_perceptron_loss": (
        losses.multiclass_perceptron_loss, losses.multiclass_perceptron_loss_grad, mp_multiclass_perceptron, 0.0,
    ),
}


def margin_cases(dtype: type = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    random = RNG.standard_normal((40, 5)) * 3
    ties = RNG.integers(-2, 3, (40, 4)).astype(float)  # many ties and exact kinks
    huge = RNG.choice([-1e4, 1e4, 0.0, 1e4 + 1.0], (12, 3))
    info = np.finfo(dtype)
    big, tiny = float(info.max), float(info.smallest_subnormal)
    extremes = np.array([[big, -big, 0.0], [-big, big, tiny], [1.0, 0.0, 0.0], [big, big / 2, -big]])
    cases = [
        (random, RNG.integers(0, 5, 40)),
        (ties, RNG.integers(0, 4, 40)),
        (huge, RNG.integers(0, 3, 12)),
        (extremes, np.array([0, 0, 0, 2])),
        (RNG.standard_normal((7, 1)), np.zeros(7, dtype=int)),  # one class
    ]
    every = RNG.standard_normal((6, 6))
    cases.append((np.repeat(every, 6, axis=0), np.tile(np.arange(6), 6)))  # labels at every class
    return cases


@pytest.mark.parametrize("name", list(MARGIN_LOSSES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_margin_values_within_4_ulp(name: str, dtype: type) -> None:
    value, _, reference, _ = MARGIN_LOSSES[name]
    for scores, labels in margin_cases(dtype):
        x = scores.astype(dtype)
        got = value(x, labels, reduction="none")
        assert got.dtype == dtype and got.shape == labels.shape
        for row, label, g in zip(x, labels, got, strict=True):
            error = ulps(g, reference(row, int(label)), dtype)
            _record(f"{name} {np.dtype(dtype).name} ulp", error)
            assert error <= MARGIN_ULPS, (name, row, label, g)  # derived there


@pytest.mark.parametrize("name", list(MARGIN_LOSSES))
def test_margin_one_class_is_zero_and_one_hot_equals_indices(name: str) -> None:
    value, grad, _, _ = MARGIN_LOSSES[name]
    assert np.array_equal(value(np.array([[3.0], [-2.0]]), [0, 0], reduction="none"), [0.0, 0.0])
    assert np.array_equal(grad(np.array([[3.0], [-2.0]]), [0, 0], reduction="sum"), [[0.0], [0.0]])
    scores, labels = RNG.standard_normal((9, 4)), RNG.integers(0, 4, 9)
    onehot = np.eye(4)[labels]
    assert np.array_equal(value(scores, labels, reduction="none"), value(scores, onehot, reduction="none"))
    assert np.array_equal(grad(scores, labels), grad(scores, onehot))


@pytest.mark.parametrize("name", list(MARGIN_LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_reductions_and_gradients(name: str, reduction: str) -> None:
    value, grad, reference, margin = MARGIN_LOSSES[name]
    scores, labels = RNG.standard_normal((12, 5)) * 2, RNG.integers(0, 5, 12)
    weights = RNG.uniform(0.2, 2.0, 12)
    exact = reduce_reference([reference(r, int(t)) for r, t in zip(scores, labels, strict=True)], weights, reduction)
    got = value(scores, labels, reduction=reduction, sample_weight=weights)
    # Each value within u (rounded once), times its weight u: 2 ulp; the sum of 12 same-sign
    # terms additions(12) = 8 more; the mean's sum of weights 8 and the division 1 more.
    bound = {"none": 2, "sum": 2 + additions(12), "mean": 3 + 2 * additions(12)}[reduction]
    for g, e in zip(np.ravel(got), exact if isinstance(exact, list) else [exact], strict=True):
        assert ulps(g, e) <= bound
    analytic = grad(scores, labels, reduction=reduction, sample_weight=weights)

    def total(v: np.ndarray) -> float:
        return float(np.sum(value(v, labels, reduction=reduction, sample_weight=weights)))

    np.testing.assert_allclose(analytic, central_differences(total, scores), rtol=1e-6, atol=1e-7)

    def torch_total(t: torch.Tensor) -> torch.Tensor:
        per = torch_margin(t, torch.tensor(labels), margin) * torch.tensor(weights)
        if reduction == "mean":
            return per.sum() / float(weights.sum())
        return per.sum()

    # Both are +-w (times 1 / sum(w) for the mean) where the margin is violated, 0 elsewhere:
    # exact but for the mean's, ours w / sum(w) (the sum of 12 weights additions(12), the
    # division u), torch's w * (1 / float(sum(w))) (NumPy's sum additions(12), two roundings).
    rtol = (2 * additions(12) + 3) * U if reduction == "mean" else 0.0
    np.testing.assert_allclose(analytic, torch_grad(torch_total, scores), rtol=rtol, atol=0)


def test_margin_subgradients_at_the_kinks() -> None:
    # 1 + x_best - x_t == 0: the violated side (-1 at the target, +1 at the best other).
    assert np.array_equal(losses.multiclass_hinge_loss_grad([[2.0, 1.0, 0.0]], [0], reduction="sum"),
                          [[-1.0, 1.0, 0.0]])
    assert losses.multiclass_hinge_loss([[2.0, 1.0, 0.0]], [0], reduction="sum") == 0.0
    # tied best other classes: the first gets the +1
    assert np.array_equal(losses.multiclass_hinge_loss_grad([[0.0, 5.0, 5.0]], [0], reduction="sum"),
                          [[-1.0, 1.0, 0.0]])
    # the perceptron on equal scores: updates (the target is tied with the others)
    assert np.array_equal(losses.multiclass_perceptron_loss_grad([[0.0, 0.0, 0.0]], [2], reduction="sum"),
                          [[1.0, 0.0, -1.0]])
    assert losses.multiclass_perceptron_loss([[0.0, 0.0, 0.0]], [2], reduction="sum") == 0.0
    # a strict winner: no gradient
    assert np.array_equal(losses.multiclass_perceptron_loss_grad([[0.0, 0.0, 1.0]], [2], reduction="sum"),
                          [[0.0, 0.0, 0.0]])


def test_margin_layouts_dtypes_and_torch_input() -> None:
    scores = RNG.standard_normal((3, 4, 2))  # (N, C, d1): the class axis is 1
    labels = RNG.integers(0, 4, (3, 2))
    got = losses.multiclass_hinge_loss(scores, labels, reduction="none")
    assert got.shape == (3, 2)
    for n in range(3):
        for k in range(2):
            assert ulps(got[n, k], mp_multiclass_hinge(scores[n, :, k], int(labels[n, k]))) <= 1  # rounded once
    g = losses.multiclass_hinge_loss_grad(scores, labels)
    assert g.shape == scores.shape
    x32 = scores.astype(np.float32)
    assert losses.multiclass_perceptron_loss(x32, labels).dtype == np.float32
    assert losses.multiclass_perceptron_loss_grad(x32, labels).dtype == np.float32
    t = losses.multiclass_hinge_loss(torch.tensor(scores), torch.tensor(labels), reduction="none")
    assert isinstance(t, torch.Tensor)
    np.testing.assert_array_equal(t.numpy(), got)


def test_margin_errors_name_the_argument() -> None:
    scores = np.zeros((2, 3))
    with pytest.raises(OutOfRangeError, match=r"^multiclass_hinge_loss: target must hold class indices from 0 to 2"):
        losses.multiclass_hinge_loss(scores, [0, 3])
    with pytest.raises(ShapeMismatchError, match=r"^multiclass_perceptron_loss_grad: target"):
        losses.multiclass_perceptron_loss_grad(scores, [0, 1, 2])
    with pytest.raises(NonFiniteError, match=r"^multiclass_hinge_loss_grad: input"):
        losses.multiclass_hinge_loss_grad([[np.nan, 0.0, 1.0]], [0])
    with pytest.raises(OutOfRangeError, match=r"^multiclass_perceptron_loss: .*one-hot"):
        losses.multiclass_perceptron_loss([[0.0, 1.0]], [[0.5, 0.5]])
    with pytest.raises(InvalidOptionError, match=r"^multiclass_hinge_loss: reduction"):
        losses.multiclass_hinge_loss(scores, [0, 1], reduction="avg")
    with pytest.raises(InvalidTypeError, match=r"^multiclass_hinge_loss: target .*whole"):
        losses.multiclass_hinge_loss(scores, [0.5, 1.0])


# --------------------------------------------------------------------------- binary sparsemax


def binary_cases(dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    info = np.finfo(dtype)
    big, tiny, eps = float(info.max), float(info.smallest_subnormal), float(info.eps)
    edges = np.array([-1.0, 1.0, -1.0 + eps, 1.0 - eps / 2, -1.0 - eps, 0.0, tiny, -tiny,
                      1e4, -1e4, big, -big, 0.5, -0.5, 1e-17, 1.0 - eps, -1.0 + eps / 2])
    x = np.concatenate([RNG.standard_normal(60) * 2, edges, edges])
    y = np.concatenate([RNG.integers(0, 2, 60), np.zeros(edges.size), np.ones(edges.size)])
    return x, y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_sparsemax_values_and_slopes_within_4_ulp(dtype: type) -> None:
    x, y = binary_cases(dtype)
    x = x.astype(dtype)
    values = losses.binary_sparsemax_loss(x, y, reduction="none")
    slopes = losses.binary_sparsemax_loss_grad(x, y, reduction="none")
    assert values.dtype == dtype and slopes.dtype == dtype
    for xi, yi, v, s in zip(x, y, values, slopes, strict=True):
        error = ulps(v, mp_binary_sparsemax(xi, yi), dtype)
        _record(f"binary_sparsemax_loss {np.dtype(dtype).name} ulp", error)
        assert error <= BINARY_SPARSEMAX_ULPS[0], (xi, yi, v)  # derived there
        slope_error = ulps(s, mp_binary_sparsemax_slope(xi, yi), dtype)
        _record(f"binary_sparsemax_loss_grad {np.dtype(dtype).name} ulp", slope_error)
        assert slope_error <= BINARY_SPARSEMAX_ULPS[1], (xi, yi, s)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_sparsemax_reductions_and_gradients(reduction: str) -> None:
    x, y = RNG.standard_normal(30) * 1.5, RNG.integers(0, 2, 30).astype(float)
    x = x[np.abs(np.abs(x) - 1.0) > 1e-3]  # away from the joints of the pieces
    y = y[: x.size]
    w = RNG.uniform(0.0, 2.0, x.size)
    exact = reduce_reference([mp_binary_sparsemax(a, b) for a, b in zip(x, y, strict=True)], w, reduction)
    got = losses.binary_sparsemax_loss(x, y, reduction=reduction, sample_weight=w)
    # 3u per value, w u; the sum of <= 30 terms additions(30) = 11; the mean's sum of w 11, the division 1.
    n = x.size
    bound = {"none": 4, "sum": 4 + additions(n), "mean": 5 + 2 * additions(n)}[reduction]
    for g, e in zip(np.ravel(got), exact if isinstance(exact, list) else [exact], strict=True):
        assert ulps(g, e) <= bound
    analytic = losses.binary_sparsemax_loss_grad(x, y, reduction=reduction, sample_weight=w)

    def total(v: np.ndarray) -> float:
        return float(np.sum(losses.binary_sparsemax_loss(v, y, reduction=reduction, sample_weight=w)))

    np.testing.assert_allclose(analytic, central_differences(total, x), rtol=1e-6, atol=1e-7)

    def torch_total(t: torch.Tensor) -> torch.Tensor:
        per = torch_binary_sparsemax(t, torch.tensor(y)) * torch.tensor(w)
        return per.sum() / float(w.sum()) if reduction == "mean" else per.sum()

    # Both 0.5 t sign (or 0, or +-1) with t = fl(u + 1) (u each side), times w (u each side;
    # torch's w 0.25 is exact, its product with 2 t rounds); the mean: over sum(w),
    # additions(n) on each side (ours; torch's NumPy float(sum)), ours' division u, torch's
    # 1 / sum(w) and its product with w 2u.
    rtol = (4 + (reduction == "mean") * (2 * additions(n) + 3)) * U
    np.testing.assert_allclose(analytic, torch_grad(torch_total, x), rtol=rtol, atol=0)


def test_binary_sparsemax_shapes_and_torch_input() -> None:
    x, y = RNG.standard_normal((4, 3)), RNG.integers(0, 2, (4, 3))
    assert losses.binary_sparsemax_loss(x, y, reduction="none").shape == (4, 3)
    t = losses.binary_sparsemax_loss(torch.tensor(x), torch.tensor(y.astype(float)), reduction="none")
    np.testing.assert_array_equal(t.numpy(), losses.binary_sparsemax_loss(x, y, reduction="none"))
    assert float(losses.binary_sparsemax_loss([0.5], [1])) == pytest.approx(0.0625)


def test_binary_sparsemax_errors_name_the_argument() -> None:
    with pytest.raises(OutOfRangeError, match=r"^binary_sparsemax_loss: target must hold labels 0 or 1.*\(y \+ 1\)"):
        losses.binary_sparsemax_loss([0.0, 1.0], [-1.0, 1.0])
    with pytest.raises(OutOfRangeError, match=r"^binary_sparsemax_loss_grad: target must hold labels 0 or 1.*0\.3"):
        losses.binary_sparsemax_loss_grad([0.0, 1.0], [0.3, 1.0])
    with pytest.raises(ShapeMismatchError, match=r"^binary_sparsemax_loss: input and target"):
        losses.binary_sparsemax_loss([0.0, 1.0], [1.0])
    with pytest.raises(NonFiniteError, match=r"^binary_sparsemax_loss: input"):
        losses.binary_sparsemax_loss([np.nan], [1.0])
    with pytest.raises(InvalidOptionError, match=r"^binary_sparsemax_loss_grad: reduction"):
        losses.binary_sparsemax_loss_grad([0.0], [1.0], reduction=None)


# --------------------------------------------------------------------------- safe softmax cross-entropy


def soft_rows(n: int, c: int) -> np.ndarray:
    y = RNG.dirichlet(np.ones(c), n)
    y[RNG.random((n, c)) < 0.3] = 0.0  # some exact zeros, then back on the simplex
    y[y.sum(axis=1) == 0, 0] = 1.0
    return y / y.sum(axis=1, keepdims=True)


def safe_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    x = RNG.standard_normal((30, 5)) * 3
    onehot = np.eye(5)[RNG.integers(0, 5, 30)]
    masked = x.copy()
    masked[onehot == 0] = np.where(RNG.random(np.count_nonzero(onehot == 0)) < 0.4, -np.inf, masked[onehot == 0])
    huge = RNG.choice([-1e4, 1e4, 0.0, 1e4 - 30.0], (10, 4))
    confident = np.array([[40.0, 0.0], [800.0, 0.0], [0.0, -np.inf], [-1e4, 1e4]])
    every = np.repeat(RNG.standard_normal((1, 6)), 6, axis=0)
    return [
        (x, onehot),
        (x, soft_rows(30, 5)),
        (RNG.standard_normal((20, 3)) * 30, np.eye(3)[RNG.integers(0, 3, 20)]),  # tiny losses, large ones
        (RNG.standard_normal((20, 12)) * 5, soft_rows(20, 12)),
        (masked, onehot),
        (huge, soft_rows(10, 4)),
        (confident, np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])),
        (np.array([[3.0], [-7.0]]), np.ones((2, 1))),  # one class: loss 0
        (every, np.eye(6)),  # labels at every class
        (np.array([[0.0, -np.inf, 1.0]]), np.array([[0.5, 0.5, 0.0]])),  # -inf with a positive label: inf
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_safe_cross_entropy_values_within_4_ulp(dtype: type) -> None:
    for logits, labels in safe_cases():
        x, y = logits.astype(dtype), labels.astype(dtype)
        got = losses.safe_softmax_cross_entropy(x, y, reduction="none")
        assert got.dtype == dtype
        for row, label, g in zip(x, y, got, strict=True):
            error = ulps(g, mp_safe_cross_entropy(row, label), dtype)
            _record(f"safe_softmax_cross_entropy {np.dtype(dtype).name} ulp", error)
            # safe_ulps: 11 (C = 3) to 24 (C = 12); float32 rounds that once: 1/2 + 24 * 2**-29
            bound = safe_ulps(len(row)) if dtype == np.float64 else 0.5 + 2.0**-24
            assert error <= bound, (row, label, g)


def test_safe_cross_entropy_minus_infinity_is_finite_where_the_label_is_zero() -> None:
    x = np.array([[1.0, -np.inf, 0.0], [-np.inf, -np.inf, 2.0]])
    y = np.array([[0.25, 0.0, 0.75], [0.0, 0.0, 1.0]])
    values = losses.safe_softmax_cross_entropy(x, y, reduction="none")
    assert np.all(np.isfinite(values)) and values[1] == 0.0
    g = losses.safe_softmax_cross_entropy_grad(x, y, reduction="sum")
    assert np.all(np.isfinite(g)) and g[0, 1] == 0.0 and np.array_equal(g[1], [0.0, 0.0, 0.0])
    # a positive label at -inf: the loss is inf, the gradient the finite limit p - y
    assert losses.safe_softmax_cross_entropy([[0.0, -np.inf]], [[0.5, 0.5]]) == math.inf
    np.testing.assert_array_equal(losses.safe_softmax_cross_entropy_grad([[0.0, -np.inf]], [[0.5, 0.5]]),
                                  [[0.5, -0.5]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_safe_cross_entropy_reductions_and_gradients(reduction: str) -> None:
    x, y = RNG.standard_normal((8, 4)) * 2, soft_rows(8, 4)
    x[0, 1] = -np.inf
    y[0] = [0.5, 0.0, 0.25, 0.25]
    w = RNG.uniform(0.1, 2.0, 8)
    exact = reduce_reference([mp_safe_cross_entropy(r, t) for r, t in zip(x, y, strict=True)], w, reduction)
    got = losses.safe_softmax_cross_entropy(x, y, reduction=reduction, sample_weight=w)
    # safe_ulps(4) = 13 per row, w u; the sum of 8 additions(8) = 4; the mean's sum of w 4, the division 1.
    each = safe_ulps(4) + 1
    bound = {"none": each, "sum": each + additions(8), "mean": each + 1 + 2 * additions(8)}[reduction]
    for g, e in zip(np.ravel(got), exact if isinstance(exact, list) else [exact], strict=True):
        assert ulps(g, e) <= bound
    analytic = losses.safe_softmax_cross_entropy_grad(x, y, reduction=reduction, sample_weight=w)
    assert analytic.shape == x.shape and np.all(np.isfinite(analytic))
    finite = np.isfinite(x)

    def total(v: np.ndarray) -> float:
        moved = x.copy()
        moved[finite] = v[finite]
        return float(np.sum(losses.safe_softmax_cross_entropy(moved, y, reduction=reduction, sample_weight=w)))

    numeric = central_differences(total, np.where(finite, x, 0.0))
    np.testing.assert_allclose(analytic[finite], numeric[finite], rtol=1e-6, atol=1e-7)
    assert analytic[0, 1] == 0.0

    def torch_total(t: torch.Tensor) -> torch.Tensor:
        per = torch_safe_cross_entropy(t, torch.tensor(y)) * torch.tensor(w)
        return per.sum() / float(w.sum()) if reduction == "mean" else per.sum()

    np.testing.assert_allclose(
        analytic, torch_grad(torch_total, x), rtol=UNDERIVED_RTOL["safe gradient"], atol=UNDERIVED_RTOL["safe gradient floor"]
    )


def test_safe_cross_entropy_confident_row_keeps_its_tiny_loss_and_gradient() -> None:
    value = losses.safe_softmax_cross_entropy([[40.0, 0.0]], [[1.0, 0.0]])
    # rest = exp(-40) exactly as libm gives it (2u), log1p 2u; the other operations are exact.
    assert ulps(value, MP.log1p(MP.exp(-40))) <= 4
    g = losses.safe_softmax_cross_entropy_grad([[40.0, 0.0]], [[1.0, 0.0]])
    exact = MP.exp(-40) / (1 + MP.exp(-40))
    # rest / (1 + rest) and e / (1 + rest), e = rest: exp 2u, the add and the division u each.
    assert ulps(-g[0, 0], exact) <= 4 and ulps(g[0, 1], exact) <= 4


def test_safe_cross_entropy_layouts_and_torch_input() -> None:
    x = RNG.standard_normal((2, 3, 4))  # (N, C, d1): class axis 1
    y = np.moveaxis(soft_rows(8, 3).reshape(2, 4, 3), -1, 1)
    got = losses.safe_softmax_cross_entropy(x, y, reduction="none")
    assert got.shape == (2, 4)
    for n in range(2):
        for k in range(4):
            assert ulps(got[n, k], mp_safe_cross_entropy(x[n, :, k], y[n, :, k])) <= safe_ulps(3)  # 11
    assert losses.safe_softmax_cross_entropy_grad(x, y).shape == x.shape
    unbatched = losses.safe_softmax_cross_entropy(x[0, :, 0], y[0, :, 0], reduction="none")
    assert unbatched.shape == () and ulps(unbatched, mp_safe_cross_entropy(x[0, :, 0], y[0, :, 0])) <= safe_ulps(3)
    t = losses.safe_softmax_cross_entropy_grad(torch.tensor(x), torch.tensor(y))
    assert isinstance(t, torch.Tensor)
    # torch's exp may round differently from NumPy's by an ulp
    np.testing.assert_allclose(t.numpy(), losses.safe_softmax_cross_entropy_grad(x, y), rtol=4 * 2.0**-52, atol=1e-17)


def test_safe_cross_entropy_errors_name_the_argument() -> None:
    func = "safe_softmax_cross_entropy"
    with pytest.raises(NonFiniteError, match=rf"^{func}: input must hold finite logits or -inf.*\+inf"):
        losses.safe_softmax_cross_entropy([[np.inf, 0.0]], [[1.0, 0.0]])
    with pytest.raises(NonFiniteError, match=rf"^{func}_grad: input"):
        losses.safe_softmax_cross_entropy_grad([[np.nan, 0.0]], [[1.0, 0.0]])
    with pytest.raises(OutOfRangeError, match=rf"^{func}: every row of input .*-inf"):
        losses.safe_softmax_cross_entropy([[-np.inf, -np.inf]], [[1.0, 0.0]])
    with pytest.raises(OutOfRangeError, match=rf"^{func}: each row of class probabilities in target must sum to 1"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [[0.5, 0.6]])
    with pytest.raises(OutOfRangeError, match=rf"^{func}: target must hold labels"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [[-0.5, 1.5]])
    with pytest.raises(ShapeMismatchError, match=rf"^{func}: target must hold class probabilities.*indices"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [1])
    with pytest.raises(ShapeMismatchError, match=rf"^{func}: input and target"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [[1.0, 0.0, 0.0]])
    with pytest.raises(ShapeMismatchError, match=rf"^{func}: sample_weight"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [[1.0, 0.0]], sample_weight=[1.0, 2.0])
    with pytest.raises(EmptyInputError, match=rf"^{func}: reduction='mean'"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [[1.0, 0.0]], sample_weight=[0.0])
    with pytest.raises(InvalidOptionError, match=rf"^{func}: reduction"):
        losses.safe_softmax_cross_entropy([[0.0, 1.0]], [[1.0, 0.0]], reduction="batchmean")


# --------------------------------------------------------------------------- circle


def circle_batch(n: int = 10, d: int = 4, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    return unit_rows(n, d), np.arange(n) % classes


CIRCLE_OPTIONS = [
    {},
    {"gamma": 1.0, "margin": 0.25},
    {"gamma": 80.0, "margin": 0.4, "remove_diagonal": False},
    {"gamma": 5.0, "margin": -0.1},
]


@pytest.mark.parametrize("options", CIRCLE_OPTIONS, ids=lambda o: str(o) or "defaults")
def test_circle_values_against_mpmath(options: dict[str, Any]) -> None:
    x, labels = circle_batch()
    labels[-1] = 99  # an anchor without positives: loss 0
    gamma, margin = options.get("gamma", 80.0), options.get("margin", 0.4)
    remove = options.get("remove_diagonal", True)
    exact = mp_circle(x, labels, gamma, margin, remove)
    got = losses.circle_loss(x, labels, reduction="none", **options)
    assert got.shape == (x.shape[0],)
    for g, e in zip(got, exact, strict=True):
        if e == 0:
            assert g == 0.0
            continue
        relative = float(abs(MP.mpf(float(g)) - e) / e)
        _record("circle_loss float64 relative", relative)
        # |x| = 1, D = 4: d = 1 - s errs by 5u absolute; a, b by <= 4g * 5u and 2g * 5u through
        # d plus 4 roundings of |a| <= 3.84g, |b| <= 0.84g; each lse adds (v - max) u <= 7.7g u,
        # exp, the sum of <= 10, log, + max: z errs by < 68g u + 41u absolute, and softplus
        # turns that into as much relative (sigmoid / softplus <= 1), + 5u: 6.1e-13 at g = 80.
        assert relative <= 1e-12, (g, e)
    got32 = losses.circle_loss(x.astype(np.float32), labels, reduction="none", **options)
    assert got32.dtype == np.float32
    for g, e in zip(got32, exact, strict=True):
        # float32 embeddings are rounded input: the loss moves by up to gamma times that
        assert float(abs(MP.mpf(float(g)) - e)) <= 1e-5 * max(1.0, gamma) * (1 + float(e))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CIRCLE_OPTIONS[:3], ids=["defaults", "gamma1", "keep-diagonal"])
def test_circle_reductions_and_gradients(reduction: str, options: dict[str, Any]) -> None:
    x, labels = circle_batch(8, 3, 3)
    if options.get("remove_diagonal") is False:
        x = x * 0.9  # |x|^2 != 1: the self-pair stays off the kink of max(1 - s, 0)
    labels[-1] = 7  # no positive: not counted by the mean
    w = RNG.uniform(0.2, 2.0, 8)
    gamma, margin = options.get("gamma", 80.0), options.get("margin", 0.4)
    remove = options.get("remove_diagonal", True)
    exact_values = mp_circle(x, labels, gamma, margin, remove)
    counted = [v != 0 for v in exact_values]
    exact = reduce_reference(exact_values, w, reduction, counted)
    got = losses.circle_loss(x, labels, reduction=reduction, sample_weight=w, **options)
    # Per anchor < 6.1e-13 relative (test_circle_values_against_mpmath, D = 3 here), w u, the
    # sum and the mean's sum of weights of 8 additions(8) = 4 each, the division u.
    for g, e in zip(np.ravel(got), exact if isinstance(exact, list) else [exact], strict=True):
        assert float(abs(MP.mpf(float(g)) - e)) <= 1e-12 * float(abs(e)) + 1e-300
    analytic = losses.circle_loss_grad(x, labels, reduction=reduction, sample_weight=w, **options)
    assert analytic.shape == x.shape

    def total(v: np.ndarray) -> float:
        return float(np.sum(losses.circle_loss(v, labels, reduction=reduction, sample_weight=w, **options)))

    numeric = central_differences(total, x, h=1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(numeric).max()))

    def torch_total(t: torch.Tensor) -> torch.Tensor:
        per = torch_circle(t, torch.tensor(labels), gamma, margin, remove) * torch.tensor(w)
        if reduction == "mean":
            return per.sum() / float(sum(a for a, k in zip(w, counted, strict=True) if k))
        return per.sum()

    expected = torch_grad(torch_total, x)
    floor = UNDERIVED_RTOL["circle gradient floor"] * max(1.0, np.abs(expected).max())
    np.testing.assert_allclose(analytic, expected, rtol=UNDERIVED_RTOL["circle gradient"], atol=floor)


def test_circle_gradient_passes_through_the_clamp_of_the_distance() -> None:
    x = unit_rows(4, 3)
    x[1] = x[0]  # a positive pair at distance 0: the kink of max(1 - s, 0)
    labels = np.array([0, 0, 1, 1])
    got = losses.circle_loss_grad(x, labels, gamma=4.0, reduction="sum")
    unclamped = torch_grad(
        lambda t: torch_circle(t, torch.tensor(labels), 4.0, 0.4, True, clamp=False).sum(), x
    )
    np.testing.assert_allclose(
        got, unclamped, rtol=UNDERIVED_RTOL["circle unclamped"], atol=UNDERIVED_RTOL["circle unclamped floor"]
    )


def test_circle_mean_counts_anchors_with_a_positive_and_a_negative() -> None:
    x, labels = circle_batch(6, 3, 2)
    labels = np.array([0, 0, 1, 1, 2, 3])  # anchors 4 and 5 have no positive
    per = losses.circle_loss(x, labels, reduction="none")
    assert per[4] == 0.0 and per[5] == 0.0 and np.all(per[:4] > 0)
    exact = mp_circle(x, labels, 80.0, 0.4, True)
    # Per anchor < 6.1e-13 relative (test_circle_values_against_mpmath), the sum of 6 5u, / 4 exact.
    mean = MP.fsum(exact) / 4
    assert abs(MP.mpf(float(losses.circle_loss(x, labels))) - mean) <= 1e-12 * mean
    with pytest.raises(EmptyInputError, match=r"^circle_loss: reduction='mean'"):
        losses.circle_loss(x, np.zeros(6))  # no negatives anywhere
    assert losses.circle_loss(x, np.zeros(6), reduction="sum") == 0.0
    assert np.array_equal(losses.circle_loss_grad(x, np.zeros(6), reduction="sum"), np.zeros_like(x))


def test_circle_torch_input_and_empty_batch() -> None:
    x, labels = circle_batch(6, 3, 2)
    t = losses.circle_loss_grad(torch.tensor(x), torch.tensor(labels))
    assert isinstance(t, torch.Tensor)
    expected = losses.circle_loss_grad(x, labels)
    # torch's matmul may add in another order: an ulp or so of the largest entry
    np.testing.assert_allclose(t.numpy(), expected, rtol=0, atol=8 * 2.0**-52 * np.abs(expected).max())
    assert losses.circle_loss(np.zeros((0, 3)), np.zeros(0), reduction="sum") == 0.0
    assert losses.circle_loss_grad(np.zeros((0, 3)), np.zeros(0), reduction="sum").shape == (0, 3)


def test_circle_errors_name_the_argument() -> None:
    x, labels = circle_batch(4, 2, 2)
    with pytest.raises(InvalidOptionError, match=r"^circle_loss: gamma must be a positive"):
        losses.circle_loss(x, labels, gamma=-1.0)
    with pytest.raises(InvalidOptionError, match=r"^circle_loss_grad: margin must be"):
        losses.circle_loss_grad(x, labels, margin=math.inf)
    with pytest.raises(InvalidOptionError, match=r"^circle_loss: remove_diagonal must be True or False"):
        losses.circle_loss(x, labels, remove_diagonal="yes")
    with pytest.raises(ShapeMismatchError, match=r"^circle_loss: labels must hold one integer class label"):
        losses.circle_loss(x, labels[:-1])
    with pytest.raises(ShapeMismatchError, match=r"^circle_loss: embeddings must have shape \(batch, features\)"):
        losses.circle_loss(x[0], labels)
    with pytest.raises(InvalidTypeError, match=r"^circle_loss_grad: labels must hold integer class labels.*0\.5"):
        losses.circle_loss_grad(x, [0.0, 0.5, 1.0, 1.0])
    with pytest.raises(NonFiniteError, match=r"^circle_loss: embeddings"):
        losses.circle_loss(np.full((4, 2), np.nan), labels)
    with pytest.raises(ShapeMismatchError, match=r"^circle_loss: sample_weight must hold one weight per embedding"):
        losses.circle_loss(x, labels, sample_weight=np.ones((4, 1)))
    with pytest.raises(InvalidOptionError, match=r"^circle_loss: reduction"):
        losses.circle_loss(x, labels, reduction="sum_over_batch_size")


# --------------------------------------------------------------------------- all five: weights, dtypes, edges

ALL = {
    "multiclass_hinge_loss": lambda: (RNG.standard_normal((6, 3)), RNG.integers(0, 3, 6)),
    "multiclass_perceptron_loss": lambda: (RNG.standard_normal((6, 3)), RNG.integers(0, 3, 6)),
    "binary_sparsemax_loss": lambda: (RNG.standard_normal(6), RNG.integers(0, 2, 6).astype(float)),
    "safe_softmax_cross_entropy": lambda: (RNG.standard_normal((6, 3)), soft_rows(6, 3)),
    "circle_loss": lambda: circle_batch(6, 3, 2),
}


@pytest.mark.parametrize("name", list(ALL))
def test_zero_weight_removes_a_sample_and_float32_stays_float32(name: str) -> None:
    value, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
    first, second = ALL[name]()
    w = np.ones(first.shape[0])
    w[0] = 0.0
    per = value(first, second, reduction="none")
    weighted = value(first, second, reduction="none", sample_weight=w)
    assert weighted[0] == 0.0 and np.array_equal(weighted[1:], per[1:])
    assert grad(first, second, reduction="sum", sample_weight=w).shape == first.shape
    x32 = first.astype(np.float32)
    other = second.astype(np.float32) if name in ("binary_sparsemax_loss", "safe_softmax_cross_entropy") else second
    for reduction in REDUCTIONS:
        assert np.asarray(value(x32, other, reduction=reduction)).dtype == np.float32
        assert grad(x32, other, reduction=reduction).dtype == np.float32


def test_extreme_inputs_give_no_warning_and_no_nan() -> None:
    cases = {
        "multiclass_hinge_loss": (np.array([[1e308, -1e308], [-1e308, 1e308], [0.0, 5e-324]]), np.array([0, 0, 1])),
        "multiclass_perceptron_loss": (np.array([[1e308, -1e308], [-1e308, 1e308]]), np.array([1, 0])),
        "binary_sparsemax_loss": (np.array([1e308, -1e308, 5e-324, -1.0]), np.array([0.0, 1.0, 1.0, 0.0])),
        "safe_softmax_cross_entropy": (np.array([[1e308, -1e308, -np.inf], [-np.inf, 0.0, -np.inf]]),
                                       np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])),
        "circle_loss": (np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), np.array([0, 0, 1, 1])),
    }
    for name, arrays in cases.items():
        for reduction in REDUCTIONS:  # pytest turns any warning into an error
            assert not np.isnan(np.asarray(getattr(losses, name)(*arrays, reduction=reduction))).any(), name
            assert not np.isnan(getattr(losses, f"{name}_grad")(*arrays, reduction=reduction)).any(), name
    # far from unit norm: the similarities overflow, the clamps keep the loss finite here
    huge = np.array([[1e200, 0.0], [1e200, 0.0], [-1e200, 0.0]])
    values = losses.circle_loss(huge, [0, 0, 1], reduction="none")
    assert np.all(np.isfinite(values)) and values[2] == 0.0
    assert np.array_equal(losses.circle_loss_grad(huge, [0, 0, 1], reduction="sum"), np.zeros((3, 2)))


# --------------------------------------------------------------------------- gradients that cancel, in absolute terms


def _softmax_terms(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``p_k sum(u) + u_k``: the sizes of the two terms of ``p_k sum(u) - u_k``, in float64."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p * u.sum(axis=1, keepdims=True) + u


def _targets(x: np.ndarray, y: np.ndarray, label_smoothing: float = 0.0) -> np.ndarray:
    t = np.eye(x.shape[1])[y] if y.ndim < x.ndim else y
    return (1 - label_smoothing) * t + label_smoothing / x.shape[1]


def _focal_weights(x: np.ndarray, y: np.ndarray, gamma: float = 2.0, alpha: float | None = None) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    q, nll = 1 - p, -np.log(p)
    return _targets(x, y) * (1.0 if alpha is None else alpha) * (gamma * q ** (gamma - 1) * p * nll + q**gamma)


def _poly_weights(x: np.ndarray, y: np.ndarray, epsilon: float = 2.0) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return _targets(x, y) * (1 + epsilon * e / e.sum(axis=1, keepdims=True))


TERMS: dict[str, Callable[..., np.ndarray]] = {
    "cross_entropy": lambda x, y, **o: _softmax_terms(x, _targets(x, y, o.get("label_smoothing", 0.0))),
    "safe_softmax_cross_entropy": lambda x, y, **o: _softmax_terms(np.where(np.isinf(x), -1e300, x), y),
    "categorical_focal_loss": lambda x, y, **o: _softmax_terms(x, _focal_weights(x, y, **o)),
    "poly_loss_cross_entropy": lambda x, y, **o: _softmax_terms(x, _poly_weights(x, y, **o)),
    "multilabel_soft_margin_loss": lambda x, y, **o: ((1 - y) / (1 + np.exp(-x)) + y / (1 + np.exp(x))) / x.shape[1],
}
"""The sizes of the two terms each gradient entry is the difference of (float64 is enough for a scale)."""

ABSOLUTE_ULPS = {
    "cross_entropy": 4.0, "safe_softmax_cross_entropy": 2.0, "categorical_focal_loss": 4.0,
    "poly_loss_cross_entropy": 3.0, "multilabel_soft_margin_loss": 2.0,
}
"""The bound the gradients state where their terms cancel: ulps of the sum of the two terms'
sizes (3.92, 1.49, 3.17, 2.50 and 1.16 measured)."""


def _cancelling_cases(name: str) -> Iterator[tuple[tuple[np.ndarray, ...], dict[str, Any]]]:
    import adversarial_multiclass
    from loss_catalog import BY_NAME

    for seed in range(3):
        yield BY_NAME[name].draw(np.random.default_rng(seed), 48), {}
    yield from adversarial_multiclass.CASES.get(name, [])
    yield from adversarial_multiclass.ABSOLUTE.get(name, [])


@pytest.mark.parametrize("name", sorted(TERMS))
def test_cancelling_gradients_are_within_a_few_ulps_of_their_terms(name: str) -> None:
    """Where a soft target nearly equals the softmax (the sigmoid), the gradient's relative
    error has no bound in float64; its absolute error has: a few ulps of the sum of the sizes
    of its two terms (``p_k sum(u) + u_k``), on the catalog's draws and every adversarial case."""
    import neural_network.losses as public
    from mp_namespace import exact
    from neural_network.losses._reference import REFERENCES
    from test_exactness import MP, spacing_at

    grad = getattr(public, f"{name}_grad")
    worst = 0.0
    for arrays, options in _cancelling_cases(name):
        got = np.asarray(grad(*arrays, reduction="sum", **options)).ravel()
        expected = np.asarray(exact(REFERENCES[name].grad, *arrays, **options), dtype=object).ravel()
        with np.errstate(all="ignore"):
            scale = np.asarray(TERMS[name](*arrays, **options), dtype=np.float64).ravel()
        for g, e, s in zip(got, expected, scale, strict=True):
            if math.isfinite(s) and s > 0:
                worst = max(worst, float(abs(MP.mpf(float(g)) - MP.mpf(e)) / spacing_at(MP.mpf(float(s)), np.float64)))
    print(f"worst absolute error of {name}_grad: {worst:.2f} ulps of its terms")
    assert worst <= ABSOLUTE_ULPS[name]
