"""Print the worst value and gradient error of every loss, in ulps, against its exact reference.

Run ``python tests/accuracy_report.py`` from the repository root: one row per loss of
``loss_catalog.ENTRIES`` with a reference, the worst error on the catalog's generic
draws and on the adversarial inputs of ``tests/adversarial_*.py``, beside the budget
the loss registers. The test suite (``test_references.py``) asserts the budgets; this
prints the measured figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np

from test_references import ENTRIES, REFERENCES, adversarial_cases, generic_cases, grad_error, value_error


def main() -> None:
    header = f"| {'loss':<44} | value generic | value adversarial | grad generic | grad adversarial | budget (value, grad) |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for entry in ENTRIES:
        reference = REFERENCES.get(entry.name)
        if reference is None:
            print(f"| {entry.name:<44} | no reference |")
            continue
        figures = []
        for error in (value_error, grad_error):
            for cases in (list(generic_cases(entry)), adversarial_cases(entry)):
                with np.errstate(all="ignore"):
                    worst = max((error(entry, reference, case)[0] for case in cases), default=None)
                figures.append("-" if worst is None else f"{worst:.2f}")
        name = "-".join([entry.name, *(f"{k}={v}" for k, v in entry.options.items())])
        print(f"| {name:<44} | " + " | ".join(figures) + f" | {reference.value_ulps:g}, {reference.grad_ulps:g} |")


if __name__ == "__main__":
    main()
