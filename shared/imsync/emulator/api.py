"""The IMS and IAM operations the emulator serves, with the IMS rules (see docs/emulator.md)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .errors import ApiError
from .model import GB, Account, Agency, ImageRecord, Job, iso
from .readings import RELAXED_TAGS, STRICT_TAGS
from .signing import SignatureError, parse_authorization, verify

if TYPE_CHECKING:
    from .core import Emulator

Params = list[tuple[str, str]]
Result = tuple[int, Any]

# [doc: IMS user guide, "Replicating images across regions"] size limits and whole-image regions.
LARGE_COPY_REGIONS = frozenset({"cn-south-1", "cn-east-2", "cn-east-3", "cn-north-4"})
LARGE_COPY_LIMIT_GB = 300
DEFAULT_COPY_LIMIT_GB = 128
WHOLE_IMAGE_COPY_REGIONS = frozenset({"cn-north-1", "cn-north-4", "cn-east-2", "cn-east-3", "cn-south-1"})
# [doc: IMS API "Adding image members"] 128 tenants per image, 10 for a whole-ECS image.
MAX_MEMBERS = 128
MAX_MEMBERS_WHOLE_IMAGE = 10
# Tag limits under each reading (emulator/readings.py: tag_rules): count, key pattern, value pattern.
TAG_RULES: dict[str, tuple[int, re.Pattern[str], re.Pattern[str]]] = {
    # [IMS API reference, "Adding or deleting image tags in batches"]
    STRICT_TAGS: (10, re.compile(r"^[A-Za-z0-9_.\-]{1,36}$"), re.compile(r"^[A-Za-z0-9_.\-]{0,43}$")),
    # [IMS "tag format" page]
    RELAXED_TAGS: (20, re.compile(r"^[A-Za-z0-9_.:+@ \-]{1,128}$"), re.compile(r"^[A-Za-z0-9_.:+@ \-]{0,255}$")),
}
LIST_LIMIT_DEFAULT = 500
LIST_LIMIT_MAX = 1000
# [Terraform provider]: listings ask for all_granted_eps to see every enterprise project's images.
ALL_GRANTED_EPS = "all_granted_eps"
COPY_JOB_TYPE = "copyImageCrossRegion"
TRUST_DOMAIN_ID = "0" * 24 + "1ms5e7c0"


@dataclass(frozen=True)
class Caller:
    account: Account
    region: str  # region id, or "iam"

    @property
    def project_id(self) -> str:
        return self.account.projects[self.region]


# -- authentication ------------------------------------------------------------------------------
def authenticate(
    cloud: Emulator, region: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> Caller:
    """Check the AK/SK signature, the security token and X-Project-Id / X-Domain-Id."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        auth = parse_authorization(lower.get("authorization"))
        with cloud._lock:
            cred = cloud._credentials.get(auth.ak)
        if cred is None:
            raise SignatureError(f"the access key {auth.ak[:4]}... does not exist")
        verify(cred.sk, auth, method, path, query, headers, body, time.time())
    except SignatureError as exc:
        raise ApiError(401, "APIGW.0301", f"Incorrect IAM authentication information: {exc}", "apigw") from exc
    acc = cred.account
    if cred.token is not None:
        if lower.get("x-security-token") != cred.token:
            raise ApiError(401, "APIGW.0301", "Incorrect IAM authentication information: bad security token", "apigw")
        if cred.expires_at is not None and cloud.clock.now() >= cred.expires_at:
            raise ApiError(401, "APIGW.0307", "The token must be updated: the security token has expired", "apigw")
    if region == "iam":
        dom = lower.get("x-domain-id")
        if dom and dom != acc.domain_id:
            raise ApiError(401, "APIGW.0301", "X-Domain-Id is not the caller's account", "apigw")
        return Caller(acc, region)
    pid = lower.get("x-project-id")
    if pid and acc.projects.get(region) != pid:
        where = cloud.project_owner(pid)
        why = "unknown project" if where is None else f"a project of region {where[1]} or of another account"
        raise ApiError(401, "APIGW.0301", f"Incorrect IAM authentication information: X-Project-Id is {why}", "apigw")
    return Caller(acc, region)


# -- routing -------------------------------------------------------------------------------------
Handler = Callable[..., Result]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    func: Handler


@dataclass(frozen=True)
class BoundRoute:
    operation: str
    func: Handler
    kwargs: dict[str, str]

    def call(self, cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
        with cloud._lock:
            cloud._tick()
            return self.func(cloud, caller, params, data, **self.kwargs)


_IMS_ROUTES: list[Route] = []
_IAM_ROUTES: list[Route] = []


def _route(table: list[Route], method: str, template: str, operation: str) -> Callable[[Handler], Handler]:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$"

    def deco(func: Handler) -> Handler:
        table.append(Route(method, re.compile(regex), operation, func))
        return func

    return deco


def ims(method: str, template: str, operation: str) -> Callable[[Handler], Handler]:
    return _route(_IMS_ROUTES, method, template, operation)


def iam(method: str, template: str, operation: str) -> Callable[[Handler], Handler]:
    return _route(_IAM_ROUTES, method, template, operation)


def route(region: str, method: str, path: str) -> BoundRoute | None:
    """The operation for this request, with its path parameters, or None."""
    table = _IAM_ROUTES if region == "iam" else _IMS_ROUTES
    for r in table:
        if r.method != method:
            continue
        m = r.pattern.match(path)
        if m:
            return BoundRoute(r.operation, r.func, {k: unquote(v) for k, v in m.groupdict().items()})
    return None


# -- helpers -------------------------------------------------------------------------------------
def _first(params: Params, key: str) -> str | None:
    for k, v in params:
        if k == key:
            return v
    return None


def _bad(message: str, code: str = "IMG.0001") -> ApiError:
    return ApiError(400, code, message)


def _check_path_project(caller: Caller, project_id: str) -> None:
    if project_id != caller.project_id:
        raise ApiError(
            403,
            "IMG.0161",
            f"project {project_id} in the URL is not the caller's project in {caller.region}",
        )


def _is_public(rec: ImageRecord) -> bool:
    return rec.image_type in ("gold", "market")


def _visible(cloud: Emulator, rec: ImageRecord, caller: Caller) -> bool:
    if rec.region != caller.region or rec.deleted:  # the cheap test first: most images are in other regions
        return False
    if rec.visible_from and cloud.clock.now() < rec.visible_from:
        return False  # a copy not listed yet (Readings.copy_visible_after)
    return rec.owner is caller.account or caller.project_id in rec.members or _is_public(rec)


def _find_visible(cloud: Emulator, caller: Caller, image_id: str) -> ImageRecord:
    rec = cloud._images.get(image_id)
    if rec is None or not _visible(cloud, rec, caller):
        raise ApiError(404, "IMG.0027", f"image {image_id} does not exist in {caller.region}")
    return rec


def _find_own(cloud: Emulator, caller: Caller, image_id: str) -> ImageRecord:
    rec = _find_visible(cloud, caller, image_id)
    if rec.owner is not caller.account:
        raise ApiError(403, "IMG.0161", f"image {image_id} belongs to another account")
    return rec


def image_type_for(cloud: Emulator, rec: ImageRecord, caller: Caller) -> str:
    if _is_public(rec):
        return rec.image_type
    if rec.owner is not caller.account:
        return "shared"
    # [IMS API reference, "Querying images"]: an image its owner has shared shows "shared" (a Readings switch).
    if rec.members and rec.image_type == "private" and cloud.readings.owner_shared_type == "shared":
        return "shared"
    return rec.image_type


def image_json(cloud: Emulator, rec: ImageRecord, caller: Caller) -> dict[str, Any]:
    """An image as GET /v2/cloudimages and GET /v2/images/{id} show it (SDK ImageInfo keys)."""
    itype = image_type_for(cloud, rec, caller)
    visibility = "public" if _is_public(rec) else ("shared" if itype == "shared" else "private")
    out: dict[str, Any] = {
        "id": rec.id,
        "name": rec.name,
        "status": rec.shown_status,
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
        "virtual_env_type": "IsoImage" if rec.iso else "FusionCompute",
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
    if rec.frozen:
        out["__frozen"] = "true"
    if rec.status == "active":
        out["active_at"] = rec.updated_at
    return out


def _parse_int(value: str | None, default: int, low: int, high: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError as exc:
        raise _bad(f"{name} must be an integer") from exc
    if not low <= n <= high:
        raise _bad(f"{name} must be between {low} and {high}")
    return n


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
        raise _bad(f"time filter {spec!r} must look like gt:2018-10-28T10:00:00Z")
    cmp = _TIME_OPS[op]
    return lambda t: cmp(t, value)


# -- IMS: images ---------------------------------------------------------------------------------
@ims("GET", "/v2/cloudimages", "list_images")
def list_images(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    limit = _parse_int(_first(params, "limit"), LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, "limit")
    limit = min(limit, cloud.readings.page_cap)
    eps = _first(params, "enterprise_project_id")
    member_status = _first(params, "member_status")
    if member_status not in (None, "accepted", "rejected", "pending", "all"):
        raise _bad("member_status must be accepted, rejected, pending or all")
    simple = {
        "__imagetype": lambda r: image_type_for(cloud, r, caller),
        "status": lambda r: r.shown_status,
        "name": lambda r: r.name,
        "id": lambda r: r.id,
        "owner": lambda r: r.owner_project,
        "__os_type": lambda r: r.os_type,
        "__platform": lambda r: r.platform,
        "__whole_image": lambda r: "true" if r.whole_image else "false",
        "virtual_env_type": lambda r: "IsoImage" if r.iso else "FusionCompute",
        "visibility": lambda r: image_json(cloud, r, caller)["visibility"],
    }
    wanted = {k: _first(params, k) for k in simple if _first(params, k) is not None}
    tag = _first(params, "tag")
    time_filters = [
        (attr, _time_filter(v)) for attr in ("created_at", "updated_at") if (v := _first(params, attr)) is not None
    ]
    found = []
    for rec in cloud._images.values():
        if not _visible(cloud, rec, caller):
            continue
        if not _in_enterprise_projects(cloud, rec, eps):
            continue
        if rec.owner is not caller.account and not _is_public(rec):
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
    sort_key = _first(params, "sort_key") or "created_at"
    sort_dir = _first(params, "sort_dir") or "desc"
    if sort_key not in ("created_at", "name", "updated_at", "id") or sort_dir not in ("asc", "desc"):
        raise _bad("sort_key must be created_at, updated_at, name or id; sort_dir asc or desc")

    timestamp = {"created_at": "created_ts", "updated_at": "updated_ts"}.get(sort_key, sort_key)

    def sort_value(r: ImageRecord) -> tuple[Any, int]:
        # The raw timestamp, not the ISO text: formatting it for every image on every page was the main cost.
        return getattr(r, timestamp), r.seq

    found.sort(key=sort_value, reverse=sort_dir == "desc")
    marker = _first(params, "marker")
    if marker:
        ids = [r.id for r in found]
        if marker not in ids:
            raise _bad(f"marker {marker} is not an image of this listing")
        found = found[ids.index(marker) + 1 :]
    page = found[:limit]
    out: dict[str, Any] = {"images": [image_json(cloud, r, caller) for r in page]}
    return 200, _paged(cloud, out, page[-1].id if len(found) > limit else None)


def _paged(cloud: Emulator, answer: dict[str, Any], next_marker: str | None) -> dict[str, Any]:
    """Add page_info as the reading says: only SDK 3.1.219's model has it (Readings.page_info)."""
    if cloud.readings.page_info:
        answer["page_info"] = {"next_marker": next_marker} if next_marker else {}
    return answer


def _in_enterprise_projects(cloud: Emulator, rec: ImageRecord, eps: str | None) -> bool:
    if eps == ALL_GRANTED_EPS:
        return True
    if eps is None:
        return rec.enterprise_project_id == "0" or not cloud.readings.eps_need_parameter
    return rec.enterprise_project_id == eps


@ims("GET", "/v2/images/{image_id}", "glance_show_image")
def glance_show_image(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    return 200, image_json(cloud, _find_visible(cloud, caller, image_id), caller)


@ims("DELETE", "/v2/images/{image_id}", "glance_delete_image")
def glance_delete_image(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    rec = _find_own(cloud, caller, image_id)
    rec.status = "deleted"
    rec.updated_ts = cloud.clock.now()
    return 204, None


@ims("GET", "/v1/cloudimages/quota", "show_image_quota")
def show_image_quota(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    used = _private_count(cloud, caller.account, caller.region)
    res = {"type": "image", "used": used, "quota": cloud.image_quota, "min": 1, "max": cloud.image_quota}
    return 200, {"quotas": {"resources": [res]}}


def _private_count(cloud: Emulator, account: Account, region: str) -> int:
    return sum(
        1
        for r in cloud._images.values()
        if r.owner is account
        and r.region == region
        and r.image_type == "private"
        and r.status not in ("deleted", "killed")
    )


# -- IMS: tags -----------------------------------------------------------------------------------
def _check_tag(cloud: Emulator, key: Any, value: Any) -> tuple[str, str]:
    _, key_re, value_re = TAG_RULES[cloud.readings.tag_rules]
    if not isinstance(key, str) or not key_re.match(key):
        raise _bad(f"tag key {key!r} does not match {key_re.pattern}", "IMG.0115")
    value = "" if value is None else value
    if not isinstance(value, str) or not value_re.match(value):
        raise _bad(f"tag value {value!r} does not match {value_re.pattern}", "IMG.0115")
    return key, value


def _put_tags(cloud: Emulator, rec: ImageRecord, tags: list[tuple[str, str]]) -> None:
    merged = dict(rec.tags)
    merged.update(tags)
    most = TAG_RULES[cloud.readings.tag_rules][0]
    if len(merged) > most:
        raise _bad(f"an image has at most {most} tags ({len(merged)} requested)", "IMG.0116")
    rec.tags = merged
    rec.updated_ts = cloud.clock.now()


@ims("GET", "/v2/{project_id}/images/tags", "list_images_tags")
def list_images_tags(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str) -> Result:
    _check_path_project(caller, project_id)
    values: dict[str, list[str]] = {}
    for rec in cloud._images.values():
        if rec.owner is caller.account and rec.region == caller.region and not rec.deleted:
            for k, v in rec.tags.items():
                if v not in values.setdefault(k, []):
                    values[k].append(v)
    return 200, {"tags": [{"key": k, "values": v} for k, v in sorted(values.items())]}


@ims("GET", "/v2/{project_id}/images/{image_id}/tags", "list_image_tags")
def list_image_tags(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str
) -> Result:
    _check_path_project(caller, project_id)
    rec = _find_own(cloud, caller, image_id)
    return 200, {"tags": [{"key": k, "value": v} for k, v in rec.tags.items()]}


@ims("POST", "/v2/{project_id}/images/{image_id}/tags", "add_image_tag")
def add_image_tag(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str) -> Result:
    _check_path_project(caller, project_id)
    rec = _find_own(cloud, caller, image_id)
    tag = (data or {}).get("tag")
    if not isinstance(tag, dict):
        raise _bad('body must be {"tag": {"key": ..., "value": ...}}')
    _put_tags(cloud, rec, [_check_tag(cloud, tag.get("key"), tag.get("value"))])
    return 204, None


@ims("POST", "/v2/{project_id}/images/{image_id}/tags/action", "batch_add_or_delete_tags")
def batch_add_or_delete_tags(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str
) -> Result:
    _check_path_project(caller, project_id)
    rec = _find_own(cloud, caller, image_id)
    body = data or {}
    action, tags = body.get("action"), body.get("tags")
    if action not in ("create", "delete") or not isinstance(tags, list) or not tags:
        raise _bad('body must be {"action": "create"|"delete", "tags": [{"key", "value"}, ...]}')
    if action == "create":
        _put_tags(cloud, rec, [_check_tag(cloud, t.get("key"), t.get("value")) for t in tags])
    else:
        for t in tags:
            rec.tags.pop(str(t.get("key")), None)
        rec.updated_ts = cloud.clock.now()
    return 204, None


@ims("DELETE", "/v2/{project_id}/images/{image_id}/tags/{key}", "delete_image_tag")
def delete_image_tag(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str, key: str
) -> Result:
    _check_path_project(caller, project_id)
    rec = _find_own(cloud, caller, image_id)
    if key not in rec.tags:
        raise ApiError(404, "IMG.0117", f"image {image_id} has no tag {key!r}")
    del rec.tags[key]
    rec.updated_ts = cloud.clock.now()
    return 204, None


@ims("PUT", "/v1/cloudimages/tags", "create_or_update_tags")
def create_or_update_tags(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    body = data or {}
    rec = _find_own(cloud, caller, str(body.get("image_id")))
    if isinstance(body.get("image_tag"), dict):
        tag = _check_tag(cloud, body["image_tag"].get("key"), body["image_tag"].get("value"))
    elif isinstance(body.get("tag"), str):
        key, _, value = body["tag"].partition(".")
        tag = _check_tag(cloud, key, value)
    else:
        raise _bad('body needs image_tag {key, value} or tag "key.value"')
    _put_tags(cloud, rec, [tag])
    return 204, None


def _tag_match(rec: ImageRecord, spec: Any) -> bool:
    if not isinstance(spec, dict) or "key" not in spec:
        raise _bad('each tag filter is {"key": ..., "values": [...]}')
    if spec["key"] not in rec.tags:
        return False
    values = spec.get("values") or []
    return not values or rec.tags[spec["key"]] in values


@ims("POST", "/v2/{project_id}/images/resource_instances/action", "list_image_by_tags")
def list_image_by_tags(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str) -> Result:
    _check_path_project(caller, project_id)
    body = data or {}
    action = body.get("action")
    if action not in ("filter", "count"):
        raise _bad("action must be filter or count")
    limit = _parse_int(str(body.get("limit") or ""), 1000, 1, 1000, "limit")
    offset = _parse_int(str(body.get("offset") or ""), 0, 0, 10**9, "offset")
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


# -- IMS: cross-region copy and jobs -------------------------------------------------------------
def _has_ims_role(agency: Agency, project_id: str) -> bool:
    from .core import IMS_COPY_ROLES

    return any(role in IMS_COPY_ROLES for role in agency.grants.get(project_id, []))


def copy_refusal(cloud: Emulator, rec: ImageRecord, dest: str, vault_id: str | None) -> ApiError | None:
    """The synchronous refusal for copying `rec` to `dest`, or None (rule sources in docs/emulator.md)."""
    src = rec.region
    if dest == src:
        return _bad("the destination region must differ from the source region", "IMG.0146")
    if rec.image_type != "private":
        return ApiError(403, "IMG.0161", "only private images can be copied across regions")
    if rec.iso:
        return _bad("ISO images cannot be copied across regions", "IMG.0167")
    if rec.encrypted:
        return _bad("encrypted images cannot be copied across regions", "IMG.0197")
    if rec.frozen:
        return _bad("frozen images cannot be copied", "IMG.0168")
    if rec.status != "active":
        return _bad(f"the image is {rec.status}; only active images can be copied", "IMG.0026")
    limit = LARGE_COPY_LIMIT_GB if src in LARGE_COPY_REGIONS else DEFAULT_COPY_LIMIT_GB
    if rec.size_bytes > limit * GB:
        return _bad(f"images over {limit} GB cannot be copied from {src}", "IMG.0136")
    if rec.whole_image:
        if src not in WHOLE_IMAGE_COPY_REGIONS or dest not in WHOLE_IMAGE_COPY_REGIONS:
            return _bad(
                "whole-ECS images can only be copied among " + ", ".join(sorted(WHOLE_IMAGE_COPY_REGIONS)),
                "IMG.0130",
            )
        if not vault_id:
            return _bad("copying a whole-ECS image needs vault_id (a CBR vault in the destination)", "IMG.0130")
    return None


@ims("POST", "/v1/cloudimages/{image_id}/cross_region_copy", "copy_image_cross_region")
def copy_image_cross_region(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    rec = _find_own(cloud, caller, image_id)
    body = data or {}
    for field in ("name", "region", "project_name", "agency_name"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise _bad(f"{field} is required")
    name, dest = body["name"], body["region"]
    if len(name) > 128:
        raise _bad("name is at most 128 characters")
    if dest not in cloud.regions:
        raise _bad(f"region {dest!r} is not a valid destination", "IMG.0145")
    if body["project_name"] != dest:
        raise _bad(f"project_name {body['project_name']!r} is not a project of region {dest}", "IMG.0145")
    description = body.get("description") or ""
    if len(description) > 1024:
        raise _bad("description is at most 1024 characters")
    refusal = copy_refusal(cloud, rec, dest, body.get("vault_id"))
    if refusal is not None:
        raise refusal
    acc = caller.account
    running = [j for j in cloud._jobs.values() if j.is_copy and j.account is acc and not j.finished]
    if len(running) >= cloud.max_copies_in_flight:
        raise _bad(
            f"at most {cloud.max_copies_in_flight} cross-region copies may run at once for an account",
            "IMG.0060",
        )
    if _private_count(cloud, acc, dest) >= cloud.image_quota:
        raise _bad(f"the private image quota ({cloud.image_quota}) of {dest} is used up", "IMG.0015")
    now = cloud.clock.now()
    duration = cloud.copy_duration(rec.size_bytes)
    init = min(10.0, duration * 0.1)
    job = Job(
        id=uuid.uuid4().hex[:16] + uuid.uuid4().hex[:16],
        job_type=COPY_JOB_TYPE,
        region=caller.region,
        account=acc,
        begin_ts=now,
        init_until=now + init,
        end_ts=now + duration,
        image_id=rec.id,
        image_name=name,
        dest_region=dest,
    )
    agency = cloud._agency_by_name(acc, body["agency_name"])
    needs = (dest,) if cloud.readings.agency_regions == "destination" else (rec.region, dest)
    if agency is None or not all(_has_ims_role(agency, acc.projects[r]) for r in needs):
        # Accepted, then fails early: IMS checks the agency inside the job (assumption, see docs).
        job.fail_code = "IMG.0179"
        job.fail_reason = (
            f"agency {body['agency_name']!r} does not exist or has no IMS role"
            f" in the project(s) of {' and '.join(needs)}"
        )
        job.end_ts = job.init_until
    elif cloud._next_copy_failure is not None:
        job.fail_code, job.fail_reason = cloud._next_copy_failure
        cloud._next_copy_failure = None
    replica = ImageRecord(
        id=str(uuid.uuid4()),
        region=dest,
        name=name,
        owner=acc,
        status="queued",
        description=description,
        size_bytes=rec.size_bytes,
        image_type="private",
        whole_image=rec.whole_image,
        os_type=rec.os_type,
        platform=rec.platform,
        os_version=rec.os_version,
        min_disk=rec.min_disk,
        created_ts=now,
        updated_ts=now,
        seq=cloud._next_seq(),
        backup_id=str(uuid.uuid4()) if rec.whole_image else "",
        visible_from=now + cloud.readings.copy_visible_after if cloud.readings.copy_visible_after else 0.0,
    )
    cloud._images[replica.id] = replica
    job.replica_id = replica.id
    cloud._jobs[job.id] = job
    cloud.max_in_flight = max(cloud.max_in_flight, len(running) + 1)
    return 200, {"job_id": job.id}


def job_json(job: Job, cloud: Emulator) -> dict[str, Any]:
    """A job as GET /v1/{project_id}/jobs/{job_id} shows it (SDK ShowJobResponse keys)."""
    now = cloud.clock.now()
    entities: dict[str, Any] = {}
    if job.is_copy:
        span = max(job.end_ts - job.begin_ts, 1e-9)
        pct = 100.0 if job.status == "SUCCESS" else min(99.0, max(0.0, (now - job.begin_ts) / span * 100))
        entities = {
            "image_name": job.image_name,
            "process_percent": round(pct, 1),
            "current_task": job.status.lower(),
        }
        if job.status == "SUCCESS":
            entities["image_id"] = job.replica_id
            dest_project = job.account.projects[job.dest_region]
            entities["results"] = [{"image_id": job.replica_id, "project_id": dest_project, "status": "SUCCESS"}]
    elif job.image_id:
        entities = {"image_id": job.image_id}
    return {
        "status": job.status,
        "job_id": job.id,
        "job_type": job.job_type,
        "begin_time": iso(job.begin_ts),
        "end_time": iso(job.finished_ts) if job.finished_ts is not None else "",
        "error_code": job.fail_code if job.status == "FAIL" else None,
        "fail_reason": job.fail_reason if job.status == "FAIL" else None,
        "entities": entities,
    }


def _find_job(cloud: Emulator, caller: Caller, job_id: str) -> Job:
    job = cloud._jobs.get(job_id)
    if job is None or job.region != caller.region or job.account is not caller.account:
        raise ApiError(404, "IMG.0040", f"job {job_id} does not exist in {caller.region}")
    return job


@ims("GET", "/v1/{project_id}/jobs/{job_id}", "show_job")
def show_job(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, job_id: str) -> Result:
    _check_path_project(caller, project_id)
    return 200, job_json(_find_job(cloud, caller, job_id), cloud)


@ims("GET", "/v1/cloudimages/job/{job_id}", "show_job_progress")
def show_job_progress(cloud: Emulator, caller: Caller, params: Params, data: Any, job_id: str) -> Result:
    return 200, job_json(_find_job(cloud, caller, job_id), cloud)


def _instant_job(cloud: Emulator, caller: Caller, job_type: str, image_id: str = "") -> Result:
    now = cloud.clock.now()
    job = Job(
        id=uuid.uuid4().hex,
        job_type=job_type,
        region=caller.region,
        account=caller.account,
        begin_ts=now,
        init_until=now,
        end_ts=now,
        image_id=image_id,
        status="SUCCESS",
        finished_ts=now,
    )
    cloud._jobs[job.id] = job
    return 200, {"job_id": job.id}


# -- IMS: members --------------------------------------------------------------------------------
def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _bad(f"{key} must be a non-empty list of strings")
    return value


@ims("POST", "/v1/cloudimages/members", "batch_add_members")
def batch_add_members(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    body = data or {}
    images = [_find_own(cloud, caller, i) for i in _str_list(body, "images")]
    projects = _str_list(body, "projects")
    for pid in projects:
        where = cloud.project_owner(pid)
        if where is None or where[1] != caller.region:
            raise _bad(f"project {pid} is not a project of region {caller.region}", "IMG.0108")
        if where[0] is caller.account:
            raise _bad("an image cannot be shared with its own account", "IMG.0108")
    for rec in images:
        if rec.encrypted:
            raise _bad(f"image {rec.id} is encrypted; encrypted images cannot be shared", "IMG.0098")
        if rec.status != "active" or rec.frozen:
            raise _bad(f"image {rec.id} is {rec.shown_status}; only active images can be shared", "IMG.0026")
        limit = MAX_MEMBERS_WHOLE_IMAGE if rec.whole_image else MAX_MEMBERS
        if len(set(rec.members) | set(projects)) > limit:
            raise _bad(f"image {rec.id} can be shared with at most {limit} projects", "IMG.0088")
    return _member_job(cloud, caller, [rec.id for rec in images], projects)


def _member_job(cloud: Emulator, caller: Caller, image_ids: list[str], projects: list[str]) -> Result:
    """[IMS API reference, "Adding image members"]: accepted as a job; the projects are added when it ends."""
    now = cloud.clock.now()
    seconds = cloud.readings.member_job_seconds
    job = Job(
        id=uuid.uuid4().hex,
        job_type="batchAddMembers",
        region=caller.region,
        account=caller.account,
        begin_ts=now,
        init_until=now + seconds / 4,
        end_ts=now + seconds,
        member_images=image_ids,
        member_projects=projects,
    )
    if cloud._member_job_failures:
        job.fail_code, job.fail_reason = cloud._member_job_failures.pop(0)
    cloud._jobs[job.id] = job
    cloud._tick_member_job(job, now)
    return 200, {"job_id": job.id}


@ims("PUT", "/v1/cloudimages/members", "batch_update_members")
def batch_update_members(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    body = data or {}
    image_ids = _str_list(body, "images")
    pid, status = body.get("project_id"), body.get("status")
    if pid != caller.project_id:
        raise ApiError(403, "IMG.0161", "project_id must be the caller's own project in this region")
    if status not in ("accepted", "rejected"):
        raise _bad("status must be accepted or rejected")
    recs = []
    for image_id in image_ids:
        rec = cloud._images.get(image_id)
        if rec is None or rec.deleted or rec.region != caller.region or pid not in rec.members:
            raise _bad(f"image {image_id} is not shared with project {pid}", "IMG.0027")
        if rec.whole_image and status == "accepted" and not body.get("vault_id"):
            raise _bad("accepting a whole-ECS image needs vault_id", "IMG.0135")
        recs.append(rec)
    now = cloud.clock.now()
    for rec in recs:
        rec.members[pid] = status
        rec.member_times[pid] = (rec.member_times.get(pid, (now, now))[0], now)
    return _instant_job(cloud, caller, "batchUpdateMembers")


@ims("DELETE", "/v1/cloudimages/members", "batch_delete_members")
def batch_delete_members(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    body = data or {}
    images = [_find_own(cloud, caller, i) for i in _str_list(body, "images")]
    projects = _str_list(body, "projects")
    for rec in images:
        for pid in projects:
            rec.members.pop(pid, None)
            rec.member_times.pop(pid, None)
    return _instant_job(cloud, caller, "batchDeleteMembers")


def member_json(rec: ImageRecord, pid: str) -> dict[str, Any]:
    created, updated = rec.member_times.get(pid, (rec.created_ts, rec.updated_ts))
    return {
        "status": rec.members[pid],
        "created_at": iso(created),
        "updated_at": iso(updated),
        "image_id": rec.id,
        "member_id": pid,
        "schema": "/v2/schemas/member",
        "member_type": "project",
    }


def _members_of(cloud: Emulator, caller: Caller, image_id: str) -> list[dict[str, Any]]:
    """Every member the caller may see, in the order they were added."""
    rec = _find_visible(cloud, caller, image_id)
    if rec.owner is caller.account:
        return [member_json(rec, pid) for pid in rec.members]
    if caller.project_id in rec.members:
        return [member_json(rec, caller.project_id)]
    raise ApiError(404, "IMG.0027", f"image {image_id} does not exist in {caller.region}")


@ims("GET", "/v1/{project_id}/cloudimages/{image_id}/members", "list_image_members")
def list_image_members(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str
) -> Result:
    _check_path_project(caller, project_id)
    members = _members_of(cloud, caller, image_id)
    limit = min(
        _parse_int(_first(params, "limit"), LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, "limit"), cloud.readings.page_cap
    )
    marker = _first(params, "marker")
    if marker:
        ids = [m["member_id"] for m in members]
        if marker not in ids:
            raise _bad(f"marker {marker} is not a member of this listing")
        members = members[ids.index(marker) + 1 :]
    page = members[:limit]
    out = {"members": page, "schema": "/v2/schemas/members"}
    return 200, _paged(cloud, out, page[-1]["member_id"] if len(members) > limit else None)


@ims("GET", "/v1/{project_id}/cloudimages/{image_id}/members/{member_id}", "show_image_member")
def show_image_member(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str, member_id: str
) -> Result:
    _check_path_project(caller, project_id)
    for m in _members_of(cloud, caller, image_id):
        if m["member_id"] == member_id:
            return 200, m
    raise ApiError(404, "IMG.0027", f"project {member_id} is not a member of image {image_id}")


@ims("GET", "/v2/images/{image_id}/members", "glance_list_image_members")
def glance_list_image_members(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    return 200, {"members": _members_of(cloud, caller, image_id), "schema": "/v2/schemas/members"}


# -- IAM -----------------------------------------------------------------------------------------
def _iam_error(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, code, message, "apigw")


def project_json(cloud: Emulator, acc: Account, region: str) -> dict[str, Any]:
    pid = acc.projects[region]
    return {
        "id": pid,
        "name": region,
        "domain_id": acc.domain_id,
        "description": "",
        "enabled": True,
        "is_domain": False,
        "parent_id": acc.domain_id,
        "links": {"self": f"{cloud._endpoints.get('iam', '')}/v3/projects/{pid}"},
    }


def _links(cloud: Emulator, path: str) -> dict[str, Any]:
    return {"self": f"{cloud._endpoints.get('iam', '')}{path}", "previous": None, "next": None}


@iam("GET", "/v3/projects", "keystone_list_projects")
def keystone_list_projects(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    acc = caller.account
    name, domain_id = _first(params, "name"), _first(params, "domain_id")
    if domain_id and domain_id != acc.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to list projects of another account")
    projects = [project_json(cloud, acc, r) for r in cloud.regions if name in (None, r)]
    return 200, {"projects": projects, "links": _links(cloud, "/v3/projects")}


@iam("GET", "/v3/auth/projects", "keystone_list_auth_projects")
def keystone_list_auth_projects(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    projects = [project_json(cloud, caller.account, r) for r in cloud.regions]
    return 200, {"projects": projects, "links": _links(cloud, "/v3/auth/projects")}


@iam("GET", "/v3/auth/domains", "keystone_list_auth_domains")
def keystone_list_auth_domains(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    acc = caller.account
    dom = {"id": acc.domain_id, "name": acc.name, "enabled": True, "description": "", "links": {"self": ""}}
    return 200, {"domains": [dom], "links": _links(cloud, "/v3/auth/domains")}


def agency_json(agency: Agency) -> dict[str, Any]:
    return {
        "id": agency.id,
        "name": agency.name,
        "domain_id": agency.account.domain_id,
        "trust_domain_id": TRUST_DOMAIN_ID,
        "trust_domain_name": agency.trust_domain_name,
        "description": "cross-region image copies for imsync",
        "duration": "FOREVER",
        "expire_time": None,
        "create_time": iso(agency.created_ts).replace("Z", ".000000"),
    }


ROLE_NAMES = {
    "IMS Administrator": "ims_adm",
    "IMS FullAccess": "ims_fullaccess",
    "Tenant Administrator": "te_admin",
    "IMS CrossCopyAgencyPolicy": "ims_crosscopy_agency",
    "IMS CrossCopyAgencyCBRPolicy": "ims_crosscopy_agency_cbr",
}


def role_json(display_name: str) -> dict[str, Any]:
    rid = uuid.uuid5(uuid.NAMESPACE_URL, "imsync-emulator-role:" + display_name).hex
    return {
        "id": rid,
        "name": ROLE_NAMES.get(display_name, re.sub(r"\W+", "_", display_name.lower())),
        "display_name": display_name,
        "catalog": display_name.split()[0] if display_name else "",
        "description": f"{display_name} (emulated)",
        "type": "XA",
        "flag": "fine_grained",
        "domain_id": None,
        "links": {"self": f"/v3/roles/{rid}"},
    }


def _own_agency(cloud: Emulator, caller: Caller, agency_id: str) -> Agency:
    agency = cloud._agencies.get(agency_id)
    if agency is None or agency.account is not caller.account:
        raise _iam_error(404, "IAM.0004", f"agency {agency_id} could not be found")
    return agency


@iam("GET", "/v3.0/OS-AGENCY/agencies", "list_agencies")
def list_agencies(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    domain_id = _first(params, "domain_id")
    if not domain_id:
        raise _iam_error(400, "IAM.0001", "domain_id is required")
    if domain_id != caller.account.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to list agencies of another account")
    name = _first(params, "name")
    found = [agency_json(a) for a in cloud._agencies.values() if a.account is caller.account and name in (None, a.name)]
    return 200, {"agencies": found}


@iam("GET", "/v3.0/OS-AGENCY/agencies/{agency_id}", "show_agency")
def show_agency(cloud: Emulator, caller: Caller, params: Params, data: Any, agency_id: str) -> Result:
    return 200, {"agency": agency_json(_own_agency(cloud, caller, agency_id))}


@iam(
    "GET",
    "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles",
    "list_project_permissions_for_agency",
)
def list_project_permissions_for_agency(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, agency_id: str
) -> Result:
    if caller.account.project_region(project_id) is None:
        raise _iam_error(404, "IAM.0004", f"project {project_id} could not be found")
    agency = _own_agency(cloud, caller, agency_id)
    return 200, {"roles": [role_json(r) for r in agency.grants.get(project_id, [])]}


@iam(
    "GET",
    "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles",
    "list_domain_permissions_for_agency",
)
def list_domain_permissions_for_agency(
    cloud: Emulator, caller: Caller, params: Params, data: Any, domain_id: str, agency_id: str
) -> Result:
    if domain_id != caller.account.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to read another account")
    _own_agency(cloud, caller, agency_id)
    return 200, {"roles": []}


@iam(
    "GET",
    "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/inherited_to_projects",
    "list_all_projects_permissions_for_agency",
)
def list_all_projects_permissions_for_agency(
    cloud: Emulator, caller: Caller, params: Params, data: Any, domain_id: str, agency_id: str
) -> Result:
    if domain_id != caller.account.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to read another account")
    agency = _own_agency(cloud, caller, agency_id)
    return 200, {"roles": [role_json(r) for r in agency.all_projects], "links": _links(cloud, "")}
