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


SETTING_CHECKS = {
    "image_quota": (int, 1),
    "max_copies_in_flight": (int, 1),
    "copy_base_seconds": (float, 0),
    "copy_seconds_per_gb": (float, 0),
}
IMAGE_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str, "status": str, "size_gb": (int, float), "image_type": str, "encrypted": bool, "iso": bool,
    "whole_image": bool, "frozen": bool, "description": str, "os_type": str,
}  # fmt: skip


class SeedError(ValueError):
    """The seed does not follow docs/emulator.md; the message names the bad entry."""


def _mapping(value: Any, where: str, shape: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SeedError(f"{where}: expected an object like {shape}, not {type(value).__name__}")
    return value


def _setting(key: str, value: Any) -> float:
    kind, least = SETTING_CHECKS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise SeedError(f"settings: {key} must be a {'whole ' if kind is int else ''}number, not {value!r}")
    if value < least:
        raise SeedError(f"settings: {key} must be at least {least}")
    return kind(value)


def _image_spec(spec: Any, where: str) -> Mapping[str, Any]:
    """An image entry whose values have the types the emulator takes."""
    spec = _mapping(spec, where, '{"name": "golden", "tags": {"imsync-regions": "cn-east-3"}}')
    bad = set(spec) - IMAGE_KEYS
    if bad:
        raise SeedError(f"{where}: unknown keys {sorted(bad)}")
    for key, kind in IMAGE_TYPES.items():
        if key in spec and (not isinstance(spec[key], kind) or (kind is not bool and isinstance(spec[key], bool))):
            raise SeedError(f"{where}: {key} has the wrong type ({spec[key]!r})")
    tags = _mapping(spec.get("tags", {}), f"{where}: tags", '{"team": "web"}')
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise SeedError(f'{where}: tags must map keys to string values, like {{"team": "web"}}')
    if spec.get("size_gb", 1) < 0:
        raise SeedError(f"{where}: size_gb must not be negative")
    return spec


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
    for key, value in _mapping(data.get("settings") or {}, "settings", '{"image_quota": 50}').items():
        if key not in SETTING_CHECKS:
            raise SeedError(f"settings: unknown key {key!r}")
        setattr(cloud, key, _setting(key, value))
    _list(data, "accounts")
    _list(data, "agencies")
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
            shape = '{"cn-north-4": ["IMS Administrator"]}'
            grants = _mapping(grants, f"{where}: grants", shape)
            if not all(isinstance(r, list) and all(isinstance(x, str) for x in r) for r in grants.values()):
                raise SeedError(f"{where}: grants must map each region to a list of role names, like {shape}")
            # A seed may name more regions than are emulated (e.g. --regions picks a few): skip the rest.
            grants = {r: roles for r, roles in grants.items() if r in cloud.regions}
        try:
            cloud.set_agency(entry["name"], grants, bool(entry.get("all_projects")), account=acc)
        except ValueError as exc:
            raise SeedError(f"{where}: {exc}") from exc
    created: dict[str, list[ImageRecord]] = {}
    images_by_region = _mapping(data.get("images") or {}, "images", '{"cn-north-4": [{"name": "golden"}]}')
    for region, images in images_by_region.items():
        try:
            handle = cloud.region(region)
        except KeyError as exc:
            raise SeedError(f"images: {exc.args[0]}") from None
        if not isinstance(images, list):
            raise SeedError(f"images[{region}]: expected a list of image objects")
        for i, raw in enumerate(images):
            where = f"images[{region}][{i}]"
            spec = _image_spec(raw, where)
            kwargs = {k: v for k, v in spec.items() if k not in ("owner", "share")}
            owner = _account(cloud, spec.get("owner", "owner"), where)
            share = spec.get("share") or {}
            if isinstance(share, list):
                share = {name: "pending" for name in share}
            share = _mapping(share, f"{where}: share", '{"partner": "pending"} or ["partner"]')
            members = {}
            for name, status in share.items():
                if status not in ("pending", "accepted", "rejected"):
                    raise SeedError(f"{where}: share status {status!r} must be pending, accepted or rejected")
                members[_account(cloud, name, where).projects[region]] = status
            rec = handle.add_image(owner=owner, members=members, **kwargs)
            created.setdefault(region, []).append(rec)
    return created


def _list(data: Mapping[str, Any], key: str) -> None:
    if not isinstance(data.get(key) or [], list):
        raise SeedError(f"{key}: expected a list")
