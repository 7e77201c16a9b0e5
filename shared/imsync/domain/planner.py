"""Turn desired state (a source image's policy) and actual state (what IMS shows) into actions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from imsync.domain.model import MAX_TAGS, TAG_SHARED, TAG_SOURCE, TAG_SOURCE_REGION, Image
from imsync.domain.policy import Policy
from imsync.domain.rules import CopyRules

# A copy whose job failed leaves a `killed` replica behind; after this many, imsync stops trying and
# reports the failure until someone deletes the failed replicas (which resets the count).
MAX_COPY_ATTEMPTS = 3

COPY, WAIT, FINALIZE, REFUSE, DEFER, FAIL, IN_SYNC = "copy", "wait", "finalize", "refuse", "defer", "fail", "in_sync"


@dataclass(frozen=True)
class Action:
    """One thing to do (or to report) for a source image in one region."""

    kind: str
    source: Image
    region: str
    reason: str = ""
    replica: Image | None = None
    tags: Mapping[str, str] = field(default_factory=dict)  # finalize: tags to set
    projects: tuple[str, ...] = ()  # finalize: projects the image must be shared with
    fingerprint: str = ""  # finalize: value of the imsync-shared tag once shared

    @property
    def target(self) -> Image:
        """The image this action writes to: the replica, or the source itself for shares in its own region."""
        return self.replica or self.source


def share_fingerprint(projects: Sequence[str]) -> str:
    """A short digest of a project set, stored as a tag so that an unchanged share needs no API call."""
    return hashlib.sha256(",".join(sorted(projects)).encode()).hexdigest()[:16]


def pick_replica(replicas: Sequence[Image]) -> tuple[Image | None, list[Image], int]:
    """(the replica to keep, extra live replicas, failed attempts) among one region's copies of one source."""
    failed = sum(1 for r in replicas if r.status == "killed")
    live = sorted(
        (r for r in replicas if not r.gone),
        key=lambda r: (r.status != "active", r.created_at, r.id),
    )
    return (live[0] if live else None), live[1:], failed


def replica_tags(source: Image, replica: Image, copy_tags: bool, fingerprint: str) -> dict[str, str]:
    """The tags a finished replica must carry: lineage, share fingerprint, then as many source tags as fit."""
    wanted = {TAG_SOURCE: source.id, TAG_SOURCE_REGION: source.region}
    if fingerprint:
        wanted[TAG_SHARED] = fingerprint
    if copy_tags:
        # Tags someone put on the replica itself keep their place. Source tags already on the replica come
        # first (they hold a slot anyway), so the total never passes IMS's limit of 10 per image.
        own = {k for k in replica.tags if k not in wanted and k not in source.user_tags}
        room = MAX_TAGS - len(wanted) - len(own)
        present = [k for k in sorted(source.user_tags) if k in replica.tags]
        absent = [k for k in sorted(source.user_tags) if k not in replica.tags]
        for key in (present + absent)[: max(room, 0)]:
            wanted[key] = source.user_tags[key]
    return wanted


def _finalize(
    source: Image, region: str, target: Image | None, projects: tuple[str, ...], copy_tags: bool
) -> Action | None:
    """Finalize action when `target` (a replica, or the source when None) lacks tags or shares."""
    image = target or source
    fingerprint = share_fingerprint(projects) if projects else ""
    if target is None:
        wanted = {TAG_SHARED: fingerprint} if fingerprint else {}
    else:
        wanted = replica_tags(source, target, copy_tags, fingerprint)
    stale = {k: v for k, v in wanted.items() if image.tags.get(k) != v}
    if target is None and stale and TAG_SHARED not in image.tags and len(image.tags) >= MAX_TAGS:
        # The source holds IMS's 10 tags: no room for the fingerprint, so share by reading its members each run.
        stale = {}
    elif not stale:
        return None
    return Action(
        FINALIZE,
        source,
        region,
        "tag and share",
        replica=target,
        tags=stale,
        projects=projects,
        fingerprint=fingerprint,
    )


def plan_image(
    source: Image,
    policy: Policy,
    copies: Mapping[str, Sequence[Image]],
    rules: CopyRules,
    shares: Callable[[str], tuple[str, ...]],
    *,
    no_copy_reason: str | None = None,
    copy_tags: bool = True,
) -> list[Action]:
    """What must happen for `source` to have one finished, shared replica in each region of its policy.

    `copies` maps each destination region to the images there that were copied from `source` (any state);
    `shares(region)` gives the projects the policy's aliases name in that region;
    `no_copy_reason`, when given, is why this run starts no copy (missing replicas are deferred with it).
    """
    actions: list[Action] = []
    if policy.aliases and source.status == "active":
        if why := rules.share_refusal(source):
            actions.append(Action(REFUSE, source, source.region, why))
        elif own := _finalize(source, source.region, None, shares(source.region), copy_tags=False):
            actions.append(own)
    for region in policy.regions:
        if why := rules.refusal(source, region):
            actions.append(Action(REFUSE, source, region, why))
            continue
        replica, extras, failed = pick_replica(copies.get(region, ()))
        if extras:
            ids = ", ".join(r.id for r in extras)
            actions.append(Action(FAIL, source, region, f"more than one replica ({ids}); delete the extra ones"))
        if replica is None:
            actions.append(_missing(source, region, failed, rules, no_copy_reason))
        elif replica.in_progress:
            actions.append(Action(WAIT, source, region, f"copy in progress ({replica.status})", replica=replica))
        elif replica.status != "active":
            actions.append(Action(WAIT, source, region, f"replica is {replica.status}", replica=replica))
        else:
            projects = shares(region) if policy.aliases and not rules.share_refusal(replica) else ()
            final = _finalize(source, region, replica, projects, copy_tags)
            actions.append(final or Action(IN_SYNC, source, region, "replica active and shared", replica=replica))
    return actions


def _missing(source: Image, region: str, failed: int, rules: CopyRules, no_copy_reason: str | None) -> Action:
    if failed >= MAX_COPY_ATTEMPTS:
        return Action(
            FAIL,
            source,
            region,
            f"{failed} copies to {region} failed (killed replicas are there); imsync stopped retrying: "
            "check the copy agency's rights and IMS's reason, then delete the failed replicas to retry",
        )
    if why := rules.deferral(source):
        return Action(DEFER, source, region, why)
    if no_copy_reason:
        return Action(DEFER, source, region, no_copy_reason)
    retry = f" (attempt {failed + 1} of {MAX_COPY_ATTEMPTS})" if failed else ""
    return Action(COPY, source, region, f"no replica in {region}{retry}")
