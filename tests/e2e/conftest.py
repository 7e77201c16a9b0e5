"""An emulated cloud per test, with imsync's settings pointing the real SDK at it."""

import pytest

from imsync.emulator import Emulator
from tests.helpers.deployment import HOME as HOME  # re-exported for the tests
from tests.helpers.deployment import deploy

REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
DESTINATIONS = ("cn-east-3", "cn-south-1", "ap-southeast-1")


@pytest.fixture
def cloud():
    with Emulator(regions=REGIONS) as emulated:
        yield emulated


@pytest.fixture
def imsync_env(cloud, monkeypatch):
    """The environment a deployment in cn-north-4 would have, sharing with the partner account."""
    return deploy(cloud, monkeypatch, DESTINATIONS)


@pytest.fixture
def smn_down(cloud):
    """Make SMN refuse every publish until the returned function is called (retries wait on the cloud's clock)."""
    fault = cloud.faults.add(status=503, method="POST", path="/publish$", count=None)

    def back_up() -> None:
        fault.count = 0

    return back_up
