"""Embedding losses: PyTorch parity (values and autograd gradients), finite differences, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as tf

from error_model import U
from neural_network import losses
from neural_network.errors import EmptyInputError, InvalidOptionError, OutOfRangeError, ShapeMismatchError

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)

# Error model of the bounds, for any libm within 1 ulp: u = 2**-53; a correctly rounded
# operation (+, -, *, /, sqrt) errs by <= u relative, a libm function by <= 2u; errors pass
# through condition numbers.


UNDERIVED_RTOL = {"float64": 1e-12, "float64 floor": 1e-14, "float32": 2e-5, "float32 floor": 2e-6,
                  "value": 1e-13, "gradient": 1e-12, "gradient floor": 1e-15, "tie": 1e-14, "tie floor": 1e-16,
                  "scaled": 1e-14, "unit floor": 1e-15}
"""Not derived: the cosine and distance losses against PyTorch. No file derives our bound of
these losses or their gradients (tests/test_devices.py UNDERIVED: cosine_embedding_loss,
triplet_margin_loss, ...), and PyTorch's operations (its norms, its pairwise_distance with
eps added to the difference, autograd through them) are not derived here either: each
comparison keeps the tolerance it had, named here by what it compares ("scaled": ours on
rows scaled by 1e200 or 1e-200 against PyTorch's unscaled value times the scale; a
"floor" is the absolute one)."""


def _tol(dtype: Any) -> dict[str, float]:
    name = np.dtype(dtype).name
    return {"rtol": UNDERIVED_RTOL[name], "atol": UNDERIVED_RTOL[name + " floor"]}


def _t(x: np.ndarray[Any, Any], grad: bool = True) -> torch.Tensor:
    return torch.tensor(x, requires_grad=grad)


def _torch_grads(loss: torch.Tensor, *tensors: torch.Tensor) -> list[np.ndarray[Any, Any]]:
    loss.sum().backward()
    grads = [t.grad for t in tensors]
    assert all(g is not None for g in grads)
    return [g.numpy() for g in grads if g is not None]


def _signs(rng: np.random.Generator, n: int) -> np.ndarray[Any, Any]:
    return rng.choice([-1.0, 1.0], size=n)


# --------------------------------------------------------------------------- cosine embedding


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding_matches_torch(dtype: Any, reduction: str, margin: float) -> None:
    rng = np.random.default_rng(1)
    x1 = rng.normal(size=(7, 5)).astype(dtype)
    x2 = rng.normal(size=(7, 5)).astype(dtype)
    y = _signs(rng, 7).astype(dtype)
    t1, t2 = _t(x1), _t(x2)
    expected = tf.cosine_embedding_loss(t1, t2, torch.tensor(y), margin=margin, reduction=reduction)
    g1, g2 = _torch_grads(expected, t1, t2)
    value = losses.cosine_embedding_loss(x1, x2, y, margin=margin, reduction=reduction)
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, expected.detach().numpy(), **_tol(dtype))
    ours = losses.cosine_embedding_loss_grad(x1, x2, y, margin=margin, reduction=reduction)
    assert all(g.dtype == dtype and g.shape == x1.shape for g in ours)
    np.testing.assert_allclose(ours[0], g1, **_tol(dtype))
    np.testing.assert_allclose(ours[1], g2, **_tol(dtype))


def test_cosine_embedding_single_vector_and_torch_epsilon() -> None:
    x1, x2 = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    expected = tf.cosine_embedding_loss(torch.tensor(x1), torch.tensor(x2), torch.tensor(1.0)).item()
    assert losses.cosine_embedding_loss(x1, x2, 1.0) == pytest.approx(expected, rel=UNDERIVED_RTOL["scaled"])
    # Tiny rows: PyTorch's epsilon (float32's 1e-12) dominates the norms.
    tiny = np.array([[1e-7, 0.0]])
    expected = tf.cosine_embedding_loss(torch.tensor(tiny), torch.tensor(tiny), torch.tensor([1.0])).item()
    assert losses.cosine_embedding_loss(tiny, tiny, [1.0]) == pytest.approx(expected, rel=UNDERIVED_RTOL["value"])
    # torch's, no libm: x.x, + eps, the norms' sqrt and the division put cos (~0.0099) within
    # about 5u, 1 - cos passes 0.01 of it and rounds (u): 1.1u of exact, as was the run that
    # gave the literal (its 16 digits 0.45u more): 2.7u apart at most.
    assert expected == pytest.approx(0.9900990098618194, rel=3 * U)


def test_cosine_embedding_huge_rows_stay_finite() -> None:
    # PyTorch squares 1e200: inf / inf = NaN. The true cosine of a row with itself is 1.
    x = np.array([[1e200, 3e199], [1e200, -2e200]])
    assert np.isnan(
        tf.cosine_embedding_loss(torch.tensor(x), torch.tensor(x), torch.tensor([1.0, 1.0])).item()
    )
    np.testing.assert_allclose(
        losses.cosine_embedding_loss(x, x, [1, 1], reduction="none"), [0.0, 0.0], atol=UNDERIVED_RTOL["unit floor"]
    )
    other = np.array([[1e200, 0.0], [0.0, 1e200]])
    np.testing.assert_allclose(
        losses.cosine_embedding_loss(x, other, [-1, -1], reduction="none"),
        [1 / np.hypot(1, 0.3), 0.0],
        rtol=UNDERIVED_RTOL["scaled"],
        atol=1e-300,
    )
    g1, g2 = losses.cosine_embedding_loss_grad(x, other, [1, 1])
    assert np.all(np.isfinite(g1)) and np.all(np.isfinite(g2))


def test_cosine_embedding_sample_weight() -> None:
    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    y, w = _signs(rng, 6), rng.uniform(0.0, 2.0, size=6)
    t1, t2 = _t(x1), _t(x2)
    per = tf.cosine_embedding_loss(t1, t2, torch.tensor(y), reduction="none")
    expected = (per * torch.tensor(w)).sum() / w.sum()
    g1, g2 = _torch_grads(expected, t1, t2)
    assert losses.cosine_embedding_loss(x1, x2, y, sample_weight=w) == pytest.approx(
        expected.item(), rel=UNDERIVED_RTOL["value"]
    )
    ours = losses.cosine_embedding_loss_grad(x1, x2, y, sample_weight=w)
    tol = {"rtol": UNDERIVED_RTOL["gradient"], "atol": UNDERIVED_RTOL["gradient floor"]}
    np.testing.assert_allclose(ours[0], g1, **tol)
    np.testing.assert_allclose(ours[1], g2, **tol)


# --------------------------------------------------------------------------- triplet margin


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("p", "swap", "eps", "margin"),
    [
        (2.0, False, 1e-6, 1.0),
        (2.0, True, 1e-6, 1.0),
        (1.0, False, 1e-6, 0.5),
        (3.0, True, 0.0, 2.0),
        (1.5, False, 1e-3, 0.1),
    ],
)
def test_triplet_matches_torch(
    dtype: Any, reduction: str, p: float, swap: bool, eps: float, margin: float
) -> None:
    rng = np.random.default_rng(3)
    a, pos, neg = (rng.normal(size=(9, 4)).astype(dtype) for _ in range(3))
    ta, tp, tn = _t(a), _t(pos), _t(neg)
    expected = tf.triplet_margin_loss(ta, tp, tn, margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)
    grads = _torch_grads(expected, ta, tp, tn)
    kw: dict[str, Any] = {"margin": margin, "p": p, "eps": eps, "swap": swap, "reduction": reduction}
    value = losses.triplet_margin_loss(a, pos, neg, **kw)
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, expected.detach().numpy(), **_tol(dtype))
    for ours, theirs in zip(losses.triplet_margin_loss_grad(a, pos, neg, **kw), grads, strict=True):
        assert ours.dtype == dtype and ours.shape == a.shape
        np.testing.assert_allclose(ours, theirs, **_tol(dtype))


def test_triplet_swap_tie_splits_like_torch() -> None:
    a = np.array([[0.0, 0.0]])
    pos = np.array([[1.0, 0.0]])
    neg = np.array([[0.5, 3.0]])  # |a - n| == |p - n|
    ta, tp, tn = _t(a), _t(pos), _t(neg)
    expected = tf.triplet_margin_loss(ta, tp, tn, margin=5.0, swap=True, eps=0.0)
    grads = _torch_grads(expected, ta, tp, tn)
    ours = losses.triplet_margin_loss_grad(a, pos, neg, margin=5.0, swap=True, eps=0.0)
    for g, t in zip(ours, grads, strict=True):
        np.testing.assert_allclose(g, t, rtol=UNDERIVED_RTOL["tie"], atol=UNDERIVED_RTOL["tie floor"])


def test_triplet_leading_axes_and_vector() -> None:
    rng = np.random.default_rng(4)
    a, pos, neg = (rng.normal(size=(3, 2, 4)) for _ in range(3))
    expected = tf.triplet_margin_loss(*(torch.tensor(v) for v in (a, pos, neg)), reduction="none").numpy()
    np.testing.assert_allclose(
        losses.triplet_margin_loss(a, pos, neg, reduction="none"), expected, rtol=UNDERIVED_RTOL["value"]
    )
    expected = tf.triplet_margin_loss(*(torch.tensor(v[0, 0]) for v in (a, pos, neg))).item()
    assert losses.triplet_margin_loss(a[0, 0], pos[0, 0], neg[0, 0]) == pytest.approx(
        expected, rel=UNDERIVED_RTOL["value"]
    )


def test_triplet_huge_and_tiny_rows() -> None:
    # Scaled by 1e200 (margin too) the loss scales by 1e200; PyTorch's squares overflow.
    a, pos, neg = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), np.array([[1.0, 1.0]])
    base = tf.triplet_margin_loss(*(torch.tensor(v) for v in (a, pos, neg)), margin=1.0, eps=0.0).item()
    big = losses.triplet_margin_loss(a * 1e200, pos * 1e200, neg * 1e200, margin=1e200, eps=0.0)
    assert big == pytest.approx(base * 1e200, rel=UNDERIVED_RTOL["scaled"])
    small = losses.triplet_margin_loss(a * 1e-200, pos * 1e-200, neg * 1e-200, margin=1e-200, eps=0.0)
    assert small == pytest.approx(base * 1e-200, rel=UNDERIVED_RTOL["scaled"])
    with pytest.raises(InvalidOptionError, match=r"triplet_margin_loss: margin must be a positive"):
        losses.triplet_margin_loss(a, pos, neg, margin=0.0)


def test_triplet_sample_weight() -> None:
    rng = np.random.default_rng(5)
    a, pos, neg = (rng.normal(size=(8, 3)) for _ in range(3))
    w = rng.uniform(0.0, 3.0, size=8)
    ta, tp, tn = _t(a), _t(pos), _t(neg)
    per = tf.triplet_margin_loss(ta, tp, tn, reduction="none")
    expected = (per * torch.tensor(w)).sum() / w.sum()
    grads = _torch_grads(expected, ta, tp, tn)
    assert losses.triplet_margin_loss(a, pos, neg, sample_weight=w) == pytest.approx(
        expected.item(), rel=UNDERIVED_RTOL["value"]
    )
    for g, t in zip(losses.triplet_margin_loss_grad(a, pos, neg, sample_weight=w), grads, strict=True):
        np.testing.assert_allclose(g, t, rtol=UNDERIVED_RTOL["gradient"], atol=UNDERIVED_RTOL["gradient floor"])


# --------------------------------------------------------------------------- triplet with a distance


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_with_distance_default_matches_torch(reduction: str, swap: bool) -> None:
    rng = np.random.default_rng(6)
    a, pos, neg = (rng.normal(size=(6, 3)) for _ in range(3))
    ta, tp, tn = _t(a), _t(pos), _t(neg)
    expected = tf.triplet_margin_with_distance_loss(ta, tp, tn, margin=1.5, swap=swap, reduction=reduction)
    grads = _torch_grads(expected, ta, tp, tn)
    for distance in (None, "euclidean"):
        kw: dict[str, Any] = {
            "distance_function": distance,
            "margin": 1.5,
            "swap": swap,
            "reduction": reduction,
        }
        np.testing.assert_allclose(
            losses.triplet_margin_with_distance_loss(a, pos, neg, **kw), expected.detach().numpy(),
            rtol=UNDERIVED_RTOL["value"],
        )
        for g, t in zip(losses.triplet_margin_with_distance_loss_grad(a, pos, neg, **kw), grads, strict=True):
            np.testing.assert_allclose(g, t, rtol=UNDERIVED_RTOL["gradient"], atol=UNDERIVED_RTOL["gradient floor"])


def test_triplet_with_custom_distance_pair_matches_torch() -> None:
    rng = np.random.default_rng(7)
    a, pos, neg = (rng.normal(size=(6, 3)) for _ in range(3))
    ta, tp, tn = _t(a), _t(pos), _t(neg)
    expected = tf.triplet_margin_with_distance_loss(
        ta, tp, tn, distance_function=lambda x, y: ((x - y) ** 2).sum(-1), swap=True, margin=2.0
    )
    grads = _torch_grads(expected, ta, tp, tn)
    pair = (lambda x, y: ((x - y) ** 2).sum(-1), lambda x, y: (2 * (x - y), -2 * (x - y)))
    value = losses.triplet_margin_with_distance_loss(
        a, pos, neg, distance_function=pair[0], swap=True, margin=2.0
    )
    assert value == pytest.approx(expected.item(), rel=UNDERIVED_RTOL["value"])
    ours = losses.triplet_margin_with_distance_loss_grad(
        a, pos, neg, distance_function=pair, swap=True, margin=2.0
    )
    for g, t in zip(ours, grads, strict=True):
        np.testing.assert_allclose(g, t, rtol=UNDERIVED_RTOL["gradient"], atol=UNDERIVED_RTOL["gradient floor"])


def test_triplet_with_distance_errors() -> None:
    a = np.zeros((2, 3))
    with pytest.raises(
        InvalidOptionError, match=r"triplet_margin_with_distance_loss_grad: distance_function.*pair"
    ):
        losses.triplet_margin_with_distance_loss_grad(a, a, a, distance_function=lambda x, y: x.sum(-1))
    with pytest.raises(
        InvalidOptionError, match=r"triplet_margin_with_distance_loss: margin must be a positive"
    ):
        losses.triplet_margin_with_distance_loss(a, a, a, margin=0.0)
    with pytest.raises(ShapeMismatchError, match=r"distance_function must return one distance per row"):
        losses.triplet_margin_with_distance_loss(a, a, a, distance_function=lambda x, y: x)
    with pytest.raises(InvalidOptionError, match=r"distance_function must be None"):
        losses.triplet_margin_with_distance_loss(a, a, a, distance_function="cityblock")


# --------------------------------------------------------------------------- cosine similarity (Keras)


def _keras_cosine_torch(x: torch.Tensor, t: torch.Tensor, axis: int) -> torch.Tensor:
    # Keras 3: -sum(normalize(y_true) * normalize(y_pred)), normalize = x / max(||x||, 1e-7).
    def unit(v: torch.Tensor) -> torch.Tensor:
        return v / torch.clamp_min(torch.linalg.vector_norm(v, dim=axis, keepdim=True), 1e-7)

    return -(unit(x) * unit(t)).sum(dim=axis)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_cosine_similarity_matches_keras_formula(dtype: Any, reduction: str, axis: int) -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(5, 4, 3)).astype(dtype)
    t = rng.normal(size=(5, 4, 3)).astype(dtype)
    x[0, 0] = 1e-9 * np.array([1.0, -2.0, 0.5])  # a norm below Keras's epsilon
    tx = _t(x)
    per = _keras_cosine_torch(tx, torch.tensor(t), axis)
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    (gx,) = _torch_grads(expected, tx)
    value = losses.cosine_similarity_loss(x, t, axis=axis, reduction=reduction)
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, expected.detach().numpy(), **_tol(dtype))
    grad = losses.cosine_similarity_loss_grad(x, t, axis=axis, reduction=reduction)
    assert grad.dtype == dtype and grad.shape == x.shape
    scale = float(np.max(np.abs(gx)))
    tol = _tol(dtype)
    np.testing.assert_allclose(grad, gx, rtol=tol["rtol"], atol=tol["rtol"] * scale)


def test_cosine_similarity_keras_example_and_extremes() -> None:
    y_true = [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    y_pred = [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]
    # Keras's documented example: [-0., -0.99999994, 0.99999994] (float32). The rows [1, 1]:
    # as the scaled rows below, 6u of 1; the first, a product with 0: exact.
    np.testing.assert_allclose(
        losses.cosine_similarity_loss(y_pred, y_true, reduction="none"), [0.0, -1.0, 1.0], rtol=6 * U, atol=0
    )
    huge = np.array([[1e300, 1e300]])
    # No libm. Scaled rows u = [a, a]: a * a u, the sum exact, sqrt 0.5u + u, u / r 2.5u; the
    # products of the two unit entries 6u, their sum exact (doubling): 6u.
    assert losses.cosine_similarity_loss(huge, huge) == pytest.approx(-1.0, rel=6 * U)
    assert np.all(np.isfinite(losses.cosine_similarity_loss_grad(huge, huge)))
    assert losses.cosine_similarity_loss(np.zeros((1, 3)), np.ones((1, 3))) == 0.0


# --------------------------------------------------------------------------- finite differences


def _numeric_gradient(f: Any, x: np.ndarray[Any, Any], h: float = 1e-6) -> np.ndarray[Any, Any]:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (float(f(up)) - float(f(down))) / (2 * h)
    return g


def test_finite_differences() -> None:
    rng = np.random.default_rng(9)
    x1, x2, x3 = (rng.normal(size=(4, 3)) for _ in range(3))
    y = np.array([1.0, -1.0, 1.0, -1.0])
    g1, g2 = losses.cosine_embedding_loss_grad(x1, x2, y, margin=-0.5, reduction="sum")
    np.testing.assert_allclose(
        g1,
        _numeric_gradient(lambda v: losses.cosine_embedding_loss(v, x2, y, margin=-0.5, reduction="sum"), x1),
        atol=1e-7,
    )
    np.testing.assert_allclose(
        g2,
        _numeric_gradient(lambda v: losses.cosine_embedding_loss(x1, v, y, margin=-0.5, reduction="sum"), x2),
        atol=1e-7,
    )
    grads = losses.triplet_margin_loss_grad(x1, x2, x3, margin=3.0, p=3.0)
    np.testing.assert_allclose(
        grads[0],
        _numeric_gradient(lambda v: losses.triplet_margin_loss(v, x2, x3, margin=3.0, p=3.0), x1),
        atol=1e-7,
    )
    np.testing.assert_allclose(
        grads[2],
        _numeric_gradient(lambda v: losses.triplet_margin_loss(x1, x2, v, margin=3.0, p=3.0), x3),
        atol=1e-7,
    )
    np.testing.assert_allclose(
        losses.cosine_similarity_loss_grad(x1, x2),
        _numeric_gradient(lambda v: losses.cosine_similarity_loss(v, x2), x1),
        atol=1e-7,
    )


# --------------------------------------------------------------------------- errors


def test_errors_name_function_and_argument() -> None:
    x = np.ones((3, 2))
    with pytest.raises(OutOfRangeError, match=r"cosine_embedding_loss: target .*2 \* y - 1"):
        losses.cosine_embedding_loss(x, x, [0.0, 1.0, 1.0])
    with pytest.raises(
        ShapeMismatchError, match=r"cosine_embedding_loss_grad: target must hold one label per row"
    ):
        losses.cosine_embedding_loss_grad(x, x, [1.0, 1.0])
    with pytest.raises(ShapeMismatchError, match=r"triplet_margin_loss: .*negative"):
        losses.triplet_margin_loss(x, x, np.ones((3, 3)))
    with pytest.raises(InvalidOptionError, match=r"triplet_margin_loss_grad: p must be"):
        losses.triplet_margin_loss_grad(x, x, x, p=0.5)
    with pytest.raises(InvalidOptionError, match=r"triplet_margin_loss: swap must be True or False"):
        losses.triplet_margin_loss(x, x, x, swap="yes")
    with pytest.raises(InvalidOptionError, match=r"cosine_similarity_loss: reduction"):
        losses.cosine_similarity_loss(x, x, reduction="avg")
    with pytest.raises(InvalidOptionError, match=r"cosine_similarity_loss: axis"):
        losses.cosine_similarity_loss(x, x, axis=2)
    with pytest.raises(EmptyInputError, match=r"triplet_margin_loss: reduction='mean'"):
        losses.triplet_margin_loss(np.ones((0, 2)), np.ones((0, 2)), np.ones((0, 2)))
    with pytest.raises(
        ShapeMismatchError, match=r"cosine_similarity_loss_grad: sample_weight must hold one weight"
    ):
        losses.cosine_similarity_loss_grad(x, x, sample_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"triplet_margin_loss: anchor"):
        losses.triplet_margin_loss(np.array([[np.nan, 1.0]]), x[:1], x[:1])
    with pytest.raises(
        ShapeMismatchError, match=r"cosine_similarity_loss: input must have at least one axis"
    ):
        losses.cosine_similarity_loss(1.0, 1.0)
    assert (
        losses.triplet_margin_loss(np.ones((0, 2)), np.ones((0, 2)), np.ones((0, 2)), reduction="sum") == 0.0
    )


def test_torch_tensors_stay_tensors() -> None:
    x = torch.ones((2, 3), dtype=torch.float32)
    value = losses.cosine_similarity_loss(x, x)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32
    g = losses.triplet_margin_loss_grad(x, x, x)
    assert all(isinstance(v, torch.Tensor) and v.dtype == torch.float32 for v in g)


# --------------------------------------------------------------------------- circle_loss: 4 ulps in every namespace


@pytest.mark.parametrize("library", ["numpy", "array_api_strict", "torch"])
def test_circle_values_within_4_ulps_in_every_namespace(library: str) -> None:
    """Each anchor's circle loss against the formula at 200 bits (mpmath), on the adversarial
    cases (nearly parallel positives at gamma 16, 80 and 256, anchors either side of the
    refinement's threshold, 32 features): NumPy refines the flagged anchors alone, the other
    libraries every anchor and select; each within the 4 ulps of issue 15."""
    from adversarial_multiclass import CASES
    from mp_namespace import exact
    from neural_network.losses._reference import REFERENCES
    from test_exactness import MP as EXACT
    from test_exactness import ulp_error

    def in_library(array: np.ndarray[Any, Any]) -> Any:
        if library == "torch":
            return torch.tensor(array)
        if library == "array_api_strict":
            return pytest.importorskip("array_api_strict").asarray(array)
        return array

    reference = REFERENCES["circle_loss"].value
    for (x, labels), options in CASES["circle_loss"]:
        expected = np.asarray(exact(reference, x, labels, **options), dtype=object)
        got = np.asarray(losses.circle_loss(in_library(x), in_library(labels), reduction="none", **options))
        worst = max(ulp_error(float(g), EXACT.mpf(e), np.float64) for g, e in zip(got, expected, strict=True))
        assert worst <= 4.0, (library, options, worst)
