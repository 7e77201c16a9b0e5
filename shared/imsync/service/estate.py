"""The Estate: what IMS shows, region by region, read once per run."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from imsync.domain.errors import ImsyncError, OutOfTime
from imsync.domain.model import Image
from imsync.ports import ImageStore


class RegionGivenUp(ImsyncError):
    """A region whose listing failed earlier in this run: not asked again until the next run."""

    def __init__(self, region: str, cause: str) -> None:
        self.region = region
        super().__init__(f"{region} did not answer earlier in this run ({cause}); the next run reads it again")


class Estate:
    """What IMS shows, region by region, read once per run (one listing covers sources and replicas)."""

    def __init__(self, stores: Callable[[str], ImageStore], clock: Callable[[], float] = time.monotonic) -> None:
        self._stores = stores
        self._clock = clock
        self._read_at: dict[str, float] = {}
        self._images: dict[str, list[Image]] = {}
        self._copies: dict[str, dict[str, list[Image]]] = {}
        # Regions whose listing failed (after the adapter's retries), with why: a region that does not answer is
        # asked once per run, not once per source (20 sources gave 21 listings of a dead region).
        self.unreadable: dict[str, str] = {}
        self.unlisted = 0  # copies started (claimed on their source) that IMS does not list yet
        self.started_at = clock()  # what this run knows of IMS may be older than anything done after this

    def images(self, region: str) -> list[Image]:
        if region not in self._images:
            self.refresh(region)
        return self._images[region]

    def refresh(self, region: str) -> None:
        """List `region` again; raises RegionGivenUp, without a call, once a listing of it has failed in this run."""
        if region in self.unreadable:
            raise RegionGivenUp(region, self.unreadable[region])
        read_at = self._clock()
        try:
            images = self._stores(region).list_own_images()
        except OutOfTime:
            raise  # the region may answer; this invocation has no time left to ask
        except ImsyncError as exc:
            self.unreadable[region] = str(exc)
            raise
        self._read_at[region] = read_at
        copies: dict[str, list[Image]] = defaultdict(list)
        for image in images:
            if lineage := image.lineage:
                copies[lineage.source_id].append(image)
        self._images[region], self._copies[region] = images, copies

    def copies_of(self, source_id: str, region: str) -> list[Image]:
        self.images(region)
        return self._copies[region].get(source_id, [])

    def read_at(self, region: str) -> float:
        """When the listing of `region` started (on the run's monotonic clock)."""
        return self._read_at[region]

    def loaded_regions(self) -> list[str]:
        return list(self._images)

    def in_flight(self) -> int:
        """imsync's copies still being made: those IMS lists in every region read so far, and those it does not yet."""
        listed = sum(1 for images in self._images.values() for i in images if i.copy_in_flight)
        return listed + self.unlisted
