"""Scale: a DR run over N opted-in images x 5 destination regions, all in sync, against the emulator."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.apicalls import seed_sweep
from benchmarks.estate import emulated, event, invoke, settings_env


def exponent(small: float, large: float, n_small: int, n_large: int) -> float:
    """k in value ~ n^k between two sizes."""
    if small <= 0 or large <= 0:
        return float("nan")
    return math.log(large / small) / math.log(n_large / n_small)


def measure(quick: bool, sizes: Sequence[int] | None = None, repeats: int | None = None) -> dict[str, Any]:
    sizes = tuple(sizes or ((50, 200) if quick else (1000, 10000)))
    repeats = repeats or (1 if quick else 3)
    rows = []
    for n in sizes:
        with emulated() as cloud:
            started = time.perf_counter()
            seed_sweep(cloud, n, 0.0)
            seeded = time.perf_counter() - started
            env = settings_env(cloud)
            runs = [invoke(cloud, "scheduled_dr_copy", env, payload=event("timer.json")) for _ in range(repeats)]
        rows.append(
            {
                "images": n,
                "images_in_emulator": n * 6,
                "seed_s": round(seeded, 2),
                "runs": repeats,
                "wall_s": round(statistics.median(r.wall_s for r in runs), 3),
                "handler_s": round(statistics.median(r.figures["call_s"] for r in runs), 3),
                "imsync_cpu_s": round(statistics.median(r.figures["cpu_s"] for r in runs), 3),
                "emulator_cpu_s": round(statistics.median(r.emulator_cpu_s for r in runs), 3),
                "requests": runs[0].ims_calls + runs[0].iam_calls,
                "calls": dict(sorted(runs[0].calls.items())),
                "maxrss_mb": round(max(r.figures["maxrss_kb"] for r in runs) / 1024, 1),
                "ok": all(r.figures.get("ok") for r in runs),
                "counts": runs[0].figures.get("counts"),
                "samples_wall_s": [round(r.wall_s, 3) for r in runs],
                "loads": [r.load for r in runs],
            }
        )
    small, large = rows[0], rows[-1]
    growth = {
        key: round(exponent(small[key], large[key], small["images"], large["images"]), 3)
        for key in ("wall_s", "handler_s", "imsync_cpu_s", "emulator_cpu_s", "requests", "maxrss_mb")
    }
    return {"rows": rows, "growth": growth}
