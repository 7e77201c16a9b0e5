"""imsync doctor: each check passes, or fails with its fix; exit 0 only when every check passes."""

from __future__ import annotations

import json

import pytest

from imsync.emulator import Emulator, ManualClock
from tests.cli.conftest import REGIONS, deployment
from tests.cli.support import writes


def checks(result) -> dict[str, dict]:
    assert result.exit_code in (0, 1, 2), result.output
    data = json.loads(result.stdout)
    assert set(data) == {"version", "command", "ok", "settings_file", "checks"}
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in data["checks"])
    return {c["name"]: c for c in data["checks"]}


def not_passed(found: dict[str, dict]) -> dict[str, str]:
    return {name: c["status"] for name, c in found.items() if c["status"] != "pass"}


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


def test_table_output_has_one_line_per_check_and_the_fix(cloud, env, run):
    cloud.remove_agency("imsync-copy")

    result = run("doctor")

    assert result.exit_code == 1
    assert "PASS credentials" in result.stdout
    assert "FAIL agency: no IAM agency named imsync-copy" in result.stdout
    assert "fix: create a cloud service agency 'imsync-copy'" in result.stdout
    assert "checks did not pass" in result.stdout


def test_missing_agency(cloud, env, run):
    cloud.remove_agency("imsync-copy")

    result = run("doctor", "--json")

    assert result.exit_code == 1
    assert not_passed(checks(result)) == {"agency": "fail"}


def test_agency_without_rights_in_a_destination(cloud, env, run):
    cloud.set_agency("imsync-copy", {r: ["IMS Administrator"] for r in REGIONS if r != "cn-east-3"})
    cloud.set_agency(
        "imsync-copy", {**{r: ["IMS CrossCopyAgencyPolicy"] for r in REGIONS}, "cn-east-3": ["OBS Viewer"]}
    )

    result = run("doctor", "--json")

    assert result.exit_code == 1
    found = checks(result)
    assert not_passed(found) == {"agency rights cn-east-3": "fail"}
    assert (
        "holds no IMS role on the project of cn-east-3 (it holds OBS Viewer)"
        in found["agency rights cn-east-3"]["detail"]
    )
    assert "IMS CrossCopyAgencyPolicy" in found["agency rights cn-east-3"]["fix"]


def test_all_projects_grant_is_flagged(cloud, env, run):
    cloud.set_agency("imsync-copy", {r: ["IMS Administrator"] for r in REGIONS}, all_projects=True)

    result = run("doctor", "--json")

    assert result.exit_code == 1
    found = checks(result)
    assert found["agency all projects"]["status"] == "warn"
    assert "'all projects'" in found["agency all projects"]["detail"]
    assert "each region's project" in found["agency all projects"]["fix"]
    assert {found[f"agency rights {r}"]["status"] for r in REGIONS if r != "cn-north-4"} == {"fail"}


def test_all_projects_grant_alongside_project_grants_is_a_warning_only(cloud, env, run):
    agency = cloud.set_agency("imsync-copy")
    agency.all_projects = ["IMS Administrator"]

    result = run("doctor", "--json")

    assert result.exit_code == 1  # a warning is not a pass
    assert not_passed(checks(result)) == {"agency all projects": "warn"}


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


def test_image_quota_headroom(monkeypatch, tmp_path, run):
    with Emulator(regions=REGIONS, clock=ManualClock(), image_quota=4) as cloud:
        deployment(cloud, monkeypatch, tmp_path)
        for n in range(4):
            cloud.region("cn-east-3").add_image(name=f"img-{n}")
        cloud.region("cn-south-1").add_image(name="one")

        found = checks(run("doctor", "--json"))

    assert found["quota cn-east-3"]["status"] == "fail"
    assert found["quota cn-east-3"]["detail"] == "4 of 4 private images used in cn-east-3"
    assert found["quota cn-south-1"]["status"] == "warn"
    assert "higher IMS image quota" in found["quota cn-south-1"]["fix"]


def test_the_account_is_found_without_a_domain_id(cloud, env, run, monkeypatch):
    monkeypatch.delenv("HUAWEICLOUD_SDK_DOMAIN_ID")

    result = run("doctor", "--json")

    assert result.exit_code == 0, result.output


DESTINATIONS = [r for r in REGIONS if r != "cn-north-4"]


def test_agency_granted_in_the_destination_regions_only_passes_and_says_so(cloud, env, run):
    cloud.set_agency("imsync-copy", {r: ["IMS CrossCopyAgencyPolicy"] for r in DESTINATIONS})

    result = run("doctor", "--json")

    assert result.exit_code == 0, result.output
    found = checks(result)
    assert found["agency scope"]["detail"] == (
        "imsync-copy is granted in the destination regions only, which the current IMS guide requires; "
        "the older guide also asks for the source region (cn-north-4)"
    )
    assert "a source region only" in found["agency rights cn-north-4"]["detail"]


def test_agency_granted_in_source_and_destination_says_so(cloud, env, run):
    cloud.set_agency("imsync-copy", {r: ["IMS CrossCopyAgencyPolicy"] for r in REGIONS})

    found = checks(run("doctor", "--json"))

    assert found["agency scope"] == {
        "name": "agency scope",
        "status": "pass",
        "detail": "imsync-copy is granted in source and destination regions",
        "fix": "",
    }


def test_one_iam_failure_does_not_stop_doctor_and_an_unread_check_is_not_a_pass(cloud, env, run, monkeypatch):
    from imsync.adapters.huawei_iam import HuaweiDirectory
    from imsync.domain.errors import Unavailable

    real = HuaweiDirectory.find_project

    def flaky(self, region):
        if region == "cn-east-3":
            raise Unavailable(f"finding the project of {region} in IAM", "500", "IAM is failing")
        return real(self, region)

    monkeypatch.setattr(HuaweiDirectory, "find_project", flaky)

    result = run("doctor", "--json")

    found = checks(result)
    assert result.exit_code == 1
    assert found["project cn-east-3"]["status"] == "skip"
    assert found["project cn-east-3"]["detail"].startswith("not checked: finding the project of cn-east-3")
    assert found["share alias partner"]["status"] == "skip"  # it could not tell whose projects they are
    assert found["quota cn-south-1"]["status"] == "pass"  # the checks after the failure still ran
