"""Each fact once: the real handlers publish to the emulator's SMN through the real SDK.

The 5-minute poll never repeats what was announced, an event tells its own decisions, the DR run
sends one digest of what is still open, a dry run tells nothing, and the mark that remembers what
was told stays within IMS's 10 tags.
"""

from __future__ import annotations

import json

import pytest

from imsync.emulator.readings import with_changes
from imsync.notices import MARK
from tests.e2e.conftest import HOME
from tests.e2e.test_replication import create_event, golden
from tests.helpers import handlers
from tests.helpers.events import load_event

HOUR = 3600.0


@pytest.fixture
def topic(cloud, imsync_env, monkeypatch):
    urn = cloud.smn.add_topic("imsync-alerts", HOME)
    monkeypatch.setenv("IMSYNC_SMN_TOPIC_URN", urn)
    return urn


def told(cloud, topic) -> list[dict]:
    """Every notification published so far, as machines read it."""
    return [json.loads(m.text("https")) for m in cloud.smn.messages(topic)]


def poll():
    return handlers.share_on_complete(load_event("timer.json"))


def dr_run(**options):
    return handlers.scheduled_dr_copy({**options} if options else load_event("timer.json"))


def test_a_refused_image_is_announced_once_across_many_polls(cloud, topic):
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    for _ in range(4):
        answer = poll()
        assert answer["counts"]["refused"] == 1, answer  # every run still reports it in its summary

    (notice,) = told(cloud, topic)
    assert (notice["type"], notice["source_image_id"], notice["region"]) == ("imsync.copy.refused", iso.id, "cn-east-3")
    assert "ISO" in notice["reason"]


def test_an_event_tells_its_own_refusal_and_the_polls_after_it_stay_quiet(cloud, topic):
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    handlers.replicate_on_create(create_event(iso))
    first = told(cloud, topic)
    poll()
    poll()

    assert [(n["type"], n["region"]) for n in first] == [("imsync.copy.refused", "cn-east-3")]
    assert told(cloud, topic) == first
    # The person tags one more region: the event tells the new refusal, not the old one again.
    cloud.region(HOME).image(iso.id).tags["imsync-regions"] = "cn-east-3_ap-southeast-1"
    handlers.replicate_on_create(load_event("cts_add_tag.json", image_id=iso.id))
    poll()
    assert [(n["type"], n["region"]) for n in told(cloud, topic)[len(first) :]] == [
        ("imsync.copy.refused", "ap-southeast-1")
    ]


def test_a_problem_that_goes_away_and_comes_back_is_told_again(cloud, topic):
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    def tags():
        return cloud.region(HOME).image(iso.id).tags  # fetched each time: a tag write may replace the dict

    poll()
    assert MARK in tags()
    del tags()["imsync-regions"]  # no longer a source: nothing open, the mark goes
    poll()
    assert tags() == {"team": "web"}
    tags()["imsync-regions"] = "cn-east-3"
    poll()

    assert [n["type"] for n in told(cloud, topic)] == ["imsync.copy.refused", "imsync.copy.refused"]


def test_the_dr_run_sends_one_digest_of_what_is_open_each_run(cloud, topic):
    iso = golden(cloud, regions="cn-east-3_cn-south-1", name="installer", iso=True)
    encrypted = golden(cloud, regions="cn-east-3", name="secret", encrypted=True)
    fine = golden(cloud, regions="cn-east-3", name="web")

    dr_run()
    poll()
    dr_run()
    del cloud.region(HOME).image(iso.id).tags["imsync-regions"]
    del cloud.region(HOME).image(encrypted.id).tags["imsync-regions"]
    assert dr_run()["ok"]  # nothing open any more: no digest

    notices = told(cloud, topic)
    assert [n["type"] for n in notices] == ["imsync.digest", "imsync.digest"]  # the poll between repeats nothing
    for digest in notices:
        assert digest["count"] == 3 and digest["function"] == "scheduled_dr_copy"
        listed = sorted((i["source_image_id"], i["region"], i["type"]) for i in digest["items"])
        assert listed == sorted(
            [
                (iso.id, "cn-east-3", "imsync.copy.refused"),
                (iso.id, "cn-south-1", "imsync.copy.refused"),
                (encrypted.id, "cn-east-3", "imsync.copy.refused"),
            ]
        )
    assert fine.id not in json.dumps(notices)
    (message,) = cloud.smn.messages(topic)[:1]
    assert message.subject == "imsync: 3 open problem(s) need a person"
    assert f"- copy refused: image {encrypted.id} ({HOME}) to cn-east-3: encrypted" in message.text("email")


def test_a_dry_run_announces_nothing_and_marks_nothing(cloud, topic, monkeypatch):
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    dry = dr_run(dry_run=True)
    with monkeypatch.context() as dry_deployment:
        dry_deployment.setenv("IMSYNC_DRY_RUN", "true")
        assert handlers.replicate_on_create(create_event(iso))["dry_run"]
        assert poll()["dry_run"]

    assert dry["dry_run"] and dry["counts"]["refused"] == 1
    assert told(cloud, topic) == []
    assert MARK not in cloud.region(HOME).image(iso.id).tags
    dr_run()  # the real run after it still tells what is open
    assert [n["type"] for n in told(cloud, topic)] == ["imsync.digest"]


def stuck_copy(cloud, source, region="cn-east-3", status="saving"):
    """A replica imsync started that IMS never finishes (added directly: the emulator would finish a real one)."""
    return cloud.region(region).add_image(
        name=f"copy_{HOME}_{source.name}",
        status=status,
        description=f"imsync:source={HOME}/{source.id} copied by imsync",
    )


def test_a_stuck_copy_is_in_the_digest_and_announced_once_by_the_polls(cloud, topic, monkeypatch):
    monkeypatch.setenv("IMSYNC_STUCK_AFTER_HOURS", "12")
    image = golden(cloud, regions="cn-east-3", name="web")
    replica = stuck_copy(cloud, image)
    cloud.clock.advance(11 * HOUR)

    assert poll()["counts"] == {"waiting": 1}  # 11 hours: still an ordinary copy in progress
    cloud.clock.advance(2 * HOUR)
    answer = poll()
    poll()
    dr_run()

    (result,) = answer["results"]
    assert result["outcome"] == "stuck" and "13 hours" in result["reason"], result
    notices = told(cloud, topic)
    assert [n["type"] for n in notices] == ["imsync.copy.stuck", "imsync.digest"]
    assert notices[0]["replica_id"] == replica.id and notices[0]["region"] == "cn-east-3"
    (item,) = notices[1]["items"]
    assert (item["type"], item["replica_id"]) == ("imsync.copy.stuck", replica.id)


@pytest.mark.parametrize(
    "tags",
    [
        {f"team{n}": "x" for n in range(8)},  # with imsync-regions and team: the 10 tags IMS allows
        {"imsync-share": "partner", **{f"team{n}": "x" for n in range(7)}},  # the 10th is the share mark's
    ],
    ids=["ten-tags", "share-mark-slot"],
)
def test_no_room_for_the_mark_the_polls_and_events_stay_quiet_and_the_digest_tells(cloud, topic, tags):
    # Events used to tell their own decisions here; the chaos suite found every event (a duplicate delivery, or
    # imsync's own copy note written to the description) telling every refusal again: three and more times.
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True, tags=tags)
    before = dict(cloud.region(HOME).image(iso.id).tags)

    for _ in range(3):
        poll()
        handlers.replicate_on_create(create_event(iso))
    assert told(cloud, topic) == []
    dr_run()

    assert cloud.region(HOME).image(iso.id).tags == before  # nothing was written to it
    (digest,) = told(cloud, topic)
    assert digest["type"] == "imsync.digest" and digest["items"][0]["source_image_id"] == iso.id


def test_a_source_whose_last_tag_slot_a_copy_note_keeps_needing_tells_its_refusal_once(cloud, topic):
    """The chaos suite's refusal told three times: the mark gave its slot up to each new copy note and with it the
    memory of what was told, so each time the slot came back the refusal was told again. The mark keeps it now."""
    image = golden(cloud, regions="cn-east-3_eu-west-101", tags={f"team{n}": "x" for n in range(7)})  # 9 tags
    for _ in range(3):  # each round: the copy (its note needs a slot), the replica listed, then deleted by someone
        for _ in range(3):
            poll()
            dr_run()
            cloud.run_until_idle()
        for replica in cloud.region("cn-east-3").replicas_of(image.id):
            cloud.region("cn-east-3").delete_image(replica.id)

    refusals = [n for n in told(cloud, topic) if n["type"] == "imsync.copy.refused"]
    assert len(refusals) == 1 and "eu-west-101" in refusals[0]["reason"], refusals
    copies = [j for j in cloud.jobs() if j.is_copy and j.image_id == image.id]
    assert len(copies) == 3  # a note needed the last slot three times


def test_the_mark_is_never_copied_to_replicas(cloud, topic):
    image = golden(cloud, regions="cn-east-3_cn-south-1", name="web", tags={"imsync-share": "partner"})
    cloud.region(HOME).image(image.id).tags[MARK] = "abcdef"  # as an earlier problem would have left it
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()

    poll()

    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert replica.status == "active" and MARK not in replica.tags
    assert MARK not in cloud.region(HOME).image(image.id).tags  # nothing open any more: the mark went


def test_an_account_that_also_accepts_shares_lists_the_untrusted_ones_in_the_digest(cloud, topic, monkeypatch):
    # Role "both": this account owns images and accepts shares, trusting the partner only.
    monkeypatch.setenv("IMSYNC_TRUSTED_OWNERS", cloud.recipient.projects[HOME])
    stranger = cloud.add_account("stranger")
    theirs = cloud.region(HOME).add_image(
        name="vendor-appliance", owner=stranger, members={cloud.owner.projects[HOME]: "pending"}
    )
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    dr_run()
    poll()  # the poll lists no shares: accept_shares announces each once, the digest repeats what is open

    (digest,) = told(cloud, topic)
    listed = {(i["type"], i.get("source_image_id") or i.get("image_id")) for i in digest["items"]}
    assert listed == {("imsync.copy.refused", iso.id), ("imsync.share.untrusted", theirs.id)}
    (share,) = [i for i in digest["items"] if i["type"] == "imsync.share.untrusted"]
    assert share["owner"] == stranger.projects[HOME] and share["region"] == HOME
    assert cloud.region(HOME).image(theirs.id).members[cloud.owner.projects[HOME]] == "pending"


# ---- at least once: the mark follows the publish -------------------------------------------------


def test_a_notifier_down_for_one_run_loses_nothing(cloud, topic, smn_down):
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    down = poll()
    assert down["counts"]["refused"] == 1 and told(cloud, topic) == []
    assert MARK not in cloud.region(HOME).image(iso.id).tags  # nobody was told: nothing may say otherwise
    smn_down()
    poll()
    poll()

    (notice,) = told(cloud, topic)  # the next run told it, and only once
    assert (notice["type"], notice["source_image_id"]) == ("imsync.copy.refused", iso.id)
    assert MARK in cloud.region(HOME).image(iso.id).tags


def test_a_digest_nobody_received_is_told_by_the_next_poll(cloud, topic, smn_down):
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    dr_run()
    smn_down()
    poll()
    poll()

    assert [(n["type"], n["source_image_id"]) for n in told(cloud, topic)] == [("imsync.copy.refused", iso.id)]


# ---- refusals the tags cause -------------------------------------------------------------------


def test_refusals_the_tags_cause_are_announced_once(cloud, topic):
    image = golden(cloud, regions="cn-east-3_xx-nowhere-1", tags={"imsync-share": "nobody"})
    bad = golden(cloud, regions="cn-east-3!", name="bad")

    for _ in range(3):
        poll()

    reasons = sorted((n["source_image_id"], n["reason"].split(":")[0], n["type"]) for n in told(cloud, topic))
    assert reasons == sorted(
        [
            (image.id, "imsync-regions", "imsync.copy.refused"),  # a region the deployment does not allow
            (image.id, "imsync-share", "imsync.copy.refused"),  # an alias it does not know
            (bad.id, "imsync-regions", "imsync.copy.refused"),  # characters IMS tags do not allow
        ]
    )
    # The person re-tags: the event tells the one new refusal, the polls after it stay quiet.
    cloud.region(HOME).image(image.id).tags["imsync-share"] = "stranger"
    handlers.replicate_on_create(load_event("cts_add_tag.json", image_id=image.id))
    poll()
    new = told(cloud, topic)[3:]
    assert [n["reason"].split(":")[0] + ":" + n["reason"].split("'")[1] for n in new] == ["imsync-share:stranger"]


# ---- replica ready: once per replica ------------------------------------------------------------


def test_replica_ready_is_sent_once_however_often_the_replica_is_finalized(cloud, topic):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    poll()
    for n in range(3):  # the owner edits a tag that travels to the replica: the replica is finalized again
        cloud.region(HOME).image(image.id).tags["team"] = f"web-{n}"
        assert poll()["counts"] == {"done": 1}

    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert replica.tags["team"] == "web-2"
    assert [(n["type"], n["replica_id"]) for n in told(cloud, topic)] == [("imsync.replica.ready", replica.id)]


@pytest.mark.parametrize("share", [{"imsync-share": "partner"}, {}], ids=["shared", "not-shared"])
def test_a_replica_ready_nobody_received_is_sent_by_the_next_run(cloud, topic, smn_down, share):
    image = golden(cloud, regions="cn-east-3", tags=share)
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()

    poll()  # finalizes the replica; SMN is down
    smn_down()
    poll()
    poll()

    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert [(n["type"], n["replica_id"]) for n in told(cloud, topic)] == [("imsync.replica.ready", replica.id)]
    assert set(replica.members) == ({cloud.recipient.projects["cn-east-3"]} if share else set())
    assert replica.tags["imsync-source"] == image.id and replica.tags.get("imsync-shared", "").count("-") == 0


def test_a_replica_with_no_room_for_the_share_mark_reads_its_members_instead_of_sharing_again(cloud, topic):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    replica.tags.update({f"owner-{n}": "x" for n in range(8)})  # with the 2 lineage tags: no slot for imsync-shared

    poll()
    cloud.reset_counters()
    for _ in range(3):
        poll()

    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert "imsync-shared" not in replica.tags and set(replica.members) == {cloud.recipient.projects["cn-east-3"]}
    assert cloud.counters["batch_add_members"] == 0 and cloud.counters["list_image_members"] == 3
    assert [n["type"] for n in told(cloud, topic)] == ["imsync.replica.ready"]


@pytest.mark.parametrize("trouble", ["slow-member-job", "smn-down"])
def test_a_replica_with_no_room_for_the_share_mark_is_announced_ready_once(cloud, topic, monkeypatch, trouble):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    replica.tags.update({f"owner-{n}": "x" for n in range(8)})  # with the 2 lineage tags: no slot for imsync-shared
    fault = None
    if trouble == "slow-member-job":  # the member job outlasts the run's wait: the share ends in a later run
        cloud.readings = with_changes(cloud.readings, member_job_seconds=600.0)
    else:
        fault = cloud.faults.add(status=503, method="POST", path="/publish$", count=None)

    poll()
    assert told(cloud, topic) == []
    if fault is not None:
        fault.count = 0
    cloud.clock.advance(15 * 60)
    for _ in range(3):
        poll()

    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert [(n["type"], n["replica_id"]) for n in told(cloud, topic)] == [("imsync.replica.ready", replica.id)]
    assert replica.tags["imsync-source"] == image.id and "imsync-shared" not in replica.tags


def test_runs_racing_in_one_process_tell_a_new_refusal_once(cloud, topic):
    # Found by the chaos suite: three polls from one event, in three threads of one process, each read the source
    # before any of them wrote the mark, and each told the refusal (three, even four notices of one fact).
    import threading

    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)
    cloud.faults.add(slow=0.2, path=r"/notifications/topics/[^/]+/publish$", count=None)  # every publish in flight
    barrier = threading.Barrier(3)

    def racing_poll():
        barrier.wait()
        poll()

    threads = [threading.Thread(target=racing_poll) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    notices = [n for n in told(cloud, topic) if n.get("source_image_id") == iso.id]
    assert len(notices) == 1, notices


def test_an_image_still_being_created_that_may_not_be_tagged_is_not_told_on_every_poll(cloud, topic):
    # The chaos suite (pessimistic profile, tag_saving_copy=False): a source still saving whose tags name an unknown
    # alias was told on every poll, since IMS refused the mark that remembers it. It waits for the digest, or for
    # the first run after it turned active.
    cloud.readings = with_changes(cloud.readings, tag_saving_copy=False)
    image = golden(cloud, regions="cn-east-3", name="web", tags={"imsync-share": "stranger"}, status="saving")

    for _ in range(3):
        poll()
    assert told(cloud, topic) == []

    cloud.region(HOME).set_status(image.id, "active")
    for _ in range(3):
        poll()
    refused = [n for n in told(cloud, topic) if n.get("source_image_id") == image.id]
    assert len(refused) == 1 and "stranger" in refused[0]["reason"], refused
