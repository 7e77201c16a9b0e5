"""The click commands: imsync plan | apply | status | doctor (rendering with rich, or --json)."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from imsync.config import REGION_ID
from imsync.domain.commands import SweepTrigger
from imsync.domain.errors import AuthFailed, ConfigError, ImsyncError, OutcomeUnknown, Throttled, Unavailable
from imsync.ops.reach import unanswered
from imsync.ops.runtime import Runtime, open_runtime
from imsync.ops.views import (
    SECTIONS,
    Cell,
    StatusRow,
    in_flight,
    misspelled_policy_tags,
    row,
    section_counts,
    share_targets_of,
    status_rows,
)

EXIT_CODES = (
    "Exit codes: 0 done (for doctor: every check passed); 1 a result, a check or a copy failed; "
    "2 a settings or usage error (nothing was done); 130 interrupted (Ctrl-C)."
)

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
    "stuck": "red",
    "failed": "red",
    "missing": "yellow",
    "unknown": "red",
    "pass": "green",
    "warn": "yellow",
    "fail": "red",
    "skip": "dim",
}


class UsageProblem(ConfigError):
    """An option names something that cannot be used (exit 2, like a settings error)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class NotFoundHere(ImsyncError):
    """Something the command was asked about does not exist (exit 1)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def _fix_for(exc: ImsyncError) -> str:
    if isinstance(exc, (UsageProblem, NotFoundHere)):
        return exc.fix
    if isinstance(exc, ConfigError):
        return "fix the setting named above (environment variable or imsync.toml); `imsync doctor` checks them all"
    if isinstance(exc, AuthFailed):
        return "check HUAWEICLOUD_SDK_AK/SK (and the security token for temporary keys); `imsync doctor` helps"
    if isinstance(exc, (Unavailable, Throttled)):
        return "the service is busy or failing: try again in a few minutes"
    if isinstance(exc, OutcomeUnknown):
        return "check that the endpoint named above is reachable from here (`imsync doctor` tests each one)"
    return "run `imsync doctor` to check the settings, the credentials and the agency"


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
        def fail(message: str, fix: str, code: int) -> None:
            click.echo(f"error: {message}", err=True)
            cause = _unanswered_cause(message)
            if cause:
                click.echo(f"  cause: {cause}", err=True)
            click.echo(f"  fix: {fix}", err=True)
            if kwargs.get("as_json"):  # a script still gets one JSON document
                emit_json({"command": command.__name__, "ok": False, "error": message, "fix": fix, "exit_code": code})
            sys.exit(code)

        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ImsyncError as exc:
            if debug:
                raise
            fail(str(exc), _fix_for(exc), 2 if isinstance(exc, ConfigError) else 1)
        except KeyboardInterrupt:
            if debug:
                raise
            fail("interrupted", "run the command again; nothing is half-done", 130)
        except Exception as exc:
            if debug:
                raise
            fail(
                f"unexpected {type(exc).__name__}: {str(exc)[:300]}",
                "run again with --debug for the traceback, and report it",
                1,
            )

    return wrapper  # type: ignore[return-value]


REGION_IN_TEXT = re.compile(r"\b[a-z]{2}(?:-[a-z]+)+-\d+\b")

# Off a terminal (pipes, CI, cron, logs) tables grow as wide as their longest line: no cell is cut and no
# ID is split across lines, so grep and awk see each row whole.
UNBOUNDED = 10_000


def _unanswered_cause(message: str) -> str:
    """For an error that got no answer: the endpoint it went to and what failed, else ""."""
    if not unanswered(message):
        return ""
    from imsync.ops.reach import iam_endpoint_of, ims_endpoint, unreachable

    region = REGION_IN_TEXT.search(message)
    if " in IAM" in message or region is None:
        return unreachable(iam_endpoint_of(None, region[0] if region else None))
    return unreachable(ims_endpoint(region[0]))


def console_for(as_json: bool) -> Console:
    # With --json, stdout carries the document only; everything else goes to stderr.
    console = Console(stderr=as_json, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(stderr=as_json, highlight=False, soft_wrap=False, width=UNBOUNDED)
    return console


def emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps({"version": JSON_VERSION, **data}, indent=2, sort_keys=False))


def _results_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("section", "image", "from", "region", "outcome", "reason"):
        table.add_column(column, overflow="fold")
    order = {s: n for n, s in enumerate(SECTIONS)}
    for item in sorted(rows, key=lambda r: (order[r["section"]], r["name"], r["image_id"], r["region"])):
        if item["section"] in ("in_sync", "other"):
            continue
        colour = COLOURS.get(item["section"], "")
        name = item["name"] or item["image_id"]
        table.add_row(
            f"[{colour}]{item['section']}[/{colour}]",
            escape(name),
            item["source_region"],
            item["region"],
            f"{item['action']} {item['outcome']}",
            escape(item["reason"]),
        )
    return table


def _report_errors(rt: Runtime | None, errors: list[tuple[str, str]]) -> None:
    """Errors the engine recorded (it goes on past them): the first one, how many, and where to look.

    `errors` are (region, reason). Credentials are mentioned only when the answer was an authentication
    error; a request that got no answer names the endpoint and what failed instead.
    """
    if not errors:
        return
    region, reason = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    click.echo(f"error: {reason}{more}", err=True)
    if unanswered(reason):
        from imsync.ops.reach import iam_endpoint_of, ims_endpoint, unreachable

        in_iam = " in IAM" in reason
        url = iam_endpoint_of(rt.env if rt else None, region) if in_iam else ims_endpoint(region)
        click.echo(f"  cause: {unreachable(url)}", err=True)
        variable = "HUAWEICLOUD_SDK_IAM_ENDPOINT" if in_iam else "HUAWEICLOUD_SDK_REGION_IMS_<REGION>"
        click.echo(f"  fix: check the network, proxy and endpoint ({variable}) from here; `imsync doctor`", err=True)
        return
    auth = ("not accepted", "APIGW.0301", "APIGW.0307", "authentication")
    hint = "check HUAWEICLOUD_SDK_AK/SK; " if any(word in reason for word in auth) else ""
    doctor = "run `imsync doctor`: it checks the settings, endpoints, projects, agency and quota"
    click.echo(f"  fix: {hint}{doctor}", err=True)


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do"


def _errors(rows: list[dict[str, Any]], extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    return [(r["region"], r["reason"]) for r in rows if r["section"] == "error"] + [("", e) for e in extra]


def _checked_scope(rt: Runtime, regions: tuple[str, ...]) -> None:
    """The settings are complete and every --region is a source region: else exit 2, naming what is wrong."""
    rt.require_setup()
    settings = rt.settings
    known = list(dict.fromkeys([*settings.source_regions, *([settings.home_region] if settings.home_region else [])]))
    for region in regions:
        if region not in known:
            shape = "" if REGION_ID.match(region) else " (not even a region ID like cn-north-4)"
            raise UsageProblem(
                f"--region {region} is not a source region{shape}; source regions: {', '.join(known)}",
                "name a source region, or add it to IMSYNC_SOURCE_REGIONS (source_regions in imsync.toml)",
            )


def _checked_images(rt: Runtime, images: tuple[str, ...]) -> None:
    """Every --image exists in a source region and is opted in (after the sweep listed them): else exit 1."""
    for image_id in images:
        found = rt.seen.get(image_id)
        where = ", ".join(rt.settings.source_regions)
        if found is None or found.region not in rt.settings.source_regions:
            raise NotFoundHere(
                f"--image {image_id}: no private image with this ID in the source regions ({where})",
                "check the ID (IMS console, or `imsync status`); a replica's ID is not a source image",
            )
        if not found.opted_in:
            raise NotFoundHere(
                f"--image {image_id} ({found.name}) has no imsync-regions tag: imsync leaves it alone",
                f"tag it: imsync tag {image_id} --regions REGION,REGION",
            )


def _warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"warning: {line}", err=True)


# ---- plan -------------------------------------------------------------------------------------


@click.command("plan", epilog=EXIT_CODES)
@click.option("--region", "regions", multiple=True, help="Source region to reconcile (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image ID (repeatable; default every opted-in image).")
@common_options
def plan(
    regions: tuple[str, ...], images: tuple[str, ...], as_json: bool, use_emulator: bool, config: str | None
) -> None:
    """What the functions would do now: copies, deferrals, refusals, finalizing, shares, drift. Changes nothing."""
    with open_runtime(config, use_emulator) as rt:
        _checked_scope(rt, regions)
        trigger = SweepTrigger(regions=regions, image_ids=images, dry_run=True)
        summary = rt.replicator().sweep(trigger)
        _checked_images(rt, images)
        rows = [row(r, rt.seen) for r in summary.results]
        counts = section_counts(rows)
        flying, limit = in_flight(rt.seen), rt.settings.max_concurrent_copies
        warnings = misspelled_policy_tags(rt.seen.values(), regions or rt.settings.source_regions)
        errors = _errors(rows, summary.errors)
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
                    "warnings": warnings,
                    "errors": [reason for _, reason in errors],
                }
            )
        else:
            console = console_for(False)
            console.print(_results_table("imsync plan (nothing is changed)", rows))
            console.print(f"{_counts_line(counts)}; copies in flight: {flying}/{limit}")
        _warn(warnings)
        _report_errors(rt, errors)
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


@click.command("apply", epilog=EXIT_CODES)
@click.option("--region", "regions", multiple=True, help="Source region to reconcile (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image ID (repeatable; default every opted-in image).")
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

    console = console_for(as_json)
    bars_wanted = not as_json and console.is_terminal
    with open_runtime(config, use_emulator) as rt, _apply_progress(console, bars_wanted) as progress:
        _checked_scope(rt, regions)
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
            _checked_images(rt, images)
        rows = report.rows
        counts = section_counts(rows)
        flying, limit = in_flight(rt.seen), rt.settings.max_concurrent_copies
        errors = _errors(rows, [e for s in report.summaries for e in s.errors])
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
            _apply_tables(console, rt, report)
            final = section_counts(report.final_rows())
            failed = f"{report.failed_copies} failed, " if report.failed_copies else ""
            rounds = "1 round" if report.rounds == 1 else f"{report.rounds} rounds"
            console.print(f"{rounds}: {failed}{_counts_line(final)}; copies in flight: {flying}/{limit}")
        _report_errors(rt, errors)
    _apply_exit(report, timeout)


def _apply_tables(console: Console, rt: Runtime, report: Any) -> None:
    console.print(_results_table("imsync apply", report.final_rows()))
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
    console.print(jobs)


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


# ---- status -----------------------------------------------------------------------------------


def _share_summary(shares: dict[str, dict[str, str]]) -> str:
    parts = []
    for alias, members in shares.items():
        states = sorted(set(members.values()))
        parts.append(f"{alias}:{'/'.join(states) if states else 'none'}")
    return " ".join(parts)


@click.command("status", epilog=EXIT_CODES)
@click.option("--region", "regions", multiple=True, help="Source region to show (repeatable; default all).")
@click.option("--image", "images", multiple=True, help="Source image ID (repeatable; default every opted-in image).")
@common_options
def status(
    regions: tuple[str, ...], images: tuple[str, ...], as_json: bool, use_emulator: bool, config: str | None
) -> None:
    """The image x region matrix: replicas, copies in flight, shares per alias, refusals and deferrals."""
    with open_runtime(config, use_emulator) as rt:
        _checked_scope(rt, regions)
        settings = rt.settings
        summary = rt.replicator().sweep(SweepTrigger(regions=regions, image_ids=images, dry_run=True))
        _checked_images(rt, images)
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
        warnings = misspelled_policy_tags(rt.seen.values(), regions or settings.source_regions)
        errors = [(r.region, r.reason) for r in summary.results if r.outcome == "error"] + [
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
                    "warnings": warnings,
                    "errors": [reason for _, reason in errors],
                }
            )
        else:
            _status_table(rows, columns, flying, limit)
        _warn(warnings)
        _report_errors(rt, errors)
    if not summary.ok:
        sys.exit(1)


def _status_table(rows: list[StatusRow], columns: list[str], flying: int, limit: int) -> None:
    console = console_for(False)
    # Refusals of the whole image (a region or alias the settings do not allow) get the last column.
    refusals = {r.image.id: [n.removeprefix("refuse: ") for n in r.notes if n.startswith("refuse")] for r in rows}
    extra = ["refused"] if any(refusals.values()) else []
    table = Table("image", *columns, *extra, title="imsync status", title_justify="left")
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
            escape(status_row.image.name or status_row.image.id), *cells, *(["\n".join(notes)] if extra else [])
        )
    console.print(table)
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


# ---- doctor -----------------------------------------------------------------------------------


@click.command("doctor", epilog=EXIT_CODES)
@common_options
def doctor(as_json: bool, use_emulator: bool, config: str | None) -> None:
    """Pre-flight checklist: settings, credentials, projects, the copy agency, share aliases, quota."""
    from imsync.doctor import Check, run_checks

    console = console_for(as_json)

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
        emit_json({"command": "doctor", "ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        failed = sum(1 for c in checks if not c.passed)
        console.print("all checks pass" if ok else f"{failed} of {len(checks)} checks did not pass")
    if not ok:
        sys.exit(1)
