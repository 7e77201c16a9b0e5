"""Suite-wide switches: the thorough tier (marker `thorough`) and the Hypothesis profiles.

The everyday run (`python -m pytest -n 2`) skips the tests marked `thorough`: the second chaos seed and the
benchmarks' quick run. `.ci/run` runs them once, in the same parallel run, with IMSYNC_THOROUGH=1, which
also selects the Hypothesis profile `thorough` (more examples per property).

Under xdist, ONE_WORKER keeps the tests that share a costly module or session fixture on one worker (see
pytest_xdist_make_scheduler); every other test is balanced one by one.
"""

from __future__ import annotations

import os
import re

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


# Tests that share an expensive fixture, by file: each group runs on one worker, so the fixture is built once.
# The zips are grouped per Python version: a worker installs that version's lock once and builds both platforms,
# while the other worker does the same for the other version. A test of the zips without a version runs with
# the newest (3.12), as its body says.
ONE_WORKER = {
    "tests/test_benchmarks.py": "benchmarks",  # the quick run, a module fixture
    "tests/deploy/test_deploy_packaging.py": "packaging",  # zips built without dependencies, module fixtures
    "tests/deploy/test_deploy_sam_template.py": "sam-template",  # the SAM transform, a module fixture
}
ZIPS = "tests/deploy/test_deploy_builds.py"


def xdist_scope(nodeid: str) -> str:
    """The unit of work a test belongs to under xdist: its group, or the test itself."""
    path = nodeid.split("::", 1)[0]
    if path == ZIPS:
        version = re.search(r"\[(3\.\d+)-", nodeid)
        return f"zips-{version.group(1) if version else '3.12'}"
    return ONE_WORKER.get(path, nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadgroup` (set in pyproject.toml), grouped by xdist_scope.

    xdist's own loadgroup reads `xdist_group` marks by renaming node IDs, which pytest 9.2 no longer lets it do
    (pytest-dev/pytest-xdist#1386: the marks are silently ignored); this scheduler groups by the node ID as it is.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupedScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return GroupedScheduling(config, log)
