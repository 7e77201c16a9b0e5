"""The deployable handlers, loaded from functions/<name>/handler.py the way the platforms load them.

The demo, `imsync invoke` and the tests run exactly the files a deployment ships; they need a checkout
of the repository (functions/ beside shared/), which `pip install -e .` from a clone has.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from imsync.domain.errors import ConfigError

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"

Handler = Callable[..., dict[str, Any]]


class NoCheckout(ConfigError):
    """The handler files are not beside the package: it was installed without a clone (pip install .)."""

    fix = (
        "run it from a clone of the imsync repository, installed with `pip install -e .` there "
        "(the handlers are the files a deployment ships, functions/<name>/handler.py, not part of the package)"
    )


def names() -> list[str]:
    """The functions of this checkout, by directory name."""
    if not FUNCTIONS_DIR.is_dir():
        raise NoCheckout(
            f"the function handlers are not installed: there is no functions/ directory at {FUNCTIONS_DIR} "
            "(imsync was installed without its repository, e.g. by `pip install .`)"
        )
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/handler.py"))


@cache
def handler(name: str) -> Handler:
    """functions/<name>/handler.py's `handler`, imported by file as FunctionGraph and Lambda do."""
    if name not in names():
        raise ConfigError(f"no function named {name} (functions: {', '.join(names())})")
    path = FUNCTIONS_DIR / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"imsync_function_{name}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Handler = module.handler
    return found
