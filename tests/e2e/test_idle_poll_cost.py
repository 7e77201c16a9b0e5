"""What an idle run costs, now that the completion poll and accept_shares run every minute by default.

An idle run (nothing finished, nothing pending) must cost one listing per region it needs and nothing
else; docs/deploy.md (section 2.2) states these counts and what they add up to per day.
"""

from __future__ import annotations

from imsync import bootstrap
from imsync.adapters import huawei_ims
from imsync.domain.errors import AuthFailed
from tests.helpers import handlers
from tests.helpers.events import load_event


def _calls(cloud) -> list[tuple[str, str, str]]:
    return [(r.region, r.method, r.path.split("?")[0]) for r in cloud.requests]


def test_an_idle_completion_poll_lists_each_region_once_and_does_nothing_else(cloud, imsync_env):
    home = imsync_env["IMSYNC_HOME_REGION"]
    destinations = imsync_env["IMSYNC_ALLOWED_REGIONS"].split(",")
    cloud.region(home).add_image(name="s", tags={"imsync-regions": ",".join(destinations), "imsync-share": "partner"})
    handlers.scheduled_dr_copy(load_event("timer"))
    cloud.run_until_idle()
    handlers.share_on_complete(load_event("timer"))  # the replicas are tagged and shared: from now on, idle
    cloud.run_until_idle()
    handlers.share_on_complete(load_event("timer"))  # warm: the project IDs are known

    cloud.reset_counters()
    summary = handlers.share_on_complete(load_event("timer"))

    assert summary["ok"], summary
    # One listing per region; without page_info (the documented reading) a listing ends on an empty page, so it
    # is two requests: the page of images, then the empty one (docs/deploy.md, 2.2).
    pages = 1 if cloud.readings.page_info else 2
    listings = [(region, "GET", "/v2/cloudimages") for region in [home, *destinations] for _ in range(pages)]
    assert sorted(_calls(cloud)) == sorted(listings)


def test_a_cold_start_finds_every_regions_project_with_one_iam_call(cloud, imsync_env, monkeypatch):
    """One KeystoneListAuthProjects for all regions, not one project look-up per region touched."""
    monkeypatch.setattr(bootstrap, "_clients", {})  # a new process: no SDK client, no project ID known
    home = imsync_env["IMSYNC_HOME_REGION"]
    destinations = imsync_env["IMSYNC_ALLOWED_REGIONS"].split(",")
    cloud.region(home).add_image(name="s", tags={"imsync-regions": ",".join(destinations)})
    cloud.reset_counters()

    summary = handlers.scheduled_dr_copy(load_event("timer"))

    assert summary["ok"], summary
    assert [r.operation for r in cloud.requests if r.region == "iam"] == ["keystone_list_auth_projects"]
    assert {r.region for r in cloud.requests} == {"iam", home, *destinations}  # every region's clients use it


def test_a_key_that_may_not_list_its_projects_falls_back_to_one_look_up_per_region(cloud, imsync_env, monkeypatch):
    monkeypatch.setattr(bootstrap, "_clients", {})
    monkeypatch.setattr(huawei_ims, "project_ids", _refused)  # IAM refuses the listing (the emulator cannot)
    home = imsync_env["IMSYNC_HOME_REGION"]
    source = cloud.region(home).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
    cloud.reset_counters()

    summary = handlers.scheduled_dr_copy(load_event("timer"))

    assert summary["ok"], summary
    assert [r["outcome"] for r in summary["results"] if r.get("image_id") == source.id] == ["started"]
    iam = [r.operation for r in cloud.requests if r.region == "iam"]
    touched = {r.region for r in cloud.requests} - {"iam"}
    assert iam == ["keystone_list_projects"] * len(touched)  # the SDK's own look-up, once per region


def _refused(*args: object) -> dict[str, str]:
    raise AuthFailed("listing the projects of every region in IAM", "IAM.0002", "not authorized")


def test_an_unanswered_project_listing_falls_back_quietly(cloud, imsync_env, monkeypatch, capfd):
    # The chaos suite found the SDK core's own logger printing "ConnectionException occurred" to stderr for the one
    # IAM call that lists every region's project, although imsync handled it (it falls back, per region).
    monkeypatch.setattr(bootstrap, "_clients", {})
    home = imsync_env["IMSYNC_HOME_REGION"]
    cloud.region(home).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
    cloud.faults.add(region="iam", path=r"^/v3/auth/projects", lose_answer=True, count=None)

    summary = handlers.scheduled_dr_copy(load_event("timer"))

    assert summary["ok"], summary
    assert "occurred" not in capfd.readouterr().err
