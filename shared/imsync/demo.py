"""`imsync demo`: the whole story on the embedded emulator, with the real handlers and the real SDK.

A small estate is seeded (eligible images with different policies, an ISO image, an encrypted one, one
too large, one still being created, one whose replica was deleted by hand, a partner account to share
with); then create events, completion polls and DR runs are driven while the emulator's clock runs,
and the partner account's accept_shares accepts what the owner shared (and leaves a stranger's share
pending). The demo checks the end state itself and exits non-zero when it is not right.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from imsync.domain.model import TAG_SOURCE
from imsync.emulator import Emulator
from imsync.emulator.environment import environment

HOME = "cn-north-4"
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
DESTINATIONS = REGIONS[1:]
TICK = 60.0  # emulated seconds between steps
POLL_EVERY = 2  # ticks between completion polls (deployed default: 5 minutes)
DR_EVERY = 10  # ticks between DR runs (deployed default: daily; compressed for the demo)
BAKED_AT = 6  # tick at which the image that is still being created becomes active
MAX_TICKS = 180


@dataclass
class DemoEstate:
    """What was seeded, and what the end state must be."""

    env: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)  # image ID -> name
    expected: dict[str, tuple[str, ...]] = field(default_factory=dict)  # image ID -> regions it must reach
    shared: set[str] = field(default_factory=set)  # image IDs whose replicas must be shared with the partner
    refused: dict[str, str] = field(default_factory=dict)  # image ID -> words the refusal must contain
    with_events: list[str] = field(default_factory=list)  # images that get a create event at the start
    baking: str = ""
    partner_env: dict[str, str] = field(default_factory=dict)  # accept_shares in the partner account
    untrusted: str = ""  # a stranger's image shared with the partner: must stay pending


def seed_partner(cloud: Emulator, estate: DemoEstate) -> None:
    """The partner account's accept_shares deployment, trusting the owner, and a stranger's share it must not accept."""
    stranger = cloud.add_account("stranger")
    image = cloud.region(HOME).add_image(
        name="unknown-tool", owner=stranger, members={cloud.recipient.projects[HOME]: "pending"}
    )
    estate.untrusted = image.id
    env = dict(cloud.env)
    env.update(
        {
            "HUAWEICLOUD_SDK_AK": cloud.recipient.ak,
            "HUAWEICLOUD_SDK_SK": cloud.recipient.sk,
            "HUAWEICLOUD_SDK_DOMAIN_ID": cloud.recipient.domain_id,
            "IMSYNC_HOME_REGION": HOME,
            "IMSYNC_ACCEPT_REGIONS": ",".join(REGIONS),
            "IMSYNC_TRUSTED_OWNERS": ",".join(cloud.owner.projects[r] for r in REGIONS),
        }
    )
    estate.partner_env = env


def seed_demo_estate(cloud: Emulator) -> DemoEstate:
    """Seed the demo's images and return the environment that points imsync at the emulator."""
    partner = {region: [cloud.recipient.projects[region]] for region in REGIONS}
    env = dict(cloud.env)
    env.update(
        {
            "IMSYNC_HOME_REGION": HOME,
            "IMSYNC_SOURCE_REGIONS": HOME,
            "IMSYNC_ALLOWED_REGIONS": ",".join(DESTINATIONS),
            "IMSYNC_AGENCY": "imsync-copy",
            "IMSYNC_SHARE_TARGETS": json.dumps({"partner": partner}),
        }
    )
    estate = DemoEstate(env)
    home = cloud.region(HOME)

    def add(name: str, regions: str, *, share: bool = False, event: bool = True, **kw: Any) -> str:
        tags = {"imsync-regions": regions, "team": "platform", **kw.pop("tags", {})}
        if share:
            tags["imsync-share"] = "partner"
        image = home.add_image(name=name, tags=tags, **kw)
        estate.names[image.id] = name
        if event:
            estate.with_events.append(image.id)
        return image.id

    for name, regions, size in (
        ("web-base", "cn-east-3_ap-southeast-1", 40),
        ("db-base", "cn-east-3_cn-south-1_ap-southeast-1", 80),
        ("app-1", "cn-east-3_cn-south-1", 20),
        ("app-2", "cn-east-3_cn-south-1", 20),
        ("app-3", "cn-east-3_cn-south-1", 20),
    ):
        image_id = add(name, regions, share=True, size_gb=size)
        estate.expected[image_id] = tuple(regions.split("_"))
        estate.shared.add(image_id)
    nightly = add("nightly", "cn-south-1", size_gb=20, tags={"imsync-when": "schedule"})
    estate.expected[nightly] = ("cn-south-1",)
    estate.baking = add("baking", "cn-east-3", share=True, status="saving", size_gb=30)
    estate.expected[estate.baking] = ("cn-east-3",)
    estate.shared.add(estate.baking)
    for name, kw, words in (
        ("installer", {"iso": True}, "ISO images cannot be copied"),
        ("vault-key", {"encrypted": True}, "encrypted images cannot be copied"),
        ("warehouse", {"size_gb": 350}, "IMS copies at most 300 GB"),
    ):
        estate.refused[add(name, "cn-east-3", **kw)] = words
    # An image from before imsync was deployed: no event ever comes for it. Its cn-south-1 replica
    # exists; its cn-east-3 replica was deleted by hand. The DR run must notice and backfill.
    legacy = add("legacy", "cn-east-3_cn-south-1", event=False, size_gb=20)
    estate.expected[legacy] = ("cn-east-3", "cn-south-1")
    cloud.region("cn-south-1").add_image(
        name=f"copy_{HOME}_legacy",
        description=f"imsync:source={HOME}/{legacy} copied by imsync",
        tags={TAG_SOURCE: legacy, "imsync-source-region": HOME, "team": "platform"},
        size_gb=20,
    )
    return estate


def _cts_create_event(image_id: str) -> dict[str, Any]:
    return {
        "cts": {
            "service_type": "IMS",
            "resource_type": "image",
            "trace_name": "createImage",
            "trace_status": "normal",
            "code": "200",
            "resource_id": image_id,
        }
    }


NOTEWORTHY = {"started", "done", "refused", "deferred", "failed", "error", "accepted", "untrusted"}
SAID_ONCE = {"deferred", "refused", "untrusted"}  # repeated on every run until something changes


class Demo:
    """Drives the handlers over emulated time and prints what happens."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tick = 0
        self.reported: set[tuple[str, str, str, str]] = set()

    def _clock(self) -> str:
        minutes = int(self.tick * TICK // 60)
        return f"[dim]{minutes // 60:02d}:{minutes % 60:02d}[/dim]"

    def show(self, function: str, answer: Mapping[str, Any], names: Mapping[str, str]) -> None:
        if "error" in answer:
            self.console.print(f"{self._clock()} [red]{function}: {answer['error']}[/red]")
            return
        for result in answer["results"]:
            outcome = result["outcome"]
            key = (result.get("image_id", ""), result.get("region", ""), result["action"], outcome)
            # A deferral, refusal or untrusted share repeats on every run until something changes: say it once.
            if outcome not in NOTEWORTHY or (outcome in SAID_ONCE and key in self.reported):
                continue
            self.reported.add(key)
            colour = {
                "started": "cyan",
                "done": "green",
                "accepted": "green",
                "refused": "yellow",
                "untrusted": "yellow",
                "deferred": "magenta",
            }.get(outcome, "red")
            image_id = result.get("image_id", "")
            name = names.get(image_id) or result.get("image_name") or image_id
            self.console.print(
                f"{self._clock()} {function:<19} [bold]{name:<10}[/bold] {result['region']:<15} "
                f"[{colour}]{result['action']} {outcome}[/{colour}]  [dim]{result.get('reason', '')}[/dim]"
            )


def run_demo(console: Console | None = None) -> int:
    """Run the demo; 0 when the end state is right."""
    from imsync.bootstrap import emulated_time
    from imsync.function_files import handler
    from imsync.observability import logger

    console = console or Console()
    logger.setLevel(logging.CRITICAL)  # the demo prints its own timeline; the JSON logs would drown it
    with Emulator(regions=REGIONS) as cloud:
        estate = seed_demo_estate(cloud)
        seed_partner(cloud, estate)
        demo = Demo(console)
        console.rule("imsync demo: seeded estate in cn-north-4 (emulated IMS, real SDK over HTTP)")
        console.print(_estate_table(cloud, estate))
        with environment(estate.env), emulated_time(cloud.clock.advance):
            for image_id in estate.with_events:
                answer = handler("replicate_on_create")(_cts_create_event(image_id))
                demo.show("replicate_on_create", answer, estate.names)
            while demo.tick < MAX_TICKS:
                demo.tick += 1
                cloud.clock.advance(TICK)
                if demo.tick == BAKED_AT:
                    cloud.region(HOME).set_status(estate.baking, "active")
                    console.print(f"{demo._clock()} [bold]baking[/bold] finished being created (now active)")
                if demo.tick % POLL_EVERY == 0:
                    demo.show("share_on_complete", handler("share_on_complete")({}), estate.names)
                    with environment(estate.partner_env):  # the partner's own deployment, with its own keys
                        demo.show("accept_shares", handler("accept_shares")({}), estate.names)
                if demo.tick % DR_EVERY == 0:
                    demo.show("scheduled_dr_copy", handler("scheduled_dr_copy")({}), estate.names)
                done = not cloud.in_flight() and not _missing(cloud, estate) and not _unaccepted(cloud, estate)
                if demo.tick > BAKED_AT and done:
                    break
        console.rule("end state")
        console.print(_end_table(cloud, estate))
        problems = _missing(cloud, estate) + _unaccepted(cloud, estate) + _wrong(cloud, estate)
        console.print(
            f"most copies in flight at once: {cloud.max_in_flight} (IMS allows 5); "
            f"emulated time: {int(demo.tick * TICK // 60)} min; API requests: {len(cloud.requests)}"
        )
        console.print(_partner_view(cloud, estate))
    if problems:
        for problem in problems:
            console.print(f"[red]NOT RIGHT:[/red] {problem}")
        return 1
    console.print(
        "[green]end state is right: every eligible image is replicated once, tagged, shared, and accepted by the "
        "partner; the stranger's share is still pending.[/green]"
    )
    return 0


def _replicas(cloud: Emulator, image_id: str, region: str) -> list[Any]:
    return [r for r in cloud.region(region).replicas_of(image_id) if r.status != "killed"]


def _missing(cloud: Emulator, estate: DemoEstate) -> list[str]:
    """Eligible (image, region) pairs that do not yet have a finished, tagged, shared replica."""
    missing = []
    for image_id, regions in estate.expected.items():
        for region in regions:
            done = [r for r in _replicas(cloud, image_id, region) if r.status == "active" and TAG_SOURCE in r.tags]
            shared = not done or image_id not in estate.shared or cloud.recipient.projects[region] in done[0].members
            if not done or not shared:
                missing.append(f"{estate.names[image_id]} has no finished, shared replica in {region}")
    return missing


def _shared_copies(cloud: Emulator, estate: DemoEstate) -> list[tuple[str, Any]]:
    """(region, image) for every image the partner must end up with: shared sources and their replicas."""
    found = []
    for image_id in estate.shared:
        for region in REGIONS:
            copies = _replicas(cloud, image_id, region) if region != HOME else [cloud.region(HOME).image(image_id)]
            found += [(region, c) for c in copies if c is not None]
    return found


def _unaccepted(cloud: Emulator, estate: DemoEstate) -> list[str]:
    """Shares the partner has not accepted (so cannot use), and a stranger's share it must not have accepted."""
    problems = []
    for region, image in _shared_copies(cloud, estate):
        status = image.members.get(cloud.recipient.projects[region])
        if status != "accepted":
            problems.append(f"{image.name} in {region} is not accepted by the partner ({status or 'not shared'})")
    untrusted = cloud.region(HOME).image(estate.untrusted) if estate.untrusted else None
    if untrusted is not None and untrusted.members.get(cloud.recipient.projects[HOME]) != "pending":
        problems.append("the stranger's share did not stay pending")
    return problems


def _wrong(cloud: Emulator, estate: DemoEstate) -> list[str]:
    wrong = [f"{cloud.max_in_flight} copies were in flight at once"] if cloud.max_in_flight > 5 else []
    for image_id in estate.names:
        for region in DESTINATIONS:
            if len(_replicas(cloud, image_id, region)) > 1:
                wrong.append(f"{estate.names[image_id]} has more than one replica in {region}")
    for image_id in estate.refused:
        if any(_replicas(cloud, image_id, r) for r in DESTINATIONS):
            wrong.append(f"{estate.names[image_id]} was copied although IMS cannot copy it")
    return wrong


def _estate_table(cloud: Emulator, estate: DemoEstate) -> Table:
    table = Table("image", "status", "size", "imsync tags")
    for image_id, name in estate.names.items():
        image = cloud.region(HOME).image(image_id)
        assert image is not None
        kind = " ISO" if image.iso else " encrypted" if image.encrypted else ""
        tags = ", ".join(f"{k}={v}" for k, v in image.tags.items() if k.startswith("imsync-"))
        table.add_row(name, image.status + kind, f"{image.size_bytes // 1024**3} GB", tags)
    return table


def _end_table(cloud: Emulator, estate: DemoEstate) -> Table:
    table = Table("image", *DESTINATIONS)
    for image_id, name in estate.names.items():
        cells = []
        for region in DESTINATIONS:
            replicas = _replicas(cloud, image_id, region)
            if image_id in estate.refused and region == "cn-east-3":
                cells.append("[yellow]refused[/yellow]")
            elif not replicas:
                cells.append("[dim]-[/dim]")
            else:
                replica = replicas[0]
                shared = " +shared" if replica.members else ""
                colour = "green" if replica.status == "active" else "cyan"
                cells.append(f"[{colour}]{replica.status}{shared}[/{colour}]")
        table.add_row(name, *cells)
    return table


def _partner_view(cloud: Emulator, estate: DemoEstate) -> str:
    accepted = sum(
        1
        for region, image in _shared_copies(cloud, estate)
        if image.members.get(cloud.recipient.projects[region]) == "accepted"
    )
    return (
        f"the partner account lists {accepted} images shared with it and accepted (in {len(REGIONS)} regions), "
        "ready to use; the stranger's share waits for a person"
    )


@click.command("demo")
def demo_command() -> None:
    """Run the whole story on the embedded emulator: copies, limits, refusals, shares, the partner accepting."""
    raise SystemExit(run_demo())
