"""Platform events in, domain commands out: every envelope the four functions accept.

``image_trigger`` (replicate_on_create), ``sweep_trigger`` (scheduled_dr_copy),
``completion_trigger`` (share_on_complete) and ``accept_trigger`` (accept_shares) each take
whatever the platform delivered and return a command of ``imsync.domain.commands``, or raise
:class:`InvalidEvent` naming what is wrong and what is accepted. They never raise anything else,
whatever JSON-like value they are given. The envelopes: FunctionGraph TIMER, EventBridge scheduled
rule and Scheduler payload, CTS record (bare or in ``cts``), EventGrid CloudEvent and batch,
EventBridge ``detail``, direct invocation; ``docs/events.md`` shows each. Fields are checked, and
quoted only as short excerpts, by ``imsync.platform_events.fields``. Nothing outside the standard library and
imsync's own modules is imported: no pydantic on the cold path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TypeVar

from imsync.domain.commands import AcceptTrigger, CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.domain.errors import InvalidEvent
from imsync.platform_events.excerpts import excerpt, kind
from imsync.platform_events.fields import (
    MAX_ITEMS,
    Options,
    bad_field,
    embedded,
    image_id,
    ims_operation,
    region_id,
    succeeded_on,
)

__all__ = [
    "IMAGE_OPERATIONS",
    "accept_trigger",
    "completion_trigger",
    "image_trigger",
    "sweep_trigger",
]

#: IMS operations (CTS trace names) that make replicate_on_create look at an image.
IMAGE_OPERATIONS: tuple[str, ...] = ("createImage", "addTag", "batchTagsAction", "updateImage")

MAX_BATCH = 1000  # entries in one {"events": [...]} batch
MAX_PROBLEMS = 20  # per-entry problems kept on a trigger
_ENVELOPE_DEPTH = 3  # cts / data / detail wrappers unwrapped at most this deep

_CANONICAL_OPERATIONS = {name.lower(): name for name in IMAGE_OPERATIONS}
_CTS_MARKERS = ("service_type", "trace_name", "trace_status", "trace_id", "resource_id")
_SCHEDULED_OR_DIRECT = "a TIMER or scheduled event, or {}"
_SCHEDULE_SOURCES = {"aws.events": "eventbridge", "aws.scheduler": "scheduler"}
_T = TypeVar("_T")


def image_trigger(event: object, context: object = None) -> ImageTrigger:
    """Normalise a replicate_on_create event. ``context`` is accepted for symmetry and not used."""
    return _guarded("replicate_on_create", "a CTS record or {'image_id': ...}", _image, event)


def sweep_trigger(event: object, context: object = None) -> SweepTrigger:
    """Normalise a scheduled_dr_copy event. ``context`` is accepted for symmetry and not used."""
    return _guarded("scheduled_dr_copy", _SCHEDULED_OR_DIRECT, _sweep, event)


def completion_trigger(event: object, context: object = None) -> CompletionTrigger:
    """Normalise a share_on_complete event. ``context`` is accepted for symmetry and not used."""
    return _guarded("share_on_complete", "a TIMER, CTS or completion event, or {}", _completion, event)


def accept_trigger(event: object, context: object = None) -> AcceptTrigger:
    """Normalise an accept_shares event. ``context`` is accepted for symmetry and not used."""
    return _guarded("accept_shares", _SCHEDULED_OR_DIRECT, _accept, event)


def _guarded(function: str, expected: str, parse: Callable[[Mapping[object, object]], _T], event: object) -> _T:
    try:
        if not isinstance(event, Mapping):
            raise InvalidEvent(f"expected a JSON object ({expected}), got {kind(event)}")
        return parse(event)
    except InvalidEvent as exc:
        raise InvalidEvent(f"{function}: {exc}") from None
    except Exception as exc:  # last resort: the promise is "InvalidEvent or a trigger", nothing else
        raise InvalidEvent(
            f"{function}: the event could not be read ({type(exc).__name__}); see docs/events.md"
        ) from exc


# What each function reads, envelope by envelope


def _image(event: Mapping[object, object]) -> ImageTrigger:
    if _schedule_source(event) is not None:
        raise InvalidEvent("a scheduled event names no image; replicate_on_create takes IMS CTS records")
    _refuse_other_trigger_type(event)
    if "events" in event:
        return _image_batch(event["events"])
    return _unwrap(event, None, 0, _image_record, _image_direct)


def _sweep(event: Mapping[object, object]) -> SweepTrigger:
    refusal = "a CTS record or event batch does not start the DR run; send a TIMER or scheduled event"
    options, source = _schedule_or_direct(event, ("cts", "events", *_CTS_MARKERS), refusal)
    options.refuse_unknown(("dry_run", "image_id", "image_ids", "region", "regions"))
    return SweepTrigger(
        regions=options.values_of("region", "regions", region_id),
        image_ids=options.values_of("image_id", "image_ids", image_id),
        dry_run=options.dry_run(),
        source=source,
    )


def _completion(event: Mapping[object, object]) -> CompletionTrigger:
    if (source := _schedule_source(event)) is not None:
        return _replica_direct(_schedule_options(event, source), source)
    _refuse_other_trigger_type(event)
    if "events" in event:
        return _completion_batch(event["events"])
    return _unwrap(event, None, 0, _replica_record, _replica_direct)


def _accept(event: Mapping[object, object]) -> AcceptTrigger:
    refusal = "accept_shares runs on a schedule: send a TIMER or scheduled event, or a direct invocation"
    options, source = _schedule_or_direct(event, ("cts", "events", "detail", "data", *_CTS_MARKERS), refusal)
    options.refuse_unknown(("dry_run", "region", "regions"))
    regions = options.values_of("region", "regions", region_id)
    return AcceptTrigger(regions=regions, dry_run=options.dry_run(), source=source)


def _refuse_other_trigger_type(event: Mapping[object, object]) -> None:
    if "trigger_type" in event:
        raise InvalidEvent(f"FunctionGraph trigger type {excerpt(event.get('trigger_type'))} is not accepted here")


# Schedules: FunctionGraph TIMER, AWS EventBridge scheduled rule, EventBridge Scheduler


def _schedule_source(event: Mapping[object, object]) -> str | None:
    """The source of a scheduled event ("timer", "eventbridge" or "scheduler"), else None."""
    trigger_type = event.get("trigger_type")
    if isinstance(trigger_type, str) and trigger_type.upper() == "TIMER":
        return "timer"
    source = event.get("source")
    if event.get("detail-type") == "Scheduled Event" and isinstance(source, str):
        return _SCHEDULE_SOURCES.get(source)
    return None


def _schedule_options(event: Mapping[object, object], source: str) -> Options:
    """A TIMER's options are in its user_event, a scheduled event's in its detail."""
    name = "user_event" if source == "timer" else "detail"
    return Options.carried_by(event.get(name), name)


def _schedule_or_direct(
    event: Mapping[object, object], envelopes: tuple[str, ...], refusal: str
) -> tuple[Options, str]:
    """The options of a scheduled event or a direct invocation, and their source; ``refusal`` for ``envelopes``."""
    if (source := _schedule_source(event)) is not None:
        return _schedule_options(event, source), source
    _refuse_other_trigger_type(event)
    if any(key in event for key in envelopes):
        raise InvalidEvent(refusal)
    return Options(event, "a direct invocation"), "direct"


# Records: a CTS record, bare or in {"cts": ...}, in a CloudEvent's data or an EventBridge detail


def _unwrap(
    event: object,
    source: str | None,
    depth: int,
    record: Callable[[Mapping[object, object], str], _T],
    direct: Callable[[Options, str | None], _T],
) -> _T:
    """One event inside at most three envelopes: a CTS record goes to ``record``, anything else to ``direct``."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {kind(event)}")
    if depth > _ENVELOPE_DEPTH:
        raise InvalidEvent("envelopes (cts, data, detail) are nested too deeply")
    if "cts" in event:
        if not isinstance(event["cts"], Mapping):
            raise bad_field("'cts'", f"must be an object holding the CTS record, got {kind(event['cts'])}")
        return record(event["cts"], source or "cts")
    if any(key in event for key in _CTS_MARKERS):
        return record(event, source or "cts")
    if "specversion" in event or "data" in event:  # an EventGrid CloudEvent
        return _unwrap(embedded(event.get("data"), "data"), source or "eventgrid", depth + 1, record, direct)
    if "detail" in event:  # an AWS EventBridge envelope
        return _unwrap(embedded(event["detail"], "detail"), source or "eventbridge", depth + 1, record, direct)
    return direct(Options(event, "a direct invocation" if source is None else "the event"), source)


def _image_record(record: Mapping[object, object], source: str) -> ImageTrigger:
    operation = _CANONICAL_OPERATIONS.get(ims_operation(record).lower())
    if operation is None:
        raise InvalidEvent(
            f"IMS operation {excerpt(record.get('trace_name'))} does not start replication; "
            f"accepted: {', '.join(IMAGE_OPERATIONS)}"
        )
    return ImageTrigger(image_ids=(succeeded_on(record, "replicate"),), region=None, source=source, operation=operation)


def _replica_record(record: Mapping[object, object], source: str) -> CompletionTrigger:
    ims_operation(record)
    return CompletionTrigger(replica_ids=(succeeded_on(record, "share"),), source=source)


# Direct invocations: the options themselves, alone or inside a CloudEvent or EventBridge envelope


def _image_direct(options: Options, source: str | None) -> ImageTrigger:
    options.refuse_unknown(("image_id", "image_ids", "region"))
    image_ids = options.values_of("image_id", "image_ids", image_id)
    region = options.region()
    if not image_ids:
        raise bad_field(options.name, "names no image: give image_id or image_ids")
    return ImageTrigger(image_ids=image_ids, region=region, source=source or "direct")


def _replica_direct(options: Options, source: str | None) -> CompletionTrigger:
    options.refuse_unknown(("dry_run", "region", "replica_id", "replica_ids"))
    replica_ids = options.values_of("replica_id", "replica_ids", image_id)
    region = options.region()
    dry_run = options.dry_run()
    if not replica_ids and region is not None:
        problem = "names the region of replica_ids; give replica_ids too, or leave region out"
        raise bad_field(options.key("region"), problem)
    source = source or ("completion" if replica_ids else "direct")
    return CompletionTrigger(replica_ids=replica_ids, region=region, source=source, dry_run=dry_run)


# EventGrid CloudEvents batches: {"events": [<CloudEvent>, ...]}


_L = TypeVar("_L", ImageTrigger, CompletionTrigger)


def _image_batch(entries: object) -> ImageTrigger:
    usable, problems = _batch(entries, lambda event: _unwrap(event, "eventgrid", 1, _image_record, _image_direct))
    operations = ",".join(dict.fromkeys(found.operation for found in usable if found.operation))
    image_ids = _batch_ids(found.image_ids for found in usable)
    return replace(usable[0], image_ids=image_ids, source="eventgrid", operation=operations, problems=problems)


def _completion_batch(entries: object) -> CompletionTrigger:
    def entry(event: object) -> CompletionTrigger:
        found = _unwrap(event, "eventgrid", 1, _replica_record, _replica_direct)
        if not found.replica_ids:
            raise InvalidEvent("names no replica_id")
        return found

    usable, problems = _batch(entries, entry)
    replica_ids = _batch_ids(found.replica_ids for found in usable)
    return replace(usable[0], replica_ids=replica_ids, source="eventgrid", problems=problems)


def _batch(entries: object, read: Callable[[object], _L]) -> tuple[list[_L], tuple[str, ...]]:
    """The usable entries (all in the first one's region), and why each other entry was skipped."""
    if not isinstance(entries, (list, tuple)):
        raise bad_field("'events'", f"must be a list of CloudEvents, got {kind(entries)}")
    if not entries:
        raise bad_field("'events'", "is an empty list")
    if len(entries) > MAX_BATCH:
        raise bad_field("'events'", f"has {len(entries)} entries; at most {MAX_BATCH} are accepted")
    usable: list[_L] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        try:
            found = read(entry)
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
    unique = tuple(dict.fromkeys(item for group in groups for item in group))
    if len(unique) > MAX_ITEMS:
        raise InvalidEvent(f"the batch names {len(unique)} images; at most {MAX_ITEMS} are accepted")
    return unique
