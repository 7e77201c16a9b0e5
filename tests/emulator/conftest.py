"""Fixtures: a fresh emulator per test and real SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkims.v2 import ImsClient
from huaweicloudsdkims.v2.region.ims_region import ImsRegion

from imsync.emulator import Account, Emulator

NORTH, EAST, SOUTH, AP = "cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1"


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator() as emu:
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        yield emu


def _config(timeout: float | tuple[float, float] | None) -> HttpConfig:
    cfg = HttpConfig.get_default_config()
    if timeout is not None:
        cfg.timeout = timeout
    return cfg


@pytest.fixture
def ims(cloud: Emulator) -> Callable[..., ImsClient]:
    """ims(region, account=None, credentials=None, timeout=None): a real ImsClient built with_region."""

    def build(
        region: str = NORTH,
        account: Account | None = None,
        credentials: BasicCredentials | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> ImsClient:
        acc = account or cloud.owner
        creds = credentials or BasicCredentials(acc.ak, acc.sk)
        return (
            ImsClient.new_builder()
            .with_credentials(creds)
            .with_region(ImsRegion.value_of(region))
            .with_http_config(_config(timeout))
            .build()
        )

    return build


@pytest.fixture
def ims_ep(cloud: Emulator) -> Callable[..., ImsClient]:
    """ims_ep(region, account=None, project_id=...): a real ImsClient built with_endpoints."""

    def build(region: str = NORTH, account: Account | None = None, project_id: str | None = "default") -> ImsClient:
        acc = account or cloud.owner
        pid = acc.projects[region] if project_id == "default" else project_id
        return (
            ImsClient.new_builder()
            .with_credentials(BasicCredentials(acc.ak, acc.sk, pid))
            .with_endpoints([cloud.endpoints[region]])
            .build()
        )

    return build


@pytest.fixture
def iam(cloud: Emulator) -> Callable[..., IamClient]:
    def build(account: Account | None = None) -> IamClient:
        acc = account or cloud.owner
        return (
            IamClient.new_builder()
            .with_credentials(GlobalCredentials(acc.ak, acc.sk, acc.domain_id))
            .with_endpoints([cloud.endpoints["iam"]])
            .build()
        )

    return build
