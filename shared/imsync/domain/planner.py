"""Turn desired state (a source image's policy) and actual state (what IMS shows) into actions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from imsync.domain.model import MAX_TAGS, STRICT_TAGS, TAG_SHARED, TAG_SOURCE, TAG_SOURCE_REGION, Image, TagRules
from imsync.domain.outcomes import Outcome
from imsync.domain.policy import Policy
from imsync.domain.retention import FOLLOW, TAG_RETAIN
from imsync.domain.rules import CopyRules

# A copy whose job failed leaves a `killed` replica behind; after this many, imsync stops trying and
# reports the failure until someone deletes the failed replicas (which resets the count).
MAX_COPY_ATTEMPTS = 3
# A member job that IMS ends FAIL is retried by later runs this many times in all, then reported until the
# share targets change (a new fingerprint) or someone deletes the replica's imsync-shared tag.
MAX_SHARE_ATTEMPTS = 3

COPY, WAIT, FINALIZE, REFUSE, DEFER, FAIL, IN_SYNC = "copy", "wait", "finalize", "refuse", "defer", "fail", "in_sync"
# The actions that need no call, and the outcome each is reported with (COPY and FINALIZE end as their calls do).
REPORTED_AS: Mapping[str, Outcome] = {
    WAIT: Outcome.WAITING,
    REFUSE: Outcome.REFUSED,
    DEFER: Outcome.DEFERRED,
    FAIL: Outcome.FAILED,
    IN_SYNC: Outcome.OK,
}


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
    remove: tuple[str, ...] = ()  # finalize: copied tags that no longer fit, deleted before `tags` are set

    @property
    def target(self) -> Image:
        """The image this action writes to: the replica, or the source itself for shares in its own region."""
        return self.replica or self.source


def share_fingerprint(projects: Sequence[str]) -> str:
    """A short digest of a project set, stored as a tag so that an unchanged share needs no API call."""
    return hashlib.sha256(",".join(sorted(projects)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ShareMark:
    """What an image's imsync-shared tag says: shared with a project set, submitted, or failed n times.

    Values: "<fingerprint>" (done), "p-<fingerprint>" (a member job was accepted and had not finished when
    the run ended), "f<n>-<fingerprint>" (n member jobs failed). All fit IMS's strictest tag rules.
    """

    fingerprint: str = ""
    submitted: bool = False
    failures: int = 0

    @property
    def done(self) -> bool:
        return bool(self.fingerprint) and not self.submitted and not self.failures

    @property
    def value(self) -> str:
        if self.failures:
            return f"f{self.failures}-{self.fingerprint}"
        return f"p-{self.fingerprint}" if self.submitted else self.fingerprint

    @classmethod
    def read(cls, value: str | None) -> ShareMark:
        """The mark an imsync-shared tag value holds (anything unreadable counts as never shared)."""
        head, _, fingerprint = (value or "").rpartition("-")
        if not head:
            return cls(fingerprint)
        if head == "p":
            return cls(fingerprint, submitted=True)
        if head[:1] == "f" and head[1:].isdigit():
            return cls(fingerprint, failures=int(head[1:]))
        return cls()


def pick_replica(replicas: Sequence[Image]) -> tuple[Image | None, list[Image], int]:
    """(the replica to keep, extra live replicas, failed attempts) among one region's copies of one source."""
    failed = sum(1 for r in replicas if r.status == "killed")
    live = sorted(
        (r for r in replicas if not r.gone),
        key=lambda r: (r.status != "active", r.created_at, r.id),
    )
    return (live[0] if live else None), live[1:], failed


def replica_tags(
    source: Image,
    replica: Image,
    copy_tags: bool,
    fingerprint: str,
    tag_rules: TagRules = STRICT_TAGS,
    follow: bool = False,
) -> dict[str, str]:
    """The complete tag set a finished replica must end with, never more than the tag rules in effect allow.

    Tags people put on the replica itself are never removed, so they hold their slots; then come the lineage
    tags (the description marker says the same if they cannot fit), the retention rule when it is `follow`
    (the rule travels with the replica; without the tag the replica is kept), the share fingerprint (without
    it the members are read on every run), and as many of the source's tags as still fit, those already there
    first. A source's tag is copied only when the rules in effect (IMSYNC_TAG_RULES) accept it on the replica.
    """
    copyable = {k: v for k, v in source.user_tags.items() if tag_rules.allows(k, v)} if copy_tags else {}
    managed = {TAG_SOURCE, TAG_SOURCE_REGION, TAG_SHARED, TAG_RETAIN, *copyable}
    final = {k: v for k, v in replica.tags.items() if k not in managed}
    wanted = {TAG_SOURCE: source.id, TAG_SOURCE_REGION: source.region}
    if follow:
        wanted[TAG_RETAIN] = FOLLOW
    if fingerprint:
        wanted[TAG_SHARED] = fingerprint
    present = [k for k in sorted(copyable) if k in replica.tags]
    absent = [k for k in sorted(copyable) if k not in replica.tags]
    wanted.update((k, copyable[k]) for k in present + absent)
    for key, value in wanted.items():
        if len(final) >= tag_rules.max_tags:
            break
        final[key] = value
    return final


def _finalize(
    source: Image,
    region: str,
    target: Image | None,
    projects: tuple[str, ...],
    copy_tags: bool,
    tag_rules: TagRules = STRICT_TAGS,
    follow: bool = False,
) -> Action | None:
    """Finalize action when `target` (a replica, or the source when None) lacks tags or shares."""
    image = target or source
    fingerprint = share_fingerprint(projects) if projects else ""
    mark = ShareMark.read(image.tags.get(TAG_SHARED))
    if fingerprint and mark.fingerprint == fingerprint and mark.failures >= MAX_SHARE_ATTEMPTS:
        return Action(
            FAIL,
            source,
            region,
            f"sharing with {len(projects)} project(s) failed {mark.failures} times (IMS's reason was reported "
            f"then); fix the cause, then delete the {TAG_SHARED} tag of {image.id} to try again",
            replica=target,
        )
    if target is None:
        room = TAG_SHARED in image.tags or len(image.tags) < MAX_TAGS
        final = dict(image.tags) | ({TAG_SHARED: fingerprint} if fingerprint and room else {})
    else:
        final = replica_tags(source, target, copy_tags, fingerprint, tag_rules, follow)
    stale = {k: v for k, v in final.items() if image.tags.get(k) != v}
    remove = tuple(k for k in image.tags if k not in final and k != TAG_SHARED)
    # Without room for the fingerprint, an image is shared by reading its members on every run.
    unmarked = bool(fingerprint) and TAG_SHARED not in final
    if not stale and not remove and not unmarked:
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
        remove=remove,
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
    unlisted: Mapping[str, str] | None = None,
    follow: bool = False,
) -> list[Action]:
    """What must happen for `source` to have one finished, shared replica in each region of its policy.

    `copies` maps each destination region to the images there that were copied from `source` (any state);
    `shares(region)` gives the projects the policy's aliases name in that region;
    `no_copy_reason`, when given, is why this run starts no copy (missing replicas are deferred with it);
    `unlisted` maps regions where a copy was started that IMS does not list yet to why it is waited for;
    `follow`: the source's retention rule is `follow`, which its replicas carry as a tag.
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
        if replica is None and unlisted and region in unlisted:
            actions.append(Action(WAIT, source, region, unlisted[region]))
        elif replica is None:
            actions.append(_missing(source, region, failed, rules, no_copy_reason))
        elif replica.in_progress:
            actions.append(Action(WAIT, source, region, f"copy in progress ({replica.status})", replica=replica))
        elif replica.status != "active":
            actions.append(Action(WAIT, source, region, f"replica is {replica.status}", replica=replica))
        else:
            projects = shares(region) if policy.aliases and not rules.share_refusal(replica) else ()
            final = _finalize(source, region, replica, projects, copy_tags, rules.tags, follow)
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
