"""Every element-wise loss gives each element the same bits whatever the call's length and threads.

One call on more than 2**17 elements goes through the blocked, threaded engine; calls on
slices of 1,000 go through the small-call path. Both must compute the same operations
on each element (not merely agree on one CPU's libm), so the per-element values and
derivatives must be identical, with 1 thread and with 2.
"""

from __future__ import annotations

import numpy as np
import pytest

from loss_catalog import ENTRIES, Entry
from neural_network import _blocks

SIZE = 2**17 + 4321  # three blocks of 65,536 and a ragged end
SLICE = 1000


def _elementwise(entry: Entry) -> bool:
    """Whether the loss gives one value per element of its first argument (a 1-d draw)."""
    arguments = entry.draw(np.random.default_rng(0), 64)
    if "none" not in entry.reductions or any(np.ndim(a) != 1 for a in arguments):
        return False
    if len({np.shape(a) for a in arguments}) != 1:
        return False
    return bool(np.shape(entry.value(*arguments, reduction="none", **entry.options)) == np.shape(arguments[0]))


ELEMENTWISE = [entry for entry in ENTRIES if _elementwise(entry)]


def test_the_catalog_has_the_element_wise_losses_it_should():
    names = {entry.name for entry in ELEMENTWISE}
    assert {"mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss",
            "binary_focal_loss", "poisson_nll_loss", "tweedie_deviance"} <= names
    assert len(names) >= 20


def _in_slices(function, arguments: tuple[np.ndarray, ...], options: dict) -> np.ndarray:
    return np.concatenate([
        np.asarray(function(*(a[i : i + SLICE] for a in arguments), reduction="none", **options))
        for i in range(0, SIZE, SLICE)
    ])


HARD_LABELS = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "binary_focal_loss", "brier_score_loss"]
"""Losses with kernels of their own for labels that are all 0 or 1."""


# Below _blocks.THREADED_SIZE (8 blocks) map_blocks runs on the calling thread: threads=2
# here checks the setting changes nothing at this size; tests/test_invariants.py runs every
# element-wise loss above it, where two threads really share the blocks.
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    ("entry", "hard"),
    [(entry, False) for entry in ELEMENTWISE] + [(entry, True) for entry in ELEMENTWISE if entry.name in HARD_LABELS],
    ids=lambda value: value.name if isinstance(value, Entry) else ("hard-labels" if value else ""),
)
def test_per_element_bits_are_those_of_slices_of_a_thousand(entry: Entry, hard: bool, threads: int):
    arguments = tuple(np.ascontiguousarray(a) for a in entry.draw(np.random.default_rng(7), SIZE))
    if hard:
        arguments = (arguments[0], np.round(arguments[1]))
    assert arguments[0].size > 2**17
    _blocks.set_num_threads(threads)
    try:
        whole = np.asarray(entry.value(*arguments, reduction="none", **entry.options))
        sliced = _in_slices(entry.value, arguments, entry.options)
        np.testing.assert_array_equal(whole, sliced)
        # The gradient of the sum is the per-element derivative (a tuple: one per argument).
        whole_grad = entry.grad(*arguments, reduction="sum", **entry.options)
        pieces = [entry.grad(*(a[i : i + SLICE] for a in arguments), reduction="sum", **entry.options)
                  for i in range(0, SIZE, SLICE)]
        if not isinstance(whole_grad, tuple):
            whole_grad, pieces = (whole_grad,), [(piece,) for piece in pieces]
        for position, got in enumerate(whole_grad):
            expected = np.concatenate([np.asarray(piece[position]) for piece in pieces])
            np.testing.assert_array_equal(np.asarray(got), expected)
    finally:
        _blocks.set_num_threads(None)


@pytest.mark.parametrize("entry", ELEMENTWISE, ids=lambda entry: entry.name)
def test_numpy_kernels_have_the_bits_of_the_general_form(entry: Entry):
    # array-api-strict runs the general (array API) form with NumPy's own ufuncs underneath:
    # a NumPy kernel that computes the same operations gives the same bits on any CPU.
    import array_api_strict as xps

    arguments = entry.draw(np.random.default_rng(3), 5000)
    numpy_values = np.asarray(entry.value(*arguments, reduction="none", **entry.options))
    general = entry.value(*(xps.asarray(a) for a in arguments), reduction="none", **entry.options)
    np.testing.assert_array_equal(numpy_values, np.asarray(general))
    numpy_grads = entry.grad(*arguments, reduction="sum", **entry.options)
    general_grads = entry.grad(*(xps.asarray(a) for a in arguments), reduction="sum", **entry.options)
    if not isinstance(numpy_grads, tuple):
        numpy_grads, general_grads = (numpy_grads,), (general_grads,)
    for ours, theirs in zip(numpy_grads, general_grads, strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def _count_arguments(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and counts that reach every path of the count losses: plain values, e^x and
    t x within a factor 3 (table-driven), within 2**-13 (double-double), t = 0, t near
    e^x (the deviance's minimum), and the extremes (x beyond 709, t up to 2**1000)."""
    x = np.concatenate([rng.normal(0.0, 3.0, 2000), rng.uniform(0.05, 700.0, 2000), rng.uniform(-800.0, 800.0, 500)])
    t = rng.poisson(3.0, x.size).astype(float)
    ratio = np.exp(rng.uniform(-np.log(3.0), np.log(3.0), 2000))
    ratio[::4] = 1.0 + rng.normal(0.0, 2.0**-13, 500)
    t[2000:4000] = np.exp(x[2000:4000]) / (x[2000:4000] * ratio)
    t[4000:] = np.exp(rng.uniform(-690.0, 690.0, 500))
    t[::23] = 0.0
    t[1::29] = np.exp(np.minimum(x[1::29], 700.0)) * (1.0 + rng.normal(0.0, 0.03, t[1::29].size))
    return x, t


@pytest.mark.parametrize(
    ("name", "options"),
    [("poisson_nll_loss", {}), ("poisson_nll_loss", {"full": True}), ("generalized_kl_divergence", {}),
     ("poisson_nll_loss", {"log_input": False}), ("poisson_loss", {}),
     *(("tweedie_deviance", {"power": p}) for p in (-0.5, 1.05, 1.5, 1.95, 3.0))],
    ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={w}" for k, w in v.items()),
)
def test_count_losses_give_the_bits_of_the_general_form_in_every_region(name: str, options: dict[str, object]):
    """The table-driven, double-double and plain paths of the count losses are chosen per
    element from the same operations in every library: NumPy and array-api-strict (the
    general form on NumPy's ufuncs) give the same bits, and so does every slice of the
    array, whether or not it holds an element beyond x = 709."""
    import array_api_strict as xps

    from neural_network import losses

    x, t = _count_arguments(np.random.default_rng(21))
    if name == "poisson_loss" or options.get("log_input") is False:  # rates, e^x / 3 near t
        x = np.where(t > 0, t * np.exp(np.clip(x, -700.0, 700.0) * 1e-3), np.exp(np.clip(x, -700.0, 700.0)))
    if name == "tweedie_deviance":  # mean mu > 0 (as e^x), y >= 0; (mean, target) order
        x, t = np.exp(np.clip(x, -600.0, 600.0) / 4.0), t ** 0.25
        if options["power"] == -0.5:
            t = t - 1.0  # y <= 0 allowed for power < 0
        if options["power"] == 3.0:
            t = t + 2.0**-20  # y > 0 required for power >= 2
    loss = getattr(losses, name)
    whole = np.asarray(loss(x, t, reduction="none", **options))
    general = np.asarray(loss(xps.asarray(x), xps.asarray(t), reduction="none", **options))
    np.testing.assert_array_equal(whole, general)
    sliced = np.concatenate([np.asarray(loss(x[i : i + 7], t[i : i + 7], reduction="none", **options))
                             for i in range(0, x.size, 7)])
    np.testing.assert_array_equal(whole, sliced)


@pytest.mark.parametrize("power", [1.01, 1.5, 1.99, 3.0])
def test_tweedie_deviance_gives_the_bits_of_the_general_form_at_extreme_ratios_and_means(power: float):
    """Ratios and means beyond 2**+-500 take their own forms (terms summed, expm1, rescaled
    means), chosen per element from the same operations in every library."""
    import array_api_strict as xps

    from neural_network import losses

    rng = np.random.default_rng(22)
    log_mu = rng.uniform(-700.0, 700.0, 3000)
    log_y = log_mu + rng.normal(0.0, 1.0, 3000) * np.where(rng.random(3000) < 0.5, 500.0, 5.0)
    keep = np.abs(log_y) < 705.0
    mu, y = np.exp(log_mu[keep]), np.exp(log_y[keep])
    whole = np.asarray(losses.tweedie_deviance(mu, y, power=power, reduction="none"))
    general = np.asarray(losses.tweedie_deviance(xps.asarray(mu), xps.asarray(y), power=power, reduction="none"))
    np.testing.assert_array_equal(whole, general)
    sliced = np.concatenate([np.asarray(losses.tweedie_deviance(mu[i : i + 5], y[i : i + 5], power=power, reduction="none"))
                             for i in range(0, mu.size, 5)])
    np.testing.assert_array_equal(whole, sliced)
