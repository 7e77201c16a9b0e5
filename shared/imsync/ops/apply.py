"""`imsync apply`: the sweep for real, then (with --wait) follow the copies in flight and finalize what finished.

Each round is one engine sweep: it starts the copies the in-flight limit allows and finalizes replicas
that are already active. With --wait the round's copies are followed to the end: the ones it started by
their job (in the source region, where IMS keeps them), and every other imsync copy in flight for the
policies in scope (started by the functions or an earlier run) by its replica's status. The finished
replicas are handed to the completion use case, and another round starts the copies the limit
deferred. Every step reads IMS again, so stopping anywhere leaves nothing that the next run (or the
functions) cannot pick up.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from imsync.domain.commands import CompletionTrigger, SweepTrigger
from imsync.domain.errors import CloudError
from imsync.domain.model import Image, Job
from imsync.domain.outcomes import Outcome
from imsync.ops.runtime import Runtime
from imsync.ops.views import row
from imsync.service import Result, Summary

MAX_ROUNDS = 20
EMULATED_STEP = 20.0  # emulated seconds per poll when running on the emulator's clock
EMULATED_LIMIT = 7 * 24 * 3600.0  # never follow an emulated job longer than this
LIMIT_WORDS = "copies in flight (the limit)"  # how the engine words a deferral by the in-flight limit
CHANGES = frozenset({Outcome.STARTED, Outcome.DONE, Outcome.ERROR, Outcome.FAILED})  # what a round changed or broke


@dataclass
class FollowedJob:
    """A copy in flight, as IMS last reported it: by its job when this run started it, else by its replica."""

    job_id: str
    image_id: str
    source_region: str
    region: str
    status: str = "INIT"
    progress: float = 0.0
    replica_id: str = ""
    error_code: str = ""
    fail_reason: str = ""
    read_error: str = ""
    started_here: bool = True  # False: a copy already in flight (no job ID), followed by its replica's status

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCESS", "FAIL")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ApplyReport:
    summaries: list[Summary] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # every result, classified when it was made
    jobs: list[FollowedJob] = field(default_factory=list)
    rounds: int = 0
    interrupted: bool = False
    timed_out: bool = False

    def add(self, rt: Runtime, summary: Summary) -> None:
        # Classify now: what the stores saw at this point is what the engine decided on.
        self.summaries.append(summary)
        self.rows += [row(r, rt.seen, round=self.rounds) for r in summary.results]

    def final_rows(self) -> list[dict[str, Any]]:
        """What changed in any round, plus what still stands after the last one (for the table)."""
        changed = [r for r in self.rows if r["outcome"] in CHANGES]
        standing = [r for r in self.rows if r["round"] == self.rounds and r not in changed]
        return changed + standing

    @property
    def ok(self) -> bool:
        return (
            not self.interrupted
            and not self.timed_out
            and all(s.ok for s in self.summaries)
            and all(j.status != "FAIL" and not j.read_error for j in self.jobs)
        )

    @property
    def failed_copies(self) -> int:
        return sum(1 for j in self.jobs if j.status == "FAIL")

    def copies_in_flight(self, seen: dict[str, Image]) -> int | None:
        """imsync's copies still being made as IMS last showed them, or None when IMS could not be read.

        The copies this run started are counted by their job (their replicas are not listed yet), the others
        by their replica's status; a copy whose last read failed makes the count unknown.
        """
        replicas = {i.id for i in seen.values() if i.copy_in_flight}
        jobs_without_replica = 0
        followed = {j.job_id: j for j in self.jobs if j.job_id}
        started = [j for s in self.summaries for j in _started(s) if j.job_id not in followed]
        for job in [*self.jobs, *started]:
            if job.read_error:
                return None
            if job.finished:
                replicas.discard(job.replica_id)
            elif job.replica_id:
                replicas.add(job.replica_id)
            else:
                jobs_without_replica += 1
        return len(replicas) + jobs_without_replica


def _started(summary: Summary) -> list[FollowedJob]:
    return [
        FollowedJob(r.job_id, r.image_id, r.source_region, r.region)
        for r in summary.results
        if r.action == "copy" and r.outcome is Outcome.STARTED and r.job_id
    ]


def _in_flight(summary: Summary, known: set[str]) -> list[FollowedJob]:
    """Copies the engine waits for (started before this round): followed by their replica, not a job."""
    return [
        FollowedJob("", r.image_id, r.source_region, r.region, "RUNNING", replica_id=r.replica_id, started_here=False)
        for r in summary.results
        if r.action == "wait" and r.replica_id and r.replica_id not in known
    ]


def _others_in_flight(rt: Runtime, known: set[str]) -> list[FollowedJob]:
    """Every imsync copy IMS shows in flight, whatever its policy: what holds the in-flight limit."""
    return [_by_replica(i) for i in list(rt.seen.values()) if i.copy_in_flight and i.id not in known]


def _by_replica(replica: Image) -> FollowedJob:
    source = replica.lineage
    assert source is not None
    return FollowedJob(
        "", source.source_id, source.source_region, replica.region, "RUNNING", replica_id=replica.id, started_here=False
    )


def _limit_deferred(summary: Summary) -> bool:
    return any(
        r.action == "copy" and r.outcome is Outcome.DEFERRED and LIMIT_WORDS in r.reason for r in summary.results
    )


def _poll(rt: Runtime, job: FollowedJob) -> None:
    """Read one copy's state: its job when there is one, else its replica (active = done, gone = failed)."""
    if job.job_id:
        state: Job = rt.store(job.source_region).get_job(job.job_id)
        job.status, job.progress = state.status, state.progress
        job.replica_id = state.image_id or job.replica_id
        job.error_code, job.fail_reason = state.error_code, state.fail_reason
        if job.finished and job.replica_id:
            _refresh(rt, job.region, job.replica_id)
    else:
        replica = _refresh(rt, job.region, job.replica_id)
        if replica is None or replica.gone:
            job.status, job.fail_reason = "FAIL", f"the replica is {replica.status if replica else 'gone'}"
        elif not replica.in_progress:
            job.status = "SUCCESS"
    if job.status == "SUCCESS":
        job.progress = 100.0


def _refresh(rt: Runtime, region: str, image_id: str) -> Any:
    """Read an image again, so what the command counts (copies in flight) is what IMS shows now."""
    image = rt.store(region).get_image(image_id)
    if image is None:
        rt.seen.pop(image_id, None)
    return image


def follow_jobs(
    rt: Runtime,
    jobs: list[FollowedJob],
    on_update: Callable[[FollowedJob], None],
    poll_seconds: float,
    timeout: float = float("inf"),
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll each job in its source region until all finished (emulator: drive its clock instead of waiting).

    False when `timeout` real seconds passed first: the jobs keep running in IMS.
    """
    emulated = 0.0
    give_up = time.monotonic() + timeout
    while True:
        pending = [j for j in jobs if not j.finished and not j.read_error]
        if not pending:
            return True
        if time.monotonic() > give_up:
            return False
        for job in pending:
            try:
                _poll(rt, job)
            except CloudError as exc:
                job.read_error = str(exc)
            on_update(job)
        if rt.emulator is not None:
            if emulated > EMULATED_LIMIT:
                for job in jobs:
                    if not job.finished:
                        job.read_error = "the emulated job did not finish within a week of emulated time"
                return True
            rt.advance(EMULATED_STEP)
            emulated += EMULATED_STEP
            sleep(0.01)
        else:
            sleep(poll_seconds)


def run_apply(
    rt: Runtime,
    regions: tuple[str, ...],
    image_ids: tuple[str, ...],
    wait: bool,
    on_result: Callable[[Result], None],
    on_jobs: Callable[[list[FollowedJob]], None],
    on_update: Callable[[FollowedJob], None],
    poll_seconds: float = 10.0,
    timeout: float = float("inf"),
) -> ApplyReport:
    """Reconcile for real; with `wait`, round after round until no copy is started or one fails."""
    report = ApplyReport()
    begun = time.monotonic()
    trigger = SweepTrigger(regions=regions, image_ids=image_ids, dry_run=False, source="direct")
    try:
        for _ in range(MAX_ROUNDS if wait else 1):
            report.rounds += 1
            # Retention in the first round only: a later round must not delete what the first just recorded.
            this_round = trigger if report.rounds == 1 else replace(trigger, retain=False)
            summary = rt.replicator(on_result, notify=True).sweep(this_round)
            report.add(rt, summary)
            if not wait:
                break
            known = {j.replica_id for j in report.jobs if j.replica_id}
            followed = _started(summary) + _in_flight(summary, known)
            if not followed and _limit_deferred(summary):
                followed = _others_in_flight(rt, known)  # the limit is held by copies outside the scope
            if not followed:
                break
            report.jobs += followed
            on_jobs(followed)
            if not follow_jobs(rt, followed, on_update, poll_seconds, timeout - (time.monotonic() - begun)):
                report.timed_out = True
                break
            _complete(rt, report, followed, on_result)
            if not _limit_deferred(summary):
                break
    except KeyboardInterrupt:
        report.interrupted = True
    return report


def _complete(rt: Runtime, report: ApplyReport, jobs: list[FollowedJob], on_result: Callable[[Result], None]) -> None:
    """Hand the replicas that finished to the completion use case (tags and shares), region by region."""
    finished: dict[str, list[str]] = defaultdict(list)
    for job in jobs:
        if job.status == "SUCCESS" and job.replica_id:
            finished[job.region].append(job.replica_id)
    for region, replica_ids in sorted(finished.items()):
        completion = CompletionTrigger(tuple(replica_ids), region, "direct", dry_run=False)
        report.add(rt, rt.replicator(on_result, notify=True).complete(completion))
