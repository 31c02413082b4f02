"""Test-wide settings: hypothesis runs derandomized in CI so a run is reproducible.

Locally the property tests explore new examples on every run (and keep failures in
.hypothesis/); in CI (CI=true) each run checks the same generated cases, so a red CI
points at a change, not at luck. Either way no property test has a per-example deadline:
the machine is shared and timing is not what they check.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")
