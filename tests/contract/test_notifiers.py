"""Every notifier takes every notice type: SMN (real SDK against the emulator's SMN), EventBridge (moto), the log.

The types come from one place (imsync.notices.NOTICE_TYPES); a notice that one notifier refuses would be
lost there (issue 18: on AWS, a digest, a stuck copy or an untrusted share raised and dropped the batch).
A notifier that cannot deliver some notices tries all of them, then names exactly those it could not.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from imsync.adapters.aws import EventBridgeNotifier
from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_smn import SMS_MAX_CHARS, SmnNotifier
from imsync.domain.errors import NotDelivered
from imsync.emulator import Emulator
from imsync.notices import NOTICE_TYPES
from imsync.notify import LogNotifier
from imsync.retry import Retrier

HOME = "cn-north-4"
BUS = "imsync-contract"
ALL_TYPES = NOTICE_TYPES


def notice(kind: str, n: int = 0) -> dict[str, object]:
    """A notice of `kind` as the service holds it: the fields every type may carry, a digest's list."""
    base: dict[str, object] = {
        "type": kind,
        "source_image_id": f"00000000-0000-0000-0000-{n:012d}",
        "source_region": HOME,
        "region": "cn-east-3",
        "reason": f"why [{kind}] 【{n}】",  # brackets an SMS may not carry
    }
    if kind.endswith("digest"):
        base |= {"function": "scheduled_dr_copy", "count": 1, "items": [dict(base, type="imsync.copy.refused")]}
    return base


def every_notice() -> list[dict[str, object]]:
    return [notice(kind, n) for n, kind in enumerate(ALL_TYPES)]


def test_the_notice_types_are_the_ones_the_service_sends():
    assert set(ALL_TYPES) >= {
        "imsync.copy.refused",
        "imsync.copy.failed",
        "imsync.copy.stuck",
        "imsync.replica.ready",
        "imsync.digest",
        "imsync.share.untrusted",
    }


# ---- SMN ----------------------------------------------------------------------------------------


@pytest.fixture
def smn(monkeypatch) -> Iterator[tuple[Emulator, str]]:
    with Emulator(regions=(HOME, "cn-east-3")) as cloud:
        for key, value in cloud.env.items():
            monkeypatch.setenv(key, value)
        yield cloud, cloud.smn.add_topic("imsync-alerts", HOME)


def test_smn_takes_every_notice_type(smn):
    cloud, topic = smn
    SmnNotifier(topic, Credentials(cloud.owner.ak, cloud.owner.sk)).publish(every_notice())

    messages = cloud.smn.messages(topic)
    assert [json.loads(m.text("https"))["type"] for m in messages] == list(ALL_TYPES)
    for message in messages:
        sms = message.text("sms")
        assert len(sms) <= SMS_MAX_CHARS and not set("[]【】") & set(sms), sms


def test_smn_out_for_a_run_is_asked_once_and_every_notice_is_named_for_the_next_run(smn):
    cloud, topic = smn
    down = cloud.faults.add(status=503, path="/notifications/topics/", count=1)  # SMN out for one run
    notices = every_notice()
    notifier = SmnNotifier(topic, Credentials(cloud.owner.ak, cloud.owner.sk), retrier=Retrier(attempts=1))

    with pytest.raises(NotDelivered) as failed:
        notifier.publish(notices)

    assert down.fired == 1 and cloud.smn.messages(topic) == []  # not asked again for the others in this run
    assert all(u is n for u, n in zip(failed.value.undelivered, notices, strict=True))
    assert not failed.value.refused and "the next run tells them" in str(failed.value)  # a 5xx may pass
    next_run = SmnNotifier(topic, Credentials(cloud.owner.ak, cloud.owner.sk), retrier=Retrier(attempts=1))
    next_run.publish(notices)
    assert [json.loads(m.text("https"))["type"] for m in cloud.smn.messages(topic)] == list(ALL_TYPES)


def test_smn_says_when_it_refused_a_notice_for_good(smn):
    cloud, _ = smn
    missing = f"urn:smn:{HOME}:{cloud.owner.projects[HOME]}:no-such-topic"  # SMN answers 404 SMN.0006

    with pytest.raises(NotDelivered) as failed:
        SmnNotifier(missing, Credentials(cloud.owner.ak, cloud.owner.sk)).publish(every_notice()[:1])

    assert failed.value.refused and "SMN.0006" in str(failed.value)


# ---- EventBridge ----------------------------------------------------------------------------------


@pytest.fixture
def bus(monkeypatch):
    """A moto bus whose events are copied into an SQS queue, so the test reads them back."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing-not-a-key",
        "AWS_SECRET_ACCESS_KEY": "testing-not-a-secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        events, sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name=BUS)
        queue = sqs.create_queue(QueueName="imsync-contract")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["imsync"]}))
        events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])

        def received() -> list[dict]:
            bodies: list[dict] = []
            while answer := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
                bodies += [json.loads(m["Body"]) for m in answer]
                handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(answer)]
                sqs.delete_message_batch(QueueUrl=queue, Entries=handles)
            return bodies

        yield received


def test_eventbridge_takes_every_notice_type(bus):
    EventBridgeNotifier(BUS).publish(every_notice())

    got = bus()
    assert sorted(e["detail-type"] for e in got) == sorted(ALL_TYPES)
    assert all(e["source"] == "imsync" and e["detail"]["reason"].startswith("why") for e in got)


def test_eventbridge_names_the_notices_it_could_not_deliver(bus):
    class HalfDown:
        """PutEvents answering a failed entry for every digest (EventBridge's per-entry FailedEntries)."""

        def __init__(self) -> None:
            self.real = boto3.client("events")

        def put_events(self, Entries):
            answer = self.real.put_events(Entries=[e for e in Entries if e["DetailType"] != "imsync.digest"])
            results = iter(answer["Entries"])
            failed = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            entries = [failed if e["DetailType"] == "imsync.digest" else next(results) for e in Entries]
            return {"FailedEntryCount": sum(1 for e in entries if "ErrorCode" in e), "Entries": entries}

    notices = every_notice()
    with pytest.raises(NotDelivered) as failed:
        EventBridgeNotifier(BUS, client=HalfDown()).publish(notices)

    assert [n["type"] for n in failed.value.undelivered] == ["imsync.digest"]
    assert sorted(e["detail-type"] for e in bus()) == sorted(t for t in ALL_TYPES if t != "imsync.digest")
    assert not failed.value.refused  # InternalFailure is one of the retryable errors


def test_eventbridge_says_when_it_refused_a_notice_for_good(bus):
    with pytest.raises(NotDelivered) as failed:  # moto answers ResourceNotFoundException for the whole call
        EventBridgeNotifier("no-such-bus").publish(every_notice()[:1])

    assert failed.value.refused and "ResourceNotFoundException" in str(failed.value)


@set_initial_no_auth_action_count(0)  # moto checks every request's key against its IAM from here on
def test_eventbridge_says_a_key_aws_does_not_take_is_refused_for_good(bus):
    # A key AWS does not know (or a wrong secret, an expired token) fails the whole PutEvents call. No retry fixes
    # it, so it must be a refusal: else every run of a deployment that tells nobody anything reports ok.
    # moto answers 403 InvalidClientTokenId, in an XML body that botocore's JSON parser reads as code "403";
    # EventBridge itself names it UnrecognizedClientException: both are refusals.
    with pytest.raises(NotDelivered) as failed:
        EventBridgeNotifier(BUS).publish(every_notice())

    assert failed.value.refused, failed.value
    assert len(failed.value.undelivered) == len(ALL_TYPES)
    assert "testing-not-a" not in str(failed.value)  # never the key


@pytest.mark.parametrize(
    ("code", "status", "refused"),
    [
        ("UnrecognizedClientException", 400, True),  # a key EventBridge does not know
        ("InvalidSignatureException", 400, True),  # the right key with the wrong secret
        ("ExpiredTokenException", 403, True),
        ("ThrottlingException", 400, False),  # a 400 too, and it passes: the next run tells
        ("InternalFailure", 500, False),
    ],
)
def test_eventbridge_tells_a_refused_key_from_a_call_that_may_pass(bus, code, status, refused):
    # botocore's own Stubber gives the answer moto cannot: EventBridge's JSON error codes for a whole call.
    from botocore.stub import Stubber

    client = boto3.client("events")
    with Stubber(client) as stubbed:
        stubbed.add_client_error("put_events", service_error_code=code, http_status_code=status)
        with pytest.raises(NotDelivered) as failed:
            EventBridgeNotifier(BUS, client=client).publish(every_notice()[:1])

    assert failed.value.refused is refused and code in str(failed.value)


def test_eventbridge_out_for_a_run_is_asked_once(bus):
    # A whole PutEvents call that failed (a timeout, a connection, EventBridge's 500) says the bus or the service is
    # out, not one entry: the other batches and the run's later publishes are not tried; the next run tells them.
    from botocore.stub import Stubber

    client = boto3.client("events")
    notifier = EventBridgeNotifier(BUS, client=client)
    notices = [notice("imsync.copy.failed", n) for n in range(23)]  # three calls' worth
    with Stubber(client) as stubbed:  # one answer: a second call would fail UnStubbedResponseError
        stubbed.add_client_error("put_events", service_error_code="InternalFailure", http_status_code=500)
        with pytest.raises(NotDelivered) as failed:
            notifier.publish(notices)
        with pytest.raises(NotDelivered) as later:  # a deletion's notice, later in the run
            notifier.publish(notices[:1])
        stubbed.assert_no_pending_responses()

    codes = [code for _, code, _ in failed.value.failures + later.value.failures]
    assert codes == ["InternalFailure"] * 10 + ["NotTried"] * 14, codes
    assert failed.value.undelivered == notices and later.value.undelivered == notices[:1]
    assert not failed.value.refused and not later.value.refused


def test_eventbridge_waits_for_an_answer_as_long_as_imsync_says(bus):
    config = EventBridgeNotifier(BUS, timeout=7.0).client.meta.config  # botocore's defaults: 60 s, up to 5 tries

    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (7.0, 7.0, 3)


# ---- the log -------------------------------------------------------------------------------------


def test_the_log_takes_every_notice_type(caplog):
    with caplog.at_level(logging.INFO, logger="imsync"):
        LogNotifier().publish(every_notice())

    logged = [r.notification["type"] for r in caplog.records if r.getMessage() == "notification"]
    assert logged == list(ALL_TYPES)


def big_digest(items: int = 1500) -> dict[str, object]:
    listed = [dict(notice("imsync.copy.refused", n), reason="r" * 200) for n in range(items)]
    return {"type": "imsync.digest", "function": "scheduled_dr_copy", "count": items, "items": listed}


def test_eventbridge_cuts_a_digest_too_long_for_one_entry_and_says_how_many_it_left_out(bus):
    EventBridgeNotifier(BUS).publish([big_digest()])

    (event,) = bus()
    kept, left_out = event["detail"]["items"], event["detail"]["left_out"]
    assert event["detail"]["count"] == 1500 and left_out == 1500 - len(kept) > 0
    assert len(json.dumps(event["detail"]).encode()) <= 256 * 1024


def test_eventbridge_keeps_each_call_within_256_kb(bus):
    sizes: list[int] = []

    class Counting:
        def __init__(self) -> None:
            self.real = boto3.client("events")

        def put_events(self, Entries):
            sizes.append(sum(len(e["Detail"].encode()) for e in Entries))
            return self.real.put_events(Entries=Entries)

    EventBridgeNotifier(BUS, client=Counting()).publish([big_digest(), big_digest(), *every_notice()])

    assert len(sizes) >= 2 and max(sizes) <= 256 * 1024
    assert len(bus()) == 2 + len(ALL_TYPES)
