"""How the IMS adapter reads an image's JSON: what it does not know is never assumed harmless."""

import pytest

from imsync.adapters.huawei_ims_wire import MAX_PAGES, PAGE_SIZE, all_pages, image_from_api
from imsync.domain.errors import Unavailable
from imsync.domain.rules import CopyRules

OWN = "a" * 32


def test_an_image_without_an_owner_is_not_taken_for_the_accounts_own():
    image = image_from_api({"id": "i-1", "status": "active", "name": "x"}, "cn-north-4", OWN)

    assert image.image_type == "unknown" and not image.owned
    assert "not owned by this account" in (CopyRules().refusal(image, "cn-east-3") or "")


def test_ownership_comes_from_the_owner_not_the_image_type():
    shared_by_me = image_from_api({"id": "i", "status": "active", "__imagetype": "shared", "owner": OWN}, "r", OWN)
    shared_with_me = image_from_api(
        {"id": "i", "status": "active", "__imagetype": "shared", "owner": "b" * 32}, "r", OWN
    )

    assert shared_by_me.owned and not shared_with_me.owned


def test_the_frozen_flag_counts_even_when_the_status_reads_active():
    data = {"id": "i-1", "status": "active", "__imagetype": "private", "__frozen": "true", "owner": OWN}
    image = image_from_api(data, "r", OWN)

    assert image.frozen
    assert "frozen images cannot be copied" in (CopyRules().refusal(image, "cn-east-3") or "")


def test_tags_are_split_at_the_first_dot_and_sizes_read_from_image_size():
    image = image_from_api(
        {"id": "i", "status": "active", "__imagetype": "private", "tags": ["team.web.v2"], "__image_size": "1024"},
        "r",
    )

    assert image.tags == {"team": "web.v2"}
    assert not image.tags_exact  # "team.web.v2" may as well be the key "team.web" with the value "v2"
    assert image.size_bytes == 1024
    assert image_from_api({"id": "i", "tags": ["team.web"]}, "r").tags_exact


def test_a_listing_that_keeps_answering_new_markers_stops_with_an_error_that_says_so():
    # Issue 18 §4: the CLI has no deadline, so only a bound on pages ends such a listing.
    asked: list[str | None] = []

    def endless(marker: str | None) -> dict[str, object]:
        asked.append(marker)
        if len(asked) > MAX_PAGES + 5:
            raise AssertionError("the listing was not bounded")
        n = len(asked)
        return {"images": [{"id": f"i-{n}"}], "page_info": {"next_marker": f"m-{n}"}}

    with pytest.raises(Unavailable, match=f"new marker after {MAX_PAGES} pages"):
        all_pages(endless, "images", "id", "listing images in cn-north-4")
    assert len(asked) == MAX_PAGES


def test_a_repeated_marker_stops_the_listing():
    pages = iter([{"images": [{"id": "a"}]}, {"images": [{"id": "b"}], "page_info": {"next_marker": "a"}}])

    with pytest.raises(Unavailable, match="marker a twice"):
        all_pages(lambda marker: next(pages), "images", "id", "listing images in cn-north-4")


def test_without_page_info_a_short_page_is_not_the_end_but_an_empty_one_is():
    answers = {None: ["a", "b"], "b": ["c"], "c": []}
    asked: list[str | None] = []

    def fetch(marker: str | None) -> dict[str, object]:
        asked.append(marker)
        return {"images": [{"id": i} for i in answers[marker]]}

    assert [i["id"] for i in all_pages(fetch, "images", "id", "listing")] == ["a", "b", "c"]
    assert asked == [None, "b", "c"]


def test_page_info_decides_even_on_a_full_page():
    answer = {"images": [{"id": f"i-{n}"} for n in range(PAGE_SIZE)], "page_info": {}}

    assert len(all_pages(lambda marker: answer, "images", "id", "listing")) == PAGE_SIZE


def test_storage_is_the_image_size_else_its_min_disk():
    from imsync.domain.retention import storage_gb

    sized = image_from_api({"id": "i", "__image_size": str(3 * 1024**3), "min_disk": 40}, "r", OWN)
    unsized = image_from_api({"id": "i", "min_disk": "40"}, "r", OWN)
    assert (storage_gb(sized), storage_gb(unsized)) == (3.0, 40.0)
    assert image_from_api({"id": "i", "min_disk": "n/a"}, "r", OWN).min_disk_gb == 0


def test_only_an_item_that_names_a_status_other_than_success_is_a_failed_item():
    # Found by review: an item without a status counted as failed, so a job that succeeded could fail every share.
    from imsync.adapters.huawei_ims import failed_items

    entities = {
        "results": [
            {"image_id": "a", "project_id": "p1", "status": "SUCCESS"},
            {"image_id": "b", "project_id": "p2"},
            {"image_id": "c", "project_id": "p3", "status": "FAIL"},
        ],
        "sub_jobs_result": [{"status": "success", "entities": {"image_id": "d"}}, {"entities": {"image_id": "e"}}],
    }
    assert [image for image, _ in failed_items(entities)] == ["c"]
