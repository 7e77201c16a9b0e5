"""The in-process claim table: which copies this process just asked for (one table per process, see bootstrap)."""

from __future__ import annotations

import threading


class RecentCopies:
    """When this process last started each copy, so that threads racing on one image start one copy.

    A run that read a destination before another run started a copy there has a stale view and must
    not copy; a run that read it afterwards sees IMS's truth (the copy, or its deletion) and may act.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[tuple[str, str], float] = {}

    def claim(self, key: tuple[str, str], read_at: float) -> bool:
        """Whether a run that read the destination at `read_at` may start this copy (it is then in flight)."""
        with self._lock:
            if self._started.get(key, float("-inf")) >= read_at:
                return False
            # In flight until settled: IMS shows the replica only once the request arrives, so any run,
            # whenever it read the destination, must not copy while the request is on the wire.
            self._started[key] = float("inf")
            return True

    def settle(self, key: tuple[str, str], now: float) -> None:
        """The copy request came back (or was lost): runs that read the destination after `now` may act."""
        with self._lock:
            self._started[key] = now

    def release(self, key: tuple[str, str]) -> None:
        """The copy was not started: any run may ask for it."""
        with self._lock:
            self._started.pop(key, None)


class RecentNotices(RecentCopies):
    """When this process last told each fact, so that runs racing on one image tell it once between them.

    The claim table of copies, keyed by fact (image, problem hash) instead of copy: a run that read an image's
    imsync-noticed mark before another run of this process told a fact has a stale view of the mark and must not
    tell it again; a run that read it afterwards sees the mark IMS holds. The publish is settled whether it was
    delivered or not (never released: it may have been delivered). Across processes nothing is shared: that
    limit is in docs/reliability.md.
    """
