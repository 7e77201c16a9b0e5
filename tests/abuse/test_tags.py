"""Hostile policy tags: refused with a reason the tagger can act on, no write outside policy, others unharmed."""

import json

import pytest

from tests.abuse.conftest import ALLOWED, HOME, REGIONS, writes
from tests.helpers.events import load_event


def sweep_and_finish(call, cloud):
    first = call("scheduled_dr_copy", load_event("timer"))
    cloud.run_until_idle()
    return first, call("share_on_complete", load_event("timer"))


def reasons(*answers):
    return " | ".join(r.get("reason", "") for a in answers for r in a["results"] if r["outcome"] == "refused")


def assert_only_allowed_writes(cloud, partner_ok=True):
    """Every replica in an allowed region; every member a configured project."""
    configured = set(cloud.recipient.projects.values()) | set(cloud.account("auditor").projects.values())
    for region in REGIONS:
        for image in cloud.region(region).images():
            if image.source_id():
                assert region in ALLOWED, (region, image)
            assert set(image.members) <= configured, (region, image.members)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"imsync-regions": "cn-east-3_" * 10}, "IMS allows 43"),
        ({"imsync-regions": "_" * 43}, None),
        ({"imsync-regions": "_" * 400}, "IMS allows 43"),
        ({"imsync-regions": ",;+ " * 10}, None),
        ({"imsync-regions": "cn-east-3;rm -rf /"}, "characters IMS tags do not allow"),
        ({"imsync-regions": "cn-east-3\n"}, "characters IMS tags do not allow ('\\n')"),
        ({"imsync-regions": "cn-éast-3"}, "characters IMS tags do not allow"),
        ({"imsync-regions": "${jndi:ldap://x}"}, "characters IMS tags do not allow"),
        ({"imsync-regions": "../../cn-east-3"}, "characters IMS tags do not allow ('/')"),
        ({"imsync-regions": "ap-southeast-1"}, "'ap-southeast-1' is not in IMSYNC_ALLOWED_REGIONS"),
        ({"imsync-regions": "CN-EAST-3"}, "'CN-EAST-3' is not in IMSYNC_ALLOWED_REGIONS"),
        ({"imsync-regions": "cn-north-4"}, "'cn-north-4' is not in IMSYNC_ALLOWED_REGIONS"),
        ({"imsync-regions": "cn-east-3", "imsync-when": "now;reboot"}, "treated as 'schedule'"),
    ],
)
def test_hostile_region_values_are_refused_with_a_reason_and_nothing_else_is_copied(
    cloud, deployment, call, tags, expected
):
    image = cloud.region(HOME).add_image(name="hostile", tags=tags)
    bystander = cloud.region(HOME).add_image(name="good", tags={"imsync-regions": "cn-south-1"})

    first, _last = sweep_and_finish(call, cloud)

    if expected:
        assert expected in reasons(first), first
    assert [r for r in first["results"] if r["outcome"] == "error"] == []
    assert_only_allowed_writes(cloud)
    copied = {r.region for region in REGIONS for r in cloud.region(region).replicas_of(image.id)}
    assert copied <= ({"cn-east-3"} if tags.get("imsync-regions") == "cn-east-3" else set())
    (good,) = cloud.region("cn-south-1").replicas_of(bystander.id)  # the other image's work is not lost
    assert good.status == "active"


def test_an_alias_that_looks_like_a_project_id_is_not_a_project(cloud, deployment, call):
    # Tags name aliases, never projects: a project ID in the tag must not be shared with, even a real one.
    stranger = cloud.add_account("stranger")
    pid = stranger.projects[HOME]
    image = cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3", "imsync-share": pid})

    first, _last = sweep_and_finish(call, cloud)

    assert f"'{pid}' is not a share target" in reasons(first)
    assert cloud.region(HOME).image(image.id).members == {}
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert replica.members == {}
    assert_only_allowed_writes(cloud)


def test_hundreds_of_aliases_in_separators_and_unknown_aliases_share_with_nobody_else(cloud, deployment, call):
    image = cloud.region(HOME).add_image(
        name="s", tags={"imsync-regions": "cn-east-3", "imsync-share": "partner_" + "stranger_" * 3 + "x"}
    )

    first, _last = sweep_and_finish(call, cloud)

    assert "'stranger' is not a share target" in reasons(first) and "'x' is not a share target" in reasons(first)
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert set(replica.members) == {cloud.recipient.projects["cn-east-3"]}
    assert_only_allowed_writes(cloud)


def test_a_share_alias_naming_the_owners_own_project_is_refused_and_the_rest_is_shared(
    cloud, deployment, call, monkeypatch
):
    # An image is always visible to its owner; IMS refuses such a member (IMG.0108) and, in one batch,
    # that refusal used to stop the share with every other project of the image.
    targets = json.loads(deployment["IMSYNC_SHARE_TARGETS"])
    targets["self"] = {r: [cloud.owner.projects[r]] for r in REGIONS}
    monkeypatch.setenv("IMSYNC_SHARE_TARGETS", json.dumps(targets))
    image = cloud.region(HOME).add_image(name="s", tags={"imsync-regions": "cn-east-3", "imsync-share": "self_partner"})

    _first, last = sweep_and_finish(call, cloud)
    again = call("share_on_complete", load_event("timer"))

    for answer in (last, again):
        assert [r for r in answer["results"] if r["outcome"] == "error"] == [], answer
        assert "the owner's own project" in reasons(answer), answer
    assert set(cloud.region(HOME).image(image.id).members) == {cloud.recipient.projects[HOME]}
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)
    assert set(replica.members) == {cloud.recipient.projects["cn-east-3"]}
    assert not [w for w in writes(cloud) if w.status >= 400]  # IMS was never asked to share with the owner
