"""apply's last line counts the copies IMS still shows in flight, whoever started them (issue 23, point 1)."""

from __future__ import annotations

from imsync.demo.estate import seed_demo_estate
from tests.cli.conftest import HOME
from tests.cli.support import as_json


def test_copies_this_run_started_count_when_following_stops_early(cloud, env, run):
    seed_demo_estate(cloud)  # the clock stands still: the copies apply starts never finish

    data = as_json(run("apply", "--wait", "--poll", "0.01", "--timeout", "0.001", "--json"))
    text = run("status", "--json")

    started = [r for r in data["results"] if r["outcome"] == "started"]
    assert data["timed_out"] is True and len(started) == 5
    assert data["in_flight"] == 5 == as_json(text)["in_flight"]


def test_the_last_line_counts_them_too(cloud, env, run):
    seed_demo_estate(cloud)

    result = run("apply", "--wait", "--poll", "0.01", "--timeout", "0.001")

    last = [line for line in result.stdout.splitlines() if line.strip()][-1]
    assert last.endswith("copies in flight: 5/5"), result.stdout


def test_apply_without_wait_counts_the_copies_it_started(cloud, env, run):
    seed_demo_estate(cloud)

    assert as_json(run("apply", "--json"))["in_flight"] == 5


def test_the_count_is_unknown_when_ims_stops_answering(cloud, env, run):
    cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": "cn-east-3"}, size_gb=1)
    # The copy's job can no longer be read: IMS stops answering while apply follows it.
    cloud.faults.add(status=503, method="GET", path=r"/cloudimages/job/", count=None)

    result = run("apply", "--wait", "--poll", "0.01", "--timeout", "60")

    assert result.exit_code == 1
    assert "copies in flight: unknown/5 (IMS could not be read)" in result.stdout


def test_ctrl_c_while_following_still_counts_the_copies(cloud, env):
    from imsync.ops.apply import run_apply
    from imsync.ops.runtime import open_runtime

    seed_demo_estate(cloud)

    def interrupt(job):
        raise KeyboardInterrupt  # Ctrl-C at the first progress report

    def ignore(*_):
        return None

    with open_runtime(None, False) as rt:
        report = run_apply(rt, (), (), True, ignore, ignore, interrupt, poll_seconds=0.01)
        flying = report.copies_in_flight(rt.seen)

    assert report.interrupted is True
    assert flying == 5 == len(cloud.in_flight())
