"""End to end: the real handlers and the real Huawei SDK over HTTP against the emulator."""

import threading

import pytest

from imsync.domain.planner import MAX_COPY_ATTEMPTS
from tests.e2e.conftest import HOME
from tests.helpers import handlers
from tests.helpers.events import load_event

WRITES = ("POST", "PUT", "DELETE")
READ_ONLY_POSTS = ("resource_instances",)  # a POST that only reads


def writes(cloud):
    return [r for r in cloud.requests if r.method in WRITES and not any(p in r.path for p in READ_ONLY_POSTS)]


def golden(cloud, regions="cn-east-3_ap-southeast-1", **kw):
    tags = {"imsync-regions": regions, "team": "web", **kw.pop("tags", {})}
    return cloud.region(HOME).add_image(name=kw.pop("name", "web-base"), tags=tags, **kw)


def create_event(image):
    return load_event("cts_create_image.json", image_id=image.id)


def finish(cloud):
    cloud.run_until_idle()
    return handlers.share_on_complete(load_event("timer.json"))


def test_create_event_copies_once_per_region_with_name_marker_and_agency(cloud, imsync_env):
    image = golden(cloud)

    result = handlers.replicate_on_create(create_event(image))

    assert result["ok"], result
    assert result["counts"] == {"started": 2}
    for region in ("cn-east-3", "ap-southeast-1"):
        (replica,) = cloud.region(region).replicas_of(image.id)
        assert replica.name == f"copy_{HOME}_web-base"
        assert f"imsync:source={HOME}/{image.id}" in replica.description
        assert replica.status in ("queued", "saving")
    jobs = [j for j in cloud.jobs() if j.is_copy]
    assert sorted((j.image_id, j.dest_region, j.region) for j in jobs) == [
        (image.id, "ap-southeast-1", HOME),
        (image.id, "cn-east-3", HOME),
    ]
    assert cloud.region("cn-south-1").replicas_of(image.id) == []


def test_copy_without_the_named_agency_is_reported_not_retried_forever(cloud, imsync_env, monkeypatch):
    # The emulator checks the agency name and its IMS rights in both regions, so this also proves
    # that the right agency_name and project_name were sent in the happy path above.
    image = golden(cloud, regions="cn-east-3")
    monkeypatch.setenv("IMSYNC_AGENCY", "no-such-agency")

    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    for _ in range(MAX_COPY_ATTEMPTS + 1):
        handlers.scheduled_dr_copy(load_event("timer.json"))
        cloud.run_until_idle()

    replicas = cloud.region("cn-east-3").replicas_of(image.id)
    assert all(r.status != "active" for r in replicas)
    assert len(replicas) <= MAX_COPY_ATTEMPTS


def test_finished_copies_are_tagged_and_shared_with_the_partner(cloud, imsync_env):
    image = golden(cloud, tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))

    result = finish(cloud)

    assert result["ok"], result
    for region in ("cn-east-3", "ap-southeast-1"):
        (replica,) = cloud.region(region).replicas_of(image.id)
        assert replica.status == "active"
        assert replica.tags["imsync-source"] == image.id
        assert replica.tags["imsync-source-region"] == HOME
        assert replica.tags["team"] == "web"
        assert "imsync-regions" not in replica.tags and "imsync-share" not in replica.tags
        assert set(replica.members) == {cloud.recipient.projects[region]}
    # the source is shared in its own region too
    assert set(cloud.region(HOME).image(image.id).members) == {cloud.recipient.projects[HOME]}


def test_finalize_is_idempotent_and_shares_with_a_new_target_later(cloud, imsync_env, monkeypatch):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    finish(cloud)
    cloud.reset_counters()

    again = handlers.share_on_complete(load_event("timer.json"))

    assert again["counts"] == {"ok": 1}
    assert writes(cloud) == []
    extra = cloud.add_account("auditor")
    targets = {"partner": {"cn-east-3": [cloud.recipient.projects["cn-east-3"], extra.projects["cn-east-3"]]}}
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", __import__("json").dumps(targets))

    drift = handlers.share_on_complete(load_event("timer.json"))

    assert drift["ok"], drift
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert set(replica.members) == {cloud.recipient.projects["cn-east-3"], extra.projects["cn-east-3"]}


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({"iso": True}, "ISO images cannot be copied"),
        ({"encrypted": True}, "encrypted images cannot be copied"),
        ({"size_gb": 301}, "at most 300 GB"),
        ({"whole_image": True}, "whole-ECS image"),
        ({"frozen": True}, "frozen images cannot be copied"),
    ],
)
def test_images_ims_cannot_copy_are_refused_with_a_reason_and_nothing_is_written(cloud, imsync_env, attributes, reason):
    image = golden(cloud, **attributes)
    before = dict(image.tags)

    result = handlers.replicate_on_create(create_event(image))

    refused = [r for r in result["results"] if r["outcome"] == "refused"]
    assert refused and all(reason in r["reason"] for r in refused), result
    # The one write: the mark saying the refusal was announced (README, "Notifications").
    assert [w.path for w in writes(cloud) if not w.path.endswith("/tags/action")] == []
    tags = dict(cloud.region(HOME).image(image.id).tags)
    assert tags.pop("imsync-noticed") and tags == before


def test_image_still_being_created_is_deferred_then_copied_by_the_dr_run(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3", status="saving")

    first = handlers.replicate_on_create(create_event(image))

    assert first["counts"] == {"deferred": 1}
    assert "still being created" in first["results"][0]["reason"]
    cloud.region(HOME).set_status(image.id, "active")
    later = handlers.scheduled_dr_copy(load_event("timer.json"))
    assert later["counts"] == {"started": 1}


def test_the_same_event_three_times_and_from_threads_makes_one_copy(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    event = create_event(image)
    for _ in range(3):
        handlers.replicate_on_create(event)
    threads = [threading.Thread(target=handlers.replicate_on_create, args=(event,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1


def test_nine_images_never_exceed_five_copies_in_flight_and_all_replicate(cloud, imsync_env):
    images = [golden(cloud, regions="cn-east-3", name=f"img-{i}") for i in range(9)]
    for image in images:
        handlers.replicate_on_create(create_event(image))
    for _ in range(5):
        cloud.run_until_idle()
        handlers.scheduled_dr_copy(load_event("timer.json"))
    cloud.run_until_idle()
    finish(cloud)

    assert cloud.max_in_flight <= 5
    for image in images:
        (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
        assert replica.status == "active" and replica.tags["imsync-source"] == image.id


def test_dr_run_backfills_images_that_never_had_an_event_and_recopies_deleted_replicas(cloud, imsync_env):
    quiet = golden(cloud, regions="cn-east-3_cn-south-1")

    handlers.scheduled_dr_copy(load_event("timer.json"))
    finish(cloud)
    (lost,) = cloud.region("cn-south-1").replicas_of(quiet.id)
    cloud.region("cn-south-1").delete_image(lost.id)

    again = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert [(r["region"], r["outcome"]) for r in again["results"] if r["action"] == "copy"] == [
        ("cn-south-1", "started")
    ]
    assert len(cloud.region("cn-east-3").replicas_of(quiet.id)) == 1
    assert len(cloud.region("cn-south-1").replicas_of(quiet.id)) == 1


def test_a_lost_copy_answer_still_leaves_one_replica(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    cloud.faults.add(method="POST", path=r"cross_region_copy", lose_answer=True, count=1)

    result = handlers.replicate_on_create(create_event(image))
    handlers.replicate_on_create(create_event(image))
    handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result["results"][0]["outcome"] == "started", result
    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_on_reads_are_retried(cloud, imsync_env, status):
    image = golden(cloud, regions="cn-east-3")
    cloud.faults.add(status=status, method="GET", path=r"/v2/cloudimages", count=2)

    result = handlers.replicate_on_create(create_event(image))

    assert result["counts"] == {"started": 1}, result


def test_throttled_copy_request_is_retried(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    cloud.faults.add(status=429, method="POST", path=r"cross_region_copy", count=1)

    result = handlers.replicate_on_create(create_event(image))

    assert result["counts"] == {"started": 1}, result
    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1


def test_failed_copies_are_retried_a_bounded_number_of_times(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    for _ in range(MAX_COPY_ATTEMPTS + 2):
        cloud.fail_next_copy(code="IMG.0100", reason="disk error")
        handlers.scheduled_dr_copy(load_event("timer.json"))
        cloud.run_until_idle()

    final = handlers.scheduled_dr_copy(load_event("timer.json"))

    killed = [r for r in cloud.region("cn-east-3").replicas_of(image.id) if r.status == "killed"]
    assert len(killed) == MAX_COPY_ATTEMPTS
    assert final["results"][0]["outcome"] == "failed"
    assert "stopped retrying" in final["results"][0]["reason"]


def test_replicas_are_never_copied_again(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1
    replica_in_home = cloud.region(HOME).add_image(
        name="looks-like-source", tags={"imsync-regions": "cn-east-3", "imsync-source": image.id}
    )

    result = handlers.replicate_on_create(create_event(replica_in_home))

    assert result["results"][0]["outcome"] == "ignored"
    assert "never copied again" in result["results"][0]["reason"]
    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1


def test_when_schedule_waits_for_the_dr_run(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-when": "schedule"})

    on_event = handlers.replicate_on_create(create_event(image))
    scheduled = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert on_event["counts"] == {"deferred": 1}
    assert scheduled["counts"] == {"started": 1}


def test_dry_run_plans_without_a_single_write(cloud, imsync_env, monkeypatch):
    golden(cloud, tags={"imsync-share": "partner"})
    monkeypatch.setenv("IMSYNC_DRY_RUN", "true")

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result["dry_run"] and result["counts"]["planned"] >= 2, result
    assert writes(cloud) == []


def test_disallowed_region_and_unknown_alias_are_refused_and_the_rest_applies(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3_eu-west-101", tags={"imsync-share": "partner_stranger"})

    result = handlers.replicate_on_create(create_event(image))

    reasons = " | ".join(r["reason"] for r in result["results"] if r["outcome"] == "refused")
    assert "'eu-west-101' is not in IMSYNC_ALLOWED_REGIONS" in reasons
    assert "'stranger' is not a share target" in reasons
    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1


def test_invalid_tag_value_is_refused_whole_without_writes(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3_cn-south-1_ap-southeast-1_cn-east-3_x")

    result = handlers.replicate_on_create(create_event(image))

    assert "IMS allows 43" in result["results"][0]["reason"]
    # Nothing is copied or shared; the one write is the mark that remembers the refusal was announced.
    assert [(r.operation, image.id in r.path) for r in writes(cloud)] == [("batch_add_or_delete_tags", True)]
    assert set(cloud.region(HOME).image(image.id).tags) == {"imsync-regions", "team", "imsync-noticed"}


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"cts": {"service_type": "ECS", "trace_name": "createServer", "resource_id": "x"}},
        {"cts": {"service_type": "IMS", "trace_name": "createImage"}},
        "not json",
        None,
    ],
)
def test_bad_events_change_nothing_and_say_why(cloud, imsync_env, event):
    result = handlers.replicate_on_create(event)

    assert result["ok"] is False and result["error"]
    assert writes(cloud) == []


def test_unknown_image_is_reported_and_does_not_stop_others(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    event = {"image_ids": ["00000000-0000-0000-0000-00000000dead", image.id]}

    result = handlers.replicate_on_create(event)

    outcomes = {r["image_id"]: r["outcome"] for r in result["results"]}
    assert outcomes == {"00000000-0000-0000-0000-00000000dead": "error", image.id: "started"}
    assert "does not exist" in result["results"][0]["reason"]


def test_wrong_credentials_give_a_clear_auth_error_and_no_write(cloud, imsync_env, monkeypatch):
    image = golden(cloud, regions="cn-east-3")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "not-the-right-secret-key")

    result = handlers.replicate_on_create(create_event(image))

    assert result["ok"] is False
    text = str(result)
    assert "not-the-right-secret-key" not in text
    assert any(word in text.lower() for word in ("credential", "signature", "auth")), text
    assert writes(cloud) == []


def test_source_regions_outside_the_deployment_are_refused(cloud, imsync_env):
    image = cloud.region("cn-east-3").add_image(name="x", tags={"imsync-regions": "ap-southeast-1"})

    result = handlers.replicate_on_create({"image_id": image.id, "region": "cn-east-3"})

    assert result["results"][0]["outcome"] == "refused"
    assert "not a source region" in result["results"][0]["reason"]
    assert writes(cloud) == []


def test_copy_limit_leaves_room_for_copies_imsync_did_not_start(cloud, imsync_env, monkeypatch):
    monkeypatch.setenv("IMSYNC_MAX_CONCURRENT_COPIES", "2")
    images = [golden(cloud, regions="cn-east-3", name=f"i{i}") for i in range(3)]

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result["counts"] == {"started": 2, "deferred": 1}
    assert sum(len(cloud.region("cn-east-3").replicas_of(i.id)) for i in images) == 2


def test_encrypted_source_is_not_shared(cloud, imsync_env):
    image = golden(cloud, regions="", encrypted=True, tags={"imsync-share": "partner"})

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert any("cannot be shared" in r["reason"] for r in result["results"]), result
    assert cloud.region(HOME).image(image.id).members == {}


def test_a_refused_share_batch_is_retried_after_reading_the_members(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    # Every attempt of the optimistic batch fails; the look-then-add path must still share it.
    cloud.faults.add(status=500, method="POST", path=r"/v1/cloudimages/members", count=5)

    result = handlers.share_on_complete(load_event("timer.json"))

    assert result["ok"], result
    assert cloud.counters["list_image_members"] >= 1
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert set(replica.members) == {cloud.recipient.projects["cn-east-3"]}
