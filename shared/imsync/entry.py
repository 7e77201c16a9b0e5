"""What every handler does around its one use case: parse, run, report, and turn errors into answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from imsync.domain.errors import ImsyncError
from imsync.observability import invocation, logger
from imsync.service import Summary

T = TypeVar("T")


def handle(
    function: str,
    event: object,
    context: object,
    parse: Callable[[object], T],
    run: Callable[[Any, T], Summary],
    build: Callable[[object], object] | None = None,
) -> dict[str, Any]:
    """Parse the event, run the use case, return its summary; a bad event or setting changes nothing.

    `build` wires the use case from the context (default: the Replicator).
    """
    from imsync import bootstrap

    with invocation(function, context):
        try:
            trigger = parse(event)
            summary = run((build or bootstrap.replicator)(context), trigger)
        except ImsyncError as exc:
            logger.error("refused", extra={"error": str(exc), "error_type": type(exc).__name__})
            return _failure(function, str(exc), type(exc).__name__)
        except Exception as exc:  # a bug must still answer in the summary's shape, and be logged once
            logger.exception("internal error", extra={"error_type": type(exc).__name__})
            message = f"internal error ({type(exc).__name__}); the next run retries; details are in the log"
            return _failure(function, message, "InternalError")
        for problem in getattr(trigger, "problems", ()):
            summary.errors.append(problem)
        answer = summary.as_dict()
        logger.info("done", extra={"ok": answer["ok"], "counts": answer["counts"]})
        return answer


def _failure(function: str, error: str, error_type: str) -> dict[str, Any]:
    return {"function": function, "ok": False, "error": error, "error_type": error_type, "results": []}
