"""Copy notes and notice marks written by runs that overlap: each run changes only its own part, from a fresh read."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import pytest

from imsync import bootstrap
from imsync.domain.commands import CompletionTrigger, ImageTrigger
from imsync.domain.errors import Refused
from imsync.domain.model import Image, copy_note_marker, region_hash
from imsync.domain.planner import REFUSE, Action
from imsync.notices import MARK, REFUSED, problem_hash
from imsync.service.claims import RecentNotices
from imsync.service.copy_notes import CopyNotes, NotePlace
from imsync.service.estate import Estate
from imsync.service.journal import Journal
from imsync.service.notifications import Announcer
from imsync.service.summary import Summary
from tests.fakes import FakeCloud, FakeImageStore
from tests.service.conftest import EAST, NORTH, replicator, settings

SOUTH = "cn-south-1"  # another destination whose note another run writes meanwhile
JOB = "0" * 31 + "1"  # a job ID of the shape IMS gives


class Inbox:
    """A notifier that keeps what it was given."""

    def __init__(self) -> None:
        self.notices: list[Mapping[str, object]] = []

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        self.notices.extend(events)


def _minute_note(owner: str) -> str:
    return f"p{int(time.time() // 60):x}-{owner}"  # the service tests' time of day is the machine's


def _notes(cloud: FakeCloud) -> CopyNotes:
    return CopyNotes(cloud.store, Journal(lambda r: None, lambda *a: None), time.time, lambda: False)


def _described_place(cloud: FakeCloud, notes: CopyNotes, source: Image) -> NotePlace:
    """This run's note for cn-east-3, in the description (as ahead() writes it on a source with 10 tags)."""
    value = _minute_note(notes.owner)
    cloud.store(NORTH).set_description(source.id, f"{source.description} {copy_note_marker(EAST, value)}")
    return NotePlace(source, EAST, value, in_tag=False)


def _another_run_notes(cloud: FakeCloud, source: Image, region: str, value: str) -> None:
    """Another run writes its note for `region` into the description (whole, from its own fresh read)."""
    current = cloud.image(NORTH, source.id)
    cloud.store(NORTH).set_description(source.id, f"{current.description} {copy_note_marker(region, value)}")


def test_completing_a_described_note_keeps_the_note_another_run_wrote_since_for_another_region():
    cloud = FakeCloud()
    source = cloud.add(NORTH, name="web", description="base image")
    notes = _notes(cloud)
    place = _described_place(cloud, notes, source)
    theirs = _minute_note("beef5678")
    _another_run_notes(cloud, source, SOUTH, theirs)  # its copy to cn-south-1 is in flight, unlisted

    notes.complete(Summary("test"), place, JOB)

    claims = cloud.image(NORTH, source.id).copy_claims
    assert claims.get(SOUTH) == theirs, cloud.image(NORTH, source.id).description
    assert claims[EAST].startswith("j")  # this run's note now names its job
    assert cloud.image(NORTH, source.id).description.startswith("base image ")


def test_withdrawing_a_described_note_keeps_other_runs_notes():
    cloud = FakeCloud()
    source = cloud.add(NORTH, name="web", description="base image")
    notes = _notes(cloud)
    place = _described_place(cloud, notes, source)
    theirs = _minute_note("beef5678")
    _another_run_notes(cloud, source, SOUTH, theirs)

    notes.withdraw(place)

    assert cloud.image(NORTH, source.id).copy_claims == {SOUTH: theirs}


def test_withdrawing_removes_nothing_when_the_note_is_no_longer_this_runs():
    cloud = FakeCloud()
    source = cloud.add(NORTH, name="web", description="base image")
    notes = _notes(cloud)
    place = _described_place(cloud, notes, source)
    theirs = _minute_note("beef5678")
    # Another run replaced this run's note for the same region (its copy is in flight).
    cloud.store(NORTH).set_description(source.id, f"base image {copy_note_marker(EAST, theirs)}")

    notes.withdraw(place)

    assert cloud.image(NORTH, source.id).copy_claims == {EAST: theirs}


def test_a_copy_note_for_a_region_that_left_the_policy_is_removed():
    cloud = FakeCloud()
    left = _minute_note("abcd1234")  # live: asked for this minute, to a region no longer in the policy
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, f"imsync-copy-{SOUTH}": left})

    replicator(cloud).complete(CompletionTrigger())

    assert f"imsync-copy-{SOUTH}" not in cloud.image(NORTH, source.id).tags


def test_the_copy_notes_of_a_source_that_opted_out_are_removed():
    cloud = FakeCloud()
    cloud.add(NORTH, name="other", tags={"imsync-regions": EAST})  # a source, so that the run reads cn-north-4
    note = _minute_note("abcd1234")
    gone = cloud.add(NORTH, name="web", tags={f"imsync-copy-{EAST}": note}, description=copy_note_marker(SOUTH, note))

    replicator(cloud).complete(CompletionTrigger())

    assert cloud.image(NORTH, gone.id).copy_claims == {}


def _problem(source: Image, reason: str) -> Action:
    return Action(REFUSE, source, EAST, reason)


def _announcer(cloud: FakeCloud, inbox: Inbox, told: RecentNotices, now: list[float], stores=None) -> Announcer:
    return Announcer(
        stores or cloud.store,
        inbox,
        lambda r: None,
        24.0,
        time.time,
        lambda: False,
        told=told,
        clock=lambda: now[0],
    )


def test_two_runs_that_told_different_facts_of_one_source_both_stay_in_its_mark():
    cloud, inbox, told, now = FakeCloud(), Inbox(), RecentNotices(), [100.0]
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST})  # both runs listed it without a mark
    a, b = _announcer(cloud, inbox, told, now), _announcer(cloud, inbox, told, now)
    a.notify(REFUSED, _problem(source, "first fact"), "first fact")
    b.notify(REFUSED, _problem(source, "second fact"), "second fact")

    a.announce(Summary("a"), Estate(cloud.store, lambda: now[0]), [source])
    b.announce(Summary("b"), Estate(cloud.store, lambda: now[0]), [source])

    told_facts = {problem_hash(n) for n in inbox.notices}
    assert len(told_facts) == 2
    assert set(cloud.image(NORTH, source.id).tags[MARK].split("_")) == told_facts


def test_a_problem_told_without_a_claim_leaves_another_runs_claim_in_flight():
    cloud, inbox, told, now = FakeCloud(), Inbox(), RecentNotices(), [100.0]
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST})
    notice = {"type": REFUSED, "source_image_id": source.id, "region": EAST, "reason": "why"}
    fact = (source.id, problem_hash(notice))
    assert told.claim(fact, read_at=50.0)  # another run of this process is telling it now

    a = _announcer(cloud, inbox, told, now)
    a.notify(REFUSED, _problem(source, "why"), "why")
    a.announce(Summary("a"), Estate(cloud.store, lambda: now[0]), [])  # the source is outside this run's scope

    assert not told.claim(fact, read_at=200.0)  # still in flight: a run that read IMS later still waits for it


class BrokenTags(FakeImageStore):
    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        raise RuntimeError("a bug between the claim and the settle")


def test_a_claim_is_settled_when_the_announcement_raises():
    cloud, inbox, told, now = FakeCloud(), Inbox(), RecentNotices(), [100.0]
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST})
    a = _announcer(cloud, inbox, told, now, stores=lambda region: BrokenTags(cloud, region))
    a.notify(REFUSED, _problem(source, "why"), "why")

    with pytest.raises(RuntimeError):
        a.announce(Summary("a"), Estate(cloud.store, lambda: 50.0), [source])

    (notice,) = inbox.notices
    assert told.claim((source.id, problem_hash(notice)), read_at=200.0)  # not in flight for the process's life


class RefusesCopies(FakeCloud):
    def store(self, region: str) -> FakeImageStore:
        return RefusingStore(self, region)


class RefusingStore(FakeImageStore):
    def start_copy(self, image_id, dest_region, name, description, agency, vault_id) -> str:  # type: ignore[no-untyped-def]
        self._cloud.calls.append("copy")
        raise Refused(f"copying {image_id}", "IMG.0137", "the image's OS cannot be copied to this region")


def _run(cloud: FakeCloud, inbox: Inbox, source: Image) -> None:
    wired = bootstrap.wire_replicator(settings(cloud), cloud.store, inbox, sleep=cloud.advance)
    wired.replicate(ImageTrigger((source.id,), NORTH, "direct"))


def test_a_copy_ims_refused_is_announced_once():
    cloud, inbox = RefusesCopies(), Inbox()
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST})

    _run(cloud, inbox, source)  # IMS refuses: remembered on the source, announced
    _run(cloud, inbox, source)  # refused by the remembered tag: the same fact

    assert cloud.calls.count("copy") == 1
    refused = [n for n in inbox.notices if n["type"] == REFUSED]
    assert len(refused) == 1, refused


class RefusesAfterAnotherRunRemembered(RefusesCopies):
    """IMS refuses the copy; another run remembered a refusal to another region just after this run read the source."""

    remembered = ""

    def store(self, region: str) -> FakeImageStore:
        return RemembersAfterListing(self, region)


class RemembersAfterListing(RefusingStore):
    def get_image(self, image_id: str) -> Image | None:
        read = super().get_image(image_id)  # this run's first read of the source, before the other run's write
        cloud = self._cloud
        assert isinstance(cloud, RefusesAfterAnotherRunRemembered)
        if cloud.remembered and read is not None and "imsync-refused" in read.tags:
            self.add_tags(image_id, {"imsync-refused": cloud.remembered})
            cloud.remembered = ""
        return read


def test_remembering_a_refusal_keeps_the_region_just_refused_and_what_another_run_remembered_since():
    cloud, inbox = RefusesAfterAnotherRunRemembered(), Inbox()
    # Six regions' hashes, each above cn-east-3's (18b88a): keeping the last six of the sorted set dropped it.
    others = [c * 6 for c in "abcdef"]
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, "imsync-refused": "_".join(others[:5])})
    cloud.remembered = "_".join(others)  # another run: a sixth region, after this run's first read

    _run(cloud, inbox, source)

    kept = cloud.image(NORTH, source.id).tags["imsync-refused"].split("_")
    assert region_hash(EAST) in kept
    assert len(kept) == 6 and "ffffff" in kept  # the newest of the other run's kept too (the oldest sort goes)


def test_remembering_a_refusal_on_a_source_that_lists_six_keeps_the_region_just_refused():
    cloud, inbox = RefusesCopies(), Inbox()
    others = [c * 6 for c in "abcdef"]  # each above cn-east-3's hash (18b88a): the oldest way kept the last six
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, "imsync-refused": "_".join(others)})

    _run(cloud, inbox, source)

    kept = cloud.image(NORTH, source.id).tags["imsync-refused"].split("_")
    assert region_hash(EAST) in kept and len(kept) == 6
