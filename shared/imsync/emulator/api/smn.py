"""SMN's PublishMessage, served on each region's endpoint behind the same signature check as IMS.

HUAWEICLOUD_SDK_REGION_SMN_<REGION> points there. Unknown or malformed topics and bodies get SMN's error
shape `{"request_id", "code", "message"}` (see docs/emulator.md for the codes and which are assumed).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..smn import TOPIC_NAME, Published, Smn
from .common import Caller, Params, Result

if TYPE_CHECKING:
    from ..core import Emulator

# [SDK PublishMessageRequestBody docstring]: subject <= 512 bytes; message <= 256 KB; an SMS <= 490 characters,
# without "[]" or "【】" (whether SMN refuses such an SMS is a reading: Readings.smn_sms_limits).
SUBJECT_MAX_BYTES = 512
MESSAGE_MAX_BYTES = 256 * 1024
SMS_MAX_CHARS = 490
SMS_FORBIDDEN = ("[", "]", "【", "】")
TTL_MAX_SECONDS = 7 * 24 * 3600


class SmnError(ApiError):
    """An SMN error answer."""

    def body(self) -> dict[str, Any]:
        return {"request_id": uuid.uuid4().hex, "code": self.code, "message": self.message}


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SmnError(400, "SMN.0024", f"Parameter: {key} is invalid.")
    return value


def _fits_an_sms(text: object) -> bool:
    return isinstance(text, str) and len(text) <= SMS_MAX_CHARS and not any(c in text for c in SMS_FORBIDDEN)


def smn_publish_message(
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
        sms = parsed.get("sms")
        if cloud.readings.smn_sms_limits and sms is not None and not _fits_an_sms(sms):
            raise SmnError(400, "SMN.0024", "Parameter: sms is invalid.")
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
