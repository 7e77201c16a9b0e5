"""Notifications on Huawei SMN: the real SDK's PublishMessage over HTTP to the emulator."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdksmn.v2 import PublishMessageRequest, PublishMessageRequestBody, SmnClient
from huaweicloudsdksmn.v2.region.smn_region import SmnRegion

from imsync import bootstrap
from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_smn import SmnNotifier
from imsync.domain.errors import NotDelivered
from imsync.emulator.readings import with_changes
from imsync.notify import LogNotifier
from imsync.retry import Deadline, Retrier
from tests.e2e.conftest import HOME
from tests.e2e.test_replication import create_event, golden
from tests.helpers import handlers

REFUSED = {
    "type": "imsync.copy.refused",
    "source_image_id": "00000000-0000-0000-0000-0000000000aa",
    "source_region": HOME,
    "region": "cn-east-3",
    "replica_id": "",
    "reason": "ISO images cannot be copied to another region",
}


def owner_credentials(cloud) -> Credentials:
    return Credentials(cloud.owner.ak, cloud.owner.sk)


def smn_client(cloud, account=None, region=HOME) -> SmnClient:
    account = account or cloud.owner
    credentials = BasicCredentials(account.ak, account.sk, account.projects[region])
    return SmnClient.new_builder().with_credentials(credentials).with_region(SmnRegion.value_of(region)).build()


def test_a_refusal_is_published_with_a_subject_a_body_and_json(cloud, imsync_env, monkeypatch):
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    monkeypatch.setenv("IMSYNC_SMN_TOPIC_URN", topic)
    iso = golden(cloud, regions="cn-east-3", name="installer", iso=True)

    answer = handlers.replicate_on_create(create_event(iso))

    assert answer["counts"] == {"refused": 1}, answer
    (message,) = cloud.smn.messages(topic)
    assert message.subject == f"imsync: copy refused for image {iso.id} in cn-east-3"
    email = message.text("email")
    assert email.startswith("Why: ISO images") and "What to do: Fix the image's imsync-* tags" in email
    machine = json.loads(message.text("https"))
    assert machine["type"] == "imsync.copy.refused" and machine["source_image_id"] == iso.id
    assert json.loads(email.split("JSON: ", 1)[1]) == machine
    assert message.account == "owner"


def test_a_topic_smn_does_not_know_never_stops_the_work_and_fails_the_run(cloud, imsync_env, monkeypatch, capsys):
    """A wrong topic is a success to the platform unless the run fails: SMN's 404 is an error, not a log line."""
    missing = f"urn:smn:{HOME}:{cloud.owner.projects[HOME]}:no-such-topic"
    monkeypatch.setenv("IMSYNC_SMN_TOPIC_URN", missing)
    iso, image = golden(cloud, regions="cn-east-3", iso=True), golden(cloud, regions="cn-east-3", name="web")

    answer = handlers.replicate_on_create({"image_ids": [iso.id, image.id]})

    assert answer["counts"] == {"refused": 1, "started": 1, "error": 1}, answer  # the work is done all the same
    (refused,) = [r for r in answer["results"] if r["action"] == "notify"]
    assert not answer["ok"] and "SMN.0006" in refused["reason"] and "IMSYNC_SMN_TOPIC_URN" in refused["reason"]
    assert cloud.smn.messages() == []
    logged = capsys.readouterr().out
    assert "notification not delivered" in logged and "SMN.0006" in logged
    assert cloud.owner.sk not in logged


def test_a_bad_signature_is_refused_and_logged(cloud, monkeypatch, capsys):
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    notifier = SmnNotifier(topic, Credentials(cloud.owner.ak, "not-the-secret-key"))

    with pytest.raises(NotDelivered) as failed:  # tried, logged, and named: the caller must not mark it as told
        notifier.publish([REFUSED])

    assert failed.value.undelivered == [REFUSED] and failed.value.refused  # no retry fixes a key
    assert cloud.smn.messages() == []
    logged = capsys.readouterr().out
    assert "APIGW.0301" in logged and "signature does not match" in logged
    assert "not-the-secret-key" not in logged


def test_each_message_is_published_on_its_own(cloud, monkeypatch):
    topic = cloud.smn.add_topic("imsync-alerts", "cn-east-3")
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    notifier = SmnNotifier(topic, owner_credentials(cloud))

    notifier.publish([REFUSED, {**REFUSED, "type": "imsync.copy.failed", "reason": "IMG.0100: internal error"}])

    subjects = [m.subject for m in cloud.smn.messages(topic)]
    assert subjects == [
        "imsync: copy refused for image 00000000-0000-0000-0000-0000000000aa in cn-east-3",
        "imsync: copy failed for image 00000000-0000-0000-0000-0000000000aa in cn-east-3",
    ]
    assert "imsync tries again on its next run" in cloud.smn.messages(topic)[1].text()


def test_the_notifier_follows_the_settings(cloud, monkeypatch):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    assert isinstance(bootstrap.notifier(), LogNotifier)
    monkeypatch.setenv("IMSYNC_EVENT_BUS", "imsync-events")
    assert type(bootstrap.notifier()).__name__ == "EventBridgeNotifier"
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    monkeypatch.setenv("IMSYNC_SMN_TOPIC_URN", topic)
    smn = bootstrap.notifier()
    assert isinstance(smn, SmnNotifier) and smn.topic_urn == topic


def test_no_endpoint_for_the_topics_region_is_logged_with_the_variable_to_set(cloud, monkeypatch, capsys):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    topic = f"urn:smn:xx-nowhere-9:{cloud.owner.projects[HOME]}:imsync-alerts"

    with pytest.raises(NotDelivered):
        SmnNotifier(topic, owner_credentials(cloud)).publish([REFUSED])

    assert "set HUAWEICLOUD_SDK_REGION_SMN_XX_NOWHERE_9" in capsys.readouterr().out


def test_an_smn_that_does_not_answer_is_logged_as_smn_not_ims(cloud, monkeypatch, capsys):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_SMN_CN_NORTH_4", "http://127.0.0.1:9")  # nothing listens there
    topic = cloud.smn.add_topic("imsync-alerts", HOME)

    with pytest.raises(NotDelivered):
        SmnNotifier(topic, owner_credentials(cloud), timeout=2.0).publish([REFUSED])

    logged = capsys.readouterr().out
    assert "notification not delivered" in logged and "no answer from SMN" in logged, logged
    assert "IMS" not in logged


# ---- the emulator's SMN, through the SDK ----------------------------------------------------------


def publish(client: SmnClient, topic: str, **body: str):
    return client.publish_message(PublishMessageRequest(topic_urn=topic, body=PublishMessageRequestBody(**body)))


def test_the_emulator_answers_a_message_id_and_records_the_message(cloud, monkeypatch):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    topic = cloud.smn.add_topic("alerts", HOME)

    answer = publish(smn_client(cloud), topic, subject="hello", message="a body")

    (message,) = cloud.smn.messages()
    assert answer.message_id == message.message_id and message.text() == "a body"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"message_structure": '{"email": "no default"}'}, 400, "SMN.0021"),
        ({"message_structure": "not json"}, 400, "SMN.0021"),
        ({"subject": "only a subject"}, 400, "SMN.0024"),
        ({"subject": "x" * 513, "message": "m"}, 400, "SMN.0024"),
        ({"message": "x" * (256 * 1024 + 1)}, 400, "SMN.0024"),
        ({"message_structure": json.dumps({"default": "d", "sms": "x" * 491})}, 400, "SMN.0024"),
        ({"message_structure": json.dumps({"default": "d", "sms": "copy [refused]"})}, 400, "SMN.0024"),
        ({"message_structure": json.dumps({"default": "d", "sms": "copy 【refused】"})}, 400, "SMN.0024"),
    ],
)
def test_the_emulator_refuses_what_smn_refuses(cloud, monkeypatch, body, status, code):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    topic = cloud.smn.add_topic("alerts", HOME)

    with pytest.raises(ClientRequestException) as err:
        publish(smn_client(cloud), topic, **body)

    assert (err.value.status_code, err.value.error_code) == (status, code)
    assert cloud.smn.messages() == []


def test_another_accounts_topic_is_not_found(cloud, monkeypatch):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    theirs = cloud.smn.add_topic("alerts", HOME, account=cloud.recipient)

    with pytest.raises(ClientRequestException) as err:
        publish(smn_client(cloud), theirs, message="m")

    assert (err.value.status_code, err.value.error_code, err.value.error_msg) == (404, "SMN.0006", "Topic not found.")


def test_a_notification_with_a_list_reads_as_json_in_the_body():
    from imsync.adapters.huawei_smn import body_of

    body = body_of({"type": "imsync.digest", "items": [{"image_id": "a", "reason": "x"}], "count": 1})

    assert 'items: [{"image_id": "a", "reason": "x"}]' in body and "count: 1" in body
    assert "What to do: `imsync status` shows where every image stands." in body


def test_a_busy_smn_is_retried_and_the_message_still_goes(cloud, monkeypatch):
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    cloud.faults.add(status=503, method="POST", path="/publish$")
    notifier = SmnNotifier(topic, owner_credentials(cloud), retrier=Retrier(sleep=lambda seconds: None))

    notifier.publish([REFUSED])

    assert len(cloud.smn.messages(topic)) == 1


def test_an_smn_that_does_not_answer_costs_one_timeout_per_run(cloud, monkeypatch):
    # Each publish SMN does not answer costs a whole timeout (30 s by default): tried for every notice, eight of
    # them were a poll's whole time. The first unanswered one stops the run's publishing; the next run tells all.
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    held = cloud.faults.add(status=504, delay=0.5, method="POST", path="/publish$", count=None)
    notices = [REFUSED, {**REFUSED, "type": "imsync.copy.failed"}, {**REFUSED, "type": "imsync.copy.stuck"}]
    notifier = SmnNotifier(topic, owner_credentials(cloud), timeout=0.2, retrier=Retrier(sleep=lambda seconds: None))

    with pytest.raises(NotDelivered) as failed:
        notifier.publish(notices)

    assert held.fired == 1, held
    assert failed.value.undelivered == notices and not failed.value.refused
    with pytest.raises(NotDelivered, match="not asked again in this run"):  # a deletion's notice, later in the run
        notifier.publish([REFUSED])
    assert held.fired == 1


def test_a_publish_the_platform_would_cut_off_is_not_started(cloud, monkeypatch):
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    nearly_out = Retrier(Deadline(lambda: 3000.0), sleep=lambda seconds: None)  # 3 s left: less than the reserve

    with pytest.raises(NotDelivered, match="out of time") as failed:
        SmnNotifier(topic, owner_credentials(cloud), retrier=nearly_out).publish([REFUSED, REFUSED])

    assert len(failed.value.undelivered) == 2 and cloud.smn.messages() == []
    assert not [r for r in cloud.requests if r.path.endswith("/publish")]


def test_the_lenient_sms_reading_sends_what_the_carrier_may_drop(cloud, monkeypatch):
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    cloud.readings = with_changes(cloud.readings, smn_sms_limits=False)
    topic = cloud.smn.add_topic("alerts", HOME)

    publish(smn_client(cloud), topic, message_structure=json.dumps({"default": "d", "sms": "[x]" * 200}))

    assert cloud.smn.messages()[0].text("sms") == "[x]" * 200


def test_an_sms_subscriber_gets_a_short_text_without_brackets(cloud, monkeypatch):
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    long_reason = {**REFUSED, "reason": "[ISO] 【installer】 " + "too long to read on a phone " * 40}

    SmnNotifier(topic, owner_credentials(cloud)).publish([long_reason])

    sms = cloud.smn.messages(topic)[0].text("sms")
    assert len(sms) <= 490 and not set("[]【】") & set(sms)
    assert sms.startswith(f"imsync: copy refused for image {REFUSED['source_image_id']} in cn-east-3. Why: (ISO)")


def test_a_digest_too_long_for_one_message_is_cut_and_says_how_many_it_left_out(cloud, monkeypatch):
    topic = cloud.smn.add_topic("imsync-alerts", HOME)
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    items = [{**REFUSED, "source_image_id": f"image-{n:05d}", "reason": "r" * 200} for n in range(1500)]
    digest = {"type": "imsync.digest", "function": "scheduled_dr_copy", "count": len(items), "items": items}

    SmnNotifier(topic, owner_credentials(cloud)).publish([digest])

    (message,) = cloud.smn.messages(topic)
    assert len(message.message_structure.encode()) <= 256 * 1024
    machine = json.loads(message.text("https"))
    kept = machine["items"]
    assert machine["count"] == 1500 and machine["left_out"] == 1500 - len(kept) > 0
    assert [i["source_image_id"] for i in kept] == [f"image-{n:05d}" for n in range(len(kept))]  # the first ones
    assert f"- and {machine['left_out']} more that do not fit in one message" in message.text("email")
