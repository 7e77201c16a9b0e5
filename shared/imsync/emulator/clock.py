"""Clocks that drive the emulator's copy jobs and temporary credentials."""

from __future__ import annotations

import threading
import time
from typing import Protocol

#: 2023-11-14T22:13:20Z: a fixed, realistic start for deterministic tests.
DEFAULT_EPOCH = 1_700_000_000.0


class Clock(Protocol):
    """Seconds since the epoch, as the emulated cloud sees them."""

    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


class ManualClock:
    """A clock that moves only when told to: jobs progress only on `advance`."""

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (never backward)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backward")
        with self._lock:
            self._now += seconds


class ScaledClock:
    """Real time multiplied by `speed` (60: one real second is one emulated minute); `advance` jumps."""

    def __init__(self, speed: float = 60.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self._real0 = time.monotonic()
        self._start = time.time() if start is None else float(start)
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._start + (time.monotonic() - self._real0) * self.speed + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward by `seconds` on top of the scaled real time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backward")
        with self._lock:
            self._offset += seconds
