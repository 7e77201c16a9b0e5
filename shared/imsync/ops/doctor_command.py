"""`imsync doctor`: print each check of the pre-flight checklist as it completes, or --json."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from imsync.ops.command_kit import COLOURS, EXIT_CODES, common_options, console_for, emit_json
from imsync.ops.runtime import open_runtime


@click.command("doctor", epilog=EXIT_CODES)
@common_options
def doctor(as_json: bool, use_emulator: bool, config: str | None) -> None:
    """Pre-flight checklist: settings, credentials, projects, the copy agency, share aliases, quota."""
    from imsync.doctor.check import Check
    from imsync.doctor.checklist import run_checks

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
