"""Retention: when a replica that follows its source may be deleted (README, "Retention"; docs/security.md).

Pure rules, no I/O. The service gives them what one DR run read from IMS and acts on the verdict. The chaos
suite checks deletions with its own, independently written oracle (tests/chaos/retention_invariant.py), not with
these rules, so a mistake here cannot hide behind the same mistake there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from imsync.domain.model import MAX_TAGS, TAG_REGIONS, TAG_SOURCE, TAG_SOURCE_REGION, Image, Lineage
from imsync.domain.policy import split_list

# On a source: the rule its replicas follow (keep | follow). On a replica: the rule it was made under, written with
# its lineage tags, because a deleted source takes its own tags with it.
TAG_RETAIN = "imsync-retain"
# On a replica, any value: never deleted, whatever the rule says.
TAG_KEEP = "imsync-keep"
# On a replica: the UTC date (YYYY-MM-DD) of the DR run that first saw it orphaned, and ".told" after it once
# its deletion was announced by a run that then could not carry it out (the run that does, tells nobody again).
TAG_ORPHANED = "imsync-orphaned"
DELETION_TOLD = ".told"
KEEP, FOLLOW = "keep", "follow"
RULES = (KEEP, FOLLOW)
_RECORD = re.compile(r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?P<told>\.told)?\Z")

# Verdicts
ORPHAN = "orphan"  # first sighting: record today's date on the replica
PENDING = "pending"  # orphaned, waiting for the grace period to end
DUE = "due"  # orphaned and the grace period is over: delete it
CLEAR = "clear"  # recorded as orphaned but no longer is: remove the record


def rule_of(tags: Mapping[str, str], default: str) -> str:
    """The retention rule a source's tags ask for; an unreadable value keeps (nothing is deleted by a typo)."""
    if TAG_RETAIN not in tags:
        return default
    value = tags[TAG_RETAIN].strip().lower()
    return value if value in RULES else KEEP


def made_by_imsync(image: Image) -> Lineage | None:
    """The lineage of an image imsync made: the marker in its description AND both lineage tags, agreeing.

    Anything less (tags someone copied, a description someone wrote) is not imsync's to delete.
    """
    lineage = image.lineage
    if lineage is None or lineage.source_id != image.tags.get(TAG_SOURCE):
        return None
    if lineage.source_region != image.tags.get(TAG_SOURCE_REGION):
        return None
    return lineage


def protection(image: Image) -> str | None:
    """Why this image may never be deleted by imsync (None: the rules may delete it)."""
    if not image.owned:
        return "not the account's own image"
    if TAG_REGIONS in image.tags:
        return f"it is a source ({TAG_REGIONS} is set)"
    if made_by_imsync(image) is None:
        return "not a replica imsync made (it lacks the lineage marker or the lineage tags)"
    if TAG_KEEP in image.tags:
        return f"tagged {TAG_KEEP}"
    if image.tags.get(TAG_RETAIN) != FOLLOW:
        return f"made under {TAG_RETAIN}={KEEP}"
    if image.status != "active":
        return f"it is {image.status}"
    return None


@dataclass(frozen=True)
class SourceView:
    """What one run knows of a replica's source.

    `known` is False when the run could not read it (the listing of its region failed, or the check by ID did):
    then nothing changes. `image` is None when IMS said, for that ID, that it does not exist.
    """

    known: bool
    image: Image | None = None

    @property
    def gone(self) -> bool:
        return self.known and (self.image is None or self.image.gone)


def orphaned_because(replica: Image, source: SourceView, default_rule: str) -> str | None:
    """Why `replica` (one the rules may delete) no longer serves its source; None when it does or nobody knows."""
    lineage = made_by_imsync(replica)
    if lineage is None or not source.known:
        return None
    if source.gone:
        return f"its source {lineage.source_id} is gone from {lineage.source_region}"
    assert source.image is not None
    if rule_of(source.image.tags, default_rule) != FOLLOW:
        return None  # the source is there and says keep: its word now outranks the replica's copy of the rule
    raw = source.image.tags.get(TAG_REGIONS, "")
    if re.search(r"[^A-Za-z0-9_\-., +;]", raw):
        return None  # a tag IMS-invalid or garbled names no region reliably: the policy is unknown, nothing goes
    if replica.region not in split_list(raw):
        return f"{replica.region} has left the {TAG_REGIONS} of its source {lineage.source_id}"
    return None


def _stale_rule(replica: Image, source: SourceView, default_rule: str) -> bool:
    """A replica outside its source's policy that still carries `follow` while the source says keep.

    Replicas inside the policy get their rule from the finalize step; this one would otherwise keep the old
    rule and follow the source later, against what the source said last.
    """
    image = source.image
    if image is None or source.gone or replica.tags.get(TAG_RETAIN) != FOLLOW:
        return False
    return rule_of(image.tags, default_rule) != FOLLOW and replica.region not in split_list(
        image.tags.get(TAG_REGIONS, "")
    )


def recorded(replica: Image) -> date | None:
    """The date the orphan record on the replica names (None: no record, or not one imsync wrote)."""
    match = _RECORD.match(replica.tags.get(TAG_ORPHANED, ""))
    if match is None:
        return None
    try:
        return date.fromisoformat(match["date"])
    except ValueError:
        return None


def deletion_told(replica: Image) -> bool:
    """Whether the replica's orphan record says its deletion was already announced."""
    match = _RECORD.match(replica.tags.get(TAG_ORPHANED, ""))
    return match is not None and match["told"] is not None and recorded(replica) is not None


@dataclass(frozen=True)
class Verdict:
    """What retention does with one replica in this run, why, and when it goes."""

    kind: str
    reason: str
    due: date | None = None
    drop_rule: bool = False  # CLEAR: also remove the replica's imsync-retain=follow (its source says keep now)


def judge(
    replica: Image,
    source: SourceView,
    today: date,
    grace_days: int,
    default_rule: str = KEEP,
    max_tags: int = MAX_TAGS,
) -> Verdict | None:
    """The retention verdict for one replica (None: nothing to do or say).

    `max_tags`: how many tags the cloud lets an image hold (the tag rules in effect, IMSYNC_TAG_RULES), which
    decides whether the orphan record has a slot.

    The first sighting only records the date (ORPHAN); deletion (DUE) needs a record that was already on the
    replica when this run listed it, dated `grace_days` or more before `today`: so never in the run that
    first saw it. A replica that stops being orphaned loses its record (CLEAR).
    """
    if source.known is False:
        return None  # a failed or partial read decides nothing, neither deleting nor clearing
    since = recorded(replica)
    shield = protection(replica)
    why = None if shield else orphaned_because(replica, source, default_rule)
    if why is None:
        stale = _stale_rule(replica, source, default_rule)
        if (TAG_ORPHANED in replica.tags or stale) and replica.owned and made_by_imsync(replica):
            if TAG_ORPHANED not in replica.tags:
                return Verdict(CLEAR, "its source says keep now: the replica's follow rule is removed", drop_rule=True)
            why_not = "its source says keep" if stale else shield or "its source and policy want it"
            return Verdict(CLEAR, f"no longer orphaned ({why_not})", drop_rule=stale)
        return None
    if since is None:
        if TAG_ORPHANED not in replica.tags and len(replica.tags) >= max_tags:
            return Verdict(PENDING, f"{why}; no tag slot is free for the orphan record, so it is kept")
        return Verdict(ORPHAN, why, today + timedelta(days=max(grace_days, 0)))
    due = since + timedelta(days=max(grace_days, 0))
    if today >= due:
        return Verdict(DUE, why, due)
    return Verdict(PENDING, why, due)


def deletion_allowed(
    replica: Image, source: SourceView, today: date, grace_days: int, default_rule: str = KEEP
) -> bool:
    """Whether these rules allow deleting `replica` now: a shorthand for the rule tests (tests/domain).

    The service acts on judge()'s verdict; the chaos suite's oracle is written independently of both.
    """
    verdict = judge(replica, source, today, grace_days, default_rule)
    return verdict is not None and verdict.kind == DUE


GB = 1024**3


def storage_gb(image: Image) -> float:
    """The storage an image takes, in GB: IMS's __image_size, else its min_disk (what the README promises)."""
    return image.size_bytes / GB if image.size_bytes else float(image.min_disk_gb)
