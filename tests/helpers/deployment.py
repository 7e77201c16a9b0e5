"""The environment a deployment of imsync has, pointed at an emulator (shared by the test suites)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest

from imsync import bootstrap
from imsync.emulator import Emulator
from imsync.service.claims import RecentCopies, RecentNotices

HOME = "cn-north-4"


def deploy(
    cloud: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    allowed: Sequence[str],
    *,
    share_targets: Mapping[str, Mapping[str, list[str]]] | None = None,
    timeout: str = "5",
) -> dict[str, str]:
    """Set the SDK's and imsync's variables for a deployment in cn-north-4; returns the IMSYNC_* part.

    Shares go to the partner account in every emulated region unless `share_targets` says otherwise.
    """
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    targets = share_targets or {"partner": {r: [cloud.recipient.projects[r]] for r in cloud.regions}}
    settings = {
        "IMSYNC_HOME_REGION": HOME,
        "IMSYNC_SOURCE_REGIONS": HOME,
        "IMSYNC_ALLOWED_REGIONS": ",".join(allowed),
        "IMSYNC_AGENCY": "imsync-copy",
        "IMSYNC_SHARE_TARGETS": json.dumps(targets),
        "IMSYNC_HTTP_TIMEOUT": timeout,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    # Each test is its own process as far as imsync knows: forget copies "this process" started.
    monkeypatch.setattr(bootstrap, "claims", RecentCopies())
    monkeypatch.setattr(bootstrap, "told", RecentNotices())
    # While imsync waits for a member job, the emulated cloud's time passes, not the test's.
    monkeypatch.setattr(bootstrap, "pause", cloud.clock.advance)
    # A copy is stuck by the emulated cloud's clock (it starts in 2023), not the test machine's.
    monkeypatch.setattr(bootstrap, "wall_clock", cloud.clock.now)
    return settings
