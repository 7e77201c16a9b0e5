"""The doorway every function shares: a decorator that does what surrounds its one use case.

Like powertools' event_source, it hands the body a typed command instead of the raw event: it parses the
event, sets the log context (function name, the platform's request ID), runs the body, and turns what
the body returns, or any error, into a JSON summary. A bad event or setting changes nothing and is answered
in the summary's shape. A run whose summary says `ok: false` is logged, then raised as RunFailed (with the
summary as its `summary`): FunctionGraph and Lambda count an invocation as failed only when it raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from imsync.domain.errors import ImsyncError, RunFailed
from imsync.observability import invocation, logger

C = TypeVar("C")


class Answer(Protocol):
    """What a use case returns: a summary that can say itself as JSON and take the event's problems."""

    errors: list[str]

    def as_dict(self) -> dict[str, Any]: ...


Handler = Callable[[object, object], dict[str, Any]]


def entrypoint(function: str, parse: Callable[[object], C]) -> Callable[[Callable[[C, object], Answer]], Handler]:
    """Make `body(command, context)` the platform's `handler(event, context)` for `function`."""

    def decorate(body: Callable[[C, object], Answer]) -> Handler:
        @functools.wraps(body)
        def handler(event: object, context: object = None) -> dict[str, Any]:
            with invocation(function, context):
                try:
                    command = parse(event)
                    summary = body(command, context)
                except ImsyncError as exc:
                    logger.error("refused", extra={"error": str(exc), "error_type": type(exc).__name__})
                    raise RunFailed(_failure(function, str(exc), type(exc).__name__)) from None
                except Exception as exc:  # a bug is logged once with its traceback, and raised in the summary's shape
                    logger.exception("internal error", extra={"error_type": type(exc).__name__})
                    message = f"internal error ({type(exc).__name__}); the next run retries; details are in the log"
                    raise RunFailed(_failure(function, message, "InternalError")) from None
                summary.errors.extend(getattr(command, "problems", ()))  # batch entries skipped by the parser
                answer = summary.as_dict()
                logger.info("done", extra={"ok": answer["ok"], "counts": answer["counts"]})
                if not answer["ok"]:
                    raise RunFailed(answer)
                return answer

        return handler

    return decorate


def _failure(function: str, error: str, error_type: str) -> dict[str, Any]:
    return {"function": function, "ok": False, "error": error, "error_type": error_type, "results": []}
