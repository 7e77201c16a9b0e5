"""SMN's PublishMessage, as far as imsync uses it: topics per account and region, and what was published.

Served on each region's endpoint (HUAWEICLOUD_SDK_REGION_SMN_<REGION> points there), behind the same
signature check as IMS. Unknown or malformed topics and bodies get SMN's error shape
`{"request_id", "code", "message"}` (see docs/emulator.md for the codes and which are assumed).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .api import Caller, Params, Result, ims
from .errors import ApiError
from .model import Account

if TYPE_CHECKING:
    from .core import Emulator

TOPIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
SUBJECT_MAX_BYTES = 512
MESSAGE_MAX_BYTES = 256 * 1024
TTL_MAX_SECONDS = 7 * 24 * 3600


class SmnError(ApiError):
    """An SMN error answer."""

    def body(self) -> dict[str, Any]:
        return {"request_id": uuid.uuid4().hex, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Published:
    """One message SMN accepted."""

    topic_urn: str
    message_id: str
    subject: str
    message: str
    message_structure: str
    account: str
    at: float

    def text(self, protocol: str = "email") -> str:
        """What a subscriber of `protocol` receives: its entry of message_structure, else default, else message."""
        if self.message_structure:
            structure = json.loads(self.message_structure)
            return str(structure.get(protocol, structure["default"]))
        return self.message


class Smn:
    """The emulated SMN of every account and region: topics, and the messages published to them."""

    def __init__(self, cloud: Emulator) -> None:
        self._cloud = cloud
        self.topics: set[str] = set()
        self.published: list[Published] = []

    def add_topic(self, name: str, region: str, account: Account | None = None) -> str:
        """Create a topic (no API call) and return its URN."""
        account = account or self._cloud.owner
        if not TOPIC_NAME.match(name):
            raise ValueError(f"bad topic name {name!r}")
        urn = f"urn:smn:{region}:{account.projects[region]}:{name}"
        with self._cloud._lock:
            self.topics.add(urn)
        return urn

    def messages(self, topic_urn: str | None = None) -> list[Published]:
        """Messages published so far (to one topic, or to all)."""
        with self._cloud._lock:
            return [m for m in self.published if topic_urn in (None, m.topic_urn)]


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SmnError(400, "SMN.0024", f"Parameter: {key} is invalid.")
    return value


@ims("POST", "/v2/{project_id}/notifications/topics/{topic_urn}/publish", "smn_publish_message")
def publish_message(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, topic_urn: str
) -> Result:
    parts = topic_urn.split(":")
    if len(parts) != 5 or parts[:2] != ["urn", "smn"] or not TOPIC_NAME.match(parts[4]):
        raise SmnError(400, "SMN.0005", "Parameter: TopicUrn is invalid.")
    smn: Smn = cloud.smn
    # A topic of another project (or account) is not found: the URL, the URN and the caller must agree.
    if topic_urn not in smn.topics or parts[2] != caller.region or {project_id, parts[3]} != {caller.project_id}:
        raise SmnError(404, "SMN.0006", "Topic not found.")
    body = data if isinstance(data, dict) else {}
    subject, message, structure = _string(body, "subject"), _string(body, "message"), _string(body, "message_structure")
    if len(subject.encode()) > SUBJECT_MAX_BYTES:
        raise SmnError(400, "SMN.0024", "Parameter: subject is invalid.")
    if structure:
        try:
            parsed = json.loads(structure)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("default"), str):
            raise SmnError(400, "SMN.0021", "MessageStructure is invalid.")
    elif not message and not _string(body, "message_template_name"):
        raise SmnError(400, "SMN.0024", "Parameter: content is invalid.")
    if len((structure or message).encode()) > MESSAGE_MAX_BYTES:
        raise SmnError(400, "SMN.0024", "Parameter: content is invalid.")
    ttl = _string(body, "time_to_live")
    if ttl and (not ttl.isdigit() or not 0 < int(ttl) <= TTL_MAX_SECONDS):
        raise SmnError(400, "SMN.0024", "Parameter: time_to_live is invalid.")
    message_id = uuid.uuid4().hex
    smn.published.append(
        Published(topic_urn, message_id, subject, message, structure, caller.account.name, cloud.clock.now())
    )
    return 200, {"request_id": uuid.uuid4().hex, "message_id": message_id}
