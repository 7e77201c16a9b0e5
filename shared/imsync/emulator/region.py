"""In-process handle on one region of the emulated cloud: add, read, delete and force images."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .model import GB, Account, ImageRecord

if TYPE_CHECKING:
    from .core import Emulator


class Region:
    """In-process view of one region of the emulated cloud."""

    def __init__(self, cloud: Emulator, name: str) -> None:
        self._cloud = cloud
        self.name = name

    def __repr__(self) -> str:
        return f"Region({self.name!r})"

    @property
    def endpoint(self) -> str:
        return self._cloud._endpoints[self.name]

    def add_image(
        self,
        name: str = "image",
        tags: Mapping[str, str] | None = None,
        status: str = "active",
        size_gb: float = 40,
        image_type: str = "private",
        encrypted: bool = False,
        iso: bool = False,
        whole_image: bool = False,
        frozen: bool = False,
        description: str = "",
        owner: Account | None = None,
        os_type: str = "Linux",
        members: Mapping[str, str] | None = None,
    ) -> ImageRecord:
        """Create an image directly (no API call, no quota check) and return its record."""
        cloud = self._cloud
        with cloud._lock:
            now = cloud.clock.now()
            rec = ImageRecord(
                id=str(uuid.uuid4()),
                region=self.name,
                name=name,
                owner=owner or cloud.owner,
                status=status,
                tags=dict(tags or {}),
                description=description,
                members=dict(members or {}),
                size_bytes=int(size_gb * GB),
                image_type=image_type,
                encrypted=encrypted,
                cmk_id=str(uuid.uuid4()) if encrypted else "",
                iso=iso,
                whole_image=whole_image,
                frozen=frozen,
                os_type=os_type,
                min_disk=max(1, math.ceil(size_gb)),
                created_ts=now,
                updated_ts=now,
                seq=cloud._next_seq(),
                backup_id=str(uuid.uuid4()) if whole_image else "",
            )
            for pid in rec.members:
                rec.member_times[pid] = (now, now)
            cloud._images[rec.id] = rec
            return rec

    def images(self) -> list[ImageRecord]:
        """Every image of this region that is not deleted, oldest first."""
        cloud = self._cloud
        with cloud._lock:
            cloud._tick()
            found = [i for i in cloud._images.values() if i.region == self.name and not i.deleted]
            return sorted(found, key=lambda i: i.seq)

    def image(self, image_id: str) -> ImageRecord | None:
        """The image with this id in this region, or None (also when deleted)."""
        cloud = self._cloud
        with cloud._lock:
            cloud._tick()
            rec = cloud._images.get(image_id)
            return rec if rec is not None and rec.region == self.name and not rec.deleted else None

    def replicas_of(self, source_id: str) -> list[ImageRecord]:
        """Images here that imsync would read as replicas of `source_id` (ImageRecord.source_id)."""
        return [i for i in self.images() if i.source_id() == source_id]

    def delete_image(self, image_id: str) -> None:
        """Mark the image deleted (it disappears from every listing)."""
        self.set_status(image_id, "deleted")

    def set_status(self, image_id: str, status: str) -> None:
        """Force an image's status (queued, saving, active, killed, deleted, ...)."""
        cloud = self._cloud
        with cloud._lock:
            rec = cloud._images.get(image_id)
            if rec is None or rec.region != self.name:
                raise KeyError(image_id)
            rec.status = status
            rec.updated_ts = cloud.clock.now()
