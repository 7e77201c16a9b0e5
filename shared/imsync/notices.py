"""What a run tells people: each fact once, one digest per DR run, nothing from a dry run.

There is no database: what was last announced about a source image is kept on the image itself, in
one tag, `imsync-noticed`, whose value lists a short hash of each problem already announced
(docs/reliability.md, "Notifications: each fact once"). These functions are pure: the Replicator
reads the mark, asks what is new, announces it, and writes the mark back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

from imsync.domain.model import (
    COPY_CLAIM_PREFIX,
    MAX_TAG_VALUE,
    MAX_TAGS,
    NOTICE_MARK,
    TAG_SHARE,
    TAG_SHARED,
    Image,
    tags_besides_mark,
)

MARK = NOTICE_MARK  # starts with "imsync-": never copied to replicas, never read as policy

REFUSED = "imsync.copy.refused"
FAILED = "imsync.copy.failed"
STUCK = "imsync.copy.stuck"
READY = "imsync.replica.ready"
DIGEST = "imsync.digest"
UNTRUSTED = "imsync.share.untrusted"
ORPHANED = "imsync.replica.orphaned"  # retention: first sighting, with the date it will go (delete_on)
DELETED = "imsync.replica.deleted"  # retention: deleted, with the projects that had accepted it
PROBLEMS = frozenset({REFUSED, FAILED, STUCK})  # what needs a person, announced once per source
# Every type a notice can have, in one place: each notifier (SMN, EventBridge, the log) takes each of them.
NOTICE_TYPES = (REFUSED, FAILED, STUCK, READY, DIGEST, UNTRUSTED, ORPHANED, DELETED)
# What a notice the notifier refused (a topic or bus that does not exist, no right to publish) asks of a person.
REFUSED_BY_NOTIFIER = (
    "the notifier refused it, which waiting does not fix: check IMSYNC_SMN_TOPIC_URN (or IMSYNC_EVENT_BUS), the "
    "key the function publishes with, and its right to publish there"
)

Notice = Mapping[str, object]

HASH_CHARS = 6  # 16.7 million values: two problems of one image colliding is not a practical worry
MAX_HASHES = (MAX_TAG_VALUE + 1) // (HASH_CHARS + 1)  # 6 hashes joined by "_" fit in one tag value
OVERFLOW = "x"  # more problems than hashes fit: the value is "x" and one hash of the whole set


def problem_hash(notice: Notice) -> str:
    """A short, stable name for one problem: where, what, and why."""
    text = "\x1f".join(str(notice.get(key, "")) for key in ("region", "type", "reason"))
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def _overflow(hashes: Iterable[str]) -> str:
    return OVERFLOW + hashlib.sha256("_".join(sorted(hashes)).encode()).hexdigest()[:16]


def read_mark(value: str | None) -> frozenset[str]:
    """The problem hashes a mark lists (none for an overflow mark or a value imsync did not write)."""
    parts = (value or "").split("_")
    return frozenset(p for p in parts if len(p) == HASH_CHARS and all(c in "0123456789abcdef" for c in p))


def unannounced(problems: Iterable[Notice], mark: str | None) -> list[Notice]:
    """The problems the mark does not list: the ones nobody was told about yet."""
    problems = list(problems)
    hashes = [problem_hash(p) for p in problems]
    if mark and mark == _overflow(hashes):
        return []
    seen = read_mark(mark)
    return [p for p, h in zip(problems, hashes, strict=True) if h not in seen]


def next_mark(problems: Iterable[Notice], mark: str | None, partial: bool, untold: Iterable[Notice] = ()) -> str | None:
    """The mark to leave on the source after this run (None: no mark).

    `untold` are the problems this run meant to announce but could not deliver: the mark must not list them,
    so the next run announces them. A run that did not see all of the source (a deferral, a failed read) keeps
    what the old mark lists, so a problem it could not see is not announced again when the next run sees it.
    """
    problems = list(problems)
    missed = {problem_hash(p) for p in untold}
    hashes = {problem_hash(p) for p in problems} - missed
    if partial:
        hashes |= read_mark(mark)
    if len(hashes) > MAX_HASHES:
        # An overflow mark names the whole set: it may say so only when the whole set was told.
        return mark if missed else _overflow({problem_hash(p) for p in problems})
    return "_".join(sorted(hashes)) or None


def merged_mark(wanted: str | None, read: str | None, now: str | None) -> str | None:
    """The mark to write: `wanted` (computed from the mark as this run `read` it) with what other runs added since
    (the mark IMS holds `now`): two runs that told different facts of one source both stay listed.

    Another run's overflow mark, or a union too long for one tag, leaves `wanted`: a fact may then be told again,
    never one left untold.
    """
    added = read_mark(now) - read_mark(read)
    if not added or (wanted or "").startswith(OVERFLOW):
        return wanted
    hashes = read_mark(wanted) | added
    return "_".join(sorted(hashes)) if len(hashes) <= MAX_HASHES else wanted


def has_room(source: Image, copy_regions: Iterable[str] = ()) -> bool:
    """Whether a new mark can be added without crowding out a tag that matters more (IMS allows 10).

    First come the copy-job notes (`imsync-copy-<region>`) of the regions this run copies, or may copy,
    to (`copy_regions`; a note written after the listing is not in `source.tags`), and the share mark
    (`imsync-shared`) that a source shared in its own region needs. A mark once written keeps its slot
    (the Announcer): a note then goes to the description.
    """
    notes = {COPY_CLAIM_PREFIX + region for region in copy_regions} - set(source.tags)
    reserved = len(notes) + (1 if TAG_SHARE in source.tags and TAG_SHARED not in source.tags else 0)
    return tags_besides_mark(source.tags) + reserved < MAX_TAGS  # rewriting the mark takes no new slot


def seconds_of(text: str) -> float | None:
    """A time as IMS writes it (2023-11-14T22:13:20Z) in seconds since the epoch; None when unreadable."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:  # IMS writes UTC
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def stuck_for(image: Image, now: float, after_hours: float) -> float | None:
    """Hours a copy has been in progress, when that is more than `after_hours`; else None."""
    created = seconds_of(image.created_at) if image.in_progress and image.created_at else None
    if created is None:
        return None
    hours = (now - created) / 3600
    return hours if hours > after_hours else None


def new_in_this_run(shared_at: str, now: float, every_seconds: float) -> bool | None:
    """Whether a share falls in the interval this accept run covers, (now - 4/3 every, now]; None when unreadable.

    A timer does not fire on time: with each run up to every/6 early or late, two runs are between 2/3 and 4/3
    of `every_seconds` apart. Intervals 4/3 of `every_seconds` long then overlap enough that no share falls
    between two of them (none is lost), and little enough that no share lies in three (none is told 3 times).
    """
    when = seconds_of(shared_at) if shared_at else None
    if when is None:
        return None
    return now - window_seconds(every_seconds) < when <= now


def window_seconds(every_seconds: float) -> float:
    """How far back an accept run looks for new shares: 4/3 of the time between two runs (new_in_this_run)."""
    return every_seconds * 4 / 3


def digest(function: str, items: list[Notice]) -> dict[str, object]:
    """One notification listing every open problem of a DR run."""
    fields = ("type", "source_image_id", "source_region", "region", "replica_id", "image_id", "owner", "reason")
    return {
        "type": DIGEST,
        "function": function,
        "count": len(items),
        "items": [{k: item[k] for k in fields if item.get(k)} for item in items],
    }


def cut_to_fit(notice: Notice, fits: Callable[[Notice], bool]) -> Notice:
    """`notice` as one message a notifier takes: a digest too long keeps its first items and counts the rest.

    `fits` says whether a notice fits the notifier's message limit (SMN's 256 KB, EventBridge's 256 KB entry).
    The cut digest keeps its `count` of all items and says how many it left out (`left_out`); `imsync status`
    lists them all. Other notices are never near a limit and come back unchanged.
    """
    items = notice.get("items")
    if fits(notice) or not isinstance(items, list):
        return notice
    low, high = 0, len(items)  # the most items that fit: a binary search, each step one rendering
    while low < high:
        middle = (low + high + 1) // 2
        if fits({**notice, "items": items[:middle], "left_out": len(items) - middle}):
            low = middle
        else:
            high = middle - 1
    return {**notice, "items": items[:low], "left_out": len(items) - low}
