"""Who is calling: the AK/SK signature, the security token, and the project or domain header."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import ApiError
from ..signing import SignatureError, parse_authorization, verify
from .common import Caller

if TYPE_CHECKING:
    from ..core import Emulator


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
