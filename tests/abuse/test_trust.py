"""Trust: whoever can tag an image or send an event gets no more than the settings allow (docs/security.md).

Each test names the attack it stops; the real handlers run over the SDK against the emulator.
"""

from __future__ import annotations

import json

import pytest

from tests.abuse.conftest import HOME, writes
from tests.helpers.events import load_event
from tests.test_config_hostile import fake_secret

EAST = "cn-east-3"


def timer(**options: object) -> dict[str, object]:
    return {**load_event("timer"), "user_event": json.dumps(options)}


# 1. Dry run: an event may ask for a dry run, never cancel one.


def test_an_event_cannot_cancel_the_dry_run_setting(cloud, deployment, call, monkeypatch):
    monkeypatch.setenv("IMSYNC_DRY_RUN", "true")
    stranger = cloud.add_account("stranger")
    monkeypatch.setenv("IMSYNC_TRUSTED_OWNERS", stranger.projects[HOME])
    source = cloud.region(HOME).add_image(name="src", tags={"imsync-regions": EAST, "imsync-share": "partner"})
    done = cloud.region(HOME).add_image(name="done", tags={"imsync-regions": EAST, "imsync-share": "partner"})
    replica = cloud.region(EAST).add_image(name="copy", description=f"imsync:source={HOME}/{done.id} copied by imsync")
    cloud.region(HOME).add_image(name="offered", owner=stranger, members={cloud.owner.projects[HOME]: "pending"})

    answers = [
        call("scheduled_dr_copy", timer(dry_run=False)),
        call("scheduled_dr_copy", {"dry_run": False}),
        call("scheduled_dr_copy", {**load_event("eventbridge_scheduled"), "detail": {"dry_run": False}}),
        call("replicate_on_create", load_event("cts_create_image", image_id=source.id)),
        call("share_on_complete", {"replica_id": replica.id, "region": EAST, "dry_run": False}),
        call("share_on_complete", timer(dry_run=False)),
        call("accept_shares", {**load_event("accept_timer"), "user_event": '{"dry_run": false}'}),
        call("accept_shares", {"dry_run": False}),
    ]

    assert [a["dry_run"] for a in answers] == [True] * len(answers), answers
    planned = [r for a in answers for r in a["results"] if r["outcome"] == "planned"]
    assert len(planned) >= 4, answers  # the runs had work to do: a copy, a finalize, a share, an accept
    assert writes(cloud) == []


# 3. An account that both shares and accepts: its own outgoing shares are never pending shares.


@pytest.mark.parametrize("trusts_itself", [True, False], ids=["trusting-itself", "trusting-a-partner"])
def test_an_account_that_shares_and_accepts_never_takes_its_own_images_for_pending_shares(
    cloud, deployment, call, monkeypatch, trusts_itself
):
    partner = cloud.add_account("stranger")
    own, theirs = cloud.owner.projects[HOME], partner.projects[HOME]
    monkeypatch.setenv("IMSYNC_TRUSTED_OWNERS", own if trusts_itself else theirs)
    outgoing = cloud.region(HOME).add_image(name="ours", members={cloud.recipient.projects[HOME]: "pending"})
    incoming = cloud.region(HOME).add_image(name="theirs", owner=partner, members={own: "pending"})

    answers = [call("accept_shares", load_event("accept_timer")) for _ in range(2)]

    for answer in answers:
        assert outgoing.id not in {r["image_id"] for r in answer["results"]}, answer
        assert answer["ok"], answer
    (first,) = answers[0]["results"]
    assert first["image_id"] == incoming.id
    assert first["outcome"] == ("untrusted" if trusts_itself else "accepted"), answers
    assert cloud.region(HOME).image(outgoing.id).members == {cloud.recipient.projects[HOME]: "pending"}


# 4. A dotted tag key that starts like an imsync key is not a policy, whether or not tags are copied.


@pytest.mark.parametrize("copy_tags", ["false", "true"])
def test_a_dotted_key_that_starts_like_a_policy_tag_is_not_a_policy(cloud, deployment, call, monkeypatch, copy_tags):
    monkeypatch.setenv("IMSYNC_COPY_TAGS", copy_tags)
    # Listed as "imsync-regions.cn-east-3_." and "imsync-share.partner.": split at the first dot, a policy.
    planted = cloud.region(HOME).add_image(
        name="dotted", tags={"imsync-regions.cn-east-3_": "", "imsync-share.partner": ""}
    )
    bystander = cloud.region(HOME).add_image(name="opted-in", tags={"imsync-regions": EAST})

    call("replicate_on_create", load_event("cts_create_image", image_id=planted.id))
    answer = call("scheduled_dr_copy", load_event("timer"))

    assert answer["ok"], answer
    assert cloud.region(EAST).replicas_of(planted.id) == []
    assert len(cloud.region(EAST).replicas_of(bystander.id)) == 1
    assert [w.path for w in writes(cloud) if planted.id in w.path] == []
    assert any(r.method == "GET" and r.path.endswith(f"/images/{planted.id}/tags") for r in cloud.requests)


# 2. A planted replica: an image tagged imsync-source=<A> is not A's replica; only imsync's own evidence is.


def test_a_planted_replica_neither_stops_the_copy_nor_is_shared_nor_accepted(cloud, deployment, call, monkeypatch):
    source = cloud.region(HOME).add_image(name="golden", tags={"imsync-regions": EAST, "imsync-share": "partner"})
    planted = cloud.region(EAST).add_image(
        name=f"copy_{HOME}_golden", tags={"imsync-source": source.id, "imsync-source-region": HOME}
    )

    call("share_on_complete", {"replica_id": planted.id, "region": EAST})
    call("scheduled_dr_copy", load_event("timer"))
    cloud.run_until_idle()
    call("share_on_complete", load_event("timer"))
    cloud.run_until_idle()
    call("scheduled_dr_copy", load_event("timer"))

    marker = f"imsync:source={HOME}/{source.id}"
    real = [i for i in cloud.region(EAST).images() if i.id != planted.id and i.description.startswith(marker)]
    assert len(real) == 1 and real[0].status == "active"
    assert set(real[0].members) == {cloud.recipient.projects[EAST]}
    assert cloud.region(EAST).image(planted.id).members == {}
    # The partner's accept_shares trusts the owner: only what imsync shared is there to accept.
    for key, value in {"HUAWEICLOUD_SDK_AK": cloud.recipient.ak, "HUAWEICLOUD_SDK_SK": cloud.recipient.sk}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", cloud.recipient.domain_id)
    monkeypatch.setenv("IMSYNC_TRUSTED_OWNERS", cloud.owner.projects[EAST])
    monkeypatch.setenv("IMSYNC_ACCEPT_REGIONS", EAST)
    accepted = call("accept_shares", load_event("accept_timer"))
    assert [(r["image_id"], r["outcome"]) for r in accepted["results"]] == [(real[0].id, "accepted")], accepted


# 6. A secret pasted into the wrong setting is never echoed: not in the error, the answer or the log.


@pytest.mark.parametrize("variable", ["IMSYNC_SMN_TOPIC_URN", "IMSYNC_TRUSTED_OWNERS", "IMSYNC_ALLOWED_REGIONS"])
def test_a_secret_pasted_into_a_setting_reaches_no_answer_and_no_log(
    cloud, deployment, call, secret, variable, monkeypatch, log_tap
):
    pasted = fake_secret()
    secret(pasted)  # the `kept` fixture scans every log line and answer of this test for it
    monkeypatch.setenv(variable, pasted)

    answers = [call(name, load_event("timer")) for name in ("scheduled_dr_copy", "share_on_complete", "accept_shares")]

    for answer in answers:
        assert answer["ok"] is False and variable in json.dumps(answer), answer
        assert "40-character value of letters and digits" in json.dumps(answer), answer
    assert not [line for line in log_tap() if pasted[:12] in line]
    assert writes(cloud) == []
