"""imsync's command line: the operator commands, the emulator, the demo and packaging."""

from __future__ import annotations

import difflib
import importlib
import json
import sys

import click

# Commands are imported only when used, so `imsync --help` stays fast and light.
COMMANDS = {
    "demo": "imsync.demo.runner:demo_command",
    "emulator": "imsync.emulator.command:emulator",
    "package": "imsync.packaging.command:package_command",
    "plan": "imsync.ops.plan_command:plan",
    "apply": "imsync.ops.apply_command:apply",
    "status": "imsync.ops.status_command:status",
    "doctor": "imsync.ops.doctor_command:doctor",
    "accept": "imsync.ops.accept:accept",
    "tag": "imsync.ops.tag:tag",
    "invoke": "imsync.ops.invoke:invoke",
}

EPILOG = """\b
Exit codes: 0 done; 1 a result, check or copy failed; 2 a settings or usage error (nothing was done);
130 interrupted (Ctrl-C).
\b
Start here: `imsync emulator` (a local cloud with a demo estate), `imsync doctor` (checks a real setup).
Shell completion: eval "$(_IMSYNC_COMPLETE=bash_source imsync)" (zsh_source, fish_source): docs/cli.md.
"""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module, _, attr = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint} Commands: {', '.join(self.list_commands(ctx))}.")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imsync")
def cli() -> None:
    """Keep Huawei Cloud IMS images replicated across regions and shared with other accounts."""


def main() -> None:
    """Console script entry point."""
    try:
        code = cli.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        # with --detailed-exitcode (terraform's meaning) 2 says "changes pending": a usage error is 1 there
        exit_code = 1 if "--detailed-exitcode" in sys.argv[1:] else exc.exit_code
        if "--json" in sys.argv[1:]:  # a script asked for JSON: a usage error is one JSON document too
            command = next((a for a in sys.argv[1:] if a in COMMANDS), "")
            error = {"command": command, "ok": False, "error": exc.format_message(), "exit_code": exit_code}
            click.echo(json.dumps({"version": 1, **error}, indent=2))
        sys.exit(exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):  # pragma: no cover - interactive only
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
