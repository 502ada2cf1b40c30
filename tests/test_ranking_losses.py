"""sparsemax_loss, ranking_softmax_loss, ntxent_loss and the label-smoothing helpers.

References are independent: torch autograd implementations of the documented formulas
(optax's source) in float64, a bisection for the sparsemax threshold, central finite
differences for the gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from error_model import U
from neural_network import losses
from neural_network.errors import EmptyInputError, InvalidInputError, InvalidTypeError
from test_exactness import MP as EXACT
from test_exactness import ulp_error

RNG = np.random.default_rng(20240611)

# Error model of the bounds, for any libm whose exp, log, log1p are within 1 ulp: u = 2**-53;
# a correctly rounded operation errs by <= u relative, a libm function by <= 2u; errors pass
# through condition numbers; cancellation multiplies an absolute error into a relative one.


UNDERIVED_RTOL = {
    "sparsemax": 1e-12, "sparsemax floor": 1e-14, "sparsemax reduced": 1e-13, "martins": 1e-11, "martins floor": 1e-12,
    "ranking": 1e-12, "ranking floor": 1e-15, "ranking gradient": 1e-10, "ranking gradient floor": 1e-14,
    "ntxent": 1e-11, "ntxent scaled": 1e-14, "smoothed cross_entropy": 1e-12,
}
"""Not derived: sparsemax_loss, ranking_softmax_loss and ntxent_loss against optax's formulas
(in PyTorch), Martins' sort formula and PyTorch's cross_entropy with label smoothing. No
file derives our bounds of these losses or of their gradients (tests/test_devices.py
UNDERIVED), nor of the references' (a bisection for tau, log_softmax and autograd through
them, PyTorch's smoothed cross-entropy): each comparison keeps the tolerance it had, named
here by what it compares ("floor": the absolute one; "scaled": rows scaled by 1e300 and
1e-300 against unit rows)."""


def _fd(f: Callable[[np.ndarray[Any, Any]], float], x: np.ndarray[Any, Any], h: float = 1e-6) -> np.ndarray[Any, Any]:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


# --------------------------------------------------------------------------- sparsemax


def _sparsemax_reference(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """optax's multiclass_sparsemax_loss, with tau found by bisection (not by sorting)."""
    low = z.max(dim=1, keepdim=True).values - 1.0
    high = z.max(dim=1, keepdim=True).values
    for _ in range(200):
        mid = (low + high) / 2
        over = torch.clamp(z - mid, min=0).sum(dim=1, keepdim=True) > 1.0
        low = torch.where(over, mid, low)
        high = torch.where(over, high, mid)
    p = torch.clamp(z - (low + high) / 2, min=0)
    own = z.gather(1, labels[:, None])
    shifted = (z - own).scatter(1, labels[:, None], 0.0)
    return (p * torch.where(p > 0, shifted, 0.0)).sum(dim=1) + 0.5 * (1.0 - (p * p).sum(dim=1))


def _sparsemax_args(n: int = 6, c: int = 5) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    return RNG.normal(size=(n, c)) * 2.0, RNG.integers(0, c, size=n)


def test_sparsemax_matches_optax_formula() -> None:
    z, t = _sparsemax_args()
    ref = _sparsemax_reference(torch.tensor(z), torch.tensor(t)).numpy()
    np.testing.assert_allclose(losses.sparsemax_loss(z, t, reduction="none"), ref, rtol=UNDERIVED_RTOL["sparsemax"], atol=UNDERIVED_RTOL["sparsemax floor"])
    onehot = np.eye(z.shape[1])[t]
    np.testing.assert_allclose(
        losses.sparsemax_loss(z, onehot, reduction="none"), ref, rtol=UNDERIVED_RTOL["sparsemax"],
        atol=UNDERIVED_RTOL["sparsemax floor"],
    )
    assert losses.sparsemax_loss(z, t) == pytest.approx(ref.mean(), rel=UNDERIVED_RTOL["sparsemax reduced"])
    assert losses.sparsemax_loss(z, t, reduction="sum") == pytest.approx(ref.sum(), rel=UNDERIVED_RTOL["sparsemax reduced"])
    w = RNG.uniform(0.0, 2.0, size=z.shape[0])
    assert losses.sparsemax_loss(z, t, sample_weight=w) == pytest.approx(
        (w * ref).sum() / w.sum(), rel=UNDERIVED_RTOL["sparsemax reduced"]
    )


def test_sparsemax_martins_formula_and_gradient() -> None:
    z, t = _sparsemax_args()
    y = np.eye(z.shape[1])[t]
    values = losses.sparsemax_loss(z, t, reduction="none")
    for row, label, value in zip(z, y, values, strict=True):
        tau_value = _tau_by_sort(row)
        support = row > tau_value
        martins = -row @ label + 0.5 * np.sum(row[support] ** 2 - tau_value**2) + 0.5
        assert value == pytest.approx(martins, rel=UNDERIVED_RTOL["martins"], abs=UNDERIVED_RTOL["martins floor"])
    w = RNG.uniform(0.5, 2.0, size=z.shape[0])
    for reduction in ("mean", "sum", "none"):
        def total(v: np.ndarray[Any, Any], reduction: str = reduction) -> float:
            return float(np.sum(losses.sparsemax_loss(v, t, reduction=reduction, sample_weight=w)))
        g = losses.sparsemax_loss_grad(z, t, reduction=reduction, sample_weight=w)
        np.testing.assert_allclose(g, _fd(total, z), atol=1e-7)


def _tau_by_sort(row: np.ndarray[Any, Any]) -> float:
    s = np.sort(row)[::-1]
    c = np.cumsum(s)
    k = np.arange(1, row.size + 1)
    size = int(np.sum(1 + k * s > c))
    return float((c[size - 1] - 1) / size)


def test_sparsemax_extremes_and_dtype() -> None:
    z = np.array([[1e300, -1e300, 0.0], [5.0, 5.0, 5.0]])
    values = losses.sparsemax_loss(z, [0, 1], reduction="none")
    # No libm. Row 1: p = 0 + fl(1/3) u, 1/3 - 1 1.5u, the squares 3u and 4u, their sum of 3
    # 6u, halved exactly: 6u; the reference 1.0 / 3.0 u. Row 0: every operation exact, 0.
    np.testing.assert_allclose(values, [0.0, 1.0 / 3.0], rtol=7 * U)
    z32 = np.asarray(RNG.normal(size=(4, 3)), dtype=np.float32)
    assert losses.sparsemax_loss(z32, [0, 1, 2, 0]).dtype == np.float32
    assert losses.sparsemax_loss_grad(z32, [0, 1, 2, 0]).dtype == np.float32
    soft = np.array([[0.5, 0.5, 0.0]])
    assert float(losses.sparsemax_loss([[1.0, 1.0, -3.0]], soft)) == 0.0


def test_sparsemax_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"sparsemax_loss: .*target.*sum"):
        losses.sparsemax_loss([[1.0, 2.0]], [[0.5, 0.9]])
    with pytest.raises(InvalidInputError, match=r"sparsemax_loss_grad: .*input"):
        losses.sparsemax_loss_grad([[np.nan, 2.0]], [0])
    with pytest.raises(InvalidInputError, match=r"sparsemax_loss: .*reduction"):
        losses.sparsemax_loss([[1.0, 2.0]], [0], reduction="avg")


# --------------------------------------------------------------------------- ranking softmax


def _ranking_reference(s: torch.Tensor, y: torch.Tensor, where: torch.Tensor | None) -> torch.Tensor:
    """optax's ranking_softmax_loss with reduce_fn=None (per list)."""
    if where is not None:
        y = torch.where(where, y, 0.0)
        s = torch.where(where, s, -torch.inf)
    logp = torch.log_softmax(s, dim=-1)
    return -torch.where(y > 0, y * logp, 0.0).sum(dim=-1)


def _ranking_args(n: int = 5, length: int = 6) -> tuple[Any, Any, Any]:
    s = RNG.normal(size=(n, length)) * 3.0
    y = RNG.integers(0, 4, size=(n, length)).astype(float)
    where = RNG.uniform(size=(n, length)) < 0.7
    where[0] = False  # a list without any valid item
    y[1] = 0.0  # a list without relevant items
    return s, y, where


@pytest.mark.parametrize("masked", [False, True])
def test_ranking_softmax_matches_torch(masked: bool) -> None:
    s, y, where = _ranking_args()
    mask = where if masked else None
    st = torch.tensor(s, requires_grad=True)
    ref = _ranking_reference(st, torch.tensor(y), None if mask is None else torch.tensor(mask))
    lists = float(mask.any(axis=1).sum()) if mask is not None else float(s.shape[0])
    w = RNG.uniform(0.0, 2.0, size=s.shape[0])
    np.testing.assert_allclose(
        losses.ranking_softmax_loss(s, y, where=mask, reduction="none"), ref.detach().numpy(),
        rtol=UNDERIVED_RTOL["ranking"], atol=UNDERIVED_RTOL["ranking floor"],
    )
    for reduction, reduce in (("sum", ref.sum()), ("mean", ref.sum() / lists)):
        (g,) = torch.autograd.grad(reduce, st, retain_graph=True)
        value = losses.ranking_softmax_loss(s, y, where=mask, reduction=reduction)
        assert value == pytest.approx(reduce.item(), rel=UNDERIVED_RTOL["ranking"])
        np.testing.assert_allclose(
            losses.ranking_softmax_loss_grad(s, y, where=mask, reduction=reduction), g.numpy(),
            rtol=UNDERIVED_RTOL["ranking gradient"], atol=UNDERIVED_RTOL["ranking gradient floor"],
        )
    weights = torch.tensor(w)
    denominator = float((weights * (torch.tensor(mask).any(dim=1) if mask is not None else 1.0)).sum())
    weighted = (weights * ref).sum() / denominator
    (g,) = torch.autograd.grad(weighted, st)
    assert losses.ranking_softmax_loss(s, y, where=mask, sample_weight=w) == pytest.approx(
        weighted.item(), rel=UNDERIVED_RTOL["ranking"]
    )
    np.testing.assert_allclose(
        losses.ranking_softmax_loss_grad(s, y, where=mask, sample_weight=w), g.numpy(),
        rtol=UNDERIVED_RTOL["ranking gradient"], atol=UNDERIVED_RTOL["ranking gradient floor"],
    )


def test_ranking_softmax_fd_extremes_dtype_torch() -> None:
    s, y, where = _ranking_args(3, 4)

    def total(v: np.ndarray[Any, Any]) -> float:
        return float(losses.ranking_softmax_loss(v, y, where=where))

    np.testing.assert_allclose(losses.ranking_softmax_loss_grad(s, y, where=where), _fd(total, s), atol=1e-7)
    # confident and huge scores: -log p = log1p(rest) - z, no cancellation
    assert float(losses.ranking_softmax_loss([[800.0, 0.0]], [[1.0, 0.0]])) == 0.0
    # log1p(rest), rest = exp(-40): 2u + 2u; the label sums and the mean exact. The reference
    # exp(-40) 2u, and it differs from log1p(exp(-40)) by exp(-40) / 2 relative (0.02u).
    assert float(losses.ranking_softmax_loss([[40.0, 0.0]], [[1.0, 0.0]])) == pytest.approx(
        np.exp(-40.0), rel=6.5 * U)
    assert float(losses.ranking_softmax_loss([[1e308, -1e308]], [[0.0, 2.0]])) == np.inf
    s32 = s.astype(np.float32)
    assert losses.ranking_softmax_loss(s32, y).dtype == np.float32
    assert losses.ranking_softmax_loss_grad(s32, y, where=where).dtype == np.float32
    t = losses.ranking_softmax_loss_grad(torch.tensor(s32), torch.tensor(y, dtype=torch.float32))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and t.shape == s.shape
    # lists of shape (..., L): "none" keeps the leading shape
    cube = RNG.normal(size=(2, 3, 4))
    assert losses.ranking_softmax_loss(cube, np.abs(cube), reduction="none").shape == (2, 3)


def test_ranking_softmax_gradient_cancelling_masked_lists_within_4_ulp() -> None:
    """Masked lists whose L p_i is within 1e-6 to 1e-13 of y_i (the double-length lists),
    against mpmath (the softmax over the valid items at 200 bits): 4 ulp; labels that are
    L p_i rounded (the last list: entries some 2**-55 of L p_i + y_i), within the stated
    2**-100 (L p_i + y_i). The masked items' 0 exactly. The same on torch tensors (the
    where-and-select path of other libraries)."""
    rng = np.random.default_rng(31)
    scores = rng.normal(size=(6, 7)) * 2
    where = rng.uniform(size=(6, 7)) < 0.7
    where[:, 0] = True
    labels = np.zeros_like(scores)
    for row, gap in zip(range(6), (1e-6, 1e-8, 1e-10, 1e-12, 1e-13, 0.0), strict=True):
        e = np.exp(scores[row] - scores[row, where[row]].max()) * where[row]
        labels[row] = 3 * e / e.sum() * (1 + gap * rng.normal(size=7))
    labels[~where] = rng.uniform(size=int((~where).sum()))  # ignored
    got = losses.ranking_softmax_loss_grad(scores, labels, where=where, reduction="sum")
    on_torch = losses.ranking_softmax_loss_grad(
        torch.tensor(scores), torch.tensor(labels), where=torch.tensor(where), reduction="sum"
    ).numpy()
    assert np.all(got[~where] == 0.0) and np.all(on_torch[~where] == 0.0)
    for row in range(6):  # at 200 bits
        items = np.flatnonzero(where[row])
        e = [EXACT.exp(EXACT.mpf(scores[row, i])) for i in items]
        total = EXACT.fsum(EXACT.mpf(labels[row, i]) for i in items)
        for i, ei in zip(items, e, strict=True):
            share = total * ei / EXACT.fsum(e)
            exact = share - EXACT.mpf(labels[row, i])
            for result in (got, on_torch):
                if row < 5:
                    assert ulp_error(result[row, i], exact, np.float64) <= 4, (row, i)
                else:
                    assert abs(EXACT.mpf(result[row, i]) - exact) <= 2.0**-100 * (share + labels[row, i]), (row, i)


def test_ranking_softmax_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"ranking_softmax_loss: target .*non-negative"):
        losses.ranking_softmax_loss([[1.0, 2.0]], [[-1.0, 0.0]])
    with pytest.raises(InvalidInputError, match=r"ranking_softmax_loss_grad: where"):
        losses.ranking_softmax_loss_grad([[1.0, 2.0]], [[1.0, 0.0]], where=[[0.5, 1.0]])
    with pytest.raises(InvalidInputError, match=r"ranking_softmax_loss: input and target"):
        losses.ranking_softmax_loss([[1.0, 2.0]], [[1.0, 0.0, 0.0]])
    with pytest.raises(InvalidInputError, match=r"ranking_softmax_loss: reduction='mean'"):
        losses.ranking_softmax_loss([[1.0, 2.0]], [[1.0, 0.0]], where=[[False, False]])
    with pytest.raises(InvalidInputError, match=r"ranking_softmax_loss: sample_weight"):
        losses.ranking_softmax_loss([[1.0, 2.0]], [[1.0, 0.0]], sample_weight=[1.0, 2.0])


# --------------------------------------------------------------------------- NT-Xent


def _ntxent_reference(x: torch.Tensor, labels: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """optax's ntxent, line by line (its pair matrix of losses, and their count)."""
    norms = torch.clamp(torch.linalg.norm(x, dim=-1), min=torch.finfo(x.dtype).eps)
    unit = x / norms[:, None]
    xcs = unit @ unit.T / temperature
    matches = labels[:, None] == labels[None, :]
    diffs = ~matches
    matches = matches & ~torch.eye(len(labels), dtype=torch.bool)
    xcs_diffs = torch.where(diffs, xcs, -torch.inf)
    xcs_matches = torch.where(matches, xcs, -torch.inf)
    xcs_max = torch.cat((xcs_diffs, xcs_matches), dim=-1).max(dim=1, keepdim=True).values.detach()
    numer = xcs_matches - xcs_max
    denom = torch.exp(xcs_diffs - xcs_max).sum(dim=1, keepdim=True) + torch.exp(numer)
    log_softm = numer - torch.log(denom)
    return -torch.where(matches, log_softm, 0.0), matches


def _ntxent_args(n: int = 8, d: int = 3) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    return RNG.normal(size=(n, d)), RNG.integers(0, 3, size=n)


@pytest.mark.parametrize("temperature", [0.07, 0.5, 2.0])
def test_ntxent_matches_optax(temperature: float) -> None:
    x, labels = _ntxent_args()
    xt = torch.tensor(x, requires_grad=True)
    pairs, matches = _ntxent_reference(xt, torch.tensor(labels), temperature)
    per_anchor = pairs.sum(dim=1)
    mean = pairs.sum() / matches.sum()
    np.testing.assert_allclose(
        losses.ntxent_loss(x, labels, temperature=temperature, reduction="none"), per_anchor.detach().numpy(),
        rtol=UNDERIVED_RTOL["ntxent"],
    )
    assert losses.ntxent_loss(x, labels, temperature=temperature) == pytest.approx(mean.item(), rel=UNDERIVED_RTOL["ntxent"])
    assert losses.ntxent_loss(x, labels, temperature=temperature, reduction="sum") == pytest.approx(
        pairs.sum().item(), rel=UNDERIVED_RTOL["ntxent"]
    )
    (g,) = torch.autograd.grad(mean, xt, retain_graph=True)
    np.testing.assert_allclose(losses.ntxent_loss_grad(x, labels, temperature=temperature), g.numpy(), atol=UNDERIVED_RTOL["ntxent"])
    w = torch.tensor(RNG.uniform(0.0, 2.0, size=len(labels)))
    weighted = (w * per_anchor).sum() / (w * matches.sum(dim=1)).sum()
    (g,) = torch.autograd.grad(weighted, xt)
    assert losses.ntxent_loss(x, labels, temperature=temperature, sample_weight=w.numpy()) == pytest.approx(
        weighted.item(), rel=UNDERIVED_RTOL["ntxent"]
    )
    np.testing.assert_allclose(
        losses.ntxent_loss_grad(x, labels, temperature=temperature, sample_weight=w.numpy()), g.numpy(), atol=UNDERIVED_RTOL["ntxent"]
    )


def test_ntxent_finite_differences_and_optax_example() -> None:
    x, labels = _ntxent_args(5, 2)
    for reduction in ("mean", "sum", "none"):
        def total(v: np.ndarray[Any, Any], reduction: str = reduction) -> float:
            return float(np.sum(losses.ntxent_loss(v, labels, temperature=0.5, reduction=reduction)))
        g = losses.ntxent_loss_grad(x, labels, temperature=0.5, reduction=reduction)
        np.testing.assert_allclose(g, _fd(total, x), atol=1e-7)
    # optax's docstring: 1-D embeddings (cosines +-1) of labels [0, 0, 1, 1] give log(3)
    out = [[0.08969027], [1.6291292], [0.8622629], [0.13612625]]
    # Unit rows are exactly 1, every s = fl(1 / 0.07) ~ 14.3. lse = fl(s + log(2 exp(0))): the
    # log 3.4u absolute, the add half an ulp of 14.9, 8u: a = lse - s (exact) within 11.4u of
    # log 2; softplus(a) passes 2/3 of it (7.6u), exp, log1p and the add 2.6u: 10.2u of log 3,
    # 9.3u relative; the sum of 4 equal values 2u, / 4 exact; the reference np.log 2u: 13.5u.
    assert float(losses.ntxent_loss(out, [0, 0, 1, 1])) == pytest.approx(np.log(3.0), rel=13.5 * U)


def test_ntxent_extremes_dtype_and_no_negatives() -> None:
    # tiny temperature: similarities of +-1e6, the loss stays finite and exact
    x = np.array([[1.0, 0.0], [1.0, 1e-3], [0.0, 1.0], [1e-300, 1e-300]])
    value = losses.ntxent_loss(x, [0, 0, 1, 1], temperature=1e-6)
    assert np.isfinite(value)
    assert np.all(np.isfinite(losses.ntxent_loss_grad(x, [0, 0, 1, 1], temperature=1e-6)))
    # huge and tiny rows give the same loss as unit rows
    scaled = x * np.array([[1e300], [1e-300], [1.0], [1.0]])
    assert losses.ntxent_loss(scaled, [0, 0, 1, 1]) == pytest.approx(
        losses.ntxent_loss(x, [0, 0, 1, 1]), rel=UNDERIVED_RTOL["ntxent scaled"]
    )
    # no negatives: every pair loss is 0
    assert float(losses.ntxent_loss([[1.0, 0.0], [0.0, 1.0]], [3, 3])) == 0.0
    x32 = RNG.normal(size=(6, 4)).astype(np.float32)
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert losses.ntxent_loss(x32, labels).dtype == np.float32
    assert losses.ntxent_loss_grad(x32, labels).dtype == np.float32
    t = losses.ntxent_loss_grad(torch.tensor(x32), torch.tensor(labels))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32


def test_ntxent_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"ntxent_loss: every row of embeddings must be non-zero"):
        losses.ntxent_loss([[0.0, 0.0], [1.0, 0.0]], [0, 0])
    with pytest.raises(InvalidInputError, match=r"ntxent_loss: reduction='mean' .*positive pairs"):
        losses.ntxent_loss([[1.0, 0.0], [0.0, 1.0]], [0, 1])
    with pytest.raises(InvalidInputError, match=r"ntxent_loss_grad: labels must hold one group label"):
        losses.ntxent_loss_grad([[1.0, 0.0], [0.0, 1.0]], [0, 0, 1])
    with pytest.raises(InvalidInputError, match=r"ntxent_loss: temperature"):
        losses.ntxent_loss([[1.0, 0.0], [0.0, 1.0]], [0, 0], temperature=0.0)
    with pytest.raises(InvalidInputError, match=r"ntxent_loss: embeddings must have shape"):
        losses.ntxent_loss([1.0, 0.0], [0, 0])


# --------------------------------------------------------------------------- label smoothing


def test_smooth_labels() -> None:
    y = np.eye(4)[[0, 3, 1]]
    # No libm. (1 - 0.1) y + 0.1 / 4: 1 - 0.1 u, / 4 and * y exact, the add u; the reference's
    # literal 0.9 u (it is 0.05u from 1 - float(0.1)) and its add u: 4.05u.
    np.testing.assert_allclose(losses.smooth_labels(y, 0.1), 0.9 * y + 0.025, rtol=4.5 * U)
    np.testing.assert_allclose(losses.smooth_labels([0, 3, 1], 0.1, num_classes=4), 0.9 * y + 0.025,
                               rtol=4.5 * U)
    assert losses.smooth_labels(y.astype(np.float32), 0.1).dtype == np.float32
    np.testing.assert_array_equal(losses.smooth_labels(y, 0.0), y)
    # as PyTorch's cross_entropy(label_smoothing=...) uses it
    logits = RNG.normal(size=(3, 4))
    torch_value = torch.nn.functional.cross_entropy(
        torch.tensor(logits), torch.tensor([0, 3, 1]), label_smoothing=0.1
    )
    soft = losses.smooth_labels([0, 3, 1], 0.1, num_classes=4)
    assert float(losses.cross_entropy(logits, soft)) == pytest.approx(float(torch_value), rel=UNDERIVED_RTOL["smoothed cross_entropy"])
    # No libm. y (1 - 0.2) + 0.5 * 0.2: 1 - 0.2 u (0.1u from 0.8), the add u; the literal 0.9 u.
    np.testing.assert_allclose(losses.smooth_binary_labels([0.0, 1.0, 0.5], 0.2), [0.1, 0.9, 0.5], rtol=3.5 * U)
    with pytest.raises(InvalidInputError, match=r"smooth_labels: smoothing"):
        losses.smooth_labels(y, 1.5)
    with pytest.raises(InvalidInputError, match=r"smooth_labels: labels must hold class indices"):
        losses.smooth_labels([0, 4], 0.1, num_classes=4)
    with pytest.raises(InvalidInputError, match=r"smooth_labels: num_classes"):
        losses.smooth_labels([0, 1], 0.1, num_classes=0)
    with pytest.raises(InvalidInputError, match=r"smooth_binary_labels: labels must hold labels in \[0, 1\]"):
        losses.smooth_binary_labels([2.0], 0.1)
    with pytest.raises(InvalidTypeError, match=r"smooth_binary_labels: labels"):
        losses.smooth_binary_labels("1", 0.1)


def test_sparsemax_accepts_float32_probability_rows_that_sum_to_one_in_float32() -> None:
    # Rows drawn in float64 and rounded to float32 sum to 1 only to float32's precision:
    # a tolerance of float64's epsilon refused them.
    rng = np.random.default_rng(3)
    target = rng.dirichlet(np.ones(5), 200).astype(np.float32)
    scores = rng.standard_normal((200, 5)).astype(np.float32)
    got = losses.sparsemax_loss(scores, target)
    assert got.dtype == np.float32
    expected = losses.sparsemax_loss(scores.astype(np.float64), target.astype(np.float64) / target.sum(axis=1, keepdims=True, dtype=np.float64))
    assert abs(float(got) - float(expected)) <= 1e-6 * abs(float(expected))


# --------------------------------------------------------------------------- ntxent: 4 ulps in every namespace


def _in_library(library: str, array: np.ndarray[Any, Any]) -> Any:
    if library == "torch":
        return torch.tensor(array)
    if library == "array_api_strict":
        xps = pytest.importorskip("array_api_strict")
        return xps.asarray(array)
    return array


@pytest.mark.parametrize("library", ["numpy", "array_api_strict", "torch"])
def test_ntxent_values_within_4_ulps_in_every_namespace(library: str) -> None:
    """Each anchor's value against the formula at 200 bits (mpmath), on the adversarial cases
    (nearly parallel positives at temperature 0.01, anchors either side of the refinement's
    threshold, confident positives in 64 features): NumPy refines the flagged anchors alone,
    the other libraries every anchor and select; each within the 4 ulps of issue 15."""
    from adversarial_ranking import NTXENT
    from mp_namespace import exact
    from neural_network.losses._reference import REFERENCES

    reference = REFERENCES["ntxent_loss"].value
    for (x, labels), options in NTXENT:
        expected = np.asarray(exact(reference, x, labels, **options), dtype=object)
        got = np.asarray(losses.ntxent_loss(_in_library(library, x), _in_library(library, labels), reduction="none",
                                            **options))
        worst = max(ulp_error(float(g), EXACT.mpf(e), np.float64) for g, e in zip(got, expected, strict=True))
        assert worst <= 4.0, (library, options, worst)


def test_ntxent_of_an_empty_batch_is_an_empty_sum_and_its_mean_is_refused():
    """No anchor, no pair: the sum is 0 and the per-anchor values and gradient are empty (as
    for any empty sum), and a mean of no positive pairs is refused by name, not a NumPy error."""
    empty = np.zeros((0, 3))
    assert losses.ntxent_loss(empty, np.zeros(0), reduction="sum") == 0.0
    assert losses.ntxent_loss(empty, np.zeros(0), reduction="none").shape == (0,)
    for reduction in ("sum", "none"):
        gradient = losses.ntxent_loss_grad(empty, np.zeros(0), reduction=reduction)
        assert gradient.shape == (0, 3) and gradient.dtype == np.float64
    for function in (losses.ntxent_loss, losses.ntxent_loss_grad):
        with pytest.raises(EmptyInputError, match="positive pairs"):
            function(empty, np.zeros(0), reduction="mean")
