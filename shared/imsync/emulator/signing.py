"""Check the SDK-HMAC-SHA256 signature that huaweicloudsdkcore's Signer puts on every request."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: API Gateway accepts requests whose X-Sdk-Date is within 15 minutes of its own time [doc: APIG].
MAX_SKEW_SECONDS = 15 * 60

_AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<ak>[^,\s]+),\s*SignedHeaders=(?P<sh>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]+)$"
)


class SignatureError(Exception):
    """The request is not signed, or not signed correctly."""


@dataclass(frozen=True)
class ParsedAuth:
    ak: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str | None) -> ParsedAuth:
    """Split the Authorization header into AK, signed headers and signature."""
    if not value:
        raise SignatureError("Authorization header is missing")
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise SignatureError("Authorization header is not SDK-HMAC-SHA256")
    return ParsedAuth(m["ak"], m["sh"].split(";"), m["sig"])


def canonical_uri(path: str) -> str:
    parts = [quote(p, safe="~") for p in unquote(path).split("/")]
    uri = "/".join(parts)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def expected_signature(
    sk: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    body: bytes,
) -> str:
    """The signature the SDK computes for this request with secret key `sk`."""
    lower = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join(f"{h}:{str(lower.get(h, '')).strip()}\n" for h in signed_headers)
    payload_hash = lower.get("x-sdk-content-sha256") or (hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256)
    canonical = "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canon_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    date = lower.get("x-sdk-date", "")
    sts = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()


def verify(
    sk: str,
    auth: ParsedAuth,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    real_now: float,
) -> None:
    """Raise SignatureError unless `auth` is a valid signature by `sk` over this request."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "x-sdk-date" not in auth.signed_headers or "x-sdk-date" not in lower:
        raise SignatureError("X-Sdk-Date is missing or not signed")
    if "host" not in auth.signed_headers:
        raise SignatureError("the Host header is not signed")
    for h in ("x-project-id", "x-security-token", "x-domain-id"):
        if h in lower and h not in auth.signed_headers:
            raise SignatureError(f"{h} is sent but not signed")
    try:
        when = datetime.strptime(lower["x-sdk-date"], DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except ValueError as exc:
        raise SignatureError("X-Sdk-Date is not in the form YYYYMMDDTHHMMSSZ") from exc
    if abs(real_now - when) > MAX_SKEW_SECONDS:
        raise SignatureError("X-Sdk-Date is more than 15 minutes away from the server time")
    want = expected_signature(sk, method, path, query, headers, auth.signed_headers, body)
    if not hmac.compare_digest(want, auth.signature):
        raise SignatureError("the signature does not match (wrong secret key or altered request)")
