"""What every handler does around its one use case: parse, run, report, and turn errors into answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from imsync.domain.errors import ImsyncError
from imsync.observability import invocation, logger
from imsync.service import Replicator, Summary

T = TypeVar("T")


def handle(
    function: str,
    event: object,
    context: object,
    parse: Callable[[object], T],
    run: Callable[[Replicator, T], Summary],
) -> dict[str, Any]:
    """Parse the event, run the use case, return its summary; a bad event or setting changes nothing."""
    from imsync import bootstrap

    with invocation(function, context):
        try:
            trigger = parse(event)
            summary = run(bootstrap.replicator(context), trigger)
        except ImsyncError as exc:
            logger.error("refused", extra={"error": str(exc), "error_type": type(exc).__name__})
            return {
                "function": function,
                "ok": False,
                "error": str(exc),
                "error_type": type(exc).__name__,
                "results": [],
            }
        for problem in getattr(trigger, "problems", ()):
            summary.errors.append(problem)
        answer = summary.as_dict()
        logger.info("done", extra={"ok": answer["ok"], "counts": answer["counts"]})
        return answer
