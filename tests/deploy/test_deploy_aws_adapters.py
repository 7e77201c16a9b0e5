"""The AWS adapters against moto: the credentials secret and the EventBridge notifier."""

from __future__ import annotations

import inspect
import json
import typing

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from imsync.adapters.aws import EventBridgeNotifier, NotificationFailed, secret_credentials
from imsync.domain.errors import AuthFailed, ConfigError, Throttled

SECRET = "imsync/huawei-credentials"
FAKE_AK = "FAKEAKFAKEAKFAKEAK01"
FAKE_SK = "fake-sk-do-not-use-0123456789"


@pytest.fixture
def secrets(aws_env):
    with mock_aws():
        yield boto3.client("secretsmanager")


def test_secret_with_ak_and_sk(secrets):
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"ak": FAKE_AK, "sk": FAKE_SK}))
    assert secret_credentials(SECRET) == (FAKE_AK, FAKE_SK, None)


def test_secret_with_security_token(secrets):
    value = {"ak": FAKE_AK, "sk": FAKE_SK, "security_token": "fake-token"}
    secrets.create_secret(Name=SECRET, SecretString=json.dumps(value))
    assert secret_credentials(SECRET, client=secrets) == (FAKE_AK, FAKE_SK, "fake-token")


def test_missing_secret_names_it_and_the_fix(secrets):
    with pytest.raises(ConfigError) as err:
        secret_credentials("imsync/absent")
    assert "imsync/absent" in str(err.value)
    assert "create-secret" in str(err.value)


@set_initial_no_auth_action_count(0)  # moto checks every request's key against its IAM from here on
def test_a_key_aws_does_not_take_is_an_authentication_failure_not_a_pause(secrets):
    # An outage passes (Unavailable, retried); a key AWS does not take does not, and must say whose key it is.
    with pytest.raises(AuthFailed) as err:
        secret_credentials(SECRET)
    message = str(err.value)
    assert "execution role" in message and "testing-not-a" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not json " + FAKE_SK, "not valid JSON"),
        (json.dumps([FAKE_AK, FAKE_SK]), "JSON object"),
        (json.dumps({"ak": FAKE_AK}), "'sk'"),
        (json.dumps({"ak": "", "sk": FAKE_SK}), "'ak'"),
        (json.dumps({"ak": FAKE_AK, "sk": FAKE_SK, "security_token": 7}), "security_token"),
    ],
)
def test_malformed_secret_is_explained_without_its_value(secrets, value, expected):
    secrets.create_secret(Name=SECRET, SecretString=value)
    with pytest.raises(ConfigError) as err:
        secret_credentials(SECRET)
    message = str(err.value)
    assert expected in message and SECRET in message
    assert FAKE_SK not in message and FAKE_AK not in message


def test_binary_secret_is_refused(secrets):
    secrets.create_secret(Name=SECRET, SecretBinary=b"\x00\x01")
    with pytest.raises(ConfigError, match="binary"):
        secret_credentials(SECRET)


def test_throttling_is_retryable():
    class Throttling(Exception):
        def __init__(self) -> None:
            self.response = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}

    class Client:
        def get_secret_value(self, SecretId):
            raise Throttling()

    with pytest.raises(Throttled):
        secret_credentials(SECRET, client=Client())


@pytest.fixture
def bus(aws_env):
    """A custom bus whose events are copied into an SQS queue, so the test can read them back."""
    with mock_aws():
        events, sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name="imsync-test")
        queue_url = sqs.create_queue(QueueName="imsync-test")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName="imsync-test", EventPattern=json.dumps({"source": ["imsync"]}))
        events.put_targets(Rule="all", EventBusName="imsync-test", Targets=[{"Id": "q", "Arn": queue_arn}])

        def received():
            bodies = []
            while True:
                answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
                if not answer.get("Messages"):
                    return bodies
                bodies += [json.loads(m["Body"]) for m in answer["Messages"]]
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(answer["Messages"])
                    ],
                )

        yield events, received


def test_events_reach_the_bus_with_type_as_detail_type(bus):
    _events, received = bus
    notifier = EventBridgeNotifier("imsync-test")
    notifier.publish(
        [
            {
                "type": "imsync.replica.ready",
                "image_id": "img-1",
                "region": "cn-east-3",
                "replica_id": "img-2",
            },
            {
                "type": "imsync.copy.refused",
                "image_id": "img-3",
                "region": "cn-east-3",
                "reason": "encrypted",
            },
        ]
    )
    got = sorted(received(), key=lambda e: e["detail-type"])
    assert [e["detail-type"] for e in got] == ["imsync.copy.refused", "imsync.replica.ready"]
    assert all(e["source"] == "imsync" for e in got)
    assert got[1]["detail"] == {"image_id": "img-1", "region": "cn-east-3", "replica_id": "img-2"}


def test_events_are_sent_ten_per_call(aws_env):
    calls = []

    class Client:
        def put_events(self, Entries):
            calls.append(len(Entries))
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}

    EventBridgeNotifier("b", client=Client()).publish(
        {"type": "imsync.copy.failed", "image_id": f"img-{i}"} for i in range(23)
    )
    assert calls == [10, 10, 3]


def test_failed_entries_are_raised_after_every_batch_was_tried(aws_env):
    calls = []

    class Client:
        def put_events(self, Entries):
            calls.append(len(Entries))
            results = [{"EventId": "x"} for _ in Entries]
            results[0] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            return {"FailedEntryCount": 1, "Entries": results}

    with pytest.raises(NotificationFailed) as err:
        EventBridgeNotifier("b", client=Client()).publish({"type": "imsync.replica.ready", "n": i} for i in range(12))
    assert calls == [10, 2]
    assert len(err.value.failures) == 2 and err.value.retryable
    assert "InternalFailure" in str(err.value)


def test_an_unknown_event_type_is_named_as_not_delivered_and_the_others_still_go(aws_env):
    sent = []

    class Client:
        def put_events(self, Entries):
            sent.extend(e["DetailType"] for e in Entries)
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}

    other = {"type": "other"}
    with pytest.raises(NotificationFailed, match=r"other: UnknownType") as err:
        EventBridgeNotifier("b", client=Client()).publish([{"type": "imsync.replica.ready"}, other])
    assert sent == ["imsync.replica.ready"] and err.value.undelivered == [other]


def test_missing_bus_on_the_account_is_reported(aws_env):
    with mock_aws(), pytest.raises(NotificationFailed):
        EventBridgeNotifier("no-such-bus").publish([{"type": "imsync.copy.failed", "image_id": "i"}])


def _publish_shape(cls: type) -> list[tuple[str, object, object]]:
    """publish's parameters as (name, kind, resolved annotation), and its return annotation."""
    hints = typing.get_type_hints(cls.publish)
    parameters = list(inspect.signature(cls.publish).parameters.values())
    return [(p.name, p.kind, hints.get(p.name)) for p in parameters] + [("return", None, hints.get("return"))]


def test_every_notifier_has_the_ports_publish():
    """EventBridge, SMN and the log take what the port promises, and nothing more: the same call works on each."""
    from imsync.adapters.huawei_smn import SmnNotifier
    from imsync.notify import LogNotifier
    from imsync.ports import Notifier

    wanted = _publish_shape(Notifier)
    for notifier in (EventBridgeNotifier, SmnNotifier, LogNotifier):
        assert _publish_shape(notifier) == wanted, notifier.__name__

    class OneEventAtATime:  # the check tells a notifier that drifted from the port
        def publish(self, event: dict[str, object]) -> None: ...

    assert _publish_shape(OneEventAtATime) != wanted


def test_functions_on_aws_take_their_keys_from_the_secret(secrets, monkeypatch):
    """The credential chain a handler uses on Lambda: no agency context, no SDK variables, the secret."""
    from imsync.adapters.credentials import resolve_credentials

    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"ak": FAKE_AK, "sk": FAKE_SK}))

    class LambdaContext:
        function_name = "imsync-replicate-on-create"
        aws_request_id = "req-1"

    found = resolve_credentials(LambdaContext(), SECRET)
    assert (found.ak, found.sk, found.security_token) == (FAKE_AK, FAKE_SK, None)
    assert SECRET in str(found) and FAKE_SK not in repr(found)


def test_a_dr_run_that_also_lists_untrusted_shares_reads_the_secret_once(secrets, monkeypatch):
    """The recipient's digest reuses the run's credentials: one GetSecretValue per invocation, not one per use."""
    from imsync import bootstrap
    from imsync.adapters import aws

    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMSYNC_HOME_REGION", "cn-north-4")
    monkeypatch.setenv("IMSYNC_CREDENTIALS_SECRET", SECRET)
    monkeypatch.setenv("IMSYNC_TRUSTED_OWNERS", "0123456789abcdef0123456789abcdef")
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"ak": FAKE_AK, "sk": FAKE_SK}))
    reads = []
    real = aws.secret_credentials
    monkeypatch.setattr(aws, "secret_credentials", lambda name, client=None: reads.append(name) or real(name, client))

    bootstrap.replicator(None)

    assert reads == [SECRET]
