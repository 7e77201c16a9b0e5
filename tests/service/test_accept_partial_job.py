"""accept_shares reads each image's part of IMS's job: a job can end SUCCESS with some images not accepted."""

from __future__ import annotations

from collections.abc import Sequence

from imsync.config import Settings
from imsync.domain.commands import AcceptTrigger
from imsync.domain.model import Image, Job
from imsync.domain.outcomes import Outcome
from imsync.service.accept import Acceptor

REGION = "cn-north-4"
OWNER = "0123456789abcdef0123456789abcdef"


class PartlyFailingInbox:
    """A ShareInbox (imsync's port) whose accept job ends SUCCESS with the last image's part failed."""

    region = REGION

    def __init__(self, images: list[Image]) -> None:
        self.images = images
        self.jobs: dict[str, Job] = {}

    def pending_shares(self) -> list[Image]:
        return list(self.images)

    def accept(self, image_ids: Sequence[str], vault_id: str | None) -> str:
        failed = ((image_ids[-1], "IMG.0027: the share was withdrawn"),)
        self.jobs["job-1"] = Job("job-1", "SUCCESS", failed_items=failed)
        return "job-1"

    def job(self, job_id: str) -> Job:
        return self.jobs[job_id]

    def shared_since(self, image_id: str) -> str:
        return ""


def test_an_image_whose_part_of_a_successful_accept_job_failed_is_not_reported_accepted():
    images = [Image(f"img-{n}", REGION, f"shared-{n}", "active", owner=OWNER, owned=False) for n in (1, 2)]
    settings = Settings(home_region=REGION, accept_regions=(REGION,), trusted_owners=frozenset({OWNER}))
    acceptor = Acceptor(settings, lambda region: PartlyFailingInbox(images), sleep=lambda seconds: None)

    summary = acceptor.accept(AcceptTrigger())

    outcomes = {r.image_id: r.outcome for r in summary.results if r.action == "accept"}
    assert outcomes == {"img-1": Outcome.ACCEPTED, "img-2": Outcome.FAILED}
    (failed,) = [r for r in summary.results if r.image_id == "img-2"]
    assert "IMG.0027" in failed.reason
