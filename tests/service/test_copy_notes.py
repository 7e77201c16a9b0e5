"""A copy whose job ended but whose replica IMS does not list yet: found by the ID the job names, never copied again."""

from __future__ import annotations

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
