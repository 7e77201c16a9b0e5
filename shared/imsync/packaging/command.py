"""The click command `imsync package`: its options; usage errors and a PackagingError as error: and fix: lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from imsync.ops.command_kit import HELP
from imsync.packaging import PackagingError
from imsync.packaging.build import PLATFORMS, PYTHONS, build_packages

EXIT_CODES = "Exit codes: 0 the zips were built; 1 the build failed; 2 a usage error (nothing was built)."


def _fail(message: str, fix: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    click.echo(f"  fix: {fix}", err=True)
    sys.exit(code)


@click.command("package", context_settings=HELP, epilog=EXIT_CODES)
@click.option("--platform", "platform", metavar="|".join(PLATFORMS), help="Where to deploy (required).")
@click.option(
    "--python", "python", metavar="|".join(PYTHONS), default="3.12", show_default=True, help="Runtime version."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Output directory; zips go to OUT/<platform>-py<version>/.",
)
@click.option("--no-deps", is_flag=True, help="Package imsync and the handlers without dependencies.")
@click.option("--no-compile", is_flag=True, help="Ship sources only, without precompiled .pyc.")
@click.option(
    "--compile-with",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Python interpreter of the target version used to precompile .pyc (found automatically if omitted).",
)
def package_command(
    platform: str | None, python: str, out: Path, no_deps: bool, no_compile: bool, compile_with: str | None
) -> None:
    """Build the deployment zip(s) for FunctionGraph or AWS Lambda and print their sizes."""
    # Checked here rather than by click, so that a usage error reads like every other imsync error.
    if platform not in PLATFORMS:
        given = "--platform is missing" if platform is None else f"--platform {platform} is not a platform imsync knows"
        _fail(given, f"add --platform {' or --platform '.join(PLATFORMS)}", 2)
    if python not in PYTHONS:
        _fail(f"--python {python} is not a supported runtime", f"use --python {' or '.join(PYTHONS)}", 2)
    try:
        build_packages(
            platform,
            python,
            out,
            include_dependencies=not no_deps,
            compile_pyc=not no_compile,
            compile_with=compile_with,
            echo=click.echo,
        )
    except PackagingError as exc:
        _fail(str(exc), "correct what the message names and run `imsync package` again", 1)
