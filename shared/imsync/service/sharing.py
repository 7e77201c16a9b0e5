"""Sharing: add the missing members in batches, and follow IMS's member jobs within the time allowed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from imsync.domain.errors import ImsyncError
from imsync.domain.model import TAG_SHARED
from imsync.domain.planner import Action, ShareMark
from imsync.ports import ImageStore
from imsync.retry import CALL_SECONDS, RESERVE_SECONDS, Deadline
from imsync.service.journal import Journal, failure, write_failure
from imsync.service.summary import Summary

MEMBER_BATCH = 50  # images per member call: an assumption, IMS documents no limit for `images`
# How a share ended in this run: IMS's member job succeeded (or nothing was missing), is still running,
# ended FAIL, or a call failed before any job existed.
SHARED, SHARING, SHARE_FAILED, SHARE_ERROR = "shared", "sharing", "share_failed", "share_error"
# The detail of a SHARED that this run did not bring about: the image was shared with every project before it.
ALREADY = "already shared"

Ended = dict[int, tuple[str, str]]  # per action (by id): how its share ended in this run, and why
Jobs = list[tuple[str, list[Action]]]  # IMS's member jobs, each with the actions it covers


def member_job_looks(wait_seconds: float, deadline: Deadline, sleep: Callable[[float], None]) -> Iterator[None]:
    """Paces the looks at IMS's member jobs: one now, then after pauses of 0.5 s doubling up to 8 s.

    Stops before a pause that would pass IMSYNC_SHARE_WAIT_SECONDS (`wait_seconds`) or leave the invocation too
    little time for one more call and the summary: the pause is counted before it is slept, never after.
    """
    waited, pause = 0.0, 0.5
    while True:
        yield
        if waited + pause > wait_seconds or deadline.seconds_left() - pause < RESERVE_SECONDS + CALL_SECONDS:
            return
        sleep(pause)
        waited, pause = waited + pause, min(pause * 2, 8.0)


class Sharer:
    """Shares finished images with their projects: one member call per batch of images missing the same projects."""

    def __init__(
        self, journal: Journal, wait_seconds: float, deadline: Deadline, sleep: Callable[[float], None]
    ) -> None:
        self._journal = journal
        self._wait_seconds = wait_seconds  # IMSYNC_SHARE_WAIT_SECONDS
        self._deadline = deadline
        self._sleep = sleep

    def share(self, summary: Summary, store: ImageStore, actions: list[Action]) -> Ended:
        """Add the missing members, batching images that miss the same projects, and follow IMS's jobs.

        Returns, per action (by id), how its share ended in this run and why.
        """
        ended: Ended = {}
        groups: dict[tuple[str, ...], list[Action]] = defaultdict(list)
        for action in actions:
            mark = ShareMark.read(action.target.tags.get(TAG_SHARED))
            if not action.projects or (mark.done and mark.fingerprint == action.fingerprint):
                ended[id(action)] = (SHARED, ALREADY if action.projects else "")
            elif action.replica is not None and TAG_SHARED not in action.target.tags and TAG_SHARED in action.tags:
                # A replica imsync never shared (it will carry the mark from now on): add every project without
                # listing its members first (one call per replica saved); if IMS refuses the batch, each image is
                # tried again after a look. A replica with no room for the mark is read instead, on every run:
                # without the mark, nothing else says it was shared already.
                groups[tuple(sorted(action.projects))].append(action)
            else:
                # Shared before, or a job of an earlier run may have done it: IMS's members say what is missing.
                missing = self._missing_members(summary, store, action, ended)
                if missing:
                    groups[missing].append(action)
        jobs: Jobs = []
        for projects, group in groups.items():
            for start in range(0, len(group), MEMBER_BATCH):
                jobs += self._add_members(summary, store, group[start : start + MEMBER_BATCH], projects, ended)
        self._follow_jobs(store, jobs, ended)
        self._members_after_failures(store, actions, ended)
        return ended

    def _members_after_failures(self, store: ImageStore, actions: list[Action], ended: Ended) -> None:
        """A job that failed an image may have failed it because its projects were members already (a member call
        asked twice: its answer was lost, or the share mark's write failed after its job). IMS's sources do not say
        what a job does then (docs/emulator.md, member_add_existing): its members decide, one read per image."""
        for action in actions:
            if ended.get(id(action), ("", ""))[0] != SHARE_FAILED:
                continue
            try:
                members = store.list_members(action.target.id)
            except ImsyncError:
                continue  # the failure stands; the next run reads the members before asking again
            if set(action.projects) <= members:
                ended[id(action)] = (SHARED, "")

    def _missing_members(self, summary: Summary, store: ImageStore, action: Action, ended: Ended) -> tuple[str, ...]:
        try:
            missing = tuple(sorted(set(action.projects) - store.list_members(action.target.id)))
        except ImsyncError as exc:
            self._journal.report(summary, action, failure(exc), f"reading the image's members: {exc}")
            ended[id(action)] = (SHARE_ERROR, str(exc))
            return ()
        if not missing:
            ended[id(action)] = (SHARED, ALREADY)
        return missing

    def _add_members(
        self,
        summary: Summary,
        store: ImageStore,
        batch: list[Action],
        projects: tuple[str, ...],
        ended: Ended,
        looked: bool = False,
    ) -> Jobs:
        """One member call for the batch; on refusal, each image alone after a look at its members."""
        try:
            return [(store.add_members([a.target.id for a in batch], list(projects)), batch)]
        except ImsyncError as exc:
            if len(batch) > 1 or not looked:  # one image IMS refuses (member limit, say) must not hold back the rest
                jobs: Jobs = []
                for action in batch:
                    missing = self._missing_members(summary, store, action, ended)
                    if missing:
                        jobs += self._add_members(summary, store, [action], missing, ended, looked=True)
                return jobs
            reason = f"sharing with {len(projects)} project(s): {exc}"
            self._journal.report(summary, batch[0], write_failure(exc), reason)
            ended[id(batch[0])] = (SHARE_ERROR, str(exc))
            return []

    def _follow_jobs(self, store: ImageStore, jobs: Jobs, ended: Ended) -> None:
        """Wait for IMS's member jobs within IMSYNC_SHARE_WAIT_SECONDS and the time left; note how each ended."""
        pending = dict(jobs)
        for _ in member_job_looks(self._wait_seconds, self._deadline, self._sleep):
            for job_id, batch in list(pending.items()):
                try:
                    job = store.get_job(job_id)
                except ImsyncError:
                    continue  # unknown for now: the next run reads the members
                if job.status in ("SUCCESS", "FAIL"):
                    del pending[job_id]
                    why = f"{job.error_code or 'FAIL'}: {job.fail_reason or 'no reason given'}"
                    for action in batch:
                        # A job that succeeded may still list an image whose part failed: that one is not shared.
                        item = job.item_failure(action.target.id) if job.status == "SUCCESS" else why
                        ended[id(action)] = (SHARE_FAILED, f"IMS job {job_id}: {item}") if item else (SHARED, "")
            if not pending:
                break
        for job_id, batch in pending.items():
            for action in batch:
                ended[id(action)] = (SHARING, f"job {job_id}")
