"""What an idle run costs, now that the completion poll and accept_shares run every minute by default.

An idle run (nothing finished, nothing pending) must cost one listing per region it needs and nothing
else; docs/deploy.md (section 2.2) states these counts and what they add up to per day.
"""

from __future__ import annotations

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
    listings = [(region, "GET", "/v2/cloudimages") for region in [home, *destinations]]
    assert sorted(_calls(cloud)) == sorted(listings)
