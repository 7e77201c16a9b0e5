"""imsync doctor: each check passes, or fails with its fix; exit 0 only when every check passes."""

from __future__ import annotations

import json

from imsync.emulator import Emulator, ManualClock
from tests.cli.conftest import REGIONS, deployment


def checks(result) -> dict[str, dict]:
    assert result.exit_code in (0, 1, 2), result.output
    data = json.loads(result.stdout)
    assert set(data) == {"version", "command", "ok", "settings_file", "checks"}
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in data["checks"])
    return {c["name"]: c for c in data["checks"]}


def not_passed(found: dict[str, dict]) -> dict[str, str]:
    return {name: c["status"] for name, c in found.items() if c["status"] != "pass"}


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
