"""The retention rules, pure (shared/imsync/domain/retention.py)."""

from __future__ import annotations

from datetime import date

import pytest

from imsync.domain.model import Image
from imsync.domain.planner import replica_tags
from imsync.domain.retention import (
    CLEAR,
    DUE,
    ORPHAN,
    PENDING,
    TAG_KEEP,
    TAG_ORPHANED,
    TAG_RETAIN,
    SourceView,
    deletion_allowed,
    deletion_told,
    judge,
    recorded,
    rule_of,
)

NORTH, EAST = "cn-north-4", "cn-east-3"
SOURCE_ID = "11111111-2222-3333-4444-555555555555"
TODAY = date(2026, 12, 7)


def replica(**tags: str) -> Image:
    lineage = {"imsync-source": SOURCE_ID, "imsync-source-region": NORTH, TAG_RETAIN: "follow"}
    return Image(
        "r-1", EAST, "copy", "active", tags={**lineage, **tags}, description=f"imsync:source={NORTH}/{SOURCE_ID}"
    )


def source(**tags: str) -> Image:
    return Image(SOURCE_ID, NORTH, "golden", "active", tags={"imsync-regions": EAST, **tags})


GONE = SourceView(known=True, image=None)


def test_an_unknown_or_unreadable_rule_keeps():
    assert rule_of({}, "keep") == "keep" and rule_of({}, "follow") == "follow"
    assert rule_of({TAG_RETAIN: "FOLLOW"}, "keep") == "follow"
    assert rule_of({TAG_RETAIN: "folow"}, "follow") == "keep"


def test_a_gone_source_is_recorded_first_and_deleted_only_after_the_grace_period():
    first = judge(replica(), GONE, TODAY, 7)
    assert first is not None and first.kind == ORPHAN and first.due == date(2026, 12, 14)
    assert judge(replica(**{TAG_ORPHANED: "2026-12-01"}), GONE, TODAY, 7).kind == PENDING
    assert judge(replica(**{TAG_ORPHANED: "2026-11-30"}), GONE, TODAY, 7).kind == DUE
    assert judge(replica(**{TAG_ORPHANED: "2026-12-07"}), GONE, TODAY, 0).kind == DUE


@pytest.mark.parametrize(
    ("value", "since", "told"),
    [
        ("2026-11-30", date(2026, 11, 30), False),
        ("2026-11-30.told", date(2026, 11, 30), True),  # its deletion was announced by a run that could not do it
        ("2026-11-30.told.told", None, False),
        ("2026-11-30.toldx", None, False),
        ("2026-13-30.told", None, False),
        ("told", None, False),
    ],
)
def test_a_record_says_its_date_and_whether_the_deletion_was_told(value, since, told):
    image = replica(**{TAG_ORPHANED: value})
    assert (recorded(image), deletion_told(image)) == (since, told)
    verdict = judge(image, GONE, TODAY, 7)
    assert verdict is not None and verdict.kind == (DUE if since else ORPHAN)  # an unreadable record is re-dated


@pytest.mark.parametrize("status", ["deleted", "killed"])
def test_a_source_ims_shows_deleted_or_killed_is_gone(status):
    shown = SourceView(known=True, image=Image(SOURCE_ID, NORTH, "golden", status))
    assert deletion_allowed(replica(**{TAG_ORPHANED: "2026-01-01"}), shown, TODAY, 7)


def test_nothing_is_decided_when_the_source_could_not_be_read():
    assert judge(replica(**{TAG_ORPHANED: "2026-01-01"}), SourceView(known=False), TODAY, 7) is None


@pytest.mark.parametrize(
    "image",
    [
        replica(**{TAG_ORPHANED: "2026-01-01", TAG_KEEP: ""}),
        replica(**{TAG_ORPHANED: "2026-01-01", TAG_RETAIN: "keep"}),
        replica(**{TAG_ORPHANED: "2026-01-01", "imsync-regions": "cn-south-1"}),
        Image(
            "r-2",
            EAST,
            "copy",
            "active",
            tags={
                "imsync-source": SOURCE_ID,
                "imsync-source-region": NORTH,
                TAG_RETAIN: "follow",
                TAG_ORPHANED: "2026-01-01",
            },
        ),
        Image(
            "r-3",
            EAST,
            "copy",
            "active",
            tags={TAG_RETAIN: "follow", TAG_ORPHANED: "2026-01-01"},
            description=f"imsync:source={NORTH}/{SOURCE_ID}",
        ),
    ],
    ids=["imsync-keep", "made-under-keep", "a-source", "tags-without-marker", "marker-without-tags"],
)
def test_protected_images_are_never_deleted(image):
    assert not deletion_allowed(image, GONE, TODAY, 0)


def test_a_region_that_left_the_policy_orphans_under_follow_only():
    present = SourceView(known=True, image=source(**{"imsync-regions": "cn-south-1", TAG_RETAIN: "follow"}))
    assert judge(replica(), present, TODAY, 7).kind == ORPHAN
    kept = SourceView(known=True, image=source(**{"imsync-regions": "cn-south-1", TAG_RETAIN: "keep"}))
    assert judge(replica(**{TAG_ORPHANED: "2026-01-01"}), kept, TODAY, 7).kind == CLEAR
    still = SourceView(known=True, image=source(**{TAG_RETAIN: "follow"}))
    assert judge(replica(**{TAG_ORPHANED: "2026-01-01"}), still, TODAY, 7).kind == CLEAR
    assert judge(replica(), still, TODAY, 7) is None


def test_the_rule_travels_with_the_replica_right_after_its_lineage_tags():
    full = Image("r-1", EAST, "copy", "active", tags={f"k{i}": "v" for i in range(7)})
    tags = replica_tags(source(), full, copy_tags=True, fingerprint="", follow=True)
    assert tags[TAG_RETAIN] == "follow" and len(tags) == 10
    assert TAG_RETAIN not in replica_tags(source(), replica(), copy_tags=True, fingerprint="", follow=False)
