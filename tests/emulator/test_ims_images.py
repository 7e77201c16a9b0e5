"""Listing, showing, tags and quota through the real ImsClient."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkims.v2 import (
    AddImageTagRequest,
    AddImageTagRequestBody,
    BatchAddOrDeleteTagsRequest,
    BatchAddOrDeleteTagsRequestBody,
    DeleteImageTagRequest,
    GlanceShowImageRequest,
    ListImageByTagsRequest,
    ListImageByTagsRequestBody,
    ListImagesRequest,
    ListImagesResponse,
    ListImageTagsRequest,
    ResourceTag,
    ShowImageQuotaRequest,
    Tags,
)

from imsync.emulator import Readings

NORTH, EAST = "cn-north-4", "cn-east-3"


def test_list_shows_sdk_fields_and_raw_extras(cloud, ims):
    r = cloud.region(NORTH)
    plain = r.add_image(name="golden", tags={"team": "qa", "imsync-regions": "cn-east-3"}, size_gb=40)
    r.add_image(name="iso", iso=True)
    r.add_image(name="enc", encrypted=True)
    r.add_image(name="whole", whole_image=True)
    resp = ims(NORTH).list_images(ListImagesRequest(imagetype="private", name="golden"))
    [img] = resp.images
    assert img.id == plain.id
    assert img.tags == ["team.qa", "imsync-regions.cn-east-3"]
    assert img.image_size == str(40 * 1024**3)
    assert img.imagetype == "private" and img.status == "active"
    assert img.owner == cloud.owner.projects[NORTH]
    raw = {i["name"]: i for i in json.loads(ims(NORTH).list_images(ListImagesRequest()).raw_content)["images"]}
    assert raw["iso"]["virtual_env_type"] == "IsoImage"
    assert raw["enc"]["__system__cmkid"]
    assert raw["whole"]["__whole_image"] == "true" and raw["golden"]["__whole_image"] == "false"
    assert "__description" in raw["golden"]


def test_list_filters_by_tag_status_and_region(cloud, ims):
    cloud.region(NORTH).add_image(name="a", tags={"k": "v"})
    cloud.region(NORTH).add_image(name="b", tags={"k": "w"}, status="queued")
    cloud.region(EAST).add_image(name="c", tags={"k": "v"})
    client = ims(NORTH)
    assert [i.name for i in client.list_images(ListImagesRequest(tag="k.v")).images] == ["a"]
    assert [i.name for i in client.list_images(ListImagesRequest(status="queued")).images] == ["b"]
    assert {i.name for i in ims(EAST).list_images(ListImagesRequest()).images} == {"c"}


def test_paging_with_marker_under_the_sdk_page_info_reading(cloud, ims):
    if "page_info" not in ListImagesResponse.openapi_types:
        pytest.skip("the SDK's ListImagesResponse has page_info from 3.1.216 on")
    cloud.readings = Readings(page_info=True)
    r = cloud.region(NORTH)
    made = [r.add_image(name=f"img-{n}") for n in range(7)]
    client = ims(NORTH)
    seen, marker, pages = [], None, 0
    while True:
        resp = client.list_images(ListImagesRequest(limit=3, marker=marker))
        seen += [i.id for i in resp.images]
        pages += 1
        marker = resp.page_info.next_marker if resp.page_info else None
        if not marker:
            break
    assert sorted(seen) == sorted(m.id for m in made) and len(seen) == 7
    assert pages == 3
    with pytest.raises(ClientRequestException) as exc:
        client.list_images(ListImagesRequest(limit=1001))
    assert exc.value.status_code == 400


def test_documented_listing_has_no_page_info_and_pages_by_the_last_id(cloud, ims):
    # Terraform's images data source: the API returns no marker; the caller pages with the last image's ID.
    r = cloud.region(NORTH)
    made = [r.add_image(name=f"img-{n}") for n in range(7)]
    client = ims(NORTH)
    first = json.loads(client.list_images(ListImagesRequest(limit=3)).raw_content)
    assert "page_info" not in first and len(first["images"]) == 3
    seen, marker = [], None
    while True:
        page = client.list_images(ListImagesRequest(limit=3, marker=marker)).images
        seen += [i.id for i in page]
        if len(page) < 3:
            break
        marker = page[-1].id
    assert sorted(seen) == sorted(m.id for m in made)


def test_pages_are_capped_at_500_whatever_the_limit_asked(cloud, ims):
    r = cloud.region(NORTH)
    for n in range(501):
        r.add_image(name=f"img-{n}")
    assert len(ims(NORTH).list_images(ListImagesRequest(limit=1000)).images) == 500


def test_owner_sees_its_shared_image_as_shared(cloud, ims):
    image = cloud.region(NORTH).add_image(name="mine", members={cloud.recipient.projects[NORTH]: "pending"})
    own = ims(NORTH).list_images(ListImagesRequest(owner=cloud.owner.projects[NORTH])).images
    assert [(i.id, i.imagetype) for i in own] == [(image.id, "shared")]
    assert ims(NORTH).list_images(ListImagesRequest(imagetype="private")).images == []
    cloud.readings = Readings(owner_shared_type="private")
    assert [i.id for i in ims(NORTH).list_images(ListImagesRequest(imagetype="private")).images] == [image.id]


def test_enterprise_project_images_are_listed_without_the_parameter_unless_the_other_reading(cloud, ims):
    # Terraform provider, image_copy: without enterprise_project_id the list API covers all enterprise projects.
    image = cloud.region(NORTH).add_image(name="ep")
    image.enterprise_project_id = "5f1e0d2c-0000-4000-8000-000000000001"
    assert [i.id for i in ims(NORTH).list_images(ListImagesRequest()).images] == [image.id]
    cloud.readings = Readings(eps_need_parameter=True)
    assert ims(NORTH).list_images(ListImagesRequest()).images == []
    every = ims(NORTH).list_images(ListImagesRequest(enterprise_project_id="all_granted_eps")).images
    assert [i.id for i in every] == [image.id]


def test_frozen_image_reads_frozen(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="f", frozen=True)
    img = ims(NORTH).glance_show_image(GlanceShowImageRequest(image_id=rec.id))
    assert img.status == "frozen"


def test_show_image_and_not_found(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="one", description="hello")
    shown = ims(NORTH).glance_show_image(GlanceShowImageRequest(image_id=rec.id))
    assert shown.name == "one" and shown.description == "hello"
    with pytest.raises(ClientRequestException) as exc:
        ims(EAST).glance_show_image(GlanceShowImageRequest(image_id=rec.id))
    assert (exc.value.status_code, exc.value.error_code) == (404, "IMG.0027")


def test_tags_add_list_batch_delete(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="t")
    client, pid = ims(NORTH), cloud.owner.projects[NORTH]
    client.add_image_tag(AddImageTagRequest(image_id=rec.id, body=AddImageTagRequestBody(tag=ResourceTag("a", "1"))))
    body = BatchAddOrDeleteTagsRequestBody(action="create", tags=[ResourceTag("b", "2"), ResourceTag("c", "x.y")])
    client.batch_add_or_delete_tags(BatchAddOrDeleteTagsRequest(image_id=rec.id, body=body))
    tags = client.list_image_tags(ListImageTagsRequest(image_id=rec.id)).tags
    assert {(t.key, t.value) for t in tags} == {("a", "1"), ("b", "2"), ("c", "x.y")}
    client.delete_image_tag(DeleteImageTagRequest(image_id=rec.id, key="a"))
    body = BatchAddOrDeleteTagsRequestBody(action="delete", tags=[ResourceTag("b", "2")])
    client.batch_add_or_delete_tags(BatchAddOrDeleteTagsRequest(image_id=rec.id, body=body))
    assert cloud.region(NORTH).image(rec.id).tags == {"c": "x.y"}
    assert pid in cloud.requests[-1].path


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("k" * 37, "v", "IMG.0115"),
        ("k", "v" * 44, "IMG.0115"),
        ("bad key", "v", "IMG.0115"),
        ("k", "a,b", "IMG.0115"),
    ],
)
def test_tag_limits(cloud, ims, key, value, code):
    rec = cloud.region(NORTH).add_image(name="t")
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH).add_image_tag(
            AddImageTagRequest(image_id=rec.id, body=AddImageTagRequestBody(tag=ResourceTag(key, value)))
        )
    assert (exc.value.status_code, exc.value.error_code) == (400, code)


def test_at_most_ten_tags(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="t", tags={f"k{n}": "v" for n in range(9)})
    body = BatchAddOrDeleteTagsRequestBody(action="create", tags=[ResourceTag("x", "1"), ResourceTag("y", "2")])
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH).batch_add_or_delete_tags(BatchAddOrDeleteTagsRequest(image_id=rec.id, body=body))
    assert exc.value.error_code == "IMG.0116"
    assert len(cloud.region(NORTH).image(rec.id).tags) == 9


def test_delete_missing_tag_is_404(cloud, ims):
    rec = cloud.region(NORTH).add_image(name="t")
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH).delete_image_tag(DeleteImageTagRequest(image_id=rec.id, key="nope"))
    assert exc.value.status_code == 404


def test_resource_instances_filter_and_count(cloud, ims):
    r = cloud.region(NORTH)
    a = r.add_image(name="alpha", tags={"imsync-regions": "cn-east-3"})
    r.add_image(name="beta", tags={"imsync-regions": "ap-southeast-1"})
    r.add_image(name="gamma")
    client = ims(NORTH)
    body = ListImageByTagsRequestBody(action="filter", tags=[Tags(key="imsync-regions", values=["cn-east-3"])])
    resp = client.list_image_by_tags(ListImageByTagsRequest(body=body))
    assert [x.resource_id for x in resp.resources] == [a.id] and resp.total_count == 1
    assert resp.resources[0].tags[0].key == "imsync-regions"
    body = ListImageByTagsRequestBody(action="count", tags=[Tags(key="imsync-regions", values=[])])
    assert client.list_image_by_tags(ListImageByTagsRequest(body=body)).total_count == 2
    body = ListImageByTagsRequestBody(action="filter", limit="1", offset="1", tags_any=[Tags(key="imsync-regions")])
    resp = client.list_image_by_tags(ListImageByTagsRequest(body=body))
    assert len(resp.resources) == 1 and resp.total_count == 2


def test_quota(cloud, ims):
    cloud.region(NORTH).add_image(name="a")
    resp = ims(NORTH).show_image_quota(ShowImageQuotaRequest())
    [res] = resp.quotas.resources
    assert (res.type, res.used, res.quota) == ("image", 1, 50)
