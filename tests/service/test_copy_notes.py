"""A copy whose job ended but whose replica IMS does not list yet: found by the ID the job names, never copied again."""

from __future__ import annotations

import time

from imsync.domain.commands import CompletionTrigger, ImageTrigger
from imsync.domain.model import Image
from tests.fakes import FakeCloud, FakeImageStore
from tests.service.conftest import COPY_TIME, EAST, NORTH, replica_of, replicator


class LateListing(FakeCloud):
    """IMS lists nothing imsync copied in cn-east-3 yet, but shows each image by its ID."""

    def store(self, region: str) -> FakeImageStore:
        return UnlistedReplicas(self, region)


class UnlistedReplicas(FakeImageStore):
    def list_own_images(self) -> list[Image]:
        return [i for i in super().list_own_images() if self.region != EAST or not i.is_replica]


def test_an_ended_job_names_its_replica_which_is_finished_although_unlisted():
    cloud = LateListing()
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, "imsync-share": "partner"})
    replicator(cloud).replicate(ImageTrigger((source.id,), NORTH, "direct"))
    cloud.advance(COPY_TIME)  # the job ended SUCCESS

    summary = replicator(cloud).complete(CompletionTrigger())

    replica = replica_of(cloud, source)
    outcomes = [(r.action, r.outcome) for r in summary.results if r.image_id == source.id]
    assert outcomes == [("finalize", "done")], summary.as_dict()
    assert cloud.members[replica.id] == {cloud.other_project(EAST): "pending"}
    assert "imsync-copy-cn-east-3" in cloud.image(NORTH, source.id).tags  # kept until IMS lists the replica
    assert cloud.calls.count("copy") == 1


class NoteWrittenAfterTheListing(FakeCloud):
    """Another run writes a new copy note on the source just after this run listed it (its copy is in flight)."""

    def __init__(self) -> None:
        super().__init__()
        self.newer: dict[str, dict[str, str]] = {}

    def store(self, region: str) -> FakeImageStore:
        return WritesAfterListing(self, region)


class WritesAfterListing(FakeImageStore):
    def list_own_images(self) -> list[Image]:
        listed = super().list_own_images()
        cloud = self._cloud
        assert isinstance(cloud, NoteWrittenAfterTheListing)
        for image_id, tags in list(cloud.newer.items()):
            if image_id in self._images():
                self.add_tags(image_id, tags)
                del cloud.newer[image_id]
        return listed


def test_a_note_another_run_wrote_since_the_listing_is_not_removed_with_the_one_that_ended():
    # The chaos suite (seed 90210, pessimistic profile): a run that listed the source while its note had ended
    # deleted the tag by key after another run had written a new note there; a third run copied again.
    cloud = NoteWrittenAfterTheListing()
    ended = "p0-abcd1234"  # asked for at minute 0: waited out long ago
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, "imsync-copy-cn-east-3": ended})
    newer = f"p{int(time.time() // 60):x}-beef5678"  # the service tests' time of day is the machine's
    cloud.newer = {source.id: {"imsync-copy-cn-east-3": newer}}

    replicator(cloud).complete(CompletionTrigger())

    assert cloud.image(NORTH, source.id).tags.get("imsync-copy-cn-east-3") == newer
