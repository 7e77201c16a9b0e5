"""apply --wait follows every imsync copy in flight in scope, starts what the limit deferred, counts failures."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from contextlib import contextmanager

from imsync.demo.estate import seed_demo_estate
from tests.cli.conftest import HOME
from tests.cli.support import as_json

BAR = r"━ +\d{1,3}%"  # a progress bar and its percentage
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@contextmanager
def clock_running(cloud, step: float = 5.0):
    """Time passes as the command looks: each reading of the emulator's clock moves it on by `step`.

    Not a background ticker: how far a copy got depends on how often IMS was asked, never on how busy
    the machine is, so each test sees the same sequence every time.
    """
    clock = cloud.clock
    manual_now = clock.now

    def now() -> float:
        clock.advance(step)
        return manual_now()

    clock.now = now
    try:
        yield
    finally:
        del clock.now


def test_wait_follows_copies_started_before_and_the_deferred_ones(cloud, env, run):
    estate = seed_demo_estate(cloud)
    first = as_json(run("apply", "--json"))  # starts 5 copies (the limit) and returns: the clock stands still
    assert sum(1 for r in first["results"] if r["outcome"] == "started") == 5

    with clock_running(cloud):
        data = as_json(run("apply", "--wait", "--poll", "0.01", "--json"))

    assert data["ok"] is True, data["errors"]
    followed_before = [j for j in data["jobs"] if not j["started_here"]]
    assert len(followed_before) == 5 and all(j["status"] == "SUCCESS" for j in followed_before)
    assert data["in_flight"] == 0
    partner = cloud.recipient.projects
    for image_id, regions in estate.expected.items():
        if image_id == estate.baking:
            continue
        for region in regions:
            done = [r for r in cloud.region(region).replicas_of(image_id) if r.status == "active"]
            assert len(done) == 1, (estate.names[image_id], region)
            if image_id in estate.shared:
                assert partner[region] in done[0].members, (estate.names[image_id], region)


def test_the_summary_counts_failed_copies(fast_cloud, fast_env, run):
    fast_cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"}, size_gb=1)
    fast_cloud.fail_next_copy()

    result = run("apply", "--wait", "--poll", "0.02")

    assert result.exit_code == 1
    last = [line for line in result.stdout.splitlines() if line.strip()][-1]  # rich 13.0 may end with a blank line
    assert last.startswith("1 round: 1 failed, 1 copy; "), result.stdout


def test_off_a_terminal_wait_prints_one_timestamped_line_per_state_change(fast_cloud, fast_env, run):
    image = fast_cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"}, size_gb=1)

    result = run("apply", "--wait", "--poll", "0.02")

    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if re.match(STAMP, line)]
    assert re.fullmatch(rf"{STAMP} golden -> cn-east-3: copy job \w+ started", lines[0])
    assert re.fullmatch(rf"{STAMP} golden -> cn-east-3: SUCCESS 100% replica [\w-]+", lines[-1])
    assert len(lines) == len(set(line[21:] for line in lines))  # a line per change, never the same twice
    assert not re.search(BAR, result.stdout)
    assert image.id in result.stdout or "golden" in result.stdout


def test_on_a_terminal_wait_draws_bars(tmp_path):
    parent, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from imsync.cli import main; main()", "apply", "--emulator", "--wait", "--poll", "1s"],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=tmp_path,
        env=env,
    )
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=120)
    os.close(parent)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace"))  # colours and cursor moves

    assert proc.returncode == 0, text[-2000:]
    assert re.search(BAR, text)
    assert not re.search(rf"^{STAMP} ", text, re.MULTILINE)


def test_wait_follows_copies_outside_its_scope_that_hold_the_limit(cloud, env, run, monkeypatch):
    monkeypatch.setenv("IMSYNC_MAX_CONCURRENT_COPIES", "1")
    first = cloud.region(HOME).add_image(name="first", tags={"imsync-regions": "cn-east-3"}, size_gb=1)
    second = cloud.region(HOME).add_image(name="second", tags={"imsync-regions": "cn-east-3"}, size_gb=1)
    assert run("apply", "--image", first.id).exit_code == 0  # holds the only slot; the clock stands still

    with clock_running(cloud):
        data = as_json(run("apply", "--wait", "--poll", "0.01", "--image", second.id, "--json"))

    assert data["ok"] is True and data["rounds"] == 2
    assert [j["image_id"] for j in data["jobs"]] == [first.id, second.id]
    assert [r.status for r in cloud.region("cn-east-3").replicas_of(second.id)] == ["active"]
