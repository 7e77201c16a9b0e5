"""Reconciling sources: read each one's policy and copies, let the planner decide, and carry out its actions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from imsync.config import Settings
from imsync.domain.errors import ImsyncError, OutOfTime
from imsync.domain.model import POLICY_PREFIX, TAG_RULES, Image
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import COPY, FINALIZE, REFUSE, REPORTED_AS, Action, plan_image
from imsync.domain.policy import Policy, parse_policy
from imsync.domain.retention import FOLLOW, rule_of
from imsync.domain.rules import CopyRules
from imsync.ports import ImageStore
from imsync.service.copies import Copier
from imsync.service.copy_notes import CopyNotes
from imsync.service.estate import Estate, RegionGivenUp
from imsync.service.finalize import Finalizer
from imsync.service.journal import Journal
from imsync.service.summary import Result, Summary


class Reconciler:
    """Brings each source's replicas in line with its policy: plans, then starts copies and finishes replicas."""

    def __init__(
        self,
        settings: Settings,
        stores: Callable[[str], ImageStore],
        journal: Journal,
        notes: CopyNotes,
        copier: Copier,
        finalizer: Finalizer,
    ) -> None:
        self._settings = settings
        self._stores = stores
        self._journal = journal
        self._notes = notes
        self._copier = copier
        self._finalizer = finalizer
        self._rules = CopyRules(settings.vaults, tags=TAG_RULES[settings.tag_rules], copy_windows=settings.copy_windows)

    def reconcile(
        self, summary: Summary, estate: Estate, sources: list[Image], on_event: bool = False, no_copy: str | None = None
    ) -> None:
        """Plan every source, report what needs no call, then start the copies and finish the replicas."""
        copies: list[Action] = []
        finals: list[Action] = []
        for source in sources:
            source = self._exact(summary, source)
            policy = parse_policy(source.tags, self._settings.allowed_regions, self._settings.share_targets.keys())
            for refusal in policy.refusals:
                # Caused by the tags themselves: reported like any refusal, so the person who tagged hears it once.
                self._journal.report(summary, Action(REFUSE, source, source.region, refusal), Outcome.REFUSED)
            why_not = no_copy or (
                "imsync-when=schedule: the scheduled DR run copies it"
                if on_event and not policy.copies_on_event
                else None
            )
            for action in self._plan(summary, estate, source, policy, why_not):
                if action.kind == COPY:
                    copies.append(action)
                elif action.kind == FINALIZE:
                    finals.append(action)
                else:
                    self._journal.report(summary, action, REPORTED_AS[action.kind])
        self._copier.start_copies(summary, estate, copies)
        self._finalizer.finalize(summary, finals)
        self._notes.left_behind(summary, estate, sources)  # a source opted out: its notes hold slots for nothing

    def _plan(
        self, summary: Summary, estate: Estate, source: Image, policy: Policy, no_copy: str | None
    ) -> list[Action]:
        copies: dict[str, list[Image]] = {}
        for region in policy.regions:
            if region == source.region or self._rules.refusal(source, region):
                continue  # the planner refuses these; no need to read the region
            try:
                copies[region] = [self._exact(summary, i) for i in estate.copies_of(source.id, region)]
            except ImsyncError as exc:
                self._unreadable(summary, source, region, exc)
        # A region whose listing failed is left out: without IMS's view of it, nothing may be copied there.
        readable = Policy(
            tuple(r for r in policy.regions if r in copies or r == source.region or self._rules.refusal(source, r)),
            policy.aliases,
            policy.when,
        )
        own_refused: list[str] = []

        def shares(region: str) -> tuple[str, ...]:
            projects = self._settings.share_projects(policy.aliases, region)
            own = self._own_project(region)
            if own in projects:  # an image is always visible to its owner; IMS refuses the member (IMG.0108)
                own_refused.append(region)
                projects = tuple(p for p in projects if p != own)
            return projects

        actions = plan_image(
            source,
            readable,
            copies,
            self._rules,
            shares,
            no_copy_reason=no_copy,
            copy_tags=self._settings.copy_tags,
            unlisted=self._notes.unlisted(summary, estate, source, copies, policy.regions),
            follow=rule_of(source.tags, self._settings.retain) == FOLLOW,
        )
        for region in dict.fromkeys(own_refused):
            reason = (
                f"IMSYNC_SHARE_TARGETS lists the owner's own project in {region}; an image is always visible to "
                "its owner, so that project is skipped: remove it from the alias"
            )
            self._journal.record(summary, Result(source.id, region, "share", Outcome.REFUSED, reason, source.region))
        return actions

    def _unreadable(self, summary: Summary, source: Image, region: str, exc: ImsyncError) -> None:
        """A destination IMS did not list: the region fails the run once, each source's work there waits."""
        why = str(exc)
        if not isinstance(exc, (RegionGivenUp, OutOfTime)):
            failed = f"{region} cannot be read ({exc}); given up for this run, the other regions go on"
            self._journal.record(summary, Result("", region, "scan", Outcome.ERROR, failed))
            why = f"{region} cannot be read in this run; the next run looks again"
        self._journal.record(summary, Result(source.id, region, "scan", Outcome.DEFERRED, why, source.region))

    def _exact(self, summary: Summary, image: Image) -> Image:
        """`image` with its tags read one by one when the listing's "key.value" strings were ambiguous.

        Whatever IMSYNC_COPY_TAGS says: a dotted key such as `imsync-regions.cn-east-3_` is listed as
        `imsync-regions.cn-east-3_.` and would otherwise be read as a policy the image does not have.
        """
        if image.tags_exact or image.gone or not (self._settings.copy_tags or _policy_ambiguous(image)):
            return image
        try:
            tags = self._stores(image.region).get_tags(image.id)
        except ImsyncError as exc:
            # Planning without the ambiguous tags is safe: no policy is guessed, and imsync only writes the tags
            # it can read exactly (next run).
            why = f"reading its tags: {exc}"
            self._journal.record(summary, Result(image.id, image.region, "read", Outcome.ERROR, why))
            kept = {k: v for k, v in image.tags.items() if "." not in v}
            return dataclasses.replace(image, tags=kept)
        return dataclasses.replace(image, tags=tags, tags_exact=True)

    def _own_project(self, region: str) -> str | None:
        """The deployment's own project in `region` (None when the store cannot say)."""
        try:
            return self._stores(region).project_id or None
        except ImsyncError:
            return None


def _policy_ambiguous(image: Image) -> bool:
    """Whether a listed "key.value" string may be a longer, dotted key that only starts like an imsync key."""
    return any(key.startswith(POLICY_PREFIX) and "." in value for key, value in image.tags.items())
