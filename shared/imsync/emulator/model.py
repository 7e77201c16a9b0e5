"""Records the emulator keeps: accounts, images, jobs, agencies, and its request log."""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from imsync.domain.model import Image

GB = 1024**3
COPY_JOB_TYPE = "copyImageCrossRegion"


def new_hex32() -> str:
    return uuid.uuid4().hex


def new_ak() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20))


def new_sk() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def iso(ts: float) -> str:
    """Seconds since the epoch as IMS writes times: 2023-11-14T22:13:20Z."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Account:
    """One Huawei Cloud account (IAM domain) with permanent keys and one project per region."""

    name: str
    domain_id: str
    ak: str
    sk: str = field(repr=False)
    projects: dict[str, str] = field(default_factory=dict)

    def project_region(self, project_id: str) -> str | None:
        for region, pid in self.projects.items():
            if pid == project_id:
                return region
        return None


@dataclass
class Credential:
    account: Account
    sk: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    expires_at: float | None = None


@dataclass
class ImageRecord:
    """One image in one region, as the emulator stores it."""

    id: str
    region: str
    name: str
    owner: Account
    status: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    members: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 40 * GB
    image_type: str = "private"
    encrypted: bool = False
    cmk_id: str = ""
    iso: bool = False
    whole_image: bool = False
    frozen: bool = False
    os_type: str = "Linux"
    platform: str = "Ubuntu"
    os_version: str = "Ubuntu 22.04 server 64bit"
    min_disk: int = 40
    created_ts: float = 0.0
    updated_ts: float = 0.0
    seq: int = 0
    backup_id: str = ""
    member_times: dict[str, tuple[float, float]] = field(default_factory=dict)
    enterprise_project_id: str = "0"  # "0": the default enterprise project
    visible_from: float = 0.0  # a copy may be listed only from this time on (Readings.copy_visible_after)

    @property
    def created_at(self) -> str:
        return iso(self.created_ts)

    @property
    def updated_at(self) -> str:
        return iso(self.updated_ts)

    @property
    def owner_project(self) -> str:
        return self.owner.projects[self.region]

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"

    @property
    def shown_status(self) -> str:
        """The status the API shows: a frozen image reads `frozen` (assumption, see docs/emulator.md)."""
        return "frozen" if self.frozen and self.status == "active" else self.status

    def source_id(self) -> str | None:
        """The source image ID this image is a replica of, read exactly as imsync reads its lineage."""
        seen = Image(self.id, self.region, self.name, self.status, tags=self.tags, description=self.description)
        return lineage.source_id if (lineage := seen.lineage) else None


@dataclass
class Job:
    """An IMS asynchronous job: a cross-region copy, or a member job (adding projects to images)."""

    id: str
    job_type: str
    region: str
    account: Account
    begin_ts: float
    init_until: float
    end_ts: float
    image_id: str = ""
    image_name: str = ""
    dest_region: str = ""
    replica_id: str = ""
    fail_code: str = ""
    fail_reason: str = ""
    status: str = "INIT"
    finished_ts: float | None = None
    member_images: list[str] = field(default_factory=list)  # a member job: these images get these projects
    member_projects: list[str] = field(default_factory=list)
    member_failed: list[tuple[str, str]] = field(default_factory=list)  # (image, project) pairs the job fails

    @property
    def is_copy(self) -> bool:
        return self.job_type == COPY_JOB_TYPE

    @property
    def is_member(self) -> bool:
        return bool(self.member_images)

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCESS", "FAIL")


@dataclass
class Agency:
    """An IAM agency of one account, with roles per project and roles on all projects."""

    id: str
    name: str
    account: Account
    grants: dict[str, list[str]] = field(default_factory=dict)  # project_id -> role display names
    all_projects: list[str] = field(default_factory=list)
    trust_domain_name: str = "op_svc_ims"
    created_ts: float = 0.0


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator answered (or dropped)."""

    region: str  # region id, or "iam"
    method: str
    path: str
    operation: str
    status: int  # 0 when the answer was deliberately lost
    account: str | None = None
    # The request's place in the order of arrival. The log is in the order of answers, and an answer delayed
    # past the client's timeout is logged after the client has moved on: this says when it was asked.
    arrived: int = 0
