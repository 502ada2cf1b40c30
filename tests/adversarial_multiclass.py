"""Adversarial inputs of the class-axis losses (multiclass and multilabel), for ``test_references``.

``CASES`` maps a loss to (arguments, options) pairs: confident rows (logit gaps of 40,
700 and 1e300), near-ties, soft targets that nearly equal the softmax (the gradient
cancels to about 0), label smoothing close to 0 and to 1, margins met almost exactly,
and the edges of each loss's pieces. Every case is a valid input: no error is expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Arrays = tuple[np.ndarray, ...]
Case = tuple[Arrays, dict[str, Any]]

ULP = 2.0**-52

# Rows of 4 logits: confident (gaps of 40, 700 and 1e300, the top class first), near-tied
# (logits a few ulps apart), and spread over the float64 range.
CONFIDENT = np.array([
    [40.0, 0.0, -1.0, 0.5],
    [700.0, 0.0, -3.0, 1.0],
    [1e300, 0.0, -1e300, 5.0],
    [0.0, 40.0, 1.0, -2.0],
    [-5.0, -1e300, 1e300, 0.0],
])
NEAR_TIES = np.array([
    [1.0, 1.0 + ULP, 1.0 - ULP / 2, 1.0 + 2 * ULP],
    [0.0, 5e-324, -5e-324, 1e-300],
    [-3.0, -3.0 - 4 * ULP, 2.0, 2.0 - 2 * ULP],
])


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_rng = np.random.default_rng(15)
_LOGITS = _rng.standard_normal((8, 4)) * 3
# Targets that equal the softmax to about an ulp: p_k T - t_k cancels to about 1e-17.
_MATCHING = _softmax(_LOGITS)
# A target near one-hot on a confident row: the top class's gradient is a difference of two
# numbers near 1.
_NEAR_ONE_HOT = np.array([[1 - 2**-40, 2**-41, 2**-42, 2**-42]])


def _soft_rows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary logits against soft targets (Dirichlet rows): the gradient partly cancels."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((16, 4)) * 3, rng.dirichlet(np.ones(4), 16)


SOFT = [_soft_rows(seed) for seed in (1, 2, 3)]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


# Pairs of unit rows 1e-3 to 1e-6 apart (a positive each), and pairs pointing nearly away
# from each other (a positive each) beside nearly parallel negatives.
_CLOSE_PAIRS = _unit(np.array([
    [0.3, 0.4, 0.5], [0.3 + 1e-3, 0.4, 0.5], [-0.2, 0.7, 0.1], [-0.2, 0.7, 0.1 + 1e-6],
    [0.9, -0.1, 0.3], [0.9 - 3e-5, -0.1 + 2e-5, 0.3],
]))
_FAR_POSITIVES = _unit(np.array([
    [0.3, 0.4, 0.5], [0.31, 0.4, 0.5], [-0.3, -0.4, -0.49], [-0.3, -0.41, -0.5], [0.1, 0.9, -0.2], [-0.1, -0.9, 0.2],
]))


def _indices(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _circle_views(seed: int, groups: int, features: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit views of each of ``groups`` random embeddings, ``noise`` apart (before the
    normalization): their labels pair them."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((groups, features))
    views = np.repeat(base, 2, axis=0) + noise * rng.standard_normal((2 * groups, features))
    return _unit(views), np.repeat(np.arange(groups), 2)


def _class_cases(with_probabilities: bool, matching: bool = True) -> list[Case]:
    """Confident rows and near-ties against every target class, and soft targets (``matching``:
    equal to the softmax to the last bit too)."""
    cases: list[Case] = []
    for rows in (CONFIDENT, NEAR_TIES):
        for target in range(4):
            cases.append(((rows, np.full(len(rows), target, dtype=np.int64)), {}))  # each class: top or not
    if with_probabilities:
        if matching:
            cases.append(((_LOGITS, _MATCHING), {}))  # the gradient cancels: p = t to an ulp
        cases.append(((np.array([[30.0, 0.0, 0.0, 0.0]]), _NEAR_ONE_HOT), {}))  # near one-hot, confident
        cases.append(((CONFIDENT[:3], np.tile([0.25, 0.25, 0.25, 0.25], (3, 1))), {}))  # uniform target
    return cases


CASES: dict[str, list[Case]] = {
    "cross_entropy": [
        *_class_cases(with_probabilities=True, matching=False),
        # label smoothing close to 0 and to 1, on confident and on ordinary rows
        ((CONFIDENT, _indices(0, 0, 0, 0, 1)), {"label_smoothing": 1e-12}),
        ((CONFIDENT, _indices(0, 1, 2, 3, 0)), {"label_smoothing": 1 - 2**-30}),
        ((_LOGITS, _indices(0, 1, 2, 3, 0, 1, 2, 3)), {"label_smoothing": 0.1}),
        ((_LOGITS, _indices(0, 1, 2, 3, 0, 1, 2, 3)), {"label_smoothing": 1.0}),
        ((_LOGITS, _MATCHING), {"label_smoothing": 0.3}),  # soft targets, smoothed
        # ordinary soft targets, and ordinary class indices smoothed (p_k - e / C cancels)
        *((rows, {}) for rows in SOFT),
        *((rows, {"label_smoothing": 0.1}) for rows in SOFT),
        *(((x, np.argmax(t, axis=1)), {"label_smoothing": 0.1}) for x, t in SOFT),
        *(((x, np.argmax(t, axis=1)), {"label_smoothing": 0.9}) for x, t in SOFT),
    ],
    "nll_loss": [
        # log-probabilities at the ends of the range, and a certain class (log p = 0)
        ((np.array([[0.0, -1e300, -745.0, -5e-324], [-1e-300, -1.0, -700.0, -40.0]]), _indices(0, 3)), {}),
        ((np.array([[0.0, -1e300, -745.0, -5e-324], [-1e-300, -1.0, -700.0, -40.0]]), _indices(3, 2)), {}),
    ],
    "binary_focal_loss": [
        # both tails (sigmoid(-40), e^-700, beyond), both labels, soft labels, each gamma
        *(
            ((np.array([40.0, -40.0, 700.0, -700.0, 1e300, -1e300, 30.0, 0.0, 5e-324, -36.0]),
              np.array([y] * 10)), {"gamma": gamma, "alpha": alpha})
            for y in (0.0, 1.0, 0.5, 0.9)
            for gamma, alpha in ((2.0, 0.25), (0.0, None), (1.0, None), (3.5, 0.75))
        ),
    ],
    "categorical_focal_loss": [
        *_class_cases(with_probabilities=True),
        ((CONFIDENT, _indices(0, 1, 2, 3, 0)), {"gamma": 0.0}),
        ((CONFIDENT, _indices(0, 1, 2, 3, 0)), {"gamma": 3.5, "alpha": 0.25}),
        *((rows, {}) for rows in SOFT),  # ordinary soft targets
        *((rows, {"gamma": 0.5}) for rows in SOFT),
    ],
    "poly_loss_cross_entropy": [
        *_class_cases(with_probabilities=True),
        ((CONFIDENT, _indices(0, 1, 2, 3, 0)), {"epsilon": 0.0}),
        ((CONFIDENT, _indices(0, 1, 2, 3, 0)), {"epsilon": 5.0}),
        *((rows, {}) for rows in SOFT),  # ordinary soft targets
    ],
    "safe_softmax_cross_entropy": [
        ((CONFIDENT[:3], np.tile([1.0, 0.0, 0.0, 0.0], (3, 1))), {}),  # confident and right
        ((CONFIDENT[:3], np.tile([0.0, 1.0, 0.0, 0.0], (3, 1))), {}),  # confident and wrong
        ((np.array([[30.0, 0.0, 0.0, 0.0]]), _NEAR_ONE_HOT), {}),
        *((rows, {}) for rows in SOFT),  # ordinary soft targets
        # a class ruled out (-inf) with target 0, on ordinary and confident rows
        ((np.array([[2.0, 0.0, -np.inf, 1.0], [700.0, 0.0, 1.0, -np.inf]]),
          np.array([[0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])), {}),
    ],
    "multi_margin_loss": [
        # margins met almost exactly (z a few ulps from 0), huge scores, both powers
        *(
            ((np.array([[1.0, 2.0 - ULP, 0.0, 2.0 + 2 * ULP], [1e308, -1e308, 0.0, 1e308], [0.0, 5e-324, 1.0, -1.0]]),
              _indices(1, 1, 0)), {"p": p, "margin": margin})
            for p in (1, 2)
            for margin in (1.0, 0.5, 1e-300)
        ),
    ],
    "multilabel_margin_loss": [
        ((np.array([[1.0, 2.0 - ULP, 0.0, 2.0 + 2 * ULP], [1e300, -1e300, 0.0, 3.0], [0.0, 5e-324, 1.0, -1.0]]),
          np.array([[1, 3, -1, 0], [0, 2, 3, -1], [3, -1, 0, 1]])), {}),
        ((np.array([[1.0, 0.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5]]), np.array([[0, 1, 2, 3], [-1, 0, 1, 2]])), {}),
    ],
    "multilabel_soft_margin_loss": [
        # soft labels 1e-12 to 1e-4 from the sigmoid: sigmoid(x) - y cancels 40 bits and fewer
        # (the sigmoid in double length there; closer than 2**-44, only an absolute bound
        # holds: ABSOLUTE below)
        *(((_LOGITS, 1 / (1 + np.exp(-_LOGITS)) * (1 + scale)), {}) for scale in (1e-12, 1e-7, 1e-4)),
        # three classes (the division by C rounds), ordinary soft labels
        ((_rng.standard_normal((8, 3)) * 4, _rng.random((8, 3))), {}),
        # both tails and both labels
        ((np.array([[40.0, -40.0, 700.0, -700.0], [1e300, -1e300, 36.0, -745.0]]),
          np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.5, 0.5]])), {}),
        ((np.array([[40.0, -40.0, 700.0, -700.0], [1e300, -1e300, 36.0, -745.0]]),
          np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]])), {}),
    ],
    "multiclass_hinge_loss": [
        ((np.array([[1.0, 2.0 - ULP, 0.0, 2.0 - 2 * ULP], [1e308, -1e308, 0.0, 1e308 * (1 - ULP)]]), _indices(1, 0)), {}),
        ((np.array([[2.0, 1.0, 1.0 - ULP, 0.0], [0.0, 5e-324, -1.0, 1.0]]), _indices(0, 3)), {}),  # v at 0, -ulp
    ],
    "multiclass_perceptron_loss": [
        ((np.array([[1.0, 1.0 - ULP, 0.0, 1.0 - 2 * ULP], [1e308, -1e308, 0.0, 1e308 * (1 - ULP)]]), _indices(1, 0)), {}),
        ((np.array([[2.0, 2.0, 1.0, 0.0], [0.0, 5e-324, -1.0, 1.0]]), _indices(0, 1)), {}),  # a tie with the target
    ],
    "binary_sparsemax_loss": [
        # the joints u = -1 and u = 1, an ulp either side, and huge scores
        ((np.array([1.0, 1.0 + ULP, 1.0 - ULP / 2, -1.0, -1.0 - ULP, -1.0 + ULP / 2, 1e308, -1e308, 5e-324]),
          np.array([0.0] * 9)), {}),
        ((np.array([1.0, 1.0 + ULP, 1.0 - ULP / 2, -1.0, -1.0 - ULP, -1.0 + ULP / 2, 1e308, -1e308, 5e-324]),
          np.array([1.0] * 9)), {}),
    ],
    "circle_loss": [
        # pairs at the clamps (d = 0: identical embeddings; alpha_n = 0: opposite ones), nearly equal
        # embeddings, and other gammas and margins
        ((np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, 0.8], [0.6, 0.8 + ULP]]),
          _indices(0, 0, 1, 1, 2, 2)), {}),
        ((np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, 0.8], [0.6, 0.8 + ULP]]),
          _indices(0, 0, 1, 1, 2, 2)), {"gamma": 1.0, "margin": 0.25}),
        ((np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6]]), _indices(0, 0, 1, 1)),
         {"gamma": 256.0, "margin": 0.1, "remove_diagonal": False}),
        # nearly parallel positives (1 - s cancels: d from the exact similarity), and far
        # positives against near negatives (the log-sum-exps near 4 gamma: the softmax weights
        # from exp((a - max) - log sum))
        ((_CLOSE_PAIRS, _indices(0, 0, 1, 1, 2, 2)), {"gamma": 16.0, "margin": 0.25}),
        # the same at the default gamma and at 256: the value's z = lse_p + lse_n cancels
        # (27.5 and 107 ulp measured: the value's declared budget)
        ((_CLOSE_PAIRS, _indices(0, 0, 1, 1, 2, 2)), {}),
        ((_CLOSE_PAIRS, _indices(0, 0, 1, 1, 2, 2)), {"gamma": 256.0}),
        ((_FAR_POSITIVES, _indices(0, 1, 0, 1, 2, 2)), {}),
        # the refinement's threshold (5 sigmoid(z) against softplus(z), _circle's 2 _EXP_ERROR
        # and _SUM_SHARE): anchors at 1.0036 and 0.9964 of it (z = 4.94 and 4.98), inside and outside
        (_circle_views(10, 3, 5, 0.3), {"gamma": 17.8}),
        # nearly parallel positives in 32 features (z from -12 to -23: every anchor refined), and
        # views far apart (z from 20 to 80: none refined); the distances from 32 products, in double length
        (_circle_views(32, 5, 32, 0.02), {}),
        (_circle_views(33, 5, 32, 3.0), {}),
    ],
}


# Targets equal to the softmax (or the sigmoid) to their last bit, and near-ties against the
# uniform target: the gradient p_k sum(t) - t_k (sigmoid(x) - y) cancels 50 bits and more,
# to about 1e-17 of its terms, and a float64 computation keeps none of its bits there (a
# double-length one, 2**-100, keeps some 45: tens of ulps, at 20 to 40 times the cost).
# No ulp budget can hold such inputs: ``test_multiclass_losses`` checks them, with the
# cases above, against the bound the gradients state in absolute terms: a few ulps of the sum
# of the sizes of the two terms.
ABSOLUTE: dict[str, list[Case]] = {
    "cross_entropy": [
        ((_LOGITS, _MATCHING), {}),
        # smoothing that makes the target the softmax: (1 - e) + e / 4 = p_top = 0.925
        ((np.array([[np.log(3 * 0.925 / 0.075), 0.0, 0.0, 0.0]]), _indices(0)), {"label_smoothing": 0.1}),
    ],
    "safe_softmax_cross_entropy": [
        ((_LOGITS, _MATCHING), {}),
        ((NEAR_TIES, np.tile([0.25, 0.25, 0.25, 0.25], (3, 1))), {}),
    ],
    "multilabel_soft_margin_loss": [
        ((_LOGITS, 1 / (1 + np.exp(-_LOGITS))), {}),
    ],
}
