"""`imsync status`: the image x region matrix, as a table or --json."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.table import Table

from imsync.domain.commands import SweepTrigger
from imsync.domain.outcomes import Outcome
from imsync.ops.command_kit import (
    COLOURS,
    EXIT_CODES,
    HELP,
    checked_images,
    checked_scope,
    common_options,
    console_for,
    emit_json,
    print_table,
    report_errors,
    resolved_images,
    warn,
    wide_option,
)
from imsync.ops.runtime import open_runtime
from imsync.ops.views import (
    Cell,
    StatusRow,
    in_flight,
    misspelled_policy_tags,
    orphaned,
    share_targets_of,
    status_rows,
)


def _share_summary(shares: dict[str, dict[str, str]]) -> str:
    parts = []
    for alias, members in shares.items():
        states = sorted(set(members.values()))
        parts.append(f"{alias}:{'/'.join(states) if states else 'none'}")
    return " ".join(parts)


@click.command("status", context_settings=HELP, epilog=EXIT_CODES)
@click.option("--region", "regions", multiple=True, help="Source region to show (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image name or ID (repeatable; default all opted in).")
@wide_option
@common_options
def status(
    regions: tuple[str, ...], images: tuple[str, ...], wide: bool, as_json: bool, use_emulator: bool, config: str | None
) -> None:
    """The image x region matrix: replicas, copies in flight, shares per alias, refusals and deferrals."""
    with open_runtime(config, use_emulator) as rt:
        checked_scope(rt, regions)
        images = resolved_images(rt, images, regions)
        settings = rt.settings
        summary = rt.replicator().sweep(SweepTrigger(regions=regions, image_ids=images, dry_run=True))
        checked_images(rt, images)
        # Copies in flight count across every region imsync may copy to, as the engine counts them.
        for region in sorted(settings.allowed_regions | set(settings.source_regions)):
            if not rt.listed(region):
                rt.store(region).list_own_images()
        rows = status_rows(settings, summary.results, rt.seen)
        if images:
            rows = [r for r in rows if r.image.id in images]
        if regions:
            rows = [r for r in rows if r.image.region in regions]
        for status_row in rows:
            for region, cell in status_row.cells.items():
                target = cell.replica_id if cell.state in ("source", "active", "finalize") else ""
                wanted = share_targets_of(settings, status_row.image, region)
                if not target or not wanted:
                    continue
                members = rt.store(region).member_statuses(target)
                cell.shares = {
                    alias: {p: members.get(p, "not_shared") for p in projects} for alias, projects in wanted.items()
                }
        flying, limit = in_flight(rt.seen), settings.max_concurrent_copies
        orphans = [] if images else orphaned(summary.results, rt.seen)
        columns = list(dict.fromkeys([*settings.source_regions, *sorted(settings.allowed_regions)]))
        warnings = misspelled_policy_tags(rt.seen.values(), regions or settings.source_regions)
        errors = [(r.region, r.reason) for r in summary.results if r.outcome is Outcome.ERROR] + [
            ("", e) for e in summary.errors
        ]
        if as_json:
            emit_json(
                {
                    "command": "status",
                    "ok": summary.ok,
                    "in_flight": flying,
                    "limit": limit,
                    "regions": columns,
                    "images": [r.as_dict() for r in rows],
                    "orphaned": orphans,
                    "warnings": warnings,
                    "errors": [reason for _, reason in errors],
                }
            )
        else:
            _status_table(rows, columns, flying, limit, wide)
            _orphan_lines(orphans)
        warn(warnings)
        report_errors(rt, errors)
    if not summary.ok:
        sys.exit(1)


def _status_table(rows: list[StatusRow], columns: list[str], flying: int, limit: int, wide: bool) -> None:
    console = console_for(False)
    # Refusals of the whole image (a region or alias the settings do not allow) get the last column.
    refusals = {r.image.id: [n.removeprefix("refuse: ") for n in r.notes if n.startswith("refuse")] for r in rows}
    extra = ["refused"] if any(refusals.values()) else []
    ids = ["image id"] if wide else []
    table = Table("image", *ids, *columns, *extra, title="imsync status", title_justify="left")
    for column in table.columns:
        column.overflow = "fold"
    for status_row in rows:
        cells = []
        for region in columns:
            found = status_row.cells.get(region)
            if found is None:
                cells.append("[dim]-[/dim]")
                continue
            cells.append(_cell_text(found))
        notes = [f"[yellow]{escape(note)}[/yellow]" for note in refusals[status_row.image.id]]
        table.add_row(
            escape(status_row.image.name or status_row.image.id),
            *([status_row.image.id] if wide else []),
            *cells,
            *(["\n".join(notes)] if extra else []),
        )
    print_table(console, table)
    console.print(f"copies in flight: {flying}/{limit}")


def _cell_text(cell: Cell) -> str:
    colour = COLOURS.get(cell.state, "")
    text = f"[{colour}]{cell.state}[/{colour}]"
    if cell.state in ("copying", "stuck") and cell.replica_status:
        text += f" ({cell.replica_status})"
    if cell.shares:
        text += f"\n[dim]{escape(_share_summary(cell.shares))}[/dim]"
    if cell.state in ("stuck", "failed", "deferred", "refused", "unknown") and cell.reason:
        text += f"\n[dim]{escape(cell.reason)}[/dim]"
    return text


def _orphan_lines(orphans: list[dict[str, str]]) -> None:
    console = console_for(False)
    for item in orphans:
        since = f"orphaned since {item['orphaned_since']}" if item["orphaned_since"] else "orphaned now"
        console.print(
            f"[yellow]{since}[/yellow]: replica {escape(item['name'] or item['replica_id'])} ({item['replica_id']}) "
            f"in {item['region']}: {escape(item['reason'])}"
        )
