"""Suite-wide switches: the thorough tier (marker `thorough`) and the Hypothesis profiles.

The everyday run (`python -m pytest -n 2`) skips the tests marked `thorough`: the second chaos seed and the
benchmarks' quick run. `.ci/run` runs them once, in the same parallel run, with IMSYNC_THOROUGH=1, which
also selects the Hypothesis profile `thorough` (more examples per property).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

THOROUGH = os.environ.get("IMSYNC_THOROUGH") == "1"

# deadline=None: a shared CI machine makes single examples slow now and then; that is not a failure.
settings.register_profile("default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("IMSYNC_HYPOTHESIS_PROFILE") or ("thorough" if THOROUGH else "default"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "thorough: slow and seldom changing (second chaos seed, benchmarks); runs with IMSYNC_THOROUGH=1"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if THOROUGH:
        return
    skip = pytest.mark.skip(reason="thorough tier; set IMSYNC_THOROUGH=1 to run it (.ci/run does)")
    for item in items:
        if "thorough" in item.keywords:
            item.add_marker(skip)
