"""Emulator throughput: requests per second for a list page and for a copy, through the real SDK client.

The client runs in a child interpreter (``python -m benchmarks.throughput SPEC``) so that the emulator's
share can be read from this process's CPU time.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.estate import DESTINATIONS, SOURCE, add_sources, emulated, settings_env
from benchmarks.machine import ROOT, load


def _client(spec: dict[str, Any]) -> dict[str, Any]:
    from huaweicloudsdkims.v2 import ListImagesRequest

    from imsync.adapters.credentials import resolve_credentials
    from imsync.adapters.huawei_ims import HuaweiImageStore, ImsClients
    from imsync.retry import Retrier

    clients = ImsClients(resolve_credentials(None, None), 120.0)
    store = HuaweiImageStore(SOURCE, clients, Retrier())
    client = clients.client(SOURCE)  # the IAM project look-up happens here, outside the timed loops
    figures: dict[str, Any] = {}
    request = ListImagesRequest(imagetype="private", limit=spec["limit"])
    started = time.perf_counter()
    for _ in range(spec["lists"]):
        client.list_images(request)
    figures["list_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(spec["copies"]):
        store.start_copy(
            spec["image_id"], DESTINATIONS[i % len(DESTINATIONS)], f"c{i}", "throughput", "imsync-copy", None
        )
    figures["copy_s"] = time.perf_counter() - started
    return figures


def _parent_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _api_time(cloud: Any, limit: int, repeats: int) -> float:
    """Seconds the emulator's list handler takes for one page, called directly (no HTTP, no signature)."""
    from imsync.emulator import api

    caller = api.Caller(cloud.owner, SOURCE)
    params = [("__imagetype", "private"), ("limit", str(limit))]
    started = time.perf_counter()
    for _ in range(repeats):
        api.list_images(cloud, caller, params, None)
    return (time.perf_counter() - started) / repeats


def measure(quick: bool) -> dict[str, Any]:
    sizes = (100,) if quick else (100, 1000, 10000)
    lists, copies, limit = (10, 10, 1000) if quick else (50, 200, 1000)
    rows = []
    for n in sizes:
        with emulated(copies_in_flight=10**6) as cloud:
            (image, *_) = add_sources(cloud, n, DESTINATIONS)
            with tempfile.TemporaryDirectory(prefix="imsync-bench-") as tmp:
                spec = {"lists": lists, "copies": copies, "limit": limit, "image_id": image.id, "out": f"{tmp}/o.json"}
                Path(tmp, "spec.json").write_text(json.dumps(spec), encoding="utf-8")
                at = load()
                cloud.reset_counters()
                cpu = _parent_cpu()
                subprocess.run(
                    [sys.executable, "-m", "benchmarks.throughput", f"{tmp}/spec.json"],
                    cwd=ROOT,
                    env=settings_env(cloud),
                    check=True,
                )
                emulator_cpu = _parent_cpu() - cpu
                figures = json.loads(Path(tmp, "o.json").read_text(encoding="utf-8"))
            served = sum(cloud.counters.values())
            page = min(n, limit)
            rows.append(
                {
                    "images_in_region": n,
                    "page_size": page,
                    "list_per_s": round(lists / figures["list_s"], 1),
                    "copy_per_s": round(copies / figures["copy_s"], 1),
                    "emulator_cpu_ms_per_request": round(emulator_cpu * 1000 / max(served, 1), 2),
                    "emulator_list_handler_ms": round(_api_time(cloud, limit, 5) * 1000, 2),
                    "requests": served,
                    "load": at,
                }
            )
    return {"rows": rows, "lists": lists, "copies": copies}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    Path(spec["out"]).write_text(json.dumps(_client(spec)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
