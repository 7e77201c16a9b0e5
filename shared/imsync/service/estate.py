"""The Estate: what IMS shows, region by region, read once per run."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from imsync.domain.model import Image
from imsync.ports import ImageStore


class Estate:
    """What IMS shows, region by region, read once per run (one listing covers sources and replicas)."""

    def __init__(self, stores: Callable[[str], ImageStore], clock: Callable[[], float] = time.monotonic) -> None:
        self._stores = stores
        self._clock = clock
        self._read_at: dict[str, float] = {}
        self._images: dict[str, list[Image]] = {}
        self._copies: dict[str, dict[str, list[Image]]] = {}
        self.unlisted = 0  # copies started (claimed on their source) that IMS does not list yet
        self.started_at = clock()  # what this run knows of IMS may be older than anything done after this

    def images(self, region: str) -> list[Image]:
        if region not in self._images:
            self.refresh(region)
        return self._images[region]

    def refresh(self, region: str) -> None:
        read_at = self._clock()
        images = self._stores(region).list_own_images()
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
        listed = sum(1 for images in self._images.values() for i in images if i.lineage and i.in_progress)
        return listed + self.unlisted
