"""benchmarks/retention.py keeps working, and retention's DR runs stay at the minimum number of IMS calls."""

from __future__ import annotations

from benchmarks import retention


def test_a_follow_estate_with_a_tenth_of_its_sources_gone_costs_the_minimum_calls() -> None:
    recorded, deleted = retention.measure(20)

    for row in (recorded, deleted):
        assert row["ok"], row
        assert row["ims_calls"] == row["min_ims"], row
    assert recorded["calls"]["batch_add_or_delete_tags"] == 10 and recorded["replicas_left"] == 100
    assert deleted["calls"]["glance_delete_image"] == 10 and deleted["replicas_left"] == 90
