"""The click command `imsync package`: its options, and a PackagingError shown as a plain error message."""

from __future__ import annotations

from pathlib import Path

import click

from imsync.packaging import PackagingError
from imsync.packaging.build import PLATFORMS, PYTHONS, build_packages


@click.command("package")
@click.option("--platform", "platform", type=click.Choice(PLATFORMS), required=True, help="Where to deploy.")
@click.option(
    "--python",
    "python",
    type=click.Choice(PYTHONS),
    default="3.12",
    show_default=True,
    help="Runtime version.",
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
    platform: str, python: str, out: Path, no_deps: bool, no_compile: bool, compile_with: str | None
) -> None:
    """Build the deployment zip(s) for FunctionGraph or AWS Lambda and print their sizes."""
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
        raise click.ClickException(str(exc)) from None
