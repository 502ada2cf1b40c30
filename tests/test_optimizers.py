"""Optimizers: the same path as torch.optim, a quadratic minimized, exact restarts, clear errors.

References, never this package's own output:

* ``torch.optim`` (PyTorch 2.13.0, CPU): SGD, Adam, AdamW and RMSprop, every variant,
  fed the same random gradients for 25 steps (the learning rate halved half-way, as a
  schedule would). float64: within 1e-12 of the largest magnitude of each parameter;
  float32: within 4 float32 ulps of it. The tolerance is relative to the largest
  magnitude the parameter has had so far, not to each element, because a weight that
  passes near zero on its way keeps the absolute rounding error of the larger values it
  was computed from.
* Hand derivations: the first steps of every rule in closed form, and the minimizer
  ``a c / (a + lambda)`` of the quadratic ``sum(a (w - c)^2) / 2 + lambda |w|^2 / 2``.
* The uninterrupted run itself, for the state round trip (bit for bit).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import neural_network
from neural_network.errors import (
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    ShapeMismatchError,
)
from neural_network.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop, get_optimizer
from neural_network.parameters import Parameter

PACKAGE_DIR = Path(neural_network.__file__).resolve().parent

# --------------------------------------------------------------------------- the variants


@dataclass(frozen=True)
class Variant:
    """One configuration of an optimizer, here and in torch.optim."""

    id: str
    make: Callable[[], Optimizer]
    torch_class: type[torch.optim.Optimizer]
    torch_options: dict[str, Any]


VARIANTS = [
    Variant("sgd", lambda: SGD(0.1), torch.optim.SGD, {"lr": 0.1}),
    Variant("sgd-momentum", lambda: SGD(0.1, momentum=0.9), torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    Variant(
        "sgd-nesterov",
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        torch.optim.SGD,
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    ),
    Variant(
        "sgd-weight-decay",
        lambda: SGD(0.1, weight_decay=0.05),
        torch.optim.SGD,
        {"lr": 0.1, "weight_decay": 0.05},
    ),
    Variant(
        "sgd-dampening",
        lambda: SGD(0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1},
    ),
    Variant("adam", lambda: Adam(0.01), torch.optim.Adam, {"lr": 0.01}),
    Variant(
        "adam-amsgrad",
        lambda: Adam(0.01, beta1=0.8, beta2=0.99, amsgrad=True),
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True},
    ),
    Variant(
        "adam-weight-decay",
        lambda: Adam(0.01, weight_decay=0.1, epsilon=1e-6),
        torch.optim.Adam,
        {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-6},
    ),
    Variant(
        "adamw", lambda: AdamW(0.01, weight_decay=0.1), torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}
    ),
    Variant(
        "adamw-amsgrad", lambda: AdamW(0.01, amsgrad=True), torch.optim.AdamW, {"lr": 0.01, "amsgrad": True}
    ),
    Variant("rmsprop", lambda: RMSprop(0.01), torch.optim.RMSprop, {"lr": 0.01}),
    Variant(
        "rmsprop-centered",
        lambda: RMSprop(0.01, centered=True),
        torch.optim.RMSprop,
        {"lr": 0.01, "centered": True},
    ),
    Variant(
        "rmsprop-momentum",
        lambda: RMSprop(0.01, momentum=0.9, weight_decay=0.05),
        torch.optim.RMSprop,
        {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.05},
    ),
    Variant(
        "rmsprop-centered-momentum",
        lambda: RMSprop(0.01, alpha=0.9, momentum=0.5, centered=True),
        torch.optim.RMSprop,
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
    ),
]
BY_ID = {variant.id: variant for variant in VARIANTS}

# A matrix, a vector, a 3-d array and a scalar; gradients of very different sizes, so
# that epsilon matters for the smallest and the adaptive methods' scaling for all.
SHAPES = [(7, 5), (5,), (3, 4, 2), ()]
GRADIENT_SCALES = [1.0, 1e-3, 10.0, 1e-7]
DTYPES = [np.float64, np.float32]


def make_parameters(rng: np.random.Generator, dtype: type) -> list[Parameter]:
    return [
        Parameter(f"p{i}", np.asarray(rng.standard_normal(shape), dtype=dtype))
        for i, shape in enumerate(SHAPES)
    ]


def make_gradients(rng: np.random.Generator, dtype: type, steps: int) -> list[list[np.ndarray]]:
    return [
        [
            np.asarray(scale * rng.standard_normal(shape), dtype=dtype)
            for shape, scale in zip(SHAPES, GRADIENT_SCALES, strict=True)
        ]
        for _ in range(steps)
    ]


def run(optimizer: Optimizer, parameters: list[Parameter], gradients: list[list[np.ndarray]]) -> None:
    for step_gradients in gradients:
        for p, g in zip(parameters, step_gradients, strict=True):
            p.grad = g.copy()
        optimizer.step(parameters)


def copy_parameters(parameters: list[Parameter]) -> list[Parameter]:
    return [Parameter(p.name, p.value.copy()) for p in parameters]


# --------------------------------------------------------------------------- parity with torch.optim


def assert_matches_torch(
    ours: np.ndarray, reference: np.ndarray, dtype: type, scale: float, where: str
) -> None:
    """``ours`` within 1e-12 (float64) or 4 ulps (float32) of ``scale``, the largest magnitude so far."""
    assert ours.dtype == reference.dtype == dtype, where
    tolerance = 1e-12 * scale if dtype == np.float64 else 4 * float(np.spacing(np.float32(scale)))
    error = float(np.abs(ours.astype(np.float64) - reference.astype(np.float64)).max())
    assert error <= tolerance, f"{where}: |ours - torch| = {error:.3g} > {tolerance:.3g} (scale {scale:.3g})"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_same_path_as_torch(variant: Variant, dtype: type) -> None:
    rng = np.random.default_rng(20240613)
    ours = make_parameters(rng, dtype)
    theirs = [torch.nn.Parameter(torch.from_numpy(p.value.copy())) for p in ours]
    optimizer = variant.make()
    reference = variant.torch_class(theirs, **variant.torch_options)
    # The largest magnitude each parameter has had: a weight that has travelled through
    # zero keeps the absolute rounding error of the larger values it was computed from.
    scales = [float(np.abs(p.value).max()) for p in ours]
    for step, gradients in enumerate(make_gradients(rng, dtype, 25)):
        if step == 12:  # a learning-rate schedule changes the rate between steps
            optimizer.learning_rate = optimizer.learning_rate / 2
            for group in reference.param_groups:
                group["lr"] = group["lr"] / 2
        for p, t, g in zip(ours, theirs, gradients, strict=True):
            p.grad = g.copy()
            t.grad = torch.from_numpy(g.copy())
        optimizer.step(ours)
        reference.step()
        for i, (p, t) in enumerate(zip(ours, theirs, strict=True)):
            reference_value = t.detach().numpy()
            scales[i] = max(scales[i], float(np.abs(reference_value).max()))
            assert_matches_torch(p.value, reference_value, dtype, scales[i], f"step {step + 1}, {p.name}")


def test_torch_returns_nan_where_centered_rmsprop_stays_finite() -> None:
    """The one intended difference: the centered variance v - mean(g)^2 is clamped at 0.

    After a long run of equal gradients the two terms agree to the last bit and their
    rounded difference can be negative; torch takes its square root (NaN), we take 0.
    """
    g = np.random.default_rng(1).standard_normal(1000)
    ours = Parameter("w", np.zeros(1000))
    theirs = torch.nn.Parameter(torch.zeros(1000, dtype=torch.float64))
    optimizer = RMSprop(1e-3, alpha=0.5, centered=True)
    reference = torch.optim.RMSprop([theirs], lr=1e-3, alpha=0.5, centered=True)
    for _ in range(200):
        ours.grad = g.copy()
        theirs.grad = torch.from_numpy(g.copy())
        optimizer.step([ours])  # no RuntimeWarning either (warnings are errors here)
        reference.step()
    assert torch.isnan(theirs).any()
    assert np.isfinite(ours.value).all()


# --------------------------------------------------------------------------- first steps by hand

W0 = np.array([1.5, -0.5, 0.25, -2.0])
G1 = np.array([0.2, -3.0, 1e-6, 0.7])
G2 = np.array([-0.4, 1.0, 2e-6, 0.7])


def after(optimizer: Optimizer, *gradients: np.ndarray) -> np.ndarray:
    w = Parameter("w", W0.copy())
    for g in gradients:
        w.grad = g.copy()
        optimizer.step([w])
    return w.value


FIRST_STEPS = [
    ("sgd", lambda: after(SGD(0.1), G1), W0 - 0.1 * G1),
    ("sgd-weight-decay", lambda: after(SGD(0.1, weight_decay=0.5), G1), W0 - 0.1 * (G1 + 0.5 * W0)),
    # The buffer starts as the first gradient itself: dampening is not applied at step 1.
    ("sgd-dampening-step-1", lambda: after(SGD(0.1, momentum=0.9, dampening=0.5), G1), W0 - 0.1 * G1),
    (
        "sgd-dampening-step-2",
        lambda: after(SGD(0.1, momentum=0.9, dampening=0.5), G1, G2),
        W0 - 0.1 * G1 - 0.1 * (0.9 * G1 + 0.5 * G2),
    ),
    ("sgd-nesterov", lambda: after(SGD(0.1, momentum=0.9, nesterov=True), G1), W0 - 0.1 * (G1 + 0.9 * G1)),
    # m_hat = g and v_hat = g^2 after one step, so Adam moves each weight by lr * g / (|g| + eps).
    ("adam", lambda: after(Adam(0.1), G1), W0 - 0.1 * G1 / (np.abs(G1) + 1e-8)),
    ("adam-amsgrad", lambda: after(Adam(0.1, amsgrad=True), G1), W0 - 0.1 * G1 / (np.abs(G1) + 1e-8)),
    (
        "adamw",
        lambda: after(AdamW(0.1, weight_decay=0.5), G1),
        (1 - 0.1 * 0.5) * W0 - 0.1 * G1 / (np.abs(G1) + 1e-8),
    ),
    ("rmsprop", lambda: after(RMSprop(0.1), G1), W0 - 0.1 * G1 / (math.sqrt(0.01) * np.abs(G1) + 1e-8)),
    # v - mean(g)^2 = (1 - a) g^2 - (1 - a)^2 g^2 = a (1 - a) g^2.
    (
        "rmsprop-centered",
        lambda: after(RMSprop(0.1, centered=True), G1),
        W0 - 0.1 * G1 / (math.sqrt(0.99 * 0.01) * np.abs(G1) + 1e-8),
    ),
]


U = 2.0**-53
"""The relative error of a correctly rounded float64 operation (tests/error_model.py)."""

RMSPROP_CONSTANT = float((Fraction(1) - Fraction(0.99) - Fraction(0.01)) / Fraction(0.01)) / U
"""RMSprop's 1 - alpha is 1 - fl(0.99) (exact in floats, by Sterbenz), not the float 0.01
of the hand formula: 7.8u apart, 3.9u after the root."""

FIRST_STEP_ROUNDINGS = {
    # Both sides' correctly rounded operations (sqrt included), counted on each weight's
    # path (ours, the hand formula); the abs, the copies and the products by 0.5 are exact.
    "sgd": 2 + 2,  # lr g, w - ; 0.1 G1, W0 -
    "sgd-weight-decay": 4 + 4,  # wd w, g +, lr *, w - ; the same four
    "sgd-dampening-step-1": 2 + 2,  # the buffer is g: as sgd
    "sgd-dampening-step-2": 6 + 6,  # step 1 (2), 0.9 b, b +, lr *, w - ; 0.1 G1, -, 0.9 G1, +, 0.1 *, -
    "sgd-nesterov": 4 + 4,  # 0.9 b, g +, lr *, w - ; the same four
    # (1 - b1) g, g g, (1 - b2) *, sqrt(v) (half of v's 2u, and its own), sqrt(bc2), /, + eps,
    # lr / bc1, m / denominator, step *, w - : 10 (with the root's halving, within 10);
    # |G1| + eps, /, 0.1 *, W0 - : 4.
    "adam": 10 + 4,
    "adam-amsgrad": 10 + 4,  # max(v_max, v): exact
    "adamw": 3 + 10 + 3 + 4,  # and (1 - lr wd) w: lr wd, 1 -, * on both sides
    # g g, (1 - a) *, sqrt (v's 2u halved, and its own), + eps, g /, lr *, w - : 6;
    # sqrt(0.01), * |G1|, + eps, /, 0.1 *, W0 - : 6; the constant: 3.9 -> 4.
    "rmsprop": 6 + 6 + math.ceil(RMSPROP_CONSTANT / 2),
    # g_avg (1 - a) g u, v - g_avg^2 (the terms c g^2 and c^2 g^2 cancel by 1.02: 3.1u),
    # the root (half, and its own) 2.6, + eps, /, lr *, w - : 7; 0.99 * 0.01, the root 1.5,
    # * |G1|, + eps, /, 0.1 *, W0 - : 7.5; the constant: 3.9 -> 4.
    "rmsprop-centered": 7 + 8 + math.ceil(RMSPROP_CONSTANT / 2),
}
"""The roundings of both computations of each first step. Each errs by u of a quantity no
larger than S = |W0| + 0.1 (|G1| + |G2| + 0.5 |W0|) + |W0 - expected| (the weight, the terms of
the step, the step): an error of a product, quotient or root passes to the step relative
(the step <= S), of a sum absolute (every partial sum <= S). So within R u S."""


@pytest.mark.parametrize(
    ("name", "case", "expected"), [(c[0], c[1], c[2]) for c in FIRST_STEPS], ids=[c[0] for c in FIRST_STEPS]
)
def test_first_steps_by_hand(name: str, case: Callable[[], np.ndarray], expected: np.ndarray) -> None:
    size = np.abs(W0) + 0.1 * (np.abs(G1) + np.abs(G2) + 0.5 * np.abs(W0)) + np.abs(W0 - expected)
    allowed = FIRST_STEP_ROUNDINGS[name] * U * size  # derived there
    got = case()
    assert np.all(np.abs(got - expected) <= allowed), (got, expected, allowed)


# --------------------------------------------------------------------------- a quadratic

QUADRATIC_A = np.random.default_rng(7).uniform(0.5, 5.0, 10)
QUADRATIC_C = np.random.default_rng(8).uniform(-2.0, 2.0, 10)

# (optimizer, L2 penalty in its gradient, tolerance on |w - minimizer| after 2000 steps).
# Adaptive steps do not shrink with the gradient: RMSprop with momentum or weight decay
# ends up circling the minimum at a distance of the order of its learning rate (as
# torch's does), and AdamW's decoupled decay is balanced by gradients divided by a
# second moment that still remembers the large early gradients.
QUADRATICS = [
    (lambda: SGD(0.1), 0.0, 1e-10),
    (lambda: SGD(0.05, momentum=0.9), 0.0, 1e-10),
    (lambda: SGD(0.05, momentum=0.9, nesterov=True), 0.0, 1e-10),
    (lambda: SGD(0.05, momentum=0.5, dampening=0.5), 0.0, 1e-10),
    (lambda: SGD(0.1, weight_decay=0.3), 0.3, 1e-10),
    (lambda: Adam(0.05), 0.0, 1e-10),
    (lambda: Adam(0.05, amsgrad=True), 0.0, 1e-10),
    (lambda: Adam(0.05, weight_decay=0.3), 0.3, 1e-10),
    (lambda: AdamW(0.05), 0.0, 2e-2),
    (lambda: RMSprop(0.01), 0.0, 1e-10),
    (lambda: RMSprop(0.01, centered=True), 0.0, 1e-10),
    (lambda: RMSprop(0.01, momentum=0.9), 0.0, 5e-2),
    (lambda: RMSprop(0.01, weight_decay=0.3), 0.3, 5e-2),
]


@pytest.mark.parametrize(
    ("make", "penalty", "tolerance"), QUADRATICS, ids=lambda x: repr(x()) if callable(x) else None
)
def test_minimizes_a_quadratic(make: Callable[[], Optimizer], penalty: float, tolerance: float) -> None:
    a, c = QUADRATIC_A, QUADRATIC_C
    minimizer = a * c / (a + penalty)  # where a (w - c) + penalty w = 0

    def loss(w: np.ndarray) -> float:
        return float(0.5 * np.sum(a * (w - c) ** 2) + 0.5 * penalty * np.sum(w * w))

    w = Parameter("w", np.zeros(10))
    start = loss(w.value) - loss(minimizer)
    optimizer = make()
    for _ in range(2000):
        w.grad = a * (w.value - c)  # the penalty's gradient is the optimizer's weight_decay
        optimizer.step([w])
    assert np.abs(w.value - minimizer).max() <= tolerance
    assert loss(w.value) - loss(minimizer) <= 1e-3 * start


# --------------------------------------------------------------------------- state_dict


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_restored_state_continues_bit_for_bit(variant: Variant, dtype: type) -> None:
    rng = np.random.default_rng(5)
    start = make_parameters(rng, dtype)
    gradients = make_gradients(rng, dtype, 20)

    uninterrupted = copy_parameters(start)
    run(variant.make(), uninterrupted, gradients)

    first = copy_parameters(start)
    optimizer = variant.make()
    run(optimizer, first, gradients[:10])
    saved_state = optimizer.state_dict()
    saved_values = [p.value.copy() for p in first]
    # Stepping on after saving must not change what was saved.
    run(optimizer, first, gradients[10:])

    resumed = [Parameter(p.name, value) for p, value in zip(start, saved_values, strict=True)]
    restored = variant.make()
    restored.load_state_dict(saved_state)
    run(restored, resumed, gradients[10:])

    for a, b, c in zip(uninterrupted, first, resumed, strict=True):
        assert a.value.dtype == c.value.dtype == dtype
        assert a.value.tobytes() == b.value.tobytes() == c.value.tobytes()
    assert restored.step_count == 20
    assert_same_state(restored.state_dict(), optimizer.state_dict())


def assert_same_state(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert {k: v for k, v in a.items() if k != "parameters"} == {
        k: v for k, v in b.items() if k != "parameters"
    }
    assert len(a["parameters"]) == len(b["parameters"])
    for x, y in zip(a["parameters"], b["parameters"], strict=True):
        assert (x["name"], x["shape"]) == (y["name"], y["shape"])
        assert sorted(x["buffers"]) == sorted(y["buffers"])
        for key in x["buffers"]:
            assert x["buffers"][key].dtype == y["buffers"][key].dtype
            assert x["buffers"][key].tobytes() == y["buffers"][key].tobytes()


def test_state_dict_layout_and_json() -> None:
    w = Parameter("weights", np.ones((2, 3)))
    b = Parameter("bias", np.ones(3))
    optimizer = Adam(0.01, amsgrad=True)
    assert optimizer.state_dict() == {
        "optimizer": "Adam",
        "hyperparameters": {
            "learning_rate": 0.01,
            "beta1": 0.9,
            "beta2": 0.999,
            "epsilon": 1e-8,
            "weight_decay": 0.0,
            "amsgrad": True,
        },
        "step": 0,
        "parameters": [],
    }
    optimizer.step([w, b])
    state = optimizer.state_dict()
    assert state["step"] == 1
    assert [(e["name"], e["shape"], sorted(e["buffers"])) for e in state["parameters"]] == [
        ("weights", [2, 3], ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
        ("bias", [3], ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ]
    # Everything but the arrays goes through JSON unchanged.
    described = {
        **state,
        "parameters": [{k: v for k, v in e.items() if k != "buffers"} for e in state["parameters"]],
    }
    assert json.loads(json.dumps(described)) == described
    # Plain SGD keeps no per-parameter arrays; with momentum, one buffer.
    plain, heavy = SGD(0.1), SGD(0.1, momentum=0.9)
    plain.step([w])
    heavy.step([w])
    assert plain.state_dict()["parameters"][0]["buffers"] == {}
    assert list(heavy.state_dict()["parameters"][0]["buffers"]) == ["momentum_buffer"]


def test_load_restores_hyperparameters() -> None:
    saved = Adam(0.02, beta1=0.8, amsgrad=True)
    saved.step([Parameter("w", np.ones(3))])
    fresh = Adam()
    fresh.load_state_dict(saved.state_dict())
    assert repr(fresh) == repr(saved)
    assert fresh.step_count == 1


def test_load_into_an_optimizer_already_stepped() -> None:
    rng = np.random.default_rng(11)
    start = make_parameters(rng, np.float64)
    gradients = make_gradients(rng, np.float64, 20)
    uninterrupted = copy_parameters(start)
    run(Adam(0.01), uninterrupted, gradients)

    saved = copy_parameters(start)
    optimizer = Adam(0.01)
    run(optimizer, saved, gradients[:10])
    state = optimizer.state_dict()

    # Another optimizer, bound to its own parameters by a few other steps, is reset.
    other = copy_parameters(start)
    busy = Adam(0.01)
    run(busy, other, gradients[15:])
    for p, q in zip(other, saved, strict=True):
        p.value[...] = q.value
    busy.load_state_dict(state)
    run(busy, other, gradients[10:])
    for a, b in zip(uninterrupted, other, strict=True):
        assert a.value.tobytes() == b.value.tobytes()


def test_state_saved_before_any_step_starts_afresh() -> None:
    params = [Parameter("w", np.ones(2))]
    stepped = SGD(0.1, momentum=0.9)
    stepped.step(params)
    stepped.load_state_dict(SGD(0.5, momentum=0.9).state_dict())
    assert stepped.step_count == 0
    assert stepped.learning_rate == 0.5
    params[0].grad[:] = [1.0, 2.0]
    stepped.step(params)
    np.testing.assert_array_equal(params[0].value, [1.0 - 0.5, 1.0 - 1.0])


def test_state_is_converted_to_the_parameters_dtype() -> None:
    """As in torch: floating state follows the dtype of the parameter it is loaded for."""
    saved = Adam(0.01)
    saved.step([Parameter("w", np.ones(3))])
    state = saved.state_dict()
    w = Parameter("w", np.ones(3, dtype=np.float32))
    restored = Adam(0.01)
    restored.load_state_dict(state)
    w.grad[:] = 1.0
    restored.step([w])
    assert w.value.dtype == np.float32
    assert all(a.dtype == np.float32 for a in restored.state_dict()["parameters"][0]["buffers"].values())


# --------------------------------------------------------------------------- dtypes and in-place updates


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_updates_in_place_keeping_the_dtype(variant: Variant, dtype: type) -> None:
    rng = np.random.default_rng(3)
    params = make_parameters(rng, dtype)
    arrays = [p.value for p in params]
    views = [p.value.reshape(-1) for p in params]
    before = [p.value.copy() for p in params]
    optimizer = variant.make()
    for gradients in make_gradients(rng, dtype, 3):
        for p, g in zip(params, gradients, strict=True):
            p.grad = g
        optimizer.step(params)
        for p, g in zip(params, gradients, strict=True):
            assert p.grad is g  # the gradient is read, never written (weight decay included)
    for p, array, view in zip(params, arrays, views, strict=True):
        assert p.value is array
        assert p.value.dtype == dtype
        assert np.array_equal(view, p.value.reshape(-1))  # a view sees the update
    assert any(not np.array_equal(p.value, old) for p, old in zip(params, before, strict=True))
    for entry in optimizer.state_dict()["parameters"]:
        assert all(buffer.dtype == dtype for buffer in entry["buffers"].values())


def test_gradients_are_left_unchanged() -> None:
    for variant in VARIANTS:
        w = Parameter("w", np.array([1.0, -2.0, 3.0]))
        g = np.array([0.5, 0.25, -1.0])
        optimizer = variant.make()
        for _ in range(3):
            w.grad = g
            optimizer.step([w])
        np.testing.assert_array_equal(g, [0.5, 0.25, -1.0], err_msg=variant.id)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_a_float64_gradient_is_rounded_to_a_float32_parameter(variant: Variant) -> None:
    rng = np.random.default_rng(4)
    value = rng.standard_normal(6).astype(np.float32)
    gradients = [rng.standard_normal(6) for _ in range(3)]
    wide, narrow = Parameter("w", value.copy()), Parameter("w", value.copy())
    wide_optimizer, narrow_optimizer = variant.make(), variant.make()
    for g in gradients:
        wide.grad = g
        narrow.grad = g.astype(np.float32)
        wide_optimizer.step([wide])
        narrow_optimizer.step([narrow])
    assert wide.value.dtype == np.float32
    assert wide.value.tobytes() == narrow.value.tobytes()


# --------------------------------------------------------------------------- construction, repr, by name


def test_repr_shows_every_option_and_evaluates_back() -> None:
    assert repr(Adam()) == (
        "Adam(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08, weight_decay=0.0, amsgrad=False)"
    )
    assert repr(SGD(0.1, momentum=0.9, nesterov=True)) == (
        "SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.0, dampening=0.0)"
    )
    assert repr(AdamW()) == (
        "AdamW(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08, weight_decay=0.01, amsgrad=False)"
    )
    assert repr(RMSprop()) == (
        "RMSprop(learning_rate=0.01, alpha=0.99, epsilon=1e-08, momentum=0.0, centered=False, weight_decay=0.0)"
    )
    names = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop}
    for variant in VARIANTS:
        optimizer = variant.make()
        assert repr(eval(repr(optimizer), names)) == repr(optimizer)


def test_defaults_match_torch() -> None:
    """Our defaults are torch.optim's, but for SGD's learning rate (0.01, as Keras; torch's is 1e-3)."""
    assert SGD().learning_rate == 0.01
    pairs = [
        (
            SGD(),
            torch.optim.SGD,
            {"momentum": "momentum", "weight_decay": "weight_decay", "dampening": "dampening"},
        ),
        (Adam(), torch.optim.Adam, {"learning_rate": "lr", "epsilon": "eps", "weight_decay": "weight_decay"}),
        (
            AdamW(),
            torch.optim.AdamW,
            {"learning_rate": "lr", "epsilon": "eps", "weight_decay": "weight_decay"},
        ),
        (RMSprop(), torch.optim.RMSprop, {"learning_rate": "lr", "alpha": "alpha", "epsilon": "eps"}),
    ]
    for ours, torch_class, names in pairs:
        defaults = torch_class([torch.nn.Parameter(torch.zeros(1))]).defaults
        for our_name, torch_name in names.items():
            assert ours.hyperparameters()[our_name] == defaults[torch_name], (ours, our_name)
        if "betas" in defaults:
            assert (ours.hyperparameters()["beta1"], ours.hyperparameters()["beta2"]) == defaults["betas"]


def test_learning_rate_first_positional_or_keyword_and_the_rest_keyword_only() -> None:
    assert repr(Adam(0.01)) == repr(Adam(learning_rate=0.01))
    with pytest.raises(TypeError):
        Adam(0.01, 0.9)
    with pytest.raises(TypeError):
        SGD(0.01, 0.9)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("sgd", SGD), ("SGD", SGD), ("Adam", Adam), ("ADAMW", AdamW), ("adamw", AdamW), ("RMSprop", RMSprop)],
)
def test_get_optimizer(name: str, expected: type[Optimizer]) -> None:
    optimizer = get_optimizer(name, learning_rate=0.5)
    assert type(optimizer) is expected
    assert optimizer.learning_rate == 0.5
    assert repr(get_optimizer(name)) == repr(expected())


# --------------------------------------------------------------------------- errors


def assert_refused(call: Callable[[], object], error: type[Exception], words: list[str]) -> str:
    """``call`` raises exactly ``error``, from this package, with every key word in its message."""
    with pytest.raises(Exception) as excinfo:  # the exact type is checked below
        call()
    exc = excinfo.value
    assert type(exc) is error, f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
    assert isinstance(exc, TypeError if issubclass(error, InvalidTypeError) else ValueError)
    message = str(exc)
    missing = [word for word in words if word not in message]
    assert not missing, f"message lacks {missing!r}:\n{message}"
    innermost = Path(str(excinfo.traceback[-1].path)).resolve()
    assert PACKAGE_DIR in innermost.parents, f"raised from {innermost}, not from neural_network"
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    return message


OPTION_ERRORS: list[tuple[str, Callable[[], object], list[str]]] = [
    ("negative-lr", lambda: SGD(-0.1), ["SGD: learning_rate", "[0, inf)", "-0.1", "climb the loss"]),
    ("nan-lr", lambda: Adam(math.nan), ["Adam: learning_rate", "finite", "nan"]),
    ("inf-lr", lambda: RMSprop(math.inf), ["RMSprop: learning_rate", "finite", "inf"]),
    ("string-lr", lambda: Adam("0.01"), ["learning_rate", "'0.01' (type str)", "learning_rate=0.01"]),
    ("bool-lr", lambda: SGD(True), ["learning_rate", "True (type bool)"]),
    ("none-lr", lambda: SGD(None), ["learning_rate", "None (type NoneType)"]),
    ("beta1-one", lambda: Adam(beta1=1.0), ["beta1", "[0, 1)", "1.0", "0.9"]),
    ("beta1-above-one", lambda: AdamW(beta1=1.5), ["AdamW: beta1", "[0, 1)", "1.5"]),
    ("beta2-negative", lambda: Adam(beta2=-0.1), ["beta2", "[0, 1)", "-0.1", "0.999"]),
    ("torch-betas", lambda: Adam(beta1=(0.9, 0.999)), ["beta1", "tuple", "beta1=b1, beta2=b2"]),
    ("epsilon-negative", lambda: Adam(epsilon=-1e-8), ["epsilon", "(0, inf)", "-1e-08", "1e-8"]),
    ("epsilon-zero", lambda: RMSprop(epsilon=0.0), ["epsilon", "(0, inf)", "zero"]),
    ("weight-decay-negative", lambda: AdamW(weight_decay=-0.01), ["weight_decay", "[0, inf)", "-0.01"]),
    ("momentum-negative", lambda: SGD(momentum=-0.9), ["SGD: momentum", "[0, 1)", "-0.9"]),
    ("momentum-one", lambda: RMSprop(momentum=1.0), ["RMSprop: momentum", "[0, 1)", "grow without bound"]),
    ("dampening-above-one", lambda: SGD(momentum=0.9, dampening=2.0), ["dampening", "[0, 1]", "2.0"]),
    ("alpha-one", lambda: RMSprop(alpha=1.0), ["alpha", "[0, 1)", "0.99"]),
    (
        "nesterov-without-momentum",
        lambda: SGD(nesterov=True),
        ["nesterov=True needs momentum > 0 and dampening = 0", "momentum=0.0", "momentum=0.9"],
    ),
    (
        "nesterov-with-dampening",
        lambda: SGD(momentum=0.9, nesterov=True, dampening=0.1),
        ["nesterov=True needs", "dampening=0.1"],
    ),
    ("string-flag", lambda: RMSprop(centered="yes"), ["centered must be True or False", "'yes' (type str)"]),
    ("int-flag", lambda: Adam(amsgrad=1), ["amsgrad must be True or False", "1 (type int)"]),
    ("schedule-sets-negative-lr", lambda: setattr(SGD(), "learning_rate", -1.0), ["learning_rate", "-1.0"]),
    ("unknown-name", lambda: get_optimizer("adagrad"), ["'sgd', 'adam', 'adamw', 'rmsprop'", "'adagrad'"]),
    ("misspelled-name", lambda: get_optimizer("adma"), ["got 'adma'", "Did you mean 'adam'?"]),
    ("non-string-name", lambda: get_optimizer(Adam), ["name must be one of", "type"]),
    ("torch-lr", lambda: get_optimizer("adam", lr=0.1), ["Adam has no option 'lr'", "learning_rate="]),
    ("torch-betas-option", lambda: get_optimizer("adamw", betas=(0.9, 0.99)), ["beta1= and beta2="]),
    ("unknown-option", lambda: get_optimizer("sgd", beta1=0.9), ["SGD has no option 'beta1'", "momentum"]),
    ("bad-value-by-name", lambda: get_optimizer("sgd", momentum=-1), ["SGD: momentum", "-1"]),
]


@pytest.mark.parametrize(
    ("call", "words"), [(c[1], c[2]) for c in OPTION_ERRORS], ids=[c[0] for c in OPTION_ERRORS]
)
def test_invalid_options(call: Callable[[], object], words: list[str]) -> None:
    assert_refused(call, InvalidOptionError, words)


def stepped(optimizer: Optimizer, params: list[Parameter]) -> Optimizer:
    optimizer.step(params)
    return optimizer


def two_parameters() -> list[Parameter]:
    return [Parameter("weights", np.ones((2, 3))), Parameter("bias", np.ones(3))]


def with_grad(p: Parameter, grad: object) -> Parameter:
    p.grad = grad
    return p


def reshaped(p: Parameter, shape: tuple[int, ...]) -> Parameter:
    p.value = np.ones(shape)
    p.grad = np.ones(shape)
    return p


def saved(optimizer: Optimizer, params: list[Parameter]) -> dict[str, Any]:
    optimizer.step(params)
    return optimizer.state_dict()


def loaded(optimizer: Optimizer, state: dict[str, Any]) -> Optimizer:
    optimizer.load_state_dict(state)
    return optimizer


def edited(state: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**state, **changes}


P = two_parameters()
ADAM_STATE = saved(Adam(), P)

STEP_AND_LOAD_ERRORS: list[tuple[str, Callable[[], object], type[Exception], list[str]]] = [
    ("single-parameter", lambda: SGD().step(P[0]), InvalidTypeError, ["sequence of Parameter", "step([p])"]),
    ("not-iterable", lambda: SGD().step(3), InvalidTypeError, ["sequence of Parameter", "3 (type int)"]),
    ("empty", lambda: Adam().step([]), InvalidInputError, ["Adam.step", "parameters is empty"]),
    (
        "arrays-not-parameters",
        lambda: SGD().step([np.ones(3)]),
        InvalidTypeError,
        ["parameters[0] must be a Parameter", "network.parameters()"],
    ),
    (
        "integer-parameter",
        lambda: SGD().step([Parameter("w", np.ones(3, dtype=int))]),
        InvalidTypeError,
        ["'w'", "floating-point NumPy array"],
    ),
    (
        "gradient-none",
        lambda: SGD().step([with_grad(Parameter("w", np.ones(3)), None)]),
        InvalidTypeError,
        ["gradient of parameter 0 ('w')", "None", "backward pass"],
    ),
    (
        "gradient-shape",
        lambda: SGD().step([with_grad(Parameter("w", np.ones((3, 1))), np.ones(3))]),
        ShapeMismatchError,
        ["gradient of parameter 0 ('w') has shape (3,)", "shape (3, 1)", "nothing is broadcast"],
    ),
    (
        "other-parameters-later",
        lambda: stepped(Adam(), two_parameters()).step(two_parameters()),
        InvalidInputError,
        [
            "state for the 2 parameters of its first step",
            "weights, bias",
            "same objects",
            "one optimizer per model",
        ],
    ),
    (
        "fewer-parameters-later",
        lambda: stepped(Adam(), P).step(P[:1]),
        InvalidInputError,
        ["2 parameters", "got 1 parameters (weights)"],
    ),
    (
        "reordered-parameters-later",
        lambda: stepped(Adam(), P).step(P[::-1]),
        InvalidInputError,
        ["same order", "(bias, weights)"],
    ),
    (
        "parameter-reshaped-later",
        lambda: stepped(Adam(), (q := two_parameters())).step([q[0], reshaped(q[1], (4,))]),
        ShapeMismatchError,
        ["parameter 1 ('bias') has shape (4,)", "shape (3,)"],
    ),
    (
        "load-not-a-dict",
        lambda: Adam().load_state_dict([]),
        InvalidTypeError,
        ["dict with keys", "state_dict()"],
    ),
    (
        "load-missing-key",
        lambda: Adam().load_state_dict({"step": 1}),
        InvalidTypeError,
        ["'hyperparameters'", "got ['step']"],
    ),
    (
        "load-other-optimizer",
        lambda: SGD().load_state_dict(ADAM_STATE),
        InvalidInputError,
        ["saved from 'Adam', not 'SGD'", "load it into Adam()"],
    ),
    (
        "load-bad-hyperparameter",
        lambda: Adam().load_state_dict(
            edited(ADAM_STATE, hyperparameters={**ADAM_STATE["hyperparameters"], "beta1": 2})
        ),
        InvalidOptionError,
        ["beta1", "[0, 1)"],
    ),
    (
        "load-missing-hyperparameter",
        lambda: Adam().load_state_dict(edited(ADAM_STATE, hyperparameters={"learning_rate": 0.1})),
        InvalidInputError,
        ["hyperparameters must have the keys", "'beta1'"],
    ),
    (
        "load-negative-step",
        lambda: Adam().load_state_dict(edited(ADAM_STATE, step=-1)),
        InvalidInputError,
        ["step must be an integer >= 0", "-1"],
    ),
    (
        "load-step-without-entries",
        lambda: Adam().load_state_dict(edited(ADAM_STATE, parameters=[])),
        InvalidInputError,
        ["step=1", "one entry per parameter", "0 entries"],
    ),
    (
        "load-missing-buffer",
        lambda: Adam().load_state_dict(
            edited(
                ADAM_STATE,
                parameters=[
                    {**e, "buffers": {"exp_avg": e["buffers"]["exp_avg"]}} for e in ADAM_STATE["parameters"]
                ],
            )
        ),
        InvalidInputError,
        ["parameters[0] ('weights') must have the buffers ['exp_avg', 'exp_avg_sq']", "got ['exp_avg']"],
    ),
    (
        "load-momentum-state-into-plain-sgd",
        lambda: SGD(momentum=0.9).load_state_dict(
            edited(saved(SGD(), two_parameters()), hyperparameters=SGD(momentum=0.9).hyperparameters())
        ),
        InvalidInputError,
        ["must have the buffers ['momentum_buffer']", "got []"],
    ),
    (
        "load-buffer-shape",
        lambda: Adam().load_state_dict(
            edited(
                ADAM_STATE,
                parameters=[
                    {**e, "buffers": {k: v.reshape(-1) for k, v in e["buffers"].items()}}
                    for e in ADAM_STATE["parameters"]
                ],
            )
        ),
        ShapeMismatchError,
        ["parameters[0]['buffers']['exp_avg'] has shape (6,)", "(2, 3)"],
    ),
    (
        "loaded-then-fewer-parameters",
        lambda: loaded(Adam(), ADAM_STATE).step(two_parameters()[:1]),
        InvalidInputError,
        ["Adam.step", "state is for 2 parameters (weights, bias)", "got 1 (weights)", "same model"],
    ),
    (
        "loaded-then-other-names",
        lambda: loaded(Adam(), ADAM_STATE).step([Parameter("kernel", np.ones((2, 3))), two_parameters()[1]]),
        InvalidInputError,
        ["parameter 0 is named 'kernel'", "for 'weights'", "order they were saved"],
    ),
    (
        "loaded-then-other-shapes",
        lambda: loaded(Adam(), ADAM_STATE).step([Parameter("weights", np.ones((3, 2))), two_parameters()[1]]),
        ShapeMismatchError,
        ["parameter 0 ('weights') has shape (3, 2)", "shape (2, 3)"],
    ),
    (
        "load-into-stepped-mismatch",
        lambda: stepped(Adam(), [Parameter("weights", np.ones((2, 3)))]).load_state_dict(ADAM_STATE),
        InvalidInputError,
        ["Adam.load_state_dict", "state is for 2 parameters", "got 1"],
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [(c[1], c[2], c[3]) for c in STEP_AND_LOAD_ERRORS],
    ids=[c[0] for c in STEP_AND_LOAD_ERRORS],
)
def test_invalid_steps_and_states(
    call: Callable[[], object], error: type[Exception], words: list[str]
) -> None:
    assert_refused(call, error, words)


def test_a_refused_load_changes_nothing() -> None:
    params = two_parameters()
    optimizer = stepped(Adam(0.01), params)
    before = optimizer.state_dict()
    bad = edited(ADAM_STATE, hyperparameters={**ADAM_STATE["hyperparameters"], "learning_rate": 0.5}, step=-1)
    with pytest.raises(InvalidInputError):
        optimizer.load_state_dict(bad)
    assert_same_state(optimizer.state_dict(), before)
    assert optimizer.learning_rate == 0.01


def test_state_through_a_json_and_npz_file(tmp_path: Path) -> None:
    """The JSON-able part and the arrays saved apart, as a model file would, restore exactly."""
    rng = np.random.default_rng(9)
    start = make_parameters(rng, np.float32)
    gradients = make_gradients(rng, np.float32, 8)
    uninterrupted = copy_parameters(start)
    run(RMSprop(0.01, momentum=0.9, centered=True), uninterrupted, gradients)

    first = copy_parameters(start)
    optimizer = RMSprop(0.01, momentum=0.9, centered=True)
    run(optimizer, first, gradients[:4])
    state = optimizer.state_dict()
    arrays = {
        f"{i}/{key}": array
        for i, entry in enumerate(state["parameters"])
        for key, array in entry["buffers"].items()
    }
    np.savez(tmp_path / "buffers.npz", **arrays)
    described = [
        {"name": e["name"], "shape": e["shape"], "buffers": sorted(e["buffers"])} for e in state["parameters"]
    ]
    (tmp_path / "optimizer.json").write_text(json.dumps({**state, "parameters": described}))

    loaded_json = json.loads((tmp_path / "optimizer.json").read_text())
    with np.load(tmp_path / "buffers.npz") as files:
        loaded_json["parameters"] = [
            {**e, "buffers": {key: files[f"{i}/{key}"] for key in e["buffers"]}}
            for i, e in enumerate(loaded_json["parameters"])
        ]
    restored = RMSprop()
    restored.load_state_dict(loaded_json)
    resumed = copy_parameters(first)
    run(restored, resumed, gradients[4:])
    for a, b in zip(uninterrupted, resumed, strict=True):
        assert a.value.tobytes() == b.value.tobytes()


# --------------------------------------------------------------------------- one flat update


def packed(parameters: list[Parameter]) -> list[Parameter]:
    """The parameters as consecutive views of one flat value array and one flat gradient
    array, as a Sequential keeps its layers' parameters."""
    values = np.concatenate([p.value.reshape(-1) for p in parameters])
    grads = np.zeros_like(values)
    views, start = [], 0
    for p in parameters:
        stop = start + p.size
        view = Parameter(p.name, values[start:stop].reshape(p.value.shape))
        view.grad = grads[start:stop].reshape(p.value.shape)
        views.append(view)
        start = stop
    return views


def run_in_place(optimizer: Optimizer, parameters: list[Parameter], gradients: list[list[np.ndarray]]) -> None:
    for step_gradients in gradients:
        for p, g in zip(parameters, step_gradients, strict=True):
            p.grad[...] = g
        optimizer.step(parameters)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_one_flat_update_equals_one_update_per_parameter(variant: Variant, dtype: type) -> None:
    """Parameters packed in one flat array are updated in one pass; the result must be
    the per-parameter update's, bit for bit, and so must the saved state."""
    rng = np.random.default_rng(11)
    start = make_parameters(rng, dtype)
    gradients = make_gradients(rng, dtype, 12)

    separate, flat = copy_parameters(start), packed(start)
    by_parameter, at_once = variant.make(), variant.make()
    run(by_parameter, separate, gradients[:6])
    run_in_place(at_once, flat, gradients[:6])
    assert at_once._flat is not None and at_once._flat.state is not None  # the flat path was taken
    assert by_parameter._flat is not None and by_parameter._flat.state is None

    # Saving and restoring in the middle: the restored optimizer goes flat again.
    restored = variant.make()
    restored.load_state_dict(at_once.state_dict())
    run(by_parameter, separate, gradients[6:])
    run_in_place(restored, flat, gradients[6:])
    for a, b in zip(separate, flat, strict=True):
        assert a.value.dtype == b.value.dtype == dtype
        assert a.value.tobytes() == b.value.tobytes()
    assert_same_state(restored.state_dict(), by_parameter.state_dict())


def test_flat_state_buffers_are_views_that_state_dict_copies() -> None:
    rng = np.random.default_rng(12)
    flat = packed(make_parameters(rng, np.float64))
    optimizer = SGD(0.1, momentum=0.9)
    run_in_place(optimizer, flat, make_gradients(rng, np.float64, 1))
    saved = optimizer.state_dict()
    run_in_place(optimizer, flat, make_gradients(rng, np.float64, 1))
    after = optimizer.state_dict()
    for before_step, after_step in zip(saved["parameters"], after["parameters"], strict=True):
        # The momentum buffer moved with the second step; the snapshot did not.
        assert not np.array_equal(before_step["buffers"]["momentum_buffer"], after_step["buffers"]["momentum_buffer"])


def test_replacing_a_gradient_array_falls_back_to_one_update_per_parameter() -> None:
    rng = np.random.default_rng(13)
    start = make_parameters(rng, np.float64)
    gradients = make_gradients(rng, np.float64, 4)
    separate, flat = copy_parameters(start), packed(start)
    reference, optimizer = Adam(0.01), Adam(0.01)
    run(reference, separate, gradients)
    run_in_place(optimizer, flat, gradients[:2])
    run(optimizer, flat, gradients[2:])  # p.grad = new array: no longer part of the flat one
    assert optimizer._flat is not None and optimizer._flat.state is None
    for a, b in zip(separate, flat, strict=True):
        assert a.value.tobytes() == b.value.tobytes()
