"""Errors name the service that failed and a fix that applies (issue 23, point 8)."""

from __future__ import annotations

import socket

from imsync import function_files
from tests.cli.conftest import HOME, REGIONS


def dead_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_iam_failure_says_iam(env, run, monkeypatch):
    url = dead_url()
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", url)
    for region in REGIONS:
        monkeypatch.setenv(f"HUAWEICLOUD_SDK_REGION_IAM_{region.upper().replace('-', '_')}", url)

    result = run("plan")

    assert result.exit_code == 1
    assert f"finding the project of {HOME} in IAM failed" in result.stderr
    assert "no answer from IAM" in result.stderr and "IMS" not in result.stderr.splitlines()[0]


def test_a_region_without_a_project_is_said_in_imsync_words(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_SOURCE_REGIONS", f"{HOME},eu-west-0")
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IMS_EU_WEST_0", cloud.endpoints[HOME])
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IAM_EU_WEST_0", cloud.endpoints["iam"])

    result = run("plan")

    assert result.exit_code == 1
    assert "BasicCredentials" not in result.stderr and "project id manually" not in result.stderr
    assert "IAM lists no project by this region's name: check the region ID" in result.stderr


def test_missing_credentials_never_point_at_imsync_toml(env, run, monkeypatch, tmp_path):
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")
    monkeypatch.setenv("HOME", str(tmp_path))

    result = run("plan")

    fix = result.stderr.splitlines()[1]
    assert result.exit_code == 2 and fix.startswith("  fix: export HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK")
    assert "never go in imsync.toml" in fix


def test_invoke_without_the_handler_files_says_how_to_get_them(run, monkeypatch, tmp_path):
    monkeypatch.setattr(function_files, "FUNCTIONS_DIR", tmp_path / "site-packages" / "functions")

    result = run("invoke", "scheduled_dr_copy", "timer", "--emulator")

    assert result.exit_code == 2
    assert "the function handlers are not installed" in result.stderr
    assert "from a clone of the imsync repository, installed with `pip install -e .`" in result.stderr
    assert "imsync.toml" not in result.stderr
