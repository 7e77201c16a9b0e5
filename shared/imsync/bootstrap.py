"""The composition root: the only place that reads Settings and builds adapters."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from imsync.adapters.credentials import Credentials, resolve_credentials
from imsync.config import Settings
from imsync.observability import log_decision, logger
from imsync.ports import ImageStore, Notifier, ShareInbox
from imsync.retry import Deadline, Retrier
from imsync.service import Replicator

if TYPE_CHECKING:  # the SDK is imported on first use, not at cold start
    from imsync.accept import Acceptor
    from imsync.adapters.huawei_ims import ImsClients

_lock = threading.Lock()
_clients: dict[tuple[object, ...], ImsClients] = {}


def ims_clients(credentials: Credentials, timeout: float) -> ImsClients:
    """One set of SDK clients per process and key pair, so warm invocations skip the IAM look-up."""
    from imsync.adapters.huawei_ims import ImsClients, silence_sdk_logs

    # The endpoint variables are part of the key: the same keys may point at another endpoint (an emulator).
    endpoints = tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith("HUAWEICLOUD_SDK_") and ("ENDPOINT" in k or k.startswith("HUAWEICLOUD_SDK_REGION_"))
        )
    )
    key = (credentials.ak, credentials.security_token, timeout, endpoints)
    with _lock:
        if key not in _clients:
            silence_sdk_logs()
            _clients.clear()  # temporary credentials rotate: keep only the current set
            _clients[key] = ImsClients(credentials, timeout)
        return _clients[key]


def notifier(context: object = None, settings: Settings | None = None) -> Notifier:
    """SMN when IMSYNC_SMN_TOPIC_URN names a topic, EventBridge when IMSYNC_EVENT_BUS names a bus, else the log."""
    settings = settings or Settings.from_env()
    if settings.smn_topic_urn:
        from imsync.adapters.huawei_smn import SmnNotifier

        credentials = resolve_credentials(context, settings.credentials_secret)
        retrier = Retrier(Deadline.from_context(context))
        return SmnNotifier(settings.smn_topic_urn, credentials, settings.http_timeout, retrier)
    bus = os.environ.get("IMSYNC_EVENT_BUS", "").strip()
    if bus:
        from imsync.adapters.aws import EventBridgeNotifier

        return EventBridgeNotifier(bus)
    from imsync.notify import LogNotifier

    return LogNotifier()


# How the service waits between looks at IMS's member jobs (tests point it at an emulator's clock).
pause: Callable[[float], None] = time.sleep
# The time of day, against which a copy counts as stuck (tests point it at an emulator's clock).
wall_clock: Callable[[], float] = time.time


@contextmanager
def emulated_time(advance: Callable[[float], None]) -> Iterator[None]:
    """While imsync runs on an embedded emulator, its waits are the emulated cloud's time passing."""
    global pause
    saved, pause = pause, advance
    try:
        yield
    finally:
        pause = saved


def store_factory(settings: Settings, context: object) -> Callable[[str], ImageStore]:
    """ImageStores over the Huawei SDK, built on first use of each region."""
    from imsync.adapters.huawei_ims import HuaweiImageStore

    credentials = resolve_credentials(context, settings.credentials_secret)
    clients = ims_clients(credentials, settings.http_timeout)
    retrier = Retrier(Deadline.from_context(context))
    stores: dict[str, ImageStore] = {}

    def store(region: str) -> ImageStore:
        if region not in stores:
            stores[region] = HuaweiImageStore(region, clients, retrier)
        return stores[region]

    return store


def replicator(context: object = None, settings: Settings | None = None) -> Replicator:
    """A Replicator wired to the real cloud (or whatever the SDK's endpoint variables point at)."""
    settings = settings or Settings.from_env()
    logger.setLevel(settings.log_level)
    # An account that also accepts shares (trusted owners set) lists the untrusted ones in the DR digest.
    open_shares = acceptor(context, settings).untrusted if settings.trusted_owners else None
    return Replicator(
        settings,
        store_factory(settings, context),
        notifier(context, settings),
        log=log_decision,
        deadline=Deadline.from_context(context),
        sleep=pause,
        wall_clock=wall_clock,
        open_shares=open_shares,
    )


def inboxes(settings: Settings, credentials: Credentials, deadline: Deadline) -> Callable[[str], ShareInbox]:
    """ShareInboxes over the Huawei SDK, built on first use of each region."""
    from imsync.adapters.huawei_ims_inbox import HuaweiShareInbox

    clients = ims_clients(credentials, settings.http_timeout)
    retrier = Retrier(deadline)
    built: dict[str, ShareInbox] = {}

    def inbox(region: str) -> ShareInbox:
        if region not in built:
            built[region] = HuaweiShareInbox(region, clients, retrier)
        return built[region]

    return inbox


def acceptor(context: object = None, settings: Settings | None = None) -> Acceptor:
    """An Acceptor wired to the real cloud, as the recipient account (whose keys the context or SDK hold)."""
    from imsync.accept import Acceptor

    settings = settings or Settings.from_env()
    logger.setLevel(settings.log_level)
    credentials = resolve_credentials(context, settings.credentials_secret)
    deadline = Deadline.from_context(context)
    return Acceptor(
        settings,
        inboxes(settings, credentials, deadline),
        log=log_decision,
        seconds_left=deadline.seconds_left,
        notifier=notifier(context, settings),
        wall_clock=wall_clock,
    )
