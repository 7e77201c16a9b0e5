"""Cold start: a fresh interpreter importing a handler and building what its first call needs, against the floor.

What counts (the same for each handler): ``import handler`` from functions/<name>/ (as the platform imports
it), then ``imsync.bootstrap.replicator(None)``: Settings.from_env, credentials from the environment, the
IMS adapter (which imports huaweicloudsdkims.v2), the per-process client cache and the notifier. Not
counted: building a region's ImsClient, which asks IAM for the project (network). The floor is
``python -c "import huaweicloudsdkims.v2"``, the import no IMS client can skip. Both are timed the same
way: wall clock from starting the interpreter to its exit, .pyc precompiled, runs interleaved.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.estate import DESTINATIONS, add_replica, add_sources, emulated, event, invoke, settings_env
from benchmarks.machine import ROOT, load

FUNCTIONS = ("replicate_on_create", "scheduled_dr_copy", "share_on_complete")
FLOOR = "import huaweicloudsdkims.v2"
EMPTY = "pass"


def handler_code(function: str) -> str:
    return (
        f"import sys; sys.path.insert(0, {str(ROOT / 'functions' / function)!r}); import handler; "
        "from imsync import bootstrap; bootstrap.replicator(None)"
    )


def _time(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"{code!r} failed: {proc.stderr.decode()[-2000:]}")
    return elapsed


def precompile() -> None:
    """Write the .pyc of imsync and the handlers (site-packages were compiled when installed)."""
    for path in (ROOT / "shared" / "imsync", ROOT / "functions"):
        compileall.compile_dir(str(path), quiet=1)


def measure(quick: bool) -> dict[str, Any]:
    """Median process wall time of each handler's cold build and of the floor, and peak RSS per handler."""
    runs = 3 if quick else 15
    precompile()
    codes = {"python (empty)": EMPTY, "floor: import huaweicloudsdkims.v2": FLOOR}
    codes.update({f: handler_code(f) for f in FUNCTIONS})
    with emulated() as cloud:
        env = settings_env(cloud)
        for code in codes.values():  # warm the page cache; writes any missing .pyc
            _time(code, env)
        samples: dict[str, list[float]] = {name: [] for name in codes}
        loads = [load()]
        for _ in range(runs):
            for name, code in codes.items():  # interleaved, so that a load spike hits every series alike
                samples[name].append(_time(code, env))
        loads.append(load())
        split = {f: invoke(cloud, f, env, mode="build").figures for f in FUNCTIONS}
    floor = statistics.median(samples["floor: import huaweicloudsdkims.v2"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        row: dict[str, Any] = {
            "what": name,
            "median_ms": round(median * 1000, 1),
            "min_ms": round(min(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
            "runs": len(values),
            "ratio_to_floor": round(median / floor, 3),
            "samples_ms": [round(v * 1000, 1) for v in values],
        }
        if name in split:
            row["in_process_import_ms"] = round(split[name]["import_s"] * 1000, 1)
            row["in_process_build_ms"] = round(split[name]["build_s"] * 1000, 1)
            row["build_maxrss_mb"] = round(split[name]["maxrss_kb"] / 1024, 1)
        rows.append(row)
    return {"rows": rows, "runs": runs, "load_before": loads[0], "load_after": loads[1], "memory": memory()}


def memory() -> list[dict[str, Any]]:
    """Peak RSS of one cold invocation of each handler (the emulator runs in this process, not the child's)."""
    rows = []
    with emulated() as cloud:
        (image,) = add_sources(cloud, 1, DESTINATIONS[:3])
        inv = invoke(
            cloud, "replicate_on_create", settings_env(cloud), payload=event("cts_create_image.json", image.id)
        )
        rows.append(("replicate_on_create", "create event, 3 destinations", inv))
    with emulated() as cloud:
        sources = add_sources(cloud, 10, DESTINATIONS[:1], share=True)
        for s in sources:
            add_replica(cloud, s, DESTINATIONS[0], finished=False)
        inv = invoke(cloud, "share_on_complete", settings_env(cloud), payload={})
        rows.append(("share_on_complete", "poll, 10 finished replicas, 2 aliases", inv))
    with emulated() as cloud:
        for s in add_sources(cloud, 100, DESTINATIONS):
            for r in DESTINATIONS:
                add_replica(cloud, s, r)
        inv = invoke(cloud, "scheduled_dr_copy", settings_env(cloud), payload=event("timer.json"))
        rows.append(("scheduled_dr_copy", "timer, 100 images x 5 regions in sync", inv))
    return [
        {
            "function": f,
            "invocation": what,
            "maxrss_mb": round(inv.figures["maxrss_kb"] / 1024, 1),
            "wall_ms": round(inv.wall_s * 1000, 1),
            "ok": inv.figures.get("ok"),
            "requests": inv.ims_calls + inv.iam_calls,
            "load": inv.load,
        }
        for f, what, inv in rows
    ]
