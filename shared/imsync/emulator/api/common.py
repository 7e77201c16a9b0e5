"""What every operation shares: the caller, the handler signature, lookups with IMS's errors, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..model import Account, ImageRecord

if TYPE_CHECKING:
    from ..core import Emulator

Params = list[tuple[str, str]]
Result = tuple[int, Any]

LIST_LIMIT_DEFAULT = 500
LIST_LIMIT_MAX = 1000


@dataclass(frozen=True)
class Caller:
    """The account a request was signed by, and the region (or "iam") it was sent to."""

    account: Account
    region: str  # region id, or "iam"

    @property
    def project_id(self) -> str:
        return self.account.projects[self.region]


def first(params: Params, key: str) -> str | None:
    """The first value of query parameter `key`, or None."""
    for k, v in params:
        if k == key:
            return v
    return None


def bad_request(message: str, code: str = "IMG.0001") -> ApiError:
    """A 400 answer in IMS's error shape."""
    return ApiError(400, code, message)


def check_path_project(caller: Caller, project_id: str) -> None:
    """Refuse a URL naming another project than the caller's in this region."""
    if project_id != caller.project_id:
        raise ApiError(
            403,
            "IMG.0161",
            f"project {project_id} in the URL is not the caller's project in {caller.region}",
        )


def is_public(rec: ImageRecord) -> bool:
    return rec.image_type in ("gold", "market")


def visible(cloud: Emulator, rec: ImageRecord, caller: Caller) -> bool:
    """Whether the caller may see this image: its own, shared with it, or public, in this region."""
    if rec.region != caller.region or rec.deleted:  # the cheap test first: most images are in other regions
        return False
    if rec.visible_from and cloud.clock.now() < rec.visible_from:
        return False  # a copy not listed yet (Readings.copy_visible_after)
    return rec.owner is caller.account or caller.project_id in rec.members or is_public(rec)


def find_visible(cloud: Emulator, caller: Caller, image_id: str) -> ImageRecord:
    """The image if the caller may see it, else IMS's 404."""
    rec = cloud._images.get(image_id)
    if rec is None or not visible(cloud, rec, caller):
        raise ApiError(404, "IMG.0027", f"image {image_id} does not exist in {caller.region}")
    return rec


def find_own(cloud: Emulator, caller: Caller, image_id: str) -> ImageRecord:
    """The image if the caller owns it, else IMS's 404 or 403."""
    rec = find_visible(cloud, caller, image_id)
    if rec.owner is not caller.account:
        raise ApiError(403, "IMG.0161", f"image {image_id} belongs to another account")
    return rec


def private_count(cloud: Emulator, account: Account, region: str) -> int:
    """The private images that count against the account's quota in `region`."""
    return sum(
        1
        for r in cloud._images.values()
        if r.owner is account
        and r.region == region
        and r.image_type == "private"
        and r.status not in ("deleted", "killed")
    )


def parse_int(value: str | None, default: int, low: int, high: int, name: str) -> int:
    """An integer parameter within [low, high], `default` when absent."""
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError as exc:
        raise bad_request(f"{name} must be an integer") from exc
    if not low <= n <= high:
        raise bad_request(f"{name} must be between {low} and {high}")
    return n


def page_limit(cloud: Emulator, params: Params) -> int:
    """The `limit` of a listing, capped at the reading's page size."""
    limit = parse_int(first(params, "limit"), LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, "limit")
    return min(limit, cloud.readings.page_cap)


def paged(cloud: Emulator, answer: dict[str, Any], next_marker: str | None) -> dict[str, Any]:
    """Add page_info as the reading says: ListImagesResponse has it from SDK 3.1.216 on (Readings.page_info)."""
    if cloud.readings.page_info:
        answer["page_info"] = {"next_marker": next_marker} if next_marker else {}
    return answer
