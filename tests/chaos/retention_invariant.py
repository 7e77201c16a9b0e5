"""The chaos suite's retention invariant: nothing is deleted that the rules keep.

Independent of imsync's own reading of IMS: it judges each deletion on the emulator's TRUE state just before
the step that deleted it (every image, deleted or not, whatever the listings showed), with the pure rules of
imsync.domain.retention. A deletion is imsync's when a DELETE /v2/images/{id} request reached the emulator
during the step (answered or deliberately lost) and the image is deleted after it; the harness's own
deletions (its `delete_replica` mutation) go through Region.delete_image and never appear here.

Use (tests/chaos/harness.py, owned by another branch):

    watch = RetentionInvariant(cloud, grace_days=0, default_rule="follow", today=lambda: utc_date(clock()))
    watch.before_step()          # before each step
    ... the step ...
    for problem in watch.after_step():
        self._violate("3-retention", problem)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from imsync.domain.model import Image
from imsync.domain.retention import SourceView, judge
from imsync.service.retention import utc_date

DELETE_OPERATION = "glance_delete_image"

__all__ = ["RetentionInvariant", "utc_date"]


class RetentionInvariant:
    """Watches one emulator; after each step, names every deletion the retention rules did not allow."""

    def __init__(
        self, cloud: Any, *, grace_days: int, default_rule: str = "keep", today: Callable[[], date] | None = None
    ) -> None:
        self._cloud = cloud
        self._grace_days = grace_days
        self._default_rule = default_rule
        self._today = today or (lambda: utc_date(cloud.clock.now()))
        self._before: dict[str, Image] = {}
        self._seen_requests = 0

    def before_step(self) -> None:
        """Remember the true state of every image, and where the request log stands."""
        with self._cloud._lock:
            self._before = {rec.id: self._image(rec) for rec in self._cloud._images.values()}
            self._seen_requests = len(self._cloud.requests)

    def after_step(self) -> list[str]:
        """The deletions of this step that the rules keep (empty: the invariant holds)."""
        with self._cloud._lock:
            requests = self._cloud.requests[self._seen_requests :]
            deleted_now = {rec.id for rec in self._cloud._images.values() if rec.status == "deleted"}
        asked = {r.path.rstrip("/").rsplit("/", 1)[-1] for r in requests if r.operation == DELETE_OPERATION}
        problems = []
        for image_id in sorted(asked & deleted_now):
            before = self._before.get(image_id)
            if before is None or before.status == "deleted":
                continue  # deleted already before this step (or never existed): nothing was deleted now
            why = self.refusal(before)
            if why:
                problems.append(f"imsync deleted {image_id} in {before.region}, which the rules keep: {why}")
        self.before_step()
        return problems

    def refusal(self, replica: Image) -> str | None:
        """Why the rules kept `replica` in the state before the step (None: its deletion was allowed)."""
        lineage = replica.lineage
        if lineage is None:
            return "it has no lineage"
        source = self._before.get(lineage.source_id)
        if source is not None and source.region != lineage.source_region:
            source = None
        view = SourceView(known=True, image=source if source is not None and not source.gone else None)
        verdict = judge(replica, view, self._today(), self._grace_days, self._default_rule)
        if verdict is not None and verdict.kind == "due":
            return None
        return f"the rules said {verdict.kind if verdict else 'nothing to do'} ({verdict.reason if verdict else ''})"

    def _image(self, rec: Any) -> Image:
        return Image(
            rec.id,
            rec.region,
            rec.name,
            rec.status,
            owned=rec.owner is self._cloud.owner,
            tags=dict(rec.tags),
            description=rec.description,
        )
