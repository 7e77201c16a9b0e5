"""Fault injection: refuse, delay or drop matching requests."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One rule: requests that match get `status`, wait `delay` real seconds, or lose their answer."""

    status: int | None = None
    region: str | None = None
    method: str | None = None
    path: str | None = None
    count: int | None = 1
    probability: float | None = None
    seed: int | None = None
    delay: float | None = None
    lose_answer: bool = False
    body: str | None = None  # answer 200 with this raw text instead of the real answer (after the effect)
    # `status` answered AFTER the effect: IMS did the work, the client hears an error. Gateways answer 5xx when
    # the backend is slow or the answer is lost on the way back, so an error is no proof nothing happened
    # (the SDK's own note: a read timeout on POST has an unknown outcome; 502/504 are gateway answers).
    after_effect: bool = False
    # Seconds to wait BEFORE the effect, then answer normally: a slow region (past the client's timeout,
    # the client gives up while IMS still acts on the request).
    slow: float | None = None
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, region: str, method: str, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.region is not None and self.region != region:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


class Faults:
    """The emulator's fault rules; the first matching rule fires."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        status: int | None = None,
        region: str | None = None,
        method: str | None = None,
        path: str | None = None,
        count: int | None = 1,
        probability: float | None = None,
        seed: int | None = None,
        delay: float | None = None,
        lose_answer: bool = False,
        body: str | None = None,
        after_effect: bool = False,
        slow: float | None = None,
    ) -> Fault:
        """Add a rule; `count=None` fires without limit, `probability` draws from Random(seed).

        `after_effect=True` answers `status` after carrying the request out (default: instead of it).
        """
        if status is not None and status not in (429, 500, 502, 503, 504):
            raise ValueError("status must be 429 or a 5xx code")
        if path is not None:
            re.compile(path)
        if after_effect and status is None:
            raise ValueError("after_effect needs a status to answer after the effect")
        fault = Fault(
            status, region, method, path, count, probability, seed, delay, lose_answer, body, after_effect, slow
        )
        fault._rng = random.Random(seed)
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def pick(self, region: str, method: str, path: str) -> Fault | None:
        """The rule that fires for this request, already counted, or None."""
        with self._lock:
            for fault in self._rules:
                if not fault.matches(region, method, path):
                    continue
                if fault.probability is not None and fault._rng.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                fault.fired += 1
                return fault
        return None
