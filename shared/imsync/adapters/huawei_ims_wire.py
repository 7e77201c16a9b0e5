"""IMS's answers read into imsync's words: JSON left raw by the SDK, images and tags parsed, listings paged."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from huaweicloudsdkcore.sdk_response import SdkResponse
from huaweicloudsdkims.v2 import ImsClient, ListImagesRequest

from imsync.domain.errors import Unavailable
from imsync.domain.model import Image

# IMS documents only "default 500" for a page, and no maximum: ask for that, and page on (docs/emulator.md).
PAGE_SIZE = 500
# The most pages one listing may take: a server that keeps answering new markers must not keep imsync (or the
# CLI, which has no deadline) paging forever. 1000 pages is 100,000 images even at a cap of 100 per page.
MAX_PAGES = 1000
# [Terraform provider] listings ask for the images of every enterprise project the user may see.
ALL_ENTERPRISE_PROJECTS = "all_granted_eps"


def tags_from_api(raw: Any) -> tuple[dict[str, str], bool]:
    """(tags, exact): exact is False when a "key.value" string had several dots, so the split is a guess."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}, True
    tags: dict[str, str] = {}
    exact = True
    for item in raw or ():
        if isinstance(item, dict):
            tags[str(item.get("key", ""))] = str(item.get("value", ""))
        else:
            # IMS lists tags as "key.value" and splits at the first "." itself; keys may hold dots too.
            text = str(item)
            key, _, value = text.partition(".")
            tags[key] = value
            exact = exact and text.count(".") <= 1
    return tags, exact


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def image_from_api(data: Mapping[str, Any], region: str, project_id: str = "") -> Image:
    """An IMS image JSON (as GET /v2/cloudimages returns it) in imsync's words; owned when `project_id` owns it."""
    size = data.get("__image_size") or data.get("size") or 0
    try:
        size_bytes = int(size)
    except (TypeError, ValueError):
        size_bytes = 0
    try:
        min_disk = int(data.get("min_disk") or 0)
    except (TypeError, ValueError):
        min_disk = 0
    status = str(data.get("status", ""))
    tags, exact = tags_from_api(data.get("tags"))
    owner = str(data.get("owner", ""))
    return Image(
        id=str(data.get("id", "")),
        region=region,
        name=str(data.get("name", "")),
        status=status,
        image_type=str(data.get("__imagetype") or "unknown"),
        owned=bool(project_id) and owner == project_id,  # an unknown owner is never assumed to be this account
        size_bytes=size_bytes,
        min_disk_gb=min_disk,
        tags=tags,
        tags_exact=exact,
        description=str(data.get("__description") or data.get("description") or ""),
        encrypted=bool(data.get("__system__cmkid")),
        iso=data.get("virtual_env_type") == "IsoImage" or data.get("disk_format") == "iso",
        whole_image=_truthy(data.get("__whole_image")),
        frozen=status == "frozen" or _truthy(data.get("__frozen")),
        owner=owner,
        created_at=str(data.get("created_at", "")),
        os_type=str(data.get("__os_type") or ""),
    )


class _RawAnswer(SdkResponse):
    """An answer the SDK leaves as JSON: no openapi_types, so it builds no model objects (imsync reads raw_content)."""

    openapi_types: ClassVar[dict[str, str]] = {}
    attribute_map: ClassVar[dict[str, str]] = {}


def list_images_raw(client: ImsClient, request: ListImagesRequest) -> Any:
    """The SDK's list_images, its answer left as JSON (read it with answer_json)."""
    # Building an ImageInfo model per image cost more CPU than all of imsync's planning (benchmarks/RESULTS.md).
    invoker = client.list_images_invoker(request)
    invoker._http_info["response_type"] = _RawAnswer
    return invoker.invoke()


def answer_json(response: Any) -> dict[str, Any]:
    """The JSON object an SDK answer carries; anything else is an error."""
    raw = getattr(response, "raw_content", None)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Unavailable("reading IMS's answer", "malformed", "IMS answered something that is not a JSON object")
    return data


def list_of_objects(data: Mapping[str, Any], key: str, operation: str) -> list[Mapping[str, Any]]:
    """data[key] as a list of JSON objects; anything else is an error, never a partial view to act on."""
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Unavailable(operation, "malformed", f"IMS answered a '{key}' that is not a list of objects")
    return items


def _page_info(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    page_info = data.get("page_info")
    return page_info if isinstance(page_info, dict) else None


def all_pages(
    fetch: Callable[[str | None], Mapping[str, Any]],
    key: str,
    id_key: str,
    operation: str,
    fallback_marker: Callable[[str], str] = str,
) -> list[Mapping[str, Any]]:
    """Every item of a paged IMS listing, read as the sources allow (docs/emulator.md, "Paging").

    When the answer has `page_info` (SDK 3.1.216 on for images, every version for members), its next_marker
    decides: follow it, or stop without one. Without `page_info`, go on from the last item's ID until a page
    comes back empty: the Terraform provider's images data source does so because "the API does not return the
    value of the marker", and a page shorter than asked says nothing (IMS may cap pages below `limit`).
    `fallback_marker` turns that ID into the listing's marker (member listings take it base64, ims_03_0661).
    Bounded: a server that keeps answering new markers, or repeats one, stops the listing with an error.
    """
    items: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    marker: str | None = None
    for _ in range(MAX_PAGES):
        data = fetch(marker)
        page = list_of_objects(data, key, operation)
        items.extend(page)
        page_info = _page_info(data)
        if page_info is not None:
            marker = str(page_info.get("next_marker") or "") or None
        else:
            marker = fallback_marker(str(page[-1].get(id_key) or "")) if page else None
        if not marker:
            return items
        if marker in seen:  # a server that repeats itself would otherwise keep imsync here until it times out
            raise Unavailable(
                operation, "paging", f"IMS answered the marker {marker[:40]} twice; stopped after {len(items)} items"
            )
        seen.add(marker)
    raise Unavailable(
        operation,
        "paging",
        f"IMS still answered a new marker after {MAX_PAGES} pages ({len(items)} items); imsync stops a listing "
        "there so that a run (or a CLI command, which has no deadline) ends; check the region's estate and "
        "IMS's paging, and report it if the estate is smaller than that",
    )
