"""The commands the four functions run: what the platform event asked for, already checked.

``imsync.platform_events`` builds them from platform events; the CLI builds them from its options. Each
field's meaning for the use case is documented in ``docs/events.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AcceptTrigger", "CompletionTrigger", "ImageTrigger", "SweepTrigger"]


@dataclass(frozen=True)
class ImageTrigger:
    """replicate_on_create: look at these images (created or (re)tagged) and copy what their tags ask."""

    image_ids: tuple[str, ...]
    region: str | None  # None: the home region (CTS records carry no region)
    source: str  # "cts" | "eventgrid" | "eventbridge" | "direct"
    operation: str = ""  # the CTS trace name, e.g. "createImage"; several joined by "," for a batch
    problems: tuple[str, ...] = ()  # batch entries that were skipped, and why


@dataclass(frozen=True)
class SweepTrigger:
    """scheduled_dr_copy: reconcile every opted-in image (or the named ones) in the source regions."""

    regions: tuple[str, ...] = ()  # (): IMSYNC_SOURCE_REGIONS
    image_ids: tuple[str, ...] = ()  # (): every opted-in image
    dry_run: bool | None = None  # None: the IMSYNC_DRY_RUN setting
    source: str = "direct"  # "timer" | "eventbridge" | "scheduler" | "direct"
    retain: bool = True  # False: no retention this run (apply's later rounds: at most one retention pass a command)


@dataclass(frozen=True)
class CompletionTrigger:
    """share_on_complete: tag and share these replicas once active, or poll for finished copies."""

    replica_ids: tuple[str, ...] = ()  # (): poll every source region for finished copies
    region: str | None = None  # region of the named replicas; None: the home region
    # "timer" | "eventbridge" | "scheduler" | "cts" | "eventgrid" | "completion" | "direct"
    source: str = "direct"
    dry_run: bool | None = None
    problems: tuple[str, ...] = ()  # batch entries that were skipped, and why


@dataclass(frozen=True)
class AcceptTrigger:
    """accept_shares: accept the pending shares of trusted owners in these regions."""

    regions: tuple[str, ...] = ()  # (): IMSYNC_ACCEPT_REGIONS
    dry_run: bool | None = None  # None: the IMSYNC_DRY_RUN setting
    source: str = "direct"  # "timer" | "eventbridge" | "scheduler" | "direct"
