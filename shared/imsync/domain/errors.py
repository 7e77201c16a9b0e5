"""imsync's error taxonomy: what went wrong, and whether trying again can help."""

from __future__ import annotations

from collections.abc import Mapping


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
    was told about (and must not remember them as told).
    """

    retryable = True

    def __init__(
        self, operation: str, undelivered: list[Mapping[str, object]], code: str = "", message: str = ""
    ) -> None:
        self.undelivered = undelivered
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
