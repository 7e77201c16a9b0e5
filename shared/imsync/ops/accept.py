"""`imsync accept`: what accept_shares does, from the command line, as the recipient account."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from imsync.domain.commands import AcceptTrigger
from imsync.domain.outcomes import Outcome
from imsync.emulator.environment import environment
from imsync.ops.command_kit import HELP, common_options, console_for, print_table
from imsync.ops.runtime import Runtime, open_runtime

COLOURS = {
    Outcome.ACCEPTED: "green",
    Outcome.PLANNED: "cyan",
    Outcome.UNTRUSTED: "yellow",
    Outcome.REFUSED: "yellow",
    Outcome.WAITING: "blue",
}
EMULATED_VAULT = "0000000000-emulated-cbr-vault"


@contextmanager
def recipient_runtime(config: str | None, use_emulator: bool) -> Iterator[Runtime]:
    """The real settings, or a fresh emulator where the partner account has shares waiting for it."""
    if not use_emulator:
        with open_runtime(config, False) as rt:
            yield rt
        return
    from imsync.demo.estate import REGIONS
    from imsync.emulator import Emulator, ManualClock

    with Emulator(regions=REGIONS, clock=ManualClock()) as cloud, environment(seed_recipient_inbox(cloud)):
        yield Runtime(dict(os.environ), emulator=cloud)


def seed_recipient_inbox(cloud: Any, home: str = "cn-north-4") -> dict[str, str]:
    """Shares pending for the partner (two from the trusted owner, one from a stranger); returns its environment."""
    partner = cloud.recipient.projects[home]
    stranger = cloud.add_account("stranger")
    region = cloud.region(home)
    for name, owner, whole in (("web-base", cloud.owner, False), ("db-server", cloud.owner, True)):
        region.add_image(name=name, owner=owner, whole_image=whole, members={partner: "pending"})
    region.add_image(name="unknown-tool", owner=stranger, members={partner: "pending"})
    env = dict(cloud.env)
    env.update(
        {
            "HUAWEICLOUD_SDK_AK": cloud.recipient.ak,
            "HUAWEICLOUD_SDK_SK": cloud.recipient.sk,
            "HUAWEICLOUD_SDK_DOMAIN_ID": cloud.recipient.domain_id,
            "IMSYNC_HOME_REGION": home,
            "IMSYNC_TRUSTED_OWNERS": cloud.owner.projects[home],
            "IMSYNC_VAULTS": json.dumps({home: EMULATED_VAULT}),
        }
    )
    return env


ACCEPT_EXIT_CODES = (
    "Exit codes: 0 done; 1 a read or an accept failed; 2 a settings or usage error (nothing was done); "
    "130 interrupted (Ctrl-C)."
)


@click.command("accept", context_settings=HELP, epilog=ACCEPT_EXIT_CODES)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Region to accept shares in (repeatable; default IMSYNC_ACCEPT_REGIONS, else the home region).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be accepted; change nothing.")
@common_options
def accept(regions: tuple[str, ...], dry_run: bool, as_json: bool, use_emulator: bool, config: str | None) -> None:
    """As the recipient: accept the images trusted owners shared (IMSYNC_TRUSTED_OWNERS); report the others."""
    from imsync.bootstrap import wire_acceptor
    from imsync.retry import Deadline

    with recipient_runtime(config, use_emulator) as rt:
        acceptor = wire_acceptor(rt.settings, rt.credentials, Deadline())
        answer = acceptor.accept(AcceptTrigger(regions=regions, dry_run=dry_run or None)).as_dict()
    if as_json:
        click.echo(json.dumps({"version": 1, "command": "accept", **_without_function(answer)}, indent=2))
    else:
        _show(answer)
    errors = [r["reason"] for r in answer["results"] if r["outcome"] == Outcome.ERROR] + answer["errors"]
    for error in errors[:1]:
        click.echo(f"error: {error}", err=True)
        click.echo("  fix: run `imsync doctor` with the recipient's keys; the next run tries again", err=True)
    if not answer["ok"]:
        sys.exit(1)


def _without_function(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "function"}


def _show(answer: dict[str, Any]) -> None:
    console = console_for(False)
    title = "imsync accept" + (" (dry run: nothing is changed)" if answer["dry_run"] else "")
    table = Table("image", "region", "owner", "outcome", "reason", title=title, title_justify="left")
    for result in answer["results"]:
        colour = COLOURS.get(result["outcome"], "red")
        image = result.get("image_id", "")
        table.add_row(
            escape(result.get("image_name") or image or "-"),
            result["region"],
            result.get("owner", ""),
            f"[{colour}]{result['outcome']}[/{colour}]",
            escape(result.get("reason", "")),
        )
    print_table(console, table)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in answer["counts"].items()) or "no pending shares"
    console.print(counts)
