"""Every event shape the four functions accept, turned into one typed trigger.

``image_trigger`` (replicate_on_create), ``sweep_trigger`` (scheduled_dr_copy),
``completion_trigger`` (share_on_complete) and ``accept_trigger`` (accept_shares) each take
whatever the platform delivered and return a small frozen dataclass, or raise
:class:`InvalidEvent` naming what is wrong and what is accepted. They never raise anything else,
whatever JSON-like value they are given, and never echo more than a short clipped excerpt of the
input back. The shapes are documented in ``docs/events.md``.

The triggers themselves are domain commands (``imsync.domain.commands``); they are re-exported
here for the modules that still import them from this one. Only the standard library and
``imsync.domain`` are imported here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from imsync.domain.commands import AcceptTrigger, CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.domain.errors import InvalidEvent

__all__ = [
    "IMAGE_OPERATIONS",
    "AcceptTrigger",
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
_CTS_MARKERS = ("service_type", "trace_name", "trace_status", "trace_id", "resource_id")
_SCHEDULE_SOURCES = {"aws.events": "eventbridge", "aws.scheduler": "scheduler"}
_SWEEP_KEYS = ("dry_run", "image_id", "image_ids", "region", "regions")
_ACCEPT_KEYS = ("dry_run", "region", "regions")
_INTERNAL = "the event could not be read"


def image_trigger(event: object, context: object = None) -> ImageTrigger:
    """Normalise a replicate_on_create event. ``context`` is accepted for symmetry and not used."""
    return _guarded("replicate_on_create", _image_trigger, event)


def sweep_trigger(event: object, context: object = None) -> SweepTrigger:
    """Normalise a scheduled_dr_copy event. ``context`` is accepted for symmetry and not used."""
    return _guarded("scheduled_dr_copy", _sweep_trigger, event)


def completion_trigger(event: object, context: object = None) -> CompletionTrigger:
    """Normalise a share_on_complete event. ``context`` is accepted for symmetry and not used."""
    return _guarded("share_on_complete", _completion_trigger, event)


def accept_trigger(event: object, context: object = None) -> AcceptTrigger:
    """Normalise an accept_shares event. ``context`` is accepted for symmetry and not used."""
    return _guarded("accept_shares", _accept_trigger, event)


# --------------------------------------------------------------------------------------------------
# Showing hostile input safely

_T = TypeVar("_T")


def _guarded(name: str, parse: Callable[[object], _T], event: object) -> _T:
    try:
        return parse(event)
    except InvalidEvent as exc:
        raise InvalidEvent(f"{name}: {exc}") from None
    except Exception as exc:  # last resort: the promise is "InvalidEvent or a trigger", nothing else
        raise InvalidEvent(f"{name}: {_INTERNAL} ({type(exc).__name__}); see docs/events.md") from exc


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a " + _clip(type(value).__name__, 30)


def _show(value: object, limit: int = 60) -> str:
    """A short, escaped excerpt of a value for an error message."""
    if isinstance(value, str):
        text = repr(value[:limit])
        text = _clip(text, limit + 20)
        return text if len(value) <= limit else f"{text}... ({len(value)} characters)"
    if value is None or isinstance(value, (bool, float)):
        return _clip(repr(value), limit)
    if isinstance(value, int):
        try:
            return _clip(repr(value), limit)
        except ValueError:  # more digits than int->str allows
            return "a very large number"
    if isinstance(value, Mapping):
        return f"an object with {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items"
    return _kind(value)


def _names(keys: Iterable[object]) -> str:
    shown = [_show(k, 24) for k in keys]
    if len(shown) > 4:
        return ", ".join(shown[:4]) + f" and {len(shown) - 4} more"
    return ", ".join(shown)


def _bad(message: str) -> InvalidEvent:
    return InvalidEvent(message)


# --------------------------------------------------------------------------------------------------
# Values


def _image_id(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{where} must be a string (an image ID), got {_kind(value)}")
    if not value:
        raise _bad(f"{where} is empty; it must name an image ID")
    if len(value) > MAX_ID_LENGTH or not _ID_RE.fullmatch(value):
        raise _bad(
            f"{where} {_show(value)} is not an image ID "
            f"(letters, digits and dashes, at most {MAX_ID_LENGTH} characters)"
        )
    return value


def _region(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{where} must be a string (a region ID like cn-north-4), got {_kind(value)}")
    if len(value) > MAX_REGION_LENGTH or not _REGION_RE.fullmatch(value):
        raise _bad(f"{where} {_show(value)} is not a region ID (like cn-north-4)")
    return value


def _optional_region(options: Mapping[object, object], key: str, where: str) -> str | None:
    value = options.get(key)
    return None if value is None else _region(value, f"{where}{key}")


def _dry_run(options: Mapping[object, object], where: str) -> bool | None:
    value = options.get("dry_run")
    if value is None or isinstance(value, bool):
        return value
    raise _bad(f"{where}dry_run must be true, false or null, got {_show(value)}")


def _collect(
    options: Mapping[object, object],
    singular: str,
    plural: str,
    check: Callable[[object, str], str],
    where: str,
) -> tuple[str, ...]:
    """Values named by ``singular`` (one string) and ``plural`` (a non-empty list), deduplicated."""
    found: list[str] = []
    if singular in options and options[singular] is not None:
        found.append(check(options[singular], f"{where}{singular}"))
    if plural in options and options[plural] is not None:
        items = options[plural]
        if not isinstance(items, (list, tuple)):
            raise _bad(f"{where}{plural} must be a list of strings, got {_kind(items)} (use {singular} for one)")
        if not items:
            raise _bad(f"{where}{plural} is an empty list; leave the key out instead")
        if len(items) > MAX_ITEMS:
            raise _bad(f"{where}{plural} has {len(items)} items; at most {MAX_ITEMS} are accepted")
        found.extend(check(item, f"{where}{plural}[{i}]") for i, item in enumerate(items))
    return tuple(dict.fromkeys(found))


def _reject_unknown(options: Mapping[object, object], accepted: Iterable[str], where: str) -> None:
    allowed = tuple(accepted)
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise _bad(
            f"{where} has unknown keys {_names(unknown)}; accepted: {', '.join(sorted(allowed))} "
            "(nothing is assumed for a key that is not understood)"
        )


def _embedded(value: object, where: str) -> object:
    """A value that may also arrive as a JSON document inside a string."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_EMBEDDED_JSON:
        raise _bad(f"{where} is a string of {len(value)} characters; at most {MAX_EMBEDDED_JSON} are read")
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise _bad(f"{where} is a string but not a JSON document: {_show(value, 40)}") from None


def _options(value: object, where: str) -> Mapping[object, object]:
    """Options of a TIMER user_event or a scheduled event's detail: empty, a JSON object or its text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    parsed = _embedded(value, where)
    if not isinstance(parsed, Mapping):
        raise _bad(f"{where} must be empty or a JSON object of options, got {_kind(parsed)}")
    return parsed


# --------------------------------------------------------------------------------------------------
# Platform envelopes


def _is_timer(event: Mapping[object, object]) -> bool:
    kind = event.get("trigger_type")
    return isinstance(kind, str) and kind.upper() == "TIMER"


def _schedule_source(event: Mapping[object, object]) -> str | None:
    """The trigger source ("eventbridge" or "scheduler") of an AWS scheduled event, else None."""
    source = event.get("source")
    if event.get("detail-type") == "Scheduled Event" and isinstance(source, str):
        return _SCHEDULE_SOURCES.get(source)
    return None


def _other_trigger_type(event: Mapping[object, object]) -> InvalidEvent:
    return _bad(f"FunctionGraph trigger type {_show(event.get('trigger_type'))} is not accepted here")


def _looks_like_cts(event: Mapping[object, object]) -> bool:
    return any(key in event for key in _CTS_MARKERS)


def _succeeded(code: object) -> bool:
    if isinstance(code, bool):
        return False
    if isinstance(code, int):
        return 200 <= code < 300
    if isinstance(code, str):
        text = code.strip()
        return len(text) == 3 and text.isascii() and text.isdigit() and text.startswith("2")
    return False


@dataclass(frozen=True)
class _Spec:
    """What one of image_trigger / completion_trigger reads from CTS records and direct invocations."""

    singular: str
    plural: str
    operations: Mapping[str, str] | None  # lower-case trace name -> canonical; None: any IMS operation
    verb: str
    direct_keys: tuple[str, ...]
    ids_required: bool


_IMAGE = _Spec(
    singular="image_id",
    plural="image_ids",
    operations={name.lower(): name for name in IMAGE_OPERATIONS},
    verb="replicate",
    direct_keys=("image_id", "image_ids", "region"),
    ids_required=True,
)
_COMPLETION = _Spec(
    singular="replica_id",
    plural="replica_ids",
    operations=None,
    verb="share",
    direct_keys=("dry_run", "region", "replica_id", "replica_ids"),
    ids_required=False,
)


@dataclass
class _Found:
    ids: tuple[str, ...]
    source: str
    region: str | None = None
    operation: str = ""
    dry_run: bool | None = None
    problems: list[str] = field(default_factory=list)


def _cts(spec: _Spec, record: Mapping[object, object], source: str) -> _Found:
    service = record.get("service_type")
    if not isinstance(service, str) or service.strip().upper() != "IMS":
        raise _bad(f"the CTS record is for service {_show(service)}; only IMS records are accepted")
    name = record.get("trace_name")
    if not isinstance(name, str) or not name:
        raise _bad(f"the CTS record has no trace_name (got {_show(name)})")
    if spec.operations is not None:
        canonical = spec.operations.get(name.lower())
        if canonical is None:
            raise _bad(
                f"IMS operation {_show(name)} does not start replication; "
                f"accepted: {', '.join(spec.operations.values())}"
            )
        name = canonical
    status = record.get("trace_status")
    if status is not None and (not isinstance(status, str) or status.strip().lower() != "normal"):
        raise _bad(f"the IMS operation failed (trace_status {_show(status)}, not 'normal'); nothing to {spec.verb}")
    code = record.get("code")
    if code is not None and code != "" and not _succeeded(code):
        raise _bad(f"the IMS operation failed (code {_show(code)}, not 2xx); nothing to {spec.verb}")
    resource = record.get("resource_id")
    if resource is None or resource == "":
        raise _bad(f"the CTS record has no resource_id (the ID of the image to {spec.verb})")
    return _Found(ids=(_image_id(resource, "resource_id"),), source=source, operation=name)


def _direct(spec: _Spec, event: Mapping[object, object], source: str | None, where: str, prefix: str = "") -> _Found:
    _reject_unknown(event, spec.direct_keys, where)
    ids = _collect(event, spec.singular, spec.plural, _image_id, prefix)
    region = _optional_region(event, "region", prefix)
    dry_run = _dry_run(event, prefix) if "dry_run" in spec.direct_keys else None
    if not ids and spec.ids_required:
        raise _bad(f"{where} names no image: give {spec.singular} or {spec.plural}")
    if not ids and region is not None:
        raise _bad(f"{prefix}region names the region of {spec.plural}; give {spec.plural} too, or leave region out")
    if source is None:
        source = "completion" if ids and not spec.ids_required else "direct"
    return _Found(ids=ids, source=source, region=region, dry_run=dry_run)


def _one(spec: _Spec, event: object, source: str | None, depth: int) -> _Found:
    """One event, unwrapped from its cts / CloudEvent / EventBridge envelope (no batches)."""
    if not isinstance(event, Mapping):
        raise _bad(f"expected a JSON object, got {_kind(event)}")
    if depth > _ENVELOPE_DEPTH:
        raise _bad("envelopes (cts, data, detail) are nested too deeply")
    if "cts" in event:
        record = event["cts"]
        if not isinstance(record, Mapping):
            raise _bad(f"'cts' must be an object holding the CTS record, got {_kind(record)}")
        return _cts(spec, record, source or "cts")
    if _looks_like_cts(event):
        return _cts(spec, event, source or "cts")
    if "specversion" in event or "data" in event:
        return _one(spec, _embedded(event.get("data"), "data"), source or "eventgrid", depth + 1)
    if "detail" in event:
        return _one(spec, _embedded(event["detail"], "detail"), source or "eventbridge", depth + 1)
    return _direct(spec, event, source, "a direct invocation" if source is None else "the event")


def _batch(spec: _Spec, event: Mapping[object, object]) -> _Found:
    entries = event["events"]
    if not isinstance(entries, (list, tuple)):
        raise _bad(f"'events' must be a list of CloudEvents, got {_kind(entries)}")
    if not entries:
        raise _bad("'events' is an empty list")
    if len(entries) > MAX_BATCH:
        raise _bad(f"'events' has {len(entries)} entries; at most {MAX_BATCH} are accepted")
    ids: list[str] = []
    operations: list[str] = []
    problems: list[str] = []
    region: str | None = None
    dry_run: bool | None = None
    usable = 0
    for index, entry in enumerate(entries):
        try:
            found = _one(spec, entry, "eventgrid", 1)
            if not found.ids:
                raise _bad(f"names no {spec.singular}")
            if usable and found.region != region:
                raise _bad(f"region {found.region or 'home'} differs from the batch's ({region or 'home'})")
        except InvalidEvent as exc:
            problems.append(f"events[{index}]: {exc}")
            continue
        if not usable:
            region, dry_run = found.region, found.dry_run
        usable += 1
        ids.extend(found.ids)
        if found.operation:
            operations.append(found.operation)
    if not usable:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _bad(f"no usable entry in the batch: {problems[0]}{more}")
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more problems"]
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_ITEMS:
        raise _bad(f"the batch names {len(unique)} images; at most {MAX_ITEMS} are accepted")
    return _Found(
        ids=unique,
        source="eventgrid",
        region=region,
        operation=",".join(dict.fromkeys(operations)),
        dry_run=dry_run,
        problems=problems,
    )


def _cts_like(spec: _Spec, event: Mapping[object, object]) -> _Found:
    if "events" in event:
        return _batch(spec, event)
    return _one(spec, event, None, 0)


# --------------------------------------------------------------------------------------------------
# The three parsers


def _image_trigger(event: object) -> ImageTrigger:
    if not isinstance(event, Mapping):
        raise _bad(f"expected a JSON object (a CTS record or {{'image_id': ...}}), got {_kind(event)}")
    if _is_timer(event) or _schedule_source(event):
        raise _bad("a scheduled event names no image; replicate_on_create takes IMS CTS records")
    if "trigger_type" in event:
        raise _other_trigger_type(event)
    found = _cts_like(_IMAGE, event)
    return ImageTrigger(
        image_ids=found.ids,
        region=found.region,
        source=found.source,
        operation=found.operation,
        problems=tuple(found.problems),
    )


def _sweep_options(options: Mapping[object, object], source: str, where: str) -> SweepTrigger:
    _reject_unknown(options, _SWEEP_KEYS, where)
    prefix = "" if source == "direct" else f"{where}: "
    return SweepTrigger(
        regions=_collect(options, "region", "regions", _region, prefix),
        image_ids=_collect(options, "image_id", "image_ids", _image_id, prefix),
        dry_run=_dry_run(options, prefix),
        source=source,
    )


def _sweep_trigger(event: object) -> SweepTrigger:
    if not isinstance(event, Mapping):
        raise _bad(f"expected a JSON object (a TIMER or scheduled event, or {{}}), got {_kind(event)}")
    if _is_timer(event):
        return _sweep_options(_options(event.get("user_event"), "user_event"), "timer", "user_event")
    source = _schedule_source(event)
    if source is not None:
        return _sweep_options(_options(event.get("detail"), "detail"), source, "detail")
    if "trigger_type" in event:
        raise _other_trigger_type(event)
    if "cts" in event or _looks_like_cts(event) or "events" in event:
        raise _bad("a CTS record or event batch does not start the DR run; send a TIMER or scheduled event")
    return _sweep_options(event, "direct", "a direct invocation")


def _completion_trigger(event: object) -> CompletionTrigger:
    if not isinstance(event, Mapping):
        raise _bad(f"expected a JSON object (a TIMER, CTS or completion event, or {{}}), got {_kind(event)}")
    if _is_timer(event):
        options = _options(event.get("user_event"), "user_event")
        found = _direct(_COMPLETION, options, "timer", "user_event", "user_event: ")
    elif (source := _schedule_source(event)) is not None:
        found = _direct(_COMPLETION, _options(event.get("detail"), "detail"), source, "detail", "detail: ")
    elif "trigger_type" in event:
        raise _other_trigger_type(event)
    else:
        found = _cts_like(_COMPLETION, event)
    return CompletionTrigger(
        replica_ids=found.ids,
        region=found.region,
        source=found.source,
        dry_run=found.dry_run,
        problems=tuple(found.problems),
    )


def _accept_options(options: Mapping[object, object], source: str, where: str) -> AcceptTrigger:
    _reject_unknown(options, _ACCEPT_KEYS, where)
    prefix = "" if source == "direct" else f"{where}: "
    return AcceptTrigger(
        regions=_collect(options, "region", "regions", _region, prefix),
        dry_run=_dry_run(options, prefix),
        source=source,
    )


def _accept_trigger(event: object) -> AcceptTrigger:
    if not isinstance(event, Mapping):
        raise _bad(f"expected a JSON object (a TIMER or scheduled event, or {{}}), got {_kind(event)}")
    if _is_timer(event):
        return _accept_options(_options(event.get("user_event"), "user_event"), "timer", "user_event")
    source = _schedule_source(event)
    if source is not None:
        return _accept_options(_options(event.get("detail"), "detail"), source, "detail")
    if "trigger_type" in event:
        raise _other_trigger_type(event)
    if "cts" in event or _looks_like_cts(event) or "events" in event or "detail" in event or "data" in event:
        raise _bad("accept_shares runs on a schedule: send a TIMER or scheduled event, or a direct invocation")
    return _accept_options(event, "direct", "a direct invocation")
