"""Notifications on a Huawei SMN topic through the official SDK (huaweicloudsdksmn, PublishMessage).

Each notification becomes one message: a one-line subject, a short body a person can act on, and
the notification itself as JSON for machines (the whole message for http(s) subscribers, appended
to the text for the others). The SDK is imported on the first publish, not at cold start.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from imsync.adapters.credentials import Credentials
from imsync.config import SMN_TOPIC_URN
from imsync.domain.errors import (
    ConfigError,
    ImsyncError,
    NotDelivered,
    OutcomeUnknown,
    OutOfTime,
    Refused,
    Throttled,
    Unavailable,
)
from imsync.notices import DELETED, DIGEST, FAILED, ORPHANED, READY, REFUSED, STUCK, UNTRUSTED, cut_to_fit
from imsync.observability import logger
from imsync.retry import Retrier

# SMN's limits, from the SDK's PublishMessageRequestBody docstring (huaweicloudsdksmn.v2): a subject of at most
# 512 bytes; a message of at most 256 KB; an SMS of at most 490 characters, without "[]" or "【】".
SUBJECT_MAX_BYTES = 512
MESSAGE_MAX_BYTES = 256 * 1024
SMS_MAX_CHARS = 490
SMS_FORBIDDEN = str.maketrans({"[": "(", "]": ")", "【": "(", "】": ")"})

# What a person reading the message is asked to do, per notification type.
ACTIONS = {
    REFUSED: "Fix the image's imsync-* tags or the deployment's settings; `imsync plan` lists every "
    "refusal with its reason. It is not copied until then.",
    FAILED: "imsync tries again on its next run. If it fails again, `imsync doctor` checks the agency, "
    "the quota and the credentials.",
    READY: "Nothing to do: the replica is active, tagged and shared as its source's tags ask.",
    ORPHANED: "It follows its source (imsync-retain=follow) and is deleted by the first DR run on or after "
    "delete_on. To keep it, tag the replica imsync-keep, or set imsync-retain=keep on its source.",
    DELETED: "Nothing to do for imsync. The projects in accepted_members can no longer launch from it: tell them "
    "if they still need it.",
    STUCK: "Look at the copy job in the IMS console of the source region. If IMS will not finish it, "
    "delete the replica: the next run copies the image again.",
    DIGEST: "`imsync status` shows where every image stands. Each open item still needs a person; this "
    "list comes again with each DR run while anything in it is open.",
    UNTRUSTED: "Decide: add the owner to IMSYNC_TRUSTED_OWNERS to accept its shares from now on, or "
    "accept or reject this share in the IMS console. imsync never rejects a share by itself.",
}
DEFAULT_ACTION = "`imsync status` shows where every image stands."


def subject_of(event: Mapping[str, object]) -> str:
    """One line naming what happened, to which image, where (at most SMN's 512 bytes)."""
    kind = str(event.get("type", "notification"))
    image = event.get("source_image_id") or event.get("image_id") or ""
    region = event.get("region") or ""
    what = {
        REFUSED: "copy refused",
        FAILED: "copy failed",
        READY: "replica ready",
        STUCK: "copy stuck",
        UNTRUSTED: "share from an untrusted owner",
        DIGEST: f"{event.get('count', 0)} open problem(s) need a person",
    }.get(kind, kind.removeprefix("imsync.").replace(".", " "))
    parts = [f"imsync: {what}", f"for image {image}" if image else "", f"in {region}" if region else ""]
    text = " ".join(p for p in parts if p)
    return text.encode()[:SUBJECT_MAX_BYTES].decode(errors="ignore")


def body_of(event: Mapping[str, object]) -> str:
    """The text a person reads: why, what to do, the facts."""
    lines = []
    if event.get("reason"):
        lines += [f"Why: {event['reason']}", ""]
    items = event.get("items")
    if isinstance(items, list) and items:  # a digest: one line per open problem
        lines += ["Open:", *(f"- {_item_line(item)}" for item in items if isinstance(item, Mapping))]
        if event.get("left_out"):
            lines.append(f"- and {event['left_out']} more that do not fit in one message: `imsync status` lists all")
        lines.append("")
    lines += [f"What to do: {ACTIONS.get(str(event.get('type')), DEFAULT_ACTION)}", ""]
    lines += [f"{key}: {_text(value)}" for key, value in event.items() if key != "reason" and value not in ("", None)]
    return "\n".join(lines)


def _item_line(item: Mapping[str, object]) -> str:
    """'copy refused: image <id> (cn-north-4) to cn-east-3: <why>'."""
    what = str(item.get("type", "")).removeprefix("imsync.").replace(".", " ")
    image = f"image {item.get('source_image_id') or item.get('image_id') or '?'}"
    where = f" ({item['source_region']})" if item.get("source_region") else ""
    to = f" to {item['region']}" if item.get("region") else ""
    return f"{what}: {image}{where}{to}: {item.get('reason', '')}"


def _text(value: object) -> str:
    # Lists and tables (a digest's items) read better as JSON than as Python's repr.
    return value if isinstance(value, str) else json.dumps(value, default=str)


def sms_of(event: Mapping[str, object]) -> str:
    """The text an SMS subscriber gets: the subject and why, in SMN's 490 characters, without brackets."""
    why = f" Why: {event['reason']}" if event.get("reason") else ""
    text = f"{subject_of(event)}.{why} `imsync status` says more.".translate(SMS_FORBIDDEN)
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 3] + "..."


def message_structure(event: Mapping[str, object]) -> str:
    """SMN's message_structure: text with the JSON for email and default, the JSON alone for http(s), a short SMS."""
    machine = json.dumps(dict(event), default=str, sort_keys=True)
    text = f"{body_of(event)}\n\nJSON: {machine}"
    return json.dumps({"default": text, "email": text, "sms": sms_of(event), "http": machine, "https": machine})


def fitted(event: Mapping[str, object]) -> tuple[Mapping[str, object], str]:
    """The event and its message_structure, within SMN's 256 KB (a digest too long is cut: notices.cut_to_fit)."""
    event = cut_to_fit(event, lambda e: len(message_structure(e).encode()) <= MESSAGE_MAX_BYTES)
    return event, message_structure(event)


class SmnNotifier:
    """imsync.ports.Notifier that publishes each notification to one SMN topic as its own message."""

    def __init__(
        self, topic_urn: str, credentials: Credentials, timeout: float = 30.0, retrier: Retrier | None = None
    ) -> None:
        match = SMN_TOPIC_URN.match(topic_urn or "")
        if not match:
            raise ConfigError("IMSYNC_SMN_TOPIC_URN is not an SMN topic URN like urn:smn:<region>:<project ID>:<name>")
        self.topic_urn = topic_urn
        self.region = match["region"]
        self.project_id = topic_urn.split(":")[3]
        self._credentials = credentials
        self._timeout = timeout
        self._retrier = retrier or Retrier()
        self._client: Any = None
        self._config: Any = None  # the client's HttpConfig: its timeout is capped by the time left
        self._out = ""  # why SMN is not asked again by this notifier (one run's): it did not answer, or failed
        self._lock = threading.Lock()

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        """Publish every event; one that SMN does not take is logged, the others still go, then NotDelivered
        names the ones that did not (so the caller does not remember them as told).

        Unless SMN itself is out: once a publish got no answer, failed through every retry or found too little
        time left, no other is tried by this notifier, which lives for one run (bootstrap.notifier): the next
        run tells them. An SMN that does not answer costs a whole timeout per message, 30 s by default, and
        eight of them are a poll's whole time; a DR run that deletes replicas publishes once per deletion.
        """
        undelivered: list[Mapping[str, object]] = []
        last = self._out
        refused = False
        for event in events:
            if self._out:
                undelivered.append(event)
                continue
            try:
                self._publish_one(event)
            except ImsyncError as exc:
                last = str(exc)
                refused = refused or isinstance(exc, Refused)  # a 4xx: the topic, the rights or the message
                undelivered.append(event)
                logger.error(
                    "notification not delivered",
                    extra={"topic_urn": self.topic_urn, "notification_type": event.get("type"), "error": last},
                )
                if isinstance(exc, (OutcomeUnknown, Unavailable, Throttled, OutOfTime)):
                    self._out = last
        if undelivered:
            why = f"{len(undelivered)} not delivered: {last}"
            if self._out:
                why += "; SMN is not asked again in this run: the next run tells them"
            raise NotDelivered("smn:PublishMessage", undelivered, "", why, refused=refused)

    def _publish_one(self, event: Mapping[str, object]) -> None:
        from huaweicloudsdksmn.v2 import PublishMessageRequest, PublishMessageRequestBody

        from imsync.adapters.huawei_sdk import translated

        event, structure = fitted(event)
        body = PublishMessageRequestBody(subject=subject_of(event), message_structure=structure)
        request = PublishMessageRequest(topic_urn=self.topic_urn, body=body)

        operation = f"publishing {event.get('type', 'a notification')} to SMN"

        def attempt() -> None:
            limit = self._retrier.deadline.call_timeout(operation, self._timeout)
            client = self.client()
            self._config.timeout = (limit, limit)  # the HTTP client reads it on every request
            with translated(operation, service="SMN"):
                client.publish_message(request)

        # A message that is announced once must not be lost to a busy moment: 429 and 5xx are retried.
        self._retrier.call(attempt)

    def client(self) -> Any:
        """The SmnClient for the topic's region, built on first use."""
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> Any:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdksmn.v2 import SmnClient
        from huaweicloudsdksmn.v2.region.smn_region import SmnRegion

        from imsync.adapters.huawei_sdk import silence_sdk_logs

        silence_sdk_logs()
        try:
            region = SmnRegion.value_of(self.region)
        except KeyError:
            env = "HUAWEICLOUD_SDK_REGION_SMN_" + self.region.upper().replace("-", "_")
            raise ConfigError(f"no SMN endpoint known for region {self.region}: set {env}") from None
        config = HttpConfig.get_default_config()
        config.timeout = (self._timeout, self._timeout)
        self._config = config
        # The topic's URN names its project: no IAM look-up is needed before the first publish.
        credentials = BasicCredentials(self._credentials.ak, self._credentials.sk, self.project_id)
        if self._credentials.security_token:
            credentials = credentials.with_security_token(self._credentials.security_token)
        builder = SmnClient.new_builder().with_http_config(config).with_credentials(credentials)
        return builder.with_region(region).build()
