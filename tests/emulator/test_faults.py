"""Injected faults as the real SDK sees them: throttling, 5xx, slow answers, lost answers."""

from __future__ import annotations

import time

import pytest
import requests
from huaweicloudsdkcore.exceptions.exceptions import (
    ClientRequestException,
    ConnectionException,
    ServerResponseException,
)
from huaweicloudsdkims.v2 import (
    CopyImageCrossRegionRequest,
    CopyImageCrossRegionRequestBody,
    ListImagesRequest,
)

NORTH, EAST = "cn-north-4", "cn-east-3"


def copy_request(image_id):
    body = CopyImageCrossRegionRequestBody(
        name="copy",
        region=EAST,
        project_name=EAST,
        agency_name="imsync-copy",
        description=f"imsync:source={NORTH}/{image_id}",
    )
    return CopyImageCrossRegionRequest(image_id=image_id, body=body)


def test_throttling_then_recovery(cloud, ims):
    client = ims(NORTH)
    client.list_images(ListImagesRequest())  # the project look-up happens before the fault
    cloud.faults.add(status=429, region=NORTH, path=r"^/v2/cloudimages$", count=2)
    for _ in range(2):
        with pytest.raises(ClientRequestException) as exc:
            client.list_images(ListImagesRequest())
        assert exc.value.status_code == 429
    assert client.list_images(ListImagesRequest()).images == []
    statuses = [r.status for r in cloud.requests if r.operation == "list_images"]
    assert statuses == [200, 429, 429, 200]


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(cloud, ims, status):
    src = cloud.region(NORTH).add_image(name="g")
    client = ims(NORTH)
    cloud.faults.add(status=status, method="POST", path="cross_region_copy")
    with pytest.raises(ServerResponseException) as exc:
        client.copy_image_cross_region(copy_request(src.id))
    assert exc.value.status_code == status and exc.value.error_code
    assert cloud.region(EAST).replicas_of(src.id) == []  # refused before any effect
    assert client.copy_image_cross_region(copy_request(src.id)).job_id


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_after_the_effect_leaves_the_copy_started(cloud, ims, status):
    # The unkind case: IMS did the work and the client hears a 5xx; only the destination tells the truth.
    src = cloud.region(NORTH).add_image(name="g")
    cloud.faults.add(status=status, method="POST", path="cross_region_copy", after_effect=True)
    with pytest.raises(ServerResponseException) as exc:
        ims(NORTH).copy_image_cross_region(copy_request(src.id))
    assert exc.value.status_code == status
    assert len(cloud.region(EAST).replicas_of(src.id)) == 1


def test_an_after_effect_fault_needs_a_status(cloud):
    with pytest.raises(ValueError, match="after_effect"):
        cloud.faults.add(after_effect=True)


def test_a_slow_region_acts_after_the_client_gave_up(cloud, ims):
    src = cloud.region(NORTH).add_image(name="g")
    client = ims(NORTH, timeout=(1.0, 0.2))
    client.list_images(ListImagesRequest())  # the project look-up happens before the fault
    cloud.faults.add(slow=0.4, method="POST", path="cross_region_copy")
    with pytest.raises((ConnectionException, requests.exceptions.ReadTimeout)):
        client.copy_image_cross_region(copy_request(src.id))
    # The server is still in its slow part when the client gives up: wait (bounded) for it to act.
    deadline = time.monotonic() + 5
    while not cloud.region(EAST).replicas_of(src.id) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(cloud.region(EAST).replicas_of(src.id)) == 1


def test_fault_matches_region_only(cloud, ims):
    cloud.faults.add(status=503, region=EAST, count=None)
    assert ims(NORTH).list_images(ListImagesRequest()).images == []
    with pytest.raises(ServerResponseException):
        ims(EAST, credentials=_creds(cloud, EAST)).list_images(ListImagesRequest())
    cloud.faults.clear()
    assert ims(EAST, credentials=_creds(cloud, EAST)).list_images(ListImagesRequest()).images == []


def _creds(cloud, region):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials

    return BasicCredentials(cloud.owner.ak, cloud.owner.sk, cloud.owner.projects[region])


def test_probability_is_reproducible(cloud, ims):
    client = ims(NORTH, credentials=_creds(cloud, NORTH))
    cloud.faults.add(status=503, count=None, probability=0.5, seed=7)

    def outcomes():
        out = []
        for _ in range(12):
            try:
                client.list_images(ListImagesRequest())
                out.append(True)
            except ServerResponseException:
                out.append(False)
        return out

    first = outcomes()
    cloud.faults.clear()
    cloud.faults.add(status=503, count=None, probability=0.5, seed=7)
    assert outcomes() == first and True in first and False in first


def test_slow_get_times_out_as_sdk_connection_error(cloud, ims):
    client = ims(NORTH, credentials=_creds(cloud, NORTH), timeout=(2, 0.3))
    cloud.faults.add(method="GET", path="cloudimages", delay=0.8)
    with pytest.raises(ConnectionException):
        client.list_images(ListImagesRequest())


def test_slow_post_escapes_as_read_timeout_with_effect(cloud, ims):
    src = cloud.region(NORTH).add_image(name="g")
    client = ims(NORTH, credentials=_creds(cloud, NORTH), timeout=(2, 0.3))
    cloud.faults.add(method="POST", path="cross_region_copy", delay=0.8)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.copy_image_cross_region(copy_request(src.id))
    # The copy was accepted although the client never heard so.
    assert len(cloud.region(EAST).replicas_of(src.id)) == 1


def test_lost_answer_still_applies_the_effect(cloud, ims):
    src = cloud.region(NORTH).add_image(name="g")
    client = ims(NORTH, credentials=_creds(cloud, NORTH))
    cloud.faults.add(method="POST", path="cross_region_copy", lose_answer=True)
    with pytest.raises((ConnectionException, requests.exceptions.ConnectionError)):
        client.copy_image_cross_region(copy_request(src.id))
    assert len(cloud.region(EAST).replicas_of(src.id)) == 1
    assert len(cloud.in_flight()) == 1
    assert [r.status for r in cloud.requests if r.operation == "copy_image_cross_region"] == [0]


def test_counters_and_reset(cloud, ims):
    client = ims(NORTH, credentials=_creds(cloud, NORTH))
    client.list_images(ListImagesRequest())
    client.list_images(ListImagesRequest())
    assert cloud.counters["list_images"] == 2
    cloud.reset_counters()
    assert cloud.counters["list_images"] == 0 and cloud.requests == []


def test_fault_rejects_unknown_status(cloud):
    with pytest.raises(ValueError):
        cloud.faults.add(status=404)
