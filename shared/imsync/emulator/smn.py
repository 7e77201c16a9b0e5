"""SMN as far as imsync uses it: topics per account and region, and the messages published to them.

The PublishMessage operation itself is in api/smn.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Account

if TYPE_CHECKING:
    from .core import Emulator

TOPIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")


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
        # Messages SMN took whose answer never reached the publisher as a success (a fault after the effect): the
        # publisher cannot know they were delivered, so a second copy of such a message is not its fault.
        self.unanswered: set[str] = set()

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
