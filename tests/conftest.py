"""Shared test configuration.

Hypothesis profiles: "ci" (chosen when the CI variable is set, as on the CI machine)
derandomizes the property tests so a run is reproducible; "stress" explores far more
examples, for a local hunt: ``HYPOTHESIS_PROFILE=stress python -m pytest tests/test_properties.py``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=30)
settings.register_profile("ci", deadline=None, max_examples=30, derandomize=True, print_blob=True)
settings.register_profile("stress", deadline=None, max_examples=1500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))
