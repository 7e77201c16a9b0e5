"""The recipient's use case: accept the images that trusted owners shared with this account.

IMS lands a share as `pending` in the recipient's project; the image is usable there only once the
recipient accepts it. Deny by default: only owners named in IMSYNC_TRUSTED_OWNERS are accepted, the
others stay pending for a person to decide, and nothing is ever rejected.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from imsync.config import Settings
from imsync.domain.commands import AcceptTrigger
from imsync.domain.errors import ConfigError, ImsyncError, NotDelivered, Refused
from imsync.domain.model import Image, Job
from imsync.domain.outcomes import Outcome
from imsync.notices import UNTRUSTED, new_in_this_run
from imsync.ports import Notifier, ShareInbox
from imsync.retry import RESERVE_SECONDS
from imsync.service.journal import write_failure
from imsync.service.summary import Result, Summary

# A recipient keeps no memory of what it told (it cannot tag another account's image): a share whose notice this
# run could not send is told by no later run unless its window overlaps. So the run fails, and says where to look.
UNTOLD = "no later run announces it: `imsync accept` lists every pending share"

FUNCTION = "accept_shares"
ACCEPT_BATCH = 50  # images per accept call: an assumption, IMS documents no limit for `images`
JOB_CHECKS = 4  # looks at the accept jobs before leaving the unfinished ones to the next run
JOB_PAUSE = 2.0  # seconds between two looks


@dataclass
class ShareResult(Result):
    """A Result that also names the shared image and the project that shared it."""

    image_name: str = ""  # not "name": log_decision passes these fields to logging, which owns that key
    owner: str = ""


@dataclass
class _Submitted:
    """One accept call IMS took: its job, and the images it covers."""

    inbox: ShareInbox
    job_id: str
    images: list[Image] = field(default_factory=list)
    job: Job | None = None  # the last state read; None: not read yet, or unreadable

    @property
    def finished(self) -> bool:
        return self.job is not None and self.job.finished


class Acceptor:
    """Accepts pending shares from trusted owners, region by region, through ShareInboxes."""

    def __init__(
        self,
        settings: Settings,
        inboxes: Callable[[str], ShareInbox],
        log: Callable[[Result], None] | None = None,
        seconds_left: Callable[[], float] = lambda: float("inf"),
        sleep: Callable[[float], None] = time.sleep,
        notifier: Notifier | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._inboxes = inboxes
        self._log = log or (lambda result: None)
        self._seconds_left = seconds_left
        self._sleep = sleep
        self._notifier = notifier
        self._wall_clock = wall_clock

    def accept(self, trigger: AcceptTrigger) -> Summary:
        """Accept what trusted owners shared in the trigger's regions (default IMSYNC_ACCEPT_REGIONS)."""
        dry_run = self.settings.dry_run if trigger.dry_run is None else trigger.dry_run
        summary = Summary(FUNCTION, dry_run)
        allowed = self.settings.accept_regions
        if not allowed:
            raise ConfigError(
                "IMSYNC_ACCEPT_REGIONS is not set (nor IMSYNC_HOME_REGION): name the regions to accept shares in"
            )
        submitted: list[_Submitted] = []
        now = self._wall_clock()  # before any listing: a share that arrives later is the next run's
        for region in trigger.regions or allowed:
            if region not in allowed:
                reason = f"{region} is not an accept region (IMSYNC_ACCEPT_REGIONS: {', '.join(allowed)})"
                self._record(summary, ShareResult("", region, "scan", Outcome.REFUSED, reason))
                continue
            submitted += self._accept_region(summary, region)
        # Every accept call is made before any job is waited for: the waiting is shared, not per call.
        self._settle(submitted)
        self._report_jobs(summary, submitted)
        self._announce(summary, now)
        return summary

    # ---- one region -------------------------------------------------------------------------

    def _accept_region(self, summary: Summary, region: str) -> list[_Submitted]:
        inbox = self._inboxes(region)
        try:
            pending = inbox.pending_shares()
        except ImsyncError as exc:
            self._record(summary, ShareResult("", region, "scan", Outcome.ERROR, str(exc)))
            return []
        by_vault: dict[str | None, list[Image]] = defaultdict(list)
        for image in pending:
            refusal = self._refusal(image, region)
            if refusal is not None:
                self._record(summary, self._result(image, *refusal))
            elif summary.dry_run:
                self._record(summary, self._result(image, Outcome.PLANNED, f"would accept: {self._why(image, region)}"))
            else:
                by_vault[self.settings.vaults.get(region) if image.whole_image else None].append(image)
        submitted: list[_Submitted] = []
        for vault_id, images in by_vault.items():
            for start in range(0, len(images), ACCEPT_BATCH):
                submitted += self._accept_batch(summary, inbox, images[start : start + ACCEPT_BATCH], vault_id)
        return submitted

    def _refusal(self, image: Image, region: str) -> tuple[Outcome, str] | None:
        """(outcome, reason) when the share must stay pending, else None."""
        if image.owner not in self.settings.trusted_owners:
            return (
                Outcome.UNTRUSTED,
                f"owner {image.owner or '(none shown)'} is not in IMSYNC_TRUSTED_OWNERS: "
                "left pending for a person to accept or reject",
            )
        if image.whole_image and not self.settings.vaults.get(region):
            return (
                Outcome.REFUSED,
                f"a whole-ECS image is accepted into a CBR vault, and IMSYNC_VAULTS names none in {region}: "
                "add one to accept it",
            )
        return None

    def _why(self, image: Image, region: str) -> str:
        vault = f", into vault {self.settings.vaults[region]}" if image.whole_image else ""
        return f"the owner is trusted{vault}"

    def _accept_batch(
        self, summary: Summary, inbox: ShareInbox, images: list[Image], vault_id: str | None
    ) -> list[_Submitted]:
        try:
            job_id = inbox.accept([i.id for i in images], vault_id)
        except Refused as exc:
            if len(images) > 1:  # one image IMS refuses must not hold back the others
                return [s for image in images for s in self._accept_batch(summary, inbox, [image], vault_id)]
            self._record(summary, self._result(images[0], Outcome.ERROR, str(exc)))
            return []
        except ImsyncError as exc:  # throttled, 5xx, lost answer: deferred (write_failure), the next run tries again
            for image in images:
                self._record(summary, self._result(image, write_failure(exc), f"{exc}; the next run tries again"))
            return []
        return [_Submitted(inbox, job_id, images)]

    def _settle(self, submitted: list[_Submitted]) -> None:
        """Read the accept jobs until all are finished, or patience or the function's time runs out."""
        for check in range(JOB_CHECKS):
            for call in submitted:
                # An unreadable job keeps its last state read; the next run sees whether the image is still pending.
                if not call.finished:
                    with suppress(ImsyncError):
                        call.job = call.inbox.job(call.job_id)
            done = all(call.finished for call in submitted)
            if done or check + 1 == JOB_CHECKS or self._seconds_left() - JOB_PAUSE < RESERVE_SECONDS:
                return
            self._sleep(JOB_PAUSE)

    def _report_jobs(self, summary: Summary, submitted: list[_Submitted]) -> None:
        for call in submitted:
            for image in call.images:
                outcome, reason = self._job_outcome(call.job, image, call.inbox.region)
                self._record(summary, self._result(image, outcome, reason, job_id=call.job_id))

    def _job_outcome(self, job: Job | None, image: Image, region: str) -> tuple[Outcome, str]:
        # A job that ends SUCCESS may still list this image's part as failed (Job.failed_items): not accepted.
        item = job.item_failure(image.id) if job is not None and job.status == "SUCCESS" else None
        if item is not None:
            return Outcome.FAILED, f"IMS's job succeeded but not for this image ({item}); the next run tries again"
        if job is not None and job.status == "SUCCESS":
            return Outcome.ACCEPTED, f"accepted: {self._why(image, region)}"
        if job is not None and job.status == "FAIL":
            detail = ": ".join(p for p in (job.error_code, job.fail_reason) if p) or "no reason given"
            return Outcome.FAILED, f"IMS could not accept it ({detail}); the next run tries again while it is pending"
        return Outcome.WAITING, "IMS is still accepting it; the next run sees whether it is still pending"

    def untrusted(self, given_up: frozenset[str] = frozenset()) -> list[dict[str, object]]:
        """The shares waiting for a person in every accept region, for the DR run's digest (read errors are logged).

        `given_up`: regions that did not answer earlier in the run; they are not asked again until the next one.
        """
        notices: list[dict[str, object]] = []
        for region in self.settings.accept_regions:
            if region in given_up:
                self._log(ShareResult("", region, "scan", Outcome.DEFERRED, "did not answer earlier in this run"))
                continue
            try:
                pending = self._inboxes(region).pending_shares()
            except ImsyncError as exc:
                self._log(ShareResult("", region, "scan", Outcome.ERROR, f"listing the shares for the digest: {exc}"))
                continue
            for image in pending:
                refusal = self._refusal(image, region)
                if refusal is not None and refusal[0] is Outcome.UNTRUSTED:
                    notices.append(self._notice(self._result(image, *refusal)))
        return notices

    # ---- reporting --------------------------------------------------------------------------

    def _announce(self, summary: Summary, now: float) -> None:
        """Tell a person about each untrusted share once or twice: in the runs whose window it arrived in.

        The recipient cannot tag another account's image, so IMS's own record of the membership (its
        created_at) says which runs' windows it falls in; the windows overlap, so a timer that fires early or
        late loses none (notices.new_in_this_run, docs/reliability.md).
        """
        if summary.dry_run or self._notifier is None:
            return
        notices = []
        for result in summary.results:
            if not isinstance(result, ShareResult) or result.outcome is not Outcome.UNTRUSTED:
                continue
            if self._seconds_left() < RESERVE_SECONDS:  # the work is done; its report must still get out
                self._log(self._notice_result(result, Outcome.DEFERRED, "out of time to read it"))
                continue
            try:
                shared_at = self._inboxes(result.region).shared_since(result.image_id)
            except ImsyncError as exc:
                # Nothing remembers an untold share here (no run covers it again): the run fails, loudly.
                self._record(summary, self._notice_result(result, Outcome.ERROR, f"reading the share: {exc}; {UNTOLD}"))
                continue
            if not new_in_this_run(shared_at, now, self.settings.accept_every_seconds):
                continue
            notices.append({**self._notice(result), "shared_at": shared_at})
        if not notices:
            return
        try:
            self._notifier.publish(notices)
        except Exception as exc:  # never undoes the work; but a notice lost for good fails the run, so it is seen
            lost = len(exc.undelivered) if isinstance(exc, NotDelivered) else len(notices)
            why = f"{lost} of {len(notices)} {UNTRUSTED} notice(s) not delivered ({exc}); {UNTOLD}"
            self._record(summary, ShareResult("", "", "notify", Outcome.ERROR, why))

    @staticmethod
    def _notice(result: ShareResult) -> dict[str, object]:
        return {
            "type": UNTRUSTED,
            "image_id": result.image_id,
            "image_name": result.image_name,
            "owner": result.owner,
            "region": result.region,
            "reason": result.reason,
        }

    @staticmethod
    def _notice_result(share: ShareResult, outcome: Outcome, reason: str) -> ShareResult:
        return ShareResult(share.image_id, share.region, "notice", outcome, reason)

    @staticmethod
    def _result(image: Image, outcome: Outcome, reason: str, job_id: str = "") -> ShareResult:
        return ShareResult(
            image.id, image.region, "accept", outcome, reason, job_id=job_id, image_name=image.name, owner=image.owner
        )

    def _record(self, summary: Summary, result: Result) -> None:
        summary.results.append(result)
        self._log(result)
