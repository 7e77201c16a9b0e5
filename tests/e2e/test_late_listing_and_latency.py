"""Copies IMS lists late (a Readings switch), and how soon an image tagged at creation is copied."""

from imsync import bootstrap
from imsync.emulator import Readings
from imsync.service.claims import RecentCopies, RecentNotices
from tests.e2e.conftest import HOME
from tests.helpers import handlers
from tests.helpers.events import load_event

LATE = Readings(copy_visible_after=120.0)


def golden(cloud, regions="cn-east-3", tags=None, **kw):
    return cloud.region(HOME).add_image(name="web-base", tags={"imsync-regions": regions, **(tags or {})}, **kw)


def live_copies(cloud, image, region="cn-east-3"):
    return [r for r in cloud.region(region).replicas_of(image.id) if r.status not in ("killed", "deleted")]


def new_process(monkeypatch):
    """The next invocation runs in another instance: nothing remembered in memory."""
    monkeypatch.setattr(bootstrap, "claims", RecentCopies())
    monkeypatch.setattr(bootstrap, "told", RecentNotices())


def test_a_copy_listed_late_is_not_copied_again_by_other_instances(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    assert live_copies(cloud, image)[0].visible_from > cloud.clock.now()  # IMS does not list it yet
    for function in (handlers.scheduled_dr_copy, handlers.share_on_complete):
        new_process(monkeypatch)
        answer = function({})
        waits = [r for r in answer["results"] if r["image_id"] == image.id]
        assert waits and waits[0]["outcome"] == "waiting" and "does not list it" in waits[0]["reason"], answer

    assert len(live_copies(cloud, image)) == 1
    cloud.clock.advance(LATE.copy_visible_after)
    new_process(monkeypatch)
    handlers.share_on_complete({})
    # Listed now: the note on the source is dropped, the copy is the one replica.
    assert not [k for k in cloud.region(HOME).image(image.id).tags if k.startswith("imsync-copy-")]
    assert len(live_copies(cloud, image)) == 1


def test_a_copy_whose_job_failed_before_it_was_listed_is_asked_for_again(cloud, imsync_env, monkeypatch):
    cloud.readings = LATE
    image = golden(cloud)
    cloud.remove_agency("imsync-copy")  # IMS accepts the copy, then its job fails early

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    cloud.clock.advance(30)
    cloud.set_agency("imsync-copy")
    new_process(monkeypatch)
    answer = handlers.scheduled_dr_copy({})

    assert [r["outcome"] for r in answer["results"] if r["action"] == "copy"] == ["started"]


def test_a_source_with_ten_tags_notes_its_copy_in_its_description(cloud, imsync_env, monkeypatch):
    # README, "Copies IMS lists late": with no tag slot free, the note is a marker in the description,
    # removed once the replica is listed.
    cloud.readings = LATE
    image = golden(cloud, tags={f"user-{n}": "v" for n in range(9)}, description="our golden image")

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    assert "imsync:copy=cn-east-3/" in cloud.region(HOME).image(image.id).description
    new_process(monkeypatch)
    handlers.scheduled_dr_copy({})
    assert len(live_copies(cloud, image)) == 1

    cloud.clock.advance(LATE.copy_visible_after)
    new_process(monkeypatch)
    handlers.scheduled_dr_copy({})
    assert cloud.region(HOME).image(image.id).description == "our golden image"
    assert len(cloud.region(HOME).image(image.id).tags) == 10


def test_the_poll_copies_an_event_mode_image_once_it_is_active(cloud, imsync_env):
    image = golden(cloud, status="saving")
    scheduled = golden(cloud, tags={"imsync-when": "schedule"}, status="saving")

    created = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    assert created["counts"] == {"deferred": 1}
    cloud.region(HOME).set_status(image.id, "active")
    cloud.region(HOME).set_status(scheduled.id, "active")
    answer = handlers.share_on_complete(load_event("timer.json"))

    outcomes = {r["image_id"]: r for r in answer["results"]}
    assert outcomes[image.id]["outcome"] == "started"
    assert outcomes[scheduled.id]["outcome"] == "deferred" and "DR run" in outcomes[scheduled.id]["reason"]
    assert len(live_copies(cloud, image)) == 1 and live_copies(cloud, scheduled) == []


def test_a_dry_run_poll_starts_nothing(cloud, imsync_env, monkeypatch):
    monkeypatch.setenv("IMSYNC_DRY_RUN", "true")
    image = golden(cloud)

    answer = handlers.share_on_complete(load_event("timer.json"))

    assert [r["outcome"] for r in answer["results"] if r["image_id"] == image.id] == ["planned"]
    assert live_copies(cloud, image) == []
