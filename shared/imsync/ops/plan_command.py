"""`imsync plan`: what the functions would do now, as a table or --json; changes nothing."""

from __future__ import annotations

import sys

import click

from imsync.domain.commands import SweepTrigger
from imsync.ops.command_kit import (
    EXIT_CODES,
    HELP,
    checked_images,
    checked_scope,
    common_options,
    console_for,
    counts_line,
    emit_json,
    print_table,
    report_errors,
    resolved_images,
    result_errors,
    results_table,
    warn,
    wide_option,
)
from imsync.ops.runtime import open_runtime
from imsync.ops.views import (
    in_flight,
    misspelled_policy_tags,
    pending_changes,
    row,
    section_counts,
    storage_by_region,
)


@click.command(
    "plan",
    context_settings=HELP,
    epilog=f"{EXIT_CODES} With --detailed-exitcode: 0 nothing to do, 2 changes pending, 1 an error.",
)
@click.option("--region", "regions", multiple=True, help="Source region to reconcile (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image name or ID (repeatable; default all opted in).")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 2 when changes are pending, 1 on any error (as terraform plan).",
)
@wide_option
@common_options
def plan(
    regions: tuple[str, ...],
    images: tuple[str, ...],
    detailed_exitcode: bool,
    wide: bool,
    as_json: bool,
    use_emulator: bool,
    config: str | None,
) -> None:
    """What the functions would do now: copies, deferrals, refusals, finalizing, shares, drift. Changes nothing."""
    with open_runtime(config, use_emulator) as rt:
        checked_scope(rt, regions)
        images = resolved_images(rt, images, regions)
        trigger = SweepTrigger(regions=regions, image_ids=images, dry_run=True)
        summary = rt.replicator().sweep(trigger)
        checked_images(rt, images)
        rows = [row(r, rt.seen) for r in summary.results]
        counts = section_counts(rows)
        flying, limit = in_flight(rt.seen), rt.settings.max_concurrent_copies
        warnings = misspelled_policy_tags(rt.seen.values(), regions or rt.settings.source_regions)
        errors = result_errors(rows, summary.errors)
        storage = storage_by_region(rows, rt.seen)
        if as_json:
            emit_json(
                {
                    "command": "plan",
                    "ok": summary.ok,
                    "dry_run": True,
                    "in_flight": flying,
                    "limit": limit,
                    "counts": counts,
                    "results": rows,
                    "storage": storage,
                    "warnings": warnings,
                    "errors": [reason for _, reason in errors],
                }
            )
        else:
            console = console_for(False)
            print_table(console, results_table("imsync plan (nothing is changed)", rows, wide))
            console.print(f"{counts_line(counts)}; copies in flight: {flying}/{limit}")
            for region, gb in storage.items():
                console.print(
                    f"storage in {region}: +{gb['adds_gb']:g} GB (copies), -{gb['frees_gb']:g} GB (deletions due), "
                    f"-{gb['frees_later_gb']:g} GB (deletions after their grace period)"
                )
        warn(warnings)
        report_errors(rt, errors)
    if not summary.ok:
        sys.exit(1)
    if detailed_exitcode and pending_changes(rows):
        sys.exit(2)
