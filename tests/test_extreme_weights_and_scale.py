"""Extreme weights and extreme scales in the class-axis and embedding losses.

1. **Weights from 5e-324 to 1e308.** Equal weights cancel in a weighted mean, so every
   weight ``c`` in ``{5e-324, 1e-300, 1, 1e308}`` must give the unweighted mean (and
   gradient), and the same value as PyTorch's unweighted loss where it has one. A sum
   with weights ``c`` must be ``c`` times the unweighted sum: correctly rounded where that
   is a (possibly subnormal) float64, ``inf`` where it overflows, never NaN; its gradient
   ``c`` times the unweighted one.
2. **Rows at the ends of the float64 range.** Cosines and distances of rows at 1e308,
   1e-308 and subnormal scale against mpmath at 50 digits: finite, within a few ulp.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as tf

from neural_network import losses

EPS = float(np.finfo(np.float64).eps)
TINY = 5e-324
WEIGHTS = (TINY, 1e-300, 1.0, 1e308)
ULPS = 16
"""The bound, in ulp of the scale of the result, for a weighted value against the unweighted one."""

Arrays = list[np.ndarray[Any, Any]]


@dataclass(frozen=True)
class Case:
    """A loss, its gradient, its arguments and which keyword takes the weights (of what count)."""

    name: str
    value: Callable[..., Any]
    grad: Callable[..., Any]
    args: tuple[Any, ...]
    count: int
    keyword: str = "sample_weight"
    kwargs: dict[str, Any] = field(default_factory=dict)
    torch_mean: Callable[[], float] | None = None
    """PyTorch's unweighted mean, an independent value for the weighted ones."""


def _cases() -> list[Case]:
    rng = np.random.default_rng(11)
    n, c = 6, 4
    x = rng.normal(size=(n, c)) * 2.0
    y = np.array([0, 3, 1, 2, 1, 0])
    probs = np.exp(rng.normal(size=(n, c)))
    probs /= probs.sum(axis=1, keepdims=True)
    onehot = np.eye(c)[y]
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    e1, e2 = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    signs = np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0])
    a, p, ng = (rng.normal(size=(n, 3)) for _ in range(3))
    unit = e1 / np.linalg.norm(e1, axis=1, keepdims=True)
    groups = np.array([0, 0, 1, 1, 2, 2])
    relevance = rng.integers(0, 3, size=(n, 5)).astype(float)

    def t(v: Any) -> torch.Tensor:
        return torch.tensor(v)

    return [
        Case("cross_entropy", losses.cross_entropy, losses.cross_entropy_grad, (x, y), n,
             torch_mean=lambda: tf.cross_entropy(t(x), t(y)).item()),
        Case("cross_entropy[probabilities]", losses.cross_entropy, losses.cross_entropy_grad, (x, probs), n,
             torch_mean=lambda: tf.cross_entropy(t(x), t(probs)).item()),
        Case("cross_entropy[smoothing]", losses.cross_entropy, losses.cross_entropy_grad, (x, y), n,
             kwargs={"label_smoothing": 0.1},
             torch_mean=lambda: tf.cross_entropy(t(x), t(y), label_smoothing=0.1).item()),
        Case("cross_entropy[class weight]", losses.cross_entropy, losses.cross_entropy_grad, (x, y), c,
             keyword="weight", torch_mean=lambda: tf.cross_entropy(t(x), t(y)).item()),
        Case("nll_loss", losses.nll_loss, losses.nll_loss_grad, (logp, y), n,
             torch_mean=lambda: tf.nll_loss(t(logp), t(y)).item()),
        Case("nll_loss[class weight]", losses.nll_loss, losses.nll_loss_grad, (logp, y), c, keyword="weight",
             torch_mean=lambda: tf.nll_loss(t(logp), t(y)).item()),
        Case("categorical_focal_loss", losses.categorical_focal_loss, losses.categorical_focal_loss_grad,
             (x, y), n),
        Case("poly_loss_cross_entropy", losses.poly_loss_cross_entropy, losses.poly_loss_cross_entropy_grad,
             (x, probs), n),
        Case("multiclass_hinge_loss", losses.multiclass_hinge_loss, losses.multiclass_hinge_loss_grad, (x, y), n),
        Case("multiclass_perceptron_loss", losses.multiclass_perceptron_loss,
             losses.multiclass_perceptron_loss_grad, (x, y), n),
        Case("binary_sparsemax_loss", losses.binary_sparsemax_loss, losses.binary_sparsemax_loss_grad,
             (x[:, 0], (y % 2).astype(float)), n),
        Case("safe_softmax_cross_entropy", losses.safe_softmax_cross_entropy,
             losses.safe_softmax_cross_entropy_grad, (x, onehot), n,
             torch_mean=lambda: tf.cross_entropy(t(x), t(y)).item()),
        Case("sparsemax_loss", losses.sparsemax_loss, losses.sparsemax_loss_grad, (x, y), n),
        Case("ranking_softmax_loss", losses.ranking_softmax_loss, losses.ranking_softmax_loss_grad,
             (relevance * 0.7 - x[:, :1], relevance), n),
        Case("circle_loss", losses.circle_loss, losses.circle_loss_grad, (unit, groups), n,
             kwargs={"gamma": 2.0}),
        Case("ntxent_loss", losses.ntxent_loss, losses.ntxent_loss_grad, (e1, groups), n,
             kwargs={"temperature": 0.5}),
        Case("cosine_embedding_loss", losses.cosine_embedding_loss, losses.cosine_embedding_loss_grad,
             (e1, e2, signs), n,
             torch_mean=lambda: tf.cosine_embedding_loss(t(e1), t(e2), t(signs)).item()),
        Case("cosine_similarity_loss", losses.cosine_similarity_loss, losses.cosine_similarity_loss_grad,
             (e1, e2), n),
        Case("triplet_margin_loss", losses.triplet_margin_loss, losses.triplet_margin_loss_grad, (a, p, ng), n,
             kwargs={"margin": 2.0},
             torch_mean=lambda: tf.triplet_margin_loss(t(a), t(p), t(ng), margin=2.0).item()),
        Case("triplet_margin_with_distance_loss", losses.triplet_margin_with_distance_loss,
             losses.triplet_margin_with_distance_loss_grad, (a, p, ng), n, kwargs={"margin": 2.0},
             torch_mean=lambda: tf.triplet_margin_with_distance_loss(t(a), t(p), t(ng), margin=2.0).item()),
    ]


CASES = _cases()
IDS = [case.name for case in CASES]


def _call(case: Case, function: Callable[..., Any], reduction: str, weight: float | None) -> Any:
    kwargs = dict(case.kwargs, reduction=reduction)
    if weight is not None:
        kwargs[case.keyword] = np.full(case.count, weight)
    return function(*case.args, **kwargs)


def _arrays(gradient: Any) -> Arrays:
    """A gradient, or the tuple of gradients of a loss of several arguments, as a list of arrays."""
    return [np.asarray(g) for g in (gradient if isinstance(gradient, tuple) else (gradient,))]


def test_every_case_has_a_loss_that_takes_the_weights() -> None:
    assert len(CASES) >= 18
    for case in CASES:
        assert np.isfinite(float(_call(case, case.value, "mean", 1.0)))


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_equal_weights_give_the_unweighted_mean(case: Case, weight: float) -> None:
    expected = float(_call(case, case.value, "mean", None))
    scale = float(np.mean(np.abs(_call(case, case.value, "none", None))))
    got = float(_call(case, case.value, "mean", weight))
    assert abs(got - expected) <= ULPS * EPS * scale, (got, expected)
    if case.torch_mean is not None:  # PyTorch's value, computed independently
        assert got == pytest.approx(case.torch_mean(), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_equal_weights_give_the_unweighted_mean_gradient(case: Case, weight: float) -> None:
    expected = _arrays(_call(case, case.grad, "mean", None))
    got = _arrays(_call(case, case.grad, "mean", weight))
    for g, e in zip(got, expected, strict=True):
        assert not np.isnan(g).any()
        bound = ULPS * EPS * float(np.max(np.abs(e), initial=0.0))
        np.testing.assert_allclose(g, e, rtol=0.0, atol=bound)


def _close_to_scaled(got: float, weight: float, unweighted: float, magnitude: float) -> None:
    """``got`` is ``weight * unweighted`` (a float64 product, rounded once) within a few ulp
    of ``weight * magnitude`` and a unit of the subnormal range; infinite where that is."""
    expected = weight * unweighted
    assert not math.isnan(got)
    if math.isinf(expected):
        assert got == expected
    else:
        assert abs(got - expected) <= ULPS * EPS * magnitude * weight + TINY, (got, expected)


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_weighted_sum_is_weight_times_sum(case: Case, weight: float) -> None:
    unweighted = float(_call(case, case.value, "sum", None))
    magnitude = float(np.sum(np.abs(_call(case, case.value, "none", None))))
    _close_to_scaled(float(_call(case, case.value, "sum", weight)), weight, unweighted, magnitude)


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_weighted_sum_gradient_is_weight_times_gradient(case: Case, weight: float) -> None:
    expected = _arrays(_call(case, case.grad, "sum", None))
    got = _arrays(_call(case, case.grad, "sum", weight))
    for g, e in zip(got, expected, strict=True):
        magnitude = float(np.max(np.abs(e), initial=0.0))
        for got_element, unweighted in zip(g.reshape(-1).tolist(), e.reshape(-1).tolist(), strict=True):
            _close_to_scaled(got_element, weight, unweighted, magnitude)


def test_cross_entropy_tiny_and_huge_weights_measured() -> None:
    """The brief's example: equal tiny weights gave 2.0 (the products rounded to a few
    subnormal units), huge ones NaN (inf / inf)."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    y = np.array([2, 1])
    expected = tf.cross_entropy(torch.tensor(x), torch.tensor(y)).item()
    for weight in WEIGHTS:
        s = np.full(2, weight)
        assert losses.cross_entropy(x, y, sample_weight=s) == pytest.approx(expected, rel=1e-14)
        assert losses.cross_entropy(x, y, weight=np.full(3, weight)) == pytest.approx(expected, rel=1e-14)
    assert losses.cross_entropy(x, y, sample_weight=np.full(2, 1e308), reduction="sum") == math.inf


# --------------------------------------------------------------------------- 2. rows at the ends of the range

MP = mpmath.MPContext()
MP.dps = 50
SCALES = (1e308, 1e-308, 5e-320, 1.0)
ROW_ULPS = 8
"""The bound against mpmath, in ulp of the result."""


def _ulps(got: float, exact: Any) -> float:
    """|got - exact| in units of the last place of the float64 nearest ``exact`` (at least the smallest)."""
    nearest = float(exact)
    spacing = math.ulp(nearest) if nearest else TINY
    return float(abs(MP.mpf(got) - exact) / spacing)


def _mp(row: Any) -> list[Any]:
    return [MP.mpf(float(v)) for v in row]


def _norm(v: list[Any], p: float = 2.0) -> Any:
    return MP.fsum(abs(c) ** p for c in v) ** (MP.mpf(1) / p)


def _dot(u: list[Any], v: list[Any]) -> Any:
    return MP.fsum(a * b for a, b in zip(u, v, strict=True))


def _rows(scale: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Two rows of two vectors each, whose largest entry is ``scale``: the brief's example
    (a huge entry next to 1) and a generic pair."""
    x = np.array([[1.0, 1.0 / 1e308], [0.75, -0.5]]) * scale if scale != 1e308 else np.array([[1e308, 1.0], [0.75e308, -0.5e308]])
    t = np.array([[1.0, 1.0], [0.25, 0.625]]) * (scale if scale != 1e308 else 1.0)
    return x, t


def _check(got: Any, exact: list[Any]) -> None:
    values = np.asarray(got).reshape(-1).tolist()
    for value, reference in zip(values, exact, strict=True):
        assert math.isfinite(value)
        assert _ulps(value, reference) <= ROW_ULPS, (value, float(reference))


@pytest.mark.parametrize("scale", SCALES)
def test_cosine_similarity_loss_at_every_scale(scale: float) -> None:
    x, t = _rows(scale)
    epsilon = MP.mpf(1e-7)  # Keras's backend.epsilon(), the floor of each norm

    def exact(u: list[Any], v: list[Any]) -> Any:
        return -_dot(u, v) / (max(_norm(u), epsilon) * max(_norm(v), epsilon))

    _check(losses.cosine_similarity_loss(x, t, reduction="none"), [exact(_mp(u), _mp(v)) for u, v in zip(x, t, strict=True)])


@pytest.mark.parametrize("target", [1.0, -1.0])
@pytest.mark.parametrize("scale", SCALES)
def test_cosine_embedding_loss_at_every_scale(scale: float, target: float) -> None:
    x, t = _rows(scale)
    epsilon = MP.mpf(float(np.float32(1e-12)))

    def exact(u: list[Any], v: list[Any]) -> Any:
        cos = _dot(u, v) / MP.sqrt((_norm(u) ** 2 + epsilon) * (_norm(v) ** 2 + epsilon))
        return 1 - cos if target > 0 else max(cos - MP.mpf(-0.5), MP.mpf(0))

    got = losses.cosine_embedding_loss(x, t, np.full(2, target), margin=-0.5, reduction="none")
    _check(got, [exact(_mp(u), _mp(v)) for u, v in zip(x, t, strict=True)])


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("scale", SCALES)
def test_triplet_margin_loss_at_every_scale(scale: float, p: float) -> None:
    anchor = np.zeros((2, 2))
    positive = np.array([[1.0, 0.0], [0.5, -0.75]]) * scale
    negative = np.array([[0.0, 1.0], [0.25, 0.125]]) * scale
    margin = 0.5 * scale if scale != 5e-320 else 1e-300  # a margin that counts at every scale

    def exact(a: list[Any], pos: list[Any], neg: list[Any]) -> Any:
        d_pos = _norm([x - y for x, y in zip(a, pos, strict=True)], p)
        d_neg = _norm([x - y for x, y in zip(a, neg, strict=True)], p)
        return max(MP.mpf(margin) + d_pos - d_neg, MP.mpf(0))

    got = losses.triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=0.0, reduction="none")
    _check(got, [exact(_mp(u), _mp(v), _mp(w)) for u, v, w in zip(anchor, positive, negative, strict=True)])
    with_distance = losses.triplet_margin_with_distance_loss(
        anchor, positive, negative, margin=margin, reduction="none"
    )
    assert np.all(np.isfinite(with_distance))


def test_brief_examples_at_1e308() -> None:
    assert losses.cosine_similarity_loss([[1e308, 1.0]], [[1.0, 1.0]]) == pytest.approx(-math.sqrt(0.5), rel=1e-15)
    assert losses.cosine_embedding_loss([[1e308, 1.0]], [[1.0, 1.0]], [1]) == pytest.approx(
        1 - math.sqrt(0.5), rel=1e-15
    )
    assert losses.triplet_margin_loss(np.zeros((1, 2)), [[1e308, 0.0]], [[0.0, 1.0]]) == pytest.approx(
        1e308, rel=1e-15
    )
    for gradient in (
        losses.cosine_similarity_loss_grad([[1e308, 1.0]], [[1.0, 1.0]]),
        *losses.cosine_embedding_loss_grad([[1e308, 1.0]], [[1.0, 1.0]], [1]),
        *losses.triplet_margin_loss_grad(np.zeros((1, 2)), [[1e308, 0.0]], [[0.0, 1.0]]),
    ):
        assert np.all(np.isfinite(gradient))
