"""What every Huawei SDK adapter (IMS, IAM, SMN) shares at the boundary: quiet SDK logs, errors translated once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from huaweicloudsdkcore.exceptions.exceptions import (
    ConnectionException,
    RequestTimeoutException,
    SdkException,
    ServerResponseException,
    ServiceResponseException,
)

from imsync.domain.errors import (
    AuthFailed,
    CopyLimitReached,
    NotFound,
    OutcomeUnknown,
    Refused,
    Throttled,
    Unavailable,
)

# IMS codes that mean "too many tasks right now" rather than "never" (docs/emulator.md: still open).
BUSY_CODES = frozenset({"IMG.0060"})


def silence_sdk_logs() -> None:
    """The SDK logs errors to stderr even when imsync handles them; imsync reports each error once itself."""
    # "Client": huaweicloudsdkcore's own, which signs and sends the one IAM call that lists every region's project.
    for name in (
        "HuaweiCloud-SDK-ImsClient",
        "HuaweiCloud-SDK-IamClient",
        "HuaweiCloud-SDK-SmnClient",
        "HuaweiCloud-SDK-Client",
    ):
        sdk_logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in sdk_logger.handlers):
            sdk_logger.addHandler(logging.NullHandler())


@contextmanager
def translated(operation: str, service: str = "IMS") -> Iterator[None]:
    """Turn SDK and transport errors into imsync's taxonomy, once, at the boundary; `service` is who was asked."""
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
        raise OutcomeUnknown(operation, type(exc).__name__, f"no answer from {service}") from None
    except ValueError:
        # The SDK could not read the answer (not JSON): whatever was asked may have happened.
        raise OutcomeUnknown(operation, "malformed", f"{service} answered something that is not valid JSON") from None
    except SdkException as exc:
        # e.g. the SDK's own IAM project look-up failing; its text carries the HTTP status, never the keys.
        message = str(getattr(exc, "error_msg", "") or exc)
        if "Confirm that the project exists" in message:
            # huaweicloudsdkcore auth/credentials.py: IAM listed no project by the region's name. Its advice
            # (BasicCredentials(ak, sk, project_id)) is for SDK code, not for an imsync operator.
            raise NotFound(
                operation,
                "no-project",
                "IAM lists no project by this region's name: check the region ID, and that the account has a "
                "project there (IAM console > Projects)",
            ) from None
        if any(marker in message for marker in ("401", "403", "Unauthorized", "Forbidden")):
            raise AuthFailed(
                operation,
                "auth",
                "the credentials were not accepted: check the access key pair "
                "(HUAWEICLOUD_SDK_AK/SK or the function's agency)",
            ) from None
        raise Refused(operation, str(getattr(exc, "error_code", "") or ""), message[:300]) from None
