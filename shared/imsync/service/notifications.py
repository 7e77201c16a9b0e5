"""What a run tells people: notices held during the run, sent at its end when they are new (policy: notices.py)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from imsync.domain.errors import ImsyncError
from imsync.domain.model import Image
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import COPY, DEFER, WAIT, Action
from imsync.notices import MARK, PROBLEMS, STUCK, Notice, digest, has_room, next_mark, stuck_for, unannounced
from imsync.ports import ImageStore, Notifier
from imsync.service.estate import Estate
from imsync.service.journal import OUT_OF_TIME
from imsync.service.summary import Result, Summary


class Announcer:
    """Holds a run's notifications and, when it ends, sends what nobody was told yet (a digest for the DR run)."""

    def __init__(
        self,
        stores: Callable[[str], ImageStore],
        notifier: Notifier | None,
        log: Callable[[Result], None],
        stuck_after_hours: float,
        wall_clock: Callable[[], float],
        out_of_time: Callable[[], bool],
        open_shares: Callable[[], Sequence[Notice]] | None = None,
    ) -> None:
        self._stores = stores
        self._notifier = notifier
        self._log = log
        self._stuck_after_hours = stuck_after_hours
        self._wall_clock = wall_clock  # the time of day, against which a copy is stuck (tests: the emulator's)
        self._out_of_time = out_of_time
        self._open_shares = open_shares  # an account that is a recipient too: untrusted shares, for the digest
        # Held until announce() sends what is new at the run's end (a lock, not a thread-local: a notification
        # held by a helper thread must never be lost).
        self._held: list[Notice] = []
        self._held_lock = threading.Lock()

    def notify(self, kind: str, action: Action, reason: str) -> None:
        """Hold a notification about `action` for announce(), which sends what is new when the run ends."""
        self._hold(
            {
                "type": kind,
                "source_image_id": action.source.id,
                "source_region": action.source.region,
                "region": action.region,
                "replica_id": action.replica.id if action.replica else "",
                "reason": reason,
            }
        )

    def _hold(self, notice: Notice) -> None:
        with self._held_lock:
            self._held.append(notice)

    def hold(self, notice: Notice) -> None:
        """Hold a notice that is its own fact (retention's): sent once, when the run ends, never in the digest."""
        self._hold(notice)

    def announce(
        self,
        summary: Summary,
        estate: Estate,
        sources: Iterable[Image],
        as_digest: bool = False,
        on_event: bool = False,
    ) -> bool:
        """Send what this run found that nobody was told yet; the DR run sends one digest of all that is open.

        Returns False when the notifier failed: what this run recorded as told (retention's orphan records) must go.

        Each source's announced problems are listed in its imsync-noticed tag (docs/reliability.md).
        """
        sources = list(sources)
        self._flag_stuck(summary, estate)
        with self._held_lock:
            held, self._held = self._held, []
        if summary.dry_run or self._notifier is None:  # nobody is told: no mark may say otherwise
            return True
        problems: dict[str, list[Notice]] = defaultdict(list)
        rest: list[Notice] = []
        for notice in held:
            (problems[str(notice["source_image_id"])] if notice["type"] in PROBLEMS else rest).append(notice)
        items: list[Notice] = []
        # A source with a deferral or an error was not seen whole: its mark keeps what this run could not see.
        partial = {r.image_id for r in summary.results if r.outcome in (Outcome.ERROR, Outcome.DEFERRED)}
        copying: dict[str, set[str]] = defaultdict(set)  # source -> regions it copies, or may copy, to
        for r in summary.results:
            if r.action in (COPY, DEFER):
                copying[r.image_id].add(r.region)
        for source in {s.id: s for s in sources}.values():
            found = problems.pop(source.id, [])
            items += found
            new = self._remember(source, found, source.id in partial, copying.get(source.id, set()), on_event)
            if not as_digest:
                rest += new
        for found in problems.values():  # a source outside the scope read (none expected): tell, as before
            items += found
            rest += [] if as_digest else found
        for image in self._left_behind(estate, sources):  # nothing of it is open any more
            self._write_mark(image, None)
        if as_digest and self._open_shares is not None:
            items += self._open_shares()
        if as_digest and items:
            rest.append(digest(summary.function, items))
        return self._publish(rest)

    def _remember(
        self, source: Image, problems: list[Notice], partial: bool, copy_regions: set[str], on_event: bool
    ) -> list[Notice]:
        """Update the source's mark; returns its problems that nobody was told about yet."""
        mark = source.tags.get(MARK)
        wanted = next_mark(problems, mark, partial)
        if not has_room(source, copy_regions):
            # Without a mark a poll would repeat it every run: the DR digest lists it, and an event (a person
            # just created or tagged the image) tells its own decisions. A mark in a slot a copy note needs goes.
            if mark is not None:
                self._write_mark(source, None)
            return problems if on_event else []
        if wanted != mark:
            self._write_mark(source, wanted)
        return unannounced(problems, mark)

    def _write_mark(self, image: Image, value: str | None) -> None:
        """Set the image's imsync-noticed mark to `value`, or delete it (None): one tag call."""
        if self._out_of_time():  # the next run writes it; it may tell once more meanwhile
            self._log(
                Result(image.id, image.region, "notice", Outcome.DEFERRED, f"{MARK}: {OUT_OF_TIME}", image.region)
            )
            return
        store = self._stores(image.region)
        try:
            if value is None:
                store.delete_tags(image.id, {MARK: image.tags.get(MARK, "")})
            else:
                store.add_tags(image.id, {MARK: value})
        except ImsyncError as exc:
            # Told without a mark, the next run may tell again: better twice than never. Logged like a failed
            # notification: it never makes the run's own work fail.
            self._log(Result(image.id, image.region, "notice", Outcome.ERROR, f"writing {MARK}: {exc}", image.region))

    def _left_behind(self, estate: Estate, sources: Iterable[Image]) -> list[Image]:
        """Images this run listed that carry a mark but are sources no more (their imsync-regions tag went)."""
        scope = {s.id for s in sources}
        return [
            image
            for region in estate.loaded_regions()
            for image in estate.images(region)
            if MARK in image.tags and image.id not in scope and not image.opted_in and not image.is_replica
        ]

    def _flag_stuck(self, summary: Summary, estate: Estate) -> None:
        """A copy still in progress after IMSYNC_STUCK_AFTER_HOURS is reported as stuck, and held for announce()."""
        now, limit = self._wall_clock(), self._stuck_after_hours
        for result in summary.results:
            if result.action != WAIT or result.outcome != Outcome.WAITING or not result.replica_id:
                continue
            replicas = [r for r in estate.copies_of(result.image_id, result.region) if r.id == result.replica_id]
            hours = stuck_for(replicas[0], now, limit) if replicas else None
            if hours is None:
                continue
            replica = replicas[0]
            result.outcome = Outcome.STUCK
            result.reason = (
                f"still {replica.status} {hours:.0f} hours after the copy started (IMSYNC_STUCK_AFTER_HOURS={limit:g})"
            )
            self._log(result)
            self._hold(
                {
                    "type": STUCK,
                    "source_image_id": result.image_id,
                    "source_region": result.source_region,
                    "region": result.region,
                    "replica_id": replica.id,
                    # Stable while it stays stuck: the hours and queued/saving change, the fact does not.
                    "reason": f"copy in progress since {replica.created_at}, longer than {limit:g} hours",
                }
            )

    def _publish(self, notices: list[Notice]) -> bool:
        """Send `notices`; False when the notifier failed (True when there was nothing to send)."""
        if self._notifier is None or not notices:
            return True
        try:
            self._notifier.publish(notices)
        except Exception as exc:  # a notification never undoes or stops the work it reports
            kinds = ", ".join(sorted({str(n["type"]) for n in notices}))
            self._log(Result("", "", "notify", Outcome.ERROR, f"{kinds}: {exc}"))
            return False
        return True
