"""The copy-job notes on sources (imsync-copy-<region>): copies started that IMS may not list yet.

IMS may list a copy in its destination only some time after accepting it (docs/emulator.md, "Readings").
The run that starts a copy notes its job on the source, so no other run copies again meanwhile; once the
replica is listed, or the job ended, the note is dropped. A request whose answer was lost has no job: its
note holds the minute it was asked for, and the copy is waited for LOST_WAIT_MINUTES.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from imsync.domain.errors import ImsyncError, NotFound
from imsync.domain.model import COPY_CLAIM_PREFIX, MAX_TAGS, Image, writable_tag
from imsync.ports import ImageStore
from imsync.service.estate import Estate
from imsync.service.journal import Journal, write_failure
from imsync.service.summary import Result, Summary

LOST = "lost-"  # a copy request whose answer was lost: it may have started, its job is unknown
LISTED = "(nothing to note)"  # a copy that may be running and needs no note on its source
# How long a copy whose request's answer was lost is waited for before it is asked for again (IMS may list
# a copy some time after accepting it, and without a job there is nothing else to ask).
LOST_WAIT_MINUTES = 30


def _hex(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        return 0


class CopyNotes:
    """Reads and writes the copy-job notes that sources carry while IMS does not list their copies."""

    def __init__(
        self,
        stores: Callable[[str], ImageStore],
        journal: Journal,
        wall_clock: Callable[[], float],
        out_of_time: Callable[[], bool],
    ) -> None:
        self._stores = stores
        self._journal = journal
        self._wall_clock = wall_clock  # the time of day: a lost request's note outlives runs and processes
        self._out_of_time = out_of_time

    def unlisted(
        self, summary: Summary, estate: Estate, source: Image, copies: Mapping[str, list[Image]]
    ) -> dict[str, str]:
        """Regions where a run started a copy that IMS does not list yet (region -> why it is waited for).

        Notes whose copy is listed now, or whose job ended, are dropped (one tag call).
        """
        unlisted: dict[str, str] = {}
        ended: dict[str, str] = {}
        for region, job_id in source.copy_claims.items():
            if region not in copies:  # not readable this run: the note stays, nothing is copied there anyway
                continue
            if any(not r.gone for r in copies[region]):
                ended[region] = job_id
                continue
            if job_id.startswith(LOST):
                if self._wall_clock() // 60 - _hex(job_id[len(LOST) :]) < LOST_WAIT_MINUTES:
                    unlisted[region] = (
                        f"a copy request's answer was lost; waiting up to {LOST_WAIT_MINUTES} min for IMS to list "
                        "the copy before asking again"
                    )
                else:
                    ended[region] = job_id
                continue
            try:
                job = self._stores(source.region).get_job(job_id)
            except NotFound:
                ended[region] = job_id
                continue
            except ImsyncError as exc:
                unlisted[region] = f"a copy was started (job {job_id}); its state is unknown ({exc}): waiting"
                continue
            if job.status in ("SUCCESS", "FAIL"):
                ended[region] = job_id
            else:
                unlisted[region] = f"copy started (job {job_id}, {job.status}); IMS does not list it in {region} yet"
        estate.unlisted += len(unlisted)
        if ended and not summary.dry_run and not self._out_of_time():
            try:
                self._stores(source.region).delete_tags(
                    source.id, {COPY_CLAIM_PREFIX + region: job_id for region, job_id in ended.items()}
                )
            except ImsyncError as exc:
                self._journal.record(
                    summary, Result(source.id, source.region, "claim", write_failure(exc), str(exc), source.region)
                )
        return unlisted

    def note(self, summary: Summary, started: Mapping[str, dict[str, str]], sources: Mapping[str, Image]) -> None:
        """Note each started copy's job on its source (one tag write per source), as far as the 10 tags allow."""
        for source_id, jobs in started.items():
            source = sources[source_id]
            room = MAX_TAGS - len(source.tags)
            lost = f"{LOST}{int(self._wall_clock() // 60):x}"  # no job to ask about: the time it was asked for
            notes = {COPY_CLAIM_PREFIX + r: lost if j == LOST else j for r, j in sorted(jobs.items())}
            notes = {k: v for k, v in notes.items() if writable_tag(k, v)}
            notes = dict(list(notes.items())[: max(room, 0)])
            if not notes or self._out_of_time():
                continue
            try:
                self._stores(source.region).add_tags(source.id, notes)
            except ImsyncError as exc:
                why = f"noting the copy jobs on the source failed ({exc}); a copy IMS lists late may be made twice"
                self._journal.record(
                    summary, Result(source.id, source.region, "claim", write_failure(exc), why, source.region)
                )
