"""Helpers for the CLI tests."""

from __future__ import annotations

import json

from click.testing import Result

from imsync.emulator import Emulator

WRITES = {"POST", "PUT", "DELETE", "PATCH"}


def as_json(result: Result) -> dict:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def writes(cloud: Emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in cloud.requests if r.method in WRITES]
