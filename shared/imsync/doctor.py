"""`imsync doctor`: the pre-flight checklist. Each check says pass, warn, fail (or skip) and, when not pass, the fix.

Checks only read: IAM (projects, the agency and its roles) and IMS (the image quota). They run in order,
and a check that needs an earlier one (accepted credentials, valid settings) is skipped when it failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

from imsync.config import Settings
from imsync.domain.errors import AuthFailed, CloudError, ImsyncError
from imsync.ops.runtime import Runtime

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"

# IAM roles that let IMS copy across regions when the agency holds them on both projects (IMS user guide:
# "IMS CrossCopyAgencyPolicy", or its CBR variant for whole-ECS images; the broader IMS and tenant
# administrator roles include the same rights).
ACCEPTED_ROLES = (
    "IMS CrossCopyAgencyPolicy",
    "IMS CrossCopyAgencyCBRPolicy",
    "IMS Administrator",
    "IMS FullAccess",
    "Tenant Administrator",
)
# Fewer free image slots than this in a region gets a warning (one run may start up to 5 copies there).
QUOTA_WARN = 5


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    name: str
    status: str
    detail: str
    fix: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _regions(settings: Settings) -> list[str]:
    """Every region imsync touches: source regions first, then the allowed destinations."""
    return list(dict.fromkeys([*settings.source_regions, *sorted(settings.allowed_regions)]))


def check_settings(rt: Runtime) -> Check:
    """The IMSYNC_* settings (file and environment) parse and validate."""
    try:
        settings = rt.settings
    except ImsyncError as exc:
        return Check("settings", FAIL, str(exc), "correct that variable (or its key in imsync.toml)")
    where = ", ".join(r for r in _regions(settings)) or "no regions"
    return Check("settings", PASS, f"IMSYNC_* settings are valid ({where})")


def check_consistency(settings: Settings) -> Iterator[Check]:
    """Settings that parse but cannot work together."""
    if not settings.allowed_regions:
        yield Check(
            "allowed regions",
            FAIL,
            "IMSYNC_ALLOWED_REGIONS is empty: every imsync-regions tag is refused, nothing is copied",
            "set IMSYNC_ALLOWED_REGIONS to the regions tags may name, e.g. cn-east-3,ap-southeast-1",
        )
    if not settings.agency:
        yield Check(
            "agency setting",
            FAIL,
            "IMSYNC_AGENCY is not set: IMS needs an agency to copy across regions",
            "create an IAM agency for the IMS service and set IMSYNC_AGENCY to its name",
        )
    if not settings.source_regions:
        yield Check(
            "source regions",
            FAIL,
            "neither IMSYNC_SOURCE_REGIONS nor IMSYNC_HOME_REGION is set: no region is scanned",
            "set IMSYNC_HOME_REGION (the region the functions run in)",
        )
    elif settings.home_region and settings.home_region not in settings.source_regions:
        yield Check(
            "home region",
            FAIL,
            f"IMSYNC_HOME_REGION {settings.home_region} is not in IMSYNC_SOURCE_REGIONS: create events from it "
            "are refused",
            f"add {settings.home_region} to IMSYNC_SOURCE_REGIONS",
        )
    used = set(settings.allowed_regions) | set(settings.source_regions)
    for alias, regions in sorted(settings.share_targets.items()):
        for region in sorted(set(regions) - used):
            yield Check(
                f"share alias {alias} region {region}",
                FAIL,
                f"alias '{alias}' lists projects in {region}, which is neither allowed nor a source region: "
                "nothing is ever shared there",
                f"add {region} to IMSYNC_ALLOWED_REGIONS, or remove it from the alias in IMSYNC_SHARE_TARGETS",
            )
    for region in sorted(set(settings.vaults) - set(settings.allowed_regions)):
        yield Check(
            "vaults",
            WARN,
            f"IMSYNC_VAULTS names a vault in {region}, which is not an allowed region",
            f"add {region} to IMSYNC_ALLOWED_REGIONS or remove its vault",
        )


def check_credentials(rt: Runtime) -> Check:
    """The access keys are found and IAM accepts them."""
    try:
        origin = str(rt.credentials)
        count = rt.directory.check_credentials()
    except AuthFailed as exc:
        return Check(
            "credentials",
            FAIL,
            f"the credentials were not accepted ({exc.code or exc})",
            "check HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (an active key pair of the account), "
            "and HUAWEICLOUD_SDK_SECURITY_TOKEN when the keys are temporary",
        )
    except ImsyncError as exc:
        return Check("credentials", FAIL, str(exc), "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK")
    return Check("credentials", PASS, f"{origin} accepted by IAM ({count} projects visible)")


def check_projects(rt: Runtime, regions: Iterable[str]) -> Iterator[Check]:
    """Each region imsync uses has a project in the account (IMS copies name it; the SDK looks it up)."""
    for region in regions:
        try:
            project = rt.directory.find_project(region)
        except CloudError as exc:
            yield Check(f"project {region}", FAIL, str(exc), "check IAM access (run with --debug for details)")
            continue
        if project is None:
            yield Check(
                f"project {region}",
                FAIL,
                f"the account has no project named {region}",
                f"check the region ID in the settings; a new region's project appears in IAM once {region} "
                "is enabled in the console",
            )
        else:
            yield Check(f"project {region}", PASS, f"{region} is project {project}")


def check_agency(rt: Runtime, settings: Settings, regions: Iterable[str]) -> Iterator[Check]:
    """The copy agency exists and holds an IMS role on the source and every destination project."""
    name = settings.agency
    if not name:
        return
    try:
        agency = rt.directory.find_agency(name)
    except CloudError as exc:
        yield Check("agency", FAIL, str(exc), "the keys need IAM read rights (e.g. IAM ReadOnlyAccess)")
        return
    if agency is None:
        yield Check(
            "agency",
            FAIL,
            f"no IAM agency named {name} (IMSYNC_AGENCY)",
            f"create a cloud service agency '{name}' for IMS in IAM, with 'IMS CrossCopyAgencyPolicy' on the "
            "projects of the source and destination regions",
        )
        return
    yield Check("agency", PASS, f"agency {name} exists")
    try:
        inherited = rt.directory.all_projects_roles(agency.id)
    except CloudError as exc:
        inherited = []
        yield Check("agency all projects", WARN, f"could not read the all-projects grants: {exc}")
    ims_inherited = sorted(set(inherited) & set(ACCEPTED_ROLES))
    if ims_inherited:
        yield Check(
            "agency all projects",
            WARN,
            f"agency {name} holds {', '.join(ims_inherited)} on 'all projects': the IMS guide says such a grant "
            "does not let IMS copy",
            "grant the role on each region's project instead (IAM > Agencies > Authorize > Region-specific projects)",
        )
    for region in regions:
        project = rt.directory.find_project(region)
        if project is None:
            continue  # already failed under "project"
        try:
            roles = rt.directory.project_roles(agency.id, project)
        except CloudError as exc:
            yield Check(f"agency rights {region}", FAIL, str(exc))
            continue
        held = [r for r in roles if r in ACCEPTED_ROLES]
        if held:
            yield Check(f"agency rights {region}", PASS, f"{name} holds {', '.join(held)} in {region}")
        else:
            has = f" (it holds {', '.join(roles)})" if roles else ""
            yield Check(
                f"agency rights {region}",
                FAIL,
                f"agency {name} holds no IMS role on the project of {region}{has}: copies there fail",
                f"grant 'IMS CrossCopyAgencyPolicy' to agency {name} on the {region} project",
            )


def check_share_targets(rt: Runtime, settings: Settings) -> Iterator[Check]:
    """Share aliases name other accounts' projects (32-hex IDs, checked by Settings), never the account's own."""
    for alias, regions in sorted(settings.share_targets.items()):
        own = []
        for region, projects in sorted(regions.items()):
            try:
                mine = rt.directory.find_project(region)
            except CloudError:
                mine = None
            own += [f"{region}:{p}" for p in projects if p == mine]
        if own:
            yield Check(
                f"share alias {alias}",
                FAIL,
                f"alias '{alias}' names the account's own project ({', '.join(own)}): IMS cannot share with it",
                "list the recipient account's project IDs (IAM > Projects in that account)",
            )
        else:
            count = sum(len(p) for p in regions.values())
            yield Check(f"share alias {alias}", PASS, f"{count} project(s) in {', '.join(sorted(regions))}")


def check_quota(rt: Runtime, regions: Iterable[str]) -> Iterator[Check]:
    """Free private-image slots per region (GET /v1/cloudimages/quota): each replica takes one."""
    for region in regions:
        try:
            quota = rt.store(region).quota()
        except ImsyncError as exc:
            yield Check(f"quota {region}", FAIL, str(exc), "check the region's IMS endpoint and access")
            continue
        detail = f"{quota.used} of {quota.quota} private images used in {region}"
        if quota.headroom == 0:
            yield Check(f"quota {region}", FAIL, detail, "delete unused images or ask for a higher IMS image quota")
        elif quota.headroom < QUOTA_WARN:
            yield Check(f"quota {region}", WARN, detail, "delete unused images or ask for a higher IMS image quota")
        else:
            yield Check(f"quota {region}", PASS, detail)


def run_checks(rt: Runtime, report: Callable[[Check], None] | None = None) -> list[Check]:
    """Every check, in order; `report` sees each as it completes."""
    checks: list[Check] = []

    def add(items: Iterable[Check]) -> None:
        for item in items:
            checks.append(item)
            if report:
                report(item)

    settings_check = check_settings(rt)
    add([settings_check])
    if settings_check.passed:
        add(check_consistency(rt.settings))
    credentials = check_credentials(rt) if settings_check.passed else None
    if credentials is not None:
        add([credentials])
    if credentials is None or not credentials.passed:
        why = "valid settings" if credentials is None else "accepted credentials"
        add([Check("cloud checks", SKIP, f"projects, agency, shares and quota need {why}", "fix the above first")])
        return checks
    settings = rt.settings
    regions = _regions(settings)
    add(check_projects(rt, regions))
    add(check_agency(rt, settings, regions))
    add(check_share_targets(rt, settings))
    add(check_quota(rt, [r for r in regions if rt.directory.find_project(r)]))
    return checks
