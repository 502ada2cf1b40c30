"""Adversarial inputs of the ranking, embedding and sequence losses (``test_references.py``).

``CASES`` maps a loss to ``(arguments, options)`` cases: the inputs where its formula
cancels, overflows or sits on the edge of a branch (the points of issue 15 among them).
Every case is valid input: no error, no warning is expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loss_catalog import BY_NAME

Case = tuple[tuple[np.ndarray, ...], dict[str, Any]]


def _a(*rows: Any) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def _near_support_edge(classes: int, gap: float, seed: int) -> Case:
    """The runner-up moved to within ``gap`` inside the edge of the sparsemax support."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(6, classes))
    for row in z:
        order = np.argsort(-row)
        row[order[1]] = row[order[0]] - 1.0 + gap * (1 + row[order[0]] % 0.5)
    return (z, rng.integers(0, classes, 6)), {}


def _proportional_labels(seed: int, items: int, gap: float) -> Case:
    """Labels ``5 p (1 + gap r)``, ``p`` the softmax of the scores and ``r`` normal: every entry cancels."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(4, items)) * 2
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (scores, 5 * e / e.sum(axis=1, keepdims=True) * (1 + gap * rng.normal(size=(4, items)))), {}


SPARSEMAX: list[Case] = [
    # issue 15: the runner-up 9.3e-10 inside the support's edge (was 6e-8 relative)
    ((_a([0.1, 1.0999999990686775]), np.array([1])), {}),
    # the same edge, 1e-9 and 1e-15 inside, two and five classes
    _near_support_edge(2, 1e-9, 1),
    _near_support_edge(5, 1e-9, 2),
    _near_support_edge(5, 1e-15, 3),
    # ties (the whole row, or at the edge), a score far outside, the label outside the support
    ((_a([5.0, 5.0, 5.0], [1.0, 1.0, 0.0], [3.0, 0.0, -1e300], [2.0, 0.5, 0.0]), np.array([1, 2, 0, 2])), {}),
    # scores of 1e300 and beyond the float64 range of their differences
    ((_a([1e300, -1e300, 0.0], [-1e300, 1e300, 1e300]), np.array([0, 1])), {}),
    # soft targets on the simplex
    ((_a([0.3, 0.2, -0.1], [4.0, 0.0, 3.5]), _a([0.25, 0.75, 0.0], [0.5, 0.0, 0.5])), {}),
]

RANKING_SOFTMAX: list[Case] = [
    # issue 15: p_top rounds to 1; the exact gradient is [[-4.25e-18, 4.25e-18]]
    ((_a([40.0, 0.0]), _a([1.0, 0.0])), {}),
    # confident lists: a lead of 800 (e^-800 underflows), the label away from the top
    ((_a([800.0, 0.0], [40.0, 0.0]), _a([1.0, 0.0], [0.0, 1.0])), {}),
    ((_a([0.0, 700.0, -3.0]), _a([1.0, 0.0, 2.0])), {}),
    # several labels, a tie, a list without any label, near-equal scores
    ((_a([1.0, 1.0, 0.5, -2.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0 + 2**-52, 1.0 - 2**-53, 1.0]),
      _a([3.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0])), {}),
    # labels with L p_i within 1e-4 of y_i (the gradient cancels): p near (1/2, 1/4, 1/4), L = 4
    ((_a([np.log(2.0) + 1e-4, 0.0, 0.0]), _a([2.0, 1.0, 1.0])), {}),
    # labels proportional to the softmax to 1e-6, 1e-10 and 1e-14 (16 items; the double-length
    # lists, with the table's exp and with the precise one)
    _proportional_labels(20, 16, 1e-6),
    _proportional_labels(21, 16, 1e-10),
    _proportional_labels(22, 5, 1e-14),
    # the first maximal item cancelling: p = (3/5, 1/5, 1/5), labels (3, 1, 1 + 1e-9), so
    # (L - y_1) - L (1 - p_1) is 6e-10; and the same with p_1 = 2/5, below 1/2 (L p_1 - y_1)
    ((_a([np.log(3.0), 0.0, 0.0]), _a([3.0, 1.0, 1.0 + 1e-9])), {}),
    ((_a([np.log(2.0), 0.0, 0.0, 0.0]), _a([2.0, 1.0, 1.0, 1.0 + 1e-9])), {}),
    # L p_1 = 2 + 1e-11 against y_1 = 2
    ((_a([np.log(2.0), 0.0, 0.0]), _a([2.0 + 1e-11, 1.0, 1.0])), {}),
    # L p_2 and y_2 just over a factor 5 apart (p_2 below 1/5: left in float64), and just within it
    ((_a([np.log(4.0 * 1.001), 0.0], [np.log(4.0 * 0.999), 0.0]), _a([0.0, 1.0], [0.0, 1.0])), {}),
]


def _ntxent_views(seed: int, groups: int, features: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two views of each of ``groups`` random embeddings, ``noise`` apart: their labels pair them."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((groups, features))
    return np.repeat(base, 2, axis=0) + noise * rng.standard_normal((2 * groups, features)), np.repeat(np.arange(groups), 2)


NTXENT: list[Case] = [
    # rows of 1e300 and 1e-300 (the catalog's extreme), a zero component
    ((_a([1e300, 0.0], [1e300, 1e-300], [0.0, 1e-300]), np.array([0, 0, 1])), {}),
    # nearly parallel positives (cos ~ 1 - 1e-16), an antiparallel negative; a small temperature
    ((_a([1.0, 2.0, 3.0], [1.0, 2.0, 3.0 + 1e-8], [-1.0, -2.0, -3.0], [3.0, -1.0, 0.5]), np.array([0, 0, 1, 1])),
     {"temperature": 0.01}),
    # a large temperature (every pair near softplus(log 2)), three groups
    ((np.random.default_rng(4).normal(size=(9, 5)), np.arange(9) % 3), {"temperature": 10.0}),
    # the refinement's threshold (2.5 sum sigmoid(a) against the anchor's loss, _ntxent's
    # _EXP_ERROR and _SUM_SHARE): anchors at 0.990 and 1.009 of it, outside and inside (the
    # others at 1.07 to 1.40, inside: 7 of the 8 refined)
    (_ntxent_views(1, 4, 6, 0.6), {"temperature": 0.95}),
    # confident positives (small losses: a = lse - s cancels) in 64 features (the cosines from
    # 64 products: double length), every anchor refined
    (_ntxent_views(30, 6, 64, 0.05), {"temperature": 0.05}),
    # the same features at the default temperature, views far apart: losses near 1 to 4, at
    # 0.59 to 1.59 of the threshold (8 of the 12 anchors refined)
    (_ntxent_views(31, 6, 64, 3.0), {}),
]


def _near_parallel(seed: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=(4, 5))
    return x1, x1 * 3.0 + gap * rng.normal(size=(4, 5))


COSINE_EMBEDDING: list[Case] = [
    # issue 15: nearly parallel rows (1e-4 and 1e-8 apart, y = 1): 1 - cos cancels (to 1e-17)
    ((*_near_parallel(5, 1e-4), np.ones(4)), {}),
    ((*_near_parallel(6, 1e-8), np.ones(4)), {}),
    # rows of 1e200 (PyTorch's squares overflow), both labels
    ((np.full((2, 3), 1e200), _a([1e200, -1e200, 2e200], [3e200, 1e199, -1e200]), np.array([1.0, -1.0])), {}),
    # rows of 1e-200 (their squares vanish beside epsilon: cos is linear in them), against 1 and 1e-200
    ((_a([1.0, 2.0, 2.0], [1e-200, 0.0, 3e-200]), _a([1e-200, 1e-200, 0.0], [2e-200, 1e-200, 1e-200]),
      np.array([-1.0, 1.0])), {}),
    # y = -1 with cos 3e-14 and 4e-5 above the margin (cos - margin cancels)
    ((_a([1.0, 2.0, 0.5], [1.0, 2.0, 0.5]), _a([2.0, 1.0, 0.3865], [2.0, 1.0, 0.3875]), np.array([-1.0, -1.0])),
     {"margin": 0.8064798818627}),
]

COSINE_SIMILARITY: list[Case] = [
    # nearly orthogonal rows: -x^.t^ cancels (1e-4 and 1e-12 from orthogonal)
    ((_a([1.0, 0.0, 2.0], [3.0, 4.0, 0.0]), _a([0.0, 1.0, 1e-4], [-4.0, 3.0 + 1e-12, 1.0])), {}),
    # nearly parallel rows: the gradient -(t^ - c x^) / |x| cancels
    ((*_near_parallel(16, 1e-8),), {}),
    # rows of 1e300 and 1e-300; a row below Keras's epsilon (1e-7: the floored norm)
    ((_a([1e300, 1e300], [1e-300, 0.0], [1e-8, -2e-8]), _a([1e300, -1e299], [1.0, 2.0], [1.0, 1.0])), {}),
    # the feature axis first
    ((np.random.default_rng(7).normal(size=(4, 3)), np.random.default_rng(8).normal(size=(4, 3))), {"axis": 0}),
]


def _triplets(seed: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(5, 4)) * scale, rng.normal(size=(5, 4)) * scale, rng.normal(size=(5, 4)) * scale


def _cancelling_triplets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """d(a, n) = d(a, p) + margin to about 1e-6: margin + d_pos - d_neg cancels."""
    rng = np.random.default_rng(9)
    a, direction = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    p = a + direction
    n = a - direction * (2.0 + 1e-6 * rng.uniform(-1, 1, (5, 1)))
    return a, p, n


TRIPLET: list[Case] = [
    # margin + d(a, p) - d(a, n) within 1e-6 of 0 (the value cancels; both sides of the kink)
    (_cancelling_triplets(), {}),
    # rows of 1e200 (PyTorch's squares overflow) and 1e-200
    (_triplets(10, 1e200), {}),
    (_triplets(11, 1e-200), {"eps": 0.0}),
    # the L1 distance, and the swap (d(p, n) nearer than d(a, n) in some rows)
    (_triplets(12, 1.0), {"p": 1.0}),
    (_triplets(13, 1.0), {"swap": True, "margin": 2.0}),
    # a difference of exactly 0 (eps = 0, positive = anchor): the norm's gradient is 0 there
    ((_a([1.0, 2.0]), _a([1.0, 2.0]), _a([0.0, 2.5])), {"eps": 0.0}),
]

TRIPLET_WITH_DISTANCE: list[Case] = [
    (_cancelling_triplets(), {}),
    (_triplets(10, 1e200), {}),
    (_triplets(13, 1.0), {"swap": True, "margin": 2.0}),
]


def _ctc_mixed() -> tuple[np.ndarray, ...]:
    """Repeated labels (a blank between them is needed), an empty target, padded frames."""
    rng = np.random.default_rng(14)
    frames, batch, classes = 12, 3, 4
    logits = rng.normal(size=(frames, batch, classes)) * 3
    log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    targets = np.array([[2, 2, 3, 3], [1, 0, 0, 0], [1, 2, 1, 2]])
    return log_probs, targets, np.array([12, 5, 9]), np.array([4, 0, 4])


def _ctc_long() -> tuple[np.ndarray, ...]:
    """200 frames: the path probabilities reach 1e-200 (they underflow in float64 products)."""
    rng = np.random.default_rng(15)
    logits = rng.normal(size=(200, 1, 3))
    log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    return log_probs, np.array([[1, 2, 1, 2, 1]]), np.array([200]), np.array([5])


CTC: list[Case] = [
    # the catalog's certain alignment: log-probabilities 0 and -inf
    (BY_NAME["ctc_loss"].extreme(), {}),
    (_ctc_mixed(), {}),
    (_ctc_long(), {}),
]

CASES: dict[str, list[Case]] = {
    "sparsemax_loss": SPARSEMAX,
    "ranking_softmax_loss": RANKING_SOFTMAX,
    "ntxent_loss": NTXENT,
    "cosine_embedding_loss": COSINE_EMBEDDING,
    "cosine_similarity_loss": COSINE_SIMILARITY,
    "triplet_margin_loss": TRIPLET,
    "triplet_margin_with_distance_loss": TRIPLET_WITH_DISTANCE,
    "ctc_loss": CTC,
}
