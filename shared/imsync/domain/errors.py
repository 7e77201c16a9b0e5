"""imsync's error taxonomy: what went wrong, and whether trying again can help."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imsync.domain.outcomes import FAILS_RUN


class ImsyncError(Exception):
    """Base of every error imsync raises on purpose."""


class ConfigError(ImsyncError):
    """A setting is missing or malformed; the message names the variable and the fix."""


class InvalidEvent(ImsyncError):
    """An event that no function accepts; nothing was changed."""


class CloudError(ImsyncError):
    """An API call did not do what was asked."""

    retryable = False

    def __init__(self, operation: str, code: str = "", message: str = "") -> None:
        self.operation = operation
        self.code = code
        self.message = message
        detail = f"{code}: {message}" if code and message else code or message
        super().__init__(f"{operation} failed" + (f" ({detail})" if detail else ""))


class NotDelivered(CloudError):
    """Some notifications were not delivered (the others were); `undelivered` holds the ones that were not.

    A notifier tries every notification before raising this, so the caller knows exactly which ones nobody
    was told about (and must not remember them as told). `refused`: the notifier refused some of them (a topic or
    bus that does not exist, no right to publish, a message it does not take): no later run gets them through
    until the deployment changes.
    """

    retryable = True

    def __init__(
        self,
        operation: str,
        undelivered: list[Mapping[str, object]],
        code: str = "",
        message: str = "",
        refused: bool = False,
    ) -> None:
        self.undelivered = undelivered
        self.refused = refused
        super().__init__(operation, code, message)


class Refused(CloudError):
    """The API refused the request (4xx): trying the same again will not help."""


class AuthFailed(Refused):
    """The credentials were not accepted (401/403)."""


class NotFound(Refused):
    """The resource does not exist (404)."""


class Throttled(CloudError):
    """Too many requests (429) or too many tasks in flight: try again later."""

    retryable = True


class CopyLimitReached(CloudError):
    """IMS already runs as many copies as it allows for this user: a later run starts this one.

    Not a Throttled: waiting seconds does not help, copies take minutes to finish.
    """


class Unavailable(CloudError):
    """The service failed (5xx): try again later."""

    retryable = True


class OutcomeUnknown(CloudError):
    """The request may or may not have taken effect (the answer was lost): look before asking again."""


class OutOfTime(ImsyncError):
    """The invocation has too little time left to start this call; the next run does it."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(
            f"out of time: too little of the invocation is left to start {operation}; the next run does it"
        )


class RunFailed(ImsyncError):
    """A run whose summary says `ok: false`: raised after the summary is logged, so the platform counts a failure.

    FunctionGraph and Lambda count an invocation as failed only when the handler raises; a returned
    `{"ok": false}` is a success to both. `summary` is the summary dict, for callers that show it.
    """

    SHOWN = 3  # errors named in the message; the summary has them all
    CUT = 300  # characters of each

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        errors = run_errors(summary)
        shown = "; ".join(e if len(e) <= self.CUT else e[: self.CUT - 3] + "..." for e in errors[: self.SHOWN])
        more = f"; and {len(errors) - self.SHOWN} more" if len(errors) > self.SHOWN else ""
        function = summary.get("function", "imsync")
        super().__init__(
            f"{function} failed ({len(errors)} error{'' if len(errors) == 1 else 's'}): {shown or 'see the log'}"
            f"{more} (the log has one line per result; the summary attribute has them all)"
        )


def run_errors(summary: dict[str, Any]) -> list[str]:
    """What failed a run, in order: the run's own error, then the event's and settings' errors, then failed results."""
    errors = [str(summary["error"])] if summary.get("error") else []
    errors += [str(e) for e in summary.get("errors", ())]
    for result in summary.get("results", ()):
        if result.get("outcome") in FAILS_RUN:
            where = "/".join(p for p in (result.get("region"), result.get("image_id")) if p)
            errors.append(f"{where}: {result.get('reason', '')}" if where else str(result.get("reason", "")))
    return errors
