"""`imsync accept`: the recipient's side from the command line, against the emulator."""

from __future__ import annotations

from tests.cli.conftest import HOME
from tests.cli.support import as_json, writes


def as_partner(cloud, monkeypatch, trusted: str) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", cloud.recipient.ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", cloud.recipient.sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", cloud.recipient.domain_id)
    monkeypatch.setenv("IMSYNC_TRUSTED_OWNERS", trusted)


def pending(cloud, owner, name="golden"):
    return cloud.region(HOME).add_image(name=name, owner=owner, members={cloud.recipient.projects[HOME]: "pending"})


def test_accept_accepts_the_trusted_and_shows_the_rest(cloud, env, monkeypatch, run):
    stranger = cloud.add_account("stranger")
    ours, theirs = pending(cloud, cloud.owner, "ours"), pending(cloud, stranger, "theirs")
    as_partner(cloud, monkeypatch, cloud.owner.projects[HOME])

    result = run("accept")

    assert result.exit_code == 0, result.output
    assert "ours" in result.stdout and "theirs" in result.stdout and "1 accepted, 1 untrusted" in result.stdout
    partner = cloud.recipient.projects[HOME]
    assert cloud.region(HOME).image(ours.id).members[partner] == "accepted"
    assert cloud.region(HOME).image(theirs.id).members[partner] == "pending"


def test_accept_dry_run_json_changes_nothing(cloud, env, monkeypatch, run):
    image = pending(cloud, cloud.owner)
    as_partner(cloud, monkeypatch, cloud.owner.projects[HOME])

    answer = as_json(run("accept", "--dry-run", "--json"))

    assert answer["command"] == "accept" and answer["dry_run"] and answer["counts"] == {"planned": 1}
    (result,) = answer["results"]
    assert (result["image_id"], result["image_name"]) == (image.id, "golden")
    assert result["owner"] == cloud.owner.projects[HOME]
    assert writes(cloud) == []


def test_accept_on_the_emulator_shows_the_whole_story(run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")

    answer = as_json(run("accept", "--emulator", "--json"))

    assert answer["ok"] and answer["counts"] == {"accepted": 2, "untrusted": 1}, answer
    assert {r["image_name"] for r in answer["results"] if r["outcome"] == "accepted"} == {"web-base", "db-server"}


def test_a_bad_trusted_owner_is_a_one_line_error(cloud, env, monkeypatch, run):
    as_partner(cloud, monkeypatch, "partner")

    result = run("accept")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: IMSYNC_TRUSTED_OWNERS: item 1 (a 7-character value of lowercase letters)")
    assert "Traceback" not in result.output


def test_trusted_owners_may_come_from_imsync_toml(cloud, env, monkeypatch, run, tmp_path):
    image = pending(cloud, cloud.owner)
    as_partner(cloud, monkeypatch, "")
    monkeypatch.delenv("IMSYNC_TRUSTED_OWNERS")
    (tmp_path / "imsync.toml").write_text(f'trusted_owners = ["{cloud.owner.projects[HOME]}"]\n')

    result = run("accept")

    assert result.exit_code == 0, result.output
    assert cloud.region(HOME).image(image.id).members[cloud.recipient.projects[HOME]] == "accepted"
