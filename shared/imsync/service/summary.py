"""What a use case answers: every decision it took (Result), gathered in a JSON-serialisable Summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from imsync.domain.outcomes import FAILS_RUN, Outcome


@dataclass
class Result:
    """What happened to one source image in one region, and why."""

    image_id: str
    region: str
    action: str
    outcome: Outcome
    reason: str = ""
    source_region: str = ""
    replica_id: str = ""
    job_id: str = ""

    def as_dict(self) -> dict[str, str]:
        # vars(), not dataclasses.asdict: every field is a str, and asdict's deep copy was a tenth of a DR run's CPU.
        return {k: v for k, v in vars(self).items() if v != ""}


@dataclass
class Summary:
    """A handler's answer: every decision it took, JSON-serialisable."""

    function: str
    dry_run: bool = False
    results: list[Result] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when the run failed (FAILS_RUN): the handler then raises, and the platform counts a failure."""
        return not self.errors and not any(r.outcome in FAILS_RUN for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "counts": dict(sorted(Counter(r.outcome for r in self.results).items())),
            "results": [r.as_dict() for r in self.results],
            "errors": list(self.errors),
        }
