"""Image tags: read, add, batch create or delete, delete one, and the search by tags."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..model import ImageRecord
from ..readings import RELAXED_TAGS, STRICT_TAGS
from .common import Caller, Params, Result, bad_request, check_path_project, find_own, parse_int

if TYPE_CHECKING:
    from ..core import Emulator

_CJK = "\u4e00-\u9fff"  # Chinese characters: allowed in keys and values under both readings
# Tag limits under each reading (emulator/readings.py: tag_rules): count, key pattern, value pattern.
TAG_RULES: dict[str, tuple[int, re.Pattern[str], re.Pattern[str]]] = {
    # [IMS API reference (international), ims_03_0902, 2025]: 10 tags; key 1-36 letters, digits, _ and - (no
    # "."); value 0-43 of those and "."; Chinese characters in both.
    STRICT_TAGS: (
        10,
        re.compile(f"^[A-Za-z0-9_\\-{_CJK}]{{1,36}}$"),
        re.compile(f"^[A-Za-z0-9_.\\-{_CJK}]{{0,43}}$"),
    ),
    # [IMS tag-format page, newer Chinese edition]: 20 tags; key 1-128 with _ . : + - @ and space; value 0-255
    # of those and "/"; Chinese characters in both.
    RELAXED_TAGS: (
        20,
        re.compile(f"^[A-Za-z0-9_.:+@ \\-{_CJK}]{{1,128}}$"),
        re.compile(f"^[A-Za-z0-9_.:/+@ \\-{_CJK}]{{0,255}}$"),
    ),
}


def _check_tag(cloud: Emulator, key: Any, value: Any) -> tuple[str, str]:
    _, key_re, value_re = TAG_RULES[cloud.readings.tag_rules]
    if not isinstance(key, str) or not key_re.fullmatch(key):
        raise bad_request(f"tag key {key!r} does not match {key_re.pattern}", "IMG.0115")
    value = "" if value is None else value
    if not isinstance(value, str) or not value_re.fullmatch(value):
        raise bad_request(f"tag value {value!r} does not match {value_re.pattern}", "IMG.0115")
    return key, value


def _put_tags(cloud: Emulator, rec: ImageRecord, tags: list[tuple[str, str]]) -> None:
    # unknown: whether a copy still queued or saving takes tags (Readings.tag_saving_copy); code: assumption.
    if rec.status in ("queued", "saving") and not cloud.readings.tag_saving_copy:
        raise bad_request(f"image {rec.id} is {rec.status}; tags can be added once it is active", "IMG.0026")
    merged = dict(rec.tags)
    merged.update(tags)
    most = TAG_RULES[cloud.readings.tag_rules][0]
    if len(merged) > most:
        raise bad_request(f"an image has at most {most} tags ({len(merged)} requested)", "IMG.0116")
    rec.tags = merged
    rec.updated_ts = cloud.clock.now()


def list_image_tags(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str
) -> Result:
    """GET /v2/{project_id}/images/{image_id}/tags: an own image's tags."""
    check_path_project(caller, project_id)
    rec = find_own(cloud, caller, image_id)
    return 200, {"tags": [{"key": k, "value": v} for k, v in rec.tags.items()]}


def add_image_tag(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str) -> Result:
    """POST /v2/{project_id}/images/{image_id}/tags: add or overwrite one tag."""
    check_path_project(caller, project_id)
    rec = find_own(cloud, caller, image_id)
    tag = (data or {}).get("tag")
    if not isinstance(tag, dict):
        raise bad_request('body must be {"tag": {"key": ..., "value": ...}}')
    _put_tags(cloud, rec, [_check_tag(cloud, tag.get("key"), tag.get("value"))])
    return 204, None


def batch_add_or_delete_tags(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str
) -> Result:
    """POST /v2/{project_id}/images/{image_id}/tags/action: create or delete tags.

    [IMS API reference, ims_03_0617]: idempotent: a created key that is there takes the new value; deleting a
    tag that is not there succeeds.
    """
    check_path_project(caller, project_id)
    rec = find_own(cloud, caller, image_id)
    body = data or {}
    action, tags = body.get("action"), body.get("tags")
    if action not in ("create", "delete") or not isinstance(tags, list) or not tags:
        raise bad_request('body must be {"action": "create"|"delete", "tags": [{"key", "value"}, ...]}')
    if action == "create":
        _put_tags(cloud, rec, [_check_tag(cloud, t.get("key"), t.get("value")) for t in tags])
    else:
        for t in tags:
            rec.tags.pop(str(t.get("key")), None)
        rec.updated_ts = cloud.clock.now()
    return 204, None


def delete_image_tag(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str, key: str
) -> Result:
    """DELETE /v2/{project_id}/images/{image_id}/tags/{key}: remove one tag."""
    check_path_project(caller, project_id)
    rec = find_own(cloud, caller, image_id)
    if key not in rec.tags:
        raise ApiError(404, "IMG.0117", f"image {image_id} has no tag {key!r}")
    del rec.tags[key]
    rec.updated_ts = cloud.clock.now()
    return 204, None


def _tag_match(rec: ImageRecord, spec: Any) -> bool:
    if not isinstance(spec, dict) or "key" not in spec:
        raise bad_request('each tag filter is {"key": ..., "values": [...]}')
    if spec["key"] not in rec.tags:
        return False
    values = spec.get("values") or []
    return not values or rec.tags[spec["key"]] in values


def list_image_by_tags(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str) -> Result:
    """POST /v2/{project_id}/images/resource_instances/action: own images by tags."""
    check_path_project(caller, project_id)
    body = data or {}
    action = body.get("action")
    if action not in ("filter", "count"):
        raise bad_request("action must be filter or count")
    limit = parse_int(str(body.get("limit") or ""), 1000, 1, 1000, "limit")
    offset = parse_int(str(body.get("offset") or ""), 0, 0, 10**9, "offset")
    found = []
    for rec in sorted(cloud._images.values(), key=lambda r: r.seq):
        if rec.owner is not caller.account or rec.region != caller.region or rec.deleted:
            continue
        if body.get("without_any_tag"):
            if rec.tags:
                continue
        else:
            if body.get("tags") and not all(_tag_match(rec, t) for t in body["tags"]):
                continue
            if body.get("tags_any") and not any(_tag_match(rec, t) for t in body["tags_any"]):
                continue
            if body.get("not_tags") and all(_tag_match(rec, t) for t in body["not_tags"]):
                continue
            if body.get("not_tags_any") and any(_tag_match(rec, t) for t in body["not_tags_any"]):
                continue
        matches = body.get("matches") or []
        if any(m.get("key") == "resource_name" and str(m.get("value", "")) not in rec.name for m in matches):
            continue
        found.append(rec)
    if action == "count":
        return 200, {"total_count": len(found)}
    page = found[offset : offset + limit]
    resources = [
        {
            "resource_id": r.id,
            "resource_name": r.name,
            "resource_detail": {"status": r.shown_status},
            "tags": [{"key": k, "value": v} for k, v in r.tags.items()],
        }
        for r in page
    ]
    return 200, {"resources": resources, "total_count": len(found)}
