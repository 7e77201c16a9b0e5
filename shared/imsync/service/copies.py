"""Starting copies: the in-flight budget, one claim per copy in this process, and requests whose answer was lost."""

from __future__ import annotations

from collections.abc import Callable

from imsync.config import Settings
from imsync.domain.errors import (
    AuthFailed,
    CloudError,
    CopyLimitReached,
    ImsyncError,
    NotFound,
    OutcomeUnknown,
    OutOfTime,
    Refused,
    Unavailable,
)
from imsync.domain.model import MAX_TAGS, TAG_IMS_REFUSED, Image, Lineage, region_hash
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import Action
from imsync.domain.rules import ims_refusal
from imsync.notices import FAILED, REFUSED
from imsync.ports import ImageStore
from imsync.service.claims import RecentCopies
from imsync.service.copy_notes import CopyNotes
from imsync.service.estate import Estate, RegionGivenUp
from imsync.service.journal import OUT_OF_TIME, Journal, failure, write_failure
from imsync.service.summary import Result, Summary

# IMS refusals of a copy that pass with time or with a fix to the deployment, not to the image: the image quota
# (IMG.0015), an image not active yet (IMG.0026), no permission (IMG.0161), the agency (IMG.0179), the project
# name (IMG.0145). An error this run, asked again by the next. Any other refusal (not about credentials, not
# a missing image) is remembered on the source, so that it is reported without asking again.
PASSING_REFUSALS = frozenset({"IMG.0015", "IMG.0026", "IMG.0161", "IMG.0179", "IMG.0145"})


class Copier:
    """Starts the planned copies within IMSYNC_MAX_CONCURRENT_COPIES, and notes each one's job on its source."""

    def __init__(
        self,
        settings: Settings,
        stores: Callable[[str], ImageStore],
        journal: Journal,
        notes: CopyNotes,
        claims: RecentCopies,
        clock: Callable[[], float],
        out_of_time: Callable[[], bool],
        notify: Callable[[str, Action, str], None],
    ) -> None:
        self._settings = settings
        self._stores = stores
        self._journal = journal
        self._notes = notes
        self._claims = claims  # this process's copies in flight (one table per process: bootstrap.claims)
        self._clock = clock
        self._out_of_time = out_of_time
        self._notify = notify

    def start_copies(self, summary: Summary, estate: Estate, copies: list[Action]) -> None:
        """Start as many of `copies` as the budget allows; the rest are deferred to a later run."""
        if not copies:
            return
        budget = self._settings.max_concurrent_copies - self._in_flight(summary, estate)
        for action in copies:
            if budget <= 0:
                limit = self._settings.max_concurrent_copies
                why = f"{limit} copies in flight (the limit); a later run starts it"
                self._journal.report(summary, action, Outcome.DEFERRED, why)
                continue
            if summary.dry_run:
                self._journal.report(summary, action, Outcome.PLANNED, action.reason)
                budget -= 1
                continue
            if self._out_of_time():
                self._journal.report(summary, action, Outcome.DEFERRED, OUT_OF_TIME)
                continue
            asked = self._claimed_copy(summary, estate, action)
            if asked is None:
                budget = 0  # IMS says it runs all the copies it allows: the rest wait for a later run
            elif asked:
                budget -= 1

    def _in_flight(self, summary: Summary, estate: Estate) -> int:
        """imsync's copies in flight across every region it may copy to, not just this scope's."""
        for region in sorted(self._settings.allowed_regions - set(estate.loaded_regions())):
            try:
                estate.images(region)
            except RegionGivenUp:
                continue  # reported where its listing failed
            except ImsyncError as exc:
                self._journal.record(
                    summary, Result("", region, "scan", failure(exc), f"counting copies in flight: {exc}")
                )
        return estate.in_flight()

    def _claimed_copy(self, summary: Summary, estate: Estate, action: Action) -> bool | None:
        """Claim the copy in this process, start it, and settle the claim: whether it may have started."""
        if not self._settings.agency:
            why = "IMSYNC_AGENCY is not set: name the IAM agency IMS copies with"
            self._journal.report(summary, action, Outcome.ERROR, why)
            return False
        key = (action.source.id, action.region)
        if not self._claims.claim(key, estate.started_at):
            why = "another invocation in this process just started this copy"
            self._journal.report(summary, action, Outcome.WAITING, why)
            return False
        try:
            asked = self._start_copy(summary, estate, action)
        except BaseException:
            self._claims.settle(key, self._clock())  # never leave the copy "in flight" in this process for ever
            raise
        if asked is False:
            self._claims.release(key)  # not asked for: any run may ask
        else:  # asked (or IMS is full and it was not): runs that read the destination from now on may act
            self._claims.settle(key, self._clock())
        return asked

    def _start_copy(self, summary: Summary, estate: Estate, action: Action) -> bool | None:
        """Note, then ask for one copy: whether it may have started (None: IMS runs all the copies it allows).

        The note goes first (CopyNotes.ahead), so that a run cut off, a lost answer or a failed note write
        never leaves a copy that no later run knows about.
        """
        source, region = action.source, action.region
        report = self._journal.report
        place = self._notes.ahead(summary, action, report)
        if place is None:
            return False
        lineage = Lineage(source.region, source.id)
        name = self._settings.replica_name(source.region, source.name, source.id)
        description = f"{lineage.marker} copied by imsync"
        agency = self._settings.agency or ""  # checked before the claim
        try:
            job_id = self._stores(source.region).start_copy(
                source.id, region, name, description, agency, self._settings.vaults.get(region)
            )
        except CopyLimitReached as exc:
            self._notes.withdraw(place)
            report(summary, action, Outcome.DEFERRED, f"IMS runs as many copies as it allows ({exc}); a later run")
            return None
        except OutOfTime as exc:  # nothing was sent
            self._notes.withdraw(place)
            report(summary, action, Outcome.DEFERRED, str(exc))
            return False
        except (OutcomeUnknown, Unavailable) as exc:
            self._after_lost_answer(summary, estate, action, exc)
            return True
        except Refused as exc:
            self._notes.withdraw(place)
            if isinstance(exc, (AuthFailed, NotFound)) or exc.code in PASSING_REFUSALS:
                report(summary, action, Outcome.ERROR, str(exc))
                self._notify(FAILED, action, str(exc))
            else:
                self._refused(summary, action, exc)
            return False
        except ImsyncError as exc:
            self._notes.withdraw(place)
            outcome = write_failure(exc)
            if outcome is Outcome.DEFERRED:  # throttled after the retries: a later run asks again
                report(summary, action, outcome, f"{exc}; a later run copies it")
                return False
            report(summary, action, outcome, str(exc))
            self._notify(FAILED, action, str(exc))
            return False
        report(summary, action, Outcome.STARTED, action.reason, job_id=job_id)
        self._notes.complete(summary, place, job_id)
        return True

    def _refused(self, summary: Summary, action: Action, exc: Refused) -> None:
        """IMS refuses the copy for good: remember it on the source, and announce it in the words later runs use.

        The next runs refuse through CopyRules.refusal with the same sentence (rules.ims_refusal), so the notice
        is one fact (its problem hash), announced once; IMS's own answer is in this run's result and log.
        """
        source, region = action.source, action.region
        if self._remember_refusal(source, region):
            reason, answer = ims_refusal(region), f" (IMS: {exc})"
        else:  # the next run asks again, is refused again in the same words: still one fact
            reason = (
                f"IMS refused the copy ({exc}); no tag slot free to remember it (or writing it failed): asked again"
            )
            answer = ""
        self._journal.record(
            summary, Result(source.id, region, action.kind, Outcome.REFUSED, reason + answer, source.region)
        )
        self._notify(REFUSED, action, reason)

    def _remember_refusal(self, source: Image, region: str) -> bool:
        """Note on the source that IMS refuses copies to `region`, so later runs report it without asking."""
        store = self._stores(source.region)
        try:
            fresh = store.get_image(source.id) or source  # another run may have remembered another region since
            kept = sorted(fresh.ims_refused - {region_hash(region)})[-5:]  # six hashes fill a tag value
            if TAG_IMS_REFUSED not in fresh.tags and len(fresh.tags) >= MAX_TAGS:
                return False
            store.add_tags(source.id, {TAG_IMS_REFUSED: "_".join(sorted([*kept, region_hash(region)]))})
        except ImsyncError:
            return False
        return True

    def _after_lost_answer(self, summary: Summary, estate: Estate, action: Action, exc: CloudError) -> None:
        # A 5xx or no answer: the copy may have started (the adapter does not retry it). The note written before
        # the request holds it; look in the destination so that a copy listed at once is reported as such.
        try:
            estate.refresh(action.region)
            found = [r for r in estate.copies_of(action.source.id, action.region) if not r.gone]
        except ImsyncError:
            found = []
        if found:
            self._journal.report(
                summary, action, Outcome.STARTED, f"{exc}, but the copy is there", replica_id=found[0].id
            )
            return
        self._journal.report(summary, action, Outcome.WAITING, f"{exc}; {self._notes.lost_answer_wait()}")
