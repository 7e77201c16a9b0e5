"""Finishing: a finished replica (or a source shared in its own region) gets its tags, its shares and its mark."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from imsync.domain.errors import ImsyncError
from imsync.domain.model import TAG_SHARED, TAG_SOURCE, TAG_SOURCE_REGION
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import MAX_SHARE_ATTEMPTS, Action, ShareMark
from imsync.notices import READY
from imsync.ports import ImageStore
from imsync.service.journal import OUT_OF_TIME, Journal, write_failure
from imsync.service.sharing import ALREADY, SHARE_FAILED, SHARED, SHARING, Sharer
from imsync.service.summary import Summary


class Finalizer:
    """Tags and shares the images the planner found finished, region by region."""

    def __init__(
        self,
        stores: Callable[[str], ImageStore],
        journal: Journal,
        sharer: Sharer,
        notify: Callable[[str, Action, str], None],
        out_of_time: Callable[[], bool],
    ) -> None:
        self._stores = stores
        self._journal = journal
        self._sharer = sharer
        self._notify = notify
        self._out_of_time = out_of_time

    def finalize(self, summary: Summary, finals: list[Action]) -> None:
        """Share each region's finished images in batches, then bring each one's tags to the planned set."""
        by_region: dict[str, list[Action]] = defaultdict(list)
        for action in finals:
            by_region[action.target.region].append(action)
        for region, actions in by_region.items():
            if summary.dry_run or self._out_of_time():
                for action in actions:
                    planned = summary.dry_run
                    why = finalize_reason(action, planned=True) if planned else OUT_OF_TIME
                    self._journal.report(summary, action, Outcome.PLANNED if planned else Outcome.DEFERRED, why)
                continue
            store = self._stores(region)
            shares = self._sharer.share(summary, store, actions)
            for action in actions:
                self._write_tags(summary, store, action, *shares.get(id(action), (SHARED, "")))

    def _write_tags(self, summary: Summary, store: ImageStore, action: Action, share: str, detail: str) -> None:
        """Bring the image's tags to the planned set; the share mark says how far the share got."""
        tags = dict(action.tags)
        if TAG_SHARED in tags:  # the planner found room for the mark
            previous = ShareMark.read(action.target.tags.get(TAG_SHARED))
            failures = previous.failures if previous.fingerprint == action.fingerprint else 0
            mark = {
                SHARED: ShareMark(action.fingerprint),
                SHARING: ShareMark(action.fingerprint, submitted=True),
                SHARE_FAILED: ShareMark(action.fingerprint, failures=failures + 1),
            }.get(share)
            if mark is None or mark.value == action.target.tags.get(TAG_SHARED):
                del tags[TAG_SHARED]
            else:
                tags[TAG_SHARED] = mark.value
        elif unmarked(action) and share != SHARED:
            # No room for the mark: the lineage tags wait for the share to end, so that the run that writes
            # them is the one that announces the replica ready (was_ready). The description marker names the
            # source meanwhile.
            tags.pop(TAG_SOURCE, None)
            tags.pop(TAG_SOURCE_REGION, None)
        try:
            if action.remove:
                store.delete_tags(action.target.id, {k: action.target.tags[k] for k in action.remove})
            if tags:
                store.add_tags(action.target.id, tags)
        except ImsyncError as exc:
            why = f"tagging failed: {exc}; the next run tries again"
            self._journal.report(summary, action, write_failure(exc), why)
            return
        self._report_share(summary, action, share, detail, tags.get(TAG_SHARED))

    def _report_share(self, summary: Summary, action: Action, share: str, detail: str, mark: str | None) -> None:
        """Report how far the share got; `mark` is the imsync-shared value this run wrote (None: none)."""
        report = self._journal.report
        if share == SHARED:
            report(summary, action, Outcome.DONE, finalize_reason(action))
            if action.replica is not None and not was_ready(action, detail):
                self._notify(READY, action, finalize_reason(action))
        elif share == SHARING:
            report(summary, action, Outcome.WAITING, f"IMS is still adding the members ({detail}); the next run checks")
        elif share == SHARE_FAILED:
            attempt = ShareMark.read(mark).failures
            retry = (
                f"attempt {attempt} of {MAX_SHARE_ATTEMPTS}; a later run tries again"
                if attempt and attempt < MAX_SHARE_ATTEMPTS
                else "no more retries: fix the cause, then delete the imsync-shared tag to try again"
            )
            report(summary, action, Outcome.FAILED, f"sharing failed ({detail}); {retry}")
        # SHARE_ERROR was reported where the call failed


def unmarked(action: Action) -> bool:
    """Whether `action` shares a replica that has, and gets, no imsync-shared mark (its tags leave no room)."""
    replica = action.replica
    return replica is not None and bool(action.projects) and TAG_SHARED not in {**replica.tags, **action.tags}


def was_ready(action: Action, detail: str) -> bool:
    """Whether the replica was ready (tagged and shared) before this run: then "replica ready" was sent already.

    IMS holds the answer on the replica itself, as its tags were before this run: a done share mark (written
    in the run that made it ready), else the lineage tag, which a replica with no room for the mark gets only
    once its share has ended (Finalizer._write_tags). An owner who edits a tag makes the replica's tags stale,
    not the replica new: it is not announced again.
    """
    before = action.replica.tags if action.replica is not None else {}
    if action.projects and TAG_SHARED in before:
        return ShareMark.read(before[TAG_SHARED]).done
    if action.projects and detail != ALREADY:
        return False  # this run added its members
    return TAG_SOURCE in before or TAG_SOURCE not in action.tags  # a lineage tag that never fits: stay quiet


def finalize_reason(action: Action, planned: bool = False) -> str:
    """What finishing `action` does (planned) or did: '... tagged (2 tags), shared with 1 project'."""
    what = "replica" if action.replica is not None else "source image"
    tags, projects = _count(len(action.tags), "tag"), _count(len(action.projects), "project")
    if planned:
        shared = f", will share with {projects}" if action.projects else ""
        return f"{what} will be tagged ({tags}){shared}"
    shared = f", shared with {projects}" if action.projects else ""
    return f"{what} tagged ({tags}){shared}"


def _count(n: int, noun: str) -> str:
    """'1 tag', '2 tags'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
