"""Probabilistic losses: Poisson, Gaussian NLL, KL divergences and the Tweedie deviances.

Expected values come from PyTorch (values and autograd gradients), scikit-learn and
mpmath, never from this package's own output.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import torch
from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance, mean_tweedie_deviance
from torch.nn import functional

from neural_network import losses
from neural_network.errors import InvalidOptionError, OutOfRangeError, ShapeMismatchError

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)

# Error model for the ulp bounds below: u = 2**-53; a correctly rounded operation is within
# u relative, a libm function (exp, log, log1p, expm1, pow) within 2u (1 ulp), and k u
# relative is within k ulp; errors propagate through condition numbers. The double-double
# and table-driven paths of losses/distributions/_deviance.py and losses/distributions/_tweedie.py add only their documented bounds.


def torch_value_and_grads(fn, arrays, grad_positions, **kwargs):
    tensors = [torch.tensor(a, requires_grad=i in grad_positions) for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # functional.kl_div warns about reduction="mean"
        value = fn(*tensors, **kwargs)
    value.sum().backward()
    return value.detach().numpy(), [tensors[i].grad.numpy() for i in grad_positions]


def close(ours, expected, dtype):
    # PyTorch computes float32 in float32 (its terms cancel: errors of an ulp of the larger
    # term); this package in float64, rounded once.
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    scale = max(1.0, float(np.max(np.abs(expected))))
    atol = rtol * scale if dtype == np.float32 else 1e-15 * scale
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- PyTorch parity


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("log_input", "full"), [(True, False), (True, True), (False, False), (False, True)])
def test_poisson_nll_loss_matches_torch(dtype, reduction, log_input, full):
    rng = np.random.default_rng(0)
    y = rng.poisson(3.0, 200).astype(dtype)
    y[:5] = 0
    x = (rng.normal(size=200) if log_input else rng.random(200) * 5).astype(dtype)
    if not log_input:
        x[:3] = 0.0
    options = {"log_input": log_input, "full": full}
    expected, (g,) = torch_value_and_grads(functional.poisson_nll_loss, (x, y), (0,), reduction=reduction, **options)
    ours = losses.poisson_nll_loss(x, y, reduction=reduction, **options)
    grad = losses.poisson_nll_loss_grad(x, y, reduction=reduction, **options)
    assert np.asarray(ours).dtype == dtype and grad.dtype == dtype and grad.shape == x.shape
    close(ours, expected, dtype)
    close(grad, g, dtype)


def test_poisson_nll_loss_large_input_is_finite_where_the_value_is():
    x = np.array([710.0, 720.0, 800.0, 1e300])
    t = np.array([float(mpmath.exp(710) / 710 * (1 - mpmath.mpf(1e-3))), 1e300, 1e308, 1e308])
    values = losses.poisson_nll_loss(x, t, reduction="none")
    exact = float(mpmath.exp(710) - mpmath.mpf(t[0]) * 710)
    # exp(x - S) (1 + e): exp 2u, the constant u, the product u; t x u: 5u of e^x, which
    # is 1000 times the value (t x cancels 0.999 of it), and the difference u: 5001u < 6e-13.
    assert values[0] == pytest.approx(exact, rel=1e-12)
    assert np.isposinf(values[1:]).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(6, 4), (6,), (6, 1), (1, 4)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss_matches_torch(dtype, reduction, var_shape, full):
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(6, 4)).astype(dtype), rng.normal(size=(6, 4)).astype(dtype)
    var = (rng.random(var_shape) + 0.05).astype(dtype)
    var.reshape(-1)[0] = 1e-9  # below eps: clamped, and PyTorch's gradient is taken at eps
    expected, (gx, gv) = torch_value_and_grads(functional.gaussian_nll_loss, (x, t, var), (0, 2), reduction=reduction, full=full)
    ours = losses.gaussian_nll_loss(x, t, var, reduction=reduction, full=full)
    g_input, g_var = losses.gaussian_nll_loss_grad(x, t, var, reduction=reduction, full=full)
    assert g_input.shape == x.shape and g_var.shape == var.shape and g_var.dtype == dtype
    close(ours, expected, dtype)
    close(g_input, gx, dtype)
    close(g_var, gv, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ("batchmean", *REDUCTIONS))
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(dtype, reduction, log_target):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(8, 5)) * 3
    x = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(dtype)
    p = rng.dirichlet(np.ones(5), 8)
    p[0, :2] = 0.0
    # zeros in the target; with log_target, tiny probabilities (PyTorch gives NaN for -inf)
    y = (np.log(np.where(p > 0, p, 1e-30)) if log_target else p).astype(dtype)
    expected, (g,) = torch_value_and_grads(functional.kl_div, (x, y), (0,), reduction=reduction, log_target=log_target)
    ours = losses.kl_div(x, y, reduction=reduction, log_target=log_target)
    grad = losses.kl_div_grad(x, y, reduction=reduction, log_target=log_target)
    assert np.asarray(ours).dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(np.asarray(ours, float), expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-12)
    close(grad, g, dtype)


def test_kl_div_zero_target_with_minus_infinity_input_is_zero():
    assert float(losses.kl_div([[0.0, -np.inf]], [[1.0, 0.0]], reduction="sum")) == 0.0
    assert np.isposinf(losses.kl_div([[-np.inf]], [[1.0]], reduction="sum"))


# --------------------------------------------------------------------------- scikit-learn and references


@pytest.mark.parametrize("power", [0, 1, 2, 1.5, 3, -1, 1.2])
def test_tweedie_deviance_matches_scikit_learn_with_weights(power):
    rng = np.random.default_rng(3)
    mu = np.exp(rng.normal(size=300))
    y = mu * np.exp(rng.normal(size=300))
    if 0 <= power < 2 and power != 0:
        y[:10] = 0.0
    if power <= 0:
        y[:10] = -y[:10]
    w = rng.random(300)
    expected = mean_tweedie_deviance(y, mu, power=power, sample_weight=w)
    assert float(losses.tweedie_deviance(mu, y, power=power, sample_weight=w)) == pytest.approx(expected, rel=1e-13)
    if power == 1:
        assert float(losses.poisson_deviance(mu, y, sample_weight=w)) == pytest.approx(
            mean_poisson_deviance(y, mu, sample_weight=w), rel=1e-13)
    if power == 2:
        assert float(losses.gamma_deviance(mu, y, sample_weight=w)) == pytest.approx(
            mean_gamma_deviance(y, mu, sample_weight=w), rel=1e-13)


def _exact_deviance(power, mu, y):
    if mu == y:
        return mpmath.mpf(0)
    mu, y = mpmath.mpf(mu), mpmath.mpf(y)
    if power == 1:
        return 2 * ((y * mpmath.log(y / mu) if y > 0 else 0) - y + mu)
    if power == 2:
        return 2 * (mpmath.log(mu / y) + y / mu - 1)
    a, b = 1 - mpmath.mpf(power), 2 - mpmath.mpf(power)
    return 2 * ((y**b if y > 0 else 0) / (a * b) - y * mu**a / a + mu**b / b)


def ulps(ours: float, exact) -> float:
    e = float(exact)
    if e == 0:
        return 0.0 if ours == 0 else math.inf
    return abs(ours - e) / math.ulp(e)


# Poisson (power 1), |v| <= 1/3: v d 3u, 2 y T(v) 9.5u (T cancels v d by at most a factor
# 1.4), the sum u: 5.1u; beyond, y log(y / mu) - d: the log 2u, + r / y u, * y u, d u where
# y > 2 mu, the difference u, the terms cancelling by up to 4.6 (y / mu just above 2): 17.9u.
# Gamma (power 2): near, v (d / mu) 4u against 2 T(v) 8.5u: 6.1u; beyond, (q - 1) - log q
# with log q 3u, cancelling by up to 3.6 (q = 1/2), and 2u: 12.8u.
# Other powers, near y = mu: mu^b (pow 2u) x^2 (u) h(x), two products 2u, h by Horner
# (its first-order bound, max over |x| <= 1/4, H below) and the added tail term u:
# 6u + H; the table-driven and double-double forms 3.5u and 4u (pow 2u, two roundings);
# y = 0: (2 / b) mu^b 4u; y < 0: -y mu^a / a + mu^b / b 5u.
HORNER = {1.5: 2.6, 1.2: 2.5, 1.01: 2.4, 1.99: 2.8, 2.5: 3.1, 3: 3.4, 5: 4.8, 10: 12.0,
          -0.5: 2.2, -1: 2.4, -3: 3.3, 1.8: 2.8}


def deviance_bound(power):
    """The derived bound, in ulp, of each element of ``tweedie_deviance`` (see above)."""
    if power in (1, 2):
        return {1: 18, 2: 13}[power]
    return math.ceil(2 * (6 + HORNER[power])) / 2


@pytest.mark.parametrize("power", [1, 2, 1.5, 3, -1])
def test_deviances_are_accurate_also_where_mu_is_close_to_y(power):
    bound = deviance_bound(power)
    rng = np.random.default_rng(4)
    mu = np.exp(rng.uniform(-5, 5, 300))
    y = mu * np.exp(rng.normal(size=300) * np.where(rng.random(300) < 0.5, 1e-7, 1.0))
    with mpmath.workdps(60):
        values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
        worst = max(ulps(float(v), _exact_deviance(power, m, t)) for v, m, t in zip(values, mu, y, strict=True))
    assert worst <= bound


@pytest.mark.parametrize("power", [1.5, 1.2, 1.01, 1.99, 2.5, 3, 5, 10, -0.5, -1, -3])
def test_general_power_deviances_are_within_the_derived_bound_where_mu_is_close_to_y(power):
    # |y / mu - 1| <= 1/8: the binomial series in x = y / mu - 1, x in double-double
    rng = np.random.default_rng(5)
    mu = np.exp(rng.uniform(-5, 5, 400))
    y = mu * (1.0 + rng.uniform(-0.125, 0.125, 400) * np.where(rng.random(400) < 0.5, 1e-9, 1.0))
    with mpmath.workdps(60):
        values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
        worst = max(ulps(float(v), _exact_deviance(power, m, t)) for v, m, t in zip(values, mu, y, strict=True))
    assert worst <= deviance_bound(power)


def _worst_ulps(values, exact) -> float:
    return max(ulps(float(v), e) for v, e in zip(values, exact, strict=True))


def _near(rng, base, k, n):
    """``base (1 +- 10**-k u)``, u uniform in [1/2, 1]: a ratio 1 +- 10**-k, both signs."""
    return base * (1.0 + rng.choice([-1.0, 1.0], n) * 10.0**-k * rng.uniform(0.5, 1.0, n))


def _log_uniform(rng, low, high, n):
    return np.exp(rng.uniform(math.log(low), math.log(high), n))


DEVIANCE_REGIONS = ("log-uniform", "ratio e^N(0,1)", "1e-1", "1e-2", "1e-4", "1e-8", "1e-12", "|x| in [1/8, 0.7]")


def _deviance_region(rng, region, n):
    if region == "log-uniform":  # mu and y independent over 12 decades: ratios up to 1e12
        return _log_uniform(rng, 1e-6, 1e6, n), _log_uniform(rng, 1e-6, 1e6, n)
    mu = _log_uniform(rng, 1e-6, 1e6, n)
    if region == "ratio e^N(0,1)":
        return mu, mu * np.exp(rng.normal(size=n))
    if region.startswith("|x|"):  # beyond the binomial series, where the terms cancel most
        return mu, mu * (1.0 + rng.choice([-1.0, 1.0], n) * rng.uniform(0.125, 0.7, n))
    return mu, _near(rng, mu, int(region[3:]), n)


@pytest.mark.parametrize("region", DEVIANCE_REGIONS)
@pytest.mark.parametrize("power", [-1, -0.5, 1.2, 1.5, 1.8, 1.99, 2.5, 3, 10])
def test_general_power_deviances_are_within_the_derived_bound_everywhere(power, region):
    rng = np.random.default_rng([6, DEVIANCE_REGIONS.index(region), int(power * 100) % 1000])
    mu, y = _deviance_region(rng, region, 150)
    with mpmath.workdps(60):
        values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
        assert _worst_ulps(values, [_exact_deviance(power, m, t) for m, t in zip(mu, y, strict=True)]) <= deviance_bound(power)


@pytest.mark.parametrize("power", [-1, -0.5, 1.2, 1.5, 1.8, 1.99])
def test_general_power_deviances_at_zero_and_negative_targets_are_within_the_derived_bound(power):
    # y = 0: 2 mu^b / b; y < 0 (power <= 0 only): 2 (-y mu^a / a + mu^b / b)
    rng = np.random.default_rng(7)
    mu = _log_uniform(rng, 1e-6, 1e6, 200)
    y = np.zeros(200)
    if power < 0:
        y[100:] = -_log_uniform(rng, 1e-6, 1e6, 100)
    with mpmath.workdps(60):
        values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
        # y = 0: pow 2u, 2 / b u, the product u; y < 0: pow 2u, * -y and / a 2u, mu^b / b
        # 3u, the sum of the two (both >= 0) u: 5u
        assert _worst_ulps(values, [_exact_deviance(power, m, t) for m, t in zip(mu, y, strict=True)]) <= 5


def _exact_generalized_kl(x, t):
    x, t = mpmath.mpf(x), mpmath.mpf(t)
    return (t * mpmath.log(t) if t > 0 else 0) - t * x - t + mpmath.exp(x)


# The table-driven value: f within 2**-11.78 (e^w + 1) / f <= 0.58 ulp, and two roundings
# 2u: 2.6u. Double-double near e^x = t: (y - mu)^2 / (y + mu) 2u, 2 y T(v) (|v| < 0.03, 1%
# of it) 0.1u, the sum u: 3.1u. Double-double beyond |v| = 0.8 (only with |x| > 700, t
# beyond 2**+-1000 or |w| > 600): as Poisson's far form, cancelling by up to 1.7: 8.4u.
KL_ULPS = 3.5
KL_FAR_ULPS = 8.5

KL_REGIONS = ("x ~ N(0, 5)", "x = log t + N(0, 1)", "1e-2", "1e-4", "1e-8", "1e-12", "t = 0", "extreme x")


@pytest.mark.parametrize("region", KL_REGIONS)
def test_generalized_kl_divergence_is_within_the_derived_bound(region):
    """t log(t / e^x) - t + e^x, near its minimum (e^x = t) too, where its terms cancel."""
    rng = np.random.default_rng([8, KL_REGIONS.index(region)])
    t = _log_uniform(rng, 1e-6, 1e6, 200)
    if region == "x ~ N(0, 5)":
        x = rng.normal(size=200) * 5
    elif region == "x = log t + N(0, 1)":
        x = np.log(t) + rng.normal(size=200)
    elif region == "t = 0":
        x, t = rng.normal(size=200) * 50, np.zeros(200)
    elif region == "extreme x":  # scaled by 2**600 or 2**-64 inside: e^x beyond the normal range
        x = np.concatenate([rng.uniform(-1000, -650, 100), rng.uniform(700, 709.7, 100)])
        t = np.exp(np.minimum(x + rng.normal(size=200) * np.where(rng.random(200) < 0.5, 1e-6, 1.0), 709.0))
    else:
        x = np.log(t) + rng.choice([-1.0, 1.0], 200) * 10.0 ** -int(region[3:]) * rng.uniform(0.5, 1.0, 200)
    with mpmath.workdps(60):
        values = losses.generalized_kl_divergence(x, t, reduction="none")
        bound = KL_FAR_ULPS if region == "extreme x" else KL_ULPS  # |x| > 700 and t/e^x up to e^3
        assert _worst_ulps(values, [_exact_generalized_kl(a, b) for a, b in zip(x, t, strict=True)]) <= bound


def test_generalized_kl_divergence_is_within_the_derived_bound_where_the_fast_path_hands_over():
    """|x - log t| around 0.045, where (e^w + 1) / f(w) crosses 2**11: on one side the
    table-driven path (within 2.1 ulp by its bound), on the other double-double."""
    from neural_network.losses import _table_kernels

    rng = np.random.default_rng(11)
    t = np.concatenate([_log_uniform(rng, 1e-6, 1e6, 150), rng.poisson(3.0, 50) + 2.0])
    x = np.log(t) + rng.choice([-1.0, 1.0], 200) * rng.uniform(0.03, 0.06, 200)
    accepted = _table_kernels.deviance_of_exp(np, x, t)[1]
    assert 0.2 < accepted.mean() < 0.8  # both sides of the threshold are tested
    with mpmath.workdps(60):
        values = losses.generalized_kl_divergence(x, t, reduction="none")
        assert _worst_ulps(values, [_exact_generalized_kl(a, b) for a, b in zip(x, t, strict=True)]) <= KL_ULPS
        nll = losses.poisson_nll_loss(x, t, full=True, reduction="none")
        assert _worst_ulps(nll, [_exact_poisson_nll(a, b, True) for a, b in zip(x, t, strict=True)]) <= NLL_FULL_ULPS


def test_generalized_kl_divergence_is_within_the_derived_bound_at_the_edges_of_the_fast_path():
    """t = 0, t near 2**+-1000, |x| near 700 and |x - log t| near 600: the fast path's limits."""
    rng = np.random.default_rng(12)
    near = rng.normal(size=20)
    x = np.concatenate([
        [-700.5, -699.5, -1e-300, 0.0, 5e-324, 3.0, 699.5, 700.5, 709.5],  # t = 0: e^x
        1000 * math.log(2) + near, -1000 * math.log(2) + near,  # t = 2**1000, 2**-1000
        rng.uniform(699.0, 701.0, 20), rng.uniform(-701.0, -699.0, 20),  # t = e^x (1 + 1e-3 N(0, 1))
        rng.uniform(-461.0, -459.0, 20) + 600.0,  # t = 1e-200: x - log t = 600 +- 1
    ])
    t = np.concatenate([
        np.zeros(9), np.full(20, 2.0**1000), np.full(20, 2.0**-1000) * (1 + 2.0**-52),
        np.exp(x[49:89]) * (1 + 1e-3 * rng.normal(size=40)), np.full(20, 1e-200),
    ])
    t[[9, 29]] = [2.0**1000 * (1 - 2.0**-53), 2.0**-1000 * (1 - 2.0**-53)]  # just inside
    with mpmath.workdps(60):
        values = losses.generalized_kl_divergence(x, t, reduction="none")
        # |w| = 600 +- 1 and t = 0 aside (far apart: 2u; e^x rounded once: u), KL_ULPS
        assert _worst_ulps(values, [_exact_generalized_kl(a, b) for a, b in zip(x, t, strict=True)]) <= KL_ULPS


def _exact_poisson_nll(x, t, full):
    x, t = mpmath.mpf(x), mpmath.mpf(t)
    value = mpmath.exp(x) - t * x
    if full and t > 1:
        value += t * mpmath.log(t) - t + mpmath.log(2 * mpmath.pi * t) / 2
    return value


# exp(x) - t x kept from libm only where e^x and t x are more than a factor 3 apart: for
# e^x >= 3 t x, v >= 2 e^x / 3, so exp's ulp <= 2 ulp(v), t x's half-ulp <= ulp(v) / 2 and
# the difference's ulp(v) / 2: 3 ulp; for t x >= 3 e^x, 2.5; for t x <= 0, 2. Else the
# table-driven value (1.5 ulp) or double-double (about 1). full=True, t > 1: the KL part (KL_ULPS, at most 3.5u) plus
# log(2 pi t) / 2 (2 pi t u through log, <= 0.4u, log 2u), both >= 0, and the sum u: 4.5u.
NLL_ULPS = 3.5
NLL_FULL_ULPS = 4.5

NLL_REGIONS = ("counts", "log-uniform", "1e-2", "1e-4", "1e-8", "1e-12")


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("region", NLL_REGIONS)
def test_poisson_nll_loss_with_log_input_is_within_the_derived_bound(region, full):
    """exp(x) - t x where the two terms cancel: x near a root of e^x = t x (t > e)."""
    rng = np.random.default_rng([9, NLL_REGIONS.index(region)])
    if region == "counts":
        x, t = rng.normal(size=200) * 2, rng.poisson(3.0, 200).astype(float)
    elif region == "log-uniform":
        x, t = rng.uniform(0, 20, 200), _log_uniform(rng, 1.0, 1e6, 200)
    else:
        t = _log_uniform(rng, 5.0, 1e6, 200)
        with mpmath.workdps(30):  # the larger root, then its smaller one for every other t
            roots = [float(mpmath.findroot(lambda z, c=c: mpmath.exp(z) - c * z, math.log(c * math.log(c)) + 0.5))
                     for c in t]
            roots[::2] = [float(mpmath.findroot(lambda z, c=c: mpmath.exp(z) - c * z, 1.0 / c)) for c in t[::2]]
        x = _near(rng, np.array(roots), int(region[3:]), 200)
    with mpmath.workdps(60):
        values = losses.poisson_nll_loss(x, t, full=full, reduction="none")
        bound = NLL_FULL_ULPS if full else NLL_ULPS
        assert _worst_ulps(values, [_exact_poisson_nll(a, b, full) for a, b in zip(x, t, strict=True)]) <= bound


def _ratio_targets(rng, x, low, high):
    """``t`` with ``e^x / (t x)`` log-uniform in [low, high], either side of 1."""
    ratio = _log_uniform(rng, low, high, x.size) ** rng.choice([-1.0, 1.0], x.size)
    return np.exp(x) / (x * ratio)


def test_poisson_nll_loss_is_within_the_derived_bound_where_the_plain_value_hands_over():
    """e^x and t x within a factor 1.5 to 6: around the factor 3 beyond which the libm
    value exp(x) - t x is kept, and the table-driven value within it."""
    rng = np.random.default_rng(13)
    x = np.concatenate([rng.uniform(0.05, 30.0, 250), rng.normal(size=50) * 3])
    t = np.concatenate([_ratio_targets(rng, x[:250], 1.5, 6.0), rng.poisson(3.0, 50).astype(float)])
    e, p = np.exp(x), t * x
    assert 0.2 < ((e < 3 * p) & (p < 3 * e)).mean() < 0.8  # both sides of the factor are tested
    with mpmath.workdps(60):
        values = losses.poisson_nll_loss(x, t, reduction="none")
        assert _worst_ulps(values, [_exact_poisson_nll(a, b, False) for a, b in zip(x, t, strict=True)]) <= NLL_ULPS


def test_poisson_nll_loss_is_within_the_derived_bound_where_the_medium_path_hands_over():
    """e^x / (t x) = 1 +- 2**-14 to 2**-12, where (e^x + t x) / |e^x - t x| crosses 2**14:
    on one side the table-driven exp with t x exact, on the other double-double."""
    from neural_network.losses import _table_kernels

    rng = np.random.default_rng(14)
    x = np.concatenate([rng.uniform(0.05, 3.0, 100), rng.uniform(3.0, 700.0, 100)])
    t = _ratio_targets(rng, x, 1.0 + 2.0**-14, 1.0 + 2.0**-12)
    accepted = _table_kernels.exp_minus_product(np, x, t)[1]
    assert 0.2 < accepted.mean() < 0.8  # both sides of the threshold are tested
    with mpmath.workdps(60):
        values = losses.poisson_nll_loss(x, t, reduction="none")
        assert _worst_ulps(values, [_exact_poisson_nll(a, b, False) for a, b in zip(x, t, strict=True)]) <= NLL_ULPS


@pytest.mark.parametrize("power", [1.05, 1.95])
def test_general_power_deviances_are_within_the_derived_bound_where_the_medium_path_hands_over(power):
    """|y / mu - 1| in [1/4, 0.7] for powers near 1 and 2, where the terms of
    q^b - b q + a cancel by about 2**9: on one side the table-driven log and exp
    (within 2 ulp by their bound), on the other double-double."""
    from neural_network.losses import _table_kernels
    from neural_network.losses.distributions import _deviance, _tweedie

    rng = np.random.default_rng([15, int(power * 100)])
    mu = _log_uniform(rng, 1e-6, 1e6, 200)
    y = mu * (1.0 + rng.choice([-1.0, 1.0], 200) * rng.uniform(0.25, 0.7, 200))
    q, _, q_error = _deviance.deviance_quotient(np, y, mu)
    constants = _tweedie._tweedie_table_constants(power)
    accepted = _table_kernels.tweedie_terms(np, q, q_error, mu ** (2 - power), constants)[1]
    assert 0.2 < accepted.mean() < 0.8  # both sides of the threshold are tested
    with mpmath.workdps(60):
        values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
        # table-driven 3.5u (S 0.25u, pow 2u, one rounding u), double-double 4u
        assert _worst_ulps(values, [_exact_deviance(power, m, t) for m, t in zip(mu, y, strict=True)]) <= 4


def test_double_double_exp_and_log_are_accurate_to_2_to_the_minus_95():
    """The constants of exp_double's reduction, and its results, recomputed with mpmath."""
    from neural_network import _numerics

    with mpmath.workprec(300):
        step = mpmath.log(2) / 2**15
        assert abs(sum(mpmath.mpf(c) for c in _numerics.EXP_STEP) / step - 1) < mpmath.mpf(2) ** -105
        assert all(float(c) == float(mpmath.mpf(c)) and (mpmath.mpf(c) / 2 ** (mpmath.floor(mpmath.log(abs(c), 2)) - 26)) % 1 == 0
                   for c in _numerics.EXP_STEP[:2])  # at most 27 bits: n c is exact for n < 2**26
        assert abs(mpmath.mpf(_numerics.LN2[0]) + _numerics.LN2[1] - mpmath.log(2)) < mpmath.mpf(2) ** -105
        high, low = _numerics.exp_table()
        for j in (0, 1, 127, 128, 4097, 32767):
            exact = mpmath.mpf(2) ** (mpmath.mpf(j) / 2**15)
            assert abs((mpmath.mpf(high[j]) + low[j]) / exact - 1) < mpmath.mpf(2) ** -104
        rng = np.random.default_rng(10)
        x = np.concatenate([rng.uniform(-650, 709.7, 400), rng.normal(size=200), [0.0, 1e-300, -1e-20]])
        x_error = rng.uniform(-0.5, 0.5, x.size) * np.spacing(x)
        h, lo = _numerics.exp_double(np, x, x_error)
        worst = max(abs((mpmath.mpf(a) + b) / mpmath.exp(mpmath.mpf(c) + d) - 1) for a, b, c, d in zip(h, lo, x, x_error, strict=True))
        assert worst < mpmath.mpf(2) ** -95
        y = np.concatenate([np.exp(rng.uniform(-744, 709, 400)), [5e-324, 1.0, 2.0**512, 1.7976931348623157e308]])
        h, lo = _numerics.log_double(np, y)
        worst = max(abs(mpmath.mpf(a) + b - mpmath.log(c)) / max(1, abs(mpmath.log(c))) for a, b, c in zip(h, lo, y, strict=True))
        assert worst < mpmath.mpf(2) ** -95


def test_triple_length_exp_and_log_are_accurate_to_2_to_the_minus_147():
    """exp_triple's and log_triple's constants and results, and SumK's sums, against mpmath."""
    from neural_network import _triple

    with mpmath.workprec(400):
        step, ln2, table = _triple.triple_constants()
        exact_step = mpmath.log(2) / 2**15
        assert abs(sum(mpmath.mpf(c) for c in step) / exact_step - 1) < mpmath.mpf(2) ** -158
        assert all((mpmath.mpf(c) / 2 ** (mpmath.floor(mpmath.log(abs(c), 2)) - 26)) % 1 == 0
                   for c in step[:4])  # at most 27 bits: n c is exact for n < 2**26
        assert abs(sum(mpmath.mpf(c) for c in ln2) - mpmath.log(2)) < mpmath.mpf(2) ** -158
        for j in (0, 1, 127, 128, 4097, 20000, 32767):
            exact = mpmath.mpf(2) ** (mpmath.mpf(j) / 2**15)
            assert abs(sum(mpmath.mpf(part[j]) for part in table) / exact - 1) < mpmath.mpf(2) ** -154
        rng = np.random.default_rng(41)
        x = np.concatenate([rng.uniform(-620, 709.7, 300), rng.normal(size=150), rng.normal(size=50) * 1e-5,
                            [0.0, 1e-300, 709.7, -620.0]])
        x_error = rng.uniform(-0.5, 0.5, x.size) * np.spacing(x)
        parts = _triple.exp_triple(np, x, x_error)
        worst = max(abs(sum(mpmath.mpf(p[i]) for p in parts) / mpmath.exp(mpmath.mpf(x[i]) + x_error[i]) - 1)
                    for i in range(x.size))
        assert worst < mpmath.mpf(2) ** -150
        y = np.concatenate([np.exp(rng.uniform(-744, 709, 300)), 1.0 + rng.normal(size=100) * 1e-8,
                            [5e-324, 1.0, 2.0**500, 2.0**-500, 0.3, 1.7976931348623157e308]])
        parts = _triple.log_triple(np, y)
        worst = max(abs(sum(mpmath.mpf(p[i]) for p in parts) - mpmath.log(mpmath.mpf(y[i]))) for i in range(y.size))
        assert worst < mpmath.mpf(2) ** -147
        # SumK: a sum cancelling to 2**-100 of its parts, rounded to within an ulp
        a = rng.normal(size=200)
        b, c = rng.normal(size=200) * 2.0**-60, rng.normal(size=200) * 2.0**-110
        values = [a, b, -a, -b * (1 + 2.0**-40), c]
        got = _triple.rounded_sum(values)
        for i in range(200):
            exact = sum(mpmath.mpf(v[i]) for v in values)
            assert abs(mpmath.mpf(got[i]) - exact) <= mpmath.mpf(np.spacing(abs(float(exact))))


def test_poisson_loss_is_keras_formula_and_generalized_kl_is_optax_convex_kl():
    x, y = np.array([0.5, 2.0, 1e-3, 0.0]), np.array([1.0, 0.0, 3.0, 2.0])
    with mpmath.workdps(50):
        exact = [mpmath.mpf(a) - (mpmath.mpf(b) * mpmath.log(mpmath.mpf(a) + mpmath.mpf(1e-7)) if b else 0)
                 for a, b in zip(x, y, strict=True)]
        values = losses.poisson_loss(x, y, reduction="none")
        # x + eps u (through log: at most u / 6.9 here), log 2u, * t u, and x - t log(...)
        # adds terms of one sign (u): 4.2u at x = 1e-3
        assert max(ulps(float(v), e) for v, e in zip(values, exact, strict=True)) <= 4.5
        logp, t = np.array([-1.0, 0.5, 2.0, -3.0]), np.array([0.0, 3.0, 0.5, 1.0])
        exact = [(mpmath.mpf(b) * (mpmath.log(b) - mpmath.mpf(a)) if b else 0) - mpmath.mpf(b) + mpmath.exp(a)
                 for a, b in zip(logp, t, strict=True)]
        values = losses.generalized_kl_divergence(logp, t, reduction="none")
        assert max(ulps(float(v), e) for v, e in zip(values, exact, strict=True)) <= KL_ULPS
    np.testing.assert_allclose(losses.poisson_loss_grad(x, y, reduction="none"), 1 - y / (x + 1e-7))
    np.testing.assert_allclose(losses.generalized_kl_divergence_grad(logp, t, reduction="none"), np.exp(logp) - t)


# --------------------------------------------------------------------------- gradients by finite differences

CASES = [
    (losses.tweedie_deviance, losses.tweedie_deviance_grad, {"power": 1.5}),
    (losses.tweedie_deviance, losses.tweedie_deviance_grad, {"power": -1.0}),
    (losses.poisson_deviance, losses.poisson_deviance_grad, {}),
    (losses.gamma_deviance, losses.gamma_deviance_grad, {}),
    (losses.poisson_loss, losses.poisson_loss_grad, {}),
    (losses.generalized_kl_divergence, losses.generalized_kl_divergence_grad, {}),
]


@pytest.mark.parametrize(("value", "grad", "options"), CASES)
def test_gradients_agree_with_central_differences(value, grad, options):
    rng = np.random.default_rng(5)
    x, y = rng.random(12) * 3 + 0.2, rng.random(12) * 3 + 0.2
    g = grad(x, y, reduction="sum", **options)
    for i in range(12):
        h = 1e-6 * x[i]
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric = (float(value(up, y, reduction="sum", **options)) - float(value(down, y, reduction="sum", **options))) / (2 * h)
        assert g[i] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


# --------------------------------------------------------------------------- errors


def test_kl_div_refuses_probabilities_as_input_with_a_hint():
    with pytest.raises(OutOfRangeError, match=r"^kl_div: input must hold log-probabilities.*Pass log\(p\)"):
        losses.kl_div([[0.25, 0.75]], [[0.5, 0.5]])
    with pytest.raises(OutOfRangeError, match=r"^kl_div_grad: target .*log_target=True"):
        losses.kl_div_grad([[-1.0, -0.5]], [[-0.5, -1.0]])
    with pytest.raises(InvalidOptionError, match=r"^kl_div: reduction must be one of 'batchmean'"):
        losses.kl_div([[-1.0]], [[1.0]], reduction="avg")


def test_deviance_domains_are_refused_as_scikit_learn_does():
    with pytest.raises(InvalidOptionError, match=r"^tweedie_deviance: power must be <= 0 or >= 1"):
        losses.tweedie_deviance([1.0], [1.0], power=0.5)
    with pytest.raises(OutOfRangeError, match=r"^poisson_deviance: input must hold finite positive.*exp"):
        losses.poisson_deviance([0.0], [1.0])
    with pytest.raises(OutOfRangeError, match=r"^gamma_deviance_grad: target must hold finite positive"):
        losses.gamma_deviance_grad([1.0], [0.0])
    with pytest.raises(OutOfRangeError, match=r"^tweedie_deviance: target .*scikit-learn"):
        losses.tweedie_deviance([1.0], [-1.0], power=1.5)
    assert float(losses.tweedie_deviance([1.0], [-1.0], power=-1.0)) > 0


def test_gaussian_and_poisson_errors_name_the_argument():
    with pytest.raises(OutOfRangeError, match=r"^gaussian_nll_loss: var must hold finite non-negative.*exp\(log_var\)"):
        losses.gaussian_nll_loss([0.0, 1.0], [0.0, 0.0], [1.0, -0.5])
    with pytest.raises(ShapeMismatchError, match=r"^gaussian_nll_loss_grad: var must have the shape"):
        losses.gaussian_nll_loss_grad(np.zeros((3, 2)), np.zeros((3, 2)), np.ones((2, 3)))
    with pytest.raises(OutOfRangeError, match=r"^poisson_nll_loss: target must hold finite non-negative"):
        losses.poisson_nll_loss([0.0], [-1.0])
    with pytest.raises(OutOfRangeError, match=r"^poisson_nll_loss: input must hold .*log_input=True"):
        losses.poisson_nll_loss([-1.0], [1.0], log_input=False)
    with pytest.raises(InvalidOptionError, match=r"^poisson_nll_loss: log_input must be True or False"):
        losses.poisson_nll_loss([0.0], [1.0], log_input="yes")


def test_negative_power_with_a_huge_mean_overflows_quietly():
    """(1e140)^2 overflows: the value is inf (the true value exceeds float64), with no
    warning from the branch for non-positive targets, which where() also evaluates."""
    mu = np.array([1e140, 2.0])
    y = np.array([1e140 * (1 + 1e-10), -1.0])
    values = losses.tweedie_deviance(mu, y, power=-1, reduction="none")
    assert values[0] == np.inf  # mu^3 x^2 / ... ~ 1e400: beyond float64
    # y <= 0 with power -1 (a = 2, b = 3): 2 (-y mu^a / a + mu^b / b) = 2 (4/2 + 8/3) = 28/3;
    # pow 2u, 8 / 3 u, the sum u: 4u < 1e-15
    assert values[1] == pytest.approx(28 / 3, rel=1e-15)


# Extreme ratios y / mu (beyond 2**+-500, |L| > 346 for L = log(y / mu)): no exponential of
# L (its rounding alone would cost |L| u). Where |a|, |b| >= 1/16 the deviance is the sum of
# its three terms, which differ by factors above e^21; each power in two halves h (within
# 1 ulp: 2u relative, twice: 4u). The dominant term bounds the error: (h / (a b)) h: 4u,
# a b's rounding, the division and the product: 7u; y mu^a as (y h) h then / a: 7u;
# (h / b) h: 6u; two additions 2u: 9u at most, within 9 ulp of a normal result.
SUMMED_ULPS = 9
# Where |b| < 1/16 (or |a|): mu^b expm1(b L) / (a b) - (y - mu) mu^a / a, the two terms a
# factor |L| > 346 apart. expm1 2u, its argument exact to first order (L and b L in
# double-double) and the correction's rounding u, a b and the division 2u, the halves 6u,
# y's product u: 12u; the other term 8u; the difference u: 13u.
EXPM1_ULPS = 13
# A mean beyond 2**+-500 at a moderate ratio: 2**(k b) times the deviance of the means scaled
# by 2**-k (exactly): its bound, pow's ulp (2u) and the product: 3 more.
RESCALED_EXTRA_ULPS = 3


@pytest.mark.parametrize(
    ("power", "mu", "y"),
    [(3.0, 1e155, 1.0), (10.0, 4.74e231, 0.5), (-1.0, 1e-120, 1e-20), (5.0, 1e110, 1.0), (-3.0, 1e-70, 1.0)],
)
def test_tweedie_deviance_is_finite_and_accurate_where_mu_to_the_b_leaves_the_range(power, mu, y):
    """mu = 1e155, y = 1, power 3: mu^-1 / -1 and y^-1 / 2 are fine, but the log form's
    mu^b f(log(y / mu)) overflowed f (inf); at power 10, mu = 4.74e231, mu^b underflows to
    0 and f overflows (NaN). The exact values (mpmath) are 1.0 and 64 / 9."""
    value = losses.tweedie_deviance(np.array([mu]), np.array([y]), power=power, reduction="none")
    with mpmath.workdps(100):
        exact = _exact_deviance(power, mu, y)
    assert ulps(float(value[0]), exact) <= SUMMED_ULPS


@pytest.mark.parametrize("region", ["extreme ratio", "extreme mean"])
def test_tweedie_deviance_at_extreme_ratios_and_means_is_within_the_derived_bound(region):
    """Ratios y / mu beyond 2**+-500 (formerly hundreds of ulp: exp of a rounded log(y / mu)),
    and means beyond 2**+-500 at ratios up to e^30, for powers near 1 and 2 too."""
    rng = np.random.default_rng(17)
    for power in (-3.0, -1.0, -0.5, 1.01, 1.2, 1.5, 1.8, 1.99, 2.5, 3.0, 5.0, 10.0):
        if region == "extreme ratio":
            log_mu = rng.uniform(-700.0, 700.0, 400)
            log_y = log_mu + rng.choice([-1.0, 1.0], 400) * rng.uniform(347.0, 700.0, 400)
            bound = max(SUMMED_ULPS, EXPM1_ULPS)
        else:
            log_mu = rng.choice([-1.0, 1.0], 400) * rng.uniform(350.0, 700.0, 400)
            log_y = log_mu + rng.choice([-1.0, 1.0], 400) * rng.uniform(0.0, 30.0, 400)
            bound = deviance_bound(power) + RESCALED_EXTRA_ULPS
        keep = np.abs(log_y) < 705.0
        mu, y = np.exp(log_mu[keep]), np.exp(log_y[keep])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning either
            values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
        with mpmath.workdps(100):
            exact = [_exact_deviance(power, m, t) for m, t in zip(mu, y, strict=True)]
        normal = [i for i, e in enumerate(exact) if mpmath.mpf(2) ** -1022 < e < mpmath.mpf(2) ** 1024]
        overflowing = [i for i, e in enumerate(exact) if e >= mpmath.mpf(2) ** 1024]
        if region == "extreme ratio" or abs(2.0 - power) < 2.0:  # else mu^b alone is beyond the range
            assert len(normal) > 20, power  # the sample reaches the finite cases
        assert max((ulps(float(values[i]), exact[i]) for i in normal), default=0.0) <= bound, power
        assert all(values[i] == math.inf for i in overflowing), power


# The gradient 2 (mu - y) mu^(-power) where mu^(-power) alone leaves the range: as
# ((mu - y) h) h, h = mu^(-power / 2): the difference u, h 2u twice, two products 2u: 7u.
GRADIENT_HALVES_ULPS = 7


def test_tweedie_deviance_gradient_where_mu_to_the_minus_power_leaves_the_range():
    """mu = 7.41e261, y = 2.67e284, power 1.5: mu^-1.5 underflows, the product does not
    (exact -8.37e-109 by mpmath; the plain product gave -0.0)."""
    rng = np.random.default_rng(18)
    cases = [(1.5, 7.41e261, 2.67e284)]
    for power in (1.5, 3.0, -1.0, 10.0):
        for _ in range(40):
            mu, y = math.exp(rng.uniform(-700, 700)), math.exp(rng.uniform(-700, 700))
            cases.append((power, mu, y))
    checked = 0
    for power, mu, y in cases:
        got = losses.tweedie_deviance_grad(np.array([mu]), np.array([y]), power=power, reduction="sum")
        with mpmath.workdps(100):
            exact = 2 * (mpmath.mpf(mu) - mpmath.mpf(y)) * mpmath.mpf(mu) ** -mpmath.mpf(power)
        if mpmath.mpf(2) ** -1022 < abs(exact) < mpmath.mpf(2) ** 1024:
            assert ulps(float(got[0]), exact) <= GRADIENT_HALVES_ULPS, (power, mu, y)
            checked += 1
    assert checked > 60


@pytest.mark.parametrize("power", [*sorted(HORNER), -0.01, 1.9999999, 1.0000001])
def test_tweedie_deviance_over_the_whole_float64_range_is_within_its_bounds(power):
    """Means and targets log-uniform over e^+-705 (a third of the targets near their mean):
    every path at once, with no warning; a deviance beyond the range is inf. The exponents
    b = 2 - power and a = 1 - power are not floats for power -0.01: libm's pow of the
    rounded exponent alone was 579 ulp off at mu = 4.6e-134."""
    rng = np.random.default_rng(23)
    log_mu = rng.uniform(-705.0, 705.0, 300)
    log_y = rng.uniform(-705.0, 705.0, 300)
    log_y[::3] = log_mu[::3] + rng.normal(0.0, 3.0, 100)
    keep = np.abs(log_y) < 705.0
    mu, y = np.exp(log_mu[keep]), np.exp(log_y[keep])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = losses.tweedie_deviance(mu, y, power=power, reduction="none")
    # Every form's bound: near y = mu where derived (HORNER), else only ratios beyond 1 +- 1/4
    # (the far forms: table-driven 3.5u or double-double 4u, each + 3 rescaled; summed; expm1).
    if power in HORNER:
        bound = max(SUMMED_ULPS, EXPM1_ULPS, deviance_bound(power) + RESCALED_EXTRA_ULPS)
    else:
        bound = max(SUMMED_ULPS, EXPM1_ULPS, 4 + RESCALED_EXTRA_ULPS)
    with mpmath.workdps(100):
        exact = [_exact_deviance(power, m, t) for m, t in zip(mu, y, strict=True)]
    normal = [i for i, e in enumerate(exact) if mpmath.mpf(2) ** -1022 < e < mpmath.mpf(2) ** 1024
              and (power in HORNER or not math.log(0.75) <= log_y[keep][i] - log_mu[keep][i] <= math.log(1.25))]
    assert len(normal) > 30
    assert max(ulps(float(values[i]), exact[i]) for i in normal) <= bound
    assert all(values[i] == math.inf for i, e in enumerate(exact) if e >= mpmath.mpf(2) ** 1024)


# kl_div, y (log y - x). Where log y and x differ by more than a factor 2: log y 2u relative,
# |log y| < 3 |d| (d = log y - x), so 6u of d, the difference u and the product u: 8u.
# Closer: log y in double-double (log_double, within 2**-96 absolute), log y's high part
# less x exact (Sterbenz), the low part added u, the product u: 2u plus y 2**-96, within
# 4 ulp where |value| >= y 2**-44; below y 2**-40, log y in three floats (log_triple,
# 2**-149 absolute), log y - x by SumK (about u) and the product u: 2u plus y 2**-148
# absolute; a subnormal element, half its spacing more.
KL_DIV_ULPS = 8
KL_DIV_ABSOLUTE = 2.0**-146


def test_kl_div_elements_are_within_their_bound_also_where_log_y_and_x_cancel():
    """x = log(y) rounded (the divergence of a distribution from itself: exact values of
    order y 2**-53 |log y|, where libm's log alone leaves no digit), x = log(y) (1 + 1e-8),
    and independent x; y down to e^-700 and near 1."""
    rng = np.random.default_rng(19)
    t = rng.uniform(0.0, 1.0, 1500)
    t[:300] = np.exp(-rng.uniform(0.0, 700.0, 300))
    t[300:500] = 1.0 - rng.uniform(0.0, 1e-3, 200)
    t[500:600] = 1.0 - rng.uniform(0.0, 1e-12, 100)
    x = np.log(t)
    x[600:1000] *= 1.0 + rng.normal(0.0, 1e-8, 400)
    x[1000:] = np.log(rng.uniform(0.0, 1.0, 500))
    values = losses.kl_div(x, t, reduction="none")
    with mpmath.workdps(80):
        for v, a, b in zip(values, x, t, strict=True):
            exact = mpmath.mpf(b) * (mpmath.log(mpmath.mpf(b)) - mpmath.mpf(a))
            allowed = KL_DIV_ULPS * mpmath.mpf(np.spacing(abs(float(exact)))) + mpmath.mpf(b) * KL_DIV_ABSOLUTE
            assert abs(mpmath.mpf(v) - exact) <= allowed + mpmath.mpf(2) ** -1075, (a, b)
    with mpmath.workdps(80):  # issue 15's case: 0 before, 72 ulp with log y in double-double
        exact = 0.3 * (mpmath.log(mpmath.mpf(0.3)) - mpmath.mpf(math.log(0.3)))
    assert ulps(float(losses.kl_div(np.log([0.3]), [0.3], reduction="sum")), exact) <= 4


# poisson_nll_loss(log_input=False) and Keras's poisson_loss, x - t log(x + eps). Where the
# terms are more than a factor 3 apart (|value| >= x / 2): x + eps's rounding corrected to
# second order, libm's log 2u, the correction's addition u and the product u: 4u of t log,
# at most 3 |value|: 12u, and the difference u: 13u. Closer: a table-driven log (2**-68
# absolute) and exact products and sums, 1.5 ulp while the terms cancel by at most 2**10,
# double-double beyond.
RATE_ULPS = 13


@pytest.mark.parametrize("loss", ["poisson_nll_loss", "poisson_loss"])
def test_poisson_losses_on_rates_are_within_the_derived_bound_also_where_the_terms_cancel(loss):
    """Rates near 1 (where log(x + eps) is small), counts t near x / log(x) (the value near
    0: the two terms cancel, as for a well-fitted model), and generic points."""
    eps = 1e-8 if loss == "poisson_nll_loss" else 1e-7
    rng = np.random.default_rng(24)
    x = np.concatenate([np.exp(rng.uniform(-5.0, 5.0, 300)), 1.0 + rng.normal(0.0, 0.05, 150), rng.gamma(2.0, 1.5, 150)])
    t = rng.poisson(3.0, x.size).astype(float)
    t[:200] = np.maximum(np.round(x[:200] / np.maximum(np.log(x[:200] + eps), 0.1)), 0.0)
    values = (losses.poisson_nll_loss(x, t, log_input=False, reduction="none") if loss == "poisson_nll_loss"
              else losses.poisson_loss(x, t, reduction="none"))
    with mpmath.workdps(60):
        exact = [mpmath.mpf(a) - (mpmath.mpf(b) * mpmath.log(mpmath.mpf(a) + mpmath.mpf(eps)) if b > 0 else 0)
                 for a, b in zip(x, t, strict=True)]
    cancelling = sum(1 for a, e in zip(x, exact, strict=True) if abs(e) < a / 8)
    assert cancelling > 50  # the sample reaches the cancelling terms
    assert _worst_ulps(values, exact) <= RATE_ULPS


# gaussian_nll_loss, 0.5 (log v + d^2 / v) (+ 0.5 log(2 pi)). Where the parts cancel by no
# more than a factor 2: log 2u, d^2 / v 4u (d's rounding twice, the square, the division),
# the sum and the constant's addition: within 14u. Closer: every part in double-double,
# about 2**-96 of the parts (log_double's 2**-96 absolute, the rest 2**-104 relative), and
# where that leaves |value| below 2**-40 (1 + parts) every part in three floats (log_triple
# 2**-149 absolute, d^2 / v 2**-159 relative), summed by SumK: within 14 ulp plus
# 2**-148 (1 + (|log v| + d^2 / v + log 2 pi) / 2) absolute.
GAUSSIAN_ULPS = 14
GAUSSIAN_ABSOLUTE = 2.0**-146


@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss_elements_are_within_the_derived_bound_also_where_log_v_cancels(full):
    """Generic points and variances near exp(-(d^2 / v) - log(2 pi) [full]), where the
    value is near 0 (at v = 1 / (2 pi), x = t, full=True, it was 0 for an exact 3.09e-17)."""
    from neural_network.losses.distributions import _gaussian

    with mpmath.workdps(50):
        constant = mpmath.mpf(_gaussian._LOG_TWO_PI[0]) + _gaussian._LOG_TWO_PI[1]
        assert abs(constant - mpmath.log(2 * mpmath.pi)) < mpmath.mpf(2) ** -105
    with mpmath.workprec(300):
        constant = sum(mpmath.mpf(c) for c in _gaussian._LOG_TWO_PI)
        assert abs(constant - mpmath.log(2 * mpmath.pi)) < mpmath.mpf(2) ** -158
    rng = np.random.default_rng(25)
    n = 600
    x, t = rng.normal(size=n), rng.normal(size=n)
    v = np.exp(rng.uniform(-5.0, 5.0, n))
    # near the zero of log v + d^2 / v (+ log 2 pi): v below e^c, then d^2 = v (c - log v)
    c = -math.log(2 * math.pi) if full else 0.0
    v[:300] = np.exp(rng.uniform(-8.0, c, 300))
    x[:300] = t[:300] + rng.choice([-1.0, 1.0], 300) * np.sqrt(v[:300] * (c - np.log(v[:300])))
    x[300:350] = t[300:350]
    v[300:350] = 1 / (2 * math.pi) if full else 1.0
    values = losses.gaussian_nll_loss(x, t, v, full=full, reduction="none")
    with mpmath.workdps(60):
        exact = []
        for a, b, c in zip(x, t, v, strict=True):
            c = mpmath.mpf(max(c, 1e-6))
            e = (mpmath.log(c) + (mpmath.mpf(a) - mpmath.mpf(b)) ** 2 / c) / 2
            exact.append(e + mpmath.log(2 * mpmath.pi) / 2 if full else e)
    cancelling = sum(1 for e in exact if abs(e) < 1e-6)
    assert cancelling > 100
    for value, e, a, b, c in zip(values, exact, x, t, v, strict=True):
        c = max(c, 1e-6)
        parts = (abs(math.log(c)) + (a - b) ** 2 / c + (math.log(2 * math.pi) if full else 0.0)) / 2
        allowed = GAUSSIAN_ULPS * mpmath.mpf(np.spacing(abs(float(e)))) + GAUSSIAN_ABSOLUTE * (1 + parts)
        assert abs(mpmath.mpf(value) - e) <= allowed, (a, b, c)
