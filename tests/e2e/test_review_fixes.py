"""Failures that must stay contained: one image, one region or one bug never costs the others their work."""

import json

from imsync.service import Replicator
from tests.e2e.conftest import HOME
from tests.e2e.test_replication import create_event, golden, writes
from tests.helpers import handlers
from tests.helpers.events import load_event


def test_an_image_ims_refuses_to_share_does_not_hold_back_the_others(cloud, imsync_env, monkeypatch):
    # IMS shares a whole-ECS image with at most 10 projects: an alias of 11 fails for it alone.
    projects = [cloud.recipient.projects[HOME]] + [cloud.add_account(f"a{i}").projects[HOME] for i in range(10)]
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps({"partner": {HOME: projects}}))
    whole = golden(cloud, regions="", name="whole", whole_image=True, tags={"imsync-share": "partner"})
    disk = golden(cloud, regions="", name="disk", tags={"imsync-share": "partner"})

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    outcomes = {r["image_id"]: r["outcome"] for r in result["results"] if r["action"] == "share"}
    assert outcomes == {whole.id: "error", disk.id: "done"}, result
    assert set(cloud.region(HOME).image(disk.id).members) == set(projects)
    assert cloud.region(HOME).image(whole.id).members == {}


def test_a_replica_that_cannot_be_shared_still_gets_its_lineage_tags(cloud, imsync_env, monkeypatch):
    # A project of another region: IMS refuses it as a member in cn-east-3 (IMG.0108).
    wrong = {"partner": {"cn-east-3": [cloud.recipient.projects[HOME]]}}
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps(wrong))
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()

    result = handlers.share_on_complete(load_event("timer.json"))

    assert any(r["outcome"] == "error" and r["action"] == "finalize" for r in result["results"]), result
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert replica.tags["imsync-source"] == image.id and replica.tags["imsync-source-region"] == HOME
    assert "imsync-shared" not in replica.tags  # so the share is tried again next run
    assert replica.members == {}


def test_when_ims_is_at_its_copy_limit_the_run_stops_asking(cloud, imsync_env):
    cloud.max_copies_in_flight = 1  # another tool of the account is copying too: IMS, not imsync, says no
    for i in range(4):
        golden(cloud, regions="cn-east-3", name=f"i{i}")

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result["counts"] == {"started": 1, "deferred": 3}, result
    assert cloud.counters["copy_image_cross_region"] == 2  # one accepted, one refused, then no more asking


def test_an_allowed_region_without_an_endpoint_costs_only_that_region(cloud, imsync_env, monkeypatch):
    monkeypatch.setenv("IMSYNC_ALLOWED_REGIONS", "cn-east-3,xx-east-9")
    image = golden(cloud, regions="cn-east-3")

    result = handlers.replicate_on_create(create_event(image))

    by_region = {r["region"]: r for r in result["results"]}
    assert by_region["cn-east-3"]["outcome"] == "started", result
    assert "HUAWEICLOUD_SDK_REGION_IMS_XX_EAST_9" in by_region["xx-east-9"]["reason"]


def test_a_bug_still_answers_in_the_summary_shape_and_changes_nothing(cloud, imsync_env, monkeypatch):
    golden(cloud, regions="cn-east-3")

    def broken(self, trigger):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Replicator, "sweep", broken)

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result == {
        "function": "scheduled_dr_copy",
        "ok": False,
        "error": "internal error (RuntimeError); the next run retries; details are in the log",
        "error_type": "InternalError",
        "results": [],
    }
    assert writes(cloud) == []
