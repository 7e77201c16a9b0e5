"""Starting and stopping the emulator: a stopped emulator holds no port and no serving thread."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import pytest
from huaweicloudsdkims.v2 import ListImagesRequest

from imsync.emulator import Emulator

REGIONS = ("cn-north-4", "cn-east-3")


def _serving_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("emulator-")}


def _address(endpoint: str) -> tuple[str, int]:
    split = urlsplit(endpoint)
    assert split.hostname and split.port
    return split.hostname, split.port


def test_a_closed_emulator_refuses_connections_and_leaves_no_serving_thread():
    before = _serving_threads()
    with Emulator(regions=REGIONS) as cloud:
        endpoints = list(cloud.endpoints.values())
        assert len(_serving_threads() - before) == len(endpoints)
        for endpoint in endpoints:
            socket.create_connection(_address(endpoint), timeout=2).close()  # each one is listening
    assert _serving_threads() == before
    for endpoint in endpoints:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(_address(endpoint), timeout=2)


def test_the_serving_loop_answers_request_after_request_until_closed_and_a_second_close_is_harmless(ims, cloud):
    client = ims("cn-north-4")
    for _ in range(3):  # one connection each (HTTP/1.0): the loop goes back to waiting after every answer
        assert client.list_images(ListImagesRequest()).images == []
    address = _address(cloud.endpoints["cn-north-4"])
    cloud.close()
    cloud.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=2)
