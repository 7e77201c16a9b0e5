"""IAM: projects, the caller's domain, agencies and the roles granted to them."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import ApiError
from ..model import Account, Agency, iso
from .common import Caller, Params, Result, first

if TYPE_CHECKING:
    from ..core import Emulator

TRUST_DOMAIN_ID = "0" * 24 + "1ms5e7c0"


def _iam_error(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, code, message, "apigw")


def project_json(cloud: Emulator, acc: Account, region: str) -> dict[str, Any]:
    pid = acc.projects[region]
    return {
        "id": pid,
        "name": region,
        "domain_id": acc.domain_id,
        "description": "",
        "enabled": True,
        "is_domain": False,
        "parent_id": acc.domain_id,
        "links": {"self": f"{cloud._endpoints.get('iam', '')}/v3/projects/{pid}"},
    }


def _links(cloud: Emulator, path: str) -> dict[str, Any]:
    return {"self": f"{cloud._endpoints.get('iam', '')}{path}", "previous": None, "next": None}


def keystone_list_projects(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """GET /v3/projects: the caller's projects, one per region, named by region."""
    acc = caller.account
    name, domain_id = first(params, "name"), first(params, "domain_id")
    if domain_id and domain_id != acc.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to list projects of another account")
    projects = [project_json(cloud, acc, r) for r in cloud.regions if name in (None, r)]
    return 200, {"projects": projects, "links": _links(cloud, "/v3/projects")}


def keystone_list_auth_projects(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """GET /v3/auth/projects: every project of the caller, in every region.

    Source: huaweicloudsdkiam KeystoneListAuthProjectsRequest/Response (`projects`: id, name, domain_id, ...),
    IAM API "Querying the List of Projects Accessible to Users". imsync's functions read every region's
    project ID from one such call (imsync.adapters.huawei_projects).
    """
    projects = [project_json(cloud, caller.account, r) for r in cloud.regions]
    return 200, {"projects": projects, "links": _links(cloud, "/v3/auth/projects")}


def keystone_list_auth_domains(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """GET /v3/auth/domains: the caller's account."""
    acc = caller.account
    dom = {"id": acc.domain_id, "name": acc.name, "enabled": True, "description": "", "links": {"self": ""}}
    return 200, {"domains": [dom], "links": _links(cloud, "/v3/auth/domains")}


def agency_json(agency: Agency) -> dict[str, Any]:
    return {
        "id": agency.id,
        "name": agency.name,
        "domain_id": agency.account.domain_id,
        "trust_domain_id": TRUST_DOMAIN_ID,
        "trust_domain_name": agency.trust_domain_name,
        "description": "cross-region image copies for imsync",
        "duration": "FOREVER",
        "expire_time": None,
        "create_time": iso(agency.created_ts).replace("Z", ".000000"),
    }


ROLE_NAMES = {
    "IMS Administrator": "ims_adm",
    "IMS FullAccess": "ims_fullaccess",
    "Tenant Administrator": "te_admin",
    "IMS CrossCopyAgencyPolicy": "ims_crosscopy_agency",
    "IMS CrossCopyAgencyCBRPolicy": "ims_crosscopy_agency_cbr",
}


def role_json(display_name: str) -> dict[str, Any]:
    rid = uuid.uuid5(uuid.NAMESPACE_URL, "imsync-emulator-role:" + display_name).hex
    return {
        "id": rid,
        "name": ROLE_NAMES.get(display_name, re.sub(r"\W+", "_", display_name.lower())),
        "display_name": display_name,
        "catalog": display_name.split()[0] if display_name else "",
        "description": f"{display_name} (emulated)",
        "type": "XA",
        "flag": "fine_grained",
        "domain_id": None,
        "links": {"self": f"/v3/roles/{rid}"},
    }


def _own_agency(cloud: Emulator, caller: Caller, agency_id: str) -> Agency:
    agency = cloud._agencies.get(agency_id)
    if agency is None or agency.account is not caller.account:
        raise _iam_error(404, "IAM.0004", f"agency {agency_id} could not be found")
    return agency


def list_agencies(cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
    """GET /v3.0/OS-AGENCY/agencies: the caller's agencies, by name."""
    domain_id = first(params, "domain_id")
    if not domain_id:
        raise _iam_error(400, "IAM.0001", "domain_id is required")
    if domain_id != caller.account.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to list agencies of another account")
    name = first(params, "name")
    found = [agency_json(a) for a in cloud._agencies.values() if a.account is caller.account and name in (None, a.name)]
    return 200, {"agencies": found}


def list_project_permissions_for_agency(
    cloud: Emulator, caller: Caller, params: Params, data: Any, project_id: str, agency_id: str
) -> Result:
    """GET /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles."""
    if caller.account.project_region(project_id) is None:
        raise _iam_error(404, "IAM.0004", f"project {project_id} could not be found")
    agency = _own_agency(cloud, caller, agency_id)
    return 200, {"roles": [role_json(r) for r in agency.grants.get(project_id, [])]}


def list_all_projects_permissions_for_agency(
    cloud: Emulator, caller: Caller, params: Params, data: Any, domain_id: str, agency_id: str
) -> Result:
    """GET /v3.0/OS-INHERIT/.../roles/inherited_to_projects: all-projects grants."""
    if domain_id != caller.account.domain_id:
        raise _iam_error(403, "IAM.0002", "You are not authorized to read another account")
    agency = _own_agency(cloud, caller, agency_id)
    return 200, {"roles": [role_json(r) for r in agency.all_projects], "links": _links(cloud, "")}
