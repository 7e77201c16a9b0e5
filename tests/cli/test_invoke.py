"""imsync invoke: a function's handler run locally on a sample event, its summary printed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from imsync.demo.estate import seed_demo_estate
from tests.cli.support import as_json

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_invoke_runs_the_handler_on_a_sample_event(run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EVENTS, tmp_path / "events")

    result = run("invoke", "scheduled_dr_copy", "events/timer.json", "--emulator")
    by_name = as_json(run("invoke", "scheduled-dr-copy", "timer", "--emulator", "--json"))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].strip() == "scheduled_dr_copy"
    assert "ok: true; " in result.stdout and "5 started" in result.stdout
    assert by_name["function"] == "scheduled_dr_copy" and by_name["ok"] is True
    assert by_name["counts"]["started"] == 5


def test_unknown_function_or_event_is_named(run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text("{nope")

    function = run("invoke", "share_on_complet", "x.json")
    missing = run("invoke", "share_on_complete", "x.json")
    broken = run("invoke", "share_on_complete", "bad.json")

    assert function.exit_code == 2 and "no function named share_on_complet" in function.stderr
    assert "did you mean share_on_complete?" in function.stderr
    assert missing.exit_code == 2 and "x.json: no such event file" in missing.stderr
    assert broken.exit_code == 2 and "bad.json: not valid JSON" in broken.stderr


def test_a_dry_run_announces_no_refusal(cloud, env, run, monkeypatch, tmp_path):
    seed_demo_estate(cloud)  # has images IMS cannot copy: refusals
    (tmp_path / "sweep.json").write_text(json.dumps({"dry_run": True}))
    (tmp_path / "real.json").write_text(json.dumps({}))

    dry = run("invoke", "scheduled_dr_copy", "sweep.json", "--logs")
    real = run("invoke", "scheduled_dr_copy", "real.json", "--logs")

    assert dry.exit_code == 0 and "refused" in dry.stdout
    assert "imsync.copy.refused" not in dry.stderr
    assert "imsync.copy.refused" in real.stderr  # the same refusals, for real, are announced


def test_a_failed_run_is_shown_with_its_summary_and_exit_code_1(run, monkeypatch, tmp_path):
    # The handler raises RunFailed (the platform's failed invocation); invoke shows the summary it carries.
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EVENTS, tmp_path / "events")

    shown = run("invoke", "replicate_on_create", "cts_create_image", "--emulator")
    answer = as_json(run("invoke", "replicate_on_create", "cts_create_image", "--emulator", "--json"))

    assert shown.exit_code == 1 and "ok: false; 1 error" in shown.stdout and "Traceback" not in shown.output
    assert answer["ok"] is False and answer["counts"] == {"error": 1} and "does not exist" in json.dumps(answer)


def test_the_event_can_come_from_standard_input(run, monkeypatch, tmp_path):
    """`imsync invoke FUNCTION -` reads the event from stdin (issue 23, point 13)."""
    from click.testing import CliRunner

    from imsync.cli import cli

    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(
        cli, ["invoke", "scheduled_dr_copy", "-", "--emulator", "--json"], input='{"dry_run": true}'
    )
    broken = CliRunner().invoke(cli, ["invoke", "scheduled_dr_copy", "-"], input="{nope")

    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["dry_run"] is True and data["counts"]["planned"] > 0 and "started" not in data["counts"]
    assert broken.exit_code == 2 and "standard input: not valid JSON" in broken.stderr
