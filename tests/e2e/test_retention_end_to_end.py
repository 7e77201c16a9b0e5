"""Retention end to end: the real DR handler and SDK against the emulator; notices through its SMN.

A replica that follows its source is recorded orphaned when the source is deleted, then, after the grace
period, loses its members and is deleted: once, with one notice of each kind, under each reading of how IMS
treats a shared image (docs/emulator.md, delete_shared).
"""

from __future__ import annotations

import json

import pytest

from imsync.domain.retention import TAG_ORPHANED, TAG_RETAIN
from imsync.emulator import PROFILES
from tests.e2e.conftest import HOME
from tests.e2e.test_replication import golden
from tests.helpers import handlers
from tests.helpers.events import load_event

DAY = 86400.0
EAST = "cn-east-3"


@pytest.fixture
def topic(cloud, imsync_env, monkeypatch):
    urn = cloud.smn.add_topic("imsync-alerts", HOME)
    monkeypatch.setenv("IMSYNC_SMN_TOPIC_URN", urn)
    return urn


def told(cloud, topic, kind):
    return [n for n in (json.loads(m.text("https")) for m in cloud.smn.messages(topic)) if n["type"] == kind]


def dr_run():
    return handlers.scheduled_dr_copy(load_event("timer.json"))


@pytest.mark.parametrize("profile", ["documented", "late-copy"])
def test_a_shared_replica_follows_its_deleted_source_after_the_grace_period(cloud, topic, profile, monkeypatch):
    cloud.readings = PROFILES[profile]
    monkeypatch.setenv("IMSYNC_RETAIN_GRACE_DAYS", "3")
    source = golden(cloud, regions=EAST, tags={"imsync-share": "partner", TAG_RETAIN: "follow"})
    dr_run()
    cloud.run_until_idle()
    dr_run()
    cloud.run_until_idle()  # the member job
    dr_run()
    (replica,) = cloud.region(EAST).replicas_of(source.id)
    assert replica.tags[TAG_RETAIN] == "follow" and replica.members
    partner = cloud.recipient.projects[EAST]
    replica.members[partner] = "accepted"  # the partner accepted the share

    cloud.region(HOME).delete_image(source.id)
    first = dr_run()
    assert first["ok"], first
    assert TAG_ORPHANED in cloud.region(EAST).image(replica.id).tags
    cloud.clock.advance(2 * DAY)
    dr_run()
    assert cloud.region(EAST).image(replica.id) is not None
    cloud.clock.advance(1 * DAY)
    gone = dr_run()
    cloud.clock.advance(1 * DAY)
    dr_run()

    assert gone["ok"], gone
    assert cloud.region(EAST).image(replica.id) is None
    (orphaned,) = told(cloud, topic, "imsync.replica.orphaned")
    (deleted,) = told(cloud, topic, "imsync.replica.deleted")
    assert orphaned["replica_id"] == deleted["replica_id"] == replica.id and orphaned["delete_on"]
    assert deleted["accepted_members"] == [partner]
    assert cloud.counters.get("glance_delete_image", 0) == 1
    (message,) = [m for m in cloud.smn.messages(topic) if "deleted" in m.subject]
    assert message.subject == f"imsync: replica deleted for image {source.id} in {EAST}"
    assert "can no longer launch from it" in message.text("email")


@pytest.mark.parametrize("profile", ["documented", "late-copy"])
def test_a_deletion_nobody_could_be_told_of_waits_for_the_notifier(cloud, topic, profile, monkeypatch):
    """A deleted replica leaves nothing a later run could find an untold deletion by: the notice goes first."""
    cloud.readings = PROFILES[profile]
    monkeypatch.setenv("IMSYNC_RETAIN_GRACE_DAYS", "0")
    source = golden(cloud, regions=EAST, tags={"imsync-share": "partner", TAG_RETAIN: "follow"})
    dr_run()
    cloud.run_until_idle()
    dr_run()
    cloud.run_until_idle()  # the member job
    dr_run()
    (replica,) = cloud.region(EAST).replicas_of(source.id)
    partner = cloud.recipient.projects[EAST]
    replica.members[partner] = "accepted"
    cloud.region(HOME).delete_image(source.id)
    dr_run()  # records it orphaned, and tells that
    cloud.clock.advance(DAY)
    smn = cloud.faults.add(status=503, method="POST", path="/publish$", count=None)  # down for the run that deletes

    waited = dr_run()

    (deletion,) = [r for r in waited["results"] if r["action"] == "delete"]
    assert deletion["outcome"] == "deferred" and "could not be delivered" in deletion["reason"]
    assert cloud.region(EAST).image(replica.id).members == {partner: "accepted"}  # nothing undone untold
    assert cloud.counters.get("glance_delete_image", 0) == 0
    smn.count = 0  # back up
    dr_run()
    dr_run()
    assert cloud.region(EAST).image(replica.id) is None
    (deleted,) = told(cloud, topic, "imsync.replica.deleted")
    assert deleted["replica_id"] == replica.id and deleted["accepted_members"] == [partner]


def test_an_event_run_and_a_poll_never_delete(cloud, imsync_env, monkeypatch):
    monkeypatch.setenv("IMSYNC_RETAIN_GRACE_DAYS", "0")
    source = golden(cloud, regions=EAST, tags={TAG_RETAIN: "follow"})
    dr_run()
    cloud.run_until_idle()
    dr_run()
    (replica,) = cloud.region(EAST).replicas_of(source.id)
    cloud.region(HOME).delete_image(source.id)
    dr_run()
    cloud.clock.advance(DAY)
    handlers.share_on_complete(load_event("timer.json"))
    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=source.id))
    assert cloud.region(EAST).image(replica.id) is not None
    assert cloud.counters.get("glance_delete_image", 0) == 0
