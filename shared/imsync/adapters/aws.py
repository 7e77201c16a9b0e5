"""AWS adapters: Huawei Cloud keys from Secrets Manager, and notifications on an EventBridge bus.

boto3 is imported inside the functions that use it: the Huawei deployment never loads it, and an
AWS cold start pays for it only once a secret is read or an event is published.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from imsync.domain.errors import AuthFailed, ConfigError, NotDelivered, Throttled, Unavailable
from imsync.notices import NOTICE_TYPES, cut_to_fit

logger = logging.getLogger(__name__)

EVENT_TYPES = frozenset(NOTICE_TYPES)  # every notice type is an event's detail-type (defined in imsync.notices)
EVENT_SOURCE = "imsync"
PUT_EVENTS_MAX_ENTRIES = 10  # PutEvents accepts at most 10 entries per call
# PutEvents: an entry, and a whole call, is at most 256 KB (AWS EventBridge API reference, PutEvents; the entry
# size counts Source, DetailType, Detail and the resources). A digest's entry keeps this much, with room to spare.
CALL_MAX_BYTES = 256 * 1024
ENTRY_MAX_BYTES = CALL_MAX_BYTES - 1024

# What EventBridge refuses for good (AWS EventBridge API reference, PutEventsResultEntry, "Non-retryable errors";
# for the whole call: a bus that does not exist, a request it does not take) and imsync's own "UnknownType" (a
# bug). Anything else (InternalFailure, ThrottlingException, a connection that failed) may pass next time.
REFUSALS = frozenset(
    {
        "AccessDeniedException",
        "InvalidAccountIdException",
        "InvalidArgument",
        "MalformedDetail",
        "RedactionFailure",
        "NotAuthorizedForSourceException",
        "NotAuthorizedForDetailTypeException",
        "ResourceNotFoundException",
        "ValidationException",
        "UnknownType",
    }
)

# What AWS answers a whole call whose key it does not take (AWS's common errors: a key it does not know, a wrong
# secret, an expired or missing token; the JSON services, EventBridge among them, name the first two
# UnrecognizedClientException and InvalidSignatureException), and botocore's own "no key at all". No retry
# fixes a key: a deployment whose every publish is refused so must not report success.
KEY_REFUSALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredTokenException",
        "NotAuthorized",
        "OptInRequired",
        "NoCredentialsError",
        "PartialCredentialsError",
    }
)

SECRET_FORMAT = '{"ak": "...", "sk": "...", "security_token": "... (optional)"}'

# Secrets Manager error codes that no retry can fix: the deployment must change.
_SECRET_CONFIG_ERRORS = {
    "ResourceNotFoundException": "does not exist in this account and region: create it with "
    "`aws secretsmanager create-secret --name {name} --secret-string file://creds.json`",
    "AccessDeniedException": "cannot be read by this function's role: grant secretsmanager:GetSecretValue "
    "on the secret (and kms:Decrypt if it uses a customer-managed key)",
    "DecryptionFailure": "cannot be decrypted: grant kms:Decrypt on the secret's KMS key to this function's role",
    "InvalidRequestException": "cannot be read now (is it scheduled for deletion?): restore it or create a new one",
    "InvalidParameterException": "is not a valid secret name or ARN: fix IMSYNC_CREDENTIALS_SECRET",
}


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def _key_refused(exc: BaseException, code: str) -> bool:
    """Whether AWS refused the call's key: a code that says so, or a 401/403 whatever its body names."""
    response = getattr(exc, "response", None)
    metadata = response.get("ResponseMetadata", {}) if isinstance(response, Mapping) else {}
    return code in KEY_REFUSALS or metadata.get("HTTPStatusCode") in (401, 403)


def secret_credentials(secret_name: str, client: Any = None) -> tuple[str, str, str | None]:
    """(ak, sk, security_token) from a Secrets Manager secret {"ak", "sk"[, "security_token"]}."""
    name = (secret_name or "").strip()
    if not name:
        raise ConfigError("IMSYNC_CREDENTIALS_SECRET is empty: set it to the name of the Secrets Manager secret")
    where = f"IMSYNC_CREDENTIALS_SECRET: secret '{name}'"
    if client is None:
        import boto3  # lazily: see the module docstring

        client = boto3.client("secretsmanager")
    try:
        answer = client.get_secret_value(SecretId=name)
    except Exception as exc:  # botocore's ClientError and friends; only the error code is kept
        code = _error_code(exc)
        if code in _SECRET_CONFIG_ERRORS:
            raise ConfigError(f"{where} {_SECRET_CONFIG_ERRORS[code].format(name=name)}") from None
        if code in {"ThrottlingException", "TooManyRequestsException"}:
            raise Throttled("secretsmanager:GetSecretValue", code) from None
        if _key_refused(exc, code):  # not a failure that passes: no retry fixes a key
            why = "AWS did not take the function's own key: check its execution role (or its AWS_* variables)"
            raise AuthFailed("secretsmanager:GetSecretValue", code, why) from None
        raise Unavailable("secretsmanager:GetSecretValue", code) from None

    text = answer.get("SecretString")
    if not isinstance(text, str):
        raise ConfigError(f"{where} holds binary data: store it as text, {SECRET_FORMAT}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg and the position say what is wrong without repeating any of the secret.
        raise ConfigError(
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): store {SECRET_FORMAT}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a JSON object: {SECRET_FORMAT}")
    missing = [k for k in ("ak", "sk") if not isinstance(data.get(k), str) or not data[k].strip()]
    if missing:
        raise ConfigError(f"{where} has no non-empty {' or '.join(repr(k) for k in missing)}: store {SECRET_FORMAT}")
    token = data.get("security_token")
    if token is not None and not isinstance(token, str):
        raise ConfigError(f"{where}: 'security_token' must be a string when present")
    return data["ak"].strip(), data["sk"].strip(), (token.strip() or None) if token else None


def _entry_bytes(entry: Mapping[str, str]) -> int:
    """An entry's size as PutEvents counts it (Source, DetailType, Detail; imsync sends no Resources or Time)."""
    return sum(len(entry[k].encode()) for k in ("Source", "DetailType", "Detail"))


def _batches(entries: list[dict[str, str]]) -> Iterable[tuple[int, int]]:
    """(start, end) of each PutEvents call: at most 10 entries and 256 KB in all."""
    start, size = 0, 0
    for index, entry in enumerate(entries):
        size += _entry_bytes(entry)
        if index > start and (index - start >= PUT_EVENTS_MAX_ENTRIES or size > CALL_MAX_BYTES):
            yield start, index
            start, size = index, _entry_bytes(entry)
    if start < len(entries):
        yield start, len(entries)


class NotificationFailed(NotDelivered):
    """Some notifications were not accepted by EventBridge; the others were delivered."""

    def __init__(
        self, failures: list[tuple[str, str, str]], undelivered: list[Mapping[str, object]], refused: bool = False
    ) -> None:
        self.failures = failures
        summary = "; ".join(f"{detail_type}: {code}" for detail_type, code, _ in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        message = f"{len(failures)} not delivered: {summary}{more}"
        refused = refused or any(code in REFUSALS for _, code, _ in failures)
        super().__init__("events:PutEvents", undelivered, "FailedEntries", message, refused=refused)


class EventBridgeNotifier:
    """imsync.ports.Notifier that puts each event on a custom EventBridge bus."""

    def __init__(self, bus_name: str, client: Any = None, timeout: float = 30.0) -> None:
        if not bus_name or not bus_name.strip():
            raise ConfigError("IMSYNC_EVENT_BUS is empty: set it to the name of the EventBridge bus, or unset it")
        self.bus_name = bus_name.strip()
        self._client = client
        self._timeout = timeout  # IMSYNC_HTTP_TIMEOUT, for connecting and for each answer
        self._out = ""  # why EventBridge is not asked again by this notifier (one run's): a whole call failed
        self._out_refused = False  # ... and whether that call was refused for good (the key, the bus)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # lazily: see the module docstring
            from botocore.config import Config

            # botocore's defaults are 60 s per answer and up to 5 attempts: 5 minutes for one call to a bus that
            # does not answer. Three attempts of IMSYNC_HTTP_TIMEOUT each, as imsync's own retries.
            config = Config(
                connect_timeout=self._timeout,
                read_timeout=self._timeout,
                retries={"mode": "standard", "total_max_attempts": 3},
            )
            self._client = boto3.client("events", config=config)
        return self._client

    def _entry(self, event: Mapping[str, object]) -> dict[str, str]:
        kind = event.get("type")
        event = cut_to_fit(event, lambda e: len(self._detail(e).encode()) <= ENTRY_MAX_BYTES)  # a digest may be cut
        return {
            "EventBusName": self.bus_name,
            "Source": EVENT_SOURCE,
            "DetailType": str(kind),
            "Detail": self._detail(event),
        }

    @staticmethod
    def _detail(event: Mapping[str, object]) -> str:
        return json.dumps({k: v for k, v in event.items() if k != "type"}, default=str, sort_keys=True)

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        """Put every event on the bus, 10 per call; raise NotificationFailed naming any not delivered."""
        accepted: list[Mapping[str, object]] = []
        entries: list[dict[str, str]] = []
        failures: list[tuple[str, str, str]] = []
        undelivered: list[Mapping[str, object]] = []
        refused = False  # a whole call refused for good (the key, the bus)
        for event in events:
            kind = event.get("type")
            if kind in EVENT_TYPES:
                accepted.append(event)
                entries.append(self._entry(event))
            else:  # not a notice imsync defines (a bug): named like any failure, the others still go
                failures.append((str(kind), "UnknownType", f"not one of {', '.join(sorted(EVENT_TYPES))}"))
                undelivered.append(event)
        for start, end in _batches(entries):
            batch, sent = entries[start:end], accepted[start:end]
            if self._out:  # a whole call failed in this run: the next run tells these
                failures.extend((e["DetailType"], "NotTried", self._out) for e in batch)
                undelivered += sent
                refused = refused or self._out_refused
                continue
            try:
                answer = self.client.put_events(Entries=batch)
            except Exception as exc:  # botocore's ClientError, a timeout, a connection that failed
                code = _error_code(exc)
                failures.extend((e["DetailType"], code, "") for e in batch)
                undelivered += sent
                # The bus, the key or the service, not one entry: asking again in this run costs each call its
                # timeouts and retries, and a DR run that deletes replicas publishes once per deletion.
                self._out = f"an earlier call of this run failed ({code})"
                self._out_refused = code in REFUSALS or _key_refused(exc, code)
                refused = refused or self._out_refused
                continue
            if not answer.get("FailedEntryCount"):
                continue
            results = list(answer.get("Entries", []))
            for index, (entry, event) in enumerate(zip(batch, sent, strict=True)):
                # PutEvents answers one result per entry, in order; a missing result is not a delivery.
                result = results[index] if index < len(results) else {"ErrorCode": "NoResult"}
                if result.get("ErrorCode"):
                    failures.append((entry["DetailType"], result["ErrorCode"], result.get("ErrorMessage", "")))
                    undelivered.append(event)
        if failures:
            for detail_type, code, message in failures:
                logger.error(
                    "notification not delivered",
                    extra={
                        "bus": self.bus_name,
                        "detail_type": detail_type,
                        "error_code": code,
                        "reason": message,
                    },
                )
            raise NotificationFailed(failures, undelivered, refused)
