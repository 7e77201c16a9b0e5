"""Retention at scale: two DR runs over N sources x 5 regions with `follow` on and 10% of the sources gone.

``python -m benchmarks.retention [--images N]`` prints one JSON row per run: the IMS calls the emulator
counted against the minimum the API allows, and the child's peak memory. The first run records the
orphans (one tag write each); the second, with IMSYNC_RETAIN_GRACE_DAYS=0, deletes them.

The minimum, per run: the listings of the source region and the five destinations (pages of 500), plus one
read by ID for each source the listing lacks (a listing that misses a source never counts as its deletion:
IMS must say so for that ID). Then, first run: one tag write per orphaned replica. Second run: per replica,
one member listing (only IMS's member list says whether a recipient will lose it), one read by ID of the
replica and one of its source right before the DELETE (a keep tag, a source that came back or a region put back
in the policy since the run's listing stops it), and the DELETE.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from benchmarks.apicalls import _row, pages
from benchmarks.estate import DESTINATIONS, SOURCE, add_sources, emulated, event, invoke, settings_env
from imsync.emulator import Emulator

GONE_SHARE = 0.1


def seed(cloud: Emulator, images: int) -> int:
    """`images` follow-sources with a finished replica in each destination; every 10th source deleted."""
    sources = add_sources(cloud, images, DESTINATIONS)
    for source in sources:
        source.tags["imsync-retain"] = "follow"
        for region in DESTINATIONS:
            cloud.region(region).add_image(
                name=f"copy_{source.region}_{source.name}",
                tags={"imsync-source": source.id, "imsync-source-region": source.region, "imsync-retain": "follow"},
                size_gb=10,
                description=f"imsync:source={source.region}/{source.id} copied by imsync",
            )
    step = round(1 / GONE_SHARE)
    gone = [s for i, s in enumerate(sources) if i % step == 0]
    for source in gone:
        cloud.region(SOURCE).delete_image(source.id)
    return len(gone)


def minimum(images: int, gone: int, deleting: bool) -> dict[str, int]:
    replicas = len(DESTINATIONS) * images
    orphans = len(DESTINATIONS) * gone
    found = {
        "list_images (pages, source + 5 destinations)": pages(images - gone) + len(DESTINATIONS) * pages(replicas // 5),
        "list_images (by id: the sources the listing lacks)": gone,
    }
    if deleting:
        found["list_image_members (one per replica deleted)"] = orphans
        found["list_images (by id: the replica and its source, read again before deleting)"] = 2 * orphans
        found["glance_delete_image"] = orphans
    else:
        found["batch_add_or_delete_tags (orphan records)"] = orphans
    return found


def measure(images: int) -> list[dict[str, Any]]:
    rows = []
    with emulated() as cloud:
        gone = seed(cloud, images)
        env = {**settings_env(cloud), "IMSYNC_RETAIN_GRACE_DAYS": "0"}
        for deleting in (False, True):
            inv = invoke(cloud, "scheduled_dr_copy", env, payload=event("timer.json"))
            what = "deletes the orphans" if deleting else "records the orphans"
            name = f"DR run, N={images} x 5 regions, follow, 10% of sources gone: {what}"
            row = _row(name, {"images": images, "gone": gone}, minimum(images, gone, deleting), inv)
            row["replicas_left"] = sum(len(cloud.region(r).images()) for r in DESTINATIONS)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.retention", description=__doc__)
    parser.add_argument("--images", type=int, default=1000, help="sources (each with 5 replicas); default 1000")
    args = parser.parse_args(argv)
    for row in measure(args.images):
        print(
            json.dumps(
                {
                    k: row[k]
                    for k in (
                        "scenario",
                        "ims_calls",
                        "min_ims",
                        "calls",
                        "minimum",
                        "ok",
                        "wall_s",
                        "maxrss_mb",
                        "replicas_left",
                    )
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
