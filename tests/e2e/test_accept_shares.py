"""accept_shares in a recipient account: the real handler and SDK against the emulator, two or three accounts."""

from __future__ import annotations

import pytest

from imsync import bootstrap
from imsync.emulator import Emulator
from imsync.emulator.model import Account
from tests.e2e.conftest import HOME
from tests.helpers import handlers
from tests.helpers.events import load_event

VAULT = "0000000000-vault-in-cn-north-4"


def as_recipient(cloud: Emulator, monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    """The environment of an accept_shares deployment in the partner account's cn-north-4."""
    for key, value in cloud.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", cloud.recipient.ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", cloud.recipient.sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", cloud.recipient.domain_id)
    monkeypatch.setenv("IMSYNC_HOME_REGION", HOME)
    monkeypatch.setenv("IMSYNC_HTTP_TIMEOUT", "5")
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(bootstrap, "pause", cloud.clock.advance)  # retries and job waits: the cloud's time passes


def share(cloud: Emulator, owner: Account | None = None, region: str = HOME, **kw):
    """An image of `owner` (default: the owner account) shared with the partner, pending its answer."""
    owner = owner or cloud.owner
    pid = cloud.recipient.projects[region]
    return cloud.region(region).add_image(name=kw.pop("name", "shared"), owner=owner, members={pid: "pending"}, **kw)


def status_of(cloud: Emulator, image, region: str = HOME) -> str:
    return cloud.region(region).image(image.id).members[cloud.recipient.projects[region]]


def trusting(cloud: Emulator, *accounts: Account, region: str = HOME) -> str:
    return ",".join(a.projects[region] for a in accounts)


def by_image(answer) -> dict[str, dict[str, str]]:
    return {r["image_id"]: r for r in answer["results"]}


def test_a_trusted_owners_share_is_accepted_and_usable(cloud, monkeypatch):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))

    answer = handlers.accept_shares(load_event("accept_timer.json"))

    assert answer["ok"] and answer["counts"] == {"accepted": 1}, answer
    result = by_image(answer)[image.id]
    assert result["owner"] == cloud.owner.projects[HOME] and result["job_id"]
    assert status_of(cloud, image) == "accepted"


def test_an_untrusted_share_is_left_pending_and_reported_with_its_owner(cloud, monkeypatch):
    stranger = cloud.add_account("stranger")
    trusted, untrusted = share(cloud, name="ours"), share(cloud, stranger, name="theirs")
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))

    answer = handlers.accept_shares({})

    results = by_image(answer)
    assert results[trusted.id]["outcome"] == "accepted"
    assert results[untrusted.id]["outcome"] == "untrusted"
    assert results[untrusted.id]["owner"] == stranger.projects[HOME]
    assert stranger.projects[HOME] in results[untrusted.id]["reason"]
    assert status_of(cloud, untrusted) == "pending"  # never rejected


def test_nothing_is_accepted_without_trusted_owners(cloud, monkeypatch):
    image = share(cloud)
    as_recipient(cloud, monkeypatch)

    answer = handlers.accept_shares({})

    assert answer["counts"] == {"untrusted": 1}, answer
    assert status_of(cloud, image) == "pending"
    assert not [r for r in cloud.requests if r.method == "PUT"]


def test_a_whole_ecs_image_is_accepted_into_the_regions_vault(cloud, monkeypatch):
    image = share(cloud, whole_image=True)
    as_recipient(
        cloud,
        monkeypatch,
        IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner),
        IMSYNC_VAULTS=f'{{"{HOME}": "{VAULT}"}}',
    )

    answer = handlers.accept_shares({})

    assert answer["counts"] == {"accepted": 1}, answer
    assert VAULT in by_image(answer)[image.id]["reason"]
    assert status_of(cloud, image) == "accepted"  # the emulator refuses a whole-ECS accept without vault_id


def test_a_whole_ecs_image_without_a_vault_is_refused_with_the_reason(cloud, monkeypatch):
    image = share(cloud, whole_image=True)
    as_recipient(
        cloud,
        monkeypatch,
        IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner),
        IMSYNC_VAULTS='{"cn-east-3": "another-regions-vault"}',
    )

    answer = handlers.accept_shares({})

    result = by_image(answer)[image.id]
    assert result["outcome"] == "refused" and "IMSYNC_VAULTS names none in cn-north-4" in result["reason"]
    assert status_of(cloud, image) == "pending"


def test_a_dry_run_plans_and_changes_nothing(cloud, monkeypatch):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))

    answer = handlers.accept_shares(load_event("direct_accept.json"))

    assert answer["dry_run"] and answer["counts"] == {"planned": 1}, answer
    assert status_of(cloud, image) == "pending"
    assert not [r for r in cloud.requests if r.method == "PUT"]


def test_each_accept_region_is_read_with_its_own_project(cloud, monkeypatch):
    north, east = share(cloud, name="north"), share(cloud, region="cn-east-3", name="east")
    owners = f"{trusting(cloud, cloud.owner)},{trusting(cloud, cloud.owner, region='cn-east-3')}"
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=owners, IMSYNC_ACCEPT_REGIONS="cn-north-4,cn-east-3")

    answer = handlers.accept_shares({})

    assert answer["counts"] == {"accepted": 2}, answer
    assert status_of(cloud, north) == "accepted" and status_of(cloud, east, "cn-east-3") == "accepted"


def test_a_region_that_is_not_an_accept_region_is_refused(cloud, monkeypatch):
    image = share(cloud, region="cn-east-3")
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner, region="cn-east-3"))

    answer = handlers.accept_shares({"region": "cn-east-3"})

    assert answer["counts"] == {"refused": 1}
    assert "not an accept region" in answer["results"][0]["reason"]
    assert status_of(cloud, image, "cn-east-3") == "pending"


def test_more_pending_shares_than_one_page_are_all_accepted(cloud, monkeypatch):
    images = [share(cloud, name=f"s{n}") for n in range(1201)]
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))

    answer = handlers.accept_shares({})

    assert answer["counts"] == {"accepted": 1201}
    assert {status_of(cloud, i) for i in images} == {"accepted"}
    listings = [r for r in cloud.requests if r.operation == "list_images"]
    assert len(listings) == 4  # 500 + 500 + 201, then an empty page: without page_info only that ends a listing


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ({"image_id": "00000000-0000-0000-0000-0000000000aa"}, "unknown keys 'image_id'"),
        ({"cts": {"service_type": "IMS"}}, "runs on a schedule"),
        ({"trigger_type": "OBS"}, "trigger type 'OBS' is not accepted"),
        ({"dry_run": "yes"}, "dry_run must be true, false or null"),
        ([], "expected a JSON object"),
    ],
)
def test_a_bad_event_changes_nothing_and_says_why(cloud, monkeypatch, event, words):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))

    answer = handlers.accept_shares(event)

    assert not answer["ok"] and answer["error_type"] == "InvalidEvent"
    assert answer["error"].startswith("accept_shares: ") and words in answer["error"], answer["error"]
    assert status_of(cloud, image) == "pending"


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"IMSYNC_TRUSTED_OWNERS": "not-a-project"}, "IMSYNC_TRUSTED_OWNERS: item 1 (a 13-character value"),
        ({"IMSYNC_TRUSTED_OWNERS": "A" * 32}, "is not a project ID (32 lowercase hex"),
        ({"IMSYNC_ACCEPT_REGIONS": "north"}, "IMSYNC_ACCEPT_REGIONS: item 1 (a 5-character value"),
        ({"IMSYNC_HOME_REGION": ""}, "IMSYNC_ACCEPT_REGIONS is not set"),
    ],
)
def test_a_bad_setting_changes_nothing_and_names_the_variable(cloud, monkeypatch, settings, words):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))
    for key, value in settings.items():
        monkeypatch.setenv(key, value)

    answer = handlers.accept_shares({})

    assert not answer["ok"] and answer["error_type"] == "ConfigError"
    assert words in answer["error"], answer["error"]
    assert status_of(cloud, image) == "pending"


def test_a_malformed_listing_accepts_nothing_and_says_so(cloud, monkeypatch):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))
    cloud.faults.add(method="GET", path="^/v2/cloudimages$", body='{"images": "nope"}')

    answer = handlers.accept_shares({})

    assert not answer["ok"] and answer["counts"] == {"error": 1}, answer
    assert "not a list of objects" in answer["results"][0]["reason"]
    assert status_of(cloud, image) == "pending"


def test_a_busy_ims_is_retried_and_the_share_still_accepted(cloud, monkeypatch):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))
    cloud.faults.add(status=503, method="PUT", path="^/v1/cloudimages/members$")

    answer = handlers.accept_shares({})

    assert answer["counts"] == {"accepted": 1}, answer
    assert status_of(cloud, image) == "accepted"


def test_an_accept_whose_answer_was_lost_is_reported_and_the_next_run_finds_nothing_pending(cloud, monkeypatch):
    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))
    cloud.faults.add(method="PUT", path="^/v1/cloudimages/members$", lose_answer=True)

    first = handlers.accept_shares({})
    again = handlers.accept_shares({})

    assert (
        first["counts"] == {"deferred": 1}
        and first["ok"]
        and "the next run tries again" in first["results"][0]["reason"]
    )
    assert status_of(cloud, image) == "accepted" and again["counts"] == {}


def test_on_functiongraph_the_partners_agency_credentials_on_the_context_are_used(cloud, monkeypatch):
    from tests.e2e.test_entry_points import FunctionGraphContext

    image = share(cloud)
    as_recipient(cloud, monkeypatch, IMSYNC_TRUSTED_OWNERS=trusting(cloud, cloud.owner))
    for key in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):
        monkeypatch.delenv(key)
    context = FunctionGraphContext(*cloud.temporary_credentials(cloud.recipient), request_id="fg-accept-1")

    answer = handlers.accept_shares(load_event("accept_timer.json"), context)

    assert answer["counts"] == {"accepted": 1}, answer
    assert status_of(cloud, image) == "accepted"
    assert {r.account for r in cloud.requests if r.region == HOME} == {"partner"}
