"""The click commands: imsync plan | apply | status | doctor (rendering with rich, or --json)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from imsync.domain.errors import AuthFailed, ConfigError, ImsyncError, Throttled, Unavailable
from imsync.events import SweepTrigger
from imsync.ops.runtime import Runtime, open_runtime
from imsync.ops.views import SECTIONS, Cell, StatusRow, in_flight, row, section_counts, share_targets_of, status_rows

JSON_VERSION = 1
F = TypeVar("F", bound=Callable[..., Any])

COLOURS = {
    "copy": "cyan",
    "deferred": "magenta",
    "refused": "yellow",
    "finalize": "green",
    "share": "green",
    "drift": "yellow",
    "waiting": "blue",
    "in_sync": "dim",
    "error": "red",
    "other": "dim",
    "source": "bold",
    "active": "green",
    "copying": "cyan",
    "failed": "red",
    "missing": "yellow",
    "unknown": "red",
    "pass": "green",
    "warn": "yellow",
    "fail": "red",
    "skip": "dim",
}


def _fix_for(exc: ImsyncError) -> str:
    if isinstance(exc, ConfigError):
        return "fix the setting named above (environment variable or imsync.toml); `imsync doctor` checks them all"
    if isinstance(exc, AuthFailed):
        return "check HUAWEICLOUD_SDK_AK/SK (and the security token for temporary keys); `imsync doctor` helps"
    if isinstance(exc, (Unavailable, Throttled)):
        return "the service is busy or failing: try again in a few minutes"
    return "run `imsync doctor` to check the settings, the credentials and the agency"


def common_options(command: F) -> F:
    """--json, --emulator, --config, --debug, and one-line errors instead of tracebacks."""

    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document (stable keys, docs/cli.md).")
    @click.option("--emulator", "use_emulator", is_flag=True, help="Run against a fresh emulator with the demo estate.")
    @click.option(
        "--config", type=click.Path(dir_okay=False), default=None, help="Settings file (default ./imsync.toml)."
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks.")
    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ImsyncError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            click.echo(f"  fix: {_fix_for(exc)}", err=True)
            sys.exit(2 if isinstance(exc, ConfigError) else 1)
        except KeyboardInterrupt:
            if debug:
                raise
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if debug:
                raise
            click.echo(f"error: unexpected {type(exc).__name__}: {str(exc)[:300]}", err=True)
            click.echo("  fix: run again with --debug for the traceback, and report it", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _console(as_json: bool) -> Console:
    # With --json, stdout carries the document only; everything else goes to stderr.
    return Console(stderr=as_json, highlight=False, soft_wrap=False)


def _emit(data: dict[str, Any]) -> None:
    click.echo(json.dumps({"version": JSON_VERSION, **data}, indent=2, sort_keys=False))


def _short(value: str, width: int = 12) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def _results_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("section", "image", "from", "region", "outcome", "reason"):
        table.add_column(column, overflow="fold")
    order = {s: n for n, s in enumerate(SECTIONS)}
    for item in sorted(rows, key=lambda r: (order[r["section"]], r["name"], r["image_id"], r["region"])):
        if item["section"] in ("in_sync", "other"):
            continue
        colour = COLOURS.get(item["section"], "")
        name = item["name"] or _short(item["image_id"])
        table.add_row(
            f"[{colour}]{item['section']}[/{colour}]",
            escape(name),
            item["source_region"],
            item["region"],
            f"{item['action']} {item['outcome']}",
            escape(item["reason"]),
        )
    return table


def _report_errors(reasons: list[str]) -> None:
    """Errors the engine recorded (it goes on past them): the first one, how many, and where to look."""
    if not reasons:
        return
    more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
    click.echo(f"error: {reasons[0]}{more}", err=True)
    auth = ("not accepted", "APIGW.0301", "APIGW.0307", "authentication")
    hint = "check HUAWEICLOUD_SDK_AK/SK; " if any(word in reasons[0] for word in auth) else ""
    click.echo(f"  fix: {hint}run `imsync doctor`: it checks credentials, projects, agency and quota", err=True)


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing found"


# ---- plan -------------------------------------------------------------------------------------


def _scope(rt: Runtime, regions: tuple[str, ...], images: tuple[str, ...]) -> SweepTrigger:
    return SweepTrigger(regions=regions, image_ids=images)


@click.command("plan")
@click.option("--region", "regions", multiple=True, help="Source region to reconcile (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image ID (repeatable; default every opted-in image).")
@common_options
def plan(
    regions: tuple[str, ...], images: tuple[str, ...], as_json: bool, use_emulator: bool, config: str | None
) -> None:
    """What the functions would do now: copies, deferrals, refusals, finalizing, shares, drift. Changes nothing."""
    with open_runtime(config, use_emulator) as rt:
        trigger = SweepTrigger(regions=regions, image_ids=images, dry_run=True)
        summary = rt.replicator().sweep(trigger)
        rows = [row(r, rt.seen) for r in summary.results]
        counts = section_counts(rows)
        flying, limit = in_flight(rt.seen), rt.settings.max_concurrent_copies
        if as_json:
            _emit(
                {
                    "command": "plan",
                    "ok": summary.ok,
                    "dry_run": True,
                    "in_flight": flying,
                    "limit": limit,
                    "counts": counts,
                    "results": rows,
                    "errors": summary.errors,
                }
            )
        else:
            console = _console(False)
            console.print(_results_table("imsync plan (nothing is changed)", rows))
            console.print(f"{_counts_line(counts)}; copies in flight: {flying}/{limit}")
    _report_errors([r["reason"] for r in rows if r["section"] == "error"] + summary.errors)
    if not summary.ok:
        sys.exit(1)


# ---- apply ------------------------------------------------------------------------------------


@contextmanager
def _apply_progress(console: Console, enabled: bool) -> Iterator[Progress]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[state]}"),
        console=console,
        disable=not enabled,
        transient=False,
    )
    with progress:
        yield progress


@click.command("apply")
@click.option("--region", "regions", multiple=True, help="Source region to reconcile (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image ID (repeatable; default every opted-in image).")
@click.option("--wait", is_flag=True, help="Follow the copies started to the end, finalize them, start deferred ones.")
@click.option("--poll", "poll_seconds", default=10.0, show_default=True, help="Seconds between job polls (--wait).")
@click.option(
    "--timeout", default=6 * 3600.0, show_default=True, help="Seconds --wait follows jobs before it stops following."
)
@common_options
def apply(
    regions: tuple[str, ...],
    images: tuple[str, ...],
    wait: bool,
    poll_seconds: float,
    timeout: float,
    as_json: bool,
    use_emulator: bool,
    config: str | None,
) -> None:
    """Do what `imsync plan` shows: start copies, finalize and share finished replicas."""
    from imsync.ops.apply import FollowedJob, run_apply

    console = _console(as_json)
    with open_runtime(config, use_emulator) as rt, _apply_progress(console, not as_json) as progress:
        scan = progress.add_task("reconciling", total=None, state="")
        seen = {"n": 0}
        bars: dict[str, TaskID] = {}
        names = rt.seen

        def on_result(result: Any) -> None:
            seen["n"] += 1
            progress.update(scan, state=f"{seen['n']} decisions", description="reconciling")

        def on_jobs(jobs: list[FollowedJob]) -> None:
            for job in jobs:
                source = names.get(job.image_id)
                label = f"{source.name if source else _short(job.image_id)} -> {job.region}"
                bars[job.job_id] = progress.add_task(escape(label), total=100, state="INIT")

        def on_update(job: FollowedJob) -> None:
            state = (
                job.status
                + (f" {job.error_code}" if job.error_code else "")
                + (" read failed" if job.read_error else "")
            )
            progress.update(bars[job.job_id], completed=job.progress, state=state)

        report = run_apply(rt, regions, images, wait, on_result, on_jobs, on_update, poll_seconds, timeout)
        progress.update(scan, total=1, completed=1, state=f"{seen['n']} decisions")
        rows = report.rows
        counts = section_counts(rows)
        flying, limit = in_flight(rt.seen), rt.settings.max_concurrent_copies
    if as_json:
        _emit(
            {
                "command": "apply",
                "ok": report.ok,
                "waited": wait,
                "interrupted": report.interrupted,
                "timed_out": report.timed_out,
                "rounds": report.rounds,
                "counts": counts,
                "results": rows,
                "jobs": [j.as_dict() for j in report.jobs],
                "errors": [e for s in report.summaries for e in s.errors],
            }
        )
    else:
        console.print(_results_table("imsync apply", report.final_rows()))
        if report.jobs:
            jobs = Table("job", "image", "to", "status", "progress", "replica", "reason", title="copy jobs")
            for job in report.jobs:
                source = rt.seen.get(job.image_id)
                jobs.add_row(
                    job.job_id,
                    escape(source.name if source else job.image_id),
                    job.region,
                    f"[{'green' if job.status == 'SUCCESS' else 'red' if job.status == 'FAIL' else 'cyan'}]"
                    f"{job.status}[/]",
                    f"{job.progress:.0f}%",
                    job.replica_id,
                    escape(job.read_error or " ".join(x for x in (job.error_code, job.fail_reason) if x)),
                )
            console.print(jobs)
        final = section_counts(report.final_rows())
        console.print(f"{report.rounds} round(s): {_counts_line(final)}; copies in flight: {flying}/{limit}")
    _report_errors([r["reason"] for r in rows if r["section"] == "error"])
    if report.interrupted:
        click.echo(
            "interrupted: copies already started keep running in IMS; nothing is half-done. "
            "Run `imsync apply` again (or let the functions run) to finalize and share them.",
            err=True,
        )
        sys.exit(130)
    if report.timed_out:
        click.echo(
            f"stopped following after {timeout:.0f} s: the copies keep running in IMS. "
            "Run `imsync status` to watch them and `imsync apply` again to finalize them.",
            err=True,
        )
    if not report.ok:
        sys.exit(1)


# ---- status -----------------------------------------------------------------------------------


def _share_summary(shares: dict[str, dict[str, str]]) -> str:
    parts = []
    for alias, members in shares.items():
        states = sorted(set(members.values()))
        parts.append(f"{alias}:{'/'.join(states) if states else 'none'}")
    return " ".join(parts)


@click.command("status")
@click.option("--region", "regions", multiple=True, help="Source region to show (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image ID (repeatable; default every opted-in image).")
@common_options
def status(
    regions: tuple[str, ...], images: tuple[str, ...], as_json: bool, use_emulator: bool, config: str | None
) -> None:
    """The image x region matrix: replicas, copies in flight, shares per alias, refusals and deferrals."""
    with open_runtime(config, use_emulator) as rt:
        settings = rt.settings
        summary = rt.replicator().sweep(SweepTrigger(regions=regions, image_ids=images, dry_run=True))
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
        columns = list(dict.fromkeys([*settings.source_regions, *sorted(settings.allowed_regions)]))
    if as_json:
        _emit(
            {
                "command": "status",
                "ok": summary.ok,
                "in_flight": flying,
                "limit": limit,
                "regions": columns,
                "images": [r.as_dict() for r in rows],
                "errors": [r.reason for r in summary.results if r.outcome == "error"],
            }
        )
    else:
        _status_table(rows, columns, flying, limit)
    _report_errors([r.reason for r in summary.results if r.outcome == "error"])
    if not summary.ok:
        sys.exit(1)


def _status_table(rows: list[StatusRow], columns: list[str], flying: int, limit: int) -> None:
    console = _console(False)
    table = Table("image", *columns, title="imsync status", title_justify="left")
    for status_row in rows:
        cells = []
        for region in columns:
            found = status_row.cells.get(region)
            if found is None:
                cells.append("[dim]-[/dim]")
                continue
            cells.append(_cell_text(found))
        table.add_row(escape(status_row.image.name or status_row.image.id), *cells)
    console.print(table)
    console.print(f"copies in flight: {flying}/{limit}")


def _cell_text(cell: Cell) -> str:
    colour = COLOURS.get(cell.state, "")
    text = f"[{colour}]{cell.state}[/{colour}]"
    if cell.state == "copying" and cell.replica_status:
        text += f" ({cell.replica_status})"
    if cell.shares:
        text += f"\n[dim]{escape(_share_summary(cell.shares))}[/dim]"
    if cell.state in ("failed", "deferred", "refused", "unknown") and cell.reason:
        text += f"\n[dim]{escape(_short(cell.reason, 60))}[/dim]"
    return text


# ---- doctor -----------------------------------------------------------------------------------


@click.command("doctor")
@common_options
def doctor(as_json: bool, use_emulator: bool, config: str | None) -> None:
    """Pre-flight checklist: settings, credentials, projects, the copy agency, share aliases, quota."""
    from imsync.doctor import Check, run_checks

    console = _console(as_json)

    def show(check: Check) -> None:
        if as_json:
            return
        colour = COLOURS[check.status]
        console.print(f"[{colour}]{check.status.upper():<4}[/{colour}] {escape(check.name)}: {escape(check.detail)}")
        if check.fix and not check.passed:
            console.print(f"     [dim]fix:[/dim] {escape(check.fix)}")

    with open_runtime(config, use_emulator) as rt:
        checks = run_checks(rt, show)
    ok = all(c.passed for c in checks)
    if as_json:
        _emit({"command": "doctor", "ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        failed = sum(1 for c in checks if not c.passed)
        console.print("all checks pass" if ok else f"{failed} of {len(checks)} checks did not pass")
    if not ok:
        sys.exit(1)
