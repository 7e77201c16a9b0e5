"""imsync status: the image x region matrix, shares per alias, copies in flight against the limit."""

from __future__ import annotations

import os

from tests.cli.conftest import HOME
from tests.cli.support import as_json, writes


def test_status_shows_each_replica_state_shares_and_copies_in_flight(cloud, env, run):
    home = cloud.region(HOME)
    shared = home.add_image(
        name="shared", size_gb=10, tags={"imsync-regions": "cn-east-3_cn-south-1", "imsync-share": "partner"}
    )
    assert run("apply").exit_code == 0
    cloud.run_until_idle()
    assert run("apply").exit_code == 0  # finalizes: tags and shares (pending until the partner accepts)
    partner = cloud.recipient.projects
    [east] = cloud.region("cn-east-3").replicas_of(shared.id)
    east.members[partner["cn-east-3"]] = "accepted"

    failing = home.add_image(name="failing", size_gb=10, tags={"imsync-regions": "ap-southeast-1"})
    cloud.fail_next_copy("IMG.0100", "agency token invalid")
    assert run("apply", "--image", failing.id).exit_code == 0
    cloud.run_until_idle()
    copying = home.add_image(name="copying", size_gb=10, tags={"imsync-regions": "cn-east-3"})
    assert run("apply", "--image", copying.id).exit_code == 0
    home.add_image(name="installer", iso=True, tags={"imsync-regions": "cn-east-3"})
    home.add_image(name="baking", status="saving", tags={"imsync-regions": "cn-south-1"})
    before = len(writes(cloud))

    data = as_json(run("status", "--json"))

    assert len(writes(cloud)) == before  # status only reads
    assert data["command"] == "status" and data["in_flight"] == 1 and data["limit"] == 5
    assert data["regions"] == ["cn-north-4", "ap-southeast-1", "cn-east-3", "cn-south-1"]
    images = {i["name"]: i for i in data["images"]}
    assert set(images) == {"shared", "failing", "copying", "installer", "baking"}
    cells = {name: {r: c["state"] for r, c in i["regions"].items()} for name, i in images.items()}
    assert cells["shared"] == {"cn-north-4": "source", "cn-east-3": "active", "cn-south-1": "active"}
    assert cells["failing"] == {"cn-north-4": "source", "ap-southeast-1": "failed"}
    assert cells["copying"] == {"cn-north-4": "source", "cn-east-3": "copying"}
    assert cells["installer"]["cn-east-3"] == "refused"
    assert cells["baking"]["cn-south-1"] == "deferred"
    regions = images["shared"]["regions"]
    assert regions["cn-east-3"]["shares"] == {"partner": {partner["cn-east-3"]: "accepted"}}
    assert regions["cn-south-1"]["shares"] == {"partner": {partner["cn-south-1"]: "pending"}}
    assert regions["cn-north-4"]["shares"] == {"partner": {partner["cn-north-4"]: "pending"}}
    assert "failed" in images["failing"]["regions"]["ap-southeast-1"]["reason"]
    assert images["copying"]["regions"]["cn-east-3"]["replica_status"] in ("queued", "saving")
    assert "ISO" in images["installer"]["regions"]["cn-east-3"]["reason"]


def test_status_table(cloud, env, run):
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner"})
    assert run("apply").exit_code == 0

    result = run("status")

    assert result.exit_code == 0, result.output
    for words in ("imsync status", "golden", "source", "copying", "partner:pending", "copies in flight: 1/5"):
        assert words in result.stdout


def test_every_command_runs_on_the_embedded_emulator(run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "a-real-key-that-must-not-be-used")

    status = as_json(run("status", "--emulator", "--json"))
    plan = as_json(run("plan", "--emulator", "--json"))
    doctor = as_json(run("doctor", "--emulator", "--json"))
    applied = as_json(run("apply", "--emulator", "--wait", "--json"))

    assert {i["name"] for i in status["images"]} >= {"web-base", "db-base", "installer", "legacy"}
    assert plan["counts"]["copy"] == 5
    assert doctor["ok"] is True
    assert applied["ok"] is True and len(applied["jobs"]) == 13
    assert {j["status"] for j in applied["jobs"]} == {"SUCCESS"}
    assert os.environ["HUAWEICLOUD_SDK_AK"] == "a-real-key-that-must-not-be-used"
