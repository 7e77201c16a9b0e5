"""Retention in the DR run (and `imsync apply`): replicas that follow their source are recorded, then deleted.

The rules are domain/retention.py's; this module reads what they need from the run's Estate, confirms a missing
source by its ID, and carries out the verdicts through the ports. Never called by an event run or a poll.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timezone

from imsync.config import Settings
from imsync.domain.errors import ImsyncError, OutcomeUnknown
from imsync.domain.model import TAG_RULES, Image, Job
from imsync.domain.outcomes import Outcome
from imsync.domain.retention import (
    CLEAR,
    DELETION_TOLD,
    DUE,
    FOLLOW,
    ORPHAN,
    TAG_ORPHANED,
    TAG_RETAIN,
    SourceView,
    Verdict,
    deletion_told,
    judge,
    made_by_imsync,
    recorded,
)
from imsync.notices import DELETED, ORPHANED, REFUSED_BY_NOTIFIER, Notice
from imsync.ports import ImageStore
from imsync.retry import Deadline
from imsync.service.claims import RecentCopies
from imsync.service.estate import Estate
from imsync.service.journal import OUT_OF_TIME, Journal, failure, out_of_time
from imsync.service.sharing import member_job_looks
from imsync.service.summary import Result, Summary

# Result actions: a replica recorded (or still) orphaned, deleted, or whose record was removed; RETAIN: a listing.
RETAIN, ORPHANED_ACTION, DELETE, UNORPHAN = "retain", "orphan", "delete", "unorphan"
ACTION_OF = {ORPHAN: ORPHANED_ACTION, DUE: DELETE, CLEAR: UNORPHAN}
RETENTION_ACTIONS = (RETAIN, ORPHANED_ACTION, DELETE, UNORPHAN)  # every action of retention's results
CHANGING_ACTIONS = frozenset(ACTION_OF.values())  # those that write to a replica when carried out
NOT_TOLD = "its notice could not be delivered (logged); the next DR run tells it, then deletes it"


def utc_date(seconds: float) -> date:
    """The UTC calendar date of a time of day (seconds since the epoch)."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).date()


class Retainer:
    """Applies the retention rules to every replica a DR run lists; built by imsync.bootstrap."""

    def __init__(
        self,
        settings: Settings,
        stores: Callable[[str], ImageStore],
        journal: Journal,
        hold: Callable[[Notice], None],
        tell: Callable[[Notice], Outcome | None],
        wall_clock: Callable[[], float],
        deadline: Deadline,
        sleep: Callable[[float], None] = lambda seconds: None,
        claims: RecentCopies | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._stores = stores
        self._journal = journal
        self._hold = hold  # a notice for the end of the run (Announcer.hold)
        self._tell = tell  # a notice published before its act, which waits unless delivered (Announcer.tell)
        self._wall_clock = wall_clock
        self._deadline = deadline
        self._sleep = sleep  # between looks at a member job (bootstrap.pause: tests move an emulator's clock)
        self._recorded: list[Image] = []  # this run's new orphan records, for withdraw()
        # Deletions under way in this process (bootstrap.claims, keyed by replica): of several runs of one process
        # racing on a replica (duplicate timer deliveries), one tells and deletes; `clock` dates the reads for it.
        self._claims = claims or RecentCopies()
        self._clock = clock

    def regions(self) -> list[str]:
        """Where replicas can be: every region a tag may name, and the source regions."""
        return sorted(set(self._settings.allowed_regions) | set(self._settings.source_regions))

    def retain(self, summary: Summary, estate: Estate, regions: Iterable[str] | None = None) -> list[Image]:
        """Judge every replica that carries `follow` or an orphan record, and act on the verdict.

        Returns the replicas this run recorded as orphaned (with their record), for withdraw().
        """
        today = utc_date(self._wall_clock())
        sources = _Sources(estate, self._stores)
        self._recorded = []
        for region in regions if regions is not None else self.regions():
            try:
                images = estate.images(region)
            except ImsyncError as exc:
                # Deferred, not an error: the replicas there are judged by a later run (a copy's listing of the
                # region reports its own error), and an unreadable region decides nothing.
                why = f"retention could not list {region} ({exc}); its replicas are judged by a later DR run"
                self._journal.record(summary, Result("", region, RETAIN, Outcome.DEFERRED, why))
                continue
            for replica in images:
                if replica.tags.get(TAG_RETAIN) != FOLLOW and TAG_ORPHANED not in replica.tags:
                    continue  # cheap: a replica made under keep, never recorded, needs nothing
                lineage = made_by_imsync(replica)
                if lineage is None:
                    continue
                view = sources.view(lineage.source_region, lineage.source_id)
                verdict = self._judge(replica, view, today)
                if verdict is not None:
                    self._act(summary, replica, lineage.source_region, lineage.source_id, verdict, today)
        return self._recorded

    def withdraw(self, summary: Summary, recorded: Iterable[Image]) -> None:
        """Remove the orphan records this run wrote, because their notice could not be published.

        IMS deletes a tag by its key whatever its value: a record a concurrent DR run wrote meanwhile goes too.
        That only delays the deletion (the next DR run records the replica again and the grace period restarts);
        it never deletes anything early.
        """
        for replica in recorded:
            lineage = replica.lineage
            result = Result(
                lineage.source_id if lineage else "",
                replica.region,
                ORPHANED_ACTION,
                Outcome.DEFERRED,
                "the orphaned notice could not be published: the record is withdrawn; the next DR run tells again",
                lineage.source_region if lineage else "",
                replica.id,
            )
            try:
                self._stores(replica.region).delete_tags(replica.id, {TAG_ORPHANED: replica.tags[TAG_ORPHANED]})
            except ImsyncError as exc:
                result.outcome, result.reason = failure(exc), f"withdrawing the orphan record: {exc}"
            self._journal.record(summary, result)

    def _act(
        self, summary: Summary, replica: Image, source_region: str, source_id: str, verdict: Verdict, today: date
    ) -> None:
        def record(action: str, outcome: Outcome, reason: str) -> None:
            result = Result(source_id, replica.region, action, outcome, reason, source_region, replica.id)
            self._journal.record(summary, result)

        due = verdict.due.isoformat() if verdict.due else ""
        if verdict.kind in (ORPHAN, DUE, CLEAR) and summary.dry_run:
            would = {ORPHAN: f"would record it orphaned, to be deleted on {due}", DUE: "would delete it"}
            record(
                ACTION_OF[verdict.kind],
                Outcome.PLANNED,
                f"{verdict.reason}: " + would.get(verdict.kind, "would remove its orphan record"),
            )
            return
        if verdict.kind not in (ORPHAN, DUE, CLEAR):  # pending: nothing to write
            when = f"; deleted on or after {due}" if due else ""
            since = replica.tags.get(TAG_ORPHANED, "not recorded")
            record(ORPHANED_ACTION, Outcome.WAITING, f"orphaned since {since}: {verdict.reason}{when}")
            return
        if self._out_of_time():
            record(ACTION_OF[verdict.kind], Outcome.DEFERRED, OUT_OF_TIME)
            return
        store = self._stores(replica.region)
        try:
            if verdict.kind == ORPHAN:
                store.add_tags(replica.id, {TAG_ORPHANED: today.isoformat()})
                self._recorded.append(
                    dataclasses.replace(replica, tags={**replica.tags, TAG_ORPHANED: today.isoformat()})
                )
                record(ORPHANED_ACTION, Outcome.DONE, f"orphaned: {verdict.reason}; deleted on or after {due}")
                self._hold(self._notice(ORPHANED, replica, source_region, source_id, verdict.reason, due=due))
            elif verdict.kind == CLEAR:
                stale = {TAG_RETAIN: FOLLOW} if verdict.drop_rule else {}
                record_tag = {TAG_ORPHANED: replica.tags[TAG_ORPHANED]} if TAG_ORPHANED in replica.tags else {}
                store.delete_tags(replica.id, {**record_tag, **stale})
                record(UNORPHAN, Outcome.DONE, f"orphan record removed: {verdict.reason}")
            else:
                self._delete(store, replica, source_region, source_id, record, today)
        except ImsyncError as exc:
            record(ACTION_OF[verdict.kind], failure(exc), str(exc))

    def _delete(
        self,
        store: ImageStore,
        replica: Image,
        source_region: str,
        source_id: str,
        record: Callable[[str, Outcome, str], None],
        today: date,
    ) -> None:
        """Told first (once), then the members, then the image; a lost answer is read back.

        The verdict came from the run's first listing; copies and share waits ran since. Both images are read
        again and judged again before each irreversible step, so a keep written meanwhile is honoured.
        """
        key = (replica.id, DELETE)
        if not self._claims.claim(key, self._clock()):
            record(DELETE, Outcome.OK, "another run of this process is deleting it (or just did)")
            return
        try:
            self._delete_claimed(store, replica, source_region, source_id, record, today)
        finally:
            self._claims.settle(key, self._clock())  # runs that read it from now on see what IMS shows

    def _delete_claimed(
        self,
        store: ImageStore,
        replica: Image,
        source_region: str,
        source_id: str,
        record: Callable[[str, Outcome, str], None],
        today: date,
    ) -> None:
        seen = self._still_due(store, replica, source_region, source_id, today)
        if isinstance(seen, _Stop):
            record(DELETE, seen.outcome, seen.reason)
            return
        now, verdict = seen
        members = store.member_statuses(now.id)
        accepted = sorted(p for p, status in members.items() if status == "accepted")
        # Told before anything is undone, because nothing would remember an untold deletion afterwards: the
        # replica is what a later run finds, and its members are who had accepted it. Not delivered: it waits.
        telling = not deletion_told(now)
        notice = self._notice(DELETED, now, source_region, source_id, verdict.reason, accepted=accepted)
        untold = self._tell(notice) if telling else None
        if untold is not None:
            why = NOT_TOLD if untold is Outcome.DEFERRED else f"its notice was not delivered: {REFUSED_BY_NOTIFIER}"
            record(DELETE, untold, f"not deleted yet: {why}")
            return
        try:
            stop = self._carry_out(store, now, members, source_region, source_id, today)
        except ImsyncError as exc:
            stop = _Stop(failure(exc), str(exc))
        if stop is None:
            lost = f"; projects that had accepted it can no longer launch from it: {', '.join(accepted)}"
            earlier = "" if telling else "; announced by an earlier DR run"
            record(DELETE, Outcome.DONE, f"deleted: {verdict.reason}{lost if accepted else ''}{earlier}")
            return
        if telling and stop.there:
            stop = self._remember_told(store, now, stop)
        record(DELETE, stop.outcome, stop.reason)

    def _carry_out(
        self,
        store: ImageStore,
        replica: Image,
        members: dict[str, str],
        source_region: str,
        source_id: str,
        today: date,
    ) -> _Stop | None:
        """Remove the members, read both images again, delete the replica: None once it is deleted."""
        if members:
            job = self._finished(store, store.remove_members([replica.id], sorted(members)))
            # A job that ends SUCCESS may still list this image's part as failed: then it is still shared.
            item = job.item_failure(replica.id) if job.status == "SUCCESS" else None
            if job.status != "SUCCESS" or item is not None:
                # Not deleted while shared: the next DR run finds the members gone (or tries again) and deletes.
                why = item or job.fail_reason or f"job {job.id} is {job.status}"
                return _Stop(Outcome.WAITING, f"removing its {len(members)} member(s) first ({why})")
            seen = self._still_due(store, replica, source_region, source_id, today)
            if isinstance(seen, _Stop):
                return seen
        try:
            store.delete_image(replica.id)
        except OutcomeUnknown:
            # The answer was lost: IMS may have deleted it. Read it back rather than ask twice.
            still = store.get_image(replica.id)
            if still is not None and not still.gone:
                why = "the deletion's answer was lost and the image is still there; the next DR run judges it again"
                return _Stop(Outcome.ERROR, why)
        return None

    def _remember_told(self, store: ImageStore, replica: Image, stop: _Stop) -> _Stop:
        """The deletion was announced and has not happened: its record says so (`<date>.told`), so that the run
        that deletes it does not announce it again. A record a keep clears goes with what it says."""
        since = recorded(replica)
        if since is None:  # not expected: only a replica with a dated record is due
            return stop
        try:
            store.add_tags(replica.id, {TAG_ORPHANED: since.isoformat() + DELETION_TOLD})
            note = "; its deletion was already announced (noted on its orphan record)"
        except ImsyncError as exc:
            note = f"; its deletion was already announced, and noting that failed ({exc}): it may be announced again"
        return dataclasses.replace(stop, reason=stop.reason + note)

    def _still_due(
        self, store: ImageStore, replica: Image, source_region: str, source_id: str, today: date
    ) -> tuple[Image, Verdict] | _Stop:
        """The replica and its verdict as IMS shows them now; a _Stop unless still DUE.

        A source that cannot be read by its ID now decides nothing (judge() keeps), like a failed listing.
        """
        now = store.get_image(replica.id)
        if now is None or now.gone:
            return _Stop(Outcome.OK, "already gone when read again before deleting it", there=False)
        try:
            source = SourceView(known=True, image=self._stores(source_region).get_image(source_id))
        except ImsyncError:
            source = SourceView(known=False)
        verdict = self._judge(now, source, today)
        if verdict is None or verdict.kind != DUE:
            why = verdict.reason if verdict is not None else "its source or its tags want it now"
            return _Stop(
                Outcome.OK,
                f"kept: read again before deleting, it is no longer due ({why}); the next DR run judges it again",
            )
        return now, verdict

    def _judge(self, replica: Image, source: SourceView, today: date) -> Verdict | None:
        """judge() under this deployment's grace period, default rule and the tag rules the cloud applies."""
        settings = self._settings
        max_tags = TAG_RULES[settings.tag_rules].max_tags
        return judge(replica, source, today, settings.retain_grace_days, settings.retain, max_tags)

    def _out_of_time(self) -> bool:
        return out_of_time(self._deadline)

    def _finished(self, store: ImageStore, job_id: str) -> Job:
        """The member job, read until it ends, within IMSYNC_SHARE_WAIT_SECONDS and the time the run has left."""
        for _ in member_job_looks(self._settings.share_wait_seconds, self._deadline, self._sleep):
            job = store.get_job(job_id)
            if job.finished:
                break
        return job

    def _notice(
        self,
        kind: str,
        replica: Image,
        source_region: str,
        source_id: str,
        reason: str,
        due: str = "",
        accepted: Sequence[str] = (),
    ) -> Notice:
        notice: dict[str, object] = {
            "type": kind,
            "source_image_id": source_id,
            "source_region": source_region,
            "region": replica.region,
            "replica_id": replica.id,
            "reason": reason,
        }
        if due:
            notice["delete_on"] = due
        if accepted:
            notice["accepted_members"] = list(accepted)
        return notice


@dataclasses.dataclass(frozen=True)
class _Stop:
    """Why a deletion ends without deleting, and whether the replica is still there."""

    outcome: Outcome
    reason: str
    there: bool = True


class _Sources:
    """What this run knows of each source: its region's listing, and IMS's answer for its ID when not listed."""

    def __init__(self, estate: Estate, stores: Callable[[str], ImageStore]) -> None:
        self._estate = estate
        self._stores = stores
        self._by_id: dict[str, dict[str, Image] | None] = {}
        self._checked: dict[tuple[str, str], SourceView] = {}

    def view(self, region: str, source_id: str) -> SourceView:
        listed = self._listing(region)
        if listed is None:
            return SourceView(known=False)  # the listing failed: a run that could not read the region decides nothing
        if source_id in listed:
            return SourceView(known=True, image=listed[source_id])
        key = (region, source_id)
        if key not in self._checked:
            # Not listed is not gone: a listing may be late or short. IMS must say so for that ID.
            try:
                self._checked[key] = SourceView(known=True, image=self._stores(region).get_image(source_id))
            except ImsyncError:
                self._checked[key] = SourceView(known=False)
        return self._checked[key]

    def _listing(self, region: str) -> dict[str, Image] | None:
        if region not in self._by_id:
            try:
                self._by_id[region] = {i.id: i for i in self._estate.images(region)}
            except ImsyncError:
                self._by_id[region] = None
        return self._by_id[region]
