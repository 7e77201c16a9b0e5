"""The checklist, in order (run_checks), and every check but the agency's.

Settings and their consistency, credentials, projects, share aliases, the image quota.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from imsync.config import Settings
from imsync.doctor.agency import check_agency
from imsync.doctor.check import FAIL, PASS, SKIP, WARN, Check, not_checked, project_of
from imsync.domain.errors import AuthFailed, CloudError, ImsyncError
from imsync.ops.reach import iam_endpoint_of, unanswered, unreachable
from imsync.ops.runtime import Runtime

# Fewer free image slots than this in a region gets a warning (one run may start up to 5 copies there).
QUOTA_WARN = 5


def _regions(settings: Settings) -> list[str]:
    """Every region imsync touches: source regions first, then the allowed destinations."""
    return list(dict.fromkeys([*settings.source_regions, *sorted(settings.allowed_regions)]))


SETTINGS_CHECKS = ("settings file", "settings")  # a failure of these is a settings error: exit 2, as for plan


def check_settings_file(rt: Runtime) -> list[Check]:
    """The settings file could be read (when it cannot, the other checks use the environment alone)."""
    if not rt.file_problem:
        return []
    return [
        Check(
            "settings file",
            FAIL,
            f"{rt.file_problem}; the checks below use the environment variables only",
            "correct the file (imsync.toml.example shows every key), or point --config elsewhere",
        )
    ]


def check_settings(rt: Runtime) -> Check:
    """The IMSYNC_* settings (file and environment) parse and validate, and name at least a source region."""
    try:
        settings = rt.settings
    except ImsyncError as exc:
        return Check("settings", FAIL, str(exc), "correct that variable (or its key in imsync.toml)")
    if not settings.source_regions:
        return Check(
            "settings",
            FAIL,
            "neither IMSYNC_SOURCE_REGIONS nor IMSYNC_HOME_REGION is set: no region is scanned",
            "set IMSYNC_HOME_REGION (the region the functions run in), or home_region in imsync.toml",
        )
    where = ", ".join(r for r in _regions(settings))
    return Check("settings", PASS, f"IMSYNC_* settings are valid ({where})")


def settings_parse(rt: Runtime) -> bool:
    try:
        rt.settings  # noqa: B018 - raises when a value is invalid
    except ImsyncError:
        return False
    return True


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
    if settings.source_regions and settings.home_region and settings.home_region not in settings.source_regions:
        yield Check(
            "home region",
            FAIL,
            f"IMSYNC_HOME_REGION {settings.home_region} is not in IMSYNC_SOURCE_REGIONS: create events from it "
            "are still handled, but the scheduled DR run (and plan, apply, status) never scans it, so an image "
            "whose event was missed is never caught up",
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
        url = iam_endpoint_of(rt.env, rt.settings.home_region)
        return Check(
            "credentials",
            FAIL,
            f"the credentials were not accepted by IAM at {url} ({exc.code or exc})",
            "check HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (an active key pair of the account), "
            "and HUAWEICLOUD_SDK_SECURITY_TOKEN when the keys are temporary",
        )
    except ImsyncError as exc:
        if unanswered(str(exc)):
            url = iam_endpoint_of(rt.env, rt.settings.home_region)
            return Check(
                "credentials",
                SKIP,
                f"not checked: IAM did not answer ({unreachable(url)})",
                "check the network, proxy and HUAWEICLOUD_SDK_IAM_ENDPOINT from here",
            )
        if isinstance(exc, CloudError):
            return Check("credentials", FAIL, str(exc), "run again with --debug for the details")
        return Check(
            "credentials",
            FAIL,
            str(exc),
            "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or write them to ~/.huaweicloud/credentials",
        )
    return Check("credentials", PASS, f"{origin} accepted by IAM ({count} projects visible)")


def check_projects(rt: Runtime, regions: Iterable[str]) -> Iterator[Check]:
    """Each region imsync uses has a project in the account (IMS copies name it; the SDK looks it up)."""
    for region in regions:
        try:
            project = rt.directory.find_project(region)
        except ImsyncError as exc:
            yield not_checked(f"project {region}", exc, rt)
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


def check_share_targets(rt: Runtime, settings: Settings) -> Iterator[Check]:
    """Share aliases name other accounts' projects (32-hex IDs, checked by Settings), never the account's own."""
    for alias, regions in sorted(settings.share_targets.items()):
        own, unread = [], []
        for region, projects in sorted(regions.items()):
            try:
                mine = rt.directory.find_project(region)
            except ImsyncError:
                unread.append(region)
                continue
            own += [f"{region}:{p}" for p in projects if p == mine]
        if own:
            yield Check(
                f"share alias {alias}",
                FAIL,
                f"alias '{alias}' names the account's own project ({', '.join(own)}): IMS cannot share with it",
                "list the recipient account's project IDs (IAM > Projects in that account)",
            )
        elif unread:
            yield Check(
                f"share alias {alias}",
                SKIP,
                f"not checked: IAM did not say which project is the account's own in {', '.join(unread)}",
                "fix the project checks above and run doctor again",
            )
        else:
            count = sum(len(p) for p in regions.values())
            counted = "1 project" if count == 1 else f"{count} projects"
            yield Check(f"share alias {alias}", PASS, f"{counted} in {', '.join(sorted(regions))}")


def check_quota(rt: Runtime, regions: Iterable[str]) -> Iterator[Check]:
    """Free private-image slots per region (GET /v1/cloudimages/quota): each replica takes one."""
    for region in regions:
        try:
            quota = rt.store(region).quota()
        except ImsyncError as exc:
            yield not_checked(f"quota {region}", exc, rt, region, service="IMS")
            continue
        detail = f"{quota.used} of {quota.quota} private images used in {region}"
        if quota.headroom == 0:
            yield Check(f"quota {region}", FAIL, detail, "delete unused images or ask for a higher IMS image quota")
        elif quota.headroom < QUOTA_WARN:
            yield Check(f"quota {region}", WARN, detail, "delete unused images or ask for a higher IMS image quota")
        else:
            yield Check(f"quota {region}", PASS, detail)


def run_checks(rt: Runtime, report: Callable[[Check], None] | None = None) -> list[Check]:
    """Every check, in order; `report` sees each as it completes. A check that breaks becomes "not checked"."""
    checks: list[Check] = []

    def add(name: str, items: Callable[[], Iterable[Check]]) -> None:
        try:
            found = list(items())
        except ImsyncError as exc:
            found = [not_checked(name, exc, rt)]
        for item in found:
            checks.append(item)
            if report:
                report(item)

    add("settings file", lambda: check_settings_file(rt))
    add("settings", lambda: [check_settings(rt)])
    parsed = settings_parse(rt)
    if parsed:
        add("settings", lambda: check_consistency(rt.settings))
    credentials = check_credentials(rt) if parsed else None
    if credentials is not None:
        add("credentials", lambda: [credentials])
    if credentials is None or not credentials.passed:
        why = (
            "valid settings"
            if credentials is None
            else "an answer from IAM"
            if credentials.status == SKIP
            else "accepted credentials"
        )
        skipped = Check("cloud checks", SKIP, f"not checked: projects, agency, shares and quota need {why}")
        add("cloud checks", lambda: [skipped])
        return checks
    settings = rt.settings
    regions = _regions(settings)
    add("projects", lambda: check_projects(rt, regions))
    add("agency", lambda: check_agency(rt, settings, regions))
    add("share aliases", lambda: check_share_targets(rt, settings))
    add("quota", lambda: check_quota(rt, [r for r in regions if project_of(rt, r)]))
    return checks
