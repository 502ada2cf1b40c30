"""Focal, Poly-1, Brier, Dice, Tversky and categorical hinge losses against independent references.

* PyTorch re-implementations (float64, autograd for the gradients) of torchvision's
  ``sigmoid_focal_loss`` formula, Keras's ``categorical_focal_crossentropy`` (no clipping),
  optax's ``poly_loss_cross_entropy``, Keras's ``dice`` / ``tversky`` formulas and the
  Crammer-Singer categorical hinge.
* scikit-learn's ``brier_score_loss`` (with sample weights).
* mpmath: every element of the closed-form losses against the formula evaluated exactly
  (the float inputs as given, 200-bit arithmetic), in ulps; hand derivations.
* Central finite differences; errors naming the function and the argument; float32.

No expected value here comes from the functions under test. ``pytest -s`` prints the
worst ulp error measured for each loss.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest

from error_model import U, additions, any_order
from neural_network import losses
from neural_network.errors import (
    InvalidOptionError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)

torch = pytest.importorskip("torch")
metrics = pytest.importorskip("sklearn.metrics")
F = torch.nn.functional

MP = mpmath.MPContext()
MP.prec = 200
WORST: dict[str, float] = {}

# Error model of the bounds, for any libm whose exp, log, log1p, pow are within 1 ulp:
# u = 2**-53; a correctly rounded operation errs by <= u relative, a libm function by <= 2u;
# a relative error k u is within k ulp. Errors pass through condition numbers; a sum of
# same-sign terms adds u per addition a term passes through (additions); cancellation
# multiplies by the condition number. The double-double helpers of _numerics add nothing.

BINARY_FOCAL_ULPS = {2.0: 1.0, 0.5: 3.0}
"""Each element of binary_focal_loss from logits (alpha None), by gamma: derived above
:func:`test_binary_focal_elements_are_within_their_bound_of_mpmath`."""
CATEGORICAL_FOCAL_ULPS = 33.0
POLY_ULPS = 12.0
"""Each element of categorical_focal_loss (gamma 2) and poly_loss_cross_entropy over 4 classes
(class indices): derived in :func:`test_class_losses_are_within_4_ulp_of_mpmath`."""
BRIER_ULPS = 3.0
"""Each element of brier_score_loss: p - y rounded once (u), its square 2u + u."""




def ulps(got: float, exact: Any) -> float:
    """``|got - exact|`` in float64 ulps at ``exact``."""
    got = float(got)
    if math.isnan(got) or math.isinf(got):
        return math.inf
    if exact == 0:
        return 0.0 if got == 0.0 else math.inf
    exponent = max(int(MP.floor(MP.log(abs(exact), 2))), -1022)
    return float(abs(MP.mpf(got) - exact) / MP.ldexp(1, exponent - 52))


def record(name: str, errors: list[float]) -> float:
    worst = max(errors)
    WORST[name] = max(worst, WORST.get(name, 0.0))
    return worst


@pytest.fixture(scope="module", autouse=True)
def report_worst_ulps():
    yield
    for name, worst in sorted(WORST.items()):
        print(f"\nworst ulp error, {name}: {worst:.3f}")


def t64(a: Any, grad: bool = False) -> Any:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, indices: list[int], h: float = 1e-6) -> list[float]:
    out = []
    for index in indices:
        step = h * max(1.0, abs(x.reshape(-1)[index]))
        values = []
        for sign in (1, -1):
            moved = x.copy()
            moved.reshape(-1)[index] += sign * step
            values.append(f(moved))
        out.append((values[0] - values[1]) / (2 * step))
    return out


# --------------------------------------------------------------------------- binary focal loss


def torchvision_focal(x: Any, y: Any, alpha: float, gamma: float, from_logits: bool = True) -> Any:
    """torchvision.ops.sigmoid_focal_loss's formula (reduction="none"), re-implemented."""
    if from_logits:
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    else:
        p = x
        ce = F.binary_cross_entropy(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


UNDERIVED_GRADIENT_RTOL = {"binary focal": 1e-11, "binary focal (probabilities)": 1e-10, "class focal": 1e-10,
                           "poly": 1e-10, "overlap": 1e-11}
"""Not derived: the gradients against autograd through the torchvision, Keras and optax
formulas (and the values of those our element bounds do not cover: probabilities in,
class losses with other gammas, class counts, soft targets or epsilons). No file derives
our gradients' bounds (tests/test_devices.py UNDERIVED), and autograd's operations
through those formulas are torch's own: each stays at the tolerance it had, named here."""
UNDERIVED_VALUE_RTOL = {"binary focal (probabilities)": 1e-13, "class focal": 1e-12, "poly": 1e-12}
"""Not derived, as :data:`UNDERIVED_GRADIENT_RTOL` says."""


def torchvision_focal_ulps(x: np.ndarray, y: np.ndarray, gamma: float, alpha: float | None) -> np.ndarray:
    """Per element, ours' bound plus that of torchvision's formula in float64 torch, relative, in u.

    Ours: BINARY_FOCAL_ULPS (gamma 2; another gamma: pow, 3u; gamma 0 has no pow: within
    that too), alpha's weight alpha y + (1 - alpha)(1 - y): 1 - y, the product, the add 3u
    and its product u. torchvision's: ce = (1 - y) x - log_sigmoid(x) (test_parity_torch:
    10u of M = |(1 - y) x| + |log_sigmoid(x)|, which cancels for x < 0 and y < 1: M / ce);
    p = 1 / (1 + exp(-x)) 4u; p_t = p y + (1 - p)(1 - y) within 6u absolute (its terms <= 1),
    q = 1 - p_t 7u absolute: 7u / q relative, times gamma through the power, which adds 2u
    (no pow for gamma 0); the product u, alpha's 4u.
    """
    ours = BINARY_FOCAL_ULPS.get(gamma, 3.0) + (4.0 if alpha is not None else 0.0)
    log_sigmoid = np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))
    ce = y * (np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x)))) + (1 - y) * (np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))
    m = np.abs((1 - y) * x) + np.abs(log_sigmoid)
    p = 1 / (1 + np.exp(-x))
    q = 1 - (p * y + (1 - p) * (1 - y))
    theirs = 10 * m / ce + gamma * 7 / q + 2 * (gamma != 0) + 1 + (4.0 if alpha is not None else 0.0)
    return ours + theirs


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.7])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_binary_focal_matches_torchvision_formula(gamma: float, alpha: float | None):
    rng = np.random.default_rng(10)
    x = rng.standard_normal(300) * 4
    y = rng.random(300)
    y[:150] = np.round(y[:150])
    ref_alpha = -1.0 if alpha is None else alpha
    xt, yt = t64(x, grad=True), t64(y)
    expected = torchvision_focal(xt, yt, ref_alpha, gamma)
    got = losses.binary_focal_loss(x, y, gamma=gamma, alpha=alpha, reduction="none")
    # PyTorch's BCE-with-logits, (1 - y) x - log_sigmoid(x), cancels for soft labels, and
    # 1 - p_t where p_t is near 1: torchvision_focal_ulps counts both from the data; the
    # exact values are checked against mpmath below.
    each = torchvision_focal_ulps(x, y, gamma, alpha) * U
    values = expected.detach().numpy()
    assert np.all(np.abs(got - values) <= each * np.abs(values)), np.max(np.abs(got - values) / (each * np.abs(values)))
    expected.sum().backward()
    grad = losses.binary_focal_loss_grad(x, y, gamma=gamma, alpha=alpha, reduction="sum")
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=UNDERIVED_GRADIENT_RTOL["binary focal"], atol=1e-300)
    mean = losses.binary_focal_loss(x, y, gamma=gamma, alpha=alpha)
    # The elements' bounds, and the sums of 300 terms >= 0: ours additions(300), torch's in
    # its own order any_order(300); the divisions by 300 u each.
    reduced = float(np.sum(each * np.abs(values))) + (additions(300) + any_order(300) + 2) * U * float(np.sum(values))
    assert abs(mean - float(expected.detach().mean())) <= reduced / 300


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_binary_focal_on_probabilities_matches_torchvision_formula(gamma: float):
    rng = np.random.default_rng(11)
    p = rng.uniform(0.01, 0.99, 200)
    y = rng.random(200)
    y[:100] = np.round(y[:100])
    pt, yt = t64(p, grad=True), t64(y)
    expected = torchvision_focal(pt, yt, 0.25, gamma, from_logits=False)
    got = losses.binary_focal_loss(p, y, gamma=gamma, alpha=0.25, from_logits=False, reduction="none")
    rtol = UNDERIVED_VALUE_RTOL["binary focal (probabilities)"]
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=rtol)
    expected.sum().backward()
    grad = losses.binary_focal_loss_grad(p, y, gamma=gamma, alpha=0.25, from_logits=False, reduction="sum")
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=UNDERIVED_GRADIENT_RTOL["binary focal (probabilities)"])


def mp_focal(x: float, y: float, gamma: float, alpha: float | None) -> Any:
    x, y = MP.mpf(x), MP.mpf(y)
    ce = y * MP.log1p(MP.exp(-x)) + (1 - y) * MP.log1p(MP.exp(x))
    m = y / (1 + MP.exp(x)) + (1 - y) / (1 + MP.exp(-x))  # 1 - p_t, without 1 - sigmoid
    a = 1 if alpha is None else alpha * y + (1 - MP.mpf(alpha)) * (1 - y)
    return a * m ** MP.mpf(gamma) * ce


# The bound, for any libm within 1 ulp: the loss is formed in double-double (exp_double
# uses no libm; log_double corrects libm's log by a Newton step; sums and products keep
# their rounding errors), all to about 2**-100 relative, and rounded once: half an ulp,
# so 1 for gamma = 2. For gamma = 0.5 libm's pow adds its ulp (a relative error of at
# most 2**-52) and the rounding 2**-53: 3 * 2**-53 relative, under 3 ulp of the result.
@pytest.mark.parametrize(("gamma", "bound"), list(BINARY_FOCAL_ULPS.items()))
def test_binary_focal_elements_are_within_their_bound_of_mpmath(gamma: float, bound: float):
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.standard_normal(2000) * 8, rng.uniform(-700, 700, 200), [40.0, -40.0, 0.0, 1e-300]])
    y = np.concatenate([np.round(rng.random(x.size - 100)), rng.random(100)])
    got = losses.binary_focal_loss(x, y, gamma=gamma, reduction="none")
    errors = [ulps(g, mp_focal(a, b, gamma, None)) for g, a, b in zip(got, x, y, strict=True)]
    assert record(f"binary_focal_loss gamma={gamma}", errors) <= bound


BINARY_FOCAL_GRADIENT_ULPS = {0.0: 7.0, 1.0: 20.0, 2.0: 26.0, 3.5: 5.0 * 3.5 + 18.0}
"""binary_focal_loss_grad from logits, hard labels, any libm within 1 ulp, by gamma.

Derived by hand beside ``_focal_logits_derivative``, in this file's error model: the
sigmoids within 2U and 3U of their rounding (the reciprocal's two roundings; the product
by ``e``), softplus 3U, and libm's ``exp`` error (2U) passing ``(gamma + 1)``-fold through
``m**gamma * slope``; each product and the sum U, ``pow`` 2U, ``alpha_t`` 2U."""


def mp_focal_grad(x: float, y: float, gamma: float, alpha: float | None) -> Any:
    """d/dx of :func:`mp_focal`, by hand: ``a (gamma m^(gamma-1) (1 - 2y) p q CE + m^gamma (p - y))``."""
    x, y = MP.mpf(x), MP.mpf(y)
    p, q = 1 / (1 + MP.exp(-x)), 1 / (1 + MP.exp(x))
    ce = y * MP.log1p(MP.exp(-x)) + (1 - y) * MP.log1p(MP.exp(x))
    m = y * q + (1 - y) * p
    a = 1 if alpha is None else alpha * y + (1 - MP.mpf(alpha)) * (1 - y)
    slope = (1 - y) * p - y * q  # p - y without 1 - p
    power = m ** MP.mpf(gamma)
    dm = (1 - 2 * y) * p * q
    return a * (power * slope + (gamma * m ** MP.mpf(gamma - 1) * dm * ce if gamma else 0))


@pytest.mark.parametrize(("gamma", "alpha"), [(0.0, None), (1.0, 0.25), (2.0, 0.25), (3.5, 0.75)])
def test_binary_focal_gradient_is_within_its_derived_bound_with_a_libm_off_by_an_ulp(
    gamma: float, alpha: float | None
):
    """The gradient kernel with ``exp`` and ``log1p`` each moved by an ulp (either way, or
    not): a CPU whose libm differs from this one's stays within the registered derivation."""
    from neural_network.losses.classification._focal import _focal_logits_derivative

    rng = np.random.default_rng(31)
    x = np.concatenate([rng.standard_normal(300) * 4, rng.uniform(-700.0, 700.0, 20), [40.0, -40.0, 0.0, 1e-300]])
    y = np.round(rng.random(x.size))
    expected = [mp_focal_grad(a, b, gamma, alpha) for a, b in zip(x, y, strict=True)]
    errors = []
    for exp_move, log1p_move in ((-1, -1), (-1, 1), (1, -1), (1, 1), (0, 0)):
        libm = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np) if not name.startswith("_")})
        libm.exp = lambda v, d=exp_move: np.nextafter(np.exp(v), d * np.inf) if d else np.exp(v)
        libm.log1p = lambda v, d=log1p_move: np.nextafter(np.log1p(v), d * np.inf) if d else np.log1p(v)
        got = _focal_logits_derivative(libm, x, y, gamma=gamma, alpha=alpha)
        errors += [ulps(g, e) for g, e in zip(got, expected, strict=True)]
    assert record(f"binary_focal_loss_grad gamma={gamma} (libm off by an ulp)", errors) <= BINARY_FOCAL_GRADIENT_ULPS[gamma]


def test_binary_focal_tail_keeps_its_value():
    # 1 - sigmoid(40) rounds to 0: the loss of a confident right prediction must survive.
    got = float(losses.binary_focal_loss([40.0], [1.0], reduction="sum"))
    # double-double to ~2**-100, rounded once (a sum of one term adds nothing): 1/2 ulp, so 1.
    assert ulps(got, mp_focal(40.0, 1.0, 2.0, None)) <= 1
    assert got > 0


def test_binary_focal_gradient_against_central_differences():
    rng = np.random.default_rng(13)
    for from_logits in (True, False):
        x = rng.standard_normal(20) * 2 if from_logits else rng.uniform(0.05, 0.95, 20)
        y = rng.random(20)
        for gamma in (0.7, 2.0):
            kw = {"gamma": gamma, "alpha": 0.3, "from_logits": from_logits}
            grad = losses.binary_focal_loss_grad(x, y, reduction="sum", **kw)
            numeric = central_differences(
                lambda v, t=y, k=kw: float(losses.binary_focal_loss(v, t, reduction="sum", **k)), x, list(range(20))
            )
            np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_binary_focal_edges_give_no_nan_and_no_warning():
    for gamma in (0.0, 0.5, 2.0):
        x = np.array([-1e300, 1e300, 745.0, -745.0, 0.0])
        y = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
        for f in (losses.binary_focal_loss, losses.binary_focal_loss_grad):
            assert not np.isnan(f(x, y, gamma=gamma, reduction="none")).any()
        p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 0.5])
        y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
        for alpha in (None, 0.0, 1.0):
            value = losses.binary_focal_loss(p, y, gamma=gamma, alpha=alpha, from_logits=False, reduction="none")
            grad = losses.binary_focal_loss_grad(p, y, gamma=gamma, alpha=alpha, from_logits=False, reduction="none")
            assert not np.isnan(value).any() and not np.isnan(grad).any(), (gamma, alpha)
            assert value[0] == 0.0 and value[1] == 0.0


# --------------------------------------------------------------------------- categorical focal and Poly-1


def keras_categorical_focal(x: Any, t: Any, alpha: float, gamma: float, from_logits: bool = True) -> Any:
    """Keras's categorical_focal_crossentropy without its clipping (rows already sum to 1)."""
    p = torch.softmax(x, dim=1) if from_logits else x
    log_p = F.log_softmax(x, dim=1) if from_logits else torch.log(x)
    return (alpha * (1 - p) ** gamma * (-t * log_p)).sum(dim=1)


def optax_poly(x: Any, t: Any, epsilon: float) -> Any:
    p = torch.softmax(x, dim=1)
    return -(t * F.log_softmax(x, dim=1)).sum(dim=1) + epsilon * (t * (1 - p)).sum(dim=1)


def class_data(rng: np.random.Generator, n: int = 40, c: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, n)
    soft = rng.random((n, c))
    return x, labels, soft / soft.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_categorical_focal_matches_keras_formula(gamma: float):
    rng = np.random.default_rng(20)
    x, labels, soft = class_data(rng)
    onehot = np.eye(5)[labels]
    for target, dense in ((labels, onehot), (soft, soft)):
        xt = t64(x, grad=True)
        expected = keras_categorical_focal(xt, t64(dense), 0.25, gamma)
        got = losses.categorical_focal_loss(x, target, gamma=gamma, alpha=0.25, reduction="none")
        np.testing.assert_allclose(got, expected.detach().numpy(), rtol=UNDERIVED_VALUE_RTOL["class focal"])
        weights = rng.random(40)
        (expected * t64(weights)).sum().backward()
        grad = losses.categorical_focal_loss_grad(x, target, gamma=gamma, alpha=0.25, reduction="sum",
                                                  sample_weight=weights)
        np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=UNDERIVED_GRADIENT_RTOL["class focal"], atol=1e-15)


def test_categorical_focal_on_probabilities_matches_keras_formula():
    rng = np.random.default_rng(21)
    x, labels, soft = class_data(rng)
    probabilities = torch.softmax(t64(x), dim=1).numpy()
    for target, dense in ((labels, np.eye(5)[labels]), (soft, soft)):
        pt = t64(probabilities, grad=True)
        expected = keras_categorical_focal(pt, t64(dense), 1.0, 2.0, from_logits=False)
        got = losses.categorical_focal_loss(probabilities, target, from_logits=False, reduction="none")
        np.testing.assert_allclose(got, expected.detach().numpy(), rtol=UNDERIVED_VALUE_RTOL["class focal"])
        expected.mean().backward()
        grad = losses.categorical_focal_loss_grad(probabilities, target, from_logits=False)
        np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=UNDERIVED_GRADIENT_RTOL["class focal"], atol=1e-15)


@pytest.mark.parametrize("epsilon", [2.0, -1.0, 0.5])
def test_poly_loss_matches_optax_formula(epsilon: float):
    rng = np.random.default_rng(22)
    x, labels, soft = class_data(rng)
    for target, dense in ((labels, np.eye(5)[labels]), (soft, soft)):
        xt = t64(x, grad=True)
        expected = optax_poly(xt, t64(dense), epsilon)
        got = losses.poly_loss_cross_entropy(x, target, epsilon=epsilon, reduction="none")
        np.testing.assert_allclose(got, expected.detach().numpy(), rtol=UNDERIVED_VALUE_RTOL["poly"], atol=1e-15)
        expected.mean().backward()
        grad = losses.poly_loss_cross_entropy_grad(x, target, epsilon=epsilon)
        np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=UNDERIVED_GRADIENT_RTOL["poly"], atol=1e-16)


def mp_softmax_row(row: np.ndarray) -> list[Any]:
    e = [MP.exp(MP.mpf(float(v))) for v in row]
    total = MP.fsum(e)
    return [v / total for v in e]


def test_class_losses_are_within_4_ulp_of_mpmath():
    rng = np.random.default_rng(23)
    x = np.concatenate([rng.standard_normal((60, 4)) * 4, rng.standard_normal((10, 4)) * 40])
    x[0] = [40.0, 0.0, 0.0, 0.0]  # a confident row: 1 - p of the top class is ~1e-17
    labels = rng.integers(0, 4, x.shape[0])
    labels[0] = 0
    focal = losses.categorical_focal_loss(x, labels, reduction="none")
    poly = losses.poly_loss_cross_entropy(x, labels, reduction="none")
    focal_errors, poly_errors = [], []
    for row, label, f, q in zip(x, labels, focal, poly, strict=True):
        p = mp_softmax_row(row)[label]
        ce = -MP.log(p)
        focal_errors.append(ulps(f, (1 - p) ** 2 * ce))
        poly_errors.append(ulps(q, ce + 2 * (1 - p)))
    # -log p = (log1p(rest) - z) - d: e = exp(z) + exp(z) d 3u, rest of 3 non-zero terms 5u,
    # log1p (factor <= 1) 7u, the two adds 9u. q = 1 - p: at the top rest / (1 + rest) 7u;
    # elsewhere p = e / (1 + rest) 3u + 5u + 2u, 1 - p (p <= 1/2, factor <= 1) 11u. The one-hot
    # sums add only zeros. Focal q * q * nll: 22u + u + 9u + u = 33u; Poly nll + 2q: 12u.
    assert record("categorical_focal_loss", focal_errors) <= CATEGORICAL_FOCAL_ULPS
    assert record("poly_loss_cross_entropy", poly_errors) <= POLY_ULPS


def test_class_gradients_against_central_differences():
    rng = np.random.default_rng(24)
    x, labels, soft = class_data(rng, n=6, c=3)
    cases: list[tuple[Callable[..., Any], Callable[..., Any], dict[str, Any], np.ndarray]] = [
        (losses.categorical_focal_loss, losses.categorical_focal_loss_grad, {"gamma": 1.5, "alpha": 0.5}, x),
        (losses.poly_loss_cross_entropy, losses.poly_loss_cross_entropy_grad, {"epsilon": 1.0}, x),
    ]
    for value, grad, kw, inputs in cases:
        for target in (labels, soft):
            g = grad(inputs, target, reduction="sum", **kw)
            numeric = central_differences(lambda v, f=value, t=target, k=kw: float(f(v, t, reduction="sum", **k)),
                                          inputs, list(range(inputs.size)))
            np.testing.assert_allclose(g.reshape(-1), numeric, rtol=1e-6, atol=1e-9)


def test_class_losses_take_extra_axes_like_cross_entropy():
    rng = np.random.default_rng(25)
    x = rng.standard_normal((3, 4, 2))
    y = rng.integers(0, 4, (3, 2))
    flat_x = np.moveaxis(x, 1, -1).reshape(-1, 4)
    flat = losses.categorical_focal_loss(flat_x, y.reshape(-1), reduction="none")
    assert np.array_equal(losses.categorical_focal_loss(x, y, reduction="none"), flat.reshape(3, 2))
    grad = losses.poly_loss_cross_entropy_grad(x, y, reduction="sum")
    flat_grad = losses.poly_loss_cross_entropy_grad(flat_x, y.reshape(-1), reduction="sum")
    assert np.array_equal(np.moveaxis(grad, 1, -1).reshape(-1, 4), flat_grad)


# --------------------------------------------------------------------------- Brier score


def test_brier_matches_scikit_learn_with_sample_weights():
    rng = np.random.default_rng(30)
    p = rng.random(500)
    y = (rng.random(500) < 0.4).astype(float)
    w = rng.random(500) * 3
    # Ours: d = p - y exact or rounded once, d * d 3u; the pairwise sum of 500 non-negative
    # terms additions(500) = 21, the mean's division u (a weight w u, sum(w) 21u more).
    # scikit-learn: 1 - p and 1 - (1 - p) err by u/2 absolute, adding |d| u to each d**2, the
    # squares and their add 2u, then the same sums. Relative: |d| u over the mean of d**2.
    d = np.abs(p - y)
    a = additions(500)
    bound = (3 + a + 1 + 2 + a + 1 + np.mean(d) / np.mean(d * d)) * U
    assert losses.brier_score_loss(p, y) == pytest.approx(metrics.brier_score_loss(y, p), rel=bound)
    weighted = losses.brier_score_loss(p, y, sample_weight=w)
    bound = (2 * (3 + 1 + 2 * a + 1) + np.sum(w * d) / np.sum(w * d * d)) * U  # about 1.1e-14
    assert weighted == pytest.approx(metrics.brier_score_loss(y, p, sample_weight=w), rel=bound)
    exact = [ulps(v, (MP.mpf(a) - MP.mpf(b)) ** 2) for v, a, b in
             zip(losses.brier_score_loss(p, y, reduction="none"), p, y, strict=True)]
    # No libm: p - y is exact (y = 0, or p >= 1/2) or rounded once (u), its square 2u + u: 3 ulp.
    assert record("brier_score_loss", exact) <= BRIER_ULPS


def test_brier_gradient_is_twice_the_error():
    p, y = np.array([0.25, 0.5, 1.0]), np.array([1.0, 0.0, 1.0])
    assert losses.brier_score_loss_grad(p, y, reduction="none").tolist() == [-1.5, 1.0, 0.0]
    assert losses.brier_score_loss_grad(p, y).tolist() == [-0.5, 1 / 3, 0.0]


# --------------------------------------------------------------------------- Dice and Tversky


def keras_dice(p: Any, y: Any, smooth: float, dims: Any) -> Any:
    intersection = (y * p).sum(dim=dims)
    return 1 - 2 * intersection / (y.sum(dim=dims) + p.sum(dim=dims) + smooth)


def keras_tversky(p: Any, y: Any, alpha: float, beta: float, smooth: float, dims: Any) -> Any:
    intersection = (y * p).sum(dim=dims)
    fp = ((1 - p) * y).sum(dim=dims)  # Keras's names: its "fp" is the missed positives
    fn = (p * (1 - y)).sum(dim=dims)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + smooth)


def test_dice_and_tversky_by_hand():
    p, y = [0.9, 0.2, 0.8, 0.0], [1.0, 0.0, 1.0, 0.0]
    # I = 1.7, sum y = 2, sum p = 1.9, A = 0.3, B = 0.2, in exact fractions of the floats given
    p9, p2, p8 = (Fraction(v) for v in p[:3])
    dice = 1 - 2 * (p9 + p8) / (2 + p9 + p2 + p8)
    # No libm. The terms y p, y (1 - p), p (1 - y) are exact (1 - p Sterbenz); A (2 terms) u,
    # A + B 2u, I u, 2 I + numerator 3u; the division u: 6u, the reference's rounding u.
    assert float(losses.dice_loss(p, y, smooth=0.0)) == pytest.approx(float(dice), rel=7 * U)
    alpha, beta = Fraction(0.7), Fraction(0.3)
    intersection = p9 + p8
    tversky = 1 - intersection / (intersection + alpha * ((1 - p9) + (1 - p8)) + beta * p2)
    got = losses.tversky_loss(p, y, alpha=0.7, beta=0.3, smooth=0.0)
    # alpha A 2u, beta B u, their sum 3u; I + that 4u; the division u: 8u, the reference u.
    assert float(got) == pytest.approx(float(tversky), rel=9 * U)
    # alpha = beta = 1/2 is the Dice loss with smooth doubled: every operand of Tversky's
    # ratio is half Dice's (halving is exact, 2e-3 is 2 * 1e-3 as floats): the same bits.
    assert losses.tversky_loss(p, y, smooth=1e-3) == losses.dice_loss(p, y, smooth=2e-3)
    # a perfect prediction: exactly 0 without smoothing, the smoothing's share with it
    assert losses.dice_loss([1.0, 0.0], [1.0, 0.0], smooth=0.0) == 0.0
    assert losses.dice_loss([0.0, 0.0], [0.0, 0.0]) == 1.0  # Keras: 1 - 0 / eps


def test_dice_is_exact_near_a_perfect_prediction():
    p = np.array([1 - 2.0**-40, 1.0, 2.0**-40, 0.0])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    got = float(losses.dice_loss(p, y, smooth=0.0))
    P = [MP.mpf(float(v)) for v in p]
    exact = 1 - 2 * (P[0] + P[1]) / (2 + MP.fsum(P))
    # No libm: A = B = 2**-40, I = 2 - 2**-40, the denominator 4, all exact; the division
    # rounds once: 1/2 ulp.
    assert record("dice_loss (near perfect)", [ulps(got, exact)]) <= 0.5


def _exact_overlap_gradient(p: np.ndarray, y: np.ndarray, a: float, b: float, c: float, smooth: float) -> list[list[Any]]:
    """c (b (1 - y) I - y (a I + N)) / D**2 per element of each row, by hand: I = sum(y p),
    A = sum(y (1 - p)), B = sum(p (1 - y)), N = a A + b B + smooth, D = c I + N (mpmath sums, exact)."""
    out = []
    for p_row, y_row in zip(p, y, strict=True):
        P, Y = [MP.mpf(float(v)) for v in p_row], [MP.mpf(float(v)) for v in y_row]
        i = MP.fsum(u * v for u, v in zip(Y, P, strict=True))
        n = a * MP.fsum(u * (1 - v) for u, v in zip(Y, P, strict=True)) + b * MP.fsum(v * (1 - u) for u, v in zip(Y, P, strict=True)) + smooth
        d = c * i + n
        out.append([c * (b * (1 - v) * i - v * (a * i + n)) / d**2 for v in Y])
    return out


def test_overlap_gradients_mixing_cancelling_and_plain_groups():
    """Groups where the gradient's terms cancel (soft labels at b I / T: computed again from
    double-length sums) beside groups where they do not (random soft labels in small groups,
    masks: from float sums), in one call: each element within 4 ulp of mpmath (at 400 bits),
    and the same bits on array-api-strict as on NumPy (where the rows are computed again on
    all rows and selected, not on the selected rows alone)."""
    import adversarial_regression

    xps = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(5)
    worst = 0.0
    for (a, b, c), name, options in (
        ((1.0, 1.0, 2.0), "dice_loss_grad", {"smooth": 1e-7}),
        ((0.7, 0.3, 1.0), "tversky_loss_grad", {"alpha": 0.7, "beta": 0.3, "smooth": 1e-7}),
    ):
        p_cancel, y_cancel = adversarial_regression._soft_cancelling(2, 40, a, b, 1e-7)
        p = np.concatenate([rng.uniform(0, 1, (2, 40)), p_cancel, rng.uniform(0, 1, (2, 40))])
        y = np.concatenate([np.round(rng.uniform(0, 1, (2, 40))), y_cancel, rng.uniform(0, 1, (2, 40))])
        y[5, :] = rng.uniform(0.9, 1.0, 40)  # far from y* = b I / T: plain
        grad = getattr(losses, name)
        got = np.asarray(grad(p, y, axis=1, reduction="sum", **options))
        strict = np.asarray(grad(xps.asarray(p), xps.asarray(y), axis=1, reduction="sum", **options))
        np.testing.assert_array_equal(got, strict)
        with MP.workprec(400):
            exact = _exact_overlap_gradient(p, y, a, b, c, options["smooth"])
            worst = max(worst, max(ulps(g, e) for g_row, e_row in zip(got, exact, strict=True) for g, e in zip(g_row, e_row, strict=True)))
    assert record("dice/tversky gradient (mixed groups)", [worst]) <= 4.0


def overlap_bounds(p: np.ndarray, y: np.ndarray, dims: Any, alpha: float, beta: float) -> tuple[float, float]:
    """Relative bounds of ours against torch's Keras formula: (each group's loss, a reduction).

    No libm. Ours over K elements: 1 - p u, the sums additions(K) = a, alpha A a + 2, + beta B,
    + smooth a + 4, I + numerator a + 5 (Dice 2 I: less): the ratio (2 a + 10)u. torch adds in
    any order (K - 1 roundings): its ratio I / den (2 K + 4)u, passed to 1 - r times
    r / (1 - r), + u. A mean or sum over G groups: w u, the sums additions(G) and G - 1 each."""
    dims = dims if isinstance(dims, tuple) else (dims,)
    k = math.prod(p.shape[d] for d in dims)
    intersection = np.sum(y * p, axis=dims)
    den = intersection + alpha * np.sum((1 - p) * y, axis=dims) + beta * np.sum(p * (1 - y), axis=dims) + 1e-7
    r = intersection / den
    group = (2 * additions(k) + 10 + 1 + (2 * k + 4) * float(np.max(r / (1 - r)))) * U
    g = r.size
    return group, group + (2 + 2 * additions(g) + 2 * (g - 1) + 2) * U


@pytest.mark.parametrize("axis", [None, 1, (1, 2)])
def test_dice_and_tversky_match_keras_formulas_and_autograd(axis: Any):
    rng = np.random.default_rng(40)
    p = rng.random((4, 3, 5))
    y = np.round(rng.random((4, 3, 5)))
    dims = tuple(range(3)) if axis is None else axis
    out_shape = np.sum(p, axis=dims).shape
    weights = rng.random(out_shape) + 0.1
    for name, ref, kw, (a, b) in (
        ("dice_loss", lambda a, b: keras_dice(a, b, 1e-7, dims), {}, (0.5, 0.5)),
        ("tversky_loss", lambda a, b: keras_tversky(a, b, 0.7, 0.2, 1e-7, dims), {"alpha": 0.7, "beta": 0.2},
         (0.7, 0.2)),
    ):
        value, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
        pt = t64(p, grad=True)
        expected = ref(pt, t64(y))
        none = value(p, y, axis=axis, reduction="none", **kw)
        assert none.shape == out_shape
        # overlap_bounds: ratio r = 1 - loss (Dice's 2 I / S is I / (I + (A + B) / 2)),
        # under 1.8e-14 here (K = 60, r / (1 - r) < 0.95; K = 3, r / (1 - r) < 4.6)
        group, reduced = overlap_bounds(p, y, dims, a, b)
        np.testing.assert_allclose(none, expected.detach().numpy(), rtol=group)
        wt = t64(weights)
        ((expected * wt).sum() / wt.sum()).backward()
        assert value(p, y, axis=axis, sample_weight=weights, **kw) == pytest.approx(
            float((expected.detach() * wt).sum() / wt.sum()), rel=reduced)
        g = grad(p, y, axis=axis, sample_weight=weights, **kw)
        np.testing.assert_allclose(g, pt.grad.numpy(), rtol=UNDERIVED_GRADIENT_RTOL["overlap"], atol=1e-17)
        assert float(value(p, y, axis=axis, reduction="sum", **kw)) == pytest.approx(
            float(expected.detach().sum()), rel=reduced)


def test_overlap_gradients_against_central_differences():
    rng = np.random.default_rng(41)
    p = rng.uniform(0.05, 0.95, (3, 4))
    y = rng.random((3, 4))
    for name, kw in (("dice_loss", {"smooth": 0.1}), ("tversky_loss", {"alpha": 0.3, "beta": 0.9})):
        value, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
        for axis in (None, 1):
            g = grad(p, y, axis=axis, reduction="sum", **kw)
            numeric = central_differences(lambda v, f=value, a=axis, k=kw: float(f(v, y, axis=a, reduction="sum", **k)),
                                          p, list(range(p.size)))
            np.testing.assert_allclose(g.reshape(-1), numeric, rtol=1e-6, atol=1e-10)


# --------------------------------------------------------------------------- categorical hinge


def crammer_singer(x: Any, labels: Any) -> Any:
    own = x.gather(1, labels[:, None])[:, 0]
    others = x.masked_fill(F.one_hot(labels, x.shape[1]).bool(), -math.inf).max(dim=1).values
    return torch.clamp_min(1 + others - own, 0.0)


def test_categorical_hinge_by_hand_and_keras_quirk():
    x = [[2.0, 1.5, -1.0], [0.0, 3.0, 1.0], [-1.0, -2.0, -3.0]]
    assert losses.categorical_hinge_loss(x, [0, 0, 0], reduction="none").tolist() == [0.5, 4.0, 0.0]
    # Keras: max((1 - y) x) counts the target's zeroed score: 1 + 0 - (-1) = 2 for the last row
    onehot = np.eye(3)[[0, 0, 0]]
    assert losses.categorical_hinge_loss(x, onehot, reduction="none").tolist() == [0.5, 4.0, 0.0]
    # on probabilities Keras's formula and this one agree
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])
    keras = np.maximum(0.0, 1.0 + np.max((1 - np.eye(3)[[0, 2]]) * p, axis=1) - np.sum(np.eye(3)[[0, 2]] * p, axis=1))
    np.testing.assert_array_equal(losses.categorical_hinge_loss(p, [0, 2], reduction="none"), keras)


def test_categorical_hinge_matches_autograd_and_rounds_once():
    rng = np.random.default_rng(50)
    x = rng.standard_normal((50, 4)) * 2
    labels = rng.integers(0, 4, 50)
    xt = t64(x, grad=True)
    expected = crammer_singer(xt, torch.tensor(labels))
    got = losses.categorical_hinge_loss(x, labels, reduction="none")
    # Ours within 1 ulp (2u) of exact (below); torch's fl(fl(1 + best) - own) errs by
    # u |1 + best| (absolute: it may cancel) and u; the rtol applies to torch's value: u more.
    best = np.max(np.where(np.eye(4)[labels] > 0, -np.inf, x), axis=1)
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=4 * U, atol=U * np.max(np.abs(1 + best)))
    expected.mean().backward()
    np.testing.assert_array_equal(losses.categorical_hinge_loss_grad(x, labels), xt.grad.numpy())
    errors = []
    for row, label, value in zip(x, labels, got, strict=True):
        best = max(MP.mpf(float(v)) for i, v in enumerate(row) if i != label)
        errors.append(ulps(value, max(MP.mpf(0), 1 + best - MP.mpf(float(row[label])))))
    # No libm: best - own and 1 + that by TwoSum, rounded once after adding the two error
    # terms (u of a term far below an ulp): 1/2 ulp and a sliver, so 1.
    assert record("categorical_hinge_loss", errors) <= 1


def test_categorical_hinge_kink_takes_the_gradient():
    assert losses.categorical_hinge_loss_grad([[1.0, 0.0]], [0], reduction="sum").tolist() == [[-1.0, 1.0]]
    assert losses.categorical_hinge_loss_grad([[1.5, 0.0]], [0], reduction="sum").tolist() == [[0.0, 0.0]]


# --------------------------------------------------------------------------- common properties


def _binary(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.random(40)
    y[:20] = np.round(y[:20])
    return rng.standard_normal(40) * 4, y


def _probabilities(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.random(40)
    y[:20] = np.round(y[:20])
    return rng.uniform(0.02, 0.98, 40), y


def _classes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((10, 4)) * 3, rng.integers(0, 4, 10)


def _masks(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.random((5, 8)), np.round(rng.random((5, 8)))


CASES: list[tuple[str, Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]], dict[str, Any]]] = [
    ("binary_focal_loss", _binary, {}),
    ("binary_focal_loss", _probabilities, {"from_logits": False, "alpha": 0.25}),
    ("categorical_focal_loss", _classes, {}),
    ("poly_loss_cross_entropy", _classes, {}),
    ("brier_score_loss", _probabilities, {}),
    ("dice_loss", _masks, {}),
    ("dice_loss", _masks, {"axis": 1}),
    ("tversky_loss", _masks, {"alpha": 0.3, "beta": 0.7}),
    ("categorical_hinge_loss", _classes, {}),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, _, kw in CASES]


@pytest.mark.parametrize(("name", "draw", "kw"), CASES, ids=CASE_IDS)
def test_float32_sum_weights_and_refusals(name: str, draw: Callable[..., Any], kw: dict[str, Any]):
    rng = np.random.default_rng(60)
    x, y = draw(rng)
    value, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
    x32 = x.astype(np.float32)
    for reduction in ("mean", "sum", "none"):
        assert np.asarray(value(x32, y, reduction=reduction, **kw)).dtype == np.float32
        assert grad(x32, y, reduction=reduction, **kw).dtype == np.float32
    assert grad(x, y, **kw).shape == x.shape
    none = np.asarray(value(x, y, reduction="none", **kw))
    exact = math.fsum(none.reshape(-1).tolist())
    # The same non-negative values summed pairwise: additions(n) u (8u for n = 40); fsum rounds
    # once (u); the mean's division u, and the reference's u.
    n = none.size
    assert float(value(x, y, reduction="sum", **kw)) == pytest.approx(exact, rel=(additions(n) + 1) * U, abs=1e-300)
    assert float(value(x, y, **kw)) == pytest.approx(exact / max(n, 1), rel=(additions(n) + 3) * U)
    ones = np.ones(none.shape)
    assert value(x, y, sample_weight=ones, **kw) == value(x, y, **kw)
    assert np.array_equal(grad(x, y, sample_weight=ones, **kw), grad(x, y, **kw))
    poisoned = x.copy()
    poisoned.reshape(-1)[3] = np.nan
    for f, fname in ((value, name), (grad, f"{name}_grad")):
        with pytest.raises(NonFiniteError, match=rf"^{fname}: input"):
            f(poisoned, y, **kw)
        with pytest.raises(ShapeMismatchError, match=rf"^{fname}: "):
            f(x[:-1], y, **kw)
        with pytest.raises(InvalidOptionError, match=rf"^{fname}: .*reduction"):
            f(x, y, reduction="avg", **kw)


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: losses.binary_focal_loss([0.0], [2.0]), OutOfRangeError, r"^binary_focal_loss: target must hold labels"),
        (lambda: losses.binary_focal_loss([0.0], [1.0], gamma=-1.0), InvalidOptionError, r"^binary_focal_loss: gamma"),
        (lambda: losses.binary_focal_loss_grad([0.0], [1.0], alpha=1.5), InvalidOptionError,
         r"^binary_focal_loss_grad: alpha"),
        (lambda: losses.binary_focal_loss([0.0], [1.0], from_logits="yes"), InvalidOptionError,
         r"^binary_focal_loss: from_logits"),
        (lambda: losses.binary_focal_loss([2.0], [1.0], from_logits=False), OutOfRangeError,
         r"^binary_focal_loss: input must hold probabilities.*logits"),
        (lambda: losses.categorical_focal_loss([[0.5, 0.6]], [0], from_logits=False), OutOfRangeError,
         r"^categorical_focal_loss: with from_logits=False each row of input"),
        (lambda: losses.categorical_focal_loss([[0.0, 1.0]], [2]), OutOfRangeError,
         r"^categorical_focal_loss: target must hold class indices"),
        (lambda: losses.categorical_focal_loss([[0.0, 1.0]], [-100]), OutOfRangeError,
         r"^categorical_focal_loss: .*no ignore_index"),
        (lambda: losses.poly_loss_cross_entropy([[0.0, 1.0]], [0], epsilon=math.inf), InvalidOptionError,
         r"^poly_loss_cross_entropy: epsilon"),
        (lambda: losses.poly_loss_cross_entropy_grad([[0.0, 1.0]], [[0.5, 0.6]]), OutOfRangeError,
         r"^poly_loss_cross_entropy_grad: each row of class probabilities in target"),
        (lambda: losses.brier_score_loss([0.5], [-1.0]), OutOfRangeError, r"^brier_score_loss: target"),
        (lambda: losses.brier_score_loss_grad([1.5], [1.0]), OutOfRangeError, r"^brier_score_loss_grad: input"),
        (lambda: losses.dice_loss([0.0, 0.0], [0.0, 0.0], smooth=0.0), OutOfRangeError,
         r"^dice_loss: the loss is 0 / 0.*smooth > 0"),
        (lambda: losses.dice_loss([0.5], [1.0], smooth=-1.0), InvalidOptionError, r"^dice_loss: smooth"),
        (lambda: losses.dice_loss([[0.5]], [[1.0]], axis=2), InvalidOptionError, r"^dice_loss: axis 2"),
        (lambda: losses.dice_loss([[0.5]], [[1.0]], axis="rows"), InvalidOptionError, r"^dice_loss: axis must"),
        (lambda: losses.dice_loss_grad(np.ones((2, 3)) / 2, np.ones((2, 3)), axis=1, sample_weight=[1.0]),
         ShapeMismatchError, r"^dice_loss_grad: sample_weight must hold one weight per loss, shape \(2,\)"),
        (lambda: losses.tversky_loss([0.5], [1.0], beta=-0.1), InvalidOptionError, r"^tversky_loss: beta"),
        (lambda: losses.tversky_loss_grad([2.0], [1.0]), OutOfRangeError, r"^tversky_loss_grad: input"),
        (lambda: losses.categorical_hinge_loss([[1.0], [2.0]], [0, 0]), ShapeMismatchError,
         r"^categorical_hinge_loss: input must have at least 2 classes"),
        (lambda: losses.categorical_hinge_loss_grad([[1.0, 0.0]], [[0.5, 0.5]]), OutOfRangeError,
         r"^categorical_hinge_loss_grad: .*one-hot rows"),
    ],
)
def test_bad_input_is_refused_by_name(call: Callable[[], Any], error: type, pattern: str):
    with pytest.raises(error, match=pattern):
        call()


def test_torch_tensors_stay_tensors():
    x = torch.tensor([[1.0, -1.0, 0.5]], dtype=torch.float32)
    for name, args in (("binary_focal_loss", (x, torch.ones_like(x))), ("dice_loss", (torch.sigmoid(x), torch.ones_like(x))),
                       ("categorical_focal_loss", (x, torch.tensor([0]))),
                       ("categorical_hinge_loss", (x, torch.tensor([2])))):
        value = getattr(losses, name)(*args)
        grad = getattr(losses, f"{name}_grad")(*args)
        assert isinstance(grad, torch.Tensor) and grad.dtype == torch.float32 and grad.shape == x.shape, name
        assert isinstance(value, torch.Tensor), name


def test_large_class_input_in_blocks_gives_the_bits_of_small_calls():
    rng = np.random.default_rng(70)
    x = rng.standard_normal((12000, 4)) * 3  # 48000 scores: more than one block
    y = rng.integers(0, 4, 12000)
    for name in ("categorical_focal_loss", "poly_loss_cross_entropy"):
        value, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
        whole = value(x, y, reduction="none")
        gradient = grad(x, y, reduction="sum")
        for start in (0, 5000, 11900):
            part = slice(start, start + 100)
            assert np.array_equal(whole[part], value(x[part], y[part], reduction="none")), name
            assert np.array_equal(gradient[part], grad(x[part], y[part], reduction="sum")), name
