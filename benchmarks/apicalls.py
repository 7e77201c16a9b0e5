"""API calls against the minimum the IMS API allows, counted by the emulator (one cold invocation each)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from benchmarks.estate import (
    DESTINATIONS,
    add_replica,
    add_sources,
    emulated,
    event,
    invoke,
    settings_env,
)

LIST_PAGE_MAX = 500  # IMS documents a default page of 500 and no maximum: imsync asks for 500
MEMBER_BATCH = 50  # images per member call (imsync's assumption; IMS documents no limit)
COPY_LIMIT = 5  # cross-region copies in flight per account


# Every region's project ID comes from one IAM listing (GET /v3/auth/projects) per cold invocation.
IAM_PER_COLD_INVOCATION = 1


def pages(images: int) -> int:
    """Requests to list `images` images: without page_info only an empty page ends a listing (Terraform provider)."""
    return -(-images // LIST_PAGE_MAX) + 1


def minimum_create(destinations: int) -> dict[str, int]:
    """One create event: read the image, list each allowed region once (replicas and copies in flight), copy."""
    return {
        "list_images (read the source by id)": 1,
        "list_images (pages, 5 allowed regions)": len(DESTINATIONS) * pages(0),
        "copy_image_cross_region": destinations,
        # each copy is noted on the source before it is asked for, then its job joins the note: no run copies
        # again while IMS does not list it yet, whatever IMS answered. Two runs never both ask: the source is
        # read before the ask tag, after it and after the note (service/copy_notes.py, CopyNotes.ahead)
        "list_images (the source, around the ask tag and the note)": 3 * destinations,
        "batch_add_or_delete_tags (ask tag, note, then its job)": 3 * destinations,
    }


def minimum_completion(replicas: int) -> dict[str, int]:
    """K finished replicas in one region: list both regions, add members in batches (and read each batch's job,
    IMS shares asynchronously), tag each replica once."""
    return {
        "list_images (pages, source + destination)": 2 * pages(replicas),
        "batch_add_members": math.ceil(replicas / MEMBER_BATCH),
        "show_job_progress (the member jobs)": math.ceil(replicas / MEMBER_BATCH),
        "batch_add_or_delete_tags": replicas,
    }


def minimum_sweep(images: int, missing_share: float) -> dict[str, int]:
    """A DR run: list the source and the five destinations once; start as many copies as the limit allows."""
    present = images - round(images * missing_share)
    minimum = {"list_images (pages, source + 5 destinations)": pages(images) + len(DESTINATIONS) * pages(present)}
    missing = len(DESTINATIONS) * (images - present)
    if missing:
        started = min(missing, COPY_LIMIT)
        minimum["copy_image_cross_region"] = started
        # each copy noted before it is asked for and completed with its job after (see minimum_create)
        minimum["list_images (the source, around the ask tag and the note)"] = 3 * started
        minimum["batch_add_or_delete_tags (ask tag, note, then its job)"] = 3 * started
    return minimum


def _row(name: str, params: dict[str, Any], minimum: dict[str, int], inv: Any) -> dict[str, Any]:
    min_ims = sum(minimum.values())
    return {
        "scenario": name,
        "params": params,
        "calls": dict(sorted(inv.calls.items())),
        "ims_calls": inv.ims_calls,
        "iam_calls": inv.iam_calls,
        "minimum": minimum,
        "min_ims": min_ims,
        "min_iam": IAM_PER_COLD_INVOCATION,
        "ratio": round(inv.ims_calls / min_ims, 3),
        "ratio_with_iam": round((inv.ims_calls + inv.iam_calls) / (min_ims + IAM_PER_COLD_INVOCATION), 3),
        "ok": inv.figures.get("ok"),
        "counts": inv.figures.get("counts"),
        "wall_s": round(inv.wall_s, 3),
        "maxrss_mb": round(inv.figures["maxrss_kb"] / 1024, 1),
        "load": inv.load,
    }


def create_events(destinations: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for d in destinations:
        with emulated() as cloud:
            (image,) = add_sources(cloud, 1, DESTINATIONS[:d])
            inv = invoke(
                cloud, "replicate_on_create", settings_env(cloud), payload=event("cts_create_image.json", image.id)
            )
            started = sum(len(cloud.region(r).replicas_of(image.id)) for r in DESTINATIONS)
            row = _row(f"create event, {d} destination(s)", {"destinations": d}, minimum_create(d), inv)
            row["replicas_started"] = started
            rows.append(row)
    return rows


def completions(sizes: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for k in sizes:
        with emulated() as cloud:
            region = DESTINATIONS[0]
            sources = add_sources(cloud, k, (region,), share=True)
            replicas = [add_replica(cloud, s, region, finished=False) for s in sources]
            inv = invoke(cloud, "share_on_complete", settings_env(cloud), payload={})
            shared = 0
            for replica in replicas:
                record = cloud.region(region).image(replica.id)
                shared += record is not None and len(record.members) == 2
            row = _row(f"completion, K={k} replicas, 2 aliases", {"replicas": k}, minimum_completion(k), inv)
            row["replicas_shared"] = shared
            rows.append(row)
    return rows


def seed_sweep(cloud: Any, images: int, missing_share: float) -> None:
    """`images` sources asking for all five destinations; every 1/missing_share-th replica of a region is absent."""
    sources = add_sources(cloud, images, DESTINATIONS)
    step = round(1 / missing_share) if missing_share else 0
    for j, region in enumerate(DESTINATIONS):
        for i, source in enumerate(sources):
            if step and i % step == j % step:
                continue
            add_replica(cloud, source, region)


def sweeps(sizes: Sequence[int], missing_shares: Sequence[float] = (0.0, 0.1)) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        for share in missing_shares:
            with emulated() as cloud:
                seed_sweep(cloud, n, share)
                inv = invoke(cloud, "scheduled_dr_copy", settings_env(cloud), payload=event("timer.json"))
                what = "nothing missing" if not share else f"{share:.0%} missing"
                row = _row(
                    f"DR run, N={n} x 5 regions, {what}", {"images": n, "missing": share}, minimum_sweep(n, share), inv
                )
                rows.append(row)
    return rows


def measure(quick: bool) -> dict[str, Any]:
    """Every scenario of section 2, smaller when `quick`."""
    rows = create_events((1, 3, 5))
    rows += completions((1, 10) if quick else (1, 10, 50))
    rows += sweeps((20, 60) if quick else (100, 1000))
    return {"rows": rows}
