"""The things imsync reasons about, in its own words."""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

POLICY_PREFIX = "imsync-"
TAG_REGIONS = "imsync-regions"
TAG_SHARE = "imsync-share"
TAG_WHEN = "imsync-when"
TAG_SOURCE = "imsync-source"
TAG_SOURCE_REGION = "imsync-source-region"
TAG_SHARED = "imsync-shared"  # fingerprint of the projects an image was last shared with
# On a source, + a destination region: the copy a run asked for there (CopyNote), until IMS lists the replica.
COPY_CLAIM_PREFIX = "imsync-copy-"
# On a source: the destination regions (a short hash of each) IMS refused a copy to for a reason that does not
# pass with time; imsync does not ask again until someone deletes the tag (README, "Tag an image").
TAG_IMS_REFUSED = "imsync-refused"
REGION_HASH_CHARS = 6
# IMS's tag rules, read two ways (docs/emulator.md, "Readings"). Chinese characters are allowed under both.
# Checked character by character, not with a regular expression: a character class spanning the CJK block
# costs about a millisecond to compile, and there are six of them, all on a cold start's import path.
_CJK_FIRST, _CJK_LAST = "\u4e00", "\u9fff"
_ALNUM = string.ascii_letters + string.digits


def _made_of(text: str, allowed: str) -> bool:
    """Whether every character of `text` is one of `allowed` (ASCII) or a Chinese character."""
    return all(c in allowed or _CJK_FIRST <= c <= _CJK_LAST for c in text)


@dataclass(frozen=True)
class TagRules:
    """One reading of IMS's tag rules: how many tags an image may hold, and the keys and values it accepts."""

    name: str
    max_tags: int
    key_chars: str  # besides Chinese characters
    key_max: int  # keys are 1 to key_max characters
    value_chars: str
    value_max: int  # values are 0 to value_max characters

    def allows(self, key: str, value: str) -> bool:
        return (
            0 < len(key) <= self.key_max
            and len(value) <= self.value_max
            and _made_of(key, self.key_chars)
            and _made_of(value, self.value_chars)
        )


# [IMS API reference (international), ims_03_0902, 2025]: 10 tags; key 1-36 letters, digits, _ and - (no "."),
# value 0-43 of those and "."; Chinese characters in both.
STRICT_TAGS = TagRules("strict", 10, _ALNUM + "_-", 36, _ALNUM + "_.-", 43)
# [IMS tag-format page, newer Chinese edition]: 20 tags; key 1-128 with _ . : + - @ and space, value 0-255 of
# those and "/"; Chinese characters in both.
RELAXED_TAGS = TagRules("relaxed", 20, _ALNUM + "_.:+@ -", 128, _ALNUM + "_.:/+@ -", 255)
TAG_RULES = {rules.name: rules for rules in (STRICT_TAGS, RELAXED_TAGS)}
# What imsync writes itself stays within the strict reading (every strict tag is a relaxed one too), so it is
# valid whichever the cloud applies; so does the tag count it plans for.
MAX_TAGS = STRICT_TAGS.max_tags
# The same note in the source's description, where no tag slot is free: "imsync:copy=<region>/<note>".
COPY_NOTE_MARKER = "imsync:copy="
# On a source: which run is about to note a copy (its note's value); a second register beside the notes,
# so that of two runs noting the same copy at once at most one asks IMS (service/copy_notes.py).
COPY_ASK_TAG = "imsync-ask"
# What imsync writes stays within the stricter of IMS's two tag pages (10 tags, key <= 36, value <= 43,
# letters, digits, _ - .), so it is valid whichever the cloud applies (docs/emulator.md, "Readings"); MAX_TAGS above.
# imsync's mark of the problems it announced about a source (notices.py): written last, never given up once there.
NOTICE_MARK = "imsync-noticed"
MAX_TAG_KEY = 36
MAX_TAG_VALUE = 43

IN_PROGRESS = frozenset({"queued", "saving"})
GONE = frozenset({"killed", "deleted"})

_MARKER = re.compile(r"imsync:source=(?P<region>[a-z0-9-]+)/(?P<id>[A-Za-z0-9-]+)")
_COPY_MARKER = re.compile(re.escape(COPY_NOTE_MARKER) + r"(?P<region>[a-z0-9-]+)/(?P<note>[A-Za-z0-9-]{1,43})")


@dataclass(frozen=True)
class Lineage:
    """Which source image a replica was copied from."""

    source_region: str
    source_id: str

    @property
    def marker(self) -> str:
        return f"imsync:source={self.source_region}/{self.source_id}"


@dataclass(frozen=True)
class Image:
    """One IMS image as imsync sees it, in one region."""

    id: str
    region: str
    name: str
    status: str
    image_type: str = "private"  # IMS's __imagetype, for messages: ownership is `owned`, not this
    owned: bool = True  # the account's own image (its owner is this project), whatever __imagetype says
    size_bytes: int = 0
    min_disk_gb: int = 0  # IMS's min_disk: the storage an image is billed for when __image_size is missing
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    encrypted: bool = False
    iso: bool = False
    whole_image: bool = False
    frozen: bool = False
    owner: str = ""
    created_at: str = ""
    tags_exact: bool = True  # False: a "key.value" tag string had several dots, so key and value are a guess
    os_type: str = ""  # IMS's __os_type: Linux, Windows, ... ("" when IMS did not say)

    @property
    def lineage(self) -> Lineage | None:
        """The source this image is imsync's replica of: the marker imsync wrote into its description at copy time.

        The `imsync-source` tags imsync adds once the copy is active are not evidence of it: whoever may tag an
        image could write them on any image and have it taken for a replica, shared in its source's name, while
        the source itself is never copied (docs/security.md, "A planted replica").
        """
        match = _MARKER.search(self.description or "")
        return Lineage(match["region"], match["id"]) if match else None

    @property
    def claimed_source(self) -> str:
        """The source the image says it was copied from, by its marker or else its `imsync-source` tag ("": none)."""
        return self.lineage.source_id if self.lineage else self.tags.get(TAG_SOURCE, "")

    @property
    def is_replica(self) -> bool:
        """Whether the image says it is a replica (marker or `imsync-source` tag): either way it is never a source."""
        return bool(self.claimed_source)

    @property
    def opted_in(self) -> bool:
        return TAG_REGIONS in self.tags and not self.is_replica

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def copy_in_flight(self) -> bool:
        """A replica of imsync's that IMS is still making: one of the copies in flight (IMS allows 5 per user)."""
        return self.in_progress and self.lineage is not None

    @property
    def gone(self) -> bool:
        return self.status in GONE

    @property
    def copy_claims(self) -> dict[str, str]:
        """Destination region -> the copy note a run left there (tag, else description marker), as written."""
        claims = {m["region"]: m["note"] for m in _COPY_MARKER.finditer(self.description or "")}
        claims.update((k[len(COPY_CLAIM_PREFIX) :], v) for k, v in self.tags.items() if k.startswith(COPY_CLAIM_PREFIX))
        return claims

    @property
    def described_claims(self) -> dict[str, str]:
        """The copy notes held in the description (region -> note), for the run that removes them."""
        return {m["region"]: m["note"] for m in _COPY_MARKER.finditer(self.description or "")}

    @property
    def ims_refused(self) -> frozenset[str]:
        """Hashes (region_hash) of the regions IMS refused to copy this image to, as its imsync-refused tag says."""
        parts = self.tags.get(TAG_IMS_REFUSED, "").split("_")
        return frozenset(p for p in parts if len(p) == REGION_HASH_CHARS)

    @property
    def user_tags(self) -> dict[str, str]:
        """Tags that are not imsync's own (what may be copied to replicas)."""
        return {k: v for k, v in self.tags.items() if not k.startswith(POLICY_PREFIX)}


def region_hash(region: str) -> str:
    """A short name for a region that fits a tag value six times over (imsync-refused)."""
    return hashlib.sha256(region.encode()).hexdigest()[:REGION_HASH_CHARS]


def tags_besides_mark(tags: Mapping[str, str]) -> int:
    """The tag slots taken by what matters more than a new notice mark (which waits for a slot nothing else needs)."""
    return len(tags) - (1 if NOTICE_MARK in tags else 0)


def copy_note_marker(region: str, note: str) -> str:
    """The description form of a copy note: no < > or line break, which IMS refuses in a description."""
    return f"{COPY_NOTE_MARKER}{region}/{note}"


def without_copy_notes(description: str, regions: set[str] | None = None) -> str:
    """`description` without imsync's copy-note markers (of `regions`, or all), spacing as before them."""

    def keep(match: re.Match[str]) -> str:
        return match[0] if regions is not None and match["region"] not in regions else ""

    return re.sub(r" ?" + _COPY_MARKER.pattern, keep, description or "")


# [IMS API reference, cross-region copy and "Querying job status"]: job IDs are 32 hexadecimal characters
# (e.g. 8a12fc664fb4daa3014fb4e581380005).
_MINUTE = r"[0-9a-f]{1,8}"
_NOTE = re.compile(
    rf"(?:p(?P<asked>{_MINUTE})-(?P<owner>[0-9a-f]{{4,12}})"  # asked for; the run's token
    rf"|j(?P<started>{_MINUTE})-(?P<job>[0-9a-f]{{32}})"  # IMS accepted it: its job
    rf"|lost-(?P<lost>{_MINUTE})"  # older imsync: asked for, answer lost
    r"|(?P<bare>[0-9a-f]{32}))"  # older imsync: the job alone
)


@dataclass(frozen=True)
class CopyNote:
    """A copy that a run asked IMS for, as noted on its source while IMS does not list the replica.

    Values (all within IMS's strict tag rules): `p<minute>-<owner>` is written before the request (the run's
    random token as owner), `j<minute>-<job ID>` once IMS accepted it; `<minute>` is the hexadecimal minute
    of the Unix epoch the copy was asked for. Older imsync wrote `lost-<minute>` and the bare job ID.
    """

    minute: int | None  # None: an older note with a job and no time
    job_id: str = ""
    owner: str = ""

    @property
    def value(self) -> str:
        minute = f"{self.minute or 0:x}"
        return f"j{minute}-{self.job_id}" if self.job_id else f"p{minute}-{self.owner}"

    @classmethod
    def read(cls, value: str) -> CopyNote | None:
        """The note a value holds, or None when it is no note imsync writes (malformed, forged)."""
        match = _NOTE.fullmatch(value or "")
        if match is None:
            return None
        if match["bare"]:
            return cls(None, job_id=match["bare"])
        minute = int(match["asked"] or match["started"] or match["lost"], 16)
        return cls(minute, job_id=match["job"] or "", owner=match["owner"] or "")


def writable_tag(key: str, value: str) -> bool:
    """Whether imsync may write this tag of its own: within the strict reading, so every reading accepts it."""
    return STRICT_TAGS.allows(key, value)


# [Terraform docs, image copy] 1-128 characters: letters, digits, _ - . and space, no leading or trailing
# space; [SDK docstring] Chinese characters too.
MAX_NAME = 128
_NAME_CHARS = _ALNUM + "_.- "


def image_name(text: str, fallback: str) -> str:
    """`text` as a valid IMS image name: other characters become '_', cut to 128, no space at either end."""
    cleaned = "".join(c if _made_of(c, _NAME_CHARS) else "_" for c in text)[:MAX_NAME].strip()
    return cleaned or fallback[:MAX_NAME]


@dataclass(frozen=True)
class Job:
    """An asynchronous IMS job (a cross-region copy, or adding members) as IMS reports it."""

    id: str
    status: str  # INIT | RUNNING | SUCCESS | FAIL
    image_id: str = ""
    progress: float = 0.0
    error_code: str = ""
    fail_reason: str = ""
    # Per-item results that did not succeed, (image ID, why), read from the job's entities.results and
    # sub_jobs_result: a member job may end SUCCESS with some of its images not shared.
    failed_items: tuple[tuple[str, str], ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCESS", "FAIL")

    def item_failure(self, image_id: str) -> str | None:
        """Why this image's part of the job did not succeed, or None when nothing says so."""
        return next((why for failed, why in self.failed_items if failed == image_id), None)
