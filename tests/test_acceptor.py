"""Acceptor over an in-memory ShareInbox: the job outcomes and refusals the emulator cannot stage."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from imsync.config import Settings
from imsync.domain.commands import AcceptTrigger
from imsync.domain.errors import InvalidEvent, Refused
from imsync.domain.model import Image, Job
from imsync.platform_events import accept_trigger
from imsync.service.accept import JOB_CHECKS, Acceptor

OWNER = "0" * 31 + "1"
REGION = "cn-north-4"


class FakeInbox:
    """A ShareInbox whose accept jobs end as the test says."""

    def __init__(self, pending: list[Image], job_states: Sequence[str] = ("SUCCESS",), refuse: set[str] = frozenset()):
        self.region = REGION
        self.pending = pending
        self.job_states = list(job_states)
        self.refuse = refuse
        self.accepted: list[tuple[tuple[str, ...], str | None]] = []
        self.looks = 0

    def pending_shares(self) -> list[Image]:
        return list(self.pending)

    def accept(self, image_ids: Sequence[str], vault_id: str | None) -> str:
        if self.refuse & set(image_ids):
            raise Refused("accepting", "IMG.0027", "image is not shared with the project")
        self.accepted.append((tuple(image_ids), vault_id))
        return f"job-{len(self.accepted)}"

    def job(self, job_id: str) -> Job:
        state = self.job_states[min(self.looks, len(self.job_states) - 1)]
        self.looks += 1
        if state == "FAIL":
            return Job(job_id, "FAIL", error_code="IMG.0135", fail_reason="the vault has no room")
        return Job(job_id, state)


def image(name: str, owner: str = OWNER, **kw: object) -> Image:
    return Image(id=f"id-{name}", region=REGION, name=name, status="active", image_type="shared", owner=owner, **kw)


def run(inbox: FakeInbox, **settings: object) -> dict:
    values = {"home_region": REGION, "accept_regions": (REGION,), "trusted_owners": frozenset({OWNER}), **settings}
    acceptor = Acceptor(Settings(**values), lambda region: inbox, sleep=lambda s: None)  # type: ignore[arg-type]
    return acceptor.accept(AcceptTrigger()).as_dict()


def test_a_failed_accept_job_reports_ims_reason():
    answer = run(FakeInbox([image("a")], job_states=["RUNNING", "FAIL"]))

    (result,) = answer["results"]
    assert result["outcome"] == "failed" and "IMG.0135: the vault has no room" in result["reason"]


def test_an_accept_job_still_running_is_left_waiting_after_a_few_looks():
    inbox = FakeInbox([image("a")], job_states=["RUNNING"])

    answer = run(inbox)

    assert answer["counts"] == {"waiting": 1}
    assert inbox.looks == JOB_CHECKS


def test_no_second_look_when_the_function_has_no_time_left():
    inbox = FakeInbox([image("a")], job_states=["RUNNING"])
    settings = Settings(home_region=REGION, accept_regions=(REGION,), trusted_owners=frozenset({OWNER}))
    acceptor = Acceptor(settings, lambda region: inbox, seconds_left=lambda: 3.0, sleep=lambda s: None)  # type: ignore[arg-type,return-value]

    assert acceptor.accept(AcceptTrigger()).as_dict()["counts"] == {"waiting": 1}
    assert inbox.looks == 1


def test_one_refused_image_does_not_hold_back_the_others():
    inbox = FakeInbox([image("a"), image("b"), image("c")], refuse={"id-b"})

    answer = run(inbox)

    outcomes = {r["image_id"]: r["outcome"] for r in answer["results"]}
    assert outcomes == {"id-a": "accepted", "id-b": "error", "id-c": "accepted"}
    assert not answer["ok"]


def test_whole_ecs_images_go_in_their_own_call_with_the_vault():
    inbox = FakeInbox([image("plain"), image("whole", whole_image=True)])

    run(inbox, vaults={REGION: "vault-1"})

    assert sorted(inbox.accepted) == [(("id-plain",), None), (("id-whole",), "vault-1")]


def test_accept_trigger_reads_timer_options():
    event = {"trigger_type": "TIMER", "user_event": '{"regions": ["cn-east-3"], "dry_run": false}'}

    # "dry_run": false means "as configured" (None): an event may ask for a dry run, never cancel one.
    assert accept_trigger(event) == AcceptTrigger(regions=("cn-east-3",), dry_run=None, source="timer")


@pytest.mark.parametrize("event", [{"detail": {"x": 1}}, {"events": []}, "{}", {"regions": []}])
def test_accept_trigger_refuses_what_is_not_a_schedule(event):
    with pytest.raises(InvalidEvent, match=r"^accept_shares: "):
        accept_trigger(event)


def test_the_jobs_of_all_accept_calls_are_waited_for_together():
    inbox = FakeInbox([image(f"i{n}") for n in range(60)], job_states=["RUNNING"])  # two calls of 50 and 10
    pauses: list[float] = []
    settings = Settings(home_region=REGION, accept_regions=(REGION,), trusted_owners=frozenset({OWNER}))
    acceptor = Acceptor(settings, lambda region: inbox, sleep=pauses.append)  # type: ignore[arg-type,return-value]

    answer = acceptor.accept(AcceptTrigger()).as_dict()

    assert len(inbox.accepted) == 2 and answer["counts"] == {"waiting": 60}
    assert len(pauses) == JOB_CHECKS - 1  # not once per call
