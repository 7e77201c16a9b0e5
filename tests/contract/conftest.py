"""The two ImageStore backends the contract runs on, behind one small interface.

"fake": tests/fakes.py's in-memory store. "emulator": the real SDK adapter (HuaweiImageStore) over HTTP against
the emulator, built as bootstrap.store_factory builds it, under the documented readings. "emulator-page-info":
the same under the other reading of listings (page_info, in the SDK from 3.1.216 on; the owner sees its shared images as
private), with pages much shorter than imsync asks for, so that every listing takes several. "emulator-capped":
pages capped at 100 with no page_info on image or member listings (only an empty page says a listing ended).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_ims import HuaweiImageStore, ImsClients
from imsync.emulator import Emulator, Readings
from imsync.emulator.readings import with_changes
from imsync.ports import ImageStore
from imsync.retry import Retrier
from tests.fakes import FakeCloud

NORTH, EAST = "cn-north-4", "cn-east-3"
READINGS = {
    "emulator": Readings(),
    "emulator-page-info": Readings(page_info=True, page_cap=50, owner_shared_type="private"),
    # Pages capped below imsync's limit and no page_info at all, for images or members: only an empty page ends.
    "emulator-capped": Readings(page_cap=100, member_page_info=False),
}


class FakeBackend:
    """The in-memory fake."""

    owner_sees_shared = True  # the fake follows the emulator's documented reading

    def __init__(self) -> None:
        self.cloud = FakeCloud()

    def store(self, region: str) -> ImageStore:
        return self.cloud.store(region)

    def add(
        self,
        region: str,
        *,
        name: str = "image",
        tags: Mapping[str, str] | None = None,
        status: str = "active",
        members: Mapping[str, str] | None = None,
        description: str = "",
        other_account: bool = False,
        enterprise_project: str = "",
    ) -> str:
        """An image (of this account, or of another one that shares it with this account); returns its ID."""
        if other_account:
            members = {self.cloud.project(region): "accepted"}
        image = self.cloud.add(
            region,
            name=name,
            tags=dict(tags or {}),
            status=status,
            members=members,
            description=description,
            owned=not other_account,
            image_type="shared" if other_account else "private",
        )
        return image.id

    def advance(self, seconds: float) -> None:
        self.cloud.advance(seconds)

    def own_project(self, region: str) -> str:
        return self.cloud.project(region)

    def other_project(self, region: str) -> str:
        return self.cloud.other_project(region)

    def fail_next_member_job(self, reason: str) -> None:
        self.cloud.fail_member_jobs.append(reason)

    def partial_member_jobs(self) -> None:
        self.cloud.partial_member_jobs = True


class EmulatorBackend:
    """HuaweiImageStore over the real SDK, against an emulator (the reference the fake follows)."""

    def __init__(self, cloud: Emulator) -> None:
        self.cloud = cloud
        credentials = Credentials(cloud.owner.ak, cloud.owner.sk, None, "the emulator's owner account")
        self._clients = ImsClients(credentials, 5.0)
        self._retrier = Retrier()
        self.owner_sees_shared = cloud.readings.owner_shared_type == "shared"

    def store(self, region: str) -> ImageStore:
        return HuaweiImageStore(region, self._clients, self._retrier)

    def add(
        self,
        region: str,
        *,
        name: str = "image",
        tags: Mapping[str, str] | None = None,
        status: str = "active",
        members: Mapping[str, str] | None = None,
        description: str = "",
        other_account: bool = False,
        enterprise_project: str = "",
    ) -> str:
        if other_account:
            members = {self.cloud.owner.projects[region]: "accepted"}
        record = self.cloud.region(region).add_image(
            name=name,
            tags=tags,
            status=status,
            members=members,
            description=description,
            owner=self.cloud.recipient if other_account else None,
        )
        if enterprise_project:
            record.enterprise_project_id = enterprise_project
        return record.id

    def advance(self, seconds: float) -> None:
        self.cloud.clock.advance(seconds)

    def own_project(self, region: str) -> str:
        return self.cloud.owner.projects[region]

    def other_project(self, region: str) -> str:
        return self.cloud.recipient.projects[region]

    def fail_next_member_job(self, reason: str) -> None:
        self.cloud.fail_next_member_jobs(1, reason=reason)

    def partial_member_jobs(self) -> None:
        self.cloud.readings = with_changes(self.cloud.readings, member_job_partial=True)


Backend = FakeBackend | EmulatorBackend


@pytest.fixture(params=["fake", *READINGS])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    if request.param == "fake":
        yield FakeBackend()
        return
    with Emulator(regions=(NORTH, EAST), readings=READINGS[request.param]) as cloud:
        for key, value in cloud.env.items():
            monkeypatch.setenv(key, value)
        yield EmulatorBackend(cloud)
