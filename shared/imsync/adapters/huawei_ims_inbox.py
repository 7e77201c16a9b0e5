"""The recipient's side of IMS through the official SDK: shares waiting for this project, and accepting them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from huaweicloudsdkims.v2 import (
    BatchUpdateMembersRequest,
    BatchUpdateMembersRequestBody,
    ImsClient,
    ListImagesRequest,
    ShowImageMemberRequest,
    ShowJobProgressRequest,
)

from imsync.adapters.huawei_ims import ImsClients, _json, _objects, image_from_api, translated
from imsync.domain.model import Image, Job
from imsync.retry import Retrier

# IMS's default page; a full page without page_info.next_marker goes on from the last image's ID.
PAGE_SIZE = 500


class HuaweiShareInbox:
    """ShareInbox for one region over the real SDK."""

    def __init__(self, region: str, clients: ImsClients, retrier: Retrier) -> None:
        self.region = region
        self._clients = clients
        self._retrier = retrier

    @property
    def project_id(self) -> str:
        """This account's project in the region (found through IAM by the SDK)."""
        return str(self._clients.client(self.region).get_credentials().project_id)

    def _call(self, operation: str, fn: Callable[[ImsClient], Any]) -> Any:
        def attempt() -> Any:
            with translated(operation):
                return fn(self._clients.client(self.region))

        return self._retrier.call(attempt)

    def pending_shares(self) -> list[Image]:
        images: list[Image] = []
        marker: str | None = None
        operation = f"listing the images shared with this project in {self.region}"
        while True:
            request = ListImagesRequest(imagetype="shared", member_status="pending", limit=PAGE_SIZE, marker=marker)
            data = _json(self._call(operation, partial(_list, request=request)))
            page = _objects(data, "images", operation)
            images.extend(image_from_api(item, self.region) for item in page)
            if len(page) < PAGE_SIZE:
                return images
            marker = _next_marker(data) or str(page[-1].get("id") or "")
            if not marker:
                return images

    def accept(self, image_ids: Sequence[str], vault_id: str | None) -> str:
        body = BatchUpdateMembersRequestBody(
            images=list(image_ids), project_id=self.project_id, status="accepted", vault_id=vault_id
        )
        request = BatchUpdateMembersRequest(body=body)
        # Accepting an accepted share changes nothing, so this call is retried like a read.
        response = self._call(
            f"accepting {len(image_ids)} shared image(s) in {self.region}", lambda c: c.batch_update_members(request)
        )
        return str(response.job_id)

    def shared_since(self, image_id: str) -> str:
        # GET /v1/{project_id}/cloudimages/{image_id}/members/{member_id}: a member may read its own membership.
        request = ShowImageMemberRequest(image_id=image_id, member_id=self.project_id)
        operation = f"reading this project's membership of {image_id} in {self.region}"
        data = _json(self._call(operation, lambda c: c.show_image_member(request)))
        return str(data.get("created_at") or "")

    def job(self, job_id: str) -> Job:
        # GET /v1/cloudimages/job/{job_id}: the per-project show_job gives the same answer but is deprecated.
        request = ShowJobProgressRequest(job_id=job_id)
        data = _json(self._call(f"reading job {job_id} in {self.region}", lambda c: c.show_job_progress(request)))
        raw_entities = data.get("entities")
        entities: Mapping[str, Any] = raw_entities if isinstance(raw_entities, dict) else {}
        return Job(
            id=job_id,
            status=str(data.get("status", "")),
            image_id=str(entities.get("image_id") or ""),
            error_code=str(data.get("error_code") or ""),
            fail_reason=str(data.get("fail_reason") or ""),
        )


def _list(client: ImsClient, request: ListImagesRequest) -> Any:
    return client.list_images(request)


def _next_marker(data: Mapping[str, Any]) -> str:
    page_info = data.get("page_info")
    marker = page_info.get("next_marker") if isinstance(page_info, dict) else None
    return str(marker) if marker else ""
