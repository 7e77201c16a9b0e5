"""The log lines' service name: POWERTOOLS_SERVICE_NAME when a deployment sets it, else imsync."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The logger is made at import time: each case is a fresh interpreter.
LOG_ONE_LINE = "from imsync.observability import logger; logger.info('probe')"


def _service(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_SERVICE_NAME"}
    if env_value is not None:
        env["POWERTOOLS_SERVICE_NAME"] = env_value
    done = subprocess.run(
        [sys.executable, "-c", LOG_ONE_LINE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    (line,) = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    return str(line["service"])


@pytest.mark.parametrize(("value", "service"), [(None, "imsync"), ("", "imsync"), ("images-dr", "images-dr")])
def test_the_service_name_honours_powertools_service_name(value, service):
    assert _service(value) == service
