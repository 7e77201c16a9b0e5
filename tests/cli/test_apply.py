"""imsync apply: the sweep for real; --wait follows the copy jobs to the end and finalizes them."""

from __future__ import annotations

from imsync.demo.estate import DESTINATIONS, seed_demo_estate
from imsync.domain.model import TAG_SOURCE
from imsync.ops import apply as apply_module
from tests.cli.support import as_json


def finished_replicas(cloud, image_id):
    return {
        region: [r for r in cloud.region(region).replicas_of(image_id) if r.status == "active" and TAG_SOURCE in r.tags]
        for region in DESTINATIONS
    }


def test_apply_wait_brings_the_estate_to_its_end_state(fast_cloud, fast_env, run):
    estate = seed_demo_estate(fast_cloud)

    data = as_json(run("apply", "--wait", "--poll", "0.02", "--json"))

    assert data["ok"] is True and data["waited"] is True and data["interrupted"] is False
    assert data["rounds"] >= 3  # 13 copies, at most 5 in flight: the deferred ones start in later rounds
    jobs = data["jobs"]
    assert len(jobs) == 13 and {j["status"] for j in jobs} == {"SUCCESS"}
    assert all(j["progress"] == 100 and j["replica_id"] and j["source_region"] == "cn-north-4" for j in jobs)
    assert fast_cloud.max_in_flight <= 5
    partner = fast_cloud.recipient.projects
    for image_id, regions in estate.expected.items():
        if image_id == estate.baking:
            continue  # still being created: deferred, never copied
        done = finished_replicas(fast_cloud, image_id)
        for region in regions:
            assert len(done[region]) == 1, (estate.names[image_id], region)
            if image_id in estate.shared:
                assert partner[region] in done[region][0].members
    assert not fast_cloud.region("cn-east-3").replicas_of(estate.baking)
    assert any(r["section"] == "deferred" and r["image_id"] == estate.baking for r in data["results"])


def test_apply_without_wait_starts_copies_and_a_later_run_finalizes_them(cloud, env, run):
    estate = seed_demo_estate(cloud)
    web = next(i for i, n in estate.names.items() if n == "web-base")

    first = as_json(run("apply", "--image", web, "--json"))
    started = [r for r in first["results"] if r["section"] == "copy"]
    assert {r["outcome"] for r in started} == {"started"} and all(r["job_id"] for r in started)
    assert first["jobs"] == [] and first["rounds"] == 1

    cloud.run_until_idle()
    second = as_json(run("apply", "--image", web, "--json"))

    assert {r["region"] for r in second["results"] if r["section"] == "finalize"} == {"cn-east-3", "ap-southeast-1"}
    assert all(finished_replicas(cloud, web)[r] for r in ("cn-east-3", "ap-southeast-1"))


def test_apply_table_and_progress(fast_cloud, fast_env, run):
    seed_demo_estate(fast_cloud)

    result = run("apply", "--wait", "--poll", "0.02")

    assert result.exit_code == 0, result.output
    for words in ("imsync apply", "copy started", "finalize done", "copies followed", "SUCCESS", " rounds: "):
        assert words in result.stdout


def test_ctrl_c_while_waiting_leaves_nothing_half_done(cloud, env, run, monkeypatch):
    estate = seed_demo_estate(cloud)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(apply_module, "follow_jobs", interrupted)
        result = run("apply", "--wait")

    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.output
    # the next runs (as if in another process) pick up from what IMS shows

    for _ in range(4):
        cloud.run_until_idle()
        assert run("apply").exit_code == 0
    for image_id, regions in estate.expected.items():
        if image_id != estate.baking:
            done = finished_replicas(cloud, image_id)
            assert all(len(done[region]) == 1 for region in regions), estate.names[image_id]


def test_wait_gives_up_after_its_timeout(cloud, env, run):
    seed_demo_estate(cloud)  # a manual clock never moves: the jobs never finish

    result = run("apply", "--wait", "--poll", "0.01", "--timeout", "0.2", "--json")

    assert result.exit_code == 1
    assert as_json(result)["timed_out"] is True
    assert "keep running in IMS" in result.stderr
