"""Common checks over every loss in the registry (tests/loss_catalog.py).

Each loss must: have a registry entry; give a gradient that agrees with central finite
differences; sum to the exact sum of its per-element values; take its mean as its
sum over what it divides by; be unchanged by unit sample weights; keep float32 as
float32; refuse NaN, a shape mismatch and an unknown reduction with this package's
errors, naming itself; and give no warning and no NaN at the edges of its domain.
Expected values come from the loss's own other reductions only where the check is a
relation between them (sum = fsum of none); exactness against references is in each
family's own test file.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import neural_network.losses as losses
from loss_catalog import BY_NAME, ENTRIES, Entry
from neural_network.errors import InvalidOptionError, NonFiniteError, ShapeMismatchError

IDS = [entry.name for entry in ENTRIES]


def public_losses() -> set[str]:
    return {
        name
        for name in losses.__all__
        if not name.endswith("_grad") and callable(getattr(losses, name)) and f"{name}_grad" in losses.__all__
    }


def test_every_public_loss_is_registered():
    missing = public_losses() - set(BY_NAME)
    assert not missing, f"losses without an entry in tests/loss_catalog.py: {sorted(missing)}"


def test_every_registered_loss_exists():
    assert set(BY_NAME) <= public_losses()


def call(entry: Entry, arrays, **kwargs):
    return entry.value(*arrays, **entry.options, **kwargs)


def gradients(entry: Entry, arrays, **kwargs) -> tuple[np.ndarray, ...]:
    result = entry.grad(*arrays, **entry.options, **kwargs)
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_gradient_agrees_with_central_differences(entry: Entry):
    rng = np.random.default_rng(1)
    arrays = entry.draw(rng, 24)
    reduction = "sum" if "sum" in entry.reductions else entry.reductions[0]
    grads = gradients(entry, arrays, reduction=reduction)
    assert len(grads) == len(entry.differentiable_in)
    for position, grad in zip(entry.differentiable_in, grads, strict=True):
        x = arrays[position]
        assert grad.shape == x.shape and grad.dtype == x.dtype
        flat = x.reshape(-1)
        for index in rng.choice(flat.size, size=min(6, flat.size), replace=False):
            h = 1e-6 * max(1.0, abs(flat[index]))
            values = []
            for sign in (1, -1):
                moved = [a.copy() for a in arrays]
                moved[position].reshape(-1)[index] += sign * h
                if entry.renormalized_axis is not None:
                    logits = moved[position]
                    moved[position] = logits - np.logaddexp.reduce(logits, axis=entry.renormalized_axis, keepdims=True)
                values.append(float(call(entry, moved, reduction=reduction)))
            numeric = (values[0] - values[1]) / (2 * h)
            analytic = float(grad.reshape(-1)[index])
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), (entry.name, position, index)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if "none" in e.reductions], ids=lambda e: e.name)
def test_sum_is_the_exact_sum_of_the_elements_and_mean_divides_it(entry: Entry):
    rng = np.random.default_rng(2)
    arrays = entry.draw(rng, 3000)
    elements = np.asarray(call(entry, arrays, reduction="none"))
    exact = math.fsum(elements.reshape(-1).tolist())
    total = float(call(entry, arrays, reduction="sum"))
    # Blocks of 2048 summed pairwise by NumPy (a term passes at most 28 roundings of u =
    # 2**-53 in a block of up to 2048), the partials exactly (fsum): terms of either sign,
    # 28 u sum|l|, then its rounding and the reference's (an ulp). The mean: that over the
    # count (an integer), with the division's rounding and the reference's two: 4 ulp.
    spread = 28 * 2.0**-53 * math.fsum(abs(v) for v in elements.reshape(-1).tolist())
    assert abs(total - exact) <= spread + math.ulp(exact)
    count = entry.mean_is_sum_over(arrays) if entry.mean_is_sum_over else float(arrays[0].size)
    mean = float(call(entry, arrays, reduction="mean"))
    assert abs(mean - exact / count) <= spread / count + 4 * math.ulp(exact / count)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_unit_sample_weights_change_nothing(entry: Entry):
    rng = np.random.default_rng(3)
    arrays = entry.draw(rng, 200)
    shape = np.shape(call(entry, arrays, reduction="none")) if "none" in entry.reductions else arrays[0].shape
    ones = np.ones(shape)
    for reduction in entry.reductions:
        plain = call(entry, arrays, reduction=reduction)
        weighted = call(entry, arrays, reduction=reduction, sample_weight=ones)
        assert np.array_equal(plain, weighted), (entry.name, reduction)
        for g, w in zip(gradients(entry, arrays, reduction=reduction),
                        gradients(entry, arrays, reduction=reduction, sample_weight=ones), strict=True):
            assert np.array_equal(g, w), (entry.name, reduction)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_float32_stays_float32(entry: Entry):
    rng = np.random.default_rng(4)
    arrays = tuple(
        a.astype(np.float32) if i in entry.float_arguments else a for i, a in enumerate(entry.draw(rng, 64))
    )
    for reduction in entry.reductions:
        assert np.asarray(call(entry, arrays, reduction=reduction)).dtype == np.float32
        for g in gradients(entry, arrays, reduction=reduction):
            assert g.dtype == np.float32


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_nan_shape_mismatch_and_unknown_reduction_are_refused_by_name(entry: Entry):
    rng = np.random.default_rng(5)
    arrays = entry.draw(rng, 40)
    poisoned = [a.copy() for a in arrays]
    poisoned[0].reshape(-1)[3] = np.nan
    for function, name in ((entry.value, entry.name), (entry.grad, f"{entry.name}_grad")):
        with pytest.raises(NonFiniteError, match=rf"^{name}: "):
            function(*poisoned, **entry.options)
        short = [a[:-1] if i == 0 else a for i, a in enumerate(arrays)]
        with pytest.raises(ShapeMismatchError, match=rf"^{name}: "):
            function(*short, **entry.options)
        with pytest.raises(InvalidOptionError, match=rf"^{name}: .*reduction"):
            function(*arrays, **entry.options, reduction="avg")


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.extreme is not None], ids=lambda e: e.name)
def test_extreme_valid_input_gives_no_warning_and_no_nan(entry: Entry):
    assert entry.extreme is not None
    arrays = entry.extreme()
    for reduction in entry.reductions:  # pytest turns any warning into an error
        value = np.asarray(call(entry, arrays, reduction=reduction))
        assert not np.isnan(value).any(), (entry.name, reduction)
        for g in gradients(entry, arrays, reduction=reduction):
            assert not np.isnan(g).any(), (entry.name, reduction)


def test_every_public_loss_is_in_the_migration_table():
    """docs/migration.md maps the other libraries' losses to ours: each of ours appears there."""
    from pathlib import Path

    table = (Path(__file__).resolve().parent.parent / "docs" / "migration.md").read_text(encoding="utf-8")
    missing = sorted(name for name in public_losses() if f"`{name}" not in table)
    assert not missing, f"losses missing from docs/migration.md: {missing}"
