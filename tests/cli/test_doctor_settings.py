"""doctor names its settings file, survives a broken one, agrees with plan on settings errors (issue 23, point 9)."""

from __future__ import annotations

import json

import pytest


def checks(result) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_doctor_names_the_settings_file_it_read(env, run, tmp_path):
    (tmp_path / "imsync.toml").write_text("max_concurrent_copies = 4\n")

    text, data = run("doctor"), json.loads(run("doctor", "--json").stdout)

    assert text.stdout.splitlines()[0] == "settings file: imsync.toml"
    assert data["settings_file"] == "imsync.toml"


def test_doctor_says_when_no_file_was_read(env, run):
    first = run("doctor").stdout.splitlines()[0]

    assert first.startswith("settings file: none (no ./imsync.toml")


def test_refused_credentials_name_the_iam_url(cloud, env, run, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "X" * 40)

    found = checks(run("doctor", "--json"))

    assert found["credentials"]["status"] == "fail"
    assert f"not accepted by IAM at {cloud.endpoints['iam']}" in found["credentials"]["detail"]


def test_a_malformed_file_fails_its_check_and_the_others_still_run(env, run, tmp_path):
    (tmp_path / "imsync.toml").write_text("home_region = [\n")

    result = run("doctor", "--json")

    found = checks(result)
    assert result.exit_code == 2
    assert found["settings file"]["status"] == "fail" and "not valid TOML" in found["settings file"]["detail"]
    assert found["credentials"]["status"] == "pass" and found["agency"]["status"] == "pass"


def test_nothing_configured_is_not_a_pass(env, run, monkeypatch):
    for name in list(env):
        monkeypatch.delenv(name)

    result = run("doctor")

    assert "PASS settings" not in result.stdout
    assert "FAIL settings: neither IMSYNC_SOURCE_REGIONS nor IMSYNC_HOME_REGION is set" in result.stdout


@pytest.mark.parametrize("setting", ["IMSYNC_HOME_REGION", "IMSYNC_MAX_CONCURRENT_COPIES"])
def test_a_settings_error_exits_as_plan_does(env, run, monkeypatch, setting):
    if setting == "IMSYNC_HOME_REGION":
        monkeypatch.delenv("IMSYNC_HOME_REGION")
        monkeypatch.delenv("IMSYNC_SOURCE_REGIONS")
    else:
        monkeypatch.setenv(setting, "nine")

    doctor, plan = run("doctor"), run("plan")

    assert doctor.exit_code == plan.exit_code == 2, (doctor.output, plan.output)
