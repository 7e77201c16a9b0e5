"""An empty IMSYNC_* variable is unset; a misspelled one is named with the closest setting (issue 23, point 6)."""

from __future__ import annotations

from imsync.settings_file import file_and_environment
from tests.cli.support import as_json


def test_an_empty_variable_does_not_hide_the_files_value(tmp_path):
    (tmp_path / "imsync.toml").write_text('agency = "imsync-copy"\nhome_region = "cn-north-4"\n')

    env, origins = file_and_environment(str(tmp_path / "imsync.toml"), {"IMSYNC_AGENCY": "", "IMSYNC_DRY_RUN": " "})

    assert env["IMSYNC_AGENCY"] == "imsync-copy" and origins["IMSYNC_AGENCY"].endswith("imsync.toml: key agency")
    assert "IMSYNC_DRY_RUN" not in env


def test_doctor_reads_the_files_agency_under_an_empty_variable(env, run, monkeypatch, tmp_path):
    monkeypatch.delenv("IMSYNC_AGENCY")
    (tmp_path / "imsync.toml").write_text('agency = "imsync-copy"\n')
    monkeypatch.setenv("IMSYNC_AGENCY", "")

    checks = {c["name"]: c for c in as_json(run("doctor", "--json"))["checks"]}

    assert "IMSYNC_AGENCY is not set" not in str(checks)
    assert checks["agency"]["status"] == "pass", checks["agency"]


def test_a_misspelled_variable_is_named_with_the_closest_setting(env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_ALLOWED_REGION", "cn-east-3")
    monkeypatch.setenv("IMSYNC_SOMETHING_ELSE", "x")

    result = run("plan")

    assert result.exit_code == 0, result.output
    assert (
        "warning: IMSYNC_ALLOWED_REGION is not an imsync setting and is ignored; did you mean IMSYNC_ALLOWED_REGIONS?"
        in result.stderr
    )
    assert "IMSYNC_SOMETHING_ELSE is not an imsync setting and is ignored (no setting has a" in result.stderr


def test_the_switches_of_imsyncs_own_test_tiers_are_not_warned_about(env, run, monkeypatch):
    # .ci/run sets them: every command its tests ran printed a warning first, and 16 CLI tests failed there only.
    for name in ("IMSYNC_THOROUGH", "IMSYNC_NETWORK_TESTS", "IMSYNC_HYPOTHESIS_PROFILE"):
        monkeypatch.setenv(name, "1")

    result = run("plan")

    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
