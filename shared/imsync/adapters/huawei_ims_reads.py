"""What only the operator commands need: the image quota, what was listed, and removing tags (`imsync tag`).

A subclass of the functions' HuaweiImageStore, so the functions' adapter stays as it is and the CLI
drives the very same engine code through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from huaweicloudsdkims.v2 import (
    ShowImageQuotaRequest,
)

from imsync.adapters.huawei_ims import HuaweiImageStore, ImsClients
from imsync.adapters.huawei_ims_wire import answer_json
from imsync.domain.model import Image
from imsync.retry import Retrier


@dataclass(frozen=True)
class Quota:
    """Private images of the account in one region, against IMS's quota."""

    used: int
    quota: int

    @property
    def headroom(self) -> int:
        return max(self.quota - self.used, 0)


def ims_endpoint(region: str) -> str:
    """The IMS endpoint the SDK uses for `region` (HUAWEICLOUD_SDK_REGION_IMS_<REGION> wins), or ""."""
    from huaweicloudsdkims.v2.region.ims_region import ImsRegion

    try:
        return str(ImsRegion.value_of(region).endpoints[0])
    except (KeyError, IndexError):
        return ""


class OperatorImageStore(HuaweiImageStore):
    """HuaweiImageStore that also remembers every image it listed or read (names for tables, status)."""

    def __init__(self, region: str, clients: ImsClients, retrier: Retrier, seen: dict[str, Image]) -> None:
        super().__init__(region, clients, retrier)
        self._seen = seen
        self.listed = False

    def list_own_images(self) -> list[Image]:
        images = super().list_own_images()
        self._seen.update((image.id, image) for image in images)
        self.listed = True
        return images

    def get_image(self, image_id: str) -> Image | None:
        image = super().get_image(image_id)
        if image is not None:
            self._seen[image.id] = image
        return image

    def quota(self) -> Quota:
        """GET /v1/cloudimages/quota: the `image` resource of this region."""
        data = answer_json(
            self._call(f"reading the image quota of {self.region}", lambda c: c.show_image_quota(_QUOTA))
        )
        for item in (data.get("quotas") or {}).get("resources") or []:
            if item.get("type") == "image":
                return Quota(int(item.get("used") or 0), int(item.get("quota") or 0))
        return Quota(0, 0)


_QUOTA = ShowImageQuotaRequest()
