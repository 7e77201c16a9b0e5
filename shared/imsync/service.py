"""The use cases: replicate one image, sweep every opted-in image, finalize finished copies.

Each one reconciles a scope: read the policies from tags, read what IMS shows, act on the difference
through the ports, and report every decision with its reason. One image's failure never stops another's.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from imsync.config import Settings
from imsync.domain.errors import (
    CloudError,
    CopyLimitReached,
    ImsyncError,
    NotFound,
    OutcomeUnknown,
    OutOfTime,
    Unavailable,
)
from imsync.domain.model import COPY_CLAIM_PREFIX, MAX_TAGS, POLICY_PREFIX, TAG_SHARED, Image, Lineage, writable_tag
from imsync.domain.planner import (
    COPY,
    DEFER,
    FAIL,
    FINALIZE,
    IN_SYNC,
    MAX_SHARE_ATTEMPTS,
    REFUSE,
    WAIT,
    Action,
    ShareMark,
    plan_image,
)
from imsync.domain.policy import Policy, parse_policy
from imsync.domain.rules import CopyRules
from imsync.events import CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.notices import MARK, PROBLEMS, STUCK, Notice, digest, has_room, next_mark, stuck_for, unannounced
from imsync.ports import ImageStore, Notifier
from imsync.retry import CALL_SECONDS, RESERVE_SECONDS, Deadline

MEMBER_BATCH = 50  # images per member call: an assumption, IMS documents no limit for `images`
# How a share ended in this run: IMS's member job succeeded (or nothing was missing), is still running,
# ended FAIL, or a call failed before any job existed.
SHARED, SHARING, SHARE_FAILED, SHARE_ERROR = "shared", "sharing", "share_failed", "share_error"

OUTCOME_OF = {WAIT: "waiting", REFUSE: "refused", DEFER: "deferred", FAIL: "failed", IN_SYNC: "ok"}


@dataclass
class Result:
    """What happened to one source image in one region, and why."""

    image_id: str
    region: str
    action: str
    outcome: str
    reason: str = ""
    source_region: str = ""
    replica_id: str = ""
    job_id: str = ""

    def as_dict(self) -> dict[str, str]:
        # vars(), not dataclasses.asdict: every field is a str, and asdict's deep copy was a tenth of a DR run's CPU.
        return {k: v for k, v in vars(self).items() if v != ""}


@dataclass
class Summary:
    """A handler's answer: every decision it took, JSON-serialisable."""

    function: str
    dry_run: bool = False
    results: list[Result] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(r.outcome != "error" for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "counts": dict(sorted(Counter(r.outcome for r in self.results).items())),
            "results": [r.as_dict() for r in self.results],
            "errors": list(self.errors),
        }


LOST = "lost-"  # a copy request whose answer was lost: it may have started, its job is unknown
LISTED = "(nothing to note)"  # a copy that may be running and needs no note on its source
# How long a copy whose request's answer was lost is waited for before it is asked for again (IMS may list
# a copy some time after accepting it, and without a job there is nothing else to ask).
LOST_WAIT_MINUTES = 30
OUT_OF_TIME = "out of time: too little of this invocation is left to start it; the next run does it"


def _hex(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        return 0


def _outcome(exc: ImsyncError) -> str:
    """How a failed call is reported: work left for lack of time is deferred, anything else is an error."""
    return "deferred" if isinstance(exc, OutOfTime) else "error"


class _RecentCopies:
    """When this process last started each copy, so that threads racing on one image start one copy.

    A run that read a destination before another run started a copy there has a stale view and must
    not copy; a run that read it afterwards sees IMS's truth (the copy, or its deletion) and may act.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[tuple[str, str], float] = {}

    def claim(self, key: tuple[str, str], read_at: float) -> bool:
        with self._lock:
            if self._started.get(key, float("-inf")) >= read_at:
                return False
            # In flight until settled: IMS shows the replica only once the request arrives, so any run,
            # whenever it read the destination, must not copy while the request is on the wire.
            self._started[key] = float("inf")
            return True

    def settle(self, key: tuple[str, str], now: float) -> None:
        """The copy request came back (or was lost): runs that read the destination after `now` may act."""
        with self._lock:
            self._started[key] = now

    def release(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._started.pop(key, None)


RECENT = _RecentCopies()


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


class Replicator:
    """Reconciles images with their policies through ImageStores (one per region)."""

    def __init__(
        self,
        settings: Settings,
        stores: Callable[[str], ImageStore],
        notifier: Notifier | None = None,
        log: Callable[[Result], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        deadline: Deadline | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        open_shares: Callable[[], Sequence[Notice]] | None = None,
    ) -> None:
        self.settings = settings
        self._stores = stores
        self._notifier = notifier
        self._log = log or (lambda result: None)
        self._clock = clock
        self._wall_clock = wall_clock  # the time of day: lost copy requests, stuck copies (tests: the emulator's)
        # The run's notifications, held until _announce sends what is new at its end (a lock, not a thread-local:
        # a notification held by a helper thread must never be lost).
        self._held: list[Notice] = []
        self._held_lock = threading.Lock()
        self._open_shares = open_shares  # an account that is a recipient too: untrusted shares, for the digest
        self._deadline = deadline or Deadline()
        self._sleep = sleep
        self._rules = CopyRules(settings.vaults)

    # ---- use cases -------------------------------------------------------------------------

    def replicate(self, trigger: ImageTrigger, dry_run: bool | None = None) -> Summary:
        """An image was created or tagged: bring that image's replicas in line with its tags."""
        summary = self._summary("replicate_on_create", dry_run)
        region = trigger.region or self.settings.require_home_region()
        if not self._source_region_allowed(region, summary):
            return summary
        estate = Estate(self._stores, self._clock)
        sources = []
        for image_id in trigger.image_ids:
            image = self._read(summary, image_id, region)
            if image is not None and self._is_source(image, summary):
                sources.append(image)
        self._reconcile(summary, estate, sources, on_event=True)
        self._announce(summary, estate, sources, on_event=True)
        return summary

    def sweep(self, trigger: SweepTrigger) -> Summary:
        """The scheduled DR run: every opted-in image of the source regions gets its missing replicas."""
        summary = self._summary("scheduled_dr_copy", trigger.dry_run)
        estate = Estate(self._stores, self._clock)
        sources = self._opted_in(summary, estate, trigger.regions, trigger.image_ids)
        self._reconcile(summary, estate, sources)
        self._announce(summary, estate, sources, as_digest=True)
        return summary

    def complete(self, trigger: CompletionTrigger) -> Summary:
        """Copies that finished get their lineage tags and shares (a named replica, or all by polling)."""
        summary = self._summary("share_on_complete", trigger.dry_run)
        estate = Estate(self._stores, self._clock)
        if not trigger.replica_ids:
            sources = self._opted_in(summary, estate, (), ())
        else:
            sources = self._sources_of_replicas(summary, estate, trigger)
        if trigger.replica_ids:  # a completion event names its replicas: finish those, start nothing
            self._reconcile(summary, estate, sources, no_copy="a completion event starts no copies; the poll does")
        else:
            # The poll also starts the missing copies of event-mode sources that are active now: an image tagged
            # while being created is copied within one poll of turning active (its create event came too early).
            self._reconcile(summary, estate, sources, on_event=True)
        self._announce(summary, estate, sources)
        return summary

    # ---- scope ------------------------------------------------------------------------------

    def _summary(self, function: str, dry_run: bool | None) -> Summary:
        return Summary(function, self.settings.dry_run if dry_run is None else dry_run)

    def _known_source_regions(self) -> set[str]:
        home = self.settings.home_region
        return set(self.settings.source_regions) | ({home} if home else set())

    def _source_region_allowed(self, region: str, summary: Summary) -> bool:
        if region in self._known_source_regions():
            return True
        allowed = ", ".join(sorted(self._known_source_regions())) or "none"
        self._record(
            summary,
            Result(
                "", region, "scan", "refused", f"{region} is not a source region (IMSYNC_SOURCE_REGIONS: {allowed})"
            ),
        )
        return False

    def _read(self, summary: Summary, image_id: str, region: str) -> Image | None:
        try:
            image = self._stores(region).get_image(image_id)
        except ImsyncError as exc:
            self._record(summary, Result(image_id, region, "read", "error", str(exc)))
            return None
        if image is None:
            self._record(
                summary,
                Result(
                    image_id,
                    region,
                    "read",
                    "error",
                    f"image {image_id} does not exist in {region} (deleted, or another region?)",
                ),
            )
        return image

    def _is_source(self, image: Image, summary: Summary) -> bool:
        if image.lineage:
            lineage = image.lineage
            self._record(
                summary,
                Result(
                    image.id,
                    image.region,
                    "ignore",
                    "ignored",
                    f"this is imsync's replica of {lineage.source_region}/{lineage.source_id}; "
                    "replicas are never copied again",
                ),
            )
            return False
        if not image.opted_in:
            self._record(
                summary,
                Result(image.id, image.region, "ignore", "ignored", "no imsync-regions tag: the image is not opted in"),
            )
            return False
        return True

    def _opted_in(
        self, summary: Summary, estate: Estate, regions: Iterable[str], image_ids: Iterable[str]
    ) -> list[Image]:
        wanted = set(image_ids)
        sources: list[Image] = []
        for region in tuple(regions) or self.settings.source_regions:
            if not self._source_region_allowed(region, summary):
                continue
            try:
                images = estate.images(region)
            except ImsyncError as exc:
                self._record(summary, Result("", region, "scan", "error", str(exc)))
                continue
            sources += [i for i in images if i.opted_in and (not wanted or i.id in wanted)]
        return sources

    def _sources_of_replicas(self, summary: Summary, estate: Estate, trigger: CompletionTrigger) -> list[Image]:
        region = trigger.region or self.settings.require_home_region()
        sources: dict[str, Image] = {}
        for replica_id in trigger.replica_ids:
            replica = self._read(summary, replica_id, region)
            lineage: Lineage | None = replica.lineage if replica else None
            if replica is None:
                continue
            if lineage is None or not lineage.source_region:
                self._record(
                    summary,
                    Result(
                        replica_id,
                        region,
                        "ignore",
                        "ignored",
                        "not an imsync replica (no imsync:source marker or tag)",
                    ),
                )
                continue
            if not self._source_region_allowed(lineage.source_region, summary):
                continue
            source = self._read(summary, lineage.source_id, lineage.source_region)
            if source is not None and self._is_source(source, summary):
                sources[source.id] = source
        return list(sources.values())

    # ---- reconcile --------------------------------------------------------------------------

    def _policy(self, image: Image) -> Policy:
        return parse_policy(image.tags, self.settings.allowed_regions, self.settings.share_targets.keys())

    def _reconcile(
        self, summary: Summary, estate: Estate, sources: list[Image], on_event: bool = False, no_copy: str | None = None
    ) -> None:
        copies: list[Action] = []
        finals: list[Action] = []
        for source in sources:
            source = self._exact(summary, source)
            policy = self._policy(source)
            for refusal in policy.refusals:
                self._record(summary, Result(source.id, source.region, "refuse", "refused", refusal, source.region))
            why_not = no_copy or (
                "imsync-when=schedule: the scheduled DR run copies it"
                if on_event and not policy.copies_on_event
                else None
            )
            for action in self._plan(summary, estate, source, policy, why_not):
                if action.kind == COPY:
                    copies.append(action)
                elif action.kind == FINALIZE:
                    finals.append(action)
                else:
                    self._report(summary, action, OUTCOME_OF[action.kind])
        self._start_copies(summary, estate, copies)
        self._finalize(summary, finals)

    def _plan(
        self, summary: Summary, estate: Estate, source: Image, policy: Policy, no_copy: str | None
    ) -> list[Action]:
        copies: dict[str, list[Image]] = {}
        for region in policy.regions:
            if region == source.region or self._rules.refusal(source, region):
                continue  # the planner refuses these; no need to read the region
            try:
                copies[region] = [self._exact(summary, i) for i in estate.copies_of(source.id, region)]
            except ImsyncError as exc:
                self._record(summary, Result(source.id, region, "scan", "error", str(exc), source.region))
        # A region whose listing failed is left out: without IMS's view of it, nothing may be copied there.
        readable = Policy(
            tuple(r for r in policy.regions if r in copies or r == source.region or self._rules.refusal(source, r)),
            policy.aliases,
            policy.when,
        )
        own_refused: list[str] = []

        def shares(region: str) -> tuple[str, ...]:
            projects = self.settings.share_projects(policy.aliases, region)
            own = self._own_project(region)
            if own in projects:  # an image is always visible to its owner; IMS refuses the member (IMG.0108)
                own_refused.append(region)
                projects = tuple(p for p in projects if p != own)
            return projects

        actions = plan_image(
            source,
            readable,
            copies,
            self._rules,
            shares,
            no_copy_reason=no_copy,
            copy_tags=self.settings.copy_tags,
            unlisted=self._unlisted_copies(summary, estate, source, copies),
        )
        for region in dict.fromkeys(own_refused):
            reason = (
                f"IMSYNC_SHARE_TARGETS lists the owner's own project in {region}; an image is always visible to "
                "its owner, so that project is skipped: remove it from the alias"
            )
            self._record(summary, Result(source.id, region, "share", "refused", reason, source.region))
        return actions

    def _unlisted_copies(
        self, summary: Summary, estate: Estate, source: Image, copies: Mapping[str, list[Image]]
    ) -> dict[str, str]:
        """Regions where a run started a copy that IMS does not list yet (region -> why it is waited for).

        IMS may list a copy in its destination only some time after accepting it (docs/emulator.md,
        "Readings"). The run that starts a copy notes its job on the source (imsync-copy-<region>), so no
        other run copies again meanwhile; once the replica is listed, or the job ended, the note is dropped.
        """
        unlisted: dict[str, str] = {}
        ended: dict[str, str] = {}
        for region, job_id in source.copy_claims.items():
            if region not in copies:  # not readable this run: the note stays, nothing is copied there anyway
                continue
            if any(not r.gone for r in copies[region]):
                ended[region] = job_id
                continue
            if job_id.startswith(LOST):
                if self._wall_clock() // 60 - _hex(job_id[len(LOST) :]) < LOST_WAIT_MINUTES:
                    unlisted[region] = (
                        f"a copy request's answer was lost; waiting up to {LOST_WAIT_MINUTES} min for IMS to list "
                        "the copy before asking again"
                    )
                else:
                    ended[region] = job_id
                continue
            try:
                job = self._stores(source.region).get_job(job_id)
            except NotFound:
                ended[region] = job_id
                continue
            except ImsyncError as exc:
                unlisted[region] = f"a copy was started (job {job_id}); its state is unknown ({exc}): waiting"
                continue
            if job.status in ("SUCCESS", "FAIL"):
                ended[region] = job_id
            else:
                unlisted[region] = f"copy started (job {job_id}, {job.status}); IMS does not list it in {region} yet"
        estate.unlisted += len(unlisted)
        if ended and not summary.dry_run and not self._out_of_time():
            try:
                self._stores(source.region).delete_tags(
                    source.id, {COPY_CLAIM_PREFIX + region: job_id for region, job_id in ended.items()}
                )
            except ImsyncError as exc:
                self._record(summary, Result(source.id, source.region, "claim", "error", str(exc), source.region))
        return unlisted

    def _note_copies(
        self, summary: Summary, started: Mapping[str, dict[str, str]], sources: Mapping[str, Image]
    ) -> None:
        """Note each started copy's job on its source (one tag write per source), as far as the 10 tags allow."""
        for source_id, jobs in started.items():
            source = sources[source_id]
            room = MAX_TAGS - len(source.tags)
            lost = f"{LOST}{int(self._wall_clock() // 60):x}"  # no job to ask about: the time it was asked for
            notes = {COPY_CLAIM_PREFIX + r: lost if j == LOST else j for r, j in sorted(jobs.items())}
            notes = {k: v for k, v in notes.items() if writable_tag(k, v)}
            notes = dict(list(notes.items())[: max(room, 0)])
            if not notes or self._out_of_time():
                continue
            try:
                self._stores(source.region).add_tags(source.id, notes)
            except ImsyncError as exc:
                why = f"noting the copy jobs on the source failed ({exc}); a copy IMS lists late may be made twice"
                self._record(summary, Result(source.id, source.region, "claim", "error", why, source.region))

    def _exact(self, summary: Summary, image: Image) -> Image:
        """`image` with its tags read one by one when the listing's "key.value" strings were ambiguous."""
        if image.tags_exact or not self.settings.copy_tags or image.gone:
            return image
        try:
            tags = self._stores(image.region).get_tags(image.id)
        except ImsyncError as exc:
            # Planning on the guess is safe: imsync only writes the tags it can read exactly (next run).
            self._record(summary, Result(image.id, image.region, "read", "error", f"reading its tags: {exc}"))
            kept = {k: v for k, v in image.tags.items() if k.startswith(POLICY_PREFIX) or "." not in v}
            return dataclasses.replace(image, tags=kept)
        return dataclasses.replace(image, tags=tags, tags_exact=True)

    def _own_project(self, region: str) -> str | None:
        """The deployment's own project in `region` (None when the store cannot say)."""
        try:
            return self._stores(region).project_id or None
        except ImsyncError:
            return None

    # ---- copies -----------------------------------------------------------------------------

    def _start_copies(self, summary: Summary, estate: Estate, copies: list[Action]) -> None:
        if not copies:
            return
        # Count what IMS shows in flight across every region imsync may copy to, not just this scope's.
        for region in sorted(self.settings.allowed_regions - set(estate.loaded_regions())):
            try:
                estate.images(region)
            except ImsyncError as exc:
                self._record(summary, Result("", region, "scan", "error", f"counting copies in flight: {exc}"))
        budget = self.settings.max_concurrent_copies - estate.in_flight()
        started: dict[str, dict[str, str]] = defaultdict(dict)
        asked: list[tuple[str, str]] = []  # copies requested in this run, settled once noted on their sources
        for action in copies:
            if budget <= 0:
                self._report(
                    summary,
                    action,
                    "deferred",
                    f"{self.settings.max_concurrent_copies} copies in flight (the limit); a later run starts it",
                )
                continue
            if summary.dry_run:
                self._report(summary, action, "planned", action.reason)
                budget -= 1
                continue
            if self._out_of_time():
                self._report(summary, action, "deferred", OUT_OF_TIME)
                continue
            job_id = self._start_copy(summary, estate, action)
            if job_id is None:
                budget = 0  # IMS says it runs all the copies it allows: the rest wait for a later run
            elif job_id:
                budget -= 1
                asked.append((action.source.id, action.region))
                if job_id != LISTED:
                    started[action.source.id][action.region] = job_id
        try:
            self._note_copies(summary, started, {a.source.id: a.source for a in copies})
        finally:
            now = self._clock()
            for key in asked:
                RECENT.settle(key, now)

    def _start_copy(self, summary: Summary, estate: Estate, action: Action) -> str | None:
        """Start one copy: its job ID, LOST when it may have started, "" when it did not, None when IMS is full."""
        source, region = action.source, action.region
        if not self.settings.agency:
            self._report(summary, action, "error", "IMSYNC_AGENCY is not set: name the IAM agency IMS copies with")
            return ""
        key = (source.id, region)
        if not RECENT.claim(key, estate.started_at):
            self._report(summary, action, "waiting", "another invocation in this process just started this copy")
            return ""
        lineage = Lineage(source.region, source.id)
        name = self.settings.replica_name(source.region, source.name, source.id)
        description = f"{lineage.marker} copied by imsync"
        try:
            job_id = self._stores(source.region).start_copy(
                source.id, region, name, description, self.settings.agency, self.settings.vaults.get(region)
            )
        except CopyLimitReached as exc:
            RECENT.release(key)
            self._report(summary, action, "deferred", f"IMS runs as many copies as it allows ({exc}); a later run")
            return None
        except OutOfTime as exc:  # nothing was sent
            RECENT.release(key)
            self._report(summary, action, "deferred", str(exc))
            return ""
        except (OutcomeUnknown, Unavailable) as exc:
            return self._after_lost_answer(summary, estate, action, exc)
        except ImsyncError as exc:
            RECENT.release(key)
            self._report(summary, action, "error", str(exc))
            self._notify("imsync.copy.failed", action, str(exc))
            return ""
        except BaseException:
            RECENT.settle(key, self._clock())  # never leave the copy "in flight" in this process for ever
            raise
        # Settled once the job is noted on the source (_start_copies): IMS may not list the copy for a while.
        self._report(summary, action, "started", action.reason, job_id=job_id)
        return job_id

    def _after_lost_answer(self, summary: Summary, estate: Estate, action: Action, exc: CloudError) -> str:
        # The copy may have started: look in the destination before anything asks again. Not released:
        # a run that started before now must not copy what may still appear (settled by _start_copies).
        try:
            estate.refresh(action.region)
            found = [r for r in estate.copies_of(action.source.id, action.region) if not r.gone]
        except ImsyncError:
            found = []
        if found:
            self._report(summary, action, "started", f"{exc}, but the copy is there", replica_id=found[0].id)
            return LISTED
        self._report(summary, action, "error", f"{exc}; no copy found, the next run looks again before copying")
        # Counted against the limit either way: it may still appear. Without any answer it is noted on the
        # source as asked for (IMS may list it late); an error answer (5xx) says the request was not done.
        return LOST if isinstance(exc, OutcomeUnknown) else LISTED

    # ---- finalize ---------------------------------------------------------------------------

    def _finalize(self, summary: Summary, finals: list[Action]) -> None:
        by_region: dict[str, list[Action]] = defaultdict(list)
        for action in finals:
            by_region[action.target.region].append(action)
        for region, actions in by_region.items():
            if summary.dry_run or self._out_of_time():
                for action in actions:
                    planned = summary.dry_run
                    why = self._finalize_reason(action, planned=True) if planned else OUT_OF_TIME
                    self._report(summary, action, "planned" if planned else "deferred", why)
                continue
            store = self._stores(region)
            shares = self._share(summary, store, actions)
            for action in actions:
                self._write_tags(summary, store, action, *shares.get(id(action), (SHARED, "")))

    def _write_tags(self, summary: Summary, store: ImageStore, action: Action, share: str, detail: str) -> None:
        """Bring the image's tags to the planned set; the share mark says how far the share got."""
        tags = dict(action.tags)
        if TAG_SHARED in tags:  # the planner found room for the mark
            previous = ShareMark.read(action.target.tags.get(TAG_SHARED))
            failures = previous.failures if previous.fingerprint == action.fingerprint else 0
            mark = {
                SHARED: ShareMark(action.fingerprint),
                SHARING: ShareMark(action.fingerprint, submitted=True),
                SHARE_FAILED: ShareMark(action.fingerprint, failures=failures + 1),
            }.get(share)
            if mark is None or mark.value == action.target.tags.get(TAG_SHARED):
                del tags[TAG_SHARED]
            else:
                tags[TAG_SHARED] = mark.value
        try:
            if action.remove:
                store.delete_tags(action.target.id, {k: action.target.tags[k] for k in action.remove})
            if tags:
                store.add_tags(action.target.id, tags)
        except ImsyncError as exc:
            self._report(summary, action, _outcome(exc), f"tagging failed: {exc}")
            return
        if share == SHARED:
            self._report(summary, action, "done", self._finalize_reason(action))
            if action.replica is not None:
                self._notify("imsync.replica.ready", action, self._finalize_reason(action))
        elif share == SHARING:
            self._report(summary, action, "waiting", f"IMS is still adding the members ({detail}); the next run checks")
        elif share == SHARE_FAILED:
            attempt = ShareMark.read(tags.get(TAG_SHARED)).failures
            retry = (
                f"attempt {attempt} of {MAX_SHARE_ATTEMPTS}; a later run tries again"
                if attempt and attempt < MAX_SHARE_ATTEMPTS
                else "no more retries: fix the cause, then delete the imsync-shared tag to try again"
            )
            self._report(summary, action, "failed", f"sharing failed ({detail}); {retry}")
        # SHARE_ERROR was reported where the call failed

    def _share(self, summary: Summary, store: ImageStore, actions: list[Action]) -> dict[int, tuple[str, str]]:
        """Add the missing members, batching images that miss the same projects, and follow IMS's jobs.

        Returns, per action (by id), how its share ended in this run and why.
        """
        ended: dict[int, tuple[str, str]] = {}
        groups: dict[tuple[str, ...], list[Action]] = defaultdict(list)
        for action in actions:
            mark = ShareMark.read(action.target.tags.get(TAG_SHARED))
            if not action.projects or (mark.done and mark.fingerprint == action.fingerprint):
                ended[id(action)] = (SHARED, "")
            elif action.replica is not None and TAG_SHARED not in action.target.tags:
                # A replica imsync never shared: add every project without listing its members first (one call
                # per replica saved); if IMS refuses the batch, each image is tried again after a look.
                groups[tuple(sorted(action.projects))].append(action)
            else:
                # Shared before, or a job of an earlier run may have done it: IMS's members say what is missing.
                missing = self._missing_members(summary, store, action, ended)
                if missing:
                    groups[missing].append(action)
        jobs: list[tuple[str, list[Action]]] = []
        for projects, group in groups.items():
            for start in range(0, len(group), MEMBER_BATCH):
                jobs += self._add_members(summary, store, group[start : start + MEMBER_BATCH], projects, ended)
        self._follow_jobs(store, jobs, ended)
        return ended

    def _missing_members(
        self, summary: Summary, store: ImageStore, action: Action, ended: dict[int, tuple[str, str]]
    ) -> tuple[str, ...]:
        try:
            missing = tuple(sorted(set(action.projects) - store.list_members(action.target.id)))
        except ImsyncError as exc:
            self._report(summary, action, _outcome(exc), f"reading the image's members: {exc}")
            ended[id(action)] = (SHARE_ERROR, str(exc))
            return ()
        if not missing:
            ended[id(action)] = (SHARED, "")
        return missing

    def _add_members(
        self,
        summary: Summary,
        store: ImageStore,
        batch: list[Action],
        projects: tuple[str, ...],
        ended: dict[int, tuple[str, str]],
        looked: bool = False,
    ) -> list[tuple[str, list[Action]]]:
        """One member call for the batch; on refusal, each image alone after a look at its members."""
        try:
            return [(store.add_members([a.target.id for a in batch], list(projects)), batch)]
        except ImsyncError as exc:
            if len(batch) > 1 or not looked:  # one image IMS refuses (member limit, say) must not hold back the rest
                jobs: list[tuple[str, list[Action]]] = []
                for action in batch:
                    missing = self._missing_members(summary, store, action, ended)
                    if missing:
                        jobs += self._add_members(summary, store, [action], missing, ended, looked=True)
                return jobs
            self._report(summary, batch[0], _outcome(exc), f"sharing with {len(projects)} project(s): {exc}")
            ended[id(batch[0])] = (SHARE_ERROR, str(exc))
            return []

    def _follow_jobs(
        self, store: ImageStore, jobs: list[tuple[str, list[Action]]], ended: dict[int, tuple[str, str]]
    ) -> None:
        """Wait for IMS's member jobs within IMSYNC_SHARE_WAIT_SECONDS and the time left; note how each ended."""
        pending = dict(jobs)
        waited, pause = 0.0, 0.5
        while pending:
            for job_id, batch in list(pending.items()):
                try:
                    job = store.get_job(job_id)
                except ImsyncError:
                    continue  # unknown for now: the next run reads the members
                if job.status in ("SUCCESS", "FAIL"):
                    del pending[job_id]
                    state = SHARED if job.status == "SUCCESS" else SHARE_FAILED
                    why = f"IMS job {job_id}: {job.error_code or 'FAIL'}: {job.fail_reason or 'no reason given'}"
                    for action in batch:
                        ended[id(action)] = (state, "" if state == SHARED else why)
            too_long = waited + pause > self.settings.share_wait_seconds
            if not pending or too_long or self._deadline.seconds_left() - pause < RESERVE_SECONDS + CALL_SECONDS:
                break
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, 8.0)
        for job_id, batch in pending.items():
            for action in batch:
                ended[id(action)] = (SHARING, f"job {job_id}")

    def _out_of_time(self) -> bool:
        return self._deadline.seconds_left() < RESERVE_SECONDS + CALL_SECONDS

    @staticmethod
    def _finalize_reason(action: Action, planned: bool = False) -> str:
        what = "replica" if action.replica is not None else "source image"
        tags, projects = _count(len(action.tags), "tag"), _count(len(action.projects), "project")
        if planned:
            shared = f", will share with {projects}" if action.projects else ""
            return f"{what} will be tagged ({tags}){shared}"
        shared = f", shared with {projects}" if action.projects else ""
        return f"{what} tagged ({tags}){shared}"

    # ---- reporting --------------------------------------------------------------------------

    def _report(self, summary: Summary, action: Action, outcome: str, reason: str | None = None, **ids: str) -> None:
        replica_id = ids.pop("replica_id", action.replica.id if action.replica else "")
        if action.kind == FINALIZE and action.replica is None:
            replica_id = ""
        self._record(
            summary,
            Result(
                action.source.id,
                action.region,
                "share" if action.kind == FINALIZE and action.replica is None else action.kind,
                outcome,
                reason if reason is not None else action.reason,
                action.source.region,
                replica_id,
                ids.get("job_id", ""),
            ),
        )
        if outcome in ("refused", "failed") and not summary.dry_run:  # a dry run announces nothing
            self._notify(
                "imsync.copy.refused" if outcome == "refused" else "imsync.copy.failed", action, reason or action.reason
            )

    def _record(self, summary: Summary, result: Result) -> None:
        summary.results.append(result)
        self._log(result)

    def _notify(self, kind: str, action: Action, reason: str) -> None:
        """Hold a notification for _announce, which sends what is new when the run ends."""
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

    # ---- notifications ------------------------------------------------------------------------

    def _announce(
        self,
        summary: Summary,
        estate: Estate,
        sources: Iterable[Image],
        as_digest: bool = False,
        on_event: bool = False,
    ) -> None:
        """Send what this run found that nobody was told yet; the DR run sends one digest of all that is open.

        Each source's announced problems are listed in its imsync-noticed tag (docs/reliability.md).
        """
        sources = list(sources)
        self._flag_stuck(summary, estate)
        with self._held_lock:
            held, self._held = self._held, []
        if summary.dry_run or self._notifier is None:  # nobody is told: no mark may say otherwise
            return
        problems: dict[str, list[Notice]] = defaultdict(list)
        rest: list[Notice] = []
        for notice in held:
            (problems[str(notice["source_image_id"])] if notice["type"] in PROBLEMS else rest).append(notice)
        items: list[Notice] = []
        # A source with a deferral or an error was not seen whole: its mark keeps what this run could not see.
        partial = {r.image_id for r in summary.results if r.outcome in ("error", "deferred")}
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
        self._publish(rest)

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
            self._log(Result(image.id, image.region, "notice", "deferred", f"{MARK}: {OUT_OF_TIME}", image.region))
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
            self._log(Result(image.id, image.region, "notice", "error", f"writing {MARK}: {exc}", image.region))

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
        """A copy still in progress after IMSYNC_STUCK_AFTER_HOURS is reported as stuck, and held for _announce."""
        now, limit = self._wall_clock(), self.settings.stuck_after_hours
        for result in summary.results:
            if result.action != "wait" or result.outcome != "waiting" or not result.replica_id:
                continue
            replicas = [r for r in estate.copies_of(result.image_id, result.region) if r.id == result.replica_id]
            hours = stuck_for(replicas[0], now, limit) if replicas else None
            if hours is None:
                continue
            replica = replicas[0]
            result.outcome = "stuck"
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

    def _publish(self, notices: list[Notice]) -> None:
        if self._notifier is None or not notices:
            return
        try:
            self._notifier.publish(notices)
        except Exception as exc:  # a notification never undoes or stops the work it reports
            kinds = ", ".join(sorted({str(n["type"]) for n in notices}))
            self._log(Result("", "", "notify", "error", f"{kinds}: {exc}"))


def _count(n: int, noun: str) -> str:
    """'1 tag', '2 tags'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
