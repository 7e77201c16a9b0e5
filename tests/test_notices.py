"""The notification policy's pure parts: what the imsync-noticed mark lists, and what is new."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from imsync.domain.model import MAX_TAG_VALUE, Image, writable_tag
from imsync.notices import MARK, cut_to_fit, has_room, new_in_this_run, next_mark, unannounced


def refused(region: str, reason: str = "ISO images cannot be copied") -> dict[str, str]:
    return {"type": "imsync.copy.refused", "region": region, "reason": reason}


def test_a_problem_listed_in_the_mark_is_not_new_and_another_is():
    old, new = refused("cn-east-3"), refused("cn-south-1")
    mark = next_mark([old], None, partial=False)

    assert mark and writable_tag(MARK, mark)
    assert unannounced([old, new], mark) == [new]


def test_the_same_region_for_another_reason_is_a_new_fact():
    mark = next_mark([refused("cn-east-3")], None, partial=False)

    assert unannounced([refused("cn-east-3", "encrypted images cannot be copied")], mark) != []


def test_a_partial_run_keeps_what_it_could_not_see_and_a_full_run_forgets_it():
    seen, unseen = refused("cn-east-3"), refused("cn-south-1")
    mark = next_mark([seen, unseen], None, partial=False)

    kept = next_mark([seen], mark, partial=True)
    assert unannounced([seen, unseen], kept) == []
    assert next_mark([seen], mark, partial=False) == next_mark([seen], None, partial=False)
    assert next_mark([], mark, partial=False) is None


def test_more_problems_than_fit_in_a_tag_value_are_one_hash_of_the_whole_set():
    problems = [refused(f"region-{n}") for n in range(9)]
    mark = next_mark(problems, None, partial=False)

    assert mark and len(mark) <= MAX_TAG_VALUE and writable_tag(MARK, mark)
    assert unannounced(problems, mark) == []
    assert unannounced([*problems, refused("region-9")], mark) != []


def test_room_for_the_mark_within_ten_tags_and_the_share_marks_slot():
    def image(tags: dict[str, str]) -> Image:
        return Image("i", "cn-north-4", "n", "active", tags=tags)

    nine = {f"k{n}": "v" for n in range(9)}
    assert has_room(image(nine))
    assert not has_room(image({**nine, "k9": "v"}))
    assert has_room(image({**nine, MARK: "abcdef"}))  # already there: rewriting it takes no slot
    assert not has_room(image({**{f"k{n}": "v" for n in range(8)}, "imsync-share": "partner"}))
    # The copy-job note of a region this run copies to comes first, whether written yet or not.
    assert not has_room(image(nine), copy_regions={"cn-east-3"})
    assert has_room(image({**{f"k{n}": "v" for n in range(8)}, "imsync-copy-cn-east-3": "j"}), {"cn-east-3"})
    assert not has_room(image({**nine, MARK: "abcdef"}), copy_regions={"cn-east-3"})  # the mark must give way


def test_each_share_falls_in_one_or_two_runs_intervals():
    runs = [1000.0 + 300 * n for n in range(5)]
    for shared in (1000.0, 1001.0, 1299.0, 1300.0, 1750.0):
        text = datetime.fromtimestamp(shared, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert 1 <= sum(bool(new_in_this_run(text, now, 300)) for now in runs) <= 2, shared
    assert new_in_this_run("not a time", 1000.0, 300) is None


def test_a_problem_not_delivered_stays_out_of_the_mark_and_the_rest_go_in():
    told, lost = refused("cn-east-3"), refused("cn-south-1")

    mark = next_mark([told, lost], None, partial=False, untold=[lost])

    assert unannounced([told, lost], mark) == [lost]


def test_an_overflow_mark_is_written_only_when_the_whole_set_was_told():
    problems = [refused(f"region-{n}") for n in range(9)]
    old = next_mark(problems[:2], None, partial=False)

    assert next_mark(problems, old, partial=False, untold=problems[-1:]) == old  # the old mark stays
    assert unannounced(problems, next_mark(problems, old, partial=False)) == []


def test_a_digest_too_long_keeps_its_first_items_and_counts_the_rest():
    items = [refused(f"region-{n}") for n in range(100)]
    notice = {"type": "imsync.digest", "count": 100, "items": items}

    cut = cut_to_fit(notice, lambda n: len(json.dumps(n)) <= 2000)

    kept = cut["items"]
    assert isinstance(kept, list) and 0 < len(kept) < 100 and kept == items[: len(kept)]
    assert cut["left_out"] == 100 - len(kept) and cut["count"] == 100 and len(json.dumps(cut)) <= 2000
    assert len(json.dumps({**notice, "items": items[: len(kept) + 1], "left_out": 99 - len(kept)})) > 2000
    assert cut_to_fit(refused("cn-east-3"), lambda n: False) == refused("cn-east-3")  # only a digest is cut
