"""`imsync apply`: do what plan shows, with progress bars on a terminal or timestamped lines off one."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

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
    wide_option,
)
from imsync.ops.runtime import Runtime, open_runtime
from imsync.ops.views import section_counts

DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Duration(click.ParamType):
    """Seconds, or a number with a unit: 90s, 30m, 6h, 1d."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value).lower())
        if not found or float(found[1]) <= 0:
            self.fail(f"'{value}' is not a duration like 90s, 30m or 6h", param, ctx)
        return float(found[1]) * DURATION_UNITS[found[2]]


def human_seconds(seconds: float) -> str:
    """6h, 30m, 90s: the largest unit that divides it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"


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


def _job_label(rt: Runtime, job: Any) -> str:
    source = rt.seen.get(job.image_id)
    return f"{source.name if source else job.image_id} -> {job.region}"


def _job_state(job: Any) -> str:
    return (
        job.status
        + (f" {job.error_code}" if job.error_code else "")
        + (f" ({job.fail_reason})" if job.fail_reason and not job.job_id else "")
        + (" read failed" if job.read_error else "")
    )


class PlainLog:
    """Off a terminal: one timestamped line per state change, as it happens (bars would only show at the end)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._last: dict[int, str] = {}

    @staticmethod
    def line(text: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"{stamp} {text}")

    def jobs(self, jobs: list[Any]) -> None:
        for job in jobs:
            how = f"copy job {job.job_id} started" if job.job_id else f"copy in flight, replica {job.replica_id}"
            self.line(f"{_job_label(self._rt, job)}: {how}")
            self._last[id(job)] = job.status

    def update(self, job: Any) -> None:
        state = _job_state(job)
        if self._last.get(id(job)) == state:
            return
        self._last[id(job)] = state
        progress = f" {job.progress:.0f}%" if job.job_id else ""
        replica = f" replica {job.replica_id}" if job.finished and job.replica_id else ""
        self.line(f"{_job_label(self._rt, job)}: {state}{progress}{replica}")


@click.command("apply", context_settings=HELP, epilog=EXIT_CODES)
@click.option("--region", "regions", multiple=True, help="Source region to reconcile (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image name or ID (repeatable; default all opted in).")
@click.option(
    "--wait",
    is_flag=True,
    help="Follow every imsync copy in flight in scope to the end, finalize it, start the deferred ones.",
)
@click.option("--poll", "poll_seconds", default="10s", type=Duration(), show_default=True, help="Time between polls.")
@click.option(
    "--timeout",
    default="6h",
    type=Duration(),
    show_default=True,
    help="How long --wait follows copies (90s, 30m, 6h) before it stops following.",
)
@wide_option
@common_options
def apply(
    regions: tuple[str, ...],
    images: tuple[str, ...],
    wait: bool,
    poll_seconds: float,
    timeout: float,
    wide: bool,
    as_json: bool,
    use_emulator: bool,
    config: str | None,
) -> None:
    """Do what `imsync plan` shows: start copies, finalize and share finished replicas."""
    from imsync.ops.apply import FollowedJob, run_apply

    console = console_for(as_json)
    bars_wanted = not as_json and console.is_terminal
    with open_runtime(config, use_emulator) as rt, _apply_progress(console, bars_wanted) as progress:
        checked_scope(rt, regions)
        images = resolved_images(rt, images, regions)
        scan = progress.add_task("reconciling", total=None, state="")
        seen = {"n": 0}
        bars: dict[int, TaskID] = {}
        plain = PlainLog(rt) if not as_json and not bars_wanted else None

        def on_result(result: Any) -> None:
            seen["n"] += 1
            progress.update(scan, state=f"{seen['n']} decisions", description="reconciling")

        def on_jobs(jobs: list[FollowedJob]) -> None:
            if plain:
                plain.jobs(jobs)
            for job in jobs:
                bars[id(job)] = progress.add_task(escape(_job_label(rt, job)), total=100, state=job.status)

        def on_update(job: FollowedJob) -> None:
            if plain:
                plain.update(job)
            progress.update(bars[id(job)], completed=job.progress, state=_job_state(job))

        report = run_apply(rt, regions, images, wait, on_result, on_jobs, on_update, poll_seconds, timeout)
        progress.update(scan, total=1, completed=1, state=f"{seen['n']} decisions")
        if not report.interrupted:
            checked_images(rt, images)
        rows = report.rows
        counts = section_counts(rows)
        flying, limit = report.copies_in_flight(rt.seen), rt.settings.max_concurrent_copies
        errors = result_errors(rows, [e for s in report.summaries for e in s.errors])
        if as_json:
            emit_json(
                {
                    "command": "apply",
                    "ok": report.ok,
                    "waited": wait,
                    "interrupted": report.interrupted,
                    "timed_out": report.timed_out,
                    "rounds": report.rounds,
                    "in_flight": flying,
                    "limit": limit,
                    "failed_copies": report.failed_copies,
                    "counts": counts,
                    "results": rows,
                    "jobs": [j.as_dict() for j in report.jobs],
                    "errors": [reason for _, reason in errors],
                }
            )
        else:
            _apply_tables(console, rt, report, wide)
            final = section_counts(report.final_rows())
            failed = f"{report.failed_copies} failed, " if report.failed_copies else ""
            rounds = "1 round" if report.rounds == 1 else f"{report.rounds} rounds"
            console.print(f"{rounds}: {failed}{counts_line(final)}; copies in flight: {_count(flying, limit)}")
        report_errors(rt, errors)
    _apply_exit(report, timeout)


def _count(flying: int | None, limit: int) -> str:
    return f"unknown/{limit} (IMS could not be read)" if flying is None else f"{flying}/{limit}"


def _apply_tables(console: Console, rt: Runtime, report: Any, wide: bool) -> None:
    print_table(console, results_table("imsync apply", report.final_rows(), wide))
    if not report.jobs:
        return
    jobs = Table("job", "image", "to", "status", "progress", "replica", "reason", title="copies followed")
    for job in report.jobs:
        source = rt.seen.get(job.image_id)
        colour = "green" if job.status == "SUCCESS" else "red" if job.status == "FAIL" else "cyan"
        jobs.add_row(
            job.job_id or "(in flight before)",
            escape(source.name if source else job.image_id),
            job.region,
            f"[{colour}]{job.status}[/]",
            f"{job.progress:.0f}%",
            job.replica_id,
            escape(job.read_error or " ".join(x for x in (job.error_code, job.fail_reason) if x)),
        )
    print_table(console, jobs)


def _apply_exit(report: Any, timeout: float) -> None:
    if report.interrupted:
        click.echo(
            "interrupted: copies already started keep running in IMS; nothing is half-done. "
            "Run `imsync apply` again (or let the functions run) to finalize and share them.",
            err=True,
        )
        sys.exit(130)
    if report.timed_out:
        click.echo(
            f"stopped following after {human_seconds(timeout)}: the copies keep running in IMS. "
            "Run `imsync status` to watch them and `imsync apply` again to finalize them.",
            err=True,
        )
    if not report.ok:
        sys.exit(1)
