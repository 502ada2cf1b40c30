"""Adversarial inputs of the regression, binary-classification, overlap and margin losses.

``CASES`` maps a loss name to ``(arguments, options)`` cases that ``test_references.py``
checks against the loss's exact reference (value and gradient, within the registered
ulp budget): the inputs where a plain formula cancels, overflows, underflows or turns
at a kink. Every case is valid input (no error expected).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Case = tuple[tuple[np.ndarray, ...], dict[str, Any]]

EPS = 2.0**-52
ONE_MINUS = 1.0 - 2.0**-53  # the largest float below 1
TINY = 5e-324
HUGE = 1e308


def a(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


_RNG = np.random.default_rng(15)


def _at_logit(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits at ``logit(y)``, rounded: the gradient ``sigmoid(x) - y`` cancels to an ulp of ``y`` or less."""
    return np.log(y) - np.log1p(-y), y


def _weighted_at_cancellation(y: np.ndarray, w: np.ndarray) -> Case:
    """Logits where ``(1 - y) sigmoid(x) = w y sigmoid(-x)``, rounded, with ``pos_weight=w``."""
    s = w * y / (1.0 - y + w * y)
    return (np.log(s) - np.log1p(-s), y), {"pos_weight": w}


def _logit_boundary(t: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Soft labels and logits where ``|sigmoid(x) - y| = t (sigmoid(x) (1 - y) + y (1 - sigmoid(x)))``:
    where the logistic gradient's two terms cancel by ``t``."""
    y = np.exp(_RNG.uniform(np.log(1e-20), 0.0, n))
    y[: n // 2] = 1.0 - np.maximum(y[: n // 2], 1e-15)
    up, down = y * (1 + t) / (1 - t + 2 * t * y), y * (1 - t) / (1 + t - 2 * t * y)
    s = np.where(_RNG.random(n) < 0.5, up, down)
    return np.log(s) - np.log1p(-s), y

def _off_logit(y: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Logits where ``sigmoid(x) - y`` is about ``t y`` (below ``y`` where above would pass 1):
    closer to ``logit(y)`` than the fast path goes, but not so close that the relative bound
    ends (``|g| >= 2**-44 max(sigmoid(x), y)``)."""
    s = np.where(y * (1 + t) < 1.0, y * (1 + t), y * (1 - t))
    return np.log(s) - np.log1p(-s), y


# Pairs whose difference is exact and tiny, or huge, or overflows although both are finite.
_CLOSE = (a(1.0 + EPS, 1.0 - EPS, 1e-300, 3.0, -2.5, 1e16 + 2.0), a(1.0, 1.0, 0.0, 3.0 + 4 * EPS, -2.5, 1e16))
_FAR = (a(1e150, -1e150, 1.3e154, 1e300, HUGE, -HUGE), a(-1e150, 0.0, -1e154, -1e300, -HUGE, HUGE))
_TINY = (a(1e-160, -3e-170, TINY, 1e-300, 2.2e-308, 0.0), a(0.0, 0.0, 0.0, -1e-300, 0.0, TINY))
# Differences with a rounding error: fl(x - y) != x - y.
_ROUNDED = (a(1.0, 0.1, 1e-17 + 1.0, 0.75, 0.7, 3.0), a(1e-17, 0.1 + 1e-17, -0.5e-16, 1e-17, -0.05 + 1e-18, 1e-30))

CASES: dict[str, list[Case]] = {
    "mse_loss": [
        (_CLOSE, {}),  # exact tiny differences
        (_FAR, {}),  # squares near and beyond the float64 range (inf where the exact value is beyond)
        (_TINY, {}),  # squares in the subnormal range
    ],
    "l1_loss": [(_CLOSE, {}), (_FAR, {}), (_TINY, {}), (_ROUNDED, {})],
    "huber_loss": [
        (_FAR, {}),  # the linear branch of a difference that overflows (taken from the halves)
        (_TINY, {}),
        (_ROUNDED, {"delta": 0.75}),
        ((a(1.0, -1.0, 1.0 + EPS, 1.0 - EPS / 2, 3e-300), a(0.0, 0.0, 0.0, 0.0, 0.0)), {"delta": 1.0}),  # at |d| = delta
        ((a(1.0, -1e-300, 2e-300), a(0.0, 0.0, 0.0)), {"delta": 1e-300}),  # a tiny delta
        ((a(1e200, -1e300), a(0.0, 0.0)), {"delta": 1e200}),  # a huge delta
    ],
    "smooth_l1_loss": [
        (_FAR, {}),
        (_TINY, {}),
        (_ROUNDED, {"beta": 0.75}),
        ((a(1.0, -1.0, 1.0 + EPS, 1.0 - EPS / 2, 3e-300), a(0.0, 0.0, 0.0, 0.0, 0.0)), {"beta": 1.0}),
        ((a(1.0, -1e-300, 2e-300, 0.5e-300), a(0.0, 0.0, 0.0, 0.0)), {"beta": 1e-300}),  # a tiny beta
        ((a(1e200, -1e300, 3e199), a(0.0, 0.0, 0.0)), {"beta": 1e200}),  # a huge beta
    ],
    "log_cosh": [
        ((a(1e-9, -1e-9, 1e-200, TINY, 1e-154, 1e-5, 0.1, 0.3), np.zeros(8)), {}),  # tiny |d|: d^2 / 2
        ((a(0.7499999999999999, 0.75, 0.7500000000000001, -0.75, 0.5, 1.0), np.zeros(6)), {}),  # the switch
        ((a(19.0, 20.0, 37.0, 40.0, 355.0, 700.0, 710.0, 1e300), np.zeros(8)), {}),  # large |d|: |d| - log 2
        ((a(1e308, -1e308, 1e300), a(-1e308, 1e308, 0.0)), {}),  # d beyond the float64 range: inf
        (_ROUNDED, {}),  # the rounding error of x - y, corrected
    ],
    "pinball_loss": [
        (_CLOSE, {}),
        (_FAR, {}),
        (_TINY, {"quantile": 0.1}),
        (_ROUNDED, {"quantile": 0.9}),
        ((a(1.0, -1.0, 0.0), a(0.0, 0.0, 0.0)), {"quantile": 1e-300}),  # a quantile near 0
        ((a(1.0, -1.0, 0.0), a(0.0, 0.0, 0.0)), {"quantile": ONE_MINUS}),  # near 1: 1 - q tiny
    ],
    "mean_absolute_percentage_error": [
        ((a(1.0, -1.0, 1e-300, 3.0, 0.0), a(0.0, 0.0, 0.0, EPS / 2, -EPS)), {}),  # |target| at and below epsilon
        ((a(HUGE, -HUGE, 1e300, 1e-300), a(-HUGE, HUGE, 1e-300, 1e300)), {}),  # overflowing |d|, huge ratios
        ((a(1.0 + EPS, 0.1, 5.0, -1e-300), a(1.0, 0.1 + 1e-17, 5.0 + 4 * EPS, -1e-300 * (1 + EPS))), {}),  # tiny relative errors
        ((a(1e-17, 1e300, TINY), a(1e-300, 1e-17, 1e-310)), {}),  # quotients near the float64 range's ends
        (_ROUNDED, {}),
    ],
    "mean_squared_log_error": [
        ((a(-ONE_MINUS, -0.9999999999, -0.5, -ONE_MINUS, 0.0), a(0.0, -0.99999999999, -0.5 + EPS, 1e300, -ONE_MINUS)), {}),  # near -1
        ((a(1e10, 4e9, 1e300, 1e300, 1e-300, 1e-17), a(4e9, 1e10, 1e299, 0.0, 0.0, 0.0)), {}),  # logs that cancel, huge and tiny
        ((a(1.0 + EPS, 7.0, 1e16, 3e-300), a(1.0, 7.0 + 8 * EPS, 1e16 + 2.0, 1e-300)), {}),  # nearly equal
    ],
    "root_mean_squared_error": [
        (_FAR, {}),  # squares beyond the float64 range: scaled
        (_TINY, {}),  # squares below it
        ((a(1e200, 1e-200, 3.0, 0.0), a(0.0, 0.0, 0.0, 1e-300)), {}),  # huge and tiny together
        ((a(1e-160, 3e-161, -2e-160), a(0.0, 0.0, 0.0)), {}),  # all tiny
        (_ROUNDED, {}),
    ],
    "root_mean_squared_log_error": [
        ((a(1e300, 0.0, 2.0), a(0.0, 1e300, 2.0)), {}),  # huge logs
        ((a(1e-200, 3e-201, 0.0), a(0.0, 0.0, 2e-200)), {}),  # tiny logs: squares below the float64 range
        ((a(1e-160, 1e300, -ONE_MINUS), a(0.0, 1e299, 0.0)), {}),  # tiny, huge and near -1 together
        ((a(1e10, 4e9, 1.0 + EPS), a(4e9, 1e10, 1.0)), {}),
    ],
    "binary_cross_entropy": [
        ((a(ONE_MINUS, ONE_MINUS, ONE_MINUS, 1e-300, 1e-300, 1e-300), a(1.0, 0.0, 0.5, 1.0, 0.0, 0.5)), {}),  # saturation
        ((a(1.0 - 2.0**-40, 2.0**-40, 1e-17, 0.9999999, 2.2e-308), a(1.0, 0.0, 1e-17, 0.9999999, 1e-300)), {}),  # near 0 and 1
        ((a(0.3, 0.7, 0.5, 0.1, 0.9), a(0.3, 0.7 - EPS, 0.5 + 1e-16, 0.1, 0.9)), {}),  # p = y: the gradient's p - y cancels
        ((a(TINY, 1e-310, 0.5), a(1.0, 0.25, 1e-310)), {}),  # subnormal probabilities
    ],
    "binary_cross_entropy_with_logits": [
        ((a(745.0, -745.0, 745.0, -745.0, 744.4, -744.4, 709.0, -709.0), a(0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.5, 0.5)), {}),  # |x| ~ 745
        ((a(1e300, -1e300, 40.0, -40.0, 37.0, -37.0), a(1.0, 0.0, 1.0, 0.0, 0.0, 1.0)), {}),  # saturated sigmoids
        ((np.log(_RNG.uniform(0.01, 0.99, 16)) - np.log1p(-_RNG.uniform(0.01, 0.99, 16)), _RNG.uniform(0.01, 0.99, 16)), {}),
        ((a(745.0, 700.0, -3.0, 0.5), a(1.0, 0.7, 0.2, 1e-300)), {"pos_weight": a(100.0, 0.5, 3.0, 1e10)}),  # pos_weight
        (_logit_boundary(0.7, 64), {}),  # |g| just above 0.7 (A + B): the last elements of the fast path
        (_logit_boundary(0.69, 64), {}),  # ... and just below: the first of the double-double path
        (_off_logit(_RNG.uniform(0.001, 0.999, 32), 2.0**-40), {}),  # |g| about 2**-40 of the terms:
        (_off_logit(1.0 - 10.0 ** _RNG.uniform(-16, -2, 32), 2.0**-40), {}),  # double-double, 4 ulp still
        (_off_logit(0.5 + _RNG.uniform(-1, 1, 32) * 10.0 ** _RNG.uniform(-9, -2, 32), 2.0**-30), {}),
        ((_RNG.standard_normal(32) * 4, _RNG.uniform(0.0, 1.0, 32)), {"pos_weight": _RNG.uniform(0.1, 10.0, 32)}),
    ],
    "brier_score_loss": [
        ((a(TINY, 1.0, ONE_MINUS, 1e-300, 0.3), a(1.0, 1.0, 1.0, 0.0, 0.3 + 1e-17)), {}),
        ((a(0.5 + EPS, 1e-160, 0.25), a(0.5, 0.0, 0.25 - 2.0**-60)), {}),  # exact tiny differences
    ],
    "soft_margin_loss": [
        ((a(745.0, -745.0, 745.0, -745.0, 710.0, -710.0), a(1.0, 1.0, -1.0, -1.0, -1.0, 1.0)), {}),
        ((a(1e300, -1e300, 40.0, 37.0, 1e-300, 0.0), a(1.0, 1.0, 1.0, -1.0, 1.0, -1.0)), {}),
    ],
    "hinge_loss": [
        ((a(1.0, 1.0 + EPS, ONE_MINUS, -1.0, 1e300, -HUGE, 1e-300), a(1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0)), {}),  # at the kink
    ],
    "squared_hinge_loss": [
        ((a(ONE_MINUS, 1.0 - 2.0**-30, -1e154, 1.3e154, 1.0, 1e300), a(1.0, 1.0, 1.0, -1.0, 1.0, -1.0)), {}),
    ],
    "perceptron_loss": [
        ((a(0.0, -0.0, TINY, -TINY, HUGE, -HUGE), a(1.0, -1.0, 1.0, 1.0, -1.0, 1.0)), {}),
    ],
    "hinge_embedding_loss": [
        ((a(0.5, 0.5 + EPS / 2, 0.5 - EPS / 4, -HUGE, HUGE, 1e-300), a(-1.0, -1.0, -1.0, -1.0, -1.0, 1.0)), {}),
        ((a(-1e-17, 1e-17, 3e-17, -HUGE), a(-1.0, -1.0, -1.0, -1.0)), {"margin": 1e-17}),  # margin - x rounded once
        ((a(-HUGE, 0.0), a(-1.0, -1.0)), {"margin": HUGE}),  # margin - x beyond the float64 range: inf
    ],
    "margin_ranking_loss": [
        ((a(1.0000000000000002, 1.0, 0.25), a(1e-17, 0.75, 1e-30), a(-1.0, 1.0, 1.0)), {"margin": -1.0}),  # the margin cancels
        ((a(HUGE, -HUGE, 1e300, 0.0), a(-HUGE, HUGE, -1e300, TINY), a(-1.0, 1.0, 1.0, 1.0)), {}),  # x1 - x2 overflows
        ((a(0.5, 1e-17, 0.75), a(0.25, 0.0, 0.5 - 2.0**-55), a(1.0, -1.0, 1.0)), {"margin": 0.25}),  # at the kink
    ],
    "categorical_hinge_loss": [
        ((np.array([[1.5, 0.5 + 2.0**-52, -1.0], [1e308, -1e308, 0.0], [-1e308, 1e308, 0.0], [0.0, TINY, -1.0]]),
          np.array([0, 0, 0, 1])), {}),  # 1 + best - own cancels; overflows; subnormal
        ((np.array([[1.0, 1e-17, -3.0], [2.0, 1.0, 1.0 - 2.0**-53]]), np.array([0, 0])), {}),  # at the kink
    ],
}


def _near_perfect(rows: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Predictions within 1e-12 of hard masks: 1 - index would cancel."""
    y = np.round(_RNG.random((rows, size)))
    return np.where(y > 0, 1.0 - 1e-12 * _RNG.random((rows, size)), 1e-12 * _RNG.random((rows, size))), y


def _soft_cancelling(rows: int, size: int, a: float, b: float, smooth: float) -> tuple[np.ndarray, np.ndarray]:
    """Soft labels, every fourth at ``b I / ((a + b) I + N)`` of its group: where the gradient's terms cancel."""
    p, y = _RNG.uniform(0.0, 1.0, (rows, size)), _RNG.uniform(0.0, 1.0, (rows, size))
    for _ in range(3):  # the labels move the sums: close in on the fixed point
        i, misses, alarms = (y * p).sum(1, keepdims=True), (y * (1 - p)).sum(1, keepdims=True), (p * (1 - y)).sum(1, keepdims=True)
        y[:, ::4] = b * i / ((a + b) * i + a * misses + b * alarms + smooth)
    return p, y


CASES["dice_loss"] = [
    (_soft_cancelling(4, 48, 1.0, 1.0, 1e-7), {}),  # soft labels where the gradient cancels
    (_soft_cancelling(2, 500, 1.0, 1.0, 0.0), {"smooth": 0.0}),
    ((_RNG.uniform(0.0, 1.0, (4, 64)), _RNG.uniform(0.0, 1.0, (4, 64))), {}),  # random soft labels
    (_near_perfect(3, 64), {}),
    (_near_perfect(2, 1000), {"smooth": 0.0}),
    ((np.array([[1e-300, 0.0, 2e-300], [0.5, 0.25, 0.125]]), np.zeros((2, 3))), {}),  # empty masks
    ((np.array([[TINY, 0.0], [1.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 1.0]])), {"smooth": 0.0}),
    ((_RNG.uniform(0.0, 1.0, (3, 8)), _RNG.uniform(0.0, 1.0, (3, 8))), {"smooth": 1e300}),  # D**2 beyond the float64 range
    ((_RNG.uniform(0.0, 1.0, (3, 8)), np.round(_RNG.uniform(0.0, 1.0, (3, 8)))), {"axis": None}),  # one group
]
CASES["tversky_loss"] = [
    (_soft_cancelling(4, 48, 0.7, 0.3, 1e-7), {}),
    (_soft_cancelling(2, 500, 0.2, 0.9, 0.0), {"alpha": 0.2, "beta": 0.9, "smooth": 0.0}),
    ((_RNG.uniform(0.0, 1.0, (4, 64)), _RNG.uniform(0.0, 1.0, (4, 64))), {"alpha": 0.5, "beta": 0.5}),
    (_near_perfect(3, 64), {}),
    (_near_perfect(2, 1000), {"alpha": 0.9, "beta": 0.1, "smooth": 0.0}),
    ((np.array([[1e-300, 0.0, 2e-300], [0.5, 0.25, 0.125]]), np.zeros((2, 3))), {}),
    ((_RNG.uniform(0.0, 1.0, (3, 8)), _RNG.uniform(0.0, 1.0, (3, 8))), {"smooth": 1e300}),
    ((_RNG.uniform(0.0, 1.0, (3, 8)), _RNG.uniform(0.0, 1.0, (3, 8))), {"axis": (0, 1), "alpha": 3.0, "beta": 0.0}),
]


# Where the logistic gradient's two terms agree to 44 bits and more (x within an ulp or so of
# logit(y)), no relative bound holds: the double-length sigmoid's own error, about 2**-100 of
# the terms, is many ulps of the difference. ``test_regression_losses`` checks these against
# the absolute bound the gradient states (and 4 ulp wherever the difference is not that small).
ABSOLUTE: dict[str, list[Case]] = {
    "binary_cross_entropy_with_logits": [
        ((a(logit(0.3), logit(0.9), logit(1e-10), logit(0.999), logit(0.5 + 1e-9), 1e-20),
          a(0.3, 0.9, 1e-10, 0.999, 0.5 + 1e-9, 0.5)), {}),  # soft labels at x = logit(y): sigmoid(x) - y cancels
        (_at_logit(_RNG.uniform(0.001, 0.999, 64)), {}),  # x = logit(y) rounded: sigmoid(x) - y below an ulp of y
        (_at_logit(10.0 ** _RNG.uniform(-300, -2, 32)), {}),  # ... for tiny labels (x down to -690)
        (_at_logit(1.0 - 10.0 ** _RNG.uniform(-16, -2, 32)), {}),  # ... for labels near 1 (x up to 37)
        (_at_logit(0.5 + _RNG.uniform(-1, 1, 32) * 10.0 ** _RNG.uniform(-9, -2, 32)), {}),  # ... near 1/2, x small
        _weighted_at_cancellation(_RNG.uniform(0.01, 0.99, 32), _RNG.uniform(0.1, 10.0, 32)),  # pos_weight p:
        # (1 - y) sigmoid(x) = p y sigmoid(-x), rounded
        _weighted_at_cancellation(_RNG.uniform(0.01, 0.99, (8, 4)), _RNG.uniform(0.1, 10.0, 4)),  # broadcast
    ],
}
