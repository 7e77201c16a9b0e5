"""imsync doctor on a deployment whose settings or keys are wrong: every test reads one shared emulator.

Doctor only reads. These tests vary the environment, never the cloud, so they share one emulator for the
module (tests/helpers/shared_cloud.py); the guard fails any of them that writes to it, which also holds
doctor to reading. The tests that change the cloud (agencies, quota, faults) are in test_doctor.py.
"""

from __future__ import annotations

import json

import pytest

from imsync.emulator import Emulator, ManualClock
from tests.cli.conftest import REGIONS
from tests.cli.support import writes
from tests.cli.test_doctor import checks, not_passed
from tests.helpers.shared_cloud import read_only


@pytest.fixture(scope="module")
def cloud():
    with Emulator(regions=REGIONS, clock=ManualClock()) as emulated:
        yield emulated


@pytest.fixture(autouse=True)
def untouched(cloud):
    with read_only(cloud):
        yield


def test_all_checks_pass_on_a_healthy_deployment(cloud, env, run):
    result = run("doctor", "--json")

    assert result.exit_code == 0
    found = checks(result)
    assert not_passed(found) == {}
    for region in REGIONS:
        assert found[f"project {region}"]["detail"] == f"{region} is project {cloud.owner.projects[region]}"
        assert "IMS Administrator" in found[f"agency rights {region}"]["detail"]
        assert f"of 50 private images used in {region}" in found[f"quota {region}"]["detail"]
    assert {"settings", "credentials", "agency", "share alias partner"} <= set(found)
    assert writes(cloud) == []


def test_bad_alias_project_id(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps({"partner": {"cn-east-3": ["not-a-project"]}}))

    result = run("doctor", "--json")

    assert result.exit_code == 2  # a settings error, as plan reports it
    found = checks(result)
    assert found["settings"]["status"] == "fail"
    assert (
        "project 1 (a 13-character value of lowercase letters and punctuation) is not a project ID"
        in (found["settings"]["detail"])
    )
    assert found["cloud checks"]["status"] == "skip"


@pytest.mark.parametrize("where", ["alias", "region", "project"])
def test_a_trailing_newline_in_the_share_targets_fails_the_doctor(cloud, env, run, monkeypatch, where):
    # "partner\n" never matches the tag's "partner": doctor used to pass while nothing was ever shared.
    alias, region, project = "partner", "cn-east-3", cloud.recipient.projects["cn-east-3"]
    targets = {
        "alias": {alias + "\n": {region: [project]}},
        "region": {alias: {region + "\n": [project]}},
        "project": {alias: {region: [project + "\n"]}},
    }[where]
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps(targets))

    result = run("doctor", "--json")

    assert result.exit_code == 2  # a settings failure, as plan says it
    found = checks(result)
    assert found["settings"]["status"] == "fail"
    assert "IMSYNC_SHARE_TARGETS" in found["settings"]["detail"] and "line breaks" in found["settings"]["detail"]


def test_alias_in_a_region_that_is_not_used_or_the_accounts_own_project(cloud, env, run, monkeypatch):
    targets = {
        "partner": {"cn-east-3": [cloud.recipient.projects["cn-east-3"]], "eu-west-0": ["0" * 32]},
        "self": {"cn-south-1": [cloud.owner.projects["cn-south-1"]]},
    }
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps(targets))

    found = checks(run("doctor", "--json"))

    problems = not_passed(found)
    assert problems == {"share alias partner region eu-west-0": "fail", "share alias self": "fail"}
    assert "neither allowed nor a source region" in found["share alias partner region eu-west-0"]["detail"]
    assert "the account's own project" in found["share alias self"]["detail"]


def test_unknown_region(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_ALLOWED_REGIONS", "cn-east-3,cn-south-1,ap-southeast-1,eu-west-0")

    result = run("doctor", "--json")

    assert result.exit_code == 1
    found = checks(result)
    assert not_passed(found) == {"project eu-west-0": "fail"}
    assert "no project named eu-west-0" in found["project eu-west-0"]["detail"]


@pytest.mark.parametrize("variable", ["HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_AK"])
def test_bad_credentials(cloud, env, run, monkeypatch, variable):
    monkeypatch.setenv(variable, "X" * 40)

    result = run("doctor", "--json")

    assert result.exit_code == 1
    found = checks(result)
    assert not_passed(found) == {"credentials": "fail", "cloud checks": "skip"}
    assert "not accepted" in found["credentials"]["detail"]
    assert "HUAWEICLOUD_SDK_AK" in found["credentials"]["fix"]


def test_no_credentials(cloud, env, run, monkeypatch):
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")

    found = checks(run("doctor", "--json"))

    assert found["credentials"]["status"] == "fail"
    assert "no Huawei Cloud credentials" in found["credentials"]["detail"]


def test_settings_unset_or_contradictory(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_ALLOWED_REGIONS", "")
    monkeypatch.delenv("IMSYNC_AGENCY")
    monkeypatch.setenv("IMSYNC_SOURCE_REGIONS", "cn-south-1")
    monkeypatch.setenv("IMSYNC_VAULTS", json.dumps({"ap-southeast-1": "vault-1"}))

    found = checks(run("doctor", "--json"))

    problems = not_passed(found)
    assert problems["allowed regions"] == problems["agency setting"] == problems["home region"] == "fail"
    assert problems["vaults"] == "warn"
    assert "cn-north-4 is not in IMSYNC_SOURCE_REGIONS" in found["home region"]["detail"]
    # the engine still handles create events from the home region; only the DR run does not scan it
    assert "create events from it are still handled" in found["home region"]["detail"]
    assert "refused" not in found["home region"]["detail"]
    # the alias lists projects in regions that are now neither allowed nor sources
    assert problems["share alias partner region cn-east-3"] == "fail"


def test_the_account_is_found_without_a_domain_id(cloud, env, run, monkeypatch):
    monkeypatch.delenv("HUAWEICLOUD_SDK_DOMAIN_ID")

    result = run("doctor", "--json")

    assert result.exit_code == 0, result.output
