"""`imsync emulator`: serve the emulator on 127.0.0.1 and print the variables that point at it."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from pathlib import Path

import click

from .clock import ScaledClock
from .core import DEFAULT_REGIONS, Emulator
from .seed import SeedError, load_seed


def export_lines(cloud: Emulator, agency: str | None) -> list[str]:
    """`export NAME=VALUE` lines: the SDK variables plus the imsync settings of a deployment in the first region.

    The first region is home and source; the others may be named by tags; every other account is a share
    target alias, with its project in each region.
    """
    env = dict(cloud.env)
    home, *others = cloud.regions
    env["IMSYNC_HOME_REGION"] = home
    env["IMSYNC_ALLOWED_REGIONS"] = ",".join(others)
    if agency:
        env["IMSYNC_AGENCY"] = agency
    env["IMSYNC_SHARE_TARGETS"] = json.dumps(
        {
            name: {r: [pid] for r, pid in acc.projects.items()}
            for name, acc in cloud.accounts.items()
            if name != "owner"
        },
        separators=(",", ":"),
    )
    return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


@click.command("emulator")
@click.option(
    "--regions",
    default=",".join(DEFAULT_REGIONS),
    show_default=True,
    help="Comma-separated region ids to emulate (one IMS port each).",
)
@click.option("--seed", "seed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="JSON seed.")
@click.option("--speed", default=60.0, show_default=True, type=float, help="Emulated seconds per real second.")
@click.option("--agency", default="imsync-copy", show_default=True, help="Owner's IAM agency created at start.")
@click.option("--quota", default=50, show_default=True, type=int, help="Private images per region per account.")
def emulator(regions: str, seed_file: Path | None, speed: float, agency: str, quota: int) -> None:
    """Serve the IMS and IAM APIs locally until interrupted; prints `export` lines first."""
    names = tuple(r.strip() for r in regions.split(",") if r.strip())
    if not names:
        raise click.BadParameter("name at least one region", param_hint="--regions")
    seed = None
    if seed_file is not None:
        try:
            seed = json.loads(seed_file.read_text())
        except ValueError as exc:
            raise click.BadParameter(f"{seed_file}: not valid JSON ({exc})", param_hint="--seed") from exc
    stop = threading.Event()
    with Emulator(regions=names, clock=ScaledClock(speed), agency=agency or None, image_quota=quota) as cloud:
        if seed is not None:
            try:
                load_seed(cloud, seed)
            except SeedError as exc:
                raise click.BadParameter(str(exc), param_hint="--seed") from exc
        for line in export_lines(cloud, agency or None):
            click.echo(line)
        sys.stdout.flush()
        click.echo(
            f"# imsync emulator: {len(names)} regions, IAM at {cloud.endpoints['iam']}; Ctrl-C stops",
            err=True,
        )
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    click.echo("# imsync emulator stopped", err=True)
