"""Forged events: an attacker who can only inject events names image IDs; IMS's state decides everything else."""

import json

from tests.abuse.conftest import HOME, writes
from tests.helpers.events import load_event


def forged_create(image_id, claimed_tags):
    event = load_event("cts_create_image", image_id=image_id)
    event["cts"]["request"] = json.dumps({"name": "x", "tags": [f"{k}.{v}" for k, v in claimed_tags.items()]})
    return event


def test_tags_claimed_in_a_forged_record_are_ignored_only_the_images_own_tags_count(cloud, deployment, call):
    image = cloud.region(HOME).add_image(name="plain", tags={"team": "web"})  # not opted in

    answer = call(
        "replicate_on_create", forged_create(image.id, {"imsync-regions": "cn-east-3", "imsync-share": "partner"})
    )

    assert answer["results"][0]["outcome"] == "ignored" and "not opted in" in answer["results"][0]["reason"]
    assert writes(cloud) == []


def test_a_forged_record_for_another_accounts_image_changes_nothing(cloud, deployment, call):
    foreign = cloud.region(HOME).add_image(name="theirs", tags={"imsync-regions": "cn-east-3"}, owner=cloud.recipient)

    answer = call("replicate_on_create", forged_create(foreign.id, {"imsync-regions": "cn-east-3"}))

    assert answer["ok"] is False and "does not exist" in answer["results"][0]["reason"], answer
    assert writes(cloud) == []


def test_a_flood_of_forged_records_for_an_opted_in_image_makes_one_copy(cloud, deployment, call):
    image = cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
    event = forged_create(image.id, {"imsync-regions": "cn-east-3_cn-south-1_ap-southeast-1"})

    for _ in range(50):
        call("replicate_on_create", event)

    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1
    assert cloud.region("cn-south-1").replicas_of(image.id) == []  # the claim in the record is not the policy
    assert sum(1 for w in writes(cloud) if "cross_region_copy" in w.path) == 1


def test_a_forged_completion_naming_a_non_replica_shares_nothing(cloud, deployment, call):
    image = cloud.region("cn-east-3").add_image(name="not-a-replica", tags={"imsync-share": "partner"})

    answer = call("share_on_complete", {"replica_id": image.id, "region": "cn-east-3"})

    assert "not an imsync replica" in answer["results"][0]["reason"], answer
    assert writes(cloud) == []


def test_a_forged_completion_with_a_fake_marker_shares_only_what_the_real_source_asks(cloud, deployment, call):
    # A replica-looking image whose marker names a real source: imsync re-reads the *source's* tags.
    source = cloud.region(HOME).add_image(name="src", tags={"team": "web"})  # not opted in, shares nothing
    fake = cloud.region("cn-east-3").add_image(name="fake", description=f"imsync:source={HOME}/{source.id}")

    call("share_on_complete", {"replica_id": fake.id, "region": "cn-east-3"})

    assert writes(cloud) == []
    assert cloud.region("cn-east-3").image(fake.id).members == {}


def test_a_forged_sweep_cannot_widen_the_source_regions(cloud, deployment, call):
    cloud.region("cn-east-3").add_image(name="elsewhere", tags={"imsync-regions": "cn-south-1"})

    answer = call("scheduled_dr_copy", {"regions": ["cn-east-3"]})

    assert "not a source region" in answer["results"][0]["reason"], answer
    assert writes(cloud) == []


def test_deny_by_default_nothing_is_copied_or_shared_without_allow_lists(cloud, deployment, call, monkeypatch):
    monkeypatch.delenv("IMSYNC_ALLOWED_REGIONS")
    monkeypatch.delenv("IMSYNC_SHARE_TARGETS")
    image = cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner"})

    answer = call("scheduled_dr_copy", load_event("timer"))

    text = " | ".join(r["reason"] for r in answer["results"])
    assert "not in IMSYNC_ALLOWED_REGIONS (allowed: none)" in text and "known: none configured" in text, text
    # Nothing copied or shared: the one write is the mark that remembers the refusals were announced.
    assert [(r.operation, image.id in r.path) for r in writes(cloud)] == [("batch_add_or_delete_tags", True)]
    assert set(cloud.region(HOME).image(image.id).tags) == {"imsync-regions", "imsync-share", "imsync-noticed"}
