"""The guard of a shared, read-only emulator (tests/helpers/shared_cloud.py) fails the tests it must fail."""

from __future__ import annotations

import pytest

from imsync.adapters.credentials import Credentials
from imsync.adapters.huawei_ims import HuaweiImageStore, ImsClients
from imsync.emulator import Emulator
from imsync.retry import Retrier
from tests.helpers.shared_cloud import read_only

NORTH = "cn-north-4"


@pytest.fixture
def store(monkeypatch):
    with Emulator(regions=(NORTH,)) as cloud:
        for key, value in cloud.env.items():
            monkeypatch.setenv(key, value)
        owner = Credentials(cloud.owner.ak, cloud.owner.sk, None, "the emulator's owner account")
        yield cloud, HuaweiImageStore(NORTH, ImsClients(owner, 5.0), Retrier(sleep=lambda seconds: None))


def test_reads_pass(store):
    cloud, ims = store
    image = cloud.region(NORTH).add_image(name="golden")
    with read_only(cloud):
        assert [i.id for i in ims.list_own_images()] == [image.id]


def test_a_write_through_the_api_fails_the_test(store):
    cloud, ims = store
    image = cloud.region(NORTH).add_image(name="golden")
    with pytest.raises(AssertionError, match=r"wrote to it: \['POST "), read_only(cloud):
        ims.add_tags(image.id, {"team": "qa"})


def test_a_change_made_behind_the_api_fails_the_test(store):
    cloud, _ = store
    image = cloud.region(NORTH).add_image(name="golden")
    with pytest.raises(AssertionError, match="changed it"), read_only(cloud):
        cloud.region(NORTH).image(image.id).tags["team"] = "qa"
