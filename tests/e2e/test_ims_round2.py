"""End to end against IMS as its sources document it, round 2 (issue 20): one test (or two) per point.

Each test failed on the engine before this round; the emulator answers as documented by default.
"""

from __future__ import annotations

import pytest

from imsync.emulator.readings import RELAXED_TAGS, with_changes
from tests.e2e.conftest import HOME
from tests.e2e.test_replication import create_event, finish, golden
from tests.helpers import handlers
from tests.helpers.events import load_event

EAST = "cn-east-3"
CHINESE = {"团队": "网站"}  # allowed under both tag readings (Chinese characters in keys and values)


# 3. Tag rules: a replica takes over a source's tag only when the reading in effect allows it.
def test_strict_rules_copy_chinese_tags_and_leave_dotted_keys_on_the_source(cloud, imsync_env):
    # The owner set a dotted key while the console applied the relaxed page; strict IMS refuses it on a replica.
    image = golden(cloud, regions=EAST, tags={**CHINESE, "team.web": "v2", "os": "ubuntu/22.04"})

    handlers.replicate_on_create(create_event(image))
    done = finish(cloud)

    assert done["ok"], done
    (replica,) = cloud.region(EAST).replicas_of(image.id)
    assert replica.tags["团队"] == "网站" and replica.tags["team"] == "web"
    assert "team.web" not in replica.tags and "os" not in replica.tags


def test_relaxed_rules_copy_what_the_relaxed_page_allows(cloud, imsync_env, monkeypatch):
    cloud.readings = with_changes(cloud.readings, tag_rules=RELAXED_TAGS)
    monkeypatch.setenv("IMSYNC_TAG_RULES", "relaxed")
    image = golden(cloud, regions=EAST, tags={**CHINESE, "team.web": "v2", "os": "ubuntu/22.04", "a b@c": "x:y"})

    handlers.replicate_on_create(create_event(image))
    done = finish(cloud)

    assert done["ok"], done
    (replica,) = cloud.region(EAST).replicas_of(image.id)
    assert {k: replica.tags.get(k) for k in ("团队", "team.web", "os", "a b@c")} == {
        "团队": "网站",
        "team.web": "v2",
        "os": "ubuntu/22.04",
        "a b@c": "x:y",
    }
    assert cloud.region(HOME).image(image.id).tags["team.web"] == "v2"


# 4. Windows sources: refused before asking by default; a refusal IMS answers that does not pass is remembered.
def copy_requests(cloud):
    return [r for r in cloud.requests if r.method == "POST" and r.path.endswith("/cross_region_copy")]


def test_a_windows_source_is_refused_before_asking_with_the_reason(cloud, imsync_env):
    image = golden(cloud, regions=EAST, os_type="Windows")

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result["counts"] == {"refused": 1}, result
    (refusal,) = result["results"]
    assert "no longer be used to replicate Windows images" in refusal["reason"]
    assert "IMSYNC_COPY_WINDOWS=true" in refusal["reason"]
    assert copy_requests(cloud) == [] and cloud.region(EAST).replicas_of(image.id) == []


def test_with_the_check_off_a_windows_source_is_copied_where_ims_still_copies_it(cloud, imsync_env, monkeypatch):
    cloud.readings = with_changes(cloud.readings, refuse_windows_copies=False)
    monkeypatch.setenv("IMSYNC_COPY_WINDOWS", "true")
    image = golden(cloud, regions=EAST, os_type="Windows")

    result = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert result["counts"] == {"started": 1}, result
    assert len(cloud.region(EAST).replicas_of(image.id)) == 1


def test_a_copy_ims_refuses_for_good_is_reported_once_as_refused_and_not_asked_again(cloud, imsync_env, monkeypatch):
    monkeypatch.setenv("IMSYNC_COPY_WINDOWS", "true")  # IMS (the emulator's default reading) refuses anyway
    image = golden(cloud, regions=EAST, os_type="Windows")

    first = handlers.scheduled_dr_copy(load_event("timer.json"))
    second = handlers.scheduled_dr_copy(load_event("timer.json"))

    assert first["counts"] == {"refused": 1} and first["ok"], first
    assert "no longer replicates Windows images" in first["results"][0]["reason"]
    assert second["counts"] == {"refused": 1} and second["ok"], second
    assert "imsync-refused" in second["results"][0]["reason"]
    assert len(copy_requests(cloud)) == 1  # the second run did not ask again
    assert "imsync-refused" in cloud.region(HOME).image(image.id).tags


# 5. Member job results: a job that ends SUCCESS with a failed item does not mark that image shared.
def test_an_image_whose_part_of_a_member_job_failed_is_not_marked_shared_and_is_shared_later(cloud, imsync_env):
    cloud.readings = with_changes(cloud.readings, member_job_partial=True)
    images = [golden(cloud, regions=EAST, name=f"web-{n}", tags={"imsync-share": "partner"}) for n in range(2)]
    for image in images:
        handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()

    first = handlers.share_on_complete(load_event("timer.json"))

    partner = cloud.recipient.projects[EAST]
    replicas = [cloud.region(EAST).replicas_of(image.id)[0] for image in images]
    shared = [partner in r.members for r in replicas]
    assert sorted(shared) == [False, True], first  # one job for both; its last item failed
    unshared = replicas[shared.index(False)]
    assert any(r["outcome"] == "failed" and r["replica_id"] == unshared.id for r in first["results"]), first
    assert not str(unshared.tags.get("imsync-shared", "")).isalnum()  # not the "done" fingerprint

    handlers.share_on_complete(load_event("timer.json"))

    assert all(partner in cloud.region(EAST).image(r.id).members for r in replicas)


@pytest.mark.parametrize("reading", ["ignored", "fails"])
def test_a_replica_whose_share_mark_was_not_written_after_its_job_is_shared_not_failed(cloud, imsync_env, reading):
    """The next run asks IMS to add members it already has; whatever IMS does with that, the members decide."""
    cloud.readings = with_changes(cloud.readings, member_add_existing=reading)
    image = golden(cloud, regions=EAST, tags={"imsync-share": "partner"})
    handlers.replicate_on_create(create_event(image))
    cloud.run_until_idle()
    (replica,) = cloud.region(EAST).replicas_of(image.id)
    cloud.faults.add(status=500, method="POST", path=rf"/images/{replica.id}/tags/action", count=5)  # every retry

    handlers.share_on_complete(load_event("timer.json"))  # the member job succeeds; the tags are not written
    partner = cloud.recipient.projects[EAST]
    assert partner in cloud.region(EAST).image(replica.id).members
    assert "imsync-shared" not in cloud.region(EAST).image(replica.id).tags
    again = handlers.share_on_complete(load_event("timer.json"))

    assert again["ok"] and "failed" not in again["counts"], again
    assert cloud.region(EAST).image(replica.id).tags.get("imsync-source") == image.id


# 8. A frozen image that nothing marks in the listing (frozen_shape="hidden"): IMS's refusal is remembered.
def test_a_frozen_image_the_listing_does_not_mark_is_refused_by_ims_once(cloud, imsync_env):
    cloud.readings = with_changes(cloud.readings, frozen_shape="hidden")
    golden(cloud, regions=EAST, frozen=True)

    runs = [handlers.scheduled_dr_copy(load_event("timer.json")) for _ in range(3)]

    assert [r["counts"] for r in runs] == [{"refused": 1}] * 3, runs
    assert "IMG.0168" in runs[0]["results"][0]["reason"]
    assert len(copy_requests(cloud)) == 1


def test_a_refusal_on_a_source_without_a_free_tag_slot_is_still_a_refusal_each_run(cloud, imsync_env, monkeypatch):
    monkeypatch.setenv("IMSYNC_COPY_WINDOWS", "true")
    image = golden(cloud, regions=EAST, os_type="Windows", tags={f"k{n}": "v" for n in range(8)})  # 10 tags

    runs = [handlers.scheduled_dr_copy(load_event("timer.json")) for _ in range(2)]

    assert [r["counts"] for r in runs] == [{"refused": 1}] * 2, runs
    assert all("no tag slot free" in r["results"][0]["reason"] for r in runs)
    assert len(copy_requests(cloud)) == 2 and "imsync-refused" not in cloud.region(HOME).image(image.id).tags
