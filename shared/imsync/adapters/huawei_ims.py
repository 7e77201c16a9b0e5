"""IMS through the official SDK (huaweicloudsdkims): one ImageStore per region, built lazily, errors translated once."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, ClassVar

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import (
    ConnectionException,
    RequestTimeoutException,
    SdkException,
    ServerResponseException,
    ServiceResponseException,
)
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.sdk_response import SdkResponse
from huaweicloudsdkims.v2 import (
    BatchAddMembersRequest,
    BatchAddMembersRequestBody,
    BatchAddOrDeleteTagsRequest,
    BatchAddOrDeleteTagsRequestBody,
    CopyImageCrossRegionRequest,
    CopyImageCrossRegionRequestBody,
    ImsClient,
    ListImageMembersRequest,
    ListImagesRequest,
    ListImageTagsRequest,
    ShowJobProgressRequest,
    TagKeyValue,
)
from huaweicloudsdkims.v2.region.ims_region import ImsRegion

from imsync.adapters.credentials import Credentials
from imsync.domain.errors import (
    AuthFailed,
    ConfigError,
    CopyLimitReached,
    NotFound,
    OutcomeUnknown,
    OutOfTime,
    Refused,
    Throttled,
    Unavailable,
)
from imsync.domain.model import Image, Job
from imsync.retry import RESERVE_SECONDS, Retrier

# IMS documents only "default 500" for a page, and no maximum: ask for that, and page on (docs/emulator.md).
PAGE_SIZE = 500
# [Terraform provider] listings ask for the images of every enterprise project the user may see.
ALL_ENTERPRISE_PROJECTS = "all_granted_eps"
# IMS codes that mean "too many tasks right now" rather than "never" (docs/emulator.md: still open).
BUSY_CODES = frozenset({"IMG.0060"})


def silence_sdk_logs() -> None:
    """The SDK logs errors to stderr even when imsync handles them; imsync reports each error once itself."""
    for name in ("HuaweiCloud-SDK-ImsClient", "HuaweiCloud-SDK-IamClient"):
        sdk_logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in sdk_logger.handlers):
            sdk_logger.addHandler(logging.NullHandler())


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """Turn SDK and transport errors into imsync's taxonomy, once, at the boundary."""
    try:
        yield
    except ServiceResponseException as exc:
        code, message = str(exc.error_code or exc.status_code), str(exc.error_msg or "")
        status = int(exc.status_code or 0)
        if code in BUSY_CODES:
            raise CopyLimitReached(operation, code, message) from None
        if status == 429:
            raise Throttled(operation, code, message) from None
        if isinstance(exc, ServerResponseException) or status >= 500:
            raise Unavailable(operation, code, message) from None
        if status in (401, 403) and not code.startswith("IMG."):
            raise AuthFailed(operation, code, message or "the credentials were not accepted") from None
        if status == 404:
            raise NotFound(operation, code, message) from None
        raise Refused(operation, code, message) from None
    except (ConnectionException, RequestTimeoutException, requests.exceptions.RequestException) as exc:
        # A POST read timeout escapes the SDK as a raw requests exception (seen with SDK 3.1.219): it may
        # have taken effect.
        raise OutcomeUnknown(operation, type(exc).__name__, "no answer from IMS") from None
    except ValueError:
        # The SDK could not read the answer (not JSON): whatever was asked may have happened.
        raise OutcomeUnknown(operation, "malformed", "IMS answered something that is not valid JSON") from None
    except SdkException as exc:
        # e.g. the SDK's own IAM project look-up failing; its text carries the HTTP status, never the keys.
        message = str(getattr(exc, "error_msg", "") or exc)
        if any(marker in message for marker in ("401", "403", "Unauthorized", "Forbidden")):
            raise AuthFailed(
                operation,
                "auth",
                "the credentials were not accepted: check the access key pair "
                "(HUAWEICLOUD_SDK_AK/SK or the function's agency)",
            ) from None
        raise Refused(operation, str(getattr(exc, "error_code", "") or ""), message[:300]) from None


def _tags(raw: Any) -> tuple[dict[str, str], bool]:
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
    status = str(data.get("status", ""))
    tags, exact = _tags(data.get("tags"))
    owner = str(data.get("owner", ""))
    return Image(
        id=str(data.get("id", "")),
        region=region,
        name=str(data.get("name", "")),
        status=status,
        image_type=str(data.get("__imagetype") or "unknown"),
        owned=bool(project_id) and owner == project_id,  # an unknown owner is never assumed to be this account
        size_bytes=size_bytes,
        tags=tags,
        tags_exact=exact,
        description=str(data.get("__description") or data.get("description") or ""),
        encrypted=bool(data.get("__system__cmkid")),
        iso=data.get("virtual_env_type") == "IsoImage" or data.get("disk_format") == "iso",
        whole_image=_truthy(data.get("__whole_image")),
        frozen=status == "frozen" or _truthy(data.get("__frozen")),
        owner=owner,
        created_at=str(data.get("created_at", "")),
    )


class _RawAnswer(SdkResponse):
    """An answer the SDK leaves as JSON: no openapi_types, so it builds no model objects (imsync reads raw_content)."""

    openapi_types: ClassVar[dict[str, str]] = {}
    attribute_map: ClassVar[dict[str, str]] = {}


def _list_images(client: ImsClient, request: ListImagesRequest) -> Any:
    # Building an ImageInfo model per image cost more CPU than all of imsync's planning (benchmarks/RESULTS.md).
    invoker = client.list_images_invoker(request)
    invoker._http_info["response_type"] = _RawAnswer
    return invoker.invoke()


def _list_members(client: ImsClient, request: ListImageMembersRequest) -> Any:
    return client.list_image_members(request)


def _json(response: Any) -> dict[str, Any]:
    raw = getattr(response, "raw_content", None)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Unavailable("reading IMS's answer", "malformed", "IMS answered something that is not a JSON object")
    return data


def _objects(data: Mapping[str, Any], key: str, operation: str) -> list[Mapping[str, Any]]:
    """data[key] as a list of JSON objects; anything else is an error, never a partial view to act on."""
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Unavailable(operation, "malformed", f"IMS answered a '{key}' that is not a list of objects")
    return items


def _next_marker(data: Mapping[str, Any]) -> Any:
    page_info = data.get("page_info")
    return page_info.get("next_marker") if isinstance(page_info, dict) else None


def all_pages(
    fetch: Callable[[str | None], Mapping[str, Any]], key: str, id_key: str, operation: str
) -> list[Mapping[str, Any]]:
    """Every item of a paged IMS listing, read as the sources allow (docs/emulator.md, "Paging").

    SDK 3.1.219 answers page_info.next_marker; older answers have none, and the Terraform provider pages with
    the last item's ID. So: follow next_marker when given (even after a short page: the server says there is
    more); without one, go on from the last ID while pages are full; stop on a short or empty page.
    """
    items: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    marker: str | None = None
    while True:
        data = fetch(marker)
        page = _objects(data, key, operation)
        items.extend(page)
        if not page:
            return items
        marker = _next_marker(data) or (str(page[-1].get(id_key) or "") if len(page) >= PAGE_SIZE else None)
        if not marker:
            return items
        if marker in seen:  # a server that repeats itself would otherwise keep imsync here until it times out
            raise Unavailable(operation, "paging", f"IMS answered the marker {marker[:40]} twice")
        seen.add(marker)


class ImsClients:
    """One ImsClient per region per process, built on first use (cold start: no network at import)."""

    def __init__(self, credentials: Credentials, timeout: float) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._clients: dict[str, ImsClient] = {}
        self._configs: dict[str, HttpConfig] = {}
        self._lock = threading.Lock()

    def client(self, region: str) -> ImsClient:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._build(region)
            return self._clients[region]

    def cap_timeout(self, region: str, seconds: float) -> None:
        """Make the next calls in `region` give up after at most `seconds` (the time the invocation has left)."""
        limit = max(min(self._timeout, seconds), 0.1)
        self._configs[region].timeout = (limit, limit)

    def _build(self, region: str) -> ImsClient:
        try:
            endpoint = ImsRegion.value_of(region)
        except KeyError:
            env = "HUAWEICLOUD_SDK_REGION_IMS_" + region.upper().replace("-", "_")
            raise ConfigError(f"no IMS endpoint known for region {region}: set {env}") from None
        config = HttpConfig.get_default_config()
        config.timeout = (self._timeout, self._timeout)
        self._configs[region] = config  # the HTTP client reads it on every request: cap_timeout changes it
        credentials = BasicCredentials(self._credentials.ak, self._credentials.sk)
        if self._credentials.security_token:
            credentials = credentials.with_security_token(self._credentials.security_token)
        builder = ImsClient.new_builder().with_http_config(config).with_credentials(credentials)
        # with_region and no project ID: the SDK looks the region's project up in IAM (GET /v3/projects?name=),
        # (README, "Configure"), and caches it per key and region for the process.
        with translated(f"finding the project of {region} in IAM"):
            return builder.with_region(endpoint).build()


class HuaweiImageStore:
    """ImageStore for one region over the real SDK."""

    def __init__(self, region: str, clients: ImsClients, retrier: Retrier) -> None:
        self.region = region
        self._clients = clients
        self._retrier = retrier

    @property
    def project_id(self) -> str:
        return str(self._clients.client(self.region).get_credentials().project_id)

    def _call(self, operation: str, fn: Callable[[ImsClient], Any], retry: bool = True) -> Any:
        def attempt() -> Any:
            # Never start a call the platform would cut off: give it only the time left, minus a reserve.
            left = self._retrier.deadline.seconds_left() - RESERVE_SECONDS
            if left <= 0:
                raise OutOfTime(operation)
            with translated(operation):
                client = self._clients.client(self.region)
                self._clients.cap_timeout(self.region, left)
                return fn(client)

        if not retry:
            return self._retrier.call(attempt, retry_on=(Throttled,))
        return self._retrier.call(attempt)

    def list_own_images(self) -> list[Image]:
        # owner=<project>: what IMS's own private-image query asks. __imagetype=private would miss every image
        # the account has shared, which IMS shows as "shared" to its owner too (API reference, querying images).
        project = self.project_id
        operation = f"listing images in {self.region}"

        def page(marker: str | None) -> Mapping[str, Any]:
            request = ListImagesRequest(
                owner=project, enterprise_project_id=ALL_ENTERPRISE_PROJECTS, limit=PAGE_SIZE, marker=marker
            )
            return _json(self._call(operation, partial(_list_images, request=request)))

        return [image_from_api(item, self.region, project) for item in all_pages(page, "images", "id", operation)]

    def get_image(self, image_id: str) -> Image | None:
        # GET /v2/cloudimages?id= rather than the deprecated Glance show: same fields, and no 404 to translate.
        request = ListImagesRequest(id=image_id, limit=1, enterprise_project_id=ALL_ENTERPRISE_PROJECTS)
        operation = f"reading image {image_id} in {self.region}"
        data = _json(self._call(operation, lambda c: c.list_images(request)))
        images = _objects(data, "images", operation)
        return image_from_api(images[0], self.region, self.project_id) if images else None

    def get_tags(self, image_id: str) -> dict[str, str]:
        """The image's tags as key/value pairs (exact even when a key holds a dot, unlike the listing)."""
        request = ListImageTagsRequest(image_id=image_id)
        data = _json(self._call(f"reading the tags of {image_id}", lambda c: c.list_image_tags(request)))
        tags, _ = _tags(_objects(data, "tags", f"reading the tags of {image_id}"))
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
        data = _json(self._call(f"reading job {job_id}", lambda c: c.show_job_progress(request)))
        raw_entities = data.get("entities")
        entities: Mapping[str, Any] = raw_entities if isinstance(raw_entities, dict) else {}
        return Job(
            id=job_id,
            status=str(data.get("status", "")),
            image_id=str(entities.get("image_id") or ""),
            progress=float(entities.get("process_percent") or 0.0),
            error_code=str(data.get("error_code") or ""),
            fail_reason=str(data.get("fail_reason") or ""),
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

    def list_members(self, image_id: str) -> set[str]:
        return set(self.member_statuses(image_id))

    def member_statuses(self, image_id: str) -> dict[str, str]:
        """Project ID -> pending | accepted | rejected, for every project the image is shared with."""
        operation = f"listing members of {image_id}"

        def page(marker: str | None) -> Mapping[str, Any]:
            request = ListImageMembersRequest(image_id=image_id, limit=PAGE_SIZE, marker=marker)
            return _json(self._call(operation, partial(_list_members, request=request)))

        members = all_pages(page, "members", "member_id", operation)
        return {str(m["member_id"]): str(m.get("status") or "") for m in members if m.get("member_id")}

    def add_members(self, image_ids: Sequence[str], project_ids: Sequence[str]) -> str:
        body = BatchAddMembersRequestBody(images=list(image_ids), projects=list(project_ids))
        response = self._call(
            f"sharing {len(image_ids)} image(s) in {self.region}",
            lambda c: c.batch_add_members(BatchAddMembersRequest(body=body)),
        )
        return str(response.job_id)
