"""The things imsync reasons about, in its own words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

POLICY_PREFIX = "imsync-"
TAG_REGIONS = "imsync-regions"
TAG_SHARE = "imsync-share"
TAG_WHEN = "imsync-when"
TAG_SOURCE = "imsync-source"
TAG_SOURCE_REGION = "imsync-source-region"
TAG_SHARED = "imsync-shared"  # fingerprint of the projects an image was last shared with
# On a source, + a destination region: the copy job a run started there, until IMS lists the replica.
COPY_CLAIM_PREFIX = "imsync-copy-"
# What imsync writes stays within the stricter of IMS's two tag pages (10 tags, key <= 36, value <= 43,
# letters, digits, _ - .), so it is valid whichever the cloud applies (docs/emulator.md, "Readings").
MAX_TAGS = 10
MAX_TAG_KEY = 36
MAX_TAG_VALUE = 43
_WRITABLE_TAG = re.compile(r"[A-Za-z0-9_.\-]*")

IN_PROGRESS = frozenset({"queued", "saving"})
GONE = frozenset({"killed", "deleted"})

_MARKER = re.compile(r"imsync:source=(?P<region>[a-z0-9-]+)/(?P<id>[A-Za-z0-9-]+)")


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

    @property
    def lineage(self) -> Lineage | None:
        """The source this image is a replica of, from its tags or its description marker."""
        source = self.tags.get(TAG_SOURCE)
        if source:
            return Lineage(self.tags.get(TAG_SOURCE_REGION, ""), source)
        match = _MARKER.search(self.description or "")
        return Lineage(match["region"], match["id"]) if match else None

    @property
    def is_replica(self) -> bool:
        return self.lineage is not None

    @property
    def opted_in(self) -> bool:
        return TAG_REGIONS in self.tags and not self.is_replica

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def gone(self) -> bool:
        return self.status in GONE

    @property
    def copy_claims(self) -> dict[str, str]:
        """Destination region -> the copy job a run started there, for copies IMS may not list yet."""
        return {k[len(COPY_CLAIM_PREFIX) :]: v for k, v in self.tags.items() if k.startswith(COPY_CLAIM_PREFIX)}

    @property
    def user_tags(self) -> dict[str, str]:
        """Tags that are not imsync's own (what may be copied to replicas)."""
        return {k: v for k, v in self.tags.items() if not k.startswith(POLICY_PREFIX)}


def writable_tag(key: str, value: str) -> bool:
    """Whether imsync may write this tag: within the stricter IMS limits, so every reading accepts it."""
    return (
        0 < len(key) <= MAX_TAG_KEY
        and len(value) <= MAX_TAG_VALUE
        and bool(_WRITABLE_TAG.fullmatch(key))
        and bool(_WRITABLE_TAG.fullmatch(value))
    )


# [Terraform docs, image copy] 1-128 characters: letters, digits, _ - . and space, no leading or trailing
# space; [SDK docstring] Chinese characters too.
MAX_NAME = 128
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.\- \u4e00-\u9fff]")


def image_name(text: str, fallback: str) -> str:
    """`text` as a valid IMS image name: other characters become '_', cut to 128, no space at either end."""
    cleaned = "".join(c if _NAME_CHAR.fullmatch(c) else "_" for c in text)[:MAX_NAME].strip()
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

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCESS", "FAIL")
