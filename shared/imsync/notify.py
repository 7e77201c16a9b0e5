"""Notifications that need no cloud service: the structured log (the default on FunctionGraph for now)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from imsync.observability import logger


class LogNotifier:
    """Writes each notification as one structured log line."""

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        for event in events:
            logger.info("notification", extra={"notification": dict(event)})
