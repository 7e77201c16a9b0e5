"""The operator's view of retention: tag --retain, plan (pending deletions, dates, GB), apply, status."""

from __future__ import annotations

from tests.cli.conftest import HOME
from tests.cli.support import as_json, writes
from tests.helpers import handlers
from tests.helpers.events import load_event

EAST = "cn-east-3"


def replicated(cloud, run, **tags):
    image = cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": EAST, **tags}, size_gb=3)
    assert run("tag", "golden", "--retain", "follow").exit_code == 0
    handlers.scheduled_dr_copy(load_event("timer.json"))
    cloud.run_until_idle()
    handlers.scheduled_dr_copy(load_event("timer.json"))
    (replica,) = cloud.region(EAST).replicas_of(image.id)
    return image, replica


def test_tag_retain_writes_the_rule(cloud, env, run):
    image = cloud.region(HOME).add_image(name="golden")

    result = run("tag", "golden", "--retain", "follow")

    assert result.exit_code == 0, result.output
    assert "imsync-retain=follow" in result.stdout
    assert cloud.region(HOME).image(image.id).tags == {"imsync-retain": "follow"}
    assert run("tag", "golden", "--retain", "forever").exit_code == 2


def test_plan_lists_the_pending_deletion_with_its_date_and_the_storage_then_apply_deletes_it(
    cloud, env, run, monkeypatch
):
    monkeypatch.setenv("IMSYNC_RETAIN_GRACE_DAYS", "0")
    image, replica = replicated(cloud, run)
    cloud.region(HOME).delete_image(image.id)
    before = len(writes(cloud))

    first = as_json(run("plan", "--json"))
    (orphan,) = [r for r in first["results"] if r["section"] == "retention"]
    assert orphan["action"] == "orphan" and orphan["outcome"] == "planned" and "to be deleted on" in orphan["reason"]
    assert first["storage"][EAST]["frees_later_gb"] == 3.0
    assert len(writes(cloud)) == before  # plan writes nothing

    applied = run("apply")
    assert applied.exit_code == 0, applied.output  # records the first sighting
    status = as_json(run("status", "--json"))
    (entry,) = status["orphaned"]
    assert entry["replica_id"] == replica.id and entry["orphaned_since"]

    due = as_json(run("plan", "--json"))
    (delete,) = [r for r in due["results"] if r["section"] == "retention"]
    assert (delete["action"], delete["outcome"]) == ("delete", "planned")
    assert due["storage"][EAST]["frees_gb"] == 3.0
    assert cloud.region(EAST).image(replica.id) is not None

    assert run("apply").exit_code == 0
    assert cloud.region(EAST).image(replica.id) is None


def test_plan_detailed_exitcode_reports_pending_orphan_records_and_deletions(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_RETAIN_GRACE_DAYS", "0")
    image, replica = replicated(cloud, run)
    assert run("plan", "--detailed-exitcode").exit_code == 0  # in sync: nothing to do
    cloud.region(HOME).delete_image(image.id)

    assert run("plan", "--detailed-exitcode").exit_code == 2  # apply would record it orphaned
    assert run("apply").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 2  # apply would delete it
    assert run("apply").exit_code == 0
    assert cloud.region(EAST).image(replica.id) is None
    assert run("plan", "--detailed-exitcode").exit_code == 0
