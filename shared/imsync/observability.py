"""Structured JSON logs (aws-lambda-powertools Logger): one line per decision, never a secret."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from aws_lambda_powertools import Logger

from imsync.config import log_level
from imsync.domain.errors import ConfigError
from imsync.domain.outcomes import Outcome


class _CurrentStdout(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever sys.stdout is at the time (runtimes and test runners replace it)."""

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def _level_at_import() -> str:
    # A bad value must not crash the import: Settings.from_env reports it in the summary of the invocation.
    try:
        return log_level()
    except ConfigError:
        return "INFO"


# The service name of every line: Powertools' own POWERTOOLS_SERVICE_NAME when the deployment sets it (an explicit
# `service` argument would override it), else imsync.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "").strip() or "imsync"
logger = Logger(service=SERVICE, level=_level_at_import(), logger_handler=_CurrentStdout())


def request_id(context: object) -> str:
    """The invocation's request ID on FunctionGraph (getRequestID) or Lambda (aws_request_id)."""
    getter = getattr(context, "getRequestID", None)
    if callable(getter):
        return str(getter())
    return str(getattr(context, "aws_request_id", "") or "")


@contextmanager
def invocation(function: str, context: object) -> Iterator[None]:
    """Every log line of this invocation carries the function name and the platform's request ID."""
    logger.append_keys(function=function, request_id=request_id(context) or None)
    try:
        yield
    finally:
        logger.remove_keys(["function", "request_id"])


def log_decision(result: Any) -> None:
    """One line per decision: image, region, action, outcome, reason."""
    fields = result.as_dict()
    level = logger.warning if fields.get("outcome") in (Outcome.ERROR, Outcome.FAILED) else logger.info
    level("decision", extra=fields)
