"""The demo estate: the images seeded in the emulator, the partner account, and what the end state must be."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from imsync.domain.model import TAG_SOURCE
from imsync.emulator import Emulator

HOME = "cn-north-4"
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
DESTINATIONS = REGIONS[1:]


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
    follower: str = ""  # an image tagged imsync-retain=follow that the demo deletes: its replica must follow it


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


def seed_follower(cloud: Emulator, estate: DemoEstate) -> None:
    """Last week's build, whose replica follows it: the demo deletes it once its replica is finished."""
    image = cloud.region(HOME).add_image(
        name="last-week", tags={"imsync-regions": "cn-east-3", "imsync-retain": "follow"}, size_gb=20
    )
    estate.names[image.id] = "last-week"
    estate.with_events.append(image.id)
    estate.follower = image.id
    estate.env["IMSYNC_RETAIN_GRACE_DAYS"] = "0"  # deleted by the DR run after the one that first sees it orphaned


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


def estate_table(cloud: Emulator, estate: DemoEstate) -> Table:
    """The seeded images, their status and imsync tags, as the demo shows them before it starts."""
    table = Table("image", "status", "size", "imsync tags")
    for image_id, name in estate.names.items():
        image = cloud.region(HOME).image(image_id)
        assert image is not None
        kind = " ISO" if image.iso else " encrypted" if image.encrypted else ""
        tags = ", ".join(f"{k}={v}" for k, v in image.tags.items() if k.startswith("imsync-"))
        table.add_row(name, image.status + kind, f"{image.size_bytes // 1024**3} GB", tags)
    return table
