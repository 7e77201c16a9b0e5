"""Cold start: a fresh interpreter's first invocation, against the SDK's own first call doing the same requests.

Two comparisons, each timed the same way: wall clock from starting a child interpreter to its exit, every
module imported from .pyc (as the zips ship them; benchmarks.machine.child_env), one unmeasured run of each
child first, then the runs interleaved so that a load spike hits every series alike.

- First invocation (the target): ``replicate_on_create`` handling the CTS record of an image that asks for
  nothing, imported from functions/ as the platform imports it. Its requests: one IAM call (every region's
  project, GET /v3/auth/projects) and one listing (the image, by ID). The floor is the SDK alone doing the
  same: import huaweicloudsdkims.v2, build an ImsClient by region (its credentials look the region's project
  up in IAM, GET /v3/projects?name=), list the image by ID. The benchmark checks that both made exactly
  those requests, so the difference is imsync's own work: its imports (aws-lambda-powertools' Logger among
  them), settings, the event's parsing, the decision and its log lines. One more row runs the floor with
  the stack's Logger doing what the invocation's Logger does (import, build, the same two JSON lines), which
  shows how much of the difference the named stack takes before any of imsync's code runs.
- Import and build, per handler: ``import handler`` and ``imsync.bootstrap.replicator(None)`` (settings,
  credentials, the IMS adapter, the client cache, the notifier; no request), against
  ``import huaweicloudsdkims.v2``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.estate import (
    DESTINATIONS,
    IAM_OPERATIONS,
    SOURCE,
    add_replica,
    add_sources,
    emulated,
    event,
    invoke,
    settings_env,
)
from benchmarks.machine import ROOT, child_env, load
from imsync.emulator import Emulator

FUNCTIONS = ("replicate_on_create", "scheduled_dr_copy", "share_on_complete")
EMPTY = "python (empty)"
IMPORT_FLOOR = "floor: import huaweicloudsdkims.v2"
CALL_FLOOR = "floor: the SDK's first call (import, client, IAM look-up, one listing)"
LOGGER_ON_FLOOR = "the same, with aws-lambda-powertools' Logger writing the invocation's two lines"
FIRST_INVOCATION = "replicate_on_create, first invocation (same requests)"
# What both sides of the first-invocation comparison must have asked, in order.
FIRST_CALL_REQUESTS = (("iam", 1), (SOURCE, 1))


def handler_code(function: str) -> str:
    return (
        f"import sys; sys.path.insert(0, {str(ROOT / 'functions' / function)!r}); import handler; "
        "from imsync import bootstrap; bootstrap.replicator(None)"
    )


def first_invocation_code(payload: dict[str, Any]) -> str:
    return (
        f"import sys, json; sys.path.insert(0, {str(ROOT / 'functions' / 'replicate_on_create')!r}); "
        f"import handler; answer = handler.handler(json.loads({json.dumps(payload)!r}), None); "
        "sys.exit(0 if answer.get('ok') else 3)"
    )


def sdk_first_call_code(image_id: str) -> str:
    return "; ".join(
        [
            "import os",
            "from huaweicloudsdkcore.auth.credentials import BasicCredentials",
            "from huaweicloudsdkims.v2 import ImsClient, ListImagesRequest",
            "from huaweicloudsdkims.v2.region.ims_region import ImsRegion",
            "credentials = BasicCredentials(os.environ['HUAWEICLOUD_SDK_AK'], os.environ['HUAWEICLOUD_SDK_SK'])",
            "builder = ImsClient.new_builder().with_credentials(credentials)",
            f"client = builder.with_region(ImsRegion.value_of({SOURCE!r})).build()",
            f"assert len(client.list_images(ListImagesRequest(id={image_id!r})).images) == 1",
        ]
    )


def logger_on_floor_code(image_id: str) -> str:
    """The floor, with the powertools Logger built and writing the two lines the target invocation writes."""
    fields = {"function": "replicate_on_create", "image_id": image_id, "region": SOURCE}
    decision = {"action": "ignore", "outcome": "ignored", "reason": "no imsync-regions tag: the image is not opted in"}
    return "; ".join(
        [
            "from aws_lambda_powertools import Logger",
            "logger = Logger(service='imsync')",
            sdk_first_call_code(image_id),
            f"logger.info('decision', **{ {**fields, **decision}!r})",
            f"logger.info('done', function='replicate_on_create', ok=True, counts={ {'ignored': 1}!r})",
        ]
    )


def _time(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"{code!r} failed: {proc.stderr.decode()[-2000:]}")
    return elapsed


def _requests(cloud: Emulator, code: str, env: dict[str, str]) -> list[tuple[str, int]]:
    """Run `code` once (this also writes its .pyc) and return the requests it made, as (region, count) runs."""
    seen = len(cloud.requests)
    _time(code, env)
    runs: list[tuple[str, int]] = []
    for record in cloud.requests[seen:]:
        if runs and runs[-1][0] == record.region:
            runs[-1] = (record.region, runs[-1][1] + 1)
        else:
            runs.append((record.region, 1))
    return runs


def measure(quick: bool) -> dict[str, Any]:
    """Median wall time of each child, its ratio to its floor, and peak RSS per handler."""
    runs = 3 if quick else 15
    with emulated() as cloud:
        env = child_env(settings_env(cloud))
        plain = cloud.region(SOURCE).add_image(name="asks-for-nothing", tags={}, size_gb=10)
        codes = {
            EMPTY: "pass",
            IMPORT_FLOOR: "import huaweicloudsdkims.v2",
            **{f: handler_code(f) for f in FUNCTIONS},
            CALL_FLOOR: sdk_first_call_code(plain.id),
            LOGGER_ON_FLOOR: logger_on_floor_code(plain.id),
            FIRST_INVOCATION: first_invocation_code(event("cts_create_image.json", plain.id)),
        }
        asked = {name: _requests(cloud, code, env) for name, code in codes.items()}  # also the warm-up run
        for name in (CALL_FLOOR, LOGGER_ON_FLOOR, FIRST_INVOCATION):
            if tuple(asked[name]) != FIRST_CALL_REQUESTS:
                raise RuntimeError(f"{name} made {asked[name]}, not {FIRST_CALL_REQUESTS}: the comparison is unfair")
        operations = {r.operation for r in cloud.requests if r.region == "iam"}
        assert operations <= IAM_OPERATIONS, operations
        samples: dict[str, list[float]] = {name: [] for name in codes}
        loads = [load()]
        for _ in range(runs):
            for name, code in codes.items():  # interleaved, so that a load spike hits every series alike
                samples[name].append(_time(code, env))
        loads.append(load())
        split = {f: invoke(cloud, f, env, mode="build").figures for f in FUNCTIONS}
    floors = {CALL_FLOOR: CALL_FLOOR, LOGGER_ON_FLOOR: CALL_FLOOR, FIRST_INVOCATION: CALL_FLOOR}
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        floor = floors.get(name, IMPORT_FLOOR)
        row: dict[str, Any] = {
            "what": name,
            "floor": floor,
            "median_ms": round(median * 1000, 1),
            "min_ms": round(min(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
            "runs": len(values),
            "ratio_to_floor": round(median / statistics.median(samples[floor]), 3),
            "requests": sum(n for _, n in asked[name]),
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
