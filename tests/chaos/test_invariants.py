"""The chaos suite's newer checks can fail: each violation is planted, and must be reported.

The harness is only as good as what it can see. These tests plant what the unkind world produces (a failed run
that returned normally, a dead region listed per source, a notice storm, a lost notice, an account taking its
own image for a share) and check that the harness reports each one, so a green soak means something.
"""

import json

import pytest

from imsync import bootstrap
from imsync.emulator.model import RequestRecord
from imsync.emulator.smn import Published
from tests.chaos.harness import HOME, LIST_ATTEMPTS, MAX_TAGS, RELAXED_MAX_TAGS, ChaosRun
from tests.chaos.retention_invariant import retaining_chaos_run


def _planted(seed=5, **kwargs):
    chaos = ChaosRun(seed, 0, images=4, **kwargs)
    chaos.__enter__()
    chaos.cloud.faults.clear()
    return chaos


def _kinds(chaos):
    return [v.invariant for v in chaos.violations]


def test_a_failed_run_that_returns_normally_is_reported():
    chaos = _planted()
    try:
        chaos._check_failure("scheduled_dr_copy", {"ok": False, "errors": ["IMS refused the key"]}, None)
        chaos._check_failure("share_on_complete", {"ok": True, "results": []}, RuntimeError("boom"))
        chaos._check_failure("replicate_on_create", {"ok": False, "errors": ["x"]}, RuntimeError("failed"))
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["failed-run", "failed-run"], chaos.violations


def test_a_refused_key_with_the_current_secret_is_reported():
    chaos = _planted()
    try:
        chaos._check_failure("scheduled_dr_copy", {"ok": False, "errors": ["APIGW.0301: bad signature"]}, Exception())
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["auth"], chaos.violations


def test_a_dead_region_listed_more_than_once_per_run_is_reported():
    chaos = _planted()
    try:
        rule = chaos.cloud.faults.add(region="cn-east-3", status=503, count=None)
        chaos._episodes.append((10, "dead:cn-east-3", [rule]))
        first = len(chaos.cloud.requests)
        for _ in range(LIST_ATTEMPTS):  # one listing and its retries: allowed
            chaos.cloud._record(RequestRecord("cn-east-3", "GET", "/v2/cloudimages", "list_images", 503, "owner"))
        chaos._check_dead_region_cost("scheduled_dr_copy", first)
        assert chaos.violations == []
        chaos.cloud._record(RequestRecord("cn-east-3", "GET", "/v2/cloudimages", "list_images", 503, "owner"))
        chaos._check_dead_region_cost("scheduled_dr_copy", first)
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["dead-region"], chaos.violations


def test_a_late_entry_of_an_earlier_run_is_not_counted_as_a_listing_of_this_one():
    chaos = _planted()
    try:
        rule = chaos.cloud.faults.add(region="cn-east-3", status=503, count=None)
        chaos._episodes.append((10, "dead:cn-east-3", [rule]))
        earlier = chaos.cloud.arrival()  # asked before this run began, answered (late) after
        first, first_arrival = len(chaos.cloud.requests), chaos.cloud.arrivals + 1
        late = RequestRecord("cn-east-3", "GET", "/v2/cloudimages", "list_images", 200, "owner", earlier)
        chaos.cloud._record(late)
        for _ in range(LIST_ATTEMPTS):
            asked = chaos.cloud.arrival()
            chaos.cloud._record(
                RequestRecord("cn-east-3", "GET", "/v2/cloudimages", "list_images", 503, "owner", asked)
            )
        chaos._check_dead_region_cost("scheduled_dr_copy", first, first_arrival)
        assert chaos.violations == []
        chaos._check_dead_region_cost("scheduled_dr_copy", first, 0)  # counted by the log's order: one too many
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["dead-region"], chaos.violations


@pytest.mark.parametrize("silent", ["cn-east-3", "smn"])
def test_a_silent_region_waited_out_more_than_once_per_run_is_reported(silent):
    chaos = _planted()
    try:
        acting = chaos.cloud.faults.add(region="cn-east-3", slow=0.01, probability=0.5, seed=1, count=None)
        held = chaos.cloud.faults.add(region="cn-east-3", status=504, delay=0.01, count=None)
        chaos._episodes.append((10, f"silent:{silent}", [acting, held]))
        before, first = chaos._silent_fired(), len(chaos.cloud.requests)
        held.fired += 1  # the run's first request timed out: it gives the region up
        chaos._check_silent_region_cost("scheduled_dr_copy", before, first)
        assert chaos.violations == []
        acting.fired += 1  # and then it asked again (a write IMS carried out, the client heard nothing)
        chaos._check_silent_region_cost("scheduled_dr_copy", before, first)
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["silent-region"], chaos.violations


def test_a_run_that_reports_ok_although_its_key_was_refused_is_reported():
    chaos = _planted()
    try:
        first, first_arrival = len(chaos.cloud.requests), chaos.cloud.arrivals + 1
        refused = RequestRecord(HOME, "GET", "/v2/cloudimages", "list_images", 401, None, chaos.cloud.arrival())
        chaos.cloud._record(refused)
        chaos._check_refused_key_fails("share_on_complete", {"ok": False}, first, first_arrival)
        assert chaos.violations == []  # it failed, as it should
        chaos._check_refused_key_fails("share_on_complete", {"ok": True}, first, first_arrival)
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["wrong-key-ok"], chaos.violations


def test_a_rotation_that_follows_at_once_is_not_undone_by_an_earlier_pending_one():
    import os

    chaos = _planted()
    try:
        chaos._rotate_key(follows_at=chaos.step + 3)  # the setting lags this key
        chaos._rotate_key(follows_at=chaos.step)  # the next rotation is followed at once
        current = os.environ["HUAWEICLOUD_SDK_SK"]
        chaos.step += 5
        chaos._end_episodes()  # the first rotation's update would be due now
        assert os.environ["HUAWEICLOUD_SDK_SK"] == current == chaos.cloud.owner.sk
    finally:
        chaos.__exit__(None, None, None)


def test_a_run_that_reports_ok_although_smn_refused_its_notices_is_reported():
    chaos = _planted()
    try:
        first, first_arrival = len(chaos.cloud.requests), chaos.cloud.arrivals + 1
        path = f"/v2/{'0' * 32}/notifications/topics/{chaos.topic}/publish"
        refused = RequestRecord(HOME, "POST", path, "publish_message", 404, "owner", chaos.cloud.arrival())
        chaos.cloud._record(refused)
        chaos._check_refused_notices_fail("share_on_complete", {"ok": False}, first, first_arrival)
        assert chaos.violations == []  # it failed, as it should
        chaos._check_refused_notices_fail("share_on_complete", {"ok": True}, first, first_arrival)
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["refused-notice"], chaos.violations


def _publish(chaos, notice, message_id="m"):
    structure = json.dumps({"default": "text", "http": json.dumps(notice)})
    chaos.cloud.smn.published.append(Published(chaos.topic, message_id, "s", "", structure, "owner", 0.0))


def test_a_fact_announced_a_third_time_is_a_storm_and_a_reset_fact_may_be_told_again():
    chaos = _planted()
    refused = {"type": "imsync.copy.refused", "source_image_id": "img-1", "region": "cn-east-3", "reason": "r"}
    try:
        for _ in range(2):
            _publish(chaos, refused)
        chaos._check_notices()
        assert chaos.violations == []
        # The problem went away (a run that looked at the image no longer reports it): a new episode.
        settled = {"function": "scheduled_dr_copy", "results": [{"image_id": "img-1", "outcome": "ok"}]}
        chaos._note_problems(settled, None)
        for _ in range(2):
            _publish(chaos, refused)
        chaos._check_notices()
        assert chaos.violations == []
        _publish(chaos, refused)
        chaos._check_notices()
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["notice-storm"], chaos.violations


def test_a_copy_whose_answer_imsync_never_heard_does_not_count_towards_a_storm():
    chaos = _planted()
    refused = {"type": "imsync.copy.refused", "source_image_id": "img-1", "region": "cn-east-3", "reason": "r"}
    try:
        for n in range(3):
            _publish(chaos, refused, message_id=f"m{n}")
        chaos.cloud.smn.unanswered.add("m0")  # its publish was answered with an error after SMN took it
        chaos._check_notices()
    finally:
        chaos.__exit__(None, None, None)
    assert chaos.violations == []


def test_a_replica_announced_ready_three_times_is_a_storm():
    chaos = _planted()
    try:
        for _ in range(3):
            _publish(chaos, {"type": "imsync.replica.ready", "replica_id": "rep-1", "region": "cn-east-3"})
        chaos._check_notices()
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["notice-storm"], chaos.violations


def test_a_deletion_announced_three_times_is_a_storm_and_one_never_announced_is_lost():
    chaos = retaining_chaos_run(5, 0, images=4)
    chaos.__enter__()
    chaos.cloud.faults.clear()
    chaos.retention.deleted |= {"rep-told", "rep-untold"}  # as the retention invariant saw imsync delete them
    try:
        for n in range(3):
            _publish(chaos, {"type": "imsync.replica.deleted", "replica_id": "rep-told"}, message_id=f"m{n}")
        chaos._check_nothing_lost([])
    finally:
        chaos.__exit__(None, None, None)
    assert sorted(v.detail for v in chaos.violations) == [
        "the deletion of replica rep-told announced 3 times",
        "the deletion of replica rep-untold was never announced",
    ]


def test_an_open_problem_that_reached_nobody_is_reported_as_lost_and_a_digest_counts_as_told():
    chaos = _planted()
    open_problem = {"image_id": "img-1", "region": "cn-east-3", "outcome": "refused", "reason": "r"}
    told = {"image_id": "img-2", "region": "cn-east-3", "outcome": "refused", "reason": "r"}
    final = [{"function": "scheduled_dr_copy", "results": [open_problem, told]}]
    try:
        chaos._note_problems(final[0], None)
        item = {"type": "imsync.copy.refused", "source_image_id": "img-2", "region": "cn-east-3"}
        _publish(chaos, {"type": "imsync.digest", "items": [item]})
        chaos._check_nothing_lost(final)
    finally:
        chaos.__exit__(None, None, None)
    assert [v.detail for v in chaos.violations] == ["imsync.copy.refused for img-1 in cn-east-3 was never announced"]


def test_an_account_taking_its_own_image_for_a_share_is_reported():
    chaos = _planted()
    try:
        own = chaos.cloud.region(HOME).add_image(name="mine", members={chaos.cloud.owner.projects[HOME]: "pending"})
        chaos.check_safety()
        chaos._check_own_images_are_no_shares({"results": [{"image_id": own.id, "outcome": "untrusted"}]})
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos).count("3-self") == 2, chaos.violations


def test_a_lasting_duplicate_is_one_finding_not_one_per_step():
    chaos = _planted()
    try:
        source = chaos.cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
        chaos._ever_regions[source.id].add("cn-east-3")
        for _ in range(2):
            chaos.cloud.region("cn-east-3").add_image(name="r", description=f"imsync:source={HOME}/{source.id}")
        chaos.retag(source.id, rewrite=True)  # at step 0: the finding says so, to tell a tool's rewrite apart
        for step in range(1, 4):
            chaos.step = step
            chaos.check_safety()
    finally:
        chaos.__exit__(None, None, None)
    assert _kinds(chaos) == ["1"], chaos.violations
    assert chaos.violations[0].detail.endswith("tags rewritten at steps [0]")


def test_a_full_source_is_full_at_the_reading_in_effect_and_the_harness_makes_some():
    strict, relaxed = _planted(), _planted(readings="relaxed-tags")
    try:
        assert (strict.max_tags, relaxed.max_tags) == (MAX_TAGS, RELAXED_MAX_TAGS)
        full = [relaxed._random_policy() for _ in range(200)]
        assert any(len(tags) == RELAXED_MAX_TAGS for tags in full)
    finally:  # in the reverse order of entering: each run restores what it found (the other run's settings)
        relaxed.__exit__(None, None, None)
        strict.__exit__(None, None, None)


def test_imsyncs_time_of_day_is_the_emulated_clock_so_waits_in_minutes_expire():
    chaos = _planted()
    try:
        before = bootstrap.wall_clock()
        chaos.cloud.clock.advance(3600)
        assert bootstrap.wall_clock() == before + 3600
    finally:
        chaos.__exit__(None, None, None)


def test_a_person_retagging_keeps_imsyncs_notes_and_a_tool_rewriting_the_set_drops_them():
    chaos = _planted()
    try:
        notes = {"imsync-copy-cn-east-3": "job-1", "imsync-noticed": "abcdef"}
        person = chaos.cloud.region(HOME).add_image(name="p", tags={"imsync-regions": "cn-east-3", **notes})
        tool = chaos.cloud.region(HOME).add_image(name="t", tags={"imsync-regions": "cn-east-3", **notes})
        chaos._sources += [person.id, tool.id]
        chaos.retag(person.id)
        chaos.retag(tool.id, rewrite=True)
    finally:
        chaos.__exit__(None, None, None)
    assert notes.items() <= person.tags.items()
    assert not set(notes) & set(tool.tags)
