"""The composition root: the only place that reads Settings and builds adapters."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from imsync.adapters.credentials import Credentials, resolve_credentials
from imsync.config import Settings
from imsync.notices import Notice
from imsync.observability import log_decision, logger
from imsync.ports import ImageStore, Notifier, ShareInbox
from imsync.retry import Deadline, Retrier
from imsync.service import Replicator, Result
from imsync.service.claims import RecentCopies, RecentNotices
from imsync.service.copies import Copier
from imsync.service.copy_notes import CopyNotes
from imsync.service.finalize import Finalizer
from imsync.service.journal import Journal, out_of_time
from imsync.service.notifications import Announcer
from imsync.service.reconcile import Reconciler
from imsync.service.retention import Retainer
from imsync.service.scope import Scope
from imsync.service.sharing import Sharer

if TYPE_CHECKING:  # the SDK is imported on first use, not at cold start
    from imsync.adapters.huawei_ims import ImsClients
    from imsync.service.accept import Acceptor

T = TypeVar("T")

_lock = threading.Lock()
_clients: dict[tuple[object, ...], ImsClients] = {}


def ims_clients(credentials: Credentials, timeout: float) -> ImsClients:
    """One set of SDK clients per process and key pair, so warm invocations skip the IAM look-up."""
    from imsync.adapters.huawei_ims import ImsClients
    from imsync.adapters.huawei_sdk import silence_sdk_logs

    # The endpoint variables are part of the key: the same keys may point at another endpoint (an emulator).
    endpoints = tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith("HUAWEICLOUD_SDK_") and ("ENDPOINT" in k or k.startswith("HUAWEICLOUD_SDK_REGION_"))
        )
    )
    key = (_fingerprint(credentials), timeout, endpoints)
    with _lock:
        if key not in _clients:
            silence_sdk_logs()
            _clients.clear()  # temporary credentials rotate: keep only the current set
            _clients[key] = ImsClients(credentials, timeout)
        return _clients[key]


def _fingerprint(credentials: Credentials) -> str:
    """A digest of the whole key pair and token: a corrected or rotated secret gets new clients on a warm instance.

    The access key alone kept the clients of a wrong secret until a cold start. A digest, so that no cache key
    holds the secret itself.
    """
    parts = (credentials.ak, credentials.sk, credentials.security_token or "")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def notifier(
    context: object = None, settings: Settings | None = None, credentials: Credentials | None = None
) -> Notifier:
    """SMN when IMSYNC_SMN_TOPIC_URN names a topic, EventBridge when IMSYNC_EVENT_BUS names a bus, else the log.

    `credentials`: the run's, when it has resolved them already (on AWS each resolution reads the secret).
    """
    settings = settings or Settings.from_env()
    if settings.smn_topic_urn:
        from imsync.adapters.huawei_smn import SmnNotifier

        credentials = credentials or resolve_credentials(context, settings.credentials_secret)
        retrier = Retrier(Deadline.from_context(context), sleep=waiting)
        return SmnNotifier(settings.smn_topic_urn, credentials, settings.http_timeout, retrier)
    if settings.event_bus:
        from imsync.adapters.aws import EventBridgeNotifier

        return EventBridgeNotifier(settings.event_bus, timeout=settings.http_timeout)
    from imsync.notify import LogNotifier

    return LogNotifier()


# The copies this process started: one table per process, shared by the invocations (and threads) it runs, so
# that runs racing on one image start one copy (tests give each test a fresh one, as if a new process).
claims = RecentCopies()
# The facts this process is telling or just told: runs racing on one image tell each fact once between them.
told = RecentNotices()
# How the service waits: between looks at IMS's member jobs, and before a retry (tests point it at an emulator's
# clock, so that a test's waits are the emulated cloud's time passing, never the test machine's).
pause: Callable[[float], None] = time.sleep


def waiting(seconds: float) -> None:
    """Wait through `pause` as it is when the wait begins (tests replace it after the clients were built)."""
    pause(seconds)


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


def per_region(build: Callable[[str], T]) -> Callable[[str], T]:
    """`build(region)` on first use of each region, the same object after: one store or inbox per region and run."""
    built: dict[str, T] = {}

    def get(region: str) -> T:
        if region not in built:
            built[region] = build(region)
        return built[region]

    return get


def store_factory(settings: Settings, credentials: Credentials, deadline: Deadline) -> Callable[[str], ImageStore]:
    """ImageStores over the Huawei SDK, built on first use of each region."""
    from imsync.adapters.huawei_ims import HuaweiImageStore

    clients = ims_clients(credentials, settings.http_timeout)
    retrier = Retrier(deadline, sleep=waiting)
    return per_region(lambda region: HuaweiImageStore(region, clients, retrier))


def replicator(context: object = None, settings: Settings | None = None) -> Replicator:
    """A Replicator wired to the real cloud (or whatever the SDK's endpoint variables point at)."""
    settings = settings or Settings.from_env()
    logger.setLevel(settings.log_level)
    # Resolved once per run: on AWS each resolution is a Secrets Manager read.
    credentials = resolve_credentials(context, settings.credentials_secret)
    deadline = Deadline.from_context(context)
    # An account that also accepts shares (trusted owners set) lists the untrusted ones in the DR digest.
    open_shares = None
    if settings.trusted_owners:
        open_shares = wire_acceptor(settings, credentials, deadline, log=log_decision).untrusted
    return wire_replicator(
        settings,
        store_factory(settings, credentials, deadline),
        notifier(context, settings, credentials),
        log=log_decision,
        deadline=deadline,
        open_shares=open_shares,
    )


def wire_replicator(
    settings: Settings,
    stores: Callable[[str], ImageStore],
    notifier: Notifier | None = None,
    *,
    log: Callable[[Result], None] | None = None,
    deadline: Deadline | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
    time_of_day: Callable[[], float] | None = None,
    open_shares: Callable[[frozenset[str]], Sequence[Notice]] | None = None,
) -> Replicator:
    """The one place a Replicator is built: the functions' over the SDK, the CLI's over its own stores, the tests'.

    `sleep` and `time_of_day` default to this module's `pause` and `wall_clock` (tests point them at an emulator).
    """
    log = log or (lambda result: None)
    deadline = deadline or Deadline()
    now = time_of_day or wall_clock

    def left() -> bool:
        return out_of_time(deadline)

    announcer = Announcer(
        stores, notifier, log, settings.stuck_after_hours, now, left, open_shares, told=told, clock=clock
    )
    journal = Journal(log, announcer.notify)
    notes = CopyNotes(stores, journal, now, left, settings.unlisted_wait_minutes)
    copier = Copier(settings, stores, journal, notes, claims, clock, left, announcer.notify)
    sharer = Sharer(journal, settings.share_wait_seconds, deadline, sleep or waiting)
    finalizer = Finalizer(stores, journal, sharer, announcer.notify, left)
    reconciler = Reconciler(settings, stores, journal, notes, copier, finalizer)
    retainer = Retainer(
        settings, stores, journal, announcer.hold, announcer.tell, now, deadline, sleep or waiting, claims, clock
    )
    return Replicator(settings, stores, clock, Scope(settings, stores, journal), reconciler, announcer, retainer)


def inboxes(settings: Settings, credentials: Credentials, deadline: Deadline) -> Callable[[str], ShareInbox]:
    """ShareInboxes over the Huawei SDK, built on first use of each region."""
    from imsync.adapters.huawei_ims_inbox import HuaweiShareInbox

    clients = ims_clients(credentials, settings.http_timeout)
    retrier = Retrier(deadline, sleep=waiting)
    return per_region(lambda region: HuaweiShareInbox(region, clients, retrier))


def acceptor(context: object = None, settings: Settings | None = None) -> Acceptor:
    """An Acceptor wired to the real cloud, as the recipient account (whose keys the context or SDK hold)."""
    settings = settings or Settings.from_env()
    logger.setLevel(settings.log_level)
    credentials = resolve_credentials(context, settings.credentials_secret)
    deadline = Deadline.from_context(context)
    return wire_acceptor(
        settings, credentials, deadline, log=log_decision, notifier=notifier(context, settings, credentials)
    )


def wire_acceptor(
    settings: Settings,
    credentials: Credentials,
    deadline: Deadline,
    log: Callable[[Result], None] | None = None,
    notifier: Notifier | None = None,
) -> Acceptor:
    """The one place an Acceptor is built, over the SDK's inboxes: the function's (above) and `imsync accept`'s.

    Tests that want fakes build an Acceptor directly: its only cloud collaborator is the inbox factory.
    """
    from imsync.service.accept import Acceptor

    return Acceptor(
        settings,
        inboxes(settings, credentials, deadline),
        log=log,
        seconds_left=deadline.seconds_left,
        notifier=notifier,
        wall_clock=wall_clock,
        sleep=waiting,
    )
