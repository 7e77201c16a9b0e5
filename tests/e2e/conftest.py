"""An emulated cloud per test, with imsync's settings pointing the real SDK at it."""

import json

import pytest

from imsync import service
from imsync.emulator import Emulator

HOME = "cn-north-4"
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
DESTINATIONS = ("cn-east-3", "cn-south-1", "ap-southeast-1")


@pytest.fixture
def cloud():
    with Emulator(regions=REGIONS) as emulated:
        yield emulated


@pytest.fixture
def imsync_env(cloud, monkeypatch):
    """The environment a deployment in cn-north-4 would have, sharing with the partner account."""
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    partner = {region: [cloud.recipient.projects[region]] for region in REGIONS}
    settings = {
        "IMSYNC_HOME_REGION": HOME,
        "IMSYNC_SOURCE_REGIONS": HOME,
        "IMSYNC_ALLOWED_REGIONS": ",".join(DESTINATIONS),
        "IMSYNC_AGENCY": "imsync-copy",
        "IMSYNC_SHARE_TARGETS": json.dumps({"partner": partner}),
        "IMSYNC_HTTP_TIMEOUT": "5",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    # Each test is its own process as far as imsync knows: forget copies "this process" started.
    monkeypatch.setattr(service, "RECENT", service._RecentCopies())
    return settings
