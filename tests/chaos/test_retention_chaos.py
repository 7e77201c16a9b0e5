"""The chaos suite with retention on: sources deleted under faults, invariant 4 after every step (CI size)."""

import pytest

from tests.chaos.retention_invariant import deletions, retaining_chaos_run


@pytest.mark.parametrize("readings", ["documented", "late-copy"])
def test_nothing_is_deleted_that_the_rules_keep_under_faults(readings):
    with retaining_chaos_run(11, 200, images=16, fault_rate=0.08, readings=readings) as chaos:
        figures = chaos.run()
        deleted = deletions(chaos.cloud)

    assert [str(v) for v in chaos.violations] == []
    assert figures.converged
    assert chaos.sources_deleted > 0 and deleted > 0  # retention really deleted replicas, under faults
