"""`imsync tag IMAGE`: write (or remove) the imsync policy tags through IMS, checked as the functions do."""

from __future__ import annotations

import re

import click

from imsync.config import Settings
from imsync.domain.model import MAX_TAGS, TAG_REGIONS, TAG_SHARE, TAG_WHEN, Image
from imsync.domain.policy import WHEN_VALUES, parse_policy
from imsync.domain.retention import RULES, TAG_RETAIN
from imsync.ops.command_kit import EXIT_CODES, HELP, NotFoundHere, UsageProblem, common_options, emit_json
from imsync.ops.runtime import Runtime, open_runtime
from imsync.ops.views import POLICY_TAGS

JOIN = "_"  # IMS tag values allow A-Z a-z 0-9 _ - . only: "_" is the list separator that always fits
IMS_VALUE = re.compile(r"^[A-Za-z0-9_.-]*$")


def _items(value: str | None) -> list[str]:
    return [] if value is None else [item for item in re.split(r"[\s,_;+]+", value.strip()) if item]


def wanted_tags(regions: str | None, share: str | None, when: str | None, retain: str | None = None) -> dict[str, str]:
    """The policy tags the options ask for, as IMS will store them."""
    tags = {}
    if retain is not None:
        tags[TAG_RETAIN] = retain.strip().lower()
    if regions is not None:
        tags[TAG_REGIONS] = JOIN.join(dict.fromkeys(_items(regions)))
    if share is not None:
        tags[TAG_SHARE] = JOIN.join(dict.fromkeys(_items(share)))
    if when is not None:
        tags[TAG_WHEN] = when.strip().lower()
    return tags


def problems(settings: Settings, image: Image, tags: dict[str, str]) -> list[str]:
    """Why the functions would refuse these tags on this image (empty when they are fine)."""
    found = [f"{key}: the value is empty; name at least one item, or use --remove" for key, v in tags.items() if not v]
    found += [
        f"{key}: '{value}' has characters IMS tag values do not allow; use letters, digits, '-', '.', '_'"
        for key, value in tags.items()
        if not IMS_VALUE.match(value)
    ]
    if found:
        return found
    merged = {**image.tags, **tags}
    if len(merged) > MAX_TAGS:
        found.append(f"the image would carry {len(merged)} tags; IMS allows {MAX_TAGS}: remove some first")
    policy = parse_policy(merged, settings.allowed_regions, settings.share_targets.keys())
    found += [refusal for refusal in policy.refusals if refusal.split(":", 1)[0] in tags]
    return found


def find_image(rt: Runtime, image: str, region: str | None) -> Image:
    """The image by ID or by its (unique) name, in `region` or else the source regions."""
    settings = rt.settings
    regions = [region] if region else list(dict.fromkeys([*settings.source_regions, *settings.allowed_regions]))
    if not regions:
        raise UsageProblem(
            "no region to look in: set IMSYNC_HOME_REGION, or give --region", "imsync tag IMAGE --region REGION ..."
        )
    for where in regions:
        found = rt.store(where).get_image(image) if re.fullmatch(r"[0-9a-fA-F-]{32,36}", image) else None
        if found is not None:
            return found
    named = [i for where in regions for i in rt.store(where).list_own_images() if i.name == image]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        ids = ", ".join(f"{i.id} ({i.region})" for i in named)
        raise UsageProblem(f"{len(named)} images are named {image}: {ids}", "give the image ID instead of its name")
    slip = f"; --region is where the image is, --regions {region} what to replicate to" if region else ""
    raise NotFoundHere(
        f"no private image with the ID or name {image} in {', '.join(regions)}",
        f"check the ID or name (`imsync status` lists opted-in images); give --region when it is elsewhere{slip}",
    )


def _describe(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={tags[k]}" for k in POLICY_TAGS if k in tags) or "no imsync tags"


@click.command("tag", context_settings=HELP, epilog=EXIT_CODES)
@click.argument("image")
@click.option("--regions", help="Regions to replicate to, comma-separated (writes imsync-regions).")
@click.option("--share", help="Share aliases (IMSYNC_SHARE_TARGETS), comma-separated (writes imsync-share).")
@click.option("--when", type=click.Choice(WHEN_VALUES), help="Copy on the create event, or only on the schedule.")
@click.option(
    "--retain",
    type=click.Choice(RULES),
    help="keep: replicas outlive the image (default); follow: they are deleted after the grace period once it is "
    "gone (writes imsync-retain).",
)
@click.option("--remove", is_flag=True, help="Remove every imsync policy tag (the image opts out).")
@click.option(
    "--region",
    help="Where the image is (default: search the source, then the allowed regions); not what to replicate to.",
)
@common_options
def tag(
    image: str,
    regions: str | None,
    share: str | None,
    when: str | None,
    retain: str | None,
    remove: bool,
    region: str | None,
    as_json: bool,
    use_emulator: bool,
    config: str | None,
) -> None:
    """Write an image's imsync tags, checked as the functions check them; without options, show them."""
    tags = wanted_tags(regions, share, when, retain)
    if remove and tags:
        raise UsageProblem("--remove takes no other tag option", "run `imsync tag IMAGE --remove` on its own")
    if region and not tags and not remove:
        # --region (where the image is) alone is most likely --regions (what to replicate to) missing its "s".
        raise UsageProblem(
            f"--region {region} only says where {image} is, and nothing was asked to be written",
            f"to replicate it there: imsync tag {image} --regions {region}; to show its tags: imsync tag {image}",
        )
    with open_runtime(config, use_emulator) as rt:
        rt.credentials  # noqa: B018 - missing keys are a settings error (exit 2) before any look-up
        found = find_image(rt, image, region)
        if found.is_replica:
            raise UsageProblem(
                f"{found.name or found.id} is a replica made by imsync, not a source image",
                f"tag its source image instead ({found.claimed_source})",
            )
        refused = problems(rt.settings, found, tags)
        if refused:
            raise UsageProblem(f"nothing was written: {'; '.join(refused)}", "correct the value and run again")
        store = rt.store(found.region)
        removed = [k for k in POLICY_TAGS if k in found.tags] if remove else []
        if removed:
            store.delete_tags(found.id, {k: found.tags[k] for k in removed})
        if tags:
            store.add_tags(found.id, tags)
        after = {k: v for k, v in {**found.tags, **tags}.items() if k in POLICY_TAGS and k not in removed}
    _report(found, tags, removed, after, as_json)


def _report(image: Image, written: dict[str, str], removed: list[str], after: dict[str, str], as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "command": "tag",
                "ok": True,
                "image_id": image.id,
                "name": image.name,
                "region": image.region,
                "written": written,
                "removed": removed,
                "tags": after,
            }
        )
        return
    label = f"{image.name or image.id} ({image.id}) in {image.region}"
    if written:
        click.echo(f"tagged {label}: {_describe(written)}")
    elif removed:
        click.echo(f"removed {', '.join(removed)} from {label}: imsync leaves it alone now")
    else:
        click.echo(f"{label}: {_describe(after)}")
        return
    if after.get(TAG_REGIONS):
        click.echo("next: `imsync plan` shows what this asks for; `imsync apply --wait` does it")
    if written.get(TAG_RETAIN) == "follow":
        click.echo("its replicas now follow it: once it is gone, each is deleted after IMSYNC_RETAIN_GRACE_DAYS")
