"""imsync.platform_events: every accepted event shape, and a clear InvalidEvent for everything else."""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imsync.domain.commands import AcceptTrigger, CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.domain.errors import InvalidEvent
from imsync.platform_events import (
    accept_trigger,
    completion_trigger,
    image_trigger,
    sweep_trigger,
)
from tests.helpers.events import PLACEHOLDER_IMAGE_ID, load_event

REPO = Path(__file__).resolve().parents[1]
ID = PLACEHOLDER_IMAGE_ID
OTHER_ID = "00000000-0000-0000-0000-0000000000bb"
NEW_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
Parser = Callable[[object], Any]

SAMPLES: dict[str, tuple[Parser, type]] = {
    "cts_create_image.json": (image_trigger, ImageTrigger),
    "cts_create_image_bare.json": (image_trigger, ImageTrigger),
    "cts_add_tag.json": (image_trigger, ImageTrigger),
    "cts_batch_tags_action.json": (image_trigger, ImageTrigger),
    "cts_update_image.json": (image_trigger, ImageTrigger),
    "eventgrid_batch.json": (image_trigger, ImageTrigger),
    "eventbridge_cts.json": (image_trigger, ImageTrigger),
    "direct_replicate.json": (image_trigger, ImageTrigger),
    "timer.json": (sweep_trigger, SweepTrigger),
    "timer_with_options.json": (sweep_trigger, SweepTrigger),
    "eventbridge_scheduled.json": (sweep_trigger, SweepTrigger),
    "scheduler.json": (sweep_trigger, SweepTrigger),
    "direct_sweep.json": (sweep_trigger, SweepTrigger),
    "completion.json": (completion_trigger, CompletionTrigger),
    "cts_replica_update.json": (completion_trigger, CompletionTrigger),
    "direct_complete.json": (completion_trigger, CompletionTrigger),
    "accept_timer.json": (accept_trigger, AcceptTrigger),
    "direct_accept.json": (accept_trigger, AcceptTrigger),
}


def record(**changes: Any) -> dict[str, Any]:
    """The bare CTS record of the createImage sample, changed as asked (None deletes a key)."""
    rec = load_event("cts_create_image_bare.json")
    for key, value in changes.items():
        if value is None:
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec


def cloud_event(data: object) -> dict[str, Any]:
    return {
        "id": "e-1",
        "specversion": "1.0",
        "source": "HC.IMS",
        "type": "IMS:CloudTrace:ApiCall",
        "data": data,
    }


def nested(key: str, depth: int, inner: object) -> object:
    value = inner
    for _ in range(depth):
        value = {key: value}
    return value


# --------------------------------------------------------------------------------------------------
# The sample events


def test_every_sample_file_is_mapped_to_its_parser() -> None:
    on_disk = {path.name for path in (REPO / "events").glob("*.json")}
    assert on_disk == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_parses_with_its_function(name: str) -> None:
    parse, kind = SAMPLES[name]
    assert isinstance(parse(load_event(name)), kind)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_hold_no_real_looking_account_ids(name: str) -> None:
    text = (REPO / "events" / name).read_text(encoding="utf-8")
    for number in re.findall(r"\b\d{12}\b", text):
        assert set(number) == {"0"}, number
    for hex_id in re.findall(r"\b[0-9a-f]{32}\b", text):
        assert hex_id.startswith("0000000000"), hex_id


@pytest.mark.parametrize(
    ("name", "operation"),
    [
        ("cts_create_image.json", "createImage"),
        ("cts_create_image_bare.json", "createImage"),
        ("cts_add_tag.json", "addTag"),
        ("cts_batch_tags_action.json", "batchTagsAction"),
        ("cts_update_image.json", "updateImage"),
    ],
)
def test_cts_samples_name_the_image_in_the_home_region(name: str, operation: str) -> None:
    assert image_trigger(load_event(name, image_id=NEW_ID)) == ImageTrigger(
        image_ids=(NEW_ID,), region=None, source="cts", operation=operation
    )


def test_eventgrid_batch_collects_every_image() -> None:
    trigger = image_trigger(load_event("eventgrid_batch.json", image_id=NEW_ID))
    assert trigger.image_ids == (NEW_ID, OTHER_ID)
    assert trigger.source == "eventgrid"
    assert trigger.operation == "createImage,addTag"
    assert trigger.problems == ()


def test_eventbridge_envelope_around_a_cts_record() -> None:
    trigger = image_trigger(load_event("eventbridge_cts.json", image_id=NEW_ID))
    assert trigger == ImageTrigger(image_ids=(NEW_ID,), region=None, source="eventbridge", operation="createImage")


def test_direct_replicate_names_images_and_region() -> None:
    trigger = image_trigger(load_event("direct_replicate.json", image_id=NEW_ID, region="cn-east-3"))
    assert trigger == ImageTrigger(image_ids=(NEW_ID,), region="cn-east-3", source="direct")


def test_timer_without_options_sweeps_with_the_settings() -> None:
    assert sweep_trigger(load_event("timer.json")) == SweepTrigger(source="timer")


def test_timer_with_options_in_a_json_string() -> None:
    trigger = sweep_trigger(load_event("timer_with_options.json", image_id=NEW_ID, region="cn-east-3"))
    assert trigger == SweepTrigger(regions=("cn-east-3",), image_ids=(NEW_ID,), dry_run=True, source="timer")


def test_aws_scheduled_events() -> None:
    assert sweep_trigger(load_event("eventbridge_scheduled.json")) == SweepTrigger(source="eventbridge")
    assert sweep_trigger(load_event("scheduler.json")) == SweepTrigger(source="scheduler")


def test_direct_sweep() -> None:
    trigger = sweep_trigger(load_event("direct_sweep.json", image_id=NEW_ID))
    assert trigger == SweepTrigger(regions=("cn-north-4",), image_ids=(NEW_ID,), dry_run=True, source="direct")


def test_completion_samples() -> None:
    assert completion_trigger(load_event("completion.json", replica_id=NEW_ID, region="cn-east-3")) == (
        CompletionTrigger(replica_ids=(NEW_ID,), region="cn-east-3", source="completion")
    )
    assert completion_trigger(load_event("cts_replica_update.json", replica_id=NEW_ID)) == CompletionTrigger(
        replica_ids=(NEW_ID,), region=None, source="cts"
    )
    assert completion_trigger(load_event("direct_complete.json")) == CompletionTrigger(dry_run=True)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("timer.json", "timer"),
        ("eventbridge_scheduled.json", "eventbridge"),
        ("scheduler.json", "scheduler"),
    ],
)
def test_scheduled_events_make_the_completion_function_poll(name: str, source: str) -> None:
    assert completion_trigger(load_event(name)) == CompletionTrigger(source=source)


def test_load_event_returns_fresh_copies_and_rejects_unknown_overrides() -> None:
    first = load_event("cts_create_image.json")
    first["cts"]["resource_id"] = "changed"
    assert load_event("cts_create_image")["cts"]["resource_id"] == ID
    with pytest.raises(TypeError):
        load_event("cts_create_image.json", imageid=NEW_ID)


def test_load_event_region_touches_only_region_options() -> None:
    event = load_event("eventbridge_cts.json", region="cn-east-3")
    assert event["region"] == "us-east-1"  # the AWS envelope's own region is not a region option
    assert load_event("direct_sweep.json", region="cn-east-3")["regions"] == ["cn-east-3"]


# --------------------------------------------------------------------------------------------------
# More accepted variants


def test_cts_service_and_operation_are_case_insensitive() -> None:
    trigger = image_trigger({"cts": record(service_type="ims", trace_name="ADDTAG")})
    assert trigger.operation == "addTag"


@pytest.mark.parametrize("code", [200, "200", "204", " 201 "])
def test_any_2xx_code_is_success(code: object) -> None:
    assert image_trigger(record(code=code)).image_ids == (ID,)


def test_a_record_without_status_or_code_is_accepted() -> None:
    assert image_trigger(record(trace_status=None, code=None)).image_ids == (ID,)


def test_single_cloud_event_with_data_as_json_text() -> None:
    trigger = image_trigger(cloud_event(json.dumps(record())))
    assert trigger == ImageTrigger(image_ids=(ID,), region=None, source="eventgrid", operation="createImage")


def test_cloud_event_whose_data_wraps_the_record_in_cts() -> None:
    assert image_trigger(cloud_event({"cts": record()})).source == "eventgrid"


def test_eventbridge_detail_may_be_a_bare_record_or_direct() -> None:
    assert image_trigger({"detail-type": "x", "detail": record()}).image_ids == (ID,)
    trigger = image_trigger({"detail-type": "x", "source": "me", "detail": {"image_id": NEW_ID}})
    assert trigger == ImageTrigger(image_ids=(NEW_ID,), region=None, source="eventbridge")


def test_direct_image_id_and_ids_are_merged_without_duplicates() -> None:
    trigger = image_trigger({"image_id": ID, "image_ids": [ID, OTHER_ID], "region": None})
    assert trigger.image_ids == (ID, OTHER_ID)
    assert trigger.region is None


def test_batch_keeps_the_good_entries_and_reports_the_bad() -> None:
    failed = record(trace_status="warning", code="403")
    event = {"events": [cloud_event(record()), "junk", cloud_event(failed), cloud_event(record())]}
    trigger = image_trigger(event)
    assert trigger.image_ids == (ID,)
    assert len(trigger.problems) == 2
    assert trigger.problems[0].startswith("events[1]: expected a JSON object")
    assert "events[2]" in trigger.problems[1] and "failed" in trigger.problems[1]


def test_batch_entries_must_agree_on_the_region() -> None:
    event = {
        "events": [
            cloud_event({"image_id": ID, "region": "cn-east-3"}),
            cloud_event({"image_id": OTHER_ID, "region": "cn-north-4"}),
        ]
    }
    trigger = image_trigger(event)
    assert trigger.image_ids == (ID,)
    assert trigger.region == "cn-east-3"
    assert "differs" in trigger.problems[0]


def test_batch_problems_are_capped() -> None:
    trigger = image_trigger({"events": [cloud_event(record())] + [1] * 100})
    assert len(trigger.problems) == 21
    assert trigger.problems[-1] == "... and 80 more problems"


def test_sweep_options_as_an_object_and_singular_keys() -> None:
    event = {"trigger_type": "TIMER", "user_event": {"region": "cn-east-3", "image_id": ID, "dry_run": False}}
    # "dry_run": false means "as configured" (None): an event may ask for a dry run, never cancel one.
    assert sweep_trigger(event) == SweepTrigger(regions=("cn-east-3",), image_ids=(ID,), dry_run=None, source="timer")
    assert sweep_trigger({"trigger_type": "timer", "user_event": "  "}) == SweepTrigger(source="timer")
    assert sweep_trigger({}) == SweepTrigger()
    assert sweep_trigger({"dry_run": None}) == SweepTrigger()


def test_scheduled_event_detail_may_carry_options() -> None:
    event = load_event("scheduler.json")
    event["detail"] = json.dumps({"regions": ["cn-east-3", "cn-east-3", "ap-southeast-1"]})
    assert sweep_trigger(event).regions == ("cn-east-3", "ap-southeast-1")


def test_completion_accepts_any_successful_ims_operation_on_the_replica() -> None:
    trigger = completion_trigger({"cts": record(trace_name="deleteTag", resource_id=NEW_ID)})
    assert trigger == CompletionTrigger(replica_ids=(NEW_ID,), source="cts")


def test_completion_in_an_eventbridge_envelope() -> None:
    event = {"detail-type": "imsync copy finished", "source": "imsync", "detail": {"replica_ids": [ID]}}
    assert completion_trigger(event) == CompletionTrigger(replica_ids=(ID,), source="eventbridge")
    assert completion_trigger({"detail-type": "x", "detail": {}}) == CompletionTrigger(source="eventbridge")


def test_completion_timer_options() -> None:
    event = {"trigger_type": "TIMER", "user_event": '{"dry_run": true}'}
    assert completion_trigger(event) == CompletionTrigger(source="timer", dry_run=True)


def test_context_argument_is_accepted() -> None:
    assert image_trigger(record(), None).image_ids == (ID,)
    assert sweep_trigger({}, object()) == SweepTrigger()
    assert completion_trigger({}, None) == CompletionTrigger()


def test_triggers_are_frozen_and_hashable() -> None:
    trigger = image_trigger(record())
    with pytest.raises(AttributeError):
        trigger.image_ids = ()  # type: ignore[misc]
    assert hash(trigger) == hash(image_trigger(record()))


def test_the_input_event_is_not_modified() -> None:
    event = load_event("eventgrid_batch.json")
    before = copy.deepcopy(event)
    image_trigger(event)
    completion_trigger(event)
    assert event == before


# --------------------------------------------------------------------------------------------------
# Malformed events

HUGE = "A" * 10_000_000

IMAGE_BAD: list[tuple[str, object, str]] = [
    ("none", None, "got null"),
    ("empty list", [], "got a list"),
    ("string", "string", "got a string"),
    ("number", 42, "got a number"),
    ("boolean", True, "got a boolean"),
    ("cts string", {"cts": "x"}, "'cts' must be an object"),
    ("cts null", {"cts": None}, "'cts' must be an object"),
    ("cts list", {"cts": [record()]}, "'cts' must be an object"),
    ("empty cts", {"cts": {}}, "only IMS records"),
    ("wrong service", {"cts": record(service_type="EVS", trace_name="volume_upload_imageVolume")}, "'EVS'"),
    ("service not a string", record(service_type=["IMS"]), "only IMS records"),
    (
        "wrong operation",
        {"cts": record(trace_name="deleteImage")},
        "'deleteImage' does not start replication",
    ),
    ("no operation", record(trace_name=None), "no trace_name"),
    ("failed status", record(trace_status="warning"), "the IMS operation failed"),
    ("incident status", record(trace_status="incident", code="500"), "nothing to replicate"),
    ("failed code", record(code="403"), "code '403', not 2xx"),
    ("bogus code", record(code="2000"), "not 2xx"),
    ("boolean code", record(code=True), "not 2xx"),
    ("missing resource_id", record(resource_id=None), "no resource_id"),
    ("empty resource_id", record(resource_id=""), "no resource_id"),
    ("injection in resource_id", record(resource_id="abc; rm -rf / #"), "is not an image ID"),
    ("path in resource_id", record(resource_id="../../v2/images"), "is not an image ID"),
    ("newline in resource_id", record(resource_id=ID + "\n"), "is not an image ID"),
    ("unicode resource_id", record(resource_id="imäge-١٢٣"), "is not an image ID"),
    ("long resource_id", record(resource_id="a" * 65), "at most 64 characters"),
    ("numeric resource_id", record(resource_id=123), "must be a string"),
    ("10 MB resource_id", record(resource_id=HUGE), "10000000 characters"),
    ("500-deep cts", nested("cts", 500, record()), "only IMS records"),
    ("500-deep detail", nested("detail", 500, record()), "nested too deeply"),
    ("500-deep list", nested("x", 500, None), "unknown keys 'x'"),
    ("empty object", {}, "names no image"),
    ("typo in direct key", {"image_id": ID, "regoin": "cn-north-4"}, "unknown keys 'regoin'"),
    ("unicode key", {"ключ": 1}, "unknown keys"),
    ("image_ids not a list", {"image_ids": ID}, "must be a list of strings"),
    ("image_ids empty", {"image_ids": []}, "empty list"),
    ("too many ids", {"image_ids": [ID] * 1001}, "at most 1000"),
    ("upper-case region", {"image_id": ID, "region": "CN-NORTH-4"}, "is not a region ID"),
    ("region with newline", {"image_id": ID, "region": "cn-north-4\n"}, "is not a region ID"),
    ("region with underscore", {"image_id": ID, "region": "cn_north_4"}, "is not a region ID"),
    ("region number", {"image_id": ID, "region": 4}, "must be a string"),
    ("events not a list", {"events": "x"}, "'events' must be a list"),
    ("events empty", {"events": []}, "'events' is an empty list"),
    ("batch all bad", {"events": [1, cloud_event({}), cloud_event(record(code="500"))]}, "no usable entry"),
    ("batch too large", {"events": [{}] * 1001}, "at most 1000"),
    ("data not json", cloud_event("not json"), "not a JSON document"),
    ("data 10 MB", cloud_event(HUGE), "at most 65536"),
    ("data deep json", cloud_event("[" * 60_000), "not a JSON document"),
    ("timer", {"trigger_type": "TIMER"}, "names no image"),
    ("other trigger type", {"trigger_type": "APIG", "body": "{}"}, "trigger type 'APIG'"),
]


@pytest.mark.parametrize(("label", "event", "expected"), IMAGE_BAD, ids=[case[0] for case in IMAGE_BAD])
def test_image_trigger_rejects(label: str, event: object, expected: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        image_trigger(event)
    message = str(caught.value)
    assert message.startswith("replicate_on_create: ")
    assert expected in message
    assert_safe(message)


SWEEP_BAD: list[tuple[str, object, str]] = [
    ("none", None, "got null"),
    ("list", [{}], "got a list"),
    ("string", "{}", "got a string"),
    ("number", 0, "got a number"),
    ("typo in key", {"regoins": ["cn-north-4"]}, "unknown keys 'regoins'; accepted: dry_run, image_id"),
    ("regions a string", {"regions": "cn-north-4"}, "must be a list of strings"),
    ("bad region", {"regions": ["cn-north-4", "mars-1"]}, "regions[1] 'mars-1' is not a region ID"),
    ("long region", {"regions": ["cn-" + "a" * 50 + "-1"]}, "is not a region ID"),
    ("dry_run string", {"dry_run": "yes"}, "dry_run must be true, false or null"),
    ("dry_run number", {"dry_run": 1}, "dry_run must be true, false or null"),
    ("empty image id", {"image_ids": [""]}, "is empty"),
    ("user_event text", {"trigger_type": "TIMER", "user_event": "regions=cn-north-4"}, "not a JSON document"),
    ("user_event list", {"trigger_type": "TIMER", "user_event": "[1]"}, "JSON object of options"),
    ("user_event number", {"trigger_type": "TIMER", "user_event": 7}, "JSON object of options"),
    (
        "user_event typo",
        {"trigger_type": "TIMER", "user_event": '{"dryrun": true}'},
        "user_event has unknown",
    ),
    (
        "user_event bad value",
        {"trigger_type": "TIMER", "user_event": '{"dry_run": 1}'},
        "user_event: dry_run",
    ),
    (
        "user_event deep",
        {"trigger_type": "TIMER", "user_event": "{" + '"a":[' * 10_000},
        "not a JSON document",
    ),
    ("user_event 10 MB", {"trigger_type": "TIMER", "user_event": HUGE}, "at most 65536"),
    (
        "scheduled detail typo",
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {"x": 1}},
        "detail has unknown keys 'x'",
    ),
    ("cts record", {"cts": record()}, "does not start the DR run"),
    ("bare cts record", record(), "does not start the DR run"),
    ("other trigger type", {"trigger_type": "OBS"}, "trigger type 'OBS'"),
    (
        "not-scheduled eventbridge",
        {"detail-type": "Object Created", "source": "aws.s3", "detail": {}},
        "unknown",
    ),
]


@pytest.mark.parametrize(("label", "event", "expected"), SWEEP_BAD, ids=[case[0] for case in SWEEP_BAD])
def test_sweep_trigger_rejects(label: str, event: object, expected: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        sweep_trigger(event)
    message = str(caught.value)
    assert message.startswith("scheduled_dr_copy: ")
    assert expected in message
    assert_safe(message)


COMPLETION_BAD: list[tuple[str, object, str]] = [
    ("none", None, "got null"),
    ("list", [], "got a list"),
    ("region without replicas", {"region": "cn-north-4"}, "give replica_ids too"),
    ("bad replica id", {"replica_id": "bad id!"}, "replica_id 'bad id!' is not an image ID"),
    ("empty replica list", {"replica_ids": [], "region": "cn-north-4"}, "empty list"),
    ("image_id instead of replica_id", {"image_id": ID}, "unknown keys 'image_id'"),
    ("failed operation", {"cts": record(trace_status="warning")}, "nothing to share"),
    ("other service", {"cts": record(service_type="ECS")}, "only IMS records"),
    ("timer typo", {"trigger_type": "TIMER", "user_event": {"regoin": "x"}}, "user_event has unknown keys"),
    (
        "timer bad region",
        {"trigger_type": "TIMER", "user_event": {"replica_id": ID, "region": "x"}},
        "region",
    ),
    ("batch without ids", {"events": [cloud_event({})]}, "names no replica_id"),
    ("bad dry_run", {"dry_run": "false"}, "dry_run must be true, false or null"),
]


@pytest.mark.parametrize(("label", "event", "expected"), COMPLETION_BAD, ids=[c[0] for c in COMPLETION_BAD])
def test_completion_trigger_rejects(label: str, event: object, expected: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        completion_trigger(event)
    message = str(caught.value)
    assert message.startswith("share_on_complete: ")
    assert expected in message
    assert_safe(message)


def assert_safe(message: str) -> None:
    """Short, one line, never a long run of the input, never the last-resort internal error."""
    assert len(message) < 400, message
    assert "\n" not in message
    assert "A" * 101 not in message
    assert "could not be read" not in message


# --------------------------------------------------------------------------------------------------
# Properties: nothing but InvalidEvent, whatever arrives

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
KEYS = st.sampled_from(
    [
        "cts", "events", "data", "specversion", "detail", "detail-type", "source", "trigger_type",
        "user_event", "service_type", "trace_name", "trace_status", "code", "resource_id", "image_id",
        "image_ids", "region", "regions", "replica_id", "replica_ids", "dry_run",
    ]
)  # fmt: skip
PLAUSIBLE = st.sampled_from(
    [
        "IMS", "ims", "createImage", "addTag", "updateImage", "normal", "warning", "200", "403", 200,
        "TIMER", "Scheduled Event", "aws.events", "aws.scheduler", "cn-north-4", "CN-NORTH-4", ID, "",
        "{}", '{"dry_run": true}', '{"regions": ["cn-east-3"]}', "[", True, False, None, [], [ID],
        ["cn-north-4"],
    ]
)  # fmt: skip
shaped = st.recursive(
    st.dictionaries(KEYS, PLAUSIBLE | json_like, max_size=6),
    lambda inner: st.dictionaries(KEYS, PLAUSIBLE | inner | st.lists(inner, max_size=3), max_size=6),
    max_leaves=20,
)
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")


def check_outcome(parse: Parser, event: object) -> None:
    try:
        result = parse(event)
    except InvalidEvent as exc:
        assert_safe_for_property(str(exc))
        return
    ids = getattr(result, "image_ids", ()) + getattr(result, "replica_ids", ())
    regions = getattr(result, "regions", ()) + ((result.region,) if getattr(result, "region", None) else ())
    assert all(ID_RE.fullmatch(i) for i in ids)
    assert all(REGION_RE.fullmatch(r) for r in regions)
    assert getattr(result, "dry_run", None) in (None, True)  # an event may ask for a dry run, never cancel one


def assert_safe_for_property(message: str) -> None:
    assert "could not be read" not in message, message
    assert len(message) < 600, message


PARSERS = [image_trigger, sweep_trigger, completion_trigger, accept_trigger]


@given(event=json_like)
def test_any_json_like_value_gives_a_trigger_or_invalid_event(event: object) -> None:
    for parse in PARSERS:
        check_outcome(parse, event)


@given(event=shaped)
def test_event_shaped_values_give_a_trigger_or_invalid_event(event: object) -> None:
    for parse in PARSERS:
        check_outcome(parse, event)


CTS_FIELDS = ["service_type", "trace_name", "trace_status", "code", "resource_id"]


@given(rec=st.fixed_dictionaries({}, optional={key: PLAUSIBLE | json_like for key in CTS_FIELDS}))
def test_cts_like_records_give_a_trigger_or_invalid_event(rec: dict[str, object]) -> None:
    for event in (rec, {"cts": rec}, cloud_event(rec), {"events": [cloud_event(rec)]}, {"detail": rec}):
        for parse in PARSERS:
            check_outcome(parse, event)


# --------------------------------------------------------------------------------------------------
# The module's own promises


def imports_outside_the_standard_library(module: str) -> set[str]:
    tree = ast.parse((REPO / "shared" / "imsync" / f"{module}.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__"}


def test_event_parsing_imports_only_the_standard_library_and_the_domain() -> None:
    """No pydantic (or anything else) on the cold path of the four functions."""
    assert imports_outside_the_standard_library("platform_events/__init__") == {
        "imsync.domain.commands",
        "imsync.domain.errors",
        "imsync.platform_events.fields",
        "imsync.platform_events.excerpts",
    }
    assert imports_outside_the_standard_library("platform_events/fields") == {
        "imsync.domain.errors",
        "imsync.platform_events.excerpts",
    }
    assert imports_outside_the_standard_library("platform_events/excerpts") == set()


def test_docs_show_every_sample_file() -> None:
    docs = (REPO / "docs" / "events.md").read_text(encoding="utf-8")
    for name in SAMPLES:
        assert name in docs, name
