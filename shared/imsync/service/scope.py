"""A use case's scope: which source images a trigger names, or which are opted in, in the allowed regions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from imsync.config import Settings
from imsync.domain.commands import CompletionTrigger
from imsync.domain.errors import ImsyncError
from imsync.domain.model import Image, Lineage
from imsync.domain.outcomes import Outcome
from imsync.ports import ImageStore
from imsync.service.estate import Estate
from imsync.service.journal import Journal, failure
from imsync.service.summary import Result, Summary


class Scope:
    """Finds the source images a run reconciles; what it cannot read or must not touch is reported, not raised."""

    def __init__(self, settings: Settings, stores: Callable[[str], ImageStore], journal: Journal) -> None:
        self._settings = settings
        self._stores = stores
        self._journal = journal

    def named(self, summary: Summary, region: str, image_ids: Iterable[str]) -> list[Image]:
        """The opted-in sources among `image_ids` in `region` (an event names them)."""
        if not self._source_region_allowed(region, summary):
            return []
        sources = []
        for image_id in image_ids:
            image = self._read(summary, image_id, region)
            if image is not None and self._is_source(image, summary):
                sources.append(image)
        return sources

    def opted_in(
        self, summary: Summary, estate: Estate, regions: Iterable[str], image_ids: Iterable[str]
    ) -> list[Image]:
        """Every opted-in image of `regions` (default IMSYNC_SOURCE_REGIONS), or those of `image_ids` only."""
        wanted = set(image_ids)
        sources: list[Image] = []
        for region in tuple(regions) or self._settings.source_regions:
            if not self._source_region_allowed(region, summary):
                continue
            try:
                images = estate.images(region)
            except ImsyncError as exc:
                self._journal.record(summary, Result("", region, "scan", failure(exc), str(exc)))
                continue
            sources += [i for i in images if i.opted_in and (not wanted or i.id in wanted)]
        return sources

    def sources_of_replicas(self, summary: Summary, trigger: CompletionTrigger) -> list[Image]:
        """The sources of the replicas a completion event names (each once)."""
        region = trigger.region or self._settings.require_home_region()
        sources: dict[str, Image] = {}
        for replica_id in trigger.replica_ids:
            replica = self._read(summary, replica_id, region)
            lineage: Lineage | None = replica.lineage if replica else None
            if replica is None:
                continue
            if lineage is None or not lineage.source_region:
                why = "not an imsync replica (no imsync:source marker or tag)"
                self._journal.record(summary, Result(replica_id, region, "ignore", Outcome.IGNORED, why))
                continue
            if not self._source_region_allowed(lineage.source_region, summary):
                continue
            source = self._read(summary, lineage.source_id, lineage.source_region)
            if source is not None and self._is_source(source, summary):
                sources[source.id] = source
        return list(sources.values())

    def _known_source_regions(self) -> set[str]:
        home = self._settings.home_region
        return set(self._settings.source_regions) | ({home} if home else set())

    def _source_region_allowed(self, region: str, summary: Summary) -> bool:
        if region in self._known_source_regions():
            return True
        allowed = ", ".join(sorted(self._known_source_regions())) or "none"
        why = f"{region} is not a source region (IMSYNC_SOURCE_REGIONS: {allowed})"
        self._journal.record(summary, Result("", region, "scan", Outcome.REFUSED, why))
        return False

    def _read(self, summary: Summary, image_id: str, region: str) -> Image | None:
        try:
            image = self._stores(region).get_image(image_id)
        except ImsyncError as exc:
            self._journal.record(summary, Result(image_id, region, "read", Outcome.ERROR, str(exc)))
            return None
        if image is None:
            why = f"image {image_id} does not exist in {region} (deleted, or another region?)"
            self._journal.record(summary, Result(image_id, region, "read", Outcome.ERROR, why))
        return image

    def _is_source(self, image: Image, summary: Summary) -> bool:
        if image.is_replica:
            lineage = image.lineage
            what = (
                f"this is imsync's replica of {lineage.source_region}/{lineage.source_id}"
                if lineage
                else f"its imsync-source tag says it is a replica of {image.claimed_source}"
            )
            why = f"{what}; replicas are never copied again"
            self._journal.record(summary, Result(image.id, image.region, "ignore", Outcome.IGNORED, why))
            return False
        if not image.opted_in:
            why = "no imsync-regions tag: the image is not opted in"
            self._journal.record(summary, Result(image.id, image.region, "ignore", Outcome.IGNORED, why))
            return False
        return True
