"""The small interfaces the service needs from the outside world, in imsync's words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from imsync.domain.model import Image, Job


class ImageStore(Protocol):
    """IMS in one region, as the account that owns the images sees it."""

    region: str

    @property
    def project_id(self) -> str:
        """The account's project in this region."""
        ...

    def list_private_images(self) -> list[Image]:
        """Every private image of the account in this region (all pages)."""
        ...

    def get_image(self, image_id: str) -> Image | None:
        """One image, or None when it does not exist."""
        ...

    def start_copy(
        self, image_id: str, dest_region: str, name: str, description: str, agency: str, vault_id: str | None
    ) -> str:
        """Ask IMS to copy a private image of this region to `dest_region`; returns the job ID."""
        ...

    def get_job(self, job_id: str) -> Job:
        """A job started in this region."""
        ...

    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        """Create or overwrite tags on an image, in one call."""
        ...

    def list_members(self, image_id: str) -> set[str]:
        """Project IDs the image is shared with."""
        ...

    def add_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        """Share images with projects of this region, in one call; returns the job ID."""
        ...


class Notifier(Protocol):
    """Tells the outside world that a replica is ready, or a copy failed or was refused."""

    def publish(self, events: Iterable[Mapping[str, object]]) -> None: ...


class ShareInbox(Protocol):
    """IMS in one region, as the account that images are shared with sees it."""

    region: str

    def pending_shares(self) -> list[Image]:
        """Images shared with this project that it has not accepted or rejected yet (all pages)."""
        ...

    def accept(self, image_ids: Sequence[str], vault_id: str | None) -> str:
        """Accept shared images in one call (a whole-ECS image needs `vault_id`); returns the job ID."""
        ...

    def job(self, job_id: str) -> Job:
        """A job this project started in this region."""
        ...
