"""Platform events in, domain commands out: every envelope the four functions accept.

``image_trigger`` (replicate_on_create), ``sweep_trigger`` (scheduled_dr_copy),
``completion_trigger`` (share_on_complete) and ``accept_trigger`` (accept_shares) each take
whatever the platform delivered and return a command of ``imsync.domain.commands``, or raise
:class:`InvalidEvent` naming what is wrong and what is accepted. They never raise anything else,
whatever JSON-like value they are given, and quote the input only through ``imsync.excerpts``.
The shapes are documented in ``docs/events.md``. Standard library only: no pydantic on the cold path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from imsync.domain.commands import AcceptTrigger, CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.domain.errors import InvalidEvent
from imsync.excerpts import excerpt, key_names, kind

__all__ = [
    "IMAGE_OPERATIONS",
    "AcceptTrigger",  # re-exported: the commands live in imsync.domain.commands
    "CompletionTrigger",
    "ImageTrigger",
    "SweepTrigger",
    "accept_trigger",
    "completion_trigger",
    "image_trigger",
    "sweep_trigger",
]

#: IMS operations (CTS trace names) that make replicate_on_create look at an image.
IMAGE_OPERATIONS: tuple[str, ...] = ("createImage", "addTag", "batchTagsAction", "updateImage")

MAX_ID_LENGTH = 64  # image IDs are UUIDs (36 characters); anything much longer is not one
MAX_REGION_LENGTH = 40
MAX_ITEMS = 1000  # image IDs, replica IDs or regions in one event
MAX_BATCH = 1000  # entries in one {"events": [...]} batch
MAX_EMBEDDED_JSON = 65536  # characters of a JSON document carried inside a string (user_event, detail)
MAX_PROBLEMS = 20  # per-entry problems kept on a trigger
_ENVELOPE_DEPTH = 3  # cts / data / detail wrappers unwrapped at most this deep

_REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_CANONICAL_OPERATIONS = {name.lower(): name for name in IMAGE_OPERATIONS}
_CTS_MARKERS = ("service_type", "trace_name", "trace_status", "trace_id", "resource_id")
_SCHEDULE_SOURCES = {"aws.events": "eventbridge", "aws.scheduler": "scheduler"}
_T = TypeVar("_T")


def image_trigger(event: object, context: object = None) -> ImageTrigger:
    """Normalise a replicate_on_create event. ``context`` is accepted for symmetry and not used."""
    return _guarded("replicate_on_create", _image, event)


def sweep_trigger(event: object, context: object = None) -> SweepTrigger:
    """Normalise a scheduled_dr_copy event. ``context`` is accepted for symmetry and not used."""
    return _guarded("scheduled_dr_copy", _sweep, event)


def completion_trigger(event: object, context: object = None) -> CompletionTrigger:
    """Normalise a share_on_complete event. ``context`` is accepted for symmetry and not used."""
    return _guarded("share_on_complete", _completion, event)


def accept_trigger(event: object, context: object = None) -> AcceptTrigger:
    """Normalise an accept_shares event. ``context`` is accepted for symmetry and not used."""
    return _guarded("accept_shares", _accept, event)


def _guarded(function: str, parse: Callable[[object], _T], event: object) -> _T:
    try:
        return parse(event)
    except InvalidEvent as exc:
        raise InvalidEvent(f"{function}: {exc}") from None
    except Exception as exc:  # last resort: the promise is "InvalidEvent or a trigger", nothing else
        raise InvalidEvent(
            f"{function}: the event could not be read ({type(exc).__name__}); see docs/events.md"
        ) from exc


def _bad_field(name: str, problem: str) -> InvalidEvent:
    """The one way to report a bad field: its name, then what is wrong with it and what is accepted."""
    return InvalidEvent(f"{name} {problem}")


# --------------------------------------------------------------------------------------------------
# What each function reads, envelope by envelope


def _image(event: object) -> ImageTrigger:
    event = _object(event, "a CTS record or {'image_id': ...}")
    if _schedule_source(event) is not None:
        raise InvalidEvent("a scheduled event names no image; replicate_on_create takes IMS CTS records")
    _refuse_other_trigger_type(event)
    if "events" in event:
        return _image_batch(event["events"])
    return _unwrap(event, None, 0, _image_record, _image_direct)


def _sweep(event: object) -> SweepTrigger:
    event = _object(event, "a TIMER or scheduled event, or {}")
    if (source := _schedule_source(event)) is not None:
        return _sweep_options(_schedule_options(event, source), source)
    _refuse_other_trigger_type(event)
    if _carries_records(event):
        raise InvalidEvent("a CTS record or event batch does not start the DR run; send a TIMER or scheduled event")
    return _sweep_options(_Options(event, "a direct invocation"), "direct")


def _completion(event: object) -> CompletionTrigger:
    event = _object(event, "a TIMER, CTS or completion event, or {}")
    if (source := _schedule_source(event)) is not None:
        return _replica_direct(_schedule_options(event, source), source)
    _refuse_other_trigger_type(event)
    if "events" in event:
        return _completion_batch(event["events"])
    return _unwrap(event, None, 0, _replica_record, _replica_direct)


def _accept(event: object) -> AcceptTrigger:
    event = _object(event, "a TIMER or scheduled event, or {}")
    if (source := _schedule_source(event)) is not None:
        return _accept_options(_schedule_options(event, source), source)
    _refuse_other_trigger_type(event)
    if _carries_records(event) or "detail" in event or "data" in event:
        raise InvalidEvent("accept_shares runs on a schedule: send a TIMER or scheduled event, or a direct invocation")
    return _accept_options(_Options(event, "a direct invocation"), "direct")


def _object(event: object, expected: str) -> Mapping[object, object]:
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"expected a JSON object ({expected}), got {kind(event)}")
    return event


def _refuse_other_trigger_type(event: Mapping[object, object]) -> None:
    if "trigger_type" in event:
        raise InvalidEvent(f"FunctionGraph trigger type {excerpt(event.get('trigger_type'))} is not accepted here")


def _carries_records(event: Mapping[object, object]) -> bool:
    return "cts" in event or "events" in event or any(key in event for key in _CTS_MARKERS)


# --------------------------------------------------------------------------------------------------
# Schedules: FunctionGraph TIMER, AWS EventBridge scheduled rule, EventBridge Scheduler


def _schedule_source(event: Mapping[object, object]) -> str | None:
    """ "timer", "eventbridge" or "scheduler" for a scheduled event, else None."""
    trigger_type = event.get("trigger_type")
    if isinstance(trigger_type, str) and trigger_type.upper() == "TIMER":
        return "timer"
    source = event.get("source")
    if event.get("detail-type") == "Scheduled Event" and isinstance(source, str):
        return _SCHEDULE_SOURCES.get(source)
    return None


def _schedule_options(event: Mapping[object, object], source: str) -> _Options:
    """A TIMER's user_event or a scheduled event's detail: empty, a JSON object, or its JSON text."""
    name = "user_event" if source == "timer" else "detail"
    value = event.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return _Options({}, name, nested=True)
    options = _embedded(value, name)
    if not isinstance(options, Mapping):
        raise _bad_field(name, f"must be empty or a JSON object of options, got {kind(options)}")
    return _Options(options, name, nested=True)


def _sweep_options(options: _Options, source: str) -> SweepTrigger:
    options.refuse_unknown(("dry_run", "image_id", "image_ids", "region", "regions"))
    return SweepTrigger(
        regions=options.values_of("region", "regions", _region),
        image_ids=options.values_of("image_id", "image_ids", _image_id),
        dry_run=options.dry_run(),
        source=source,
    )


def _accept_options(options: _Options, source: str) -> AcceptTrigger:
    options.refuse_unknown(("dry_run", "region", "regions"))
    return AcceptTrigger(
        regions=options.values_of("region", "regions", _region), dry_run=options.dry_run(), source=source
    )


# --------------------------------------------------------------------------------------------------
# Records: a CTS record, bare or in {"cts": ...}, in a CloudEvent's data or an EventBridge detail


def _unwrap(
    event: object,
    source: str | None,
    depth: int,
    record: Callable[[Mapping[object, object], str], _T],
    direct: Callable[[_Options, str | None], _T],
) -> _T:
    """One event inside at most three envelopes: a CTS record goes to ``record``, anything else to ``direct``."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {kind(event)}")
    if depth > _ENVELOPE_DEPTH:
        raise InvalidEvent("envelopes (cts, data, detail) are nested too deeply")
    if "cts" in event:
        if not isinstance(event["cts"], Mapping):
            raise _bad_field("'cts'", f"must be an object holding the CTS record, got {kind(event['cts'])}")
        return record(event["cts"], source or "cts")
    if any(key in event for key in _CTS_MARKERS):
        return record(event, source or "cts")
    if "specversion" in event or "data" in event:  # an EventGrid CloudEvent
        return _unwrap(_embedded(event.get("data"), "data"), source or "eventgrid", depth + 1, record, direct)
    if "detail" in event:  # an AWS EventBridge envelope
        return _unwrap(_embedded(event["detail"], "detail"), source or "eventbridge", depth + 1, record, direct)
    return direct(_Options(event, "a direct invocation" if source is None else "the event"), source)


def _image_record(record: Mapping[object, object], source: str) -> ImageTrigger:
    operation = _CANONICAL_OPERATIONS.get(_ims_operation(record).lower())
    if operation is None:
        raise InvalidEvent(
            f"IMS operation {excerpt(record.get('trace_name'))} does not start replication; "
            f"accepted: {', '.join(IMAGE_OPERATIONS)}"
        )
    return ImageTrigger(
        image_ids=(_succeeded_on(record, "replicate"),), region=None, source=source, operation=operation
    )


def _replica_record(record: Mapping[object, object], source: str) -> CompletionTrigger:
    _ims_operation(record)
    return CompletionTrigger(replica_ids=(_succeeded_on(record, "share"),), source=source)


def _ims_operation(record: Mapping[object, object]) -> str:
    """The trace name of a CTS record about IMS."""
    service = record.get("service_type")
    if not isinstance(service, str) or service.strip().upper() != "IMS":
        raise InvalidEvent(f"the CTS record is for service {excerpt(service)}; only IMS records are accepted")
    name = record.get("trace_name")
    if not isinstance(name, str) or not name:
        raise InvalidEvent(f"the CTS record has no trace_name (got {excerpt(name)})")
    return name


def _succeeded_on(record: Mapping[object, object], verb: str) -> str:
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
    return _image_id(resource, "resource_id")


def _is_2xx(code: object) -> bool:
    if isinstance(code, str):
        text = code.strip()
        return len(text) == 3 and text.isascii() and text.isdigit() and text.startswith("2")
    return isinstance(code, int) and not isinstance(code, bool) and 200 <= code < 300


# --------------------------------------------------------------------------------------------------
# Direct invocations: the options themselves, alone or inside a CloudEvent or EventBridge envelope


def _image_direct(options: _Options, source: str | None) -> ImageTrigger:
    options.refuse_unknown(("image_id", "image_ids", "region"))
    image_ids = options.values_of("image_id", "image_ids", _image_id)
    region = options.region()
    if not image_ids:
        raise _bad_field(options.name, "names no image: give image_id or image_ids")
    return ImageTrigger(image_ids=image_ids, region=region, source=source or "direct")


def _replica_direct(options: _Options, source: str | None) -> CompletionTrigger:
    options.refuse_unknown(("dry_run", "region", "replica_id", "replica_ids"))
    replica_ids = options.values_of("replica_id", "replica_ids", _image_id)
    region = options.region()
    dry_run = options.dry_run()
    if not replica_ids and region is not None:
        problem = "names the region of replica_ids; give replica_ids too, or leave region out"
        raise _bad_field(options.key("region"), problem)
    source = source or ("completion" if replica_ids else "direct")
    return CompletionTrigger(replica_ids=replica_ids, region=region, source=source, dry_run=dry_run)


# --------------------------------------------------------------------------------------------------
# EventGrid CloudEvents batches: {"events": [<CloudEvent>, ...]}


class _Located(Protocol):
    @property
    def region(self) -> str | None: ...


_L = TypeVar("_L", bound=_Located)


def _image_batch(entries: object) -> ImageTrigger:
    def entry(event: object) -> ImageTrigger:
        return _unwrap(event, "eventgrid", 1, _image_record, _image_direct)

    usable, problems = _batch(entries, entry, lambda found: found.image_ids, "image_id")
    return ImageTrigger(
        image_ids=_batch_ids(found.image_ids for found in usable),
        region=usable[0].region,
        source="eventgrid",
        operation=",".join(dict.fromkeys(found.operation for found in usable if found.operation)),
        problems=problems,
    )


def _completion_batch(entries: object) -> CompletionTrigger:
    def entry(event: object) -> CompletionTrigger:
        return _unwrap(event, "eventgrid", 1, _replica_record, _replica_direct)

    usable, problems = _batch(entries, entry, lambda found: found.replica_ids, "replica_id")
    return CompletionTrigger(
        replica_ids=_batch_ids(found.replica_ids for found in usable),
        region=usable[0].region,
        source="eventgrid",
        dry_run=usable[0].dry_run,
        problems=problems,
    )


def _batch(
    entries: object, read: Callable[[object], _L], ids: Callable[[_L], tuple[str, ...]], id_key: str
) -> tuple[list[_L], tuple[str, ...]]:
    """The usable entries (all in the first one's region), and why each other entry was skipped."""
    if not isinstance(entries, (list, tuple)):
        raise _bad_field("'events'", f"must be a list of CloudEvents, got {kind(entries)}")
    if not entries:
        raise _bad_field("'events'", "is an empty list")
    if len(entries) > MAX_BATCH:
        raise _bad_field("'events'", f"has {len(entries)} entries; at most {MAX_BATCH} are accepted")
    usable: list[_L] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        try:
            found = read(entry)
            if not ids(found):
                raise InvalidEvent(f"names no {id_key}")
            if usable and found.region != usable[0].region:
                home = usable[0].region or "home"
                raise InvalidEvent(f"region {found.region or 'home'} differs from the batch's ({home})")
            usable.append(found)
        except InvalidEvent as exc:
            problems.append(f"events[{index}]: {exc}")
    if not usable:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidEvent(f"no usable entry in the batch: {problems[0]}{more}")
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more problems"]
    return usable, tuple(problems)


def _batch_ids(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(image_id for group in groups for image_id in group))
    if len(unique) > MAX_ITEMS:
        raise InvalidEvent(f"the batch names {len(unique)} images; at most {MAX_ITEMS} are accepted")
    return unique


# --------------------------------------------------------------------------------------------------
# Fields


@dataclass(frozen=True)
class _Options:
    """The keys of a direct invocation, user_event or detail, and how an error names them."""

    values: Mapping[object, object]
    name: str  # "a direct invocation", "the event", "user_event", "detail"
    nested: bool = False  # True: a key is named after the object ("user_event: dry_run")

    def key(self, key: str) -> str:
        return f"{self.name}: {key}" if self.nested else key

    def refuse_unknown(self, accepted: tuple[str, ...]) -> None:
        unknown = [key for key in self.values if key not in accepted]
        if unknown:
            problem = f"has unknown keys {key_names(unknown)}; accepted: {', '.join(sorted(accepted))}"
            raise _bad_field(self.name, problem + " (nothing is assumed for a key that is not understood)")

    def values_of(self, singular: str, plural: str, check: Callable[[object, str], str]) -> tuple[str, ...]:
        """The value of ``singular`` (one string) and the items of ``plural`` (a list), deduplicated."""
        found = [] if self.values.get(singular) is None else [check(self.values[singular], self.key(singular))]
        items = self.values.get(plural)
        if items is not None:
            if not isinstance(items, (list, tuple)):
                raise _bad_field(
                    self.key(plural), f"must be a list of strings, got {kind(items)} (use {singular} for one)"
                )
            if not items:
                raise _bad_field(self.key(plural), "is an empty list; leave the key out instead")
            if len(items) > MAX_ITEMS:
                raise _bad_field(self.key(plural), f"has {len(items)} items; at most {MAX_ITEMS} are accepted")
            found.extend(check(item, f"{self.key(plural)}[{i}]") for i, item in enumerate(items))
        return tuple(dict.fromkeys(found))

    def region(self) -> str | None:
        value = self.values.get("region")
        return None if value is None else _region(value, self.key("region"))

    def dry_run(self) -> bool | None:
        value = self.values.get("dry_run")
        if value is None or isinstance(value, bool):
            return value
        raise _bad_field(self.key("dry_run"), f"must be true, false or null, got {excerpt(value)}")


def _image_id(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _bad_field(name, f"must be a string (an image ID), got {kind(value)}")
    if not value:
        raise _bad_field(name, "is empty; it must name an image ID")
    if len(value) > MAX_ID_LENGTH or not _ID_RE.fullmatch(value):
        limits = f"letters, digits and dashes, at most {MAX_ID_LENGTH} characters"
        raise _bad_field(name, f"{excerpt(value)} is not an image ID ({limits})")
    return value


def _region(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _bad_field(name, f"must be a string (a region ID like cn-north-4), got {kind(value)}")
    if len(value) > MAX_REGION_LENGTH or not _REGION_RE.fullmatch(value):
        raise _bad_field(name, f"{excerpt(value)} is not a region ID (like cn-north-4)")
    return value


def _embedded(value: object, name: str) -> object:
    """A value that may also arrive as a JSON document inside a string."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_EMBEDDED_JSON:
        raise _bad_field(name, f"is a string of {len(value)} characters; at most {MAX_EMBEDDED_JSON} are read")
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise _bad_field(name, f"is a string but not a JSON document: {excerpt(value, 40)}") from None
