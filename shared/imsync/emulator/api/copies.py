"""Cross-region copies and the jobs that carry them (also read for member jobs)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..model import COPY_JOB_TYPE, GB, Agency, ImageRecord, Job, iso
from .common import Caller, Params, Result, bad_request, check_path_project, find_own, private_count

if TYPE_CHECKING:
    from ..core import Emulator

# [doc: IMS user guide, "Replicating images across regions"] size limits and whole-image regions.
LARGE_COPY_REGIONS = frozenset({"cn-south-1", "cn-east-2", "cn-east-3", "cn-north-4"})
LARGE_COPY_LIMIT_GB = 300
DEFAULT_COPY_LIMIT_GB = 128
NAME_RE = re.compile(r"[A-Za-z0-9_.\- \u4e00-\u9fff]{1,128}")  # the image name rule, see the copy route
#: Roles that let the IMS service agency copy across regions [guide: "IMS Administrator";
#: CrossCopyAgencyPolicy names from the IMS user guide; Tenant Administrator covers all services].
IMS_COPY_ROLES = frozenset(
    {
        "IMS Administrator",
        "IMS FullAccess",
        "Tenant Administrator",
        "IMS CrossCopyAgencyPolicy",
        "IMS CrossCopyAgencyCBRPolicy",
    }
)


def _has_ims_role(agency: Agency, project_id: str) -> bool:
    return any(role in IMS_COPY_ROLES for role in agency.grants.get(project_id, []))


def copy_refusal(cloud: Emulator, rec: ImageRecord, dest: str, vault_id: str | None) -> ApiError | None:
    """The synchronous refusal for copying `rec` to `dest`, or None (rule sources in docs/emulator.md)."""
    src = rec.region
    if dest == src:
        return bad_request("the destination region must differ from the source region", "IMG.0146")
    if rec.image_type != "private":
        return ApiError(403, "IMG.0161", "only private images can be copied across regions")
    if rec.iso:
        return bad_request("ISO images cannot be copied across regions", "IMG.0167")
    if rec.encrypted:
        return bad_request("encrypted images cannot be copied across regions", "IMG.0197")
    if rec.frozen:
        return bad_request("frozen images cannot be copied", "IMG.0168")
    if rec.status != "active":
        return bad_request(f"the image is {rec.status}; only active images can be copied", "IMG.0026")
    # [guide, international edition, 2026-01-19]: no longer used to replicate Windows images (Readings); the
    # error code is unknown (assumption).
    if rec.os_type.lower() == "windows" and cloud.readings.refuse_windows_copies:
        return bad_request("the cross-region copy API no longer replicates Windows images", "IMG.0001")
    limit = LARGE_COPY_LIMIT_GB if src in LARGE_COPY_REGIONS else DEFAULT_COPY_LIMIT_GB
    if rec.size_bytes > limit * GB:
        return bad_request(f"images over {limit} GB cannot be copied from {src}", "IMG.0136")
    if rec.whole_image:
        regions = cloud.readings.whole_image_copy_regions  # the guide's list (a Readings switch)
        if src not in regions or dest not in regions:
            return bad_request(
                "whole-ECS images can only be copied among " + ", ".join(sorted(regions)),
                "IMG.0130",
            )
        if not vault_id:
            return bad_request("copying a whole-ECS image needs vault_id (a CBR vault in the destination)", "IMG.0130")
    return None


def copy_image_cross_region(cloud: Emulator, caller: Caller, params: Params, data: Any, image_id: str) -> Result:
    """POST /v1/cloudimages/{image_id}/cross_region_copy: check, then start a copy job."""
    rec = find_own(cloud, caller, image_id)
    body = data or {}
    for field in ("name", "region", "project_name", "agency_name"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise bad_request(f"{field} is required")
    name, dest = body["name"], body["region"]
    # [Terraform docs, image copy] 1-128 characters: letters, digits, _ - . and space, no leading or trailing
    # space; [SDK docstring] Chinese characters too.
    if len(name) > 128 or not NAME_RE.fullmatch(name) or name != name.strip():
        raise bad_request("name must be 1-128 letters, digits, _ - . or spaces, without a space at either end")
    if dest not in cloud.regions:
        raise bad_request(f"region {dest!r} is not a valid destination", "IMG.0145")
    if body["project_name"] != dest:
        raise bad_request(f"project_name {body['project_name']!r} is not a project of region {dest}", "IMG.0145")
    description = body.get("description") or ""
    if len(description) > 1024:
        raise bad_request("description is at most 1024 characters")
    refusal = copy_refusal(cloud, rec, dest, body.get("vault_id"))
    if refusal is not None:
        raise refusal
    acc = caller.account
    running = [j for j in cloud._jobs.values() if j.is_copy and j.account is acc and not j.finished]
    if len(running) >= cloud.max_copies_in_flight:
        raise bad_request(
            f"at most {cloud.max_copies_in_flight} cross-region copies may run at once for an account",
            "IMG.0060",
        )
    if private_count(cloud, acc, dest) >= cloud.image_quota:
        raise bad_request(f"the private image quota ({cloud.image_quota}) of {dest} is used up", "IMG.0015")
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
    elif job.is_member and job.status == "SUCCESS":
        # [SDK JobEntities.results (image, project, status) and sub_jobs_result (per image)]; values: assumption.
        failed = set(job.member_failed)
        entities["results"] = [
            {"image_id": i, "project_id": p, "status": "FAIL" if (i, p) in failed else "SUCCESS"}
            for i in job.member_images
            for p in job.member_projects
        ]
        entities["sub_jobs_result"] = [_sub_job(job, i, {f[0] for f in failed}) for i in job.member_images]
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


def _sub_job(job: Job, image_id: str, failed: set[str]) -> dict[str, Any]:
    bad = image_id in failed
    return {
        "status": "FAIL" if bad else "SUCCESS",
        "job_id": f"{job.id}-{image_id[:8]}",
        "job_type": job.job_type,
        "begin_time": iso(job.begin_ts),
        "end_time": iso(job.finished_ts) if job.finished_ts is not None else "",
        "error_code": "IMG.0088" if bad else None,
        "fail_reason": "failed to add a project to the image's members" if bad else None,
        "entities": {"image_id": image_id},
    }


def _find_job(cloud: Emulator, caller: Caller, job_id: str) -> Job:
    job = cloud._jobs.get(job_id)
    if job is None or job.region != caller.region or job.account is not caller.account:
        raise ApiError(404, "IMG.0040", f"job {job_id} does not exist in {caller.region}")
    return job


def show_job(cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, job_id: str) -> Result:
    """GET /v1/{project_id}/jobs/{job_id}: a job of this region (copy or member job)."""
    check_path_project(caller, project_id)
    return 200, job_json(_find_job(cloud, caller, job_id), cloud)


def show_job_progress(cloud: Emulator, caller: Caller, params: Params, data: Any, job_id: str) -> Result:
    """GET /v1/cloudimages/job/{job_id}: the same answer as show_job."""
    return 200, job_json(_find_job(cloud, caller, job_id), cloud)
