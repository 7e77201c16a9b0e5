"""Point the SDK and imsync at an emulator for a while, without leaking the caller's own settings in."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

# The caller's real credentials, endpoints and imsync settings must not mix with the emulator's.
FOREIGN_PREFIXES = ("HUAWEICLOUD_SDK_", "IMSYNC_")


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ (the SDK reads its endpoints there), restoring everything afterwards."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(FOREIGN_PREFIXES):
            del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
