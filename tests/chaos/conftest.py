"""An emulated cloud per regression test, with a cn-north-4 deployment sharing with the partner account."""

import pytest

from imsync.emulator import Emulator
from tests.helpers.deployment import HOME as HOME  # re-exported for the tests
from tests.helpers.deployment import deploy

REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1")


@pytest.fixture
def cloud():
    with Emulator(regions=REGIONS) as emulated:
        yield emulated


@pytest.fixture
def deployment(cloud, monkeypatch):
    return deploy(cloud, monkeypatch, ("cn-east-3", "cn-south-1"))
