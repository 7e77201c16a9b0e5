"""A Check (one line of the checklist) and what every check needs: its statuses, a read that failed, a project."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from imsync.domain.errors import ImsyncError
from imsync.ops.reach import iam_endpoint_of, ims_endpoint, unanswered, unreachable
from imsync.ops.runtime import Runtime

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"


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


def not_checked(name: str, exc: ImsyncError, rt: Runtime, region: str | None = None, service: str = "IAM") -> Check:
    """A check whose read failed: say why (the URL when nothing answered), never pass."""
    detail = str(exc)
    if unanswered(detail):
        url = iam_endpoint_of(rt.env, rt.settings.home_region) if service == "IAM" else ims_endpoint(region or "")
        detail = f"{service} did not answer ({unreachable(url)})"
    return Check(name, SKIP, f"not checked: {detail}", "fix what the detail names and run doctor again")


def project_of(rt: Runtime, region: str) -> str | None:
    """The region's project, or None when the account has none or IAM could not say (reported elsewhere)."""
    try:
        return rt.directory.find_project(region)
    except ImsyncError:
        return None
