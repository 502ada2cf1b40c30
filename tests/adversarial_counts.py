"""Adversarial inputs of the count, deviance, divergence and Gaussian losses (issue 15, item 5).

``CASES`` maps a loss to (arguments, options) pairs: inputs where the losses' formulas
cancel (a prediction at or beside the observation), overflow or underflow (means and
ratios beyond 2**+-500), or sit at a boundary of the domain (zero counts, variances at
``eps``), including every point issue 15 lists. ``tests/test_references.py`` checks the
value and the gradient on each against the loss's reference, within its budget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mp_namespace import exact
from neural_network import losses
from neural_network.losses._reference import REFERENCES

Case = tuple[tuple[np.ndarray, ...], dict[str, Any]]


def _a(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def _log(values: np.ndarray) -> np.ndarray:
    return np.log(values)


# Counts over many decades, and x = log(t) rounded (exp(x) within half an ulp of t x's partner).
_T = _a(1.0, 2.0, 3.0, 7.0, 10.0, 0.3, 1e-5, 123.0, 1e5, 1e10, 1e100, 1e300)
_T_CLOSE = _a(2.0, 3.0, 10.0, 1e5, 1e10, 1e100, 1e300)
# rates x with t = x / log(x + eps): x - t log(x + eps) cancels completely
_X_RATE = _a(2.0, 2.5, math.e, 5.0, 100.0, 1e6, 1e100, 1.5, 1.25)
_NEXT = np.nextafter
_EDGE_X = _a(709.0, 709.5, -710.0, -745.0, -740.0, 708.5, 707.9)
_BIG_X = _a(699.2605577778895, 695.0, 709.0, 700.5)


def _within_range(name: str, case: Case) -> Case:
    """The elements of an element-wise case whose exact value and gradient are finite in float64."""
    (mu, y), options = case
    reference = REFERENCES[getattr(losses, name).__name__]  # registered by importing the losses
    value, grad = exact(reference.value, mu, y, **options), exact(reference.grad, mu, y, **options)
    keep = np.array([abs(v) < 1.7e308 and abs(g) < 1.7e308 for v, g in zip(value, grad, strict=True)])
    return (mu[keep], y[keep]), options


def _balanced_rates(eps: float) -> tuple[np.ndarray, np.ndarray]:
    x = _X_RATE
    return x, x / np.log(x + eps)


# Relative offsets about the triple-length refinement's threshold (the terms cancelling to
# 2**-40 of their size): just outside it (double-double kept), just inside, and far inside.
_OFFSETS = _a(2.0**-36, 2.0**-39, 2.0**-39.9, -(2.0**-40.1), 2.0**-41, -(2.0**-46), 2.0**-60, -(2.0**-80))


def _near_threshold(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of ``x`` with ``t * (1 + offset)`` for each offset of ``_OFFSETS``."""
    offsets = np.repeat(_OFFSETS[None, :], x.size, axis=0)
    return np.repeat(x, _OFFSETS.size), (t[:, None] * (1.0 + offsets)).ravel()


def _poisson_nll() -> list[Case]:
    x_rate, t_rate = _balanced_rates(1e-8)
    return [
        # exp(x) - t x near its minimum: x = log t, and beside it by an ulp or 1e-9
        ((_log(_T), _T), {}),
        ((_NEXT(_log(_T_CLOSE), np.inf), _T_CLOSE), {}),
        ((_log(_T_CLOSE) * (1 + 1e-9), _T_CLOSE), {}),
        # exp(x) = t x: e^1 = e * 1, and x = 2, t = e^2 / 2 (the two terms cancel)
        ((_a(1.0, 2.0, 10.0, 0.5), _a(math.e, math.exp(2) / 2, math.exp(10) / 10, math.exp(0.5) / 0.5)), {}),
        # e^x within 2**-30 of t x with t beyond 2**996 (TwoProduct's range, unscaled)
        ((_BIG_X, np.exp(_BIG_X) / _BIG_X * (1 + _a(1e-9, -1e-9, 3e-10, 1e-6))), {}),
        # extreme arguments: exp(x) near the over- and underflow thresholds
        ((_a(709.0, 700.0, -745.0, -800.0, -700.0, 0.0, 5e-324), _a(1e300, 0.0, 0.0, 1e300, 1e-300, 0.0, 1.0)), {}),
        # Stirling's term (t > 1) with x = log t: the written form's terms cancel
        ((_log(_T), _T), {"full": True}),
        ((_a(0.0, 1.0, -3.0, 40.0), _a(1.0, 1.5, 1e-3, 1e15)), {"full": True}),
        # x - t log(x + eps): the two terms equal, x beside 1 (log small), x = 0 (log eps)
        ((x_rate, t_rate), {"log_input": False}),
        ((_a(1.0 + 2**-30, 1.0 - 2**-30, 1.0, 0.0, 1e-300, 1e300), _a(2**30, 2**30, 5.0, 5.0, 0.5, 1e298)),
         {"log_input": False}),
        ((x_rate, t_rate), {"log_input": False, "full": True}),
        # gradient 1 - t / (x + eps) cancelling: t = x + eps rounded, and beside it
        ((_a(3.0, 0.25, 1e-8, 1e5, 7.0), _a(3.00000001, 0.25000001, 2e-8, 1e5 + 1e-8, _NEXT(7.00000001, 0))),
         {"log_input": False}),
        # e^x - t x and x - t log(x + eps) cancelling about the threshold (2**-40 of the
        # terms) beyond which they are formed in triple length, also with t beyond 2**996
        (_near_threshold(_a(0.5, 1.0, 2.0, 10.0, 300.0), np.exp(_a(0.5, 1.0, 2.0, 10.0, 300.0)) / _a(0.5, 1.0, 2.0, 10.0, 300.0)),
         {}),
        (_near_threshold(_BIG_X[:2], np.exp(_BIG_X[:2]) / _BIG_X[:2]), {}),
        (_near_threshold(x_rate[[0, 2, 4, 7]], t_rate[[0, 2, 4, 7]]), {"log_input": False}),
    ]


def _poisson_loss() -> list[Case]:
    x_rate, t_rate = _balanced_rates(1e-7)
    return [
        # x - t log(x + 1e-7): the terms equal, x beside 1, x = 0
        ((x_rate, t_rate), {}),
        ((_a(1.0 + 2**-30, 1.0 - 2**-30, 1.0, 0.0, 1e-300, 1e300), _a(2**30, 2**30, 5.0, 5.0, 0.5, 1e298)), {}),
        # gradient 1 - t / (x + 1e-7) near 0
        ((_a(3.0, 0.25, 1e-7, 7.0), _a(3.0000001, 0.2500001, 2e-7, _NEXT(7.0000001, 0))), {}),
        # x - t log(x + 1e-7) cancelling about the triple-length threshold
        (_near_threshold(x_rate[[1, 3, 5, 8]], t_rate[[1, 3, 5, 8]]), {}),
    ]


def _generalized_kl() -> list[Case]:
    return [
        # exp(x) = t: the divergence's minimum, and an ulp beside it
        ((_log(_T), _T), {}),
        ((_NEXT(_log(_T_CLOSE), -np.inf), _T_CLOSE), {}),
        ((_log(_T_CLOSE) + 1e-9, _T_CLOSE), {}),
        # the gradient e^x - t near its zero at the ends of exp's range (table, double-double, subnormal)
        ((_EDGE_X, np.exp(_EDGE_X) * _a(1.3, 0.8, 1.2, 1.0, 0.7, 1.1, 1.0 + 2**-20)), {}),
        # extremes: exp(x) over- and underflowing, t far from exp(x), t = 0
        ((_a(700.0, -700.0, -745.0, 709.0, 0.0, -1e3, 3.0), _a(1e300, 1e-300, 0.0, 1e-300, 5e-324, 1.0, 0.0)), {}),
    ]


def _kl_div() -> list[Case]:
    t = _a(0.3, 0.5, 0.1, 1e-5, 0.9, 1.0, 1e-300, 0.7)
    log_t = _log(t)
    t_far = _a(0.3, 0.9, 1e-5, 1e-300, 5e-324)
    return [
        # issue 15: kl_div(log(0.3), 0.3) is 2.68e-17 (x is log t rounded), not 0
        ((log_t, t), {}),
        ((_NEXT(log_t, -np.inf), t), {}),
        ((_a(-1e300, -700.0, 0.0, -1e-300), _a(1.0, 0.5, 0.0, 1.0)), {}),
        # log t - x about the triple-length threshold (|value| < t 2**-40), also for t
        # beyond 2**-512 (log t scaled) and subnormal
        ((np.repeat(_log(t_far), _OFFSETS.size) - np.tile(_OFFSETS, t_far.size), np.repeat(t_far, _OFFSETS.size)), {}),
        # log_target: exp(t) (t - x), t = x and an ulp beside it
        ((log_t, log_t), {"log_target": True}),
        ((log_t, _NEXT(log_t, -np.inf)), {"log_target": True}),
        ((_a(-1e300, -3.0, 0.0), _a(-700.0, -745.0, 0.0)), {"log_target": True}),
    ]


def _gaussian_near_threshold(v: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, ...]:
    """``x = d (1 + offset)``, ``t = 0`` and ``v`` for each offset of ``_OFFSETS``."""
    x = np.repeat(d, _OFFSETS.size) * (1.0 + np.tile(_OFFSETS, d.size))
    return x, np.zeros_like(x), np.repeat(v, _OFFSETS.size)


def _gaussian_nll() -> list[Case]:
    v = _a(0.5, 0.25, 0.1, 1e-3, 0.99, 1e-6, 0.9)
    d = np.sqrt(-v * np.log(v))  # log v + d^2 / v = 0
    v_full = _a(0.05, 0.025, 0.01, 1e-4, 0.099, 1e-200, 1e200)[:5]
    zeros = np.zeros_like(v)
    return [
        # issue 15: gaussian_nll_loss(0, 0, 1 / (2 pi), full=True) is 3.09e-17
        ((_a(0.0), _a(0.0), _a(1 / (2 * math.pi))), {"full": True}),
        ((zeros, zeros, np.full_like(v, 1 / (2 * math.pi)) * (1 + np.arange(7) * 2**-50)), {"full": True}),
        # log v + d^2 / v cancelling, with and without the constant
        ((d, zeros, v), {}),
        ((d + 0.75, zeros + 0.75, v), {}),
        # log v + d^2 / v cancelling about the triple-length threshold (2**-40 of the parts)
        (_gaussian_near_threshold(v, d), {}),
        (_gaussian_near_threshold(v_full, np.sqrt(-v_full * (np.log(v_full) + math.log(2 * math.pi)))), {"full": True}),
        # var beside 1: the value is 0.5 log v, tiny
        ((zeros, zeros, _a(1 + 2**-40, 1 - 2**-40, 1.0, 1 + 2**-20, 1 - 1e-10, 1.5, 0.75)), {}),
        # the gradient by var, (1 - d^2 / v) / (2 v), cancelling: d^2 = v and beside it
        ((np.sqrt(v), zeros, v), {}),
        ((np.sqrt(v) * (1 + 1e-9), zeros, v), {}),
        ((_a(1.0, 3.0, 1e-3), _a(0.0, 1.0, 0.0), _a(1 + 2**-30, 4 - 2**-40, 1e-6 + 1e-15)), {}),
        # extremes: huge differences and variances
        ((_a(1e150, 1e100, 0.0, 1e160, 3e151), _a(-1e150, 0.0, 1e-300, 0.0, 0.0), _a(1e300, 1e200, 1e-6, 1e300, 9e302)),
         {}),
    ]


def _tweedie() -> list[Case]:
    mu = _a(0.2, 1.0, 3.0, 1e-5, 1e10, 7.0)
    close = mu * (1 + 2**-40)
    cases: list[Case] = [
        # issue 15: tweedie_deviance(1e155, 1, power=3) is 1.0 exactly (to an ulp)
        ((_a(1e155), _a(1.0)), {"power": 3.0}),
        # issue 15: power 10, mu 4.74e231, y 0.5: 7.111...
        ((_a(4.74e231), _a(0.5)), {"power": 10.0}),
        # issue 15: the gradient at mu 7.41e261, y 2.67e284, power 1.5: -8.37e-109
        ((_a(7.41e261), _a(2.67e284)), {"power": 1.5}),
    ]
    for power in (0.0, 1.0, 1.5, 2.0, 3.0, 1.9999999, 10.0, -1.0, 1.0000001, 1.3):
        positive_y = power >= 2.0
        y_far = _a(5.0, 0.1, 1e3, 1e-3, 1e5, 2.0 if positive_y else 0.0)
        cases += [
            # the deviance's zero (mu = y) and beside it, where its three terms cancel
            ((mu, mu), {"power": power}),
            ((mu, close), {"power": power}),
            ((mu, mu * 1.1), {"power": power}),
            ((mu, mu * 0.7), {"power": power}),
            ((_a(0.5, 2.0, 1.0, 1e3, 1e-3, 3.0), y_far), {"power": power}),
        ]
        # means and ratios beyond 2**+-500 (those whose deviance and gradient are finite)
        extreme = _a(1e-300, 1e300, 1e200, 1e-200, 1e155, 1e300, 1e-300, 4.74e231, 7.41e261, 1e-100, 1e100)
        target = _a(1e300, 1e-300, 1.5e200, 1e-200, 1.0, 1e300, 1e-300, 0.5, 2.67e284, 3e-100, 1.0)
        cases.append(_within_range("tweedie_deviance", ((extreme, target), {"power": power})))
    return cases


def _poisson_deviance() -> list[Case]:
    mu = _a(0.2, 1.0, 3.0, 1e-5, 1e10, 7.0)
    return [
        ((mu, mu), {}),
        ((mu, mu * (1 + 2**-40)), {}),
        ((mu, mu * 1.5), {}),  # |v| = 1/5: the series
        ((mu, mu * 2.5), {}),  # beyond the series' range, still cancelling
        ((_a(1e-300, 1e300, 2.0, 5e-324, 1e155), _a(1e300, 1e-300, 0.0, 1.0, 1.0)), {}),
    ]


def _gamma_deviance() -> list[Case]:
    mu = _a(0.2, 1.0, 3.0, 1e-5, 1e10, 7.0)
    return [
        ((mu, mu), {}),
        ((mu, mu * (1 + 2**-40)), {}),
        ((mu, mu * 1.5), {}),
        ((mu, mu * 2.5), {}),
        ((_a(1e-300, 1e300, 1.0, 1e155), _a(1e300, 1e-300, 5e-324, 1.0)), {}),
    ]


CASES: dict[str, list[Case]] = {
    "poisson_nll_loss": _poisson_nll(),
    "poisson_loss": _poisson_loss(),
    "generalized_kl_divergence": _generalized_kl(),
    "kl_div": _kl_div(),
    "gaussian_nll_loss": _gaussian_nll(),
    "tweedie_deviance": _tweedie(),
    "poisson_deviance": _poisson_deviance(),
    "gamma_deviance": _gamma_deviance(),
}
