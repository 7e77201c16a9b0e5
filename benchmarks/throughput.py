"""Emulator throughput: requests per second for a list page and for a copy, through the real SDK client.

The client runs in a child interpreter (``python -m benchmarks.throughput SPEC``), lists and copies in
separate children, so that the emulator's share can be read from this process's CPU time.
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

from benchmarks.apicalls import LIST_PAGE_MAX
from benchmarks.estate import DESTINATIONS, SOURCE, add_sources, emulated, settings_env
from benchmarks.machine import ROOT, load


def _client(spec: dict[str, Any]) -> dict[str, Any]:
    """The timed loop, in the child: list pages the way imsync does (raw JSON), or start copies."""
    from huaweicloudsdkims.v2 import ListImagesRequest

    from imsync.adapters import huawei_ims
    from imsync.adapters.credentials import resolve_credentials
    from imsync.adapters.huawei_ims_wire import list_images_raw
    from imsync.retry import Retrier

    clients = huawei_ims.ImsClients(resolve_credentials(None, None), 120.0)
    store = huawei_ims.HuaweiImageStore(SOURCE, clients, Retrier())
    client = clients.client(SOURCE)  # the IAM project look-up happens here, outside the timed loop
    request = ListImagesRequest(imagetype="private", limit=spec["limit"])
    started = time.perf_counter()
    for i in range(spec["count"]):
        if spec["what"] == "list":
            list_images_raw(client, request)
        else:
            dest = DESTINATIONS[i % len(DESTINATIONS)]
            store.start_copy(spec["image_id"], dest, f"c{i}", "throughput", "imsync-copy", None)
    return {"seconds": time.perf_counter() - started}


def _parent_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _api_time(cloud: Any, limit: int, repeats: int) -> float:
    """Seconds the emulator's list handler takes for one page, called directly (no HTTP, no signature)."""
    from imsync.emulator.api import Caller, images

    caller = Caller(cloud.owner, SOURCE)
    params = [("__imagetype", "private"), ("limit", str(limit))]
    started = time.perf_counter()
    for _ in range(repeats):
        images.list_images(cloud, caller, params, None)
    return (time.perf_counter() - started) / repeats


def _served(cloud: Any, spec: dict[str, Any]) -> tuple[float, float, int]:
    """(client seconds, emulator CPU seconds, requests served) for one child running `spec`."""
    with tempfile.TemporaryDirectory(prefix="imsync-bench-") as tmp:
        spec = {**spec, "out": f"{tmp}/o.json"}
        Path(tmp, "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        cloud.reset_counters()
        cpu = _parent_cpu()
        subprocess.run(
            [sys.executable, "-m", "benchmarks.throughput", f"{tmp}/spec.json"],
            cwd=ROOT,
            env=settings_env(cloud),
            check=True,
        )
        emulator_cpu = _parent_cpu() - cpu
        seconds = float(json.loads(Path(tmp, "o.json").read_text(encoding="utf-8"))["seconds"])
    return seconds, emulator_cpu, sum(cloud.counters.values())


def measure(quick: bool) -> dict[str, Any]:
    """List and copy rates against regions of growing size, and the emulator's CPU per request."""
    sizes = (100,) if quick else (100, 1000, 10000)
    lists, copies, limit = (10, 10, LIST_PAGE_MAX) if quick else (50, 200, LIST_PAGE_MAX)  # the page imsync asks for
    rows = []
    for n in sizes:
        with emulated(copies_in_flight=10**6) as cloud:
            (image, *_) = add_sources(cloud, n, DESTINATIONS)
            at = load()
            base = {"limit": limit, "image_id": image.id}
            list_s, list_cpu, list_served = _served(cloud, {**base, "what": "list", "count": lists})
            copy_s, copy_cpu, copy_served = _served(cloud, {**base, "what": "copy", "count": copies})
            rows.append(
                {
                    "images_in_region": n,
                    "page_size": min(n, limit),
                    "list_per_s": round(lists / list_s, 1),
                    "copy_per_s": round(copies / copy_s, 1),
                    # served includes each child's one IAM call, made outside its timed loop
                    "emulator_cpu_ms_per_list": round(list_cpu * 1000 / max(list_served, 1), 2),
                    "emulator_cpu_ms_per_copy": round(copy_cpu * 1000 / max(copy_served, 1), 2),
                    "emulator_list_handler_ms": round(_api_time(cloud, limit, 5) * 1000, 2),
                    "requests": list_served + copy_served,
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
