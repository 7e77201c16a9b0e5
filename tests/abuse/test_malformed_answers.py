"""An IMS that answers malformed JSON or unexpected fields: an error with a reason, no crash, others' work kept."""

import json
import os

import pytest

from tests.abuse.conftest import HOME, writes
from tests.helpers.events import load_event

BODIES = {
    "not JSON": "{not json",
    "HTML error page": "<html><body>502 Bad Gateway</body></html>",
    "empty object": "{}",
    "images not a list": '{"images": "surprise", "page_info": 7}',
    "image entries not objects": '{"images": [1, "two", null, []]}',
    "odd field types": '{"images": [{"id": 5, "status": ["active"], "tags": {"k": 1}, "__image_size": "big",'
    ' "__description": {"x": 1}, "__whole_image": 3}], "unexpected": {"deep": [1, 2]}}',
    "a JSON list": "[]",
    "a JSON string": '"images"',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_malformed_listing_is_an_error_with_a_reason_and_nothing_is_written(cloud, deployment, call, body):
    cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
    cloud.faults.add(method="GET", path=r"/v2/cloudimages$", region=HOME, body=body, count=None)

    answer = call("scheduled_dr_copy", load_event("timer"))

    assert "results" in answer
    text = " ".join(r.get("reason", "") for r in answer["results"]) + " ".join(answer.get("errors", []))
    assert writes(cloud) == []
    if body == "{}" or "unexpected" in body:
        return  # a valid shape (empty, or with fields imsync does not know): read as far as it goes, no crash
    assert answer["ok"] is False, answer
    assert "IMS" in text or "answer" in text, answer
    assert writes(cloud) == []


@pytest.mark.parametrize("body", ["{not json", '{"job_id": {"x": 1}}', "[]"])
def test_a_malformed_answer_to_a_copy_leaves_one_replica_and_the_other_images_copied(cloud, deployment, call, body):
    first = cloud.region(HOME).add_image(name="a", tags={"imsync-regions": "cn-east-3"})
    second = cloud.region(HOME).add_image(name="b", tags={"imsync-regions": "cn-east-3"})
    cloud.faults.add(method="POST", path=r"cross_region_copy", body=body, count=1)

    answer = call("scheduled_dr_copy", load_event("timer"))
    call("scheduled_dr_copy", load_event("timer"))
    cloud.run_until_idle()
    call("share_on_complete", load_event("timer"))

    assert "results" in answer, answer
    for image in (first, second):
        (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
        assert replica.status == "active"


def test_a_malformed_member_listing_does_not_stop_the_other_replicas(cloud, deployment, call, monkeypatch):
    images = [
        cloud.region(HOME).add_image(name=n, tags={"imsync-regions": "cn-east-3", "imsync-share": "partner"})
        for n in ("a", "b")
    ]
    call("scheduled_dr_copy", load_event("timer"))
    cloud.run_until_idle()
    call("share_on_complete", load_event("timer"))
    # The alias gains a project: the finished replicas are shared again, which reads their members first.
    newcomer = cloud.add_account("newcomer").projects["cn-east-3"]
    targets = json.loads(os.environ["IMSYNC_SHARE_TARGETS"])
    targets["partner"]["cn-east-3"].append(newcomer)
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps(targets))
    cloud.faults.add(method="GET", path=r"/members", region="cn-east-3", body="<html>", count=1)

    answer = call("share_on_complete", load_event("timer"))
    again = call("share_on_complete", load_event("timer"))

    assert any(r["outcome"] == "error" for r in answer["results"]), answer
    assert again["ok"], again
    for image in images:
        (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
        assert set(replica.members) == {cloud.recipient.projects["cn-east-3"], newcomer}
