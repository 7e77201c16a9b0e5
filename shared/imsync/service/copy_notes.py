"""The copy notes on sources: copies asked for that IMS may not list yet (docs/reliability.md, "At most one replica").

IMS may list a copy in its destination only some time after accepting it (docs/emulator.md, "Readings"), and
a copy request answered with a 5xx or not at all may have been carried out. So a run notes a copy on its
source *before* asking IMS for it (`p<minute>-<owner>`, CopyNote), and completes the note with the job
once IMS accepted it (`j<minute>-<job>`). Any later run, in any instance, that finds the note and no replica
waits: until the replica is listed, or IMSYNC_UNLISTED_WAIT_MINUTES have passed since the note's minute.
A job that ended FAIL ends its note, which the next copy writes over (never deleted while that copy is wanted:
_ended_unlisted); one that ended SUCCESS is not a listed replica, so its note stays.

The note is the tag `imsync-copy-<region>`; where no tag slot is free (10 tags, the notice mark among them: it
keeps its slot, being the only memory of what was told), it is a marker `imsync:copy=<region>/<note>` in the
source's description. Where slots allow, an ask
tag (`imsync-ask`) written before the note keeps two runs from both asking (CopyNotes.ahead). Without the
ask tag (too few free slots, or a note in the description) a write then a re-read is all there is: that narrows
the race to one IMS round trip, it is not mutual exclusion (docs/reliability.md, "Bounded, not closed"). A note
that cannot be true (not a shape imsync writes, or a time in the future) is ignored, reported and removed; so is
a note for a region readable this run but outside the source's policy (no run copies there).

A description is written whole: each write reads it again first and changes only its own region's marker, so
that another run's note for another region, written since, stays.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, MutableMapping
from dataclasses import dataclass

from imsync.domain.errors import ImsyncError, NotFound, OutcomeUnknown, Unavailable
from imsync.domain.model import (
    COPY_ASK_TAG,
    COPY_CLAIM_PREFIX,
    MAX_TAGS,
    CopyNote,
    Image,
    copy_note_marker,
    without_copy_notes,
)
from imsync.domain.outcomes import Outcome
from imsync.domain.planner import MAX_COPY_ATTEMPTS, Action, pick_replica
from imsync.notices import MARK
from imsync.ports import ImageStore
from imsync.service.estate import Estate
from imsync.service.journal import Journal, write_failure
from imsync.service.summary import Result, Summary

# A note's minute may be ahead of this run's clock by this much (clocks of two instances differ a little);
# further ahead, nobody wrote it at the time it says: it is ignored.
CLOCK_SKEW_MINUTES = 5
# An ask tag matters only while its run notes the copy (seconds); older ones are removed.
ASK_MINUTES = 2
MAX_DESCRIPTION = 1024  # [IMS API reference, "Updating image information"]: at most 1024 characters


@dataclass(frozen=True)
class NotePlace:
    """Where a run wrote its note before asking for a copy: a tag, or the description (each write of which reads
    it again first: CopyNotes._describe)."""

    source: Image
    region: str
    value: str
    in_tag: bool
    asks: bool = False  # the run also wrote its ask tag (imsync-ask)

    @property
    def key(self) -> str:
        return COPY_CLAIM_PREFIX + self.region

    @property
    def ask_key(self) -> str:
        return COPY_ASK_TAG


class CopyNotes:
    """Reads and writes the copy notes that sources carry while IMS does not list their copies."""

    def __init__(
        self,
        stores: Callable[[str], ImageStore],
        journal: Journal,
        wall_clock: Callable[[], float],
        out_of_time: Callable[[], bool],
        wait_minutes: int = 30,
    ) -> None:
        self._stores = stores
        self._journal = journal
        self._wall_clock = wall_clock  # the time of day: a note outlives runs and processes
        self._out_of_time = out_of_time
        self._wait_minutes = wait_minutes  # IMSYNC_UNLISTED_WAIT_MINUTES
        self.owner = secrets.token_hex(4)  # this run's token: whose write-ahead note a re-read shows
        # (source, region) -> a note this run saw end with no replica listed: its next copy writes over it
        self._ended: dict[tuple[str, str], str] = {}

    def _minute(self) -> int:
        return int(self._wall_clock() // 60)

    def _forged(self, value: str) -> str | None:
        """Why a note cannot be true, or None when it can."""
        note = CopyNote.read(value)
        if note is None:
            return "it is not a note imsync writes (a job ID is 32 hexadecimal characters)"
        if note.minute is not None and note.minute > self._minute() + CLOCK_SKEW_MINUTES:
            return "its time is in the future"
        return None

    def _expired(self, note: CopyNote) -> bool:
        return note.minute is not None and self._minute() - note.minute >= self._wait_minutes

    def unlisted(
        self,
        summary: Summary,
        estate: Estate,
        source: Image,
        copies: MutableMapping[str, list[Image]],
        policy_regions: Collection[str] | None = None,
    ) -> dict[str, str]:
        """Regions where a copy was asked for that IMS does not list yet (region -> why it is waited for).

        A copy whose job ended SUCCESS is looked up by its replica ID and, when IMS shows it, added to `copies`.
        Notes whose copy is listed, whose job failed, that waited their time out, or that cannot be true are
        removed (one tag call, one description write at most). So are notes for a region outside the source's
        policy (`policy_regions`; None: the regions of `copies`) that this run did not give up reading: no run
        copies there, and the note would hold one of the 10 tag slots for good.
        """
        policy = set(copies) if policy_regions is None else set(policy_regions)
        unlisted: dict[str, str] = {}
        ended: set[str] = set()
        for region, value in source.copy_claims.items():
            if region in estate.unreadable:  # not readable this run: the note stays, nothing is copied there anyway
                continue
            if region not in policy:  # no run copies there: the note only holds a slot
                ended.add(region)
                continue
            if region not in copies:  # in the policy, not read for this source (refused, out of time): it stays
                continue
            if why := self._forged(value):
                reason = f"copy note for {region} ({value[:43]!r}) ignored and removed: {why}"
                result = Result(source.id, source.region, "claim", Outcome.IGNORED, reason, source.region)
                self._journal.record(summary, result)
                ended.add(region)
                continue
            note = CopyNote.read(value)
            assert note is not None  # not forged
            if any(not r.gone for r in copies[region]):  # its copy is listed: the note has served
                ended.add(region)
                continue
            waiting = None if self._expired(note) else self._waiting(source, region, note, copies)
            if waiting is None and self._ended_unlisted(source, region, value, copies[region]):
                ended.add(region)
            elif waiting:
                unlisted[region] = waiting
        estate.unlisted += len(unlisted)
        asks = self._stale_asks(source)
        if (ended or asks) and not summary.dry_run and not self._out_of_time():
            self._remove(summary, source, ended, asks)
        return unlisted

    def _ended_unlisted(self, source: Image, region: str, value: str, copies: list[Image]) -> bool:
        """A note whose copy ended (failed, unknown to IMS, or waited out) with no replica listed: the copy is asked
        for again, and its note is written over this one, never after deleting it.

        IMS deletes a tag by its key whatever its value, and a delete whose answer did not come may be carried out
        later: after another run wrote its new note for the same copy. That note gone, a run within IMS's listing
        delay saw neither note nor replica and copied a third time (tests/e2e/test_exactly_one_at_the_edges.py,
        the held delete). A note is still removed when no copy follows: imsync stopped retrying the region.
        Returns whether to remove it.
        """
        if pick_replica(copies)[2] >= MAX_COPY_ATTEMPTS:
            return True
        self._ended[(source.id, region)] = value
        return False

    def left_behind(self, summary: Summary, estate: Estate, sources: Collection[Image]) -> None:
        """Remove the copy notes of images this run listed that are sources no more (their imsync-regions tag
        went): no run copies them, and each note would hold one of the 10 tag slots for good."""
        if summary.dry_run:
            return
        scope = {s.id for s in sources}
        for region in estate.loaded_regions():
            for image in estate.images(region):
                if not image.copy_claims or image.opted_in or image.is_replica or image.id in scope:
                    continue
                if self._out_of_time():
                    return
                self._remove(summary, image, set(image.copy_claims), self._stale_asks(image))

    def _stale_asks(self, source: Image) -> dict[str, str]:
        """Ask tags no run can still be using (removing one only ever makes a run back off)."""
        stale = {}
        value = source.tags.get(COPY_ASK_TAG)
        note = CopyNote.read(value) if value is not None else None
        if value is not None and (note is None or (note.minute or 0) <= self._minute() - ASK_MINUTES):
            stale[COPY_ASK_TAG] = value
        return stale

    def _waiting(
        self, source: Image, region: str, note: CopyNote, copies: MutableMapping[str, list[Image]]
    ) -> str | None:
        """Why the note's copy is waited for; "" when its replica was found by ID, None when the note ended."""
        bound = f"waiting up to {self._wait_minutes} min from the request for IMS to list it"
        if not note.job_id:
            return f"a copy to {region} was asked for; {self.lost_answer_wait()}"
        try:
            job = self._stores(source.region).get_job(note.job_id)
        except NotFound:
            return None  # IMS knows no such job: nothing is copying
        except ImsyncError as exc:
            if note.minute is None:  # an older note without a time: nothing bounds it but the job's answer
                return None
            return f"a copy was started (job {note.job_id}); its state is unknown ({exc}): {bound}"
        if job.status == "FAIL":
            return None
        if job.status != "SUCCESS":
            return f"copy started (job {note.job_id}, {job.status}); IMS does not list it in {region} yet"
        # An ended job is not a listed replica: look for its replica by ID, and wait for the listing.
        replica = self._replica(region, job.image_id, source.id)
        if replica is not None:
            copies[region].append(replica)
            return ""
        if note.minute is None:  # an older note without a time: the job's end is all there is to go by
            return None
        return (
            f"copy job {note.job_id} ended (replica {job.image_id or 'not named'}); IMS does not list it yet: {bound}"
        )

    def lost_answer_wait(self) -> str:
        """What a copy request whose answer was lost waits for: said alike when it is lost and by later runs."""
        return (
            f"the copy may have started: it is noted on the source and not asked for again until IMS lists it or "
            f"{self._wait_minutes} min pass (IMSYNC_UNLISTED_WAIT_MINUTES)"
        )

    def _replica(self, region: str, image_id: str, source_id: str) -> Image | None:
        if not image_id:
            return None
        try:
            image = self._stores(region).get_image(image_id)
        except ImsyncError:
            return None
        lineage = image.lineage if image is not None else None
        return image if image is not None and lineage and lineage.source_id == source_id and not image.gone else None

    def _remove(self, summary: Summary, source: Image, regions: set[str], asks: dict[str, str]) -> None:
        """Remove the notes no copy needs any more (listed, out of the policy, not imsync's, given up), as this run
        saw them, and only if they still say what it saw.

        IMS deletes a tag by its key, whatever its value, and a description is written whole: another run may
        have written a new note for the same region since this run listed the source (its copy is then in
        flight). Removing that note would let a later run copy again, so the source is read again first and
        only unchanged notes go (the chaos suite's seed 90210 under the pessimistic profile: two replicas).
        IMS has no compare-and-delete, so a note written between that read and the delete would still go; that
        is why a note whose copy is still wanted is never removed here but written over (_ended_unlisted), and
        the notes removed here are ones after which no run copies that region.
        """
        store = self._stores(source.region)
        keys = sorted({COPY_CLAIM_PREFIX + r for r in regions} & set(source.tags))
        seen = {key: source.tags[key] for key in keys} | asks
        seen_described = {r: v for r, v in source.described_claims.items() if r in regions}
        try:
            fresh = store.get_image(source.id)
            if fresh is None:
                return
            tags = {key: value for key, value in seen.items() if fresh.tags.get(key) == value}
            now_described = fresh.described_claims
            described = {r for r, v in seen_described.items() if now_described.get(r) == v}
            if tags:
                store.delete_tags(source.id, tags)
            if described:
                self._describe(source, dict.fromkeys(described), fresh)
        except ImsyncError as exc:
            why = f"removing copy notes that ended: {exc}; the next run removes them"
            self._journal.record(
                summary, Result(source.id, source.region, "claim", write_failure(exc), why, source.region)
            )

    def ahead(self, summary: Summary, action: Action, report: Callable[..., None]) -> NotePlace | None:
        """Note the copy on its source before it is asked for; where the note went, or None: do not ask.

        The source is read again first: a run that listed it before another run noted the same copy sees that
        note now. Where two tag slots are free (one more stays free), two runs noting the same copy at once
        are kept apart by a second register, the ask tag (Lamport's fast mutual exclusion, without its
        waiting: a run that finds itself in contention backs off): write the ask tag, read the note (another
        run's live note: back off), write the note, read the ask tag (another run's: back off). Whatever the
        interleaving, at most one of them asks IMS. Otherwise a re-read must show this run's note.
        """
        source, region = action.source, action.region
        fresh = self._read(source)
        if fresh is None:
            report(summary, action, Outcome.DEFERRED, "the source could not be read before copying; a later run copies")
            return None
        if other := self._live(fresh, region):
            report(summary, action, Outcome.WAITING, f"another run asked for this copy ({other}); waiting for IMS")
            return None
        place = self._place(fresh, region, CopyNote(self._minute(), owner=self.owner).value)
        if place is None:
            why = (
                "no room for the copy note: 10 tags and a description too long for the marker; not copied, so "
                "that it is never copied twice: free one tag or shorten the description"
            )
            report(summary, action, Outcome.DEFERRED, why)
            return None
        try:
            if place.asks:
                asked = self._ask(place)
                if asked is None or self._live(asked, region):
                    why = "another run is noting this copy now: at most one asks IMS (else a run after the wait)"
                    report(summary, action, Outcome.WAITING, why)
                    return None
            self._write(place, fresh)
        except ImsyncError as exc:
            # A write answered with a 5xx or not at all may have been done: look before giving up.
            done = isinstance(exc, (Unavailable, OutcomeUnknown)) and self._shows(place, own_note=True)
            if not done:
                why = (
                    f"noting the copy on the source failed ({exc}); not copied, so it cannot be made twice: a later run"
                )
                report(summary, action, Outcome.DEFERRED, why)
                return None
        if not self._shows(place, unread_is_ours=not place.asks):
            why = "another run noted this copy at the same time: at most one asks IMS (else a run after the wait)"
            report(summary, action, Outcome.WAITING, why)
            return None
        return place

    def _ask(self, place: NotePlace) -> Image | None:
        """Write this run's ask tag, then read the source again: what it shows, or None when the tag is another's.

        Raises when the write failed and the source does not show it done.
        """
        store = self._stores(place.source.region)
        try:  # room for it, the note and one more tag, the notice mark counted (NotePlace.asks)
            store.add_tags(place.source.id, {place.ask_key: place.value})
        except ImsyncError:
            again = self._read(place.source)
            if again is None or again.tags.get(place.ask_key) != place.value:
                raise
            return again
        again = self._read(place.source)
        return again if again is not None and again.tags.get(place.ask_key) == place.value else None

    def _read(self, source: Image) -> Image | None:
        try:
            return self._stores(source.region).get_image(source.id)
        except ImsyncError:
            return None

    def _live(self, image: Image, region: str) -> str:
        """Another run's note for `region` that still holds the copy ("" when there is none)."""
        value = image.copy_claims.get(region)
        note = CopyNote.read(value) if value else None
        if value is None or note is None or self._forged(value) or self._expired(note):
            return ""
        if self._ended.get((image.id, region)) == value:  # this run saw its copy end: the new note writes over it
            return ""
        return f"note {value}"

    def _place(self, fresh: Image, region: str, value: str) -> NotePlace | None:
        key, ask = COPY_CLAIM_PREFIX + region, COPY_ASK_TAG
        # The notice mark keeps its slot: deleting it would forget what was told, and every return of its slot
        # would tell the source's open problems again (the chaos suite's notice told three times).
        others = len(fresh.tags)
        if key in fresh.tags or others < MAX_TAGS:
            # The ask tag only where it leaves a slot free for the notice mark (when there is none yet) after this run.
            needed = (key not in fresh.tags) + (ask not in fresh.tags)
            asks = others + needed + (MARK not in fresh.tags) <= MAX_TAGS
            return NotePlace(fresh, region, value, in_tag=True, asks=asks)
        before = without_copy_notes(fresh.description, {region})
        if len(before) + 1 + len(copy_note_marker(region, value)) > MAX_DESCRIPTION:
            return None
        return NotePlace(fresh, region, value, in_tag=False)

    def _write(self, place: NotePlace, fresh: Image) -> None:
        store = self._stores(place.source.region)
        if not place.in_tag:
            self._describe(place.source, {place.region: place.value})
            return
        store.add_tags(place.source.id, {place.key: place.value})

    def _shows(self, place: NotePlace, unread_is_ours: bool = False, own_note: bool = False) -> bool:
        """Whether the source shows this run's ask tag (when it wrote one) and a note: its own without an ask
        tag, or when `own_note`; with one, whichever note is there holds the copy. `unread_is_ours`: when the
        source cannot be read, assume so."""
        fresh = self._read(place.source)
        if fresh is None:
            return unread_is_ours
        note = fresh.copy_claims.get(place.region)
        if not place.asks or own_note:
            return note == place.value and (not place.asks or fresh.tags.get(place.ask_key) == place.value)
        return fresh.tags.get(place.ask_key) == place.value and note is not None

    def complete(self, summary: Summary, place: NotePlace, job_id: str) -> None:
        """IMS accepted the copy: its job joins the note (a note without it holds the copy just as well)."""
        note = CopyNote.read(place.value)
        if note is None or self._out_of_time():
            return
        completed = CopyNote(note.minute, job_id=job_id)
        if CopyNote.read(completed.value) != completed:  # a job ID of another shape: the first note holds the copy
            return
        value = completed.value
        store = self._stores(place.source.region)
        try:
            if place.in_tag:
                store.add_tags(place.source.id, {place.key: value})
            else:
                self._describe(place.source, {place.region: value})
        except ImsyncError as exc:
            why = (
                f"adding job {job_id} to the copy note failed ({exc}); the note written before the request holds "
                f"the copy until IMS lists it or {self._wait_minutes} min pass"
            )
            result = Result(place.source.id, place.region, "claim", Outcome.WAITING, why, place.source.region)
            self._journal.record(summary, result)

    def withdraw(self, place: NotePlace) -> None:
        """The copy was certainly not started: remove the note if it is still this run's (if that fails, it holds
        until its time is up). Read again first: another run's note, written since, stays."""
        store = self._stores(place.source.region)
        try:
            fresh = store.get_image(place.source.id)
            if fresh is None:
                return
            if place.in_tag:
                asked = {place.ask_key: place.value} if place.asks else {}
                ours = {k: v for k, v in ({place.key: place.value} | asked).items() if fresh.tags.get(k) == v}
                if ours:
                    store.delete_tags(place.source.id, ours)
            elif fresh.described_claims.get(place.region) == place.value:
                self._describe(place.source, {place.region: None}, fresh)
        except ImsyncError:
            pass

    def _describe(self, source: Image, notes: dict[str, str | None], fresh: Image | None = None) -> None:
        """Set the description markers of `notes`' regions (a note, or None: none), leaving the rest of the
        description as IMS holds it now: read again unless `fresh` was just read. Raises ImsyncError."""
        store = self._stores(source.region)
        if fresh is None:
            fresh = store.get_image(source.id)
            if fresh is None:
                raise NotFound("reading the source before writing its copy note", message=f"{source.id} is gone")
        text = without_copy_notes(fresh.description, set(notes))
        for region, value in sorted(notes.items()):
            if value is not None:
                text = _described(text, region, value)
        store.set_description(source.id, text)


def _described(before: str, region: str, value: str) -> str:
    marker = copy_note_marker(region, value)
    return f"{before} {marker}" if before else marker
