"""A replica's tags are planned as one complete set of at most 10, never as a delta that can pass IMS's limit."""

from __future__ import annotations

from imsync.domain.commands import CompletionTrigger, ImageTrigger
from imsync.domain.model import TAG_SHARED, TAG_SOURCE, TAG_SOURCE_REGION
from imsync.domain.planner import share_fingerprint
from tests.service.conftest import COPY_TIME, EAST, NORTH, replica_of, replicator, retag, writes

USER_TAGS = {f"tag{n}": f"value{n}" for n in range(1, 9)}  # 8 user tags: with lineage, the replica holds 10


def test_sharing_a_full_replica_later_ends_with_a_complete_valid_set_lineage_and_mark_first(cloud):
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, **USER_TAGS})
    replicator(cloud).replicate(ImageTrigger((source.id,), NORTH, "direct"))
    cloud.advance(COPY_TIME)
    replicator(cloud).complete(CompletionTrigger())
    assert len(replica_of(cloud, source).tags) == 10  # lineage and every user tag

    retag(cloud, source, **{"imsync-share": "partner"})
    summary = replicator(cloud).complete(CompletionTrigger())

    partner = cloud.other_project(EAST)
    replica = replica_of(cloud, source)
    kept = dict(sorted(USER_TAGS.items())[:7])  # one copied tag gives way to the share mark
    assert dict(replica.tags) == {
        TAG_SOURCE: source.id,
        TAG_SOURCE_REGION: NORTH,
        TAG_SHARED: share_fingerprint([partner]),
        **kept,
    }
    assert cloud.members[replica.id] == {partner: "pending"}
    assert summary.ok, summary.as_dict()
    calls = len(cloud.calls)
    replicator(cloud).complete(CompletionTrigger())
    assert writes(cloud, calls) == []  # settled: the next run writes nothing


def test_tags_someone_put_on_the_replica_keep_their_place_and_copied_ones_make_room(cloud):
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, **USER_TAGS})
    replicator(cloud).replicate(ImageTrigger((source.id,), NORTH, "direct"))
    cloud.advance(COPY_TIME)
    replicator(cloud).complete(CompletionTrigger())
    store = cloud.store(EAST)
    replica = replica_of(cloud, source)
    store.delete_tags(replica.id, {"tag8": "value8", "tag7": "value7"})
    store.add_tags(replica.id, {"owner-note": "keep", "cost-centre": "42"})  # the replica's own tags

    retag(cloud, source, **{"imsync-share": "partner"})
    replicator(cloud).complete(CompletionTrigger())

    final = dict(replica_of(cloud, source).tags)
    assert len(final) == 10
    assert final[TAG_SOURCE] == source.id and final[TAG_SOURCE_REGION] == NORTH
    assert final[TAG_SHARED] == share_fingerprint([cloud.other_project(EAST)])
    assert final["owner-note"] == "keep" and final["cost-centre"] == "42"
    assert {k for k in final if k.startswith("tag")} == {f"tag{n}" for n in range(1, 6)}
