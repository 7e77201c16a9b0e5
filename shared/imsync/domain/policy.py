"""Read the imsync-* policy tags of a source image into a Policy, refusing what the deployment does not allow."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from imsync.domain.model import TAG_REGIONS, TAG_SHARE, TAG_WHEN

MAX_VALUE = 43
_VALID_VALUE = re.compile(r"^[A-Za-z0-9_\-., +;]*$")  # IMS characters plus the accepted list separators
_SEPARATORS = re.compile(r"[_,+; ]+")
WHEN_VALUES = ("event", "schedule")


@dataclass(frozen=True)
class Policy:
    """What the tags of one source image ask for, after the deployment's allow-lists."""

    regions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    when: str = "event"
    refusals: tuple[str, ...] = field(default=())

    @property
    def copies_on_event(self) -> bool:
        return self.when == "event"


def split_list(value: str) -> list[str]:
    """Split a tag value into its items, in order, without duplicates or empties."""
    items: list[str] = []
    for item in _SEPARATORS.split(value.strip()):
        if item and item not in items:
            items.append(item)
    return items


def _value_problem(key: str, value: str) -> str | None:
    if len(value) > MAX_VALUE:
        return (
            f"{key}: value is {len(value)} characters, IMS allows {MAX_VALUE}; "
            "shorten it (use share aliases, or split regions across fewer entries)"
        )
    if not _VALID_VALUE.fullmatch(value):
        bad = sorted({c for c in value if not _VALID_VALUE.fullmatch(c)})
        return (
            f"{key}: value has characters IMS tags do not allow ({' '.join(map(repr, bad))}); "
            "use letters, digits, '-', '.', and '_' between items"
        )
    return None


def parse_policy(
    tags: Mapping[str, str],
    allowed_regions: Collection[str],
    aliases: Collection[str],
) -> Policy:
    """Turn an image's tags into a Policy; every part that cannot apply becomes a refusal with its fix."""
    refusals: list[str] = []

    def checked_items(key: str) -> list[str]:
        value = tags.get(key)
        if value is None:
            return []
        if problem := _value_problem(key, value):
            refusals.append(problem)
            return []
        return split_list(value)

    regions = []
    allowed_list = ", ".join(sorted(allowed_regions)) or "none"
    named = checked_items(TAG_REGIONS)
    if not named and TAG_REGIONS in tags and not refusals:
        refusals.append(f"{TAG_REGIONS}: the tag names no region; give region IDs like cn-east-3, or remove the tag")
    for region in named:
        if region in allowed_regions:
            regions.append(region)
        else:
            refusals.append(
                f"{TAG_REGIONS}: '{region}' is not in IMSYNC_ALLOWED_REGIONS (allowed: {allowed_list}); "
                "fix the tag or ask the operator to allow the region"
            )

    chosen_aliases = []
    known = ", ".join(sorted(aliases)) or "none configured"
    for alias in checked_items(TAG_SHARE):
        if alias in aliases:
            chosen_aliases.append(alias)
        else:
            refusals.append(
                f"{TAG_SHARE}: '{alias}' is not a share target in IMSYNC_SHARE_TARGETS (known: {known}); "
                "fix the tag or ask the operator to add the alias"
            )

    when = "event"
    raw_when = tags.get(TAG_WHEN)
    if raw_when is not None:
        if raw_when.strip().lower() in WHEN_VALUES:
            when = raw_when.strip().lower()
        else:
            # Unknown timing: the safer reading is the scheduled run, so no copy starts on an event.
            when = "schedule"
            refusals.append(
                f"{TAG_WHEN}: '{raw_when[:50]}' is not one of {', '.join(WHEN_VALUES)}; "
                "treated as 'schedule' until the tag is fixed"
            )
    return Policy(tuple(regions), tuple(chosen_aliases), when, tuple(refusals))
