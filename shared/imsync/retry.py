"""Jittered exponential backoff for calls that failed in a way that may pass, bounded by the time left."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from imsync.domain.errors import CloudError, OutOfTime

T = TypeVar("T")

# Seconds to keep in hand when the function's time runs low: enough to report what was done.
RESERVE_SECONDS = 5.0
# Seconds one more API call needs at the least: with less left beyond the reserve, it is not started.
CALL_SECONDS = 5.0


@dataclass
class Deadline:
    """Time left for this invocation (from the platform's context), or unbounded."""

    remaining_ms: Callable[[], float] | None = None

    def seconds_left(self) -> float:
        return float("inf") if self.remaining_ms is None else self.remaining_ms() / 1000.0

    def call_timeout(self, operation: str, timeout: float) -> float:
        """The timeout for one more call: `timeout`, or less when less of the invocation is left beyond the reserve.

        Raises OutOfTime when nothing is left beyond it: a call the platform would cut off is never started.
        """
        left = self.seconds_left() - RESERVE_SECONDS
        if left <= 0:
            raise OutOfTime(operation)
        return max(min(timeout, left), 0.1)

    @classmethod
    def from_context(cls, context: object) -> Deadline:
        """FunctionGraph's getRemainingTimeInMilliSeconds or Lambda's get_remaining_time_in_millis."""
        for name in ("getRemainingTimeInMilliSeconds", "get_remaining_time_in_millis"):
            method = getattr(context, name, None)
            if callable(method):
                return cls(lambda: float(method()))  # noqa: B023 - returned at once, never outlives the loop
        return cls()


@dataclass
class Retrier:
    """Retry retryable CloudErrors with full-jitter exponential backoff until attempts or time run out."""

    deadline: Deadline = field(default_factory=Deadline)
    attempts: int = 5
    base: float = 0.2
    cap: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    retries: int = 0  # how many retries this Retrier has made (for summaries and benchmarks)

    def call(self, fn: Callable[[], T], retry_on: tuple[type[CloudError], ...] | None = None) -> T:
        """Run fn, retrying the errors that say "try again later"."""
        attempt = 0
        while True:
            try:
                return fn()
            except CloudError as exc:
                retryable = isinstance(exc, retry_on) if retry_on is not None else exc.retryable
                attempt += 1
                if not retryable or attempt >= self.attempts:
                    raise
                pause = self.rng.uniform(0, min(self.cap, self.base * 2**attempt))
                if self.deadline.seconds_left() - pause < RESERVE_SECONDS + CALL_SECONDS:
                    raise
                self.retries += 1
                self.sleep(pause)
