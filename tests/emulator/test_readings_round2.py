"""The readings added for what no IMS source settles (docs/emulator.md, "Open questions"): each one both ways."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkims.v2 import (
    BatchAddMembersRequest,
    BatchAddMembersRequestBody,
    BatchAddOrDeleteTagsRequest,
    BatchAddOrDeleteTagsRequestBody,
    ListImagesRequest,
    ShowJobProgressRequest,
    TagKeyValue,
)

from imsync.adapters.huawei_ims_wire import PAGE_SIZE
from imsync.emulator.readings import PROFILES, Readings, with_changes
from tests.emulator.test_copy import copy_request

NORTH, EAST = "cn-north-4", "cn-east-3"
ROOT = Path(__file__).resolve().parents[2]


def listed(ims, image_id):
    (image,) = ims(NORTH).list_images(ListImagesRequest(id=image_id)).images
    return image


def test_a_frozen_image_reads_frozen_flagged_or_not_at_all(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="f", frozen=True)
    assert listed(ims, rec.id).status == "frozen"
    cloud.readings = with_changes(cloud.readings, frozen_shape="flag")
    assert listed(ims, rec.id).status == "active"
    cloud.readings = with_changes(cloud.readings, frozen_shape="hidden")
    assert listed(ims, rec.id).status == "active"
    with pytest.raises(ClientRequestException) as refused:  # IMS still refuses to copy it
        ims(NORTH).copy_image_cross_region(copy_request(rec.id))
    assert refused.value.error_code == "IMG.0168"


def test_an_iso_image_may_be_marked_by_its_disk_format_only(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="i", iso=True)
    image = listed(ims, rec.id)
    assert (image.virtual_env_type, image.disk_format) == ("IsoImage", "iso")
    cloud.readings = with_changes(cloud.readings, iso_shape="disk_format")
    image = listed(ims, rec.id)
    assert (image.virtual_env_type, image.disk_format) == ("FusionCompute", "iso")


def test_a_copy_still_saving_may_refuse_tags(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="s", status="saving")
    body = BatchAddOrDeleteTagsRequestBody(action="create", tags=[TagKeyValue(key="team", value="web")])
    request = BatchAddOrDeleteTagsRequest(image_id=rec.id, body=body)
    ims(NORTH).batch_add_or_delete_tags(request)
    assert cloud.region(NORTH).image(rec.id).tags == {"team": "web"}
    cloud.readings = with_changes(cloud.readings, tag_saving_copy=False)
    with pytest.raises(ClientRequestException) as refused:
        ims(NORTH).batch_add_or_delete_tags(request)
    assert refused.value.error_code == "IMG.0026"


def test_the_whole_ecs_region_list_is_a_reading(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="w", whole_image=True)
    assert ims(NORTH).copy_image_cross_region(copy_request(rec.id, vault_id="vault-1")).job_id
    cloud.readings = with_changes(cloud.readings, whole_image_copy_regions=("cn-north-4", "cn-south-1"))
    with pytest.raises(ClientRequestException) as refused:
        ims(NORTH).copy_image_cross_region(copy_request(rec.id, vault_id="vault-1"))
    assert refused.value.error_code == "IMG.0130"


def test_a_member_job_can_succeed_with_one_item_failed_once(cloud, ims):
    cloud.readings = with_changes(cloud.readings, member_job_partial=True)
    images = [cloud.region(NORTH).add_image(name=f"m{n}") for n in range(2)]
    partner = cloud.recipient.projects[NORTH]
    body = BatchAddMembersRequestBody(images=[i.id for i in images], projects=[partner])
    job_id = ims(NORTH).batch_add_members(BatchAddMembersRequest(body=body)).job_id
    cloud.clock.advance(cloud.readings.member_job_seconds)

    job = ims(NORTH).show_job_progress(ShowJobProgressRequest(job_id=job_id))
    assert job.status == "SUCCESS"
    assert [(s.entities.image_id, s.status) for s in job.entities.sub_jobs_result] == [
        (images[0].id, "SUCCESS"),
        (images[1].id, "FAIL"),
    ]
    assert [partner in cloud.region(NORTH).image(i.id).members for i in images] == [True, False]
    again = ims(NORTH).batch_add_members(BatchAddMembersRequest(body=body)).job_id
    cloud.clock.advance(cloud.readings.member_job_seconds)
    assert ims(NORTH).show_job_progress(ShowJobProgressRequest(job_id=again)).status == "SUCCESS"
    assert all(partner in cloud.region(NORTH).image(i.id).members for i in images)


@pytest.mark.parametrize("reading", ["ignored", "fails"])
def test_adding_a_project_that_is_already_a_member_is_ignored_or_fails_that_pair(cloud, ims, reading):
    cloud.readings = with_changes(cloud.readings, member_add_existing=reading)
    shared, fresh = (cloud.region(NORTH).add_image(name=f"m{n}") for n in range(2))
    partner = cloud.recipient.projects[NORTH]
    cloud.region(NORTH).image(shared.id).members[partner] = "accepted"

    def add(*images):
        body = BatchAddMembersRequestBody(images=[i.id for i in images], projects=[partner])
        job_id = ims(NORTH).batch_add_members(BatchAddMembersRequest(body=body)).job_id
        cloud.clock.advance(cloud.readings.member_job_seconds)
        return ims(NORTH).show_job_progress(ShowJobProgressRequest(job_id=job_id))

    both, alone = add(shared, fresh), add(shared)

    results = [(sub.entities.image_id, sub.status) for sub in both.entities.sub_jobs_result or []]
    if reading == "ignored":
        assert (both.status, alone.status) == ("SUCCESS", "SUCCESS")
        assert results == [(shared.id, "SUCCESS"), (fresh.id, "SUCCESS")]
    else:
        assert both.status == "SUCCESS" and results == [(shared.id, "FAIL"), (fresh.id, "SUCCESS")]
        assert alone.status == "FAIL" and "already a member" in alone.fail_reason
    assert cloud.region(NORTH).image(shared.id).members == {partner: "accepted"}  # never reset to pending
    assert partner in cloud.region(NORTH).image(fresh.id).members


def test_the_pessimistic_profile_turns_on_every_reading_that_is_not_the_default():
    # page_info is the one exception: pages capped below the limit *without* page_info are the harder reading.
    documented, pessimistic = Readings(), PROFILES["pessimistic"]
    same = [f.name for f in fields(Readings) if getattr(documented, f.name) == getattr(pessimistic, f.name)]
    assert same == ["page_info"]
    assert pessimistic.page_cap < PAGE_SIZE


def test_docs_list_every_reading_with_its_default():
    text = (ROOT / "docs" / "emulator.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", text, flags=re.MULTILINE))
    for f in fields(Readings):
        default = getattr(Readings(), f.name)
        shown = f'"{default}"' if isinstance(default, str) else str(default)
        assert rows.get(f.name) == shown, f"docs/emulator.md: reading {f.name} should show default {shown}"
