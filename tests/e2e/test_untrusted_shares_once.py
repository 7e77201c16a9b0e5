"""accept_shares tells a person about each untrusted share once, through the real SDK and the emulator's SMN.

The recipient cannot tag another account's image: IMS's record of the membership (its created_at)
says which run's interval the share arrived in, and that run alone announces it.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from imsync import bootstrap
from imsync.config import Settings
from imsync.domain.errors import ConfigError, RunFailed
from imsync.function_files import handler as load_handler
from tests.e2e.conftest import HOME
from tests.e2e.test_accept_shares import as_recipient, share, status_of, trusting
from tests.helpers import handlers

MINUTES = 60.0


@pytest.fixture
def topic(cloud, monkeypatch):
    """The recipient's own SMN topic, and the recipient's deployment trusting the owner account only."""
    urn = cloud.smn.add_topic("imsync-alerts", HOME, account=cloud.recipient)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner), IMSYNC_SMN_TOPIC_URN=urn)
    monkeypatch.setattr(bootstrap, "wall_clock", cloud.clock.now)  # the emulated cloud's time of day
    return urn


def told(cloud, topic) -> list[dict]:
    return [json.loads(m.text("https")) for m in cloud.smn.messages(topic)]


def every_five_minutes(cloud, runs: int) -> None:
    for _ in range(runs):
        assert handlers.accept_shares({})["ok"]
        cloud.clock.advance(5 * MINUTES)


def test_an_untrusted_share_is_announced_once_with_its_owner(cloud, topic):
    stranger = cloud.add_account("stranger")
    theirs = share(cloud, stranger, name="theirs")
    share(cloud, name="ours")  # trusted: accepted, nothing to tell
    cloud.clock.advance(2 * MINUTES)  # more than the overlap before a run: one run's interval alone holds it

    every_five_minutes(cloud, 4)

    (notice,) = told(cloud, topic)
    assert notice["type"] == "imsync.share.untrusted" and notice["image_id"] == theirs.id
    assert notice["owner"] == stranger.projects[HOME] and notice["image_name"] == "theirs"
    assert "IMSYNC_TRUSTED_OWNERS" in notice["reason"]
    (message,) = cloud.smn.messages(topic)
    assert message.subject == f"imsync: share from an untrusted owner for image {theirs.id} in {HOME}"
    assert "add the owner to IMSYNC_TRUSTED_OWNERS" in message.text("email")
    assert status_of(cloud, theirs) == "pending"  # reported, never rejected


def test_a_notice_no_later_run_will_send_fails_the_run_that_could_not(cloud, topic):
    """The recipient keeps no memory: a lost announcement is not silent, the invocation fails and says so."""
    stranger = cloud.add_account("stranger")
    theirs = share(cloud, stranger, name="theirs")
    cloud.clock.advance(2 * MINUTES)
    smn = cloud.faults.add(status=503, method="POST", path="/publish$", count=None)

    with pytest.raises(RunFailed) as raised:
        load_handler("accept_shares")({}, None)

    (lost,) = [r for r in raised.value.summary["results"] if r["action"] == "notify"]
    assert lost["outcome"] == "error" and "1 of 1 imsync.share.untrusted notice(s) not delivered" in lost["reason"]
    assert "`imsync accept` lists every pending share" in lost["reason"]
    assert status_of(cloud, theirs) == "pending"
    smn.count = 0
    cloud.clock.advance(5 * MINUTES)
    assert handlers.accept_shares({})["ok"]  # the next run is fine, and its window no longer holds the share
    assert told(cloud, topic) == []


def test_a_share_arriving_later_is_announced_by_the_next_run_alone(cloud, topic):
    stranger = cloud.add_account("stranger")
    first = share(cloud, stranger, name="first")
    cloud.clock.advance(2 * MINUTES)
    every_five_minutes(cloud, 2)
    cloud.clock.advance(2 * MINUTES)  # between two runs
    second = share(cloud, stranger, name="second")
    cloud.clock.advance(3 * MINUTES)

    every_five_minutes(cloud, 3)

    assert [n["image_id"] for n in told(cloud, topic)] == [first.id, second.id]


def test_a_dry_run_announces_no_share(cloud, topic):
    share(cloud, cloud.add_account("stranger"), name="theirs")

    dry = handlers.accept_shares({"dry_run": True})

    assert dry["dry_run"] and dry["counts"] == {"untrusted": 1}
    assert told(cloud, topic) == []
    handlers.accept_shares({})  # the real run of the same interval still tells it
    assert [n["type"] for n in told(cloud, topic)] == ["imsync.share.untrusted"]


def test_the_interval_follows_the_accept_schedule(cloud, topic, monkeypatch):
    monkeypatch.setenv("IMSYNC_ACCEPT_SCHEDULE", "1h")
    theirs = share(cloud, cloud.add_account("stranger"), name="theirs")
    cloud.clock.advance(40 * MINUTES)  # within the hour the hourly run covers

    handlers.accept_shares({})
    cloud.clock.advance(60 * MINUTES)
    handlers.accept_shares({})

    assert [n["image_id"] for n in told(cloud, topic)] == [theirs.id]


@pytest.mark.parametrize(("value", "seconds"), [("5m", 300), ("1h", 3600), ("2d", 172800), ("rate(10 minutes)", 600)])
def test_the_accept_schedule_reads_both_platforms_rates(value, seconds):
    assert Settings.from_env({"IMSYNC_ACCEPT_SCHEDULE": value}).accept_every_seconds == seconds


def test_a_schedule_without_a_fixed_interval_is_a_clear_settings_error():
    with pytest.raises(ConfigError, match=r"IMSYNC_ACCEPT_SCHEDULE: a 17-character value .* is not a rate"):
        Settings.from_env({"IMSYNC_ACCEPT_SCHEDULE": "cron(0 * * * ? *)"})


def test_a_timer_that_fires_early_or_late_loses_no_share_and_tells_none_three_times(cloud, topic):
    """Runs every 5 minutes, each up to 30 s early or late (seeded), shares arriving at random times."""
    stranger = cloud.add_account("stranger")
    rng = random.Random(175)
    start = cloud.clock.now()
    runs = [start + 5 * MINUTES * n + rng.uniform(-30, 30) for n in range(1, 31)]
    arrivals = sorted(start + rng.uniform(0, runs[-2] - start) for _ in range(40))
    shared: list[str] = []
    for at in runs:
        while arrivals and arrivals[0] <= at:
            cloud.clock.advance(arrivals.pop(0) - cloud.clock.now())
            shared.append(share(cloud, stranger, name=f"theirs-{len(shared)}").id)
        cloud.clock.advance(at - cloud.clock.now())
        assert handlers.accept_shares({})["ok"]

    times = Counter(n["image_id"] for n in told(cloud, topic))
    assert {image: times[image] for image in shared if times[image] not in (1, 2)} == {}
