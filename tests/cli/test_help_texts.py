"""Each command's help says its own exit codes and true defaults; package's usage errors read like imsync's."""

from __future__ import annotations

import pytest

from imsync.cli import COMMANDS


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_an_exit_code_epilog(run, command):
    result = run(command, "-h")

    assert result.exit_code == 0, result.output
    assert "Exit codes: 0" in result.stdout
    assert ("check" in result.stdout.split("Exit codes:")[1]) == (command == "doctor")  # only doctor has checks


def test_accept_says_its_region_default(run):
    text = " ".join(run("accept", "-h").stdout.split())

    assert "default IMSYNC_ACCEPT_REGIONS, else the home region" in text
    assert "default all" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: --platform is missing"),
        (["--platform", "azure"], "error: --platform azure is not a platform imsync knows"),
        (["--platform", "aws", "--python", "2.7"], "error: --python 2.7 is not a supported runtime"),
    ],
)
def test_package_usage_errors_are_error_and_fix_lines(run, args, message):
    result = run("package", *args)

    lines = result.stderr.splitlines()
    assert result.exit_code == 2
    assert lines[0].startswith(message) and lines[1].startswith("  fix: ")
    assert "Usage:" not in result.stderr


def test_dash_h_works_even_after_a_command_was_called_on_its_own():
    # CI found it: a test that called `package` without the group made click keep a help option without -h, and
    # `imsync package -h` failed for the rest of the process (only in some orders of the tests).
    from click.testing import CliRunner

    from imsync.cli import cli

    context = cli.make_context("imsync", ["--help"], resilient_parsing=True)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        alone = CliRunner().invoke(command, ["--help"])
        grouped = CliRunner().invoke(cli, [name, "-h"])
        assert alone.exit_code == 0 and grouped.exit_code == 0, (name, grouped.output)
