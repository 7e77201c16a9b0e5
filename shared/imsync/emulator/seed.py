"""Load a JSON seed (accounts, agencies, images, shares) into a running emulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Emulator
    from .model import Account, ImageRecord

IMAGE_KEYS = frozenset(
    {
        "name", "tags", "status", "size_gb", "image_type", "encrypted", "iso", "whole_image",
        "frozen", "description", "owner", "os_type", "share",
    }
)  # fmt: skip


class SeedError(ValueError):
    """The seed does not follow docs/emulator.md; the message names the bad entry."""


def _account(cloud: Emulator, name: Any, where: str) -> Account:
    try:
        return cloud.account(str(name))
    except KeyError:
        raise SeedError(f"{where}: unknown account {name!r}") from None


def load_seed(cloud: Emulator, data: Mapping[str, Any]) -> dict[str, list[ImageRecord]]:
    """Apply a seed document; returns the images created, per region. Format: docs/emulator.md."""
    if not isinstance(data, Mapping):
        raise SeedError("the seed must be a JSON object")
    unknown = set(data) - {"accounts", "agencies", "images", "settings"}
    if unknown:
        raise SeedError(f"unknown top-level keys: {sorted(unknown)}")
    for key, value in (data.get("settings") or {}).items():
        if key not in ("image_quota", "max_copies_in_flight", "copy_base_seconds", "copy_seconds_per_gb"):
            raise SeedError(f"settings: unknown key {key!r}")
        setattr(cloud, key, value)
    for i, entry in enumerate(data.get("accounts") or []):
        where = f"accounts[{i}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, Mapping) or "name" not in entry:
            raise SeedError(f"{where}: needs a name")
        fixed = {k: entry.get(k) for k in ("domain_id", "ak", "sk", "projects")}
        if entry["name"] in cloud.accounts:
            cloud.rekey_account(cloud.account(entry["name"]), **fixed)
        else:
            cloud.add_account(entry["name"], **fixed)
    for i, entry in enumerate(data.get("agencies") or []):
        where = f"agencies[{i}]"
        if not isinstance(entry, Mapping) or "name" not in entry:
            raise SeedError(f"{where}: needs a name")
        acc = _account(cloud, entry.get("account", "owner"), where)
        if entry.get("remove"):
            cloud.remove_agency(entry["name"], account=acc)
            continue
        grants = entry.get("grants")
        if grants is not None:
            # A seed may name more regions than are emulated (e.g. --regions picks a few): skip the rest.
            grants = {r: roles for r, roles in grants.items() if r in cloud.regions}
        try:
            cloud.set_agency(entry["name"], grants, bool(entry.get("all_projects")), account=acc)
        except ValueError as exc:
            raise SeedError(f"{where}: {exc}") from exc
    created: dict[str, list[ImageRecord]] = {}
    for region, images in (data.get("images") or {}).items():
        try:
            handle = cloud.region(region)
        except KeyError as exc:
            raise SeedError(f"images: {exc.args[0]}") from None
        for i, spec in enumerate(images):
            where = f"images[{region}][{i}]"
            if not isinstance(spec, Mapping):
                raise SeedError(f"{where}: must be an object")
            bad = set(spec) - IMAGE_KEYS
            if bad:
                raise SeedError(f"{where}: unknown keys {sorted(bad)}")
            kwargs = {k: v for k, v in spec.items() if k not in ("owner", "share")}
            owner = _account(cloud, spec.get("owner", "owner"), where)
            share = spec.get("share") or {}
            if isinstance(share, list):
                share = {name: "pending" for name in share}
            members = {}
            for name, status in share.items():
                if status not in ("pending", "accepted", "rejected"):
                    raise SeedError(f"{where}: share status {status!r} must be pending, accepted or rejected")
                members[_account(cloud, name, where).projects[region]] = status
            rec = handle.add_image(owner=owner, members=members, **kwargs)
            created.setdefault(region, []).append(rec)
    return created
