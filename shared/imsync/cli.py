"""imsync's command line: demo, emulator, package (and the operator commands as they land)."""

from __future__ import annotations

import importlib
import sys

import click

# Commands are imported only when used, so `imsync --help` stays fast and light.
COMMANDS = {
    "demo": "imsync.demo:demo_command",
    "emulator": "imsync.emulator.command:emulator",
    "package": "imsync.packaging:package_command",
    "plan": "imsync.ops.commands:plan",
    "apply": "imsync.ops.commands:apply",
    "status": "imsync.ops.commands:status",
    "doctor": "imsync.ops.commands:doctor",
    "accept": "imsync.ops.accept:accept",
}


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


@click.group(cls=LazyGroup)
@click.version_option(package_name="imsync")
def cli() -> None:
    """Keep Huawei Cloud IMS images replicated across regions and shared with other accounts."""


def main() -> None:
    """Console script entry point."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
