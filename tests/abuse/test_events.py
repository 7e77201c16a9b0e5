"""Malformed and hostile events at the three handlers: a clear error, nothing written, nothing echoed at length."""

import copy

import pytest

from tests.abuse.conftest import HOME, writes
from tests.helpers.events import load_event

IMAGE = "11111111-2222-3333-4444-555555555555"


def cts(**changes):
    event = load_event("cts_create_image", image_id=IMAGE)
    event["cts"].update(changes)
    return event


def nested(depth):
    event: dict = {"cts": {}}
    inner = event["cts"]
    for _ in range(depth):
        inner["cts"] = {}
        inner = inner["cts"]
    return event


def deep_list(depth):
    value: list = []
    for _ in range(depth):
        value = [value]
    return {"image_ids": value}


HUGE = "x" * 2_000_000

REPLICATE = [
    ("none", None),
    ("empty object", {}),
    ("a string", "createImage " + IMAGE),
    ("a number", 42),
    ("a list", [IMAGE]),
    ("bytes-like text", "\x00\x01\x02"),
    ("CTS of another service", cts(service_type="ECS", trace_name="createServer")),
    ("CTS of a failed operation", cts(code="400", trace_status="abnormal")),
    ("CTS with a warning", cts(trace_status="warning")),
    ("CTS deleteImage", cts(trace_name="deleteImage")),
    ("CTS without resource_id", cts(resource_id=None)),
    ("resource_id a list", cts(resource_id=[IMAGE, IMAGE])),
    ("resource_id a number", cts(resource_id=12345)),
    ("resource_id SQL-looking", cts(resource_id="'; DROP TABLE images;--")),
    ("resource_id a path", cts(resource_id="../../v3/projects?name=cn-north-4")),
    ("resource_id a template", cts(resource_id="${jndi:ldap://x/a}")),
    ("resource_id unicode", cts(resource_id="ｉｍａｇｅ‮٣")),
    ("resource_id huge", cts(resource_id=HUGE)),
    ("trace_name a dict", cts(trace_name={"$ne": ""})),
    ("deeply nested envelopes", nested(200)),
    ("deeply nested list", deep_list(500)),
    ("batch of garbage", {"events": [1, "x", None, [], {"data": "nope"}]}),
    ("huge batch", {"events": [{"data": {}}] * 5000}),
    ("direct with unknown keys", {"image_ids": [IMAGE], "rm": "-rf /"}),
    ("direct region injection", {"image_ids": [IMAGE], "region": "cn-north-4/../../x"}),
    ("direct ids not a list", {"image_ids": IMAGE + "," + IMAGE}),
    ("direct too many ids", {"image_ids": [IMAGE] * 100_000}),
    ("EventBridge with detail a string", {"detail-type": "x", "source": "huaweicloud.cts", "detail": "{not json"}),
]

SWEEP = [
    ("a string", "run now"),
    ("a list", [{}]),
    ("user_event not JSON", {"trigger_type": "TIMER", "trigger_name": "t", "time": "x", "user_event": "{bad"}),
    ("user_event regions a string", {"trigger_type": "TIMER", "user_event": '{"regions": "cn-north-4"}'}),
    ("dry_run not a boolean", {"dry_run": "false; rm -rf /"}),
    ("region injection", {"regions": ["cn-north-4; curl evil"]}),
    ("unknown keys", {"__class__": "os.system", "regions": []}),
    ("huge user_event", {"trigger_type": "TIMER", "user_event": '{"regions": ["' + "a" * 200_000 + '"]}'}),
]

COMPLETE = [
    ("a number", 3.14),
    ("replica id injection", {"replica_id": "<script>alert(1)</script>"}),
    ("replica ids a dict", {"replica_ids": {"a": 1}}),
    ("region unicode", {"replica_id": IMAGE, "region": "cn-nörth-4"}),
    ("CTS for another service", cts(service_type="EVS", trace_name="createVolume")),
    ("unknown keys", {"replica_id": IMAGE, "force": True}),
]

CASES = (
    [("replicate_on_create", n, e) for n, e in REPLICATE]
    + [("scheduled_dr_copy", n, e) for n, e in SWEEP]
    + [("share_on_complete", n, e) for n, e in COMPLETE]
)


def test_there_are_at_least_thirty_hostile_events():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("handler", "name", "event"), CASES, ids=[f"{h}:{n}" for h, n, _ in CASES])
def test_a_malformed_event_is_refused_with_a_reason_and_changes_nothing(cloud, deployment, call, handler, name, event):
    # an opted-in image is there: a malformed event must not reach it
    cloud.region(HOME).add_image(name="bystander", tags={"imsync-regions": "cn-east-3"})
    try:
        before = copy.deepcopy(event)
    except RecursionError:  # the deeply nested ones: copy.deepcopy itself gives up
        before = None

    answer = call(handler, event)

    assert answer["ok"] is False, answer
    assert answer.get("error") and len(answer["error"]) >= 20, answer
    assert len(answer["error"]) < 1000  # the input is never echoed back at length
    assert writes(cloud) == []
    if before is not None:
        assert event == before  # the handler does not modify what it was given
