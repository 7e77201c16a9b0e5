"""Cross-region copy: refusals, the job lifecycle on the clock, agency failures, limits."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkims.v2 import (
    CopyImageCrossRegionRequest,
    CopyImageCrossRegionRequestBody,
    ShowJobProgressRequest,
    ShowJobRequest,
)

from imsync.emulator import Readings

NORTH, EAST, SOUTH, AP = "cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1"


def copy_request(image_id, dest=EAST, name="copy", agency="imsync-copy", project_name=None, vault_id=None, desc=None):
    body = CopyImageCrossRegionRequestBody(
        name=name,
        region=dest,
        project_name=project_name or dest,
        agency_name=agency,
        description=desc if desc is not None else f"imsync:source={NORTH}/{image_id}",
        vault_id=vault_id,
    )
    return CopyImageCrossRegionRequest(image_id=image_id, body=body)


def refused(client, request):
    with pytest.raises(ClientRequestException) as exc:
        client.copy_image_cross_region(request)
    return exc.value.status_code, exc.value.error_code


def test_job_lifecycle_follows_the_clock(cloud, ims):
    src = cloud.region(NORTH).add_image(name="golden", size_gb=20, tags={"k": "v"})
    client = ims(NORTH)
    job_id = client.copy_image_cross_region(copy_request(src.id, name="copy_cn-north-4_golden")).job_id
    [replica] = cloud.region(EAST).replicas_of(src.id)
    assert (replica.status, replica.name, replica.tags) == ("queued", "copy_cn-north-4_golden", {})
    assert replica.size_bytes == src.size_bytes
    assert replica.description == f"imsync:source={NORTH}/{src.id}"
    job = client.show_job(ShowJobRequest(job_id=job_id))
    assert job.status == "INIT" and job.entities.image_id is None
    assert cloud.in_flight() and cloud.max_in_flight == 1
    cloud.clock.advance(30)
    job = client.show_job(ShowJobRequest(job_id=job_id))
    assert job.status == "RUNNING" and 0 < job.entities.process_percent < 100
    assert cloud.region(EAST).image(replica.id).status == "saving"
    duration = cloud.copy_duration(src.size_bytes)
    assert duration == 60 + 2 * 20
    cloud.clock.advance(duration)
    job = client.show_job(ShowJobRequest(job_id=job_id))
    assert job.status == "SUCCESS" and job.entities.image_id == replica.id
    assert client.show_job_progress(ShowJobProgressRequest(job_id=job_id)).status == "SUCCESS"
    assert cloud.region(EAST).image(replica.id).status == "active"
    assert not cloud.in_flight()


def test_job_is_read_in_the_source_region_only(cloud, ims):
    src = cloud.region(NORTH).add_image(name="g")
    job_id = ims(NORTH).copy_image_cross_region(copy_request(src.id)).job_id
    with pytest.raises(ClientRequestException) as exc:
        ims(EAST).show_job(ShowJobRequest(job_id=job_id))
    assert exc.value.status_code == 404


def test_fail_next_copy_kills_the_replica(cloud, ims):
    src = cloud.region(NORTH).add_image(name="g")
    cloud.fail_next_copy("IMG.0100", "disk error")
    job_id = ims(NORTH).copy_image_cross_region(copy_request(src.id)).job_id
    cloud.run_until_idle()
    job = ims(NORTH).show_job(ShowJobRequest(job_id=job_id))
    assert (job.status, job.error_code, job.fail_reason) == ("FAIL", "IMG.0100", "disk error")
    assert [r.status for r in cloud.region(EAST).replicas_of(src.id)] == ["killed"]
    second = ims(NORTH).copy_image_cross_region(copy_request(src.id, dest=SOUTH)).job_id
    cloud.run_until_idle()
    assert ims(NORTH).show_job(ShowJobRequest(job_id=second)).status == "SUCCESS"


@pytest.mark.parametrize(
    "setup",
    ["missing", "no_role_in_destination", "all_projects"],
)
def test_agency_problems_fail_the_job(cloud, ims, setup):
    if setup == "missing":
        cloud.remove_agency("imsync-copy")
    elif setup == "no_role_in_destination":
        cloud.set_agency("imsync-copy", {NORTH: ["IMS Administrator"], EAST: ["OBS Administrator"]})
    else:
        cloud.set_agency("imsync-copy", {NORTH: ["IMS Administrator"]}, all_projects=True)
    src = cloud.region(NORTH).add_image(name="g")
    job_id = ims(NORTH).copy_image_cross_region(copy_request(src.id)).job_id
    cloud.run_until_idle()
    job = ims(NORTH).show_job(ShowJobRequest(job_id=job_id))
    assert (job.status, job.error_code) == ("FAIL", "IMG.0179")
    assert [r.status for r in cloud.region(EAST).replicas_of(src.id)] == ["killed"]


@pytest.mark.parametrize(
    ("kwargs", "dest", "code"),
    [
        ({"iso": True}, EAST, "IMG.0167"),
        ({"encrypted": True}, EAST, "IMG.0197"),
        ({"frozen": True}, EAST, "IMG.0168"),
        ({"status": "queued"}, EAST, "IMG.0026"),
        ({"status": "saving"}, EAST, "IMG.0026"),
        ({}, NORTH, "IMG.0146"),
        ({"size_gb": 301}, EAST, "IMG.0136"),
        ({"whole_image": True}, AP, "IMG.0130"),
        ({"whole_image": True}, EAST, "IMG.0130"),  # no vault_id
    ],
)
def test_copy_refusals(cloud, ims, kwargs, dest, code):
    src = cloud.region(NORTH).add_image(name="g", **kwargs)
    assert refused(ims(NORTH), copy_request(src.id, dest=dest)) == (400, code)
    assert not cloud.region(dest).replicas_of(src.id)


def test_size_limit_depends_on_source_region(cloud, ims):
    big_ap = cloud.region(AP).add_image(name="big", size_gb=129)
    assert refused(ims(AP), copy_request(big_ap.id, dest=EAST)) == (400, "IMG.0136")
    ok_north = cloud.region(NORTH).add_image(name="big", size_gb=300)
    assert ims(NORTH).copy_image_cross_region(copy_request(ok_north.id)).job_id


def test_whole_image_with_vault_is_copied(cloud, ims):
    src = cloud.region(NORTH).add_image(name="whole", whole_image=True)
    assert ims(NORTH).copy_image_cross_region(copy_request(src.id, vault_id="vault-1")).job_id


def test_not_private_and_unknown_destination(cloud, ims):
    gold = cloud.region(NORTH).add_image(name="public", image_type="gold")
    assert refused(ims(NORTH), copy_request(gold.id)) == (403, "IMG.0161")
    src = cloud.region(NORTH).add_image(name="g")
    assert refused(ims(NORTH), copy_request(src.id, dest="eu-west-0")) == (400, "IMG.0145")
    assert refused(ims(NORTH), copy_request(src.id, project_name="cn-south-1")) == (400, "IMG.0145")


def test_shared_image_cannot_be_copied_by_recipient(cloud, ims):
    src = cloud.region(NORTH).add_image(name="g", members={cloud.recipient.projects[NORTH]: "accepted"})
    assert refused(ims(NORTH, cloud.recipient), copy_request(src.id)) == (403, "IMG.0161")


def test_at_most_five_copies_in_flight(cloud, ims):
    client = ims(NORTH)
    images = [cloud.region(NORTH).add_image(name=f"g{n}") for n in range(6)]
    for img in images[:5]:
        client.copy_image_cross_region(copy_request(img.id))
    assert refused(client, copy_request(images[5].id)) == (400, "IMG.0060")
    assert len(cloud.in_flight()) == 5 and cloud.max_in_flight == 5
    cloud.run_until_idle()
    assert client.copy_image_cross_region(copy_request(images[5].id)).job_id


def test_private_image_quota_in_destination(monkeypatch, ims):
    from imsync.emulator import Emulator

    with Emulator(image_quota=1, copy_base_seconds=5, copy_seconds_per_gb=0) as small:
        for key, value in small.env.items():
            monkeypatch.setenv(key, value)
        small.region(EAST).add_image(name="already-here")
        src = small.region(NORTH).add_image(name="g")
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkims.v2 import ImsClient

        client = (
            ImsClient.new_builder()
            .with_credentials(BasicCredentials(small.owner.ak, small.owner.sk, small.owner.projects[NORTH]))
            .with_endpoints([small.endpoints[NORTH]])
            .build()
        )
        assert refused(client, copy_request(src.id)) == (400, "IMG.0015")
        assert small.run_until_idle() == 0


def test_durations_are_configurable():
    from imsync.emulator import Emulator

    emu = Emulator(copy_base_seconds=10, copy_seconds_per_gb=1, start=False)
    assert emu.copy_duration(50 * 1024**3) == 60


@pytest.mark.parametrize(("agency_regions", "status"), [("destination", "SUCCESS"), ("both", "FAIL")])
def test_a_grant_in_the_destination_only_is_enough_under_the_current_guide(cloud, ims, agency_regions, status):
    # The current IMS guide asks for the rights in the destination; the older page, in both regions.
    cloud.readings = Readings(agency_regions=agency_regions)
    cloud.set_agency("imsync-copy", grants={EAST: ["IMS CrossCopyAgencyPolicy"]})
    src = cloud.region(NORTH).add_image(name="g")
    job_id = ims(NORTH).copy_image_cross_region(copy_request(src.id)).job_id
    cloud.run_until_idle()
    assert ims(NORTH).show_job(ShowJobRequest(job_id=job_id)).status == status


@pytest.mark.parametrize("name", ["web/base:v1", "ends with a space ", " starts", "x" * 129])
def test_a_copy_name_outside_the_image_name_rule_is_refused(cloud, ims, name):
    # Terraform's image-copy docs: 1-128 letters, digits, _ - . and spaces, none at either end.
    src = cloud.region(NORTH).add_image(name="g")
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH).copy_image_cross_region(copy_request(src.id, name=name))
    assert exc.value.status_code == 400 and "name must be" in exc.value.error_msg
