"""Every loss against its reference (issue 15, items 1 and 5).

Each loss registers, beside its public function, a reference: its formula and its
gradient in a few array-API lines (``neural_network.losses._reference``). Here, for
every loss of the registry (``loss_catalog.ENTRIES``):

1. the reference's gradient is the derivative of the reference's value (mpmath's
   numerical derivative at 200 bits), so the oracle's two halves check each other;
2. the public value (``reduction="none"``, or ``"sum"`` where there is no ``"none"``)
   is within the registered ulp budget of the reference evaluated at 200 bits, on the
   catalog's generic draws and on the adversarial inputs of ``adversarial_*.py``;
3. the public gradient (``reduction="sum"``) likewise, entry by entry;
4. the reference runs on plain NumPy float64 and agrees there with the public value
   to a loose relative tolerance (it is the formula a learner runs; it may cancel or
   overflow where the kernel does not, so only where both are well away from that).

The ruler is ``test_exactness.ulp_error``: distance to the exact real result in units
of the float64 spacing at that result (a correctly rounded result scores at most 0.5).
``python tests/accuracy_report.py`` prints the worst errors per loss as a table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loss_catalog import ENTRIES, Entry
from mp_namespace import CONTEXT, MP, exact
from neural_network.losses._reference import REFERENCES, Reference
from test_exactness import MP as RULER_CONTEXT
from test_exactness import ulp_error

Arrays = tuple[np.ndarray, ...]
Case = tuple[Arrays, dict[str, Any]]

SEEDS = (0, 1, 2)
GENERIC_SIZE = 48


def _adversarial() -> dict[str, list[Case]]:
    """The ``CASES`` of every ``tests/adversarial_*.py``, merged by loss name."""
    cases: dict[str, list[Case]] = {}
    here = Path(__file__).parent
    for module in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if module.name.startswith("adversarial_"):
            for name, listed in importlib.import_module(module.name).CASES.items():
                cases.setdefault(name, []).extend(listed)
    return cases


ADVERSARIAL = _adversarial()


def _entry_name(entry: Entry) -> str:
    return "-".join([entry.name, *(f"{key}={value}" for key, value in entry.options.items())])


REFERENCED = [pytest.param(entry, id=_entry_name(entry)) for entry in ENTRIES if entry.name in REFERENCES]


def reduction_of(entry: Entry) -> str:
    return "none" if "none" in entry.reductions else "sum"


def generic_cases(entry: Entry) -> Iterator[Case]:
    for seed in SEEDS:
        yield entry.draw(np.random.default_rng(seed), GENERIC_SIZE), {}


def adversarial_cases(entry: Entry) -> list[Case]:
    return ADVERSARIAL.get(entry.name, [])


def as_tuple(result: Any) -> tuple[Any, ...]:
    return result if isinstance(result, tuple) else (result,)


def worst_ulps(got: Any, expected: Any) -> tuple[float, int]:
    """The largest ulp error of ``got`` (float64) against ``expected`` (mpmath), and where."""
    got_flat = np.asarray(got, dtype=np.float64).ravel()
    expected_flat = np.asarray(expected, dtype=object).ravel()
    assert got_flat.shape == expected_flat.shape, (got_flat.shape, expected_flat.shape)
    errors = [ulp_error(g, RULER_CONTEXT.mpf(e), np.float64) for g, e in zip(got_flat, expected_flat, strict=True)]
    if not errors:
        return 0.0, -1
    at = int(np.argmax(errors))
    return float(errors[at]), at


def value_error(entry: Entry, reference: Reference, case: Case) -> tuple[float, int]:
    arrays, options = case
    options = {**entry.options, **options}
    got = entry.value(*arrays, reduction=reduction_of(entry), **options)
    return worst_ulps(got, exact(reference.value, *arrays, **options))


def grad_error(entry: Entry, reference: Reference, case: Case) -> tuple[float, int]:
    arrays, options = case
    options = {**entry.options, **options}
    got = as_tuple(entry.grad(*arrays, reduction="sum", **options))
    expected = as_tuple(exact(reference.grad, *arrays, **options))
    assert len(got) == len(expected) == len(entry.differentiable_in)
    return max(worst_ulps(g, e) for g, e in zip(got, expected, strict=True))


def _describe(case: Case, at: int) -> str:
    arrays, options = case
    shown = [np.asarray(a).ravel()[at] if 0 <= at < np.asarray(a).size else np.asarray(a).shape for a in arrays]
    return f"options {options}, worst at flat index {at} (arguments there, where element-wise: {shown})"


@pytest.mark.parametrize("entry", REFERENCED)
def test_reference_gradient_is_the_derivative_of_its_value(entry: Entry):
    """mpmath's derivative of the reference's summed value, element by element."""
    reference = REFERENCES[entry.name]
    arrays = entry.draw(np.random.default_rng(7), 8)
    exact_arguments = [MP.asarray(a) for a in arrays]
    grads = as_tuple(reference.grad(MP, *exact_arguments, **entry.options))
    for position, grad in zip(entry.differentiable_in, grads, strict=True):
        base = exact_arguments[position]
        scale = max(abs(g) for g in np.asarray(grad, dtype=object).ravel()) or CONTEXT.mpf(1)
        for index in np.ndindex(base.shape):
            def total(t: Any, index: tuple[int, ...] = index, position: int = position, base: Any = base) -> Any:
                moved = list(exact_arguments)
                moved[position] = base.copy()
                moved[position][index] = t
                return MP.sum(reference.value(MP, *moved, **entry.options))

            derivative = CONTEXT.diff(total, base[index])
            assert abs(derivative - grad[index]) <= CONTEXT.mpf(10) ** -40 * scale, (
                f"{entry.name}: d/d{position}{index}: reference gradient {grad[index]}, derivative {derivative}"
            )


@pytest.mark.parametrize("entry", REFERENCED)
def test_value_is_within_its_budget_on_generic_inputs(entry: Entry):
    reference = REFERENCES[entry.name]
    for case in generic_cases(entry):
        error, at = value_error(entry, reference, case)
        assert error <= reference.value_ulps, f"{entry.name}: {error:.2f} ulp; {_describe(case, at)}"


@pytest.mark.parametrize("entry", REFERENCED)
def test_gradient_is_within_its_budget_on_generic_inputs(entry: Entry):
    reference = REFERENCES[entry.name]
    for case in generic_cases(entry):
        error, at = grad_error(entry, reference, case)
        assert error <= reference.grad_ulps, f"{entry.name}_grad: {error:.2f} ulp; {_describe(case, at)}"


@pytest.mark.parametrize("entry", REFERENCED)
def test_value_and_gradient_are_within_their_budgets_on_adversarial_inputs(entry: Entry):
    reference = REFERENCES[entry.name]
    for case in adversarial_cases(entry):
        error, at = value_error(entry, reference, case)
        assert error <= reference.value_ulps, f"{entry.name}: {error:.2f} ulp; {_describe(case, at)}"
        error, at = grad_error(entry, reference, case)
        assert error <= reference.grad_ulps, f"{entry.name}_grad: {error:.2f} ulp; {_describe(case, at)}"


@pytest.mark.parametrize("entry", REFERENCED)
def test_reference_runs_on_numpy_float64(entry: Entry):
    """The formula a learner reads runs as written on NumPy, and means the same loss."""
    reference = REFERENCES[entry.name]
    arrays = entry.draw(np.random.default_rng(3), GENERIC_SIZE)
    with np.errstate(all="ignore"):
        plain = np.asarray(reference.value(np, *arrays, **entry.options), dtype=np.float64)
        plain_grads = [np.asarray(g, dtype=np.float64) for g in as_tuple(reference.grad(np, *arrays, **entry.options))]
    public = entry.value(*arrays, reduction=reduction_of(entry), **entry.options)
    public_grads = as_tuple(entry.grad(*arrays, reduction="sum", **entry.options))
    np.testing.assert_allclose(plain, public, rtol=1e-9, atol=1e-12)
    for plain_grad, public_grad in zip(plain_grads, public_grads, strict=True):
        np.testing.assert_allclose(plain_grad, public_grad, rtol=1e-9, atol=1e-12)


def test_every_loss_has_a_reference():
    missing = sorted({entry.name for entry in ENTRIES} - set(REFERENCES))
    assert not missing, f"losses without a reference: {missing}"


def test_every_adversarial_case_names_a_registered_loss():
    assert set(ADVERSARIAL) <= {entry.name for entry in ENTRIES}


def test_a_budget_above_four_ulp_must_say_why():
    from neural_network.losses._reference import register

    with pytest.raises(ValueError, match="without saying why"):
        register("not_a_loss", REFERENCES["mse_loss"].value, REFERENCES["mse_loss"].grad, value_ulps=5)
    assert "not_a_loss" not in REFERENCES
