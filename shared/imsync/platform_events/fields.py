"""The fields of an untrusted event, checked: IDs, regions, options, JSON in strings, CTS outcomes.

A bad field is reported one way, by :func:`bad_field`: the field's name, then what is wrong and
what is accepted, quoting the value only as a short excerpt (``imsync.platform_events.excerpts``). The CTS checks
speak of the record as a whole. Nothing outside the standard library and imsync is imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from imsync.domain.errors import InvalidEvent
from imsync.platform_events.excerpts import excerpt, key_names, kind

MAX_ID_LENGTH = 64  # image IDs are UUIDs (36 characters); anything much longer is not one
MAX_REGION_LENGTH = 40
MAX_ITEMS = 1000  # image IDs, replica IDs or regions in one event
MAX_EMBEDDED_JSON = 65536  # characters of a JSON document carried inside a string (user_event, detail)

_REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


def bad_field(name: str, problem: str) -> InvalidEvent:
    """The one way to report a bad field: its name, then what is wrong with it and what is accepted."""
    return InvalidEvent(f"{name} {problem}")


def image_id(value: object, name: str) -> str:
    """An image (or replica) ID: letters, digits and dashes."""
    if not isinstance(value, str):
        raise bad_field(name, f"must be a string (an image ID), got {kind(value)}")
    if not value:
        raise bad_field(name, "is empty; it must name an image ID")
    if len(value) > MAX_ID_LENGTH or not _ID_RE.fullmatch(value):
        limits = f"letters, digits and dashes, at most {MAX_ID_LENGTH} characters"
        raise bad_field(name, f"{excerpt(value)} is not an image ID ({limits})")
    return value


def region_id(value: object, name: str) -> str:
    """A region ID such as cn-north-4 (whether it is allowed is the service's decision)."""
    if not isinstance(value, str):
        raise bad_field(name, f"must be a string (a region ID like cn-north-4), got {kind(value)}")
    if len(value) > MAX_REGION_LENGTH or not _REGION_RE.fullmatch(value):
        raise bad_field(name, f"{excerpt(value)} is not a region ID (like cn-north-4)")
    return value


def embedded(value: object, name: str) -> object:
    """A value that may also arrive as a JSON document inside a string."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_EMBEDDED_JSON:
        raise bad_field(name, f"is a string of {len(value)} characters; at most {MAX_EMBEDDED_JSON} are read")
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise bad_field(name, f"is a string but not a JSON document: {excerpt(value, 40)}") from None


def ims_operation(record: Mapping[object, object]) -> str:
    """The operation (trace name) of a CTS record, which must be about IMS."""
    service = record.get("service_type")
    if not isinstance(service, str) or service.strip().upper() != "IMS":
        raise InvalidEvent(f"the CTS record is for service {excerpt(service)}; only IMS records are accepted")
    name = record.get("trace_name")
    if not isinstance(name, str) or not name:
        raise InvalidEvent(f"the CTS record has no trace_name (got {excerpt(name)})")
    return name


def succeeded_on(record: Mapping[object, object], verb: str) -> str:
    """The image a CTS record is about, if its operation succeeded (a record without status or code did)."""
    status = record.get("trace_status")
    if status is not None and (not isinstance(status, str) or status.strip().lower() != "normal"):
        raise InvalidEvent(
            f"the IMS operation failed (trace_status {excerpt(status)}, not 'normal'); nothing to {verb}"
        )
    code = record.get("code")
    if code is not None and code != "" and not _is_2xx(code):
        raise InvalidEvent(f"the IMS operation failed (code {excerpt(code)}, not 2xx); nothing to {verb}")
    resource = record.get("resource_id")
    if resource is None or resource == "":
        raise InvalidEvent(f"the CTS record has no resource_id (the ID of the image to {verb})")
    return image_id(resource, "resource_id")


def _is_2xx(code: object) -> bool:
    if isinstance(code, str):
        text = code.strip()
        return len(text) == 3 and text.isascii() and text.isdigit() and text.startswith("2")
    return isinstance(code, int) and not isinstance(code, bool) and 200 <= code < 300


@dataclass(frozen=True)
class Options:
    """The keys of a direct invocation, user_event or detail, and how an error names them."""

    values: Mapping[object, object]
    name: str  # "a direct invocation", "the event", "user_event", "detail"
    nested: bool = False  # True: a key is named after the object ("user_event: dry_run")

    @classmethod
    def carried_by(cls, value: object, name: str) -> Options:
        """The options in a TIMER's user_event or a scheduled event's detail: empty, an object or its JSON text."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return cls({}, name, nested=True)
        options = embedded(value, name)
        if not isinstance(options, Mapping):
            raise bad_field(name, f"must be empty or a JSON object of options, got {kind(options)}")
        return cls(options, name, nested=True)

    def key(self, key: str) -> str:
        """How an error names one of the keys."""
        return f"{self.name}: {key}" if self.nested else key

    def refuse_unknown(self, accepted: tuple[str, ...]) -> None:
        """Refuse every key not in ``accepted``, so that a typo never widens a run."""
        unknown = [key for key in self.values if key not in accepted]
        if unknown:
            problem = f"has unknown keys {key_names(unknown)}; accepted: {', '.join(sorted(accepted))}"
            raise bad_field(self.name, problem + " (nothing is assumed for a key that is not understood)")

    def values_of(self, singular: str, plural: str, check: Callable[[object, str], str]) -> tuple[str, ...]:
        """The value of ``singular`` (one string) and the items of ``plural`` (a list), deduplicated."""
        found = [] if self.values.get(singular) is None else [check(self.values[singular], self.key(singular))]
        items = self.values.get(plural)
        if items is not None:
            if not isinstance(items, (list, tuple)):
                problem = f"must be a list of strings, got {kind(items)} (use {singular} for one)"
                raise bad_field(self.key(plural), problem)
            if not items:
                raise bad_field(self.key(plural), "is an empty list; leave the key out instead")
            if len(items) > MAX_ITEMS:
                raise bad_field(self.key(plural), f"has {len(items)} items; at most {MAX_ITEMS} are accepted")
            found.extend(check(item, f"{self.key(plural)}[{i}]") for i, item in enumerate(items))
        return tuple(dict.fromkeys(found))

    def region(self) -> str | None:
        """The region option, or None when absent or null."""
        value = self.values.get("region")
        return None if value is None else region_id(value, self.key("region"))

    def dry_run(self) -> bool | None:
        """The dry_run option: True when the event asks for a dry run, else None (the IMSYNC_DRY_RUN setting).

        An event may ask for a dry run, never cancel one: whoever can send an event must not be able to turn a
        deployment that is set to change nothing into one that writes, so ``false`` means "as configured".
        """
        value = self.values.get("dry_run")
        if value is None or isinstance(value, bool):
            return True if value else None
        raise bad_field(self.key("dry_run"), f"must be true, false or null, got {excerpt(value)}")
