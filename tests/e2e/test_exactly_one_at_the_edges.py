"""At most one replica, whatever IMS answers and however late it lists (issue 18 §1, issue 19 "forged copy notes").

Every test runs under a late-listing reading, with each run in a fresh instance (nothing remembered in
memory between invocations), and counts the live replicas once IMS lists everything.
"""

import threading

import pytest

from imsync import bootstrap
from imsync.adapters.huawei_ims import HuaweiImageStore
from imsync.domain.commands import CompletionTrigger, SweepTrigger
from imsync.emulator import readings
from imsync.notices import MARK
from imsync.service.claims import RecentCopies
from tests.e2e.conftest import HOME
from tests.helpers import handlers
from tests.helpers.events import load_event

LATE = readings.profile("late-copy")
VISIBLE_AFTER = LATE.copy_visible_after


def golden(cloud, tags=None, **kw):
    return cloud.region(HOME).add_image(name="web-base", tags={"imsync-regions": "cn-east-3", **(tags or {})}, **kw)


def live_copies(cloud, image, region="cn-east-3"):
    return [r for r in cloud.region(region).replicas_of(image.id) if r.status not in ("killed", "deleted")]


def new_process(monkeypatch):
    """The next invocation runs in another instance: nothing remembered in memory."""
    monkeypatch.setattr(bootstrap, "claims", RecentCopies())


def every_function_in_turn(cloud, monkeypatch, runs=4, step=5.0):
    """DR runs and polls, each in a fresh instance, `step` seconds apart: all within the listing delay."""
    answers = []
    for n in range(runs):
        cloud.clock.advance(step)
        new_process(monkeypatch)
        function = handlers.scheduled_dr_copy if n % 2 == 0 else handlers.share_on_complete
        answers.append(function(load_event("timer.json")))
    return answers


def settle(cloud, monkeypatch, image):
    """Let IMS list everything and finish, run once more, and return the live replicas."""
    cloud.clock.advance(VISIBLE_AFTER + 600)
    cloud.run_until_idle()
    new_process(monkeypatch)
    handlers.scheduled_dr_copy(load_event("timer.json"))
    return live_copies(cloud, image)


def notes_on(cloud, image):
    rec = cloud.region(HOME).image(image.id)
    return {k: v for k, v in rec.tags.items() if k.startswith("imsync-copy-")}, rec.description


def test_a_copy_answered_with_a_5xx_after_ims_did_it_is_not_asked_again(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)
    cloud.faults.add(status=500, method="POST", path="cross_region_copy", after_effect=True)

    first = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    every_function_in_turn(cloud, monkeypatch)

    assert [r["outcome"] for r in first["results"] if r["action"] == "copy"] == ["waiting"], first
    assert len(settle(cloud, monkeypatch, image)) == 1
    assert notes_on(cloud, image) == ({}, "")


def test_a_source_with_ten_tags_is_copied_once(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud, tags={f"owner-{n}": "v" for n in range(9)})

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    every_function_in_turn(cloud, monkeypatch)

    assert len(settle(cloud, monkeypatch, image)) == 1
    tags, description = notes_on(cloud, image)
    assert tags == {} and description == ""  # the marker was removed once the replica was listed
    assert len(cloud.region(HOME).image(image.id).tags) == 10


def test_the_notice_mark_keeps_its_slot_and_the_copy_note_goes_to_the_description(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud, tags={**{f"owner-{n}": "v" for n in range(8)}, MARK: "abc123"})  # IMS's 10 tags

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    tags, description = notes_on(cloud, image)
    every_function_in_turn(cloud, monkeypatch)

    assert tags == {} and "imsync:copy=cn-east-3/" in description  # the mark is the memory of what was told
    assert len(settle(cloud, monkeypatch, image)) == 1


def test_a_job_that_ended_before_its_replica_is_listed_is_not_copied_again(cloud, imsync_env, monkeypatch):
    cloud.readings = readings.with_changes(LATE, copy_visible_after=900.0)
    image = golden(cloud, size_gb=1)  # the copy job takes about a minute; IMS lists the replica after 15

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    answers = every_function_in_turn(cloud, monkeypatch, runs=4, step=60.0)

    waits = [r["reason"] for a in answers[1:] for r in a["results"] if r["image_id"] == image.id]
    assert waits and all("ended" in w and "does not list it yet" in w for w in waits), waits
    cloud.clock.advance(900)
    assert len(settle(cloud, monkeypatch, image)) == 1


def test_a_copy_started_with_seconds_left_is_noted_before_it_is_asked(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)

    class Context:  # the platform's clock: under 10 s are left once the copy request went out
        def getRemainingTimeInMilliSeconds(self):  # FunctionGraph's name
            asked = any(r.path.endswith("/cross_region_copy") for r in cloud.requests)
            return 9_500 if asked else 60_000

    first = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id), Context())
    every_function_in_turn(cloud, monkeypatch)

    assert [r["outcome"] for r in first["results"] if r["action"] == "copy"] == ["started"], first
    assert len(settle(cloud, monkeypatch, image)) == 1


def test_a_run_killed_between_ims_accepting_and_the_note_leaves_one_replica(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)
    start_copy = HuaweiImageStore.start_copy

    def killed_after_the_answer(self, *args, **kwargs):
        start_copy(self, *args, **kwargs)
        raise RuntimeError("the platform stopped the function")

    with monkeypatch.context() as killed:
        killed.setattr(HuaweiImageStore, "start_copy", killed_after_the_answer)
        handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    every_function_in_turn(cloud, monkeypatch)

    assert len(settle(cloud, monkeypatch, image)) == 1


def test_a_note_that_cannot_be_written_stops_the_copy_until_it_can(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)
    note_writes = cloud.faults.add(
        status=500, region=HOME, method="POST", path=f"/images/{image.id}/tags/action$", count=None
    )

    first = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    every_function_in_turn(cloud, monkeypatch, runs=2)
    cloud.faults.clear()
    every_function_in_turn(cloud, monkeypatch)

    (copy,) = [r for r in first["results"] if r["action"] == "copy"]
    assert copy["outcome"] == "deferred" and "not copied" in copy["reason"], first
    assert note_writes.fired > 0
    assert len(settle(cloud, monkeypatch, image)) == 1


def test_a_note_write_whose_answer_was_lost_is_read_back_before_copying(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)
    cloud.faults.add(region=HOME, method="POST", path=f"/images/{image.id}/tags/action$", lose_answer=True)

    first = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    every_function_in_turn(cloud, monkeypatch)

    assert [r["outcome"] for r in first["results"] if r["action"] == "copy"] == ["started"], first
    assert len(settle(cloud, monkeypatch, image)) == 1


FORGED = {
    "future": "lost-ffffffff",
    "dot": ".",
    "dots": "..",
    "not-a-job": "j1-" + "z" * 32,
}


def test_forged_copy_notes_hold_no_copy_slot(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    forged = {name: golden(cloud, tags={"imsync-copy-cn-east-3": value}) for name, value in FORGED.items()}
    stale = golden(cloud, tags={"imsync-copy-cn-east-3": f"p{int(cloud.clock.now() // 60) - 31:x}-abcd"})
    honest = [golden(cloud) for _ in range(4)]
    monkeypatch.setenv("IMSYNC_MAX_CONCURRENT_COPIES", "5")

    answers = every_function_in_turn(cloud, monkeypatch, runs=3, step=VISIBLE_AFTER + 600)

    ignored = [r for a in answers for r in a["results"] if r["outcome"] == "ignored" and r["action"] == "claim"]
    assert {r["image_id"] for r in ignored} == {i.id for i in forged.values()}
    for image in [*forged.values(), stale, *honest]:
        assert len(live_copies(cloud, image)) == 1, image.tags


def test_a_run_that_listed_the_source_before_another_run_copied_it_does_not_copy_again(cloud, imsync_env, monkeypatch):
    # The DR run lists the source; before it asks IMS, an event run in another instance copies the image.
    cloud.readings = LATE
    image = golden(cloud)
    dr_claims, event_claims = RecentCopies(), RecentCopies()
    originals = {name: getattr(HuaweiImageStore, name) for name in ("get_image", "start_copy")}
    pending = [True]

    def other_run_first(name):
        def call(self, *args, **kwargs):
            if pending and pending.pop():  # the DR run's first look at the source, or its copy request
                monkeypatch.setattr(bootstrap, "claims", event_claims)
                handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
                monkeypatch.setattr(bootstrap, "claims", dr_claims)
            return originals[name](self, *args, **kwargs)

        return call

    monkeypatch.setattr(bootstrap, "claims", dr_claims)
    with monkeypatch.context() as racing:
        for name in originals:
            racing.setattr(HuaweiImageStore, name, other_run_first(name))
        answer = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert not pending  # the event run did run in between
    assert [r["outcome"] for r in answer["results"] if r["image_id"] == image.id] == ["waiting"], answer
    assert len(settle(cloud, monkeypatch, image)) == 1


@pytest.mark.parametrize(("wait", "second_run"), [("0", "started"), ("30", "waiting")])
def test_the_unlisted_wait_setting_decides_when_an_unanswered_copy_is_asked_again(
    cloud, imsync_env, monkeypatch, wait, second_run
):
    # IMS answered 500 before doing anything: only the wait tells when to ask again; 0: the listing decides.
    monkeypatch.setenv("IMSYNC_UNLISTED_WAIT_MINUTES", wait)
    image = golden(cloud)
    cloud.faults.add(status=500, method="POST", path="cross_region_copy")

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    cloud.clock.advance(60)
    new_process(monkeypatch)
    answer = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert [r["outcome"] for r in answer["results"] if r["image_id"] == image.id] == [second_run], answer
    cloud.clock.advance(31 * 60)  # the wait is over either way: asked again once, at most
    assert len(settle(cloud, monkeypatch, image)) == 1


def test_a_dr_run_and_a_poll_started_at_the_same_instant_never_both_copy(cloud, imsync_env, monkeypatch):
    # Two instances (each its own claim table) on a barrier, 25 sources nobody copied yet: the ask tag and the
    # note are two registers, and whatever the interleaving at most one run asks IMS.
    cloud.readings = LATE
    cloud.image_quota = 1000
    duplicated = []
    for _ in range(25):
        image = golden(cloud)
        runs = []
        for _instance in range(2):
            monkeypatch.setattr(bootstrap, "claims", RecentCopies())
            runs.append(bootstrap.replicator())
        barrier = threading.Barrier(2)

        def dr(replicator=runs[0], barrier=barrier, image=image):
            barrier.wait()
            replicator.sweep(SweepTrigger(image_ids=(image.id,)))

        def poll(replicator=runs[1], barrier=barrier):
            barrier.wait()
            replicator.complete(CompletionTrigger())

        threads = [threading.Thread(target=dr), threading.Thread(target=poll)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(live_copies(cloud, image)) > 1:
            duplicated.append(image.id)
        cloud.clock.advance(VISIBLE_AFTER + 600)
        cloud.run_until_idle()

    assert duplicated == []


def test_a_note_removal_ims_carries_out_late_never_deletes_the_next_copys_note(cloud, imsync_env, monkeypatch):
    # IMS deletes a tag by its key whatever its value, and a request whose answer did not come may be carried out
    # after the client gave up. A run removing a note whose copy failed was held past its timeout; the next run
    # wrote its own note and copied; then the held delete took that note, and a third run within the listing
    # delay saw neither note nor replica and copied again: two live replicas. The chaos suite's slow regions
    # hold requests this way (a candidate for its untraced duplicate at 419c76e). An ended note is now written
    # over by the next copy, never deleted while the copy is still wanted.
    cloud.readings = LATE
    monkeypatch.setenv("IMSYNC_HTTP_TIMEOUT", "0.3")
    image = golden(cloud)
    cloud.fail_next_copy(code="IMG.0100", reason="disk error (injected)")
    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    cloud.run_until_idle()  # the copy job failed: its note ended
    held = cloud.faults.add(region=HOME, method="POST", path=r"/tags/action$", slow=1.5, count=1)

    for _ in range(2):  # the first run's first tag write is held; the second runs while it is
        new_process(monkeypatch)
        handlers.share_on_complete(load_event("timer.json"))
    assert cloud.wait_for_requests(timeout=5) and held.fired == 1  # the held request has acted now
    new_process(monkeypatch)
    handlers.share_on_complete(load_event("timer.json"))  # within the listing delay

    assert len(settle(cloud, monkeypatch, image)) == 1
