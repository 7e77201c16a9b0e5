"""`imsync emulator`: serve the emulator on 127.0.0.1 and print the variables that point at it."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import stat
import string
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

import click

from imsync.config import REGION_ID

from .clock import ScaledClock
from .core import DEFAULT_REGIONS, Emulator
from .seed import SeedError, load_seed

TRY_IMAGE = "golden"  # the demo estate's one untagged image: what `imsync tag` is tried on


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


EMULATED_VAULT = "0000000000-emulated-cbr-vault"  # the emulator accepts any vault ID for a whole-ECS image
OWNER_ONLY = ("IMSYNC_SOURCE_REGIONS", "IMSYNC_ALLOWED_REGIONS", "IMSYNC_AGENCY", "IMSYNC_SHARE_TARGETS")


def partner_lines(cloud: Emulator) -> list[str]:
    """The partner account's settings: the recipient of the owner's shares, which `imsync accept` runs as.

    Sourced after the owner's lines, they replace its keys and drop the settings only the owner uses.
    """
    partner = cloud.recipient
    env = {
        **cloud.env,
        "HUAWEICLOUD_SDK_AK": partner.ak,
        "HUAWEICLOUD_SDK_SK": partner.sk,
        "HUAWEICLOUD_SDK_DOMAIN_ID": partner.domain_id,
        "IMSYNC_HOME_REGION": cloud.regions[0],
        "IMSYNC_ACCEPT_REGIONS": ",".join(cloud.regions),
        "IMSYNC_TRUSTED_OWNERS": ",".join(cloud.owner.projects[r] for r in cloud.regions),
        "IMSYNC_VAULTS": json.dumps({r: EMULATED_VAULT for r in cloud.regions}, separators=(",", ":")),
    }
    return [f"unset {' '.join(OWNER_ONLY)}", *(f"export {k}={shlex.quote(v)}" for k, v in env.items())]


def _write_partner_file(cloud: Emulator, path: Path) -> None:
    try:
        path.write_text("\n".join(partner_lines(cloud)) + "\n", encoding="utf-8")
    except OSError as exc:
        _refuse("--partner-env", f"{path}: cannot write it ({exc.strerror})")


def _derived(port: int, account: str, what: str, size: int, alphabet: str) -> str:
    """A value that is the same on every start with this port: exported settings survive a restart."""
    digest = hashlib.sha256(f"imsync-emulator:{port}:{account}:{what}".encode()).digest() * 2
    return "".join(alphabet[b % len(alphabet)] for b in digest[:size])


def fix_identities(cloud: Emulator, port: int) -> None:
    """With --port: every account's keys, domain and project IDs derive from the port, not chance."""
    upper, letters, hexdigits = (
        string.ascii_uppercase + string.digits,
        string.ascii_letters + string.digits,
        "0123456789abcdef",
    )
    for name, account in cloud.accounts.items():
        cloud.rekey_account(
            account,
            domain_id=_derived(port, name, "domain", 32, hexdigits),
            ak=_derived(port, name, "ak", 20, upper),
            sk=_derived(port, name, "sk", 40, letters),
            projects={r: _derived(port, name, f"project:{r}", 32, hexdigits) for r in cloud.regions},
        )


def redirected_to() -> str:
    """The file standard output was redirected to (`imsync emulator > FILE`), or "" (a terminal, a pipe)."""
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.readlink(f"/proc/self/fd/{fd}")  # Linux; elsewhere the hint names a placeholder file
    except (OSError, ValueError, AttributeError):
        return ""


def _refuse(option: str, message: str) -> NoReturn:
    """One line and exit 2: a bad option or seed is the operator's to fix, never a traceback."""
    click.echo(f"error: {option}: {message}", err=True)
    sys.exit(2)


def _regions(regions: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(r.strip() for r in regions.split(",") if r.strip()))
    if not names:
        _refuse("--regions", "name at least one region, e.g. cn-north-4,cn-east-3")
    bad = [r for r in names if not REGION_ID.match(r)]
    if bad:
        _refuse("--regions", f"{bad[0]!r} is not a region ID like cn-north-4")
    return names


def _read_seed(seed_file: Path) -> Any:
    try:
        return json.loads(seed_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        _refuse("--seed", f"{seed_file}: cannot read it ({exc})")
    except ValueError as exc:
        _refuse("--seed", f"{seed_file}: not valid JSON ({exc})")


def _seed(cloud: Emulator, seed: Any, seed_file: Path | None, empty: bool) -> str:
    """Load the seed file, or the demo estate plus one untagged image to try `imsync tag` on; what was seeded."""
    if seed is not None:
        try:
            load_seed(cloud, seed)
        except SeedError as exc:
            _refuse("--seed", f"{seed_file}: {exc}")
        return f"the seed {seed_file}"
    if empty:
        return "no images (--empty)"
    from imsync.demo.estate import REGIONS, seed_demo_estate

    missing = [r for r in REGIONS if r not in cloud.regions]
    if missing or cloud.regions[0] != REGIONS[0]:
        _refuse("--regions", f"the demo estate needs {','.join(REGIONS)} (in that order): add --empty, or --seed FILE")
    estate = seed_demo_estate(cloud)
    cloud.region(REGIONS[0]).add_image(name=TRY_IMAGE, size_gb=10, tags={"team": "web"})
    return f"the demo estate ({len(estate.names) + 1} images in {REGIONS[0]}; --empty for none)"


def next_steps(cloud: Emulator, env_file: str = "", partner_file: str = "") -> list[str]:
    """What to try next, as shell comments: where the exports are (or go), then tag, plan and apply, then accept."""
    targets = ",".join(cloud.regions[1:3])
    partners = [name for name in cloud.accounts if name != "owner"]
    share = f" --share {partners[0]}" if partners else ""
    # --empty or a seed may have no image to try: then name the placeholder the operator fills in.
    tagged = TRY_IMAGE if any(i.name == TRY_IMAGE for i in cloud.region(cloud.regions[0]).images()) else "IMAGE_ID"
    saved = (
        f"# try next (the export lines are in {env_file}):"
        if env_file
        else "# try next (with the export lines above saved: imsync emulator > /tmp/imsync-emulator.env &):"
    )
    return [
        saved,
        f"#   . {env_file or '/tmp/imsync-emulator.env'}",
        f"#   imsync tag {tagged} --regions {targets}{share}",
        "#   imsync plan",
        "#   imsync apply --wait --poll 2s",
        *(
            [f"# then, as the partner account (the recipient): . {partner_file}; imsync accept"]
            if partner_file
            else ["# the recipient's side (imsync accept as the partner account): start with --partner-env FILE"]
        ),
    ]


@click.command(
    "emulator",
    context_settings={"help_option_names": ["-h", "--help"]},  # as every imsync command (ops/command_kit.py HELP)
    epilog="Exit codes: 0 stopped (Ctrl-C or SIGTERM); 2 a bad option or seed file (nothing was started).",
)
@click.option(
    "--regions",
    default=",".join(DEFAULT_REGIONS),
    show_default=True,
    help="Comma-separated region ids to emulate (one IMS port each).",
)
@click.option("--seed", "seed_file", type=click.Path(dir_okay=False, path_type=Path), help="JSON seed file.")
@click.option("--empty", is_flag=True, help="Start with no images (default: the demo estate).")
@click.option("--speed", default=60.0, show_default=True, type=float, help="Emulated seconds per real second.")
@click.option("--agency", default="imsync-copy", show_default=True, help="Owner's IAM agency created at start.")
@click.option("--quota", default=50, show_default=True, type=int, help="Private images per region per account.")
@click.option(
    "--partner-env",
    "partner_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the partner account's settings (the recipient, for `imsync accept`) to this file.",
)
@click.option(
    "--port",
    default=0,
    type=int,
    help="IAM's port (the regions take the next ones); with it, keys and IDs are the same on every start.",
)
def emulator(
    regions: str,
    seed_file: Path | None,
    empty: bool,
    speed: float,
    agency: str,
    quota: int,
    partner_file: Path | None,
    port: int,
) -> None:
    """Serve the IMS and IAM APIs locally until interrupted; prints `export` lines first, then what to try."""
    names = _regions(regions)
    if not speed > 0 or speed > 1e6:
        _refuse("--speed", f"{speed:g} emulated seconds per real second: give a number above 0 (60: a minute a second)")
    if quota < 1:
        _refuse("--quota", f"{quota} private images per region: give 1 or more")
    if seed_file is not None and empty:
        _refuse("--empty", "--seed already says what to load; give one of them")
    if port and not 1024 <= port <= 65535 - len(names):
        _refuse("--port", f"{port}: give a port from 1024 to {65535 - len(names)} (the regions take the next ones)")
    seed = _read_seed(seed_file) if seed_file is not None else None
    stop = threading.Event()
    try:
        cloud = Emulator(regions=names, clock=ScaledClock(speed), agency=agency or None, image_quota=quota, port=port)
    except OSError as exc:
        _refuse("--port", f"ports {port}-{port + len(names)} on 127.0.0.1: {exc.strerror}; choose another --port")
    with cloud:
        if port:
            fix_identities(cloud, port)
            if agency:
                cloud.set_agency(agency)  # its grants name the projects, whose IDs just changed
        seeded = _seed(cloud, seed, seed_file, empty)
        for line in export_lines(cloud, agency or None):
            click.echo(line)
        sys.stdout.flush()
        if partner_file is not None:
            _write_partner_file(cloud, partner_file)
        click.echo(
            f"# imsync emulator: {len(names)} regions, IAM at {cloud.endpoints['iam']}, with {seeded}; Ctrl-C stops",
            err=True,
        )
        for line in next_steps(cloud, redirected_to(), str(partner_file or "")):
            click.echo(line, err=True)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    click.echo("# imsync emulator stopped", err=True)
