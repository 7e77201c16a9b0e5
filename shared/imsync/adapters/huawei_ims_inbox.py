"""The recipient's side of IMS through the official SDK: shares waiting for this project, and accepting them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from huaweicloudsdkims.v2 import (
    BatchUpdateMembersRequest,
    BatchUpdateMembersRequestBody,
    ListImagesRequest,
    ShowImageMemberRequest,
)

from imsync.adapters.huawei_ims import HuaweiImageStore
from imsync.adapters.huawei_ims_wire import PAGE_SIZE, all_pages, answer_json, image_from_api, list_images_raw
from imsync.domain.model import Image, Job


class HuaweiShareInbox(HuaweiImageStore):
    """ShareInbox for one region over the real SDK: the same client, paging and time limits as the owner's side."""

    def pending_shares(self) -> list[Image]:
        operation = f"listing the images shared with this project in {self.region}"

        def page(marker: str | None) -> Mapping[str, Any]:
            # The query ims_03_0702 gives; the SDK's member_status docstring asks for visibility=shared with it.
            request = ListImagesRequest(
                imagetype="shared", visibility="shared", member_status="pending", limit=PAGE_SIZE, marker=marker
            )
            return answer_json(self._call(operation, partial(list_images_raw, request=request)))

        # IMS lists the images this project shares with others as `shared` too, and the member filter does not
        # apply to their owner ([IMS API reference, "Querying images"], __imagetype): an account that both shares
        # and accepts would take its own outgoing shares for incoming ones. An image it owns is never pending.
        own = self.project_id
        images = [image_from_api(item, self.region, own) for item in all_pages(page, "images", "id", operation)]
        return [image for image in images if not image.owned]

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
        data = answer_json(self._call(operation, lambda c: c.show_image_member(request)))
        return str(data.get("created_at") or "")

    def job(self, job_id: str) -> Job:
        return self.get_job(job_id)
