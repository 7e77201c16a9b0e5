"""One clear line and the fix instead of a traceback; imsync.toml read under the environment."""

from __future__ import annotations

import json
from pathlib import Path

from imsync.config import VARIABLES, Settings
from imsync.service import Replicator
from imsync.settings_file import merged_environment, read_settings_file
from tests.cli.conftest import HOME
from tests.cli.support import as_json

EXAMPLE = Path(__file__).resolve().parents[2] / "imsync.toml.example"


def test_a_bad_setting_is_one_line_and_the_fix(env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_MAX_CONCURRENT_COPIES", "nine")

    for command in ("plan", "apply", "status"):
        result = run(command)
        assert result.exit_code == 2, (command, result.output)
        lines = result.stderr.splitlines()
        expected = "a 4-character value of lowercase letters is not a whole number (ASCII digits)"
        assert lines[0] == f"error: IMSYNC_MAX_CONCURRENT_COPIES: {expected}"
        assert lines[1].startswith("  fix: ")
        assert len(lines) == 2 and "Traceback" not in result.output


def test_debug_shows_the_exception(env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_MAX_CONCURRENT_COPIES", "nine")

    result = run("plan", "--debug")

    assert type(result.exception).__name__ == "ConfigError"


def test_an_unexpected_failure_is_one_line_too(env, run, monkeypatch):
    def broken(self, trigger):
        raise RuntimeError("boom")

    monkeypatch.setattr(Replicator, "sweep", broken)

    result = run("plan")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: unexpected RuntimeError: boom",
        "  fix: run again with --debug for the traceback, and report it",
    ]


def test_rejected_credentials_are_reported_not_raised(cloud, env, run, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "X" * 40)

    result = run("plan")
    data = as_json(run("plan", "--json"))

    assert result.exit_code == 1 and "Traceback" not in result.output
    # the SDK's own project look-up or the listing refuses the keys, depending on what the SDK cached
    assert result.stderr.startswith("error: ") and "cn-north-4" in result.stderr.splitlines()[0]
    assert "fix: check HUAWEICLOUD_SDK_AK/SK; run `imsync doctor`" in result.stderr
    assert data["ok"] is False and data["counts"]["error"] >= 1
    assert all("failed" in r["reason"] for r in data["results"] if r["section"] == "error")


def test_settings_file_with_the_environment_winning(cloud, env, run, monkeypatch, tmp_path):
    for key in env:
        monkeypatch.delenv(key)
    partner = {"cn-east-3": [cloud.recipient.projects["cn-east-3"]]}
    (tmp_path / "imsync.toml").write_text(
        f'home_region = "{HOME}"\n'
        'allowed_regions = ["cn-east-3"]\n'
        'agency = "not-this-one"\n'
        "max_concurrent_copies = 2\n"
        "copy_tags = false\n"
        "[share_targets.partner]\n" + "".join(f"{r} = {json.dumps(p)}\n" for r, p in partner.items())
    )
    monkeypatch.setenv("IMSYNC_AGENCY", "imsync-copy")
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"})

    values = merged_environment()
    settings = Settings.from_env(values)
    plan = as_json(run("plan", "--json"))
    doctor = as_json(run("doctor", "--json"))

    assert settings.agency == "imsync-copy" and settings.max_concurrent_copies == 2 and not settings.copy_tags
    assert settings.share_targets == {"partner": {"cn-east-3": tuple(partner["cn-east-3"])}}
    assert plan["limit"] == 2 and [r["name"] for r in plan["results"] if r["section"] == "copy"] == ["golden"]
    assert doctor["ok"] is True


def test_settings_file_from_option_or_variable(env, run, monkeypatch, tmp_path):
    monkeypatch.delenv("IMSYNC_MAX_CONCURRENT_COPIES", raising=False)
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text("max_concurrent_copies = 3\n")

    assert as_json(run("plan", "--json", "--config", str(elsewhere)))["limit"] == 3
    monkeypatch.setenv("IMSYNC_CONFIG", str(elsewhere))
    assert as_json(run("plan", "--json"))["limit"] == 3


def test_settings_file_problems_name_the_file_and_key(env, run, tmp_path):
    bad = tmp_path / "imsync.toml"
    for text, words in (
        ("regions = 1\n", "unknown key 'regions'"),
        ("allowed_regions = 3\n", "allowed_regions: expected a list of region IDs"),
        ("share_targets = 'x'\n", "share_targets: expected a table"),
        ("agency = \n", "not valid TOML"),
    ):
        bad.write_text(text)
        result = run("plan")
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert words in result.stderr and "imsync.toml" in result.stderr
    result = run("plan", "--config", str(tmp_path / "missing.toml"))
    assert result.exit_code == 2 and "missing.toml: the settings file does not exist" in result.stderr


def test_the_example_file_is_valid():
    values = read_settings_file(EXAMPLE)

    settings = Settings.from_env(values)

    assert settings.home_region == "cn-north-4" and settings.agency == "imsync-copy"
    assert set(values) <= set(VARIABLES)
