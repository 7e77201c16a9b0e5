"""Every region's project ID of the caller in one IAM call, so that no IMS client looks its region's project up.

IAM's KeystoneListAuthProjects (`GET /v3/auth/projects`, IAM API "Querying the List of Projects Accessible to
Users") lists the projects the caller can reach, in every region: the main project of a region is named after
the region (sub-projects are `<region>_<name>`). Without it, huaweicloudsdkcore's BasicCredentials asks IAM
`GET /v3/projects?name=<region>` once per region on a cold start. The request is signed and sent by
huaweicloudsdkcore itself, so the functions need no huaweicloudsdkiam.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.client import Client
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.sdk_request import SdkRequest

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_sdk import translated

AUTH_PROJECTS = "/v3/auth/projects"
GLOBAL_IAM = "https://iam.myhuaweicloud.com"  # what the SDK's own look-up uses when it knows no regional endpoint


def iam_endpoint(region: str) -> str:
    """The IAM endpoint the SDK itself would use: HUAWEICLOUD_SDK_IAM_ENDPOINT, else the region's IAM endpoint."""
    configured = os.environ.get("HUAWEICLOUD_SDK_IAM_ENDPOINT", "").strip()
    if configured:
        return configured
    try:
        from huaweicloudsdkcore.auth.internal import IamHelper  # the core's own choice, where it has one
    except ImportError:  # older cores: the global endpoint
        return GLOBAL_IAM
    return str(IamHelper.get_iam_endpoint(region))


def project_ids(credentials: Credentials, config: HttpConfig, region: str) -> dict[str, str]:
    """Region -> the caller's project ID there, for every region the caller has a project in (one IAM call)."""
    signer = BasicCredentials(credentials.ak, credentials.sk)
    if credentials.security_token:
        signer = signer.with_security_token(credentials.security_token)
    endpoint = urlparse(iam_endpoint(region))
    client = Client().with_config(config).with_credentials(signer).with_endpoints([endpoint.geturl()])
    client.init_http_client()
    http = client.get_http_client()
    request = SdkRequest(
        method="GET",
        schema=endpoint.scheme,
        host=endpoint.netloc,
        resource_path=AUTH_PROJECTS,
        header_params={"Content-Type": "application/json"},
        query_params=[],
        body="",
        signing_algorithm=config.signing_algorithm,
    )
    with translated("listing the projects of every region in IAM (GET /v3/auth/projects)", service="IAM"):
        signed = signer.process_auth_request(request, http).result()
        response = http.do_request_sync(signed)
        projects = json.loads(response.content or b"{}").get("projects") or []
    return {str(p["name"]): str(p["id"]) for p in projects if isinstance(p, dict) and p.get("name") and p.get("id")}
