"""Images: the listing (GET /v2/cloudimages), one image, and the private-image quota."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..model import ImageRecord
from .common import (
    Caller,
    Params,
    Result,
    bad_request,
    find_own,
    find_visible,
    first,
    is_public,
    page_limit,
    paged,
    private_count,
    visible,
)

if TYPE_CHECKING:
    from ..core import Emulator

# [Terraform provider]: listings ask for all_granted_eps to see every enterprise project's images.
ALL_GRANTED_EPS = "all_granted_eps"


def image_type_for(cloud: Emulator, rec: ImageRecord, caller: Caller) -> str:
    """The __imagetype this caller sees: public types as they are, "shared" for others' images."""
    if is_public(rec):
        return rec.image_type
    if rec.owner is not caller.account:
        return "shared"
    # [IMS API reference, "Querying images"]: an image its owner has shared shows "shared" (a Readings switch).
    if rec.members and rec.image_type == "private" and cloud.readings.owner_shared_type == "shared":
        return "shared"
    return rec.image_type


def shown_status(cloud: Emulator, rec: ImageRecord) -> str:
    """The status a listing shows: a frozen image reads "frozen" unless the reading hides it (frozen_shape)."""
    return rec.shown_status if cloud.readings.frozen_shape == "status" else rec.status


def _iso_env(cloud: Emulator, rec: ImageRecord) -> str:
    return "IsoImage" if rec.iso and cloud.readings.iso_shape == "both" else "FusionCompute"


def image_json(cloud: Emulator, rec: ImageRecord, caller: Caller) -> dict[str, Any]:
    """An image as GET /v2/cloudimages and GET /v2/images/{id} show it (SDK ImageInfo keys)."""
    itype = image_type_for(cloud, rec, caller)
    visibility = "public" if is_public(rec) else ("shared" if itype == "shared" else "private")
    out: dict[str, Any] = {
        "id": rec.id,
        "name": rec.name,
        "status": shown_status(cloud, rec),
        "visibility": visibility,
        "owner": rec.owner_project,
        "protected": False,
        "tags": [f"{k}.{v}" for k, v in rec.tags.items()],
        "created_at": rec.created_at,
        "updated_at": rec.updated_at,
        "min_disk": rec.min_disk,
        "min_ram": 0,
        "disk_format": "iso" if rec.iso else "zvhd2",
        "container_format": "bare",
        "virtual_env_type": _iso_env(cloud, rec),
        "__imagetype": itype,
        "__image_size": str(rec.size_bytes),
        "__image_source_type": "uds",
        "__os_type": rec.os_type,
        "__platform": rec.platform,
        "__os_version": rec.os_version,
        "__os_bit": "64",
        "__isregistered": "true",
        "__whole_image": "true" if rec.whole_image else "false",
        "__description": rec.description,
        "__lazyloading": "true",
        "enterprise_project_id": rec.enterprise_project_id,
        "self": f"/v2/images/{rec.id}",
        "file": f"/v2/images/{rec.id}/file",
        "schema": "/v2/schemas/image",
    }
    if rec.encrypted:
        out["__system__cmkid"] = rec.cmk_id
    if rec.whole_image:
        out["__backup_id"] = rec.backup_id
    if rec.frozen and cloud.readings.frozen_shape != "hidden":
        out["__frozen"] = "true"
    if rec.status == "active":
        out["active_at"] = rec.updated_at
    return out


_TIME_OPS: dict[str, Callable[[str, str], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}


def _time_filter(spec: str) -> Callable[[str], bool]:
    op, _, value = spec.partition(":")
    if op not in _TIME_OPS or not value:
        raise bad_request(f"time filter {spec!r} must look like gt:2018-10-28T10:00:00Z")
    cmp = _TIME_OPS[op]
    return lambda t: cmp(t, value)


def list_images(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """GET /v2/cloudimages: the images the caller may see, filtered, sorted and paged."""
    limit = page_limit(cloud, params)
    eps = first(params, "enterprise_project_id")
    member_status = first(params, "member_status")
    if member_status not in (None, "accepted", "rejected", "pending", "all"):
        raise bad_request("member_status must be accepted, rejected, pending or all")
    # [SDK ListImagesRequest.member_status docstring; ims_03_0702]: "visibility=shared" must go with it.
    if member_status and first(params, "visibility") != "shared" and cloud.readings.member_status_needs_visibility:
        raise bad_request("member_status needs visibility=shared (and __imagetype=shared) in the same query")
    simple = {
        "__imagetype": lambda r: image_type_for(cloud, r, caller),
        "status": lambda r: shown_status(cloud, r),
        "name": lambda r: r.name,
        "id": lambda r: r.id,
        "owner": lambda r: r.owner_project,
        "__os_type": lambda r: r.os_type,
        "__platform": lambda r: r.platform,
        "__whole_image": lambda r: "true" if r.whole_image else "false",
        "virtual_env_type": lambda r: _iso_env(cloud, r),
        "visibility": lambda r: image_json(cloud, r, caller)["visibility"],
    }
    wanted = {k: first(params, k) for k in simple if first(params, k) is not None}
    tag = first(params, "tag")
    time_filters = [
        (attr, _time_filter(v)) for attr in ("created_at", "updated_at") if (v := first(params, attr)) is not None
    ]
    found = []
    for rec in cloud._images.values():
        if not visible(cloud, rec, caller):
            continue
        if not _in_enterprise_projects(cloud, rec, eps):
            continue
        if rec.owner is not caller.account and not is_public(rec):
            mine = rec.members.get(caller.project_id)
            if (member_status or "accepted") != "all" and mine != (member_status or "accepted"):
                continue
        if any(simple[k](rec) != v for k, v in wanted.items()):
            continue
        if tag is not None:
            key, _, value = tag.partition(".")
            if rec.tags.get(key) != value:
                continue
        if any(not f(getattr(rec, attr)) for attr, f in time_filters):
            continue
        found.append(rec)
    sort_key = first(params, "sort_key") or "created_at"
    sort_dir = first(params, "sort_dir") or "desc"
    if sort_key not in ("created_at", "name", "updated_at", "id") or sort_dir not in ("asc", "desc"):
        raise bad_request("sort_key must be created_at, updated_at, name or id; sort_dir asc or desc")

    timestamp = {"created_at": "created_ts", "updated_at": "updated_ts"}.get(sort_key, sort_key)

    def sort_value(r: ImageRecord) -> tuple[Any, int]:
        # The raw timestamp, not the ISO text: formatting it for every image on every page was the main cost.
        return getattr(r, timestamp), r.seq

    found.sort(key=sort_value, reverse=sort_dir == "desc")
    marker = first(params, "marker")
    if marker:
        ids = [r.id for r in found]
        if marker not in ids:
            raise bad_request(f"marker {marker} is not an image of this listing")
        found = found[ids.index(marker) + 1 :]
    page = found[:limit]
    out: dict[str, Any] = {"images": [image_json(cloud, r, caller) for r in page]}
    return 200, paged(cloud, out, page[-1].id if len(found) > limit else None)


def _in_enterprise_projects(cloud: Emulator, rec: ImageRecord, eps: str | None) -> bool:
    if eps == ALL_GRANTED_EPS:
        return True
    if eps is None:
        return rec.enterprise_project_id == "0" or not cloud.readings.eps_need_parameter
    return rec.enterprise_project_id == eps


def glance_show_image(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    """GET /v2/images/{image_id}: one image the caller may see."""
    return 200, image_json(cloud, find_visible(cloud, caller, image_id), caller)


def show_image_quota(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """GET /v1/cloudimages/quota: the private-image quota of this region."""
    used = private_count(cloud, caller.account, caller.region)
    res = {"type": "image", "used": used, "quota": cloud.image_quota, "min": 1, "max": cloud.image_quota}
    return 200, {"quotas": {"resources": [res]}}


# [IMS API reference, "Updating image information" (ims_03_0604), PATCH /v2/cloudimages/{image_id}]: a list of
# {op: add|replace|remove, path: "/<attribute>", value}; only active images may be changed. The description:
# at most 1024 characters, no carriage return and no < > [same page; SDK UpdateImageRequestBody docstring].
_UPDATABLE = {"/name", "/__description"}
_DESCRIPTION_FORBIDDEN = set("<>\r\n")


def update_image(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    """PATCH /v2/cloudimages/{image_id}: change an own image's name or description."""
    rec = find_own(cloud, caller, image_id)
    if not isinstance(data, list) or not data:
        raise bad_request('body must be a list of {"op": "replace", "path": "/__description", "value": ...}')
    if rec.status != "active":
        raise bad_request(f"the image is {rec.status}; only active images can be changed", "IMG.0026")
    for change in data:
        if (
            not isinstance(change, dict)
            or change.get("op") not in ("add", "replace")
            or change.get("path") not in _UPDATABLE
        ):
            raise bad_request("each change must replace /name or /__description")
        value = change.get("value")
        if not isinstance(value, str):
            raise bad_request(f"{change['path']}: value must be a string")
        if change["path"] == "/__description":
            if len(value) > 1024 or _DESCRIPTION_FORBIDDEN & set(value):
                raise bad_request("the description is at most 1024 characters, without < > or line breaks")
            rec.description = value
        else:
            if len(value) > 128 or not value.strip() or value != value.strip():
                raise bad_request("name must be 1-128 characters without a space at either end")
            rec.name = value
    rec.updated_ts = cloud.clock.now()
    return 200, image_json(cloud, rec, caller)


def glance_delete_image(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    """DELETE /v2/images/{image_id}: the owner deletes a private image; 204, and it leaves every listing.

    [IMS API reference, "Deleting an image (native OpenStack API)"; SDK GlanceDeleteImage; the Terraform provider's
    image resource deletes with it, then reads until 404]. An image another account owns: 403 (find_own). What IMS
    does with an image that still has members is not documented: Readings.delete_shared.
    """
    rec = find_own(cloud, caller, image_id)
    if rec.members and cloud.readings.delete_shared == "refused":
        raise ApiError(400, "IMG.0091", f"image {image_id} is shared with other projects: remove its members first")
    if rec.status in ("queued", "saving"):
        # [OpenStack Image API, delete image]: allowed in any status but deleted; IMS's copy job owns a copy in
        # progress, so the emulator refuses it (an assumption; imsync never deletes an image in progress).
        raise ApiError(409, "IMG.0097", f"image {image_id} is {rec.status}: wait until it is active")
    rec.status = "deleted"
    rec.members.clear()  # recipients lose it with it (deleted images are visible to nobody)
    rec.member_times.clear()
    return 204, None
