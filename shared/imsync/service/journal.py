"""How a run records its decisions: each one in the summary and the log, refusals and failures held to announce."""

from __future__ import annotations

from collections.abc import Callable

from imsync.domain.errors import CloudError, ImsyncError, OutOfTime, Refused
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import FINALIZE, Action
from imsync.notices import FAILED, REFUSED
from imsync.retry import CALL_SECONDS, RESERVE_SECONDS, Deadline
from imsync.service.summary import Result, Summary

OUT_OF_TIME = "out of time: too little of this invocation is left to start it; the next run does it"


def failure(exc: ImsyncError) -> Outcome:
    """How a failed read is reported: work left for lack of time is deferred, anything else is an error."""
    return Outcome.DEFERRED if isinstance(exc, OutOfTime) else Outcome.ERROR


def write_failure(exc: ImsyncError) -> Outcome:
    """How a failed write is reported (docs/reliability.md, "What fails a run").

    IMS refused it (4xx, a wrong key among them): an error, waiting does not fix it. Throttled, a 5xx, a lost
    answer or no time left: deferred, the next run reads IMS and asks again only if it is still needed.
    """
    if isinstance(exc, OutOfTime) or (isinstance(exc, CloudError) and not isinstance(exc, Refused)):
        return Outcome.DEFERRED
    return Outcome.ERROR


def out_of_time(deadline: Deadline) -> bool:
    """Whether too little of the invocation is left for one more call and the summary."""
    return deadline.seconds_left() < RESERVE_SECONDS + CALL_SECONDS


class Journal:
    """Records each decision in the run's summary and the log; a refusal or failure is held for the announcement."""

    def __init__(self, log: Callable[[Result], None], notify: Callable[[str, Action, str], None]) -> None:
        self._log = log
        self._notify = notify  # holds a notification for the end of the run (Announcer.notify)

    def record(self, summary: Summary, result: Result) -> None:
        summary.results.append(result)
        self._log(result)

    def report(self, summary: Summary, action: Action, outcome: Outcome, reason: str | None = None, **ids: str) -> None:
        """Record what became of `action` (the planner's reason unless `reason` says otherwise)."""
        own_share = action.kind == FINALIZE and action.replica is None  # the source shared in its own region
        replica_id = "" if own_share else ids.pop("replica_id", action.replica.id if action.replica else "")
        self.record(
            summary,
            Result(
                action.source.id,
                action.region,
                "share" if own_share else action.kind,
                outcome,
                reason if reason is not None else action.reason,
                action.source.region,
                replica_id,
                ids.get("job_id", ""),
            ),
        )
        if outcome in (Outcome.REFUSED, Outcome.FAILED) and not summary.dry_run:  # a dry run announces nothing
            kind = REFUSED if outcome == Outcome.REFUSED else FAILED
            self._notify(kind, action, reason or action.reason)
