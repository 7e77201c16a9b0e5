"""The operator's first hour: "not configured" is never "nothing to do", unknown names and dead endpoints are named."""

from __future__ import annotations

import json
import socket

import pytest

from imsync.demo.estate import seed_demo_estate
from tests.cli.conftest import HOME
from tests.cli.support import as_json, writes


@pytest.mark.parametrize("command", ["plan", "apply", "status"])
def test_no_credentials_is_a_settings_error_not_an_empty_table(env, run, monkeypatch, tmp_path, command):
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.huaweicloud/credentials either

    result = run(command)

    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: no Huawei Cloud credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK")
    assert "~/.huaweicloud/credentials" in first and "--emulator" in first
    assert "nothing" not in result.stdout and "┏" not in result.stdout


@pytest.mark.parametrize("command", ["plan", "apply", "status"])
def test_no_source_region_is_a_settings_error(env, run, monkeypatch, command):
    monkeypatch.delenv("IMSYNC_HOME_REGION")
    monkeypatch.delenv("IMSYNC_SOURCE_REGIONS")

    result = run(command)

    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0] == (
        "error: no source region: set IMSYNC_HOME_REGION (or IMSYNC_SOURCE_REGIONS), or home_region in "
        "imsync.toml; or try everything locally with --emulator"
    )


def test_json_on_an_error_is_still_one_document(env, run, monkeypatch):
    monkeypatch.delenv("IMSYNC_HOME_REGION")
    monkeypatch.delenv("IMSYNC_SOURCE_REGIONS")

    for command in ("plan", "apply", "status", "tag"):
        args = [command, "--json"] + (["some-image"] if command == "tag" else [])
        result = run(*args)
        data = json.loads(result.stdout)
        assert data["ok"] is False and data["command"] == command and data["error"] and data["fix"], command
        assert data["exit_code"] == result.exit_code != 0


def test_unknown_region_and_image_exit_non_zero_with_a_message(cloud, env, run):
    estate = seed_demo_estate(cloud)
    untagged = cloud.region(HOME).add_image(name="plain")

    region = run("status", "--region", "cn-nowhere-9")
    missing = run("plan", "--image", "00000000-0000-0000-0000-00000000dead")
    plain = run("plan", "--image", untagged.id)

    assert region.exit_code == 2
    assert "--region cn-nowhere-9 is not a source region; source regions: cn-north-4" in region.stderr
    assert missing.exit_code == 1
    assert "no private image with this ID in the source regions (cn-north-4)" in missing.stderr
    assert plain.exit_code == 1
    assert f"--image {untagged.id} (plain) has no imsync-regions tag" in plain.stderr
    assert f"imsync tag {untagged.id} --regions" in plain.stderr
    assert estate.names  # the estate was there: the errors are about the names, not an empty cloud


@pytest.mark.parametrize("key", ["imsync-region", "imsync_regions", "Imsync-Regions"])
def test_a_misspelled_policy_tag_is_reported_by_plan_and_status(cloud, env, run, key):
    image = cloud.region(HOME).add_image(name="typo", tags={key: "cn-east-3"})

    plan = run("plan")
    status = as_json(run("status", "--json"))
    plan_json = as_json(run("plan", "--json"))

    expected = (
        f"image typo ({image.id}) in {HOME}: tag '{key}' is not an imsync tag and is ignored; "
        "did you mean imsync-regions?"
    )
    assert f"warning: {expected}" in plan.stderr
    assert status["warnings"] == plan_json["warnings"] == [expected]


def test_imsyncs_own_tags_are_not_taken_for_misspellings(cloud, env, run):
    cloud.region(HOME).add_image(name="web", tags={"imsync-regions": "cn-east-3", "imsync-shared": "0f1e2d"})

    assert as_json(run("plan", "--json"))["warnings"] == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_ims_endpoint_is_named_and_credentials_are_not_blamed(env, run, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IMS_CN_NORTH_4", url)
    monkeypatch.setenv("IMSYNC_HTTP_TIMEOUT", "2")

    result = run("plan")

    assert result.exit_code == 1
    assert f"  cause: {url}: connection refused" in result.stderr.splitlines()
    assert "HUAWEICLOUD_SDK_AK" not in result.stderr and "credential" not in result.stderr


def test_a_tls_failure_is_named(cloud, env, run, monkeypatch):
    plain_http = cloud.region(HOME).endpoint
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IMS_CN_NORTH_4", plain_http.replace("http://", "https://"))
    monkeypatch.setenv("IMSYNC_HTTP_TIMEOUT", "2")

    result = run("plan")

    assert result.exit_code == 1
    cause = next(line for line in result.stderr.splitlines() if line.startswith("  cause: "))
    assert "https://127.0.0.1" in cause and "TLS" in cause
    assert "credential" not in result.stderr


def test_doctor_names_an_unreachable_iam_and_still_gives_json(env, run, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", url)

    result = run("doctor", "--json")

    data = as_json(result)
    found = {c["name"]: c for c in data["checks"]}
    assert found["credentials"]["status"] == "skip"
    assert found["credentials"]["detail"] == f"not checked: IAM did not answer ({url}: connection refused)"
    assert "AK" not in found["credentials"]["fix"] and "credential" not in found["credentials"]["fix"]
    assert found["cloud checks"]["detail"].startswith("not checked: ")
    assert data["ok"] is False and result.exit_code == 1


def test_status_shows_policy_refusals_in_its_table(cloud, env, run):
    cloud.region(HOME).add_image(name="wrong", tags={"imsync-regions": "cn-east-3_eu-west-0", "imsync-share": "nobody"})

    result = run("status")

    assert result.exit_code == 0, result.output
    assert "'eu-west-0' is not in IMSYNC_ALLOWED_REGIONS" in result.stdout
    assert "'nobody' is not a share target in IMSYNC_SHARE_TARGETS" in result.stdout


def test_tables_off_a_terminal_cut_no_cell_and_split_no_id(cloud, env, run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    long_name = "a-very-long-image-name-that-an-operator-would-want-to-grep-for-whole"
    image = cloud.region(HOME).add_image(name=long_name, tags={"imsync-regions": "cn-east-3_eu-west-0"})
    nameless = cloud.region(HOME).add_image(name="", tags={"imsync-regions": "cn-east-3"})

    plan = run("plan")
    status = run("status")

    for output in (plan.stdout, status.stdout):
        assert long_name in output
        assert "…" not in output
    assert nameless.id in plan.stdout
    refusal = next(line for line in plan.stdout.splitlines() if "eu-west-0" in line)
    assert "fix the tag or ask the operator to allow the region" in refusal  # the whole reason on one line
    assert image.name in refusal


def test_settings_file_errors_name_the_file_and_the_key(env, run, monkeypatch, tmp_path):
    monkeypatch.delenv("IMSYNC_MAX_CONCURRENT_COPIES", raising=False)
    (tmp_path / "imsync.toml").write_text("max_concurrent_copies = 9\n")

    result = run("plan")

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: imsync.toml: key max_concurrent_copies (IMSYNC_MAX_CONCURRENT_COPIES: must be 1 to 5 "
        "(IMS runs at most 5 copies per user))"
    )


def test_credentials_from_the_sdk_profile_file_are_the_last_fallback(cloud, env, run, monkeypatch, tmp_path):
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    profile = tmp_path / ".huaweicloud" / "credentials"
    profile.parent.mkdir()
    profile.write_text(f"[basic]\nak = {cloud.owner.ak}\nsk = {cloud.owner.sk}\n")
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"})

    plan = as_json(run("plan", "--json"))
    doctor = as_json(run("doctor", "--json"))

    assert [r["name"] for r in plan["results"] if r["section"] == "copy"] == ["golden"]
    credentials = next(c for c in doctor["checks"] if c["name"] == "credentials")
    assert credentials["status"] == "pass" and str(profile) in credentials["detail"]
    assert cloud.owner.sk not in json.dumps(doctor)
    assert writes(cloud) == []


def test_every_command_names_an_unreachable_endpoint(env, run, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IMS_CN_NORTH_4", url)
    monkeypatch.setenv("IMSYNC_HTTP_TIMEOUT", "2")

    result = run("tag", "golden", "--region", HOME, "--when", "schedule")

    assert result.exit_code == 1
    assert f"  cause: {url}: connection refused" in result.stderr.splitlines()
    assert "credential" not in result.stderr
