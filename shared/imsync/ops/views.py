"""The engine's answers (Summary results) arranged for operators: plan sections and the status matrix.

Nothing here decides what should happen: the Replicator did, as it does in the functions. These
functions only sort its results and add what IMS shows (names, member status, copies in flight).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imsync.config import Settings
from imsync.domain.model import TAG_REGIONS, TAG_SHARE, TAG_SHARED, TAG_SOURCE, TAG_SOURCE_REGION, TAG_WHEN, Image
from imsync.domain.outcomes import Outcome
from imsync.domain.policy import parse_policy
from imsync.domain.retention import TAG_KEEP, TAG_ORPHANED, TAG_RETAIN, storage_gb
from imsync.service import Result
from imsync.service.retention import CHANGING_ACTIONS, DELETE, ORPHANED_ACTION, RETENTION_ACTIONS

# Plan sections, in the order they are shown. Stable: part of the --json output (docs/cli.md).
SECTIONS = (
    "copy",  # a copy to start (plan: planned; apply: started)
    "deferred",  # a copy that waits: the in-flight limit, an image still being created, imsync-when=schedule
    "refused",  # IMS cannot or the settings do not allow it, with the reason
    "finalize",  # a finished replica to tag and share
    "share",  # the source image itself to share in its own region
    "drift",  # a finished replica that no longer matches (tags, shares), or duplicates / repeated failures
    "waiting",  # a copy in progress
    "in_sync",  # nothing to do
    "retention",  # a replica that follows its gone source: recorded orphaned, to delete, or its record removed
    "error",  # a read or write failed
    "other",  # scans, ignored images
)

ROW_KEYS = ("section", "image_id", "name", "source_region", "region", "action", "outcome", "reason")
ROW_IDS = ("replica_id", "job_id")


def section_of(result: Result, seen: Mapping[str, Image]) -> str:
    """Which plan section a result belongs to."""
    if result.outcome in (Outcome.ERROR, Outcome.DEFERRED, Outcome.REFUSED):
        return str(result.outcome)  # these sections are named after the outcome
    if result.action == "copy":
        return "copy"
    if result.action == "finalize":
        replica = seen.get(result.replica_id)
        # A replica that already carries its lineage tag was finalized before: what changed since is drift.
        return "drift" if replica is not None and TAG_SOURCE in replica.tags else "finalize"
    if result.action == "share":
        return "share"
    if result.action == "fail":
        return "drift"
    if result.action == "wait":
        return "waiting"
    if result.action == "in_sync":
        return "in_sync"
    if result.action in RETENTION_ACTIONS:
        return "retention"
    return "other"


def row(result: Result, seen: Mapping[str, Image], **extra: Any) -> dict[str, Any]:
    """One result as a stable JSON object (every key present, "" when unknown)."""
    source = seen.get(result.image_id)
    data: dict[str, Any] = {
        "section": section_of(result, seen),
        "image_id": result.image_id,
        "name": source.name if source else "",
        "source_region": result.source_region,
        "region": result.region,
        "action": result.action,
        "outcome": result.outcome,
        "reason": result.reason,
        "replica_id": result.replica_id,
        "job_id": result.job_id,
    }
    data.update(extra)
    return data


POLICY_TAGS = (TAG_REGIONS, TAG_SHARE, TAG_WHEN, TAG_RETAIN)
# what imsync reads or writes
IMSYNC_TAGS = frozenset({*POLICY_TAGS, TAG_SOURCE, TAG_SOURCE_REGION, TAG_SHARED, TAG_KEEP, TAG_ORPHANED})


def _meant(key: str) -> str | None:
    """The policy tag a key was probably meant to be (imsync-region, imsync_regions, Imsync-Share), or None."""
    if key in IMSYNC_TAGS:
        return None
    normal = key.strip().lower().replace("_", "-").replace(" ", "-")
    if normal in POLICY_TAGS:
        return normal
    close = difflib.get_close_matches(normal, POLICY_TAGS, n=1, cutoff=0.8)
    return close[0] if close else None


def misspelled_policy_tags(images: Iterable[Image], regions: Collection[str]) -> list[str]:
    """A line per tag key on a source image that looks like a misspelled policy tag (imsync ignores those)."""
    lines = []
    for image in sorted(images, key=lambda i: (i.region, i.name, i.id)):
        if image.region not in regions or image.is_replica:
            continue
        for key in sorted(image.tags):
            meant = _meant(key)
            if meant:
                lines.append(
                    f"image {image.name or image.id} ({image.id}) in {image.region}: tag '{key}' is not an imsync "
                    f"tag and is ignored; did you mean {meant}?"
                )
    return lines


def storage_by_region(rows: Iterable[Mapping[str, Any]], seen: Mapping[str, Image]) -> dict[str, dict[str, float]]:
    """GB per region that the planned copies add, the due deletions free, and the pending ones will free."""
    found: dict[str, dict[str, float]] = {}

    def add(region: str, key: str, image: Image | None) -> None:
        if image is not None:
            entry = found.setdefault(region, {"adds_gb": 0.0, "frees_gb": 0.0, "frees_later_gb": 0.0})
            entry[key] = round(entry[key] + storage_gb(image), 1)

    for item in rows:
        if item["section"] == "copy":
            add(item["region"], "adds_gb", seen.get(item["image_id"]))
        elif item["action"] == DELETE and item["outcome"] in (Outcome.PLANNED, Outcome.DONE):
            add(item["region"], "frees_gb", seen.get(item["replica_id"]))
        elif item["action"] == ORPHANED_ACTION and item["outcome"] in (Outcome.WAITING, Outcome.PLANNED, Outcome.DONE):
            add(item["region"], "frees_later_gb", seen.get(item["replica_id"]))
    return dict(sorted(found.items()))


def orphaned(results: Iterable[Result], seen: Mapping[str, Image]) -> list[dict[str, str]]:
    """Replicas that follow a gone source (or a region their source left): since when, and why."""
    rows = []
    for result in results:
        if result.action not in (ORPHANED_ACTION, DELETE) or result.outcome is Outcome.ERROR:
            continue
        replica = seen.get(result.replica_id)
        rows.append(
            {
                "replica_id": result.replica_id,
                "name": replica.name if replica else "",
                "region": result.region,
                "source_image_id": result.image_id,
                "source_region": result.source_region,
                "orphaned_since": replica.tags.get(TAG_ORPHANED, "") if replica else "",
                "outcome": str(result.outcome),
                "reason": result.reason,
            }
        )
    return rows


def section_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SECTIONS, 0)
    for item in rows:
        counts[item["section"]] += 1
    return counts


def pending_changes(rows: Iterable[Mapping[str, Any]]) -> int:
    """How many results `imsync apply` would act on now: copies to start, replicas to finalize, shares, drift,
    and retention's planned writes (orphan records to add or remove, replicas to delete)."""
    return sum(
        1
        for item in rows
        if item["section"] in ("copy", "finalize", "share")
        or (item["section"] == "drift" and item["action"] != "fail")
        or (
            item["section"] == "retention" and item["action"] in CHANGING_ACTIONS and item["outcome"] == Outcome.PLANNED
        )
    )


def in_flight(seen: Mapping[str, Image]) -> int:
    """imsync's copies that IMS shows as still being made (as the engine counts them)."""
    return sum(1 for image in seen.values() if image.copy_in_flight)


# ---- status ---------------------------------------------------------------------------------------

CELL_STATES = (
    "source",
    "active",
    "finalize",
    "copying",
    "stuck",
    "failed",
    "missing",
    "deferred",
    "refused",
    "unknown",
)


@dataclass
class Cell:
    """One source image in one region."""

    state: str
    reason: str = ""
    replica_id: str = ""
    replica_status: str = ""
    shares: dict[str, dict[str, str]] = field(default_factory=dict)  # alias -> project -> member status

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "replica_id": self.replica_id,
            "replica_status": self.replica_status,
            "shares": self.shares,
        }


@dataclass
class StatusRow:
    image: Image
    cells: dict[str, Cell]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "image_id": self.image.id,
            "name": self.image.name,
            "source_region": self.image.region,
            "status": self.image.status,
            "regions": {region: cell.as_dict() for region, cell in self.cells.items()},
            "notes": self.notes,
        }


def _cell(result: Result, seen: Mapping[str, Image]) -> Cell:
    replica = seen.get(result.replica_id)
    state, reason = "unknown", result.reason
    if result.outcome == Outcome.REFUSED:
        state = "refused"
    elif result.action == "fail" or result.outcome == Outcome.FAILED:
        state = "failed"
    elif result.outcome == Outcome.DEFERRED:
        state = "deferred"
    elif result.outcome == Outcome.STUCK:  # in progress longer than IMSYNC_STUCK_AFTER_HOURS
        state = "stuck"
    elif result.action == "in_sync":
        state, reason = "active", ""
    elif result.action == "finalize":
        state, reason = "finalize", "active; tags or shares to add"
    elif result.action == "wait":
        state = "copying" if replica is None or replica.in_progress else "unknown"
    elif result.action == "copy":
        state, reason = "missing", "no replica: the next run copies it"
    return Cell(state, reason, result.replica_id, replica.status if replica else "")


def _failed_attempts(seen: Mapping[str, Image], source_id: str, region: str) -> int:
    return sum(
        1
        for image in seen.values()
        if image.region == region and image.lineage and image.lineage.source_id == source_id and image.gone
    )


def status_rows(settings: Settings, results: Iterable[Result], seen: Mapping[str, Image]) -> list[StatusRow]:
    """The image x region matrix from a dry-run sweep's results and what the stores saw."""
    by_key: dict[tuple[str, str], Result] = {}
    notes: dict[str, list[str]] = {}
    for result in results:
        source = seen.get(result.image_id)
        if source is None or not source.opted_in:
            continue
        if result.region == source.region:
            if result.action in ("refuse", "share"):
                notes.setdefault(source.id, []).append(f"{result.action}: {result.reason}")
            continue
        # Several results may name one cell (e.g. duplicates and a wait): the first problem wins.
        if (result.image_id, result.region) not in by_key or result.action == "fail":
            by_key[(result.image_id, result.region)] = result
    rows = []
    sources = sorted((i for i in seen.values() if i.opted_in), key=lambda i: (i.region, i.name, i.id))
    for source in sources:
        policy = parse_policy(source.tags, settings.allowed_regions, settings.share_targets.keys())
        cells = {source.region: Cell("source", replica_id=source.id, replica_status=source.status)}
        for region in policy.regions:
            if region == source.region:
                continue
            found = by_key.get((source.id, region))
            cell = _cell(found, seen) if found else Cell("unknown", "not reported")
            failed = _failed_attempts(seen, source.id, region)
            if cell.state == "missing" and failed:
                cell = Cell("failed", f"{failed} copy attempt(s) failed; {cell.reason}", cell.replica_id)
            cells[region] = cell
        rows.append(StatusRow(source, cells, notes.get(source.id, [])))
    return rows


def share_targets_of(settings: Settings, source: Image, region: str) -> dict[str, tuple[str, ...]]:
    """alias -> projects that the image's imsync-share aliases name in `region`."""
    policy = parse_policy(source.tags, settings.allowed_regions, settings.share_targets.keys())
    return {
        alias: tuple(settings.share_targets.get(alias, {}).get(region, ()))
        for alias in policy.aliases
        if settings.share_targets.get(alias, {}).get(region)
    }
