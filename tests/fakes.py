"""An in-memory ImageStore (DESIGN: fakes of imsync's own ports are fine for fast service tests).

tests/contract/ states each behaviour of the port once and checks it on this fake and on the SDK adapter over
the emulator, so the fake cannot drift from what the adapter does.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from imsync.domain.errors import CopyLimitReached, NotFound, Refused
from imsync.domain.model import Image, Job

MAX_COPIES = 5


@dataclass
class _Job:
    job: Job
    done_at: float
    members: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None  # (region, images, projects)
    replica: tuple[str, str] | None = None  # (region, image id)


@dataclass
class FakeCloud:
    """Images of one account in several regions, copy and member jobs that end after `job_seconds`."""

    job_seconds: float = 2.0
    copy_seconds: float = 60.0
    now: float = 0.0
    images: dict[str, dict[str, Image]] = field(default_factory=dict)  # region -> id -> image
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # image id -> project -> status
    jobs: dict[str, _Job] = field(default_factory=dict)
    fail_member_jobs: list[str] = field(default_factory=list)  # reasons for the next member jobs
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def store(self, region: str) -> FakeImageStore:
        return FakeImageStore(self, region)

    def project(self, region: str) -> str:
        return f"{region}-own".encode().hex()[:32].ljust(32, "0")

    def add(self, region: str, **attrs: object) -> Image:
        """An image of this account (or of another, with owned=False) in `region`."""
        image_id = str(uuid.uuid4())
        base: dict[str, object] = {"id": image_id, "region": region, "name": "image", "status": "active"}
        base.update(attrs)
        image = Image(**base)  # type: ignore[arg-type]
        self.images.setdefault(region, {})[image_id] = image
        return image

    def advance(self, seconds: float) -> None:
        """Let time pass: jobs that are due end (copies turn active, member jobs add their projects)."""
        self.now += seconds
        for entry in self.jobs.values():
            if entry.job.status in ("SUCCESS", "FAIL") or self.now < entry.done_at:
                continue
            failed = entry.job.fail_reason != ""
            entry.job = replace(entry.job, status="FAIL" if failed else "SUCCESS")
            if entry.members and not failed:
                _, image_ids, projects = entry.members
                for image_id in image_ids:
                    for project in projects:
                        self.members.setdefault(image_id, {}).setdefault(project, "pending")
            if entry.replica:
                region, image_id = entry.replica
                image = self.images[region][image_id]
                self.images[region][image_id] = replace(image, status="killed" if failed else "active")

    def copies_in_flight(self) -> int:
        return sum(1 for e in self.jobs.values() if e.replica and e.job.status not in ("SUCCESS", "FAIL"))


class FakeImageStore:
    """ImageStore over a FakeCloud, for one region."""

    def __init__(self, cloud: FakeCloud, region: str) -> None:
        self._cloud = cloud
        self.region = region

    @property
    def project_id(self) -> str:
        return self._cloud.project(self.region)

    def _images(self) -> dict[str, Image]:
        return self._cloud.images.setdefault(self.region, {})

    def _own(self, image_id: str) -> Image:
        image = self._images().get(image_id)
        if image is None or not image.owned or image.gone:
            raise NotFound(f"reading {image_id}", "IMG.0027", "no such image")
        return image

    def list_own_images(self) -> list[Image]:
        self._cloud.calls.append("list")
        return [i for i in self._images().values() if i.owned and i.status != "deleted"]

    def get_image(self, image_id: str) -> Image | None:
        self._cloud.calls.append("get")
        image = self._images().get(image_id)
        return None if image is None or image.status == "deleted" else image

    def get_tags(self, image_id: str) -> dict[str, str]:
        self._cloud.calls.append("get_tags")
        return dict(self._own(image_id).tags)

    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        self._cloud.calls.append("add_tags")
        image = self._own(image_id)
        merged = {**image.tags, **tags}
        if len(merged) > 10:
            raise Refused(f"tagging {image_id}", "IMG.0116", "an image has at most 10 tags")
        self._images()[image_id] = replace(image, tags=merged)

    def delete_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        self._cloud.calls.append("delete_tags")
        image = self._own(image_id)
        self._images()[image_id] = replace(image, tags={k: v for k, v in image.tags.items() if k not in tags})

    def start_copy(
        self, image_id: str, dest_region: str, name: str, description: str, agency: str, vault_id: str | None
    ) -> str:
        self._cloud.calls.append("copy")
        self._own(image_id)
        if self._cloud.copies_in_flight() >= MAX_COPIES:
            raise CopyLimitReached(f"copying {image_id}", "IMG.0060", "too many tasks")
        replica = self._cloud.add(dest_region, name=name, description=description, status="queued")
        return self._job(Job(self._new_id(), "RUNNING"), self._cloud.copy_seconds, replica=(dest_region, replica.id))

    def get_job(self, job_id: str) -> Job:
        self._cloud.calls.append("job")
        entry = self._cloud.jobs.get(job_id)
        if entry is None:
            raise NotFound(f"reading job {job_id}", "IMG.0040", "no such job")
        job = entry.job
        if entry.replica and job.status == "SUCCESS":
            job = replace(job, image_id=entry.replica[1])
        return job

    def list_members(self, image_id: str) -> set[str]:
        self._cloud.calls.append("members")
        self._own(image_id)
        return set(self._cloud.members.get(image_id, {}))

    def add_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        self._cloud.calls.append("add_members")
        for image_id in image_ids:
            self._own(image_id)
        reason = self._cloud.fail_member_jobs.pop(0) if self._cloud.fail_member_jobs else ""
        job = Job(self._new_id(), "RUNNING", error_code="IMG.0088" if reason else "", fail_reason=reason)
        return self._job(job, self._cloud.job_seconds, members=(self.region, tuple(image_ids), tuple(project_ids)))

    def _new_id(self) -> str:
        return f"{next(self._cloud._ids):032x}"

    def _job(self, job: Job, seconds: float, **links: object) -> str:
        self._cloud.jobs[job.id] = _Job(job, self._cloud.now + seconds, **links)  # type: ignore[arg-type]
        self._cloud.advance(0)
        return job.id
