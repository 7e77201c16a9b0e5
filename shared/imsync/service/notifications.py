"""What a run tells people: notices held during the run, sent at its end when they are new (policy: notices.py)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from imsync.domain.errors import ImsyncError, NotDelivered, Refused
from imsync.domain.model import TAG_SHARED, TAG_SOURCE, Image
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import COPY, DEFER, WAIT, Action, ShareMark
from imsync.notices import (
    MARK,
    PROBLEMS,
    READY,
    REFUSED_BY_NOTIFIER,
    STUCK,
    Notice,
    digest,
    has_room,
    merged_mark,
    next_mark,
    problem_hash,
    stuck_for,
    unannounced,
)
from imsync.ports import ImageStore, Notifier
from imsync.service.claims import RecentNotices
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
        open_shares: Callable[[frozenset[str]], Sequence[Notice]] | None = None,
        told: RecentNotices | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stores = stores
        self._notifier = notifier
        self._log = log
        self._stuck_after_hours = stuck_after_hours
        self._wall_clock = wall_clock  # the time of day, against which a copy is stuck (tests: the emulator's)
        self._out_of_time = out_of_time
        self._open_shares = open_shares  # an account that is a recipient too: untrusted shares, for the digest
        self._told = told or RecentNotices()  # this process's facts being told or just told (bootstrap: per process)
        self._clock = clock  # the clock of estate.started_at
        # Held until announce() sends what is new at the run's end (a lock, not a thread-local: a notification
        # held by a helper thread must never be lost).
        self._held: list[Notice] = []
        self._ready: dict[int, Action] = {}  # held "replica ready" notices (by id) -> the finalize they announce
        self._held_lock = threading.Lock()

    def notify(self, kind: str, action: Action, reason: str) -> None:
        """Hold a notification about `action` for announce(), which sends what is new when the run ends."""
        notice = {
            "type": kind,
            "source_image_id": action.source.id,
            "source_region": action.source.region,
            "region": action.region,
            "replica_id": action.replica.id if action.replica else "",
            "reason": reason,
        }
        self._hold(notice)
        if kind == READY:
            with self._held_lock:
                self._ready[id(notice)] = action  # what to undo if nobody receives it

    def _hold(self, notice: Notice) -> None:
        with self._held_lock:
            self._held.append(notice)

    def hold(self, notice: Notice) -> None:
        """Hold a notice that is its own fact (retention's): sent once, when the run ends, never in the digest."""
        self._hold(notice)

    def tell(self, notice: Notice) -> Outcome | None:
        """Publish a notice now, before the act it announces: None when the act may go ahead, else how the act's
        result is to be reported (deferred: the next run tells it; error: the notifier refused it).

        For an act that leaves nothing behind to remember an untold notice by (a deleted replica): the act
        itself is the memory, so it waits for a notifier that delivers. A deployment without a notifier (the
        command line) tells the person who reads its answer: nothing waits.
        """
        undelivered, refused = self._publish([notice])
        if not undelivered:
            return None
        return Outcome.ERROR if refused else Outcome.DEFERRED

    def announce(
        self,
        summary: Summary,
        estate: Estate,
        sources: Iterable[Image],
        as_digest: bool = False,
    ) -> list[Notice]:
        """Send what this run found that nobody was told yet; the DR run sends one digest of all that is open.

        Each source's announced problems are listed in its imsync-noticed tag (docs/reliability.md). The mark
        is written after the publish, and lists only what was delivered: a notifier that is down for a run
        loses nothing, the next run tells it.

        Returns the held notices that were not delivered (never the digest): what this run recorded as told for
        exactly those (retention's orphan records) must go, so the next run tells them again. A digest that keeps
        failing withdraws nothing, or it would restart every grace period on every run.
        """
        sources = list(sources)
        self._flag_stuck(summary, estate)
        with self._held_lock:
            held, self._held = self._held, []
            ready, self._ready = self._ready, {}
        if summary.dry_run or self._notifier is None:  # nobody is told: no mark may say otherwise
            return []
        undelivered: set[int] = set()
        claimed: list[Notice] = []  # settled whatever happens: a claim left in flight silences the fact for good
        try:
            problems: dict[str, list[Notice]] = defaultdict(list)
            outgoing: list[Notice] = []
            for notice in held:
                (problems[str(notice["source_image_id"])] if notice["type"] in PROBLEMS else outgoing).append(notice)
            items: list[Notice] = []
            # A source with a deferral or an error was not seen whole: its mark keeps what this run could not see.
            partial = {r.image_id for r in summary.results if r.outcome in (Outcome.ERROR, Outcome.DEFERRED)}
            copying: dict[str, set[str]] = defaultdict(set)  # source -> regions it copies, or may copy, to
            for r in summary.results:
                if r.action in (COPY, DEFER):
                    copying[r.image_id].add(r.region)
            marks: list[tuple[Image, list[Notice], list[Notice], bool]] = []  # source, its problems, told now, room
            for source in {s.id: s for s in sources}.values():
                found = problems.pop(source.id, [])
                items += found
                # A mark already there keeps its slot (a copy note then goes to the description): it is the only
                # memory of what was told. A new one takes no slot a note of this run may need.
                room = MARK in source.tags or has_room(source, copying.get(source.id, set()))
                # An image still being created may not take tags (docs/emulator.md, tag_saving_copy): nothing could
                # remember what was told, so its problems wait for the digest, or for a run once it is active.
                new = self._new(source, found, room and not source.in_progress)
                marks.append((source, found, new, room))
                if not as_digest:
                    outgoing += [n for n in new if self._claim(n, estate, claimed)]
            for found in problems.values():  # a source outside the scope read (none expected): tell, as before
                items += found
                outgoing += [] if as_digest else found
            for image in self._left_behind(estate, sources):  # nothing of it is open any more
                self._write_mark(image, None)
            if as_digest and self._open_shares is not None:
                items += self._open_shares(frozenset(estate.unreadable))  # a region given up is not asked again
            the_digest = digest(summary.function, items) if as_digest and items else None
            if the_digest is not None:
                outgoing.append(the_digest)
            outgoing = [n for n in outgoing if n["type"] != READY or self._claim(n, estate, claimed)]
            undelivered = {id(n) for n in self._publish(outgoing, summary)[0]}
            sent = {id(n) for n in outgoing}
            for source, found, new, room in marks:
                if source.in_progress:  # not told one by one, and it may not take a mark: nothing to remember
                    continue
                if the_digest is not None:  # the digest told them all, or none of them
                    untold = unannounced(found, source.tags.get(MARK)) if id(the_digest) in undelivered else []
                else:  # not delivered, or left to another run of this process that is telling it (it marks it)
                    untold = [n for n in new if id(n) in undelivered or id(n) not in sent]
                self._remember(source, found, untold, source.id in partial, room)
            for notice in outgoing:
                if id(notice) in undelivered and id(notice) in ready:
                    self._unready(ready[id(notice)])
        finally:
            self._settle(claimed)  # after the marks: a run that reads IMS later sees them
        return [n for n in held if id(n) in undelivered]

    @staticmethod
    def _fact(notice: Notice) -> tuple[str, str]:
        """What a notice tells, as the in-process table knows it: a problem of a source, or a replica's readiness."""
        if notice["type"] == READY:
            return str(notice.get("replica_id") or f"{notice['source_image_id']}/{notice['region']}"), READY
        return str(notice["source_image_id"]), problem_hash(notice)

    def _claim(self, notice: Notice, estate: Estate, claimed: list[Notice]) -> bool:
        """Whether this run tells `notice`: not while another run of this process that read IMS later tells it.

        A claim taken joins `claimed`, which announce() settles: only the claims this run took, never another's.
        """
        if not self._told.claim(self._fact(notice), estate.started_at):
            return False
        claimed.append(notice)
        return True

    def _settle(self, claimed: list[Notice]) -> None:
        """The publish is over, delivered or not (or announce() raised): runs that read IMS from now on decide by
        the mark. Only the claims this run took: a problem told without one (a source outside the scope) leaves
        another run's claim in flight.

        Not released on a failure: a publish whose answer was lost or a 5xx may have been delivered, and the runs
        racing with this one must not each tell it again; the mark does not list it, so the next run tells it.
        """
        now = self._clock()
        for notice in claimed:
            self._told.settle(self._fact(notice), now)

    def _new(self, source: Image, problems: list[Notice], room: bool) -> list[Notice]:
        """The source's problems that nobody was told about yet.

        Without room for the mark nothing remembers what was told, so no run tells them one by one: the DR
        digest lists them. (Events did once tell their own decisions, but imsync's own writes to a full source,
        its copy notes in the description among them, are events too: each repeated every refusal.)
        """
        return unannounced(problems, source.tags.get(MARK)) if room else []

    def _remember(self, source: Image, problems: list[Notice], untold: list[Notice], partial: bool, room: bool) -> None:
        """Update the source's mark after the publish: it lists what was told, never what was not delivered."""
        mark = source.tags.get(MARK)
        if not room:  # no mark, and no slot for one: the digest tells this source's problems
            return
        wanted = next_mark(problems, mark, partial, untold)
        if wanted == mark:
            return
        # Another run may have written the mark since this run read it (it told other facts of this source): read it
        # again and keep what it added, or the last writer wins and a fact drops out of the mark (told again later).
        now = self._fresh_mark(source, mark)
        wanted = merged_mark(wanted, mark, now)
        if wanted != now:
            self._write_mark(source, wanted)

    def _fresh_mark(self, source: Image, mark: str | None) -> str | None:
        """The mark IMS holds now; `mark` (as listed) when the source cannot be read: the run writes its own."""
        try:
            fresh = self._stores(source.region).get_image(source.id)
        except ImsyncError:
            return mark
        return fresh.tags.get(MARK) if fresh is not None else mark

    def _unready(self, action: Action) -> None:
        """A "replica ready" nobody received: undo what says it was sent, so the next run sends it again.

        The replica's share mark goes back to "submitted" (the next run reads its members, finds them all, and
        announces); a replica without a share mark (it shares with nobody, or has no room for one) loses the
        imsync-source tag this run wrote (its description marker still names the source), so the next run writes
        it again and announces. A replica where this run wrote neither keeps its notice lost: that is logged.
        """
        replica = action.replica
        if replica is None:
            return
        lost = f"{READY} was not delivered and cannot be sent again: the replica is ready"
        try:
            if action.projects and TAG_SHARED in action.tags:
                undo = {TAG_SHARED: ShareMark(action.fingerprint, submitted=True).value}
                self._stores(replica.region).add_tags(replica.id, undo)
                return
            if TAG_SOURCE in action.tags and TAG_SHARED not in action.tags:
                self._stores(replica.region).delete_tags(replica.id, {TAG_SOURCE: action.source.id})
                return
        except ImsyncError as exc:
            lost = f"{lost} ({exc})"
        self._log(Result(action.source.id, replica.region, "notice", Outcome.ERROR, lost, action.source.region))

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

    def _publish(self, notices: list[Notice], summary: Summary | None = None) -> tuple[list[Notice], bool]:
        """Publish the notices; returns those not delivered, and whether the notifier refused them.

        A failure never undoes or stops the work it reports, and is logged. A refusal (a topic or bus that does not
        exist, no right to publish, a message it does not take; or a bug) is also an error in `summary`: the run
        fails, because no later run gets those notices through until the deployment changes.
        """
        if self._notifier is None or not notices:
            return [], False
        try:
            self._notifier.publish(notices)
            return [], False
        except NotDelivered as exc:  # the notifier tried each one and names those it could not deliver
            undelivered, why = [n for n in notices if any(n is u for u in exc.undelivered)], str(exc)
            refused = exc.refused
        except Exception as exc:
            undelivered, why = notices, str(exc)
            refused = isinstance(exc, Refused) or not isinstance(exc, ImsyncError)
        kinds = ", ".join(sorted({str(n["type"]) for n in undelivered}))
        if not refused:
            self._log(Result("", "", "notify", Outcome.ERROR, f"{kinds}: {why}; the next run tells them again"))
            return undelivered, False
        # A refusal fails the run: a wrong topic would otherwise be a success to the platform on every run.
        result = Result("", "", "notify", Outcome.ERROR, f"{kinds}: {why}; {REFUSED_BY_NOTIFIER}")
        if summary is not None:
            summary.results.append(result)
        self._log(result)
        return undelivered, True
