import pytest

from imsync.domain.model import TAG_IMS_REFUSED, Image, region_hash
from imsync.domain.rules import GIB, CopyRules


def image(**kw):
    base = dict(id="img-1", region="cn-north-4", name="golden", status="active", size_bytes=40 * GIB)
    base.update(kw)
    return Image(**base)


@pytest.mark.parametrize(
    ("changes", "dest", "expected"),
    [
        ({"owned": False, "image_type": "gold"}, "cn-east-3", "not owned by this account"),
        ({"iso": True}, "cn-east-3", "ISO images"),
        ({"encrypted": True}, "cn-east-3", "encrypted images"),
        ({"status": "frozen", "frozen": True}, "cn-east-3", "frozen images"),
        ({}, "cn-north-4", "already lives in cn-north-4"),
        ({"size_bytes": 301 * GIB}, "cn-east-3", "at most 300 GB"),
        ({"region": "ap-southeast-1", "size_bytes": 129 * GIB}, "cn-east-3", "at most 128 GB"),
        ({"whole_image": True}, "ap-southeast-1", "whole-ECS images can only be copied among"),
        ({"whole_image": True}, "cn-east-3", "needs a CBR vault there"),
    ],
)
def test_each_refusal_has_its_reason(changes, dest, expected):
    assert expected in (CopyRules().refusal(image(**changes), dest) or "")


def test_copyable_images_pass():
    rules = CopyRules(vaults={"cn-east-3": "vault-1"})
    assert rules.refusal(image(), "cn-east-3") is None
    assert rules.refusal(image(size_bytes=300 * GIB), "ap-southeast-1") is None
    assert rules.refusal(image(whole_image=True), "cn-east-3") is None


@pytest.mark.parametrize("status", ["queued", "saving"])
def test_images_being_created_are_deferred_not_refused(status):
    assert CopyRules().refusal(image(status=status), "cn-east-3") is None
    assert "still being created" in (CopyRules.deferral(image(status=status)) or "")


def test_encrypted_images_are_never_shared():
    assert "IMG.0098" in (CopyRules.share_refusal(image(encrypted=True)) or "")


def test_an_image_its_owner_has_shared_is_still_its_own():
    # IMS shows __imagetype=shared to the owner of an image it has shared (API reference, querying images).
    shared_by_me = image(image_type="shared", owned=True)
    assert CopyRules().refusal(shared_by_me, "cn-east-3") is None
    assert CopyRules.share_refusal(shared_by_me) is None
    assert "not owned" in (CopyRules.share_refusal(image(image_type="shared", owned=False)) or "")


def test_a_windows_source_is_refused_unless_the_deployment_copies_windows():
    windows = image(os_type="Windows")

    assert "no longer be used to replicate Windows images" in (CopyRules().refusal(windows, "cn-east-3") or "")
    assert CopyRules(copy_windows=True).refusal(windows, "cn-east-3") is None
    assert CopyRules().refusal(image(os_type="Linux"), "cn-east-3") is None


def test_a_region_ims_refused_before_is_refused_from_the_sources_tag():
    refused = image(tags={TAG_IMS_REFUSED: region_hash("cn-east-3")})

    assert TAG_IMS_REFUSED in (CopyRules().refusal(refused, "cn-east-3") or "")
    assert CopyRules().refusal(refused, "cn-south-1") is None


def test_a_frozen_image_is_not_shared_even_when_its_status_reads_active():
    # A listing may mark a frozen image only with __frozen (the emulator's frozen_shape="flag" reading).
    assert "frozen images cannot be shared" in (CopyRules.share_refusal(image(frozen=True)) or "")
    assert CopyRules.share_refusal(image()) is None
