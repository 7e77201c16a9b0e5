"""Where the demo ends: the checks that the end state is right, and what shows it (the end table, the partner view)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from imsync.demo.estate import DESTINATIONS, HOME, REGIONS, DemoEstate
from imsync.domain.model import TAG_SOURCE
from imsync.emulator import Emulator


def _replicas(cloud: Emulator, image_id: str, region: str) -> list[Any]:
    return [r for r in cloud.region(region).replicas_of(image_id) if r.status != "killed"]


def missing(cloud: Emulator, estate: DemoEstate) -> list[str]:
    """Eligible (image, region) pairs that do not yet have a finished, tagged, shared replica."""
    absent = []
    for image_id, regions in estate.expected.items():
        for region in regions:
            done = [r for r in _replicas(cloud, image_id, region) if r.status == "active" and TAG_SOURCE in r.tags]
            shared = not done or image_id not in estate.shared or cloud.recipient.projects[region] in done[0].members
            if not done or not shared:
                absent.append(f"{estate.names[image_id]} has no finished, shared replica in {region}")
    return absent


def _shared_copies(cloud: Emulator, estate: DemoEstate) -> list[tuple[str, Any]]:
    """(region, image) for every image the partner must end up with: shared sources and their replicas."""
    found = []
    for image_id in estate.shared:
        for region in REGIONS:
            copies = _replicas(cloud, image_id, region) if region != HOME else [cloud.region(HOME).image(image_id)]
            found += [(region, c) for c in copies if c is not None]
    return found


def unaccepted(cloud: Emulator, estate: DemoEstate) -> list[str]:
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


def follower_state(cloud: Emulator, estate: DemoEstate) -> str:
    """Where the follower is: "copying", "ready" (replica finished, source still there), "orphaned", "followed"."""
    replicas = _replicas(cloud, estate.follower, "cn-east-3")
    if cloud.region(HOME).image(estate.follower) is not None:
        return "ready" if any(r.status == "active" and TAG_SOURCE in r.tags for r in replicas) else "copying"
    return "orphaned" if replicas else "followed"


def wrong(cloud: Emulator, estate: DemoEstate) -> list[str]:
    wrong = [f"{cloud.max_in_flight} copies were in flight at once"] if cloud.max_in_flight > 5 else []
    for image_id in estate.names:
        for region in DESTINATIONS:
            if len(_replicas(cloud, image_id, region)) > 1:
                wrong.append(f"{estate.names[image_id]} has more than one replica in {region}")
    for image_id in estate.refused:
        if any(_replicas(cloud, image_id, r) for r in DESTINATIONS):
            wrong.append(f"{estate.names[image_id]} was copied although IMS cannot copy it")
    if estate.follower and follower_state(cloud, estate) != "followed":
        wrong.append("last-week's replica did not follow its deleted source")
    return wrong


def end_table(cloud: Emulator, estate: DemoEstate) -> Table:
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


def partner_view(cloud: Emulator, estate: DemoEstate) -> str:
    accepted = sum(
        1
        for region, image in _shared_copies(cloud, estate)
        if image.members.get(cloud.recipient.projects[region]) == "accepted"
    )
    return (
        f"the partner account lists {accepted} images shared with it and accepted (in {len(REGIONS)} regions), "
        "ready to use; the stranger's share waits for a person"
    )
