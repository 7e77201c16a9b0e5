"""The benchmarks keep working: `python -m benchmarks --quick` end to end, asserting structure and API-call counts.

Timings are printed and written, never asserted (the machine is shared); request counts are deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import apicalls, coldstart, latency, report, runner
from benchmarks.estate import DESTINATIONS, IAM_OPERATIONS

REGIONS = 1 + len(DESTINATIONS)
# The quick run takes minutes of CPU on a loaded machine: the thorough tier, on one xdist worker (one module
# fixture; tests/conftest.py, ONE_WORKER), with room beyond the suite's 120 s timeout.
pytestmark = [pytest.mark.thorough, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    assert runner.main(["--quick", "--output", str(out)]) == 0
    return json.loads(out.with_suffix(".json").read_text(encoding="utf-8")), out.read_text(encoding="utf-8")


def test_report_names_the_machine_the_command_and_every_section(quick: tuple[dict[str, Any], str]) -> None:
    results, text = quick
    assert set(results["sections"]) == {"coldstart", "apicalls", "scale", "throughput", "latency"}
    headings = ("## 1. Cold start", "## 2. API calls", "## 3. Scale", "## 4. Emulator throughput", "## 5. Latency")
    for heading in headings:
        assert heading in text
    assert "python -m benchmarks --quick --output" in text
    facts = results["facts"]
    assert facts["nproc"] >= 1 and facts["memory_mb"] > 0 and facts["python"] and len(facts["load"].split()) == 3
    for section in results["sections"].values():
        assert section["quick"] is True and section["facts"]["load"]


def test_cold_start_measures_the_first_invocation_against_the_sdks_first_call(
    quick: tuple[dict[str, Any], str],
) -> None:
    cold = quick[0]["sections"]["coldstart"]
    rows = {r["what"]: r for r in cold["rows"]}
    floor, first = rows[coldstart.CALL_FLOOR], rows[coldstart.FIRST_INVOCATION]
    assert floor["ratio_to_floor"] == 1 and first["floor"] == coldstart.CALL_FLOOR
    # Like for like: both made one IAM call and one listing, or the section refuses to report (coldstart.measure).
    assert first["requests"] == floor["requests"] == rows[coldstart.LOGGER_ON_FLOOR]["requests"] == 2
    assert rows[coldstart.IMPORT_FLOOR]["requests"] == 0
    for function in ("replicate_on_create", "scheduled_dr_copy", "share_on_complete"):
        assert rows[function]["runs"] == cold["runs"] >= 3 and rows[function]["floor"] == coldstart.IMPORT_FLOOR
        assert rows[function]["median_ms"] > 0 and rows[function]["in_process_build_ms"] >= 0
    assert {m["function"] for m in cold["memory"]} == {"replicate_on_create", "scheduled_dr_copy", "share_on_complete"}
    assert all(m["ok"] and m["maxrss_mb"] > 0 for m in cold["memory"])
    assert "Verdict: the cold first invocation takes" in quick[1]


def test_every_scenario_succeeds_within_a_tenth_of_the_minimum_ims_calls(quick: tuple[dict[str, Any], str]) -> None:
    rows = quick[0]["sections"]["apicalls"]["rows"]
    assert len(rows) == 3 + 2 + 4
    for row in rows:
        assert row["ok"], row
        assert row["min_ims"] == sum(row["minimum"].values())
        assert row["iam_calls"] == row["min_iam"] == 1  # one listing of every region's projects, however many
        if row["scenario"].startswith("completion"):
            continue  # one member listing per replica above the minimum: see the next test and RESULTS.md
        assert row["ims_calls"] <= 1.1 * row["min_ims"], row


def test_create_events_copy_once_per_destination(quick: tuple[dict[str, Any], str]) -> None:
    for row in quick[0]["sections"]["apicalls"]["rows"][:3]:
        d = row["params"]["destinations"]
        assert row["replicas_started"] == d == row["calls"]["copy_image_cross_region"]
        # one read of the source, each allowed region listed once (its replicas and the copies in flight), and
        # the source read again around each copy's ask tag and note
        assert row["calls"]["list_images"] == 1 + len(DESTINATIONS) + 3 * d


def test_completion_shares_in_batches_and_tags_each_replica_once(quick: tuple[dict[str, Any], str]) -> None:
    for row in quick[0]["sections"]["apicalls"]["rows"][3:5]:
        k = row["params"]["replicas"]
        assert row["replicas_shared"] == k
        assert row["calls"]["batch_add_or_delete_tags"] == k
        assert row["calls"]["batch_add_members"] == -(-k // apicalls.MEMBER_BATCH)
        # A replica imsync never shared is shared without reading its members first: the minimum.
        assert "list_image_members" not in row["calls"]
        assert row["ims_calls"] == row["min_ims"]


def test_a_dr_run_with_nothing_to_do_costs_pages_not_images(quick: tuple[dict[str, Any], str]) -> None:
    idle = [r for r in quick[0]["sections"]["apicalls"]["rows"] if r["params"].get("missing") == 0.0]
    assert len(idle) == 2
    for row in idle:
        assert set(row["calls"]) <= {"list_images"} | IAM_OPERATIONS
        assert row["calls"]["list_images"] == REGIONS * apicalls.pages(row["params"]["images"])
    busy = [r for r in quick[0]["sections"]["apicalls"]["rows"] if r["params"].get("missing")]
    assert all(r["calls"]["copy_image_cross_region"] == apicalls.COPY_LIMIT for r in busy)


def test_scale_reports_both_sizes_and_the_growth(quick: tuple[dict[str, Any], str]) -> None:
    scale = quick[0]["sections"]["scale"]
    small, large = scale["rows"]
    assert small["images"] < large["images"] and small["ok"] and large["ok"]
    for row in scale["rows"]:
        assert row["calls"]["list_images"] == REGIONS * apicalls.pages(row["images"])
        assert row["maxrss_mb"] > 0
    assert set(scale["growth"]) >= {"wall_s", "requests", "maxrss_mb", "imsync_cpu_s", "emulator_cpu_s"}


def test_throughput_reports_lists_and_copies(quick: tuple[dict[str, Any], str]) -> None:
    (row,) = quick[0]["sections"]["throughput"]["rows"]
    assert row["list_per_s"] > 0 and row["copy_per_s"] > 0
    assert row["requests"] == 10 + 10 + 2  # and each child's IAM call


def test_latency_each_step_is_a_minute_by_median_and_two_at_most(quick: tuple[dict[str, Any], str]) -> None:
    # Emulated seconds (the emulator's ManualClock), deterministic: no wall-clock figure is asserted here.
    lat = quick[0]["sections"]["latency"]
    assert latency.POLL_SECONDS == 60  # the 1-minute default of the completion poll and accept_shares
    bound = 2 * latency.POLL_SECONDS
    steps = {r["step"]: r for r in lat["steps"]}
    assert set(steps) == {"active_to_copying", "replica_to_shared", "shared_to_accepted", "active_to_accepted"}
    for key, _ in latency.STEPS:
        row = steps[key]
        assert row["samples"] == lat["runs"] * len(latency.DESTINATIONS)
        assert 0 < row["min_s"] <= row["median_s"] <= latency.POLL_SECONDS, row
        assert row["median_s"] <= row["max_s"] <= bound == row["bound_s"], row
        assert row["within"] is True
    assert steps["active_to_accepted"]["bound_s"] is None  # includes the copy itself: IMS's time, not a poll's


def test_latency_copies_are_started_by_the_poll_not_the_daily_run(quick: tuple[dict[str, Any], str]) -> None:
    lat = quick[0]["sections"]["latency"]
    for run in lat["rows"]:
        assert run["create_event"] == {"deferred": len(latency.DESTINATIONS)}  # the image was still saving
        assert run["dr_runs"] == 0
        polls = [a for a in run["answers"] if a["function"] == "share_on_complete"]
        assert polls[0]["counts"] == {"deferred": 2}  # before the image turned active
        assert {"started": 2} in [p["counts"] for p in polls]
        assert run["answers"][-1]["function"] == "accept_shares"
        assert run["answers"][-1]["counts"] == {"accepted": 2}
        for values in run["steps_s"].values():
            assert len(values) == len(latency.DESTINATIONS)


def test_latency_phases_cover_one_interval_once_each(quick: tuple[dict[str, Any], str]) -> None:
    lat = quick[0]["sections"]["latency"]
    offsets = sorted(round(o, 3) for o in latency.offsets(lat["runs"]))
    assert offsets[0] > 0 and offsets[-1] < latency.POLL_SECONDS
    for phase in ("activate_phase_s", "replica_phase_s", "accept_phase_s"):
        assert sorted(r[phase] for r in lat["rows"]) == offsets
    # (a) is the rest of the interval after the image turned active: the poll that follows starts the copies.
    for run in lat["rows"]:
        assert run["steps_s"]["active_to_copying"] == [latency.POLL_SECONDS - run["activate_phase_s"]] * 2


def test_minimum_pages_count_the_empty_page_that_ends_every_listing() -> None:
    # Without page_info only an empty page ends a listing (Terraform provider's images data source).
    assert [apicalls.pages(n) for n in (0, 1, 499, 500, 501, 10000)] == [1, 2, 2, 2, 3, 21]


def test_quick_mode_without_output_writes_no_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(runner, "SECTIONS", {"scale": lambda quick: {"rows": [], "growth": {}}})
    monkeypatch.setattr(report, "table", lambda name, figures: "")
    monkeypatch.setattr(runner, "DEFAULT_OUTPUT", tmp_path / "RESULTS.md")
    assert runner.main(["--quick"]) == 0
    assert not (tmp_path / "RESULTS.md").exists()
