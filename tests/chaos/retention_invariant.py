"""The chaos suite's retention invariant: nothing is deleted that the rules keep.

Independent of imsync's own reading of IMS: it judges each deletion on the emulator's TRUE state just before
the step that deleted it (every image, deleted or not, whatever the listings showed), with the rules of the
README ("Retention") written here on their own, not imsync.domain.retention's code. A deletion is imsync's
when a DELETE /v2/images/{id} request reached the emulator during the step (answered or deliberately lost)
and the image is deleted after it; the harness's own deletions (its `delete_replica` mutation) go through
Region.delete_image and never appear here.

Use (tests/chaos/harness.py, owned by another branch):

    watch = RetentionInvariant(cloud, grace_days=0, default_rule="follow", today=lambda: utc_date(clock()))
    watch.before_step()          # before each step
    ... the step ...
    for problem in watch.after_step():
        self._violate("3-retention", problem)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from imsync.domain.model import Image
from imsync.domain.retention import TAG_ORPHANED
from imsync.service.retention import utc_date

DELETE_OPERATION = "glance_delete_image"

__all__ = ["RetainingChaosRun", "RetentionInvariant", "utc_date"]


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
        self.deleted: set[str] = set()  # every image a DELETE of imsync's deleted, allowed or not

    def before_step(self) -> None:
        """Remember the true state of every image, and where the request log stands."""
        with self._cloud._lock:
            self._before = {rec.id: self._image(rec) for rec in self._cloud._images.values()}
            self._seen_requests = len(self._cloud.requests)

    def after_step(self, concurrent: bool = False) -> list[str]:
        """The deletions of this step that the rules keep (empty: the invariant holds).

        `concurrent`: the step ran several invocations at once. Then a DR run may rightly delete a replica whose
        orphan record another run of the same step wrote before it listed the region (with a grace period of 0,
        "the next DR run"); such a record counts when a tag write on the image precedes its DELETE in the step.
        """
        with self._cloud._lock:
            requests = self._cloud.requests[self._seen_requests :]
            deleted_now = {rec.id for rec in self._cloud._images.values() if rec.status == "deleted"}
        asked = {_image_of(r.path) for r in requests if r.operation == DELETE_OPERATION}
        problems = []
        for image_id in sorted(asked & deleted_now):
            before = self._before.get(image_id)
            if before is None or before.status == "deleted":
                continue  # deleted already before this step (or never existed): nothing was deleted now
            self.deleted.add(image_id)
            why = self.refusal(before)
            if why and concurrent and TAG_ORPHANED not in before.tags and _tagged_before_deleted(requests, image_id):
                recorded = {**before.tags, TAG_ORPHANED: self._today().isoformat()}
                why = self.refusal(dataclasses.replace(before, tags=recorded))
            if why:
                problems.append(f"imsync deleted {image_id} in {before.region}, which the rules keep: {why}")
        self.before_step()
        return problems

    def refusal(self, replica: Image) -> str | None:
        """Why the rules kept `replica` in the state before the step (None: its deletion was allowed).

        Written from README "Retention" on its own, not with imsync.domain.retention: an oracle that shares the
        engine's code would agree with its bugs.
        """
        tags = replica.tags
        marker = re.search(r"imsync:source=([a-z0-9-]+)/([A-Za-z0-9-]+)", replica.description or "")
        if not replica.owned:
            return "another account's image"
        if not marker or (tags.get("imsync-source-region"), tags.get("imsync-source")) != marker.groups():
            return "not a replica imsync made (marker and lineage tags must agree)"
        if "imsync-regions" in tags or "imsync-keep" in tags or tags.get("imsync-retain") != "follow":
            return "a source, tagged imsync-keep, or not carrying imsync-retain=follow"
        # The README: the record is the UTC date, with ".told" after it once a run announced the deletion.
        record = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(\.told)?", tags.get("imsync-orphaned", ""))
        if not record:
            return "no orphan record before the run that deleted it"
        since = record.group(1)
        if date.fromisoformat(since) + timedelta(days=self._grace_days) > self._today():
            return f"orphaned since {since}: its grace period of {self._grace_days} day(s) was not over"
        source = self._before.get(marker.group(2))
        if source is None or source.region != marker.group(1) or source.status in ("deleted", "killed"):
            return None  # truly gone
        rule = source.tags.get("imsync-retain", self._default_rule).strip().lower()
        regions = re.split(r"[_,+; ]+", source.tags.get("imsync-regions", ""))
        if rule == "follow" and replica.region not in regions:
            return None  # its region truly left a follow source's policy
        return f"its source {source.id} is there and wants it (rule {rule}, regions {regions})"

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


def _image_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _tagged_before_deleted(requests: Any, image_id: str) -> bool:
    """Whether a tag write on the image was answered before the first DELETE of it in these requests."""
    for r in requests:
        if r.operation == DELETE_OPERATION and _image_of(r.path) == image_id:
            return False
        if r.operation == "batch_add_or_delete_tags" and f"/images/{image_id}/" in r.path and r.status < 300:
            return True
    return False


def deletions(cloud: Any) -> int:
    """DELETE /v2/images requests the emulator saw (answered, refused or with the answer lost)."""
    return sum(1 for r in cloud.requests if r.operation == DELETE_OPERATION)


def _chaos_run() -> Any:
    from tests.chaos.harness import ChaosRun  # the harness is another branch's; imported only where it is used

    return ChaosRun


class _RetainingMixin:
    """ChaosRun with retention on everywhere (IMSYNC_RETAIN=follow, grace 0), sources deleted by their pipelines,
    and the retention invariant checked after every step (as "4-retention")."""

    cloud: Any
    rng: Any
    figures: Any
    _saved_env: dict[str, str | None]

    def __enter__(self) -> Any:
        from imsync import bootstrap

        run = super().__enter__()  # type: ignore[misc]
        for key, value in {"IMSYNC_RETAIN": "follow", "IMSYNC_RETAIN_GRACE_DAYS": "0"}.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        # imsync dates its records by bootstrap.wall_clock (the machine's clock in the harness): judge by the same.
        self.retention = RetentionInvariant(
            self.cloud, grace_days=0, default_rule="follow", today=lambda: utc_date(bootstrap.wall_clock())
        )
        self.retention.before_step()
        self.sources_deleted = 0
        return run

    def check_safety(self) -> None:
        super().check_safety()  # type: ignore[misc]
        for problem in self.retention.after_step(concurrent=getattr(self, "_concurrent", False)):
            self._violate("4-retention", problem)  # type: ignore[attr-defined]
        self._concurrent = False

    def _check_nothing_lost(self, final: list[dict[str, Any]]) -> None:
        """And every replica imsync deleted was announced: once it is gone, no later run could find it untold."""
        super()._check_nothing_lost(final)  # type: ignore[misc]
        for replica in sorted(self.retention.deleted):
            if not self._deletions_told[replica]:  # type: ignore[attr-defined]
                self._violate("notice-lost", f"the deletion of replica {replica} was never announced")  # type: ignore[attr-defined]

    def _step_concurrent(self) -> None:
        self._concurrent = True
        super()._step_concurrent()  # type: ignore[misc]

    def _step_mutate(self) -> None:
        if self.rng.random() < 0.5:  # a pipeline deletes an image whose replicas follow it (no API request)
            followed = sorted(
                {
                    rec.source_id()
                    for region in self.cloud.regions
                    for rec in self.cloud.region(region).images()
                    if rec.source_id() and rec.tags.get("imsync-retain") == "follow"
                }
            )
            sources = [self.cloud.region(r).image(i) for i in followed for r in ("cn-north-4", "cn-south-1")]
            mine = [rec for rec in sources if rec is not None and rec.owner is self.cloud.owner]
            if mine:
                rec = self.rng.choice(mine)
                self.cloud.region(rec.region).delete_image(rec.id)
                self.sources_deleted += 1
                self.figures.step_kinds["mutate:delete_source"] += 1
                return
        super()._step_mutate()  # type: ignore[misc]


def retaining_chaos_run(*args: Any, **kwargs: Any) -> Any:
    """A ChaosRun (tests/chaos/harness.py) with retention on and invariant 4 checked after every step."""
    cls = type("RetainingChaosRun", (_RetainingMixin, _chaos_run()), {})
    return cls(*args, **kwargs)


RetainingChaosRun = retaining_chaos_run


def main(argv: list[str] | None = None) -> int:
    """The soak with retention on: python -m tests.chaos.retention_invariant --steps 10000 --seed 424242."""
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.retention_invariant")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=424242)
    parser.add_argument("--readings", default="documented")
    args = parser.parse_args(argv)
    with retaining_chaos_run(args.seed, args.steps, readings=args.readings) as chaos:
        figures = chaos.run()
        deleted = deletions(chaos.cloud)
    # Printed after the run: while it runs, the harness taps stdout to scan every line for credentials.
    print(
        f"steps {args.steps}, seed {args.seed}, readings {args.readings}: {len(chaos.violations)} violations; "
        f"sources deleted {chaos.sources_deleted}, DELETE requests {deleted}; converged {figures.converged}"
    )
    for violation in chaos.violations[:20]:
        print(violation)
    return 1 if chaos.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
