"""Every operation the emulator serves, in two tables: a region's endpoint (IMS, SMN) and IAM's.

A route is (method, path template, handler); the handler's name is the operation name that the
request log and `Emulator.counters` record. A request matching no route gets 404 after its signature
is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import copies, iam, images, members, smn, tags
from .common import Caller, Params, Result

if TYPE_CHECKING:
    from ..core import Emulator

Handler = Callable[..., Result]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    func: Handler


@dataclass(frozen=True)
class BoundRoute:
    """A route matched by one request, with the parameters taken from its path."""

    operation: str
    func: Handler
    kwargs: dict[str, str]

    def call(self, cloud: Emulator, caller: Caller, params: Params, data: Any) -> Result:
        """Run the operation under the emulator's lock, after moving jobs to the clock's time."""
        with cloud._lock:
            cloud._tick()
            return self.func(cloud, caller, params, data, **self.kwargs)


def _table(*routes: tuple[str, str, Handler]) -> list[Route]:
    """Compile each path template: {name} matches one path segment."""
    return [
        Route(method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$"), func)
        for method, template, func in routes
    ]


REGION_ROUTES = _table(
    ("GET", "/v2/cloudimages", images.list_images),
    ("GET", "/v2/images/{image_id}", images.glance_show_image),
    ("PATCH", "/v2/cloudimages/{image_id}", images.update_image),
    ("DELETE", "/v2/images/{image_id}", images.glance_delete_image),
    ("GET", "/v1/cloudimages/quota", images.show_image_quota),
    ("GET", "/v2/{project_id}/images/{image_id}/tags", tags.list_image_tags),
    ("POST", "/v2/{project_id}/images/{image_id}/tags", tags.add_image_tag),
    ("POST", "/v2/{project_id}/images/{image_id}/tags/action", tags.batch_add_or_delete_tags),
    ("DELETE", "/v2/{project_id}/images/{image_id}/tags/{key}", tags.delete_image_tag),
    ("POST", "/v2/{project_id}/images/resource_instances/action", tags.list_image_by_tags),
    ("POST", "/v1/cloudimages/{image_id}/cross_region_copy", copies.copy_image_cross_region),
    ("GET", "/v1/{project_id}/jobs/{job_id}", copies.show_job),
    ("GET", "/v1/cloudimages/job/{job_id}", copies.show_job_progress),
    ("POST", "/v1/cloudimages/members", members.batch_add_members),
    ("PUT", "/v1/cloudimages/members", members.batch_update_members),
    ("DELETE", "/v1/cloudimages/members", members.batch_delete_members),
    ("GET", "/v1/{project_id}/cloudimages/{image_id}/members", members.list_image_members),
    ("GET", "/v1/{project_id}/cloudimages/{image_id}/members/{member_id}", members.show_image_member),
    ("GET", "/v2/images/{image_id}/members", members.glance_list_image_members),
    ("POST", "/v2/{project_id}/notifications/topics/{topic_urn}/publish", smn.smn_publish_message),
)

IAM_ROUTES = _table(
    ("GET", "/v3/projects", iam.keystone_list_projects),
    ("GET", "/v3/auth/projects", iam.keystone_list_auth_projects),
    ("GET", "/v3/auth/domains", iam.keystone_list_auth_domains),
    ("GET", "/v3.0/OS-AGENCY/agencies", iam.list_agencies),
    (
        "GET",
        "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles",
        iam.list_project_permissions_for_agency,
    ),
    (
        "GET",
        "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/inherited_to_projects",
        iam.list_all_projects_permissions_for_agency,
    ),
)


def route(region: str, method: str, path: str) -> BoundRoute | None:
    """The operation for this request, with its path parameters, or None."""
    for r in IAM_ROUTES if region == "iam" else REGION_ROUTES:
        if r.method != method:
            continue
        m = r.pattern.match(path)
        if m:
            return BoundRoute(r.func.__name__, r.func, {k: unquote(v) for k, v in m.groupdict().items()})
    return None
