"""Emulated estates for the benchmarks, and running a handler cold against them in a child interpreter."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.machine import ROOT
from imsync.bootstrap import emulated_time
from imsync.emulator import Emulator, Readings
from imsync.emulator.model import ImageRecord

SOURCE = "cn-north-4"
# IMS tag values hold at most 43 characters: five real region IDs (9-10 characters each, plus separators)
# do not fit in one imsync-regions tag, so the five destinations get short IDs of the right shape.
DESTINATIONS = ("bm-a-1", "bm-b-1", "bm-c-1", "bm-d-1", "bm-e-1")
REGIONS = (SOURCE, *DESTINATIONS)
AGENCY = "imsync-copy"
ALIASES = ("p1", "p2")
PLACEHOLDER_ID = "00000000-0000-0000-0000-0000000000aa"
IAM_OPERATIONS = frozenset({"keystone_list_projects", "keystone_list_auth_projects", "keystone_list_auth_domains"})


def event(name: str, image_id: str | None = None) -> dict[str, Any]:
    """A sample event from events/, with `image_id` in place of the placeholder."""
    text = (ROOT / "events" / name).read_text(encoding="utf-8")
    if image_id is not None:
        text = text.replace(PLACEHOLDER_ID, image_id)
    result: dict[str, Any] = json.loads(text)
    return result


@contextmanager
def emulated(quota: int = 10**9, copies_in_flight: int = 5) -> Iterator[Emulator]:
    """The six-region emulator (one source, five destinations), two partner accounts, a quota that never binds."""
    # Member jobs end before imsync's first look (the child waits in real time, the emulator's clock is manual).
    readings = Readings(member_job_seconds=0.0)
    with Emulator(
        regions=REGIONS, agency=AGENCY, image_quota=quota, max_copies_in_flight=copies_in_flight, readings=readings
    ) as cloud:
        cloud.add_account("partner2")
        with emulated_time(cloud.clock.advance):  # waiting for a member job is emulated time, not the run's
            yield cloud


def settings_env(cloud: Emulator) -> dict[str, str]:
    """The environment a deployment in SOURCE gets (tests/e2e/conftest.py), with the emulator's endpoints."""
    partners = [cloud.recipient, cloud.account("partner2")]
    # Each alias names one project of its own account, in the destinations only (the source is not shared).
    targets = {
        alias: {r: [account.projects[r]] for r in DESTINATIONS}
        for alias, account in zip(ALIASES, partners, strict=True)
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMSYNC_", "HUAWEICLOUD_SDK_"))}
    env.update(cloud.env)
    env.update(
        {
            "IMSYNC_HOME_REGION": SOURCE,
            "IMSYNC_SOURCE_REGIONS": SOURCE,
            "IMSYNC_ALLOWED_REGIONS": ",".join(DESTINATIONS),
            "IMSYNC_AGENCY": AGENCY,
            "IMSYNC_SHARE_TARGETS": json.dumps(targets),
            "IMSYNC_HTTP_TIMEOUT": "120",
            "IMSYNC_LOG_LEVEL": "INFO",
        }
    )
    return env


def add_sources(cloud: Emulator, count: int, regions: Sequence[str], share: bool = False) -> list[ImageRecord]:
    """`count` opted-in images in SOURCE asking for `regions` (and both share aliases when `share`)."""
    tags = {"imsync-regions": "_".join(regions)}
    if share:
        tags["imsync-share"] = "_".join(ALIASES)
    src = cloud.region(SOURCE)
    return [src.add_image(name=f"img-{i:05d}", tags=tags, size_gb=10) for i in range(count)]


def add_replica(cloud: Emulator, source: ImageRecord, region: str, finished: bool = True) -> ImageRecord:
    """imsync's replica of `source` in `region`: finished (lineage tags, in sync) or just copied (no tags)."""
    tags = {"imsync-source": source.id, "imsync-source-region": source.region} if finished else {}
    return cloud.region(region).add_image(
        name=f"copy_{source.region}_{source.name}",
        tags=tags,
        size_gb=10,
        description=f"imsync:source={source.region}/{source.id} copied by imsync",
    )


@dataclass
class Invocation:
    """What one cold invocation cost: the child's own figures, the requests the emulator saw, the parent's CPU."""

    figures: dict[str, Any]
    wall_s: float
    emulator_cpu_s: float
    load: str
    calls: Counter[str] = field(default_factory=Counter)
    regions: int = 0  # IMS regions the invocation talked to: one IAM project look-up each (docs/deploy.md 1.2)

    @property
    def ims_calls(self) -> int:
        return sum(n for op, n in self.calls.items() if op not in IAM_OPERATIONS)

    @property
    def iam_calls(self) -> int:
        return sum(n for op, n in self.calls.items() if op in IAM_OPERATIONS)


def _parent_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def invoke(
    cloud: Emulator | None, function: str, env: dict[str, str], mode: str = "call", payload: Any = None
) -> Invocation:
    """Run functions/<function>/handler.py once in a fresh interpreter; count what the emulator saw."""
    from benchmarks.machine import child_env, load

    with tempfile.TemporaryDirectory(prefix="imsync-bench-") as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(
            json.dumps({"function": function, "mode": mode, "event": payload, "out": str(out_path)}), encoding="utf-8"
        )
        if cloud is not None:
            cloud.reset_counters()
            seen = len(cloud.requests)
        at_start = load()
        cpu = _parent_cpu()
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.invoke", str(spec_path)],
            cwd=ROOT,
            env=child_env(env),
            stdout=subprocess.DEVNULL,  # imsync's JSON decision log: produced (that cost counts), not kept
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        emulator_cpu = _parent_cpu() - cpu
        if proc.returncode != 0 or not out_path.exists():
            raise RuntimeError(f"{function} ({mode}) failed with exit code {proc.returncode}:\n{proc.stderr[-3000:]}")
        figures = json.loads(out_path.read_text(encoding="utf-8"))
    calls: Counter[str] = Counter(cloud.counters) if cloud is not None else Counter()
    regions = len({r.region for r in cloud.requests[seen:] if r.region != "iam"}) if cloud is not None else 0
    return Invocation(figures, wall, emulator_cpu, at_start, calls, regions)
