"""imsync plan: the engine's dry run, as a table or JSON, with no writes."""

from __future__ import annotations

import json

from imsync.demo.estate import seed_demo_estate
from tests.cli.support import as_json, writes

SECTION_KEYS = {
    "copy",
    "deferred",
    "refused",
    "finalize",
    "share",
    "drift",
    "waiting",
    "in_sync",
    "retention",
    "error",
    "other",
}
ROW_KEYS = {
    "section",
    "image_id",
    "name",
    "source_region",
    "region",
    "action",
    "outcome",
    "reason",
    "replica_id",
    "job_id",
}


def test_plan_json_lists_copies_deferrals_refusals_and_shares_without_writing(cloud, env, run):
    estate = seed_demo_estate(cloud)

    data = as_json(run("plan", "--json"))

    assert data["version"] == 1 and data["command"] == "plan" and data["dry_run"] is True
    assert set(data["counts"]) == SECTION_KEYS
    assert all(set(item) == ROW_KEYS for item in data["results"])
    # five copies fit under the limit of five; the rest wait for a slot
    assert data["counts"]["copy"] == 5 and data["limit"] == 5 and data["in_flight"] == 0
    limit = [r for r in data["results"] if r["section"] == "deferred" and r["action"] == "copy"]
    assert limit and all("5 copies in flight" in r["reason"] for r in limit)
    baking = [r for r in data["results"] if r["image_id"] == estate.baking]
    assert [r["section"] for r in baking if r["region"] == "cn-east-3"] == ["deferred"]
    refused = {r["name"]: r["reason"] for r in data["results"] if r["section"] == "refused"}
    assert "ISO images cannot be copied" in refused["installer"]
    assert "encrypted images cannot be copied" in refused["vault-key"]
    assert "300 GB" in refused["warehouse"]
    assert {r["name"] for r in data["results"] if r["section"] == "share"} == {
        "web-base",
        "db-base",
        "app-1",
        "app-2",
        "app-3",
    }
    assert writes(cloud) == []
    assert {r.method for r in cloud.requests} == {"GET"}
    assert not any(cloud.region(region).images() for region in ("cn-east-3", "ap-southeast-1"))


def test_plan_table_shows_sections_names_and_reasons(cloud, env, run):
    seed_demo_estate(cloud)

    result = run("plan")

    assert result.exit_code == 0, result.output
    for words in ("imsync plan", "copy planned", "deferred", "installer", "ISO images", "copies in flight: 0/5"):
        assert words in result.stdout
    assert writes(cloud) == []


def test_plan_scope_by_image_and_region(cloud, env, run):
    estate = seed_demo_estate(cloud)
    web = next(i for i, n in estate.names.items() if n == "web-base")

    data = as_json(run("plan", "--json", "--image", web))
    assert {r["image_id"] for r in data["results"]} == {web}
    assert {r["section"] for r in data["results"]} == {"copy", "share"}

    refused = run("plan", "--region", "cn-east-3")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert refused.stderr.splitlines()[0] == (
        "error: --region cn-east-3 is not a source region; source regions: cn-north-4"
    )


def test_plan_shows_drift_when_a_finished_replica_no_longer_matches(cloud, env, run, monkeypatch):
    estate = seed_demo_estate(cloud)
    web = next(i for i, n in estate.names.items() if n == "web-base")
    assert run("apply", "--image", web).exit_code == 0
    cloud.run_until_idle()
    assert run("apply", "--image", web).exit_code == 0  # finalizes the finished copies
    # the share targets change: the finished replicas must now be shared with one more project
    other = cloud.add_account("auditor")
    targets = json.loads(env["IMSYNC_SHARE_TARGETS"])
    for region, projects in targets["partner"].items():
        projects.append(other.projects[region])
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps(targets))

    data = as_json(run("plan", "--json", "--image", web))

    drift = [r for r in data["results"] if r["section"] == "drift"]
    assert {r["region"] for r in drift} == {"cn-east-3", "ap-southeast-1"}
    assert all(r["action"] == "finalize" and r["replica_id"] for r in drift)
