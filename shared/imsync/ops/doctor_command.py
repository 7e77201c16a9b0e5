"""`imsync doctor`: print each check of the pre-flight checklist as it completes, or --json."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from imsync.ops.command_kit import COLOURS, HELP, common_options, console_for, emit_json
from imsync.ops.runtime import open_runtime

DOCTOR_EXIT_CODES = (
    "Exit codes: 0 every check passed; 1 a check failed, warned or could not run; 2 a settings error "
    "(the settings or the settings file check failed, as plan would report it); 130 interrupted (Ctrl-C)."
)


@click.command("doctor", context_settings=HELP, epilog=DOCTOR_EXIT_CODES)
@common_options
def doctor(as_json: bool, use_emulator: bool, config: str | None) -> None:
    """Pre-flight checklist: settings, credentials, projects, the copy agency, share aliases, quota."""
    from imsync.doctor.check import FAIL, Check
    from imsync.doctor.checklist import SETTINGS_CHECKS, run_checks

    console = console_for(as_json)

    def show(check: Check) -> None:
        if as_json:
            return
        colour = COLOURS[check.status]
        console.print(f"[{colour}]{check.status.upper():<4}[/{colour}] {escape(check.name)}: {escape(check.detail)}")
        if check.fix and not check.passed:
            console.print(f"     [dim]fix:[/dim] {escape(check.fix)}")

    with open_runtime(config, use_emulator, lenient=True) as rt:
        if not as_json:
            console.print(f"settings file: {escape(_file_line(rt.settings_file))}")
        checks = run_checks(rt, show)
    ok = all(c.passed for c in checks)
    if as_json:
        emit_json(
            {"command": "doctor", "ok": ok, "settings_file": rt.settings_file, "checks": [c.as_dict() for c in checks]}
        )
    else:
        failed = sum(1 for c in checks if not c.passed)
        console.print("all checks pass" if ok else f"{failed} of {len(checks)} checks did not pass")
    if any(c.name in SETTINGS_CHECKS and c.status == FAIL for c in checks):
        sys.exit(2)  # a settings error, as plan and apply report it
    if not ok:
        sys.exit(1)


def _file_line(path: str) -> str:
    if path:
        return path
    return "none (no ./imsync.toml, and neither --config nor IMSYNC_CONFIG names one): the environment only"
