"""An emulated cloud per test, the environment of a cn-north-4 deployment, and a CLI runner."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from imsync.cli import cli
from imsync.emulator import Emulator, ManualClock, ScaledClock
from tests.helpers.deployment import HOME as HOME  # re-exported for the tests
from tests.helpers.deployment import deploy

REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
DESTINATIONS = ("cn-east-3", "cn-south-1", "ap-southeast-1")


@pytest.fixture
def cloud():
    with Emulator(regions=REGIONS, clock=ManualClock()) as emulated:
        yield emulated


@pytest.fixture
def fast_cloud():
    """An emulator whose clock runs 3000 times faster than real time: copies finish within a fraction of a second."""
    with Emulator(regions=REGIONS, clock=ScaledClock(speed=3000.0)) as emulated:
        yield emulated


@pytest.fixture
def env(cloud, monkeypatch, tmp_path):
    """The environment a deployment in cn-north-4 would have, sharing with the partner account."""
    return deployment(cloud, monkeypatch, tmp_path)


@pytest.fixture
def fast_env(fast_cloud, monkeypatch, tmp_path):
    return deployment(fast_cloud, monkeypatch, tmp_path)


def deployment(cloud: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray imsync.toml
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables at 80 columns when it writes to a pipe
    for key in ("IMSYNC_CONFIG", "IMSYNC_EVENT_BUS", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return deploy(cloud, monkeypatch, DESTINATIONS)


@pytest.fixture
def run() -> Callable[..., Result]:
    """Invoke `imsync <args>`; stdout and stderr stay apart (JSON on stdout only)."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), terminal_width=160)

    return invoke
