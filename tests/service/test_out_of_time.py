"""Work that does not fit in the time left is deferred with "out of time", never started half-way."""

from __future__ import annotations

from imsync.domain.commands import CompletionTrigger, ImageTrigger, SweepTrigger
from imsync.retry import CALL_SECONDS, RESERVE_SECONDS
from tests.fakes import FakeCloud
from tests.service.conftest import COPY_TIME, EAST, NORTH, replicator, writes

NEARLY_GONE = RESERVE_SECONDS + CALL_SECONDS - 1  # seconds: less than one more call needs


def deferred_for_time(summary):
    return [r for r in summary.results if r.outcome == "deferred" and "out of time" in r.reason]


def test_with_the_time_nearly_gone_no_copy_starts_and_the_next_run_starts_it(cloud):
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST})

    late = replicator(cloud, lambda: NEARLY_GONE).replicate(ImageTrigger((source.id,), NORTH, "direct"))

    assert writes(cloud) == [] and not cloud.images.get(EAST)
    assert len(deferred_for_time(late)) == 1, late.as_dict()
    later = replicator(cloud).sweep(SweepTrigger())
    assert [r.outcome for r in later.results] == ["started"]


def test_time_running_out_between_copies_starts_the_first_and_defers_the_rest(cloud):
    sources = [cloud.add(NORTH, name=f"web-{n}", tags={"imsync-regions": EAST}) for n in range(3)]

    def seconds_left() -> float:  # each copy request costs eight seconds of the invocation
        return NEARLY_GONE + 7 - 8 * cloud.calls.count("copy")

    summary = replicator(cloud, seconds_left).sweep(SweepTrigger())

    assert cloud.calls.count("copy") == 1 and len(cloud.images[EAST]) == 1
    assert len(deferred_for_time(summary)) == 2
    assert sorted(r.outcome for r in summary.results) == ["deferred", "deferred", "started"]
    assert {r.image_id for r in summary.results} == {s.id for s in sources}


def test_with_the_time_nearly_gone_a_finished_copy_is_neither_shared_nor_tagged(cloud: FakeCloud):
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, "imsync-share": "partner", "team": "web"})
    replicator(cloud).replicate(ImageTrigger((source.id,), NORTH, "direct"))
    cloud.advance(COPY_TIME)
    calls = len(cloud.calls)

    late = replicator(cloud, lambda: NEARLY_GONE).complete(CompletionTrigger())

    assert writes(cloud, calls) == []  # no member job, no tag: nothing half-done
    (replica,) = cloud.images[EAST].values()
    assert dict(replica.tags) == {} and replica.id not in cloud.members
    assert len(deferred_for_time(late)) == 1, late.as_dict()
    done = replicator(cloud).complete(CompletionTrigger())
    assert [r.outcome for r in done.results if r.region == EAST] == ["done"]
