"""Retention, each safety point of issue 22 (README "Retention", docs/security.md), on the in-memory fake."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import ClassVar

import pytest

from imsync import bootstrap
from imsync.domain.commands import CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.domain.errors import NotDelivered, Throttled, Unavailable
from imsync.domain.model import Image
from imsync.domain.retention import TAG_KEEP, TAG_ORPHANED, TAG_RETAIN
from imsync.retry import CALL_SECONDS, RESERVE_SECONDS, Deadline
from imsync.service import Replicator
from tests.fakes import FakeCloud, FakeImageStore
from tests.service.conftest import COPY_TIME, EAST, NORTH, replica_of, retag, settings

DAY = 86400.0
START = 1_796_000_000.0  # 2026-11-30 UTC


class Inbox:
    """A notifier that keeps what it was given."""

    def __init__(self) -> None:
        self.notices: list[Mapping[str, object]] = []

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        self.notices.extend(events)

    def of(self, kind: str) -> list[Mapping[str, object]]:
        return [n for n in self.notices if n["type"] == kind]


class World:
    """The fake cloud, a day clock, a notifier, and a Replicator wired like the functions'."""

    def __init__(self, cloud: FakeCloud, stores=None, **changes: object) -> None:
        self.cloud = cloud
        self.now = START
        self.inbox = Inbox()
        self.changes = {"retain_grace_days": 7, **changes}
        self.stores = stores or cloud.store
        self.deadline = Deadline()

    def replicator(self) -> Replicator:
        return bootstrap.wire_replicator(
            settings(self.cloud, **self.changes),
            self.stores,
            self.inbox,
            deadline=self.deadline,
            sleep=self.cloud.advance,
            time_of_day=lambda: self.now,
        )

    def dr_run(self, dry_run: bool = False):
        return self.replicator().sweep(SweepTrigger(dry_run=dry_run))

    def days(self, n: float) -> None:
        self.now += n * DAY


def replicated(world: World, **tags: str) -> tuple[Image, Image]:
    """A source in cn-north-4 with a finished replica in cn-east-3, made by two DR runs."""
    source = world.cloud.add(NORTH, name="golden", tags={"imsync-regions": EAST, **tags})
    world.dr_run()
    world.cloud.advance(COPY_TIME)
    world.dr_run()
    return world.cloud.image(NORTH, source.id), replica_of(world.cloud, source)


def delete_source(world: World, source: Image) -> None:
    world.cloud.images[NORTH][source.id] = replace(world.cloud.image(NORTH, source.id), status="deleted")


def current(world: World, image: Image) -> Image:
    return world.cloud.image(image.region, image.id)


@pytest.fixture
def world(cloud: FakeCloud) -> World:
    return World(cloud)


def test_by_default_replicas_outlive_their_source(world):
    source, replica = replicated(world)
    delete_source(world, source)
    for _ in range(3):
        world.days(10)
        world.dr_run()
    assert current(world, replica).status == "active"
    assert TAG_RETAIN not in current(world, replica).tags and TAG_ORPHANED not in current(world, replica).tags


def test_follow_records_the_first_sighting_then_deletes_after_the_grace_period_once(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    assert replica.tags[TAG_RETAIN] == "follow"  # the rule travels with the replica
    delete_source(world, source)

    world.dr_run()
    assert current(world, replica).tags[TAG_ORPHANED] == "2026-11-30"
    (orphaned,) = world.inbox.of("imsync.replica.orphaned")
    assert orphaned["delete_on"] == "2026-12-07" and orphaned["replica_id"] == replica.id

    world.days(6)
    world.dr_run()
    assert current(world, replica).status == "active"

    world.days(1)
    world.dr_run()
    assert current(world, replica).status == "deleted"
    world.days(1)
    world.dr_run()
    assert len(world.inbox.of("imsync.replica.deleted")) == 1
    assert len(world.inbox.of("imsync.replica.orphaned")) == 1
    assert world.cloud.calls.count("delete") == 1


def test_the_deployment_default_follow_applies_to_sources_without_the_tag(cloud):
    world = World(cloud, retain="follow", retain_grace_days=0)
    source, replica = replicated(world)
    delete_source(world, source)
    world.dr_run()
    assert current(world, replica).status == "active"  # never in the run that first saw it, even with grace 0
    world.dr_run()
    assert current(world, replica).status == "deleted"


def test_event_runs_and_polls_never_delete_even_when_due(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    world.days(30)
    world.replicator().replicate(ImageTrigger((source.id,), NORTH, "direct"))
    world.replicator().complete(CompletionTrigger())
    assert current(world, replica).status == "active"
    assert "delete" not in cloud.calls


def test_a_dry_run_reports_what_it_would_delete_and_changes_nothing(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    planned = world.dr_run(dry_run=True)
    assert TAG_ORPHANED not in current(world, replica).tags
    world.dr_run()
    calls = len(cloud.calls)
    planned = world.dr_run(dry_run=True)
    assert current(world, replica).status == "active"
    assert [r.reason for r in planned.results if r.action == "delete" and r.outcome == "planned"]
    assert "delete" not in cloud.calls[calls:] and not world.inbox.of("imsync.replica.deleted")


def test_an_image_without_the_full_lineage_or_a_source_is_never_deleted(world):
    cloud = world.cloud
    old = {TAG_ORPHANED: "2020-01-01", TAG_RETAIN: "follow"}
    gone = "0" * 8 + "-dead-beef-0000-" + "0" * 12
    lineage_tags = {"imsync-source": gone, "imsync-source-region": NORTH}
    tags_only = cloud.add(EAST, tags={**lineage_tags, **old})
    marker_only = cloud.add(EAST, tags=old, description=f"imsync:source={NORTH}/{gone}")
    a_source = cloud.add(
        EAST, tags={**lineage_tags, **old, "imsync-regions": NORTH}, description=f"imsync:source={NORTH}/{gone}"
    )
    made = cloud.add(EAST, tags={**lineage_tags, **old}, description=f"imsync:source={NORTH}/{gone}")
    world.dr_run()
    assert [current(world, i).status for i in (tags_only, marker_only, a_source)] == ["active"] * 3
    assert current(world, made).status == "deleted"  # the control: the same image with its full lineage goes


def test_imsync_keep_protects_a_replica_and_removes_its_record(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    retag(world.cloud, replica, **{TAG_KEEP: "yes"})
    world.days(30)
    world.dr_run()
    assert current(world, replica).status == "active" and TAG_ORPHANED not in current(world, replica).tags


class FailingListing(FakeImageStore):
    def list_own_images(self) -> list[Image]:
        raise Unavailable(f"listing images in {self.region}", "500", "IMS is unavailable")


class LateListing(FakeImageStore):
    """A listing that misses the images `hidden` names (IMS lists them late); reads by ID still find them."""

    hidden: ClassVar[set[str]] = set()

    def list_own_images(self) -> list[Image]:
        return [i for i in super().list_own_images() if i.id not in self.hidden]


def test_a_failed_listing_of_the_source_region_neither_deletes_nor_clears(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    world.stores = lambda region: FailingListing(cloud, region) if region == NORTH else cloud.store(region)
    world.days(30)
    world.dr_run()
    assert current(world, replica).status == "active"
    assert current(world, replica).tags[TAG_ORPHANED] == "2026-11-30"


def test_a_source_that_ims_lists_late_does_not_look_deleted(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    LateListing.hidden = {source.id}
    world.stores = lambda region: LateListing(cloud, region)
    for _ in range(3):
        world.days(1)
        world.dr_run()
    assert current(world, replica).status == "active" and TAG_ORPHANED not in current(world, replica).tags
    assert cloud.calls.count("get") >= 1  # the missing source was asked for by its ID


def test_a_source_that_reappears_or_turns_keep_clears_the_record(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    retag(world.cloud, source, **{"imsync-regions": "cn-south-1"})  # cn-east-3 leaves the policy
    world.changes["allowed_regions"] = frozenset({EAST, "cn-south-1"})
    world.dr_run()
    assert TAG_ORPHANED in current(world, replica).tags
    retag(world.cloud, source, **{TAG_RETAIN: "keep"})
    world.days(30)
    world.dr_run()
    assert current(world, replica).status == "active" and TAG_ORPHANED not in current(world, replica).tags


def test_a_region_that_returns_to_the_policy_clears_the_record(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    retag(world.cloud, source, **{"imsync-regions": "cn-south-1"})
    world.changes["allowed_regions"] = frozenset({EAST, "cn-south-1"})
    world.dr_run()
    assert TAG_ORPHANED in current(world, replica).tags
    retag(world.cloud, source, **{"imsync-regions": f"cn-south-1_{EAST}"})
    world.days(30)
    world.dr_run()
    assert current(world, replica).status == "active" and TAG_ORPHANED not in current(world, replica).tags


def test_a_shared_replica_loses_its_members_first_and_the_notice_names_who_had_accepted(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow", "imsync-share": "partner"})
    partner = cloud.other_project(EAST)
    cloud.members[replica.id] = {partner: "accepted"}
    delete_source(world, source)
    world.dr_run()
    world.dr_run()
    assert current(world, replica).status == "deleted"
    assert cloud.calls.index("remove_members") < cloud.calls.index("delete")
    (deleted,) = world.inbox.of("imsync.replica.deleted")
    assert deleted["accepted_members"] == [partner]


def test_a_deletion_whose_answer_is_lost_is_read_back_and_not_repeated(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    cloud.lose_delete_answers = 1
    summary = world.dr_run()
    world.dr_run()
    assert current(world, replica).status == "deleted" and cloud.calls.count("delete") == 1
    assert summary.ok and len(world.inbox.of("imsync.replica.deleted")) == 1


class BrokenNotifier(Inbox):
    """SMN down: every publish answered 503 through the notifier's retries (it names them all undelivered)."""

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        raise NotDelivered("publishing", list(events), "503", "SMN is unavailable")


def test_an_orphan_record_whose_notice_was_not_published_is_withdrawn_and_told_again(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    told = world.inbox
    world.inbox = BrokenNotifier()
    summary = world.dr_run()
    assert TAG_ORPHANED not in current(world, replica).tags  # never "announced" without the announcement
    assert [r.outcome for r in summary.results if r.action == "orphan"] == ["done", "deferred"]
    world.inbox = told
    world.dr_run()
    assert TAG_ORPHANED in current(world, replica).tags and len(told.of("imsync.replica.orphaned")) == 1


def test_a_replica_outside_the_policy_drops_follow_when_its_source_says_keep_and_outlives_it(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    world.changes["allowed_regions"] = frozenset({EAST, "cn-south-1"})
    retag(world.cloud, source, **{"imsync-regions": "cn-south-1", TAG_RETAIN: "keep"})
    world.dr_run()
    assert TAG_RETAIN not in current(world, replica).tags
    delete_source(world, source)
    world.days(30)
    world.dr_run()
    world.days(30)
    world.dr_run()
    assert current(world, replica).status == "active"


def test_a_region_retention_cannot_list_is_left_for_a_later_run_and_the_run_stays_ok(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.stores = lambda region: FailingListing(cloud, region) if region == EAST else cloud.store(region)
    summary = world.dr_run()
    assert summary.ok and [r.outcome for r in summary.results if r.region == EAST] == ["deferred"]
    assert TAG_ORPHANED not in current(world, replica).tags


class RetaggedAfterListing(FakeImageStore):
    """Someone changes an image's tags right after IMS listed its region: the run's listing is stale from then on."""

    change: ClassVar[tuple[str, dict[str, str]] | None] = None  # (image id, tags), applied once

    def list_own_images(self) -> list[Image]:
        listing = super().list_own_images()
        if self.change is not None and self.change[0] in self._images():
            image_id, tags = self.change
            RetaggedAfterListing.change = None
            retag(self._cloud, self._images()[image_id], **tags)
        return listing


def test_a_keep_written_after_the_listing_is_read_again_before_deleting(cloud):
    world = World(cloud)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    world.days(30)
    RetaggedAfterListing.change = (replica.id, {TAG_KEEP: "yes"})
    world.stores = lambda region: RetaggedAfterListing(cloud, region)
    summary = world.dr_run()
    assert current(world, replica).status == "active" and "delete" not in cloud.calls
    assert [r.outcome for r in summary.results if r.action == "delete"] == ["ok"]
    assert not world.inbox.of("imsync.replica.deleted")


def test_a_region_put_back_in_the_policy_after_the_listing_is_read_again_before_deleting(cloud):
    world = World(cloud)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    retag(world.cloud, source, **{"imsync-regions": "cn-south-1"})  # cn-east-3 leaves the policy
    world.changes["allowed_regions"] = frozenset({EAST, "cn-south-1"})
    world.dr_run()
    assert TAG_ORPHANED in current(world, replica).tags
    world.days(30)
    RetaggedAfterListing.change = (source.id, {"imsync-regions": f"cn-south-1_{EAST}"})
    world.stores = lambda region: RetaggedAfterListing(cloud, region)
    world.dr_run()
    assert current(world, replica).status == "active" and "delete" not in cloud.calls


class PartlyFailedRemoval(FakeImageStore):
    """IMS's member job ends SUCCESS but lists this image's removal as failed: the member stays."""

    def remove_members(self, image_ids, project_ids) -> str:
        kept = {i: dict(self._cloud.members.get(i, {})) for i in image_ids}
        job_id = super().remove_members(image_ids, project_ids)
        self._cloud.members.update(kept)
        self._cloud.jobs[job_id].failed = (image_ids[-1], project_ids[-1])
        return job_id


def test_a_member_removal_that_succeeded_except_for_this_image_keeps_it(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow", "imsync-share": "partner"})
    partner = cloud.other_project(EAST)
    cloud.members[replica.id] = {partner: "accepted"}
    delete_source(world, source)
    world.dr_run()
    world.stores = lambda region: PartlyFailedRemoval(cloud, region)
    summary = world.dr_run()
    assert current(world, replica).status == "active" and "delete" not in cloud.calls
    (waiting,) = [r for r in summary.results if r.action == "delete"]
    assert waiting.outcome == "waiting" and "FAIL" in waiting.reason
    # Told before the members went; the record remembers it, so the run that does delete it tells nobody again.
    assert "already announced" in waiting.reason and len(world.inbox.of("imsync.replica.deleted")) == 1
    assert current(world, replica).tags[TAG_ORPHANED].endswith(".told")
    world.stores = cloud.store
    summary = world.dr_run()
    assert current(world, replica).status == "deleted" and len(world.inbox.of("imsync.replica.deleted")) == 1
    assert [r.outcome for r in summary.results if r.action == "delete"] == ["done"]


def test_a_deletion_whose_notice_fails_waits_with_its_members_and_is_told_by_the_run_that_deletes(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow", "imsync-share": "partner"})
    partner = cloud.other_project(EAST)
    cloud.members[replica.id] = {partner: "accepted"}
    delete_source(world, source)
    world.dr_run()
    told, world.inbox = world.inbox, BrokenNotifier()
    summary = world.dr_run()
    assert current(world, replica).status == "active" and cloud.members[replica.id] == {partner: "accepted"}
    assert "remove_members" not in cloud.calls and "delete" not in cloud.calls
    (waiting,) = [r for r in summary.results if r.action == "delete"]
    assert waiting.outcome == "deferred" and summary.ok
    world.inbox = told
    world.dr_run()
    assert current(world, replica).status == "deleted"
    (deleted,) = told.of("imsync.replica.deleted")
    assert deleted["accepted_members"] == [partner]


class RefusingDeletes(FakeImageStore):
    """IMS throttles every deletion through all its retries; with `tags_too`, every tag write as well."""

    tags_too = False

    def delete_image(self, image_id: str) -> None:
        raise Throttled(f"deleting image {image_id}", "APIGW.0308", "too many requests")

    def add_tags(self, image_id: str, tags: Mapping[str, str]) -> None:
        if self.tags_too:
            raise Throttled(f"tagging {image_id}", "APIGW.0308", "too many requests")
        super().add_tags(image_id, tags)


@pytest.mark.parametrize("runs_that_fail", [1, 3])
def test_a_deletion_told_then_refused_is_not_told_again_by_the_run_that_deletes(cloud, runs_that_fail):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    world.stores = lambda region: RefusingDeletes(cloud, region)
    reasons = []
    for _ in range(runs_that_fail):
        reasons += [r.reason for r in world.dr_run().results if r.action == "delete"]
    assert "already announced (noted on its orphan record)" in reasons[0]  # the run that told it
    assert all("too many requests" in reason for reason in reasons) and len(reasons) == runs_that_fail
    world.stores = cloud.store
    world.dr_run()
    assert current(world, replica).status == "deleted"
    assert len(world.inbox.of("imsync.replica.deleted")) == 1


def test_a_told_deletion_whose_note_fails_too_is_told_at_most_once_more(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    RefusingDeletes.tags_too = True
    try:
        world.stores = lambda region: RefusingDeletes(cloud, region)
        failed = world.dr_run()
    finally:
        RefusingDeletes.tags_too = False
    (result,) = [r for r in failed.results if r.action == "delete"]
    assert "noting that failed" in result.reason and "may be announced again" in result.reason
    world.dr_run()  # deletions still refused; this run tells again, and its note holds
    world.stores = cloud.store
    world.dr_run()
    assert current(world, replica).status == "deleted"
    assert len(world.inbox.of("imsync.replica.deleted")) == 2


class RefusingNotifier(Inbox):
    """A topic that does not exist (SMN's 404): refused for good, until the deployment changes."""

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        raise NotDelivered("publishing", list(events), "SMN.0006", "Topic not found.", refused=True)


def test_a_deletion_whose_notice_the_notifier_refuses_is_an_error_and_nothing_is_undone(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    world.inbox = RefusingNotifier()
    summary = world.dr_run()
    assert current(world, replica).status == "active" and "delete" not in cloud.calls
    (refused,) = [r for r in summary.results if r.action == "delete"]
    assert refused.outcome == "error" and "IMSYNC_SMN_TOPIC_URN" in refused.reason and not summary.ok


def test_runs_of_one_process_racing_on_a_deletion_tell_it_once(cloud):
    """Duplicate timer deliveries run side by side in one instance: one of them tells and deletes."""
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    nested: list = []
    raced: list = []

    class Racing(FakeImageStore):
        def member_statuses(self, image_id: str) -> dict[str, str]:
            if not raced:  # another run of the process starts while this one is between its read and its delete
                raced.append(image_id)
                nested.append(world.dr_run())
            return super().member_statuses(image_id)

    world.stores = lambda region: Racing(cloud, region)
    world.dr_run()

    (other,) = [r for r in nested[0].results if r.action == "delete"]
    assert other.outcome == "ok" and "another run of this process" in other.reason
    assert current(world, replica).status == "deleted" and len(world.inbox.of("imsync.replica.deleted")) == 1


def test_without_a_notifier_a_deletion_does_not_wait(cloud):
    """The command line has none unless IMSYNC_EVENT_BUS is set: the person reading its answer is told."""
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    delete_source(world, source)
    world.dr_run()
    world.inbox = None
    summary = world.dr_run()
    assert current(world, replica).status == "deleted"
    assert [r.outcome for r in summary.results if r.action == "delete"] == ["done"]


def test_under_relaxed_tag_rules_a_replica_with_ten_tags_still_gets_its_orphan_record(cloud, monkeypatch):
    monkeypatch.setattr("tests.fakes.MAX_TAGS", 20)  # the fake cloud applies the relaxed page's 20 tags too
    world = World(cloud, tag_rules="relaxed")
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    retag(cloud, replica, **{f"team-{n}": "x" for n in range(10 - len(current(world, replica).tags))})
    assert len(current(world, replica).tags) == 10
    delete_source(world, source)
    world.dr_run()
    assert current(world, replica).tags[TAG_ORPHANED] == "2026-11-30"


def test_the_wait_for_a_member_removal_never_sleeps_into_the_time_the_run_keeps(cloud):
    world = World(cloud, retain_grace_days=0)
    source, replica = replicated(world, **{TAG_RETAIN: "follow", "imsync-share": "partner"})
    cloud.members[replica.id] = {cloud.other_project(EAST): "pending"}
    delete_source(world, source)
    world.dr_run()
    reserve = RESERVE_SECONDS + CALL_SECONDS
    end = cloud.now + reserve + 1.2  # room for the 0.5 s pause, not for the 1 s one after it
    world.deadline = Deadline(lambda: (end - cloud.now) * 1000.0)
    world.dr_run()
    assert end - cloud.now >= reserve
    assert current(world, replica).status == "active"  # the job outlasted the time: the next run deletes


class Refusing(Inbox):
    """A notifier that delivers everything but the notices `refused` picks, and says which it could not deliver."""

    def __init__(self, refused) -> None:
        super().__init__()
        self.refused = refused

    def publish(self, events: Iterable[Mapping[str, object]]) -> None:
        events = list(events)
        lost = [n for n in events if self.refused(n)]
        self.notices.extend(n for n in events if not self.refused(n))
        if lost:
            raise NotDelivered("publishing", lost, "500", "SMN refused some")


def test_a_digest_that_keeps_failing_withdraws_no_orphan_record_and_the_replica_goes_after_the_grace(world):
    source, replica = replicated(world, **{TAG_RETAIN: "follow"})
    world.cloud.add(NORTH, name="lost", tags={"imsync-regions": "cn-south-1"})  # refused: an open problem
    world.inbox = Refusing(lambda n: n["type"] == "imsync.digest")
    delete_source(world, source)
    world.dr_run()
    assert TAG_ORPHANED in current(world, replica).tags  # its own notice was delivered
    world.days(8)
    world.dr_run()
    assert current(world, replica).status == "deleted" and len(world.inbox.of("imsync.replica.deleted")) == 1


def test_only_the_replica_whose_orphaned_notice_failed_loses_its_record(world):
    first, kept = replicated(world, **{TAG_RETAIN: "follow"})
    second, untold = replicated(world, **{TAG_RETAIN: "follow"})
    world.inbox = Refusing(lambda n: n["type"] == "imsync.replica.orphaned" and n["replica_id"] == untold.id)
    delete_source(world, first)
    delete_source(world, second)
    world.dr_run()
    assert TAG_ORPHANED in current(world, kept).tags and TAG_ORPHANED not in current(world, untold).tags
