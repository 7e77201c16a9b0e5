"""The chaos suite in CI: a few hundred seeded steps under faults, invariants after every step, then convergence.

The long version is the soak: ``python -m tests.chaos.soak --steps 10000 --seed S`` (docs/reliability.md).
"""

import pytest

from imsync.emulator import PROFILES
from tests.chaos.harness import ALLOWED, HOME, ChaosRun

# The first seed runs in every test run; the second in the thorough tier (.ci/run runs it once).
CI_SEEDS = (7, pytest.param(1913, marks=pytest.mark.thorough))
CI_STEPS = 200


@pytest.mark.parametrize("readings", list(PROFILES))
@pytest.mark.parametrize("seed", CI_SEEDS)
def test_invariants_hold_under_faults_and_the_estate_converges(seed, readings):
    with ChaosRun(seed, CI_STEPS, images=16, fault_rate=0.08, readings=readings) as chaos:
        figures = chaos.run()

    assert [str(v) for v in chaos.violations] == []
    assert figures.converged, "invariant 2 not reached with faults off"
    assert sum(figures.faults.values()) > 20, figures.faults  # the faults really fired
    assert figures.copies > 0 and figures.events["duplicate"] > 0 and figures.events["drop"] > 0
    assert figures.step_kinds["concurrent"] > 0
    assert figures.handler_calls["accept_shares"] > 0
    accepted = [r for r in chaos.cloud.region(HOME).images() if chaos.cloud.recipient.projects[HOME] in r.members]
    assert any(r.members[chaos.cloud.recipient.projects[HOME]] == "accepted" for r in accepted)


# The checks themselves must be able to fail: plant each violation and watch it be reported.


def _planted(seed=5):
    chaos = ChaosRun(seed, 0, images=4)
    chaos.__enter__()
    chaos.cloud.faults.clear()
    return chaos


def test_a_second_live_replica_is_reported_as_invariant_1():
    chaos = _planted()
    try:
        source = chaos.cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
        chaos._ever_regions[source.id].add("cn-east-3")
        for _ in range(2):
            chaos.cloud.region("cn-east-3").add_image(name="r", description=f"imsync:source={HOME}/{source.id}")
        chaos.check_safety()
    finally:
        chaos.__exit__(None, None, None)
    assert any(v.invariant == "1" for v in chaos.violations), chaos.violations


def test_a_replica_in_a_region_not_allowed_or_not_asked_for_is_reported_as_invariant_3():
    chaos = _planted()
    try:
        source = chaos.cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
        chaos._ever_regions[source.id].add("cn-east-3")
        for region in ("ap-southeast-1", "cn-south-1"):
            chaos.cloud.region(region).add_image(name="r", description=f"imsync:source={HOME}/{source.id}")
        chaos.check_safety()
    finally:
        chaos.__exit__(None, None, None)
    details = [v.detail for v in chaos.violations if v.invariant == "3-region"]
    assert any("ap-southeast-1, not allowed" in d for d in details) and any("never in its tags" in d for d in details)
    assert "ap-southeast-1" not in ALLOWED


def test_a_share_with_an_unconfigured_project_is_reported_as_invariant_3():
    chaos = _planted()
    try:
        stranger = chaos.stranger.projects[HOME]
        chaos.cloud.region(HOME).add_image(name="s", tags={"imsync-share": "stranger"}, members={stranger: "pending"})
        chaos.check_safety()
    finally:
        chaos.__exit__(None, None, None)
    assert any(v.invariant == "3-share" for v in chaos.violations), chaos.violations


def test_a_credential_in_a_summary_or_log_line_is_reported():
    chaos = _planted()
    try:
        chaos._scan(f"oops {chaos.cloud.owner.sk}", "summary")
        chaos._scan_log('{"headers": {"Authorization": "SDK-HMAC-SHA256 Access=x, Signature=y"}}')
    finally:
        chaos.__exit__(None, None, None)
    assert {v.invariant for v in chaos.violations} == {"3-credentials"}
    assert len(chaos.violations) >= 3


def test_an_opted_in_image_nothing_reports_is_silently_dropped():
    chaos = _planted()
    try:
        source = chaos.cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3"})
        chaos._sources.append(source.id)
        problems = chaos.completion_problems([{"function": "scheduled_dr_copy", "results": [], "errors": []}])
    finally:
        chaos.__exit__(None, None, None)
    assert any(source.id in p and "silently dropped" in p for p in problems), problems


def test_the_partner_accepting_a_strangers_share_or_rejecting_one_is_reported_as_invariant_3():
    chaos = _planted()
    try:
        partner = chaos.cloud.recipient.projects[HOME]
        theirs = chaos.cloud.region(HOME).add_image(name="t", owner=chaos.stranger, members={partner: "accepted"})
        ours = chaos.cloud.region(HOME).add_image(name="o", members={partner: "rejected"})
        chaos.check_safety()
    finally:
        chaos.__exit__(None, None, None)
    details = [v.detail for v in chaos.violations if v.invariant == "3-accept"]
    assert any(theirs.id in d and "untrusted stranger" in d for d in details), chaos.violations
    assert any(ours.id in d and "rejected" in d for d in details), chaos.violations


def test_a_share_the_partner_never_accepted_keeps_invariant_2_from_holding():
    chaos = _planted()
    try:
        partner = chaos.cloud.recipient.projects["cn-east-3"]
        image = chaos.cloud.region("cn-east-3").add_image(name="o", members={partner: "pending"})
        problems = chaos.completion_problems([])
    finally:
        chaos.__exit__(None, None, None)
    assert f"{image.id} in cn-east-3: shared with the partner, still pending" in problems
