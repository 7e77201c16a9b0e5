"""Image members (sharing): add as a job, accept or reject, remove, and read them."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..model import ImageRecord, Job, iso
from .common import (
    Caller,
    Params,
    Result,
    bad_request,
    check_path_project,
    find_own,
    find_visible,
    first,
    page_limit,
)

if TYPE_CHECKING:
    from ..core import Emulator

# [doc: IMS API "Adding image members"] 128 tenants per image, 10 for a whole-ECS image.
MAX_MEMBERS = 128
MAX_MEMBERS_WHOLE_IMAGE = 10


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{key} must be a non-empty list of strings")
    return value


def batch_add_members(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """POST /v1/cloudimages/members: share own images with projects, as a member job."""
    body = data or {}
    images = [find_own(cloud, caller, i) for i in _str_list(body, "images")]
    projects = _str_list(body, "projects")
    for pid in projects:
        where = cloud.project_owner(pid)
        if where is None or where[1] != caller.region:
            raise bad_request(f"project {pid} is not a project of region {caller.region}", "IMG.0108")
        if where[0] is caller.account:
            raise bad_request("an image cannot be shared with its own account", "IMG.0108")
    for rec in images:
        if rec.encrypted:
            raise bad_request(f"image {rec.id} is encrypted; encrypted images cannot be shared", "IMG.0098")
        if rec.status != "active" or rec.frozen:
            raise bad_request(f"image {rec.id} is {rec.shown_status}; only active images can be shared", "IMG.0026")
        limit = MAX_MEMBERS_WHOLE_IMAGE if rec.whole_image else MAX_MEMBERS
        if len(set(rec.members) | set(projects)) > limit:
            raise bad_request(f"image {rec.id} can be shared with at most {limit} projects", "IMG.0088")
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
    elif cloud.readings.member_job_partial and len(image_ids) * len(projects) > 1:
        # SUCCESS with one item failed (Readings); each item fails once at most, so a retry gets it through.
        fresh = [(i, p) for i in image_ids for p in projects if (i, p) not in cloud._partly_failed]
        if fresh:
            job.member_failed = [fresh[-1]]
            cloud._partly_failed.add(fresh[-1])
    cloud._jobs[job.id] = job
    cloud._tick_member_job(job, now)
    return 200, {"job_id": job.id}


def _instant_job(cloud: Emulator, caller: Caller, job_type: str) -> Result:
    """A job that is SUCCESS at once (assumption, see docs/emulator.md)."""
    now = cloud.clock.now()
    job = Job(
        id=uuid.uuid4().hex,
        job_type=job_type,
        region=caller.region,
        account=caller.account,
        begin_ts=now,
        init_until=now,
        end_ts=now,
        status="SUCCESS",
        finished_ts=now,
    )
    cloud._jobs[job.id] = job
    return 200, {"job_id": job.id}


def batch_update_members(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """PUT /v1/cloudimages/members: the recipient accepts or rejects shares."""
    body = data or {}
    image_ids = _str_list(body, "images")
    pid, status = body.get("project_id"), body.get("status")
    if pid != caller.project_id:
        raise ApiError(403, "IMG.0161", "project_id must be the caller's own project in this region")
    if status not in ("accepted", "rejected"):
        raise bad_request("status must be accepted or rejected")
    recs = []
    for image_id in image_ids:
        rec = cloud._images.get(image_id)
        if rec is None or rec.deleted or rec.region != caller.region or pid not in rec.members:
            raise bad_request(f"image {image_id} is not shared with project {pid}", "IMG.0027")
        if rec.whole_image and status == "accepted" and not body.get("vault_id"):
            raise bad_request("accepting a whole-ECS image needs vault_id", "IMG.0135")
        recs.append(rec)
    now = cloud.clock.now()
    for rec in recs:
        rec.members[pid] = status
        rec.member_times[pid] = (rec.member_times.get(pid, (now, now))[0], now)
    return _instant_job(cloud, caller, "batchUpdateMembers")


def batch_delete_members(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """DELETE /v1/cloudimages/members: the owner removes members."""
    body = data or {}
    images = [find_own(cloud, caller, i) for i in _str_list(body, "images")]
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
    rec = find_visible(cloud, caller, image_id)
    if rec.owner is caller.account:
        return [member_json(rec, pid) for pid in rec.members]
    if caller.project_id in rec.members:
        return [member_json(rec, caller.project_id)]
    raise ApiError(404, "IMG.0027", f"image {image_id} does not exist in {caller.region}")


def list_image_members(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str
) -> Result:
    """GET /v1/{project_id}/cloudimages/{image_id}/members: members, paged."""
    check_path_project(caller, project_id)
    members = _members_of(cloud, caller, image_id)
    limit = page_limit(cloud, params)
    marker = first(params, "marker")
    if marker:
        ids = [m["member_id"] for m in members]
        after = _member_after(marker)
        if after not in ids:
            raise bad_request(f"marker {marker} is not a marker of this listing (a base64 member ID)")
        members = members[ids.index(after) + 1 :]
    page = members[:limit]
    out: dict[str, Any] = {"members": page, "schema": "/v2/schemas/members"}
    if cloud.readings.member_page_info:
        # [SDK ListImageMembersResponse.page_info, every version; ims_03_0661]: next_marker, base64.
        more = len(members) > limit
        out["page_info"] = {"next_marker": _member_marker(page[-1]["member_id"])} if more else {}
    return 200, out


def _member_marker(member_id: str) -> str:
    return base64.b64encode(member_id.encode()).decode()


def _member_after(marker: str) -> str | None:
    """The member ID a base64 marker names (ims_03_0661), or None when it is not base64 of a text."""
    try:
        return base64.b64decode(marker, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def show_image_member(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, image_id: str, member_id: str
) -> Result:
    """GET /v1/{project_id}/cloudimages/{image_id}/members/{member_id}: one member."""
    check_path_project(caller, project_id)
    for m in _members_of(cloud, caller, image_id):
        if m["member_id"] == member_id:
            return 200, m
    raise ApiError(404, "IMG.0027", f"project {member_id} is not a member of image {image_id}")


def glance_list_image_members(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    """GET /v2/images/{image_id}/members: every member the caller may see."""
    return 200, {"members": _members_of(cloud, caller, image_id), "schema": "/v2/schemas/members"}
