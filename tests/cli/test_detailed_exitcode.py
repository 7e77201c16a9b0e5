"""`imsync plan --detailed-exitcode`: 0 nothing to do, 2 changes pending, 1 any error (issue 23, point 10)."""

from __future__ import annotations

import json
import subprocess
import sys

from imsync.demo.estate import seed_demo_estate
from tests.cli.conftest import HOME


def test_changes_pending_exit_2(cloud, env, run):
    seed_demo_estate(cloud)

    detailed = run("plan", "--detailed-exitcode")

    assert detailed.exit_code == 2 and "copy planned" in detailed.stdout, detailed.output
    assert run("plan").exit_code == 0


def test_nothing_to_do_exits_0(cloud, env, run):
    cloud.region(HOME).add_image(name="untagged")

    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_only_waiting_copies_is_nothing_to_do(cloud, env, run):
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"}, size_gb=1)
    assert run("apply").exit_code == 0  # the copy starts; the clock stands still

    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_every_error_exits_1(cloud, env, run, monkeypatch):
    seed_demo_estate(cloud)
    usage = run("plan", "--detailed-exitcode", "--region", "cn-nowhere-9")
    cloud.faults.add(status=500, region=HOME, method="GET", path="/cloudimages", count=None)
    failed = run("plan", "--detailed-exitcode")
    monkeypatch.delenv("IMSYNC_HOME_REGION")
    monkeypatch.delenv("IMSYNC_SOURCE_REGIONS")
    settings = run("plan", "--detailed-exitcode")

    assert (usage.exit_code, failed.exit_code, settings.exit_code) == (1, 1, 1)
    assert "error: --region cn-nowhere-9 is not a source region" in usage.stderr
    assert "error: no source region" in settings.stderr


def test_an_option_the_parser_refuses_exits_1_too(tmp_path):
    code = "from imsync.cli import main; main()"
    args = [sys.executable, "-c", code, "plan", "--detailed-exitcode", "--json", "--no-such-option"]

    done = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=60)

    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["exit_code"] == 1
