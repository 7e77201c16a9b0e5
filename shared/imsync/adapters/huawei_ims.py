"""IMS through the official SDK (huaweicloudsdkims): one ImageStore per region, built lazily, errors translated once."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkims.v2 import (
    BatchAddMembersRequest,
    BatchAddMembersRequestBody,
    BatchAddOrDeleteTagsRequest,
    BatchAddOrDeleteTagsRequestBody,
    BatchDeleteMembersRequest,
    CopyImageCrossRegionRequest,
    CopyImageCrossRegionRequestBody,
    GlanceDeleteImageRequest,
    GlanceDeleteImageRequestBody,
    ImsClient,
    ListImageMembersRequest,
    ListImagesRequest,
    ListImageTagsRequest,
    ShowJobProgressRequest,
    TagKeyValue,
    UpdateImageRequest,
    UpdateImageRequestBody,
)
from huaweicloudsdkims.v2.region.ims_region import ImsRegion

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_ims_wire import (
    ALL_ENTERPRISE_PROJECTS,
    PAGE_SIZE,
    all_pages,
    answer_json,
    image_from_api,
    list_images_raw,
    list_of_objects,
    tags_from_api,
)
from imsync.adapters.huawei_projects import project_ids
from imsync.adapters.huawei_sdk import translated
from imsync.domain.errors import CloudError, ConfigError, OutcomeUnknown, Throttled, Unavailable
from imsync.domain.model import Image, Job
from imsync.retry import Retrier


def _list_members(client: ImsClient, request: ListImageMembersRequest) -> Any:
    return client.list_image_members(request)


def failed_items(entities: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(image ID, why) for each per-item result of a job that says it did not succeed (SDK JobEntities: `results`
    per image and project, `sub_jobs_result` per image).

    Only an item that names a status other than SUCCESS counts: no source documents the items' statuses, and an
    item without one would otherwise fail every share of a job that succeeded (and, after three tries, every run).
    """
    failed: list[tuple[str, str]] = []
    for item in entities.get("results") or ():
        if isinstance(item, dict) and _says_failed(item):
            project = str(item.get("project_id") or "?")
            failed.append((str(item.get("image_id") or ""), f"project {project}: {item.get('status') or 'no status'}"))
    for sub in entities.get("sub_jobs_result") or ():
        if isinstance(sub, dict) and _says_failed(sub):
            raw = sub.get("entities")
            sub_entities: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
            why = (
                f"{sub.get('error_code') or sub.get('status') or 'FAIL'}: {sub.get('fail_reason') or 'no reason given'}"
            )
            failed.append((str(sub_entities.get("image_id") or ""), why))
    return tuple(failed)


def _says_failed(item: Mapping[str, Any]) -> bool:
    status = str(item.get("status") or "").strip().upper()
    return bool(status) and status != "SUCCESS"


def member_marker(member_id: str) -> str:
    """A member listing's marker for the page after `member_id`: base64 (IMS API reference, ims_03_0661)."""
    return base64.b64encode(member_id.encode()).decode()


class ImsClients:
    """One ImsClient per region per process, built on first use (cold start: no network at import)."""

    def __init__(self, credentials: Credentials, timeout: float) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._clients: dict[str, ImsClient] = {}
        self._configs: dict[str, HttpConfig] = {}
        self._projects: dict[str, str] | None = None  # region -> project ID, from one IAM call on first use
        self._lock = threading.Lock()

    def client(self, region: str) -> ImsClient:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._build(region)
            return self._clients[region]

    @property
    def timeout(self) -> float:
        return self._timeout

    def set_timeout(self, region: str, seconds: float) -> None:
        """Make the next calls in `region` give up after `seconds` (Deadline.call_timeout: the time left)."""
        self._configs[region].timeout = (seconds, seconds)

    def _build(self, region: str) -> ImsClient:
        try:
            endpoint = ImsRegion.value_of(region)
        except KeyError:
            env = "HUAWEICLOUD_SDK_REGION_IMS_" + region.upper().replace("-", "_")
            raise ConfigError(f"no IMS endpoint known for region {region}: set {env}") from None
        config = HttpConfig.get_default_config()
        config.timeout = (self._timeout, self._timeout)
        self._configs[region] = config  # the HTTP client reads it on every request: set_timeout changes it
        # Every region's project ID from one IAM call; a region missing from it is left to the SDK, which then
        # looks that region's project up itself (GET /v3/projects?name=) and caches it per key and region.
        credentials = BasicCredentials(self._credentials.ak, self._credentials.sk, self._project_of(region, config))
        if self._credentials.security_token:
            credentials = credentials.with_security_token(self._credentials.security_token)
        builder = ImsClient.new_builder().with_http_config(config).with_credentials(credentials)
        # with_region and no project ID: the SDK looks the region's project up in IAM (GET /v3/projects?name=),
        # (README, "Configure"), and caches it per key and region for the process.
        with translated(f"finding the project of {region} in IAM", service="IAM"):
            return builder.with_region(endpoint).build()

    def _project_of(self, region: str, config: HttpConfig) -> str | None:
        """The caller's project ID in `region`: all regions are listed once per process and key (called locked)."""
        if self._projects is None:
            try:
                self._projects = project_ids(self._credentials, config, region)
            except CloudError:
                # A key without that IAM right (Refused), or IAM not answering: the SDK's per-region look-up still
                # works, and its failure is reported as the region's (`finding the project of <region> in IAM`).
                self._projects = {}
        return self._projects.get(region)


class HuaweiImageStore:
    """ImageStore for one region over the real SDK."""

    def __init__(self, region: str, clients: ImsClients, retrier: Retrier) -> None:
        self.region = region
        self._clients = clients
        self._retrier = retrier
        # How a read of this region failed after its retries, in this run (a store lives for one run): a region
        # that does not answer, or only throttles, costs one read per run, whoever asks next (a listing, a look-up
        # by ID). Throttling too: asking a throttled region again in the same run only adds to the load.
        self._read_failed: str | None = None

    @property
    def project_id(self) -> str:
        return str(self._clients.client(self.region).get_credentials().project_id)

    def _call(self, operation: str, fn: Callable[[ImsClient], Any], retry: bool = True) -> Any:
        def attempt() -> Any:
            limit = self._retrier.deadline.call_timeout(operation, self._clients.timeout)
            with translated(operation):
                client = self._clients.client(self.region)
                self._clients.set_timeout(self.region, limit)
                return fn(client)

        if not retry:
            return self._retrier.call(attempt, retry_on=(Throttled,))
        return self._retrier.call(attempt)

    def _read(self, operation: str, fn: Callable[[ImsClient], Any]) -> Any:
        """A read: not sent when a read of this region already failed after its retries in this run."""
        if self._read_failed is not None:
            why = f"{self.region} {self._read_failed} earlier in this run; the next run reads it again"
            raise Unavailable(operation, "given up", why)
        try:
            return self._call(operation, fn)
        except Throttled:
            self._read_failed = "was throttled through every retry"
            raise
        except (Unavailable, OutcomeUnknown):
            self._read_failed = "did not answer"
            raise

    def list_own_images(self) -> list[Image]:
        # owner=<project>: what IMS's own private-image query asks. __imagetype=private would miss every image
        # the account has shared, which IMS shows as "shared" to its owner too (API reference, querying images).
        project = self.project_id
        operation = f"listing images in {self.region}"

        def page(marker: str | None) -> Mapping[str, Any]:
            request = ListImagesRequest(
                owner=project, enterprise_project_id=ALL_ENTERPRISE_PROJECTS, limit=PAGE_SIZE, marker=marker
            )
            return answer_json(self._read(operation, partial(list_images_raw, request=request)))

        return [image_from_api(item, self.region, project) for item in all_pages(page, "images", "id", operation)]

    def get_image(self, image_id: str) -> Image | None:
        # GET /v2/cloudimages?id= rather than the deprecated Glance show: same fields, and no 404 to translate.
        request = ListImagesRequest(id=image_id, limit=1, enterprise_project_id=ALL_ENTERPRISE_PROJECTS)
        operation = f"reading image {image_id} in {self.region}"
        data = answer_json(self._read(operation, lambda c: c.list_images(request)))
        images = list_of_objects(data, "images", operation)
        return image_from_api(images[0], self.region, self.project_id) if images else None

    def get_tags(self, image_id: str) -> dict[str, str]:
        """The image's tags as key/value pairs (exact even when a key holds a dot, unlike the listing)."""
        request = ListImageTagsRequest(image_id=image_id)
        data = answer_json(self._read(f"reading the tags of {image_id}", lambda c: c.list_image_tags(request)))
        tags, _ = tags_from_api(list_of_objects(data, "tags", f"reading the tags of {image_id}"))
        return tags

    def start_copy(
        self, image_id: str, dest_region: str, name: str, description: str, agency: str, vault_id: str | None
    ) -> str:
        body = CopyImageCrossRegionRequestBody(
            name=name,
            region=dest_region,
            project_name=dest_region,  # IMS takes the project *name*: a region's main project is named after it
            agency_name=agency,
            description=description,
            vault_id=vault_id,
        )
        request = CopyImageCrossRegionRequest(image_id=image_id, body=body)
        # Not retried on 5xx: the copy may have started. The service looks for the replica first.
        response = self._call(
            f"copying {image_id} to {dest_region}", lambda c: c.copy_image_cross_region(request), retry=False
        )
        return str(response.job_id)

    def get_job(self, job_id: str) -> Job:
        # GET /v1/cloudimages/job/{job_id}: the same answer as the deprecated per-project show_job.
        request = ShowJobProgressRequest(job_id=job_id)
        data = answer_json(self._read(f"reading job {job_id}", lambda c: c.show_job_progress(request)))
        raw_entities = data.get("entities")
        entities: Mapping[str, Any] = raw_entities if isinstance(raw_entities, dict) else {}
        return Job(
            id=job_id,
            status=str(data.get("status", "")),
            image_id=str(entities.get("image_id") or ""),
            progress=float(entities.get("process_percent") or 0.0),
            error_code=str(data.get("error_code") or ""),
            fail_reason=str(data.get("fail_reason") or ""),
            failed_items=failed_items(entities),
        )

    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        self._tag_action(image_id, "create", tags, f"tagging {image_id}")

    def delete_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        """Delete these tags (key and current value) from an image, in one call."""
        self._tag_action(image_id, "delete", tags, f"removing tags from {image_id}")

    def _tag_action(self, image_id: str, action: str, tags: Mapping[str, str], operation: str) -> None:
        body = BatchAddOrDeleteTagsRequestBody(
            action=action, tags=[TagKeyValue(key=k, value=v) for k, v in tags.items()]
        )
        request = BatchAddOrDeleteTagsRequest(image_id=image_id, body=body)
        self._call(operation, lambda c: c.batch_add_or_delete_tags(request))

    def set_description(self, image_id: str, description: str) -> None:
        # UpdateImage, PATCH /v2/cloudimages/{image_id}: the attribute path is "/__description" (as the Terraform
        # provider's image resources send it).
        body = [UpdateImageRequestBody(op="replace", path="/__description", value=description)]
        request = UpdateImageRequest(image_id=image_id, body=body)
        self._call(f"writing the description of {image_id}", lambda c: c.update_image(request))

    def list_members(self, image_id: str) -> set[str]:
        return set(self.member_statuses(image_id))

    def member_statuses(self, image_id: str) -> dict[str, str]:
        """Project ID -> pending | accepted | rejected, for every project the image is shared with."""
        operation = f"listing members of {image_id}"

        def page(marker: str | None) -> Mapping[str, Any]:
            request = ListImageMembersRequest(image_id=image_id, limit=PAGE_SIZE, marker=marker)
            return answer_json(self._read(operation, partial(_list_members, request=request)))

        members = all_pages(page, "members", "member_id", operation, fallback_marker=member_marker)
        return {str(m["member_id"]): str(m.get("status") or "") for m in members if m.get("member_id")}

    def add_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        body = BatchAddMembersRequestBody(images=list(image_ids), projects=list(project_ids))
        response = self._call(
            f"sharing {len(image_ids)} image(s) in {self.region}",
            lambda c: c.batch_add_members(BatchAddMembersRequest(body=body)),
        )
        return str(response.job_id)

    def remove_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        # DELETE /v1/cloudimages/members (SDK BatchDeleteMembers; IMS API reference ims_03_0623): asynchronous,
        # answered with a job. Removing a member that is already gone changes nothing, so it may be retried.
        body = BatchAddMembersRequestBody(images=list(image_ids), projects=list(project_ids))
        response = self._call(
            f"unsharing {len(image_ids)} image(s) in {self.region}",
            lambda c: c.batch_delete_members(BatchDeleteMembersRequest(body=body)),
        )
        return str(response.job_id)

    def delete_image(self, image_id: str) -> None:
        # DELETE /v2/images/{image_id} (SDK GlanceDeleteImage), the call the Terraform provider's image resource
        # deletes with. Not retried on 5xx or a lost answer: the caller reads the image again first.
        request = GlanceDeleteImageRequest(image_id=image_id, body=GlanceDeleteImageRequestBody(delete_backup=False))
        self._call(f"deleting image {image_id} in {self.region}", lambda c: c.glance_delete_image(request), retry=False)
