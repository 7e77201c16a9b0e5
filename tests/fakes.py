"""An in-memory ImageStore (DESIGN: fakes of imsync's own ports are fine for fast service tests).

tests/contract/ states each behaviour of the port once and checks it on this fake and on the SDK adapter over
the emulator, so the fake cannot drift from what the adapter does. Where the two could differ, the fake does what
the emulator does (the emulator is the reference): a listing shows tags as IMS's "key.value" strings read back
(ambiguous when a key holds a dot), an owner sees the images it shared as `shared`, member jobs add their
projects only when they end, tags follow IMS's strict rules, and another account's image is refused.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from imsync.domain.errors import CopyLimitReached, NotFound, OutcomeUnknown, Refused
from imsync.domain.model import Image, Job

MAX_COPIES = 5
# The emulator's strict tag rules (IMS API reference, ims_03_0902): no "." in keys, Chinese characters allowed.
MAX_TAGS = 10
_TAG_KEY = re.compile("[A-Za-z0-9_\\-\u4e00-\u9fff]{1,36}")
_TAG_VALUE = re.compile("[A-Za-z0-9_.\\-\u4e00-\u9fff]{0,43}")
FINISHED = ("SUCCESS", "FAIL")


@dataclass
class _Job:
    job: Job
    done_at: float
    members: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (images, projects)
    replica: tuple[str, str] | None = None  # (region, image id)
    failed: tuple[str, str] | None = None  # (image, project) a partly failed member job did not add


@dataclass
class FakeCloud:
    """Images of one account in several regions, copy and member jobs that end after their time has passed."""

    job_seconds: float = 2.0
    copy_seconds: float = 60.0
    now: float = 0.0
    images: dict[str, dict[str, Image]] = field(default_factory=dict)  # region -> id -> image (exact tags)
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # image id -> project -> status
    jobs: dict[str, _Job] = field(default_factory=dict)
    fail_member_jobs: list[str] = field(default_factory=list)  # reasons for the next member jobs
    partial_member_jobs: bool = False  # like the emulator's member_job_partial: the last pair of a job fails
    lose_delete_answers: int = 0  # the next deletions take effect, but their answer is lost (OutcomeUnknown)
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def store(self, region: str) -> FakeImageStore:
        return FakeImageStore(self, region)

    def project(self, region: str) -> str:
        """The account's own project in `region`."""
        return f"{region}-own".encode().hex()[:32].ljust(32, "0")

    def other_project(self, region: str) -> str:
        """A project of another account in `region`."""
        return f"{region}-other".encode().hex()[:32].ljust(32, "0")

    def add(self, region: str, members: Mapping[str, str] | None = None, **attrs: object) -> Image:
        """An image of this account (or of another, with owned=False) in `region`, with exact tags."""
        image_id = str(uuid.uuid4())
        base: dict[str, object] = {"id": image_id, "region": region, "name": "image", "status": "active"}
        base.update(attrs)
        if base.get("owned") is False:
            base.setdefault("owner", self.other_project(region))
        else:
            base.setdefault("owner", self.project(region))
        image = Image(**base)  # type: ignore[arg-type]
        self.images.setdefault(region, {})[image_id] = image
        if members:
            self.members[image_id] = dict(members)
        return image

    def image(self, region: str, image_id: str) -> Image:
        """An image as the cloud holds it (exact tags), for assertions."""
        return self.images[region][image_id]

    def advance(self, seconds: float) -> None:
        """Let time pass: jobs that are due end (copies turn active, member jobs add their projects)."""
        self.now += seconds
        for entry in self.jobs.values():
            if entry.job.status in FINISHED or self.now < entry.done_at:
                continue
            failed = entry.job.fail_reason != ""
            entry.job = replace(entry.job, status="FAIL" if failed else "SUCCESS")
            if entry.members and not failed:
                image_ids, projects = entry.members
                for image_id in image_ids:
                    for project in projects:
                        if (image_id, project) != entry.failed:
                            self.members.setdefault(image_id, {}).setdefault(project, "pending")
            if entry.replica:
                region, image_id = entry.replica
                image = self.images[region][image_id]
                self.images[region][image_id] = replace(image, status="killed" if failed else "active")

    def copies_in_flight(self) -> int:
        return sum(1 for e in self.jobs.values() if e.replica and e.job.status not in FINISHED)


def as_listed(image: Image, members: Mapping[str, str]) -> Image:
    """The image as an IMS listing shows it to its owner: tags read back from "key.value" strings, and
    __imagetype=shared once the image has members (IMS API reference, "Querying images")."""
    tags: dict[str, str] = {}
    for key, value in image.tags.items():
        listed_key, _, listed_value = f"{key}.{value}".partition(".")
        tags[listed_key] = listed_value
    exact = all(f"{k}.{v}".count(".") <= 1 for k, v in image.tags.items())
    image_type = "shared" if image.owned and members and image.image_type == "private" else image.image_type
    return replace(image, tags=tags, tags_exact=exact, image_type=image_type)


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

    def _visible(self, image_id: str) -> Image | None:
        image = self._images().get(image_id)
        return None if image is None or image.status == "deleted" else image

    def _own(self, image_id: str) -> Image:
        image = self._visible(image_id)
        if image is None:
            raise NotFound(f"reading {image_id}", "IMG.0027", f"image {image_id} does not exist in {self.region}")
        if not image.owned:
            raise Refused(f"reading {image_id}", "IMG.0161", f"image {image_id} belongs to another account")
        return image

    def _listed(self, image: Image) -> Image:
        return as_listed(image, self._cloud.members.get(image.id, {}))

    def list_own_images(self) -> list[Image]:
        self._cloud.calls.append("list")
        return [self._listed(i) for i in self._images().values() if i.owned and i.status != "deleted"]

    def get_image(self, image_id: str) -> Image | None:
        self._cloud.calls.append("get")
        image = self._visible(image_id)
        return None if image is None else self._listed(image)

    def get_tags(self, image_id: str) -> dict[str, str]:
        self._cloud.calls.append("get_tags")
        return dict(self._own(image_id).tags)

    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        self._cloud.calls.append("add_tags")
        image = self._own(image_id)
        for key, value in tags.items():
            if not _TAG_KEY.fullmatch(key) or not _TAG_VALUE.fullmatch(value):
                raise Refused(f"tagging {image_id}", "IMG.0115", f"tag {key!r}={value!r} breaks IMS's tag rules")
        merged = {**image.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise Refused(f"tagging {image_id}", "IMG.0116", f"an image has at most {MAX_TAGS} tags")
        self._images()[image_id] = replace(image, tags=merged)

    def delete_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        self._cloud.calls.append("delete_tags")
        image = self._own(image_id)
        self._images()[image_id] = replace(image, tags={k: v for k, v in image.tags.items() if k not in tags})

    def set_description(self, image_id: str, description: str) -> None:
        self._cloud.calls.append("set_description")
        image = self._own(image_id)
        if len(description) > 1024 or set("<>\r\n") & set(description):
            raise Refused(f"describing {image_id}", "IMG.0001", "at most 1024 characters, no < > or line break")
        self._images()[image_id] = replace(image, description=description)

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
        if entry.failed and job.status == "SUCCESS":
            job = replace(job, failed_items=((entry.failed[0], f"project {entry.failed[1]}: FAIL"),))
        if job.status != "FAIL":
            job = replace(job, error_code="", fail_reason="")  # IMS tells why only once the job has failed
        return job

    def list_members(self, image_id: str) -> set[str]:
        self._cloud.calls.append("members")
        self._own(image_id)
        return set(self._cloud.members.get(image_id, {}))

    def add_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        self._cloud.calls.append("add_members")
        operation = f"sharing {len(image_ids)} image(s) in {self.region}"
        if self.project_id in project_ids:
            raise Refused(operation, "IMG.0108", "an image cannot be shared with its own account")
        for image_id in image_ids:
            if self._own(image_id).status != "active":
                raise Refused(operation, "IMG.0026", f"image {image_id}: only active images can be shared")
        reason = self._cloud.fail_member_jobs.pop(0) if self._cloud.fail_member_jobs else ""
        job = Job(self._new_id(), "RUNNING", error_code="IMG.0088" if reason else "", fail_reason=reason)
        partial = self._cloud.partial_member_jobs and not reason and len(image_ids) * len(project_ids) > 1
        failed = (image_ids[-1], project_ids[-1]) if partial else None
        return self._job(job, self._cloud.job_seconds, members=(tuple(image_ids), tuple(project_ids)), failed=failed)

    def member_statuses(self, image_id: str) -> dict[str, str]:
        self._cloud.calls.append("members")
        self._own(image_id)
        return dict(self._cloud.members.get(image_id, {}))

    def remove_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        # IMS documents the removal as asynchronous (a job): here the members go at once but the job ends after
        # job_seconds, so imsync must wait for it (the emulator ends it at once, docs/emulator.md).
        self._cloud.calls.append("remove_members")
        for image_id in image_ids:
            self._own(image_id)
            for project in project_ids:
                self._cloud.members.get(image_id, {}).pop(project, None)
        return self._job(Job(self._new_id(), "RUNNING"), self._cloud.job_seconds)

    def delete_image(self, image_id: str) -> None:
        self._cloud.calls.append("delete")
        image = self._own(image_id)
        self._images()[image_id] = replace(image, status="deleted")
        self._cloud.members.pop(image_id, None)
        if self._cloud.lose_delete_answers:
            self._cloud.lose_delete_answers -= 1
            raise OutcomeUnknown(f"deleting image {image_id}", "ReadTimeout", "no answer from IMS")

    def _new_id(self) -> str:
        return f"{next(self._cloud._ids):032x}"

    def _job(self, job: Job, seconds: float, **links: object) -> str:
        self._cloud.jobs[job.id] = _Job(job, self._cloud.now + seconds, **links)  # type: ignore[arg-type]
        self._cloud.advance(0)
        return job.id
