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

    def list_own_images(self) -> list[Image]:
        """Every image the account owns in this region, shared or not, in every enterprise project (all pages)."""
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
        """A job started in this region (a copy or a member job)."""
        ...

    def get_tags(self, image_id: str) -> dict[str, str]:
        """An image's tags read one by one (exact where a listing's "key.value" strings are ambiguous)."""
        ...

    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        """Create or overwrite tags on an image, in one call."""
        ...

    def delete_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        """Delete tags (key and current value) from an image, in one call."""
        ...

    def set_description(self, image_id: str, description: str) -> None:
        """Replace an own image's description (at most 1024 characters, no < > or line break)."""
        ...

    def list_members(self, image_id: str) -> set[str]:
        """Project IDs the image is shared with."""
        ...

    def add_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        """Ask IMS to share images with projects of this region; returns the job that does it (asynchronous)."""
        ...

    def member_statuses(self, image_id: str) -> dict[str, str]:
        """Project ID -> pending | accepted | rejected, for every project the image is shared with."""
        ...

    def remove_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        """Ask IMS to stop sharing images with projects; returns the job that does it (asynchronous)."""
        ...

    def delete_image(self, image_id: str) -> None:
        """Delete one of the account's images (IMS answers at once; the image leaves the listings)."""
        ...


class Notifier(Protocol):
    """Tells the outside world what needs a person (once), and that a replica is ready."""

    def publish(self, events: Iterable[Mapping[str, object]]) -> None: ...


class ShareInbox(Protocol):
    """IMS in one region, as the account that images are shared with sees it."""

    region: str

    def pending_shares(self) -> list[Image]:
        """Images other projects shared with this one that it has not accepted or rejected yet (all pages).

        Never this project's own images, though IMS lists the ones it shares as `shared` too.
        """
        ...

    def accept(self, image_ids: Sequence[str], vault_id: str | None) -> str:
        """Accept shared images in one call (a whole-ECS image needs `vault_id`); returns the job ID."""
        ...

    def job(self, job_id: str) -> Job:
        """A job this project started in this region."""
        ...

    def shared_since(self, image_id: str) -> str:
        """When the image was shared with this project: its membership's created_at, as IMS writes it."""
        ...
