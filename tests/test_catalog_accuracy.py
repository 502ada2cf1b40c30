"""Accuracy of catalog losses where their formulas cancel: the reproducers of issue 15
and the bounds derived for them (expected values from mpmath, never from our output)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from neural_network import losses

U = 2.0**-53


def _relative(ours: float, exact: mpmath.mpf) -> float:
    """|ours - exact| / |exact| in u (0 where both are 0)."""
    if exact == 0:
        return 0.0 if ours == 0 else math.inf
    return float(abs(mpmath.mpf(ours) - exact) / abs(exact)) / U


# ranking_softmax_loss_grad, L p_i - y_i (L the sum of the labels; one-hot lists here, L = 1),
# n items. e_j = exp(s_j - top) with the difference exact (TwoSum) and its error applied: 3u;
# rest, a sum of n - 1 of them but the top's: (n + 1)u; 1 + rest u; p_i = e_i / (1 + rest):
# (n + 6)u. Not the top item: p_i (y_i = 0), or p_i - 1 with p_i <= 1/2: (n + 7)u. The top
# item: (L - y_top) - L q, q = rest / (1 + rest) within (n + 3)u and at most (n - 1) / n:
# 1 - q (the label elsewhere) within (n + 3)(n - 1)u + u, -q (the label at the top) (n + 3)u.
def _ranking_gradient_bound(n: int) -> float:
    return max(n + 7, (n + 3) * (n - 1) + 1)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_ranking_softmax_gradient_is_within_the_derived_bound_for_confident_lists(n: int):
    """Lists whose top score leads by 20 to 700 (p_top rounds to 1: L p - y lost what was
    left, [[40, 0]] gave 0 for an exact -4.25e-18) and generic ones, the label anywhere."""
    rng = np.random.default_rng(31)
    rows = 120
    scores = rng.normal(size=(rows, n)) * 3.0
    lead = np.exp(rng.uniform(np.log(20.0), np.log(700.0), rows // 2))
    scores[: rows // 2, 0] = scores[: rows // 2, 1:].max(axis=1) + lead
    labels = np.zeros((rows, n))
    labels[np.arange(rows), rng.integers(0, n, rows)] = 1.0
    gradient = losses.ranking_softmax_loss_grad(scores, labels, reduction="sum")
    bound = _ranking_gradient_bound(n)
    with mpmath.workdps(400):  # 1 - p_top reaches e^-700
        for row in range(rows):
            s = [mpmath.mpf(v) for v in scores[row]]
            top = max(s)
            e = [mpmath.exp(v - top) for v in s]
            total = sum(e)
            for i in range(n):
                exact = e[i] / total - mpmath.mpf(labels[row, i])
                assert _relative(float(gradient[row, i]), exact) <= bound, (row, i)
    assert losses.ranking_softmax_loss_grad([[40.0, 0.0]], [[1.0, 0.0]], reduction="sum")[0, 0] < 0.0


# binary_cross_entropy_with_logits_grad, sigmoid(x) - y. Each of (1 - y) sigmoid(x) and
# y sigmoid(-x) within 2.5u, their difference u: where their sum (sigma + y - 2 y sigma)
# is at most 2 |g|, within 6u. Closer (a soft label near sigmoid(x)): the sigmoid in
# double-double (exp_double within about 2**-100, then TwoSum/TwoProduct steps), minus y
# by TwoSum: within 6 ulp plus 2**-99 absolute (the sigmoid is at most 1).
LOGITS_GRADIENT_ULPS = 6


def test_logits_gradient_with_soft_labels_is_within_the_derived_bound_near_logit_y():
    """x near logit(y) (to 1e-6 and 1e-14), where the gradient cancels (17 ulp before on
    generic such points), and generic points; hard labels too."""
    rng = np.random.default_rng(32)
    n = 2000
    y = rng.uniform(0.0, 1.0, n)
    x = rng.normal(0.0, 4.0, n)
    near = np.log(y[:1000] / (1.0 - y[:1000]))
    x[:1000] = near + rng.normal(0.0, 1e-6, 1000) * np.where(rng.random(1000) < 0.5, 1.0, 1e-8)
    y[1900:] = np.round(y[1900:])
    gradient = losses.binary_cross_entropy_with_logits_grad(x, y, reduction="sum")
    with mpmath.workdps(60):
        for g, a, b in zip(gradient, x, y, strict=True):
            exact = 1 / (1 + mpmath.exp(-mpmath.mpf(a))) - mpmath.mpf(b)
            allowed = LOGITS_GRADIENT_ULPS * mpmath.mpf(np.spacing(abs(float(exact)))) + mpmath.mpf(2) ** -99
            assert abs(mpmath.mpf(g) - exact) <= allowed, (a, b)


def _exact_sparsemax(z: list[mpmath.mpf]) -> tuple[list[mpmath.mpf], mpmath.mpf]:
    ordered = sorted(z, reverse=True)
    total, k_best, s_best = mpmath.mpf(0), 1, ordered[0]
    for k, v in enumerate(ordered, start=1):
        total += v
        if 1 + k * v > total:
            k_best, s_best = k, total
    tau = (s_best - 1) / k_best
    return [max(v - tau, mpmath.mpf(0)) for v in z], tau


# sparsemax_loss and its gradient p - y, with z - tau in double-double (the shift, the sum
# over the support, the division: about 2**-100 of max(1, |z - max z|), so 2**-98 of it
# at most) and p - y by TwoSum: the gradient within an ulp plus that. The value,
# 0.5 sum (p - y)^2 + sum y max(tau - z, 0), adds non-negative terms: each gap 2u (its
# rounding, twice in the square), the square u, the C - 1 additions and the last
# addition: (C + 4)u, plus the gaps' absolute error times twice the largest gap.
@pytest.mark.parametrize("classes", [2, 5])
def test_sparsemax_loss_and_gradient_are_within_the_derived_bound_at_the_edge_of_the_support(classes: int):
    """Scores putting one entry within 1e-9 (or 1e-15) of the threshold ([[0.1,
    1.0999999990686775]] was 6e-8 off), and generic rows."""
    rng = np.random.default_rng(33)
    rows = 150
    z = rng.normal(size=(rows, classes))
    for row in range(rows // 2):  # move the runner-up to just inside the support's edge
        order = np.argsort(-z[row])
        gap = 1e-9 if row % 2 else 1e-15
        z[row, order[1]] = z[row, order[0]] - 1.0 + gap * rng.uniform(0.5, 1.0)
    labels = rng.integers(0, classes, rows)
    values = losses.sparsemax_loss(z, labels, reduction="none")
    gradient = losses.sparsemax_loss_grad(z, labels, reduction="sum")
    with mpmath.workdps(60):
        for row in range(rows):
            zs = [mpmath.mpf(v) for v in z[row]]
            p, tau = _exact_sparsemax(zs)
            y = [mpmath.mpf(1 if j == labels[row] else 0) for j in range(classes)]
            scale = max(1.0, float(max(abs(v - max(zs)) for v in zs)))
            absolute = mpmath.mpf(2) ** -98 * scale
            for j in range(classes):
                exact = p[j] - y[j]
                assert abs(mpmath.mpf(gradient[row, j]) - exact) <= mpmath.mpf(np.spacing(abs(float(exact)))) + absolute
            exact_value = sum((a - b) ** 2 for a, b in zip(p, y, strict=True)) / 2 + sum(
                b * max(tau - v, mpmath.mpf(0)) for v, b in zip(zs, y, strict=True))
            largest_gap = max(abs(a - b) for a, b in zip(p, y, strict=True))
            allowed = (classes + 4) * U * abs(exact_value) + 2 * largest_gap * absolute
            assert abs(mpmath.mpf(values[row]) - exact_value) <= allowed + mpmath.mpf(2) ** -1074, row
    with mpmath.workdps(60):
        p, tau = _exact_sparsemax([mpmath.mpf(0.1), mpmath.mpf(1.0999999990686775)])
        exact = p[0] ** 2 / 2 + (p[1] - 1) ** 2 / 2
    assert _relative(float(losses.sparsemax_loss([[0.1, 1.0999999990686775]], [1])), exact) <= 7
