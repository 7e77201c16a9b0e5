"""The IMS cross-region copy rules (README, "Tag an image"), one predicate each, with its source.

Sources: the IMS user guide page "Replicating an image across regions" (seed document, cited as
[guide]) and the IMS API reference for POST /v1/cloudimages/{image_id}/cross_region_copy ([api]).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from imsync.domain.model import STRICT_TAGS, TAG_IMS_REFUSED, Image, TagRules, region_hash

GIB = 1024**3
# [guide] 300 GB in these regions, 128 GB elsewhere.
LARGE_IMAGE_REGIONS = frozenset({"cn-south-1", "cn-east-2", "cn-east-3", "cn-north-4"})
LARGE_LIMIT_BYTES = 300 * GIB
DEFAULT_LIMIT_BYTES = 128 * GIB
# [guide] whole-ECS images can only be copied among these five regions.
WHOLE_IMAGE_REGIONS = frozenset({"cn-north-1", "cn-north-4", "cn-east-2", "cn-east-3", "cn-south-1"})


def size_limit(region: str) -> int:
    """Largest image IMS copies out of `region`, in bytes."""
    return LARGE_LIMIT_BYTES if region in LARGE_IMAGE_REGIONS else DEFAULT_LIMIT_BYTES


Rule = Callable[[Image, str, "CopyRules"], "str | None"]


def _owned(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide] only private images can be copied across regions. [API reference, "Querying images"] an image
    # its owner has shared shows __imagetype=shared, so ownership, not __imagetype, says it is private.
    if not image.owned:
        return (
            f"not owned by this account (shared with it, public or market: __imagetype={image.image_type}); "
            "only the account's own images can be copied across regions"
        )
    return None


def _not_iso(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide] ISO images cannot be copied across regions (IMS error IMG.0167).
    if image.iso:
        return "ISO images cannot be copied across regions; create a system disk image from an ECS first"
    return None


def _not_encrypted(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide] encrypted images cannot be copied across regions.
    if image.encrypted:
        return (
            "encrypted images cannot be copied across regions; "
            "create an unencrypted image from a server built from it, then tag that one"
        )
    return None


def _not_frozen(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide] frozen images cannot be copied.
    if image.frozen or image.status == "frozen":
        return "frozen images cannot be copied; unfreeze it (settle the account) and the next run copies it"
    return None


def _other_region(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [api] the destination must differ from the source region.
    if dest == image.region:
        return f"the image already lives in {dest}; only other regions need a replica"
    return None


def _size(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide] 300 GB in cn-south-1, cn-east-2, cn-east-3, cn-north-4; 128 GB elsewhere.
    limit = size_limit(image.region)
    if image.size_bytes > limit:
        return (
            f"the image is {image.size_bytes / GIB:.1f} GB; IMS copies at most {limit // GIB} GB "
            f"out of {image.region}; make a smaller image (move data to a data disk image)"
        )
    return None


def _whole_image(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide] whole-ECS images: only among five regions, and the destination needs a CBR vault.
    if not image.whole_image:
        return None
    if image.region not in WHOLE_IMAGE_REGIONS or dest not in WHOLE_IMAGE_REGIONS:
        return (
            "whole-ECS images can only be copied among "
            + ", ".join(sorted(WHOLE_IMAGE_REGIONS))
            + f" ({image.region} -> {dest} is not); create disk images from the server instead"
        )
    if dest not in rules.vaults:
        return f"copying a whole-ECS image to {dest} needs a CBR vault there: add it to IMSYNC_VAULTS"
    return None


def _not_windows(image: Image, dest: str, rules: CopyRules) -> str | None:
    # [guide, international edition of 2026-01-19] the cross-region copy API "will no longer be used to replicate
    # Windows images". Its scope is unclear, so IMSYNC_COPY_WINDOWS=true turns the check off.
    if image.os_type.strip().lower() == "windows" and not rules.copy_windows:
        return (
            "Windows images: IMS's cross-region copy page (2026-01-19) says the API will no longer be used to "
            "replicate Windows images; if IMS still copies them for this account, set IMSYNC_COPY_WINDOWS=true"
        )
    return None


RULES: tuple[Rule, ...] = (
    _owned,
    _not_iso,
    _not_encrypted,
    _not_frozen,
    _other_region,
    _size,
    _whole_image,
    _not_windows,
)


def ims_refusal(dest: str) -> str:
    """Why a copy IMS refused for good is not asked for again: the same words in the run IMS refused it and in
    every later one, so that its notice is one fact (notices.problem_hash), announced once."""
    return (
        f"IMS refused a copy to {dest} for a reason that does not pass with time (its answer is in the log of the "
        f"run it refused); imsync does not ask again: delete the source's {TAG_IMS_REFUSED} tag to try again"
    )


@dataclass(frozen=True)
class CopyRules:
    """The IMS rules for a deployment: its vaults, whether it copies Windows images, the tag rules it assumes."""

    vaults: Mapping[str, str] = field(default_factory=dict)
    tags: TagRules = STRICT_TAGS  # IMSYNC_TAG_RULES: which tags a replica may take over from its source
    copy_windows: bool = False  # IMSYNC_COPY_WINDOWS: ask IMS to copy Windows images anyway

    def refusal(self, image: Image, dest: str) -> str | None:
        """Why `image` can never be copied to `dest` as it is, or None."""
        for rule in RULES:
            if reason := rule(image, dest, self):
                return reason
        if region_hash(dest) in image.ims_refused:
            return ims_refusal(dest)
        return None

    @staticmethod
    def deferral(image: Image) -> str | None:
        """Why `image` cannot be copied yet but may be later, or None."""
        if image.in_progress:
            return f"the image is still being created ({image.status}); a later run copies it once active"
        if image.status != "active" and not image.frozen:
            return f"the image is {image.status}, not active; a later run copies it once active"
        return None

    @staticmethod
    def share_refusal(image: Image) -> str | None:
        """Why `image` cannot be shared, or None."""
        if image.encrypted:
            return "encrypted images cannot be shared (IMS IMG.0098)"
        if image.frozen:  # a listing may mark it only with __frozen, its status reading active
            return "frozen images cannot be shared; unfreeze it (settle the account) and the next run shares it"
        if not image.owned:
            return "not owned by this account (shared with it, public or market): only its owner can share it"
        return None
