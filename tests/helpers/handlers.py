"""Load the four handlers from functions/<name>/handler.py as the platforms do (by file, not package)."""

import importlib.util
from functools import cache
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@cache
def load(name: str):
    spec = importlib.util.spec_from_file_location(f"imsync_function_{name}", FUNCTIONS / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def replicate_on_create(event, context=None):
    return load("replicate_on_create")(event, context)


def scheduled_dr_copy(event, context=None):
    return load("scheduled_dr_copy")(event, context)


def share_on_complete(event, context=None):
    return load("share_on_complete")(event, context)


def accept_shares(event, context=None):
    return load("accept_shares")(event, context)
