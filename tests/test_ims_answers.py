"""How the IMS adapter reads an image's JSON: what it does not know is never assumed harmless."""

from imsync.adapters.huawei_ims import image_from_api
from imsync.domain.rules import CopyRules


def test_an_image_without_an_image_type_is_not_taken_for_a_private_one():
    image = image_from_api({"id": "i-1", "status": "active", "name": "x"}, "cn-north-4")

    assert image.image_type == "unknown"
    assert "only private images" in (CopyRules().refusal(image, "cn-east-3") or "")


def test_the_frozen_flag_counts_even_when_the_status_reads_active():
    image = image_from_api({"id": "i-1", "status": "active", "__imagetype": "private", "__frozen": "true"}, "r")

    assert image.frozen
    assert "frozen images cannot be copied" in (CopyRules().refusal(image, "cn-east-3") or "")


def test_tags_are_split_at_the_first_dot_and_sizes_read_from_image_size():
    image = image_from_api(
        {"id": "i", "status": "active", "__imagetype": "private", "tags": ["team.web.v2"], "__image_size": "1024"},
        "r",
    )

    assert image.tags == {"team": "web.v2"}
    assert image.size_bytes == 1024
