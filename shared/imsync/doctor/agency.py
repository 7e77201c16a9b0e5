"""The copy agency's checks: it exists, and holds an IMS copy role in the regions the IMS guide names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from imsync.config import Settings
from imsync.doctor.check import FAIL, PASS, WARN, Check, not_checked, project_of
from imsync.domain.errors import ImsyncError
from imsync.ops.runtime import Runtime

# IAM roles that let IMS copy across regions (IMS user guide: "IMS CrossCopyAgencyPolicy", or its CBR
# variant for whole-ECS images; the broader IMS and tenant administrator roles include the same rights).
# The current guide asks for them in the destination regions; an older page asked for source and
# destination: doctor accepts both and says which it found.
ACCEPTED_ROLES = (
    "IMS CrossCopyAgencyPolicy",
    "IMS CrossCopyAgencyCBRPolicy",
    "IMS Administrator",
    "IMS FullAccess",
    "Tenant Administrator",
)


def check_agency(rt: Runtime, settings: Settings, regions: Iterable[str]) -> Iterator[Check]:
    """The copy agency exists and holds an IMS copy role in the destination regions (and maybe the sources)."""
    name = settings.agency
    if not name:
        return
    try:
        agency = rt.directory.find_agency(name)
    except ImsyncError as exc:
        yield not_checked("agency", exc, rt)
        return
    if agency is None:
        yield Check(
            "agency",
            FAIL,
            f"no IAM agency named {name} (IMSYNC_AGENCY)",
            f"create a cloud service agency '{name}' for IMS in IAM, with 'IMS CrossCopyAgencyPolicy' on the "
            "project of each destination region",
        )
        return
    yield Check("agency", PASS, f"agency {name} exists")
    yield from _all_projects_grant(rt, name, agency.id)
    held: dict[str, bool] = {}
    for region in regions:
        project = project_of(rt, region)
        if project is None:
            continue  # already reported under "project"
        try:
            roles = rt.directory.project_roles(agency.id, project)
        except ImsyncError as exc:
            yield not_checked(f"agency rights {region}", exc, rt)
            continue
        accepted = [r for r in roles if r in ACCEPTED_ROLES]
        held[region] = bool(accepted)
        yield _rights_check(name, region, roles, accepted, destination=region in settings.allowed_regions)
    yield from _rights_scope(name, settings, held)


def _all_projects_grant(rt: Runtime, name: str, agency_id: str) -> Iterator[Check]:
    try:
        inherited = rt.directory.all_projects_roles(agency_id)
    except ImsyncError as exc:
        yield not_checked("agency all projects", exc, rt)
        return
    ims_inherited = sorted(set(inherited) & set(ACCEPTED_ROLES))
    if ims_inherited:
        yield Check(
            "agency all projects",
            WARN,
            f"agency {name} holds {', '.join(ims_inherited)} on 'all projects': the IMS guide says such a grant "
            "does not let IMS copy",
            "grant the role on each region's project instead (IAM > Agencies > Authorize > Region-specific projects)",
        )


def _rights_check(name: str, region: str, roles: list[str], accepted: list[str], destination: bool) -> Check:
    if accepted:
        return Check(f"agency rights {region}", PASS, f"{name} holds {', '.join(accepted)} in {region}")
    has = f" (it holds {', '.join(roles)})" if roles else ""
    if not destination:
        return Check(
            f"agency rights {region}",
            PASS,
            f"{name} holds no IMS role in {region}{has}, a source region only: the current IMS guide asks for "
            "the rights in the destination regions only",
        )
    return Check(
        f"agency rights {region}",
        FAIL,
        f"agency {name} holds no IMS role on the project of {region}{has}: copies to {region} fail",
        f"grant 'IMS CrossCopyAgencyPolicy' to agency {name} on the {region} project",
    )


def _rights_scope(name: str, settings: Settings, held: dict[str, bool]) -> Iterator[Check]:
    """Which reading of the IMS guide the grants satisfy: destination only (current) or source and destination."""
    destinations = [r for r in sorted(settings.allowed_regions) if r in held]
    sources = [r for r in settings.source_regions if r in held and r not in settings.allowed_regions]
    if not destinations or not all(held[r] for r in destinations):
        return  # the failing destinations are reported above
    if all(held[r] for r in sources):
        yield Check("agency scope", PASS, f"{name} is granted in source and destination regions")
        return
    missing = ", ".join(r for r in sources if not held[r])
    yield Check(
        "agency scope",
        PASS,
        f"{name} is granted in the destination regions only, which the current IMS guide requires; "
        f"the older guide also asks for the source region ({missing})",
    )
