"""Signatures, temporary credentials, project checks, and the IAM look-ups."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, SdkException
from huaweicloudsdkiam.v3 import (
    KeystoneListAuthDomainsRequest,
    KeystoneListAuthProjectsRequest,
    KeystoneListProjectsRequest,
    ListAgenciesRequest,
    ListAllProjectsPermissionsForAgencyRequest,
    ListProjectPermissionsForAgencyRequest,
)
from huaweicloudsdkims.v2 import ListImagesRequest, ListImageTagsRequest

NORTH, EAST = "cn-north-4", "cn-east-3"


def test_with_region_looks_up_the_project_for_each_account(cloud, ims):
    cloud.region(NORTH).add_image(name="mine")
    cloud.region(NORTH).add_image(name="theirs", owner=cloud.recipient)
    assert [i.name for i in ims(NORTH).list_images(ListImagesRequest()).images] == ["mine"]
    assert [i.name for i in ims(NORTH, cloud.recipient).list_images(ListImagesRequest()).images] == ["theirs"]
    lookups = [r for r in cloud.requests if r.operation == "keystone_list_projects"]
    assert {r.account for r in lookups} == {"owner", "partner"}


def test_wrong_secret_key_is_refused(cloud, ims):
    bad = BasicCredentials(cloud.owner.ak, "x" * 40, cloud.owner.projects[NORTH])
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH, credentials=bad).list_images(ListImagesRequest())
    assert (exc.value.status_code, exc.value.error_code) == (401, "APIGW.0301")
    unknown = BasicCredentials("NOSUCHKEY0000000000", cloud.owner.sk, cloud.owner.projects[NORTH])
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH, credentials=unknown).list_images(ListImagesRequest())
    assert exc.value.status_code == 401


def test_wrong_key_fails_the_sdk_project_lookup(cloud, ims):
    with pytest.raises(SdkException):
        ims(NORTH, credentials=BasicCredentials(cloud.owner.ak, "y" * 40)).list_images(ListImagesRequest())


def test_project_of_another_region_or_account_is_refused(cloud, ims):
    for pid in (cloud.owner.projects[EAST], cloud.recipient.projects[NORTH]):
        creds = BasicCredentials(cloud.owner.ak, cloud.owner.sk, pid)
        with pytest.raises(ClientRequestException) as exc:
            ims(NORTH, credentials=creds).list_images(ListImagesRequest())
        assert exc.value.status_code == 401


def test_path_project_must_be_the_callers(cloud, ims_ep):
    rec = cloud.region(NORTH).add_image(name="g")
    with pytest.raises(ClientRequestException) as exc:
        ims_ep(NORTH, project_id=None).list_image_tags(ListImageTagsRequest(image_id=rec.id))
    assert exc.value.status_code == 403
    assert ims_ep(NORTH).list_image_tags(ListImageTagsRequest(image_id=rec.id)).tags == []


def test_temporary_credentials_work_until_they_expire(cloud, ims):
    cloud.region(NORTH).add_image(name="g")
    ak, sk, token = cloud.temporary_credentials(cloud.owner, duration_seconds=600)
    creds = BasicCredentials(ak, sk, cloud.owner.projects[NORTH]).with_security_token(token)
    client = ims(NORTH, credentials=creds)
    assert len(client.list_images(ListImagesRequest()).images) == 1
    forged = BasicCredentials(ak, sk, cloud.owner.projects[NORTH]).with_security_token(token + "x")
    with pytest.raises(ClientRequestException) as exc:
        ims(NORTH, credentials=forged).list_images(ListImagesRequest())
    assert exc.value.status_code == 401
    cloud.clock.advance(601)
    with pytest.raises(ClientRequestException) as exc:
        client.list_images(ListImagesRequest())
    assert (exc.value.status_code, exc.value.error_code) == (401, "APIGW.0307")


def test_temporary_credentials_without_project_use_iam(cloud, ims):
    ak, sk, token = cloud.temporary_credentials()
    client = ims(EAST, credentials=BasicCredentials(ak, sk).with_security_token(token))
    assert client.list_images(ListImagesRequest()).images == []


def test_iam_projects_domains_agencies_and_roles(cloud, iam):
    client = iam()
    projects = client.keystone_list_projects(KeystoneListProjectsRequest(name=EAST)).projects
    assert [(p.id, p.name) for p in projects] == [(cloud.owner.projects[EAST], EAST)]
    assert len(client.keystone_list_auth_projects(KeystoneListAuthProjectsRequest()).projects) == 4
    [dom] = client.keystone_list_auth_domains(KeystoneListAuthDomainsRequest()).domains
    assert dom.id == cloud.owner.domain_id
    [agency] = client.list_agencies(ListAgenciesRequest(domain_id=cloud.owner.domain_id, name="imsync-copy")).agencies
    roles = client.list_project_permissions_for_agency(
        ListProjectPermissionsForAgencyRequest(project_id=cloud.owner.projects[EAST], agency_id=agency.id)
    ).roles
    assert [r.display_name for r in roles] == ["IMS Administrator"]
    assert client.list_agencies(ListAgenciesRequest(domain_id=cloud.owner.domain_id, name="nope")).agencies == []
    with pytest.raises(ClientRequestException) as exc:
        client.list_agencies(ListAgenciesRequest(domain_id=cloud.recipient.domain_id))
    assert exc.value.status_code == 403


def test_all_projects_grant_is_listed_as_inherited(cloud, iam):
    agency = cloud.set_agency("imsync-copy", {NORTH: ["IMS Administrator"]}, all_projects=True)
    client = iam()
    inherited = client.list_all_projects_permissions_for_agency(
        ListAllProjectsPermissionsForAgencyRequest(domain_id=cloud.owner.domain_id, agency_id=agency.id)
    ).roles
    assert [r.name for r in inherited] == ["ims_adm"]  # the SDK model keeps only id, name, links
    per_project = client.list_project_permissions_for_agency(
        ListProjectPermissionsForAgencyRequest(project_id=cloud.owner.projects[NORTH], agency_id=agency.id)
    ).roles
    assert per_project == []


def test_recipient_sees_its_own_iam(cloud, iam):
    projects = iam(cloud.recipient).keystone_list_projects(KeystoneListProjectsRequest(name=NORTH)).projects
    assert [p.id for p in projects] == [cloud.recipient.projects[NORTH]]
