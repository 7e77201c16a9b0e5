"""How a decision ended: the words a summary, the log and the CLI report use."""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    """One decision's outcome; a str, so JSON summaries and comparisons with plain strings are unchanged."""

    PLANNED = "planned"  # a dry run: what would be done
    STARTED = "started"  # a copy was requested
    DONE = "done"  # tagged and shared
    OK = "ok"  # nothing to do
    WAITING = "waiting"  # IMS is still working on it; a later run looks again
    STUCK = "stuck"  # still copying after IMSYNC_STUCK_AFTER_HOURS
    DEFERRED = "deferred"  # left for a later run (the copy limit, the time left, imsync-when=schedule)
    REFUSED = "refused"  # IMS cannot, or the settings do not allow it
    FAILED = "failed"  # IMS tried and failed
    ERROR = "error"  # a call failed
    IGNORED = "ignored"  # not imsync's to act on (a replica, an image not opted in)
    ACCEPTED = "accepted"  # the recipient accepted a share
    UNTRUSTED = "untrusted"  # a share from an owner the recipient does not trust

    def __str__(self) -> str:
        # The value, not "Outcome.OK": f-strings and str() read the same on Python 3.10 and 3.11+.
        return str.__str__(self)


# What fails a run, and so the invocation (docs/reliability.md, "What fails a run"): a call that failed for a reason
# waiting does not fix, or a region that cannot be read (ERROR); what IMS tried and failed, or imsync stopped retrying
# (FAILED). Refusals by policy, deferrals (limits, throttling, time), copies still running and the rest do not.
FAILS_RUN = frozenset({Outcome.ERROR, Outcome.FAILED})
