"""imsync status names a copy still in progress after IMSYNC_STUCK_AFTER_HOURS, by the cloud's clock."""

from __future__ import annotations

from tests.cli.conftest import HOME
from tests.cli.support import as_json, writes

HOUR = 3600.0


def test_status_shows_a_copy_in_progress_too_long_as_stuck(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_STUCK_AFTER_HOURS", "6")
    source = cloud.region(HOME).add_image(name="web", tags={"imsync-regions": "cn-east-3_cn-south-1"})
    marker = f"imsync:source={HOME}/{source.id} copied by imsync"
    # Copies IMS never finishes (added directly: the emulator finishes the copies it runs).
    old = cloud.region("cn-east-3").add_image(name="copy_web", status="saving", description=marker)
    cloud.clock.advance(7 * HOUR)
    young = cloud.region("cn-south-1").add_image(name="copy_web", status="queued", description=marker)
    before = len(writes(cloud))

    data = as_json(run("status", "--json"))
    table = run("status")

    assert len(writes(cloud)) == before  # status only reads, stuck or not
    (image,) = data["images"]
    east, south = image["regions"]["cn-east-3"], image["regions"]["cn-south-1"]
    assert (east["state"], east["replica_id"], east["replica_status"]) == ("stuck", old.id, "saving")
    assert "7 hours" in east["reason"] and "IMSYNC_STUCK_AFTER_HOURS=6" in east["reason"]
    assert (south["state"], south["replica_id"]) == ("copying", young.id)
    assert table.exit_code == 0, table.output
    assert "stuck (saving)" in table.stdout and "IMSYNC_STUCK_AFTER_HOURS=6" in table.stdout
