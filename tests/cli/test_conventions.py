"""What operators expect of a CLI: -h, suggestions, exit codes in --help, human defaults, counts that read right."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.conftest import HOME
from tests.cli.support import as_json


def test_dash_h_and_exit_codes_in_help(run):
    top = run("-h")
    sub = run("apply", "-h")

    assert top.exit_code == sub.exit_code == 0
    for text in (top.stdout, sub.stdout):
        assert "Exit codes: 0" in text and "130" in text and "2 a settings or usage error" in text
    assert "_IMSYNC_COMPLETE=bash_source imsync" in top.stdout  # shell completion, with docs/cli.md
    assert "[default: 6h]" in sub.stdout


def test_a_misspelled_command_gets_a_suggestion(run):
    result = run("plna")

    assert result.exit_code == 2
    assert "No such command 'plna'. Did you mean 'plan'?" in result.stderr


def test_timeout_takes_human_durations(fast_cloud, fast_env, run):
    bad = run("apply", "--wait", "--timeout", "soon")
    data = as_json(run("apply", "--wait", "--timeout", "30m", "--poll", "0.02", "--json"))

    assert bad.exit_code == 2 and "'soon' is not a duration like 90s, 30m or 6h" in bad.stderr
    assert data["timed_out"] is False


def test_counts_and_tenses_read_right_in_a_plan(cloud, env, run):
    cloud.region(HOME).add_image(name="web", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner"})

    plan = as_json(run("plan", "--json"))

    share = next(r for r in plan["results"] if r["section"] == "share")
    assert share["reason"] == "source image will be tagged (1 tag), will share with 1 project"


def test_plan_json_lists_every_error_in_errors(cloud, env, run):
    cloud.faults.add(status=500, region=HOME, method="GET", path="/cloudimages", count=None)

    plan = as_json(run("plan", "--json"))

    assert plan["ok"] is False and plan["errors"]
    assert plan["errors"] == [r["reason"] for r in plan["results"] if r["section"] == "error"]


def test_a_usage_error_with_json_is_still_one_document(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from imsync.cli import main; main()", "apply", "--json", "--timeout", "soon"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "version": 1,
        "command": "apply",
        "ok": False,
        "error": "Invalid value for '--timeout': 'soon' is not a duration like 90s, 30m or 6h",
        "exit_code": 2,
    }
