"""Hostile input at every entry, against the emulator; every log line and summary is scanned for credentials.

``call(name, event, context=None)`` invokes a handler through its deployable file and keeps the answer;
``secret(value)`` registers extra credential material a test uses. At the end of every test, each log
line the Powertools logger wrote (JSON on stdout) and each kept summary is searched for every access key,
secret key and security token of the emulated accounts and the test, and for 'Authorization',
'SDK-HMAC-SHA256 ' and 'Signature='.
"""

from __future__ import annotations

import io
import json

import pytest

from imsync.emulator import Emulator
from imsync.observability import logger
from tests.helpers import handlers
from tests.helpers.deployment import HOME as HOME  # re-exported for the tests
from tests.helpers.deployment import deploy

REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
ALLOWED = ("cn-east-3", "cn-south-1")
WRITES = ("POST", "PUT", "DELETE")
MARKERS = ("Authorization", "SDK-HMAC-SHA256 ", "Signature=")


def credential_leaks(text: str, secrets: list[str]) -> list[str]:
    """What credential material `text` holds: secret values (by position only) and signing markers."""
    found = [f"secret #{i}" for i, s in enumerate(secrets) if s and len(s) >= 8 and s in text]
    return found + [m for m in MARKERS if m in text]


def writes(cloud):
    """Requests that change something (POST that only reads excluded); status 0 = answer lost."""
    return [r for r in cloud.requests if r.method in WRITES and "resource_instances" not in r.path]


@pytest.fixture
def cloud():
    with Emulator(regions=REGIONS) as emulated:
        yield emulated


class Tap(io.StringIO):
    """Collects what the logger writes."""


@pytest.fixture
def log_tap(capsys):
    """A function returning every line the logger wrote so far: to its own stream, or to sys.stdout (capsys)."""
    handler = logger.registered_handler
    tap = Tap()
    previous = handler.setStream(tap)
    seen: list[str] = []

    def lines() -> list[str]:
        seen.extend(line for line in (tap.getvalue() + capsys.readouterr().out).splitlines() if line)
        tap.seek(0)
        tap.truncate()
        return list(seen)

    yield lines
    handler.setStream(previous)


@pytest.fixture
def deployment(cloud, monkeypatch, log_tap):
    """A deployment in cn-north-4 copying to cn-east-3 and cn-south-1, sharing with the partner and an auditor."""
    auditor = cloud.add_account("auditor")
    targets = {
        "partner": {r: [cloud.recipient.projects[r]] for r in REGIONS},
        "auditor": {"cn-east-3": [auditor.projects["cn-east-3"]]},
    }
    return deploy(cloud, monkeypatch, ALLOWED, share_targets=targets, timeout="2")


@pytest.fixture
def kept(cloud, log_tap):
    """(summaries, extra secrets) of this test; scanned with every log line when the test ends."""
    summaries: list[str] = []
    extra: list[str] = []
    yield summaries, extra
    secrets = extra + [a.ak for a in cloud.accounts.values()] + [a.sk for a in cloud.accounts.values()]
    secrets += [k for k in cloud._credentials] + [c.sk for c in cloud._credentials.values()]
    secrets += [c.token for c in cloud._credentials.values() if c.token]
    log_lines = log_tap()
    assert log_lines, "the logger wrote nothing: the tap is not connected"
    leaks = {text[:200]: credential_leaks(text, secrets) for text in summaries + log_lines}
    assert {t: found for t, found in leaks.items() if found} == {}


@pytest.fixture
def call(kept):
    summaries, _ = kept

    def invoke(name: str, event: object, context: object = None) -> dict:
        answer = getattr(handlers, name)(event, context)
        summaries.append(json.dumps(answer))  # also proves the answer is JSON-serialisable
        return answer

    return invoke


@pytest.fixture
def secret(kept):
    _, extra = kept
    return extra.append
