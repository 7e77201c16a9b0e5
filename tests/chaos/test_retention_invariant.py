"""The retention invariant (retention_invariant.py) holds for imsync and catches a deletion it should not."""

from __future__ import annotations

import pytest

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_ims import HuaweiImageStore, ImsClients
from imsync.domain.retention import TAG_ORPHANED, TAG_RETAIN
from imsync.emulator import Emulator
from imsync.retry import Retrier
from tests.chaos.retention_invariant import RetentionInvariant
from tests.helpers import handlers
from tests.helpers.deployment import HOME, deploy
from tests.helpers.events import load_event

EAST = "cn-east-3"


@pytest.fixture
def cloud(monkeypatch):
    with Emulator(regions=(HOME, EAST)) as emulated:
        deploy(emulated, monkeypatch, (EAST,))
        monkeypatch.setenv("IMSYNC_RETAIN_GRACE_DAYS", "0")
        yield emulated


def dr_run():
    return handlers.scheduled_dr_copy(load_event("timer.json"))


def replicated(cloud, rule):
    source = cloud.region(HOME).add_image(name=f"golden-{rule}", tags={"imsync-regions": EAST, TAG_RETAIN: rule})
    dr_run()
    cloud.run_until_idle()
    dr_run()
    (replica,) = cloud.region(EAST).replicas_of(source.id)
    return source, replica


def test_imsync_deletes_only_what_the_rules_allow_and_a_stray_deletion_is_caught(cloud):
    follows, follower = replicated(cloud, "follow")
    keeps, kept = replicated(cloud, "keep")
    cloud.region(HOME).delete_image(follows.id)
    cloud.region(HOME).delete_image(keeps.id)
    watch = RetentionInvariant(cloud, grace_days=0)

    for _ in range(3):
        watch.before_step()
        dr_run()
        assert watch.after_step() == []
    assert cloud.region(EAST).image(follower.id) is None  # imsync did delete, and the invariant allowed it
    assert watch.deleted == {follower.id}  # what the harness then expects a deletion notice for
    assert TAG_ORPHANED not in cloud.region(EAST).image(kept.id).tags

    watch.before_step()
    owner = Credentials(cloud.owner.ak, cloud.owner.sk, None, "the emulator's owner account")
    HuaweiImageStore(EAST, ImsClients(owner, 5.0), Retrier()).delete_image(kept.id)  # what a broken imsync might do
    (problem,) = watch.after_step()
    assert kept.id in problem and "keep" in problem and watch.deleted == {follower.id, kept.id}
