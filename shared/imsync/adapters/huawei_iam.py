"""IAM through the official SDK (huaweicloudsdkiam): projects, the copy agency and its roles.

Only the operator commands (`imsync doctor`) use it, so huaweicloudsdkiam is imported here and nowhere
else: the functions' cold start never pays for it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkiam.v3 import (
    IamClient,
    KeystoneListAuthDomainsRequest,
    KeystoneListProjectsRequest,
    ListAgenciesRequest,
    ListAllProjectsPermissionsForAgencyRequest,
    ListProjectPermissionsForAgencyRequest,
)

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_sdk import silence_sdk_logs, translated
from imsync.domain.errors import ConfigError

GLOBAL_IAM_ENDPOINT = "https://iam.myhuaweicloud.com"


@dataclass(frozen=True)
class Agency:
    """An IAM agency of the account."""

    id: str
    name: str
    trust_domain_name: str = ""


def _json(response: Any) -> dict[str, Any]:
    raw = getattr(response, "raw_content", None)
    return json.loads(raw) if raw else {}


def iam_endpoint(env: Mapping[str, str] | None = None, region: str | None = None) -> str:
    """HUAWEICLOUD_SDK_IAM_ENDPOINT, else the SDK's IAM endpoint of `region`, else the global one."""
    env = os.environ if env is None else env
    configured = env.get("HUAWEICLOUD_SDK_IAM_ENDPOINT", "").strip()
    if configured:
        return configured
    if region:
        from huaweicloudsdkiam.v3.region.iam_region import IamRegion

        try:
            return str(IamRegion.value_of(region).endpoints[0])
        except (KeyError, IndexError):
            pass
    return GLOBAL_IAM_ENDPOINT


class HuaweiDirectory:
    """The account as IAM sees it: region projects, agencies and the roles granted to them."""

    def __init__(self, credentials: Credentials, endpoint: str, domain_id: str | None, timeout: float) -> None:
        self._credentials = credentials
        self._endpoint = endpoint
        self._domain_id = domain_id or None
        self._timeout = timeout
        self._client: IamClient | None = None
        self._projects: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def _iam(self) -> IamClient:
        with self._lock:
            if self._client is None:
                silence_sdk_logs()
                credentials = GlobalCredentials(self._credentials.ak, self._credentials.sk, self._domain_id)
                if self._credentials.security_token:
                    credentials = credentials.with_security_token(self._credentials.security_token)
                config = HttpConfig.get_default_config()
                config.timeout = (self._timeout, self._timeout)
                self._client = (
                    IamClient.new_builder()
                    .with_http_config(config)
                    .with_credentials(credentials)
                    .with_endpoints([self._endpoint])
                    .build()
                )
            return self._client

    def domain_id(self) -> str:
        """The account's domain ID: HUAWEICLOUD_SDK_DOMAIN_ID, else asked from IAM."""
        if self._domain_id:
            return self._domain_id
        with translated("finding the account (domain) in IAM", service="IAM"):
            data = _json(self._iam().keystone_list_auth_domains(KeystoneListAuthDomainsRequest()))
        domains = data.get("domains") or []
        if not domains:
            raise ConfigError("IAM lists no account for these keys: set HUAWEICLOUD_SDK_DOMAIN_ID")
        self._domain_id = str(domains[0]["id"])
        return self._domain_id

    def check_credentials(self) -> int:
        """List the account's projects (any signed IAM read proves the keys); returns how many there are."""
        with translated("listing the account's projects in IAM", service="IAM"):
            data = _json(self._iam().keystone_list_projects(KeystoneListProjectsRequest()))
        return len(data.get("projects") or [])

    def find_project(self, region: str) -> str | None:
        """The account's project ID for a region (projects are named after their region), or None."""
        if region not in self._projects:
            with translated(f"finding the project of {region} in IAM", service="IAM"):
                data = _json(self._iam().keystone_list_projects(KeystoneListProjectsRequest(name=region)))
            found = [p for p in data.get("projects") or [] if p.get("name") == region]
            self._projects[region] = str(found[0]["id"]) if found else None
        return self._projects[region]

    def find_agency(self, name: str) -> Agency | None:
        """The account's agency called `name`, or None."""
        request = ListAgenciesRequest(domain_id=self.domain_id(), name=name)
        with translated(f"finding the agency {name} in IAM", service="IAM"):
            data = _json(self._iam().list_agencies(request))
        for item in data.get("agencies") or []:
            if item.get("name") == name:
                return Agency(str(item["id"]), name, str(item.get("trust_domain_name") or ""))
        return None

    def project_roles(self, agency_id: str, project_id: str) -> list[str]:
        """Display names of the roles the agency holds on one project."""
        request = ListProjectPermissionsForAgencyRequest(project_id=project_id, agency_id=agency_id)
        with translated("reading the agency's roles on a project", service="IAM"):
            data = _json(self._iam().list_project_permissions_for_agency(request))
        return _role_names(data)

    def all_projects_roles(self, agency_id: str) -> list[str]:
        """Display names of the roles the agency holds on "all projects" (inherited to every project)."""
        request = ListAllProjectsPermissionsForAgencyRequest(domain_id=self.domain_id(), agency_id=agency_id)
        with translated("reading the agency's all-projects roles", service="IAM"):
            data = _json(self._iam().list_all_projects_permissions_for_agency(request))
        return _role_names(data)


def _role_names(data: Mapping[str, Any]) -> list[str]:
    return [str(r.get("display_name") or r.get("name") or "") for r in data.get("roles") or []]
