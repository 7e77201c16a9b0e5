"""An emulated cloud per regression test, with a cn-north-4 deployment sharing with the partner account."""

import json

import pytest

from imsync import service
from imsync.emulator import Emulator

HOME = "cn-north-4"
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1")


@pytest.fixture
def cloud():
    with Emulator(regions=REGIONS) as emulated:
        yield emulated


@pytest.fixture
def deployment(cloud, monkeypatch):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    settings = {
        "IMSYNC_HOME_REGION": HOME,
        "IMSYNC_SOURCE_REGIONS": HOME,
        "IMSYNC_ALLOWED_REGIONS": "cn-east-3,cn-south-1",
        "IMSYNC_AGENCY": "imsync-copy",
        "IMSYNC_SHARE_TARGETS": json.dumps({"partner": {r: [cloud.recipient.projects[r]] for r in REGIONS}}),
        "IMSYNC_HTTP_TIMEOUT": "5",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(service, "RECENT", service._RecentCopies())
    return settings
