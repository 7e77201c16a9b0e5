"""The use cases: replicate one image, sweep every opted-in image, finalize finished copies.

Each one reconciles a scope: read the policies from tags, read what IMS shows, act on the difference
through the ports, and report every decision with its reason. One image's failure never stops another's.
"""

from __future__ import annotations

from collections.abc import Callable

from imsync.config import Settings
from imsync.domain.commands import CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.domain.model import Image
from imsync.notices import ORPHANED
from imsync.ports import ImageStore
from imsync.service.estate import Estate
from imsync.service.notifications import Announcer
from imsync.service.reconcile import Reconciler
from imsync.service.retention import Retainer
from imsync.service.scope import Scope
from imsync.service.summary import Summary


class Replicator:
    """Reconciles images with their policies through ImageStores (one per region); built by imsync.bootstrap."""

    def __init__(
        self,
        settings: Settings,
        stores: Callable[[str], ImageStore],
        clock: Callable[[], float],
        scope: Scope,
        reconciler: Reconciler,
        announcer: Announcer,
        retainer: Retainer | None = None,
    ) -> None:
        self.settings = settings
        self._stores = stores
        self._clock = clock
        self._scope = scope
        self._reconciler = reconciler
        self._announcer = announcer
        self._retainer = retainer

    def replicate(self, trigger: ImageTrigger, dry_run: bool | None = None) -> Summary:
        """An image was created or tagged: bring that image's replicas in line with its tags."""
        summary, estate = self._summary("replicate_on_create", dry_run), self._estate()
        region = trigger.region or self.settings.require_home_region()
        sources = self._scope.named(summary, region, trigger.image_ids)
        self._reconciler.reconcile(summary, estate, sources, on_event=True)
        self._announcer.announce(summary, estate, sources)
        return summary

    def sweep(self, trigger: SweepTrigger) -> Summary:
        """The DR run: every opted-in image gets its missing replicas; replicas that follow a gone source go."""
        summary, estate = self._summary("scheduled_dr_copy", trigger.dry_run), self._estate()
        sources = self._scope.opted_in(summary, estate, trigger.regions, trigger.image_ids)
        self._reconciler.reconcile(summary, estate, sources)
        recorded: list[Image] = []
        # Retention judges the whole estate, never a few named images (their replicas' sources may be anywhere).
        if self._retainer is not None and trigger.retain and not trigger.image_ids:
            recorded = self._retainer.retain(summary, estate)
        undelivered = self._announcer.announce(summary, estate, sources, as_digest=True)
        if recorded and undelivered and self._retainer is not None:
            # An orphan record says "announced": without its own notice it goes, so the next DR run announces it
            # again. Only those: a record whose notice was delivered stays, whatever else failed.
            untold = {(n["region"], n["replica_id"]) for n in undelivered if n["type"] == ORPHANED}
            self._retainer.withdraw(summary, [r for r in recorded if (r.region, r.id) in untold])
        return summary

    def complete(self, trigger: CompletionTrigger) -> Summary:
        """Copies that finished get their lineage tags and shares (a named replica, or all by polling)."""
        summary, estate = self._summary("share_on_complete", trigger.dry_run), self._estate()
        if trigger.replica_ids:  # a completion event names its replicas: finish those, start nothing
            sources = self._scope.sources_of_replicas(summary, trigger)
            self._reconciler.reconcile(
                summary, estate, sources, no_copy="a completion event starts no copies; the poll does"
            )
        else:
            # The poll also starts the missing copies of event-mode sources that are active now: an image tagged
            # while being created is copied within one poll of turning active (its create event came too early).
            sources = self._scope.opted_in(summary, estate, (), ())
            self._reconciler.reconcile(summary, estate, sources, on_event=True)
        self._announcer.announce(summary, estate, sources)
        return summary

    def _summary(self, function: str, dry_run: bool | None) -> Summary:
        return Summary(function, self.settings.dry_run if dry_run is None else dry_run)

    def _estate(self) -> Estate:
        """A fresh read cache: each run sees IMS as it is now."""
        return Estate(self._stores, self._clock)
