"""What every operator command shares: the common options, one-line errors with their fix, JSON and console output.

Also the checks of --region and --image, and the results table plan and apply both print.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from imsync.config import REGION_ID
from imsync.domain.errors import AuthFailed, ConfigError, ImsyncError, OutcomeUnknown, Throttled, Unavailable
from imsync.ops.reach import unanswered
from imsync.ops.runtime import Runtime
from imsync.ops.views import SECTIONS

# Every command takes -h as well as --help, also when called on its own (click keeps the help option a command
# first made: a command called without the group would otherwise lose -h for the rest of the process).
HELP = {"help_option_names": ["-h", "--help"]}

EXIT_CODES = (
    "Exit codes: 0 done; 1 a result or a copy failed; "
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
    "retention": "yellow",
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
    fix = getattr(exc, "fix", "")  # an error that knows its own fix (UsageProblem, NotFoundHere, ...)
    if isinstance(fix, str) and fix:
        return fix
    if isinstance(exc, ConfigError):
        return "fix the setting named above (environment variable or imsync.toml); `imsync doctor` checks them all"
    if isinstance(exc, AuthFailed):
        return "check HUAWEICLOUD_SDK_AK/SK (and the security token for temporary keys); `imsync doctor` helps"
    if isinstance(exc, (Unavailable, Throttled)):
        return "the service is busy or failing: try again in a few minutes"
    if isinstance(exc, OutcomeUnknown):
        return "check that the endpoint named above is reachable from here (`imsync doctor` tests each one)"
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
            # terraform's --detailed-exitcode keeps 2 for "changes pending": every error is 1 there
            settings_code = 1 if kwargs.get("detailed_exitcode") else 2
            fail(str(exc), _fix_for(exc), settings_code if isinstance(exc, ConfigError) else 1)
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


def _plain(cell: Any) -> str:
    """A cell's text without markup, on one line (a second line would break grep), "-" when empty."""
    if isinstance(cell, str):
        cell = Text.from_markup(cell)
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return " ".join(text.split()) or "-"


def plain_table(table: Table) -> list[str]:
    """The table as kubectl prints one: a header line and one line per row, columns aligned by spaces.

    No box drawing, no cell cut or wrapped, no line padded beyond its last column.
    """
    columns = [[_plain(column.header), *(_plain(cell) for cell in column.cells)] for column in table.columns]
    widths = [max(len(cell) for cell in column) for column in columns]
    rows = zip(*columns, strict=True) if columns else iter(())
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    title = _plain(table.title) if table.title else ""
    return ([title] if title and title != "-" else []) + lines


def print_table(console: Console, table: Table) -> None:
    """A rich table on a terminal; off one (pipes, CI, cron, logs) plain text lines that grep and awk read whole."""
    if console.is_terminal:
        console.print(table)
        return
    for line in plain_table(table):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def rule(console: Console, title: str) -> None:
    """A section heading: a rule across a terminal, a plain line off one."""
    if console.is_terminal:
        console.rule(title)
    else:
        console.print(f"== {title} ==", markup=False, soft_wrap=True)


def emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps({"version": JSON_VERSION, **data}, indent=2, sort_keys=False))


def results_table(title: str, rows: list[dict[str, Any]], wide: bool = False) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("section", "image", *(["image id"] if wide else []), "from", "region", "outcome", "reason"):
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
            *([item["image_id"]] if wide else []),
            item["source_region"],
            item["region"],
            f"{item['action']} {item['outcome']}",
            escape(item["reason"]),
        )
    return table


def report_errors(rt: Runtime | None, errors: list[tuple[str, str]]) -> None:
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


def counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do"


def result_errors(rows: list[dict[str, Any]], extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(region, reason) of each result in the error section, then the run's other errors (region "")."""
    return [(r["region"], r["reason"]) for r in rows if r["section"] == "error"] + [("", e) for e in extra]


def checked_scope(rt: Runtime, regions: tuple[str, ...]) -> None:
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


IMAGE_ID = re.compile(r"^[0-9a-fA-F-]{32,36}$")


def resolved_images(rt: Runtime, images: tuple[str, ...], regions: tuple[str, ...]) -> tuple[str, ...]:
    """Each --image as an image ID: an ID as given, a name looked up among the source images in scope.

    A name no source image has exits 1; a name several have exits 2 with the candidates' IDs.
    """
    if all(IMAGE_ID.match(value) for value in images):
        return images
    where = regions or rt.settings.source_regions
    sources = [i for region in where for i in rt.store(region).list_own_images() if not i.is_replica]
    ids = []
    for value in images:
        named = [i for i in sources if i.name == value]
        if IMAGE_ID.match(value):
            ids.append(value)
        elif len(named) == 1:
            ids.append(named[0].id)
        elif not named:
            raise NotFoundHere(
                f"--image {value}: no source image has this name or ID in {', '.join(where)}",
                "check the name (`imsync status` lists the opted-in images; --wide shows their IDs)",
            )
        else:
            candidates = ", ".join(f"{i.id} ({i.region})" for i in sorted(named, key=lambda i: (i.region, i.id)))
            raise UsageProblem(
                f"--image {value}: {len(named)} source images have this name: {candidates}",
                "give the ID of the one you mean",
            )
    return tuple(dict.fromkeys(ids))


def wide_option(command: F) -> F:
    """--wide: the tables show image IDs too (names are what IMS lets several images share)."""
    return click.option("--wide", is_flag=True, help="Show image IDs in the table too.")(command)


def checked_images(rt: Runtime, images: tuple[str, ...]) -> None:
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


def warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"warning: {line}", err=True)
