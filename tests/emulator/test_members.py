"""Sharing: the owner adds members, the recipient accepts with its own keys and then sees the image."""

from __future__ import annotations

import base64

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkims.v2 import (
    BatchAddMembersRequest,
    BatchAddMembersRequestBody,
    BatchDeleteMembersRequest,
    BatchUpdateMembersRequest,
    BatchUpdateMembersRequestBody,
    GlanceListImageMembersRequest,
    ListImageMembersRequest,
    ListImagesRequest,
    ShowImageMemberRequest,
    ShowJobProgressRequest,
)

from imsync.emulator.readings import with_changes

NORTH, EAST = "cn-north-4", "cn-east-3"


def add(image_ids, projects):
    return BatchAddMembersRequest(body=BatchAddMembersRequestBody(images=image_ids, projects=projects))


def test_share_accept_and_see(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="golden")
    partner_pid = cloud.recipient.projects[NORTH]
    owner, partner = ims(NORTH), ims(NORTH, cloud.recipient)
    job_id = owner.batch_add_members(add([rec.id], [partner_pid])).job_id
    # Asynchronous (IMS API reference): the projects are added by the job, when it ends.
    assert owner.show_job_progress(ShowJobProgressRequest(job_id=job_id)).status == "INIT"
    assert cloud.region(NORTH).image(rec.id).members == {}
    cloud.clock.advance(cloud.readings.member_job_seconds)
    assert owner.show_job_progress(ShowJobProgressRequest(job_id=job_id)).status == "SUCCESS"
    assert cloud.region(NORTH).image(rec.id).members == {partner_pid: "pending"}
    assert partner.list_images(ListImagesRequest(imagetype="shared")).images == []
    pending = partner.list_images(ListImagesRequest(member_status="pending", visibility="shared")).images
    assert [i.id for i in pending] == [rec.id] and pending[0].imagetype == "shared"
    body = BatchUpdateMembersRequestBody(images=[rec.id], project_id=partner_pid, status="accepted")
    partner.batch_update_members(BatchUpdateMembersRequest(body=body))
    assert cloud.region(NORTH).image(rec.id).members == {partner_pid: "accepted"}
    assert [i.id for i in partner.list_images(ListImagesRequest(imagetype="shared")).images] == [rec.id]
    members = owner.list_image_members(ListImageMembersRequest(image_id=rec.id)).members
    assert [(m.member_id, m.status) for m in members] == [(partner_pid, "accepted")]
    glance = owner.glance_list_image_members(GlanceListImageMembersRequest(image_id=rec.id)).members
    assert [m.member_id for m in glance] == [partner_pid]
    mine = partner.show_image_member(ShowImageMemberRequest(image_id=rec.id, member_id=partner_pid))
    assert mine.status == "accepted"
    body = BatchAddMembersRequestBody(images=[rec.id], projects=[partner_pid])
    owner.batch_delete_members(BatchDeleteMembersRequest(body=body))
    assert cloud.region(NORTH).image(rec.id).members == {}


def test_owner_cannot_accept_for_the_recipient(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="g", members={cloud.recipient.projects[NORTH]: "pending"})
    body = BatchUpdateMembersRequestBody(images=[rec.id], project_id=cloud.recipient.projects[NORTH], status="accepted")
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH).batch_update_members(BatchUpdateMembersRequest(body=body))
    assert exc.value.status_code == 403


def test_share_refusals(cloud, ims):
    r = cloud.region(NORTH)
    owner = ims(NORTH)
    enc = r.add_image(name="enc", encrypted=True)
    plain = r.add_image(name="plain")
    whole = r.add_image(name="whole", whole_image=True)
    cases = [
        (add([enc.id], [cloud.recipient.projects[NORTH]]), "IMG.0098"),
        (add([plain.id], [cloud.recipient.projects[EAST]]), "IMG.0108"),
        (add([plain.id], ["0" * 32]), "IMG.0108"),
    ]
    others = [cloud.add_account(f"acc{n}") for n in range(11)]
    cases.append((add([whole.id], [a.projects[NORTH] for a in others]), "IMG.0088"))
    for request, code in cases:
        with pytest.raises(ClientRequestException) as exc:
            owner.batch_add_members(request)
        assert (exc.value.status_code, exc.value.error_code) == (400, code)
    owner.batch_add_members(add([whole.id], [a.projects[NORTH] for a in others[:10]]))
    cloud.run_until_idle()
    assert len(cloud.region(NORTH).image(whole.id).members) == 10


def test_a_failed_member_job_adds_nobody_and_says_why(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="golden")
    cloud.fail_next_member_jobs(code="IMG.0088", reason="too many members")
    owner = ims(NORTH)
    job_id = owner.batch_add_members(add([rec.id], [cloud.recipient.projects[NORTH]])).job_id
    cloud.run_until_idle()
    job = owner.show_job_progress(ShowJobProgressRequest(job_id=job_id))
    assert (job.status, job.error_code, job.fail_reason) == ("FAIL", "IMG.0088", "too many members")
    assert cloud.region(NORTH).image(rec.id).members == {}


def test_member_listing_pages_with_page_info_and_a_base64_marker(cloud, ims):
    # SDK ListImageMembersResponse has page_info in every version; the marker is base64 (ims_03_0661).
    rec = cloud.region(NORTH).add_image(name="g", members={f"{n:032x}": "accepted" for n in range(7)})
    client, seen, marker, markers = ims(NORTH), [], None, []
    while True:
        answer = client.list_image_members(ListImageMembersRequest(image_id=rec.id, limit=3, marker=marker))
        seen += [m.member_id for m in answer.members]
        marker = answer.page_info.next_marker if answer.page_info else None
        if not marker:
            break
        markers.append(marker)
    assert seen == [f"{n:032x}" for n in range(7)]
    assert [base64.b64decode(m).decode() for m in markers] == [f"{n:032x}" for n in (2, 5)]
    with pytest.raises(ClientRequestException) as raw:  # a raw member ID is not a marker
        client.list_image_members(ListImageMembersRequest(image_id=rec.id, limit=3, marker=f"{2:032x}"))
    assert raw.value.status_code == 400


def test_members_limit_128(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="g", members={f"{n:032x}": "accepted" for n in range(128)})
    extra = cloud.add_account("one-more")
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH).batch_add_members(add([rec.id], [extra.projects[NORTH]]))
    assert exc.value.error_code == "IMG.0088"


def test_member_status_without_visibility_shared_is_refused_unless_the_lenient_reading(cloud, ims):
    # SDK ListImagesRequest.member_status docstring and ims_03_0702: the query must set visibility=shared too.
    rec = cloud.region(NORTH).add_image(name="g", members={cloud.recipient.projects[NORTH]: "pending"})
    partner = ims(NORTH, cloud.recipient)
    with pytest.raises(ClientRequestException) as refused:
        partner.list_images(ListImagesRequest(imagetype="shared", member_status="pending"))
    assert refused.value.status_code == 400 and "visibility=shared" in refused.value.error_msg
    documented = ListImagesRequest(imagetype="shared", visibility="shared", member_status="pending")
    assert [i.id for i in partner.list_images(documented).images] == [rec.id]

    cloud.readings = with_changes(cloud.readings, member_status_needs_visibility=False)
    lenient = partner.list_images(ListImagesRequest(imagetype="shared", member_status="pending")).images
    assert [i.id for i in lenient] == [rec.id]


def test_deleting_a_shared_image_under_each_reading(cloud, ims):
    """DELETE /v2/images/{id}: "allowed", the recipient loses the image with it; "refused", members must go first."""
    from huaweicloudsdkims.v2 import GlanceDeleteImageRequest

    from imsync.emulator import Readings

    partner_pid = cloud.recipient.projects[NORTH]
    owner, partner = ims(NORTH), ims(NORTH, cloud.recipient)
    cloud.readings = Readings(delete_shared="refused")
    rec = cloud.region(NORTH).add_image(name="shared", members={partner_pid: "accepted"})
    with pytest.raises(ClientRequestException) as exc:
        owner.glance_delete_image(GlanceDeleteImageRequest(image_id=rec.id))
    assert exc.value.status_code == 400 and cloud.region(NORTH).image(rec.id) is not None

    cloud.readings = Readings(delete_shared="allowed")
    owner.glance_delete_image(GlanceDeleteImageRequest(image_id=rec.id))
    assert cloud.region(NORTH).image(rec.id) is None
    assert partner.list_images(ListImagesRequest(imagetype="shared")).images == []
    with pytest.raises(ClientRequestException) as exc:
        partner.glance_delete_image(GlanceDeleteImageRequest(image_id=rec.id))
    assert exc.value.status_code == 404
