"""Sharing is a job: imsync-shared records a share only once IMS's member job has succeeded."""

from __future__ import annotations

from imsync.domain.commands import CompletionTrigger, ImageTrigger
from imsync.domain.model import TAG_SHARED
from imsync.domain.planner import MAX_SHARE_ATTEMPTS, share_fingerprint
from tests.fakes import FakeCloud
from tests.service.conftest import COPY_TIME, EAST, NORTH, replica_of, replicator

REASON = "the project has reached its member quota"


def finished_copy(cloud: FakeCloud):
    """A source shared with the partner in cn-east-3, whose copy there has just finished."""
    source = cloud.add(NORTH, name="web", tags={"imsync-regions": EAST, "imsync-share": "partner"})
    replicator(cloud).replicate(ImageTrigger((source.id,), NORTH, "direct"))
    cloud.advance(COPY_TIME)
    return source


def outcomes(summary, region=EAST):
    return [(r.outcome, r.reason) for r in summary.results if r.region == region]


def test_a_job_that_succeeds_within_the_run_records_the_share(cloud):
    source = finished_copy(cloud)

    summary = replicator(cloud).complete(CompletionTrigger())

    partner = cloud.other_project(EAST)
    replica = replica_of(cloud, source)
    assert replica.tags[TAG_SHARED] == share_fingerprint([partner])
    assert cloud.members[replica.id] == {partner: "pending"}
    assert [o for o, _ in outcomes(summary)] == ["done"]


def test_a_job_still_running_leaves_a_mark_and_the_next_run_reads_the_members(cloud):
    source = finished_copy(cloud)
    fingerprint = share_fingerprint([cloud.other_project(EAST)])

    first = replicator(cloud, share_wait_seconds=0.0).complete(CompletionTrigger())

    replica = replica_of(cloud, source)
    assert replica.tags[TAG_SHARED] == f"p-{fingerprint}"  # submitted, not done
    assert [o for o, _ in outcomes(first)] == ["waiting"]
    cloud.advance(60)
    calls = len(cloud.calls)
    second = replicator(cloud).complete(CompletionTrigger())
    assert replica_of(cloud, source).tags[TAG_SHARED] == fingerprint
    assert "members" in cloud.calls[calls:] and "add_members" not in cloud.calls[calls:]  # checked, not re-sent
    assert [o for o, _ in outcomes(second)] == ["done"]


def test_a_failed_job_is_reported_with_ims_reason_and_retried_by_later_runs(cloud):
    source = finished_copy(cloud)
    cloud.fail_member_jobs.append(REASON)

    first = replicator(cloud).complete(CompletionTrigger())

    replica = replica_of(cloud, source)
    fingerprint = share_fingerprint([cloud.other_project(EAST)])
    assert replica.tags[TAG_SHARED] != fingerprint and replica.id not in cloud.members
    ((outcome, reason),) = outcomes(first)
    assert outcome == "failed" and REASON in reason
    second = replicator(cloud).complete(CompletionTrigger())
    assert replica_of(cloud, source).tags[TAG_SHARED] == fingerprint
    assert cloud.members[replica.id] == {cloud.other_project(EAST): "pending"}
    assert [o for o, _ in outcomes(second)] == ["done"]


def test_a_share_that_keeps_failing_is_tried_a_bounded_number_of_times_then_reported(cloud):
    source = finished_copy(cloud)
    cloud.fail_member_jobs.extend([REASON] * (MAX_SHARE_ATTEMPTS + 1))

    for _ in range(MAX_SHARE_ATTEMPTS + 2):
        summary = replicator(cloud).complete(CompletionTrigger())

    assert cloud.calls.count("add_members") == MAX_SHARE_ATTEMPTS
    ((outcome, reason),) = outcomes(summary)
    assert outcome == "failed" and f"failed {MAX_SHARE_ATTEMPTS} times" in reason
    assert replica_of(cloud, source).id not in cloud.members
