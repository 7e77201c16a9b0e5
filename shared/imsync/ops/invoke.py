"""`imsync invoke FUNCTION EVENT.json`: run a function's handler locally on an event, print its summary.

The local twin of `sam local invoke`: the deployed handler code (functions/<name>/handler.py), the event as
a trigger would deliver it (FunctionGraph timer, CTS or direct; EventBridge; see events/), and the
current settings (or, with --emulator, a fresh emulator with the demo estate). The function's JSON log
lines go to stderr with --logs, else nowhere, so stdout carries only the summary.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from imsync.domain.errors import RunFailed
from imsync.ops.command_kit import EXIT_CODES, HELP, UsageProblem, common_options, console_for, emit_json, print_table
from imsync.ops.runtime import open_runtime

SAMPLES = Path("events")


def functions() -> dict[str, Callable[..., dict[str, Any]]]:
    """The deployable functions: functions/<name>/handler.py of this checkout."""
    from imsync import function_files

    return {name: function_files.handler(name) for name in function_files.names()}


def _function(name: str) -> Callable[..., dict[str, Any]]:
    known = functions()
    found = known.get(name.replace("-", "_"))
    if found is None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageProblem(f"no function named {name}", f"{hint}functions: {', '.join(sorted(known))}")
    return found


def _event(path: str) -> Any:
    """The event document: a file, "-" for standard input, or the name of a sample in ./events (timer, ...)."""
    if path == "-":
        return _parsed(sys.stdin.read(), "standard input")
    file = Path(path)
    if not file.is_file() and (SAMPLES / f"{path}.json").is_file():
        file = SAMPLES / f"{path}.json"
    if not file.is_file():
        samples = ", ".join(sorted(p.stem for p in SAMPLES.glob("*.json"))) or "none here"
        raise UsageProblem(f"{path}: no such event file", f"give a JSON file; samples in ./events: {samples}")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageProblem(f"{file}: not valid JSON ({exc})", "give the event as one JSON document") from None
    return _parsed(text, str(file))


def _parsed(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageProblem(f"{source}: not valid JSON ({exc})", "give the event as one JSON document") from None


@click.command("invoke", context_settings=HELP, epilog=EXIT_CODES)
@click.argument("function_name", metavar="FUNCTION")
@click.argument("event_file", metavar="EVENT.json")
@click.option("--logs", is_flag=True, help="Show the function's JSON log lines (on stderr).")
@common_options
def invoke(
    function_name: str, event_file: str, logs: bool, as_json: bool, use_emulator: bool, config: str | None
) -> None:
    """Run a function's handler locally on an event (a file, - for stdin, or a sample name from events/)."""
    handler = _function(function_name)
    event = _event(event_file)
    with open_runtime(config, use_emulator) as rt:
        from imsync.emulator.environment import environment

        sink = sys.stderr if logs else io.StringIO()
        with environment(dict(rt.env)), contextlib.redirect_stdout(sink):
            try:
                answer = handler(event, None)
            except RunFailed as failed:  # what the platform counts as a failed invocation: shown, exit code 1
                answer = failed.summary
    if as_json:
        emit_json({"command": "invoke", **answer})
    else:
        _show(answer)
    if not answer.get("ok"):
        sys.exit(1)


def _show(answer: dict[str, Any]) -> None:
    console = console_for(False)
    table = Table("image", "region", "action", "outcome", "reason", title=f"{answer['function']}", title_justify="left")
    for result in answer.get("results", []):
        keys = ("image_id", "region", "action", "outcome", "reason")
        table.add_row(*(escape(str(result.get(key, ""))) for key in keys))
    if answer.get("results"):
        print_table(console, table)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in answer.get("counts", {}).items()) or "no results"
    dry = " (dry run)" if answer.get("dry_run") else ""
    console.print(f"ok: {str(answer.get('ok')).lower()}{dry}; {counts}", markup=False)
    for error in answer.get("errors", []) + ([answer["error"]] if answer.get("error") else []):
        click.echo(f"error: {error}", err=True)
